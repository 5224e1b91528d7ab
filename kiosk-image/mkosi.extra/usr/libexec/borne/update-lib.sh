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
# The update address has one more, first, source: the référent's, from the Maintenance screen
# (update_url below).
# The record, readable by all (the kiosk's Maintenance screen), written by root only:
#   /var/lib/borne-state/updates/status          last check: when, what, outcome, failures in a row,
#                                                next check, address used (key=value)
#   /var/lib/borne-state/updates/failed-versions versions that did not reach their portal here
#   /var/lib/borne-state/updates/events.log      one line per install, refusal, good boot, rollback
#   /var/lib/borne-state/updates/trial-<slot>    a slot installed and not yet seen good
# The paths can be moved with BORNE_STATE_PARTITION, BORNE_ETC, BORNE_KIOSK_STATE and BORNE_RUN (the
# host test of the updater, tests/updater.rs; systemd never sets them).

STATE_PARTITION=${BORNE_STATE_PARTITION:-/var/lib/borne-state}
ETC=${BORNE_ETC:-/etc/borne}
KIOSK_STATE=${BORNE_KIOSK_STATE:-/var/lib/borne}
RUN=${BORNE_RUN:-/run/borne}
UPDATES=$STATE_PARTITION/updates
SETTINGS_LOCAL=$STATE_PARTITION/system/update.conf
SETTINGS_IMAGE=$ETC/update.conf

setting() { # setting KEY [DEFAULT]
    v=""
    for f in "$SETTINGS_LOCAL" "$SETTINGS_IMAGE"; do
        [ -r "$f" ] || continue
        v=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$f" | tail -n 1 | sed 's/[[:space:]]*$//')
        [ -n "$v" ] && break
    done
    printf '%s\n' "${v:-${2:-}}"
}

# The [updates] url of a TOML file as written (`url = "…"`; the last one), nothing when there is none.
toml_update_url() { # toml_update_url FILE
    [ -r "$1" ] || return 0
    awk '/^[[:space:]]*\[/ { in_updates = ($0 ~ /^[[:space:]]*\[updates\][[:space:]]*(#.*)?$/); next }
         in_updates && /^[[:space:]]*url[[:space:]]*=/ {
             v = $0; sub(/^[^=]*=[[:space:]]*/, "", v); sub(/[[:space:]]*(#.*)?$/, "", v)
             q = substr(v, 1, 1)
             if ((q == "\"" || q == "\047") && length(v) >= 2 && substr(v, length(v), 1) == q) url = substr(v, 2, length(v) - 2)
             else url = ""
         }
         END { print url }' "$1"
}

# Whether $1 is an address the updater uses: https, a file NAME.raucb, at most 512 characters of
# A-Z a-z 0-9 - . _ ~ : / % (no user, query or fragment; no quote, space or character a shell, curl's
# globbing or RAUC could read as anything but the address). borne_core::updates::parse_update_url is
# the same rule, with the référent's French message; this is the wall behind it.
valid_update_url() {
    case "$1" in https://?*/?*.raucb) ;; *) return 1 ;; esac
    case "$1" in *[!A-Za-z0-9._~:/%-]*) return 1 ;; esac
    [ "${#1}" -le 512 ]
}

# The update address and where it comes from (`URL SOURCE`; nothing when none is set), the first one
# set of:
#   admin  the référent's, from the Maintenance screen: [updates] url of the kiosk's settings.toml
#   setup  borne-setup.toml's (or the federation's, over SSH): url= of the state partition's update.conf
#   image  url= of the image's update.conf (build.sh), else [updates] url of the image's borne.toml
# The kiosk's user writes its settings.toml: a value there that is not valid_update_url is skipped
# (said on stderr, the journal) and the next source is used. Every source is checked the same way by
# the caller before use.
update_url() {
    u=$(toml_update_url "$KIOSK_STATE/settings.toml")
    if [ -n "$u" ]; then
        if valid_update_url "$u"; then
            printf '%s admin\n' "$u"
            return
        fi
        echo "the référent's update address in $KIOSK_STATE/settings.toml is not an https .raucb address: ignored" >&2
    fi
    for f in "$SETTINGS_LOCAL" "$SETTINGS_IMAGE"; do
        [ -r "$f" ] || continue
        u=$(sed -n 's/^[[:space:]]*url[[:space:]]*=[[:space:]]*//p' "$f" | tail -n 1 | sed 's/[[:space:]]*$//')
        if [ -n "$u" ]; then
            [ "$f" = "$SETTINGS_LOCAL" ] && printf '%s setup\n' "$u" || printf '%s image\n' "$u"
            return
        fi
    done
    u=$(toml_update_url "$ETC/borne.toml")
    [ -n "$u" ] && printf '%s image\n' "$u"
    return 0
}

# A key of the record, as last written.
status_get() { sed -n "s/^$1=//p" "$UPDATES/status" 2>/dev/null | tail -n 1; }

boot_id() { cat /proc/sys/kernel/random/boot_id 2>/dev/null; }

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
