//! The Matomo contract server: a strict stand-in for a Matomo 5 server, for integration tests and the benchmark.
//!
//! It reproduces what a client relies on in the contract observed on a real Matomo 5.0.2 (the shared
//! `matomo-contract.md`), silent failures included, so that it can fail a client that a friendly mock would pass.
//! It is a small HTTP/1.1 server on `std::net` (one thread per connection, keep-alive, `Content-Length` bodies
//! only: chunked bodies get 411, malformed requests 400), listening on 127.0.0.1.
//!
//! # Tracking, one hit: `GET`/`POST /matomo.php` (query string or form body)
//! - 200 with a 1x1 GIF, or 204 with `send_image=0`; unknown `idsite` 400; database down
//!   ([`Fault::StoreDown`]) 400 too.
//! - `cdt` (`YYYY-MM-DD HH:MM:SS` in UTC, or unix seconds) or `cdo` (seconds ago) more than 24 h in the past needs
//!   the `token_auth` of a user with write access to the hit's site, else 400. A future time is replaced by now.
//!   An unreadable `cdt`/`cdo` is refused like an old one.
//! - Without `rec=1` the hit is accepted but not stored. With neither `idsite` nor `rec`, the answer is Matomo's
//!   200 banner page.
//!
//! # Tracking, bulk: `POST /matomo.php` with `Content-Type: application/json`
//! - `{"requests": ["?idsite=..&rec=1&..", ...], "token_auth": "..."}` (the token may also be in the URL's query,
//!   or, when the batch has none, in each entry). Entries that are not strings starting with `?` are dropped
//!   silently: neither tracked nor invalid.
//! - 200 `{"status":"success","tracked":N,"invalid":M}`; `invalid_indices` (positions in `requests`) only for a
//!   superuser token. Invalid: unknown `idsite`, or old `cdt`/`cdo` without a token with write access to that
//!   entry's site (a bad token counts as none). An entry without `rec=1` is tracked, not stored.
//! - Database down: 500 `{"status":"error",...}`. Broken JSON (or no `requests` array): 200 success, tracked 0.
//!   A top-level `"send_image":0` gives 204 with no body, the batch still stored.
//! - All the valid entries of a batch are stored in one step (or none, on a fault). No idempotency: a batch sent
//!   twice is stored twice.
//!
//! # Visits, visitors and events
//! - Visitor recognition as in Matomo's `VisitorRecognizer`: the known visitor is the one of the most recent visit
//!   whose last action is within 30 minutes (before or after) of the hit, looked up by `cid` when the hit forces a
//!   visitor id, else by site, IP and user agent (`ua`, else the `User-Agent` header: Matomo's `config_id`),
//!   whatever `_id` says. A hit joins the known visitor's visit; `new_visit=1` starts a new visit of that same
//!   visitor, counted as returning (`visitCount` + 1); with no known visitor a new visitor starts, whose id is
//!   the `cid`, else `_id`, else derived. So sessions of one borne 30 minutes apart or less stay under one
//!   visitor id unless each has its own `cid` (on a real Matomo 5: 745 visits under 170 ids, 575 "returning").
//! - `cid` (16 hex digits, else the hit is invalid) is honoured only with a token with write access to the site,
//!   ignored without one. The IP is 127.0.0.1, or `cip` when sent with a superuser token (stored as given).
//! - A hit with both `e_c` and `e_a` is an event (`e_n`, `e_v` optional); with only one of them it is a plain
//!   action. `nb_events` counts hits, `sum_event_value` adds `e_v`.
//! - Reports bucket days by the site's time zone: `UTC`, `UTC±N` or a tz database name (`Europe/Paris`,
//!   `Indian/Reunion`, `America/Guadeloupe`..., read through jiff from the system's database, summer time included).
//!
//! # Reporting API: `GET`/`POST /index.php?module=API&method=...&format=JSON`
//! - An unknown `token_auth`: 401 with an HTML page even though JSON was asked. A refusal of access (Matomo's
//!   `NoAccessException`: no token at all, a token without view access to `idSite`, a site that does not exist
//!   asked by a token that is not a superuser's, a superuser method): 401 with `{"result":"error","message":
//!   "You can't access this resource as it requires 'view' access for the website id = N."}` (or "... for at
//!   least one website", "... 'superuser' access"). An unknown `idSite` asked by a superuser, a missing parameter:
//!   200 `{"result":"error","message":...}`. Database down: 200 `{"result":"error"}` with a database message.
//!   Without `format=JSON` the answer is XML, Matomo's default. `API.getMatomoVersion` (`{"value":"5.0.2"}`)
//!   needs a token with view access to at least one website (anonymous: 401), and
//!   `UsersManager.createAppSpecificTokenAuth` authenticates with `userLogin` and `passwordConfirmation`.
//! - `SitesManager.addSite`, `getSitesWithAtLeastViewAccess`, `getSiteFromId`; `UsersManager.addUser`,
//!   `setUserAccess` (view, write, admin, noaccess), `createAppSpecificTokenAuth` (a token with the user's
//!   current access, usable for tracking too).
//! - `VisitsSummary.get` (`nb_uniq_visitors` for `period=day` only, as Matomo processes no unique visitors for
//!   ranges), `VisitFrequency.get` (`nb_visits_returning`, `nb_visits_new`, their actions and, for days, unique
//!   visitors) and `Events.getCategory` / `getAction` / `getName` (`flat=1`: labels
//!   `"category - action"`, `"action - name"`, `"name - action"`), with `idSite` = an id, `all` or a comma list
//!   (then one result per site, keyed by id), `period` = `day` or `range`, `date` = `YYYY-MM-DD`, `today`,
//!   `yesterday`, `lastN`, `previousN` or `from,to`; `period=day` with several days gives one result per date.
//!   A visit counts on the day of its last action, an event on the day of its hit. `filter_pattern` (Matomo's
//!   generic label filter, a case-insensitive regex applied after flattening) is taken as literal text with an
//!   optional `^` and `$`; any other regex is refused with `result: error`. Empty results are `[]`.
//!   Segments are refused on these reports.
//! - Archived reports lag: with [`ContractServer::set_archive_lag`], VisitsSummary and Events only see hits
//!   stored at least that long ago, as when Matomo has not yet re-archived (900 s in browser archiving).
//! - `Live.getLastVisitsDetails` (`idSite`, optional `segment` of `eventCategory==`, `eventAction==`,
//!   `eventName` conditions with `==`, `=^` (starts with) or `=@` (contains), joined by `;` with URL-encoded
//!   values, optional `period`+`date`, `filter_limit`, `filter_offset`) reads the stored hits at once: the visits
//!   with an event matching every condition, last action first, with all their actions. As in Matomo, each
//!   action's `timestamp` (and `serverTimePretty`) is the site's local wall time read as UTC (stored time plus
//!   the zone's offset at that instant); the visit's `firstActionTimestamp`, `lastActionTimestamp`,
//!   `serverDate` and `lastActionDateTime` are UTC. Each visit gives `visitorId`, `visitorType` (`new` or
//!   `returning`) and `visitCount`.
//! - `filter_limit` defaults to 100 rows (`-1`: all).
//!
//! # Numbers: integers or strings
//! Matomo sends numbers either way; the contract server alternates deterministically so a client must take both:
//! - `VisitsSummary.get`: counts are strings with `period=range`, integers with `period=day`
//!   (`bounce_rate` is always a string like `"50%"`, `nb_actions_per_visit` a number);
//! - `Events.get*`: `nb_events`, `nb_visits`, `nb_events_with_value` are strings with `flat=1`, integers
//!   otherwise; values (`sum_event_value`...) are numbers;
//! - `Live.getLastVisitsDetails`: `actions` is a string, `idVisit`, `idSite` and timestamps are integers;
//! - SitesManager: `idsite` is a string; `addSite` and token answers put their value in `{"value": ...}`.
//!
//! # Control
//! [`ContractServer`] lets a test inspect what was stored ([`ContractServer::hits`], [`ContractServer::events`]...),
//! every raw request ([`ContractServer::requests`], for privacy checks), move the clock
//! ([`ContractServer::set_now`]) and inject faults ([`Fault`]). `GET /__contract/totals` answers
//! `{"sites": {"1": {"visits": n, "events": {"category/action": n}}}}` from every stored hit.

mod http;
mod reporting;
mod server;
mod store;
mod time;
mod tracking;

use std::collections::BTreeMap;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use self::server::Shared;
use self::time::Zone;

/// The rights of a token given to [`ContractServer::add_token`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Superuser: every site, `invalid_indices` in bulk answers, `cip` honoured, sites and users managed.
    SuperUser,
    /// Write access to one site (reports, and tracking with an old `cdt`).
    Write(u32),
    /// View access to one site (reports only).
    View(u32),
}

/// A fault plan: how the server misbehaves. [`ContractServer::set_fault`] replaces the current plan; the plans
/// with `times` apply to that many tracking requests (`/matomo.php`), then the server behaves again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No fault.
    None,
    /// Every tracking and Reporting API request waits this long before being handled (not the control endpoint).
    Latency(Duration),
    /// 500 `{"status":"error","message":...}`, nothing stored.
    Fail500 {
        /// Number of tracking requests concerned.
        times: u32,
    },
    /// 200 with a body that is not JSON (nor a GIF); the batch stored or not.
    Garbage {
        /// Number of tracking requests concerned.
        times: u32,
        /// Whether the batch is stored.
        stored: bool,
    },
    /// The batch is stored, then the connection is closed without any answer.
    CutAfterStore {
        /// Number of tracking requests concerned.
        times: u32,
    },
    /// The connection is closed without any answer, nothing stored.
    CutBeforeStore {
        /// Number of tracking requests concerned.
        times: u32,
    },
    /// The database is down until the plan is replaced: bulk tracking 500, one hit 400, Reporting API 200
    /// `{"result":"error"}` with a database message.
    StoreDown,
}

/// A hit as the server stored it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredHit {
    /// Site (`idsite`).
    pub site: u32,
    /// The visit it belongs to (Matomo's `idVisit`, numbered from 1 across all sites).
    pub visit: u64,
    /// Hit time, unix seconds (`cdt`/`cdo` applied, a future time replaced by now).
    pub time: u64,
    /// When it was stored, unix milliseconds of the server's clock (see [`ContractServer::set_now`]).
    pub stored_at_ms: u64,
    /// Visitor IP: 127.0.0.1, or `cip` when sent with a superuser token.
    pub ip: String,
    /// User agent: `ua`, else the request's `User-Agent`.
    pub user_agent: String,
    /// Every parameter of the hit, decoded, in order.
    pub params: Vec<(String, String)>,
}

impl StoredHit {
    /// Value of the parameter `name` (the last one when repeated, as in PHP).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().rev().find(|(n, _)| n == name).map(|(_, value)| value.as_str())
    }

    /// Category and action (`e_c`, `e_a`) when the hit is an event: both set and not empty.
    pub fn event(&self) -> Option<(&str, &str)> {
        let non_empty = |name| self.param(name).filter(|value| !value.is_empty());
        Some((non_empty("e_c")?, non_empty("e_a")?))
    }
}

/// A request as received: request line, headers and body, byte for byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRequest {
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl RawRequest {
    /// The bytes as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// A running contract server. Dropping it stops accepting connections and closes the open ones.
pub struct ContractServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

impl ContractServer {
    /// Starts a server on a free port of 127.0.0.1.
    pub fn start() -> ContractServer {
        ContractServer::start_on(0).expect("the contract server binds a free port on 127.0.0.1")
    }

    /// Starts a server on 127.0.0.1:`port` (0: a free port).
    pub fn start_on(port: u16) -> std::io::Result<ContractServer> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new());
        let accepting = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name("matomo-contract".into())
            .spawn(move || server::accept_loop(listener, accepting))?;
        Ok(ContractServer { shared, addr, acceptor: Some(acceptor) })
    }

    /// The server's base URL, `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.addr.port())
    }

    /// Creates a site; ids are 1, 2, 3... Panics on a time zone the server does not know (`UTC`, `UTC±N`, or a
    /// tz database name such as `Europe/Paris`).
    pub fn add_site(&self, name: &str, timezone: &str) -> u32 {
        self.try_add_site(name, timezone).expect("a time zone the contract server knows: UTC, UTC±N or Area/City")
    }

    /// Creates a site, or None when the server does not know the time zone.
    pub fn try_add_site(&self, name: &str, timezone: &str) -> Option<u32> {
        let zone = Zone::parse(timezone)?;
        Some(self.shared.state().add_site(name, timezone, zone, ""))
    }

    /// Registers a token with the given rights.
    pub fn add_token(&self, token: &str, role: Role) {
        self.shared.state().add_token(token, role);
    }

    /// Fixes "now" (unix seconds) for hit times, the 24 h rule, `today` and the archive lag; None: the real clock.
    pub fn set_now(&self, now: Option<u64>) {
        self.shared.state().now = now;
    }

    /// Replaces the fault plan.
    pub fn set_fault(&self, fault: Fault) {
        self.shared.state().fault = fault;
    }

    /// Reports (VisitsSummary, Events) see only the hits stored at least `lag` ago; None: at once. Live always
    /// sees every hit.
    pub fn set_archive_lag(&self, lag: Option<Duration>) {
        self.shared.state().archive_lag = lag;
    }

    /// Number of visits of `site`.
    pub fn visits(&self, site: u32) -> u64 {
        self.shared.state().visit_count(site)
    }

    /// Visitors of `site` as Matomo would count them over all time: distinct `idvisitor` values, and the visits
    /// flagged "returning".
    pub fn visitors(&self, site: u32) -> (u64, u64) {
        let state = self.shared.state();
        let visits: Vec<_> = state.visits.iter().filter(|visit| visit.site == site).collect();
        let ids: std::collections::BTreeSet<&str> = visits.iter().map(|visit| visit.visitor.as_str()).collect();
        (ids.len() as u64, visits.iter().filter(|visit| visit.returning()).count() as u64)
    }

    /// Number of stored event hits of `site` per (`e_c`, `e_a`).
    pub fn events(&self, site: u32) -> BTreeMap<(String, String), u64> {
        self.shared.state().event_counts(site)
    }

    /// Every stored hit of `site`, in the order they were stored.
    pub fn hits(&self, site: u32) -> Vec<StoredHit> {
        self.shared.state().site_hits(site).cloned().collect()
    }

    /// Every request received (tracking, reporting and control), in order, raw.
    pub fn requests(&self) -> Vec<RawRequest> {
        self.shared.state().requests.clone()
    }

    /// Number of `GET`/`POST /matomo.php` requests received.
    pub fn tracking_requests(&self) -> usize {
        self.shared.state().tracking_requests
    }
}

impl Drop for ContractServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop up; it sees `stopping` and ends. Failing to connect means it is gone already.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for (_, connection) in self.shared.connections().drain() {
            let _ = connection.shutdown(Shutdown::Both);
        }
    }
}

#[cfg(test)]
mod tests;
