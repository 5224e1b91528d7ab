//! The catalogue watch (`borne --audit-catalogue OUT`): what each tile's entry page does today,
//! against what the catalogue in force allows it.
//!
//! The shell (`src-tauri/src/audit.rs`) opens every tile's entry URL in a WebKit view with nothing
//! blocked and fills an [`Observation`]: the main frame's hops, every URL requested, every authority
//! dialled through the recording gate, the main resource's status and how the load ended. This module
//! makes every decision from it: the entry's [`EntryStatus`] (ok, moved to another host, 404/410,
//! TLS, timeout, DNS…), the hosts the tile's own rules would refuse ([`Need`]: what the tile now
//! needs), and — with the [`history`] of earlier runs — the rules no run has seen lately (candidates
//! to drop). [`report`] writes it all as a French Markdown document for the federation.

pub mod history;
pub mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use url::Url;

use crate::catalogue::service_entries;
use crate::host::{normalise_host, HostRule};
use crate::load::Loaded;
use crate::netfail::{classify_load_error, Failure, Upstream};
use crate::policy::{AllowEntry, BlockReason, Decision, LoadKind, Policy};

/// How long a tile's entry page may take to load.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long to wait after a load finished for late requests (scripts adding scripts, timers).
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(3);
/// How many earlier runs (in which a tile's page answered) a rule must go unseen in to be listed as
/// a candidate to drop.
pub const HISTORY_RUNS: usize = 5;
/// The report's file name in the output folder (`borne --audit-catalogue OUT`).
pub const REPORT_FILE: &str = "veille-catalogue.md";
/// The history's file name, beside the report.
pub const HISTORY_FILE: &str = "veille-catalogue.history.json";

/// One rule of a tile, as the catalogue writes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TileRule {
    /// The rule.
    pub rule: HostRule,
    /// The shared group it comes from (`None`: the tile's own `hosts` or `http_hosts`).
    pub group: Option<String>,
}

/// A tile to open: its entry URL and the rules it is judged against.
#[derive(Debug, Clone)]
pub struct Target {
    /// Tile id.
    pub id: String,
    /// Tile name.
    pub name: String,
    /// Entry URL.
    pub entry: Url,
    /// The tile's own rules (hosts, http_hosts, groups' hosts), sorted.
    pub rules: Vec<TileRule>,
    /// The tile's rules plus the référent's extra hosts: what the tile's pages may load.
    policy: Policy,
}

impl Target {
    /// A target from a tile's entry and its allow entries (the référent's extra hosts included).
    pub fn new(id: &str, name: &str, entry: Url, entries: Vec<AllowEntry>) -> Target {
        let mut rules: Vec<TileRule> = entries
            .iter()
            .filter(|e| e.needed_by.iter().any(|n| n == id))
            .map(|e| TileRule {
                rule: e.rule.clone(),
                group: e.needed_by.iter().find_map(|n| n.strip_prefix("group:")).map(str::to_string),
            })
            .collect();
        rules.sort();
        rules.dedup_by(|a, b| a.rule == b.rule);
        Target { id: id.into(), name: name.into(), entry, rules, policy: Policy::new(entries) }
    }

    /// The tile's policy decision for a URL.
    pub fn decide(&self, url: &str, kind: LoadKind) -> Decision {
        self.policy.decide_str(url, kind)
    }
}

/// Every tile of the catalogue in force (national and the référent's layer, the centre's own tile
/// included), in portal order.
pub fn targets(loaded: &Loaded) -> Vec<Target> {
    loaded
        .effective
        .services
        .iter()
        .map(|s| {
            let mut entries = service_entries(&s.hosts, &s.http_hosts, &s.groups, &loaded.national.groups, &s.id);
            entries.extend(loaded.local.extra_hosts.iter().map(|r| AllowEntry {
                rule: r.clone(),
                http: false,
                needed_by: vec!["local:extra_hosts".into()],
            }));
            Target::new(&s.id, &s.name, s.url.clone(), entries)
        })
        .collect()
}

/// How the load of an entry page ended, as the shell saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LoadEnd {
    /// WebKit finished the load (the page may still be an error page of the site).
    #[default]
    Finished,
    /// WebKit's `load-failed`: the GError's domain and code, what the gate saw when it dialled the
    /// host, and whether the machine had a network.
    Failed {
        /// GError domain (`g-resolver-error-quark`, `WebKitNetworkError`…).
        domain: String,
        /// GError code.
        code: i32,
        /// The gate's own failure for the host, if it had one.
        gate: Option<Upstream>,
        /// The system's network monitor said a network was there.
        online: bool,
    },
    /// The TLS handshake or the certificate failed.
    Tls,
    /// No answer before the timeout.
    TimedOut,
}

/// What the shell recorded while one entry page loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    /// Main-frame documents in order (the entry, each redirect hop, later navigations such as a
    /// meta refresh), each with the status it answered (0: no answer).
    pub main_frame: Vec<(String, u32)>,
    /// Every other URL requested (subresources, frames and their redirect hops).
    pub requests: Vec<String>,
    /// Navigations asked for but not requested as such (new windows, refused by the watch).
    pub navigations: Vec<String>,
    /// Authorities WebKit asked the gate to dial: scheme (`https` for a tunnel, `http`), host, port.
    pub dialled: Vec<(String, String, u16)>,
    /// How the load ended.
    pub end: LoadEnd,
}

/// What became of a tile's entry URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryStatus {
    /// The page answered on its host.
    Ok,
    /// The page now lives on another host.
    Moved {
        /// Where the main frame ended.
        to: Url,
        /// The tile's rules allow that host.
        allowed: bool,
        /// The first redirect was permanent (301 or 308).
        permanent: bool,
    },
    /// The site says the page does not exist (404) or is gone (410).
    Gone(u32),
    /// Another HTTP error (4xx or 5xx).
    HttpError(u32),
    /// The page could not be reached (DNS, refused, TLS, timeout, no network, other).
    Unreachable(Failure),
}

impl EntryStatus {
    /// A stable code (the history and the report's summary use it).
    pub fn code(&self) -> &'static str {
        match self {
            EntryStatus::Ok => "ok",
            EntryStatus::Moved { .. } => "moved",
            EntryStatus::Gone(_) => "gone",
            EntryStatus::HttpError(_) => "http-error",
            EntryStatus::Unreachable(f) => f.code(),
        }
    }

    /// The page answered with what the tile is for (ok, or moved): its hosts count in the history.
    pub fn answered(&self) -> bool {
        matches!(self, EntryStatus::Ok | EntryStatus::Moved { .. })
    }
}

/// Why the tile's rules refuse a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NeedKind {
    /// The host is in none of the tile's rules.
    Host,
    /// An IP address no rule lists.
    IpLiteral,
    /// The host is allowed over https only, and the page used plain http.
    PlainHttp,
    /// A port other than the default.
    Port(u16),
}

/// A host the page loaded or tried that the tile's rules would refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The host (normalised).
    pub host: String,
    /// Why it is refused.
    pub kind: NeedKind,
    /// URLs requested on it (0: a connection was opened, no request seen).
    pub requests: usize,
    /// The main frame went there (a redirect or a navigation of the page itself).
    pub main_frame: bool,
    /// What already allows it in the borne's whole allow-list (other tiles, `group:…`).
    pub allowed_for: Vec<String>,
}

/// Everything the watch found for one tile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Tile id.
    pub id: String,
    /// Tile name.
    pub name: String,
    /// Entry URL.
    pub entry: Url,
    /// What became of it.
    pub status: EntryStatus,
    /// Where the main frame ended, when it is not the entry.
    pub final_url: Option<Url>,
    /// Hosts the tile's rules refuse, by host.
    pub needs: Vec<Need>,
    /// Every network host the page loaded or tried.
    pub seen: BTreeSet<String>,
    /// Rules no recent run saw (filled from the history).
    pub unused: Option<history::Unused>,
}

fn host_of(url: &Url) -> Option<String> {
    match url.host()? {
        url::Host::Domain(d) => normalise_host(d),
        url::Host::Ipv4(ip) => Some(ip.to_string()),
        url::Host::Ipv6(ip) => Some(format!("[{ip}]")),
    }
}

fn network_host(url: &str) -> Option<String> {
    let u = Url::parse(url).ok()?;
    let u = if u.scheme() == "blob" { Url::parse(u.path()).ok()? } else { u };
    matches!(u.scheme(), "http" | "https" | "ws" | "wss").then(|| host_of(&u)).flatten()
}

/// Classifies the entry from what the shell observed.
pub fn classify(target: &Target, obs: &Observation) -> (EntryStatus, Option<Url>) {
    let last = obs.main_frame.last().and_then(|(u, s)| Url::parse(u).ok().map(|u| (u, *s)));
    let final_url = last.as_ref().map(|(u, _)| u.clone()).filter(|u| u != &target.entry);
    let status = match &obs.end {
        LoadEnd::Tls => EntryStatus::Unreachable(Failure::Tls),
        LoadEnd::TimedOut => EntryStatus::Unreachable(Failure::Timeout),
        LoadEnd::Failed { domain, code, gate, online } => {
            match classify_load_error(domain, *code, *gate, *online) {
                Some(f) => EntryStatus::Unreachable(f),
                // Not a network failure (a download, a cancelled load): judged on what answered.
                None => answered(target, obs, last.as_ref()),
            }
        }
        LoadEnd::Finished => answered(target, obs, last.as_ref()),
    };
    (status, final_url)
}

fn answered(target: &Target, obs: &Observation, last: Option<&(Url, u32)>) -> EntryStatus {
    let Some((url, status)) = last else { return EntryStatus::Unreachable(Failure::Unreachable) };
    match *status {
        0 => return EntryStatus::Unreachable(Failure::Unreachable),
        404 | 410 => return EntryStatus::Gone(*status),
        s if s >= 400 => return EntryStatus::HttpError(s),
        _ => {}
    }
    if host_of(url) != host_of(&target.entry) {
        let permanent = obs.main_frame.first().is_some_and(|(_, s)| matches!(s, 301 | 308));
        let allowed = target.decide(url.as_str(), LoadKind::Navigation).is_allowed();
        return EntryStatus::Moved { to: url.clone(), allowed, permanent };
    }
    EntryStatus::Ok
}

/// The hosts the tile's rules refuse among what the page loaded or tried, with what allows each
/// elsewhere in `whole` (the borne's allow-list), sorted by host.
pub fn needs(target: &Target, obs: &Observation, whole: &Policy) -> Vec<Need> {
    let mut out: BTreeMap<String, Need> = BTreeMap::new();
    let mut note = |host: String, kind: NeedKind, request: bool, main: bool| {
        let allowed_for = whole.rule_for_host(&host).map(|i| whole.entries()[i].needed_by.clone()).unwrap_or_default();
        let n = out.entry(host.clone()).or_insert(Need { host, kind, requests: 0, main_frame: false, allowed_for });
        n.kind = n.kind.min(kind);
        n.requests += usize::from(request);
        n.main_frame |= main;
    };
    let kind_of = |d: Decision| match d {
        Decision::Block { reason, host: Some(h) } => match reason {
            BlockReason::HostNotAllowed(_) => Some((h, NeedKind::Host)),
            BlockReason::IpLiteral(_) => Some((h, NeedKind::IpLiteral)),
            BlockReason::InsecureHttp(_) => Some((h, NeedKind::PlainHttp)),
            BlockReason::Port(p) => Some((h, NeedKind::Port(p))),
            _ => None,
        },
        _ => None,
    };
    for (u, _) in &obs.main_frame {
        if let Some((h, k)) = kind_of(target.decide(u, LoadKind::Navigation)) {
            note(h, k, true, true);
        }
    }
    for u in &obs.requests {
        if let Some((h, k)) = kind_of(target.decide(u, LoadKind::Subresource)) {
            note(h, k, true, false);
        }
    }
    for u in &obs.navigations {
        if let Some((h, k)) = kind_of(target.decide(u, LoadKind::Navigation)) {
            note(h, k, true, false);
        }
    }
    for (scheme, host, port) in &obs.dialled {
        if let Some((h, k)) = kind_of(target.policy.decide_authority(scheme, host, *port)) {
            note(h, k, false, false);
        }
    }
    out.into_values().collect()
}

/// Every network host the page loaded or tried.
pub fn seen(obs: &Observation) -> BTreeSet<String> {
    let urls = obs.main_frame.iter().map(|(u, _)| u).chain(&obs.requests).chain(&obs.navigations);
    let mut out: BTreeSet<String> = urls.filter_map(|u| network_host(u)).collect();
    out.extend(obs.dialled.iter().filter_map(|(_, h, _)| {
        let bracketed = if h.contains(':') && !h.starts_with('[') { format!("[{h}]") } else { h.clone() };
        normalise_host(&bracketed)
    }));
    out
}

/// Everything about one tile, without the history.
pub fn examine(target: &Target, obs: &Observation, whole: &Policy) -> Finding {
    let (status, final_url) = classify(target, obs);
    Finding {
        id: target.id.clone(),
        name: target.name.clone(),
        entry: target.entry.clone(),
        status,
        final_url,
        needs: needs(target, obs, whole),
        seen: seen(obs),
        unused: None,
    }
}

#[cfg(test)]
mod tests;
