//! The printer's test page: one A4 page in French (the texts of [`crate::messages`]), drawn with the
//! PDF standard fonts (Helvetica in WinAnsi encoding, which every PDF reader and printer has): a
//! frame 10 mm inside the page's edges, the title, the centre, the printer and the time, a scale
//! of six greys and the accented letters French needs. No image, no embedded font: a few kilobytes.

use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, Stream, StringFormat};

use crate::messages::{
    test_page_facts_fr, TEST_PAGE_ACCENTS, TEST_PAGE_BODY, TEST_PAGE_BORNE, TEST_PAGE_FOOTER, TEST_PAGE_TITLE,
};

/// A4 in points.
const WIDTH: f32 = 595.0;
/// A4 in points.
const HEIGHT: f32 = 842.0;
/// The frame's distance from the edges: 10 mm.
const FRAME: f32 = 28.35;
/// Left margin of the text.
const LEFT: f32 = 70.0;
/// Longest centre or printer name printed (in characters).
const MAX_NAME: usize = 60;

/// A text in the standard fonts' encoding (WinAnsi: Latin-1 and a few more); what it lacks is `?`.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            'Œ' => 0x8c,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '™' => 0x99,
            'œ' => 0x9c,
            'Ÿ' => 0x9f,
            '\u{202f}' => 0xa0,
            _ => b'?',
        })
        .collect()
}

fn op(name: &str, operands: Vec<Object>) -> Operation {
    Operation::new(name, operands)
}

/// One line of text at (`x`, `y`) in font `font` (`F1` regular, `F2` bold) of `size` points.
fn text(out: &mut Vec<Operation>, font: &str, size: f32, x: f32, y: f32, line: &str) {
    out.push(op("BT", vec![]));
    out.push(op("Tf", vec![Object::Name(font.as_bytes().to_vec()), size.into()]));
    out.push(op("Td", vec![x.into(), y.into()]));
    out.push(op("Tj", vec![Object::String(win_ansi(line), StringFormat::Hexadecimal)]));
    out.push(op("ET", vec![]));
}

/// The test page as a PDF: `centre` and `printer` as they are (cut at 60 characters), `when` already
/// said in French ([`crate::messages::date_time_fr`]).
pub fn pdf(centre: &str, printer: &str, when: &str) -> Vec<u8> {
    let cut = |s: &str| s.chars().filter(|c| !c.is_control()).take(MAX_NAME).collect::<String>();
    let mut ops = Vec::new();
    // The frame.
    ops.push(op("w", vec![1.5.into()]));
    ops.push(op("re", vec![FRAME.into(), FRAME.into(), (WIDTH - 2.0 * FRAME).into(), (HEIGHT - 2.0 * FRAME).into()]));
    ops.push(op("S", vec![]));
    let mut y = HEIGHT - 110.0;
    text(&mut ops, "F2", 24.0, LEFT, y, TEST_PAGE_TITLE);
    y -= 28.0;
    text(&mut ops, "F1", 13.0, LEFT, y, TEST_PAGE_BORNE);
    y -= 50.0;
    for fact in test_page_facts_fr(&cut(centre), &cut(printer), when) {
        text(&mut ops, "F1", 12.0, LEFT, y, &fact);
        y -= 20.0;
    }
    y -= 20.0;
    for line in TEST_PAGE_BODY {
        if !line.is_empty() {
            text(&mut ops, "F1", 12.0, LEFT, y, line);
        }
        y -= 18.0;
    }
    y -= 12.0;
    text(&mut ops, "F1", 16.0, LEFT, y, TEST_PAGE_ACCENTS);
    // Six greys, lightest to black.
    y -= 90.0;
    for (i, grey) in [0.9_f32, 0.75, 0.6, 0.45, 0.3, 0.0].iter().enumerate() {
        ops.push(op("g", vec![(*grey).into()]));
        ops.push(op("re", vec![(LEFT + i as f32 * 75.0).into(), y.into(), 65.0.into(), 50.0.into()]));
        ops.push(op("f", vec![]));
    }
    ops.push(op("g", vec![0.0.into()]));
    text(&mut ops, "F1", 10.0, LEFT, 60.0, TEST_PAGE_FOOTER);

    let mut doc = Document::with_version("1.4");
    let pages = doc.new_object_id();
    let regular = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let bold = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica-Bold", "Encoding" => "WinAnsiEncoding",
    });
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => regular, "F2" => bold } });
    let content = Content { operations: ops }.encode().expect("operators and numbers of this module always encode");
    let contents = doc.add_object(Stream::new(dictionary! {}, content));
    let page = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages,
        "Contents" => contents,
        "Resources" => resources,
        "MediaBox" => vec![0.into(), 0.into(), WIDTH.into(), HEIGHT.into()],
    });
    doc.objects.insert(
        pages,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    doc.compress();
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("writing a PDF to memory cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_one_a4_page_with_its_french_text() {
        let bytes = pdf("Centre social des Tilleuls", "HP_LaserJet_MFP_M28w", "7 décembre 2026 à 14 h 03");
        assert!(bytes.starts_with(b"%PDF-1."), "{:?}", &bytes[..8]);
        assert!(bytes.len() < 8 * 1024, "{} bytes", bytes.len());
        assert_eq!(crate::print::pdf_page_count(&bytes), Ok(1));
        let doc = Document::load_mem(&bytes).unwrap();
        let text = doc.extract_text(&[1]).unwrap();
        for expected in [
            "Page de test de l'imprimante",
            "Centre : Centre social des Tilleuls",
            "Imprimante : HP_LaserJet_MFP_M28w",
            "Imprimée le 7 décembre 2026 à 14 h 03",
            "Borne « Le numérique à mon service »",
            "œ",
            "€",
        ] {
            assert!(text.contains(expected), "{expected:?} missing in {text:?}");
        }
    }

    #[test]
    fn names_are_cut_and_unknown_letters_become_question_marks() {
        assert_eq!(win_ansi("é€œ’ x"), [0xe9, 0x80, 0x9c, 0x92, b' ', b'x']);
        assert_eq!(win_ansi("Київ"), b"????");
        let bytes = pdf(&"x".repeat(200), "p\nq", "maintenant");
        let text = Document::load_mem(&bytes).unwrap().extract_text(&[1]).unwrap();
        assert!(text.contains(&format!("Centre : {}", "x".repeat(60))) && !text.contains(&"x".repeat(61)), "{text}");
        assert!(text.contains("Imprimante : pq"), "{text}");
    }
}
