//! The référent's PIN: at least 6 digits, kept as an argon2id hash in the state directory (0600),
//! never logged. Wrong PINs cost a growing wait (1, 2, 4, 8 s), and the 5th in a row locks the
//! admin entry for 15 minutes; the count survives a restart and every failure is counted.
//!
//! The same machinery ([`Guarded`], one [`Kind`] each) keeps the team's staff code
//! ([`super::staff`]): its own hash and its own record of wrong tries, the same waits and lock.
//!
//! Fails closed: a wrong try that cannot be recorded on disk counts as a lock ([`Check::Unrecorded`]),
//! so a full or read-only disk never gives unlimited tries.
//!
//! Two clocks. Within the process a wait is measured on the monotonic clock ([`Instant`]) only, so
//! no change of the system's clock, forwards or backwards, shortens it. The record on disk keeps the
//! wall-clock end of the wait so it survives a restart; read back once by a new process, it is
//! capped at the wait's own length (a clock set backwards, by a dead RTC battery or a wrong time
//! server, cannot lock the entry for days) and measured on the monotonic clock from then on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

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
    /// The PIN chosen is the team's staff code.
    #[error("PIN equal to the staff code")]
    SameAsStaffCode,
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
            PinError::SameAsStaffCode => {
                "Ce code est celui de l'équipe (sessions accompagnées) : choisissez un code différent pour l'espace référent."
            }
            PinError::Store(_) => "Le code n'a pas pu être enregistré. Prévenez la fédération.",
        }
    }

    /// Stable code for the pages.
    pub fn code(&self) -> &'static str {
        match self {
            PinError::TooShort => "pin-too-short",
            PinError::NotDigits => "pin-not-digits",
            PinError::Mismatch => "pin-mismatch",
            PinError::SameAsStaffCode => "pin-same-as-staff",
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
    /// Wrong PIN, and the try could not be recorded on disk: locked for [`LOCK`] (fails closed).
    Unrecorded(Duration),
}

/// The two clocks an attempt is judged by.
#[derive(Debug, Clone, Copy)]
pub struct Clocks {
    /// Wall clock (Unix seconds): what the record on disk keeps, so a wait survives a restart.
    pub unix: i64,
    /// Monotonic clock: what waits are measured by within the process.
    pub instant: Instant,
}

impl Clocks {
    /// The system's clocks now.
    pub fn now() -> Clocks {
        let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Clocks { unix: i64::try_from(unix).unwrap_or(i64::MAX), instant: Instant::now() }
    }
}

/// A wait as this process measures it (monotonic).
#[derive(Debug, Clone, Copy)]
struct Deadline {
    until: Instant,
    locked: bool,
    /// The try behind it is in the record on disk (not [`Check::Unrecorded`]).
    recorded: bool,
}

/// The waits of this process, by record file (the PIN's and the staff code's apart): a `Pin` is
/// made afresh for each command, the monotonic deadline must outlive it.
fn deadlines() -> std::sync::MutexGuard<'static, HashMap<PathBuf, Deadline>> {
    static DEADLINES: OnceLock<Mutex<HashMap<PathBuf, Deadline>>> = OnceLock::new();
    // A panic elsewhere while holding it leaves a map that is still whole: never skip a wait for it.
    DEADLINES.get_or_init(Mutex::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Attempts {
    /// Failures in a row.
    failures: u32,
    /// No attempt before this Unix time.
    next_allowed: i64,
    /// All failures ever (counted for the référent and the logs).
    total_failures: u64,
    /// Length of the wait set at the last failure, in seconds (0 in records written before it was
    /// kept: then the longest wait, [`LOCK`], is the cap).
    #[serde(default)]
    wait_secs: u64,
}

/// Which guarded code: the référent's PIN, or the team's staff code that marks a session
/// « accompagnée » ([`super::staff::StaffCode`]). Each has its own files in `<state>/admin/` (its hash,
/// its record of wrong tries) and its own waits, so a lock of one never locks the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The référent's PIN.
    Pin,
    /// The staff code.
    Staff,
}

impl Kind {
    fn hash_file(self) -> &'static str {
        match self {
            Kind::Pin => "pin.phc",
            Kind::Staff => "staff.phc",
        }
    }

    fn attempts_file(self) -> &'static str {
        match self {
            Kind::Pin => "attempts.json",
            Kind::Staff => "staff-attempts.json",
        }
    }
}

/// A code kept as an argon2id hash (0600) with its record of wrong tries: the machinery the PIN and
/// the staff code share (see the module's documentation for the waits, the lock and the clocks).
#[derive(Debug, Clone)]
pub(crate) struct Guarded {
    dir: PathBuf,
    kind: Kind,
    /// A hash given by the settings (`[admin] pin_hash`, provisioned), used until one is chosen here.
    provisioned: Option<String>,
}

impl Guarded {
    pub(crate) fn new(state_dir: &Path, kind: Kind, provisioned: Option<String>) -> Guarded {
        Guarded { dir: state_dir.join("admin"), kind, provisioned }
    }

    /// The other code of the same state directory.
    pub(crate) fn sibling(&self, kind: Kind) -> Guarded {
        Guarded { dir: self.dir.clone(), kind, provisioned: None }
    }

    fn hash_file(&self) -> PathBuf {
        self.dir.join(self.kind.hash_file())
    }

    fn attempts_file(&self) -> PathBuf {
        self.dir.join(self.kind.attempts_file())
    }

    fn hash(&self) -> Option<String> {
        std::fs::read_to_string(self.hash_file())
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .or_else(|| self.provisioned.clone())
    }

    pub(crate) fn is_set(&self) -> bool {
        self.hash().is_some()
    }

    /// Whether `code` is this code, without counting an attempt (to refuse a staff code that is the
    /// PIN, or the reverse). Only for the référent's own choice, never for a person's try.
    pub(crate) fn matches(&self, code: &str) -> bool {
        self.hash().is_some_and(|h| Argon2::default().verify_password(code.as_bytes(), h.as_str()).is_ok())
    }

    /// Stores the hash of `code` (already validated) and clears the failures.
    pub(crate) fn store(&self, code: &str) -> Result<(), String> {
        let phc = Argon2::default().hash_password(code.as_bytes()).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&self.dir).map_err(|e| e.to_string())?;
        write_atomic_mode(&self.hash_file(), phc.to_string().as_bytes(), 0o600).map_err(|e| e.to_string())?;
        self.clear_failures();
        Ok(())
    }

    /// Removes the hash chosen here (the staff code taken away): the code no longer opens anything.
    pub(crate) fn remove(&self) -> std::io::Result<()> {
        match std::fs::remove_file(self.hash_file()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        self.clear_failures();
        Ok(())
    }

    fn clear_failures(&self) {
        let mut a = self.attempts();
        a.failures = 0;
        a.next_allowed = 0;
        a.wait_secs = 0;
        if let Err(e) = self.save_attempts(&a) {
            tracing::error!(error = %e, code = self.kind.attempts_file(), "cannot clear the recorded wrong tries");
        }
        deadlines().remove(&self.attempts_file());
    }

    fn attempts(&self) -> Attempts {
        std::fs::read(self.attempts_file()).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    fn save_attempts(&self, a: &Attempts) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        write_atomic(&self.attempts_file(), serde_json::to_string(a).map_err(std::io::Error::other)?.as_bytes())
    }

    /// The wait still to run at `now`, if any, and whether it is the lock. Within a process the
    /// monotonic deadline decides; the first time a process looks (after a restart) it takes it
    /// from the record's wall-clock end, capped at the wait's own length, and keeps it from then on.
    fn pending(&self, a: &Attempts, now: Clocks) -> Option<Check> {
        let key = self.attempts_file();
        let mut map = deadlines();
        if a.next_allowed == 0 && map.get(&key).is_some_and(|d| d.recorded) {
            // The record was cleared since (`bornectl set-pin` chose a PIN): the wait is over.
            map.remove(&key);
        }
        let kept = *map.entry(key).or_insert_with(|| {
            let cap = if a.wait_secs == 0 { LOCK.as_secs() } else { a.wait_secs };
            let left = u64::try_from(a.next_allowed.saturating_sub(now.unix)).unwrap_or(0).min(cap);
            let until = now.instant + Duration::from_secs(left);
            Deadline { until, locked: a.failures >= MAX_FAILURES, recorded: true }
        });
        let wait = kept.until.saturating_duration_since(now.instant);
        if wait.is_zero() {
            None
        } else if kept.locked {
            Some(Check::Locked(wait))
        } else {
            Some(Check::TooSoon(wait))
        }
    }

    pub(crate) fn state(&self, now: Clocks) -> Check {
        if !self.is_set() {
            return Check::NotSet;
        }
        self.pending(&self.attempts(), now).unwrap_or(Check::Ok)
    }

    pub(crate) fn check(&self, code: &str, now: Clocks) -> Check {
        let Some(hash) = self.hash() else { return Check::NotSet };
        let mut a = self.attempts();
        if let Some(wait) = self.pending(&a, now) {
            return wait;
        }
        if a.failures >= MAX_FAILURES {
            // The lock is over: five new attempts.
            a.failures = 0;
        }
        let right = Argon2::default().verify_password(code.as_bytes(), hash.as_str()).is_ok();
        if right {
            deadlines().remove(&self.attempts_file());
            if a.failures > 0 || a.next_allowed > 0 {
                a.failures = 0;
                a.next_allowed = 0;
                a.wait_secs = 0;
                if let Err(e) = self.save_attempts(&a) {
                    // Fails closed by itself: the record still holds the earlier failures.
                    tracing::error!(error = %e, code = self.kind.attempts_file(), "cannot clear the recorded wrong tries");
                }
            }
            match self.kind {
                Kind::Pin => tracing::info!("admin PIN accepted"),
                Kind::Staff => tracing::info!("staff code accepted"),
            }
            return Check::Ok;
        }
        a.failures += 1;
        a.total_failures += 1;
        let locked = a.failures >= MAX_FAILURES;
        let wait = if locked { LOCK } else { Duration::from_secs(1 << (a.failures - 1)) };
        a.next_allowed = now.unix.saturating_add(i64::try_from(wait.as_secs()).unwrap_or(i64::MAX));
        a.wait_secs = wait.as_secs();
        if let Err(e) = self.save_attempts(&a) {
            // Unrecorded, the try would not count after a restart: lock now instead.
            deadlines()
                .insert(self.attempts_file(), Deadline { until: now.instant + LOCK, locked: true, recorded: false });
            match self.kind {
                Kind::Pin => {
                    tracing::error!(error = %e, "cannot record a wrong admin PIN: admin entry locked for 15 minutes")
                }
                Kind::Staff => {
                    tracing::error!(error = %e, "cannot record a wrong staff code: staff code locked for 15 minutes")
                }
            }
            return Check::Unrecorded(LOCK);
        }
        deadlines().insert(self.attempts_file(), Deadline { until: now.instant + wait, locked, recorded: true });
        match self.kind {
            Kind::Pin => tracing::warn!(failures = a.failures, total = a.total_failures, "wrong admin PIN"),
            Kind::Staff => tracing::warn!(failures = a.failures, total = a.total_failures, "wrong staff code"),
        }
        if locked {
            match self.kind {
                Kind::Pin => tracing::warn!("admin entry locked for 15 minutes"),
                Kind::Staff => tracing::warn!("staff code locked for 15 minutes"),
            }
            Check::Locked(wait)
        } else {
            Check::Wrong { left: MAX_FAILURES - a.failures, wait }
        }
    }

    pub(crate) fn total_failures(&self) -> u64 {
        self.attempts().total_failures
    }
}

/// The PIN files in `<state>/admin/`.
#[derive(Debug, Clone)]
pub struct Pin(Guarded);

impl Pin {
    /// The PIN of a state directory; `provisioned` is the settings' `pin_hash`, if any.
    pub fn new(state_dir: &Path, provisioned: Option<String>) -> Pin {
        Pin(Guarded::new(state_dir, Kind::Pin, provisioned))
    }

    /// Whether a PIN exists.
    pub fn is_set(&self) -> bool {
        self.0.is_set()
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

    /// Chooses the PIN (first start, `bornectl set-pin`); clears the failures. A PIN that is the
    /// team's staff code is refused: the médiateurs who know that code must not open the admin
    /// corner with it.
    pub fn set(&self, pin: &str, confirm: &str) -> Result<(), PinError> {
        Pin::validate(pin, confirm)?;
        if self.0.sibling(Kind::Staff).matches(pin) {
            return Err(PinError::SameAsStaffCode);
        }
        self.0.store(pin).map_err(PinError::Store)?;
        tracing::info!("admin PIN chosen");
        Ok(())
    }

    /// Whether `code` is the PIN, without counting an attempt (the staff code's choice).
    pub(crate) fn matches(&self, code: &str) -> bool {
        self.0.matches(code)
    }

    /// Where the entry stands now, without an attempt: locked, or too soon.
    pub fn state(&self, now: Clocks) -> Check {
        self.0.state(now)
    }

    /// An attempt at `now`.
    pub fn check(&self, pin: &str, now: Clocks) -> Check {
        self.0.check(pin, now)
    }

    /// Wrong PINs ever typed.
    pub fn total_failures(&self) -> u64 {
        self.0.total_failures()
    }
}

/// Forgets the wait this process keeps for `g`, as a new process would start (tests of a restart).
#[cfg(test)]
pub(crate) fn forget_deadline_for_tests(g: &Guarded) {
    deadlines().remove(&g.attempts_file());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both clocks `secs` after a start at Unix time `unix0` (the wall clock as true as the monotonic one).
    fn at(t0: Instant, unix0: i64, secs: u64) -> Clocks {
        Clocks { unix: unix0 + secs as i64, instant: t0 + Duration::from_secs(secs) }
    }

    /// What a new process would know: the record on disk, no monotonic deadline.
    fn restart(pin: &Pin) -> Pin {
        deadlines().remove(&pin.0.attempts_file());
        Pin::new(pin.0.dir.parent().unwrap(), pin.0.provisioned.clone())
    }

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
        assert_eq!(pin.check("123456", Clocks::now()), Check::NotSet);
        pin.set("48151623", "48151623").unwrap();
        let text = std::fs::read_to_string(d.path().join("admin/pin.phc")).unwrap();
        assert!(text.starts_with("$argon2id$"), "{text}");
        assert!(!text.contains("48151623"));
        let mode = std::fs::metadata(d.path().join("admin/pin.phc")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(pin.check("48151623", Clocks::now()), Check::Ok);
    }

    #[test]
    fn growing_waits_then_a_15_minute_lock_that_survives_a_restart() {
        let d = tempfile::tempdir().unwrap();
        let pin = Pin::new(d.path(), None);
        pin.set("111111", "111111").unwrap();
        let t0 = Instant::now();
        let mut s = 0;
        let mut waits = Vec::new();
        for _ in 0..4 {
            match pin.check("000000", at(t0, 1_000, s)) {
                Check::Wrong { wait, .. } => {
                    waits.push(wait.as_secs());
                    // Too soon: not even checked, not counted.
                    assert!(matches!(pin.check("111111", at(t0, 1_000, s)), Check::TooSoon(_)));
                    s += wait.as_secs();
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(waits, [1, 2, 4, 8]);
        assert_eq!(pin.check("000000", at(t0, 1_000, s)), Check::Locked(LOCK));
        // A restart (a new process on the same folder) is still locked, even for the right PIN.
        let again = restart(&pin);
        assert!(matches!(again.check("111111", at(t0, 1_000, s + 60)), Check::Locked(_)));
        assert!(matches!(again.state(at(t0, 1_000, s + 60)), Check::Locked(_)));
        assert_eq!(again.total_failures(), 5);
        // After 15 minutes the right PIN opens and the count starts over.
        let after = at(t0, 1_000, s + LOCK.as_secs());
        assert_eq!(again.check("111111", after), Check::Ok);
        assert_eq!(again.check("000000", after), Check::Wrong { left: 4, wait: Duration::from_secs(1) });
    }

    #[test]
    fn a_pin_chosen_by_bornectl_ends_the_kiosks_lock() {
        let d = tempfile::tempdir().unwrap();
        let kiosk = Pin::new(d.path(), None);
        kiosk.set("111111", "111111").unwrap();
        let t0 = Instant::now();
        for s in 0..5 {
            let _ = kiosk.check("000000", at(t0, 1_000, s * 20));
        }
        assert!(matches!(kiosk.state(at(t0, 1_000, 100)), Check::Locked(_)));
        // Another process (`bornectl set-pin`) writes the record; the kiosk's memory is its own.
        let mut cleared = kiosk.0.attempts();
        (cleared.failures, cleared.next_allowed, cleared.wait_secs) = (0, 0, 0);
        kiosk.0.save_attempts(&cleared).unwrap();
        assert_eq!(kiosk.check("111111", at(t0, 1_000, 101)), Check::Ok);
    }

    #[test]
    fn a_clock_moved_forwards_does_not_shorten_a_wait_within_the_process() {
        let d = tempfile::tempdir().unwrap();
        let pin = Pin::new(d.path(), None);
        pin.set("111111", "111111").unwrap();
        let t0 = Instant::now();
        for s in 0..4 {
            let _ = pin.check("000000", at(t0, 1_000, s * 20));
        }
        assert_eq!(pin.check("000000", at(t0, 1_000, 100)), Check::Locked(LOCK));
        // The system's clock jumps a day ahead one minute later: the lock still has 14 minutes.
        let jumped = Clocks { unix: 1_000 + 100 + 86_400 + 60, instant: t0 + Duration::from_secs(160) };
        assert_eq!(pin.check("111111", jumped), Check::Locked(LOCK - Duration::from_secs(60)));
        assert_eq!(pin.state(jumped), Check::Locked(LOCK - Duration::from_secs(60)));
        // The same for a short wait.
        let p2 = Pin::new(&d.path().join("other"), None);
        p2.set("222222", "222222").unwrap();
        assert!(matches!(p2.check("000000", at(t0, 5_000, 0)), Check::Wrong { .. }));
        let jumped = Clocks { unix: 9_999_999, instant: t0 };
        assert_eq!(p2.check("222222", jumped), Check::TooSoon(Duration::from_secs(1)));
    }

    #[test]
    fn a_clock_moved_backwards_neither_shortens_a_wait_nor_locks_for_days() {
        let d = tempfile::tempdir().unwrap();
        let pin = Pin::new(d.path(), None);
        pin.set("111111", "111111").unwrap();
        let t0 = Instant::now();
        let start = 1_800_000_000;
        for s in 0..4 {
            let _ = pin.check("000000", at(t0, start, s * 20));
        }
        assert_eq!(pin.check("000000", at(t0, start, 100)), Check::Locked(LOCK));
        // One minute later the clock goes back a day (a dead RTC battery, a bad time server).
        let back = Clocks { unix: start + 160 - 86_400, instant: t0 + Duration::from_secs(160) };
        let Check::Locked(w) = pin.check("111111", back) else { panic!("still locked") };
        assert!(w >= LOCK - Duration::from_secs(60), "not shorter: {w:?}");
        assert!(w <= LOCK, "never longer than the lock itself: {w:?}");
        // Even after a restart with the clock still a day behind: the lock, not a day and a lock.
        let again = restart(&pin);
        assert_eq!(again.state(back), Check::Locked(LOCK));
        // Once the monotonic lock is over, the wall clock's (capped) part is all that remains.
        let later = Clocks { unix: back.unix + LOCK.as_secs() as i64, instant: back.instant + LOCK };
        assert_eq!(again.check("111111", later), Check::Ok);
    }

    #[test]
    fn a_wrong_try_that_cannot_be_recorded_counts_as_locked() {
        let d = tempfile::tempdir().unwrap();
        let pin = Pin::new(d.path(), None);
        pin.set("111111", "111111").unwrap();
        // The record's name is taken by a folder that is not empty: every write of it fails (even as
        // root, where a read-only folder would not stop the write).
        let _ = std::fs::remove_file(d.path().join("admin/attempts.json"));
        std::fs::create_dir_all(d.path().join("admin/attempts.json/x")).unwrap();
        let t0 = Instant::now();
        assert_eq!(pin.check("000000", at(t0, 1_000, 0)), Check::Unrecorded(LOCK));
        // Locked, even for the right PIN, and the status says so.
        assert_eq!(pin.check("111111", at(t0, 1_000, 1)), Check::Locked(LOCK - Duration::from_secs(1)));
        assert_eq!(pin.state(at(t0, 1_000, 60)), Check::Locked(LOCK - Duration::from_secs(60)));
        // After the lock, one more try; the right PIN opens.
        assert_eq!(pin.check("111111", at(t0, 1_000, LOCK.as_secs())), Check::Ok);
    }

    #[test]
    fn a_provisioned_hash_works_until_a_pin_is_chosen_here() {
        let d = tempfile::tempdir().unwrap();
        let phc = Argon2::default().hash_password(b"246810").unwrap().to_string();
        let pin = Pin::new(d.path(), Some(phc));
        assert!(pin.is_set());
        assert_eq!(pin.check("246810", Clocks::now()), Check::Ok);
        pin.set("135791", "135791").unwrap();
        assert!(matches!(pin.check("246810", Clocks::now()), Check::Wrong { .. }));
    }
}
