#!/usr/bin/env bash
# How many bytes a borne running OLD downloads to update to NEW with a casync bundle (kiosk-image/README.md,
# "Updates"): both slot filesystems (root.ext4, as build.sh leaves it in mkosi.output/) are chunked as
# `rauc convert` does (`casync make`, default chunk sizes, one store); on the borne, casync chunks its
# running slot (the seed) the same way and fetches only the chunks of NEW's index the seed lacks, each as
# its compressed .cacnk file. The figure printed is the sum of those files' sizes.
#
#   kiosk-image/casync-delta.sh OLD.ext4 NEW.ext4 [WORKDIR]
#       prints: chunks in NEW, chunks missing from OLD, their bytes, and NEW's whole store.
#   CASYNC_DELTA_HTTP=1: also checks it for real: serves NEW's store over HTTP on the loopback, runs
#       `casync extract --seed OLD` from it (as RAUC does, without --seed-output), compares the result
#       with NEW byte for byte and prints the bytes the server sent.
# Needs casync (Debian 12 package) and python3.
set -euo pipefail
old="$1" new="$2"
work="${3:-$(mktemp -d /var/tmp/casync-delta.XXXXXX)}"
mkdir -p "$work"
casync make --store="$work/old.castr" "$work/old.caibx" "$old" >/dev/null
casync make --store="$work/new.castr" "$work/new.caibx" "$new" >/dev/null
python3 - "$work" <<'PY'
import os, sys
work = sys.argv[1]
def chunks(store):
    out = {}
    for d, _, files in os.walk(store):
        for f in files:
            if f.endswith(".cacnk"):
                out[f] = os.path.getsize(os.path.join(d, f))
    return out
old, new = chunks(os.path.join(work, "old.castr")), chunks(os.path.join(work, "new.castr"))
missing = {k: v for k, v in new.items() if k not in old}
idx = os.path.getsize(os.path.join(work, "new.caibx"))
print(f"chunks_new={len(new)} chunks_missing={len(missing)} missing_bytes={sum(missing.values())} "
      f"index_bytes={idx} store_bytes={sum(new.values())}")
PY
if [ "${CASYNC_DELTA_HTTP:-0}" = 1 ]; then
  log="$work/http.log"
  python3 - "$work" "$log" <<'PY' &
import http.server, os, sys, functools
work, log = sys.argv[1], sys.argv[2]
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
    def copyfile(self, src, dst):
        n = 0
        while True:
            b = src.read(65536)
            if not b: break
            dst.write(b); n += len(b)
        with open(log, "a") as f: f.write(f"{self.path} {n}\n")
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(H, directory=work))
with open(log + ".port", "w") as f: f.write(str(srv.server_address[1]))
srv.serve_forever()
PY
  pid=$!
  trap 'kill $pid 2>/dev/null' EXIT
  for _ in $(seq 50); do [ -s "$log.port" ] && break; sleep 0.1; done
  rm -f "$work/out.ext4"
  t0=$(date +%s)
  casync extract --seed="$old" --seed-output=no --store="http://127.0.0.1:$(cat "$log.port")/new.castr" \
    "$work/new.caibx" "$work/out.ext4"
  t1=$(date +%s)
  cmp "$work/out.ext4" "$new" && echo "extract with the seed: identical to NEW ($((t1 - t0)) s)"
  awk '{n++; b+=$2} END {printf "http_requests=%d http_bytes=%d\n", n, b}' "$log"
  rm -f "$work/out.ext4"
fi
