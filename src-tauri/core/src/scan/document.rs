//! A document being built from scanned pages, and the file it becomes.
//!
//! Each [`Page`] is the scanner's PNG in the session's scans folder, with the quarter turns the person
//! asked for; a [`Document`] is the ordered pages (add, retake, remove, rotate). [`Document::finish`]
//! makes one PDF (one page per scan, each a JPEG image: `DCTDecode`, the page's physical size) or,
//! when the site's file input takes pictures only, one JPEG of a one-page document, at most the size
//! the page declares and about 1 MB a page: the JPEG quality goes down first, then the resolution
//! (never below 100 dpi); past that the person is told the document cannot be made that small. The
//! file lands in the session's downloads as `document-<n>.pdf` (or `.jpg`), the next free number.
//! Images are decoded, turned, scaled and encoded with image-rs; the PDF is written with lopdf.

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use image::{DynamicImage, ExtendedColorType};
use serde::Serialize;

use super::{Colour, ScanSettings};
use crate::session::SessionDirs;

/// Width of a page's preview for the screen, in pixels.
pub const PREVIEW_WIDTH: u32 = 800;
/// What a page may weigh in a finished document when the site declares no limit: upload forms of
/// the administrations take a few MB at most.
pub const PAGE_BUDGET: u64 = 1_000_000;
/// Most pages in one document.
pub const MAX_PAGES: usize = 20;
/// JPEG qualities tried, best first, before the resolution goes down.
const QUALITIES: [u8; 4] = [75, 60, 45, 30];
/// Lowest resolution a page is brought down to so that a document fits (still legible).
const MIN_SHRINK_DPI: u32 = 100;
/// Largest side of a scanned page accepted, in pixels (A4 at 600 dpi is 7016).
const MAX_SIDE: u32 = 12_000;
/// JPEG quality of previews.
const PREVIEW_QUALITY: u8 = 80;

/// Why a document could not be built or finished. `code()` is what the screens receive and turn into
/// French text (`scan.error.<code>` in `ui/i18n`); the text here is the English cause for the logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// Nothing scanned yet.
    #[error("the document has no page")]
    NoPage,
    /// A page number the document does not have (the screen is out of step).
    #[error("the document has no page {0}")]
    NoSuchPage(usize),
    /// [`MAX_PAGES`] pages already.
    #[error("a document has at most {MAX_PAGES} pages")]
    TooManyPages,
    /// The site's `accept` takes neither PDF nor JPEG.
    #[error("the site accepts `{0}`: neither PDF nor JPEG")]
    NotAccepted(String),
    /// The site takes pictures only and the document has several pages.
    #[error("the site accepts one picture only and the document has {0} pages")]
    OnePictureOnly(usize),
    /// Even at the lowest quality and resolution the document weighs more than allowed.
    #[error("the document cannot be made {limit} bytes or less (smallest: {smallest} bytes)")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
        /// The smallest file the ladder made, in bytes.
        smallest: u64,
    },
    /// A scanned page's file cannot be read back (damaged, removed).
    #[error("unreadable page: {0}")]
    Unreadable(String),
    /// Writing the document or a preview failed.
    #[error("cannot write the document: {0}")]
    Write(String),
}

impl DocumentError {
    /// Stable code for the screens (`scan.error.<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            DocumentError::NoPage => "no-page",
            DocumentError::TooManyPages => "too-many-pages",
            DocumentError::NotAccepted(_) => "not-accepted",
            DocumentError::OnePictureOnly(_) => "one-picture",
            DocumentError::TooLarge { .. } => "too-large",
            DocumentError::NoSuchPage(_) | DocumentError::Unreadable(_) | DocumentError::Write(_) => "internal",
        }
    }

    /// Every code, for the tests that check each has its text in every language.
    pub const CODES: [&'static str; 6] =
        ["no-page", "too-many-pages", "not-accepted", "one-picture", "too-large", "internal"];
}

/// A quarter turn, clockwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Rotation {
    /// 90° clockwise.
    #[serde(rename = "90")]
    R90,
    /// Upside down.
    #[serde(rename = "180")]
    R180,
    /// 90° counter-clockwise.
    #[serde(rename = "270")]
    R270,
}

impl Rotation {
    fn quarters(self) -> u8 {
        match self {
            Rotation::R90 => 1,
            Rotation::R180 => 2,
            Rotation::R270 => 3,
        }
    }
}

/// One scanned page: its PNG in the session's scans folder and the turns asked for.
#[derive(Debug, PartialEq, Eq)]
pub struct Page {
    path: PathBuf,
    width: u32,
    height: u32,
    dpi: u32,
    colour: Colour,
    quarters: u8,
}

impl Page {
    /// Reads a scanned page (PNG, PNM or JPEG), checking that the whole image decodes. The resolution
    /// is the one the scanner wrote in a PNG (`pHYs`), else the one asked for in `asked`.
    pub fn open(path: &Path, asked: ScanSettings) -> Result<Page, DocumentError> {
        let bad = |e: &dyn std::fmt::Display| DocumentError::Unreadable(e.to_string());
        let img = image::ImageReader::open(path)
            .map_err(|e| bad(&e))?
            .with_guessed_format()
            .map_err(|e| bad(&e))?
            .decode()
            .map_err(|e| bad(&e))?;
        let (width, height) = (img.width(), img.height());
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(DocumentError::Unreadable(format!("{width}×{height} pixels")));
        }
        let dpi = png_dpi(path).unwrap_or(asked.dpi);
        let colour = if img.color().has_color() { Colour::Colour } else { Colour::Grey };
        Ok(Page { path: path.to_path_buf(), width, height, dpi, colour, quarters: 0 })
    }

    /// Width as shown (turns applied), in pixels.
    pub fn width(&self) -> u32 {
        if self.quarters.is_multiple_of(2) {
            self.width
        } else {
            self.height
        }
    }

    /// Height as shown (turns applied), in pixels.
    pub fn height(&self) -> u32 {
        if self.quarters.is_multiple_of(2) {
            self.height
        } else {
            self.width
        }
    }

    /// The resolution it was scanned at.
    pub fn dpi(&self) -> u32 {
        self.dpi
    }

    /// Grey or colour.
    pub fn colour(&self) -> Colour {
        self.colour
    }

    /// Clockwise turn applied, in degrees (0, 90, 180 or 270).
    pub fn rotation_degrees(&self) -> u16 {
        u16::from(self.quarters) * 90
    }

    /// The scanner's file (for logs and tests; pages never see it).
    pub fn file(&self) -> &Path {
        &self.path
    }

    fn rotate(&mut self, r: Rotation) {
        self.quarters = (self.quarters + r.quarters()) % 4;
    }

    /// The image as shown: turned, 8-bit grey or 8-bit RGB.
    fn image(&self) -> Result<DynamicImage, DocumentError> {
        self.view().decode()
    }

    /// What it takes to draw the page, apart from the document.
    fn view(&self) -> PageImage {
        PageImage { path: self.path.clone(), colour: self.colour, quarters: self.quarters }
    }

    /// Page width and height in PDF points (1/72 inch): the paper's size, whatever the resolution.
    fn points(&self) -> (f32, f32) {
        let pt = |px: u32| px as f32 * 72.0 / self.dpi.max(1) as f32;
        (pt(self.width()), pt(self.height()))
    }

    /// Removes the page's file (a page nobody will use: scanned after its session ended).
    pub fn discard(&self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(error = %e, "cannot remove a scanned page");
            }
        }
    }
}

/// The resolution a PNG declares (`pHYs` in pixels per metre), if it is one and plausible.
fn png_dpi(path: &Path) -> Option<u32> {
    let file = std::fs::File::open(path).ok()?;
    let reader = png::Decoder::new(BufReader::new(file)).read_info().ok()?;
    let dims = reader.info().pixel_dims?;
    if dims.unit != png::Unit::Meter {
        return None;
    }
    let dpi = (f64::from(dims.xppu) * 0.0254).round() as u32;
    (50..=1200).contains(&dpi).then_some(dpi)
}

/// A page as it is to be drawn (its file, grey or colour, its turns), taken from the document so that
/// the slow drawing happens without holding the document: the shell takes it under its lock
/// ([`Document::page_image`]), releases the lock, then calls [`PageImage::preview`]. Drawing a page
/// removed or retaken meanwhile fails with [`DocumentError::Unreadable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageImage {
    path: PathBuf,
    colour: Colour,
    quarters: u8,
}

impl PageImage {
    fn decode(&self) -> Result<DynamicImage, DocumentError> {
        let img = image::ImageReader::open(&self.path)
            .and_then(|r| r.with_guessed_format())
            .map_err(|e| DocumentError::Unreadable(e.to_string()))?
            .decode()
            .map_err(|e| DocumentError::Unreadable(e.to_string()))?;
        let img = match self.colour {
            Colour::Grey => DynamicImage::ImageLuma8(img.into_luma8()),
            Colour::Colour => DynamicImage::ImageRgb8(img.into_rgb8()),
        };
        Ok(match self.quarters {
            1 => img.rotate90(),
            2 => img.rotate180(),
            3 => img.rotate270(),
            _ => img,
        })
    }

    /// A JPEG of the page as shown (turns applied), at most `max_width` pixels wide, never enlarged
    /// (slow: decodes the page).
    pub fn preview(&self, max_width: u32) -> Result<Preview, DocumentError> {
        let img = self.decode()?;
        let max_width = max_width.max(1);
        let img = if img.width() > max_width {
            let h = (u64::from(img.height()) * u64::from(max_width) / u64::from(img.width())).max(1) as u32;
            img.resize_exact(max_width, h, image::imageops::FilterType::Triangle)
        } else {
            img
        };
        Ok(Preview { jpeg: encode_jpeg(&img, PREVIEW_QUALITY, None)?, width: img.width(), height: img.height() })
    }
}

/// A small JPEG of a page for the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The JPEG's bytes.
    pub jpeg: Vec<u8>,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
}

/// What a site's file input accepts, from its HTML `accept` attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accept {
    pdf: bool,
    jpeg: bool,
    attribute: String,
}

impl Accept {
    /// Parses an `accept` attribute: comma-separated MIME types (`application/pdf`, `image/jpeg`,
    /// `image/*`, `*/*`) and extensions (`.pdf`, `.jpg`, `.jpeg`); case and spaces do not matter,
    /// MIME parameters are ignored, so are types the borne does not make. Empty: anything.
    pub fn parse(attribute: &str) -> Accept {
        let mut a = Accept { pdf: false, jpeg: false, attribute: attribute.chars().take(200).collect() };
        let tokens: Vec<String> = attribute
            .split(',')
            .map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        if tokens.is_empty() {
            return Accept { pdf: true, jpeg: true, ..a };
        }
        for t in tokens {
            match t.as_str() {
                "*" | "*/*" => {
                    a.pdf = true;
                    a.jpeg = true;
                }
                "application/pdf" | "application/x-pdf" | "application/*" | ".pdf" => a.pdf = true,
                "image/*" | "image/jpeg" | "image/jpg" | "image/pjpeg" | ".jpg" | ".jpeg" | ".jpe" | ".jfif" => {
                    a.jpeg = true
                }
                _ => {}
            }
        }
        a
    }

    /// Any file (no `accept`).
    pub fn anything() -> Accept {
        Accept::parse("")
    }

    /// Whether a PDF is accepted.
    pub fn takes_pdf(&self) -> bool {
        self.pdf
    }

    /// Whether a JPEG picture is accepted.
    pub fn takes_jpeg(&self) -> bool {
        self.jpeg
    }
}

/// The file a finished document becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Output {
    /// One PDF, a page per scan.
    Pdf,
    /// One JPEG picture (a one-page document for a site taking pictures only).
    Jpeg,
}

impl Output {
    /// The file name's extension.
    pub fn extension(self) -> &'static str {
        match self {
            Output::Pdf => "pdf",
            Output::Jpeg => "jpg",
        }
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Output::Pdf => "application/pdf",
            Output::Jpeg => "image/jpeg",
        }
    }
}

/// Where the document goes: what the site's file input accepts and the size it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The input's `accept`.
    pub accept: Accept,
    /// The most bytes the page declares it takes (PHP's `MAX_FILE_SIZE` hidden field before the
    /// input, or its `data-max-size`; read by the shell, checked by [`declared_max_bytes`]), if any.
    pub max_bytes: Option<u64>,
}

/// Smallest size a page may declare: below it a declaration is raised to it (no legible page is
/// that small anyway; the document is then refused as too large, in French).
pub const MIN_DECLARED_BYTES: u64 = 10_000;
/// Largest size a page may declare: above it the declaration is lowered to it (the budget of a
/// document of [`MAX_PAGES`] pages is below it anyway).
pub const MAX_DECLARED_BYTES: u64 = 100_000_000;

/// The most bytes a site declares its file input takes, from what the page gave the shell (the
/// `value` of a PHP `MAX_FILE_SIZE` field, a `data-max-size` or `data-maxsize`): untrusted text.
/// Only plain decimal digits count (spaces around them aside; no sign, unit, exponent or
/// separator), at most 15 of them; 0 says nothing. Each value is clamped to
/// [`MIN_DECLARED_BYTES`]..=[`MAX_DECLARED_BYTES`], and the smallest wins.
pub fn declared_max_bytes<S: AsRef<str>>(values: &[S]) -> Option<u64> {
    values
        .iter()
        .filter_map(|v| {
            let t = v.as_ref().trim();
            if t.is_empty() || t.len() > 15 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: u64 = t.parse().ok()?;
            (n > 0).then(|| n.clamp(MIN_DECLARED_BYTES, MAX_DECLARED_BYTES))
        })
        .min()
}

impl Target {
    /// From the input's `accept` attribute and the size the page declares.
    pub fn from_input(accept: &str, max_bytes: Option<u64>) -> Target {
        Target { accept: Accept::parse(accept), max_bytes }
    }

    /// The file to make for a document of `pages` pages: a PDF whenever the site takes one; a JPEG
    /// for one page when it takes pictures only.
    pub fn output(&self, pages: usize) -> Result<Output, DocumentError> {
        if self.accept.pdf {
            Ok(Output::Pdf)
        } else if !self.accept.jpeg {
            Err(DocumentError::NotAccepted(self.accept.attribute.clone()))
        } else if pages == 1 {
            Ok(Output::Jpeg)
        } else {
            Err(DocumentError::OnePictureOnly(pages))
        }
    }

    /// The most bytes the document of `pages` pages may weigh: the site's limit, and about
    /// [`PAGE_BUDGET`] a page.
    pub fn limit(&self, pages: usize) -> u64 {
        let budget = PAGE_BUDGET.saturating_mul(pages.max(1) as u64);
        self.max_bytes.map_or(budget, |m| m.min(budget))
    }
}

/// A document written to the session's downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The file, in [`SessionDirs::downloads`].
    pub path: PathBuf,
    /// Its name (`document-1.pdf`).
    pub name: String,
    /// PDF or JPEG.
    pub output: Output,
    /// Its size in bytes.
    pub bytes: u64,
    /// Pages in it.
    pub pages: usize,
    /// Resolution of its images (the scan's, or lower when it had to shrink).
    pub dpi: u32,
    /// JPEG quality of its images.
    pub quality: u8,
}

/// The pages of a document being built, in order.
#[derive(Debug, Default)]
pub struct Document {
    pages: Vec<Page>,
}

impl Document {
    /// An empty document.
    pub fn new() -> Self {
        Document::default()
    }

    /// The pages, in order.
    pub fn pages(&self) -> &[Page] {
        &self.pages
    }

    /// Number of pages.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// No page yet.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// Adds a page at the end; returns its index. Past [`MAX_PAGES`] the page is refused (and its
    /// file removed).
    pub fn add(&mut self, page: Page) -> Result<usize, DocumentError> {
        if self.pages.len() >= MAX_PAGES {
            page.discard();
            return Err(DocumentError::TooManyPages);
        }
        self.pages.push(page);
        Ok(self.pages.len() - 1)
    }

    /// Replaces page `i` with a new scan (the old file is removed).
    pub fn retake(&mut self, i: usize, page: Page) -> Result<(), DocumentError> {
        let Some(slot) = self.pages.get_mut(i) else {
            page.discard();
            return Err(DocumentError::NoSuchPage(i));
        };
        let old = std::mem::replace(slot, page);
        old.discard();
        Ok(())
    }

    /// Removes page `i` (and its file).
    pub fn remove(&mut self, i: usize) -> Result<(), DocumentError> {
        if i >= self.pages.len() {
            return Err(DocumentError::NoSuchPage(i));
        }
        self.pages.remove(i).discard();
        Ok(())
    }

    /// Turns page `i`.
    pub fn rotate(&mut self, i: usize, r: Rotation) -> Result<(), DocumentError> {
        self.pages.get_mut(i).ok_or(DocumentError::NoSuchPage(i))?.rotate(r);
        Ok(())
    }

    /// Abandons the document: every page's file is removed.
    pub fn discard(&mut self) {
        for p in self.pages.drain(..) {
            p.discard();
        }
    }

    /// A JPEG of page `i` as shown (turns applied), at most `max_width` pixels wide (slow: decodes
    /// the page; see [`Document::page_image`] to draw it outside a lock).
    pub fn preview(&self, i: usize, max_width: u32) -> Result<Preview, DocumentError> {
        self.page_image(i)?.preview(max_width)
    }

    /// Page `i` as it is to be drawn, to draw it later without the document (quick).
    pub fn page_image(&self, i: usize) -> Result<PageImage, DocumentError> {
        Ok(self.pages.get(i).ok_or(DocumentError::NoSuchPage(i))?.view())
    }

    /// Makes the document's file in the session's downloads, as `target` wants it (slow: decodes and
    /// encodes every page, more than once when it must shrink). On success the pages' scans are
    /// removed and the document is empty; on any error it is unchanged, so the person can remove a
    /// page and try again.
    pub fn finish(&mut self, target: &Target, dirs: &SessionDirs) -> Result<Finished, DocumentError> {
        let result = self.make(target, dirs);
        match &result {
            Ok(f) => {
                tracing::info!(
                    pages = f.pages,
                    bytes = f.bytes,
                    dpi = f.dpi,
                    quality = f.quality,
                    output = f.output.extension(),
                    "scanned document finished"
                );
                self.discard();
            }
            Err(e) => {
                tracing::warn!(code = e.code(), error = %e, pages = self.pages.len(), "scanned document not made")
            }
        }
        result
    }

    fn make(&self, target: &Target, dirs: &SessionDirs) -> Result<Finished, DocumentError> {
        if self.pages.is_empty() {
            return Err(DocumentError::NoPage);
        }
        let output = target.output(self.pages.len())?;
        let limit = target.limit(self.pages.len());
        let top = self.pages.iter().map(|p| p.dpi).max().unwrap_or(super::MIN_DPI);
        let ladder: Vec<(u32, u8)> =
            shrink_steps(top).into_iter().flat_map(|dpi| QUALITIES.map(|q| (dpi, q))).collect();
        let mut smallest = 0;
        for (k, &(dpi, quality)) in ladder.iter().enumerate() {
            // The last step is made whole, to say how small the document can be.
            let last = k + 1 == ladder.len();
            let Some(bytes) = self.encode(output, dpi, quality, if last { u64::MAX } else { limit })? else {
                continue;
            };
            if bytes.len() as u64 > limit {
                smallest = bytes.len() as u64;
                continue;
            }
            let path = write_new_document(&dirs.downloads(), output.extension(), &bytes)
                .map_err(|e| DocumentError::Write(e.to_string()))?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            return Ok(Finished {
                path,
                name,
                output,
                bytes: bytes.len() as u64,
                pages: self.pages.len(),
                dpi,
                quality,
            });
        }
        Err(DocumentError::TooLarge { limit, smallest })
    }

    /// The file at `dpi` (at most) and `quality`, or `None` as soon as its pages alone pass `limit`.
    fn encode(&self, output: Output, dpi: u32, quality: u8, limit: u64) -> Result<Option<Vec<u8>>, DocumentError> {
        let mut images = Vec::with_capacity(self.pages.len());
        let mut total = 0u64;
        for page in &self.pages {
            let img = page.image()?;
            let img = if dpi < page.dpi {
                let scale = |px: u32| {
                    ((u64::from(px) * u64::from(dpi) + u64::from(page.dpi) / 2) / u64::from(page.dpi)).max(1) as u32
                };
                img.resize_exact(scale(img.width()), scale(img.height()), image::imageops::FilterType::CatmullRom)
            } else {
                img
            };
            let jpeg = encode_jpeg(&img, quality, Some(dpi.min(page.dpi)))?;
            total += jpeg.len() as u64;
            if total > limit {
                return Ok(None);
            }
            images.push(PdfImage {
                jpeg,
                width: img.width(),
                height: img.height(),
                colour: page.colour,
                points: page.points(),
            });
        }
        match output {
            Output::Jpeg => Ok(images.pop().map(|i| i.jpeg)),
            Output::Pdf => pdf(images).map(Some),
        }
    }
}

/// The resolutions tried, from the scan's down to [`MIN_SHRINK_DPI`].
fn shrink_steps(top: u32) -> Vec<u32> {
    let mut steps = vec![top];
    for (num, den) in [(4, 5), (2, 3), (1, 2)] {
        let d = (top * num / den).max(MIN_SHRINK_DPI);
        if d < *steps.last().unwrap_or(&top) {
            steps.push(d);
        }
    }
    steps
}

/// A baseline JPEG of `img` at `quality`, its resolution written in (JFIF density) when known, so a
/// site or a printer sizes the picture as the paper was.
fn encode_jpeg(img: &DynamicImage, quality: u8, dpi: Option<u32>) -> Result<Vec<u8>, DocumentError> {
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    if let Some(dpi) = dpi.and_then(|d| u16::try_from(d).ok()) {
        enc.set_pixel_density(image::codecs::jpeg::PixelDensity::dpi(dpi));
    }
    let done = match img {
        DynamicImage::ImageLuma8(g) => enc.encode(g.as_raw(), g.width(), g.height(), ExtendedColorType::L8),
        other => {
            let rgb = other.to_rgb8();
            enc.encode(rgb.as_raw(), rgb.width(), rgb.height(), ExtendedColorType::Rgb8)
        }
    };
    done.map_err(|e| DocumentError::Write(format!("JPEG: {e}")))?;
    Ok(out)
}

/// One page's image for the PDF.
struct PdfImage {
    jpeg: Vec<u8>,
    width: u32,
    height: u32,
    colour: Colour,
    points: (f32, f32),
}

/// A PDF of one page per image, each filling its page (the scan's paper size).
fn pdf(images: Vec<PdfImage>) -> Result<Vec<u8>, DocumentError> {
    use lopdf::{dictionary, Object, Stream};
    let mut doc = lopdf::Document::with_version("1.4");
    let pages_id = doc.new_object_id();
    let mut kids: Vec<Object> = Vec::with_capacity(images.len());
    let count = images.len() as i64;
    for img in images {
        let (w, h) = img.points;
        let colour_space = match img.colour {
            Colour::Grey => "DeviceGray",
            Colour::Colour => "DeviceRGB",
        };
        let image = Stream::new(
            dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => i64::from(img.width),
                "Height" => i64::from(img.height),
                "ColorSpace" => colour_space,
                "BitsPerComponent" => 8,
                "Filter" => "DCTDecode",
            },
            img.jpeg,
        )
        .with_compression(false);
        let image_id = doc.add_object(image);
        let content = format!("q {w:.2} 0 0 {h:.2} 0 0 cm /Scan Do Q\n").into_bytes();
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), w.into(), h.into()],
            "Resources" => dictionary! { "XObject" => dictionary! { "Scan" => image_id } },
            "Contents" => content_id,
        });
        kids.push(page_id.into());
    }
    doc.objects
        .insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).map_err(|e| DocumentError::Write(format!("PDF: {e}")))?;
    Ok(out)
}

/// Writes `bytes` as `document-<n>.<ext>` in `dir`, `n` the smallest number no file `document-<n>.*`
/// has. The file appears whole (a hidden temporary file, synced, then linked under its name without
/// replacing anything: two documents finished at once get two numbers).
fn write_new_document(dir: &Path, ext: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".document.").suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    let mut n = first_free_number(dir);
    loop {
        let path = dir.join(format!("document-{n}.{ext}"));
        match tmp.persist_noclobber(&path) {
            Ok(_) => {
                std::fs::File::open(dir)?.sync_all()?;
                return Ok(path);
            }
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists && n < 100_000 => {
                tmp = e.file;
                n += 1;
            }
            Err(e) => return Err(e.error),
        }
    }
}

/// The smallest `n` ≥ 1 such that no file in `dir` is named `document-<n>.<anything>`.
fn first_free_number(dir: &Path) -> u32 {
    let used: std::collections::HashSet<u32> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let rest = name.strip_prefix("document-")?;
                    rest.split_once('.')?.0.parse().ok()
                })
                .collect()
        })
        .unwrap_or_default();
    (1..).find(|n| !used.contains(n)).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma, Rgb, RgbImage};

    fn dirs() -> (tempfile::TempDir, SessionDirs) {
        let d = tempfile::tempdir().unwrap();
        let s = SessionDirs::new(d.path());
        s.wipe_at_start().unwrap();
        std::fs::create_dir_all(s.scans()).unwrap();
        (d, s)
    }

    /// A grey page of "text": noise in lines, like print on paper, `w`×`h` pixels.
    fn text_page(s: &SessionDirs, name: &str, w: u32, h: u32, seed: u32) -> Page {
        let mut x = seed.wrapping_mul(2_654_435_761).max(1);
        let img = GrayImage::from_fn(w, h, |_, row| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if row % 24 < 12 && x.is_multiple_of(3) {
                Luma([20])
            } else {
                Luma([235])
            }
        });
        let path = s.scans().join(name);
        img.save(&path).unwrap();
        Page::open(&path, ScanSettings::default()).unwrap()
    }

    #[test]
    fn accept_attributes() {
        let a = Accept::parse;
        assert!(a("").takes_pdf() && a("").takes_jpeg());
        assert!(a("  ").takes_pdf());
        assert!(a("*/*").takes_jpeg());
        let img = a("image/*");
        assert!(img.takes_jpeg() && !img.takes_pdf());
        let pdf = a(".PDF");
        assert!(pdf.takes_pdf() && !pdf.takes_jpeg());
        let both = a("application/pdf, image/jpeg;q=0.9, .png");
        assert!(both.takes_pdf() && both.takes_jpeg());
        assert!(a(".jpg,.jpeg").takes_jpeg());
        let png_only = a("image/png,.png");
        assert!(!png_only.takes_pdf() && !png_only.takes_jpeg());
    }

    #[test]
    fn the_output_follows_the_input() {
        assert_eq!(Target::from_input("", None).output(3), Ok(Output::Pdf));
        assert_eq!(Target::from_input("image/*,application/pdf", None).output(1), Ok(Output::Pdf));
        assert_eq!(Target::from_input("image/*", None).output(1), Ok(Output::Jpeg));
        assert_eq!(Target::from_input(".jpg", None).output(2), Err(DocumentError::OnePictureOnly(2)));
        assert_eq!(
            Target::from_input("image/png", None).output(1),
            Err(DocumentError::NotAccepted("image/png".into()))
        );
        assert_eq!(Target::from_input("", None).limit(2), 2 * PAGE_BUDGET);
        assert_eq!(Target::from_input("", Some(500_000)).limit(2), 500_000);
        assert_eq!(Target::from_input("", Some(5_000_000)).limit(1), PAGE_BUDGET);
    }

    #[test]
    fn a_declared_size_is_plain_digits_clamped_and_the_smallest_wins() {
        assert_eq!(declared_max_bytes::<&str>(&[]), None);
        assert_eq!(declared_max_bytes(&["2097152"]), Some(2_097_152));
        assert_eq!(declared_max_bytes(&[" 300000 "]), Some(300_000));
        assert_eq!(declared_max_bytes(&["2000000", "", "80000"]), Some(80_000));
        // Untrusted text: anything but digits says nothing.
        for bad in ["", "  ", "2M", "2 000 000", "2,000,000", "1e6", "-5", "+5", "0x100", "1.5", "٣٠٠٠٠٠", "0", "000"]
        {
            assert_eq!(declared_max_bytes(&[bad]), None, "{bad:?}");
        }
        assert_eq!(declared_max_bytes(&["1e6", "500000"]), Some(500_000), "a bad value beside a good one");
        // Clamped: a page cannot ask for nothing nor for the whole disk.
        assert_eq!(declared_max_bytes(&["1"]), Some(MIN_DECLARED_BYTES));
        assert_eq!(declared_max_bytes(&["999999999999999"]), Some(MAX_DECLARED_BYTES));
        assert_eq!(declared_max_bytes(&["9999999999999999"]), None, "more than 15 digits");
        assert_eq!(declared_max_bytes(&["18446744073709551616"]), None);
        // The declaration goes into the document's limit.
        let t = Target::from_input("image/*", declared_max_bytes(&["60000"]));
        assert_eq!(t.limit(1), 60_000);
    }

    #[test]
    fn shrinking_never_goes_below_100_dpi() {
        assert_eq!(shrink_steps(150), [150, 120, 100]);
        assert_eq!(shrink_steps(200), [200, 160, 133, 100]);
        assert_eq!(shrink_steps(100), [100]);
    }

    #[test]
    fn pages_are_added_turned_retaken_and_removed_with_their_files() {
        let (_d, s) = dirs();
        let mut doc = Document::new();
        assert_eq!(doc.add(text_page(&s, "a.png", 300, 400, 1)), Ok(0));
        assert_eq!(doc.add(text_page(&s, "b.png", 300, 400, 2)), Ok(1));
        doc.rotate(0, Rotation::R90).unwrap();
        assert_eq!((doc.pages()[0].width(), doc.pages()[0].height()), (400, 300));
        doc.rotate(0, Rotation::R270).unwrap();
        assert_eq!(doc.pages()[0].rotation_degrees(), 0);
        doc.rotate(1, Rotation::R180).unwrap();
        assert_eq!((doc.pages()[1].width(), doc.pages()[1].height()), (300, 400));
        assert_eq!(doc.rotate(2, Rotation::R90), Err(DocumentError::NoSuchPage(2)));
        let old = doc.pages()[1].file().to_path_buf();
        doc.retake(1, text_page(&s, "c.png", 200, 100, 3)).unwrap();
        assert!(!old.exists(), "the retaken page's scan is removed");
        assert_eq!(doc.pages()[1].width(), 200);
        assert_eq!(doc.pages()[1].rotation_degrees(), 0, "a retake starts unturned");
        let stray = text_page(&s, "d.png", 10, 10, 4);
        let stray_file = stray.file().to_path_buf();
        assert_eq!(doc.retake(5, stray), Err(DocumentError::NoSuchPage(5)));
        assert!(!stray_file.exists());
        doc.remove(0).unwrap();
        assert_eq!(doc.len(), 1);
        assert_eq!(doc.remove(3), Err(DocumentError::NoSuchPage(3)));
        doc.discard();
        assert!(doc.is_empty());
        assert_eq!(std::fs::read_dir(s.scans()).unwrap().count(), 0);
    }

    #[test]
    fn a_document_has_at_most_twenty_pages() {
        let (_d, s) = dirs();
        let mut doc = Document::new();
        for i in 0..MAX_PAGES {
            doc.add(text_page(&s, &format!("{i}.png"), 8, 8, i as u32)).unwrap();
        }
        let extra = text_page(&s, "extra.png", 8, 8, 99);
        let file = extra.file().to_path_buf();
        assert_eq!(doc.add(extra), Err(DocumentError::TooManyPages));
        assert!(!file.exists(), "the page refused is not left behind");
        assert_eq!(doc.len(), MAX_PAGES);
    }

    #[test]
    fn a_preview_is_small_and_turned() {
        let (_d, s) = dirs();
        let mut doc = Document::new();
        doc.add(text_page(&s, "a.png", 1240, 1754, 1)).unwrap();
        doc.rotate(0, Rotation::R90).unwrap();
        let p = doc.preview(0, PREVIEW_WIDTH).unwrap();
        assert_eq!((p.width, p.height), (800, 565));
        let img = image::load_from_memory_with_format(&p.jpeg, image::ImageFormat::Jpeg).unwrap();
        assert_eq!((img.width(), img.height()), (800, 565));
        let small = doc.preview(0, 4000).unwrap();
        assert_eq!((small.width, small.height), (1754, 1240), "never enlarged");
        // Drawn apart from the document: a page removed meanwhile is said unreadable.
        let view = doc.page_image(0).unwrap();
        assert_eq!(view.preview(PREVIEW_WIDTH).unwrap(), p);
        doc.remove(0).unwrap();
        assert_eq!(view.preview(PREVIEW_WIDTH).unwrap_err().code(), "internal");
        assert_eq!(doc.page_image(0), Err(DocumentError::NoSuchPage(0)));
    }

    #[test]
    fn a_document_shrinks_to_the_size_the_site_declares_or_says_it_cannot() {
        let (_d, s) = dirs();
        let mut doc = Document::new();
        doc.add(text_page(&s, "a.png", 1240, 1754, 7)).unwrap();
        let roomy = doc.make(&Target::from_input("", None), &s).unwrap();
        assert_eq!((roomy.dpi, roomy.quality), (150, 75));
        eprintln!("an A4 page of grey noise in lines (a hard case for JPEG) at 150 dpi: {} bytes", roomy.bytes);
        assert!(roomy.bytes <= PAGE_BUDGET);
        let tight_limit = roomy.bytes * 2 / 3;
        let tight = doc.make(&Target::from_input("", Some(tight_limit)), &s).unwrap();
        assert!(tight.bytes <= tight_limit, "{} > {tight_limit}", tight.bytes);
        assert!(tight.quality < 75 || tight.dpi < 150, "{tight:?}");
        let e = doc.make(&Target::from_input("", Some(5_000)), &s).unwrap_err();
        assert!(matches!(e, DocumentError::TooLarge { limit: 5_000, smallest } if smallest > 5_000), "{e:?}");
        assert_eq!(e.code(), "too-large");
        assert_eq!(doc.len(), 1, "pages kept after a failure");
    }

    #[test]
    fn documents_take_the_next_free_number_and_never_replace_one() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("document-1.pdf"), "x").unwrap();
        std::fs::write(d.path().join("document-3.jpg"), "x").unwrap();
        std::fs::write(d.path().join("document-x.pdf"), "x").unwrap();
        assert_eq!(first_free_number(d.path()), 2);
        let a = write_new_document(d.path(), "pdf", b"%PDF-a").unwrap();
        let b = write_new_document(d.path(), "jpg", b"b").unwrap();
        assert_eq!(a.file_name().unwrap(), "document-2.pdf");
        assert_eq!(b.file_name().unwrap(), "document-4.jpg");
        assert_eq!(std::fs::read(d.path().join("document-1.pdf")).unwrap(), b"x");
        let hidden = std::fs::read_dir(d.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .count();
        assert_eq!(hidden, 0, "no temporary file left");
    }

    #[test]
    fn colour_pages_stay_colour_and_a_jpeg_path_gives_one_picture() {
        let (_d, s) = dirs();
        let img = RgbImage::from_fn(600, 800, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let path = s.scans().join("c.png");
        img.save(&path).unwrap();
        let page = Page::open(&path, ScanSettings::new(Colour::Colour, 200)).unwrap();
        assert_eq!((page.colour(), page.dpi()), (Colour::Colour, 200), "no pHYs: the resolution asked");
        let mut doc = Document::new();
        doc.add(page).unwrap();
        let f = doc.finish(&Target::from_input("image/jpeg", None), &s).unwrap();
        assert_eq!((f.output, f.name.as_str()), (Output::Jpeg, "document-1.jpg"));
        let back = image::open(&f.path).unwrap();
        assert!(back.color().has_color());
        assert_eq!((back.width(), back.height()), (600, 800));
        assert!(doc.is_empty() && !path.exists(), "finished: the scans are gone");
    }
}
