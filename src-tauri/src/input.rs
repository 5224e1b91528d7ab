//! Input the person must not use to leave (browser shortcuts, back/forward mouse buttons, middle click,
//! drag-and-drop, context menu), and the idle clock fed by every input.
//!
//! Which keys are swallowed is decided by `borne_core::keys`, tested there as a table.

use std::time::Duration;

use borne_core::keys::{self, Key, KeyDecision, ViewKind};
use borne_core::person::Event;
use borne_core::toolbar::ToolbarEvent;
use gtk::gdk;
use gtk::prelude::*;
use tauri::{AppHandle, Manager};
use webkit2gtk::WebViewExt;

use crate::glue::emit_toolbar;
use crate::state::{dispatch, CONTENT, TOOLBAR};

/// Locks one WebKit view: keys, mouse buttons 2/8/9, context menu, drops; input feeds the idle clock.
pub fn lock_webkit_view(app: &AppHandle, wv: &webkit2gtk::WebView) {
    wv.connect_context_menu(|_, _, _, _| true);
    wv.drag_dest_unset();
    let a = app.clone();
    wv.connect_key_press_event(move |_, ev| {
        let name = ev.keyval().name().map(|n| n.to_string()).unwrap_or_default();
        on_input(&a);
        match keys::decide(ViewKind::Content, &Key::from_gdk(&name, ev.state().bits())) {
            KeyDecision::Pass => glib::Propagation::Proceed,
            KeyDecision::Swallow => {
                tracing::debug!(key = %name, "key swallowed");
                glib::Propagation::Stop
            }
            KeyDecision::SwitchFocus => {
                switch_focus(&a);
                glib::Propagation::Stop
            }
            KeyDecision::Quit => {
                a.state::<crate::state::Kiosk>().quitting.store(true, std::sync::atomic::Ordering::SeqCst);
                a.exit(0);
                glib::Propagation::Stop
            }
        }
    });
    let a = app.clone();
    wv.connect_button_press_event(move |_, ev| {
        on_input(&a);
        if matches!(ev.button(), 2 | 8 | 9) {
            glib::Propagation::Stop
        } else {
            glib::Propagation::Proceed
        }
    });
    let a = app.clone();
    wv.connect_button_release_event(move |_, ev| {
        if matches!(ev.button(), 2 | 8 | 9) {
            let _ = &a;
            glib::Propagation::Stop
        } else {
            glib::Propagation::Proceed
        }
    });
    let a = app.clone();
    wv.connect_motion_notify_event(move |_, _| {
        on_input(&a);
        glib::Propagation::Proceed
    });
    let a = app.clone();
    wv.connect_scroll_event(move |_, _| {
        on_input(&a);
        glib::Propagation::Proceed
    });
    // A site's file chooser never shows GTK's dialog (the whole disk): the toolbar lists the
    // session's files and the USB sticks' instead.
    let a = app.clone();
    wv.connect_run_file_chooser(move |wv, request| {
        crate::documents::file_chooser(&a, wv, request);
        true
    });
    // window.print() from a site: the toolbar's French dialog, never GTK's.
    let a = app.clone();
    wv.connect_print(move |_, _| {
        tracing::info!("window.print() from a page: the kiosk's dialog");
        emit_toolbar(&a, ToolbarEvent::PrintRequest);
        true
    });
}

/// F6: to the toolbar, unless the toolbar has the focus already (then back to the page). At start
/// neither view may hold GTK's focus, so the first F6 must go to the toolbar, as a person expects.
fn switch_focus(app: &AppHandle) {
    let toolbar_focused = app
        .get_webview(TOOLBAR)
        .and_then(|t| {
            let (tx, rx) = std::sync::mpsc::channel();
            t.with_webview(move |pv| {
                let _ = tx.send(pv.inner().has_focus());
            })
            .ok()?;
            rx.recv_timeout(Duration::from_millis(200)).ok()
        })
        .unwrap_or(false);
    let target = if toolbar_focused { CONTENT } else { TOOLBAR };
    if let Some(w) = app.get_webview(target) {
        let _ = w.set_focus();
    }
}

fn on_input(app: &AppHandle) {
    dispatch(app, Event::Input);
}

/// Ticks the session's clock every second on the main loop (the idle countdown, the admin page's
/// time limit).
pub fn start_idle_timer(app: AppHandle) {
    glib::timeout_add_local(Duration::from_secs(1), move || {
        dispatch(&app, Event::Tick);
        crate::hours::tick(&app);
        glib::ControlFlow::Continue
    });
}

/// Input on the toolbar view counts too (it is a webview of its own).
pub fn watch_toolbar(app: &AppHandle, wv: &webkit2gtk::WebView) {
    if let Some(settings) = WebViewExt::settings(wv) {
        webkit2gtk::SettingsExt::set_enable_developer_extras(&settings, false);
    }
    wv.connect_context_menu(|_, _, _, _| true);
    wv.drag_dest_unset();
    // The toolbar shares the content's web process: when it dies, reload the toolbar too.
    let a = app.clone();
    wv.connect_web_process_terminated(move |wv, _| {
        let wv = wv.clone();
        let a = a.clone();
        glib::idle_add_local_once(move || {
            crate::layout::layout(&a, false);
            wv.load_uri("tauri://localhost/toolbar.html");
        });
    });
    let a = app.clone();
    wv.connect_event(move |_, ev| {
        if matches!(
            ev.event_type(),
            gdk::EventType::KeyPress
                | gdk::EventType::ButtonPress
                | gdk::EventType::MotionNotify
                | gdk::EventType::Scroll
        ) {
            on_input(&a);
        }
        if ev.event_type() == gdk::EventType::KeyPress {
            if let Some(k) = ev.keyval() {
                let name = gdk::keys::Key::from(k).name().map(|n| n.to_string()).unwrap_or_default();
                let state = ev.state().map(|s| s.bits()).unwrap_or(0);
                if keys::decide(ViewKind::Toolbar, &Key::from_gdk(&name, state)) == KeyDecision::SwitchFocus {
                    switch_focus(&a);
                    return glib::Propagation::Stop;
                }
            }
        }
        glib::Propagation::Proceed
    });
}
