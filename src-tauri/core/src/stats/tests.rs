use super::*;

#[test]
fn migrations_run_once_and_a_newer_file_is_refused_untouched() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("s.sqlite");
    Store::open(&p).unwrap();
    Store::open(&p).unwrap(); // second open: nothing to migrate
    let c = Connection::open(&p).unwrap();
    let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(v, MIGRATIONS.len() as i64);
    let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    c.pragma_update(None, "user_version", 99).unwrap();
    drop(c);
    let before = std::fs::read(&p).unwrap();
    let e = Store::open(&p).unwrap_err();
    assert!(matches!(e, StoreError::TooNew { found: 99, .. }), "{e}");
    assert!(e.french().contains("version plus récente"));
    assert_eq!(std::fs::read(&p).unwrap(), before, "the newer file is left as it was");
}

#[test]
fn ops_add_up_and_a_lost_end_becomes_a_crash() {
    let mut s = Store::open_in_memory().unwrap();
    let h = Hour(500_000);
    s.apply(&[
        Op::Start(h),
        Op::Count { hour: h, cat: Category::Tile, action: "caf".into(), n: 1, band: DurationBand::Under5 },
        Op::Count { hour: h, cat: Category::Tile, action: "caf".into(), n: 2, band: DurationBand::To15 },
        // A second start without an end: the first session is closed as a crash in its band.
        Op::Start(Hour(500_001)),
        Op::End { hour: Hour(500_001), reason: EndReason::Idle, band: DurationBand::To30 },
        // An end with nothing open is not counted.
        Op::End { hour: Hour(500_001), reason: EndReason::Button, band: DurationBand::Under5 },
    ])
    .unwrap();
    let t = s.totals().unwrap();
    let get = |c: &str, a: &str| t.get(&(c.to_string(), a.to_string())).copied().unwrap_or(0);
    assert_eq!(get("session", "start"), 2);
    assert_eq!(get("tile", "caf"), 3);
    assert_eq!(get("end", "crash"), 1);
    assert_eq!(get("end", "idle"), 1);
    assert_eq!(get("end", "button"), 0);
    assert_eq!(get("duration", "5-15"), 1);
    assert_eq!(get("duration", "15-30"), 1);
    assert!(!s.has_open_session().unwrap());
}

#[test]
fn hours_and_cdt() {
    assert_eq!(Hour::from_unix(3599), Hour(0));
    assert_eq!(Hour::from_unix(-1), Hour(-1));
    let h = Hour::from_unix("2026-11-23T14:59:59Z".parse::<jiff::Timestamp>().unwrap().as_second());
    assert_eq!(h.cdt(), "2026-11-23 14:00:00");
}

#[test]
fn duration_bands_have_the_issue_limits() {
    let m = |x: u64| DurationBand::of(Duration::from_secs(x * 60)).code();
    assert_eq!(
        [m(0), m(4), m(5), m(14), m(15), m(29), m(30), m(59), m(60), m(600)],
        ["lt5", "lt5", "5-15", "5-15", "15-30", "15-30", "30-60", "30-60", "gt60", "gt60"]
    );
}

#[test]
fn blocked_hosts_keep_only_their_registrable_domain() {
    assert_eq!(blocked_domain("www.facebook.com").as_deref(), Some("facebook.com"));
    assert_eq!(blocked_domain("jean.dupont.blogspot.com").as_deref(), Some("blogspot.com"));
    assert_eq!(blocked_domain("jean-dupont.github.io").as_deref(), Some("github.io"));
    assert_eq!(blocked_domain("WWW.Example.CO.UK.").as_deref(), Some("example.co.uk"));
    assert_eq!(blocked_domain("192.168.1.10").as_deref(), Some("ip"));
    assert_eq!(blocked_domain("[::1]").as_deref(), Some("ip"));
    assert_eq!(blocked_domain("a b.com"), None);
    assert_eq!(blocked_domain("exa/mple.com"), None);
    assert_eq!(blocked_domain(""), None);
}

#[test]
fn vocabulary() {
    assert!(in_vocabulary(Category::Tile, "caf"));
    assert!(!in_vocabulary(Category::Tile, "Caf"));
    assert!(!in_vocabulary(Category::Tile, "caf/x"));
    assert!(in_vocabulary(Category::Blocked, "facebook.com"));
    assert!(!in_vocabulary(Category::Blocked, "www.facebook.com"));
    assert!(in_vocabulary(Category::End, "idle"));
    assert!(!in_vocabulary(Category::End, "quit"));
    assert!(in_vocabulary(Category::Language, "ar"));
    assert!(!in_vocabulary(Category::Language, "arabic"));
}

use rusqlite::Connection;
