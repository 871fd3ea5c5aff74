#!/usr/bin/env node
// The demo's real-browser slice: shoppers in headless Chromium click through the demo
// shop (examples/shop, the tag installed behind /journey/) against journeyd.
//   node browse.js --journeyd URL --shoppers N --expect FILE
// Shopper i goes as far as i % 4 says: 0 views, 1 adds to cart, 2 reaches checkout,
// 3 places the order (the shop tracks checkout, payment and purchase itself).
// FILE gets the steps reached, per step. Exit 0; exit 3 when playwright-core is absent.
'use strict';
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const CHANNELS = [['google', 'cpc'], ['newsletter', 'email'], ['facebook', 'paid_social'], ['instagram', 'social']];
const PRODUCTS = ['trail-runner-2', 'merino-socks', 'rain-shell', 'bottle-750'];

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

async function shopper(browser, shopUrl, i) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const [source, medium] = CHANNELS[i % CHANNELS.length];
  const depth = i % 4;
  const reached = ['view'];
  // The tag leaves storage empty once journeyd has answered 2xx for everything.
  const drained = () => page.waitForFunction(() => !localStorage.getItem('journey_queue'), null, { timeout: 20000 });
  await page.goto(`${shopUrl}/index.html?utm_source=${source}&utm_medium=${medium}&utm_campaign=live-demo`);
  await page.click(`a[data-product="${PRODUCTS[i % PRODUCTS.length]}"]`);
  await page.waitForSelector('#add-to-cart');
  if (depth >= 1) {
    await page.click('#add-to-cart');
    reached.push('add_to_cart');
  }
  if (depth >= 2) {
    await page.goto(`${shopUrl}/checkout.html`);
    await page.waitForSelector('#place-order');
    reached.push('checkout');
  }
  if (depth >= 3) {
    await page.click('#place-order');
    await page.waitForSelector('#order');
    reached.push('payment', 'purchase');
  }
  await drained();
  await context.close();
  return reached;
}

async function main() {
  let chromium;
  try {
    ({ chromium } = require(path.join(ROOT, 'tests/node/node_modules/playwright-core')));
  } catch (e) {
    console.error('browse: playwright-core is not installed (scripts/test-setup.sh installs it)');
    process.exit(3);
  }
  const journeyd = arg('--journeyd');
  const count = Number(arg('--shoppers', '8'));
  const expect = arg('--expect');
  if (!journeyd || !expect || !(count >= 1)) {
    console.error('usage: node browse.js --journeyd URL --shoppers N --expect FILE');
    process.exit(2);
  }
  const shop = await require(path.join(ROOT, 'examples/shop/server.js')).start({ journeyd });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const steps = {};
  try {
    for (let i = 0; i < count; i += 4) {
      const batch = [];
      for (let j = i; j < Math.min(i + 4, count); j++) batch.push(shopper(browser, shop.url, j));
      for (const reached of await Promise.all(batch)) for (const s of reached) steps[s] = (steps[s] || 0) + 1;
    }
  } finally {
    await browser.close();
    await shop.close();
  }
  fs.writeFileSync(expect, JSON.stringify(steps));
  console.log(`  Chromium:     ${count} shoppers clicked through the demo shop (${shop.url}) with the real tag`);
}

main().catch((e) => {
  console.error(`browse: ${e.message}`);
  process.exit(1);
});
