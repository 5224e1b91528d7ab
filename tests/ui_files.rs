//! The files the UI ships agree with the core: every pictogram the catalogue may name has its SVG,
//! and every language has every key of the French strings file.

use std::collections::BTreeSet;

use borne_tests::repo;

#[test]
fn every_pictogram_has_its_svg() {
    let missing: Vec<&str> = borne_core::catalogue::PICTOGRAMS
        .iter()
        .copied()
        .filter(|p| !repo().join(format!("ui/pictograms/{p}.svg")).exists())
        .collect();
    assert!(missing.is_empty(), "missing SVGs: {missing:?}");
}

fn keys(lang: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join(format!("ui/i18n/{lang}.json"))).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn every_language_has_every_key() {
    let fr = keys("fr");
    assert!(fr.len() > 20);
    let mut checked = 0;
    for entry in std::fs::read_dir(repo().join("ui/i18n")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(lang) = name.strip_suffix(".json") else { continue };
        let other = keys(lang);
        let missing: Vec<_> = fr.difference(&other).collect();
        let extra: Vec<_> = other.difference(&fr).collect();
        assert!(missing.is_empty() && extra.is_empty(), "{lang}: missing {missing:?}, extra {extra:?}");
        checked += 1;
    }
    assert!(checked >= 2);
}
