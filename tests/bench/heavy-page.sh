#!/usr/bin/env bash
# Benchmark: a heavy institution-like HTTPS page (about 150 subresources: 40 scripts, 30 stylesheets,
# 70 images, 10 fonts over four host names, HTTP/1.1 keep-alive, a delay per request for a slow
# link) loaded by the kiosk and by a bare WebKitGTK view, in one run. Not a test: it prints numbers
# and the goal next to them (kiosk ≤ 1.15 × bare view, every resource fetched once) and writes them
# to tests/bench/results/heavy-page.md. See tests/bench/README.md.
#
#   tests/bench/heavy-page.sh
#   RUNS=7 HEAVY_DELAY_MS=50 tests/bench/heavy-page.sh
#   HEAVY_BORNES="before=/tmp/borne-old after=target/debug/borne" tests/bench/heavy-page.sh
#
# Each run: a fresh state dir (kiosk) or data dir (bare view); the kiosk shows its portal, the
# script clicks the page's tile; the page posts its own Navigation Timing (navigation start → load
# event start) to the bench server when its load event has run. The server counts every request by
# host and path. One warm-up run per candidate (not counted), then RUNS runs, candidates interleaved.
#
# Environment:
#   RUNS=5                 measured runs per candidate
#   HEAVY_BORNES="borne=target/debug/borne"   kiosk binaries to measure, label=path, space-separated
#   HEAVY_DELAY_MS=20      server delay before each answer
#   HEAVY_DISPLAY=:96      X display of our own Xvfb (refused if already in use)
#   HEAVY_TILE_XY="230 425"  where the tile is on the windowed kiosk's portal (no window manager)
#   HEAVY_E2E_WAIT=1800    how long to wait for a running end-to-end harness to finish (polls every 30 s)
#   HEAVY_KEEP_SETUP=0     1: leave the e2e CA and /etc/hosts block in place afterwards
#   BENCH_WORK=/tmp/borne-heavy   work dir (logs, screenshots of failed runs; wiped at start)
#   BENCH_OUT=tests/bench/results/heavy-page.md
#
# Needs root (tests/e2e/setup.sh: test CA and /etc/hosts block, shared with the e2e suites, so it
# never runs alongside one), node, python3-gi with gir1.2-webkit2-4.1, Xvfb and xdotool.
set -euo pipefail
export LC_ALL=C

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"

RUNS="${RUNS:-5}"
BORNES="${HEAVY_BORNES:-borne=target/debug/borne}"
DELAY="${HEAVY_DELAY_MS:-20}"
DISP="${HEAVY_DISPLAY:-:96}"
read -r TILE_X TILE_Y <<<"${HEAVY_TILE_XY:-230 425}"
E2E_WAIT="${HEAVY_E2E_WAIT:-1800}"
WORK="${BENCH_WORK:-/tmp/borne-heavy}"
OUT="${BENCH_OUT:-$HERE/results/heavy-page.md}"
COMP="${WEBKIT_DISABLE_COMPOSITING_MODE:-1}" # the kiosk's own default when unset
PAGE_URL="https://www.institution.test/heavy/"
CONTROL="http://127.0.0.1:8098"

say() { printf '== heavy: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (tests/e2e/setup.sh writes /etc/hosts and the trust store)"
[[ "$RUNS" =~ ^[1-9][0-9]?$ ]] || die "RUNS must be 1..99"
for c in node xdotool Xvfb curl; do command -v "$c" >/dev/null || die "missing: $c"; done
/usr/bin/python3 -c 'import gi; gi.require_version("WebKit2", "4.1")' 2>/dev/null ||
  die "missing: python3-gi and gir1.2-webkit2-4.1 (apt-get install python3-gi gir1.2-webkit2-4.1)"

# One user of the e2e hosts at a time: wait for a running harness.
waited=0
while pgrep -f tests/e2e/run.sh >/dev/null; do
  [ "$waited" -lt "$E2E_WAIT" ] || die "an end-to-end harness is still running after ${E2E_WAIT} s"
  say "an end-to-end harness is running; waiting (polls every 30 s)"
  sleep 30
  waited=$((waited + 30))
done
if ss -ltn 2>/dev/null | grep -qE '127\.0\.1\.[12]:443 |127\.0\.0\.1:8098 '; then
  die "something already listens on 127.0.1.1:443, 127.0.1.2:443 or 127.0.0.1:8098 (an e2e sites server?)"
fi
[ -e "/tmp/.X11-unix/X${DISP#:}" ] && die "display $DISP is in use"

rm -rf "$WORK"
mkdir -p "$WORK/logs" "$WORK/shots" "$WORK/config"

HELPERS=()
SETUP_DONE=0
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  for ((i = ${#HELPERS[@]} - 1; i >= 0; i--)); do kill -TERM -- "-${HELPERS[i]}" 2>/dev/null || kill -TERM "${HELPERS[i]}" 2>/dev/null; done
  for pid in "${HELPERS[@]}"; do wait "$pid" 2>/dev/null; done
  if [ "$SETUP_DONE" = 1 ] && [ "${HEAVY_KEEP_SETUP:-0}" != 1 ] && ! pgrep -f tests/e2e/run.sh >/dev/null; then
    "$REPO/tests/e2e/setup.sh" --teardown >/dev/null 2>&1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "test CA and host names (tests/e2e/setup.sh)"
"$REPO/tests/e2e/setup.sh" >"$WORK/logs/setup.log" 2>&1 || die "tests/e2e/setup.sh failed: $WORK/logs/setup.log"
SETUP_DONE=1

setsid Xvfb "$DISP" -screen 0 1366x768x24 -nolisten tcp >"$WORK/logs/xvfb.log" 2>&1 &
HELPERS+=($!)
export DISPLAY="$DISP"
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

HEAVY_DELAY_MS="$DELAY" setsid node "$HERE/heavy-page/server.mjs" >"$WORK/logs/server.log" 2>&1 &
HELPERS+=($!)
for _ in $(seq 50); do curl -sf "$CONTROL/health" >/dev/null && break; sleep 0.1; done
curl -sf "$CONTROL/health" >/dev/null || die "the heavy page server did not start: $WORK/logs/server.log"

# The kiosk's configuration: the e2e suite's settings, one tile to the heavy page, its four hosts.
cp "$REPO/tests/e2e/config/borne.toml" "$WORK/config/"
cat >"$WORK/config/catalogue.toml" <<'TOML'
# heavy-page.sh: one tile, the heavy page, and the hosts its subresources come from.
[[themes]]
id = "test"
name = "Services de test"
pictogram = "aide"

[[services]]
id = "lourd"
name = "Page lourde"
description = "Une page d'institution lourde"
theme = "test"
pictogram = "guichet"
url = "https://www.institution.test/heavy/"
hosts = ["institution.test", "*.institution.test", "idp.test"]
TOML

# --- one run ------------------------------------------------------------------------------------
wait_report() { # seconds → 0 when the page has reported
  local i
  for ((i = 0; i < $1 * 5; i++)); do
    curl -s "$CONTROL/stats" | grep -q '"load"' && return 0
    sleep 0.2
  done
  return 1
}

stop_group() { kill -TERM -- "-$1" 2>/dev/null; for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done; kill -KILL -- "-$1" 2>/dev/null; wait "$1" 2>/dev/null || true; }

# label kind(bare|borne) binary round → a line in runs.tsv
run_one() {
  local label="$1" kind="$2" bin="$3" round="$4" pid log="$WORK/logs/$1-$4.log" state="$WORK/state-$1"
  curl -s -XPOST "$CONTROL/reset" >/dev/null
  rm -rf "$state"
  if [ "$kind" = bare ]; then
    WEBKIT_DISABLE_COMPOSITING_MODE="$COMP" setsid /usr/bin/python3 "$HERE/heavy-page/bare-view.py" "$state" "$PAGE_URL" >"$log" 2>&1 &
    pid=$!
  else
    WEBKIT_DISABLE_COMPOSITING_MODE="$COMP" BORNE_LOG=info setsid "$bin" --windowed --config "$WORK/config" --state "$state" >"$log" 2>&1 &
    pid=$!
    local i
    for ((i = 0; i < 150; i++)); do grep -q 'internal page shown page="/index.html"' "$log" && break; sleep 0.2; done
    sleep 0.5
    xdotool mousemove "$TILE_X" "$TILE_Y" click 1
  fi
  local ok=1
  wait_report 60 || ok=0
  sleep 0.3
  [ "$ok" = 1 ] || import -window root "$WORK/shots/$label-$round-failed.png" 2>/dev/null || true
  stop_group "$pid"
  curl -s "$CONTROL/stats" | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
f = s["fetches"]
r = s["reports"][0] if s["reports"] else {}
twice = sum(1 for v in f.values() if v > 1)
print("\t".join(str(x) for x in [sys.argv[1], sys.argv[2], round(r.get("load", 0)) if r else "failed",
      round(r.get("dcl", 0)) if r else "-", s["requests"], len(f), twice, max(f.values() or [0]), s["conns"], r.get("scripts", "-")]))
' "$label" "$round" >>"$WORK/runs.tsv"
  say "$(tail -1 "$WORK/runs.tsv" | awk -F'\t' '{ printf "%s run %s: load %s ms, %s requests for %s resources, %s fetched more than once, %s TLS connections", $1, $2, $3, $5, $6, $7, $9 }')"
}

CANDS=("bare=bare")
for b in $BORNES; do
  bin="${b#*=}"
  [ -x "$bin" ] || die "kiosk binary not found: $bin (cargo build -p borne)"
  CANDS+=("${b%%=*}=$bin")
done
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
STARTED_AT="$(date -u '+%Y-%m-%d %H:%M UTC')"
: >"$WORK/runs.tsv"
say "candidates: ${CANDS[*]}; 1 warm-up + $RUNS runs each, interleaved; ${DELAY} ms per request"
for round in $(seq 0 "$RUNS"); do
  for c in "${CANDS[@]}"; do
    label="${c%%=*}" bin="${c#*=}"
    if [ "$bin" = bare ]; then run_one bare bare - "$round"; else run_one "$label" borne "$bin" "$round"; fi
  done
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- report -------------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit } if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -F'\t' -v c="$1" -v k="$2" '$1 == c && $2 >= 1 && $k ~ /^[0-9.]+$/ { print $k }' "$WORK/runs.tsv"; }
range() { col "$1" "$2" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%s–%s", lo, hi }'; }
CPU="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
# shellcheck disable=SC1091
OS="$(. /etc/os-release && echo "$PRETTY_NAME")"
WEBKIT_VER="$(dpkg-query -W -f '${Version}' libwebkit2gtk-4.1-0 2>/dev/null || echo '?')"
REV="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
bare_med="$(col bare 3 | median)"
{
  echo "# Heavy page: kiosk vs bare WebKitGTK view"
  echo
  echo "Generated by \`tests/bench/heavy-page.sh\` (method: tests/bench/README.md)."
  echo
  echo "- Date: $STARTED_AT; git $REV"
  echo "- Machine: $CPU, $(nproc) cores, $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM; $OS; Linux $(uname -r); WebKitGTK $WEBKIT_VER"
  echo "- Load average (1/5/15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER (other jobs on the machine disturb the numbers)"
  echo "- Page: $PAGE_URL, 150 subresources (40 scripts, 30 stylesheets, 70 images, 10 fonts) over 4 host names on 2 addresses, HTTP/1.1 keep-alive, TLS, every subresource \`Cache-Control: public, max-age=3600\`, ${DELAY} ms server delay per request"
  echo "- WEBKIT_DISABLE_COMPOSITING_MODE=$COMP for every candidate; $RUNS measured runs each after 1 warm-up, interleaved, fresh state every run"
  echo "- Kiosks: $(for b in $BORNES; do printf '%s = `%s` (built %s); ' "${b%%=*}" "${b#*=}" "$(date -u -r "${b#*=}" '+%Y-%m-%d %H:%M UTC')"; done)"
  echo
  echo "| Candidate | Load ms, median (min–max) | DOMContentLoaded ms | Requests | Resources fetched more than once | Most fetches of one resource | TLS connections | Ratio to bare | Goal ≤ 1.15 and each resource once |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for c in "${CANDS[@]}"; do
    label="${c%%=*}"
    m="$(col "$label" 3 | median)"
    ratio="$(awk -v a="$m" -v b="$bare_med" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "nan"; else printf "%.2f", a / b }')"
    twice="$(col "$label" 7 | median)"
    most="$(col "$label" 8 | sort -g | tail -1)"
    verdict="—"
    if [ "$label" != bare ]; then
      verdict="$(awk -v r="$ratio" -v t="$twice" 'BEGIN { if (r == "nan") print "n/a"; else if (r <= 1.15 && t == 0) print "met"; else print "NOT met" }')"
    fi
    printf '| %s | %s (%s) | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$m" "$(range "$label" 3)" "$(col "$label" 4 | median)" \
      "$(col "$label" 5 | median)" "$twice" "$most" "$(col "$label" 9 | median)" "$ratio" "$verdict"
  done
  failed="$(awk -F'\t' '$3 == "failed"' "$WORK/runs.tsv" | wc -l)"
  [ "$failed" = 0 ] || { echo; echo "**$failed runs failed** (no report from the page within 60 s; screenshots in $WORK/shots)."; }
  echo
  echo "<details><summary>Every run</summary>"
  echo
  echo "| Candidate | Run | Load ms | DOMContentLoaded ms | Requests | Distinct resources | Fetched more than once | Most fetches | TLS connections | Scripts run |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' '{ printf "| %s | %s |", $1, ($2 == 0 ? "warm-up" : $2); for (i = 3; i <= NF; i++) printf " %s |", $i; print "" }' "$WORK/runs.tsv"
  echo
  echo "</details>"
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo
cat "$OUT"
say "written to ${OUT#"$REPO"/}; logs in $WORK"
