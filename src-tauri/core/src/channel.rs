//! The federation's signed catalogue channel: newer national catalogues and "Avant de commencer"
//! sheets, fetched from a static HTTPS folder, verified, kept, and put in force.
//!
//! The federation publishes `catalogue.toml` and `demarches.toml`, each with a top-level
//! `version = N` (the same in both) and a detached minisign signature (`<file>.minisig`) whose
//! trusted comment names the file and the version ([`signature`]). A candidate is refused, with an
//! English log line and a French reason for the Maintenance screen, when a file is unsigned, its
//! signature is broken or made with a key that is not one of the federation's (two accepted at once,
//! for a rotation), the file was changed after signing, the versions do not agree, the version is not
//! newer than the one in force (replay; the same version with the same bytes is just "up to date"),
//! the files fail the checks of an ordinary load ([`crate::load`]), or they clash with the référent's
//! layer in another way than a removed tile. An override of the référent that points at a tile the
//! new catalogue removed or renamed is set aside with a note, never an error: the ids the national
//! catalogue lost are kept as `retired` and [`crate::load`] sets those choices aside.
//!
//! A good candidate is stored under `<state>/catalogue-channel/v<version>/` (a folder written aside,
//! then renamed), then `current` is replaced atomically to point at it: a power cut leaves the old
//! version in force, never a mix. The previous version's folder is kept. [`crate::load`] reads the
//! channel's files when their version is higher than the shipped catalogue's. The kiosk decides when
//! the new version takes effect (between two people); this module never touches what is running.

pub mod fetch;
pub mod service;
/// The signatures, at their old path (`channel::signature`); the module sits below the settings,
/// which check the federation's keys, and below this one.
pub use crate::signature;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::catalogue::demarches::parse_demarches;
use crate::catalogue::parse_national;
use crate::config::CatalogueSettings;
use crate::diag::Diagnostic;
use crate::fsutil::write_atomic;
use crate::load::{parse_all, read_current, Paths};
pub use fetch::FetchError;
use signature::{FederationKey, SignatureError};

/// Time between two checks when all went well (plus or minus an eighth, so bornes spread out).
pub const EVERY: Duration = Duration::from_secs(4 * 3600);

/// What the channel publishes: both files and their signatures as fetched (`None`: no signature).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    /// `catalogue.toml`.
    pub catalogue: Vec<u8>,
    /// `catalogue.toml.minisig`.
    pub catalogue_sig: Option<String>,
    /// `demarches.toml`.
    pub demarches: Vec<u8>,
    /// `demarches.toml.minisig`.
    pub demarches_sig: Option<String>,
}

/// Why a published version is refused (defined beside its French in [`crate::messages`]).
pub use crate::messages::CatalogueRefusal as Refusal;

impl Refusal {
    /// Short code for the status file and the screens.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Unsigned { .. } => "unsigned",
            Refusal::Signature { cause: SignatureError::OtherKey(_), .. } => "other-key",
            Refusal::Signature { cause: SignatureError::Tampered, .. } => "tampered",
            Refusal::Signature { .. } => "bad-signature",
            Refusal::Comment { .. } => "comment",
            Refusal::NoVersion { .. } => "no-version",
            Refusal::Mismatch { .. } => "mismatch",
            Refusal::Replay { .. } => "replay",
            Refusal::Invalid { .. } => "invalid",
            Refusal::Conflict { .. } => "conflict",
        }
    }

    /// The French text for the référent and the federation.
    pub fn french(&self) -> String {
        crate::messages::catalogue_refusal_fr(self)
    }
}

pub use crate::load::{in_force, version_of, InForce, CATALOGUE, CHANNEL_DIR as DIR, DEMARCHES};
/// Which catalogue is in force, decided where the configuration is read ([`crate::load`]), with the
/// channel's file and folder names.
pub use crate::signature::SIGNATURE_SUFFIX;

fn root(paths: &Paths) -> PathBuf {
    paths.state_dir.join(DIR)
}

/// The channel's version folder `current` points at, if any.
fn current_dir(paths: &Paths) -> Option<PathBuf> {
    crate::load::channel_current_dir(paths)
}

/// A verified, checked version, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Its version.
    pub version: u64,
    /// The files and signatures.
    pub published: Published,
    /// Every national id updates removed, this one's included.
    pub retired: Vec<String>,
    /// The référent's choices this version sets aside (French notes).
    pub set_aside: Vec<String>,
    /// The id of the key that signed.
    pub key_id: String,
}

/// What examining a published version found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Examined {
    /// The version in force, unchanged.
    UpToDate(u64),
    /// A newer, good version.
    New(Candidate),
}

fn verified(name: &str, data: &[u8], sig: Option<&str>, keys: &[FederationKey]) -> Result<(u64, String), Refusal> {
    let sig = sig.ok_or_else(|| Refusal::Unsigned { file: name.into() })?;
    let (comment, key_id) =
        signature::verify(data, sig, keys).map_err(|cause| Refusal::Signature { file: name.into(), cause })?;
    match signature::parse_comment(&comment) {
        Some((file, version)) if file == name => Ok((version, key_id)),
        _ => Err(Refusal::Comment { file: name.into(), comment }),
    }
}

fn text_of(name: &str, data: &[u8]) -> Result<String, Refusal> {
    String::from_utf8(data.to_vec()).map_err(|_| Refusal::Invalid {
        problems: vec![Diagnostic {
            file: PathBuf::from(name),
            line: 0,
            column: 0,
            problem: crate::diag::Problem::Unreadable("not UTF-8".into()),
        }],
    })
}

/// A published version whose signatures and contents are good, wherever it is to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Its version.
    pub version: u64,
    /// The id of the key that signed the catalogue.
    pub key_id: String,
    /// The national tile ids it has.
    pub ids: Vec<String>,
}

/// The checks of an ordinary load on the two files, and their versions (present, the same): what
/// `bornectl catalogue sign` checks before signing.
pub fn check_texts(catalogue: &str, demarches: &str) -> Result<(u64, Vec<String>), Refusal> {
    let national = parse_national(Path::new(CATALOGUE), catalogue).map_err(|problems| Refusal::Invalid { problems })?;
    let ids: Vec<String> = national.services.iter().map(|s| s.id.clone()).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    parse_demarches(Path::new(DEMARCHES), demarches, &refs).map_err(|problems| Refusal::Invalid { problems })?;
    let version = version_of(catalogue).ok_or_else(|| Refusal::NoVersion { file: CATALOGUE.into() })?;
    let dem_version = version_of(demarches).ok_or_else(|| Refusal::NoVersion { file: DEMARCHES.into() })?;
    if version != dem_version {
        return Err(Refusal::Mismatch { catalogue: version, demarches: dem_version });
    }
    Ok((version, ids))
}

/// Signatures (one of `keys`, each naming its file and the file's version) and contents
/// ([`check_texts`]) of a published version, without looking at any borne.
pub fn verify_published(keys: &[FederationKey], p: &Published) -> Result<Verified, Refusal> {
    let (cat_signed, key_id) = verified(CATALOGUE, &p.catalogue, p.catalogue_sig.as_deref(), keys)?;
    let (dem_signed, _) = verified(DEMARCHES, &p.demarches, p.demarches_sig.as_deref(), keys)?;
    let catalogue = text_of(CATALOGUE, &p.catalogue)?;
    let demarches = text_of(DEMARCHES, &p.demarches)?;
    let (version, ids) = check_texts(&catalogue, &demarches)?;
    for (file, signed) in [(CATALOGUE, cat_signed), (DEMARCHES, dem_signed)] {
        if signed != version {
            return Err(Refusal::Comment { file: file.into(), comment: signature::trusted_comment(file, signed) });
        }
    }
    Ok(Verified { version, key_id, ids })
}

/// Checks a published version against the keys and what is in force (pure but for reading the
/// state directory): [`verify_published`], replay, the référent's layer.
pub fn examine(paths: &Paths, keys: &[FederationKey], p: &Published) -> Result<Examined, Refusal> {
    let Verified { version, key_id, ids } = verify_published(keys, p)?;
    let catalogue = String::from_utf8_lossy(&p.catalogue).into_owned();
    let demarches = String::from_utf8_lossy(&p.demarches).into_owned();
    let new_themes: Vec<String> = parse_national(Path::new(CATALOGUE), &catalogue)
        .map(|n| n.themes.into_iter().map(|t| t.id).collect())
        .unwrap_or_default();
    let now = in_force(paths);
    if version <= now.version {
        let same = now.source == "channel"
            && version == now.version
            && std::fs::read(&now.catalogue).ok().as_deref() == Some(&p.catalogue[..])
            && std::fs::read(&now.demarches).ok().as_deref() == Some(&p.demarches[..]);
        return if same {
            Ok(Examined::UpToDate(version))
        } else {
            Err(Refusal::Replay { offered: version, in_force: now.version })
        };
    }
    // Ids the national catalogue loses with this version (tiles, and themes as `theme:<id>`) join
    // those lost before.
    let old_ids: Vec<String> = std::fs::read_to_string(&now.catalogue)
        .ok()
        .and_then(|t| parse_national(&now.catalogue, &t).ok())
        .map(|n| {
            let themes = n.themes.iter().map(|t| crate::catalogue::retired_theme(&t.id));
            n.services.iter().map(|s| s.id.clone()).chain(themes).collect()
        })
        .unwrap_or_default();
    let ids: Vec<String> =
        ids.into_iter().chain(new_themes.iter().map(|t| crate::catalogue::retired_theme(t))).collect();
    let mut retired: Vec<String> =
        now.retired.iter().chain(old_ids.iter()).filter(|id| !ids.contains(id)).cloned().collect();
    retired.sort();
    retired.dedup();
    // The référent's layer on top of the candidate, as a load would see it.
    let set_aside = match read_current(paths) {
        Ok(current) => {
            let mut t = current.clone();
            t.catalogue = (PathBuf::from(CATALOGUE), catalogue);
            t.demarches = (PathBuf::from(DEMARCHES), demarches);
            t.retired = retired.clone();
            match parse_all(&t) {
                Ok((_, _, local, _)) => local.set_aside,
                // The clash is the candidate's only if the files in force load without it.
                Err(problems) if parse_all(&current).is_ok() => return Err(Refusal::Conflict { problems }),
                Err(_) => Vec::new(),
            }
        }
        Err(_) => Vec::new(),
    };
    Ok(Examined::New(Candidate { version, published: p.clone(), retired, set_aside, key_id }))
}

/// Stores a candidate and puts it in force on disk: its folder written aside and renamed, then
/// `current` replaced atomically; the previous version's folder is kept, older ones removed.
pub fn store(paths: &Paths, c: &Candidate) -> std::io::Result<()> {
    let root = root(paths);
    std::fs::create_dir_all(&root)?;
    let name = format!("v{}", c.version);
    // A folder of a unique name beside the versions (tempfile), removed with what it holds if a
    // step below fails; two stores at once never share it.
    // 0755 as before (tempfile's default for a folder is 0700).
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .tempdir_in(&root)?;
    let tmp = staging.path();
    let sig = |s: &Option<String>| s.clone().unwrap_or_default().into_bytes();
    write_atomic(&tmp.join(CATALOGUE), &c.published.catalogue)?;
    write_atomic(&tmp.join(format!("{CATALOGUE}{SIGNATURE_SUFFIX}")), &sig(&c.published.catalogue_sig))?;
    write_atomic(&tmp.join(DEMARCHES), &c.published.demarches)?;
    write_atomic(&tmp.join(format!("{DEMARCHES}{SIGNATURE_SUFFIX}")), &sig(&c.published.demarches_sig))?;
    write_atomic(&tmp.join("retired.json"), serde_json::to_string(&c.retired).unwrap_or_default().as_bytes())?;
    let dest = root.join(&name);
    let previous = current_dir(paths);
    if dest.exists() && previous.as_deref() != Some(dest.as_path()) {
        std::fs::remove_dir_all(&dest)?;
    }
    std::fs::rename(tmp, &dest)?;
    // Renamed: nothing left to remove at its old name.
    let _ = staging.keep();
    std::fs::File::open(&root)?.sync_all()?;
    write_atomic(&root.join("current"), format!("{name}\n").as_bytes())?;
    for entry in std::fs::read_dir(&root)?.flatten() {
        let p = entry.path();
        let keep = p == dest || Some(&p) == previous.as_ref() || !p.is_dir();
        if !keep {
            let _ = std::fs::remove_dir_all(&p);
        }
    }
    Ok(())
}

/// A refusal as the status file keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalRecord {
    /// When (Unix seconds).
    pub at: i64,
    /// [`Refusal::code`].
    pub code: String,
    /// The French reason.
    pub message: String,
}

/// What the borne knows of its channel (`<state>/catalogue-channel/status.json`), for the
/// Maintenance screen. Losing it loses no safety: versions are read from the files in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Status {
    /// The address last checked.
    pub source: Option<String>,
    /// Last check (Unix seconds).
    pub last_check: Option<i64>,
    /// Its outcome: `applied`, `up-to-date`, a refusal's or a fetch error's code.
    pub last_result: Option<String>,
    /// The last refusal.
    pub last_refusal: Option<RefusalRecord>,
    /// Last version stored and when (Unix seconds).
    pub applied: Option<(u64, i64)>,
    /// The référent's choices the version in force set aside (French notes).
    pub set_aside: Vec<String>,
}

/// The status as kept (default when missing or unreadable).
pub fn status(paths: &Paths) -> Status {
    std::fs::read(root(paths).join("status.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save_status(paths: &Paths, s: &Status) {
    let r = std::fs::create_dir_all(root(paths)).and_then(|()| {
        write_atomic(&root(paths).join("status.json"), serde_json::to_string_pretty(s).unwrap_or_default().as_bytes())
    });
    if let Err(e) = r {
        tracing::warn!(error = %e, "cannot write the catalogue channel's status");
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No channel address or no key in the settings.
    NotConfigured,
    /// The version in force is the newest.
    UpToDate(u64),
    /// A newer version was stored and is in force on disk (the kiosk applies it between two people).
    Applied {
        /// The new version.
        version: u64,
        /// The référent's choices it set aside.
        set_aside: Vec<String>,
    },
    /// Refused; the borne is unchanged.
    Refused(Refusal),
    /// Not fetched (network, status): tried again later.
    Failed(FetchError),
}

impl Outcome {
    /// Short code for the status and the screens.
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::NotConfigured => "not-configured",
            Outcome::UpToDate(_) => "up-to-date",
            Outcome::Applied { .. } => "applied",
            Outcome::Refused(r) => r.code(),
            Outcome::Failed(e) => e.code(),
        }
    }
}

/// The federation's keys from the settings (already checked there).
pub fn keys_of(settings: &CatalogueSettings) -> Vec<FederationKey> {
    settings.public_keys.iter().filter_map(|k| FederationKey::parse(k).ok()).collect()
}

fn now_unix() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Examines what was fetched, stores a good new version, records the outcome and logs it.
pub fn consider(
    paths: &Paths,
    source: &url::Url,
    keys: &[FederationKey],
    fetched: Result<Published, FetchError>,
) -> Outcome {
    let outcome = match fetched {
        Err(e) => {
            tracing::warn!(error = %e, "catalogue channel not reached; will try again");
            Outcome::Failed(e)
        }
        Ok(p) => match examine(paths, keys, &p) {
            Ok(Examined::UpToDate(v)) => {
                tracing::debug!(version = v, "catalogue channel: up to date");
                Outcome::UpToDate(v)
            }
            Ok(Examined::New(c)) => match store(paths, &c) {
                Ok(()) => {
                    tracing::info!(version = c.version, key = %c.key_id, set_aside = c.set_aside.len(), "catalogue channel: new version stored");
                    Outcome::Applied { version: c.version, set_aside: c.set_aside }
                }
                Err(e) => {
                    tracing::error!(error = %e, "catalogue channel: cannot store the new version; the one in force stays");
                    Outcome::Failed(FetchError::Network { file: DIR.into(), cause: e.to_string() })
                }
            },
            Err(r) => {
                tracing::warn!(code = r.code(), cause = %r, "catalogue channel: version refused; the one in force stays");
                Outcome::Refused(r)
            }
        },
    };
    let mut s = status(paths);
    let now = now_unix();
    s.source = Some(source.to_string());
    s.last_check = Some(now);
    s.last_result = Some(outcome.code().into());
    match &outcome {
        Outcome::Refused(r) => {
            s.last_refusal = Some(RefusalRecord { at: now, code: r.code().into(), message: r.french() })
        }
        Outcome::Applied { version, set_aside } => {
            s.applied = Some((*version, now));
            s.set_aside = set_aside.clone();
        }
        _ => {}
    }
    save_status(paths, &s);
    outcome
}

/// One check: fetch, examine, store a good new version. Never touches what the kiosk runs.
pub async fn check(paths: &Paths, settings: &CatalogueSettings) -> Outcome {
    let Some(url) = &settings.channel_url else { return Outcome::NotConfigured };
    let keys = keys_of(settings);
    if keys.is_empty() {
        return Outcome::NotConfigured;
    }
    let fetched = fetch::fetch(url).await;
    consider(paths, url, &keys, fetched)
}

/// When to check again (pure): `failures` counts fetch failures in a row; `unit` in [0, 1) spreads
/// bornes out.
pub fn next_check(outcome: &Outcome, failures: u32, unit: f64) -> Duration {
    match outcome {
        Outcome::Failed(_) => crate::push::backoff(failures, unit),
        _ => EVERY.mul_f64(0.875 + 0.25 * unit.clamp(0.0, 1.0)),
    }
}

/// What the Maintenance screen shows.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The catalogue in force.
    pub in_force: InForce,
    /// The channel's address in the settings.
    pub channel_url: Option<String>,
    /// Ids of the keys accepted.
    pub key_ids: Vec<String>,
    /// The status kept.
    pub status: Status,
}

/// The report for the screens.
pub fn report(paths: &Paths, settings: &CatalogueSettings) -> Report {
    Report {
        in_force: in_force(paths),
        channel_url: settings.channel_url.as_ref().map(ToString::to_string),
        key_ids: keys_of(settings).iter().map(|k| k.id().to_string()).collect(),
        status: status(paths),
    }
}

#[cfg(test)]
mod tests;
