//! Printing decisions: what a person asked (copies, pages), whether the session's page quota allows
//! it, how many pages a PDF has, what CUPS says about the printer and the jobs, and the `lp` command
//! line that submits a job. No process is started here: the shell runs `lp`, `lpstat` and `cancel`
//! and hands their output to the parsers below, which are tested on real CUPS output.

use std::path::Path;

/// Most copies a person may ask for at once.
pub const MAX_COPIES: u32 = 5;

/// Which pages of the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Pages {
    /// The whole document.
    All,
    /// From `first` to `last`, 1-based, both included.
    Range {
        /// First page.
        first: u32,
        /// Last page.
        last: u32,
    },
}

/// Why a print request is refused before anything reaches the printer. `code()` is what the pages
/// receive and turn into French text (`print.error.<code>` in `ui/i18n`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No printer is configured on this borne.
    #[error("no printer configured")]
    NoPrinter,
    /// Copies outside 1..=MAX_COPIES.
    #[error("copies out of range")]
    Copies,
    /// The range is empty, reversed or past the document's end.
    #[error("page range out of the document")]
    Range,
    /// The document has no page (or could not be read).
    #[error("empty document")]
    Empty,
    /// The session's page quota would be exceeded; `left` pages may still be printed.
    #[error("page quota reached ({left} left)")]
    Quota {
        /// Pages the session may still print.
        left: u32,
    },
    /// The printer cannot print now (stopped, offline, out of paper, jammed…).
    #[error("printer not ready: {0}")]
    Printer(String),
    /// `lp` refused the job or could not be run.
    #[error("job refused by CUPS")]
    Failed,
}

impl Refusal {
    /// Stable code for the pages.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NoPrinter => "no-printer",
            Refusal::Copies => "copies",
            Refusal::Range => "range",
            Refusal::Empty => "empty",
            Refusal::Quota { .. } => "quota",
            Refusal::Printer(_) | Refusal::Failed => "printer",
        }
    }
}

/// A checked request: what will be sent to CUPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Copies, 1..=MAX_COPIES.
    pub copies: u32,
    /// First page, 1-based.
    pub first: u32,
    /// Last page, included.
    pub last: u32,
    /// Whether the whole document is printed (no `page-ranges` option then).
    pub whole: bool,
}

impl Plan {
    /// Sheets' sides counted against the quota: pages of the range times copies.
    pub fn pages(&self) -> u32 {
        (self.last - self.first + 1).saturating_mul(self.copies)
    }
}

/// Checks a request against a document of `doc_pages` pages and the pages the session has already
/// printed (`used`) under its `quota` (0 = printing off).
pub fn plan(copies: u32, pages: Pages, doc_pages: u32, used: u32, quota: u32) -> Result<Plan, Refusal> {
    if !(1..=MAX_COPIES).contains(&copies) {
        return Err(Refusal::Copies);
    }
    if doc_pages == 0 {
        return Err(Refusal::Empty);
    }
    let (first, last, whole) = match pages {
        Pages::All => (1, doc_pages, true),
        Pages::Range { first, last } if first >= 1 && first <= last && last <= doc_pages => {
            (first, last, first == 1 && last == doc_pages)
        }
        Pages::Range { .. } => return Err(Refusal::Range),
    };
    let plan = Plan { copies, first, last, whole };
    let left = quota.saturating_sub(used);
    if plan.pages() > left {
        return Err(Refusal::Quota { left });
    }
    Ok(plan)
}

/// Counts the pages of a PDF: the `/Count` of its page tree root when it can be found, else the
/// page objects (`/Type /Page`, not `/Pages`). Enough for the PDFs WebKit (cairo) writes and for
/// ordinary downloaded documents; `None` when the bytes are not a PDF.
pub fn pdf_page_count(bytes: &[u8]) -> Option<u32> {
    if !bytes.starts_with(b"%PDF-") {
        return None;
    }
    let text = String::from_utf8_lossy(bytes);
    let mut pages = 0u32;
    let mut rest = text.as_ref();
    while let Some(i) = rest.find("/Type") {
        rest = &rest[i + 5..];
        let t = rest.trim_start();
        if let Some(after) = t.strip_prefix("/Page") {
            if !after.starts_with('s') && !after.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                pages += 1;
            }
        }
    }
    // The root of the page tree is the /Pages node with the largest /Count.
    let mut best: Option<u32> = None;
    let mut rest = text.as_ref();
    while let Some(i) = rest.find("/Type") {
        rest = &rest[i + 5..];
        if !rest.trim_start().starts_with("/Pages") {
            continue;
        }
        let dict_end = rest.find(">>").unwrap_or(rest.len());
        // /Count may come before /Type in the same dictionary: look back to the dictionary's start.
        let here = text.len() - rest.len();
        let open = text[..here].rfind("<<").unwrap_or(0);
        let dict = &text[open..here + dict_end];
        if let Some(c) = dict.find("/Count") {
            let n: String = dict[c + 6..].trim_start().chars().take_while(|c| c.is_ascii_digit()).collect();
            if let Ok(n) = n.parse::<u32>() {
                best = Some(best.map_or(n, |b| b.max(n)));
            }
        }
    }
    Some(best.unwrap_or(pages))
}

/// A PNG as a `data:` URL (the print dialog's preview; the toolbar's CSP allows `img-src data:`).
pub fn png_data_url(png: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(22 + png.len().div_ceil(3) * 4);
    out.push_str("data:image/png;base64,");
    for chunk in png.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Reads a PDF file's page count; `None` when it cannot be read or is not a PDF.
pub fn pdf_file_page_count(path: &Path) -> Option<u32> {
    std::fs::read(path).ok().and_then(|b| pdf_page_count(&b))
}

/// The `lp` arguments that print `file` on `printer` as planned. The job's title never carries the
/// document's name (it may hold a person's name): it is always "borne".
pub fn lp_args(printer: &str, file: &Path, plan: &Plan) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> =
        vec!["-d".into(), printer.into(), "-n".into(), plan.copies.to_string().into(), "-t".into(), "borne".into()];
    if !plan.whole {
        args.push("-P".into());
        args.push(format!("{}-{}", plan.first, plan.last).into());
    }
    args.push("--".into());
    args.push(file.as_os_str().to_owned());
    args
}

/// The job id in `lp`'s answer (`request id is cups-pdf-12 (1 file(s))`).
pub fn parse_lp_job(stdout: &str) -> Option<String> {
    let rest = stdout.split("request id is ").nth(1)?;
    let id = rest.split_whitespace().next()?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')).then(|| id.to_string())
}

/// What CUPS says about the printer, from `lpstat -l -p <printer>` (run with `LANG=C`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterState {
    /// Idle or printing, accepting jobs, no blocking alert.
    Ready,
    /// Cannot print now; the English cause is for the logs.
    NotReady(String),
}

/// Printer-state reasons that stop a job from coming out (IPP `printer-state-reasons`).
const BLOCKING_REASONS: &[&str] = &[
    "media-empty",
    "media-needed",
    "media-jam",
    "offline",
    "paused",
    "toner-empty",
    "marker-supply-empty",
    "door-open",
    "cover-open",
    "input-tray-missing",
    "shutdown",
    "connecting-to-device",
    "other-error",
];

/// Maps `lpstat -l -p` output (exit status `ok`) to a state. An unknown printer, a disabled queue
/// or a blocking alert is not ready.
pub fn parse_printer_state(output: &str, ok: bool) -> PrinterState {
    let Some(first) = output.lines().find(|l| l.starts_with("printer ")) else {
        return PrinterState::NotReady(if ok { "no such printer".into() } else { "lpstat failed".into() });
    };
    if first.contains(" disabled since") || first.contains(" is stopped") {
        return PrinterState::NotReady("queue stopped".into());
    }
    for line in output.lines() {
        let l = line.trim();
        if let Some(alerts) = l.strip_prefix("Alerts:") {
            for alert in alerts.split_whitespace() {
                // `-report` and `-warning` reasons are informational (low toner, a passing state).
                if alert.ends_with("-report") || alert.ends_with("-warning") {
                    continue;
                }
                if BLOCKING_REASONS.contains(&alert.trim_end_matches("-error")) {
                    return PrinterState::NotReady(format!("alert {alert}"));
                }
            }
        }
    }
    if ok {
        PrinterState::Ready
    } else {
        PrinterState::NotReady("lpstat failed".into())
    }
}

/// Jobs still queued on CUPS from `lpstat -o <printer>` (one `<id> <user> <size> <date>` per line).
pub fn parse_queued_jobs(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|id| id.contains('-') && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_check_copies_ranges_and_quota() {
        assert_eq!(plan(1, Pages::All, 3, 0, 20), Ok(Plan { copies: 1, first: 1, last: 3, whole: true }));
        assert_eq!(plan(2, Pages::Range { first: 2, last: 3 }, 3, 0, 20).map(|p| p.pages()), Ok(4));
        assert_eq!(plan(1, Pages::Range { first: 1, last: 3 }, 3, 0, 20).map(|p| p.whole), Ok(true));
        assert_eq!(plan(0, Pages::All, 3, 0, 20), Err(Refusal::Copies));
        assert_eq!(plan(6, Pages::All, 3, 0, 20), Err(Refusal::Copies));
        assert_eq!(plan(1, Pages::Range { first: 0, last: 1 }, 3, 0, 20), Err(Refusal::Range));
        assert_eq!(plan(1, Pages::Range { first: 3, last: 2 }, 3, 0, 20), Err(Refusal::Range));
        assert_eq!(plan(1, Pages::Range { first: 2, last: 4 }, 3, 0, 20), Err(Refusal::Range));
        assert_eq!(plan(1, Pages::All, 0, 0, 20), Err(Refusal::Empty));
        // Quota: 20 pages a session; 18 used leaves 2.
        assert_eq!(plan(1, Pages::All, 3, 18, 20), Err(Refusal::Quota { left: 2 }));
        assert_eq!(plan(2, Pages::Range { first: 1, last: 1 }, 3, 18, 20).map(|p| p.pages()), Ok(2));
        assert_eq!(plan(5, Pages::All, 5, 0, 20), Err(Refusal::Quota { left: 20 }));
        assert_eq!(plan(1, Pages::All, 1, 25, 20), Err(Refusal::Quota { left: 0 }));
        // Quota 0: printing off.
        assert_eq!(plan(1, Pages::All, 1, 0, 0), Err(Refusal::Quota { left: 0 }));
        assert_eq!(Refusal::Quota { left: 0 }.code(), "quota");
        assert_eq!(Refusal::Printer("x".into()).code(), "printer");
    }

    #[test]
    fn pages_deserialise_from_the_dialog() {
        let p: Pages = serde_json::from_str(r#"{"kind":"range","first":2,"last":3}"#).unwrap();
        assert_eq!(p, Pages::Range { first: 2, last: 3 });
        let p: Pages = serde_json::from_str(r#"{"kind":"all"}"#).unwrap();
        assert_eq!(p, Pages::All);
    }

    #[test]
    fn pdf_pages_are_counted() {
        let cairo = b"%PDF-1.5\n1 0 obj\n<< /Type /Pages /Kids [ 3 0 R 5 0 R ] /Count 2 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 1 0 R >>\nendobj\n5 0 obj\n<< /Type /Page /Parent 1 0 R >>\nendobj\n";
        assert_eq!(pdf_page_count(cairo), Some(2));
        let count_first = b"%PDF-1.4\n2 0 obj\n<</Count 3/Kids[4 0 R 5 0 R 6 0 R]/Type/Pages>>\nendobj\n";
        assert_eq!(pdf_page_count(count_first), Some(3));
        let no_tree = b"%PDF-1.4\n<</Type/Page>> <</Type /Page /X 1>> <</Type/PageLabel>>";
        assert_eq!(pdf_page_count(no_tree), Some(2));
        // Nested trees: the root has the largest count.
        let nested = b"%PDF-1.4\n<</Type/Pages/Count 7>> <</Type/Pages/Count 4>> <</Type/Pages/Count 3>>";
        assert_eq!(pdf_page_count(nested), Some(7));
        assert_eq!(pdf_page_count(b"<html>"), None);
    }

    #[test]
    fn previews_are_base64_data_urls() {
        assert_eq!(png_data_url(b""), "data:image/png;base64,");
        assert_eq!(png_data_url(b"f"), "data:image/png;base64,Zg==");
        assert_eq!(png_data_url(b"fo"), "data:image/png;base64,Zm8=");
        assert_eq!(png_data_url(b"foo"), "data:image/png;base64,Zm9v");
        assert_eq!(png_data_url(b"foobar\xff"), "data:image/png;base64,Zm9vYmFy/w==");
    }

    #[test]
    fn lp_command_line() {
        let p = Plan { copies: 2, first: 2, last: 3, whole: false };
        let args = lp_args("cups-pdf", Path::new("/s/print/page.pdf"), &p);
        let args: Vec<String> = args.into_iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args, ["-d", "cups-pdf", "-n", "2", "-t", "borne", "-P", "2-3", "--", "/s/print/page.pdf"]);
        let whole = Plan { copies: 1, first: 1, last: 3, whole: true };
        assert!(!lp_args("p", Path::new("/f"), &whole).iter().any(|a| a == "-P"));
        assert_eq!(parse_lp_job("request id is cups-pdf-12 (1 file(s))\n"), Some("cups-pdf-12".into()));
        assert_eq!(parse_lp_job("lp: Error - The printer or class does not exist.\n"), None);
        assert_eq!(parse_lp_job("request id is a;rm (1 file(s))"), None);
    }

    #[test]
    fn cups_states_map_to_ready_or_not() {
        let idle =
            "printer cups-pdf is idle.  enabled since Mon 23 Nov 2026 20:00:00 UTC\n\tAlerts: none\n\tDescription: x\n";
        assert_eq!(parse_printer_state(idle, true), PrinterState::Ready);
        let printing = "printer cups-pdf now printing cups-pdf-3.  enabled since Mon 23 Nov 2026\n";
        assert_eq!(parse_printer_state(printing, true), PrinterState::Ready);
        let stopped = "printer cups-pdf disabled since Mon 23 Nov 2026 20:00:00 UTC -\n\treason unknown\n";
        assert!(matches!(parse_printer_state(stopped, true), PrinterState::NotReady(_)));
        let paper = "printer hp is idle.  enabled since Mon 23 Nov 2026\n\tAlerts: media-empty-error\n";
        assert!(matches!(parse_printer_state(paper, true), PrinterState::NotReady(_)));
        let offline = "printer hp is idle.  enabled since Mon\n\tAlerts: offline-report\n";
        assert_eq!(parse_printer_state(offline, true), PrinterState::Ready, "a report is informational");
        let offline = "printer hp is idle.  enabled since Mon\n\tAlerts: offline\n";
        assert!(matches!(parse_printer_state(offline, true), PrinterState::NotReady(_)));
        let low = "printer hp is idle.  enabled since Mon\n\tAlerts: marker-supply-low-warning\n";
        assert_eq!(parse_printer_state(low, true), PrinterState::Ready);
        let unknown = "lpstat: Invalid destination name in list \"nope\".\n";
        assert!(matches!(parse_printer_state(unknown, false), PrinterState::NotReady(_)));
    }

    #[test]
    fn queued_jobs_are_listed() {
        let out =
            "cups-pdf-4              root              1024   Mon 23 Nov 2026 20:00:00 UTC\ncups-pdf-5 root 2048 Mon\n";
        assert_eq!(parse_queued_jobs(out), ["cups-pdf-4", "cups-pdf-5"]);
        assert!(parse_queued_jobs("").is_empty());
    }
}
