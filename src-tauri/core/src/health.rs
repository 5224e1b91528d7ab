//! The borne's health report: what the federation needs to know that a borne is alive, delivering,
//! printing and up to date, sent to Matomo through the statistics' own exactly-once outbox.
//!
//! A report is one line of fixed `key=value` codes (bands, never raw figures; nothing finer than the
//! hour; no id of the machine or of a person), stored as one count of category `health` in the
//! statistics file: the outbox plans it like any unit, as a Matomo visit of its own (`new_visit=1` and
//! its own throw-away `cid`, [`crate::push::plan`]) with one event `health` / `<the line>`. A whole report
//! is one hit, so it lands whole or not at all, and an interrupted send is looked up by its batch marker
//! like the rest. The hour is in the line too (`at=`), so Matomo's archived Events report (which shows
//! category and action only) says when each report was made: the fleet report ([`fleet`]) reads every
//! borne's reports in one call.
//!
//! Reports are made by the kiosk's push service ([`crate::push::service`]): one when the machine has
//! booted (the first kiosk start of a boot, [`note_start`]) and one a day after that. The kiosk's
//! restarts within a boot (the watchdog's, or a crash's) are counted by [`note_start`], which the service
//! calls once per process.

pub mod fleet;

use std::path::Path;

use crate::load::Paths;
use crate::stats::{Category, Hour, Store, StoreError};

/// Hours between two daily reports.
pub const EVERY_HOURS: i64 = 24;

/// The file, in the state directory, where the kiosk counts its starts within a boot.
pub const STARTS_FILE: &str = "kiosk-starts";

/// The file, in the state directory, where an updater may say which slot runs and how its last update
/// went (see [`Update`]): `slot = "a"` and `result = "ok"`, TOML. It wins over [`UPDATER_RECORD`].
pub const UPDATE_FILE: &str = "update-status.toml";

/// The image's A/B updater's record (`kiosk-image/mkosi.extra/usr/libexec/borne/update-lib.sh`): `key=value`
/// lines, among them `slot` (`A`, `B`), `running` (the version running), `outcome` (of the last check) and
/// `last_rollback` (`<when> version <failed> on slot <X>, back to <version>`). Read by [`parse_updater_record`].
pub const UPDATER_RECORD: &str = crate::updates::RECORD;

/// Why a report was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The first kiosk start after the machine booted.
    Boot,
    /// A day after the previous report.
    Daily,
}

impl Why {
    fn code(self) -> &'static str {
        match self {
            Why::Boot => "boot",
            Why::Daily => "daily",
        }
    }
}

/// The printer, as `lpstat` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Printer {
    /// No printer in the settings.
    None,
    /// Ready to print.
    Ok,
    /// Configured but cannot print (stopped queue, offline, no paper, unknown to CUPS).
    Down,
    /// `lpstat` could not be run.
    Unknown,
}

impl Printer {
    /// The code in a report.
    pub fn code(self) -> &'static str {
        match self {
            Printer::None => "none",
            Printer::Ok => "ok",
            Printer::Down => "down",
            Printer::Unknown => "unknown",
        }
    }
}

/// The last update's outcome, as the A/B updater writes it in [`UPDATE_FILE`] (`result = "..."`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// Never updated (or no updater yet): the file is absent.
    None,
    /// The last update booted and was confirmed.
    Ok,
    /// The last update did not confirm its boot and the borne went back to the previous slot.
    RolledBack,
    /// The last update was refused before any switch (download, signature, space): nothing changed.
    Failed,
}

impl Update {
    /// The codes, as in the file and in a report.
    pub const CODES: [(&'static str, Update); 4] =
        [("none", Update::None), ("ok", Update::Ok), ("rolled-back", Update::RolledBack), ("failed", Update::Failed)];

    /// The code.
    pub fn code(self) -> &'static str {
        Update::CODES.iter().find(|(_, u)| *u == self).map_or("none", |(c, _)| c)
    }

    fn from_code(code: &str) -> Option<Update> {
        Update::CODES.iter().find(|(c, _)| *c == code).map(|(_, u)| *u)
    }
}

/// One health report. Every field is a code from a closed set, or a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The hour it was made.
    pub hour: Hour,
    /// Boot or daily.
    pub why: Why,
    /// The system image's version (`IMAGE_VERSION` of `/etc/os-release`, what the A/B updater installs), else
    /// the kiosk program's (`0.1.0`).
    pub version: String,
    /// The catalogue in force (its `version`, 0 for a shipped file without one).
    pub catalogue: u64,
    /// Age of the last confirmed delivery: [`age_band`].
    pub delivery: &'static str,
    /// Units not yet confirmed by Matomo: [`backlog_band`].
    pub backlog: &'static str,
    /// The printer.
    pub printer: Printer,
    /// Free space on the state partition: [`disk_band`].
    pub disk: &'static str,
    /// Time since the machine booted: [`uptime_band`].
    pub uptime: &'static str,
    /// Kiosk restarts since the machine booted: [`restarts_band`].
    pub restarts: &'static str,
    /// The A/B slot running (`a`, `b`), `none` without the updater.
    pub slot: &'static str,
    /// The last update's outcome.
    pub update: Update,
}

/// The age of the last delivery, from its hour: `never`, `lt1h`, `1-6h`, `6-24h`, `1-2d`, `2-7d`, `gt7d`.
pub fn age_band(last: Option<Hour>, now: Hour) -> &'static str {
    let Some(last) = last else { return "never" };
    match now.0 - last.0 {
        ..1 => "lt1h",
        1..6 => "1-6h",
        6..24 => "6-24h",
        24..48 => "1-2d",
        48..168 => "2-7d",
        _ => "gt7d",
    }
}

/// The backlog bands, smallest first (the fleet report compares them by rank).
pub const BACKLOG_BANDS: [&str; 5] = ["0", "lt100", "lt1000", "lt10000", "gt10000"];

/// Units waiting: `0`, `lt100`, `lt1000`, `lt10000`, `gt10000`.
pub fn backlog_band(units: u64) -> &'static str {
    match units {
        0 => BACKLOG_BANDS[0],
        1..100 => BACKLOG_BANDS[1],
        100..1000 => BACKLOG_BANDS[2],
        1000..10000 => BACKLOG_BANDS[3],
        _ => BACKLOG_BANDS[4],
    }
}

/// Free bytes: `lt1g`, `1-5g`, `5-20g`, `gt20g` (`unknown` when it cannot be read).
pub fn disk_band(free: Option<u64>) -> &'static str {
    const G: u64 = 1 << 30;
    match free {
        None => "unknown",
        Some(b) if b < G => "lt1g",
        Some(b) if b < 5 * G => "1-5g",
        Some(b) if b < 20 * G => "5-20g",
        Some(_) => "gt20g",
    }
}

/// Seconds since boot: `lt1h`, `1-24h`, `1-7d`, `gt7d` (`unknown`).
pub fn uptime_band(secs: Option<u64>) -> &'static str {
    match secs {
        None => "unknown",
        Some(s) if s < 3600 => "lt1h",
        Some(s) if s < 86_400 => "1-24h",
        Some(s) if s < 7 * 86_400 => "1-7d",
        Some(_) => "gt7d",
    }
}

/// Restarts: `0`, `1`, `2-5`, `gt5`.
pub fn restarts_band(n: u64) -> &'static str {
    match n {
        0 => "0",
        1 => "1",
        2..=5 => "2-5",
        _ => "gt5",
    }
}

/// The closed sets of the banded fields, for checking a line before it is sent.
const BANDS: &[(&str, &[&str])] = &[
    ("report", &["boot", "daily"]),
    ("delivery", &["never", "lt1h", "1-6h", "6-24h", "1-2d", "2-7d", "gt7d"]),
    ("backlog", &BACKLOG_BANDS),
    ("printer", &["none", "ok", "down", "unknown"]),
    ("disk", &["unknown", "lt1g", "1-5g", "5-20g", "gt20g"]),
    ("uptime", &["unknown", "lt1h", "1-24h", "1-7d", "gt7d"]),
    ("restarts", &["0", "1", "2-5", "gt5"]),
    ("slot", &["none", "a", "b"]),
    ("update", &["none", "ok", "rolled-back", "failed"]),
];

/// The keys of a line, in order.
const KEYS: [&str; 12] = [
    "at",
    "report",
    "version",
    "catalogue",
    "delivery",
    "backlog",
    "printer",
    "disk",
    "uptime",
    "restarts",
    "slot",
    "update",
];

/// A version as a report carries it: digits, letters, `.`, `+`, `-`, at most 32 characters.
fn version_code(v: &str) -> Option<&str> {
    ((1..=32).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b".+-".contains(&b))).then_some(v)
}

/// `2026-12-03T15Z`: the hour in UTC.
fn hour_code(h: Hour) -> String {
    jiff::Timestamp::from_second(h.start_unix())
        .map_or_else(|_| "1970-01-01T00Z".into(), |t| t.strftime("%Y-%m-%dT%HZ").to_string())
}

fn parse_hour_code(s: &str) -> Option<Hour> {
    let t: jiff::Timestamp = format!("{}:00:00Z", s.strip_suffix('Z')?).parse().ok()?;
    (t.as_second() % 3600 == 0 && hour_code(Hour::from_unix(t.as_second())) == s)
        .then(|| Hour::from_unix(t.as_second()))
}

impl Report {
    /// The line sent as the event action: `at=2026-12-03T15Z report=boot version=0.1.0 catalogue=3 delivery=lt1h
    /// backlog=0 printer=ok disk=gt20g uptime=lt1h restarts=0 slot=a update=ok`.
    pub fn line(&self) -> String {
        let version = version_code(&self.version).unwrap_or("invalid");
        format!(
            "at={} report={} version={version} catalogue={} delivery={} backlog={} printer={} disk={} uptime={} \
             restarts={} slot={} update={}",
            hour_code(self.hour),
            self.why.code(),
            self.catalogue,
            self.delivery,
            self.backlog,
            self.printer.code(),
            self.disk,
            self.uptime,
            self.restarts,
            self.slot,
            self.update.code()
        )
    }

    /// Reads a line back (the fleet report; the check before sending). `None` unless every key is there, in
    /// order, with a value of its closed set.
    pub fn parse(line: &str) -> Option<Report> {
        let mut values = Vec::new();
        for (part, key) in line.split(' ').zip(KEYS) {
            let (k, v) = part.split_once('=')?;
            if k != key {
                return None;
            }
            if let Some((_, set)) = BANDS.iter().find(|(name, _)| *name == k) {
                if !set.contains(&v) {
                    return None;
                }
            }
            values.push(v);
        }
        if values.len() != KEYS.len() || line.split(' ').count() != KEYS.len() {
            return None;
        }
        let band = |i: usize| {
            BANDS
                .iter()
                .find(|(n, _)| *n == KEYS[i])
                .and_then(|(_, set)| set.iter().find(|b| **b == values[i]))
                .copied()
        };
        Some(Report {
            hour: parse_hour_code(values[0])?,
            why: if values[1] == "boot" { Why::Boot } else { Why::Daily },
            version: version_code(values[2])?.to_string(),
            catalogue: values[3].parse().ok().filter(|_| values[3].bytes().all(|b| b.is_ascii_digit()))?,
            delivery: band(4)?,
            backlog: band(5)?,
            printer: match values[6] {
                "none" => Printer::None,
                "ok" => Printer::Ok,
                "down" => Printer::Down,
                _ => Printer::Unknown,
            },
            disk: band(7)?,
            uptime: band(8)?,
            restarts: band(9)?,
            slot: band(10)?,
            update: Update::from_code(values[11])?,
        })
    }
}

/// A stored line is a health report exactly as this program writes it (checked before each send).
pub fn in_vocabulary(line: &str) -> bool {
    Report::parse(line).is_some_and(|r| r.line() == line)
}

/// What the machine says, read by [`observe`] (and given by tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// Free bytes on the state partition.
    pub free_disk: Option<u64>,
    /// Seconds since boot.
    pub uptime: Option<u64>,
    /// The printer.
    pub printer: Printer,
    /// Kiosk restarts since boot.
    pub restarts: u64,
    /// The A/B slot (`a`, `b`), if the updater runs.
    pub slot: Option<char>,
    /// The last update.
    pub update: Update,
    /// The system image's version, when the machine runs the borne's image.
    pub image_version: Option<String>,
}

/// Builds the report from the statistics file's delivery status and the machine (pure but for the store read).
pub fn report(store: &Store, why: Why, now: Hour, catalogue: u64, m: &Machine) -> Result<Report, StoreError> {
    let st = store.push_status()?;
    Ok(Report {
        hour: now,
        why,
        version: m
            .image_version
            .as_deref()
            .and_then(version_code)
            .filter(|v| *v != "0")
            .unwrap_or(env!("CARGO_PKG_VERSION"))
            .to_string(),
        catalogue,
        delivery: age_band(st.last_delivery_hour.map(Hour), now),
        backlog: backlog_band(st.backlog),
        printer: m.printer,
        disk: disk_band(m.free_disk),
        uptime: uptime_band(m.uptime),
        restarts: restarts_band(m.restarts),
        slot: match m.slot {
            Some('a') => "a",
            Some('b') => "b",
            _ => "none",
        },
        update: m.update,
    })
}

impl Store {
    /// Stores a report as one `health` unit of its hour, for the outbox to deliver.
    pub fn record_health(&mut self, r: &Report) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO counts (hour, cat, action, n) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (hour, cat, action) DO UPDATE SET n = n + 1",
            rusqlite::params![r.hour.0, Category::Health.code(), r.line()],
        )?;
        Ok(())
    }

    /// The hour of the latest report stored, if any.
    pub fn last_health_hour(&self) -> Result<Option<Hour>, StoreError> {
        let h: Option<i64> =
            self.conn
                .query_row("SELECT max(hour) FROM counts WHERE cat = ?1", [Category::Health.code()], |r| r.get(0))?;
        Ok(h.map(Hour))
    }
}

/// Which report is due now, if any: the boot's (once, when `boot` says this process is the boot's first
/// kiosk), else a daily one a day after the latest (pure).
pub fn due(boot: bool, last: Option<Hour>, now: Hour) -> Option<Why> {
    if boot {
        return Some(Why::Boot);
    }
    match last {
        None => Some(Why::Daily),
        Some(h) if now.0 - h.0 >= EVERY_HOURS => Some(Why::Daily),
        Some(_) => None,
    }
}

/// Records a kiosk start: returns `(first start of this boot, restarts since boot)`. The count lives in
/// [`STARTS_FILE`] as `<boot id> <starts>`; a new boot id (the kernel's, changed at each boot) starts again
/// at one. Called once per kiosk process, by the push service.
pub fn note_start(state_dir: &Path) -> (bool, u64) {
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    note_start_with(state_dir, boot_id.trim())
}

/// [`note_start`] with the boot id given (tests).
pub fn note_start_with(state_dir: &Path, boot_id: &str) -> (bool, u64) {
    let path = state_dir.join(STARTS_FILE);
    let previous = std::fs::read_to_string(&path).unwrap_or_default();
    let starts = match previous.split_once(' ') {
        Some((id, n)) if id == boot_id && !boot_id.is_empty() => n.trim().parse::<u64>().unwrap_or(0) + 1,
        _ => 1,
    };
    if let Err(e) = crate::fsutil::write_atomic(&path, format!("{boot_id} {starts}\n").as_bytes()) {
        tracing::warn!(error = %e, "cannot record the kiosk start");
    }
    (starts == 1, starts - 1)
}

/// Kiosk restarts since boot, as [`note_start`] last recorded them.
pub fn restarts(state_dir: &Path) -> u64 {
    let text = std::fs::read_to_string(state_dir.join(STARTS_FILE)).unwrap_or_default();
    text.split_once(' ').and_then(|(_, n)| n.trim().parse::<u64>().ok()).map_or(0, |n| n.saturating_sub(1))
}

/// The image's updater record ([`UPDATER_RECORD`]) read as a slot and an outcome (pure):
/// - `rolled-back` while the borne still runs the version a rollback went back to (`last_rollback` ends with
///   `back to <running>`): the update it tried failed and none succeeded since;
/// - else `ok` once a version runs and was seen good (`running` set), `failed` when the last check ended in an
///   error before that, `none` otherwise.
pub fn parse_updater_record(text: &str) -> (Option<char>, Update) {
    let s = crate::updates::parse(text);
    let update = match (&s.running, &s.last_rollback) {
        (Some(run), Some(r)) if *run == r.back_to => Update::RolledBack,
        (Some(_), _) => Update::Ok,
        (None, _) if s.outcome.is_some_and(crate::updates::Outcome::is_error) => Update::Failed,
        (None, Some(_)) => Update::RolledBack,
        (None, None) => Update::None,
    };
    (s.slot.map(|c| c.to_ascii_lowercase()), update)
}

/// Which slot runs and how the last update went: [`UPDATE_FILE`] in the state directory when there is one
/// (`slot` `"a"` or `"b"`, `result` one of [`Update::CODES`]), else the image's updater record
/// ([`UPDATER_RECORD`]). Neither: no updater, `(None, Update::None)`; unreadable values are reported as none,
/// with a log line.
pub fn read_update(state_dir: &Path) -> (Option<char>, Update) {
    read_update_from(state_dir, &crate::updates::record_path())
}

/// [`read_update`] with the updater record's path given (tests).
pub fn read_update_from(state_dir: &Path, record: &Path) -> (Option<char>, Update) {
    let Ok(text) = std::fs::read_to_string(state_dir.join(UPDATE_FILE)) else {
        return std::fs::read_to_string(record).map_or((None, Update::None), |t| parse_updater_record(&t));
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        tracing::warn!("update status file is not TOML; reported as none");
        return (None, Update::None);
    };
    let slot = table.get("slot").and_then(|v| v.as_str()).and_then(|s| match s {
        "a" => Some('a'),
        "b" => Some('b'),
        _ => None,
    });
    let update = table.get("result").and_then(|v| v.as_str()).and_then(Update::from_code).unwrap_or_else(|| {
        tracing::warn!("update status file without a known result; reported as none");
        Update::None
    });
    (slot, update)
}

/// How long `df` may take (a hung disk or network mount).
const OBSERVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads the machine: free space (`df`), uptime (`/proc/uptime`), the printer (`lpstat`, when one is set),
/// the restarts and the updater's file.
pub fn observe(paths: &Paths, printer: Option<&str>) -> Machine {
    let mut df = std::process::Command::new("df");
    df.args(["-Pk", "--"]).arg(&paths.state_dir).env("LANG", "C");
    let free_disk = crate::process::run_with_timeout(df, OBSERVE_TIMEOUT)
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| parse_df(&String::from_utf8_lossy(&o.stdout)));
    let uptime = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|t| t.split_whitespace().next().and_then(|s| s.parse::<f64>().ok()))
        .map(|s| s as u64);
    let printer = match printer {
        None => Printer::None,
        Some(p) => match crate::process::run_with_timeout(
            {
                let mut c = std::process::Command::new("lpstat");
                c.args(["-l", "-p", p]).env("LANG", "C");
                c
            },
            crate::print::cups::LPSTAT_TIMEOUT,
        ) {
            Ok(o) => match crate::print::parse_printer_state(&String::from_utf8_lossy(&o.stdout), o.status.success()) {
                crate::print::PrinterState::Ready => Printer::Ok,
                crate::print::PrinterState::NotReady(_) => Printer::Down,
            },
            Err(_) => Printer::Unknown,
        },
    };
    let (slot, update) = read_update(&paths.state_dir);
    let image_version = std::fs::read_to_string("/etc/os-release").ok().and_then(|t| image_version(&t));
    Machine { free_disk, uptime, printer, restarts: restarts(&paths.state_dir), slot, update, image_version }
}

/// `IMAGE_VERSION` of an os-release file (quotes removed).
fn image_version(os_release: &str) -> Option<String> {
    let v = os_release.lines().find_map(|l| l.strip_prefix("IMAGE_VERSION="))?.trim().trim_matches(['"', '\'']);
    version_code(v).map(str::to_string)
}

/// Free bytes from `df -Pk` (the fourth column of the second line, in KiB).
fn parse_df(out: &str) -> Option<u64> {
    out.lines().nth(1)?.split_whitespace().nth(3)?.parse::<u64>().ok().map(|k| k * 1024)
}

/// Makes and stores the report due now, if one is: what the push service calls before each attempt.
/// Returns the report stored.
pub fn record_if_due(paths: &Paths, store: &mut Store, boot: bool, now: Hour) -> Result<Option<Report>, StoreError> {
    let Some(why) = due(boot, store.last_health_hour()?, now) else { return Ok(None) };
    let loaded = crate::load::load(paths);
    let catalogue = crate::load::in_force(paths).version;
    let machine = observe(paths, loaded.settings.printing.printer.as_deref());
    let r = report(store, why, now, catalogue, &machine)?;
    store.record_health(&r)?;
    tracing::info!(report = why.code(), "health report recorded");
    Ok(Some(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> Machine {
        Machine {
            free_disk: Some(3 << 30),
            uptime: Some(7200),
            printer: Printer::Down,
            restarts: 2,
            slot: Some('b'),
            update: Update::RolledBack,
            image_version: None,
        }
    }

    #[test]
    fn a_report_is_one_line_of_codes_read_back_as_written() {
        let mut s = Store::open_in_memory().unwrap();
        let now = Hour::from_unix("2026-12-03T15:42:00Z".parse::<jiff::Timestamp>().unwrap().as_second());
        let r = report(&s, Why::Boot, now, 7, &machine()).unwrap();
        let line = r.line();
        assert_eq!(
            line,
            format!(
                "at=2026-12-03T15Z report=boot version={} catalogue=7 delivery=never backlog=0 printer=down \
                 disk=1-5g uptime=1-24h restarts=2-5 slot=b update=rolled-back",
                env!("CARGO_PKG_VERSION")
            )
        );
        assert!(line.len() < 200, "Matomo keeps event actions whole: {}", line.len());
        assert_eq!(Report::parse(&line), Some(r.clone()));
        assert!(in_vocabulary(&line));
        for bad in [
            line.replace("printer=down", "printer=jammed"),
            line.replace("at=2026-12-03T15Z", "at=2026-12-03T15:42Z"),
            line.replace("version=", "version=jean dupont"),
            format!("{line} extra=1"),
            line.replace(" slot=b", ""),
        ] {
            assert!(!in_vocabulary(&bad), "{bad}");
        }
        s.record_health(&r).unwrap();
        assert_eq!(s.last_health_hour().unwrap(), Some(now));
        assert_eq!(s.push_status().unwrap().backlog, 1, "the report waits in the outbox");
    }

    #[test]
    fn the_image_version_wins_over_the_program_version() {
        assert_eq!(image_version("NAME=Debian\nIMAGE_VERSION=\"12.3\"\n").as_deref(), Some("12.3"));
        assert_eq!(image_version("NAME=Debian\n"), None);
        let s = Store::open_in_memory().unwrap();
        let with = Machine { image_version: Some("12.3".into()), ..machine() };
        assert_eq!(report(&s, Why::Daily, Hour(1), 0, &with).unwrap().version, "12.3");
        let zero = Machine { image_version: Some("0".into()), ..machine() };
        assert_eq!(report(&s, Why::Daily, Hour(1), 0, &zero).unwrap().version, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn bands_never_give_a_raw_figure() {
        assert_eq!(age_band(None, Hour(100)), "never");
        assert_eq!(age_band(Some(Hour(100)), Hour(100)), "lt1h");
        assert_eq!(age_band(Some(Hour(70)), Hour(100)), "1-2d");
        assert_eq!(age_band(Some(Hour(0)), Hour(1000)), "gt7d");
        assert_eq!(backlog_band(0), "0");
        assert_eq!(backlog_band(99), "lt100");
        assert_eq!(backlog_band(12_000), "gt10000");
        assert_eq!(disk_band(Some(500 << 20)), "lt1g");
        assert_eq!(disk_band(Some(30 << 30)), "gt20g");
        assert_eq!(uptime_band(Some(90_000)), "1-7d");
        assert_eq!(restarts_band(9), "gt5");
        assert_eq!(
            parse_df("Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 100 40 60 40% /\n"),
            Some(61_440)
        );
    }

    #[test]
    fn boot_then_daily() {
        assert_eq!(due(true, Some(Hour(10)), Hour(10)), Some(Why::Boot));
        assert_eq!(due(false, None, Hour(10)), Some(Why::Daily));
        assert_eq!(due(false, Some(Hour(10)), Hour(33)), None);
        assert_eq!(due(false, Some(Hour(10)), Hour(34)), Some(Why::Daily));
    }

    #[test]
    fn the_service_records_the_boot_report_then_one_a_day() {
        let d = tempfile::tempdir().unwrap();
        let paths = Paths {
            config_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config"),
            state_dir: d.path().to_path_buf(),
        };
        note_start_with(d.path(), "b1");
        note_start_with(d.path(), "b1");
        let mut s = Store::open_in_memory().unwrap();
        let h = Hour(494_000);
        let boot = record_if_due(&paths, &mut s, true, h).unwrap().unwrap();
        assert_eq!((boot.why, boot.restarts, boot.printer), (Why::Boot, "1", Printer::None), "{boot:?}");
        assert_ne!(boot.disk, "unknown", "df reads the state partition");
        assert_eq!(record_if_due(&paths, &mut s, false, Hour(h.0 + 23)).unwrap(), None);
        let daily = record_if_due(&paths, &mut s, false, Hour(h.0 + 24)).unwrap().unwrap();
        assert_eq!(daily.why, Why::Daily);
        let lines: Vec<String> =
            s.rows().unwrap().into_iter().filter(|r| r.cat == "health").map(|r| r.action).collect();
        assert_eq!(lines, vec![boot.line(), daily.line()]);
    }

    #[test]
    fn starts_within_a_boot_are_restarts() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(note_start_with(d.path(), "boot-1"), (true, 0));
        assert_eq!(note_start_with(d.path(), "boot-1"), (false, 1));
        assert_eq!(note_start_with(d.path(), "boot-1"), (false, 2));
        assert_eq!(restarts(d.path()), 2);
        assert_eq!(note_start_with(d.path(), "boot-2"), (true, 0), "a new boot starts again");
        assert_eq!(restarts(d.path()), 0);
    }

    #[test]
    fn the_image_updater_record_gives_slot_and_result() {
        let good = "last_check=2026-12-01T10:00:00+01:00\noutcome=installed\nrunning=12\nslot=B\ngood_since=2026-12-01T10:05:00+01:00\n";
        assert_eq!(parse_updater_record(good), (Some('b'), Update::Ok));
        let rolled = "running=11\nslot=A\nlast_rollback=2026-12-02T09:00:00+01:00 version 12 on slot B, back to 11\n";
        assert_eq!(parse_updater_record(rolled), (Some('a'), Update::RolledBack));
        let later = format!("{rolled}running=13\nslot=B\n");
        assert_eq!(parse_updater_record(&later), (Some('b'), Update::Ok), "a later update succeeded");
        assert_eq!(parse_updater_record("outcome=error: download refused\n"), (None, Update::Failed));
        assert_eq!(parse_updater_record(""), (None, Update::None));
        let d = tempfile::tempdir().unwrap();
        let record = d.path().join("status");
        std::fs::write(&record, rolled).unwrap();
        assert_eq!(read_update_from(d.path(), &record), (Some('a'), Update::RolledBack));
        std::fs::write(d.path().join(UPDATE_FILE), "slot = \"b\"\nresult = \"ok\"\n").unwrap();
        assert_eq!(read_update_from(d.path(), &record), (Some('b'), Update::Ok), "the state file wins");
    }

    #[test]
    fn the_updater_file_gives_slot_and_result() {
        let d = tempfile::tempdir().unwrap();
        let none = d.path().join("no-record");
        assert_eq!(read_update_from(d.path(), &none), (None, Update::None));
        std::fs::write(d.path().join(UPDATE_FILE), "slot = \"b\"\nresult = \"rolled-back\"\n").unwrap();
        assert_eq!(read_update_from(d.path(), &none), (Some('b'), Update::RolledBack));
        std::fs::write(d.path().join(UPDATE_FILE), "slot = \"c\"\nresult = \"exploded\"\n").unwrap();
        assert_eq!(read_update_from(d.path(), &none), (None, Update::None));
    }
}
