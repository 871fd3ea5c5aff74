#!/usr/bin/env bash
# make demo: journeyd on the local sink in a fresh data dir, 1,200 simulated shoppers
# through the browser tag (HTTP replay), the C++ SDK and signed Shopify/WooCommerce
# webhooks, then SIGTERM and the journey map (SPEC sections 1 and 8).
# Plus a real-browser slice: BROWSER_SHOPPERS (default 8) shoppers click through the
# demo shop in headless Chromium with the real tag (skipped without node/playwright-core).
#   scripts/demo.sh BUILD_DIR   (SHOPPERS, SEED, BROWSER_SHOPPERS, DEMO_DIR override the defaults)
set -euo pipefail

BUILD=${1:?usage: scripts/demo.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
BIN=$BUILD/bin
SHOPPERS=${SHOPPERS:-1200}
SEED=${SEED:-7}
BROWSER_SHOPPERS=${BROWSER_SHOPPERS:-8}
DEMO=${DEMO_DIR:-$BUILD/demo}
DATA=$DEMO/journey-data
SHOPIFY_SECRET=demo-shopify-secret
WOO_SECRET=demo-woocommerce-secret

for b in journeyd journeyctl journey-demo-checkout; do
  [ -x "$BIN/$b" ] || { echo "demo: $BIN/$b is missing (build first: make build)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "demo: python3 is required" >&2; exit 1; }

rm -rf "$DEMO"
mkdir -p "$DATA"
LOG=$DEMO/journeyd.log
OUT=$DEMO/journeyd.out
EXPECT=$DEMO/expected.json

echo "== Journey demo: $SHOPPERS shoppers, seed $SEED"
"$BIN/journeyd" --listen 127.0.0.1:0 --data-dir "$DATA" \
  --shopify-secret "$SHOPIFY_SECRET" --woocommerce-secret "$WOO_SECRET" \
  --flush-interval-ms 200 >"$OUT" 2>"$LOG" &
JPID=$!
stop() { kill -TERM "$JPID" 2>/dev/null || true; }
trap stop EXIT

# journeyd's first stdout line: "journeyd listening on http://HOST:PORT".
URL=
for _ in $(seq 1 300); do
  URL=$(sed -n 's/^journeyd listening on //p' "$OUT")
  [ -n "$URL" ] && break
  kill -0 "$JPID" 2>/dev/null || { echo "demo: journeyd exited:" >&2; cat "$LOG" >&2; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { echo "demo: journeyd did not report its address within 30 s" >&2; exit 1; }
echo "journeyd (local sink) on $URL, data dir $DATA"

python3 "$ROOT/examples/demo/simulate.py" --url "$URL" --sdk-bin "$BIN/journey-demo-checkout" \
  --shopify-secret "$SHOPIFY_SECRET" --woocommerce-secret "$WOO_SECRET" \
  --shoppers "$SHOPPERS" --seed "$SEED" --expect "$EXPECT"

BROWSER_EXPECT=$DEMO/expected-browser.json
if [ "$BROWSER_SHOPPERS" -gt 0 ] && command -v node >/dev/null && [ -x /usr/bin/chromium ]; then
  if [ ! -d "$ROOT/tests/node/node_modules/playwright-core" ] && command -v npm >/dev/null; then
    "$ROOT/scripts/test-setup.sh" >/dev/null 2>&1 || true
  fi
  rc=0
  node "$ROOT/examples/demo/browse.js" --journeyd "$URL" --shoppers "$BROWSER_SHOPPERS" \
    --expect "$BROWSER_EXPECT" || rc=$?
  if [ "$rc" -eq 3 ]; then
    echo "  Chromium:     skipped (playwright-core is not installed)"
  elif [ "$rc" -ne 0 ]; then
    echo "demo: the Chromium shoppers failed" >&2
    exit 1
  fi
else
  echo "  Chromium:     skipped (needs node and /usr/bin/chromium)"
fi

# Every accepted event delivered to the local sink before stopping (the spool would
# keep the rest for the next start, but the map below should show all of them).
pending() { curl -sf "$URL/metrics" | sed -n 's/^journey_spool_pending_events{sink="local"} //p'; }
for _ in $(seq 1 600); do
  [ "$(pending)" = "0" ] && break
  sleep 0.1
done
[ "$(pending)" = "0" ] || echo "demo: warning: $(pending) events still pending in the spool" >&2
accepted=$(curl -sf "$URL/metrics" | sed -n 's/^journey_events_accepted_total //p')

trap - EXIT
kill -TERM "$JPID"
status=0
wait "$JPID" || status=$?
[ "$status" -eq 0 ] || { echo "demo: journeyd exited $status after SIGTERM" >&2; tail -5 "$LOG" >&2; exit 1; }
echo "journeyd stopped with SIGTERM (exit 0) after accepting ${accepted:-?} events"
echo

"$BIN/journeyctl" report --data-dir "$DATA" --by channel.source
HTML=$DATA/journey-map.html
"$BIN/journeyctl" report --data-dir "$DATA" --by channel.source --format html --output "$HTML" 2>/dev/null

# The map must show what the simulation did: per step, the shoppers the plan took that far.
"$BIN/journeyctl" report --data-dir "$DATA" --format json >"$DEMO/funnel.json"
python3 - "$DEMO/funnel.json" "$EXPECT" "$BROWSER_EXPECT" <<'PY'
import collections, json, os, sys
expected = collections.Counter()
for f in sys.argv[2:]:
    if os.path.exists(f):
        expected.update(json.load(open(f)))
got = {s["step"]: s["journeys"] for s in json.load(open(sys.argv[1]))["steps"]}
bad = [f"{k}: map {got[k]} vs simulated {expected[k]}" for k in got if got[k] != expected[k]]
if bad:
    sys.exit("demo: the journey map does not match the simulated shoppers: " + "; ".join(bad))
print("\nEvery step matches the simulated shoppers (browser, SDK and webhook events stitched into one journey each).")
PY
echo "HTML journey map: $HTML"
