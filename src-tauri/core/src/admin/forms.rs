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
    /// Idle time before the countdown in a session a médiateur marked accompanied (seconds). `None`
    /// (a form that does not send it): the référent's `settings.toml` keeps what it says.
    pub accompanied_idle_secs: Option<u32>,
    /// The countdown's chime (`[session] countdown_tone`); `None` (a form that does not send it):
    /// kept as it is.
    pub countdown_tone: Option<bool>,
    /// Languages offered.
    pub languages: Vec<String>,
    /// Printer (empty: the system's default).
    pub printer: String,
    /// Pages a session.
    pub page_quota: u32,
    /// « Numériser »: a scanner is connected.
    pub scanner: bool,
    /// Ask the end-of-session question.
    pub ask_outcome: bool,
    /// The help directory.
    pub contacts: Vec<crate::config::Contact>,
    /// Address of the federation's signed catalogue channel (empty: none).
    pub catalogue_url: String,
    /// The structured opening hours. `None` (a form that does not send them): `[hours]` of the
    /// référent's `settings.toml` is kept as it is.
    pub hours: Option<HoursForm>,
}

/// The structured opening hours as the admin screen edits them (`[hours]`, day by day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HoursForm {
    /// Monday to Sunday, each as `[hours]` writes it ("9:00-12:00, 14:00-17:00", "" when closed).
    pub days: Vec<String>,
    /// Exceptional closures ("2026-12-24", "2026-12-25..2027-01-01").
    pub closures: Vec<String>,
    /// The borne may be used outside the hours.
    pub use_when_closed: bool,
    /// Idle minutes before the screen goes dark when closed.
    pub dark_after_minutes: u32,
    /// Power off after closing, wake before opening.
    pub power_off: bool,
    /// Minutes the borne wakes before opening.
    pub wake_before_minutes: u32,
}

impl Default for HoursForm {
    fn default() -> Self {
        use crate::hours as h;
        HoursForm {
            days: vec![String::new(); 7],
            closures: Vec::new(),
            use_when_closed: h::DEFAULT_USE_WHEN_CLOSED,
            dark_after_minutes: h::DEFAULT_DARK_AFTER_MINUTES,
            power_off: false,
            wake_before_minutes: h::DEFAULT_WAKE_BEFORE_MINUTES,
        }
    }
}

impl HoursForm {
    /// The form of a plan in force.
    pub fn from_plan(p: &crate::hours::HoursPlan) -> HoursForm {
        HoursForm {
            days: (0..7).map(|i| p.day_text(i)).collect(),
            closures: p.closures().iter().map(ToString::to_string).collect(),
            use_when_closed: p.use_when_closed,
            dark_after_minutes: p.dark_after_minutes,
            power_off: p.power_off,
            wake_before_minutes: p.wake_before_minutes,
        }
    }

    /// The `[hours]` table (checked with the whole configuration when saved).
    pub fn to_table(&self) -> toml::Table {
        let mut t = toml::Table::new();
        for (i, day) in crate::hours::DAYS.iter().enumerate() {
            t.insert((*day).into(), self.days.get(i).map_or("", |d| d.trim()).into());
        }
        let closures = self.closures.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).map(toml::Value::from);
        t.insert("closures".into(), toml::Value::Array(closures.collect()));
        t.insert("use_when_closed".into(), self.use_when_closed.into());
        t.insert("dark_after_minutes".into(), i64::from(self.dark_after_minutes).into());
        t.insert("power_off".into(), self.power_off.into());
        t.insert("wake_before_minutes".into(), i64::from(self.wake_before_minutes).into());
        t
    }
}

/// One "Avant de commencer" sheet of the référent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DemarcheForm {
    /// Id (made from the title when empty; a national sheet's id replaces that sheet).
    pub id: String,
    /// The tile it belongs to.
    pub service: String,
    /// Title.
    pub title: String,
    /// What to have at hand, a line each.
    pub documents: Vec<String>,
    /// The main steps.
    pub steps: Vec<String>,
}

/// The référent's own sheets: the whole `<state>/demarches.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DemarchesForm {
    /// Sheets, in order.
    pub sheets: Vec<DemarcheForm>,
}

impl DemarchesForm {
    /// The référent's sheets as they are in the file (empty when there is none or it does not load:
    /// the admin screen shows the file's problems then).
    pub fn current(paths: &Paths, services: &[&str]) -> DemarchesForm {
        let path = paths.local_demarches();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let sheets = crate::catalogue::demarches::parse_demarches(&path, &text, services).unwrap_or_default();
        DemarchesForm {
            sheets: sheets
                .into_iter()
                .map(|d| DemarcheForm {
                    id: d.id,
                    service: d.service,
                    title: d.title,
                    documents: d.documents,
                    steps: d.steps,
                })
                .collect(),
        }
    }

    /// The `<state>/demarches.toml` text. Empty lines of the form's text areas are dropped.
    pub fn to_toml(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            demarches: Vec<Sheet<'a>>,
        }
        #[derive(Serialize)]
        struct Sheet<'a> {
            id: String,
            service: &'a str,
            title: &'a str,
            documents: Vec<&'a str>,
            steps: Vec<&'a str>,
        }
        fn lines(v: &[String]) -> Vec<&str> {
            v.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect()
        }
        let out = Out {
            demarches: self
                .sheets
                .iter()
                .map(|d| Sheet {
                    id: if d.id.trim().is_empty() { slug(&d.title) } else { d.id.trim().to_string() },
                    service: d.service.trim(),
                    title: d.title.trim(),
                    documents: lines(&d.documents),
                    steps: lines(&d.steps),
                })
                .collect(),
        };
        format!(
            "# The référent's \"Avant de commencer\" sheets, written by the admin screens (kept versions: history/).\n{}",
            toml::to_string(&out).unwrap_or_default()
        )
    }
}

/// Checks the référent's sheets against the whole configuration.
pub fn check_demarches(paths: &Paths, form: &DemarchesForm) -> Vec<String> {
    history::check(paths, Editable::Demarches, &form.to_toml()).err().map(|d| problems_fr(&d)).unwrap_or_default()
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

/// The first line of the référent's `settings.toml`.
const SETTINGS_HEADER: &str = "# The référent's settings, written by the admin screens, over borne.toml.\n";

/// The référent's own update address (the Maintenance screen): `[updates] url` of `settings.toml`,
/// empty when there is none (the image's updater then takes the setup's, or the image's).
pub fn own_update_url(paths: &Paths) -> String {
    std::fs::read_to_string(paths.settings_overrides())
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| t.get("updates")?.get("url")?.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `current` (the référent's `settings.toml`) with `[updates] url` set to `url`, or taken out when
/// `None`; every other key kept. `None` when `current` is not TOML.
pub fn with_update_url(current: &str, url: Option<&url::Url>) -> Option<String> {
    let mut t: toml::Table = current.parse().ok()?;
    let updates = t.entry("updates").or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(u) = updates else { return None };
    match url {
        Some(url) => {
            u.insert("url".into(), url.as_str().into());
        }
        None => {
            u.remove("url");
        }
    }
    if u.is_empty() {
        t.remove("updates");
    }
    Some(format!("{SETTINGS_HEADER}{}", toml::to_string(&t).ok()?))
}

/// Saves the référent's update address from the Maintenance screen: checked by
/// [`crate::updates::parse_update_url`] (empty: the référent's address is taken out), then written as
/// `[updates] url` of `settings.toml` through [`history::save`] (the whole configuration checked, a
/// version kept). A bad address writes nothing: the one in force stays, and the problem comes back
/// (French with [`problems_fr`], English with its `Display`).
pub fn save_update_url(paths: &Paths, text: &str, summary: &str) -> Result<history::Version, Vec<Diagnostic>> {
    let file = paths.settings_overrides();
    let at = |problem| vec![Diagnostic { file: file.clone(), line: 0, column: 0, problem }];
    let url = if text.trim().is_empty() {
        None
    } else {
        let u = crate::updates::parse_update_url(text)
            .map_err(|why| at(crate::diag::Problem::BadUpdateUrl { url: text.trim().to_string(), why }))?;
        Some(u)
    };
    let current = std::fs::read_to_string(&file).unwrap_or_default();
    let new = with_update_url(&current, url.as_ref())
        .ok_or_else(|| at(crate::diag::Problem::Syntax("the référent's settings.toml is not TOML".into())))?;
    history::save(paths, Editable::Settings, &new, summary)
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
            accompanied_idle_secs: Some(s.session.accompanied_idle_secs),
            countdown_tone: Some(s.session.countdown_tone),
            languages: s.languages.clone(),
            printer: s.printing.printer.clone().unwrap_or_default(),
            page_quota: s.printing.page_quota,
            scanner: s.printing.scanner,
            ask_outcome: s.help.ask_outcome,
            contacts: s.help.contacts.clone(),
            catalogue_url: s.catalogue.channel_url.as_ref().map(ToString::to_string).unwrap_or_default(),
            hours: s.hours.as_ref().map(HoursForm::from_plan),
        }
    }

    /// The `settings.toml` text to save over `current` (the file as it is): the form's settings, and
    /// what this form does not edit kept as it is: the federation's public keys (setup gives them) and
    /// `[updates]` (the Maintenance screen's update address, the reboot window), and `[hours]` when
    /// the form does not carry them.
    pub fn to_toml_over(&self, current: &str) -> String {
        let current = current.parse::<toml::Table>().ok();
        let keys = current.as_ref().and_then(|t| t.get("catalogue").and_then(|c| c.get("public_keys")).cloned());
        let updates = current.as_ref().and_then(|t| t.get("updates")).cloned();
        let hours = current.as_ref().and_then(|t| t.get("hours")).cloned().filter(|_| self.hours.is_none());
        let accompanied = current
            .as_ref()
            .and_then(|t| t.get("session").and_then(|s| s.get("accompanied_idle_secs")))
            .cloned()
            .filter(|_| self.accompanied_idle_secs.is_none());
        let tone = current
            .as_ref()
            .and_then(|t| t.get("session").and_then(|s| s.get("countdown_tone")))
            .cloned()
            .filter(|_| self.countdown_tone.is_none());
        if keys.is_none() && updates.is_none() && hours.is_none() && accompanied.is_none() && tone.is_none() {
            return self.to_toml();
        }
        let mut t: toml::Table = self.to_toml().parse().unwrap_or_default();
        if let (Some(keys), Some(toml::Value::Table(c))) = (keys, t.get_mut("catalogue")) {
            c.insert("public_keys".into(), keys);
        }
        if let Some(u) = updates {
            t.insert("updates".into(), u);
        }
        if let Some(h) = hours {
            t.insert("hours".into(), h);
        }
        if let (Some(a), Some(toml::Value::Table(session))) = (accompanied, t.get_mut("session")) {
            session.insert("accompanied_idle_secs".into(), a);
        }
        if let (Some(v), Some(toml::Value::Table(session))) = (tone, t.get_mut("session")) {
            session.insert("countdown_tone".into(), v);
        }
        format!("{SETTINGS_HEADER}{}", toml::to_string(&t).unwrap_or_default())
    }

    /// [`SettingsForm::to_toml_over`] the référent's `settings.toml` as it is.
    pub fn settings_toml(&self, paths: &Paths) -> String {
        self.to_toml_over(&std::fs::read_to_string(paths.settings_overrides()).unwrap_or_default())
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
        if let Some(a) = self.accompanied_idle_secs {
            session.insert("accompanied_idle_secs".into(), i64::from(a).into());
        }
        if let Some(v) = self.countdown_tone {
            session.insert("countdown_tone".into(), v.into());
        }
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
        printing.insert("scanner".into(), self.scanner.into());
        t.insert("printing".into(), printing.into());
        let mut help = toml::Table::new();
        help.insert("ask_outcome".into(), self.ask_outcome.into());
        let contacts = self
            .contacts
            .iter()
            .filter(|c| {
                // A row left entirely empty in the form is no contact at all.
                [&c.name, &c.what, &c.place, &c.hours, &c.phone].iter().any(|f| !f.trim().is_empty())
            })
            .map(|c| {
                let mut row = toml::Table::new();
                for (k, v) in [
                    ("name", &c.name),
                    ("what", &c.what),
                    ("place", &c.place),
                    ("hours", &c.hours),
                    ("phone", &c.phone),
                ] {
                    row.insert(k.into(), v.trim().into());
                }
                toml::Value::Table(row)
            })
            .collect();
        help.insert("contacts".into(), toml::Value::Array(contacts));
        t.insert("help".into(), help.into());
        let mut catalogue = toml::Table::new();
        catalogue.insert("channel_url".into(), self.catalogue_url.trim().into());
        t.insert("catalogue".into(), catalogue.into());
        if let Some(h) = &self.hours {
            t.insert("hours".into(), h.to_table().into());
        }
        format!("{SETTINGS_HEADER}{}", toml::to_string(&t).unwrap_or_default())
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
    history::check(paths, Editable::Settings, &form.settings_toml(paths))
        .err()
        .map(|d| problems_fr(&d))
        .unwrap_or_default()
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

    #[test]
    fn the_countdown_tone_and_the_scanner_round_trip_and_a_form_without_the_tone_keeps_it() {
        let (_d, paths) = setup();
        let mut f = SettingsForm::from_settings(&load(&paths).settings);
        assert_eq!(f.countdown_tone, Some(true), "on by default");
        assert!(!f.scanner, "no scanner by default");
        f.countdown_tone = Some(false);
        f.scanner = true;
        history::save(&paths, Editable::Settings, &f.settings_toml(&paths), "son").unwrap();
        let s = load(&paths).settings;
        assert!(!s.session.countdown_tone && s.printing.scanner);
        assert_eq!(SettingsForm::from_settings(&s), f);
        let mut old = f.clone();
        old.countdown_tone = None;
        history::save(&paths, Editable::Settings, &old.settings_toml(&paths), "centre").unwrap();
        assert!(!load(&paths).settings.session.countdown_tone, "kept by a form that does not carry it");
    }

    #[test]
    fn the_accompanied_idle_limit_round_trips_is_checked_and_kept_by_a_form_without_it() {
        let (_d, paths) = setup();
        let mut f = SettingsForm::from_settings(&load(&paths).settings);
        assert_eq!(f.accompanied_idle_secs, Some(1800));
        f.accompanied_idle_secs = Some(3600);
        assert_eq!(check_settings(&paths, &f), Vec::<String>::new());
        history::save(&paths, Editable::Settings, &f.settings_toml(&paths), "accompagnement").unwrap();
        assert_eq!(load(&paths).settings.session.accompanied_idle_secs, 3600);
        assert_eq!(SettingsForm::from_settings(&load(&paths).settings), f);
        // A form of before (the field absent): the référent's value stays.
        let old: SettingsForm =
            serde_json::from_value(serde_json::json!({"centre_name": "Centre", "idle_timeout_secs": 300, "warning_secs": 60, "languages": ["fr"], "page_quota": 20}))
                .unwrap();
        assert_eq!(old.accompanied_idle_secs, None);
        history::save(&paths, Editable::Settings, &old.settings_toml(&paths), "centre").unwrap();
        assert_eq!(load(&paths).settings.session.accompanied_idle_secs, 3600);
        f.accompanied_idle_secs = Some(5);
        assert!(
            check_settings(&paths, &f).iter().any(|m| m.contains("accompanied_idle_secs")),
            "{:?}",
            check_settings(&paths, &f)
        );
    }

    #[test]
    fn the_catalogue_address_round_trips_and_the_federations_keys_are_kept() {
        let (_d, paths) = setup();
        let key = minisign::KeyPair::generate_unencrypted_keypair().unwrap().pk.to_base64();
        std::fs::create_dir_all(&paths.state_dir).unwrap();
        let setup_text = format!("[catalogue]\nchannel_url = \"https://a.example/\"\npublic_keys = [\"{key}\"]\n");
        history::save(&paths, Editable::Settings, &setup_text, "installation").unwrap();
        let mut f = SettingsForm::from_settings(&load(&paths).settings);
        assert_eq!(f.catalogue_url, "https://a.example/");
        f.catalogue_url = "https://catalogue.federation.example/borne/".into();
        assert_eq!(check_settings(&paths, &f), Vec::<String>::new());
        history::save(&paths, Editable::Settings, &f.settings_toml(&paths), "adresse").unwrap();
        let s = load(&paths).settings;
        assert_eq!(s.catalogue.public_keys, [key]);
        assert_eq!(SettingsForm::from_settings(&s), f);
        f.catalogue_url = "http://catalogue.example/".into();
        assert!(check_settings(&paths, &f).iter().any(|m| m.contains("https://")), "{:?}", check_settings(&paths, &f));
    }

    #[test]
    fn the_referents_update_address_is_checked_saved_kept_and_taken_out() {
        let (_d, paths) = setup();
        std::fs::create_dir_all(&paths.state_dir).unwrap();
        let mut f = SettingsForm::from_settings(&load(&paths).settings);
        f.centre_name = "Centre social des Tilleuls".into();
        history::save(&paths, Editable::Settings, &f.to_toml(), "centre").unwrap();
        assert_eq!(own_update_url(&paths), "");
        let good = "https://maj.federation.example/borne/borne.raucb";
        save_update_url(&paths, &format!(" {good} "), "adresse").unwrap();
        assert_eq!(own_update_url(&paths), good);
        let s = load(&paths).settings;
        assert_eq!(s.updates.url.as_ref().map(url::Url::as_str), Some(good));
        assert_eq!(s.centre.name, "Centre social des Tilleuls", "the other settings are kept");
        let text = std::fs::read_to_string(paths.settings_overrides()).unwrap();
        assert!(text.contains(&format!("[updates]\nurl = \"{good}\"\n")), "what update-lib.sh reads: {text}");
        // A bad address: nothing written, the good one stays, French for the référent, English for the log.
        for (bad, french) in [
            ("http://maj.federation.example/borne/borne.raucb", "https://"),
            ("https://maj.federation.example/borne/", ".raucb"),
            ("https://maj.federation.example/$(reboot).raucb", "caractère"),
        ] {
            let e = save_update_url(&paths, bad, "adresse").unwrap_err();
            let fr = problems_fr(&e);
            assert_eq!(fr.len(), 1, "{bad}: {fr:?}");
            assert!(fr[0].contains(french) && fr[0].starts_with(char::is_uppercase), "{bad}: {fr:?}");
            assert!(e[0].to_string().contains("not an update address"), "{}", e[0]);
            assert_eq!(std::fs::read_to_string(paths.settings_overrides()).unwrap(), text, "{bad}");
        }
        // The settings screen's own save keeps it.
        let f = SettingsForm::from_settings(&load(&paths).settings);
        history::save(&paths, Editable::Settings, &f.settings_toml(&paths), "réglages").unwrap();
        assert_eq!(own_update_url(&paths), good);
        // Emptied: taken out, the rest kept.
        save_update_url(&paths, "  ", "adresse").unwrap();
        assert_eq!(own_update_url(&paths), "");
        let s = load(&paths).settings;
        assert_eq!((s.updates.url, s.centre.name.as_str()), (None, "Centre social des Tilleuls"));
        assert!(!std::fs::read_to_string(paths.settings_overrides()).unwrap().contains("[updates]"));
    }

    #[test]
    fn help_directory_and_outcome_question_round_trip_and_are_checked() {
        let (_d, paths) = setup();
        let mut f = SettingsForm::from_settings(&load(&paths).settings);
        assert!(!f.ask_outcome, "the question is off by default");
        assert!(f.contacts.is_empty());
        f.ask_outcome = true;
        let contact = |name: &str| crate::config::Contact {
            name: name.into(),
            what: "Aide pour les démarches en ligne".into(),
            place: "Place de la mairie".into(),
            hours: "Mardi, 9 h - 12 h".into(),
            phone: "01 23 45 67 89".into(),
        };
        f.contacts = vec![contact("France Services"), crate::config::Contact::default(), contact("Écrivain public")];
        assert_eq!(check_settings(&paths, &f), Vec::<String>::new());
        history::save(&paths, Editable::Settings, &f.to_toml(), "aide").unwrap();
        let help = load(&paths).settings.help;
        assert!(help.ask_outcome);
        // The empty row of the form is dropped, the others kept in order.
        assert_eq!(help.contacts, vec![contact("France Services"), contact("Écrivain public")]);

        f.contacts = vec![crate::config::Contact { name: String::new(), ..contact("x") }];
        let p = check_settings(&paths, &f);
        assert!(p.iter().any(|m| m.contains("help.contacts.name")), "{p:?}");
        f.contacts = vec![crate::config::Contact { what: "é".repeat(121), ..contact("x") }];
        assert!(!check_settings(&paths, &f).is_empty());
        f.contacts = (0..21).map(|i| contact(&format!("Lieu {i}"))).collect();
        assert!(!check_settings(&paths, &f).is_empty());
        // Nothing of the refused forms was written.
        assert_eq!(load(&paths).settings.help.contacts.len(), 2);
    }

    #[test]
    fn the_referents_sheet_replaces_the_national_one_or_adds_one() {
        let (_d, paths) = setup();
        std::fs::write(paths.demarches(), crate::load::BUILTIN_DEMARCHES).unwrap();
        let before = load(&paths).demarches;
        let caf = before.iter().find(|d| d.id == "attestation-caf").expect("national CAF sheet").clone();
        let mut form = DemarchesForm::current(&paths, &[]);
        assert!(form.sheets.is_empty());
        form.sheets.push(DemarcheForm {
            id: caf.id.clone(),
            service: caf.service.clone(),
            title: "Attestation CAF (avec l'accueil)".into(),
            documents: vec!["Votre numéro d'allocataire".into(), "  ".into()],
            steps: vec!["Venez à l'accueil.".into(), "Ouvrez Mon Compte.".into()],
        });
        form.sheets.push(DemarcheForm {
            id: String::new(),
            service: caf.service.clone(),
            title: "Prendre rendez-vous à la CAF".into(),
            documents: vec!["Votre numéro d'allocataire".into()],
            steps: vec!["Ouvrez Mon Compte.".into(), "Choisissez Rendez-vous.".into()],
        });
        assert_eq!(check_demarches(&paths, &form), Vec::<String>::new());
        history::save(&paths, Editable::Demarches, &form.to_toml(), "fiches").unwrap();
        let after = load(&paths).demarches;
        assert_eq!(after.len(), before.len() + 1);
        let pos = |v: &[crate::catalogue::demarches::Demarche]| v.iter().position(|d| d.id == "attestation-caf");
        assert_eq!(pos(&after), pos(&before), "replaced in place");
        assert_eq!(after[pos(&after).unwrap()].title, "Attestation CAF (avec l'accueil)");
        assert_eq!(after[pos(&after).unwrap()].documents, ["Votre numéro d'allocataire"]);
        assert_eq!(after.last().unwrap().id, "prendre-rendez-vous-a-la-caf");
        let services: Vec<String> = load(&paths).effective.services.iter().map(|s| s.id.clone()).collect();
        let ids: Vec<&str> = services.iter().map(String::as_str).collect();
        assert_eq!(DemarchesForm::current(&paths, &ids).sheets.len(), 2);

        // A sheet for no tile, or with one step only, is refused in French and nothing is written.
        form.sheets[1].service = "nulle-part".into();
        form.sheets[0].steps.truncate(1);
        let p = check_demarches(&paths, &form);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(history::save(&paths, Editable::Demarches, &form.to_toml(), "x").is_err());
        assert_eq!(load(&paths).demarches.len(), before.len() + 1);
    }
}
