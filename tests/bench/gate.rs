//! What the network gate (`borne_core::proxy`) adds to a connection: latency of small requests and
//! throughput of a large transfer, through the gate and direct, against the same local server.
//!
//! - New connection: connect, send a small `GET`, read the whole answer (a page's first request to a
//!   host). Direct; through the gate as plain http (absolute-form `GET`); through a `CONNECT` tunnel
//!   (the tunnel's `200` first, as WebKit does for https). Time to first byte and to the whole answer.
//! - Keep-alive: one connection (or tunnel) open, then request after request on it (what most of a
//!   page's subresources do): the round trip of each.
//! - Throughput: 256 MiB from the server to the client on one connection, direct and through a tunnel.
//!
//! Plain `fn main()`. `cargo bench -p borne-tests --bench gate` measures (2000 requests of each kind,
//! 5 transfers) and writes `tests/bench/results/gate.md`; without `--bench` (`cargo test --benches`) a
//! smoke run of a few requests that writes nothing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use borne_core::proxy::Proxy;

const SMALL: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";

/// The test server: answers `GET /` with 5 bytes (keep-alive) and `GET /big?<n>` with `n` bytes, one
/// thread per connection (the bench's own server, not what is measured).
fn server() -> SocketAddr {
    let l = TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let addr = l.local_addr().expect("addr");
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            std::thread::spawn(move || serve(s));
        }
    });
    addr
}

fn serve(s: TcpStream) {
    let _ = s.set_nodelay(true);
    let mut w = s.try_clone().expect("clone");
    let mut r = BufReader::new(s);
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let target = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        // The rest of the head.
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h == "\r\n" || h == "\n" {
                break;
            }
        }
        let big = target.rsplit_once("/big?").and_then(|(_, n)| n.parse::<usize>().ok());
        if let Some(n) = big {
            let _ = w.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n").as_bytes());
            let chunk = vec![b'x'; 256 * 1024];
            let mut left = n;
            while left > 0 {
                let k = left.min(chunk.len());
                if w.write_all(&chunk[..k]).is_err() {
                    return;
                }
                left -= k;
            }
        } else if w.write_all(SMALL).is_err() {
            return;
        }
    }
}

/// How a client reaches the server.
#[derive(Clone, Copy, PartialEq)]
enum Path {
    Direct,
    GatePlain,
    GateTunnel,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Direct => "direct",
            Path::GatePlain => "gate, plain http",
            Path::GateTunnel => "gate, CONNECT tunnel",
        }
    }
}

/// A connection to the server by `path`, ready for requests (origin-form, or absolute-form when the
/// gate relays plain http).
fn open(path: Path, server: SocketAddr, gate: &Proxy) -> (TcpStream, String) {
    match path {
        Path::Direct => (connected(server), "/".into()),
        Path::GatePlain => (connected(gate.addr()), format!("http://{server}/")),
        Path::GateTunnel => {
            let mut s = connected(gate.addr());
            s.write_all(format!("CONNECT {server} HTTP/1.1\r\nHost: {server}\r\n\r\n").as_bytes()).expect("connect");
            let mut head = [0u8; 39];
            s.read_exact(&mut head).expect("200");
            assert_eq!(&head[..12], b"HTTP/1.1 200");
            (s, "/".into())
        }
    }
}

fn connected(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    s
}

/// Sends `GET target` and reads the small answer; time to its first byte and to its end.
fn small_request(s: &mut TcpStream, target: &str, start: Instant) -> (Duration, Duration) {
    s.write_all(format!("GET {target} HTTP/1.1\r\nHost: bench\r\n\r\n").as_bytes()).expect("write");
    let mut buf = [0u8; 256];
    let mut got = s.read(&mut buf).expect("read");
    let first = start.elapsed();
    while got < SMALL.len() {
        let n = s.read(&mut buf[got..]).expect("read");
        assert!(n > 0, "closed early");
        got += n;
    }
    (first, start.elapsed())
}

/// New connection per request: (time to first byte, time to whole answer) of each.
fn new_connections(path: Path, n: usize, server: SocketAddr, gate: &Proxy) -> (Vec<Duration>, Vec<Duration>) {
    let (mut ttfb, mut total) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let start = Instant::now();
        let (mut s, target) = open(path, server, gate);
        let (f, t) = small_request(&mut s, &target, start);
        ttfb.push(f);
        total.push(t);
    }
    (ttfb, total)
}

/// One connection, `n` requests on it: the round trip of each.
fn keep_alive(path: Path, n: usize, server: SocketAddr, gate: &Proxy) -> Vec<Duration> {
    let (mut s, target) = open(path, server, gate);
    (0..n).map(|_| small_request(&mut s, &target, Instant::now()).1).collect()
}

/// MB/s of `bytes` from the server on one connection.
fn transfer(path: Path, bytes: usize, server: SocketAddr, gate: &Proxy) -> f64 {
    let (mut s, _) = open(path, server, gate);
    let start = Instant::now();
    s.write_all(format!("GET /big?{bytes} HTTP/1.1\r\nHost: bench\r\n\r\n").as_bytes()).expect("write");
    let mut buf = vec![0u8; 256 * 1024];
    let mut got = 0usize;
    let mut body_start = None;
    while body_start.is_none_or(|b| got < b + bytes) {
        let n = s.read(&mut buf).expect("read");
        assert!(n > 0, "closed early");
        if body_start.is_none() {
            body_start = buf[..n].windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
        }
        got += n;
    }
    bytes as f64 / 1e6 / start.elapsed().as_secs_f64()
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

fn us(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e6)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpu}, {cores} cores available, Linux {}", kernel.trim())
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (n, transfers, bytes) = if full { (2000, 5, 256 << 20) } else { (20, 1, 4 << 20) };
    let server = server();
    let gate = Proxy::start(Arc::new(|_s: &str, _h: &str, _p: u16| true)).expect("gate");
    let load_before = load();
    let started = jiff::Timestamp::now();

    // Warm-up: code paths, the server's threads, the kernel's loopback.
    for path in [Path::Direct, Path::GatePlain, Path::GateTunnel] {
        let _ = new_connections(path, n / 10 + 1, server, &gate);
    }

    let mut out = String::new();
    out.push_str("| path | new connection: first byte p50 / p95 (µs) | whole answer p50 / p95 (µs) | keep-alive round trip p50 / p95 (µs) |\n|---|---|---|---|\n");
    let mut rows = Vec::new();
    for path in [Path::Direct, Path::GatePlain, Path::GateTunnel] {
        let (mut ttfb, mut total) = new_connections(path, n, server, &gate);
        let mut rtt = if path == Path::GatePlain { Vec::new() } else { keep_alive(path, n, server, &gate) };
        let ka = if rtt.is_empty() {
            "— (one request per connection)".to_owned()
        } else {
            format!("{} / {}", us(percentile(&mut rtt, 0.5)), us(percentile(&mut rtt, 0.95)))
        };
        let row = format!(
            "| {} | {} / {} | {} / {} | {} |\n",
            path.name(),
            us(percentile(&mut ttfb, 0.5)),
            us(percentile(&mut ttfb, 0.95)),
            us(percentile(&mut total, 0.5)),
            us(percentile(&mut total, 0.95)),
            ka
        );
        print!("{row}");
        rows.push(row);
    }
    for r in &rows {
        out.push_str(r);
    }
    let mut direct: Vec<f64> = (0..transfers).map(|_| transfer(Path::Direct, bytes, server, &gate)).collect();
    let mut tunnel: Vec<f64> = (0..transfers).map(|_| transfer(Path::GateTunnel, bytes, server, &gate)).collect();
    let (d, t) = (median(&mut direct), median(&mut tunnel));
    let through = format!(
        "\n| transfer of {} MiB, one connection (median of {transfers}) | MB/s |\n|---|---|\n| direct | {d:.0} |\n| gate, CONNECT tunnel | {t:.0} ({:.0} % of direct) |\n",
        bytes >> 20,
        100.0 * t / d
    );
    print!("{through}");
    out.push_str(&through);

    if full {
        let doc = format!(
            "# The network gate's cost: latency and throughput through it vs direct\n\n\
             `cargo bench -p borne-tests --bench gate` (tests/bench/gate.rs): a local HTTP server on loopback, reached \
             directly and through `borne_core::proxy` as the kiosk starts it (default limits, one runtime thread). \
             {n} requests of each kind after a warm-up; a new connection per request (connect, small `GET`, 5-byte \
             answer), then {n} requests on one kept-alive connection or tunnel. The gate relays plain http with \
             `Connection: close`, so it has no keep-alive row. Loopback has no network delay: these figures are the \
             gate's own cost, which a real connection (tens of ms to an institution) dwarfs.\n\n\
             Machine: {}. Run: {} UTC. Load average before: {load_before}, after: {}.\n\n{out}",
            machine(),
            started.strftime("%Y-%m-%d %H:%M"),
            load(),
        );
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/results/gate.md");
        std::fs::write(&file, doc).expect("write results");
        println!("written to {}", file.display());
    }
}
