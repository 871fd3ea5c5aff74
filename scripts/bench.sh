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
echo "# sdk (spool): journey-bench sdk --threads 5 --iterations 10000 --spool DIR"
"$BENCH" sdk --threads 5 --iterations 10000 --spool "$TMP/spool"
