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
    let found = MIGRATIONS.len() as i64;
    assert!(matches!(e, StoreError::TooNew { found: f, supported: 1 } if f == found), "{e}");
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

/// What a program from before the dimensions left: its schema (the first two migrations), counts, a
/// session open, a batch planned and half sent.
fn old_file(p: &std::path::Path) {
    let s = Store::setup_with(Connection::open(p).unwrap(), &MIGRATIONS[..2]).unwrap();
    s.conn
        .execute_batch(
            "INSERT INTO counts (hour, cat, action, n, delivered) VALUES
                (490000, 'session', 'start', 3, 3), (490000, 'tile', 'caf', 5, 2), (490000, 'end', 'idle', 3, 0),
                (490000, 'duration', 'lt5', 3, 0), (490001, 'session', 'start', 1, 0),
                (490001, 'health', 'at=2025-11-25T16Z report=boot', 1, 0);
             INSERT INTO open_session (id, hour, band) VALUES (1, 490001, '5-15');
             INSERT INTO batch (id, marker, sent_at) VALUES (4, 'b00112233', 1764000000);
             INSERT INTO batch_hit (batch, seq, hour, cat, action, new_visit, visitor)
                VALUES (4, 0, 490000, 'tile', 'caf', 0, NULL);
             UPDATE push_status SET state = 'retrying', code = 'no-answer', failures = 2 WHERE id = 1;",
        )
        .unwrap();
}

#[test]
fn the_dimensions_migration_keeps_every_row_of_an_old_file() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("s.sqlite");
    old_file(&p);
    let before: Vec<CountRow> =
        Store::setup_with(Connection::open(&p).unwrap(), &MIGRATIONS[..2]).unwrap().rows().unwrap();
    let mut s = Store::open(&p).unwrap();
    let v: i64 = s.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(v, 3);
    assert_eq!(reader_floor(MIGRATIONS), 1, "additive: a program of before still opens the file after a rollback");
    // Every count, with what Matomo had of it.
    assert_eq!(s.rows().unwrap(), before);
    assert_eq!(s.rows().unwrap().iter().find(|r| r.cat == "tile").map(|r| (r.n, r.delivered)), Some((5, 2)));
    // The batch half sent is still there, as it was, to be looked up before any resend.
    let b = s.batches().unwrap();
    assert_eq!((b.len(), b[0].marker.as_str(), b[0].sent_at, b[0].hits.len()), (1, "b00112233", Some(1764000000), 1));
    let st = s.push_status().unwrap();
    assert_eq!((st.state.as_str(), st.code.as_deref(), st.failures), ("retrying", Some("no-answer"), 2));
    // Its open session (opened without dimensions) closes as a crash, without mode nor place units.
    assert!(s.close_interrupted_session().unwrap());
    let t = s.totals().unwrap();
    let get = |c: &str, a: &str| t.get(&(c.to_string(), a.to_string())).copied().unwrap_or(0);
    assert_eq!((get("end", "crash"), get("duration", "5-15")), (1, 1));
    assert_eq!(t.keys().filter(|(c, _)| c == "mode" || c == "place").count(), 0);
    // In the split, the old counts are "not recorded"; health reports are no session's.
    let split = s.split_rows_between(Hour(0), Hour(i64::MAX)).unwrap();
    assert!(split.iter().all(|r| r.mode.is_none() && r.place.is_none()), "{split:?}");
    assert_eq!(split.iter().filter(|r| r.cat == "session").map(|r| r.n).sum::<u64>(), 4);
    assert!(split.iter().all(|r| r.cat != "health"));
}

fn place(code: &str) -> Option<String> {
    Some(code.to_string())
}

fn split_of(s: &Store) -> BTreeMap<(String, String, Option<Mode>, Option<String>), u64> {
    let mut m = BTreeMap::new();
    for r in s.split_rows_between(Hour(0), Hour(i64::MAX)).unwrap() {
        *m.entry((r.cat, r.action, r.mode, r.place)).or_insert(0) += r.n;
    }
    m
}

#[test]
fn a_session_with_dimensions_counts_its_mode_and_place_at_its_end_and_splits_every_count() {
    let mut s = Store::open_in_memory().unwrap();
    let h = Hour(500_000);
    let tile = |n| Op::Count { hour: h, cat: Category::Tile, action: "caf".into(), n, band: DurationBand::Under5 };
    s.apply(&[
        // An autonomous session at the médiathèque.
        Op::Open { hour: h, mode: Mode::Autonomous, place: place("mediatheque") },
        tile(2),
        Op::End { hour: h, reason: EndReason::Button, band: DurationBand::Under5 },
        // Another, marked accompanied after a tile: that tile and its start move to the accompanied side.
        Op::Open { hour: h, mode: Mode::Autonomous, place: place("mediatheque") },
        tile(1),
        Op::Accompany {
            hour: h,
            units: vec![(Category::Session, "start".into(), 1), (Category::Tile, "caf".into(), 1)],
        },
        // Marked twice: nothing more moves.
        Op::Accompany { hour: h, units: vec![(Category::Tile, "caf".into(), 1)] },
        tile(4),
        Op::Count { hour: h, cat: Category::PrintAtEnd, action: "yes".into(), n: 1, band: DurationBand::To15 },
        Op::End { hour: h, reason: EndReason::Idle, band: DurationBand::To15 },
        // A session opened accompanied, no place.
        Op::Open { hour: h, mode: Mode::Accompanied, place: None },
        Op::End { hour: h, reason: EndReason::Button, band: DurationBand::Under5 },
    ])
    .unwrap();
    let t = s.totals().unwrap();
    let get = |c: &str, a: &str| t.get(&(c.to_string(), a.to_string())).copied().unwrap_or(0);
    assert_eq!(get("session", "start"), 3);
    assert_eq!(get("tile", "caf"), 7);
    assert_eq!((get("mode", "autonomous"), get("mode", "accompanied")), (1, 2));
    assert_eq!(get("place", "mediatheque"), 2, "a place unit a session that had one");
    assert_eq!(get("print-at-end", "yes"), 1);
    let m = split_of(&s);
    let at = |c: &str, a: &str, mode: Mode, p: Option<&str>| {
        m.get(&(c.to_string(), a.to_string(), Some(mode), p.map(str::to_string))).copied().unwrap_or(0)
    };
    let med = Some("mediatheque");
    assert_eq!(at("session", "start", Mode::Autonomous, med), 1);
    assert_eq!(at("session", "start", Mode::Accompanied, med), 1);
    assert_eq!(at("session", "start", Mode::Accompanied, None), 1);
    assert_eq!(at("tile", "caf", Mode::Autonomous, med), 2);
    assert_eq!(at("tile", "caf", Mode::Accompanied, med), 5);
    assert_eq!(at("end", "idle", Mode::Accompanied, med), 1);
    assert_eq!(at("duration", "15-30", Mode::Accompanied, med), 0);
    assert_eq!(at("duration", "5-15", Mode::Accompanied, med), 1);
    assert_eq!(at("print-at-end", "yes", Mode::Accompanied, med), 1);
    assert_eq!(at("mode", "accompanied", Mode::Accompanied, med), 1);
    // The split adds up to the totals exactly, and nothing is "not recorded".
    for ((c, a), n) in &t {
        let sum: u64 = m.iter().filter(|((c2, a2, _, _), _)| c2 == c && a2 == a).map(|(_, n)| n).sum();
        assert_eq!(sum, *n, "{c}/{a}");
    }
    assert!(m.keys().all(|(_, _, mode, _)| mode.is_some()));
    assert!(!s.has_open_session().unwrap());
}

#[test]
fn a_session_with_dimensions_left_open_is_closed_with_them() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("s.sqlite");
    let h = Hour(500_000);
    {
        let mut s = Store::open(&p).unwrap();
        s.apply(&[
            Op::Open { hour: h, mode: Mode::Autonomous, place: place("marche-couvert") },
            Op::Accompany { hour: h, units: vec![(Category::Session, "start".into(), 1)] },
            Op::Count { hour: h, cat: Category::Help, action: "request".into(), n: 1, band: DurationBand::To30 },
        ])
        .unwrap();
    }
    // The program died; at the next start the session is counted as a crash, accompanied, at its place.
    let mut s = Store::open(&p).unwrap();
    assert!(s.close_interrupted_session().unwrap());
    let m = split_of(&s);
    let k = |c: &str, a: &str| (c.to_string(), a.to_string(), Some(Mode::Accompanied), place("marche-couvert"));
    for (c, a) in [
        ("session", "start"),
        ("help", "request"),
        ("end", "crash"),
        ("duration", "15-30"),
        ("mode", "accompanied"),
        ("place", "marche-couvert"),
    ] {
        assert_eq!(m.get(&k(c, a)), Some(&1), "{c}/{a}: {m:?}");
    }
    // A second start after a lost end closes the first with its dimensions too.
    s.apply(&[
        Op::Open { hour: h, mode: Mode::Autonomous, place: None },
        Op::Open { hour: h, mode: Mode::Autonomous, place: None },
    ])
    .unwrap();
    assert_eq!(split_of(&s).get(&("mode".into(), "autonomous".into(), Some(Mode::Autonomous), None)), Some(&1));
}

#[test]
fn a_place_outside_the_vocabulary_is_no_place_and_the_old_start_has_no_dimensions() {
    let mut s = Store::open_in_memory().unwrap();
    let h = Hour(500_000);
    s.apply(&[
        Op::Open { hour: h, mode: Mode::Autonomous, place: place("Jean Dupont") },
        Op::End { hour: h, reason: EndReason::Button, band: DurationBand::Under5 },
        Op::Start(h),
        Op::Count { hour: h, cat: Category::Tile, action: "caf".into(), n: 1, band: DurationBand::Under5 },
        Op::End { hour: h, reason: EndReason::Button, band: DurationBand::Under5 },
    ])
    .unwrap();
    let t = s.totals().unwrap();
    assert!(t.keys().all(|(c, a)| c != "place" && !a.contains(' ')), "{t:?}");
    assert_eq!(t.get(&("mode".to_string(), "autonomous".to_string())), Some(&1), "only the session with dimensions");
    let m = split_of(&s);
    assert_eq!(m.get(&("tile".into(), "caf".into(), None, None)), Some(&1), "not recorded");
    assert_eq!(m.get(&("session".into(), "start".into(), Some(Mode::Autonomous), None)), Some(&1));
    assert_eq!(m.get(&("session".into(), "start".into(), None, None)), Some(&1));
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
    // The dimensions: closed sets, and place codes of the shape nomad::place_code makes.
    assert!(crate::push::in_vocabulary(Category::Mode, "accompanied"));
    assert!(crate::push::in_vocabulary(Category::Mode, "autonomous"));
    assert!(!crate::push::in_vocabulary(Category::Mode, "jean"));
    assert!(crate::push::in_vocabulary(Category::Place, "marche-couvert"));
    assert!(!crate::push::in_vocabulary(Category::Place, "Marché couvert"));
    assert!(!crate::push::in_vocabulary(Category::Place, &"a".repeat(41)));
    assert!(crate::push::in_vocabulary(Category::PrintAtEnd, "yes"));
    assert!(!crate::push::in_vocabulary(Category::PrintAtEnd, "3"));
    assert_eq!(Event::PrintedAtEnd.unit(), Some((Category::PrintAtEnd, "yes".into(), 1)));
    for c in Category::ALL {
        assert_eq!(Category::from_code(c.code()), Some(c));
    }
}

use std::collections::BTreeMap;

use rusqlite::Connection;
