//! The network gate: a local HTTP proxy that WebKit's network process must use for every request.
//!
//! `CONNECT host:port` (https, wss) and absolute-form `http://…` requests are decided by a [`Gate`]
//! (the kiosk passes the core policy). A refused host gets `403` and no connection is opened to it —
//! no TCP handshake, no TLS ClientHello carrying its name. The proxy catches what the navigation hook
//! and the WebKit content filter do not: service workers' fetches, speculative pre-connections on
//! link clicks, and anything a future WebKit adds. It relays bytes and never looks inside TLS.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

const MAX_HEAD: usize = 32 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the gate remembers why it could not reach a host.
const FAILURE_MEMORY: Duration = Duration::from_secs(30);

/// The last dialling failure of each host, for the error page (WebKit only sees a failed CONNECT).
type Failures = Arc<Mutex<HashMap<String, (Upstream, Instant)>>>;

/// A running proxy on loopback.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    failures: Failures,
}

impl Proxy {
    /// Binds `127.0.0.1` on a free port and serves in background threads for the life of the process.
    pub fn start(gate: Arc<dyn Gate>) -> io::Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let failures: Failures = Arc::default();
        let fails = Arc::clone(&failures);
        std::thread::Builder::new().name("proxy-accept".into()).spawn(move || {
            for conn in listener.incoming() {
                match conn {
                    Ok(stream) => {
                        let gate = Arc::clone(&gate);
                        let fails = Arc::clone(&fails);
                        let _ = std::thread::Builder::new().name("proxy-conn".into()).spawn(move || {
                            if let Err(e) = serve(stream, gate.as_ref(), &fails) {
                                tracing::debug!(error = %e, "proxy connection ended with an error");
                            }
                        });
                    }
                    Err(e) => tracing::warn!(error = %e, "proxy accept failed"),
                }
            }
        })?;
        Ok(Proxy { addr, failures })
    }

    /// Why the gate could not reach `host` in the last moments, if it could not.
    pub fn recent_failure(&self, host: &str) -> Option<Upstream> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
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

fn serve(client: TcpStream, gate: &dyn Gate, failures: &Failures) -> io::Result<()> {
    // The gate relays whatever it reads at once: Nagle's algorithm would hold each small write
    // (a request, the tail of a TLS record) until the previous one is acknowledged, and with
    // delayed acknowledgements that is tens of milliseconds per request on a keep-alive tunnel.
    client.set_nodelay(true)?;
    client.set_read_timeout(Some(HEAD_TIMEOUT))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let n = reader.by_ref().take((MAX_HEAD - head.len()) as u64).read_until(b'\n', &mut head)?;
        if n == 0 {
            return Ok(());
        }
        if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") || (head.len() - before <= 2 && head.len() > 2) {
            break;
        }
        if head.len() >= MAX_HEAD {
            return reply(&client, "431 Request Header Fields Too Large");
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
    let first = lines.next().unwrap_or("");
    let Some(request) = parse_request_line(first) else {
        return reply(&client, "400 Bad Request");
    };
    match request {
        Request::Connect { host, port } => {
            if !gate.allows("https", &host, port) {
                tracing::info!(%host, port, "proxy refused a connection");
                return reply(&client, "403 Forbidden");
            }
            let upstream = match dial(&host, port, failures) {
                Some(s) => s,
                None => return reply(&client, "502 Bad Gateway"),
            };
            (&client).write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
            client.set_read_timeout(None)?;
            splice(reader, client, upstream)
        }
        Request::Http { method, host, port, path, version } => {
            if !gate.allows("http", &host, port) {
                tracing::info!(%host, port, "proxy refused a plain http request");
                return reply(&client, "403 Forbidden");
            }
            let mut upstream = match dial(&host, port, failures) {
                Some(s) => s,
                None => return reply(&client, "502 Bad Gateway"),
            };
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
            upstream.write_all(out.as_bytes())?;
            client.set_read_timeout(None)?;
            splice(reader, client, upstream)
        }
    }
}

/// Connects to an allowed host, remembering why it failed (or forgetting an earlier failure).
fn dial(host: &str, port: u16, failures: &Failures) -> Option<TcpStream> {
    let result = connect(host, port);
    if let Ok(mut map) = failures.lock() {
        match &result {
            Ok(_) => {
                map.remove(host);
            }
            Err((e, resolving)) => {
                map.retain(|_, (_, at)| at.elapsed() < FAILURE_MEMORY);
                map.insert(host.to_ascii_lowercase(), (Upstream::from_io(e, *resolving), Instant::now()));
            }
        }
    }
    result.ok()
}

/// Connects to the first address that answers; the error says whether the name lookup failed.
fn connect(host: &str, port: u16) -> Result<TcpStream, (io::Error, bool)> {
    let mut last = io::Error::other("no address");
    let addrs = (host, port).to_socket_addrs().map_err(|e| (e, true))?;
    let mut any = false;
    for addr in addrs {
        any = true;
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(s) => {
                // See `serve`: no Nagle delay on relayed writes.
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err((last, !any))
}

fn reply(client: &TcpStream, status: &str) -> io::Result<()> {
    let mut c = client;
    c.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes())?;
    let _ = client.shutdown(Shutdown::Both);
    Ok(())
}

/// Relays both ways until each side closes. `reader` may hold bytes the client sent after its head.
fn splice(reader: BufReader<TcpStream>, client: TcpStream, upstream: TcpStream) -> io::Result<()> {
    let up_write = upstream.try_clone()?;
    let client_write = client;
    let t = std::thread::Builder::new().name("proxy-up".into()).spawn(move || {
        let mut reader = reader;
        let mut up_write = up_write;
        let _ = io::copy(&mut reader, &mut up_write);
        let _ = up_write.shutdown(Shutdown::Write);
    })?;
    let mut up_read = upstream;
    let mut cw = client_write;
    let _ = io::copy(&mut up_read, &mut cw);
    let _ = cw.shutdown(Shutdown::Write);
    let _ = t.join();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

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
}
