#!/usr/bin/env bash
# Builds the borne's disk image: the borne .deb (cargo-deb), then the Debian system (mkosi), then hides
# and locks the BIOS boot menu, then compresses.
#
#   kiosk-image/build.sh            -> kiosk-image/mkosi.output/borne.raw and borne.raw.zst
#
# Environment:
#   BORNE_PROFILE       cargo profile of what ships (default `image`: release without LTO; `release` works)
#   BORNE_ZSTD_LEVEL    zstd level of borne.raw.zst (default 19; CI uses 3); 0 skips compression
#   BORNE_GRUB_PASSWORD password of GRUB's menu (BIOS); default: a random one written to
#                       mkosi.output/grub-password.txt (keep it, or lose the menu for good)
#   CARGO_TARGET_DIR    as usual (default: target/ of the workspace)
#   BORNE_PREBUILT=1    the binaries of that profile are built already (CI: its build step made them)
# Needs root, mkosi 24 (bookworm-backports) and the host tools listed in kiosk-image/README.md
# (.ci/image-deps.sh installs them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
profile="${BORNE_PROFILE:-image}"
level="${BORNE_ZSTD_LEVEL:-19}"
target="${CARGO_TARGET_DIR:-$root/target}"
out="$here/mkosi.output"
export CARGO_TARGET_DIR="$target"
t0=$(date +%s)

echo "== borne .deb (profile $profile)"
cd "$root"
if [ "${BORNE_PREBUILT:-0}" != 1 ]; then
  cargo build --locked --profile "$profile" -p borne -p bornectl
fi
cargo_deb="$(command -v cargo-deb || true)"
[ -n "$cargo_deb" ] || cargo_deb="$target/tools/bin/cargo-deb"
rm -f "$here"/mkosi.packages/*.deb
"$cargo_deb" -p borne --no-build --strip --profile "$profile" --output "$here/mkosi.packages/"
ls -l "$here"/mkosi.packages/*.deb
t1=$(date +%s)

echo "== image (mkosi)"
cd "$here"
mkdir -p "$out"
mkosi --force build
t2=$(date +%s)

echo "== boot menu: hidden, and locked by a password (GRUB, BIOS)"
img="$out/borne.raw"
pw="${BORNE_GRUB_PASSWORD:-}"
if [ -z "$pw" ]; then
  pw="$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
  printf '%s\n' "$pw" > "$out/grub-password.txt"
  chmod 600 "$out/grub-password.txt"
  echo "GRUB password written to $out/grub-password.txt"
fi
hash="$(printf '%s\n%s\n' "$pw" "$pw" | grub-mkpasswd-pbkdf2 | sed -n 's/.*is \(grub\.pbkdf2\..*\)$/\1/p')"
[ -n "$hash" ] || { echo "grub-mkpasswd-pbkdf2 gave no hash" >&2; exit 1; }
esp_start="$(sfdisk -J "$img" | python3 -c 'import json,sys
t=json.load(sys.stdin)["partitiontable"]
print(next(p["start"] for p in t["partitions"] if p["type"].upper()=="C12A7328-F81F-11D2-BA4B-00A0C93EC93B"))')"
export MTOOLS_SKIP_CHECK=1
esp="$img@@$((esp_start * 512))"
cfg="$(mktemp)"
mcopy -n -i "$esp" ::/grub/grub.cfg "$cfg"
{
  echo "# The menu is hidden; its entries boot without a password, editing them or a GRUB shell needs one."
  echo "set timeout_style=hidden"
  echo 'set superusers="borne"'
  echo "password_pbkdf2 borne $hash"
  sed 's/^\(\s*menuentry "[^"]*"\) {/\1 --unrestricted {/' "$cfg"
} > "$cfg.new"
grep -q -- '--unrestricted' "$cfg.new" || { echo "no GRUB menu entry found in grub.cfg" >&2; exit 1; }
mcopy -o -i "$esp" "$cfg.new" ::/grub/grub.cfg
rm -f "$cfg" "$cfg.new"
t3=$(date +%s)

rm -f "$img.zst"
if [ "$level" != 0 ]; then
  echo "== compress (zstd -$level)"
  # --long=27: a 128 MB window finds the kernel and initrd the boot partition holds twice (UKI, GRUB's
  # copy); 27 is what `zstd -d` accepts without options.
  zstd -q -f -T0 "-$level" --long=27 "$img" -o "$img.zst"
fi
t4=$(date +%s)

raw=$(stat -c %s "$img")
used=$(du -B1 "$img" | cut -f1)
zst=$( [ -f "$img.zst" ] && stat -c %s "$img.zst" || echo 0)
cat > "$out/build-report.txt" <<REPORT
deb_seconds=$((t1 - t0))
mkosi_seconds=$((t2 - t1))
compress_seconds=$((t4 - t3))
total_seconds=$((t4 - t0))
raw_bytes=$raw
raw_allocated_bytes=$used
zstd_level=$level
zstd_bytes=$zst
REPORT
cat "$out/build-report.txt"
