#!/usr/bin/env bash
# Replays a platform webhook against journeyd, signed exactly as Shopify or WooCommerce
# sign it: base64(HMAC-SHA256(secret, raw body)), computed here with openssl.
#
#   SECRET=... examples/webhooks/replay.sh shopify orders/create tests/data/webhooks/shopify/orders_create.json
#   SECRET=... examples/webhooks/replay.sh woocommerce order.updated tests/data/webhooks/woocommerce/order_processing.json
#
# SECRET is the value journeyd got as --shopify-secret / --woocommerce-secret.
# JOURNEYD (default http://127.0.0.1:8787) is where journeyd listens.
# SHOP (default northpeak-outdoor.myshopify.com, or https://shop.example.com for WooCommerce)
# is the storefront. WEBHOOK_ID defaults to a hash of topic and body, so running the
# same replay twice is a redelivery and derives the same event_ids.
# Prints journeyd's answer and its status code; exits non-zero unless it was 2xx.
set -euo pipefail

usage() { echo "usage: SECRET=... $0 shopify|woocommerce TOPIC FILE" >&2; exit 2; }
[ $# -eq 3 ] || usage
platform=$1 topic=$2 file=$3
[ -r "$file" ] || { echo "replay: cannot read $file" >&2; exit 2; }
[ -n "${SECRET:-}" ] || { echo "replay: set SECRET to the webhook secret journeyd was given" >&2; exit 2; }
journeyd=${JOURNEYD:-http://127.0.0.1:8787}

signature=$(openssl dgst -sha256 -hmac "$SECRET" -binary <"$file" | openssl base64 -A)
webhook_id=${WEBHOOK_ID:-$( (printf '%s\n' "$topic"; cat "$file") | openssl dgst -sha256 -r | cut -c1-32)}

case $platform in
  shopify)
    headers=(-H "X-Shopify-Topic: $topic"
             -H "X-Shopify-Hmac-Sha256: $signature"
             -H "X-Shopify-Shop-Domain: ${SHOP:-northpeak-outdoor.myshopify.com}"
             -H "X-Shopify-Webhook-Id: $webhook_id"
             -H "X-Shopify-API-Version: 2025-10")
    ;;
  woocommerce)
    headers=(-H "X-WC-Webhook-Topic: $topic"
             -H "X-WC-Webhook-Signature: $signature"
             -H "X-WC-Webhook-Source: ${SHOP:-https://shop.example.com}/"
             -H "X-WC-Webhook-Resource: ${topic%%.*}"
             -H "X-WC-Webhook-Event: ${topic#*.}"
             -H "X-WC-Webhook-Delivery-Id: $RANDOM")
    ;;
  *) usage ;;
esac

answer=$(curl -sS -w '\n%{http_code}' -X POST "$journeyd/v1/webhooks/$platform" \
  -H "Content-Type: application/json" "${headers[@]}" --data-binary @"$file")
status=${answer##*$'\n'}
echo "${answer%$'\n'*}"
echo "HTTP $status"
[[ $status == 2* ]]
