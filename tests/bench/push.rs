//! Matomo push: 30 days × 200 sessions delivered from a fresh statistics file to the contract server
//! on loopback with `push_once`; the server's totals must equal the file's, one visit a session.
//!
//! Plain `fn main()`. `cargo bench -p borne-tests --bench push` runs the full figures; without
//! `--bench` (`cargo test --benches`) it runs a short smoke version (3 days).

use std::collections::BTreeMap;
use std::time::Instant;

use borne_core::matomo::{Client, Token};
use borne_core::push::{self, push_once, Options, Target};
use borne_core::stats::{Hour, Store};
use borne_tests::matomo::{ContractServer, Role};
use jiff::ToSpan;

// The session generator is the one of `src-tauri/core/benches/stats.rs` (copied: benches of two crates).

use borne_tests::sample::{write_day, zipf, Rng};

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
