/*
 * Journey browser tag (SPEC section 7). Dependency-free ES5.
 * <script async src="/journey/tag.js" data-endpoint="https://journeyd.example"></script>
 * Calls made before it loads are queued: window.journey = window.journey || [];
 * journey.push(['track', 'add_to_cart', {product: {id: 'sku-1'}}]).
 * Unsent events stay in localStorage (cookie fallback) until journeyd answers 2xx.
 */
(function (w, d) {
  'use strict';
  var VERSION = '0.1.0';
  var PREFIX = 'journey_';
  var IDLE_MS = 30 * 60 * 1000;
  var BATCH_MS = 1000;
  var MAX_QUEUE = 200;
  var MAX_BODY = 48000; // bytes of UTF-8: browsers carry at most 64 KiB in keepalive requests
  var TYPES = ['view', 'add_to_cart', 'remove_from_cart', 'checkout', 'payment', 'shipping', 'purchase', 'refund', 'custom'];
  var UTM = ['source', 'medium', 'campaign', 'term', 'content'];
  var stub = w.journey;
  if (stub && stub.loaded) return;

  var memory = {};
  var store = pickStore();
  var endpoint = collectUrl(findScript());
  var anonymousId = store.get('aid') || set('aid', uuid());
  var userId = store.get('uid');
  var denied = store.get('consent') === '0';
  var timer = null;
  var inflight = false;
  var backoff = 0;
  var beaconed = {};

  function set(key, value) {
    store.set(key, value);
    return value;
  }

  // localStorage, else first-party cookies. A write that fails (quota, cookie size) is
  // kept in memory for this page, so reads never go back to an older stored value.
  function pickStore() {
    var b;
    try {
      var ls = w.localStorage;
      ls.setItem(PREFIX + 'probe', '1');
      ls.removeItem(PREFIX + 'probe');
      b = {
        get: function (k) { return ls.getItem(PREFIX + k); },
        set: function (k, v) { ls.setItem(PREFIX + k, v); return true; },
        del: function (k) { ls.removeItem(PREFIX + k); }
      };
    } catch (e) {
      b = {
        get: function (k) {
          var m = d.cookie.match(new RegExp('(?:^|; )' + PREFIX + k + '=([^;]*)'));
          return m ? decodeURIComponent(m[1]) : null;
        },
        set: function (k, v) {
          d.cookie = PREFIX + k + '=' + encodeURIComponent(v) + '; path=/; max-age=63072000; SameSite=Lax';
          return b.get(k) === v;
        },
        del: function (k) { d.cookie = PREFIX + k + '=; path=/; max-age=0; SameSite=Lax'; }
      };
    }
    return {
      get: function (k) { return memory[k] !== undefined ? memory[k] : b.get(k); },
      set: function (k, v) {
        var ok = false;
        try { ok = b.set(k, v); } catch (e) {}
        if (ok) delete memory[k];
        else memory[k] = v;
      },
      del: function (k) {
        delete memory[k];
        try { b.del(k); } catch (e) {}
      }
    };
  }

  function findScript() {
    if (d.currentScript) return d.currentScript;
    var all = d.getElementsByTagName('script');
    for (var i = all.length - 1; i >= 0; i--) {
      if (/tag\.js([?#]|$)/.test(all[i].src)) return all[i];
    }
    return null;
  }

  // data-endpoint is journeyd's base URL (or its /v1/collect); default: beside tag.js.
  function collectUrl(s) {
    var e = s && s.getAttribute('data-endpoint');
    if (e) return /\/v1\/collect$/.test(e) ? e : e.replace(/\/+$/, '') + '/v1/collect';
    if (s && s.src) return s.src.split(/[?#]/)[0].replace(/[^\/]*$/, 'v1/collect');
    return '/v1/collect';
  }

  // UUIDv7: 48-bit Unix ms, then random bits.
  function uuid() {
    var b = [], r = null, i, h = '';
    var c = w.crypto || w.msCrypto;
    if (c && c.getRandomValues) r = c.getRandomValues(new Uint8Array(16));
    for (i = 0; i < 16; i++) b[i] = r ? r[i] : Math.floor(Math.random() * 256);
    var t = Date.now();
    for (i = 5; i >= 0; i--) {
      b[i] = t % 256;
      t = Math.floor(t / 256);
    }
    b[6] = (b[6] & 15) | 112;
    b[8] = (b[8] & 63) | 128;
    for (i = 0; i < 16; i++) {
      h += (b[i] + 256).toString(16).slice(1);
      if (i === 3 || i === 5 || i === 7 || i === 9) h += '-';
    }
    return h;
  }

  // A new session after 30 min without an event; the last activity is kept in storage.
  function sessionId(now) {
    var sid = store.get('sid');
    var last = +store.get('last') || 0;
    if (!sid || now - last > IDLE_MS) sid = set('sid', uuid());
    set('last', String(now));
    return sid;
  }

  function load() {
    try {
      var q = JSON.parse(store.get('queue') || '[]');
      return q instanceof Array ? q : [];
    } catch (e) {
      return [];
    }
  }

  function save(q) {
    if (q.length > MAX_QUEUE) q = q.slice(q.length - MAX_QUEUE);
    if (q.length) store.set('queue', JSON.stringify(q));
    else store.del('queue');
  }

  function forget(batch) {
    var sent = {}, i;
    for (i = 0; i < batch.length; i++) sent[batch[i].event_id] = 1;
    var q = load(), keep = [];
    for (i = 0; i < q.length; i++) if (!sent[q[i].event_id]) keep.push(q[i]);
    save(keep);
  }

  function host(url) {
    var m = /^[a-z][a-z0-9+.-]*:\/\/([^\/?#]*)/i.exec(url || '');
    return m ? m[1].replace(/^.*@/, '').toLowerCase() : '';
  }

  function params() {
    var out = {}, parts = w.location.search.replace(/^\?/, '').split('&');
    for (var i = 0; i < parts.length; i++) {
      var kv = parts[i].split('=');
      if (!kv[0]) continue;
      try {
        out[decodeURIComponent(kv[0])] = decodeURIComponent((kv[1] || '').replace(/\+/g, ' '));
      } catch (e) {}
    }
    return out;
  }

  // utm_* parameters, else an external referrer (medium "referral"); null for internal navigation.
  function channel() {
    var p = params(), ch = {}, found = false, i;
    for (i = 0; i < UTM.length; i++) {
      var v = p['utm_' + UTM[i]];
      if (v) {
        ch[UTM[i]] = v.slice(0, 512);
        found = true;
      }
    }
    if (!found && p.gclid) {
      ch.source = 'google';
      ch.medium = 'cpc';
      found = true;
    }
    var ref = d.referrer, refHost = host(ref);
    if (ref && refHost && refHost !== w.location.host.toLowerCase()) {
      ch.referrer = ref.slice(0, 512);
      if (!found) {
        ch.source = refHost;
        ch.medium = 'referral';
        found = true;
      }
    }
    return found ? ch : null;
  }

  function context() {
    var l = w.location;
    return {
      page: { url: l.href, path: l.pathname, title: d.title, referrer: d.referrer },
      library: { name: 'journey-tag', version: VERSION },
      locale: w.navigator.language
    };
  }

  function copy(o) {
    var out = {};
    if (o && typeof o === 'object') for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) out[k] = o[k];
    return out;
  }

  function make(type, properties) {
    var now = Date.now();
    var ev = {
      event_id: uuid(),
      type: type,
      timestamp: new Date(now).toISOString(),
      anonymous_id: anonymousId,
      session_id: sessionId(now),
      properties: copy(properties),
      context: context()
    };
    if (TYPES.indexOf(type) < 0) {
      ev.type = 'custom';
      ev.name = String(type).slice(0, 128);
    } else if (type === 'custom') {  // track('custom', {name: 'wishlist', ...})
      if (typeof ev.properties.name === 'string' && ev.properties.name) ev.name = ev.properties.name.slice(0, 128);
      delete ev.properties.name;
    }
    if (userId) ev.user_id = userId;
    return ev;
  }

  function warn(message) {
    if (w.console && w.console.warn) w.console.warn('journey: ' + message);
  }

  function enqueue(ev) {
    if (denied) return;
    if (ev.type === 'custom' && !ev.name) {
      warn("track('custom', ...) needs properties.name (or track('<name>', ...)); not sent");
      return;
    }
    // One no request body can carry could never leave, and would hold back all
    // after it; journeyd refuses any event over 32 KiB in any case.
    if (utf8Length(JSON.stringify(ev)) + 64 > MAX_BODY) return;
    var q = load();
    q.push(ev);
    save(q);
    schedule(BATCH_MS);
  }

  function schedule(ms) {
    if (timer || denied) return;
    timer = setTimeout(function () {
      timer = null;
      flush();
    }, ms);
  }

  // Bytes of s as UTF-8: one per UTF-16 unit, one more below U+0800, two more
  // above (a surrogate pair, two units, is four bytes).
  function utf8Length(s) {
    var n = s.length;
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c < 0x80) continue;
      n += c < 0x800 ? 1 : 2;
      if (c >= 0xd800 && c < 0xdc00) i++;
    }
    return n;
  }

  // The oldest events that fit one request body.
  function nextBatch(q) {
    var out = [], size = 64;
    for (var i = 0; i < q.length; i++) {
      size += utf8Length(JSON.stringify(q[i])) + 1;
      if (out.length && size > MAX_BODY) break;
      out.push(q[i]);
    }
    return out;
  }

  function body(batch) {
    return JSON.stringify({ sent_at: new Date().toISOString(), events: batch });
  }

  function retry() {
    backoff = Math.min(backoff ? backoff * 2 : 1000, 30000);
    schedule(backoff);
  }

  // fetch with keepalive so the answer is seen: events leave storage only on 2xx
  // (or 400/413: journeyd will never take them).
  function flush() {
    if (denied || inflight) return;
    var batch = nextBatch(load());
    if (!batch.length) return;
    if (!w.fetch) {
      beacon(batch);
      return;
    }
    inflight = true;
    w.fetch(endpoint, {
      method: 'POST',
      body: body(batch),
      keepalive: true,
      credentials: 'omit',
      headers: { 'Content-Type': 'text/plain' }
    }).then(function (res) {
      inflight = false;
      if ((res.status >= 200 && res.status < 300) || res.status === 400 || res.status === 413) {
        if (res.status >= 400) res.text().then(function (t) { warn('journeyd refused events: ' + t.slice(0, 500)); }, function () {});
        forget(batch);
        backoff = 0;
        if (load().length) schedule(0);
      } else {
        retry();
      }
    }, function () {
      inflight = false;
      retry();
    });
  }

  function beacon(batch) {
    var nav = w.navigator;
    if (!nav.sendBeacon || !batch.length) return;
    try {
      if (nav.sendBeacon(endpoint, body(batch))) {
        for (var i = 0; i < batch.length; i++) beaconed[batch[i].event_id] = 1;
      }
    } catch (e) {}
  }

  // Leaving the page: beacon what is unsent. It stays stored, because a beacon's
  // delivery is unknown; the next page resends it under the same event_id.
  function onHide() {
    if (denied) return;
    var q = load(), fresh = [];
    for (var i = 0; i < q.length; i++) if (!beaconed[q[i].event_id]) fresh.push(q[i]);
    while (fresh.length) {
      var batch = nextBatch(fresh);
      beacon(batch);
      fresh = fresh.slice(batch.length);
    }
  }

  var api = {
    loaded: true,
    version: VERSION,
    endpoint: endpoint,
    track: function (type, properties) {
      if (typeof type !== 'string' || !type) return;
      enqueue(make(type, properties));
    },
    page: function (properties) {
      var ev = make('view', properties);
      var ch = channel();
      // The stage is journeyd's default: awareness when the channel has a source
      // or medium (a landing), consideration otherwise (SPEC section 2).
      if (ch) ev.channel = ch;
      enqueue(ev);
    },
    identify: function (id) {
      userId = id === null || id === undefined || id === '' ? null : String(id).slice(0, 128);
      if (userId) store.set('uid', userId);
      else store.del('uid');
    },
    consent: function (c) {
      if (!c || typeof c.analytics !== 'boolean') return;
      denied = !c.analytics;
      if (denied) {
        set('consent', '0');
        store.del('queue');
        clearTimeout(timer);
        timer = null;
      } else {
        store.del('consent');
        schedule(0);
      }
    },
    reset: function () {
      userId = null;
      store.del('uid');
      store.del('sid');
      anonymousId = set('aid', uuid());
    },
    flush: flush,
    push: function (call) {
      if (call && typeof api[call[0]] === 'function' && call[0] !== 'push') {
        api[call[0]].apply(api, Array.prototype.slice.call(call, 1));
      }
    }
  };

  var queued = stub instanceof Array ? stub : [];
  var early = [], later = [], hasPage = false;
  for (var i = 0; i < queued.length; i++) {
    var name = queued[i] && queued[i][0];
    if (name === 'consent' || name === 'identify') early.push(queued[i]);
    else later.push(queued[i]);
    if (name === 'page') hasPage = true;
  }
  w.journey = api;
  for (i = 0; i < early.length; i++) api.push(early[i]);
  if (!hasPage) api.page();
  for (i = 0; i < later.length; i++) api.push(later[i]);

  w.addEventListener('pagehide', onHide);
  d.addEventListener('visibilitychange', function () {
    if (d.visibilityState === 'hidden') onHide();
    else if (load().length) schedule(BATCH_MS);
  });
  w.addEventListener('online', function () {
    backoff = 0;
    flush();
  });
})(window, document);
