//! What the command line tests share: running bornectl with something on its standard input.

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `cmd` (bornectl, arguments and environment set) with `input` on its standard input;
/// (exit code, stdout, stderr).
pub fn run(mut cmd: Command, input: &str) -> (i32, String, String) {
    let mut child =
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("test set-up");
    child.stdin.take().expect("test set-up").write_all(input.as_bytes()).expect("test set-up");
    let out = child.wait_with_output().expect("test set-up");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
