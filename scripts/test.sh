#!/usr/bin/env bash
# `npm test`: build, typecheck, lint, then every vitest project (unit, integration + fault with the
# real MinIO and Apache WebDAV that test/support/global-setup.ts starts, e2e, and the operator
# journeys, which also start ActiveMQ and sign in through the keyring). Vitest runs inside its own
# D-Bus session with a fresh, unlocked gnome-keyring, so that @napi-rs/keyring (Secret Service)
# works in the tests. Extra arguments go to `vitest run`, e.g. `npm test -- --project unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

if [ "${BEAMDROP_TEST_IN_SESSION:-}" != 1 ]; then
  echo "== node $(node --version)"
  case "$(node --version)" in
    v24.*) ;;
    *) echo "error: node_modules/.bin/node must be Node 24 (run scripts/install-native.sh)" >&2; exit 1 ;;
  esac
  echo "== build";     npm run build
  echo "== typecheck"; npm run typecheck
  echo "== lint";      npm run lint
  echo "== format";    npm run format:check
  for tool in dbus-run-session gnome-keyring-daemon; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (run scripts/provision-test-servers.sh)" >&2; exit 1; }
  done
  echo "== vitest (in a private D-Bus session with gnome-keyring)"
  exec env BEAMDROP_TEST_IN_SESSION=1 dbus-run-session -- bash "$0" "$@"
fi

# --- inside dbus-run-session -------------------------------------------------------------------
# The keyring lives in a throwaway directory: nothing of a developer's own keyrings is touched.
keyring_home="$(mktemp -d "${TMPDIR:-/tmp}/beamdrop-keyring-XXXXXX")"
trap 'rm -rf "$keyring_home"' EXIT
mkdir -m 700 "$keyring_home/data" "$keyring_home/run"
eval "$(printf '%s' beamdrop-test |
  XDG_DATA_HOME="$keyring_home/data" XDG_RUNTIME_DIR="$keyring_home/run" \
  gnome-keyring-daemon --daemonize --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
# The daemon forks before it owns org.freedesktop.secrets; a client that asks sooner makes D-Bus
# activate a second daemon on the real ~/.local/share/keyrings. Wait for ours to own the name.
for _ in $(seq 100); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true' && break
  sleep 0.1
done
node -e "
const { Entry } = require('@napi-rs/keyring');
const e = new Entry('beamdrop-test-session', 'probe');
e.setPassword('ok');
if (e.getPassword() !== 'ok') throw new Error('keyring round trip failed');
e.deletePassword();
" || { echo 'error: the Secret Service keyring does not work in this session' >&2; exit 1; }
echo "== keyring: gnome-keyring unlocked on $DBUS_SESSION_BUS_ADDRESS"

mkdir -p .test-artifacts
rm -f .test-artifacts/vitest.json
status=0
vitest run --reporter=default --reporter=json --outputFile.json=.test-artifacts/vitest.json "$@" || status=$?
# One plain closing line with the counts (vitest's own summary is coloured and split up).
if [ -f .test-artifacts/vitest.json ]; then
  node -e "
const r = JSON.parse(require('fs').readFileSync('.test-artifacts/vitest.json', 'utf8'));
// A file that failed to load has no failed test of its own: count it as one failure.
const broken = r.testResults.filter((f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed'));
for (const f of broken) console.log('test file failed: ' + f.name);
console.log('tests: ' + r.numPassedTests + ' passed, ' + (r.numFailedTests + broken.length) + ' failed, ' + (r.numPendingTests + r.numTodoTests) + ' skipped');
" || true
fi
exit "$status"
