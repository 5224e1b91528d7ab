//! What the admin screens edit, as plain data, and the files it becomes.
//!
//! The screens send a whole form; the core turns it into the référent's TOML file, and the same
//! checks as `bornectl check-config` decide (with the French messages, without file positions: the
//! référent never sees the file).

use serde::{Deserialize, Serialize};

use super::history::{self, Editable};
use crate::catalogue::{Local, Origin};
use crate::config::Settings;
use crate::diag::Diagnostic;
use crate::load::Paths;

/// A tile of the centre.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TileForm {
    /// Id (made from the name when empty).
    pub id: String,
    /// Name.
    pub name: String,
    /// One plain line.
    pub description: String,
    /// Theme id.
    pub theme: String,
    /// Pictogram name.
    pub pictogram: String,
    /// Entry address.
    pub url: String,
    /// Hosts the tile needs, one a line.
    pub hosts: Vec<String>,
}

/// A theme of the centre (same id as a national theme: renames it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThemeForm {
    /// Id (made from the name when empty).
    pub id: String,
    /// Name.
    pub name: String,
    /// Pictogram.
    pub pictogram: String,
}

/// The référent's portal: own tiles and themes, hidden and ordered national tiles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortalForm {
    /// Own and renamed themes.
    pub themes: Vec<ThemeForm>,
    /// Own tiles.
    pub tiles: Vec<TileForm>,
    /// Hidden tiles (ids).
    pub hidden: Vec<String>,
    /// Order of tiles (ids).
    pub order: Vec<String>,
    /// Hosts allowed for every tile.
    pub extra_hosts: Vec<String>,
}

/// The centre and the settings the référent changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    /// Centre name.
    pub centre_name: String,
    /// Where help is found.
    pub help_place: String,
    /// Opening hours of the accueil.
    pub opening_hours: String,
    /// Idle time before the countdown (seconds).
    pub idle_timeout_secs: u32,
    /// Countdown (seconds).
    pub warning_secs: u32,
    /// Languages offered.
    pub languages: Vec<String>,
    /// Printer (empty: the system's default).
    pub printer: String,
    /// Pages a session.
    pub page_quota: u32,
}

/// A readable id from a name: lowercase ASCII, digits and dashes.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase).flat_map(fold) {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out: String = out.trim_end_matches('-').chars().take(40).collect();
    if out.is_empty() {
        "tuile".into()
    } else {
        out.trim_end_matches('-').to_string()
    }
}

fn fold(c: char) -> Vec<char> {
    match c {
        'à' | 'â' | 'ä' | 'á' => vec!['a'],
        'ç' => vec!['c'],
        'é' | 'è' | 'ê' | 'ë' => vec!['e'],
        'î' | 'ï' => vec!['i'],
        'ô' | 'ö' => vec!['o'],
        'ù' | 'û' | 'ü' => vec!['u'],
        'œ' => vec!['o', 'e'],
        'æ' => vec!['a', 'e'],
        c => c.to_lowercase().collect(),
    }
}

/// Trimmed, non-empty lines.
fn clean(v: &[String]) -> Vec<&str> {
    v.iter().map(|h| h.trim()).filter(|h| !h.is_empty()).collect()
}

impl PortalForm {
    /// The form of what is in force.
    pub fn from_local(l: &Local) -> PortalForm {
        PortalForm {
            themes: l
                .themes
                .iter()
                .map(|t| ThemeForm { id: t.id.clone(), name: t.name.clone(), pictogram: t.pictogram.clone() })
                .collect(),
            tiles: l
                .services
                .iter()
                .filter(|s| s.origin == Origin::Local)
                .map(|s| TileForm {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    description: s.description.clone(),
                    theme: s.theme.clone(),
                    pictogram: s.pictogram.clone(),
                    url: s.url.to_string(),
                    hosts: s.hosts.iter().map(|h| h.to_string()).collect(),
                })
                .collect(),
            hidden: l.hidden.clone(),
            order: l.order.clone(),
            extra_hosts: l.extra_hosts.iter().map(|h| h.to_string()).collect(),
        }
    }

    /// The `local.toml` text (new tiles and themes get an id from their name).
    pub fn to_toml(&self) -> String {
        let mut f = self.clone();
        let mut used: Vec<String> = Vec::new();
        for t in &mut f.tiles {
            if t.id.trim().is_empty() {
                let base = slug(&t.name);
                let mut id = base.clone();
                let mut n = 2;
                while used.contains(&id) {
                    id = format!("{base}-{n}");
                    n += 1;
                }
                t.id = id;
            }
            used.push(t.id.clone());
        }
        for t in &mut f.themes {
            if t.id.trim().is_empty() {
                t.id = slug(&t.name);
            }
        }
        #[derive(Serialize)]
        struct Out<'a> {
            hidden: &'a [String],
            order: &'a [String],
            extra_hosts: Vec<&'a str>,
            themes: &'a [ThemeForm],
            services: Vec<Svc<'a>>,
        }
        #[derive(Serialize)]
        struct Svc<'a> {
            id: &'a str,
            name: &'a str,
            description: &'a str,
            theme: &'a str,
            pictogram: &'a str,
            url: &'a str,
            hosts: Vec<&'a str>,
        }
        let out = Out {
            hidden: &f.hidden,
            order: &f.order,
            extra_hosts: clean(&f.extra_hosts),
            themes: &f.themes,
            services: f
                .tiles
                .iter()
                .map(|t| Svc {
                    id: t.id.trim(),
                    name: t.name.trim(),
                    description: t.description.trim(),
                    theme: &t.theme,
                    pictogram: &t.pictogram,
                    url: t.url.trim(),
                    hosts: clean(&t.hosts),
                })
                .collect(),
        };
        format!(
            "# The référent's portal, written by the admin screens (kept versions: history/).\n{}",
            toml::to_string(&out).unwrap_or_default()
        )
    }
}

impl SettingsForm {
    /// The form of the settings in force.
    pub fn from_settings(s: &Settings) -> SettingsForm {
        SettingsForm {
            centre_name: s.centre.name.clone(),
            help_place: s.centre.help_place.clone(),
            opening_hours: s.centre.opening_hours.clone(),
            idle_timeout_secs: s.session.idle_timeout_secs,
            warning_secs: s.session.warning_secs,
            languages: s.languages.clone(),
            printer: s.printing.printer.clone().unwrap_or_default(),
            page_quota: s.printing.page_quota,
        }
    }

    /// The `settings.toml` text, laid over `borne.toml`.
    pub fn to_toml(&self) -> String {
        let mut t = toml::Table::new();
        let mut centre = toml::Table::new();
        centre.insert("name".into(), self.centre_name.trim().into());
        centre.insert("help_place".into(), self.help_place.trim().into());
        centre.insert("opening_hours".into(), self.opening_hours.trim().into());
        t.insert("centre".into(), centre.into());
        let mut session = toml::Table::new();
        session.insert("idle_timeout_secs".into(), i64::from(self.idle_timeout_secs).into());
        session.insert("warning_secs".into(), i64::from(self.warning_secs).into());
        t.insert("session".into(), session.into());
        let mut languages = toml::Table::new();
        languages.insert(
            "offered".into(),
            toml::Value::Array(self.languages.iter().map(|l| toml::Value::from(l.as_str())).collect()),
        );
        t.insert("languages".into(), languages.into());
        let mut printing = toml::Table::new();
        printing.insert("printer".into(), self.printer.trim().into());
        printing.insert("page_quota".into(), i64::from(self.page_quota).into());
        t.insert("printing".into(), printing.into());
        format!(
            "# The référent's settings, written by the admin screens, over borne.toml.\n{}",
            toml::to_string(&t).unwrap_or_default()
        )
    }
}

/// The problems of a candidate, in French without file positions.
pub fn problems_fr(diags: &[Diagnostic]) -> Vec<String> {
    let mut out: Vec<String> = diags.iter().map(|d| capitalise(&crate::messages::problem_fr(&d.problem))).collect();
    out.dedup();
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Checks a portal form against the whole configuration (live validation).
pub fn check_portal(paths: &Paths, form: &PortalForm) -> Vec<String> {
    history::check(paths, Editable::Local, &form.to_toml()).err().map(|d| problems_fr(&d)).unwrap_or_default()
}

/// Checks a settings form against the whole configuration.
pub fn check_settings(paths: &Paths, form: &SettingsForm) -> Vec<String> {
    history::check(paths, Editable::Settings, &form.to_toml()).err().map(|d| problems_fr(&d)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load;

    use crate::load::test_paths as setup;

    fn tile() -> TileForm {
        TileForm {
            id: String::new(),
            name: "Mairie de Lyon".into(),
            description: "Les démarches de la mairie".into(),
            theme: "famille".into(),
            pictogram: "mairie".into(),
            url: "https://www.lyon.fr/demarches".into(),
            hosts: vec!["lyon.fr".into(), "*.lyon.fr".into()],
        }
    }

    #[test]
    fn slugs_are_readable_ids() {
        assert_eq!(slug("Mairie de Lyon"), "mairie-de-lyon");
        assert_eq!(slug("Épicerie solidaire « Le Pré »"), "epicerie-solidaire-le-pre");
        assert_eq!(slug("!!!"), "tuile");
    }

    #[test]
    fn a_new_tile_round_trips_through_the_file() {
        let (_d, paths) = setup();
        let national = load(&paths);
        let mut form = PortalForm::from_local(&national.local);
        let theme = national.national.themes[0].id.clone();
        form.tiles.push(TileForm { theme, pictogram: crate::catalogue::PICTOGRAMS[0].into(), ..tile() });
        form.hidden.push(national.national.services[0].id.clone());
        assert_eq!(check_portal(&paths, &form), Vec::<String>::new());
        history::save(&paths, Editable::Local, &form.to_toml(), "ajout").unwrap();
        let l = load(&paths);
        let back = PortalForm::from_local(&l.local);
        assert_eq!(back.tiles[0].id, "mairie-de-lyon");
        assert_eq!(back.tiles[0].hosts, ["lyon.fr", "*.lyon.fr"]);
        assert_eq!(back.hidden, form.hidden);
        assert!(l
            .effective
            .policy
            .decide_str("https://www.lyon.fr/x", crate::policy::LoadKind::Navigation)
            .is_allowed());
    }

    #[test]
    fn a_bad_host_gets_the_french_message_of_check_config() {
        let (_d, paths) = setup();
        let national = load(&paths);
        let mut form = PortalForm::from_local(&national.local);
        let theme = national.national.themes[0].id.clone();
        form.tiles.push(TileForm {
            theme,
            pictogram: crate::catalogue::PICTOGRAMS[0].into(),
            hosts: vec!["https://lyon.fr/page".into()],
            ..tile()
        });
        let p = check_portal(&paths, &form);
        assert!(!p.is_empty());
        assert!(p.iter().all(|m| !m.contains("ligne")), "{p:?}");
    }

    #[test]
    fn settings_form_round_trips() {
        let (_d, paths) = setup();
        let mut f = SettingsForm::from_settings(&load(&paths).settings);
        f.centre_name = "Centre social des Tilleuls".into();
        f.idle_timeout_secs = 240;
        f.languages = vec!["fr".into(), "ar".into()];
        assert_eq!(check_settings(&paths, &f), Vec::<String>::new());
        history::save(&paths, Editable::Settings, &f.to_toml(), "centre").unwrap();
        assert_eq!(SettingsForm::from_settings(&load(&paths).settings), f);
        f.idle_timeout_secs = 1;
        assert!(!check_settings(&paths, &f).is_empty());
    }
}
