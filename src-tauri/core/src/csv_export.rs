//! The one way the borne writes CSV: the local statistics (`bornectl stats --csv`, the admin
//! screen's export), the federation's report and the fleet's health all go through [`write`].
//!
//! What a French spreadsheet opens as is: `;` between fields (French spreadsheets split on it), CRLF
//! line ends, a header line first. One quoting rule for every export, the `csv` crate's: a field is
//! quoted when it holds `;`, `"` or a line break, and a `"` inside is doubled.
//!
//! Formula injection is guarded: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
//! return would be run as a formula by a spreadsheet (`=HYPERLINK(...)` in a site's name), so it is
//! written with a `'` before it, which spreadsheets show as text. Every cell the borne exports is a
//! name, a date or a count that is never negative, so the guard never changes a figure.

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula when they start it.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as it is safe to give a spreadsheet: prefixed with `'` when it would start a formula.
pub fn guard(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The CSV text of a header line and rows (see the module documentation); `bom` puts UTF-8's byte
/// order mark first, for the exports whose names have accents.
pub fn write<R, C>(headers: &[&str], rows: R, bom: bool) -> String
where
    R: IntoIterator,
    R::Item: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        // A short line is written as it is rather than refused: the exports build every line from
        // the same columns.
        .flexible(true)
        .from_writer(out);
    let lines = std::iter::once(headers.iter().map(|h| guard(h).into_owned()).collect::<Vec<_>>())
        .chain(rows.into_iter().map(|r| r.into_iter().map(|c| guard(c.as_ref()).into_owned()).collect()));
    for line in lines {
        // Writing to memory cannot fail (no I/O, and lines of any length are accepted).
        w.write_record(&line).expect("CSV to memory");
    }
    let bytes = w.into_inner().expect("CSV to memory: flushing a Vec cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8")
}

/// What a spreadsheet (or any CSV reader told of `;`) reads back, for the exports' tests.
#[cfg(test)]
pub(crate) fn read_back(text: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    r.records().map(|rec| rec.expect("a CSV the borne wrote").iter().map(str::to_string).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_written_as_text() {
        for (cell, written) in [
            ("=HYPERLINK(\"http://x.invalid\";\"clic\")", "'=HYPERLINK(\"http://x.invalid\";\"clic\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@x", "'@x"),
            ("\tTAB", "'\tTAB"),
            ("\rCR", "'\rCR"),
            ("Borne - A", "Borne - A"),
            ("12", "12"),
            ("", ""),
        ] {
            assert_eq!(guard(cell), written);
        }
    }

    #[test]
    fn cells_round_trip_through_a_csv_reader() {
        let rows = vec![
            vec!["=HYPERLINK(\"http://x.invalid\";\"clic\")", "+1", "-2", "@x"],
            vec!["a, b", "dit \"oui\"", "deux\r\nlignes", "x;y"],
            vec!["Saint-Éloi", "", "3,0", "plain"],
        ];
        let text = write(&["nom", "a", "b", "c"], rows, true);
        assert!(text.starts_with("\u{feff}nom;a;b;c\r\n"), "{text:?}");
        let back = read_back(&text);
        assert_eq!(back[0], ["nom", "a", "b", "c"]);
        assert_eq!(back[1], ["'=HYPERLINK(\"http://x.invalid\";\"clic\")", "'+1", "'-2", "'@x"]);
        assert_eq!(back[2], ["a, b", "dit \"oui\"", "deux\r\nlignes", "x;y"]);
        assert_eq!(back[3], ["Saint-Éloi", "", "3,0", "plain"]);
        assert_eq!(back.len(), 4);
        // The one quoting rule: only what needs it is quoted.
        assert!(text.contains("\r\na, b;\"dit \"\"oui\"\"\";\"deux\r\nlignes\";\"x;y\"\r\n"), "{text:?}");
        assert!(!write(&["a"], Vec::<Vec<&str>>::new(), false).starts_with('\u{feff}'));
    }
}
