//! The channel's refusals and applies, as tables: each row publishes something and says what the
//! borne must do with it, and that a refusal leaves the catalogue in force as it was.

use super::*;
use crate::load::{load, Running};

/// A throwaway federation key.
struct Federation {
    pk: minisign::PublicKey,
    sk: minisign::SecretKey,
}

impl Federation {
    fn new() -> Self {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        Federation { pk: kp.pk, sk: kp.sk }
    }
    fn key(&self) -> FederationKey {
        FederationKey::parse(&self.pk.to_base64()).unwrap()
    }
    fn sign_as(&self, data: &[u8], file: &str, version: u64) -> String {
        let comment = signature::trusted_comment(file, version);
        minisign::sign(Some(&self.pk), &self.sk, std::io::Cursor::new(data), Some(&comment), None)
            .unwrap()
            .into_string()
    }
    /// Both files, versioned and signed.
    fn publish(&self, version: u64, catalogue: &str, demarches: &str) -> Published {
        let c = format!("version = {version}\n{catalogue}");
        let d = format!("version = {version}\n{demarches}");
        Published {
            catalogue_sig: Some(self.sign_as(c.as_bytes(), CATALOGUE, version)),
            demarches_sig: Some(self.sign_as(d.as_bytes(), DEMARCHES, version)),
            catalogue: c.into_bytes(),
            demarches: d.into_bytes(),
        }
    }
}

const THEME: &str = "[[themes]]\nid = \"famille\"\nname = \"Famille\"\npictogram = \"famille\"\n";

fn tile(id: &str, host: &str) -> String {
    format!(
        "[[services]]\nid = \"{id}\"\nname = \"{id}\"\ndescription = \"Service {id}\"\ntheme = \"famille\"\n\
         pictogram = \"caf\"\nurl = \"https://{host}/\"\nhosts = [\"{host}\"]\n"
    )
}

fn sheet(id: &str, service: &str) -> String {
    format!(
        "[[demarches]]\nid = \"{id}\"\nservice = \"{service}\"\ntitle = \"Fiche {id}\"\n\
         documents = [\"Un papier\"]\nsteps = [\"Ouvrez le site.\", \"Imprimez.\"]\n"
    )
}

/// The shipped catalogue of these tests: caf and ameli, version 1.
fn v1() -> (String, String) {
    (format!("{THEME}{}{}", tile("caf", "www.caf.fr"), tile("ameli", "www.ameli.fr")), sheet("attestation", "caf"))
}

/// The next one: ameli removed, france-travail added.
fn v2() -> (String, String) {
    (
        format!("{THEME}{}{}", tile("caf", "www.caf.fr"), tile("france-travail", "www.francetravail.fr")),
        sheet("attestation", "caf"),
    )
}

fn borne() -> (tempfile::TempDir, Paths) {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths { config_dir: dir.path().join("config"), state_dir: dir.path().join("state") };
    std::fs::create_dir_all(&paths.config_dir).unwrap();
    std::fs::create_dir_all(&paths.state_dir).unwrap();
    std::fs::write(paths.settings(), crate::load::BUILTIN_SETTINGS).unwrap();
    let (c, d) = v1();
    std::fs::write(paths.catalogue(), format!("version = 1\n{c}")).unwrap();
    std::fs::write(paths.demarches(), format!("version = 1\n{d}")).unwrap();
    (dir, paths)
}

fn tiles(paths: &Paths) -> Vec<String> {
    load(paths).effective.services.iter().map(|s| s.id.clone()).collect()
}

#[test]
fn refusals_leave_the_borne_unchanged_and_say_why() {
    let fed = Federation::new();
    let stranger = Federation::new();
    let (c2, d2) = v2();
    let good = fed.publish(2, &c2, &d2);
    type Case<'a> = (&'static str, Box<dyn Fn() -> Published + 'a>, &'static str, &'static str);
    let cases: Vec<Case> = vec![
        (
            "tampered",
            Box::new(|| {
                let mut p = good.clone();
                p.catalogue = String::from_utf8(p.catalogue)
                    .unwrap()
                    .replace("www.caf.fr", "www.caf.fr.evil.example")
                    .into_bytes();
                p
            }),
            "tampered",
            "modifié après sa signature",
        ),
        (
            "unsigned catalogue",
            Box::new(|| Published { catalogue_sig: None, ..good.clone() }),
            "unsigned",
            "n'est pas signé",
        ),
        (
            "unsigned sheets",
            Box::new(|| Published { demarches_sig: None, ..good.clone() }),
            "unsigned",
            "demarches.toml",
        ),
        ("another key", Box::new(|| stranger.publish(2, &c2, &d2)), "other-key", "clé qui n'est pas celle"),
        (
            "garbage signature",
            Box::new(|| Published { catalogue_sig: Some("untrusted comment: x\nnope\n".into()), ..good.clone() }),
            "bad-signature",
            "illisible",
        ),
        ("older than in force", Box::new(|| fed.publish(1, &c2, &d2)), "replay", "version 1"),
        ("broken TOML", Box::new(|| fed.publish(3, "[[services]\nid = ", &d2)), "invalid", "ligne"),
        (
            "a tile without its host",
            Box::new(|| fed.publish(3, &c2.replace("hosts = [\"www.caf.fr\"]", "hosts = []"), &d2)),
            "invalid",
            "sites autorisés",
        ),
        ("a sheet for no tile", Box::new(|| fed.publish(3, &c2, &sheet("x", "ameli"))), "invalid", "ameli"),
        (
            "versions differ",
            Box::new(|| {
                let mut p = fed.publish(3, &c2, &d2);
                let d = format!("version = 4\n{d2}");
                p.demarches_sig = Some(fed.sign_as(d.as_bytes(), DEMARCHES, 4));
                p.demarches = d.into_bytes();
                p
            }),
            "mismatch",
            "pas de la même version",
        ),
        (
            "the catalogue signed as the sheets",
            Box::new(|| {
                let mut p = good.clone();
                p.catalogue_sig = Some(fed.sign_as(&p.catalogue, DEMARCHES, 2));
                p
            }),
            "comment",
            "ne correspond pas",
        ),
        (
            "a signed version other than the file's",
            Box::new(|| {
                let mut p = good.clone();
                p.catalogue_sig = Some(fed.sign_as(&p.catalogue, CATALOGUE, 9));
                p
            }),
            "comment",
            "numéro de version",
        ),
        (
            "no version",
            Box::new(|| {
                let mut p = good.clone();
                p.catalogue = c2.clone().into_bytes();
                p.catalogue_sig = Some(fed.sign_as(&p.catalogue, CATALOGUE, 2));
                p
            }),
            "no-version",
            "numéro de version",
        ),
    ];
    for (name, publish, code, french) in cases {
        let (_d, paths) = borne();
        let before = tiles(&paths);
        let url = url::Url::parse("https://federation.example/borne/").unwrap();
        let outcome = consider(&paths, &url, &[fed.key()], Ok(publish()));
        let Outcome::Refused(r) = &outcome else { panic!("{name}: {outcome:?}") };
        assert_eq!(r.code(), code, "{name}: {r}");
        assert!(r.french().contains(french), "{name}: {}", r.french());
        assert!(r.french().contains("garde le catalogue en place"), "{name}");
        assert!(crate::messages::catalogue_problem_fr(r).starts_with(char::is_uppercase), "{name}");
        assert_eq!(tiles(&paths), before, "{name}: the borne is unchanged");
        assert_eq!(in_force(&paths).source, "shipped", "{name}");
        let s = status(&paths);
        assert_eq!(s.last_refusal.as_ref().map(|r| r.code.as_str()), Some(code), "{name}");
        assert_eq!(s.last_result.as_deref(), Some(code), "{name}");
    }
}

#[test]
fn a_good_version_is_stored_then_the_same_is_up_to_date_and_an_old_one_a_replay() {
    let fed = Federation::new();
    let (_d, paths) = borne();
    let url = url::Url::parse("https://federation.example/borne/").unwrap();
    let (c2, d2) = v2();
    let p2 = fed.publish(2, &c2, &d2);
    let o = consider(&paths, &url, &[fed.key()], Ok(p2.clone()));
    assert!(matches!(o, Outcome::Applied { version: 2, .. }), "{o:?}");
    let l = load(&paths);
    assert_eq!(l.running, Running::Current);
    assert!(l.effective.services.iter().any(|s| s.id == "france-travail"));
    assert!(l
        .effective
        .policy
        .decide_str("https://www.francetravail.fr/", crate::policy::LoadKind::Navigation)
        .is_allowed());
    assert!(!l.effective.policy.decide_str("https://www.ameli.fr/", crate::policy::LoadKind::Navigation).is_allowed());
    assert_eq!(in_force(&paths).version, 2);
    // Every later check finds the same files: up to date, not a refusal.
    assert_eq!(consider(&paths, &url, &[fed.key()], Ok(p2.clone())), Outcome::UpToDate(2));
    // The same number with other content, or an older signed version served again: replays.
    let other = fed.publish(2, &c2.replace("Service caf", "Service CAF"), &d2);
    let (c1, d1) = v1();
    for (name, p) in [("same number", other), ("older", fed.publish(1, &c1, &d1))] {
        let o = consider(&paths, &url, &[fed.key()], Ok(p));
        assert!(matches!(&o, Outcome::Refused(Refusal::Replay { in_force: 2, .. })), "{name}: {o:?}");
    }
    assert_eq!(in_force(&paths).version, 2);
    // A third version: the second's folder is kept as the previous one, `current` points at v3.
    let (c3, d3) = (c2.replace("Service caf", "La CAF"), d2.clone());
    assert!(matches!(
        consider(&paths, &url, &[fed.key()], Ok(fed.publish(3, &c3, &d3))),
        Outcome::Applied { version: 3, .. }
    ));
    let root = paths.state_dir.join(DIR);
    assert!(root.join("v2").is_dir() && root.join("v3").is_dir());
    assert_eq!(std::fs::read_to_string(root.join("current")).unwrap().trim(), "v3");
    assert!(matches!(
        consider(&paths, &url, &[fed.key()], Ok(fed.publish(4, &c3, &d3))),
        Outcome::Applied { version: 4, .. }
    ));
    assert!(!root.join("v2").exists(), "older than the previous one: removed");
    let leftovers: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "no temporary folder left");
}

#[test]
fn a_rotation_accepts_both_keys_then_only_the_new_one() {
    let old = Federation::new();
    let new = Federation::new();
    let (_d, paths) = borne();
    let url = url::Url::parse("https://federation.example/borne/").unwrap();
    let (c2, d2) = v2();
    // During the rotation the borne knows both keys: either signs.
    let both = [old.key(), new.key()];
    assert!(matches!(consider(&paths, &url, &both, Ok(old.publish(2, &c2, &d2))), Outcome::Applied { version: 2, .. }));
    assert!(matches!(consider(&paths, &url, &both, Ok(new.publish(3, &c2, &d2))), Outcome::Applied { version: 3, .. }));
    // Once the old key is dropped from the settings, what it signs is refused.
    let o = consider(&paths, &url, &[new.key()], Ok(old.publish(4, &c2, &d2)));
    assert!(matches!(&o, Outcome::Refused(r) if r.code() == "other-key"), "{o:?}");
    assert_eq!(in_force(&paths).version, 3);
}

#[test]
fn the_referents_choices_on_a_removed_tile_are_set_aside_with_a_note() {
    let fed = Federation::new();
    let (_d, paths) = borne();
    let url = url::Url::parse("https://federation.example/borne/").unwrap();
    // The référent hid ameli, put it first, wrote a sheet for it, and has a tile of the centre.
    let own = "[[services]]\nid = \"mairie\"\nname = \"Mairie\"\ndescription = \"La mairie\"\ntheme = \"famille\"\n\
               pictogram = \"maison\"\nurl = \"https://www.mairie.example/\"\nhosts = [\"www.mairie.example\"]\n";
    std::fs::write(paths.local(), format!("hidden = [\"ameli\"]\norder = [\"ameli\", \"mairie\", \"caf\"]\n{own}"))
        .unwrap();
    std::fs::write(paths.local_demarches(), format!("{}{}", sheet("carte-vitale", "ameli"), sheet("rdv", "mairie")))
        .unwrap();
    assert_eq!(tiles(&paths), ["mairie", "caf"]);
    let (c2, d2) = v2();
    let o = consider(&paths, &url, &[fed.key()], Ok(fed.publish(2, &c2, &d2)));
    let Outcome::Applied { set_aside, .. } = &o else { panic!("{o:?}") };
    assert_eq!(set_aside.len(), 3, "{set_aside:?}");
    assert!(set_aside.iter().all(|n| n.contains("« ameli » n'est plus dans le catalogue national")), "{set_aside:?}");
    let l = load(&paths);
    assert_eq!(l.running, Running::Current, "{:?}", l.problems);
    assert!(l.problems.is_empty());
    assert_eq!(l.local.set_aside.len(), 3);
    // The rest of the référent's layer stays on top: own tile first, in their order, their sheet kept.
    assert_eq!(
        l.effective.services.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["mairie", "caf", "france-travail"]
    );
    assert!(l.demarches.iter().any(|d| d.id == "rdv"));
    assert!(!l.demarches.iter().any(|d| d.id == "carte-vitale"));
    assert_eq!(status(&paths).set_aside, *set_aside);
    // A typo is still an error: only tiles an update removed are set aside.
    std::fs::write(paths.local(), "hidden = [\"cafe\"]\n").unwrap();
    assert_eq!(load(&paths).running, Running::LastGood);
    // And the retired ids survive the next versions.
    std::fs::write(paths.local(), format!("hidden = [\"ameli\"]\n{own}")).unwrap();
    assert!(matches!(
        consider(&paths, &url, &[fed.key()], Ok(fed.publish(3, &c2, &d2))),
        Outcome::Applied { version: 3, .. }
    ));
    assert_eq!(load(&paths).running, Running::Current);
}

#[test]
fn an_own_tile_in_a_removed_theme_is_set_aside_with_its_sheet_and_place() {
    let fed = Federation::new();
    let (_d, paths) = borne();
    let url = url::Url::parse("https://federation.example/borne/").unwrap();
    let own = "[[services]]\nid = \"mairie\"\nname = \"Mairie\"\ndescription = \"La mairie\"\ntheme = \"famille\"\n\
               pictogram = \"maison\"\nurl = \"https://www.mairie.example/\"\nhosts = [\"www.mairie.example\"]\n";
    std::fs::write(paths.local(), format!("order = [\"mairie\", \"caf\"]\n{own}")).unwrap();
    std::fs::write(paths.local_demarches(), sheet("rdv", "mairie")).unwrap();
    // Version 2 renames the theme "famille" to "social".
    let (c2, d2) = v2();
    let c2 = c2.replace("id = \"famille\"", "id = \"social\"").replace("theme = \"famille\"", "theme = \"social\"");
    let o = consider(&paths, &url, &[fed.key()], Ok(fed.publish(2, &c2, &d2)));
    let Outcome::Applied { set_aside, .. } = &o else { panic!("{o:?}") };
    assert_eq!(set_aside.len(), 3, "the tile, its place in the order and its sheet: {set_aside:?}");
    assert!(set_aside[0].contains("Votre tuile « mairie » était rangée dans un thème"), "{set_aside:?}");
    let l = load(&paths);
    assert_eq!(l.running, Running::Current, "{:?}", l.problems);
    assert_eq!(l.effective.services.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["caf", "france-travail"]);
    // A typo in a theme is still an error.
    std::fs::write(paths.local(), own.replace("theme = \"famille\"", "theme = \"famile\"")).unwrap();
    std::fs::remove_file(paths.local_demarches()).unwrap();
    assert_eq!(load(&paths).running, Running::LastGood);
}

#[test]
fn a_clash_with_the_referents_own_tile_is_refused() {
    let fed = Federation::new();
    let (_d, paths) = borne();
    let url = url::Url::parse("https://federation.example/borne/").unwrap();
    let own = tile("mairie", "www.mairie.example");
    std::fs::write(paths.local(), &own).unwrap();
    let (c2, d2) = v2();
    let o = consider(&paths, &url, &[fed.key()], Ok(fed.publish(2, &format!("{c2}{own}"), &d2)));
    assert!(matches!(&o, Outcome::Refused(r) if r.code() == "conflict"), "{o:?}");
    assert!(tiles(&paths).contains(&"mairie".to_string()));
    assert_eq!(in_force(&paths).source, "shipped");
}

#[test]
fn a_newer_shipped_catalogue_wins_over_an_older_channel_one() {
    let fed = Federation::new();
    let (_d, paths) = borne();
    let url = url::Url::parse("https://federation.example/borne/").unwrap();
    let (c2, d2) = v2();
    consider(&paths, &url, &[fed.key()], Ok(fed.publish(2, &c2, &d2)));
    assert_eq!(in_force(&paths).source, "channel");
    // The image is updated with version 5: the channel's version 2 no longer counts.
    let (c1, d1) = v1();
    std::fs::write(paths.catalogue(), format!("version = 5\n{c1}")).unwrap();
    std::fs::write(paths.demarches(), format!("version = 5\n{d1}")).unwrap();
    assert_eq!(in_force(&paths).source, "shipped");
    assert!(tiles(&paths).contains(&"ameli".to_string()));
}

#[test]
fn checks_space_out_and_failures_back_off() {
    let fail = Outcome::Failed(FetchError::Network { file: CATALOGUE.into(), cause: "dns".into() });
    assert!(next_check(&fail, 1, 0.5) < Duration::from_secs(60));
    assert!(next_check(&fail, 30, 0.99) <= Duration::from_secs(3600));
    let ok = Outcome::UpToDate(2);
    let (lo, hi) = (next_check(&ok, 0, 0.0), next_check(&ok, 0, 0.999));
    assert!(lo >= Duration::from_secs(3 * 3600 + 1800) && hi <= Duration::from_secs(4 * 3600 + 1800), "{lo:?} {hi:?}");
    assert_ne!(lo, hi);
}

#[test]
fn without_address_or_key_nothing_is_fetched() {
    let (_d, paths) = borne();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let none = CatalogueSettings::default();
    assert_eq!(rt.block_on(check(&paths, &none)), Outcome::NotConfigured);
    let no_key =
        CatalogueSettings { channel_url: Some(url::Url::parse("https://f.example/").unwrap()), public_keys: vec![] };
    assert_eq!(rt.block_on(check(&paths, &no_key)), Outcome::NotConfigured);
    assert_eq!(status(&paths), Status::default(), "nothing recorded");
}
