//! `bornectl stats`, `push`, `matomo-check`, `provision` and `report`: thin wrappers over
//! `borne_core::stats`, `push` and `federation`. Messages for people are French; causes go to the log in English.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use borne_core::load::{self, Paths};
use borne_core::matomo::{french_for_code, Client, Token};
use borne_core::push::{self, Destination, Options, PushError};
use borne_core::stats::table::{hours_of, DayTable, SplitTable};
use borne_core::stats::{Store, FILE_NAME};
use jiff::civil::Date;
use jiff::tz::TimeZone;

fn parse_date(s: &str) -> Result<Date, ExitCode> {
    s.parse::<Date>().map_err(|e| {
        eprintln!("Date incorrecte « {s} » : écrivez-la ainsi : 2026-11-23 (année-mois-jour).");
        tracing::error!(error = %e, "bad date");
        ExitCode::from(2)
    })
}

fn open_store(paths: &Paths) -> Result<Store, ExitCode> {
    Store::open(&paths.state_dir.join(FILE_NAME)).map_err(|e| {
        eprintln!("{}", e.french());
        tracing::error!(error = %e, "cannot open the statistics file");
        ExitCode::from(1)
    })
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
        eprintln!("Impossible de démarrer : {e}");
        ExitCode::from(1)
    })
}

/// `bornectl stats`: a line a day, or with `split` a line a day, place and accompaniment.
pub fn stats(paths: &Paths, from: Option<&str>, to: Option<&str>, csv: bool, split: bool) -> ExitCode {
    let tz = TimeZone::system();
    let today = jiff::Timestamp::now().to_zoned_datetime(tz.clone()).date();
    let to = match to.map(parse_date).transpose() {
        Ok(d) => d.unwrap_or(today),
        Err(c) => return c,
    };
    let from = match from.map(parse_date).transpose() {
        Ok(d) => d.unwrap_or_else(|| to.checked_sub(jiff::Span::new().days(29)).unwrap_or(to)),
        Err(c) => return c,
    };
    if from > to {
        eprintln!("La date de début ({from}) est après la date de fin ({to}).");
        return ExitCode::from(2);
    }
    let store = match open_store(paths) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let (h0, h1) = hours_of(from, to, &tz);
    // The places' names, for the text (a broken borne.toml: the last good one, or none).
    let places = load::load(paths).settings.nomad.places;
    if split {
        let rows = match store.split_rows_between(h0, h1) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{}", e.french());
                tracing::error!(error = %e, "cannot read the statistics");
                return ExitCode::from(1);
            }
        };
        let table = SplitTable::build(&rows, from, to, &tz).with_place_names(&places);
        print!("{}", if csv { table.csv() } else { table.text() });
        return ExitCode::SUCCESS;
    }
    let rows = match store.rows_between(h0, h1) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}", e.french());
            tracing::error!(error = %e, "cannot read the statistics");
            return ExitCode::from(1);
        }
    };
    let table = DayTable::build(&rows, from, to, &tz).with_place_names(&places);
    if csv {
        print!("{}", table.csv());
    } else {
        print!("{}", table.text());
        if let Ok(st) = store.push_status() {
            println!(
                "Envoi à Matomo : {} ; en attente : {} unités, {} lots",
                status_fr(&st.state, st.code.as_deref()),
                st.backlog,
                st.batches
            );
        }
    }
    ExitCode::SUCCESS
}

fn status_fr(state: &str, code: Option<&str>) -> String {
    match state {
        "never" => "jamais envoyé".into(),
        "ok" => "à jour".into(),
        _ => format!(
            "{} ({})",
            if state == "refused" { "arrêté" } else { "nouvel essai prévu" },
            french_for_code(code.unwrap_or(""))
        ),
    }
}

/// `bornectl push`.
pub fn push(paths: &Paths, dry_run: bool) -> ExitCode {
    let loaded = load::load(paths);
    let dest = Destination::resolve(&loaded.settings.stats, paths);
    let target = match dest.target() {
        Ok(t) => t,
        Err(code) => {
            eprintln!(
                "{}",
                if code == "no-token" {
                    format!("La clé d'accès à Matomo est introuvable ({}).", dest.token_file.display())
                } else {
                    french_for_code(code).to_string()
                }
            );
            tracing::error!(code, "push not possible");
            return ExitCode::from(1);
        }
    };
    let mut store = match open_store(paths) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if dry_run {
        return dry(&store, &target);
    }
    let _lock = match push::lock(&paths.state_dir) {
        Ok(l) => l,
        Err(PushError::Busy) => {
            eprintln!("Un envoi est déjà en cours (la borne envoie en ce moment). Réessayez dans une minute.");
            return ExitCode::from(1);
        }
        Err(e) => {
            eprintln!("Impossible de préparer l'envoi.");
            tracing::error!(error = %e, "push lock");
            return ExitCode::from(1);
        }
    };
    let opts = Options::from_env();
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    let client = match Client::new(&target.url, opts.timeout) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", french_for_code(e.code()));
            return ExitCode::from(1);
        }
    };
    let mut result = rt.block_on(push::push_once(&mut store, &client, &target, &opts));
    if let Err(PushError::Settling(wait)) = &result {
        eprintln!("Un envoi précédent n'a pas reçu de réponse : vérification dans {} s…", wait.as_secs() + 1);
        std::thread::sleep(*wait + Duration::from_secs(1));
        result = rt.block_on(push::push_once(&mut store, &client, &target, &opts));
    }
    match result {
        Ok(r) => {
            println!(
                "Statistiques envoyées : {} unités en {} lots ({} vérifications d'envois interrompus, {} requêtes).",
                r.delivered, r.batches, r.lookups, r.requests
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "push stopped");
            match &e {
                PushError::Refused(a) => {
                    eprintln!("Envoi arrêté : {}", french_for_code(a.code()));
                    ExitCode::from(3)
                }
                PushError::Store(s) => {
                    eprintln!("{}", s.french());
                    ExitCode::from(1)
                }
                other => {
                    eprintln!("Envoi interrompu : {}", french_for_code(other.code()));
                    ExitCode::from(1)
                }
            }
        }
    }
}

/// `bornectl matomo-check`: « Tester la connexion » from the command line, with this borne's settings or
/// with the address, site number and key given (the federation checks a borne's values before or after
/// `provision`). Exit 0 when Matomo accepts the statistics, 3 when someone must change a setting, 1 when
/// it may work later.
pub fn matomo_check(paths: &Paths, matomo: Option<&str>, site_id: Option<u32>, token_file: Option<&Path>) -> ExitCode {
    let loaded = load::load(paths);
    let dest = Destination::resolve(&loaded.settings.stats, paths);
    let url = match matomo.map(matomo_url).transpose() {
        Ok(u) => u.or(dest.url.clone()),
        Err(c) => return c,
    };
    let token = match token_file {
        Some(f) => match read_token_file(f) {
            Ok(t) => Some(t),
            Err(c) => return c,
        },
        None => push::read_token(&dest.token_file),
    };
    let site_id = site_id.unwrap_or(dest.site_id);
    let (Some(url), true) = (url, site_id > 0) else {
        eprintln!("{}", french_for_code("not-configured"));
        return ExitCode::from(1);
    };
    let Some(token) = token else {
        eprintln!("La clé d'accès à Matomo est introuvable ({}).", token_file.unwrap_or(&dest.token_file).display());
        return ExitCode::from(1);
    };
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    let target = push::Target { url, site_id, token };
    match rt.block_on(push::test_connection(&target)) {
        Ok(()) => {
            println!("{}", french_for_code("ok"));
            println!("Site Matomo n° {site_id} sur {}", target.url);
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "connection test failed");
            eprintln!("{}", french_for_code(e.code()));
            ExitCode::from(if e.is_permanent() { 3 } else { 1 })
        }
    }
}

fn dry(store: &Store, target: &push::Target) -> ExitCode {
    let mut copy = match store.snapshot() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", e.french());
            return ExitCode::from(1);
        }
    };
    if let Err(e) = copy.plan_batches(push::MAX_BATCH, push::new_marker) {
        eprintln!("{}", e.french());
        return ExitCode::from(1);
    }
    let batches = match copy.batches() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}", e.french());
            return ExitCode::from(1);
        }
    };
    let endpoint = target.url.join("matomo.php").map(|u| u.to_string()).unwrap_or_default();
    println!("# Simulation : rien n'est envoyé. {} lot(s). La clé d'accès est remplacée par « *** ».", batches.len());
    for b in &batches {
        if b.sent_at.is_some() {
            println!("# Lot {} : envoi interrompu, d'abord vérifié dans Matomo (marqueur {}).", b.id, b.marker);
        }
        println!("POST {endpoint}");
        println!("Content-Type: application/json");
        println!("User-Agent: {}", borne_core::matomo::USER_AGENT);
        println!();
        let masked =
            push::Target { token: Token::new("***").unwrap_or_else(|| target.token.clone()), ..target.clone() };
        println!("{}", push::bulk_body(&masked, b));
        println!();
    }
    ExitCode::SUCCESS
}

/// What a call to the federation's Reporting API needs: the token from `token_file`, a runtime and a
/// client (`timeout` per request). When one cannot be had its French message is printed already.
pub(crate) fn reporting(
    url: &url::Url,
    token_file: &Path,
    timeout: Duration,
) -> Result<(Token, tokio::runtime::Runtime, Client), ExitCode> {
    let token = read_token_file(token_file)?;
    let rt = runtime()?;
    let client = Client::new(url, timeout).map_err(|e| {
        eprintln!("{}", french_for_code(e.code()));
        ExitCode::from(1)
    })?;
    Ok((token, rt, client))
}

pub(crate) fn read_token_file(path: &Path) -> Result<Token, ExitCode> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("Impossible de lire la clé dans {} .", path.display());
        tracing::error!(error = %e, "token file");
        ExitCode::from(1)
    })?;
    Token::new(&text).ok_or_else(|| {
        eprintln!("Le fichier {} ne contient pas de clé valable.", path.display());
        ExitCode::from(1)
    })
}

pub(crate) fn matomo_url(s: &str) -> Result<url::Url, ExitCode> {
    push::valid_url(s).ok_or_else(|| {
        eprintln!("Adresse Matomo incorrecte « {s} » : elle doit commencer par https://");
        ExitCode::from(2)
    })
}

/// `bornectl provision`.
pub fn provision(paths: &Paths, matomo: &str, admin_token_file: &Path, centre: &str) -> ExitCode {
    let url = match matomo_url(matomo) {
        Ok(u) => u,
        Err(c) => return c,
    };
    let admin = match read_token_file(admin_token_file) {
        Ok(t) => t,
        Err(c) => return c,
    };
    let centre = centre.trim();
    if centre.is_empty() || centre.chars().count() > 90 {
        eprintln!("Donnez le nom du centre (1 à 90 caractères).");
        return ExitCode::from(2);
    }
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    let client = match Client::new(&url, Duration::from_secs(60)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", french_for_code(e.code()));
            return ExitCode::from(1);
        }
    };
    let loaded = load::load(paths);
    let time_zone = loaded.settings.stats.time_zone.clone();
    let p = match rt.block_on(borne_core::federation::provision(&client, &admin, centre, &time_zone)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("Création impossible : {}", french_for_code(e.code()));
            tracing::error!(error = %e, "provision failed");
            return ExitCode::from(if e.is_permanent() { 3 } else { 1 });
        }
    };
    let dest = Destination::resolve(&loaded.settings.stats, paths);
    if let Err(e) = push::store_provisioned(paths, &dest.token_file, &url, p.site_id, &p.token) {
        eprintln!("Le site Matomo n° {} a été créé mais la clé n'a pas pu être enregistrée sur la borne.", p.site_id);
        tracing::error!(error = %e, "cannot store the provisioned token");
        return ExitCode::from(1);
    }
    println!(
        "Site Matomo n° {} créé pour « {centre} » (fuseau horaire {time_zone}), utilisateur {} (écriture sur ce \
         site seulement). Clé enregistrée dans {} ; adresse et numéro dans {}.",
        p.site_id,
        p.login,
        dest.token_file.display(),
        paths.state_dir.join(push::PROVISIONED_FILE).display()
    );
    ExitCode::SUCCESS
}

/// `bornectl report`.
pub fn report(matomo: &str, token_file: &Path, from: &str, to: &str, csv: bool, html: bool) -> ExitCode {
    let url = match matomo_url(matomo) {
        Ok(u) => u,
        Err(c) => return c,
    };
    let (f, t) = match (parse_date(from), parse_date(to)) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(c), _) | (_, Err(c)) => return c,
    };
    if f > t {
        eprintln!("La date de début ({f}) est après la date de fin ({t}).");
        return ExitCode::from(2);
    }
    let (token, rt, client) = match reporting(&url, token_file, Duration::from_secs(120)) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let rows = match rt.block_on(borne_core::federation::report(&client, &token, &f.to_string(), &t.to_string())) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Lecture impossible : {}", french_for_code(e.code()));
            tracing::error!(error = %e, "report failed");
            return ExitCode::from(if e.is_permanent() { 3 } else { 1 });
        }
    };
    if csv {
        print!("{}", borne_core::federation::csv(&rows));
    } else if html {
        print!("{}", borne_core::federation::html(&rows, &f.to_string(), &t.to_string()));
    } else {
        print!("{}", report_text(&rows, f, t));
    }
    ExitCode::SUCCESS
}

/// `bornectl report`'s text: a line a borne, then what its sessions were (accompanied or autonomous,
/// printed at the end, by place) when it counts them.
pub(crate) fn report_text(rows: &[borne_core::federation::BorneFigures], f: Date, t: Date) -> String {
    use std::fmt::Write;
    let mut out = format!("Bornes du {f} au {t}\n");
    for r in rows {
        let top: Vec<String> = r.tiles.iter().take(3).map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(
            out,
            "- n° {} {} : {} sessions, {} pages, {} demandes d'aide ; tuiles : {}",
            r.site_id,
            r.name,
            r.sessions,
            r.pages,
            r.help,
            if top.is_empty() { "aucune".into() } else { top.join(", ") }
        );
        if r.accompanied + r.autonomous + r.printed_at_end > 0 || !r.places.is_empty() {
            let _ = write!(
                out,
                "  sessions accompagnées {}, autonomes {} ; impression en fin de session : {}",
                r.accompanied, r.autonomous, r.printed_at_end
            );
            if !r.places.is_empty() {
                let places: Vec<String> = r.places.iter().map(|(p, n)| format!("{p} {n}")).collect();
                let _ = write!(out, " ; par lieu : {}", places.join(", "));
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use borne_core::federation::BorneFigures;

    #[test]
    fn the_report_says_each_bornes_sessions_by_accompaniment_place_and_print_at_the_end() {
        let rows = vec![
            BorneFigures {
                site_id: 3,
                name: "Borne - Médiathèque mobile".into(),
                sessions: 10,
                pages: 12,
                help: 1,
                tiles: vec![("caf".into(), 4)],
                accompanied: 4,
                autonomous: 6,
                printed_at_end: 2,
                places: vec![("mediatheque".into(), 7), ("marche-couvert".into(), 3)],
                ..Default::default()
            },
            BorneFigures { site_id: 4, name: "Borne - Ancienne".into(), sessions: 2, ..Default::default() },
        ];
        let text = report_text(&rows, "2026-12-01".parse().unwrap(), "2026-12-31".parse().unwrap());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Bornes du 2026-12-01 au 2026-12-31");
        assert_eq!(
            lines[1],
            "- n° 3 Borne - Médiathèque mobile : 10 sessions, 12 pages, 1 demandes d'aide ; tuiles : caf 4"
        );
        assert_eq!(
            lines[2],
            "  sessions accompagnées 4, autonomes 6 ; impression en fin de session : 2 ; par lieu : mediatheque 7, marche-couvert 3"
        );
        // A borne that does not count them (an older version) gets no such line.
        assert_eq!(lines[3], "- n° 4 Borne - Ancienne : 2 sessions, 0 pages, 0 demandes d'aide ; tuiles : aucune");
        assert_eq!(lines.len(), 4);
    }
}
