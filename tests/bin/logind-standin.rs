//! logind's sleep protocol on a private bus, for the end-to-end suites (tests/e2e/laptop.test.mjs):
//! this machine has no logind, and a lid cannot be closed under Xvfb. It owns
//! `org.freedesktop.login1` on the bus named by `DBUS_SYSTEM_BUS_ADDRESS` and speaks the part of
//! `org.freedesktop.login1.Manager` the kiosk uses, as logind does (systemd's
//! `org.freedesktop.login1(5)`):
//! - `Inhibit(what, who, why, mode) -> h`: a lock, held while the caller keeps the descriptor open;
//! - the signal `PrepareForSleep(b)`: `true` before a sleep, `false` after the wake.
//!
//! Driven by lines on stdin, it tells what happens on stdout, a line each:
//! - `sleep`: emits `PrepareForSleep(true)`, then waits for every "delay" lock on sleep to be let
//!   go, at most 5 s (logind's default `InhibitDelayMaxSec`), and says `slept <ms>` (all let go
//!   after that long) or `slept-timeout` (logind would have slept anyway);
//! - `wake`: emits `PrepareForSleep(false)` and says `woke`.
//!
//! It says `ready` once it owns the name, `inhibit <what> <mode> <who>` for each lock taken, and
//! `released <what> <mode>` when its holder closes it.

use std::io::{BufRead, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use gio::prelude::*;

const NAME: &str = "org.freedesktop.login1";
const PATH: &str = "/org/freedesktop/login1";
const MANAGER: &str = "org.freedesktop.login1.Manager";
const INTERFACE: &str = r#"<node>
  <interface name="org.freedesktop.login1.Manager">
    <method name="Inhibit">
      <arg name="what" type="s" direction="in"/>
      <arg name="who" type="s" direction="in"/>
      <arg name="why" type="s" direction="in"/>
      <arg name="mode" type="s" direction="in"/>
      <arg name="fd" type="h" direction="out"/>
    </method>
    <signal name="PrepareForSleep"><arg name="start" type="b"/></signal>
  </interface>
</node>"#;
/// logind's default `InhibitDelayMaxSec`.
const DELAY_MAX: Duration = Duration::from_secs(5);

/// "Delay" locks on sleep held now.
#[derive(Default)]
struct Locks {
    held: Mutex<u32>,
    changed: Condvar,
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn main() {
    let bus = match gio::bus_get_sync(gio::BusType::System, None::<&gio::Cancellable>) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("logind-standin: no bus at DBUS_SYSTEM_BUS_ADDRESS: {e}");
            std::process::exit(2);
        }
    };
    let info = gio::DBusNodeInfo::for_xml(INTERFACE).expect("the interface's XML parses");
    let iface = info.lookup_interface(MANAGER).expect("the interface is in the XML");
    let locks = Arc::new(Locks::default());
    let l = locks.clone();
    bus.register_object(
        PATH,
        &iface,
        move |_bus, _sender, _path, _iface, method, params, invocation| {
            if method != "Inhibit" {
                invocation.return_dbus_error("org.freedesktop.DBus.Error.UnknownMethod", method);
                return;
            }
            let Some((what, who, _why, mode)) = params.get::<(String, String, String, String)>() else {
                invocation.return_dbus_error("org.freedesktop.DBus.Error.InvalidArgs", "Inhibit(ssss)");
                return;
            };
            let (mine, theirs) = match UnixStream::pair() {
                Ok(p) => p,
                Err(e) => {
                    invocation.return_dbus_error("org.freedesktop.DBus.Error.Failed", &e.to_string());
                    return;
                }
            };
            let delay = mode == "delay" && what.split(':').any(|w| w == "sleep");
            if delay {
                *l.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
            }
            say(&format!("inhibit {what} {mode} {who}"));
            let l2 = l.clone();
            std::thread::spawn(move || {
                // The lock lasts until the holder closes its end (read gives 0, or an error).
                let mut mine = mine;
                let mut buf = [0u8; 16];
                while matches!(mine.read(&mut buf), Ok(n) if n > 0) {}
                if delay {
                    let mut held = l2.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    *held = held.saturating_sub(1);
                    l2.changed.notify_all();
                }
                say(&format!("released {what} {mode}"));
            });
            let fds = gio::UnixFDList::from_array([theirs]);
            invocation.return_value_with_unix_fd_list(Some(&(glib::variant::Handle(0),).to_variant()), Some(&fds));
        },
        |_, _, _, _, _| glib::Variant::from(()),
        |_, _, _, _, _, _| false,
    )
    .expect("the object registers");
    let main_loop = glib::MainLoop::new(None, false);
    let ml = main_loop.clone();
    let _owner = gio::bus_own_name_on_connection(
        &bus,
        NAME,
        gio::BusNameOwnerFlags::NONE,
        |_, _| say("ready"),
        move |_, name| {
            eprintln!("logind-standin: lost or could not own {name}");
            ml.quit();
        },
    );
    let emitter = bus.clone();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            match line.trim() {
                "sleep" => {
                    emit(&emitter, true);
                    let start = Instant::now();
                    let held = locks.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let (held, wait) = locks
                        .changed
                        .wait_timeout_while(held, DELAY_MAX, |n| *n > 0)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    drop(held);
                    if wait.timed_out() {
                        say("slept-timeout");
                    } else {
                        say(&format!("slept {}", start.elapsed().as_millis()));
                    }
                }
                "wake" => {
                    emit(&emitter, false);
                    say("woke");
                }
                other => eprintln!("logind-standin: unknown command {other:?}"),
            }
        }
        std::process::exit(0);
    });
    main_loop.run();
}

fn emit(bus: &gio::DBusConnection, start: bool) {
    if let Err(e) = bus.emit_signal(None, PATH, MANAGER, "PrepareForSleep", Some(&(start,).to_variant())) {
        eprintln!("logind-standin: cannot emit PrepareForSleep({start}): {e}");
    }
}
