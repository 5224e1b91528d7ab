//! `bornectl` as a référent or the federation runs it: on the shipped config, on a référent-style
//! mistake, and `decide` / `hosts` exit codes and output.

use std::process::Command;

use borne_tests::{bin, repo};

fn bornectl(args: &[&str]) -> (i32, String) {
    let state = tempfile::tempdir().unwrap();
    let out = Command::new(bin("bornectl"))
        .args(args)
        .arg("--state")
        .arg(state.path())
        .output()
        .expect("bornectl runs (build it with `cargo build -p bornectl`)");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn shipped_config_checks_clean() {
    let cfg = repo().join("config");
    let (code, out) = bornectl(&["check-config", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("Configuration correcte : "), "{out}");
}

#[test]
fn a_referent_mistake_gives_the_french_message_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let settings = std::fs::read_to_string(repo().join("config/borne.toml")).unwrap();
    let broken = settings.replacen("idle_timeout_secs", "idle_timout_secs", 1);
    let line = broken.lines().position(|l| l.contains("idle_timout_secs")).unwrap() + 1;
    std::fs::write(dir.path().join("borne.toml"), broken).unwrap();
    std::fs::copy(repo().join("config/catalogue.toml"), dir.path().join("catalogue.toml")).unwrap();
    let (code, out) = bornectl(&["check-config", "--config", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("borne.toml, ligne {line}, colonne 1 : le réglage « idle_timout_secs » n'existe pas. Vouliez-vous écrire « idle_timeout_secs » ?")),
        "{out}"
    );
}

#[test]
fn check_config_says_the_hours_and_each_mistake_in_them_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().to_str().unwrap();
    std::fs::copy(repo().join("config/catalogue.toml"), dir.path().join("catalogue.toml")).unwrap();
    let shipped = std::fs::read_to_string(repo().join("config/borne.toml")).unwrap();
    // The référent fills the shipped [hours] with the shipped sentence's hours.
    let mut settings = shipped.clone();
    for day in ["lundi", "mardi", "mercredi", "jeudi", "vendredi"] {
        settings = settings.replacen(&format!("\n{day} = \"\""), &format!("\n{day} = \"9 h - 12 h, 14 h - 17 h\""), 1);
    }
    std::fs::write(dir.path().join("borne.toml"), &settings).unwrap();
    let (code, out) = bornectl(&["check-config", "--config", c]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Horaires d'ouverture : Du lundi au vendredi, de 9 h à 12 h et de 14 h à 17 h."), "{out}");
    // As shipped, no day opens: nothing about hours.
    std::fs::write(dir.path().join("borne.toml"), &shipped).unwrap();
    let (code, out) = bornectl(&["check-config", "--config", c]);
    assert!(code == 0 && !out.contains("Horaires"), "{out}");

    let broken = settings
        .replacen("\nmardi = \"9 h - 12 h, 14 h - 17 h\"", "\nmardi = \"9:00-12:00, 11:00-17:00\"", 1)
        .replacen("closures = []", "closures = [\"2026-12-32\"]", 1);
    let line = |needle: &str| broken.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
    std::fs::write(dir.path().join("borne.toml"), &broken).unwrap();
    let (code, out) = bornectl(&["check-config", "--config", c]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("2 erreurs :"), "{out}");
    assert!(
        out.contains(&format!(
            "borne.toml, ligne {}, colonne 9 : le mardi, les plages 9:00-12:00 et 11:00-17:00 se chevauchent.",
            line("mardi =")
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "borne.toml, ligne {}, colonne 13 : « 2026-12-32 » n'est pas une date.",
            line("closures =")
        )),
        "{out}"
    );

    // Both the free text and [hours]: a remark, not an error.
    let both = settings.replacen("opening_hours = \"Du lundi", "opening_hours = \"Le lundi", 1);
    std::fs::write(dir.path().join("borne.toml"), both).unwrap();
    let (code, out) = bornectl(&["check-config", "--config", c]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("remarque : les horaires de la partie [hours] sont affichés"), "{out}");
}

#[test]
fn decide_prints_allow_or_block_first_and_sets_the_exit_code() {
    let cfg = repo().join("config");
    let c = cfg.to_str().unwrap();
    let (code, out) = bornectl(&["decide", "--config", c, "https://www.caf.fr/mon-compte"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("allow *.caf.fr"), "{out}");
    let (code, out) = bornectl(&["decide", "--config", c, "https://www.caf.fr@evil.example/"]);
    assert_eq!(code, 1);
    assert!(out.starts_with("block userinfo"), "{out}");
    let (code, out) = bornectl(&["decide", "--config", c, "https://evilcaf.fr/"]);
    assert_eq!(code, 1);
    assert!(out.starts_with("block host-not-allowed: evilcaf.fr"), "{out}");
    let (code, _) = bornectl(&["decide", "--config", c]);
    assert_eq!(code, 2, "a usage error");
}

#[test]
fn hosts_lists_rules_with_the_tiles_that_need_them() {
    let cfg = repo().join("config");
    let (code, out) = bornectl(&["hosts", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 0);
    let caf = out.lines().find(|l| l.starts_with("*.caf.fr\t")).expect("*.caf.fr listed");
    assert!(caf.contains("caf"), "{caf}");
    let fc = out.lines().find(|l| l.starts_with("app.franceconnect.gouv.fr\t")).expect("FranceConnect listed");
    assert!(fc.contains("group:franceconnect") && fc.contains("impots"), "{fc}");
}

#[test]
fn set_pin_reads_the_pin_twice_and_stores_only_its_hash() {
    use std::io::Write;
    let state = tempfile::tempdir().unwrap();
    let run = |input: &str| {
        let mut child = Command::new(bin("bornectl"))
            .args(["--config", repo().join("config").to_str().unwrap(), "--state", state.path().to_str().unwrap()])
            .arg("set-pin")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, err) = run("123456\n654321\n");
    assert_eq!(code, Some(1));
    assert!(err.contains("pas les mêmes"), "{err}");
    assert!(!state.path().join("admin/pin.phc").exists());
    let (code, out, _) = run("735919\n735919\n");
    assert_eq!(code, Some(0));
    assert!(out.contains("enregistré"), "{out}");
    let phc = std::fs::read_to_string(state.path().join("admin/pin.phc")).unwrap();
    assert!(phc.starts_with("$argon2id$") && !phc.contains("735919"));
    let p = borne_core::admin::pin::Pin::new(state.path(), None);
    assert_eq!(p.check("735919", borne_core::admin::pin::Clocks::now()), borne_core::admin::pin::Check::Ok);
}
