//! A test clock walks the borne through weeks: before opening, opening, the lunch break, closing,
//! a session running at closing time, the dark screen, exceptional closures (one spanning the new
//! year), power-off plans over weekends and the nights the clocks change; the settings as the
//! référent writes them, right and wrong; the sentences in French, English and Arabic.

use std::path::Path;

use jiff::civil::DateTime;
use proptest::prelude::*;

use super::*;
use crate::config::{parse_settings, KNOWN_LANGUAGES};

/// Monday to Friday 9–12 and 14–17, Saturday 9–12; closed on 24 December and from Christmas to
/// New Year's Day; not usable when closed.
const WEEK: &str = "[hours]
lundi = \"9:00-12:00, 14:00-17:00\"
mardi = \"9:00-12:00, 14:00-17:00\"
mercredi = \"9:00-12:00, 14:00-17:00\"
jeudi = \"9:00-12:00, 14:00-17:00\"
vendredi = \"9:00-12:00, 14:00-17:00\"
samedi = \"9h-12h\"
dimanche = \"\"
closures = [\"2026-12-24\", \"2026-12-25..2027-01-01\"]
use_when_closed = false
dark_after_minutes = 10
power_off = false
wake_before_minutes = 15
";

/// The shipped settings with the hours of the shipped sentence filled in (as a référent would).
fn shipped_with_hours() -> String {
    let mut text = crate::load::BUILTIN_SETTINGS.to_string();
    for day in ["lundi", "mardi", "mercredi", "jeudi", "vendredi"] {
        text = text.replacen(&format!("\n{day} = \"\""), &format!("\n{day} = \"9:00-12:00, 14:00-17:00\""), 1);
    }
    text
}

fn plan(text: &str) -> HoursPlan {
    parse_settings(Path::new("borne.toml"), text).unwrap().hours.expect("structured hours")
}

fn paris() -> TimeZone {
    TimeZone::get("Europe/Paris").unwrap()
}

/// A civil time in Paris ("2026-12-07T09:00").
fn z(civil: &str) -> ZonedDateTime {
    civil.parse::<DateTime>().unwrap().to_zoned_datetime(paris()).unwrap()
}

fn at(civil: &str) -> Timestamp {
    z(civil).timestamp()
}

fn mins(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

#[derive(Debug)]
enum Want {
    Open,
    Session(&'static str),
    Closed(&'static str),
    Dark(&'static str),
    PowerOff(&'static str),
}

fn check(p: &HoursPlan, rows: &[(&str, &str, bool, u64, Want)]) {
    for (label, now, session, idle, want) in rows {
        let got = p.mode(at(now), *session, mins(*idle));
        let next = |n: &Option<ZonedDateTime>| n.as_ref().map(|n| n.datetime().to_string()).unwrap_or_default();
        let ok = match (&got, want) {
            (Mode::Open, Want::Open) => true,
            (Mode::SessionWhileClosed { next_opening }, Want::Session(n)) => next(next_opening) == *n,
            (Mode::Closed { next_opening, usable }, Want::Closed(n)) => {
                next(next_opening) == *n && *usable == p.use_when_closed
            }
            (Mode::Dark { next_opening, .. }, Want::Dark(n)) => next(next_opening) == *n,
            (Mode::PowerOff { wake_at }, Want::PowerOff(w)) => wake_at.datetime().to_string() == *w,
            _ => false,
        };
        assert!(ok, "{label} at {now} (session {session}, idle {idle} min): got {got:?}, want {want:?}");
    }
}

#[test]
fn a_test_clock_walks_a_week_with_its_lunch_breaks_and_exceptional_closures() {
    let p = plan(WEEK);
    assert!(!p.use_when_closed);
    use Want::*;
    check(
        &p,
        &[
            ("before opening", "2026-12-07T08:30", false, 2, Closed("2026-12-07T09:00:00")),
            ("before opening, nobody for long", "2026-12-07T08:30", false, 45, Dark("2026-12-07T09:00:00")),
            ("opening", "2026-12-07T09:00", false, 45, Open),
            ("morning, a session", "2026-12-07T11:59:59", true, 0, Open),
            ("lunch break", "2026-12-07T12:00", false, 0, Closed("2026-12-07T14:00:00")),
            ("a session over the lunch break", "2026-12-07T12:10", true, 0, Session("2026-12-07T14:00:00")),
            ("lunch break, dark", "2026-12-07T12:30", false, 10, Dark("2026-12-07T14:00:00")),
            ("afternoon", "2026-12-07T16:59", false, 0, Open),
            ("closing, nobody", "2026-12-07T17:00", false, 3, Closed("2026-12-08T09:00:00")),
            ("evening, 9 idle minutes", "2026-12-07T17:50", false, 9, Closed("2026-12-08T09:00:00")),
            ("evening, 10 idle minutes", "2026-12-07T17:51", false, 10, Dark("2026-12-08T09:00:00")),
            ("night", "2026-12-08T03:00", false, 500, Dark("2026-12-08T09:00:00")),
            ("Saturday morning", "2026-12-12T10:00", false, 0, Open),
            ("Saturday afternoon", "2026-12-12T14:00", false, 0, Closed("2026-12-14T09:00:00")),
            ("Sunday", "2026-12-13T11:00", false, 0, Closed("2026-12-14T09:00:00")),
            ("the day before the closures", "2026-12-23T17:30", false, 0, Closed("2027-01-02T09:00:00")),
            ("exceptional closure, a Thursday", "2026-12-24T10:00", false, 0, Closed("2027-01-02T09:00:00")),
            ("Christmas", "2026-12-25T10:00", false, 0, Closed("2027-01-02T09:00:00")),
            ("New Year's Day (the period's last day)", "2027-01-01T10:00", false, 0, Closed("2027-01-02T09:00:00")),
            ("a session on a closure day", "2026-12-28T10:00", true, 0, Session("2027-01-02T09:00:00")),
            ("the closure is over", "2027-01-02T09:30", false, 0, Open),
        ],
    );
}

#[test]
fn a_session_running_at_closing_time_is_never_cut_and_the_closed_screen_comes_after_it() {
    let p = plan(WEEK);
    // A person starts at 16:50 and works until 17:25; minute by minute, with the idle clock of a
    // person who touches the borne every minute, then nobody.
    let end = at("2026-12-07T17:25");
    let mut seen = Vec::new();
    let mut t = at("2026-12-07T16:50");
    while t <= at("2026-12-07T17:45") {
        let session = t < end;
        let idle = if session { Duration::ZERO } else { Duration::try_from(t.duration_since(end)).unwrap() };
        let m = p.mode(t, session, idle);
        if session {
            assert!(matches!(m, Mode::Open | Mode::SessionWhileClosed { .. }), "cut at {t}: {m:?}");
        }
        if seen.last() != Some(&m.code()) {
            seen.push(m.code());
        }
        t += SignedDuration::from_mins(1);
    }
    assert_eq!(seen, ["open", "session-while-closed", "closed", "dark"]);
    // The session's mode says when the borne opens again, for the screen after it.
    let Mode::SessionWhileClosed { next_opening } = p.mode(at("2026-12-07T17:20"), true, Duration::ZERO) else {
        panic!()
    };
    assert_eq!(next_opening.unwrap(), z("2026-12-08T09:00"));
}

#[test]
fn usable_when_closed_is_an_informative_closed_screen_and_its_session_is_left_alone() {
    let p = plan(&WEEK.replace("use_when_closed = false", "use_when_closed = true"));
    assert_eq!(
        p.mode(at("2026-12-07T19:00"), false, mins(1)),
        Mode::Closed { next_opening: Some(z("2026-12-08T09:00")), usable: true }
    );
    // « Utiliser la borne quand même »: a session opens; it runs until it ends, dark never comes.
    assert_eq!(
        p.mode(at("2026-12-07T19:30"), true, mins(60)),
        Mode::SessionWhileClosed { next_opening: Some(z("2026-12-08T09:00")) }
    );
    assert_eq!(
        p.mode(at("2026-12-07T19:30"), false, mins(10)),
        Mode::Dark { next_opening: Some(z("2026-12-08T09:00")), usable: true }
    );
    // Absent, the key means usable: a borne whose hours were never edited refuses nobody.
    let without = plan("[hours]\nlundi = \"9:00-17:00\"\n");
    assert!(without.use_when_closed);
    assert_eq!((without.dark_after_minutes, without.power_off, without.wake_before_minutes), (10, false, 15));
}

#[test]
fn power_off_plans_a_wake_across_weekends_closures_and_clock_changes() {
    let p = plan(&WEEK.replace("power_off = false", "power_off = true"));
    use Want::*;
    check(
        &p,
        &[
            ("evening, screen still on", "2026-12-07T17:30", false, 5, Closed("2026-12-08T09:00:00")),
            ("evening, idle: power off", "2026-12-07T17:30", false, 10, PowerOff("2026-12-08T08:45:00")),
            ("never during a session", "2026-12-07T17:30", true, 120, Session("2026-12-08T09:00:00")),
            ("lunch is too short to power off", "2026-12-07T12:10", false, 10, Dark("2026-12-07T14:00:00")),
            ("too close to the wake time", "2026-12-08T07:00", false, 60, Dark("2026-12-08T09:00:00")),
            ("two hours before waking", "2026-12-08T06:45", false, 60, PowerOff("2026-12-08T08:45:00")),
            ("Saturday noon, over the weekend", "2026-12-12T12:30", false, 15, PowerOff("2026-12-14T08:45:00")),
            ("over the closures and New Year", "2026-12-23T17:30", false, 15, PowerOff("2027-01-02T08:45:00")),
            // Summer time starts on Sunday 29 March 2026, ends on Sunday 25 October 2026.
            ("spring weekend", "2026-03-28T12:30", false, 15, PowerOff("2026-03-30T08:45:00")),
            ("autumn weekend", "2026-10-24T12:30", false, 15, PowerOff("2026-10-26T08:45:00")),
        ],
    );
    // The wake instants are the civil 8:45 in each offset: 43 h 15 min after Saturday 12:30 in
    // spring (a 23-hour Sunday), 45 h 15 min in autumn (a 25-hour Sunday).
    let wake = |now: &str| p.wake_time(at(now)).unwrap();
    let spring = wake("2026-03-28T12:30");
    assert_eq!(spring.offset().seconds(), 2 * 3600);
    assert_eq!(at("2026-03-28T12:30").duration_until(spring.timestamp()), SignedDuration::from_mins(43 * 60 + 15));
    let autumn = wake("2026-10-24T12:30");
    assert_eq!(autumn.offset().seconds(), 3600);
    assert_eq!(at("2026-10-24T12:30").duration_until(autumn.timestamp()), SignedDuration::from_mins(45 * 60 + 15));
    // rtcwake takes seconds since the epoch.
    assert_eq!(spring.timestamp().as_second(), "2026-03-30T06:45:00Z".parse::<Timestamp>().unwrap().as_second());
}

#[test]
fn hours_on_the_nights_the_clocks_change_are_civil_times() {
    // Open on Sundays from 1:00 to 4:00: on 29 March 2026 that is 2 real hours (2:00 does not
    // exist), on 25 October 4 real hours (2:00 to 3:00 happens twice).
    let p = plan("[hours]\ndimanche = \"1:00-4:00\"\n");
    let open = |civil: &str| p.is_open(at(civil));
    assert!(open("2026-03-29T01:30") && open("2026-03-29T03:30") && !open("2026-03-29T04:00"));
    let opening = p.next_opening(at("2026-03-28T12:00")).unwrap();
    let closing = p.next_closing(opening.timestamp()).unwrap();
    assert_eq!(opening.timestamp().duration_until(closing.timestamp()), SignedDuration::from_hours(2));
    let opening = p.next_opening(at("2026-10-24T12:00")).unwrap();
    let closing = p.next_closing(opening.timestamp()).unwrap();
    assert_eq!(opening.timestamp().duration_until(closing.timestamp()), SignedDuration::from_hours(4));
}

#[test]
fn the_shell_knows_when_to_ask_again() {
    let p = plan(WEEK);
    let ask =
        |now: &str, session: bool, idle: u64| p.recheck_at(at(now), session, mins(idle)).to_zoned_datetime(paris());
    assert_eq!(p.next_change(at("2026-12-07T10:00")).unwrap(), z("2026-12-07T12:00"));
    assert_eq!(p.next_change(at("2026-12-07T12:00")).unwrap(), z("2026-12-07T14:00"));
    assert_eq!(p.next_change(at("2026-12-12T12:00")).unwrap(), z("2026-12-14T09:00"));
    assert_eq!(p.next_change(at("2026-12-23T17:00")).unwrap(), z("2027-01-02T09:00"));
    // Open: at least hourly, and at the closing.
    assert_eq!(ask("2026-12-07T10:00", false, 0), z("2026-12-07T11:00"));
    assert_eq!(ask("2026-12-07T11:30", true, 0), z("2026-12-07T12:00"));
    // Closed, 3 idle minutes: when the screen should go dark.
    assert_eq!(ask("2026-12-07T17:30", false, 3), z("2026-12-07T17:37"));
    // Closed, a session: not the dark screen's moment.
    assert_eq!(ask("2026-12-07T17:30", true, 3), z("2026-12-07T18:30"));
    // Before opening: the opening.
    assert_eq!(ask("2026-12-08T08:30", false, 60), z("2026-12-08T09:00"));
}

#[test]
fn the_week_in_one_sentence_in_french_english_and_arabic() {
    let p = plan(WEEK);
    assert_eq!(p.sentence("fr"), "Du lundi au vendredi, de 9 h à 12 h et de 14 h à 17 h ; le samedi, de 9 h à 12 h");
    assert_eq!(p.sentence("en"), "Monday to Friday, 9:00 to 12:00 and 14:00 to 17:00; Saturday, 9:00 to 12:00");
    assert_eq!(
        p.sentence("ar"),
        "من الاثنين إلى الجمعة، من 9:00 إلى 12:00 ومن 14:00 إلى 17:00؛ يوم السبت، من 9:00 إلى 12:00"
    );
    assert_eq!(p.sentence("uk"), "Понеділок–п'ятниця, 9:00–12:00 і 14:00–17:00; субота, 9:00–12:00");
    assert_eq!(p.sentence("xx"), p.sentence("fr"), "French for a language without words");
    let s = |text: &str, lang: &str| plan(&format!("[hours]\n{text}")).sentence(lang);
    assert_eq!(
        s("mardi = \"9 h 30 - 12 h\"\njeudi = \"9h30-12h\"\n", "fr"),
        "Le mardi, de 9 h 30 à 12 h ; le jeudi, de 9 h 30 à 12 h"
    );
    assert_eq!(s("mardi = \"9h30-12h\"\nmercredi = \"9h30-12h\"\n", "fr"), "Le mardi et le mercredi, de 9 h 30 à 12 h");
    assert_eq!(s("mardi = \"9h30-12h\"\nmercredi = \"9h30-12h\"\n", "en"), "Tuesday and Wednesday, 9:30 to 12:00");
    let every = "lundi = \"10-18\"\nmardi = \"10-18\"\nmercredi = \"10-18\"\njeudi = \"10-18\"\nvendredi = \"10-18\"\n\
                 samedi = \"10-18\"\ndimanche = \"10-18\"\n";
    assert_eq!(s(every, "fr"), "Tous les jours, de 10 h à 18 h");
    assert_eq!(s(every, "ar"), "كل يوم، من 10:00 إلى 18:00");
    // The shipped sentence's hours, written in [hours], say the same: no note.
    let filled = parse_settings(Path::new("borne.toml"), &shipped_with_hours()).unwrap();
    assert_eq!(filled.hours.as_ref().unwrap().sentence("fr"), filled.centre.opening_hours);
    assert!(filled.notes.is_empty(), "{:?}", filled.notes);
}

#[test]
fn today_and_the_next_opening_in_french_english_and_arabic() {
    let p = plan(WEEK);
    let status = |now: &str, lang: &str| p.status(at(now), lang);
    assert_eq!(status("2026-12-07T10:00", "fr"), "Ouvert aujourd'hui jusqu'à 12 h");
    assert_eq!(status("2026-12-07T12:30", "fr"), "Prochaine ouverture : aujourd'hui à 14 h");
    assert_eq!(status("2026-12-07T18:00", "fr"), "Prochaine ouverture : demain à 9 h");
    assert_eq!(status("2026-12-12T13:00", "fr"), "Prochaine ouverture : lundi à 9 h");
    assert_eq!(status("2026-12-23T18:00", "fr"), "Prochaine ouverture : samedi 2 janvier à 9 h");
    assert_eq!(status("2026-12-07T10:00", "en"), "Open today until 12:00");
    assert_eq!(status("2026-12-12T13:00", "en"), "Next opening: Monday at 9:00");
    assert_eq!(status("2026-12-23T18:00", "en"), "Next opening: Saturday 2 January at 9:00");
    assert_eq!(status("2026-12-07T10:00", "ar"), "مفتوح اليوم حتى الساعة 12:00");
    assert_eq!(status("2026-12-23T18:00", "ar"), "الافتتاح القادم: يوم السبت 2 يناير على الساعة 9:00");
    let p = plan("[hours]\nlundi = \"9:30-12:00\"\nclosures = [\"2027-02-01..2027-02-28\"]\n");
    assert_eq!(p.status(at("2027-01-30T12:00"), "fr"), "Prochaine ouverture : lundi 1er mars à 9 h 30");
    let closed_for_ever = plan("[hours]\nlundi = \"9:00-12:00\"\nclosures = [\"2026-01-01..2030-01-01\"]\n");
    assert_eq!(closed_for_ever.next_opening(at("2026-12-07T10:00")), None);
    assert_eq!(closed_for_ever.status(at("2026-12-07T10:00"), "fr"), "Pas d'ouverture prévue pour le moment");
}

#[test]
fn every_language_has_every_word_and_the_same_placeholders() {
    let all: BTreeMap<String, toml::Table> = toml::from_str(HOURS_TEXTS).unwrap();
    let typed: BTreeMap<String, HoursTexts> = toml::from_str(HOURS_TEXTS).unwrap();
    assert_eq!(all.len(), KNOWN_LANGUAGES.len());
    let holes = |v: &toml::Value| -> Vec<String> {
        let s = v.as_str().unwrap_or("");
        let mut h: Vec<String> =
            s.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(n, _)| n.into())).collect();
        h.sort();
        h
    };
    let fr = &all["fr"];
    for lang in KNOWN_LANGUAGES {
        let t = all.get(*lang).unwrap_or_else(|| panic!("no hours words for {lang}"));
        assert_eq!(typed[*lang].days.len(), 7, "{lang}");
        assert_eq!(typed[*lang].months.len(), 12, "{lang}");
        for (key, v) in fr {
            let other = t.get(key).unwrap_or_else(|| panic!("{lang}: {key} missing"));
            assert_eq!(holes(other), holes(v), "{lang}.{key}");
            if let Some(s) = other.as_str() {
                assert!(!s.trim().is_empty(), "{lang}.{key}");
            }
        }
    }
    assert_eq!(texts("fr").days[0], "lundi");
}

#[test]
fn the_referent_may_write_times_in_several_ways() {
    let r = |start: u16, end: u16| Range { start, end };
    let ok: &[(&str, &[Range])] = &[
        ("9:00-12:00, 14:00-17:00", &[r(540, 720), r(840, 1020)]),
        ("9h-12h", &[r(540, 720)]),
        ("9 h 30 - 12 h", &[r(570, 720)]),
        ("de 9 h à 12 h et de 14 h à 17 h", &[r(540, 720), r(840, 1020)]),
        ("09:00–12:00 ; 13.30-17.00", &[r(540, 720), r(810, 1020)]),
        ("14:00-17:00, 9:00-12:00", &[r(540, 720), r(840, 1020)]),
        ("8-24", &[r(480, 1440)]),
        ("", &[]),
        (" Fermé ", &[]),
    ];
    for (text, want) in ok {
        assert_eq!(parse_day("lundi", text).as_deref(), Ok(*want), "{text}");
    }
    for text in ["9:00", "matin", "25:00-26:00", "9:60-10:00", "9-12-14", "24:00-24:30", "9:0-12:00", ","] {
        assert!(matches!(parse_day("lundi", text), Err(HoursError::BadRanges { .. })), "{text}");
    }
    assert!(matches!(parse_day("lundi", "12:00-9:00"), Err(HoursError::EndBeforeStart { .. })));
    assert!(matches!(parse_day("lundi", "9-9"), Err(HoursError::EndBeforeStart { .. })));
    assert_eq!(
        parse_day("lundi", "9:00-12:00, 11:00-14:00"),
        Err(HoursError::Overlap { day: "lundi".into(), first: "9:00-12:00".into(), second: "11:00-14:00".into() })
    );
    assert_eq!(
        parse_day("lundi", "9-10, 11-12, 13-14"),
        Err(HoursError::TooManyRanges { day: "lundi".into(), count: 3 })
    );
    let d = |s: &str| s.parse::<Date>().unwrap();
    assert_eq!(parse_closure("2026-12-24"), Ok(Closure { first: d("2026-12-24"), last: d("2026-12-24") }));
    assert_eq!(
        parse_closure("25/12/2026 au 01/01/2027"),
        Ok(Closure { first: d("2026-12-25"), last: d("2027-01-01") })
    );
    for bad in ["2026-02-30", "24 décembre", "2026-12-24..", "20261224"] {
        assert_eq!(parse_closure(bad), Err(HoursError::BadDate(bad.into())), "{bad}");
    }
    assert!(matches!(parse_closure("2027-01-01..2026-12-25"), Err(HoursError::ReversedPeriod(_))));
}

#[test]
fn bad_hours_give_every_problem_at_its_line_with_what_to_write_instead() {
    let text = "[centre]\nname = \"Les Tilleuls\"\n[hours]\nLundi = \"9:00-12:00\"\nlundy = \"9-12\"\n\
                monday = \"9-12\"\nmardi = \"12:00-9:00\"\nmercredi = \"9-12, 11-13\"\njeudi = \"9-10, 11-12, 13-14\"\n\
                vendredi = \"le matin\"\nsamedi = 9\nclosures = [\"2026-02-30\", \"2027-01-01..2026-12-25\", 2026-12-24]\n\
                dark_after_minutes = 0\nuse_when_closed = \"non\"\n";
    let errs = parse_settings(Path::new("borne.toml"), text).unwrap_err();
    let at = |line: usize| {
        errs.iter().find(|d| d.line == line).unwrap_or_else(|| panic!("nothing at line {line}: {errs:#?}"))
    };
    assert_eq!(at(5).problem, Problem::UnknownKey { key: "lundy".into(), suggestion: Some("lundi".into()) });
    assert_eq!(at(6).problem, Problem::Hours(HoursError::UnknownDay("monday".into())));
    assert!(at(6).french().contains("lundi, mardi, mercredi"), "{}", at(6).french());
    assert!(matches!(at(7).problem, Problem::Hours(HoursError::EndBeforeStart { .. })));
    assert!(at(7).french().contains("finit avant de commencer"), "{}", at(7).french());
    assert!(matches!(at(8).problem, Problem::Hours(HoursError::Overlap { .. })));
    assert!(at(8).french().contains("se chevauchent"), "{}", at(8).french());
    assert!(matches!(at(9).problem, Problem::Hours(HoursError::TooManyRanges { count: 3, .. })));
    assert!(at(9).french().contains("deux au plus"), "{}", at(9).french());
    assert!(matches!(at(10).problem, Problem::Hours(HoursError::BadRanges { .. })));
    assert!(at(10).french().contains("\"9:00-12:00, 14:00-17:00\""), "{}", at(10).french());
    assert_eq!(at(11).problem, Problem::Hours(HoursError::NotText("samedi".into())));
    let dates: Vec<&Diagnostic> = errs.iter().filter(|d| d.line == 12).collect();
    assert_eq!(dates.len(), 2, "the TOML date 2026-12-24 is fine: {dates:?}");
    assert_eq!(dates[0].problem, Problem::Hours(HoursError::BadDate("2026-02-30".into())));
    assert_eq!(dates[0].column, 13);
    assert!(dates[0].french().contains("\"2026-12-24\""), "{}", dates[0].french());
    assert!(matches!(dates[1].problem, Problem::Hours(HoursError::ReversedPeriod(_))));
    assert!(matches!(&at(13).problem, Problem::OutOfRange { key, .. } if key == "hours.dark_after_minutes"));
    assert!(matches!(at(14).problem, Problem::Type(_)));
    assert_eq!(errs.len(), 11, "{errs:#?}");
    let lines: Vec<usize> = errs.iter().map(|d| d.line).collect();
    assert!(lines.is_sorted(), "in the file's order: {lines:?}");
    for d in &errs {
        assert!(d.french().starts_with("borne.toml, ligne "), "{}", d.french());
        assert!(!d.french().contains("TOML"), "{}", d.french());
        assert!(!d.to_string().contains('«'), "the log line is English: {d}");
    }
    // Twice the same day, with and without a capital.
    let errs = parse_settings(Path::new("borne.toml"), "[hours]\nlundi = \"9-12\"\nLundi = \"14-17\"\n").unwrap_err();
    assert_eq!(errs[0].problem, Problem::Hours(HoursError::DayTwice("lundi".into())));
    assert_eq!(errs[0].line, 3);
    // Not a table.
    let errs = parse_settings(Path::new("borne.toml"), "hours = \"9-17\"\n").unwrap_err();
    assert_eq!(errs[0].problem, Problem::Hours(HoursError::NotATable));
}

#[test]
fn without_hours_the_borne_behaves_as_before_and_both_written_gets_a_note() {
    let free = "[centre]\nopening_hours = \"Le mardi matin\"\n";
    let s = parse_settings(Path::new("borne.toml"), free).unwrap();
    assert_eq!((s.hours.as_ref(), s.hours_sentence("fr").as_str(), s.notes.len()), (None, "Le mardi matin", 0));
    // Every day empty: not used.
    let s = parse_settings(Path::new("borne.toml"), &format!("{free}[hours]\nlundi = \"\"\nuse_when_closed = false\n"))
        .unwrap();
    assert_eq!((s.hours.as_ref(), s.hours_sentence("en").as_str()), (None, "Le mardi matin"));
    // Both: [hours] is shown, in each language, and a note says the text is not.
    let s = parse_settings(Path::new("borne.toml"), &format!("{free}[hours]\nmardi = \"9-12\"\n")).unwrap();
    assert_eq!(s.hours_sentence("fr"), "Le mardi, de 9 h à 12 h");
    assert_eq!(s.hours_sentence("en"), "Tuesday, 9:00 to 12:00");
    assert_eq!(s.notes.len(), 1);
    assert_eq!((s.notes[0].line, &s.notes[0].problem), (2, &Problem::Hours(HoursError::TextIgnored)));
    assert!(s.notes[0].french().contains("opening_hours = \"\""), "{}", s.notes[0].french());
}

#[test]
fn a_broken_hours_table_keeps_the_last_good_hours() {
    let (_d, paths) = crate::load::test_paths();
    let with_hours = shipped_with_hours();
    std::fs::write(paths.settings(), &with_hours).unwrap();
    let good = crate::load::load(&paths);
    assert_eq!(good.running, crate::load::Running::Current);
    let shipped = good.settings.hours.clone().expect("structured hours");
    let broken =
        with_hours.replacen("\nlundi = \"9:00-12:00, 14:00-17:00\"", "\nlundi = \"9:00-12:00, 11:00-17:00\"", 1);
    assert_ne!(broken, with_hours);
    std::fs::write(paths.settings(), broken).unwrap();
    let l = crate::load::load(&paths);
    assert_eq!(l.running, crate::load::Running::LastGood);
    assert_eq!(l.settings.hours, Some(shipped));
    assert!(matches!(l.problems[0].problem, Problem::Hours(HoursError::Overlap { .. })), "{:?}", l.problems);
}

#[test]
fn the_portal_says_the_hours_in_the_persons_language_and_the_kit_in_french() {
    use crate::catalogue::{parse_local, parse_national, Effective, PortalData};
    let text = shipped_with_hours().replace("offered = [\"fr\"]", "offered = [\"fr\", \"ar\", \"en\"]");
    let settings = parse_settings(Path::new("borne.toml"), &text).unwrap();
    let national = parse_national(Path::new("catalogue.toml"), crate::load::BUILTIN_CATALOGUE).unwrap();
    let local = parse_local(Path::new("local.toml"), "", &national).unwrap();
    let effective = Effective::build(&settings, &national, &local);
    let fr = PortalData::new(&settings, &effective);
    assert_eq!(fr.centre.opening_hours, "Du lundi au vendredi, de 9 h à 12 h et de 14 h à 17 h");
    let en = fr.clone().in_language("en");
    assert_eq!(en.centre.opening_hours, "Monday to Friday, 9:00 to 12:00 and 14:00 to 17:00");
    let ar = fr.clone().in_language("ar");
    assert!(ar.centre.opening_hours.starts_with("من الاثنين إلى الجمعة"), "{}", ar.centre.opening_hours);
    let kit = crate::kit::Kit::new(&fr, Some(&ar));
    assert_eq!(kit.hours, "Du lundi au vendredi, de 9 h à 12 h et de 14 h à 17 h");
    assert_eq!(kit.hours_other.as_deref(), Some(ar.centre.opening_hours.as_str()));
    // The admin form round trip keeps [hours] it does not carry, and writes the one it carries.
    use crate::admin::forms::SettingsForm;
    let mut form = SettingsForm::from_settings(&settings);
    let hours = form.hours.clone().expect("the form carries the hours");
    assert_eq!(hours.days[0], "9:00-12:00, 14:00-17:00");
    assert_eq!(hours.days[5], "");
    let current = "[hours]\nsamedi = \"9:00-12:00\"\n";
    form.hours = None;
    let kept: toml::Table = form.to_toml_over(current).parse().unwrap();
    assert_eq!(kept["hours"]["samedi"].as_str(), Some("9:00-12:00"));
    form.hours = Some(hours);
    let written = form.to_toml_over(current);
    let s = parse_settings(Path::new("settings.toml"), &written).unwrap();
    assert_eq!(s.hours, settings.hours);
    // A mistake typed in the form comes back in French, without file positions.
    let mut bad = form.hours.clone().unwrap();
    bad.days[2] = "9-12, 11-13".into();
    form.hours = Some(bad);
    let errs = parse_settings(Path::new("settings.toml"), &form.to_toml_over(current)).unwrap_err();
    let fr = crate::admin::forms::problems_fr(&errs);
    assert_eq!(fr.len(), 1, "{fr:?}");
    assert!(fr[0].starts_with("Le mercredi, les plages 9:00-12:00 et 11:00-13:00 se chevauchent."), "{fr:?}");
}

#[test]
fn the_shipped_file_documents_every_hours_key() {
    let text = crate::load::BUILTIN_SETTINGS;
    for key in DAYS.iter().chain(OTHER_KEYS.iter()) {
        let line = text.lines().position(|l| l.starts_with(&format!("{key} =")));
        let line = line.unwrap_or_else(|| panic!("hours.{key} is not in the shipped file"));
        let above = text.lines().nth(line.saturating_sub(1)).unwrap_or("").trim_start();
        let is_day = DAYS.contains(key);
        assert!(is_day || above.starts_with('#'), "hours.{key} has no comment");
    }
    // Shipped, no day opens: the borne behaves as before [hours] existed (a référent's own
    // `opening_hours` in settings.toml stays what the portal shows after an update).
    let s = parse_settings(Path::new("borne.toml"), text).unwrap();
    assert_eq!(s.hours, None);
    assert_eq!(s.hours_sentence("ar"), s.centre.opening_hours);
    // Once the days are filled, the shipped values of the other keys: usable outside the hours,
    // never powered off.
    let h = parse_settings(Path::new("borne.toml"), &shipped_with_hours()).unwrap().hours.unwrap();
    assert!(h.use_when_closed, "usable outside the hours");
    assert!(!h.power_off, "never powered off");
    assert_eq!((h.dark_after_minutes, h.wake_before_minutes), (10, 15));
}

fn arb_week() -> impl Strategy<Value = [Vec<Range>; 7]> {
    let day = (0usize..=2, prop::collection::btree_set(0u16..=1440, 4)).prop_map(|(n, points)| {
        let p: Vec<u16> = points.into_iter().collect();
        (0..n).map(|i| Range { start: p[2 * i], end: p[2 * i + 1] }).filter(|r| r.start < 1440).collect::<Vec<_>>()
    });
    prop::array::uniform7(day)
}

fn arb_closures() -> impl Strategy<Value = Vec<Closure>> {
    let base = Date::new(2026, 1, 1).unwrap();
    prop::collection::vec((0i64..730, 0i64..40), 0..3).prop_map(move |v| {
        v.into_iter()
            .map(|(from, len)| {
                let first = base.checked_add(jiff::Span::new().days(from)).unwrap();
                Closure { first, last: first.checked_add(jiff::Span::new().days(len)).unwrap() }
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The next opening is in the future and inside an opening range, and exists whenever the
    /// week opens at all (closures here are short); the next change is a real change; a session
    /// is never cut.
    #[test]
    fn next_opening_is_in_the_future_and_open(
        week in arb_week(),
        closures in arb_closures(),
        secs in 1_767_222_000i64..1_830_294_000,
        idle in 0u64..600,
    ) {
        let opens = week.iter().any(|d| !d.is_empty());
        let p = HoursPlan::new(week, closures, "Europe/Paris");
        let now = Timestamp::from_second(secs).unwrap();
        match p.next_opening(now) {
            Some(o) => {
                prop_assert!(o.timestamp() > now);
                prop_assert!(p.is_open(o.timestamp()));
                prop_assert!(!p.is_open(o.timestamp() - SignedDuration::from_secs(1)));
            }
            None => prop_assert!(!opens),
        }
        if let Some(c) = p.next_change(now) {
            prop_assert!(c.timestamp() > now);
            prop_assert_ne!(p.is_open(c.timestamp()), p.is_open(now));
            prop_assert_eq!(p.is_open(c.timestamp() - SignedDuration::from_secs(1)), p.is_open(now));
        }
        let m = p.mode(now, true, mins(idle));
        let left_alone = matches!(m, Mode::Open | Mode::SessionWhileClosed { .. });
        prop_assert!(left_alone, "a session cut: {:?}", m);
        prop_assert!(p.recheck_at(now, false, mins(idle)) > now);
    }
}
