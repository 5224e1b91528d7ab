//! The image's A/B updater as the référent's Maintenance screen shows it.
//!
//! The updater (RAUC and the scripts in `kiosk-image/mkosi.extra/usr/libexec/borne/`, see
//! `update-lib.sh`) keeps its record in [`RECORD`]: `key=value` lines, root writes them, everyone may
//! read them. This module reads that record into codes the screen translates (ui/i18n), so the
//! référent reads in plain words which version runs on which slot, when the borne last looked for an
//! update and what came of it, what waits for the next restart, the last refusal and the last
//! rollback, the failed checks in a row and when the next one comes, the address in use and whose it
//! is. Nothing here is personal: versions, slots, addresses and dates of the machine.
//!
//! It also owns the rule of an update address ([`parse_update_url`]): the référent's (Maintenance
//! screen), `borne.toml`'s and `borne-setup.toml`'s are checked by it; the updater checks the same rule
//! again before using any (`valid_update_url` in `update-lib.sh`).

use std::path::{Path, PathBuf};

/// Longest update address, in characters (the updater refuses longer ones too).
pub const MAX_UPDATE_URL: usize = 512;

/// Why a text is not an update address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateUrlError {
    /// Nothing written.
    #[error("the update address is empty")]
    Empty,
    /// Not a URL at all.
    #[error("not a URL")]
    NotAUrl,
    /// Another scheme than https.
    #[error("the update address must use https (the updater downloads with TLS only)")]
    NotHttps,
    /// A user name or password in the address.
    #[error("the update address must not carry a user name or password")]
    Credentials,
    /// `?…` or `#…`: the chunk store is found beside the bundle by its name, so the address is the file's.
    #[error("the update address must not have a query or fragment")]
    QueryOrFragment,
    /// Not the address of a `NAME.raucb` file.
    #[error("the update address must name a signed bundle file, NAME.raucb")]
    NotABundle,
    /// A character the updater does not take (it accepts A-Z a-z 0-9 - . _ ~ : / % only).
    #[error("the update address has a character the updater does not take: {0:?}")]
    Character(char),
    /// Longer than [`MAX_UPDATE_URL`].
    #[error("the update address is longer than {MAX_UPDATE_URL} characters")]
    TooLong,
}

/// Checks an update address: `https://`, a host, a path to a file `NAME.raucb` (its casync chunk store
/// `NAME.castr/` is beside it), no user, query or fragment, at most [`MAX_UPDATE_URL`] characters of
/// `A-Z a-z 0-9 - . _ ~ : / %` once written out (non-ASCII letters become `%` escapes and `xn--`
/// names). The value saved and given to the updater is the returned URL's text.
pub fn parse_update_url(text: &str) -> Result<url::Url, UpdateUrlError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(UpdateUrlError::Empty);
    }
    let u = url::Url::parse(t).map_err(|_| UpdateUrlError::NotAUrl)?;
    if u.scheme() != "https" {
        return Err(UpdateUrlError::NotHttps);
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(UpdateUrlError::NotAUrl);
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(UpdateUrlError::Credentials);
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(UpdateUrlError::QueryOrFragment);
    }
    let file = u.path_segments().and_then(|mut s| s.next_back()).unwrap_or_default();
    if file.len() <= ".raucb".len() || !file.ends_with(".raucb") {
        return Err(UpdateUrlError::NotABundle);
    }
    let out = u.as_str();
    if let Some(c) = out.chars().find(|c| !(c.is_ascii_alphanumeric() || "-._~:/%".contains(*c))) {
        return Err(UpdateUrlError::Character(c));
    }
    if out.len() > MAX_UPDATE_URL {
        return Err(UpdateUrlError::TooLong);
    }
    Ok(u)
}

/// The updater's record on the image's state partition.
pub const RECORD: &str = "/var/lib/borne-state/updates/status";

/// The record's path: [`RECORD`], or `BORNE_UPDATER_RECORD` when set (an image with another layout,
/// and the end-to-end tests, which cannot write the real one).
pub fn record_path() -> PathBuf {
    std::env::var_os("BORNE_UPDATER_RECORD").map_or_else(|| PathBuf::from(RECORD), PathBuf::from)
}

/// What the last check for an update came to (the `outcome` key), as a code for the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No update address is set: this borne is not updated through the network.
    NoAddress,
    /// A new version is installed on the other slot and starts at the next restart.
    Waiting,
    /// Nothing newer was published.
    UpToDate,
    /// A new version was just installed.
    Installed,
    /// The published version already failed here; the borne waits for a newer one.
    FailedHere,
    /// The update server could not be reached or the download failed (tried again later).
    Network,
    /// Not enough room on the state partition for the download.
    Space,
    /// A web page answered instead of the bundle: a captive portal (a Wi-Fi to accept), or a wrong
    /// address (tried again later, as a network error).
    Portal,
    /// The address in use is not one the updater takes (only the setup's or the image's can be: the
    /// référent's is checked when saved).
    BadAddress,
    /// The bundle was refused: not signed by the federation, or altered.
    Signature,
    /// Another error (the log says which).
    Other,
}

impl Outcome {
    /// The code the screen translates (`admin.updates.outcome.<code>`).
    pub fn code(self) -> &'static str {
        match self {
            Outcome::NoAddress => "no-address",
            Outcome::Waiting => "waiting",
            Outcome::UpToDate => "up-to-date",
            Outcome::Installed => "installed",
            Outcome::FailedHere => "failed-here",
            Outcome::Network => "network",
            Outcome::Space => "space",
            Outcome::Portal => "portal",
            Outcome::BadAddress => "bad-address",
            Outcome::Signature => "signature",
            Outcome::Other => "other",
        }
    }

    /// The check ended in an error (the download or the install failed).
    pub fn is_error(self) -> bool {
        matches!(
            self,
            Outcome::Network
                | Outcome::Space
                | Outcome::Signature
                | Outcome::Other
                | Outcome::Portal
                | Outcome::BadAddress
        )
    }

    /// From the updater's words (`update` in the image).
    fn parse(text: &str) -> Outcome {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        if t == "no update address set" {
            Outcome::NoAddress
        } else if t.starts_with("an update waits") {
            Outcome::Waiting
        } else if t.starts_with("up to date") {
            Outcome::UpToDate
        } else if t == "installed" {
            Outcome::Installed
        } else if t.starts_with("the published version failed here") {
            Outcome::FailedHere
        } else if lower.starts_with("error: web page instead of a bundle") {
            Outcome::Portal
        } else if lower.starts_with("error: url must be") {
            Outcome::BadAddress
        } else if lower.starts_with("error: curl:") || lower.starts_with("error: download:") {
            // curl's words (resolving, connecting, TLS, HTTP status) and RAUC's or casync's failed
            // downloads: a TLS certificate a captive portal or a proxy puts in the way is a network
            // error, not a bundle's signature.
            Outcome::Network
        } else if lower.contains("signature") || lower.contains("verif") || lower.contains("certificate") {
            Outcome::Signature
        } else if lower.contains("free on the state partition") {
            Outcome::Space
        } else if lower.starts_with("error: install") {
            Outcome::Other
        } else if lower.starts_with("error") {
            // curl's words: resolving, connecting, TLS, HTTP status, a cut download.
            Outcome::Network
        } else {
            Outcome::Other
        }
    }
}

/// Why the last refused bundle was refused (the `last_refusal` key), as a code for the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not newer than the running system: a downgrade, or the same version again.
    NotNewer,
    /// That version already failed to show its portal here.
    AlreadyFailed,
    /// Not signed by the federation's key, or altered after signing.
    Signature,
    /// Another reason (the log says which).
    Other,
}

impl Refusal {
    /// The code the screen translates (`admin.updates.refusal.<code>`).
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NotNewer => "not-newer",
            Refusal::AlreadyFailed => "already-failed",
            Refusal::Signature => "signature",
            Refusal::Other => "other",
        }
    }

    fn parse(reason: &str) -> Refusal {
        let r = reason.to_ascii_lowercase();
        if r.contains("not newer") {
            Refusal::NotNewer
        } else if r.contains("already failed") {
            Refusal::AlreadyFailed
        } else if r.contains("signature") || r.contains("verif") || r.contains("certificate") {
            Refusal::Signature
        } else {
            Refusal::Other
        }
    }
}

/// A refused bundle: when, which version, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// When (local time of the borne, to the minute).
    pub when: String,
    /// The bundle's version, if it said one.
    pub version: Option<String>,
    /// Why.
    pub why: Refusal,
}

/// A rollback: when, the version that did not show its portal, the version running again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollback {
    /// When (to the minute).
    pub when: String,
    /// The version that failed.
    pub failed: String,
    /// The version the borne went back to.
    pub back_to: String,
}

/// Everything the Maintenance screen shows of the updater.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// The version running (the image's `IMAGE_VERSION`), once a slot was seen good.
    pub running: Option<String>,
    /// The slot running, `A` or `B`.
    pub slot: Option<char>,
    /// The last check for an update (to the minute).
    pub last_check: Option<String>,
    /// What it came to.
    pub outcome: Option<Outcome>,
    /// A version installed on the other slot that starts at the next restart.
    pub pending: Option<String>,
    /// The last refused bundle.
    pub last_refusal: Option<Refused>,
    /// The last rollback.
    pub last_rollback: Option<Rollback>,
    /// Checks that failed in a row (0 after one that went well).
    pub failures: u32,
    /// When the timer's next check is due (to the minute, local time of the borne).
    pub next_check: Option<String>,
    /// The update address the last check used.
    pub url: Option<String>,
    /// Whose address it is.
    pub url_from: Option<UrlSource>,
}

/// Where the update address in use comes from (the updater takes the first one set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlSource {
    /// The référent's, from the Maintenance screen (`[updates] url` of the kiosk's `settings.toml`).
    Admin,
    /// `borne-setup.toml`'s, or the federation's over SSH (the state partition's `update.conf`).
    Setup,
    /// The image's (`/etc/borne/update.conf` from build.sh, or `[updates] url` of its `borne.toml`).
    Image,
}

impl UrlSource {
    /// The code the screen translates (`admin.updates.from.<code>`).
    pub fn code(self) -> &'static str {
        match self {
            UrlSource::Admin => "admin",
            UrlSource::Setup => "setup",
            UrlSource::Image => "image",
        }
    }
}

/// `2026-12-06T20:10:07+01:00` → `2026-12-06 20:10`; anything else as it is, cut short.
fn minute(iso: &str) -> String {
    let t = iso.trim();
    let ok = t.len() >= 16 && t.as_bytes()[10] == b'T' && t.is_char_boundary(16);
    if ok {
        format!("{} {}", &t[..10], &t[11..16])
    } else {
        t.chars().take(25).collect()
    }
}

/// A date the updater wrote first on a line, then the rest.
fn split_when(value: &str) -> (String, &str) {
    match value.trim().split_once(' ') {
        Some((when, rest)) => (minute(when), rest.trim()),
        None => (minute(value), ""),
    }
}

/// Reads the updater's record (`key=value` lines; the last line of a key wins; unknown keys and
/// lines are ignored).
pub fn parse(text: &str) -> Status {
    let get = |key: &str| {
        text.lines()
            .rev()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let slot = match get("slot") {
        Some("A" | "a") => Some('A'),
        Some("B" | "b") => Some('B'),
        _ => None,
    };
    let pending = get("pending").map(|p| p.split_whitespace().next().unwrap_or(p).to_string());
    // `<when> version <v>: <reason>` (rauc-pre-install, update).
    let last_refusal = get("last_refusal").map(|v| {
        let (when, rest) = split_when(v);
        let (head, reason) = rest.split_once(':').unwrap_or(("", rest));
        let version = head.strip_prefix("version ").map(str::trim).filter(|v| !v.is_empty() && *v != "none");
        Refused { when, version: version.map(str::to_string), why: Refusal::parse(reason) }
    });
    // `<when> version <failed> on slot <X>, back to <version>` (boot-check).
    let last_rollback = get("last_rollback").map(|v| {
        let (when, rest) = split_when(v);
        let failed = rest.strip_prefix("version ").and_then(|r| r.split_whitespace().next()).unwrap_or("?");
        let back_to = rest.rsplit_once("back to ").map_or("?", |(_, b)| b.trim());
        Rollback { when, failed: failed.to_string(), back_to: back_to.to_string() }
    });
    Status {
        running: get("running").map(str::to_string),
        slot,
        last_check: get("last_check").map(minute),
        outcome: get("outcome").map(Outcome::parse),
        pending,
        last_refusal,
        last_rollback,
        failures: get("failures").and_then(|n| n.parse().ok()).unwrap_or(0),
        next_check: get("next_check").map(minute),
        url: get("url").map(str::to_string),
        url_from: match get("url_from") {
            Some("admin") => Some(UrlSource::Admin),
            Some("setup") => Some(UrlSource::Setup),
            Some("image") => Some(UrlSource::Image),
            _ => None,
        },
    }
}

/// The record at `path`: `None` when there is none (no A/B updater on this machine: a development
/// machine, or the borne installed from its .deb on an ordinary Debian).
pub fn read(path: &Path) -> Option<Status> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(parse(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read the updater's record");
            Some(Status { outcome: Some(Outcome::Other), ..Status::default() })
        }
    }
}

/// When the borne may restart by itself into a new version waiting on its other slot: a daily range
/// of local time (`[updates] reboot_window`, "02:00-05:00" by default: at night, when centres are
/// closed). A range may cross midnight ("22:30-06:00").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebootWindow {
    start: u16,
    end: u16,
}

/// The default reboot window.
pub const DEFAULT_REBOOT_WINDOW: RebootWindow = RebootWindow { start: 2 * 60, end: 5 * 60 };

impl Default for RebootWindow {
    fn default() -> Self {
        DEFAULT_REBOOT_WINDOW
    }
}

impl RebootWindow {
    /// `HH:MM-HH:MM` (24-hour clock, the two ends different).
    pub fn parse(text: &str) -> Option<RebootWindow> {
        let minute = |t: &str| {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h < 24 && m < 60 && !t.trim().starts_with('+')).then_some(h * 60 + m)
        };
        let (a, b) = text.split_once('-')?;
        let (start, end) = (minute(a)?, minute(b)?);
        (start != end).then_some(RebootWindow { start, end })
    }

    /// Whether `minute_of_day` (0 to 1439, local time) is in the window (its end excluded).
    pub fn contains(&self, minute_of_day: u16) -> bool {
        if self.start < self.end {
            (self.start..self.end).contains(&minute_of_day)
        } else {
            minute_of_day >= self.start || minute_of_day < self.end
        }
    }
}

impl std::fmt::Display for RebootWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}-{:02}:{:02}", self.start / 60, self.start % 60, self.end / 60, self.end % 60)
    }
}

/// Whether the borne restarts now into the version waiting on its other slot: one waits (the updater
/// installed it), the local time is in the window, the centre is not open by its opening hours (`open`
/// is false for a borne without structured hours), and nobody is using the borne (no person's session,
/// no référent's screen). Otherwise it waits for the next tick, or the next power-on.
pub fn reboot_due(
    status: Option<&Status>,
    window: RebootWindow,
    minute_of_day: u16,
    open: bool,
    nobody_there: bool,
) -> bool {
    status.is_some_and(|s| s.pending.is_some()) && window.contains(minute_of_day) && !open && nobody_there
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reboot_windows() {
        let night = RebootWindow::parse("02:00-05:00").unwrap();
        assert_eq!(night, RebootWindow::default());
        assert_eq!(night.to_string(), "02:00-05:00");
        assert!(!night.contains(119) && night.contains(120) && night.contains(299) && !night.contains(300));
        let across = RebootWindow::parse(" 22:30 - 06:00 ").unwrap();
        assert!(across.contains(22 * 60 + 30) && across.contains(0) && across.contains(359) && !across.contains(360));
        assert!(!across.contains(12 * 60));
        for bad in
            ["", "2-5", "02:00", "02:00-02:00", "24:00-05:00", "02:60-05:00", "nuit", "02:00-+5:00", "-1:00-05:00"]
        {
            assert_eq!(RebootWindow::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_borne_restarts_itself_only_with_a_version_waiting_in_the_window_closed_and_nobody_there() {
        let waiting = parse("running=1\npending=2 slot B\n");
        let nothing = parse("running=1\n");
        let w = RebootWindow::default();
        let three_am = 3 * 60;
        // (status, minute, open by the hours, nobody there, restart, why)
        type Row<'a> = (Option<&'a Status>, u16, bool, bool, bool, &'a str);
        let table: [Row; 7] = [
            (Some(&waiting), three_am, false, true, true, "a version waits, at night, closed, nobody"),
            (Some(&waiting), three_am, false, false, false, "someone is using the borne"),
            (Some(&waiting), 10 * 60, false, true, false, "outside the window"),
            (Some(&waiting), three_am, true, true, false, "the centre is open (a night opening)"),
            (Some(&nothing), three_am, false, true, false, "nothing waits"),
            (None, three_am, false, true, false, "no updater"),
            (Some(&waiting), 4 * 60 + 59, false, true, true, "the window's last minute"),
        ];
        for (status, minute, open, nobody, want, why) in table {
            assert_eq!(reboot_due(status, w, minute, open, nobody), want, "{why}");
        }
    }

    #[test]
    fn the_opening_hours_hold_the_restart_back_in_a_whole_day_window() {
        // A window over the whole day (as the boot test sets it): the hours alone decide.
        let plan = crate::hours::HoursPlan::new(
            std::array::from_fn(|_| vec![crate::hours::parse_day("lundi", "9:00-17:00").unwrap()[0]]),
            Vec::new(),
            "Europe/Paris",
        );
        let waiting = parse("running=1\npending=2 slot B\n");
        let w = RebootWindow::parse("00:00-23:59").unwrap();
        for (at, want) in [("2026-12-07T10:00:00+01:00", false), ("2026-12-07T20:00:00+01:00", true)] {
            let now: jiff::Timestamp = at.parse().unwrap();
            let open = plan.is_open(now);
            let z = now.to_zoned_datetime(plan.zone());
            let minute = u16::try_from(i32::from(z.hour()) * 60 + i32::from(z.minute())).unwrap();
            assert_eq!(reboot_due(Some(&waiting), w, minute, open, true), want, "{at}");
        }
    }

    /// What the image's scripts write, in the order a borne's life writes it.
    const LIFE: &str = "\
last_check=2026-12-06T02:14:09+01:00
outcome=installed
install_seconds=412
downloaded_bytes=61234567
pending=2027.01.15 slot B
pending_since=2026-12-06T02:21:01+01:00
running=2026.12.01
slot=A
good_since=2026-12-06T08:01:00+01:00
last_refusal=2026-12-05T10:00:00+01:00 version 2026.11.01: not newer than the running system's 2026.12.01
";

    #[test]
    fn a_borne_with_an_update_waiting() {
        let s = parse(LIFE);
        assert_eq!(s.running.as_deref(), Some("2026.12.01"));
        assert_eq!(s.slot, Some('A'));
        assert_eq!(s.last_check.as_deref(), Some("2026-12-06 02:14"));
        assert_eq!(s.outcome, Some(Outcome::Installed));
        assert_eq!(s.pending.as_deref(), Some("2027.01.15"));
        let r = s.last_refusal.expect("refusal");
        assert_eq!(
            (r.when.as_str(), r.version.as_deref(), r.why),
            ("2026-12-05 10:00", Some("2026.11.01"), Refusal::NotNewer)
        );
        assert_eq!(s.last_rollback, None);
    }

    #[test]
    fn the_last_line_of_a_key_wins_and_an_emptied_key_is_none() {
        let s = parse(&format!("{LIFE}pending=\npending_since=\nslot=B\nrunning=2027.01.15\n"));
        assert_eq!(s.pending, None);
        assert_eq!((s.slot, s.running.as_deref()), (Some('B'), Some("2027.01.15")));
    }

    #[test]
    fn a_rollback() {
        let s = parse(
            "running=2027.01.15\nslot=B\nlast_rollback=2027-01-20T03:02:01+01:00 version 2027.01.20 on slot A, back to 2027.01.15\n",
        );
        assert_eq!(
            s.last_rollback,
            Some(Rollback {
                when: "2027-01-20 03:02".into(),
                failed: "2027.01.20".into(),
                back_to: "2027.01.15".into()
            })
        );
    }

    #[test]
    fn outcomes_from_the_updaters_words() {
        let cases = [
            ("no update address set", Outcome::NoAddress),
            ("an update waits for the next restart", Outcome::Waiting),
            ("up to date (bundle unchanged)", Outcome::UpToDate),
            ("up to date", Outcome::UpToDate),
            ("installed", Outcome::Installed),
            ("the published version failed here; waiting for a newer one", Outcome::FailedHere),
            ("error: curl: (6) Could not resolve host: maj.example.org", Outcome::Network),
            ("error: curl: (60) SSL certificate problem: unable to get local issuer certificate", Outcome::Network),
            ("error: curl: (22) The requested URL returned error: 503", Outcome::Network),
            ("error: curl: (56) CONNECT tunnel failed, response 407", Outcome::Network),
            (
                "error: web page instead of a bundle (Content-Type text/html;charset=utf-8): a captive portal (a Wi-Fi to accept) or a wrong address",
                Outcome::Portal,
            ),
            ("error: url must be an https:// address of a NAME.raucb file: ftp://x (setup)", Outcome::BadAddress),
            ("error: download: curl: (18) transfer closed with 1000 bytes remaining", Outcome::Network),
            ("error: 600000000 bytes to download, 1000 free on the state partition", Outcome::Space),
            ("error: install: Failed to verify bundle: signature verification failed", Outcome::Signature),
            ("error: install: Installation error: Failed updating slot rootfs.1", Outcome::Other),
            ("something new", Outcome::Other),
        ];
        for (text, want) in cases {
            assert_eq!(Outcome::parse(text), want, "{text}");
        }
    }

    #[test]
    fn refusals_from_the_handlers_words() {
        let cases = [
            ("version 1: not newer than the running system's 2", Refusal::NotNewer),
            ("version 3: already failed here (no portal after its tries)", Refusal::AlreadyFailed),
            ("version none: signature verification failed", Refusal::Signature),
            ("version 3: disk on fire", Refusal::Other),
        ];
        for (reason, want) in cases {
            let s = parse(&format!("last_refusal=2026-12-06T10:00:00+01:00 {reason}\n"));
            assert_eq!(s.last_refusal.map(|r| r.why), Some(want), "{reason}");
        }
        let s = parse("last_refusal=2026-12-06T10:00:00+01:00 version none: not newer than the running system's 2\n");
        assert_eq!(s.last_refusal.and_then(|r| r.version), None);
    }

    #[test]
    fn failures_the_next_check_and_the_address_in_use() {
        let s = parse(
            "last_check=2026-12-07T02:14:09+01:00\noutcome=error: curl: (22) The requested URL returned error: 404\n\
             failures=2\nnext_check=2026-12-07T02:31:40+01:00\nlast_check_boot=0b1c\n\
             url=https://maj.federation.example/borne/borne.raucb\nurl_from=admin\n",
        );
        assert_eq!(s.failures, 2);
        assert_eq!(s.next_check.as_deref(), Some("2026-12-07 02:31"));
        assert_eq!(s.url.as_deref(), Some("https://maj.federation.example/borne/borne.raucb"));
        assert_eq!(s.url_from, Some(UrlSource::Admin));
        assert_eq!(s.outcome, Some(Outcome::Network));
        // A record of an older updater, or a garbled one: no failures, nothing known.
        let old = parse("last_check=2026-12-06T02:14:09+01:00\noutcome=installed\nfailures=many\nurl_from=moon\n");
        assert_eq!((old.failures, old.next_check, old.url, old.url_from), (0, None, None, None));
        assert_eq!(parse(&format!("{LIFE}failures=3\nfailures=0\n")).failures, 0, "the last line wins");
    }

    #[test]
    fn an_update_address_is_https_to_a_raucb_file_in_plain_characters() {
        for good in [
            "https://maj.federation.example/borne/borne.raucb",
            " https://maj.federation.example:8443/borne/borne-2027.raucb ",
            "https://10.0.2.2:4443/current.raucb",
            "https://MAJ.Fédération.example/b.raucb",
        ] {
            let u = parse_update_url(good).unwrap_or_else(|e| panic!("{good}: {e}"));
            assert!(u.as_str().ends_with(".raucb"), "{u}");
        }
        // Written out as the updater reads it: the host in lower case and its IDNA form.
        assert_eq!(
            parse_update_url("https://MAJ.Fédération.example/b.raucb").unwrap().as_str(),
            "https://maj.xn--fdration-b1ab.example/b.raucb"
        );
        use UpdateUrlError as E;
        let cases = [
            ("", E::Empty),
            ("   ", E::Empty),
            ("maj.federation.example/borne.raucb", E::NotAUrl),
            ("https://", E::NotAUrl),
            ("http://maj.federation.example/borne.raucb", E::NotHttps),
            ("ftp://maj.federation.example/borne.raucb", E::NotHttps),
            ("file:///tmp/borne.raucb", E::NotHttps),
            ("https://user:secret@maj.federation.example/borne.raucb", E::Credentials),
            ("https://maj.federation.example/borne.raucb?v=2", E::QueryOrFragment),
            ("https://maj.federation.example/borne.raucb#x", E::QueryOrFragment),
            ("https://maj.federation.example/borne/", E::NotABundle),
            ("https://maj.federation.example/borne.raucb/", E::NotABundle),
            ("https://maj.federation.example/.raucb", E::NotABundle),
            ("https://maj.federation.example/borne.castr", E::NotABundle),
            ("https://maj.federation.example/$(reboot).raucb", E::Character('$')),
            ("https://maj.federation.example/a;reboot;.raucb", E::Character(';')),
            ("https://maj.federation.example/a'b.raucb", E::Character('\'')),
            // curl's globbing: the braces are escaped by the URL parser, the comma is refused.
            ("https://maj.federation.example/{a,b}.raucb", E::Character(',')),
            ("https://[::1]/borne.raucb", E::Character('[')),
        ];
        for (text, want) in cases {
            assert_eq!(parse_update_url(text), Err(want.clone()), "{text:?}");
        }
        let long = format!("https://maj.federation.example/{}.raucb", "a".repeat(MAX_UPDATE_URL));
        assert_eq!(parse_update_url(&long), Err(E::TooLong));
        // A space or a quote is escaped by the URL parser: plain characters, the same file.
        assert_eq!(
            parse_update_url("https://maj.federation.example/a b\"c.raucb").unwrap().as_str(),
            "https://maj.federation.example/a%20b%22c.raucb"
        );
    }

    #[test]
    fn garbage_is_ignored_and_no_record_is_no_updater() {
        let s = parse("\u{0}\u{1}junk\n=x\nslot=Z\nlast_check=yesterday\n");
        assert_eq!(s.slot, None);
        assert_eq!(s.last_check.as_deref(), Some("yesterday"));
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(&dir.path().join("status")), None);
        std::fs::write(dir.path().join("status"), LIFE).unwrap();
        assert_eq!(read(&dir.path().join("status")).and_then(|s| s.running), Some("2026.12.01".into()));
    }
}
