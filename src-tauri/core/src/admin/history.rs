//! Saving the référent's files safely, with their last versions.
//!
//! A save is checked first with the whole configuration as it would be (settings, catalogue, the
//! référent's files): if anything is wrong nothing is written and the problems come back. Then the
//! file is replaced atomically (temporary file, fsync, rename) and the new content is kept as a
//! version with its date and a one-line summary. The last [`KEEP`] versions are kept; restoring one
//! is a save of its content.

use std::path::PathBuf;

use crate::diag::Diagnostic;
use crate::fsutil::write_atomic;
use crate::load::{parse_all, read_current, Paths};

/// Versions kept.
pub const KEEP: usize = 10;

/// A file the référent edits from the admin screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Editable {
    /// `<state>/settings.toml`: the centre and the settings.
    Settings,
    /// `<state>/local.toml`: own tiles, hidden and ordered tiles, themes.
    Local,
    /// `<state>/demarches.toml`: the référent's "Avant de commencer" sheets.
    Demarches,
}

impl Editable {
    fn path(self, paths: &Paths) -> PathBuf {
        match self {
            Editable::Settings => paths.settings_overrides(),
            Editable::Local => paths.local(),
            Editable::Demarches => paths.local_demarches(),
        }
    }
}

/// One kept version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Version {
    /// Number (grows with each save).
    pub id: u64,
    /// Which file.
    pub file: Editable,
    /// When, in local time (`YYYY-MM-DD HH:MM`): a référent's edit, not a person's visit.
    pub when: String,
    /// What changed, in one line.
    pub summary: String,
}

fn dir(paths: &Paths) -> PathBuf {
    paths.state_dir.join("history")
}

fn index_path(paths: &Paths) -> PathBuf {
    dir(paths).join("index.json")
}

/// The kept versions, newest first.
pub fn versions(paths: &Paths) -> Vec<Version> {
    let mut v: Vec<Version> =
        std::fs::read(index_path(paths)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    v.sort_by_key(|x| std::cmp::Reverse(x.id));
    v
}

/// Checks a candidate content for `file` with the rest of the configuration as it is.
pub fn check(paths: &Paths, file: Editable, text: &str) -> Result<(), Vec<Diagnostic>> {
    let mut t = read_current(paths)?;
    match file {
        Editable::Settings => t.overrides.1 = text.to_string(),
        Editable::Local => t.local.1 = text.to_string(),
        Editable::Demarches => t.local_demarches.1 = text.to_string(),
    }
    parse_all(&t).map(|_| ())
}

fn now_local() -> String {
    jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d %H:%M").to_string()
}

/// Saves `text` as `file` if the whole configuration stays valid, and keeps it as a version.
pub fn save(paths: &Paths, file: Editable, text: &str, summary: &str) -> Result<Version, Vec<Diagnostic>> {
    check(paths, file, text)?;
    let io = |e: std::io::Error| {
        vec![Diagnostic {
            file: file.path(paths),
            line: 0,
            column: 0,
            problem: crate::diag::Problem::Unreadable(e.to_string()),
        }]
    };
    std::fs::create_dir_all(dir(paths)).map_err(io)?;
    let mut all = versions(paths);
    let next = all.first().map_or(1, |v| v.id + 1);
    let mut added = Vec::new();
    if !all.iter().any(|v| v.file == file) {
        // The first save keeps what was there before, so the référent can always go back to it.
        let before = std::fs::read_to_string(file.path(paths)).unwrap_or_default();
        let v = Version { id: next, file, when: now_local(), summary: "Avant les modifications".into() };
        write_atomic(&dir(paths).join(format!("{}.toml", v.id)), before.as_bytes()).map_err(io)?;
        added.push(v);
    }
    let id = next + added.len() as u64;
    let v = Version { id, file, when: now_local(), summary: one_line(summary) };
    write_atomic(&dir(paths).join(format!("{id}.toml")), text.as_bytes()).map_err(io)?;
    write_atomic(&file.path(paths), text.as_bytes()).map_err(io)?;
    added.push(v.clone());
    all.extend(added);
    all.sort_by_key(|x| std::cmp::Reverse(x.id));
    for old in all.iter().skip(KEEP) {
        let _ = std::fs::remove_file(dir(paths).join(format!("{}.toml", old.id)));
    }
    all.truncate(KEEP);
    write_atomic(&index_path(paths), serde_json::to_string_pretty(&all).unwrap_or_default().as_bytes()).map_err(io)?;
    tracing::info!(file = ?file, version = id, "référent's file saved");
    Ok(v)
}

/// Puts a kept version back (a new save, itself kept).
pub fn restore(paths: &Paths, id: u64) -> Result<Version, Vec<Diagnostic>> {
    let Some(v) = versions(paths).into_iter().find(|v| v.id == id) else {
        return Err(vec![Diagnostic {
            file: index_path(paths),
            line: 0,
            column: 0,
            problem: crate::diag::Problem::Unreadable(format!("no version {id}")),
        }]);
    };
    let text = std::fs::read_to_string(dir(paths).join(format!("{id}.toml"))).unwrap_or_default();
    save(paths, v.file, &text, &format!("Retour à la version du {} ({})", v.when, v.summary))
}

fn one_line(s: &str) -> String {
    let line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load;

    use crate::load::test_paths as setup;

    #[test]
    fn a_bad_save_writes_nothing_and_says_why() {
        let (_d, paths) = setup();
        let e = save(&paths, Editable::Local, "extra_hosts = [\"https://x.fr/\"]\n", "hôte").unwrap_err();
        assert!(!e.is_empty());
        assert!(!paths.local().exists());
        assert!(versions(&paths).is_empty());
    }

    #[test]
    fn saves_are_versions_and_any_can_be_restored() {
        let (_d, paths) = setup();
        save(&paths, Editable::Settings, "[centre]\nname = \"Un\"\n", "nom : Un").unwrap();
        save(&paths, Editable::Settings, "[centre]\nname = \"Deux\"\n", "nom : Deux").unwrap();
        assert_eq!(load(&paths).settings.centre.name, "Deux");
        let v = versions(&paths);
        assert_eq!(
            v.iter().map(|v| v.summary.as_str()).collect::<Vec<_>>(),
            ["nom : Deux", "nom : Un", "Avant les modifications"]
        );
        restore(&paths, v[1].id).unwrap();
        assert_eq!(load(&paths).settings.centre.name, "Un");
        // Back to before any change: the file is empty, borne.toml's name again.
        restore(&paths, v[2].id).unwrap();
        assert_eq!(
            load(&paths).settings.centre.name,
            load(&Paths { state_dir: paths.state_dir.join("x"), ..paths.clone() }).settings.centre.name
        );
        assert!(versions(&paths)[0].summary.starts_with("Retour à la version du"));
    }

    #[test]
    fn only_the_last_ten_are_kept() {
        let (_d, paths) = setup();
        for i in 0..15 {
            save(&paths, Editable::Settings, &format!("[centre]\nname = \"N{i}\"\n"), &format!("n{i}")).unwrap();
        }
        let v = versions(&paths);
        assert_eq!(v.len(), KEEP);
        assert_eq!(v[0].summary, "n14");
        let files = std::fs::read_dir(paths.state_dir.join("history")).unwrap().count();
        assert_eq!(files, KEEP + 1, "versions plus the index");
    }
}
