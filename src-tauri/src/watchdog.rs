//! systemd's watchdog. Under a unit with `WatchdogSec=` (the image's `borne-kiosk.service`, where cage
//! is the main process and `NotifyAccess=all` lets its child speak), the kiosk pings systemd from the
//! GTK main loop: a frozen UI stops the pings and systemd restarts cage and the kiosk. Without a
//! watchdog in the environment (development, end-to-end tests) nothing happens.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// How often to ping: half the period systemd gives in `WATCHDOG_USEC`; `None` without a watchdog.
pub fn interval(watchdog_usec: Option<&str>) -> Option<Duration> {
    let usec: u64 = watchdog_usec?.trim().parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

/// Sends one state line to systemd's notification socket (`NOTIFY_SOCKET`), if there is one.
pub fn notify(state: &str) -> std::io::Result<()> {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else { return Ok(()) };
    let datagram = UnixDatagram::unbound()?;
    match socket.as_encoded_bytes().strip_prefix(b"@") {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            datagram.send_to_addr(state.as_bytes(), &addr)?;
        }
        None => {
            datagram.send_to(state.as_bytes(), &socket)?;
        }
    }
    Ok(())
}

/// One ping now (the start, before the UI exists, can be slow on an old PC).
pub fn ping() {
    if std::env::var_os("WATCHDOG_USEC").is_some() {
        if let Err(e) = notify("WATCHDOG=1") {
            tracing::warn!(error = %e, "systemd watchdog ping failed");
        }
    }
}

/// Pings from the GTK main loop from now on; call on the UI thread.
pub fn start() {
    let Some(every) = interval(std::env::var("WATCHDOG_USEC").ok().as_deref()) else { return };
    tracing::info!(every_ms = u64::try_from(every.as_millis()).unwrap_or(u64::MAX), "systemd watchdog on");
    ping();
    glib::timeout_add_local(every, || {
        ping();
        glib::ControlFlow::Continue
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_is_half_the_period() {
        assert_eq!(interval(Some("90000000")), Some(Duration::from_secs(45)));
        assert_eq!(interval(Some("0")), None);
        assert_eq!(interval(Some("soon")), None);
        assert_eq!(interval(None), None);
    }

    #[test]
    fn notify_reaches_a_path_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let server = UnixDatagram::bind(&path).unwrap();
        std::env::set_var("NOTIFY_SOCKET", &path);
        notify("WATCHDOG=1").unwrap();
        std::env::remove_var("NOTIFY_SOCKET");
        let mut buf = [0u8; 64];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"WATCHDOG=1");
    }
}
