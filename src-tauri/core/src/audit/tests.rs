//! The catalogue watch's decisions: entry statuses, hosts needed, history and the French report.

use super::history::{History, Run, Unused};
use super::report::{render_fr, status_fr, summary_fr, Head};
use super::*;

fn rule(s: &str) -> HostRule {
    HostRule::parse(s).unwrap()
}

fn entry(r: &str, needed_by: &[&str]) -> AllowEntry {
    AllowEntry { rule: rule(r), http: false, needed_by: needed_by.iter().map(|s| s.to_string()).collect() }
}

/// A CAF-like tile: its own hosts and the FranceConnect group.
fn caf() -> Target {
    Target::new(
        "caf",
        "CAF",
        Url::parse("https://www.caf.fr/").unwrap(),
        vec![
            entry("caf.fr", &["caf"]),
            entry("*.caf.fr", &["caf"]),
            entry("franceconnect.gouv.fr", &["caf", "group:franceconnect"]),
        ],
    )
}

fn main_frame(hops: &[(&str, u32)]) -> Vec<(String, u32)> {
    hops.iter().map(|(u, s)| (u.to_string(), *s)).collect()
}

fn failed(domain: &str, code: i32, gate: Option<Upstream>) -> LoadEnd {
    LoadEnd::Failed { domain: domain.into(), code, gate, online: true }
}

/// A case of the status table: name, main-frame hops, how the load ended, the status expected.
type StatusCase = (&'static str, Vec<(&'static str, u32)>, LoadEnd, EntryStatus);

#[test]
fn entry_statuses() {
    let url = |s: &str| Url::parse(s).unwrap();
    let cases: Vec<StatusCase> = vec![
        ("plain ok", vec![("https://www.caf.fr/", 200)], LoadEnd::Finished, EntryStatus::Ok),
        (
            "same host, another path",
            vec![("https://www.caf.fr/", 302), ("https://www.caf.fr/accueil", 200)],
            LoadEnd::Finished,
            EntryStatus::Ok,
        ),
        (
            "moved to an allowed host, temporary",
            vec![("https://www.caf.fr/", 302), ("https://wwwd.caf.fr/", 200)],
            LoadEnd::Finished,
            EntryStatus::Moved { to: url("https://wwwd.caf.fr/"), allowed: true, permanent: false },
        ),
        (
            "moved for good to a host the rules refuse",
            vec![("https://www.caf.fr/", 301), ("https://www.caf-nouveau.fr/x", 200)],
            LoadEnd::Finished,
            EntryStatus::Moved { to: url("https://www.caf-nouveau.fr/x"), allowed: false, permanent: true },
        ),
        ("404", vec![("https://www.caf.fr/", 404)], LoadEnd::Finished, EntryStatus::Gone(404)),
        (
            "410 after a redirect",
            vec![("https://www.caf.fr/", 301), ("https://ailleurs.fr/", 410)],
            LoadEnd::Finished,
            EntryStatus::Gone(410),
        ),
        ("403", vec![("https://www.caf.fr/", 403)], LoadEnd::Finished, EntryStatus::HttpError(403)),
        ("503", vec![("https://www.caf.fr/", 503)], LoadEnd::Finished, EntryStatus::HttpError(503)),
        ("tls", vec![("https://www.caf.fr/", 0)], LoadEnd::Tls, EntryStatus::Unreachable(Failure::Tls)),
        ("timeout", vec![("https://www.caf.fr/", 0)], LoadEnd::TimedOut, EntryStatus::Unreachable(Failure::Timeout)),
        (
            "dns, seen by the gate",
            vec![("https://www.caf.fr/", 0)],
            failed("WebKitNetworkError", 399, Some(Upstream::Dns)),
            EntryStatus::Unreachable(Failure::Dns),
        ),
        (
            "dns, seen by WebKit",
            vec![("https://www.caf.fr/", 0)],
            failed("g-resolver-error-quark", 0, None),
            EntryStatus::Unreachable(Failure::Dns),
        ),
        (
            "refused",
            vec![("https://www.caf.fr/", 0)],
            failed("WebKitPolicyError", 102, Some(Upstream::Refused)),
            EntryStatus::Unreachable(Failure::Refused),
        ),
        (
            "no network",
            vec![("https://www.caf.fr/", 0)],
            LoadEnd::Failed { domain: "WebKitNetworkError".into(), code: 399, gate: None, online: false },
            EntryStatus::Unreachable(Failure::Offline),
        ),
        (
            "cancelled after the page answered is judged on the answer",
            vec![("https://www.caf.fr/", 200)],
            failed("WebKitNetworkError", 302, None),
            EntryStatus::Ok,
        ),
        ("nothing requested", vec![], LoadEnd::Finished, EntryStatus::Unreachable(Failure::Unreachable)),
        (
            "no status",
            vec![("https://www.caf.fr/", 0)],
            LoadEnd::Finished,
            EntryStatus::Unreachable(Failure::Unreachable),
        ),
    ];
    let t = caf();
    for (name, hops, end, want) in cases {
        let obs = Observation { main_frame: main_frame(&hops), end, ..Default::default() };
        let (got, final_url) = classify(&t, &obs);
        assert_eq!(got, want, "{name}");
        let last = hops.last().map(|(u, _)| url(u)).filter(|u| u != &t.entry);
        assert_eq!(final_url, last, "{name}: final URL");
    }
}

#[test]
fn hosts_the_rules_refuse() {
    let t = caf();
    let whole = Policy::new(vec![
        entry("caf.fr", &["caf"]),
        entry("*.caf.fr", &["caf"]),
        entry("cdn.example", &["ameli"]),
        entry("franceconnect.gouv.fr", &["caf", "group:franceconnect"]),
    ]);
    let obs = Observation {
        main_frame: main_frame(&[("https://www.caf.fr/", 301), ("https://nouveau.example/", 200)]),
        requests: vec![
            "https://www.caf.fr/app.js".into(),
            "https://cdn.example/a.js".into(),
            "https://cdn.example/b.css".into(),
            "https://CDN.example./c.png".into(),
            "http://www.caf.fr/plain.png".into(),
            "https://www.caf.fr:8443/odd".into(),
            "https://192.0.2.7/x".into(),
            "data:image/png;base64,AAAA".into(),
            "blob:https://www.caf.fr/1234".into(),
            "about:blank".into(),
        ],
        navigations: vec!["https://pub.example/popup".into()],
        dialled: vec![
            ("https".into(), "www.caf.fr".into(), 443),
            ("https".into(), "tracker.example".into(), 443),
            ("https".into(), "cdn.example".into(), 443),
        ],
        end: LoadEnd::Finished,
    };
    let got: Vec<(String, NeedKind, usize, bool, Vec<String>)> = needs(&t, &obs, &whole)
        .into_iter()
        .map(|n| (n.host, n.kind, n.requests, n.main_frame, n.allowed_for))
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        vec![
            ("192.0.2.7".into(), NeedKind::IpLiteral, 1, false, vec![]),
            ("cdn.example".into(), NeedKind::Host, 3, false, s(&["ameli"])),
            ("nouveau.example".into(), NeedKind::Host, 1, true, vec![]),
            ("pub.example".into(), NeedKind::Host, 1, false, vec![]),
            ("tracker.example".into(), NeedKind::Host, 0, false, vec![]),
            ("www.caf.fr".into(), NeedKind::PlainHttp, 2, false, s(&["caf"])),
        ]
    );
    assert_eq!(
        seen(&obs).into_iter().collect::<Vec<_>>(),
        s(&["192.0.2.7", "cdn.example", "nouveau.example", "pub.example", "tracker.example", "www.caf.fr"])
    );
}

#[test]
fn extra_hosts_allow_but_are_never_the_tiles_rules() {
    let t = Target::new(
        "caf",
        "CAF",
        Url::parse("https://www.caf.fr/").unwrap(),
        vec![entry("www.caf.fr", &["caf"]), entry("stats.centre.example", &["local:extra_hosts"])],
    );
    assert_eq!(t.rules.iter().map(|r| r.rule.to_string()).collect::<Vec<_>>(), vec!["www.caf.fr"]);
    let obs = Observation {
        main_frame: main_frame(&[("https://www.caf.fr/", 200)]),
        requests: vec!["https://stats.centre.example/p.js".into()],
        ..Default::default()
    };
    assert!(needs(&t, &obs, &Policy::default()).is_empty());
}

#[test]
fn targets_follow_the_catalogue_in_force() {
    let d = tempfile::tempdir().unwrap();
    let (config, state) = (d.path().join("config"), d.path().join("state"));
    std::fs::create_dir_all(&config).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(config.join("borne.toml"), "[centre]\nname = \"Centre\"\n").unwrap();
    std::fs::write(
        config.join("catalogue.toml"),
        r#"
[[themes]]
id = "t"
name = "T"
pictogram = "aide"
[groups.idp]
description = "IdP"
hosts = ["idp.example"]
[[services]]
id = "a"
name = "A"
description = "a"
theme = "t"
pictogram = "aide"
url = "https://www.a.example/"
hosts = ["*.a.example"]
groups = ["idp"]
[[services]]
id = "b"
name = "B"
description = "b"
theme = "t"
pictogram = "aide"
url = "https://b.example/"
hosts = ["b.example"]
"#,
    )
    .unwrap();
    std::fs::write(config.join("demarches.toml"), "").unwrap();
    std::fs::write(
        state.join("local.toml"),
        r#"hidden = ["b"]
extra_hosts = ["fonts.example"]
[[services]]
id = "mairie"
name = "Mairie"
description = "m"
theme = "t"
pictogram = "aide"
url = "https://mairie.example/"
hosts = ["mairie.example"]
"#,
    )
    .unwrap();
    let loaded = crate::load::load(&crate::load::Paths { config_dir: config, state_dir: state });
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let t = targets(&loaded);
    let ids: Vec<&str> = t.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, vec!["a", "mairie"], "the hidden tile is not audited, the centre's own is");
    let rules = |t: &Target| t.rules.iter().map(|r| (r.rule.to_string(), r.group.clone())).collect::<Vec<_>>();
    assert_eq!(rules(&t[0]), vec![("idp.example".into(), Some("idp".into())), ("*.a.example".into(), None)]);
    assert!(t[0].decide("https://fonts.example/f.woff", LoadKind::Subresource).is_allowed());
    assert!(!t[0].decide("https://mairie.example/", LoadKind::Subresource).is_allowed(), "another tile's host");
}

fn finding(id: &str, status: EntryStatus, seen: &[&str]) -> Finding {
    Finding {
        id: id.into(),
        name: id.to_uppercase(),
        entry: Url::parse(&format!("https://{id}.example/")).unwrap(),
        status,
        final_url: None,
        needs: vec![],
        seen: seen.iter().map(|s| s.to_string()).collect(),
        unused: None,
    }
}

#[test]
fn history_counts_only_runs_where_the_page_answered() {
    let rules: Vec<TileRule> = ["www.caf.fr", "*.caf.fr", "old.example", "franceconnect.gouv.fr"]
        .iter()
        .map(|r| TileRule { rule: rule(r), group: r.starts_with("france").then(|| "franceconnect".to_string()) })
        .collect();
    let mut h = History::default();
    assert_eq!(h.unused("caf", &rules, 3), None, "no run yet: no verdict");
    // Run 1: the page loaded an old CDN; run 2: down; runs 3 and 4: only its own hosts.
    h.push(Run::of("r1", &[finding("caf", EntryStatus::Ok, &["www.caf.fr", "old.example"])]));
    h.push(Run::of("r2", &[finding("caf", EntryStatus::Unreachable(Failure::Dns), &[])]));
    h.push(Run::of("r3", &[finding("caf", EntryStatus::Ok, &["www.caf.fr", "api.caf.fr"])]));
    h.push(Run::of("r4", &[finding("caf", EntryStatus::Gone(404), &["www.caf.fr"])]));
    assert_eq!(h.runs[1].tiles.get("caf"), None, "a failed page records nothing");
    let names = |u: Option<Unused>| u.map(|u| (u.runs, u.rules.iter().map(|r| r.rule.to_string()).collect::<Vec<_>>()));
    // Window → (runs looked at, rules unseen).
    type Expected = Option<(usize, Vec<&'static str>)>;
    let table: Vec<(usize, Expected)> = vec![
        (1, Some((1, vec!["franceconnect.gouv.fr", "old.example"]))),
        (2, Some((2, vec!["franceconnect.gouv.fr"]))),
        (5, Some((2, vec!["franceconnect.gouv.fr"]))),
    ];
    for (window, want) in table {
        let want = want.map(|(n, v)| (n, v.into_iter().map(String::from).collect::<Vec<_>>()));
        let mut got = names(h.unused("caf", &rules, window));
        if let Some((_, v)) = got.as_mut() {
            v.sort();
        }
        assert_eq!(got, want, "window {window}");
    }
    assert_eq!(h.unused("other", &rules, 5), None);
    // Round trip, and the file keeps the last runs only.
    assert_eq!(History::parse(&h.to_json()).unwrap(), h);
    for i in 0..30 {
        h.push(Run::of(&format!("x{i}"), &[]));
    }
    assert_eq!(h.runs.len(), history::KEEP_RUNS);
    assert_eq!(h.runs.last().unwrap().at, "x29");
    assert!(History::parse("{\"version\":2,\"runs\":[]}").is_err());
    assert!(History::parse("not json").is_err());
}

#[test]
fn french_statuses() {
    let to = Url::parse("https://ailleurs.example/").unwrap();
    let table: Vec<(EntryStatus, &str)> = vec![
        (EntryStatus::Ok, "en ligne"),
        (
            EntryStatus::Moved { to: to.clone(), allowed: false, permanent: true },
            "déplacée vers `https://ailleurs.example/` (redirection permanente), un hôte que les règles de la tuile refusent",
        ),
        (EntryStatus::Moved { to, allowed: true, permanent: false }, "déplacée vers `https://ailleurs.example/`, un hôte que les règles de la tuile permettent déjà"),
        (EntryStatus::Gone(404), "introuvable : le site répond 404"),
        (EntryStatus::Gone(410), "supprimée : le site répond 410"),
        (EntryStatus::HttpError(503), "erreur du site : il répond 503"),
        (EntryStatus::Unreachable(Failure::Tls), "erreur TLS"),
        (EntryStatus::Unreachable(Failure::Timeout), "pas de réponse en 20 s"),
        (EntryStatus::Unreachable(Failure::Dns), "nom introuvable (DNS)"),
        (EntryStatus::Unreachable(Failure::Refused), "connexion refusée"),
    ];
    for (status, want) in table {
        let got = status_fr(&status, 20);
        assert!(got.starts_with(want), "{status:?}: {got}");
    }
}

#[test]
fn the_report_names_each_finding() {
    let head = Head {
        at: "2026-12-03T17:00:00Z".into(),
        catalogue_version: 2026120301,
        catalogue_source: "channel".into(),
        fallback: false,
        timeout_secs: 20,
        window: 5,
    };
    let mut ok = finding("ok", EntryStatus::Ok, &["ok.example"]);
    ok.unused = Some(Unused { runs: 3, rules: vec![] });
    let mut cdn = finding("cdn_*tile", EntryStatus::Ok, &["cdn.example"]);
    cdn.needs = vec![Need {
        host: "cdn.example".into(),
        kind: NeedKind::Host,
        requests: 2,
        main_frame: false,
        allowed_for: vec!["group:idp".into()],
    }];
    cdn.unused = Some(Unused { runs: 1, rules: vec![TileRule { rule: rule("old.example"), group: None }] });
    let gone = finding("gone", EntryStatus::Gone(404), &[]);
    let text = render_fr(&head, &[ok, cdn, gone]);
    for want in [
        "# Veille du catalogue",
        "version 2026120301, reçu par le canal signé",
        "- 3 tuiles ouvertes sans rien bloquer, 20 s au plus par page.",
        "- Adresse d'entrée à revoir : `gone`.",
        "- Hôtes nouveaux, que les règles de la tuile refusent : `cdn_*tile`.",
        "- Règles jamais vues lors des derniers passages (à retirer ?) : `cdn_*tile`.",
        "### CDN\\_\\*TILE (`cdn_*tile`)",
        "  - `cdn.example` — 2 requêtes ; déjà permis pour : groupe `idp`",
        "- Règles jamais vues lors du dernier passage (à retirer",
        "  - `old.example`",
        "- Règles jamais vues : aucune (3 passages regardés)",
        "- État : introuvable : le site répond 404 (page inexistante)",
        "- Règles jamais vues : pas d'avis",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    let calm = render_fr(&head, &[finding("ok", EntryStatus::Ok, &[])]);
    assert!(calm.contains("Rien à changer"), "{calm}");
}

#[test]
fn the_summary_counts_each_kind() {
    let mut cdn = finding("cdn", EntryStatus::Ok, &[]);
    cdn.needs = vec![Need {
        host: "cdn.example".into(),
        kind: NeedKind::Host,
        requests: 1,
        main_frame: false,
        allowed_for: vec![],
    }];
    cdn.unused = Some(Unused { runs: 2, rules: vec![TileRule { rule: rule("old.example"), group: None }] });
    let moved = finding(
        "moved",
        EntryStatus::Moved { to: Url::parse("https://b.example/").unwrap(), allowed: false, permanent: true },
        &[],
    );
    let findings = [
        cdn,
        moved,
        finding("gone", EntryStatus::Gone(410), &[]),
        finding("tls", EntryStatus::Unreachable(Failure::Tls), &[]),
        finding("err", EntryStatus::HttpError(500), &[]),
    ];
    assert_eq!(
        summary_fr(&findings, "/srv/veille/veille-catalogue.md"),
        "Veille du catalogue : 5 tuiles ; en ligne 1, déplacées 1, introuvables 1, en erreur 1, injoignables 1 ; \
         hôtes nouveaux pour 1, règles jamais vues pour 1. Rapport : /srv/veille/veille-catalogue.md"
    );
}
