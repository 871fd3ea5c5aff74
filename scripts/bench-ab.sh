#!/usr/bin/env bash
# Alternating runs of two journey-bench binaries on one sdk shape: this VM has
# minutes-long slow and fast phases, so only runs taken in turn compare.
# usage: scripts/bench-ab.sh RUNS OLD_BENCH NEW_BENCH [sdk args...]
#   e.g. scripts/bench-ab.sh 12 /tmp/journey-bench.old build-release/bin/journey-bench
# Prints, per binary: mean events/s, mean CPU ns per event, every run's events/s and p99.
set -euo pipefail
[ $# -ge 3 ] || { sed -n 4,5p "$0" >&2; exit 2; }
runs=$1 old=$2 new=$3
shift 3
[ $# -gt 0 ] || set -- --threads 5 --iterations 10000
field() { sed "s/.*\"$1\": \([0-9.]*\).*/\1/"; }
for _ in $(seq "$runs"); do
  for bin in "$old" "$new"; do
    out=$("$bin" sdk "$@")
    echo "$bin $(field events_per_second <<<"$out") $(field track_ns_p99 <<<"$out") $(field cpu_seconds <<<"$out") $(field events <<<"$out")"
  done
done | awk '{ eps[$1] += $2; n[$1]++; cpu[$1] += $4 * 1e9 / $5; runs[$1] = runs[$1] " " $2; p99[$1] = p99[$1] " " $3 }
  END { for (b in eps) printf "%s\n  mean %d events/s, %d CPU ns/event\n  events/s:%s\n  p99 ns:%s\n", b, eps[b] / n[b], cpu[b] / n[b], runs[b], p99[b] }'
