#!/usr/bin/env bash
# Where a run's threads go off the CPU: every switch away from a thread that
# sleeps (S) or waits in the kernel (D), grouped by thread and by the first
# journey:: frame of its stack. Needs perf with sched tracepoints (root).
# usage: scripts/offcpu.sh COMMAND [ARGS...]
#   e.g. scripts/offcpu.sh build-release/bin/journey-bench sdk --threads 5 --iterations 10000
set -euo pipefail
[ $# -ge 1 ] || { sed -n 5,6p "$0" >&2; exit 2; }
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
perf record -q -e sched:sched_switch --call-graph dwarf -o "$data/perf.data" -- "$@"
perf script -i "$data/perf.data" 2>/dev/null >"$data/script.txt"
python3 - "$data/script.txt" <<'PY'
import collections, re, sys
counts = collections.Counter()
for record in open(sys.argv[1]).read().split("\n\n"):
    lines = record.strip().split("\n")
    if not lines or "sched_switch" not in lines[0]:
        continue
    state = re.search(r"prev_state=(\S+)", lines[0])
    if not state or state.group(1).startswith("R"):
        continue  # preempted, not waiting
    frames = [l.split(None, 1)[1] if len(l.split(None, 1)) > 1 else l for l in lines[1:]]
    ours = [f for f in frames if "journey::" in f or "bench_" in f]
    where = ours[0] if ours else (frames[3] if len(frames) > 3 else "?")
    counts[(lines[0].split()[0], state.group(1), where.split(" (")[0][:100])] += 1
for (thread, state, where), n in counts.most_common(15):
    print(f"{n:6d}  {thread:16s} {state:2s} {where}")
PY
