//! "Avant de commencer": help sheets shown before a démarche (documents to have at hand, main
//! steps), in `config/demarches.toml`, each tied to a tile. Checked like the catalogue, with the same
//! French messages: easy-to-read rules (a few short lines) are part of the checks.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{check_id, parse_with};
use crate::diag::{Diagnostic, Problem, Shape, Source};

/// Longest line, in characters.
pub const MAX_LINE: usize = 110;

const SHEET_KEYS: &[(&str, Shape)] = &[
    ("id", Shape::Leaf),
    ("service", Shape::Leaf),
    ("title", Shape::Leaf),
    ("documents", Shape::Leaf),
    ("steps", Shape::Leaf),
];
const KEYS: &[(&str, Shape)] = &[("version", Shape::Leaf), ("demarches", Shape::Tables(SHEET_KEYS))];

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct RawFile {
    /// The federation's version (the signed channel checks it matches the catalogue's).
    #[allow(dead_code)]
    version: Option<i64>,
    demarches: Vec<RawSheet>,
}

#[derive(Debug, Deserialize)]
struct RawSheet {
    id: Spanned<String>,
    service: Spanned<String>,
    title: Spanned<String>,
    documents: Spanned<Vec<String>>,
    steps: Spanned<Vec<String>>,
}

/// One help sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Demarche {
    /// Id.
    pub id: String,
    /// The tile (service id) it belongs to.
    pub service: String,
    /// Title.
    pub title: String,
    /// What to have at hand, a line each.
    pub documents: Vec<String>,
    /// The main steps, in order.
    pub steps: Vec<String>,
    /// Texts shown in French because no translation applies (the portal marks them `lang="fr"`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub in_french: Vec<super::translations::Field>,
}

/// Parses and checks the sheets; `services` are the tile ids they may belong to.
pub fn parse_demarches(path: &Path, text: &str, services: &[&str]) -> Result<Vec<Demarche>, Vec<Diagnostic>> {
    parse_demarches_with(path, text, services, &[], &mut Vec::new())
}

/// As [`parse_demarches`]; a sheet of one of `retired` (tiles an update of the national catalogue
/// removed or renamed) is set aside with a French note in `set_aside` instead of being an error.
pub fn parse_demarches_with(
    path: &Path,
    text: &str,
    services: &[&str],
    retired: &[String],
    set_aside: &mut Vec<String>,
) -> Result<Vec<Demarche>, Vec<Diagnostic>> {
    let src = Source { path, text };
    let (raw, mut out): (RawFile, _) = parse_with(&src, KEYS)?;
    let mut seen = HashMap::new();
    let mut sheets = Vec::new();
    for r in raw.demarches {
        if !services.contains(&r.service.get_ref().as_str()) && retired.contains(r.service.get_ref()) {
            tracing::info!(tile = %r.service.get_ref(), sheet = %r.id.get_ref(), "référent's sheet set aside: tile no longer in the catalogue");
            set_aside.push(crate::messages::set_aside_fr(super::SetAside::Sheet, r.service.get_ref()));
            continue;
        }
        check_id(&src, &r.id, &mut seen, &mut out);
        if !services.contains(&r.service.get_ref().as_str()) {
            out.push(src.at_value(&r.service, Problem::UnknownService(r.service.get_ref().clone())));
        }
        if r.title.get_ref().trim().is_empty() {
            out.push(src.at_value(&r.title, Problem::Empty("title".into())));
        }
        for (key, list, min, max) in [("documents", &r.documents, 1, 6), ("steps", &r.steps, 2, 8)] {
            let n = list.get_ref().iter().filter(|l| !l.trim().is_empty()).count();
            if n < min || n > max || n != list.get_ref().len() {
                out.push(src.at_value(list, Problem::Lines { key: key.into(), min, max }));
            }
            if list.get_ref().iter().any(|l| l.chars().count() > MAX_LINE) {
                out.push(src.at_value(list, Problem::TooLong { key: key.into(), max: MAX_LINE }));
            }
        }
        sheets.push(Demarche {
            id: r.id.into_inner(),
            service: r.service.into_inner(),
            title: r.title.into_inner().trim().to_string(),
            documents: r.documents.into_inner().iter().map(|l| l.trim().to_string()).collect(),
            steps: r.steps.into_inner().iter().map(|l| l.trim().to_string()).collect(),
            in_french: Vec::new(),
        });
    }
    if out.is_empty() {
        Ok(sheets)
    } else {
        Err(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[demarches]]
id = "attestation-caf"
service = "caf"
title = "Obtenir une attestation de la CAF"
documents = ["Votre numéro d'allocataire", "Votre code confidentiel"]
steps = ["Ouvrez Mon Compte.", "Choisissez Attestations.", "Imprimez-la."]
"#;

    #[test]
    fn a_good_sheet_is_read() {
        let d = parse_demarches(Path::new("demarches.toml"), GOOD, &["caf"]).unwrap();
        assert_eq!(d[0].steps.len(), 3);
        assert_eq!(d[0].service, "caf");
    }

    #[test]
    fn problems_are_located_and_french() {
        let bad = GOOD.replace("service = \"caf\"", "service = \"cafe\"").replace(
            "steps = [\"Ouvrez Mon Compte.\", \"Choisissez Attestations.\", \"Imprimez-la.\"]",
            &format!("steps = [\"{}\"]", "x".repeat(120)),
        );
        let e = parse_demarches(Path::new("demarches.toml"), &bad, &["caf"]).unwrap_err();
        let fr: Vec<String> = e.iter().map(Diagnostic::french).collect();
        assert_eq!(e.len(), 3, "{fr:?}");
        assert!(fr.iter().any(|m| m.contains("cafe")), "{fr:?}");
        assert!(fr.iter().any(|m| m.contains("de 2 à 8 lignes")), "{fr:?}");
        assert!(fr.iter().any(|m| m.contains("110 caractères")), "{fr:?}");
        assert!(fr.iter().all(|m| m.starts_with("demarches.toml, ligne")), "{fr:?}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = parse_demarches(Path::new("d.toml"), &GOOD.replace("title =", "titre ="), &["caf"]).unwrap_err();
        assert!(e.iter().any(|d| matches!(&d.problem, Problem::UnknownKey { key, .. } if key == "titre")), "{e:?}");
    }
}
