//! Catalogue parsing, référent-style mistakes, and the effective portal.

use super::*;
use crate::config::parse_settings;
use std::path::Path;

const NATIONAL: &str = r#"
[[themes]]
id = "famille"
name = "Famille"
pictogram = "famille"

[[themes]]
id = "sante"
name = "Santé"
pictogram = "sante"

[groups.franceconnect]
description = "FC"
hosts = ["franceconnect.gouv.fr", "app.franceconnect.gouv.fr"]

[[services]]
id = "caf"
name = "CAF"
description = "Aides"
theme = "famille"
pictogram = "caf"
url = "https://www.caf.fr/"
hosts = ["caf.fr", "*.caf.fr"]
groups = ["franceconnect"]

[[services]]
id = "ameli"
name = "Ameli"
description = "Santé"
theme = "sante"
pictogram = "carte-vitale"
url = "https://www.ameli.fr/"
hosts = ["*.ameli.fr"]
groups = ["franceconnect"]
"#;

fn national() -> National {
    parse_national(Path::new("catalogue.toml"), NATIONAL).unwrap()
}

#[test]
fn parses_a_catalogue() {
    let n = national();
    assert_eq!(n.services.len(), 2);
    assert_eq!(n.groups["franceconnect"].hosts.len(), 2);
}

#[test]
fn shipped_files_parse_and_hold_the_national_services() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let text = std::fs::read_to_string(dir.join("catalogue.toml")).unwrap();
    let n = parse_national(&dir.join("catalogue.toml"), &text)
        .unwrap_or_else(|e| panic!("{}", e.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")));
    assert!(n.services.len() >= 25, "{}", n.services.len());
    for id in [
        "caf",
        "ameli",
        "ants",
        "impots",
        "francetravail",
        "franceconnect",
        "service-public",
        "anef",
        "retraite",
        "msa",
    ] {
        assert!(n.services.iter().any(|s| s.id == id), "missing {id}");
    }
    let settings_text = std::fs::read_to_string(dir.join("borne.toml")).unwrap();
    let s = parse_settings(&dir.join("borne.toml"), &settings_text).unwrap();
    let e = Effective::build(&s, &n, &Local::default());
    // FranceConnect and an identity provider are reachable through the shared group.
    for url in
        ["https://app.franceconnect.gouv.fr/", "https://oidc.franceconnect.gouv.fr/", "https://fc.assure.ameli.fr/"]
    {
        assert!(e.policy.decide_str(url, LoadKind::Navigation).is_allowed(), "{url}");
    }
}

fn errors(text: &str) -> Vec<Diagnostic> {
    parse_national(Path::new("catalogue.toml"), text).unwrap_err()
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn referent_mistakes_are_all_reported_with_their_line() {
    let bad = NATIONAL
        .replace("url = \"https://www.caf.fr/\"", "url = \"http://www.caf.fr/\"")
        .replace("hosts = [\"*.ameli.fr\"]", "hosts = [\"*.fr\"]")
        .replace("theme = \"sante\"", "theme = \"santé\"")
        .replace("pictogram = \"carte-vitale\"", "pictogramme = \"carte-vitale\"\npictogram = \"carte-vitale\"");
    let errs = errors(&bad);
    let find = |p: fn(&Problem) -> bool| errs.iter().find(|d| p(&d.problem)).unwrap_or_else(|| panic!("{errs:#?}"));
    let https = find(|p| matches!(p, Problem::NotHttps(_)));
    assert_eq!(https.line, line_of(&bad, "http://www.caf.fr/"));
    assert!(https.french().contains("https://"));
    let wildcard = find(|p| matches!(p, Problem::Host(_)));
    assert_eq!(wildcard.line, line_of(&bad, "\"*.fr\""));
    assert!(wildcard.french().contains("*.fr"), "{}", wildcard.french());
    let theme = find(|p| matches!(p, Problem::UnknownTheme(_)));
    assert_eq!(theme.line, line_of(&bad, "santé"));
    let key = find(|p| matches!(p, Problem::UnknownKey { .. }));
    assert_eq!(key.problem, Problem::UnknownKey { key: "pictogramme".into(), suggestion: Some("pictogram".into()) });
    assert!(key.french().contains("Vouliez-vous écrire « pictogram »"), "{}", key.french());
}

#[test]
fn duplicate_ids_and_uncovered_entry_urls_are_refused() {
    let dup = NATIONAL.replace("id = \"ameli\"", "id = \"caf\"");
    let errs = errors(&dup);
    assert!(errs.iter().any(|d| matches!(&d.problem, Problem::DuplicateId { id, .. } if id == "caf")), "{errs:?}");
    let uncovered = NATIONAL.replace("url = \"https://www.ameli.fr/\"", "url = \"https://ameli.fr/\"");
    let errs = errors(&uncovered);
    assert!(errs.iter().any(|d| matches!(d.problem, Problem::EntryNotCovered { .. })), "{errs:?}");
    let path = NATIONAL
        .replace("hosts = [\"*.ameli.fr\"]", "hosts = [\"*.ameli.fr\", \"www.ameli.fr/assure\", \"x.fr:8443\"]");
    assert_eq!(errors(&path).iter().filter(|d| matches!(d.problem, Problem::Host(_))).count(), 2);
}

#[test]
fn syntax_error_is_located() {
    let errs = errors("[[services]\nid = \"x\"\n");
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].line, 1);
    assert!(errs[0].french().starts_with("catalogue.toml, ligne 1"));
}

#[test]
fn local_overrides_add_hide_and_order() {
    let n = national();
    let local = r#"
hidden = ["ameli"]
order = ["mairie", "caf"]
extra_hosts = ["webmail.exemple.fr"]

[[themes]]
id = "local"
name = "Près de chez vous"
pictogram = "maison"

[[services]]
id = "mairie"
name = "Mairie des Lilas"
description = "Prendre rendez-vous"
theme = "local"
pictogram = "guichet"
url = "https://www.mairie-lilas.fr/rdv"
hosts = ["www.mairie-lilas.fr"]
"#;
    let l = parse_local(Path::new("local.toml"), local, &n).unwrap();
    let s = parse_settings(
        Path::new("borne.toml"),
        "[centre]\nname = \"Les Lilas\"\nwebsite = \"https://centre-lilas.fr/\"\n",
    )
    .unwrap();
    let e = Effective::build(&s, &n, &l);
    let ids: Vec<&str> = e.services.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, vec!["centre", "mairie", "caf"]);
    assert_eq!(e.centre_tile.as_ref().unwrap().url, "https://centre-lilas.fr/");
    let allowed = |u: &str| e.policy.decide_str(u, LoadKind::Navigation).is_allowed();
    assert!(allowed("https://www.mairie-lilas.fr/"));
    assert!(allowed("https://centre-lilas.fr/x"));
    assert!(allowed("https://webmail.exemple.fr/"));
    assert!(!allowed("https://www.ameli.fr/"), "hidden tiles' hosts are not allowed");
    assert!(allowed("https://www.caf.fr/"));
    assert_eq!(e.themes.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), vec!["famille", "local"]);
}

#[test]
fn local_cannot_reuse_national_ids_or_hide_unknown_tiles() {
    let n = national();
    let local = "hidden = [\"cafe\"]\n[[services]]\nid = \"caf\"\nname = \"x\"\ndescription = \"y\"\ntheme = \"famille\"\npictogram = \"caf\"\nurl = \"https://a.fr/\"\nhosts = [\"a.fr\"]\n";
    let errs = parse_local(Path::new("local.toml"), local, &n).unwrap_err();
    assert!(errs.iter().any(|d| matches!(d.problem, Problem::DuplicateId { .. })), "{errs:?}");
    assert!(errs.iter().any(|d| matches!(&d.problem, Problem::UnknownService(s) if s == "cafe")), "{errs:?}");
}
