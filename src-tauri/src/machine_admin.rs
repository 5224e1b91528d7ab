//! « Réseau » and « Imprimante » in the référent's admin screens (issue 18, item 2): Wi-Fi through
//! NetworkManager (`borne_core::wifi`, allowed to the kiosk's user by the image's polkit rule) and
//! the printers CUPS finds (`borne_core::printers`, the group `lpadmin`). Every call runs nmcli or a
//! CUPS client, off the GTK thread; errors come back as codes the screens turn into French
//! (`admin.wifi.error.*`, `admin.printers.error.*`), the English cause in the log. A printer added
//! becomes the borne's printer through the settings' own checked save, never by writing a file here.

use serde::Serialize;
use tauri::{AppHandle, State, Webview};

use borne_core::printers::{Cups, Found, Installed, PrinterError, Status};

use borne_core::wifi::{Join, Link, Network, Nmcli, Security, WifiError};

use crate::glue::{off_main, CommandError, Result};
use crate::state::Kiosk;

fn wifi_err(e: &WifiError) -> CommandError {
    CommandError::new(e.code())
}

fn printer_err(e: &PrinterError) -> CommandError {
    CommandError::new(e.code())
}

/// The « Réseau » screen: the link and the networks in range.
#[derive(Debug, Serialize)]
pub struct NetworkScreen {
    /// The current link.
    pub link: Link,
    /// The networks in range (empty without a Wi-Fi card).
    pub networks: Vec<Network>,
}

/// The « Réseau » screen's data (`rescan`: « Actualiser » asks the card for a fresh scan).
#[tauri::command]
pub async fn admin_network(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    rescan: bool,
) -> Result<NetworkScreen> {
    crate::admin::unlocked(&webview, &kiosk)?;
    off_main(&app, move |_| {
        let nm = Nmcli::new();
        let link = nm.link().map_err(|e| wifi_err(&e))?;
        let networks = match nm.networks(rescan) {
            Ok(n) => n,
            Err(WifiError::NoDevice(_)) => Vec::new(),
            Err(e) => return Err(wifi_err(&e)),
        };
        Ok(NetworkScreen { link, networks })
    })
    .await?
}

/// « Rejoindre »: a network in range (its security from the list) or a hidden one (the security
/// the référent chose); the password never logged.
#[tauri::command]
pub async fn admin_network_join(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    ssid: String,
    security: Security,
    password: Option<String>,
    hidden: bool,
) -> Result<Link> {
    crate::admin::unlocked(&webview, &kiosk)?;
    off_main(&app, move |_| {
        let join = Join::new(&ssid, security, password.as_deref(), hidden).map_err(|e| wifi_err(&e))?;
        let link = Nmcli::new().join(&join).map_err(|e| wifi_err(&e))?;
        tracing::info!("Wi-Fi network joined from the admin screen");
        Ok(link)
    })
    .await?
}

/// « Oublier ce réseau ».
#[tauri::command]
pub async fn admin_network_forget(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    ssid: String,
) -> Result<()> {
    crate::admin::unlocked(&webview, &kiosk)?;
    off_main(&app, move |_| {
        Nmcli::new().forget(&ssid).map_err(|e| wifi_err(&e))?;
        tracing::info!("Wi-Fi network forgotten from the admin screen");
        Ok(())
    })
    .await?
}

/// The « Imprimante » screen: the queues CUPS has (the borne's first, with its state).
#[derive(Debug, Serialize)]
pub struct PrinterScreen {
    /// The borne's printer (`[printing] printer`), if one is set.
    pub current: Option<String>,
    /// Its state in words, or why it cannot be read (`gone`…).
    pub status: Option<Status>,
    /// The error code of reading its state, if any.
    pub status_error: Option<&'static str>,
    /// The queues CUPS has.
    pub installed: Vec<Installed>,
}

fn current_printer(kiosk: &Kiosk) -> Option<String> {
    kiosk.loaded.read().ok().and_then(|l| l.settings.printing.printer.clone())
}

/// The « Imprimante » screen's data.
#[tauri::command]
pub async fn admin_printers(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>) -> Result<PrinterScreen> {
    crate::admin::unlocked(&webview, &kiosk)?;
    off_main(&app, |kiosk| {
        let cups = Cups::new();
        let current = current_printer(kiosk);
        let (status, status_error) = match &current {
            Some(name) => match cups.status(name) {
                Ok(s) => (Some(s), None),
                Err(e) => (None, Some(e.code())),
            },
            None => (None, None),
        };
        let installed = cups.installed().map_err(|e| printer_err(&e))?;
        Ok(PrinterScreen { current, status, status_error, installed })
    })
    .await?
}

/// « Chercher les imprimantes »: what CUPS finds on USB and the network (seconds).
#[tauri::command]
pub async fn admin_printers_discover(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>) -> Result<Vec<Found>> {
    crate::admin::unlocked(&webview, &kiosk)?;
    off_main(&app, |_| Cups::new().discover().map_err(|e| printer_err(&e))).await?
}

/// « Choisir cette imprimante »: adds it to CUPS (driverless first) and makes it the borne's printer
/// through the settings' checked save. The name of the queue made. The page names the printer by
/// its address only; it must be one CUPS finds now (nothing the page makes up reaches `lpadmin`).
#[tauri::command]
pub async fn admin_printers_add(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    uri: String,
) -> Result<String> {
    crate::admin::unlocked(&webview, &kiosk)?;
    add(&app, move |cups| {
        let found = cups.discover().map_err(|e| printer_err(&e))?;
        found.into_iter().find(|f| f.uri == uri).ok_or_else(|| {
            tracing::info!("the printer chosen is no longer found");
            CommandError::new("not-reachable")
        })
    })
    .await
}

/// « Ajouter par son adresse »: a network printer the network does not announce, by its IPP
/// address (`Found::by_address` refuses anything else); then as [`admin_printers_add`].
#[tauri::command]
pub async fn admin_printers_add_address(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    address: String,
) -> Result<String> {
    crate::admin::unlocked(&webview, &kiosk)?;
    add(&app, move |_| Found::by_address(&address).map_err(|e| printer_err(&e))).await
}

/// Adds the printer `pick` gives and makes it the borne's printer.
async fn add(app: &AppHandle, pick: impl FnOnce(&Cups) -> Result<Found> + Send + 'static) -> Result<String> {
    let added = off_main(app, move |_| {
        let cups = Cups::new();
        let found = pick(&cups)?;
        cups.add(&found).map_err(|e| printer_err(&e))
    })
    .await??;
    tracing::info!(queue = %added.name, "printer added from the admin screen");
    let reply = crate::admin::set_printer(app, &added.name).await?;
    if !reply.ok {
        tracing::warn!("the printer added could not be saved as the borne's printer");
        return Err(CommandError::new("other"));
    }
    Ok(added.name)
}

/// « Imprimer une page de test » on the borne's printer: the job id.
#[tauri::command]
pub async fn admin_printers_test_page(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>) -> Result<String> {
    crate::admin::unlocked(&webview, &kiosk)?;
    off_main(&app, |kiosk| {
        let name = current_printer(kiosk).ok_or(CommandError::new("no-printer"))?;
        let centre = kiosk.loaded.read().map(|l| l.settings.centre.name.clone()).unwrap_or_default();
        let job = Cups::new().print_test_page(&name, &centre).map_err(|e| printer_err(&e))?;
        tracing::info!("test page sent from the admin screen");
        Ok(job)
    })
    .await?
}

/// « Relancer l'imprimante ».
#[tauri::command]
pub async fn admin_printers_resume(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>) -> Result<()> {
    crate::admin::unlocked(&webview, &kiosk)?;
    off_main(&app, |kiosk| {
        let name = current_printer(kiosk).ok_or(CommandError::new("no-printer"))?;
        Cups::new().resume(&name).map_err(|e| printer_err(&e))
    })
    .await?
}
