//! The CUPS command-line clients (`lp`, `lpstat`, `cancel`), beside the `busctl` wrapper in
//! [`crate::admin::machine`] and through the same [`crate::process::run_with_timeout`]: each one
//! runs with the C locale (its output is parsed) and a time limit, and is killed past it. A CUPS that does not answer (a stopped `cupsd`, a scheduler stuck on a
//! backend) is a printer that is not ready: the person reads « L'imprimante ne répond pas :
//! demandez à l'accueil. » (`print.error.printer`), never a dialog that waits for ever, and the log
//! says which client did not answer.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{lp_args, parse_lp_job, parse_printer_state, parse_queued_jobs, Plan, PrinterState, Refusal};
use crate::process::run_with_timeout;

/// How long `lpstat` may take to say what a queue is doing.
pub const LPSTAT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `lp` may take to hand a job to the scheduler (it sends the whole file to `cupsd`: a
/// long PDF on an old PC takes a few seconds).
pub const LP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `cancel` may take.
pub const CANCEL_TIMEOUT: Duration = Duration::from_secs(10);
/// A submitted job is watched this many times, this far apart (a queue that stops under it).
const WATCH: (u32, Duration) = (6, Duration::from_millis(500));

/// Why a CUPS client gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CupsError {
    /// The program could not be started (CUPS clients not installed).
    #[error("cannot run {command}: {cause}")]
    Unavailable {
        /// The client.
        command: String,
        /// What the system said.
        cause: String,
    },
    /// The program did not end in time; it was killed.
    #[error("{command} gave no answer within {secs} s (killed)")]
    TimedOut {
        /// The client.
        command: String,
        /// Its limit.
        secs: u64,
    },
}

/// The CUPS clients: their names on `PATH` (`Clients::default()`), or other programs and limits
/// (tests).
#[derive(Debug, Clone)]
pub struct Clients {
    /// `lp`.
    pub lp: PathBuf,
    /// `lpstat`.
    pub lpstat: PathBuf,
    /// `cancel`.
    pub cancel: PathBuf,
    /// Limits of `lp`, `lpstat` and `cancel`.
    pub limits: [Duration; 3],
}

impl Default for Clients {
    fn default() -> Self {
        Clients {
            lp: "lp".into(),
            lpstat: "lpstat".into(),
            cancel: "cancel".into(),
            limits: [LP_TIMEOUT, LPSTAT_TIMEOUT, CANCEL_TIMEOUT],
        }
    }
}

impl Clients {
    /// Runs one client; its success and its output (stdout then stderr).
    fn run(&self, program: &Path, args: &[OsString], limit: Duration) -> Result<(bool, String), CupsError> {
        let command = program.file_name().unwrap_or(program.as_os_str()).to_string_lossy().into_owned();
        let mut cmd = std::process::Command::new(program);
        cmd.args(args).env("LANG", "C").env("LC_ALL", "C");
        match run_with_timeout(cmd, limit) {
            Ok(o) => {
                let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&o.stderr));
                Ok((o.status.success(), text))
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                let e = CupsError::TimedOut { command, secs: limit.as_secs().max(1) };
                tracing::warn!(error = %e, "CUPS does not answer");
                Err(e)
            }
            Err(e) => {
                let e = CupsError::Unavailable { command, cause: e.to_string() };
                tracing::warn!(error = %e, "cannot run the CUPS client");
                Err(e)
            }
        }
    }

    /// What CUPS says about `printer`; a CUPS that does not answer in time is not ready.
    pub fn printer_state(&self, printer: &str) -> PrinterState {
        match self.run(&self.lpstat, &["-l".into(), "-p".into(), printer.into()], self.limits[1]) {
            Ok((ok, out)) => parse_printer_state(&out, ok),
            Err(e) => PrinterState::NotReady(e.to_string()),
        }
    }

    /// Submits `file` as planned after checking the printer; returns the job id. A scheduler that
    /// does not take the job in time is a printer that does not answer (the job is not charged:
    /// the caller gives the pages back).
    pub fn submit(&self, printer: &str, file: &Path, plan: &Plan) -> Result<String, Refusal> {
        if let PrinterState::NotReady(why) = self.printer_state(printer) {
            tracing::warn!(cause = %why, "printer not ready");
            return Err(Refusal::Printer(why));
        }
        // A JPEG or PNG goes as it is, fitted to its page (`picture_page_count` counted it).
        let picture = crate::documents::sniff_file(file) == crate::documents::Kind::Image;
        let (ok, out) = match self.run(&self.lp, &lp_args(printer, file, plan, picture), self.limits[0]) {
            Ok(r) => r,
            Err(e @ CupsError::TimedOut { .. }) => return Err(Refusal::Printer(e.to_string())),
            Err(CupsError::Unavailable { .. }) => return Err(Refusal::Failed),
        };
        match (ok, parse_lp_job(&out)) {
            (true, Some(id)) => Ok(id),
            _ => {
                tracing::warn!(output = %out.trim(), "lp refused the job");
                Err(Refusal::Failed)
            }
        }
    }

    /// Watches a submitted job for a few seconds: a queue that stops under it (backend failure, no
    /// paper) or a CUPS that stops answering is a failure the person must hear about.
    pub fn watch_job(&self, printer: &str) -> Result<(), Refusal> {
        for _ in 0..WATCH.0 {
            std::thread::sleep(WATCH.1);
            if let PrinterState::NotReady(why) = self.printer_state(printer) {
                return Err(Refusal::Printer(why));
            }
        }
        Ok(())
    }

    /// The jobs still waiting in `printer`'s queue (none when CUPS does not answer).
    pub fn queued_jobs(&self, printer: &str) -> Vec<String> {
        match self.run(&self.lpstat, &["-o".into(), printer.into()], self.limits[1]) {
            Ok((_, out)) => parse_queued_jobs(&out),
            Err(_) => Vec::new(),
        }
    }

    /// Cancels these jobs.
    pub fn cancel(&self, jobs: &[String]) -> Result<(), CupsError> {
        let args: Vec<OsString> = jobs.iter().map(Into::into).collect();
        let (ok, out) = self.run(&self.cancel, &args, self.limits[2])?;
        if ok {
            Ok(())
        } else {
            Err(CupsError::Unavailable { command: "cancel".into(), cause: out.trim().to_string() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A fake client in `dir`: a shell script with this body.
    fn fake(dir: &Path, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    const SHORT: Duration = Duration::from_millis(400);
    const READY: &str = "echo 'printer borne is idle.  enabled since Mon 01 Jan 2026'";
    /// A client that never returns (`exec`: the killed process is the one that sleeps).
    const FROZEN: &str = "exec sleep 1000";

    fn clients(dir: &Path, lp: &str, lpstat: &str, cancel: &str) -> Clients {
        Clients {
            lp: fake(dir, "lp", lp),
            lpstat: fake(dir, "lpstat", lpstat),
            cancel: fake(dir, "cancel", cancel),
            limits: [SHORT; 3],
        }
    }

    /// The French text the toolbar shows for a refusal's code (ui/i18n/fr.json).
    fn french(code: &str) -> String {
        let fr: serde_json::Value =
            serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/i18n/fr.json"))).unwrap();
        fr[format!("print.error.{code}")].as_str().unwrap().to_string()
    }

    #[test]
    fn an_lp_that_never_returns_is_killed_and_the_person_hears_the_printer_does_not_answer() {
        let d = tempfile::tempdir().unwrap();
        let c = clients(d.path(), FROZEN, READY, "exit 0");
        let plan = Plan { copies: 1, first: 1, last: 1 };
        let t0 = Instant::now();
        let refusal = c.submit("borne", Path::new("/nonexistent.pdf"), &plan).unwrap_err();
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
        // English for the log, French for the person.
        assert_eq!(refusal.to_string(), "printer not ready: lp gave no answer within 1 s (killed)");
        assert_eq!(refusal.code(), "printer");
        assert_eq!(french(refusal.code()), "L'imprimante ne répond pas : demandez à l'accueil.");
    }

    #[test]
    fn an_lpstat_that_never_returns_means_not_ready_and_lp_is_not_run() {
        let d = tempfile::tempdir().unwrap();
        let marker = d.path().join("lp-ran");
        let c = clients(d.path(), &format!("touch {}", marker.display()), FROZEN, "exit 0");
        let t0 = Instant::now();
        assert_eq!(
            c.printer_state("borne"),
            PrinterState::NotReady("lpstat gave no answer within 1 s (killed)".into())
        );
        let plan = Plan { copies: 1, first: 1, last: 1 };
        let refusal = c.submit("borne", Path::new("/nonexistent.pdf"), &plan).unwrap_err();
        assert_eq!(refusal.code(), "printer");
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
        assert!(!marker.exists(), "lp must not run when lpstat gives no answer");
        assert_eq!(c.queued_jobs("borne"), Vec::<String>::new());
    }

    #[test]
    fn a_cancel_that_never_returns_is_killed() {
        let d = tempfile::tempdir().unwrap();
        let c = clients(d.path(), "exit 0", READY, FROZEN);
        let t0 = Instant::now();
        assert_eq!(c.cancel(&["borne-1".into()]), Err(CupsError::TimedOut { command: "cancel".into(), secs: 1 }));
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    }

    #[test]
    fn a_cups_that_answers_takes_the_job() {
        let d = tempfile::tempdir().unwrap();
        let c = clients(d.path(), "echo 'request id is borne-42 (1 file(s))'", READY, "exit 0");
        let plan = Plan { copies: 1, first: 1, last: 1 };
        assert_eq!(c.submit("borne", Path::new("/x.pdf"), &plan), Ok("borne-42".into()));
        assert_eq!(c.cancel(&["borne-42".into()]), Ok(()));
    }

    #[test]
    fn missing_clients_are_a_failure_not_a_hang() {
        let c = Clients {
            lp: "/nonexistent/lp".into(),
            lpstat: "/nonexistent/lpstat".into(),
            cancel: "/nonexistent/cancel".into(),
            limits: [SHORT; 3],
        };
        assert!(matches!(c.printer_state("borne"), PrinterState::NotReady(_)));
        assert!(matches!(c.cancel(&["borne-1".into()]), Err(CupsError::Unavailable { .. })));
    }

    /// Outputs of the real clients, captured with `LANG=C` on Debian 12 (CUPS 2.4.2, cups-pdf 3.0.1)
    /// against the `borne-e2e` cups-pdf queue of the end-to-end suites, byte for byte.
    mod captured {
        /// `lpstat -l -p borne-e2e`, the queue idle (exit 0).
        pub const IDLE: &str = "printer borne-e2e is idle.  enabled since Mon Dec  7 11:36:06 2026\n\tForm mounted:\n\tContent types: any\n\tPrinter types: unknown\n\tDescription: borne-e2e\n\tAlerts: none\n\tLocation: \n\tConnection: direct\n\tInterface: /etc/cups/ppd/borne-e2e.ppd\n\tOn fault: no alert\n\tAfter fault: continue\n\tUsers allowed:\n\t\t(all)\n\tForms allowed:\n\t\t(none)\n\tBanner required\n\tCharset sets:\n\t\t(none)\n\tDefault pitch:\n\tDefault page size:\n\tDefault port settings:\n";
        /// The same while a job prints, the filter having failed on it (exit 0): the queue goes
        /// on (`After fault: continue`).
        pub const PRINTING: &str = "printer borne-e2e now printing borne-e2e-304.  enabled since Mon Dec  7 11:36:08 2026\n\tFilter failed\n\tForm mounted:\n\tContent types: any\n\tPrinter types: unknown\n\tDescription: borne-e2e\n\tAlerts: none\n\tLocation: \n\tConnection: direct\n\tInterface: /etc/cups/ppd/borne-e2e.ppd\n\tOn fault: no alert\n\tAfter fault: continue\n";
        /// `lpstat -l -p` of a queue that does not exist (exit 1, on stderr).
        pub const NO_QUEUE: &str = "lpstat: Invalid destination name in list \"no-such-queue-decide\".\n";
        /// `lp -d borne-e2e -n 1 -t borne -o page-ranges=1-1 -- file.pdf` (exit 0).
        pub const LP_TAKEN: &str = "request id is borne-e2e-304 (1 file(s))\n";
        /// `lp -d` a queue that does not exist (exit 1, on stderr).
        pub const LP_NO_QUEUE: &str = "lp: Error - The printer or class does not exist.\n";
        /// `lpstat -o borne-e2e` with one job queued (exit 0); empty when none.
        pub const QUEUED: &str = "borne-e2e-304           root              1024   Mon Dec  7 11:36:08 2026\n";
        /// `cancel borne-e2e-304` a second time (exit 1, on stderr).
        pub const CANCEL_TWICE: &str = "cancel: cancel-job failed: Job #304 is already canceled - can't cancel.\n";
    }

    #[test]
    fn real_cups_outputs_are_understood() {
        use super::super::{parse_lp_job, parse_printer_state, parse_queued_jobs};
        assert_eq!(parse_printer_state(captured::IDLE, true), PrinterState::Ready);
        assert_eq!(parse_printer_state(captured::PRINTING, true), PrinterState::Ready);
        assert_eq!(parse_printer_state(captured::NO_QUEUE, false), PrinterState::NotReady("lpstat failed".into()));
        assert_eq!(parse_lp_job(captured::LP_TAKEN), Some("borne-e2e-304".into()));
        assert_eq!(parse_lp_job(captured::LP_NO_QUEUE), None);
        assert_eq!(parse_queued_jobs(captured::QUEUED), ["borne-e2e-304"]);
        assert!(parse_queued_jobs("").is_empty());
    }

    #[test]
    fn real_cups_outputs_through_the_clients() {
        let d = tempfile::tempdir().unwrap();
        let print = |name: &str, text: &str, code: i32| {
            let f = d.path().join(format!("{name}.out"));
            std::fs::write(&f, text).unwrap();
            format!("cat '{}'; exit {code}", f.display())
        };
        let c = clients(d.path(), &print("lp", captured::LP_TAKEN, 0), &print("lpstat", captured::IDLE, 0), "exit 0");
        let plan = Plan { copies: 1, first: 1, last: 1 };
        assert_eq!(c.submit("borne-e2e", Path::new("/x.pdf"), &plan), Ok("borne-e2e-304".into()));
        let c = clients(d.path(), &print("lp2", captured::LP_NO_QUEUE, 1), &print("lpstat2", captured::IDLE, 0), "");
        assert_eq!(c.submit("borne-e2e", Path::new("/x.pdf"), &plan), Err(Refusal::Failed));
        let c = clients(
            d.path(),
            "exit 0",
            &print("lpstat3", captured::NO_QUEUE, 1),
            &print("cancel", captured::CANCEL_TWICE, 1),
        );
        let refusal = c.submit("no-such-queue-decide", Path::new("/x.pdf"), &plan).unwrap_err();
        assert_eq!(refusal, Refusal::Printer("lpstat failed".into()));
        assert_eq!(french(refusal.code()), "L'imprimante ne répond pas : demandez à l'accueil.");
        assert_eq!(
            c.cancel(&["borne-e2e-304".into()]),
            Err(CupsError::Unavailable {
                command: "cancel".into(),
                cause: "cancel: cancel-job failed: Job #304 is already canceled - can't cancel.".into()
            })
        );
    }

    /// Marks the child test process of [`the_lp_found_on_path_that_never_returns_is_killed`].
    const CHILD: &str = "BORNE_CORE_FAKE_CUPS_ON_PATH";

    /// `Clients::default()` runs the `lp` and `lpstat` found on `PATH`. With a fake `lp` first on
    /// `PATH` that really hangs (a `sleep` process), the submit is cut at the limit, the person
    /// hears the printer does not answer, and the hung process is gone. `PATH` is the process's
    /// own, so the check runs in a child process of this test binary (the test below).
    #[test]
    fn the_lp_found_on_path_that_never_returns_is_killed() {
        if std::env::var_os(CHILD).is_some() {
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let pid_file = d.path().join("lp.pid");
        fake(d.path(), "lp", &format!("echo $$ > '{}'\nexec sleep 1000", pid_file.display()));
        fake(d.path(), "lpstat", READY);
        let path = format!("{}:{}", d.path().display(), std::env::var("PATH").unwrap_or_default());
        let t0 = Instant::now();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["print::cups::tests::child_submits_with_the_clients_on_path", "--exact", "--nocapture"])
            .env("PATH", path)
            .env(CHILD, "1")
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && text.contains("1 passed"), "{text}");
        assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
        // The fake lp really ran, and was killed and reaped.
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        assert!(!Path::new(&format!("/proc/{}", pid.trim())).exists(), "lp {pid} still runs");
    }

    /// The child side of [`the_lp_found_on_path_that_never_returns_is_killed`]; does nothing when run
    /// on its own.
    #[test]
    fn child_submits_with_the_clients_on_path() {
        if std::env::var_os(CHILD).is_none() {
            return;
        }
        let c = Clients { limits: [Duration::from_millis(800), Duration::from_secs(5), SHORT], ..Clients::default() };
        let plan = Plan { copies: 1, first: 1, last: 1 };
        let t0 = Instant::now();
        let refusal = c.submit("borne", Path::new("/nonexistent.pdf"), &plan).unwrap_err();
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
        assert_eq!(refusal.to_string(), "printer not ready: lp gave no answer within 1 s (killed)");
        assert_eq!(refusal.code(), "printer");
    }
}
