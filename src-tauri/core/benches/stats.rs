//! Statistics: caller-side latency of `Recorder::record` (goal: p99 ≤ 100 µs) and the size of the
//! statistics file after a simulated year at 200 sessions a day (goal: ≤ 5 MB).
//!
//! Plain `fn main()`. `cargo bench -p borne-core --bench stats` runs the full figures (about 30 s on
//! 2 cores); without `--bench` (`cargo test --benches`) it runs a short smoke version.

use std::path::Path;
use std::time::{Duration, Instant};

use borne_core::push::new_marker;
use borne_core::session::EndReason;
use borne_core::stats::recorder::Recorder;
use borne_core::stats::{Category, DurationBand, Event, Hour, Op, Outcome, Store};
use jiff::ToSpan;

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
        store.apply(&ops).expect("apply an hour of sessions");
    }
    u64::from(per_day)
}

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
