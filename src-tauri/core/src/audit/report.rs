//! The catalogue watch's report, in French Markdown, for the federation that turns it into the next
//! signed catalogue: a summary, then one section per tile (entry status, hosts the tile now needs,
//! rules no recent run saw). The whole text of the report is here, like the fleet report's.

use std::fmt::Write;

use super::{EntryStatus, Finding, Need, NeedKind, TileRule};
use crate::netfail::Failure;

/// What the report says about the run itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// When the run started (RFC 3339, UTC).
    pub at: String,
    /// Version of the national catalogue in force (0: the shipped file has none).
    pub catalogue_version: u64,
    /// `"channel"` or `"shipped"`.
    pub catalogue_source: String,
    /// The configuration in force is not the current files (last good copy or built-in).
    pub fallback: bool,
    /// Seconds a page had to load.
    pub timeout_secs: u64,
    /// Runs looked back over for rules never seen.
    pub window: usize,
}

/// Escapes Markdown's special characters in text from the catalogue (names).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A code span (hosts, URLs), with a fence longer than any backtick run inside.
fn code(s: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if longest > 0 { " " } else { "" };
    format!("{fence}{pad}{s}{pad}{fence}")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n > 1 { many } else { one })
}

/// The entry's status in one French phrase.
pub fn status_fr(status: &EntryStatus, timeout_secs: u64) -> String {
    match status {
        EntryStatus::Ok => "en ligne".into(),
        EntryStatus::Moved { to, allowed, permanent } => format!(
            "déplacée vers {}{}, {}",
            code(to.as_str()),
            if *permanent { " (redirection permanente)" } else { "" },
            if *allowed {
                "un hôte que les règles de la tuile permettent déjà : mettre à jour l'adresse d'entrée"
            } else {
                "un hôte que les règles de la tuile refusent : mettre à jour l'adresse d'entrée et les hôtes"
            }
        ),
        EntryStatus::Gone(404) => "introuvable : le site répond 404 (page inexistante)".into(),
        EntryStatus::Gone(s) => format!("supprimée : le site répond {s} (page retirée)"),
        EntryStatus::HttpError(s) => format!("erreur du site : il répond {s}"),
        EntryStatus::Unreachable(f) => match f {
            Failure::Tls => "erreur TLS : certificat refusé ou connexion sécurisée impossible".into(),
            Failure::Timeout => format!("pas de réponse en {timeout_secs} s (délai dépassé)"),
            Failure::Dns => "nom introuvable (DNS) : le nom du site ne correspond à aucune adresse".into(),
            Failure::Refused => "connexion refusée par le site".into(),
            Failure::Offline => "pas de réseau sur la machine de la veille".into(),
            Failure::Server => "erreur du site".into(),
            Failure::Unreachable => "site injoignable (erreur réseau)".into(),
        },
    }
}

fn need_fr(n: &Need) -> String {
    let why = match n.kind {
        NeedKind::Host => String::new(),
        NeedKind::IpLiteral => " (adresse IP)".into(),
        NeedKind::PlainHttp => " (en http non chiffré : à ajouter à `http_hosts` seulement si le site l'exige)".into(),
        NeedKind::Port(p) => format!(" (port {p}, que la borne ne permet jamais)"),
    };
    let how = match (n.requests, n.main_frame) {
        (_, true) => "la page elle-même y est allée".to_string(),
        (0, false) => "connexion ouverte, aucune requête vue".to_string(),
        (r, false) => plural(r, "requête", "requêtes"),
    };
    let elsewhere = if n.allowed_for.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = n
            .allowed_for
            .iter()
            .map(|a| match a.strip_prefix("group:") {
                Some(g) => format!("groupe {}", code(g)),
                None if a == "local:extra_hosts" => "hôtes ajoutés par le centre".into(),
                None => format!("tuile {}", code(a)),
            })
            .collect();
        format!(" ; déjà permis pour : {}", names.join(", "))
    };
    format!("{}{why} — {how}{elsewhere}", code(&n.host))
}

fn rule_fr(r: &TileRule) -> String {
    match &r.group {
        Some(g) => format!("{} (groupe {}, partagé)", code(&r.rule.to_string()), code(g)),
        None => code(&r.rule.to_string()),
    }
}

/// The whole report.
pub fn render_fr(head: &Head, findings: &[Finding]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Veille du catalogue\n");
    let source = if head.catalogue_source == "channel" { "reçu par le canal signé" } else { "livré avec la borne" };
    let version =
        if head.catalogue_version == 0 { "sans numéro".to_string() } else { head.catalogue_version.to_string() };
    let _ = writeln!(o, "- Passage du {} (UTC).", head.at);
    let _ = writeln!(o, "- Catalogue national en vigueur : version {version}, {source} ; avec la couche du centre.");
    if head.fallback {
        let _ = writeln!(
            o,
            "- Attention : les fichiers actuels ont des erreurs, la veille a porté sur la dernière version valable."
        );
    }
    let _ = writeln!(
        o,
        "- {} sans rien bloquer, {} s au plus par page.\n",
        plural(findings.len(), "tuile ouverte", "tuiles ouvertes"),
        head.timeout_secs
    );

    let _ = writeln!(o, "## En bref\n");
    let broken: Vec<&Finding> = findings.iter().filter(|f| !matches!(f.status, EntryStatus::Ok)).collect();
    let needing: Vec<&Finding> = findings.iter().filter(|f| !f.needs.is_empty()).collect();
    let unused: Vec<&Finding> =
        findings.iter().filter(|f| f.unused.as_ref().is_some_and(|u| !u.rules.is_empty())).collect();
    if broken.is_empty() && needing.is_empty() && unused.is_empty() {
        let _ = writeln!(o, "Rien à changer : chaque tuile s'ouvre et ne charge que des hôtes permis.\n");
    } else {
        let ids = |v: &[&Finding]| v.iter().map(|f| code(&f.id)).collect::<Vec<_>>().join(", ");
        if !broken.is_empty() {
            let _ = writeln!(o, "- Adresse d'entrée à revoir : {}.", ids(&broken));
        }
        if !needing.is_empty() {
            let _ = writeln!(o, "- Hôtes nouveaux, que les règles de la tuile refusent : {}.", ids(&needing));
        }
        if !unused.is_empty() {
            let _ = writeln!(o, "- Règles jamais vues lors des derniers passages (à retirer ?) : {}.", ids(&unused));
        }
        let _ = writeln!(o);
    }

    let _ = writeln!(o, "## Tuiles\n");
    for f in findings {
        let _ = writeln!(o, "### {} ({})\n", text(&f.name), code(&f.id));
        let _ = writeln!(o, "- Adresse d'entrée : {}", code(f.entry.as_str()));
        let _ = writeln!(o, "- État : {}", status_fr(&f.status, head.timeout_secs));
        if let (Some(u), false) = (&f.final_url, matches!(f.status, EntryStatus::Moved { .. })) {
            let _ = writeln!(o, "- Adresse finale : {}", code(u.as_str()));
        }
        if f.needs.is_empty() {
            let _ = writeln!(o, "- Hôtes refusés par ses règles : aucun");
        } else {
            let _ = writeln!(o, "- Hôtes chargés ou tentés que ses règles refusent (ce dont la tuile a besoin) :");
            for n in &f.needs {
                let _ = writeln!(o, "  - {}", need_fr(n));
            }
        }
        match &f.unused {
            Some(u) if !u.rules.is_empty() => {
                let _ = writeln!(
                    o,
                    "- Règles jamais vues lors {} (à retirer si la démarche n'en a pas besoin après la connexion) :",
                    if u.runs == 1 {
                        "du dernier passage".to_string()
                    } else {
                        format!("des {} derniers passages", u.runs)
                    }
                );
                for r in &u.rules {
                    let _ = writeln!(o, "  - {}", rule_fr(r));
                }
            }
            Some(u) => {
                let _ = writeln!(
                    o,
                    "- Règles jamais vues : aucune ({} regardé{})",
                    plural(u.runs, "passage", "passages"),
                    if u.runs > 1 { "s" } else { "" }
                );
            }
            None => {
                let _ = writeln!(
                    o,
                    "- Règles jamais vues : pas d'avis, la page n'a pas répondu lors des derniers passages"
                );
            }
        }
        if !f.seen.is_empty() {
            let hosts: Vec<String> = f.seen.iter().map(|h| code(h)).collect();
            let _ = writeln!(o, "- Hôtes vus : {}", hosts.join(", "));
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(
        o,
        "Seule la page d'entrée de chaque tuile est ouverte, sans connexion à un compte : un hôte qui ne sert \
         qu'après la connexion (un fournisseur d'identité, un espace personnel) n'y apparaît jamais. \
         Vérifiez avant de retirer une règle."
    );
    o
}

/// The one line `borne --audit-catalogue` prints when the report is written.
pub fn summary_fr(findings: &[Finding], report: &str) -> String {
    let count = |pred: fn(&EntryStatus) -> bool| findings.iter().filter(|f| pred(&f.status)).count();
    let ok = count(|s| matches!(s, EntryStatus::Ok));
    let moved = count(|s| matches!(s, EntryStatus::Moved { .. }));
    let gone = count(|s| matches!(s, EntryStatus::Gone(_)));
    let http = count(|s| matches!(s, EntryStatus::HttpError(_)));
    let unreachable = count(|s| matches!(s, EntryStatus::Unreachable(_)));
    let needing = findings.iter().filter(|f| !f.needs.is_empty()).count();
    let unused = findings.iter().filter(|f| f.unused.as_ref().is_some_and(|u| !u.rules.is_empty())).count();
    format!(
        "Veille du catalogue : {} ; en ligne {ok}, déplacées {moved}, introuvables {gone}, en erreur {http}, \
         injoignables {unreachable} ; hôtes nouveaux pour {needing}, règles jamais vues pour {unused}. Rapport : {report}",
        plural(findings.len(), "tuile", "tuiles")
    )
}
