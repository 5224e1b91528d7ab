//! `bornectl fleet` against the strict Matomo contract server (issue 21, item 3): bornes in various states,
//! each one's health reports made by `borne_core::health` and delivered by the real push, then the fleet report
//! read back from Matomo's archived Events report gives exactly the right alerts, as CSV and as HTML.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use borne_core::health::{self, Machine, Printer, Update, Why};
use borne_core::matomo::{Client, Token};
use borne_core::push::{self, Options, Target};
use borne_core::stats::{Hour, Op, Store};
use borne_tests::matomo::{ContractServer, Role};

/// What a borne's reports say, hour by hour (hours before now).
struct Plan {
    name: &'static str,
    zone: &'static str,
    /// (hours ago, version, backlog band, printer, update)
    reports: Vec<(i64, &'static str, &'static str, Printer, Update)>,
    /// Sessions today and yesterday.
    sessions: u32,
    alerts: &'static str,
}

fn ok(h: i64) -> (i64, &'static str, &'static str, Printer, Update) {
    (h, "0.2.0", "0", Printer::Ok, Update::Ok)
}

fn plans() -> Vec<Plan> {
    vec![
        Plan {
            name: "Centre en forme",
            zone: "Europe/Paris",
            reports: vec![ok(49), ok(25), ok(1)],
            sessions: 7,
            alerts: "",
        },
        Plan {
            name: "Centre muet",
            zone: "Indian/Reunion",
            reports: vec![ok(100), ok(76), ok(52)],
            sessions: 0,
            alerts: "silent",
        },
        Plan {
            name: "Centre en retard",
            zone: "America/Guadeloupe",
            reports: vec![
                (49, "0.2.0", "0", Printer::Ok, Update::Ok),
                (25, "0.2.0", "lt100", Printer::Ok, Update::Ok),
                (1, "0.2.0", "lt1000", Printer::Ok, Update::Ok),
            ],
            sessions: 3,
            alerts: "backlog-growing",
        },
        Plan {
            name: "Centre revenu en arrière",
            zone: "Indian/Mayotte",
            reports: vec![ok(25), (1, "0.2.0", "0", Printer::Ok, Update::RolledBack)],
            sessions: 2,
            alerts: "rollback",
        },
        Plan {
            name: "Centre à l'ancienne",
            zone: "Europe/Paris",
            reports: vec![(25, "0.1.9", "0", Printer::Ok, Update::None), (1, "0.1.9", "0", Printer::Ok, Update::None)],
            sessions: 1,
            alerts: "old-version",
        },
        Plan {
            name: "Centre sans papier",
            zone: "Europe/Paris",
            reports: vec![
                ok(49),
                (25, "0.2.0", "0", Printer::Down, Update::Ok),
                (1, "0.2.0", "0", Printer::Down, Update::Ok),
            ],
            sessions: 4,
            alerts: "printer-down",
        },
        Plan {
            name: "Centre éteint depuis douze jours",
            zone: "UTC",
            reports: vec![ok(24 * 12)],
            sessions: 0,
            alerts: "silent",
        },
        Plan { name: "Centre jamais branché", zone: "Europe/Paris", reports: vec![], sessions: 0, alerts: "silent" },
    ]
}

/// Makes each borne's store (reports through `borne_core::health`, sessions through the recorder's operations)
/// and delivers it with the real push. Returns the server and the site ids in plan order.
fn fleet_server() -> (ContractServer, Vec<u32>) {
    let server = ContractServer::start();
    server.add_token("federation", Role::SuperUser);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let now = Hour::now();
    let mut ids = Vec::new();
    for (i, p) in plans().iter().enumerate() {
        let site = server.add_site(&format!("Borne - {}", p.name), p.zone);
        let token = format!("tok-{site}");
        server.add_token(&token, Role::Write(site));
        let mut store = Store::open_in_memory().unwrap();
        for (ago, version, backlog, printer, update) in &p.reports {
            let m = Machine {
                free_disk: Some(12 << 30),
                uptime: Some(3600 * 30),
                printer: *printer,
                restarts: 0,
                slot: Some('a'),
                image_version: None,
                update: *update,
            };
            let mut r = health::report(&store, Why::Daily, Hour(now.0 - ago), 4, &m).unwrap();
            r.version = version.to_string();
            r.backlog = backlog;
            store.record_health(&r).unwrap();
        }
        for ago in [1, 25] {
            for _ in 0..p.sessions {
                let h = Hour(now.0 - ago);
                store.apply(&[Op::Start(h)]).unwrap();
            }
        }
        let t =
            Target { url: url::Url::parse(&server.url()).unwrap(), site_id: site, token: Token::new(&token).unwrap() };
        let client = Client::new(&t.url, Duration::from_secs(5)).unwrap();
        let opts = Options { settle: Duration::from_millis(200), timeout: Duration::from_secs(5), max_batch: 1000 };
        let r = rt.block_on(push::push_once(&mut store, &client, &t, &opts));
        assert!(r.is_ok(), "{}: {r:?}", p.name);
        assert_eq!(store.push_status().unwrap().backlog, 0, "{i}");
        ids.push(site);
    }
    (server, ids)
}

fn bornectl_fleet(server: &ContractServer, token_file: &std::path::Path, format: &str) -> std::process::Output {
    Command::new(borne_tests::bin("bornectl"))
        .args(["fleet", "--matomo", &server.url(), "--token-file", token_file.to_str().unwrap()])
        .args((!format.is_empty()).then_some(format))
        .output()
        .unwrap()
}

#[test]
fn each_borne_gets_exactly_its_alerts() {
    let (server, ids) = fleet_server();
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("federation.token");
    std::fs::write(&token_file, "federation\n").unwrap();

    let out = bornectl_fleet(&server, &token_file, "--csv");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with('\u{feff}'), "a BOM for the spreadsheet");
    let rows: Vec<Vec<String>> =
        csv.trim_start_matches('\u{feff}').split("\r\n").filter(|l| !l.is_empty()).map(split_csv).collect();
    let header = &rows[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name} in {header:?}"));
    let by_site: BTreeMap<u32, &Vec<String>> = rows[1..].iter().map(|r| (r[0].parse().unwrap(), r)).collect();
    assert_eq!(by_site.len(), ids.len());
    for (p, site) in plans().iter().zip(&ids) {
        let row = by_site[site];
        assert_eq!(row[col("borne")], format!("Borne - {}", p.name));
        assert_eq!(row[col("alertes")], p.alerts, "{}: {row:?}", p.name);
    }
    let healthy = by_site[&ids[0]];
    assert_eq!(healthy[col("version")], "0.2.0");
    assert_eq!(healthy[col("catalogue")], "4");
    assert_eq!(healthy[col("imprimante")], "prête");
    assert_eq!(healthy[col("disque_libre")], "5 à 20 Go");
    assert_eq!(healthy[col("dernier_envoi")], "jamais", "the reports were made before any delivery");
    // 7 sessions on each of two days, over 14 days: 1,0 a day, with a decimal comma.
    assert_eq!(healthy[col("sessions_par_jour")], "1,0");
    let old = by_site[&ids[4]];
    assert!(old[col("detail_alertes")].contains("0.2.0"), "the newest version is named: {old:?}");
    // The borne silent for twelve days is still known (read over the longer window), the one never connected not.
    assert!(by_site[&ids[6]][col("dernier_rapport")].contains(" h UTC"), "{:?}", by_site[&ids[6]]);
    assert_eq!(by_site[&ids[7]][col("dernier_rapport")], "jamais");
    // Three or four calls whatever the number of bornes.
    let calls = server.requests().iter().filter(|r| r.text().contains("/index.php")).count();
    assert!(calls <= 4, "{calls} Reporting API calls");

    let out = bornectl_fleet(&server, &token_file, "--html");
    assert!(out.status.success());
    let html = String::from_utf8(out.stdout).unwrap();
    assert_eq!(html.matches("<tr class=\"alert\">").count(), 7);
    assert_eq!(html.matches("<svg").count(), ids.len());
    assert!(html.contains("Imprimante en panne depuis plus d'un jour") && html.contains("Centre à l'ancienne"));
    for external in ["<script", "<link", "src=", "url(", "@import", "href="] {
        assert!(!html.contains(external), "the page opens offline: {external}");
    }

    let out = bornectl_fleet(&server, &token_file, "");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("8 bornes, 7 avec une alerte"), "{text}");
    eprintln!("{text}");

    std::fs::write(&token_file, "nope\n").unwrap();
    let out = bornectl_fleet(&server, &token_file, "--csv");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("clé d'accès"));
}

/// Splits a CSV line with `;` and `"` quoting.
fn split_csv(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ';' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}
