//! The local figures, a line a day: what `bornectl stats` prints and the admin screen exports.
//!
//! Days are civil days in the borne's time zone (an hour belongs to the day its start falls in). The
//! CSV is what a funder's spreadsheet opens as is in France (`;`, CRLF, a header line first, quoting
//! and formula guard of [`crate::csv_export`]), ASCII as long as tile ids are (no encoding to guess),
//! one line for every day of the period (zeros included), so two exports of the same period have the
//! same rows.
//!
//! The sessions' dimensions show twice: in the daily table, as columns of their own (sessions
//! accompanied, autonomous, printed at the end, one `lieu_<code>` column per place); and in the
//! [`SplitTable`], a line per day, place and mode with every figure split (`bornectl stats --split`).

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::{CountRow, Hour, Mode, SplitRow};

/// A fixed column: header, category, action (`None`: every action of the category). New columns go
/// at the end, so a spreadsheet made from an older export keeps its columns.
const COLUMNS: &[(&str, &str, Option<&str>)] = &[
    ("sessions", "session", Some("start")),
    ("fin_bouton", "end", Some("button")),
    ("fin_inactivite", "end", Some("idle")),
    ("fin_incident", "end", Some("crash")),
    ("duree_moins_5_min", "duration", Some("lt5")),
    ("duree_5_15_min", "duration", Some("5-15")),
    ("duree_15_30_min", "duration", Some("15-30")),
    ("duree_30_60_min", "duration", Some("30-60")),
    ("duree_plus_60_min", "duration", Some("gt60")),
    ("tuiles_ouvertes", "tile", None),
    ("pages_imprimees", "print", Some("page")),
    ("echecs_impression", "print", Some("failure")),
    ("documents_recus", "download", Some("file")),
    ("demandes_aide", "help", Some("request")),
    ("reponse_oui", "outcome", Some("yes")),
    ("reponse_en_partie", "outcome", Some("partly")),
    ("reponse_non", "outcome", Some("no")),
    ("reponse_passee", "outcome", Some("skipped")),
    ("navigations_bloquees", "blocked", None),
    ("coupures_reseau", "outage", None),
    ("sessions_accompagnees", "mode", Some("accompanied")),
    ("sessions_autonomes", "mode", Some("autonomous")),
    ("sessions_impression_en_fin", "print-at-end", Some("yes")),
    ("fin_mise_en_veille", "end", Some("sleep")),
];

/// The columns of the split table: the fixed columns but the mode's (the mode is the line's).
fn split_columns() -> impl Iterator<Item = &'static (&'static str, &'static str, Option<&'static str>)> {
    COLUMNS.iter().filter(|(_, cat, _)| *cat != "mode")
}

/// Figures of a period, a line a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayTable {
    /// First day.
    pub from: Date,
    /// Last day (included).
    pub to: Date,
    /// Column headers after `date`.
    pub headers: Vec<String>,
    /// One line a day: the date and a value for each header.
    pub days: Vec<(Date, Vec<u64>)>,
    /// Totals of the period by `(category, action)`.
    pub totals: BTreeMap<(String, String), u64>,
    /// The names of the places by code (from `[nomad] places`), for the text; a code without a
    /// name (a place since taken off the list) is shown as it is.
    pub place_names: BTreeMap<String, String>,
}

/// The hours to read for a period of civil days in `tz`: from the first day's start to the start of
/// the day after the last.
pub fn hours_of(from: Date, to: Date, tz: &TimeZone) -> (Hour, Hour) {
    let start = from.to_zoned_datetime(tz.clone()).map(|z| z.timestamp().as_second()).unwrap_or(0);
    let end = to
        .tomorrow()
        .ok()
        .and_then(|d| d.to_zoned_datetime(tz.clone()).ok())
        .map(|z| z.timestamp().as_second())
        .unwrap_or(i64::MAX / 2);
    (Hour::from_unix(start), Hour::from_unix(end + 3599))
}

impl DayTable {
    /// Builds the table from stored rows (rows outside the period are ignored).
    pub fn build(rows: &[CountRow], from: Date, to: Date, tz: &TimeZone) -> DayTable {
        let mut by_day: BTreeMap<Date, BTreeMap<(&str, &str), u64>> = BTreeMap::new();
        let mut tiles = BTreeSet::new();
        let mut languages = BTreeSet::new();
        let mut places = BTreeSet::new();
        let mut totals = BTreeMap::new();
        for r in rows {
            let day = r.hour.date_in(tz);
            if day < from || day > to {
                continue;
            }
            *by_day.entry(day).or_default().entry((r.cat.as_str(), r.action.as_str())).or_insert(0) += r.n;
            *totals.entry((r.cat.clone(), r.action.clone())).or_insert(0) += r.n;
            match r.cat.as_str() {
                "tile" => {
                    tiles.insert(r.action.as_str());
                }
                "language" => {
                    languages.insert(r.action.as_str());
                }
                "place" => {
                    places.insert(r.action.as_str());
                }
                _ => {}
            }
        }
        let mut headers: Vec<String> = COLUMNS.iter().map(|c| c.0.to_string()).collect();
        headers.extend(tiles.iter().map(|t| format!("tuile_{t}")));
        headers.extend(languages.iter().map(|l| format!("langue_{l}")));
        headers.extend(places.iter().map(|p| format!("lieu_{p}")));
        let empty = BTreeMap::new();
        let mut days = Vec::new();
        let mut day = from;
        while day <= to {
            let m = by_day.get(&day).unwrap_or(&empty);
            let mut values: Vec<u64> = COLUMNS
                .iter()
                .map(|(_, cat, action)| {
                    m.iter().filter(|((c, a), _)| c == cat && action.is_none_or(|x| x == *a)).map(|(_, n)| n).sum()
                })
                .collect();
            values.extend(tiles.iter().map(|t| m.get(&("tile", t)).copied().unwrap_or(0)));
            values.extend(languages.iter().map(|l| m.get(&("language", l)).copied().unwrap_or(0)));
            values.extend(places.iter().map(|p| m.get(&("place", p)).copied().unwrap_or(0)));
            days.push((day, values));
            match day.tomorrow() {
                Ok(d) => day = d,
                Err(_) => break,
            }
        }
        DayTable { from, to, headers, days, totals, place_names: BTreeMap::new() }
    }

    /// The same table, naming the places of `[nomad] places` in its text.
    pub fn with_place_names(mut self, places: &[crate::nomad::Place]) -> DayTable {
        self.place_names = places.iter().map(|p| (p.code.clone(), p.name.clone())).collect();
        self
    }

    /// A place's name, or its code when it has none any more.
    pub fn place_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.place_names.get(code).map_or(code, String::as_str)
    }

    /// The CSV file (see the module documentation and [`crate::csv_export`]).
    pub fn csv(&self) -> String {
        let headers: Vec<&str> = std::iter::once("date").chain(self.headers.iter().map(String::as_str)).collect();
        let rows = self
            .days
            .iter()
            .map(|(day, values)| std::iter::once(day.to_string()).chain(values.iter().map(u64::to_string)));
        crate::csv_export::write(&headers, rows, false)
    }

    /// A total of the period.
    pub fn total(&self, cat: &str, action: &str) -> u64 {
        self.totals.get(&(cat.to_string(), action.to_string())).copied().unwrap_or(0)
    }

    /// The total of every action of a category.
    pub fn total_of(&self, cat: &str) -> u64 {
        self.totals.iter().filter(|((c, _), _)| c == cat).map(|(_, n)| n).sum()
    }

    /// Actions of a category, most counted first.
    pub fn top(&self, cat: &str) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> =
            self.totals.iter().filter(|((c, _), _)| c == cat).map(|((_, a), n)| (a.clone(), *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }

    /// The table for a terminal, in French.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let col = |name: &str| self.headers.iter().position(|h| h == name);
        let pick = [("Sessions", "sessions"), ("Tuiles", "tuiles_ouvertes"), ("Pages", "pages_imprimees")];
        let help = col("demandes_aide");
        let mut out = String::new();
        let _ = writeln!(out, "Statistiques du {} au {} (jours en heure locale)", self.from, self.to);
        let _ = writeln!(out, "{:<12}{:>10}{:>10}{:>10}{:>10}", "Date", pick[0].0, pick[1].0, pick[2].0, "Aide");
        let get = |values: &[u64], i: Option<usize>| i.and_then(|i| values.get(i)).copied().unwrap_or(0);
        for (day, values) in &self.days {
            let _ = writeln!(
                out,
                "{:<12}{:>10}{:>10}{:>10}{:>10}",
                day.to_string(),
                get(values, col(pick[0].1)),
                get(values, col(pick[1].1)),
                get(values, col(pick[2].1)),
                get(values, help)
            );
        }
        let list = |cat: &str, labels: &[(&str, &str)]| {
            labels.iter().map(|(a, l)| format!("{l} {}", self.total(cat, a))).collect::<Vec<_>>().join(", ")
        };
        let _ = writeln!(out);
        let _ = writeln!(out, "Sessions : {}", self.total("session", "start"));
        let _ = writeln!(
            out,
            "Fin de session : {}",
            list(
                "end",
                &[("button", "bouton"), ("idle", "inactivité"), ("crash", "incident"), ("sleep", "mise en veille")]
            )
        );
        let _ = writeln!(
            out,
            "Durée : {}",
            list(
                "duration",
                &[
                    ("lt5", "moins de 5 min"),
                    ("5-15", "5 à 15 min"),
                    ("15-30", "15 à 30 min"),
                    ("30-60", "30 à 60 min"),
                    ("gt60", "plus d'une heure")
                ]
            )
        );
        let tiles: Vec<String> = self.top("tile").iter().take(10).map(|(t, n)| format!("{t} {n}")).collect();
        let _ = writeln!(
            out,
            "Tuiles les plus ouvertes : {}",
            if tiles.is_empty() { "aucune".into() } else { tiles.join(", ") }
        );
        let _ = writeln!(
            out,
            "Impression : {} pages, {} échecs",
            self.total("print", "page"),
            self.total("print", "failure")
        );
        let _ = writeln!(out, "Documents reçus : {}", self.total("download", "file"));
        let _ = writeln!(out, "Demandes d'aide : {}", self.total("help", "request"));
        let _ = writeln!(
            out,
            "Réponses « Avez-vous pu faire votre démarche ? » : {}",
            list("outcome", &[("yes", "oui"), ("partly", "en partie"), ("no", "non"), ("skipped", "passée")])
        );
        let _ = writeln!(out, "Navigations bloquées : {}", self.total_of("blocked"));
        let _ = writeln!(out, "Coupures réseau : {}", self.total_of("outage"));
        let _ = writeln!(
            out,
            "Sessions accompagnées : {}, autonomes : {}",
            self.total("mode", "accompanied"),
            self.total("mode", "autonomous")
        );
        let _ = writeln!(
            out,
            "Sessions avec impression des documents en fin de session : {}",
            self.total("print-at-end", "yes")
        );
        let places = self.top("place");
        if !places.is_empty() {
            let list: Vec<String> = places.iter().map(|(p, n)| format!("{} {n}", self.place_name(p))).collect();
            let _ = writeln!(out, "Sessions par lieu : {}", list.join(", "));
        }
        out
    }
}

/// The figures of a period split by the sessions' dimensions: a line per day, place and mode (every
/// day of the period for every place and mode seen in it, zeros included), for `bornectl stats --split`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitTable {
    /// First day.
    pub from: Date,
    /// Last day (included).
    pub to: Date,
    /// The places and modes seen in the period, in order (`None`: no place, or not recorded).
    pub groups: Vec<(Option<String>, Option<Mode>)>,
    /// Column headers after `date`, `lieu` and `accompagnement`.
    pub headers: Vec<String>,
    /// One line a day and group: the date, the group's index in `groups`, a value for each header.
    pub lines: Vec<(Date, usize, Vec<u64>)>,
    /// The names of the places by code, for the text.
    pub place_names: BTreeMap<String, String>,
}

/// The French word of a mode in the CSV (ASCII: no encoding to guess).
fn mode_csv(m: Option<Mode>) -> &'static str {
    match m {
        Some(Mode::Accompanied) => "accompagnee",
        Some(Mode::Autonomous) => "autonome",
        None => "non_renseigne",
    }
}

impl SplitTable {
    /// Builds the table from split rows (`Store::split_rows_between`; rows outside the period are ignored).
    pub fn build(rows: &[SplitRow], from: Date, to: Date, tz: &TimeZone) -> SplitTable {
        type Group = (Option<String>, Option<Mode>);
        type Figures<'a> = BTreeMap<(&'a str, &'a str), u64>;
        let mut by: BTreeMap<(Date, Group), Figures<'_>> = BTreeMap::new();
        let mut groups: BTreeSet<Group> = BTreeSet::new();
        for r in rows {
            let day = r.hour.date_in(tz);
            if day < from || day > to {
                continue;
            }
            let g = (r.place.clone(), r.mode);
            groups.insert(g.clone());
            *by.entry((day, g)).or_default().entry((r.cat.as_str(), r.action.as_str())).or_insert(0) += r.n;
        }
        let groups: Vec<Group> = groups.into_iter().collect();
        let headers = split_columns().map(|c| c.0.to_string()).collect();
        let empty = BTreeMap::new();
        let mut lines = Vec::new();
        let mut day = from;
        while day <= to {
            for (i, g) in groups.iter().enumerate() {
                let m = by.get(&(day, g.clone())).unwrap_or(&empty);
                let values = split_columns()
                    .map(|(_, cat, action)| {
                        m.iter().filter(|((c, a), _)| c == cat && action.is_none_or(|x| x == *a)).map(|(_, n)| n).sum()
                    })
                    .collect();
                lines.push((day, i, values));
            }
            match day.tomorrow() {
                Ok(d) => day = d,
                Err(_) => break,
            }
        }
        SplitTable { from, to, groups, headers, lines, place_names: BTreeMap::new() }
    }

    /// The same table, naming the places of `[nomad] places` in its text.
    pub fn with_place_names(mut self, places: &[crate::nomad::Place]) -> SplitTable {
        self.place_names = places.iter().map(|p| (p.code.clone(), p.name.clone())).collect();
        self
    }

    /// The CSV: `date;lieu;accompagnement;sessions;...`, the place as its code (empty: none), the mode
    /// as `accompagnee`, `autonome` or `non_renseigne` (counted before the dimensions existed).
    pub fn csv(&self) -> String {
        let headers: Vec<&str> =
            ["date", "lieu", "accompagnement"].into_iter().chain(self.headers.iter().map(String::as_str)).collect();
        let rows = self.lines.iter().map(|(day, g, values)| {
            let (place, mode) = &self.groups[*g];
            [day.to_string(), place.clone().unwrap_or_default(), mode_csv(*mode).to_string()]
                .into_iter()
                .chain(values.iter().map(u64::to_string))
        });
        crate::csv_export::write(&headers, rows, false)
    }

    /// The period's totals of a group, by header.
    pub fn group_totals(&self, group: usize) -> BTreeMap<&str, u64> {
        let mut out: BTreeMap<&str, u64> = BTreeMap::new();
        for (_, _, values) in self.lines.iter().filter(|(_, g, _)| *g == group) {
            for (h, v) in self.headers.iter().zip(values) {
                *out.entry(h.as_str()).or_insert(0) += v;
            }
        }
        out
    }

    /// The period's totals by place and mode, for a terminal, in French.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "Par lieu et accompagnement, du {} au {} (jours en heure locale)", self.from, self.to);
        let _ = writeln!(
            out,
            "{:<24}{:<16}{:>10}{:>10}{:>10}{:>10}{:>12}",
            "Lieu", "Accompagnement", "Sessions", "Tuiles", "Pages", "Aide", "Impr. fin"
        );
        for (i, (place, mode)) in self.groups.iter().enumerate() {
            let t = self.group_totals(i);
            let place = match place {
                Some(p) => self.place_names.get(p).map_or(p.as_str(), String::as_str),
                None => "sans lieu",
            };
            let mode = match mode {
                Some(Mode::Accompanied) => "accompagnées",
                Some(Mode::Autonomous) => "autonomes",
                None => "non renseigné",
            };
            let get = |h: &str| t.get(h).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "{:<24}{:<16}{:>10}{:>10}{:>10}{:>10}{:>12}",
                place,
                mode,
                get("sessions"),
                get("tuiles_ouvertes"),
                get("pages_imprimees"),
                get("demandes_aide"),
                get("sessions_impression_en_fin")
            );
        }
        if self.groups.is_empty() {
            let _ = writeln!(out, "Aucune session sur la période.");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(hour: i64, cat: &str, action: &str, n: u64) -> CountRow {
        CountRow { hour: Hour(hour), cat: cat.into(), action: action.into(), n, delivered: 0 }
    }

    #[test]
    fn days_follow_the_local_time_zone_and_every_day_has_a_line() {
        let tz = TimeZone::get("Europe/Paris").unwrap();
        // 2026-11-23 23:30 UTC is already the 24th in Paris (UTC+1).
        let late = Hour::from_unix("2026-11-23T23:30:00Z".parse::<jiff::Timestamp>().unwrap().as_second());
        assert_eq!(late.date_in(&tz).to_string(), "2026-11-24");
        let from: Date = "2026-11-22".parse().unwrap();
        let to: Date = "2026-11-25".parse().unwrap();
        let rows = vec![row(late.0, "session", "start", 2), row(late.0, "tile", "caf", 3)];
        let t = DayTable::build(&rows, from, to, &tz);
        assert_eq!(t.days.len(), 4);
        let csv = t.csv();
        let mut lines = csv.split("\r\n");
        let header: Vec<&str> = lines.next().unwrap().split(';').collect();
        assert_eq!(header[0], "date");
        assert_eq!(header[1], "sessions");
        assert!(header.contains(&"tuile_caf"));
        let caf = header.iter().position(|h| *h == "tuile_caf").unwrap();
        let body: Vec<Vec<&str>> = lines.filter(|l| !l.is_empty()).map(|l| l.split(';').collect()).collect();
        assert_eq!(body.len(), 4);
        let day = late.date_in(&tz).to_string();
        let line = body.iter().find(|l| l[0] == day).unwrap();
        assert_eq!(line[1], "2");
        assert_eq!(line[caf], "3");
        assert!(csv.is_ascii());
        assert!(body.iter().all(|l| l.len() == header.len()));
    }

    #[test]
    fn odd_tile_ids_are_quoted_and_guarded_like_every_export() {
        let tz = TimeZone::UTC;
        let d: Date = "2026-01-05".parse().unwrap();
        let h = Hour::from_unix(d.to_zoned_datetime(tz.clone()).unwrap().timestamp().as_second());
        let rows = vec![row(h.0, "tile", "a;b\"c", 1), row(h.0, "language", "=1+1", 2)];
        let t = DayTable::build(&rows, d, d, &tz);
        let back = crate::csv_export::read_back(&t.csv());
        assert_eq!(back.len(), 2);
        assert!(back[0].contains(&"tuile_a;b\"c".to_string()), "{:?}", back[0]);
        assert!(back[0].contains(&"langue_=1+1".to_string()), "{:?}", back[0]);
        assert_eq!(back[1][0], "2026-01-05");
        assert_eq!(back[0].len(), back[1].len());
    }

    fn split_row(hour: i64, cat: &str, action: &str, mode: Option<Mode>, place: Option<&str>, n: u64) -> SplitRow {
        SplitRow { hour: Hour(hour), cat: cat.into(), action: action.into(), mode, place: place.map(Into::into), n }
    }

    fn places() -> Vec<crate::nomad::Place> {
        ["Médiathèque", "Marché couvert"].iter().map(|n| crate::nomad::Place::of(n).unwrap()).collect()
    }

    #[test]
    fn the_daily_table_counts_sessions_by_mode_by_place_and_printed_at_the_end() {
        let tz = TimeZone::UTC;
        let d: Date = "2026-12-07".parse().unwrap();
        let h = Hour::from_unix(d.to_zoned_datetime(tz.clone()).unwrap().timestamp().as_second() + 10 * 3600);
        let rows = vec![
            row(h.0, "session", "start", 3),
            row(h.0, "mode", "accompanied", 1),
            row(h.0, "mode", "autonomous", 2),
            row(h.0, "place", "mediatheque", 2),
            row(h.0, "place", "ancien-lieu", 1),
            row(h.0, "print-at-end", "yes", 1),
            row(h.0, "tile", "caf", 2),
        ];
        let t = DayTable::build(&rows, d, d, &tz).with_place_names(&places());
        let csv = t.csv();
        let back = crate::csv_export::read_back(&csv);
        let header = &back[0];
        let at = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name}: {header:?}"));
        // The columns of before keep their places; the new ones come after them.
        assert_eq!(&header[..3], ["date", "sessions", "fin_bouton"]);
        assert_eq!(at("coupures_reseau") + 1, at("sessions_accompagnees"));
        assert_eq!(at("sessions_autonomes") + 1, at("sessions_impression_en_fin"));
        assert!(at("sessions_impression_en_fin") < at("tuile_caf"));
        assert!(at("tuile_caf") < at("lieu_ancien-lieu") && at("lieu_ancien-lieu") < at("lieu_mediatheque"));
        let line = &back[1];
        assert_eq!(line[at("sessions_accompagnees")], "1");
        assert_eq!(line[at("sessions_autonomes")], "2");
        assert_eq!(line[at("sessions_impression_en_fin")], "1");
        assert_eq!(line[at("lieu_mediatheque")], "2");
        assert!(csv.is_ascii());
        let text = t.text();
        assert!(text.contains("Sessions accompagnées : 1, autonomes : 2"), "{text}");
        assert!(text.contains("Sessions avec impression des documents en fin de session : 1"), "{text}");
        assert!(text.contains("Sessions par lieu : Médiathèque 2, ancien-lieu 1"), "{text}");
        // A borne with no place says nothing of places.
        let t = DayTable::build(&rows[..3], d, d, &tz);
        assert!(!t.text().contains("par lieu"), "{}", t.text());
    }

    #[test]
    fn the_split_table_has_a_line_a_day_place_and_mode_and_adds_up() {
        let tz = TimeZone::UTC;
        let d0: Date = "2026-12-07".parse().unwrap();
        let d1: Date = "2026-12-08".parse().unwrap();
        let h = Hour::from_unix(d0.to_zoned_datetime(tz.clone()).unwrap().timestamp().as_second() + 9 * 3600);
        let acc = Some(Mode::Accompanied);
        let alone = Some(Mode::Autonomous);
        let med = Some("mediatheque");
        let rows = vec![
            split_row(h.0, "session", "start", acc, med, 1),
            split_row(h.0, "tile", "caf", acc, med, 3),
            split_row(h.0, "print-at-end", "yes", acc, med, 1),
            split_row(h.0, "mode", "accompanied", acc, med, 1),
            split_row(h.0, "session", "start", alone, med, 2),
            split_row(h.0, "tile", "caf", alone, med, 1),
            split_row(h.0 + 24, "session", "start", alone, None, 1),
            // Counted before the dimensions existed.
            split_row(h.0, "session", "start", None, None, 4),
        ];
        let t = SplitTable::build(&rows, d0, d1, &tz).with_place_names(&places());
        assert_eq!(t.groups.len(), 4, "{:?}", t.groups);
        assert_eq!(t.lines.len(), 2 * 4, "every day for every group, zeros included");
        let back = crate::csv_export::read_back(&t.csv());
        assert_eq!(&back[0][..5], ["date", "lieu", "accompagnement", "sessions", "fin_bouton"]);
        assert!(!back[0].iter().any(|h| h.starts_with("sessions_accompagnees") || h == "sessions_autonomes"));
        let col = |name: &str| back[0].iter().position(|h| h == name).unwrap();
        let find = |day: &str, place: &str, mode: &str| {
            back.iter().find(|l| l[0] == day && l[1] == place && l[2] == mode).unwrap_or_else(|| panic!("{back:?}"))
        };
        let l = find("2026-12-07", "mediatheque", "accompagnee");
        assert_eq!((l[col("sessions")].as_str(), l[col("tuiles_ouvertes")].as_str()), ("1", "3"));
        assert_eq!(l[col("sessions_impression_en_fin")], "1");
        assert_eq!(find("2026-12-07", "mediatheque", "autonome")[col("sessions")], "2");
        assert_eq!(find("2026-12-08", "", "autonome")[col("sessions")], "1");
        assert_eq!(find("2026-12-07", "", "non_renseigne")[col("sessions")], "4");
        assert_eq!(find("2026-12-08", "mediatheque", "accompagnee")[col("sessions")], "0");
        assert!(t.csv().is_ascii());
        // The sessions of all lines are all the sessions.
        let total: u64 = (0..t.groups.len()).map(|g| t.group_totals(g)["sessions"]).sum();
        assert_eq!(total, 8);
        let text = t.text();
        assert!(text.lines().any(|l| l.starts_with("Médiathèque") && l.contains("accompagnées")), "{text}");
        assert!(text.lines().any(|l| l.starts_with("sans lieu") && l.contains("non renseigné")), "{text}");
        let empty = SplitTable::build(&[], d0, d1, &tz);
        assert!(empty.text().contains("Aucune session"), "{}", empty.text());
        assert_eq!(crate::csv_export::read_back(&empty.csv()).len(), 1);
    }

    #[test]
    fn text_summary_names_the_figures_in_french() {
        let tz = TimeZone::UTC;
        let d: Date = "2026-01-05".parse().unwrap();
        let h = Hour::from_unix(d.to_zoned_datetime(tz.clone()).unwrap().timestamp().as_second() + 10 * 3600);
        let rows = vec![
            row(h.0, "session", "start", 4),
            row(h.0, "end", "idle", 1),
            row(h.0, "tile", "ameli", 5),
            row(h.0, "outcome", "partly", 2),
        ];
        let t = DayTable::build(&rows, d, d, &tz);
        let text = t.text();
        assert!(text.contains("Sessions : 4"), "{text}");
        assert!(text.contains("inactivité 1"), "{text}");
        assert!(text.contains("ameli 5"), "{text}");
        assert!(text.contains("en partie 2"), "{text}");
    }
}
