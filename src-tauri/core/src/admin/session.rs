//! The référent's session in the kiosk: open from the admin page's entry, unlocked by the PIN, and
//! closed after [`IDLE`] without input or command.

use std::time::{Duration, Instant};

/// An admin session closes itself after this long without input.
pub const IDLE: Duration = Duration::from_secs(120);

/// The admin session.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AdminSession {
    /// The PIN was given.
    pub unlocked: bool,
    /// Last input or command; `None` when the admin page is not open.
    pub last: Option<Instant>,
}

impl AdminSession {
    /// The admin page was just opened (PIN not given yet).
    pub fn opened(now: Instant) -> Self {
        AdminSession { unlocked: false, last: Some(now) }
    }

    /// The PIN was given.
    pub fn unlocked(now: Instant) -> Self {
        AdminSession { unlocked: true, last: Some(now) }
    }

    /// Whether the admin page is open.
    pub fn is_open(&self) -> bool {
        self.last.is_some()
    }

    /// Input or a command: the session goes on (nothing when the page is not open).
    pub fn touch(&mut self, now: Instant) {
        if self.last.is_some() {
            self.last = Some(now);
        }
    }

    /// Open and idle for [`IDLE`] or more.
    pub fn expired(&self, now: Instant) -> bool {
        self.last.is_some_and(|t| now.saturating_duration_since(t) >= IDLE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_minutes_without_input_close_it_and_input_keeps_it() {
        let t0 = Instant::now();
        let mut s = AdminSession::unlocked(t0);
        assert!(!s.expired(t0 + Duration::from_secs(119)));
        s.touch(t0 + Duration::from_secs(100));
        assert!(!s.expired(t0 + Duration::from_secs(200)));
        assert!(s.expired(t0 + Duration::from_secs(220)));
        let mut closed = AdminSession::default();
        closed.touch(t0);
        assert!(!closed.is_open() && !closed.expired(t0 + IDLE * 2), "a closed page never expires nor reopens");
        assert!(!AdminSession::opened(t0).unlocked);
    }
}
