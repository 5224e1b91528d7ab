//! « Numériser un document »: scanners through SANE, the pages of a document being built, and the
//! PDF (or single JPEG) it becomes in the session's downloads, where « Mes documents » and the file
//! chooser list it ([`crate::documents`]) and the session's end erases it.
//!
//! The scanner is driven through SANE's own command line, `scanimage` (Debian's `sane-utils`), run as
//! a child process with a time limit, never through libsane linked into the kiosk: a backend that
//! hangs (a network scanner gone silent, a USB device stuck) or crashes takes a child process with it,
//! which the kiosk kills at its limit, and never the kiosk's own threads or memory. Every run has a
//! time limit ([`Scanimage::timeouts`]); what scanimage prints goes to files (the image with `-o`,
//! stdout and stderr to unnamed temporary files), never to a pipe the kiosk must drain while waiting.
//! Driverless eSCL/WSD scanners (network and USB through `ipp-usb`) come from SANE's `airscan`
//! backend, the others from SANE's usual free backends: this module sees only SANE device names.
//!
//! # What the shell calls
//!
//! The slow calls run scanimage or encode images (up to seconds each, two minutes at worst for a
//! page): run them off the GTK thread (`tauri::async_runtime::spawn_blocking`), never while holding a
//! lock the UI thread waits for.
//!
//! - [`Scanimage::new`] once (or with [`Scanimage::sane_config_dir`] for a special set-up).
//! - **slow** [`Scanimage::list`]: the scanners, as [`Device`]s (name, vendor, model, kind);
//!   cameras SANE also lists (webcams through `v4l`) are left out.
//! - **slow** [`Scanimage::scan_page`]`(&PageRequest, &SessionDirs, &Cancel)`: one page, as a
//!   [`Page`] whose PNG sits in [`SessionDirs::scans`]; [`PageRequest::new`] takes the device (one
//!   [`Scanimage::list`] gave; `None` is SANE's first, maybe a webcam) and [`ScanSettings`] (grey
//!   150 dpi by default, 150–200 dpi). A [`Cancel`] cloned into the UI's state stops it
//!   (« Annuler », end of session).
//! - [`Document`] (kept in the shell's state for the session): [`Document::add`],
//!   [`Document::retake`], [`Document::remove`], [`Document::rotate`] are quick.
//! - **slow** [`PageImage::preview`]`(PREVIEW_WIDTH)`: a JPEG of a page for the screen (a `data:`
//!   URL for the toolbar's page); take the [`PageImage`] with [`Document::page_image`] under the
//!   lock, draw it after releasing the lock ([`Document::preview`] does both at once).
//! - **slow** [`Document::finish`]`(&Target, &SessionDirs)`: [`Target::from_input`] takes the
//!   site's `accept` attribute and the size it declares, if any; the answer is the file written
//!   (`document-1.pdf`…) in the downloads: refresh « Mes documents » and offer it to the chooser.
//!   Take the document out of the shared state for it (`std::mem::take`) and put it back on an
//!   error (the pages are kept: the person may remove one and try again).
//! - Errors: [`ScanError::code`] and [`DocumentError::code`] are the `scan.error.<code>` texts of
//!   `ui/i18n/*.json`; the English cause is already logged. Pages already scanned are kept on any
//!   error: nothing is lost but the page that failed.
//! - End of session: cancel a scan in flight and wait for its task to end (a page that arrives
//!   after the wipe would be the next person's), drop the [`Document`] with the rest of the
//!   session's state, give the next session a new [`Cancel`]; [`SessionDirs::wipe_downloads`] (and
//!   the start's [`SessionDirs::wipe_at_start`]) erase the scanned pages and the documents.

use std::ffi::OsString;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::session::SessionDirs;

pub mod document;

pub use document::{
    declared_max_bytes, Accept, Document, DocumentError, Finished, Output, Page, PageImage, Preview, Rotation, Target,
    PREVIEW_WIDTH,
};

/// How long listing the scanners may take (network scanners are discovered within a few seconds).
pub const LIST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one page may take, warm-up included (a slow USB scanner in colour at 200 dpi: about a
/// minute).
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(120);
/// Lowest resolution a person's page is scanned at (legible for upload forms).
pub const MIN_DPI: u32 = 150;
/// Highest resolution (a page of at most about 1 MB once compressed).
pub const MAX_DPI: u32 = 200;
/// Most bytes read back from scanimage's stdout or stderr.
const MAX_OUTPUT: u64 = 1024 * 1024;

/// Grey or colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    /// 8-bit grey: what most supporting documents need, and a third of the size.
    #[default]
    Grey,
    /// 24-bit colour (a photo on an identity card, a coloured form).
    Colour,
}

impl Colour {
    /// SANE's standard name of the scan mode (`SANE_VALUE_SCAN_MODE_*`).
    fn sane_mode(self) -> &'static str {
        match self {
            Colour::Grey => "Gray",
            Colour::Colour => "Color",
        }
    }
}

/// How a page is scanned: grey 150 dpi unless asked otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanSettings {
    /// Grey or colour.
    pub colour: Colour,
    /// Dots per inch, [`MIN_DPI`]..=[`MAX_DPI`].
    pub dpi: u32,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings { colour: Colour::Grey, dpi: MIN_DPI }
    }
}

impl ScanSettings {
    /// Settings with `dpi` brought into [`MIN_DPI`]..=[`MAX_DPI`].
    pub fn new(colour: Colour, dpi: u32) -> Self {
        ScanSettings { colour, dpi: dpi.clamp(MIN_DPI, MAX_DPI) }
    }
}

/// The part of the scanner's glass scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Area {
    /// An A4 page, 210 × 297 mm from the top-left corner (brought within the glass by the backend).
    #[default]
    A4,
    /// Whatever the backend scans by default (a backend without geometry options).
    DeviceDefault,
}

/// One more option for the SANE backend, passed as `--name=value` (tests: the `test` backend's
/// `--test-picture` or `--read-return-value`; a site's special scanner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendOption {
    name: String,
    value: String,
}

impl BackendOption {
    /// An option named like SANE's options (lowercase letters, digits, dashes, starting with a
    /// letter), or `None`; scanimage's own options (output, batch, device, listing…) are refused.
    /// The value is one argument: it cannot become another option.
    pub fn new(name: &str, value: &str) -> Option<Self> {
        const FRONTEND: [&str; 15] = [
            "device-name",
            "format",
            "icc-profile",
            "list-devices",
            "formatted-device-list",
            "accept-md5-only",
            "progress",
            "output-file",
            "dont-scan",
            "test",
            "all-options",
            "help",
            "verbose",
            "buffer-size",
            "version",
        ];
        let ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !FRONTEND.contains(&name)
            && !name.starts_with("batch");
        ok.then(|| BackendOption { name: name.to_owned(), value: value.to_owned() })
    }

    fn arg(&self) -> String {
        format!("--{}={}", self.name, self.value)
    }
}

/// What to scan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageRequest {
    /// The SANE device name ([`Device::name`], from [`Scanimage::list`]), or `None` for SANE's first
    /// device (which may be a webcam where `v4l` is enabled: the shell passes a listed one).
    pub device: Option<String>,
    /// Grey or colour, resolution.
    pub settings: ScanSettings,
    /// The area scanned.
    pub area: Area,
    /// Backend options added after the others.
    pub extra: Vec<BackendOption>,
}

impl PageRequest {
    /// An A4 page from `device` (or SANE's first scanner) with `settings`.
    pub fn new(device: Option<&str>, settings: ScanSettings) -> Self {
        PageRequest { device: device.map(str::to_owned), settings, area: Area::A4, extra: Vec::new() }
    }

    /// The same request with one more backend option.
    pub fn with_option(mut self, option: BackendOption) -> Self {
        self.extra.push(option);
        self
    }

    /// scanimage's arguments with SANE's standard name of the mode, the output file last.
    #[cfg(test)]
    fn args(&self, output: &Path) -> Vec<OsString> {
        self.args_as(output, self.settings.colour.sane_mode(), self.area)
    }

    /// scanimage's arguments with the backend's own name of the mode and this area.
    fn args_as(&self, output: &Path, mode: &str, area: Area) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        if let Some(d) = &self.device {
            args.push(format!("--device-name={d}").into());
        }
        args.push(format!("--mode={mode}").into());
        args.push(format!("--resolution={}", self.settings.dpi.clamp(MIN_DPI, MAX_DPI)).into());
        if area == Area::A4 {
            args.extend(["-l", "0", "-t", "0", "-x", "210", "-y", "297"].map(OsString::from));
        }
        args.extend(self.extra.iter().map(|o| o.arg().into()));
        args.push("--format=png".into());
        let mut out = OsString::from("--output-file=");
        out.push(output);
        args.push(out);
        args
    }
}

/// A scanner SANE found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    /// SANE's device name (`airscan:e0:HP LaserJet…`, `test:0`): what [`PageRequest::device`] takes.
    pub name: String,
    /// The maker, as the backend says it.
    pub vendor: String,
    /// The model.
    pub model: String,
    /// The kind, as the backend says it ("flatbed scanner", "eSCL network scanner"…).
    pub kind: String,
}

impl Device {
    /// The SANE backend that drives it: what comes before the first `:` of its name.
    pub fn backend(&self) -> &str {
        self.name.split(':').next().unwrap_or("")
    }

    /// Whether it scans paper: SANE also lists cameras (`v4l` webcams, enabled in Debian's
    /// `dll.conf`, and `gphoto2` cameras), which are no use for a supporting document.
    pub fn is_document_scanner(&self) -> bool {
        !matches!(self.backend(), "v4l" | "gphoto2" | "dc210" | "dc240" | "dc25" | "dmc" | "qcam" | "stv680")
    }
}

/// The format given to `scanimage --formatted-device-list`: one device a line, fields separated by
/// tabs (no SANE device name or model holds one).
const LIST_FORMAT: &str = "%d\t%v\t%m\t%t%n";

/// The devices in scanimage's answer to `--formatted-device-list` with the tab-separated format
/// the kiosk gives it (pure). A line that does not have the four
/// fields is logged and skipped.
pub fn parse_device_list(text: &str) -> Vec<Device> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            [name, vendor, model, kind] if !name.trim().is_empty() => out.push(Device {
                name: name.trim().to_owned(),
                vendor: vendor.trim().to_owned(),
                model: model.trim().to_owned(),
                kind: kind.trim().to_owned(),
            }),
            _ => {
                tracing::warn!(line = %line.chars().take(200).collect::<String>(), "unexpected line in scanimage's device list")
            }
        }
    }
    out
}

/// Why a page could not be scanned or the scanners listed. `code()` is what the screens receive and
/// turn into French text (`scan.error.<code>` in `ui/i18n`); the text shown here is the English
/// cause for the logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// SANE finds no scanner (none plugged in, switched off, unknown to SANE), the one asked for is
    /// not there, or scanimage itself is not installed.
    #[error("no scanner: {0}")]
    NoScanner(String),
    /// The scanner is used by another program or still busy with the last page.
    #[error("scanner busy")]
    Busy,
    /// The lid or a cover of the scanner is open.
    #[error("scanner cover open")]
    CoverOpen,
    /// Paper jammed in the document feeder.
    #[error("document feeder jammed")]
    Jammed,
    /// No page in the document feeder.
    #[error("no paper in the document feeder")]
    NoPaper,
    /// The scanner stopped answering in the middle of a scan (unplugged, switched off, network lost:
    /// SANE's I/O error), or left no readable image.
    #[error("scanner gone or I/O error during the scan: {0}")]
    DeviceGone(String),
    /// scanimage did not finish within its time limit and was killed.
    #[error("scanimage gave no answer within {0:?} and was stopped")]
    Timeout(Duration),
    /// The scan was stopped (the person's « Annuler », the end of the session, or the scanner's own
    /// cancel button).
    #[error("scan cancelled")]
    Cancelled,
    /// Anything else SANE or the system said (the cause is scanimage's own words).
    #[error("scan failed: {0}")]
    Failed(String),
}

impl ScanError {
    /// Stable code for the screens (`scan.error.<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            ScanError::NoScanner(_) => "no-scanner",
            ScanError::Busy => "busy",
            ScanError::CoverOpen => "cover-open",
            ScanError::Jammed => "jammed",
            ScanError::NoPaper => "no-paper",
            ScanError::DeviceGone(_) => "device-gone",
            ScanError::Timeout(_) => "timeout",
            ScanError::Cancelled => "cancelled",
            ScanError::Failed(_) => "other",
        }
    }

    /// Every code, for the tests that check each has its text in every language.
    pub const CODES: [&'static str; 9] =
        ["no-scanner", "busy", "cover-open", "jammed", "no-paper", "device-gone", "timeout", "cancelled", "other"];
}

/// What a failed scanimage run means, from its exit status and what it wrote on stderr (pure).
///
/// scanimage prints `sane_strstatus` (in the C locale: the kiosk runs it with `LC_ALL=C`) and, after
/// a failed `sane_start` or `sane_read`, exits with the SANE status itself; other failures exit 1.
/// The words are read first, the status after.
pub fn classify(exit: Option<i32>, stderr: &str) -> ScanError {
    let cause = stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.contains("rounded value of") && !l.starts_with("Output format is not set"))
        .unwrap_or("")
        .chars()
        .take(300)
        .collect::<String>();
    let said = |s: &str| stderr.contains(s);
    if said("no SANE devices found") {
        return ScanError::NoScanner(cause);
    }
    if said("open of device") && said("Invalid argument") {
        // The device named is not (or no longer) there.
        return ScanError::NoScanner(cause);
    }
    if said("Device busy") {
        return ScanError::Busy;
    }
    if said("cover is open") {
        return ScanError::CoverOpen;
    }
    if said("feeder jammed") {
        return ScanError::Jammed;
    }
    if said("out of documents") {
        return ScanError::NoPaper;
    }
    if said("Error during device I/O") {
        return ScanError::DeviceGone(cause);
    }
    if said("Operation was canceled") {
        return ScanError::Cancelled;
    }
    // SANE_Status numbers (sane/sane.h), for a scanimage whose words differ.
    match exit {
        Some(2) => ScanError::Cancelled,
        Some(3) => ScanError::Busy,
        Some(6) => ScanError::Jammed,
        Some(7) => ScanError::NoPaper,
        Some(8) => ScanError::CoverOpen,
        Some(9) => ScanError::DeviceGone(cause),
        Some(code) => {
            ScanError::Failed(if cause.is_empty() { format!("scanimage exited with status {code}") } else { cause })
        }
        None => ScanError::Failed(if cause.is_empty() { "scanimage was killed by a signal".into() } else { cause }),
    }
}

/// The scan modes a backend offers, from `scanimage --device-name=D --help` (pure): the line
/// `    --mode Lineart|Gray|Color [Color]`.
pub fn parse_modes(help: &str) -> Vec<String> {
    let Some(line) = help.lines().map(str::trim_start).find(|l| l.starts_with("--mode ")) else { return Vec::new() };
    let list = line.trim_start_matches("--mode ").trim_end();
    // The current value follows in brackets: `[Color]`.
    let list = match list.rfind(" [") {
        Some(i) if list.ends_with(']') => &list[..i],
        _ => list,
    };
    list.split('|').map(|m| m.trim().to_owned()).filter(|m| !m.is_empty()).collect()
}

/// The backend's own name for grey or colour among `modes`: SANE's standard name when offered,
/// else the closest (`Grayscale`, `True Gray`, `24bit Color`), never a black-and-white or halftone
/// mode. `None` when it has none.
pub fn pick_mode(modes: &[String], colour: Colour) -> Option<String> {
    let lower = |m: &String| m.to_ascii_lowercase();
    let (exact, words): (&[&str], &[&str]) = match colour {
        Colour::Grey => (&["gray", "grey", "grayscale", "greyscale"], &["gray", "grey"]),
        Colour::Colour => (&["color", "colour"], &["color", "colour"]),
    };
    let unwanted = ["lineart", "halftone", "black", "binary", "diffusion", "dither"];
    modes
        .iter()
        .find(|m| exact.contains(&lower(m).as_str()))
        .or_else(|| {
            modes.iter().find(|m| {
                let l = lower(m);
                words.iter().any(|w| l.contains(w)) && !unwanted.iter().any(|u| l.contains(u))
            })
        })
        .cloned()
}

/// Stops a scan in flight: clone it into the UI's state; [`Cancel::cancel`] makes
/// [`Scanimage::scan_page`] kill scanimage within a few tens of milliseconds and answer
/// [`ScanError::Cancelled`].
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

/// Two flags are equal when they are the same flag (clones of one [`Cancel`]).
impl PartialEq for Cancel {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Cancel {}

impl Cancel {
    /// A new, unset flag.
    pub fn new() -> Self {
        Cancel::default()
    }
    /// Asks the scan to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// SANE's `scanimage`, run with a time limit for each call.
#[derive(Debug, Clone)]
pub struct Scanimage {
    program: PathBuf,
    config_dir: Option<PathBuf>,
    list_timeout: Duration,
    page_timeout: Duration,
}

impl Default for Scanimage {
    fn default() -> Self {
        Scanimage::new()
    }
}

/// How one run of scanimage ended.
struct Ran {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Why a run of scanimage gave no exit status.
enum RunError {
    Spawn(std::io::Error),
    Timeout,
    Cancelled,
}

impl Scanimage {
    /// `scanimage` from `PATH`, SANE's own configuration (`/etc/sane.d`), [`LIST_TIMEOUT`] and
    /// [`PAGE_TIMEOUT`].
    pub fn new() -> Self {
        Scanimage {
            program: PathBuf::from("scanimage"),
            config_dir: None,
            list_timeout: LIST_TIMEOUT,
            page_timeout: PAGE_TIMEOUT,
        }
    }

    /// Runs this program instead of `scanimage` from `PATH`.
    pub fn program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = program.into();
        self
    }

    /// SANE reads its configuration (`dll.conf`: which backends; one `.conf` per backend) from this
    /// folder only (`SANE_CONFIG_DIR`), not from `/etc/sane.d`. The tests point it at a folder
    /// enabling SANE's `test` backend.
    pub fn sane_config_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config_dir = Some(dir.into());
        self
    }

    /// Other time limits for listing and for one page.
    pub fn timeouts(mut self, list: Duration, page: Duration) -> Self {
        self.list_timeout = list;
        self.page_timeout = page;
        self
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        // SANE's messages in English, whatever the kiosk's language: classify() reads them.
        cmd.env("LC_ALL", "C").env_remove("LANGUAGE");
        if let Some(dir) = &self.config_dir {
            cmd.env("SANE_CONFIG_DIR", dir);
        }
        cmd
    }

    /// The scanners SANE finds now (slow: backends probe USB and the network).
    pub fn list(&self) -> Result<Vec<Device>, ScanError> {
        let mut cmd = self.command();
        cmd.arg(format!("--formatted-device-list={LIST_FORMAT}"));
        let ran = self.run(cmd, self.list_timeout, &Cancel::new()).map_err(|e| self.run_error(e, self.list_timeout))?;
        if !ran.status.success() {
            let e = classify(ran.status.code(), &ran.stderr);
            tracing::warn!(error = %e, exit = ?ran.status.code(), "listing the scanners failed");
            return Err(e);
        }
        let (devices, cameras): (Vec<Device>, Vec<Device>) =
            parse_device_list(&ran.stdout).into_iter().partition(Device::is_document_scanner);
        for c in &cameras {
            tracing::info!(backend = c.backend(), model = %c.model, "a camera SANE lists is not offered as a scanner");
        }
        tracing::info!(count = devices.len(), "scanners listed");
        Ok(devices)
    }

    /// Scans one page into a new PNG in [`SessionDirs::scans`] (slow: seconds to a minute). The page
    /// is checked (decoded) before it is returned; on any error no file is left.
    pub fn scan_page(&self, request: &PageRequest, dirs: &SessionDirs, cancel: &Cancel) -> Result<Page, ScanError> {
        let device = request.device.as_deref().unwrap_or("(first)");
        let folder = dirs.scans();
        let output = std::fs::create_dir_all(&folder)
            .and_then(|()| restrict(&folder))
            .and_then(|()| tempfile::Builder::new().prefix("page-").suffix(".png").tempfile_in(&folder))
            .and_then(|f| f.into_temp_path().keep().map_err(|e| e.error));
        let output = match output {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "cannot make a file for the scanned page in the session folder");
                return Err(ScanError::Failed(format!("session folder: {e}")));
            }
        };
        let remove = |why: &ScanError| {
            let _ = std::fs::remove_file(&output);
            tracing::warn!(device, code = why.code(), error = %why, "scan failed");
        };
        let t0 = Instant::now();
        // SANE's standard mode name and an A4 area first; a backend that refuses either is asked
        // again once with its own mode name, or its default area.
        let mut mode = request.settings.colour.sane_mode().to_owned();
        let mut area = request.area;
        let mut tries = 0;
        let ran = loop {
            tries += 1;
            let mut cmd = self.command();
            cmd.args(request.args_as(&output, &mode, area));
            let ran = match self.run(cmd, self.page_timeout, cancel) {
                Ok(ran) => ran,
                Err(e) => {
                    let e = self.run_error(e, self.page_timeout);
                    remove(&e);
                    return Err(e);
                }
            };
            if ran.status.success() {
                break ran;
            }
            tracing::debug!(stderr = %ran.stderr.trim(), "scanimage's words");
            let refused = |option: &str| {
                ran.stderr.contains(&format!("unrecognized option '{option}"))
                    || ran.stderr.contains(&format!("setting of option {option} failed"))
            };
            // getopt's words for a short option the backend lacks: "invalid option -- 'x'".
            let no_geometry = ["l", "t", "x", "y"]
                .iter()
                .any(|o| ran.stderr.contains(&format!("invalid option -- '{o}'")) || refused(&format!("-{o}")));
            if tries < 3 && area == Area::A4 && no_geometry {
                tracing::info!(device, "the scanner takes no A4 area: scanning its default area");
                area = Area::DeviceDefault;
                continue;
            }
            if tries < 3 && refused("--mode") {
                if let Some(own) = self.mode_name(request, cancel).filter(|m| *m != mode) {
                    tracing::info!(device, mode = %own, "the scanner names its mode differently");
                    mode = own;
                    continue;
                }
            }
            let e = classify(ran.status.code(), &ran.stderr);
            remove(&e);
            return Err(e);
        };
        match Page::open(&output, request.settings) {
            Ok(page) => {
                tracing::info!(
                    device,
                    width = page.width(),
                    height = page.height(),
                    dpi = page.dpi(),
                    ms = t0.elapsed().as_millis() as u64,
                    "page scanned"
                );
                Ok(page)
            }
            Err(e) => {
                // scanimage exited 0, yet the image is missing, empty or cut. Either a failure it
                // printed (a second signal during its clean-up, such as the SIGPIPE of a backend's
                // reader, makes it `_exit(0)`), or the scanner went away without a word.
                let said = ran.stderr.lines().any(|l| l.contains("sane_read:") || l.contains("sane_start:"));
                let e = if said {
                    classify(None, &ran.stderr)
                } else {
                    ScanError::DeviceGone(format!("unreadable image: {e}"))
                };
                remove(&e);
                Err(e)
            }
        }
    }

    /// The backend's own name of the mode `request` wants, from its option list.
    fn mode_name(&self, request: &PageRequest, cancel: &Cancel) -> Option<String> {
        let mut cmd = self.command();
        if let Some(d) = &request.device {
            cmd.arg(format!("--device-name={d}"));
        }
        cmd.arg("--help");
        let ran = self.run(cmd, self.list_timeout, cancel).ok()?;
        let modes = parse_modes(&ran.stdout);
        let picked = pick_mode(&modes, request.settings.colour);
        if picked.is_none() {
            tracing::warn!(?modes, "the scanner offers no grey or colour mode");
        }
        picked
    }

    fn run_error(&self, e: RunError, limit: Duration) -> ScanError {
        match e {
            RunError::Spawn(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::error!(program = %self.program.display(), "scanimage is not installed (Debian package sane-utils)");
                ScanError::NoScanner(format!("{} not found", self.program.display()))
            }
            RunError::Spawn(e) => {
                tracing::error!(program = %self.program.display(), error = %e, "cannot run scanimage");
                ScanError::Failed(format!("cannot run {}: {e}", self.program.display()))
            }
            RunError::Timeout => ScanError::Timeout(limit),
            RunError::Cancelled => ScanError::Cancelled,
        }
    }

    /// Runs `cmd` with stdout and stderr going to unnamed temporary files (whatever a backend
    /// prints, the child never blocks on a full pipe), killed past `limit` or when `cancel` is set.
    fn run(&self, mut cmd: Command, limit: Duration, cancel: &Cancel) -> Result<Ran, RunError> {
        let mut out = tempfile::tempfile().map_err(RunError::Spawn)?;
        let mut err = tempfile::tempfile().map_err(RunError::Spawn)?;
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone().map_err(RunError::Spawn)?)
            .stderr(err.try_clone().map_err(RunError::Spawn)?);
        let mut child = cmd.spawn().map_err(RunError::Spawn)?;
        let deadline = Instant::now() + limit;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(RunError::Spawn(e));
                }
            }
            let stop = if cancel.is_cancelled() {
                Some(RunError::Cancelled)
            } else if Instant::now() >= deadline {
                Some(RunError::Timeout)
            } else {
                None
            };
            if let Some(why) = stop {
                let _ = child.kill();
                let _ = child.wait();
                return Err(why);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Ok(Ran { status, stdout: read_back(&mut out), stderr: read_back(&mut err) })
    }
}

/// At most [`MAX_OUTPUT`] bytes of an output file, from its start.
fn read_back(f: &mut std::fs::File) -> String {
    let mut bytes = Vec::new();
    let _ = f.rewind().and_then(|()| f.take(MAX_OUTPUT).read_to_end(&mut bytes));
    String::from_utf8_lossy(&bytes).into_owned()
}

fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_lists_are_parsed_and_odd_lines_skipped() {
        let text = "test:0\tNoname\tfrontend-tester\tvirtual device\n\
                    airscan:e0:HP LaserJet MFP M28w (5E1F2A)\tHP\tLaserJet MFP M28w\teSCL network scanner\n\
                    \n\
                    garbage without tabs\n";
        let d = parse_device_list(text);
        assert_eq!(d.len(), 2);
        assert_eq!(
            d[0],
            Device {
                name: "test:0".into(),
                vendor: "Noname".into(),
                model: "frontend-tester".into(),
                kind: "virtual device".into()
            }
        );
        assert_eq!(d[1].name, "airscan:e0:HP LaserJet MFP M28w (5E1F2A)");
        assert_eq!(d[1].kind, "eSCL network scanner");
        assert!(parse_device_list("").is_empty());
        assert_eq!(d[1].backend(), "airscan");
        assert!(d.iter().all(Device::is_document_scanner));
        let webcam = parse_device_list("v4l:/dev/video0\tNoname\tIntegrated Camera\tvirtual device\n");
        assert_eq!(webcam[0].backend(), "v4l");
        assert!(!webcam[0].is_document_scanner());
    }

    #[test]
    fn scanimage_failures_are_classified_by_words_then_status() {
        let c = classify;
        assert_eq!(c(Some(1), "scanimage: no SANE devices found\n").code(), "no-scanner");
        assert_eq!(c(Some(1), "scanimage: open of device test:7 failed: Invalid argument\n").code(), "no-scanner");
        assert_eq!(c(Some(3), "scanimage: sane_read: Device busy\n"), ScanError::Busy);
        assert_eq!(c(Some(1), "scanimage: open of device x failed: Device busy\n"), ScanError::Busy);
        assert_eq!(c(Some(8), "scanimage: sane_read: Scanner cover is open\n"), ScanError::CoverOpen);
        assert_eq!(c(Some(6), "scanimage: sane_start: Document feeder jammed\n"), ScanError::Jammed);
        assert_eq!(c(Some(7), "scanimage: sane_start: Document feeder out of documents\n"), ScanError::NoPaper);
        assert_eq!(
            c(
                Some(9),
                "scanimage: rounded value of br-x from 210 to 200\nscanimage: sane_read: Error during device I/O\n"
            ),
            ScanError::DeviceGone("scanimage: sane_read: Error during device I/O".into())
        );
        assert_eq!(c(Some(2), "scanimage: sane_read: Operation was canceled\n"), ScanError::Cancelled);
        // Words in another language: the status decides.
        assert_eq!(c(Some(8), "scanimage: sane_read: Capot ouvert\n"), ScanError::CoverOpen);
        assert_eq!(c(Some(9), "x\n").code(), "device-gone");
        assert_eq!(
            c(Some(10), "scanimage: sane_read: Out of memory\n"),
            ScanError::Failed("scanimage: sane_read: Out of memory".into())
        );
        assert_eq!(c(Some(1), ""), ScanError::Failed("scanimage exited with status 1".into()));
        assert_eq!(c(None, "libpng error: No IDATs written into file\n").code(), "other");
        for e in [c(Some(3), ""), c(None, ""), ScanError::Timeout(PAGE_TIMEOUT), ScanError::NoScanner(String::new())] {
            assert!(ScanError::CODES.contains(&e.code()), "{e:?}");
        }
    }

    #[test]
    fn the_backends_own_mode_names_are_found() {
        let help = "Options specific to device `brother4:bus1;dev2':\n  Mode:\n    \
                    --mode Black & White|Gray[Error Diffusion]|True Gray|24bit Color[Fast]|24bit Color [24bit Color]\n        \
                    Select the scan mode\n    --resolution 100|150|200|300dpi [200]\n";
        let modes = parse_modes(help);
        assert_eq!(modes, ["Black & White", "Gray[Error Diffusion]", "True Gray", "24bit Color[Fast]", "24bit Color"]);
        assert_eq!(pick_mode(&modes, Colour::Grey).as_deref(), Some("True Gray"));
        assert_eq!(pick_mode(&modes, Colour::Colour).as_deref(), Some("24bit Color[Fast]"));
        let std = parse_modes("    --mode Lineart|Gray|Color [Color]\n");
        assert_eq!(pick_mode(&std, Colour::Grey).as_deref(), Some("Gray"));
        assert_eq!(pick_mode(&std, Colour::Colour).as_deref(), Some("Color"));
        assert_eq!(pick_mode(&parse_modes("    --mode Lineart|Halftone [Lineart]\n"), Colour::Grey), None);
        assert!(parse_modes("no modes here").is_empty());
    }

    #[test]
    fn a_scanner_with_its_own_mode_names_and_no_geometry_is_asked_again() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let fake = d.path().join("scanimage");
        // A backend without geometry options whose grey is called "True Gray": it writes a PNG only
        // when asked in its own terms, and says what it refuses as scanimage does.
        let png = d.path().join("grey.png");
        image::GrayImage::from_pixel(40, 60, image::Luma([200])).save(&png).unwrap();
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\n\
                 out=''; mode=''\n\
                 for a in \"$@\"; do case \"$a\" in\n\
                   --help) echo '    --mode Black & White|True Gray|24bit Color [24bit Color]'; exit 0;;\n\
                   -x) echo \"scanimage: invalid option -- 'x'\" >&2; exit 1;;\n\
                   --mode=*) mode=\"${{a#--mode=}}\";;\n\
                   --output-file=*) out=\"${{a#--output-file=}}\";;\n\
                 esac; done\n\
                 [ \"$mode\" = 'True Gray' ] || {{ echo 'scanimage: setting of option --mode failed (Invalid argument)' >&2; exit 1; }}\n\
                 cp {} \"$out\"\n",
                png.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let dirs = SessionDirs::new(d.path());
        let s = Scanimage::new().program(&fake);
        let page = s
            .scan_page(&PageRequest::new(Some("brother4:bus1;dev2"), ScanSettings::default()), &dirs, &Cancel::new())
            .unwrap();
        assert_eq!((page.width(), page.height(), page.colour()), (40, 60, Colour::Grey));
        // No grey at all: the refusal is reported, nothing left behind.
        std::fs::write(
            &fake,
            "#!/bin/sh\ncase \"$*\" in *--help*) echo '    --mode Lineart [Lineart]'; exit 0;; esac\n\
                               echo 'scanimage: setting of option --mode failed (Invalid argument)' >&2; exit 1\n",
        )
        .unwrap();
        let e = s.scan_page(&PageRequest::default(), &dirs, &Cancel::new()).unwrap_err();
        assert_eq!(e.code(), "other");
        assert_eq!(std::fs::read_dir(dirs.scans()).unwrap().count(), 1, "only the page scanned before");
    }

    #[test]
    fn a_scanimage_that_exits_0_without_an_image_is_not_a_page() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let dirs = SessionDirs::new(d.path());
        let fake = d.path().join("scanimage");
        let s = Scanimage::new().program(&fake);
        for (script, code) in [
            // What scanimage does when a second signal comes during its clean-up: `_exit(0)`.
            ("echo 'scanimage: sane_read: Scanner cover is open' >&2\necho 'scanimage: received signal 13' >&2\nexit 0", "cover-open"),
            ("echo 'scanimage: sane_read: Out of memory' >&2\nexit 0", "other"),
            // Nothing said, an empty image: the scanner went away.
            ("for a in \"$@\"; do case \"$a\" in --output-file=*) : > \"${a#--output-file=}\";; esac; done\nexit 0", "device-gone"),
        ] {
            std::fs::write(&fake, format!("#!/bin/sh\n{script}\n")).unwrap();
            std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
            let e = s.scan_page(&PageRequest::default(), &dirs, &Cancel::new()).unwrap_err();
            assert_eq!(e.code(), code, "{script}: {e:?}");
            assert_eq!(std::fs::read_dir(dirs.scans()).unwrap().count(), 0, "no page file left");
        }
    }

    #[test]
    fn settings_stay_within_legible_and_small() {
        assert_eq!(ScanSettings::default(), ScanSettings { colour: Colour::Grey, dpi: 150 });
        assert_eq!(ScanSettings::new(Colour::Colour, 600).dpi, 200);
        assert_eq!(ScanSettings::new(Colour::Grey, 75).dpi, 150);
        assert_eq!(ScanSettings::new(Colour::Grey, 175).dpi, 175);
    }

    #[test]
    fn backend_options_cannot_smuggle_another_option() {
        assert!(BackendOption::new("test-picture", "Grid").is_some());
        assert!(BackendOption::new("read-return-value", "SANE_STATUS_IO_ERROR").is_some());
        for bad in ["", "-x", "--x", "Mode", "output-file", "device-name", "batch-prompt", "test", "a b", "a=b"] {
            assert!(BackendOption::new(bad, "v").is_none(), "{bad}");
        }
        let req = PageRequest::new(Some("test:0"), ScanSettings::default())
            .with_option(BackendOption::new("test-picture", "--output-file=/etc/x").unwrap());
        let args: Vec<String> =
            req.args(Path::new("/s/page.png")).into_iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args.first().map(String::as_str), Some("--device-name=test:0"));
        assert!(args.contains(&"--test-picture=--output-file=/etc/x".to_owned()), "one argument: {args:?}");
        assert_eq!(args.last().map(String::as_str), Some("--output-file=/s/page.png"));
        assert!(args.contains(&"--mode=Gray".to_owned()) && args.contains(&"--resolution=150".to_owned()));
        assert!(args.windows(2).any(|w| w == ["-y", "297"]));
        let default_area = PageRequest { area: Area::DeviceDefault, ..PageRequest::default() };
        let args: Vec<OsString> = default_area.args(Path::new("/p.png"));
        assert!(!args.iter().any(|a| a == "-x"), "{args:?}");
        assert!(!args.iter().any(|a| a.to_string_lossy().starts_with("--device-name")));
    }

    #[test]
    fn a_scanimage_that_hangs_is_killed_at_its_limit_and_one_cancelled_stops() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let fake = d.path().join("scanimage");
        std::fs::write(&fake, "#!/bin/sh\nexec sleep 1000\n").unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let dirs = SessionDirs::new(d.path());
        let s = Scanimage::new().program(&fake).timeouts(Duration::from_millis(300), Duration::from_millis(300));
        let t0 = Instant::now();
        assert_eq!(s.list(), Err(ScanError::Timeout(Duration::from_millis(300))));
        let e = s.scan_page(&PageRequest::default(), &dirs, &Cancel::new()).unwrap_err();
        assert_eq!(e.code(), "timeout");
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
        assert_eq!(std::fs::read_dir(dirs.scans()).unwrap().count(), 0, "no page file left");
        let slow = Scanimage::new().program(&fake);
        let cancel = Cancel::new();
        let stopper = {
            let cancel = cancel.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                cancel.cancel();
            })
        };
        let t0 = Instant::now();
        assert_eq!(slow.scan_page(&PageRequest::default(), &dirs, &cancel), Err(ScanError::Cancelled));
        assert!(t0.elapsed() < Duration::from_secs(5));
        stopper.join().unwrap();
        // A scanimage that is not there: no scanner, said once in the log.
        let missing = Scanimage::new().program(d.path().join("no-such-scanimage"));
        assert_eq!(missing.list().unwrap_err().code(), "no-scanner");
    }

    #[test]
    fn a_backend_that_floods_stderr_does_not_block() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let fake = d.path().join("scanimage");
        // 4 MB on stderr: a pipe read only after exit would block the child until the time limit.
        std::fs::write(&fake, "#!/bin/sh\nhead -c 4000000 /dev/zero | tr '\\0' x >&2\necho 'scanimage: sane_read: Device busy' >&2\nexit 3\n").unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let dirs = SessionDirs::new(d.path());
        let s = Scanimage::new().program(&fake).timeouts(Duration::from_secs(20), Duration::from_secs(20));
        let t0 = Instant::now();
        assert_eq!(s.scan_page(&PageRequest::default(), &dirs, &Cancel::new()), Err(ScanError::Busy));
        assert!(t0.elapsed() < Duration::from_secs(15));
    }
}
