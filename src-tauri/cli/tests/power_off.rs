//! `bornectl power-off --request FILE --dry-run` as the image's root service runs it (without
//! setting the alarm or powering off): the kiosk's request taken and deleted, then accepted or
//! refused against the settings of a real config folder, in French for people. The alarm and the
//! power-off themselves are borne-core's tests (stand-in programs) and the image's boot test's (a
//! real clock in qemu).

use std::path::Path;
use std::process::Command;

use jiff::{SignedDuration, Timestamp};

mod common;

/// A config folder whose hours open every day 9–17, closed today and the next three days, with
/// `power_off` as given.
fn config(power_off: bool) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("test set-up");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let mut settings = std::fs::read_to_string(shipped.join("borne.toml")).expect("test set-up");
    for day in ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"] {
        settings = settings.replacen(&format!("\n{day} = \"\""), &format!("\n{day} = \"9:00-17:00\""), 1);
    }
    let paris = jiff::tz::TimeZone::get("Europe/Paris").expect("time zone");
    let today = Timestamp::now().to_zoned_datetime(paris).date();
    let last = today.checked_add(jiff::Span::new().days(3)).expect("date");
    settings = settings.replacen("\nclosures = []", &format!("\nclosures = [\"{today}..{last}\"]"), 1);
    settings = settings.replacen("\npower_off = false", &format!("\npower_off = {power_off}"), 1);
    std::fs::write(d.path().join("borne.toml"), settings).expect("test set-up");
    std::fs::copy(shipped.join("catalogue.toml"), d.path().join("catalogue.toml")).expect("test set-up");
    d
}

/// Writes a request to wake `ahead` from now, runs the dry run; (exit code, stdout, stderr).
fn dry_run(config: &Path, ahead: SignedDuration) -> (i32, String, String) {
    let state = tempfile::tempdir().expect("test set-up");
    let requests = tempfile::tempdir().expect("test set-up");
    let path = borne_core::power_off::write_request(requests.path(), Timestamp::now() + ahead).expect("test set-up");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bornectl"));
    cmd.args(["power-off", "--dry-run", "--request"]).arg(&path).arg("--config").arg(config);
    cmd.arg("--state").arg(state.path());
    let answer = common::run(cmd, "");
    assert!(!path.exists(), "the request is taken (deleted) whatever the answer");
    answer
}

#[test]
fn a_request_while_closed_waking_before_the_opening_is_accepted() {
    let on = config(true);
    let (code, out, err) = dry_run(on.path(), SignedDuration::from_hours(2));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("Demande acceptée (essai : rien n'est réglé). La borne s'éteint ; elle se rallumera seule le "),
        "{out}"
    );
}

#[test]
fn requests_the_settings_do_not_allow_are_refused_in_french() {
    let on = config(true);
    let (code, out, err) = dry_run(on.path(), SignedDuration::from_hours(24 * 5));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("tombe après l'ouverture du"), "{out}");
    assert!(err.contains("code=\"after-opening\""), "{err}");
    let (code, out, _) = dry_run(on.path(), SignedDuration::from_mins(5));
    assert_eq!(code, 1);
    assert!(out.contains("trop proche"), "{out}");
    let off = config(false);
    let (code, out, err) = dry_run(off.path(), SignedDuration::from_hours(2));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("L'extinction après la fermeture n'est pas activée"), "{out}");
}
