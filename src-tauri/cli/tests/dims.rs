//! `bornectl` on the sessions' dimensions, as a référent runs it on a real state directory: the
//! statistics by accompaniment and place (`stats`, `stats --csv`, `stats --split`), the team's staff
//! code (`set-staff-code`), today's place of a nomad borne (`place`).

use std::path::Path;
use std::process::Command;

use borne_core::stats::{Category, DurationBand, Hour, Mode, Op, Store, FILE_NAME};

mod common;

/// A config directory whose borne.toml lists two places.
fn config() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("test set-up");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let settings = std::fs::read_to_string(shipped.join("borne.toml")).expect("test set-up");
    let settings = settings.replacen("places = []", "places = [\"Médiathèque\", \"Marché couvert\"]", 1);
    std::fs::write(d.path().join("borne.toml"), settings).expect("test set-up");
    std::fs::copy(shipped.join("catalogue.toml"), d.path().join("catalogue.toml")).expect("test set-up");
    d
}

/// Runs bornectl on these directories, with `input` on standard input; (exit code, stdout, stderr).
fn bornectl(config: &Path, state: &Path, args: &[&str], input: &str) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bornectl"));
    cmd.args(args).arg("--config").arg(config).arg("--state").arg(state);
    common::run(cmd, input)
}

/// Three sessions of this hour: accompanied at the médiathèque (printed at the end), alone at the
/// médiathèque, alone with no place; and one counted before the dimensions existed.
fn sessions(state: &Path) {
    let mut s = Store::open(&state.join(FILE_NAME)).expect("test set-up");
    let h = Hour::now();
    let tile = |action: &str| Op::Count {
        hour: h,
        cat: Category::Tile,
        action: action.into(),
        n: 1,
        band: DurationBand::Under5,
    };
    let end = Op::End { hour: h, reason: borne_core::session::EndReason::Button, band: DurationBand::Under5 };
    s.apply(&[
        Op::Open { hour: h, mode: Mode::Autonomous, place: Some("mediatheque".into()) },
        tile("caf"),
        Op::Accompany {
            hour: h,
            units: vec![(Category::Session, "start".into(), 1), (Category::Tile, "caf".into(), 1)],
        },
        Op::Count { hour: h, cat: Category::PrintAtEnd, action: "yes".into(), n: 1, band: DurationBand::Under5 },
        end.clone(),
        Op::Open { hour: h, mode: Mode::Autonomous, place: Some("mediatheque".into()) },
        tile("ameli"),
        end.clone(),
        Op::Open { hour: h, mode: Mode::Autonomous, place: None },
        end.clone(),
        Op::Start(h),
        end,
    ])
    .expect("test set-up");
}

#[test]
fn stats_says_sessions_by_accompaniment_place_and_print_at_the_end() {
    let (c, s) = (config(), tempfile::tempdir().unwrap());
    sessions(s.path());
    let (code, out, err) = bornectl(c.path(), s.path(), &["stats"], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Sessions : 4"), "{out}");
    assert!(out.contains("Sessions accompagnées : 1, autonomes : 2"), "{out}");
    assert!(out.contains("Sessions avec impression des documents en fin de session : 1"), "{out}");
    assert!(out.contains("Sessions par lieu : Médiathèque 2"), "{out}");

    let (code, out, _) = bornectl(c.path(), s.path(), &["stats", "--csv"], "");
    assert_eq!(code, 0);
    let lines: Vec<Vec<&str>> = out.split("\r\n").filter(|l| !l.is_empty()).map(|l| l.split(';').collect()).collect();
    let col = |h: &str| lines[0].iter().position(|x| *x == h).unwrap_or_else(|| panic!("{h}: {:?}", lines[0]));
    let today = lines.last().unwrap();
    assert_eq!(
        [today[col("sessions")], today[col("sessions_accompagnees")], today[col("sessions_autonomes")]],
        ["4", "1", "2"]
    );
    assert_eq!(today[col("sessions_impression_en_fin")], "1");
    assert_eq!(today[col("lieu_mediatheque")], "2");
    assert!(out.is_ascii());

    let (code, out, _) = bornectl(c.path(), s.path(), &["stats", "--split", "--csv"], "");
    assert_eq!(code, 0);
    let lines: Vec<Vec<&str>> = out.split("\r\n").filter(|l| !l.is_empty()).map(|l| l.split(';').collect()).collect();
    assert_eq!(&lines[0][..4], ["date", "lieu", "accompagnement", "sessions"]);
    let day = lines.last().unwrap()[0].to_string();
    let sessions_of = |place: &str, mode: &str| {
        lines.iter().find(|l| l[0] == day && l[1] == place && l[2] == mode).map(|l| l[3]).unwrap_or("absent")
    };
    assert_eq!(sessions_of("mediatheque", "accompagnee"), "1");
    assert_eq!(sessions_of("mediatheque", "autonome"), "1");
    assert_eq!(sessions_of("", "autonome"), "1");
    assert_eq!(sessions_of("", "non_renseigne"), "1");
    let tiles = lines[0].iter().position(|h| *h == "tuiles_ouvertes").unwrap();
    let acc = lines.iter().find(|l| l[0] == day && l[1] == "mediatheque" && l[2] == "accompagnee").unwrap();
    assert_eq!(acc[tiles], "1", "the tile opened before the mark went with its session");
    // Thirty days, four groups: a line each, zeros included.
    assert_eq!(lines.len(), 1 + 30 * 4);

    let (code, out, _) = bornectl(c.path(), s.path(), &["stats", "--split"], "");
    assert_eq!(code, 0);
    assert!(out.lines().any(|l| l.starts_with("Médiathèque") && l.contains("accompagnées")), "{out}");
}

#[test]
fn set_staff_code_refuses_the_pin_and_a_bad_code_and_keeps_a_good_one() {
    use borne_core::admin::pin::{Check, Clocks, Pin};
    use borne_core::admin::staff::StaffCode;
    let (c, s) = (config(), tempfile::tempdir().unwrap());
    Pin::new(s.path(), None).set("246810", "246810").unwrap();
    let (code, _, err) = bornectl(c.path(), s.path(), &["set-staff-code"], "246810\n246810\n");
    assert_eq!(code, 1);
    assert!(err.contains("Ce code est celui de l'espace référent"), "{err}");
    let (code, _, err) = bornectl(c.path(), s.path(), &["set-staff-code"], "12\n12\n");
    assert_eq!(code, 1);
    assert!(err.contains("au moins 4 chiffres"), "{err}");
    assert!(!StaffCode::new(s.path()).is_set());
    let (code, out, err) = bornectl(c.path(), s.path(), &["set-staff-code"], "1357\n1357\n");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Code de l'équipe enregistré") && out.contains("30 minutes"), "{out}");
    assert_eq!(StaffCode::new(s.path()).check("1357", Clocks::now()), Check::Ok);
    assert_eq!(Pin::new(s.path(), None).check("246810", Clocks::now()), Check::Ok);
    let (code, _, _) = bornectl(c.path(), s.path(), &["set-staff-code", "--remove"], "");
    assert_eq!(code, 0);
    assert!(!StaffCode::new(s.path()).is_set());
}

#[test]
fn place_chooses_says_and_forgets_todays_place() {
    let (c, s) = (config(), tempfile::tempdir().unwrap());
    let (code, out, _) = bornectl(c.path(), s.path(), &["place"], "");
    assert_eq!(code, 0);
    assert!(out.contains(": aucun"), "{out}");
    assert!(out.contains("- Marché couvert (code marche-couvert)"), "{out}");
    let (code, out, _) = bornectl(c.path(), s.path(), &["place", "marché couvert"], "");
    assert_eq!(code, 0);
    assert!(out.contains(": Marché couvert (code marche-couvert)."), "{out}");
    let (_, out, _) = bornectl(c.path(), s.path(), &["place"], "");
    assert!(out.contains(": Marché couvert."), "{out}");
    let (code, _, err) = bornectl(c.path(), s.path(), &["place", "Piscine"], "");
    assert_eq!(code, 2);
    assert!(err.contains("n'est pas dans la liste"), "{err}");
    let (code, _, _) = bornectl(c.path(), s.path(), &["place", "--clear"], "");
    assert_eq!(code, 0);
    let (_, out, _) = bornectl(c.path(), s.path(), &["place"], "");
    assert!(out.contains(": aucun"), "{out}");
    // A borne that stays in its centre.
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let (code, _, err) = bornectl(&shipped, s.path(), &["place", "Médiathèque"], "");
    assert_eq!(code, 2);
    assert!(err.contains("n'a pas de lieux"), "{err}");
}
