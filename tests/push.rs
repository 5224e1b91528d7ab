//! Statistics delivered to Matomo exactly once, against the strict contract server: faults on demand,
//! `kill -9` of `bornectl push` at random points for sites in several time zones (the contract server,
//! like Matomo, shows action times shifted into the site's zone), refusals, « Tester la connexion » and
//! `bornectl matomo-check`, and a privacy check of every byte sent.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use borne_core::health::Why;
use borne_core::load::Paths;
use borne_core::matomo::{Client, Token};
use borne_core::push::in_vocabulary;
use borne_core::push::{self, Options, PushError, Target};
use borne_core::session::EndReason;
use borne_core::stats::{Category, DurationBand, Hour, Op, Store, FILE_NAME};
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
        // Another borne's key on this site: Matomo says "requires 'view' access for the website id", so
        // it is the site number (or the key) that belongs to someone else, not a key to replace.
        ("tok-other", site, "wrong-site"),
        ("tok-view", site, "no-access"),
        ("tok-good", 99, "wrong-site"),
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

/// Units per (hour, category, action): what the borne counted, and what the server stored (hour of `cdt`).
type PerHour = BTreeMap<(i64, String, String), u64>;

fn local_per_hour(store: &Store) -> PerHour {
    let mut out = PerHour::new();
    for r in store.rows_between(Hour(0), Hour(i64::MAX)).unwrap() {
        *out.entry((r.hour.0, r.cat, r.action)).or_insert(0) += r.n;
    }
    out
}

fn server_per_hour(server: &ContractServer, site: u32) -> PerHour {
    let mut out = PerHour::new();
    for h in server.hits(site) {
        if let Some((cat, action)) = h.event() {
            *out.entry(((h.time / 3600) as i64, cat.to_string(), action.to_string())).or_insert(0) += 1;
        }
    }
    out
}

/// Units lost (counted, not in Matomo) and doubled (in Matomo beyond what was counted), hour by hour.
fn lost_and_doubled(local: &PerHour, server: &PerHour) -> (u64, u64) {
    let keys: std::collections::BTreeSet<_> = local.keys().chain(server.keys()).collect();
    let mut lost_doubled = (0, 0);
    for k in keys {
        let (l, m) = (local.get(k).copied().unwrap_or(0), server.get(k).copied().unwrap_or(0));
        lost_doubled.0 += l.saturating_sub(m);
        lost_doubled.1 += m.saturating_sub(l);
    }
    lost_doubled
}

/// Hours on either side of the last two times Paris changed its clocks (the night the same local hour
/// happens twice, and the night one is skipped).
fn clock_change_hours() -> Vec<Hour> {
    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let mut hours = Vec::new();
    for t in paris.preceding(jiff::Timestamp::now()).take(2) {
        let h = Hour::from_unix(t.timestamp().as_second());
        hours.extend((-2..=1).map(|k| Hour(h.0 + k)));
    }
    assert_eq!(hours.len(), 8, "the system's time zone database knows Paris's summer time");
    hours
}

/// A machine as a health report sees it, varied by `k`.
fn machine(k: u32) -> borne_core::health::Machine {
    use borne_core::health::{Machine, Printer, Update};
    Machine {
        free_disk: Some(u64::from(k % 30) << 30),
        uptime: Some(u64::from(k) * 3000),
        printer: [Printer::Ok, Printer::Down, Printer::None][k as usize % 3],
        restarts: u64::from(k % 4),
        slot: Some(if k.is_multiple_of(2) { 'a' } else { 'b' }),
        image_version: None,
        update: [Update::None, Update::Ok, Update::RolledBack, Update::Failed][k as usize % 4],
    }
}

/// `kill -9` of `bornectl push` at random moments, with random faults on the server, while sessions
/// keep being counted, for a site in `zone`. Sessions go in recent hours and in the hours around the last
/// two clock changes. At the end the server holds exactly the local counts, hour by hour.
fn kill_9_rounds(zone: &str, seed: u64) {
    let rounds: u32 = std::env::var("BORNE_KILL_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let started = std::time::Instant::now();
    let server = ContractServer::start();
    let site = server.add_site("Borne K", zone);
    server.add_token("tok-k", Role::Write(site));
    let b = borne(&server, site, "tok-k");
    let mut rng = Rng(seed);
    let bornectl = borne_tests::bin("bornectl");
    let changes = clock_change_hours();
    let mut killed_mid_run = 0;
    let mut reports = 0u64;
    for round in 0..rounds {
        {
            let mut s = store(&b);
            let n = rng.below(4) as u32;
            let hour = if round % 3 == 0 {
                changes[rng.below(changes.len() as u64) as usize]
            } else {
                hours_ago(1 + i64::from(round % 60))
            };
            sessions(&mut s, &mut rng, hour, n);
            // A health report every fourth round (issue 21, item 2): it goes through the same outbox.
            if round % 4 == 1 {
                let m = machine(round);
                let r = borne_core::health::report(&s, Why::Daily, hours_ago(i64::from(round % 48)), 3, &m).unwrap();
                s.record_health(&r).unwrap();
                reports += 1;
            }
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
        // Mostly early kills; one round in five lives past the 250 ms settle, so it also gets killed
        // during or after a lookup.
        let delay = if round % 5 == 4 { 260 + rng.below(200) } else { rng.below(120) };
        std::thread::sleep(Duration::from_millis(delay));
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
    }
    server.set_fault(Fault::None);
    let mut s = store(&b);
    let log = push_until_done(&mut s, &target(&server, site, "tok-k"), &fast());
    assert!(log.last().unwrap().is_ok(), "{zone}: {log:?}");
    let local = local_per_hour(&s);
    let held = server_per_hour(&server, site);
    let (lost, doubled) = lost_and_doubled(&local, &held);
    let lookups = server.requests().iter().filter(|r| r.text().contains("Live.getLastVisitsDetails")).count();
    eprintln!(
        "kill -9 {zone}: {rounds} rounds, {killed_mid_run} killed during a push, {lookups} lookups, {} units \
         ({reports} health reports), lost {lost}, doubled {doubled}, {:.1} s",
        local.values().sum::<u64>(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!((lost, doubled), (0, 0), "{zone}: after {rounds} rounds ({killed_mid_run} killed mid-run)");
    assert_eq!(held, local, "{zone}");
    let sessions = totals(&s)[&("session".to_string(), "start".to_string())];
    assert_eq!(server.visits(site), sessions + reports, "{zone}: a visit a session and a visit a health report");
    assert_eq!(server.visitors(site), (sessions + reports, 0), "{zone}: each visit its own visitor, none returning");
    // Every health report landed exactly once, whole, in a visit of its own.
    let health: Vec<_> = server.hits(site).into_iter().filter(|h| h.param("e_c") == Some("health")).collect();
    assert_eq!(health.len() as u64, reports, "{zone}");
    // Two reports of one hour may say the same: compare each line's count with the borne's.
    let mut lines: BTreeMap<&str, u64> = BTreeMap::new();
    for h in &health {
        *lines.entry(h.param("e_a").unwrap_or("")).or_insert(0) += 1;
    }
    let local_lines: BTreeMap<String, u64> =
        s.rows().unwrap().into_iter().filter(|r| r.cat == "health").map(|r| (r.action, r.n)).collect();
    let held_lines: BTreeMap<String, u64> = lines.iter().map(|(l, n)| (l.to_string(), *n)).collect();
    assert_eq!(held_lines, local_lines, "{zone}: each report exactly once");
    assert!(lines.keys().all(|l| borne_core::health::in_vocabulary(l)), "{zone}");
    for h in &health {
        assert_eq!(
            server.hits(site).iter().filter(|x| x.visit == h.visit).count(),
            1,
            "{zone}: a report's visit is its own"
        );
    }
    assert_eq!(s.push_status().unwrap().backlog, 0, "{zone}");
    assert!(killed_mid_run > rounds / 4, "{zone}: the kills must land during pushes: {killed_mid_run}/{rounds}");
    assert!(lookups > 0, "{zone}: interrupted sends were looked up");
}

#[test]
fn kill_9_never_loses_or_doubles_in_paris() {
    kill_9_rounds("Europe/Paris", 0x9e37_79b9_7f4a_7c15);
}

#[test]
fn kill_9_never_loses_or_doubles_in_la_reunion() {
    kill_9_rounds("Indian/Reunion", 0x2545_f491_4f6c_dd1d);
}

#[test]
fn kill_9_never_loses_or_doubles_in_the_antilles() {
    kill_9_rounds("America/Guadeloupe", 0x1405_7b7e_f767_814f);
}

#[test]
fn kill_9_never_loses_or_doubles_in_utc() {
    kill_9_rounds("UTC", 0x6a09_e667_f3bc_c909);
}

/// Issue 21, item 6a: a real Matomo 5 put a day's sessions under a few visitor ids (the sessions of one hour share
/// their `cdt`, so Matomo took each new visit for the same visitor coming back). Each planned visit now carries its
/// own random `cid`: as many visitors as sessions, none returning, every id used by one visit only, the same id
/// again when an interrupted batch is sent again, and no id left in the statistics file once delivered.
#[test]
fn regression_21_each_session_is_its_own_visitor_and_its_id_is_forgotten_once_delivered() {
    let server = ContractServer::start();
    let site = server.add_site("Borne 21", "Indian/Reunion");
    server.add_token("tok-21", Role::Write(site));
    let b = borne(&server, site, "tok-21");
    let mut s = store(&b);
    for h in 0..12 {
        sessions(&mut s, &mut Rng(210 + h), hours_ago(2 + h as i64 * 3), 4);
    }
    // Three batches of 40 hits, the second one cut after being stored: it is looked up, and what did not land is
    // sent again with the ids it had.
    let opts = Options { max_batch: 40, ..fast() };
    server.set_fault(Fault::CutAfterStore { times: 1 });
    let log = push_until_done(&mut s, &target(&server, site, "tok-21"), &opts);
    assert!(log.last().unwrap().is_ok(), "{log:?}");
    let n = totals(&s)[&("session".to_string(), "start".to_string())];
    assert_eq!(n, 48);
    assert_eq!(server.visits(site), n);
    assert_eq!(server.visitors(site), (n, 0), "as many visitors as sessions, none returning");
    let tz = jiff::tz::TimeZone::get("Indian/Reunion").unwrap();
    let day = hours_ago(2).date_in(&tz).to_string();
    let summary = Client::new(&url::Url::parse(&server.url()).unwrap(), Duration::from_secs(5)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let token = Token::new("tok-21").unwrap();
    let params = [("idSite", site.to_string()), ("period", "day".to_string()), ("date", day)];
    let v = rt.block_on(summary.api(Some(&token), "VisitsSummary.get", &params)).unwrap();
    assert_eq!(v["nb_uniq_visitors"], v["nb_visits"], "{v}");
    let f = rt.block_on(summary.api(Some(&token), "VisitFrequency.get", &params)).unwrap();
    assert_eq!(f["nb_visits_returning"], 0, "{f}");
    // Every id belongs to one visit, and a visit's hits all carry its id.
    let mut by_id: BTreeMap<String, std::collections::BTreeSet<u64>> = BTreeMap::new();
    for h in server.hits(site) {
        let cid = h.param("cid").expect("every hit of a planned visit carries its id").to_string();
        by_id.entry(cid).or_default().insert(h.visit);
    }
    assert_eq!(by_id.len() as u64, n);
    assert!(by_id.values().all(|visits| visits.len() == 1), "an id reused across visits");
    drop(s);
    // Nothing of the ids stays on the borne: not in the file, not in its log.
    let mut bytes = std::fs::read(b.paths.state_dir.join(FILE_NAME)).unwrap();
    bytes.extend(std::fs::read(b.paths.state_dir.join(format!("{FILE_NAME}-wal"))).unwrap_or_default());
    let text = String::from_utf8_lossy(&bytes);
    let kept: Vec<&String> = by_id.keys().filter(|id| text.contains(id.as_str())).collect();
    assert!(kept.is_empty(), "visitor ids left on the borne after delivery: {kept:?}");
}

/// The doubling of issue 20, as a real Matomo caused it: a batch whose answer was lost, for a Paris
/// site on the night clocks go back, with hits on both of the hours that show the same local time.
#[test]
fn regression_20_a_lost_answer_on_a_clock_change_night_is_not_sent_again() {
    let server = ContractServer::start();
    let site = server.add_site("Borne 20", "Europe/Paris");
    server.add_token("tok-20", Role::Write(site));
    let b = borne(&server, site, "tok-20");
    let mut s = store(&b);
    let changes = clock_change_hours();
    for (i, h) in changes.iter().enumerate() {
        sessions(&mut s, &mut Rng(20 + i as u64), *h, 3);
    }
    sessions(&mut s, &mut Rng(21), hours_ago(2), 4);
    server.set_fault(Fault::CutAfterStore { times: 1 });
    let log = push_until_done(&mut s, &target(&server, site, "tok-20"), &fast());
    assert!(log.last().unwrap().is_ok(), "{log:?}");
    let (lost, doubled) = lost_and_doubled(&local_per_hour(&s), &server_per_hour(&server, site));
    assert_eq!((lost, doubled), (0, 0));
    // The lookup saw times shifted by the site's zone, and still found every hit.
    let live = server.requests().into_iter().filter(|r| r.text().contains("Live.getLastVisitsDetails")).count();
    assert_eq!(live, 1, "one lookup, then nothing sent again");
}

/// Problems found in what was sent: anything outside the allowed vocabulary.
fn privacy_problems(requests: &[RawRequest], token: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let marker = |v: &str| v.len() == 17 && v.starts_with('b') && v[1..].bytes().all(|b| b.is_ascii_hexdigit());
    // The event name: the marker, a dot, and the hit's hour (hours since 1970, the same hour as `cdt`).
    let event_name = |v: &str, cdt: Option<&str>| {
        let Some((m, hour)) = v.split_once('.') else { return false };
        let hour_of_cdt = cdt
            .and_then(|c| format!("{}Z", c.replace(' ', "T")).parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_second() / 3600);
        marker(m) && hour.bytes().all(|b| b.is_ascii_digit()) && hour.parse::<i64>().ok() == hour_of_cdt
    };
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
                        // The visit's throw-away visitor id: 16 hex digits, nothing else.
                        "cid" => v.len() == 16 && v.bytes().all(|b| b.is_ascii_hexdigit()),
                        "e_c" => cat.is_some(),
                        "e_a" => cat.is_some_and(|c| in_vocabulary(c, v)),
                        "e_n" => event_name(v, get("cdt")),
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
                    "segment" => v.strip_prefix("eventName=^").is_some_and(marker),
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
    // A health report goes through the same checks.
    let report = borne_core::health::report(&s, Why::Boot, hours_ago(3), 2, &machine(7)).unwrap();
    s.record_health(&report).unwrap();
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
            // A health line with a name in it, and one with a time finer than the hour.
            ("health", &report.line().replace("slot=b", "slot=jean-dupont")),
            ("health", &report.line().replace("T", "T15:37").replace("Z", "")),
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
    for planted in ["dossier", "Caf.fr", "dupont", "allocataires", "15:37"] {
        assert!(!all.contains(planted), "{planted} was sent");
    }
    let health: Vec<String> = server
        .hits(site)
        .iter()
        .filter(|h| h.param("e_c") == Some("health"))
        .map(|h| h.param("e_a").unwrap().into())
        .collect();
    assert_eq!(health, vec![report.line()], "the true report went, once");
    // The planted rows stay on the borne, undelivered (and logged as outside the vocabulary).
    assert_eq!(s.push_status().unwrap().backlog, 7);

    // The checker itself fails on planted data.
    let planted = [
        "?idsite=1&rec=1&e_c=tile&e_a=caf%2Fmon-compte&e_n=b0011223344556677.498730&cdt=2026-11-23+10%3A00%3A00",
        "?idsite=1&rec=1&e_c=tile&e_a=caf&action_name=Mon+dossier&e_n=b0011223344556677.498730&cdt=2026-11-23+10%3A00%3A00",
        "?idsite=1&rec=1&e_c=tile&e_a=caf&url=https%3A%2F%2Fcaf.fr%2Fx&e_n=b0011223344556677.498730&cdt=2026-11-23+10%3A00%3A00",
        "?idsite=1&rec=1&e_c=tile&e_a=jean+dupont&e_n=b0011223344556677.498730&cdt=2026-11-23+10%3A00%3A00",
        "?idsite=1&rec=1&e_c=tile&e_a=caf&e_n=b0011223344556677.498730&cdt=2026-11-23+10%3A37%3A00",
        "?idsite=1&rec=1&e_c=tile&e_a=caf&e_n=b0011223344556677.498730&cdt=2026-11-23+10%3A00%3A00&_id=0123456789abcdef",
        "?idsite=1&rec=1&e_c=tile&e_a=caf&e_n=b0011223344556677.498730&cdt=2026-11-23+10%3A00%3A00&cip=10.0.0.1",
        "?idsite=1&rec=1&e_c=tile&e_a=caf&e_n=b0011223344556677.498730&cdt=2026-11-23+10%3A00%3A00&cid=jean-dupont-1234",
        "?idsite=1&rec=1&e_c=tile&e_a=caf&e_n=b0011223344556677&cdt=2026-11-23+10%3A00%3A00",
        "?idsite=1&rec=1&e_c=tile&e_a=caf&e_n=b0011223344556677.498731&cdt=2026-11-23+10%3A00%3A00",
        "?idsite=1&rec=1&e_c=tile&e_a=caf&e_n=b0011223344556677.498730.jean&cdt=2026-11-23+10%3A00%3A00",
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

/// Issue 21, item 6b: `provision` creates the site in the centre's own time zone, from the settings, so that
/// Matomo counts La Réunion's or Guadeloupe's days as the centre lives them.
#[test]
fn regression_21_provision_takes_the_time_zone_from_the_settings() {
    let server = ContractServer::start();
    server.add_token("admin-tz", Role::SuperUser);
    let admin = Token::new("admin-tz").unwrap();
    let client = Client::new(&url::Url::parse(&server.url()).unwrap(), Duration::from_secs(5)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for zone in [None, Some("Indian/Reunion"), Some("America/Guadeloupe"), Some("Indian/Mayotte")] {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::create_dir_all(&config).unwrap();
        for f in std::fs::read_dir(borne_tests::repo().join("config")).unwrap() {
            let f = f.unwrap();
            if f.file_type().unwrap().is_file() {
                std::fs::copy(f.path(), config.join(f.file_name())).unwrap();
            }
        }
        if let Some(z) = zone {
            let shipped = std::fs::read_to_string(config.join("borne.toml")).unwrap();
            let edited = shipped.replace("time_zone = \"Europe/Paris\"", &format!("time_zone = \"{z}\""));
            assert_ne!(edited, shipped, "the shipped borne.toml has the time_zone key");
            write(&config.join("borne.toml"), &edited);
        }
        let paths = Paths { config_dir: config, state_dir: dir.path().join("state") };
        let token_file = dir.path().join("admin.token");
        write(&token_file, "admin-tz\n");
        let out = bornectl(
            &paths,
            &[
                "provision",
                "--matomo",
                &server.url(),
                "--admin-token-file",
                token_file.to_str().unwrap(),
                "--centre",
                "Case",
            ],
        );
        let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{said}");
        let want = zone.unwrap_or("Europe/Paris");
        assert!(said.contains(want), "{said}");
        let site = borne_core::push::Destination::resolve(
            &borne_core::config::StatsSettings {
                enabled: true,
                matomo_url: None,
                site_id: 0,
                token_file: "matomo.token".into(),
                time_zone: want.into(),
            },
            &paths,
        )
        .site_id;
        let v = rt
            .block_on(client.api(Some(&admin), "SitesManager.getSiteFromId", &[("idSite", site.to_string())]))
            .unwrap();
        assert_eq!(v["timezone"], want, "{v}");
    }
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
    // Its last migration changed a table (not additive): older programs may not use it.
    c.execute("UPDATE schema_meta SET value = 42 WHERE key = 'reader_floor'", []).unwrap();
    drop(c);
    let out = bornectl(&paths, &["stats"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("version plus récente"));
}

/// A web server that is not a Matomo: every request gets `status` and a small HTML page.
fn not_a_matomo(status: &'static str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let page = "<html><body>It works!</body></html>";
            let answer = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = reader.get_mut().write_all(answer.as_bytes());
        }
    });
    url
}

#[test]
fn the_connection_test_names_each_problem() {
    let server = ContractServer::start();
    let site = server.add_site("Borne T", "Europe/Paris");
    let other = server.add_site("Other", "Indian/Reunion");
    server.add_token("tok-write", Role::Write(site));
    server.add_token("tok-view", Role::View(site));
    server.add_token("tok-other", Role::Write(other));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let test = |t: Target| rt.block_on(push::test_connection(&t)).map_err(|e| e.code());
    let at = |token: &str, site_id: u32| target(&server, site_id, token);
    assert_eq!(test(at("tok-write", site)), Ok(()), "a right key with write access: anonymous calls are refused");
    assert_eq!(test(at("nope", site)), Err("bad-token"));
    assert_eq!(test(at("tok-write", 99)), Err("wrong-site"), "a site that does not exist");
    assert_eq!(test(at("tok-write", other)), Err("wrong-site"), "another borne's site");
    assert_eq!(test(at("tok-other", site)), Err("wrong-site"), "another borne's key: Matomo cannot tell which");
    assert_eq!(test(at("tok-view", site)), Err("no-access"));
    assert!(server.events(site).is_empty() && server.events(other).is_empty(), "the test stores nothing");
    let elsewhere = |url: String| Target { url: url::Url::parse(&url).unwrap(), ..at("tok-write", site) };
    assert_eq!(test(elsewhere(not_a_matomo("200 OK"))), Err("not-matomo"));
    assert_eq!(test(elsewhere(not_a_matomo("404 Not Found"))), Err("not-matomo"));
    assert_eq!(test(elsewhere(not_a_matomo("401 Unauthorized"))), Err("not-matomo"));
    assert_eq!(test(elsewhere("http://127.0.0.1:9/".into())), Err("unreachable"));
    // Each its own French message, from the core's messages.
    let messages: std::collections::BTreeSet<&str> =
        ["unreachable", "not-matomo", "bad-token", "wrong-site", "no-access"].map(push_message).into();
    assert_eq!(messages.len(), 5);
}

fn push_message(code: &str) -> &'static str {
    borne_core::messages::matomo_code_fr(code)
}

#[test]
fn bornectl_matomo_check_says_what_is_wrong_in_french() {
    let server = ContractServer::start();
    let site = server.add_site("Borne C", "America/Guadeloupe");
    server.add_token("tok-c", Role::Write(site));
    server.add_token("tok-cv", Role::View(site));
    let b = borne(&server, site, "tok-c");
    let check = |extra: &[&str]| {
        let out = bornectl(&b.paths, &[&["matomo-check"], extra].concat());
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let (code, said) = check(&[]);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("Connexion réussie"), "{said}");
    let (code, said) = check(&["--site-id", "99"]);
    assert_eq!(code, Some(3), "{said}");
    assert!(said.contains(push_message("wrong-site")), "{said}");
    let view = b.paths.state_dir.join("view.token");
    write(&view, "tok-cv\n");
    let (code, said) = check(&["--token-file", view.to_str().unwrap()]);
    assert_eq!(code, Some(3), "{said}");
    assert!(said.contains(push_message("no-access")), "{said}");
    write(&view, "nope\n");
    let (code, said) = check(&["--token-file", view.to_str().unwrap(), "--site-id", &site.to_string()]);
    assert_eq!(code, Some(3), "{said}");
    assert!(said.contains(push_message("bad-token")), "{said}");
    let (code, said) = check(&["--matomo", &not_a_matomo("200 OK")]);
    assert_eq!(code, Some(3), "{said}");
    assert!(said.contains(push_message("not-matomo")), "{said}");
    let (code, said) = check(&["--matomo", "http://127.0.0.1:9/"]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains(push_message("unreachable")), "{said}");
    assert!(server.events(site).is_empty());
}

#[test]
fn a_push_to_a_wrong_site_says_the_site_number_is_wrong_not_the_key() {
    let server = ContractServer::start();
    let site = server.add_site("Borne W", "Europe/Paris");
    server.add_token("tok-w", Role::Write(site));
    let b = borne(&server, 99, "tok-w");
    let mut s = store(&b);
    sessions(&mut s, &mut Rng(8), hours_ago(50), 2);
    drop(s);
    let out = bornectl(&b.paths, &["push"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(said.contains("numéro de site"), "{said}");
    assert!(!said.contains("nouvelle clé"), "{said}");
    let st = store(&b).push_status().unwrap();
    assert_eq!((st.state.as_str(), st.code.as_deref()), ("refused", Some("wrong-site")));
}

#[test]
fn an_interrupted_push_says_nothing_is_lost_once() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths { config_dir: borne_tests::repo().join("config"), state_dir: dir.path().join("state") };
    let url = url::Url::parse("http://127.0.0.1:9/").unwrap();
    push::store_provisioned(&paths, &paths.state_dir.join("matomo.token"), &url, 1, &Token::new("t").unwrap()).unwrap();
    let mut s = Store::open(&paths.state_dir.join(FILE_NAME)).unwrap();
    sessions(&mut s, &mut Rng(4), hours_ago(1), 1);
    drop(s);
    let out = bornectl(&paths, &["push"]);
    let said = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("envoi interrompu"), "{said}");
    assert_eq!(said.matches("rien n'est perdu").count(), 1, "{said}");
}
