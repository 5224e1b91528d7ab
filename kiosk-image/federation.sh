#!/usr/bin/env bash
# The federation's update commands (kiosk-image/README.md, "Updates"; docs/installation.md):
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
#   kiosk-image/federation.sh prune --store F.castr [--cert C] [--dry-run] BUNDLE.raucb [BUNDLE.raucb...]
#       deletes from the chunk store every chunk (.cacnk file) that none of the given casync bundles uses,
#       and says how many chunks and bytes went and stayed. Give the bundles still published or maybe being
#       installed: the current release and the previous one (a borne that fetched the previous small
#       bundle just before the new one was published still needs its chunks); keep a copy of each
#       published F.raucb for this (e.g. cp F.raucb F-VERSION.raucb). With --cert each bundle's signature
#       and content are checked by RAUC first (a foreign or altered bundle is refused). Nothing is deleted
#       when a bundle cannot be read, is not a casync bundle, or uses a chunk the store lacks, nor when
#       F.raucb beside the store is not one of the bundles given. --dry-run: lists what would go.
#       Then `rsync -a --delete F.castr/ server:/var/www/borne/F.castr/`, after the new bundle is up.
#       Not while a bundle is being made into the same store.
#
# BORNE_BUNDLE_ZSTD: zstd level of the full bundle's squashfs (default 19: smallest; CI uses 3).
# Needs openssl, rauc, casync, squashfs-tools, e2fsprogs and python3 (Debian 12 packages).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
COMPATIBLE=borne-debian12-x86_64

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0" >&2; exit 2; }

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

# Which chunks the given casync bundles use, then, once every index was read, the deletion of the others.
# The index (.caibx) is parsed here in Python: casync 2020 cannot list an index's chunk IDs, and its `gc`
# neither refuses when the store lacks a chunk nor counts bytes. Layout from casync's src/caformat.h and
# src/caindex.c: CaFormatIndex (size 48, type CA_FORMAT_INDEX, feature flags, chunk sizes min/avg/max),
# CaFormatTable's header (size UINT64_MAX, type CA_FORMAT_TABLE), items (end offset u64 LE, chunk ID 32
# bytes), then CaFormatTableTail (0, 0, 48, the table's size, CA_FORMAT_TABLE_TAIL_MARKER) and nothing
# more. A chunk is STORE/<first 4 hex digits>/<64 hex digits>.cacnk (src/cachunk.c, src/castore.c).
prune() {
  local store="" cert="" dry_run=0 bundles=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --store) [ $# -ge 2 ] || usage; store="$2"; shift 2 ;;
      --cert) [ $# -ge 2 ] || usage; cert="$2"; shift 2 ;;
      --dry-run) dry_run=1; shift ;;
      -*) usage ;;
      *) bundles+=("$1"); shift ;;
    esac
  done
  if [ -z "$store" ] || [ ${#bundles[@]} -eq 0 ]; then usage; fi
  [ -d "$store" ] || { echo "prune: $store: no such chunk store (a folder)" >&2; exit 1; }
  if [ -n "$cert" ]; then
    [ -f "$cert" ] || { echo "prune: $cert: no such certificate" >&2; exit 1; }
    command -v rauc >/dev/null || { echo "prune: rauc is missing (Debian package rauc)" >&2; exit 1; }
  else
    command -v unsquashfs >/dev/null || { echo "prune: unsquashfs is missing (Debian package squashfs-tools)" >&2; exit 1; }
  fi
  python3 - "$store" "$cert" "$dry_run" "${bundles[@]}" <<'PY'
import configparser, filecmp, os, re, shutil, struct, subprocess, sys, tempfile

store, cert, dry_run, bundles = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4:]

INDEX, TABLE, TAIL = 0x96824D9C7B129FF9, 0xE75B9E112F17417D, 0x4B4F050E5549ECD1
LIMIT_MIN, LIMIT_MAX = 1, 128 * 1024 * 1024  # CA_CHUNK_SIZE_LIMIT_MIN/MAX
ITEM = 40  # CaFormatTableItem and CaFormatTableTail


class Refused(Exception):
    pass


def parse_index(data, name, image_size):
    """The chunk IDs (hex) of a casync index, checked as casync's ca_index_read_chunk checks it."""
    if len(data) < 48 + 16 + ITEM:
        raise Refused(f"{name}: too short for a casync index")
    size, kind, _flags, cmin, cavg, cmax = struct.unpack_from("<6Q", data, 0)
    if size != 48 or kind != INDEX:
        raise Refused(f"{name}: not a casync index (no CA_FORMAT_INDEX header)")
    if not (LIMIT_MIN <= cmin <= cavg <= cmax <= LIMIT_MAX):
        raise Refused(f"{name}: impossible chunk sizes {cmin}/{cavg}/{cmax}")
    tsize, tkind = struct.unpack_from("<2Q", data, 48)
    if tsize != 2**64 - 1 or tkind != TABLE:
        raise Refused(f"{name}: no CA_FORMAT_TABLE after the index header")
    body = len(data) - 64 - ITEM
    if body % ITEM:
        raise Refused(f"{name}: its table is not a whole number of items")
    count = body // ITEM
    zero1, zero2, index_offset, table_size, marker = struct.unpack_from("<5Q", data, len(data) - ITEM)
    if (zero1, zero2, index_offset, marker) != (0, 0, 48, TAIL) or table_size != 16 + count * ITEM + ITEM:
        raise Refused(f"{name}: no table tail marker at its end (truncated or altered)")
    ids, previous = set(), 0
    for n in range(count):
        offset = struct.unpack_from("<Q", data, 64 + n * ITEM)[0]
        if offset <= previous or offset - previous > cmax:
            raise Refused(f"{name}: chunk {n}'s offset {offset} does not follow {previous}")
        previous = offset
        ids.add(data[64 + n * ITEM + 8:64 + (n + 1) * ITEM].hex())
    if image_size is not None and previous != image_size:
        raise Refused(f"{name}: its chunks make {previous} bytes, its manifest says {image_size}")
    return ids


def run(bundle, args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        err = p.stderr.decode(errors="replace").strip().splitlines()
        raise Refused(f"{bundle}: {' '.join(args[:2])} failed: " + (err[-1] if err else f"exit {p.returncode}"))
    return p.stdout


def casync_images(bundle, images):
    """The images' (index name, size) of a bundle, refused unless all are casync indexes."""
    if not images:
        raise Refused(f"{bundle}: its manifest has no image")
    for name, _ in images:
        if "/" in name or name in ("", ".", ".."):
            raise Refused(f"{bundle}: odd image file name {name!r}")
        if not name.endswith((".caibx", ".caidx")):
            raise Refused(f"{bundle}: not a casync bundle (image {name}; a full bundle has no chunks in a store)")
    return images


def read_bundle(bundle, tmp):
    """(version, {chunk IDs}) of one bundle."""
    if not os.path.isfile(bundle):
        raise Refused(f"{bundle}: no such file")
    if cert:
        # `rauc info` checks the signature (not the content) and gives the manifest, so a full bundle
        # is refused before anything is unpacked; `rauc extract` checks the content too (verity).
        out = run(bundle, ["rauc", "info", f"--keyring={cert}", "--output-format=shell", bundle]).decode()
        info = dict(re.findall(r"^(RAUC_[A-Z0-9_]+)='?(.*?)'?$", out, re.M))
        images = [(info.get(f"RAUC_IMAGE_NAME_{n}", ""), info.get(f"RAUC_IMAGE_SIZE_{n}"))
                  for n in range(int(info.get("RAUC_MF_IMAGES", "0") or 0))]
        version = info.get("RAUC_MF_VERSION", "?")
        casync_images(bundle, images)
        dest = os.path.join(tmp, "extract")
        shutil.rmtree(dest, ignore_errors=True)
        run(bundle, ["rauc", "extract", f"--keyring={cert}", bundle, dest])
        read = lambda name: open(os.path.join(dest, name), "rb").read()
    else:
        manifest = configparser.ConfigParser(interpolation=None)
        try:
            manifest.read_string(run(bundle, ["unsquashfs", "-cat", bundle, "manifest.raucm"]).decode())
        except (configparser.Error, UnicodeDecodeError) as e:
            raise Refused(f"{bundle}: unreadable manifest ({e.__class__.__name__})")
        images = [(manifest[s].get("filename", ""), manifest[s].get("size"))
                  for s in manifest.sections() if s.startswith("image.")]
        version = manifest.get("update", "version", fallback="?")
        casync_images(bundle, images)
        read = lambda name: run(bundle, ["unsquashfs", "-cat", bundle, name])
    ids = set()
    for name, size in images:
        image_size = int(size) if size and size.isdigit() and name.endswith(".caibx") else None
        try:
            ids |= parse_index(read(name), f"{bundle}: {name}", image_size)
        except OSError as e:
            raise Refused(f"{bundle}: {name}: {e.strerror}")
    return version, ids


def store_chunks():
    """{chunk ID: (path, bytes)} of the store's chunk files, and the count of anything else."""
    chunks, others = {}, 0
    with os.scandir(store) as top:
        for sub in top:
            if not (re.fullmatch(r"[0-9a-f]{4}", sub.name) and sub.is_dir(follow_symlinks=False)):
                others += 1
                continue
            with os.scandir(sub.path) as files:
                for f in files:
                    m = re.fullmatch(r"([0-9a-f]{64})\.cacnk", f.name)
                    if m and m.group(1)[:4] == sub.name and f.is_file(follow_symlinks=False):
                        chunks[m.group(1)] = (f.path, f.stat(follow_symlinks=False).st_size)
                    else:
                        others += 1
    return chunks, others


def main():
    used = set()
    with tempfile.TemporaryDirectory(prefix="borne-prune.") as tmp:
        for bundle in bundles:
            version, ids = read_bundle(bundle, tmp)
            print(f"{bundle}: version {version}, {len(ids)} chunks")
            used |= ids
    # F.raucb beside F.castr is the bundle `bundle` just made for this store: forgetting it would
    # delete the chunks of the release about to be published.
    beside = re.sub(r"\.castr$", "", os.path.normpath(store)) + ".raucb"
    if os.path.normpath(store).endswith(".castr") and os.path.isfile(beside) and not any(
            filecmp.cmp(beside, b, shallow=False) for b in bundles):
        raise Refused(f"{beside}, the bundle beside this store, is none of the bundles given (by content): "
                      "it is the one published with it; give it (or a copy) too")
    chunks, others = store_chunks()
    missing = sorted(used - chunks.keys())
    if missing:
        raise Refused(f"the store {store} lacks {len(missing)} chunk(s) these bundles use (e.g. "
                      f"{missing[0][:4]}/{missing[0]}.cacnk): it is already broken for them, or is not "
                      "their store")
    gone = sorted(set(chunks) - used)
    gone_bytes = sum(chunks[c][1] for c in gone)
    kept_bytes = sum(chunks[c][1] for c in used)
    if dry_run:
        for c in gone:
            print(f"would remove {chunks[c][0]}")
        print(f"would remove {len(gone)} chunks ({gone_bytes} bytes), keep {len(used)} chunks "
              f"({kept_bytes} bytes) in {store} (dry run: nothing deleted)")
    else:
        removed = removed_bytes = 0
        for c in gone:
            try:
                os.unlink(chunks[c][0])
                removed, removed_bytes = removed + 1, removed_bytes + chunks[c][1]
            except OSError as e:
                print(f"prune: {chunks[c][0]}: {e.strerror}", file=sys.stderr)
        print(f"removed {removed} chunks ({removed_bytes} bytes), kept {len(used)} chunks "
              f"({kept_bytes} bytes) in {store}")
    if others:
        print(f"left alone: {others} other entries in {store} (not chunk files)")
    if not dry_run and removed < len(gone):
        print(f"prune: {len(gone) - removed} unused chunk(s) could not be removed", file=sys.stderr)
        sys.exit(1)


try:
    main()
except Refused as e:
    print(f"prune: {e}; nothing deleted", file=sys.stderr)
    sys.exit(1)
PY
}

case "${1:-}" in
  keys) shift; [ $# -ge 1 ] || usage; keys "$@" ;;
  bundle) shift; bundle "$@" ;;
  prune) shift; prune "$@" ;;
  *) usage ;;
esac
