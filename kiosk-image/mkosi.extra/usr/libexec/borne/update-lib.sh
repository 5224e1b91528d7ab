# Shared by the borne's update scripts (sourced, POSIX sh): settings, slots, versions, and the record
# of updates on the state partition. kiosk-image/README.md, "Updates", says how they fit together.
#
# Settings, `key=value` lines, the state partition's file winning over the image's:
#   /var/lib/borne-state/system/update.conf   this borne's (the federation, through SSH or the setup)
#   /etc/borne/update.conf                    the image's (build.sh: BORNE_UPDATE_URL)
# Keys: url (the bundle's HTTPS address, NAME.raucb with NAME.castr/ beside it; empty: no updates;
# the server's certificate must come from a CA of the system's store), boot_deadline_secs (a new slot
# that has not shown its portal by then is rebooted; default 600), crash_restarts (kiosk restarts
# without a portal that also count as a failed boot; default 5).
# The record, readable by all (the kiosk's Maintenance screen), written by root only:
#   /var/lib/borne-state/updates/status          last check: when, what, outcome (key=value)
#   /var/lib/borne-state/updates/failed-versions versions that did not reach their portal here
#   /var/lib/borne-state/updates/events.log      one line per install, refusal, good boot, rollback
#   /var/lib/borne-state/updates/trial-<slot>    a slot installed and not yet seen good

UPDATES=/var/lib/borne-state/updates
SETTINGS_LOCAL=/var/lib/borne-state/system/update.conf
SETTINGS_IMAGE=/etc/borne/update.conf

setting() { # setting KEY [DEFAULT]
    v=""
    for f in "$SETTINGS_LOCAL" "$SETTINGS_IMAGE"; do
        [ -r "$f" ] || continue
        v=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$f" | tail -n 1 | sed 's/[[:space:]]*$//')
        [ -n "$v" ] && break
    done
    printf '%s\n' "${v:-${2:-}}"
}

booted_slot() { sed -n 's/.*rauc\.slot=\([AB]\).*/\1/p' /proc/cmdline; }
other_slot() { [ "$(booted_slot)" = A ] && echo B || echo A; }
running_version() { (. /etc/os-release && printf '%s\n' "${IMAGE_VERSION:-0}"); }
# The version of the bundle RAUC is installing, for its system handlers (RAUC 1.8 gives them the
# mounted bundle, not RAUC_MF_VERSION): its signed manifest's [update] version.
bundle_version() {
    sed -n '/^\[update\]/,/^\[/s/^version=//p' "${RAUC_BUNDLE_MOUNT_POINT:-/nonexistent}/manifest.raucm" 2>/dev/null | head -n 1
}

grubenv_get() { grub-editenv /efi/grub/grubenv list 2>/dev/null | sed -n "s/^$1=//p"; }

log_event() { # log_event WORDS...: the journal (English) and the record
    mkdir -p "$UPDATES"
    printf '%s %s\n' "$(date -Iseconds)" "$*" >> "$UPDATES/events.log"
    echo "$*"
}

set_status() { # set_status KEY=VALUE...: updates those keys of the status file
    mkdir -p "$UPDATES"
    tmp="$UPDATES/status.tmp"
    [ -f "$UPDATES/status" ] && cp "$UPDATES/status" "$tmp" || : > "$tmp"
    for kv in "$@"; do
        k=${kv%%=*}
        grep -v "^$k=" "$tmp" > "$tmp.2" || true
        printf '%s\n' "$kv" >> "$tmp.2"
        mv "$tmp.2" "$tmp"
    done
    mv "$tmp" "$UPDATES/status"
}
