//! What the kiosk's own local pages may ask of the shell. Each command is a few lines: it checks the
//! caller, then calls the core or the shell's modules. Remote origins have no capability, so they
//! cannot call any of these; [`caller_is`] checks it again.

use borne_core::print::{Pages, Refusal};
use borne_core::session::EndReason;
use serde::Serialize;
use tauri::{AppHandle, Emitter, EventTarget, Manager, State, Webview};
use webkit2gtk::{BackForwardListExt, BackForwardListItemExt, WebViewExt};

use crate::{printing, session, Kiosk, CONTENT, TOOLBAR};

/// The one error shape the pages receive: a code they turn into text.
#[derive(Debug, Serialize, thiserror::Error)]
#[error("{code}")]
pub struct CommandError {
    code: &'static str,
}

impl CommandError {
    /// An error with this code.
    pub fn new(code: &'static str) -> Self {
        CommandError { code }
    }
}

type Result<T> = std::result::Result<T, CommandError>;

/// How long the USB sticks may take to be listed or checked before the person is told that the
/// stick does not answer (`documents.error.usb-slow`).
pub const USB_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs `work` on the async runtime's pool for blocking work, off the GTK main thread (which also
/// feeds systemd's watchdog): files, USB sticks, SQLite, PIN hashing, external commands.
pub(crate) async fn off_main<T: Send + 'static>(
    app: &AppHandle,
    work: impl FnOnce(&Kiosk) -> T + Send + 'static,
) -> Result<T> {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || work(app.state::<Kiosk>().inner()))
        .await
        .map_err(|_| CommandError { code: "internal" })
}

/// [`off_main`] within `limit`: `None` when the work has not ended by then. It goes on in the
/// background (a read stuck on a dying USB stick cannot be interrupted) and its result is dropped.
pub(crate) async fn off_main_within<T: Send + 'static>(
    app: &AppHandle,
    limit: std::time::Duration,
    work: impl FnOnce(&Kiosk) -> T + Send + 'static,
) -> Result<Option<T>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let a = app.clone();
    drop(tauri::async_runtime::spawn_blocking(move || {
        let _ = tx.send(work(a.state::<Kiosk>().inner()));
    }));
    tauri::async_runtime::spawn_blocking(move || rx.recv_timeout(limit).ok())
        .await
        .map_err(|_| CommandError { code: "internal" })
}

/// The caller is one of the kiosk's local pages, in one of the expected webviews.
pub(crate) fn caller_is(webview: &Webview, labels: &[&str]) -> Result<()> {
    let url = webview.url().map_err(|_| CommandError { code: "forbidden" })?;
    let local = url.scheme() == "tauri" && url.host_str() == Some("localhost");
    if local && labels.contains(&webview.label()) {
        Ok(())
    } else {
        tracing::warn!(label = webview.label(), "command refused: caller is not a local page");
        Err(CommandError { code: "forbidden" })
    }
}

/// Sends an event to the toolbar.
pub fn emit_toolbar(app: &AppHandle, payload: serde_json::Value) {
    let _ = app.emit_to(EventTarget::webview(TOOLBAR), "kiosk", payload);
}

/// The portal's data.
#[tauri::command]
pub fn portal(webview: Webview, kiosk: State<'_, Kiosk>) -> Result<borne_core::catalogue::PortalData> {
    caller_is(&webview, &[CONTENT, TOOLBAR])?;
    let l = kiosk.loaded.read().map_err(|_| CommandError { code: "internal" })?;
    let lang = kiosk.language.lock().map(|l| l.clone()).unwrap_or_default();
    Ok(borne_core::catalogue::PortalData::new(&l.settings, &l.effective)
        .with_demarches(&l.demarches, &l.effective)
        .in_language(&lang))
}

/// The person chose a language in the menu: every page of the session follows it (counted).
#[tauri::command]
pub fn set_language(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>, code: String) -> Result<()> {
    caller_is(&webview, &[CONTENT, TOOLBAR])?;
    let offered =
        kiosk.loaded.read().map(|l| borne_core::catalogue::offered_languages(&l.settings)).unwrap_or_default();
    if !offered.contains(&code) {
        return Err(CommandError { code: "unknown-language" });
    }
    kiosk.touch();
    if let Ok(mut l) = kiosk.language.lock() {
        *l = code.clone();
    }
    if code != "fr" {
        kiosk.stats.record(borne_core::stats::Event::Language(code.clone()));
    }
    emit_toolbar(&app, serde_json::json!({"kind": "language", "lang": code}));
    Ok(())
}

/// A tile was opened: counted by id (the first thing a person does opens the counted session).
#[tauri::command]
pub fn tile_opened(webview: Webview, kiosk: State<'_, Kiosk>, id: String) -> Result<()> {
    caller_is(&webview, &[CONTENT])?;
    let known = kiosk.loaded.read().map(|l| l.effective.services.iter().any(|s| s.id == id)).unwrap_or(false);
    if !known {
        return Err(CommandError { code: "unknown-tile" });
    }
    kiosk.touch();
    // What a person does is not logged at the default level: logs keep times to the second.
    tracing::debug!(tile = %id, "tile opened");
    kiosk.stats.record(borne_core::stats::Event::TileOpened(id));
    Ok(())
}

/// Whether the borne has no network at all (the portal's tiles and the toolbar say so).
#[tauri::command]
pub fn network_offline(webview: Webview) -> Result<bool> {
    caller_is(&webview, &[CONTENT, TOOLBAR])?;
    Ok(!crate::network::online())
}

/// Back to the portal (the session goes on).
#[tauri::command]
pub fn go_home(webview: Webview, app: AppHandle) -> Result<()> {
    caller_is(&webview, &[CONTENT, TOOLBAR])?;
    if app.state::<Kiosk>().admin.lock().is_ok_and(|a| a.is_open()) {
        // Leaving the référent's corner always ends with a wipe.
        crate::admin::close(&app, "home");
        return Ok(());
    }
    session::load_portal(&app);
    Ok(())
}

/// One step back in the content view.
#[tauri::command]
pub fn go_back(webview: Webview, app: AppHandle) -> Result<()> {
    caller_is(&webview, &[TOOLBAR, CONTENT])?;
    if let Some(c) = app.get_webview(CONTENT) {
        let app = app.clone();
        let _ = c.with_webview(move |pv| {
            let wv = pv.inner();
            if wv.can_go_back() {
                // The step back may land on one of the kiosk's pages (the portal): a pass for that
                // very address.
                if let Some(back) = wv.back_forward_list().and_then(|l| l.back_item()).and_then(|i| i.uri()) {
                    if let Ok(u) = tauri::Url::parse(&back) {
                        app.state::<Kiosk>().open_internal_gate(&u);
                    }
                }
                wv.go_back();
            }
        });
    }
    Ok(())
}

/// "Terminer ma session", confirmed in the toolbar, with the answer to "Avez-vous pu faire votre
/// démarche ?" when the référent turned the question on (`yes`, `partly`, `no`, `skipped`).
#[tauri::command]
pub fn end_session(webview: Webview, app: AppHandle, outcome: Option<String>) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    let kiosk = app.state::<Kiosk>();
    let asked = kiosk.loaded.read().map(|l| l.settings.help.ask_outcome).unwrap_or(false);
    if let (true, Some(code)) = (asked, outcome.as_deref()) {
        use borne_core::stats::{Event, Outcome};
        let o = match code {
            "yes" => Outcome::Yes,
            "partly" => Outcome::Partly,
            "no" => Outcome::No,
            "skipped" => Outcome::Skipped,
            _ => return Err(CommandError { code: "unknown-outcome" }),
        };
        kiosk.stats.record(Event::Outcome(o));
    }
    session::end(&app, EndReason::Button);
    crate::layout(&app, false);
    Ok(())
}

/// The person's answer in the toolbar's password dialog: a user name and password for this session,
/// or nothing for « Annuler ». Never logged.
#[tauri::command]
pub fn auth_answer(webview: Webview, app: AppHandle, user: Option<String>, password: Option<String>) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    app.state::<Kiosk>().touch();
    crate::auth::answer(&app, user.zip(password));
    Ok(())
}

/// "J'ai besoin d'aide" was opened: counted (the help itself is in the portal data).
#[tauri::command]
pub fn help_opened(webview: Webview, kiosk: State<'_, Kiosk>) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    kiosk.touch();
    kiosk.stats.record(borne_core::stats::Event::HelpRequest);
    Ok(())
}

/// "Imprimer cette liste" in the help dialog: the toolbar's help sheet (its print style shows the
/// sheet alone) goes to the printer, one copy, within the session's quota.
#[tauri::command]
pub async fn help_print(webview: Webview, app: AppHandle) -> Result<Printed> {
    caller_is(&webview, &[TOOLBAR])?;
    app.state::<Kiosk>().touch();
    let file = pdf_of(&app, TOOLBAR).await?;
    let (file, pages) = off_main(&app, move |kiosk| printing::printable(kiosk, file))
        .await?
        .map_err(|e| CommandError { code: e.code() })?;
    if let Ok(mut p) = app.state::<Kiosk>().print.lock() {
        p.document = Some((file, pages));
    }
    submit_prepared(&app, 1, Pages::All).await
}

/// Text size and contrast for the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Display {
    /// Text size in percent: 100, 150 or 200.
    pub text: u16,
    /// High contrast on the kiosk's own screens.
    pub contrast: bool,
}

impl Default for Display {
    fn default() -> Self {
        Display { text: 100, contrast: false }
    }
}

/// The session's text size and contrast (each page applies it when it loads).
#[tauri::command]
pub fn display(webview: Webview, kiosk: State<'_, Kiosk>) -> Result<Display> {
    caller_is(&webview, &[CONTENT, TOOLBAR])?;
    Ok(kiosk.display.lock().map(|d| *d).unwrap_or_default())
}

/// The person changed the text size or the contrast: the content view is zoomed (sites too), and
/// every kiosk page is told. Both go back to normal at the end of the session.
#[tauri::command]
pub fn set_display(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>, text: u16, contrast: bool) -> Result<()> {
    caller_is(&webview, &[CONTENT, TOOLBAR])?;
    if ![100, 150, 200].contains(&text) {
        return Err(CommandError { code: "bad-text-size" });
    }
    kiosk.touch();
    let d = Display { text, contrast };
    if let Ok(mut cur) = kiosk.display.lock() {
        *cur = d;
    }
    apply_zoom(&app, text);
    let payload = serde_json::json!({"kind": "display", "text": text, "contrast": contrast});
    let _ = app.emit_to(EventTarget::webview(CONTENT), "kiosk", payload.clone());
    emit_toolbar(&app, payload);
    Ok(())
}

/// Zooms the content view (page zoom: the layout reflows, remote sites included).
pub fn apply_zoom(app: &AppHandle, text: u16) {
    if let Some(c) = app.get_webview(CONTENT) {
        let _ = c.with_webview(move |pv| pv.inner().set_zoom_level(f64::from(text) / 100.0));
    }
}

/// "Je suis encore là" during the countdown.
#[tauri::command]
pub fn still_here(webview: Webview, kiosk: State<'_, Kiosk>, app: AppHandle) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    if kiosk.touch().is_some() {
        emit_toolbar(&app, serde_json::json!({"kind": "idle-cancel"}));
    }
    Ok(())
}

/// The toolbar covers the whole window (dialog, countdown) or goes back to its bar.
#[tauri::command]
pub fn toolbar_overlay(webview: Webview, app: AppHandle, open: bool) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    crate::layout(&app, open);
    Ok(())
}

/// The centre's logo (chosen by the référent) as a data URL, or nothing.
#[tauri::command]
pub async fn portal_logo(webview: Webview, app: AppHandle) -> Result<Option<String>> {
    use base64::Engine;
    caller_is(&webview, &[CONTENT, TOOLBAR])?;
    off_main(&app, |kiosk| {
        [("png", "image/png"), ("jpg", "image/jpeg"), ("svg", "image/svg+xml")].into_iter().find_map(|(ext, mime)| {
            let bytes = std::fs::read(kiosk.paths.state_dir.join(format!("logo.{ext}"))).ok()?;
            Some(format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)))
        })
    })
    .await
}

/// "Imprimer" or `window.print()`: makes the PDF of what the content view shows, for the toolbar's
/// French dialog (pages, what is left of the session's quota). Never GTK's dialog.
///
/// With `document` (« Imprimer » in « Mes documents »), that session PDF is printed as it is.
#[tauri::command]
pub async fn print_prepare(webview: Webview, app: AppHandle, document: Option<String>) -> Result<printing::Prepared> {
    caller_is(&webview, &[TOOLBAR])?;
    let (printer, quota) = app
        .state::<Kiosk>()
        .loaded
        .read()
        .map(|l| (l.settings.printing.printer.clone(), l.settings.printing.page_quota))
        .map_err(|_| CommandError { code: "internal" })?;
    if printer.is_none() {
        return Err(CommandError { code: Refusal::NoPrinter.code() });
    }
    if let Some(id) = document {
        return off_main(&app, move |kiosk| {
            let file = crate::documents::session_file(kiosk, &id).ok_or(CommandError { code: "document-gone" })?;
            if borne_core::documents::sniff_file(&file) != borne_core::documents::Kind::Pdf {
                return Err(CommandError { code: "not-printable" });
            }
            printing::prepared(kiosk, file, String::new(), quota)
        })
        .await?;
    }
    let file = pdf_of(&app, CONTENT).await?;
    let (tx, rx) = std::sync::mpsc::channel();
    printing::preview(&app, move |url| {
        let _ = tx.send(url);
    });
    let preview = tauri::async_runtime::spawn_blocking(move || rx.recv_timeout(std::time::Duration::from_secs(5)))
        .await
        .ok()
        .and_then(|r| r.ok())
        .unwrap_or_default();
    off_main(&app, move |kiosk| printing::prepared(kiosk, file, preview, quota)).await?
}

/// The PDF of what one of the two views shows, made on the main thread and waited for (30 s at most).
async fn pdf_of(app: &AppHandle, label: &'static str) -> Result<std::path::PathBuf> {
    let (tx, rx) = std::sync::mpsc::channel();
    printing::make_pdf_of(app, label, move |r| {
        let _ = tx.send(r);
    });
    let made = tauri::async_runtime::spawn_blocking(move || rx.recv_timeout(std::time::Duration::from_secs(30)))
        .await
        .map_err(|_| CommandError { code: "internal" })?
        .map_err(|_| CommandError { code: "internal" })?;
    made.map_err(|code| CommandError { code })
}

/// What a print request gave.
#[derive(Debug, Serialize)]
pub struct Printed {
    /// Pages sent to the printer.
    pub pages: u32,
    /// Pages the session may still print.
    pub left: u32,
}

/// The dialog's "Imprimer": checks the request (copies, pages, quota), the printer's state, submits
/// the job to CUPS and watches it a moment. Pages and failures are counted.
#[tauri::command]
pub async fn print_submit(webview: Webview, app: AppHandle, copies: u32, pages: Pages) -> Result<Printed> {
    caller_is(&webview, &[TOOLBAR])?;
    app.state::<Kiosk>().touch();
    submit_prepared(&app, copies, pages).await
}

/// Sends the prepared document (print dialog or help sheet) to CUPS as asked, within the session's
/// quota, and watches the job a moment. Pages and failures are counted.
async fn submit_prepared(app: &AppHandle, copies: u32, pages: Pages) -> Result<Printed> {
    let a = app.clone();
    let outcome = tauri::async_runtime::spawn_blocking(move || {
        let kiosk = a.state::<Kiosk>();
        // The pages are reserved here, under the session's lock; a job `lp` does not take gives
        // them back. The range charged is the range `lp` prints.
        let (printer, file, plan) = printing::checked_plan(&kiosk, copies, pages)?;
        let job = printing::submit(&printer, &file, &plan).inspect_err(|_| printing::give_back(&kiosk, &plan))?;
        // Kept even behind a poisoned lock: a job not listed would not be cancelled at the session's end.
        kiosk.print.lock().unwrap_or_else(std::sync::PoisonError::into_inner).jobs.push(job);
        kiosk.stats.record(borne_core::stats::Event::PagesPrinted(plan.pages()));
        printing::watch_job(&printer)?;
        Ok::<_, Refusal>(plan.pages())
    })
    .await
    .map_err(|_| CommandError { code: "internal" })?;
    let kiosk = app.state::<Kiosk>();
    match outcome {
        Ok(n) => {
            tracing::info!(pages = n, "print job submitted");
            let quota = kiosk.loaded.read().map(|l| l.settings.printing.page_quota).unwrap_or(0);
            let left = kiosk.print.lock().map(|p| p.usage.left(quota)).unwrap_or(0);
            Ok(Printed { pages: n, left })
        }
        Err(e) => {
            tracing::info!(reason = %e, "print request refused");
            if matches!(e, Refusal::Printer(_) | Refusal::Failed) {
                kiosk.stats.record(borne_core::stats::Event::PrintFailed);
            }
            Err(CommandError { code: e.code() })
        }
    }
}

/// « Mes documents »: the session's files (names, kinds, opaque ids; never a path).
#[tauri::command]
pub async fn documents_list(webview: Webview, app: AppHandle) -> Result<Vec<borne_core::documents::Listed>> {
    caller_is(&webview, &[TOOLBAR])?;
    app.state::<Kiosk>().touch();
    let found = off_main(&app, |kiosk| borne_core::documents::scan_session(&kiosk.dirs)).await?;
    Ok(crate::documents::listed(&app.state::<Kiosk>(), found))
}

/// « Ouvrir » in « Mes documents »: the document in the content view.
#[tauri::command]
pub async fn document_open(webview: Webview, app: AppHandle, id: String) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    app.state::<Kiosk>().touch();
    let id = off_main(&app, move |kiosk| {
        let file = crate::documents::session_file(kiosk, &id).ok_or(CommandError { code: "document-gone" })?;
        if borne_core::documents::sniff_file(&file) == borne_core::documents::Kind::Other {
            return Err(CommandError { code: "not-viewable" });
        }
        Ok(id)
    })
    .await??;
    crate::documents::show(&app, &id);
    Ok(())
}

/// A site's file chooser: what the person may choose (the session's files, the USB sticks'). A
/// stick that gives no list within [`USB_TIMEOUT`] is a stick that does not answer.
#[tauri::command]
pub async fn upload_list(webview: Webview, app: AppHandle) -> Result<Vec<borne_core::documents::Listed>> {
    caller_is(&webview, &[TOOLBAR])?;
    let found = off_main_within(&app, USB_TIMEOUT, |kiosk| {
        borne_core::documents::scan_upload(&kiosk.dirs, &borne_core::admin::machine::usb_sticks())
    })
    .await?
    .ok_or_else(usb_slow)?;
    Ok(crate::documents::listed(&app.state::<Kiosk>(), found))
}

/// The USB sticks did not answer in time: logged, and the person is asked to plug the stick again.
pub(crate) fn usb_slow() -> CommandError {
    tracing::warn!(secs = USB_TIMEOUT.as_secs(), "a USB stick gave no answer in time; the person is told");
    CommandError { code: "usb-slow" }
}

/// The person chose a file for the site (or cancelled, `id` null). The file is checked again now
/// (a stick may have been pulled out), off the UI thread.
#[tauri::command]
pub async fn upload_choose(webview: Webview, app: AppHandle, id: Option<String>) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    let kiosk = app.state::<Kiosk>();
    kiosk.touch();
    let file = match id {
        Some(id) => {
            let path = kiosk.documents.lock().ok().and_then(|idx| idx.path_of(&id));
            let checked = off_main_within(&app, USB_TIMEOUT, move |kiosk| {
                let sticks = borne_core::admin::machine::usb_sticks();
                path.filter(|p| borne_core::documents::still_usable(p, &kiosk.dirs, &sticks))
            })
            .await?
            .ok_or_else(usb_slow)?;
            Some(checked.ok_or(CommandError { code: "document-gone" })?)
        }
        None => None,
    };
    crate::documents::answer_chooser(&app, file);
    Ok(())
}

/// The voice's state for the toolbar: the session's volume (1 to `max`, `default` at each new
/// session).
#[derive(Debug, Serialize)]
pub struct SpeechState {
    /// The volume step now.
    pub volume: u8,
    /// The loudest step.
    pub max: u8,
    /// The step each session starts at.
    pub default: u8,
}

fn speech_state_of(kiosk: &Kiosk) -> SpeechState {
    use borne_core::speech::Volume;
    SpeechState { volume: kiosk.speech.volume().level(), max: Volume::MAX, default: Volume::DEFAULT.level() }
}

/// The voice's volume (the toolbar shows it).
#[tauri::command]
pub fn speech_state(webview: Webview, kiosk: State<'_, Kiosk>) -> Result<SpeechState> {
    caller_is(&webview, &[TOOLBAR])?;
    Ok(speech_state_of(&kiosk))
}

/// « Moins fort » / « Plus fort »: one step (`delta` -1 or 1); the next utterance uses it.
#[tauri::command]
pub fn speech_volume(webview: Webview, kiosk: State<'_, Kiosk>, delta: i8) -> Result<SpeechState> {
    caller_is(&webview, &[TOOLBAR])?;
    kiosk.touch();
    kiosk.speech.step_volume(delta.signum());
    Ok(speech_state_of(&kiosk))
}

/// Stops the voice.
#[tauri::command]
pub fn speech_stop(webview: Webview, kiosk: State<'_, Kiosk>) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    kiosk.touch();
    kiosk.speech.stop();
    Ok(())
}

/// « Écouter » in one of the toolbar's dialogs (or the countdown): its text, read in the language
/// the person chose.
#[tauri::command]
pub fn speech_say(webview: Webview, kiosk: State<'_, Kiosk>, text: String) -> Result<()> {
    use borne_core::speech::{voice_or, Utterance, MAX_PAGE_CHARS};
    caller_is(&webview, &[TOOLBAR])?;
    let lang = kiosk.language.lock().map(|l| l.clone()).unwrap_or_default();
    let u = Utterance::new(&text, MAX_PAGE_CHARS, voice_or(None, &lang), kiosk.speech.volume())
        .map_err(|e| CommandError { code: e.code() })?;
    if !kiosk.speech.say(u) {
        return Err(CommandError { code: "no-voice" });
    }
    Ok(())
}

/// « Écouter » (`what` = `page`: the kiosk page shown, or its open help sheet) and « Lire la
/// sélection » (`selection`: the text the person selected, on any page). The text is read from the
/// content view by the shell, never sent by a page.
#[tauri::command]
pub async fn speech_read(webview: Webview, app: AppHandle, what: String) -> Result<()> {
    use crate::speech::Source;
    use borne_core::speech::{voice_or, Utterance, MAX_PAGE_CHARS, MAX_SELECTION_CHARS};
    caller_is(&webview, &[TOOLBAR])?;
    let source = match what.as_str() {
        "page" => Source::Page,
        "selection" => Source::Selection,
        _ => return Err(CommandError { code: "unknown-source" }),
    };
    let kiosk_page =
        app.get_webview(CONTENT).and_then(|c| c.url().ok()).is_some_and(|u| crate::navigation::is_content_page(&u));
    if source == Source::Page && !kiosk_page {
        // A site's page is not read whole (menus, cookie banners…): the person selects what to hear.
        return Err(CommandError { code: "site-page" });
    }
    app.state::<Kiosk>().touch();
    let (tx, rx) = std::sync::mpsc::channel();
    crate::speech::read_content(&app, source, move |r| {
        let _ = tx.send(r);
    });
    let got = tauri::async_runtime::spawn_blocking(move || rx.recv_timeout(crate::speech::READ_WAIT))
        .await
        .map_err(|_| CommandError { code: "internal" })?
        .ok()
        .flatten()
        .ok_or(CommandError { code: "unreadable" })?;
    let kiosk = app.state::<Kiosk>();
    // A site's text in no marked language is taken for French (the institutions' sites are); the
    // kiosk's pages are marked in the person's language.
    let fallback = if kiosk_page { kiosk.language.lock().map(|l| l.clone()).unwrap_or_default() } else { "fr".into() };
    let (max, nothing) = match source {
        Source::Page => (MAX_PAGE_CHARS, "nothing"),
        Source::Selection => (MAX_SELECTION_CHARS, "no-selection"),
    };
    let u = Utterance::new(&got.text, max, voice_or(Some(&got.lang), &fallback), kiosk.speech.volume())
        .map_err(|_| CommandError { code: nothing })?;
    if !kiosk.speech.say(u) {
        return Err(CommandError { code: "no-voice" });
    }
    Ok(())
}
