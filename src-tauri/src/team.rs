//! The centre's team at the borne: a médiateur marks the person's session « accompagnée » with the
//! team's staff code (issue 16: a longer idle limit, counted apart, nobody named), the référent
//! chooses or removes that code, and on a nomad borne today's place (issue 18) that every count
//! carries. Decisions are `borne_core`'s (`admin::staff`, `nomad`, `person::Event::MarkAccompanied`);
//! the code is checked off the GTK thread (argon2).

use serde::Serialize;
use tauri::{AppHandle, Manager, State, Webview};

use borne_core::admin::pin::Clocks;
use borne_core::admin::screens::{Reply, UnlockReply};
use borne_core::admin::staff::StaffCode;
use borne_core::person::Event;
use borne_core::toolbar::ToolbarEvent;

use crate::glue::{caller_is, emit_toolbar, off_main, CommandError, Result};
use crate::state::{dispatch, Kiosk, TOOLBAR};

fn staff(kiosk: &Kiosk) -> StaffCode {
    StaffCode::new(&kiosk.paths.state_dir)
}

/// What the toolbar's « Session accompagnée » dialog needs.
#[derive(Debug, Serialize)]
pub struct AccompanyState {
    /// The référent has chosen a staff code.
    pub set: bool,
    /// This session is already marked.
    pub accompanied: bool,
    /// Minutes an accompanied session stays open without input.
    pub minutes: u32,
}

fn minutes(kiosk: &Kiosk) -> u32 {
    kiosk.loaded.read().map(|l| l.settings.session.accompanied().idle_timeout_secs.div_ceil(60)).unwrap_or(30)
}

/// The dialog opens.
#[tauri::command]
pub async fn accompany_state(webview: Webview, app: AppHandle) -> Result<AccompanyState> {
    caller_is(&webview, &[TOOLBAR])?;
    dispatch(&app, Event::Input);
    off_main(&app, |kiosk| AccompanyState {
        set: staff(kiosk).is_set(),
        accompanied: kiosk.session().accompanied(),
        minutes: minutes(kiosk),
    })
    .await
}

/// The answer to a staff code: marked, or why not (the PIN's waits and lock, its own record).
#[derive(Debug, Serialize)]
pub struct AccompanyReply {
    /// As the PIN's answer.
    #[serde(flatten)]
    pub check: UnlockReply,
    /// Minutes the session now stays open without input.
    pub minutes: u32,
}

/// A médiateur's staff code: the session becomes « accompagnée » until it ends.
#[tauri::command]
pub async fn accompany(webview: Webview, app: AppHandle, code: String) -> Result<AccompanyReply> {
    caller_is(&webview, &[TOOLBAR])?;
    dispatch(&app, Event::Input);
    let a = app.clone();
    off_main(&app, move |kiosk| {
        let check = staff(kiosk).check(&code, Clocks::now());
        let reply = UnlockReply::of(&check);
        if reply.ok {
            // Never who: only that this session is accompanied.
            tracing::info!("session marked accompanied");
            dispatch(&a, Event::MarkAccompanied);
            kiosk.stats.mark_accompanied();
            emit_toolbar(&a, ToolbarEvent::IdleCancel);
        } else {
            tracing::info!(state = reply.state.unwrap_or(""), "staff code refused");
        }
        AccompanyReply { check: reply, minutes: minutes(kiosk) }
    })
    .await
}

/// The référent chooses the staff code (admin page, unlocked), or removes it (`code` empty).
#[tauri::command]
pub async fn admin_set_staff_code(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    code: String,
    confirm: String,
) -> Result<Reply> {
    crate::admin::unlocked(&webview, &kiosk)?;
    off_main(&app, move |kiosk| {
        let s = staff(kiosk);
        if code.is_empty() && confirm.is_empty() {
            return match s.remove() {
                Ok(()) => {
                    tracing::info!("staff code removed");
                    Ok(Reply::ok())
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot remove the staff code");
                    Err(CommandError::new("staff-store"))
                }
            };
        }
        match s.set(&code, &confirm, &crate::admin::pin(kiosk)) {
            Ok(()) => {
                tracing::info!("staff code chosen");
                Ok(Reply::ok())
            }
            Err(e) => {
                tracing::info!(code = e.code(), "staff code refused");
                Ok(Reply::refused(vec![e.french().to_string()]))
            }
        }
    })
    .await?
}

/// The référent chooses today's place of a nomad borne (`None`: no place today). Every count
/// from now on carries it, until midnight.
#[tauri::command]
pub async fn admin_set_place(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    choice: Option<String>,
) -> Result<Reply> {
    crate::admin::unlocked(&webview, &kiosk)?;
    off_main(&app, move |kiosk| {
        let (places, tz) = settings_places(kiosk);
        if places.is_empty() {
            return Ok(Reply::refused(vec![borne_core::nomad::PlaceError::NotNomad.french().to_string()]));
        }
        let now = jiff::Timestamp::now();
        let done = match choice.as_deref() {
            Some(c) => {
                borne_core::nomad::set_today(&kiosk.paths.state_dir, &places, c, borne_core::nomad::today(&tz, now))
                    .map(|p| tracing::info!(place = %p.code, "today's place chosen"))
            }
            None => borne_core::nomad::clear_today(&kiosk.paths.state_dir)
                .map(|()| tracing::info!("no place today"))
                .map_err(|e| {
                    tracing::error!(error = %e, "cannot clear today's place");
                    borne_core::nomad::PlaceError::Store(e)
                }),
        };
        match done {
            Ok(()) => {
                place_to_stats(kiosk);
                Ok(Reply::ok())
            }
            Err(e) => {
                tracing::info!(code = e.code(), "today's place refused");
                Ok(Reply::refused(vec![e.french().to_string()]))
            }
        }
    })
    .await?
}

fn settings_places(kiosk: &Kiosk) -> (Vec<borne_core::nomad::Place>, jiff::tz::TimeZone) {
    kiosk
        .loaded
        .read()
        .map(|l| {
            let tz = jiff::tz::TimeZone::get(&l.settings.stats.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
            (l.settings.nomad.places.clone(), tz)
        })
        .unwrap_or_else(|_| (Vec::new(), jiff::tz::TimeZone::UTC))
}

/// Gives the statistics today's place (at start, after a choice, after the settings change).
pub fn place_to_stats(kiosk: &Kiosk) {
    let (places, tz) = settings_places(kiosk);
    let place = borne_core::nomad::place_of_day(&kiosk.paths.state_dir, &places, &tz, jiff::Timestamp::now());
    kiosk.stats.set_place(place);
}

/// At the kiosk's start: today's place to the statistics (off the GTK thread).
pub fn start(app: &AppHandle) {
    let a = app.clone();
    std::thread::spawn(move || place_to_stats(&a.state::<Kiosk>()));
}
