//! CUPS's command-line clients for the admin screens, run through
//! [`crate::process::run_collecting`] with `LANG=C` (their words are read by [`super::classify`])
//! and a time limit each, past which the client is killed and the screen says CUPS does not answer.
//! A client that says a queue does not exist is believed only once `lpstat -r` says the scheduler
//! runs: with `cupsd` stopped, `lpstat` and `lp` say the same words.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{
    classify, device_id_field, has_ppd, parse_installed, parse_lpinfo_devices, parse_make_and_model, parse_status,
    pick_driver, queue_name, valid_queue_name, Driver, Found, Installed, PrinterError, Status, SCHEMES,
};
use crate::process::run_collecting;

/// How long a question to CUPS may take.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long CUPS's backends may look for printers (`lpinfo --timeout` is 15 s of it).
pub const DISCOVER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long adding a printer may take: CUPS asks a driverless printer for its capabilities and
/// makes its PPD from them.
pub const ADD_TIMEOUT: Duration = Duration::from_secs(60);

/// The job title of the test page (CUPS's own lists; never a person's document).
const TEST_PAGE_JOB_TITLE: &str = "Page de test";

/// A printer just added.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Added {
    /// The queue's name: what the borne's `[printing] printer` setting takes.
    pub name: String,
    /// Make and model as CUPS's PPD says it (`HP LaserJet MFP M28w - IPP Everywhere`).
    pub make_and_model: String,
    /// How CUPS drives it.
    pub driver: Driver,
}

/// The CUPS clients, each within its time limit.
#[derive(Debug, Clone)]
pub struct Cups {
    bin: Option<PathBuf>,
    server: Option<OsString>,
    query_timeout: Duration,
    discover_timeout: Duration,
    add_timeout: Duration,
}

impl Default for Cups {
    fn default() -> Self {
        Cups::new()
    }
}

impl Cups {
    /// The clients on `PATH`, the system's scheduler, [`QUERY_TIMEOUT`], [`DISCOVER_TIMEOUT`] and
    /// [`ADD_TIMEOUT`].
    pub fn new() -> Self {
        Cups {
            bin: None,
            server: None,
            query_timeout: QUERY_TIMEOUT,
            discover_timeout: DISCOVER_TIMEOUT,
            add_timeout: ADD_TIMEOUT,
        }
    }

    /// Runs the clients of this folder instead of those on `PATH` (tests).
    pub fn programs_in(mut self, dir: impl Into<PathBuf>) -> Self {
        self.bin = Some(dir.into());
        self
    }

    /// Talks to this scheduler (`CUPS_SERVER`: a socket path or a host) instead of the system's.
    pub fn server(mut self, server: impl Into<OsString>) -> Self {
        self.server = Some(server.into());
        self
    }

    /// Other time limits for questions, discovery and adding a printer.
    pub fn timeouts(mut self, query: Duration, discover: Duration, add: Duration) -> Self {
        self.query_timeout = query;
        self.discover_timeout = discover;
        self.add_timeout = add;
        self
    }

    /// Runs one client; whether it succeeded, and what it said (stdout then stderr).
    fn run(&self, program: &str, args: &[&str], limit: Duration) -> Result<(bool, String), PrinterError> {
        let path = self.bin.as_ref().map_or_else(|| PathBuf::from(program), |d| d.join(program));
        let mut cmd = std::process::Command::new(&path);
        cmd.args(args).env("LANG", "C").env("LC_ALL", "C").env_remove("LANGUAGE");
        if let Some(s) = &self.server {
            cmd.env("CUPS_SERVER", s);
        }
        match run_collecting(cmd, None, limit) {
            Ok(o) => {
                let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&o.stderr));
                Ok((o.status.success(), text))
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                let e = PrinterError::Timeout(format!(
                    "{program} gave no answer within {} s (killed)",
                    limit.as_secs().max(1)
                ));
                tracing::warn!(error = %e, "CUPS does not answer");
                Err(e)
            }
            Err(e) => {
                let e = PrinterError::CupsDown(format!("cannot run {program}: {e}"));
                tracing::error!(error = %e, "CUPS clients missing (Debian package cups-client)");
                Err(e)
            }
        }
    }

    /// Whether the scheduler runs (`lpstat -r`, which exits 0 either way).
    fn scheduler_running(&self) -> bool {
        matches!(self.run("lpstat", &["-r"], self.query_timeout), Ok((_, out)) if out.contains("scheduler is running"))
    }

    /// Why a client failed (logged); a queue said missing or an unknown failure with no scheduler
    /// running is CUPS down.
    fn failure(&self, program: &str, name: &str, output: &str) -> PrinterError {
        let mut e = classify(name, output);
        if matches!(e, PrinterError::Gone(_) | PrinterError::Failed(_)) && !self.scheduler_running() {
            e = PrinterError::CupsDown(format!("the scheduler is not running ({program}: {})", output.trim()));
        }
        tracing::warn!(program, printer = name, code = e.code(), error = %e, "CUPS client failed");
        e
    }

    /// Runs a client about `name`: its output when it succeeded, else why it failed.
    fn check(&self, program: &str, args: &[&str], name: &str, limit: Duration) -> Result<String, PrinterError> {
        match self.run(program, args, limit)? {
            (true, out) => Ok(out),
            (false, out) => Err(self.failure(program, name, &out)),
        }
    }

    /// The printers CUPS's backends find now (slow: network discovery), driverless first.
    pub fn discover(&self) -> Result<Vec<Found>, PrinterError> {
        let args = ["-l", "-v", "--include-schemes", "dnssd,ipp,ipps,usb", "--timeout", "15"];
        let out = self.check("lpinfo", &args, "", self.discover_timeout)?;
        let found = parse_lpinfo_devices(&out);
        tracing::info!(
            count = found.len(),
            driverless = found.iter().filter(|f| f.driverless).count(),
            "printers found"
        );
        Ok(found)
    }

    /// The queues CUPS has, the system's default marked.
    pub fn installed(&self) -> Result<Vec<Installed>, PrinterError> {
        let v = match self.run("lpstat", &["-v"], self.query_timeout)? {
            (_, out) if out.contains("No destinations added") => String::new(),
            (true, out) => out,
            (false, out) => return Err(self.failure("lpstat", "", &out)),
        };
        let (_, d) = self.run("lpstat", &["-d"], self.query_timeout)?;
        Ok(parse_installed(&v, &d))
    }

    /// How CUPS would drive this printer: IPP Everywhere when it speaks IPP, else the driver CUPS
    /// matches to its device id.
    pub fn driver_for(&self, found: &Found) -> Result<Driver, PrinterError> {
        if found.driverless {
            return Ok(Driver::Everywhere);
        }
        if found.device_id.is_empty() && found.make_and_model.is_empty() {
            return Err(PrinterError::NoDriver(format!("{} says neither its device id nor its model", found.uri)));
        }
        let model = device_id_field(&found.device_id, &["MDL", "MODEL"]).unwrap_or(&found.make_and_model);
        let args: Vec<&str> = if found.device_id.is_empty() {
            vec!["-m", "--make-and-model", found.make_and_model.as_str()]
        } else {
            vec!["-m", "--device-id", found.device_id.as_str()]
        };
        let out = self.check("lpinfo", &args, "", self.query_timeout)?;
        match pick_driver(&out, model) {
            Some(ppd) => {
                tracing::info!(model, ppd = %ppd, "driver found");
                Ok(Driver::Ppd(ppd))
            }
            None => Err(PrinterError::NoDriver(format!("no driver names the model {model:?}"))),
        }
    }

    /// Adds a printer found by [`Cups::discover`] as the borne's printer: a queue named after it
    /// ([`queue_name`]), its driver ([`Cups::driver_for`]), made the system's default.
    pub fn add(&self, found: &Found) -> Result<Added, PrinterError> {
        let name = queue_name(if found.info.is_empty() { &found.make_and_model } else { &found.info });
        let driver = self.driver_for(found)?;
        let added = self.add_queue(&name, &found.uri, &driver, &found.info)?;
        self.set_default(&added.name)?;
        Ok(added)
    }

    /// Makes the queue `name` for the device `uri`, enabled, accepting, not shared, and waits until
    /// CUPS has its PPD (for IPP Everywhere, the scheduler asks the printer and writes it in the
    /// background: a printer that does not answer leaves a raw queue, which is removed). A queue of
    /// that name already there is replaced.
    pub fn add_queue(&self, name: &str, uri: &str, driver: &Driver, description: &str) -> Result<Added, PrinterError> {
        let scheme = uri.split("://").next().unwrap_or("");
        if !valid_queue_name(name)
            || !uri.contains("://")
            || !SCHEMES.contains(&scheme)
            || uri.len() > 1024
            || uri.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            let e = PrinterError::BadDevice(format!("queue {name:?} for {uri:?}"));
            tracing::warn!(error = %e, "printer not added");
            return Err(e);
        }
        match self.remove(name) {
            Ok(()) => tracing::info!(printer = name, "queue of the same name replaced"),
            Err(PrinterError::Gone(_)) => {}
            Err(e) => return Err(e),
        }
        let description: String = description.chars().filter(|c| !c.is_control()).take(127).collect();
        let description = if description.is_empty() { name.to_owned() } else { description };
        let args = [
            "-p",
            name,
            "-E",
            "-v",
            uri,
            "-m",
            driver.model(),
            "-D",
            description.as_str(),
            "-o",
            "printer-is-shared=false",
        ];
        self.check("lpadmin", &args, name, self.add_timeout)?;
        let t0 = Instant::now();
        loop {
            let p = self.check("lpstat", &["-l", "-p", name], name, self.query_timeout)?;
            if has_ppd(&p) {
                break;
            }
            if t0.elapsed() >= self.add_timeout {
                let _ = self.remove(name);
                let e = PrinterError::NotReachable(format!(
                    "CUPS made no PPD for {uri} within {} s ({})",
                    self.add_timeout.as_secs(),
                    driver.model()
                ));
                tracing::warn!(printer = name, error = %e, "printer not added");
                return Err(e);
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        let (_, options) = self.run("lpoptions", &["-p", name], self.query_timeout)?;
        let make_and_model = parse_make_and_model(&options).unwrap_or_default();
        tracing::info!(printer = name, model = %make_and_model, driver = driver.model(), "printer added");
        Ok(Added { name: name.to_owned(), make_and_model, driver: driver.clone() })
    }

    /// Makes `name` the system's default destination.
    pub fn set_default(&self, name: &str) -> Result<(), PrinterError> {
        self.check("lpadmin", &["-d", name], name, self.query_timeout).map(|_| ())
    }

    /// What the queue is doing, and what the printer says.
    pub fn status(&self, name: &str) -> Result<Status, PrinterError> {
        let p = self.check("lpstat", &["-l", "-p", name], name, self.query_timeout)?;
        let a = self.check("lpstat", &["-a", name], name, self.query_timeout)?;
        parse_status(name, &p, &a)
            .ok_or_else(|| PrinterError::Failed(format!("unexpected lpstat answer: {}", p.trim())))
    }

    /// Prints the test page ([`super::test_page`]) on `name`; the job id.
    pub fn print_test_page(&self, name: &str, centre: &str) -> Result<String, PrinterError> {
        let when = crate::messages::date_time_fr(&jiff::ZonedDateTime::now().datetime());
        let pdf = super::test_page::pdf(centre, name, &when);
        let file = tempfile::Builder::new()
            .prefix("borne-test-page-")
            .suffix(".pdf")
            .tempfile()
            .and_then(|mut f| std::io::Write::write_all(&mut f, &pdf).map(|()| f))
            .map_err(|e| PrinterError::Failed(format!("cannot write the test page: {e}")))?;
        let path = file.path().to_string_lossy().into_owned();
        let out =
            self.check("lp", &["-d", name, "-t", TEST_PAGE_JOB_TITLE, "--", path.as_str()], name, self.add_timeout)?;
        match crate::print::parse_lp_job(&out) {
            Some(job) => {
                tracing::info!(printer = name, job = %job, "test page sent");
                Ok(job)
            }
            None => Err(PrinterError::Failed(format!("no job id in lp's answer: {}", out.trim()))),
        }
    }

    /// Whether the job is still in `name`'s queue (waiting or printing).
    pub fn job_pending(&self, name: &str, job: &str) -> Result<bool, PrinterError> {
        let out = self.check("lpstat", &["-o", name], name, self.query_timeout)?;
        Ok(crate::print::parse_queued_jobs(&out).iter().any(|j| j == job))
    }

    /// « Relancer l'imprimante »: enables the queue and lets it accept jobs again.
    pub fn resume(&self, name: &str) -> Result<(), PrinterError> {
        self.check("cupsenable", &[name], name, self.query_timeout)?;
        self.check("cupsaccept", &[name], name, self.query_timeout)?;
        tracing::info!(printer = name, "queue restarted");
        Ok(())
    }

    /// Removes the queue (its jobs with it).
    pub fn remove(&self, name: &str) -> Result<(), PrinterError> {
        self.check("lpadmin", &["-x", name], name, self.query_timeout)?;
        tracing::info!(printer = name, "queue removed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fake clients in `dir`: each a shell script with this body.
    fn fakes(dir: &std::path::Path, bodies: &[(&str, &str)]) -> Cups {
        use std::os::unix::fs::PermissionsExt;
        for (name, body) in bodies {
            let p = dir.join(name);
            std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let short = Duration::from_millis(400);
        Cups::new().programs_in(dir).timeouts(short, short, short)
    }

    #[test]
    fn clients_that_never_return_are_killed() {
        let d = tempfile::tempdir().unwrap();
        let c = fakes(d.path(), &[("lpstat", "exec sleep 1000"), ("lpinfo", "exec sleep 1000")]);
        let t0 = Instant::now();
        assert_eq!(
            c.status("borne").unwrap_err(),
            PrinterError::Timeout("lpstat gave no answer within 1 s (killed)".into())
        );
        assert_eq!(c.discover().unwrap_err().code(), "timeout");
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    }

    #[test]
    fn missing_clients_are_cups_down() {
        let d = tempfile::tempdir().unwrap();
        let c = Cups::new().programs_in(d.path());
        assert_eq!(c.status("borne").unwrap_err().code(), "cups-down");
        assert_eq!(c.installed().unwrap_err().code(), "cups-down");
    }

    #[test]
    fn a_queue_said_missing_with_the_scheduler_down_is_cups_down() {
        let d = tempfile::tempdir().unwrap();
        // What lpstat says with no scheduler (captured with CUPS_SERVER pointing nowhere).
        let down = "case \"$1\" in -r) echo 'scheduler is not running';; \
                    *) echo 'lpstat: Invalid destination name in list \"borne\".' >&2; exit 1;; esac";
        let c = fakes(d.path(), &[("lpstat", down)]);
        assert_eq!(c.status("borne").unwrap_err().code(), "cups-down");
        let up = "case \"$1\" in -r) echo 'scheduler is running';; \
                  *) echo 'lpstat: Invalid destination name in list \"borne\".' >&2; exit 1;; esac";
        let c = fakes(d.path(), &[("lpstat", up)]);
        assert_eq!(c.status("borne").unwrap_err(), PrinterError::Gone("borne".into()));
    }

    #[test]
    fn bad_devices_never_reach_lpadmin() {
        let d = tempfile::tempdir().unwrap();
        let marker = d.path().join("ran");
        let c = fakes(d.path(), &[("lpadmin", &format!("touch '{}'", marker.display()))]);
        for (name, uri) in [
            ("borne", "file:///etc/shadow"),
            ("borne", "ipp://host/ipp/print -x other"),
            ("a b", "ipp://host/ipp/print"),
            ("borne", "ipp"),
            ("", "ipp://host/ipp/print"),
        ] {
            let e = c.add_queue(name, uri, &Driver::Everywhere, "").unwrap_err();
            assert_eq!(e.code(), "bad-device", "{name} {uri}");
        }
        assert!(!marker.exists());
    }
}
