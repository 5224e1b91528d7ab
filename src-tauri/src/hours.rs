//! Opening hours that act, the shell half (issue 18, item 1): on each tick of the idle clock the
//! core says what the borne shows (`borne_core::hours::HoursPlan::mode`) and the toolbar shows it,
//! full window: the calm closed screen (next opening, where to get help, « Utiliser la borne quand
//! même » when allowed) or the dark screen (a black page: cage cannot power the display off), which
//! any key or mouse move wakes. A session that began within the hours is never cut at closing time
//! (`Session::hours_pass`); the closed screen comes when it ends.
//!
//! Input on the closed or dark screen does not open a person's session (no countdown on a closed
//! borne): it only restarts the hours' own idle clock, so the dark screen wakes to the closed one.
//!
//! A test clock: `BORNE_CLOCK_FILE` names a file holding an RFC 3339 instant the hours read as "now"
//! (the end-to-end suite walks the borne through a day with it; logged at start). Nothing else
//! reads it: statistics, logs and TLS keep the real clock.

use std::sync::Mutex;
use std::time::Instant;

use borne_core::hours::Mode;
use borne_core::toolbar::ToolbarEvent;
use tauri::{AppHandle, Manager};

use crate::glue::{caller_is, emit_toolbar, Result};
use crate::state::{dispatch, Kiosk, TOOLBAR};

/// The environment variable of the test clock.
pub const CLOCK_ENV: &str = "BORNE_CLOCK_FILE";

struct HoursState {
    /// The mode the toolbar shows (its code), or nothing yet.
    shown: Option<&'static str>,
    /// Last input while no session may open (the closed or dark screen): the dark screen's clock.
    last_input: Instant,
}

static STATE: Mutex<Option<HoursState>> = Mutex::new(None);

fn with_state<T>(f: impl FnOnce(&mut HoursState) -> T) -> T {
    let mut g = STATE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    f(g.get_or_insert_with(|| HoursState { shown: None, last_input: Instant::now() }))
}

/// "Now" for the hours: the test clock's instant when [`CLOCK_ENV`] is set and readable.
pub(crate) fn now() -> jiff::Timestamp {
    if let Some(path) = std::env::var_os(CLOCK_ENV) {
        match std::fs::read_to_string(&path).map(|t| t.trim().parse::<jiff::Timestamp>()) {
            Ok(Ok(t)) => return t,
            Ok(Err(e)) => tracing::warn!(error = %e, "the test clock's file holds no instant; the real clock is used"),
            Err(e) => tracing::warn!(error = %e, "cannot read the test clock's file; the real clock is used"),
        }
    }
    jiff::Timestamp::now()
}

/// At start: says when a test clock is in use.
pub fn start() {
    if let Some(p) = std::env::var_os(CLOCK_ENV) {
        tracing::warn!(file = %std::path::Path::new(&p).display(), "opening hours follow a TEST CLOCK (BORNE_CLOCK_FILE)");
    }
}

/// Whether a closed or dark screen is shown and the session has no pass: input then goes to the
/// hours' idle clock only (see the module's documentation).
pub fn input_held(app: &AppHandle) -> bool {
    let screen = with_state(|st| matches!(st.shown, Some("closed" | "dark")));
    if !screen || app.state::<Kiosk>().session().hours_pass {
        return false;
    }
    let wake = with_state(|st| {
        st.last_input = Instant::now();
        st.shown == Some("dark")
    });
    if wake {
        // Woken: the closed screen at once, not at the next tick.
        tick(app);
    }
    true
}

/// Input that opens or continues a session within the hours: it may go on past closing time.
pub fn session_input(app: &AppHandle) {
    let kiosk = app.state::<Kiosk>();
    let open_now = with_state(|st| matches!(st.shown, None | Some("open")));
    if open_now {
        let mut s = kiosk.session();
        if !s.hours_pass {
            s.hours_pass = true;
        }
    }
}

/// Each second (the idle clock's tick), after a session's end and on input: what to show.
pub fn tick(app: &AppHandle) {
    let kiosk = app.state::<Kiosk>();
    // One lock at a time (the settings, then the session): never one held while taking the other.
    let Ok(plan) = kiosk.loaded.read().map(|l| l.settings.hours.clone()) else { return };
    let lang = kiosk.session().language.clone();
    let Some(plan) = plan else {
        // No hours: always open (a plan removed while closed gives the portal back).
        show(app, Mode::Open, String::new());
        return;
    };
    let now = now();
    let (session_open, idle_for) = {
        let s = kiosk.session();
        let open = s.is_open() && s.hours_pass;
        (open, with_state(|st| st.last_input.elapsed()))
    };
    let mode = plan.mode(now, session_open, idle_for);
    let next = if matches!(mode, Mode::Open) { String::new() } else { plan.status(now, &lang) };
    show(app, mode, next);
}

fn show(app: &AppHandle, mode: Mode, next: String) {
    // Power-off: the kiosk asks root for it (once a period; `power_off`), the screen dark meanwhile,
    // and dark still if root refuses.
    crate::power_off::on_mode(&mode);
    let (code, usable) = match &mode {
        Mode::Open => ("open", false),
        Mode::SessionWhileClosed { .. } => ("session-while-closed", false),
        Mode::Closed { usable, .. } => ("closed", *usable),
        Mode::Dark { usable, .. } => ("dark", *usable),
        Mode::PowerOff { .. } => ("dark", true),
    };
    let changed = with_state(|st| {
        let changed = st.shown != Some(code);
        if changed {
            if matches!(code, "closed" | "dark") && !matches!(st.shown, Some("closed" | "dark")) {
                // The closed screen's idle clock starts when it shows.
                st.last_input = Instant::now();
            }
            st.shown = Some(code);
        }
        changed
    });
    if changed {
        tracing::info!(mode = code, "opening hours: the borne shows this mode");
        emit_toolbar(app, ToolbarEvent::Hours { mode: code, next, usable });
    }
}

/// The toolbar asks what to show (at its start, or after a reload).
#[tauri::command]
pub fn hours_now(webview: tauri::Webview, app: AppHandle) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    with_state(|st| st.shown = None);
    tick(&app);
    Ok(())
}

/// « Utiliser la borne quand même » on the closed screen (when the référent allows it).
#[tauri::command]
pub fn hours_use_anyway(webview: tauri::Webview, app: AppHandle) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    let kiosk = app.state::<Kiosk>();
    let allowed =
        kiosk.loaded.read().map(|l| l.settings.hours.as_ref().is_none_or(|h| h.use_when_closed)).unwrap_or(false);
    if !allowed {
        return Err(crate::glue::CommandError::new("forbidden"));
    }
    kiosk.session().hours_pass = true;
    tracing::info!("the borne used outside the opening hours");
    dispatch(&app, borne_core::person::Event::Input);
    tick(&app);
    Ok(())
}

/// « Espace référent » on the closed screen: the référent reaches the admin screens whatever the
/// hours (changing the settings after closing time, even when the borne may not be used then). The
/// admin session ends with a wipe as always, and the closed screen comes back.
#[tauri::command]
pub fn hours_admin(webview: tauri::Webview, app: AppHandle) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    if !with_state(|st| matches!(st.shown, Some("closed" | "dark"))) {
        return Err(crate::glue::CommandError::new("forbidden"));
    }
    let kiosk = app.state::<Kiosk>();
    if kiosk.session().remote_shown() {
        return Err(crate::glue::CommandError::new("session-open"));
    }
    kiosk.session().hours_pass = true;
    dispatch(&app, borne_core::person::Event::Input);
    crate::portal::open_admin_page(&app);
    tick(&app);
    Ok(())
}
