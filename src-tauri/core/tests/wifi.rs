//! « Réseau » against a real NetworkManager: the test starts its own D-Bus daemon (a bus of its own,
//! on a socket in a temporary folder) and its own NetworkManager on it, in a network namespace of its
//! own (it sees only a loopback, so it can touch none of the machine's interfaces) and a mount
//! namespace where `/run/NetworkManager` and `/var/lib/NetworkManager` are empty RAM folders. Its
//! keyfile folder is the test's, 0700, as the image's `/var/lib/borne-state/system/network` is.
//! Real nmcli, real NetworkManager, no Wi-Fi card: profiles are saved with their password where
//! NetworkManager keeps them, read back, refused at activation (« no Wi-Fi card »), forgotten; the
//! first-boot setup's keyfile is read by NetworkManager as this module reads profiles.
//!
//! Needs `NetworkManager`, `nmcli` (Debian's `network-manager`), `dbus-daemon` and `unshare`
//! (`.ci/deps.sh` installs them): without them the tests fail, saying so. Starting a NetworkManager
//! needs root and namespaces: without them the tests that need one say loudly that they did not
//! run. What needs a Wi-Fi card is left for the image's qemu test (see `borne_core::wifi`).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use borne_core::wifi::{Join, Nmcli, Security, WifiError, WifiState};

/// A NetworkManager of the test's own, on its own bus; stopped when dropped.
struct Manager {
    child: Child,
    keyfiles: PathBuf,
    bus: common::Bus,
    _dir: tempfile::TempDir,
}

impl Drop for Manager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Manager {
    fn nmcli(&self) -> Nmcli {
        Nmcli::new().system_bus(self.bus.address())
    }

    /// The profiles in NetworkManager's keyfile folder.
    fn keyfiles(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> =
            std::fs::read_dir(&self.keyfiles).expect("test set-up").map(|e| e.expect("test set-up").path()).collect();
        v.sort();
        v
    }
}

fn require(program: &str, package: &str) {
    let found =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file())).unwrap_or(false)
            || Path::new("/usr/sbin").join(program).is_file();
    assert!(
        found,
        "{program} is missing: these tests drive a real NetworkManager. Install `{package}` (.ci/deps.sh does)."
    );
}

/// Why a NetworkManager cannot be started here, if it cannot.
fn cannot_start() -> Option<String> {
    require("NetworkManager", "network-manager");
    require("nmcli", "network-manager");
    require("dbus-daemon", "dbus-daemon");
    require("unshare", "util-linux");
    let uid = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if !uid.is_ok_and(|u| u == "0") {
        return Some("not root: NetworkManager runs as root".into());
    }
    let ns = Command::new("unshare").args(["-m", "-n", "true"]).status();
    if !ns.is_ok_and(|s| s.success()) {
        return Some("`unshare -m -n` refused: no mount or network namespaces here".into());
    }
    None
}

/// Starts a NetworkManager on a bus of its own, with `keyfiles` already holding these profiles.
fn manager(profiles: &[(&str, String)]) -> Option<Manager> {
    if let Some(why) = cannot_start() {
        eprintln!("\n*** NOT RUN: a real NetworkManager cannot be started here ({why}). ***\n");
        return None;
    }
    let dir = tempfile::tempdir().expect("test set-up");
    let bus = common::Bus::start();
    let keyfiles = dir.path().join("system-network");
    std::fs::create_dir(&keyfiles).expect("test set-up");
    std::fs::set_permissions(&keyfiles, std::fs::Permissions::from_mode(0o700)).expect("test set-up");
    for (name, text) in profiles {
        let p = keyfiles.join(name);
        std::fs::write(&p, text).expect("test set-up");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("test set-up");
    }
    let conf = dir.path().join("NetworkManager.conf");
    // The image's keyfile folder setting, and nothing touched: every device unmanaged, no DNS.
    std::fs::write(
        &conf,
        format!(
            "[main]\nplugins=keyfile\nno-auto-default=*\ndns=none\nrc-manager=unmanaged\nauth-polkit=false\n\n\
             [keyfile]\npath={}\nunmanaged-devices=*\n\n[logging]\nlevel=WARN\n",
            keyfiles.display()
        ),
    )
    .expect("test set-up");
    for sub in ["conf.d", "system.d"] {
        std::fs::create_dir(dir.path().join(sub)).expect("test set-up");
    }
    // The mount points of its RAM folders (Debian's package makes the second; both stay empty here).
    std::fs::create_dir_all("/run/NetworkManager").expect("test set-up");
    let d = dir.path().display();
    let script = format!(
        "mount -t tmpfs tmpfs /run/NetworkManager && mount -t tmpfs tmpfs /var/lib/NetworkManager && \
         exec NetworkManager --no-daemon --config={d}/NetworkManager.conf --config-dir={d}/conf.d \
         --system-config-dir={d}/system.d --intern-config={d}/intern.conf --state-file={d}/state"
    );
    std::fs::create_dir_all("/var/lib/NetworkManager").expect("test set-up");
    let log = std::fs::File::create(dir.path().join("NetworkManager.log")).expect("test set-up");
    let child = Command::new("unshare")
        .args(["-m", "-n", "--", "sh", "-c", &script])
        .env("DBUS_SYSTEM_BUS_ADDRESS", bus.address())
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("test set-up"))
        .stderr(log)
        .spawn()
        .expect("test set-up: unshare");
    let m = Manager { child, keyfiles, bus, _dir: dir };
    let t0 = Instant::now();
    loop {
        // (`STARTUP` never says `started` here: with every device unmanaged it stays `starting`.)
        let up = Command::new("nmcli")
            .args(["-t", "-f", "RUNNING", "general"])
            .env("DBUS_SYSTEM_BUS_ADDRESS", m.bus.address())
            .output()
            .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "running");
        if up {
            return Some(m);
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "NetworkManager did not start: {}",
            std::fs::read_to_string(m._dir.path().join("NetworkManager.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn strings(lang: &str) -> serde_json::Map<String, serde_json::Value> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../ui/i18n/{lang}.json"));
    serde_json::from_str(&std::fs::read_to_string(p).expect("test set-up")).expect("test set-up")
}

fn french(code: &str) -> String {
    strings("fr")[&format!("admin.wifi.error.{code}")].as_str().expect("test set-up").to_owned()
}

#[test]
fn a_network_is_saved_with_its_password_where_networkmanager_keeps_it_and_forgotten() {
    let Some(m) = manager(&[]) else { return };
    let n = m.nmcli();
    // No Wi-Fi card: the link says so, the list and the join too.
    let link = n.link().unwrap();
    assert_eq!((link.wifi, link.device.as_deref(), link.wired), (WifiState::NoDevice, None, false));
    let e = n.networks(true).unwrap_err();
    assert_eq!(e.code(), "no-device");
    assert!(french(e.code()).contains("Wi-Fi"), "{}", french(e.code()));

    // A hidden WPA3 network whose name and password hold nmcli's separators.
    let ssid = "Café:Wi\\Fi";
    let password = "pa:ss\\word 12";
    let join = Join::new(ssid, Security::Wpa3Personal, Some(password), true).unwrap();
    let uuid = n.save(&join).unwrap();
    let files = m.keyfiles();
    assert_eq!(files.len(), 1, "{files:?}");
    let meta = std::fs::metadata(&files[0]).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "written by NetworkManager for root alone");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    for line in [&format!("uuid={uuid}"), "key-mgmt=sae", "psk=pa:ss\\\\word 12", "hidden=true"] {
        assert!(text.lines().any(|l| l == line), "{line} missing in:\n{text}");
    }
    // Joins by itself from now on (`autoconnect=true` is the keyfile's default, left out).
    assert!(!text.contains("autoconnect=false"), "{text}");
    let saved = n.saved().unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!((saved[0].ssid.as_str(), saved[0].uuid.as_str()), (ssid, uuid.as_str()));
    assert_eq!(saved[0].name, "borne-wifi Café:Wi\\Fi");

    // Joining it: no card to join with. The profile the join made is gone, the saved one stays.
    let e = n.join(&join).unwrap_err();
    assert!(matches!(&e, WifiError::NoDevice(why) if why.contains("No suitable device")), "{e:?}");
    assert_eq!(n.saved().unwrap().len(), 1);
    assert_eq!(m.keyfiles().len(), 1);

    // An open network: no security section at all.
    let open = Join::new("Mairie", Security::Open, None, false).unwrap();
    n.save(&open).unwrap();
    let text = std::fs::read_to_string(
        m.keyfiles().into_iter().find(|p| p.to_string_lossy().contains("Mairie")).expect("the open profile"),
    )
    .unwrap();
    assert!(!text.contains("[wifi-security]") && text.contains("ssid=Mairie"), "{text}");

    // Forgetting deletes NetworkManager's file; forgetting again says it is not saved.
    n.forget(ssid).unwrap();
    n.forget("Mairie").unwrap();
    assert!(m.keyfiles().is_empty(), "{:?}", m.keyfiles());
    assert!(n.saved().unwrap().is_empty());
    assert_eq!(n.forget(ssid).unwrap_err(), WifiError::NotSaved(ssid.into()));
}

/// The first-boot setup's keyfile (`borne_core::setup::wifi_keyfile`, written as root), as
/// NetworkManager reads it: a saved network of this module's, its password where NetworkManager
/// keeps secrets, forgotten like the others.
fn setup_keyfile_read_back(ssid: &str, password: &str) {
    let setup = borne_core::setup::Wifi { ssid: ssid.into(), password: Some(password.into()) };
    let keyfile = borne_core::setup::wifi_keyfile(&setup, "0b0f8a5e-7f0c-4d43-9a64-6b7c2e1d9f10");
    let Some(m) = manager(&[("borne-wifi.nmconnection", keyfile)]) else { return };
    let n = m.nmcli();
    let saved = n.saved().expect("profiles listed");
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(
        (saved[0].ssid.as_str(), saved[0].name.as_str(), saved[0].uuid.as_str()),
        (ssid, "borne-wifi", "0b0f8a5e-7f0c-4d43-9a64-6b7c2e1d9f10")
    );
    // Read a few times: once in some twenty runs, the first read right after NetworkManager
    // started came back empty (and no error).
    let read_psk = || {
        let o = Command::new("nmcli")
            .args(["-s", "-g", "802-11-wireless-security.psk", "connection", "show", "uuid", &saved[0].uuid])
            .env("DBUS_SYSTEM_BUS_ADDRESS", m.bus.address())
            .output()
            .expect("nmcli runs");
        (
            borne_core::wifi::unescape_value(&String::from_utf8_lossy(&o.stdout)),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let mut psk = read_psk();
    for _ in 0..10 {
        if psk.0 == password {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        psk = read_psk();
    }
    assert_eq!(psk.0, password, "{}", psk.1);
    n.forget(ssid).expect("forgotten");
    assert!(m.keyfiles().is_empty());
}

#[test]
fn the_setups_keyfile_is_a_saved_network_here() {
    setup_keyfile_read_back("Salle;2 \\ étage", "mot de\\passe 2");
}

/// `setup::wifi_keyfile` once wrote a `;` of the password as `\;`: GKeyFile knows that escape in
/// lists only, so NetworkManager dropped the whole value and the profile had no password (nmcli read
/// back an empty psk). The password is now written as a plain string.
#[test]
fn a_setup_password_with_a_semicolon_reaches_networkmanager() {
    setup_keyfile_read_back("Tilleuls", "mot;de passe");
}

#[test]
fn networkmanager_stopped_or_no_bus_at_all_is_said_so() {
    // No bus at all (a path where none listens): real nmcli, real answer.
    let gone = Nmcli::new().system_bus("unix:path=/nonexistent/borne-test-bus");
    let e = gone.link().unwrap_err();
    assert_eq!(e.code(), "nm-not-running", "{e:?}");
    assert!(e.to_string().contains("Could not create NMClient object"), "{e}");
    assert_eq!(
        french(e.code()),
        "Le service réseau de l'ordinateur ne répond pas. Redémarrez la borne ; si cela continue, contactez la fédération."
    );
    // A bus, and no NetworkManager on it (stopped).
    let Some(mut m) = manager(&[]) else { return };
    let _ = m.child.kill();
    let _ = m.child.wait();
    let e = m.nmcli().link().unwrap_err();
    assert_eq!(e, WifiError::NotRunning("Error: NetworkManager is not running.".into()));
}
