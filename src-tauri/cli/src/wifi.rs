//! `bornectl wifi status|list|join|forget`: the admin screen « Réseau » on the command line, for a
//! référent at the borne's keyboard or the federation over SSH. Every action is `borne_core::wifi`'s
//! (the same nmcli calls, checks and time limits as the screen), so NetworkManager writes the
//! profiles in root's part of the state partition and polkit decides who may, as for the kiosk:
//! run it as root, or as the kiosk's user `borne` (`runuser -u borne -- bornectl wifi …`, allowed by
//! the image's rule). Messages for people are the screen's own French words
//! (`borne_core::messages::wifi_*`); the log lines (stderr, `BORNE_LOG=info` for more) are English.
//! A password never goes on the command line: a file, one line of standard input, or the terminal
//! without echo.
//!
//! Exit codes: 0 done, 1 the Wi-Fi refused or failed (wrong password, not in range, no address…),
//! 2 a request of the wrong form (name, password), 3 not allowed (polkit).

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use borne_core::messages::{
    network_screen_fr, wifi_connectivity_fr, wifi_error_fr, wifi_security_fr, wifi_state_fr, wifi_wired_fr,
};
use borne_core::wifi::{Join, Link, Network, Nmcli, Security, WifiError};
use clap::{Subcommand, ValueEnum};

/// What `bornectl wifi` does.
#[derive(Subcommand, Debug)]
pub enum Action {
    /// The current link: Wi-Fi state and network, addresses, gateway, cable, internet.
    Status {
        /// The link as JSON (the admin screen's fields), for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The networks in range, the one in use first then the strongest, with their security and
    /// whether the borne has them saved.
    List {
        /// Ask the card for a fresh scan first (a few seconds).
        #[arg(long)]
        rescan: bool,
        /// The list as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Join a network and save it (NetworkManager keeps it, with its password, in root's part of
    /// the state partition): the borne joins it again by itself at each start. A network in range
    /// takes its security from the scan; a hidden one from --security (default: WPA2 with a
    /// password, open without). Without --password-file or --password-stdin, the password is asked
    /// on the terminal when the network needs one.
    Join {
        /// The network's name (SSID).
        ssid: String,
        /// A file whose first line is the password.
        #[arg(long, value_name = "FILE", conflicts_with = "password_stdin")]
        password_file: Option<PathBuf>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// The network hides its name (it is not in the scan).
        #[arg(long)]
        hidden: bool,
        /// The network's security, instead of the scan's (needed for a hidden WPA3 network).
        #[arg(long, value_enum, value_name = "SECURITY")]
        security: Option<SecurityArg>,
    },
    /// Forget a saved network: its profiles are deleted, the borne no longer joins it.
    Forget {
        /// The network's name (SSID).
        ssid: String,
    },
}

/// The securities a network may be joined with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecurityArg {
    /// No password.
    Open,
    /// Enhanced open (OWE): no password, encrypted.
    Owe,
    /// WPA2 personal (or WPA2/WPA3 transition): a password.
    Wpa2,
    /// WPA3 personal only (SAE): a password.
    Wpa3,
}

impl From<SecurityArg> for Security {
    fn from(s: SecurityArg) -> Security {
        match s {
            SecurityArg::Open => Security::Open,
            SecurityArg::Owe => Security::Owe,
            SecurityArg::Wpa2 => Security::Personal,
            SecurityArg::Wpa3 => Security::Wpa3Personal,
        }
    }
}

/// Where the password comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PasswordSource {
    File(PathBuf),
    Stdin,
    Terminal,
}

/// Runs one action.
pub fn run(action: Action) -> ExitCode {
    let nm = Nmcli::new();
    match action {
        Action::Status { json } => status(&nm, json),
        Action::List { rescan, json } => list(&nm, rescan, json),
        Action::Join { ssid, password_file, password_stdin, hidden, security } => {
            let source = match (password_file, password_stdin) {
                (Some(f), _) => PasswordSource::File(f),
                (None, true) => PasswordSource::Stdin,
                (None, false) => PasswordSource::Terminal,
            };
            join(&nm, &ssid, &source, hidden, security.map(Security::from))
        }
        Action::Forget { ssid } => forget(&nm, &ssid),
    }
}

/// The exit code of a Wi-Fi error (see the module's documentation).
fn exit_code(e: &WifiError) -> u8 {
    match e {
        WifiError::BadPassword | WifiError::BadSsid | WifiError::Unsupported(_) => 2,
        WifiError::NotAllowed(_) => 3,
        _ => 1,
    }
}

/// Says a Wi-Fi error to people (French) and in the log (English); its exit code.
fn failed(e: &WifiError, action: &str) -> ExitCode {
    eprintln!("{}", wifi_error_fr(e));
    tracing::error!(action, code = e.code(), error = %e, "bornectl wifi failed");
    ExitCode::from(exit_code(e))
}

/// The link in French, a fact a line.
fn link_lines(link: &Link) -> Vec<String> {
    let mut lines = vec![wifi_state_fr(link.wifi, link.ssid.as_deref()) + "."];
    if let Some(device) = &link.device {
        lines.push(format!("Carte Wi-Fi : {device}"));
    }
    if !link.addresses.is_empty() {
        lines.push(format!("Adresse : {}", link.addresses.join(", ")));
    }
    if let Some(gateway) = &link.gateway {
        lines.push(format!("Passerelle : {gateway}"));
    }
    if link.wired {
        lines.push(wifi_wired_fr().to_owned());
    }
    lines.push(wifi_connectivity_fr(link.connectivity).to_owned());
    lines
}

/// One network in French: name, then security, signal, in use, saved.
fn network_line(n: &Network) -> String {
    let signal = n.signal.to_string();
    let mut facts = vec![wifi_security_fr(n.security).to_owned(), network_screen_fr("signal", &[("signal", &signal)])];
    if n.in_use {
        facts.push(network_screen_fr("in_use", &[]));
    }
    if n.saved {
        facts.push(network_screen_fr("saved", &[]));
    }
    format!("{} {} : {}", if n.in_use { "*" } else { "-" }, n.ssid, facts.join(", "))
}

/// Prints an answer written as JSON.
fn json_out(written: serde_json::Result<String>) -> ExitCode {
    match written {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot write the answer as JSON");
            ExitCode::from(1)
        }
    }
}

fn status(nm: &Nmcli, json: bool) -> ExitCode {
    match nm.link() {
        Ok(link) if json => json_out(serde_json::to_string_pretty(&link)),
        Ok(link) => {
            for line in link_lines(&link) {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => failed(&e, "status"),
    }
}

fn list(nm: &Nmcli, rescan: bool, json: bool) -> ExitCode {
    match nm.networks(rescan) {
        Ok(networks) if json => json_out(serde_json::to_string_pretty(&networks)),
        Ok(networks) if networks.is_empty() => {
            println!("{}", network_screen_fr("none", &[]));
            ExitCode::SUCCESS
        }
        Ok(networks) => {
            println!("{} :", network_screen_fr("in_range", &[]));
            for n in &networks {
                println!("{}", network_line(n));
            }
            ExitCode::SUCCESS
        }
        Err(e) => failed(&e, "list"),
    }
}

/// The first line of `text`, without its line ending (a password file written by `echo`).
fn first_line(text: &str) -> &str {
    let line = text.split('\n').next().unwrap_or("");
    line.strip_suffix('\r').unwrap_or(line)
}

/// The password from where the référent said. `None`: none given (an open network needs none).
fn read_password(source: &PasswordSource, needed: bool) -> Result<Option<String>, String> {
    match source {
        PasswordSource::File(path) => read_password_file(path).map(Some),
        PasswordSource::Stdin => {
            let mut text = String::new();
            std::io::stdin()
                .take(4096)
                .read_to_string(&mut text)
                .map_err(|e| format!("Le mot de passe n'a pas pu être lu sur l'entrée standard ({e})."))?;
            Ok(Some(first_line(&text).to_owned()))
        }
        PasswordSource::Terminal if !needed => Ok(None),
        PasswordSource::Terminal if std::io::stdin().is_terminal() => {
            rpassword::prompt_password("Mot de passe du Wi-Fi : ")
                .map(Some)
                .map_err(|e| format!("Le mot de passe n'a pas pu être lu ({e})."))
        }
        PasswordSource::Terminal => Err("Ce réseau demande un mot de passe : donnez-le avec --password-file FICHIER \
             ou --password-stdin."
            .to_owned()),
    }
}

fn read_password_file(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("Le fichier du mot de passe {} ne peut pas être lu ({e}).", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("Le fichier du mot de passe {} n'est pas un texte.", path.display()))?;
    Ok(first_line(&text).to_owned())
}

/// The security to join `ssid` with: the one asked for, else the scan's for a network in range,
/// else (hidden) WPA2 with a password, open without.
fn security_for(
    nm: &Nmcli,
    ssid: &str,
    hidden: bool,
    asked: Option<Security>,
    has_password: bool,
) -> Result<Security, WifiError> {
    if let Some(s) = asked {
        return Ok(s);
    }
    if hidden {
        return Ok(if has_password { Security::Personal } else { Security::Open });
    }
    let networks = nm.networks(true)?;
    networks
        .iter()
        .find(|n| n.ssid == ssid)
        .map(|n| n.security)
        .ok_or_else(|| WifiError::NotInRange(format!("{ssid} is not in the scan")))
}

fn join(nm: &Nmcli, ssid: &str, source: &PasswordSource, hidden: bool, asked: Option<Security>) -> ExitCode {
    // The password first when it comes from a file or stdin: its absence decides a hidden
    // network's default security. From the terminal, only once the security says one is needed.
    let given = match source {
        PasswordSource::Terminal => None,
        other => match read_password(other, true) {
            Ok(p) => p,
            Err(message) => {
                eprintln!("{message}");
                return ExitCode::from(2);
            }
        },
    };
    let security = match security_for(nm, ssid, hidden, asked, given.is_some()) {
        Ok(s) => s,
        Err(e) => return failed(&e, "join"),
    };
    let password = match given {
        Some(p) => Some(p),
        None => match read_password(source, security.needs_password()) {
            Ok(p) => p,
            Err(message) => {
                eprintln!("{message}");
                return ExitCode::from(2);
            }
        },
    };
    let request = match Join::new(ssid, security, password.as_deref(), hidden) {
        Ok(j) => j,
        Err(e) => return failed(&e, "join"),
    };
    println!("{}", network_screen_fr("joining", &[]));
    match nm.join(&request) {
        Ok(link) => {
            tracing::info!(ssid, security = ?security, hidden, "Wi-Fi network joined from bornectl");
            println!("{}", network_screen_fr("joined", &[("ssid", ssid)]));
            for line in link_lines(&link).into_iter().skip(1) {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => failed(&e, "join"),
    }
}

fn forget(nm: &Nmcli, ssid: &str) -> ExitCode {
    match nm.forget(ssid) {
        Ok(()) => {
            tracing::info!(ssid, "Wi-Fi network forgotten from bornectl");
            println!("{}", network_screen_fr("forgotten", &[]));
            ExitCode::SUCCESS
        }
        Err(e) => failed(&e, "forget"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_file_gives_its_first_line_without_its_ending() {
        assert_eq!(first_line("motdepasse\n"), "motdepasse");
        assert_eq!(first_line("mot de passe\r\nautre\n"), "mot de passe");
        assert_eq!(first_line("sans fin"), "sans fin");
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("psk");
        std::fs::write(&f, "pa:ss;word 12\n").unwrap();
        assert_eq!(read_password(&PasswordSource::File(f), true).unwrap().as_deref(), Some("pa:ss;word 12"));
        let e = read_password(&PasswordSource::File(d.path().join("none")), true).unwrap_err();
        assert!(e.starts_with("Le fichier du mot de passe ") && e.contains("ne peut pas être lu"), "{e}");
    }

    #[test]
    fn an_open_network_asks_for_no_password() {
        assert_eq!(read_password(&PasswordSource::Terminal, false), Ok(None));
    }

    #[test]
    fn a_hidden_network_is_wpa2_with_a_password_and_open_without_unless_told() {
        // A program that does not exist: the scan must not be asked for a hidden network.
        let nm = Nmcli::new().program("/nonexistent/nmcli");
        assert_eq!(security_for(&nm, "Cachée", true, None, true), Ok(Security::Personal));
        assert_eq!(security_for(&nm, "Cachée", true, None, false), Ok(Security::Open));
        assert_eq!(security_for(&nm, "Cachée", true, Some(Security::Wpa3Personal), true), Ok(Security::Wpa3Personal));
        assert_eq!(security_for(&nm, "Visible", false, None, true).unwrap_err().code(), "nm-not-running");
    }

    #[test]
    fn usage_errors_and_polkit_refusals_have_their_own_exit_codes() {
        assert_eq!(exit_code(&WifiError::BadPassword), 2);
        assert_eq!(exit_code(&WifiError::BadSsid), 2);
        assert_eq!(exit_code(&WifiError::NotAllowed("x".into())), 3);
        assert_eq!(exit_code(&WifiError::WrongPassword("x".into())), 1);
    }
}
