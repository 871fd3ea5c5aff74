// examples/webhooks/replay.sh against a real journeyd: every fixture, signed with openssl,
// goes through /v1/webhooks/*, and the derived events reach the http sink's backend.
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { SOURCE_DIR, waitFor, startBackend, startJourneyd, tempDir } = require('../browser/support');

const DATA = path.join(SOURCE_DIR, 'tests/data/webhooks');
const REPLAY = path.join(SOURCE_DIR, 'examples/webhooks/replay.sh');
const PING = path.join(SOURCE_DIR, 'examples/webhooks/ping.sh');
const SHOPIFY_SECRET = 'shpss_replay_test_5e1f';
const WOO_SECRET = 'wc replay secret with spaces & symbols!';

function run(script, args, env) {
  return new Promise((resolve) => {
    execFile(script, args, { env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

// The webhook id replay.sh derives: first 32 hex of SHA-256("<topic>\n<body>").
function webhookId(topic, file) {
  return crypto.createHash('sha256').update(`${topic}\n`).update(fs.readFileSync(file)).digest('hex').slice(0, 32);
}

describe('signed webhook replays through journeyd', () => {
  let backend, journeyd, dataDir;
  before(async () => {
    dataDir = tempDir('journey-webhooks-');
    backend = await startBackend();
    journeyd = await startJourneyd({ dataDir, backendUrl: backend.url,
      extraArgs: ['--shopify-secret', SHOPIFY_SECRET, '--woocommerce-secret', WOO_SECRET] });
  });
  after(async () => {
    if (journeyd) await journeyd.stop();
    if (backend) await backend.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const shopify = [
    ['checkouts/create', 'checkouts_create.json', 'checkout'],
    ['orders/create', 'orders_create.json', 'purchase'],
    ['orders/paid', 'orders_paid.json', 'payment'],
    ['fulfillments/create', 'fulfillments_create.json', 'shipping'],
    ['fulfillments/update', 'fulfillments_update_delivered.json', 'shipping'],
    ['refunds/create', 'refunds_create.json', 'refund'],
  ];

  it('Shopify: every topic is accepted and its event delivered under a deterministic id', async () => {
    for (const [topic, fixture, type] of shopify) {
      const file = path.join(DATA, 'shopify', fixture);
      const r = await run(REPLAY, ['shopify', topic, file], { SECRET: SHOPIFY_SECRET, JOURNEYD: journeyd.url });
      assert.equal(r.code, 0, `${topic}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /HTTP 200/);
      const id = `shopify:${webhookId(topic, file)}:${type}`;
      const e = await waitFor(id, () => backend.find((x) => x.event_id === id));
      assert.equal(e.type, type);
      assert.equal(e.context.platform, 'shopify');
      assert.equal(e.context.storefront, 'northpeak-outdoor.myshopify.com');
    }
    const delivered = await waitFor('a fulfillments/update delivered', () =>
      backend.find((x) => x.type === 'shipping' && x.properties.status === 'delivered'));
    assert.equal(delivered.properties.carrier, 'DHL Express');
  });

  it('WooCommerce: every order status maps to its touchpoints', async () => {
    const expected = {
      'order_pending.json': ['727:checkout'],
      'order_processing.json': ['727:payment-captured', '727:purchase'],
      'order_on-hold.json': ['727:purchase', '727:payment-pending'],
      'order_completed.json': ['727:shipping'],
      'order_refunded.json': ['727:refund'],
    };
    for (const [fixture, ids] of Object.entries(expected)) {
      const r = await run(REPLAY, ['woocommerce', 'order.updated', path.join(DATA, 'woocommerce', fixture)],
        { SECRET: WOO_SECRET, JOURNEYD: journeyd.url });
      assert.equal(r.code, 0, `${fixture}: ${r.stdout}${r.stderr}`);
      for (const suffix of ids) {
        const id = `woocommerce:shop.example.com:${suffix}`;
        await waitFor(id, () => backend.find((x) => x.event_id === id));
      }
    }
    const ping = await run(PING, ['7'], { JOURNEYD: journeyd.url });
    assert.match(ping.stdout, /HTTP 200/);
  });

  it('no raw email address reaches the backend; hashes do', async () => {
    const all = JSON.stringify(backend.deliveries).toLowerCase();
    assert.ok(!all.includes('lovelace@'), 'raw Shopify email forwarded');
    assert.ok(!all.includes('hopper@'), 'raw WooCommerce email forwarded');
    const sha = crypto.createHash('sha256').update('ada.lovelace@example.com').digest('hex');
    assert.ok(backend.find((e) => e.context.traits && e.context.traits.email_sha256 === sha));
  });

  it('a signed payload whose event cannot be valid is 400 naming the field, and stores nothing', async () => {
    const order = JSON.parse(fs.readFileSync(path.join(DATA, 'shopify', 'orders_create.json'), 'utf8'));
    order.currency = 'euro';
    order.presentment_currency = 'euro';
    const body = JSON.stringify(order);
    const post = (webhookId, text) => fetch(`${journeyd.url}/v1/webhooks/shopify`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Shopify-Topic': 'orders/create',
        'X-Shopify-Shop-Domain': 'northpeak-outdoor.myshopify.com',
        'X-Shopify-Webhook-Id': webhookId,
        'X-Shopify-Hmac-Sha256': crypto.createHmac('sha256', SHOPIFY_SECRET).update(text).digest('base64'),
      },
      body: text,
    });
    const rejectedInvalid = async () => {
      const m = /journey_events_rejected_total\{[^}]*reason="invalid"[^}]*\} (\d+)/
        .exec(await (await fetch(`${journeyd.url}/metrics`)).text());
      return m ? Number(m[1]) : 0;
    };
    const before = await rejectedInvalid();
    const bad = await post('invalid-currency-1', body);
    assert.equal(bad.status, 400);
    const answer = await bad.json();
    assert.match(answer.error, /^event 0 \(purchase\): properties\.currency: /);
    assert.equal(await rejectedInvalid(), before + 1);

    // The same order with its currency repaired goes through; the bad one never does.
    order.currency = 'EUR';
    order.presentment_currency = 'EUR';
    const good = await post('valid-currency-1', JSON.stringify(order));
    assert.equal(good.status, 200, await good.text());
    await waitFor('the repaired order', () => backend.find((x) => x.event_id === 'shopify:valid-currency-1:purchase'));
    assert.equal(backend.deliveries.filter((x) => x.event_id.startsWith('shopify:invalid-currency-1')).length, 0);
  });

  it('a wrong secret is 401 and stores nothing; an unknown topic is 200 and ignored', async () => {
    const before = backend.deliveries.length;
    const file = path.join(DATA, 'shopify', 'orders_create.json');
    const bad = await run(REPLAY, ['shopify', 'orders/create', file],
      { SECRET: 'not-the-secret', JOURNEYD: journeyd.url, WEBHOOK_ID: 'never-stored-1' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout, /HTTP 401/);

    const ignored = await run(REPLAY, ['shopify', 'products/update', path.join(DATA, 'shopify', 'products_update.json')],
      { SECRET: SHOPIFY_SECRET, JOURNEYD: journeyd.url });
    assert.match(ignored.stdout, /HTTP 200/);
    const metrics = await (await fetch(`${journeyd.url}/metrics`)).text();
    assert.match(metrics, /journey_webhooks_ignored_total\{[^}]*topic="products\/update"[^}]*\} 1/);

    // Whatever journeyd still has to deliver is through once a later event arrives.
    const marker = path.join(DATA, 'shopify', 'orders_paid.json');
    const ok = await run(REPLAY, ['shopify', 'orders/paid', marker],
      { SECRET: SHOPIFY_SECRET, JOURNEYD: journeyd.url, WEBHOOK_ID: 'after-the-bad-one' });
    assert.equal(ok.code, 0, ok.stdout);
    await waitFor('the marker', () => backend.find((x) => x.event_id === 'shopify:after-the-bad-one:payment'));
    assert.equal(backend.find((x) => x.event_id.startsWith('shopify:never-stored-1')), undefined);
    assert.equal(backend.deliveries.filter((x) => x.event_id.startsWith('shopify:never-stored-1')).length, 0);
    assert.ok(backend.deliveries.length > before);
  });
});
