//! Running a system program with a time limit: the CUPS clients ([`crate::print::cups`],
//! [`crate::printers`]), `busctl` ([`crate::admin::machine`]), `df` and `lpstat` for the health report
//! ([`crate::health`]), `nmcli` ([`crate::wifi`]). A program
//! that does not end in time is killed, so no caller waits for ever on a stuck daemon. At the bottom of
//! the core: it uses no other module.

/// Runs `cmd` and collects its output, killing it when it takes longer than `limit`. For commands
/// that print little (the pipes are read once it has ended).
pub fn run_with_timeout(
    mut cmd: std::process::Command,
    limit: std::time::Duration,
) -> std::io::Result<std::process::Output> {
    use std::process::Stdio;
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    wait_within(&mut child, limit)?;
    child.wait_with_output()
}

/// Waits for `child` to end, killing (and reaping) it when it takes longer than `limit`.
fn wait_within(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> std::io::Result<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {} s", limit.as_secs()),
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Most bytes kept from each of the outputs of [`run_collecting`].
const MAX_COLLECTED: u64 = 4 * 1024 * 1024;

/// Runs `cmd` with `input` on its stdin (none: an empty stdin) and its outputs going to unnamed
/// temporary files, killing it when it takes longer than `limit`: for commands that may print a lot
/// (`lpinfo -m`, a long scan list), which would block on a full pipe that [`run_with_timeout`] only
/// reads at the end, and for those that read their orders on stdin (`nmcli`'s editor, which takes a
/// password there rather than on the command line that every process may read). At most 4 MiB of
/// each output is kept.
pub fn run_collecting(
    mut cmd: std::process::Command,
    input: Option<&[u8]>,
    limit: std::time::Duration,
) -> std::io::Result<std::process::Output> {
    use std::io::{Read, Seek, Write};
    use std::process::Stdio;
    let mut out = tempfile::tempfile()?;
    let mut err = tempfile::tempfile()?;
    cmd.stdout(out.try_clone()?).stderr(err.try_clone()?);
    cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn()?;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        // Small orders: they fit in the pipe whatever the child does. A child that exits without
        // reading gives a broken pipe, which is its answer, not an error here.
        let _ = stdin.write_all(bytes);
    }
    let status = wait_within(&mut child, limit)?;
    let read_back = |f: &mut std::fs::File| -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        f.rewind()?;
        f.take(MAX_COLLECTED).read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    Ok(std::process::Output { status, stdout: read_back(&mut out)?, stderr: read_back(&mut err)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collected_outputs_may_be_large_and_input_reaches_stdin() {
        // 1 MB on stdout and stderr: a pipe read at the end would block the child at 64 KiB.
        let mut sh = std::process::Command::new("sh");
        sh.args(["-c", "head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2; cat"]);
        let o = run_collecting(sh, Some(b"orders\n"), std::time::Duration::from_secs(20)).unwrap();
        assert!(o.status.success());
        assert_eq!(o.stdout.len(), 1_000_007);
        assert!(o.stdout.ends_with(b"orders\n"));
        assert_eq!(o.stderr.len(), 1_000_000);
        let mut sleep = std::process::Command::new("sleep");
        sleep.arg("30");
        let t0 = std::time::Instant::now();
        let e = run_collecting(sleep, None, std::time::Duration::from_millis(300)).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(t0.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn a_command_that_hangs_is_killed_at_its_limit() {
        let mut sleep = std::process::Command::new("sleep");
        sleep.arg("30");
        let t0 = std::time::Instant::now();
        let e = run_with_timeout(sleep, std::time::Duration::from_millis(300)).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(t0.elapsed() < std::time::Duration::from_secs(5), "{:?}", t0.elapsed());
        let mut echo = std::process::Command::new("echo");
        echo.arg("oui");
        let o = run_with_timeout(echo, std::time::Duration::from_secs(5)).unwrap();
        assert_eq!(String::from_utf8_lossy(&o.stdout), "oui\n");
    }
}
