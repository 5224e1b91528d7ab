//! First-boot setup: `borne-setup.toml`, dropped by a référent on the boot partition or a USB stick,
//! applied once by `bornectl setup` (the image's `borne-setup.service`), then removed.
//!
//! The file is read in two steps: every problem is collected (unknown keys with a suggestion, wrong
//! types, bad values), each with its line, in French; only a file with no problem is applied. Applying
//! reuses what the admin screens and `bornectl` already do: the centre's name goes through the same
//! checked save as the settings screen, the PIN through [`crate::admin::pin`], Matomo through
//! [`crate::push::store_provisioned`]. The Wi-Fi becomes a NetworkManager keyfile.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diag::{check_keys, Diagnostic, Shape, Source};
use crate::load::Paths;

/// The file's name, where the référent drops it.
pub const FILE_NAME: &str = "borne-setup.toml";

/// The keys the file may hold.
const SHAPE: &[(&str, Shape)] = &[
    ("centre", Shape::Table(&[("name", Shape::Leaf)])),
    ("wifi", Shape::Table(&[("ssid", Shape::Leaf), ("password", Shape::Leaf)])),
    ("admin", Shape::Table(&[("pin", Shape::Leaf)])),
    ("matomo", Shape::Table(&[("url", Shape::Leaf), ("site_id", Shape::Leaf), ("token", Shape::Leaf)])),
];

#[derive(Debug, Deserialize)]
struct Raw {
    centre: Option<RawCentre>,
    wifi: Option<RawWifi>,
    admin: Option<RawAdmin>,
    matomo: Option<RawMatomo>,
}
#[derive(Debug, Deserialize)]
struct RawCentre {
    name: toml::Spanned<String>,
}
#[derive(Debug, Deserialize)]
struct RawWifi {
    ssid: toml::Spanned<String>,
    #[serde(default)]
    password: Option<toml::Spanned<String>>,
}
#[derive(Debug, Deserialize)]
struct RawAdmin {
    pin: toml::Spanned<String>,
}
#[derive(Debug, Deserialize)]
struct RawMatomo {
    url: toml::Spanned<String>,
    site_id: toml::Spanned<i64>,
    token: toml::Spanned<String>,
}

/// A Wi-Fi network: its name, and its WPA password (none: an open network).
#[derive(Clone, PartialEq, Eq)]
pub struct Wifi {
    /// Network name (SSID).
    pub ssid: String,
    /// WPA2/WPA3 personal password.
    pub password: Option<String>,
}

impl std::fmt::Debug for Wifi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wifi")
            .field("ssid", &self.ssid)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .finish()
    }
}

/// Matomo: where this borne delivers its statistics.
#[derive(Clone, PartialEq, Eq)]
pub struct Matomo {
    /// Matomo's root address.
    pub url: url::Url,
    /// This borne's site.
    pub site_id: u32,
    /// Write token.
    pub token: crate::matomo::Token,
}

impl std::fmt::Debug for Matomo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matomo")
            .field("url", &self.url.as_str())
            .field("site_id", &self.site_id)
            .finish_non_exhaustive()
    }
}

/// A checked setup file.
#[derive(Clone, PartialEq, Eq)]
pub struct Setup {
    /// The centre's name.
    pub centre_name: Option<String>,
    /// The Wi-Fi to join.
    pub wifi: Option<Wifi>,
    /// The référent's PIN.
    pub pin: Option<String>,
    /// Matomo.
    pub matomo: Option<Matomo>,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("centre_name", &self.centre_name)
            .field("wifi", &self.wifi)
            .field("pin", &self.pin.as_ref().map(|_| "…"))
            .field("matomo", &self.matomo)
            .finish()
    }
}

/// What is wrong in a setup file, in French, with the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line (0: the whole file).
    pub line: usize,
    /// The message for the référent.
    pub french: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{FILE_NAME} : {}", self.french)
        } else {
            write!(f, "{FILE_NAME}, ligne {} : {}", self.line, self.french)
        }
    }
}

fn from_diag(d: &Diagnostic) -> Problem {
    Problem { line: d.line, french: crate::messages::problem_fr(&d.problem) }
}

/// Reads and checks a setup file; every problem is returned at once.
pub fn parse(text: &str) -> Result<Setup, Vec<Problem>> {
    let path = PathBuf::from(FILE_NAME);
    let src = Source { path: &path, text };
    let unknown = check_keys(&src, SHAPE);
    if !unknown.is_empty() {
        return Err(unknown.iter().map(from_diag).collect());
    }
    let raw: Raw = toml::from_str(text).map_err(|e| vec![from_diag(&src.from_toml(&e, false))])?;
    let mut problems = Vec::new();
    let mut at = |span: std::ops::Range<usize>, french: String| {
        problems.push(Problem { line: src.line_col(span.start).0, french });
    };
    let centre_name = raw.centre.and_then(|c| {
        let name = c.name.get_ref().trim().to_string();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            at(c.name.span(), "le nom du centre doit avoir de 1 à 80 caractères, sur une seule ligne.".into());
            None
        } else {
            Some(name)
        }
    });
    let wifi = raw.wifi.and_then(|w| {
        let ssid = w.ssid.get_ref().clone();
        let mut ok = true;
        if ssid.is_empty() || ssid.len() > 32 || ssid.chars().any(char::is_control) {
            at(w.ssid.span(), "le nom du réseau Wi-Fi (ssid) doit avoir de 1 à 32 caractères, comme il s'affiche sur un téléphone.".into());
            ok = false;
        }
        let password = w.password.as_ref().map(|p| p.get_ref().clone()).filter(|p| !p.is_empty());
        if let (Some(p), Some(span)) = (&password, w.password.as_ref().map(toml::Spanned::span)) {
            if p.chars().count() < 8 || p.chars().count() > 63 || p.chars().any(char::is_control) {
                at(span, "le mot de passe Wi-Fi doit avoir de 8 à 63 caractères. Pour un réseau sans mot de passe, écrivez password = \"\".".into());
                ok = false;
            }
        }
        ok.then_some(Wifi { ssid, password })
    });
    let pin = raw.admin.and_then(|a| {
        let pin = a.pin.get_ref().trim().to_string();
        match crate::admin::pin::Pin::validate(&pin, &pin) {
            Ok(()) => Some(pin),
            Err(e) => {
                at(a.pin.span(), format!("code de l'espace référent : {}", e.french()));
                None
            }
        }
    });
    let matomo = raw.matomo.and_then(|m| {
        let url = crate::push::valid_url(m.url.get_ref());
        if url.is_none() {
            at(m.url.span(), format!("« {} » n'est pas l'adresse d'un Matomo. Écrivez l'adresse complète, par exemple « https://stats.federation.fr/ ».", m.url.get_ref()));
        }
        let site_id = u32::try_from(*m.site_id.get_ref()).ok().filter(|s| *s > 0);
        if site_id.is_none() {
            at(m.site_id.span(), "le numéro de site Matomo (site_id) est un nombre entier plus grand que 0, sans guillemets.".into());
        }
        let token = crate::matomo::Token::new(m.token.get_ref());
        if token.is_none() {
            at(m.token.span(), "la clé d'accès Matomo (token) est vide ou contient des espaces : recopiez-la telle que la fédération l'a donnée.".into());
        }
        Some(Matomo { url: url?, site_id: site_id?, token: token? })
    });
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(problems);
    }
    let setup = Setup { centre_name, wifi, pin, matomo };
    if setup == (Setup { centre_name: None, wifi: None, pin: None, matomo: None }) {
        return Err(vec![Problem {
            line: 0,
            french: "le fichier ne contient aucun réglage ([centre], [wifi], [admin] ou [matomo]).".into(),
        }]);
    }
    Ok(setup)
}

/// The NetworkManager keyfile of a Wi-Fi network (pure). `uuid` names the connection.
pub fn wifi_keyfile(w: &Wifi, uuid: &str) -> String {
    // GKeyFile escapes: backslash first, then what would end or change a value.
    let esc = |s: &str| s.replace('\\', "\\\\").replace(';', "\\;").replace('\n', "\\n");
    let mut out = format!(
        "[connection]\nid=borne-wifi\nuuid={uuid}\ntype=wifi\nautoconnect=true\n\n[wifi]\nmode=infrastructure\nssid={}\n\n",
        esc(&w.ssid)
    );
    if let Some(p) = &w.password {
        out.push_str(&format!("[wifi-security]\nkey-mgmt=wpa-psk\npsk={}\n\n", esc(p)));
    }
    out.push_str("[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=auto\n");
    out
}

/// Applies a checked setup: settings and secrets in the state directory, the Wi-Fi keyfile in
/// `network_dir` (root only). Returns what was done, one French line each.
pub fn apply(paths: &Paths, setup: &Setup, network_dir: Option<&Path>) -> Result<Vec<String>, String> {
    let mut done = Vec::new();
    if let Some(name) = &setup.centre_name {
        let path = paths.settings_overrides();
        let mut table: toml::Table =
            std::fs::read_to_string(&path).ok().and_then(|t| t.parse().ok()).unwrap_or_default();
        let centre = table.entry("centre").or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(c) = centre {
            c.insert("name".into(), toml::Value::String(name.clone()));
        }
        let text = toml::to_string(&table).map_err(|e| format!("réglages du centre : {e}"))?;
        crate::admin::history::save(
            paths,
            crate::admin::history::Editable::Settings,
            &text,
            "Installation : nom du centre",
        )
        .map_err(|d| d.iter().map(Diagnostic::french).collect::<Vec<_>>().join("\n"))?;
        done.push(format!("Nom du centre : {name}"));
    }
    if let Some(pin) = &setup.pin {
        let loaded = crate::load::load(paths);
        crate::admin::pin::Pin::new(&paths.state_dir, loaded.settings.pin_hash.clone())
            .set(pin, pin)
            .map_err(|e| e.french().to_string())?;
        done.push("Code de l'espace référent enregistré.".into());
    }
    if let Some(m) = &setup.matomo {
        let loaded = crate::load::load(paths);
        let token_file = crate::push::Destination::resolve(&loaded.settings.stats, paths).token_file;
        crate::push::store_provisioned(paths, &token_file, &m.url, m.site_id, &m.token)
            .map_err(|e| format!("Matomo : enregistrement impossible ({e})."))?;
        done.push(format!("Statistiques envoyées à {} (site {}).", m.url, m.site_id));
    }
    if let (Some(w), Some(dir)) = (&setup.wifi, network_dir) {
        let uuid = std::fs::read_to_string("/proc/sys/kernel/random/uuid")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "6f1b7a8e-5d1c-4c4e-9a55-0b0e2f3d7c11".into());
        std::fs::create_dir_all(dir).map_err(|e| format!("Wi-Fi : dossier impossible à créer ({e})."))?;
        crate::fsutil::write_atomic_mode(
            &dir.join("borne-wifi.nmconnection"),
            wifi_keyfile(w, &uuid).as_bytes(),
            0o600,
        )
        .map_err(|e| format!("Wi-Fi : enregistrement impossible ({e})."))?;
        done.push(format!("Wi-Fi : réseau « {} ».", w.ssid));
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[centre]
name = "Centre social Les Tilleuls"

[wifi]
ssid = "Tilleuls-Public"
password = "bienvenue2024"

[admin]
pin = "482915"

[matomo]
url = "https://stats.federation.example/"
site_id = 12
token = "0123456789abcdef0123456789abcdef"
"#;

    #[test]
    fn a_full_file_is_read() {
        let s = parse(GOOD).unwrap();
        assert_eq!(s.centre_name.as_deref(), Some("Centre social Les Tilleuls"));
        assert_eq!(s.wifi.as_ref().unwrap().ssid, "Tilleuls-Public");
        assert_eq!(s.pin.as_deref(), Some("482915"));
        assert_eq!(s.matomo.as_ref().unwrap().site_id, 12);
    }

    #[test]
    fn debug_hides_secrets() {
        let s = format!("{:?}", parse(GOOD).unwrap());
        assert!(!s.contains("482915") && !s.contains("bienvenue2024") && !s.contains("0123456789abcdef"), "{s}");
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = "[centre]\nname = \"\"\n[wifi]\nssid = \"x\"\npassword = \"court\"\n[admin]\npin = \"12ab\"\n[matomo]\nurl = \"ftp://x\"\nsite_id = 0\ntoken = \"a b\"\n";
        let p = parse(text).unwrap_err();
        let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 5, 7, 9, 10, 11], "{p:?}");
        assert!(p[1].french.contains("8 à 63"));
        assert!(p[1].to_string().starts_with("borne-setup.toml, ligne 5 : "));
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let p = parse("[centre]\nnom = \"Les Lilas\"\n").unwrap_err();
        assert_eq!(p[0].line, 2);
        assert!(p[0].french.contains("« nom » n'existe pas"), "{}", p[0].french);
        let p = parse("[wiffi]\nssid = \"a\"\n").unwrap_err();
        assert!(p[0].french.contains("wifi"), "{}", p[0].french);
    }

    #[test]
    fn syntax_and_empty_files_are_refused() {
        assert_eq!(parse("[centre\nname = 1").unwrap_err()[0].line, 1);
        assert!(parse("# rien\n").unwrap_err()[0].french.contains("aucun réglage"));
    }

    #[test]
    fn an_open_network_has_no_security_section() {
        let s = parse("[wifi]\nssid = \"Mairie\"\npassword = \"\"\n").unwrap();
        let k = wifi_keyfile(s.wifi.as_ref().unwrap(), "u");
        assert!(k.contains("ssid=Mairie\n") && !k.contains("wifi-security"), "{k}");
        let k = wifi_keyfile(&Wifi { ssid: "a;b".into(), password: Some("p\\w;rd12".into()) }, "u");
        assert!(k.contains("ssid=a\\;b\n") && k.contains("psk=p\\\\w\\;rd12\n"), "{k}");
    }

    #[test]
    fn apply_writes_settings_pin_matomo_and_wifi() {
        let dir = tempfile::tempdir().unwrap();
        let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
        let paths = Paths { config_dir: config, state_dir: dir.path().join("state") };
        let net = dir.path().join("network");
        let done = apply(&paths, &parse(GOOD).unwrap(), Some(&net)).unwrap();
        assert_eq!(done.len(), 4, "{done:?}");
        let loaded = crate::load::load(&paths);
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        assert_eq!(loaded.settings.centre.name, "Centre social Les Tilleuls");
        let pin = crate::admin::pin::Pin::new(&paths.state_dir, None);
        assert!(pin.is_set());
        let dest = crate::push::Destination::resolve(&loaded.settings.stats, &paths);
        assert_eq!(dest.site_id, 12);
        assert!(dest.target().is_ok());
        let key = net.join("borne-wifi.nmconnection");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(std::fs::read_to_string(key).unwrap().contains("psk=bienvenue2024"));
    }
}
