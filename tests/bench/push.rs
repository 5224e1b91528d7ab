//! Matomo push: 30 days × 200 sessions delivered from a fresh statistics file to the contract server
//! on loopback with `push_once`; the server's totals must equal the file's, one visit a session.
//!
//! Plain `fn main()`. `cargo bench -p borne-tests --bench push` runs the full figures; without
//! `--bench` (`cargo test --benches`) it runs a short smoke version (3 days).

use std::collections::BTreeMap;
use std::time::Instant;

use borne_core::matomo::{Client, Token};
use borne_core::push::{self, push_once, Options, Target};
use borne_core::session::EndReason;
use borne_core::stats::{Category, DurationBand, Hour, Op, Outcome, Store};
use borne_tests::matomo::{ContractServer, Role};
use jiff::ToSpan;

// The session generator is the one of `src-tauri/core/benches/stats.rs` (copied: benches of two crates).

/// A small deterministic generator (xorshift64*), so every run writes the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True `per_mille` times out of 1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// An index drawn with these weights.
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let mut x = self.below(weights.iter().sum());
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// Thirty tile ids, the most used first (drawn with Zipf-like weights 1/rank).
const TILES: [&str; 30] = [
    "caf",
    "ameli",
    "impots",
    "france-travail",
    "ants",
    "service-public",
    "la-poste",
    "info-retraite",
    "msa",
    "doctolib",
    "sncf-connect",
    "edf",
    "mairie",
    "prefecture",
    "mon-compte-formation",
    "mes-droits-sociaux",
    "franceconnect",
    "la-banque-postale",
    "credit-agricole",
    "orange",
    "free",
    "sfr",
    "bouygues",
    "leboncoin",
    "indeed",
    "wikipedia",
    "traducteur",
    "modele-cv",
    "agenda-asso",
    "meteo",
];

/// Registrable domains a person tries to reach and the kiosk refuses.
const BLOCKED: [&str; 8] =
    ["facebook.com", "youtube.com", "tiktok.com", "instagram.com", "x.com", "amazon.fr", "netflix.com", "ip"];

/// Languages other than French.
const LANGUAGES: [&str; 8] = ["en", "ar", "es", "uk", "ru", "ro", "tr", "pt"];

fn zipf() -> Vec<u64> {
    (1..=TILES.len() as u64).map(|rank| 10_000 / rank).collect()
}

/// How a session ends: button 60 %, idle 35 %, crash 5 %.
fn end_reason(rng: &mut Rng) -> EndReason {
    [EndReason::Button, EndReason::Idle, EndReason::Crash][rng.weighted(&[60, 35, 5])]
}

/// The ops of one realistic session starting at `hour`.
fn session(rng: &mut Rng, zipf: &[u64], hour: Hour, ops: &mut Vec<Op>) {
    let band = DurationBand::ALL[rng.weighted(&[30, 35, 20, 10, 5])];
    let count = |cat: Category, action: &str, n: u32| Op::Count { hour, cat, action: action.into(), n, band };
    ops.push(Op::Start(hour));
    for _ in 0..1 + rng.weighted(&[50, 35, 15]) {
        ops.push(count(Category::Tile, TILES[rng.weighted(zipf)], 1));
    }
    if rng.chance(250) {
        ops.push(count(Category::Print, "page", 1 + rng.below(4) as u32));
    }
    if rng.chance(20) {
        ops.push(count(Category::Print, "failure", 1));
    }
    if rng.chance(150) {
        ops.push(count(Category::Download, "file", 1));
    }
    if rng.chance(80) {
        ops.push(count(Category::Help, "request", 1));
    }
    if rng.chance(120) {
        ops.push(count(Category::Language, LANGUAGES[rng.weighted(&[40, 20, 10, 10, 8, 5, 4, 3])], 1));
    }
    if rng.chance(70) {
        ops.push(count(Category::Blocked, BLOCKED[rng.below(BLOCKED.len() as u64) as usize], 1));
    }
    if rng.chance(10) {
        ops.push(count(Category::Outage, TILES[rng.below(5) as usize], 1));
    }
    let reason = end_reason(rng);
    if reason == EndReason::Button {
        // The end-of-session question is asked when the person ends the session.
        let outcome = [Outcome::Yes, Outcome::Partly, Outcome::No, Outcome::Skipped][rng.weighted(&[55, 20, 10, 15])];
        ops.push(count(Category::Outcome, outcome.code(), 1));
    }
    ops.push(Op::End { hour, reason, band });
}

/// The hours of a day's opening hours (9 h–18 h in Paris: sessions start 9:00–17:59) and how busy each is.
const OPENING: [(i8, u64); 9] = [(9, 6), (10, 10), (11, 12), (12, 7), (13, 6), (14, 10), (15, 12), (16, 11), (17, 8)];

/// Writes one day of `per_day` sessions, one transaction per hour. Returns the sessions written.
fn write_day(store: &mut Store, rng: &mut Rng, zipf: &[u64], date: jiff::civil::Date, per_day: u32) -> u64 {
    let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    let weights: Vec<u64> = OPENING.iter().map(|(_, w)| *w).collect();
    let mut per_hour = [0u32; OPENING.len()];
    for _ in 0..per_day {
        per_hour[rng.weighted(&weights)] += 1;
    }
    let mut ops = Vec::new();
    for ((h, _), n) in OPENING.iter().zip(per_hour) {
        let start = date.at(*h, 0, 0, 0).to_zoned_datetime(tz.clone()).expect("a Paris opening hour").timestamp();
        let hour = Hour::from_unix(start.as_second());
        ops.clear();
        for _ in 0..n {
            session(rng, zipf, hour, &mut ops);
        }
        store.apply(&ops).expect("apply a hour of sessions");
    }
    u64::from(per_day)
}

/// The local half of a delivery: the outbox of a copy of the file confirmed batch by batch, as
/// `push_once` does after each answer. Returns the seconds it took.
fn confirm_on_a_copy(path: &std::path::Path, copy: &std::path::Path) -> f64 {
    let conn = rusqlite::Connection::open(path).expect("second connection");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).expect("checkpoint");
    drop(conn);
    std::fs::copy(path, copy).expect("copy the file");
    let mut twin = Store::open(copy).expect("open the copy");
    let started = Instant::now();
    while let Some(b) = twin.next_batch().expect("next batch") {
        twin.mark_sending(b.id, 0).expect("mark sending");
        twin.deliver_all(b.id, Hour::now()).expect("deliver");
    }
    started.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (cargo test --benches) gets a short smoke run.
    let full = std::env::args().any(|a| a == "--bench");
    let (days, per_day) = if full { (30i64, 200u32) } else { (3, 200) };
    let base: std::path::PathBuf = option_env!("CARGO_TARGET_TMPDIR").map_or_else(std::env::temp_dir, Into::into);
    std::fs::create_dir_all(&base).expect("temp dir base");
    let dir = tempfile::Builder::new().prefix("borne-push-bench").tempdir_in(&base).expect("temp dir");
    println!(
        "borne push bench ({}): {days} days × {per_day} sessions, fresh store in {}",
        if full { "full" } else { "smoke run: use cargo bench for the figures" },
        dir.path().display()
    );

    let path = dir.path().join("stats.sqlite");
    let mut store = Store::open(&path).expect("open the store");
    let zipf = zipf();
    let mut rng = Rng(0x5eed_0030);
    let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    let today = jiff::Timestamp::now().to_zoned_datetime(tz).date();
    let written = Instant::now();
    let mut sessions = 0;
    for d in (1..=days).rev() {
        sessions += write_day(&mut store, &mut rng, &zipf, today.checked_sub(d.days()).expect("a date"), per_day);
    }
    let local = store.totals().expect("totals");
    let units: u64 = local.values().sum();
    println!("  written: {sessions} sessions, {units} units in {:.1} s", written.elapsed().as_secs_f64());

    let server = ContractServer::start();
    let site = server.add_site("Borne bench", "Europe/Paris");
    // The days are in the past (cdt older than 24 h): only a token with write access may send them.
    server.add_token("bench-token", Role::Write(site));
    let url = url::Url::parse(&server.url()).expect("server url");
    let target = Target { url: url.clone(), site_id: site, token: Token::new("bench-token").expect("token") };
    let opts = Options::default();
    let client = Client::new(&url, opts.timeout).expect("client");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");

    // The push plans the outbox itself; planned here first to see where the time goes.
    let planning = Instant::now();
    let planned = store.plan_batches(push::MAX_BATCH, push::new_marker).expect("plan the batches");
    let plan_s = planning.elapsed().as_secs_f64();
    let confirm_s = confirm_on_a_copy(&path, &dir.path().join("copy.sqlite"));

    let started = Instant::now();
    let report = rt.block_on(push_once(&mut store, &client, &target, &opts)).expect("push_once delivers everything");
    let push_s = started.elapsed().as_secs_f64();
    let took = plan_s + push_s;
    println!(
        "  plan_batches: {planned} batches in {:.2} s; push_once (send + confirm each batch): {:.2} s; \
         confirming the same batches in a copy of the file, no network: {:.2} s",
        plan_s, push_s, confirm_s
    );

    let remote: BTreeMap<(String, String), u64> = server.events(site);
    let visits = server.visits(site);
    let bytes: usize = server.requests().iter().map(|r| r.bytes.len()).sum();
    let status = store.push_status().expect("status");
    println!(
        "  delivered: {} units in {} batches, {} HTTP requests ({} tracking requests seen by the server, \
         {} lookups), {:.2} s (plan + push_once)",
        report.delivered,
        report.batches,
        report.requests,
        server.tracking_requests(),
        report.lookups,
        took
    );
    println!(
        "  {:.0} hits/s, {:.0} sessions/s, {:.1} MB sent (requests as received, headers included), \
         {:.1} ms a batch on average",
        report.delivered as f64 / took,
        sessions as f64 / took,
        bytes as f64 / 1e6,
        took * 1e3 / report.batches.max(1) as f64
    );
    println!("  server: {} events, {visits} visits; backlog left {}", remote.values().sum::<u64>(), status.backlog);
    assert_eq!(report.delivered, units, "every unit delivered once");
    assert_eq!(remote, local, "the server's events equal the file's totals");
    assert_eq!(visits, sessions, "one visit a session");
    assert_eq!(local.get(&("session".to_string(), "start".to_string())).copied(), Some(sessions));
    assert_eq!(status.backlog, 0, "nothing left to send");
    println!("  check: server events = store totals, visits = sessions: ok");
}
