// A tiny storefront backend (Node.js standard library only) that reports its
// checkout funnel to journeyd: add_to_cart, checkout, payment and purchase.
//   POST /cart/items   {"anonymous_id","product":{"id","name","price"}}  → add_to_cart
//   POST /checkout     {"anonymous_id","cart_id"}                       → checkout
//   POST /orders       {"anonymous_id","checkout_id","email"?}          → payment + purchase (durable)
// Run: JOURNEYD_URL=http://127.0.0.1:8787 node storefront.js   (PORT, default 3000)
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const { JourneyClient } = require('./journey');

function createStorefront(journey) {
  const carts = new Map();      // cart_id → {anonymous_id, items}
  const checkouts = new Map();  // checkout_id → {cart_id, value}
  const context = { storefront: 'node-demo.example', platform: 'custom', library: { name: 'journey-node-example', version: '0.1.0' } };

  const routes = {
    'POST /cart/items': async ({ anonymous_id, product, cart_id }) => {
      if (!anonymous_id || !product || !product.id) return [400, { error: 'anonymous_id and product.id are required' }];
      const id = cart_id || `cart_${crypto.randomUUID()}`;
      const cart = carts.get(id) || { anonymous_id, items: [] };
      cart.items.push({ quantity: 1, ...product });
      carts.set(id, cart);
      journey.track({ type: 'add_to_cart', anonymous_id, context, properties: { product: { quantity: 1, ...product }, cart_id: id, currency: 'EUR' } });
      return [201, { cart_id: id }];
    },
    'POST /checkout': async ({ anonymous_id, cart_id }) => {
      const cart = carts.get(cart_id);
      if (!cart) return [404, { error: `no cart ${cart_id}` }];
      const value = Math.round(cart.items.reduce((s, p) => s + (p.price || 0) * (p.quantity || 1), 0) * 100) / 100;
      const checkout_id = `chk_${crypto.randomUUID()}`;
      checkouts.set(checkout_id, { cart_id, value, anonymous_id, items: cart.items });
      journey.track({ type: 'checkout', anonymous_id, context, properties: { checkout_id, cart_id, value, currency: 'EUR', items: cart.items, step: 1 } });
      return [201, { checkout_id, value }];
    },
    'POST /orders': async ({ anonymous_id, checkout_id, email }) => {
      const chk = checkouts.get(checkout_id);
      if (!chk) return [404, { error: `no checkout ${checkout_id}` }];
      const order_id = `ord_${crypto.randomUUID()}`;
      const traits = email ? { email_sha256: crypto.createHash('sha256').update(email.trim().toLowerCase()).digest('hex') } : undefined;
      const ctx = traits ? { ...context, traits } : context;
      // Payment and purchase must not be lost: answer the shopper only once journeyd has them in its spool.
      await journey.trackDurable({ type: 'payment', anonymous_id, context: ctx, properties: { order_id, checkout_id, value: chk.value, currency: 'EUR', method: 'card' } });
      await journey.trackDurable({ type: 'purchase', anonymous_id, context: ctx,
        properties: { order_id, checkout_id, cart_id: chk.cart_id, value: chk.value, currency: 'EUR', items: chk.items } });
      return [201, { order_id }];
    },
  };

  return http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c; });
    req.on('end', async () => {
      const handler = routes[`${req.method} ${req.url}`];
      let status = 404, answer = { error: 'not found' };
      try {
        if (handler) [status, answer] = await handler(body ? JSON.parse(body) : {});
      } catch (err) {
        [status, answer] = [err instanceof SyntaxError ? 400 : 502, { error: err.message }];
      }
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
}

if (require.main === module) {
  const journey = new JourneyClient();
  const server = createStorefront(journey);
  server.listen(Number(process.env.PORT || 3000), '127.0.0.1', () => console.log(`storefront on http://127.0.0.1:${server.address().port}`));
  process.on('SIGTERM', async () => { server.close(); await journey.flush(); journey.close(); process.exit(0); });
}

module.exports = { createStorefront };
