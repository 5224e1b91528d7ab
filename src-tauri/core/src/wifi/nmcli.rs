//! NetworkManager's command line, `nmcli`, run through [`crate::process::run_collecting`]: each call
//! with `LC_ALL=C.UTF-8` (English messages, which [`super::classify`] reads; network names in UTF-8,
//! which the C locale would print as `?`), in terse mode (`-t`, `-g`: fields separated by `:`, escaped)
//! and with a time limit, past which nmcli is killed and the screen says the Wi-Fi does not answer.
//! The password goes to nmcli's editor on its stdin, never on a command line, and nothing nmcli says
//! after receiving it is logged.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use super::{
    classify, mark_saved, parse_added_uuid, parse_devices, parse_ip4, parse_wifi_list, parse_wifi_profiles,
    split_terse, unescape_value, wifi_state, Connectivity, Device, Join, Link, Network, Saved, WifiError, WifiState,
};
use crate::process::run_collecting;

/// How long a question to NetworkManager may take (state, profiles, saving one).
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a scan may take (a card sweeps every channel in a few seconds).
pub const SCAN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long joining a network may take, association and address included; nmcli itself is told
/// to wait 15 s less (`--wait`), so that its own answer comes first.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(60);

/// `nmcli`, each call within its time limit.
#[derive(Debug, Clone)]
pub struct Nmcli {
    program: PathBuf,
    bus: Option<OsString>,
    query_timeout: Duration,
    scan_timeout: Duration,
    join_timeout: Duration,
}

impl Default for Nmcli {
    fn default() -> Self {
        Nmcli::new()
    }
}

/// What one run of nmcli said.
struct Answer {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Nmcli {
    /// `nmcli` from `PATH`, on the system bus, with [`QUERY_TIMEOUT`], [`SCAN_TIMEOUT`] and
    /// [`JOIN_TIMEOUT`].
    pub fn new() -> Self {
        Nmcli {
            program: PathBuf::from("nmcli"),
            bus: None,
            query_timeout: QUERY_TIMEOUT,
            scan_timeout: SCAN_TIMEOUT,
            join_timeout: JOIN_TIMEOUT,
        }
    }

    /// Runs this program instead of `nmcli` from `PATH`.
    pub fn program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = program.into();
        self
    }

    /// Talks to the NetworkManager on this D-Bus address (`DBUS_SYSTEM_BUS_ADDRESS`) instead of the
    /// system bus: the tests' own NetworkManager.
    pub fn system_bus(mut self, address: impl Into<OsString>) -> Self {
        self.bus = Some(address.into());
        self
    }

    /// Other time limits for questions, scans and joins.
    pub fn timeouts(mut self, query: Duration, scan: Duration, join: Duration) -> Self {
        self.query_timeout = query;
        self.scan_timeout = scan;
        self.join_timeout = join;
        self
    }

    /// Runs nmcli with `args` (and `input` on its stdin). Its answer, whether it succeeded or not;
    /// an error only when it could not run or did not end in time.
    fn run(&self, args: &[String], input: Option<&str>, limit: Duration) -> Result<Answer, WifiError> {
        let mut cmd = std::process::Command::new(&self.program);
        cmd.args(args).env("LC_ALL", "C.UTF-8").env("LANG", "C.UTF-8").env_remove("LANGUAGE");
        if let Some(bus) = &self.bus {
            cmd.env("DBUS_SYSTEM_BUS_ADDRESS", bus);
        }
        // What is asked, for the log: the words before the first value (never a password: those go
        // on stdin).
        let mut words = Vec::new();
        let mut skip = false;
        for a in args {
            if std::mem::take(&mut skip) {
                continue;
            }
            if a.starts_with('-') {
                skip = matches!(a.as_str(), "-f" | "-g" | "-w");
            } else if words.len() < 3 {
                words.push(a.as_str());
            }
        }
        let what = words.join(" ");
        match run_collecting(cmd, input.map(str::as_bytes), limit) {
            Ok(o) => Ok(Answer {
                ok: o.status.success(),
                code: o.status.code(),
                stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                let e = WifiError::Timeout(format!(
                    "nmcli {what} gave no answer within {} s (killed)",
                    limit.as_secs().max(1)
                ));
                tracing::warn!(error = %e, "NetworkManager does not answer");
                Err(e)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::error!(program = %self.program.display(), "nmcli is not installed (Debian package network-manager)");
                Err(WifiError::NotRunning(format!("{} not found", self.program.display())))
            }
            Err(e) => {
                tracing::error!(program = %self.program.display(), error = %e, "cannot run nmcli");
                Err(WifiError::Failed(format!("cannot run {}: {e}", self.program.display())))
            }
        }
    }

    /// Runs nmcli and returns its stdout when it succeeded, or why it failed (logged).
    fn query(&self, args: &[&str], limit: Duration) -> Result<String, WifiError> {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let a = self.run(&args, None, limit)?;
        if a.ok {
            return Ok(a.stdout);
        }
        let e = classify(a.code, &format!("{}{}", a.stderr, a.stdout));
        tracing::warn!(args = ?args, code = e.code(), error = %e, "nmcli failed");
        Err(e)
    }

    /// The network devices NetworkManager knows.
    fn devices(&self) -> Result<Vec<Device>, WifiError> {
        let out = self.query(&["-t", "-f", "DEVICE,TYPE,STATE,CONNECTION", "device", "status"], self.query_timeout)?;
        Ok(parse_devices(&out))
    }

    /// Whether the Wi-Fi radio is on (NetworkManager's setting and the hardware switch), and the
    /// connectivity.
    fn general(&self) -> Result<(bool, Connectivity), WifiError> {
        let out = self.query(&["-t", "-f", "WIFI-HW,WIFI,CONNECTIVITY", "general"], self.query_timeout)?;
        let fields = out.lines().next().map(split_terse).unwrap_or_default();
        match fields.as_slice() {
            [hw, sw, connectivity] => Ok((sw == "enabled" && hw != "disabled", Connectivity::from_nmcli(connectivity))),
            _ => Err(WifiError::Failed(format!("unexpected answer of nmcli general: {}", out.trim()))),
        }
    }

    /// The current link: the Wi-Fi card's state and network, its addresses, the cable, the internet.
    pub fn link(&self) -> Result<Link, WifiError> {
        let (radio_on, connectivity) = self.general()?;
        let devices = self.devices()?;
        let card = devices.iter().find(|d| d.kind == "wifi");
        let wired = devices.iter().any(|d| d.kind == "ethernet" && d.state == "connected");
        let wifi = wifi_state(card, radio_on);
        let mut link = Link {
            wifi,
            device: card.map(|d| d.name.clone()),
            ssid: None,
            addresses: Vec::new(),
            gateway: None,
            wired,
            connectivity,
        };
        if let (Some(card), WifiState::Connected | WifiState::Connecting) = (card, wifi) {
            let ip = self.query(
                &["-t", "-f", "IP4.ADDRESS,IP4.GATEWAY", "device", "show", card.name.as_str()],
                self.query_timeout,
            )?;
            (link.addresses, link.gateway) = parse_ip4(&ip);
            let aps = self.query(
                &[
                    "-t",
                    "-f",
                    "IN-USE,SSID,SIGNAL,SECURITY",
                    "device",
                    "wifi",
                    "list",
                    "ifname",
                    card.name.as_str(),
                    "--rescan",
                    "no",
                ],
                self.query_timeout,
            )?;
            link.ssid = parse_wifi_list(&aps).into_iter().find(|n| n.in_use).map(|n| n.ssid);
            if link.ssid.is_none() {
                // Joining, before the access point counts as in use: the profile says which network.
                link.ssid = self.saved()?.into_iter().find(|s| s.name == card.connection).map(|s| s.ssid);
            }
        }
        Ok(link)
    }

    /// The networks in range, one per name, the one in use first, then the strongest. `rescan` asks
    /// the card for a fresh scan (a few seconds); otherwise NetworkManager's list is used, scanned
    /// again only when older than 30 s.
    pub fn networks(&self, rescan: bool) -> Result<Vec<Network>, WifiError> {
        if !self.devices()?.iter().any(|d| d.kind == "wifi") {
            let e = WifiError::NoDevice("NetworkManager lists no Wi-Fi device".into());
            tracing::info!(error = %e, "no Wi-Fi networks to list");
            return Err(e);
        }
        let list = |rescan: &str| {
            self.query(
                &["-t", "-f", "IN-USE,SSID,SIGNAL,SECURITY", "device", "wifi", "list", "--rescan", rescan],
                self.scan_timeout,
            )
        };
        let out = match list(if rescan { "yes" } else { "auto" }) {
            // A scan refused (one already running, or just done): the list NetworkManager has.
            Err(WifiError::Failed(why)) if rescan => {
                tracing::info!(cause = %why, "fresh scan refused: NetworkManager's current list");
                list("auto")?
            }
            other => other?,
        };
        let mut networks = parse_wifi_list(&out);
        mark_saved(&mut networks, &self.saved()?);
        tracing::info!(count = networks.len(), "Wi-Fi networks listed");
        Ok(networks)
    }

    /// The Wi-Fi networks saved on the borne.
    pub fn saved(&self) -> Result<Vec<Saved>, WifiError> {
        let out = self.query(&["-t", "-f", "NAME,UUID,TYPE", "connection", "show"], self.query_timeout)?;
        let mut saved = Vec::new();
        for (name, uuid) in parse_wifi_profiles(&out) {
            let ssid = self.query(
                &["-g", "802-11-wireless.ssid", "connection", "show", "uuid", uuid.as_str()],
                self.query_timeout,
            )?;
            saved.push(Saved { ssid: unescape_value(&ssid), name, uuid });
        }
        Ok(saved)
    }

    /// Deletes one profile.
    fn delete(&self, uuid: &str) -> Result<(), WifiError> {
        self.query(&["connection", "delete", "uuid", uuid], self.query_timeout).map(|_| ())
    }

    /// Deletes the profile a failed join made; a failure to do so is only logged (the join's own
    /// error is what the référent must read).
    fn discard(&self, uuid: &str, ssid: &str) {
        match self.delete(uuid) {
            Ok(()) => tracing::info!(ssid, "the profile of the failed join is deleted"),
            Err(e) => tracing::error!(ssid, error = %e, "cannot delete the profile of a failed join"),
        }
    }

    /// Saves the network as a profile, its password stored by NetworkManager and checked; returns
    /// the profile's uuid. A profile that cannot be completed is deleted.
    pub fn save(&self, join: &Join) -> Result<String, WifiError> {
        let added = self.run(&join.add_args(), None, self.query_timeout)?;
        if !added.ok {
            let e = classify(added.code, &format!("{}{}", added.stderr, added.stdout));
            tracing::warn!(ssid = join.ssid(), code = e.code(), error = %e, "NetworkManager refuses the new profile");
            return Err(e);
        }
        let Some(uuid) = parse_added_uuid(&added.stdout) else {
            let e = WifiError::Failed(format!("no uuid in nmcli's answer: {}", added.stdout.trim()));
            tracing::error!(error = %e, "profile added, but which one?");
            return Err(e);
        };
        if let (Some(script), Some(password)) = (join.editor_script(), join.password()) {
            // The editor echoes what it reads, password included: its output is never logged.
            let edit: Vec<String> = ["connection", "edit", "uuid", uuid.as_str()].map(String::from).to_vec();
            let read_back = || {
                self.query(
                    &["-s", "-g", "802-11-wireless-security.psk", "connection", "show", "uuid", uuid.as_str()],
                    self.query_timeout,
                )
            };
            let mut stored = self.run(&edit, Some(&script), self.query_timeout).and_then(|_| read_back());
            // An empty answer is asked again: NetworkManager once gave one for a profile it had just
            // loaded (tests/wifi.rs). A different password is not.
            for _ in 0..3 {
                if !matches!(&stored, Ok(psk) if psk.trim().is_empty()) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
                stored = read_back();
            }
            match stored {
                Ok(psk) if unescape_value(&psk) == password => {
                    let on = ["connection", "modify", "uuid", uuid.as_str(), "connection.autoconnect", "yes"];
                    if let Err(e) = self.query(&on, self.query_timeout) {
                        self.discard(&uuid, join.ssid());
                        return Err(e);
                    }
                }
                Ok(_) => {
                    tracing::error!(ssid = join.ssid(), "NetworkManager did not store the password as given");
                    self.discard(&uuid, join.ssid());
                    return Err(WifiError::BadPassword);
                }
                Err(e) => {
                    tracing::error!(ssid = join.ssid(), code = e.code(), error = %e, "cannot store the password");
                    self.discard(&uuid, join.ssid());
                    return Err(e);
                }
            }
        }
        tracing::info!(ssid = join.ssid(), security = ?join.security(), hidden = join.hidden(), "Wi-Fi profile saved");
        Ok(uuid)
    }

    /// Joins a network (slow: up to [`JOIN_TIMEOUT`]): saves its profile, activates it, and on
    /// success deletes the older profiles of the same network; on failure deletes the new one.
    /// Returns the link once joined.
    pub fn join(&self, join: &Join) -> Result<Link, WifiError> {
        let (radio_on, _) = self.general()?;
        if !radio_on {
            tracing::warn!(ssid = join.ssid(), "the Wi-Fi radio is off");
            return Err(WifiError::RadioOff);
        }
        let uuid = self.save(join)?;
        let wait = self.join_timeout.saturating_sub(Duration::from_secs(15)).max(Duration::from_secs(5));
        let up: Vec<String> = vec![
            "-w".into(),
            wait.as_secs().to_string(),
            "connection".into(),
            "up".into(),
            "uuid".into(),
            uuid.clone(),
        ];
        let answer = match self.run(&up, None, self.join_timeout) {
            Ok(a) if a.ok => None,
            Ok(a) => Some(classify(a.code, &format!("{}{}", a.stderr, a.stdout))),
            Err(e) => Some(e),
        };
        if let Some(e) = answer {
            tracing::warn!(ssid = join.ssid(), code = e.code(), error = %e, "joining the Wi-Fi failed");
            self.discard(&uuid, join.ssid());
            return Err(e);
        }
        tracing::info!(ssid = join.ssid(), "Wi-Fi joined");
        for old in self.saved()?.into_iter().filter(|s| s.ssid == join.ssid() && s.uuid != uuid) {
            match self.delete(&old.uuid) {
                Ok(()) => {
                    tracing::info!(ssid = join.ssid(), profile = %old.name, "older profile of the network replaced")
                }
                Err(e) => tracing::warn!(ssid = join.ssid(), error = %e, "cannot delete an older profile"),
            }
        }
        self.link()
    }

    /// Forgets a network: deletes every saved profile of that name (the borne no longer joins it).
    pub fn forget(&self, ssid: &str) -> Result<(), WifiError> {
        let profiles: Vec<Saved> = self.saved()?.into_iter().filter(|s| s.ssid == ssid).collect();
        if profiles.is_empty() {
            return Err(WifiError::NotSaved(ssid.to_owned()));
        }
        for p in profiles {
            self.delete(&p.uuid)?;
            tracing::info!(ssid, profile = %p.name, "Wi-Fi network forgotten");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake nmcli in `dir`: a shell script with this body.
    fn fake(dir: &std::path::Path, body: &str) -> Nmcli {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join("nmcli");
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        let short = Duration::from_millis(400);
        Nmcli::new().program(p).timeouts(short, short, short)
    }

    #[test]
    fn an_nmcli_that_never_returns_is_killed_and_the_screen_hears_it_timed_out() {
        let d = tempfile::tempdir().unwrap();
        let n = fake(d.path(), "exec sleep 1000");
        let t0 = std::time::Instant::now();
        let e = n.link().unwrap_err();
        assert_eq!(e.code(), "timeout");
        assert_eq!(e.to_string(), "no answer in time: nmcli general gave no answer within 1 s (killed)");
        let join = Join::new("Tilleuls", super::super::Security::Personal, Some("motdepasse"), false).unwrap();
        assert_eq!(n.join(&join).unwrap_err().code(), "timeout");
        assert_eq!(n.networks(true).unwrap_err().code(), "timeout");
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    }

    #[test]
    fn a_missing_nmcli_means_networkmanager_is_not_there() {
        let n = Nmcli::new().program("/nonexistent/nmcli");
        assert_eq!(n.link().unwrap_err().code(), "nm-not-running");
    }

    /// A fake nmcli that answers each question as NetworkManager 1.42 does with a Wi-Fi card in
    /// range of two networks, one saved, and records every command line it was given.
    #[test]
    fn the_command_lines_carry_no_password_and_a_wrong_one_leaves_no_profile() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("args");
        let stdin = d.path().join("stdin");
        let body = format!(
            r#"echo "$*" >> '{log}'
case "$*" in
  *"-f WIFI-HW,WIFI,CONNECTIVITY general"*) echo 'enabled:enabled:full';;
  *"device status"*) printf 'wlp2s0:wifi:connected:borne-wifi\nenp3s0:ethernet:unavailable:\nlo:loopback:unmanaged:\n';;
  *"-g 802-11-wireless.ssid"*) printf '%s\n' 'Café\:Wi\\Fi';;
  *"-f NAME,UUID,TYPE connection show"*) echo 'borne-wifi:3f2b7c1e-0d6a-4c59-9e3a-2b8f6d1c0a11:802-11-wireless';;
  *"connection add"*) echo "Connection 'borne-wifi x' (71549ce0-ce14-4eac-ad70-2b5104730ed8) successfully added.";;
  *"connection edit"*) cat > '{stdin}';;
  *"-s -g 802-11-wireless-security.psk"*) printf '%s\n' 'pa\:ss\\word 12';;
  *"connection up"*) echo 'Error: Connection activation failed: (7) Secrets were required, but not provided.' >&2
                     echo "Hint: use 'journalctl -xe NM_CONNECTION=71549ce0 + NM_DEVICE=wlp2s0' to get more details." >&2; exit 4;;
  *"connection modify"*) ;;
  *"connection delete"*) echo "Connection 'x' (71549ce0-ce14-4eac-ad70-2b5104730ed8) successfully deleted.";;
  *) echo "unexpected: $*" >&2; exit 2;;
esac"#,
            log = log.display(),
            stdin = stdin.display()
        );
        let n = fake(d.path(), &body).timeouts(Duration::from_secs(5), Duration::from_secs(5), Duration::from_secs(20));
        let join =
            Join::new("Café:Wi\\Fi", super::super::Security::Wpa3Personal, Some("pa:ss\\word 12"), true).unwrap();
        let e = n.join(&join).unwrap_err();
        assert_eq!(e.code(), "wrong-password");
        assert_eq!(
            e.to_string(),
            "wrong password: Error: Connection activation failed: (7) Secrets were required, but not provided."
        );
        let args = std::fs::read_to_string(&log).unwrap();
        assert!(!args.contains("pa:ss"), "the password reached a command line:\n{args}");
        assert!(args.contains("connection add type wifi con-name borne-wifi Café:Wi\\Fi ssid Café:Wi\\Fi 802-11-wireless.hidden yes 802-11-wireless-security.key-mgmt sae connection.autoconnect no"), "{args}");
        assert!(args.contains("-w 5 connection up uuid 71549ce0-ce14-4eac-ad70-2b5104730ed8"), "{args}");
        assert!(args.trim_end().ends_with("connection delete uuid 71549ce0-ce14-4eac-ad70-2b5104730ed8"), "{args}");
        assert_eq!(
            std::fs::read_to_string(&stdin).unwrap(),
            "set 802-11-wireless-security.psk pa:ss\\word 12\nsave persistent\nquit\n"
        );
    }
}
