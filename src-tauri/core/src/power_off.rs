//! Power-off after closing and wake before opening (issue 18, item 1), across the privilege line.
//! [`crate::hours`] decides *when* ([`Mode::PowerOff`]); this module carries it out without giving
//! the kiosk root.
//!
//! The kiosk runs as the unprivileged `borne`; setting the firmware's wake alarm and powering off
//! are root's. So the kiosk only *asks*: on [`Mode::PowerOff`] it writes a request, [`REQUEST_FILE`]
//! in [`REQUEST_DIR`] (0770 root:borne, made at boot by the image's tmpfiles: only the kiosk's user
//! and root can write there), holding the wake time ([`Asking::on_mode`], once per dark period,
//! written atomically). The image's `borne-power-off.path` sees the file and starts
//! `borne-power-off.service`, as root, which runs `bornectl power-off --request FILE`:
//! [`take_request`] reads the request and deletes it, [`check`] decides with root's own reading of
//! the settings, [`Machine::set_alarm`] sets the alarm (`rtcwake -m no -t EPOCH`) and reads it back
//! from sysfs, and only then [`Machine::power_off`] (`systemctl poweroff`). No alarm read back, no
//! power-off: a borne left off without a wake alarm would stay off until someone pressed its button.
//!
//! # What root checks
//!
//! The kiosk's user can write anything into the request, and into its own settings file; root
//! trusts neither beyond these rules, each refusal logged (English) and said (French,
//! [`crate::messages::power_off_fr`]):
//! - the request: `wake_at=<seconds since 1970, UTC>` on one line (comments allowed), at most
//!   [`MAX_REQUEST_BYTES`], written less than [`MAX_REQUEST_AGE`] ago;
//! - the wake time: at least [`MIN_AHEAD`] ahead (an alarm that passes while the machine shuts down
//!   never wakes it) and at most [`MAX_AHEAD`];
//! - the settings as the kiosk reads them (`borne.toml` under the référent's `settings.toml`), read
//!   without writing anything (`crate::load::check`, as `bornectl check-config` does; settings with
//!   errors are a refusal): `[hours]` there with `power_off = true`, the accueil closed now, and the
//!   wake time no later than the next opening (a borne never wakes after its accueil opened).
//!
//! What root cannot see is whether a person's session is open in the kiosk. The kiosk asks only
//! from [`Mode::PowerOff`], which `HoursPlan::mode` gives only with no session open and the screen
//! left idle for `dark_after_minutes`, and root refuses whenever the hours say open: at worst a
//! kiosk that lies powers the borne off while its accueil is closed, and wakes it before opening.
//!
//! # Firmware alarms more than a day ahead
//!
//! Some PCs' clocks have no day field in their alarm (Linux's `rtc-cmos`: « Alarms can be up to one
//! day in the future »): `rtcwake` then refuses a Friday evening's alarm for Monday. The alarm is
//! set again [`DAY_ALARM`] ahead ([`shorter_alarm`]): the borne wakes early onto its dark screen,
//! which asks again after `dark_after_minutes`, and so on until the morning it opens.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::hours::{HoursPlan, Mode};

/// Where the kiosk writes its request (a RAM folder, 0770 root:borne, made by the image's tmpfiles).
pub const REQUEST_DIR: &str = "/run/borne-power-off";
/// The request's file name (the image's path unit watches `REQUEST_DIR/REQUEST_FILE`).
pub const REQUEST_FILE: &str = "request";
/// Largest request read.
pub const MAX_REQUEST_BYTES: u64 = 256;
/// A request older than this is stale (the root service starts within a second of the request).
pub const MAX_REQUEST_AGE: Duration = Duration::from_secs(300);
/// The wake time must be at least this far ahead when root sets it.
pub const MIN_AHEAD: SignedDuration = SignedDuration::from_mins(10);
/// And at most this far: over a longer closure the kiosk asks for less ([`within_reach`]); the borne
/// wakes, sees it is still closed, and sleeps again.
pub const MAX_AHEAD: SignedDuration = SignedDuration::from_hours(7 * 24);
/// A firmware alarm refused more than a day ahead is set again this far ahead.
pub const DAY_ALARM: SignedDuration = SignedDuration::from_mins(23 * 60 + 30);
/// Where the kernel shows the first clock's alarm (seconds since 1970; empty when none is set).
pub const WAKEALARM: &str = "/sys/class/rtc/rtc0/wakealarm";
/// How long `rtcwake` and `systemctl poweroff` may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a power-off was refused or could not be carried out. The text is the English cause for the
/// log; [`crate::messages::power_off_fr`] says it to people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PowerOffError {
    /// The request file could not be read (or removed).
    #[error("cannot read the request: {0}")]
    Unreadable(String),
    /// The request is not one `wake_at=<epoch>` line.
    #[error("request of the wrong form: {0}")]
    Malformed(String),
    /// The request was written too long ago.
    #[error("stale request, written {age_secs} s ago")]
    Stale {
        /// Seconds since it was written.
        age_secs: u64,
    },
    /// The wake time is too close (or past).
    #[error("wake time {wake_at} is less than {} min ahead", MIN_AHEAD.as_mins())]
    TooSoon {
        /// The requested wake time.
        wake_at: Timestamp,
    },
    /// The wake time is too far.
    #[error("wake time {wake_at} is more than 7 days ahead")]
    TooFar {
        /// The requested wake time.
        wake_at: Timestamp,
    },
    /// The settings have errors: root cannot tell what the référent chose.
    #[error("the settings have errors: {0}")]
    Settings(String),
    /// No `[hours]`, or `power_off` is not on.
    #[error("power-off after closing is not on in the settings ([hours] power_off)")]
    NotEnabled,
    /// The accueil is open now.
    #[error("the hours say open now")]
    OpenNow,
    /// Nothing opens within the hours' horizon: no wake time can be checked.
    #[error("no opening ahead in the hours")]
    NoOpening,
    /// The wake time comes after the next opening.
    #[error("wake time {wake_at} is after the next opening {opening}")]
    AfterOpening {
        /// The requested wake time.
        wake_at: Timestamp,
        /// The next opening.
        opening: Timestamp,
    },
    /// `rtcwake` failed.
    #[error("rtcwake failed: {0}")]
    Alarm(String),
    /// The alarm read back is not the one asked for: no power-off.
    #[error("the clock's alarm reads {found:?}, not {expected}")]
    AlarmNotSet {
        /// The epoch asked for.
        expected: i64,
        /// What sysfs says.
        found: String,
    },
    /// `systemctl poweroff` failed.
    #[error("systemctl poweroff failed: {0}")]
    PowerOff(String),
}

impl PowerOffError {
    /// Stable code (`power-off.<code>`), for the logs and the messages.
    pub fn code(&self) -> &'static str {
        match self {
            PowerOffError::Unreadable(_) => "unreadable",
            PowerOffError::Malformed(_) => "malformed",
            PowerOffError::Stale { .. } => "stale",
            PowerOffError::TooSoon { .. } => "too-soon",
            PowerOffError::TooFar { .. } => "too-far",
            PowerOffError::Settings(_) => "settings",
            PowerOffError::NotEnabled => "not-enabled",
            PowerOffError::OpenNow => "open-now",
            PowerOffError::NoOpening => "no-opening",
            PowerOffError::AfterOpening { .. } => "after-opening",
            PowerOffError::Alarm(_) => "alarm",
            PowerOffError::AlarmNotSet { .. } => "alarm-not-set",
            PowerOffError::PowerOff(_) => "power-off",
        }
    }
}

/// The kiosk's request: power off now, wake at `wake_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// When the firmware must power the borne on again.
    pub wake_at: Timestamp,
}

impl Request {
    /// The file's text.
    pub fn text(&self) -> String {
        format!(
            "# Power off now and wake at this time (seconds since 1970, UTC): written by the kiosk,\n\
             # carried out by borne-power-off.service.\nwake_at={}\n",
            self.wake_at.as_second()
        )
    }

    /// Reads a request's text (pure): one `wake_at=<epoch>` line; blank lines and `#` comments
    /// allowed, nothing else.
    pub fn parse(text: &str) -> Result<Request, PowerOffError> {
        let mut wake = None;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let bad = || PowerOffError::Malformed(line.chars().take(80).collect());
            let value = line.strip_prefix("wake_at=").ok_or_else(bad)?;
            if wake.is_some() || value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let epoch: i64 = value.parse().map_err(|_| bad())?;
            wake = Some(Timestamp::from_second(epoch).map_err(|_| bad())?);
        }
        wake.map(|wake_at| Request { wake_at }).ok_or_else(|| PowerOffError::Malformed("no wake_at line".into()))
    }
}

/// Writes the request into `dir` (atomically: the path unit sees the whole file or none), 0640.
pub fn write_request(dir: &Path, wake_at: Timestamp) -> std::io::Result<PathBuf> {
    let path = dir.join(REQUEST_FILE);
    crate::fsutil::write_atomic_mode(&path, Request { wake_at }.text().as_bytes(), 0o640)?;
    Ok(path)
}

/// The kiosk's side: asks once for each [`Mode::PowerOff`] period (the hours are asked again every
/// second; the request is written on the first, and again only after another mode came between).
#[derive(Debug, Clone)]
pub struct Asking {
    dir: PathBuf,
    asked: Option<Timestamp>,
}

impl Asking {
    /// Requests go into `dir` ([`REQUEST_DIR`] in the image).
    pub fn new(dir: impl Into<PathBuf>) -> Asking {
        Asking { dir: dir.into(), asked: None }
    }

    /// Called with each mode the hours give: on a [`Mode::PowerOff`] not asked for yet, writes the
    /// request and returns where (or why it could not: the dark screen stays, the borne stays on);
    /// `None` otherwise.
    pub fn on_mode(&mut self, mode: &Mode) -> Option<std::io::Result<PathBuf>> {
        let Mode::PowerOff { wake_at } = mode else {
            self.asked = None;
            return None;
        };
        let planned = wake_at.timestamp();
        if self.asked == Some(planned) {
            return None;
        }
        self.asked = Some(planned);
        let wake = within_reach(planned, Timestamp::now());
        let written = write_request(&self.dir, wake);
        match &written {
            Ok(path) => {
                tracing::info!(wake_at = %wake_at, asked = %wake, request = %path.display(), "power-off asked of root")
            }
            Err(e) => {
                tracing::error!(error = %e, dir = %self.dir.display(), "cannot write the power-off request; the borne stays on")
            }
        }
        Some(written)
    }
}

/// The wake time the kiosk asks for (pure): the planned one, or an hour short of [`MAX_AHEAD`] from
/// `now` when the plan is further (a long closure): root refuses more than a week, and waking early is
/// harmless (the borne sees it is still closed, goes dark and asks again).
pub fn within_reach(planned: Timestamp, now: Timestamp) -> Timestamp {
    planned.min(now + (MAX_AHEAD - SignedDuration::from_hours(1)))
}

/// Reads the request at `path` and deletes it (even a bad one: never acted on twice, and the path
/// unit does not start again for it), checking its size and age against `now`. The kiosk's user
/// owns what is in that folder: a link is not followed, a pipe does not block (`O_NOFOLLOW`,
/// `O_NONBLOCK`), anything but a regular file is refused.
pub fn take_request(path: &Path, now: Timestamp) -> Result<Request, PowerOffError> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let unreadable = |e: std::io::Error| PowerOffError::Unreadable(format!("{}: {e}", path.display()));
    let opened = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path);
    let removed = std::fs::remove_file(path);
    let file = opened.map_err(unreadable)?;
    removed.map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    if !meta.is_file() {
        return Err(PowerOffError::Malformed("not a regular file".into()));
    }
    let mut text = String::new();
    file.take(MAX_REQUEST_BYTES + 1).read_to_string(&mut text).map_err(unreadable)?;
    if text.len() as u64 > MAX_REQUEST_BYTES {
        return Err(PowerOffError::Malformed(format!("not a file of at most {MAX_REQUEST_BYTES} bytes")));
    }
    let written = meta.modified().map_err(unreadable)?;
    let written = Timestamp::try_from(written).map_err(|e| PowerOffError::Unreadable(e.to_string()))?;
    let age = now.duration_since(written);
    if age > SignedDuration::try_from(MAX_REQUEST_AGE).unwrap_or(SignedDuration::MAX) {
        return Err(PowerOffError::Stale { age_secs: age.as_secs().max(0) as u64 });
    }
    Request::parse(&text)
}

/// Root's decision (pure): whether the request may be carried out at `now` under `plan` (the
/// settings' `[hours]`). Returns the wake time to set.
pub fn check(request: &Request, plan: Option<&HoursPlan>, now: Timestamp) -> Result<Timestamp, PowerOffError> {
    let wake_at = request.wake_at;
    if now.duration_until(wake_at) < MIN_AHEAD {
        return Err(PowerOffError::TooSoon { wake_at });
    }
    if now.duration_until(wake_at) > MAX_AHEAD {
        return Err(PowerOffError::TooFar { wake_at });
    }
    let plan = plan.filter(|p| p.power_off).ok_or(PowerOffError::NotEnabled)?;
    if plan.is_open(now) {
        return Err(PowerOffError::OpenNow);
    }
    let opening = plan.next_opening(now).ok_or(PowerOffError::NoOpening)?.timestamp();
    if wake_at > opening {
        return Err(PowerOffError::AfterOpening { wake_at, opening });
    }
    Ok(wake_at)
}

/// The alarm to try when the clock refused `wake_at` (pure): [`DAY_ALARM`] from `now`, if that is
/// earlier (a clock whose alarm cannot reach more than a day ahead); `None` when it is not.
pub fn shorter_alarm(wake_at: Timestamp, now: Timestamp) -> Option<Timestamp> {
    let day = now + DAY_ALARM;
    (day < wake_at).then_some(day)
}

/// `rtcwake`'s arguments to set the alarm and nothing else (`-m no`: no suspend), pure.
pub fn rtcwake_args(wake_at: Timestamp) -> Vec<String> {
    vec!["-m".into(), "no".into(), "-t".into(), wake_at.as_second().to_string()]
}

/// The machine's side, root's: the programs and the sysfs file, replaceable for tests.
#[derive(Debug, Clone)]
pub struct Machine {
    rtcwake: PathBuf,
    systemctl: PathBuf,
    wakealarm: PathBuf,
}

impl Default for Machine {
    fn default() -> Self {
        Machine::new()
    }
}

impl Machine {
    /// `rtcwake` and `systemctl` from `PATH`, the alarm read from [`WAKEALARM`].
    pub fn new() -> Machine {
        Machine { rtcwake: "rtcwake".into(), systemctl: "systemctl".into(), wakealarm: WAKEALARM.into() }
    }

    /// Other programs and alarm file (tests).
    pub fn with(rtcwake: impl Into<PathBuf>, systemctl: impl Into<PathBuf>, wakealarm: impl Into<PathBuf>) -> Machine {
        Machine { rtcwake: rtcwake.into(), systemctl: systemctl.into(), wakealarm: wakealarm.into() }
    }

    fn run(&self, program: &Path, args: &[String]) -> Result<(), String> {
        let mut cmd = std::process::Command::new(program);
        cmd.args(args);
        match crate::process::run_with_timeout(cmd, COMMAND_TIMEOUT) {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => {
                let said = String::from_utf8_lossy(&o.stderr).trim().chars().take(300).collect::<String>();
                Err(format!("{} exited with {}: {said}", program.display(), o.status))
            }
            Err(e) => Err(format!("{}: {e}", program.display())),
        }
    }

    fn alarm_is(&self, wake_at: Timestamp) -> Result<(), PowerOffError> {
        let found = std::fs::read_to_string(&self.wakealarm).unwrap_or_default().trim().to_owned();
        if found.parse::<i64>().ok() == Some(wake_at.as_second()) {
            Ok(())
        } else {
            Err(PowerOffError::AlarmNotSet { expected: wake_at.as_second(), found })
        }
    }

    fn try_alarm(&self, wake_at: Timestamp) -> Result<(), PowerOffError> {
        self.run(&self.rtcwake, &rtcwake_args(wake_at)).map_err(PowerOffError::Alarm)?;
        self.alarm_is(wake_at)
    }

    /// Sets the clock's wake alarm to `wake_at` and reads it back; when the clock refuses, tries a
    /// day ahead ([`shorter_alarm`]). Returns the alarm set.
    pub fn set_alarm(&self, wake_at: Timestamp, now: Timestamp) -> Result<Timestamp, PowerOffError> {
        match self.try_alarm(wake_at) {
            Ok(()) => Ok(wake_at),
            Err(e) => match shorter_alarm(wake_at, now) {
                Some(day) => {
                    tracing::warn!(error = %e, wake_at = %wake_at, instead = %day, "the clock refused the alarm; setting one a day ahead");
                    self.try_alarm(day).map(|()| day)
                }
                None => Err(e),
            },
        }
    }

    /// Powers the machine off through systemd.
    pub fn power_off(&self) -> Result<(), PowerOffError> {
        self.run(&self.systemctl, &["poweroff".into()]).map_err(PowerOffError::PowerOff)
    }
}

#[cfg(test)]
mod tests;
