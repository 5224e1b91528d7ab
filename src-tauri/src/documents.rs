//! A person's documents, the WebKit half: the session's files shown in the content view under
//! `borne-doc://localhost/<id>` (WebKit's own PDF viewer for PDFs), a finished download shown at
//! once, a PDF a site shows inline kept in the session folder, and a site's file chooser answered
//! through the toolbar's own list (the session's files and the USB sticks plugged in), never GTK's.
//!
//! What is listed, ids, names and which file an id may reach are `borne_core::documents`'s.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use borne_core::documents::{self, Kind, Listed, SCHEME};
use tauri::http::{Request, Response, StatusCode};
use tauri::{AppHandle, Manager, UriSchemeContext, UriSchemeResponder, Url};
use webkit2gtk::{FileChooserRequestExt, URIResponseExt, WebResourceExt, WebViewExt};

use borne_core::person::Event;
use borne_core::toolbar::ToolbarEvent;

use crate::glue::emit_toolbar;
use crate::state::{dispatch, Kiosk, CONTENT};

thread_local! {
    /// The file chooser a site opened and the person has not answered yet (main thread only).
    static PENDING: RefCell<Option<webkit2gtk::FileChooserRequest>> = const { RefCell::new(None) };
}

/// The address that shows a session document in the content view.
pub fn document_url(id: &str) -> Url {
    let mut url = Url::parse(&format!("{SCHEME}://localhost/")).expect("constant URL");
    url.set_path(id);
    url
}

/// The id in a document address, if it is one.
pub fn id_of(url: &Url) -> Option<&str> {
    (url.scheme() == SCHEME && url.host_str() == Some("localhost")).then(|| url.path().trim_start_matches('/'))
}

/// Files found off the UI thread (`borne_core::documents::scan_*`), with their ids for this session.
pub fn listed(kiosk: &Kiosk, found: Vec<documents::Found>) -> Vec<Listed> {
    kiosk.session().documents.list(found)
}

/// The session file behind `id`, if it is still there.
pub fn session_file(kiosk: &Kiosk, id: &str) -> Option<PathBuf> {
    kiosk.session().documents.resolve(id, &kiosk.dirs, &[])
}

/// Shows a session document in the content view (through the navigation hook, with the shell's gate).
pub fn show(app: &AppHandle, id: &str) {
    let Some(content) = app.get_webview(CONTENT) else { return };
    let url = document_url(id);
    app.state::<Kiosk>().open_internal_gate(&url);
    let _ = content.navigate(url);
}

/// The navigation hook's answer for a document address: only when the shell asked for it a moment
/// ago, and only for a file of this session.
pub fn allow_navigation(kiosk: &Kiosk, url: &Url) -> bool {
    let ok = id_of(url).is_some_and(|id| session_file(kiosk, id).is_some()) && kiosk.take_internal_gate(url);
    if !ok {
        tracing::warn!("document page refused in the content view (not asked by the shell, or unknown)");
    }
    ok
}

/// Serves `borne-doc://localhost/<id>` to the content view: a PDF or a picture of the session, with
/// its type from its bytes; anything else is refused. Tauri's asynchronous scheme handler: the file
/// is read off the GTK main thread, then the answer goes back to WebKit.
pub fn serve(ctx: UriSchemeContext<'_, tauri::Wry>, request: Request<Vec<u8>>, responder: UriSchemeResponder) {
    if ctx.webview_label() != CONTENT {
        tracing::warn!(label = ctx.webview_label(), "document refused outside the content view");
        return responder.respond(refusal(StatusCode::FORBIDDEN));
    }
    let app = ctx.app_handle().clone();
    let id = Url::parse(&request.uri().to_string()).ok().and_then(|u| id_of(&u).map(str::to_owned));
    drop(tauri::async_runtime::spawn_blocking(move || responder.respond(document(&app.state::<Kiosk>(), id))));
}

fn refusal(status: StatusCode) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/plain")
        .body(Vec::new())
        .expect("a valid constant response")
}

/// The answer to a document address (reads the file).
fn document(kiosk: &Kiosk, id: Option<String>) -> Response<Vec<u8>> {
    let Some(file) = id.and_then(|id| session_file(kiosk, &id)) else {
        tracing::warn!("unknown document asked");
        return refusal(StatusCode::NOT_FOUND);
    };
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read a session document");
            return refusal(StatusCode::NOT_FOUND);
        }
    };
    let Some(mime) = documents::sniff(&bytes).mime(&bytes) else {
        tracing::info!("document of a kind the kiosk does not show");
        return refusal(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    };
    Response::builder()
        .header("Content-Type", mime)
        .header("Cache-Control", "no-store")
        .header("X-Content-Type-Options", "nosniff")
        .body(bytes)
        .unwrap_or_else(|_| refusal(StatusCode::INTERNAL_SERVER_ERROR))
}

/// A download finished: it is listed, and shown at once when the kiosk can show it.
pub fn downloaded(app: &AppHandle, path: Option<PathBuf>) {
    let kiosk = app.state::<Kiosk>();
    let Some(path) = path else { return };
    let id = kiosk.session().documents.id_of_session_file(&kiosk.dirs, &path);
    emit_toolbar(app, ToolbarEvent::DocumentsChanged);
    let Some(id) = id else {
        tracing::warn!("finished download not found in the session folder");
        return;
    };
    if documents::sniff_file(&path) == Kind::Other {
        tracing::info!("downloaded document kept, not shown (not a PDF or picture)");
        return;
    }
    let app = app.clone();
    glib::idle_add_local_once(move || show(&app, &id));
}

/// A remote page finished loading: when it is a PDF WebKit shows inline, a copy goes to the session
/// folder, so « Mes documents » lists it like a download (erased the same way).
pub fn keep_if_inline_pdf(webview: &tauri::Webview, url: &Url) {
    let path = match url.scheme() {
        "https" | "http" => url.path().to_owned(),
        // A blob: a site's script built and opened in place (its "path" is its origin and a uuid).
        "blob" => "/document.pdf".to_owned(),
        _ => return,
    };
    let app = webview.app_handle().clone();
    let _ = webview.with_webview(move |pv| {
        let wv = pv.inner();
        let Some(resource) = wv.main_resource() else { return };
        let is_pdf = resource.response().and_then(|r| r.mime_type()).is_some_and(|m| m.as_str() == "application/pdf");
        if !is_pdf {
            return;
        }
        resource.data(None::<&gio::Cancellable>, move |bytes| {
            let Ok(bytes) = bytes else { return };
            let kiosk = app.state::<Kiosk>();
            match documents::keep_inline(&kiosk.dirs, &path, &bytes) {
                Ok(Some(_)) => {
                    tracing::info!("inline PDF kept in the session folder");
                    emit_toolbar(&app, ToolbarEvent::DocumentsChanged);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "cannot keep an inline PDF"),
            }
        });
    });
}

/// A site opened a file chooser: the toolbar shows the kiosk's own list instead of GTK's dialog.
pub fn file_chooser(app: &AppHandle, wv: &webkit2gtk::WebView, request: &webkit2gtk::FileChooserRequest) {
    tracing::info!(multiple = request.selects_multiple(), "file chooser: the kiosk's own list");
    // What the site's input accepts (`image/*`, `.pdf`…) and the size its page declares: a
    // document scanned for it is made to fit.
    let accept: Vec<String> = request.mime_types().iter().map(ToString::to_string).collect();
    crate::scanning::chooser_opened(app, wv, accept.join(","));
    let previous = PENDING.with(|p| p.borrow_mut().replace(request.clone()));
    if let Some(old) = previous {
        old.cancel();
    }
    dispatch(app, Event::Input);
    emit_toolbar(app, ToolbarEvent::UploadRequest);
}

/// Answers the pending chooser with `file`, or cancels it (main thread).
pub fn answer_chooser(app: &AppHandle, file: Option<PathBuf>) {
    crate::scanning::chooser_closed(app);
    let _ = app.run_on_main_thread(move || {
        let Some(request) = PENDING.with(|p| p.borrow_mut().take()) else {
            tracing::debug!("no file chooser waiting");
            return;
        };
        match file.as_deref().and_then(Path::to_str) {
            Some(f) => {
                tracing::info!("file chooser answered with one file");
                request.select_files(&[f]);
            }
            None => {
                tracing::info!("file chooser cancelled");
                request.cancel();
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_urls_round_trip() {
        let u = document_url("0123abcd");
        assert_eq!(u.as_str(), "borne-doc://localhost/0123abcd");
        assert_eq!(id_of(&u), Some("0123abcd"));
        assert_eq!(id_of(&Url::parse("borne-doc://evil/0123").unwrap()), None);
        assert_eq!(id_of(&Url::parse("https://localhost/0123").unwrap()), None);
    }
}
