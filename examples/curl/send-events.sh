#!/bin/sh
# Posting touchpoints to journeyd with curl: one event, a batch with sent_at
# (clock-skew correction), and gzip-compressed NDJSON. Exit non-zero on any failure.
#   JOURNEYD_URL=http://127.0.0.1:8787 [JOURNEY_INGEST_KEY_FOR_CURL=key] sh examples/curl/send-events.sh
set -eu
URL=${JOURNEYD_URL:-http://127.0.0.1:8787}
AUTH=""
[ -n "${JOURNEY_INGEST_KEY_FOR_CURL:-}" ] && AUTH="Authorization: Bearer $JOURNEY_INGEST_KEY_FOR_CURL"

post() {  # post CONTENT-TYPE [extra curl args...]; body on stdin; prints journeyd's answer
  ct=$1; shift
  curl --silent --show-error --fail-with-body -X POST "$URL/v1/events" \
       -H "Content-Type: $ct" ${AUTH:+-H "$AUTH"} "$@" --data-binary @-
  echo
}

# 1. One event (202 {"accepted":1,"rejected":[]})
post application/json <<'JSON'
{"type":"view","anonymous_id":"curl-shopper-1",
 "channel":{"source":"newsletter","medium":"email","campaign":"autumn"},
 "context":{"page":{"url":"https://shop.example/","title":"Home"}}}
JSON

# 2. A batch with sent_at: journeyd shifts each timestamp by (received_at - sent_at)
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
post application/json <<JSON
{"sent_at":"$NOW","events":[
 {"type":"add_to_cart","anonymous_id":"curl-shopper-1","timestamp":"$NOW",
  "properties":{"product":{"id":"sku-42","name":"Trail Runner","price":89.5},"currency":"EUR","cart_id":"cart-1"}},
 {"type":"checkout","anonymous_id":"curl-shopper-1",
  "properties":{"checkout_id":"chk-1","cart_id":"cart-1","value":89.5,"currency":"EUR"}}]}
JSON

# 3. NDJSON, gzip-compressed (Content-Encoding: gzip)
cat <<'NDJSON' | gzip -c | post application/x-ndjson -H "Content-Encoding: gzip"
{"type":"payment","anonymous_id":"curl-shopper-1","properties":{"order_id":"ord-1","checkout_id":"chk-1","value":89.5,"currency":"EUR"}}

{"type":"purchase","anonymous_id":"curl-shopper-1","properties":{"order_id":"ord-1","value":89.5,"currency":"EUR","items":[{"id":"sku-42","price":89.5}]}}
{"type":"shipping","anonymous_id":"curl-shopper-1","properties":{"order_id":"ord-1","status":"shipped","carrier":"DHL"}}
NDJSON
