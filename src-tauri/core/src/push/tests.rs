use super::*;

fn hit(new_visit: bool) -> Hit {
    Hit {
        hour: Hour::from_unix(1_795_437_000),
        cat: Category::Tile,
        action: "caf".into(),
        new_visit,
        visitor: new_visit.then(|| "0123456789abcdef".to_string()),
    }
}

#[test]
fn an_entry_carries_only_the_vocabulary() {
    let e = hit(true).entry(7, "b0011223344556677");
    assert!(e.starts_with('?'), "bulk entries without '?' are dropped by Matomo");
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&e.as_bytes()[1..]).into_owned().collect();
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["idsite", "rec", "apiv", "new_visit", "cid", "e_c", "e_a", "e_n", "cdt"]);
    let cdt = &pairs.iter().find(|(k, _)| k == "cdt").unwrap().1;
    assert!(cdt.ends_with(":00:00"), "{cdt}");
    let name = &pairs.iter().find(|(k, _)| k == "e_n").unwrap().1;
    let hour = hit(true).hour;
    assert_eq!(name, &format!("b0011223344556677.{}", hour.0), "the marker, then the hour of the hit");
    assert_eq!(cdt, &hour.cdt(), "the name holds nothing the hit time does not say");
    assert!(!hit(false).entry(7, "m").contains("new_visit"));
    assert!(!hit(false).entry(7, "m").contains("cid="), "a late unit carries no visitor id");
}

#[test]
fn the_body_has_the_token_and_every_entry() {
    let target = Target {
        url: Url::parse("https://stats.example/").unwrap(),
        site_id: 3,
        token: Token::new("secret-token").unwrap(),
    };
    let b = Batch { id: 1, marker: "bm".into(), sent_at: None, hits: vec![hit(true), hit(false)] };
    let v: serde_json::Value = serde_json::from_str(&bulk_body(&target, &b)).unwrap();
    assert_eq!(v["token_auth"], "secret-token");
    assert_eq!(v["requests"].as_array().unwrap().len(), 2);
    assert!(format!("{target:?}").contains("Token(***)"));
}

#[test]
fn backoff_grows_to_an_hour_with_jitter() {
    assert_eq!(backoff(1, 1.0), Duration::from_secs(30));
    assert_eq!(backoff(1, 0.0), Duration::from_secs(15));
    assert_eq!(backoff(3, 1.0), Duration::from_secs(120));
    assert_eq!(backoff(30, 1.0), Duration::from_secs(3600));
    assert_eq!(backoff(30, 0.0), Duration::from_secs(1800));
    let j = jitter();
    assert!((0.0..=1.0).contains(&j));
}

#[test]
fn markers_and_visitor_ids_are_random() {
    let a = new_marker();
    assert_eq!(a.len(), 17);
    assert_ne!(a, new_marker());
    let v = new_visitor_id();
    assert!(v.len() == 16 && v.bytes().all(|b| b.is_ascii_hexdigit()), "{v}");
    assert_ne!(v, new_visitor_id());
}

#[test]
fn provisioned_file_wins_and_token_is_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let paths = Paths { config_dir: d.path().join("c"), state_dir: d.path().join("s") };
    let settings = crate::config::StatsSettings {
        enabled: true,
        matomo_url: None,
        site_id: 0,
        token_file: "matomo.token".into(),
        time_zone: crate::config::DEFAULT_TIME_ZONE.into(),
    };
    let dest = Destination::resolve(&settings, &paths);
    assert_eq!(dest.target().unwrap_err(), "not-configured");
    let url = Url::parse("https://stats.example/matomo/").unwrap();
    store_provisioned(&paths, &dest.token_file, &url, 12, &Token::new("tok").unwrap()).unwrap();
    let dest = Destination::resolve(&settings, &paths);
    let t = dest.target().unwrap();
    assert_eq!((t.url.as_str(), t.site_id, t.token.secret()), ("https://stats.example/matomo/", 12, "tok"));
    let mode = std::fs::metadata(&dest.token_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    std::fs::set_permissions(&dest.token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(read_token(&dest.token_file).is_some());
    assert_eq!(std::fs::metadata(&dest.token_file).unwrap().permissions().mode() & 0o777, 0o600);
    std::fs::write(paths.state_dir.join(PROVISIONED_FILE), "url = 'ftp://x'\nsite_id = 3\n").unwrap();
    assert_eq!(Destination::resolve(&settings, &paths).target().unwrap_err(), "not-configured");
}

#[test]
fn one_push_at_a_time() {
    let d = tempfile::tempdir().unwrap();
    let first = lock(d.path()).unwrap();
    assert!(matches!(lock(d.path()), Err(PushError::Busy)));
    drop(first);
    lock(d.path()).unwrap();
}

#[test]
fn a_sessions_dimensions_go_as_events_of_its_own_visit_and_nothing_else() {
    use crate::stats::{DurationBand, Mode, Op};
    let mut s = Store::open_in_memory().unwrap();
    let h = Hour::from_unix(1_795_437_000);
    let count = |cat, action: &str| Op::Count { hour: h, cat, action: action.into(), n: 1, band: DurationBand::Under5 };
    s.apply(&[
        // Marked accompanied after its first tile, at the médiathèque, printed at the end.
        Op::Open { hour: h, mode: Mode::Autonomous, place: Some("mediatheque".into()) },
        count(Category::Tile, "caf"),
        Op::Accompany {
            hour: h,
            units: vec![(Category::Session, "start".into(), 1), (Category::Tile, "caf".into(), 1)],
        },
        count(Category::PrintAtEnd, "yes"),
        Op::End { hour: h, reason: crate::session::EndReason::Button, band: DurationBand::Under5 },
        // Then someone alone, same hour, same place.
        Op::Open { hour: h, mode: Mode::Autonomous, place: Some("mediatheque".into()) },
        Op::End { hour: h, reason: crate::session::EndReason::Idle, band: DurationBand::Under5 },
    ])
    .unwrap();
    let mut ids = 0;
    s.plan_batches_with(
        1000,
        || "b0011223344556677".into(),
        || {
            ids += 1;
            format!("{ids:016x}")
        },
    )
    .unwrap();
    let b = s.next_batch().unwrap().unwrap();
    let target = Target {
        url: Url::parse("https://stats.example/").unwrap(),
        site_id: 3,
        token: Token::new("secret-token").unwrap(),
    };
    let v: serde_json::Value = serde_json::from_str(&bulk_body(&target, &b)).unwrap();
    let mut visits: Vec<Vec<(String, String)>> = Vec::new();
    let mut cids = Vec::new();
    for e in v["requests"].as_array().unwrap() {
        let e = e.as_str().unwrap();
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&e.as_bytes()[1..]).into_owned().collect();
        let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if names.contains(&"new_visit") {
            assert_eq!(names, ["idsite", "rec", "apiv", "new_visit", "cid", "e_c", "e_a", "e_n", "cdt"]);
            visits.push(Vec::new());
        } else {
            assert_eq!(names, ["idsite", "rec", "apiv", "cid", "e_c", "e_a", "e_n", "cdt"]);
        }
        cids.push((visits.len(), get("cid").unwrap()));
        visits.last_mut().unwrap().push((get("e_c").unwrap(), get("e_a").unwrap()));
    }
    // Two visits, each with its own visitor id throughout, each with exactly one mode and one place.
    assert_eq!(visits.len(), 2, "{visits:?}");
    for i in 1..=2 {
        let of: std::collections::BTreeSet<&String> = cids.iter().filter(|(v, _)| *v == i).map(|(_, c)| c).collect();
        assert_eq!(of.len(), 1, "visit {i}: {cids:?}");
    }
    for v in &visits {
        assert_eq!(v.iter().filter(|(c, _)| c == "mode").count(), 1, "{v:?}");
        assert_eq!(v.iter().filter(|(c, _)| c == "place").count(), 1, "{v:?}");
        assert_eq!(v.iter().filter(|(c, _)| c == "end").count(), 1, "{v:?}");
    }
    let all: Vec<(String, String)> = visits.concat();
    let has = |c: &str, a: &str| all.iter().filter(|(x, y)| x == c && y == a).count();
    assert_eq!((has("mode", "accompanied"), has("mode", "autonomous")), (1, 1));
    assert_eq!(has("place", "mediatheque"), 2);
    assert_eq!(has("print-at-end", "yes"), 1);
    assert_eq!(all.len(), 2 + 1 + 1 + 2 * 4, "starts, the tile, the print, an end, a band, a mode and a place each");
    // Delivered: nothing left to send, and the local split is untouched by the push.
    s.deliver_all(b.id, Hour(1)).unwrap();
    assert_eq!(s.push_status().unwrap().backlog, 0);
    assert_eq!(s.plan_batches(1000, new_marker).unwrap(), 0);
    let split = s.split_rows_between(Hour(0), Hour(i64::MAX)).unwrap();
    assert!(split.iter().any(|r| r.cat == "tile" && r.mode == Some(Mode::Accompanied)));
}
