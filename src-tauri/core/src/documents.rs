//! A person's documents: the files of the session folder (downloads, PDFs a site showed inline) and,
//! for a site's file chooser only, the files of the USB sticks plugged in. Pages never see a path:
//! each file gets a short opaque id, valid for the session, that only this index turns back into a
//! path, after checking the file still lies under a folder the person may use.
//!
//! The shell (`src-tauri/src/documents.rs`) serves the files to the content view under
//! [`SCHEME`], lists them in the toolbar's « Mes documents » panel and gives one to a site's file
//! chooser; this module decides what is listed, what each file is, and its name as shown.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::session::SessionDirs;

/// The URI scheme under which the content view shows a session document: `borne-doc://localhost/<id>`.
pub const SCHEME: &str = "borne-doc";

/// Most files listed from the USB sticks (a stick full of photos must not freeze the dialog).
pub const MAX_STICK_FILES: usize = 300;
/// How deep folders of a stick are walked.
pub const STICK_DEPTH: u32 = 3;
/// Longest name shown, in characters.
const MAX_NAME_CHARS: usize = 80;

/// What a file is, by its first bytes (never by its name alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A PDF: shown in the viewer, printable.
    Pdf,
    /// A PNG or JPEG picture: shown; not printable from the panel, offered with the PDFs at the
    /// session's end (« Imprimer mes documents avant de partir »).
    Image,
    /// Anything else: listed (a site may want it uploaded), never opened by the kiosk.
    Other,
}

impl Kind {
    /// The MIME type the viewer serves, for kinds the kiosk shows.
    pub fn mime(self, bytes: &[u8]) -> Option<&'static str> {
        match (self, bytes) {
            (Kind::Pdf, _) => Some("application/pdf"),
            (Kind::Image, [0x89, b'P', b'N', b'G', ..]) => Some("image/png"),
            (Kind::Image, _) => Some("image/jpeg"),
            (Kind::Other, _) => None,
        }
    }
}

/// The kind of a file from its first bytes.
pub fn sniff(head: &[u8]) -> Kind {
    // A PDF may carry a few bytes of junk before its header (the format allows 1024).
    let window = &head[..head.len().min(1024)];
    if window.windows(5).any(|w| w == b"%PDF-") {
        Kind::Pdf
    } else if head.starts_with(&[0x89, b'P', b'N', b'G']) || head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Kind::Image
    } else {
        Kind::Other
    }
}

/// The kind of the file at `path` (its first KiB).
pub fn sniff_file(path: &Path) -> Kind {
    let mut head = Vec::with_capacity(1024);
    match std::fs::File::open(path).and_then(|f| f.take(1024).read_to_end(&mut head)) {
        Ok(_) => sniff(&head),
        Err(_) => Kind::Other,
    }
}

/// Where a listed file is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Place {
    /// The session folder (downloads of this session).
    Session,
    /// A USB stick: its folder name (label) and the folders inside it, shown to help find a scan.
    Usb {
        /// The stick's name (its mount folder's name).
        label: String,
        /// Folders between the stick's root and the file, `/`-separated, possibly empty.
        folder: String,
    },
}

/// A file as a page sees it: no path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    /// Opaque id, valid for this session.
    pub id: String,
    /// The name shown (sanitised).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// What the file is.
    pub kind: Kind,
    /// Where it is.
    pub place: Place,
}

/// The name a person sees for a file name: no control or bidirectional-override characters (a name
/// like `fac\u{202E}fdp.exe` must not pass for a PDF), no leading dots, at most 80 characters.
pub fn display_name(file_name: &str) -> String {
    let cleaned: String = file_name
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .trim()
        .to_owned();
    let name = if cleaned.is_empty() { "document".to_owned() } else { cleaned };
    if name.chars().count() <= MAX_NAME_CHARS {
        return name;
    }
    // Keep the extension: "très long nom….pdf".
    let ext = Path::new(&name).extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
    let keep = MAX_NAME_CHARS.saturating_sub(ext.chars().count() + 2);
    let head: String = name.chars().take(keep).collect();
    if ext.is_empty() {
        format!("{head}…")
    } else {
        format!("{head}….{ext}")
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}')
}

/// The file name to keep for a PDF a site showed inline at `url_path`: its last segment, decoded,
/// with `.pdf` added when missing (`/attestation` → `attestation.pdf`).
pub fn inline_file_name(url_path: &str) -> String {
    let last = url_path.rsplit('/').next().unwrap_or("");
    let decoded = percent_decode(last);
    let base = display_name(&decoded).replace(['/', '\\'], "_");
    let base = if decoded.trim().is_empty() { "document".to_owned() } else { base };
    if base.to_ascii_lowercase().ends_with(".pdf") {
        base
    } else {
        format!("{base}.pdf")
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Keeps a PDF a site showed inline in the session folder, unless the same bytes are there already
/// (a reload, or the same document downloaded). Returns the file when one was written.
pub fn keep_inline(dirs: &SessionDirs, url_path: &str, bytes: &[u8]) -> std::io::Result<Option<PathBuf>> {
    if sniff(bytes) != Kind::Pdf {
        return Ok(None);
    }
    for file in regular_files(&dirs.downloads()) {
        let same_size = std::fs::metadata(&file).is_ok_and(|m| m.len() == bytes.len() as u64);
        if same_size && std::fs::read(&file).is_ok_and(|b| b == bytes) {
            return Ok(None);
        }
    }
    std::fs::create_dir_all(dirs.downloads())?;
    let dest = dirs.download_destination(&inline_file_name(url_path));
    crate::fsutil::write_atomic(&dest, bytes)?;
    Ok(Some(dest))
}

/// Regular files directly in `dir` (no symbolic links, no hidden files), by name.
fn regular_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// Files of a stick, up to [`STICK_DEPTH`] folders deep: no hidden files or folders, no symbolic
/// links (a link on a stick could point anywhere on the disk), at most `limit`.
fn stick_files(dir: &Path, depth: u32, limit: usize, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if out.len() >= limit {
            return;
        }
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let Ok(t) = e.file_type() else { continue };
        if t.is_file() {
            out.push(e.path());
        } else if t.is_dir() && depth > 0 {
            stick_files(&e.path(), depth - 1, limit, out);
        }
    }
}

/// The session's ids: each file listed gets one, kept while the file exists; ids are random, so a
/// page cannot guess another's. Reset at each session end.
#[derive(Debug, Default)]
pub struct Index {
    by_id: HashMap<String, PathBuf>,
    by_path: HashMap<PathBuf, String>,
}

impl Index {
    /// No id given yet.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Forgets every id (session end).
    pub fn clear(&mut self) {
        self.by_id.clear();
        self.by_path.clear();
    }

    fn id_for(&mut self, path: &Path) -> String {
        if let Some(id) = self.by_path.get(path) {
            return id.clone();
        }
        let id = loop {
            let candidate = random_id();
            if !self.by_id.contains_key(&candidate) {
                break candidate;
            }
        };
        self.by_id.insert(id.clone(), path.to_path_buf());
        self.by_path.insert(path.to_path_buf(), id.clone());
        id
    }

    /// The session folder's files, oldest first.
    pub fn session(&mut self, dirs: &SessionDirs) -> Vec<Listed> {
        self.list(scan_session(dirs))
    }

    /// What a site's file chooser may offer: the session's files, then those of the sticks.
    pub fn for_upload(&mut self, dirs: &SessionDirs, sticks: &[PathBuf]) -> Vec<Listed> {
        self.list(scan_upload(dirs, sticks))
    }

    /// Files found by [`scan_session`] or [`scan_upload`] as the pages see them, each with its id
    /// (no file is read here: the index's lock is never held while a slow stick answers).
    pub fn list(&mut self, found: Vec<Found>) -> Vec<Listed> {
        found
            .into_iter()
            .map(|f| {
                let name =
                    display_name(&f.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
                Listed { id: self.id_for(&f.path), name, size: f.size, kind: f.kind, place: f.place }
            })
            .collect()
    }

    /// The id of a session file (a download that just finished), listing it if new.
    pub fn id_of_session_file(&mut self, dirs: &SessionDirs, path: &Path) -> Option<String> {
        self.session(dirs).into_iter().find(|l| self.by_id.get(&l.id).is_some_and(|p| p == path)).map(|l| l.id)
    }

    /// The file behind `id`, if it is still a regular file in the session folder, or (with
    /// `sticks`) on a stick plugged in now. Anything else (an id from an earlier session, a file
    /// replaced by a link, a stick pulled out) is refused.
    pub fn resolve(&self, id: &str, dirs: &SessionDirs, sticks: &[PathBuf]) -> Option<PathBuf> {
        self.path_of(id).filter(|p| still_usable(p, dirs, sticks))
    }

    /// The file behind `id`, unchecked: check it with [`still_usable`] (outside the index's lock).
    pub fn path_of(&self, id: &str) -> Option<PathBuf> {
        self.by_id.get(id).cloned()
    }
}

/// Whether `path` is still a regular file in the session folder or (with `sticks`) on a stick
/// plugged in now. Anything else (a file replaced by a link, a stick pulled out) is refused.
pub fn still_usable(path: &Path, dirs: &SessionDirs, sticks: &[PathBuf]) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return false };
    if !meta.file_type().is_file() {
        return false;
    }
    let Ok(real) = path.canonicalize() else { return false };
    let mut roots = vec![dirs.downloads()];
    roots.extend(sticks.iter().cloned());
    roots.iter().filter_map(|r| r.canonicalize().ok()).any(|r| real.starts_with(&r) && real != r)
}

/// A file found for a list, with what was read of it: reading happens here, outside any lock.
#[derive(Debug, Clone)]
pub struct Found {
    path: PathBuf,
    place: Place,
    size: u64,
    kind: Kind,
}

impl Found {
    /// The file (for the shell's own use; never sent to a page).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(path: PathBuf, place: Place) -> Found {
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let kind = sniff_file(&path);
        Found { path, place, size, kind }
    }
}

/// The session folder's files, oldest first, read (size and kind).
pub fn scan_session(dirs: &SessionDirs) -> Vec<Found> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = regular_files(&dirs.downloads())
        .into_iter()
        .map(|p| (std::fs::metadata(&p).and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), p))
        .collect();
    files.sort();
    files.into_iter().map(|(_, p)| Found::read(p, Place::Session)).collect()
}

/// What a site's file chooser may offer, read: the session's files, then those of the sticks
/// (which may be slow: the shell runs this off the UI thread, within a time limit).
pub fn scan_upload(dirs: &SessionDirs, sticks: &[PathBuf]) -> Vec<Found> {
    let mut out = scan_session(dirs);
    for stick in sticks {
        let mut files = Vec::new();
        stick_files(stick, STICK_DEPTH, MAX_STICK_FILES, &mut files);
        let label = display_name(&stick.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        for f in files {
            let folder = f
                .parent()
                .and_then(|p| p.strip_prefix(stick).ok())
                .map(|p| p.components().map(|c| display_name(&c.as_os_str().to_string_lossy())).collect::<Vec<_>>())
                .map(|v| v.join("/"))
                .unwrap_or_default();
            out.push(Found::read(f, Place::Usb { label: label.clone(), folder }));
        }
    }
    out
}

/// 128 random bits as 32 hex digits (the kernel's generator; the time and a counter when it cannot
/// be read, which only makes ids guessable, never shared).
fn random_id() -> String {
    let mut buf = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf));
    if read.is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        buf = (t ^ u128::from(N.fetch_add(1, Ordering::Relaxed)) << 64).to_le_bytes();
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdf() -> Vec<u8> {
        b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec()
    }

    fn dirs() -> (tempfile::TempDir, SessionDirs) {
        let d = tempfile::tempdir().unwrap();
        let s = SessionDirs::new(d.path());
        s.wipe_at_start().unwrap();
        (d, s)
    }

    #[test]
    fn kinds_come_from_bytes_not_names() {
        assert_eq!(sniff(&pdf()), Kind::Pdf);
        assert_eq!(sniff(b"\xEF\xBB\xBF%PDF-1.7"), Kind::Pdf);
        assert_eq!(sniff(&[0x89, b'P', b'N', b'G', 0, 0]), Kind::Image);
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Kind::Image);
        assert_eq!(sniff(b"<html>%PDF- later</html>"), Kind::Pdf, "a header within the first KiB counts");
        assert_eq!(sniff(b"MZ\x90\x00"), Kind::Other);
        assert_eq!(sniff(b""), Kind::Other);
        assert_eq!(Kind::Image.mime(&[0x89, b'P', b'N', b'G']), Some("image/png"));
        assert_eq!(Kind::Other.mime(b"x"), None);
    }

    #[test]
    fn names_shown_are_clean() {
        assert_eq!(display_name("attestation.pdf"), "attestation.pdf");
        assert_eq!(display_name("fac\u{202E}fdp.exe"), "facfdp.exe");
        assert_eq!(display_name("a\u{0}b\nc.pdf"), "abc.pdf");
        assert_eq!(display_name(".bashrc"), "bashrc");
        assert_eq!(display_name("  "), "document");
        let long = format!("{}.pdf", "é".repeat(200));
        let shown = display_name(&long);
        assert_eq!(shown.chars().count(), 80);
        assert!(shown.ends_with("….pdf"), "{shown}");
    }

    #[test]
    fn inline_names_get_a_pdf_extension() {
        assert_eq!(inline_file_name("/docs/attestation"), "attestation.pdf");
        assert_eq!(inline_file_name("/docs/Relev%C3%A9%20CAF.pdf"), "Relevé CAF.pdf");
        assert_eq!(inline_file_name("/"), "document.pdf");
        assert_eq!(inline_file_name("/x/%2E%2E%2Fetc%2Fpasswd"), "_etc_passwd.pdf");
        assert_eq!(inline_file_name("/bad%zz"), "bad%zz.pdf");
        assert_eq!(inline_file_name("/end%"), "end%.pdf");
    }

    #[test]
    fn inline_pdfs_are_kept_once() {
        let (_d, s) = dirs();
        let first = keep_inline(&s, "/docs/releve", &pdf()).unwrap();
        assert!(first.is_some());
        assert_eq!(keep_inline(&s, "/docs/releve", &pdf()).unwrap(), None, "a reload keeps no second copy");
        assert_eq!(keep_inline(&s, "/page.html", b"<html>").unwrap(), None, "not a PDF");
        let mut other = pdf();
        other.extend_from_slice(b"% another\n");
        let second = keep_inline(&s, "/docs/releve", &other).unwrap().unwrap();
        assert_eq!(second.file_name().unwrap(), "2-releve.pdf");
    }

    #[test]
    fn session_listing_has_ids_not_paths() {
        let (_d, s) = dirs();
        std::fs::write(s.downloads().join("attestation.pdf"), pdf()).unwrap();
        std::fs::write(s.downloads().join(".hidden"), "x").unwrap();
        std::fs::create_dir(s.downloads().join("sub")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", s.downloads().join("passwd")).unwrap();
        let mut idx = Index::default();
        let list = idx.session(&s);
        assert_eq!(list.len(), 1, "{list:?}");
        let doc = &list[0];
        assert_eq!((doc.name.as_str(), doc.kind, &doc.place), ("attestation.pdf", Kind::Pdf, &Place::Session));
        assert_eq!(doc.id.len(), 32);
        let json = serde_json::to_string(&list).unwrap();
        assert!(!json.contains(&s.root().display().to_string()), "no path reaches a page: {json}");
        assert_eq!(idx.session(&s)[0].id, doc.id, "ids are stable within the session");
        assert_eq!(idx.resolve(&doc.id, &s, &[]), Some(s.downloads().join("attestation.pdf")));
        assert_eq!(idx.id_of_session_file(&s, &s.downloads().join("attestation.pdf")), Some(doc.id.clone()));
        assert_eq!(idx.resolve("0123", &s, &[]), None);
        idx.clear();
        assert_eq!(idx.resolve(&doc.id, &s, &[]), None, "ids die with the session");
    }

    #[test]
    fn a_file_replaced_by_a_link_is_refused() {
        let (_d, s) = dirs();
        let f = s.downloads().join("a.pdf");
        std::fs::write(&f, pdf()).unwrap();
        let mut idx = Index::default();
        let id = idx.session(&s)[0].id.clone();
        std::fs::remove_file(&f).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", &f).unwrap();
        assert_eq!(idx.resolve(&id, &s, &[]), None);
    }

    #[test]
    fn uploads_see_the_session_and_the_sticks_only() {
        let (_d, s) = dirs();
        std::fs::write(s.downloads().join("attestation.pdf"), pdf()).unwrap();
        let usb = tempfile::tempdir().unwrap();
        let stick = usb.path().join("CLE_ALICE");
        std::fs::create_dir_all(stick.join("Scans/2026")).unwrap();
        std::fs::create_dir_all(stick.join(".Trash-1000")).unwrap();
        std::fs::create_dir_all(stick.join("a/b/c/d")).unwrap();
        std::fs::write(stick.join("Scans/2026/piece-identite.jpg"), [0xFF, 0xD8, 0xFF, 0xE0]).unwrap();
        std::fs::write(stick.join(".Trash-1000/old.pdf"), pdf()).unwrap();
        std::fs::write(stick.join("a/b/c/d/too-deep.pdf"), pdf()).unwrap();
        std::fs::write(stick.join("a/b/c/deep-enough.pdf"), pdf()).unwrap();
        std::os::unix::fs::symlink("/etc", stick.join("etc")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", stick.join("passwd")).unwrap();
        let mut idx = Index::default();
        let list = idx.for_upload(&s, std::slice::from_ref(&stick));
        let names: Vec<_> = list.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["attestation.pdf", "piece-identite.jpg", "deep-enough.pdf"]);
        let scan = &list[1];
        assert_eq!(scan.place, Place::Usb { label: "CLE_ALICE".into(), folder: "Scans/2026".into() });
        assert_eq!(scan.kind, Kind::Image);
        assert!(idx.resolve(&scan.id, &s, std::slice::from_ref(&stick)).is_some());
        assert_eq!(idx.resolve(&scan.id, &s, &[]), None, "a stick pulled out: its files are gone");
        // Only the session's ids resolve against the session alone.
        assert!(idx.resolve(&list[0].id, &s, &[]).is_some());
    }

    #[test]
    fn the_stick_listing_is_bounded() {
        let (_d, s) = dirs();
        let usb = tempfile::tempdir().unwrap();
        for i in 0..(MAX_STICK_FILES + 20) {
            std::fs::write(usb.path().join(format!("photo-{i:04}.jpg")), [0xFF, 0xD8, 0xFF]).unwrap();
        }
        let list = Index::default().for_upload(&s, &[usb.path().to_path_buf()]);
        assert_eq!(list.len(), MAX_STICK_FILES);
    }
}
