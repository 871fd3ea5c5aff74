// journey-bench as scripts see it (SPEC section 13): each run prints one JSON object
// on stdout with the fields the spec names; bad arguments exit 2 naming the problem.
// Small shapes: this checks the output contract, not speed (that is `make bench`).
'use strict';
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('child_process');
const fs = require('fs');
const path = require('path');
const { SOURCE_DIR, waitFor, startBackend, startJourneyd, tempDir } = require('../browser/support');

const BENCH = path.join(process.env.JOURNEY_BIN_DIR || path.join(SOURCE_DIR, 'build/bin'), 'journey-bench');

function run(args) {
  return new Promise((resolve) => {
    execFile(BENCH, args, { timeout: 120000 }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

// The one JSON object a successful run prints.
function parsed(r) {
  assert.equal(r.code, 0, `journey-bench failed: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line of JSON, got:\n${r.stdout}`);
  return JSON.parse(lines[0]);
}

describe('journey-bench sdk', () => {
  const threads = 2;
  const iterations = 200;
  const shape = ['sdk', '--threads', String(threads), '--iterations', String(iterations)];

  function checkSdk(out, { spool = false, buildOnly = false, prebuilt = false, warmup = false, producerNice = 0 } = {}) {
    for (const f of ['events', 'seconds', 'events_per_second', 'track_ns_p50', 'track_ns_p99'])
      assert.equal(typeof out[f], 'number', `field ${f} missing or not a number in ${JSON.stringify(out)}`);
    assert.equal(out.events, threads * iterations * 3);
    assert.ok(out.seconds > 0);
    // seconds is printed to 0.1 ms: events_per_second lies within what that rounding allows.
    const lo = out.events / (out.seconds + 0.00005) - 1;
    const hi = out.seconds > 0.00005 ? out.events / (out.seconds - 0.00005) + 1 : Infinity;
    assert.ok(out.events_per_second >= lo && out.events_per_second <= hi,
      `events_per_second ${out.events_per_second} is not events / seconds (${out.events} / ${out.seconds})`);
    assert.ok(out.track_ns_p50 <= out.track_ns_p99);
    assert.equal(out.errors, 0);
    assert.ok(Number.isInteger(out.page_faults) && out.page_faults >= 0);
    assert.deepEqual([out.spool, out.build_only, out.prebuilt, out.warmup], [spool, buildOnly, prebuilt, warmup]);
    assert.equal(out.producer_nice, producerNice);
    if (!buildOnly) assert.equal(out.backlog_at_join <= out.events, true);
  }

  it('tracks the reference events in memory', async () => checkSdk(parsed(await run(shape))));

  it('runs an untimed round first with --warmup', async () =>
    checkSdk(parsed(await run([...shape, '--warmup'])), { warmup: true }));

  it('measures building alone with --build-only', async () =>
    checkSdk(parsed(await run([...shape, '--build-only'])), { buildOnly: true }));

  it('tracks events built before the clock with --prebuilt', async () =>
    checkSdk(parsed(await run([...shape, '--prebuilt'])), { prebuilt: true }));

  // errors counts a producer whose nice value could not be set.
  it('runs the producers at a lower priority with --producer-nice N', async () =>
    checkSdk(parsed(await run([...shape, '--producer-nice', '5'])), { producerNice: 5 }));

  it('spools every event with --spool DIR', async () => {
    const dir = tempDir('journey-bench-spool-');
    try {
      checkSdk(parsed(await run([...shape, '--spool', dir])), { spool: true });
      assert.ok(fs.existsSync(path.join(dir, 'bench-spool.db')), 'no spool database in the --spool directory');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 with its usage on bad arguments', async () => {
    for (const args of [['sdk', '--threads', '0'], ['sdk', '--iterations'], ['sdk', '--frobnicate', '1'],
      ['sdk', '--producer-nice', '20'], ['sdk', '--producer-nice', '-1'], ['sdk', '--producer-nice', '5x']]) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}`);
      assert.match(r.stderr, /usage: journey-bench sdk/);
      assert.equal(r.stdout, '');
    }
  });
});

describe('journey-bench ingest', () => {
  let backend, journeyd, dataDir;
  before(async () => {
    dataDir = tempDir('journey-bench-ingest-');
    backend = await startBackend();
    journeyd = await startJourneyd({ dataDir, backendUrl: backend.url });
  });
  after(async () => {
    if (journeyd) await journeyd.stop();
    if (backend) await backend.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('loads journeyd and reports what it sent, and every event reaches the backend', async () => {
    const out = parsed(await run(['ingest', '--url', journeyd.url, '--connections', '2', '--batch', '10',
      '--seconds', '0.5']));
    for (const f of ['events', 'requests', 'seconds', 'events_per_second', 'latency_ms_p50', 'latency_ms_p99', 'errors'])
      assert.equal(typeof out[f], 'number', `field ${f} missing or not a number in ${JSON.stringify(out)}`);
    assert.equal(out.errors, 0);
    assert.ok(out.requests > 0);
    assert.equal(out.events, out.requests * 10);
    assert.ok(out.latency_ms_p50 <= out.latency_ms_p99);
    // The requests still in flight when the time is up are accepted by journeyd
    // but not counted by the bench (their answers go unread): at most one per connection.
    await waitFor(`${out.events} events at the backend`, () => backend.events().length >= out.events, 60000);
    assert.ok(backend.events().length <= out.events + 2 * 10,
      `${backend.events().length} events at the backend, the bench counted ${out.events}`);
  });

  it('exits 2 naming the flag on a bad URL', async () => {
    const r = await run(['ingest', '--url', 'ftp://example']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--url: expected http:\/\/HOST:PORT/);
  });
});
