//! Statistics: caller-side latency of `Recorder::record` (goal: p99 ≤ 100 µs) and the size of the
//! statistics file after a simulated year at 200 sessions a day (goal: ≤ 5 MB).
//!
//! Plain `fn main()`. `cargo bench -p borne-tests --bench stats` runs the full figures (about 30 s on
//! 2 cores); without `--bench` (`cargo test --benches`) it runs a short smoke version.

use std::path::Path;
use std::time::{Duration, Instant};

use borne_core::push::new_marker;
use borne_core::session::EndReason;
use borne_core::stats::recorder::Recorder;
use borne_core::stats::{Event, Hour, Outcome, Store};
use jiff::ToSpan;

use borne_tests::sample::{end_reason, write_day, zipf, Rng, LANGUAGES, TILES};

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn with_suffix(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    s.into()
}

fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

// ---------------------------------------------------------------------------------------------
// (a) Recorder::record, caller's side
// ---------------------------------------------------------------------------------------------

enum Call {
    Record(Event),
    End(EndReason),
}

/// The calls of the latency run: sessions of 4–12 events (8 on average), then an end.
fn calls(rng: &mut Rng, zipf: &[u64], n: usize) -> Vec<Call> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        for _ in 0..4 + rng.below(9) {
            let ev = match rng.weighted(&[70, 12, 5, 4, 4, 3, 2]) {
                0 => Event::TileOpened(TILES[rng.weighted(zipf)].into()),
                1 => Event::PagesPrinted(1 + rng.below(4) as u32),
                2 => Event::Download,
                3 => Event::HelpRequest,
                4 => Event::Language(LANGUAGES[rng.below(LANGUAGES.len() as u64) as usize].into()),
                // A refused host: the registrable domain is looked up in the public suffix list.
                5 => Event::Blocked("www.facebook.com".into()),
                _ => Event::Outcome(Outcome::Yes),
            };
            out.push(Call::Record(ev));
        }
        out.push(Call::End(end_reason(rng)));
    }
    out.truncate(n);
    out
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

fn print_latencies(what: &str, ns: &mut [u64]) -> f64 {
    ns.sort_unstable();
    let p99 = percentile(ns, 0.99);
    println!(
        "  {what:<22} n={:<7} p50 {:>6.2} µs   p99 {:>6.2} µs   p99.9 {:>7.2} µs   max {:>8.1} µs",
        ns.len(),
        percentile(ns, 0.50),
        p99,
        percentile(ns, 0.999),
        percentile(ns, 1.0),
    );
    p99
}

fn bench_record(dir: &Path, n: usize) {
    // About 20 000 calls a second: a third of what the writer commits (see `bench_writer`), so the
    // channel never fills. A person makes a few calls a minute.
    const BURST: usize = 100;
    const PAUSE: Duration = Duration::from_millis(5);
    println!("(a) Recorder::record, caller's side: {n} calls in bursts of {BURST}, {PAUSE:?} pause between bursts");
    let path = dir.join("record.sqlite");
    let rec = Recorder::open(&path).expect("open the recorder");
    let zipf = zipf();
    let mut rng = Rng(0x5eed_0001);
    // Warm-up (not counted): first page faults, the writer's first commits, the public suffix list.
    for call in calls(&mut rng, &zipf, 2000) {
        match call {
            Call::Record(ev) => rec.record(ev),
            Call::End(r) => rec.end_session(r),
        }
    }
    rec.flush();
    let dropped_before = rec.dropped();
    let tiles_before = Store::open(&path).expect("open").totals().expect("totals");
    let plan = calls(&mut rng, &zipf, n);
    let sent_tiles = plan.iter().filter(|c| matches!(c, Call::Record(Event::TileOpened(_)))).count() as u64;
    let mut record_ns = Vec::with_capacity(n);
    let mut end_ns = Vec::with_capacity(n / 8 + 1);
    let started = Instant::now();
    for (i, call) in plan.into_iter().enumerate() {
        if i % BURST == 0 && i > 0 {
            std::thread::sleep(PAUSE);
        }
        match call {
            Call::Record(ev) => {
                let t = Instant::now();
                rec.record(ev);
                record_ns.push(t.elapsed().as_nanos() as u64);
            }
            Call::End(r) => {
                let t = Instant::now();
                rec.end_session(r);
                end_ns.push(t.elapsed().as_nanos() as u64);
            }
        }
    }
    let calling = started.elapsed();
    let flush = Instant::now();
    rec.flush();
    let flush = flush.elapsed();
    let dropped = rec.dropped() - dropped_before;
    let mut all_ns: Vec<u64> = record_ns.iter().chain(&end_ns).copied().collect();
    let p99 = print_latencies("record()", &mut record_ns);
    print_latencies("end_session()", &mut end_ns);
    print_latencies("all calls", &mut all_ns);
    println!(
        "  dropped: {dropped}   wall time {:.2} s (incl. pauses), final flush {:.1} ms",
        calling.as_secs_f64(),
        flush.as_secs_f64() * 1e3
    );
    let tile_units = |t: &std::collections::BTreeMap<(String, String), u64>| -> u64 {
        t.iter().filter(|((c, _), _)| c == "tile").map(|(_, n)| n).sum()
    };
    let after = Store::open(&path).expect("open").totals().expect("totals");
    let written = tile_units(&after) - tile_units(&tiles_before);
    println!("  tile units in the file: {written} of {sent_tiles} recorded");
    if dropped == 0 {
        assert_eq!(written, sent_tiles, "every recorded tile is in the file");
    }
    println!("  goal p99 ≤ 100 µs (record): {}", if p99 <= 100.0 { "met" } else { "NOT met" });
    drop(rec);
}

/// How fast the writer drains: bursts that fit the channel, each waited for with `flush`.
fn bench_writer(dir: &Path, rounds: usize) {
    const CALLS: usize = 3000; // ≈ 3 350 ops with the session starts and ends: fits the channel
    let path = dir.join("writer.sqlite");
    let rec = Recorder::open(&path).expect("open the recorder");
    let mut rng = Rng(0x5eed_0003);
    let zipf = zipf();
    let (mut ops, mut busy) = (0u64, Duration::ZERO);
    for _ in 0..rounds {
        let plan = calls(&mut rng, &zipf, CALLS);
        let ends = plan.iter().filter(|c| matches!(c, Call::End(_))).count() as u64;
        // Each session is one start and one end op more than its calls.
        ops += (plan.len() as u64 - ends) + 2 * ends;
        let started = Instant::now();
        for call in plan {
            match call {
                Call::Record(ev) => rec.record(ev),
                Call::End(r) => rec.end_session(r),
            }
        }
        rec.flush();
        busy += started.elapsed();
    }
    println!(
        "  writer: {rounds} bursts of {CALLS} calls with no pause (≈ {ops} ops), each flushed: {:.0} ms in all, \
         ≈ {:.0} ops/s committed, {} dropped (channel of {})",
        busy.as_secs_f64() * 1e3,
        ops as f64 / busy.as_secs_f64(),
        rec.dropped(),
        borne_core::stats::recorder::CHANNEL,
    );
}

// ---------------------------------------------------------------------------------------------
// (b) File size after a year
// ---------------------------------------------------------------------------------------------

fn bench_year(dir: &Path, days: i64, per_day: u32, pushed: bool) {
    let name = if pushed { "pushed every day" } else { "never pushed (Matomo not configured)" };
    let path = dir.join(if pushed { "year-pushed.sqlite" } else { "year-never.sqlite" });
    let mut store = Store::open(&path).expect("open the store");
    let zipf = zipf();
    let mut rng = Rng(0x5eed_0002);
    let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    let today = jiff::Timestamp::now().to_zoned_datetime(tz).date();
    let started = Instant::now();
    let (mut sessions, mut batches, mut delivered, mut wal_max) = (0u64, 0u64, 0u64, 0u64);
    for d in (1..=days).rev() {
        let date = today.checked_sub(d.days()).expect("a date in range");
        sessions += write_day(&mut store, &mut rng, &zipf, date, per_day);
        if pushed {
            // What a delivery does to the file, without the network: plan, then confirm each batch.
            batches += store.plan_batches(1000, new_marker).expect("plan") as u64;
            while let Some(b) = store.next_batch().expect("next batch") {
                store.mark_sending(b.id, 0).expect("mark sending");
                delivered += store.deliver_all(b.id, Hour::now()).expect("deliver");
            }
        }
        wal_max = wal_max.max(file_size(&with_suffix(&path, "-wal")));
    }
    let took = started.elapsed();
    let (main, wal) = (file_size(&path), file_size(&with_suffix(&path, "-wal")));
    let rows = store.rows().expect("rows");
    let units: u64 = rows.iter().map(|r| r.n).sum();
    let status = store.push_status().expect("status");
    // A separate connection: the store's own is private to borne-core.
    let conn = rusqlite::Connection::open(&path).expect("open a second connection");
    let (busy, _, _): (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("checkpoint");
    let (main_ck, wal_ck) = (file_size(&path), file_size(&with_suffix(&path, "-wal")));
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).expect("page_size");
    let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0)).expect("freelist");
    let per_table: Vec<(String, i64)> = {
        let mut st = conn.prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").expect("dbstat");
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("dbstat rows");
        rows.collect::<Result<_, _>>().expect("dbstat rows")
    };
    let compact = dir.join(if pushed { "vacuum-pushed.sqlite" } else { "vacuum-never.sqlite" });
    conn.execute("VACUUM INTO ?1", [compact.to_string_lossy()]).expect("vacuum into");
    let total = main_ck + wal_ck;

    println!("  case: {name}");
    println!(
        "    {days} days × {per_day} sessions = {sessions} sessions, {units} units, {} count rows; written in {:.1} s",
        rows.len(),
        took.as_secs_f64()
    );
    if pushed {
        println!(
            "    batches planned and delivered: {batches}, hits delivered: {delivered}; backlog {}, outbox {}",
            status.backlog, status.batches
        );
    }
    println!("    on disk before checkpoint: {} + {} -wal (largest -wal seen: {})", mb(main), mb(wal), mb(wal_max));
    println!(
        "    after wal_checkpoint(TRUNCATE) (busy={busy}): {} + {} -wal = {} ({total} bytes; {} free pages of {page_size} B)",
        mb(main_ck),
        mb(wal_ck),
        mb(total),
        free
    );
    let pages = |names: &[&str]| -> i64 {
        per_table.iter().filter(|(n, _)| names.contains(&n.as_str())).map(|(_, b)| b / page_size).sum()
    };
    let all = per_table.iter().map(|(_, b)| b / page_size).sum::<i64>();
    let (counts, outbox) = (pages(&["counts"]), pages(&["batch", "batch_hit", "sqlite_autoindex_batch_1"]));
    println!(
        "    pages by table (dbstat): counts {counts}, outbox (batch, batch_hit + index) {outbox}, others {}",
        all - counts - outbox
    );
    println!("    after VACUUM: {}", mb(file_size(&compact)));
    println!(
        "    goal ≤ 5 MB (main + -wal after the checkpoint): {}",
        if total <= 5_000_000 { "met" } else { "NOT met" }
    );
    // SQLite checkpoints the -wal at 1000 pages but does not shrink it (no journal_size_limit): while
    // the kiosk runs, the -wal stays at its largest size next to the file.
    println!("    while the store is open (main + largest -wal): {}", mb(main_ck + wal_max));
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (cargo test --benches) gets a short smoke run.
    let started = Instant::now();
    let full = std::env::args().any(|a| a == "--bench");
    let (calls, days) = if full { (200_000, 365) } else { (10_000, 14) };
    // Cargo's scratch folder for benches (target/tmp, on the same disk as the build), else the system's.
    let base: std::path::PathBuf = option_env!("CARGO_TARGET_TMPDIR").map_or_else(std::env::temp_dir, Into::into);
    std::fs::create_dir_all(&base).expect("temp dir base");
    let dir = tempfile::Builder::new().prefix("borne-stats-bench").tempdir_in(&base).expect("temp dir");
    println!(
        "borne-core stats bench ({}), files in {}",
        if full { "full" } else { "smoke run: use cargo bench for the figures" },
        dir.path().display()
    );
    bench_record(dir.path(), calls);
    bench_writer(dir.path(), calls / 10_000);
    println!("(b) file size after {days} days at 200 sessions a day (Store::apply, one transaction per hour)");
    bench_year(dir.path(), days, 200, false);
    bench_year(dir.path(), days, 200, true);
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
}
