//! Diagnostics for files people edit: where (file, line, column) and what (a [`Problem`]).
//!
//! The English `Display` of a diagnostic is the cause for logs; [`Diagnostic::french`] is the text for
//! the référent (written in [`crate::messages`], which sits above this module). Also owns the known-key walk: every unknown key of a TOML
//! file is reported at once, with the nearest known key as a suggestion.

use std::fmt;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::host::HostRuleError;

/// What is wrong, independent of where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The file cannot be read.
    #[error("cannot read the file: {0}")]
    Unreadable(String),
    /// TOML syntax error.
    #[error("TOML syntax: {0}")]
    Syntax(String),
    /// A key the program does not know.
    #[error("unknown key `{key}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownKey {
        /// The key as written.
        key: String,
        /// The nearest known key, when one is close.
        suggestion: Option<String>,
    },
    /// A value of the wrong type, or a missing required key.
    #[error("wrong or missing value: {0}")]
    Type(String),
    /// The same id twice.
    #[error("duplicate id `{id}` (first defined at line {first_line})")]
    DuplicateId {
        /// The id.
        id: String,
        /// Line of the first definition.
        first_line: usize,
    },
    /// An id with characters other than a-z, 0-9 and '-'.
    #[error("id `{0}` must use only lower-case letters, digits and '-'")]
    BadId(String),
    /// A reference to a theme that does not exist.
    #[error("unknown theme `{0}`")]
    UnknownTheme(String),
    /// A reference to a host group that does not exist.
    #[error("unknown host group `{0}`")]
    UnknownGroup(String),
    /// A reference to a service that does not exist.
    #[error("unknown service `{0}`")]
    UnknownService(String),
    /// A pictogram that is not in the shipped set.
    #[error("unknown pictogram `{0}`")]
    UnknownPictogram(String),
    /// A bad host rule.
    #[error("bad host rule: {0}")]
    Host(#[from] HostRuleError),
    /// Not a URL.
    #[error("`{0}` is not a valid URL")]
    BadUrl(String),
    /// A URL that must be https.
    #[error("URL `{0}` must use https")]
    NotHttps(String),
    /// Not an address of the system's signed updates.
    #[error("`{url}` is not an update address: {why}")]
    BadUpdateUrl {
        /// The text as written.
        url: String,
        /// Why.
        why: crate::updates::UpdateUrlError,
    },
    /// Not a daily range of time (`HH:MM-HH:MM`).
    #[error("`{0}` is not a time range HH:MM-HH:MM")]
    BadTimeRange(String),
    /// An entry URL that the service's own rules do not allow.
    #[error("entry URL `{url}` is not allowed by the service's own host rules ({reason})")]
    EntryNotCovered {
        /// The URL.
        url: String,
        /// The policy's reason.
        reason: String,
    },
    /// A number out of its range.
    #[error("`{key}` must be between {min} and {max}")]
    OutOfRange {
        /// The key.
        key: String,
        /// Minimum.
        min: i64,
        /// Maximum.
        max: i64,
    },
    /// A language the borne has no strings for.
    #[error("unknown language `{0}`")]
    UnknownLanguage(String),
    /// Not a time zone name of the tz database.
    #[error("`{0}` is not a time zone name (Area/City)")]
    UnknownTimeZone(String),
    /// A required text left empty.
    #[error("`{0}` must not be empty")]
    Empty(String),
    /// A list with too few or too many lines.
    #[error("`{key}` must have {min} to {max} lines")]
    Lines {
        /// The key.
        key: String,
        /// Fewest lines.
        min: usize,
        /// Most lines.
        max: usize,
    },
    /// Not a minisign public key.
    #[error("`{0}` is not a minisign public key")]
    PublicKey(String),
    /// A problem of the opening hours (`[hours]`).
    #[error("opening hours: {0}")]
    Hours(#[from] HoursError),
    /// A line too long to read at a glance.
    #[error("a line of `{key}` is longer than {max} characters")]
    TooLong {
        /// The key.
        key: String,
        /// Most characters.
        max: usize,
    },
    /// A number that must not be smaller than another setting.
    #[error("`{key}` ({value}) is shorter than `{other}` ({other_value})")]
    ShorterThan {
        /// The key.
        key: String,
        /// Its value.
        value: i64,
        /// The setting it must not be below.
        other: String,
        /// That setting's value.
        other_value: i64,
    },
    /// A nomad borne's place whose name makes no code (no Latin letter or digit).
    #[error("the place name `{0}` has no Latin letter or digit to make its code")]
    PlaceWithoutCode(String),
    /// Two places with the same code (the same name up to case, accents and punctuation).
    #[error("the place `{name}` is the same as `{first}` (line {first_line})")]
    PlaceTwice {
        /// The name as written.
        name: String,
        /// The name of the first place with that code.
        first: String,
        /// Its line.
        first_line: usize,
    },
}

/// One located problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file.
    pub file: PathBuf,
    /// 1-based line (0 when the problem is about the whole file).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.problem)
    }
}

impl std::error::Error for Diagnostic {}

/// Most opening ranges in a day.
pub const MAX_RANGES: usize = 2;

/// What is wrong in `[hours]` (the English cause for logs; French in [`crate::messages`]).
/// Here rather than in [`crate::hours`], which reports them as diagnostics: the diagnostics
/// vocabulary sits below the modules that report in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    /// A day whose text is not a list of ranges.
    #[error("`{day}`: `{text}` is not a list of opening ranges such as \"9:00-12:00, 14:00-17:00\"")]
    BadRanges {
        /// The day.
        day: String,
        /// The text as written.
        text: String,
    },
    /// A range whose end is not after its start.
    #[error("`{day}`: the range `{range}` ends before it starts")]
    EndBeforeStart {
        /// The day.
        day: String,
        /// The range as written.
        range: String,
    },
    /// Two ranges of a day that overlap.
    #[error("`{day}`: the ranges {first} and {second} overlap")]
    Overlap {
        /// The day.
        day: String,
        /// The earlier range.
        first: String,
        /// The later range.
        second: String,
    },
    /// More than [`MAX_RANGES`] ranges in a day.
    #[error("`{day}` has {count} ranges, at most {MAX_RANGES}")]
    TooManyRanges {
        /// The day.
        day: String,
        /// How many.
        count: usize,
    },
    /// A key that is neither a day nor a setting of `[hours]`, and near none.
    #[error("`{0}` is neither a day of the week (in French) nor a setting of [hours]")]
    UnknownDay(String),
    /// The same day twice (« Lundi » and « lundi »).
    #[error("the day `{0}` is given twice")]
    DayTwice(String),
    /// A day that is not text.
    #[error("`{0}` must be text between quotes")]
    NotText(String),
    /// `closures` is not a list.
    #[error("`closures` must be a list of dates between brackets")]
    NotList,
    /// Not a date or a period.
    #[error("`{0}` is not a date (YYYY-MM-DD) or a period (YYYY-MM-DD..YYYY-MM-DD)")]
    BadDate(String),
    /// A period whose end is before its start.
    #[error("the period `{0}` ends before it starts")]
    ReversedPeriod(String),
    /// `[hours]` is not a table.
    #[error("`hours` must be a table [hours]")]
    NotATable,
    /// A note, not an error: both `[hours]` and `[centre] opening_hours`; the first is shown.
    #[error("[centre] opening_hours is not shown: [hours] gives the opening hours")]
    TextIgnored,
}

/// A file being checked: its name and text, to turn byte spans into lines and columns.
pub struct Source<'a> {
    /// Path shown in messages.
    pub path: &'a Path,
    /// The text.
    pub text: &'a str,
}

impl Source<'_> {
    /// 1-based (line, column) of a byte offset (column counted in characters).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..self.text.floor_char_boundary(offset)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    /// A diagnostic at a byte span (its start).
    pub fn at(&self, span: &std::ops::Range<usize>, problem: Problem) -> Diagnostic {
        let (line, column) = self.line_col(span.start);
        Diagnostic { file: self.path.to_owned(), line, column, problem }
    }

    /// A diagnostic at a spanned value.
    pub fn at_value<T>(&self, v: &Spanned<T>, problem: Problem) -> Diagnostic {
        self.at(&v.span(), problem)
    }

    /// A diagnostic from a TOML error (syntax or type), located by its span.
    pub fn from_toml(&self, e: &toml::de::Error, syntax: bool) -> Diagnostic {
        let span = e.span().unwrap_or(0..0);
        let msg = e.message().trim().to_owned();
        self.at(&span, if syntax { Problem::Syntax(msg) } else { Problem::Type(msg) })
    }
}

/// The keys a table may hold. `Any` accepts any key name (a map such as `[groups.<id>]`) whose values
/// follow the inner shape.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A plain value.
    Leaf,
    /// A table with these keys.
    Table(&'static [(&'static str, Shape)]),
    /// An array of tables, each with these keys.
    Tables(&'static [(&'static str, Shape)]),
    /// A table whose keys are free (ids), each value a table of this shape.
    Map(&'static [(&'static str, Shape)]),
}

/// Parses `text` and reports every unknown key (with a suggestion), or the syntax error.
pub fn check_keys(src: &Source<'_>, root: &'static [(&'static str, Shape)]) -> Vec<Diagnostic> {
    match DeTable::parse(src.text) {
        Ok(table) => {
            let mut out = Vec::new();
            walk_table(src, table.get_ref(), root, &mut out);
            out.sort_by_key(|d| (d.line, d.column));
            out
        }
        Err(e) => vec![src.from_toml(&e, true)],
    }
}

fn walk_table(
    src: &Source<'_>,
    table: &DeTable<'_>,
    known: &'static [(&'static str, Shape)],
    out: &mut Vec<Diagnostic>,
) {
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        match known.iter().find(|(k, _)| *k == name) {
            Some((_, shape)) => walk_value(src, value, *shape, out),
            None => {
                let suggestion = known
                    .iter()
                    .map(|(k, _)| (strsim::jaro_winkler(k, name), *k))
                    .filter(|(score, _)| *score > 0.75)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, k)| k.to_owned());
                out.push(src.at(&key.span(), Problem::UnknownKey { key: name.to_owned(), suggestion }));
            }
        }
    }
}

fn walk_value(src: &Source<'_>, value: &Spanned<DeValue<'_>>, shape: Shape, out: &mut Vec<Diagnostic>) {
    match (shape, value.get_ref()) {
        (Shape::Table(keys), DeValue::Table(t)) => walk_table(src, t, keys, out),
        (Shape::Tables(keys), DeValue::Array(items)) => {
            for item in items.iter() {
                if let DeValue::Table(t) = item.get_ref() {
                    walk_table(src, t, keys, out);
                }
            }
        }
        (Shape::Map(keys), DeValue::Table(t)) => {
            for (_, v) in t.iter() {
                if let DeValue::Table(inner) = v.get_ref() {
                    walk_table(src, inner, keys, out);
                }
            }
        }
        _ => {}
    }
}

/// Reads a file to a string, as a diagnostic when it fails.
pub fn read(path: &Path) -> Result<String, Diagnostic> {
    std::fs::read_to_string(path).map_err(|e| Diagnostic {
        file: path.to_owned(),
        line: 0,
        column: 0,
        problem: Problem::Unreadable(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &[(&str, Shape)] =
        &[("centre", Shape::Table(&[("name", Shape::Leaf), ("website", Shape::Leaf)])), ("version", Shape::Leaf)];

    #[test]
    fn reports_every_unknown_key_with_location_and_suggestion() {
        let text = "version = 1\n[centre]\nnmae = \"x\"\nwebsite = \"\"\ncolour = 3\n";
        let src = Source { path: Path::new("borne.toml"), text };
        let d = check_keys(&src, ROOT);
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].line, d[0].column), (3, 1));
        assert_eq!(d[0].problem, Problem::UnknownKey { key: "nmae".into(), suggestion: Some("name".into()) });
        assert_eq!(d[1].problem, Problem::UnknownKey { key: "colour".into(), suggestion: None });
    }

    #[test]
    fn syntax_error_has_a_line() {
        let src = Source { path: Path::new("x.toml"), text: "a = 1\nb = \n" };
        let d = check_keys(&src, ROOT);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].line, 2);
        assert!(matches!(d[0].problem, Problem::Syntax(_)));
    }
}
