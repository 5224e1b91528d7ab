//! `matomo-contract`: runs the Matomo contract server (`borne_tests::matomo`) until killed, for the benchmark and
//! manual runs.
//!
//! ```text
//! matomo-contract [--port P] [--site NAME[@ZONE]]... [--token TOKEN:ROLE]...
//! ```
//! `--port` defaults to 0 (a free port); each `--site` creates the next site (ids 1, 2...) in ZONE (`UTC`, `UTC±N`
//! or a tz database name such as `Indian/Reunion`; Europe/Paris when not given);
//! ROLE is `super`, `write:ID` or `view:ID`. Prints `listening http://127.0.0.1:PORT/` once ready. Totals of what
//! was stored: `GET /__contract/totals`.

use std::io::Write;
use std::process::ExitCode;

use borne_tests::matomo::{ContractServer, Role};

const USAGE: &str = "usage: matomo-contract [--port P] [--site NAME[@ZONE]]... [--token TOKEN:ROLE]...
  ZONE: UTC | UTC+N | UTC-N | Area/City (default Europe/Paris)
  ROLE: super | write:SITE_ID | view:SITE_ID";

/// What the command line asks for.
struct Options {
    port: u16,
    sites: Vec<String>,
    tokens: Vec<(String, Role)>,
}

fn parse_role(role: &str) -> Option<Role> {
    match role.split_once(':') {
        None if role == "super" => Some(Role::SuperUser),
        Some(("write", site)) => site.parse().ok().map(Role::Write),
        Some(("view", site)) => site.parse().ok().map(Role::View),
        _ => None,
    }
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options { port: 0, sites: Vec::new(), tokens: Vec::new() };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => {
                let port = value()?;
                options.port = port.parse().map_err(|_| format!("bad port '{port}'"))?;
            }
            "--site" => options.sites.push(value()?),
            "--token" => {
                let spec = value()?;
                let (token, role) = spec.split_once(':').ok_or_else(|| format!("bad token '{spec}': TOKEN:ROLE"))?;
                let role = parse_role(role).ok_or_else(|| format!("bad role '{role}'"))?;
                options.tokens.push((token.to_owned(), role));
            }
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("matomo-contract: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let server = match ContractServer::start_on(options.port) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("matomo-contract: cannot listen on 127.0.0.1:{}: {error}", options.port);
            return ExitCode::FAILURE;
        }
    };
    for site in &options.sites {
        let (name, zone) = site.rsplit_once('@').unwrap_or((site, "Europe/Paris"));
        if server.try_add_site(name, zone).is_none() {
            eprintln!("matomo-contract: unknown time zone `{zone}`\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    for (token, role) in options.tokens {
        server.add_token(&token, role);
    }
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "listening {}", server.url()).and_then(|()| stdout.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    loop {
        std::thread::park();
    }
}
