//! `bornectl catalogue keygen|sign|verify|check`: the federation's side of the signed catalogue
//! channel (a key pair, signing a publication folder, checking it) and a borne's check of its
//! channel. Signing uses the `minisign` crate (the format's reference Rust implementation); every
//! check is `borne_core::channel`'s, the same the borne runs. Messages for people are French.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use borne_core::channel::{self, signature, Published, CATALOGUE, DEMARCHES, SIGNATURE_SUFFIX};
use borne_core::load::{self, Paths};
use clap::Subcommand;

/// Secret key file name written by `keygen`.
const SECRET: &str = "federation.key";
/// Public key file name written by `keygen`.
const PUBLIC: &str = "federation.pub";

/// The federation's signed catalogue.
#[derive(Subcommand, Debug)]
pub enum Action {
    /// Make the federation's key pair: DIR/federation.key (secret, mode 0600, protected by a
    /// password read twice, unless --unencrypted) and DIR/federation.pub (give its second line to
    /// the bornes: [catalogue] public_keys). Never overwrites a file.
    Keygen {
        /// Where to write both files.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
        /// No password on the secret key (throwaway keys for tests only).
        #[arg(long)]
        unencrypted: bool,
    },
    /// Check DIR/catalogue.toml and DIR/demarches.toml as a borne would (the same version in both,
    /// every check of a load), then sign them: DIR/catalogue.toml.minisig and DIR/demarches.toml.minisig.
    Sign {
        /// The secret key (federation.key); its password is asked when it has one.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The publication folder.
        dir: PathBuf,
    },
    /// Verify a publication folder: signatures with the given public key files (by default the
    /// borne's [catalogue] public_keys), versions, every check of a load.
    Verify {
        /// A public key file (federation.pub); give it twice during a rotation.
        #[arg(long = "pubkey", value_name = "FILE")]
        pubkeys: Vec<PathBuf>,
        /// The publication folder.
        dir: PathBuf,
    },
    /// Fetch the borne's channel (or --url) and say what the borne would do with it, against the
    /// catalogue in force; with --apply, store a good newer version (the kiosk puts it in force
    /// between two people).
    Check {
        /// The channel's address instead of the borne's [catalogue] channel_url.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Store a good newer version.
        #[arg(long)]
        apply: bool,
    },
}

/// Runs one action.
pub fn run(paths: &Paths, action: Action) -> ExitCode {
    match action {
        Action::Keygen { dir, unencrypted } => keygen(&dir, unencrypted),
        Action::Sign { key, dir } => sign(&key, &dir),
        Action::Verify { pubkeys, dir } => verify(paths, &pubkeys, &dir),
        Action::Check { url, apply } => check(paths, url.as_deref(), apply),
    }
}

/// A password from the terminal (not echoed), or one line of standard input when it is not one.
fn read_secret(prompt: &str) -> Option<String> {
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt).ok()
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .ok()
            .filter(|n| *n > 0)
            .map(|_| line.trim_end_matches(['\r', '\n']).to_string())
    }
}

fn fail(french: &str, cause: impl std::fmt::Display) -> ExitCode {
    eprintln!("{french}");
    tracing::error!(cause = %cause, "catalogue command failed");
    ExitCode::from(1)
}

fn keygen(dir: &Path, unencrypted: bool) -> ExitCode {
    let (secret, public) = (dir.join(SECRET), dir.join(PUBLIC));
    for p in [&secret, &public] {
        if p.exists() {
            eprintln!("{} existe déjà : rien n'a été écrit (une clé ne se remplace pas par erreur).", p.display());
            return ExitCode::from(1);
        }
    }
    let pair = if unencrypted {
        minisign::KeyPair::generate_unencrypted_keypair()
    } else {
        let (Some(a), Some(b)) =
            (read_secret("Mot de passe de la clé : "), read_secret("Le même mot de passe encore : "))
        else {
            eprintln!("Aucun mot de passe lu.");
            return ExitCode::from(2);
        };
        if a != b || a.chars().count() < 12 {
            eprintln!("Les deux mots de passe diffèrent, ou ils ont moins de 12 caractères : rien n'a été écrit.");
            return ExitCode::from(1);
        }
        minisign::KeyPair::generate_encrypted_keypair(Some(a))
    };
    let pair = match pair {
        Ok(p) => p,
        Err(e) => return fail("La clé n'a pas pu être créée.", e),
    };
    let boxes = pair.sk.to_box(Some("borne federation secret key")).and_then(|s| Ok((s, pair.pk.to_box()?)));
    let (sk_box, pk_box) = match boxes {
        Ok(b) => b,
        Err(e) => return fail("La clé n'a pas pu être écrite.", e),
    };
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| borne_core::fsutil::write_atomic_mode(&secret, sk_box.to_string().as_bytes(), 0o600))
        .and_then(|()| borne_core::fsutil::write_atomic(&public, pk_box.to_string().as_bytes()));
    if let Err(e) = written {
        return fail("La clé n'a pas pu être écrite.", e);
    }
    let key = signature::FederationKey::parse(&pair.pk.to_base64()).map(|k| k.id().to_string()).unwrap_or_default();
    println!("Clé secrète : {} (à garder hors ligne, jamais dans un dépôt)", secret.display());
    println!("Clé publique : {} (identifiant {key})", public.display());
    println!("À mettre dans le borne.toml des bornes :\n[catalogue]\npublic_keys = [\"{}\"]", pair.pk.to_base64());
    ExitCode::SUCCESS
}

fn secret_key(path: &Path) -> Result<minisign::SecretKey, ExitCode> {
    let text =
        std::fs::read_to_string(path).map_err(|e| fail(&format!("{} ne peut pas être lu.", path.display()), e))?;
    match minisign::SecretKey::from_unencrypted_box(
        minisign::SecretKeyBox::from_string(&text)
            .map_err(|e| fail(&format!("{} n'est pas une clé secrète minisign.", path.display()), e))?,
    ) {
        Ok(sk) => Ok(sk),
        Err(e) if e.to_string().contains("encrypted") => {
            let Some(pw) = read_secret("Mot de passe de la clé : ") else {
                eprintln!("Aucun mot de passe lu.");
                return Err(ExitCode::from(2));
            };
            let sk_box = minisign::SecretKeyBox::from_string(&text).map_err(|e| fail("Clé illisible.", e))?;
            minisign::SecretKey::from_box(sk_box, Some(pw))
                .map_err(|e| fail("Mot de passe incorrect pour cette clé.", e))
        }
        Err(e) => Err(fail(&format!("{} n'est pas une clé secrète minisign.", path.display()), e)),
    }
}

fn read_texts(dir: &Path) -> Result<(String, String), ExitCode> {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .map_err(|e| fail(&format!("{} ne peut pas être lu.", dir.join(name).display()), e))
    };
    Ok((read(CATALOGUE)?, read(DEMARCHES)?))
}

fn refused(r: &channel::Refusal) -> ExitCode {
    println!("{}", r.french());
    tracing::error!(code = r.code(), cause = %r, "catalogue refused");
    ExitCode::from(1)
}

/// For the federation's own folder: what is wrong, without the borne's "keeps the catalogue".
fn wrong(r: &channel::Refusal) -> ExitCode {
    println!("{}", borne_core::messages::catalogue_problem_fr(r));
    tracing::error!(code = r.code(), cause = %r, "catalogue refused");
    ExitCode::from(1)
}

fn sign(key: &Path, dir: &Path) -> ExitCode {
    let (catalogue, demarches) = match read_texts(dir) {
        Ok(t) => t,
        Err(c) => return c,
    };
    let version = match channel::check_texts(&catalogue, &demarches) {
        Ok((v, _)) => v,
        Err(r) => {
            println!("Rien n'a été signé : les fichiers ne passeraient pas les vérifications de la borne.");
            return wrong(&r);
        }
    };
    let sk = match secret_key(key) {
        Ok(k) => k,
        Err(c) => return c,
    };
    let pk = minisign::PublicKey::from_secret_key(&sk).ok();
    for (name, text) in [(CATALOGUE, &catalogue), (DEMARCHES, &demarches)] {
        let comment = signature::trusted_comment(name, version);
        let sig = match minisign::sign(pk.as_ref(), &sk, std::io::Cursor::new(text.as_bytes()), Some(&comment), None) {
            Ok(s) => s,
            Err(e) => return fail("La signature a échoué.", e),
        };
        let path = dir.join(format!("{name}{SIGNATURE_SUFFIX}"));
        if let Err(e) = borne_core::fsutil::write_atomic(&path, sig.into_string().as_bytes()) {
            return fail(&format!("{} ne peut pas être écrit.", path.display()), e);
        }
    }
    println!(
        "Version {version} signée : {CATALOGUE}{SIGNATURE_SUFFIX} et {DEMARCHES}{SIGNATURE_SUFFIX} écrits dans {}.",
        dir.display()
    );
    ExitCode::SUCCESS
}

fn published_in(dir: &Path) -> Result<Published, ExitCode> {
    let (catalogue, demarches) = read_texts(dir)?;
    let sig = |name: &str| std::fs::read_to_string(dir.join(format!("{name}{SIGNATURE_SUFFIX}"))).ok();
    Ok(Published {
        catalogue_sig: sig(CATALOGUE),
        demarches_sig: sig(DEMARCHES),
        catalogue: catalogue.into_bytes(),
        demarches: demarches.into_bytes(),
    })
}

fn verify(paths: &Paths, pubkeys: &[PathBuf], dir: &Path) -> ExitCode {
    let keys = if pubkeys.is_empty() {
        channel::keys_of(&load::load(paths).settings.catalogue)
    } else {
        let mut keys = Vec::new();
        for p in pubkeys {
            match std::fs::read_to_string(p)
                .map_err(|e| e.to_string())
                .and_then(|t| signature::FederationKey::parse(&t).map_err(|e| e.to_string()))
            {
                Ok(k) => keys.push(k),
                Err(e) => return fail(&format!("{} n'est pas une clé publique minisign.", p.display()), e),
            }
        }
        keys
    };
    if keys.is_empty() {
        eprintln!("Aucune clé publique : donnez --pubkey federation.pub, ou remplissez [catalogue] public_keys.");
        return ExitCode::from(2);
    }
    let published = match published_in(dir) {
        Ok(p) => p,
        Err(c) => return c,
    };
    match channel::verify_published(&keys, &published) {
        Ok(v) => {
            println!(
                "Version {} correcte : signée par la clé {}, {} tuiles nationales.",
                v.version,
                v.key_id,
                v.ids.len()
            );
            ExitCode::SUCCESS
        }
        Err(r) => wrong(&r),
    }
}

fn check(paths: &Paths, url: Option<&str>, apply: bool) -> ExitCode {
    let mut settings = load::load(paths).settings.catalogue;
    if let Some(u) = url {
        match url::Url::parse(u) {
            Ok(u) => settings.channel_url = Some(u),
            Err(e) => {
                eprintln!("« {u} » n'est pas une adresse web.");
                tracing::error!(error = %e, "bad channel address");
                return ExitCode::from(2);
            }
        }
    }
    let (Some(url), false) = (settings.channel_url.clone(), settings.public_keys.is_empty()) else {
        eprintln!("Pas de canal de catalogue : remplissez [catalogue] channel_url et public_keys (ou donnez --url).");
        return ExitCode::from(2);
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail("Impossible de démarrer.", e),
    };
    let keys = channel::keys_of(&settings);
    let fetched = rt.block_on(channel::fetch::fetch(&url));
    let in_force = channel::in_force(paths);
    if apply {
        return match channel::consider(paths, &url, &keys, fetched) {
            channel::Outcome::Applied { version, set_aside } => {
                println!("Version {version} enregistrée : la borne l'applique entre deux personnes.");
                for n in set_aside {
                    println!("- {n}");
                }
                ExitCode::SUCCESS
            }
            channel::Outcome::UpToDate(v) => {
                println!("Le catalogue est à jour (version {v}).");
                ExitCode::SUCCESS
            }
            channel::Outcome::Refused(r) => refused(&r),
            channel::Outcome::Failed(e) => fail("Le canal du catalogue est injoignable pour le moment.", e),
            channel::Outcome::NotConfigured => ExitCode::from(2),
        };
    }
    match fetched.map(|p| channel::examine(paths, &keys, &p)) {
        Ok(Ok(channel::Examined::New(c))) => {
            println!("Version {} disponible (en place : {}) : elle serait appliquée.", c.version, in_force.version);
            for n in c.set_aside {
                println!("- {n}");
            }
            ExitCode::SUCCESS
        }
        Ok(Ok(channel::Examined::UpToDate(v))) => {
            println!("Le catalogue est à jour (version {v}).");
            ExitCode::SUCCESS
        }
        Ok(Err(r)) => refused(&r),
        Err(e) => fail("Le canal du catalogue est injoignable pour le moment.", e),
    }
}
