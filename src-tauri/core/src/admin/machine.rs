//! The machine's side of the admin screens: USB sticks (export, logo), power through logind, and
//! the kiosk's last log lines.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where removable media are mounted: `/media` and `/run/media` (udisks), or the folders listed in
/// `BORNE_USB_ROOTS` (colon-separated; each one is taken as a stick: tests, special set-ups).
pub fn usb_sticks() -> Vec<PathBuf> {
    if let Some(v) = std::env::var_os("BORNE_USB_ROOTS") {
        return std::env::split_paths(&v).filter(|p| p.is_dir()).collect();
    }
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    sticks_in(&mounts)
}

/// Mount points under `/media` or `/run/media` in a `/proc/mounts` text (pure).
pub fn sticks_in(mounts: &str) -> Vec<PathBuf> {
    mounts
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(|p| p.replace("\\040", " "))
        .filter(|p| p.starts_with("/media/") || p.starts_with("/run/media/"))
        .map(PathBuf::from)
        .collect()
}

/// Why a file could not be put on a stick.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StickError {
    /// No stick.
    #[error("no USB stick mounted")]
    NoStick,
    /// The stick refused the file.
    #[error("cannot write on the stick: {0}")]
    Write(String),
}

impl StickError {
    /// French text.
    pub fn french(&self) -> &'static str {
        match self {
            StickError::NoStick => "Aucune clé USB n'est branchée. Branchez une clé puis recommencez.",
            StickError::Write(_) => {
                "La clé USB refuse le fichier (pleine ou protégée en écriture). Essayez une autre clé."
            }
        }
    }
}

/// Writes `name` on the first stick; returns the stick's folder name and the file name.
pub fn write_to_stick(name: &str, bytes: &[u8]) -> Result<String, StickError> {
    let stick = usb_sticks().into_iter().next().ok_or(StickError::NoStick)?;
    let path = stick.join(name);
    crate::fsutil::write_atomic(&path, bytes).map_err(|e| StickError::Write(e.to_string()))?;
    let label = stick.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    tracing::info!(file = name, "file written on a USB stick");
    Ok(format!("{label}/{name}"))
}

/// Image files a logo can come from, on the sticks (PNG, JPEG, SVG, at most 2 MB, not in hidden
/// folders, two levels deep at most).
pub fn logo_candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for stick in usb_sticks() {
        walk(&stick, 2, &mut out);
    }
    out.sort();
    out
}

fn walk(dir: &Path, depth: u32, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        let hidden = e.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if p.is_dir() && depth > 0 {
            walk(&p, depth - 1, out);
        } else if logo_kind(&p).is_some() && e.metadata().is_ok_and(|m| m.len() <= 2 * 1024 * 1024) {
            out.push(p);
        }
    }
}

/// The image type by its first bytes (never by its name alone).
pub fn logo_kind(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
    if !matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "svg") {
        return None;
    }
    Some(match ext.as_str() {
        "png" => "png",
        "svg" => "svg",
        _ => "jpg",
    })
}

/// Copies a logo from a stick into the state directory as `logo.<ext>` after checking its bytes.
pub fn import_logo(src: &Path, state_dir: &Path) -> Result<PathBuf, &'static str> {
    if !logo_candidates().iter().any(|c| c == src) {
        return Err("Ce fichier n'est pas une image d'une clé USB branchée.");
    }
    let bytes = std::fs::read(src).map_err(|_| "L'image ne peut pas être lue.")?;
    let kind = match bytes.as_slice() {
        [0x89, b'P', b'N', b'G', ..] => "png",
        [0xFF, 0xD8, 0xFF, ..] => "jpg",
        b if String::from_utf8_lossy(&b[..b.len().min(512)]).contains("<svg") => "svg",
        _ => return Err("Ce fichier n'est pas une image PNG, JPEG ou SVG."),
    };
    for old in ["png", "jpg", "svg"] {
        let _ = std::fs::remove_file(state_dir.join(format!("logo.{old}")));
    }
    let dest = state_dir.join(format!("logo.{kind}"));
    crate::fsutil::write_atomic(&dest, &bytes).map_err(|_| "L'image n'a pas pu être enregistrée.")?;
    Ok(dest)
}

/// A power action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Power {
    /// Restart the PC.
    Reboot,
    /// Shut the PC down.
    Poweroff,
}

/// How long `busctl` may take to ask logind whether it may, then to reboot or power off.
pub const POWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Asks logind (through `busctl`) whether the action is allowed, then does it. The answer is the
/// French text to show when it is not possible (refused, or no answer within [`POWER_TIMEOUT`]).
pub fn power(action: Power) -> Result<(), String> {
    power_via(Path::new("busctl"), action, POWER_TIMEOUT)
}

/// [`power`] through this `busctl` program, each call killed past `limit`.
pub fn power_via(busctl: &Path, action: Power, limit: std::time::Duration) -> Result<(), String> {
    let (can, call) = match action {
        Power::Reboot => ("CanReboot", "Reboot"),
        Power::Poweroff => ("CanPowerOff", "PowerOff"),
    };
    let bus = |args: &[&str]| {
        let mut cmd = std::process::Command::new(busctl);
        cmd.args(["call", "org.freedesktop.login1", "/org/freedesktop/login1", "org.freedesktop.login1.Manager"])
            .args(args);
        run_with_timeout(cmd, limit)
    };
    let refused = "L'ordinateur ne permet pas à la borne de faire cela ici. Utilisez le bouton de l'ordinateur.";
    match bus(&[can]) {
        Ok(o) if o.status.success() && String::from_utf8_lossy(&o.stdout).contains("\"yes\"") => {}
        Ok(o) => {
            tracing::warn!(answer = %String::from_utf8_lossy(&o.stdout).trim(), err = %String::from_utf8_lossy(&o.stderr).trim(), "logind refuses {call}");
            return Err(refused.into());
        }
        Err(e) => {
            tracing::warn!(error = %e, "busctl gave no answer about {call}");
            return Err(refused.into());
        }
    }
    match bus(&[call, "b", "false"]) {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => {
            tracing::error!(err = %String::from_utf8_lossy(&o.stderr).trim(), "logind {call} failed");
            Err(refused.into())
        }
        Err(e) => {
            tracing::error!(error = %e, "logind {call} failed");
            Err(refused.into())
        }
    }
}

/// How long `busctl` may take to ask systemd to start the updater.
const UPDATE_START_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why the updater could not be started from the Maintenance screen (the screen's
/// `admin.updates.now.<code>` texts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateNow {
    /// This machine has no A/B updater (no record: a development machine, a .deb install).
    NoUpdater,
    /// systemd refused or did not answer in time (the log says why).
    Refused,
}

impl UpdateNow {
    /// The code the screen translates.
    pub fn code(self) -> &'static str {
        match self {
            UpdateNow::NoUpdater => "no-updater",
            UpdateNow::Refused => "refused",
        }
    }
}

/// « Mettre à jour maintenant »: asks systemd (through `busctl`, allowed to the kiosk's user for this
/// one unit by the image's polkit rule) to start `borne-update.service` now, as its timer would. It
/// returns once systemd took the job; the check, download and install run in the background at idle
/// priority and write the updater's record, which the screen reads.
pub fn start_update_check(record: &Path) -> Result<(), UpdateNow> {
    if !record.exists() {
        tracing::info!(record = %record.display(), "no updater record: this machine has no A/B updater");
        return Err(UpdateNow::NoUpdater);
    }
    let mut cmd = std::process::Command::new("busctl");
    cmd.args(["call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager"])
        .args(["StartUnit", "ss", "borne-update.service", "replace"]);
    match run_with_timeout(cmd, UPDATE_START_TIMEOUT) {
        Ok(o) if o.status.success() => {
            tracing::info!("update check started by the référent");
            Ok(())
        }
        Ok(o) => {
            tracing::warn!(err = %String::from_utf8_lossy(&o.stderr).trim(), "systemd refuses to start borne-update.service");
            Err(UpdateNow::Refused)
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot ask systemd to start borne-update.service");
            Err(UpdateNow::Refused)
        }
    }
}

/// Kept at its old path: the shell and `busctl`'s callers know it here.
pub use crate::process::run_with_timeout;

/// The kiosk's last log lines, kept in memory (for the maintenance screen); a `tracing` writer.
#[derive(Debug, Clone, Default)]
pub struct LogTail {
    lines: Arc<Mutex<VecDeque<String>>>,
    partial: Arc<Mutex<String>>,
}

/// Lines kept.
pub const LOG_LINES: usize = 50;

impl LogTail {
    /// The kept lines, oldest first.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.iter().cloned().collect()).unwrap_or_default()
    }
}

impl std::io::Write for LogTail {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let (Ok(mut partial), Ok(mut lines)) = (self.partial.lock(), self.lines.lock()) else { return Ok(buf.len()) };
        partial.push_str(&String::from_utf8_lossy(buf));
        while let Some(i) = partial.find('\n') {
            let line: String = partial.drain(..=i).collect();
            lines.push_back(line.trim_end().to_string());
            while lines.len() > LOG_LINES {
                lines.pop_front();
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_busctl_that_never_returns_is_killed_and_the_referent_reads_why_in_french() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let busctl = d.path().join("busctl");
        std::fs::write(&busctl, "#!/bin/sh\nexec sleep 1000\n").unwrap();
        std::fs::set_permissions(&busctl, std::fs::Permissions::from_mode(0o755)).unwrap();
        let t0 = std::time::Instant::now();
        let e = power_via(&busctl, Power::Reboot, std::time::Duration::from_millis(300)).unwrap_err();
        assert!(t0.elapsed() < std::time::Duration::from_secs(5), "{:?}", t0.elapsed());
        assert!(e.starts_with("L'ordinateur ne permet pas"), "{e}");
    }

    #[test]
    fn no_updater_record_means_no_updater_here() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(start_update_check(&dir.path().join("status")), Err(UpdateNow::NoUpdater));
    }

    use super::*;
    use std::io::Write;

    #[test]
    fn sticks_are_mounts_under_media() {
        let m = "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /media/borne/CLE\\040USB vfat rw 0 0\n/dev/sdc1 /run/media/x/KEY vfat rw 0 0\ntmpfs /run tmpfs rw 0 0\n";
        assert_eq!(sticks_in(m), [PathBuf::from("/media/borne/CLE USB"), PathBuf::from("/run/media/x/KEY")]);
    }

    #[test]
    fn the_log_tail_keeps_the_last_fifty_lines() {
        let mut t = LogTail::default();
        for i in 0..60 {
            writeln!(t, "line {i}").unwrap();
        }
        write!(t, "half").unwrap();
        let l = t.lines();
        assert_eq!(l.len(), LOG_LINES);
        assert_eq!(l[0], "line 10");
        assert_eq!(l[49], "line 59");
    }

    #[test]
    fn logos_are_checked_by_their_bytes() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(logo_kind(Path::new("a.PNG")), Some("png"));
        assert_eq!(logo_kind(Path::new("a.exe")), None);
        let state = d.path().join("state");
        std::fs::create_dir_all(&state).unwrap();
        // Not on a stick: refused.
        let p = d.path().join("logo.png");
        std::fs::write(&p, [0x89, b'P', b'N', b'G', 0, 0]).unwrap();
        assert!(import_logo(&p, &state).is_err());
    }
}
