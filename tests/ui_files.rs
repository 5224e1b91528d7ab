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

/// Placeholders such as `{seconds}` in a string.
fn placeholders(s: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = s;
    while let Some(i) = rest.find('{') {
        let Some(j) = rest[i..].find('}') else { break };
        out.insert(rest[i..i + j + 1].to_string());
        rest = &rest[i + j + 1..];
    }
    out
}

#[test]
fn every_language_the_settings_accept_has_its_strings_with_the_same_placeholders() {
    let strings = |lang: &str| -> serde_json::Map<String, serde_json::Value> {
        let text = std::fs::read_to_string(repo().join(format!("ui/i18n/{lang}.json"))).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let fr = strings("fr");
    assert!(borne_core::config::KNOWN_LANGUAGES.len() >= 5, "French and at least four other languages");
    assert!(borne_core::config::KNOWN_LANGUAGES.contains(&"ar"), "Arabic, right to left");
    for lang in borne_core::config::KNOWN_LANGUAGES {
        let other = strings(lang);
        for (k, v) in &fr {
            let (a, b) = (v.as_str().unwrap(), other[k].as_str().unwrap());
            assert_eq!(placeholders(a), placeholders(b), "{lang}: {k}");
            assert!(!b.trim().is_empty(), "{lang}: {k} is empty");
        }
        // Each language is named in itself, the same in every file.
        assert_eq!(other[&format!("language.{lang}")], fr[&format!("language.{lang}")], "{lang}");
    }
}
