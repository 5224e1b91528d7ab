//! `bornectl power-off --request FILE`: root's half of the power-off after closing
//! (`borne_core::power_off`). The image's `borne-power-off.service` runs it, as root, when the kiosk
//! has written its request: the request is taken (read and deleted), checked against the settings
//! as the kiosk reads them, the firmware's wake alarm set and read back, then the machine powers
//! off. Every refusal leaves the borne on (its dark screen) and is said in French on stdout for
//! people, in English in the log (the journal, through the service's stderr).
//!
//! Exit codes: 0 powering off (or, with `--dry-run`, it would), 1 refused or failed.

use std::path::Path;
use std::process::ExitCode;

use borne_core::load::{self, Paths};
use borne_core::messages::{power_off_done_fr, power_off_fr};
use borne_core::power_off::{check, take_request, Machine, PowerOffError};

/// Takes the request at `request` and carries it out (or, `dry_run`, only says what would be done).
pub fn run(paths: &Paths, request: &Path, dry_run: bool) -> ExitCode {
    let now = jiff::Timestamp::now();
    let decided = take_request(request, now).and_then(|req| {
        let plan = match load::check(paths) {
            Ok((settings, ..)) => settings.hours,
            Err(problems) => {
                let first = problems.first().map(ToString::to_string).unwrap_or_default();
                return Err(PowerOffError::Settings(format!("{} problem(s), first: {first}", problems.len())));
            }
        };
        check(&req, plan.as_ref(), now)
    });
    let wake_at = match decided {
        Ok(w) => w,
        Err(e) => return refused(&e),
    };
    if dry_run {
        println!("Demande acceptée (essai : rien n'est réglé). {}", power_off_done_fr(&wake_at));
        tracing::info!(wake_at = %wake_at, "power-off request accepted (dry run)");
        return ExitCode::SUCCESS;
    }
    let machine = Machine::new();
    let alarm = match machine.set_alarm(wake_at, now) {
        Ok(a) => a,
        Err(e) => return refused(&e),
    };
    tracing::info!(wake_at = %wake_at, alarm = %alarm, epoch = alarm.as_second(), "wake alarm set and read back; powering off");
    println!("{}", power_off_done_fr(&alarm));
    match machine.power_off() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => refused(&e),
    }
}

fn refused(e: &PowerOffError) -> ExitCode {
    println!("{}", power_off_fr(e));
    tracing::error!(code = e.code(), error = %e, "power-off after closing not carried out; the borne stays on");
    ExitCode::from(1)
}
