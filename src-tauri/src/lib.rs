//! The borne's kiosk shell.

/// Starts the kiosk.
pub fn run() {}
