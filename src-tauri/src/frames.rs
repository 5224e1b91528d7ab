//! Which frame a refused redirect belonged to.
//!
//! Tauri's navigation hook sees a URL and nothing else, and WebKit asks it for every frame. A refused
//! load that was the page itself shows the blocked page; a refused frame just stays empty and the page
//! goes on (a person filling in a démarche keeps it). For a server redirect the page cannot tell: the
//! frame's own address is an allowed one, and nobody clicked. So two facts are taken from WebKit:
//!
//! - whether the navigation being decided is a redirect (`webkit_navigation_action_is_redirect`),
//!   read by an emission hook on `decide-policy` that runs before any handler (Tauri's included), so
//!   the hook only observes: it never changes a decision;
//! - whether the main frame has a load in flight (`load-changed`: started or redirected, and not yet
//!   committed). A main-frame redirect happens only then; a frame exists only in a committed page.
//!
//! A refused redirect while the main frame is committed was therefore a frame's. That decision, and
//! the state it reads, are `borne_core::frames`'s; this module only reads WebKit.

use std::cell::{Cell, RefCell};

use borne_core::frames::{Deciding, MainFrame, MainLoad};

use glib::prelude::*;
use webkit2gtk::{
    LoadEvent, NavigationPolicyDecision, NavigationPolicyDecisionExt, PolicyDecision, URIRequestExt, WebViewExt,
};

thread_local! {
    /// The navigation action WebKit is deciding now (main thread).
    static DECIDING: RefCell<Option<Deciding>> = const { RefCell::new(None) };
    /// The content view's main frame: a load started and not yet committed, or not.
    static MAIN: Cell<MainFrame> = Cell::new(MainFrame::new());
    static HOOKED: Cell<bool> = const { Cell::new(false) };
}

/// What the navigation hook's refusal of `url` means (`borne_core::frames::refused`), from what
/// WebKit is deciding now and the main frame's state.
pub fn refused(decision: &borne_core::policy::Decision, url: &url::Url) -> Option<borne_core::frames::Refused> {
    let provisional = MAIN.with(|m| m.get().is_provisional());
    DECIDING.with(|d| borne_core::frames::refused(decision, url, d.borrow().as_ref(), provisional))
}

/// Follows the content view's main-frame load state.
pub fn watch(wv: &webkit2gtk::WebView) {
    MAIN.with(|m| m.set(MainFrame::new()));
    wv.connect_load_changed(|_, event| {
        let event = match event {
            LoadEvent::Started => MainLoad::Started,
            LoadEvent::Redirected => MainLoad::Redirected,
            LoadEvent::Committed => MainLoad::Committed,
            _ => MainLoad::Finished,
        };
        MAIN.with(|m| {
            let mut f = m.get();
            f.load_changed(event);
            m.set(f);
        });
    });
    wv.connect_load_failed(|_, _, _, _| {
        MAIN.with(|m| {
            let mut f = m.get();
            f.load_failed();
            m.set(f);
        });
        false
    });
    install_hook();
}

/// The emission hook on `WebKitWebView::decide-policy` (once per process).
fn install_hook() {
    if HOOKED.with(|h| h.replace(true)) {
        return;
    }
    let Some(id) = glib::subclass::signal::SignalId::lookup("decide-policy", webkit2gtk::WebView::static_type()) else {
        tracing::error!("WebKit has no decide-policy signal; refused redirects show the blocked page");
        return;
    };
    add_hook(id);
}

#[allow(unsafe_code)]
fn add_hook(id: glib::subclass::signal::SignalId) {
    use glib::translate::IntoGlib;
    // SAFETY: the hook is a plain function with GLib's emission-hook signature, no user data, and
    // `id` is a signal id GLib just looked up.
    unsafe {
        glib::gobject_ffi::g_signal_add_emission_hook(
            id.into_glib(),
            0,
            Some(decide_policy_hook),
            std::ptr::null_mut(),
            None,
        );
    }
}

#[allow(unsafe_code)]
unsafe extern "C" fn decide_policy_hook(
    _hint: *mut glib::gobject_ffi::GSignalInvocationHint,
    n_params: std::os::raw::c_uint,
    params: *const glib::gobject_ffi::GValue,
    _data: glib::ffi::gpointer,
) -> glib::ffi::gboolean {
    if n_params >= 2 && !params.is_null() {
        // SAFETY: GLib passes `n_params` initialised values: the instance, then the signal's own
        // parameters (the decision, its type). `glib::Value` is a transparent wrapper of `GValue`.
        let decision = unsafe { &*(params.add(1) as *const glib::Value) };
        let action = decision
            .get::<PolicyDecision>()
            .ok()
            .and_then(|d| d.downcast::<NavigationPolicyDecision>().ok())
            .and_then(|d| d.navigation_action());
        let seen = action.and_then(|mut a| {
            let redirect = a.is_redirect();
            a.request().and_then(|r| r.uri()).map(|u| Deciding { uri: u.to_string(), redirect })
        });
        DECIDING.with(|d| *d.borrow_mut() = seen);
    }
    // Keep the hook.
    glib::ffi::GTRUE
}
