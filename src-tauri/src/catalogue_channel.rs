//! The federation's signed catalogue in the kiosk: glue around `borne_core::channel`.
//!
//! The core's background service checks the channel at start and every few hours and stores a good
//! newer version on disk. This module puts it in force, live and atomically (one swap of the
//! configuration in force), only between two people: at once when nobody is using the borne (no
//! input since the last wipe, no admin page open), else at the end of the session, before the next
//! person's content view is made.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Mutex, OnceLock};

use tauri::{AppHandle, Manager};

use crate::state::Kiosk;

/// A stored version waits to be put in force.
static PENDING: AtomicBool = AtomicBool::new(false);
/// Wakes the service (the référent changed the channel's address).
static WAKE: OnceLock<Mutex<Sender<()>>> = OnceLock::new();

/// Whether a new catalogue waits for the end of the session.
pub fn pending() -> bool {
    PENDING.load(Ordering::SeqCst)
}

/// Starts the background check.
pub fn start(app: &AppHandle) {
    let kiosk = app.state::<Kiosk>();
    let (tx, rx) = std::sync::mpsc::channel();
    let _ = WAKE.set(Mutex::new(tx));
    let loaded = std::sync::Arc::clone(&kiosk.loaded);
    let app2 = app.clone();
    borne_core::channel::service::spawn(
        kiosk.paths.clone(),
        move || loaded.read().map(|l| l.settings.catalogue.clone()).unwrap_or_default(),
        rx,
        move |version| {
            tracing::info!(version, "new national catalogue stored; applied between two people");
            PENDING.store(true, Ordering::SeqCst);
            let app3 = app2.clone();
            let _ = app2.run_on_main_thread(move || apply_if_nobody_is_there(&app3));
        },
    );
}

/// Makes the service check now (the channel's address changed).
pub fn wake() {
    if let Some(Ok(tx)) = WAKE.get().map(Mutex::lock) {
        let _ = tx.send(());
    }
}

/// Nobody is using the borne: no input since the last wipe, no admin page, no remote page shown.
pub(crate) fn nobody_is_there(kiosk: &Kiosk) -> bool {
    let s = kiosk.session();
    !s.is_open() && !s.admin.is_open() && !s.remote_shown()
}

/// On the main loop: a waiting version goes in force now if nobody is there (and the portal shows it).
/// Who is there is read on the main loop; the files are read off it.
fn apply_if_nobody_is_there(app: &AppHandle) {
    if nobody_is_there(&app.state::<Kiosk>()) && PENDING.swap(false, Ordering::SeqCst) {
        let app = app.clone();
        drop(tauri::async_runtime::spawn_blocking(move || {
            crate::navigation::reload(&app);
            crate::portal::load_portal(&app);
            tracing::info!("new national catalogue in force (borne unused)");
        }));
    }
}

/// At the end of a session, before the next person's content view is made (it takes its content
/// filter from the configuration in force): a waiting version goes in force.
pub fn session_ended(app: &AppHandle) {
    if !PENDING.swap(false, Ordering::SeqCst) {
        return;
    }
    let kiosk = app.state::<Kiosk>();
    let fresh = borne_core::load::load(&kiosk.paths);
    let (version, session) = (fresh.national.version, fresh.settings.session);
    // Replaced whole, even behind a poisoned lock: the next person gets the catalogue in force.
    *kiosk.loaded.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
    kiosk.session().set_settings(session);
    tracing::info!(version, "new national catalogue in force for the next person");
}
