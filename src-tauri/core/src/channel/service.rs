//! The kiosk's background check of the channel: a thread of its own with a small tokio runtime,
//! checking at start and then every [`super::EVERY`] (spread by a jitter), sooner after a failure
//! (backoff). It only stores what it accepts; `on_stored` tells the kiosk, which puts the new
//! version in force between two people. Nothing here is ever waited for by the UI.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;

use super::{check, next_check, Outcome};
use crate::config::CatalogueSettings;
use crate::load::Paths;

/// Starts the service. `settings` is asked before each check (the référent can change the address
/// live); a message on `wake` makes it check at once; `on_stored` gets each newly stored version.
pub fn spawn(
    paths: Paths,
    settings: impl Fn() -> CatalogueSettings + Send + 'static,
    wake: Receiver<()>,
    on_stored: impl Fn(u64) + Send + 'static,
) -> Option<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("catalogue-channel".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the catalogue channel's runtime; the catalogue in force stays");
                    return;
                }
            };
            let mut failures = 0u32;
            loop {
                let outcome = rt.block_on(check(&paths, &settings()));
                failures = if matches!(outcome, Outcome::Failed(_)) { failures.saturating_add(1) } else { 0 };
                if let Outcome::Applied { version, .. } = &outcome {
                    on_stored(*version);
                }
                let wait = next_check(&outcome, failures, crate::push::jitter());
                tracing::debug!(outcome = outcome.code(), secs = wait.as_secs(), "catalogue channel: next check");
                match wake.recv_timeout(wait) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        })
        .map_err(|e| tracing::error!(error = %e, "cannot start the catalogue channel's thread"))
        .ok()
}
