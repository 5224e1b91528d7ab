#!/usr/bin/env bash
# Benchmark: the borne kiosk against Firefox ESR in kiosk mode and a bare WebKitGTK view
# (MiniBrowser), side by side, on the same portal page. Not a test: it prints numbers and the goals
# next to them, and writes them to tests/bench/results/latest.md. See tests/bench/README.md.
#
#   tests/bench/kiosk-vs-firefox.sh            everything (RUNS=3 measured runs + 1 warm-up run)
#   RUNS=5 tests/bench/kiosk-vs-firefox.sh
#
# Measured, per candidate, every run on a fresh state/profile:
#   start  launch → first screen frame equal to the final settled frame (X root window grabbed in a
#          loop with xwd for CAPTURE_SECS after launch, each frame hashed by grab-frames.py; same
#          method for every candidate);
#   PSS    sum of Pss: (/proc/<pid>/smaps_rollup) over the launched process and all its descendants
#          (and anything else left in its session), PSS_DELAY s after "start" (sampled every 0.5 s).
# Borne only: "Terminer ma session" → clean portal, by keyboard (F6, Shift+Tab to the button, Enter;
#   Shift+Tab to "Oui, terminer", Enter), 1 warm-up + RUNS times in one kiosk: the kiosk's own log
#   (`session ended` → `internal page shown page="/index.html"`), the same end point from this
#   script's clock after the last Enter, and whether the screen then equals the fresh portal.
#
# Environment:
#   RUNS=3                 measured runs per candidate (one extra warm-up run first, not counted)
#   CANDIDATES="borne borne-alt firefox webkit"
#                          borne      target/release/borne, environment as inherited (the kiosk picks
#                                     WEBKIT_DISABLE_COMPOSITING_MODE when it is unset)
#                          borne-alt  the same with the other WEBKIT_DISABLE_COMPOSITING_MODE (0 ↔ 1)
#                          firefox    firefox-esr --kiosk, fresh profile, the portal copy over local HTTP
#                          webkit     MiniBrowser --full-screen (bare WebKitGTK), the same copy, with the
#                                     kiosk's WEBKIT_DISABLE_COMPOSITING_MODE
#                          webkit-alt MiniBrowser with the other value
#   BENCH_PARTS="start terminer"   what to run
#   BENCH_BORNE, BENCH_BORNECTL    binaries (default target/release/{borne,bornectl})
#   BENCH_BUILD=auto|1|0   cargo build --release -p borne -p bornectl: when missing (auto), always, never
#   BENCH_DISPLAY=:95      X display of our own Xvfb (refused if already in use)
#   BENCH_SCREEN=1366x768x24   Xvfb screen
#   BENCH_WM=openbox|none  window manager on that display (Firefox needs one for --kiosk full screen)
#   CAPTURE_SECS=12        frame capture after each launch
#   PSS_DELAY=5            PSS taken this long after the portal is painted
#   BENCH_MASK_RIGHT=24    pixels at the right edge left out of the frame hashes (overlay scrollbars)
#   BENCH_QUIET_WAIT=0     before each launch, wait up to this many seconds for other processes
#                          mapping GTK 3, WebKitGTK or libxul to go (they lower the candidates' PSS)
#   BENCH_WORK=/tmp/borne-bench    work dir (logs, screenshots of every candidate; wiped at start)
#   BENCH_OUT=tests/bench/results/latest.md
set -euo pipefail
export LC_ALL=C

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"

RUNS="${RUNS:-3}"
CANDIDATES="${CANDIDATES:-borne borne-alt firefox webkit}"
PARTS="${BENCH_PARTS:-start terminer}"
BORNE="${BENCH_BORNE:-$REPO/target/release/borne}"
BORNECTL="${BENCH_BORNECTL:-$REPO/target/release/bornectl}"
BUILD="${BENCH_BUILD:-auto}"
DISP="${BENCH_DISPLAY:-:95}"
SCREEN="${BENCH_SCREEN:-1366x768x24}"
WM="${BENCH_WM:-openbox}"
CAPTURE_SECS="${CAPTURE_SECS:-12}"
PSS_DELAY="${PSS_DELAY:-5}"
QUIET_WAIT="${BENCH_QUIET_WAIT:-0}"
WORK="${BENCH_WORK:-/tmp/borne-bench}"
OUT="${BENCH_OUT:-$HERE/results/latest.md}"
MINIBROWSER="${BENCH_MINIBROWSER:-/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser}"
FIREFOX="${BENCH_FIREFOX:-firefox-esr}"
# WEBKIT_DISABLE_COMPOSITING_MODE as inherited ("unset" when unset). The kiosk may choose its own
# value when it is unset: what its web processes really got is read from their environment
# (EFFECTIVE_COMP, "" until a borne run has shown it). The webkit rows use the same value as the
# kiosk, the -alt rows the other one (WebKit reads anything but "0" as "disabled").
if [ -n "${WEBKIT_DISABLE_COMPOSITING_MODE+x}" ]; then COMP_INHERITED="$WEBKIT_DISABLE_COMPOSITING_MODE"; else COMP_INHERITED="unset"; fi
EFFECTIVE_COMP=""

[[ "$RUNS" =~ ^[1-9][0-9]?$ ]] || { echo "RUNS must be 1..99" >&2; exit 2; }
[[ "$QUIET_WAIT" =~ ^[0-9]+$ ]] || { echo "BENCH_QUIET_WAIT must be a number of seconds" >&2; exit 2; }

say() { printf '== bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }   # microseconds since the epoch, no fork

# --- processes we started: cleaned up on every exit ---------------------------------------------
SESSIONS=()     # candidates, each started with setsid: its pid is its session id
HELPERS=()      # Xvfb, window manager, HTTP server, capture loops, samplers

alive_in_session() { ps -e -o sid=,stat=,pid= | awk -v s="$1" '$1 == s && $2 !~ /^Z/ { print $3 }'; }

stop_session() { # sid: TERM everything in the session, wait ≤ 5 s, then KILL what is left
  local sid="$1" left
  kill -TERM -- "-$sid" 2>/dev/null || true
  left="$(alive_in_session "$sid")"
  # shellcheck disable=SC2086 # a list of pids
  if [ -n "$left" ]; then kill -TERM $left 2>/dev/null || true; fi
  for _ in $(seq 50); do
    [ -z "$(alive_in_session "$sid")" ] && break
    sleep 0.1
  done
  left="$(alive_in_session "$sid")"
  if [ -n "$left" ]; then
    # shellcheck disable=SC2086 # a list of pids
    kill -KILL $left 2>/dev/null || true
    sleep 0.3
  fi
  wait "$sid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  for sid in "${SESSIONS[@]}"; do stop_session "$sid"; done
  for ((i = ${#HELPERS[@]} - 1; i >= 0; i--)); do kill -TERM "${HELPERS[i]}" 2>/dev/null; done
  for pid in "${HELPERS[@]}"; do
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_helper() { # waits for a helper that ended and removes it from HELPERS (its pid may be reused)
  local pid="$1" keep=() h
  wait "$pid" 2>/dev/null || true
  for h in "${HELPERS[@]}"; do [ "$h" = "$pid" ] || keep+=("$h"); done
  HELPERS=("${keep[@]}")
}

forget_session() { # removes a stopped session from SESSIONS
  local sid="$1" keep=() s
  for s in "${SESSIONS[@]}"; do [ "$s" = "$sid" ] || keep+=("$s"); done
  SESSIONS=("${keep[@]}")
}

# --- tools --------------------------------------------------------------------------------------
need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xdpyinfo >/dev/null || need+=(x11-utils)
command -v xdotool >/dev/null || need+=(xdotool)
command -v xwd >/dev/null || need+=(x11-apps)
command -v import >/dev/null || need+=(imagemagick)
command -v "$FIREFOX" >/dev/null || [ "$FIREFOX" != firefox-esr ] || need+=(firefox-esr)
[ "$WM" = none ] || command -v "$WM" >/dev/null || need+=("$WM")
if ((${#need[@]})); then
  say "installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v python3 >/dev/null || die "python3 is needed (frame grabber, local HTTP server for the portal copy)"
PY="$(command -v /usr/bin/python3 || command -v python3)"
MASK_RIGHT="${BENCH_MASK_RIGHT:-24}"
GRAB_METHOD="xwd -root, md5 of the pixels without the xwd header and without the rightmost ${MASK_RIGHT} px of each row (overlay scrollbars fade there)"
grab() { "$PY" "$HERE/grab-frames.py" 0 - "$MASK_RIGHT"; }

want() { [[ " $CANDIDATES " == *" $1 "* ]]; }
part() { [[ " $PARTS " == *" $1 "* ]]; }
if want webkit || want webkit-alt; then
  [ -x "$MINIBROWSER" ] || { say "no MiniBrowser at $MINIBROWSER: skipping the bare WebKitGTK view"; CANDIDATES="${CANDIDATES//webkit-alt/}"; CANDIDATES="${CANDIDATES//webkit/}"; }
fi
if want firefox; then
  command -v "$FIREFOX" >/dev/null || { say "no $FIREFOX: skipping Firefox"; CANDIDATES="${CANDIDATES//firefox/}"; }
fi

# --- the kiosk ----------------------------------------------------------------------------------
if [ "$BUILD" = 1 ] || { [ "$BUILD" = auto ] && { [ ! -x "$BORNE" ] || [ ! -x "$BORNECTL" ]; }; }; then
  say "building: cargo build --release -p borne -p bornectl (about 8 min on 2 cores)"
  cargo build --release -p borne -p bornectl
fi
[ -x "$BORNE" ] || die "no kiosk binary at $BORNE"
[ -x "$BORNECTL" ] || die "no bornectl at $BORNECTL"

# --- work dir, display, window manager ---------------------------------------------------------
case "$WORK" in /tmp/*) ;; *) die "BENCH_WORK must be under /tmp (it is wiped)";; esac
rm -rf "$WORK"
mkdir -p "$WORK/shots" "$WORK/logs" "$(dirname "$OUT")"

export DISPLAY="$DISP"
unset WAYLAND_DISPLAY
dnum="${DISP#:}"; dnum="${dnum%%.*}"
if [ -e "/tmp/.X${dnum}-lock" ] || [ -e "/tmp/.X11-unix/X${dnum}" ] || xdpyinfo >/dev/null 2>&1; then
  die "display $DISP is already in use (another X server?); set BENCH_DISPLAY"
fi
say "starting Xvfb $DISP ($SCREEN)"
Xvfb "$DISP" -screen 0 "$SCREEN" -nolisten tcp -noreset >"$WORK/logs/xvfb.log" 2>&1 &
HELPERS+=($!)
for _ in $(seq 100); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
xdpyinfo >/dev/null 2>&1 || die "Xvfb did not start (see $WORK/logs/xvfb.log)"
if [ "$WM" != none ]; then
  "$WM" >"$WORK/logs/wm.log" 2>&1 &
  HELPERS+=($!)
  sleep 1
fi
SCREEN_WH="$(xdpyinfo | awk '/dimensions:/ && !done { print $2; done = 1 }')"
SCREEN_W="${SCREEN_WH%x*}"
SCREEN_H="${SCREEN_WH#*x}"
EMPTY_HASH="$(grab)"

# --- the same portal, as a static page (for Firefox and MiniBrowser) ---------------------------
# The kiosk's own ui/ plus a stub for window.__TAURI__ that answers invoke('portal') with what
# `bornectl portal` prints (what the kiosk gives its page). Served over HTTP on 127.0.0.1: from
# file:// both Firefox and WebKit refuse the page's fetch('i18n/fr.json') (the welcome line and the
# help texts are then missing), so file:// would not show the same page.
SITE="$WORK/site"
cp -r "$REPO/ui" "$SITE"
portal_json="$("$BORNECTL" portal --config "$REPO/config" --state "$WORK/bornectl-state")"
{
  echo '/* Added by tests/bench/kiosk-vs-firefox.sh: stands in for the kiosk shell. */'
  printf 'const BENCH_PORTAL = %s;\n' "$portal_json"
  echo 'window.__TAURI__ = {'
  echo '  core: { invoke: async (cmd, args) => (cmd === "portal" ? BENCH_PORTAL : null) },'
  echo '  event: { listen: async () => () => {} },'
  echo '};'
} >"$SITE/js/bench-stub.js"
sed -i 's#<script src="js/shell.js" defer></script>#<script src="js/bench-stub.js"></script>\n  &#' "$SITE/index.html"
grep -q 'bench-stub.js' "$SITE/index.html" || die "could not add the stub to the portal copy (ui/index.html changed?)"

"$PY" -u -m http.server --bind 127.0.0.1 --directory "$SITE" 0 >"$WORK/logs/http.log" 2>&1 &
HELPERS+=($!)
PORT=""
for _ in $(seq 100); do
  PORT="$(awk '/Serving HTTP on 127\.0\.0\.1 port / && !done { for (i = 1; i < NF; i++) if ($i == "port") print $(i + 1); done = 1 }' "$WORK/logs/http.log")"
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || die "the local HTTP server did not start (see $WORK/logs/http.log)"
PORTAL_URL="http://127.0.0.1:$PORT/index.html"
curl -sf "http://127.0.0.1:$PORT/i18n/fr.json" -o /dev/null || die "the local HTTP server does not serve i18n/fr.json"

# --- launching a candidate ---------------------------------------------------------------------
LAUNCH_SID=""
LAUNCH_LOG=""
launch() { # candidate run-tag: starts it in its own session on a fresh state; sets LAUNCH_SID/LAUNCH_LOG
  local cand="$1" tag="$2" d="$WORK/runs/$1-$2"
  mkdir -p "$d"
  LAUNCH_LOG="$d/stderr.log"
  case "$cand" in
    borne | borne-alt)
      mkdir -p "$d/state"
      with_comp "$(comp_to_set "$cand")" env BORNE_LOG=info setsid "$BORNE" --config "$REPO/config" --state "$d/state" >"$LAUNCH_LOG" 2>&1 &
      ;;
    firefox)
      mkdir -p "$d/profile"
      cp "$HERE/firefox-user.js" "$d/profile/user.js"
      setsid "$FIREFOX" --kiosk --no-remote --profile "$d/profile" "$PORTAL_URL" >"$LAUNCH_LOG" 2>&1 &
      ;;
    webkit | webkit-alt)
      # MiniBrowser keeps its website data and cache under the user's XDG dirs: start it fresh too.
      rm -rf "${XDG_DATA_HOME:-$HOME/.local/share}/webkitgtk-4.1/MiniBrowser" "${XDG_CACHE_HOME:-$HOME/.cache}/webkitgtk-4.1/MiniBrowser"
      with_comp "$(comp_to_set "$cand")" setsid "$MINIBROWSER" --full-screen "$PORTAL_URL" >"$LAUNCH_LOG" 2>&1 &
      ;;
    *) die "unknown candidate $cand" ;;
  esac
  LAUNCH_SID=$!
  SESSIONS+=("$LAUNCH_SID")
}

flip_comp() { case "$1" in unset | 0) echo 1 ;; *) echo 0 ;; esac; }
kiosk_comp() { # the kiosk's own value: seen in its web processes, else the inherited one
  if [ -n "$EFFECTIVE_COMP" ]; then echo "$EFFECTIVE_COMP"; else echo "$COMP_INHERITED"; fi
}
comp_to_set() { # candidate → "inherit", "unset" or the value to put in its environment
  case "$1" in
    borne) echo inherit ;;
    webkit) kiosk_comp ;;
    borne-alt | webkit-alt) flip_comp "$(kiosk_comp)" ;;
    *) echo inherit ;;
  esac
}
with_comp() { # value command…: execs the command with WEBKIT_DISABLE_COMPOSITING_MODE set as asked.
  # Only ever run in the background (`with_comp … &`): it replaces the subshell, so $! is the
  # command's pid (and, through setsid, its session id).
  local v="$1"
  shift
  case "$v" in
    inherit) exec "$@" ;;
    unset) exec env -u WEBKIT_DISABLE_COMPOSITING_MODE "$@" ;;
    *) exec env WEBKIT_DISABLE_COMPOSITING_MODE="$v" "$@" ;;
  esac
}
comp_in_tree() { # sid → WEBKIT_DISABLE_COMPOSITING_MODE in the environment of its first web process
  local p v
  for p in $(tree_pids "$1"); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = WebKitWebProces ] || continue
    v="$(tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | awk -F= '$1 == "WEBKIT_DISABLE_COMPOSITING_MODE" { v = substr($0, index($0, "=") + 1); found = 1 } END { print (found ? v : "unset") }')"
    echo "$v"
    return
  done
  echo "n/a"
}
comp_of() { # candidate → the value its web processes ran with in the measured runs ("n/a": none)
  awk -F'\t' -v c="$1" '$1 == c && $2 >= 1 && $13 != "" { n[$13]++ } END { best = "n/a"; for (k in n) if (best == "n/a" || n[k] > n[best]) best = k; print best }' "$WORK/start-runs.tsv"
}

tree_pids() { # sid: the process and its descendants, plus anything else in its session (not zombies)
  ps -e -o pid=,ppid=,sid=,stat= | awk -v r="$1" '
    { pid[NR] = $1; ppid[NR] = $2; sid[NR] = $3; st[NR] = $4; if ($1 == r || $3 == r) inside[$1] = 1 }
    END {
      do {
        changed = 0
        for (i = 1; i <= NR; i++) if (!(pid[i] in inside) && (ppid[i] in inside)) { inside[pid[i]] = 1; changed = 1 }
      } while (changed)
      for (i = 1; i <= NR; i++) if ((pid[i] in inside) && st[i] !~ /^Z/) print pid[i]
    }'
}

# Processes outside `pids` (space-separated) that map WebKitGTK, Firefox's libxul or GTK 3: they
# share library pages with the candidates, which lowers the candidates' PSS (shared pages are split).
foreign_count() {
  local pids=" $1 " f p n=0
  for f in /proc/[0-9]*/maps; do
    p="${f#/proc/}"; p="${p%/maps}"
    [[ "$pids" == *" $p "* ]] && continue
    grep -qsF -e libwebkit2gtk-4.1.so -e /libxul.so -e libgtk-3.so "$f" && n=$((n + 1))
  done
  echo "$n"
}

pss_sample() { # sid → "pss_kB uss_kB nprocs foreign comm:pss_kB,comm:pss_kB,…"
  local pids
  pids="$(tree_pids "$1" | tr '\n' ' ')"
  [ -n "${pids// /}" ] || { echo "0 0 0 0 -"; return; }
  # USS = Private_Clean + Private_Dirty (+ Private_Hugetlb): pages no other process maps.
  awk -v pids="$pids" -v foreign="$(foreign_count "$pids")" 'BEGIN {
      n = split(pids, p, " "); total = 0; uss = 0; count = 0; list = ""
      for (i = 1; i <= n; i++) {
        kb = ""; priv = 0; comm = "?"
        f = "/proc/" p[i] "/smaps_rollup"
        while ((getline line < f) > 0) {
          split(line, a, " ")
          if (a[1] == "Pss:") kb = a[2]
          else if (a[1] == "Private_Clean:" || a[1] == "Private_Dirty:" || a[1] == "Private_Hugetlb:") priv += a[2]
        }
        close(f)
        if (kb == "") continue
        c = "/proc/" p[i] "/comm"
        if ((getline comm < c) > 0) gsub(/[ ,:]/, "_", comm)
        close(c)
        total += kb; uss += priv; count++; list = list (list == "" ? "" : ",") comm ":" kb
      }
      printf "%d %d %d %d %s\n", total, uss, count, foreign, (list == "" ? "-" : list)
    }'
}

capture_loop() { # end_us out: grabs the root window until end_us; one "timestamp_us md5" line per frame
  : >"$2"
  "$PY" "$HERE/grab-frames.py" "$1" "$2" "$MASK_RIGHT" || true
}

sampler_loop() { # sid t0_us end_us out: PSS of the tree every 0.5 s
  local sid="$1" t0="$2" end="$3" out="$4" t
  : >"$out"
  while :; do
    t=$(now_us)
    ((t < end)) || break
    printf '%s %s\n' "$(((t - t0) / 1000))" "$(pss_sample "$sid")" >>"$out"
    sleep 0.5
  done
}

# painted: from a frames file and t0 → "painted_ms settled_ms last_hash frames median_interval_ms"
#   painted_ms = first frame whose hash equals the last frame's hash (the brief's definition);
#   settled_ms = first frame of the final run of identical frames (differs if the screen flickered).
analyse_frames() {
  awk -v t0="$2" '
    $2 != "error" { N++; t[N] = $1; h[N] = $2 }
    END {
      if (N == 0) { print "nan nan none 0 nan"; exit }
      last = h[N]; first = 0
      for (i = 1; i <= N; i++) if (h[i] == last) { first = i; break }
      s = N; while (s > 1 && h[s - 1] == last) s--
      n = 0
      for (i = 2; i <= N; i++) {   # insertion sort of the frame intervals (mawk has no asort)
        v = t[i] - t[i - 1]; j = ++n
        while (j > 1 && d[j - 1] > v) { d[j] = d[j - 1]; j-- }
        d[j] = v
      }
      med = n ? d[int((n + 1) / 2)] / 1000 : 0
      printf "%.0f %.0f %s %d %.0f\n", (t[first] - t0) / 1000, (t[s] - t0) / 1000, last, N, med
    }' "$1"
}

log_epoch_us() { # a tracing timestamp (2026-01-02T03:04:05.123456Z) → epoch µs
  local s
  s="$(date -u -d "$1" +%s.%6N)"
  echo "${s/./}"
}
strip_ansi() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }

# --- part 1: start and PSS ---------------------------------------------------------------------
cpu_busy() { # "busy_ticks total_ticks" from /proc/stat (all CPUs)
  awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}
proc_cpu() { # pids… → their ticks (user + system, with their reaped children), summed
  local p files=()
  for p in "$@"; do [ -r "/proc/$p/stat" ] && files+=("/proc/$p/stat"); done
  ((${#files[@]})) || { echo 0; return; }
  # The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
  awk '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { print t + 0 }' "${files[@]}" 2>/dev/null || echo 0
}
# This script with the children it reaped (grabber, sampler, tools), and its helpers still running
# (Xvfb, which does the grabbing work, the window manager, the HTTP server).
own_cpu() { proc_cpu "$$" "${HELPERS[@]}"; }

LAST_FOREIGN=0
TERMINER_COMP="n/a"
run_start() { # candidate round: one run; with BENCH_QUIET_WAIT, redone (≤ 2 more times) when other
  # WebKitGTK / Firefox processes were running when its PSS was taken
  local attempt
  for attempt in 1 2 3; do
    run_start_once "$@"
    if [ "$QUIET_WAIT" -gt 0 ] && [ "$LAST_FOREIGN" -gt 0 ] && [ "$attempt" -lt 3 ]; then
      say "$1: $LAST_FOREIGN other GTK/WebKit/Firefox processes were running: run again"
      sed -i '$d' "$WORK/start-runs.tsv"
      continue
    fi
    break
  done
}

run_start_once() { # candidate round
  local cand="$1" round="$2" tag d t0 end frames samples res painted settled last nframes interval target line
  tag="r$round"
  d="$WORK/runs/$cand-$tag"
  mkdir -p "$d"
  frames="$d/frames.txt"
  samples="$d/pss.txt"
  # Optionally wait for the other WebKitGTK / Firefox processes on the machine to go (see PSS).
  if [ "$QUIET_WAIT" -gt 0 ]; then
    local waited=0
    while [ "$(foreign_count "")" -gt 0 ] && [ "$waited" -lt "$QUIET_WAIT" ]; do sleep 1; waited=$((waited + 1)); done
  fi
  # Blank screen before launch (previous candidate gone).
  for _ in $(seq 50); do [ "$(grab)" = "$EMPTY_HASH" ] && break; sleep 0.1; done
  local stat0 own0
  stat0="$(cpu_busy)"
  own0="$(own_cpu)"
  t0=$(now_us)
  end=$((t0 + CAPTURE_SECS * 1000000))
  capture_loop "$end" "$frames" &
  local cap=$!
  HELPERS+=("$cap")
  launch "$cand" "$tag"
  local sid="$LAUNCH_SID"
  sampler_loop "$sid" "$t0" "$((end + (PSS_DELAY + 1) * 1000000))" "$samples" &
  local smp=$!
  HELPERS+=("$smp")
  forget_helper "$cap"
  res="$(analyse_frames "$frames" "$t0")"
  read -r painted settled last nframes interval <<<"$res"
  import -window root "$WORK/shots/$cand-$tag.png" 2>/dev/null || true
  # PSS: first sample at least PSS_DELAY after painted (the sampler goes on up to PSS_DELAY+1 s
  # after the capture, so a late "painted" still gets one).
  target=$((painted + PSS_DELAY * 1000))
  for _ in $(seq 100); do
    line="$(awk -v t="$target" '$1 >= t { print; exit }' "$samples")"
    [ -n "$line" ] && break
    kill -0 "$smp" 2>/dev/null || break
    sleep 0.2
  done
  kill "$smp" 2>/dev/null || true
  forget_helper "$smp"
  local note=""
  if [ "$last" = "$EMPTY_HASH" ]; then note="nothing on screen after ${CAPTURE_SECS} s"; fi
  if [ "$settled" != "$painted" ]; then note="${note:+$note; }screen changed after the first final frame (settled at ${settled} ms)"; fi
  if ((settled > (CAPTURE_SECS * 1000 - 1500))); then note="${note:+$note; }still changing in the last 1.5 s of the capture"; fi
  if [ -z "$line" ]; then note="${note:+$note; }no PSS sample"; line="nan 0 0 0 0 -"; fi
  local pss_kb uss_kb nprocs foreign breakdown ms
  read -r ms pss_kb uss_kb nprocs foreign breakdown <<<"$line"
  LAST_FOREIGN="$foreign"
  local comp
  comp="$(comp_in_tree "$sid")"
  if [ "$cand" = borne ] && [ "$comp" != n/a ]; then EFFECTIVE_COMP="$comp"; fi
  if [[ "$cand" == borne* ]]; then
    local shown
    shown="$(strip_ansi "$LAUNCH_LOG" | awk '/internal page shown page="\/index.html"/ && !done { print $1; done = 1 }')"
    if [ -n "$shown" ]; then
      note="${note:+$note; }log: portal loaded at $((($(log_epoch_us "$shown") - t0) / 1000)) ms"
    else
      note="${note:+$note; }log: no 'internal page shown'"
    fi
  fi
  # CPU used by the rest of the machine during the run, in cores: all busy time minus ours (the
  # candidate's processes, this script and its helpers). An indication: processes of the candidate
  # that already ended count as "others".
  local others tree_ticks
  # shellcheck disable=SC2046 # a list of pids
  tree_ticks="$(proc_cpu $(tree_pids "$sid"))"
  others="$(awk -v b0="${stat0% *}" -v t0="${stat0#* }" -v o0="$own0" -v b1="$(cpu_busy)" -v o1="$(own_cpu)" -v c="$tree_ticks" -v n="$(nproc)" \
    'BEGIN { split(b1, x, " "); busy = x[1] - b0; total = x[2] - t0; own = o1 - o0 + c; if (total <= 0) { print "?"; exit }
             v = (busy - own) / total * n; if (v < 0) v = 0; printf "%.2f", v }')"
  stop_session "$sid"
  forget_session "$sid"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cand" "$round" "$painted" "$pss_kb" "$nprocs" "$nframes" "$interval" "$breakdown" "$note" "$uss_kb" "$foreign" "$others" "$comp" >>"$WORK/start-runs.tsv"
  say "$(printf '%-10s %s  start %5s ms  PSS %6.1f MiB  USS %6.1f MiB (%s processes, at %s ms; %s other GTK/WebKit/Firefox processes; others used %s cores)  %s frames ~%s ms apart  %s' \
    "$cand" "$([ "$round" = 0 ] && echo "warm-up" || echo "run $round  ")" "$painted" "$(awk -v k="$pss_kb" 'BEGIN { print k / 1024 }')" \
    "$(awk -v k="$uss_kb" 'BEGIN { print k / 1024 }')" "$nprocs" "$ms" "$foreign" "$others" "$nframes" "$interval" "$note")"
}

# --- part 2: "Terminer ma session" → clean portal (borne) --------------------------------------
key() { xdotool key --clearmodifiers "$@"; sleep 0.25; }
pixel() { # x y → "r,g,b" of the root window
  import -window root -crop "1x1+$1+$2" -depth 8 txt:- 2>/dev/null | awk 'NR == 2 { gsub(/[()]/, "", $2); print $2 }'
}
wait_log() { # file pattern after-line-count tries(0.1 s) → the first matching line after that many lines
  local f="$1" pat="$2" after="$3" tries="$4" l
  for _ in $(seq "$tries"); do
    l="$(strip_ansi "$f" | awk -v n="$after" -v p="$pat" 'NR > n && index($0, p) && !done { print; done = 1 }')"
    [ -n "$l" ] && { echo "$l"; return 0; }
    sleep 0.1
  done
  return 1
}
log_lines() { strip_ansi "$1" | wc -l; }

# "yes" when "Terminer ma session" (the rightmost red button of the toolbar, crossing row 38 = half
# the toolbar's 76 px) has its focus ring.
terminer_ring() { "$PY" "$HERE/grab-frames.py" ring 38; }

# Puts the keyboard focus on "Terminer ma session". F6 moves the focus between the content and the
# toolbar, and Shift+Tab from an unfocused toolbar lands on its last button, "Terminer". Which view
# F6 starts from is not known (at start neither view may have the focus, so the first F6 can go to
# the content), so look for the button's focus ring after each step; if another toolbar button has
# the focus, Tab forward to the last one.
focus_terminer() {
  local try _tab
  for try in 1 2 3; do
    key F6
    key shift+Tab
    [ "$(terminer_ring)" = yes ] && return 0
    for _tab in 1 2 3 4 5; do
      key Tab
      [ "$(terminer_ring)" = yes ] && return 0
    done
    echo "try $try: no focus ring on Terminer after F6, Shift+Tab and 5 Tabs" >>"$WORK/logs/focus.log"
  done
  return 1
}

run_terminer() {
  local reps="$RUNS" d sid log
  launch borne terminer
  sid="$LAUNCH_SID"
  log="$LAUNCH_LOG"
  d="$WORK/runs/borne-terminer"
  mkdir -p "$d"
  if ! wait_log "$log" 'internal page shown page="/index.html"' 0 300 >/dev/null; then
    printf 'failed\tthe kiosk did not show the portal within 30 s\n' >>"$WORK/terminer.tsv"
    stop_session "$sid"; forget_session "$sid"; return
  fi
  # The pointer rests on an empty spot of the portal, right of the tiles (clear of the scrollbar);
  # that spot is watched to see the dialog cover the window.
  TERMINER_COMP="$(comp_in_tree "$sid")"
  local spot_x=$((SCREEN_W - 60)) spot_y=$((SCREEN_H / 2))
  xdotool mousemove "$spot_x" "$spot_y"
  sleep 2
  local portal_px portal_hash rep
  portal_px="$(pixel "$spot_x" "$spot_y")"
  portal_hash="$(grab)"
  import -window root "$WORK/shots/terminer-portal.png"
  for rep in $(seq 0 "$reps"); do
    if ! focus_terminer; then
      import -window root "$WORK/shots/terminer-$rep-1-focus.png"
      printf 'failed\trep %s: could not put the focus on "Terminer ma session" (screenshot terminer-%s-1-focus.png)\n' "$rep" "$rep" >>"$WORK/terminer.tsv"
      break
    fi
    import -window root "$WORK/shots/terminer-$rep-1-button-focused.png"
    key Return
    sleep 0.7
    import -window root "$WORK/shots/terminer-$rep-2-dialog.png"
    if [ "$(pixel "$spot_x" "$spot_y")" = "$portal_px" ]; then
      printf 'failed\trep %s: the confirmation dialog did not open (screenshots terminer-%s-*.png)\n' "$rep" "$rep" >>"$WORK/terminer.tsv"
      break
    fi
    # The dialog focuses "Non, continuer"; "Oui, terminer" comes before it.
    key shift+Tab
    import -window root "$WORK/shots/terminer-$rep-3-yes-focused.png"
    local before kt ended shown ended_us shown_us cap="" frames="$d/frames-$rep.txt"
    before="$(log_lines "$log")"
    if [ "$rep" = "$reps" ]; then
      # Last repetition: also watch the screen (the capture loop competes for the CPU, so the
      # other repetitions run without it).
      capture_loop "$(($(now_us) + 4000000))" "$frames" &
      cap=$!
      HELPERS+=("$cap")
    fi
    kt=$(now_us)
    xdotool key --clearmodifiers Return
    if ! ended="$(wait_log "$log" 'session ended' "$before" 50)"; then
      # shellcheck disable=SC2016 # backquotes are Markdown
      printf 'failed\trep %s: no `session ended` in the log 5 s after Enter on "Oui, terminer" (screenshots terminer-%s-*.png)\n' "$rep" "$rep" >>"$WORK/terminer.tsv"
      [ -n "$cap" ] && forget_helper "$cap"
      break
    fi
    if ! shown="$(wait_log "$log" 'internal page shown page="/index.html"' "$before" 100)"; then
      import -window root "$WORK/shots/terminer-$rep-4-after.png"
      local hung=""
      [ "$(ps -o stat= -p "$sid" 2>/dev/null | cut -c1)" = S ] && hung=" (kiosk main thread waiting in $(cat "/proc/$sid/wchan" 2>/dev/null))"
      # shellcheck disable=SC2016 # backquotes are Markdown
      printf 'failed\trep %s: `session ended` logged but no `internal page shown` within 10 s%s; screenshot terminer-%s-4-after.png\n' "$rep" "$hung" "$rep" >>"$WORK/terminer.tsv"
      [ -n "$cap" ] && forget_helper "$cap"
      break
    fi
    ended_us="$(log_epoch_us "$(awk '{ print $1 }' <<<"$ended")")"
    shown_us="$(log_epoch_us "$(awk '{ print $1 }' <<<"$shown")")"
    local painted="" final=""
    if [ -n "$cap" ]; then
      forget_helper "$cap"
      read -r painted _ final _ _ <<<"$(analyse_frames "$frames" "$kt")"
      # Only a final frame equal to the fresh portal's counts as "the portal painted".
      [ "$final" = "$portal_hash" ] || painted="never"
    fi
    sleep 1
    import -window root "$WORK/shots/terminer-$rep-4-after.png"
    local clean="identical to the fresh portal"
    [ "$(grab)" = "$portal_hash" ] || clean="DIFFERS from the fresh portal (screenshot terminer-$rep-4-after.png)"
    printf 'ok\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$(((shown_us - ended_us) / 1000))" "$(((shown_us - kt) / 1000))" "${painted:--}" "$clean" >>"$WORK/terminer.tsv"
    say "terminer $([ "$rep" = 0 ] && echo "warm-up" || echo "rep $rep"): log $(((shown_us - ended_us) / 1000)) ms, Enter→portal loaded $(((shown_us - kt) / 1000)) ms${painted:+, Enter→portal painted: $painted}; screen 1 s later: $clean"
    sleep 1
  done
  stop_session "$sid"
  forget_session "$sid"
}

# --- run ----------------------------------------------------------------------------------------
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
STARTED_AT="$(date -u '+%Y-%m-%d %H:%M UTC')"
: >"$WORK/start-runs.tsv"
: >"$WORK/terminer.tsv"
read -r -a CANDS <<<"$CANDIDATES"
if part start; then
  say "start + PSS: ${CANDS[*]}; 1 warm-up run + $RUNS runs each, interleaved; ${CAPTURE_SECS} s capture per run"
  for round in $(seq 0 "$RUNS"); do
    for c in "${CANDS[@]}"; do run_start "$c" "$round"; done
  done
fi
if part terminer; then
  say "Terminer → portal (borne): 1 warm-up + $RUNS repetitions in one kiosk"
  run_terminer
fi
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- report -------------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit } if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col_of() { # candidate column → measured values (rounds ≥ 1, numbers only)
  awk -F'\t' -v c="$1" -v k="$2" '$1 == c && $2 >= 1 && $k ~ /^[0-9.]+$/ { print $k }' "$WORK/start-runs.tsv"
}
med_start_ms() { col_of "$1" 3 | median; }
med_pss_kb() { col_of "$1" 4 | median; }
med_uss_kb() { col_of "$1" 10 | median; }
range() { # candidate column divisor format
  col_of "$1" "$2" | sort -g | awk -v div="$3" -v fmt="$4" 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf fmt "–" fmt, lo / div, hi / div }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0 || a == "") print "nan"; else printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { if (r == "nan") print "n/a"; else if (r <= g) print "met"; else print "NOT met" }'; }
label() {
  case "$1" in
    borne | borne-alt) echo "borne (release)" ;;
    firefox) echo "firefox-esr --kiosk" ;;
    webkit | webkit-alt) echo "bare WebKitGTK (MiniBrowser)" ;;
  esac
}
short() { # candidate → name for the ratio table
  local c
  c="$(comp_of "$1")"
  if [ "$c" = unset ]; then c="WEBKIT_DISABLE_COMPOSITING_MODE unset"; else c="WEBKIT_DISABLE_COMPOSITING_MODE=$c"; fi
  case "$1" in
    firefox) echo "firefox" ;;
    borne | borne-alt) echo "borne [$c]" ;;
    webkit | webkit-alt) echo "bare WebKitGTK [$c]" ;;
  esac
}
breakdown_of() { # candidate → PSS by process name, median over runs, "name ×n: MiB"
  awk -F'\t' -v c="$1" '$1 == c && $2 >= 1 {
      runs++; split($8, items, ",")
      for (i in items) { split(items[i], kv, ":"); key = kv[1]; sum[key] += kv[2]; cnt[key]++ }
    }
    END {
      if (!runs) exit
      for (k in sum) printf "%s ×%g: %.1f MiB\n", k, cnt[k] / runs, sum[k] / runs / 1024
    }' "$WORK/start-runs.tsv" | sort -t: -k2 -g -r | paste -sd';' | sed 's/;/; /g'
}

CPU="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
NCPU="$(nproc)"
MEM="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
# shellcheck disable=SC1091
OS="$(. /etc/os-release && echo "$PRETTY_NAME")"
KERNEL="$(uname -r)"
WEBKIT_VER="$(dpkg-query -W -f '${Version}' libwebkit2gtk-4.1-0 2>/dev/null || echo '?')"
FF_VER="$("$FIREFOX" --version 2>/dev/null | awk 'NR == 1' || echo '?')"
REV="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
DIRTY=""
[ -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null || true)" ] && DIRTY=", uncommitted changes"
BIN_DATE="$(date -u -r "$BORNE" '+%Y-%m-%d %H:%M UTC')"
HEAD_TIME="$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || echo 0)"
if [ "$(stat -c %Y "$BORNE")" -lt "$HEAD_TIME" ]; then BIN_DATE="$BIN_DATE, older than the last commit: BENCH_BUILD=1 measures HEAD"; fi

{
  echo "# borne vs Firefox vs bare WebKitGTK — portal benchmark"
  echo
  echo "Generated by \`tests/bench/kiosk-vs-firefox.sh\` (method: tests/bench/README.md)."
  echo
  echo "- Date: $STARTED_AT"
  echo "- Machine: $CPU, $NCPU cores, $MEM RAM; $OS; Linux $KERNEL"
  echo "- Display: Xvfb $DISP, ${SCREEN_WH}, window manager: $WM; frames grabbed with \`$GRAB_METHOD\`"
  echo "- Load average (1/5/15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER (other jobs on the machine disturb the numbers)"
  echo "- borne: \`${BORNE#"$REPO"/}\` (git $REV$DIRTY; binary built $BIN_DATE); WebKitGTK $WEBKIT_VER; $FF_VER"
  echo "- WEBKIT_DISABLE_COMPOSITING_MODE: inherited = $COMP_INHERITED; in the kiosk's web processes = ${EFFECTIVE_COMP:-not seen}; MiniBrowser runs with the kiosk's value, the *-alt rows with the other one (read back from each run's web process: column \"WEBKIT_DISABLE_COMPOSITING_MODE\")"
  echo "- Runs: $RUNS measured per candidate, after 1 warm-up run each (not counted; page cache not dropped), candidates interleaved; fresh state / profile every run"
  echo "- PSS taken ${PSS_DELAY} s after the portal is painted; start = launch → first frame equal to the final frame (${CAPTURE_SECS} s capture); BENCH_QUIET_WAIT=${QUIET_WAIT}"
  echo
  if part start; then
    echo "## Start and memory (medians of $RUNS runs)"
    echo
    echo "| Candidate | WEBKIT_DISABLE_COMPOSITING_MODE | PSS MiB (min–max) | USS MiB (min–max) | Start s (min–max) | Processes |"
    echo "|---|---|---|---|---|---|"
    for c in "${CANDS[@]}"; do
      p="$(med_pss_kb "$c")"; u="$(med_uss_kb "$c")"; s="$(med_start_ms "$c")"
      n="$(col_of "$c" 5 | median)"
      printf '| %s | %s | %s (%s) | %s (%s) | %s (%s) | %s |\n' "$(label "$c")" "$(comp_of "$c")" \
        "$(awk -v k="$p" 'BEGIN { if (k == "nan") print "n/a"; else printf "%.0f", k / 1024 }')" "$(range "$c" 4 1024 %.0f)" \
        "$(awk -v k="$u" 'BEGIN { if (k == "nan") print "n/a"; else printf "%.0f", k / 1024 }')" "$(range "$c" 10 1024 %.0f)" \
        "$(awk -v m="$s" 'BEGIN { if (m == "nan") print "n/a"; else printf "%.2f", m / 1000 }')" "$(range "$c" 3 1000 %.2f)" "$n"
    done
    echo
    echo "USS = the candidate's pages that no other process maps (Private_Clean + Private_Dirty)."
    busy="$(awk -F'\t' '$2 >= 1 && $11 > 0' "$WORK/start-runs.tsv" | wc -l)"
    if [ "$busy" -gt 0 ]; then
      echo
      echo "**Warning:** in $busy of the measured runs, other processes on the machine (outside the candidate) mapped GTK 3, WebKitGTK or Firefox's libxul (column \"Other\" below, up to $(awk -F'\t' '$2 >= 1 && $11 > m { m = $11 } END { print m + 0 }' "$WORK/start-runs.tsv")). They share the library pages, so the candidate's PSS and USS are then lower than on a quiet machine. Compare only runs with the same \"Other\" (BENCH_QUIET_WAIT=90 waits for, and redoes runs disturbed by, such processes)."
    fi
    echo
    echo "| Ratio | PSS | Goal | Start | Goal |"
    echo "|---|---|---|---|---|"
    pairs=()
    want borne && want firefox && pairs+=("borne firefox")
    want borne && want webkit && pairs+=("borne webkit")
    want borne-alt && want firefox && pairs+=("borne-alt firefox")
    want borne-alt && want webkit-alt && pairs+=("borne-alt webkit-alt")
    want borne-alt && want borne && pairs+=("borne-alt borne")
    for pr in "${pairs[@]}"; do
      read -r a b <<<"$pr"
      rp="$(ratio "$(med_pss_kb "$a")" "$(med_pss_kb "$b")")"
      rs="$(ratio "$(med_start_ms "$a")" "$(med_start_ms "$b")")"
      if [ "$b" = firefox ]; then
        printf '| %s / %s | %s | ≤ 0.40: %s | %s | ≤ 0.33: %s |\n' "$(short "$a")" "$(short "$b")" "$rp" "$(verdict "$rp" 0.40)" "$rs" "$(verdict "$rs" 0.3334)"
      else
        printf '| %s / %s | %s | — | %s | — |\n' "$(short "$a")" "$(short "$b")" "$rp" "$rs"
      fi
    done
    echo
    echo "PSS by process (mean over the measured runs):"
    echo
    for c in "${CANDS[@]}"; do echo "- $(short "$c"): $(breakdown_of "$c")"; done
    echo
    echo "<details><summary>Every run</summary>"
    echo
    echo "| Candidate | Run | WEBKIT_DISABLE_COMPOSITING_MODE | Start ms | PSS MiB | USS MiB | Processes | Other | Others' CPU | Frames (ms apart) | Notes |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %.1f | %.1f | %s | %s | %s | %s (~%s) | %s |\n", $1, ($2 == 0 ? "warm-up" : $2), $13, $3, $4 / 1024, $10 / 1024, $5, $11, $12, $6, $7, $9 }' "$WORK/start-runs.tsv"
    echo
    echo "Other = processes outside the candidate mapping GTK 3, WebKitGTK or libxul when its PSS was taken. Others' CPU = cores used by the rest of the machine during the run (an indication: start times grow with it, Firefox's most)."
    echo
    echo "</details>"
    echo
  fi
  if part terminer; then
    echo "## \"Terminer ma session\" → clean portal (borne, release; goal ≤ 300 ms)"
    echo
    echo "Keyboard only (F6, Shift+Tab to the button, Enter; Shift+Tab to \"Oui, terminer\", Enter), 1 warm-up + $RUNS repetitions in one kiosk (its web processes' WEBKIT_DISABLE_COMPOSITING_MODE: $TERMINER_COMP). \"Screen 1 s later\" compares the whole screen with the fresh portal shown at start (same pointer position, nothing focused)."
    echo
    if grep -q '^ok' "$WORK/terminer.tsv"; then
      lm="$(awk -F'\t' '$1 == "ok" && $2 >= 1 { print $3 }' "$WORK/terminer.tsv" | median)"
      km="$(awk -F'\t' '$1 == "ok" && $2 >= 1 { print $4 }' "$WORK/terminer.tsv" | median)"
      echo "| Measure | Median ms | Goal |"
      echo "|---|---|---|"
      echo "| log: \`session ended\` → \`internal page shown page=\"/index.html\"\` | $lm | ≤ 300: $(verdict "$lm" 300) |"
      echo "| script: Enter on \"Oui, terminer\" → \`internal page shown\` logged | $km | — |"
      awk -F'\t' '$1 == "ok" && $5 != "-" { printf "| script: Enter → first frame equal to the fresh portal (screen capture, last repetition) | %s | — |\n", ($5 == "never" ? "never (within 4 s)" : $5) }' "$WORK/terminer.tsv"
      echo
      echo "Repetitions (0 = warm-up): $(awk -F'\t' '$1 == "ok" { printf "%s#%s: log %s ms, Enter→loaded %s ms, screen 1 s later %s", (n++ ? "; " : ""), $2, $3, $4, $6 }' "$WORK/terminer.tsv")"
    fi
    if grep -q '^failed' "$WORK/terminer.tsv"; then
      echo
      echo "**Failed:** $(awk -F'\t' '$1 == "failed" { print $2 }' "$WORK/terminer.tsv" | paste -sd';')"
    fi
    echo
  fi
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo
cat "$OUT"
echo
say "written to ${OUT#"$REPO"/}; logs and screenshots in $WORK"
