//! Calendar arithmetic of the contract server: civil days, the time zones a site may have, the `cdt` forms of the
//! tracking API and the `period`/`date` forms of the Reporting API.
//!
//! Instants are unix seconds (`i64`), days are counted from 1970-01-01 (proleptic Gregorian calendar).

use std::fmt;

/// Seconds in a day.
pub(crate) const DAY: i64 = 86_400;

/// A calendar day, as the number of days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Day(pub(crate) i64);

impl Day {
    /// The day `y-m-d`, if it exists.
    pub(crate) fn from_ymd(y: i64, m: u32, d: u32) -> Option<Day> {
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        // Howard Hinnant's days_from_civil.
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (i64::from(m) + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Day(era * 146_097 + doe - 719_468))
    }

    /// Year, month and day of month.
    pub(crate) fn ymd(self) -> (i64, u32, u32) {
        // Howard Hinnant's civil_from_days.
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        (yoe + era * 400 + i64::from(m <= 2), m, d)
    }

    /// Parses `YYYY-MM-DD` (exactly that shape).
    pub(crate) fn parse(s: &str) -> Option<Day> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        Day::from_ymd(i64::from(digits(&s[0..4])?), digits(&s[5..7])?, digits(&s[8..10])?)
    }

    /// The day before.
    pub(crate) fn pred(self) -> Day {
        Day(self.0 - 1)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// The value of a string made of ASCII digits only.
fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A site's time zone: reports bucket days by it, and Live shifts action times by it.
#[derive(Clone, Debug)]
pub(crate) enum Zone {
    /// `UTC` and Matomo's manual offsets, `UTC+2`, `UTC-5`, `UTC+5.5`: the offset in seconds.
    Fixed(i64),
    /// A named zone of the tz database (`Europe/Paris`, `Indian/Reunion`, `America/Guadeloupe`...), with its
    /// summer time rules, read through jiff from the system's database as Matomo reads PHP's.
    Named(jiff::tz::TimeZone),
}

impl Zone {
    /// The zone of a Matomo time zone name, if the contract server knows it: `UTC`, `UTC±N` or a tz database name.
    pub(crate) fn parse(name: &str) -> Option<Zone> {
        if name == "UTC" {
            return Some(Zone::Fixed(0));
        }
        let Some(offset) = name.strip_prefix("UTC") else {
            // Only names with a slash (`Area/City`): Matomo's list has no abbreviations such as `CET`.
            return name.contains('/').then(|| jiff::tz::TimeZone::get(name).ok().map(Zone::Named)).flatten();
        };
        let (sign, hours) = match offset.as_bytes().first()? {
            b'+' => (1.0, &offset[1..]),
            b'-' => (-1.0, &offset[1..]),
            _ => return None,
        };
        if hours.is_empty() || !hours.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return None;
        }
        let hours: f64 = hours.parse().ok()?;
        let quarters = hours * 4.0;
        if hours > 14.0 || quarters.fract() != 0.0 {
            return None;
        }
        Some(Zone::Fixed((sign * quarters * 900.0) as i64))
    }

    /// Offset from UTC, in seconds, at the instant `t`.
    pub(crate) fn offset(&self, t: i64) -> i64 {
        match self {
            Zone::Fixed(offset) => *offset,
            Zone::Named(tz) => match jiff::Timestamp::from_second(t) {
                Ok(instant) => i64::from(tz.to_offset(instant).seconds()),
                Err(_) => 0,
            },
        }
    }

    /// The local day of the instant `t`.
    pub(crate) fn day_of(&self, t: i64) -> Day {
        Day((t + self.offset(t)).div_euclid(DAY))
    }

    /// The local wall time of the instant `t`, read as if it were UTC: what Matomo's `Date::factory($utc,
    /// $timezone)->getTimestamp()` gives, and so what `Live.getLastVisitsDetails` shows as an action's
    /// `timestamp` (3 600 s later than the stored time for Paris in winter, 7 200 s in summer).
    pub(crate) fn shifted(&self, t: i64) -> i64 {
        t + self.offset(t)
    }
}

/// `YYYY-MM-DD HH:MM:SS` of unix seconds, in UTC (Matomo's stored datetimes).
pub(crate) fn datetime(t: i64) -> String {
    let day = Day(t.div_euclid(DAY));
    let s = t.rem_euclid(DAY);
    format!("{day} {:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
}

/// Parses a tracking `cdt`: `YYYY-MM-DD HH:MM:SS` in UTC, or unix seconds.
pub(crate) fn parse_cdt(s: &str) -> Option<i64> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let (date, time) = s.split_once(' ')?;
    let day = Day::parse(date)?;
    let b = time.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, sec) = (digits(&time[0..2])?, digits(&time[3..5])?, digits(&time[6..8])?);
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    Some(day.0 * DAY + i64::from(h * 3600 + m * 60 + sec))
}

/// The days a report covers, from its `period` and `date` parameters.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Window {
    /// One result for the days `from..=to` (`period=day` with one date, or `period=range`).
    One(Day, Day),
    /// One result per day of `from..=to`, keyed by date (`period=day` with a date range).
    PerDay(Day, Day),
}

/// Longest window a report may cover, in days.
const MAX_DAYS: i64 = 3660;

impl Window {
    /// Resolves `period` (`day` or `range`) and `date` (`YYYY-MM-DD`, `today`, `yesterday`, `lastN`,
    /// `previousN`, or two of the single forms separated by a comma) for a site whose current day is `today`.
    pub(crate) fn resolve(period: &str, date: &str, today: Day) -> Result<Window, String> {
        let single = |s: &str| match s {
            "today" => Some(today),
            "yesterday" => Some(today.pred()),
            s => Day::parse(s),
        };
        let count = |n: &str| digits(n).filter(|n| (1..=MAX_DAYS as u32).contains(n)).map(i64::from);
        let bad_date = || format!("The date '{date}' is not a correct date.");
        let (from, to, is_range) = if let Some(n) = date.strip_prefix("last") {
            let n = count(n).ok_or_else(bad_date)?;
            (Day(today.0 - n + 1), today, true)
        } else if let Some(n) = date.strip_prefix("previous") {
            let n = count(n).ok_or_else(bad_date)?;
            (Day(today.0 - n), today.pred(), true)
        } else if let Some((from, to)) = date.split_once(',') {
            (single(from).ok_or_else(bad_date)?, single(to).ok_or_else(bad_date)?, true)
        } else {
            let day = single(date).ok_or_else(bad_date)?;
            (day, day, false)
        };
        if from > to || to.0 - from.0 >= MAX_DAYS {
            return Err(format!("The date range '{date}' is not valid."));
        }
        match (period, is_range) {
            ("day", false) | ("range", true) => Ok(Window::One(from, to)),
            ("day", true) => Ok(Window::PerDay(from, to)),
            ("range", false) => Err(format!("The date '{date}' is not a correct date range.")),
            (other, _) => Err(format!("The period '{other}' is not supported by the contract server (day, range).")),
        }
    }

    /// First and last day covered.
    pub(crate) fn bounds(&self) -> (Day, Day) {
        match *self {
            Window::One(from, to) | Window::PerDay(from, to) => (from, to),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(date: &str) -> i64 {
        parse_cdt(date).unwrap()
    }

    #[test]
    fn days_round_trip_and_print() {
        for n in [-800_000, -1, 0, 1, 59, 60, 11_016, 20_759, 20_760, 2_932_896] {
            let (y, m, d) = Day(n).ymd();
            assert_eq!(Day::from_ymd(y, m, d), Some(Day(n)));
        }
        assert_eq!(Day(0).to_string(), "1970-01-01");
        assert_eq!(Day::parse("2024-02-29").unwrap().to_string(), "2024-02-29");
        assert_eq!(Day::parse("2023-02-29"), None);
        assert_eq!(Day::parse("2023-2-28"), None);
        assert_eq!(Day::parse("2023-13-01"), None);
    }

    #[test]
    fn cdt_forms() {
        assert_eq!(parse_cdt("1970-01-02 00:00:01"), Some(DAY + 1));
        assert_eq!(parse_cdt("1700000000"), Some(1_700_000_000));
        assert_eq!(parse_cdt("2026-11-02T10:00:00"), None);
        assert_eq!(parse_cdt("2026-11-02 24:00:00"), None);
        assert_eq!(parse_cdt(""), None);
    }

    #[test]
    fn paris_follows_eu_summer_time() {
        // 2026: summer time from Sunday 29 March 01:00 UTC to Sunday 25 October 01:00 UTC.
        let paris = Zone::parse("Europe/Paris").unwrap();
        assert_eq!(paris.offset(at("2026-03-29 00:59:59")), 3600);
        assert_eq!(paris.offset(at("2026-03-29 01:00:00")), 7200);
        assert_eq!(paris.offset(at("2026-10-25 00:59:59")), 7200);
        assert_eq!(paris.offset(at("2026-10-25 01:00:00")), 3600);
        assert_eq!(paris.day_of(at("2026-11-01 23:30:00")).to_string(), "2026-11-02");
        assert_eq!(paris.day_of(at("2026-07-01 21:59:59")).to_string(), "2026-07-01");
        assert_eq!(paris.day_of(at("2026-07-01 22:00:00")).to_string(), "2026-07-02");
        assert_eq!(Zone::parse("UTC").unwrap().day_of(at("2026-11-01 23:30:00")).to_string(), "2026-11-01");
    }

    #[test]
    fn manual_offsets() {
        let offset = |name: &str| Zone::parse(name).map(|zone| zone.offset(at("2026-11-02 10:00:00")));
        assert_eq!(offset("UTC+5.5"), Some(19_800));
        assert_eq!(offset("UTC-3"), Some(-10_800));
        assert_eq!(offset("UTC+5.3"), None);
        assert_eq!(offset("CET"), None);
        assert_eq!(offset("Nowhere/Atlantis"), None);
    }

    #[test]
    fn overseas_zones_have_no_summer_time() {
        for date in ["2026-01-15 12:00:00", "2026-07-15 12:00:00"] {
            assert_eq!(Zone::parse("Indian/Reunion").unwrap().offset(at(date)), 4 * 3600);
            assert_eq!(Zone::parse("America/Guadeloupe").unwrap().offset(at(date)), -4 * 3600);
        }
    }

    #[test]
    fn live_times_are_local_wall_times_read_as_utc() {
        let paris = Zone::parse("Europe/Paris").unwrap();
        assert_eq!(paris.shifted(at("2026-12-01 09:00:00")), at("2026-12-01 10:00:00"));
        assert_eq!(paris.shifted(at("2026-07-01 09:00:00")), at("2026-07-01 11:00:00"));
        // The night clocks go back, two stored hours show the same local time.
        assert_eq!(paris.shifted(at("2026-10-25 00:30:00")), paris.shifted(at("2026-10-25 01:30:00")));
        assert_eq!(datetime(at("2026-10-25 01:30:05")), "2026-10-25 01:30:05");
    }

    #[test]
    fn windows() {
        let today = Day::parse("2026-11-10").unwrap();
        let day = |s| Day::parse(s).unwrap();
        assert_eq!(Window::resolve("day", "today", today), Ok(Window::One(today, today)));
        assert_eq!(Window::resolve("day", "yesterday", today), Ok(Window::One(day("2026-11-09"), day("2026-11-09"))));
        assert_eq!(Window::resolve("day", "last3", today), Ok(Window::PerDay(day("2026-11-08"), today)));
        assert_eq!(Window::resolve("range", "previous7", today), Ok(Window::One(day("2026-11-03"), day("2026-11-09"))));
        assert_eq!(Window::resolve("range", "2026-11-01,today", today), Ok(Window::One(day("2026-11-01"), today)));
        assert!(Window::resolve("range", "2026-11-01", today).is_err());
        assert!(Window::resolve("month", "today", today).is_err());
        assert!(Window::resolve("day", "2026-11-05,2026-11-01", today).is_err());
        assert!(Window::resolve("day", "last0", today).is_err());
    }
}
