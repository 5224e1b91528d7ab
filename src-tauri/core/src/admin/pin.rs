//! The référent's PIN: at least 6 digits, kept as an argon2id hash in the state directory (0600),
//! never logged. Wrong PINs cost a growing wait (1, 2, 4, 8 s), and the 5th in a row locks the
//! admin entry for 15 minutes; the count survives a restart and every failure is counted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

use crate::fsutil::{write_atomic, write_atomic_mode};

/// Failures in a row that lock the entry.
pub const MAX_FAILURES: u32 = 5;
/// How long the lock lasts.
pub const LOCK: Duration = Duration::from_secs(15 * 60);

/// Why a PIN cannot be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// Fewer than 6 digits.
    #[error("PIN shorter than 6 digits")]
    TooShort,
    /// Something else than digits.
    #[error("PIN with characters other than digits")]
    NotDigits,
    /// The confirmation differs.
    #[error("PIN confirmation differs")]
    Mismatch,
    /// The hash or the file could not be written.
    #[error("cannot store the PIN: {0}")]
    Store(String),
}

impl PinError {
    /// The French text for the référent.
    pub fn french(&self) -> &'static str {
        match self {
            PinError::TooShort => "Le code doit avoir au moins 6 chiffres.",
            PinError::NotDigits => "Le code ne doit contenir que des chiffres.",
            PinError::Mismatch => "Les deux codes ne sont pas les mêmes. Recommencez.",
            PinError::Store(_) => "Le code n'a pas pu être enregistré. Prévenez la fédération.",
        }
    }

    /// Stable code for the pages.
    pub fn code(&self) -> &'static str {
        match self {
            PinError::TooShort => "pin-too-short",
            PinError::NotDigits => "pin-not-digits",
            PinError::Mismatch => "pin-mismatch",
            PinError::Store(_) => "pin-store",
        }
    }
}

/// The answer to a PIN attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Right PIN.
    Ok,
    /// No PIN chosen yet.
    NotSet,
    /// Wrong PIN: attempts left before the lock, and the wait before the next one.
    Wrong {
        /// Attempts left.
        left: u32,
        /// Wait before the next attempt.
        wait: Duration,
    },
    /// Too soon after a wrong PIN (the attempt was not even checked).
    TooSoon(Duration),
    /// Locked after too many failures.
    Locked(Duration),
}

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Attempts {
    /// Failures in a row.
    failures: u32,
    /// No attempt before this Unix time.
    next_allowed: i64,
    /// All failures ever (counted for the référent and the logs).
    total_failures: u64,
}

/// The PIN files in `<state>/admin/`.
#[derive(Debug, Clone)]
pub struct Pin {
    dir: PathBuf,
    /// A hash given by the settings (`[admin] pin_hash`, provisioned), used until one is chosen here.
    provisioned: Option<String>,
}

impl Pin {
    /// The PIN of a state directory; `provisioned` is the settings' `pin_hash`, if any.
    pub fn new(state_dir: &Path, provisioned: Option<String>) -> Pin {
        Pin { dir: state_dir.join("admin"), provisioned }
    }

    fn hash_file(&self) -> PathBuf {
        self.dir.join("pin.phc")
    }

    fn attempts_file(&self) -> PathBuf {
        self.dir.join("attempts.json")
    }

    fn hash(&self) -> Option<String> {
        std::fs::read_to_string(self.hash_file())
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .or_else(|| self.provisioned.clone())
    }

    /// Whether a PIN exists.
    pub fn is_set(&self) -> bool {
        self.hash().is_some()
    }

    /// Checks a new PIN and its confirmation (pure).
    pub fn validate(pin: &str, confirm: &str) -> Result<(), PinError> {
        if !pin.chars().all(|c| c.is_ascii_digit()) {
            return Err(PinError::NotDigits);
        }
        if pin.len() < 6 {
            return Err(PinError::TooShort);
        }
        if pin != confirm {
            return Err(PinError::Mismatch);
        }
        Ok(())
    }

    /// Chooses the PIN (first start, `bornectl set-pin`); clears the failures.
    pub fn set(&self, pin: &str, confirm: &str) -> Result<(), PinError> {
        Pin::validate(pin, confirm)?;
        let phc = Argon2::default().hash_password(pin.as_bytes()).map_err(|e| PinError::Store(e.to_string()))?;
        std::fs::create_dir_all(&self.dir).map_err(|e| PinError::Store(e.to_string()))?;
        write_atomic_mode(&self.hash_file(), phc.to_string().as_bytes(), 0o600)
            .map_err(|e| PinError::Store(e.to_string()))?;
        let mut a = self.attempts();
        a.failures = 0;
        a.next_allowed = 0;
        self.save_attempts(&a);
        tracing::info!("admin PIN chosen");
        Ok(())
    }

    fn attempts(&self) -> Attempts {
        std::fs::read(self.attempts_file()).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    fn save_attempts(&self, a: &Attempts) {
        let written = std::fs::create_dir_all(&self.dir).and_then(|()| {
            write_atomic(&self.attempts_file(), serde_json::to_string(a).unwrap_or_default().as_bytes())
        });
        if let Err(e) = written {
            tracing::error!(error = %e, "cannot record PIN attempts");
        }
    }

    /// Where the entry stands now, without an attempt: locked, or too soon.
    pub fn state(&self, now: i64) -> Check {
        if !self.is_set() {
            return Check::NotSet;
        }
        let a = self.attempts();
        let wait = Duration::from_secs(a.next_allowed.saturating_sub(now).max(0) as u64);
        if wait.is_zero() {
            Check::Ok
        } else if a.failures >= MAX_FAILURES {
            Check::Locked(wait)
        } else {
            Check::TooSoon(wait)
        }
    }

    /// An attempt at `now` (Unix seconds).
    pub fn check(&self, pin: &str, now: i64) -> Check {
        let Some(hash) = self.hash() else { return Check::NotSet };
        let mut a = self.attempts();
        if now < a.next_allowed {
            let wait = Duration::from_secs((a.next_allowed - now) as u64);
            return if a.failures >= MAX_FAILURES { Check::Locked(wait) } else { Check::TooSoon(wait) };
        }
        if a.failures >= MAX_FAILURES {
            // The lock is over: five new attempts.
            a.failures = 0;
        }
        let right = Argon2::default().verify_password(pin.as_bytes(), hash.as_str()).is_ok();
        if right {
            if a.failures > 0 || a.next_allowed > 0 {
                a.failures = 0;
                a.next_allowed = 0;
                self.save_attempts(&a);
            }
            tracing::info!("admin PIN accepted");
            return Check::Ok;
        }
        a.failures += 1;
        a.total_failures += 1;
        let wait = if a.failures >= MAX_FAILURES { LOCK } else { Duration::from_secs(1 << (a.failures - 1)) };
        a.next_allowed = now + wait.as_secs() as i64;
        self.save_attempts(&a);
        tracing::warn!(failures = a.failures, total = a.total_failures, "wrong admin PIN");
        if a.failures >= MAX_FAILURES {
            tracing::warn!("admin entry locked for 15 minutes");
            Check::Locked(wait)
        } else {
            Check::Wrong { left: MAX_FAILURES - a.failures, wait }
        }
    }

    /// Wrong PINs ever typed.
    pub fn total_failures(&self) -> u64 {
        self.attempts().total_failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choosing_a_pin_checks_digits_length_and_confirmation() {
        assert_eq!(Pin::validate("12345", "12345"), Err(PinError::TooShort));
        assert_eq!(Pin::validate("12a456", "12a456"), Err(PinError::NotDigits));
        assert_eq!(Pin::validate("123456", "123457"), Err(PinError::Mismatch));
        assert_eq!(Pin::validate("123456", "123456"), Ok(()));
        assert!(PinError::TooShort.french().contains("6 chiffres"));
    }

    #[test]
    fn the_hash_is_argon2id_0600_and_never_the_pin() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let pin = Pin::new(d.path(), None);
        assert!(!pin.is_set());
        assert_eq!(pin.check("123456", 0), Check::NotSet);
        pin.set("48151623", "48151623").unwrap();
        let text = std::fs::read_to_string(d.path().join("admin/pin.phc")).unwrap();
        assert!(text.starts_with("$argon2id$"), "{text}");
        assert!(!text.contains("48151623"));
        let mode = std::fs::metadata(d.path().join("admin/pin.phc")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(pin.check("48151623", 0), Check::Ok);
    }

    #[test]
    fn growing_waits_then_a_15_minute_lock_that_survives_a_restart() {
        let d = tempfile::tempdir().unwrap();
        let pin = Pin::new(d.path(), None);
        pin.set("111111", "111111").unwrap();
        let mut now = 1_000;
        let mut waits = Vec::new();
        for _ in 0..4 {
            match pin.check("000000", now) {
                Check::Wrong { wait, .. } => {
                    waits.push(wait.as_secs());
                    // Too soon: not even checked, not counted.
                    assert!(matches!(pin.check("111111", now), Check::TooSoon(_)));
                    now += wait.as_secs() as i64;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(waits, [1, 2, 4, 8]);
        assert_eq!(pin.check("000000", now), Check::Locked(LOCK));
        // A restart (a new Pin on the same folder) is still locked, even for the right PIN.
        let again = Pin::new(d.path(), None);
        assert!(matches!(again.check("111111", now + 60), Check::Locked(_)));
        assert!(matches!(again.state(now + 60), Check::Locked(_)));
        assert_eq!(again.total_failures(), 5);
        // After 15 minutes the right PIN opens and the count starts over.
        let after = now + LOCK.as_secs() as i64;
        assert_eq!(again.check("111111", after), Check::Ok);
        assert_eq!(again.check("000000", after), Check::Wrong { left: 4, wait: Duration::from_secs(1) });
    }

    #[test]
    fn a_provisioned_hash_works_until_a_pin_is_chosen_here() {
        let d = tempfile::tempdir().unwrap();
        let phc = Argon2::default().hash_password(b"246810").unwrap().to_string();
        let pin = Pin::new(d.path(), Some(phc));
        assert!(pin.is_set());
        assert_eq!(pin.check("246810", 0), Check::Ok);
        pin.set("135791", "135791").unwrap();
        assert!(matches!(pin.check("246810", 10), Check::Wrong { .. }));
    }
}
