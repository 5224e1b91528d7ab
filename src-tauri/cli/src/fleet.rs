//! `bornectl fleet`: the federation's view of its bornes, from their health reports in Matomo
//! (`borne_core::health::fleet` reads and decides; this prints). French for people, English in the log.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use borne_core::health::fleet;
use borne_core::matomo::french_for_code;
use borne_core::stats::Hour;

use crate::stats::{matomo_url, reporting};

/// `bornectl fleet`. Exit 0 with the report (alerts or not), 1 when Matomo could not be read, 3 when the token
/// is refused.
pub fn fleet(matomo: &str, token_file: &Path, csv: bool, html: bool) -> ExitCode {
    let url = match matomo_url(matomo) {
        Ok(u) => u,
        Err(c) => return c,
    };
    let (token, rt, client) = match reporting(&url, token_file, Duration::from_secs(300)) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let now = Hour::now();
    let bornes = match rt.block_on(fleet::read(&client, &token, now)) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("Lecture impossible : {}", french_for_code(e.code()));
            tracing::error!(error = %e, "fleet report failed");
            return ExitCode::from(if e.is_permanent() { 3 } else { 1 });
        }
    };
    if csv {
        print!("{}", fleet::csv(&bornes));
    } else if html {
        print!("{}", fleet::html(&bornes, now));
    } else {
        let alerted: Vec<&fleet::Borne> = bornes.iter().filter(|b| !b.alerts.is_empty()).collect();
        println!("{} bornes, {} avec une alerte", bornes.len(), alerted.len());
        for b in &bornes {
            let state = match &b.latest {
                Some(r) => format!(
                    "dernier rapport {}, version {}, catalogue {}, imprimante {}, {} sessions par jour",
                    fleet::seen(b),
                    r.version,
                    r.catalogue,
                    borne_core::messages::fleet_printer_fr(r.printer.code()),
                    fleet::decimal_fr(b.sessions_per_day())
                ),
                None => "aucun rapport".into(),
            };
            println!("- n° {} {} : {state}", b.site_id, b.name);
            for a in &b.alerts {
                println!("    ! {}", borne_core::messages::fleet_alert_fr(a));
            }
        }
    }
    tracing::info!(bornes = bornes.len(), "fleet report");
    ExitCode::SUCCESS
}
