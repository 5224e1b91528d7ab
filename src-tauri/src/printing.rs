//! Printing, the shell half: the content view (a page, or a PDF WebKit shows) becomes a PDF in the
//! session folder without any GTK dialog, then `lp` submits it to the configured CUPS queue with the
//! copies and pages the person chose in the toolbar's French dialog. `lpstat` tells whether the
//! printer can print; the session's jobs still queued are cancelled at its end.
//!
//! Decisions (quota, range, CUPS output) are `borne_core::print`'s, and so is running the CUPS
//! clients, each within a time limit (`borne_core::print::cups`), always off the GTK main thread.

use std::path::{Path, PathBuf};

use std::sync::Mutex;

use borne_core::print::cups::Clients;
use borne_core::print::{self, Pages, Refusal};
use tauri::{AppHandle, Manager};
use webkit2gtk::{PrintOperationExt, URIResponseExt, WebResourceExt, WebViewExt};

use crate::glue::CommandError;
use crate::state::{Kiosk, CONTENT};

/// What the dialog shows before the person chooses.
#[derive(Debug, serde::Serialize)]
pub struct Prepared {
    /// Pages of the document.
    pub pages: u32,
    /// Pages the session may still print.
    pub left: u32,
    /// Most copies.
    pub max_copies: u32,
    /// What the person sees at the top of the page, as a PNG `data:` URL (empty when unavailable).
    pub preview: String,
}

/// The file to print and its pages, counted by `borne_core::print` (a real parser walking the page
/// tree, never `/Count` alone). A PDF whose `/Count` lies is printed from a corrected copy in the
/// session's print folder, so CUPS prints exactly the pages charged. A document whose pages cannot be
/// counted is never printed: the cause goes to the log, the person reads « Ce document ne peut pas
/// être imprimé » (`print.error.unreadable`). A JPEG or PNG (a scan made for a site taking
/// pictures, a downloaded photo) goes to CUPS as it is, one page (`print::picture_page_count`).
pub fn printable(kiosk: &Kiosk, file: PathBuf) -> Result<(PathBuf, u32), Refusal> {
    if borne_core::documents::sniff_file(&file) == borne_core::documents::Kind::Image {
        let pages = print::picture_page_count(&file).map_err(|e| {
            tracing::warn!(cause = %e, "print refused: the picture cannot be read");
            Refusal::Unreadable
        })?;
        return Ok((file, pages));
    }
    let refuse = |e: print::PdfError| {
        tracing::warn!(cause = %e, "print refused: the document's pages cannot be counted");
        Refusal::Unreadable
    };
    let bytes = print::read_pdf_file(&file).map_err(refuse)?;
    let (pages, corrected) = print::pdf_with_true_counts(&bytes).map_err(refuse)?;
    let Some(corrected) = corrected else { return Ok((file, pages)) };
    let n = {
        let mut s = kiosk.session();
        s.printing.prepared += 1;
        s.printing.prepared
    };
    let dir = kiosk.dirs.prints();
    let out = dir.join(format!("corrected-{n}.pdf"));
    std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&out, corrected)).map_err(|e| {
        tracing::warn!(error = %e, "print refused: cannot write the corrected PDF");
        Refusal::Unreadable
    })?;
    tracing::info!(pages, "the PDF's page tree claims another page count: a corrected copy is printed");
    Ok((out, pages))
}

/// Keeps `file` as the document the dialog prints, and says what the dialog shows.
pub fn prepared(
    kiosk: &Kiosk,
    file: PathBuf,
    source: Option<PathBuf>,
    preview: String,
    quota: u32,
) -> Result<Prepared, CommandError> {
    let (file, pages) = printable(kiosk, file).map_err(|e| CommandError::new(e.code()))?;
    let mut s = kiosk.session();
    s.printing.document = Some((file, pages));
    s.printing.source = source;
    tracing::info!(pages, "document ready to print");
    Ok(Prepared { pages, left: s.printing.usage.left(quota), max_copies: print::MAX_COPIES, preview })
}

/// A small picture of what the content view shows (its visible part), for the dialog's preview.
pub fn preview(app: &AppHandle, done: impl FnOnce(String) + Send + 'static) {
    let Some(content) = app.get_webview(CONTENT) else { return done(String::new()) };
    let done = std::sync::Arc::new(Mutex::new(Some(done)));
    let d2 = done.clone();
    let res = content.with_webview(move |pv| {
        pv.inner().snapshot(
            webkit2gtk::SnapshotRegion::Visible,
            webkit2gtk::SnapshotOptions::NONE,
            None::<&gio::Cancellable>,
            move |surface| {
                let url =
                    surface.ok().and_then(|s| png_of(&s)).map(|png| print::png_data_url(&png)).unwrap_or_default();
                if let Some(f) = d2.lock().ok().and_then(|mut d| d.take()) {
                    f(url);
                }
            },
        );
    });
    if res.is_err() {
        if let Some(f) = done.lock().ok().and_then(|mut d| d.take()) {
            f(String::new());
        }
    }
}

/// The surface scaled to a preview's width, as PNG bytes.
fn png_of(surface: &gtk::cairo::Surface) -> Option<Vec<u8>> {
    let image = gtk::cairo::ImageSurface::try_from(surface.clone()).ok()?;
    let (w, h) = (image.width(), image.height());
    let pixbuf = gtk::gdk::pixbuf_get_from_surface(surface, 0, 0, w, h)?;
    let width = 480.min(w).max(1);
    let height = (i64::from(h) * i64::from(width) / i64::from(w.max(1))).max(1) as i32;
    let small = pixbuf.scale_simple(width, height, gtk::gdk_pixbuf::InterpType::Bilinear)?;
    small.save_to_bufferv("png", &[]).ok()
}

/// Makes the PDF of what a view shows (the content view: a page, or a PDF WebKit shows, as itself;
/// the toolbar: its help sheet, by its print style): the PDF itself when the view shows one, else the
/// page printed by WebKit to a file. Runs on the main thread; `done` gets the file or an error code.
pub fn make_pdf_of(app: &AppHandle, label: &str, done: impl FnOnce(Result<PathBuf, &'static str>) + Send + 'static) {
    let kiosk = app.state::<Kiosk>();
    let dir = kiosk.dirs.prints();
    let n = {
        let mut s = kiosk.session();
        s.printing.prepared += 1;
        s.printing.prepared
    };
    if std::fs::create_dir_all(&dir).is_err() {
        return done(Err("internal"));
    }
    let file = dir.join(format!("document-{n}.pdf"));
    let Some(content) = app.get_webview(label) else { return done(Err("internal")) };
    let done = std::sync::Arc::new(Mutex::new(Some(done)));
    let d2 = done.clone();
    let res = content.with_webview(move |pv| {
        let wv = pv.inner();
        let finish = move |r: Result<PathBuf, &'static str>| {
            if let Some(f) = d2.lock().ok().and_then(|mut d| d.take()) {
                f(r);
            }
        };
        let resource = wv.main_resource();
        let is_pdf = resource
            .as_ref()
            .and_then(|r| r.response())
            .and_then(|r| r.mime_type())
            .is_some_and(|m| m.as_str() == "application/pdf");
        if let (true, Some(r)) = (is_pdf, resource) {
            r.data(None::<&gio::Cancellable>, move |bytes| match bytes {
                Ok(b) if std::fs::write(&file, &b).is_ok() => finish(Ok(file)),
                _ => finish(Err("internal")),
            });
            return;
        }
        print_view_to_file(&wv, file, finish);
    });
    if res.is_err() {
        if let Some(f) = done.lock().ok().and_then(|mut d| d.take()) {
            f(Err("internal"));
        }
    }
}

/// WebKit prints the view to a PDF file, without a dialog (GTK's print-to-file path).
fn print_view_to_file(
    wv: &webkit2gtk::WebView,
    file: PathBuf,
    finish: impl FnOnce(Result<PathBuf, &'static str>) + 'static,
) {
    let op = webkit2gtk::PrintOperation::new(wv);
    let settings = gtk::PrintSettings::new();
    // GTK's print-to-file printer, named in the session's language (WebKit looks it up by name).
    settings.set_printer(&glib::dgettext(Some("gtk30"), "Print to File"));
    let uri = glib::filename_to_uri(&file, None).map(|u| u.to_string()).unwrap_or_default();
    settings.set(gtk::PRINT_SETTINGS_OUTPUT_URI, Some(&uri));
    settings.set(gtk::PRINT_SETTINGS_OUTPUT_FILE_FORMAT, Some("pdf"));
    op.set_print_settings(&settings);
    let finish = std::rc::Rc::new(std::cell::RefCell::new(Some(finish)));
    let f2 = finish.clone();
    op.connect_failed(move |_, err| {
        tracing::warn!(error = %err, "printing the page to a file failed");
        if let Some(f) = f2.borrow_mut().take() {
            f(Err("internal"));
        }
    });
    op.connect_finished(move |_| {
        if let Some(f) = finish.borrow_mut().take() {
            if file.exists() {
                f(Ok(file.clone()));
            } else {
                f(Err("internal"));
            }
        }
    });
    op.print();
}

/// Submits `file` as planned; returns the job id (`lpstat` and `lp`, each within its limit).
pub fn submit(printer: &str, file: &Path, plan: &print::Plan) -> Result<String, Refusal> {
    Clients::default().submit(printer, file, plan)
}

/// Watches a submitted job for a few seconds: a queue that stops under it (backend failure, no
/// paper) is a failure the person must hear about.
pub fn watch_job(printer: &str) -> Result<(), Refusal> {
    Clients::default().watch_job(printer)
}

/// Cancels the jobs of a person who left, those still queued: the next person never gets them.
/// In the background: CUPS may be slow to answer, and the next person must not wait for it.
pub fn cancel_jobs(app: &AppHandle, jobs: Vec<String>) {
    if jobs.is_empty() {
        return;
    }
    let kiosk = app.state::<Kiosk>();
    // Read even behind a poisoned lock: without the printer's name the jobs would stay queued.
    let printer =
        kiosk.loaded.read().unwrap_or_else(std::sync::PoisonError::into_inner).settings.printing.printer.clone();
    std::thread::spawn(move || {
        let cups = Clients::default();
        // Only jobs still in the queue: `cancel` on a finished job is an error, not a problem.
        let queued = printer.map(|p| cups.queued_jobs(&p)).unwrap_or_default();
        let mine: Vec<String> = jobs.into_iter().filter(|j| queued.contains(j)).collect();
        if mine.is_empty() {
            return;
        }
        let n = mine.len();
        match cups.cancel(&mine) {
            Ok(()) => tracing::info!(jobs = n, "queued print jobs of a person who left cancelled"),
            Err(e) => tracing::warn!(jobs = n, error = %e, "cancelling the print jobs of a person who left failed"),
        }
    });
}

/// A reservation of pages in one person's session.
#[derive(Debug)]
pub struct Reserved {
    /// The CUPS queue.
    pub printer: String,
    /// The file to print.
    pub file: PathBuf,
    /// What is printed and charged.
    pub plan: print::Plan,
    /// Whose session it was charged to (`borne_core::person::Session::number`).
    pub session: u64,
    /// The session document it prints, when it came from « Mes documents ».
    pub source: Option<PathBuf>,
}

/// The borne's printer (`None`: the system's default) and the pages a session may print, as the
/// settings in force say; `None` when the settings cannot be read.
pub fn printer_and_quota(kiosk: &Kiosk) -> Option<(Option<String>, u32)> {
    kiosk.loaded.read().ok().map(|l| (l.settings.printing.printer.clone(), l.settings.printing.page_quota))
}

/// The request the dialog sends, checked against the prepared document and the quota, and its pages
/// reserved, under one lock: two submits racing for the last pages cannot both pass. The caller gives
/// the reservation back (`give_back`) when the job never reaches CUPS.
pub fn checked_plan(kiosk: &Kiosk, copies: u32, pages: Pages) -> Result<Reserved, Refusal> {
    let (printer, quota) = printer_and_quota(kiosk).ok_or(Refusal::Failed)?;
    let printer = printer.ok_or(Refusal::NoPrinter)?;
    let mut s = kiosk.session();
    let (file, doc_pages) = s.printing.document.clone().ok_or(Refusal::Empty)?;
    let plan = s.printing.usage.reserve(copies, pages, doc_pages, quota)?;
    Ok(Reserved { printer, file, plan, session: s.number(), source: s.printing.source.clone() })
}

/// Gives back the pages reserved by `checked_plan` for a job `lp` did not take (to that person only:
/// if they left meanwhile, the next person's count is not touched).
pub fn give_back(kiosk: &Kiosk, r: &Reserved) {
    let mut s = kiosk.session();
    if s.number() == r.session {
        s.printing.usage.give_back(&r.plan);
    }
}

/// Lists a job CUPS took in the session it was charged to. If that person left while `lp` ran (their
/// session's end could not cancel it yet), the job is cancelled now: nobody else's session gets it.
pub fn job_taken(app: &AppHandle, r: &Reserved, job: String) {
    let kiosk = app.state::<Kiosk>();
    let late = {
        let mut s = kiosk.session();
        if s.number() == r.session {
            s.printing.jobs.push(job);
            if let Some(src) = &r.source {
                s.printing.printed.push(src.clone());
            }
            None
        } else {
            Some(job)
        }
    };
    if let Some(job) = late {
        tracing::info!("a print job of a person who left reached CUPS after their session's end; cancelling it");
        cancel_jobs(app, vec![job]);
    }
}

/// The session's printable documents not sent to the printer yet, with their pages, oldest first:
/// PDFs (pages counted by the parser) and JPEG or PNG pictures (one page each: a scan made for a site
/// taking pictures, a downloaded photo). Slow: reads the folder and each document; off the GTK thread.
pub fn unprinted(kiosk: &Kiosk) -> Vec<(PathBuf, u32)> {
    use borne_core::documents::Kind;
    let printed = kiosk.session().printing.printed.clone();
    borne_core::documents::scan_session(&kiosk.dirs)
        .into_iter()
        .map(|f| f.path().to_path_buf())
        .filter(|p| !printed.contains(p))
        .filter_map(|p| {
            let pages = match borne_core::documents::sniff_file(&p) {
                Kind::Pdf => {
                    let bytes = print::read_pdf_file(&p).ok()?;
                    print::pdf_with_true_counts(&bytes).ok()?.0
                }
                Kind::Image => print::picture_page_count(&p).ok()?,
                Kind::Other => return None,
            };
            Some((p, pages))
        })
        .collect()
}

/// How long « Imprimer mes documents avant de partir » waits for the sheets before the person is
/// told the printer does not answer (the jobs are cancelled with the session if still queued).
pub const END_PRINT_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Prints every document of `docs` once, charged to the session (all of them within its quota, or
/// none), then waits until CUPS has printed them. The pages printed.
pub fn print_all_then_wait(app: &AppHandle, docs: Vec<(PathBuf, u32)>) -> Result<u32, Refusal> {
    let kiosk = app.state::<Kiosk>();
    let quota = kiosk.loaded.read().map(|l| l.settings.printing.page_quota).map_err(|_| Refusal::Failed)?;
    let total: u32 = docs.iter().map(|(_, n)| n).sum();
    let left = kiosk.session().printing.usage.left(quota);
    if total > left {
        return Err(Refusal::Quota { left });
    }
    let mut jobs = Vec::new();
    let mut printer = String::new();
    let mut printed = 0;
    for (source, _) in docs {
        let (file, pages) = printable(&kiosk, source.clone())?;
        {
            let mut s = kiosk.session();
            s.printing.document = Some((file, pages));
            s.printing.source = Some(source);
        }
        let r = checked_plan(&kiosk, 1, Pages::All)?;
        let job = submit(&r.printer, &r.file, &r.plan).inspect_err(|_| give_back(&kiosk, &r))?;
        job_taken(app, &r, job.clone());
        kiosk.stats.record(borne_core::stats::Event::PagesPrinted(r.plan.pages()));
        printed += r.plan.pages();
        printer = r.printer;
        jobs.push(job);
    }
    // The person waits by the printer: done when none of these jobs is queued any more.
    let cups = Clients::default();
    let until = std::time::Instant::now() + END_PRINT_WAIT;
    loop {
        if let borne_core::print::PrinterState::NotReady(why) = cups.printer_state(&printer) {
            return Err(Refusal::Printer(why));
        }
        let queued = cups.queued_jobs(&printer);
        if !jobs.iter().any(|j| queued.contains(j)) {
            tracing::info!(documents = jobs.len(), pages = printed, "documents printed before leaving");
            return Ok(printed);
        }
        if std::time::Instant::now() >= until {
            tracing::warn!(jobs = jobs.len(), "the documents printed before leaving are still queued after the wait");
            return Err(Refusal::Printer("still queued".into()));
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
