#!/usr/bin/env bash
# Sends WooCommerce's creation ping (unsigned form body webhook_id=N) the way WooCommerce
# does when a webhook is saved; journeyd answers 200 and stores nothing.
set -euo pipefail
journeyd=${JOURNEYD:-http://127.0.0.1:8787}
curl -sS -o /dev/null -w 'HTTP %{http_code}\n' -X POST "$journeyd/v1/webhooks/woocommerce" \
  -H "Content-Type: application/x-www-form-urlencoded" --data "webhook_id=${1:-1}"
