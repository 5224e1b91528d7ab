//! The network gate: a local HTTP proxy that WebKit's network process must use for every request.
//!
//! `CONNECT host:port` (https, wss) and absolute-form `http://…` requests are decided by a [`Gate`]
//! (the kiosk passes the core policy). A refused host gets `403` and no connection is opened to it —
//! no TCP handshake, no TLS ClientHello carrying its name. The proxy catches what the navigation hook
//! and the WebKit content filter do not: service workers' fetches, speculative pre-connections on
//! link clicks, and anything a future WebKit adds. It relays bytes and never looks inside TLS.
//!
//! The gate is bounded whatever a page does ([`Limits`]): it runs on one thread of its own (a tokio
//! current-thread runtime) plus a few threads for name lookups, holds at most a fixed number of client
//! connections and of relays per host (a connection over the per-host limit waits briefly, then gets
//! `503`; one over the total limit gets `503` at once), drops a client that sends no request in time,
//! closes a tunnel idle in both directions, and gives up a name lookup that does not answer.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::netfail::Upstream;

/// Decides whether the proxy may open a connection.
pub trait Gate: Send + Sync + 'static {
    /// `scheme` is `https` for CONNECT, `http` for a plain request.
    fn allows(&self, scheme: &str, host: &str, port: u16) -> bool;
}

impl<F: Fn(&str, &str, u16) -> bool + Send + Sync + 'static> Gate for F {
    fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        self(scheme, host, port)
    }
}

/// Turns a host name into addresses. Blocking: the gate calls it on its lookup threads, bounded by
/// [`Limits::dns_timeout`]. Tests inject one that hangs.
pub trait Resolve: Send + Sync + 'static {
    /// The addresses of `host` (never an IP literal: the gate does not look those up).
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>>;
}

/// The system's resolver (`getaddrinfo`, so `/etc/hosts` and nsswitch apply).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        use std::net::ToSocketAddrs;
        Ok((host, port).to_socket_addrs()?.collect())
    }
}

/// What bounds the gate. The defaults are what the kiosk uses; tests shrink the times.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Client connections open at once, in any state (reading the request, waiting, relaying). The gate
    /// lives in the kiosk's own process, whose descriptor limit is often 1024: 256 clients and their
    /// 256 upstream sockets leave half of it to the rest. WebKit itself keeps a few tens of HTTP
    /// connections (libsoup's per-host and total caps) plus one per WebSocket, so 256 is about ten
    /// times what a heavy page needs. Over it: `503` at once.
    pub max_connections: usize,
    /// Relays open at once to one host name. A browser opens at most 6 HTTP/1.1 connections per
    /// host; 32 leaves room for a démarche's WebSockets and server-sent events, and keeps one host
    /// (its relays and its waiting room of the same size) to a quarter of `max_connections`.
    pub max_per_host: usize,
    /// How long a connection over `max_per_host` waits for a slot before its `503`.
    pub queue_wait: Duration,
    /// A client must have sent its whole request head within this time after connecting.
    pub head_timeout: Duration,
    /// A relay with no byte in either direction for this long is closed (WebKit opens a new one).
    pub idle_timeout: Duration,
    /// A name lookup longer than this is given up (`502`, remembered as a DNS failure).
    pub dns_timeout: Duration,
    /// The TCP handshake with an allowed host.
    pub connect_timeout: Duration,
    /// Threads that run name lookups (`getaddrinfo` blocks); lookups beyond wait for one.
    pub dns_threads: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 256,
            max_per_host: 32,
            queue_wait: Duration::from_secs(3),
            head_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(5 * 60),
            dns_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(20),
            dns_threads: 4,
        }
    }
}

/// The name of the gate's thread; its lookup threads are named `gate-dns`.
pub const THREAD_NAME: &str = "borne-gate";
const DNS_THREAD_NAME: &str = "gate-dns";

const MAX_HEAD: usize = 32 * 1024;

const LISTEN_BACKLOG: u32 = 1024;

/// How long the gate remembers why it could not reach a host.
const FAILURE_MEMORY: Duration = Duration::from_secs(30);

/// Refusals over the total limit being answered at once (each reads the request head, then closes).
const MAX_REFUSING: usize = 64;

/// The last dialling failure of each host, for the error page (WebKit only sees a failed CONNECT).
type Failures = Arc<Mutex<HashMap<String, (Upstream, Instant)>>>;

/// A running proxy on loopback.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    failures: Failures,
    shared: Arc<Shared>,
}

/// How loaded the gate is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Client connections open (any state).
    pub connections: usize,
    /// Relays open to upstream hosts.
    pub relays: usize,
}

impl Proxy {
    /// Binds `127.0.0.1` on a free port and serves on a thread of its own for the life of the process,
    /// with the default [`Limits`] and the system's resolver.
    pub fn start(gate: Arc<dyn Gate>) -> io::Result<Proxy> {
        Proxy::start_with(gate, Limits::default(), Arc::new(SystemResolver))
    }

    /// Like [`Proxy::start`], with given limits and resolver.
    pub fn start_with(gate: Arc<dyn Gate>, limits: Limits, resolver: Arc<dyn Resolve>) -> io::Result<Proxy> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .max_blocking_threads(limits.dns_threads.max(1))
            .thread_name(DNS_THREAD_NAME)
            .build()?;
        // A backlog of 1024 (std's is 128): a burst of connections waits in the kernel's queue rather
        // than having its SYNs dropped and retried a second later.
        let listener = runtime.block_on(async {
            let socket = TcpSocket::new_v4()?;
            socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
            socket.listen(LISTEN_BACKLOG)
        })?;
        let addr = listener.local_addr()?;
        let failures: Failures = Arc::default();
        let shared = Arc::new(Shared {
            total: Arc::new(Semaphore::new(limits.max_connections)),
            refusing: Arc::new(Semaphore::new(MAX_REFUSING)),
            hosts: Mutex::default(),
            relays: AtomicUsize::new(0),
            failures: Arc::clone(&failures),
            gate,
            resolver,
            limits,
            notice: Notice::default(),
        });
        let state = Arc::clone(&shared);
        std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || runtime.block_on(accept_loop(listener, state)))?;
        Ok(Proxy { addr, failures, shared })
    }

    /// Why the gate could not reach `host` in the last moments, if it could not.
    pub fn recent_failure(&self, host: &str) -> Option<Upstream> {
        let host = host_key(host);
        let map = self.failures.lock().ok()?;
        map.get(&host).filter(|(_, at)| at.elapsed() < FAILURE_MEMORY).map(|(f, _)| *f)
    }

    /// The address to give WebKit (`http://127.0.0.1:<port>`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections and relays open now.
    pub fn load(&self) -> Load {
        let limits = &self.shared.limits;
        Load {
            connections: limits.max_connections - self.shared.total.available_permits(),
            relays: self.shared.relays.load(Ordering::Relaxed),
        }
    }
}

/// What every connection's task shares.
struct Shared {
    total: Arc<Semaphore>,
    refusing: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<HostQueue>>>,
    relays: AtomicUsize,
    failures: Failures,
    gate: Arc<dyn Gate>,
    resolver: Arc<dyn Resolve>,
    limits: Limits,
    notice: Notice,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("limits", &self.limits).finish_non_exhaustive()
    }
}

/// The relay slots of one host and how many connections wait for one.
struct HostQueue {
    slots: Semaphore,
    waiting: AtomicUsize,
}

/// One relay slot of a host (or a failed attempt at one), given back on drop; the host's entry goes
/// when nobody holds or waits for it.
struct HostSlot<'a> {
    shared: &'a Shared,
    host: String,
    queue: Option<Arc<HostQueue>>,
    held: bool,
}

impl Drop for HostSlot<'_> {
    fn drop(&mut self) {
        let Some(queue) = self.queue.take() else { return };
        if self.held {
            queue.slots.add_permits(1);
            self.shared.relays.fetch_sub(1, Ordering::Relaxed);
        }
        // Every clone of an entry is made under this lock: two holders are the map and us.
        if let Ok(mut map) = self.shared.hosts.lock() {
            if Arc::strong_count(&queue) == 2 {
                map.remove(&self.host);
            }
        }
    }
}

impl Shared {
    /// A relay slot for `host`: at once, or after waiting up to `queue_wait` when the host already has
    /// `max_per_host` relays and fewer than as many connections waiting. `None`: over the limit.
    async fn host_slot(&self, host: &str) -> Option<HostSlot<'_>> {
        let key = host_key(host);
        let queue = {
            let mut map = self.hosts.lock().ok()?;
            let per_host = self.limits.max_per_host;
            Arc::clone(map.entry(key.clone()).or_insert_with(|| {
                Arc::new(HostQueue { slots: Semaphore::new(per_host), waiting: AtomicUsize::new(0) })
            }))
        };
        let mut slot = HostSlot { shared: self, host: key, queue: Some(Arc::clone(&queue)), held: false };
        let permit = match queue.slots.try_acquire() {
            Ok(p) => Some(p),
            Err(_) => {
                if queue.waiting.fetch_add(1, Ordering::SeqCst) >= self.limits.max_per_host {
                    queue.waiting.fetch_sub(1, Ordering::SeqCst);
                    None
                } else {
                    let got = tokio::time::timeout(self.limits.queue_wait, queue.slots.acquire()).await;
                    queue.waiting.fetch_sub(1, Ordering::SeqCst);
                    got.ok().and_then(Result::ok)
                }
            }
        };
        let permit = permit?;
        permit.forget();
        slot.held = true;
        self.relays.fetch_add(1, Ordering::Relaxed);
        Some(slot)
    }
}

/// Rate-limits the gate's warnings: a page opening a thousand connections writes a line a second,
/// with the count, not a thousand lines.
#[derive(Default)]
struct Notice {
    last: Mutex<Option<Instant>>,
    skipped: AtomicU64,
}

impl Notice {
    /// `Some(n)` when a line may be written now (`n` lines were skipped since the last one).
    fn due(&self) -> Option<u64> {
        let mut last = self.last.lock().ok()?;
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *last = Some(Instant::now());
        Some(self.skipped.swap(0, Ordering::Relaxed))
    }
}

/// The lower-case host name without a trailing dot: the key of the failure memory and host limits.
fn host_key(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Since when every connection slot is taken: the first connections over the limit wait up to
    // `queue_wait` for a slot (the next ones wait in the kernel's backlog meanwhile); once that time
    // has passed with no slot freed, connections are refused at once until one frees.
    let mut saturated_since: Option<Instant> = None;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors, most often: wait instead of spinning on the error.
                if let Some(skipped) = shared.notice.due() {
                    tracing::warn!(error = %e, skipped, "network gate: accept failed");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let permit = match Arc::clone(&shared.total).try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                let since = *saturated_since.get_or_insert_with(Instant::now);
                let left = shared.limits.queue_wait.saturating_sub(since.elapsed());
                let wait = tokio::time::timeout(left, Arc::clone(&shared.total).acquire_owned());
                wait.await.ok().and_then(Result::ok)
            }
        };
        match permit {
            Some(permit) => {
                saturated_since = None;
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    if let Err(e) = serve(stream, &shared, permit).await {
                        tracing::debug!(error = %e, "proxy connection ended with an error");
                    }
                });
            }
            None => {
                if let Some(skipped) = shared.notice.due() {
                    tracing::warn!(
                        limit = shared.limits.max_connections,
                        skipped,
                        "network gate: too many connections open, refused one with 503"
                    );
                }
                refuse_over_total(stream, &shared).await;
            }
        }
    }
}

/// `503` to a connection over the total limit. Its request head is read (within a second) before
/// closing, so the client gets the answer and not a reset. At most `MAX_REFUSING` at once: beyond,
/// the accept loop waits for one to finish (new clients wait in the kernel's backlog).
async fn refuse_over_total(mut stream: TcpStream, shared: &Shared) {
    let Ok(permit) = Arc::clone(&shared.refusing).acquire_owned().await else { return };
    tokio::spawn(async move {
        let _permit = permit;
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            let _ = stream.set_nodelay(true);
            let _ = stream.write_all(&reply_bytes("503 Service Unavailable")).await;
            let _ = stream.shutdown().await;
            let mut seen = Vec::new();
            let mut chunk = [0u8; 1024];
            while seen.len() < MAX_HEAD && head_end(&seen).is_none() {
                match stream.read(&mut chunk).await {
                    Ok(n) if n > 0 => seen.extend_from_slice(&chunk[..n]),
                    _ => break,
                }
            }
        })
        .await;
    });
}

/// The parsed request line and head.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// `CONNECT host:port`.
    Connect {
        /// Host (brackets removed for IPv6).
        host: String,
        /// Port.
        port: u16,
    },
    /// `METHOD http://host[:port]/path`.
    Http {
        /// Method.
        method: String,
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// Origin-form target (`/path?query`).
        path: String,
        /// HTTP version token.
        version: String,
    },
}

/// Parses a request line (`CONNECT a:443 HTTP/1.1`, `GET http://a/b HTTP/1.1`); `None` when it is not
/// a proxy request we serve.
pub fn parse_request_line(line: &str) -> Option<Request> {
    let mut parts = line.split_whitespace();
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !version.starts_with("HTTP/1.") {
        return None;
    }
    if method.eq_ignore_ascii_case("CONNECT") {
        let (host, port) = split_authority(target)?;
        return Some(Request::Connect { host, port });
    }
    let url = url::Url::parse(target).ok()?;
    if url.scheme() != "http" || !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    let host = url.host_str()?.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = url.port_or_known_default()?;
    let mut path = url.path().to_owned();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    Some(Request::Http { method: method.to_owned(), host, port, path, version: version.to_owned() })
}

fn split_authority(target: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = target.strip_prefix('[') {
        let (h, p) = rest.split_once("]:")?;
        (h, p)
    } else {
        target.rsplit_once(':')?
    };
    // Only what a host name or an IP literal is made of: the host the gate decides is the host dialled.
    if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':')) {
        return None;
    }
    Some((host.to_owned(), port.parse().ok()?))
}

/// What reading a request head gave.
enum Head {
    /// The client closed before a whole head.
    Closed,
    /// Longer than `MAX_HEAD`.
    TooLarge,
    /// The head, and the bytes the client sent after it.
    Complete(Vec<u8>, Vec<u8>),
}

/// The end of the head (after its blank line) in `buf`, if it is there.
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

async fn read_head(client: &mut TcpStream) -> io::Result<Head> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Head::Closed);
        }
        let scan_from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = head_end(&buf[scan_from..]).map(|e| e + scan_from) {
            if end > MAX_HEAD {
                return Ok(Head::TooLarge);
            }
            let rest = buf.split_off(end);
            return Ok(Head::Complete(buf, rest));
        }
        if buf.len() >= MAX_HEAD {
            return Ok(Head::TooLarge);
        }
    }
}

async fn serve(mut client: TcpStream, shared: &Shared, _connection: OwnedSemaphorePermit) -> io::Result<()> {
    // The gate relays whatever it reads at once: Nagle's algorithm would hold each small write
    // (a request, the tail of a TLS record) until the previous one is acknowledged, and with
    // delayed acknowledgements that is tens of milliseconds per request on a keep-alive tunnel.
    client.set_nodelay(true)?;
    let (head, early) = match tokio::time::timeout(shared.limits.head_timeout, read_head(&mut client)).await {
        Err(_) => {
            tracing::debug!("proxy client sent no request in time; dropped");
            return Ok(());
        }
        Ok(head) => match head? {
            Head::Closed => return Ok(()),
            Head::TooLarge => return reply(&mut client, "431 Request Header Fields Too Large").await,
            Head::Complete(head, early) => (head, early),
        },
    };
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
    let first = lines.next().unwrap_or("");
    let Some(request) = parse_request_line(first) else {
        return reply(&mut client, "400 Bad Request").await;
    };
    let (scheme, host, port) = match &request {
        Request::Connect { host, port } => ("https", host.clone(), *port),
        Request::Http { host, port, .. } => ("http", host.clone(), *port),
    };
    if !shared.gate.allows(scheme, &host, port) {
        if scheme == "https" {
            tracing::info!(%host, port, "proxy refused a connection");
        } else {
            tracing::info!(%host, port, "proxy refused a plain http request");
        }
        return reply(&mut client, "403 Forbidden").await;
    }
    let Some(_slot) = shared.host_slot(&host).await else {
        if let Some(skipped) = shared.notice.due() {
            tracing::warn!(
                %host,
                limit = shared.limits.max_per_host,
                skipped,
                "network gate: too many connections to one host, refused one with 503"
            );
        }
        return reply(&mut client, "503 Service Unavailable").await;
    };
    let Some(mut upstream) = dial(&host, port, shared).await else {
        return reply(&mut client, "502 Bad Gateway").await;
    };
    match request {
        Request::Connect { .. } => {
            client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await?;
        }
        Request::Http { method, path, version, .. } => {
            let mut out = format!("{method} {path} {version}\r\n");
            let headers: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
            let upgrade = headers.iter().any(|h| h.to_ascii_lowercase().starts_with("upgrade:"));
            for h in headers {
                let lower = h.to_ascii_lowercase();
                if lower.starts_with("proxy-") || (!upgrade && lower.starts_with("connection:")) {
                    continue;
                }
                out.push_str(h);
                out.push_str("\r\n");
            }
            // One request per connection: a reused client connection could otherwise carry a request
            // meant for another host to this one.
            if !upgrade {
                out.push_str("Connection: close\r\n");
            }
            out.push_str("\r\n");
            upstream.write_all(out.as_bytes()).await?;
        }
    }
    // Bytes the client sent after its head (a request body, an eager TLS ClientHello).
    if !early.is_empty() {
        upstream.write_all(&early).await?;
    }
    relay(client, upstream, shared.limits.idle_timeout).await
}

/// Connects to an allowed host, remembering why it failed (or forgetting an earlier failure).
async fn dial(host: &str, port: u16, shared: &Shared) -> Option<TcpStream> {
    let result = connect(host, port, shared).await;
    if let Ok(mut map) = shared.failures.lock() {
        match &result {
            Ok(_) => {
                map.remove(&host_key(host));
            }
            Err((e, resolving)) => {
                map.retain(|_, (_, at)| at.elapsed() < FAILURE_MEMORY);
                map.insert(host_key(host), (Upstream::from_io(e, *resolving), Instant::now()));
            }
        }
    }
    result.ok()
}

/// The addresses of `host`: an IP literal as is, a name through the resolver within `dns_timeout`.
async fn lookup(host: &str, port: u16, shared: &Shared) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let resolver = Arc::clone(&shared.resolver);
    let name = host.to_owned();
    let mut lookup = tokio::task::spawn_blocking(move || resolver.resolve(&name, port));
    match tokio::time::timeout(shared.limits.dns_timeout, &mut lookup).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(io::Error::other(e)),
        Err(_) => {
            // A lookup still queued does not start; one running finishes on its thread, unheard.
            lookup.abort();
            tracing::warn!(
                %host,
                timeout_ms = shared.limits.dns_timeout.as_millis() as u64,
                "network gate: name lookup timed out, gave up"
            );
            Err(io::Error::new(io::ErrorKind::TimedOut, "name lookup timed out"))
        }
    }
}

/// Connects to the first address that answers; the error says whether the name lookup failed.
async fn connect(host: &str, port: u16, shared: &Shared) -> Result<TcpStream, (io::Error, bool)> {
    let addrs = lookup(host, port, shared).await.map_err(|e| (e, true))?;
    if addrs.is_empty() {
        return Err((io::Error::other("no address"), true));
    }
    let mut last = io::Error::other("no address");
    for addr in addrs {
        match tokio::time::timeout(shared.limits.connect_timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                // See `serve`: no Nagle delay on relayed writes.
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Ok(Err(e)) => last = e,
            Err(_) => last = io::Error::new(io::ErrorKind::TimedOut, "connection timed out"),
        }
    }
    Err((last, false))
}

fn reply_bytes(status: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").into_bytes()
}

async fn reply(client: &mut TcpStream, status: &str) -> io::Result<()> {
    client.write_all(&reply_bytes(status)).await?;
    let _ = client.shutdown().await;
    Ok(())
}

/// The last time a byte went through a relay, in milliseconds since the relay began.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        self.last_ms.store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// A stream that notes in [`Activity`] every read that brought bytes.
struct Watched<'a> {
    stream: TcpStream,
    activity: &'a Activity,
}

impl AsyncRead for Watched<'_> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for Watched<'_> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Relays both ways until each side closes, or until no byte has gone either way for `idle`.
async fn relay(client: TcpStream, upstream: TcpStream, idle: Duration) -> io::Result<()> {
    let activity = Activity { start: Instant::now(), last_ms: AtomicU64::new(0) };
    let mut a = Watched { stream: client, activity: &activity };
    let mut b = Watched { stream: upstream, activity: &activity };
    let watch = async {
        loop {
            let quiet = activity.idle_for();
            if quiet >= idle {
                return;
            }
            tokio::time::sleep(idle - quiet).await;
        }
    };
    tokio::select! {
        done = tokio::io::copy_bidirectional(&mut a, &mut b) => done.map(|_| ()),
        () = watch => {
            tracing::debug!(idle_secs = idle.as_secs(), "network gate: closed a tunnel idle in both directions");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn parses_request_lines() {
        assert_eq!(
            parse_request_line("CONNECT www.caf.fr:443 HTTP/1.1"),
            Some(Request::Connect { host: "www.caf.fr".into(), port: 443 })
        );
        assert_eq!(
            parse_request_line("CONNECT [::1]:443 HTTP/1.1"),
            Some(Request::Connect { host: "::1".into(), port: 443 })
        );
        assert_eq!(
            parse_request_line("GET http://plain.test/a?b=1 HTTP/1.1"),
            Some(Request::Http {
                method: "GET".into(),
                host: "plain.test".into(),
                port: 80,
                path: "/a?b=1".into(),
                version: "HTTP/1.1".into()
            })
        );
        for bad in [
            "GET /relative HTTP/1.1",
            "CONNECT noport HTTP/1.1",
            "CONNECT a@b:443 HTTP/1.1",
            "CONNECT www.caf.fr?.evil.com:443 HTTP/1.1",
            "CONNECT evil.com/www.caf.fr:443 HTTP/1.1",
            "CONNECT www.caf.fr%2F:443 HTTP/1.1",
            "GET https://x/ HTTP/1.1",
            "GET http://u:p@x/ HTTP/1.1",
            "",
            "CONNECT a:443 HTTP/2 extra",
        ] {
            assert_eq!(parse_request_line(bad), None, "{bad}");
        }
    }

    /// An upstream that counts connections and echoes what it reads, once.
    fn upstream() -> (u16, Arc<AtomicUsize>) {
        let l = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = l.local_addr().unwrap().port();
        let count = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&count);
        std::thread::spawn(move || {
            for s in l.incoming() {
                c.fetch_add(1, Ordering::SeqCst);
                let mut s = s.unwrap();
                let mut buf = [0u8; 1024];
                let n = s.read(&mut buf).unwrap_or(0);
                let _ = s.write_all(&buf[..n]);
            }
        });
        (port, count)
    }

    fn proxy_allowing(port: u16) -> Proxy {
        Proxy::start(Arc::new(move |_s: &str, host: &str, p: u16| host == "127.0.0.1" && p == port)).unwrap()
    }

    fn exchange(proxy: &Proxy, send: &[u8]) -> String {
        let mut s = TcpStream::connect(proxy.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(send).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn connect_to_an_allowed_host_is_relayed() {
        let (port, count) = upstream();
        let p = proxy_allowing(port);
        let mut s = TcpStream::connect(p.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
        let mut head = [0u8; 39];
        s.read_exact(&mut head).unwrap();
        assert_eq!(&head[..], b"HTTP/1.1 200 Connection established\r\n\r\n");
        s.write_all(b"hello").unwrap();
        let mut back = [0u8; 5];
        s.read_exact(&mut back).unwrap();
        assert_eq!(&back, b"hello");
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_refused_host_gets_403_and_no_connection() {
        let (port, count) = upstream();
        let p = proxy_allowing(port + 1);
        let answer = exchange(&p, format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n").as_bytes());
        assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
        let answer = exchange(&p, format!("GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
        assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(count.load(Ordering::SeqCst), 0, "the refused host was never contacted");
    }

    #[test]
    fn plain_http_is_rewritten_to_origin_form_and_closed() {
        let (port, _count) = upstream();
        let p = proxy_allowing(port);
        let answer = exchange(
            &p,
            format!("GET http://127.0.0.1:{port}/a?b HTTP/1.1\r\nHost: x\r\nProxy-Connection: keep-alive\r\nConnection: keep-alive\r\n\r\n")
                .as_bytes(),
        );
        assert!(answer.starts_with("GET /a?b HTTP/1.1\r\nHost: x\r\n"), "{answer}");
        assert!(answer.contains("Connection: close\r\n") && !answer.contains("keep-alive"), "{answer}");
    }

    #[test]
    fn dialling_failures_are_remembered_by_host() {
        // A port nothing listens on: refused.
        let closed = TcpListener::bind(("127.0.0.1", 0)).unwrap().local_addr().unwrap().port();
        let p = Proxy::start(Arc::new(|_s: &str, _h: &str, _p: u16| true)).unwrap();
        let answer = exchange(&p, format!("CONNECT 127.0.0.1:{closed} HTTP/1.1\r\n\r\n").as_bytes());
        assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
        assert_eq!(p.recent_failure("127.0.0.1"), Some(Upstream::Refused));
        let answer = exchange(&p, b"CONNECT no-such-host.invalid:443 HTTP/1.1\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
        assert_eq!(p.recent_failure("no-such-host.invalid."), Some(Upstream::Dns));
        // A success forgets the failure.
        let (port, _) = upstream();
        let mut s = TcpStream::connect(p.addr()).unwrap();
        s.write_all(format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n").as_bytes()).unwrap();
        let mut head = [0u8; 39];
        s.read_exact(&mut head).unwrap();
        assert_eq!(p.recent_failure("127.0.0.1"), None);
        assert_eq!(p.recent_failure("other.test"), None);
    }

    #[test]
    fn garbage_gets_400() {
        let (port, _) = upstream();
        let p = proxy_allowing(port);
        assert!(exchange(&p, b"HELLO\r\n\r\n").starts_with("HTTP/1.1 400"));
    }

    /// A server that accepts and holds every connection, never reading or writing (a stalled host).
    fn silent_upstream() -> u16 {
        let l = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in l.incoming() {
                held.push(s);
            }
        });
        port
    }

    fn quick_limits() -> Limits {
        Limits {
            max_connections: 8,
            max_per_host: 2,
            queue_wait: Duration::from_millis(300),
            head_timeout: Duration::from_millis(300),
            idle_timeout: Duration::from_millis(400),
            dns_timeout: Duration::from_millis(200),
            connect_timeout: Duration::from_secs(2),
            dns_threads: 2,
        }
    }

    fn quick_proxy(limits: Limits) -> Proxy {
        Proxy::start_with(Arc::new(|_s: &str, _h: &str, _p: u16| true), limits, Arc::new(SystemResolver)).unwrap()
    }

    /// Opens a tunnel through `p` to `port` and reads the 200.
    fn tunnel(p: &Proxy, port: u16) -> TcpStream {
        let mut s = TcpStream::connect(p.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n").as_bytes()).unwrap();
        let mut head = [0u8; 39];
        s.read_exact(&mut head).unwrap();
        assert_eq!(&head[..], b"HTTP/1.1 200 Connection established\r\n\r\n");
        s
    }

    /// Waits until the gate closes `s` (read gives 0 or an error); how long that took.
    fn closed_within(s: &mut TcpStream, limit: Duration) -> Duration {
        let start = Instant::now();
        s.set_read_timeout(Some(limit)).unwrap();
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Ok(0) => start.elapsed(),
            Ok(n) => panic!("unexpected {n} bytes"),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                panic!("still open after {limit:?}")
            }
            Err(_) => start.elapsed(),
        }
    }

    #[test]
    fn a_client_that_sends_nothing_is_dropped() {
        let p = quick_proxy(quick_limits());
        let mut s = TcpStream::connect(p.addr()).unwrap();
        let took = closed_within(&mut s, Duration::from_secs(3));
        assert!(took >= Duration::from_millis(250), "{took:?}");
        assert_eq!(p.load().connections, 0);
    }

    #[test]
    fn an_idle_tunnel_is_closed_and_a_busy_one_is_not() {
        let p = quick_proxy(quick_limits());
        // Stalled: the host accepts and never answers, the client sends nothing.
        let mut stalled = tunnel(&p, silent_upstream());
        let took = closed_within(&mut stalled, Duration::from_secs(3));
        assert!(took >= Duration::from_millis(350), "{took:?}");
        // Busy: an echo exchange every 150 ms keeps a tunnel open past the idle timeout.
        let echo = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = echo.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in echo.incoming() {
                let mut s = s.unwrap();
                let mut buf = [0u8; 64];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        });
        let mut busy = tunnel(&p, port);
        for _ in 0..6 {
            std::thread::sleep(Duration::from_millis(150));
            busy.write_all(b"ping").unwrap();
            let mut back = [0u8; 4];
            busy.read_exact(&mut back).unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(p.load().relays, 1);
        let took = closed_within(&mut busy, Duration::from_secs(3));
        assert!(took >= Duration::from_millis(250), "{took:?}");
    }

    #[test]
    fn over_the_per_host_limit_a_connection_waits_then_gets_503() {
        let p = quick_proxy(quick_limits());
        let port = silent_upstream();
        let first = tunnel(&p, port);
        let _second = tunnel(&p, port);
        assert_eq!(p.load().relays, 2);
        // The third waits `queue_wait`, then 503.
        let start = Instant::now();
        let answer = exchange(&p, format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n").as_bytes());
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(start.elapsed() >= Duration::from_millis(250), "{:?}", start.elapsed());
        // A slot freed while one waits goes to it.
        let waiter = std::thread::spawn({
            let addr = p.addr();
            move || {
                let mut s = TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                s.write_all(format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n").as_bytes()).unwrap();
                let mut head = [0u8; 12];
                s.read_exact(&mut head).unwrap();
                String::from_utf8_lossy(&head).into_owned()
            }
        });
        std::thread::sleep(Duration::from_millis(100));
        drop(first);
        assert_eq!(waiter.join().unwrap(), "HTTP/1.1 200");
    }

    #[test]
    fn over_the_total_limit_a_connection_waits_briefly_then_gets_503() {
        let p = quick_proxy(Limits { max_connections: 3, max_per_host: 8, ..quick_limits() });
        let port = silent_upstream();
        let _held: Vec<TcpStream> = (0..3).map(|_| tunnel(&p, port)).collect();
        let connect = format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n");
        // The first over the limit waits `queue_wait` for a slot, then 503.
        let start = Instant::now();
        let answer = exchange(&p, connect.as_bytes());
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(250) && waited < Duration::from_secs(2), "{waited:?}");
        // While no slot frees, the next ones get it at once.
        let start = Instant::now();
        let answer = exchange(&p, connect.as_bytes());
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(start.elapsed() < Duration::from_millis(250), "{:?}", start.elapsed());
        assert_eq!(p.load(), Load { connections: 3, relays: 3 });
    }

    /// Resolves `slow.test` never (it sleeps), anything else to loopback.
    struct HangingResolver;

    impl Resolve for HangingResolver {
        fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
            if host == "slow.test" {
                std::thread::sleep(Duration::from_secs(30));
            }
            Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))])
        }
    }

    #[test]
    fn a_hanging_name_lookup_is_cut_and_others_still_served() {
        let p = Proxy::start_with(
            Arc::new(|_s: &str, _h: &str, _p: u16| true),
            Limits { dns_threads: 2, ..quick_limits() },
            Arc::new(HangingResolver),
        )
        .unwrap();
        // More hanging lookups than lookup threads: each is still cut in time.
        let hung: Vec<_> = (0..4)
            .map(|_| {
                let addr = p.addr();
                std::thread::spawn(move || {
                    let start = Instant::now();
                    let mut s = TcpStream::connect(addr).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    s.write_all(b"CONNECT slow.test:443 HTTP/1.1\r\n\r\n").unwrap();
                    let mut out = Vec::new();
                    let _ = s.read_to_end(&mut out);
                    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
                })
            })
            .collect();
        // Meanwhile, a host by address is relayed at once.
        let (port, _) = upstream();
        let start = Instant::now();
        let mut s = tunnel(&p, port);
        s.write_all(b"hi").unwrap();
        let mut back = [0u8; 2];
        s.read_exact(&mut back).unwrap();
        assert!(start.elapsed() < Duration::from_millis(500), "{:?}", start.elapsed());
        for h in hung {
            let (answer, took) = h.join().unwrap();
            assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
            assert!(took < Duration::from_secs(2), "{took:?}");
        }
        assert_eq!(p.recent_failure("slow.test"), Some(Upstream::Dns));
    }

    #[test]
    fn bytes_sent_right_after_the_head_are_relayed() {
        let (port, _) = upstream();
        let p = proxy_allowing(port);
        let mut s = TcpStream::connect(p.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\nearly").as_bytes()).unwrap();
        let mut got = [0u8; 44];
        s.read_exact(&mut got).unwrap();
        assert_eq!(&got[..], b"HTTP/1.1 200 Connection established\r\n\r\nearly");
    }
}
