//! What the shell shares between hooks and commands: the [`Kiosk`] state, the views' labels, and
//! [`dispatch`], the one way an event reaches the person's session. This module is the bottom of the
//! shell: it imports none of the others, and every other may import it.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use borne_core::load::{Loaded, Paths};
use borne_core::person::{Event, Session};
use borne_core::session::SessionDirs;
use tauri::AppHandle;

/// Height of the toolbar, in logical pixels.
pub const TOOLBAR_HEIGHT: f64 = 76.0;
/// Label of the content webview (the one WebDriver drives in end-to-end tests).
pub const CONTENT: &str = "content";
/// Label of the toolbar webview.
pub const TOOLBAR: &str = "toolbar";

/// Everything the shell shares between hooks and commands.
pub struct Kiosk {
    /// Where things are.
    pub paths: Paths,
    /// The session folders.
    pub dirs: SessionDirs,
    /// Configuration in force (shared with the network gate's threads).
    pub loaded: Arc<RwLock<Loaded>>,
    /// The network gate every WebKit request goes through.
    pub proxy: borne_core::proxy::Proxy,
    /// Kiosk (full screen, closed) or development window.
    pub kiosk_mode: bool,
    /// Set when the kiosk itself quits (admin path or signal): closing is then allowed.
    pub quitting: AtomicBool,
    /// The content filter is installed: remote navigations may be allowed.
    pub filter_ready: AtomicBool,
    /// The person now at the borne: everything their session owns, replaced whole at its end
    /// (`borne_core::person`). Changed only through [`dispatch`] or, for a field a command reads or
    /// sets, under this lock for the length of that change.
    pub session: Mutex<Session>,
    /// The shell's passes for its own pages in the content view: one per request, for one URL.
    /// Remote pages can never open internal pages themselves.
    pub internal_gate: Mutex<borne_core::session::InternalGate>,
    /// Anonymous usage counts (fire-and-forget; a disabled recorder when statistics are off).
    pub stats: borne_core::stats::recorder::Recorder,
    /// Wakes the background push (a session ended).
    pub push_wake: Mutex<std::sync::mpsc::Sender<()>>,
    /// The last log lines, for the maintenance screen.
    pub log_tail: borne_core::admin::machine::LogTail,
}

impl Kiosk {
    /// The policy's decision for a navigation, under the configuration in force (blocked if the
    /// configuration lock is poisoned).
    pub fn decide_navigation(&self, url: &tauri::Url) -> borne_core::policy::Decision {
        use borne_core::policy::{BlockReason, Decision, LoadKind};
        match self.loaded.read() {
            Ok(l) => l.effective.policy.decide(url, LoadKind::Navigation),
            Err(_) => Decision::Block { reason: BlockReason::Malformed, host: None },
        }
    }

    /// Opens the internal-page gate for the shell's navigation to `url`.
    pub fn open_internal_gate(&self, url: &tauri::Url) {
        self.internal_gate.lock().unwrap_or_else(std::sync::PoisonError::into_inner).open(url, Instant::now());
    }

    /// Uses the pass for `url`: true when the shell asked for this very address a moment ago.
    pub fn take_internal_gate(&self, url: &tauri::Url) -> bool {
        self.internal_gate.lock().is_ok_and(|mut g| g.take(url, Instant::now()))
    }

    /// The person's session, even behind a poisoned lock (a panic elsewhere while it was held):
    /// its value is whole at every step, and refusing it would leave a session that never ends.
    pub fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The function that decides on an event and carries out its effects (`session::dispatch`), set once
/// at start. Hooks and commands of every module raise events through [`dispatch`] without knowing the
/// module that carries them out: the shell's modules import in one direction.
static DISPATCHER: OnceLock<fn(&AppHandle, Event)> = OnceLock::new();

/// Sets the dispatcher (once, at start).
pub fn set_dispatcher(f: fn(&AppHandle, Event)) {
    let _ = DISPATCHER.set(f);
}

/// Something happened to the person's session: decided by `borne_core::person`, carried out by
/// the shell's session module.
pub fn dispatch(app: &AppHandle, event: Event) {
    match DISPATCHER.get() {
        Some(f) => f(app, event),
        None => tracing::error!(?event, "event before the dispatcher was set; dropped"),
    }
}
