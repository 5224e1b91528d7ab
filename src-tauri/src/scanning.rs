//! « Numériser un document » in the shell: the toolbar's commands, each running
//! `borne_core::scan` off the GTK main thread (scanimage runs up to a minute a page; the main
//! thread feeds the watchdog). The pages and the flag that stops a scan live in the person's
//! session (`Session::scanning`): an end cancels the scan in flight and the next person starts
//! with an empty document. A page that arrives after the person left is removed, never added to
//! the next person's document.

use std::sync::OnceLock;

use base64::Engine;
use serde::Serialize;
use tauri::{AppHandle, Manager, Webview};

use borne_core::person::Event;
use borne_core::scan::{
    Colour, Device, DocumentError, Page, PageRequest, Rotation, ScanError, ScanSettings, Scanimage, Target,
    PREVIEW_WIDTH,
};
use borne_core::toolbar::ToolbarEvent;

use crate::glue::{caller_is, emit_toolbar, off_main, CommandError, Result};
use crate::state::{dispatch, Kiosk, TOOLBAR};

/// scanimage, as SANE is set up on the machine (`SANE_CONFIG_DIR` in the kiosk's environment is
/// passed on to it: the end-to-end suites point it at SANE's `test` backend).
fn scanimage() -> &'static Scanimage {
    static S: OnceLock<Scanimage> = OnceLock::new();
    S.get_or_init(Scanimage::new)
}

fn scan_error(e: &ScanError) -> CommandError {
    CommandError::new(e.code())
}

fn document_error(e: &DocumentError) -> CommandError {
    CommandError::new(e.code())
}

/// The scanner's name as a person reads it.
fn device_label(d: &Device) -> String {
    let label = format!("{} {}", d.vendor.trim(), d.model.trim());
    borne_core::documents::display_name(label.trim())
}

/// What the scan dialog shows.
#[derive(Debug, Serialize)]
pub struct ScanState {
    /// The scanner used, as its maker names it.
    pub scanner: String,
    /// Pages scanned so far in this session's document.
    pub pages: usize,
    /// Most pages a document holds.
    pub max_pages: usize,
}

/// One page's picture for the dialog.
#[derive(Debug, Serialize)]
pub struct PageShown {
    /// Its place in the document (0 first).
    pub index: usize,
    /// A `data:image/jpeg` URL of the page as it will be (turns applied).
    pub preview: String,
    /// Pages in the document now.
    pub pages: usize,
}

/// The document made: in « Mes documents » and offered to the site's chooser.
#[derive(Debug, Serialize)]
pub struct Made {
    /// Its id for this session (`upload_choose`, `document_open`).
    pub id: String,
    /// Its name (`document-1.pdf`).
    pub name: String,
    /// Pages in it.
    pub pages: usize,
    /// Its size in bytes.
    pub size: u64,
}

/// The dialog opens: the scanner (looked for once a session: SANE probes USB and the network,
/// seconds) and the pages already scanned.
#[tauri::command]
pub async fn scan_open(webview: Webview, app: AppHandle) -> Result<ScanState> {
    caller_is(&webview, &[TOOLBAR])?;
    dispatch(&app, Event::Input);
    let (number, known) = {
        let kiosk = app.state::<Kiosk>();
        let s = kiosk.session();
        (s.number(), s.scanning.device.clone())
    };
    let device = match known {
        Some(d) => d,
        None => {
            let found = off_main(&app, |_| scanimage().list()).await?.map_err(|e| scan_error(&e))?;
            let Some(first) = found.into_iter().next() else {
                tracing::warn!("no scanner found: the person is told to ask at the accueil");
                return Err(CommandError::new("no-scanner"));
            };
            tracing::info!(backend = first.backend(), "scanner found for the session");
            let kiosk = app.state::<Kiosk>();
            let mut s = kiosk.session();
            if s.number() == number {
                s.scanning.device = Some(first.clone());
            }
            first
        }
    };
    let pages = app.state::<Kiosk>().session().scanning.document.len();
    Ok(ScanState { scanner: device_label(&device), pages, max_pages: borne_core::scan::document::MAX_PAGES })
}

/// « Numériser la page » (`retake`: none) or « Refaire » (the page's index): one page from the
/// scanner, in colour or grey. The answer is the page's picture.
#[tauri::command]
pub async fn scan_page(webview: Webview, app: AppHandle, colour: bool, retake: Option<usize>) -> Result<PageShown> {
    caller_is(&webview, &[TOOLBAR])?;
    dispatch(&app, Event::Input);
    let (number, device, cancel) = {
        let kiosk = app.state::<Kiosk>();
        let mut s = kiosk.session();
        if s.scanning.busy {
            return Err(CommandError::new("busy"));
        }
        let Some(device) = s.scanning.device.clone() else { return Err(CommandError::new("no-scanner")) };
        // A new flag for each page: « Arrêter » stops this page only.
        s.scanning.cancel = borne_core::scan::Cancel::new();
        s.scanning.busy = true;
        (s.number(), device, s.scanning.cancel.clone())
    };
    let settings = ScanSettings::new(if colour { Colour::Colour } else { Colour::Grey }, borne_core::scan::MIN_DPI);
    let request = PageRequest::new(Some(&device.name), settings);
    let scanned = off_main(&app, move |kiosk| scanimage().scan_page(&request, &kiosk.dirs, &cancel)).await;
    let (index, image, pages) = {
        let kiosk = app.state::<Kiosk>();
        let mut s = kiosk.session();
        if s.number() != number {
            // The person left meanwhile: this page is nobody's now.
            if let Ok(Ok(page)) = scanned {
                page.discard();
                tracing::info!("a page scanned after its session ended was removed");
            }
            return Err(CommandError::new("session-ended"));
        }
        s.scanning.busy = false;
        let page: Page = scanned?.map_err(|e| scan_error(&e))?;
        let index = match retake {
            Some(i) => s.scanning.document.retake(i, page).map(|()| i),
            None => s.scanning.document.add(page),
        }
        .map_err(|e| document_error(&e))?;
        (index, s.scanning.document.page_image(index).map_err(|e| document_error(&e))?, s.scanning.document.len())
    };
    let preview = off_main(&app, move |_| image.preview(PREVIEW_WIDTH)).await?.map_err(|e| document_error(&e))?;
    Ok(PageShown { index, preview: data_url(&preview.jpeg), pages })
}

/// « Arrêter »: stops the page being scanned (the pages before it are kept).
#[tauri::command]
pub fn scan_stop(webview: Webview, app: AppHandle) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    dispatch(&app, Event::Input);
    app.state::<Kiosk>().session().scanning.cancel.cancel();
    Ok(())
}

/// « Tourner »: the page a quarter turn clockwise; its new picture.
#[tauri::command]
pub async fn scan_rotate(webview: Webview, app: AppHandle, index: usize) -> Result<PageShown> {
    caller_is(&webview, &[TOOLBAR])?;
    dispatch(&app, Event::Input);
    let (image, pages) = {
        let kiosk = app.state::<Kiosk>();
        let mut s = kiosk.session();
        s.scanning.document.rotate(index, Rotation::R90).map_err(|e| document_error(&e))?;
        (s.scanning.document.page_image(index).map_err(|e| document_error(&e))?, s.scanning.document.len())
    };
    let preview = off_main(&app, move |_| image.preview(PREVIEW_WIDTH)).await?.map_err(|e| document_error(&e))?;
    Ok(PageShown { index, preview: data_url(&preview.jpeg), pages })
}

/// « Enlever »: the page leaves the document (its file is removed). The pages left.
#[tauri::command]
pub async fn scan_remove(webview: Webview, app: AppHandle, index: usize) -> Result<usize> {
    caller_is(&webview, &[TOOLBAR])?;
    dispatch(&app, Event::Input);
    let kiosk = app.state::<Kiosk>();
    let mut s = kiosk.session();
    s.scanning.document.remove(index).map_err(|e| document_error(&e))?;
    Ok(s.scanning.document.len())
}

/// « Terminer le document »: one PDF (or a JPEG when the site waiting for a file takes only
/// images) in the session's documents, under a plain name.
#[tauri::command]
pub async fn scan_finish(webview: Webview, app: AppHandle) -> Result<Made> {
    caller_is(&webview, &[TOOLBAR])?;
    dispatch(&app, Event::Input);
    let (number, mut document, accept, max_bytes) = {
        let kiosk = app.state::<Kiosk>();
        let mut s = kiosk.session();
        if s.scanning.busy {
            return Err(CommandError::new("busy"));
        }
        let max_bytes = s.scanning.upload_accept.as_ref().and(s.scanning.upload_max_bytes);
        (s.number(), std::mem::take(&mut s.scanning.document), s.scanning.upload_accept.clone(), max_bytes)
    };
    let target = Target::from_input(accept.as_deref().unwrap_or(""), max_bytes);
    if let Some(m) = max_bytes {
        tracing::info!(max_bytes = m, "the document is made within the size the site declares");
    }
    let (document, made) = off_main(&app, move |kiosk| {
        let made = document.finish(&target, &kiosk.dirs);
        (document, made)
    })
    .await?;
    let (id, made) = {
        let kiosk = app.state::<Kiosk>();
        let mut s = kiosk.session();
        if s.number() != number {
            // The person left while the document was being made: the wipe took its file (or will);
            // the pages are dropped with it.
            return Err(CommandError::new("session-ended"));
        }
        let made = match made {
            Ok(m) => m,
            Err(e) => {
                // The pages are kept: the person may remove one and try again.
                s.scanning.document = document;
                return Err(document_error(&e));
            }
        };
        let id = s.documents.id_of_session_file(&kiosk.dirs, &made.path).ok_or(CommandError::new("document-gone"))?;
        (id, made)
    };
    emit_toolbar(&app, ToolbarEvent::DocumentsChanged);
    Ok(Made { id, name: made.name, pages: made.pages, size: made.bytes })
}

/// Finds the file input whose chooser is open and gives the sizes its page declares, as a JSON
/// array of strings (each cut to 32 characters; `[]` when the input cannot be told): its
/// `data-max-size` and `data-maxsize`, and the `value` of the last `<input type="hidden"
/// name="MAX_FILE_SIZE">` before it in its form (PHP's convention). The chooser opens from a click
/// or a key on the input, so the input is the document's focused element, also inside same-origin
/// frames (their `<iframe>` is then the focused element above); a button whose script clicks a
/// hidden input leaves the focus on the button, so the document's only file input is taken then.
/// Run in its own script world: the page's scripts cannot see it nor change what it calls.
const DECLARED_SIZE_SCRIPT: &str = r#"(function () {
  var doc = document;
  var el = doc.activeElement;
  for (var depth = 0; el && depth < 8 && (el.tagName === 'IFRAME' || el.tagName === 'FRAME'); depth++) {
    var inner = null;
    try { inner = el.contentDocument; } catch (e) { inner = null; }
    if (!inner) return '[]';
    doc = inner;
    el = doc.activeElement;
  }
  var isFile = function (e) { return !!e && e.tagName === 'INPUT' && String(e.type).toLowerCase() === 'file'; };
  if (!isFile(el)) {
    var all = doc.querySelectorAll('input[type=file]');
    if (all.length !== 1) return '[]';
    el = all[0];
  }
  var cut = function (v) { return v === null || v === undefined ? '' : String(v).slice(0, 32); };
  var out = [cut(el.getAttribute('data-max-size')), cut(el.getAttribute('data-maxsize'))];
  var form = el.form;
  if (form) {
    var elements = Object.getOwnPropertyDescriptor(HTMLFormElement.prototype, 'elements').get.call(form);
    var php = null;
    for (var i = 0; i < elements.length && i < 10000; i++) {
      var f = elements[i];
      if (f === el) break;
      if (f.tagName === 'INPUT' && String(f.type).toLowerCase() === 'hidden' && f.getAttribute('name') === 'MAX_FILE_SIZE') php = f.value;
    }
    if (php !== null) out.push(cut(php));
  }
  return JSON.stringify(out);
})()"#;

/// Longest answer of [`DECLARED_SIZE_SCRIPT`] read (three values of 32 characters, quoted).
const DECLARED_SIZE_MAX_ANSWER: usize = 256;

/// The sizes [`DECLARED_SIZE_SCRIPT`] gave back, untrusted: a JSON array of strings of bounded
/// length, anything else says nothing. `borne_core::scan::declared_max_bytes` reads the values.
fn declared_size_answer(answer: &str) -> Option<u64> {
    if answer.len() > DECLARED_SIZE_MAX_ANSWER {
        return None;
    }
    let values: Vec<String> = serde_json::from_str(answer).ok()?;
    borne_core::scan::declared_max_bytes(&values)
}

/// What the site's file chooser now waiting accepts (its `accept`, as MIME types and
/// extensions) and, read from its page a moment later, the size its input declares: the scanned
/// document is made to fit them. The script runs in the web process; its answer comes back on the
/// main thread without holding it.
pub fn chooser_opened(app: &AppHandle, wv: &webkit2gtk::WebView, accept: String) {
    use webkit2gtk::WebViewExt;
    let (number, chooser) = {
        let kiosk = app.state::<Kiosk>();
        let mut s = kiosk.session();
        s.scanning.upload_accept = Some(accept);
        s.scanning.upload_max_bytes = None;
        s.scanning.upload_chooser += 1;
        (s.number(), s.scanning.upload_chooser)
    };
    let app = app.clone();
    wv.evaluate_javascript(DECLARED_SIZE_SCRIPT, Some("borne-upload"), None, None::<&gio::Cancellable>, move |r| {
        use javascriptcore::ValueExt;
        let declared = match r {
            Ok(v) => declared_size_answer(v.to_str().as_str()),
            Err(e) => {
                tracing::debug!(error = %e, "the size the site declares could not be read");
                None
            }
        };
        let kiosk = app.state::<Kiosk>();
        let mut s = kiosk.session();
        // Only for the chooser still open: not the next person's, nor a later one.
        if s.number() == number && s.scanning.upload_chooser == chooser && s.scanning.upload_accept.is_some() {
            s.scanning.upload_max_bytes = declared;
            if let Some(m) = declared {
                tracing::info!(max_bytes = m, "file chooser: the site declares a largest file");
            }
        }
    });
}

/// The file chooser was answered or cancelled.
pub fn chooser_closed(app: &AppHandle) {
    let kiosk = app.state::<Kiosk>();
    let mut s = kiosk.session();
    s.scanning.upload_accept = None;
    s.scanning.upload_max_bytes = None;
}

fn data_url(jpeg: &[u8]) -> String {
    format!("data:image/jpeg;base64,{}", base64::engine::general_purpose::STANDARD.encode(jpeg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_about_the_declared_size_is_read_as_untrusted() {
        assert_eq!(declared_size_answer(r#"["","","80000"]"#), Some(80_000));
        assert_eq!(declared_size_answer(r#"["300000","","2000000"]"#), Some(300_000));
        assert_eq!(declared_size_answer("[]"), None);
        for bad in ["", "80000", "[80000]", r#"{"a":"80000"}"#, r#"["8e4"]"#, "null", r#"["80000""#] {
            assert_eq!(declared_size_answer(bad), None, "{bad:?}");
        }
        let long = format!(r#"["{}","80000"]"#, "9".repeat(300));
        assert_eq!(declared_size_answer(&long), None, "an answer longer than the script gives");
    }
}
