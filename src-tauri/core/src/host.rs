//! Host rules: the parsed, normalised form of an entry such as `caf.fr` or `*.caf.fr`.
//!
//! A rule is written by people (in `catalogue.toml`, in the référent's overrides) and read by the policy.
//! Parsing goes through the `url` crate's host parser, so case, trailing dots and IDN (punycode) are
//! normalised the same way a browser normalises the host it connects to. Wildcards on a public suffix
//! (`*.fr`, `*.gouv.fr`, `*`) are refused with the Public Suffix List (`psl` crate).

use std::fmt;

/// What is wrong with a host rule, in terms the validation layer turns into French and English messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostRuleError {
    /// The rule is empty.
    #[error("empty host")]
    Empty,
    /// A scheme, path, query, port or userinfo where a bare host is expected.
    #[error("`{0}` is not a bare host name (no scheme, path, port or user)")]
    NotBareHost(String),
    /// The host name does not parse (bad characters, bad IDN…).
    #[error("`{0}` is not a valid host name")]
    Invalid(String),
    /// A wildcard anywhere else than as the whole first label.
    #[error("`{0}`: a wildcard is only allowed as `*.` at the start")]
    BadWildcard(String),
    /// A wildcard whose suffix is a public suffix (`*.fr`, `*.gouv.fr`) or `*` alone.
    #[error("`{0}`: a wildcard on the public suffix `{1}` would allow the whole suffix")]
    PublicSuffixWildcard(String, String),
    /// An IP address given as a wildcard suffix.
    #[error("`{0}`: a wildcard cannot apply to an IP address")]
    IpWildcard(String),
}

/// One normalised host rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostRule {
    /// Exactly this host (ASCII, lower case, no trailing dot), or an IP literal in canonical form.
    Exact(String),
    /// Any host strictly below this domain, on a label boundary: `*.caf.fr` matches `www.caf.fr`, not `caf.fr`.
    Suffix(String),
}

impl HostRule {
    /// Parses a rule as written by a person: `caf.fr`, `*.caf.fr`, `WWW.Caf.FR.`, `*.exemple-é.fr`.
    pub fn parse(input: &str) -> Result<Self, HostRuleError> {
        let raw = input.trim();
        if raw.is_empty() {
            return Err(HostRuleError::Empty);
        }
        if raw.contains(['/', '?', '#', '@', '\\', ' ']) || raw.contains("://") {
            return Err(HostRuleError::NotBareHost(raw.to_owned()));
        }
        if raw == "*" {
            return Err(HostRuleError::PublicSuffixWildcard(raw.to_owned(), "*".to_owned()));
        }
        let (wildcard, rest) = match raw.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        if rest.contains('*') {
            return Err(HostRuleError::BadWildcard(raw.to_owned()));
        }
        // A port looks like `host:443`; IPv6 literals are bracketed and handled by the host parser.
        if !rest.starts_with('[') && rest.contains(':') {
            return Err(HostRuleError::NotBareHost(raw.to_owned()));
        }
        let host = normalise_host(rest).ok_or_else(|| HostRuleError::Invalid(raw.to_owned()))?;
        if wildcard {
            if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
                return Err(HostRuleError::IpWildcard(raw.to_owned()));
            }
            if is_public_suffix(&host) {
                return Err(HostRuleError::PublicSuffixWildcard(raw.to_owned(), host));
            }
            Ok(HostRule::Suffix(host))
        } else {
            Ok(HostRule::Exact(host))
        }
    }

    /// True when this rule covers `host` (already normalised by [`normalise_host`]).
    pub fn matches(&self, host: &str) -> bool {
        match self {
            HostRule::Exact(h) => h == host,
            HostRule::Suffix(s) => {
                host.len() > s.len() + 1
                    && host.ends_with(s.as_str())
                    && host.as_bytes()[host.len() - s.len() - 1] == b'.'
            }
        }
    }
}

impl fmt::Display for HostRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostRule::Exact(h) => f.write_str(h),
            HostRule::Suffix(s) => write!(f, "*.{s}"),
        }
    }
}

/// Normalises a host the way the `url` crate (and so the browser) does: IDN to punycode, lower case,
/// IPv4 in any spelling to dotted decimal; then drops one trailing dot. `None` when it is not a host.
pub fn normalise_host(input: &str) -> Option<String> {
    let host = url::Host::parse(input).ok()?;
    let text = match host {
        url::Host::Domain(d) => d,
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => format!("[{ip}]"),
    };
    let text = text.strip_suffix('.').map(str::to_owned).unwrap_or(text);
    if text.is_empty() || text.ends_with('.') || text.contains("..") {
        return None;
    }
    Some(text)
}

/// True when `domain` is itself a public suffix (`fr`, `gouv.fr`, `co.uk`), by the Public Suffix List.
/// Single-label names always count as public (a TLD, or an unknown one).
pub fn is_public_suffix(domain: &str) -> bool {
    if !domain.contains('.') {
        return true;
    }
    match psl::suffix(domain.as_bytes()) {
        Some(suffix) => suffix.as_bytes().len() == domain.len(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        assert_eq!(HostRule::parse("WWW.Caf.FR.").unwrap(), HostRule::Exact("www.caf.fr".into()));
        assert_eq!(HostRule::parse("*.caf.fr").unwrap(), HostRule::Suffix("caf.fr".into()));
        assert_eq!(HostRule::parse("exemple-é.fr").unwrap(), HostRule::Exact("xn--exemple--i1a.fr".into()));
        assert_eq!(HostRule::parse("0x7f.1").unwrap(), HostRule::Exact("127.0.0.1".into()));
    }

    #[test]
    fn refuses_public_suffix_wildcards() {
        for bad in ["*", "*.fr", "*.gouv.fr", "*.co.uk", "*.com"] {
            assert!(matches!(HostRule::parse(bad), Err(HostRuleError::PublicSuffixWildcard(..))), "{bad}");
        }
        assert!(HostRule::parse("*.beta.gouv.fr").is_ok());
    }

    #[test]
    fn refuses_non_hosts() {
        for bad in ["https://caf.fr", "caf.fr/x", "caf.fr:443", "u@caf.fr", "w*.caf.fr", "*.*.caf.fr", ""] {
            assert!(HostRule::parse(bad).is_err(), "{bad}");
        }
        assert!(matches!(HostRule::parse("*.127.0.0.1"), Err(HostRuleError::IpWildcard(_))));
    }

    #[test]
    fn suffix_matches_on_label_boundary() {
        let r = HostRule::parse("*.caf.fr").unwrap();
        assert!(r.matches("www.caf.fr"));
        assert!(r.matches("a.b.caf.fr"));
        assert!(!r.matches("caf.fr"));
        assert!(!r.matches("evilcaf.fr"));
        assert!(!r.matches("caf.fr.evil.com"));
    }
}
