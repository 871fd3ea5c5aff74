#!/usr/bin/env bash
# Installs the Debian packages Journey needs; does nothing when all are present.
set -euo pipefail
PKGS=(cmake ninja-build ccache g++ clang pkg-config libcurl4-openssl-dev libssl-dev
      nlohmann-json3-dev libboost-dev libgtest-dev libgmock-dev libbenchmark-dev
      libsqlite3-dev sqlite3 zlib1g-dev librdkafka-dev libsimdjson-dev libclang-rt-14-dev
      curl openssl php-cli python3 nodejs npm chromium systemd)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A node from elsewhere (nvm, tarball) is fine: don't pull Debian's in beside it.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
node_too_old() { command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; }
if [ ${#missing[@]} -eq 0 ]; then
  node_too_old && echo "deps: warning: Node.js $(node -v) found; the browser and OpenAPI tests need Node.js 20 or newer" >&2
  exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
node_too_old && echo "deps: warning: Node.js $(node -v) found; the browser and OpenAPI tests need Node.js 20 or newer" >&2
exit 0
