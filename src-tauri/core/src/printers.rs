//! « Imprimante » in the admin screens: the printers CUPS finds (driverless IPP Everywhere ones first,
//! on the network or on USB through `ipp-usb`), adding one as the borne's printer, a test page, the
//! queue's state in words (out of paper, jammed, stopped…), and a printer removed under the borne.
//! This file holds the pure part (what the CUPS clients' answers mean, the queue's name, why it
//! failed); [`cups`] runs the clients, each within a time limit; [`test_page`] draws the page.
//!
//! Everything goes through CUPS's own clients (`lpinfo`, `lpadmin`, `lpstat`, `lp`, `lpoptions`,
//! `cupsenable`, `cupsaccept`), run with `LANG=C` (their words are read); CUPS's files are never
//! written. [`crate::print`] prints the people's documents; this module sets the printer up.
//!
//! # Who may do it
//!
//! `lpstat`, `lpoptions` and `lp` need no right. Listing devices (`lpinfo -v`), adding, removing or
//! making a queue the default (`lpadmin`) and restarting it (`cupsenable`, `cupsaccept`) need CUPS's
//! `@SYSTEM` (Debian's `cupsd.conf`: `Require user @SYSTEM`; `cups-files.conf`: `SystemGroup root
//! lpadmin`). CUPS checks the caller itself, through the peer credentials of its local socket
//! (`PeerCred on`): no password, no root helper, no polkit (CUPS does not use it). The image must put
//! the kiosk's user `borne` in the group `lpadmin` (sysusers: `m borne lpadmin`), which gives it
//! exactly CUPS's administration and nothing else. Without it every such call answers « Forbidden »,
//! which the screen says as [`PrinterError::NotAllowed`].
//!
//! # What the shell calls
//!
//! All of them run CUPS clients (up to a minute to add a printer): off the GTK thread.
//! [`Cups::new`] once.
//! - **slow** [`Cups::discover`]: the printers found, as [`Found`]s (driverless first).
//! - **slow** [`Cups::add`]`(&Found)`: adds it (its name from [`queue_name`], the PPD made by CUPS
//!   from the printer itself for driverless ones, a matching driver for the others), makes it the
//!   system's default, and returns it as [`Added`]: save [`Added::name`] as the borne's printer
//!   (`[printing] printer` of the settings, through the settings' checked save).
//!   [`Cups::driver_for`] and [`Cups::add_queue`]`(name, uri, &Driver, description)` are its two
//!   steps, for a printer given by its address.
//! - [`Cups::installed`]: the queues CUPS has, the default marked; [`Cups::set_default`].
//! - [`Cups::status`]`(name)`: a [`Status`] (idle, printing or stopped; accepting or not; the
//!   [`Reason`]s in words); a printer removed meanwhile is [`PrinterError::Gone`].
//! - [`Cups::print_test_page`]`(name, centre)`: the job id; [`Cups::job_pending`] says whether it
//!   is still in the queue.
//! - [`Cups::resume`]`(name)`: « Relancer l'imprimante » (enable and accept jobs again).
//! - [`Cups::remove`]`(name)`.
//! - Texts: [`PrinterError::code`] is `admin.printers.error.<code>` (with `{name}` for `gone`),
//!   [`Status::state_code`] `admin.printers.state.<code>`, [`Reason::code`]
//!   `admin.printers.reason.<code>` in `ui/i18n/*.json`.

use serde::Serialize;

pub mod cups;
pub mod test_page;

pub use cups::{Added, Cups};

/// How a printer is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Connection {
    /// Over the network (or over USB through `ipp-usb`, which CUPS sees as a network printer).
    Network,
    /// A USB cable, through CUPS's `usb` backend (a driver is needed).
    Usb,
}

/// A printer CUPS found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    /// CUPS's device URI (`dnssd://…._ipp._tcp.local/?uuid=…`, `usb://HP/LaserJet%201020?serial=…`).
    pub uri: String,
    /// Its name as it announces itself.
    pub info: String,
    /// Make and model.
    pub make_and_model: String,
    /// IEEE 1284 device id (`MFG:HP;MDL:…;`), to find a driver.
    pub device_id: String,
    /// Where it says it is.
    pub location: String,
    /// How it is reached.
    pub connection: Connection,
    /// It speaks IPP: CUPS makes its PPD from the printer itself (IPP Everywhere, AirPrint).
    pub driverless: bool,
}

impl Found {
    /// A network printer given by its IPP address (`ipp://192.168.1.20/ipp/print`, `ipps://…`),
    /// for « Ajouter par son adresse » when the network does not announce it (no mDNS across the
    /// centre's routers). Anything but an `ipp`/`ipps` URL with a host is refused.
    pub fn by_address(address: &str) -> Result<Found, PrinterError> {
        let url = url::Url::parse(address.trim()).map_err(|e| PrinterError::BadDevice(e.to_string()))?;
        if !matches!(url.scheme(), "ipp" | "ipps") || url.host_str().is_none_or(str::is_empty) {
            return Err(PrinterError::BadDevice(format!("not an IPP address: scheme {}", url.scheme())));
        }
        let host = url.host_str().unwrap_or_default().to_owned();
        Ok(Found {
            uri: url.to_string(),
            info: host,
            make_and_model: String::new(),
            device_id: String::new(),
            location: String::new(),
            connection: Connection::Network,
            driverless: true,
        })
    }
}

/// Device URI schemes the borne offers.
const SCHEMES: [&str; 4] = ["dnssd", "ipp", "ipps", "usb"];

/// The DNS-SD service instance of a `dnssd://` URI and its service type, to keep one entry per
/// printer (`dnssd://HP%20M28w._ipp._tcp.local/` → `HP%20M28w`, `_ipp._tcp`).
fn dnssd_service(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("dnssd://")?;
    let host = rest.split('/').next()?;
    let i = host.find("._")?;
    let (instance, service) = host.split_at(i);
    let service = service.trim_start_matches('.');
    let service = service.find("._tcp").map_or(service, |j| &service[..j + 5]);
    Some((instance, service))
}

/// Whether CUPS makes the PPD from the printer itself.
fn is_driverless(uri: &str) -> bool {
    match dnssd_service(uri) {
        Some((_, service)) => service == "_ipp._tcp" || service == "_ipps._tcp",
        None => uri.starts_with("ipp://") || uri.starts_with("ipps://"),
    }
}

/// The printers in `lpinfo -l -v` (pure): real device URIs of the offered schemes only (not the
/// backends' bare names `ipp`, `ipps`), one entry per DNS-SD printer (its `_ipp._tcp` service,
/// else `_ipps._tcp`, else another), driverless ones first, then by name.
pub fn parse_lpinfo_devices(text: &str) -> Vec<Found> {
    let mut all: Vec<Found> = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line.trim().split_once(" = ").or_else(|| {
            // `location = ` with nothing after it.
            line.trim().strip_suffix(" =").map(|k| (k, ""))
        }) else {
            continue;
        };
        let value = value.trim().to_owned();
        match key {
            "Device: uri" => all.push(Found {
                connection: if value.starts_with("usb:") { Connection::Usb } else { Connection::Network },
                driverless: is_driverless(&value),
                uri: value,
                info: String::new(),
                make_and_model: String::new(),
                device_id: String::new(),
                location: String::new(),
            }),
            _ => {
                let Some(f) = all.last_mut() else { continue };
                match key {
                    "info" => f.info = value,
                    "make-and-model" => f.make_and_model = value,
                    "device-id" => f.device_id = value,
                    "location" => f.location = value,
                    _ => {}
                }
            }
        }
    }
    all.retain(|f| {
        let scheme = f.uri.split("://").next().unwrap_or("");
        f.uri.contains("://")
            && SCHEMES.contains(&scheme)
            && !f.uri.chars().any(|c| c.is_whitespace() || c.is_control())
    });
    let rank = |f: &Found| match dnssd_service(&f.uri) {
        Some((_, "_ipp._tcp")) => 0,
        Some((_, "_ipps._tcp")) => 1,
        _ => 2,
    };
    let mut out: Vec<Found> = Vec::new();
    for f in all {
        let same = |g: &Found| matches!((dnssd_service(&g.uri), dnssd_service(&f.uri)), (Some((a, _)), Some((b, _))) if a == b);
        match out.iter_mut().find(|g| same(g)) {
            Some(g) if rank(&f) < rank(g) => *g = f,
            Some(_) => {}
            None => out.push(f),
        }
    }
    out.sort_by(|a, b| b.driverless.cmp(&a.driverless).then_with(|| a.info.to_lowercase().cmp(&b.info.to_lowercase())));
    out
}

/// How CUPS drives the printer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "ppd", rename_all = "lowercase")]
pub enum Driver {
    /// IPP Everywhere: CUPS makes the PPD from the printer's own answers (`-m everywhere`).
    Everywhere,
    /// A driver of the system, by its name in `lpinfo -m`.
    Ppd(String),
}

impl Driver {
    /// `lpadmin -m`'s value.
    pub fn model(&self) -> &str {
        match self {
            Driver::Everywhere => "everywhere",
            Driver::Ppd(name) => name,
        }
    }
}

/// One field of an IEEE 1284 device id (`MFG:HP;MDL:LaserJet 1020;`), by any of its names (the
/// model is `MDL` or `MODEL`).
pub fn device_id_field<'a>(device_id: &'a str, names: &[&str]) -> Option<&'a str> {
    device_id.split(';').find_map(|pair| {
        let (k, v) = pair.split_once(':')?;
        names.iter().any(|n| k.trim().eq_ignore_ascii_case(n)).then(|| v.trim()).filter(|v| !v.is_empty())
    })
}

/// The driver for `model` among `lpinfo -m`'s lines (`NAME MAKE-AND-MODEL`) (pure): one whose make
/// and model names the model (letters and digits compared, case ignored; a trailing « series »
/// may be missing), a « recommended » one first. CUPS lists every driver when none matches the
/// device id it was given, so the list itself proves nothing. IPP Everywhere, raw queues and
/// cups-filters' `driverless:` PPDs are left out: no driver for a printer that does not speak IPP.
pub fn pick_driver(lpinfo_m: &str, model: &str) -> Option<String> {
    let squash = |s: &str| s.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
    let wanted = squash(model);
    let short = wanted.strip_suffix("series").unwrap_or(&wanted).to_owned();
    if short.len() < 3 {
        return None;
    }
    let candidates: Vec<(&str, &str)> = lpinfo_m
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(name, _)| *name != "everywhere" && *name != "raw" && !name.starts_with("driverless:"))
        .filter(|(_, mm)| squash(mm).contains(&short))
        .collect();
    candidates
        .iter()
        .find(|(_, mm)| mm.contains("recommended"))
        .or_else(|| candidates.first())
        .map(|(name, _)| (*name).to_owned())
}

/// A CUPS queue name for a printer (pure): its name's letters and digits, accents dropped, other
/// characters as `_`, 40 characters at most; `imprimante` when nothing is left.
pub fn queue_name(info: &str) -> String {
    let mut out = String::new();
    for c in info.chars() {
        let c = match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' => 'a',
            'À' | 'Â' | 'Ä' | 'Á' | 'Ã' => 'A',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'É' | 'È' | 'Ê' | 'Ë' => 'E',
            'î' | 'ï' | 'í' => 'i',
            'Î' | 'Ï' | 'Í' => 'I',
            'ô' | 'ö' | 'ó' | 'õ' => 'o',
            'Ô' | 'Ö' | 'Ó' | 'Õ' => 'O',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'Ù' | 'Û' | 'Ü' | 'Ú' => 'U',
            'ç' => 'c',
            'Ç' => 'C',
            c if c.is_ascii_alphanumeric() || c == '-' => c,
            _ => '_',
        };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    let out: String = out.chars().take(40).collect();
    let out = out.trim_end_matches('_').to_owned();
    if out.is_empty() {
        "imprimante".into()
    } else {
        out
    }
}

/// Whether `name` may be given to `lpadmin -p` as it is: what [`queue_name`] makes (letters,
/// digits, `-`, `_`, 1 to 127 characters).
pub fn valid_queue_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A queue CUPS has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Installed {
    /// Its name.
    pub name: String,
    /// Its device URI.
    pub uri: String,
    /// The system's default.
    pub default: bool,
}

/// The queues in `lpstat -v` and the default in `lpstat -d` (pure).
pub fn parse_installed(lpstat_v: &str, lpstat_d: &str) -> Vec<Installed> {
    let default =
        lpstat_d.lines().find_map(|l| l.strip_prefix("system default destination: ")).map(str::trim).unwrap_or("");
    lpstat_v
        .lines()
        .filter_map(|l| l.strip_prefix("device for "))
        .filter_map(|l| l.split_once(": "))
        .map(|(name, uri)| Installed { name: name.to_owned(), uri: uri.trim().to_owned(), default: name == default })
        .collect()
}

/// What the queue is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueState {
    /// Waiting for a job.
    Idle,
    /// Printing one.
    Printing,
    /// Stopped (by a failure of the printer, or by hand): jobs wait until it is restarted.
    Stopped,
}

/// Something the printer or CUPS says about the queue (IPP `printer-state-reasons`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The screen's code (`admin.printers.reason.<code>`): `media-empty`, `media-low`,
    /// `media-jam`, `supply-empty`, `supply-low`, `cover-open`, `output-full`, `offline`, `paused`,
    /// `other`.
    pub code: &'static str,
    /// IPP's keyword as CUPS gave it (`media-empty-error`), for the log.
    pub keyword: String,
    /// Whether it stops jobs from coming out (an `-error`, or a state with no suffix that does);
    /// `-warning` and `-report` ones only inform.
    pub blocking: bool,
}

/// Every reason code, for the tests that check each has its text in every language.
pub const REASON_CODES: [&str; 10] = [
    "media-empty",
    "media-low",
    "media-jam",
    "supply-empty",
    "supply-low",
    "cover-open",
    "output-full",
    "offline",
    "paused",
    "other",
];

/// One IPP `printer-state-reasons` keyword in words (pure); `None` for `none` and for CUPS's own
/// bookkeeping (`cups-waiting-for-job-completed`, `cups-…`).
pub fn reason(keyword: &str) -> Option<Reason> {
    if keyword == "none" || keyword.starts_with("cups-") || keyword.is_empty() {
        return None;
    }
    let (base, suffix) = ["-error", "-warning", "-report"]
        .iter()
        .find_map(|s| keyword.strip_suffix(s).map(|b| (b, Some(*s))))
        .unwrap_or((keyword, None));
    let code = match base {
        "media-empty" | "media-needed" | "input-tray-missing" => "media-empty",
        "media-low" => "media-low",
        "media-jam" => "media-jam",
        "toner-empty" | "marker-supply-empty" | "marker-waste-full" => "supply-empty",
        "toner-low" | "marker-supply-low" | "marker-waste-almost-full" => "supply-low",
        "door-open" | "cover-open" | "interlock-open" => "cover-open",
        "output-area-full" | "output-tray-missing" => "output-full",
        "offline" | "shutdown" | "connecting-to-device" | "timed-out" => "offline",
        "paused" | "moving-to-paused" => "paused",
        _ => "other",
    };
    let blocking = match suffix {
        Some("-error") => true,
        Some(_) => false,
        None => !matches!(code, "media-low" | "supply-low" | "other"),
    };
    Some(Reason { code, keyword: keyword.to_owned(), blocking })
}

/// A queue's state, for the « Imprimante » screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The queue.
    pub name: String,
    /// What it is doing.
    pub state: QueueState,
    /// Whether it takes new jobs.
    pub accepting: bool,
    /// What the printer or CUPS says, in words.
    pub reasons: Vec<Reason>,
    /// CUPS's own message (`printer-state-message`), in English, for the log.
    pub message: Option<String>,
}

impl Status {
    /// Whether a job sent now would come out.
    pub fn ready(&self) -> bool {
        self.accepting && self.state != QueueState::Stopped && !self.reasons.iter().any(|r| r.blocking)
    }

    /// The screen's code of the state (`admin.printers.state.<code>`): `idle`, `printing`,
    /// `stopped`, or `not-accepting` (running, but refusing new jobs).
    pub fn state_code(&self) -> &'static str {
        match (self.state, self.accepting) {
            (QueueState::Stopped, _) => "stopped",
            (_, false) => "not-accepting",
            (QueueState::Idle, true) => "idle",
            (QueueState::Printing, true) => "printing",
        }
    }
}

/// The status of `name` from `lpstat -l -p NAME` and `lpstat -a NAME` (pure); `None` when the first
/// says nothing of that queue.
pub fn parse_status(name: &str, lpstat_p: &str, lpstat_a: &str) -> Option<Status> {
    let mut lines = lpstat_p.lines();
    let first = lines.next()?.strip_prefix("printer ")?.strip_prefix(name)?.strip_prefix(' ')?;
    let state = if first.starts_with("disabled") {
        QueueState::Stopped
    } else if first.starts_with("now printing") {
        QueueState::Printing
    } else {
        QueueState::Idle
    };
    let message = lines
        .next()
        .and_then(|l| l.strip_prefix('\t'))
        .map(str::trim)
        .filter(|m| !m.is_empty() && !m.starts_with("Form mounted:") && *m != "reason unknown")
        .map(str::to_owned);
    let reasons = lpstat_p
        .lines()
        .find_map(|l| l.trim().strip_prefix("Alerts:"))
        .map(|alerts| alerts.split_whitespace().filter_map(reason).collect())
        .unwrap_or_default();
    let accepting = lpstat_a
        .lines()
        .filter_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
        .any(|r| r.starts_with("accepting requests"));
    Some(Status { name: name.to_owned(), state, accepting, reasons, message })
}

/// Whether `lpstat -l -p NAME` shows a PPD (`Interface: /etc/cups/ppd/NAME.ppd`): a queue without
/// one is raw, which is what `lpadmin -m everywhere` leaves when the printer did not answer.
pub fn has_ppd(lpstat_p: &str) -> bool {
    lpstat_p.lines().any(|l| l.trim_start().starts_with("Interface:"))
}

/// The make and model in `lpoptions -p NAME` (pure). lpoptions quotes a value with spaces in `'…'`
/// without escaping what is inside, so the value runs to the quote followed by the next option
/// (options are listed in order, `printer-state…` follow) or the end of the line.
pub fn parse_make_and_model(lpoptions: &str) -> Option<String> {
    let rest = lpoptions.split("printer-make-and-model=").nth(1)?;
    let value = if let Some(quoted) = rest.strip_prefix('\'') {
        let end = quoted.find("' printer-").or_else(|| quoted.trim_end().strip_suffix('\'').map(str::len))?;
        &quoted[..end]
    } else {
        rest.split_whitespace().next()?
    };
    Some(value.to_owned()).filter(|v| !v.is_empty())
}

/// What CUPS's own raw queue calls itself.
pub const RAW_MODEL: &str = "Local Raw Printer";

/// Why a printer action failed. `code()` is what the screen receives and shows in French
/// (`admin.printers.error.<code>` in `ui/i18n`); the text here is the English cause for the logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrinterError {
    /// The queue does not exist (any more): removed while it was the borne's printer.
    #[error("no queue {0} in CUPS")]
    Gone(String),
    /// The scheduler does not run, or the clients are missing.
    #[error("CUPS does not answer: {0}")]
    CupsDown(String),
    /// CUPS refuses: the kiosk's user is not in `lpadmin`.
    #[error("CUPS refuses: {0}")]
    NotAllowed(String),
    /// The printer did not answer when CUPS asked it for its capabilities.
    #[error("the printer does not answer: {0}")]
    NotReachable(String),
    /// No driver for a printer that does not speak IPP.
    #[error("no driver: {0}")]
    NoDriver(String),
    /// The queue refuses jobs.
    #[error("queue {0} is not accepting jobs")]
    NotAccepting(String),
    /// A CUPS client gave no answer in time.
    #[error("no answer in time: {0}")]
    Timeout(String),
    /// A device URI or queue name the borne does not hand to CUPS.
    #[error("bad device: {0}")]
    BadDevice(String),
    /// Anything else (the client's own words).
    #[error("CUPS failed: {0}")]
    Failed(String),
}

impl PrinterError {
    /// Stable code for the screen (`admin.printers.error.<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            PrinterError::Gone(_) => "gone",
            PrinterError::CupsDown(_) => "cups-down",
            PrinterError::NotAllowed(_) => "not-allowed",
            PrinterError::NotReachable(_) => "not-reachable",
            PrinterError::NoDriver(_) => "no-driver",
            PrinterError::NotAccepting(_) => "not-accepting",
            PrinterError::Timeout(_) => "timeout",
            PrinterError::BadDevice(_) => "bad-device",
            PrinterError::Failed(_) => "other",
        }
    }

    /// Every code, for the tests that check each has its text in every language.
    pub const CODES: [&'static str; 9] = [
        "gone",
        "cups-down",
        "not-allowed",
        "not-reachable",
        "no-driver",
        "not-accepting",
        "timeout",
        "bad-device",
        "other",
    ];
}

/// What a CUPS client's failure means, from its words (`LANG=C`) (pure); `name` is the queue asked
/// about. Note that with the scheduler down `lpstat` and `lp` say the queue does not exist: the
/// caller asks `lpstat -r` before it believes [`PrinterError::Gone`].
pub fn classify(name: &str, output: &str) -> PrinterError {
    let cause = output
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.contains("deprecated"))
        .unwrap_or("")
        .chars()
        .take(300)
        .collect::<String>();
    let said = |s: &str| output.contains(s);
    if said("Forbidden") || said("client-error-forbidden") || said("not-authorized") || said("Unauthorized") {
        PrinterError::NotAllowed(cause)
    } else if said("Scheduler is not running") || said("Unable to connect to server") || said("Bad file descriptor") {
        PrinterError::CupsDown(cause)
    } else if said("Invalid destination name")
        || said("does not exist")
        || said("client-error-not-found")
        || said("Unknown printer")
    {
        PrinterError::Gone(name.to_owned())
    } else if said("not accepting jobs") {
        PrinterError::NotAccepting(name.to_owned())
    } else if said("failed to get PPD file") || said("Unable to copy PPD") {
        PrinterError::NoDriver(cause)
    } else if said("Bad device-uri") || said("can only contain printable characters") {
        PrinterError::BadDevice(cause)
    } else {
        PrinterError::Failed(if cause.is_empty() { "no words".into() } else { cause })
    }
}

#[cfg(test)]
mod tests;
