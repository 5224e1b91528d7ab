//! `bornectl`: the command line for the référent and the federation. No webview: it builds and runs
//! on any machine, and calls `borne-core` for every decision.
//!
//! Exit codes: 0 success (or `allow`), 1 a problem found (or `block`, or a push that must be tried
//! again), 2 a usage error, 3 a refusal that needs someone to act (bad token, unknown site).

use std::path::PathBuf;
use std::process::ExitCode;

use borne_core::load::{self, Paths};
use borne_core::policy::{Decision, LoadKind};
use clap::{Parser, Subcommand};

mod catalogue;
mod fleet;
mod power_off;
mod stats;
mod wifi;

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
    /// The centre's communication kit, made from the borne's own settings and portal: an A4 poster
    /// (the tiles by theme with their pictograms, the opening hours, « Demandez à l'accueil »), an
    /// A5 flyer and the booklet of "Avant de commencer" sheets, as PDF, in French and one more
    /// language the borne offers.
    Kit {
        /// Folder to write the PDF files into (made if needed).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The language beside French: one the borne offers (ar, en, uk, pt, ro), or `fr` for French
        /// alone. Default: the first offered language after French.
        #[arg(long, value_name = "LANG")]
        lang: Option<String>,
    },
    /// Say whether the borne may open URL: `allow` or `block`, then the rule or the reason.
    Decide {
        /// The URL to test.
        url: String,
    },
    /// Local statistics, a line a day (default: the last 30 days), as a table or CSV.
    Stats {
        /// First day, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last day (included), YYYY-MM-DD. Default: today.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// CSV for a spreadsheet (`;` between fields, header line first).
        #[arg(long)]
        csv: bool,
        /// Split every figure by place (nomad borne) and by accompaniment (sessions a médiateur marked
        /// « accompagnée », or autonomous): a line a day, place and mode.
        #[arg(long)]
        split: bool,
    },
    /// Choose the référent's PIN (at least 6 digits), read twice from the terminal (or two lines of
    /// standard input when it is not a terminal).
    SetPin,
    /// Choose the team's staff code (4 to 8 digits, not the PIN), which a médiateur types to mark a
    /// session « accompagnée »; read twice like set-pin. `--remove` takes it away.
    SetStaffCode {
        /// Take the staff code away: no session can be marked accompanied until a new one is chosen.
        #[arg(long)]
        remove: bool,
    },
    /// A nomad borne's place today: without NAME, say it and list the places of `[nomad] places`;
    /// with NAME, choose it for today (kept until midnight, restarts included); `--clear` forgets it.
    /// The running kiosk reads the place when it starts and when the référent chooses it on screen.
    Place {
        /// The place's name as in borne.toml (case and accents do not matter), or its code.
        name: Option<String>,
        /// Forget today's place.
        #[arg(long, conflicts_with = "name")]
        clear: bool,
    },
    /// Send the statistics to Matomo now, or print what would be sent.
    Push {
        /// Print the requests instead of sending them (the token is masked).
        #[arg(long)]
        dry_run: bool,
    },
    /// « Tester la connexion »: say whether Matomo accepts this borne's statistics, or what is wrong
    /// (unreachable, not a Matomo, wrong key, wrong or foreign site number, no write access). Uses the
    /// borne's settings; each option given replaces one of them.
    MatomoCheck {
        /// Address of the federation's Matomo.
        #[arg(long, value_name = "URL")]
        matomo: Option<String>,
        /// The site number of the borne in Matomo.
        #[arg(long, value_name = "N")]
        site_id: Option<u32>,
        /// File holding the borne's key (token).
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
    },
    /// Create this borne's Matomo site, a user with write access to it alone and its token, and
    /// store them in the state directory.
    Provision {
        /// Address of the federation's Matomo.
        #[arg(long, value_name = "URL")]
        matomo: String,
        /// File holding a super user's token.
        #[arg(long, value_name = "FILE")]
        admin_token_file: PathBuf,
        /// Name of the centre (the site's name in Matomo).
        #[arg(long, value_name = "NAME")]
        centre: String,
    },
    /// Apply a first-boot setup file (borne-setup.toml: centre, Wi-Fi, PIN, Matomo, SSH keys, catalogue and update
    /// addresses) after checking all
    /// of it; print what was done, or every problem with its line, in French.
    Setup {
        /// The setup file.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Where to write the Wi-Fi as a NetworkManager keyfile (the image: /var/lib/borne/network).
        /// Without it, a [wifi] section is checked but not applied.
        #[arg(long, value_name = "DIR")]
        network_dir: Option<PathBuf>,
        /// Where to write the federation's SSH keys as authorized_keys (the image: /var/lib/borne/ssh).
        /// Without it, an [ssh] section is checked but not applied.
        #[arg(long, value_name = "DIR")]
        ssh_dir: Option<PathBuf>,
        /// Where to write the A/B updater's update.conf (the image: /var/lib/borne-state/system).
        /// Without it, an [updates] section is checked but not applied.
        #[arg(long, value_name = "DIR")]
        updates_dir: Option<PathBuf>,
        /// Only check the file.
        #[arg(long)]
        check: bool,
    },
    /// The federation's signed catalogue: key pair, signing and verifying a publication folder, and
    /// a borne's check of its channel.
    Catalogue {
        #[command(subcommand)]
        action: catalogue::Action,
    },
    /// The Wi-Fi, as the admin screen « Réseau » has it: the link, the networks in range, join one
    /// (its password from a file, standard input or the terminal, never the command line), forget
    /// one. Through NetworkManager, as root or as the kiosk's user (the image's polkit rule).
    Wifi {
        #[command(subcommand)]
        action: wifi::Action,
    },
    /// Root's half of the power-off after closing (the image's borne-power-off.service runs it): takes
    /// the kiosk's request (FILE, then deleted), checks it against the settings and the opening hours
    /// (power_off on, closed now, waking no later than the next opening, within 7 days), sets the
    /// firmware's wake alarm with rtcwake, reads it back, and powers off.
    PowerOff {
        /// The kiosk's request (the image: /run/borne-power-off/request).
        #[arg(long, value_name = "FILE")]
        request: PathBuf,
        /// Check the request and say what would be done; set no alarm, do not power off.
        #[arg(long)]
        dry_run: bool,
    },
    /// The fleet: a line per borne from its health reports in Matomo (last report, version, catalogue,
    /// delivery, printer, disk, sessions a day) and the alerts (silent for 48 h, backlog growing, printer down
    /// for a day, rolled-back update, old version).
    Fleet {
        /// Address of the federation's Matomo.
        #[arg(long, value_name = "URL")]
        matomo: String,
        /// File holding a token with view access to the bornes' sites.
        #[arg(long, value_name = "FILE")]
        token_file: PathBuf,
        /// CSV for a French spreadsheet (`;`, decimal comma, UTF-8 with BOM).
        #[arg(long, conflicts_with = "html")]
        csv: bool,
        /// One self-contained HTML page (a table, a small chart per borne), readable offline.
        #[arg(long)]
        html: bool,
    },
    /// The federation's table across bornes, read from Matomo's Reporting API.
    Report {
        /// Address of the federation's Matomo.
        #[arg(long, value_name = "URL")]
        matomo: String,
        /// File holding a token with view access to the bornes' sites.
        #[arg(long, value_name = "FILE")]
        token_file: PathBuf,
        /// First day, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        from: String,
        /// Last day (included), YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        to: String,
        /// CSV (`;` between fields).
        #[arg(long, conflicts_with = "html")]
        csv: bool,
        /// A standalone HTML page.
        #[arg(long)]
        html: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("BORNE_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: not in a file, a pipe or a log over SSH.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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
        Command::Kit { out, lang } => kit(&paths, &out, lang.as_deref()),
        Command::Stats { from, to, csv, split } => stats::stats(&paths, from.as_deref(), to.as_deref(), csv, split),
        Command::Push { dry_run } => stats::push(&paths, dry_run),
        Command::MatomoCheck { matomo, site_id, token_file } => {
            stats::matomo_check(&paths, matomo.as_deref(), site_id, token_file.as_deref())
        }
        Command::SetPin => set_pin(&paths),
        Command::SetStaffCode { remove } => set_staff_code(&paths, remove),
        Command::Place { name, clear } => place(&paths, name.as_deref(), clear),
        Command::Setup { file, network_dir, ssh_dir, updates_dir, check } => {
            let dirs = borne_core::setup::SystemDirs {
                network: network_dir.as_deref(),
                ssh: ssh_dir.as_deref(),
                updates: updates_dir.as_deref(),
            };
            setup(&paths, &file, dirs, check)
        }
        Command::Provision { matomo, admin_token_file, centre } => {
            stats::provision(&paths, &matomo, &admin_token_file, &centre)
        }
        Command::Catalogue { action } => catalogue::run(&paths, action),
        Command::Wifi { action } => wifi::run(action),
        Command::PowerOff { request, dry_run } => power_off::run(&paths, &request, dry_run),
        Command::Fleet { matomo, token_file, csv, html } => fleet::fleet(&matomo, &token_file, csv, html),
        Command::Report { matomo, token_file, from, to, csv, html } => {
            stats::report(&matomo, &token_file, &from, &to, csv, html)
        }
    }
}

fn check_config(paths: &Paths) -> ExitCode {
    match load::check(paths) {
        Ok((settings, national, local, demarches)) => {
            let e = borne_core::catalogue::Effective::build(&settings, &national, &local);
            println!(
                "Configuration correcte : {} tuiles, {} règles d'hôte, {} thèmes, {} fiches « Avant de commencer ».",
                e.services.len(),
                e.policy.entries().len(),
                e.themes.len(),
                demarches.len()
            );
            if national.version > 0 {
                let source = borne_core::channel::in_force(paths).source;
                let from = if source == "channel" {
                    "mise à jour signée de la fédération"
                } else {
                    "livré avec la borne"
                };
                println!("Catalogue national : version {} ({from}).", national.version);
            }
            // The référent's choices an update of the national catalogue set aside (never errors).
            for note in &local.set_aside {
                println!("- {note}");
            }
            if let Some(plan) = &settings.hours {
                println!("Horaires d'ouverture : {}.", plan.sentence("fr"));
                let n = plan.closures().len();
                if n > 0 {
                    println!("Fermetures exceptionnelles : {n}.");
                }
            }
            // Remarks on the settings that do not stop them from loading.
            for n in &settings.notes {
                println!("- {}", n.french());
                tracing::warn!(%n, "configuration note");
            }
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

/// A secret read from the terminal without echo, or a line of standard input when it is not a terminal.
fn read_secret(prompt: &str) -> Option<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt).ok()
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).ok().filter(|n| *n > 0).map(|_| line.trim().to_string())
    }
}

fn set_pin(paths: &Paths) -> ExitCode {
    let read = read_secret;
    let (Some(pin), Some(confirm)) = (read("Nouveau code (6 chiffres ou plus) : "), read("Le même code encore : "))
    else {
        eprintln!("Aucun code lu.");
        return ExitCode::from(2);
    };
    let l = load::load(paths);
    let p = borne_core::admin::pin::Pin::new(&paths.state_dir, l.settings.pin_hash.clone());
    match p.set(&pin, &confirm) {
        Ok(()) => {
            println!("Code de l'espace référent enregistré.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", e.french());
            tracing::error!(error = %e, "set-pin");
            ExitCode::from(1)
        }
    }
}

fn set_staff_code(paths: &Paths, remove: bool) -> ExitCode {
    use borne_core::admin::staff::StaffCode;
    let staff = StaffCode::new(&paths.state_dir);
    if remove {
        return match staff.remove() {
            Ok(()) => {
                println!("Code de l'équipe supprimé : plus aucune session ne peut être marquée accompagnée.");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("Le code de l'équipe n'a pas pu être supprimé.");
                tracing::error!(error = %e, "set-staff-code --remove");
                ExitCode::from(1)
            }
        };
    }
    let (Some(code), Some(confirm)) =
        (read_secret("Code de l'équipe (4 à 8 chiffres) : "), read_secret("Le même code encore : "))
    else {
        eprintln!("Aucun code lu.");
        return ExitCode::from(2);
    };
    let l = load::load(paths);
    let pin = borne_core::admin::pin::Pin::new(&paths.state_dir, l.settings.pin_hash.clone());
    match staff.set(&code, &confirm, &pin) {
        Ok(()) => {
            println!(
                "Code de l'équipe enregistré : un médiateur le tape pour marquer une session « accompagnée » \
                 (elle reste ouverte {} minutes sans activité).",
                l.settings.session.accompanied_idle_secs / 60
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", e.french());
            tracing::error!(error = %e, "set-staff-code");
            ExitCode::from(1)
        }
    }
}

fn place(paths: &Paths, name: Option<&str>, clear: bool) -> ExitCode {
    use borne_core::nomad;
    let l = loaded_or_warn(paths);
    let places = &l.settings.nomad.places;
    let tz = jiff::tz::TimeZone::get(&l.settings.stats.time_zone).unwrap_or_else(|_| jiff::tz::TimeZone::system());
    let today = nomad::today(&tz, jiff::Timestamp::now());
    if clear {
        return match nomad::clear_today(&paths.state_dir) {
            Ok(()) => {
                println!("Lieu du jour oublié : les sessions sont comptées sans lieu.");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{}", nomad::PlaceError::Store(e).french());
                ExitCode::from(1)
            }
        };
    }
    if let Some(name) = name {
        return match nomad::set_today(&paths.state_dir, places, name, today) {
            Ok(p) => {
                println!("Lieu du {today} : {} (code {}).", p.name, p.code);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{}", e.french());
                tracing::error!(error = %e, "place");
                ExitCode::from(if matches!(e, nomad::PlaceError::Store(_)) { 1 } else { 2 })
            }
        };
    }
    if places.is_empty() {
        println!("Cette borne n'a pas de lieux (borne.toml, partie [nomad], réglage « places »).");
        return ExitCode::SUCCESS;
    }
    match nomad::chosen_on(&paths.state_dir, places, today) {
        Some(p) => println!("Lieu du {today} : {}.", p.name),
        None => println!("Lieu du {today} : aucun (les sessions sont comptées sans lieu)."),
    }
    println!("Lieux de la borne :");
    for p in places {
        println!("- {} (code {})", p.name, p.code);
    }
    ExitCode::SUCCESS
}

fn setup(paths: &Paths, file: &std::path::Path, dirs: borne_core::setup::SystemDirs<'_>, check: bool) -> ExitCode {
    use borne_core::setup;
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{} ne peut pas être lu : {e}", file.display());
            return ExitCode::from(1);
        }
    };
    let s = match setup::parse(&text) {
        Ok(s) => s,
        Err(problems) => {
            println!("Le fichier d'installation a des erreurs, rien n'a été appliqué :");
            for p in &problems {
                println!("- {p}");
            }
            tracing::error!(count = problems.len(), "setup file refused");
            return ExitCode::from(1);
        }
    };
    if check {
        println!("Le fichier d'installation est correct.");
        return ExitCode::SUCCESS;
    }
    match setup::apply(paths, &s, dirs) {
        Ok(done) => {
            println!("Installation appliquée :");
            for d in &done {
                println!("- {d}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("L'installation n'a pas pu être appliquée : {e}");
            tracing::error!("setup failed");
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

fn kit(paths: &Paths, out: &std::path::Path, lang: Option<&str>) -> ExitCode {
    let l = loaded_or_warn(paths);
    let second = match borne_core::kit::second_language(&l.settings, lang) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}", e.french());
            return ExitCode::from(2);
        }
    };
    let kit = borne_core::kit::Kit::of_loaded(&l, second.as_deref());
    let logo = borne_kit::logo_in(&paths.state_dir);
    for piece in borne_kit::Piece::ALL {
        match borne_kit::write(&kit, piece, logo.as_deref(), out) {
            Ok(file) => println!("{} : {}", piece.french(), file.display()),
            Err(e) => {
                eprintln!("{} n'a pas pu être écrit : {e}", piece.french());
                tracing::error!(error = %e, "kit");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
