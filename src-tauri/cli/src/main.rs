//! `bornectl`: the command line for the référent and the federation. No webview: it builds and runs
//! on any machine, and calls `borne-core` for every decision.
//!
//! Exit codes: 0 success (or `allow`), 1 a problem found (or `block`), 2 a usage error.

use std::path::PathBuf;
use std::process::ExitCode;

use borne_core::load::{self, Paths};
use borne_core::policy::{Decision, LoadKind};
use clap::{Parser, Subcommand};

/// Command line of the borne.
#[derive(Parser, Debug)]
#[command(name = "bornectl", version, about = "Borne « Le numérique à mon service » : vérifier et piloter la borne")]
struct Cli {
    /// Configuration directory (borne.toml, catalogue.toml). Default: /etc/borne, else ./config.
    #[arg(long, global = true, value_name = "DIR")]
    config: Option<PathBuf>,
    /// State directory (local.toml, statistics). Default: $XDG_STATE_HOME/borne.
    #[arg(long, global = true, value_name = "DIR")]
    state: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check borne.toml, catalogue.toml and local.toml; print every problem in French.
    CheckConfig,
    /// Print the effective allow-list, one rule a line, with the tiles that need it.
    Hosts,
    /// Print what the portal shows (centre, tiles by theme) as JSON, as the kiosk gives it to its page.
    Portal,
    /// Say whether the borne may open URL: `allow` or `block`, then the rule or the reason.
    Decide {
        /// The URL to test.
        url: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("BORNE_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let paths = Paths {
        config_dir: cli.config.unwrap_or_else(Paths::default_config_dir),
        state_dir: cli.state.unwrap_or_else(Paths::default_state_dir),
    };
    match cli.command {
        Command::CheckConfig => check_config(&paths),
        Command::Hosts => hosts(&paths),
        Command::Decide { url } => decide(&paths, &url),
        Command::Portal => portal(&paths),
    }
}

fn check_config(paths: &Paths) -> ExitCode {
    match load::check(paths) {
        Ok((settings, national, local)) => {
            let e = borne_core::catalogue::Effective::build(&settings, &national, &local);
            println!(
                "Configuration correcte : {} tuiles, {} règles d'hôte, {} thèmes.",
                e.services.len(),
                e.policy.entries().len(),
                e.themes.len()
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            let n = problems.len();
            println!("{} :", if n > 1 { format!("{n} erreurs") } else { "1 erreur".into() });
            for p in &problems {
                println!("- {}", p.french());
                tracing::error!(%p, "configuration problem");
            }
            ExitCode::from(1)
        }
    }
}

fn loaded_or_warn(paths: &Paths) -> load::Loaded {
    let l = load::load(paths);
    if !l.problems.is_empty() {
        eprintln!("{}", borne_core::messages::kept_last_good_fr(l.problems.len()));
    }
    l
}

fn hosts(paths: &Paths) -> ExitCode {
    let l = loaded_or_warn(paths);
    for e in l.effective.policy.entries() {
        let http = if e.http { " (http aussi)" } else { "" };
        println!("{}{}\t{}", e.rule, http, e.needed_by.join(", "));
    }
    ExitCode::SUCCESS
}

fn decide(paths: &Paths, url: &str) -> ExitCode {
    let l = loaded_or_warn(paths);
    let policy = &l.effective.policy;
    let d = policy.decide_str(url, LoadKind::Navigation);
    println!("{}", policy.explain(&d));
    match d {
        Decision::Allow(_) => ExitCode::SUCCESS,
        Decision::Internal | Decision::Block { .. } => ExitCode::from(1),
    }
}

fn portal(paths: &Paths) -> ExitCode {
    let l = loaded_or_warn(paths);
    let data = borne_core::catalogue::PortalData::new(&l.settings, &l.effective);
    match serde_json::to_string_pretty(&data) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
