//! What the kiosk's own local pages may ask of the shell. Each command is a few lines: it checks the
//! caller, then calls the core or the shell's modules. Remote origins have no capability, so they
//! cannot call any of these; [`caller_is`] checks it again.

use borne_core::session::EndReason;
use serde::Serialize;
use tauri::{AppHandle, Emitter, EventTarget, Manager, State, Webview};
use webkit2gtk::WebViewExt;

use crate::{session, Kiosk, CONTENT, TOOLBAR};

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
    let mut data =
        borne_core::catalogue::PortalData::new(&l.settings, &l.effective).with_demarches(&l.demarches, &l.effective);
    if let Ok(lang) = kiosk.language.lock() {
        if data.languages.contains(&lang) {
            data.language = lang.clone();
        }
    }
    Ok(data)
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
pub fn go_back(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>) -> Result<()> {
    caller_is(&webview, &[TOOLBAR, CONTENT])?;
    if let Some(c) = app.get_webview(CONTENT) {
        // The step back may land on the portal.
        kiosk.open_internal_gate();
        let _ = c.with_webview(|pv| {
            let wv = pv.inner();
            if wv.can_go_back() {
                wv.go_back();
            }
        });
    }
    Ok(())
}

/// "Terminer ma session", confirmed in the toolbar.
#[tauri::command]
pub fn end_session(webview: Webview, app: AppHandle) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    session::end(&app, EndReason::Button);
    crate::layout(&app, false);
    Ok(())
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
pub fn portal_logo(webview: Webview, kiosk: State<'_, Kiosk>) -> Result<Option<String>> {
    use base64::Engine;
    caller_is(&webview, &[CONTENT, TOOLBAR])?;
    for (ext, mime) in [("png", "image/png"), ("jpg", "image/jpeg"), ("svg", "image/svg+xml")] {
        if let Ok(bytes) = std::fs::read(kiosk.paths.state_dir.join(format!("logo.{ext}"))) {
            return Ok(Some(format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))));
        }
    }
    Ok(None)
}

/// "Imprimer": prints the content view on the configured printer, without GTK's dialog. The French
/// dialog with copies and pages, quotas and printer status belong to the printing work.
#[tauri::command]
pub fn print_page(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>) -> Result<()> {
    caller_is(&webview, &[TOOLBAR])?;
    let printer = kiosk.loaded.read().ok().and_then(|l| l.settings.printing.printer.clone());
    let Some(c) = app.get_webview(CONTENT) else { return Err(CommandError { code: "internal" }) };
    let app2 = app.clone();
    let _ = c.with_webview(move |pv| {
        let op = webkit2gtk::PrintOperation::new(&pv.inner());
        webkit2gtk::PrintOperationExt::connect_failed(&op, move |_, err| {
            tracing::warn!(error = %err, "print job failed");
            app2.state::<Kiosk>().stats.record(borne_core::stats::Event::PrintFailed);
        });
        let settings = gtk::PrintSettings::new();
        if let Some(p) = printer {
            settings.set_printer(&p);
        }
        webkit2gtk::PrintOperationExt::set_print_settings(&op, &settings);
        webkit2gtk::PrintOperationExt::print(&op);
        tracing::info!("page sent to the printer");
    });
    Ok(())
}
