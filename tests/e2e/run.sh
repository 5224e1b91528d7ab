#!/usr/bin/env bash
# Runs the end-to-end suites against the real kiosk (root, Debian 12):
#   setup (test CA, /etc/hosts block), Xvfb if there is no display, the sites server, tauri-driver,
#   then `node --test` on tests/e2e/*.test.mjs, one file at a time; everything is torn down on exit.
# Exit code: the tests' own.
#
#   tests/e2e/run.sh                      all suites
#   tests/e2e/run.sh tests/e2e/escape.test.mjs   some of them
#
# Environment:
#   E2E_BORNE=path       kiosk binary (default: target/debug/borne, built with cargo if missing)
#   E2E_BUILD=0|1        build the kiosk first (default: only when the binary is missing)
#   E2E_CARGO_ARGS="…"   extra arguments for that cargo build (for example --release or --features …)
#   E2E_INSTALL=0        do not apt-get/cargo install missing tools (default: install them)
#   E2E_KEEP_SETUP=1     leave the CA and the /etc/hosts block in place afterwards
#   E2E_WORK=dir         work dir (default /tmp/borne-e2e); artifacts (logs, screenshots) in $E2E_WORK/artifacts
#   E2E_TEST_ARGS="…"    extra arguments for node --test (for example --test-name-pattern=redirect)
#   E2E_CONNECTIONS=report  connection-only contact with a refused host (TCP/TLS, no request) is
#                        reported instead of failing (default: it fails)
#   E2E_CALIBRATE=1      first prove, against plain WebKit (MiniBrowser), that every vector escapes
#                        when nothing stops it (node tests/e2e/calibrate.mjs; about 2.5 minutes)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"

export E2E_WORK="${E2E_WORK:-/tmp/borne-e2e}"
export E2E_ARTIFACTS="${E2E_ARTIFACTS:-$E2E_WORK/artifacts}"
# A folder the kiosk takes as a plugged USB stick (admin export, logo), inherited through tauri-driver.
export BORNE_USB_ROOTS="$E2E_WORK/usb"
# The image's A/B updater record (borne_core::updates), which the admin suite writes.
export BORNE_UPDATER_RECORD="$E2E_WORK/updater-status"
# SANE's own `test` backend as the only scanner (real libsane, real scanimage, no hardware), for
# « Numériser » (scan.test.mjs rewrites test.conf to make a scan fail); inherited by scanimage.
export SANE_CONFIG_DIR="$E2E_WORK/sane.d"
# The idle countdown's chime goes to this WAV file instead of the (absent) sound card.
export BORNE_TONE_OUT="$E2E_WORK/countdown-tone.wav"
# The opening hours' test clock (hours.test.mjs writes it; kiosks without [hours] never read it).
export BORNE_CLOCK_FILE="$E2E_WORK/hours-clock"
# A laptop's battery folder (laptop.test.mjs writes its files; empty, the kiosk sees a desktop PC),
# and the private bus where laptop.test.mjs's logind stand-in runs (started below).
export BORNE_POWER_SUPPLY_DIR="$E2E_WORK/power_supply"
DRIVER_PORT="${E2E_DRIVER_PORT:-4444}"
NATIVE_DRIVER="${E2E_NATIVE_DRIVER:-/usr/bin/WebKitWebDriver}"
INSTALL="${E2E_INSTALL:-1}"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '== e2e: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (setup.sh writes /etc/hosts and the system trust store)"

# --- tools -------------------------------------------------------------------------------------
apt_pkgs=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || apt_pkgs+=("$2"); }
need_cmd Xvfb xvfb
need_cmd xauth xauth
need_cmd openbox openbox
need_cmd xdpyinfo x11-utils
need_cmd xdotool xdotool
need_cmd xclip xclip
need_cmd import imagemagick
need_cmd pdfinfo poppler-utils
need_cmd bindfs bindfs
need_cmd espeak-ng espeak-ng
need_cmd sox sox
need_cmd openssl openssl
need_cmd update-ca-certificates ca-certificates
need_cmd node nodejs
need_cmd npm npm
[ -x "$NATIVE_DRIVER" ] || apt_pkgs+=(webkit2gtk-driver)
if ((${#apt_pkgs[@]})); then
  [ "$INSTALL" = 1 ] || die "missing packages: ${apt_pkgs[*]}"
  say "installing ${apt_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 18 ] || die "Node $node_major is too old (18 or newer: node:test, fetch)"

# axe-core for the accessibility checks, pinned by package-lock.json.
if [ ! -f "$HERE/node_modules/axe-core/axe.min.js" ]; then
  command -v npm >/dev/null 2>&1 || die "npm missing (Debian package npm)"
  say "installing axe-core (npm ci)"
  (cd "$HERE" && npm ci --no-audit --no-fund --silent)
fi

if ! command -v tauri-driver >/dev/null 2>&1; then
  [ "$INSTALL" = 1 ] || die "tauri-driver missing: cargo install tauri-driver --locked --version 2.1.0"
  say "installing tauri-driver 2.1.0 (cargo, about 2 minutes)"
  cargo install tauri-driver --locked --version 2.1.0
fi

# --- the kiosk ---------------------------------------------------------------------------------
BORNE="${E2E_BORNE:-$REPO/target/debug/borne}"
if [ "${E2E_BUILD:-}" = 1 ] || { [ ! -x "$BORNE" ] && [ "${E2E_BUILD:-}" != 0 ]; }; then
  say "building the kiosk: cargo build -p borne ${E2E_CARGO_ARGS:-}"
  # shellcheck disable=SC2086
  cargo build -p borne ${E2E_CARGO_ARGS:-}
fi
[ -x "$BORNE" ] || die "no kiosk binary at $BORNE (set E2E_BORNE or build it)"
export E2E_BORNE="$BORNE"

# --- services ----------------------------------------------------------------------------------
# Fresh artifacts and state dirs for this run (screenshots of an older run would mislead).
rm -rf "$E2E_ARTIFACTS" "$E2E_WORK/state" "$BORNE_USB_ROOTS" "$BORNE_UPDATER_RECORD" "$SANE_CONFIG_DIR" \
  "$BORNE_POWER_SUPPLY_DIR"
mkdir -p "$BORNE_USB_ROOTS" "$SANE_CONFIG_DIR" "$BORNE_POWER_SUPPLY_DIR"
echo test > "$SANE_CONFIG_DIR/dll.conf"
cp "$HERE/sane/test.conf" "$SANE_CONFIG_DIR/test.conf"
mkdir -p "$E2E_ARTIFACTS"
pids=()
cleanup() {
  local rc=$?
  set +e
  # Reverse order; SIGTERM (tauri-driver orphans its children on SIGKILL).
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  if [ "${E2E_KEEP_SETUP:-0}" != 1 ]; then
    "$HERE/setup.sh" --teardown
  fi
  say "artifacts (logs, screenshots): $E2E_ARTIFACTS"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
x_ok() { xdpyinfo >/dev/null 2>&1; }
wait_for() { # description, tries (0.1 s each), command…
  local what="$1" tries="$2"
  shift 2
  for _ in $(seq "$tries"); do
    "$@" && return 0
    sleep 0.1
  done
  die "timed out waiting for $what"
}

say "setup (test CA, /etc/hosts)"
"$HERE/setup.sh"

if [ -z "${DISPLAY:-}" ] || ! x_ok; then
  export DISPLAY="${E2E_DISPLAY:-:99}"
  if ! x_ok; then
    say "starting Xvfb on $DISPLAY (1366x768x24)"
    Xvfb "$DISPLAY" -screen 0 1366x768x24 -nolisten tcp >"$E2E_ARTIFACTS/xvfb.log" 2>&1 &
    pids+=($!)
    wait_for Xvfb 100 x_ok
    if [ "${E2E_WM:-openbox}" != none ]; then
      "${E2E_WM:-openbox}" >"$E2E_ARTIFACTS/wm.log" 2>&1 &
      pids+=($!)
    fi
  fi
fi

port_busy 8099 && die "port 8099 is busy (another sites server?)"
say "starting the sites server"
node "$HERE/sites/server.mjs" >"$E2E_ARTIFACTS/sites.log" 2>&1 &
pids+=($!)
wait_for "the sites server" 100 curl -sf http://127.0.0.1:8099/health -o /dev/null

# The bus logind is looked for on (BORNE_LOGIND_BUS): a private one, nobody owning logind's name
# but laptop.test.mjs's stand-in while it runs.
say "starting a private bus for logind's stand-in"
rm -f "$E2E_WORK/logind-bus"
dbus-daemon --session --nofork --print-address=3 3>"$E2E_WORK/logind-bus" 2>"$E2E_ARTIFACTS/logind-bus.log" &
pids+=($!)
wait_for "the private bus" 50 test -s "$E2E_WORK/logind-bus"
BORNE_LOGIND_BUS="$(head -n 1 "$E2E_WORK/logind-bus")"
export BORNE_LOGIND_BUS

port_busy "$DRIVER_PORT" && die "port $DRIVER_PORT is busy (another tauri-driver?)"
say "starting tauri-driver on $DRIVER_PORT"
tauri-driver --port "$DRIVER_PORT" --native-driver "$NATIVE_DRIVER" >"$E2E_ARTIFACTS/tauri-driver.log" 2>&1 &
pids+=($!)
wait_for tauri-driver 150 port_busy "$DRIVER_PORT"

# --- tests -------------------------------------------------------------------------------------
if [ "${E2E_CALIBRATE:-0}" = 1 ]; then
  say "calibration against plain WebKit (MiniBrowser)"
  node "$HERE/calibrate.mjs" || die "calibration failed: some vectors no longer reach evil without a policy"
fi
if (($#)); then files=("$@"); else files=("$HERE"/*.test.mjs); fi
say "node --test ${files[*]#"$REPO"/}"
set +e
# shellcheck disable=SC2086
node --test --test-concurrency=1 --test-reporter=spec ${E2E_TEST_ARGS:-} "${files[@]}"
rc=$?
set -e
exit "$rc"
