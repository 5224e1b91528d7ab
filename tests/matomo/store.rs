//! The contract server's state: sites, users and tokens, stored hits merged into visits, the clock and the fault
//! plan. One mutex guards it all, so a bulk request is stored in one step.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::time::Zone;
use super::{Fault, RawRequest, Role, StoredHit};

/// Hits of one IP and user agent closer than this (seconds) to a visit's last action join that visit.
const VISIT_WINDOW: u64 = 30 * 60;

/// Access level of a user created through the Reporting API on one site (Matomo's view < write < admin).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// `view`: reports only.
    View,
    /// `write`: reports, and tracking with old `cdt`.
    Write,
    /// `admin`: as `write` here.
    Admin,
}

impl Level {
    /// The level named `view`, `write` or `admin`.
    pub(crate) fn parse(name: &str) -> Option<Level> {
        match name {
            "view" => Some(Level::View),
            "write" => Some(Level::Write),
            "admin" => Some(Level::Admin),
            _ => None,
        }
    }
}

/// Who a token stands for.
enum Principal {
    /// A token given to [`super::ContractServer::add_token`] (or `--token`).
    Role(Role),
    /// An app-specific token of a user created through the Reporting API: it has the user's current access.
    User(String),
}

/// A user created through `UsersManager.addUser`.
pub(crate) struct User {
    /// Password, in clear (it is a test server).
    pub(crate) password: String,
    /// E-mail address.
    pub(crate) email: String,
    /// Access per site.
    pub(crate) access: BTreeMap<u32, Level>,
}

/// The rights of the caller of one request, from its token.
pub(crate) struct Caller {
    superuser: bool,
    sites: BTreeMap<u32, Level>,
}

impl Caller {
    /// Superuser access.
    pub(crate) fn is_superuser(&self) -> bool {
        self.superuser
    }

    /// At least view access to `site`.
    pub(crate) fn can_view(&self, site: u32) -> bool {
        self.superuser || self.sites.contains_key(&site)
    }

    /// At least write access to `site`.
    pub(crate) fn can_write(&self, site: u32) -> bool {
        self.superuser || self.sites.get(&site).is_some_and(|level| *level >= Level::Write)
    }
}

/// A website.
pub(crate) struct Site {
    /// Its id, from 1.
    pub(crate) id: u32,
    /// Its name.
    pub(crate) name: String,
    /// Its time zone's name, as given.
    pub(crate) timezone: String,
    /// Its time zone.
    pub(crate) zone: Zone,
    /// Its first URL (may be empty).
    pub(crate) main_url: String,
}

/// A visit: hits of one site and one visitor close in time (see [`State::store`]).
pub(crate) struct Visit {
    /// Matomo's `idVisit`, from 1 across all sites.
    pub(crate) id: u64,
    /// Site.
    pub(crate) site: u32,
    /// Time of its first action, unix seconds.
    pub(crate) first: u64,
    /// Time of its last action, unix seconds.
    pub(crate) last: u64,
    /// Matomo's `idvisitor`, 16 hex digits: the forced `cid`, or the id of the visitor it was recognised as.
    pub(crate) visitor: String,
    /// The visitor's visit number (`visitCount`): 1 for a new visitor, more for a returning one.
    pub(crate) count: u32,
}

impl Visit {
    /// A returning visitor's visit (`visitorType` "returning").
    pub(crate) fn returning(&self) -> bool {
        self.count > 1
    }
}

/// A hit accepted by the tracking API, about to be stored.
pub(crate) struct NewHit {
    /// Site.
    pub(crate) site: u32,
    /// Hit time, unix seconds.
    pub(crate) time: u64,
    /// Visitor IP.
    pub(crate) ip: String,
    /// User agent.
    pub(crate) user_agent: String,
    /// All its parameters.
    pub(crate) params: Vec<(String, String)>,
    /// The visitor id forced by `cid` (honoured only with a token with write access to the site).
    pub(crate) forced_visitor: Option<String>,
}

/// What the fault plan does to one tracking request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Injected {
    /// Nothing: handle it normally.
    Nothing,
    /// Answer 500, store nothing.
    Fail500,
    /// Answer 200 with a non-JSON body, after storing the batch if `stored`.
    Garbage {
        /// Whether the batch is stored.
        stored: bool,
    },
    /// Store, then close the connection without answering.
    CutAfterStore,
    /// Close the connection without answering, store nothing.
    CutBeforeStore,
    /// The database is down.
    StoreDown,
}

/// Everything the server knows.
pub(crate) struct State {
    /// Fixed "now", unix seconds (None: the real clock).
    pub(crate) now: Option<u64>,
    /// The fault plan.
    pub(crate) fault: Fault,
    /// Reports only see hits stored at least this long ago.
    pub(crate) archive_lag: Option<Duration>,
    /// Sites; the id of `sites[i]` is `i + 1`.
    pub(crate) sites: Vec<Site>,
    /// Users created through the Reporting API, by login.
    pub(crate) users: BTreeMap<String, User>,
    /// Stored hits, in the order they were stored.
    pub(crate) hits: Vec<StoredHit>,
    /// Visits; the id of `visits[i]` is `i + 1`.
    pub(crate) visits: Vec<Visit>,
    /// Every request received, raw.
    pub(crate) requests: Vec<RawRequest>,
    /// Number of requests to `/matomo.php`.
    pub(crate) tracking_requests: usize,
    tokens: HashMap<String, Principal>,
    /// Indexes in `visits` of the visits of each (site, IP, user agent), oldest first: Matomo's `config_id`.
    visits_by_visitor: HashMap<(u32, String, String), Vec<usize>>,
    /// Indexes in `visits` of the visits of each (site, `idvisitor`), oldest first.
    visits_by_id: HashMap<(u32, String), Vec<usize>>,
    /// Indexes in `hits` of each site's hits, in order.
    hits_by_site: HashMap<u32, Vec<usize>>,
    /// Keys and counter of the app-specific tokens.
    token_keys: RandomState,
    tokens_made: u64,
}

impl State {
    /// No site, no token, real clock, no fault.
    pub(crate) fn new() -> State {
        State {
            now: None,
            fault: Fault::None,
            archive_lag: None,
            sites: Vec::new(),
            users: BTreeMap::new(),
            hits: Vec::new(),
            visits: Vec::new(),
            requests: Vec::new(),
            tracking_requests: 0,
            tokens: HashMap::new(),
            visits_by_visitor: HashMap::new(),
            visits_by_id: HashMap::new(),
            hits_by_site: HashMap::new(),
            token_keys: RandomState::new(),
            tokens_made: 0,
        }
    }

    /// Current time, unix milliseconds.
    pub(crate) fn now_ms(&self) -> u64 {
        match self.now {
            Some(seconds) => seconds * 1000,
            None => SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
        }
    }

    /// Current time, unix seconds.
    pub(crate) fn now(&self) -> u64 {
        self.now_ms() / 1000
    }

    /// Creates a site; returns its id.
    pub(crate) fn add_site(&mut self, name: &str, timezone: &str, zone: Zone, main_url: &str) -> u32 {
        let id = u32::try_from(self.sites.len() + 1).expect("fewer than 2^32 sites");
        let (name, timezone, main_url) = (name.to_owned(), timezone.to_owned(), main_url.to_owned());
        self.sites.push(Site { id, name, timezone, zone, main_url });
        id
    }

    /// The site `id`, if it exists.
    pub(crate) fn site(&self, id: u32) -> Option<&Site> {
        self.sites.get((id as usize).checked_sub(1)?)
    }

    /// Registers a token with fixed rights.
    pub(crate) fn add_token(&mut self, token: &str, role: Role) {
        self.tokens.insert(token.to_owned(), Principal::Role(role));
    }

    /// Makes a new 32-hex-digit app-specific token for the user `login`.
    pub(crate) fn add_user_token(&mut self, login: &str) -> String {
        loop {
            self.tokens_made += 1;
            let high = self.token_keys.hash_one(self.tokens_made);
            let low = self.token_keys.hash_one(!self.tokens_made);
            let token = format!("{high:016x}{low:016x}");
            if !self.tokens.contains_key(&token) {
                self.tokens.insert(token.clone(), Principal::User(login.to_owned()));
                return token;
            }
        }
    }

    /// The rights of `token`, or None when the token is unknown.
    pub(crate) fn caller(&self, token: &str) -> Option<Caller> {
        let fixed = |superuser, sites| Some(Caller { superuser, sites });
        match self.tokens.get(token)? {
            Principal::Role(Role::SuperUser) => fixed(true, BTreeMap::new()),
            Principal::Role(Role::Write(site)) => fixed(false, BTreeMap::from([(*site, Level::Write)])),
            Principal::Role(Role::View(site)) => fixed(false, BTreeMap::from([(*site, Level::View)])),
            Principal::User(login) => fixed(false, self.users.get(login)?.access.clone()),
        }
    }

    /// What the fault plan does to the tracking request being handled (counting it down).
    pub(crate) fn next_tracking_fault(&mut self) -> Injected {
        let (injected, times) = match &mut self.fault {
            Fault::None | Fault::Latency(_) => return Injected::Nothing,
            Fault::StoreDown => return Injected::StoreDown,
            Fault::Fail500 { times } => (Injected::Fail500, times),
            Fault::Garbage { times, stored } => (Injected::Garbage { stored: *stored }, times),
            Fault::CutAfterStore { times } => (Injected::CutAfterStore, times),
            Fault::CutBeforeStore { times } => (Injected::CutBeforeStore, times),
        };
        if *times == 0 {
            self.fault = Fault::None;
            return Injected::Nothing;
        }
        *times -= 1;
        if *times == 0 {
            self.fault = Fault::None;
        }
        injected
    }

    /// Stores a hit, merging it into a visit as Matomo's visitor recognition does (`VisitorRecognizer`):
    /// - the known visitor is looked up among the visits whose last action is within 30 minutes of the hit (before
    ///   or after): with a forced `cid`, only the visits of that `idvisitor` (Matomo then matches one field only);
    ///   without one, the visits of the same site, IP and user agent (Matomo's `config_id`), whatever `_id` says;
    /// - a known visitor and no `new_visit=1`: the hit joins that visit;
    /// - a known visitor and `new_visit=1`: a new visit of the same visitor, counted as returning;
    /// - no known visitor: a new visit of a new visitor, whose id is the `cid`, else `_id` (16 hex digits), else
    ///   one derived from the hit (as Matomo derives it from `config_id`).
    ///
    /// So without `cid`, the sessions of a borne that `new_visit=1` separates stay under one visitor while they
    /// are less than 30 minutes apart (hits of one hour share their `cdt`): a real Matomo 5 showed 745 visits
    /// under 170 visitor ids, 575 of them "returning".
    pub(crate) fn store(&mut self, hit: NewHit) {
        let stored_at_ms = self.now_ms();
        let param = |name: &str| hit.params.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let forced = param("new_visit") == Some("1");
        let given_id = param("_id").filter(|id| is_visitor_id(id)).map(str::to_ascii_lowercase);
        let config = (hit.site, hit.ip.clone(), hit.user_agent.clone());
        let candidates = match &hit.forced_visitor {
            Some(cid) => self.visits_by_id.get(&(hit.site, cid.clone())),
            None => self.visits_by_visitor.get(&config),
        };
        let known = candidates.and_then(|indexes| {
            indexes.iter().rev().copied().find(|&i| self.visits[i].last.abs_diff(hit.time) <= VISIT_WINDOW)
        });
        let visit = match known {
            Some(i) if !forced => {
                let visit = &mut self.visits[i];
                visit.first = visit.first.min(hit.time);
                visit.last = visit.last.max(hit.time);
                visit.id
            }
            _ => {
                let (visitor, count) = match known {
                    Some(i) => (self.visits[i].visitor.clone(), self.visits[i].count + 1),
                    None => {
                        let id = hit.forced_visitor.clone().or(given_id).unwrap_or_else(|| {
                            format!("{:016x}", self.token_keys.hash_one((&config, hit.time, self.visits.len())))
                        });
                        (id, 1)
                    }
                };
                let index = self.visits.len();
                self.visits_by_visitor.entry(config).or_default().push(index);
                self.visits_by_id.entry((hit.site, visitor.clone())).or_default().push(index);
                let id = index as u64 + 1;
                self.visits.push(Visit { id, site: hit.site, first: hit.time, last: hit.time, visitor, count });
                id
            }
        };
        let NewHit { site, time, ip, user_agent, params, forced_visitor: _ } = hit;
        self.hits_by_site.entry(site).or_default().push(self.hits.len());
        self.hits.push(StoredHit { site, visit, time, stored_at_ms, ip, user_agent, params });
    }

    /// The stored hits of `site`, in the order they were stored.
    pub(crate) fn site_hits(&self, site: u32) -> impl Iterator<Item = &StoredHit> {
        self.hits_by_site.get(&site).into_iter().flatten().map(|&i| &self.hits[i])
    }

    /// The hits of `site` that reports (VisitsSummary, Events) see: with an archive lag, only those stored at
    /// least that long ago.
    pub(crate) fn archived_hits(&self, site: u32) -> impl Iterator<Item = &StoredHit> {
        let now_ms = self.now_ms();
        let lag_ms = self.archive_lag.map_or(0, |lag| lag.as_millis() as u64);
        self.site_hits(site).filter(move |hit| now_ms.saturating_sub(hit.stored_at_ms) >= lag_ms)
    }

    /// Number of visits of `site` (every stored hit, no archive lag).
    pub(crate) fn visit_count(&self, site: u32) -> u64 {
        self.visits.iter().filter(|visit| visit.site == site).count() as u64
    }

    /// Stored event hits of `site` per (category, action) (no archive lag).
    pub(crate) fn event_counts(&self, site: u32) -> BTreeMap<(String, String), u64> {
        let mut counts = BTreeMap::new();
        for (category, action) in self.site_hits(site).filter_map(StoredHit::event) {
            *counts.entry((category.to_owned(), action.to_owned())).or_insert(0) += 1;
        }
        counts
    }
}

/// Matomo's shape of a visitor id (`_id`, `cid`): 16 hexadecimal digits.
pub(crate) fn is_visitor_id(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit())
}
