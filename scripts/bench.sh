#!/usr/bin/env bash
# `npm run bench [-- --quick]`: compiles the benchmarks with the engine sources and the test-server
# starters into out/bench/ (bench/tsconfig.json; dist/ is left to `npm run build`), then runs
# bench/run.ts, which starts its own MinIO and Apache WebDAV on loopback and stops them at the
# end. Results: printed, and written as JSON to bench/results/. `--help` lists the options.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
case "$(node --version)" in
  v24.*) ;;
  *) echo "error: node_modules/.bin/node must be Node 24 (run scripts/install-native.sh)" >&2; exit 1 ;;
esac
rm -rf out/bench
echo "== compile (bench/tsconfig.json → out/bench)"
tsc -p bench/tsconfig.json
exec node out/bench/bench/run.js "$@"
