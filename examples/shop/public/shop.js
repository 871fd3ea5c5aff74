// Demo storefront logic: catalog, cart in localStorage, and the touchpoints it reports
// through the Journey tag. journey.push() works before and after tag.js has loaded.
window.journey = window.journey || [];
var shop = (function () {
  var CURRENCY = 'EUR';
  var CATALOG = [
    { id: 'trail-runner-2', sku: 'TR2-42-MOSS', name: 'Trail Runner 2', category: 'Shoes', brand: 'Northpeak', price: 89.9 },
    { id: 'merino-socks', sku: 'SOCK-MER-M', name: 'Merino Socks', category: 'Socks', brand: 'Northpeak', price: 14.95 },
    { id: 'rain-shell', sku: 'SHELL-L-RED', name: 'Rain Shell', category: 'Jackets', brand: 'Northpeak', price: 149 },
    { id: 'bottle-750', sku: 'BTL-750', name: 'Bottle 750 ml', category: 'Gear', brand: 'Cascade', price: 19.5 }
  ];

  function find(id) {
    for (var i = 0; i < CATALOG.length; i++) if (CATALOG[i].id === id) return CATALOG[i];
    return null;
  }
  function product(p, quantity) {
    return { id: p.id, sku: p.sku, name: p.name, category: p.category, brand: p.brand, price: p.price, quantity: quantity || 1 };
  }
  function param(name) {
    var m = new RegExp('[?&]' + name + '=([^&#]*)').exec(location.search);
    return m ? decodeURIComponent(m[1]) : null;
  }
  function id() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }
  function cartId() {
    var c = localStorage.getItem('shop_cart_id');
    if (!c) localStorage.setItem('shop_cart_id', (c = 'cart-' + id()));
    return c;
  }
  function cart() {
    try { return JSON.parse(localStorage.getItem('shop_cart') || '[]'); } catch (e) { return []; }
  }
  function saveCart(lines) { localStorage.setItem('shop_cart', JSON.stringify(lines)); }
  function total(lines) {
    var sum = 0;
    for (var i = 0; i < lines.length; i++) sum += Math.round(find(lines[i].id).price * 100) * lines[i].quantity;
    return sum / 100;
  }
  function items(lines) {
    var out = [];
    for (var i = 0; i < lines.length; i++) out.push(product(find(lines[i].id), lines[i].quantity));
    return out;
  }
  function money(v) { return v.toFixed(2) + ' ' + CURRENCY; }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function addToCart(p) {
    var lines = cart(), found = false;
    for (var i = 0; i < lines.length; i++) if (lines[i].id === p.id) { lines[i].quantity++; found = true; }
    if (!found) lines.push({ id: p.id, quantity: 1 });
    saveCart(lines);
    journey.push(['track', 'add_to_cart', { product: product(p, 1), cart_id: cartId(), currency: CURRENCY }]);
  }

  function removeFromCart(pid) {
    var lines = cart(), keep = [];
    for (var i = 0; i < lines.length; i++) {
      if (lines[i].id === pid) journey.push(['track', 'remove_from_cart', { product: product(find(pid), lines[i].quantity), cart_id: cartId(), currency: CURRENCY }]);
      else keep.push(lines[i]);
    }
    saveCart(keep);
  }

  return {
    // Runs in <head>, before the async tag can load, so the tag sends this view
    // (with the product) instead of its automatic one.
    announce: function (kind) {
      if (kind === 'list') journey.push(['page', { list_id: 'all-products' }]);
      if (kind === 'productPage') journey.push(['page', { product: product(find(param('id')) || CATALOG[0], 1), currency: CURRENCY }]);
    },
    list: function (root) {
      for (var i = 0; i < CATALOG.length; i++) {
        var li = el('li', { 'class': 'product' });
        li.appendChild(el('a', { href: 'product.html?id=' + CATALOG[i].id, 'data-product': CATALOG[i].id }, CATALOG[i].name));
        li.appendChild(el('span', { 'class': 'price' }, money(CATALOG[i].price)));
        root.appendChild(li);
      }
    },
    productPage: function (root) {
      var p = find(param('id')) || CATALOG[0];
      root.appendChild(el('h1', {}, p.name));
      root.appendChild(el('p', { 'class': 'price' }, money(p.price)));
      var button = el('button', { id: 'add-to-cart', type: 'button' }, 'Add to cart');
      button.onclick = function () {
        addToCart(p);
        document.getElementById('status').textContent = p.name + ' is in your cart.';
      };
      root.appendChild(button);
      root.appendChild(el('p', { id: 'status', role: 'status' }));
    },
    cartPage: function (root) {
      var lines = cart();
      if (!lines.length) root.appendChild(el('p', { id: 'empty' }, 'Your cart is empty.'));
      for (var i = 0; i < lines.length; i++) {
        var p = find(lines[i].id), li = el('li', {}, lines[i].quantity + ' x ' + p.name + ' ');
        var remove = el('button', { type: 'button', 'data-remove': p.id }, 'Remove');
        remove.onclick = (function (pid) { return function () { removeFromCart(pid); location.reload(); }; })(p.id);
        li.appendChild(remove);
        root.appendChild(li);
      }
      root.appendChild(el('p', { id: 'total' }, 'Total: ' + money(total(lines))));
    },
    checkoutPage: function (root) {
      var lines = cart();
      var checkoutId = sessionStorage.getItem('shop_checkout_id') || 'chk-' + id();
      sessionStorage.setItem('shop_checkout_id', checkoutId);
      journey.push(['track', 'checkout', { checkout_id: checkoutId, cart_id: cartId(), value: total(lines), currency: CURRENCY, items: items(lines), step: 1 }]);
      root.appendChild(el('p', { id: 'total' }, 'To pay: ' + money(total(lines))));
      var pay = el('button', { id: 'place-order', type: 'button' }, 'Place order');
      pay.onclick = function () {
        var orderId = 'order-' + id(), value = total(lines);
        journey.push(['track', 'payment', { checkout_id: checkoutId, order_id: orderId, value: value, currency: CURRENCY, method: 'card', status: 'captured' }]);
        journey.push(['track', 'purchase', { order_id: orderId, checkout_id: checkoutId, cart_id: cartId(), value: value, currency: CURRENCY, items: items(lines) }]);
        saveCart([]);
        localStorage.removeItem('shop_cart_id');
        sessionStorage.removeItem('shop_checkout_id');
        location.href = 'thanks.html?order=' + encodeURIComponent(orderId);
      };
      root.appendChild(pay);
    },
    thanksPage: function (root) {
      root.appendChild(el('p', { id: 'order' }, 'Order ' + param('order') + ' confirmed.'));
    }
  };
})();
