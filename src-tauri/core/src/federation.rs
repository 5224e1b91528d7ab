//! The federation's side: creating a borne's Matomo site and token, and the cross-borne table read
//! back from Matomo's Reporting API.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::matomo::{number, ApiError, Client, Token};

/// What `provision` created.
#[derive(Debug, Clone)]
pub struct Provisioned {
    /// The new site.
    pub site_id: u32,
    /// The Matomo user that owns the token (write access to this site only).
    pub login: String,
    /// Its token.
    pub token: Token,
}

fn random_hex(bytes: usize) -> String {
    let mut s = String::new();
    while s.len() < bytes * 2 {
        s.push_str(&crate::push::new_marker()[1..]);
    }
    s.truncate(bytes * 2);
    s
}

/// Creates the borne's site in the centre's time zone (`time_zone`, a tz database name from the settings:
/// Matomo buckets the site's days in it), a user with write access to that site alone, and an app token for
/// it. The user's password is random and forgotten: only the token is kept.
pub async fn provision(client: &Client, admin: &Token, centre: &str, time_zone: &str) -> Result<Provisioned, ApiError> {
    let v = client
        .api(
            Some(admin),
            "SitesManager.addSite",
            &[("siteName", format!("Borne - {centre}")), ("timezone", time_zone.to_string())],
        )
        .await?;
    let site_id = number(v.get("value"))
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::NotMatomo("addSite gave no site id".into()))?;
    let login = format!("borne-{site_id}-{}", random_hex(3));
    let password = random_hex(16);
    client
        .api(
            Some(admin),
            "UsersManager.addUser",
            &[
                ("userLogin", login.clone()),
                ("password", password.clone()),
                ("email", format!("{login}@bornes.invalid")),
                ("initialIdSite", site_id.to_string()),
            ],
        )
        .await?;
    client
        .api(
            Some(admin),
            "UsersManager.setUserAccess",
            &[("userLogin", login.clone()), ("access", "write".into()), ("idSites", site_id.to_string())],
        )
        .await?;
    let v = client
        .api(
            None,
            "UsersManager.createAppSpecificTokenAuth",
            &[
                ("userLogin", login.clone()),
                ("passwordConfirmation", password),
                ("description", format!("borne {site_id}")),
            ],
        )
        .await?;
    let token = v
        .get("value")
        .and_then(Value::as_str)
        .and_then(Token::new)
        .ok_or_else(|| ApiError::NotMatomo("no token in the answer".into()))?;
    Ok(Provisioned { site_id, login, token })
}

/// One borne's line in the federation's table.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BorneFigures {
    /// Matomo site id.
    pub site_id: u32,
    /// Site name.
    pub name: String,
    /// Sessions (Matomo visits).
    pub sessions: u64,
    /// Sessions by duration band, in [`crate::stats::DurationBand::ALL`] order.
    pub durations: [u64; 5],
    /// Tiles opened, most first.
    pub tiles: Vec<(String, u64)>,
    /// Pages printed.
    pub pages: u64,
    /// Print failures.
    pub print_failures: u64,
    /// Help requests.
    pub help: u64,
    /// Outcomes: yes, partly, no, skipped.
    pub outcomes: [u64; 4],
    /// Sessions a médiateur marked « accompagnée » (`mode - accompanied`).
    pub accompanied: u64,
    /// Sessions counted autonomous (`mode - autonomous`; sessions of a borne without the marks are in
    /// neither).
    pub autonomous: u64,
    /// Sessions whose documents were printed at « Terminer » (`print-at-end - yes`).
    pub printed_at_end: u64,
    /// Sessions by place of a nomad borne (`place - <code>`), most first.
    pub places: Vec<(String, u64)>,
}

/// Reads the cross-borne figures of a period (dates `YYYY-MM-DD`) for every site the token can view.
pub async fn report(client: &Client, token: &Token, from: &str, to: &str) -> Result<Vec<BorneFigures>, ApiError> {
    let sites = client.api(Some(token), "SitesManager.getSitesWithAtLeastViewAccess", &[]).await?;
    let params = [
        ("idSite", "all".to_string()),
        ("period", "range".into()),
        ("date", format!("{from},{to}")),
        ("flat", "1".into()),
        ("filter_limit", "-1".into()),
    ];
    let events = client.api(Some(token), "Events.getCategory", &params).await?;
    Ok(figures(&sites, &events))
}

/// A count by name as a list, most first (ties by name).
fn most_first(m: BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// Builds the table from the two answers (pure). Sessions are the `session - start` events, one a session:
/// Matomo's visits also count the borne's health reports (a visit each, [`crate::health`]).
pub fn figures(sites: &Value, events: &Value) -> Vec<BorneFigures> {
    let mut out = Vec::new();
    for s in sites.as_array().into_iter().flatten() {
        let Some(id) = number(s.get("idsite")).and_then(|n| u32::try_from(n).ok()) else { continue };
        let key = id.to_string();
        let mut f = BorneFigures {
            site_id: id,
            name: s.get("name").and_then(Value::as_str).unwrap_or("").to_string(),
            ..Default::default()
        };
        let mut tiles = BTreeMap::new();
        let mut places = BTreeMap::new();
        for row in events.get(&key).and_then(Value::as_array).into_iter().flatten() {
            let label = row.get("label").and_then(Value::as_str).unwrap_or("");
            let n = number(row.get("nb_events")).unwrap_or(0);
            let Some((cat, action)) = label.split_once(" - ") else { continue };
            match (cat, action) {
                ("session", "start") => f.sessions += n,
                ("duration", a) => {
                    if let Some(i) = crate::stats::DurationBand::ALL.iter().position(|b| b.code() == a) {
                        f.durations[i] += n;
                    }
                }
                ("tile", a) => *tiles.entry(a.to_string()).or_insert(0) += n,
                ("print", "page") => f.pages += n,
                ("print", "failure") => f.print_failures += n,
                ("help", "request") => f.help += n,
                ("outcome", a) => {
                    if let Some(i) = ["yes", "partly", "no", "skipped"].iter().position(|o| *o == a) {
                        f.outcomes[i] += n;
                    }
                }
                ("mode", "accompanied") => f.accompanied += n,
                ("mode", "autonomous") => f.autonomous += n,
                ("print-at-end", "yes") => f.printed_at_end += n,
                ("place", a) if crate::stats::place_code_ok(a) => *places.entry(a.to_string()).or_insert(0) += n,
                _ => {}
            }
        }
        f.tiles = most_first(tiles);
        f.places = most_first(places);
        out.push(f);
    }
    out.sort_by_key(|f| f.site_id);
    out
}

const HEADERS: [&str; 21] = [
    "site",
    "borne",
    "sessions",
    "duree_moins_5_min",
    "duree_5_15_min",
    "duree_15_30_min",
    "duree_30_60_min",
    "duree_plus_60_min",
    "tuiles_principales",
    "pages_imprimees",
    "echecs_impression",
    "demandes_aide",
    "reponse_oui",
    "reponse_en_partie",
    "reponse_non",
    "reponse_passee",
    "tuiles_ouvertes",
    "sessions_accompagnees",
    "sessions_autonomes",
    "sessions_impression_en_fin",
    "sessions_par_lieu",
];

fn cells(f: &BorneFigures) -> Vec<String> {
    let top: Vec<String> = f.tiles.iter().take(3).map(|(t, n)| format!("{t} ({n})")).collect();
    let mut v = vec![f.site_id.to_string(), f.name.clone(), f.sessions.to_string()];
    v.extend(f.durations.iter().map(u64::to_string));
    v.push(top.join(", "));
    v.extend([f.pages, f.print_failures, f.help].iter().map(u64::to_string));
    v.extend(f.outcomes.iter().map(u64::to_string));
    v.push(f.tiles.iter().map(|t| t.1).sum::<u64>().to_string());
    v.extend([f.accompanied, f.autonomous, f.printed_at_end].iter().map(u64::to_string));
    v.push(f.places.iter().map(|(p, n)| format!("{p} ({n})")).collect::<Vec<_>>().join(", "));
    v
}

fn total(rows: &[BorneFigures]) -> BorneFigures {
    let mut t = BorneFigures { name: "Toutes les bornes".into(), ..Default::default() };
    let mut tiles = BTreeMap::new();
    let mut places = BTreeMap::new();
    for f in rows {
        t.sessions += f.sessions;
        t.accompanied += f.accompanied;
        t.autonomous += f.autonomous;
        t.printed_at_end += f.printed_at_end;
        for (k, n) in &f.places {
            *places.entry(k.clone()).or_insert(0) += n;
        }
        for i in 0..5 {
            t.durations[i] += f.durations[i];
        }
        for i in 0..4 {
            t.outcomes[i] += f.outcomes[i];
        }
        t.pages += f.pages;
        t.print_failures += f.print_failures;
        t.help += f.help;
        for (k, n) in &f.tiles {
            *tiles.entry(k.clone()).or_insert(0) += n;
        }
    }
    t.tiles = most_first(tiles);
    t.places = most_first(places);
    t
}

/// The cells of every borne's line, then of the total line (no site id).
fn lines(rows: &[BorneFigures]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = rows.iter().map(cells).collect();
    let mut t = cells(&total(rows));
    t[0] = String::new();
    out.push(t);
    out
}

/// CSV, a line a borne and a total line (separator, quoting and formula guard of every export:
/// [`crate::csv_export`]).
pub fn csv(rows: &[BorneFigures]) -> String {
    crate::csv_export::write(&HEADERS, lines(rows), false)
}

/// A standalone French HTML page with the table.
pub fn html(rows: &[BorneFigures], from: &str, to: &str) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let labels = [
        "Site",
        "Borne",
        "Sessions",
        "Moins de 5 min",
        "5 à 15 min",
        "15 à 30 min",
        "30 à 60 min",
        "Plus d'une heure",
        "Tuiles les plus ouvertes",
        "Pages imprimées",
        "Échecs d'impression",
        "Demandes d'aide",
        "Démarche faite : oui",
        "En partie",
        "Non",
        "Sans réponse",
        "Tuiles ouvertes",
        "Sessions accompagnées",
        "Sessions autonomes",
        "Impression en fin de session",
        "Sessions par lieu",
    ];
    let mut out = format!(
        "<!doctype html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Bornes : statistiques du {f} au {t}</title>\
         <style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}th,td{{border:1px solid #444;padding:.3em .6em}}\
         td{{text-align:right}}td:nth-child(2),td:nth-child(9),td:nth-child(21){{text-align:left}}</style></head><body>\n\
         <h1>Statistiques des bornes du {f} au {t}</h1>\n<table>\n<thead><tr>",
        f = esc(from),
        t = esc(to)
    );
    for l in labels {
        out.push_str(&format!("<th scope=\"col\">{}</th>", esc(l)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for c in lines(rows) {
        out.push_str("<tr>");
        for cell in c {
            out.push_str(&format!("<td>{}</td>", esc(&cell)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn figures_read_strings_and_integers_and_flattened_labels() {
        let sites = json!([{"idsite": "1", "name": "Borne - Centre A"}, {"idsite": 2, "name": "B <b>"}]);
        let events = json!({"1": [
            {"label": "session - start", "nb_events": "4"},
            {"label": "health - at=2026-12-03T15Z report=boot", "nb_events": "1"},
            {"label": "tile - caf", "nb_events": 3},
            {"label": "tile - ameli", "nb_events": "5"},
            {"label": "duration - 5-15", "nb_events": 2},
            {"label": "print - page", "nb_events": 7},
            {"label": "outcome - partly", "nb_events": 1},
            {"label": "help - request", "nb_events": 1}
        ]});
        let f = figures(&sites, &events);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].sessions, 4);
        assert_eq!(f[0].tiles[0], ("ameli".to_string(), 5));
        assert_eq!(f[0].durations, [0, 2, 0, 0, 0]);
        assert_eq!((f[0].pages, f[0].help, f[0].outcomes[1]), (7, 1, 1));
        assert_eq!(f[1].sessions, 0);
        let c = csv(&f);
        let lines: Vec<&str> = c.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("site;borne;sessions"));
        assert!(lines[1].contains(";ameli (5), caf (3);"), "{}", lines[1]);
        assert!(lines[3].contains("Toutes les bornes;4;"), "{}", lines[3]);
        let h = html(&f, "2026-11-01", "2026-11-30");
        assert!(h.contains("B &lt;b&gt;") && !h.contains("B <b>"));
    }

    #[test]
    fn figures_split_sessions_by_accompaniment_and_place_and_count_prints_at_the_end() {
        let sites = json!([{"idsite": 1, "name": "Borne nomade"}, {"idsite": 2, "name": "Borne fixe"}]);
        let events = json!({
            "1": [
                {"label": "session - start", "nb_events": "10"},
                {"label": "mode - accompanied", "nb_events": "4"},
                {"label": "mode - autonomous", "nb_events": 6},
                {"label": "place - mediatheque", "nb_events": 7},
                {"label": "place - marche-couvert", "nb_events": "3"},
                {"label": "place - Jean Dupont", "nb_events": "1"},
                {"label": "print-at-end - yes", "nb_events": 2}
            ],
            "2": [{"label": "session - start", "nb_events": 5}, {"label": "mode - autonomous", "nb_events": 5}]
        });
        let f = figures(&sites, &events);
        assert_eq!((f[0].accompanied, f[0].autonomous, f[0].printed_at_end), (4, 6, 2));
        assert_eq!(f[0].places, [("mediatheque".to_string(), 7), ("marche-couvert".to_string(), 3)]);
        assert!(f[1].places.is_empty());
        let back = crate::csv_export::read_back(&csv(&f));
        assert!(back.iter().all(|l| l.len() == HEADERS.len()));
        let col = |h: &str| HEADERS.iter().position(|x| *x == h).unwrap();
        assert_eq!(back[0][col("sessions_accompagnees")], "sessions_accompagnees");
        assert_eq!(back[1][col("sessions_accompagnees")], "4");
        assert_eq!(back[1][col("sessions_autonomes")], "6");
        assert_eq!(back[1][col("sessions_impression_en_fin")], "2");
        assert_eq!(back[1][col("sessions_par_lieu")], "mediatheque (7), marche-couvert (3)");
        assert_eq!(back[2][col("sessions_par_lieu")], "");
        // The total line adds both bornes.
        assert_eq!(back[3][col("sessions_autonomes")], "11");
        assert_eq!(back[3][col("sessions_par_lieu")], "mediatheque (7), marche-couvert (3)");
        let h = html(&f, "2026-12-01", "2026-12-31");
        assert!(
            h.contains("<th scope=\"col\">Sessions accompagnées</th>")
                && h.contains("<td>mediatheque (7), marche-couvert (3)</td>")
        );
    }

    #[test]
    fn names_and_tiles_from_matomo_cannot_become_formulas_and_round_trip() {
        let sites = json!([
            {"idsite": 1, "name": "=HYPERLINK(\"http://x.invalid\";\"clic\")"},
            {"idsite": 2, "name": "+1"},
            {"idsite": 3, "name": "@x"},
            {"idsite": 4, "name": "Centre \"Les Tilleuls\", annexe;\nbis"}
        ]);
        let events = json!({
            "1": [{"label": "tile - -2", "nb_events": 1}],
            "4": [{"label": "tile - a;b\"c", "nb_events": 2}]
        });
        let c = csv(&figures(&sites, &events));
        let back = crate::csv_export::read_back(&c);
        assert_eq!(back.len(), 6, "header, four bornes, the total");
        assert!(back.iter().all(|l| l.len() == HEADERS.len()));
        let tiles = HEADERS.iter().position(|h| *h == "tuiles_principales").unwrap();
        assert_eq!(back[1][1], "'=HYPERLINK(\"http://x.invalid\";\"clic\")");
        assert_eq!(back[1][tiles], "'-2 (1)");
        assert_eq!(back[2][1], "'+1");
        assert_eq!(back[3][1], "'@x");
        assert_eq!(back[4][1], "Centre \"Les Tilleuls\", annexe;\nbis");
        assert_eq!(back[4][tiles], "a;b\"c (2)");
    }
}
