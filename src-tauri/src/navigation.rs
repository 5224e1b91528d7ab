//! Navigation, new-window and download hooks of the two webviews, wired to `borne_core::policy`,
//! and the WebKit content filter that applies the same allow-list to subresources.
//!
//! No decision is made here: every URL goes to [`borne_core::policy::Policy::decide`]. What this module
//! adds is WebKit plumbing: which internal page may show where, and when a blocked navigation shows
//! the blocked page (a top-level or user-facing one) rather than failing silently (a frame).

use std::sync::atomic::Ordering;

use borne_core::policy::{AllowedBy, Decision};
use std::sync::{Arc, RwLock};

use borne_core::load::Loaded;
use borne_core::proxy::Proxy;
use tauri::webview::{DownloadEvent, NewWindowResponse};
use tauri::{AppHandle, Manager, Url, WebviewBuilder, WebviewUrl};
use webkit2gtk::{SettingsExt, WebContextExt, WebViewExt, WebsiteDataManagerExt};

use borne_core::person::Event;

use crate::portal::is_content_page;
use crate::state::{Kiosk, CONTENT, TOOLBAR};

/// Starts the network gate: a local proxy that lets WebKit open a connection only to a host the
/// policy allows (as a subresource), whatever asked for it.
pub fn start_gate(loaded: Arc<RwLock<Loaded>>) -> std::io::Result<Proxy> {
    Proxy::start(Arc::new(move |scheme: &str, host: &str, port: u16| {
        loaded.read().map(|l| l.effective.policy.decide_authority(scheme, host, port).is_allowed()).unwrap_or(false)
    }))
}

fn gate_url(kiosk: &Kiosk) -> Url {
    Url::parse(&kiosk.proxy.url()).expect("a loopback address is a valid URL")
}

/// Whether the content view's download hook is in place. wry connects it to the web context, which
/// every content view shares and which lives as long as the kiosk: connected again for each person's
/// new view, the hooks piled up (one more per session, and every download then ran all of them: the
/// document was taken in once per past session). The first one serves every later view: Tauri looks
/// the view up by its label, which each new content view takes over.
static DOWNLOAD_HOOKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The content webview: portal and remote pages.
pub fn content_builder(app: &AppHandle, kiosk: &Kiosk) -> WebviewBuilder<tauri::Wry> {
    let dirs = &kiosk.dirs;
    let nav = app.clone();
    let popup = app.clone();
    let dl = app.clone();
    let blank = WebviewUrl::External(Url::parse("about:blank").expect("constant URL"));
    let builder = WebviewBuilder::new(CONTENT, blank)
        .data_directory(dirs.webdata())
        .proxy_url(gate_url(kiosk))
        .zoom_hotkeys_enabled(false)
        .on_navigation(move |url| on_content_navigation(&nav, url))
        .on_new_window(move |url, _features| {
            on_new_window(&popup, url);
            NewWindowResponse::Deny
        })
        .on_page_load(|webview, payload| {
            match payload.event() {
                // The voice reads what was on the screen: a new page stops it.
                tauri::webview::PageLoadEvent::Started => webview.state::<crate::speech::Speech>().stop(),
                tauri::webview::PageLoadEvent::Finished => {
                    crate::documents::keep_if_inline_pdf(&webview, payload.url());
                    // « Écouter » reads a kiosk page whole, and on a site what the person selects.
                    crate::glue::emit_toolbar(
                        webview.app_handle(),
                        borne_core::toolbar::ToolbarEvent::Content { kiosk: is_content_page(payload.url()) },
                    );
                }
            }
            if payload.event() == tauri::webview::PageLoadEvent::Finished && is_content_page(payload.url()) {
                // Scripts (the start benchmark, .ci/kiosk) wait for this line.
                tracing::info!(page = payload.url().path(), "internal page shown");
                if payload.url().path() != "/admin.html" {
                    // Any other page in the content view ends an admin session (it is never left open).
                    // Even behind a poisoned lock: a reset is never skipped.
                    crate::state::dispatch(webview.app_handle(), Event::LeftAdminPage);
                }
                if payload.url().path() == "/index.html" {
                    crate::portal::portal_shown();
                    // Under systemd (the image's borne-kiosk.service, Type=notify) the start is done.
                    if let Err(e) = crate::watchdog::notify("READY=1") {
                        tracing::warn!(error = %e, "systemd readiness notification failed");
                    }
                    crate::network::announce(webview.app_handle());
                }
            }
        });
    if DOWNLOAD_HOOKED.swap(true, Ordering::SeqCst) {
        builder
    } else {
        builder.on_download(move |_webview, event| on_download(&dl, event))
    }
}

/// The toolbar webview: one local page, nothing else.
pub fn toolbar_builder(app: &AppHandle, kiosk: &Kiosk) -> WebviewBuilder<tauri::Wry> {
    let _ = app;
    WebviewBuilder::new(TOOLBAR, WebviewUrl::App("toolbar.html".into()))
        .data_directory(kiosk.dirs.webdata())
        .proxy_url(gate_url(kiosk))
        .zoom_hotkeys_enabled(false)
        .on_navigation(|url| {
            let ok = url.scheme() == "tauri" && url.host_str() == Some("localhost") && url.path() == "/toolbar.html";
            if !ok {
                tracing::warn!(scheme = url.scheme(), "toolbar navigation refused");
            }
            ok
        })
        .on_new_window(|_, _| NewWindowResponse::Deny)
        .on_download(|_, _| false)
}

fn on_content_navigation(app: &AppHandle, url: &Url) -> bool {
    let kiosk = app.state::<Kiosk>();
    if url.scheme() == borne_core::documents::SCHEME {
        // A session document, shown only when the shell asks (a download that finished, the panel).
        return crate::documents::allow_navigation(&kiosk, url);
    }
    match kiosk.decide_navigation(url) {
        Decision::Allow(by) if kiosk.filter_ready.load(Ordering::SeqCst) => {
            if matches!(by, borne_core::policy::AllowedBy::Rule(_)) {
                // A person's page: the admin corner stays closed until the next wipe.
                crate::state::dispatch(app, Event::RemotePageShown);
            }
            true
        }
        Decision::Allow(_) => {
            tracing::warn!("remote navigation refused: the content filter is not installed");
            false
        }
        Decision::Internal => {
            // The admin page also needs an admin session opened from a clean portal (admin_open),
            // so no other internal navigation's gate can be raced into it.
            let admin_ok = url.path() != "/admin.html" || kiosk.session().admin.is_open();
            let ok = is_content_page(url) && admin_ok && kiosk.take_internal_gate(url);
            if !ok {
                tracing::warn!(path = url.path(), "internal page refused in the content view (not asked by the shell)");
            }
            ok
        }
        Decision::Block { reason, host } => {
            tracing::debug!(reason = reason.code(), host = host.as_deref().unwrap_or(""), "navigation blocked");
            count_blocked(app, host.as_deref());
            use borne_core::frames::Refused;
            let code = reason.code();
            match crate::frames::refused(&Decision::Block { reason, host }, url) {
                // A frame's redirect (the page is committed): the frame stays empty, the page and
                // what the person typed in it stay.
                Some(Refused::FrameRedirect) => {
                    tracing::info!(reason = code, "refused redirect of a frame; the page stays");
                }
                Some(Refused::CheckFrame { host }) => show_blocked_unless_frame(app, Some(host), code),
                Some(Refused::BlockedPage) | None => show_blocked_unless_frame(app, None, code),
            }
            false
        }
    }
}

/// A blocked navigation shows the blocked page, unless it was a frame of the current page (an embedded
/// video or a tracker's iframe): then the frame stays empty and the page goes on. The check runs in the
/// page after the decision; it only chooses what to show, the load is refused either way.
fn show_blocked_unless_frame(app: &AppHandle, host: Option<String>, reason: &'static str) {
    let app = app.clone();
    glib::idle_add_local_once(move || {
        let Some(content) = app.get_webview(CONTENT) else { return };
        let Some(h) = host.clone() else {
            show_blocked(&app, None, reason);
            return;
        };
        let js = format!("{FRAME_CHECK_JS}({})", serde_json::to_string(&h).unwrap_or_default());
        let app2 = app.clone();
        let res = content.eval_with_callback(js, move |result| {
            if result.trim() != "true" {
                let app3 = app2.clone();
                let host = host.clone();
                let _ = app2.run_on_main_thread(move || show_blocked(&app3, host, reason));
            }
        });
        if res.is_err() {
            show_blocked(&app, None, reason);
        }
    });
}

/// Runs in the page after a navigation was refused, to choose what the person sees: true when the
/// refused load was most likely a frame's (then the page stays and the frame just fails), false when
/// it was the page itself (then the blocked page shows). It looks for a frame, object or embed pointing
/// at the refused host (same-origin nested ones included), then at where the person's focus is: a link
/// or form inside a frame, or one targeting a named frame, navigates that frame; `_top` the page.
/// Nothing here decides what loads: the load was refused before this runs.
const FRAME_CHECK_JS: &str = r"(function (h) {
  function hostOf(u) { try { return new URL(u, location.href).hostname.replace(/\.$/, '').toLowerCase(); } catch (e) { return ''; } }
  function scan(doc, depth) {
    if (!doc || depth > 6) return false;
    var els = doc.querySelectorAll('iframe,frame,object,embed');
    for (var i = 0; i < els.length; i++) {
      var e = els[i];
      if (hostOf(e.getAttribute('src') || e.getAttribute('data') || '') === h) return true;
      try { if (scan(e.contentDocument, depth + 1)) return true; } catch (x) {}
    }
    if (depth > 0) {
      // A form of a frame sent to the refused host (by its own script: no focus) that stays in
      // the frame.
      var forms = doc.forms || [];
      for (var j = 0; j < forms.length; j++) {
        var t = (forms[j].getAttribute('target') || '').toLowerCase();
        if (hostOf(forms[j].getAttribute('action') || '') === h && t !== '_top' && t !== '_parent' && t !== '_blank') return true;
      }
    }
    return false;
  }
  try {
    if (scan(document, 0)) return true;
    var doc = document, el = doc.activeElement, depth = 0;
    while (el && /^(IFRAME|FRAME)$/.test(el.tagName) && depth < 6) {
      var inner = null;
      try { inner = el.contentDocument; } catch (x) {}
      if (!inner) return true;
      doc = inner; el = doc.activeElement; depth++;
    }
    if (!el) return depth > 0;
    if (/^(OBJECT|EMBED)$/.test(el.tagName)) return true;
    var t = (el.getAttribute && (el.getAttribute('formtarget') || el.getAttribute('target'))) ||
            (el.form && el.form.getAttribute('target')) || '';
    t = t.toLowerCase();
    if (t === '_top' || t === '_blank') return false;
    if (t === '_parent') return depth > 1;
    if (t && t !== '_self') return true;
    return depth > 0;
  } catch (e) { return false; }
})";

/// Counts a refused navigation by its host's registrable domain (only when a person is at the borne).
fn count_blocked(app: &AppHandle, host: Option<&str>) {
    let kiosk = app.state::<Kiosk>();
    if let (Some(h), true) = (host, kiosk.stats.session_open() || kiosk.session().is_open()) {
        kiosk.stats.record(borne_core::stats::Event::Blocked(h.to_string()));
    }
}

/// Shows the blocked page naming the host.
pub fn show_blocked(app: &AppHandle, host: Option<String>, reason: &str) {
    let Some(content) = app.get_webview(CONTENT) else { return };
    let mut url = Url::parse("tauri://localhost/blocked.html").expect("constant URL");
    url.query_pairs_mut().append_pair("host", host.as_deref().unwrap_or("")).append_pair("reason", reason);
    app.state::<Kiosk>().open_internal_gate(&url);
    let _ = content.navigate(url);
}

/// `target=_blank` and `window.open`: never a second window; an allowed URL opens in the same view.
fn on_new_window(app: &AppHandle, url: Url) {
    match app.state::<Kiosk>().decide_navigation(&url) {
        Decision::Allow(AllowedBy::Rule(_)) => {
            if let Some(c) = app.get_webview(CONTENT) {
                let _ = c.navigate(url);
            }
        }
        // An empty window (`window.open('about:blank')`, then filled by script) cannot be shown in
        // place without losing the page: refused, the page stays.
        Decision::Allow(_) => tracing::info!("new empty window refused"),
        Decision::Internal => tracing::warn!("new window to an internal page refused"),
        Decision::Block { reason, host } => {
            tracing::debug!(reason = reason.code(), host = host.as_deref().unwrap_or(""), "new window blocked");
            count_blocked(app, host.as_deref());
            let app = app.clone();
            let code = reason.code();
            glib::idle_add_local_once(move || show_blocked(&app, host, code));
        }
    }
}

/// Downloads land in the session's private folder, never where a page suggests, and show in the viewer
/// when finished; disallowed ones are cancelled.
fn on_download(app: &AppHandle, event: DownloadEvent<'_>) -> bool {
    let kiosk = app.state::<Kiosk>();
    match event {
        DownloadEvent::Requested { url, destination } => {
            if !kiosk.decide_navigation(&url).is_allowed() {
                tracing::debug!(host = url.host_str().unwrap_or(""), "download refused");
                return false;
            }
            let suggested = destination.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            *destination = kiosk.dirs.download_destination(&suggested);
            tracing::info!("download started");
            true
        }
        DownloadEvent::Finished { success, path, .. } => {
            tracing::info!(success, "download finished");
            if success {
                kiosk.stats.record(borne_core::stats::Event::Download);
                crate::documents::downloaded(app, path);
            }
            true
        }
        _ => true,
    }
}

/// WebKit-level set-up of the content view, then the first portal load once the content filter is in
/// place (fail closed: without the filter, no remote page is ever shown).
pub fn prepare_content(app: &AppHandle, content: &tauri::Webview) {
    let app = app.clone();
    let _ = content.with_webview(move |pv| {
        let wv = pv.inner();
        let kiosk = app.state::<Kiosk>();
        if let Some(ctx) = wv.context() {
            // WebKit's memory cache, for the person's session only: without it what the preload
            // scanner fetched is dropped before the parser asks for it, and a heavy page fetches
            // most of its scripts twice (tests/bench/heavy-page.sh). The disk cache this model also
            // turns on cannot exist: its folder's place in the data folder is taken by a file
            // (`SessionDirs::disk_cache_blocker`). The memory caches are emptied at the session's
            // end (`session::empty_memory_caches`) and the view's process goes with the view.
            ctx.set_cache_model(webkit2gtk::CacheModel::WebBrowser);
        }
        if let Some(settings) = WebViewExt::settings(&wv) {
            settings.set_enable_page_cache(false);
            settings.set_enable_developer_extras(cfg!(debug_assertions) && !kiosk.kiosk_mode);
            settings.set_javascript_can_access_clipboard(false);
            settings.set_enable_back_forward_navigation_gestures(false);
            settings.set_enable_caret_browsing(false);
        }
        if let Some(dm) = wv.website_data_manager() {
            dm.set_persistent_credential_storage_enabled(false);
            dm.set_itp_enabled(false);
        }
        crate::input::lock_webkit_view(&app, &wv);
        crate::network::watch_loads(&app, &wv);
        crate::frames::watch(&wv);
        watch_web_process(&app, &wv);
        crate::auth::watch(&app, &wv);
        let json = kiosk.loaded.read().map(|l| l.effective.policy.content_filter_json()).unwrap_or_default();
        install_filter(&app, &wv, json, true);
    });
}

/// Compiles and installs the content filter (replacing any previous one); loads the portal after it
/// when `then_portal`. Until a filter is installed, no remote navigation is allowed (fail closed).
pub fn install_filter(app: &AppHandle, wv: &webkit2gtk::WebView, json: String, then_portal: bool) {
    let kiosk = app.state::<Kiosk>();
    let app2 = app.clone();
    crate::content_filter::install(
        &kiosk.dirs.filters(),
        &json,
        wv,
        Box::new(move |res| {
            match res {
                Ok(()) => {
                    app2.state::<Kiosk>().filter_ready.store(true, Ordering::SeqCst);
                    tracing::info!("content filter installed");
                }
                Err(e) => tracing::error!(error = %e, "content filter failed to compile; remote pages stay blocked"),
            }
            if then_portal {
                crate::portal::load_portal(&app2);
            }
        }),
    );
}

/// Reloads the configuration in force: portal data, allow-list (navigation hook, network gate and
/// content filter), idle timings. Without a restart. Reads files: call it off the GTK main thread.
pub fn reload(app: &AppHandle) {
    let kiosk = app.state::<Kiosk>();
    let fresh = borne_core::load::load(&kiosk.paths);
    let json = fresh.effective.policy.content_filter_json();
    let session = fresh.settings.session;
    // Replaced whole, even behind a poisoned lock.
    *kiosk.loaded.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
    kiosk.session().set_settings(session);
    if let Some(c) = app.get_webview(CONTENT) {
        let app2 = app.clone();
        let _ = c.with_webview(move |pv| install_filter(&app2, &pv.inner(), json, false));
    }
    tracing::info!("configuration reloaded");
}

/// A crashed or killed web process shows a fresh portal after a full wipe, never a frozen page.
pub fn watch_web_process(app: &AppHandle, wv: &webkit2gtk::WebView) {
    let a = app.clone();
    wv.connect_web_process_terminated(move |_, reason| {
        tracing::warn!(?reason, "web process terminated; wiping and showing the portal");
        let a2 = a.clone();
        glib::idle_add_local_once(move || {
            crate::state::dispatch(&a2, borne_core::person::Event::End(borne_core::session::EndReason::Crash));
        });
    });
}

/// A new content view for the next person (the previous one is closed): put below the toolbar in the
/// overlay, set up, then the portal once its content filter is in place.
pub fn add_content_view(app: &tauri::AppHandle) -> tauri::Result<()> {
    let kiosk = app.state::<Kiosk>();
    let window = app.get_window("main").ok_or(tauri::Error::WindowNotFound)?;
    let (x, y, width, height) = crate::layout::content_rect(&window)?;
    let content = window.add_child(
        content_builder(app, &kiosk),
        tauri::LogicalPosition::new(x, y),
        tauri::LogicalSize::new(width, height),
    )?;
    crate::layout::place_content(&window, &content)?;
    prepare_content(app, &content);
    Ok(())
}
