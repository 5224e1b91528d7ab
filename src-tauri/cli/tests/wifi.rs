//! `bornectl wifi` as the federation runs it over SSH, against a stand-in `nmcli` first on `PATH`
//! that answers as NetworkManager 1.42 does with a Wi-Fi card in range of two networks (one saved)
//! and records its command lines and what its editor read. What this checks is bornectl's part: the
//! words people read, the exit codes, where the password goes. NetworkManager itself is driven for
//! real by borne-core's tests (`src-tauri/core/tests/wifi.rs`) and, with a simulated radio and an
//! access point, by the image's boot test (`kiosk-image/test-boot.py`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

/// A folder with the stand-in nmcli; `wrong` makes every activation fail as a wrong password does.
struct FakeNm {
    dir: tempfile::TempDir,
}

impl FakeNm {
    fn new(wrong_password: bool) -> FakeNm {
        let dir = tempfile::tempdir().expect("test set-up");
        let log = dir.path().join("args");
        let stdin = dir.path().join("stdin");
        let up = if wrong_password {
            "echo 'Error: Connection activation failed: (7) Secrets were required, but not provided.' >&2; exit 4"
        } else {
            "echo 'Connection successfully activated (D-Bus active path: /org/freedesktop/NetworkManager/ActiveConnection/3)'"
        };
        let script = format!(
            r#"#!/bin/sh
echo "$*" >> '{log}'
case "$*" in
  *"-f WIFI-HW,WIFI,CONNECTIVITY general"*) echo 'enabled:enabled:limited';;
  *"device status"*) printf 'wlan0:wifi:connected:borne-wifi Tilleuls\nlo:loopback:unmanaged:\n';;
  *"-f IP4.ADDRESS,IP4.GATEWAY device show"*) printf 'IP4.ADDRESS[1]:192.168.77.50/24\nIP4.GATEWAY:192.168.77.1\n';;
  *"device wifi list"*) printf '*:Tilleuls:100:WPA2\n :Café\\:Gare:42:\n';;
  *"-f NAME,UUID,TYPE connection show"*) echo 'borne-wifi Tilleuls:3f2b7c1e-0d6a-4c59-9e3a-2b8f6d1c0a11:802-11-wireless';;
  *"-g 802-11-wireless.ssid"*) echo 'Tilleuls';;
  *"connection add"*) echo "Connection 'borne-wifi x' (71549ce0-ce14-4eac-ad70-2b5104730ed8) successfully added.";;
  *"connection edit"*) cat > '{stdin}';;
  *"-s -g 802-11-wireless-security.psk"*) sed -n 's/^set 802-11-wireless-security.psk //p' '{stdin}';;
  *"connection up"*) {up};;
  *"connection modify"*) ;;
  *"connection delete"*) echo "Connection deleted.";;
  *) echo "unexpected: $*" >&2; exit 2;;
esac
"#,
            log = log.display(),
            stdin = stdin.display(),
        );
        let nmcli = dir.path().join("nmcli");
        std::fs::write(&nmcli, script).expect("test set-up");
        std::fs::set_permissions(&nmcli, std::fs::Permissions::from_mode(0o755)).expect("test set-up");
        FakeNm { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Every command line nmcli was given.
    fn args(&self) -> String {
        std::fs::read_to_string(self.path("args")).unwrap_or_default()
    }

    /// Runs `bornectl wifi ARGS` with `input` on stdin; (exit code, stdout, stderr).
    fn bornectl(&self, args: &[&str], input: &str) -> (i32, String, String) {
        let path = format!("{}:{}", self.dir.path().display(), std::env::var("PATH").unwrap_or_default());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bornectl"));
        cmd.arg("wifi").args(args).env("PATH", path).env("BORNE_LOG", "info");
        common::run(cmd, input)
    }
}

#[test]
fn status_and_list_say_the_link_and_the_networks_in_the_screens_words() {
    let nm = FakeNm::new(false);
    let (code, out, err) = nm.bornectl(&["status"], "");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out,
        "Connectée au Wi-Fi « Tilleuls ».\nCarte Wi-Fi : wlan0\nAdresse : 192.168.77.50/24\nPasserelle : 192.168.77.1\n\
         Réseau sans accès à Internet.\n"
    );
    let (code, out, err) = nm.bornectl(&["list", "--rescan"], "");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out,
        "Réseaux Wi-Fi à portée :\n* Tilleuls : WPA2 (mot de passe), signal 100 %, utilisé maintenant, enregistré\n\
         - Café:Gare : Sans mot de passe, signal 42 %\n"
    );
    assert!(nm.args().contains("device wifi list --rescan yes"), "{}", nm.args());
    let (code, out, _) = nm.bornectl(&["status", "--json"], "");
    assert_eq!(code, 0);
    let link: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(link["ssid"], "Tilleuls");
    assert_eq!(link["wifi"], "connected");
    assert_eq!(link["addresses"][0], "192.168.77.50/24");
}

#[test]
fn a_wrong_password_is_said_in_french_logged_in_english_and_leaves_no_profile() {
    let nm = FakeNm::new(true);
    let (code, out, err) = nm.bornectl(&["join", "Tilleuls", "--password-stdin"], "mauvais-mot\n");
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(
            "Le mot de passe du Wi-Fi n'est pas le bon. Vérifiez-le (majuscules, chiffres, signes) et recommencez."
        ),
        "{err}"
    );
    assert!(err.contains("bornectl wifi failed") && err.contains("code=\"wrong-password\""), "{err}");
    let args = nm.args();
    assert!(!args.contains("mauvais-mot") && !out.contains("mauvais-mot") && !err.contains("mauvais-mot"));
    // The scan gave its security (WPA2: wpa-psk); the profile made for the failed join is deleted.
    assert!(args.contains("802-11-wireless.hidden no 802-11-wireless-security.key-mgmt wpa-psk"), "{args}");
    assert!(args.trim_end().ends_with("connection delete uuid 71549ce0-ce14-4eac-ad70-2b5104730ed8"), "{args}");
    assert_eq!(
        std::fs::read_to_string(nm.path("stdin")).expect("the editor got the password"),
        "set 802-11-wireless-security.psk mauvais-mot\nsave persistent\nquit\n"
    );
}

#[test]
fn the_right_password_from_a_file_joins_and_says_the_link() {
    let nm = FakeNm::new(false);
    let psk = nm.path("psk");
    std::fs::write(&psk, "bonne-cle-2026\n").expect("test set-up");
    let (code, out, err) = nm.bornectl(&["join", "Tilleuls", "--password-file", psk.to_str().expect("UTF-8")], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("Connexion en cours… (jusqu'à une minute)\nConnectée au Wi-Fi « Tilleuls ».\n"), "{out}");
    assert!(out.contains("Adresse : 192.168.77.50/24"), "{out}");
    assert!(err.contains("Wi-Fi network joined from bornectl"), "{err}");
    assert!(!nm.args().contains("bonne-cle"), "{}", nm.args());
}

#[test]
fn a_hidden_network_needs_no_scan_and_takes_the_security_given() {
    let nm = FakeNm::new(false);
    let (code, out, err) =
        nm.bornectl(&["join", "Cachée", "--hidden", "--security", "wpa3", "--password-stdin"], "cle-wpa3-2026");
    assert_eq!(code, 0, "{out}{err}");
    let args = nm.args();
    assert!(!args.contains("wifi list --rescan yes"), "{args}");
    assert!(args.contains("ssid Cachée 802-11-wireless.hidden yes 802-11-wireless-security.key-mgmt sae"), "{args}");
}

#[test]
fn requests_of_the_wrong_form_and_absent_networks_are_refused_in_french() {
    let nm = FakeNm::new(false);
    let (code, _, err) = nm.bornectl(&["join", "Tilleuls", "--password-stdin"], "court\n");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("Le mot de passe doit avoir de 8 à 63 caractères"), "{err}");
    let (code, _, err) = nm.bornectl(&["join", "Ailleurs", "--password-stdin"], "motdepasse\n");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Ce réseau Wi-Fi est introuvable"), "{err}");
    // No password and no terminal: said, nothing asked of NetworkManager but the scan.
    let (code, _, err) = nm.bornectl(&["join", "Tilleuls"], "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--password-file"), "{err}");
    assert!(!nm.args().contains("connection add"), "{}", nm.args());
    let (code, out, err) = nm.bornectl(&["forget", "Ailleurs"], "");
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("Ce réseau n'est pas enregistré sur la borne."), "{err}");
    let (code, out, _) = nm.bornectl(&["forget", "Tilleuls"], "");
    assert_eq!((code, out.as_str()), (0, "Réseau oublié.\n"));
    assert!(nm.args().contains("connection delete uuid 3f2b7c1e-0d6a-4c59-9e3a-2b8f6d1c0a11"), "{}", nm.args());
}

#[test]
fn the_password_file_must_be_readable() {
    let nm = FakeNm::new(false);
    let missing: &Path = &nm.path("absent");
    let (code, _, err) = nm.bornectl(&["join", "Tilleuls", "--password-file", missing.to_str().expect("UTF-8")], "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("ne peut pas être lu"), "{err}");
}
