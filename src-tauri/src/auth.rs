//! When a site (HTTP Basic or Digest) or a proxy asks for a user name and password: the kiosk's own
//! dialog in the toolbar, in the person's language, with « Annuler »; never GTK's English dialog, and
//! never an offer to remember the password. What the person types goes to WebKit for this session's
//! network process only (which the wipe stops), and is never logged or kept by the shell.
//!
//! WebKit objects live on the GTK main thread: the request waiting for an answer is kept in a
//! thread-local slot, and the toolbar's answer reaches it through `run_on_main_thread`.
#![allow(unsafe_code)]

use std::cell::RefCell;

use glib::translate::ToGlibPtr;
use tauri::AppHandle;
use webkit2gtk::{AuthenticationRequest, AuthenticationRequestExt, WebViewExt};

use borne_core::person::Event;

use borne_core::toolbar::ToolbarEvent;

use crate::glue::emit_toolbar;

thread_local! {
    /// The request the toolbar's dialog answers (main thread only).
    static PENDING: RefCell<Option<AuthenticationRequest>> = const { RefCell::new(None) };
}

/// Catches the content view's authentication requests.
pub fn watch(app: &AppHandle, wv: &webkit2gtk::WebView) {
    let a = app.clone();
    wv.connect_authenticate(move |_, request| {
        // WebKit's own credential storage is off (see navigation::prepare_content); say so anyway.
        request.set_can_save_credentials(false);
        let host = request.host().map(|h| h.to_string()).unwrap_or_default();
        let event = ToolbarEvent::AuthRequest { host, proxy: request.is_for_proxy(), retry: request.is_retry() };
        let previous = PENDING.with(|p| p.borrow_mut().replace(request.clone()));
        if let Some(old) = previous {
            old.cancel();
        }
        let a2 = a.clone();
        request.connect_cancelled(move |r| {
            // The page went away (or the session ended): the dialog closes.
            let mine = PENDING.with(|p| p.borrow().as_ref().is_some_and(|q| q == r));
            if mine {
                PENDING.with(|p| p.borrow_mut().take());
                emit_toolbar(&a2, ToolbarEvent::AuthCancelled);
            }
        });
        crate::state::dispatch(&a, Event::Input);
        tracing::info!(proxy = request.is_for_proxy(), "a site asks for a password");
        emit_toolbar(&a, event);
        true
    });
}

/// The toolbar's answer: credentials for this session (`Some`), or « Annuler » (`None`).
pub fn answer(app: &AppHandle, credentials: Option<(String, String)>) {
    let _ = app.run_on_main_thread(move || {
        let Some(request) = PENDING.with(|p| p.borrow_mut().take()) else {
            tracing::info!("authentication answer with no request waiting");
            return;
        };
        match credentials {
            Some((user, password)) => {
                let credential =
                    webkit2gtk::Credential::new(&user, &password, webkit2gtk::CredentialPersistence::ForSession);
                // SAFETY: both objects are alive for the call; WebKit copies the credential.
                let c: *const webkit2gtk::ffi::WebKitCredential = credential.to_glib_none().0;
                unsafe {
                    webkit2gtk::ffi::webkit_authentication_request_authenticate(request.to_glib_none().0, c as *mut _);
                }
            }
            None => request.cancel(),
        }
    });
}

/// At the end of a session: a request still waiting is cancelled (main thread).
pub fn forget_pending() {
    if let Some(request) = PENDING.with(|p| p.borrow_mut().take()) {
        request.cancel();
    }
}
