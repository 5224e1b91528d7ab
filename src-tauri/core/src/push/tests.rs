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
