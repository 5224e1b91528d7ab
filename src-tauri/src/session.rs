//! The person's session, the shell half: [`dispatch`] hands each event to the session model
//! (`borne_core::person`), then carries out its effects, in order, in one place ([`carry_out`]).
//! Nothing is reset field by field: the model replaces the person's session whole at its end, and
//! the effects forget what the engine keeps for them.
//!
//! Forgetting a person, the engine half ([`Effect::ReplaceEngine`]): the next person gets a new
//! engine state by construction.
//! - The content view is closed and a new one is made. WebKit keeps per view what no data-clearing
//!   call reaches: the back/forward list, zoom, and the visited links (`:visited`); the new view,
//!   related to no other, also gets a new web process (memory cache, script heaps).
//! - WebKit's network process is stopped, and the folder it wrote to is erased while no process
//!   holds it. WebKit starts a new one for the next load, with nothing in memory: no HTTP or proxy
//!   credentials, cookies, storage, TLS session tickets, HSTS or DNS cache, no open HTTP/2 or
//!   WebSocket connection, and whatever a future WebKit adds there.
//! - The voice (« Écouter ») is stopped; the clipboard and primary selection are cleared, the
//!   downloads erased, then the new view shows the portal. The disk half (everything at start) is
//!   `borne_core::session`.

use std::time::{Duration, Instant};

use borne_core::person::{Effect, Event};
use borne_core::toolbar::ToolbarEvent;
use gtk::gdk;
use tauri::{AppHandle, Manager};
use webkit2gtk::WebViewExt;

use crate::state::{Kiosk, CONTENT};

/// Every this many session ends, the toolbar gets a new web process (see [`recycle_toolbar_if_due`]).
pub const TOOLBAR_RECYCLE_EVERY: u32 = 25;

/// Session ends since the toolbar's web process was last replaced.
static ENDS_SINCE_RECYCLE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// How long the wipe waits for the network process to be gone before it erases its folder anyway.
const NETWORK_STOP_WAIT: Duration = Duration::from_secs(2);

/// Decides on `event` (under the session's lock, held for that only) and carries out the effects on
/// the GTK main thread. Set as the shell's dispatcher at start (`state::set_dispatcher`).
pub fn dispatch(app: &AppHandle, event: Event) {
    if event == Event::Input {
        // Outside the opening hours, input on the closed or dark screen opens no session.
        if crate::hours::input_held(app) {
            return;
        }
        crate::hours::session_input(app);
    }
    let effects = app.state::<Kiosk>().session().handle(event, Instant::now());
    if effects.is_empty() {
        return;
    }
    if glib::MainContext::default().is_owner() {
        carry_out(app, effects);
    } else {
        let a = app.clone();
        let _ = app.run_on_main_thread(move || carry_out(&a, effects));
    }
}

/// Carries out the session model's effects, in order (main thread).
fn carry_out(app: &AppHandle, effects: Vec<Effect>) {
    let started = Instant::now();
    let kiosk = app.state::<Kiosk>();
    for effect in effects {
        match effect {
            Effect::IdleWarning(secs) => {
                crate::glue::emit_toolbar(app, ToolbarEvent::IdleWarning { seconds: secs });
                countdown_tone(&kiosk);
            }
            Effect::IdleCancel => crate::glue::emit_toolbar(app, ToolbarEvent::IdleCancel),
            Effect::AdminClosed(why) => tracing::info!(why, "admin session closed"),
            Effect::CountEnd(reason) => {
                // Debug only: the default log keeps no trace of when a person left (times to the second).
                tracing::debug!(reason = reason.code(), "session ended");
                kiosk.stats.end_session(reason);
            }
            Effect::WakePush => {
                let _ = kiosk.push_wake.lock().unwrap_or_else(std::sync::PoisonError::into_inner).send(());
            }
            Effect::ForgetPendingAuth => crate::auth::forget_pending(),
            // The voice stops now (the process is gone when this returns).
            Effect::StopVoice => app.state::<crate::speech::Speech>().end_session(),
            Effect::ToolbarSessionEnded => {
                crate::glue::emit_toolbar(app, ToolbarEvent::SessionEnded);
            }
            Effect::ClearClipboards => clear_clipboards(),
            Effect::CancelJobs(jobs) => crate::printing::cancel_jobs(app, jobs),
            // scanimage is killed within a few tens of milliseconds; a page it still writes is
            // removed by the command that waited for it (the session's number changed).
            Effect::CancelScan(cancel) => cancel.cancel(),
            Effect::CloseFileChooser => crate::documents::answer_chooser(app, None),
            Effect::WipeDownloads => {
                if let Err(e) = kiosk.dirs.wipe_downloads() {
                    tracing::error!(error = %e, "cannot erase the session's downloads");
                }
            }
            // Between two people: a new national catalogue waiting goes in force for the next one.
            Effect::CatalogueBetweenPeople => crate::catalogue_channel::session_ended(app),
            Effect::ReplaceEngine => {
                replace_engine(app);
                recycle_toolbar_if_due(app);
                // Every end, whatever raised it (« Terminer », the countdown, the admin page, a crash).
                tracing::info!(ms = started.elapsed().as_millis() as u64, "engine state replaced for the next person");
            }
        }
    }
}

/// The toolbar's web process lives as long as the kiosk, and WebKit's heaps in it grow by about a
/// third of a MiB a session (tests/bench/results/day-of-use.md: most with pages browsed, none of it
/// reachable from the toolbar's page), the kiosk's biggest growth over a day. Every
/// [`TOOLBAR_RECYCLE_EVERY`] session ends, after the person's content view was replaced (the new one
/// has a web process of its own), that process is ended; the toolbar's `web-process-terminated`
/// handler (`input::watch_toolbar`) loads it again in a new one, which asks the shell for its state.
/// Not under WebDriver, which ends its session when a page's web process ends (as with the network
/// process); tests/e2e/forget.test.mjs checks it on the shipped path.
fn recycle_toolbar_if_due(app: &AppHandle) {
    use std::sync::atomic::Ordering;
    if under_webdriver() {
        return;
    }
    let n = ENDS_SINCE_RECYCLE.fetch_add(1, Ordering::SeqCst) + 1;
    if n < TOOLBAR_RECYCLE_EVERY {
        return;
    }
    ENDS_SINCE_RECYCLE.store(0, Ordering::SeqCst);
    let Some(toolbar) = app.get_webview(crate::state::TOOLBAR) else { return };
    // The first content view shared the toolbar's process, but it is closed by now, and its
    // successors, related to no view, each have their own: only the toolbar is in this one.
    let res = toolbar.with_webview(move |pv| {
        tracing::info!(after = n, "toolbar's web process replaced (it lives as long as the kiosk)");
        pv.inner().terminate_web_process();
    });
    if let Err(e) = res {
        tracing::warn!(error = %e, "cannot reach the toolbar to replace its web process");
    }
}

/// The countdown's chime, when the référent left it on (`[session] countdown_tone`), off the GTK
/// thread (`aplay` runs up to a few seconds).
fn countdown_tone(kiosk: &Kiosk) {
    let on = kiosk.loaded.read().map(|l| l.settings.session.countdown_tone).unwrap_or(true);
    if !on {
        return;
    }
    let out = borne_core::tone::Output::from_env_value(std::env::var_os(borne_core::tone::OUT_ENV));
    let file = kiosk.paths.state_dir.join("countdown-tone.wav");
    std::thread::spawn(move || borne_core::tone::sound(&out, &file));
}

/// Closes the content view, stops the network process, erases its folder, and makes a new content
/// view (which loads the portal once its content filter is in place).
fn replace_engine(app: &AppHandle) {
    let kiosk = app.state::<Kiosk>();
    // Fail closed until the new view has its content filter.
    kiosk.filter_ready.store(false, std::sync::atomic::Ordering::SeqCst);
    empty_memory_caches(app);
    if let Some(old) = app.get_webview(CONTENT) {
        break_ipc_cycle(&old);
        if let Err(e) = old.close() {
            tracing::error!(error = %e, "cannot close the content view");
        }
    }
    if under_webdriver() {
        // WebKit ends every WebDriver session when its network process goes away, so under WebDriver
        // (the end-to-end suites) the network process is kept and its data cleared through WebKit;
        // tests/e2e/forget.test.mjs checks the real path, without WebDriver.
        clear_through_webkit(app);
        return;
    }
    stop_network_process();
    new_content_view(app);
}

/// Lets a closed content view go. wry connects its IPC handler to the view's user content manager
/// with a closure that holds the view itself: view → manager → closure → view, a reference cycle
/// that GTK's destroy does not break, so every past person's view stayed alive for the kiosk's
/// whole life, with its web page's shared-memory backing store (one `memfd:WebKitSharedMemory`
/// descriptor and about 0.2 MiB a session: tests/bench/results/day-of-use.md). Disconnecting the
/// manager's `script-message-received` handlers drops that closure; the view is then finalised
/// once closed. The old view gets no message after this (it is closed right after).
fn break_ipc_cycle(view: &tauri::Webview) {
    use glib::prelude::*;
    let res = view.with_webview(|pv| {
        if let Some(manager) = pv.inner().user_content_manager() {
            let n = disconnect_handlers(manager.upcast_ref(), "script-message-received");
            tracing::debug!(handlers = n, "closed view's IPC handlers disconnected");
        }
    });
    if let Err(e) = res {
        tracing::warn!(error = %e, "cannot reach the closed view to release it");
    }
}

/// Disconnects every handler of `signal` on `object` (glib-rs has no safe call for handlers it did
/// not connect itself); returns how many went. One at a time: GLib's `disconnect_matched` needs a
/// closure, function or data to match, which wry's handler does not expose.
#[allow(unsafe_code)]
fn disconnect_handlers(object: &glib::Object, signal: &str) -> u32 {
    use glib::prelude::*;
    use glib::translate::{IntoGlib, ToGlibPtr};
    let Some(id) = glib::subclass::signal::SignalId::lookup(signal, object.type_()) else {
        return 0;
    };
    let instance = ToGlibPtr::<*mut glib::gobject_ffi::GObject>::to_glib_none(object).0;
    let mut n = 0;
    // Bounded: a view has a handful of handlers; never loop for ever on a handler that stays.
    while n < 64 {
        // SAFETY: `instance` is a live GObject for the call's duration (borrowed from `object`), `id`
        // a signal id GLib just looked up for its type; matching on the id alone needs no closure,
        // function or data pointer, and the handler id found is disconnected at once.
        let handler = unsafe {
            glib::gobject_ffi::g_signal_handler_find(
                instance,
                glib::gobject_ffi::G_SIGNAL_MATCH_ID,
                id.into_glib(),
                0,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if handler == 0 {
            break;
        }
        // SAFETY: as above; `handler` was just found connected on `instance`.
        unsafe { glib::gobject_ffi::g_signal_handler_disconnect(instance, handler) };
        n += 1;
    }
    n
}

/// Empties the memory cache of every web process of the kiosk's context. The first content view
/// shares its web process with the toolbar, which outlives the view: without this, the person's
/// pages' resources would stay in that process's memory (unreachable by the next person's view, which
/// has a process of its own, but kept). The HTTP disk cache goes with the network process's folder.
fn empty_memory_caches(app: &AppHandle) {
    use webkit2gtk::WebContextExt;
    if let Some(toolbar) = app.get_webview(crate::state::TOOLBAR) {
        let _ = toolbar.with_webview(|pv| {
            if let Some(ctx) = pv.inner().context() {
                ctx.clear_cache();
            }
        });
    }
}

/// The kiosk runs under WebDriver (tauri-driver sets this for the automation it allows).
fn under_webdriver() -> bool {
    std::env::var("TAURI_WEBVIEW_AUTOMATION").as_deref() == Ok("true")
}

/// Erases WebKit's data folder (no network process holds it now) and makes the next content view.
fn new_content_view(app: &AppHandle) {
    if let Err(e) = app.state::<Kiosk>().dirs.wipe_webdata() {
        tracing::error!(error = %e, "cannot erase WebKit's data folder");
    }
    if let Err(e) = crate::navigation::add_content_view(app) {
        // Without a content view nobody can use the borne: start again from nothing.
        tracing::error!(error = %e, "cannot make a new content view; restarting the kiosk");
        crate::glue::restart(app);
    }
}

/// Under WebDriver only: website data cleared through WebKit (the toolbar's view shares the content
/// views' context), then the same folder erase and new view.
fn clear_through_webkit(app: &AppHandle) {
    use webkit2gtk::{WebsiteDataManagerExtManual, WebsiteDataTypes};
    let Some(toolbar) = app.get_webview(crate::state::TOOLBAR) else {
        new_content_view(app);
        return;
    };
    let app2 = app.clone();
    let res = toolbar.with_webview(move |pv| {
        let Some(dm) = pv.inner().website_data_manager() else {
            new_content_view(&app2);
            return;
        };
        let app3 = app2.clone();
        dm.clear(WebsiteDataTypes::ALL, glib::TimeSpan::from_seconds(0), None::<&gio::Cancellable>, move |res| {
            if let Err(e) = res {
                tracing::error!(error = %e, "clearing website data failed");
            }
            let app4 = app3.clone();
            // Not from inside `with_webview`: the new view is made by Tauri.
            glib::idle_add_local_once(move || new_content_view(&app4));
        });
    });
    if res.is_err() {
        new_content_view(app);
    }
}

/// Stops WebKit's network process (every child of the kiosk named so) and waits until it is gone.
fn stop_network_process() {
    let me = std::process::id();
    let procs = std::path::Path::new("/proc");
    let pids: Vec<u32> = borne_core::session::child_processes(procs, me)
        .into_iter()
        .filter(|(_, comm)| borne_core::session::is_network_process(comm))
        .map(|(pid, _)| pid)
        .collect();
    for &pid in &pids {
        // SIGKILL: nothing of it is to be written anywhere, and it cannot delay its end.
        if let Err(e) = kill_now(pid) {
            tracing::warn!(pid, error = %e, "cannot stop WebKit's network process");
        }
    }
    let deadline = Instant::now() + NETWORK_STOP_WAIT;
    while pids.iter().any(|pid| procs.join(pid.to_string()).join("stat").exists()) {
        if Instant::now() >= deadline {
            tracing::warn!("WebKit's network process still there after the wait");
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    tracing::debug!(count = pids.len(), "network process stopped");
}

#[allow(unsafe_code)]
fn kill_now(pid: u32) -> std::io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| std::io::Error::other("pid out of range"))?;
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    if unsafe { libc::kill(pid, libc::SIGKILL) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn clear_clipboards() {
    for atom in [gdk::SELECTION_CLIPBOARD, gdk::SELECTION_PRIMARY] {
        let cb = gtk::Clipboard::get(&atom);
        cb.set_text("");
        cb.clear();
    }
}
