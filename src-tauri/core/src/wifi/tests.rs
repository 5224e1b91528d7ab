//! The parsers on nmcli's real outputs, the join request's checks and command lines, and how
//! failures are named.

use super::*;

/// Outputs of nmcli 1.42.4 (Debian 12), captured with `LC_ALL=C.UTF-8` against a NetworkManager
/// with no Wi-Fi card (the one `tests/wifi.rs` runs), byte for byte.
mod captured {
    /// `nmcli -t -f NAME,UUID,TYPE connection show`: a profile named `a:b\c d`.
    pub const PROFILES: &str = "a\\:b\\\\c d:6aaffd33-a1c8-4ff6-82b0-85a8864cc414:802-11-wireless\n";
    /// `nmcli -g 802-11-wireless.ssid connection show ID` of the network `Café:Wi\Fi`.
    pub const SSID: &str = "Café\\:Wi\\\\Fi\n";
    /// `nmcli -t connection add type wifi con-name 'borne-wifi test' ssid …`.
    pub const ADDED: &str = "Connection 'borne-wifi test' (71549ce0-ce14-4eac-ad70-2b5104730ed8) successfully added.\n";
    /// `nmcli -t -f DEVICE,TYPE,STATE,CONNECTION device status`, no Wi-Fi card.
    pub const DEVICES: &str = "lo:loopback:unmanaged:\n";
    /// `nmcli -t -f GENERAL.STATE,GENERAL.CONNECTION,IP4.ADDRESS,IP4.GATEWAY,IP6.ADDRESS device show lo`:
    /// multi-line terse output is not escaped.
    pub const SHOW_LO: &str =
        "GENERAL.STATE:10 (unmanaged)\nGENERAL.CONNECTION:\nIP4.ADDRESS[1]:127.0.0.1/8\nIP4.GATEWAY:\nIP6.ADDRESS[1]:::1/128\n";
    /// `nmcli connection up ID` with no Wi-Fi card (exit 4, on stderr).
    pub const UP_NO_DEVICE: &str = "Error: Connection activation failed: No suitable device found for this connection (device lo not available because device is strictly unmanaged).\n";
    /// `nmcli device wifi connect SSID password P` with no Wi-Fi card (exit 10, on stderr).
    pub const CONNECT_NO_DEVICE: &str = "Error: No Wi-Fi device found.\n";
    /// Any nmcli command when NetworkManager is not on the bus (exit 8, on stderr).
    pub const NOT_RUNNING: &str = "Error: NetworkManager is not running.\n";
    /// Any nmcli command when there is no system bus at all (exit 1, on stderr).
    pub const NO_BUS: &str = "Error: Could not create NMClient object: Could not connect: No such file or directory.\n";
    /// `nmcli connection delete nope` (exit 10, on stderr).
    pub const DELETE_UNKNOWN: &str =
        "Error: unknown connection 'nope'.\nError: cannot delete unknown connection(s): 'nope'.\n";
}

#[test]
fn terse_fields_are_split_and_unescaped() {
    assert_eq!(split_terse("a\\:b\\\\c d:6aaffd33:802-11-wireless"), ["a:b\\c d", "6aaffd33", "802-11-wireless"]);
    assert_eq!(split_terse(" ::72:"), [" ", "", "72", ""]);
    assert_eq!(split_terse("trailing\\"), ["trailing\\"]);
    assert_eq!(unescape_value(captured::SSID), "Café:Wi\\Fi");
    assert_eq!(unescape_value("pa\\:ss\\\\word 12\n"), "pa:ss\\word 12");
    assert_eq!(
        parse_wifi_profiles(captured::PROFILES),
        [("a:b\\c d".to_owned(), "6aaffd33-a1c8-4ff6-82b0-85a8864cc414".to_owned())]
    );
    assert!(parse_wifi_profiles("Wired connection 1:0c2f:802-3-ethernet\n").is_empty());
    assert_eq!(parse_added_uuid(captured::ADDED).as_deref(), Some("71549ce0-ce14-4eac-ad70-2b5104730ed8"));
    assert_eq!(parse_added_uuid("Connection 'x (y)' (not-a-uuid) successfully added."), None);
    let d = parse_devices(captured::DEVICES);
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].name.as_str(), d[0].kind.as_str(), d[0].state.as_str()), ("lo", "loopback", "unmanaged"));
    assert_eq!(parse_ip4(captured::SHOW_LO), (vec!["127.0.0.1/8".to_owned()], None));
}

/// `nmcli -t -f IN-USE,SSID,SIGNAL,SECURITY device wifi list` as nmcli 1.42 writes it
/// (`src/nmcli/devices.c`, `fill_output_access_point`: IN-USE is `*` or a space, SECURITY the words
/// WEP, WPA1, WPA2, WPA3, OWE, 802.1X joined by spaces, empty when open), not captured here: the
/// machine has no Wi-Fi card (the image's boot test lists real ones).
const WIFI_LIST: &str = "*:Tilleuls-Public:72:WPA2\n \
:Tilleuls-Public:80:WPA2\n \
:Box\\:5G \\\\ étage:55:WPA2 WPA3\n \
:Mairie:40:\n \
::31:WPA2\n \
:Neuf-SAE:64:WPA3\n \
:eduroam:90:WPA2 802.1X\n \
:Vieux:20:WEP\n \
:Gare:45:OWE\n";

#[test]
fn the_list_has_one_entry_per_network_in_use_first_then_strongest() {
    let nets = parse_wifi_list(WIFI_LIST);
    let names: Vec<&str> = nets.iter().map(|n| n.ssid.as_str()).collect();
    assert_eq!(names, ["Tilleuls-Public", "eduroam", "Neuf-SAE", "Box:5G \\ étage", "Gare", "Mairie", "Vieux"]);
    let t = &nets[0];
    assert!(t.in_use, "one of its access points is in use");
    assert_eq!(t.signal, 80, "its strongest access point");
    assert_eq!(nets[1].security, Security::Enterprise);
    assert_eq!(nets[2].security, Security::Wpa3Personal);
    assert_eq!(nets[3].security, Security::Personal, "WPA2/WPA3 transition joins as WPA2");
    assert_eq!(nets[4].security, Security::Owe);
    assert_eq!(nets[5].security, Security::Open);
    assert_eq!(nets[6].security, Security::Wep);
    assert!(nets.iter().all(|n| !n.saved));
    let mut nets = nets;
    mark_saved(&mut nets, &[Saved { ssid: "Mairie".into(), name: "borne-wifi".into(), uuid: "u".into() }]);
    assert_eq!(nets.iter().filter(|n| n.saved).map(|n| n.ssid.as_str()).collect::<Vec<_>>(), ["Mairie"]);
    // A line of the wrong shape is skipped, not a panic.
    assert_eq!(parse_wifi_list("garbage\n*:A:50:WPA2\n").len(), 1);
    assert!(parse_wifi_list("").is_empty());
    // The JSON the screen receives.
    let json = serde_json::to_value(&nets[2]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"ssid": "Neuf-SAE", "signal": 64, "security": "wpa3-personal", "in_use": false, "saved": false})
    );
}

#[test]
fn securities_map_to_networkmanagers_key_management() {
    assert_eq!(Security::from_nmcli(""), Security::Open);
    assert_eq!(Security::from_nmcli("--"), Security::Open);
    assert_eq!(Security::from_nmcli("OWE-TM"), Security::Open);
    assert_eq!(Security::from_nmcli("WPA1 WPA2"), Security::Personal);
    assert_eq!(Security::Personal.key_mgmt(), Some("wpa-psk"));
    assert_eq!(Security::Wpa3Personal.key_mgmt(), Some("sae"));
    assert_eq!(Security::Owe.key_mgmt(), Some("owe"));
    assert_eq!(Security::Open.key_mgmt(), None);
    assert!(!Security::Enterprise.supported() && !Security::Wep.supported());
}

#[test]
fn join_requests_are_checked() {
    use Security::*;
    assert!(Join::new("Tilleuls", Personal, Some("12345678"), false).is_ok());
    assert!(Join::new("Tilleuls", Personal, Some(&"a".repeat(63)), false).is_ok());
    assert!(Join::new("Tilleuls", Personal, Some(&"0123456789abcdef".repeat(4)), false).is_ok(), "raw key");
    assert_eq!(
        Join::new("Tilleuls", Wpa3Personal, Some(&"0123456789abcdef".repeat(4)), false),
        Err(WifiError::BadPassword)
    );
    for bad in ["1234567", " leading1", "trailing1 ", "accentué1", "tab\there", &"z".repeat(64)] {
        assert_eq!(Join::new("T", Personal, Some(bad), false), Err(WifiError::BadPassword), "{bad:?}");
    }
    assert_eq!(Join::new("T", Personal, None, false), Err(WifiError::BadPassword));
    assert_eq!(Join::new("T", Personal, Some(""), false), Err(WifiError::BadPassword));
    assert_eq!(Join::new("Mairie", Open, Some("x"), false), Err(WifiError::BadPassword));
    assert!(Join::new("Mairie", Open, Some(""), false).is_ok(), "an empty field is no password");
    assert_eq!(Join::new("", Open, None, false), Err(WifiError::BadSsid));
    assert_eq!(Join::new(&"é".repeat(17), Open, None, false), Err(WifiError::BadSsid), "34 bytes");
    assert_eq!(Join::new("a\nb", Open, None, false), Err(WifiError::BadSsid));
    assert_eq!(Join::new("eduroam", Enterprise, None, false), Err(WifiError::Unsupported(Enterprise)));
    let j = Join::new("Café", Wpa3Personal, Some("secret123"), true).unwrap();
    assert!(!format!("{j:?}").contains("secret123"), "{j:?}");
}

#[test]
fn command_lines_of_a_join() {
    let j = Join::new("Café:Wi\\Fi", Security::Wpa3Personal, Some("pa:ss\\word 12"), true).unwrap();
    assert_eq!(
        j.add_args(),
        [
            "-t",
            "connection",
            "add",
            "type",
            "wifi",
            "con-name",
            "borne-wifi Café:Wi\\Fi",
            "ssid",
            "Café:Wi\\Fi",
            "802-11-wireless.hidden",
            "yes",
            "802-11-wireless-security.key-mgmt",
            "sae",
            "connection.autoconnect",
            "no"
        ]
    );
    assert!(!j.add_args().iter().any(|a| a.contains("pa:ss")), "no password on the command line");
    assert_eq!(
        j.editor_script().as_deref(),
        Some("set 802-11-wireless-security.psk pa:ss\\word 12\nsave persistent\nquit\n")
    );
    let open = Join::new("Mairie", Security::Open, None, false).unwrap();
    let args = open.add_args();
    assert!(!args.iter().any(|a| a.contains("key-mgmt")), "{args:?}");
    assert_eq!(args[args.len() - 2..], ["connection.autoconnect", "yes"]);
    assert_eq!(open.editor_script(), None);
}

#[test]
fn failures_are_named_by_nmclis_words_then_its_status() {
    let c = classify;
    assert_eq!(c(Some(4), captured::UP_NO_DEVICE).code(), "no-device");
    assert_eq!(c(Some(10), captured::CONNECT_NO_DEVICE).code(), "no-device");
    assert_eq!(c(Some(8), captured::NOT_RUNNING).code(), "nm-not-running");
    assert_eq!(c(Some(1), captured::NO_BUS).code(), "nm-not-running");
    assert_eq!(c(Some(10), captured::DELETE_UNKNOWN), WifiError::Failed("Error: unknown connection 'nope'.".into()));
    // NetworkManager's device-state reasons as nmcli says them (with or without their number).
    assert_eq!(
        c(Some(4), "Error: Connection activation failed: (7) Secrets were required, but not provided.\n").code(),
        "wrong-password"
    );
    assert_eq!(
        c(Some(4), "Error: Connection activation failed: Secrets were required, but not provided\n").code(),
        "wrong-password"
    );
    assert_eq!(
        c(Some(4), "Error: Connection activation failed: 802.1X supplicant took too long to authenticate\n").code(),
        "wrong-password"
    );
    assert_eq!(
        c(Some(4), "Error: Connection activation failed: (53) The Wi-Fi network could not be found.\n").code(),
        "not-in-range"
    );
    assert_eq!(c(Some(10), "Error: No network with SSID 'x' found.\n").code(), "not-in-range");
    assert_eq!(
        c(Some(4), "Error: Connection activation failed: IP configuration could not be reserved (no available address, timeout, etc.)\n").code(),
        "no-address"
    );
    assert_eq!(c(Some(3), "Error: Timeout expired (45 seconds)\n").code(), "timeout");
    assert_eq!(c(Some(1), "Error: Failed to add 'x' connection: Insufficient privileges\n").code(), "not-allowed");
    assert_eq!(c(Some(1), "Error: Not authorized to control networking.\n").code(), "not-allowed");
    assert_eq!(c(Some(8), "").code(), "nm-not-running");
    assert_eq!(c(Some(2), ""), WifiError::Failed("nmcli exited with status 2".into()));
    for e in [c(None, ""), WifiError::RadioOff, WifiError::BadSsid, WifiError::NotSaved("x".into())] {
        assert!(WifiError::CODES.contains(&e.code()), "{e:?}");
    }
}

#[test]
fn the_link_state_follows_the_card_and_its_radio() {
    let card = |state: &str| Device {
        name: "wlp2s0".into(),
        kind: "wifi".into(),
        state: state.into(),
        connection: String::new(),
    };
    assert_eq!(wifi_state(None, true), WifiState::NoDevice);
    assert_eq!(wifi_state(Some(&card("connected")), false), WifiState::RadioOff);
    assert_eq!(wifi_state(Some(&card("connected")), true), WifiState::Connected);
    assert_eq!(wifi_state(Some(&card("connecting (getting IP configuration)")), true), WifiState::Connecting);
    assert_eq!(wifi_state(Some(&card("disconnected")), true), WifiState::Disconnected);
    assert_eq!(wifi_state(Some(&card("unavailable")), true), WifiState::RadioOff);
    assert_eq!(Connectivity::from_nmcli("portal"), Connectivity::Portal);
    assert_eq!(Connectivity::from_nmcli("unknown"), Connectivity::Unknown);
    let ip = "IP4.ADDRESS[1]:192.168.1.23/24\nIP4.ADDRESS[2]:10.0.0.5/8\nIP4.GATEWAY:192.168.1.1\n";
    assert_eq!(
        parse_ip4(ip),
        (vec!["192.168.1.23/24".to_owned(), "10.0.0.5/8".to_owned()], Some("192.168.1.1".to_owned()))
    );
}
