//! The centre's settings: `borne.toml` → [`RawSettings`] (as written) → [`Settings`] (checked).
//!
//! Every key is documented in the shipped `config/borne.toml`. Loading reports every problem at once
//! (unknown keys with a suggestion, values out of range, bad URLs), each with file, line and column.
//! The Matomo token is never in this file: only the path of a token file. `Debug` redacts the PIN hash.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;
use url::Url;

use crate::diag::{check_keys, Diagnostic, Problem, Shape, Source};
use crate::host::HostRule;

/// Languages the borne has strings for (`ui/i18n/<code>.json`).
pub const KNOWN_LANGUAGES: &[&str] = &["fr", "ar", "en", "uk", "pt", "ro"];

const KEYS: &[(&str, Shape)] = &[
    (
        "centre",
        Shape::Table(&[
            ("name", Shape::Leaf),
            ("website", Shape::Leaf),
            ("website_hosts", Shape::Leaf),
            ("help_place", Shape::Leaf),
            ("opening_hours", Shape::Leaf),
        ]),
    ),
    (
        "session",
        Shape::Table(&[
            ("idle_timeout_secs", Shape::Leaf),
            ("warning_secs", Shape::Leaf),
            ("accompanied_idle_secs", Shape::Leaf),
            ("countdown_tone", Shape::Leaf),
        ]),
    ),
    ("languages", Shape::Table(&[("offered", Shape::Leaf)])),
    ("printing", Shape::Table(&[("printer", Shape::Leaf), ("page_quota", Shape::Leaf), ("scanner", Shape::Leaf)])),
    (
        "stats",
        Shape::Table(&[
            ("enabled", Shape::Leaf),
            ("matomo_url", Shape::Leaf),
            ("site_id", Shape::Leaf),
            ("token_file", Shape::Leaf),
            ("time_zone", Shape::Leaf),
        ]),
    ),
    (
        "help",
        Shape::Table(&[
            ("ask_outcome", Shape::Leaf),
            (
                "contacts",
                Shape::Tables(&[
                    ("name", Shape::Leaf),
                    ("what", Shape::Leaf),
                    ("place", Shape::Leaf),
                    ("hours", Shape::Leaf),
                    ("phone", Shape::Leaf),
                ]),
            ),
        ]),
    ),
    ("admin", Shape::Table(&[("pin_hash", Shape::Leaf)])),
    ("catalogue", Shape::Table(&[("channel_url", Shape::Leaf), ("public_keys", Shape::Leaf)])),
    ("updates", Shape::Table(&[("reboot_window", Shape::Leaf), ("url", Shape::Leaf)])),
    ("nomad", Shape::Table(&[("places", Shape::Leaf)])),
    // Its keys (French day names, any case) are checked by `crate::hours::parse_section`.
    ("hours", Shape::Leaf),
];

/// Longest text of a help contact's field, in characters.
pub const MAX_CONTACT_FIELD: usize = 120;
/// Most contacts in the help directory.
pub const MAX_CONTACTS: usize = 20;

/// `borne.toml` as written (every value spanned, for messages).
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct RawSettings {
    centre: RawCentre,
    session: RawSession,
    languages: RawLanguages,
    printing: RawPrinting,
    stats: RawStats,
    help: RawHelp,
    admin: RawAdmin,
    catalogue: RawCatalogue,
    updates: RawUpdates,
    nomad: RawNomad,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct RawNomad {
    places: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawUpdates {
    reboot_window: Spanned<String>,
    url: Spanned<String>,
}

impl Default for RawUpdates {
    fn default() -> Self {
        RawUpdates { reboot_window: Spanned::new(0..0, String::new()), url: Spanned::new(0..0, String::new()) }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawCatalogue {
    channel_url: Spanned<String>,
    public_keys: Spanned<Vec<Spanned<String>>>,
}

impl Default for RawCatalogue {
    fn default() -> Self {
        RawCatalogue { channel_url: Spanned::new(0..0, String::new()), public_keys: Spanned::new(0..0, Vec::new()) }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawHelp {
    ask_outcome: bool,
    contacts: Spanned<Vec<RawContact>>,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawContact {
    name: Spanned<String>,
    what: Spanned<String>,
    place: Spanned<String>,
    hours: Spanned<String>,
    phone: Spanned<String>,
}

impl Default for RawHelp {
    fn default() -> Self {
        RawHelp { ask_outcome: false, contacts: Spanned::new(0..0, Vec::new()) }
    }
}

impl Default for RawContact {
    fn default() -> Self {
        let e = || Spanned::new(0..0, String::new());
        RawContact { name: e(), what: e(), place: e(), hours: e(), phone: e() }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawCentre {
    name: Spanned<String>,
    website: Spanned<String>,
    website_hosts: Vec<Spanned<String>>,
    help_place: Spanned<String>,
    opening_hours: Spanned<String>,
}

impl Default for RawCentre {
    fn default() -> Self {
        RawCentre {
            name: Spanned::new(0..0, "Centre social".into()),
            website: Spanned::new(0..0, String::new()),
            website_hosts: Vec::new(),
            help_place: Spanned::new(0..0, "À l'accueil".into()),
            opening_hours: Spanned::new(0..0, String::new()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawSession {
    idle_timeout_secs: Spanned<i64>,
    warning_secs: Spanned<i64>,
    accompanied_idle_secs: Spanned<i64>,
    countdown_tone: bool,
}

impl Default for RawSession {
    fn default() -> Self {
        RawSession {
            idle_timeout_secs: Spanned::new(0..0, 300),
            warning_secs: Spanned::new(0..0, 60),
            accompanied_idle_secs: Spanned::new(0..0, i64::from(DEFAULT_ACCOMPANIED_IDLE_SECS)),
            countdown_tone: true,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawLanguages {
    offered: Vec<Spanned<String>>,
}

impl Default for RawLanguages {
    fn default() -> Self {
        RawLanguages { offered: vec![Spanned::new(0..0, "fr".into())] }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawPrinting {
    printer: String,
    page_quota: Spanned<i64>,
    scanner: bool,
}

impl Default for RawPrinting {
    fn default() -> Self {
        RawPrinting { printer: String::new(), page_quota: Spanned::new(0..0, 20), scanner: false }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct RawStats {
    enabled: bool,
    matomo_url: Spanned<String>,
    site_id: Spanned<i64>,
    token_file: String,
    time_zone: Spanned<String>,
}

impl Default for RawStats {
    fn default() -> Self {
        RawStats {
            enabled: true,
            matomo_url: Spanned::new(0..0, String::new()),
            site_id: Spanned::new(0..0, 0),
            token_file: "matomo.token".into(),
            time_zone: Spanned::new(0..0, DEFAULT_TIME_ZONE.into()),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawAdmin {
    pin_hash: String,
}

impl fmt::Debug for RawAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawAdmin").field("pin_hash", &"<redacted>").finish()
    }
}

/// The centre, as the portal and help screens show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Centre {
    /// Name shown at the top of the portal.
    pub name: String,
    /// The centre's own website, shown as the first tile.
    pub website: Option<Url>,
    /// Host rules for the centre's website (its own host included).
    #[serde(skip)]
    pub website_hosts: Vec<HostRule>,
    /// Where to find help.
    pub help_place: String,
    /// Opening hours of the accueil.
    pub opening_hours: String,
}

/// Session timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SessionSettings {
    /// Idle seconds before the warning.
    pub idle_timeout_secs: u32,
    /// Length of the countdown, in seconds.
    pub warning_secs: u32,
    /// Idle seconds before the warning in a session a médiateur marked « accompagnée »
    /// (`crate::person::Event::MarkAccompanied`): the person and the médiateur talk, look for a paper,
    /// without touching the borne. Never shorter than `idle_timeout_secs`.
    pub accompanied_idle_secs: u32,
    /// The countdown also sounds a short chime (`crate::tone`), for a person who is not looking at
    /// the screen.
    pub countdown_tone: bool,
}

impl SessionSettings {
    /// The timings of an accompanied session: the idle limit is `accompanied_idle_secs`.
    pub fn accompanied(self) -> SessionSettings {
        SessionSettings { idle_timeout_secs: self.accompanied_idle_secs.max(self.idle_timeout_secs), ..self }
    }
}

/// The idle limit of an accompanied session when `borne.toml` says none: 30 minutes.
pub const DEFAULT_ACCOMPANIED_IDLE_SECS: u32 = 1800;
/// The longest idle limit of an accompanied session: 4 hours.
pub const MAX_ACCOMPANIED_IDLE_SECS: u32 = 4 * 3600;

/// A nomad borne's places (`[nomad]`): empty for a borne that stays in its centre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct NomadSettings {
    /// The places, in the référent's order, each with its code ([`crate::nomad::place_code`]).
    pub places: Vec<crate::nomad::Place>,
}

impl NomadSettings {
    /// The borne goes from place to place.
    pub fn is_nomad(&self) -> bool {
        !self.places.is_empty()
    }
}

/// Printing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Printing {
    /// CUPS queue (`None`: the system default).
    pub printer: Option<String>,
    /// Pages per session.
    pub page_quota: u32,
    /// « Numériser » in the toolbar and in the lists of documents: a scanner is connected (USB, or
    /// driverless on the network).
    pub scanner: bool,
}

/// Where statistics go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatsSettings {
    /// Counting enabled (locally, and pushed when Matomo is configured).
    pub enabled: bool,
    /// The federation's Matomo.
    pub matomo_url: Option<Url>,
    /// This borne's Matomo site.
    pub site_id: u32,
    /// Path of the token file (relative paths are under the state directory).
    pub token_file: PathBuf,
    /// The centre's time zone (a tz database name): the days Matomo counts in (`bornectl provision` creates the
    /// site with it).
    pub time_zone: String,
}

/// The time zone of a centre that says none.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Paris";

/// One entry of the help directory the référent keeps ("France Services", "écrivain public"…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Contact {
    /// Who (required).
    pub name: String,
    /// What they help with.
    pub what: String,
    /// Where.
    pub place: String,
    /// When.
    pub hours: String,
    /// Telephone number, as written.
    pub phone: String,
}

/// "J'ai besoin d'aide" and the end-of-session question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct HelpSettings {
    /// Ask "Avez-vous pu faire votre démarche ?" at the end of a session (off by default).
    pub ask_outcome: bool,
    /// The local help directory.
    pub contacts: Vec<Contact>,
}

/// The federation's signed catalogue channel (`[catalogue]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct CatalogueSettings {
    /// Folder where the federation publishes `catalogue.toml`, `demarches.toml` and their `.minisig`
    /// (`None`: no channel, the shipped catalogue only).
    pub channel_url: Option<Url>,
    /// The federation's minisign public keys (base64, one or two: two during a key rotation).
    pub public_keys: Vec<String>,
}

/// The system's A/B updates (`[updates]`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateSettings {
    /// When the borne may restart by itself into a new version that waits (local time).
    pub reboot_window: crate::updates::RebootWindow,
    /// The signed bundle's address (`crate::updates::parse_update_url`), over the setup's and the
    /// image's: the image's updater reads it from the kiosk's files (`update-lib.sh`, `update_url`).
    pub url: Option<Url>,
}

impl Serialize for UpdateSettings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("UpdateSettings", 2)?;
        st.serialize_field("reboot_window", &self.reboot_window.to_string())?;
        st.serialize_field("url", &self.url.as_ref().map(Url::as_str))?;
        st.end()
    }
}

/// Checked settings.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// The centre.
    pub centre: Centre,
    /// Session timing.
    pub session: SessionSettings,
    /// Languages offered, French first.
    pub languages: Vec<String>,
    /// Printing.
    pub printing: Printing,
    /// Statistics.
    pub stats: StatsSettings,
    /// Help screens.
    pub help: HelpSettings,
    /// The signed catalogue channel.
    pub catalogue: CatalogueSettings,
    /// The system's A/B updates.
    pub updates: UpdateSettings,
    /// A nomad borne's places.
    pub nomad: NomadSettings,
    /// argon2 hash of the référent PIN, if set here (the state directory's own hash wins).
    #[serde(skip)]
    pub pin_hash: Option<String>,
    /// The structured opening hours (`[hours]`): `None` when absent or no day opens, and the borne
    /// behaves as before (no closed screen, `centre.opening_hours` shown as written).
    #[serde(skip)]
    pub hours: Option<crate::hours::HoursPlan>,
    /// Remarks that do not stop the settings from loading (`bornectl check-config` and the admin
    /// screens show them): `[centre] opening_hours` no longer shown because `[hours]` is there.
    #[serde(skip)]
    pub notes: Vec<Diagnostic>,
}

impl Settings {
    /// The opening hours as the portal, the help dialog and the kit say them in `lang`: the
    /// sentence of `[hours]` when it is there, else `[centre] opening_hours` as written (French).
    pub fn hours_sentence(&self, lang: &str) -> String {
        match &self.hours {
            Some(plan) => plan.sentence(lang),
            None => self.centre.opening_hours.clone(),
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("centre", &self.centre)
            .field("session", &self.session)
            .field("languages", &self.languages)
            .field("printing", &self.printing)
            .field("stats", &self.stats)
            .field("help", &self.help)
            .field("catalogue", &self.catalogue)
            .field("updates", &self.updates)
            .field("pin_hash", &self.pin_hash.as_ref().map(|_| "<redacted>"))
            .field("hours", &self.hours)
            .field("notes", &self.notes)
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        let src = Source { path: Path::new("borne.toml"), text: "" };
        check(&src, RawSettings::default()).expect("the built-in defaults are valid")
    }
}

/// Parses and checks `borne.toml`; every problem is returned at once.
pub fn parse_settings(path: &Path, text: &str) -> Result<Settings, Vec<Diagnostic>> {
    let src = Source { path, text };
    let mut diags = check_keys(&src, KEYS);
    if diags.iter().any(|d| matches!(d.problem, Problem::Syntax(_))) {
        return Err(diags);
    }
    let raw: RawSettings = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            diags.push(src.from_toml(&e, false));
            return Err(diags);
        }
    };
    match check(&src, raw) {
        Ok(s) if diags.is_empty() => Ok(s),
        Ok(_) => Err(diags),
        Err(mut more) => {
            diags.append(&mut more);
            Err(diags)
        }
    }
}

fn range(src: &Source<'_>, v: &Spanned<i64>, key: &str, min: i64, max: i64, out: &mut Vec<Diagnostic>) -> u32 {
    let n = *v.get_ref();
    if n < min || n > max {
        out.push(src.at_value(v, Problem::OutOfRange { key: key.into(), min, max }));
        return min as u32;
    }
    n as u32
}

fn check(src: &Source<'_>, raw: RawSettings) -> Result<Settings, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let c = raw.centre;
    if c.name.get_ref().trim().is_empty() {
        out.push(src.at_value(&c.name, Problem::Empty("centre.name".into())));
    }
    let mut website = None;
    let mut website_hosts = Vec::new();
    let site = c.website.get_ref().trim();
    if !site.is_empty() {
        match Url::parse(site) {
            Ok(u) if u.scheme() == "https" => {
                match u.host_str().map(HostRule::parse) {
                    Some(Ok(rule)) => website_hosts.push(rule),
                    Some(Err(e)) => out.push(src.at_value(&c.website, Problem::Host(e))),
                    None => out.push(src.at_value(&c.website, Problem::BadUrl(site.into()))),
                }
                website = Some(u);
            }
            Ok(_) => out.push(src.at_value(&c.website, Problem::NotHttps(site.into()))),
            Err(_) => out.push(src.at_value(&c.website, Problem::BadUrl(site.into()))),
        }
    }
    for h in &c.website_hosts {
        match HostRule::parse(h.get_ref()) {
            Ok(r) => website_hosts.push(r),
            Err(e) => out.push(src.at_value(h, Problem::Host(e))),
        }
    }
    let s = raw.session;
    let idle = range(src, &s.idle_timeout_secs, "session.idle_timeout_secs", 30, 3600, &mut out);
    let warning = range(src, &s.warning_secs, "session.warning_secs", 10, 300, &mut out);
    let mut notes = Vec::new();
    let accompanied = check_accompanied_idle(src, &s.accompanied_idle_secs, idle, &mut out, &mut notes);

    let mut languages = vec!["fr".to_string()];
    for l in &raw.languages.offered {
        let code = l.get_ref().trim().to_ascii_lowercase();
        if !KNOWN_LANGUAGES.contains(&code.as_str()) {
            out.push(src.at_value(l, Problem::UnknownLanguage(l.get_ref().clone())));
        } else if !languages.contains(&code) {
            languages.push(code);
        }
    }
    let quota = range(src, &raw.printing.page_quota, "printing.page_quota", 0, 500, &mut out);
    let st = raw.stats;
    let mut matomo_url = None;
    let m = st.matomo_url.get_ref().trim();
    if !m.is_empty() {
        match Url::parse(m) {
            Ok(u) if u.scheme() == "https" || (u.scheme() == "http" && is_loopback(&u)) => matomo_url = Some(u),
            Ok(_) => out.push(src.at_value(&st.matomo_url, Problem::NotHttps(m.into()))),
            Err(_) => out.push(src.at_value(&st.matomo_url, Problem::BadUrl(m.into()))),
        }
    }
    let site_id = range(src, &st.site_id, "stats.site_id", 0, i64::from(u32::MAX), &mut out);
    let time_zone = match st.time_zone.get_ref().trim() {
        "" => DEFAULT_TIME_ZONE.to_string(),
        // A name of the tz database only (`Indian/Reunion`), as Matomo's `addSite` takes it.
        name if name.contains('/') && jiff::tz::TimeZone::get(name).is_ok() => name.to_string(),
        name => {
            out.push(src.at_value(&st.time_zone, Problem::UnknownTimeZone(name.to_string())));
            String::new()
        }
    };
    let hours = crate::hours::parse_section(src, &time_zone, &mut out);
    // Both written: `[hours]` is shown; a different free text gets a note (the same sentence, as the
    // shipped file has, is fine).
    let text = c.opening_hours.get_ref().trim();
    if hours.as_ref().is_some_and(|h| !text.is_empty() && text != h.sentence("fr")) {
        notes.push(crate::hours::text_ignored(src, &c.opening_hours));
    }
    let help = check_help(src, raw.help, &mut out);
    let nomad = check_nomad(src, raw.nomad, &mut out);
    let catalogue = check_catalogue(src, raw.catalogue, &mut out);
    let w = raw.updates.reboot_window.get_ref().trim();
    let reboot_window = if w.is_empty() {
        crate::updates::DEFAULT_REBOOT_WINDOW
    } else {
        crate::updates::RebootWindow::parse(w).unwrap_or_else(|| {
            out.push(src.at_value(&raw.updates.reboot_window, Problem::BadTimeRange(w.into())));
            crate::updates::DEFAULT_REBOOT_WINDOW
        })
    };
    let u = raw.updates.url.get_ref();
    let update_url = if u.trim().is_empty() {
        None
    } else {
        crate::updates::parse_update_url(u)
            .map_err(|why| out.push(src.at_value(&raw.updates.url, Problem::BadUpdateUrl { url: u.clone(), why })))
            .ok()
    };
    if !out.is_empty() {
        return Err(out);
    }
    let printer = Some(raw.printing.printer.trim().to_owned()).filter(|p| !p.is_empty());
    let pin_hash = Some(raw.admin.pin_hash.trim().to_owned()).filter(|p| !p.is_empty());
    Ok(Settings {
        centre: Centre {
            name: c.name.into_inner().trim().to_owned(),
            website,
            website_hosts,
            help_place: c.help_place.into_inner().trim().to_owned(),
            opening_hours: c.opening_hours.into_inner().trim().to_owned(),
        },
        session: SessionSettings {
            idle_timeout_secs: idle,
            warning_secs: warning,
            accompanied_idle_secs: accompanied,
            countdown_tone: s.countdown_tone,
        },
        languages,
        printing: Printing { printer, page_quota: quota, scanner: raw.printing.scanner },
        stats: StatsSettings {
            enabled: st.enabled,
            matomo_url,
            site_id,
            token_file: PathBuf::from(if st.token_file.trim().is_empty() {
                "matomo.token"
            } else {
                st.token_file.trim()
            }),
            time_zone,
        },
        help,
        catalogue,
        updates: UpdateSettings { reboot_window, url: update_url },
        nomad,
        pin_hash,
        hours,
        notes,
    })
}

/// `[session] accompanied_idle_secs`: one minute to four hours. Below the ordinary idle limit it is a
/// note, not an error (the ordinary limit applies, [`SessionSettings::accompanied`]): a référent who
/// lengthens `idle_timeout_secs` on the admin screen never breaks the settings with it.
fn check_accompanied_idle(
    src: &Source<'_>,
    v: &Spanned<i64>,
    idle: u32,
    out: &mut Vec<Diagnostic>,
    notes: &mut Vec<Diagnostic>,
) -> u32 {
    let key = "session.accompanied_idle_secs";
    let n = *v.get_ref();
    let max = i64::from(MAX_ACCOMPANIED_IDLE_SECS);
    if !(60..=max).contains(&n) {
        out.push(src.at_value(v, Problem::OutOfRange { key: key.into(), min: 60, max }));
        return DEFAULT_ACCOMPANIED_IDLE_SECS;
    }
    if n < i64::from(idle) {
        notes.push(src.at_value(
            v,
            Problem::ShorterThan {
                key: key.into(),
                value: n,
                other: "session.idle_timeout_secs".into(),
                other_value: i64::from(idle),
            },
        ));
    }
    n as u32
}

/// `[nomad] places`: names, each one making a code, no two with the same code, at most
/// [`crate::nomad::MAX_PLACES`] of them, none longer than [`crate::nomad::MAX_PLACE_NAME`].
fn check_nomad(src: &Source<'_>, raw: RawNomad, out: &mut Vec<Diagnostic>) -> NomadSettings {
    use crate::nomad::{Place, MAX_PLACES, MAX_PLACE_NAME};
    let key = "nomad.places";
    if raw.places.len() > MAX_PLACES {
        if let Some(first) = raw.places.get(MAX_PLACES) {
            out.push(src.at_value(first, Problem::OutOfRange { key: key.into(), min: 0, max: MAX_PLACES as i64 }));
        }
    }
    let mut places: Vec<(Place, usize)> = Vec::new();
    for v in &raw.places {
        let name = v.get_ref().trim();
        if name.is_empty() {
            out.push(src.at_value(v, Problem::Empty(key.into())));
            continue;
        }
        if name.chars().count() > MAX_PLACE_NAME {
            out.push(src.at_value(v, Problem::TooLong { key: key.into(), max: MAX_PLACE_NAME }));
            continue;
        }
        let Some(place) = Place::of(name) else {
            out.push(src.at_value(v, Problem::PlaceWithoutCode(name.into())));
            continue;
        };
        let line = src.line_col(v.span().start).0;
        if let Some((first, first_line)) = places.iter().find(|(p, _)| p.code == place.code) {
            out.push(src.at_value(
                v,
                Problem::PlaceTwice { name: name.into(), first: first.name.clone(), first_line: *first_line },
            ));
            continue;
        }
        places.push((place, line));
    }
    NomadSettings { places: places.into_iter().map(|(p, _)| p).collect() }
}

/// Most public keys at once (the one in use and the next, during a rotation).
pub const MAX_PUBLIC_KEYS: usize = 2;

fn check_catalogue(src: &Source<'_>, raw: RawCatalogue, out: &mut Vec<Diagnostic>) -> CatalogueSettings {
    let mut channel_url = None;
    let u = raw.channel_url.get_ref().trim();
    if !u.is_empty() {
        match Url::parse(u) {
            Ok(url) if url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url)) => {
                channel_url = Some(url)
            }
            Ok(_) => out.push(src.at_value(&raw.channel_url, Problem::NotHttps(u.into()))),
            Err(_) => out.push(src.at_value(&raw.channel_url, Problem::BadUrl(u.into()))),
        }
    }
    let keys = raw.public_keys.get_ref();
    if keys.len() > MAX_PUBLIC_KEYS {
        out.push(src.at_value(
            &raw.public_keys,
            Problem::OutOfRange { key: "catalogue.public_keys".into(), min: 1, max: MAX_PUBLIC_KEYS as i64 },
        ));
    }
    let mut public_keys = Vec::new();
    for k in keys {
        match crate::signature::FederationKey::parse(k.get_ref()) {
            Ok(key) => public_keys.push(key.base64().to_string()),
            Err(_) => out.push(src.at_value(k, Problem::PublicKey(k.get_ref().chars().take(60).collect()))),
        }
    }
    if !u.is_empty() && keys.is_empty() {
        out.push(src.at_value(&raw.channel_url, Problem::Empty("catalogue.public_keys".into())));
    }
    CatalogueSettings { channel_url, public_keys }
}

fn check_help(src: &Source<'_>, raw: RawHelp, out: &mut Vec<Diagnostic>) -> HelpSettings {
    if raw.contacts.get_ref().len() > MAX_CONTACTS {
        out.push(src.at_value(
            &raw.contacts,
            Problem::OutOfRange { key: "help.contacts".into(), min: 0, max: MAX_CONTACTS as i64 },
        ));
    }
    let mut contacts = Vec::new();
    for c in raw.contacts.into_inner() {
        if c.name.get_ref().trim().is_empty() {
            out.push(src.at_value(&c.name, Problem::Empty("help.contacts.name".into())));
        }
        for (key, v) in
            [("name", &c.name), ("what", &c.what), ("place", &c.place), ("hours", &c.hours), ("phone", &c.phone)]
        {
            if v.get_ref().trim().chars().count() > MAX_CONTACT_FIELD {
                out.push(
                    src.at_value(v, Problem::TooLong { key: format!("help.contacts.{key}"), max: MAX_CONTACT_FIELD }),
                );
            }
        }
        let t = |v: Spanned<String>| v.into_inner().split_whitespace().collect::<Vec<_>>().join(" ");
        contacts.push(Contact {
            name: t(c.name),
            what: t(c.what),
            place: t(c.place),
            hours: t(c.hours),
            phone: t(c.phone),
        });
    }
    HelpSettings { ask_outcome: raw.ask_outcome, contacts }
}

/// Plain http to Matomo is only accepted on loopback (the test stand-in).
fn is_loopback(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, Vec<Diagnostic>> {
        parse_settings(Path::new("borne.toml"), text)
    }

    #[test]
    fn empty_file_gives_working_defaults() {
        let s = parse("").unwrap();
        assert_eq!(s.session.idle_timeout_secs, 300);
        assert_eq!(s.session.warning_secs, 60);
        assert_eq!(s.languages, vec!["fr"]);
        assert_eq!(s.printing.page_quota, 20);
        assert!(s.centre.website.is_none());
    }

    #[test]
    fn website_becomes_a_host_rule() {
        let s = parse("[centre]\nwebsite = \"https://www.centre-lilas.fr/accueil\"\n").unwrap();
        assert_eq!(s.centre.website_hosts, vec![HostRule::Exact("www.centre-lilas.fr".into())]);
    }

    #[test]
    fn collects_every_problem_with_lines() {
        let text = "[centre]\nname = \"\"\nwebsite = \"http://x.fr\"\n[session]\nidle_timout_secs = 3\nwarning_secs = 5\n[languages]\noffered = [\"fr\", \"klingon\"]\n";
        let errs = parse(text).unwrap_err();
        let lines: Vec<usize> = errs.iter().map(|d| d.line).collect();
        assert!(errs.iter().any(|d| d.problem
            == Problem::UnknownKey { key: "idle_timout_secs".into(), suggestion: Some("idle_timeout_secs".into()) }));
        assert!(
            lines.contains(&2) && lines.contains(&3) && lines.contains(&5) && lines.contains(&6) && lines.contains(&8),
            "{errs:?}"
        );
    }

    #[test]
    fn the_update_reboot_window_is_a_time_range_and_defaults_to_the_night() {
        assert_eq!(parse("").unwrap().updates.reboot_window.to_string(), "02:00-05:00");
        let s = parse("[updates]\nreboot_window = \"22:30-06:00\"\n").unwrap();
        assert_eq!(s.updates.reboot_window.to_string(), "22:30-06:00");
        let errs = parse("[updates]\nreboot_window = \"la nuit\"\n").unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!((errs[0].line, &errs[0].problem), (2, &Problem::BadTimeRange("la nuit".into())));
        assert!(errs[0].french().contains("02:00-05:00"), "{}", errs[0].french());
    }

    #[test]
    fn the_update_address_is_checked_where_it_is_written() {
        assert_eq!(parse("").unwrap().updates.url, None);
        let s = parse("[updates]\nurl = \"https://maj.federation.example/borne/borne.raucb\"\n").unwrap();
        assert_eq!(s.updates.url.unwrap().as_str(), "https://maj.federation.example/borne/borne.raucb");
        let errs =
            parse("[updates]\nreboot_window = \"02:00-05:00\"\nurl = \"http://maj.example/b.raucb\"\n").unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].line, 3);
        assert!(
            matches!(&errs[0].problem, Problem::BadUpdateUrl { why: crate::updates::UpdateUrlError::NotHttps, .. }),
            "{errs:?}"
        );
        assert!(errs[0].french().contains("https://"), "{}", errs[0].french());
        assert!(errs[0].to_string().contains("must use https"), "the English cause for the log: {}", errs[0]);
    }

    #[test]
    fn the_time_zone_is_a_tz_database_name_and_defaults_to_paris() {
        assert_eq!(parse("").unwrap().stats.time_zone, "Europe/Paris");
        let s = parse("[stats]\ntime_zone = \"Indian/Reunion\"\n").unwrap();
        assert_eq!(s.stats.time_zone, "Indian/Reunion");
        for bad in ["Paris", "Europe/Lutece", "UTC+4"] {
            let errs = parse(&format!("[stats]\ntime_zone = \"{bad}\"\n")).unwrap_err();
            assert_eq!(errs.len(), 1, "{bad}");
            assert!(matches!(&errs[0].problem, Problem::UnknownTimeZone(z) if z == bad), "{errs:?}");
            assert_eq!(errs[0].line, 2);
            assert!(errs[0].french().contains("Indian/Reunion"));
        }
    }

    #[test]
    fn wrong_type_is_located() {
        let errs = parse("[session]\nidle_timeout_secs = \"cinq\"\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 2);
        assert!(matches!(errs[0].problem, Problem::Type(_)));
    }

    #[test]
    fn shipped_file_documents_every_key() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/borne.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        parse_settings(&path, &text).unwrap();
        for (table, shape) in KEYS {
            assert!(text.contains(&format!("[{table}]")), "[{table}] missing");
            let Shape::Table(keys) = shape else { continue };
            for (key, _) in *keys {
                let line = text.lines().position(|l| l.starts_with(&format!("{key} =")));
                let line = line.unwrap_or_else(|| panic!("{table}.{key} is not in the shipped file"));
                let comment_above =
                    text.lines().nth(line.saturating_sub(1)).unwrap_or("").trim_start().starts_with('#');
                let comment_beside = text.lines().nth(line).unwrap_or("").contains('#');
                assert!(comment_above || comment_beside, "{table}.{key} has no comment");
            }
        }
    }

    #[test]
    fn the_accompanied_idle_limit_defaults_to_half_an_hour_and_is_never_below_the_ordinary_one() {
        let s = parse("").unwrap();
        assert_eq!(s.session.accompanied_idle_secs, 1800);
        assert_eq!(s.session.accompanied().idle_timeout_secs, 1800);
        assert_eq!(s.session.accompanied().warning_secs, s.session.warning_secs);
        let s = parse("[session]\naccompanied_idle_secs = 3600\n").unwrap();
        assert_eq!(s.session.accompanied_idle_secs, 3600);
        // Shorter than the ordinary limit: a note (located, in French, the English cause for the log),
        // and the ordinary limit applies to accompanied sessions.
        let s = parse("[session]\nidle_timeout_secs = 900\naccompanied_idle_secs = 600\n").unwrap();
        assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
        let n = &s.notes[0];
        assert_eq!(n.line, 3);
        assert!(matches!(&n.problem, Problem::ShorterThan { value: 600, other_value: 900, .. }), "{n:?}");
        assert!(n.french().contains("entre 900 et 14400"), "{}", n.french());
        assert!(n.to_string().contains("is shorter than `session.idle_timeout_secs`"), "{n}");
        assert_eq!(s.session.accompanied().idle_timeout_secs, 900);
        // The référent lengthens the ordinary limit past the shipped accompanied one: still valid.
        assert!(parse("[session]\nidle_timeout_secs = 3600\n").unwrap().notes.len() == 1);
        for bad in ["10", "20000", "-5"] {
            let errs = parse(&format!("[session]\naccompanied_idle_secs = {bad}\n")).unwrap_err();
            assert_eq!(errs.len(), 1, "{bad}: {errs:?}");
            assert!(
                matches!(&errs[0].problem, Problem::OutOfRange { key, min: 60, max: 14400 } if key == "session.accompanied_idle_secs"),
                "{errs:?}"
            );
            assert!(errs[0].french().contains("entre 60 et 14400"), "{}", errs[0].french());
            assert!(errs[0].to_string().contains("must be between 60 and 14400"), "{}", errs[0]);
        }
        let errs = parse("[session]\naccompanied_idle_secs = \"une heure\"\n").unwrap_err();
        assert!(matches!(errs[0].problem, Problem::Type(_)), "{errs:?}");
    }

    #[test]
    fn nomad_places_get_codes_and_are_checked_where_they_are_written() {
        let s = parse("").unwrap();
        assert!(!s.nomad.is_nomad());
        let s = parse("[nomad]\nplaces = [\"Médiathèque\", \" Marché  couvert \"]\n").unwrap();
        let got: Vec<(&str, &str)> = s.nomad.places.iter().map(|p| (p.name.as_str(), p.code.as_str())).collect();
        assert_eq!(got, [("Médiathèque", "mediatheque"), ("Marché couvert", "marche-couvert")]);
        let text =
            "[nomad]\nplaces = [\n  \"Marché couvert\",\n  \"\",\n  \"MARCHE COUVERT\",\n  \"مكتبة\",\n  \"%s\",\n]\n"
                .replace("%s", &"x".repeat(61));
        let errs = parse(&text).unwrap_err();
        let got: Vec<(usize, &Problem)> = errs.iter().map(|d| (d.line, &d.problem)).collect();
        assert_eq!(got.len(), 4, "{errs:?}");
        assert!(matches!(got[0], (4, Problem::Empty(k)) if k == "nomad.places"), "{got:?}");
        assert!(
            matches!(got[1], (5, Problem::PlaceTwice { first, first_line: 3, .. }) if first == "Marché couvert"),
            "{got:?}"
        );
        assert!(matches!(got[2], (6, Problem::PlaceWithoutCode(_))), "{got:?}");
        assert!(matches!(got[3], (7, Problem::TooLong { max: 60, .. })), "{got:?}");
        assert!(errs[1].french().contains("est le même que « Marché couvert » (ligne 3)"), "{}", errs[1].french());
        let many: Vec<String> = (0..31).map(|i| format!("\"Lieu {i}\"")).collect();
        let errs = parse(&format!("[nomad]\nplaces = [{}]\n", many.join(", "))).unwrap_err();
        assert!(matches!(&errs[0].problem, Problem::OutOfRange { max: 30, .. }), "{errs:?}");
        let errs = parse("[nomad]\nlieux = []\n").unwrap_err();
        assert!(matches!(&errs[0].problem, Problem::UnknownKey { .. }), "{errs:?}");
    }

    #[test]
    fn debug_redacts_the_pin_hash() {
        let s = parse("[admin]\npin_hash = \"$argon2id$v=19$secret\"\n").unwrap();
        assert!(s.pin_hash.is_some());
        assert!(!format!("{s:?}").contains("secret"));
    }
}
