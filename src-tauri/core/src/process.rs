//! Running a system program with a time limit: the CUPS clients ([`crate::print::cups`]), `busctl`
//! ([`crate::admin::machine`]), `df` and `lpstat` for the health report ([`crate::health`]). A program
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
    let deadline = std::time::Instant::now() + limit;
    loop {
        if child.try_wait()?.is_some() {
            return child.wait_with_output();
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

#[cfg(test)]
mod tests {
    use super::*;

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
