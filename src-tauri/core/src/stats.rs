//! Anonymous usage statistics: what is counted, the SQLite store, and the local figures.
//!
//! Everything is a count of `(hour, category, action)`: the hour the person's session started (hours
//! are the finest time kept), and a category and action from a closed vocabulary (tile ids, service
//! ids, host names reduced to their registrable domain, fixed codes). Nothing typed, no URL path or
//! query, no title, no address, no id of a person or a session is ever stored or sent.
//!
//! Recording goes through [`recorder::Recorder`] (a channel to one writer thread); pushing the counts
//! to Matomo is [`crate::push`]. The store keeps, for each count, how much of it Matomo confirmed,
//! so a delivery is exactly the difference.
//!
//! Each session has dimensions: accompanied by a médiateur or autonomous ([`Mode`]), and the place of
//! a nomad borne ([`crate::nomad`]). They are counted twice over, for two readers:
//! - as units of their own, one a session, counted with its end ([`Category::Mode`],
//!   [`Category::Place`]; [`Category::PrintAtEnd`] when the person printed at the end): what Matomo
//!   gets, so its Events report gives sessions by mode and by place, exactly, like every other count;
//! - locally, every count a session makes is split by its dimensions (`counts_split`, [`SplitRow`]):
//!   tiles, pages, ends... by place and by mode, for `bornectl stats --split` and the CSV. A session
//!   marked accompanied after it started has its counts so far moved to the accompanied side.

pub mod recorder;
pub mod table;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::session::EndReason;

/// An hour, counted from 1970-01-01 00:00 UTC: the finest time the borne keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hour(pub i64);

impl Hour {
    /// The current hour.
    pub fn now() -> Hour {
        Hour::from_unix(jiff::Timestamp::now().as_second())
    }

    /// The hour holding this Unix time.
    pub fn from_unix(secs: i64) -> Hour {
        Hour(secs.div_euclid(3600))
    }

    /// Unix time of the hour's start.
    pub fn start_unix(self) -> i64 {
        self.0 * 3600
    }

    /// The hour's start as Matomo's `cdt` wants it: `YYYY-MM-DD HH:00:00`, UTC.
    pub fn cdt(self) -> String {
        match jiff::Timestamp::from_second(self.start_unix()) {
            Ok(t) => t.strftime("%Y-%m-%d %H:00:00").to_string(),
            Err(_) => "1970-01-01 00:00:00".into(),
        }
    }

    /// The civil date of the hour's start in a time zone.
    pub fn date_in(self, tz: &jiff::tz::TimeZone) -> jiff::civil::Date {
        jiff::Timestamp::from_second(self.start_unix())
            .map(|t| t.to_zoned_datetime(tz.clone()).date())
            .unwrap_or_default()
    }
}

/// The categories of counted units (Matomo's event category, `e_c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// A session started (`start`): the first hit of each Matomo visit.
    Session,
    /// How a session ended: `button`, `idle`, `crash`.
    End,
    /// How long a session lasted: [`DurationBand`] codes.
    Duration,
    /// A tile opened: the tile id.
    Tile,
    /// A navigation refused: the registrable domain of the host.
    Blocked,
    /// Printing: `page` (one unit a page) or `failure`.
    Print,
    /// A document received: `file`.
    Download,
    /// "J'ai besoin d'aide": `request`.
    Help,
    /// The end-of-session question: `yes`, `partly`, `no`, `skipped`.
    Outcome,
    /// A language chosen: its code.
    Language,
    /// A service unreachable: its service id.
    Outage,
    /// How a session was used, one unit a session, with its end: [`Mode`] codes.
    Mode,
    /// Where a nomad borne's session was, one unit a session, with its end: the place's code.
    Place,
    /// The person printed their documents at the end (`yes`), at most one unit a session.
    PrintAtEnd,
    /// The borne's health report (not usage): one unit a report, its line as the action
    /// ([`crate::health::Report::line`]), sent as a Matomo visit of its own.
    Health,
}

impl Category {
    /// All categories, in the order tables show them.
    pub const ALL: [Category; 15] = [
        Category::Session,
        Category::End,
        Category::Duration,
        Category::Tile,
        Category::Blocked,
        Category::Print,
        Category::Download,
        Category::Help,
        Category::Outcome,
        Category::Language,
        Category::Outage,
        Category::Mode,
        Category::Place,
        Category::PrintAtEnd,
        Category::Health,
    ];

    /// The code stored and sent as `e_c`.
    pub fn code(self) -> &'static str {
        match self {
            Category::Session => "session",
            Category::End => "end",
            Category::Duration => "duration",
            Category::Tile => "tile",
            Category::Blocked => "blocked",
            Category::Print => "print",
            Category::Download => "download",
            Category::Help => "help",
            Category::Outcome => "outcome",
            Category::Language => "language",
            Category::Outage => "outage",
            Category::Mode => "mode",
            Category::Place => "place",
            Category::PrintAtEnd => "print-at-end",
            Category::Health => "health",
        }
    }

    /// The category of a code.
    pub fn from_code(code: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// Session duration bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DurationBand {
    /// Under 5 minutes.
    Under5,
    /// 5 to 15 minutes.
    To15,
    /// 15 to 30 minutes.
    To30,
    /// 30 to 60 minutes.
    To60,
    /// Over an hour.
    Over60,
}

impl DurationBand {
    /// All bands, shortest first.
    pub const ALL: [DurationBand; 5] =
        [DurationBand::Under5, DurationBand::To15, DurationBand::To30, DurationBand::To60, DurationBand::Over60];

    /// The band of a duration.
    pub fn of(d: Duration) -> DurationBand {
        match d.as_secs() / 60 {
            0..5 => DurationBand::Under5,
            5..15 => DurationBand::To15,
            15..30 => DurationBand::To30,
            30..60 => DurationBand::To60,
            _ => DurationBand::Over60,
        }
    }

    /// The code stored and sent as `e_a`.
    pub fn code(self) -> &'static str {
        match self {
            DurationBand::Under5 => "lt5",
            DurationBand::To15 => "5-15",
            DurationBand::To30 => "15-30",
            DurationBand::To60 => "30-60",
            DurationBand::Over60 => "gt60",
        }
    }
}

/// The answer to "Avez-vous pu faire votre démarche ?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Oui.
    Yes,
    /// En partie.
    Partly,
    /// Non.
    No,
    /// Passer.
    Skipped,
}

impl Outcome {
    /// The code stored and sent as `e_a`.
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Yes => "yes",
            Outcome::Partly => "partly",
            Outcome::No => "no",
            Outcome::Skipped => "skipped",
        }
    }
}

/// How a session was used: alone, or with a médiateur who gave the team's staff code
/// (`crate::admin::staff`). Never who: one code for the whole team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// The person alone (every session until a médiateur marks it).
    Autonomous,
    /// Marked « accompagnée » by a médiateur.
    Accompanied,
}

impl Mode {
    /// Both, in the order tables show them.
    pub const ALL: [Mode; 2] = [Mode::Autonomous, Mode::Accompanied];

    /// The code stored and sent as `e_a`.
    pub fn code(self) -> &'static str {
        match self {
            Mode::Autonomous => "autonomous",
            Mode::Accompanied => "accompanied",
        }
    }

    /// The mode of a code.
    pub fn from_code(code: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.code() == code)
    }
}

/// A place's code as the statistics accept it: the shape [`crate::nomad::place_code`] makes.
pub fn place_code_ok(code: &str) -> bool {
    id_code(code).is_some() && code.len() <= crate::nomad::MAX_PLACE_CODE
}

/// Something a person did that is counted. Values are checked against the vocabulary before they
/// are stored: anything else is refused (and logged without the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A tile was opened (tile id).
    TileOpened(String),
    /// A navigation was refused (host; only its registrable domain is kept).
    Blocked(String),
    /// Pages printed.
    PagesPrinted(u32),
    /// A print job failed.
    PrintFailed,
    /// A document was received.
    Download,
    /// "J'ai besoin d'aide".
    HelpRequest,
    /// The end-of-session answer.
    Outcome(Outcome),
    /// A language was chosen (code).
    Language(String),
    /// A service could not be reached (service id).
    Outage(String),
    /// The person printed their documents at « Terminer » (counted once a session).
    PrintedAtEnd,
}

impl Event {
    /// The counted unit and how many of it, or `None` when a value is outside the vocabulary.
    pub fn unit(&self) -> Option<(Category, String, u32)> {
        let (cat, action, n) = match self {
            Event::TileOpened(id) => (Category::Tile, id_code(id)?, 1),
            Event::Blocked(host) => (Category::Blocked, blocked_domain(host)?, 1),
            Event::PagesPrinted(0) => return None,
            Event::PagesPrinted(n) => (Category::Print, "page".into(), *n),
            Event::PrintFailed => (Category::Print, "failure".into(), 1),
            Event::Download => (Category::Download, "file".into(), 1),
            Event::HelpRequest => (Category::Help, "request".into(), 1),
            Event::Outcome(o) => (Category::Outcome, o.code().into(), 1),
            Event::Language(code) => (Category::Language, language_code(code)?, 1),
            Event::Outage(id) => (Category::Outage, id_code(id)?, 1),
            Event::PrintedAtEnd => (Category::PrintAtEnd, "yes".into(), 1),
        };
        Some((cat, action, n))
    }
}

/// A tile or service id: lowercase ASCII letters, digits and dashes, as the catalogue allows.
fn id_code(s: &str) -> Option<String> {
    let ok = (1..=40).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-');
    ok.then(|| s.to_string())
}

/// A language code: two or three lowercase letters.
fn language_code(s: &str) -> Option<String> {
    ((2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase())).then(|| s.to_string())
}

/// The registrable domain of a refused host (`www.facebook.com` → `facebook.com`), so that a
/// host carrying a name or a code in its labels is never kept; under a private public suffix
/// (`jean-dupont.blogspot.com`) only the suffix (`blogspot.com`); IP literals become `ip`.
pub fn blocked_domain(host: &str) -> Option<String> {
    let h = host.trim().trim_end_matches('.').to_ascii_lowercase();
    if h.is_empty() {
        return None;
    }
    if h.parse::<std::net::IpAddr>().is_ok() || h.starts_with('[') || h.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        return Some("ip".into());
    }
    let valid = |s: &str| {
        (1..=253).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !s.split('.').any(|l| l.is_empty() || l.len() > 63)
    };
    if !valid(&h) {
        return None;
    }
    // Under a private suffix (a host for people's own pages: blogspot.com, github.io...), the
    // registrable domain is a person's name: keep the suffix itself.
    if let Some(sfx) = psl::suffix(h.as_bytes()).filter(|s| s.typ() == Some(psl::Type::Private)) {
        let sfx = String::from_utf8_lossy(sfx.as_bytes()).into_owned();
        return valid(&sfx).then_some(sfx);
    }
    let reg = psl::domain_str(&h).unwrap_or(&h);
    valid(reg).then(|| reg.to_string())
}

/// A stored count of any category but [`Category::Health`] is in the vocabulary the borne sends.
/// A health report's line is not this module's to read ([`crate::health`] writes them into this
/// store, from above, and checks them): the answer for it is `false`. Before a send, the push asks
/// `push::in_vocabulary`, which knows both.
pub fn count_in_vocabulary(cat: Category, action: &str) -> bool {
    match cat {
        Category::Session => action == "start",
        Category::End => matches!(action, "button" | "idle" | "crash" | "sleep"),
        Category::Duration => DurationBand::ALL.iter().any(|b| b.code() == action),
        Category::Tile | Category::Outage => id_code(action).is_some(),
        Category::Blocked => action == "ip" || blocked_domain(action).as_deref() == Some(action),
        Category::Print => matches!(action, "page" | "failure"),
        Category::Download => action == "file",
        Category::Help => action == "request",
        Category::Outcome => matches!(action, "yes" | "partly" | "no" | "skipped"),
        Category::Language => language_code(action).is_some(),
        Category::Mode => Mode::from_code(action).is_some(),
        Category::Place => place_code_ok(action),
        Category::PrintAtEnd => action == "yes",
        Category::Health => false,
    }
}

/// What can go wrong with the statistics file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused an operation.
    #[error("statistics database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by a newer program.
    #[error("statistics file schema version {found} is newer than this program's ({supported})")]
    TooNew {
        /// Version in the file.
        found: i64,
        /// Newest version this program knows.
        supported: i64,
    },
    /// The folder could not be created.
    #[error("cannot create the statistics folder: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// The French text for the référent.
    pub fn french(&self) -> String {
        match self {
            StoreError::TooNew { .. } => "Le fichier des statistiques vient d'une version plus récente de la borne. \
                 Il n'a pas été modifié : installez la dernière version de la borne."
                .into(),
            StoreError::Sqlite(_) | StoreError::Io(_) => "Le fichier des statistiques ne peut pas être lu ou écrit. \
                 Les statistiques déjà enregistrées sont conservées ; prévenez la fédération."
                .into(),
        }
    }
}

/// One schema migration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// Its SQL.
    pub(crate) sql: &'static str,
    /// Additive: it only creates tables or indexes, or adds columns that may be NULL or have a
    /// default, so a program that predates it still reads and writes the file correctly (its
    /// statements never name what the migration adds). A migration that is not additive raises the
    /// file's reader floor to itself.
    pub(crate) additive: bool,
}

/// Schema migrations, in order; the file's `user_version` is how many have run.
///
/// After an A/B rollback (kiosk-image/README.md, "Updates") an older program opens a file a newer one
/// migrated. The file keeps, in `schema_meta`, its reader floor: how many migrations a program must
/// know to use it (one past the last migration that was not additive). An older program that knows at
/// least that many opens the file as it is, and the newer columns stay NULL in what it writes (every
/// additive migration says what NULL means); below the floor it is refused, untouched, with a French
/// message, as before. So a migration that only adds keeps rollbacks working; one that changes or
/// drops must be marked not additive, and then a rollback keeps the file but stops counting until the
/// newer version is back (docs/statistiques.md).
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration { sql: include_str!("../migrations/2026-11-23-01-stats.sql"), additive: false },
    Migration { sql: include_str!("../migrations/2026-12-03-02-visitor.sql"), additive: true },
    Migration { sql: include_str!("../migrations/2026-12-10-03-dimensions.sql"), additive: true },
];

/// How many migrations a program must know to use a file migrated through `migrations` (see
/// [`MIGRATIONS`]).
fn reader_floor(migrations: &[Migration]) -> i64 {
    migrations.iter().rposition(|m| !m.additive).map_or(0, |i| i as i64 + 1)
}

/// The file name of the store in the state directory.
pub const FILE_NAME: &str = "stats.sqlite";

/// The statistics file.
pub struct Store {
    pub(crate) conn: Connection,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the store at `path`: WAL journal, full sync on commit, migrations run.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // The -wal file is reused, not shrunk, after each checkpoint: cap what stays on disk.
        conn.pragma_update(None, "journal_size_limit", 1_048_576)?;
        Store::setup(conn)
    }

    /// A store in memory (tests, dry runs).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Store::setup(Connection::open_in_memory()?)
    }

    fn setup(conn: Connection) -> Result<Store, StoreError> {
        Store::setup_with(conn, MIGRATIONS)
    }

    /// [`Store::setup`] for a program that knows `migrations` (tests play an older program with a
    /// prefix of [`MIGRATIONS`]).
    pub(crate) fn setup_with(mut conn: Connection, migrations: &[Migration]) -> Result<Store, StoreError> {
        // FULL: a commit survives a power cut, not only a killed process. Commits are rare (a few a
        // minute), so the fsync costs nothing a person notices, and never on the UI thread.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted rows are overwritten with zeros: an outbox row (its visitor ids, its marker) leaves
        // nothing behind in the file once Matomo has it.
        conn.pragma_update(None, "secure_delete", "ON")?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let supported = migrations.len() as i64;
        if version > supported {
            // A file from a newer program (a rollback): used as it is when its floor allows it.
            let floor: Option<i64> = tx
                .query_row("SELECT value FROM schema_meta WHERE key = 'reader_floor'", [], |r| r.get(0))
                .optional()
                .unwrap_or(None);
            match floor {
                Some(f) if f <= supported => {
                    tracing::warn!(
                        found = version,
                        supported,
                        floor = f,
                        "statistics file from a newer program (a rollback?): used as it is, its newer columns left alone"
                    );
                    drop(tx);
                    return Ok(Store { conn });
                }
                _ => return Err(StoreError::TooNew { found: version, supported }),
            }
        }
        for (i, m) in migrations.iter().enumerate().skip(version.max(0) as usize) {
            tx.execute_batch(m.sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tracing::info!(version = i + 1, "statistics schema migrated");
        }
        tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")?;
        tx.execute(
            "INSERT INTO schema_meta (key, value) VALUES ('reader_floor', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [reader_floor(migrations)],
        )?;
        tx.commit()?;
        Ok(Store { conn })
    }

    /// Applies recorded operations in one transaction.
    pub fn apply(&mut self, ops: &[Op]) -> Result<(), StoreError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for op in ops {
            apply_op(&tx, op)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// At start: a session left open by a killed or crashed program is counted as ended by a crash,
    /// with the duration band it had reached. Returns whether there was one.
    pub fn close_interrupted_session(&mut self) -> Result<bool, StoreError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let closed = close(&tx, None, EndReason::Crash, None)?;
        tx.commit()?;
        Ok(closed)
    }

    /// Every count, with how much of it Matomo has.
    pub fn rows(&self) -> Result<Vec<CountRow>, StoreError> {
        self.rows_between(Hour(i64::MIN), Hour(i64::MAX))
    }

    /// Counts between two hours (inclusive start, exclusive end).
    pub fn rows_between(&self, from: Hour, to: Hour) -> Result<Vec<CountRow>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT hour, cat, action, n, delivered FROM counts WHERE hour >= ?1 AND hour < ?2 ORDER BY hour, cat, action",
        )?;
        let rows = st.query_map(params![from.0, to.0], |r| {
            Ok(CountRow {
                hour: Hour(r.get(0)?),
                cat: r.get(1)?,
                action: r.get(2)?,
                n: r.get::<_, i64>(3)?.max(0) as u64,
                delivered: r.get::<_, i64>(4)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Totals by `(category, action)` over all time.
    pub fn totals(&self) -> Result<BTreeMap<(String, String), u64>, StoreError> {
        let mut out = BTreeMap::new();
        for r in self.rows()? {
            *out.entry((r.cat, r.action)).or_insert(0) += r.n;
        }
        Ok(out)
    }

    /// Folds the write-ahead log into the file and empties it, so that pages of deleted outbox rows do not
    /// linger in the `-wal` file (the file itself zeroes them: `secure_delete`). Best effort: a reader
    /// holding the log makes it a no-op until the next time.
    pub fn truncate_log(&self) {
        if let Err(e) = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
            tracing::debug!(error = %e, "statistics log not truncated");
        }
    }

    /// Whether a session is open in the file (shown in tests; the shell keeps its own state).
    pub fn has_open_session(&self) -> Result<bool, StoreError> {
        Ok(self.conn.query_row("SELECT count(*) FROM open_session", [], |r| r.get::<_, i64>(0))? > 0)
    }

    /// Counts between two hours (inclusive start, exclusive end), split by the dimensions of the
    /// sessions that made them; what a count has beyond its split (counted before the dimensions
    /// existed, or by an older program) comes as a row with neither mode nor place. Health reports
    /// are no session's and are left out.
    pub fn split_rows_between(&self, from: Hour, to: Hour) -> Result<Vec<SplitRow>, StoreError> {
        let mut out = Vec::new();
        let mut split: BTreeMap<(i64, String, String), u64> = BTreeMap::new();
        {
            let mut st = self.conn.prepare(
                "SELECT hour, cat, action, mode, place, n FROM counts_split
                 WHERE hour >= ?1 AND hour < ?2 AND n > 0 ORDER BY hour, cat, action, mode, place",
            )?;
            let rows = st.query_map(params![from.0, to.0], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?.max(0) as u64,
                ))
            })?;
            for row in rows {
                let (hour, cat, action, mode, place, n) = row?;
                *split.entry((hour, cat.clone(), action.clone())).or_insert(0) += n;
                out.push(SplitRow {
                    hour: Hour(hour),
                    cat,
                    action,
                    mode: Mode::from_code(&mode),
                    place: Some(place).filter(|p| !p.is_empty()),
                    n,
                });
            }
        }
        for r in self.rows_between(from, to)? {
            if r.cat == Category::Health.code() {
                continue;
            }
            let known = split.get(&(r.hour.0, r.cat.clone(), r.action.clone())).copied().unwrap_or(0);
            if r.n > known {
                out.push(SplitRow {
                    hour: r.hour,
                    cat: r.cat,
                    action: r.action,
                    mode: None,
                    place: None,
                    n: r.n - known,
                });
            }
        }
        Ok(out)
    }
}

/// A part of a count: what the sessions of one mode and one place made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitRow {
    /// The hour.
    pub hour: Hour,
    /// Category code.
    pub cat: String,
    /// Action.
    pub action: String,
    /// Accompanied or autonomous; `None`: not recorded (counted without dimensions).
    pub mode: Option<Mode>,
    /// The place's code; `None`: no place (a borne that stays in its centre, no place chosen that
    /// day, or not recorded).
    pub place: Option<String>,
    /// How many.
    pub n: u64,
}

/// One stored count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRow {
    /// The hour.
    pub hour: Hour,
    /// Category code.
    pub cat: String,
    /// Action.
    pub action: String,
    /// How many.
    pub n: u64,
    /// How many Matomo confirmed.
    pub delivered: u64,
}

/// One write of the recorder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A session started at this hour, without dimensions (as a program before them counted).
    Start(Hour),
    /// A session started at this hour, with its dimensions: its counts are split by them, and its end
    /// counts its mode and its place.
    Open {
        /// The session's hour.
        hour: Hour,
        /// Accompanied from the start (marked before anything was counted) or not.
        mode: Mode,
        /// The place's code ([`place_code_ok`]; anything else counts as no place).
        place: Option<String>,
    },
    /// A médiateur marked the session of this hour accompanied: it ends as accompanied, and the
    /// units it counted so far (`(category, action, n)`, the recorder's memory of the session) move
    /// to the accompanied side of the split. Nothing of `counts` changes: Matomo's units are the same.
    Accompany {
        /// The session's hour.
        hour: Hour,
        /// What the session counted so far.
        units: Vec<(Category, String, u64)>,
    },
    /// Units counted in the session of this hour; the session has reached this band.
    Count {
        /// The session's hour.
        hour: Hour,
        /// Category.
        cat: Category,
        /// Action.
        action: String,
        /// How many units.
        n: u32,
        /// The session's duration band so far.
        band: DurationBand,
    },
    /// The session of this hour ended.
    End {
        /// The session's hour.
        hour: Hour,
        /// Why.
        reason: EndReason,
        /// Its duration band.
        band: DurationBand,
    },
}

fn add(tx: &Transaction<'_>, hour: Hour, cat: Category, action: &str, n: u64) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO counts (hour, cat, action, n) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (hour, cat, action) DO UPDATE SET n = n + excluded.n",
        params![hour.0, cat.code(), action, n as i64],
    )?;
    Ok(())
}

/// The dimensions of the session the file holds open.
#[derive(Debug, Clone)]
struct Dims {
    mode: Mode,
    /// '' for none.
    place: String,
}

/// The session the file holds open: its hour, band reached, and dimensions (`None`: opened without).
fn open_row(tx: &Transaction<'_>) -> rusqlite::Result<Option<(Hour, String, Option<Dims>)>> {
    let row: Option<(i64, String, Option<String>, Option<String>)> = tx
        .query_row("SELECT hour, band, mode, place FROM open_session WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    Ok(row.map(|(hour, band, mode, place)| {
        let dims = mode
            .as_deref()
            .and_then(Mode::from_code)
            .map(|mode| Dims { mode, place: place.filter(|p| place_code_ok(p)).unwrap_or_default() });
        (Hour(hour), band, dims)
    }))
}

/// Adds `n` units to the total and, for a session with dimensions, to its part of the split.
fn count(
    tx: &Transaction<'_>,
    hour: Hour,
    cat: Category,
    action: &str,
    n: u64,
    dims: Option<&Dims>,
) -> rusqlite::Result<()> {
    add(tx, hour, cat, action, n)?;
    if let Some(d) = dims {
        add_split(tx, hour, cat.code(), action, d.mode, &d.place, n as i64)?;
    }
    Ok(())
}

fn add_split(
    tx: &Transaction<'_>,
    hour: Hour,
    cat: &str,
    action: &str,
    mode: Mode,
    place: &str,
    n: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO counts_split (hour, cat, action, mode, place, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (hour, cat, action, mode, place) DO UPDATE SET n = n + excluded.n",
        params![hour.0, cat, action, mode.code(), place, n],
    )?;
    Ok(())
}

/// Ends the session the file holds open (only if it is `only`'s, when given): counts how it ended,
/// its band (`band`, or the one reached), and, with dimensions, its mode and its place. Returns
/// whether one was open.
fn close(tx: &Transaction<'_>, only: Option<Hour>, reason: EndReason, band: Option<&str>) -> rusqlite::Result<bool> {
    let Some((hour, reached, dims)) = open_row(tx)? else { return Ok(false) };
    if only.is_some_and(|h| h != hour) {
        return Ok(false);
    }
    tx.execute("DELETE FROM open_session WHERE id = 1", [])?;
    let dims = dims.as_ref();
    count(tx, hour, Category::End, reason.code(), 1, dims)?;
    count(tx, hour, Category::Duration, band.unwrap_or(&reached), 1, dims)?;
    if let Some(d) = dims {
        count(tx, hour, Category::Mode, d.mode.code(), 1, dims)?;
        if !d.place.is_empty() {
            count(tx, hour, Category::Place, &d.place, 1, dims)?;
        }
    }
    Ok(true)
}

/// Opens a session: a start while another session is recorded open means the end was lost, so that
/// one is counted as ended by a crash first.
fn open(tx: &Transaction<'_>, hour: Hour, dims: Option<Dims>) -> rusqlite::Result<()> {
    close(tx, None, EndReason::Crash, None)?;
    count(tx, hour, Category::Session, "start", 1, dims.as_ref())?;
    tx.execute(
        "INSERT OR REPLACE INTO open_session (id, hour, band, mode, place) VALUES (1, ?1, ?2, ?3, ?4)",
        params![
            hour.0,
            DurationBand::Under5.code(),
            dims.as_ref().map(|d| d.mode.code()),
            dims.as_ref().map(|d| d.place.as_str())
        ],
    )?;
    Ok(())
}

fn apply_op(tx: &Transaction<'_>, op: &Op) -> rusqlite::Result<()> {
    match op {
        Op::Start(hour) => open(tx, *hour, None)?,
        Op::Open { hour, mode, place } => {
            let place = place.clone().filter(|p| place_code_ok(p)).unwrap_or_default();
            open(tx, *hour, Some(Dims { mode: *mode, place }))?
        }
        Op::Count { hour, cat, action, n, band } => {
            // The units of the session open at this hour carry its dimensions.
            let dims = open_row(tx)?.filter(|(h, _, _)| h == hour).and_then(|(_, _, d)| d);
            count(tx, *hour, *cat, action, u64::from(*n), dims.as_ref())?;
            tx.execute("UPDATE open_session SET band = ?1 WHERE id = 1 AND hour = ?2", params![band.code(), hour.0])?;
        }
        Op::Accompany { hour, units } => {
            let Some((open_hour, _, Some(d))) = open_row(tx)? else { return Ok(()) };
            if open_hour != *hour || d.mode == Mode::Accompanied {
                return Ok(());
            }
            tx.execute("UPDATE open_session SET mode = ?1 WHERE id = 1", params![Mode::Accompanied.code()])?;
            for (cat, action, n) in units {
                // Never more than the autonomous side holds (a write the disk refused is not there).
                let have: i64 = tx
                    .query_row(
                        "SELECT n FROM counts_split WHERE hour = ?1 AND cat = ?2 AND action = ?3 AND mode = ?4 AND place = ?5",
                        params![hour.0, cat.code(), action, Mode::Autonomous.code(), d.place],
                        |r| r.get(0),
                    )
                    .optional()?
                    .unwrap_or(0);
                let k = have.min(i64::try_from(*n).unwrap_or(i64::MAX));
                if k > 0 {
                    tx.execute(
                        "UPDATE counts_split SET n = n - ?6
                         WHERE hour = ?1 AND cat = ?2 AND action = ?3 AND mode = ?4 AND place = ?5",
                        params![hour.0, cat.code(), action, Mode::Autonomous.code(), d.place, k],
                    )?;
                    add_split(tx, *hour, cat.code(), action, Mode::Accompanied, &d.place, k)?;
                }
            }
            tx.execute("DELETE FROM counts_split WHERE hour = ?1 AND n = 0", params![hour.0])?;
        }
        Op::End { hour, reason, band } => {
            // Only a session the file holds as open can end: never more ends than starts.
            if !close(tx, Some(*hour), *reason, Some(band.code()))? {
                tracing::warn!("session end without an open session in the statistics file; not counted");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
