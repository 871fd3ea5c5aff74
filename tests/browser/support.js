// Helpers of the browser test: a recording backend, journeyd as a real process,
// Chromium through playwright-core, and polling with deadlines instead of sleeps.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

const SOURCE_DIR = process.env.JOURNEY_SOURCE_DIR || path.resolve(__dirname, '../..');
const NODE_MODULES = path.join(SOURCE_DIR, 'tests/node/node_modules');

function tool(name) {
  try {
    return require(path.join(NODE_MODULES, name));
  } catch (e) {
    return require(name);
  }
}

function journeydBinary() {
  const candidates = [process.env.JOURNEY_BIN_DIR, path.join(SOURCE_DIR, 'build/bin')].filter(Boolean);
  for (const dir of candidates) {
    const bin = path.join(dir, 'journeyd');
    if (fs.existsSync(bin)) return bin;
  }
  throw new Error(`journeyd not found in ${candidates.join(', ')} (set JOURNEY_BIN_DIR)`);
}

async function waitFor(what, fn, timeoutMs = 15000, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// An HTTP backend that records what journeyd's http sink delivers (gzip or not).
function startBackend() {
  const events = new Map();  // event_id -> event (first delivery)
  const deliveries = [];     // every event received, duplicates included
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
        const batch = JSON.parse(body.toString('utf8'));
        for (const e of batch.events) {
          deliveries.push(e);
          if (!events.has(e.event_id)) events.set(e.event_id, e);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}/v1/batch`,
        events: () => [...events.values()],
        deliveries,
        find: (pred) => [...events.values()].find(pred),
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(done); }),
      });
    });
  });
}

// Starts journeyd and resolves once it printed its ready line: {url, port, stop()}.
function startJourneyd({ dataDir, backendUrl, port = 0, extraArgs = [] }) {
  const args = ['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--sink', 'http',
    '--endpoint', backendUrl, '--flush-interval-ms', '100', '--retry-base-ms', '100',
    '--retry-max-ms', '1000', '--shutdown-timeout-ms', '3000', ...extraArgs];
  const child = spawn(journeydBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => { stderr += c; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`journeyd did not print its ready line within 15 s; stderr:\n${stderr}`));
    }, 15000);
    const early = (code) => {
      clearTimeout(timer);
      reject(new Error(`journeyd exited with ${code} before it was ready; stderr:\n${stderr}`));
    };
    child.on('exit', early);
    child.stdout.on('data', (c) => {
      out += c;
      const m = /^journeyd listening on (http:\/\/[^\s:]+:(\d+))\s*$/m.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.off('exit', early);
      resolve({
        url: m[1],
        port: Number(m[2]),
        stderr: () => stderr,
        stop: async () => {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
          const r = await exited;
          clearTimeout(killer);
          return r;
        },
      });
    });
  });
}

async function launchChromium() {
  const { chromium } = tool('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

module.exports = { SOURCE_DIR, tool, waitFor, startBackend, startJourneyd, launchChromium, tempDir };
