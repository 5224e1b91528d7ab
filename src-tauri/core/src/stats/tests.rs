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
    // A newer program whose last migration was not additive (see MIGRATIONS).
    c.execute("UPDATE schema_meta SET value = 99 WHERE key = 'reader_floor'", []).unwrap();
    drop(c);
    let before = std::fs::read(&p).unwrap();
    let e = Store::open(&p).unwrap_err();
    assert!(matches!(e, StoreError::TooNew { found: 99, .. }), "{e}");
    assert!(e.french().contains("version plus récente"));
    assert_eq!(std::fs::read(&p).unwrap(), before, "the newer file is left as it was");
}

#[test]
fn after_a_rollback_the_older_program_uses_the_newer_file_and_nothing_is_lost() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("s.sqlite");
    let h = Hour(500_000);
    let count = |action: &str| Op::Count {
        hour: h,
        cat: Category::Tile,
        action: action.into(),
        n: 1,
        band: DurationBand::Under5,
    };
    // The newer program (every migration) counts, then the borne rolls back to a program that knows
    // only the first migration: it opens the file as it is and counts on.
    Store::open(&p).unwrap().apply(&[count("caf")]).unwrap();
    assert_eq!(reader_floor(MIGRATIONS), 1, "the visitor column is additive: a first-migration program reads the file");
    let older = &MIGRATIONS[..1];
    let mut s = Store::setup_with(Connection::open(&p).unwrap(), older).unwrap();
    s.apply(&[count("caf"), count("ameli")]).unwrap();
    // What an older program writes in the outbox, without the newer column: NULL there means "no id".
    s.conn.execute("INSERT INTO batch (id, marker) VALUES (7, 'm')", []).unwrap();
    s.conn
        .execute(
            "INSERT INTO batch_hit (batch, seq, hour, cat, action, new_visit) VALUES (7, 0, 1, 'tile', 'caf', 1)",
            [],
        )
        .unwrap();
    drop(s);
    let c = Connection::open(&p).unwrap();
    let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(v, MIGRATIONS.len() as i64, "the older program did not touch the schema");
    drop(c);
    // The newer program again (the next update): everything both counted is there.
    let s = Store::open(&p).unwrap();
    let t = s.totals().unwrap();
    assert_eq!(t.get(&("tile".to_string(), "caf".to_string())).copied(), Some(2));
    assert_eq!(t.get(&("tile".to_string(), "ameli".to_string())).copied(), Some(1));
    let visitor: Option<String> =
        s.conn.query_row("SELECT visitor FROM batch_hit WHERE batch = 7", [], |r| r.get(0)).unwrap();
    assert_eq!(visitor, None);
}

#[test]
fn a_file_past_the_older_programs_floor_is_refused_untouched() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("s.sqlite");
    Store::open(&p).unwrap();
    // As if the newer program's last migration had changed a table (not additive): floor 2.
    Connection::open(&p).unwrap().execute("UPDATE schema_meta SET value = 2 WHERE key = 'reader_floor'", []).unwrap();
    let before = std::fs::read(&p).unwrap();
    let e = Store::setup_with(Connection::open(&p).unwrap(), &MIGRATIONS[..1]).unwrap_err();
    assert!(matches!(e, StoreError::TooNew { found: 2, supported: 1 }), "{e}");
    assert_eq!(std::fs::read(&p).unwrap(), before, "left as it was");
    // The program that knows it opens it.
    Store::open(&p).unwrap();
}

/// What "additive" promises, checked on the SQL itself: an additive migration only creates tables or
/// indexes, or adds columns an older program's INSERTs can leave out (nullable, or with a default).
#[test]
fn additive_migrations_only_add() {
    for (i, m) in MIGRATIONS.iter().enumerate().filter(|(_, m)| m.additive) {
        let code: String = m.sql.lines().map(|l| l.split("--").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
        for stmt in code.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let up = stmt.to_ascii_uppercase().split_whitespace().collect::<Vec<_>>().join(" ");
            let creates = up.starts_with("CREATE TABLE")
                || up.starts_with("CREATE INDEX")
                || up.starts_with("CREATE UNIQUE INDEX");
            let adds = up.starts_with("ALTER TABLE") && up.contains(" ADD COLUMN ");
            assert!(creates || adds, "migration {}: not additive: {stmt}", i + 1);
            if adds {
                assert!(
                    !up.contains("NOT NULL") || up.contains("DEFAULT"),
                    "migration {}: a NOT NULL column without a default: {stmt}",
                    i + 1
                );
            }
        }
    }
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
    assert!(crate::push::in_vocabulary(Category::Tile, "caf"));
    assert!(!crate::push::in_vocabulary(Category::Tile, "Caf"));
    assert!(!crate::push::in_vocabulary(Category::Tile, "caf/x"));
    assert!(crate::push::in_vocabulary(Category::Blocked, "facebook.com"));
    assert!(!crate::push::in_vocabulary(Category::Blocked, "www.facebook.com"));
    assert!(crate::push::in_vocabulary(Category::End, "idle"));
    assert!(!crate::push::in_vocabulary(Category::End, "quit"));
    assert!(crate::push::in_vocabulary(Category::Language, "ar"));
    assert!(!crate::push::in_vocabulary(Category::Language, "arabic"));
    // Health reports are checked by the health module (`push::in_vocabulary` asks it).
    assert!(!count_in_vocabulary(Category::Health, "anything"));
    assert!(!crate::push::in_vocabulary(Category::Health, "anything"));
    assert!(count_in_vocabulary(Category::Tile, "caf"));
}

use rusqlite::Connection;
