// Drives the storefront with simulated shoppers (some drop off before paying),
// then flushes. Prints {"shoppers","carts","checkouts","orders"}; exit 1 on any failure.
// Run: JOURNEYD_URL=http://127.0.0.1:8787 node simulate.js [SHOPPERS]
'use strict';
const http = require('node:http');
const { JourneyClient } = require('./journey');
const { createStorefront } = require('./storefront');

function call(port, path, payload) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(payload);
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => (res.statusCode < 300 ? resolve(JSON.parse(text)) : reject(new Error(`${path}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main() {
  const shoppers = Number(process.argv[2] || 20);
  let rejected = 0;
  const journey = new JourneyClient({ onRejected: (e) => { rejected++; console.error('rejected:', JSON.stringify(e.errors)); } });
  const server = createStorefront(journey);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const counts = { shoppers, carts: 0, checkouts: 0, orders: 0 };
  for (let i = 0; i < shoppers; i++) {
    const anonymous_id = `node-shopper-${i}`;
    const { cart_id } = await call(port, '/cart/items', { anonymous_id, product: { id: `sku-${i % 7}`, name: 'Trail Runner', price: 89.5 } });
    counts.carts++;
    if (i % 3 === 2) continue;  // abandons the cart
    const { checkout_id } = await call(port, '/checkout', { anonymous_id, cart_id });
    counts.checkouts++;
    if (i % 4 === 3) continue;  // abandons the checkout
    await call(port, '/orders', { anonymous_id, checkout_id, email: ` Shopper${i}@Example.com ` });
    counts.orders++;
  }
  await journey.flush();
  journey.close();
  server.close();
  console.log(JSON.stringify(counts));
  process.exit(rejected ? 1 : 0);
}

main().catch((err) => { console.error(err.message); process.exit(1); });
