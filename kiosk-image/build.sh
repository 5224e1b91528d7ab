#!/usr/bin/env bash
# Builds the borne's disk image: the borne .deb (cargo-deb), then the Debian system (mkosi), then puts
# the kernel and initrd into system slot A, writes the boot menu (GRUB, both firmware modes: hidden,
# locked by a password, A/B with tries counted), then compresses.
#
#   kiosk-image/build.sh   -> kiosk-image/mkosi.output/borne.raw and borne.raw.zst (the disk image),
#                             root.ext4 (slot A's filesystem: what `federation.sh bundle` signs)
#
# Environment:
#   BORNE_PROFILE       cargo profile of what ships (default `image`: release without LTO; `release` works);
#                       `dev` (CI's test image) also selects mkosi's `dev` profile (mkosi.profiles/dev)
#   BORNE_ZSTD_LEVEL    zstd level of borne.raw.zst (default 19; CI uses 3); 0 skips compression
#   BORNE_GRUB_PASSWORD password of GRUB's menu (BIOS); default: a random one written to
#                       mkosi.output/grub-password.txt (keep it, or lose the menu for good)
#   CARGO_TARGET_DIR    as usual (default: target/ of the workspace)
#   BORNE_PREBUILT=1    the binaries of that profile are built already (CI: its build step made them)
#   BORNE_VERSION       the system's version (os-release IMAGE_VERSION, the bundle's version; updates
#                       install only a newer one, as dpkg compares versions); default: the UTC date and
#                       time, 2026.12.03.1542
#   BORNE_UPDATE_CERT   the federation's update certificate (PEM; `federation.sh keys` makes it): the
#                       only one whose bundles the image installs. Default: a development certificate
#                       made in mkosi.output/dev-keys/ (with a warning: never ship that image)
#   BORNE_UPDATE_URL    the bundle's HTTPS address the image looks at (update.conf url=); default none
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
[ -z "${BORNE_UPDATE_CERT:-}" ] || BORNE_UPDATE_CERT="$(realpath "$BORNE_UPDATE_CERT")"
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
version="${BORNE_VERSION:-$(date -u +%Y.%m.%d.%H%M)}"
cert="${BORNE_UPDATE_CERT:-}"
if [ -z "$cert" ]; then
  cert="$out/dev-keys/federation.crt"
  [ -f "$cert" ] || "$here/federation.sh" keys "$out/dev-keys" "Borne development key (not for bornes)"
  echo "WARNING: this image trusts the development update key $cert: do not ship it (BORNE_UPDATE_CERT)" >&2
fi
openssl x509 -in "$cert" -noout >/dev/null || { echo "BORNE_UPDATE_CERT: $cert is not a PEM certificate" >&2; exit 1; }
# What differs from one federation (or one test) to another comes in as an extra tree, not as files in
# mkosi.extra/: the certificate RAUC trusts and the update address.
fed="$out/extra-federation"
rm -rf "$fed"
mkdir -p "$fed/etc/rauc" "$fed/etc/borne"
cp "$cert" "$fed/etc/rauc/keyring.pem"
sed "s|^url=.*|url=${BORNE_UPDATE_URL:-}|" "$here/mkosi.extra/etc/borne/update.conf" > "$fed/etc/borne/update.conf"
# The debug build is the test image CI boots: mkosi's `dev` profile adds the boot test's tools
# (mkosi.profiles/dev: a Wi-Fi access point on simulated radios), which a shipped image never has.
mkosi_profile=()
[ "$profile" != dev ] || mkosi_profile=(--profile dev)
mkosi --force "${mkosi_profile[@]}" --image-version "$version" --extra-tree "$fed" build
t2=$(date +%s)

echo "== slot A: kernel and initrd; boot menu: A/B, hidden, locked by a password (GRUB, BIOS and UEFI)"
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
part_start() { # part_start NAME|TYPE-UUID -> first sector
  sfdisk -J "$img" | python3 -c 'import json,sys
t=json.load(sys.stdin)["partitiontable"]
print(next(p["start"] for p in t["partitions"] if sys.argv[1] in (p.get("name"), p["type"].upper())))' "$1"
}
esp_start="$(part_start C12A7328-F81F-11D2-BA4B-00A0C93EC93B)"
root_start="$(part_start borne-root-a)"
export MTOOLS_SKIP_CHECK=1
esp="$img@@$((esp_start * 512))"
work="$(mktemp -d)"
# mkosi's boot entry names the kernel and its initrds (on the boot partition): they move into slot A,
# so that each slot boots its own kernel and an update brings its kernel along.
entry="$(mdir -b -i "$esp" ::/loader/entries/ | grep '\.conf$' | head -n 1)"
mtype -i "$esp" "$entry" > "$work/entry"
kernel="$(sed -n 's/^linux *//p' "$work/entry")"
mcopy -n -i "$esp" "::$kernel" "$work/vmlinuz"
: > "$work/initrd"
for i in $(sed -n 's/^initrd *//p' "$work/entry"); do  # the kernel takes concatenated cpio archives
  mcopy -n -i "$esp" "::$i" "$work/part" && cat "$work/part" >> "$work/initrd"
done
token="$(echo "$kernel" | cut -d/ -f2)"
mdeltree -i "$esp" "::/$token" "::/loader"
debugfs -w -f - "$img?offset=$((root_start * 512))" > "$work/debugfs.log" 2>&1 <<DEBUGFS
mkdir /boot
mkdir /boot/borne
write $work/vmlinuz /boot/borne/vmlinuz
write $work/initrd /boot/borne/initrd
DEBUGFS
debugfs -R "stat /boot/borne/initrd" "$img?offset=$((root_start * 512))" 2>/dev/null | grep -q "Size: $(stat -c %s "$work/initrd")" ||
  { cat "$work/debugfs.log"; echo "the initrd did not reach slot A" >&2; exit 1; }
# grub.cfg: the password first, then ours (mkosi.extra/efi/grub/grub.cfg), without what mkosi appended.
mcopy -n -i "$esp" ::/grub/grub.cfg "$work/grub.cfg"
{
  echo "# The menu is hidden; its entries boot without a password, editing them or a GRUB shell needs one."
  echo 'set superusers="borne"'
  echo "password_pbkdf2 borne $hash"
  sed '/^# --- end of the borne.s configuration ---$/q' "$work/grub.cfg"
} > "$work/grub.cfg.new"
grep -q 'slot-b' "$work/grub.cfg.new" || { echo "grub.cfg: the A/B menu is missing" >&2; exit 1; }
mcopy -o -i "$esp" "$work/grub.cfg.new" ::/grub/grub.cfg
# GRUB's environment: slot A good, B empty. RAUC changes it from the running system.
grub-editenv "$work/grubenv" create
grub-editenv "$work/grubenv" set ORDER="A B" A_OK=1 A_TRY=0 B_OK=0 B_TRY=0 MAX_TRIES=2
mcopy -o -i "$esp" "$work/grubenv" ::/grub/grubenv
rm -rf "$work"
# Slot A's filesystem alone: what a bundle of this version carries (federation.sh bundle).
root_sectors="$(sfdisk -J "$img" | python3 -c 'import json,sys
print(next(p["size"] for p in json.load(sys.stdin)["partitiontable"]["partitions"] if p.get("name") == "borne-root-a"))')"
dd if="$img" of="$out/root.ext4" bs=4M iflag=skip_bytes,count_bytes skip=$((root_start * 512)) \
   count=$((root_sectors * 512)) conv=sparse status=none
echo "version $version, slot A filesystem: $out/root.ext4"
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
version=$version
REPORT
cat "$out/build-report.txt"
