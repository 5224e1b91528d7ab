//! Opening hours that act: the `[hours]` table of `borne.toml` (days, one or two ranges a day,
//! exceptional closures by date), the sentences that say them in each offered language, and the
//! pure decision of what the borne shows at a given instant (open, closed screen, dark screen,
//! power-off with a wake time). Knows nothing of the webview, the compositor or `rtcwake`: the shell
//! asks, this module answers, and a test clock walks it through weeks without sleeping.
//!
//! # What the shell calls
//!
//! - `settings.hours: Option<HoursPlan>`: `None` when `[hours]` is absent or opens no day; the borne
//!   then behaves as before (no closed screen, `[centre] opening_hours` shown as written).
//! - [`HoursPlan::mode`]`(now, session_open, idle_for) -> Mode`, on each tick of the idle clock,
//!   at the end of each session, on input, and when the settings change:
//!   - [`Mode::Open`]: the portal as usual (the display on again if it was dark);
//!   - [`Mode::SessionWhileClosed`]: outside the hours a person's session is still open (it ran past
//!     closing time, or the person chose « Utiliser la borne quand même »): never cut it, ask again
//!     when it ends (the closed screen then comes);
//!   - [`Mode::Closed`]: the calm closed screen with the next opening and where to get help, and a
//!     « use it anyway » button when `usable` (`use_when_closed = true`);
//!   - [`Mode::Dark`]: the display off, else a black page; any key or mouse move wakes it (the idle
//!     clock restarts, so the next `mode` is `Closed`) onto a clean portal. Cage does not implement
//!     `wlr-output-power-management` (cage-kiosk/cage#245; pull requests #478, #512, #529 still
//!     open), and switching the output off through `wlr-output-management` takes it out of the
//!     layout (cage exits when no output is left): the black page is the sure way under cage, with
//!     the backlight (`/sys/class/backlight`) or DDC/CI (`ddcutil setvcp D6`) where they exist;
//!   - [`Mode::PowerOff`]: program the firmware's clock with `wake_at` (`rtcwake -m no -t <epoch>`)
//!     then power off through logind. Only with `power_off = true`, no session, closed, idle, and
//!     the next opening far enough away.
//! - [`HoursPlan::recheck_at`]`(now, session_open, idle_for)`: when to ask `mode` again at the latest
//!   (the next opening or closing, the moment the screen should go dark, and at least hourly).
//! - [`HoursPlan::sentence`]`(lang)`: the week in one line, as `opening_hours` was
//!   (« Du lundi au vendredi, de 9 h à 12 h et de 14 h à 17 h »); [`HoursPlan::status`]`(now, lang)`:
//!   « Ouvert aujourd'hui jusqu'à 17 h » or « Prochaine ouverture : mardi à 9 h ».
//!   `crate::config::Settings::hours_sentence` gives the sentence or the free text, and
//!   `crate::catalogue::PortalData` already carries it as `centre.opening_hours`.
//!
//! Instants go in as [`Timestamp`]s; hours are civil times in the centre's time zone
//! (`[stats] time_zone`, Europe/Paris by default), so the days the clocks change are right.
//! The words of the sentences are in `config/i18n/hours.toml`, one table per language, built in.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ZonedDateTime};
use serde::Deserialize;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

pub use crate::diag::{HoursError, MAX_RANGES};

use crate::diag::{Diagnostic, Problem, Source};

/// The days of the week as `[hours]` names them, Monday first.
pub const DAYS: [&str; 7] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
/// The other keys of `[hours]`.
pub const OTHER_KEYS: [&str; 5] =
    ["closures", "use_when_closed", "dark_after_minutes", "power_off", "wake_before_minutes"];
/// Idle minutes before the screen goes dark when closed, when `[hours]` does not say.
pub const DEFAULT_DARK_AFTER_MINUTES: u32 = 10;
/// Minutes the borne wakes before opening after a power-off, when `[hours]` does not say.
pub const DEFAULT_WAKE_BEFORE_MINUTES: u32 = 15;
/// Whether the borne may be used outside the hours when `[hours]` does not say: yes (the closed
/// screen is informative); a centre that wants it closed writes `use_when_closed = false`.
pub const DEFAULT_USE_WHEN_CLOSED: bool = true;
/// A power-off is worth it only when the borne stays off at least this long (not over a lunch
/// break: fewer power cycles, and a borne that is up when the accueil reopens).
pub const MIN_POWER_OFF: SignedDuration = SignedDuration::from_hours(2);
/// The shell asks again at least this often (clock changes, a missed tick).
pub const MAX_RECHECK: SignedDuration = SignedDuration::from_hours(1);
/// How far ahead the next opening is looked for (a long exceptional closure included).
const HORIZON_DAYS: usize = 400;
const MINUTES_A_DAY: u16 = 24 * 60;

/// The words of the sentences, one table per language.
pub const HOURS_TEXTS: &str = include_str!("../../../config/i18n/hours.toml");

/// One opening range of a day, in minutes since midnight (`end` may be 24:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Range {
    /// First minute open.
    pub start: u16,
    /// First minute closed again.
    pub end: u16,
}

impl Range {
    fn contains(self, minute: u16) -> bool {
        self.start <= minute && minute < self.end
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{:02}-{}:{:02}", self.start / 60, self.start % 60, self.end / 60, self.end % 60)
    }
}

/// An exceptional closure: whole days, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closure {
    /// First day closed.
    pub first: Date,
    /// Last day closed.
    pub last: Date,
}

impl fmt::Display for Closure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}..{}", self.first, self.last)
        }
    }
}

/// The checked `[hours]`: the week, the closures and what the borne does outside the hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoursPlan {
    week: [Vec<Range>; 7],
    closures: Vec<Closure>,
    /// The borne may still be used outside the hours (the closed screen has a button).
    pub use_when_closed: bool,
    /// Idle minutes before the screen goes dark when closed.
    pub dark_after_minutes: u32,
    /// Power off after closing and wake before opening (rtcwake).
    pub power_off: bool,
    /// Minutes the borne wakes before opening.
    pub wake_before_minutes: u32,
    time_zone: String,
}

/// What the borne should show now (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Inside the hours: the portal as usual.
    Open,
    /// Outside the hours with a session open: leave it alone; ask again when it ends.
    SessionWhileClosed {
        /// The next opening, if any is planned.
        next_opening: Option<ZonedDateTime>,
    },
    /// The closed screen.
    Closed {
        /// The next opening, if any is planned.
        next_opening: Option<ZonedDateTime>,
        /// « Utiliser la borne quand même » is offered.
        usable: bool,
    },
    /// The screen dark; any input wakes it.
    Dark {
        /// The next opening, if any is planned.
        next_opening: Option<ZonedDateTime>,
        /// Woken, the closed screen offers to use the borne anyway.
        usable: bool,
    },
    /// Power off now, the firmware's clock set to wake the borne at `wake_at`.
    PowerOff {
        /// When the borne must be up again.
        wake_at: ZonedDateTime,
    },
}

impl Mode {
    /// Stable code for the screens (`hours.mode.<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            Mode::Open => "open",
            Mode::SessionWhileClosed { .. } => "session-while-closed",
            Mode::Closed { .. } => "closed",
            Mode::Dark { .. } => "dark",
            Mode::PowerOff { .. } => "power-off",
        }
    }
}

impl HoursPlan {
    /// The plan of `week` (Monday first, ranges taken as they are: the checked plan of the settings
    /// comes from [`parse_section`]) with the defaults for the rest.
    pub fn new(week: [Vec<Range>; 7], closures: Vec<Closure>, time_zone: &str) -> HoursPlan {
        HoursPlan {
            week,
            closures,
            use_when_closed: DEFAULT_USE_WHEN_CLOSED,
            dark_after_minutes: DEFAULT_DARK_AFTER_MINUTES,
            power_off: false,
            wake_before_minutes: DEFAULT_WAKE_BEFORE_MINUTES,
            time_zone: time_zone.to_string(),
        }
    }

    /// The ranges of a day (0 = Monday).
    pub fn day(&self, index: usize) -> &[Range] {
        self.week.get(index).map_or(&[], Vec::as_slice)
    }

    /// A day as `[hours]` writes it: "9:00-12:00, 14:00-17:00", "" when closed.
    pub fn day_text(&self, index: usize) -> String {
        self.day(index).iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }

    /// The exceptional closures, as written.
    pub fn closures(&self) -> &[Closure] {
        &self.closures
    }

    /// The centre's time zone.
    pub fn zone(&self) -> TimeZone {
        TimeZone::get(&self.time_zone).unwrap_or(TimeZone::UTC)
    }

    fn closed_on(&self, date: Date) -> bool {
        self.closures.iter().any(|c| c.first <= date && date <= c.last)
    }

    fn ranges_on(&self, date: Date) -> &[Range] {
        if self.closed_on(date) {
            return &[];
        }
        self.day(date.weekday().to_monday_zero_offset() as usize)
    }

    fn open_at(&self, t: Timestamp, tz: &TimeZone) -> bool {
        let z = t.to_zoned_datetime(tz.clone());
        let minute = (z.hour() as u16) * 60 + z.minute() as u16;
        self.ranges_on(z.date()).iter().any(|r| r.contains(minute))
    }

    /// Whether the accueil is open at `now`.
    pub fn is_open(&self, now: Timestamp) -> bool {
        self.open_at(now, &self.zone())
    }

    /// The instants of a day where the state may change, in order: midnight, each range's start
    /// and end (civil times), and the clock change of that day if any (a range starting in the
    /// skipped hour is open from the change on).
    fn points(&self, date: Date, tz: &TimeZone) -> Vec<Timestamp> {
        let at = |minute: u16| {
            date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0)
                .to_zoned_datetime(tz.clone())
                .ok()
                .map(|z| z.timestamp())
        };
        let mut out: Vec<Timestamp> = std::iter::once(0)
            .chain(self.week[date.weekday().to_monday_zero_offset() as usize].iter().flat_map(|r| [r.start, r.end]))
            .filter(|m| *m < MINUTES_A_DAY)
            .filter_map(at)
            .collect();
        if let Some(midnight) = at(0) {
            let changes = tz.following(midnight).take(2).map(|t| t.timestamp());
            out.extend(changes.filter(|t| t.to_zoned_datetime(tz.clone()).date() == date));
        }
        out.sort();
        out
    }

    /// The first instant after `now` where the state becomes `want` (any change for `None`).
    fn first_edge(&self, now: Timestamp, want: Option<bool>) -> Option<Timestamp> {
        let tz = self.zone();
        let mut state = self.open_at(now, &tz);
        let mut date = now.to_zoned_datetime(tz.clone()).date();
        for _ in 0..HORIZON_DAYS {
            for p in self.points(date, &tz).into_iter().filter(|p| *p > now) {
                let s = self.open_at(p, &tz);
                if s != state {
                    state = s;
                    if want.is_none_or(|w| w == s) {
                        return Some(p);
                    }
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// The next instant (after `now`) the accueil opens: `None` when nothing opens within a year.
    pub fn next_opening(&self, now: Timestamp) -> Option<ZonedDateTime> {
        self.first_edge(now, Some(true)).map(|t| t.to_zoned_datetime(self.zone()))
    }

    /// The next instant (after `now`) the accueil closes.
    pub fn next_closing(&self, now: Timestamp) -> Option<ZonedDateTime> {
        self.first_edge(now, Some(false)).map(|t| t.to_zoned_datetime(self.zone()))
    }

    /// The next opening or closing after `now`.
    pub fn next_change(&self, now: Timestamp) -> Option<ZonedDateTime> {
        self.first_edge(now, None).map(|t| t.to_zoned_datetime(self.zone()))
    }

    fn dark_after(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.dark_after_minutes))
    }

    /// When the borne, powered off after `now`, must wake: `wake_before_minutes` before the next
    /// opening.
    pub fn wake_time(&self, now: Timestamp) -> Option<ZonedDateTime> {
        let opening = self.next_opening(now)?;
        let wake = opening.timestamp() - SignedDuration::from_mins(i64::from(self.wake_before_minutes));
        Some(wake.to_zoned_datetime(self.zone()))
    }

    /// What the borne shows at `now`: `session_open` when a person's session is open, `idle_for`
    /// the time since the last input on the borne.
    pub fn mode(&self, now: Timestamp, session_open: bool, idle_for: Duration) -> Mode {
        if self.is_open(now) {
            return Mode::Open;
        }
        let next_opening = self.next_opening(now);
        if session_open {
            return Mode::SessionWhileClosed { next_opening };
        }
        let usable = self.use_when_closed;
        if signed(idle_for) < self.dark_after() {
            return Mode::Closed { next_opening, usable };
        }
        if self.power_off {
            if let Some(wake_at) = self.wake_time(now) {
                if now.duration_until(wake_at.timestamp()) >= MIN_POWER_OFF {
                    return Mode::PowerOff { wake_at };
                }
            }
        }
        Mode::Dark { next_opening, usable }
    }

    /// When to ask [`HoursPlan::mode`] again at the latest, the state unchanged otherwise (the shell
    /// also asks on input, at the end of a session and when the settings change).
    pub fn recheck_at(&self, now: Timestamp, session_open: bool, idle_for: Duration) -> Timestamp {
        let mut at = now + MAX_RECHECK;
        if let Some(change) = self.next_change(now) {
            at = at.min(change.timestamp());
        }
        let idle = signed(idle_for);
        if !session_open && idle < self.dark_after() && !self.is_open(now) {
            at = at.min(now + (self.dark_after() - idle));
        }
        at
    }

    /// The week in one line in `lang` (French when the language has no words).
    pub fn sentence(&self, lang: &str) -> String {
        let w = texts(lang);
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for (i, day) in self.week.iter().enumerate() {
            if day.is_empty() {
                continue;
            }
            match runs.last_mut() {
                Some((_, last)) if *last + 1 == i && self.week[*last] == *day => *last = i,
                _ => runs.push((i, i)),
            }
        }
        let ranges = |i: usize| {
            self.week[i]
                .iter()
                .map(|r| fill(&w.range, &[("start", &w.time(r.start)), ("end", &w.time(r.end))]))
                .collect::<Vec<_>>()
                .join(&w.and)
        };
        let groups: Vec<String> = runs
            .iter()
            .map(|&(first, last)| {
                let days = match last - first {
                    6 => w.every_day.clone(),
                    0 => fill(&w.one_day, &[("day", w.day(first))]),
                    1 => fill(&w.two_days, &[("first", w.day(first)), ("second", w.day(last))]),
                    _ => fill(&w.day_span, &[("first", w.day(first)), ("last", w.day(last))]),
                };
                fill(&w.group, &[("days", &days), ("ranges", &ranges(first))])
            })
            .collect();
        capitalise(&groups.join(&w.groups))
    }

    /// Today's line in `lang`: « Ouvert aujourd'hui jusqu'à 17 h » when open, else « Prochaine
    /// ouverture : mardi à 9 h ».
    pub fn status(&self, now: Timestamp, lang: &str) -> String {
        let w = texts(lang);
        let today = now.to_zoned_datetime(self.zone()).date();
        if self.is_open(now) {
            return match self.next_closing(now) {
                Some(c) if c.date() == today => fill(&w.open_until, &[("time", &w.clock(&c))]),
                _ => w.open_now.clone(),
            };
        }
        match self.next_opening(now) {
            Some(o) => fill(&w.next_opening, &[("when", &w.when(&o, today))]),
            None => w.no_opening.clone(),
        }
    }
}

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_string(), |acc, (k, v)| acc.replace(&format!("{{{k}}}"), v))
}

/// The words of the sentences in one language (`config/i18n/hours.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursTexts {
    /// Monday to Sunday.
    pub days: Vec<String>,
    /// January to December (as after a day's number).
    pub months: Vec<String>,
    /// One day: « le {day} ».
    pub one_day: String,
    /// Two days in a row: « le {first} et le {second} ».
    pub two_days: String,
    /// Three days or more in a row: « du {first} au {last} ».
    pub day_span: String,
    /// The seven days alike.
    pub every_day: String,
    /// A range: « de {start} à {end} ».
    pub range: String,
    /// Between the two ranges of a day.
    pub and: String,
    /// Days and their ranges: « {days}, {ranges} ».
    pub group: String,
    /// Between groups of days.
    pub groups: String,
    /// A time on the hour: « {h} h ».
    pub hour: String,
    /// Another time: « {h} h {mm} ».
    pub hour_minutes: String,
    /// The first day of a month (« 1er »).
    pub first_of_month: String,
    /// Open now, closing today: « Ouvert aujourd'hui jusqu'à {time} ».
    pub open_until: String,
    /// Open now, closing another day.
    pub open_now: String,
    /// « Prochaine ouverture : {when} ».
    pub next_opening: String,
    /// Nothing opens within a year.
    pub no_opening: String,
    /// « aujourd'hui à {time} ».
    pub today_at: String,
    /// « demain à {time} ».
    pub tomorrow_at: String,
    /// Within a week: « {day} à {time} ».
    pub weekday_at: String,
    /// Later: « {day} {date} {month} à {time} ».
    pub date_at: String,
}

impl HoursTexts {
    fn day(&self, index: usize) -> &str {
        self.days.get(index).map_or("", String::as_str)
    }

    fn time(&self, minutes: u16) -> String {
        let (h, m) = ((minutes / 60).to_string(), format!("{:02}", minutes % 60));
        if minutes.is_multiple_of(60) {
            fill(&self.hour, &[("h", &h)])
        } else {
            fill(&self.hour_minutes, &[("h", &h), ("mm", &m)])
        }
    }

    fn clock(&self, z: &ZonedDateTime) -> String {
        self.time(z.hour() as u16 * 60 + z.minute() as u16)
    }

    fn when(&self, at: &ZonedDateTime, today: Date) -> String {
        let time = self.clock(at);
        let days = today.duration_until(at.date()).as_secs() / 86_400;
        let day = self.day(at.weekday().to_monday_zero_offset() as usize);
        match days {
            0 => fill(&self.today_at, &[("time", &time)]),
            1 => fill(&self.tomorrow_at, &[("time", &time)]),
            2..=6 => fill(&self.weekday_at, &[("day", day), ("time", &time)]),
            _ => {
                let date = if at.day() == 1 { self.first_of_month.clone() } else { at.day().to_string() };
                let month = self.months.get(at.month() as usize - 1).map_or("", String::as_str);
                fill(&self.date_at, &[("day", day), ("date", &date), ("month", month), ("time", &time)])
            }
        }
    }
}

fn all_texts() -> &'static BTreeMap<String, HoursTexts> {
    static TEXTS: OnceLock<BTreeMap<String, HoursTexts>> = OnceLock::new();
    TEXTS.get_or_init(|| {
        toml::from_str(HOURS_TEXTS).unwrap_or_else(|e| {
            tracing::error!(error = %e, "config/i18n/hours.toml unreadable; the hours are written as in the settings");
            BTreeMap::new()
        })
    })
}

/// The words in `lang`, French when the language has none.
pub fn texts(lang: &str) -> HoursTexts {
    let all = all_texts();
    all.get(lang).or_else(|| all.get("fr")).cloned().unwrap_or_else(|| HoursTexts {
        // Only if the built-in file were broken (a test forbids it): the settings' own notation.
        days: DAYS.iter().map(|d| d.to_string()).collect(),
        months: (1..=12).map(|m| format!("/{m:02}")).collect(),
        one_day: "{day}".into(),
        two_days: "{first}, {second}".into(),
        day_span: "{first}-{last}".into(),
        every_day: "lundi-dimanche".into(),
        range: "{start}-{end}".into(),
        and: ", ".into(),
        group: "{days} {ranges}".into(),
        groups: " ; ".into(),
        hour: "{h}:00".into(),
        hour_minutes: "{h}:{mm}".into(),
        first_of_month: "1".into(),
        open_until: "→ {time}".into(),
        open_now: "✓".into(),
        next_opening: "→ {when}".into(),
        no_opening: "—".into(),
        today_at: "{time}".into(),
        tomorrow_at: "{time}".into(),
        weekday_at: "{day} {time}".into(),
        date_at: "{day} {date}{month} {time}".into(),
    })
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// One time of day: "9", "9h", "9 h 30", "09:30", "9.30", "24:00" (an end only), in minutes.
fn parse_time(text: &str) -> Option<u16> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let t = t.strip_suffix('h').unwrap_or(&t);
    let (h, m) = match t.find([':', 'h', '.']) {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t, ""),
    };
    let digits =
        |s: &str, n: std::ops::RangeInclusive<usize>| n.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h, 1..=2) || !(m.is_empty() || digits(m, 2..=2)) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, if m.is_empty() { 0 } else { m.parse().ok()? });
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// A day's text: "" or « fermé » (closed), one or two ranges separated by a comma, « ; » or « et »;
/// a range is two times separated by « - » or « à ».
pub fn parse_day(day: &str, text: &str) -> Result<Vec<Range>, HoursError> {
    let lower = text.trim().to_lowercase();
    if lower.is_empty() || lower == "fermé" || lower == "ferme" {
        return Ok(Vec::new());
    }
    let bad = || HoursError::BadRanges { day: day.to_string(), text: text.trim().to_string() };
    let norm = lower.replace(['–', '—', '‑', '−'], "-").replace(" à ", "-").replace(" et ", ",").replace(';', ",");
    let mut ranges = Vec::new();
    for part in norm.split(',') {
        let part = part.trim();
        let part = part.strip_prefix("de ").unwrap_or(part).trim();
        let (a, b) = part.split_once('-').ok_or_else(bad)?;
        let (start, end) = (parse_time(a).ok_or_else(bad)?, parse_time(b).ok_or_else(bad)?);
        if start >= MINUTES_A_DAY {
            return Err(bad());
        }
        if end <= start {
            return Err(HoursError::EndBeforeStart { day: day.to_string(), range: part.to_string() });
        }
        ranges.push(Range { start, end });
    }
    if ranges.len() > MAX_RANGES {
        return Err(HoursError::TooManyRanges { day: day.to_string(), count: ranges.len() });
    }
    ranges.sort();
    if let [a, b] = ranges.as_slice() {
        if b.start < a.end {
            return Err(HoursError::Overlap { day: day.to_string(), first: a.to_string(), second: b.to_string() });
        }
    }
    Ok(ranges)
}

fn parse_date(text: &str) -> Option<Date> {
    let t = text.trim();
    if let Some((d, rest)) = t.split_once('/') {
        let (m, y) = rest.split_once('/')?;
        return Date::new(y.trim().parse().ok()?, m.trim().parse().ok()?, d.trim().parse().ok()?).ok();
    }
    if t.len() != 10 {
        return None;
    }
    t.parse().ok()
}

/// An exceptional closure: "2026-12-24", "2026-12-25..2027-01-01" (both days closed), or the same
/// as « 24/12/2026 » and « 25/12/2026 au 01/01/2027 ».
pub fn parse_closure(text: &str) -> Result<Closure, HoursError> {
    let bad = || HoursError::BadDate(text.trim().to_string());
    let (a, b) = text.split_once("..").or_else(|| text.split_once(" au ")).unwrap_or((text, text));
    let (first, last) = (parse_date(a).ok_or_else(bad)?, parse_date(b).ok_or_else(bad)?);
    if last < first {
        return Err(HoursError::ReversedPeriod(text.trim().to_string()));
    }
    Ok(Closure { first, last })
}

fn integer(v: &DeValue<'_>) -> Option<i64> {
    let n = v.as_integer()?;
    i64::from_str_radix(&n.as_str().replace('_', ""), n.radix()).ok()
}

/// The `[hours]` table of `src` checked: `None` when it is absent or opens no day (the borne then
/// behaves as without it). Problems go to `out`, located in `src`.
pub fn parse_section(src: &Source<'_>, time_zone: &str, out: &mut Vec<Diagnostic>) -> Option<HoursPlan> {
    let root = DeTable::parse(src.text).ok()?;
    let value = root.get_ref().get("hours")?;
    let DeValue::Table(table) = value.get_ref() else {
        out.push(src.at(&value.span(), Problem::Hours(HoursError::NotATable)));
        return None;
    };
    let before = out.len();
    let mut plan = HoursPlan::new(Default::default(), Vec::new(), time_zone);
    let mut seen: [Option<String>; 7] = Default::default();
    // In the file's order, so that a day written twice is reported where it is written again.
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    for (key, value) in entries {
        let name: &str = key.get_ref();
        let at = |p: Problem| src.at(&value.span(), p);
        let lower = name.trim().to_lowercase();
        if let Some(i) = DAYS.iter().position(|d| *d == lower) {
            if seen[i].replace(name.to_string()).is_some() {
                out.push(src.at(&key.span(), Problem::Hours(HoursError::DayTwice(DAYS[i].into()))));
                continue;
            }
            match value.get_ref().as_str() {
                Some(text) => match parse_day(DAYS[i], text) {
                    Ok(r) => plan.week[i] = r,
                    Err(e) => out.push(at(Problem::Hours(e))),
                },
                None => out.push(at(Problem::Hours(HoursError::NotText(DAYS[i].into())))),
            }
            continue;
        }
        match name {
            "closures" => match value.get_ref().as_array() {
                Some(items) => {
                    for item in items.iter() {
                        let text = match item.get_ref() {
                            DeValue::String(s) => s.to_string(),
                            DeValue::Datetime(d) if d.time.is_none() => d.to_string(),
                            other => other.type_str().to_string(),
                        };
                        match parse_closure(&text) {
                            Ok(c) => plan.closures.push(c),
                            Err(e) => out.push(src.at(&item.span(), Problem::Hours(e))),
                        }
                    }
                }
                None => out.push(at(Problem::Hours(HoursError::NotList))),
            },
            "use_when_closed" | "power_off" => match value.get_ref().as_bool() {
                Some(b) if name == "power_off" => plan.power_off = b,
                Some(b) => plan.use_when_closed = b,
                None => out.push(at(Problem::Type(format!("invalid type: expected a boolean for `hours.{name}`")))),
            },
            "dark_after_minutes" | "wake_before_minutes" => {
                let (min, max) = if name == "dark_after_minutes" { (1, 240) } else { (5, 240) };
                match integer(value.get_ref()) {
                    Some(n) if (min..=max).contains(&n) => {
                        let n = n as u32;
                        if name == "dark_after_minutes" {
                            plan.dark_after_minutes = n
                        } else {
                            plan.wake_before_minutes = n
                        }
                    }
                    _ => out.push(at(Problem::OutOfRange { key: format!("hours.{name}"), min, max })),
                }
            }
            _ => {
                let suggestion = DAYS
                    .iter()
                    .chain(OTHER_KEYS.iter())
                    .map(|k| (strsim::jaro_winkler(k, &lower), *k))
                    .filter(|(score, _)| *score > 0.8)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, k)| k.to_owned());
                let problem = match suggestion {
                    Some(s) => Problem::UnknownKey { key: name.to_string(), suggestion: Some(s) },
                    None => Problem::Hours(HoursError::UnknownDay(name.to_string())),
                };
                out.push(src.at(&key.span(), problem));
            }
        }
    }
    out[before..].sort_by_key(|d| (d.line, d.column));
    if out.len() > before || plan.week.iter().all(Vec::is_empty) {
        return None;
    }
    Some(plan)
}

/// The `opening_hours` span of `[centre]`, when `[hours]` makes it unused (a note for the référent).
pub(crate) fn text_ignored(src: &Source<'_>, opening_hours: &Spanned<String>) -> Diagnostic {
    src.at_value(opening_hours, Problem::Hours(HoursError::TextIgnored))
}

#[cfg(test)]
mod tests;
