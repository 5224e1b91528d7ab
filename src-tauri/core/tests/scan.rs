//! « Numériser un document » against real SANE: `scanimage` with SANE's own `test` backend (real
//! libsane, no hardware), pointed through `SANE_CONFIG_DIR` at a folder of this test's own that
//! enables only that backend (`/etc/sane.d` is never read nor changed). The backend's options make a
//! read fail with a chosen SANE status: busy, cover open, I/O error (a scanner gone mid-scan)…
//!
//! These tests need `scanimage` (Debian's `sane-utils` and `libsane1`, which `.ci/test` installs):
//! without it they fail, saying so, rather than pass having checked nothing.

use std::path::{Path, PathBuf};

use borne_core::documents::{self, Kind};
use borne_core::scan::{
    BackendOption, Cancel, Colour, Document, DocumentError, Output, PageRequest, Rotation, ScanError, ScanSettings,
    Scanimage, Target,
};
use borne_core::session::SessionDirs;

/// The `test` backend's settings: two devices, A4 fits on its glass (its default is 200 mm at most).
const TEST_CONF: &str = "number_of_devices 2\nmode Gray\ndepth 8\nhand-scanner false\nthree-pass false\n\
three-pass-order RGB\nresolution_min 1.0\nresolution_max 1200.0\nresolution_quant 1.0\nresolution 50.0\n\
test-picture \"Solid black\"\ninvert-endianess false\nread-limit false\nread-limit-size 1\nread-delay false\n\
read-delay-duration 1000\nread-status-code \"Default\"\nfuzzy-parameters false\nppl-loss 0\nnon-blocking false\n\
select-fd false\nenable-test-options false\ngeometry_min 0.0\ngeometry_max 300.0\ngeometry_quant 1.0\n\
tl_x 0.0\ntl_y 0.0\nbr_x 80.0\nbr_y 100.0\n";

/// A session folder, a SANE configuration with the `test` backend only, and scanimage pointed at it.
struct Bench {
    _tmp: tempfile::TempDir,
    dirs: SessionDirs,
    scanner: Scanimage,
}

fn require_scanimage() {
    let ok = std::process::Command::new("scanimage").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "scanimage is missing: these tests drive real SANE. Install it with \
         `apt-get install sane-utils libsane1` (.ci/test does)."
    );
}

fn bench() -> Bench {
    require_scanimage();
    let tmp = tempfile::tempdir().expect("test set-up");
    let sane = tmp.path().join("sane.d");
    std::fs::create_dir_all(&sane).expect("test set-up");
    std::fs::write(sane.join("dll.conf"), "test\n").expect("test set-up");
    std::fs::write(sane.join("test.conf"), TEST_CONF).expect("test set-up");
    let dirs = SessionDirs::new(&tmp.path().join("state"));
    dirs.wipe_at_start().expect("test set-up");
    Bench { dirs, scanner: Scanimage::new().sane_config_dir(sane), _tmp: tmp }
}

fn request(picture: &str, settings: ScanSettings) -> PageRequest {
    PageRequest::new(Some("test:0"), settings)
        .with_option(BackendOption::new("test-picture", picture).expect("test set-up"))
}

/// A request whose read fails with this SANE status.
fn failing(status: &str) -> PageRequest {
    request("Grid", ScanSettings::default())
        .with_option(BackendOption::new("read-return-value", status).expect("test set-up"))
}

/// Scans a page whose read fails with `status`, and says how.
///
/// SANE's test backend itself sometimes hangs on that path: after a failed `sane_read`, its
/// `sane_cancel` and its reader thread wait on each other (both threads of scanimage asleep on a
/// futex; measured with sane-backends 1.1.1: 4 runs in 60, never on a successful scan). That is the
/// very case the time limit is for: the kiosk kills scanimage and says the scanner does not answer.
/// Here each try gets 10 s, and a try that timed out is made again (at most 5).
fn scan_failing(b: &Bench, status: &str) -> ScanError {
    let quick = b.scanner.clone().timeouts(std::time::Duration::from_secs(10), std::time::Duration::from_secs(10));
    for _ in 0..5 {
        match quick.scan_page(&failing(status), &b.dirs, &Cancel::new()) {
            Err(ScanError::Timeout(_)) => eprintln!("{status}: SANE's test backend hung (killed at 10 s); again"),
            Err(e) => return e,
            Ok(page) => panic!("{status}: scanned {page:?}"),
        }
    }
    panic!("{status}: scanimage hung five times in a row")
}

fn strings(lang: &str) -> serde_json::Map<String, serde_json::Value> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../ui/i18n/{lang}.json"));
    serde_json::from_str(&std::fs::read_to_string(p).expect("test set-up")).expect("test set-up")
}

/// The French text a person reads for an error code.
fn french(code: &str) -> String {
    strings("fr")[&format!("scan.error.{code}")].as_str().expect("test set-up").to_owned()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.expect("test set-up").path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Each page of a PDF: (MediaBox width, height in points, its image's /Width, /Height, /Filter,
/// /ColorSpace).
fn pdf_pages(path: &Path) -> Vec<(f32, f32, i64, i64, String, String)> {
    let doc = lopdf::Document::load(path).expect("test set-up");
    let mut out = Vec::new();
    for (_, id) in doc.get_pages() {
        let page = doc.get_dictionary(id).expect("test set-up");
        let mb = page.get(b"MediaBox").expect("test set-up").as_array().expect("test set-up");
        let num = |o: &lopdf::Object| o.as_float().unwrap_or_else(|_| o.as_i64().expect("test set-up") as f32);
        let res = page.get(b"Resources").expect("test set-up").as_dict().expect("test set-up");
        let xobjects = res.get(b"XObject").expect("test set-up").as_dict().expect("test set-up");
        assert_eq!(xobjects.len(), 1, "one image a page");
        let (_, r) = xobjects.iter().next().expect("test set-up");
        let img = doc
            .get_object(r.as_reference().expect("test set-up"))
            .expect("test set-up")
            .as_stream()
            .expect("test set-up");
        let d = &img.dict;
        assert_eq!(d.get(b"Subtype").expect("test set-up").as_name().expect("test set-up"), b"Image");
        let name = |k: &[u8]| {
            String::from_utf8_lossy(d.get(k).expect("test set-up").as_name().expect("test set-up")).into_owned()
        };
        // The image is a whole JPEG.
        assert!(img.content.starts_with(&[0xFF, 0xD8, 0xFF]) && img.content.ends_with(&[0xFF, 0xD9]));
        out.push((
            num(&mb[2]),
            num(&mb[3]),
            d.get(b"Width").expect("test set-up").as_i64().expect("test set-up"),
            d.get(b"Height").expect("test set-up").as_i64().expect("test set-up"),
            name(b"Filter"),
            name(b"ColorSpace"),
        ));
    }
    out
}

#[test]
fn the_test_backend_is_listed_and_an_empty_configuration_has_no_scanner() {
    let b = bench();
    let devices = b.scanner.list().unwrap();
    assert_eq!(devices.len(), 2, "{devices:?}");
    assert_eq!(devices[0].name, "test:0");
    assert_eq!((devices[0].vendor.as_str(), devices[0].model.as_str()), ("Noname", "frontend-tester"));
    assert_eq!(devices[0].kind, "virtual device");

    // No backend at all: no scanner, said in French with « demandez à l'accueil ».
    let empty = tempfile::tempdir().unwrap();
    let none = Scanimage::new().sane_config_dir(empty.path());
    assert_eq!(none.list(), Ok(Vec::new()));
    let e = none.scan_page(&PageRequest::new(None, ScanSettings::default()), &b.dirs, &Cancel::new()).unwrap_err();
    assert!(matches!(e, ScanError::NoScanner(_)), "{e:?}");
    assert!(french(e.code()).ends_with("Demandez à l'accueil."), "{}", french(e.code()));
    // A scanner asked for by name that is not there (unplugged since the list): no scanner either.
    // (SANE loads a backend named in a device name even when dll.conf does not list it, so the name
    // is one the test backend does not have.)
    let gone = PageRequest::new(Some("test:7"), ScanSettings::default());
    assert_eq!(b.scanner.scan_page(&gone, &b.dirs, &Cancel::new()).unwrap_err().code(), "no-scanner");
    assert!(files(&b.dirs.scans()).is_empty(), "no page file left behind");
}

#[test]
fn two_pages_make_one_two_page_pdf_listed_in_my_documents_and_gone_with_the_session() {
    let b = bench();
    let mut doc = Document::new();
    for _ in 0..2 {
        let page = b.scanner.scan_page(&request("Grid", ScanSettings::default()), &b.dirs, &Cancel::new()).unwrap();
        assert_eq!((page.width(), page.dpi(), page.colour()), (1240, 150, Colour::Grey), "A4 at 150 dpi, grey");
        assert!(page.file().starts_with(b.dirs.scans()));
        doc.add(page).unwrap();
    }
    let preview = doc.preview(0, borne_core::scan::PREVIEW_WIDTH).unwrap();
    assert_eq!(preview.width, 800);
    assert!(preview.jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));

    let done = doc.finish(&Target::from_input("", None), &b.dirs).unwrap();
    assert_eq!((done.name.as_str(), done.output, done.pages), ("document-1.pdf", Output::Pdf, 2));
    assert_eq!(done.path.parent(), Some(b.dirs.downloads().as_path()));
    let bytes = std::fs::metadata(&done.path).unwrap().len();
    assert_eq!(bytes, done.bytes);
    assert!(bytes <= 2 * 1_000_000, "at most 1 MB a page: {bytes}");
    eprintln!("two A4 pages, grey 150 dpi (test backend's grid): {bytes} bytes, {} a page", bytes / 2);

    // What the print quota's own parser counts, and each page as lopdf reads it.
    assert_eq!(borne_core::print::pdf_file_page_count(&done.path), Ok(2));
    let pages = pdf_pages(&done.path);
    assert_eq!(pages.len(), 2);
    for (w, h, iw, ih, filter, space) in pages {
        assert!((w - 595.3).abs() < 1.0 && (h - 841.7).abs() < 1.5, "A4 in points: {w} × {h}");
        assert_eq!((iw, ih), (1240, 1753));
        assert_eq!((filter.as_str(), space.as_str()), ("DCTDecode", "DeviceGray"));
    }
    assert!(doc.is_empty() && files(&b.dirs.scans()).is_empty(), "finished: the scans are gone");

    // « Mes documents » and the file chooser list it, as a PDF.
    let mut index = documents::Index::default();
    let listed = index.session(&b.dirs);
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].name.as_str(), listed[0].kind), ("document-1.pdf", Kind::Pdf));
    assert_eq!(index.for_upload(&b.dirs, &[]).len(), 1);
    assert_eq!(index.resolve(&listed[0].id, &b.dirs, &[]), Some(done.path.clone()));

    // The next document takes the next number.
    let page = b.scanner.scan_page(&request("Grid", ScanSettings::default()), &b.dirs, &Cancel::new()).unwrap();
    doc.add(page).unwrap();
    assert_eq!(doc.finish(&Target::from_input("", None), &b.dirs).unwrap().name, "document-2.pdf");

    // A page scanned for a document not finished, then the session ends: nothing is left.
    let page = b.scanner.scan_page(&request("Grid", ScanSettings::default()), &b.dirs, &Cancel::new()).unwrap();
    doc.add(page).unwrap();
    assert_eq!(files(&b.dirs.scans()).len(), 1);
    b.dirs.wipe_downloads().unwrap();
    assert!(!done.path.exists());
    assert!(files(&b.dirs.scans()).is_empty() && files(&b.dirs.downloads()).is_empty());
    assert!(index.session(&b.dirs).is_empty());
}

#[test]
fn colour_at_150_and_200_dpi_stays_within_a_megabyte_a_page() {
    let b = bench();
    for dpi in [150, 200] {
        let mut doc = Document::new();
        let settings = ScanSettings::new(Colour::Colour, dpi);
        let page = b.scanner.scan_page(&request("Color pattern", settings), &b.dirs, &Cancel::new()).unwrap();
        assert_eq!((page.colour(), page.dpi()), (Colour::Colour, dpi));
        doc.add(page).unwrap();
        let done = doc.finish(&Target::from_input("application/pdf", None), &b.dirs).unwrap();
        assert!(done.bytes <= 1_000_000, "{}", done.bytes);
        eprintln!(
            "one A4 page, colour {dpi} dpi (test backend's colour pattern): {} bytes (quality {}, {} dpi)",
            done.bytes, done.quality, done.dpi
        );
        let pages = pdf_pages(&done.path);
        assert_eq!(pages[0].5, "DeviceRGB");
        // The test backend's colour pattern (one-pixel coloured stripes) is JPEG's worst case: the
        // quality, then the resolution, went down to stay within the megabyte.
        assert!((100..=dpi).contains(&done.dpi), "{done:?}");
    }
}

#[test]
fn a_turned_page_is_turned_in_the_pdf_and_a_retake_replaces_the_page() {
    let b = bench();
    let mut doc = Document::new();
    let scan = |picture: &str, colour: Colour| {
        b.scanner.scan_page(&request(picture, ScanSettings::new(colour, 150)), &b.dirs, &Cancel::new()).unwrap()
    };
    doc.add(scan("Grid", Colour::Grey)).unwrap();
    doc.add(scan("Grid", Colour::Grey)).unwrap();
    doc.rotate(1, Rotation::R90).unwrap();
    assert_eq!((doc.pages()[1].width(), doc.pages()[1].height()), (1753, 1240));
    doc.rotate(0, Rotation::R180).unwrap();
    assert_eq!((doc.pages()[0].width(), doc.pages()[0].height()), (1240, 1753), "upside down: same shape");

    let first = doc.pages()[0].file().to_path_buf();
    doc.retake(0, scan("Color pattern", Colour::Colour)).unwrap();
    assert!(!first.exists(), "the page retaken is gone");
    assert_eq!((doc.len(), doc.pages()[0].colour(), doc.pages()[0].rotation_degrees()), (2, Colour::Colour, 0));
    assert_eq!(files(&b.dirs.scans()).len(), 2);

    let done = doc.finish(&Target::from_input(".pdf", None), &b.dirs).unwrap();
    let pages = pdf_pages(&done.path);
    assert_eq!(pages[0].5, "DeviceRGB", "the retake, in colour");
    let (w, h, iw, ih, _, space) = &pages[1];
    assert!(w > h, "the turned page is landscape: {w} × {h}");
    assert_eq!((*iw, *ih, space.as_str()), (1753, 1240, "DeviceGray"));
}

#[test]
fn a_site_taking_pictures_only_gets_one_jpeg() {
    let b = bench();
    let mut doc = Document::new();
    let page = b.scanner.scan_page(&request("Grid", ScanSettings::default()), &b.dirs, &Cancel::new()).unwrap();
    doc.add(page).unwrap();
    let target = Target::from_input("image/*", None);
    let done = doc.finish(&target, &b.dirs).unwrap();
    assert_eq!((done.name.as_str(), done.output), ("document-1.jpg", Output::Jpeg));
    let img = image::open(&done.path).unwrap();
    assert_eq!((img.width(), img.height()), (1240, 1753));
    assert!(!img.color().has_color());
    // Its resolution is written in (JFIF: units 1 = dots per inch), so the picture keeps its paper size.
    let bytes = std::fs::read(&done.path).unwrap();
    let jfif = bytes.windows(5).position(|w| w == b"JFIF\0").unwrap();
    assert_eq!((bytes[jfif + 7], u16::from_be_bytes([bytes[jfif + 8], bytes[jfif + 9]])), (1, 150));
    let listed = documents::Index::default().session(&b.dirs);
    assert_eq!((listed[0].name.as_str(), listed[0].kind), ("document-1.jpg", Kind::Image));

    // Two pages cannot be one picture: said, and the pages are kept.
    for _ in 0..2 {
        let page = b.scanner.scan_page(&request("Grid", ScanSettings::default()), &b.dirs, &Cancel::new()).unwrap();
        doc.add(page).unwrap();
    }
    assert_eq!(doc.finish(&target, &b.dirs), Err(DocumentError::OnePictureOnly(2)));
    assert_eq!(doc.len(), 2);
    let png_only = Target::from_input("image/png", None);
    assert_eq!(doc.finish(&png_only, &b.dirs).unwrap_err().code(), "not-accepted");
}

#[test]
fn a_size_the_document_cannot_meet_is_a_clear_error_and_nothing_is_lost() {
    let b = bench();
    let mut doc = Document::new();
    let page = b.scanner.scan_page(&request("Grid", ScanSettings::default()), &b.dirs, &Cancel::new()).unwrap();
    doc.add(page).unwrap();
    let e = doc.finish(&Target::from_input("", Some(2_000)), &b.dirs).unwrap_err();
    let DocumentError::TooLarge { limit, smallest } = e else { panic!("{e:?}") };
    assert_eq!(limit, 2_000);
    assert!(smallest > 2_000, "{smallest}");
    assert_eq!(doc.len(), 1, "the page is kept");
    assert!(files(&b.dirs.downloads()).is_empty(), "no file half made");
    assert!(french("too-large").ends_with("demandez à l'accueil."));
    // A limit it can meet by going down in quality or resolution.
    let full = {
        let page = b.scanner.scan_page(&request("Grid", ScanSettings::default()), &b.dirs, &Cancel::new()).unwrap();
        let mut probe = Document::new();
        probe.add(page).unwrap();
        probe.finish(&Target::from_input("", None), &b.dirs).unwrap()
    };
    let limit = full.bytes / 2;
    let done = doc.finish(&Target::from_input("", Some(limit)), &b.dirs).unwrap();
    assert!(done.bytes <= limit, "{} > {limit}", done.bytes);
    assert!(done.quality < full.quality || done.dpi < full.dpi, "{done:?}");
}

#[test]
fn a_scanner_gone_mid_scan_busy_or_open_says_so_in_french_and_keeps_the_pages() {
    let b = bench();
    let mut doc = Document::new();
    let page = b.scanner.scan_page(&request("Grid", ScanSettings::default()), &b.dirs, &Cancel::new()).unwrap();
    doc.add(page).unwrap();
    for (status, code) in [
        ("SANE_STATUS_IO_ERROR", "device-gone"),
        ("SANE_STATUS_DEVICE_BUSY", "busy"),
        ("SANE_STATUS_COVER_OPEN", "cover-open"),
        ("SANE_STATUS_JAMMED", "jammed"),
        ("SANE_STATUS_NO_DOCS", "no-paper"),
        ("SANE_STATUS_NO_MEM", "other"),
    ] {
        let e = scan_failing(&b, status);
        assert_eq!(e.code(), code, "{status}: {e:?}");
        let text = french(code);
        assert!(text.to_lowercase().ends_with("demandez à l'accueil."), "{code}: {text}");
        assert_eq!(files(&b.dirs.scans()).len(), 1, "{status}: only the page already scanned is left");
    }
    let gone = scan_failing(&b, "SANE_STATUS_IO_ERROR");
    assert!(matches!(&gone, ScanError::DeviceGone(cause) if cause.contains("I/O")), "{gone:?}");
    assert_eq!(french("device-gone"), "Le scanner s'est arrêté pendant la numérisation. Vos pages déjà numérisées sont gardées ; demandez à l'accueil.");
    assert_eq!(doc.len(), 1);
    assert!(
        doc.finish(&Target::from_input("", None), &b.dirs).is_ok(),
        "the page scanned before still makes a document"
    );
}

#[test]
fn every_error_has_its_text_in_every_language_and_failures_send_to_the_accueil() {
    let fr = strings("fr");
    let codes: Vec<&str> = ScanError::CODES.iter().chain(DocumentError::CODES.iter()).copied().collect();
    for lang in borne_core::config::KNOWN_LANGUAGES {
        let s = strings(lang);
        for code in &codes {
            let key = format!("scan.error.{code}");
            assert!(s.get(&key).and_then(|v| v.as_str()).is_some_and(|t| !t.trim().is_empty()), "{lang}: {key}");
        }
    }
    // The limit the text names is the one the code applies.
    assert!(fr["scan.error.too-many-pages"]
        .as_str()
        .unwrap()
        .contains(&borne_core::scan::document::MAX_PAGES.to_string()));
    // Scanner failures end with the advice; a stop the person asked for, or a step to do, does not.
    for code in ScanError::CODES.iter().filter(|c| **c != "cancelled") {
        let t = fr[&format!("scan.error.{code}")].as_str().unwrap().to_lowercase();
        assert!(t.ends_with("demandez à l'accueil."), "{code}: {t}");
    }
}
