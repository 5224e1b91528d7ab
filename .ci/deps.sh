#!/usr/bin/env bash
# Installs what a fresh Debian 12 lacks to build, run and test the borne. Idempotent and quick when
# everything is there (no apt-get update then). Sourced by .ci/kiosk and .ci/test; runs as root.
set -euo pipefail

BUILD_PKGS=(build-essential pkg-config libwebkit2gtk-4.1-dev libssl-dev curl ca-certificates file)
RUN_PKGS=(xvfb xauth openbox x11-utils xdotool imagemagick espeak-ng fonts-noto-core librsvg2-common)
# rauc casync squashfs-tools e2fsprogs python3: tests/federation/prune.sh (federation.sh's bundle and prune).
# sane-utils libsane1: scanimage and SANE's test backend, for borne-core's scan tests (src-tauri/core/tests/scan.rs).
# network-manager dbus-daemon: a real NetworkManager on a bus of the test's own, for borne-core's Wi-Fi
# tests (src-tauri/core/tests/wifi.rs). cups-ipp-utils: ippeveprinter, the IPP Everywhere printer of
# borne-core's printer tests (src-tauri/core/tests/printers.rs).
TEST_PKGS=(webkit2gtk-driver poppler-utils openssl nodejs xclip cups cups-client cups-pdf sox
           rauc casync squashfs-tools e2fsprogs python3 sane-utils libsane1
           network-manager dbus-daemon cups-ipp-utils)

need_pkgs() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "== installing: ${missing[*]}"
    apt-get update -qq
    # libsane1 depends on udev, which must be libudev1's very version. On a machine whose systemd came
    # from bookworm-backports (.ci/image installs systemd-boot from there), apt would pick bookworm's
    # udev and refuse: ask for udev at libudev1's version when the archive has it.
    local pin=()
    if [[ " ${missing[*]} " == *" libsane1 "* ]] && ! dpkg-query -W -f='${Status}' udev 2>/dev/null | grep -q "install ok installed"; then
      local v
      v="$(dpkg-query -W -f='${Version}' libudev1 2>/dev/null || true)"
      if [ -n "$v" ] && apt-cache madison udev | grep -qF "| $v |"; then pin=("udev=$v"); fi
    fi
    # The tests start NetworkManager themselves, on their own bus in their own network namespace
    # (src-tauri/core/tests/wifi.rs): installing it must not start the machine's own, which would take
    # over its interfaces. policy-rc.d forbids starting services while the packages install.
    local guard=""
    if [[ " ${missing[*]} " == *" network-manager "* ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && guard=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" "${pin[@]}" >/dev/null
    if [ -n "$guard" ]; then rm -f /usr/sbin/policy-rc.d; fi
  fi
}

need_rust() {
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "Rust is missing: install it with rustup (https://rustup.rs), version 1.91 or newer." >&2
    exit 1
  fi
  rustup component add clippy rustfmt >/dev/null 2>&1 || true
}

as_root() {
  if [ "$(id -u)" != 0 ]; then
    exec sudo -E "$0" "$@"
  fi
}
