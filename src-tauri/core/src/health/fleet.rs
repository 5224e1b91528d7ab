//! The federation's fleet report (`bornectl fleet`): a line per borne from its health reports in Matomo,
//! and the alerts that need someone to act.
//!
//! Everything comes from Matomo's archived Events report, in three calls whatever the number of bornes:
//! the sites, every borne's health reports of the last [`WINDOW_DAYS`] days (`Events.getCategory`, flat,
//! `idSite=all`, `period=range`, `filter_pattern=^health - `: one row a report, since the line carries its
//! hour), and the sessions a day (`session - start`, `period=day`). Bornes with no report in the window are
//! looked up once more over [`LONG_DAYS`] days, to say when they were last seen. [`analyse`] then decides,
//! as a pure function, each borne's line and alerts:
//! - `silent`: no report for more than 48 hours (a borne reports at boot and every 24 hours);
//! - `backlog-growing`: over the reports of the last 72 hours (at least two, a day apart), the backlog band
//!   never went down and ended higher than it started;
//! - `printer-down`: the printer said `down` in every report of at least the last 24 hours;
//! - `rollback`: the latest report says the last update was rolled back;
//! - `old-version`: an older version than the newest one in the fleet.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Printer, Report, Update, BACKLOG_BANDS};
use crate::matomo::{number, ApiError, Client, Token};
use crate::stats::Hour;

/// Days of health reports read for every borne.
pub const WINDOW_DAYS: u32 = 8;

/// Days read, once, for the bornes silent over the window.
pub const LONG_DAYS: u32 = 90;

/// Days of sessions shown (the chart) and averaged.
pub const SESSION_DAYS: u32 = 14;

/// An alert on a borne (defined beside its French in [`crate::messages`]).
pub use crate::messages::FleetAlert as Alert;

impl Alert {
    /// The stable code (CSV, scripts).
    pub fn code(&self) -> &'static str {
        match self {
            Alert::Silent => "silent",
            Alert::BacklogGrowing => "backlog-growing",
            Alert::PrinterDown => "printer-down",
            Alert::Rollback => "rollback",
            Alert::OldVersion(_) => "old-version",
        }
    }
}

/// One borne's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Borne {
    /// Matomo site id.
    pub site_id: u32,
    /// Site name.
    pub name: String,
    /// Its latest report, if Matomo holds one.
    pub latest: Option<Report>,
    /// Sessions a day, oldest first, over [`SESSION_DAYS`] days (the site's days).
    pub sessions: Vec<(String, u64)>,
    /// Alerts, in [`Alert`] order.
    pub alerts: Vec<Alert>,
}

impl Borne {
    /// Average sessions a day over the days shown.
    pub fn sessions_per_day(&self) -> f64 {
        if self.sessions.is_empty() {
            return 0.0;
        }
        self.sessions.iter().map(|(_, n)| *n as f64).sum::<f64>() / self.sessions.len() as f64
    }
}

/// The reports of each site in an `Events.getCategory` (flat, `idSite=all` or a list) answer, oldest first.
pub fn reports_by_site(v: &Value) -> BTreeMap<u32, Vec<Report>> {
    let mut out: BTreeMap<u32, Vec<Report>> = BTreeMap::new();
    for (site, rows) in v.as_object().into_iter().flatten() {
        let Ok(site) = site.parse::<u32>() else { continue };
        let list = out.entry(site).or_default();
        for row in rows.as_array().into_iter().flatten() {
            let label = row.get("label").and_then(Value::as_str).unwrap_or("");
            let Some(line) = label.strip_prefix("health - ") else { continue };
            match Report::parse(line) {
                // A report counted twice in Matomo is still one report.
                Some(r) => list.push(r),
                None => tracing::warn!(site, "a health report in Matomo cannot be read; skipped"),
            }
        }
        list.sort_by_key(|r| r.hour);
        list.dedup();
    }
    out
}

/// Sessions a day per site from an `Events.getCategory` (flat, `period=day`, several days) answer.
pub fn sessions_by_site(v: &Value) -> BTreeMap<u32, Vec<(String, u64)>> {
    let mut out = BTreeMap::new();
    for (site, days) in v.as_object().into_iter().flatten() {
        let Ok(site) = site.parse::<u32>() else { continue };
        let mut list: Vec<(String, u64)> = days
            .as_object()
            .into_iter()
            .flatten()
            .map(|(day, rows)| {
                let n = rows
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|r| r.get("label").and_then(Value::as_str) == Some("session - start"))
                    .filter_map(|r| number(r.get("nb_events")))
                    .sum();
                (day.clone(), n)
            })
            .collect();
        list.sort();
        out.insert(site, list);
    }
    out
}

/// Compares two versions number by number (`0.10.0` > `0.9.3`); a part that is not a number compares as text.
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<(u64, String)> {
        s.split(['.', '-', '+']).map(|p| (p.parse::<u64>().unwrap_or(0), p.to_string())).collect()
    };
    let (pa, pb) = (parts(a), parts(b));
    for i in 0..pa.len().max(pb.len()) {
        let x = pa.get(i).cloned().unwrap_or((0, String::new()));
        let y = pb.get(i).cloned().unwrap_or((0, String::new()));
        match x.0.cmp(&y.0).then_with(|| x.1.cmp(&y.1)) {
            std::cmp::Ordering::Equal => continue,
            other => return other,
        }
    }
    std::cmp::Ordering::Equal
}

fn backlog_rank(band: &str) -> usize {
    BACKLOG_BANDS.iter().position(|b| *b == band).unwrap_or(0)
}

/// The alerts of one borne from its reports (oldest first), `now`, and the newest version of the fleet (pure).
pub fn alerts(reports: &[Report], now: Hour, newest: Option<&str>) -> Vec<Alert> {
    let mut out = Vec::new();
    let Some(latest) = reports.last() else {
        out.push(Alert::Silent);
        return out;
    };
    if now.0 - latest.hour.0 > 48 {
        out.push(Alert::Silent);
    }
    let recent: Vec<&Report> = reports.iter().filter(|r| latest.hour.0 - r.hour.0 <= 72).collect();
    if let (Some(first), true) = (recent.first(), recent.len() >= 2) {
        let ranks: Vec<usize> = recent.iter().map(|r| backlog_rank(r.backlog)).collect();
        let never_down = ranks.windows(2).all(|w| w[1] >= w[0]);
        if never_down && ranks[ranks.len() - 1] > ranks[0] && latest.hour.0 - first.hour.0 >= 20 {
            out.push(Alert::BacklogGrowing);
        }
    }
    if latest.printer == Printer::Down {
        let since =
            reports.iter().rev().take_while(|r| r.printer == Printer::Down).last().map_or(latest.hour, |r| r.hour);
        if latest.hour.0 - since.0 >= 24 {
            out.push(Alert::PrinterDown);
        }
    }
    if latest.update == Update::RolledBack {
        out.push(Alert::Rollback);
    }
    if let Some(newest) = newest {
        if version_cmp(&latest.version, newest) == std::cmp::Ordering::Less {
            out.push(Alert::OldVersion(newest.to_string()));
        }
    }
    out
}

/// Builds every borne's line (pure): `sites` from `SitesManager.getSitesWithAtLeastViewAccess`, the reports and
/// sessions read by [`reports_by_site`] and [`sessions_by_site`].
pub fn analyse(
    sites: &Value,
    reports: &BTreeMap<u32, Vec<Report>>,
    sessions: &BTreeMap<u32, Vec<(String, u64)>>,
    now: Hour,
) -> Vec<Borne> {
    let newest = reports.values().filter_map(|r| r.last()).map(|r| r.version.as_str()).max_by(|a, b| version_cmp(a, b));
    let mut out: Vec<Borne> = sites
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let site_id = number(s.get("idsite")).and_then(|n| u32::try_from(n).ok())?;
            let name = s.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            let list = reports.get(&site_id).map(Vec::as_slice).unwrap_or(&[]);
            Some(Borne {
                site_id,
                name,
                latest: list.last().cloned(),
                sessions: sessions.get(&site_id).cloned().unwrap_or_default(),
                alerts: alerts(list, now, newest),
            })
        })
        .collect();
    out.sort_by_key(|b| b.site_id);
    out
}

/// Reads the fleet from Matomo (see the module documentation): four calls at most.
pub async fn read(client: &Client, token: &Token, now: Hour) -> Result<Vec<Borne>, ApiError> {
    let sites = client.api(Some(token), "SitesManager.getSitesWithAtLeastViewAccess", &[]).await?;
    let health = |ids: String, days: u32| {
        vec![
            ("idSite", ids),
            ("period", "range".to_string()),
            ("date", format!("last{days}")),
            ("flat", "1".into()),
            ("filter_pattern", "^health - ".into()),
            ("filter_limit", "-1".into()),
        ]
    };
    let recent = client.api(Some(token), "Events.getCategory", &health("all".into(), WINDOW_DAYS)).await?;
    let mut reports = reports_by_site(&recent);
    let all_ids: Vec<u32> = sites
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| number(s.get("idsite")))
        .filter_map(|n| u32::try_from(n).ok())
        .collect();
    let silent: Vec<String> =
        all_ids.iter().filter(|id| reports.get(id).is_none_or(Vec::is_empty)).map(u32::to_string).collect();
    if !silent.is_empty() {
        // A comma list answers one result per site, even for a single id.
        let ids = if silent.len() == 1 { format!("{},{}", silent[0], silent[0]) } else { silent.join(",") };
        let older = client.api(Some(token), "Events.getCategory", &health(ids, LONG_DAYS)).await?;
        for (site, list) in reports_by_site(&older) {
            reports.entry(site).or_default().extend(list);
        }
    }
    let days = [
        ("idSite", "all".to_string()),
        ("period", "day".to_string()),
        ("date", format!("last{SESSION_DAYS}")),
        ("flat", "1".into()),
        ("filter_pattern", "^session - start$".into()),
        ("filter_limit", "-1".into()),
    ];
    let sessions = sessions_by_site(&client.api(Some(token), "Events.getCategory", &days).await?);
    Ok(analyse(&sites, &reports, &sessions, now))
}

/// When the latest report was made, `2026-12-03 15 h UTC`, or `jamais`.
pub fn seen(b: &Borne) -> String {
    b.latest.as_ref().map_or_else(
        || "jamais".to_string(),
        |r| {
            jiff::Timestamp::from_second(r.hour.start_unix())
                .map_or_else(|_| String::new(), |t| t.strftime("%Y-%m-%d %H h UTC").to_string())
        },
    )
}

/// A number with a decimal comma, one decimal (a French spreadsheet reads it as a number).
pub fn decimal_fr(x: f64) -> String {
    format!("{x:.1}").replace('.', ",")
}

/// The headers of the CSV, in French, ASCII.
const HEADERS: [&str; 12] = [
    "site",
    "borne",
    "dernier_rapport",
    "version",
    "catalogue",
    "dernier_envoi",
    "en_attente",
    "imprimante",
    "disque_libre",
    "sessions_par_jour",
    "alertes",
    "detail_alertes",
];

fn cells(b: &Borne) -> Vec<String> {
    let r = b.latest.as_ref();
    let field = |f: fn(&Report) -> String| r.map_or_else(String::new, f);
    vec![
        b.site_id.to_string(),
        b.name.clone(),
        seen(b),
        field(|r| r.version.clone()),
        field(|r| r.catalogue.to_string()),
        field(|r| crate::messages::fleet_band_fr(r.delivery)),
        field(|r| crate::messages::fleet_band_fr(r.backlog)),
        field(|r| crate::messages::fleet_printer_fr(r.printer.code()).to_string()),
        field(|r| crate::messages::fleet_band_fr(r.disk)),
        decimal_fr(b.sessions_per_day()),
        b.alerts.iter().map(Alert::code).collect::<Vec<_>>().join(" "),
        b.alerts.iter().map(crate::messages::fleet_alert_fr).collect::<Vec<_>>().join(" / "),
    ]
}

/// The CSV a French spreadsheet opens as is: UTF-8 with a byte order mark (names have accents), decimal
/// comma, and the separator, quoting and formula guard of every export ([`crate::csv_export`]).
pub fn csv(bornes: &[Borne]) -> String {
    crate::csv_export::write(&HEADERS, bornes.iter().map(cells), true)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A small bar chart of the sessions a day, inline SVG with its own text alternative.
fn chart(b: &Borne) -> String {
    let max = b.sessions.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let (w, h, bar) = (b.sessions.len().max(1) * 8, 28usize, 6usize);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" \
         aria-label=\"Sessions par jour : {}\">",
        esc(&b.sessions.iter().map(|(_, n)| n.to_string()).collect::<Vec<_>>().join(", "))
    );
    for (i, (day, n)) in b.sessions.iter().enumerate() {
        let bh = (*n as usize * (h - 2)).div_ceil(max as usize).max(usize::from(*n > 0));
        svg.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{bar}\" height=\"{bh}\" fill=\"#2a6f97\"><title>{} : {n}</title></rect>",
            i * 8 + 1,
            h - bh,
            esc(day)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// One self-contained French HTML page: a summary of the alerts, a table a borne a line with its chart of
/// sessions a day. No script, no external file: it opens offline.
pub fn html(bornes: &[Borne], now: Hour) -> String {
    let labels = [
        "Site",
        "Borne",
        "Dernier rapport",
        "Version",
        "Catalogue",
        "Dernier envoi",
        "En attente",
        "Imprimante",
        "Disque libre",
        "Sessions par jour",
        "Sessions des 14 derniers jours",
        "Alertes",
    ];
    let when = jiff::Timestamp::from_second(now.start_unix())
        .map_or_else(|_| String::new(), |t| t.strftime("%Y-%m-%d %H h UTC").to_string());
    let with_alerts = bornes.iter().filter(|b| !b.alerts.is_empty()).count();
    let mut out = format!(
        "<!doctype html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>État des bornes ({when})</title><style>\
         body{{font-family:sans-serif;margin:1em;color:#111}}table{{border-collapse:collapse}}\
         th,td{{border:1px solid #888;padding:.25em .5em;vertical-align:middle}}th{{background:#eee;text-align:left}}\
         td.n{{text-align:right}}tr.alert td{{background:#fde8e8}}ul.alerts{{margin:0;padding-left:1.1em}}\
         </style></head><body>\n<h1>État des bornes</h1>\n<p>{} bornes, {with_alerts} avec une alerte. Rapport du {when}.</p>\n\
         <table>\n<thead><tr>",
        bornes.len()
    );
    for l in labels {
        out.push_str(&format!("<th scope=\"col\">{}</th>", esc(l)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for b in bornes {
        let c = cells(b);
        out.push_str(if b.alerts.is_empty() { "<tr>" } else { "<tr class=\"alert\">" });
        for (i, cell) in c.iter().take(10).enumerate() {
            let class = if [0, 4, 9].contains(&i) { " class=\"n\"" } else { "" };
            out.push_str(&format!("<td{class}>{}</td>", esc(cell)));
        }
        out.push_str(&format!("<td>{}</td><td>", chart(b)));
        if !b.alerts.is_empty() {
            out.push_str("<ul class=\"alerts\">");
            for a in &b.alerts {
                out.push_str(&format!("<li>{}</li>", esc(&crate::messages::fleet_alert_fr(a))));
            }
            out.push_str("</ul>");
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{Machine, Why};
    use serde_json::json;

    fn rep(hour: i64, version: &str, backlog: &'static str, printer: Printer, update: Update) -> Report {
        let m = Machine {
            free_disk: Some(8 << 30),
            uptime: Some(100),
            printer,
            restarts: 0,
            slot: Some('a'),
            update,
            image_version: None,
        };
        let s = crate::stats::Store::open_in_memory().unwrap();
        let mut r = crate::health::report(&s, Why::Daily, Hour(hour), 2, &m).unwrap();
        r.version = version.into();
        r.backlog = backlog;
        r
    }

    #[test]
    fn each_state_gives_its_alert_and_only_it() {
        let now = Hour(1000);
        let ok = |h| rep(h, "1.2.0", "0", Printer::Ok, Update::Ok);
        let healthy = vec![ok(952), ok(976), ok(999)];
        assert_eq!(alerts(&healthy, now, Some("1.2.0")), vec![]);
        assert_eq!(alerts(&[ok(900), ok(951)], now, Some("1.2.0")), vec![Alert::Silent]);
        assert_eq!(alerts(&[], now, Some("1.2.0")), vec![Alert::Silent]);
        let growing: Vec<Report> = [(952, "0"), (976, "lt100"), (999, "lt1000")]
            .iter()
            .map(|(h, b)| rep(*h, "1.2.0", b, Printer::Ok, Update::Ok))
            .collect();
        assert_eq!(alerts(&growing, now, Some("1.2.0")), vec![Alert::BacklogGrowing]);
        let recovering: Vec<Report> = [(952, "lt100"), (976, "lt1000"), (999, "lt100")]
            .iter()
            .map(|(h, b)| rep(*h, "1.2.0", b, Printer::Ok, Update::Ok))
            .collect();
        assert_eq!(alerts(&recovering, now, Some("1.2.0")), vec![], "a backlog going down is not growing");
        let down = |h| rep(h, "1.2.0", "0", Printer::Down, Update::Ok);
        assert_eq!(alerts(&[ok(952), down(976), down(999)], now, Some("1.2.0")), vec![], "down for 23 h only");
        assert_eq!(alerts(&[down(952), down(976), down(999)], now, Some("1.2.0")), vec![Alert::PrinterDown]);
        let rolled = rep(999, "1.2.0", "0", Printer::Ok, Update::RolledBack);
        assert_eq!(alerts(&[ok(976), rolled], now, Some("1.2.0")), vec![Alert::Rollback]);
        let old = rep(999, "1.1.9", "0", Printer::Ok, Update::Ok);
        assert_eq!(alerts(&[old], now, Some("1.10.0")), vec![Alert::OldVersion("1.10.0".into())]);
        assert_eq!(version_cmp("1.10.0", "1.9.3"), std::cmp::Ordering::Greater);
    }

    #[test]
    fn matomo_answers_become_lines_and_files() {
        let r1 = rep(990, "1.2.0", "0", Printer::Ok, Update::Ok);
        let r2 = rep(999, "1.2.0", "lt100", Printer::Ok, Update::Ok);
        let health = json!({
            "1": [
                {"label": format!("health - {}", r2.line()), "nb_events": "1"},
                {"label": format!("health - {}", r1.line()), "nb_events": "2"},
                {"label": "health - at=nonsense", "nb_events": "1"}
            ],
            "2": []
        });
        let reports = reports_by_site(&health);
        assert_eq!(reports[&1], vec![r1, r2.clone()], "oldest first, a report counted twice is one");
        let sessions = sessions_by_site(&json!({"1": {"2026-12-02": [{"label": "session - start", "nb_events": "4"}],
            "2026-12-01": [], "2026-12-03": [{"label": "session - start", "nb_events": 5}]}}));
        assert_eq!(sessions[&1], vec![("2026-12-01".into(), 0), ("2026-12-02".into(), 4), ("2026-12-03".into(), 5)]);
        let sites =
            json!([{"idsite": "2", "name": "Borne - Saint-Éloi ; annexe"}, {"idsite": "1", "name": "Borne - A"}]);
        let bornes = analyse(&sites, &reports, &sessions, Hour(1000));
        assert_eq!(bornes.iter().map(|b| b.site_id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(bornes[0].alerts, vec![]);
        assert_eq!(bornes[1].alerts, vec![Alert::Silent]);
        let c = csv(&bornes);
        assert!(c.starts_with("\u{feff}site;borne;dernier_rapport;"), "BOM, then the headers");
        let lines: Vec<&str> = c.trim_start_matches('\u{feff}').split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].contains(";3,0;"), "decimal comma: {}", lines[1]);
        assert!(lines[2].contains("\"Borne - Saint-Éloi ; annexe\""), "{}", lines[2]);
        assert!(lines[2].ends_with(";silent;Muette depuis plus de 48 h"), "{}", lines[2]);
        let h = html(&bornes, Hour(1000));
        assert!(h.contains("<svg") && h.contains("Saint-Éloi ; annexe") && h.contains("Muette"));
        for external in ["<script", "<link", "src=", "url(", "@import", "href="] {
            assert!(!h.contains(external), "the page must open offline: {external}");
        }
    }

    #[test]
    fn site_names_cannot_become_formulas_and_round_trip() {
        let sites = json!([
            {"idsite": 1, "name": "=HYPERLINK(\"http://x.invalid\";\"clic\")"},
            {"idsite": 2, "name": "-2"},
            {"idsite": 3, "name": "Borne \"Éloi\", accueil;\r\nétage"}
        ]);
        let bornes = analyse(&sites, &BTreeMap::new(), &BTreeMap::new(), Hour(1000));
        let c = csv(&bornes);
        assert!(c.starts_with('\u{feff}'));
        let back = crate::csv_export::read_back(&c);
        assert_eq!(back.len(), 4);
        assert!(back.iter().all(|l| l.len() == HEADERS.len()));
        assert_eq!(back[1][1], "'=HYPERLINK(\"http://x.invalid\";\"clic\")");
        assert_eq!(back[2][1], "'-2");
        assert_eq!(back[3][1], "Borne \"Éloi\", accueil;\r\nétage");
    }
}
