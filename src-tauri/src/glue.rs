//! Small tools every module of the shell uses: the one error shape the pages receive, running work
//! off the GTK main thread, checking a command's caller, telling the toolbar, restarting the kiosk.
//! Imports only [`crate::state`].

use serde::Serialize;
use tauri::{AppHandle, Emitter, EventTarget, Manager, Webview};

use borne_core::toolbar::ToolbarEvent;

use crate::state::{Kiosk, CONTENT, TOOLBAR};

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

/// What a command answers.
pub type Result<T> = std::result::Result<T, CommandError>;

/// How long the USB sticks may take to be listed or checked before the person is told that the
/// stick does not answer (`documents.error.usb-slow`).
pub const USB_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs `work` on the async runtime's pool for blocking work, off the GTK main thread (which also
/// feeds systemd's watchdog): files, USB sticks, SQLite, PIN hashing, external commands.
pub async fn off_main<T: Send + 'static>(
    app: &AppHandle,
    work: impl FnOnce(&Kiosk) -> T + Send + 'static,
) -> Result<T> {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || work(app.state::<Kiosk>().inner()))
        .await
        .map_err(|_| CommandError::new("internal"))
}

/// [`off_main`] within `limit`: `None` when the work has not ended by then. It goes on in the
/// background (a read stuck on a dying USB stick cannot be interrupted) and its result is dropped.
pub async fn off_main_within<T: Send + 'static>(
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
        .map_err(|_| CommandError::new("internal"))
}

/// The caller is one of the kiosk's local pages, in one of the expected webviews.
pub fn caller_is(webview: &Webview, labels: &[&str]) -> Result<()> {
    let url = webview.url().map_err(|_| CommandError::new("forbidden"))?;
    let local = url.scheme() == "tauri" && url.host_str() == Some("localhost");
    if local && labels.contains(&webview.label()) {
        Ok(())
    } else {
        tracing::warn!(label = webview.label(), "command refused: caller is not a local page");
        Err(CommandError::new("forbidden"))
    }
}

/// Sends an event to the toolbar (and to the content view for those the portal follows too).
pub fn emit_toolbar(app: &AppHandle, event: ToolbarEvent) {
    use borne_core::toolbar::EVENT;
    // The portal also follows the text size and the network state.
    if event.also_to_content() {
        let _ = app.emit_to(EventTarget::webview(CONTENT), EVENT, &event);
    }
    let _ = app.emit_to(EventTarget::webview(TOOLBAR), EVENT, event);
}

/// Restarts the kiosk: under systemd (`BORNE_SUPERVISED` set by the unit) exiting is enough, the
/// unit starts it again; elsewhere the program starts itself again with the same arguments.
pub fn restart(app: &tauri::AppHandle) {
    if std::env::var_os("BORNE_SUPERVISED").is_none() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        match std::env::current_exe().and_then(|exe| std::process::Command::new(exe).args(args).spawn()) {
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "cannot start the kiosk again"),
        }
    }
    app.exit(0);
}
