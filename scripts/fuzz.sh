#!/usr/bin/env bash
# usage: scripts/fuzz.sh BUILD_DIR SECONDS
# Runs every libFuzzer binary BUILD_DIR/bin/fuzz_* for SECONDS over its seed corpus
# tests/fuzz/corpus/<name>/ or tests/<name>/corpus/ (seeds are read, never written; new inputs go to
# BUILD_DIR/fuzz-corpus/<name>/, crashes to BUILD_DIR/fuzz-artifacts/<name>/);
# tests/fuzz/<name>.dict, when present, is the libFuzzer dictionary.
# Exit 0 when no target found a crash, 1 when one did, 2 on bad usage.
set -uo pipefail
if [ $# -ne 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh BUILD_DIR SECONDS" >&2
  exit 2
fi
build=$1 seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
bins=("$build"/bin/fuzz_*)
if [ ${#bins[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz_* binaries in $build/bin (configure with -DJOURNEY_FUZZ=ON and clang)" >&2
  exit 2
fi
failed=()
for bin in "${bins[@]}"; do
  name=$(basename "$bin")
  seeds=$root/tests/fuzz/corpus/$name
  # A target that lives in its own test dir keeps its seeds there (tests/fuzz_ingest/corpus).
  [ -d "$seeds" ] || seeds=$root/tests/${name}/corpus
  work=$build/fuzz-corpus/$name
  artifacts=$build/fuzz-artifacts/$name
  mkdir -p "$work" "$artifacts"
  [ -d "$seeds" ] || echo "fuzz.sh: warning: no seed corpus $seeds" >&2
  echo "fuzz.sh: $name for ${seconds}s"
  dict=()
  [ -f "$root/tests/fuzz/$name.dict" ] && dict=(-dict="$root/tests/fuzz/$name.dict")
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       "${dict[@]}" -artifact_prefix="$artifacts/" "$work" "$seeds"; then
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]} (inputs in $build/fuzz-artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: all fuzz targets ran ${seconds}s without a crash"
