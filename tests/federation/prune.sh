#!/usr/bin/env bash
# `kiosk-image/federation.sh prune` on real bundles: three small releases (16 MiB ext4 images: RAUC
# refuses a verity bundle of 4 KiB or less, which the casync index of a smaller image would be) bundled
# one after the other into one chunk store by `federation.sh bundle`, as a federation does. v2 changes
# one file of v1, v3 another one of v2. What each release uses comes from casync itself (`casync make`
# into a store of its own per release), not from prune's index reader. Checks: prune keeping v2 and v3
# removes exactly the chunks only v1 used (and casync's own `gc --dry-run` counts as many); v2 and v3
# still extract byte for byte from the store; refusals leave the store untouched (a bundle signed by
# another key with --cert, a full bundle, a file that is no bundle, the bundle beside the store left
# out, a store lacking a chunk); --dry-run deletes nothing. Prints PASS/FAIL lines; exit 1 on any FAIL.
# Needs rauc, casync, squashfs-tools, e2fsprogs, openssl and python3; about 10 s, a few tens of MB in /tmp.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
F="$root/kiosk-image/federation.sh"
for tool in rauc casync unsquashfs mkfs.ext4 debugfs openssl python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing" >&2; exit 1; }
done
work="$(mktemp -d "${TMPDIR:-/tmp}/borne-prune-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export BORNE_BUNDLE_ZSTD=1 # the full bundles are thrown away: fastest compression
start=$SECONDS
failed=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
# check WHAT COMMAND...: PASS when the command succeeds.
check() { local what="$1"; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
# refused WHAT STORE [PRUNE-ARGS...]: `prune --store STORE ARGS...` must exit non-zero and leave STORE as it was.
refused() {
  local what="$1" store="$2" before after rc=0
  shift 2
  before="$(listing "$store")"
  "$F" prune --store "$store" "$@" >"$work/out" 2>"$work/err" || rc=$?
  after="$(listing "$store")"
  if [ "$rc" != 0 ] && [ "$before" = "$after" ]; then
    pass "$what (exit $rc: $(head -n 1 "$work/err"))"
  else
    fail "$what (exit $rc, chunks before $(wc -l <<<"$before"), after $(wc -l <<<"$after"))"
    cat "$work/out" "$work/err"
  fi
}
listing() { (cd "$1" && find . -name '*.cacnk' -printf '%P\n' | sort); }
bytes_of() { (cd "$1" && xargs -r stat -c %s | awk '{s += $1} END {print s + 0}'); }

"$F" keys "$work/keys" >/dev/null
"$F" keys "$work/other" "Another federation" >/dev/null

# The three releases' files: a and c stay from v1 to v2, b changes; v3 changes c.
head -c 6M /dev/urandom >"$work/a"
for f in b1 b2 c1 c3; do head -c 3M /dev/urandom >"$work/$f"; done
rootfs() { # VERSION B C
  local t="$work/tree$1"
  mkdir -p "$t/usr/lib"
  printf 'ID=debian\nIMAGE_VERSION="%s"\n' "$1" >"$t/usr/lib/os-release"
  cp "$work/a" "$t/a"; cp "$work/$2" "$t/b"; cp "$work/$3" "$t/c"
  mkfs.ext4 -q -F -d "$t" "$work/r$1.ext4" 16M >/dev/null 2>&1
}
rootfs 1 b1 c1
rootfs 2 b2 c1
rootfs 3 b2 c3

pub="$work/pub"   # the federation's folder: borne.raucb and borne.castr, made again at each release
store="$pub/borne.castr"
mkdir -p "$pub"
for v in 1 2 3; do
  "$F" bundle --key "$work/keys/federation.key" --cert "$work/keys/federation.crt" \
    --rootfs "$work/r$v.ext4" --out "$pub/borne.raucb" >/dev/null 2>"$work/bundle.log" ||
    { cat "$work/bundle.log"; fail "bundle v$v"; exit 1; }
  cp "$pub/borne.raucb" "$work/v$v.raucb"   # the copy a federation keeps of each published bundle
  unsquashfs -cat "$work/v$v.raucb" root.ext4.caibx >"$work/v$v.caibx"
  # What release v uses, by casync alone.
  casync make --store="$work/own$v.castr" "$work/own$v.caibx" "$work/r$v.ext4" >/dev/null
  listing "$work/own$v.castr" >"$work/uses$v"
done
mkdir -p "$work/foreign"   # v3 signed by another federation, with its own store
"$F" bundle --key "$work/other/federation.key" --cert "$work/other/federation.crt" --rootfs "$work/r3.ext4" \
  --out "$work/foreign/borne.raucb" >/dev/null 2>&1
echo "bundles made: $((SECONDS - start)) s"

listing "$store" >"$work/all"
sort -u "$work/uses2" "$work/uses3" >"$work/kept-expected"
comm -23 "$work/all" "$work/kept-expected" >"$work/gone-expected"
n_all=$(wc -l <"$work/all"); n_gone=$(wc -l <"$work/gone-expected"); n_kept=$(wc -l <"$work/kept-expected")
gone_bytes=$(bytes_of "$store" <"$work/gone-expected"); kept_bytes=$(bytes_of "$store" <"$work/kept-expected")
echo "store: $n_all chunks; expected: remove $n_gone ($gone_bytes bytes), keep $n_kept ($kept_bytes bytes)"
check "the store holds exactly the chunks of v1, v2 and v3" \
  cmp -s "$work/all" <(sort -u "$work/uses1" "$work/uses2" "$work/uses3")
check "every chunk to remove is one v1 uses (v1-only), and there are some" \
  test "$n_gone" -gt 0 -a -z "$(comm -23 "$work/gone-expected" "$work/uses1")"
check "casync's own gc --dry-run would remove as many" \
  grep -qx "Would remove $n_gone chunks, $n_kept chunks remaining." \
  <(casync gc --dry-run --store="$store" "$work/v2.caibx" "$work/v3.caibx" 2>/dev/null)

# Refusals: nothing deleted.
keep=("$work/v2.raucb" "$work/v3.raucb")
refused "--cert: a bundle signed by another key is refused" \
  "$store" --cert "$work/keys/federation.crt" "${keep[@]}" "$work/foreign/borne.raucb"
refused "a full bundle (no casync index) is refused" "$store" "${keep[@]}" "$pub/borne-full.raucb"
refused "--cert: a full bundle is refused" "$store" --cert "$work/keys/federation.crt" "${keep[@]}" "$pub/borne-full.raucb"
refused "a file that is no bundle is refused" "$store" "${keep[@]}" "$work/r3.ext4"
refused "a missing bundle is refused" "$store" "${keep[@]}" "$work/nowhere.raucb"
refused "the bundle beside the store (v3) left out is refused" "$store" "$work/v1.raucb" "$work/v2.raucb"
# A store lacking one chunk of v3 (a copy: the real one stays whole).
cp -a "$store" "$work/broken.castr"
rm -f "$work/broken.castr/$(comm -23 "$work/uses3" "$work/uses2" | head -n 1)"
refused "a store lacking a chunk of a bundle is refused" "$work/broken.castr" "${keep[@]}"
# An altered bundle (one byte of its squashfs): RAUC's content check refuses it with --cert.
cp "$work/v3.raucb" "$work/altered.raucb"
printf '\x00' | dd of="$work/altered.raucb" bs=1 seek=100 conv=notrunc status=none
refused "--cert: an altered bundle is refused" "$store" --cert "$work/keys/federation.crt" "$work/v2.raucb" "$work/altered.raucb"

# --dry-run: lists exactly the chunks to remove, deletes nothing.
"$F" prune --store "$store" --cert "$work/keys/federation.crt" --dry-run "${keep[@]}" >"$work/dry" 2>&1 ||
  { cat "$work/dry"; fail "--dry-run exits 0"; }
check "--dry-run lists exactly the v1-only chunks" \
  cmp -s "$work/gone-expected" <(sed -n "s|^would remove $store/||p" "$work/dry" | sort)
check "--dry-run says the right numbers" grep -qx \
  "would remove $n_gone chunks ($gone_bytes bytes), keep $n_kept chunks ($kept_bytes bytes) in $store (dry run: nothing deleted)" "$work/dry"
check "--dry-run deletes nothing" cmp -s "$work/all" <(listing "$store")

# The prune itself, with the signatures checked.
if "$F" prune --store "$store" --cert "$work/keys/federation.crt" "${keep[@]}" >"$work/prune" 2>&1; then
  pass "prune keeping v2 and v3 exits 0"
else
  fail "prune keeping v2 and v3 exits 0"
fi
sed 's/^/  | /' "$work/prune"
check "prune says it removed $n_gone chunks ($gone_bytes bytes) and kept $n_kept ($kept_bytes bytes)" grep -qx \
  "removed $n_gone chunks ($gone_bytes bytes), kept $n_kept chunks ($kept_bytes bytes) in $store" "$work/prune"
check "the store holds exactly the chunks of v2 and v3 now" cmp -s "$work/kept-expected" <(listing "$store")
for v in 2 3; do
  rm -f "$work/out$v.img"
  casync extract --store="$store" "$work/v$v.caibx" "$work/out$v.img" >/dev/null 2>&1 || true
  check "v$v extracts byte for byte from the pruned store" cmp -s "$work/r$v.ext4" "$work/out$v.img"
done
cannot_extract() { ! casync extract --store="$store" "$work/v$1.caibx" "$work/out$1.img" >/dev/null 2>&1; }
check "v1 no longer extracts (its own chunks are gone)" cannot_extract 1
"$F" prune --store "$store" "${keep[@]}" >"$work/again" 2>&1 || true
check "a second prune (without --cert) removes nothing" grep -qx \
  "removed 0 chunks (0 bytes), kept $n_kept chunks ($kept_bytes bytes) in $store" "$work/again"
check "only chunk files were deleted (the store's folders stay)" \
  test "$(find "$store" -mindepth 1 -type d | wc -l)" = "$(cut -c1-4 "$work/all" | sort -u | wc -l)"

echo "federation prune test: $failed failure(s), $((SECONDS - start)) s"
[ "$failed" = 0 ]
