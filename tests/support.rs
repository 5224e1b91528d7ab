//! Helpers shared by the integration tests: where the repository and the built binaries are.

use std::path::PathBuf;

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Path of a binary built by this workspace (`bornectl`), next to the test executable.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(|p| p.parent()).expect("target/<profile>/deps");
    dir.join(name)
}

#[path = "sample.rs"]
pub mod sample;

#[path = "matomo/mod.rs"]
pub mod matomo;
