//! « Réseau » in the admin screens: the Wi-Fi networks in range, joining one (WPA2 or WPA3 personal,
//! open, hidden), forgetting one, and the current link (network, address, internet). This file holds
//! the pure part (what nmcli's answers mean, what a request may be, why it failed); [`nmcli`] runs
//! NetworkManager's command line, each call within a time limit, and hands its output here.
//!
//! # Why nmcli, and who writes the passwords
//!
//! The image already runs NetworkManager (`kiosk-image/mkosi.conf.d/30-network.conf`), and its keyfile
//! plugin keeps every connection profile in root's part of the state partition
//! (`/etc/NetworkManager/conf.d/borne.conf`: `[keyfile] path=/var/lib/borne-state/system/network`,
//! 0700 root, made by `borne-state.conf`'s tmpfiles). The first-boot setup writes its Wi-Fi there
//! ([`crate::setup::wifi_keyfile`], as root). The admin screens must not write there: the kiosk runs
//! as the unprivileged `borne`, who cannot even read that folder, and should never hold a file with a
//! password. So the kiosk *asks* NetworkManager, over D-Bus through `nmcli`, and NetworkManager (root)
//! writes the profile, 0600, in that folder, as it does for any system connection. Nothing is written
//! by the kiosk, and nothing outlives a reboot but what NetworkManager saved there.
//!
//! NetworkManager asks polkit whether the caller may. The kiosk has no logind session (see
//! `borne-kiosk.service`), so polkit's defaults refuse it (`auth_admin`); the image's polkit rule
//! (`src-tauri/deb/borne.rules`, beside the reboot and « Mettre à jour maintenant » rules) must let the
//! `borne` user, and it alone, use the three NetworkManager actions in [`POLKIT_ACTIONS`]: saving,
//! changing and deleting system profiles (and reading their secrets back, which NetworkManager
//! checks with the same action), activating them, and asking for a scan. That is the same mechanism
//! the project uses for reboot and updates (logind's and systemd's D-Bus APIs, allowed per action by
//! `borne.rules`); a root helper would be one more program to keep, for what polkit already says. The
//! rule to add:
//!
//! ```js
//! // « Réseau » in the admin screens: scan, save, activate and forget Wi-Fi networks. NetworkManager
//! // (root) writes the profiles in /var/lib/borne-state/system/network, never the kiosk.
//! polkit.addRule(function (action, subject) {
//!     if (subject.user == "borne" &&
//!         (action.id == "org.freedesktop.NetworkManager.settings.modify.system" ||
//!          action.id == "org.freedesktop.NetworkManager.network-control" ||
//!          action.id == "org.freedesktop.NetworkManager.wifi.scan")) {
//!         return polkit.Result.YES;
//!     }
//! });
//! ```
//!
//! The password never appears on a command line (every process may read those in `/proc`): the
//! profile is made without it (`nmcli connection add`), then nmcli's editor receives it on its stdin
//! (`set 802-11-wireless-security.psk …`, `save persistent`), and what NetworkManager stored is read
//! back and compared before the network is joined. A join that fails deletes the profile it made
//! (a wrong password is not kept to be retried at every boot); one that works replaces the older
//! profiles of the same network.
//!
//! # What the shell calls
//!
//! All of them run nmcli (up to a minute for a join): off the GTK thread
//! (`tauri::async_runtime::spawn_blocking`). [`Nmcli::new`] once.
//! - [`Nmcli::link`]: the current link, as a [`Link`] (Wi-Fi state and network, addresses, cable,
//!   internet as NetworkManager checks it).
//! - [`Nmcli::networks`]`(rescan)`: the networks in range, as [`Network`]s (name, signal 0–100,
//!   [`Security`], in use, saved on the borne), one per name, the one in use first then the
//!   strongest; `rescan` asks the card for a fresh scan (« Actualiser »).
//! - [`Join::new`]`(ssid, security, password, hidden)` checks the form (the network's [`Security`]
//!   from the list; for a hidden network, the one the référent chose), then **slow**
//!   [`Nmcli::join`]`(&Join)`: the link once joined.
//! - [`Nmcli::saved`]: the networks saved on the borne; [`Nmcli::forget`]`(ssid)` deletes them.
//! - Errors: [`WifiError::code`] is the `admin.wifi.error.<code>` text of `ui/i18n/*.json` (all
//!   codes in [`WifiError::CODES`]); the English cause is logged here.
//!
//! # What only the image's boot test can check
//!
//! Here NetworkManager runs for real in the tests (`tests/wifi.rs`: its own D-Bus, its own network
//! namespace, no Wi-Fi card): profiles saved with their password in NetworkManager's keyfile folder,
//! read back, refused activations, « no Wi-Fi card », « NetworkManager not running ». What needs a
//! Wi-Fi card is left for the qemu test with `mac80211_hwsim` and `hostapd` (a WPA2 and a WPA3 access
//! point, one hidden): a real scan list, joining with the right and the wrong password (NetworkManager's
//! « Secrets were required, but not provided »), an address from the access point's DHCP, and the
//! polkit rule as the `borne` user.

use serde::Serialize;

pub mod nmcli;

pub use nmcli::Nmcli;

/// The polkit actions NetworkManager checks for what this module does, which the image's rule
/// allows the kiosk's user: saving, changing, deleting system profiles and reading their secrets;
/// activating them; asking for a scan.
pub const POLKIT_ACTIONS: [&str; 3] = [
    "org.freedesktop.NetworkManager.settings.modify.system",
    "org.freedesktop.NetworkManager.network-control",
    "org.freedesktop.NetworkManager.wifi.scan",
];

/// Longest network name (IEEE 802.11: 32 bytes).
pub const MAX_SSID_BYTES: usize = 32;

/// How a network is protected, as nmcli's `SECURITY` column says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Security {
    /// No password.
    Open,
    /// Enhanced open (OWE): no password, encrypted.
    Owe,
    /// WPA/WPA2 personal, or WPA2/WPA3 transition: a password (joined as WPA2-PSK).
    Personal,
    /// WPA3 personal only (SAE): a password.
    Wpa3Personal,
    /// 802.1X (« entreprise »: a user name and a certificate): not supported on the borne.
    Enterprise,
    /// WEP: broken and not supported.
    Wep,
}

impl Security {
    /// What nmcli's `SECURITY` field says (`WPA2`, `WPA1 WPA2`, `WPA2 WPA3`, `WPA3`, `WPA2 802.1X`,
    /// `OWE`, `WEP`; empty or `--` when open).
    pub fn from_nmcli(field: &str) -> Security {
        let words: Vec<&str> = field.split_whitespace().collect();
        let has = |w: &str| words.contains(&w);
        if has("802.1X") {
            Security::Enterprise
        } else if has("WPA1") || has("WPA2") {
            Security::Personal
        } else if has("WPA3") {
            Security::Wpa3Personal
        } else if has("OWE") {
            Security::Owe
        } else if has("WEP") {
            Security::Wep
        } else {
            // Nothing, `--`, or `OWE-TM` (the open half of an OWE transition pair).
            Security::Open
        }
    }

    /// Whether the borne can join such a network.
    pub fn supported(self) -> bool {
        !matches!(self, Security::Enterprise | Security::Wep)
    }

    /// Whether joining needs a password.
    pub fn needs_password(self) -> bool {
        matches!(self, Security::Personal | Security::Wpa3Personal)
    }

    /// NetworkManager's `802-11-wireless-security.key-mgmt`; `None` for an open network (no
    /// security section at all).
    pub fn key_mgmt(self) -> Option<&'static str> {
        match self {
            Security::Open | Security::Enterprise | Security::Wep => None,
            Security::Owe => Some("owe"),
            Security::Personal => Some("wpa-psk"),
            Security::Wpa3Personal => Some("sae"),
        }
    }
}

/// A network in range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Network {
    /// Its name (SSID).
    pub ssid: String,
    /// Signal of its strongest access point, 0–100.
    pub signal: u8,
    /// How it is protected.
    pub security: Security,
    /// The borne is on it now.
    pub in_use: bool,
    /// A profile for it is saved on the borne (« Oublier » may be offered).
    pub saved: bool,
}

/// Splits one line of nmcli's terse output (`-t`) into its fields: `:` separates them, and nmcli
/// writes a `:` or `\` inside a value as `\:` and `\\`.
pub fn split_terse(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => fields.last_mut().expect("fields starts with one").push(next),
                None => fields.last_mut().expect("fields starts with one").push('\\'),
            },
            ':' => fields.push(String::new()),
            c => fields.last_mut().expect("fields starts with one").push(c),
        }
    }
    fields
}

/// One value of `nmcli -g FIELD` (escaped as a terse field).
pub fn unescape_value(text: &str) -> String {
    let line = text.strip_suffix('\n').unwrap_or(text);
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(chars.next().unwrap_or('\\'));
        } else {
            out.push(c);
        }
    }
    out
}

/// The networks in `nmcli -t -f IN-USE,SSID,SIGNAL,SECURITY device wifi list` (pure): one per name,
/// its strongest signal, in use if any of its access points is; hidden networks (no name) are left
/// out (the référent types the name of a hidden network). The one in use comes first, then the
/// strongest; `saved` is false (see [`mark_saved`]).
pub fn parse_wifi_list(text: &str) -> Vec<Network> {
    let mut out: Vec<Network> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let fields = split_terse(line);
        let [in_use, ssid, signal, security] = fields.as_slice() else {
            tracing::warn!(line = %line.chars().take(200).collect::<String>(), "unexpected line in nmcli's Wi-Fi list");
            continue;
        };
        if ssid.is_empty() || ssid == "--" {
            continue;
        }
        let net = Network {
            ssid: ssid.clone(),
            signal: signal.trim().parse::<u8>().unwrap_or(0).min(100),
            security: Security::from_nmcli(security),
            in_use: in_use.trim() == "*",
            saved: false,
        };
        match out.iter_mut().find(|n| n.ssid == net.ssid) {
            Some(seen) => {
                seen.in_use |= net.in_use;
                if net.signal > seen.signal {
                    seen.signal = net.signal;
                    seen.security = net.security;
                }
            }
            None => out.push(net),
        }
    }
    out.sort_by(|a, b| b.in_use.cmp(&a.in_use).then(b.signal.cmp(&a.signal)).then(a.ssid.cmp(&b.ssid)));
    out
}

/// Marks the networks that have a saved profile.
pub fn mark_saved(networks: &mut [Network], saved: &[Saved]) {
    for n in networks {
        n.saved = saved.iter().any(|s| s.ssid == n.ssid);
    }
}

/// A network device, from `nmcli -t -f DEVICE,TYPE,STATE,CONNECTION device status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Interface name (`wlp2s0`).
    pub name: String,
    /// NetworkManager's type (`wifi`, `ethernet`, `loopback`, `wifi-p2p`…).
    pub kind: String,
    /// Its state (`connected`, `connecting (getting IP configuration)`, `disconnected`,
    /// `unavailable`, `unmanaged`).
    pub state: String,
    /// The profile in use on it, if any.
    pub connection: String,
}

/// The devices in `nmcli -t -f DEVICE,TYPE,STATE,CONNECTION device status` (pure).
pub fn parse_devices(text: &str) -> Vec<Device> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| match split_terse(l).as_slice() {
            [name, kind, state, connection] => Some(Device {
                name: name.clone(),
                kind: kind.clone(),
                state: state.clone(),
                connection: connection.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// A saved Wi-Fi profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Saved {
    /// The network's name.
    pub ssid: String,
    /// The profile's name (`borne-wifi` for the one the first-boot setup wrote).
    pub name: String,
    /// NetworkManager's id of the profile.
    pub uuid: String,
}

/// The Wi-Fi profiles in `nmcli -t -f NAME,UUID,TYPE connection show` (pure): name and uuid; the
/// SSID is asked for each afterwards.
pub fn parse_wifi_profiles(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| match split_terse(l).as_slice() {
            [name, uuid, kind] if kind == "802-11-wireless" => Some((name.clone(), uuid.clone())),
            _ => None,
        })
        .collect()
}

/// The uuid in nmcli's answer to `connection add`: `Connection 'NAME' (UUID) successfully added.`
pub fn parse_added_uuid(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.contains("successfully added"))?;
    let start = line.rfind(" (")? + 2;
    let end = start + line[start..].find(')')?;
    let uuid = &line[start..end];
    (uuid.len() == 36 && uuid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')).then(|| uuid.to_owned())
}

/// The Wi-Fi card's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WifiState {
    /// No Wi-Fi card NetworkManager can use.
    NoDevice,
    /// The card's radio is off (a switch, a key, or NetworkManager's own setting).
    RadioOff,
    /// On no network.
    Disconnected,
    /// Joining a network, or waiting for its address.
    Connecting,
    /// On a network, with its address.
    Connected,
}

/// Whether the internet answers, as NetworkManager's connectivity check says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Connectivity {
    /// The internet answers.
    Full,
    /// A captive portal (a public Wi-Fi's page asking to accept its terms) answers instead.
    Portal,
    /// A network, but no internet.
    Limited,
    /// No network.
    None,
    /// Not checked (the check is off, or not done yet).
    Unknown,
}

impl Connectivity {
    /// From nmcli's `CONNECTIVITY` field.
    pub fn from_nmcli(field: &str) -> Connectivity {
        match field.trim() {
            "full" => Connectivity::Full,
            "portal" => Connectivity::Portal,
            "limited" => Connectivity::Limited,
            "none" => Connectivity::None,
            _ => Connectivity::Unknown,
        }
    }
}

/// The current link, for the « Réseau » screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The Wi-Fi card's state.
    pub wifi: WifiState,
    /// The Wi-Fi card's interface, if there is one.
    pub device: Option<String>,
    /// The network the card is on or joining.
    pub ssid: Option<String>,
    /// The card's IPv4 addresses, with their prefix (`192.168.1.23/24`): none until the box gave one.
    pub addresses: Vec<String>,
    /// The card's IPv4 gateway.
    pub gateway: Option<String>,
    /// A cable is plugged and connected (it goes before the Wi-Fi).
    pub wired: bool,
    /// Whether the internet answers.
    pub connectivity: Connectivity,
}

/// What `nmcli -t -f GENERAL.STATE,IP4.ADDRESS,IP4.GATEWAY device show DEV` says (pure): the
/// addresses and the gateway. Multi-line terse output is not escaped: each line is `NAME:VALUE`,
/// the value taken whole after the first `:`.
pub fn parse_ip4(text: &str) -> (Vec<String>, Option<String>) {
    let mut addresses = Vec::new();
    let mut gateway = None;
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        if value.is_empty() || value == "--" {
            continue;
        }
        if name.starts_with("IP4.ADDRESS") {
            addresses.push(value.to_owned());
        } else if name == "IP4.GATEWAY" {
            gateway = Some(value.to_owned());
        }
    }
    (addresses, gateway)
}

/// The Wi-Fi state from a device's state and the radio's (pure).
pub fn wifi_state(device: Option<&Device>, radio_on: bool) -> WifiState {
    let Some(d) = device else { return WifiState::NoDevice };
    if !radio_on {
        return WifiState::RadioOff;
    }
    match d.state.as_str() {
        "connected" => WifiState::Connected,
        s if s.starts_with("connecting") || s.starts_with("deactivating") => WifiState::Connecting,
        "unavailable" => WifiState::RadioOff,
        "unmanaged" => WifiState::NoDevice,
        _ => WifiState::Disconnected,
    }
}

/// A request to join a network, checked. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Join {
    ssid: String,
    security: Security,
    password: Option<String>,
    hidden: bool,
}

impl std::fmt::Debug for Join {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Join")
            .field("ssid", &self.ssid)
            .field("security", &self.security)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("hidden", &self.hidden)
            .finish()
    }
}

impl Join {
    /// Checks a join request: a name of 1 to 32 bytes without control characters; a security the
    /// borne supports; for WPA, a password of 8 to 63 printable ASCII characters (no space at either
    /// end: nmcli's editor would cut it) or, for WPA2, the 64 hexadecimal digits of a raw key; no
    /// password for an open network (an empty one counts as none).
    pub fn new(ssid: &str, security: Security, password: Option<&str>, hidden: bool) -> Result<Join, WifiError> {
        if ssid.is_empty() || ssid.len() > MAX_SSID_BYTES || ssid.chars().any(char::is_control) {
            return Err(WifiError::BadSsid);
        }
        if !security.supported() {
            return Err(WifiError::Unsupported(security));
        }
        let password = password.filter(|p| !p.is_empty());
        let password = match (security.needs_password(), password) {
            (false, None) => None,
            (false, Some(_)) | (true, None) => return Err(WifiError::BadPassword),
            (true, Some(p)) => {
                let passphrase = (8..=63).contains(&p.len())
                    && p.bytes().all(|b| (0x20..0x7f).contains(&b))
                    && !p.starts_with(' ')
                    && !p.ends_with(' ');
                let raw_key =
                    security == Security::Personal && p.len() == 64 && p.bytes().all(|b| b.is_ascii_hexdigit());
                if !(passphrase || raw_key) {
                    return Err(WifiError::BadPassword);
                }
                Some(p.to_owned())
            }
        };
        Ok(Join { ssid: ssid.to_owned(), security, password, hidden })
    }

    /// The network's name.
    pub fn ssid(&self) -> &str {
        &self.ssid
    }

    /// Its security.
    pub fn security(&self) -> Security {
        self.security
    }

    /// Whether it hides its name (NetworkManager then probes for it by name).
    pub fn hidden(&self) -> bool {
        self.hidden
    }

    /// The profile's name.
    pub fn profile_name(&self) -> String {
        format!("borne-wifi {}", self.ssid)
    }

    /// `nmcli connection add`'s arguments: the profile without its password, not joined by itself
    /// until the password is in (pure).
    pub fn add_args(&self) -> Vec<String> {
        let mut args: Vec<String> = ["-t", "connection", "add", "type", "wifi", "con-name"].map(String::from).to_vec();
        args.push(self.profile_name());
        args.extend(["ssid".into(), self.ssid.clone()]);
        args.extend(["802-11-wireless.hidden".into(), if self.hidden { "yes" } else { "no" }.into()]);
        if let Some(k) = self.security.key_mgmt() {
            args.extend(["802-11-wireless-security.key-mgmt".into(), k.into()]);
        }
        // An open network has nothing to add later: it may join by itself at once.
        let autoconnect = if self.password.is_some() { "no" } else { "yes" };
        args.extend(["connection.autoconnect".into(), autoconnect.into()]);
        args
    }

    /// What nmcli's editor reads on its stdin to store the password (none for an open network).
    /// Secret: never logged. The profile is let join by itself afterwards, with `connection modify`:
    /// saving with `autoconnect` on makes the editor ask for a confirmation first.
    pub fn editor_script(&self) -> Option<String> {
        self.password.as_ref().map(|p| format!("set 802-11-wireless-security.psk {p}\nsave persistent\nquit\n"))
    }

    /// The password, to compare with what NetworkManager stored.
    fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }
}

/// Why a Wi-Fi action failed. `code()` is what the screen receives and shows in French
/// (`admin.wifi.error.<code>` in `ui/i18n`); the text here is the English cause for the logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WifiError {
    /// The computer has no Wi-Fi card NetworkManager can use.
    #[error("no Wi-Fi device: {0}")]
    NoDevice(String),
    /// NetworkManager is not running, or the system bus is not there.
    #[error("NetworkManager is not running: {0}")]
    NotRunning(String),
    /// The access point refused the password (NetworkManager then asks for it again, and nobody
    /// answers: « Secrets were required, but not provided »).
    #[error("wrong password: {0}")]
    WrongPassword(String),
    /// The network is not in range (or its name is misspelt).
    #[error("network not in range: {0}")]
    NotInRange(String),
    /// Joined, but no address came (DHCP).
    #[error("no IP address from the network: {0}")]
    NoAddress(String),
    /// nmcli or NetworkManager gave no answer in time.
    #[error("no answer in time: {0}")]
    Timeout(String),
    /// The password does not have the form WPA requires (or an open network was given one).
    #[error("password of the wrong form")]
    BadPassword,
    /// The network name is empty, too long, or has control characters.
    #[error("network name of the wrong form")]
    BadSsid,
    /// A network the borne does not join (802.1X, WEP).
    #[error("unsupported security {0:?}")]
    Unsupported(Security),
    /// polkit refused (the image's rule missing, or another user).
    #[error("not allowed by polkit: {0}")]
    NotAllowed(String),
    /// The Wi-Fi radio is off.
    #[error("Wi-Fi radio off")]
    RadioOff,
    /// No saved profile for this network.
    #[error("no saved profile for {0}")]
    NotSaved(String),
    /// Anything else (nmcli's own words).
    #[error("nmcli failed: {0}")]
    Failed(String),
}

impl WifiError {
    /// Stable code for the screen (`admin.wifi.error.<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            WifiError::NoDevice(_) => "no-device",
            WifiError::NotRunning(_) => "nm-not-running",
            WifiError::WrongPassword(_) => "wrong-password",
            WifiError::NotInRange(_) => "not-in-range",
            WifiError::NoAddress(_) => "no-address",
            WifiError::Timeout(_) => "timeout",
            WifiError::BadPassword => "bad-password",
            WifiError::BadSsid => "bad-ssid",
            WifiError::Unsupported(_) => "unsupported",
            WifiError::NotAllowed(_) => "not-allowed",
            WifiError::RadioOff => "radio-off",
            WifiError::NotSaved(_) => "not-saved",
            WifiError::Failed(_) => "other",
        }
    }

    /// Every code, for the tests that check each has its text in every language.
    pub const CODES: [&'static str; 13] = [
        "no-device",
        "nm-not-running",
        "wrong-password",
        "not-in-range",
        "no-address",
        "timeout",
        "bad-password",
        "bad-ssid",
        "unsupported",
        "not-allowed",
        "radio-off",
        "not-saved",
        "other",
    ];
}

/// What a failed nmcli run means, from its exit status and its words (run with `LC_ALL=C.UTF-8`:
/// English messages) (pure). The words are read first; nmcli's documented exit statuses after (3:
/// timeout, 4: activation failed, 8: NetworkManager not running, 10: no such profile or device).
pub fn classify(exit: Option<i32>, output: &str) -> WifiError {
    let cause = output
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("Error"))
        .or_else(|| output.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("")
        .chars()
        .take(300)
        .collect::<String>();
    let said = |s: &str| output.contains(s);
    if said("NetworkManager is not running") || said("Could not create NMClient object") {
        return WifiError::NotRunning(cause);
    }
    if said("Not authorized") || said("not authorized") || said("Insufficient privileges") {
        return WifiError::NotAllowed(cause);
    }
    if said("No Wi-Fi device found") || said("No suitable device found") {
        return WifiError::NoDevice(cause);
    }
    // A wrong WPA password: NetworkManager asks for the secret again, nobody answers (device
    // reason 7); or the supplicant gives up on the 4-way handshake.
    if said("Secrets were required") || said("no secrets") || said("supplicant") {
        return WifiError::WrongPassword(cause);
    }
    if said("could not be found") || said("No network with SSID") {
        return WifiError::NotInRange(cause);
    }
    if said("IP configuration could not be reserved") || said("DHCP") {
        return WifiError::NoAddress(cause);
    }
    if said("Timeout expired") || said("timed out") {
        return WifiError::Timeout(cause);
    }
    match exit {
        Some(3) => WifiError::Timeout(cause),
        Some(8) => WifiError::NotRunning(cause),
        Some(code) if cause.is_empty() => WifiError::Failed(format!("nmcli exited with status {code}")),
        None if cause.is_empty() => WifiError::Failed("nmcli was killed by a signal".into()),
        _ => WifiError::Failed(cause),
    }
}

#[cfg(test)]
mod tests;
