// A minimal Journey client for Node.js (standard library only): posts journey/v1
// events to journeyd's /v1/events over a keep-alive connection.
//   track(event)        queues; sent in batches (up to 100 events or 200 ms)
//   trackDurable(event) resolves once journeyd has the event in its spool (202)
//   flush()             sends what is queued and waits for the answers
// A 503 (spool full, shutting down) is retried after Retry-After; an event journeyd
// rejects is reported through onRejected and never retried.
'use strict';
const http = require('node:http');
const https = require('node:https');

class JourneyClient {
  constructor({ url = process.env.JOURNEYD_URL || 'http://127.0.0.1:8787', ingestKey = process.env.JOURNEY_INGEST_KEY,
                batchSize = 100, flushMs = 200, onRejected = (e) => console.error('journey: rejected', JSON.stringify(e)) } = {}) {
    this.endpoint = new URL('/v1/events', url);
    this.client = this.endpoint.protocol === 'https:' ? https : http;
    this.agent = new this.client.Agent({ keepAlive: true, maxSockets: 4 });
    this.ingestKey = ingestKey;
    this.batchSize = batchSize;
    this.flushMs = flushMs;
    this.onRejected = onRejected;
    this.queue = [];
    this.timer = null;
    this.inFlight = new Set();
  }

  // The time of the touchpoint is when it happened, not when the batch leaves.
  static stamp(event) {
    return event.timestamp ? event : { ...event, timestamp: new Date().toISOString() };
  }

  track(event) {
    this.queue.push(JourneyClient.stamp(event));
    if (this.queue.length >= this.batchSize) this._send();
    else if (!this.timer) this.timer = setTimeout(() => this._send(), this.flushMs);
  }

  async trackDurable(event) {
    const answer = await this._post([JourneyClient.stamp(event)]);
    if (answer.accepted !== 1) throw new Error(`journey: event rejected: ${JSON.stringify(answer.rejected)}`);
    return answer;
  }

  async flush() {
    this._send();
    await Promise.allSettled([...this.inFlight]);
  }

  close() {
    this.agent.destroy();
  }

  _send() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.queue.length);
    const p = this._post(batch).catch((err) => console.error('journey:', err.message)).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  async _post(events, attempt = 1) {
    // No sent_at: a server's clock is NTP-synced, and skew correction would shift each
    // request by its own transit time, reordering touchpoints milliseconds apart.
    const body = JSON.stringify(events);
    const { status, headers, text } = await this._request(body);
    let answer = {};
    try { answer = JSON.parse(text); } catch { /* not JSON */ }
    if (status === 503 && attempt < 5) {
      const wait = Math.min(30, Number(headers['retry-after']) || 1) * 1000;
      await new Promise((r) => setTimeout(r, wait));
      return this._post(events, attempt + 1);
    }
    if (status !== 202 && status !== 400) throw new Error(`journeyd answered ${status}: ${answer.error || text}`);
    for (const r of answer.rejected || []) this.onRejected({ event: events[r.index], errors: r.errors });
    return { accepted: answer.accepted || 0, rejected: answer.rejected || [] };
  }

  _request(body) {
    const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
    if (this.ingestKey) headers.Authorization = `Bearer ${this.ingestKey}`;
    return new Promise((resolve, reject) => {
      const req = this.client.request(this.endpoint, { method: 'POST', headers, agent: this.agent, timeout: 10000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { text += c; });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      });
      req.on('timeout', () => req.destroy(new Error('journeyd did not answer within 10 s')));
      req.on('error', reject);
      req.end(body);
    });
  }
}

module.exports = { JourneyClient };
