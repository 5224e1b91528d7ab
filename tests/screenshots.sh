#!/usr/bin/env bash
# Regenerates the pictures the docs show (docs/screenshots/) from a real kiosk under Xvfb: the wipe
# suite takes the portal, the blocked page and the idle countdown as a person sees them; the admin
# suite each of the référent's screens; the print suite the print dialog; the network-fault suite the
# page of a site that does not answer; the help suite a help sheet; the inclusion suite the help
# directory, text size and contrast, the end-of-session question and the portal in each language; the
# translations suite a national help sheet in Arabic and in Ukrainian; the documents suite the viewer,
# « Mes documents » and the list a site's file chooser gets.
# With --image, also the pictures of the disk image in qemu (docs/screenshots/image-*.png: the portal in
# UEFI and BIOS, the setup file applied and refused), through .ci/image (builds and boots the image).
# Root, like the end-to-end suites (tests/e2e/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --image ]; then
  BORNE_PROFILE="${BORNE_PROFILE:-dev}" .ci/image
fi
E2E_ARTIFACTS="$(mktemp -d)"
export E2E_ARTIFACTS
tests/e2e/run.sh tests/e2e/wipe.test.mjs tests/e2e/admin.test.mjs tests/e2e/print.test.mjs tests/e2e/netfault.test.mjs \
  tests/e2e/help.test.mjs tests/e2e/inclusion.test.mjs tests/e2e/translations.test.mjs tests/e2e/documents.test.mjs
for shot in portal blocked countdown admin-pin-choose admin-pin-locked admin-tiles admin-tiles-error admin-settings \
  admin-stats admin-matomo admin-versions admin-maintenance admin-problems admin-help print-dialog neterror help-sheet \
  help-sheet-ar help-sheet-uk help-directory portal-200-contrast outcome portal-fr portal-ar portal-en portal-uk \
  portal-pt portal-ro docs-viewer docs-panel docs-upload; do
  cp "$E2E_ARTIFACTS/$shot.png" "docs/screenshots/$shot.png"
  echo "docs/screenshots/$shot.png"
done
rm -rf "$E2E_ARTIFACTS"
