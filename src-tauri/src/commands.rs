//! What the kiosk's own local pages may ask of the shell. Each command is a few lines: it checks the
//! caller, then calls the core or the shell's modules. Remote origins have no capability, so they
//! cannot call any of these; [`caller_is`] checks it again.

use borne_core::print::{Pages, Refusal};
use borne_core::session::EndReason;
use serde::Serialize;
use tauri::{AppHandle, Manager, State, Webview};
use webkit2gtk::{BackForwardListExt, BackForwardListItemExt, WebViewExt};

use borne_core::person::{Display, Event};
use borne_core::toolbar::ToolbarEvent;

use crate::glue::{caller_is, emit_toolbar, off_main, off_main_within, CommandError, Result, USB_TIMEOUT};
use crate::printing;
use crate::speech::Speech;
use crate::state::{dispatch, Kiosk, CONTENT, TOOLBAR};

/// The portal's data.
#[tauri::command]
pub fn portal(webview: Webview, kiosk: State<'_, Kiosk>) -> Result<borne_core::catalogue::PortalData> {
    caller_is(&webview, &[CONTENT, TOOLBAR])?;
    let l = kiosk.loaded.read().map_err(|_| CommandError::new("internal"))?;
    let lang = kiosk.session().language.clone();
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
        return Err(CommandError::new("unknown-language"));
    }
    dispatch(&app, Event::Input);
    dispatch(&app, Event::Language(code.clone()));
    if code != "fr" {
        kiosk.stats.record(borne_core::stats::Event::Language(code.clone()));
    }
    emit_toolbar(&app, ToolbarEvent::Language { lang: code });
    Ok(())
}

/// A tile was opened: counted by id (the first thing a person does opens the counted session).
#[tauri::command]
pub fn tile_opened(webview: Webview, kiosk: State<'_, Kiosk>, id: String) -> Result<()> {
    caller_is(&webview, &[CONTENT])?;
    let known = kiosk.loaded.read().map(|l| l.effective.services.iter().any(|s| s.id == id)).unwrap_or(false);
    if !known {
        return Err(CommandError::new("unknown-tile"));
    }
    dispatch(webview.app_handle(), Event::Input);
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
    if app.state::<Kiosk>().session().admin.is_open() {
        // Leaving the référent's corner always ends with a wipe.
        dispatch(&app, Event::AdminLeft("home"));
        return Ok(());
    }
    crate::portal::load_portal(&app);
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
            _ => return Err(CommandError::new("unknown-outcome")),
        };
        kiosk.stats.record(Event::Outcome(o));
    }
    dispatch(&app, Event::End(EndReason::Button));
    crate::layout::layout(&app, false);
    Ok(())
}

/// What « Terminer ma session » may offer: the session's documents not printed yet.
#[derive(Debug, Serialize)]
pub struct EndOffer {
    /// Printable documents of the session (PDFs, JPEG and PNG pictures) not sent to the printer yet.
    pub documents: usize,
    /// Their pages, one copy each.
    pub pages: u32,
    /// Pages the session may still print.
    pub left: u32,
}

/// The confirmation of « Terminer ma session » asks what to offer: « Imprimer mes documents avant
/// de partir » when the borne prints and the session holds documents not printed yet (PDFs, and
/// pictures: a scan made for a site taking pictures, a downloaded photo).
#[tauri::command]
pub async fn end_offer(webview: Webview, app: AppHandle) -> Result<EndOffer> {
    caller_is(&webview, &[TOOLBAR])?;
    let (printer, quota) = printing::printer_and_quota(&app.state::<Kiosk>()).ok_or(CommandError::new("internal"))?;
    if printer.is_none() || quota == 0 {
        return Ok(EndOffer { documents: 0, pages: 0, left: 0 });
    }
    let docs = off_main(&app, printing::unprinted).await?;
    let left = app.state::<Kiosk>().session().printing.usage.left(quota);
    Ok(EndOffer { documents: docs.len(), pages: docs.iter().map(|(_, n)| n).sum(), left })
}

/// « Imprimer mes documents avant de partir »: each document of the session not printed yet, once,
/// within the session's quota, then the wait for the sheets. The toolbar ends the session after.
#[tauri::command]
pub async fn end_print(webview: Webview, app: AppHandle) -> Result<Printed> {
    caller_is(&webview, &[TOOLBAR])?;
    dispatch(&app, Event::Input);
    let a = app.clone();
    let outcome = tauri::async_runtime::spawn_blocking(move || {
        let kiosk = a.state::<Kiosk>();
        let docs = printing::unprinted(&kiosk);
        if docs.is_empty() {
            return Err(Refusal::Empty);
        }
        printing::print_all_then_wait(&a, docs)
    })
    .await
    .map_err(|_| CommandError::new("internal"))?;
    let kiosk = app.state::<Kiosk>();
    match outcome {
        Ok(n) => {
            // Counted once for the session (the model keeps the mark until its end).
            if !kiosk.session().printed_at_end() {
                dispatch(&app, Event::PrintedAtEnd);
                kiosk.stats.record(borne_core::stats::Event::PrintedAtEnd);
            }
            let quota = kiosk.loaded.read().map(|l| l.settings.printing.page_quota).unwrap_or(0);
            Ok(Printed { pages: n, left: kiosk.session().printing.usage.left(quota) })
        }
        Err(e) => {
            tracing::info!(reason = %e, "printing before leaving refused or failed");
            if matches!(e, Refusal::Printer(_) | Refusal::Failed) {
                kiosk.stats.record(borne_core::stats::Event::PrintFailed);
            }
            Err(CommandError::new(e.code()))
        }
    }
}

/// The person's answer in the toolbar's password dialog: a user name and password for this session,
/// or nothing for « Annuler ». Never logged.
#[tauri::command]
pub fn auth_answer(webview: Webview, app: AppHandle, user: Option<String>, password: Option<String>) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    dispatch(&app, Event::Input);
    crate::auth::answer(&app, user.zip(password));
    Ok(())
}

/// "J'ai besoin d'aide" was opened: counted (the help itself is in the portal data).
#[tauri::command]
pub fn help_opened(webview: Webview, kiosk: State<'_, Kiosk>) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    dispatch(webview.app_handle(), Event::Input);
    kiosk.stats.record(borne_core::stats::Event::HelpRequest);
    Ok(())
}

/// "Imprimer cette liste" in the help dialog: the toolbar's help sheet (its print style shows the
/// sheet alone) goes to the printer, one copy, within the session's quota.
#[tauri::command]
pub async fn help_print(webview: Webview, app: AppHandle) -> Result<Printed> {
    caller_is(&webview, &[TOOLBAR])?;
    dispatch(&app, Event::Input);
    let file = pdf_of(&app, TOOLBAR).await?;
    let (file, pages) = off_main(&app, move |kiosk| printing::printable(kiosk, file))
        .await?
        .map_err(|e| CommandError::new(e.code()))?;
    app.state::<Kiosk>().session().printing.document = Some((file, pages));
    submit_prepared(&app, 1, Pages::All).await
}

/// The session's text size and contrast (each page applies it when it loads).
#[tauri::command]
pub fn display(webview: Webview, kiosk: State<'_, Kiosk>) -> Result<Display> {
    caller_is(&webview, &[CONTENT, TOOLBAR])?;
    Ok(kiosk.session().display)
}

/// The person changed the text size or the contrast: the content view is zoomed (sites too), and
/// every kiosk page is told. Both go back to normal at the end of the session.
#[tauri::command]
pub fn set_display(webview: Webview, app: AppHandle, text: u16, contrast: bool) -> Result<()> {
    caller_is(&webview, &[CONTENT, TOOLBAR])?;
    if !Display::TEXT_SIZES.contains(&text) {
        return Err(CommandError::new("bad-text-size"));
    }
    dispatch(&app, Event::Input);
    dispatch(&app, Event::Display(Display { text, contrast }));
    apply_zoom(&app, text);
    emit_toolbar(&app, ToolbarEvent::Display { text, contrast });
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
pub fn still_here(webview: Webview, app: AppHandle) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    // The countdown is hidden by the effect of this input (`Effect::IdleCancel`).
    dispatch(&app, Event::Input);
    Ok(())
}

/// The toolbar covers the whole window (dialog, countdown) or goes back to its bar.
#[tauri::command]
pub fn toolbar_overlay(webview: Webview, app: AppHandle, open: bool) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    crate::layout::layout(&app, open);
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
    let (printer, quota) = printing::printer_and_quota(&app.state::<Kiosk>()).ok_or(CommandError::new("internal"))?;
    if printer.is_none() {
        return Err(CommandError::new(Refusal::NoPrinter.code()));
    }
    // « Imprimer » on a session PDF shown in the viewer prints that PDF itself, not a picture of the
    // viewer, and counts it printed: « Terminer ma session » does not offer it again. The preview is
    // the viewer's picture of it.
    let (document, preview) = match document {
        Some(id) => (Some(id), String::new()),
        None => match shown_pdf(&app).await {
            Some(id) => (Some(id), content_preview(&app).await),
            None => (None, String::new()),
        },
    };
    if let Some(id) = document {
        return off_main(&app, move |kiosk| {
            let file = crate::documents::session_file(kiosk, &id).ok_or(CommandError::new("document-gone"))?;
            if borne_core::documents::sniff_file(&file) != borne_core::documents::Kind::Pdf {
                return Err(CommandError::new("not-printable"));
            }
            printing::prepared(kiosk, file.clone(), Some(file), preview, quota)
        })
        .await?;
    }
    let file = pdf_of(&app, CONTENT).await?;
    let preview = content_preview(&app).await;
    off_main(&app, move |kiosk| printing::prepared(kiosk, file, None, preview, quota)).await?
}

/// The print dialog's picture of the content view (empty when it cannot be made within 5 s).
async fn content_preview(app: &AppHandle) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    printing::preview(app, move |url| {
        let _ = tx.send(url);
    });
    tauri::async_runtime::spawn_blocking(move || rx.recv_timeout(std::time::Duration::from_secs(5)))
        .await
        .ok()
        .and_then(|r| r.ok())
        .unwrap_or_default()
}

/// The id of the session PDF the content view shows in the viewer, if it shows one.
async fn shown_pdf(app: &AppHandle) -> Option<String> {
    let url = app.get_webview(CONTENT)?.url().ok()?;
    let id = crate::documents::id_of(&url)?.to_owned();
    off_main(app, move |kiosk| {
        let file = crate::documents::session_file(kiosk, &id)?;
        (borne_core::documents::sniff_file(&file) == borne_core::documents::Kind::Pdf).then_some(id)
    })
    .await
    .ok()
    .flatten()
}

/// The PDF of what one of the two views shows, made on the main thread and waited for (30 s at most).
async fn pdf_of(app: &AppHandle, label: &'static str) -> Result<std::path::PathBuf> {
    let (tx, rx) = std::sync::mpsc::channel();
    printing::make_pdf_of(app, label, move |r| {
        let _ = tx.send(r);
    });
    let made = tauri::async_runtime::spawn_blocking(move || rx.recv_timeout(std::time::Duration::from_secs(30)))
        .await
        .map_err(|_| CommandError::new("internal"))?
        .map_err(|_| CommandError::new("internal"))?;
    made.map_err(CommandError::new)
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
    dispatch(&app, Event::Input);
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
        let r = printing::checked_plan(&kiosk, copies, pages)?;
        let job = printing::submit(&r.printer, &r.file, &r.plan).inspect_err(|_| printing::give_back(&kiosk, &r))?;
        // Listed in the session it was charged to, so that its end cancels it if still queued.
        printing::job_taken(&a, &r, job);
        kiosk.stats.record(borne_core::stats::Event::PagesPrinted(r.plan.pages()));
        printing::watch_job(&r.printer)?;
        Ok::<_, Refusal>(r.plan.pages())
    })
    .await
    .map_err(|_| CommandError::new("internal"))?;
    let kiosk = app.state::<Kiosk>();
    match outcome {
        Ok(n) => {
            tracing::info!(pages = n, "print job submitted");
            let quota = kiosk.loaded.read().map(|l| l.settings.printing.page_quota).unwrap_or(0);
            let left = kiosk.session().printing.usage.left(quota);
            Ok(Printed { pages: n, left })
        }
        Err(e) => {
            tracing::info!(reason = %e, "print request refused");
            if matches!(e, Refusal::Printer(_) | Refusal::Failed) {
                kiosk.stats.record(borne_core::stats::Event::PrintFailed);
            }
            Err(CommandError::new(e.code()))
        }
    }
}

/// « Mes documents »: the session's files (names, kinds, opaque ids; never a path).
#[tauri::command]
pub async fn documents_list(webview: Webview, app: AppHandle) -> Result<Vec<borne_core::documents::Listed>> {
    caller_is(&webview, &[TOOLBAR])?;
    dispatch(&app, Event::Input);
    let found = off_main(&app, |kiosk| borne_core::documents::scan_session(&kiosk.dirs)).await?;
    Ok(crate::documents::listed(&app.state::<Kiosk>(), found))
}

/// « Ouvrir » in « Mes documents »: the document in the content view.
#[tauri::command]
pub async fn document_open(webview: Webview, app: AppHandle, id: String) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    dispatch(&app, Event::Input);
    let id = off_main(&app, move |kiosk| {
        let file = crate::documents::session_file(kiosk, &id).ok_or(CommandError::new("document-gone"))?;
        if borne_core::documents::sniff_file(&file) == borne_core::documents::Kind::Other {
            return Err(CommandError::new("not-viewable"));
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
    CommandError::new("usb-slow")
}

/// The person chose a file for the site (or cancelled, `id` null). The file is checked again now
/// (a stick may have been pulled out), off the UI thread.
#[tauri::command]
pub async fn upload_choose(webview: Webview, app: AppHandle, id: Option<String>) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    let kiosk = app.state::<Kiosk>();
    dispatch(webview.app_handle(), Event::Input);
    let file = match id {
        Some(id) => {
            let path = kiosk.session().documents.path_of(&id);
            let checked = off_main_within(&app, USB_TIMEOUT, move |kiosk| {
                let sticks = borne_core::admin::machine::usb_sticks();
                path.filter(|p| borne_core::documents::still_usable(p, &kiosk.dirs, &sticks))
            })
            .await?
            .ok_or_else(usb_slow)?;
            Some(checked.ok_or(CommandError::new("document-gone"))?)
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
    SpeechState { volume: kiosk.session().volume.level(), max: Volume::MAX, default: Volume::DEFAULT.level() }
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
    dispatch(webview.app_handle(), Event::Input);
    dispatch(webview.app_handle(), Event::Volume(delta.signum()));
    Ok(speech_state_of(&kiosk))
}

/// Stops the voice.
#[tauri::command]
pub fn speech_stop(webview: Webview) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    dispatch(webview.app_handle(), Event::Input);
    webview.state::<Speech>().stop();
    Ok(())
}

/// « Écouter » in one of the toolbar's dialogs (or the countdown): its text, read in the language
/// the person chose.
#[tauri::command]
pub fn speech_say(webview: Webview, kiosk: State<'_, Kiosk>, text: String) -> Result<()> {
    use borne_core::speech::{voice_or, Utterance, MAX_PAGE_CHARS};
    caller_is(&webview, &[TOOLBAR])?;
    let lang = kiosk.session().language.clone();
    let u = Utterance::new(&text, MAX_PAGE_CHARS, voice_or(None, &lang), kiosk.session().volume)
        .map_err(|e| CommandError::new(e.code()))?;
    if !webview.state::<Speech>().say(u) {
        return Err(CommandError::new("no-voice"));
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
        _ => return Err(CommandError::new("unknown-source")),
    };
    let kiosk_page =
        app.get_webview(CONTENT).and_then(|c| c.url().ok()).is_some_and(|u| crate::portal::is_content_page(&u));
    if source == Source::Page && !kiosk_page {
        // A site's page is not read whole (menus, cookie banners…): the person selects what to hear.
        return Err(CommandError::new("site-page"));
    }
    dispatch(&app, Event::Input);
    let (tx, rx) = std::sync::mpsc::channel();
    crate::speech::read_content(&app, source, move |r| {
        let _ = tx.send(r);
    });
    let got = tauri::async_runtime::spawn_blocking(move || rx.recv_timeout(crate::speech::READ_WAIT))
        .await
        .map_err(|_| CommandError::new("internal"))?
        .ok()
        .flatten()
        .ok_or(CommandError::new("unreadable"))?;
    let kiosk = app.state::<Kiosk>();
    // A site's text in no marked language is taken for French (the institutions' sites are); the
    // kiosk's pages are marked in the person's language.
    let fallback = if kiosk_page { kiosk.session().language.clone() } else { "fr".into() };
    let (max, nothing) = match source {
        Source::Page => (MAX_PAGE_CHARS, "nothing"),
        Source::Selection => (MAX_SELECTION_CHARS, "no-selection"),
    };
    let u = Utterance::new(&got.text, max, voice_or(Some(&got.lang), &fallback), kiosk.session().volume)
        .map_err(|_| CommandError::new(nothing))?;
    if !webview.state::<Speech>().say(u) {
        return Err(CommandError::new("no-voice"));
    }
    Ok(())
}
