//! A laptop borne (issue 18, nomad mode): its battery in the toolbar, and sleep.
//!
//! Sleep: when the lid closes, or anything else asks the machine to sleep, logind says so first
//! (`PrepareForSleep(true)` on the system bus). The person's session then ends and is wiped, as with
//! « Terminer », before the machine sleeps: a "delay" inhibitor lock, taken at start and again after
//! each wake, holds the sleep until the wipe is done (logind waits at most `InhibitDelayMaxSec`, 5 s
//! by default; the wipe takes well under a second). Without a system bus or logind (a development
//! machine) the kiosk logs it and goes on.
//!
//! Battery: `borne_core::power` reads the kernel's power-supply folder every [`BATTERY_EVERY`], off
//! the GTK thread; the toolbar gets the level when it changes. A desktop PC has none: nothing shown.

use std::cell::RefCell;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Mutex;
use std::time::Duration;

use borne_core::person::Event;
use borne_core::power::{self, Battery};
use borne_core::session::EndReason;
use borne_core::toolbar::ToolbarEvent;
use gio::prelude::*;
use tauri::{AppHandle, Webview};

use crate::glue::{caller_is, Result};
use crate::state::TOOLBAR;

const LOGIND: &str = "org.freedesktop.login1";
const LOGIND_PATH: &str = "/org/freedesktop/login1";
const LOGIND_MANAGER: &str = "org.freedesktop.login1.Manager";

/// The folder the battery is read from instead of the kernel's: the end-to-end suites' stand-in
/// for a laptop's `/sys/class/power_supply` (the same files, written by the test).
pub const POWER_DIR_ENV: &str = "BORNE_POWER_SUPPLY_DIR";
/// The bus logind is looked for on instead of the system bus: the end-to-end suites' private bus,
/// where a stand-in speaks logind's sleep protocol (tests/bin/logind-standin.rs; the test machine
/// has no logind, and a lid cannot close under Xvfb).
pub const LOGIND_BUS_ENV: &str = "BORNE_LOGIND_BUS";
/// How often the battery is read: a level moves about one percent a minute.
const BATTERY_EVERY: Duration = Duration::from_secs(10);

/// The last battery reading (`None`: no battery), for a toolbar that starts or reloads.
static BATTERY: Mutex<Option<Battery>> = Mutex::new(None);

thread_local! {
    /// The system bus, kept for the kiosk's life (the signal subscription lives on it).
    static SYSTEM_BUS: RefCell<Option<gio::DBusConnection>> = const { RefCell::new(None) };
}

/// Connects to the system bus (without blocking the GTK thread) and follows logind's sleep signal.
pub fn watch_sleep(app: &AppHandle) {
    let app = app.clone();
    let done = move |res: std::result::Result<gio::DBusConnection, glib::Error>| match res {
        Ok(bus) => follow_sleep(&app, bus),
        Err(e) => tracing::warn!(error = %e, "no system bus: a sleep will not end the session first"),
    };
    match std::env::var(LOGIND_BUS_ENV) {
        Ok(address) => {
            tracing::warn!(%address, "logind looked for on a TEST BUS (BORNE_LOGIND_BUS)");
            let flags =
                gio::DBusConnectionFlags::AUTHENTICATION_CLIENT | gio::DBusConnectionFlags::MESSAGE_BUS_CONNECTION;
            gio::DBusConnection::for_address(&address, flags, None, None::<&gio::Cancellable>, done);
        }
        Err(_) => gio::bus_get(gio::BusType::System, None::<&gio::Cancellable>, done),
    }
}

fn follow_sleep(app: &AppHandle, bus: gio::DBusConnection) {
    let lock: Rc<RefCell<Option<OwnedFd>>> = Rc::default();
    take_lock(&bus, &lock);
    let app = app.clone();
    let held = lock.clone();
    // Only logind's own signal: the bus daemon matches the well-known name to its owner.
    bus.signal_subscribe(
        Some(LOGIND),
        Some(LOGIND_MANAGER),
        Some("PrepareForSleep"),
        Some(LOGIND_PATH),
        None,
        gio::DBusSignalFlags::NONE,
        move |bus, _sender, _path, _iface, _signal, params| {
            let Some((going,)) = params.get::<(bool,)>() else {
                tracing::warn!(params = %params.type_(), "PrepareForSleep with unexpected arguments; ignored");
                return;
            };
            if going {
                before_sleep(&app, &held);
            } else {
                tracing::info!("the machine woke up");
                take_lock(bus, &held);
            }
        },
    );
    SYSTEM_BUS.with(|b| *b.borrow_mut() = Some(bus));
}

/// The machine goes to sleep: the session ends and is wiped (synchronously, on this GTK thread:
/// the content view is replaced and the network process's folder erased before `dispatch` returns),
/// then the lock is let go so the sleep goes on.
fn before_sleep(app: &AppHandle, lock: &Rc<RefCell<Option<OwnedFd>>>) {
    tracing::info!("the machine goes to sleep: the session ends first");
    crate::state::dispatch(app, Event::End(EndReason::Sleep));
    crate::layout::layout(app, false);
    if lock.borrow_mut().take().is_some() {
        tracing::info!("session wiped; sleep lock released");
    } else {
        tracing::warn!("session wiped, but no sleep lock was held: the machine may have slept before");
    }
}

/// Takes logind's "delay" lock on sleep (`Inhibit`), unless one is held.
fn take_lock(bus: &gio::DBusConnection, lock: &Rc<RefCell<Option<OwnedFd>>>) {
    if lock.borrow().is_some() {
        return;
    }
    let args =
        ("sleep", "Le numérique à mon service", "La session est effacée avant la mise en veille", "delay").to_variant();
    let lock = lock.clone();
    bus.call_with_unix_fd_list(
        Some(LOGIND),
        LOGIND_PATH,
        LOGIND_MANAGER,
        "Inhibit",
        Some(&args),
        Some(glib::VariantTy::new("(h)").expect("a valid variant type")),
        gio::DBusCallFlags::NONE,
        10_000,
        None::<&gio::UnixFDList>,
        None::<&gio::Cancellable>,
        move |res| match res.and_then(|(reply, fds)| {
            let index = reply.get::<(glib::variant::Handle,)>().map(|(h,)| h.0).unwrap_or(-1);
            fds.get(index)
        }) {
            Ok(raw) => {
                // SAFETY: `UnixFDList::get` returns a new descriptor (a dup) that the caller owns.
                #[allow(unsafe_code)]
                let fd = unsafe { OwnedFd::from_raw_fd(raw) };
                *lock.borrow_mut() = Some(fd);
                tracing::info!("sleep lock taken: a sleep waits for the session's wipe");
            }
            Err(e) => tracing::warn!(error = %e, "no sleep lock from logind: a sleep may come before the wipe"),
        },
    );
}

/// Reads the battery every [`BATTERY_EVERY`] on a thread of its own; the toolbar hears of changes.
pub fn watch_battery(app: &AppHandle) {
    let root = std::env::var_os(POWER_DIR_ENV).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(power::SYSFS));
    if root != std::path::Path::new(power::SYSFS) {
        tracing::warn!(dir = %root.display(), "battery read from a TEST FOLDER (BORNE_POWER_SUPPLY_DIR)");
    }
    let app = app.clone();
    let spawned = std::thread::Builder::new().name("battery".into()).spawn(move || loop {
        let now = power::read(&root);
        let changed = {
            let mut last = BATTERY.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            std::mem::replace(&mut *last, now) != now
        };
        if changed {
            match now {
                Some(b) => {
                    tracing::info!(percent = b.percent, plugged = b.plugged, low = b.low(), "battery");
                    let event = ToolbarEvent::Battery { percent: b.percent, plugged: b.plugged, low: b.low() };
                    crate::glue::emit_toolbar(&app, event);
                }
                None => tracing::info!("no battery"),
            }
        }
        std::thread::sleep(BATTERY_EVERY);
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the battery reader");
    }
}

/// The battery as the toolbar shows it (`None`: a desktop PC), at the toolbar's start.
#[derive(Debug, serde::Serialize)]
pub struct BatteryState {
    percent: u8,
    plugged: bool,
    low: bool,
}

/// The toolbar asks for the battery's level at its start (`null` without a battery).
#[tauri::command]
pub fn battery_state(webview: Webview) -> Result<Option<BatteryState>> {
    caller_is(&webview, &[TOOLBAR])?;
    let b = *BATTERY.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok(b.map(|b| BatteryState { percent: b.percent, plugged: b.plugged, low: b.low() }))
}
