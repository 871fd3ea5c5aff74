#!/bin/sh
# libjourney.so exports exactly the functions journey.h declares (JOURNEY_API), nothing else.
# Usage: exports.sh <libjourney.so> <journey.h>
set -eu
lib=$1 header=$2
declared=$(grep '^JOURNEY_API' "$header" | sed -E 's/.*[ *](journey_[a-z_]+)\(.*/\1/' | sort)
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
if [ "$declared" != "$exported" ]; then
  echo "declared in $header:" >&2; echo "$declared" >&2
  echo "exported by $lib:" >&2; echo "$exported" >&2
  exit 1
fi
echo "$(echo "$exported" | wc -l) symbols exported, all declared"
