#!/usr/bin/env bash
# The training run of `make release`'s profile-guided build: what a storefront does
# with the SDK and with journeyd, on the instrumented binaries of BUILD_DIR, whose
# profiles land in BUILD_DIR/pgo (old ones are removed first).
# - SDK: typed builders and track() from 1 and 5 threads, in memory and with the
#   spool (journey-bench sdk: a view, an add_to_cart and a purchase per shopper);
# - journeyd: /v1/events with single events and batches of 100 (journey-bench ingest).
# usage: scripts/pgo-train.sh BUILD_DIR
set -euo pipefail
BUILD=${1:?usage: scripts/pgo-train.sh BUILD_DIR}
BENCH="$BUILD/bin/journey-bench"
[ -x "$BENCH" ] && [ -x "$BUILD/bin/journeyd" ] || { echo "pgo-train: build journey-bench and journeyd in $BUILD first" >&2; exit 2; }
TMP=$(mktemp -d)
JD_PID=
cleanup() {
  [ -n "$JD_PID" ] && kill -TERM "$JD_PID" 2>/dev/null && wait "$JD_PID" || true
  rm -rf "$TMP"
}
trap cleanup EXIT
rm -rf "$BUILD/pgo"

"$BENCH" sdk --threads 5 --iterations 10000 >/dev/null
"$BENCH" sdk --threads 5 --iterations 10000 --warmup >/dev/null
"$BENCH" sdk --threads 1 --iterations 50000 >/dev/null
"$BENCH" sdk --threads 5 --iterations 4000 --spool "$TMP/spool" >/dev/null

"$BUILD/bin/journeyd" --listen 127.0.0.1:0 --data-dir "$TMP/journeyd" --sink discard >"$TMP/journeyd.out" 2>"$TMP/journeyd.err" &
JD_PID=$!
for _ in $(seq 100); do grep -q listening "$TMP/journeyd.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^journeyd listening on //p' "$TMP/journeyd.out")
[ -n "$URL" ] || { echo "pgo-train: journeyd did not start: $(cat "$TMP/journeyd.err")" >&2; exit 1; }
"$BENCH" ingest --url "$URL" --connections 8 --batch 100 --seconds 3 >/dev/null
"$BENCH" ingest --url "$URL" --connections 8 --batch 1 --seconds 3 >/dev/null
kill -TERM "$JD_PID"
wait "$JD_PID" || true
JD_PID=
n=$(find "$BUILD/pgo" -name '*.gcda' 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || { echo "pgo-train: no profile written under $BUILD/pgo (was $BUILD configured with -DJOURNEY_PGO=generate?)" >&2; exit 1; }
echo "pgo-train: $n profiles in $BUILD/pgo"
