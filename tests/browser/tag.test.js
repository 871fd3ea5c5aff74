// The browser tag in real headless Chromium against a real journeyd (SPEC section 7).
// The demo shop (examples/shop) serves the pages and forwards /journey/* to journeyd;
// journeyd delivers through its http sink to a recording backend, so every check is on
// what journeyd actually accepted and forwarded.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { SOURCE_DIR, tool, waitFor, startBackend, startJourneyd, launchChromium, tempDir } = require('./support');
const shopServer = require(path.join(SOURCE_DIR, 'examples/shop/server.js'));

describe('browser tag', () => {
  let backend, journeyd, shop, browser, dataDir;
  let journeydUrl = 'http://127.0.0.1:1';

  before(async () => {
    dataDir = tempDir('journey-browser-');
    backend = await startBackend();
    journeyd = await startJourneyd({ dataDir, backendUrl: backend.url });
    journeydUrl = journeyd.url;
    shop = await shopServer.start({ journeyd: journeydUrl });
    browser = await launchChromium();
  });

  after(async () => {
    if (browser) await browser.close();
    if (shop) await shop.close();
    if (journeyd) await journeyd.stop();
    if (backend) await backend.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const stored = (page, key) => page.evaluate((k) => window.localStorage.getItem(k), key);
  const viewOf = (pathname, pred = () => true) =>
    waitFor(`a view of ${pathname}`, () =>
      backend.find((e) => e.type === 'view' && e.context.page.path === pathname && pred(e)));

  it('serves a small tag: under 16 KiB as served, under 8 KiB minified', async () => {
    const res = await fetch(`${journeydUrl}/tag.js`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /javascript/);
    const served = await res.text();
    assert.ok(served.includes('journey-tag'), 'served script is the tag');
    assert.ok(Buffer.byteLength(served) < 16384, `served ${Buffer.byteLength(served)} bytes`);
    const source = fs.readFileSync(path.join(SOURCE_DIR, 'plugin/tag/tag.js'), 'utf8');
    const minified = (await tool('terser').minify(source, { compress: true, mangle: true })).code;
    assert.ok(Buffer.byteLength(minified) < 8192, `minified ${Buffer.byteLength(minified)} bytes`);
  });

  describe('one shopper', () => {
    let context, page, landing, addToCart;

    before(async () => {
      context = await browser.newContext();
      page = await context.newPage();
    });
    after(async () => context && context.close());

    it('a landing with utm parameters is a view with channel and stage awareness', async () => {
      await page.goto(`${shop.url}/index.html?utm_source=newsletter&utm_medium=email&utm_campaign=black-friday&utm_content=hero`);
      landing = await viewOf('/index.html', (e) => e.channel && e.channel.campaign === 'black-friday');
      assert.deepEqual(landing.channel, { source: 'newsletter', medium: 'email', campaign: 'black-friday', content: 'hero' });
      assert.equal(landing.stage, 'awareness');
      assert.equal(landing.anonymous_id, await stored(page, 'journey_aid'));
      assert.ok(landing.session_id);
      assert.equal(landing.properties.list_id, 'all-products');
      assert.equal(landing.context.page.title, 'Northpeak Outdoor');
      assert.match(landing.context.page.url, /utm_source=newsletter/);
      assert.equal(landing.context.library.name, 'journey-tag');
    });

    it('an add-to-cart click on the product page gives add_to_cart with the product; ids survive navigation', async () => {
      await page.click('a[data-product="trail-runner-2"]');
      await page.waitForURL(/product\.html/);
      const view = await viewOf('/product.html', (e) => e.anonymous_id === landing.anonymous_id);
      assert.equal(view.properties.product.id, 'trail-runner-2');
      assert.equal(view.stage, 'consideration', 'internal navigation is not a landing');
      assert.equal(view.channel, undefined);
      assert.equal(view.session_id, landing.session_id);

      await page.click('#add-to-cart');
      addToCart = await waitFor('add_to_cart', () =>
        backend.find((e) => e.type === 'add_to_cart' && e.anonymous_id === landing.anonymous_id));
      assert.equal(addToCart.properties.product.id, 'trail-runner-2');
      assert.equal(addToCart.properties.product.price, 89.9);
      assert.equal(addToCart.properties.product.quantity, 1);
      assert.equal(addToCart.properties.currency, 'EUR');
      assert.match(addToCart.properties.cart_id, /^cart-/);
      assert.equal(addToCart.session_id, landing.session_id);
      assert.equal(addToCart.stage, 'purchase');
    });

    it('checkout and an order placed give checkout, payment and purchase stitched by cart_id', async () => {
      await page.goto(`${shop.url}/checkout.html`);
      await page.click('#place-order');
      await page.waitForURL(/thanks\.html/);
      const purchase = await waitFor('purchase', () =>
        backend.find((e) => e.type === 'purchase' && e.anonymous_id === landing.anonymous_id));
      assert.equal(purchase.properties.cart_id, addToCart.properties.cart_id);
      assert.equal(purchase.properties.value, 89.9);
      const checkout = await waitFor('checkout', () =>
        backend.find((e) => e.type === 'checkout' && e.anonymous_id === landing.anonymous_id));
      assert.equal(checkout.properties.checkout_id, purchase.properties.checkout_id);
      await waitFor('payment', () => backend.find((e) => e.type === 'payment' && e.properties.order_id === purchase.properties.order_id));
    });

    it('30 minutes without activity start a new session, same anonymous_id', async () => {
      await page.evaluate(() => localStorage.setItem('journey_last', String(Date.now() - 31 * 60 * 1000)));
      await page.goto(`${shop.url}/cart.html`);
      const view = await viewOf('/cart.html', (e) => e.anonymous_id === landing.anonymous_id);
      assert.notEqual(view.session_id, landing.session_id);
      assert.equal(view.session_id, await stored(page, 'journey_sid'));
    });

    it('with journeyd stopped events stay in storage and arrive after the next page load', async () => {
      const probe = `offline-${Date.now()}`;
      const stopped = await journeyd.stop();
      assert.equal(stopped.code, 0, 'journeyd exits 0 on SIGTERM');
      const failedSend = page.waitForResponse((r) => r.url().endsWith('/journey/v1/collect') && r.status() >= 500);
      await page.evaluate((id) => window.journey.track('add_to_cart', { product: { id, price: 5, quantity: 2 }, currency: 'EUR' }), probe);
      await failedSend;
      const queue = JSON.parse(await stored(page, 'journey_queue'));
      const kept = queue.find((e) => e.properties.product && e.properties.product.id === probe);
      assert.ok(kept, 'the unsent event is kept in localStorage');
      assert.equal(backend.find((e) => e.event_id === kept.event_id), undefined);

      journeyd = await startJourneyd({ dataDir, backendUrl: backend.url, port: journeyd.port });
      await page.goto(`${shop.url}/index.html`);
      const arrived = await waitFor('the event kept while journeyd was down', () => backend.find((e) => e.event_id === kept.event_id));
      assert.equal(arrived.properties.product.quantity, 2);
      await viewOf('/index.html', (e) => e.anonymous_id === landing.anonymous_id && !e.channel);
      await waitFor('the stored queue to empty', async () => (await stored(page, 'journey_queue')) === null);
    });
  });

  it('an external referrer without utm parameters is a referral landing', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${shop.url}/product.html?id=bottle-750`, { referer: 'https://search.example.org/results?q=bottle' });
      const view = await viewOf('/product.html', (e) => e.properties.product.id === 'bottle-750' && e.channel);
      assert.deepEqual(view.channel, { source: 'search.example.org', medium: 'referral',
        referrer: 'https://search.example.org/results?q=bottle' });
      assert.equal(view.stage, 'awareness');
    } finally {
      await context.close();
    }
  });

  it('a campaign without source or medium is kept in channel but is no landing', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${shop.url}/index.html?utm_campaign=campaign-only`);
      const view = await viewOf('/index.html', (e) => e.channel && e.channel.campaign === 'campaign-only');
      assert.deepEqual(view.channel, { campaign: 'campaign-only' });
      assert.equal(view.stage, 'consideration');
    } finally {
      await context.close();
    }
  });

  it('loaded from journeyd with data-endpoint, it sends cross-origin and confirms the 202', async () => {
    // A storefront on another origin that installs the tag straight from journeyd.
    const html = `<!doctype html><title>Direct install</title>
      <script>window.journey = window.journey || []; journey.push(['identify', 'customer-42']);</script>
      <script async src="${journeyd.url}/tag.js" data-endpoint="${journeyd.url}"></script>`;
    const store = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise((resolve) => store.listen(0, '127.0.0.1', resolve));
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      const accepted = page.waitForResponse((r) => r.url() === `${journeyd.url}/v1/collect` && r.status() === 202);
      await page.goto(`http://127.0.0.1:${store.address().port}/direct.html`);
      await accepted;
      const view = await viewOf('/direct.html', (e) => e.user_id === 'customer-42');
      assert.ok(view.anonymous_id, 'anonymous_id is kept beside user_id');
      assert.equal(await page.evaluate(() => window.journey.endpoint), `${journeyd.url}/v1/collect`);
      await waitFor('the confirmed event to leave storage', async () => (await stored(page, 'journey_queue')) === null);
    } finally {
      await context.close();
      store.closeAllConnections();
      await new Promise((resolve) => store.close(resolve));
    }
  });

  it('falls back to a first-party cookie when localStorage is unavailable', async () => {
    const context = await browser.newContext();
    await context.addInitScript(() => {
      Object.defineProperty(window, 'localStorage', { get() { throw new DOMException('blocked', 'SecurityError'); } });
    });
    const page = await context.newPage();
    try {
      await page.goto(`${shop.url}/index.html?utm_source=cookie-test`);
      const first = await viewOf('/index.html', (e) => e.channel && e.channel.source === 'cookie-test');
      const cookies = await context.cookies(shop.url);
      assert.equal(cookies.find((c) => c.name === 'journey_aid').value, first.anonymous_id);
      await page.click('a[data-product="merino-socks"]');
      await page.waitForURL(/product\.html/);
      const second = await viewOf('/product.html', (e) => e.anonymous_id === first.anonymous_id);
      assert.equal(second.session_id, first.session_id);
    } finally {
      await context.close();
    }
  });

  it('large events with text beyond ASCII go in bodies a browser carries; one too large for any body holds nothing back', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${shop.url}/index.html`);
      await waitFor('the tag to load', () => page.evaluate(() => window.journey && window.journey.loaded));
      const tag = `large-${Date.now()}`;
      // Three events of about 28 KB of UTF-8 each (14,000 characters of é): under
      // 48,000 characters together, but over the 64 KiB a keepalive request may
      // carry. Then one of 60,000 bytes that no body can carry, and a small one.
      await page.evaluate((t) => {
        for (let i = 0; i < 3; i++) window.journey.track('custom_big', { tag: t, i, note: '\u00e9'.repeat(14000) });
        window.journey.track('custom_huge', { tag: t, note: 'x'.repeat(60000) });
        window.journey.track('custom_after', { tag: t });
      }, tag);
      const arrived = await waitFor('the large events and the one after them', () => {
        const mine = backend.events().filter((e) => e.properties && e.properties.tag === tag);
        return mine.length >= 4 && mine.some((e) => e.name === 'custom_after') ? mine : undefined;
      });
      assert.deepEqual(arrived.filter((e) => e.name === 'custom_big').map((e) => e.properties.i).sort(), [0, 1, 2]);
      assert.equal(arrived.find((e) => e.name === 'custom_big').properties.note.length, 14000);
      assert.equal(arrived.filter((e) => e.name === 'custom_huge').length, 0);
      await waitFor('the stored queue to empty', async () => (await stored(page, 'journey_queue')) === null);
    } finally {
      await context.close();
    }
  });

  it('journey.consent({analytics: false}) stops all sending', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${shop.url}/index.html`);
      const aid = await waitFor('the tag to load', () => page.evaluate(() => window.journey && window.journey.loaded && localStorage.getItem('journey_aid')));
      await viewOf('/index.html', (e) => e.anonymous_id === aid);

      let sends = 0;
      page.on('request', (r) => { if (r.url().includes('/v1/collect')) sends += 1; });
      await page.evaluate(() => window.journey.consent({ analytics: false }));
      await page.click('a[data-product="rain-shell"]');
      await page.waitForURL(/product\.html/);
      await waitFor('the tag on the product page', () => page.evaluate(() => window.journey && window.journey.loaded));
      await page.click('#add-to-cart');
      await page.evaluate(() => window.journey.track('custom_probe', { n: 1 }));
      await page.goto(`${shop.url}/cart.html`);
      await waitFor('the tag on the cart page', () => page.evaluate(() => window.journey && window.journey.loaded));

      // A shopper who consents, afterwards: once their view is through, journeyd is
      // known to be forwarding, and nothing of the first shopper came after consent.
      const control = await browser.newContext();
      const other = await control.newPage();
      await other.goto(`${shop.url}/index.html?utm_source=consent-control`);
      await viewOf('/index.html', (e) => e.channel && e.channel.source === 'consent-control');
      await control.close();

      assert.equal(sends, 0, 'no request to /v1/collect after consent was withdrawn');
      assert.equal(await stored(page, 'journey_queue'), null, 'queue dropped');
      const after = backend.events().filter((e) => e.anonymous_id === aid && e.context.page.path !== '/index.html');
      assert.deepEqual(after, []);
    } finally {
      await context.close();
    }
  });
  it("journey.track('custom', {name}) is a custom event of that name; without a name it warns and sends nothing", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const warnings = [];
    page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
    try {
      await page.goto(`${shop.url}/index.html`);
      const aid = await waitFor('the tag to load', () => page.evaluate(() => window.journey && window.journey.loaded && localStorage.getItem('journey_aid')));
      await page.evaluate(() => {
        window.journey.track('custom', { n: 1 });
        window.journey.track('custom', { name: 'wishlist', sku: 'sku-9' });
      });
      const wished = await waitFor('the named custom event', () =>
        backend.find((e) => e.anonymous_id === aid && e.type === 'custom' && e.name === 'wishlist'));
      assert.deepEqual(wished.properties, { sku: 'sku-9' });
      assert.ok(warnings.some((w) => w.includes("track('custom', ...) needs properties.name")), warnings.join('\n'));
      await waitFor('the stored queue to empty', async () => (await stored(page, 'journey_queue')) === null);
      assert.equal(backend.events().filter((e) => e.anonymous_id === aid && e.type === 'custom').length, 1);
    } finally {
      await context.close();
    }
  });
});
