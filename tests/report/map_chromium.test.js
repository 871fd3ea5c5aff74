// The HTML journey map in real headless Chromium: it renders without network,
// and the SVG funnel has one bar per step with the counts of map_fixture.ndjson.
//
// Expected counts, worked out from the fixture (default steps, window 7d):
//   j1 (google): view → add_to_cart (cart c1) → checkout/payment/purchase as user
//       shopify:7, stitched by c1 → shipping as shopify:order:o1, stitched by o1: 6 steps
//   j2 (google): view → add_to_cart → checkout: 3 steps
//   j3 (no channel): view: 1 step
//   j4 (facebook): view → add_to_cart: 2 steps
//   j5 (facebook): view → add_to_cart (c5) → checkout/payment/purchase of Woo order 55,
//       stitched by c5: 5 steps (payment and purchase at the same second)
//   j6: add_to_cart only, no view: not a journey of this funnel
//   view 5, add_to_cart 4, checkout 3, payment 2, purchase 2, shipping 1;
//   by channel.source: facebook 2, google 2, (none) 1.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const SOURCE_DIR = process.env.JOURNEY_SOURCE_DIR || path.resolve(__dirname, '../..');
const BIN_DIR = process.env.JOURNEY_BIN_DIR || path.join(SOURCE_DIR, 'build/bin');
const { chromium } = require(path.join(SOURCE_DIR, 'tests/node/node_modules/playwright-core'));

const EXPECTED = { view: 5, add_to_cart: 4, checkout: 3, payment: 2, purchase: 2, shipping: 1 };

test('journey map HTML renders the funnel in Chromium', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'journey-map-'));
  try {
    execFileSync(path.join(BIN_DIR, 'journey-report-fill'),
      ['--data-dir', dir, '--ndjson', path.join(__dirname, 'map_fixture.ndjson')]);
    const html = path.join(dir, 'journey-map.html');
    execFileSync(path.join(BIN_DIR, 'journeyctl'),
      ['report', '--data-dir', dir, '--by', 'channel.source', '--format', 'html', '--output', html]);

    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const requests = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto('file://' + html);
      assert.deepStrictEqual(requests, ['file://' + html], 'the page loads nothing else');

      const bars = await page.$$eval('svg#funnel rect.bar', (rects) => rects.map((r) => ({
        step: r.dataset.step,
        journeys: Number(r.dataset.journeys),
        width: r.getBoundingClientRect().width,
        count: r.closest('g').querySelector('text.count').textContent,
      })));
      assert.deepStrictEqual(bars.map((b) => b.step), Object.keys(EXPECTED));
      for (const b of bars) {
        assert.strictEqual(b.journeys, EXPECTED[b.step], b.step);
        assert.strictEqual(b.count, String(EXPECTED[b.step]), b.step);
        assert.ok(b.width > 0, `${b.step} bar is drawn`);
      }
      // Bar widths follow the counts: view (5) is 5× shipping (1).
      const ratio = bars[0].width / bars[5].width;
      assert.ok(Math.abs(ratio - 5) < 0.05, `view/shipping width ratio ${ratio}`);

      const summary = await page.textContent('#summary');
      assert.match(summary, /^5 journeys · window 7d$/);
      const drop = await page.textContent('g.step[data-step="add_to_cart"] text.drop');
      assert.match(drop, /^drop-off 1 · median /);  // 5 views − 4 carts

      const groups = await page.$$eval('#breakdown tbody tr', (rows) => rows.map((r) =>
        [...r.querySelectorAll('td')].map((td) => td.textContent)));
      assert.deepStrictEqual(groups.map((g) => [g[0], g[1]]), [['facebook', '2'], ['google', '2'], ['(none)', '1']]);
    } finally {
      await browser.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
