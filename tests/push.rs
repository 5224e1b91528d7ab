//! Statistics delivered to Matomo exactly once, against the strict contract server: faults on demand,
//! `kill -9` of `bornectl push` at random points, refusals, and a privacy check of every byte sent.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use borne_core::load::Paths;
use borne_core::matomo::{Client, Token};
use borne_core::push::{self, Options, PushError, Target};
use borne_core::session::EndReason;
use borne_core::stats::{in_vocabulary, Category, DurationBand, Hour, Op, Store, FILE_NAME};
use borne_tests::matomo::{ContractServer, Fault, RawRequest, Role};

/// A small deterministic generator (no dependency needed for test data).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const TILES: [&str; 6] = ["caf", "ameli", "ants", "impots", "france-travail", "centre"];

/// Writes `n` realistic sessions at `hour` (and, now and then, a session left open then closed later).
fn sessions(store: &mut Store, rng: &mut Rng, hour: Hour, n: u32) {
    let mut ops = Vec::new();
    for _ in 0..n {
        ops.push(Op::Start(hour));
        for _ in 0..=rng.below(3) {
            let tile = TILES[rng.below(TILES.len() as u64) as usize];
            ops.push(Op::Count { hour, cat: Category::Tile, action: tile.into(), n: 1, band: DurationBand::Under5 });
        }
        if rng.below(4) == 0 {
            let pages = 1 + rng.below(3) as u32;
            ops.push(Op::Count {
                hour,
                cat: Category::Print,
                action: "page".into(),
                n: pages,
                band: DurationBand::To15,
            });
        }
        if rng.below(6) == 0 {
            ops.push(Op::Count { hour, cat: Category::Help, action: "request".into(), n: 1, band: DurationBand::To15 });
        }
        if rng.below(5) == 0 {
            ops.push(Op::Count {
                hour,
                cat: Category::Blocked,
                action: "facebook.com".into(),
                n: 1,
                band: DurationBand::To15,
            });
        }
        let reason = [EndReason::Button, EndReason::Idle, EndReason::Crash][rng.below(3) as usize];
        let band = DurationBand::ALL[rng.below(5) as usize];
        ops.push(Op::End { hour, reason, band });
    }
    store.apply(&ops).unwrap();
}

fn totals(store: &Store) -> BTreeMap<(String, String), u64> {
    store.totals().unwrap()
}

struct Borne {
    _dir: tempfile::TempDir,
    paths: Paths,
}

/// A state directory provisioned for `site` on `server` with `token`.
fn borne(server: &ContractServer, site: u32, token: &str) -> Borne {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths { config_dir: borne_tests::repo().join("config"), state_dir: dir.path().join("state") };
    let url = url::Url::parse(&server.url()).unwrap();
    push::store_provisioned(&paths, &paths.state_dir.join("matomo.token"), &url, site, &Token::new(token).unwrap())
        .unwrap();
    Borne { _dir: dir, paths }
}

fn store(b: &Borne) -> Store {
    Store::open(&b.paths.state_dir.join(FILE_NAME)).unwrap()
}

fn target(server: &ContractServer, site: u32, token: &str) -> Target {
    Target { url: url::Url::parse(&server.url()).unwrap(), site_id: site, token: Token::new(token).unwrap() }
}

fn fast() -> Options {
    Options { settle: Duration::from_millis(300), timeout: Duration::from_secs(5), max_batch: push::MAX_BATCH }
}

fn push_until_done(store: &mut Store, t: &Target, opts: &Options) -> Vec<Result<push::Report, String>> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = Client::new(&t.url, opts.timeout).unwrap();
    let mut log = Vec::new();
    for _ in 0..20 {
        let r = rt.block_on(push::push_once(store, &client, t, opts));
        let done = r.is_ok();
        log.push(r.map_err(|e| e.to_string()));
        if done {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    log
}

fn server_totals(server: &ContractServer, site: u32) -> BTreeMap<(String, String), u64> {
    server.events(site)
}

fn hours_ago(h: i64) -> Hour {
    Hour(Hour::now().0 - h)
}

#[test]
fn a_month_offline_is_delivered_exactly_once_with_one_visit_a_session() {
    let server = ContractServer::start();
    let site = server.add_site("Borne A", "Europe/Paris");
    server.add_token("tok-a", Role::Write(site));
    let b = borne(&server, site, "tok-a");
    let mut s = store(&b);
    let mut rng = Rng(7);
    for day in 0..30 {
        for h in [9, 11, 14, 16] {
            sessions(&mut s, &mut rng, hours_ago(24 * (30 - day) + h), 2);
        }
    }
    let log = push_until_done(&mut s, &target(&server, site, "tok-a"), &fast());
    assert!(log.last().unwrap().is_ok(), "{log:?}");
    assert_eq!(server_totals(&server, site), totals(&s));
    assert_eq!(server.visits(site), totals(&s)[&("session".to_string(), "start".to_string())]);
    assert_eq!(s.push_status().unwrap().backlog, 0);
    // Nothing new: nothing sent.
    let before = server.tracking_requests();
    push_until_done(&mut s, &target(&server, site, "tok-a"), &fast());
    assert_eq!(server.tracking_requests(), before);
}

#[test]
fn every_fault_of_the_contract_ends_with_exact_totals() {
    let faults = [
        Fault::Fail500 { times: 2 },
        Fault::Garbage { times: 1, stored: true },
        Fault::Garbage { times: 1, stored: false },
        Fault::CutAfterStore { times: 2 },
        Fault::CutBeforeStore { times: 1 },
        Fault::Latency(Duration::from_millis(150)),
    ];
    for fault in faults {
        let server = ContractServer::start();
        let site = server.add_site("Borne F", "Europe/Paris");
        server.add_token("tok-f", Role::Write(site));
        let b = borne(&server, site, "tok-f");
        let mut s = store(&b);
        let mut rng = Rng(11);
        for h in 0..40 {
            sessions(&mut s, &mut rng, hours_ago(3 + h * 5), 3);
        }
        server.set_fault(fault.clone());
        let opts = Options { max_batch: 100, ..fast() };
        let log = push_until_done(&mut s, &target(&server, site, "tok-f"), &opts);
        assert!(log.last().unwrap().is_ok(), "{fault:?}: {log:?}");
        assert_eq!(server_totals(&server, site), totals(&s), "{fault:?}: {log:?}");
        assert_eq!(server.visits(site), totals(&s)[&("session".to_string(), "start".to_string())], "{fault:?}");
    }
}

#[test]
fn store_down_keeps_everything_until_it_is_back() {
    let server = ContractServer::start();
    let site = server.add_site("Borne D", "Europe/Paris");
    server.add_token("tok-d", Role::Write(site));
    let b = borne(&server, site, "tok-d");
    let mut s = store(&b);
    sessions(&mut s, &mut Rng(3), hours_ago(2), 5);
    server.set_fault(Fault::StoreDown);
    let t = target(&server, site, "tok-d");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = Client::new(&t.url, Duration::from_secs(5)).unwrap();
    let r = rt.block_on(push::push_once(&mut s, &client, &t, &fast()));
    assert!(matches!(r, Err(PushError::Retry(_))), "{r:?}");
    assert_eq!(s.push_status().unwrap().state, "retrying");
    assert!(server.events(site).is_empty());
    server.set_fault(Fault::None);
    let log = push_until_done(&mut s, &t, &fast());
    assert!(log.last().unwrap().is_ok(), "{log:?}");
    assert_eq!(server_totals(&server, site), totals(&s));
}

#[test]
fn refusals_stop_the_push_and_lose_nothing() {
    let server = ContractServer::start();
    let site = server.add_site("Borne R", "Europe/Paris");
    let other = server.add_site("Other", "Europe/Paris");
    server.add_token("tok-other", Role::Write(other));
    server.add_token("tok-view", Role::View(site));
    server.add_token("tok-good", Role::Write(site));
    let b = borne(&server, site, "tok-good");
    let mut s = store(&b);
    // Two days old: Matomo needs a token with write access to this site.
    sessions(&mut s, &mut Rng(5), hours_ago(50), 4);
    sessions(&mut s, &mut Rng(6), hours_ago(1), 2);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for (token, site_id, code) in [
        ("tok-unknown", site, "bad-token"),
        ("tok-other", site, "no-access"),
        ("tok-view", site, "no-access"),
        ("tok-good", 99, "unknown-site"),
    ] {
        let t = target(&server, site_id, token);
        let client = Client::new(&t.url, Duration::from_secs(5)).unwrap();
        let r = rt.block_on(push::push_once(&mut s, &client, &t, &fast()));
        match r {
            Err(PushError::Refused(e)) => assert_eq!(e.code(), code, "{token}"),
            other => panic!("{token}: {other:?}"),
        }
        let st = s.push_status().unwrap();
        assert_eq!((st.state.as_str(), st.code.as_deref()), ("refused", Some(code)));
    }
    // Recent hits of the refused batches may have landed: the right token finishes without doubles.
    let log = push_until_done(&mut s, &target(&server, site, "tok-good"), &fast());
    assert!(log.last().unwrap().is_ok(), "{log:?}");
    assert_eq!(server_totals(&server, site), totals(&s));
    assert_eq!(server.visits(site), 6);
}

/// `kill -9` of `bornectl push` at random moments, with random faults on the server, while sessions
/// keep being counted. At the end the server's totals equal the local ones exactly.
#[test]
fn kill_9_at_random_points_never_loses_or_doubles() {
    let rounds: u32 = std::env::var("BORNE_KILL_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let server = ContractServer::start();
    let site = server.add_site("Borne K", "Europe/Paris");
    server.add_token("tok-k", Role::Write(site));
    let b = borne(&server, site, "tok-k");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let bornectl = borne_tests::bin("bornectl");
    let mut killed_mid_run = 0;
    for round in 0..rounds {
        {
            let mut s = store(&b);
            let n = rng.below(4) as u32;
            sessions(&mut s, &mut rng, hours_ago(1 + i64::from(round % 60)), n);
        }
        server.set_fault(match rng.below(7) {
            0 => Fault::CutAfterStore { times: 1 },
            1 => Fault::Fail500 { times: 1 },
            2 => Fault::Garbage { times: 1, stored: rng.below(2) == 0 },
            3 => Fault::CutBeforeStore { times: 1 },
            4 => Fault::Latency(Duration::from_millis(rng.below(60))),
            _ => Fault::None,
        });
        let mut child = Command::new(&bornectl)
            .args(["--config", b.paths.config_dir.to_str().unwrap(), "--state", b.paths.state_dir.to_str().unwrap()])
            .args(["push"])
            .env("BORNE_PUSH_SETTLE_MS", "250")
            .env("BORNE_PUSH_BATCH", "40")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(120)));
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
    }
    server.set_fault(Fault::None);
    let mut s = store(&b);
    let log = push_until_done(&mut s, &target(&server, site, "tok-k"), &fast());
    assert!(log.last().unwrap().is_ok(), "{log:?}");
    let local = totals(&s);
    assert_eq!(server_totals(&server, site), local, "after {rounds} rounds ({killed_mid_run} killed mid-run)");
    assert_eq!(server.visits(site), local[&("session".to_string(), "start".to_string())]);
    assert!(killed_mid_run > rounds / 4, "the kills must land during pushes: {killed_mid_run}/{rounds}");
    eprintln!("kill -9: {rounds} rounds, {killed_mid_run} killed during a push, {} units", local.values().sum::<u64>());
}

/// Problems found in what was sent: anything outside the allowed vocabulary.
fn privacy_problems(requests: &[RawRequest], token: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let marker = |v: &str| v.len() == 17 && v.starts_with('b') && v[1..].bytes().all(|b| b.is_ascii_hexdigit());
    for r in requests {
        let text = r.text();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let request_line = lines.next().unwrap_or("");
        let path = request_line.split(' ').nth(1).unwrap_or("");
        if path != "/matomo.php" && path != "/index.php" {
            problems.push(format!("path or query in the URL: {request_line}"));
        }
        for h in lines {
            let (name, value) = h.split_once(':').unwrap_or((h, ""));
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "user-agent" if value != borne_core::matomo::USER_AGENT => problems.push(format!("user agent {value}")),
                "cookie" | "referer" | "x-forwarded-for" | "authorization" => problems.push(format!("header {name}")),
                _ => {}
            }
        }
        if path == "/matomo.php" {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
                problems.push("tracking body is not JSON".into());
                continue;
            };
            let keys: Vec<&String> = v.as_object().map(|o| o.keys().collect()).unwrap_or_default();
            if keys.iter().any(|k| *k != "requests" && *k != "token_auth") {
                problems.push(format!("body keys {keys:?}"));
            }
            if v["token_auth"] != token {
                problems.push("unexpected token".into());
            }
            for e in v["requests"].as_array().into_iter().flatten() {
                let e = e.as_str().unwrap_or("");
                let Some(q) = e.strip_prefix('?') else {
                    problems.push(format!("entry {e}"));
                    continue;
                };
                let pairs: Vec<(String, String)> = form_urlencoded::parse(q.as_bytes()).into_owned().collect();
                let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
                let cat = get("e_c").and_then(Category::from_code);
                for (k, v) in &pairs {
                    let ok = match k.as_str() {
                        "idsite" => v.bytes().all(|b| b.is_ascii_digit()),
                        "rec" | "apiv" | "new_visit" => v == "1",
                        "e_c" => cat.is_some(),
                        "e_a" => cat.is_some_and(|c| in_vocabulary(c, v)),
                        "e_n" => marker(v),
                        "cdt" => {
                            v.len() == 19
                                && v.ends_with(":00:00")
                                && v.as_bytes()[10] == b' '
                                && v[..10].bytes().all(|b| b.is_ascii_digit() || b == b'-')
                        }
                        _ => false,
                    };
                    if !ok {
                        problems.push(format!("{k}={v}"));
                    }
                }
            }
        } else {
            let pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
            for (k, v) in &pairs {
                let ok = match k.as_str() {
                    "module" => v == "API",
                    "format" => v == "JSON",
                    "method" => ["Live.getLastVisitsDetails", "SitesManager.getSiteFromId"].contains(&v.as_str()),
                    "token_auth" => v == token,
                    "idSite" => v.bytes().all(|b| b.is_ascii_digit()),
                    "filter_limit" => v == "-1",
                    "segment" => v.strip_prefix("eventName==").is_some_and(marker),
                    _ => false,
                };
                if !ok {
                    problems.push(format!("{k}={v}"));
                }
            }
        }
    }
    problems
}

#[test]
fn every_byte_sent_is_in_the_vocabulary_and_planted_data_is_never_sent() {
    let server = ContractServer::start();
    let site = server.add_site("Borne P", "Europe/Paris");
    server.add_token("tok-p", Role::Write(site));
    let b = borne(&server, site, "tok-p");
    let mut s = store(&b);
    sessions(&mut s, &mut Rng(99), hours_ago(3), 20);
    drop(s);
    // Plant what must never leave: a URL path, a page title, typed text, a person's host name, a
    // time finer than the hour is impossible to store (hours only), so plant the rest in the file.
    {
        let c = rusqlite::Connection::open(b.paths.state_dir.join(FILE_NAME)).unwrap();
        let h = hours_ago(3).0;
        for (cat, action) in [
            ("tile", "caf/mon-compte?dossier=12345"),
            ("tile", "Mon dossier - Caf.fr"),
            ("outcome", "jean.dupont@example.org"),
            ("blocked", "jean-dupont.example.org"),
            ("url", "https://www.caf.fr/allocataires"),
        ] {
            c.execute(
                "INSERT INTO counts (hour, cat, action, n) VALUES (?1, ?2, ?3, 1)",
                rusqlite::params![h, cat, action],
            )
            .unwrap();
        }
    }
    let mut s = store(&b);
    server.set_fault(Fault::CutAfterStore { times: 1 }); // so lookups are sent too
    let log = push_until_done(&mut s, &target(&server, site, "tok-p"), &fast());
    assert!(log.last().unwrap().is_ok(), "{log:?}");
    let requests = server.requests();
    assert!(requests.iter().any(|r| r.text().contains("Live.getLastVisitsDetails")), "a lookup was made");
    let problems = privacy_problems(&requests, "tok-p");
    assert!(problems.is_empty(), "{problems:?}");
    let all: String = requests.iter().map(RawRequest::text).collect();
    for planted in ["dossier", "Caf.fr", "dupont", "allocataires"] {
        assert!(!all.contains(planted), "{planted} was sent");
    }
    // The planted rows stay on the borne, undelivered (and logged as outside the vocabulary).
    assert_eq!(s.push_status().unwrap().backlog, 5);

    // The checker itself fails on planted data.
    let planted = [
        "?idsite=1&rec=1&e_c=tile&e_a=caf%2Fmon-compte&e_n=b0011223344556677&cdt=2026-11-23+10%3A00%3A00",
        "?idsite=1&rec=1&e_c=tile&e_a=caf&action_name=Mon+dossier&e_n=b0011223344556677&cdt=2026-11-23+10%3A00%3A00",
        "?idsite=1&rec=1&e_c=tile&e_a=caf&url=https%3A%2F%2Fcaf.fr%2Fx&e_n=b0011223344556677&cdt=2026-11-23+10%3A00%3A00",
        "?idsite=1&rec=1&e_c=tile&e_a=jean+dupont&e_n=b0011223344556677&cdt=2026-11-23+10%3A00%3A00",
        "?idsite=1&rec=1&e_c=tile&e_a=caf&e_n=b0011223344556677&cdt=2026-11-23+10%3A37%3A00",
        "?idsite=1&rec=1&e_c=tile&e_a=caf&e_n=b0011223344556677&cdt=2026-11-23+10%3A00%3A00&_id=0123456789abcdef",
        "?idsite=1&rec=1&e_c=tile&e_a=caf&e_n=b0011223344556677&cdt=2026-11-23+10%3A00%3A00&cip=10.0.0.1",
    ];
    for p in planted {
        let body = serde_json::json!({"requests": [p], "token_auth": "tok-p"}).to_string();
        let raw = format!(
            "POST /matomo.php HTTP/1.1\r\nUser-Agent: {}\r\nContent-Length: {}\r\n\r\n{body}",
            borne_core::matomo::USER_AGENT,
            body.len()
        );
        let found = privacy_problems(&[RawRequest { bytes: raw.into_bytes() }], "tok-p");
        assert!(!found.is_empty(), "the check missed {p}");
    }
}

fn bornectl(paths: &Paths, args: &[&str]) -> std::process::Output {
    Command::new(borne_tests::bin("bornectl"))
        .args(["--config", paths.config_dir.to_str().unwrap(), "--state", paths.state_dir.to_str().unwrap()])
        .args(args)
        .env("BORNE_PUSH_SETTLE_MS", "200")
        .output()
        .unwrap()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn provision_then_push_then_federation_report() {
    let server = ContractServer::start();
    server.add_token("admin-token", Role::SuperUser);
    let mut states = Vec::new();
    for (centre, n) in [("Centre social Les Tilleuls", 3u32), ("Maison de quartier Nord", 5)] {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths { config_dir: borne_tests::repo().join("config"), state_dir: dir.path().join("state") };
        let admin = dir.path().join("admin.token");
        write(&admin, "admin-token\n");
        let out = bornectl(
            &paths,
            &[
                "provision",
                "--matomo",
                &server.url(),
                "--admin-token-file",
                admin.to_str().unwrap(),
                "--centre",
                centre,
            ],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("Site Matomo n°"), "{said}");
        assert!(!said.contains("admin-token"));
        let mut s = Store::open(&paths.state_dir.join(FILE_NAME)).unwrap();
        // Three days old: only a token with write access to the new site can deliver them.
        sessions(&mut s, &mut Rng(u64::from(n)), hours_ago(72), n);
        drop(s);
        let dry = bornectl(&paths, &["push", "--dry-run"]);
        assert!(dry.status.success());
        let dry_text = String::from_utf8_lossy(&dry.stdout);
        assert!(dry_text.contains("POST ") && dry_text.contains("\"token_auth\":\"***\""), "{dry_text}");
        assert_eq!(server.tracking_requests(), states.len(), "a dry run sends nothing");
        let out = bornectl(&paths, &["push"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("Statistiques envoyées"));
        states.push((dir, paths, n));
    }
    let view = states[0].0.path().join("fed.token");
    write(&view, "admin-token");
    let day = |h: i64| hours_ago(h).date_in(&jiff::tz::TimeZone::get("Europe/Paris").unwrap()).to_string();
    let out = Command::new(borne_tests::bin("bornectl"))
        .args(["report", "--matomo", &server.url(), "--token-file", view.to_str().unwrap()])
        .args(["--from", &day(24 * 5), "--to", &day(0), "--csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Vec<&str>> = csv.split("\r\n").filter(|l| !l.is_empty()).map(|l| l.split(';').collect()).collect();
    assert_eq!(lines[0][..3], ["site", "borne", "sessions"]);
    assert_eq!(lines.len(), 4, "{csv}");
    assert_eq!(lines[1][1], "Borne - Centre social Les Tilleuls");
    assert_eq!(lines[1][2], "3");
    assert_eq!(lines[2][2], "5");
    assert_eq!(lines[3][2], "8", "total line");
    let html = Command::new(borne_tests::bin("bornectl"))
        .args(["report", "--matomo", &server.url(), "--token-file", view.to_str().unwrap()])
        .args(["--from", &day(24 * 5), "--to", &day(0), "--html"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&html.stdout).contains("<td>Borne - Maison de quartier Nord</td>"));
    // A bad token: a French message and exit code 3.
    write(&view, "nope");
    let out = Command::new(borne_tests::bin("bornectl"))
        .args(["report", "--matomo", &server.url(), "--token-file", view.to_str().unwrap()])
        .args(["--from", &day(24), "--to", &day(0)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("clé d'accès"));
}

#[test]
fn local_stats_csv_has_a_line_a_day_and_french_text() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths { config_dir: borne_tests::repo().join("config"), state_dir: dir.path().join("state") };
    let mut s = Store::open(&paths.state_dir.join(FILE_NAME)).unwrap();
    sessions(&mut s, &mut Rng(1), hours_ago(1), 4);
    let t = totals(&s);
    drop(s);
    let tz = jiff::tz::TimeZone::system();
    let today = hours_ago(0).date_in(&tz);
    let from = today.checked_sub(jiff::Span::new().days(6)).unwrap();
    let out = bornectl(&paths, &["stats", "--from", &from.to_string(), "--to", &today.to_string(), "--csv"]);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = csv.split("\r\n").filter(|l| !l.is_empty()).map(|l| l.split(';').collect()).collect();
    assert_eq!(rows[0][0..2], ["date", "sessions"]);
    assert_eq!(rows.len(), 1 + 7);
    let sessions_col: u64 = rows[1..].iter().map(|r| r[1].parse::<u64>().unwrap()).sum();
    assert_eq!(sessions_col, 4);
    let tiles: u64 = t.iter().filter(|((c, _), _)| c == "tile").map(|(_, n)| n).sum();
    let col = rows[0].iter().position(|h| *h == "tuiles_ouvertes").unwrap();
    assert_eq!(rows[1..].iter().map(|r| r[col].parse::<u64>().unwrap()).sum::<u64>(), tiles);
    let text = bornectl(&paths, &["stats"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("Sessions : 4") && text.contains("Envoi à Matomo : jamais envoyé"), "{text}");
    let bad = bornectl(&paths, &["stats", "--from", "23/11/2026"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("année-mois-jour"));
}

#[test]
fn a_newer_statistics_file_is_refused_in_french_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths { config_dir: borne_tests::repo().join("config"), state_dir: dir.path().join("state") };
    Store::open(&paths.state_dir.join(FILE_NAME)).unwrap();
    let c = rusqlite::Connection::open(paths.state_dir.join(FILE_NAME)).unwrap();
    c.pragma_update(None, "user_version", 42).unwrap();
    drop(c);
    let out = bornectl(&paths, &["stats"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("version plus récente"));
}

#[test]
fn the_connection_test_names_each_problem() {
    let server = ContractServer::start();
    let site = server.add_site("Borne T", "Europe/Paris");
    let other = server.add_site("Other", "Europe/Paris");
    server.add_token("tok-write", Role::Write(site));
    server.add_token("tok-view", Role::View(site));
    server.add_token("tok-other", Role::Write(other));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let test = |token: &str, site_id: u32| rt.block_on(push::test_connection(&target(&server, site_id, token)));
    assert_eq!(test("tok-write", site), Ok(()));
    assert_eq!(test("nope", site).unwrap_err().code(), "bad-token");
    assert_eq!(test("tok-write", 99).unwrap_err().code(), "unknown-site");
    assert_eq!(test("tok-view", site).unwrap_err().code(), "no-access");
    assert_eq!(test("tok-other", site).unwrap_err().code(), "no-access");
    assert!(server.events(site).is_empty(), "the test stores nothing");
    let closed =
        Target { url: url::Url::parse("http://127.0.0.1:9/").unwrap(), site_id: site, token: Token::new("x").unwrap() };
    assert_eq!(rt.block_on(push::test_connection(&closed)).unwrap_err().code(), "unreachable");
}
