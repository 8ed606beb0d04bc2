#!/usr/bin/env bash
# The newcomer's first run: upload the small example dataset into the embedded default (a local
# archive folder plus the local catalogue, no server needed), then show it verified.
# Run after installing: `ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm install --ignore-scripts && npm run example`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-native.sh >/dev/null
export PATH="$PWD/node_modules/.bin:$PATH"
npm run --silent build
beamdrop() { node bin/beamdrop.js "$@"; }

echo "== beamdrop upload examples/lysozyme-saxs --dataset lysozyme-saxs-demo --proposal DEMO-001"
beamdrop upload examples/lysozyme-saxs --dataset lysozyme-saxs-demo --proposal DEMO-001 -p sample=lysozyme -p technique=SAXS
echo
echo "== beamdrop verify lysozyme-saxs-demo --deep"
beamdrop verify lysozyme-saxs-demo --deep
echo
echo "The files are in $(node -e "import('./dist/main/engine/profile/data-dir.js').then(m => console.log(m.dataPaths(m.dataRoot()).archive))")/DEMO-001/lysozyme-saxs-demo"
