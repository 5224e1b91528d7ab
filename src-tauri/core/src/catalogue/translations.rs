//! Translations of the national catalogue's texts (theme names, tile names where a translation is
//! customary, tile descriptions) and of the "Avant de commencer" sheets, and the portal in the
//! person's language with a per-field fallback to French.
//!
//! French stays the reference in `config/catalogue.toml` and `config/demarches.toml`. Each offered
//! language has `config/i18n/catalogue.<lang>.toml` and `config/i18n/demarches.<lang>.toml` beside
//! them, keyed by theme, service and sheet id, built into the program like `ui/i18n/*.json`: they
//! are part of the software, checked by tests ([`Translations::gaps`]), never edited on a borne,
//! and never fail a load. The signed catalogue channel and the référent's files stay French only.
//!
//! A translation is used for a field only when the French in force for that id is the French it was
//! made from (the shipped file's). So a tile or sheet the référent wrote or rewrote, a sheet the
//! channel changed, or a tile the channel added is shown in French, field by field, and listed in
//! the item's `in_french` so the portal marks it `lang="fr"`; never a stale translation.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::demarches::{parse_demarches, Demarche};
use super::{parse_national, PortalData, ThemeTiles, Tile};

/// Service id of the centre's own tile (its description is translated, its name never).
pub const CENTRE: &str = "centre";

/// Longest translated line, in characters: the same easy-to-read limit as French's.
pub const MAX_LINE: usize = super::demarches::MAX_LINE;

/// The translations shipped with the program: (language, catalogue texts, sheets).
pub const SHIPPED: &[(&str, &str, &str)] = &[
    (
        "ar",
        include_str!("../../../../config/i18n/catalogue.ar.toml"),
        include_str!("../../../../config/i18n/demarches.ar.toml"),
    ),
    (
        "en",
        include_str!("../../../../config/i18n/catalogue.en.toml"),
        include_str!("../../../../config/i18n/demarches.en.toml"),
    ),
    (
        "pt",
        include_str!("../../../../config/i18n/catalogue.pt.toml"),
        include_str!("../../../../config/i18n/demarches.pt.toml"),
    ),
    (
        "ro",
        include_str!("../../../../config/i18n/catalogue.ro.toml"),
        include_str!("../../../../config/i18n/demarches.ro.toml"),
    ),
    (
        "uk",
        include_str!("../../../../config/i18n/catalogue.uk.toml"),
        include_str!("../../../../config/i18n/demarches.uk.toml"),
    ),
];

/// A text of the portal shown in French because no translation applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    /// A tile's or theme's name.
    Name,
    /// A tile's description.
    Description,
    /// A sheet's title.
    Title,
    /// A sheet's documents.
    Documents,
    /// A sheet's steps.
    Steps,
}

/// A tile's texts in one language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceText {
    /// The name, where a translation is customary (proper names stay French).
    #[serde(default)]
    pub name: Option<String>,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
}

/// A sheet's texts in one language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetText {
    /// Title.
    pub title: String,
    /// What to have at hand (as many lines as in French).
    pub documents: Vec<String>,
    /// The steps (as many as in French).
    pub steps: Vec<String>,
}

/// The texts of one language, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Translation {
    /// Theme names by theme id.
    pub themes: BTreeMap<String, String>,
    /// Tile texts by service id.
    pub services: BTreeMap<String, ServiceText>,
    /// Sheets by sheet id.
    pub demarches: BTreeMap<String, SheetText>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawCatalogue {
    themes: BTreeMap<String, String>,
    services: BTreeMap<String, ServiceText>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawDemarches {
    demarches: BTreeMap<String, SheetText>,
}

/// A translation file that cannot be read (English, for the log and the tests).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct TranslationError {
    /// Which file.
    pub file: String,
    /// What is wrong (the TOML parser's message, with its line).
    pub message: String,
}

/// Something a translation lacks or gets wrong against the French reference (English, for tests).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Gap {
    /// No translation for a text that needs one.
    #[error("{lang}: {what} is not translated")]
    Missing {
        /// Language.
        lang: String,
        /// Which text (`service caf: description`).
        what: String,
    },
    /// A translation of an id the French reference does not have.
    #[error("{lang}: {what} is not in the French reference")]
    Unknown {
        /// Language.
        lang: String,
        /// Which text.
        what: String,
    },
    /// Not as many lines as in French.
    #[error("{lang}: {what} has {translated} lines, French has {french}")]
    Count {
        /// Language.
        lang: String,
        /// Which list (`sheet attestation-caf: steps`).
        what: String,
        /// Lines in French.
        french: usize,
        /// Lines translated.
        translated: usize,
    },
    /// An empty text.
    #[error("{lang}: {what} is empty")]
    Empty {
        /// Language.
        lang: String,
        /// Which text.
        what: String,
    },
    /// A line too long to read.
    #[error("{lang}: {what} is longer than {MAX_LINE} characters")]
    TooLong {
        /// Language.
        lang: String,
        /// Which text.
        what: String,
    },
    /// Not the same {placeholders}, markup or « » quotes as the French line.
    #[error("{lang}: {what} has other marks than French: {translated:?} against {french:?}")]
    Marks {
        /// Language.
        lang: String,
        /// Which text.
        what: String,
        /// The French line's marks.
        french: Vec<String>,
        /// The translated line's marks.
        translated: Vec<String>,
    },
}

/// The French the translations were made from, and the translations by language.
#[derive(Debug, Clone, Default)]
pub struct Translations {
    /// The shipped French, as a translation with every text.
    pub reference: Translation,
    /// By language code.
    pub languages: BTreeMap<String, Translation>,
}

impl Translations {
    /// Reads the French reference (a national catalogue and its sheets) and the translation files
    /// `(language, catalogue texts, sheets)`; every unreadable file at once.
    pub fn parse(
        catalogue_fr: &str,
        demarches_fr: &str,
        files: &[(&str, &str, &str)],
    ) -> Result<Self, Vec<TranslationError>> {
        let mut errors = Vec::new();
        let reference = reference(catalogue_fr, demarches_fr).map_err(|e| errors.push(e)).ok();
        let mut languages = BTreeMap::new();
        for (lang, catalogue, demarches) in files {
            let c = toml::from_str::<RawCatalogue>(catalogue)
                .map_err(|e| {
                    errors.push(TranslationError { file: format!("catalogue.{lang}.toml"), message: e.to_string() })
                })
                .ok();
            let d = toml::from_str::<RawDemarches>(demarches)
                .map_err(|e| {
                    errors.push(TranslationError { file: format!("demarches.{lang}.toml"), message: e.to_string() })
                })
                .ok();
            if let (Some(c), Some(d)) = (c, d) {
                languages.insert(
                    (*lang).to_string(),
                    Translation { themes: c.themes, services: c.services, demarches: d.demarches },
                );
            }
        }
        match reference {
            Some(reference) if errors.is_empty() => Ok(Translations { reference, languages }),
            _ => Err(errors),
        }
    }

    /// Everything a language of `languages` (French excepted) lacks or gets wrong against the French
    /// reference: every theme, tile description and sheet translated, as many lines as in French, no
    /// empty or overlong line, the same marks.
    pub fn gaps(&self, languages: &[&str]) -> Vec<Gap> {
        let mut out = Vec::new();
        let empty = Translation::default();
        for lang in languages.iter().copied().filter(|l| *l != "fr") {
            let t = self.languages.get(lang).unwrap_or(&empty);
            let line = |what: String, french: &str, translated: Option<&str>, required: bool, out: &mut Vec<Gap>| {
                match translated {
                    None if required => out.push(Gap::Missing { lang: lang.into(), what }),
                    None => {}
                    Some(s) => check_line(lang, what, french, s, out),
                }
            };
            for (id, fr) in &self.reference.themes {
                line(format!("theme {id}: name"), fr, t.themes.get(id).map(String::as_str), true, &mut out);
            }
            for (id, fr) in &self.reference.services {
                let tr = t.services.get(id);
                let fr_name = fr.name.as_deref().unwrap_or_default();
                line(format!("service {id}: name"), fr_name, tr.and_then(|s| s.name.as_deref()), false, &mut out);
                let fr_desc = fr.description.as_deref().unwrap_or_default();
                line(
                    format!("service {id}: description"),
                    fr_desc,
                    tr.and_then(|s| s.description.as_deref()),
                    true,
                    &mut out,
                );
            }
            for (id, fr) in &self.reference.demarches {
                let Some(tr) = t.demarches.get(id) else {
                    out.push(Gap::Missing { lang: lang.into(), what: format!("sheet {id}") });
                    continue;
                };
                line(format!("sheet {id}: title"), &fr.title, Some(&tr.title), true, &mut out);
                for (key, fr_lines, tr_lines) in
                    [("documents", &fr.documents, &tr.documents), ("steps", &fr.steps, &tr.steps)]
                {
                    if fr_lines.len() != tr_lines.len() {
                        out.push(Gap::Count {
                            lang: lang.into(),
                            what: format!("sheet {id}: {key}"),
                            french: fr_lines.len(),
                            translated: tr_lines.len(),
                        });
                    }
                    for (i, (f, s)) in fr_lines.iter().zip(tr_lines).enumerate() {
                        line(format!("sheet {id}: {key} {}", i + 1), f, Some(s), true, &mut out);
                    }
                }
            }
            let unknown = |what: String| Gap::Unknown { lang: lang.into(), what };
            out.extend(
                t.themes
                    .keys()
                    .filter(|id| !self.reference.themes.contains_key(*id))
                    .map(|id| unknown(format!("theme {id}"))),
            );
            out.extend(
                t.services
                    .keys()
                    .filter(|id| !self.reference.services.contains_key(*id))
                    .map(|id| unknown(format!("service {id}"))),
            );
            out.extend(
                t.demarches
                    .keys()
                    .filter(|id| !self.reference.demarches.contains_key(*id))
                    .map(|id| unknown(format!("sheet {id}"))),
            );
            out.extend(
                t.services
                    .iter()
                    .filter(|(id, s)| {
                        s.name.is_some() && self.reference.services.get(*id).is_some_and(|r| r.name.is_none())
                    })
                    .map(|(id, _)| unknown(format!("service {id}: name"))),
            );
        }
        out
    }

    /// The translated text for a field whose French in force is `french`, when the translation was
    /// made from that same French.
    fn pick<'a>(reference: Option<&str>, french: &str, translated: Option<&'a str>) -> Option<&'a str> {
        (reference == Some(french)).then_some(translated).flatten().filter(|s| !s.trim().is_empty())
    }

    fn theme(&self, lang: &Translation, t: &mut ThemeTiles) {
        let r = self.reference.themes.get(&t.id).map(String::as_str);
        match Self::pick(r, &t.name, lang.themes.get(&t.id).map(String::as_str)) {
            Some(s) => t.name = s.to_string(),
            None => t.in_french.push(Field::Name),
        }
    }

    fn tile(&self, lang: &Translation, t: &mut Tile) {
        let r = self.reference.services.get(&t.id);
        let tr = lang.services.get(&t.id);
        match Self::pick(r.and_then(|r| r.name.as_deref()), &t.name, tr.and_then(|s| s.name.as_deref())) {
            Some(s) => t.name = s.to_string(),
            None => t.in_french.push(Field::Name),
        }
        match Self::pick(
            r.and_then(|r| r.description.as_deref()),
            &t.description,
            tr.and_then(|s| s.description.as_deref()),
        ) {
            Some(s) => t.description = s.to_string(),
            None => t.in_french.push(Field::Description),
        }
    }

    fn sheet(&self, lang: &Translation, d: &mut Demarche) {
        let r = self.reference.demarches.get(&d.id);
        let tr = lang.demarches.get(&d.id);
        match Self::pick(r.map(|r| r.title.as_str()), &d.title, tr.map(|s| s.title.as_str())) {
            Some(s) => d.title = s.to_string(),
            None => d.in_french.push(Field::Title),
        }
        let lines = |fr: &[String], reference: Option<&Vec<String>>, translated: Option<&Vec<String>>| {
            let ok = reference.is_some_and(|r| r.as_slice() == fr)
                && translated.is_some_and(|t| t.len() == fr.len() && t.iter().all(|l| !l.trim().is_empty()));
            ok.then(|| translated.cloned()).flatten()
        };
        match lines(&d.documents, r.map(|r| &r.documents), tr.map(|s| &s.documents)) {
            Some(v) => d.documents = v,
            None => d.in_french.push(Field::Documents),
        }
        match lines(&d.steps, r.map(|r| &r.steps), tr.map(|s| &s.steps)) {
            Some(v) => d.steps = v,
            None => d.in_french.push(Field::Steps),
        }
    }

    /// The portal's texts in `lang`, field by field, French where no translation applies (listed in
    /// each item's `in_french`). French itself, or a language with no translation, leaves the texts
    /// as they are and marks every one French.
    pub fn localize(&self, data: &mut PortalData, lang: &str) {
        if lang == "fr" {
            return;
        }
        let empty = Translation::default();
        let t = self.languages.get(lang).unwrap_or(&empty);
        if let Some(tile) = &mut data.centre_tile {
            self.tile(t, tile);
        }
        for theme in &mut data.themes {
            self.theme(t, theme);
            for tile in &mut theme.tiles {
                self.tile(t, tile);
            }
        }
        for d in &mut data.demarches {
            self.sheet(t, d);
        }
    }
}

/// The French a catalogue and its sheets give, as a translation with every text.
fn reference(catalogue: &str, demarches: &str) -> Result<Translation, TranslationError> {
    let problems = |file: &str, d: Vec<crate::diag::Diagnostic>| TranslationError {
        file: file.into(),
        message: d.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
    };
    let national = parse_national(Path::new("catalogue.toml"), catalogue).map_err(|d| problems("catalogue.toml", d))?;
    let ids: Vec<&str> = national.services.iter().map(|s| s.id.as_str()).collect();
    let sheets =
        parse_demarches(Path::new("demarches.toml"), demarches, &ids).map_err(|d| problems("demarches.toml", d))?;
    let mut services: BTreeMap<String, ServiceText> = national
        .services
        .iter()
        .map(|s| (s.id.clone(), ServiceText { name: Some(s.name.clone()), description: Some(s.description.clone()) }))
        .collect();
    services
        .insert(CENTRE.into(), ServiceText { name: None, description: Some(crate::messages::CENTRE_TILE_FR.into()) });
    Ok(Translation {
        themes: national.themes.iter().map(|t| (t.id.clone(), t.name.clone())).collect(),
        services,
        demarches: sheets
            .into_iter()
            .map(|d| (d.id.clone(), SheetText { title: d.title, documents: d.documents, steps: d.steps }))
            .collect(),
    })
}

/// `{placeholders}`, `<markup>` and « » quotes of a line, in order.
fn marks(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut open: Option<(char, String)> = None;
    for c in s.chars() {
        match (&mut open, c) {
            (None, '{') | (None, '<') => open = Some((c, c.to_string())),
            (Some((o, buf)), _) => {
                buf.push(c);
                if (*o == '{' && c == '}') || (*o == '<' && c == '>') {
                    out.push(std::mem::take(buf));
                    open = None;
                }
            }
            (None, '«') | (None, '»') => out.push(c.to_string()),
            (None, _) => {}
        }
    }
    // A lone `<` or `{` (as in "< 6 mois") is not markup.
    out
}

fn check_line(lang: &str, what: String, french: &str, translated: &str, out: &mut Vec<Gap>) {
    if translated.trim().is_empty() {
        out.push(Gap::Empty { lang: lang.into(), what });
        return;
    }
    if translated.chars().count() > MAX_LINE {
        out.push(Gap::TooLong { lang: lang.into(), what: what.clone() });
    }
    let (f, t) = (marks(french), marks(translated));
    if f != t {
        out.push(Gap::Marks { lang: lang.into(), what, french: f, translated: t });
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Field::Name => "name",
            Field::Description => "description",
            Field::Title => "title",
            Field::Documents => "documents",
            Field::Steps => "steps",
        };
        f.write_str(s)
    }
}

/// The shipped translations against the shipped French (read once). They are tested; should they
/// ever fail to read, the portal stays in French and the problem is logged.
pub fn shipped() -> &'static Translations {
    static SHIPPED_TRANSLATIONS: OnceLock<Translations> = OnceLock::new();
    SHIPPED_TRANSLATIONS.get_or_init(|| {
        Translations::parse(super::BUILTIN_CATALOGUE, super::BUILTIN_DEMARCHES, SHIPPED).unwrap_or_else(|errors| {
            for e in &errors {
                tracing::error!(%e, "translations of the catalogue unreadable; the portal stays in French");
            }
            Translations::default()
        })
    })
}

impl PortalData {
    /// The portal in `lang` when it is offered (else French), with the shipped translations.
    pub fn in_language(self, lang: &str) -> Self {
        self.in_language_with(lang, shipped())
    }

    /// As [`PortalData::in_language`], with given translations.
    pub fn in_language_with(mut self, lang: &str, translations: &Translations) -> Self {
        if self.languages.iter().any(|l| l == lang) {
            self.language = lang.to_string();
            translations.localize(&mut self, lang);
            if let Some(plan) = &self.hours {
                self.centre.opening_hours = plan.sentence(lang);
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{parse_local, Effective};
    use crate::config::{parse_settings, KNOWN_LANGUAGES};
    use crate::load::{BUILTIN_CATALOGUE, BUILTIN_DEMARCHES, BUILTIN_SETTINGS};

    /// The shipped settings offering every language, the shipped catalogue and sheets, a `local.toml`.
    fn portal(local: &str, own_sheets: &str) -> PortalData {
        let settings = BUILTIN_SETTINGS
            .replace("offered = [\"fr\"]", "offered = [\"fr\", \"ar\", \"en\", \"uk\", \"pt\", \"ro\"]");
        let settings = parse_settings(Path::new("borne.toml"), &settings).unwrap();
        assert_eq!(settings.languages.len(), KNOWN_LANGUAGES.len(), "the test offers every language");
        let national = parse_national(Path::new("catalogue.toml"), BUILTIN_CATALOGUE).unwrap();
        let local = parse_local(Path::new("local.toml"), local, &national).unwrap();
        let ids: Vec<&str> = national.services.iter().chain(&local.services).map(|s| s.id.as_str()).collect();
        let sheets = parse_demarches(Path::new("demarches.toml"), BUILTIN_DEMARCHES, &ids).unwrap();
        let own = parse_demarches(Path::new("own.toml"), own_sheets, &ids).unwrap();
        let sheets = crate::load::overlay_demarches(sheets, own);
        let effective = Effective::build(&settings, &national, &local);
        PortalData::new(&settings, &effective).with_demarches(&sheets, &effective)
    }

    const OWN_TILE: &str = r#"
[[services]]
id = "mairie-lilas"
name = "Mairie des Lilas"
description = "Prendre rendez-vous à la mairie"
theme = "quotidien"
pictogram = "guichet"
url = "https://www.ville-leslilas.fr/"
hosts = ["www.ville-leslilas.fr"]
"#;

    const OWN_SHEET: &str = r#"
[[demarches]]
id = "rdv-mairie"
service = "mairie-lilas"
title = "Prendre rendez-vous à la mairie"
documents = ["Votre adresse e-mail"]
steps = ["Ouvrez « Rendez-vous ».", "Choisissez un jour."]
"#;

    fn tile<'a>(d: &'a PortalData, id: &str) -> &'a Tile {
        d.themes.iter().flat_map(|t| &t.tiles).find(|t| t.id == id).unwrap()
    }

    fn sheet<'a>(d: &'a PortalData, id: &str) -> &'a Demarche {
        d.demarches.iter().find(|s| s.id == id).unwrap()
    }

    #[test]
    fn the_shipped_translations_cover_every_offered_language_with_no_gap() {
        let t = Translations::parse(BUILTIN_CATALOGUE, BUILTIN_DEMARCHES, SHIPPED).unwrap();
        let shipped: Vec<&str> = SHIPPED.iter().map(|(l, _, _)| *l).collect();
        for lang in KNOWN_LANGUAGES.iter().filter(|l| **l != "fr") {
            assert!(shipped.contains(lang), "no translation files for `{lang}`: add config/i18n/*.{lang}.toml");
        }
        let gaps: Vec<String> = t.gaps(KNOWN_LANGUAGES).iter().map(ToString::to_string).collect();
        assert!(gaps.is_empty(), "{} gaps:\n{}", gaps.len(), gaps.join("\n"));
        // Every national theme, tile and sheet is in the reference (so each one was checked).
        assert_eq!(t.reference.themes.len(), 10);
        assert_eq!(
            t.reference.services.len(),
            parse_national(Path::new("c"), BUILTIN_CATALOGUE).unwrap().services.len() + 1
        );
        assert_eq!(t.reference.demarches.len(), 10);
    }

    #[test]
    fn a_missing_line_an_unknown_id_and_changed_marks_are_gaps() {
        let (_, catalogue, demarches) = SHIPPED.iter().find(|(l, _, _)| *l == "en").unwrap();
        let one_step_less = demarches.replacen("  \"Choose the months, if the site asks.\",\n", "", 1);
        let no_quotes = one_step_less.replacen("« Mon Compte » (My account)", "My account", 1);
        let extra = format!("{catalogue}\n[services.nope]\ndescription = \"x\"\n");
        let no_caf = extra.replacen("[services.caf]\ndescription =", "[services.caf]\nname =", 1);
        let t = Translations::parse(BUILTIN_CATALOGUE, BUILTIN_DEMARCHES, &[("en", &no_caf, &no_quotes)]).unwrap();
        let gaps = t.gaps(&["fr", "en", "ar"]);
        let has = |f: &dyn Fn(&Gap) -> bool| gaps.iter().any(f);
        assert!(
            has(
                &|g| matches!(g, Gap::Count { what, french: 6, translated: 5, .. } if what == "sheet attestation-caf: steps")
            ),
            "{gaps:?}"
        );
        assert!(has(&|g| matches!(g, Gap::Marks { what, .. } if what == "sheet attestation-caf: steps 1")), "{gaps:?}");
        assert!(has(&|g| matches!(g, Gap::Unknown { what, .. } if what == "service nope")), "{gaps:?}");
        assert!(
            has(&|g| matches!(g, Gap::Missing { lang, what } if lang == "en" && what == "service caf: description")),
            "{gaps:?}"
        );
        // A language with no files at all lacks everything.
        assert!(
            has(&|g| matches!(g, Gap::Missing { lang, what } if lang == "ar" && what == "sheet attestation-caf")),
            "{gaps:?}"
        );
        let empty = demarches.replacen("title = \"Get a certificate from the CAF\"", "title = \" \"", 1);
        let t = Translations::parse(BUILTIN_CATALOGUE, BUILTIN_DEMARCHES, &[("en", catalogue, &empty)]).unwrap();
        assert!(t.gaps(&["en"]).iter().any(|g| matches!(g, Gap::Empty { .. })), "{:?}", t.gaps(&["en"]));
    }

    #[test]
    fn an_unreadable_file_is_named_with_its_line() {
        let e = Translations::parse(
            BUILTIN_CATALOGUE,
            BUILTIN_DEMARCHES,
            &[("en", "[services.caf]\ndescriptoin = \"x\"\n", "")],
        )
        .unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].file, "catalogue.en.toml");
        assert!(e[0].message.contains("descriptoin"), "{}", e[0].message);
    }

    #[test]
    fn the_portal_in_ukrainian_has_the_translated_texts_and_nothing_marked_french_but_proper_names() {
        let fr = portal("", "");
        let uk = fr.clone().in_language("uk");
        assert_eq!(uk.language, "uk");
        let caf = tile(&uk, "caf");
        assert_eq!(caf.name, "CAF", "a proper name stays as it is");
        assert_eq!(caf.in_french, vec![Field::Name]);
        assert_ne!(caf.description, tile(&fr, "caf").description);
        assert!(tile(&uk, "rdv-prefecture").in_french.is_empty(), "a customary name is translated");
        assert!(uk.themes.iter().all(|t| t.in_french.is_empty()));
        assert!(uk.demarches.iter().all(|d| d.in_french.is_empty()), "{:?}", uk.demarches);
        for (f, u) in fr.demarches.iter().zip(&uk.demarches) {
            assert_eq!(
                (f.id.as_str(), f.documents.len(), f.steps.len()),
                (u.id.as_str(), u.documents.len(), u.steps.len())
            );
            assert_ne!(f.steps, u.steps);
        }
        // French is left as it is, nothing marked.
        let again = fr.clone().in_language("fr");
        assert_eq!(again.themes, fr.themes);
        assert!(again.demarches.iter().all(|d| d.in_french.is_empty()));
    }

    #[test]
    fn the_referents_own_tile_and_sheet_are_french_field_by_field_in_the_same_place() {
        let fr = portal(OWN_TILE, OWN_SHEET);
        let ar = fr.clone().in_language("ar");
        let own = tile(&ar, "mairie-lilas");
        assert_eq!(own.name, "Mairie des Lilas");
        assert_eq!(own.description, "Prendre rendez-vous à la mairie");
        assert_eq!(own.in_french, vec![Field::Name, Field::Description]);
        let order =
            |d: &PortalData| d.themes.iter().flat_map(|t| t.tiles.iter().map(|x| x.id.clone())).collect::<Vec<_>>();
        assert_eq!(order(&ar), order(&fr), "same tiles in the same places");
        let s = sheet(&ar, "rdv-mairie");
        assert_eq!(s.in_french, vec![Field::Title, Field::Documents, Field::Steps]);
        assert_eq!(s.steps, sheet(&fr, "rdv-mairie").steps);
        // Its neighbours in the theme are translated.
        assert!(tile(&ar, "laposte").in_french.iter().all(|f| *f == Field::Name));
    }

    #[test]
    fn a_national_sheet_or_theme_the_referent_rewrote_is_not_shown_with_the_old_translation() {
        let rewritten = r#"
[[demarches]]
id = "attestation-caf"
service = "caf"
title = "Obtenir une attestation de la CAF"
documents = ["Votre numéro d'allocataire"]
steps = ["Ouvrez « Mon Compte ».", "Imprimez."]
"#;
        let renamed = "[[themes]]\nid = \"famille\"\nname = \"Famille\"\npictogram = \"famille\"\n";
        let en = portal(renamed, rewritten).in_language("en");
        let s = sheet(&en, "attestation-caf");
        assert_eq!(s.title, "Get a certificate from the CAF", "the title is unchanged: translated");
        assert_eq!(s.in_french, vec![Field::Documents, Field::Steps]);
        assert_eq!(s.steps, vec!["Ouvrez « Mon Compte ».", "Imprimez."]);
        let famille = en.themes.iter().find(|t| t.id == "famille").unwrap();
        assert_eq!((famille.name.as_str(), famille.in_french.as_slice()), ("Famille", &[Field::Name][..]));
    }

    #[test]
    fn a_language_not_offered_leaves_the_portal_french() {
        let mut fr = portal("", "");
        fr.languages = vec!["fr".into(), "en".into()];
        let uk = fr.clone().in_language("uk");
        assert_eq!(uk.language, "fr");
        assert_eq!(uk.themes, fr.themes);
    }

    #[test]
    fn the_centre_tile_description_is_translated_and_its_name_marked_french() {
        let settings = BUILTIN_SETTINGS
            .replace("offered = [\"fr\"]", "offered = [\"fr\", \"ro\"]")
            .replace("website = \"\"", "website = \"https://www.centre-lilas.fr/\"");
        let settings = parse_settings(Path::new("borne.toml"), &settings).unwrap();
        let national = parse_national(Path::new("catalogue.toml"), BUILTIN_CATALOGUE).unwrap();
        let effective = Effective::build(&settings, &national, &Default::default());
        let ro = PortalData::new(&settings, &effective).in_language("ro");
        let centre = ro.centre_tile.expect("the centre tile");
        assert_ne!(centre.description, crate::messages::CENTRE_TILE_FR);
        assert_eq!(centre.in_french, vec![Field::Name]);
    }

    #[test]
    fn marks_are_placeholders_markup_and_french_quotes() {
        assert_eq!(marks("Ouvrez « Mon Compte » {x} <b>"), vec!["«", "»", "{x}", "<b>"]);
        assert!(marks("Rien à marquer.").is_empty());
    }
}
