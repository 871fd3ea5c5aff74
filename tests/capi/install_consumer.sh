#!/bin/sh
# Installs libjourney (component sdk) from a build tree into a temporary prefix,
# then builds and runs a consumer with find_package(journey) and with pkg-config.
# Usage: install_consumer.sh <build-dir> <consumer-source-dir> <version> <libdir>
set -eu
build=$1 src=$2 version=$3 libdir=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" --component sdk >/dev/null
test -f "$tmp/prefix/include/journey/journey.h"

cmake -S "$src" -B "$tmp/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cmake-build" >/dev/null
out=$("$tmp/cmake-build/consumer")
test "$out" = "journey $version" || { echo "find_package consumer printed: $out" >&2; exit 1; }

export PKG_CONFIG_PATH="$tmp/prefix/$libdir/pkgconfig"
test "$(pkg-config --modversion journey)" = "$version"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror -pedantic -o "$tmp/pc-consumer" "$src/main.c" $(pkg-config --cflags --libs journey)
out=$(LD_LIBRARY_PATH="$tmp/prefix/$libdir" "$tmp/pc-consumer")
test "$out" = "journey $version" || { echo "pkg-config consumer printed: $out" >&2; exit 1; }
echo "installed consumer ok: $out"
