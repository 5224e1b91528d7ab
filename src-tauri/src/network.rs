//! Bad networks, the WebKit half: a main-frame load that fails (WebKit's `load-failed` and
//! `load-failed-with-tls-errors`), answers 5xx, or does not answer within
//! [`borne_core::netfail::LOAD_TIMEOUT`] shows `neterror.html` naming the service instead of WebKit's
//! raw error page or a white screen, and counts an outage. The system's network monitor drives the
//! calm "no connection" indicator of the toolbar and the portal's tiles.
//!
//! Every decision is `borne_core::netfail`'s; this module only reads WebKit's signals.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use borne_core::netfail::{self, Failure};
use gio::prelude::*;
use glib::translate::IntoGlib;
use tauri::{AppHandle, Manager, Url};
use webkit2gtk::{LoadEvent, URIRequestExt, URIResponseExt, WebResourceExt, WebViewExt};

use crate::glue::emit_toolbar;
use crate::state::Kiosk;

/// Whether the system has a network route at all.
pub fn online() -> bool {
    gio::NetworkMonitor::default().is_network_available()
}

/// Tells the toolbar and the content view (the portal listens) whether the borne is online.
pub fn announce(app: &AppHandle) {
    emit_toolbar(app, borne_core::toolbar::ToolbarEvent::Offline { value: !online() });
}

/// Follows the system's network state for the life of the kiosk.
pub fn watch_monitor(app: &AppHandle) {
    let a = app.clone();
    gio::NetworkMonitor::default().connect_network_changed(move |_, available| {
        tracing::info!(available, "network state changed");
        announce(&a);
    });
}

/// Watches the content view's main-frame loads.
pub fn watch_loads(app: &AppHandle, wv: &webkit2gtk::WebView) {
    // Bumped by every load event: a timer armed for an earlier load does nothing.
    let generation = Rc::new(Cell::new(0u64));
    // The address of the main resource being loaded: the view's own address changes only once
    // WebKit has committed the load, too late for a page that never answers.
    let pending: Rc<RefCell<Option<Url>>> = Rc::default();
    let p = pending.clone();
    wv.connect_resource_load_started(move |wv, resource, request| {
        if wv.main_resource().as_ref() == Some(resource) {
            *p.borrow_mut() = request.uri().and_then(|u| Url::parse(&u).ok());
        }
    });
    let a = app.clone();
    let g = generation.clone();
    wv.connect_load_changed(move |wv, event| {
        g.set(g.get() + 1);
        let Some(url) = wv.uri().and_then(|u| Url::parse(&u).ok()) else { return };
        if !matches!(url.scheme(), "http" | "https") {
            return;
        }
        match event {
            LoadEvent::Started => arm_timeout(&a, wv, &g, pending.clone(), url),
            LoadEvent::Committed => {
                let status = wv.main_resource().and_then(|r| r.response()).map(|r| r.status_code()).unwrap_or(0);
                if let Some(f) = netfail::classify_status(status) {
                    tracing::info!(status, "main resource answered a server error");
                    show(&a, wv, &url, f);
                }
            }
            _ => {}
        }
    });
    let a = app.clone();
    let g = generation.clone();
    wv.connect_load_failed(move |wv, _event, uri, error| {
        g.set(g.get() + 1);
        let Ok(url) = Url::parse(uri) else { return false };
        if !matches!(url.scheme(), "http" | "https") {
            return false;
        }
        let code = error_code(error);
        let gate = url.host_str().and_then(|h| a.state::<Kiosk>().proxy.recent_failure(h));
        let domain = error.domain().as_str().to_string();
        tracing::debug!(domain = %domain, code, ?gate, "main-frame load failed");
        match netfail::classify_load_error(&domain, code, gate, online()) {
            Some(f) => {
                tracing::info!(domain = %domain, code, kind = f.code(), "page failed to load");
                show(&a, wv, &url, f);
                true
            }
            None => false,
        }
    });
    let a = app.clone();
    wv.connect_load_failed_with_tls_errors(move |wv, uri, _cert, flags| {
        g_bump(&generation);
        tracing::info!(?flags, "TLS failure on a page");
        if let Ok(url) = Url::parse(uri) {
            show(&a, wv, &url, Failure::Tls);
        }
        true
    });
}

fn g_bump(g: &Rc<Cell<u64>>) {
    g.set(g.get() + 1);
}

/// The GError's code for the domains the core knows (`glib::Error` does not expose the raw code).
pub(crate) fn error_code(e: &glib::Error) -> i32 {
    if let Some(k) = e.kind::<gio::IOErrorEnum>() {
        return k.into_glib();
    }
    if let Some(k) = e.kind::<webkit2gtk::NetworkError>() {
        return k.into_glib();
    }
    if let Some(k) = e.kind::<webkit2gtk::PolicyError>() {
        return k.into_glib();
    }
    -1
}

/// A page that has not answered after the timeout is stopped and replaced by the error page.
fn arm_timeout(
    app: &AppHandle,
    wv: &webkit2gtk::WebView,
    generation: &Rc<Cell<u64>>,
    pending: Rc<RefCell<Option<Url>>>,
    url: Url,
) {
    let mine = generation.get();
    // A weak handle: a person's view closed at the end of the session is let go at once, not kept
    // until this timer fires.
    let (a, g, weak) = (app.clone(), generation.clone(), wv.downgrade());
    glib::timeout_add_local_once(netfail::LOAD_TIMEOUT, move || {
        let Some(wv) = weak.upgrade() else { return };
        if g.get() == mine && wv.is_loading() {
            tracing::info!("page did not answer in time");
            g.set(g.get() + 1);
            let url = pending.borrow().clone().filter(|u| u.scheme().starts_with("http")).unwrap_or(url);
            wv.stop_loading();
            show(&a, &wv, &url, if online() { Failure::Timeout } else { Failure::Offline });
        }
    });
}

/// Shows the error page for `url`'s service and counts the outage.
fn show(app: &AppHandle, wv: &webkit2gtk::WebView, url: &Url, failure: Failure) {
    let kiosk = app.state::<Kiosk>();
    let host = url.host_str().unwrap_or("").to_string();
    let (service_id, service_name) = kiosk
        .loaded
        .read()
        .ok()
        .and_then(|l| netfail::service_for_host(&l.effective.services, &host).map(|s| (s.id.clone(), s.name.clone())))
        .unzip();
    if failure.is_outage() {
        if let Some(id) = &service_id {
            kiosk.stats.record(borne_core::stats::Event::Outage(id.clone()));
        }
    }
    let mut page = Url::parse("tauri://localhost/neterror.html").expect("constant URL");
    page.query_pairs_mut()
        .append_pair("kind", failure.code())
        .append_pair("service", service_name.as_deref().unwrap_or(""))
        .append_pair("host", &host)
        .append_pair("retry", url.as_str());
    kiosk.open_internal_gate(&page);
    // Called from WebKit's own signal handlers: load through WebKit, still through the navigation hook.
    let wv = wv.clone();
    glib::idle_add_local_once(move || wv.load_uri(page.as_str()));
}
