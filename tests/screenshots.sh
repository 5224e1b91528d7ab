#!/usr/bin/env bash
# Regenerates the pictures the docs show (docs/screenshots/) from a real kiosk under Xvfb: the wipe
# suite takes the portal, the blocked page and the idle countdown as a person sees them; the admin
# suite each of the référent's screens; the print suite the print dialog; the network-fault suite the
# page of a site that does not answer; the help suite a help sheet; the inclusion suite the help
# directory, text size and contrast, the end-of-session question and the portal in each language; the
# translations suite a national help sheet in Arabic and in Ukrainian; the documents suite the viewer,
# « Mes documents » and the list a site's file chooser gets; the kit suite the référent's kit buttons; the
# scan suite « Numériser un document » (French, Arabic, from a site's file chooser); the end-print suite
# « Imprimer mes documents avant de partir »; the accompany suite the staff code dialog; the hours suite the
# closed and dark screens; the printers suite « Imprimante »; the admin suite « Réseau »; the laptop suite
# the toolbar's low-battery warning; the stats suite the statistics screen.
# With --image, also the pictures of the disk image in qemu (docs/screenshots/image-*.png: the portal in
# UEFI and BIOS, the setup file applied and refused), through .ci/image (builds and boots the image).
# Root, like the end-to-end suites (tests/e2e/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# The communication kit (docs/screenshots/kit-*.png): `bornectl kit` on a sample borne (the shipped
# config, a centre's name and languages fr+ar+uk, a référent's own tile), French and Arabic, each PDF
# page drawn by pdftoppm at 50 dpi. No kiosk needed: `tests/screenshots.sh --kit` makes these alone.
kit_pictures() {
  cargo build -q -p bornectl
  local d
  d="$(mktemp -d)"
  mkdir -p "$d/config" "$d/state"
  cp config/borne.toml config/catalogue.toml config/demarches.toml "$d/config/"
  printf '%s\n' '[centre]' 'name = "Centre social Les Tilleuls"' 'help_place = "Au bureau d'"'"'accueil, au rez-de-chaussée"' \
    '[languages]' 'offered = ["fr", "ar", "uk"]' >"$d/state/settings.toml"
  printf '%s\n' '[[services]]' 'id = "mairie-lilas"' 'name = "Mairie des Lilas"' 'description = "État civil et inscriptions"' \
    'theme = "quotidien"' 'pictogram = "guichet"' 'url = "https://www.ville-leslilas.fr/"' 'hosts = ["www.ville-leslilas.fr"]' \
    >"$d/state/local.toml"
  target/debug/bornectl --config "$d/config" --state "$d/state" kit --out "$d/out" --lang ar
  pdftoppm -r 50 -png -singlefile "$d/out/affiche-A4.pdf" docs/screenshots/kit-poster
  pdftoppm -r 50 -png -singlefile "$d/out/depliant-A5.pdf" docs/screenshots/kit-flyer
  # The booklet's second page: the first sheet in French, then in Arabic.
  pdftoppm -r 50 -png -singlefile -f 2 "$d/out/fiches-avant-de-commencer.pdf" docs/screenshots/kit-booklet
  rm -rf "$d"
  echo docs/screenshots/kit-poster.png docs/screenshots/kit-flyer.png docs/screenshots/kit-booklet.png
}
if [ "${1:-}" = --kit ]; then
  kit_pictures
  exit 0
fi
kit_pictures
if [ "${1:-}" = --image ]; then
  BORNE_PROFILE="${BORNE_PROFILE:-dev}" .ci/image
fi
E2E_ARTIFACTS="$(mktemp -d)"
export E2E_ARTIFACTS
tests/e2e/run.sh tests/e2e/wipe.test.mjs tests/e2e/admin.test.mjs tests/e2e/print.test.mjs tests/e2e/netfault.test.mjs \
  tests/e2e/help.test.mjs tests/e2e/inclusion.test.mjs tests/e2e/translations.test.mjs tests/e2e/documents.test.mjs \
  tests/e2e/kit.test.mjs tests/e2e/scan.test.mjs tests/e2e/endprint.test.mjs \
  tests/e2e/accompany.test.mjs tests/e2e/hours.test.mjs tests/e2e/printers.test.mjs tests/e2e/laptop.test.mjs \
  tests/e2e/stats.test.mjs
for shot in portal blocked countdown admin-pin-choose admin-pin-locked admin-tiles admin-tiles-error admin-settings \
  admin-stats admin-matomo admin-versions admin-maintenance admin-problems admin-help print-dialog neterror help-sheet \
  help-sheet-ar help-sheet-uk help-directory portal-200-contrast outcome portal-fr portal-ar portal-en portal-uk \
  portal-pt portal-ro docs-viewer docs-panel docs-upload admin-kit scan-dialog scan-dialog-ar scan-upload end-print \
  accompany hours-closed hours-dark admin-printers admin-network battery-low; do
  cp "$E2E_ARTIFACTS/$shot.png" "docs/screenshots/$shot.png"
  echo "docs/screenshots/$shot.png"
done
rm -rf "$E2E_ARTIFACTS"
