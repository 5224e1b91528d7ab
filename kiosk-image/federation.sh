#!/usr/bin/env bash
# The federation's two update commands (kiosk-image/README.md, "Updates"; docs/installation.md):
#
#   kiosk-image/federation.sh keys DIR [NAME]
#       makes the update signing key DIR/federation.key (keep it offline, never in a repository) and its
#       certificate DIR/federation.crt (public: build.sh puts it in the image, BORNE_UPDATE_CERT=...).
#   kiosk-image/federation.sh bundle --key K --cert C [--rootfs mkosi.output/root.ext4] [--out F.raucb] [--full-only]
#       signs a system built by build.sh for the bornes (verity format: checked block by block). Its version
#       is the system's own (os-release IMAGE_VERSION, set by build.sh's BORNE_VERSION). Makes three things:
#         F.raucb       the bundle the bornes download (about 1 MB): the signed manifest and casync's index
#                       of the system image (`rauc convert`), the SHA-256 of every chunk of it;
#         F.castr/      the chunk store (compressed chunks, named by their SHA-256); kept and added to from
#                       one release to the next: a borne fetches only the chunks its running system lacks;
#         F-full.raucb  the whole system in one signed bundle, for a USB stick (no network needed).
#       Put F.raucb and F.castr/ side by side on any static HTTPS server, at the address the bornes look at
#       (update.conf url=): e.g. `rsync -a F.raucb F.castr server:/var/www/borne/` (only new chunks travel).
#       --full-only: F-full.raucb alone (a release for USB sticks only; no chunking, a minute less).
#
# BORNE_BUNDLE_ZSTD: zstd level of the full bundle's squashfs (default 19: smallest; CI uses 3).
# Needs openssl, rauc, casync, squashfs-tools and e2fsprogs (Debian 12 packages).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
COMPATIBLE=borne-debian12-x86_64

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

keys() {
  local dir="$1" name="${2:-Borne federation updates}"
  mkdir -p "$dir"
  if [ -e "$dir/federation.key" ]; then echo "$dir/federation.key exists: not replaced" >&2; exit 1; fi
  (umask 077 && openssl req -x509 -newkey rsa:4096 -nodes -keyout "$dir/federation.key" -out "$dir/federation.crt" \
    -days 3650 -subj "/O=Borne/CN=$name" -addext "keyUsage=critical,digitalSignature,keyCertSign" \
    -addext "extendedKeyUsage=codeSigning,emailProtection" -addext "basicConstraints=critical,CA:TRUE,pathlen:0" 2>/dev/null)
  chmod 644 "$dir/federation.crt"
  echo "key: $dir/federation.key (secret), certificate: $dir/federation.crt (goes into the image)"
}

bundle() {
  local key="" cert="" rootfs="$here/mkosi.output/root.ext4" out="" full_only=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --full-only) full_only=1; shift ;;
      --key) key="$2"; shift 2 ;;
      --cert) cert="$2"; shift 2 ;;
      --rootfs) rootfs="$2"; shift 2 ;;
      --out) out="$2"; shift 2 ;;
      *) usage ;;
    esac
  done
  [ -n "$key" ] && [ -n "$cert" ] || usage
  local version
  version="$(debugfs -R "cat /usr/lib/os-release" "$rootfs" 2>/dev/null | sed -n 's/^IMAGE_VERSION=//p' | tr -d '"')"
  [ -n "$version" ] || { echo "$rootfs: no IMAGE_VERSION in its /usr/lib/os-release (built by build.sh?)" >&2; exit 1; }
  out="${out:-$(dirname "$rootfs")/borne-$version.raucb}"
  case "$out" in *.raucb) ;; *) echo "--out: the bundle's name must end in .raucb (its store is NAME.castr)" >&2; exit 2 ;; esac
  local full="${out%.raucb}-full.raucb" store="${out%.raucb}.castr"
  # Absolute: `rauc convert` refuses to clean up a relative TMPDIR.
  bundle_dir="$(realpath "$(mktemp -d "$(dirname "$out")/bundle.XXXXXX")")"
  trap 'rm -rf "$bundle_dir"' EXIT
  local dir="$bundle_dir/content"
  mkdir "$dir"
  ln "$rootfs" "$dir/root.ext4" 2>/dev/null || cp --sparse=always "$rootfs" "$dir/root.ext4"
  # No adaptive= (block-hash-index) any more: its index (32 bytes per 4 KiB block, about 12 MB
  # compressed) would travel inside the casync bundle, and without HTTP streaming, which Debian 12's RAUC
  # lacks, it saves no download. casync (below) is how a borne fetches only what it lacks.
  cat > "$dir/manifest.raucm" <<MANIFEST
[update]
compatible=$COMPATIBLE
version=$version
description=Borne system $version

[bundle]
format=verity

[image.rootfs]
filename=root.ext4
MANIFEST
  rm -f "$out" "$full"
  # --keyring: RAUC checks the signature it just made against the certificate.
  rauc bundle --cert="$cert" --key="$key" --keyring="$cert" \
    --mksquashfs-args="-comp zstd -Xcompression-level ${BORNE_BUNDLE_ZSTD:-19}" "$dir" "$full" >/dev/null
  rm -f "$dir/root.ext4"
  if [ "$full_only" = 1 ]; then
    echo "$full: version $version, the whole system for a USB stick, $(stat -c %s "$full") bytes"
    return 0
  fi
  # The casync bundle: RAUC unpacks the full one, chunks its image with casync into the store (appending
  # to it when it exists: one store for successive releases), and signs a bundle holding the index.
  # Its temporary copy of the image goes in the output's folder, not in a small /tmp.
  TMPDIR="$bundle_dir" rauc convert --cert="$cert" --key="$key" --keyring="$cert" "$full" "$out" >/dev/null 2>"$bundle_dir/convert.log" ||
    { cat "$bundle_dir/convert.log" >&2; exit 1; }
  echo "$out: version $version, $(stat -c %s "$out") bytes, with its chunk store $store ($(find "$store" -name '*.cacnk' -printf '%s\n' | awk '{s += $1} END {print s + 0}') bytes of chunks);" \
    "$full: the whole system for a USB stick, $(stat -c %s "$full") bytes"
}

case "${1:-}" in
  keys) shift; [ $# -ge 1 ] || usage; keys "$@" ;;
  bundle) shift; bundle "$@" ;;
  *) usage ;;
esac
