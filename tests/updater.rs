//! The image's A/B updater script (`kiosk-image/mkosi.extra/usr/libexec/borne/update`), run for real
//! on this host against a local HTTPS server that fails as a federation's server, a proxy or a captive
//! portal would: which address it uses (the référent's first), the backoff after failed checks (5
//! minutes, 15 minutes, 1 hour, then 4 hours, with jitter), the timer's `--if-due` run that leaves at
//! once when no check is due, a new boot that makes one due, and a check that goes well starting the
//! rhythm again. Its paths are moved into a temporary folder (BORNE_STATE_PARTITION and the others of
//! update-lib.sh); `rauc` is a stand-in first on PATH, so nothing of this machine is installed or read
//! but curl, the clock and the boot id. Needs `openssl` (a throwaway certificate) and `curl`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server answers to every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// 404: a wrong address, or the bundle not published yet.
    NotFound,
    /// 503: an overloaded server or a proxy in trouble (curl tries it 4 times).
    Unavailable,
    /// 200 with an HTML page: a captive portal answering in the server's place.
    Portal,
    /// The bundle.
    Bundle,
}

struct Server {
    port: u16,
    answer: Arc<Mutex<Answer>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let (cert, key) = certificate(dir);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let answer = Arc::new(Mutex::new(Answer::NotFound));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (a, r) = (answer.clone(), requests.clone());
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (config, a, r) = (config.clone(), a.clone(), r.clone());
                std::thread::spawn(move || {
                    let _ = serve(tcp, config, &a, &r);
                });
            }
        });
        Server { port, answer, requests }
    }

    fn answer(&self, a: Answer) {
        *self.answer.lock().unwrap() = a;
    }

    fn requests(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    fn url(&self, name: &str) -> String {
        format!("https://127.0.0.1:{}/{name}", self.port)
    }
}

fn serve(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    answer: &Mutex<Answer>,
    requests: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut request = Vec::new();
    let mut buf = [0u8; 2048];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tls.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&request).lines().next().unwrap_or_default().to_string();
    requests.lock().unwrap().push(line);
    let reply = match *answer.lock().unwrap() {
        Answer::NotFound => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n".to_string(),
        Answer::Unavailable => "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n".to_string(),
        Answer::Portal => "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 512\r\n".into(),
        Answer::Bundle => "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\
             ETag: \"v2\"\r\nLast-Modified: Mon, 07 Dec 2026 01:00:00 GMT\r\n"
            .into(),
    };
    // HEAD only (the updater's check; RAUC, the stand-in here, would GET): headers, no body.
    tls.write_all(format!("{reply}Connection: close\r\n\r\n").as_bytes())?;
    tls.conn.send_close_notify();
    tls.flush()
}

/// A throwaway self-signed certificate for 127.0.0.1 (`ca.pem` for curl) and its key, in DER for rustls.
fn certificate(dir: &Path) -> (rustls::pki_types::CertificateDer<'static>, rustls::pki_types::PrivateKeyDer<'static>) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=borne updater test",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "ca.pem",
    ]);
    run(&["x509", "-in", "ca.pem", "-outform", "DER", "-out", "cert.der"]);
    run(&["pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER", "-out", "key.der"]);
    let cert = std::fs::read(dir.join("cert.der")).unwrap();
    let key = std::fs::read(dir.join("key.der")).unwrap();
    (cert.into(), rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()))
}

/// The updater's folders, moved under a temporary one.
struct Borne {
    dir: tempfile::TempDir,
}

impl Borne {
    fn new() -> Borne {
        let dir = tempfile::tempdir().unwrap();
        for d in ["state/updates", "state/system", "etc", "kiosk", "run", "bin"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        // RAUC's stand-in: says what it was asked and succeeds.
        let rauc = dir.path().join("bin/rauc");
        let log = dir.path().join("rauc.log");
        std::fs::write(
            &rauc,
            format!("#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\necho 'Installing: succeeded'\n", log.display()),
        )
        .unwrap();
        Command::new("chmod").arg("+x").arg(&rauc).status().unwrap();
        Borne { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// Runs the updater (`args`: none, the check now; `--if-due`, the timer's).
    fn update(&self, args: &[&str]) -> Output {
        let script = borne_tests::repo().join("kiosk-image/mkosi.extra/usr/libexec/borne/update");
        let path = format!("{}:{}", self.path("bin").display(), std::env::var("PATH").unwrap_or_default());
        let mut c = Command::new("sh");
        c.arg(script).args(args);
        for v in ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "http_proxy", "HTTP_PROXY"] {
            c.env_remove(v);
        }
        c.env("PATH", path)
            .env("NO_PROXY", "127.0.0.1")
            .env("CURL_CA_BUNDLE", self.path("ca.pem"))
            .env("BORNE_STATE_PARTITION", self.path("state"))
            .env("BORNE_ETC", self.path("etc"))
            .env("BORNE_KIOSK_STATE", self.path("kiosk"))
            .env("BORNE_RUN", self.path("run"))
            .output()
            .unwrap()
    }

    fn record(&self) -> String {
        std::fs::read_to_string(self.path("state/updates/status")).unwrap_or_default()
    }

    fn get(&self, key: &str) -> String {
        let prefix = format!("{key}=");
        self.record().lines().rev().find_map(|l| l.strip_prefix(&prefix).map(str::to_string)).unwrap_or_default()
    }

    /// Seconds from now to the record's next check.
    fn next_in(&self) -> i64 {
        let next: jiff::Timestamp = self.get("next_check").parse().expect("next_check is a time with its offset");
        next.as_second() - jiff::Timestamp::now().as_second()
    }

    /// Time passes: the next check is due (the record's next_check an hour ago).
    fn time_passes(&self) {
        let ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
        let text: String = self
            .record()
            .lines()
            .map(|l| if l.starts_with("next_check=") { format!("next_check={ago}\n") } else { format!("{l}\n") })
            .collect();
        std::fs::write(self.path("state/updates/status"), text).unwrap();
    }

    fn rauc_calls(&self) -> String {
        std::fs::read_to_string(self.path("rauc.log")).unwrap_or_default()
    }
}

fn said(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `lo..=hi` seconds from now, give or take the run's own seconds.
fn assert_next_in(b: &Borne, lo: i64, hi: i64, what: &str) {
    let n = b.next_in();
    assert!(n > lo - 30 && n <= hi + 1, "{what}: next check in {n} s, expected {lo}..{hi}\n{}", b.record());
}

#[test]
fn a_failed_check_is_retried_sooner_then_less_often_and_one_that_goes_well_starts_the_rhythm_again() {
    let b = Borne::new();
    let server = Server::start(b.dir.path());
    // The référent's address (the kiosk's settings.toml, as the admin screen writes it) wins over the
    // setup's and the image's.
    std::fs::write(
        b.path("kiosk/settings.toml"),
        format!("[centre]\nname = \"A\"\n\n[updates]\nurl = \"{}\"\n", server.url("borne.raucb")),
    )
    .unwrap();
    std::fs::write(b.path("state/system/update.conf"), "url=https://setup.invalid/borne.raucb\n").unwrap();
    std::fs::write(b.path("etc/update.conf"), "url=https://image.invalid/borne.raucb\n").unwrap();

    // 1. The server says 404: an ordinary error, tried again in 5 minutes (up to a quarter later).
    server.answer(Answer::NotFound);
    let o = b.update(&[]);
    assert!(!o.status.success(), "{}", said(&o));
    assert_eq!(server.requests(), 1, "{}", said(&o));
    assert_eq!((b.get("url"), b.get("url_from").as_str()), (server.url("borne.raucb"), "admin"));
    assert!(b.get("outcome").starts_with("error: curl: (22)"), "{}", b.record());
    assert_eq!(b.get("failures"), "1");
    assert_next_in(&b, 300, 375, "after one failure");
    let status = borne_core::updates::parse(&b.record());
    assert_eq!(status.outcome, Some(borne_core::updates::Outcome::Network));
    assert_eq!(status.failures, 1);
    assert!(status.next_check.is_some());

    // The timer's tick before that: it leaves at once, the server is not asked, the record unchanged.
    let before = b.record();
    let o = b.update(&["--if-due"]);
    assert!(o.status.success(), "{}", said(&o));
    assert_eq!((server.requests(), b.record()), (1, before));

    // 2. Time passes, the tick checks: still 404, then 15 minutes.
    b.time_passes();
    b.update(&["--if-due"]);
    assert_eq!(server.requests(), 2);
    assert_eq!(b.get("failures"), "2");
    assert_next_in(&b, 900, 1125, "after two failures");

    // 3. A captive portal answers with its web page: an error (not a bundle, not a refusal), 1 hour.
    server.answer(Answer::Portal);
    b.time_passes();
    b.update(&["--if-due"]);
    assert_eq!(server.requests(), 3);
    assert!(b.get("outcome").contains("web page instead of a bundle"), "{}", b.record());
    assert_eq!(borne_core::updates::parse(&b.record()).outcome, Some(borne_core::updates::Outcome::Portal));
    assert_eq!(b.get("failures"), "3");
    assert_next_in(&b, 3600, 4500, "after three failures");
    assert_eq!(b.rauc_calls(), "", "nothing installed from a web page");

    // 4. The server is overloaded (503; curl itself tries 4 times): then the 4-hour rhythm.
    server.answer(Answer::Unavailable);
    b.time_passes();
    b.update(&["--if-due"]);
    assert_eq!(server.requests(), 7, "curl's own --retry 3");
    assert_eq!(b.get("failures"), "4");
    assert_next_in(&b, 14400, 18000, "after four failures");
    b.time_passes();
    b.update(&["--if-due"]);
    assert_eq!(b.get("failures"), "5");
    assert_next_in(&b, 14400, 18000, "after five failures");

    // 5. The bundle is there: installed (RAUC's stand-in), the failures forgotten, 4 hours.
    server.answer(Answer::Bundle);
    b.time_passes();
    let o = b.update(&["--if-due"]);
    assert!(o.status.success(), "{}", said(&o));
    assert_eq!(b.get("outcome"), "installed", "{}", said(&o));
    assert_eq!(b.get("failures"), "0");
    assert_eq!(b.rauc_calls(), format!("install {}\n", server.url("borne.raucb")));
    assert_next_in(&b, 14400, 18000, "after a check that went well");

    // 6. A new boot: the first tick checks, whatever the next check said (the bundle has not changed:
    // not downloaded again).
    let n = server.requests();
    std::fs::write(b.path("state/updates/status"), b.record().replace("last_check_boot=", "last_check_boot=another-"))
        .unwrap();
    b.update(&["--if-due"]);
    assert_eq!(server.requests(), n + 1);
    assert_eq!(b.get("outcome"), "up to date (bundle unchanged)");
    assert_eq!(b.rauc_calls().lines().count(), 1);
    // 7. « Mettre à jour maintenant » (no --if-due) checks at once, even when nothing is due.
    b.update(&[]);
    assert_eq!(server.requests(), n + 2);
}

#[test]
fn an_address_the_updater_does_not_trust_is_skipped_for_the_next_source() {
    let b = Borne::new();
    let server = Server::start(b.dir.path());
    let pwned = b.path("pwned");
    // What a référent could never save through the admin screen (the core refuses it), written into the
    // kiosk's file by other means: never run, never fetched; the setup's address is used.
    for bad in [
        format!("https://127.0.0.1:{}/$(touch {}).raucb", server.port, pwned.display()),
        format!("https://127.0.0.1:{}/a.raucb; touch {}", server.port, pwned.display()),
        format!("http://127.0.0.1:{}/borne.raucb", server.port),
        format!("https://127.0.0.1:{}/borne.raucb?x=1", server.port),
    ] {
        std::fs::write(b.path("kiosk/settings.toml"), format!("[updates]\nurl = '{bad}'\n")).unwrap();
        std::fs::write(b.path("state/system/update.conf"), format!("url={}\n", server.url("setup.raucb"))).unwrap();
        let n = server.requests();
        let o = b.update(&[]);
        assert_eq!(
            (b.get("url"), b.get("url_from").as_str()),
            (server.url("setup.raucb"), "setup"),
            "{bad}: {}",
            said(&o)
        );
        assert_eq!(server.requests(), n + 1, "{bad}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("ignored"), "{bad}: {}", said(&o));
        assert!(!pwned.exists(), "{bad}: a shell ran it");
    }
    // Nothing from the kiosk nor the setup: the image's update.conf, then its borne.toml.
    std::fs::remove_file(b.path("kiosk/settings.toml")).unwrap();
    std::fs::remove_file(b.path("state/system/update.conf")).unwrap();
    std::fs::write(
        b.path("etc/borne.toml"),
        format!("[updates]\nreboot_window = \"02:00-05:00\"\nurl = \"{}\" # comment\n", server.url("toml.raucb")),
    )
    .unwrap();
    b.update(&[]);
    assert_eq!((b.get("url"), b.get("url_from").as_str()), (server.url("toml.raucb"), "image"));
    std::fs::write(b.path("etc/update.conf"), format!("url={}\n", server.url("conf.raucb"))).unwrap();
    b.update(&[]);
    assert_eq!((b.get("url"), b.get("url_from").as_str()), (server.url("conf.raucb"), "image"));
    // None at all: nothing to do, not an error.
    std::fs::remove_file(b.path("etc/update.conf")).unwrap();
    std::fs::remove_file(b.path("etc/borne.toml")).unwrap();
    let o = b.update(&[]);
    assert!(o.status.success(), "{}", said(&o));
    assert_eq!((b.get("outcome").as_str(), b.get("failures").as_str()), ("no update address set", "0"));
}

#[test]
fn one_check_at_a_time_the_timers_leaves_and_one_asked_for_now_joins_the_running_one() {
    let b = Borne::new();
    let server = Server::start(b.dir.path());
    std::fs::write(b.path("etc/update.conf"), format!("url={}\n", server.url("borne.raucb"))).unwrap();
    // Another check holds the lock for 3 seconds, then records its outcome.
    let status = b.path("state/updates/status");
    let mut holder = Command::new("flock")
        .arg(b.path("state/updates/lock"))
        .args(["sh", "-c", &format!("sleep 3; printf 'outcome=installed\\nfailures=0\\n' > '{}'", status.display())])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let t = std::time::Instant::now();
    let o = b.update(&["--if-due"]);
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains("another update check is running"),
        "{}",
        said(&o)
    );
    assert!(t.elapsed() < Duration::from_secs(2), "the timer's check left at once");
    let o = b.update(&[]);
    assert!(
        t.elapsed() >= Duration::from_millis(2500),
        "the check asked for now waited: {:?} {}",
        t.elapsed(),
        said(&o)
    );
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("it ended: installed"), "{}", said(&o));
    assert_eq!(server.requests(), 0, "the running check's outcome is the answer: {}", said(&o));
    holder.wait().unwrap();
    // A joined check that failed fails too.
    let mut holder = Command::new("flock")
        .arg(b.path("state/updates/lock"))
        .args([
            "sh",
            "-c",
            &format!("sleep 1; printf 'outcome=error: curl: (6) x\\nfailures=2\\n' > '{}'", status.display()),
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let o = b.update(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", said(&o));
    holder.wait().unwrap();
    // Alone, it checks.
    b.update(&[]);
    assert_eq!(server.requests(), 1);
}
