//! The catalogue: themes, shared host groups and services (tiles), national and local, and the
//! effective portal and allow-list they make together.
//!
//! `config/catalogue.toml` is the national catalogue, replaced by updates. The référent's choices live
//! in `local.toml` in the state directory (own tiles and themes, hidden national tiles, order, extra
//! hosts), so a national update never erases them. [`Effective::build`] joins settings, national and
//! local into what the portal shows and what the [`Policy`] allows.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;
use url::Url;

use crate::config::Settings;
use crate::diag::{check_keys, Diagnostic, Problem, Shape, Source};
use crate::host::HostRule;
use crate::policy::{AllowEntry, Decision, LoadKind, Policy};

/// Pictograms shipped in `ui/pictograms/` (a test checks each has its SVG).
pub const PICTOGRAMS: &[&str] = &[
    "famille",
    "sante",
    "identite",
    "impots",
    "emploi",
    "retraite",
    "etrangers",
    "justice",
    "quotidien",
    "aide",
    "caf",
    "maison",
    "energie",
    "carte-vitale",
    "tracteur",
    "medecin",
    "carte-identite",
    "calendrier",
    "cle",
    "smartphone",
    "enveloppe",
    "euro",
    "valise",
    "jeune",
    "passeport",
    "police",
    "balance",
    "info",
    "colis",
    "ampoule",
    "culture",
    "ecole",
    "tutoriel",
    "carte",
    "guichet",
    "aidant",
    "entraide",
    "centre",
    "lien",
];

const SERVICE_KEYS: &[(&str, Shape)] = &[
    ("id", Shape::Leaf),
    ("name", Shape::Leaf),
    ("description", Shape::Leaf),
    ("theme", Shape::Leaf),
    ("pictogram", Shape::Leaf),
    ("url", Shape::Leaf),
    ("hosts", Shape::Leaf),
    ("groups", Shape::Leaf),
    ("http_hosts", Shape::Leaf),
];
const THEME_KEYS: &[(&str, Shape)] = &[("id", Shape::Leaf), ("name", Shape::Leaf), ("pictogram", Shape::Leaf)];
const NATIONAL_KEYS: &[(&str, Shape)] = &[
    ("version", Shape::Leaf),
    ("themes", Shape::Tables(THEME_KEYS)),
    ("groups", Shape::Map(&[("description", Shape::Leaf), ("hosts", Shape::Leaf)])),
    ("services", Shape::Tables(SERVICE_KEYS)),
];
const LOCAL_KEYS: &[(&str, Shape)] = &[
    ("themes", Shape::Tables(THEME_KEYS)),
    ("services", Shape::Tables(SERVICE_KEYS)),
    ("hidden", Shape::Leaf),
    ("order", Shape::Leaf),
    ("extra_hosts", Shape::Leaf),
];

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct RawNational {
    version: Option<Spanned<i64>>,
    themes: Vec<RawTheme>,
    groups: BTreeMap<Spanned<String>, RawGroup>,
    services: Vec<RawService>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct RawLocal {
    themes: Vec<RawTheme>,
    services: Vec<RawService>,
    hidden: Vec<Spanned<String>>,
    order: Vec<Spanned<String>>,
    extra_hosts: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
struct RawTheme {
    id: Spanned<String>,
    name: Spanned<String>,
    pictogram: Spanned<String>,
}

#[derive(Debug, Deserialize)]
struct RawGroup {
    #[serde(default)]
    description: String,
    hosts: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
struct RawService {
    id: Spanned<String>,
    name: Spanned<String>,
    description: Spanned<String>,
    theme: Spanned<String>,
    pictogram: Spanned<String>,
    url: Spanned<String>,
    #[serde(default)]
    hosts: Vec<Spanned<String>>,
    #[serde(default)]
    groups: Vec<Spanned<String>>,
    #[serde(default)]
    http_hosts: Vec<Spanned<String>>,
}

/// A theme (a heading of the portal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theme {
    /// Id.
    pub id: String,
    /// Name shown.
    pub name: String,
    /// Pictogram name.
    pub pictogram: String,
}

/// A shared host group (FranceConnect and its identity providers, timbres…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// What it is for.
    pub description: String,
    /// Its rules.
    pub hosts: Vec<HostRule>,
}

/// Where a service comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The national catalogue.
    National,
    /// The référent's own tiles.
    Local,
    /// The centre's website from `borne.toml`.
    Centre,
}

/// A service: one tile and the hosts its démarche needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    /// Id (also the statistics key).
    pub id: String,
    /// Name.
    pub name: String,
    /// One plain line.
    pub description: String,
    /// Theme id.
    pub theme: String,
    /// Pictogram name.
    pub pictogram: String,
    /// Entry URL.
    pub url: Url,
    /// Own host rules.
    #[serde(skip)]
    pub hosts: Vec<HostRule>,
    /// Referenced groups.
    #[serde(skip)]
    pub groups: Vec<String>,
    /// Rules also allowed over plain http.
    #[serde(skip)]
    pub http_hosts: Vec<HostRule>,
    /// Where it comes from.
    pub origin: Origin,
}

/// The national catalogue, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct National {
    /// Version given by the federation (`version = 2026120301`; 0 when the file has none). The signed
    /// channel only applies a catalogue with a higher version than the one in force.
    pub version: u64,
    /// Themes in file order.
    pub themes: Vec<Theme>,
    /// Groups by id.
    pub groups: BTreeMap<String, Group>,
    /// Services in file order.
    pub services: Vec<Service>,
}

/// The référent's overrides, checked against a national catalogue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Local {
    /// Own or renamed themes (same id as a national theme renames it).
    pub themes: Vec<Theme>,
    /// Own tiles.
    pub services: Vec<Service>,
    /// Hidden national tiles.
    pub hidden: Vec<String>,
    /// Preferred order of tiles (ids); the others follow in catalogue order.
    pub order: Vec<String>,
    /// Extra hosts allowed for every tile.
    pub extra_hosts: Vec<HostRule>,
    /// The référent's choices set aside because they point at a tile the national catalogue no
    /// longer has (removed or renamed by an update), one French note each.
    pub set_aside: Vec<String>,
    /// Own tiles set aside because their theme left the national catalogue (their sheets and
    /// places in the order are set aside with them).
    pub set_aside_tiles: Vec<String>,
}

/// The shipped national catalogue, built into the program as the last resort.
pub const BUILTIN_CATALOGUE: &str = include_str!("../../../config/catalogue.toml");
/// The shipped "Avant de commencer" sheets, built into the program as the last resort.
pub const BUILTIN_DEMARCHES: &str = include_str!("../../../config/demarches.toml");

/// What kind of référent's choice was set aside (defined beside its French, in [`crate::messages`]).
pub use crate::messages::SetAside;

/// The `retired` entry of a national theme an update removed (tile ids are entries as they are).
pub fn retired_theme(id: &str) -> String {
    format!("theme:{id}")
}

fn parse_with<T: for<'de> Deserialize<'de>>(
    src: &Source<'_>,
    keys: &'static [(&'static str, Shape)],
) -> Result<(T, Vec<Diagnostic>), Vec<Diagnostic>> {
    let diags = check_keys(src, keys);
    if diags.iter().any(|d| matches!(d.problem, Problem::Syntax(_))) {
        return Err(diags);
    }
    match toml::from_str::<T>(src.text) {
        Ok(raw) => Ok((raw, diags)),
        Err(e) => {
            let mut diags = diags;
            diags.push(src.from_toml(&e, false));
            Err(diags)
        }
    }
}

fn check_id(src: &Source<'_>, id: &Spanned<String>, seen: &mut HashMap<String, usize>, out: &mut Vec<Diagnostic>) {
    let text = id.get_ref();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        out.push(src.at_value(id, Problem::BadId(text.clone())));
    }
    let line = src.line_col(id.span().start).0;
    if let Some(first_line) = seen.insert(text.clone(), line) {
        out.push(src.at_value(id, Problem::DuplicateId { id: text.clone(), first_line }));
        seen.insert(text.clone(), first_line);
    }
}

fn check_theme(src: &Source<'_>, t: RawTheme, seen: &mut HashMap<String, usize>, out: &mut Vec<Diagnostic>) -> Theme {
    check_id(src, &t.id, seen, out);
    if t.name.get_ref().trim().is_empty() {
        out.push(src.at_value(&t.name, Problem::Empty("name".into())));
    }
    if !PICTOGRAMS.contains(&t.pictogram.get_ref().as_str()) {
        out.push(src.at_value(&t.pictogram, Problem::UnknownPictogram(t.pictogram.get_ref().clone())));
    }
    Theme { id: t.id.into_inner(), name: t.name.into_inner().trim().into(), pictogram: t.pictogram.into_inner() }
}

fn parse_rules(src: &Source<'_>, list: &[Spanned<String>], out: &mut Vec<Diagnostic>) -> Vec<HostRule> {
    list.iter()
        .filter_map(|h| match HostRule::parse(h.get_ref()) {
            Ok(r) => Some(r),
            Err(e) => {
                out.push(src.at_value(h, Problem::Host(e)));
                None
            }
        })
        .collect()
}

struct Known<'a> {
    themes: &'a dyn Fn(&str) -> bool,
    groups: &'a BTreeMap<String, Group>,
}

fn check_service(
    src: &Source<'_>,
    s: RawService,
    origin: Origin,
    known: &Known<'_>,
    seen: &mut HashMap<String, usize>,
    out: &mut Vec<Diagnostic>,
) -> Option<Service> {
    let before = out.len();
    check_id(src, &s.id, seen, out);
    for (field, name) in [(&s.name, "name"), (&s.description, "description")] {
        if field.get_ref().trim().is_empty() {
            out.push(src.at_value(field, Problem::Empty(name.into())));
        }
    }
    if !(known.themes)(s.theme.get_ref()) {
        out.push(src.at_value(&s.theme, Problem::UnknownTheme(s.theme.get_ref().clone())));
    }
    if !PICTOGRAMS.contains(&s.pictogram.get_ref().as_str()) {
        out.push(src.at_value(&s.pictogram, Problem::UnknownPictogram(s.pictogram.get_ref().clone())));
    }
    let hosts = parse_rules(src, &s.hosts, out);
    let http_hosts = parse_rules(src, &s.http_hosts, out);
    let mut groups = Vec::new();
    for g in &s.groups {
        if known.groups.contains_key(g.get_ref()) {
            groups.push(g.get_ref().clone());
        } else {
            out.push(src.at_value(g, Problem::UnknownGroup(g.get_ref().clone())));
        }
    }
    let raw_url = s.url.get_ref().trim();
    let url = match Url::parse(raw_url) {
        Ok(u) if u.scheme() == "https" => Some(u),
        Ok(u) if u.scheme() == "http" && !http_hosts.is_empty() => Some(u),
        Ok(_) => {
            out.push(src.at_value(&s.url, Problem::NotHttps(raw_url.into())));
            None
        }
        Err(_) => {
            out.push(src.at_value(&s.url, Problem::BadUrl(raw_url.into())));
            None
        }
    };
    let url = url?;
    let own = Policy::new(service_entries(&hosts, &http_hosts, &groups, known.groups, s.id.get_ref()));
    if let Decision::Block { reason, .. } = own.decide(&url, LoadKind::Navigation) {
        out.push(src.at_value(&s.url, Problem::EntryNotCovered { url: raw_url.into(), reason: reason.to_string() }));
    }
    if out.len() > before {
        return None;
    }
    Some(Service {
        id: s.id.into_inner(),
        name: s.name.into_inner().trim().into(),
        description: s.description.into_inner().trim().into(),
        theme: s.theme.into_inner(),
        pictogram: s.pictogram.into_inner(),
        url,
        hosts,
        groups,
        http_hosts,
        origin,
    })
}

pub(crate) fn service_entries(
    hosts: &[HostRule],
    http_hosts: &[HostRule],
    groups: &[String],
    known: &BTreeMap<String, Group>,
    id: &str,
) -> Vec<AllowEntry> {
    let mut v: Vec<AllowEntry> =
        hosts.iter().map(|r| AllowEntry { rule: r.clone(), http: false, needed_by: vec![id.to_owned()] }).collect();
    v.extend(http_hosts.iter().map(|r| AllowEntry { rule: r.clone(), http: true, needed_by: vec![id.to_owned()] }));
    for g in groups {
        if let Some(group) = known.get(g) {
            v.extend(group.hosts.iter().map(|r| AllowEntry {
                rule: r.clone(),
                http: false,
                needed_by: vec![id.to_owned(), format!("group:{g}")],
            }));
        }
    }
    v
}

/// Parses and checks the national catalogue; every problem at once.
pub fn parse_national(path: &Path, text: &str) -> Result<National, Vec<Diagnostic>> {
    let src = Source { path, text };
    let (raw, mut out): (RawNational, _) = parse_with(&src, NATIONAL_KEYS)?;
    let version = match raw.version {
        Some(v) if *v.get_ref() < 0 => {
            out.push(src.at_value(&v, Problem::OutOfRange { key: "version".into(), min: 0, max: i64::MAX }));
            0
        }
        Some(v) => *v.get_ref() as u64,
        None => 0,
    };
    let mut seen = HashMap::new();
    let themes: Vec<Theme> = raw.themes.into_iter().map(|t| check_theme(&src, t, &mut seen, &mut out)).collect();
    let mut groups = BTreeMap::new();
    let mut group_ids = HashMap::new();
    for (id, g) in raw.groups {
        check_id(&src, &id, &mut group_ids, &mut out);
        let hosts = parse_rules(&src, &g.hosts, &mut out);
        groups.insert(id.into_inner(), Group { description: g.description, hosts });
    }
    let theme_ids: Vec<String> = themes.iter().map(|t| t.id.clone()).collect();
    let has_theme = |t: &str| theme_ids.iter().any(|x| x == t);
    let known = Known { themes: &has_theme, groups: &groups };
    let mut ids = HashMap::new();
    let services: Vec<Service> = raw
        .services
        .into_iter()
        .filter_map(|s| check_service(&src, s, Origin::National, &known, &mut ids, &mut out))
        .collect();
    if out.is_empty() {
        Ok(National { version, themes, groups, services })
    } else {
        Err(out)
    }
}

/// Parses and checks the référent's `local.toml` against a national catalogue.
pub fn parse_local(path: &Path, text: &str, national: &National) -> Result<Local, Vec<Diagnostic>> {
    parse_local_with(path, text, national, &[])
}

/// As [`parse_local`]; a `hidden` or `order` entry naming one of `retired` (tiles an update of the
/// national catalogue removed or renamed) is set aside with a note instead of being an error.
pub fn parse_local_with(
    path: &Path,
    text: &str,
    national: &National,
    retired: &[String],
) -> Result<Local, Vec<Diagnostic>> {
    let src = Source { path, text };
    let (raw, mut out): (RawLocal, _) = parse_with(&src, LOCAL_KEYS)?;
    let mut theme_seen = HashMap::new();
    let themes: Vec<Theme> = raw.themes.into_iter().map(|t| check_theme(&src, t, &mut theme_seen, &mut out)).collect();
    let has_theme = |t: &str| themes.iter().any(|x| x.id == t) || national.themes.iter().any(|x| x.id == t);
    let known = Known { themes: &has_theme, groups: &national.groups };
    // Own tiles may not reuse a national id: seed the "seen" map with them.
    let mut ids: HashMap<String, usize> = national.services.iter().map(|s| (s.id.clone(), 0)).collect();
    ids.insert("centre".into(), 0);
    let mut set_aside = Vec::new();
    let mut set_aside_tiles = Vec::new();
    let services: Vec<Service> = raw
        .services
        .into_iter()
        .filter(|s| {
            let theme = s.theme.get_ref();
            let gone = !has_theme(theme) && retired.contains(&retired_theme(theme));
            if gone {
                tracing::info!(tile = %s.id.get_ref(), theme = %theme, "référent's tile set aside: its theme is no longer in the catalogue");
                set_aside.push(crate::messages::set_aside_fr(SetAside::OwnTile, s.id.get_ref()));
                set_aside_tiles.push(s.id.get_ref().clone());
            }
            !gone
        })
        .filter_map(|s| check_service(&src, s, Origin::Local, &known, &mut ids, &mut out))
        .collect();
    let exists = |id: &str| {
        id == "centre" || national.services.iter().any(|s| s.id == id) || services.iter().any(|s| s.id == id)
    };
    let gone = |id: &String| retired.contains(id) || set_aside_tiles.contains(id);
    let mut ids_of = |list: Vec<Spanned<String>>, kind: SetAside, out: &mut Vec<Diagnostic>| -> Vec<String> {
        list.into_iter()
            .filter_map(|id| {
                if exists(id.get_ref()) {
                    Some(id.into_inner())
                } else if gone(id.get_ref()) {
                    tracing::info!(tile = %id.get_ref(), ?kind, "référent's choice set aside: tile no longer in the catalogue");
                    set_aside.push(crate::messages::set_aside_fr(kind, id.get_ref()));
                    None
                } else {
                    out.push(src.at_value(&id, Problem::UnknownService(id.get_ref().clone())));
                    None
                }
            })
            .collect()
    };
    let hidden = ids_of(raw.hidden, SetAside::Hidden, &mut out);
    let order = ids_of(raw.order, SetAside::Order, &mut out);
    let extra_hosts = parse_rules(&src, &raw.extra_hosts, &mut out);
    if out.is_empty() {
        Ok(Local { themes, services, hidden, order, extra_hosts, set_aside, set_aside_tiles })
    } else {
        Err(out)
    }
}

/// A tile as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tile {
    /// Service id.
    pub id: String,
    /// Name.
    pub name: String,
    /// One line.
    pub description: String,
    /// Pictogram.
    pub pictogram: String,
    /// Entry URL.
    pub url: String,
    /// Texts shown in French because no translation applies (the portal marks them `lang="fr"`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub in_french: Vec<translations::Field>,
}

/// A theme with its tiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThemeTiles {
    /// Theme id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Pictogram.
    pub pictogram: String,
    /// Tiles in order.
    pub tiles: Vec<Tile>,
    /// Texts shown in French because no translation applies (the portal marks them `lang="fr"`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub in_french: Vec<translations::Field>,
}

/// What the borne runs on: the portal's tiles and the allow-list.
#[derive(Debug, Clone)]
pub struct Effective {
    /// The centre's own tile, first on the portal.
    pub centre_tile: Option<Tile>,
    /// Themes with at least one tile, in catalogue order.
    pub themes: Vec<ThemeTiles>,
    /// Every visible service (centre tile included), in portal order.
    pub services: Vec<Service>,
    /// The allow-list.
    pub policy: Policy,
}

impl Effective {
    /// Joins settings, the national catalogue and local overrides.
    pub fn build(settings: &Settings, national: &National, local: &Local) -> Effective {
        let mut services: Vec<Service> = Vec::new();
        if let Some(url) = &settings.centre.website {
            services.push(Service {
                id: "centre".into(),
                name: settings.centre.name.clone(),
                description: crate::messages::CENTRE_TILE_FR.into(),
                theme: String::new(),
                pictogram: "centre".into(),
                url: url.clone(),
                hosts: settings.centre.website_hosts.clone(),
                groups: Vec::new(),
                http_hosts: Vec::new(),
                origin: Origin::Centre,
            });
        }
        let mut rest: Vec<Service> = national
            .services
            .iter()
            .filter(|s| !local.hidden.contains(&s.id))
            .chain(local.services.iter())
            .cloned()
            .collect();
        let rank = |id: &str| local.order.iter().position(|o| o == id).unwrap_or(usize::MAX);
        rest.sort_by_key(|s| rank(&s.id)); // stable: unordered tiles keep catalogue order
        services.extend(rest);

        let mut themes: Vec<Theme> = national.themes.clone();
        for t in &local.themes {
            match themes.iter_mut().find(|x| x.id == t.id) {
                Some(x) => *x = t.clone(),
                None => themes.push(t.clone()),
            }
        }
        let tile = |s: &Service| Tile {
            id: s.id.clone(),
            name: s.name.clone(),
            description: s.description.clone(),
            pictogram: s.pictogram.clone(),
            url: s.url.to_string(),
            in_french: Vec::new(),
        };
        let theme_tiles = themes
            .iter()
            .map(|t| ThemeTiles {
                id: t.id.clone(),
                name: t.name.clone(),
                pictogram: t.pictogram.clone(),
                tiles: services.iter().filter(|s| s.theme == t.id).map(tile).collect(),
                in_french: Vec::new(),
            })
            .filter(|t| !t.tiles.is_empty())
            .collect();
        let mut entries = Vec::new();
        for s in &services {
            entries.extend(service_entries(&s.hosts, &s.http_hosts, &s.groups, &national.groups, &s.id));
        }
        entries.extend(local.extra_hosts.iter().map(|r| AllowEntry {
            rule: r.clone(),
            http: false,
            needed_by: vec!["local:extra_hosts".into()],
        }));
        Effective {
            centre_tile: services.iter().find(|s| s.origin == Origin::Centre).map(tile),
            themes: theme_tiles,
            services,
            policy: Policy::new(entries),
        }
    }
}

/// What the portal page receives: the centre, its own tile and the tiles by theme.
#[derive(Debug, Clone, Serialize)]
pub struct PortalData {
    /// The centre.
    pub centre: crate::config::Centre,
    /// The centre's own tile.
    pub centre_tile: Option<Tile>,
    /// Themes with their tiles.
    pub themes: Vec<ThemeTiles>,
    /// Language of the portal.
    pub language: String,
    /// Languages of the language menu (French first, always there).
    pub languages: Vec<String>,
    /// "Avant de commencer" sheets of the tiles shown.
    pub demarches: Vec<demarches::Demarche>,
    /// "J'ai besoin d'aide": the help directory and whether the end-of-session question is asked.
    pub help: crate::config::HelpSettings,
    /// The structured hours, to say them again in the person's language (`centre.opening_hours`
    /// already holds their sentence).
    #[serde(skip)]
    pub hours: Option<crate::hours::HoursPlan>,
    /// « Numériser » in the toolbar and the lists of documents (a scanner is connected).
    pub scanner: bool,
}

/// The languages of the menu: French first (always there), then the offered ones.
pub fn offered_languages(settings: &Settings) -> Vec<String> {
    std::iter::once("fr".to_string()).chain(settings.languages.iter().filter(|l| *l != "fr").cloned()).collect()
}

impl PortalData {
    /// Adds the sheets of the tiles shown.
    pub fn with_demarches(mut self, sheets: &[demarches::Demarche], effective: &Effective) -> Self {
        self.demarches =
            sheets.iter().filter(|d| effective.services.iter().any(|s| s.id == d.service)).cloned().collect();
        self
    }

    /// From the settings and effective catalogue in force (French, the language every session starts
    /// in; [`PortalData::in_language`] gives it in the person's).
    pub fn new(settings: &Settings, effective: &Effective) -> Self {
        let mut centre = settings.centre.clone();
        // The portal and the help dialog show `opening_hours`: the sentence of `[hours]` when it is set.
        centre.opening_hours = settings.hours_sentence("fr");
        PortalData {
            centre,
            centre_tile: effective.centre_tile.clone(),
            themes: effective.themes.clone(),
            language: "fr".into(),
            languages: offered_languages(settings),
            demarches: Vec::new(),
            help: settings.help.clone(),
            hours: settings.hours.clone(),
            scanner: settings.printing.scanner,
        }
    }
}

pub mod demarches;
pub mod translations;

#[cfg(test)]
mod tests;
