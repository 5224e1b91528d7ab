//! The fleet report for 500 bornes against the contract server, and what a borne's health costs Matomo.
//!
//! 1. Rows a day: one borne's store makes its boot and daily reports (`borne_core::health`), the real push
//!    delivers them, and the contract server says what it stored: visits, action rows, distinct action names.
//! 2. `bornectl fleet` for 500 simulated bornes: 500 sites, each with 8 days of reports (two a day, states
//!    varied: silent, backlog growing, printer down, rolled back, old version) and 14 days of sessions
//!    (start, tile, end hits), fed through the bulk API; then the fleet read (`health::fleet::read`, the code
//!    `bornectl fleet` runs) and its CSV and HTML, timed, several runs.
//!
//! Plain `fn main()`. `cargo bench -p borne-tests --bench fleet` runs 500 bornes; without `--bench`
//! (`cargo test --benches`) a smoke run of 20.

use std::time::{Duration, Instant};

use borne_core::health::{self, fleet, Machine, Printer, Update, Why};
use borne_core::matomo::{Client, Token};
use borne_core::push::{self, Options, Target};
use borne_core::stats::{Hour, Store};
use borne_tests::matomo::{ContractServer, Role};

fn machine(printer: Printer, update: Update) -> Machine {
    Machine {
        free_disk: Some(9 << 30),
        uptime: Some(40_000),
        printer,
        restarts: 0,
        slot: Some('a'),
        update,
        image_version: None,
    }
}

/// What a day of one borne's health adds to Matomo, measured through the real push.
fn rows_a_day(rt: &tokio::runtime::Runtime) -> (u64, u64, u64, u64) {
    let server = ContractServer::start();
    let site = server.add_site("Borne", "Europe/Paris");
    server.add_token("tok", Role::Write(site));
    let mut store = Store::open_in_memory().expect("store");
    let now = Hour::now();
    for (why, ago) in [(Why::Boot, 20), (Why::Daily, 0)] {
        let r = health::report(&store, why, Hour(now.0 - ago), 3, &machine(Printer::Ok, Update::Ok)).expect("report");
        store.record_health(&r).expect("record");
    }
    let t = Target {
        url: url::Url::parse(&server.url()).expect("url"),
        site_id: site,
        token: Token::new("tok").expect("token"),
    };
    let client = Client::new(&t.url, Duration::from_secs(10)).expect("client");
    let opts = Options { settle: Duration::from_millis(200), timeout: Duration::from_secs(10), max_batch: 1000 };
    rt.block_on(push::push_once(&mut store, &client, &t, &opts)).expect("push");
    let hits = server.hits(site);
    let actions: std::collections::BTreeSet<&str> = hits.iter().filter_map(|h| h.param("e_a")).collect();
    let names: std::collections::BTreeSet<&str> = hits.iter().filter_map(|h| h.param("e_n")).collect();
    (server.visits(site), hits.len() as u64, actions.len() as u64, names.len() as u64)
}

fn cdt(h: Hour) -> String {
    h.cdt().replace(' ', "%20")
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let bornes: u32 = if full { 500 } else { 20 };
    let (sessions_a_day, runs) = if full { (10u32, 5) } else { (3, 1) };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");

    let (visits, action_rows, action_names, batch_names) = rows_a_day(&rt);
    println!(
        "health of one borne for a day (boot + daily report): {visits} visits, {action_rows} action rows, \
         {action_names} distinct action names, {batch_names} batch names"
    );

    let server = ContractServer::start();
    server.add_token("super", Role::SuperUser);
    let now = Hour::now();
    let zones = ["Europe/Paris", "Indian/Reunion", "America/Guadeloupe", "Indian/Mayotte", "UTC"];
    let started = Instant::now();
    let mut entries: Vec<String> = Vec::new();
    let send = |entries: &mut Vec<String>| {
        if entries.is_empty() {
            return;
        }
        let body = serde_json::json!({ "requests": entries, "token_auth": "super" }).to_string();
        post(&server.url(), &body);
        entries.clear();
    };
    let store = Store::open_in_memory().expect("store");
    for b in 0..bornes {
        let site = server.add_site(&format!("Borne - Centre {b}"), zones[b as usize % zones.len()]);
        // States: every 10th silent (reports stop 3 days ago), every 10th + 1 backlog growing, + 2 printer down,
        // + 3 rolled back, + 4 an old version.
        for k in 0..16i64 {
            let ago = 12 * k + 1;
            if b % 10 == 0 && ago < 72 {
                continue;
            }
            let printer = if b % 10 == 2 && ago < 40 { Printer::Down } else { Printer::Ok };
            let update = if b % 10 == 3 && ago < 12 { Update::RolledBack } else { Update::Ok };
            let mut r = health::report(&store, Why::Daily, Hour(now.0 - ago), 5, &machine(printer, update)).expect("r");
            r.version = if b % 10 == 4 { "0.1.9".into() } else { "0.2.0".into() };
            if b % 10 == 1 {
                r.backlog = health::BACKLOG_BANDS[(4 - (ago / 24).min(4)) as usize];
            }
            let name = format!("b{:016x}.{}", u64::from(b) << 20 | k as u64, now.0 - ago);
            entries.push(format!(
                "?idsite={site}&rec=1&new_visit=1&cid={:016x}&e_c=health&e_a={}&e_n={name}&cdt={}",
                u64::from(b) << 32 | k as u64,
                form_urlencoded::byte_serialize(r.line().as_bytes()).collect::<String>(),
                cdt(r.hour)
            ));
        }
        for day in 0..14i64 {
            for s in 0..sessions_a_day {
                let h = Hour(now.0 - 24 * day - 2 - i64::from(s % 8));
                let cid = format!("{:016x}", (u64::from(b) << 40) | ((day as u64) << 20) | u64::from(s));
                let name = format!("b{:016x}.{}", u64::from(b) << 8 | day as u64, h.0);
                for (c, a, first) in [("session", "start", true), ("tile", "caf", false), ("end", "button", false)] {
                    let nv = if first { "&new_visit=1" } else { "" };
                    entries
                        .push(format!("?idsite={site}&rec=1{nv}&cid={cid}&e_c={c}&e_a={a}&e_n={name}&cdt={}", cdt(h)));
                }
            }
        }
        if entries.len() >= 1000 {
            send(&mut entries);
        }
    }
    send(&mut entries);
    println!("{bornes} bornes fed to the contract server in {:.1} s", started.elapsed().as_secs_f64());

    let client = Client::new(&url::Url::parse(&server.url()).expect("url"), Duration::from_secs(600)).expect("c");
    let token = Token::new("super").expect("token");
    let mut times = Vec::new();
    let mut last = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let rows = rt.block_on(fleet::read(&client, &token, Hour::now())).expect("fleet read");
        let csv = fleet::csv(&rows);
        let html = fleet::html(&rows, Hour::now());
        times.push(t.elapsed().as_secs_f64());
        assert!(csv.len() > 100 && html.len() > 100);
        last = rows;
    }
    times.sort_by(f64::total_cmp);
    let alerted = last.iter().filter(|b| !b.alerts.is_empty()).count();
    assert_eq!(last.len(), bornes as usize);
    let want = |code: &str, every: u32| {
        let n = last.iter().filter(|b| b.alerts.iter().any(|a| a.code() == code)).count();
        assert_eq!(n, (0..bornes).filter(|b| b % 10 == every).count(), "{code}");
    };
    want("silent", 0);
    want("backlog-growing", 1);
    want("printer-down", 2);
    want("rollback", 3);
    want("old-version", 4);
    println!(
        "fleet report of {bornes} bornes ({alerted} with an alert): median {:.2} s, min {:.2} s, max {:.2} s over {runs} runs \
         (read, CSV and HTML; 3-4 Reporting API calls)",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    // The command itself, when it was built next to this binary (debug: `cargo build -p bornectl`).
    let bornectl = borne_tests::bin("bornectl");
    if bornectl.exists() {
        let token_file = std::env::temp_dir().join(format!("fleet-bench-{}.token", std::process::id()));
        std::fs::write(&token_file, "super\n").expect("token file");
        let t = Instant::now();
        let out = std::process::Command::new(&bornectl)
            .args(["fleet", "--matomo", &server.url(), "--token-file"])
            .arg(&token_file)
            .arg("--csv")
            .output()
            .expect("bornectl fleet");
        let _ = std::fs::remove_file(&token_file);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        println!(
            "bornectl fleet --csv ({}): {:.2} s, {} lines",
            bornectl.display(),
            t.elapsed().as_secs_f64(),
            String::from_utf8_lossy(&out.stdout).lines().count()
        );
    }
}

/// POSTs a bulk body and checks Matomo's success answer (a tiny HTTP/1.1 client: the bench has no HTTP crate).
fn post(base: &str, body: &str) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let req = format!(
        "POST /matomo.php HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("\"invalid\":0"), "{answer}");
}
