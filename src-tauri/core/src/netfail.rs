//! Bad networks: which failure a person met, from what WebKit reported and what the network gate
//! ([`crate::proxy`]) saw when it dialled the host, and which service to name on the French page.
//!
//! The shell feeds WebKit's `load-failed` errors (GError domain and code), TLS failures and main
//! resources' HTTP statuses in here; a `Some` answer shows `tauri://localhost/neterror.html` and
//! counts an outage, a `None` leaves WebKit alone (a navigation the policy refused, a download, a
//! stop asked by the kiosk itself).

use std::time::Duration;

use crate::catalogue::Service;

/// How long a page may take to answer (its first response) before the person is told the site
/// does not answer. A stalled site otherwise shows a white page for minutes.
pub const LOAD_TIMEOUT: Duration = Duration::from_secs(8);

/// What went wrong, as the error page says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The borne has no network at all.
    Offline,
    /// The site's name could not be found.
    Dns,
    /// The site refused the connection.
    Refused,
    /// The site did not answer in time.
    Timeout,
    /// The site's certificate or TLS handshake failed.
    Tls,
    /// The site answered with a server error (5xx).
    Server,
    /// Any other network failure.
    Unreachable,
}

impl Failure {
    /// Stable code (`neterror.kind.<code>` in `ui/i18n`).
    pub fn code(self) -> &'static str {
        match self {
            Failure::Offline => "offline",
            Failure::Dns => "dns",
            Failure::Refused => "refused",
            Failure::Timeout => "timeout",
            Failure::Tls => "tls",
            Failure::Server => "server",
            Failure::Unreachable => "unreachable",
        }
    }

    /// Whether the failure is the site's (counted as an outage of its service) rather than the
    /// borne's own connection.
    pub fn is_outage(self) -> bool {
        self != Failure::Offline
    }
}

/// What the network gate saw when it tried to reach a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    /// Name resolution failed.
    Dns,
    /// Connection refused.
    Refused,
    /// No answer in time.
    Timeout,
    /// Network or host unreachable, or another socket error.
    Unreachable,
}

impl Upstream {
    /// Classifies the error of a name lookup (`resolving`) or of a connection.
    pub fn from_io(e: &std::io::Error, resolving: bool) -> Upstream {
        use std::io::ErrorKind as K;
        if resolving {
            return Upstream::Dns;
        }
        match e.kind() {
            K::ConnectionRefused => Upstream::Refused,
            K::TimedOut | K::WouldBlock => Upstream::Timeout,
            _ => Upstream::Unreachable,
        }
    }
}

/// GIO's `G_IO_ERROR_CANCELLED`.
const GIO_CANCELLED: i32 = 19;
/// GIO's `G_IO_ERROR_TIMED_OUT`.
const GIO_TIMED_OUT: i32 = 24;
/// GIO's `G_IO_ERROR_CONNECTION_REFUSED`.
const GIO_CONNECTION_REFUSED: i32 = 39;
/// `WEBKIT_NETWORK_ERROR_CANCELLED`.
const WEBKIT_CANCELLED: i32 = 302;

/// Classifies a failed main-frame load from WebKit's error (GError domain and code), what the gate
/// saw for the host (`gate`) and whether the system has a network at all (`online`). `None`: not a
/// network failure (refused by the kiosk's own policy, turned into a download, cancelled).
///
/// Through the gate, WebKit reports a failed CONNECT as a policy interruption (`WebKitPolicyError`
/// 102), the same error as the kiosk's own refusals: what the gate saw for the host decides. A host
/// the policy refuses is never dialled, so it has no gate failure.
pub fn classify_load_error(domain: &str, code: i32, gate: Option<Upstream>, online: bool) -> Option<Failure> {
    let cancelled =
        matches!((domain, code), ("WebKitNetworkError", WEBKIT_CANCELLED) | ("g-io-error-quark", GIO_CANCELLED));
    if let (Some(g), false) = (gate, cancelled) {
        return Some(if online {
            match g {
                Upstream::Dns => Failure::Dns,
                Upstream::Refused => Failure::Refused,
                Upstream::Timeout => Failure::Timeout,
                Upstream::Unreachable => Failure::Unreachable,
            }
        } else {
            Failure::Offline
        });
    }
    match domain {
        "WebKitPolicyError" | "WebKitDownloadError" | "WebKitPluginError" | "WebKitMediaError" => return None,
        "WebKitNetworkError" if code == WEBKIT_CANCELLED => return None,
        "g-io-error-quark" if code == GIO_CANCELLED => return None,
        _ => {}
    }
    if !online {
        return Some(Failure::Offline);
    }
    Some(match (domain, code) {
        ("g-tls-error-quark", _) => Failure::Tls,
        ("g-resolver-error-quark", _) => Failure::Dns,
        ("g-io-error-quark", GIO_TIMED_OUT) => Failure::Timeout,
        ("g-io-error-quark", GIO_CONNECTION_REFUSED) => Failure::Refused,
        _ => Failure::Unreachable,
    })
}

/// A main resource's HTTP status: 5xx is the site failing.
pub fn classify_status(status: u32) -> Option<Failure> {
    (500..=599).contains(&status).then_some(Failure::Server)
}

/// The service a host belongs to (its own host rules first, then shared groups are not searched: a
/// shared identity provider names no single service). `None` for a host of no tile.
pub fn service_for_host<'a>(services: &'a [Service], host: &str) -> Option<&'a Service> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    services
        .iter()
        .find(|s| s.url.host_str().is_some_and(|h| h.eq_ignore_ascii_case(&host)))
        .or_else(|| services.iter().find(|s| s.hosts.iter().any(|r| r.matches(&host))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kiosk_own_refusals_are_not_failures() {
        assert_eq!(classify_load_error("WebKitPolicyError", 102, None, true), None);
        assert_eq!(classify_load_error("WebKitNetworkError", 302, None, true), None);
        assert_eq!(classify_load_error("g-io-error-quark", 19, None, true), None);
        assert_eq!(classify_load_error("WebKitDownloadError", 400, None, false), None);
    }

    #[test]
    fn network_errors_are_classified() {
        assert_eq!(classify_load_error("WebKitNetworkError", 399, None, false), Some(Failure::Offline));
        assert_eq!(classify_load_error("g-tls-error-quark", 1, None, true), Some(Failure::Tls));
        assert_eq!(classify_load_error("g-resolver-error-quark", 0, None, true), Some(Failure::Dns));
        assert_eq!(classify_load_error("g-io-error-quark", 24, None, true), Some(Failure::Timeout));
        assert_eq!(classify_load_error("g-io-error-quark", 39, None, true), Some(Failure::Refused));
        assert_eq!(classify_load_error("soup-session-error-quark", 3, None, true), Some(Failure::Unreachable));
        // Through the gate WebKit only sees a failed CONNECT: the gate's own observation wins.
        for (g, f) in [
            (Upstream::Dns, Failure::Dns),
            (Upstream::Refused, Failure::Refused),
            (Upstream::Timeout, Failure::Timeout),
            (Upstream::Unreachable, Failure::Unreachable),
        ] {
            assert_eq!(classify_load_error("WebKitNetworkError", 399, Some(g), true), Some(f));
            assert_eq!(classify_load_error("WebKitPolicyError", 102, Some(g), true), Some(f));
        }
        assert_eq!(classify_load_error("WebKitPolicyError", 102, Some(Upstream::Dns), false), Some(Failure::Offline));
        assert_eq!(classify_load_error("WebKitNetworkError", 302, Some(Upstream::Dns), true), None);
        assert!(!Failure::Offline.is_outage());
        assert!(Failure::Tls.is_outage());
    }

    #[test]
    fn the_service_is_found_by_its_hosts() {
        use crate::host::HostRule;
        let service = |id: &str, url: &str, hosts: &[&str]| Service {
            id: id.into(),
            name: id.to_uppercase(),
            description: String::new(),
            theme: "t".into(),
            pictogram: "caf".into(),
            url: url::Url::parse(url).unwrap(),
            hosts: hosts.iter().map(|h| HostRule::parse(h).unwrap()).collect(),
            groups: vec![],
            http_hosts: vec![],
            origin: crate::catalogue::Origin::Centre,
        };
        let services = [
            service("caf", "https://www.caf.fr/", &["caf.fr", "*.caf.fr"]),
            service("ameli", "https://www.ameli.fr/", &["*.ameli.fr"]),
        ];
        assert_eq!(service_for_host(&services, "wwwd.caf.fr").map(|s| s.id.as_str()), Some("caf"));
        assert_eq!(service_for_host(&services, "WWW.AMELI.FR.").map(|s| s.id.as_str()), Some("ameli"));
        assert_eq!(service_for_host(&services, "idp.example"), None);
    }

    #[test]
    fn statuses_and_io_errors() {
        assert_eq!(classify_status(503), Some(Failure::Server));
        assert_eq!(classify_status(500), Some(Failure::Server));
        assert_eq!(classify_status(404), None);
        assert_eq!(classify_status(200), None);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(Upstream::from_io(&refused, false), Upstream::Refused);
        assert_eq!(Upstream::from_io(&refused, true), Upstream::Dns);
        let slow = std::io::Error::from(std::io::ErrorKind::TimedOut);
        assert_eq!(Upstream::from_io(&slow, false), Upstream::Timeout);
    }
}
