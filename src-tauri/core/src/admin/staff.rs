//! The team's staff code: what a médiateur types to mark the session in progress « accompagnée »
//! (`crate::person::Event::MarkAccompanied`: a longer idle limit, and the session counted apart in the
//! statistics). One code for the whole team, chosen by the référent (admin screen, `bornectl
//! set-staff-code`): the statistics never say who accompanied, only that someone did.
//!
//! Kept exactly like the PIN ([`super::pin`]'s machinery: an argon2id hash, 0600, never logged; the
//! same growing waits and the 15-minute lock on wrong tries, surviving a restart), in its own files
//! (`<state>/admin/staff.phc`, `staff-attempts.json`): a locked staff code never locks the admin
//! corner, nor the reverse. It can never be the PIN: a médiateur who knows it must not open the
//! admin corner with it.

use std::path::Path;

use super::pin::{Check, Clocks, Guarded, Kind, Pin};

/// Fewest digits of a staff code.
pub const MIN_DIGITS: usize = 4;
/// Most digits of a staff code (short: typed in front of the person, often).
pub const MAX_DIGITS: usize = 8;

/// Why a staff code cannot be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffCodeError {
    /// Fewer than [`MIN_DIGITS`] digits.
    #[error("staff code shorter than {MIN_DIGITS} digits")]
    TooShort,
    /// More than [`MAX_DIGITS`] digits.
    #[error("staff code longer than {MAX_DIGITS} digits")]
    TooLong,
    /// Something else than digits.
    #[error("staff code with characters other than digits")]
    NotDigits,
    /// The confirmation differs.
    #[error("staff code confirmation differs")]
    Mismatch,
    /// The code chosen is the référent's PIN.
    #[error("staff code equal to the admin PIN")]
    SameAsPin,
    /// The hash or the file could not be written.
    #[error("cannot store the staff code: {0}")]
    Store(String),
}

impl StaffCodeError {
    /// The French text for the référent.
    pub fn french(&self) -> &'static str {
        match self {
            StaffCodeError::TooShort => "Le code de l'équipe doit avoir au moins 4 chiffres.",
            StaffCodeError::TooLong => "Le code de l'équipe doit avoir 8 chiffres au plus.",
            StaffCodeError::NotDigits => "Le code de l'équipe ne doit contenir que des chiffres.",
            StaffCodeError::Mismatch => "Les deux codes ne sont pas les mêmes. Recommencez.",
            StaffCodeError::SameAsPin => {
                "Ce code est celui de l'espace référent : choisissez un code différent pour l'équipe."
            }
            StaffCodeError::Store(_) => "Le code de l'équipe n'a pas pu être enregistré. Prévenez la fédération.",
        }
    }

    /// Stable code for the pages.
    pub fn code(&self) -> &'static str {
        match self {
            StaffCodeError::TooShort => "staff-too-short",
            StaffCodeError::TooLong => "staff-too-long",
            StaffCodeError::NotDigits => "staff-not-digits",
            StaffCodeError::Mismatch => "staff-mismatch",
            StaffCodeError::SameAsPin => "staff-same-as-pin",
            StaffCodeError::Store(_) => "staff-store",
        }
    }
}

/// The staff code of a state directory.
#[derive(Debug, Clone)]
pub struct StaffCode(Guarded);

impl StaffCode {
    /// The staff code files of `<state_dir>/admin/`.
    pub fn new(state_dir: &Path) -> StaffCode {
        StaffCode(Guarded::new(state_dir, Kind::Staff, None))
    }

    /// Whether a staff code was chosen (without one, no session can be marked accompanied).
    pub fn is_set(&self) -> bool {
        self.0.is_set()
    }

    /// Checks a new staff code and its confirmation (pure).
    pub fn validate(code: &str, confirm: &str) -> Result<(), StaffCodeError> {
        if !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(StaffCodeError::NotDigits);
        }
        if code.len() < MIN_DIGITS {
            return Err(StaffCodeError::TooShort);
        }
        if code.len() > MAX_DIGITS {
            return Err(StaffCodeError::TooLong);
        }
        if code != confirm {
            return Err(StaffCodeError::Mismatch);
        }
        Ok(())
    }

    /// Chooses the staff code (the référent, once the PIN was given); clears its failures. `pin` is
    /// the référent's PIN of the same borne: a code equal to it is refused.
    pub fn set(&self, code: &str, confirm: &str, pin: &Pin) -> Result<(), StaffCodeError> {
        StaffCode::validate(code, confirm)?;
        if pin.matches(code) {
            return Err(StaffCodeError::SameAsPin);
        }
        self.0.store(code).map_err(StaffCodeError::Store)?;
        tracing::info!("staff code chosen");
        Ok(())
    }

    /// Takes the staff code away: no session can be marked accompanied until a new one is chosen.
    pub fn remove(&self) -> std::io::Result<()> {
        self.0.remove()?;
        tracing::info!("staff code removed");
        Ok(())
    }

    /// Where the code stands now, without an attempt: not set, locked, too soon, or ready (`Ok`).
    pub fn state(&self, now: Clocks) -> Check {
        self.0.state(now)
    }

    /// A médiateur's attempt at `now`. On [`Check::Ok`] the shell marks the session
    /// (`person::Event::MarkAccompanied` and `stats::recorder::Recorder::mark_accompanied`).
    pub fn check(&self, code: &str, now: Clocks) -> Check {
        self.0.check(code, now)
    }

    /// Wrong staff codes ever typed.
    pub fn total_failures(&self) -> u64 {
        self.0.total_failures()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::pin::{LOCK, MAX_FAILURES};
    use super::*;

    fn at(t0: Instant, secs: u64) -> Clocks {
        Clocks { unix: 1_000 + secs as i64, instant: t0 + Duration::from_secs(secs) }
    }

    #[test]
    fn a_staff_code_is_4_to_8_digits_confirmed() {
        assert_eq!(StaffCode::validate("123", "123"), Err(StaffCodeError::TooShort));
        assert_eq!(StaffCode::validate("123456789", "123456789"), Err(StaffCodeError::TooLong));
        assert_eq!(StaffCode::validate("12a4", "12a4"), Err(StaffCodeError::NotDigits));
        assert_eq!(StaffCode::validate("1234", "1243"), Err(StaffCodeError::Mismatch));
        assert_eq!(StaffCode::validate("1234", "1234"), Ok(()));
        assert_eq!(StaffCode::validate("12345678", "12345678"), Ok(()));
        for e in [StaffCodeError::TooShort, StaffCodeError::SameAsPin, StaffCodeError::Store("x".into())] {
            assert!(e.french().len() > 20 && e.code().starts_with("staff-"), "{e:?}");
        }
    }

    #[test]
    fn kept_as_an_argon2id_hash_in_its_own_0600_file_never_the_code() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let pin = Pin::new(d.path(), None);
        pin.set("48151623", "48151623").unwrap();
        let staff = StaffCode::new(d.path());
        assert!(!staff.is_set());
        assert_eq!(staff.check("2468", Clocks::now()), Check::NotSet);
        assert_eq!(staff.state(Clocks::now()), Check::NotSet);
        staff.set("2468", "2468", &pin).unwrap();
        let file = d.path().join("admin/staff.phc");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.starts_with("$argon2id$") && !text.contains("2468"), "{text}");
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(staff.check("2468", Clocks::now()), Check::Ok);
        // The PIN is not the staff code, nor the reverse.
        assert!(matches!(staff.check("48151623", Clocks::now()), Check::Wrong { .. }));
        assert_eq!(pin.check("48151623", Clocks::now()), Check::Ok);
        staff.remove().unwrap();
        assert!(!staff.is_set());
        assert_eq!(staff.check("2468", Clocks::now()), Check::NotSet);
        assert_eq!(pin.check("48151623", Clocks::now()), Check::Ok, "the PIN stays");
    }

    #[test]
    fn the_staff_code_cannot_be_the_pin_nor_the_pin_the_staff_code() {
        let d = tempfile::tempdir().unwrap();
        let pin = Pin::new(d.path(), None);
        let staff = StaffCode::new(d.path());
        // No PIN yet: nothing to compare with.
        staff.set("135791", "135791", &pin).unwrap();
        assert_eq!(pin.set("135791", "135791"), Err(crate::admin::pin::PinError::SameAsStaffCode));
        assert!(!pin.is_set());
        pin.set("246810", "246810").unwrap();
        assert_eq!(staff.set("246810", "246810", &pin), Err(StaffCodeError::SameAsPin));
        // The refused choice left the old staff code in place.
        assert_eq!(staff.check("135791", Clocks::now()), Check::Ok);
        assert_eq!(crate::admin::pin::PinError::SameAsStaffCode.code(), "pin-same-as-staff");
    }

    #[test]
    fn wrong_codes_wait_then_lock_apart_from_the_pin_and_the_lock_survives_a_restart() {
        let d = tempfile::tempdir().unwrap();
        let pin = Pin::new(d.path(), None);
        pin.set("111111", "111111").unwrap();
        let staff = StaffCode::new(d.path());
        staff.set("9753", "9753", &pin).unwrap();
        let t0 = Instant::now();
        let mut s = 0;
        let mut waits = Vec::new();
        for left in (1..MAX_FAILURES).rev() {
            match staff.check("0000", at(t0, s)) {
                Check::Wrong { left: l, wait } => {
                    assert_eq!(l, left);
                    waits.push(wait.as_secs());
                    // Too soon: not even checked, even the right code.
                    assert!(matches!(staff.check("9753", at(t0, s)), Check::TooSoon(_)));
                    assert!(matches!(staff.state(at(t0, s)), Check::TooSoon(_)));
                    s += wait.as_secs();
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(waits, [1, 2, 4, 8]);
        assert_eq!(staff.check("0000", at(t0, s)), Check::Locked(LOCK));
        assert!(matches!(staff.check("9753", at(t0, s + 60)), Check::Locked(_)));
        // The admin corner is not locked by the staff code's failures.
        assert_eq!(pin.state(at(t0, s + 60)), Check::Ok);
        assert_eq!(pin.check("111111", at(t0, s + 60)), Check::Ok);
        // A new process on the same folder: still locked (its wait read back from the record).
        let again = StaffCode::new(d.path());
        super::super::pin::forget_deadline_for_tests(&again.0);
        assert!(matches!(again.state(at(t0, s + 60)), Check::Locked(_)));
        assert_eq!(again.total_failures(), 5);
        // After the lock, the right code works and the count starts over.
        let after = at(t0, s + LOCK.as_secs());
        assert_eq!(again.check("9753", after), Check::Ok);
        assert_eq!(again.check("0000", after), Check::Wrong { left: 4, wait: Duration::from_secs(1) });
        // Choosing a new code ends a wait.
        again.set("8642", "8642", &pin).unwrap();
        assert_eq!(again.check("8642", after), Check::Ok);
    }

    #[test]
    fn the_pins_failures_do_not_lock_the_staff_code() {
        let d = tempfile::tempdir().unwrap();
        let pin = Pin::new(d.path(), None);
        pin.set("111111", "111111").unwrap();
        let staff = StaffCode::new(d.path());
        staff.set("9753", "9753", &pin).unwrap();
        let t0 = Instant::now();
        for i in 0..5 {
            let _ = pin.check("000000", at(t0, i * 20));
        }
        assert!(matches!(pin.state(at(t0, 100)), Check::Locked(_)));
        assert_eq!(staff.check("9753", at(t0, 100)), Check::Ok);
    }
}
