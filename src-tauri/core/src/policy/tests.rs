//! The bypass table: every family of URL trick the issue lists, allowed and blocked, plus property tests
//! and a check that the content-blocker regexes agree with `decide`.

use super::*;
use proptest::prelude::*;

fn entry(rule: &str, http: bool) -> AllowEntry {
    AllowEntry { rule: HostRule::parse(rule).unwrap(), http, needed_by: vec!["test".into()] }
}

fn policy() -> Policy {
    Policy::new([
        entry("caf.fr", false),
        entry("*.caf.fr", false),
        entry("*.ameli.fr", false),
        entry("franceconnect.gouv.fr", false),
        entry("app.franceconnect.gouv.fr", false),
        entry("*.impots.gouv.fr", false),
        entry("intranet.centre-exemple.fr", true),
        entry("xn--exemple--i1a.fr", false),
        entry("192.0.2.10", false),
    ])
}

/// (url, allowed?) — each line a family named in the comment above it.
const TABLE: &[(&str, bool)] = &[
    // plain allowed hosts, exact and wildcard
    ("https://caf.fr/", true),
    ("https://www.caf.fr/", true),
    ("https://wwwd.caf.fr/api/attestationsfront/v1", true),
    ("https://a.b.c.caf.fr/", true),
    ("https://assure.ameli.fr/PortailAS/appmanager", true),
    ("https://franceconnect.gouv.fr/", true),
    ("https://app.franceconnect.gouv.fr/api/v1/authorize", true),
    ("https://cfspart-idp.impots.gouv.fr/", true),
    ("https://www.caf.fr/?q=a#frag", true),
    ("https://www.caf.fr/%2F%2Fevil.com", true),
    // a wildcard does not cover its bare domain, nor neighbours
    ("https://ameli.fr/", false),
    ("https://impots.gouv.fr/", false),
    ("https://oidc.franceconnect.gouv.fr/", false),
    ("https://gouv.fr/", false),
    // label boundary: look-alike names
    ("https://evilcaf.fr/", false),
    ("https://www.evilcaf.fr/", false),
    ("https://caf.fr.evil.com/", false),
    ("https://www.caf.fr.evil.com/", false),
    ("https://caf-fr.com/", false),
    ("https://wwwcaf.fr/", false),
    ("https://xcaf.fr/", false),
    ("https://ameli.fr.evil.net/", false),
    ("https://caf.frr/", false),
    ("https://caf.f/", false),
    // userinfo cannot smuggle a host in (nor be used at all)
    ("https://www.caf.fr@evil.com/", false),
    ("https://www.caf.fr:443@evil.com/", false),
    ("https://www.caf.fr%40evil.com/", false),
    ("https://user@www.caf.fr/", false),
    ("https://user:pass@www.caf.fr/", false),
    ("https://evil.com@www.caf.fr/", false),
    ("https://evil.com%40www.caf.fr/", false),
    // fragments and queries carry no host
    ("https://evil.com/#https://www.caf.fr/", false),
    ("https://evil.com/?next=https://www.caf.fr/", false),
    ("https://evil.com#@www.caf.fr", false),
    ("https://evil.com?@www.caf.fr", false),
    ("https://evil.com\\@www.caf.fr/", false),
    // percent-encoding and case
    ("https://WWW.CAF.FR/", true),
    ("https://Www.Caf.Fr/", true),
    ("https://www%2Ecaf%2Efr/", true),
    ("https://evil%2Ecom/", false),
    ("https://www.caf%2Efr.evil.com/", false),
    ("https://www.caf.fr%2F.evil.com/", false),
    // trailing dots
    ("https://www.caf.fr./", true),
    ("https://caf.fr./", true),
    ("https://evilcaf.fr./", false),
    ("https://www.caf.fr../", false),
    // ports
    ("https://www.caf.fr:443/", true),
    ("https://www.caf.fr:8443/", false),
    ("https://www.caf.fr:80/", false),
    ("http://intranet.centre-exemple.fr:80/", true),
    ("http://intranet.centre-exemple.fr:8080/", false),
    // IP literals in any spelling
    ("https://127.0.0.1/", false),
    ("https://2130706433/", false),
    ("https://0x7f000001/", false),
    ("https://0177.0.0.1/", false),
    ("https://0x7f.0.0.1/", false),
    ("https://127.1/", false),
    ("https://[::1]/", false),
    ("https://[::ffff:127.0.0.1]/", false),
    ("https://[::ffff:7f00:1]/", false),
    ("https://192.0.2.10/", true),
    ("https://3221225994/", true),
    ("https://0xc0.0.2.10/", true),
    ("https://[::ffff:192.0.2.10]/", false),
    // IDN
    ("https://exemple-é.fr/", true),
    ("https://EXEMPLE-É.fr/", true),
    ("https://xn--exemple--i1a.fr/", true),
    ("https://cаf.fr/", false),
    ("https://www.cаf.fr/", false),
    // schemes
    ("http://www.caf.fr/", false),
    ("http://intranet.centre-exemple.fr/", true),
    ("javascript:alert(1)", false),
    ("JaVaScRiPt:alert(1)", false),
    (" javascript:alert(1)", false),
    ("file:///etc/passwd", false),
    ("file://localhost/etc/passwd", false),
    ("view-source:https://www.caf.fr/", false),
    ("ftp://www.caf.fr/", false),
    ("ws://www.caf.fr/", false),
    ("chrome://settings", false),
    ("webkit://gpu", false),
    ("about:config", false),
    ("about:blank?x", false),
    ("mailto:a@caf.fr", false),
    ("tel:+33123456789", false),
    ("sms:+33123456789", false),
    ("intent://www.caf.fr#Intent;end", false),
    ("vbscript:msgbox", false),
    ("resource:///x", false),
    ("inspector://x", false),
    ("data:text/html,<script>alert(1)</script>", false),
    ("data:text/html;base64,PHNjcmlwdD4=", false),
    ("about:blank", true),
    ("about:srcdoc", true),
    // blob
    ("blob:https://wwwd.caf.fr/0c9a2b3e-1111-2222-3333-444455556666", true),
    ("blob:https://evil.com/0c9a2b3e-1111-2222-3333-444455556666", false),
    ("blob:null/0c9a2b3e", false),
    ("blob:http://www.caf.fr/0c9a", false),
    // malformed
    ("https://", false),
    ("https:///www.caf.fr", true),
    ("not a url", false),
    ("", false),
    ("//www.caf.fr/", false),
    // the kiosk's own origin is never "allowed" as a remote page
    ("tauri://evil/", false),
    ("tauri://localhost:1234/", false),
];

#[test]
fn bypass_table() {
    let p = policy();
    assert!(TABLE.len() >= 80, "the table must hold at least 80 cases");
    let mut failures = Vec::new();
    for (url, allowed) in TABLE {
        let d = p.decide_str(url, LoadKind::Navigation);
        if d.is_allowed() != *allowed {
            failures.push(format!("{url}: expected {} got {d:?}", if *allowed { "allow" } else { "block" }));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn internal_pages_are_flagged_not_allowed() {
    let p = policy();
    assert_eq!(p.decide_str("tauri://localhost/index.html", LoadKind::Navigation), Decision::Internal);
    assert_eq!(p.decide_str("blob:tauri://localhost/abc", LoadKind::Navigation), Decision::Internal);
}

#[test]
fn data_is_a_subresource_only() {
    let p = policy();
    assert!(p.decide_str("data:image/png;base64,AAAA", LoadKind::Subresource).is_allowed());
    assert!(!p.decide_str("data:image/png;base64,AAAA", LoadKind::Navigation).is_allowed());
}

#[test]
fn reasons_name_the_host() {
    let p = policy();
    match p.decide_str("https://www.evil.com/path?q=1", LoadKind::Navigation) {
        Decision::Block { reason: BlockReason::HostNotAllowed(h), host } => {
            assert_eq!(h, "www.evil.com");
            assert_eq!(host.as_deref(), Some("www.evil.com"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        p.decide_str("https://0x7f000001/", LoadKind::Navigation),
        Decision::Block { reason: BlockReason::IpLiteral(h), .. } if h == "127.0.0.1"
    ));
    assert!(p.explain(&p.decide_str("https://www.caf.fr/", LoadKind::Navigation)).starts_with("allow *.caf.fr"));
}

#[test]
fn merges_duplicate_rules() {
    let p = Policy::new([
        AllowEntry { rule: HostRule::parse("*.caf.fr").unwrap(), http: false, needed_by: vec!["caf".into()] },
        AllowEntry { rule: HostRule::parse("*.CAF.fr.").unwrap(), http: false, needed_by: vec!["ants".into()] },
    ]);
    assert_eq!(p.entries().len(), 1);
    assert_eq!(p.entries()[0].needed_by, vec!["ants".to_string(), "caf".to_string()]);
}

/// The content-blocker JSON, read back and its regexes run: what it lets through must be exactly what
/// `decide` allows as a subresource (for canonical URLs, which is what WebKit matches against).
#[test]
fn content_filter_agrees_with_decide() {
    let p = policy();
    let json: serde_json::Value = serde_json::from_str(&p.content_filter_json()).unwrap();
    let rules = json.as_array().unwrap();
    assert_eq!(rules[0]["trigger"]["url-filter"], ".*");
    assert_eq!(rules[0]["action"]["type"], "block");
    let allow: Vec<regex::Regex> = rules[1..]
        .iter()
        .map(|r| {
            assert_eq!(r["action"]["type"], "ignore-previous-rules");
            regex::RegexBuilder::new(r["trigger"]["url-filter"].as_str().unwrap())
                .case_insensitive(true)
                .build()
                .unwrap()
        })
        .collect();
    let passes = |u: &str| allow.iter().any(|r| r.is_match(u));
    let mut checked = 0;
    for (url, _) in TABLE {
        let Ok(parsed) = Url::parse(url.trim()) else { continue };
        if parsed.scheme() == "tauri" {
            continue;
        }
        let canonical = parsed.as_str();
        let d = p.decide(&parsed, LoadKind::Subresource);
        assert_eq!(passes(canonical), d.is_allowed(), "{canonical}: {d:?}");
        checked += 1;
    }
    assert!(checked > 70);
    assert!(passes("wss://www.caf.fr/socket"));
    assert!(!passes("wss://evil.com/socket"));
    assert!(!passes("https://evil.com/x.caf.fr/"));
    assert!(!passes("https://www.caf.fr:8443/"));
    let docs: Vec<_> = rules.iter().filter(|r| r["trigger"]["url-filter"] == "^borne-doc://").collect();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["trigger"]["resource-type"], serde_json::json!(["document"]), "documents as pages only");
}

/// A naive, obviously-right oracle: does some rule cover this normalised host?
fn oracle(rules: &[&str], host: &str) -> bool {
    rules.iter().any(|r| match r.strip_prefix("*.") {
        Some(s) => host.ends_with(&format!(".{s}")),
        None => host == *r,
    })
}

const RULES: &[&str] = &["caf.fr", "*.caf.fr", "*.ameli.fr", "franceconnect.gouv.fr", "*.impots.gouv.fr"];

fn rules_policy() -> Policy {
    Policy::new(RULES.iter().map(|r| entry(r, false)))
}

fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9-]{1,12}",
        Just("caf".to_string()),
        Just("fr".to_string()),
        Just("ameli".to_string()),
        Just("gouv".to_string()),
        Just("impots".to_string()),
        Just("www".to_string()),
        Just("evilcaf".to_string()),
        Just("CAF".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// No generated host outside the rules is ever allowed, whatever the case, trailing dot or label mix.
    #[test]
    fn no_host_outside_rules_is_allowed(labels in prop::collection::vec(label(), 1..5), dot in any::<bool>()) {
        let host = format!("{}{}", labels.join("."), if dot { "." } else { "" });
        let url = format!("https://{host}/");
        let p = rules_policy();
        if let Ok(parsed) = Url::parse(&url) {
            let d = p.decide(&parsed, LoadKind::Navigation);
            let real = parsed.host_str().unwrap_or("").trim_end_matches('.').to_ascii_lowercase();
            prop_assert_eq!(d.is_allowed(), oracle(RULES, &real), "{} -> {:?}", url, d);
        }
    }

    /// Whatever is put before an allowed host (userinfo, other hosts, encodings), the host WebKit would
    /// connect to is the one the decision is about.
    #[test]
    fn smuggling_never_allows_another_host(
        prefix in "[a-z.@:%/?#\\\\0-9]{0,16}",
        evil in "[a-z]{1,8}\\.(com|net|org)",
        allowed in prop::sample::select(vec!["www.caf.fr", "assure.ameli.fr", "franceconnect.gouv.fr"]),
        order in any::<bool>(),
    ) {
        let url = if order { format!("https://{allowed}{prefix}{evil}/") } else { format!("https://{evil}{prefix}{allowed}/") };
        let p = rules_policy();
        if let Ok(parsed) = Url::parse(&url) {
            let d = p.decide(&parsed, LoadKind::Navigation);
            if d.is_allowed() {
                let real = parsed.host_str().unwrap_or("").trim_end_matches('.');
                prop_assert!(oracle(RULES, real), "{} allowed but connects to {}", url, real);
                prop_assert!(parsed.username().is_empty() && parsed.password().is_none());
                prop_assert!(parsed.port().is_none());
            }
        }
    }
}

#[test]
fn authorities_for_the_network_gate() {
    let p = policy();
    assert!(p.decide_authority("https", "www.caf.fr", 443).is_allowed());
    assert!(p.decide_authority("https", "WWW.CAF.FR.", 443).is_allowed());
    assert!(!p.decide_authority("https", "www.caf.fr", 8443).is_allowed());
    assert!(!p.decide_authority("https", "evil.com", 443).is_allowed());
    assert!(!p.decide_authority("https", "127.0.0.1", 443).is_allowed());
    assert!(!p.decide_authority("https", "::1", 443).is_allowed());
    assert!(p.decide_authority("https", "192.0.2.10", 443).is_allowed());
    assert!(!p.decide_authority("http", "www.caf.fr", 80).is_allowed());
    assert!(p.decide_authority("http", "intranet.centre-exemple.fr", 80).is_allowed());
    assert!(!p.decide_authority("https", "www.caf.fr@evil.com", 443).is_allowed());
    assert!(!p.decide_authority("https", "evil.com/x.caf.fr", 443).is_allowed());
}

/// WebKit's PDF viewer (an iframe on its own scheme) may load, on its one host only: without it a
/// PDF shows as a white page.
#[test]
fn webkit_pdf_viewer_is_allowed_on_its_host_only() {
    let p = policy();
    for kind in [LoadKind::Navigation, LoadKind::Subresource] {
        assert_eq!(
            p.decide_str("webkit-pdfjs-viewer://pdfjs/web/viewer.html?file=", kind),
            Decision::Allow(AllowedBy::PdfViewer)
        );
        assert!(!p.decide_str("webkit-pdfjs-viewer://evil.test/web/viewer.html", kind).is_allowed());
        assert!(!p.decide_str("webkit-pdfjs-viewer://user@pdfjs/web/viewer.html", kind).is_allowed());
    }
}
