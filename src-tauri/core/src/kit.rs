//! The centre's communication kit, as plain data: what goes on the A4 poster, the A5 flyer and the
//! booklet of "Avant de commencer" sheets. Everything is decided here from the settings and the
//! effective portal, the very [`PortalData`] the kiosk shows (in French, and in one more offered
//! language through [`PortalData::in_language`]): the tiles by theme with their pictograms, the
//! opening hours, « Demandez à l'accueil », which language comes second, which texts are printed
//! twice and which once (a référent's own tile has no translation: it is printed in French only).
//!
//! Nothing here draws: the `borne-kit` crate lays this out on paper with pango and cairo, for
//! `bornectl kit` and the admin screen's « Imprimer l'affiche ». The fixed texts of the kit are in
//! `config/i18n/kit.toml`, one table per language, built into the program.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::catalogue::{offered_languages, PortalData};
use crate::config::Settings;
use crate::load::Loaded;

/// The kit's fixed texts in every language the borne may offer.
pub const KIT_TEXTS: &str = include_str!("../../../config/i18n/kit.toml");

/// The fixed texts of the kit in one language.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KitTexts {
    /// The poster's title line.
    pub headline: String,
    /// Above the tiles.
    pub services: String,
    /// Label of the opening hours.
    pub hours: String,
    /// Label of the place where to ask.
    pub place: String,
    /// « Demandez à l'accueil ».
    pub ask: String,
    /// One sentence under it.
    pub helper: String,
    /// The booklet's title.
    pub booklet_title: String,
    /// The booklet's first line.
    pub booklet_intro: String,
    /// A sheet's "what to have at hand" heading.
    pub documents: String,
    /// A sheet's "steps" heading.
    pub steps: String,
}

/// Why the kit cannot be made as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KitError {
    /// The language asked for is not one the borne offers (the poster would promise a language the
    /// borne does not show).
    #[error("language `{lang}` is not offered by this borne (offered: {offered:?})")]
    NotOffered {
        /// The language asked for.
        lang: String,
        /// The languages the settings offer.
        offered: Vec<String>,
    },
}

impl KitError {
    /// Stable code for the admin page (`admin.kit.error.<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            KitError::NotOffered { .. } => "not-offered",
        }
    }

    /// The French text for `bornectl`.
    pub fn french(&self) -> String {
        match self {
            KitError::NotOffered { lang, offered } => crate::messages::kit_language_not_offered_fr(lang, offered),
        }
    }
}

/// The shipped kit texts by language (read once; tested).
fn all_texts() -> &'static BTreeMap<String, KitTexts> {
    static TEXTS: OnceLock<BTreeMap<String, KitTexts>> = OnceLock::new();
    TEXTS.get_or_init(|| {
        toml::from_str(KIT_TEXTS).unwrap_or_else(|e| {
            tracing::error!(error = %e, "config/i18n/kit.toml unreadable; the kit is in French");
            BTreeMap::new()
        })
    })
}

/// The kit's texts in `lang`, French when the language has none.
pub fn texts(lang: &str) -> KitTexts {
    let all = all_texts();
    all.get(lang).or_else(|| all.get("fr")).cloned().unwrap_or_else(|| KitTexts {
        headline: "Vos démarches en ligne, ici, sur la borne".into(),
        services: "Les services de la borne".into(),
        hours: "Horaires de l'accueil".into(),
        place: "Où demander".into(),
        ask: "Demandez à l'accueil".into(),
        helper: "Une personne du centre peut vous aider.".into(),
        booklet_title: "Avant de commencer".into(),
        booklet_intro: "Pour chaque démarche : ce qu'il faut préparer et les étapes.".into(),
        documents: "À préparer".into(),
        steps: "Les étapes".into(),
    })
}

/// The language printed beside French: the one asked for when the borne offers it, French alone
/// for `fr`, and without a request the first offered language after French (none when French is the
/// only one).
pub fn second_language(settings: &Settings, requested: Option<&str>) -> Result<Option<String>, KitError> {
    let offered = offered_languages(settings);
    match requested.map(str::trim).filter(|l| !l.is_empty()) {
        Some("fr") => Ok(None),
        Some(l) if offered.iter().any(|o| o == l) => Ok(Some(l.to_string())),
        Some(l) => Err(KitError::NotOffered { lang: l.to_string(), offered }),
        None => Ok(offered.into_iter().find(|l| l != "fr")),
    }
}

/// A text in French and, when it differs, in the second language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bilingual {
    /// French.
    pub fr: String,
    /// The second language's text; `None` when there is no second language or no translation
    /// (the text is then printed once, in French).
    pub other: Option<String>,
}

impl Bilingual {
    fn new(fr: &str, other: Option<&str>) -> Self {
        Bilingual { fr: fr.to_string(), other: other.filter(|o| *o != fr).map(str::to_string) }
    }
}

/// A tile on the poster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitTile {
    /// Service id.
    pub id: String,
    /// Pictogram name (`ui/pictograms/<name>.svg`).
    pub pictogram: String,
    /// Name.
    pub name: Bilingual,
    /// One line.
    pub description: Bilingual,
}

/// A theme with its tiles, in the portal's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitTheme {
    /// Theme id (`centre` for the centre's own website).
    pub id: String,
    /// Pictogram name.
    pub pictogram: String,
    /// Name.
    pub name: Bilingual,
    /// Tiles.
    pub tiles: Vec<KitTile>,
}

/// One "Avant de commencer" sheet in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitSheet {
    /// Sheet id.
    pub id: String,
    /// Language of its texts (a sheet with no translation is French, and given once).
    pub language: String,
    /// The tile it belongs to, named in that language.
    pub tile: String,
    /// Title.
    pub title: String,
    /// What to have at hand.
    pub documents: Vec<String>,
    /// Steps, in order.
    pub steps: Vec<String>,
}

/// Everything the kit says, in French and in the second language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kit {
    /// The centre's name.
    pub centre: String,
    /// The second language, if any.
    pub second: Option<String>,
    /// Fixed texts in French.
    pub fr: KitTexts,
    /// Fixed texts in the second language.
    pub other: Option<KitTexts>,
    /// The tiles by theme (the centre's website first when it has one).
    pub themes: Vec<KitTheme>,
    /// Opening hours: the sentence of `[hours]`, else `opening_hours` as the référent wrote it.
    pub hours: String,
    /// The sentence of `[hours]` in the second language (`None` for the référent's free text,
    /// which is French only; `borne-kit` does not print it yet).
    pub hours_other: Option<String>,
    /// Where to ask, as the référent wrote it.
    pub place: String,
    /// The sheets of the tiles shown: each in French, followed by its translation when it has one.
    pub sheets: Vec<KitSheet>,
}

impl Kit {
    /// The kit of the portal in force (`loaded`, as `load::load` gives it) with `second` beside
    /// French (see [`second_language`]).
    pub fn of_loaded(loaded: &Loaded, second: Option<&str>) -> Kit {
        let fr =
            PortalData::new(&loaded.settings, &loaded.effective).with_demarches(&loaded.demarches, &loaded.effective);
        let other = second.map(|l| fr.clone().in_language(l)).filter(|o| o.language != "fr");
        Kit::new(&fr, other.as_ref())
    }

    /// The kit of a portal in French and, optionally, the same portal in another language.
    pub fn new(fr: &PortalData, other: Option<&PortalData>) -> Kit {
        let theme_other = |id: &str| other.and_then(|o| o.themes.iter().find(|t| t.id == id));
        let tile_other = |id: &str| {
            other.and_then(|o| {
                o.centre_tile.iter().chain(o.themes.iter().flat_map(|t| t.tiles.iter())).find(|t| t.id == id)
            })
        };
        let tile = |t: &crate::catalogue::Tile| {
            let o = tile_other(&t.id);
            KitTile {
                id: t.id.clone(),
                pictogram: t.pictogram.clone(),
                name: Bilingual::new(&t.name, o.map(|o| o.name.as_str())),
                description: Bilingual::new(&t.description, o.map(|o| o.description.as_str())),
            }
        };
        let mut themes = Vec::new();
        if let Some(c) = &fr.centre_tile {
            themes.push(KitTheme {
                id: "centre".into(),
                pictogram: c.pictogram.clone(),
                name: Bilingual::new(&fr.centre.name, None),
                tiles: vec![tile(c)],
            });
        }
        themes.extend(fr.themes.iter().map(|t| KitTheme {
            id: t.id.clone(),
            pictogram: t.pictogram.clone(),
            name: Bilingual::new(&t.name, theme_other(&t.id).map(|o| o.name.as_str())),
            tiles: t.tiles.iter().map(tile).collect(),
        }));
        let tile_name = |p: &PortalData, service: &str| {
            p.centre_tile
                .iter()
                .chain(p.themes.iter().flat_map(|t| t.tiles.iter()))
                .find(|t| t.id == service)
                .map(|t| t.name.clone())
                .unwrap_or_default()
        };
        let mut sheets = Vec::new();
        for d in &fr.demarches {
            sheets.push(KitSheet {
                id: d.id.clone(),
                language: "fr".into(),
                tile: tile_name(fr, &d.service),
                title: d.title.clone(),
                documents: d.documents.clone(),
                steps: d.steps.clone(),
            });
            let translated = other.and_then(|o| o.demarches.iter().find(|x| x.id == d.id).map(|x| (o, x)));
            if let Some((o, x)) = translated {
                // A sheet with no translated field at all is the French one again: given once.
                if x.in_french.len() < 3 {
                    sheets.push(KitSheet {
                        id: x.id.clone(),
                        language: o.language.clone(),
                        tile: tile_name(o, &x.service),
                        title: x.title.clone(),
                        documents: x.documents.clone(),
                        steps: x.steps.clone(),
                    });
                }
            }
        }
        let second = other.map(|o| o.language.clone());
        Kit {
            centre: fr.centre.name.clone(),
            other: second.as_deref().map(texts),
            second,
            fr: texts("fr"),
            themes,
            hours: fr.centre.opening_hours.clone(),
            hours_other: other.map(|o| o.centre.opening_hours.clone()).filter(|h| *h != fr.centre.opening_hours),
            place: fr.centre.help_place.clone(),
            sheets,
        }
    }

    /// Every tile of the kit, in order.
    pub fn tiles(&self) -> impl Iterator<Item = &KitTile> {
        self.themes.iter().flat_map(|t| t.tiles.iter())
    }
}

/// A paper size, in PostScript points (1/72 inch), portrait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Paper {
    /// 210 × 297 mm.
    A4,
    /// 148 × 210 mm.
    A5,
}

impl Paper {
    /// Width and height in points.
    pub fn points(self) -> (f64, f64) {
        let mm = |v: f64| v * 72.0 / 25.4;
        match self {
            Paper::A4 => (mm(210.0), mm(297.0)),
            Paper::A5 => (mm(148.0), mm(210.0)),
        }
    }
}

/// One way to lay the tiles out, tried at scales from 1 down to `min_scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Each tile with its one-line description.
    pub descriptions: bool,
    /// Columns of themes.
    pub columns: usize,
    /// Smallest scale of the text (1 = the format's `text_size`).
    pub min_scale: f64,
}

/// What one printed piece shows: the poster has every tile with its pictogram (and its description
/// when there is room), the flyer only the tiles' names under each theme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Format {
    /// Paper.
    pub paper: Paper,
    /// Each tile with its pictogram.
    pub tile_pictograms: bool,
    /// The layouts to try, in order of preference: the first that fits the page is used, at the
    /// largest scale that fits; when none does, the last at its smallest scale, on more pages.
    pub fits: &'static [Fit],
    /// Margin, in points.
    pub margin: f64,
    /// Size of the tile names' text at full scale, in points.
    pub text_size: f64,
}

/// The A4 poster: read from a metre or two, so the text stays large: descriptions only while the
/// names stay at 80 % or more, then two or three columns of names with their translation.
pub const POSTER: Format = Format {
    paper: Paper::A4,
    tile_pictograms: true,
    fits: &[
        Fit { descriptions: true, columns: 2, min_scale: 0.8 },
        Fit { descriptions: true, columns: 3, min_scale: 0.8 },
        Fit { descriptions: false, columns: 2, min_scale: 0.85 },
        Fit { descriptions: false, columns: 3, min_scale: 0.55 },
    ],
    margin: 36.0,
    text_size: 11.0,
};
/// The A5 flyer: held in the hand; the tiles' names only, in two columns of themes.
pub const FLYER: Format = Format {
    paper: Paper::A5,
    tile_pictograms: false,
    fits: &[Fit { descriptions: false, columns: 2, min_scale: 0.6 }],
    margin: 26.0,
    text_size: 8.5,
};
/// The booklet's pages.
pub const BOOKLET_PAPER: Paper = Paper::A4;

/// Where to cut a list of blocks of these heights, kept in order, into `columns` columns so the
/// tallest column is as short as it can be: the index each column after the first starts at.
pub fn split_columns(heights: &[f64], columns: usize) -> Vec<usize> {
    let n = heights.len();
    let columns = columns.max(1).min(n.max(1));
    if columns <= 1 || n == 0 {
        return Vec::new();
    }
    let prefix: Vec<f64> = std::iter::once(0.0)
        .chain(heights.iter().scan(0.0, |s, h| {
            *s += h;
            Some(*s)
        }))
        .collect();
    let sum = |a: usize, b: usize| prefix[b] - prefix[a];
    // best[c][i]: the tallest column when the first i blocks fill c columns; cut[c][i] where the
    // last of those columns starts.
    let mut best = vec![vec![f64::INFINITY; n + 1]; columns + 1];
    let mut cut = vec![vec![0usize; n + 1]; columns + 1];
    best[0][0] = 0.0;
    for c in 1..=columns {
        for i in 0..=n {
            for j in 0..=i {
                let v = best[c - 1][j].max(sum(j, i));
                if v < best[c][i] {
                    best[c][i] = v;
                    cut[c][i] = j;
                }
            }
        }
    }
    let mut starts = Vec::new();
    let mut i = n;
    for c in (2..=columns).rev() {
        i = cut[c][i];
        starts.push(i);
    }
    starts.reverse();
    starts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{parse_local, parse_national, Effective};
    use crate::config::{parse_settings, KNOWN_LANGUAGES};
    use crate::load::{BUILTIN_CATALOGUE, BUILTIN_DEMARCHES, BUILTIN_SETTINGS};
    use std::path::Path;

    fn portal(settings_extra: &str, local: &str) -> (Settings, PortalData) {
        let text = if settings_extra.is_empty() { BUILTIN_SETTINGS } else { settings_extra };
        let settings = parse_settings(Path::new("borne.toml"), text).unwrap();
        let national = parse_national(Path::new("catalogue.toml"), BUILTIN_CATALOGUE).unwrap();
        let local = parse_local(Path::new("local.toml"), local, &national).unwrap();
        let effective = Effective::build(&settings, &national, &local);
        let ids: Vec<&str> = effective.services.iter().map(|s| s.id.as_str()).collect();
        let sheets =
            crate::catalogue::demarches::parse_demarches(Path::new("demarches.toml"), BUILTIN_DEMARCHES, &ids).unwrap();
        let data = PortalData::new(&settings, &effective).with_demarches(&sheets, &effective);
        (settings, data)
    }

    const AR: &str = "[centre]\nname = \"Les Tilleuls\"\nopening_hours = \"Le mardi de 9 h à 12 h\"\n\
                      [languages]\noffered = [\"fr\", \"ar\", \"uk\"]\n";

    #[test]
    fn every_language_has_every_kit_text() {
        let all: BTreeMap<String, KitTexts> = toml::from_str(KIT_TEXTS).unwrap();
        for lang in KNOWN_LANGUAGES {
            let t = all.get(*lang).unwrap_or_else(|| panic!("{lang} has no kit texts"));
            for s in [&t.headline, &t.services, &t.hours, &t.place, &t.ask, &t.helper, &t.booklet_title, &t.documents] {
                assert!(!s.trim().is_empty(), "{lang}");
            }
        }
        assert_eq!(all.len(), KNOWN_LANGUAGES.len());
        assert_eq!(texts("fr").ask, "Demandez à l'accueil");
        assert_eq!(texts("xx"), texts("fr"));
    }

    #[test]
    fn the_second_language_is_an_offered_one() {
        let (s, _) = portal(AR, "");
        assert_eq!(second_language(&s, None), Ok(Some("ar".into())));
        assert_eq!(second_language(&s, Some("uk")), Ok(Some("uk".into())));
        assert_eq!(second_language(&s, Some("fr")), Ok(None));
        let e = second_language(&s, Some("pt")).unwrap_err();
        assert_eq!(e.code(), "not-offered");
        assert!(e.french().contains("portugais"), "{}", e.french());
        let (shipped, _) = portal("", "");
        assert_eq!(second_language(&shipped, None), Ok(None));
        assert!(second_language(&shipped, Some("ar")).is_err());
    }

    #[test]
    fn the_poster_has_every_tile_of_the_portal_by_theme_in_both_languages() {
        let (_, fr) = portal(AR, "");
        let ar = fr.clone().in_language("ar");
        let kit = Kit::new(&fr, Some(&ar));
        assert_eq!(kit.centre, "Les Tilleuls");
        assert_eq!(kit.hours, "Le mardi de 9 h à 12 h");
        assert_eq!(kit.hours_other, None, "the référent's free text is French only");
        assert_eq!(kit.second.as_deref(), Some("ar"));
        assert_eq!(kit.other.as_ref().unwrap().ask, texts("ar").ask);
        let portal_ids: Vec<&str> = fr.themes.iter().flat_map(|t| t.tiles.iter().map(|x| x.id.as_str())).collect();
        let kit_ids: Vec<&str> = kit.tiles().map(|t| t.id.as_str()).collect();
        assert_eq!(kit_ids, portal_ids);
        assert_eq!(kit.themes.len(), fr.themes.len());
        let caf = kit.tiles().find(|t| t.id == "caf").unwrap();
        assert_eq!(caf.pictogram, "caf");
        // "CAF" stays "CAF" in Arabic: printed once.
        let desc = &caf.description;
        assert!(desc.other.as_deref().is_some_and(|d| d.chars().any(|c| ('\u{0600}'..='\u{06ff}').contains(&c))));
        let famille = &kit.themes[0];
        assert_eq!(famille.name.fr, "Famille et logement");
        assert!(famille.name.other.is_some());
    }

    #[test]
    fn a_referents_own_tile_is_on_the_poster_in_french_only() {
        let local = "[[services]]\nid = \"mairie-lilas\"\nname = \"Mairie des Lilas\"\ndescription = \"État civil, inscriptions\"\n\
                     theme = \"quotidien\"\npictogram = \"guichet\"\nurl = \"https://www.ville-leslilas.fr/\"\n\
                     hosts = [\"www.ville-leslilas.fr\"]\n";
        let (_, fr) = portal(AR, local);
        let kit = Kit::new(&fr, Some(&fr.clone().in_language("ar")));
        let own = kit.tiles().find(|t| t.id == "mairie-lilas").expect("the référent's tile");
        assert_eq!(own.name, Bilingual { fr: "Mairie des Lilas".into(), other: None });
        assert_eq!(own.description.other, None);
        assert_eq!(kit.themes.iter().find(|t| t.id == "quotidien").unwrap().tiles.last().unwrap().id, "mairie-lilas");
    }

    #[test]
    fn the_centres_website_comes_first_and_french_alone_has_no_second_texts() {
        let (_, fr) = portal("[centre]\nname = \"Les Tilleuls\"\nwebsite = \"https://tilleuls.example.org/\"\n", "");
        let kit = Kit::new(&fr, None);
        assert_eq!(kit.themes[0].id, "centre");
        assert_eq!(kit.themes[0].name.fr, "Les Tilleuls");
        assert!(kit.other.is_none() && kit.second.is_none());
        assert!(kit.tiles().all(|t| t.name.other.is_none() && t.description.other.is_none()));
        assert!(kit.sheets.iter().all(|s| s.language == "fr"));
    }

    #[test]
    fn the_booklet_has_each_sheet_in_french_then_in_the_second_language() {
        let (_, fr) = portal(AR, "");
        let kit = Kit::new(&fr, Some(&fr.clone().in_language("uk")));
        assert_eq!(kit.sheets.len(), fr.demarches.len() * 2);
        for pair in kit.sheets.chunks(2) {
            assert_eq!((pair[0].language.as_str(), pair[1].language.as_str()), ("fr", "uk"));
            assert_eq!(pair[0].id, pair[1].id);
            assert_eq!(pair[0].steps.len(), pair[1].steps.len());
            assert_ne!(pair[0].title, pair[1].title);
        }
        assert!(fr.demarches.len() >= 10);
    }

    #[test]
    fn columns_are_balanced_in_order() {
        assert_eq!(split_columns(&[1.0, 1.0, 1.0, 1.0], 2), vec![2]);
        assert_eq!(split_columns(&[3.0, 1.0, 1.0, 1.0], 2), vec![1]);
        assert_eq!(split_columns(&[1.0, 1.0, 1.0, 3.0], 2), vec![3]);
        assert_eq!(split_columns(&[2.0, 2.0, 2.0, 2.0, 2.0, 2.0], 3), vec![2, 4]);
        assert_eq!(split_columns(&[5.0], 2), Vec::<usize>::new());
        assert_eq!(split_columns(&[], 2), Vec::<usize>::new());
        assert_eq!(split_columns(&[1.0, 2.0], 1), Vec::<usize>::new());
    }

    #[test]
    fn paper_sizes_are_iso() {
        let (w, h) = Paper::A4.points();
        assert_eq!((w.round(), h.round()), (595.0, 842.0));
        let (w, h) = Paper::A5.points();
        assert_eq!((w.round(), h.round()), (420.0, 595.0));
    }
}
