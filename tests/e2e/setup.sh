#!/usr/bin/env bash
# Prepares this machine for the end-to-end suite (run as root; idempotent):
#   - a throwaway test CA and one leaf certificate for every test host, under $E2E_WORK/certs;
#   - the CA in the system trust store (WebKitGTK, through glib-networking, trusts
#     /etc/ssl/certs/ca-certificates.crt, which update-ca-certificates rebuilds);
#   - the test host names in /etc/hosts, between "# borne-e2e begin" and "# borne-e2e end";
#   - a running CUPS scheduler with a cups-pdf queue, borne-e2e, writing into $E2E_WORK/printed
#     (cups-pdf.conf's Out line is changed; the original is kept and put back by --teardown).
#
#   tests/e2e/setup.sh              set up (again): keeps a still-valid CA and leaf
#   tests/e2e/setup.sh --teardown   removes the CA from the trust store and the hosts block
#   tests/e2e/setup.sh --teardown --purge   also deletes $E2E_WORK
#
# The host table lives in tests/e2e/sites/hosts.mjs (node prints it), so nothing is written twice.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="${E2E_WORK:-/tmp/borne-e2e}"
CERTS="$WORK/certs"
TRUST_FILE=/usr/local/share/ca-certificates/borne-e2e-ca.crt
HOSTS_FILE="${E2E_HOSTS_FILE:-/etc/hosts}"
PRINTER=borne-e2e
PRINTED="$WORK/printed"
CUPS_PDF_CONF=/etc/cups/cups-pdf.conf
CUPS_PDF_PPD=/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd
BEGIN='# borne-e2e begin'
END='# borne-e2e end'

log() { printf 'setup.sh: %s\n' "$*" >&2; }

need_root() {
  if [ "$(id -u)" != 0 ]; then
    log "must run as root (it writes $HOSTS_FILE and the system trust store)"
    exit 1
  fi
}

# Rewrites the hosts file in place (it may be a bind mount: never rename over it).
remove_hosts_block() {
  local tmp
  tmp="$(mktemp)"
  awk -v b="$BEGIN" -v e="$END" '
    $0 == b { skip = 1; next }
    $0 == e { skip = 0; next }
    !skip { print }' "$HOSTS_FILE" >"$tmp"
  cat "$tmp" >"$HOSTS_FILE"
  rm -f "$tmp"
}

add_hosts_block() {
  local lines
  lines="$(node "$HERE/sites/hosts.mjs" etc-hosts)"
  remove_hosts_block
  {
    echo "$BEGIN"
    echo "$lines"
    echo "$END"
  } >>"$HOSTS_FILE"
}

teardown() {
  need_root
  local changed=0
  if [ -e "$TRUST_FILE" ]; then
    rm -f "$TRUST_FILE"
    changed=1
  fi
  if [ "$changed" = 1 ]; then
    update-ca-certificates --fresh >/dev/null 2>&1 || update-ca-certificates >/dev/null
    log "test CA removed from the trust store"
  fi
  if grep -qxF "$BEGIN" "$HOSTS_FILE" 2>/dev/null; then
    remove_hosts_block
    log "hosts block removed from $HOSTS_FILE"
  fi
  if command -v lpadmin >/dev/null && cups_running && lpstat -p "$PRINTER" >/dev/null 2>&1; then
    cancel -a "$PRINTER" 2>/dev/null || true
    lpadmin -x "$PRINTER" && log "printer $PRINTER removed"
  fi
  if [ -e "$CUPS_PDF_CONF.borne-e2e" ]; then
    mv -f "$CUPS_PDF_CONF.borne-e2e" "$CUPS_PDF_CONF"
  fi
  if [ "${1:-}" = "--purge" ]; then
    rm -rf "$WORK"
    log "removed $WORK"
  fi
}

make_ca() {
  if [ -s "$CERTS/ca.pem" ] && [ -s "$CERTS/ca.key" ] &&
    openssl x509 -in "$CERTS/ca.pem" -noout -checkend 86400 >/dev/null 2>&1; then
    return 0
  fi
  log "creating the test CA"
  rm -f "$CERTS/leaf.pem" # a new CA invalidates the old leaf
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 \
    -keyout "$CERTS/ca.key" -out "$CERTS/ca.pem" \
    -subj "/CN=borne-e2e throwaway test CA $(date -u +%Y%m%dT%H%M%S)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1
  chmod 600 "$CERTS/ca.key"
}

make_leaf() {
  local san
  san="$(node "$HERE/sites/hosts.mjs" san)"
  if [ -s "$CERTS/leaf.pem" ] && [ -s "$CERTS/leaf.key" ] && [ "$(cat "$CERTS/leaf.san" 2>/dev/null)" = "$san" ] &&
    openssl x509 -in "$CERTS/leaf.pem" -noout -checkend 86400 >/dev/null 2>&1 &&
    openssl verify -CAfile "$CERTS/ca.pem" "$CERTS/leaf.pem" >/dev/null 2>&1; then
    return 0
  fi
  log "creating the leaf certificate"
  local ext
  ext="$(mktemp)"
  cat >"$ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san
EOF
  openssl req -new -newkey rsa:2048 -nodes -sha256 \
    -keyout "$CERTS/leaf.key" -out "$CERTS/leaf.csr" -subj "/CN=www.institution.test" >/dev/null 2>&1
  openssl x509 -req -sha256 -days 29 -in "$CERTS/leaf.csr" \
    -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" -CAcreateserial \
    -extfile "$ext" -out "$CERTS/leaf.pem" >/dev/null 2>&1
  rm -f "$ext" "$CERTS/leaf.csr"
  chmod 600 "$CERTS/leaf.key"
  echo "$san" >"$CERTS/leaf.san"
}

install_ca() {
  mkdir -p "$(dirname "$TRUST_FILE")"
  if [ -e "$TRUST_FILE" ] && cmp -s "$CERTS/ca.pem" "$TRUST_FILE" &&
    grep -qF "$(sed -n 2p "$CERTS/ca.pem")" /etc/ssl/certs/ca-certificates.crt 2>/dev/null; then
    return 0
  fi
  log "installing the test CA into the system trust store"
  cp "$CERTS/ca.pem" "$TRUST_FILE"
  chmod 644 "$TRUST_FILE"
  # --fresh drops an older borne-e2e CA that a previous run may have left in the bundle.
  update-ca-certificates --fresh >/dev/null
}

cups_running() { lpstat -r 2>/dev/null | grep -q 'scheduler is running'; }

# CUPS with a cups-pdf queue: what the kiosk prints lands as a PDF in $PRINTED.
setup_printer() {
  if ! command -v cupsd >/dev/null || [ ! -e "$CUPS_PDF_PPD" ]; then
    log "CUPS or cups-pdf missing (apt-get install cups cups-client cups-pdf): no test printer"
    return 0
  fi
  # `lpstat -r` exits 0 even when it says "scheduler is not running": read what it says.
  if ! cups_running; then
    log "starting the CUPS scheduler"
    mkdir -p /run/cups
    cupsd
    for _ in $(seq 50); do cups_running && break; sleep 0.1; done
  fi
  mkdir -p "$PRINTED"
  chmod 1777 "$PRINTED"
  [ -e "$CUPS_PDF_CONF.borne-e2e" ] || cp "$CUPS_PDF_CONF" "$CUPS_PDF_CONF.borne-e2e"
  sed -i "s|^Out .*|Out $PRINTED|" "$CUPS_PDF_CONF"
  # Always made anew: a queue of that name found at start may be a stale entry of printers.conf (a
  # scheduler stopped before it rewrote the file after a teardown's delete) whose PPD is gone. Such
  # a queue is raw: it hands the PDF as is to cups-pdf, which makes a blank page of it, and every
  # printing test fails (the CI of stop 23 did, on a machine where cupsd was started by this script).
  lpadmin -x "$PRINTER" 2>/dev/null || true
  lpadmin -p "$PRINTER" -E -v cups-pdf:/ -P "$CUPS_PDF_PPD" 2>/dev/null
  # cups-pdf's PPD has a Label option: a queue without it has no PPD, that is, is raw.
  if ! lpoptions -p "$PRINTER" -l 2>/dev/null | grep -q '^Label'; then
    log "printer $PRINTER was made without cups-pdf's PPD ($CUPS_PDF_PPD): a raw queue prints blank pages"
    exit 1
  fi
  log "printer $PRINTER created (cups-pdf into $PRINTED)"
  # Ghostscript, cups-filters' default, turns a Skia PDF (what WebKit prints) into one image per
  # page; pdftocairo keeps its text, so the tests can read what came out (pdftotext).
  lpadmin -p "$PRINTER" -o pdftops-renderer-default=pdftocairo
  # Jobs an interrupted run left in the queue (a machine stopped mid-run) would print now and be taken
  # for this run's: purge them, and what they printed, before the queue accepts anything.
  cancel -a -x "$PRINTER" 2>/dev/null || true
  rm -f "$PRINTED"/*.pdf
  cupsenable "$PRINTER"
  cupsaccept "$PRINTER"
}

setup() {
  need_root
  for cmd in openssl update-ca-certificates node awk; do
    command -v "$cmd" >/dev/null || {
      log "missing command: $cmd (apt-get install openssl ca-certificates nodejs)"
      exit 1
    }
  done
  mkdir -p "$CERTS"
  chmod 700 "$CERTS"
  make_ca
  make_leaf
  install_ca
  add_hosts_block
  setup_printer
  log "ready: CA $CERTS/ca.pem, leaf $CERTS/leaf.pem, hosts block in $HOSTS_FILE"
}

case "${1:-}" in
"") setup ;;
--teardown) teardown "${2:-}" ;;
-h | --help) sed -n '2,13p' "$0" ;;
*)
  log "unknown argument: $1"
  exit 2
  ;;
esac
