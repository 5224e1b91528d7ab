//! Delivering the counts to the federation's Matomo, each unit exactly once.
//!
//! The store knows, for every count, how much Matomo confirmed. A push plans the rest into batches
//! (at most 1 000 hits, [`plan`]), keeps them in the outbox, and sends them one at a time through the
//! bulk API:
//! - a batch counts as delivered only under the contract's success rule (HTTP 200, `success`,
//!   `tracked + invalid` = sent, `invalid` 0), and then in the same transaction that deletes it;
//! - the batch is marked "being sent" before the request leaves; a batch found in that state (the
//!   answer never came, the program was killed) is looked up in Matomo by its marker — a random word
//!   that starts the event name of each of its hits, followed by the hit's hour ([`landed`]) — through
//!   `Live.getLastVisitsDetails`, which reads stored hits at once (reports can lag behind). A pure
//!   function ([`landed::decide`]) matches the hits by name, category and action, never by the times
//!   Matomo shows (shifted into the site's time zone): what landed becomes delivered, only the rest is
//!   sent again, under a new marker, and an answer it cannot fully read sends nothing. A lookup waits
//!   until the server had time to finish the interrupted request ([`Options::settle`]), so a request
//!   still being processed is never sent twice;
//! - a refusal that retrying cannot fix (bad token, unknown site, no write access, not a Matomo)
//!   stops the push and is recorded for the référent; nothing is dropped.
//!
//! Only one push runs at a time on a state directory (a file lock), whether from the kiosk or from
//! `bornectl push`.

pub mod landed;
pub mod outbox;
pub mod plan;
pub mod service;

use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use crate::load::Paths;
use crate::matomo::{ApiError, BulkVerdict, Client, Token};
use crate::stats::{Category, Hour, Store, StoreError};
use landed::{decide, event_name, parse_landed, Decision, Landed};
use outbox::Batch;

/// Most hits in one bulk request.
pub const MAX_BATCH: usize = 1000;

/// One event hit to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The session's hour (`cdt`).
    pub hour: Hour,
    /// `e_c`.
    pub cat: Category,
    /// `e_a`.
    pub action: String,
    /// First hit of a visit (`new_visit=1`).
    pub new_visit: bool,
    /// The visit's throw-away visitor id (`cid`, 16 hex digits): random, drawn when the batch is planned,
    /// shared by the hits of that visit only, and gone with the outbox row once Matomo has it. `None` for
    /// units that join a visit already delivered (late units) and for batches planned by an older version.
    pub visitor: Option<String>,
}

impl Hit {
    /// The bulk entry: a query string starting with `?`, with nothing but these parameters.
    pub fn entry(&self, site: u32, marker: &str) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::from("?"));
        q.append_pair("idsite", &site.to_string());
        q.append_pair("rec", "1");
        q.append_pair("apiv", "1");
        if self.new_visit {
            q.append_pair("new_visit", "1");
        }
        if let Some(cid) = &self.visitor {
            q.append_pair("cid", cid);
        }
        q.append_pair("e_c", self.cat.code());
        q.append_pair("e_a", &self.action);
        q.append_pair("e_n", &event_name(marker, self.hour));
        q.append_pair("cdt", &self.hour.cdt());
        q.finish()
    }
}

/// Where to deliver: the server, this borne's site, its token.
#[derive(Debug, Clone)]
pub struct Target {
    /// Matomo's root address.
    pub url: Url,
    /// This borne's site id.
    pub site_id: u32,
    /// Write token of this site.
    pub token: Token,
}

/// The JSON body of a bulk request for a batch.
pub fn bulk_body(target: &Target, batch: &Batch) -> String {
    let requests: Vec<String> = batch.hits.iter().map(|h| h.entry(target.site_id, &batch.marker)).collect();
    serde_json::json!({ "requests": requests, "token_auth": target.token.secret() }).to_string()
}

/// Tuning of a push.
#[derive(Debug, Clone)]
pub struct Options {
    /// Time given to the server to finish a request whose answer never came, before looking it up.
    pub settle: Duration,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Most hits a batch.
    pub max_batch: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { settle: Duration::from_secs(90), timeout: Duration::from_secs(60), max_batch: MAX_BATCH }
    }
}

impl Options {
    /// Defaults, with `BORNE_PUSH_SETTLE_MS` and `BORNE_PUSH_BATCH` read from the environment (the
    /// tests shorten the wait and the batches; a real Matomo needs the defaults).
    pub fn from_env() -> Options {
        let mut o = Options::default();
        if let Some(ms) = std::env::var("BORNE_PUSH_SETTLE_MS").ok().and_then(|v| v.parse::<u64>().ok()) {
            o.settle = Duration::from_millis(ms);
        }
        if let Some(n) = std::env::var("BORNE_PUSH_BATCH").ok().and_then(|v| v.parse::<usize>().ok()) {
            o.max_batch = n.clamp(1, MAX_BATCH);
        }
        o
    }
}

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Batches confirmed by the success rule.
    pub batches: u64,
    /// Units confirmed (sent or found by marker).
    pub delivered: u64,
    /// Batches looked up after an interrupted send.
    pub lookups: u64,
    /// HTTP requests made.
    pub requests: u64,
}

/// Why a push stopped before the outbox was empty.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// Another push holds the lock.
    #[error("another push is running")]
    Busy,
    /// Stopped until someone changes the settings: a refusal retrying cannot fix.
    #[error("refused: {0}")]
    Refused(ApiError),
    /// Try again later.
    #[error("will retry: {0}")]
    Retry(ApiError),
    /// An interrupted send is not old enough to be looked up.
    #[error("waiting {0:?} before looking up an interrupted send")]
    Settling(Duration),
    /// The lookup of an interrupted send could not tell what landed: nothing is sent, look again later.
    #[error("cannot tell what of an interrupted send landed: {0}")]
    Unclear(&'static str),
    /// The statistics file.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PushError {
    /// The status code recorded for the référent.
    pub fn code(&self) -> &'static str {
        match self {
            PushError::Busy => "busy",
            PushError::Refused(e) | PushError::Retry(e) => e.code(),
            PushError::Settling(_) => "no-answer",
            PushError::Unclear(_) => "lookup-unclear",
            PushError::Store(_) => "store",
        }
    }
}

/// A throw-away visitor id for one Matomo visit (`cid`): 16 hex digits from the kernel's generator,
/// unrelated to anything of the borne or of a person.
pub fn new_visitor_id() -> String {
    new_marker()[1..].to_string()
}

/// A random batch marker: `b` and 16 hex digits (from the kernel's generator).
pub fn new_marker() -> String {
    let mut bytes = [0u8; 8];
    let ok = std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if ok.is_err() {
        // Never reached on Linux; a hash of the time and the process is still unique enough.
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
        bytes = h.finish().to_le_bytes();
    }
    let mut s = String::from("b");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn unix_now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Delivers the outbox and everything counted since, until the outbox is empty or a problem stops
/// it. The caller holds the push lock ([`lock`]).
pub async fn push_once(
    store: &mut Store,
    client: &Client,
    target: &Target,
    opts: &Options,
) -> Result<Report, PushError> {
    let mut report = Report::default();
    let result = run(store, client, target, opts, &mut report).await;
    if report.delivered > 0 {
        // Delivered rows are gone from the file; leave nothing of them in the log either.
        store.truncate_log();
    }
    match &result {
        Ok(()) => {
            if report.requests > 0 {
                store.set_push_status("ok", None)?;
            }
        }
        Err(PushError::Refused(e)) => store.set_push_status("refused", Some(e.code()))?,
        Err(e @ (PushError::Retry(_) | PushError::Settling(_) | PushError::Unclear(_))) => {
            store.set_push_status("retrying", Some(e.code()))?
        }
        Err(PushError::Busy | PushError::Store(_)) => {}
    }
    result.map(|()| report)
}

async fn run(
    store: &mut Store,
    client: &Client,
    target: &Target,
    opts: &Options,
    report: &mut Report,
) -> Result<(), PushError> {
    loop {
        let Some(batch) = store.next_batch()? else {
            if store.plan_batches(opts.max_batch, new_marker)? == 0 {
                return Ok(());
            }
            continue;
        };
        if let Some(sent_at) = batch.sent_at {
            // The outcome of this batch's last send is unknown: look it up once the server is done.
            let age = Duration::from_secs(unix_now().saturating_sub(sent_at).max(0) as u64);
            if age < opts.settle {
                let wait = opts.settle - age;
                if wait > Duration::from_secs(5) && report.requests == 0 {
                    return Err(PushError::Settling(wait));
                }
                tokio::time::sleep(wait).await;
            }
            report.requests += 1;
            let landed = match lookup(client, target, &batch.marker).await {
                Ok(l) => l,
                Err(e) if e.is_permanent() => return Err(PushError::Refused(e)),
                Err(e) => return Err(PushError::Retry(e)),
            };
            report.lookups += 1;
            let (found, extra) = match decide(&batch.hits, &landed) {
                Decision::Settle { found, missing: _, extra } => (found, extra),
                Decision::Unclear(why) => {
                    tracing::error!(
                        why,
                        "interrupted batch looked up in Matomo: cannot tell what landed; nothing sent"
                    );
                    return Err(PushError::Unclear(why));
                }
            };
            if extra > 0 {
                tracing::error!(extra, "Matomo holds more hits with this batch's marker than the batch had");
            }
            let n = store.settle(batch.id, &found, Hour::now(), new_marker)?;
            report.delivered += n;
            tracing::info!(found = n, of = batch.hits.len(), "interrupted batch looked up in Matomo");
            continue;
        }
        store.mark_sending(batch.id, unix_now())?;
        report.requests += 1;
        let body = bulk_body(target, &batch);
        match client.bulk(&body, batch.hits.len()).await {
            Ok(BulkVerdict::Delivered) => {
                let n = store.deliver_all(batch.id, Hour::now())?;
                report.batches += 1;
                report.delivered += n;
                tracing::info!(hits = n, "batch delivered to Matomo");
            }
            Ok(BulkVerdict::Invalid { tracked, invalid }) => {
                // Part of the batch was refused. Say why (the batch stays "being sent", so the next
                // push looks up what landed before sending the rest).
                tracing::warn!(tracked, invalid, "Matomo refused entries of a batch");
                let why = diagnose(client, target).await;
                report.requests += 1;
                store.mark_sending(batch.id, 0)?;
                return Err(PushError::Refused(why));
            }
            Ok(BulkVerdict::Unknown(cause)) => {
                // An answer came, so the server is done with the request: look it up at once.
                tracing::warn!(%cause, "unusable answer to a batch; looking it up");
                store.mark_sending(batch.id, 0)?;
            }
            Err(ApiError::Unreachable(cause)) => {
                // No connection was ever made: the batch never left.
                store.mark_unsent(batch.id)?;
                return Err(PushError::Retry(ApiError::Unreachable(cause)));
            }
            Err(e) => {
                tracing::warn!(error = %e, "no answer to a batch; it will be looked up before any resend");
                return Err(PushError::Retry(e));
            }
        }
    }
}

/// "Tester la connexion", for the admin screen and `bornectl matomo-check`. Tells apart, in this order:
/// - no connection (`unreachable`), no usable answer (`no-answer`, `server-error`);
/// - an address that answers but not as a Matomo (`not-matomo`): an anonymous `API.getMatomoVersion`,
///   which Matomo 5 refuses in its own way (401 "requires 'view' access for at least one website");
/// - a key Matomo does not know (`bad-token`): the same call with the key (a key with write access to one
///   site has view access to it, so Matomo gives its version);
/// - a site number that does not exist or that the key may not see, another borne's (`wrong-site`):
///   `SitesManager.getSiteFromId` with the key (Matomo answers both with 401 "requires 'view' access for
///   the website id = N");
/// - a key that may see the site but not write to it (`no-access`): one hit dated two days back *without*
///   `rec=1`, which Matomo checks (an old hit needs write access) but does not store.
pub async fn test_connection(target: &Target) -> Result<(), ApiError> {
    let client = Client::new(&target.url, Duration::from_secs(20))?;
    let (status, body) = client.api_raw(None, "API.getMatomoVersion", &[]).await?;
    if status >= 500 {
        return Err(ApiError::Status(status));
    }
    if !crate::matomo::is_matomo_answer(status, &body) {
        return Err(ApiError::NotMatomo(format!("HTTP {status} to API.getMatomoVersion")));
    }
    client.api(Some(&target.token), "API.getMatomoVersion", &[]).await?;
    client.api(Some(&target.token), "SitesManager.getSiteFromId", &[("idSite", target.site_id.to_string())]).await?;
    let old = Hour(Hour::now().0 - 48).cdt();
    let entry = {
        let mut q = url::form_urlencoded::Serializer::new(String::from("?"));
        q.append_pair("idsite", &target.site_id.to_string()).append_pair("cdt", &old);
        q.finish()
    };
    let body = serde_json::json!({"requests": [entry], "token_auth": target.token.secret()}).to_string();
    match client.bulk(&body, 1).await? {
        BulkVerdict::Delivered => Ok(()),
        BulkVerdict::Invalid { .. } => Err(ApiError::NoAccess("the token cannot write to this site".into())),
        BulkVerdict::Unknown(cause) => Err(ApiError::NoAnswer(cause)),
    }
}

/// Why Matomo refused entries: the key (`bad-token`), the site number (`wrong-site`: a 401 "requires
/// 'view' access for the website id", not a key to replace), or the access (`no-access`).
async fn diagnose(client: &Client, target: &Target) -> ApiError {
    match client.api(Some(&target.token), "SitesManager.getSiteFromId", &[("idSite", target.site_id.to_string())]).await
    {
        Ok(_) => ApiError::NoAccess("old hits refused: the token cannot write to this site".into()),
        Err(e) => e,
    }
}

/// What Matomo holds of the batch with this marker: the visits with an event whose name starts with it.
pub async fn lookup(client: &Client, target: &Target, marker: &str) -> Result<Landed, ApiError> {
    let v = client
        .api(
            Some(&target.token),
            "Live.getLastVisitsDetails",
            &[
                ("idSite", target.site_id.to_string()),
                ("segment", format!("eventName=^{marker}")),
                ("filter_limit", "-1".into()),
            ],
        )
        .await?;
    parse_landed(&v, marker)
}

/// A stored value is in the vocabulary the borne sends (checked before each send, and by the
/// privacy tests): a count as the statistics record it ([`crate::stats::count_in_vocabulary`]), or a
/// health report exactly as [`crate::health`] writes it.
pub fn in_vocabulary(cat: crate::stats::Category, action: &str) -> bool {
    match cat {
        crate::stats::Category::Health => crate::health::in_vocabulary(action),
        _ => crate::stats::count_in_vocabulary(cat, action),
    }
}

/// Waiting time before retry number `failures` (1, 2...): exponential from 30 s, capped at one hour,
/// with jitter (between half and all of it) so bornes that lost the network together do not come back
/// together. `unit` in [0, 1) is the random part.
pub fn backoff(failures: u32, unit: f64) -> Duration {
    let full = 30f64 * 2f64.powi(failures.saturating_sub(1).min(20) as i32);
    let capped = full.min(3600.0);
    Duration::from_secs_f64(capped * (0.5 + 0.5 * unit.clamp(0.0, 1.0)))
}

/// A random number in [0, 1) for jitter.
pub fn jitter() -> f64 {
    let m = new_marker();
    u32::from_str_radix(&m[1..9], 16).map_or(0.5, |x| f64::from(x) / f64::from(u32::MAX))
}

/// The lock that keeps pushes one at a time on a state directory; released when dropped (or when the
/// process dies).
#[derive(Debug)]
pub struct PushLock(#[allow(dead_code)] std::fs::File);

/// Takes the push lock, or says another push holds it.
pub fn lock(state_dir: &Path) -> Result<PushLock, PushError> {
    std::fs::create_dir_all(state_dir).map_err(StoreError::Io)?;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(state_dir.join("push.lock"))
        .map_err(StoreError::Io)?;
    match f.try_lock() {
        Ok(()) => Ok(PushLock(f)),
        Err(std::fs::TryLockError::WouldBlock) => Err(PushError::Busy),
        Err(std::fs::TryLockError::Error(e)) => Err(PushError::Store(StoreError::Io(e))),
    }
}

/// Where this borne delivers, from the settings and from `<state>/matomo.toml` (written by
/// `bornectl provision`; it wins over `borne.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// Matomo's root address.
    pub url: Option<Url>,
    /// Site id (0: none).
    pub site_id: u32,
    /// The token file.
    pub token_file: PathBuf,
}

/// The file `bornectl provision` writes in the state directory.
pub const PROVISIONED_FILE: &str = "matomo.toml";

#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Provisioned {
    url: String,
    site_id: u32,
}

impl Destination {
    /// Resolves the destination. A broken `matomo.toml` is reported (English cause) and ignored.
    pub fn resolve(settings: &crate::config::StatsSettings, paths: &Paths) -> Destination {
        let token_file = if settings.token_file.is_absolute() {
            settings.token_file.clone()
        } else {
            paths.state_dir.join(&settings.token_file)
        };
        let mut d = Destination { url: settings.matomo_url.clone(), site_id: settings.site_id, token_file };
        let p = paths.state_dir.join(PROVISIONED_FILE);
        if let Ok(text) = std::fs::read_to_string(&p) {
            match toml::from_str::<Provisioned>(&text).ok().and_then(|pr| Some((valid_url(&pr.url)?, pr.site_id))) {
                Some((url, site)) if site > 0 => {
                    d.url = Some(url);
                    d.site_id = site;
                }
                _ => tracing::error!(file = %p.display(), "provisioned Matomo file is invalid; ignored"),
            }
        }
        d
    }

    /// The target, or the code saying what is missing (`not-configured`, `no-token`).
    pub fn target(&self) -> Result<Target, &'static str> {
        let (Some(url), true) = (self.url.clone(), self.site_id > 0) else { return Err("not-configured") };
        let token = read_token(&self.token_file).ok_or("no-token")?;
        Ok(Target { url, site_id: self.site_id, token })
    }
}

/// Writes `<state>/matomo.toml` and the token file (0600), atomically.
pub fn store_provisioned(
    paths: &Paths,
    token_file: &Path,
    url: &Url,
    site_id: u32,
    token: &Token,
) -> std::io::Result<()> {
    std::fs::create_dir_all(&paths.state_dir)?;
    if let Some(dir) = token_file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::fsutil::write_atomic_mode(token_file, format!("{}\n", token.secret()).as_bytes(), 0o600)?;
    let text = toml::to_string(&Provisioned { url: url.to_string(), site_id })
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let text = format!("# Written by bornectl provision: this borne's Matomo site.\n{text}");
    crate::fsutil::write_atomic(&paths.state_dir.join(PROVISIONED_FILE), text.as_bytes())
}

/// An address Matomo may have: https, or http on this machine (tests).
pub fn valid_url(s: &str) -> Option<Url> {
    let u = Url::parse(s.trim()).ok()?;
    let loopback = match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    (u.scheme() == "https" || (u.scheme() == "http" && loopback)).then_some(u)
}

/// Reads a token file; warns and tightens it when others can read it.
pub fn read_token(path: &Path) -> Option<Token> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).ok()?;
    if meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!(file = %path.display(), "token file readable by others; setting it to 0600");
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Token::new(&std::fs::read_to_string(path).ok()?)
}

#[cfg(test)]
mod tests;
