//! The borne restarts by itself into a new system version that waits on its other slot: the image's
//! A/B updater (kiosk-image/README.md, "Updates") installs in the background and the new version
//! starts at the next boot. Once a minute after start, then every few minutes, a thread reads the
//! updater's record; when a version waits, the local time is in the settings' reboot window
//! (`[updates] reboot_window`, at night by default), the centre is closed by its opening hours
//! (`[hours]`, when set) and nobody is using the borne (checked on the
//! main loop, as the catalogue channel does), it asks logind to reboot. The decision is
//! `borne_core::updates::reboot_due`; nothing here runs on the GTK main thread but that check.

use std::time::Duration;

use tauri::{AppHandle, Manager};

use crate::state::Kiosk;

/// First look after the kiosk started.
const FIRST: Duration = Duration::from_secs(60);
/// Then every…
const EVERY: Duration = Duration::from_secs(5 * 60);

/// Starts the watch (a thread for the life of the process).
pub fn start(app: &AppHandle) {
    let app = app.clone();
    let spawned = std::thread::Builder::new().name("system-update".into()).spawn(move || {
        std::thread::sleep(FIRST);
        loop {
            tick(&app);
            std::thread::sleep(EVERY);
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the system update watch");
    }
}

fn tick(app: &AppHandle) {
    let Some(status) = borne_core::updates::read(&borne_core::updates::record_path()) else { return };
    let Some(pending) = status.pending.clone() else { return };
    let Ok((window, hours)) =
        app.state::<Kiosk>().loaded.read().map(|l| (l.settings.updates.reboot_window, l.settings.hours.clone()))
    else {
        return;
    };
    // Never while the centre is open by its opening hours, even at night (the hours' own clock).
    let open = hours.as_ref().is_some_and(|h| h.is_open(crate::hours::now()));
    let now = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::system());
    let minute = u16::try_from(i32::from(now.hour()) * 60 + i32::from(now.minute())).unwrap_or(0);
    // Who is there is known on the main loop only.
    let (tx, rx) = std::sync::mpsc::channel();
    let a = app.clone();
    if app
        .run_on_main_thread(move || {
            let _ = tx.send(crate::catalogue_channel::nobody_is_there(&a.state::<Kiosk>()));
        })
        .is_err()
    {
        return;
    }
    let Ok(nobody_there) = rx.recv_timeout(Duration::from_secs(30)) else { return };
    if !borne_core::updates::reboot_due(Some(&status), window, minute, open, nobody_there) {
        tracing::debug!(%pending, %window, open, nobody_there, "a system version waits; not restarting now");
        return;
    }
    tracing::info!(%pending, %window, "restarting into the system version that waits (nobody is using the borne)");
    if let Err(message) = borne_core::admin::machine::power(borne_core::admin::machine::Power::Reboot) {
        tracing::warn!(%message, "logind refused the restart; the new version waits for the next power-on");
    }
}
