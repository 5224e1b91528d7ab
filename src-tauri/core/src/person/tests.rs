//! The session model as a table: events in, effects out, and what the next person finds.

use std::time::{Duration, Instant};

use super::*;

const SETTINGS: SessionSettings =
    SessionSettings { idle_timeout_secs: 60, warning_secs: 10, accompanied_idle_secs: 600, countdown_tone: true };

fn at(t0: Instant, secs: u64) -> Instant {
    t0 + Duration::from_secs(secs)
}

thread_local! {
    /// The scan flag the expected effects name: [`same_flag`] puts it in the effects got once the
    /// flag in them is checked to be the session's own.
    static FLAG: crate::scan::Cancel = crate::scan::Cancel::new();
}

/// `effects` with the scan flag of `CancelScan` replaced by [`FLAG`], after checking it is
/// `own`, the flag of the session that ended (a scan of the person who left is the one stopped).
fn same_flag(effects: Vec<Effect>, own: &crate::scan::Cancel) -> Vec<Effect> {
    effects
        .into_iter()
        .map(|e| match e {
            Effect::CancelScan(c) => {
                assert!(&c == own, "the scan stopped is not the one of the session that ended");
                Effect::CancelScan(FLAG.with(Clone::clone))
            }
            e => e,
        })
        .collect()
}

/// The effects of an end, in the order the shell carries them out.
fn end_effects(reason: EndReason, jobs: &[&str]) -> Vec<Effect> {
    vec![
        Effect::CountEnd(reason),
        Effect::WakePush,
        Effect::ForgetPendingAuth,
        Effect::StopVoice,
        Effect::ToolbarSessionEnded,
        Effect::ClearClipboards,
        Effect::CancelJobs(jobs.iter().map(|j| j.to_string()).collect()),
        Effect::CancelScan(FLAG.with(Clone::clone)),
        Effect::CloseFileChooser,
        Effect::WipeDownloads,
        Effect::CatalogueBetweenPeople,
        Effect::ReplaceEngine,
    ]
}

/// A session in which the person did everything a session can hold.
fn busy_session(t0: Instant) -> Session {
    let state = tempfile::tempdir().unwrap();
    let dirs = crate::session::SessionDirs::new(state.path());
    std::fs::create_dir_all(dirs.downloads()).unwrap();
    std::fs::write(dirs.downloads().join("attestation.pdf"), b"%PDF-1.4").unwrap();
    let mut s = Session::first(SETTINGS, t0);
    for e in [
        Event::Input,
        Event::RemotePageShown,
        Event::Language("ar".into()),
        Event::Display(Display { text: 200, contrast: true }),
        Event::Volume(1),
        Event::AdminOpened,
        Event::AdminUnlocked,
        Event::MarkAccompanied,
        Event::PrintedAtEnd,
    ] {
        s.handle(e, at(t0, 1));
    }
    s.printing.jobs.push("borne-e2e-41".into());
    s.printing.usage.reserve(1, crate::print::Pages::All, 3, 10).unwrap();
    s.printing.document = Some(("/state/session/prints/page-1.pdf".into(), 3));
    s.printing.prepared = 1;
    s.printing.source = Some(dirs.downloads().join("attestation.pdf"));
    s.printing.printed.push(dirs.downloads().join("attestation.pdf"));
    s.scanning.device = Some(crate::scan::Device {
        name: "test:0".into(),
        vendor: "Noname".into(),
        model: "frontend-tester".into(),
        kind: "virtual device".into(),
    });
    s.scanning.busy = true;
    s.hours_pass = true;
    s.scanning.upload_accept = Some("image/*".into());
    s.scanning.upload_max_bytes = Some(60_000);
    s.scanning.upload_chooser = 3;
    assert_eq!(s.documents.session(&dirs).len(), 1);
    assert!(!s.documents.is_empty());
    s
}

#[test]
fn each_event_gives_its_effects_as_a_table() {
    let t0 = Instant::now();
    // (what happened before, the event, when, the effects expected)
    type Setup = fn(&mut Session, Instant);
    let nothing: Setup = |_, _| {};
    let touched: Setup = |s, t0| {
        s.handle(Event::Input, t0);
    };
    let warned: Setup = |s, t0| {
        s.handle(Event::Input, t0);
        assert_eq!(s.handle(Event::Tick, at(t0, 60)), vec![Effect::IdleWarning(10)]);
    };
    let admin_open: Setup = |s, t0| {
        s.handle(Event::AdminOpened, t0);
    };
    let accompanied: Setup = |s, t0| {
        s.handle(Event::Input, t0);
        s.handle(Event::MarkAccompanied, t0);
    };
    let accompanied_warned: Setup = |s, t0| {
        s.handle(Event::Input, t0);
        s.handle(Event::MarkAccompanied, t0);
        assert_eq!(s.handle(Event::Tick, at(t0, 600)), vec![Effect::IdleWarning(10)]);
    };
    let cases: Vec<(&str, Setup, Event, u64, Vec<Effect>)> = vec![
        ("an untouched portal never counts down", nothing, Event::Tick, 3600, vec![]),
        ("input opens the session, nothing to show", nothing, Event::Input, 0, vec![]),
        ("a tick before the timeout", touched, Event::Tick, 59, vec![]),
        ("the timeout shows the countdown", touched, Event::Tick, 60, vec![Effect::IdleWarning(10)]),
        ("input during the countdown hides it", warned, Event::Input, 65, vec![Effect::IdleCancel]),
        ("the countdown's end ends the session", warned, Event::Tick, 70, end_effects(EndReason::Idle, &[])),
        ("« Terminer »", touched, Event::End(EndReason::Button), 5, end_effects(EndReason::Button, &[])),
        ("a crash", nothing, Event::End(EndReason::Crash), 5, end_effects(EndReason::Crash, &[])),
        ("leaving an admin page that is not open does nothing", touched, Event::AdminLeft("left"), 5, vec![]),
        ("« Quitter l'espace référent » ends the session", admin_open, Event::AdminLeft("left"), 5, {
            let mut v = vec![Effect::AdminClosed("left")];
            v.extend(end_effects(EndReason::Button, &[]));
            v
        }),
        ("an admin page idle for two minutes closes, and the session with it", admin_open, Event::Tick, 120, {
            let mut v = vec![Effect::AdminClosed("idle")];
            v.extend(end_effects(EndReason::Button, &[]));
            v
        }),
        ("an admin page idle for less stays", admin_open, Event::Tick, 119, vec![]),
        ("a site's page shown", touched, Event::RemotePageShown, 1, vec![]),
        ("another kiosk page shown", admin_open, Event::LeftAdminPage, 1, vec![]),
        ("a language", touched, Event::Language("uk".into()), 1, vec![]),
        ("a text size", touched, Event::Display(Display { text: 150, contrast: false }), 1, vec![]),
        ("the volume", touched, Event::Volume(-1), 1, vec![]),
        ("a médiateur marks the session accompanied", touched, Event::MarkAccompanied, 5, vec![]),
        ("marking during the countdown hides it", warned, Event::MarkAccompanied, 65, vec![Effect::IdleCancel]),
        ("marked before anyone touched the borne", nothing, Event::MarkAccompanied, 0, vec![]),
        ("the documents printed at the end", touched, Event::PrintedAtEnd, 5, vec![]),
        ("an accompanied session is not over at the ordinary limit", accompanied, Event::Tick, 60, vec![]),
        ("nor just before its own", accompanied, Event::Tick, 599, vec![]),
        ("its own limit shows the countdown", accompanied, Event::Tick, 600, vec![Effect::IdleWarning(10)]),
        ("and its countdown's end ends it", accompanied_warned, Event::Tick, 610, end_effects(EndReason::Idle, &[])),
        ("an accompanied session ends with « Terminer »", accompanied, Event::End(EndReason::Button), 30, {
            end_effects(EndReason::Button, &[])
        }),
    ];
    for (name, setup, event, secs, want) in cases {
        let mut s = Session::first(SETTINGS, t0);
        setup(&mut s, t0);
        let own = s.scanning.cancel.clone();
        assert_eq!(same_flag(s.handle(event, at(t0, secs)), &own), want, "{name}");
    }
}

#[test]
fn the_jobs_of_the_person_who_left_are_cancelled_and_nothing_of_them_reaches_the_next() {
    let t0 = Instant::now();
    let mut s = busy_session(t0);
    assert_eq!(s.number(), 1);
    assert!(s.is_open() && s.remote_shown() && s.admin.is_open());
    let own = s.scanning.cancel.clone();
    assert!(s.accompanied() && s.printed_at_end());
    let effects = s.handle(Event::End(EndReason::Button), at(t0, 30));
    assert_eq!(same_flag(effects, &own), end_effects(EndReason::Button, &["borne-e2e-41"]));
    assert!(
        !s.scanning.cancel.is_cancelled() && s.scanning.cancel != own,
        "the next person's scans have their own flag"
    );
    assert!(s.scanning.document.is_empty() && s.scanning.device.is_none() && s.scanning.upload_accept.is_none());
    assert_eq!((s.scanning.upload_max_bytes, s.scanning.upload_chooser), (None, 0), "the site's size is forgotten too");
    // The next person's session: a new value, every field as at the kiosk's start.
    let fresh = Session::first(SETTINGS, at(t0, 30));
    assert_eq!(s.number(), 2);
    assert_eq!(s.language, fresh.language);
    assert_eq!(s.display, fresh.display);
    assert_eq!(s.volume, fresh.volume);
    assert_eq!(s.printing.usage.used(), 0);
    assert!(s.printing.jobs.is_empty() && s.printing.document.is_none() && s.printing.prepared == 0);
    assert!(s.printing.source.is_none() && s.printing.printed.is_empty());
    assert!(!s.hours_pass, "the closed screen's pass was the person's");
    assert!(s.documents.is_empty());
    assert_eq!(s.admin, fresh.admin);
    assert!(!s.is_open() && !s.remote_shown());
    // The mark and the end's printing were the person's session's: the next one has neither.
    assert!(!s.accompanied() && !s.printed_at_end());
    // The clock of the new session does not run before someone touches the borne.
    assert_eq!(s.handle(Event::Tick, at(t0, 30 + 3600)), vec![]);
}

#[test]
fn the_session_value_prints_as_the_default_one_after_an_end() {
    // A field added to `Session` and kept over an end would show here: the debug print of the
    // session after an end equals a new one's, apart from the person's number.
    let t0 = Instant::now();
    let mut s = busy_session(t0);
    s.handle(Event::End(EndReason::Idle), at(t0, 10));
    let mut fresh = Session::first(SETTINGS, at(t0, 10));
    fresh.number = 2;
    assert_eq!(format!("{s:?}"), format!("{fresh:?}"));
}

#[test]
fn new_timings_apply_to_the_running_and_the_next_sessions() {
    let t0 = Instant::now();
    let mut s = Session::first(SETTINGS, t0);
    s.handle(Event::Input, t0);
    s.set_settings(SessionSettings {
        idle_timeout_secs: 20,
        warning_secs: 5,
        accompanied_idle_secs: 600,
        countdown_tone: true,
    });
    assert_eq!(s.handle(Event::Tick, at(t0, 20)), vec![Effect::IdleWarning(5)]);
    s.handle(Event::End(EndReason::Button), at(t0, 21));
    s.handle(Event::Input, at(t0, 22));
    assert_eq!(s.handle(Event::Tick, at(t0, 42)), vec![Effect::IdleWarning(5)]);
}

#[test]
fn the_accompanied_idle_limit_ends_with_the_session_and_survives_new_settings() {
    let t0 = Instant::now();
    let mut s = Session::first(SETTINGS, t0);
    s.handle(Event::Input, t0);
    assert!(!s.accompanied());
    s.handle(Event::MarkAccompanied, at(t0, 10));
    assert!(s.accompanied());
    // Marked at 10 s: 600 s of idle from then, not 60.
    assert_eq!(s.handle(Event::Tick, at(t0, 10 + 300)), vec![]);
    // New settings while accompanied: the new accompanied limit applies, not the ordinary one.
    s.set_settings(SessionSettings {
        idle_timeout_secs: 60,
        warning_secs: 10,
        accompanied_idle_secs: 900,
        countdown_tone: true,
    });
    assert_eq!(s.handle(Event::Tick, at(t0, 10 + 899)), vec![]);
    assert_eq!(s.handle(Event::Tick, at(t0, 10 + 900)), vec![Effect::IdleWarning(10)]);
    // The end replaces the session: the next person has the ordinary limit again.
    s.handle(Event::End(EndReason::Button), at(t0, 1000));
    assert!(!s.accompanied());
    s.handle(Event::Input, at(t0, 1001));
    assert_eq!(s.handle(Event::Tick, at(t0, 1001 + 60)), vec![Effect::IdleWarning(10)]);
}

#[test]
fn an_accompanied_limit_below_the_ordinary_one_never_shortens_the_session() {
    // The settings refuse it; the model holds by itself too.
    let t0 = Instant::now();
    let short =
        SessionSettings { idle_timeout_secs: 60, warning_secs: 10, accompanied_idle_secs: 30, countdown_tone: true };
    let mut s = Session::first(short, t0);
    s.handle(Event::Input, t0);
    s.handle(Event::MarkAccompanied, t0);
    assert_eq!(s.handle(Event::Tick, at(t0, 59)), vec![]);
    assert_eq!(s.handle(Event::Tick, at(t0, 60)), vec![Effect::IdleWarning(10)]);
}
