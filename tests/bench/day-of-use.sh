#!/usr/bin/env bash
# Benchmark: a day of use (issue 15, item 6). SESSIONS person-sessions through the real kiosk as it
# ships (no WebDriver: real clicks and keys): open the institution's tile, browse two pages, type a
# user and password in the kiosk's sign-in form, download a file, print it on the e2e cups-pdf
# queue, then « Terminer ma session » → « Oui, terminer ». Every SAMPLE_EVERY sessions: PSS/RSS/USS,
# open descriptors and threads of the kiosk's whole process tree; every session: the time from
# « Oui, terminer » to the fresh portal. Not a test: it prints numbers with the goals next to them
# (memory growth under 5 % from session 25 to the last, no descriptor or thread growth) and writes
# tests/bench/results/day-of-use.md and day-of-use.csv. See tests/bench/README.md.
#
#   flock /tmp/borne-run.lock tests/bench/day-of-use.sh              # 300 sessions, about 75 min
#   SESSIONS=30 SAMPLE_EVERY=5 flock /tmp/borne-run.lock tests/bench/day-of-use.sh   # a quick try
#   STEPS=tile,browse SESSIONS=50 DAY_BORNE=target/release/borne tests/bench/day-of-use.sh
#
# Environment:
#   SESSIONS=300          person-sessions
#   SAMPLE_EVERY=25       sessions between two samples of the process tree
#   STEPS=tile,browse,form,download,print   what each person does before ending (in that order)
#   DAY_BORNE=path        kiosk binary (default target/release/borne, else target/debug/borne); the
#                         e2e suite's config (tests/e2e/config) is used; bornectl is not needed
#   DAY_COMMIT=…          the commit the binary was built from, for the results (default: HEAD)
#   DAY_SETTLE_MS=3000    from the fresh portal shown to a sample
#   DAY_DISPLAY=:97       X display of our own Xvfb (refused if already in use)
#   DAY_WORK=/tmp/borne-day   work dir: the kiosk's log, screenshots of failed sessions (wiped at start)
#   DAY_OUT=tests/bench/results/day-of-use.md, DAY_CSV=tests/bench/results/day-of-use.csv
#   DAY_STOP_AT=…          start no session after this time (for example 2026-12-07T01:10:00Z)
#   DAY_KEEP_SETUP=0      1: leave the e2e CA, /etc/hosts block and printer in place afterwards
#
# Needs root (tests/e2e/setup.sh: test CA, /etc/hosts block, the borne-e2e cups-pdf queue; it shares
# them with the e2e suites, so run it under the same lock as they are), node, Xvfb, openbox,
# xdotool, imagemagick, cups and cups-pdf, tauri-driver (the layout is measured once under WebDriver).
set -euo pipefail
export LC_ALL=C

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"
export PATH="$HOME/.cargo/bin:$PATH"

export SESSIONS="${SESSIONS:-300}"
export SAMPLE_EVERY="${SAMPLE_EVERY:-25}"
DISP="${DAY_DISPLAY:-:97}"
export DAY_WORK="${DAY_WORK:-/tmp/borne-day}"
E2E_WORK_DIR="$DAY_WORK/e2e"

say() { printf '== day-of-use: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (tests/e2e/setup.sh writes /etc/hosts, the trust store and the printer)"
[[ "$SESSIONS" =~ ^[1-9][0-9]*$ ]] || die "SESSIONS must be a positive number"
[[ "$SAMPLE_EVERY" =~ ^[1-9][0-9]*$ ]] || die "SAMPLE_EVERY must be a positive number"
for c in node xdotool Xvfb xdpyinfo openbox import curl lpstat tauri-driver; do
  command -v "$c" >/dev/null || die "missing: $c (tests/e2e/run.sh installs what the e2e suites need)"
done
[ -x /usr/bin/WebKitWebDriver ] || die "missing: /usr/bin/WebKitWebDriver (webkit2gtk-driver)"

if [ -n "${DAY_BORNE:-}" ]; then
  BORNE="$DAY_BORNE"
elif [ -x target/release/borne ]; then
  BORNE=target/release/borne
else
  BORNE=target/debug/borne
fi
[ -x "$BORNE" ] || die "no kiosk binary at $BORNE (cargo build --release -p borne, or set DAY_BORNE)"
BORNE="$(cd "$(dirname "$BORNE")" && pwd)/$(basename "$BORNE")"
export E2E_BORNE="$BORNE"
case "$BORNE" in
  */release/*) build=release ;;
  */debug/*) build=debug ;;
  *) build="?" ;;
esac
export DAY_BUILD="${DAY_BUILD:-$BORNE ($build build, $(stat -c %y "$BORNE" | cut -d. -f1))}"
export DAY_COMMIT="${DAY_COMMIT:-$(git rev-parse --short HEAD) (HEAD of the checkout; the binary may hold uncommitted changes)}"
export DAY_WEBKIT="$(dpkg-query -W -f '${Version}' libwebkit2gtk-4.1-0 2>/dev/null || echo '?')"

if ss -ltn 2>/dev/null | grep -qE '127\.0\.1\.1:443 |127\.0\.0\.1:8099 |127\.0\.0\.1:4444 '; then
  die "something already listens on 127.0.1.1:443, 127.0.0.1:8099 or :4444 (an e2e run?)"
fi
[ -e "/tmp/.X11-unix/X${DISP#:}" ] && die "display $DISP is in use"

rm -rf "$DAY_WORK"
mkdir -p "$DAY_WORK" "$E2E_WORK_DIR"
# The e2e setup and harness, in a work dir of our own (certs, printed PDFs, state dirs, logs).
export E2E_WORK="$E2E_WORK_DIR"
export E2E_ARTIFACTS="$DAY_WORK/artifacts"
export DAY_LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

HELPERS=()
SETUP_DONE=0
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  for ((i = ${#HELPERS[@]} - 1; i >= 0; i--)); do kill -TERM "${HELPERS[i]}" 2>/dev/null; done
  for pid in "${HELPERS[@]}"; do wait "$pid" 2>/dev/null; done
  if [ "$SETUP_DONE" = 1 ] && [ "${DAY_KEEP_SETUP:-0}" != 1 ]; then
    "$REPO/tests/e2e/setup.sh" --teardown >/dev/null 2>&1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "test CA, host names and printer (tests/e2e/setup.sh)"
"$REPO/tests/e2e/setup.sh" >"$DAY_WORK/setup.log" 2>&1 || die "tests/e2e/setup.sh failed: $DAY_WORK/setup.log"
SETUP_DONE=1
lpstat -p borne-e2e 2>/dev/null | grep -q enabled || die "no enabled borne-e2e printer after setup.sh: $DAY_WORK/setup.log"

Xvfb "$DISP" -screen 0 1366x768x24 -nolisten tcp >"$DAY_WORK/xvfb.log" 2>&1 &
HELPERS+=($!)
export DISPLAY="$DISP"
for _ in $(seq 100); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
xdpyinfo >/dev/null 2>&1 || die "Xvfb did not start on $DISP"
openbox >"$DAY_WORK/wm.log" 2>&1 &
HELPERS+=($!)
sleep 0.5

say "$SESSIONS sessions, kiosk $DAY_BUILD; load average $DAY_LOAD_BEFORE"
# The node driver starts (and stops) the sites server and tauri-driver itself (tests/e2e/lib/harness.mjs).
node "$HERE/day-of-use.mjs"
