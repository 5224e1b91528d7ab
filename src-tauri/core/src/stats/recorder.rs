//! Recording from the kiosk: fire-and-forget for the caller, one writer thread for the file.
//!
//! The caller's side only checks the value, looks at the session clock and puts an [`Op`] in a
//! bounded channel (`try_send`: it never waits, so the UI thread never blocks on the disk). The
//! writer thread takes everything waiting in the channel and commits it in one transaction, at once:
//! a `kill -9` loses only what was still in the channel (the events of the last few milliseconds;
//! at most [`CHANNEL`] events if the disk stalls), and SQLite's WAL never leaves a half-written file.
//!
//! The recorder also keeps the counted session's dimensions: the place of the day it opened in
//! ([`Recorder::set_place`]), whether a médiateur marked it ([`Recorder::mark_accompanied`]), and, in
//! memory only until its end, what it counted so far (so a mark moves those counts to the accompanied
//! side of the split). The shell passes nothing more when the session ends: [`Recorder::end_session`]
//! counts them with it.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use super::{place_code_ok, Category, DurationBand, Event, Hour, Mode, Op, Store, StoreError};
use crate::nomad::PlaceOfDay;
use crate::session::EndReason;

/// Capacity of the channel between callers and the writer.
pub const CHANNEL: usize = 4096;

enum Msg {
    Op(Op),
    Flush(SyncSender<()>),
}

/// The session as the recorder sees it: the hour it started, and when (monotonic, in memory only),
/// its dimensions, and what it counted so far (in memory only, gone with the session).
#[derive(Debug, Clone)]
struct Open {
    hour: Hour,
    since: Instant,
    mode: Mode,
    units: BTreeMap<(Category, String), u64>,
}

/// Records counted events. Cheap to share behind an `Arc`; a disabled recorder does nothing.
#[derive(Debug)]
pub struct Recorder {
    inner: Option<Inner>,
}

#[derive(Debug)]
struct Inner {
    tx: SyncSender<Msg>,
    session: Mutex<Option<Open>>,
    /// Today's place (a nomad borne), given to the sessions that open before its end.
    place: Mutex<Option<PlaceOfDay>>,
    dropped: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Msg::Op(op) => op.fmt(f),
            Msg::Flush(_) => f.write_str("Flush"),
        }
    }
}

impl Recorder {
    /// A recorder that counts nothing (statistics turned off).
    pub fn disabled() -> Recorder {
        Recorder { inner: None }
    }

    /// Opens the store at `path`, counts a session a previous run left open as ended by a crash, and
    /// starts the writer thread.
    pub fn open(path: &Path) -> Result<Recorder, StoreError> {
        let mut store = Store::open(path)?;
        if store.close_interrupted_session()? {
            tracing::info!("a session left open by the previous run was counted as ended by a crash");
        }
        Ok(Recorder::with_store(store))
    }

    /// Starts the writer thread on an opened store.
    pub fn with_store(store: Store) -> Recorder {
        let (tx, rx) = sync_channel(CHANNEL);
        let dropped = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let f2 = failed.clone();
        let writer = std::thread::Builder::new().name("stats-writer".into()).spawn(move || writer(store, rx, &f2));
        let writer = match writer {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::error!(error = %e, "cannot start the statistics writer; nothing will be counted");
                None
            }
        };
        Recorder {
            inner: Some(Inner {
                tx,
                session: Mutex::new(None),
                place: Mutex::new(None),
                dropped,
                failed,
                writer: Mutex::new(writer),
            }),
        }
    }

    /// Counts an event in the current session, opening one if none is open (the first thing a person
    /// does starts a session). Never blocks. [`Event::PrintedAtEnd`] counts once a session.
    pub fn record(&self, event: Event) {
        let Some(inner) = &self.inner else { return };
        let Some((cat, action, n)) = event.unit() else {
            // The value is not logged: it is exactly what must not be kept.
            tracing::warn!("event refused: value outside the statistics vocabulary");
            return;
        };
        let now = Instant::now();
        // Poisoned or not, the Option inside is whole: a panic elsewhere must not stop counting. The
        // ops go out under the lock (`try_send` never waits), so a session's ops reach the writer in
        // order whatever thread records.
        let mut s = inner.session.lock().unwrap_or_else(PoisonError::into_inner);
        let o = inner.opened(&mut s, Mode::Autonomous, now);
        if cat == Category::PrintAtEnd && o.units.contains_key(&(cat, action.clone())) {
            return;
        }
        *o.units.entry((cat, action.clone())).or_insert(0) += u64::from(n);
        let band = DurationBand::of(now.saturating_duration_since(o.since));
        inner.send(Op::Count { hour: o.hour, cat, action, n, band });
    }

    /// A médiateur gave the team's staff code (`admin::staff::StaffCode::check`): the counted session
    /// is accompanied until its end, with what it counted so far; none open yet, one opens, accompanied
    /// (the médiateur is with someone). Marking twice does nothing more. Never blocks.
    pub fn mark_accompanied(&self) {
        let Some(inner) = &self.inner else { return };
        let mut s = inner.session.lock().unwrap_or_else(PoisonError::into_inner);
        let open = s.is_some();
        let o = inner.opened(&mut s, Mode::Accompanied, Instant::now());
        if open && o.mode == Mode::Autonomous {
            o.mode = Mode::Accompanied;
            let units = o.units.iter().map(|((c, a), n)| (*c, a.clone(), *n)).collect();
            inner.send(Op::Accompany { hour: o.hour, units });
        }
    }

    /// Today's place of a nomad borne (`nomad::place_of_day`), or none: sessions opened from now on
    /// (and before its `until_unix`) are counted in it; the session open keeps its own. Call it at
    /// start and whenever the référent chooses the place. A code outside the vocabulary is refused
    /// (logged without it).
    pub fn set_place(&self, place: Option<PlaceOfDay>) {
        let Some(inner) = &self.inner else { return };
        let place = place.filter(|p| {
            let ok = place_code_ok(&p.code);
            if !ok {
                tracing::warn!("place refused: code outside the statistics vocabulary");
            }
            ok
        });
        *inner.place.lock().unwrap_or_else(PoisonError::into_inner) = place;
    }

    /// Whether the counted session is accompanied (none open: `false`).
    pub fn session_accompanied(&self) -> bool {
        self.inner.as_ref().is_some_and(|i| {
            i.session
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .is_some_and(|o| o.mode == Mode::Accompanied)
        })
    }

    /// Ends the current session, if one is open: counts how it ended and how long it lasted, and
    /// its dimensions (accompanied or not, its place).
    pub fn end_session(&self, reason: EndReason) {
        let Some(inner) = &self.inner else { return };
        // A panic elsewhere while it was held (a poisoned lock) must not keep the session open for
        // the next person: the value is taken all the same.
        let open = inner.session.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(o) = open {
            let band = DurationBand::of(o.since.elapsed());
            inner.send(Op::End { hour: o.hour, reason, band });
        }
    }

    /// Whether a counted session is open.
    pub fn session_open(&self) -> bool {
        self.inner.as_ref().is_some_and(|i| i.session.lock().unwrap_or_else(PoisonError::into_inner).is_some())
    }

    /// Waits until everything sent so far is in the file (tests, shutdown). Never call it on the UI
    /// thread.
    pub fn flush(&self) {
        let Some(inner) = &self.inner else { return };
        let (tx, rx) = sync_channel(1);
        if inner.tx.send(Msg::Flush(tx)).is_ok() {
            let _ = rx.recv_timeout(Duration::from_secs(30));
        }
    }

    /// Events not counted: refused because the channel was full, or lost after two failed writes.
    pub fn dropped(&self) -> u64 {
        self.inner.as_ref().map_or(0, |i| i.dropped.load(Ordering::Relaxed) + i.failed.load(Ordering::Relaxed))
    }
}

impl Inner {
    /// The open session, opening one (counting its start, with its dimensions) if there is none.
    fn opened<'a>(&self, s: &'a mut Option<Open>, mode: Mode, now: Instant) -> &'a mut Open {
        s.get_or_insert_with(|| {
            let hour = Hour::now();
            self.send(Op::Open { hour, mode, place: self.place_now() });
            let units = BTreeMap::from([((Category::Session, "start".to_string()), 1)]);
            Open { hour, since: now, mode, units }
        })
    }

    /// Today's place, if it still holds now.
    fn place_now(&self) -> Option<String> {
        let now = jiff::Timestamp::now().as_second();
        let p = self.place.lock().unwrap_or_else(PoisonError::into_inner);
        p.as_ref().filter(|p| now < p.until_unix).map(|p| p.code.clone())
    }

    fn send(&self, op: Op) {
        match self.tx.try_send(Msg::Op(op)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::error!("statistics channel full (disk too slow); one event not counted");
            }
            Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::error!("statistics writer stopped; one event not counted");
            }
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let handle = inner.writer.lock().unwrap_or_else(PoisonError::into_inner).take();
            drop(inner.tx);
            if let Some(h) = handle {
                let _ = h.join();
            }
        }
    }
}

/// The writer: waits for a message, takes all that are waiting, commits them together.
fn writer(mut store: Store, rx: Receiver<Msg>, failed: &AtomicU64) {
    while let Ok(first) = rx.recv() {
        let mut ops = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(m) = next.take() {
            match m {
                Msg::Op(op) => ops.push(op),
                Msg::Flush(ack) => flushes.push(ack),
            }
            if ops.len() < 512 {
                next = rx.try_recv().ok();
            }
        }
        if !ops.is_empty() {
            let mut result = store.apply(&ops);
            if let Err(e) = &result {
                // A busy file (another process holding the lock past the timeout) or a full disk: one
                // more try after a pause before giving these events up.
                tracing::warn!(error = %e, "statistics write failed; trying again in one second");
                std::thread::sleep(Duration::from_secs(1));
                result = store.apply(&ops);
            }
            if let Err(e) = result {
                failed.fetch_add(ops.len() as u64, Ordering::Relaxed);
                tracing::error!(error = %e, events = ops.len(), "statistics write failed twice; events not counted");
            }
        }
        for ack in flushes {
            let _ = ack.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(path: &Path) -> std::collections::BTreeMap<(String, String), u64> {
        Store::open(path).unwrap().totals().unwrap()
    }

    fn n(t: &std::collections::BTreeMap<(String, String), u64>, c: &str, a: &str) -> u64 {
        t.get(&(c.to_string(), a.to_string())).copied().unwrap_or(0)
    }

    #[test]
    fn first_event_opens_a_session_and_end_counts_reason_and_band() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.sqlite");
        let r = Recorder::open(&p).unwrap();
        assert!(!r.session_open());
        r.record(Event::TileOpened("caf".into()));
        r.record(Event::TileOpened("caf".into()));
        r.record(Event::PagesPrinted(3));
        assert!(r.session_open());
        r.end_session(EndReason::Button);
        r.end_session(EndReason::Idle); // nothing open: not counted
        r.flush();
        let t = totals(&p);
        assert_eq!(n(&t, "session", "start"), 1);
        assert_eq!(n(&t, "tile", "caf"), 2);
        assert_eq!(n(&t, "print", "page"), 3);
        assert_eq!(n(&t, "end", "button"), 1);
        assert_eq!(n(&t, "end", "idle"), 0);
        assert_eq!(n(&t, "duration", "lt5"), 1);
    }

    #[test]
    fn a_poisoned_session_lock_still_ends_the_session() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.sqlite");
        let r = Recorder::open(&p).unwrap();
        r.record(Event::TileOpened("caf".into()));
        // A thread panics while holding the session's lock.
        std::thread::scope(|s| {
            let _ = s
                .spawn(|| {
                    let _held = r.inner.as_ref().unwrap().session.lock().unwrap();
                    panic!("poison the lock");
                })
                .join();
        });
        assert!(r.inner.as_ref().unwrap().session.is_poisoned());
        assert!(r.session_open());
        r.end_session(EndReason::Button);
        assert!(!r.session_open(), "the session ended for the next person");
        r.record(Event::HelpRequest);
        assert!(r.session_open(), "and the next one opens");
        r.end_session(EndReason::Idle);
        r.flush();
        let t = totals(&p);
        assert_eq!(n(&t, "end", "button"), 1);
        assert_eq!(n(&t, "end", "idle"), 1);
    }

    #[test]
    fn values_outside_the_vocabulary_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.sqlite");
        let r = Recorder::open(&p).unwrap();
        r.record(Event::TileOpened("Jean Dupont".into()));
        r.record(Event::TileOpened("caf/mon-compte?x=1".into()));
        r.record(Event::Language("français".into()));
        r.record(Event::Blocked("jean-dupont.evil.example.com".into()));
        r.flush();
        let t = totals(&p);
        // Only the blocked host's registrable domain got in, and it opened the session.
        assert_eq!(n(&t, "blocked", "example.com"), 1);
        assert_eq!(t.len(), 2, "{t:?}");
    }

    #[test]
    fn a_session_left_open_counts_as_a_crash_at_next_start() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.sqlite");
        {
            let r = Recorder::open(&p).unwrap();
            r.record(Event::HelpRequest);
            r.flush();
            // Dropped without end_session: the program "died".
        }
        assert!(Store::open(&p).unwrap().has_open_session().unwrap());
        let r = Recorder::open(&p).unwrap();
        r.flush();
        let t = totals(&p);
        assert_eq!(n(&t, "end", "crash"), 1);
        assert_eq!(n(&t, "duration", "lt5"), 1);
        assert!(!Store::open(&p).unwrap().has_open_session().unwrap());
        // Opening again does not count it twice.
        drop(r);
        let _r = Recorder::open(&p).unwrap();
        assert_eq!(n(&totals(&p), "end", "crash"), 1);
    }

    #[test]
    fn disabled_recorder_writes_nothing() {
        let r = Recorder::disabled();
        r.record(Event::Download);
        r.end_session(EndReason::Idle);
        r.flush();
        assert!(!r.session_open());
        assert_eq!(r.dropped(), 0);
    }

    #[test]
    fn events_recorded_while_another_process_holds_the_file_are_kept() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.sqlite");
        let r = Recorder::open(&p).unwrap();
        // Another connection (the pusher, bornectl) holds the write lock: the writer waits for it.
        let other = Connection::open(&p).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        for _ in 0..1000 {
            r.record(Event::Download);
        }
        std::thread::sleep(Duration::from_millis(200));
        other.execute_batch("COMMIT").unwrap();
        r.flush();
        assert_eq!(n(&totals(&p), "download", "file"), 1000);
        assert_eq!(r.dropped(), 0);
    }

    fn place_of_day(code: &str, secs_left: i64) -> Option<PlaceOfDay> {
        Some(PlaceOfDay { code: code.into(), until_unix: jiff::Timestamp::now().as_second() + secs_left })
    }

    fn split(path: &Path) -> std::collections::BTreeMap<(String, String, Option<Mode>, Option<String>), u64> {
        let mut m = std::collections::BTreeMap::new();
        for r in Store::open(path).unwrap().split_rows_between(Hour(0), Hour(i64::MAX)).unwrap() {
            *m.entry((r.cat, r.action, r.mode, r.place)).or_insert(0) += r.n;
        }
        m
    }

    #[test]
    fn a_session_marked_accompanied_is_counted_so_whole_and_the_next_one_is_not() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.sqlite");
        let r = Recorder::open(&p).unwrap();
        r.set_place(place_of_day("mediatheque", 3600));
        r.record(Event::TileOpened("caf".into()));
        assert!(!r.session_accompanied());
        r.mark_accompanied();
        r.mark_accompanied();
        assert!(r.session_accompanied());
        r.record(Event::TileOpened("ameli".into()));
        r.record(Event::PrintedAtEnd);
        r.record(Event::PrintedAtEnd); // once a session
        r.end_session(EndReason::Button);
        assert!(!r.session_accompanied(), "the mark ends with the session");
        // The next person, alone, the same day and place.
        r.record(Event::HelpRequest);
        r.end_session(EndReason::Idle);
        r.flush();
        let t = totals(&p);
        assert_eq!(n(&t, "session", "start"), 2);
        assert_eq!((n(&t, "mode", "accompanied"), n(&t, "mode", "autonomous")), (1, 1));
        assert_eq!(n(&t, "place", "mediatheque"), 2);
        assert_eq!(n(&t, "print-at-end", "yes"), 1);
        let m = split(&p);
        let acc = |c: &str, a: &str| {
            m.get(&(c.into(), a.into(), Some(Mode::Accompanied), Some("mediatheque".into()))).copied().unwrap_or(0)
        };
        let alone = |c: &str, a: &str| {
            m.get(&(c.into(), a.into(), Some(Mode::Autonomous), Some("mediatheque".into()))).copied().unwrap_or(0)
        };
        // The tile opened before the mark went with its session to the accompanied side.
        assert_eq!(
            (acc("session", "start"), acc("tile", "caf"), acc("tile", "ameli"), acc("end", "button")),
            (1, 1, 1, 1)
        );
        assert_eq!((alone("session", "start"), alone("help", "request"), alone("end", "idle")), (1, 1, 1));
        assert_eq!(alone("tile", "caf"), 0);
    }

    #[test]
    fn a_mark_before_anything_counted_opens_an_accompanied_session() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.sqlite");
        let r = Recorder::open(&p).unwrap();
        r.mark_accompanied();
        assert!(r.session_open() && r.session_accompanied());
        r.record(Event::Download);
        r.end_session(EndReason::Button);
        r.flush();
        let t = totals(&p);
        assert_eq!((n(&t, "session", "start"), n(&t, "mode", "accompanied"), n(&t, "mode", "autonomous")), (1, 1, 0));
        assert!(t.keys().all(|(c, _)| c != "place"), "no place set: no place unit");
        let m = split(&p);
        assert_eq!(m.get(&("download".into(), "file".into(), Some(Mode::Accompanied), None)), Some(&1));
    }

    #[test]
    fn the_place_holds_until_its_day_ends_and_the_open_session_keeps_its_own() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.sqlite");
        let r = Recorder::open(&p).unwrap();
        // Yesterday's place: its day is over, sessions are counted without a place.
        r.set_place(place_of_day("marche-couvert", -1));
        r.record(Event::Download);
        // The référent chooses today's place during a session: that session keeps the one it opened with.
        r.set_place(place_of_day("mediatheque", 3600));
        r.record(Event::Download);
        r.end_session(EndReason::Button);
        r.record(Event::Download);
        r.end_session(EndReason::Button);
        // A code outside the vocabulary is refused: no place.
        r.set_place(place_of_day("Salle Jean Dupont", 3600));
        r.record(Event::Download);
        r.end_session(EndReason::Button);
        r.flush();
        let t = totals(&p);
        assert_eq!(n(&t, "session", "start"), 3);
        assert_eq!(n(&t, "place", "mediatheque"), 1);
        assert_eq!(t.keys().filter(|(c, _)| c == "place").count(), 1, "{t:?}");
        let m = split(&p);
        assert_eq!(m.get(&("download".into(), "file".into(), Some(Mode::Autonomous), None)), Some(&3));
        assert_eq!(
            m.get(&("download".into(), "file".into(), Some(Mode::Autonomous), Some("mediatheque".into()))),
            Some(&1)
        );
    }

    #[test]
    fn an_accompanied_session_killed_with_the_program_is_counted_accompanied_at_the_next_start() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.sqlite");
        {
            let r = Recorder::open(&p).unwrap();
            r.set_place(place_of_day("mediatheque", 3600));
            r.record(Event::HelpRequest);
            r.mark_accompanied();
            r.flush();
        }
        let _r = Recorder::open(&p).unwrap();
        let t = totals(&p);
        assert_eq!((n(&t, "end", "crash"), n(&t, "mode", "accompanied"), n(&t, "place", "mediatheque")), (1, 1, 1));
        let m = split(&p);
        assert_eq!(
            m.get(&("help".into(), "request".into(), Some(Mode::Accompanied), Some("mediatheque".into()))),
            Some(&1)
        );
    }

    use rusqlite::Connection;
}
