//! Loading what the borne runs on, never losing the last good state.
//!
//! Reads `borne.toml` and `catalogue.toml` from the config directory and `local.toml` from the state
//! directory. When all three are valid, copies of them are kept in `<state>/last-good/`. When one fails,
//! the borne runs on those copies (or, on a first start, on the defaults built into the program) and
//! the problems are returned so the admin screen and `bornectl check-config` can show them.

use std::path::PathBuf;

use crate::catalogue::demarches::{parse_demarches_with, Demarche};
use crate::catalogue::{parse_local_with, parse_national, Effective, Local, National};
use crate::config::{parse_settings, Settings};
use crate::diag::{read, Diagnostic};
use crate::fsutil::write_atomic;

/// The shipped defaults, built into the program as the last resort.
pub const BUILTIN_SETTINGS: &str = include_str!("../../../config/borne.toml");
/// The shipped national catalogue, built into the program as the last resort.
pub const BUILTIN_CATALOGUE: &str = include_str!("../../../config/catalogue.toml");
/// The shipped "Avant de commencer" sheets, built into the program as the last resort.
pub const BUILTIN_DEMARCHES: &str = include_str!("../../../config/demarches.toml");

/// Where things are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Directory of `borne.toml` and `catalogue.toml` (read-only in the image).
    pub config_dir: PathBuf,
    /// Writable state directory (`local.toml`, last good copies, statistics, session folder).
    pub state_dir: PathBuf,
}

impl Paths {
    /// `borne.toml`.
    pub fn settings(&self) -> PathBuf {
        self.config_dir.join("borne.toml")
    }
    /// `catalogue.toml`.
    pub fn catalogue(&self) -> PathBuf {
        self.config_dir.join("catalogue.toml")
    }
    /// `demarches.toml` (the "Avant de commencer" sheets).
    pub fn demarches(&self) -> PathBuf {
        self.config_dir.join("demarches.toml")
    }
    /// `local.toml` (the référent's overrides).
    pub fn local(&self) -> PathBuf {
        self.state_dir.join("local.toml")
    }
    /// `<state>/demarches.toml`: the référent's own "Avant de commencer" sheets (same format as the
    /// national file; a sheet with a national sheet's id replaces it).
    pub fn local_demarches(&self) -> PathBuf {
        self.state_dir.join("demarches.toml")
    }
    /// `settings.toml` in the state directory: the référent's settings, over `borne.toml`.
    pub fn settings_overrides(&self) -> PathBuf {
        self.state_dir.join("settings.toml")
    }
    /// Folder of the last good copies.
    pub fn last_good(&self) -> PathBuf {
        self.state_dir.join("last-good")
    }
    /// The default config directory: `/etc/borne` when it exists (the image), else `./config` (a checkout).
    pub fn default_config_dir() -> PathBuf {
        let etc = PathBuf::from("/etc/borne");
        if etc.join("borne.toml").exists() {
            etc
        } else {
            PathBuf::from("config")
        }
    }

    /// The default state directory: `$XDG_STATE_HOME/borne`, else `~/.local/state/borne`.
    pub fn default_state_dir() -> PathBuf {
        std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
            .unwrap_or_else(|| PathBuf::from("/var/lib"))
            .join("borne")
    }
}

/// Which version the borne is running on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Running {
    /// The files as they are now.
    Current,
    /// The last good copies, because the current files have problems.
    LastGood,
    /// The defaults built into the program (no good copy yet).
    Builtin,
}

/// The outcome of a load.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Settings in force.
    pub settings: Settings,
    /// National catalogue in force.
    pub national: National,
    /// Local overrides in force.
    pub local: Local,
    /// "Avant de commencer" sheets in force.
    pub demarches: Vec<Demarche>,
    /// The portal and allow-list.
    pub effective: Effective,
    /// Problems of the current files (empty when `running` is `Current`).
    pub problems: Vec<Diagnostic>,
    /// Which version is in force.
    pub running: Running,
}

/// The texts of a configuration: the files as they are, or with one replaced by a candidate.
#[derive(Debug, Clone)]
pub(crate) struct Texts {
    pub(crate) settings: (PathBuf, String),
    pub(crate) overrides: (PathBuf, String),
    pub(crate) catalogue: (PathBuf, String),
    pub(crate) local: (PathBuf, String),
    pub(crate) demarches: (PathBuf, String),
    pub(crate) local_demarches: (PathBuf, String),
    /// National tile ids the signed channel's updates removed (the référent's choices on them are
    /// set aside, not errors).
    pub(crate) retired: Vec<String>,
}

/// `overrides` laid over `base`, table by table (pure).
fn merge(base: &mut toml::Table, overrides: toml::Table) {
    for (k, v) in overrides {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// The settings: `borne.toml` and the référent's `settings.toml`, each checked on its own (so a
/// problem is reported where it is), then the second laid over the first.
fn parse_settings_with_overrides(t: &Texts) -> Result<Settings, Vec<Diagnostic>> {
    let base = parse_settings(&t.settings.0, &t.settings.1);
    if t.overrides.1.trim().is_empty() {
        return base;
    }
    let over = parse_settings(&t.overrides.0, &t.overrides.1);
    match (base, over) {
        (Ok(_), Ok(_)) => {
            let (Ok(mut b), Ok(o)) = (t.settings.1.parse::<toml::Table>(), t.overrides.1.parse::<toml::Table>()) else {
                return parse_settings(&t.overrides.0, &t.overrides.1);
            };
            merge(&mut b, o);
            let merged = toml::to_string(&b).unwrap_or_default();
            parse_settings(&t.overrides.0, &merged)
        }
        (Err(mut a), Err(mut b)) => {
            a.append(&mut b);
            Err(a)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// The national sheets with the référent's laid over them: same id replaces (in place), a new id is
/// added after the national ones.
pub(crate) fn overlay_demarches(national: Vec<Demarche>, own: Vec<Demarche>) -> Vec<Demarche> {
    let mut out = national;
    for d in own {
        match out.iter_mut().find(|n| n.id == d.id) {
            Some(n) => *n = d,
            None => out.push(d),
        }
    }
    out
}

/// Everything the configuration files say, checked.
pub type Parsed = (Settings, National, Local, Vec<Demarche>);

pub(crate) fn parse_all(t: &Texts) -> Result<Parsed, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let settings = parse_settings_with_overrides(t).map_err(|mut e| problems.append(&mut e)).ok();
    let national = parse_national(&t.catalogue.0, &t.catalogue.1).map_err(|mut e| problems.append(&mut e)).ok();
    let local = national.as_ref().and_then(|n| {
        parse_local_with(&t.local.0, &t.local.1, n, &t.retired).map_err(|mut e| problems.append(&mut e)).ok()
    });
    let mut local = local;
    let demarches = match (&national, &mut local) {
        (Some(n), Some(l)) => {
            let ids: Vec<&str> = n.services.iter().chain(l.services.iter()).map(|s| s.id.as_str()).collect();
            let national = parse_demarches_with(&t.demarches.0, &t.demarches.1, &ids, &[], &mut Vec::new())
                .map_err(|mut e| problems.append(&mut e))
                .ok();
            let mut set_aside = Vec::new();
            let gone: Vec<String> = t.retired.iter().chain(l.set_aside_tiles.iter()).cloned().collect();
            let own = parse_demarches_with(&t.local_demarches.0, &t.local_demarches.1, &ids, &gone, &mut set_aside)
                .map_err(|mut e| problems.append(&mut e))
                .ok();
            l.set_aside.append(&mut set_aside);
            national.zip(own).map(|(n, o)| overlay_demarches(n, o))
        }
        _ => None,
    };
    match (settings, national, local, demarches) {
        (Some(s), Some(n), Some(l), Some(d)) if problems.is_empty() => Ok((s, n, l, d)),
        _ => Err(problems),
    }
}

pub(crate) fn read_current(paths: &Paths) -> Result<Texts, Vec<Diagnostic>> {
    let optional = |p: PathBuf| -> Result<String, Vec<Diagnostic>> {
        if p.exists() {
            read(&p).map_err(|d| vec![d])
        } else {
            Ok(String::new())
        }
    };
    let settings = read(&paths.settings()).map_err(|d| vec![d])?;
    // The signed channel's catalogue and sheets when they are newer than the shipped ones.
    let national = in_force(paths);
    let catalogue = read(&national.catalogue).map_err(|d| vec![d])?;
    Ok(Texts {
        settings: (paths.settings(), settings),
        overrides: (paths.settings_overrides(), optional(paths.settings_overrides())?),
        catalogue: (national.catalogue.clone(), catalogue),
        local: (paths.local(), optional(paths.local())?),
        demarches: (national.demarches.clone(), optional(national.demarches.clone())?),
        local_demarches: (paths.local_demarches(), optional(paths.local_demarches())?),
        retired: national.retired,
    })
}

fn read_last_good(paths: &Paths) -> Option<Texts> {
    let dir = paths.last_good();
    let get = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    Some(Texts {
        settings: (dir.join("borne.toml"), get("borne.toml")?),
        overrides: (dir.join("settings.toml"), get("settings.toml").unwrap_or_default()),
        catalogue: (dir.join("catalogue.toml"), get("catalogue.toml")?),
        local: (dir.join("local.toml"), get("local.toml")?),
        demarches: (dir.join("demarches.toml"), get("demarches.toml").unwrap_or_default()),
        local_demarches: (dir.join("local-demarches.toml"), get("local-demarches.toml").unwrap_or_default()),
        retired: get("retired.txt").unwrap_or_default().lines().map(str::to_string).collect(),
    })
}

/// Loads the current files, falling back to the last good copies, then to the built-in defaults.
pub fn load(paths: &Paths) -> Loaded {
    let current = read_current(paths).and_then(|t| parse_all(&t).map(|parsed| (t, parsed)));
    let (parsed, problems, running) = match current {
        Ok((texts, parsed)) => {
            if let Err(e) = save_last_good(paths, &texts) {
                tracing::warn!(error = %e, "could not keep a last good copy of the configuration");
            }
            for n in &parsed.0.notes {
                tracing::warn!(%n, "configuration note");
            }
            (parsed, Vec::new(), Running::Current)
        }
        Err(problems) => {
            for p in &problems {
                tracing::error!(%p, "configuration problem; keeping the last good version");
            }
            match read_last_good(paths).map(|t| parse_all(&t)) {
                Some(Ok(parsed)) => (parsed, problems, Running::LastGood),
                _ => {
                    let builtin = Texts {
                        settings: (PathBuf::from("builtin/borne.toml"), BUILTIN_SETTINGS.into()),
                        overrides: (PathBuf::from("builtin/settings.toml"), String::new()),
                        catalogue: (PathBuf::from("builtin/catalogue.toml"), BUILTIN_CATALOGUE.into()),
                        local: (PathBuf::from("builtin/local.toml"), String::new()),
                        demarches: (PathBuf::from("builtin/demarches.toml"), BUILTIN_DEMARCHES.into()),
                        local_demarches: (PathBuf::from("builtin/local-demarches.toml"), String::new()),
                        retired: Vec::new(),
                    };
                    let parsed = parse_all(&builtin).expect("the built-in configuration is valid (tested)");
                    (parsed, problems, Running::Builtin)
                }
            }
        }
    };
    let (settings, national, local, demarches) = parsed;
    let effective = Effective::build(&settings, &national, &local);
    Loaded { settings, national, local, demarches, effective, problems, running }
}

fn save_last_good(paths: &Paths, t: &Texts) -> std::io::Result<()> {
    let dir = paths.last_good();
    std::fs::create_dir_all(&dir)?;
    let retired = t.retired.join("\n");
    for (name, text) in [
        ("borne.toml", &t.settings.1),
        ("settings.toml", &t.overrides.1),
        ("catalogue.toml", &t.catalogue.1),
        ("local.toml", &t.local.1),
        ("demarches.toml", &t.demarches.1),
        ("local-demarches.toml", &t.local_demarches.1),
        ("retired.txt", &retired),
    ] {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            write_atomic(&path, text.as_bytes())?;
        }
    }
    Ok(())
}

/// Checks the files without loading anything else (for `bornectl check-config`).
pub fn check(paths: &Paths) -> Result<Parsed, Vec<Diagnostic>> {
    read_current(paths).and_then(|t| parse_all(&t))
}

/// The national catalogue's file name (on the channel and on the borne).
pub const CATALOGUE: &str = "catalogue.toml";
/// The sheets' file name.
pub const DEMARCHES: &str = "demarches.toml";
/// The signed catalogue channel's folder in the state directory ([`crate::channel`]).
pub const CHANNEL_DIR: &str = "catalogue-channel";

/// Which catalogue is in force (also known as `channel::InForce`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InForce {
    /// Its version (0: the shipped file has none).
    pub version: u64,
    /// `"channel"` or `"shipped"`.
    pub source: &'static str,
    /// `catalogue.toml` in force.
    pub catalogue: PathBuf,
    /// `demarches.toml` in force.
    pub demarches: PathBuf,
    /// National tile ids that updates removed (the référent's choices on them are set aside).
    pub retired: Vec<String>,
}

/// The `version` of a TOML text (`None`: none, not a positive integer, or not TOML).
pub fn version_of(text: &str) -> Option<u64> {
    let table: toml::Table = text.parse().ok()?;
    table.get("version")?.as_integer().filter(|v| *v > 0).map(|v| v as u64)
}

fn read_version(path: &std::path::Path) -> u64 {
    std::fs::read_to_string(path).ok().as_deref().and_then(version_of).unwrap_or(0)
}

/// The channel's version folder its `current` file points at, if any.
pub fn channel_current_dir(paths: &Paths) -> Option<PathBuf> {
    let root = paths.state_dir.join(CHANNEL_DIR);
    let name = std::fs::read_to_string(root.join("current")).ok()?;
    let name = name.trim();
    (name.starts_with('v') && !name.contains('/')).then(|| root.join(name))
}

/// The catalogue in force: the channel's when its version is higher than the shipped one's (also
/// known as `channel::in_force`). Here, where the configuration is read, so that reading it does not
/// depend on the channel that fetches new versions.
pub fn in_force(paths: &Paths) -> InForce {
    let shipped = read_version(&paths.catalogue());
    if let Some(dir) = channel_current_dir(paths) {
        let version = read_version(&dir.join(CATALOGUE));
        if version > shipped && dir.join(DEMARCHES).exists() {
            let retired = std::fs::read(dir.join("retired.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            return InForce {
                version,
                source: "channel",
                catalogue: dir.join(CATALOGUE),
                demarches: dir.join(DEMARCHES),
                retired,
            };
        }
    }
    InForce {
        version: shipped,
        source: "shipped",
        catalogue: paths.catalogue(),
        demarches: paths.demarches(),
        retired: Vec::new(),
    }
}

/// A config directory with the shipped files and an empty state directory (tests).
#[cfg(test)]
pub(crate) fn test_paths() -> (tempfile::TempDir, Paths) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let paths = Paths { config_dir: dir.path().join("config"), state_dir: dir.path().join("state") };
    std::fs::create_dir_all(&paths.config_dir).expect("config dir");
    std::fs::write(paths.settings(), BUILTIN_SETTINGS).expect("settings");
    std::fs::write(paths.catalogue(), BUILTIN_CATALOGUE).expect("catalogue");
    (dir, paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::test_paths as setup;

    #[test]
    fn builtin_configuration_is_valid() {
        let (_d, paths) = setup();
        let l = load(&paths);
        assert_eq!(l.running, Running::Current);
        assert!(l.problems.is_empty());
        assert!(paths.last_good().join("catalogue.toml").exists());
    }

    #[test]
    fn a_broken_edit_keeps_the_last_good_version() {
        let (_d, paths) = setup();
        std::fs::write(paths.settings(), "[centre]\nname = \"Les Lilas\"\n").unwrap();
        assert_eq!(load(&paths).settings.centre.name, "Les Lilas");
        std::fs::write(paths.settings(), "[centre]\nname = \"Les Lilas 2\"\n[session]\nidle_timeout_secs = 2\n")
            .unwrap();
        let l = load(&paths);
        assert_eq!(l.running, Running::LastGood);
        assert_eq!(l.settings.centre.name, "Les Lilas");
        assert_eq!(l.problems.len(), 1);
        assert_eq!(l.problems[0].line, 4);
        // The broken file is left as it is for the référent to fix; nothing was overwritten.
        assert!(std::fs::read_to_string(paths.settings()).unwrap().contains("Les Lilas 2"));
    }

    #[test]
    fn first_start_with_a_broken_file_runs_on_builtin_defaults() {
        let (_d, paths) = setup();
        std::fs::write(paths.catalogue(), "[[services]\n").unwrap();
        let l = load(&paths);
        assert_eq!(l.running, Running::Builtin);
        assert!(l.effective.services.len() >= 25);
        assert_eq!(l.problems.len(), 1);
    }

    #[test]
    fn the_referents_settings_lie_over_borne_toml_and_are_checked_where_they_are() {
        let (_d, paths) = setup();
        std::fs::create_dir_all(&paths.state_dir).unwrap();
        std::fs::write(paths.settings_overrides(), "[centre]\nname = \"Les Tilleuls\"\n").unwrap();
        let l = load(&paths);
        assert_eq!(l.settings.centre.name, "Les Tilleuls");
        // Keys not in the overrides keep borne.toml's values.
        assert_eq!(l.settings.session, load_without(&paths).settings.session);
        std::fs::write(paths.settings_overrides(), "[centre]\nname = \"X\"\n[session]\nidle_timout_secs = 60\n")
            .unwrap();
        let l = load(&paths);
        assert_eq!(l.running, Running::LastGood);
        assert_eq!(l.settings.centre.name, "Les Tilleuls");
        assert!(l.problems[0].file.ends_with("settings.toml"));
        assert_eq!(l.problems[0].line, 4);
    }

    fn load_without(paths: &Paths) -> Loaded {
        let other = Paths { config_dir: paths.config_dir.clone(), state_dir: paths.state_dir.join("none") };
        load(&other)
    }

    #[test]
    fn missing_local_file_is_fine_and_a_bad_one_is_reported() {
        let (_d, paths) = setup();
        std::fs::create_dir_all(&paths.state_dir).unwrap();
        std::fs::write(paths.local(), "hidden = [\"nope\"]\n").unwrap();
        let l = load(&paths);
        assert_eq!(l.running, Running::Builtin);
        assert!(l.problems[0].file.ends_with("local.toml"));
    }
}
