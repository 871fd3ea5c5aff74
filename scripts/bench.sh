#!/usr/bin/env bash
# Runs the benchmarks of SPEC section 13 against a Release build; one JSON line per run.
# usage: scripts/bench.sh [BUILD_DIR]   (default build-release)
set -euo pipefail
BUILD=${1:-build-release}
BENCH="$BUILD/bin/journey-bench"
[ -x "$BENCH" ] || { echo "bench: $BENCH not built (make bench builds it)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"

# SDK: the reference shape, in memory and with the spool.
echo "# sdk (in-memory queue): journey-bench sdk --threads 5 --iterations 10000"
"$BENCH" sdk --threads 5 --iterations 10000
echo "# sdk (after one untimed round: a process whose memory is already faulted in): journey-bench sdk --threads 5 --iterations 10000 --warmup"
"$BENCH" sdk --threads 5 --iterations 10000 --warmup
echo "# sdk (spool): journey-bench sdk --threads 5 --iterations 10000 --spool DIR"
"$BENCH" sdk --threads 5 --iterations 10000 --spool "$TMP/spool"
echo "# sdk (building the events only, no track: the loop's ceiling): journey-bench sdk --threads 5 --iterations 10000 --build-only"
"$BENCH" sdk --threads 5 --iterations 10000 --build-only
echo "# sdk (every event built before the clock starts: track() and delivery alone): journey-bench sdk --threads 5 --iterations 10000 --prebuilt"
"$BENCH" sdk --threads 5 --iterations 10000 --prebuilt

# Ingest: journeyd (spool at normal durability, discard sink so only the front door
# and the spool are measured) under keep-alive load; journeyd's peak RSS from /proc.
JD_DIR="$TMP/journeyd"
mkdir -p "$JD_DIR"
"$BUILD/bin/journeyd" --listen 127.0.0.1:0 --data-dir "$JD_DIR" --sink discard >"$TMP/journeyd.out" 2>"$TMP/journeyd.err" &
JD_PID=$!
for _ in $(seq 100); do grep -q listening "$TMP/journeyd.out" 2>/dev/null && break; sleep 0.1; done
JD_URL=$(sed -n 's/^journeyd listening on //p' "$TMP/journeyd.out")
echo "# ingest: journey-bench ingest --url $JD_URL --connections 16 --batch 100 --seconds 10"
"$BUILD/bin/journey-bench" ingest --url "$JD_URL" --connections 16 --batch 100 --seconds 10
echo "# ingest: journey-bench ingest --url $JD_URL --connections 32 --batch 1 --seconds 10"
"$BUILD/bin/journey-bench" ingest --url "$JD_URL" --connections 32 --batch 1 --seconds 10
echo "{\"journeyd_peak_rss_kib\": $(awk '/VmHWM/{print $2}' /proc/$JD_PID/status)}"
kill -TERM "$JD_PID"
wait "$JD_PID" || true
