#!/usr/bin/env bash
# Alternating runs of two journey-bench binaries on one sdk shape: this VM has
# minutes-long slow and fast phases, so only runs taken in turn compare.
# usage: scripts/bench-ab.sh RUNS OLD_BENCH NEW_BENCH [sdk args...]
#   e.g. scripts/bench-ab.sh 200 /tmp/journey-bench.old build-release/bin/journey-bench
# Prints, per binary: mean events/s and CPU ns per event; then NEW against OLD as
# the mean of each pair's ratio (NEW's run against the OLD run next to it), with
# its standard error. A single run varies by about 15 % here, so a 3 % difference
# needs some 200 pairs to stand two standard errors clear of zero. Run the same
# binary as both to see the script's own bias (it should be within the error).
set -euo pipefail
[ $# -ge 3 ] || { sed -n 4,5p "$0" >&2; exit 2; }
runs=$1 old=$2 new=$3
shift 3
[ $# -gt 0 ] || set -- --threads 5 --iterations 10000
# One run's "events/s cpu_seconds events", without starting any other process
# (a process starting beside a run slows it measurably).
run() {
  local out
  out=$("$1" sdk "${@:2}")
  [[ $out =~ \"events_per_second\":\ ([0-9.]+) ]] && local eps=${BASH_REMATCH[1]}
  [[ $out =~ \"cpu_seconds\":\ ([0-9.]+) ]] && local cpu=${BASH_REMATCH[1]}
  [[ $out =~ \"events\":\ ([0-9]+) ]] && local n=${BASH_REMATCH[1]}
  REPLY="$eps $cpu $n"
}
# Each pair is printed OLD first; which of the two runs first alternates, so that
# an advantage of running first or second cancels out.
for i in $(seq "$runs"); do
  if (( i % 2 )); then
    run "$old" "$@"; a=$REPLY; run "$new" "$@"; b=$REPLY
  else
    run "$new" "$@"; b=$REPLY; run "$old" "$@"; a=$REPLY
  fi
  echo "$a $b"
done | awk -v old="$old" -v new="$new" '
  { eo += $1; en += $4; co += $2 * 1e9 / $3; cn += $5 * 1e9 / $6
    r = $4 / $1; s += r; ss += r * r; c = ($5 / $6) / ($2 / $3); cs += c; css += c * c; n++ }
  function se(sum, sq) { return n > 1 ? sqrt((sq - sum * sum / n) / (n - 1) / n) : 0 }
  END {
    printf "%s\n  mean %d events/s, %d CPU ns/event\n", old, eo / n, co / n
    printf "%s\n  mean %d events/s, %d CPU ns/event\n", new, en / n, cn / n
    printf "new/old over %d pairs: events/s %+.1f %% (se %.1f), CPU per event %+.1f %% (se %.1f)\n",
           n, (s / n - 1) * 100, se(s, ss) * 100, (cs / n - 1) * 100, se(cs, css) * 100
  }'
