//! The request's format, root's checks against the hours (a Monday-to-Friday week in Paris, walked
//! with fixed instants), the kiosk asking once per dark period, and root's side against stand-in
//! `rtcwake` and `systemctl` programs: the alarm read back before any power-off, and the day-long
//! alarm of clocks that cannot reach further.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::*;
use crate::config::parse_settings;

/// The shipped settings, open Monday to Friday 9–12 and 14–17, with `power_off` as given.
fn plan(power_off: bool) -> HoursPlan {
    let mut text = crate::load::BUILTIN_SETTINGS.to_string();
    for day in ["lundi", "mardi", "mercredi", "jeudi", "vendredi"] {
        text = text.replacen(&format!("\n{day} = \"\""), &format!("\n{day} = \"9:00-12:00, 14:00-17:00\""), 1);
    }
    text = text.replacen("\npower_off = false", &format!("\npower_off = {power_off}"), 1);
    parse_settings(Path::new("borne.toml"), &text).unwrap().hours.expect("structured hours")
}

/// An instant given as a civil time in Paris ("2026-12-07T17:30"; 7 December 2026 is a Monday).
fn at(civil: &str) -> Timestamp {
    civil.parse::<DateTime>().unwrap().to_zoned_datetime(TimeZone::get("Europe/Paris").unwrap()).unwrap().timestamp()
}

fn request(civil: &str) -> Request {
    Request { wake_at: at(civil) }
}

#[test]
fn the_request_is_one_wake_line_and_nothing_else() {
    let r = request("2026-12-08T08:45");
    let text = r.text();
    assert!(text.ends_with(&format!("\nwake_at={}\n", r.wake_at.as_second())), "{text}");
    assert_eq!(Request::parse(&text), Ok(r));
    assert_eq!(
        Request::parse("wake_at=1796716800"),
        Ok(Request { wake_at: Timestamp::from_second(1796716800).unwrap() })
    );
    for bad in [
        "",
        "# only a comment\n",
        "wake_at=",
        "wake_at=-5",
        "wake_at=12a",
        "wake_at=1796716800\nwake_at=1796716900\n",
        "wake_at=1796716800\nreboot=1\n",
        "wake=1796716800",
        "wake_at=99999999999999999999",
    ] {
        assert_eq!(Request::parse(bad).unwrap_err().code(), "malformed", "{bad:?}");
    }
}

#[test]
fn root_allows_a_wake_after_closing_and_before_the_next_opening_only() {
    let on = plan(true);
    let evening = at("2026-12-07T17:30");
    // The kiosk's own wake time (15 minutes before Tuesday's opening) and an earlier one.
    assert_eq!(check(&request("2026-12-08T08:45"), Some(&on), evening), Ok(at("2026-12-08T08:45")));
    assert_eq!(check(&request("2026-12-07T20:00"), Some(&on), evening), Ok(at("2026-12-07T20:00")));
    assert_eq!(check(&request("2026-12-08T09:00"), Some(&on), evening), Ok(at("2026-12-08T09:00")));
    let after = check(&request("2026-12-08T09:01"), Some(&on), evening).unwrap_err();
    assert_eq!(after, PowerOffError::AfterOpening { wake_at: at("2026-12-08T09:01"), opening: at("2026-12-08T09:00") });
    // Friday evening to Monday morning: within the week.
    assert!(check(&request("2026-12-14T08:45"), Some(&on), at("2026-12-11T17:30")).is_ok());
    let code = |r: &Request, p: Option<&HoursPlan>, now: &str| check(r, p, at(now)).unwrap_err().code();
    assert_eq!(code(&request("2026-12-08T08:45"), Some(&on), "2026-12-07T10:00"), "open-now");
    assert_eq!(code(&request("2026-12-08T08:45"), Some(&plan(false)), "2026-12-07T17:30"), "not-enabled");
    assert_eq!(code(&request("2026-12-08T08:45"), None, "2026-12-07T17:30"), "not-enabled");
    assert_eq!(code(&request("2026-12-07T17:39"), Some(&on), "2026-12-07T17:30"), "too-soon");
    assert_eq!(code(&request("2026-12-07T17:00"), Some(&on), "2026-12-07T17:30"), "too-soon");
    assert_eq!(code(&request("2026-12-15T08:45"), Some(&on), "2026-12-07T17:30"), "too-far");
}

#[test]
fn root_refuses_when_nothing_opens_ahead() {
    let mut text = crate::load::BUILTIN_SETTINGS.to_string();
    text = text.replacen("\nlundi = \"\"", "\nlundi = \"9:00-12:00\"", 1);
    text = text.replacen("\npower_off = false", "\npower_off = true", 1);
    text = text.replacen("\nclosures = []", "\nclosures = [\"2026-12-01..2028-12-31\"]", 1);
    let closed = parse_settings(Path::new("borne.toml"), &text).unwrap().hours.expect("structured hours");
    assert_eq!(
        check(&request("2026-12-08T08:45"), Some(&closed), at("2026-12-07T17:30")),
        Err(PowerOffError::NoOpening)
    );
}

#[test]
fn the_kiosk_asks_once_per_power_off_period_and_again_after_another_mode() {
    let d = tempfile::tempdir().unwrap();
    let mut asking = Asking::new(d.path());
    let on = plan(true);
    let mode = on.mode(at("2026-12-07T17:30"), false, Duration::from_secs(15 * 60));
    let Mode::PowerOff { wake_at } = &mode else { panic!("{mode:?}") };
    let path = asking.on_mode(&mode).expect("asked").unwrap();
    assert_eq!(path, d.path().join(REQUEST_FILE));
    // Root reads it; nobody else may change it (the umask may take bits off, never add).
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777 & !0o640, 0);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(Request::parse(&text).unwrap().wake_at, wake_at.timestamp());
    std::fs::remove_file(&path).unwrap();
    // The next ticks of the same period ask nothing more.
    assert!(asking.on_mode(&mode).is_none());
    assert!(!path.exists());
    // Woken (closed screen), then dark again: asked again.
    let closed = on.mode(at("2026-12-07T17:30"), false, Duration::ZERO);
    assert!(matches!(closed, Mode::Closed { .. }));
    assert!(asking.on_mode(&closed).is_none());
    assert!(asking.on_mode(&mode).expect("asked again").is_ok());
    assert!(path.exists());
    // A folder the kiosk cannot write: said, and the dark screen stays.
    let mut nowhere = Asking::new(d.path().join("absent"));
    assert!(nowhere.on_mode(&mode).expect("tried").is_err());
}

#[test]
fn over_a_long_closure_the_kiosk_asks_for_a_week_at_most_and_root_accepts_it() {
    let now = at("2026-12-18T17:30");
    let planned = at("2027-01-04T08:45");
    let asked = within_reach(planned, now);
    assert_eq!(asked, now + (MAX_AHEAD - jiff::SignedDuration::from_hours(1)));
    assert_eq!(within_reach(at("2026-12-21T08:45"), now), at("2026-12-21T08:45"));
    // Closed from the 19th to the 3rd: the kiosk's capped request passes root's checks.
    let mut text = crate::load::BUILTIN_SETTINGS.to_string();
    text = text.replacen("\nlundi = \"\"", "\nlundi = \"9:00-17:00\"", 1);
    text = text.replacen("\npower_off = false", "\npower_off = true", 1);
    text = text.replacen("\nclosures = []", "\nclosures = [\"2026-12-19..2027-01-03\"]", 1);
    let p = parse_settings(Path::new("borne.toml"), &text).unwrap().hours.expect("structured hours");
    let Mode::PowerOff { wake_at } = p.mode(now, false, Duration::from_secs(15 * 60)) else { panic!("power-off") };
    assert_eq!(wake_at.timestamp(), planned);
    assert_eq!(check(&Request { wake_at: asked }, Some(&p), now), Ok(asked));
    assert_eq!(check(&Request { wake_at: planned }, Some(&p), now).unwrap_err().code(), "too-far");
}

#[test]
fn root_takes_the_request_once_and_refuses_a_stale_or_oversized_one() {
    let d = tempfile::tempdir().unwrap();
    let now = Timestamp::now();
    let wake = Timestamp::from_second(now.as_second() + 3600).unwrap();
    let path = write_request(d.path(), wake).unwrap();
    assert_eq!(take_request(&path, now), Ok(Request { wake_at: wake }));
    assert!(!path.exists(), "the request is deleted once read");
    assert_eq!(take_request(&path, now).unwrap_err().code(), "unreadable");

    let path = write_request(d.path(), wake).unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(600);
    std::fs::File::options().write(true).open(&path).unwrap().set_modified(old).unwrap();
    let stale = take_request(&path, now).unwrap_err();
    assert!(matches!(stale, PowerOffError::Stale { age_secs } if (599..=700).contains(&age_secs)), "{stale:?}");
    assert!(!path.exists(), "a refused request is deleted too");

    std::fs::write(&path, format!("{}wake_at={}\n", "#".repeat(300), wake.as_second())).unwrap();
    assert_eq!(take_request(&path, now).unwrap_err().code(), "malformed");
    assert!(!path.exists());

    // What the kiosk's user could put there instead: a link to a file of root's is not followed (and
    // goes), a pipe does not block root's service (and goes).
    let target = d.path().join("root-only");
    std::fs::write(&target, format!("wake_at={}\n", wake.as_second())).unwrap();
    std::os::unix::fs::symlink(&target, &path).unwrap();
    assert_eq!(take_request(&path, now).unwrap_err().code(), "unreadable");
    assert!(path.symlink_metadata().is_err() && target.exists());
    let fifo = std::process::Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(fifo.success());
    assert_eq!(take_request(&path, now).unwrap_err().code(), "malformed");
    assert!(path.symlink_metadata().is_err());
}

/// Stand-in programs in `dir`: `rtcwake` that writes its `-t` value to `dir/wakealarm` (and, when
/// `limit` is given, refuses alarms further than `limit` seconds from now as rtc-cmos does), a
/// `systemctl` that records its arguments.
fn machine(dir: &Path, limit: Option<i64>) -> Machine {
    let alarm = dir.join("wakealarm");
    let refuse = match limit {
        Some(secs) => format!(
            "if [ \"$4\" -gt $(( $(date +%s) + {secs} )) ]; then echo 'rtcwake: set rtc wake alarm failed: Invalid argument' >&2; exit 1; fi"
        ),
        None => String::new(),
    };
    let scripts = [
        (
            "rtcwake",
            format!("echo \"$*\" >> '{d}/rtcwake.args'\n{refuse}\necho \"$4\" > '{d}/wakealarm'", d = dir.display()),
        ),
        ("systemctl", format!("echo \"$*\" >> '{d}/systemctl.args'", d = dir.display())),
    ];
    for (name, body) in scripts {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(&alarm, "").unwrap();
    Machine::with(dir.join("rtcwake"), dir.join("systemctl"), alarm)
}

#[test]
fn the_alarm_is_set_and_read_back_before_the_machine_powers_off() {
    let d = tempfile::tempdir().unwrap();
    let m = machine(d.path(), None);
    let now = Timestamp::now();
    let wake = Timestamp::from_second(now.as_second() + 2 * 86_400).unwrap();
    assert_eq!(m.set_alarm(wake, now), Ok(wake));
    assert_eq!(
        std::fs::read_to_string(d.path().join("rtcwake.args")).unwrap(),
        format!("-m no -t {}\n", wake.as_second())
    );
    m.power_off().unwrap();
    assert_eq!(std::fs::read_to_string(d.path().join("systemctl.args")).unwrap(), "poweroff\n");
}

#[test]
fn a_clock_that_cannot_reach_two_days_gets_an_alarm_a_day_ahead() {
    let d = tempfile::tempdir().unwrap();
    let m = machine(d.path(), Some(86_400));
    let now = Timestamp::now();
    let monday = Timestamp::from_second(now.as_second() + 2 * 86_400).unwrap();
    let set = m.set_alarm(monday, now).unwrap();
    assert_eq!(set, now + DAY_ALARM);
    let read: i64 = std::fs::read_to_string(d.path().join("wakealarm")).unwrap().trim().parse().unwrap();
    assert_eq!(read, set.as_second());
    // Within the day, a refusal is not retried: it is the answer.
    let soon = Timestamp::from_second(now.as_second() + 3600).unwrap();
    assert_eq!(shorter_alarm(soon, now), None);
}

#[test]
fn no_alarm_read_back_means_no_power_off() {
    let d = tempfile::tempdir().unwrap();
    // An rtcwake that says yes and sets nothing.
    let m = machine(d.path(), None);
    std::fs::write(d.path().join("rtcwake"), "#!/bin/sh\nexit 0\n").unwrap();
    let now = Timestamp::now();
    let wake = Timestamp::from_second(now.as_second() + 3600).unwrap();
    assert_eq!(
        m.set_alarm(wake, now),
        Err(PowerOffError::AlarmNotSet { expected: wake.as_second(), found: String::new() })
    );
    // One that fails outright.
    std::fs::write(
        d.path().join("rtcwake"),
        "#!/bin/sh\necho 'rtcwake: /dev/rtc0: unable to find device' >&2\nexit 1\n",
    )
    .unwrap();
    let e = m.set_alarm(wake, now).unwrap_err();
    assert_eq!(e.code(), "alarm");
    assert!(e.to_string().contains("unable to find device"), "{e}");
    assert!(!d.path().join("systemctl.args").exists());
}
