//! Host policy: decides whether the kiosk may load a URL, and writes the WebKit content-blocker rules
//! that enforce the same allow-list on subresources (fetch, XHR, images, scripts, websockets).
//!
//! Knows nothing of Tauri: `src-tauri/src/navigation.rs` calls [`Policy::decide`] for every navigation
//! (top level, frames, redirect hops, history moves) and loads [`Policy::content_filter_json`] into WebKit.
//! URLs are parsed with the `url` crate, never matched as strings, so userinfo, percent-encoding, case,
//! trailing dots, IP spellings and ports cannot smuggle a host in or out.
//!
//! Special schemes, and why:
//! - `about:blank` / `about:srcdoc`: the empty document every new frame and window starts with.
//! - `blob:` whose inner origin is an allowed https host: CAF builds its PDF attestations as blobs.
//! - `data:` only for subresources (inline images and fonts); a `data:` *navigation* is refused, as
//!   browsers do for top-level pages, because it can show any page under no host at all.
//! - The kiosk's own pages (`tauri://localhost`) are [`Decision::Internal`]: the shell alone may load them.
//! - Everything else (`javascript:`, `file:`, `view-source:`, `ftp:`, `ws:` on a navigation, …) is blocked.

use std::collections::HashMap;
use std::fmt;

use url::Url;

use crate::host::{normalise_host, HostRule};

/// The origin the kiosk serves its own pages from (Tauri's custom protocol on Linux).
pub const INTERNAL_SCHEME: &str = "tauri";
/// Host of the internal origin.
pub const INTERNAL_HOST: &str = "localhost";
/// WebKit's own PDF viewer (PDF.js bundled in WebKitGTK): a PDF shown in a page is drawn by an
/// iframe at `webkit-pdfjs-viewer://pdfjs/web/viewer.html`, which loads its scripts from there and
/// gets the PDF's bytes from WebKit, not from the network.
pub const PDF_VIEWER_SCHEME: &str = "webkit-pdfjs-viewer";
/// The only host of [`PDF_VIEWER_SCHEME`].
pub const PDF_VIEWER_HOST: &str = "pdfjs";

/// One allowed host rule, with what needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    /// The rule.
    pub rule: HostRule,
    /// Plain `http://` is allowed for this rule (only when a tile says so explicitly).
    pub http: bool,
    /// Ids of the tiles (or host groups) that need this rule, sorted, without duplicates.
    pub needed_by: Vec<String>,
}

/// What kind of load is being decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadKind {
    /// A document load: top-level or frame navigation, redirect hop, form, history move, new window.
    Navigation,
    /// A subresource (image, script, fetch, websocket…).
    Subresource,
}

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockReason {
    /// The text is not a URL.
    Malformed,
    /// A scheme the kiosk never loads.
    Scheme(String),
    /// A `data:` URL as a document.
    DataNavigation,
    /// A `blob:` whose origin is opaque or not allowed.
    BlobOrigin,
    /// User name or password in the URL.
    Userinfo,
    /// A port other than the scheme's default.
    Port(u16),
    /// An IP literal that no rule lists.
    IpLiteral(String),
    /// A host outside the allow-list.
    HostNotAllowed(String),
    /// Plain http to a host only allowed over https.
    InsecureHttp(String),
}

impl BlockReason {
    /// A stable code for logs, statistics and the UI (`blocked.reason.<code>` in the strings files).
    pub fn code(&self) -> &'static str {
        match self {
            BlockReason::Malformed => "malformed",
            BlockReason::Scheme(_) => "scheme",
            BlockReason::DataNavigation => "data-navigation",
            BlockReason::BlobOrigin => "blob-origin",
            BlockReason::Userinfo => "userinfo",
            BlockReason::Port(_) => "port",
            BlockReason::IpLiteral(_) => "ip-literal",
            BlockReason::HostNotAllowed(_) => "host-not-allowed",
            BlockReason::InsecureHttp(_) => "insecure-http",
        }
    }
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockReason::Malformed => write!(f, "malformed: not a URL"),
            BlockReason::Scheme(s) => write!(f, "scheme: `{s}:` is never loaded"),
            BlockReason::DataNavigation => write!(f, "data-navigation: data: URLs may not be opened as pages"),
            BlockReason::BlobOrigin => write!(f, "blob-origin: the blob's origin is not allowed"),
            BlockReason::Userinfo => write!(f, "userinfo: user name or password in the URL"),
            BlockReason::Port(p) => write!(f, "port: non-default port {p}"),
            BlockReason::IpLiteral(h) => write!(f, "ip-literal: {h} is an IP address no rule lists"),
            BlockReason::HostNotAllowed(h) => write!(f, "host-not-allowed: {h} is not in the allow-list"),
            BlockReason::InsecureHttp(h) => write!(f, "insecure-http: {h} is allowed over https only"),
        }
    }
}

/// Why a URL is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedBy {
    /// A host rule (its index in [`Policy::entries`]).
    Rule(usize),
    /// `about:blank` or `about:srcdoc`.
    AboutBlank,
    /// A `data:` subresource.
    DataSubresource,
    /// WebKit's own PDF viewer ([`PDF_VIEWER_SCHEME`]): it reaches the network only through the
    /// same rules, so a link in a PDF is decided like any other.
    PdfViewer,
}

/// The policy's answer for one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Load it.
    Allow(AllowedBy),
    /// One of the kiosk's own pages: only the shell may load it, never a remote page.
    Internal,
    /// Refuse it. `host` is the host part when there is one, for the blocked page and statistics.
    Block {
        /// Why.
        reason: BlockReason,
        /// The (normalised) host, when the URL has one.
        host: Option<String>,
    },
}

impl Decision {
    /// True for [`Decision::Allow`].
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }
}

/// The compiled allow-list.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    entries: Vec<AllowEntry>,
    exact: HashMap<String, usize>,
    suffix: HashMap<String, usize>,
}

impl Policy {
    /// Builds the policy; entries with the same rule are merged (their `needed_by` joined, `http` or-ed).
    pub fn new(entries: impl IntoIterator<Item = AllowEntry>) -> Self {
        let mut merged: Vec<AllowEntry> = Vec::new();
        let mut index: HashMap<HostRule, usize> = HashMap::new();
        for e in entries {
            if let Some(&i) = index.get(&e.rule) {
                let m = &mut merged[i];
                m.http |= e.http;
                m.needed_by.extend(e.needed_by);
            } else {
                index.insert(e.rule.clone(), merged.len());
                merged.push(e);
            }
        }
        merged.sort_by_key(|e| e.rule.to_string());
        let mut exact = HashMap::new();
        let mut suffix = HashMap::new();
        for (i, e) in merged.iter_mut().enumerate() {
            e.needed_by.sort();
            e.needed_by.dedup();
            match &e.rule {
                HostRule::Exact(h) => exact.insert(h.clone(), i),
                HostRule::Suffix(s) => suffix.insert(s.clone(), i),
            };
        }
        Policy { entries: merged, exact, suffix }
    }

    /// The merged rules, sorted by their text.
    pub fn entries(&self) -> &[AllowEntry] {
        &self.entries
    }

    /// The entry that allows `host` (normalised), if any: an exact rule first, then the longest suffix.
    pub fn rule_for_host(&self, host: &str) -> Option<usize> {
        if let Some(&i) = self.exact.get(host) {
            return Some(i);
        }
        let mut rest = host;
        while let Some(dot) = rest.find('.') {
            rest = &rest[dot + 1..];
            if let Some(&i) = self.suffix.get(rest) {
                return Some(i);
            }
        }
        None
    }

    /// Decides a URL given as text (unparsable text is blocked).
    pub fn decide_str(&self, url: &str, kind: LoadKind) -> Decision {
        match Url::parse(url.trim()) {
            Ok(u) => self.decide(&u, kind),
            Err(_) => Decision::Block { reason: BlockReason::Malformed, host: None },
        }
    }

    /// Decides one parsed URL.
    pub fn decide(&self, url: &Url, kind: LoadKind) -> Decision {
        match url.scheme() {
            "https" | "wss" => self.decide_network(url, false),
            "http" | "ws" => self.decide_network(url, true),
            "about" if matches!(url.path(), "blank" | "srcdoc") && url.query().is_none() => {
                Decision::Allow(AllowedBy::AboutBlank)
            }
            "data" => match kind {
                LoadKind::Subresource => Decision::Allow(AllowedBy::DataSubresource),
                LoadKind::Navigation => Decision::Block { reason: BlockReason::DataNavigation, host: None },
            },
            "blob" => match Url::parse(url.path()) {
                Ok(inner) if inner.scheme() == "https" && inner.path() != "" => {
                    match self.decide_network(&inner, false) {
                        allowed @ Decision::Allow(_) => allowed,
                        Decision::Block { host, .. } => Decision::Block { reason: BlockReason::BlobOrigin, host },
                        Decision::Internal => Decision::Internal,
                    }
                }
                Ok(inner) if self.decide(&inner, LoadKind::Navigation) == Decision::Internal => Decision::Internal,
                _ => Decision::Block { reason: BlockReason::BlobOrigin, host: None },
            },
            PDF_VIEWER_SCHEME
                if url.host_str() == Some(PDF_VIEWER_HOST)
                    && url.port().is_none()
                    && url.username().is_empty()
                    && url.password().is_none() =>
            {
                Decision::Allow(AllowedBy::PdfViewer)
            }
            INTERNAL_SCHEME
                if url.host_str() == Some(INTERNAL_HOST)
                    && url.port().is_none()
                    && url.username().is_empty()
                    && url.password().is_none() =>
            {
                Decision::Internal
            }
            other => Decision::Block { reason: BlockReason::Scheme(other.to_owned()), host: None },
        }
    }

    fn decide_network(&self, url: &Url, plain: bool) -> Decision {
        let host = match url.host() {
            Some(url::Host::Domain(d)) => match normalise_host(d) {
                Some(h) => h,
                None => return Decision::Block { reason: BlockReason::Malformed, host: None },
            },
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            None => return Decision::Block { reason: BlockReason::Malformed, host: None },
        };
        let is_ip = !matches!(url.host(), Some(url::Host::Domain(_)));
        if !url.username().is_empty() || url.password().is_some() {
            return Decision::Block { reason: BlockReason::Userinfo, host: Some(host) };
        }
        if let Some(port) = url.port() {
            return Decision::Block { reason: BlockReason::Port(port), host: Some(host) };
        }
        let Some(i) = self.rule_for_host(&host) else {
            let reason =
                if is_ip { BlockReason::IpLiteral(host.clone()) } else { BlockReason::HostNotAllowed(host.clone()) };
            return Decision::Block { reason, host: Some(host) };
        };
        if plain && !self.entries[i].http {
            return Decision::Block { reason: BlockReason::InsecureHttp(host.clone()), host: Some(host) };
        }
        Decision::Allow(AllowedBy::Rule(i))
    }

    /// Decides a connection the network gate is asked to open (`CONNECT host:port`, or a plain
    /// `http://host:port` request), as a subresource of that scheme.
    pub fn decide_authority(&self, scheme: &str, host: &str, port: u16) -> Decision {
        let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_owned() };
        self.decide_str(&format!("{scheme}://{host}:{port}/"), LoadKind::Subresource)
    }

    /// A human-readable account of a decision, as `bornectl decide` prints it.
    pub fn explain(&self, d: &Decision) -> String {
        match d {
            Decision::Allow(AllowedBy::Rule(i)) => {
                let e = &self.entries[*i];
                format!("allow {} (needed by {})", e.rule, e.needed_by.join(", "))
            }
            Decision::Allow(AllowedBy::AboutBlank) => "allow about:blank (empty frame or window)".into(),
            Decision::Allow(AllowedBy::DataSubresource) => "allow data: subresource".into(),
            Decision::Allow(AllowedBy::PdfViewer) => {
                "allow WebKit's PDF viewer (shows a PDF, no network of its own)".into()
            }
            Decision::Internal => "allow internal page of the kiosk (shell only)".into(),
            Decision::Block { reason, .. } => format!("block {reason}"),
        }
    }

    /// The WebKit content-blocker rule list (JSON) for subresources: block everything, then let through
    /// the allowed hosts (https and wss, plus http/ws where a rule allows it), the kiosk's own origin,
    /// `data:`, and `about:blank`/`about:srcdoc`; `blob:` only from allowed https origins, as `decide` does;
    /// the session's documents ([`crate::documents::SCHEME`]) as top-level pages only; WebKit's PDF viewer.
    ///
    /// WebKit's `url-filter` is a restricted regex (no alternation) matched against the canonical URL,
    /// in which the authority always ends with `/`: `[^/@:]*` keeps userinfo and ports out.
    pub fn content_filter_json(&self) -> String {
        let mut rules = vec![rule_json(".*", "block")];
        for pat in [
            "^data:",
            "^about:blank$",
            "^about:srcdoc$",
            "^tauri://localhost/",
            "^blob:tauri://localhost/",
            "^webkit-pdfjs-viewer://pdfjs/",
        ] {
            rules.push(rule_json(pat, "ignore-previous-rules"));
        }
        // The session's documents, shown by the shell in the content view: as a page only, so no
        // remote page can fetch, embed or frame one (the navigation hook also requires the shell's gate).
        rules.push(
            serde_json::json!({
                "trigger": {"url-filter": format!("^{}://", crate::documents::SCHEME), "resource-type": ["document"]},
                "action": {"type": "ignore-previous-rules"}
            })
            .to_string(),
        );
        for e in &self.entries {
            let host_pat = match &e.rule {
                HostRule::Exact(h) => regex_escape(h),
                HostRule::Suffix(s) => format!("[^/@:]*\\.{}", regex_escape(s)),
            };
            let mut schemes = vec!["https", "wss", "blob:https"];
            if e.http {
                schemes.extend(["http", "ws"]);
            }
            for scheme in schemes {
                rules.push(rule_json(&format!("^{scheme}://{host_pat}\\.?/"), "ignore-previous-rules"));
            }
        }
        format!("[{}]", rules.join(","))
    }
}

fn rule_json(filter: &str, action: &str) -> String {
    serde_json::json!({"trigger": {"url-filter": filter}, "action": {"type": action}}).to_string()
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if matches!(c, '.' | '[' | ']' | '(' | ')' | '*' | '+' | '?' | '^' | '$' | '\\' | '|' | '{' | '}') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
