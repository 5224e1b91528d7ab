//! First-boot setup: `borne-setup.toml`, dropped by a référent on the boot partition or a USB stick,
//! applied once by `bornectl setup` (the image's `borne-setup.service`), then removed.
//!
//! The file is read in two steps: every problem is collected (unknown keys with a suggestion, wrong
//! types, bad values), each with its line, in French; only a file with no problem is applied. Applying
//! reuses what the admin screens and `bornectl` already do: the centre's name goes through the same
//! checked save as the settings screen, the PIN through [`crate::admin::pin`], Matomo through
//! [`crate::push::store_provisioned`]. The Wi-Fi becomes a NetworkManager keyfile. The federation's SSH
//! public keys (optional: without them the borne has no SSH at all) become an `authorized_keys` file.

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
    ("ssh", Shape::Table(&[("keys", Shape::Leaf)])),
    ("catalogue", Shape::Table(&[("channel_url", Shape::Leaf), ("public_keys", Shape::Leaf)])),
    ("updates", Shape::Table(&[("url", Shape::Leaf)])),
];

/// SSH key types the federation may use.
const SSH_KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "sk-ssh-ed25519@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-rsa",
];

/// Most keys the file may hold.
pub const MAX_SSH_KEYS: usize = 10;

#[derive(Debug, Deserialize)]
struct Raw {
    centre: Option<RawCentre>,
    wifi: Option<RawWifi>,
    admin: Option<RawAdmin>,
    matomo: Option<RawMatomo>,
    ssh: Option<RawSsh>,
    catalogue: Option<RawCatalogue>,
    updates: Option<RawUpdates>,
}
#[derive(Debug, Deserialize)]
struct RawUpdates {
    url: toml::Spanned<String>,
}
#[derive(Debug, Deserialize)]
struct RawCatalogue {
    channel_url: toml::Spanned<String>,
    public_keys: toml::Spanned<Vec<toml::Spanned<String>>>,
}
#[derive(Debug, Deserialize)]
struct RawSsh {
    keys: toml::Spanned<Vec<toml::Spanned<String>>>,
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
    /// The federation's SSH public keys, one `authorized_keys` line each (none: no SSH).
    pub ssh_keys: Vec<String>,
    /// The federation's signed catalogue channel: its address and public keys (one or two).
    pub catalogue: Option<(url::Url, Vec<String>)>,
    /// The address of the federation's signed system updates (the A/B updater's `url`).
    pub updates_url: Option<url::Url>,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("centre_name", &self.centre_name)
            .field("wifi", &self.wifi)
            .field("pin", &self.pin.as_ref().map(|_| "…"))
            .field("matomo", &self.matomo)
            .field("ssh_keys", &self.ssh_keys.len())
            .field("catalogue", &self.catalogue.as_ref().map(|(u, k)| (u.as_str(), k.len())))
            .field("updates_url", &self.updates_url.as_ref().map(url::Url::as_str))
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
    let mut ssh_keys = Vec::new();
    if let Some(ssh) = raw.ssh {
        if ssh.keys.get_ref().is_empty() || ssh.keys.get_ref().len() > MAX_SSH_KEYS {
            at(ssh.keys.span(), format!("donnez de 1 à {MAX_SSH_KEYS} clés SSH publiques, ou retirez la section [ssh] (sans elle, la borne n'a pas d'accès SSH)."));
        }
        for key in ssh.keys.get_ref() {
            match ssh_key_line(key.get_ref()) {
                Ok(line) => ssh_keys.push(line),
                Err(french) => at(key.span(), french),
            }
        }
    }
    let catalogue = raw.catalogue.and_then(|c| {
        let url = crate::push::valid_url(c.channel_url.get_ref());
        if url.is_none() {
            at(c.channel_url.span(), format!("« {} » n'est pas l'adresse du catalogue de la fédération. Écrivez l'adresse complète, par exemple « https://catalogue.federation.fr/borne/ ».", c.channel_url.get_ref()));
        }
        let n = c.public_keys.get_ref().len();
        if n == 0 || n > crate::config::MAX_PUBLIC_KEYS {
            at(c.public_keys.span(), "donnez une ou deux clés publiques de la fédération (deux pendant un changement de clé).".into());
        }
        let mut keys = Vec::new();
        for k in c.public_keys.get_ref() {
            match crate::signature::FederationKey::parse(k.get_ref()) {
                Ok(key) => keys.push(key.base64().to_string()),
                Err(_) => at(k.span(), crate::messages::problem_fr(&crate::diag::Problem::PublicKey(k.get_ref().chars().take(60).collect()))),
            }
        }
        Some((url?, keys))
    });
    let updates_url = raw.updates.and_then(|u| {
        // The same rule as the référent's and borne.toml's (https, a NAME.raucb file, plain characters).
        match crate::updates::parse_update_url(u.url.get_ref()) {
            Ok(url) => Some(url),
            Err(why) => {
                at(u.url.span(), crate::messages::update_url_fr(u.url.get_ref(), &why));
                None
            }
        }
    });
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(problems);
    }
    let setup = Setup { centre_name, wifi, pin, matomo, ssh_keys, catalogue, updates_url };
    if setup
        == (Setup {
            centre_name: None,
            wifi: None,
            pin: None,
            matomo: None,
            ssh_keys: Vec::new(),
            catalogue: None,
            updates_url: None,
        })
    {
        return Err(vec![Problem {
            line: 0,
            french: "le fichier ne contient aucun réglage ([centre], [wifi], [admin], [matomo], [ssh], [catalogue] ou [updates])."
                .into(),
        }]);
    }
    Ok(setup)
}

/// Checks one SSH public key (`type base64 [comment]`, as in a `.pub` file) and gives its
/// `authorized_keys` line: the key's type is one sshd accepts and its data really is a key of that
/// type (the base64 decodes and names the same type). Options before the type are refused: the file
/// gives keys, not rules.
pub fn ssh_key_line(text: &str) -> Result<String, String> {
    use base64::Engine;
    let mut parts = text.split_whitespace();
    let (Some(kind), Some(data)) = (parts.next(), parts.next()) else {
        return Err(
            "une clé SSH publique s'écrit « ssh-ed25519 AAAA… nom » : recopiez toute la ligne du fichier .pub.".into(),
        );
    };
    if !SSH_KEY_TYPES.contains(&kind) {
        return Err(format!("« {} » n'est pas un type de clé SSH accepté (ssh-ed25519, ecdsa-sha2-nistp256…) : recopiez toute la ligne du fichier .pub.", kind.chars().take(40).collect::<String>()));
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(data).map_err(|_| {
        "la clé SSH est incomplète ou abîmée : recopiez toute la ligne du fichier .pub, sans la couper.".to_string()
    })?;
    let named = bytes
        .get(..4)
        .and_then(|l| usize::try_from(u32::from_be_bytes([l[0], l[1], l[2], l[3]])).ok())
        .and_then(|n| bytes.get(4..4 + n));
    if named != Some(kind.as_bytes()) || bytes.len() < 4 + kind.len() + 32 {
        return Err(
            "la clé SSH ne correspond pas à son type : recopiez toute la ligne du fichier .pub, sans la modifier."
                .into(),
        );
    }
    let comment: String = parts.collect::<Vec<_>>().join(" ").chars().filter(|c| !c.is_control()).take(100).collect();
    Ok(if comment.is_empty() { format!("{kind} {data}") } else { format!("{kind} {data} {comment}") })
}

/// The NetworkManager keyfile of a Wi-Fi network (pure). `uuid` names the connection.
pub fn wifi_keyfile(w: &Wifi, uuid: &str) -> String {
    // GKeyFile escapes: backslash first, then what would end or change a value.
    let esc = |s: &str| s.replace('\\', "\\\\").replace(';', "\\;").replace('\n', "\\n");
    // The password is a plain string value, where GKeyFile knows no `\;` (lists only): NetworkManager
    // would drop the whole value. The network name is read by NetworkManager's own rules, which do.
    let esc_psk = |s: &str| s.replace('\\', "\\\\").replace('\n', "\\n");
    let mut out = format!(
        "[connection]\nid=borne-wifi\nuuid={uuid}\ntype=wifi\nautoconnect=true\n\n[wifi]\nmode=infrastructure\nssid={}\n\n",
        esc(&w.ssid)
    );
    if let Some(p) = &w.password {
        out.push_str(&format!("[wifi-security]\nkey-mgmt=wpa-psk\npsk={}\n\n", esc_psk(p)));
    }
    out.push_str("[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=auto\n");
    out
}

/// Where `apply` writes what is not the kiosk's: both root-only folders of the image's state partition.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemDirs<'a> {
    /// The Wi-Fi as a NetworkManager keyfile (the image: `/var/lib/borne/network`).
    pub network: Option<&'a Path>,
    /// The federation's SSH keys as `authorized_keys` (the image: `/var/lib/borne/ssh`).
    pub ssh: Option<&'a Path>,
    /// The A/B updater's `update.conf` (the image: `/var/lib/borne-state/system`).
    pub updates: Option<&'a Path>,
}

/// Applies a checked setup: settings and secrets in the state directory, the Wi-Fi keyfile and the
/// SSH keys in their system folders. Returns what was done, one French line each.
pub fn apply(paths: &Paths, setup: &Setup, dirs: SystemDirs<'_>) -> Result<Vec<String>, String> {
    let network_dir = dirs.network;
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
    if let Some((url, keys)) = &setup.catalogue {
        let path = paths.settings_overrides();
        let mut table: toml::Table =
            std::fs::read_to_string(&path).ok().and_then(|t| t.parse().ok()).unwrap_or_default();
        let mut c = toml::Table::new();
        c.insert("channel_url".into(), toml::Value::String(url.to_string()));
        c.insert(
            "public_keys".into(),
            toml::Value::Array(keys.iter().map(|k| toml::Value::from(k.as_str())).collect()),
        );
        table.insert("catalogue".into(), toml::Value::Table(c));
        let text = toml::to_string(&table).map_err(|e| format!("catalogue : {e}"))?;
        crate::admin::history::save(
            paths,
            crate::admin::history::Editable::Settings,
            &text,
            "Installation : catalogue de la fédération",
        )
        .map_err(|d| d.iter().map(Diagnostic::french).collect::<Vec<_>>().join("\n"))?;
        done.push(format!("Catalogue de la fédération : {url} ({} clé(s)).", keys.len()));
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
    if let (false, Some(dir)) = (setup.ssh_keys.is_empty(), dirs.ssh) {
        std::fs::create_dir_all(dir).map_err(|e| format!("SSH : dossier impossible à créer ({e})."))?;
        let mut text = setup.ssh_keys.join("\n");
        text.push('\n');
        crate::fsutil::write_atomic_mode(&dir.join("authorized_keys"), text.as_bytes(), 0o600)
            .map_err(|e| format!("SSH : enregistrement impossible ({e})."))?;
        done.push(format!("Accès SSH de la fédération : {} clé(s).", setup.ssh_keys.len()));
    }
    if let (Some(url), Some(dir)) = (&setup.updates_url, dirs.updates) {
        std::fs::create_dir_all(dir).map_err(|e| format!("Mises à jour : dossier impossible à créer ({e})."))?;
        let file = dir.join("update.conf");
        // Other keys a federation set there (ca=, boot_deadline_secs=…) stay; url= is replaced.
        let kept: String = std::fs::read_to_string(&file)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.split_once('=').is_none_or(|(k, _)| k.trim() != "url"))
            .map(|l| format!("{l}\n"))
            .collect();
        crate::fsutil::write_atomic_mode(&file, format!("{kept}url={url}\n").as_bytes(), 0o644)
            .map_err(|e| format!("Mises à jour : enregistrement impossible ({e})."))?;
        done.push(format!("Mises à jour du système : {url}"));
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

[ssh]
keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK6wmzsiPPPT49xc3q1NvgFtsgwvgXXaVyWKcoCi42WD federation@example"]
"#;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK6wmzsiPPPT49xc3q1NvgFtsgwvgXXaVyWKcoCi42WD";

    #[test]
    fn the_catalogue_channel_is_checked_then_kept_in_the_settings() {
        let key = minisign::KeyPair::generate_unencrypted_keypair().unwrap().pk.to_base64();
        let text = format!(
            "[catalogue]\nchannel_url = \"https://catalogue.federation.example/borne/\"\npublic_keys = [\"{key}\"]\n"
        );
        let s = parse(&text).unwrap();
        let (_d, paths) = crate::load::test_paths();
        let done = apply(&paths, &s, SystemDirs::default()).unwrap();
        assert!(done[0].starts_with("Catalogue de la fédération"), "{done:?}");
        let l = crate::load::load(&paths);
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        assert_eq!(l.settings.catalogue.public_keys, std::slice::from_ref(&key));
        assert_eq!(l.settings.catalogue.channel_url.unwrap().as_str(), "https://catalogue.federation.example/borne/");
        let bad =
            parse("[catalogue]\nchannel_url = \"http://catalogue.example/\"\npublic_keys = [\n  \"RWQ-abîmée\",\n]\n")
                .unwrap_err();
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert_eq!((bad[0].line, bad[1].line), (2, 4), "{bad:?}");
        assert!(bad[1].french.contains("commence par « RW »"), "{bad:?}");
        let three = format!(
            "[catalogue]\nchannel_url = \"https://c.example/\"\npublic_keys = [\"{key}\", \"{key}\", \"{key}\"]\n"
        );
        assert!(parse(&three).unwrap_err()[0].french.contains("une ou deux clés"));
    }

    #[test]
    fn ssh_keys_are_checked() {
        assert_eq!(ssh_key_line(&format!("  {ED25519}  ")).unwrap(), ED25519);
        assert!(ssh_key_line("ssh-ed25519").unwrap_err().contains("recopiez toute la ligne"));
        assert!(ssh_key_line("ssh-dss AAAAB3NzaC1kc3MAAACBAP").unwrap_err().contains("n'est pas un type"));
        // Cut short, or data of another type under this name.
        let cut = ssh_key_line("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKwq5CX0").unwrap_err();
        assert!(cut.contains("abîmée") || cut.contains("ne correspond pas"), "{cut}");
        let rsa_named_ed = ED25519.replace("ssh-ed25519 ", "ssh-rsa ");
        assert!(ssh_key_line(&rsa_named_ed).unwrap_err().contains("ne correspond pas"));
        assert!(ssh_key_line(r#"command="sh" ssh-ed25519 AAAA"#).is_err());
        let p = parse("[ssh]\nkeys = []\n").unwrap_err();
        assert!(p[0].french.contains("de 1 à 10 clés"), "{}", p[0].french);
        let p = parse("[centre]\nname = \"A\"\n[ssh]\nkeys = [\n  \"ssh-rsa AAAA\",\n]\n").unwrap_err();
        assert_eq!(p[0].line, 5, "{p:?}");
    }

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
        assert!(k.contains("ssid=a\\;b\n") && k.contains("psk=p\\\\w;rd12\n"), "{k}");
    }

    #[test]
    fn the_update_address_goes_to_the_updaters_settings_and_only_https() {
        let s = parse("[updates]\nurl = \"https://maj.federation.example/borne/borne.raucb\"\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let system = dir.path().join("system");
        std::fs::create_dir_all(&system).unwrap();
        // A federation's own keys in the file stay; an older url= is replaced.
        std::fs::write(
            system.join("update.conf"),
            "ca=/var/lib/borne-state/system/ca.pem\nurl=https://old.example/b.raucb\n",
        )
        .unwrap();
        let (_d, paths) = crate::load::test_paths();
        let done = apply(&paths, &s, SystemDirs { updates: Some(&system), ..SystemDirs::default() }).unwrap();
        assert_eq!(done, ["Mises à jour du système : https://maj.federation.example/borne/borne.raucb"]);
        assert_eq!(
            std::fs::read_to_string(system.join("update.conf")).unwrap(),
            "ca=/var/lib/borne-state/system/ca.pem\nurl=https://maj.federation.example/borne/borne.raucb\n"
        );
        for bad in [
            "http://maj.federation.example/borne.raucb",
            "maj.federation.example",
            "",
            "https://maj.federation.example/borne/",
            "https://maj.federation.example/$(reboot).raucb",
        ] {
            let p = parse(&format!("[centre]\nname = \"A\"\n[updates]\nurl = \"{bad}\"\n")).unwrap_err();
            assert_eq!(p.len(), 1, "{bad}: {p:?}");
            assert_eq!(p[0].line, 4, "{bad}");
            assert!(p[0].french.contains("adresse des mises à jour"), "{}", p[0].french);
        }
    }

    #[test]
    fn apply_writes_settings_pin_matomo_and_wifi() {
        let dir = tempfile::tempdir().unwrap();
        let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
        let paths = Paths { config_dir: config, state_dir: dir.path().join("state") };
        let net = dir.path().join("network");
        let ssh = dir.path().join("ssh");
        let done =
            apply(&paths, &parse(GOOD).unwrap(), SystemDirs { network: Some(&net), ssh: Some(&ssh), updates: None })
                .unwrap();
        assert_eq!(done.len(), 5, "{done:?}");
        let keys = std::fs::read_to_string(ssh.join("authorized_keys")).unwrap();
        assert_eq!(keys, format!("{ED25519} federation@example\n"));
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
