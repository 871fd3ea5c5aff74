#!/usr/bin/env python3
"""Drives journeyd with the demo's simulated shoppers through all three paths:

  1. the browser tag: a faithful replay of what tag.js sends to /v1/collect
     (text/plain {"sent_at", "events"} per page, UUIDv7 ids, utm channels)
  2. the C++ SDK: journey-demo-checkout (journey::Tracker) for the headless store
  3. signed Shopify and WooCommerce webhooks (base64 HMAC-SHA256 of the raw body)

usage: simulate.py --url http://127.0.0.1:PORT --sdk-bin PATH --shopify-secret S
                   --woocommerce-secret S [--shoppers 1200] [--seed 7] [--expect FILE]
--expect writes, per funnel step, how many shoppers the plan takes that far.
Exits non-zero when journeyd refuses anything.
"""
import argparse
import base64
import collections
import concurrent.futures
import datetime
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plan import make_shoppers  # noqa: E402

STEPS = ["view", "add_to_cart", "checkout", "payment", "purchase", "shipping"]
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")


class Client:
    """One keep-alive connection per worker thread."""

    def __init__(self, url):
        self.url = urllib.parse.urlsplit(url)
        self.local = threading.local()

    def post(self, path, body, headers):
        for attempt in (1, 2):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=30)
            try:
                conn.request("POST", path, body=body, headers=headers)
                answer = conn.getresponse()
                return answer.status, answer.read().decode("utf-8", "replace")
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def send_page(client, page):
    body = json.dumps({"sent_at": now_iso(), "events": page["events"]}, separators=(",", ":"))
    status, text = client.post("/v1/collect", body.encode(), {
        "Content-Type": "text/plain;charset=UTF-8", "Origin": page["origin"], "User-Agent": USER_AGENT})
    answer = json.loads(text) if text.startswith("{") else {}
    if status != 202 or answer.get("rejected") or answer.get("accepted") != len(page["events"]):
        raise RuntimeError(f"/v1/collect answered {status}: {text[:300]}")
    return len(page["events"])


def send_webhook(client, secrets, shopper, platform, topic, payload):
    body = json.dumps(payload, separators=(",", ":")).encode()
    signature = base64.b64encode(hmac.new(secrets[platform].encode(), body, hashlib.sha256).digest()).decode()
    if platform == "shopify":
        headers = {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": signature,
                   "X-Shopify-Shop-Domain": "northpeak.myshopify.com",
                   "X-Shopify-Webhook-Id": f"demo-{shopper.n}-{topic.replace('/', '-')}",
                   "X-Shopify-API-Version": "2025-10"}
    else:
        headers = {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": signature,
                   "X-WC-Webhook-Source": "https://woo.northpeak.example/",
                   "X-WC-Webhook-Resource": topic.split(".")[0], "X-WC-Webhook-Event": topic.split(".")[1],
                   "X-WC-Webhook-Delivery-Id": str(shopper.n)}
    headers["Content-Type"] = "application/json"
    status, text = client.post(f"/v1/webhooks/{platform}", body, headers)
    if status != 200:
        raise RuntimeError(f"/v1/webhooks/{platform} {topic} answered {status}: {text[:300]}")
    return platform


def run_sdk(sdk_bin, url, shoppers):
    with tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False) as f:
        for s in shoppers:
            if s.sdk:
                f.write(json.dumps(s.sdk) + "\n")
        plan = f.name
    try:
        done = subprocess.run([sdk_bin, "--endpoint", url, "--plan", plan], capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(plan)
    if done.returncode != 0:
        raise RuntimeError(f"{os.path.basename(sdk_bin)} exited {done.returncode}: {done.stderr.strip()[:500]}")
    return done.stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--sdk-bin", required=True)
    ap.add_argument("--shopify-secret", required=True)
    ap.add_argument("--woocommerce-secret", required=True)
    ap.add_argument("--shoppers", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--expect")
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    if args.shoppers < 1:
        ap.error("--shoppers: must be at least 1")

    shoppers = make_shoppers(args.shoppers, args.seed)
    stores = collections.Counter(s.store for s in shoppers)
    print(f"  {len(shoppers)} shoppers (seed {args.seed}): " +
          ", ".join(f"{n} {store}" for store, n in sorted(stores.items())))
    client = Client(args.url)
    secrets = {"shopify": args.shopify_secret, "woocommerce": args.woocommerce_secret}
    with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
        pages = [p for s in shoppers for p in s.pages]
        events = sum(pool.map(lambda p: send_page(client, p), pages))
        print(f"  browser tag:  {len(pages)} page batches → /v1/collect, {events} events accepted")

        print(f"  C++ SDK:      {run_sdk(args.sdk_bin, args.url, shoppers)}")

        # Each shopper's webhooks in order (a platform sends them in order); shoppers in parallel.
        def shopper_hooks(s):
            return [send_webhook(client, secrets, s, *hook) for hook in s.webhooks]
        sent = collections.Counter(p for done in pool.map(shopper_hooks, shoppers) for p in done)
        print(f"  webhooks:     {sent['shopify']} Shopify + {sent['woocommerce']} WooCommerce, signed, all 200")

    reached = collections.Counter(step for s in shoppers for step in s.reached)
    if args.expect:
        with open(args.expect, "w", encoding="utf-8") as f:
            json.dump({step: reached[step] for step in STEPS}, f)


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, OSError) as e:
        sys.exit(f"simulate: {e}")
