//! `borne-kit`: the centre's communication kit on paper. Lays out what `borne_core::kit` decided
//! (the tiles by theme, the hours, « Demandez à l'accueil », French and one more language) as three
//! PDF files: the A4 poster, the A5 flyer and the booklet of "Avant de commencer" sheets.
//!
//! Text goes through pango (font fallback from the system's fonts, Arabic shaping, bidirectional
//! text: an Arabic paragraph runs right to left and is aligned right) and cairo writes the PDF at the
//! exact paper size, with the fonts embedded. The pictograms are the portal's own SVGs, built into
//! the program and rendered by the system's gdk-pixbuf SVG loader (librsvg) at print resolution.
//! Used by `bornectl kit` and by the admin screen's « Imprimer l'affiche » (both call [`write`]).

use std::path::{Path, PathBuf};

use borne_core::kit::{self, Bilingual, Format, Kit, KitSheet, KitTheme, Paper};
use gdk_pixbuf::prelude::*;

mod pictograms {
    include!(concat!(env!("OUT_DIR"), "/pictograms.rs"));
}

/// Fonts, in order: the image ships Noto (every script's sans cut) and DejaVu; fontconfig falls
/// back further for any character neither has.
const FONTS: &str = "Noto Sans, DejaVu Sans, sans-serif";
/// The portal's dark blue (headings, pictograms).
const BLUE: (f64, f64, f64) = (0.106, 0.212, 0.365);
/// Grey of the descriptions.
const GREY: (f64, f64, f64) = (0.3, 0.3, 0.3);
/// Background of the « Demandez à l'accueil » box.
const PALE: (f64, f64, f64) = (0.91, 0.94, 0.98);
/// Pictograms are rendered at this many pixels per point (about 600 dpi).
const PICTOGRAM_PX_PER_PT: f64 = 8.0;

/// One of the kit's printed pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// The A4 poster.
    Poster,
    /// The A5 flyer.
    Flyer,
    /// The booklet of "Avant de commencer" sheets (A4 pages).
    Booklet,
}

impl Piece {
    /// Every piece, in the order `bornectl kit` writes them.
    pub const ALL: [Piece; 3] = [Piece::Poster, Piece::Flyer, Piece::Booklet];

    /// The piece named `poster`, `flyer` or `booklet` (the admin page's names).
    pub fn from_name(name: &str) -> Option<Piece> {
        match name {
            "poster" => Some(Piece::Poster),
            "flyer" => Some(Piece::Flyer),
            "booklet" => Some(Piece::Booklet),
            _ => None,
        }
    }

    /// The file's name in the output folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Piece::Poster => "affiche-A4.pdf",
            Piece::Flyer => "depliant-A5.pdf",
            Piece::Booklet => "fiches-avant-de-commencer.pdf",
        }
    }

    /// What `bornectl kit` says it wrote, in French.
    pub fn french(self) -> &'static str {
        match self {
            Piece::Poster => "l'affiche A4",
            Piece::Flyer => "le dépliant A5",
            Piece::Booklet => "le livret des fiches « Avant de commencer » (pages A4)",
        }
    }
}

/// Why a piece could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DrawError {
    /// Cairo could not draw or write the PDF.
    #[error("cairo: {0}")]
    Cairo(#[from] cairo::Error),
    /// The PDF could not be finished.
    #[error("the PDF stream failed: {0}")]
    Stream(String),
    /// The file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The centre's logo in the state directory (`logo.png`, `logo.jpg` or `logo.svg`, as the admin
/// screen stores it), if there is one.
pub fn logo_in(state_dir: &Path) -> Option<PathBuf> {
    ["png", "jpg", "svg"].iter().map(|ext| state_dir.join(format!("logo.{ext}"))).find(|p| p.is_file())
}

/// Makes `piece` of `kit` as PDF bytes.
pub fn render(kit: &Kit, piece: Piece, logo: Option<&Path>) -> Result<Vec<u8>, DrawError> {
    let logo = logo.and_then(load_logo);
    match piece {
        Piece::Poster => sheet(kit, &kit::POSTER, logo.as_ref()),
        Piece::Flyer => sheet(kit, &kit::FLYER, logo.as_ref()),
        Piece::Booklet => booklet(kit, logo.as_ref()),
    }
}

/// Writes `piece` of `kit` into `dir` (its [`Piece::file_name`]); returns the file.
pub fn write(kit: &Kit, piece: Piece, logo: Option<&Path>, dir: &Path) -> Result<PathBuf, DrawError> {
    let bytes = render(kit, piece, logo)?;
    let path = dir.join(piece.file_name());
    std::fs::create_dir_all(dir)
        .and_then(|()| borne_core::fsutil::write_atomic(&path, &bytes))
        .map_err(|source| DrawError::Write { path: path.clone(), source })?;
    Ok(path)
}

/// A PDF being drawn: its surface, context and text settings.
struct Doc {
    surface: cairo::PdfSurface,
    cr: cairo::Context,
    pango: pango::Context,
    width: f64,
    height: f64,
}

impl Doc {
    fn new(paper: Paper) -> Result<Doc, DrawError> {
        let (width, height) = paper.points();
        let surface = cairo::PdfSurface::for_stream(width, height, Vec::<u8>::new())?;
        let cr = cairo::Context::new(&surface)?;
        let pango = pangocairo::functions::create_context(&cr);
        Ok(Doc { surface, cr, pango, width, height })
    }

    /// A paragraph of `text` in `lang`, `size` points, wrapped at `width` points. A right-to-left
    /// paragraph (Arabic) is aligned right, since pango swaps the alignment for it.
    fn text(&self, text: &str, lang: &str, size: f64, bold: bool, width: f64) -> pango::Layout {
        let layout = pango::Layout::new(&self.pango);
        let mut font = pango::FontDescription::from_string(FONTS);
        font.set_absolute_size(size * f64::from(pango::SCALE));
        if bold {
            font.set_weight(pango::Weight::Bold);
        }
        layout.set_font_description(Some(&font));
        let attrs = pango::AttrList::new();
        attrs.insert(pango::AttrLanguage::new(&pango::Language::from_string(lang)));
        layout.set_attributes(Some(&attrs));
        layout.set_width((width.max(1.0) * f64::from(pango::SCALE)) as i32);
        layout.set_wrap(pango::WrapMode::WordChar);
        layout.set_alignment(pango::Alignment::Left);
        layout.set_text(text);
        layout
    }

    fn show(&self, layout: &pango::Layout, x: f64, y: f64, color: (f64, f64, f64)) {
        self.cr.set_source_rgb(color.0, color.1, color.2);
        self.cr.move_to(x, y);
        pangocairo::functions::show_layout(&self.cr, layout);
    }

    fn next_page(&self) -> Result<(), DrawError> {
        self.cr.show_page()?;
        Ok(())
    }

    fn finish(self) -> Result<Vec<u8>, DrawError> {
        drop(self.cr);
        self.surface.finish();
        let stream = self.surface.finish_output_stream().map_err(|e| DrawError::Stream(e.to_string()))?;
        stream.downcast::<Vec<u8>>().map(|b| *b).map_err(|_| DrawError::Stream("not a byte buffer".into()))
    }
}

/// Height of a laid-out paragraph, in points.
fn height(layout: &pango::Layout) -> f64 {
    f64::from(layout.size().1) / f64::from(pango::SCALE)
}

/// An image ready to paint, and its size in pixels.
struct Picture {
    surface: cairo::ImageSurface,
    width: f64,
    height: f64,
}

/// A pixbuf as an opaque cairo image, laid on white: the kit's pictures always sit on white paper,
/// and a PDF without transparency goes through CUPS's filters (PDF to PostScript and back) with its
/// text kept as text, where a soft mask makes them rasterise the whole page.
fn picture_of(pixbuf: &gdk_pixbuf::Pixbuf) -> Option<Picture> {
    let pixbuf = if pixbuf.has_alpha() { pixbuf.clone() } else { pixbuf.add_alpha(false, 0, 0, 0).ok()? };
    let (w, h) = (pixbuf.width(), pixbuf.height());
    let mut surface = cairo::ImageSurface::create(cairo::Format::Rgb24, w, h).ok()?;
    let stride = usize::try_from(surface.stride()).ok()?;
    let src_stride = usize::try_from(pixbuf.rowstride()).ok()?;
    let bytes = pixbuf.read_pixel_bytes();
    {
        let mut data = surface.data().ok()?;
        for y in 0..usize::try_from(h).ok()? {
            for x in 0..usize::try_from(w).ok()? {
                let s = y * src_stride + x * 4;
                let (r, g, b, a) = (bytes[s], bytes[s + 1], bytes[s + 2], u16::from(bytes[s + 3]));
                let on_white = |c: u8| ((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
                let rgb = 0xff00_0000
                    | (u32::from(on_white(r)) << 16)
                    | (u32::from(on_white(g)) << 8)
                    | u32::from(on_white(b));
                let d = y * stride + x * 4;
                data[d..d + 4].copy_from_slice(&rgb.to_ne_bytes());
            }
        }
    }
    surface.mark_dirty();
    Some(Picture { surface, width: f64::from(w), height: f64::from(h) })
}

/// The portal's pictogram `name`, `size` points wide, or `None` when it is unknown or the SVG loader
/// is missing (the tile is then printed without it, and the log says why).
fn pictogram(name: &str, size: f64) -> Option<Picture> {
    let svg = pictograms::PICTOGRAMS.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)?;
    let px = (size * PICTOGRAM_PX_PER_PT).round() as i32;
    let loaded = (|| {
        let loader = gdk_pixbuf::PixbufLoader::with_type("svg")?;
        loader.set_size(px, px);
        loader.write(svg)?;
        loader.close()?;
        Ok::<_, glib_error::Error>(loader.pixbuf())
    })();
    match loaded {
        Ok(Some(p)) => picture_of(&p),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, pictogram = name, "cannot render the pictogram (is librsvg2-common installed?)");
            None
        }
    }
}

mod glib_error {
    pub use gdk_pixbuf::glib::Error;
}

fn load_logo(path: &Path) -> Option<Picture> {
    // At most 1200 pixels on its longest side: sharp on paper, small in the PDF.
    match gdk_pixbuf::Pixbuf::from_file_at_scale(path, 1200, 1200, true) {
        Ok(p) => picture_of(&p),
        Err(e) => {
            tracing::warn!(error = %e, path = %path.display(), "the centre's logo cannot be read; the kit is made without it");
            None
        }
    }
}

/// Paints `picture` to fit in a `w` × `h` box at (`x`, `y`), keeping its proportions; returns the
/// width it took.
fn paint(doc: &Doc, picture: &Picture, x: f64, y: f64, w: f64, h: f64) -> Result<f64, DrawError> {
    let scale = (w / picture.width).min(h / picture.height);
    doc.cr.save()?;
    doc.cr.translate(x, y);
    doc.cr.scale(scale, scale);
    doc.cr.set_source_surface(&picture.surface, 0.0, 0.0)?;
    doc.cr.paint()?;
    doc.cr.restore()?;
    Ok(picture.width * scale)
}

/// A block of the page: laid-out paragraphs stacked in a box, with an optional pictogram at the
/// start of the line.
struct Block {
    lines: Vec<(pango::Layout, (f64, f64, f64), f64)>,
    icon: Option<(String, f64)>,
    indent: f64,
    gap_after: f64,
}

impl Block {
    fn height(&self) -> f64 {
        let text: f64 = self.lines.iter().map(|(l, _, gap)| height(l) + gap).sum();
        text.max(self.icon.as_ref().map_or(0.0, |(_, s)| *s)) + self.gap_after
    }

    fn draw(&self, doc: &Doc, x: f64, y: f64) -> Result<(), DrawError> {
        if let Some((name, size)) = &self.icon {
            if let Some(p) = pictogram(name, *size) {
                paint(doc, &p, x, y, *size, *size)?;
            }
        }
        let mut yy = y;
        for (l, color, gap) in &self.lines {
            doc.show(l, x + self.indent, yy, *color);
            yy += height(l) + gap;
        }
        Ok(())
    }
}

/// The paragraphs of a text in both languages: French, then the other one when there is one.
fn bilingual(
    doc: &Doc,
    kit: &Kit,
    t: &Bilingual,
    size: f64,
    bold: bool,
    width: f64,
    color: (f64, f64, f64),
) -> Vec<(pango::Layout, (f64, f64, f64), f64)> {
    let mut out = vec![(doc.text(&t.fr, "fr", size, bold, width), color, size * 0.1)];
    if let (Some(o), Some(lang)) = (&t.other, &kit.second) {
        out.push((doc.text(o, lang, size * 0.92, bold, width), color, size * 0.1));
    }
    out
}

/// The blocks of one theme at `scale`: its title, then its tiles.
fn theme_blocks(
    doc: &Doc,
    kit: &Kit,
    theme: &KitTheme,
    f: &Format,
    scale: f64,
    width: f64,
    descriptions: bool,
) -> Vec<Block> {
    let s = f.text_size * scale;
    let head_icon = s * 1.8;
    let mut blocks = vec![Block {
        lines: bilingual(doc, kit, &theme.name, s * 1.15, true, width - head_icon - s * 0.6, BLUE),
        icon: Some((theme.pictogram.clone(), head_icon)),
        indent: head_icon + s * 0.6,
        gap_after: s * 0.45,
    }];
    if f.tile_pictograms {
        let icon = s * 2.0;
        let indent = icon + s * 0.6;
        for t in &theme.tiles {
            let mut lines = bilingual(doc, kit, &t.name, s, true, width - indent, (0.0, 0.0, 0.0));
            if descriptions {
                lines.extend(bilingual(doc, kit, &t.description, s * 0.82, false, width - indent, GREY));
            }
            blocks.push(Block { lines, icon: Some((t.pictogram.clone(), icon)), indent, gap_after: s * 0.5 });
        }
    } else {
        // The flyer: the tiles' names in one paragraph under the theme.
        let names: Vec<&str> = theme.tiles.iter().map(|t| t.name.fr.as_str()).collect();
        let indent = head_icon + s * 0.6;
        blocks.push(Block {
            lines: vec![(doc.text(&names.join(" · "), "fr", s, false, width - indent), (0.0, 0.0, 0.0), 0.0)],
            icon: None,
            indent,
            gap_after: s * 0.5,
        });
    }
    if let Some(b) = blocks.last_mut() {
        b.gap_after += s * 0.7;
    }
    blocks
}

/// The header of the poster or flyer: logo, centre, headline in both languages. Returns its height.
fn header(doc: &Doc, kit: &Kit, f: &Format, logo: Option<&Picture>, draw: bool) -> Result<f64, DrawError> {
    let m = f.margin;
    let s = f.text_size;
    let logo_h = s * 6.0;
    let mut x = m;
    if let Some(p) = logo {
        if draw {
            x += paint(doc, p, m, m, logo_h * 1.6, logo_h)? + s;
        } else {
            x += (logo_h * 1.6).min(p.width * logo_h / p.height) + s;
        }
    }
    let name = doc.text(&kit.centre, "fr", s * 2.3, true, doc.width - x - m);
    let name_h = height(&name);
    if draw {
        doc.show(&name, x, m, BLUE);
    }
    let mut y = m + name_h.max(if logo.is_some() { logo_h } else { 0.0 }) + s * 0.8;
    let w = doc.width - 2.0 * m;
    let mut lines = vec![(doc.text(&kit.fr.headline, "fr", s * 1.7, true, w), s * 0.3)];
    if let (Some(o), Some(lang)) = (&kit.other, &kit.second) {
        lines.push((doc.text(&o.headline, lang, s * 1.6, true, w), s * 0.3));
    }
    for (l, gap) in lines {
        if draw {
            doc.show(&l, m, y, (0.0, 0.0, 0.0));
        }
        y += height(&l) + gap;
    }
    y += s * 0.4;
    if draw {
        doc.cr.set_source_rgb(BLUE.0, BLUE.1, BLUE.2);
        doc.cr.set_line_width(1.5);
        doc.cr.move_to(m, y);
        doc.cr.line_to(doc.width - m, y);
        doc.cr.stroke()?;
    }
    Ok(y + s * 1.0 - m)
}

/// "label : value" in French typography (a space before the colon), "label: value" in the others.
fn labelled(lang: &str, label: &str, value: &str) -> String {
    if lang == "fr" {
        format!("{label} : {value}")
    } else {
        format!("{label}: {value}")
    }
}

/// The footer: « Demandez à l'accueil », the hours and the place, in a pale box at the page's foot.
fn footer(doc: &Doc, kit: &Kit, f: &Format, draw: bool) -> Result<f64, DrawError> {
    let m = f.margin;
    let s = f.text_size;
    let pad = s * 0.9;
    let full = doc.width - 2.0 * m - 2.0 * pad;
    // French on the left; the second language beside it, on the right half.
    let halves = if kit.other.is_some() { 2.0 } else { 1.0 };
    let w = (full - (halves - 1.0) * 2.0 * pad) / halves;
    let stack = |t: &kit::KitTexts, lang: &str| -> Vec<(pango::Layout, (f64, f64, f64), f64)> {
        let mut lines = vec![
            (doc.text(&t.ask, lang, s * 2.0, true, w), BLUE, s * 0.2),
            (doc.text(&t.helper, lang, s * 1.05, false, w), (0.0, 0.0, 0.0), s * 0.6),
            // The label in the kit's language, the référent's own (French) words after it.
            (doc.text(&labelled(lang, &t.hours, &kit.hours), lang, s * 1.05, true, w), (0.0, 0.0, 0.0), s * 0.2),
        ];
        if !kit.place.trim().is_empty() {
            lines.push((
                doc.text(&labelled(lang, &t.place, &kit.place), lang, s * 1.05, true, w),
                (0.0, 0.0, 0.0),
                0.0,
            ));
        }
        lines
    };
    let mut stacks = vec![(stack(&kit.fr, "fr"), m + pad)];
    if let (Some(o), Some(lang)) = (&kit.other, &kit.second) {
        stacks.push((stack(o, lang), m + pad + w + 2.0 * pad));
    }
    let inner = stacks.iter().map(|(l, _)| l.iter().map(|(l, _, g)| height(l) + g).sum::<f64>()).fold(0.0, f64::max);
    let box_h = inner + 2.0 * pad;
    if draw {
        let top = doc.height - m - box_h;
        doc.cr.set_source_rgb(PALE.0, PALE.1, PALE.2);
        doc.cr.rectangle(m, top, doc.width - 2.0 * m, box_h);
        doc.cr.fill()?;
        for (lines, x) in &stacks {
            let mut y = top + pad;
            for (l, color, gap) in lines {
                doc.show(l, *x, y, *color);
                y += height(l) + gap;
            }
        }
    }
    Ok(box_h)
}

/// Every theme's blocks at `scale`, and the height each theme takes.
fn all_theme_blocks(
    doc: &Doc,
    kit: &Kit,
    f: &Format,
    scale: f64,
    col_w: f64,
    descriptions: bool,
) -> Vec<(Vec<Block>, f64)> {
    kit.themes
        .iter()
        .map(|t| {
            let b = theme_blocks(doc, kit, t, f, scale, col_w, descriptions);
            let h = b.iter().map(Block::height).sum();
            (b, h)
        })
        .collect()
}

/// The poster or the flyer: header, the themes in columns (shrunk until they fit; on more pages
/// when even the smallest size does not), footer.
fn sheet(kit: &Kit, f: &Format, logo: Option<&Picture>) -> Result<Vec<u8>, DrawError> {
    let doc = Doc::new(f.paper)?;
    let m = f.margin;
    let gutter = f.text_size * 1.5;
    let col_width = |cols: usize| (doc.width - 2.0 * m - gutter * (cols as f64 - 1.0)) / cols as f64;
    let head = header(&doc, kit, f, logo, false)?;
    let foot = footer(&doc, kit, f, false)?;
    let room = doc.height - 2.0 * m - head - foot - f.text_size;

    // The format's layouts in its order of preference, each at the largest scale (down to its
    // smallest) at which the tallest column fits; at worst the last one's smallest, on more pages.
    let mut chosen = None;
    'fit: for fit in f.fits {
        let cols = fit.columns.max(1);
        let mut scale = 1.0;
        while scale >= fit.min_scale {
            let themes = all_theme_blocks(&doc, kit, f, scale, col_width(cols), fit.descriptions);
            let heights: Vec<f64> = themes.iter().map(|(_, h)| *h).collect();
            let starts = kit::split_columns(&heights, cols);
            if column_heights(&heights, &starts).into_iter().fold(0.0, f64::max) <= room {
                tracing::debug!(scale, cols, descriptions = fit.descriptions, "kit layout");
                chosen = Some((themes, Some(starts), cols));
                break 'fit;
            }
            scale *= 0.96;
        }
    }
    let (themes, starts, cols) = chosen.unwrap_or_else(|| {
        let last = f.fits.last().copied().unwrap_or(kit::Fit { descriptions: false, columns: 2, min_scale: 0.6 });
        let cols = last.columns.max(1);
        (all_theme_blocks(&doc, kit, f, last.min_scale, col_width(cols), false), None, cols)
    });
    let col_w = col_width(cols);

    header(&doc, kit, f, logo, true)?;
    footer(&doc, kit, f, true)?;
    let top = m + head;
    match starts {
        Some(starts) => {
            let bounds: Vec<usize> = std::iter::once(0).chain(starts).chain(std::iter::once(themes.len())).collect();
            for (c, w) in bounds.windows(2).enumerate() {
                let x = m + c as f64 * (col_w + gutter);
                let mut y = top;
                for (blocks, _) in &themes[w[0]..w[1]] {
                    for b in blocks {
                        b.draw(&doc, x, y)?;
                        y += b.height();
                    }
                }
            }
        }
        None => {
            // Too many tiles for one page even small: fill the columns block by block, page after page.
            let (mut col, mut col_top, mut bottom) = (0usize, top, top + room);
            let mut y = top;
            for b in themes.iter().flat_map(|(blocks, _)| blocks.iter()) {
                if y + b.height() > bottom && y > col_top {
                    col += 1;
                    if col == cols {
                        doc.next_page()?;
                        (col, col_top, bottom) = (0, m, doc.height - m);
                    }
                    y = col_top;
                }
                b.draw(&doc, m + col as f64 * (col_w + gutter), y)?;
                y += b.height();
            }
        }
    }
    doc.finish()
}

fn column_heights(heights: &[f64], starts: &[usize]) -> Vec<f64> {
    let bounds: Vec<usize> =
        std::iter::once(0).chain(starts.iter().copied()).chain(std::iter::once(heights.len())).collect();
    bounds.windows(2).map(|w| heights[w[0]..w[1]].iter().sum()).collect()
}

/// One sheet in one language as a block of paragraphs.
fn sheet_block(doc: &Doc, kit: &Kit, sheet: &KitSheet, width: f64) -> Block {
    let s = 11.0;
    let texts = if sheet.language == "fr" { kit.fr.clone() } else { kit::texts(&sheet.language) };
    let l = sheet.language.as_str();
    let mut lines = vec![
        (doc.text(&sheet.tile, l, s * 0.9, false, width), GREY, s * 0.15),
        (doc.text(&sheet.title, l, s * 1.5, true, width), BLUE, s * 0.6),
        (doc.text(&texts.documents, l, s * 1.1, true, width), (0.0, 0.0, 0.0), s * 0.25),
    ];
    for d in &sheet.documents {
        lines.push((doc.text(&format!("•  {d}"), l, s, false, width), (0.0, 0.0, 0.0), s * 0.2));
    }
    lines.push((doc.text(&texts.steps, l, s * 1.1, true, width), (0.0, 0.0, 0.0), s * 0.25));
    if let Some(last) = lines.len().checked_sub(2).and_then(|i| lines.get_mut(i)) {
        last.2 += s * 0.5;
    }
    for (i, step) in sheet.steps.iter().enumerate() {
        lines.push((doc.text(&format!("{}.  {step}", i + 1), l, s, false, width), (0.0, 0.0, 0.0), s * 0.25));
    }
    Block { lines, icon: None, indent: 0.0, gap_after: s * 1.5 }
}

/// The booklet: a cover with the contents, then each sheet in French on a new page with its
/// translation after it (on the next page when it does not fit).
fn booklet(kit: &Kit, logo: Option<&Picture>) -> Result<Vec<u8>, DrawError> {
    let doc = Doc::new(kit::BOOKLET_PAPER)?;
    let m = 48.0;
    let w = doc.width - 2.0 * m;
    let mut page = 1;
    let folio = |doc: &Doc, page: u32| {
        let l = doc.text(&format!("{} — {}", kit.centre, page), "fr", 8.0, false, w);
        doc.show(&l, m, doc.height - m * 0.6, GREY);
    };
    // Cover.
    let mut y = m;
    if let Some(p) = logo {
        paint(&doc, p, m, y, 160.0, 90.0)?;
        y += 100.0;
    }
    let mut cover = vec![(doc.text(&kit.centre, "fr", 26.0, true, w), BLUE, 14.0)];
    cover.push((doc.text(&kit.fr.booklet_title, "fr", 30.0, true, w), (0.0, 0.0, 0.0), 4.0));
    if let (Some(o), Some(lang)) = (&kit.other, &kit.second) {
        cover.push((doc.text(&o.booklet_title, lang, 26.0, true, w), (0.0, 0.0, 0.0), 4.0));
    }
    cover.push((doc.text(&kit.fr.booklet_intro, "fr", 13.0, false, w), GREY, 2.0));
    if let (Some(o), Some(lang)) = (&kit.other, &kit.second) {
        cover.push((doc.text(&o.booklet_intro, lang, 12.0, false, w), GREY, 2.0));
    }
    for (l, color, gap) in &cover {
        doc.show(l, m, y, *color);
        y += height(l) + gap;
    }
    y += 16.0;
    for s in kit.sheets.iter().filter(|s| s.language == "fr") {
        let l = doc.text(&format!("•  {} ({})", s.title, s.tile), "fr", 11.0, false, w);
        if y + height(&l) > doc.height - m {
            folio(&doc, page);
            doc.next_page()?;
            page += 1;
            y = m;
        }
        doc.show(&l, m, y, (0.0, 0.0, 0.0));
        y += height(&l) + 4.0;
    }
    folio(&doc, page);
    // The sheets.
    let bottom = doc.height - m;
    for s in &kit.sheets {
        let b = sheet_block(&doc, kit, s, w);
        if s.language == "fr" || y + b.height() > bottom {
            doc.next_page()?;
            page += 1;
            folio(&doc, page);
            y = m;
        } else {
            doc.cr.set_source_rgb(GREY.0, GREY.1, GREY.2);
            doc.cr.set_line_width(0.5);
            doc.cr.move_to(m, y - 12.0);
            doc.cr.line_to(doc.width - m, y - 12.0);
            doc.cr.stroke()?;
        }
        b.draw(&doc, m, y)?;
        y += b.height() + 12.0;
    }
    doc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pictogram_the_catalogue_may_name_is_built_in() {
        for p in borne_core::catalogue::PICTOGRAMS {
            assert!(pictograms::PICTOGRAMS.iter().any(|(n, _)| n == p), "{p}");
        }
    }

    #[test]
    fn a_pictogram_renders_with_ink() {
        let p = pictogram("caf", 10.0).expect("the SVG loader renders the portal's pictogram");
        assert_eq!((p.width, p.height), (80.0, 80.0));
        let mut s = p.surface;
        let data = s.data().unwrap();
        // Laid on white: ink is any pixel that is not white.
        let inked = data
            .chunks(4)
            .filter(|px| u32::from_ne_bytes([px[0], px[1], px[2], px[3]]) & 0xff_ffff != 0xff_ffff)
            .count();
        assert!(inked > 200, "{inked} pixels with ink");
    }

    /// The shipped portal in French and Arabic.
    fn shipped_kit() -> Kit {
        use borne_core::catalogue::{parse_local, parse_national, Effective, PortalData};
        use std::path::Path;
        let text = borne_core::load::BUILTIN_SETTINGS.replace("offered = [\"fr\"]", "offered = [\"fr\", \"ar\"]");
        let settings = borne_core::config::parse_settings(Path::new("borne.toml"), &text).unwrap();
        let national = parse_national(Path::new("catalogue.toml"), borne_core::load::BUILTIN_CATALOGUE).unwrap();
        let local = parse_local(Path::new("local.toml"), "", &national).unwrap();
        let effective = Effective::build(&settings, &national, &local);
        let fr = PortalData::new(&settings, &effective);
        Kit::new(&fr, Some(&fr.clone().in_language("ar")))
    }

    #[test]
    fn the_poster_is_one_page_and_goes_on_when_the_tiles_do_not_fit_even_small() {
        let kit = shipped_kit();
        let one = render(&kit, Piece::Poster, None).unwrap();
        assert_eq!(borne_core::print::pdf_page_count(&one).unwrap(), 1);
        let mut crowded = kit.clone();
        for _ in 0..5 {
            crowded.themes.extend(kit.themes.iter().cloned());
        }
        assert!(crowded.tiles().count() > 150);
        let more = render(&crowded, Piece::Poster, None).unwrap();
        assert!(borne_core::print::pdf_page_count(&more).unwrap() >= 2, "the tiles go on, never cut");
        let flyer = render(&kit, Piece::Flyer, None).unwrap();
        assert_eq!(borne_core::print::pdf_page_count(&flyer).unwrap(), 1);
    }

    #[test]
    fn the_logo_is_on_the_poster() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(logo_in(dir.path()), None);
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200"><rect width="400" height="200" fill="#c0392b"/></svg>"##;
        std::fs::write(dir.path().join("logo.svg"), svg).unwrap();
        let logo = logo_in(dir.path()).expect("logo.svg found");
        let picture = load_logo(&logo).expect("the SVG logo is read");
        assert_eq!((picture.width, picture.height), (1200.0, 600.0));
        let widths = |pdf: &[u8]| -> Vec<i64> {
            let doc = lopdf::Document::load_mem(pdf).unwrap();
            doc.objects
                .values()
                .filter_map(|o| o.as_stream().ok())
                .filter(|s| s.dict.get(b"Subtype").and_then(|v| v.as_name()).is_ok_and(|n| n == b"Image"))
                .filter_map(|s| s.dict.get(b"Width").and_then(|w| w.as_i64()).ok())
                .collect()
        };
        let with = render(&shipped_kit(), Piece::Poster, Some(&logo)).unwrap();
        let without = render(&shipped_kit(), Piece::Poster, None).unwrap();
        assert!(widths(&with).contains(&1200), "the logo's image is in the PDF: {:?}", widths(&with));
        assert!(!widths(&without).contains(&1200));
        assert_eq!(borne_core::print::pdf_page_count(&with).unwrap(), 1);
    }

    #[test]
    fn pieces_are_named_for_the_admin_page() {
        for p in Piece::ALL {
            let name = match p {
                Piece::Poster => "poster",
                Piece::Flyer => "flyer",
                Piece::Booklet => "booklet",
            };
            assert_eq!(Piece::from_name(name), Some(p));
        }
        assert_eq!(Piece::from_name("other"), None);
    }
}
