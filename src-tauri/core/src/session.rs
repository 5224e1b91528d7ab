//! A person's session: when it is open, when it must end (idle clock), and the private folders the
//! kiosk gives it on disk, erased at the end and again at every start.
//!
//! The shell (`src-tauri/src/session.rs`) does the engine half of forgetting (a new content view and
//! a new WebKit network process for every person, the clipboard); this module owns the decisions and
//! the files, and is tested without a display.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::SessionSettings;

/// How a session ended (also a statistics key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// "Terminer ma session".
    Button,
    /// Nobody touched the borne for the idle timeout plus the countdown.
    Idle,
    /// The web process crashed, or the kiosk restarted after a crash or power cut.
    Crash,
    /// The machine went to sleep (a laptop borne's lid closed): the session is wiped before it.
    Sleep,
}

impl EndReason {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            EndReason::Button => "button",
            EndReason::Idle => "idle",
            EndReason::Crash => "crash",
            EndReason::Sleep => "sleep",
        }
    }
}

/// What the idle clock asks the shell to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleEvent {
    /// Show the countdown, starting at this many seconds.
    Warn(u32),
    /// Input during the countdown: hide it.
    Cancel,
    /// End the session.
    Expire,
}

/// The idle clock of one session. Only runs while a session is open (someone touched the borne since
/// the last wipe): an untouched portal never counts down.
#[derive(Debug, Clone)]
pub struct IdleClock {
    timeout: Duration,
    warning: Duration,
    last_input: Instant,
    open: bool,
    warning_shown: bool,
}

impl IdleClock {
    /// A closed clock.
    pub fn new(settings: SessionSettings, now: Instant) -> Self {
        IdleClock {
            timeout: Duration::from_secs(settings.idle_timeout_secs.into()),
            warning: Duration::from_secs(settings.warning_secs.into()),
            last_input: now,
            open: false,
            warning_shown: false,
        }
    }

    /// New timings (settings changed); keeps the state.
    pub fn set_settings(&mut self, settings: SessionSettings) {
        self.timeout = Duration::from_secs(settings.idle_timeout_secs.into());
        self.warning = Duration::from_secs(settings.warning_secs.into());
    }

    /// True while a session is open.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Any input from the person: opens the session, restarts the clock, cancels a countdown.
    pub fn input(&mut self, now: Instant) -> Option<IdleEvent> {
        self.last_input = now;
        self.open = true;
        if std::mem::take(&mut self.warning_shown) {
            Some(IdleEvent::Cancel)
        } else {
            None
        }
    }

    /// Called about once a second.
    pub fn tick(&mut self, now: Instant) -> Option<IdleEvent> {
        if !self.open {
            return None;
        }
        let idle = now.saturating_duration_since(self.last_input);
        if idle >= self.timeout + self.warning {
            self.close();
            Some(IdleEvent::Expire)
        } else if idle >= self.timeout && !self.warning_shown {
            self.warning_shown = true;
            let left = (self.timeout + self.warning).saturating_sub(idle);
            Some(IdleEvent::Warn(left.as_secs().max(1) as u32))
        } else {
            None
        }
    }

    /// The session ended (any reason): the clock stops until the next input.
    pub fn close(&mut self) {
        self.open = false;
        self.warning_shown = false;
    }
}

/// The shell's own pages (portal, blocked page, network-error page, admin page, a session document)
/// open in the content view only when the shell asked for that very address a moment ago. Each
/// request is one pass for one URL (the fragment aside), used once: a page cannot ride on a pass
/// the shell opened for another page, and two requests for the same page (a portal asked by the
/// start and again by a reload) each get theirs, so neither is refused.
#[derive(Debug, Default)]
pub struct InternalGate {
    passes: Vec<(String, Instant)>,
}

impl InternalGate {
    /// How long a pass waits for its navigation.
    pub const TTL: Duration = Duration::from_secs(5);
    /// At most this many passes wait at once (the oldest goes first).
    const MAX_PASSES: usize = 16;

    /// The shell is about to load `url` in the content view.
    pub fn open(&mut self, url: &url::Url, now: Instant) {
        self.passes.retain(|(_, deadline)| *deadline >= now);
        if self.passes.len() >= Self::MAX_PASSES {
            self.passes.remove(0);
        }
        self.passes.push((Self::key(url), now + Self::TTL));
    }

    /// The content view asks to show `url`: true (and the pass is used) when the shell asked for
    /// exactly this address within [`InternalGate::TTL`].
    pub fn take(&mut self, url: &url::Url, now: Instant) -> bool {
        self.passes.retain(|(_, deadline)| *deadline >= now);
        let key = Self::key(url);
        match self.passes.iter().position(|(k, _)| *k == key) {
            Some(i) => {
                self.passes.remove(i);
                true
            }
            None => false,
        }
    }

    /// Passes waiting now (for tests and logs).
    pub fn waiting(&self) -> usize {
        self.passes.len()
    }

    fn key(url: &url::Url) -> String {
        let mut u = url.clone();
        u.set_fragment(None);
        u.into()
    }
}

/// The private folders of the current session, under `<state>/session`.
#[derive(Debug, Clone)]
pub struct SessionDirs {
    root: PathBuf,
}

impl SessionDirs {
    /// For a state directory.
    pub fn new(state_dir: &Path) -> Self {
        SessionDirs { root: state_dir.join("session") }
    }
    /// Everything a person can leave on disk lives below this folder.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// WebKit's data (cookies, storage, IndexedDB, service workers). Never an HTTP disk cache: see
    /// [`SessionDirs::disk_cache_blocker`].
    pub fn webdata(&self) -> PathBuf {
        self.root.join("webdata")
    }
    /// Where WebKit's network process would keep its HTTP disk cache (`<webdata>/WebKitCache`, the
    /// `disk-cache-directory` WebKitGTK derives from the data directory the shell gives it).
    ///
    /// The kiosk wants WebKit's memory cache (without it, what the preload scanner fetched is dropped
    /// before the page asks for it, and a heavy page fetches most of its scripts twice:
    /// tests/bench/heavy-page.sh), but any cache model that gives one also turns the disk cache on,
    /// and WebKit writes its records late, after the page that filled them is gone. So this path is
    /// a regular file, made before any network process starts and after every wipe: WebKit cannot
    /// make its cache folder there and runs without a disk cache (`NetworkCache::Storage::open`
    /// fails), while each web process keeps its memory cache, emptied at the end of each session.
    pub fn disk_cache_blocker(&self) -> PathBuf {
        self.webdata().join("WebKitCache")
    }
    /// Downloads of the session.
    pub fn downloads(&self) -> PathBuf {
        self.root.join("downloads")
    }
    /// PDFs made for the printer during the session (the page as printed).
    pub fn prints(&self) -> PathBuf {
        self.root.join("print")
    }
    /// Pages scanned for a document being built (« Numériser un document », [`crate::scan`]): the
    /// scanner's PNGs, until the document is finished into the downloads folder or abandoned.
    pub fn scans(&self) -> PathBuf {
        self.root.join("scans")
    }
    /// Compiled content filters (not personal, rebuilt at start).
    pub fn filters(&self) -> PathBuf {
        self.root.join("filters")
    }

    /// At start, before any webview exists: erase everything a previous run may have left (crash,
    /// power cut, `kill -9`), then create the empty folders.
    pub fn wipe_at_start(&self) -> std::io::Result<()> {
        remove_all(&self.root)?;
        std::fs::create_dir_all(self.downloads())?;
        self.fresh_webdata()?;
        restrict(&self.root)
    }

    /// An empty WebKit data folder with the disk cache's place taken.
    fn fresh_webdata(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(self.webdata())?;
        std::fs::write(
            self.disk_cache_blocker(),
            "No HTTP disk cache: the borne keeps a person's pages in memory only.\n",
        )
    }

    /// At the end of a session, once WebKit's network process is gone (the shell stops it first):
    /// erase everything WebKit wrote for the person (cookies, storage, IndexedDB, the folders named
    /// after the origins they visited, their salt), then create the empty folder again.
    pub fn wipe_webdata(&self) -> std::io::Result<()> {
        remove_all(&self.webdata())?;
        self.fresh_webdata()
    }

    /// At the end of a session: erase the downloads (with the scanned documents finished into them),
    /// the PDFs made for the printer and the pages scanned for a document not finished.
    pub fn wipe_downloads(&self) -> std::io::Result<()> {
        remove_all(&self.scans())?;
        remove_all(&self.prints())?;
        remove_all(&self.downloads())?;
        std::fs::create_dir_all(self.downloads())
    }

    /// A safe destination for a download: the file name alone (no folders, no hidden file), inside
    /// the downloads folder, made unique.
    pub fn download_destination(&self, suggested: &str) -> PathBuf {
        let base: String = suggested
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>()
            .trim_start_matches('.')
            .trim()
            .to_owned();
        let base = if base.is_empty() { "document".to_owned() } else { base };
        let dir = self.downloads();
        let mut candidate = dir.join(&base);
        let mut n = 1;
        while candidate.exists() {
            n += 1;
            candidate = dir.join(format!("{n}-{base}"));
        }
        candidate
    }
}

/// The processes whose parent is `parent`, as `(pid, command name)`, read from a procfs mounted at
/// `proc_root` (`/proc`). WebKit's network and web processes are the kiosk's children: the shell
/// stops the network process at each session end so that nothing it holds in memory (HTTP and proxy
/// credentials, TLS session tickets, HSTS, DNS cache, open connections) reaches the next person.
pub fn child_processes(proc_root: &Path, parent: u32) -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir(proc_root) else { return Vec::new() };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
        if let Some((comm, ppid)) = parse_stat(&stat) {
            if ppid == parent {
                out.push((pid, comm));
            }
        }
    }
    out.sort();
    out
}

/// `(command name, parent pid)` of a `/proc/<pid>/stat` line. The name sits between the first `(`
/// and the last `)` and may itself hold spaces and parentheses.
fn parse_stat(stat: &str) -> Option<(String, u32)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((comm, ppid))
}

/// True for WebKitGTK's network process (its command name is cut to 15 bytes by the kernel).
pub fn is_network_process(comm: &str) -> bool {
    comm.starts_with("WebKitNetworkPr")
}

fn remove_all(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SessionSettings {
        SessionSettings { idle_timeout_secs: 300, warning_secs: 60, accompanied_idle_secs: 1800, countdown_tone: true }
    }

    #[test]
    fn untouched_portal_never_counts_down() {
        let t0 = Instant::now();
        let mut c = IdleClock::new(settings(), t0);
        assert_eq!(c.tick(t0 + Duration::from_secs(10_000)), None);
    }

    #[test]
    fn warns_then_expires_and_input_cancels() {
        let t0 = Instant::now();
        let mut c = IdleClock::new(settings(), t0);
        c.input(t0);
        assert_eq!(c.tick(t0 + Duration::from_secs(299)), None);
        assert_eq!(c.tick(t0 + Duration::from_secs(300)), Some(IdleEvent::Warn(60)));
        assert_eq!(c.tick(t0 + Duration::from_secs(301)), None, "warned once");
        assert_eq!(c.input(t0 + Duration::from_secs(310)), Some(IdleEvent::Cancel));
        assert_eq!(c.tick(t0 + Duration::from_secs(609)), None);
        assert_eq!(c.tick(t0 + Duration::from_secs(610)), Some(IdleEvent::Warn(60)));
        assert_eq!(c.tick(t0 + Duration::from_secs(670)), Some(IdleEvent::Expire));
        assert!(!c.is_open());
        assert_eq!(c.tick(t0 + Duration::from_secs(2000)), None);
    }

    #[test]
    fn a_late_tick_still_expires() {
        let t0 = Instant::now();
        let mut c = IdleClock::new(settings(), t0);
        c.input(t0);
        assert_eq!(c.tick(t0 + Duration::from_secs(5000)), Some(IdleEvent::Expire));
    }

    #[test]
    fn start_wipe_erases_what_a_crash_left() {
        let d = tempfile::tempdir().unwrap();
        let s = SessionDirs::new(d.path());
        std::fs::create_dir_all(s.webdata().join("localstorage")).unwrap();
        std::fs::write(s.webdata().join("cookies"), "sid=secret").unwrap();
        std::fs::create_dir_all(s.downloads()).unwrap();
        std::fs::write(s.downloads().join("attestation.pdf"), "x").unwrap();
        s.wipe_at_start().unwrap();
        assert!(!s.webdata().join("cookies").exists());
        assert_eq!(std::fs::read_dir(s.downloads()).unwrap().count(), 0);
        let left: Vec<_> = std::fs::read_dir(s.webdata()).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(left, vec![s.disk_cache_blocker()]);
    }

    #[test]
    fn both_wipes_erase_the_scanned_pages() {
        let d = tempfile::tempdir().unwrap();
        let s = SessionDirs::new(d.path());
        s.wipe_at_start().unwrap();
        assert!(s.scans().starts_with(s.root()));
        for wipe in [SessionDirs::wipe_downloads, SessionDirs::wipe_at_start] {
            std::fs::create_dir_all(s.scans()).unwrap();
            std::fs::write(s.scans().join("page-1.png"), "identity card").unwrap();
            std::fs::write(s.downloads().join("document-1.pdf"), "%PDF-").unwrap();
            wipe(&s).unwrap();
            assert!(!s.scans().exists());
            assert_eq!(std::fs::read_dir(s.downloads()).unwrap().count(), 0);
        }
    }

    #[test]
    fn webdata_wipe_leaves_no_origin_folder() {
        let d = tempfile::tempdir().unwrap();
        let s = SessionDirs::new(d.path());
        s.wipe_at_start().unwrap();
        let origin = s.webdata().join("storage").join("5d41402abc4b2a76").join("5d41402abc4b2a76");
        std::fs::create_dir_all(&origin).unwrap();
        std::fs::write(origin.join("origin"), "https://caf.test").unwrap();
        std::fs::write(s.webdata().join("storage").join("salt"), "0123").unwrap();
        s.wipe_webdata().unwrap();
        assert!(s.webdata().is_dir());
        let left: Vec<_> = std::fs::read_dir(s.webdata()).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(left, vec![s.disk_cache_blocker()], "only the disk cache's blocker is left");
    }

    #[test]
    fn the_internal_gate_lets_through_only_the_address_asked_once_and_in_time() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        let portal = u("tauri://localhost/index.html");
        let admin = u("tauri://localhost/admin.html");
        let t0 = Instant::now();
        let mut g = InternalGate::default();
        // Nothing asked: refused.
        assert!(!g.take(&portal, t0));
        // Asked for the portal: the admin page cannot ride on that pass.
        g.open(&portal, t0);
        assert!(!g.take(&admin, t0));
        assert!(g.take(&portal, t0 + Duration::from_secs(1)));
        // Used once.
        assert!(!g.take(&portal, t0 + Duration::from_secs(1)));
        // Two requests for the same page (the start's and a reload's): two passes.
        g.open(&portal, t0);
        g.open(&portal, t0);
        assert!(g.take(&portal, t0));
        assert!(g.take(&portal, t0));
        assert!(!g.take(&portal, t0));
        // Too late.
        g.open(&portal, t0);
        assert!(!g.take(&portal, t0 + InternalGate::TTL + Duration::from_millis(1)));
        assert_eq!(g.waiting(), 0);
        // The query counts (the blocked page names its host), the fragment does not.
        let blocked = u("tauri://localhost/blocked.html?host=a.test&reason=x");
        g.open(&blocked, t0);
        assert!(!g.take(&u("tauri://localhost/blocked.html?host=b.test&reason=x"), t0));
        assert!(g.take(&u("tauri://localhost/blocked.html?host=a.test&reason=x#top"), t0));
        // Bounded.
        for _ in 0..100 {
            g.open(&portal, t0);
        }
        assert!(g.waiting() <= 16);
    }

    #[test]
    fn the_disk_cache_folder_cannot_be_made_after_a_start_or_a_wipe() {
        let d = tempfile::tempdir().unwrap();
        let s = SessionDirs::new(d.path());
        s.wipe_at_start().unwrap();
        // What WebKit's NetworkCache::Storage::open does first: make the folder and its salt.
        assert!(s.disk_cache_blocker().is_file());
        assert!(std::fs::create_dir_all(s.disk_cache_blocker().join("Version 16")).is_err());
        std::fs::remove_file(s.disk_cache_blocker()).unwrap();
        std::fs::create_dir_all(s.disk_cache_blocker().join("Version 16").join("Records")).unwrap();
        s.wipe_webdata().unwrap();
        assert!(s.disk_cache_blocker().is_file(), "a wipe puts the blocker back in place of a cache folder");
        assert!(std::fs::create_dir_all(s.disk_cache_blocker().join("Version 16")).is_err());
    }

    #[test]
    fn children_are_found_by_parent_pid_whatever_their_name() {
        let d = tempfile::tempdir().unwrap();
        for (pid, stat) in [
            ("100", "100 (borne) S 1 100 100 0 -1"),
            ("101", "101 (WebKitNetworkPr) S 100 100 100 0 -1"),
            ("102", "102 (WebKitWebProces) S 100 100 100 0 -1"),
            ("103", "103 (odd ) name (x)) S 100 100 100 0 -1"),
            ("104", "104 (WebKitNetworkPr) S 7 7 7 0 -1"),
            ("self", "100 (borne) S 1 100 100 0 -1"),
        ] {
            std::fs::create_dir_all(d.path().join(pid)).unwrap();
            std::fs::write(d.path().join(pid).join("stat"), stat).unwrap();
        }
        std::fs::create_dir_all(d.path().join("105")).unwrap(); // gone between listing and reading
        let kids = child_processes(d.path(), 100);
        assert_eq!(
            kids,
            vec![
                (101, "WebKitNetworkPr".to_owned()),
                (102, "WebKitWebProces".to_owned()),
                (103, "odd ) name (x)".to_owned())
            ]
        );
        let net: Vec<u32> = kids.iter().filter(|(_, c)| is_network_process(c)).map(|(p, _)| *p).collect();
        assert_eq!(net, vec![101]);
        assert!(child_processes(&d.path().join("missing"), 100).is_empty());
    }

    #[test]
    fn download_names_cannot_leave_the_folder() {
        let d = tempfile::tempdir().unwrap();
        let s = SessionDirs::new(d.path());
        s.wipe_at_start().unwrap();
        for bad in ["../../etc/passwd", "/etc/shadow", "..\\..\\x", ".bashrc", "", "a\u{0}b"] {
            let p = s.download_destination(bad);
            assert!(p.starts_with(s.downloads()), "{bad} -> {p:?}");
            assert_eq!(p.parent().unwrap(), s.downloads());
        }
        std::fs::write(s.download_destination("a.pdf"), "1").unwrap();
        assert_eq!(s.download_destination("a.pdf").file_name().unwrap(), "2-a.pdf");
    }
}
