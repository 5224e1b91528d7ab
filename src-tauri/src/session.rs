//! Forgetting a person, the webview half: website data (cookies, HttpOnly too; storage; IndexedDB;
//! service workers; caches; HSTS), the back/forward list, zoom, the clipboard and primary selection,
//! then the portal. The disk half (downloads, and everything at start) is `borne_core::session`.
//!
//! The content view is kept (WebDriver drives it in end-to-end tests, so the path under test is the
//! one that ships); its history is replaced by the empty one captured before its first load, and its
//! page cache is off, so `history.back()` finds nothing of the previous person.

use borne_core::session::EndReason;
use gtk::gdk;
use tauri::{AppHandle, Manager};
use webkit2gtk::{BackForwardListExt, WebViewExt, WebViewSessionState, WebsiteDataManagerExtManual, WebsiteDataTypes};

use crate::navigation::portal_url;
use crate::{commands, Kiosk, CONTENT};

/// Loads the portal in the content view (not from inside `with_webview`).
pub fn load_portal(app: &AppHandle) {
    if let Some(c) = app.get_webview(CONTENT) {
        app.state::<Kiosk>().open_internal_gate();
        let _ = c.navigate(portal_url());
    }
}

/// Ends the session: wipe everything, then show a fresh portal.
pub fn end(app: &AppHandle, reason: EndReason) {
    // Debug only: the default log keeps no trace of when a person left (times to the second).
    tracing::debug!(reason = reason.code(), "session ended");
    let kiosk = app.state::<Kiosk>();
    kiosk.stats.end_session(reason);
    kiosk.dirty.store(false, std::sync::atomic::Ordering::SeqCst);
    if let Ok(mut l) = kiosk.language.lock() {
        // Back to French for the next person.
        *l = "fr".into();
    }
    if let Ok(mut a) = kiosk.admin.lock() {
        *a = crate::admin::AdminSession::default();
    }
    if let Ok(mut d) = kiosk.display.lock() {
        // Normal text size and contrast for the next person (the zoom is reset with the view).
        *d = commands::Display::default();
    }
    if let Ok(w) = kiosk.push_wake.lock() {
        let _ = w.send(());
    }
    if let Ok(mut c) = kiosk.idle.lock() {
        c.close();
    }
    commands::emit_toolbar(app, serde_json::json!({"kind": "session-ended"}));
    clear_clipboards();
    crate::printing::cancel_session_jobs(app);
    crate::documents::end_session(app);
    if let Err(e) = kiosk.dirs.wipe_downloads() {
        tracing::error!(error = %e, "cannot erase the session's downloads");
    }
    let Some(content) = app.get_webview(CONTENT) else { return };
    let app2 = app.clone();
    let _ = content.with_webview(move |pv| wipe_view(&app2, &pv.inner()));
}

fn wipe_view(app: &AppHandle, wv: &webkit2gtk::WebView) {
    wv.stop_loading();
    // Leave the remote page at once, so nothing of it stays on screen while data is cleared.
    wv.load_uri("about:blank");
    wv.set_zoom_level(1.0);
    let Some(dm) = wv.website_data_manager() else {
        tracing::error!("no website data manager; restarting the web process instead");
        wv.terminate_web_process();
        return;
    };
    let app2 = app.clone();
    dm.clear(WebsiteDataTypes::ALL, glib::TimeSpan::from_seconds(0), None::<&gio::Cancellable>, move |res| {
        if let Err(e) = res {
            tracing::error!(error = %e, "clearing website data failed");
        }
        let Some(content) = app2.get_webview(CONTENT) else { return };
        let app3 = app2.clone();
        let _ = content.with_webview(move |pv| {
            let wv = pv.inner();
            reset_history(&app3, &wv);
            // Tauri's own webview methods must not be called from inside `with_webview` (they take a
            // lock it holds): load through WebKit directly, still through the navigation hook.
            app3.state::<Kiosk>().open_internal_gate();
            // The restored history holds the portal alone: show that entry rather than adding one.
            match wv.back_forward_list().and_then(|l| l.current_item()) {
                Some(item) => wv.go_to_back_forward_list_item(&item),
                None => wv.load_uri(portal_url().as_str()),
            }
        });
    });
}

/// Replaces the back/forward list with the empty one captured at start.
fn reset_history(app: &AppHandle, wv: &webkit2gtk::WebView) {
    let kiosk = app.state::<Kiosk>();
    let bytes = kiosk.empty_history.lock().ok().and_then(|h| h.clone());
    match bytes.map(|b| WebViewSessionState::new(&glib::Bytes::from_owned(b))) {
        Some(state) => wv.restore_session_state(&state),
        None => tracing::error!("no empty history captured; history not reset"),
    }
}

fn clear_clipboards() {
    for atom in [gdk::SELECTION_CLIPBOARD, gdk::SELECTION_PRIMARY] {
        let cb = gtk::Clipboard::get(&atom);
        cb.set_text("");
        cb.clear();
    }
}

/// A crashed or killed web process shows a fresh portal after a full wipe, never a frozen page.
pub fn watch_web_process(app: &AppHandle, wv: &webkit2gtk::WebView) {
    let a = app.clone();
    wv.connect_web_process_terminated(move |_, reason| {
        tracing::warn!(?reason, "web process terminated; wiping and showing the portal");
        let a2 = a.clone();
        glib::idle_add_local_once(move || end(&a2, EndReason::Crash));
    });
}
