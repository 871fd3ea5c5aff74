#!/usr/bin/env node
// The demo storefront: serves public/ and forwards /journey/* to journeyd, the way a
// shop installs the tag behind its own domain (<script async src="/journey/tag.js">).
// Usage: node server.js [--port 8080] [--journeyd http://127.0.0.1:8787]
// Binds 127.0.0.1 only. Prints "shop listening on http://127.0.0.1:PORT" when ready.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const PUBLIC = path.join(__dirname, 'public');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.json': 'application/json' };

function proxy(req, res, upstream) {
  const target = new URL(req.url.replace(/^\/journey/, '') || '/', upstream);
  const headers = Object.assign({}, req.headers, { host: target.host });
  const up = http.request(target, { method: req.method, headers }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('journeyd unreachable\n');
  });
  req.pipe(up);
}

function serveFile(req, res) {
  const pathname = decodeURIComponent(new URL(req.url, 'http://shop').pathname);
  const file = path.normalize(path.join(PUBLIC, pathname === '/' ? 'index.html' : pathname));
  if (!file.startsWith(PUBLIC + path.sep)) {
    res.writeHead(403).end();
    return;
  }
  fs.readFile(file, (err, data) => {
    if (err) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
      'cache-control': 'no-store' });
    res.end(data);
  });
}

// Starts the shop; resolves to {url, close()}. options: {port, journeyd}.
function start(options = {}) {
  const upstream = options.journeyd || 'http://127.0.0.1:8787';
  const server = http.createServer((req, res) => {
    if (req.url.startsWith('/journey/')) proxy(req, res, upstream);
    else if (req.method === 'GET' || req.method === 'HEAD') serveFile(req, res);
    else res.writeHead(405).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port || 0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({ url, close: () => new Promise((done) => { server.closeAllConnections(); server.close(done); }) });
    });
  });
}

module.exports = { start };

if (require.main === module) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
  };
  start({ port: Number(arg('--port', 8080)), journeyd: arg('--journeyd', process.env.JOURNEYD_URL) })
    .then((shop) => console.log(`shop listening on ${shop.url}`))
    .catch((err) => {
      console.error(`shop: ${err.message}`);
      process.exit(2);
    });
}
