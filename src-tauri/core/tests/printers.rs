//! « Imprimante » against the machine's real CUPS: an IPP Everywhere printer of the test's own
//! (`ippeveprinter` on a free loopback port, keeping what it receives) added with
//! `lpadmin -m everywhere`, the test page printed through it to the end, the queue's state read as it
//! is stopped, restarted and made to refuse jobs, the queue removed under the borne; a printer that
//! does not answer; a driver found for a printer that needs one; CUPS refusing a user outside
//! `lpadmin`; no scheduler at all.
//!
//! The scheduler is the machine's, shared with the end-to-end suites: every queue here is named
//! `borne-test-…` and removed when its test ends, pass or fail, and the system's default
//! destination is put back. A scheduler that does not run is started as `tests/e2e/setup.sh` does.
//! Needs CUPS (`cups`, `cups-client`: without them these tests say loudly that they did not run),
//! `ippeveprinter` (`cups-ipp-utils`), `dbus-daemon`, `pdftotext` (`poppler-utils`) and `cups-pdf`'s
//! drivers, which `.ci/deps.sh` installs; and root, as CUPS administration needs.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use borne_core::printers::{Connection, Cups, Driver, Found, PrinterError, QueueState};

/// Whether CUPS is here at all; when it is not, the tests say so and do not run.
fn cups_present() -> bool {
    let here = |p: &str| ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].iter().any(|d| Path::new(d).join(p).is_file());
    if !(here("cupsd") && here("lpstat") && here("lpadmin")) {
        eprintln!(
            "\n*** NOT RUN: CUPS is not installed (apt-get install cups cups-client): the printer tests drive the real scheduler. ***\n"
        );
        return false;
    }
    true
}

fn scheduler_running() -> bool {
    Command::new("lpstat")
        .arg("-r")
        .env("LANG", "C")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("scheduler is running"))
}

/// Starts the scheduler when it does not run, as `tests/e2e/setup.sh` does.
fn ensure_scheduler() {
    if scheduler_running() {
        return;
    }
    eprintln!("starting the CUPS scheduler");
    std::fs::create_dir_all("/run/cups").expect("test set-up: /run/cups");
    let status = Command::new("cupsd").status().expect("test set-up: cupsd");
    assert!(status.success(), "cupsd did not start");
    let t0 = Instant::now();
    while !scheduler_running() {
        assert!(t0.elapsed() < Duration::from_secs(10), "the CUPS scheduler does not answer");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A queue name of this test run's own.
fn queue(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("borne-test-{what}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// Removes its queue, whatever happened, and puts the system's default destination back.
struct QueueGuard {
    name: String,
    default_before: Option<String>,
}

fn default_destination() -> Option<String> {
    let o = Command::new("lpstat").arg("-d").env("LANG", "C").output().ok()?;
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("system default destination: "))
        .map(|s| s.trim().to_owned())
}

impl QueueGuard {
    fn new(name: &str) -> QueueGuard {
        QueueGuard { name: name.to_owned(), default_before: default_destination() }
    }
}

impl Drop for QueueGuard {
    fn drop(&mut self) {
        let _ = Command::new("cancel").args(["-a", &self.name]).stderr(Stdio::null()).status();
        let _ = Command::new("lpadmin").args(["-x", &self.name]).stderr(Stdio::null()).status();
        if let Some(d) = &self.default_before {
            if d != &self.name && default_destination().as_deref() != Some(d) {
                let _ = Command::new("lpadmin").args(["-d", d]).stderr(Stdio::null()).status();
            }
        }
    }
}

/// `ippeveprinter`: an IPP Everywhere printer on a free loopback port, keeping the documents it
/// receives in `spool`; stopped when dropped.
struct Eve {
    child: Child,
    port: u16,
    spool: PathBuf,
    _bus: common::Bus,
    _dir: tempfile::TempDir,
}

impl Drop for Eve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("test set-up: a free port").port()
}

impl Eve {
    fn start() -> Eve {
        let dir = tempfile::tempdir().expect("test set-up");
        let spool = dir.path().join("spool");
        std::fs::create_dir(&spool).expect("test set-up");
        // Its DNS-SD client must reach a bus to start at all, even with advertising off.
        let bus = common::Bus::start();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("ippeveprinter.log")).expect("test set-up");
        let child = Command::new("ippeveprinter")
            .args(["-p", &port.to_string(), "-d"])
            .arg(&spool)
            .args(["-k", "-r", "off", "-n", "localhost", "-M", "Borne", "-m", "Test Everywhere"])
            .args(["-f", "application/pdf,image/pwg-raster,image/urf", "borne-test-eve"])
            .env("DBUS_SYSTEM_BUS_ADDRESS", bus.address())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("test set-up"))
            .stderr(log)
            .spawn()
            .expect("ippeveprinter is missing: install `cups-ipp-utils` (.ci/deps.sh does)");
        let eve = Eve { child, port, spool, _bus: bus, _dir: dir };
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "ippeveprinter did not listen: {}",
                std::fs::read_to_string(eve._dir.path().join("ippeveprinter.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        eve
    }

    fn uri(&self) -> String {
        format!("ipp://127.0.0.1:{}/ipp/print", self.port)
    }

    fn received(&self) -> Vec<PathBuf> {
        std::fs::read_dir(&self.spool).expect("test set-up").map(|e| e.expect("test set-up").path()).collect()
    }
}

fn strings(lang: &str) -> serde_json::Map<String, serde_json::Value> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../ui/i18n/{lang}.json"));
    serde_json::from_str(&std::fs::read_to_string(p).expect("test set-up")).expect("test set-up")
}

/// The French text of `admin.printers.<key>`, `{name}` filled in.
fn french(key: &str, name: &str) -> String {
    strings("fr")[&format!("admin.printers.{key}")].as_str().expect("test set-up").replace("{name}", name)
}

fn run(program: &str, args: &[&str]) {
    let o = Command::new(program).args(args).env("LANG", "C").output().expect("test set-up");
    assert!(o.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_driverless_printer_is_added_prints_its_test_page_and_says_its_state() {
    if !cups_present() {
        return;
    }
    ensure_scheduler();
    let eve = Eve::start();
    let name = queue("eve");
    let _guard = QueueGuard::new(&name);
    let cups = Cups::new();

    let added = cups.add_queue(&name, &eve.uri(), &Driver::Everywhere, "Imprimante de l'accueil").unwrap();
    assert_eq!(added.name, name);
    assert_eq!(added.driver, Driver::Everywhere);
    assert!(added.make_and_model.contains("IPP Everywhere"), "{}", added.make_and_model);
    cups.set_default(&name).unwrap();
    let installed = cups.installed().unwrap();
    let mine = installed.iter().find(|i| i.name == name).expect("the queue is listed");
    assert!(mine.default);
    assert_eq!(mine.uri, eve.uri());

    let s = cups.status(&name).unwrap();
    assert_eq!((s.state, s.accepting), (QueueState::Idle, true), "{s:?}");
    assert!(s.ready(), "{s:?}");

    // The test page goes through CUPS to the printer, and the job ends.
    let job = cups.print_test_page(&name, "Centre social des Tilleuls").unwrap();
    assert!(job.starts_with(&name), "{job}");
    let t0 = Instant::now();
    while cups.job_pending(&name, &job).unwrap() {
        assert!(t0.elapsed() < Duration::from_secs(90), "job {job} still queued: {:?}", cups.status(&name));
        std::thread::sleep(Duration::from_millis(500));
    }
    let received = eve.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let text = Command::new("pdftotext").arg(&received[0]).arg("-").output().expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Page de test de l'imprimante"), "{text}");
    assert!(text.contains("Centre : Centre social des Tilleuls"), "{text}");
    assert!(text.contains(&format!("Imprimante : {name}")), "{text}");

    // Stopped by hand: the state and its reason in words; « Relancer l'imprimante » restarts it.
    run("cupsdisable", &[&name]);
    let s = cups.status(&name).unwrap();
    assert_eq!(s.state_code(), "stopped");
    assert!(!s.ready());
    assert!(s.reasons.iter().any(|r| r.code == "paused" && r.blocking), "{s:?}");
    assert_eq!(
        french(&format!("reason.{}", "paused"), ""),
        "L'imprimante a été arrêtée : appuyez sur « Relancer l'imprimante »."
    );
    cups.resume(&name).unwrap();
    let s = cups.status(&name).unwrap();
    assert!(s.ready() && s.reasons.is_empty(), "{s:?}");

    // Refusing jobs: the test page is refused, with its reason.
    run("cupsreject", &[&name]);
    assert_eq!(cups.status(&name).unwrap().state_code(), "not-accepting");
    assert_eq!(cups.print_test_page(&name, "x").unwrap_err(), PrinterError::NotAccepting(name.clone()));
    cups.resume(&name).unwrap();
    assert!(cups.status(&name).unwrap().ready());

    // Removed under the borne while it is the borne's printer: every call says it is gone.
    run("lpadmin", &["-x", &name]);
    let e = cups.status(&name).unwrap_err();
    assert_eq!(e, PrinterError::Gone(name.clone()));
    assert_eq!(
        french(&format!("error.{}", e.code()), &name),
        format!("L'imprimante « {name} » n'existe plus sur la borne : elle a été retirée. Choisissez-en une autre ou ajoutez-la de nouveau.")
    );
    assert_eq!(cups.print_test_page(&name, "x").unwrap_err().code(), "gone");
    assert_eq!(cups.job_pending(&name, &job).unwrap_err().code(), "gone");
    assert_eq!(cups.resume(&name).unwrap_err().code(), "gone");
    assert_eq!(cups.remove(&name).unwrap_err().code(), "gone");
    assert!(!cups.installed().unwrap().iter().any(|i| i.name == name));
}

#[test]
fn a_printer_that_does_not_answer_is_not_added() {
    if !cups_present() {
        return;
    }
    ensure_scheduler();
    let name = queue("silent");
    let _guard = QueueGuard::new(&name);
    // A port where nothing listens.
    let uri = format!("ipp://127.0.0.1:{}/ipp/print", free_port());
    let cups = Cups::new().timeouts(Duration::from_secs(10), Duration::from_secs(30), Duration::from_secs(8));
    let t0 = Instant::now();
    let e = cups.add_queue(&name, &uri, &Driver::Everywhere, "").unwrap_err();
    assert!(matches!(&e, PrinterError::NotReachable(why) if why.contains("no PPD")), "{e:?}");
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    assert!(!cups.installed().unwrap().iter().any(|i| i.name == name), "the raw queue is removed");
    assert!(french("error.not-reachable", "").starts_with("L'imprimante ne répond pas."));
}

#[test]
fn a_driver_is_found_for_a_printer_that_needs_one_and_discovery_runs() {
    if !cups_present() {
        return;
    }
    ensure_scheduler();
    let cups = Cups::new();
    // cups-pdf's PPD says this device id: CUPS's driver list matches it.
    let usb = Found {
        uri: "usb://Generic/CUPS-PDF".into(),
        info: "CUPS-PDF".into(),
        make_and_model: "Generic CUPS-PDF Printer".into(),
        device_id: "MFG:Generic;MDL:CUPS-PDF Printer;".into(),
        location: String::new(),
        connection: Connection::Usb,
        driverless: false,
    };
    match cups.driver_for(&usb).unwrap() {
        Driver::Ppd(ppd) => assert!(ppd.contains("CUPS-PDF"), "{ppd}"),
        other => panic!("{other:?}"),
    }
    let unknown =
        Found { device_id: "MFG:Nobody;MDL:Nothing 3000;".into(), make_and_model: "Nothing 3000".into(), ..usb };
    assert_eq!(cups.driver_for(&unknown).unwrap_err().code(), "no-driver");
    // Discovery runs for real: no printer around here, and never a backend's bare name.
    let found = cups.discover().unwrap();
    assert!(found.iter().all(|f| f.uri.contains("://")), "{found:?}");
}

#[test]
fn cups_refusing_a_user_outside_lpadmin_and_no_scheduler_are_said_so() {
    if !cups_present() {
        return;
    }
    ensure_scheduler();
    // The real clients, run as `nobody` (not in lpadmin): CUPS answers « Forbidden ».
    let d = tempfile::tempdir().unwrap();
    for program in ["lpadmin", "lpinfo", "lpstat", "cupsenable", "cupsaccept"] {
        use std::os::unix::fs::PermissionsExt;
        let p = d.path().join(program);
        std::fs::write(&p, format!("#!/bin/sh\nexec runuser -u nobody -- {program} \"$@\"\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let name = queue("nobody");
    let _guard = QueueGuard::new(&name);
    let as_nobody = Cups::new().programs_in(d.path());
    let e = as_nobody.add_queue(&name, "ipp://127.0.0.1:1/ipp/print", &Driver::Everywhere, "").unwrap_err();
    assert_eq!(e, PrinterError::NotAllowed("lpadmin: Forbidden".into()));
    assert_eq!(as_nobody.discover().unwrap_err().code(), "not-allowed");
    assert_eq!(
        french("error.not-allowed", ""),
        "Cet ordinateur ne permet pas à la borne d'ajouter, de retirer ou de relancer une imprimante. Contactez la fédération."
    );
    // No scheduler where the clients look: CUPS down, not « printer gone ».
    let nowhere = Cups::new().server("/nonexistent/borne-test-cups.sock");
    assert_eq!(nowhere.status("borne-e2e").unwrap_err().code(), "cups-down");
    assert_eq!(nowhere.installed().unwrap_err().code(), "cups-down");
    assert_eq!(nowhere.discover().unwrap_err().code(), "cups-down");
}

#[test]
fn every_code_has_its_text_in_every_language() {
    let groups: [(&str, &[&str]); 3] = [
        ("admin.printers.error", &PrinterError::CODES),
        ("admin.printers.reason", &borne_core::printers::REASON_CODES),
        ("admin.printers.state", &["idle", "printing", "stopped", "not-accepting"]),
    ];
    let wifi: [(&str, &[&str]); 4] = [
        ("admin.wifi.error", &borne_core::wifi::WifiError::CODES),
        ("admin.wifi.state", &["no-device", "radio-off", "disconnected", "connecting", "connected"]),
        ("admin.wifi.connectivity", &["full", "portal", "limited", "none", "unknown"]),
        ("admin.wifi.security", &["open", "owe", "personal", "wpa3-personal", "enterprise", "wep"]),
    ];
    for lang in borne_core::config::KNOWN_LANGUAGES {
        let s = strings(lang);
        for (prefix, codes) in groups.iter().chain(wifi.iter()) {
            for code in codes.iter() {
                let key = format!("{prefix}.{code}");
                assert!(s.get(&key).and_then(|v| v.as_str()).is_some_and(|t| !t.trim().is_empty()), "{lang}: {key}");
            }
        }
    }
    // The serialised names the screen receives are the codes of these texts.
    for (v, code) in [
        (serde_json::to_value(borne_core::wifi::Security::Wpa3Personal).unwrap(), "wpa3-personal"),
        (serde_json::to_value(borne_core::wifi::WifiState::RadioOff).unwrap(), "radio-off"),
        (serde_json::to_value(borne_core::wifi::Connectivity::Portal).unwrap(), "portal"),
    ] {
        assert_eq!(v, code);
    }
}
