#!/usr/bin/env bash
# `npm run campaign -- [--kills N] [--seed S] …` (`--help` lists the options): builds the CLI
# (into out/campaign-cli/), compiles the campaign into out/campaign/ (test/campaign/tsconfig.json), then runs it
# inside a private D-Bus session with a throwaway, unlocked gnome-keyring — the campaign signs in
# to SciCat and ICAT+ with `beamdrop login`, which keeps the session in the OS keychain — as
# scripts/test.sh does for the tests. The servers (MinIO, Apache, ActiveMQ, rclone) are the ones
# scripts/provision-test-servers.sh installs; the campaign starts and stops its own.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"

if [ "${BEAMDROP_CAMPAIGN_IN_SESSION:-}" != 1 ]; then
  case "$(node --version)" in
    v24.*) ;;
    *) echo "error: node_modules/.bin/node must be Node 24 (run scripts/install-native.sh)" >&2; exit 1 ;;
  esac
  for tool in dbus-run-session gnome-keyring-daemon rclone sha256sum; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (run scripts/provision-test-servers.sh)" >&2; exit 1; }
  done
  # The CLI under test is a copy of its own (out/campaign-cli/{bin,dist}): a rebuild of dist/
  # while the campaign runs (an hour for the full run) cannot swap the code under its feet.
  echo "== build the CLI (tsconfig.node.json → out/campaign-cli/dist)"
  rm -rf out/campaign-cli
  tsc -p tsconfig.node.json --outDir out/campaign-cli/dist
  mkdir -p out/campaign-cli/bin && cp bin/beamdrop.js out/campaign-cli/bin/
  echo "== compile the campaign (test/campaign/tsconfig.json → out/campaign)"
  rm -rf out/campaign/test out/campaign/src
  tsc -p test/campaign/tsconfig.json
  exec env BEAMDROP_CAMPAIGN_IN_SESSION=1 dbus-run-session -- bash "$0" "$@"
fi

# --- inside dbus-run-session: a keyring in a throwaway directory, nobody's own keyrings touched
keyring_home="$(mktemp -d "${TMPDIR:-/tmp}/beamdrop-keyring-XXXXXX")"
trap 'rm -rf "$keyring_home"' EXIT
mkdir -m 700 "$keyring_home/data" "$keyring_home/run"
eval "$(printf '%s' beamdrop-campaign |
  XDG_DATA_HOME="$keyring_home/data" XDG_RUNTIME_DIR="$keyring_home/run" \
  gnome-keyring-daemon --daemonize --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
# Wait until our daemon owns the Secret Service name (else D-Bus would activate another one).
for _ in $(seq 100); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true' && break
  sleep 0.1
done
BEAMDROP_CAMPAIGN_CLI="$PWD/out/campaign-cli/bin/beamdrop.js" node out/campaign/test/campaign/campaign-main.js "$@"
