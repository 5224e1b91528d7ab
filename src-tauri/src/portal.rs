//! The portal: its address, the kiosk's own pages allowed in the content view, and the promise that a
//! portal asked for is shown. A start or a wipe that ends on anything else (a white page, a load
//! lost in a swap of views) asks again, then restarts the kiosk: the watchdog alone would not see it.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use tauri::{AppHandle, Manager, Url};

use crate::state::{Kiosk, CONTENT};

/// Internal pages the content view may show, each only when the shell asks for it (the admin page
/// only from a clean portal: `admin::admin_open`).
const CONTENT_PAGES: &[&str] = &["/index.html", "/blocked.html", "/neterror.html", "/admin.html"];

/// The portal's URL.
pub fn portal_url() -> Url {
    Url::parse("tauri://localhost/index.html").expect("constant URL")
}

/// True when `url` is one of the kiosk's own pages allowed in the content view.
pub fn is_content_page(url: &Url) -> bool {
    url.scheme() == "tauri" && url.host_str() == Some("localhost") && CONTENT_PAGES.contains(&url.path())
}

/// How long the portal may take to show once asked for, before it is asked again.
const PORTAL_DEADLINE: Duration = Duration::from_secs(15);
/// Portal requests in a row that did not show it before the kiosk starts again from nothing.
const PORTAL_TRIES: u32 = 3;
/// Times the portal was shown (`portal_shown`), and requests in a row that were not followed by it.
static PORTALS_SHOWN: AtomicU64 = AtomicU64::new(0);
static PORTAL_MISSES: AtomicU32 = AtomicU32::new(0);

/// Loads the portal in the content view (not from inside `with_webview`). A request not followed by
/// the portal shown within [`PORTAL_DEADLINE`] (a start that ended on a white page, a load lost in a
/// swap of views) is made again, and after [`PORTAL_TRIES`] the kiosk restarts: the watchdog alone
/// would not see it, the main loop runs on.
pub fn load_portal(app: &AppHandle) {
    if let Some(c) = app.get_webview(CONTENT) {
        let url = portal_url();
        app.state::<Kiosk>().open_internal_gate(&url);
        let _ = c.navigate(url);
        let seen = PORTALS_SHOWN.load(Ordering::SeqCst);
        let app = app.clone();
        glib::timeout_add_local_once(PORTAL_DEADLINE, move || {
            if PORTALS_SHOWN.load(Ordering::SeqCst) > seen {
                return;
            }
            // Somewhere else on purpose since (a site the person opened, the admin or blocked page):
            // nothing to mend.
            let now = app.get_webview(CONTENT).and_then(|c| c.url().ok());
            if now.as_ref().is_some_and(|u| {
                matches!(u.scheme(), "http" | "https" | borne_core::documents::SCHEME)
                    || (is_content_page(u) && u.path() != "/index.html")
            }) {
                return;
            }
            let misses = PORTAL_MISSES.fetch_add(1, Ordering::SeqCst) + 1;
            if misses >= PORTAL_TRIES {
                tracing::error!(misses, "the portal was asked for and never shown; restarting the kiosk");
                crate::glue::restart(&app);
            } else {
                tracing::warn!(misses, "the portal was asked for and not shown in time; asking again");
                load_portal(&app);
            }
        });
    }
}

/// The portal is on the screen (the content view finished loading it).
pub fn portal_shown() {
    PORTALS_SHOWN.fetch_add(1, Ordering::SeqCst);
    PORTAL_MISSES.store(0, Ordering::SeqCst);
}

/// Opens the admin page in the content view: an admin session opened first, then the page's own
/// gate (« Espace référent » on the portal, or on the closed screen outside the hours).
pub fn open_admin_page(app: &AppHandle) {
    crate::state::dispatch(app, borne_core::person::Event::AdminOpened);
    let page = tauri::Url::parse("tauri://localhost/admin.html").expect("constant URL");
    app.state::<Kiosk>().open_internal_gate(&page);
    if let Some(c) = app.get_webview(CONTENT) {
        let _ = c.navigate(page);
    }
    tracing::info!("admin page opened");
}
