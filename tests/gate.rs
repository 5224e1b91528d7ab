//! The network gate under a flood, as a hostile page would cause it: a thousand CONNECTs to one allowed
//! host that holds every connection open (WebSocket-like), a hundred tunnels to a host that accepts and
//! never answers (half-open, stalled), all at once. The gate must stay bounded (connections, its
//! threads from `/proc/self/task`, memory from `/proc/self/status`), answer every client cleanly (200 or
//! 503, never a reset or a hang), close the stalled tunnels after the idle timeout, and still relay a
//! fresh request to another allowed host promptly while all that goes on.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use borne_core::proxy::{Limits, Proxy, SystemResolver, THREAD_NAME};

/// Threads of this process, and those of them named like the gate's (`borne-gate`, `gate-dns`).
fn threads() -> (usize, usize) {
    let mut all = 0;
    let mut gate = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        all += 1;
        let comm = std::fs::read_to_string(task.unwrap().path().join("comm")).unwrap_or_default();
        if comm.starts_with(THREAD_NAME) || comm.starts_with("gate-dns") {
            gate += 1;
        }
    }
    (all, gate)
}

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A host (its own loopback address) that accepts every connection, greets it with `hello\n` like a
/// WebSocket server's first frame, and keeps it open, all on one thread.
fn holding_host(ip: [u8; 4], greet: bool) -> SocketAddr {
    let l = TcpListener::bind(SocketAddr::from((ip, 0))).unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            if greet {
                let _ = s.write_all(b"hello\n");
            }
            held.push(s);
        }
    });
    addr
}

/// A small HTTP server answering `ok` to every request, one connection after the other.
fn answering_host(ip: [u8; 4]) -> SocketAddr {
    let l = TcpListener::bind(SocketAddr::from((ip, 0))).unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    addr
}

fn connect_through(gate: &Proxy, to: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(gate.addr()).unwrap();
    s.write_all(format!("CONNECT {to} HTTP/1.1\r\nHost: {to}\r\n\r\n").as_bytes()).unwrap();
    s
}

/// A plain `GET` through the gate; the time to the whole answer.
fn fresh_request(gate: &Proxy, to: SocketAddr) -> Duration {
    let start = Instant::now();
    let mut s = TcpStream::connect(gate.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(format!("GET http://{to}/ HTTP/1.1\r\nHost: {to}\r\n\r\n").as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    assert!(out.starts_with(b"HTTP/1.1 200 OK") && out.ends_with(b"ok"), "{}", String::from_utf8_lossy(&out));
    start.elapsed()
}

/// The status line's code of a gate answer, or `None` when the connection was reset or timed out.
fn status(s: &mut TcpStream) -> Option<u16> {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // Byte by byte to the end of the head, so what follows (a host's first bytes) stays unread.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).ok()?;
        head.push(byte[0]);
    }
    std::str::from_utf8(head.get(9..12)?).ok()?.parse().ok()
}

#[test]
fn a_flood_of_connections_leaves_the_gate_bounded_and_responsive() {
    let websocket_like = holding_host([127, 0, 3, 1], true);
    let stalled = holding_host([127, 0, 3, 2], false);
    let fresh = answering_host([127, 0, 3, 3]);
    let limits = Limits {
        queue_wait: Duration::from_millis(500),
        idle_timeout: Duration::from_secs(2),
        head_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let (max_total, per_host) = (limits.max_connections, limits.max_per_host);
    let before = threads();
    let rss_before = rss_kib();
    let gate =
        Proxy::start_with(Arc::new(|_s: &str, _h: &str, _p: u16| true), limits, Arc::new(SystemResolver)).unwrap();
    let idle = fresh_request(&gate, fresh);

    // A thousand WebSocket-like tunnels and a hundred stalled ones, sent as fast as they go.
    let start = Instant::now();
    let mut flood: Vec<TcpStream> = (0..1000).map(|_| connect_through(&gate, websocket_like)).collect();
    let mut half_open: Vec<TcpStream> = (0..100).map(|_| connect_through(&gate, stalled)).collect();
    let sent = start.elapsed();
    let during = threads();
    let busy: Vec<Duration> = (0..5).map(|_| fresh_request(&gate, fresh)).collect();
    let load = gate.load();
    assert!(load.connections <= max_total, "{load:?}");
    assert!(load.relays <= 3 * per_host, "{load:?}");

    // Every client gets an answer: 200 for one host's share, 503 for the rest.
    let mut counts = std::collections::BTreeMap::<Option<u16>, usize>::new();
    let mut open = Vec::new();
    for mut s in flood.drain(..) {
        let code = status(&mut s);
        *counts.entry(code).or_default() += 1;
        if code == Some(200) {
            open.push(s);
        }
    }
    let mut stalled_open = Vec::new();
    for mut s in half_open.drain(..) {
        let code = status(&mut s);
        *counts.entry(code).or_default() += 1;
        if code == Some(200) {
            stalled_open.push(s);
        }
    }
    let answered = start.elapsed();
    // The tunnels that got through are end to end: the host's greeting arrives.
    for s in &mut open {
        let mut hello = [0u8; 6];
        s.read_exact(&mut hello).unwrap();
        assert_eq!(&hello, b"hello\n");
    }
    let after_peak = threads();
    let rss_peak = rss_kib();
    let ok = counts.get(&Some(200)).copied().unwrap_or(0);
    let refused = counts.get(&Some(503)).copied().unwrap_or(0);
    println!(
        "sent in {sent:?}, all answered in {answered:?}: {counts:?}; fresh request idle {idle:?}, under flood {busy:?}; \
         threads {before:?} -> {during:?} -> {after_peak:?}; RSS {rss_before} -> {rss_peak} KiB; load {load:?}"
    );
    assert_eq!(ok + refused, 1100, "every client answered 200 or 503: {counts:?}");
    assert_eq!(open.len(), per_host, "one host's share of tunnels");
    assert_eq!(stalled_open.len(), per_host, "one host's share of tunnels");
    assert!(busy.iter().all(|d| *d < Duration::from_millis(500)), "fresh requests under flood: {busy:?}");
    // Threads: the gate's own (one, plus lookup threads, none needed for addresses).
    assert!(during.1 <= 5 && after_peak.1 <= 5, "gate threads {during:?} {after_peak:?}");
    assert!(during.0 <= before.0 + 5, "process threads {before:?} -> {during:?}");
    assert!(rss_peak < rss_before + 64 * 1024, "RSS {rss_before} -> {rss_peak} KiB");

    // Silent tunnels are closed after the idle timeout, both hosts'.
    std::thread::sleep(Duration::from_millis(2500));
    for s in open.iter_mut().chain(stalled_open.iter_mut()) {
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = [0u8; 16];
        assert!(matches!(s.read(&mut buf), Ok(0) | Err(_)), "tunnel still open");
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while gate.load().connections > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(gate.load().connections, 0, "{:?}", gate.load());
    assert!(fresh_request(&gate, fresh) < Duration::from_millis(500));
}
