#!/usr/bin/env bash
# Installs the npm tooling the tests use (ajv, playwright-core, an OpenAPI linter) into tests/node/.
set -euo pipefail
cd "$(dirname "$0")/../tests/node"
if [ ! -d node_modules ] || [ package.json -nt node_modules ]; then
  npm install --no-audit --no-fund --loglevel=error
  touch node_modules
fi
