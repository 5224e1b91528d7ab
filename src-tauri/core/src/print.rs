//! Printing decisions: what a person asked (copies, pages), whether the session's page quota allows
//! it, how many pages a PDF has, what CUPS says about the printer and the jobs, and the `lp` command
//! line that submits a job. The parsers below are tested on real CUPS output; [`cups`] runs `lp`,
//! `lpstat` and `cancel`, each within a time limit, and hands their output to them.

use std::path::Path;

pub mod cups;

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
    /// The document has no page.
    #[error("empty document")]
    Empty,
    /// The document's pages cannot be counted (not a PDF, damaged, hostile): it is never printed
    /// uncharged. The cause is logged where the PDF was read.
    #[error("unreadable document")]
    Unreadable,
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
            Refusal::Unreadable => "unreadable",
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
    let (first, last) = match pages {
        Pages::All => (1, doc_pages),
        Pages::Range { first, last } if first >= 1 && first <= last && last <= doc_pages => (first, last),
        Pages::Range { .. } => return Err(Refusal::Range),
    };
    let plan = Plan { copies, first, last };
    let left = quota.saturating_sub(used);
    if plan.pages() > left {
        return Err(Refusal::Quota { left });
    }
    Ok(plan)
}

/// The pages a session has printed or reserved, against its quota. `reserve` plans and charges in
/// one step and takes `&mut self`: whoever holds the session's lock (the shell's `Mutex`) checks and
/// reserves at once, so two submits racing for the last pages cannot both pass.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PageUsage {
    used: u32,
}

impl PageUsage {
    /// Pages charged so far (printed, or reserved for a job being submitted).
    pub fn used(&self) -> u32 {
        self.used
    }

    /// Pages the session may still print under `quota`.
    pub fn left(&self, quota: u32) -> u32 {
        quota.saturating_sub(self.used)
    }

    /// Checks a request as `plan` does and, when it passes, charges its pages at once.
    pub fn reserve(&mut self, copies: u32, pages: Pages, doc_pages: u32, quota: u32) -> Result<Plan, Refusal> {
        let plan = plan(copies, pages, doc_pages, self.used, quota)?;
        self.used = self.used.saturating_add(plan.pages());
        Ok(plan)
    }

    /// Gives back the pages of a reservation whose job never reached CUPS (`lp` failed or refused).
    pub fn give_back(&mut self, plan: &Plan) {
        self.used = self.used.saturating_sub(plan.pages());
    }
}

/// Largest PDF the borne counts and prints, in bytes: far above an attestation or a scanned form,
/// small enough that reading it cannot exhaust the kiosk's memory.
pub const MAX_PDF_BYTES: u64 = 32 * 1024 * 1024;
/// Most pages a printable PDF may have (the quota is far below; more means a hostile page tree).
pub const MAX_PDF_PAGES: u32 = 5_000;
/// Largest size one compressed object or cross-reference stream may inflate to while the PDF is read.
const MAX_STREAM_BYTES: usize = 4 * 1024 * 1024;
/// Most objects kept from one PDF.
const MAX_OBJECTS: u64 = 200_000;
/// Most "weight" (objects, array and dictionary entries, 16-byte chunks of strings and stream data)
/// kept from one PDF: bounds the memory the parsed objects take, whatever their shape.
const MAX_WEIGHT: u64 = 16_000_000;
/// Deepest page tree walked (real ones are a few levels deep).
const MAX_TREE_DEPTH: usize = 32;
/// Most page tree nodes visited (a node listed many times in a tree of empty nodes is visited each time).
const MAX_TREE_VISITS: u32 = 50_000;

/// Why a PDF's pages cannot be counted. The text is the English cause for the logs; the person is
/// told « ce document ne peut pas être imprimé » (`Refusal::Unreadable`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// The file cannot be read.
    #[error("cannot read the PDF file: {0}")]
    Io(String),
    /// The bytes do not start with a PDF header.
    #[error("not a PDF (no %PDF- header)")]
    NotPdf,
    /// Over `MAX_PDF_BYTES`.
    #[error("PDF larger than {MAX_PDF_BYTES} bytes")]
    TooLarge,
    /// The parser gave up (truncated, garbage, a stream inflating past the limit, encrypted…).
    #[error("unreadable PDF: {0}")]
    Parse(String),
    /// More objects, or larger ones, than a printable document holds.
    #[error("PDF with too many or too large objects")]
    TooManyObjects,
    /// No catalog or no `/Pages` in it.
    #[error("no page tree: {0}")]
    NoPageTree(String),
    /// A node of the page tree is missing or is not a dictionary.
    #[error("page tree node {0} is missing or not a dictionary")]
    BadNode(String),
    /// A node of the page tree is its own ancestor.
    #[error("page tree loops back on object {0} {1} R")]
    Loop(u32, u16),
    /// The page tree is deeper than `MAX_TREE_DEPTH`.
    #[error("page tree deeper than {MAX_TREE_DEPTH} levels")]
    TooDeep,
    /// More than `MAX_PDF_PAGES` pages or `MAX_TREE_VISITS` nodes.
    #[error("page tree over {MAX_PDF_PAGES} pages or {MAX_TREE_VISITS} nodes")]
    TooManyPages,
}

thread_local! {
    /// What the current `load` kept so far (objects, weight), for `keep_within_budget`. lopdf loads
    /// on the calling thread (no rayon), so a thread-local counts one load.
    static LOAD_BUDGET: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
}

/// Rough memory weight of a parsed object (lopdf bounds nesting, so the recursion is bounded too).
fn weight(object: &lopdf::Object) -> u64 {
    use lopdf::Object;
    let chunks = |n: usize| 1 + n as u64 / 16;
    match object {
        Object::Array(items) => 1 + items.iter().map(weight).sum::<u64>(),
        Object::Dictionary(dict) => 1 + dict.iter().map(|(k, v)| chunks(k.len()) + weight(v)).sum::<u64>(),
        Object::Stream(stream) => {
            1 + chunks(stream.content.len()) + stream.dict.iter().map(|(k, v)| chunks(k.len()) + weight(v)).sum::<u64>()
        }
        Object::Name(bytes) | Object::String(bytes, _) => chunks(bytes.len()),
        _ => 1,
    }
}

/// lopdf's load filter: keeps objects while the load's budget lasts, then drops every other one (the
/// count is then refused as `TooManyObjects`).
fn keep_within_budget(id: lopdf::ObjectId, object: &mut lopdf::Object) -> Option<(lopdf::ObjectId, lopdf::Object)> {
    let (count, total) = LOAD_BUDGET.get();
    let (count, total) = (count + 1, total.saturating_add(weight(object)));
    LOAD_BUDGET.set((count, total));
    // lopdf keeps the object itself for a top-level object and the returned one for a member of an
    // object stream: both must be the object.
    (count <= MAX_OBJECTS && total <= MAX_WEIGHT).then(|| (id, object.clone()))
}

/// Counts the pages of a PDF with a real parser (lopdf: classic cross-reference tables, PDF 1.5
/// cross-reference streams and object streams, damaged files repaired as viewers do), by walking the
/// page tree from the catalog leaf by leaf. `/Count` is never trusted: a tree that says 1 and holds
/// 30 pages counts 30. Size, depth, objects and pages are bounded, so a hostile file is refused
/// rather than hanging or exhausting memory.
pub fn pdf_page_count(bytes: &[u8]) -> Result<u32, PdfError> {
    read_page_tree(bytes).map(|tree| tree.pages)
}

/// The pages of a PDF (as `pdf_page_count`) and, when a `/Count` of its page tree lies, the same
/// PDF with every `/Count` set to the pages under that node (`None` when they all say the truth: the
/// file is printed as it is). CUPS's `pdftopdf` (qpdf) prints nothing of a file whose `/Count` lies;
/// the corrected copy prints exactly the pages counted and charged.
pub fn pdf_with_true_counts(bytes: &[u8]) -> Result<(u32, Option<Vec<u8>>), PdfError> {
    let mut tree = read_page_tree(bytes)?;
    if tree.lies.is_empty() {
        return Ok((tree.pages, None));
    }
    for (id, pages) in &tree.lies {
        if let Ok(lopdf::Object::Dictionary(dict)) = tree.doc.get_object_mut(*id) {
            dict.set("Count", i64::from(*pages));
        }
    }
    let mut out = Vec::new();
    tree.doc.save_to(&mut out).map_err(|e| PdfError::Parse(format!("cannot write the corrected PDF: {e}")))?;
    Ok((tree.pages, Some(out)))
}

/// A PDF read and its page tree walked.
struct PageTree {
    doc: lopdf::Document,
    pages: u32,
    /// Inner nodes (indirect) whose `/Count` is not the number of pages under them, with that number.
    lies: Vec<(lopdf::ObjectId, u32)>,
}

/// Reads a PDF within the limits and walks its page tree.
fn read_page_tree(bytes: &[u8]) -> Result<PageTree, PdfError> {
    if bytes.len() as u64 > MAX_PDF_BYTES {
        return Err(PdfError::TooLarge);
    }
    // lopdf finds a header a little way into the file; the printer's filters want it first.
    if !bytes.starts_with(b"%PDF-") {
        return Err(PdfError::NotPdf);
    }
    let options = lopdf::LoadOptions {
        filter: Some(keep_within_budget),
        max_decompressed_size: Some(MAX_STREAM_BYTES),
        ..Default::default()
    };
    LOAD_BUDGET.set((0, 0));
    let loaded = lopdf::Document::load_mem_with_options(bytes, options);
    let (count, total) = LOAD_BUDGET.get();
    let doc = loaded.map_err(|e| PdfError::Parse(e.to_string()))?;
    if count > MAX_OBJECTS || total > MAX_WEIGHT {
        return Err(PdfError::TooManyObjects);
    }
    let catalog = doc.catalog().map_err(|e| PdfError::NoPageTree(e.to_string()))?;
    let root = catalog.get(b"Pages").map_err(|_| PdfError::NoPageTree("no /Pages in the catalog".into()))?;
    let mut walk = TreeWalk { doc: &doc, ancestors: Vec::new(), pages: 0, visits: 0, lies: Vec::new() };
    walk.node(root, "/Pages")?;
    let (pages, lies) = (walk.pages, walk.lies);
    Ok(PageTree { doc, pages, lies })
}

/// The page tree walk: ancestors (to find loops), pages and nodes seen so far, nodes whose `/Count`
/// lies.
struct TreeWalk<'a> {
    doc: &'a lopdf::Document,
    ancestors: Vec<lopdf::ObjectId>,
    pages: u32,
    visits: u32,
    lies: Vec<(lopdf::ObjectId, u32)>,
}

impl TreeWalk<'_> {
    /// Counts the leaves under `node` (a reference or a direct dictionary). A node with `/Kids`, or
    /// of `/Type /Pages`, is an inner node; any other dictionary is a page, as viewers and CUPS's
    /// filters take it.
    fn node(&mut self, node: &lopdf::Object, what: &str) -> Result<(), PdfError> {
        self.visits += 1;
        if self.visits > MAX_TREE_VISITS {
            return Err(PdfError::TooManyPages);
        }
        if self.ancestors.len() >= MAX_TREE_DEPTH {
            return Err(PdfError::TooDeep);
        }
        let (dict, id) = match node {
            lopdf::Object::Reference(id) => {
                if self.ancestors.contains(id) {
                    return Err(PdfError::Loop(id.0, id.1));
                }
                let dict = self
                    .doc
                    .get_object(*id)
                    .and_then(lopdf::Object::as_dict)
                    .map_err(|_| PdfError::BadNode(format!("{} {} R", id.0, id.1)))?;
                (dict, Some(*id))
            }
            lopdf::Object::Dictionary(dict) => (dict, None),
            _ => return Err(PdfError::BadNode(what.to_string())),
        };
        let is_pages = dict.get(b"Type").and_then(lopdf::Object::as_name).is_ok_and(|t| t == b"Pages");
        let kids = match dict.get(b"Kids") {
            Ok(lopdf::Object::Reference(r)) => Some(
                self.doc
                    .get_object(*r)
                    .and_then(lopdf::Object::as_array)
                    .map_err(|_| PdfError::BadNode(format!("/Kids {} {} R", r.0, r.1)))?,
            ),
            Ok(kids) => Some(kids.as_array().map_err(|_| PdfError::BadNode(format!("/Kids of {what}")))?),
            Err(_) => None,
        };
        match kids {
            Some(kids) => {
                let before = self.pages;
                self.ancestors.extend(id);
                for kid in kids {
                    self.node(kid, "a /Kids entry")?;
                }
                if let Some(id) = id {
                    self.ancestors.pop();
                    self.note_count(id, dict, self.pages - before);
                }
            }
            None if is_pages => {
                if let Some(id) = id {
                    self.note_count(id, dict, 0);
                }
            }
            None => {
                self.pages += 1;
                if self.pages > MAX_PDF_PAGES {
                    return Err(PdfError::TooManyPages);
                }
            }
        }
        Ok(())
    }
}

impl TreeWalk<'_> {
    /// Notes an inner node whose `/Count` is not `pages` (once, however often it is listed).
    fn note_count(&mut self, id: lopdf::ObjectId, dict: &lopdf::Dictionary, pages: u32) {
        let said = dict.get(b"Count").and_then(lopdf::Object::as_i64).ok();
        if said != Some(i64::from(pages)) && !self.lies.iter().any(|(seen, _)| *seen == id) {
            self.lies.push((id, pages));
        }
    }
}

/// Reads a PDF file, `MAX_PDF_BYTES` at most (one byte more, so a larger file is refused as such).
pub fn read_pdf_file(path: &Path) -> Result<Vec<u8>, PdfError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| PdfError::Io(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_PDF_BYTES + 1).read_to_end(&mut bytes).map_err(|e| PdfError::Io(e.to_string()))?;
    Ok(bytes)
}

/// Largest picture sent to the printer as it is.
pub const MAX_PICTURE_BYTES: u64 = 32 * 1024 * 1024;
/// Largest side of a picture sent to the printer, in pixels (an A4 page scanned at 1200 dpi is 14 032
/// high; a phone's photo about 8 000).
pub const MAX_PICTURE_SIDE: u32 = 20_000;

/// Why a picture of the session is not sent to the printer. The text is the English cause for the
/// logs; the person is told « ce document ne peut pas être imprimé » (`Refusal::Unreadable`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PictureError {
    /// The file cannot be read.
    #[error("cannot read the picture: {0}")]
    Io(String),
    /// Its bytes are not those of a JPEG or a PNG.
    #[error("not a JPEG or PNG picture")]
    NotPicture,
    /// Over `MAX_PICTURE_BYTES`.
    #[error("picture larger than {MAX_PICTURE_BYTES} bytes")]
    TooLarge,
    /// Its header cannot be read (truncated, damaged).
    #[error("unreadable picture: {0}")]
    Unreadable(String),
    /// Empty, or a side over `MAX_PICTURE_SIDE` pixels.
    #[error("picture of {0}x{1} pixels")]
    BadSize(u32, u32),
}

/// The pages a JPEG or PNG of the session prints on: one. `lp` sends the picture as it is and CUPS's
/// filters (cups-filters' `imagetopdf`, for `image/jpeg` and `image/png`) make one page of it, fitted
/// to the sheet (`lp_args` asks for `fit-to-page`; its page range keeps CUPS to the page charged
/// whatever happens). Its kind comes from its bytes and its header is read to check its size, so a
/// file that only claims to be a picture is never printed.
pub fn picture_page_count(path: &Path) -> Result<u32, PictureError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| PictureError::Io(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_PICTURE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| PictureError::Io(e.to_string()))?;
    if bytes.len() as u64 > MAX_PICTURE_BYTES {
        return Err(PictureError::TooLarge);
    }
    let format = match bytes.as_slice() {
        [0xFF, 0xD8, 0xFF, ..] => image::ImageFormat::Jpeg,
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => image::ImageFormat::Png,
        _ => return Err(PictureError::NotPicture),
    };
    let (w, h) = image::ImageReader::with_format(std::io::Cursor::new(&bytes), format)
        .into_dimensions()
        .map_err(|e| PictureError::Unreadable(e.to_string()))?;
    if w == 0 || h == 0 || w > MAX_PICTURE_SIDE || h > MAX_PICTURE_SIDE {
        return Err(PictureError::BadSize(w, h));
    }
    Ok(1)
}

/// Reads a PDF file and counts its pages as `pdf_page_count` does.
pub fn pdf_file_page_count(path: &Path) -> Result<u32, PdfError> {
    pdf_page_count(&read_pdf_file(path)?)
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

/// The `lp` arguments that print `file` on `printer` as planned. The page range is always given,
/// the whole document's included: CUPS's filters then print no page past what was charged, whatever
/// the file claims. The job's title never carries the document's name (it may hold a person's name):
/// it is always "borne". A picture (`picture`: a JPEG or PNG sent as it is, see
/// `picture_page_count`) is fitted to the sheet, so all of it lands on its one page.
pub fn lp_args(printer: &str, file: &Path, plan: &Plan, picture: bool) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec![
        "-d".into(),
        printer.into(),
        "-n".into(),
        plan.copies.to_string().into(),
        "-t".into(),
        "borne".into(),
        "-o".into(),
        format!("page-ranges={}-{}", plan.first, plan.last).into(),
    ];
    if picture {
        args.extend(["-o".into(), "fit-to-page".into()]);
    }
    args.extend(["--".into(), file.as_os_str().to_owned()]);
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
        assert_eq!(plan(1, Pages::All, 3, 0, 20), Ok(Plan { copies: 1, first: 1, last: 3 }));
        assert_eq!(plan(2, Pages::Range { first: 2, last: 3 }, 3, 0, 20).map(|p| p.pages()), Ok(4));
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
        assert_eq!(Refusal::Unreadable.code(), "unreadable");
        assert_eq!(Refusal::Printer("x".into()).code(), "printer");
    }

    #[test]
    fn pages_deserialise_from_the_dialog() {
        let p: Pages = serde_json::from_str(r#"{"kind":"range","first":2,"last":3}"#).unwrap();
        assert_eq!(p, Pages::Range { first: 2, last: 3 });
        let p: Pages = serde_json::from_str(r#"{"kind":"all"}"#).unwrap();
        assert_eq!(p, Pages::All);
    }

    /// A PDF 1.4 written by hand: `objects` numbered from 1 (the first is the catalog), with a
    /// classic cross-reference table at the real byte offsets.
    fn classic_pdf(objects: &[String]) -> Vec<u8> {
        let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for off in offsets {
            out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
        }
        let trailer = format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1);
        out.extend_from_slice(trailer.as_bytes());
        out
    }

    /// A PDF made with lopdf: `leaves` pages under one root whose `/Count` says `claimed`, in groups
    /// of 10 under inner nodes (claiming 1 each) when `nested`; with `modern`, PDF 1.5 object streams
    /// and a cross-reference stream, as most generated attestations are.
    fn lopdf_pdf(leaves: u32, claimed: i64, nested: bool, modern: bool) -> Vec<u8> {
        use lopdf::{dictionary, Document, Object};
        let mut doc = Document::with_version("1.5");
        let root = doc.new_object_id();
        let page = |doc: &mut Document, parent| -> Object {
            doc.add_object(dictionary! { "Type" => "Page", "Parent" => parent, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()] }).into()
        };
        let kids: Vec<Object> = if nested {
            (0..leaves.div_ceil(10))
                .map(|g| {
                    let node = doc.new_object_id();
                    let leaves: Vec<Object> = (0..10.min(leaves - g * 10)).map(|_| page(&mut doc, node)).collect();
                    let dict = dictionary! { "Type" => "Pages", "Parent" => root, "Kids" => leaves, "Count" => 1 };
                    doc.objects.insert(node, Object::Dictionary(dict));
                    node.into()
                })
                .collect()
        } else {
            (0..leaves).map(|_| page(&mut doc, root)).collect()
        };
        doc.objects
            .insert(root, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => claimed }));
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => root });
        doc.trailer.set("Root", catalog);
        let options = lopdf::SaveOptions::builder()
            .use_object_streams(modern)
            .use_xref_streams(modern)
            .compression_level(6)
            .build();
        let mut out = Vec::new();
        doc.save_with_options(&mut out, options).unwrap();
        out
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_classic_pdf_is_counted_leaf_by_leaf() {
        let pdf = classic_pdf(&[
            "<< /Type /Catalog /Pages 2 0 R >>".into(),
            "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>".into(),
            "<< /Type /Page /Parent 2 0 R >>".into(),
            "<< /Type /Page /Parent 2 0 R >>".into(),
        ]);
        assert_eq!(pdf_page_count(&pdf), Ok(2));
        // The test sites' attestation (tests/e2e/sites/pdf.mjs) and lopdf's own classic output.
        assert_eq!(pdf_page_count(&lopdf_pdf(3, 3, false, false)), Ok(3));
        assert_eq!(pdf_page_count(&lopdf_pdf(25, 25, true, false)), Ok(25));
    }

    #[test]
    fn object_streams_and_xref_streams_are_read() {
        let pdf = lopdf_pdf(7, 7, true, true);
        // The page dictionaries are compressed in an object stream and there is no `xref` table:
        // nothing in the bytes says /Type /Page, so only a real parser counts them.
        assert!(contains(&pdf, b"/ObjStm") && contains(&pdf, b"/XRef"));
        assert!(!contains(&pdf, b"/Page") && !contains(&pdf, b"\nxref"));
        assert_eq!(pdf_page_count(&pdf), Ok(7));
        assert_eq!(pdf_page_count(&lopdf_pdf(1, 1, false, true)), Ok(1));
    }

    #[test]
    fn a_lying_count_is_not_trusted_either_way() {
        // /Count says 1 (and each inner node 1), the tree holds 30 pages: 30.
        assert_eq!(pdf_page_count(&lopdf_pdf(30, 1, true, true)), Ok(30));
        assert_eq!(pdf_page_count(&lopdf_pdf(30, 1, false, false)), Ok(30));
        // /Count says 999, the tree holds 2 pages: 2.
        assert_eq!(pdf_page_count(&lopdf_pdf(2, 999, false, true)), Ok(2));
        assert_eq!(pdf_page_count(&lopdf_pdf(2, 999, false, false)), Ok(2));
        // A page tree with no page at all is empty, whatever it claims (refused as `Empty` by `plan`).
        let none =
            classic_pdf(&["<< /Type /Catalog /Pages 2 0 R >>".into(), "<< /Type /Pages /Kids [] /Count 5 >>".into()]);
        assert_eq!(pdf_page_count(&none), Ok(0));
    }

    #[test]
    fn a_lying_count_is_corrected_for_the_printer() {
        // Truthful files are printed as they are.
        assert_eq!(pdf_with_true_counts(&lopdf_pdf(3, 3, false, true)), Ok((3, None)));
        assert_eq!(pdf_with_true_counts(&lopdf_pdf(25, 25, false, false)), Ok((25, None)));
        // A lying root and lying inner nodes: every /Count is set to the pages under it.
        for (leaves, claimed, nested) in [(30, 1, true), (2, 999, false), (12, 12, true)] {
            let (pages, fixed) = pdf_with_true_counts(&lopdf_pdf(leaves, claimed, nested, true)).unwrap();
            let fixed = fixed.unwrap();
            assert_eq!(pages, leaves);
            let doc = lopdf::Document::load_mem(&fixed).unwrap();
            assert_eq!(doc.get_pages().len(), leaves as usize);
            let root = doc.catalog().unwrap().get(b"Pages").unwrap().as_reference().unwrap();
            let count = doc.get_dictionary(root).unwrap().get(b"Count").unwrap().as_i64().unwrap();
            assert_eq!(count, i64::from(leaves));
            assert_eq!(pdf_with_true_counts(&fixed), Ok((leaves, None)), "nothing left to correct");
        }
    }

    #[test]
    fn a_page_tree_with_a_loop_is_refused_at_once() {
        // 2 -> 3 -> 2, and a node listing itself.
        let looped = classic_pdf(&[
            "<< /Type /Catalog /Pages 2 0 R >>".into(),
            "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>".into(),
            "<< /Type /Pages /Kids [2 0 R] /Parent 2 0 R /Count 1 >>".into(),
            "<< /Type /Page /Parent 2 0 R >>".into(),
        ]);
        assert_eq!(pdf_page_count(&looped), Err(PdfError::Loop(2, 0)));
        let itself =
            classic_pdf(&["<< /Type /Catalog /Pages 2 0 R >>".into(), "<< /Type /Pages /Kids [2 0 R] >>".into()]);
        assert_eq!(pdf_page_count(&itself), Err(PdfError::Loop(2, 0)));
    }

    #[test]
    fn hostile_trees_are_bounded() {
        // A chain 40 levels deep.
        let mut deep = vec!["<< /Type /Catalog /Pages 2 0 R >>".to_string()];
        for n in 2..42 {
            deep.push(format!("<< /Type /Pages /Kids [{} 0 R] >>", n + 1));
        }
        deep.push("<< /Type /Page >>".into());
        assert_eq!(pdf_page_count(&classic_pdf(&deep)), Err(PdfError::TooDeep));
        // A node listed 300 times, listing an empty node 300 times: 90,000 visits, no page.
        let many = |n: u32| vec![format!("{n} 0 R"); 300].join(" ");
        let wide = classic_pdf(&[
            "<< /Type /Catalog /Pages 2 0 R >>".into(),
            format!("<< /Type /Pages /Kids [{}] >>", many(3)),
            format!("<< /Type /Pages /Kids [{}] >>", many(4)),
            "<< /Type /Pages /Kids [] >>".into(),
        ]);
        assert_eq!(pdf_page_count(&wide), Err(PdfError::TooManyPages));
        // A page listed 80 x 80 times: 6,400 pages, over the limit.
        let pages = classic_pdf(&[
            "<< /Type /Catalog /Pages 2 0 R >>".into(),
            format!("<< /Type /Pages /Kids [{}] >>", vec!["3 0 R"; 80].join(" ")),
            format!("<< /Type /Pages /Kids [{}] >>", vec!["4 0 R"; 80].join(" ")),
            "<< /Type /Page >>".into(),
        ]);
        assert_eq!(pdf_page_count(&pages), Err(PdfError::TooManyPages));
        // Too large a file is refused before it is parsed.
        let mut huge = b"%PDF-1.4\n".to_vec();
        huge.resize(MAX_PDF_BYTES as usize + 1, b' ');
        assert_eq!(pdf_page_count(&huge), Err(PdfError::TooLarge));
    }

    #[test]
    fn an_object_stream_inflating_past_the_limit_is_refused() {
        // A catalog holding a 5 MiB string, compressed in an object stream to a few kilobytes.
        use lopdf::{dictionary, Document, Object};
        let mut doc = Document::with_version("1.5");
        let pages = doc.add_object(dictionary! { "Type" => "Pages", "Kids" => vec![], "Count" => 0 });
        let junk = Object::string_literal(vec![b'a'; 5 * 1024 * 1024]);
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages, "Junk" => junk });
        doc.trailer.set("Root", catalog);
        let options =
            lopdf::SaveOptions::builder().use_object_streams(true).use_xref_streams(true).compression_level(6).build();
        let mut bomb = Vec::new();
        doc.save_with_options(&mut bomb, options).unwrap();
        assert!(bomb.len() < 256 * 1024, "{} bytes", bomb.len());
        assert!(matches!(pdf_page_count(&bomb), Err(PdfError::Parse(_))), "{:?}", pdf_page_count(&bomb));
    }

    #[test]
    fn truncated_and_garbage_files_are_refused() {
        let modern = lopdf_pdf(5, 5, true, true);
        for cut in [modern.len() / 3, modern.len() / 2, 12] {
            assert!(pdf_page_count(&modern[..cut]).is_err(), "cut at {cut}: {:?}", pdf_page_count(&modern[..cut]));
        }
        let mut garbage = b"%PDF-1.7\n".to_vec();
        let mut x: u32 = 12345;
        for _ in 0..10_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            garbage.push((x >> 16) as u8);
        }
        assert!(pdf_page_count(&garbage).is_err());
        assert_eq!(pdf_page_count(b"<html>"), Err(PdfError::NotPdf));
        assert_eq!(pdf_page_count(b""), Err(PdfError::NotPdf));
        assert!(pdf_page_count(b"%PDF-1.4\n").is_err());
        // A catalog without pages.
        assert!(matches!(pdf_page_count(&classic_pdf(&["<< /Type /Catalog >>".into()])), Err(PdfError::NoPageTree(_))));
        // A kid that is not there.
        let missing =
            classic_pdf(&["<< /Type /Catalog /Pages 2 0 R >>".into(), "<< /Type /Pages /Kids [9 0 R] >>".into()]);
        assert!(matches!(pdf_page_count(&missing), Err(PdfError::BadNode(_))));
    }

    #[test]
    fn a_file_is_read_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.pdf");
        std::fs::write(&file, lopdf_pdf(4, 1, false, true)).unwrap();
        assert_eq!(pdf_file_page_count(&file), Ok(4));
        assert!(matches!(pdf_file_page_count(&dir.path().join("none.pdf")), Err(PdfError::Io(_))));
    }

    #[test]
    fn quota_is_reserved_and_given_back() {
        let mut usage = PageUsage::default();
        assert_eq!(usage.reserve(2, Pages::All, 6, 20).map(|p| p.pages()), Ok(12));
        assert_eq!(usage.left(20), 8);
        // A second request that would pass on the old figure is refused now.
        assert_eq!(usage.reserve(1, Pages::All, 12, 20), Err(Refusal::Quota { left: 8 }));
        // `lp` failed: the pages come back.
        let failed = usage.reserve(1, Pages::All, 8, 20).unwrap();
        assert_eq!(usage.left(20), 0);
        usage.give_back(&failed);
        assert_eq!((usage.used(), usage.left(20)), (12, 8));
        // A refused request charges nothing.
        assert_eq!(usage.reserve(9, Pages::All, 1, 20), Err(Refusal::Copies));
        assert_eq!(usage.used(), 12);
    }

    /// Threads submitting at once against one session's quota, as two fast taps on « Imprimer » do:
    /// check and reserve happen under one lock, so exactly what the quota allows passes.
    #[test]
    fn concurrent_submits_cannot_both_pass() {
        use std::sync::{Arc, Barrier, Mutex};
        let race = |threads: usize, doc_pages: u32, quota: u32| -> (usize, u32) {
            let usage = Arc::new(Mutex::new(PageUsage::default()));
            let start = Arc::new(Barrier::new(threads));
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (usage, start) = (usage.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        let reserved = usage.lock().unwrap().reserve(1, Pages::All, doc_pages, quota);
                        // `lp` runs outside the lock.
                        std::thread::yield_now();
                        reserved.is_ok()
                    })
                })
                .collect();
            let passed = handles.into_iter().map(|h| h.join().unwrap()).filter(|ok| *ok).count();
            let used = usage.lock().unwrap().used();
            (passed, used)
        };
        for _ in 0..100 {
            // Two submits of 12 pages against 20: exactly one passes.
            assert_eq!(race(2, 12, 20), (1, 12));
        }
        // Eight submits of 3 pages against 20: exactly six pass, 18 pages charged.
        assert_eq!(race(8, 3, 20), (6, 18));
    }

    #[test]
    fn a_picture_prints_on_one_page_when_its_bytes_and_header_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        let picture = |w: u32, h: u32, format: image::ImageFormat| {
            let mut out = std::io::Cursor::new(Vec::new());
            image::DynamicImage::new_luma8(w, h).write_to(&mut out, format).unwrap();
            out.into_inner()
        };
        let jpeg = picture(120, 170, image::ImageFormat::Jpeg);
        let png = picture(30, 20, image::ImageFormat::Png);
        assert_eq!(picture_page_count(&write("document-1.jpg", &jpeg)), Ok(1));
        assert_eq!(picture_page_count(&write("photo.png", &png)), Ok(1));
        // By its bytes, never its name.
        assert_eq!(picture_page_count(&write("scan.pdf", &jpeg)), Ok(1));
        assert_eq!(picture_page_count(&write("faux.jpg", b"%PDF-1.4 not a picture")), Err(PictureError::NotPicture));
        assert_eq!(picture_page_count(&write("vide.jpg", b"")), Err(PictureError::NotPicture));
        // A header cut short, or a JPEG with nothing after its magic bytes.
        assert!(matches!(picture_page_count(&write("cut.png", &png[..12])), Err(PictureError::Unreadable(_))));
        assert!(matches!(picture_page_count(&write("cut.jpg", &jpeg[..4])), Err(PictureError::Unreadable(_))));
        assert!(matches!(picture_page_count(&dir.path().join("absent.jpg")), Err(PictureError::Io(_))));
        // A PNG header claiming a side past the limit is refused without decoding it.
        let mut huge = png.clone();
        huge[16..20].copy_from_slice(&(MAX_PICTURE_SIDE + 1).to_be_bytes());
        let crc = png_crc(&huge[12..29]);
        huge[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(picture_page_count(&write("huge.png", &huge)), Err(PictureError::BadSize(MAX_PICTURE_SIDE + 1, 20)));
    }

    /// CRC-32 (ISO-HDLC, PNG's), for a hand-made PNG header.
    fn png_crc(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
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
        let strings = |args: Vec<std::ffi::OsString>| -> Vec<String> {
            args.into_iter().map(|a| a.to_string_lossy().into_owned()).collect()
        };
        let p = Plan { copies: 2, first: 2, last: 3 };
        let args = strings(lp_args("cups-pdf", Path::new("/s/print/page.pdf"), &p, false));
        assert_eq!(
            args,
            ["-d", "cups-pdf", "-n", "2", "-t", "borne", "-o", "page-ranges=2-3", "--", "/s/print/page.pdf"]
        );
        // The whole document too: the range charged is what CUPS prints, whatever the file claims.
        let whole = plan(1, Pages::All, 3, 0, 20).unwrap();
        let args = strings(lp_args("p", Path::new("/f"), &whole, false));
        assert_eq!(args[6..8], ["-o", "page-ranges=1-3"]);
        // A picture: its one page, fitted to the sheet.
        let one = plan(1, Pages::All, 1, 0, 20).unwrap();
        let args = strings(lp_args("p", Path::new("/s/downloads/document-1.jpg"), &one, true));
        assert_eq!(
            args,
            [
                "-d",
                "p",
                "-n",
                "1",
                "-t",
                "borne",
                "-o",
                "page-ranges=1-1",
                "-o",
                "fit-to-page",
                "--",
                "/s/downloads/document-1.jpg"
            ]
        );
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
