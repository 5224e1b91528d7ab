//! `bornectl kit` (issue 17, item 4): the poster, flyer and booklet made from the borne's own
//! settings and portal, read back with poppler as a person's printer would get them: the page sizes
//! (`pdfinfo`), every tile of the effective portal and the hours on the poster (`pdftotext`), the
//! Arabic text given back, and the Arabic headline aligned right on the rendered page (`pdftoppm`).

use std::path::Path;
use std::process::Command;

use borne_tests::{bin, repo};

/// Runs `bornectl --config <cfg> --state <state> kit --out <out> [args]`; exit code and output.
fn kit(config: &Path, state: &Path, out: &Path, args: &[&str]) -> (i32, String) {
    let o = Command::new(bin("bornectl"))
        .arg("--config")
        .arg(config)
        .arg("--state")
        .arg(state)
        .arg("kit")
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .expect("bornectl runs (build it with `cargo build -p bornectl`)");
    let mut text = String::from_utf8_lossy(&o.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&o.stderr));
    (o.status.code().unwrap_or(-1), text)
}

fn tool(name: &str, args: &[&str], file: &Path) -> String {
    let o = Command::new(name).args(args).arg(file).arg("-").output().unwrap_or_else(|e| {
        panic!("{name} runs (poppler-utils, installed by .ci/deps.sh): {e}");
    });
    assert!(o.status.success(), "{name} {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `pdfinfo`'s page count and the size of every page, rounded to whole points.
fn pages(file: &Path) -> Vec<(u32, u32)> {
    let o = Command::new("pdfinfo").args(["-f", "1", "-l", "1000"]).arg(file).output().expect("pdfinfo runs");
    let info = String::from_utf8_lossy(&o.stdout);
    let count: usize =
        info.lines().find_map(|l| l.strip_prefix("Pages:")).map(|n| n.trim().parse().unwrap()).expect("page count");
    let sizes: Vec<(u32, u32)> = info
        .lines()
        .filter(|l| l.starts_with("Page ") && l.contains(" size:"))
        .map(|l| {
            let dims = l.split("size:").nth(1).unwrap().trim();
            let mut it = dims.split_whitespace();
            let w: f64 = it.next().unwrap().parse().unwrap();
            assert_eq!(it.next(), Some("x"));
            let h: f64 = it.next().unwrap().parse().unwrap();
            (w.round() as u32, h.round() as u32)
        })
        .collect();
    assert_eq!(sizes.len(), count, "{info}");
    sizes
}

/// Text without whitespace nor bidi marks. Poppler gives back each Arabic ligature (lam-alef, and in
/// Noto also lam-yeh…) with its letters in visual order; so every run of lam, alef forms and alef
/// maksura is compared as a set, in both the expected and the extracted text.
fn normalized(s: &str) -> String {
    let cut: String = s
        .chars()
        .filter(|c| {
            !c.is_whitespace() && !('\u{200e}'..='\u{200f}').contains(c) && !('\u{202a}'..='\u{202e}').contains(c)
        })
        .collect();
    let joinable = |c: char| matches!(c, 'ل' | 'ا' | 'أ' | 'إ' | 'آ' | 'ى');
    let mut out = String::new();
    let mut run: Vec<char> = Vec::new();
    for c in cut.chars().chain(std::iter::once('\0')) {
        if joinable(c) {
            run.push(c);
        } else {
            run.sort_unstable();
            out.extend(run.drain(..));
            if c != '\0' {
                out.push(c);
            }
        }
    }
    out
}

/// A config folder with the shipped files, and a state folder with the référent's `settings.toml`
/// (and `local.toml` when given), as the admin screen writes them.
fn borne(settings: &str, local: Option<&str>) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (config, state) = (dir.path().join("config"), dir.path().join("state"));
    std::fs::create_dir_all(&config).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    for f in ["borne.toml", "catalogue.toml", "demarches.toml"] {
        std::fs::copy(repo().join("config").join(f), config.join(f)).unwrap();
    }
    std::fs::write(state.join("settings.toml"), settings).unwrap();
    if let Some(l) = local {
        std::fs::write(state.join("local.toml"), l).unwrap();
    }
    (dir, config, state)
}

/// The tiles' names the portal shows (`bornectl portal`, the kiosk's loader), in French.
fn portal_tile_names(config: &Path, state: &Path) -> Vec<String> {
    let o = Command::new(bin("bornectl"))
        .arg("--config")
        .arg(config)
        .arg("--state")
        .arg(state)
        .arg("portal")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut names: Vec<String> = v["themes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["tiles"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap().to_string()))
        .collect();
    if let Some(c) = v["centre_tile"]["name"].as_str() {
        names.push(c.to_string());
    }
    names
}

const POSTER: &str = "affiche-A4.pdf";
const FLYER: &str = "depliant-A5.pdf";
const BOOKLET: &str = "fiches-avant-de-commencer.pdf";

#[test]
fn the_shipped_config_gives_an_a4_poster_an_a5_flyer_and_an_a4_booklet_with_every_tile() {
    let cfg = repo().join("config");
    let state = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (code, said) = kit(&cfg, state.path(), out.path(), &[]);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("l'affiche A4 : "), "{said}");
    assert_eq!(pages(&out.path().join(POSTER)), vec![(595, 842)]);
    assert_eq!(pages(&out.path().join(FLYER)), vec![(420, 595)]);
    let booklet = pages(&out.path().join(BOOKLET));
    assert!(booklet.len() >= 11, "a cover and the ten national sheets: {booklet:?}");
    assert!(booklet.iter().all(|p| *p == (595, 842)));

    let poster = tool("pdftotext", &[], &out.path().join(POSTER));
    let text = normalized(&poster);
    let names = portal_tile_names(&cfg, state.path());
    assert!(names.len() >= 25, "{names:?}");
    for n in &names {
        assert!(text.contains(&normalized(n)), "{n} is not on the poster:\n{poster}");
    }
    assert!(
        text.contains(&normalized("Horaires de l'accueil : Du lundi au vendredi, de 9 h à 12 h et de 14 h à 17 h")),
        "{poster}"
    );
    assert!(text.contains(&normalized("Demandez à l'accueil")), "{poster}");
    assert!(text.contains(&normalized("Centre social")), "{poster}");
    // French alone on the shipped settings (only French is offered): no Arabic script anywhere.
    assert!(!poster.chars().any(|c| ('\u{0600}'..='\u{06ff}').contains(&c)), "{poster}");

    let flyer = normalized(&tool("pdftotext", &[], &out.path().join(FLYER)));
    assert!(flyer.contains(&normalized("Demandez à l'accueil")) && flyer.contains(&normalized("France Travail")));
    let sheets = normalized(&tool("pdftotext", &[], &out.path().join(BOOKLET)));
    for t in ["Avant de commencer", "Obtenir une attestation de la CAF", "À préparer", "Les étapes"] {
        assert!(sheets.contains(&normalized(t)), "{t}");
    }
}

const AR_SETTINGS: &str = "[centre]\nname = \"Centre social Les Tilleuls\"\n\
    opening_hours = \"Le mardi et le jeudi, de 9 h 30 à 12 h\"\nhelp_place = \"Au bureau d'accueil\"\n\
    [languages]\noffered = [\"fr\", \"ar\", \"uk\"]\n";

const OWN_TILE: &str = "[[services]]\nid = \"mairie-lilas\"\nname = \"Mairie des Lilas\"\n\
    description = \"État civil et inscriptions\"\ntheme = \"quotidien\"\npictogram = \"guichet\"\n\
    url = \"https://www.ville-leslilas.fr/\"\nhosts = [\"www.ville-leslilas.fr\"]\n";

#[test]
fn a_referents_tile_their_hours_and_arabic_right_to_left_are_on_the_poster() {
    let (_d, config, state) = borne(AR_SETTINGS, Some(OWN_TILE));
    let out = tempfile::tempdir().unwrap();
    let (code, said) = kit(&config, &state, out.path(), &["--lang", "ar"]);
    assert_eq!(code, 0, "{said}");
    let file = out.path().join(POSTER);
    assert_eq!(pages(&file), vec![(595, 842)]);
    let poster = tool("pdftotext", &[], &file);
    let text = normalized(&poster);
    let names = portal_tile_names(&config, &state);
    assert!(names.iter().any(|n| n == "Mairie des Lilas"), "the référent's tile is in the portal: {names:?}");
    for n in &names {
        assert!(text.contains(&normalized(n)), "{n} is not on the poster:\n{poster}");
    }
    assert!(text.contains(&normalized("Centre social Les Tilleuls")));
    assert!(text.contains(&normalized("Horaires de l'accueil : Le mardi et le jeudi, de 9 h 30 à 12 h")), "{poster}");
    assert!(text.contains(&normalized("Où demander : Au bureau d'accueil")), "{poster}");
    // The Arabic texts come back as the logical text (kit.toml's and the catalogue's translations).
    // Poppler gives the runs on either side of an Arabic comma in visual order: each is checked.
    for ar in
        ["اسألوا في مكتب الاستقبال", "إجراءاتكم الإدارية عبر الإنترنت، هنا على الجهاز", "الأسرة والسكن", "أوقات الاستقبال"]
    {
        for part in ar.split('،') {
            assert!(text.contains(&normalized(part)), "{part} is not on the poster:\n{poster}");
        }
    }

    // Shaped: « الاستقبال » is drawn with the lam-alef ligature, a glyph of its own, whose two letters
    // poppler gives back in visual order (« االستقبال »); letters drawn one by one would come back in
    // logical order.
    assert!(poster.contains("االستقبال"), "no lam-alef ligature: the Arabic is not shaped:\n{poster}");

    // Right to left on the page: the Arabic headline's ink ends at the right margin and starts well
    // inside the page; the French headline's starts at the left margin.
    let bbox = tool("pdftotext", &["-bbox"], &file);
    let line_of = |pred: &dyn Fn(&str) -> bool| -> (f64, f64) {
        let words: Vec<(f64, f64)> = bbox
            .lines()
            .filter(|l| l.contains("<word "))
            .filter_map(|l| {
                let attr = |k: &str| -> f64 {
                    let s = l.split(&format!("{k}=\"")).nth(1).unwrap();
                    s[..s.find('"').unwrap()].parse().unwrap()
                };
                let word = &l[l.find('>').unwrap() + 1..l.rfind("</word>").unwrap()];
                pred(word).then(|| (attr("yMin"), attr("yMax")))
            })
            .collect();
        assert!(!words.is_empty(), "{bbox}");
        (words[0].0, words[0].1)
    };
    // Poppler's boxes hold single Arabic letters: the first one on the page is the headline's.
    let arabic_head = line_of(&|w| w.chars().any(|c| ('\u{0600}'..='\u{06ff}').contains(&c)));
    let french_head = line_of(&|w| w == "démarches");
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("poster");
    let st =
        Command::new("pdftoppm").args(["-gray", "-r", "72", "-singlefile"]).arg(&file).arg(&prefix).status().unwrap();
    assert!(st.success());
    let (w, h, px) = pgm(&dir.path().join("poster.pgm"));
    assert!((595..=596).contains(&w) && (842..=843).contains(&h), "{w}x{h}");
    let ink = |(top, bottom): (f64, f64)| -> (usize, usize) {
        let (mut left, mut right) = (w, 0);
        for y in (top.floor() as usize)..(bottom.ceil() as usize).min(h) {
            for x in 0..w {
                if px[y * w + x] < 128 {
                    left = left.min(x);
                    right = right.max(x);
                }
            }
        }
        (left, right)
    };
    let margin = borne_core::kit::POSTER.margin;
    let (ar_left, ar_right) = ink(arabic_head);
    let (fr_left, fr_right) = ink(french_head);
    assert!((w as f64 - margin - ar_right as f64).abs() <= 4.0, "Arabic ink ends at {ar_right}, page {w}");
    assert!(ar_left as f64 > margin + 40.0, "Arabic ink starts at {ar_left}: not aligned right");
    assert!((fr_left as f64 - margin).abs() <= 4.0, "French ink starts at {fr_left}");
    assert!((fr_right as f64) < w as f64 - margin - 40.0, "French ink ends at {fr_right}: not aligned left");

    // The booklet: each sheet in French then in Arabic.
    let sheets = normalized(&tool("pdftotext", &[], &out.path().join(BOOKLET)));
    assert!(sheets.contains(&normalized("قبل أن تبدأوا")));
    assert!(sheets.contains(&normalized("Obtenir une attestation de la CAF")));
}

#[test]
fn ukrainian_beside_french_comes_out_in_cyrillic() {
    let (_d, config, state) = borne(AR_SETTINGS, None);
    let out = tempfile::tempdir().unwrap();
    let (code, said) = kit(&config, &state, out.path(), &["--lang", "uk"]);
    assert_eq!(code, 0, "{said}");
    let poster = tool("pdftotext", &[], &out.path().join(POSTER));
    let text = normalized(&poster);
    // kit.toml's Ukrainian and the catalogue's Ukrainian theme names, given back as they are.
    for uk in ["Зверніться на рецепцію", "Ваші онлайн-справи — тут, на терміналі", "Години роботи рецепції"]
    {
        assert!(text.contains(&normalized(uk)), "{uk} is not on the poster:\n{poster}");
    }
    assert!(!poster.chars().any(|c| ('\u{0600}'..='\u{06ff}').contains(&c)), "no Arabic when Ukrainian is chosen");
    let flyer = normalized(&tool("pdftotext", &[], &out.path().join(FLYER)));
    assert!(flyer.contains(&normalized("Зверніться на рецепцію")));
    let sheets = normalized(&tool("pdftotext", &[], &out.path().join(BOOKLET)));
    assert!(sheets.contains(&normalized("Перш ніж почати")));
}

#[test]
fn a_language_the_borne_does_not_offer_is_refused_in_french() {
    let (_d, config, state) = borne(AR_SETTINGS, None);
    let out = tempfile::tempdir().unwrap();
    let (code, said) = kit(&config, &state, out.path(), &["--lang", "pt"]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("La borne ne propose pas le portugais"), "{said}");
    assert!(!out.path().join(POSTER).exists());
    // French alone is always possible.
    let (code, said) = kit(&config, &state, out.path(), &["--lang", "fr"]);
    assert_eq!(code, 0, "{said}");
    let poster = tool("pdftotext", &[], &out.path().join(POSTER));
    assert!(!poster.chars().any(|c| ('\u{0600}'..='\u{06ff}').contains(&c)));
}

/// A binary PGM (P5, 8 bits): width, height, pixels.
fn pgm(path: &Path) -> (usize, usize, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..i]).into_owned());
    }
    assert_eq!(fields[0], "P5");
    assert_eq!(fields[3], "255");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, bytes[i + 1..i + 1 + w * h].to_vec())
}
