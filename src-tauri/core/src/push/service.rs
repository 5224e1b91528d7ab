//! The kiosk's background delivery: a thread of its own, with a small tokio runtime, that pushes
//! when there is something to send and waits otherwise. The kiosk works the same with no network:
//! nothing here is ever waited for by the UI.
//!
//! It also makes the borne's health reports ([`crate::health`]): it counts the kiosk's start when it is
//! spawned (once per kiosk process), and before each attempt records the report due, if any (the boot's,
//! then one a day), into the outbox the attempt delivers.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{backoff, jitter, lock, push_once, Destination, Options, PushError};
use crate::load::Paths;
use crate::matomo::{Client, Token};
use crate::stats::{Store, FILE_NAME};

/// Time between pushes when all went well.
pub const EVERY: Duration = Duration::from_secs(15 * 60);

/// What the service does after one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Wait this long (or until woken).
    Wait(Duration),
    /// Stopped by a refusal: wait until the destination changes.
    UntilChanged,
}

/// The decision after an attempt (pure): `failures` counts failed attempts in a row.
pub fn next_after(result: &Result<(), PushError>, failures: u32, unit: f64) -> Next {
    match result {
        Ok(()) => Next::Wait(EVERY),
        Err(PushError::Refused(_)) => Next::UntilChanged,
        Err(PushError::Settling(d)) => Next::Wait(*d + Duration::from_secs(1)),
        Err(PushError::Busy) => Next::Wait(Duration::from_secs(60)),
        // An unclear lookup waits like a failure: the next attempt looks the batch up again.
        Err(PushError::Retry(_) | PushError::Store(_) | PushError::Unclear(_)) => Next::Wait(backoff(failures, unit)),
    }
}

/// Starts the service. `destination` is asked before each attempt (settings can change live);
/// a message on `wake` (a session ended, the référent asked) makes it try at once.
pub fn spawn(
    paths: Paths,
    destination: impl Fn() -> Destination + Send + 'static,
    wake: Receiver<()>,
) -> Option<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("stats-push".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the push runtime; statistics stay on the borne");
                    return;
                }
            };
            let opts = Options::from_env();
            let (mut boot, _) = crate::health::note_start(&paths.state_dir);
            let mut failures = 0u32;
            // What was refused: the destination and the token it held (a new token in the same file is a change).
            let mut refused_for: Option<(Destination, Option<Token>)> = None;
            loop {
                let dest = destination();
                let seen = (dest.clone(), dest.target().ok().map(|t| t.token));
                let wait = if refused_for.as_ref() == Some(&seen) {
                    Duration::from_secs(300)
                } else {
                    refused_for = None;
                    if dest.target().is_ok() {
                        // A report is made only for a borne that delivers (statistics on, Matomo set).
                        match health(&paths, boot) {
                            Ok(()) => boot = false,
                            Err(e) => tracing::warn!(error = %e, "health report not recorded"),
                        }
                    }
                    let result = attempt(&rt, &paths, &dest, &opts);
                    failures = if result.is_ok() { 0 } else { failures.saturating_add(1) };
                    match next_after(&result, failures, jitter()) {
                        Next::Wait(d) => d,
                        Next::UntilChanged => {
                            refused_for = Some(seen);
                            Duration::from_secs(300)
                        }
                    }
                };
                match wake.recv_timeout(wait) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        })
        .map_err(|e| tracing::error!(error = %e, "cannot start the push thread"))
        .ok()
}

fn health(paths: &Paths, boot: bool) -> Result<(), crate::stats::StoreError> {
    let mut store = Store::open(&paths.state_dir.join(FILE_NAME))?;
    crate::health::record_if_due(paths, &mut store, boot, crate::stats::Hour::now())?;
    Ok(())
}

fn attempt(rt: &tokio::runtime::Runtime, paths: &Paths, dest: &Destination, opts: &Options) -> Result<(), PushError> {
    let target = match dest.target() {
        Ok(t) => t,
        Err(code) => {
            tracing::debug!(code, "statistics not sent: Matomo not configured");
            return Ok(());
        }
    };
    let _lock = lock(&paths.state_dir)?;
    let mut store = Store::open(&paths.state_dir.join(FILE_NAME))?;
    let client = Client::new(&target.url, opts.timeout).map_err(PushError::Retry)?;
    match rt.block_on(push_once(&mut store, &client, &target, opts)) {
        Ok(r) => {
            if r.requests > 0 {
                tracing::info!(batches = r.batches, delivered = r.delivered, lookups = r.lookups, "statistics pushed");
            }
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, "statistics push stopped");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matomo::ApiError;

    #[test]
    fn what_comes_after_an_attempt() {
        assert_eq!(next_after(&Ok(()), 0, 0.5), Next::Wait(EVERY));
        assert_eq!(next_after(&Err(PushError::Refused(ApiError::BadToken)), 1, 0.5), Next::UntilChanged);
        assert_eq!(
            next_after(&Err(PushError::Retry(ApiError::Status(500))), 2, 1.0),
            Next::Wait(Duration::from_secs(60))
        );
        assert_eq!(
            next_after(&Err(PushError::Settling(Duration::from_secs(9))), 1, 1.0),
            Next::Wait(Duration::from_secs(10))
        );
    }
}
