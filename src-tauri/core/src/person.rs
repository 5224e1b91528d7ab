//! One person's session as one value. Everything the kiosk keeps for the person now at the borne
//! lives in [`Session`]: their language, text size and contrast, the voice's volume, printing (pages
//! charged, CUPS jobs, the document being printed), the ids of their documents, the référent's admin
//! state, the idle clock, whether a site's page was shown, whether a médiateur marked the session
//! « accompagnée » (a longer idle limit) and whether the person printed their documents at the end. Events come in
//! ([`Session::handle`]`(event, now)`) and effects go out: what the shell must do with the engine
//! (GTK, WebKit, CUPS, the voice). Ending a session replaces the value with a new one: nothing is
//! reset field by field, so a field added here is forgotten with the person by construction.
//!
//! The shell (`src-tauri/src/session.rs`) turns GTK and WebKit signals into [`Event`]s and carries
//! out the [`Effect`]s, in order, in one place.
//!
//! What the statistics count of a session (accompanied or not, printed at the end, the place of a
//! nomad borne) the shell tells the statistics' recorder too, where it happens
//! (`stats::recorder::Recorder::mark_accompanied`, `record(stats::Event::PrintedAtEnd)`): the recorder
//! keeps them for the counted session and counts them with its end.

use std::path::PathBuf;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::admin::session::AdminSession;
use crate::config::SessionSettings;
use crate::documents;
use crate::print::PageUsage;
use crate::scan::{Cancel, Device, Document};
use crate::session::{EndReason, IdleClock, IdleEvent};
use crate::speech::Volume;

/// Text size and contrast for the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Display {
    /// Text size in percent: 100, 150 or 200.
    pub text: u16,
    /// High contrast on the kiosk's own screens.
    pub contrast: bool,
}

impl Display {
    /// Text sizes the toolbar offers.
    pub const TEXT_SIZES: [u16; 3] = [100, 150, 200];
}

impl Default for Display {
    fn default() -> Self {
        Display { text: 100, contrast: false }
    }
}

/// The session's printing.
#[derive(Debug, Default)]
pub struct Printing {
    /// Pages printed or reserved so far, against the quota: checked and reserved under the
    /// session's lock, given back when `lp` fails.
    pub usage: PageUsage,
    /// CUPS jobs submitted during the session (cancelled at its end if still queued).
    pub jobs: Vec<String>,
    /// The document prepared by the last « Imprimer » and its page count.
    pub document: Option<(PathBuf, u32)>,
    /// Documents prepared so far (unique file names in the session's print folder).
    pub prepared: u32,
    /// The session document behind the prepared one, when it came from « Mes documents » (not
    /// from the page shown).
    pub source: Option<PathBuf>,
    /// Session documents already sent to the printer: « Imprimer mes documents avant de partir »
    /// offers the others.
    pub printed: Vec<PathBuf>,
}

/// « Numériser un document »: the scanner chosen, the pages of the document being built, the
/// flag that stops a scan in flight, and what the site's open file chooser accepts.
#[derive(Debug, Default)]
pub struct Scanning {
    /// The scanner found when the person opened the dialog (listed once a session: slow).
    pub device: Option<Device>,
    /// The pages scanned so far (their files in the session's scans folder).
    pub document: Document,
    /// Stops this session's scan in flight (« Arrêter », the end of the session).
    pub cancel: Cancel,
    /// A scan is running (one at a time).
    pub busy: bool,
    /// The `accept` of the site's file chooser waiting for a file, if one is open.
    pub upload_accept: Option<String>,
    /// The most bytes that chooser's page declares its input takes, once the shell has read it
    /// (`scan::declared_max_bytes`).
    pub upload_max_bytes: Option<u64>,
    /// Counts the file choosers opened in this session: a size read for an earlier one is not
    /// taken for the one now open.
    pub upload_chooser: u64,
}

/// Something that happened, for the session to decide on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A key, click, pointer move or scroll from the person (or the référent), on any view.
    Input,
    /// The clock, about once a second.
    Tick,
    /// A site's page was shown in the content view (the admin corner stays shut until the end).
    RemotePageShown,
    /// A kiosk page other than the admin page was shown in the content view: an admin session
    /// is never left open behind another page.
    LeftAdminPage,
    /// The person chose a language among those offered (checked by the caller).
    Language(String),
    /// The person chose a text size and contrast (checked by the caller).
    Display(Display),
    /// The voice one step louder (> 0) or softer.
    Volume(i8),
    /// The référent's admin page opened (PIN not given yet).
    AdminOpened,
    /// The right PIN was given.
    AdminUnlocked,
    /// The référent leaves the admin page (`why`: « Quitter l'espace référent », « Accueil », a
    /// restart): an open admin session ends with the person's session.
    AdminLeft(&'static str),
    /// A médiateur gave the right staff code (`admin::staff::StaffCode::check`): the session is
    /// « accompagnée » until it ends, and its idle limit is `accompanied_idle_secs`.
    MarkAccompanied,
    /// The person printed their documents at « Terminer » (« Imprimer mes documents avant de
    /// partir »), before the session's end.
    PrintedAtEnd,
    /// The session ends: « Terminer », the idle countdown, a crash.
    End(EndReason),
}

/// What the shell must do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Show the idle countdown, from this many seconds.
    IdleWarning(u32),
    /// Input during the countdown: hide it.
    IdleCancel,
    /// The admin session closed (`why`: "idle", "left"), for the log.
    AdminClosed(&'static str),
    /// Count the session's end (statistics).
    CountEnd(EndReason),
    /// Wake the push of the statistics.
    WakePush,
    /// Forget a password dialog a site opened and nobody answered.
    ForgetPendingAuth,
    /// Stop the voice now (the volume is the new session's).
    StopVoice,
    /// Tell the toolbar the session ended (dialogs closed, language and display back to default).
    ToolbarSessionEnded,
    /// Empty the clipboard and the primary selection.
    ClearClipboards,
    /// Cancel these CUPS jobs if still queued.
    CancelJobs(Vec<String>),
    /// Stop the scan in flight, if any (its page, arriving late, is not the next person's).
    CancelScan(Cancel),
    /// Answer a site's open file chooser with nothing.
    CloseFileChooser,
    /// Erase the session's downloads.
    WipeDownloads,
    /// Put a new national catalogue waiting in force (between two people).
    CatalogueBetweenPeople,
    /// A new content view and network process, then the portal.
    ReplaceEngine,
}

/// Everything the kiosk keeps for one person. See the module's documentation.
#[derive(Debug)]
pub struct Session {
    /// 1 for the first person since the kiosk started, then one more for each: a late answer
    /// (a print job submitted while the person left) can tell whose session it belonged to.
    number: u64,
    settings: SessionSettings,
    /// The person's language (`fr` at the start).
    pub language: String,
    /// Text size and contrast.
    pub display: Display,
    /// The voice's volume.
    pub volume: Volume,
    /// Printing: pages charged, jobs, the document being printed.
    pub printing: Printing,
    /// Opaque ids of the session's documents (and of the sticks' files offered to a file chooser).
    pub documents: documents::Index,
    /// The référent's admin session.
    pub admin: AdminSession,
    /// « Numériser un document ».
    pub scanning: Scanning,
    /// Outside the opening hours this session may go on: it began within the hours (it is never cut
    /// at closing time), or the person chose « Utiliser la borne quand même » on the closed screen.
    /// Input on the closed screen without it does not open the session.
    pub hours_pass: bool,
    idle: IdleClock,
    remote_shown: bool,
    accompanied: bool,
    printed_at_end: bool,
}

impl Session {
    /// The first session since the kiosk started.
    pub fn first(settings: SessionSettings, now: Instant) -> Self {
        Session::numbered(1, settings, now)
    }

    fn numbered(number: u64, settings: SessionSettings, now: Instant) -> Self {
        Session {
            number,
            settings,
            language: "fr".into(),
            display: Display::default(),
            volume: Volume::DEFAULT,
            printing: Printing::default(),
            documents: documents::Index::default(),
            admin: AdminSession::default(),
            scanning: Scanning::default(),
            hours_pass: false,
            idle: IdleClock::new(settings, now),
            remote_shown: false,
            accompanied: false,
            printed_at_end: false,
        }
    }

    /// Which person this is (see the field's documentation).
    pub fn number(&self) -> u64 {
        self.number
    }

    /// Someone touched the borne since the last wipe (the idle clock runs).
    pub fn is_open(&self) -> bool {
        self.idle.is_open()
    }

    /// A site's page was shown in this session.
    pub fn remote_shown(&self) -> bool {
        self.remote_shown
    }

    /// A médiateur marked the session « accompagnée » ([`Event::MarkAccompanied`]).
    pub fn accompanied(&self) -> bool {
        self.accompanied
    }

    /// The person printed their documents at the end ([`Event::PrintedAtEnd`]).
    pub fn printed_at_end(&self) -> bool {
        self.printed_at_end
    }

    /// The idle clock's timings for this session: the settings', with the accompanied idle limit
    /// once the session is marked.
    fn timings(&self) -> SessionSettings {
        if self.accompanied {
            self.settings.accompanied()
        } else {
            self.settings
        }
    }

    /// New timings (settings changed); the session goes on (still accompanied if it was).
    pub fn set_settings(&mut self, settings: SessionSettings) {
        self.settings = settings;
        self.idle.set_settings(self.timings());
    }

    /// Decides on `event`; the effects for the shell, in order.
    pub fn handle(&mut self, event: Event, now: Instant) -> Vec<Effect> {
        match event {
            Event::Input => {
                self.admin.touch(now);
                match self.idle.input(now) {
                    Some(IdleEvent::Cancel) => vec![Effect::IdleCancel],
                    _ => Vec::new(),
                }
            }
            Event::Tick => match self.idle.tick(now) {
                Some(IdleEvent::Expire) => self.end(EndReason::Idle, now),
                Some(IdleEvent::Warn(secs)) => vec![Effect::IdleWarning(secs)],
                Some(IdleEvent::Cancel) | None if self.admin.expired(now) => {
                    let mut out = vec![Effect::AdminClosed("idle")];
                    out.extend(self.end(EndReason::Button, now));
                    out
                }
                Some(IdleEvent::Cancel) | None => Vec::new(),
            },
            Event::RemotePageShown => {
                self.remote_shown = true;
                Vec::new()
            }
            Event::LeftAdminPage => {
                self.admin = AdminSession::default();
                Vec::new()
            }
            Event::Language(code) => {
                self.language = code;
                Vec::new()
            }
            Event::Display(d) => {
                self.display = d;
                Vec::new()
            }
            Event::Volume(delta) => {
                self.volume = self.volume.step(delta);
                Vec::new()
            }
            Event::AdminOpened => {
                self.admin = AdminSession::opened(now);
                Vec::new()
            }
            Event::AdminUnlocked => {
                self.admin = AdminSession::unlocked(now);
                Vec::new()
            }
            Event::AdminLeft(why) => {
                if self.admin.is_open() {
                    let mut out = vec![Effect::AdminClosed(why)];
                    out.extend(self.end(EndReason::Button, now));
                    out
                } else {
                    Vec::new()
                }
            }
            Event::MarkAccompanied => {
                self.accompanied = true;
                self.idle.set_settings(self.timings());
                // The médiateur is at the borne: it counts as input (a countdown shown goes away).
                match self.idle.input(now) {
                    Some(IdleEvent::Cancel) => vec![Effect::IdleCancel],
                    _ => Vec::new(),
                }
            }
            Event::PrintedAtEnd => {
                self.printed_at_end = true;
                Vec::new()
            }
            Event::End(reason) => self.end(reason, now),
        }
    }

    /// The next person's session replaces this one whole; the effects forget what the engine
    /// keeps for the person who left.
    fn end(&mut self, reason: EndReason, now: Instant) -> Vec<Effect> {
        let next = Session::numbered(self.number + 1, self.settings, now);
        let old = std::mem::replace(self, next);
        vec![
            Effect::CountEnd(reason),
            Effect::WakePush,
            Effect::ForgetPendingAuth,
            Effect::StopVoice,
            Effect::ToolbarSessionEnded,
            Effect::ClearClipboards,
            Effect::CancelJobs(old.printing.jobs),
            Effect::CancelScan(old.scanning.cancel),
            Effect::CloseFileChooser,
            Effect::WipeDownloads,
            Effect::CatalogueBetweenPeople,
            Effect::ReplaceEngine,
        ]
    }
}

#[cfg(test)]
mod tests;
