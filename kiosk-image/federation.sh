#!/usr/bin/env bash
# The federation's two update commands (kiosk-image/README.md, "Updates"; docs/installation.md):
#
#   kiosk-image/federation.sh keys DIR [NAME]
#       makes the update signing key DIR/federation.key (keep it offline, never in a repository) and its
#       certificate DIR/federation.crt (public: build.sh puts it in the image, BORNE_UPDATE_CERT=...).
#   kiosk-image/federation.sh bundle --key K --cert C [--rootfs mkosi.output/root.ext4] [--out F.raucb]
#       signs a system built by build.sh as a RAUC bundle (verity format: checked block by block; with a
#       block-hash index for a RAUC that streams, which Debian 12's does not). Its version is the system's own
#       (os-release IMAGE_VERSION, set by build.sh's BORNE_VERSION). Put the .raucb on any static HTTPS
#       server, at the address the bornes look at (update.conf url=).
#
# BORNE_BUNDLE_ZSTD: zstd level of the bundle's squashfs (default 19: smallest full download; CI uses 3).
# Needs openssl, rauc, squashfs-tools and e2fsprogs (Debian 12 packages).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
COMPATIBLE=borne-debian12-x86_64

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

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
  local key="" cert="" rootfs="$here/mkosi.output/root.ext4" out=""
  while [ $# -gt 0 ]; do
    case "$1" in
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
  bundle_dir="$(mktemp -d "$(dirname "$out")/bundle.XXXXXX")"
  trap 'rm -rf "$bundle_dir"' EXIT
  local dir="$bundle_dir"
  ln "$rootfs" "$dir/root.ext4" 2>/dev/null || cp --sparse=always "$rootfs" "$dir/root.ext4"
  cat > "$dir/manifest.raucm" <<MANIFEST
[update]
compatible=$COMPATIBLE
version=$version
description=Borne system $version

[bundle]
format=verity

[image.rootfs]
filename=root.ext4
adaptive=block-hash-index
MANIFEST
  rm -f "$out"
  # --keyring: RAUC checks the signature it just made against the certificate.
  rauc bundle --cert="$cert" --key="$key" --keyring="$cert" \
    --mksquashfs-args="-comp zstd -Xcompression-level ${BORNE_BUNDLE_ZSTD:-19}" "$dir" "$out" >/dev/null
  echo "$out: version $version, $(stat -c %s "$out") bytes"
}

case "${1:-}" in
  keys) shift; [ $# -ge 1 ] || usage; keys "$@" ;;
  bundle) shift; bundle "$@" ;;
  *) usage ;;
esac
