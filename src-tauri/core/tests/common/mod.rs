//! A D-Bus daemon of a test's own: a bus like the system bus (any name may be owned, any call made),
//! listening on a socket in a temporary folder, stopped when dropped. NetworkManager needs one to
//! run at all, and `ippeveprinter` one to start (its DNS-SD client must reach a bus, even with
//! advertising off); neither ever reaches the machine's own system bus.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running bus.
pub struct Bus {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Bus {
    /// Starts one and waits until it listens.
    pub fn start() -> Bus {
        let dir = tempfile::tempdir().expect("test set-up");
        let socket = dir.path().join("bus");
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig><type>system</type><listen>unix:path={}</listen><auth>EXTERNAL</auth>\
                 <policy context=\"default\"><allow user=\"*\"/><allow own=\"*\"/>\
                 <allow send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/></policy></busconfig>\n",
                socket.display()
            ),
        )
        .expect("test set-up");
        let child = Command::new("dbus-daemon")
            .arg("--nofork")
            .arg(format!("--config-file={}", config.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("dbus-daemon is missing: install `dbus-daemon` (.ci/deps.sh does)");
        let t0 = Instant::now();
        while !socket.exists() {
            assert!(t0.elapsed() < Duration::from_secs(10), "dbus-daemon did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Bus { child, address: format!("unix:path={}", socket.display()), _dir: dir }
    }

    /// Its address, for `DBUS_SYSTEM_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
