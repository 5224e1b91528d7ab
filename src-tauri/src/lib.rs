//! The borne's kiosk shell: thin Tauri v2 / WebKitGTK glue around `borne-core`.
//!
//! One undecorated window holds two webviews: `content` (the portal, then the institutions' sites,
//! every load decided by the core policy) and `toolbar` (a local page above it that no remote page can
//! reach). Decisions live in `borne-core`; this crate wires them to the hooks of Tauri and WebKitGTK:
//! - [`navigation`]: navigation, new-window and download hooks, and the WebKit content filter;
//! - [`session`]: forgetting a person (a new content view and network process, clipboard, downloads);
//! - [`auth`]: the kiosk's own dialog when a site asks for a user name and password;
//! - [`input`]: swallowed keys and mouse buttons, idle detection;
//! - [`printing`]: the page or PDF to a file, then to CUPS; [`network`]: error pages, offline state;
//! - [`speech`]: « Écouter », the offline voice (espeak-ng), one utterance at a time;
//! - [`documents`]: the session's files in the viewer and « Mes documents », a site's file chooser;
//! - [`commands`]: what the local pages may ask of the shell; [`watchdog`]: systemd's watchdog;
//! - [`catalogue_channel`]: the federation's signed catalogue, put in force between two people;
//! - [`audit`]: `borne --audit-catalogue OUT`, the catalogue watch (a GTK window, not the kiosk);
//! - [`system_update`]: the restart into a new system version that waits, at night, nobody there.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod catalogue_channel;
pub mod commands;
pub mod content_filter;
pub mod documents;
pub mod frames;
pub mod input;
pub mod navigation;
pub mod network;
pub mod printing;
pub mod session;
pub mod speech;
pub mod system_update;
pub mod watchdog;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use borne_core::load::{self, Loaded, Paths};
use borne_core::session::{IdleClock, SessionDirs};
use clap::Parser;
use tauri::{LogicalPosition, LogicalSize, Manager};

/// Height of the toolbar, in logical pixels.
pub const TOOLBAR_HEIGHT: f64 = 76.0;
/// Label of the content webview (the one WebDriver drives in end-to-end tests).
pub const CONTENT: &str = "content";
/// Label of the toolbar webview.
pub const TOOLBAR: &str = "toolbar";

/// Command line of the kiosk.
#[derive(Parser, Debug, Clone)]
#[command(name = "borne", version, about = "Borne « Le numérique à mon service » (kiosque)")]
pub struct Args {
    /// A normal window instead of the full-screen kiosk (development).
    #[arg(long)]
    pub windowed: bool,
    /// Configuration directory (borne.toml, catalogue.toml). Default: /etc/borne, else ./config.
    #[arg(long, value_name = "DIR")]
    pub config: Option<PathBuf>,
    /// State directory (local.toml, statistics, session folder). Default: $XDG_STATE_HOME/borne.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Catalogue watch instead of the kiosk: open each tile's entry page with nothing blocked and
    /// write a French report and its history into the folder OUT, then exit.
    #[arg(long, value_name = "OUT")]
    pub audit_catalogue: Option<PathBuf>,
}

/// Everything the shell shares between hooks and commands.
pub struct Kiosk {
    /// Where things are.
    pub paths: Paths,
    /// The session folders.
    pub dirs: SessionDirs,
    /// Configuration in force (shared with the network gate's threads).
    pub loaded: Arc<RwLock<Loaded>>,
    /// The network gate every WebKit request goes through.
    pub proxy: borne_core::proxy::Proxy,
    /// The idle clock.
    pub idle: Mutex<IdleClock>,
    /// Kiosk (full screen, closed) or development window.
    pub kiosk_mode: bool,
    /// Set when the kiosk itself quits (admin path or signal): closing is then allowed.
    pub quitting: AtomicBool,
    /// The content filter is installed: remote navigations may be allowed.
    pub filter_ready: AtomicBool,
    /// The shell's passes for its own pages in the content view: one per request, for one URL.
    /// Remote pages can never open internal pages themselves.
    pub internal_gate: Mutex<borne_core::session::InternalGate>,
    /// Anonymous usage counts (fire-and-forget; a disabled recorder when statistics are off).
    pub stats: borne_core::stats::recorder::Recorder,
    /// Wakes the background push (a session ended).
    pub push_wake: Mutex<std::sync::mpsc::Sender<()>>,
    /// A remote page was shown since the last wipe (the admin corner opens only when false).
    pub dirty: AtomicBool,
    /// The référent's session.
    pub admin: Mutex<admin::AdminSession>,
    /// The last log lines, for the maintenance screen.
    pub log_tail: borne_core::admin::machine::LogTail,
    /// The language the person chose (French again at each session end).
    pub language: Mutex<String>,
    /// The session's printing: pages used, CUPS jobs, the document being printed.
    pub print: printing::PrintState,
    /// Text size and contrast the person chose (back to normal at each session end).
    pub display: Mutex<commands::Display>,
    /// Opaque ids of the session's documents (and of the sticks' files offered to a file chooser).
    pub documents: Mutex<borne_core::documents::Index>,
    /// « Écouter »: the voice's thread and the session's volume (stopped and reset at each session end).
    pub speech: speech::Speech,
}

impl Kiosk {
    /// The policy's decision for a navigation, under the configuration in force (blocked if the
    /// configuration lock is poisoned).
    pub fn decide_navigation(&self, url: &tauri::Url) -> borne_core::policy::Decision {
        use borne_core::policy::{BlockReason, Decision, LoadKind};
        match self.loaded.read() {
            Ok(l) => l.effective.policy.decide(url, LoadKind::Navigation),
            Err(_) => Decision::Block { reason: BlockReason::Malformed, host: None },
        }
    }

    /// Opens the internal-page gate for the shell's navigation to `url`.
    pub fn open_internal_gate(&self, url: &tauri::Url) {
        self.internal_gate.lock().unwrap_or_else(std::sync::PoisonError::into_inner).open(url, Instant::now());
    }

    /// Uses the pass for `url`: true when the shell asked for this very address a moment ago.
    pub fn take_internal_gate(&self, url: &tauri::Url) -> bool {
        self.internal_gate.lock().is_ok_and(|mut g| g.take(url, Instant::now()))
    }

    /// Any input from the person (or the référent).
    pub fn touch(&self) -> Option<borne_core::session::IdleEvent> {
        admin::touch(self);
        self.idle.lock().map(|mut c| c.input(Instant::now())).unwrap_or(None)
    }
}

/// Starts the kiosk; returns when it quits.
pub fn run() {
    let args = Args::parse();
    // Measured (tests/bench): without accelerated compositing the kiosk uses about 50 MiB less and
    // paints the portal sooner on this kind of PC; an explicit setting in the environment wins.
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    // Logs go to stderr (the journal in the image) and their last lines to memory for the référent's
    // maintenance screen (no colours there).
    let log_tail = borne_core::admin::machine::LogTail::default();
    {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let tail = log_tail.clone();
        tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::try_from_env("BORNE_LOG").unwrap_or_else(|_| "info".into()))
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .with(
                tracing_subscriber::fmt::layer().with_ansi(false).with_target(false).with_writer(move || tail.clone()),
            )
            .init();
    }
    let paths = Paths {
        config_dir: args.config.clone().unwrap_or_else(Paths::default_config_dir),
        state_dir: args.state.clone().unwrap_or_else(Paths::default_state_dir),
    };
    if let Some(out) = &args.audit_catalogue {
        std::process::exit(audit::run(out, &paths));
    }
    watchdog::ping();
    let dirs = SessionDirs::new(&paths.state_dir);
    // Before any webview exists: nothing a crash or power cut left may reach the next person.
    if let Err(e) = dirs.wipe_at_start() {
        tracing::error!(error = %e, dir = %dirs.root().display(), "cannot wipe the session folder; refusing to start");
        std::process::exit(70);
    }
    let loaded = load::load(&paths);
    if !loaded.problems.is_empty() {
        tracing::warn!(count = loaded.problems.len(), running = ?loaded.running, "configuration problems");
    }
    let idle = IdleClock::new(loaded.settings.session, Instant::now());
    let loaded = Arc::new(RwLock::new(loaded));
    let proxy = match navigation::start_gate(Arc::clone(&loaded)) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the network gate; refusing to start");
            std::process::exit(70);
        }
    };
    let stats = open_stats(&paths, &loaded);
    let (push_wake, wake_rx) = std::sync::mpsc::channel();
    {
        let (paths, loaded) = (paths.clone(), Arc::clone(&loaded));
        borne_core::push::service::spawn(
            paths.clone(),
            move || match loaded.read() {
                Ok(l) if l.settings.stats.enabled => borne_core::push::Destination::resolve(&l.settings.stats, &paths),
                _ => borne_core::push::Destination { url: None, site_id: 0, token_file: Default::default() },
            },
            wake_rx,
        );
    }
    let kiosk = Kiosk {
        dirty: AtomicBool::new(false),
        admin: Mutex::new(admin::AdminSession::default()),
        log_tail: log_tail.clone(),
        language: Mutex::new("fr".into()),
        display: Mutex::new(commands::Display::default()),
        stats,
        push_wake: Mutex::new(push_wake),
        paths,
        dirs,
        loaded,
        proxy,
        idle: Mutex::new(idle),
        kiosk_mode: !args.windowed,
        quitting: AtomicBool::new(false),
        filter_ready: AtomicBool::new(false),
        internal_gate: Mutex::new(borne_core::session::InternalGate::default()),
        print: Default::default(),
        documents: Mutex::default(),
        speech: speech::Speech::default(),
    };
    let app = tauri::Builder::default()
        .manage(kiosk)
        .register_asynchronous_uri_scheme_protocol(borne_core::documents::SCHEME, documents::serve)
        .invoke_handler(tauri::generate_handler![
            commands::portal,
            commands::tile_opened,
            commands::go_home,
            commands::go_back,
            commands::end_session,
            commands::auth_answer,
            commands::still_here,
            commands::toolbar_overlay,
            commands::portal_logo,
            commands::set_language,
            admin::admin_open,
            admin::admin_status,
            admin::admin_set_pin,
            admin::admin_unlock,
            admin::admin_leave,
            admin::admin_data,
            admin::admin_check_portal,
            admin::admin_check_settings,
            admin::admin_save_portal,
            admin::admin_save_settings,
            admin::admin_save_demarches,
            admin::admin_restore,
            admin::admin_test_url,
            admin::admin_stats,
            admin::admin_export_csv,
            admin::admin_save_matomo,
            admin::admin_test_matomo,
            admin::admin_logs,
            admin::admin_logos,
            admin::admin_set_logo,
            admin::admin_print_kit,
            admin::admin_power,
            admin::admin_update_now,
            admin::admin_save_update_url,
            commands::network_offline,
            commands::print_prepare,
            commands::print_submit,
            commands::help_opened,
            commands::help_print,
            commands::display,
            commands::set_display,
            commands::documents_list,
            commands::document_open,
            commands::upload_list,
            commands::upload_choose,
            commands::speech_state,
            commands::speech_volume,
            commands::speech_stop,
            commands::speech_say,
            commands::speech_read,
        ])
        .setup(|app| {
            build_window(app.handle())?;
            input::start_idle_timer(app.handle().clone());
            network::watch_monitor(app.handle());
            watchdog::start();
            speech::start(app.handle());
            catalogue_channel::start(app.handle());
            system_update::start(app.handle());
            Ok(())
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                let k = window.state::<Kiosk>();
                if !k.quitting.load(Ordering::SeqCst) {
                    tracing::info!("close request refused (kiosk)");
                    api.prevent_close();
                }
            }
        })
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|_, _| {}),
        Err(e) => {
            tracing::error!(error = %e, "cannot start the kiosk");
            std::process::exit(1);
        }
    }
}

/// The statistics recorder: off when the settings say so; a file that cannot be opened (newer
/// version, broken disk) leaves the kiosk running without counting, and says why in the log.
fn open_stats(paths: &Paths, loaded: &Arc<RwLock<Loaded>>) -> borne_core::stats::recorder::Recorder {
    use borne_core::stats::recorder::Recorder;
    let enabled = loaded.read().map(|l| l.settings.stats.enabled).unwrap_or(false);
    if !enabled {
        tracing::info!("statistics are off in the settings");
        return Recorder::disabled();
    }
    match Recorder::open(&paths.state_dir.join(borne_core::stats::FILE_NAME)) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "statistics file unusable; counting is off until it is fixed");
            Recorder::disabled()
        }
    }
}

/// Restarts the kiosk: under systemd (`BORNE_SUPERVISED` set by the unit) exiting is enough, the
/// unit starts it again; elsewhere the program starts itself again with the same arguments.
pub fn restart(app: &tauri::AppHandle) {
    if std::env::var_os("BORNE_SUPERVISED").is_none() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        match std::env::current_exe().and_then(|exe| std::process::Command::new(exe).args(args).spawn()) {
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "cannot start the kiosk again"),
        }
    }
    app.exit(0);
}

fn build_window(app: &tauri::AppHandle) -> tauri::Result<()> {
    let kiosk = app.state::<Kiosk>();
    let mut builder = tauri::window::WindowBuilder::new(app, "main").title("Borne").focused(true);
    builder = if kiosk.kiosk_mode {
        // Resizable: under a Wayland kiosk compositor (cage, in the image) the compositor gives the window
        // the screen's size, and GTK refuses any size to a window that is not resizable.
        builder.decorations(false).closable(false).minimizable(false)
    } else {
        builder.inner_size(1280.0, 800.0)
    };
    let window = builder.build()?;
    if kiosk.kiosk_mode {
        // Without a window manager full screen is ignored: size the window to the monitor as well.
        if let Ok(Some(m)) = window.current_monitor().or_else(|_| window.primary_monitor()) {
            let _ = window.set_position(*m.position());
            let _ = window.set_size(*m.size());
        }
        let _ = window.set_fullscreen(true);
    }
    let (x, y, width, height) = content_rect(&window)?;
    // The content view is created first: WebDriver drives the first webview of the first context.
    let content = window.add_child(
        navigation::content_builder(app, &kiosk),
        LogicalPosition::new(x, y),
        LogicalSize::new(width, height),
    )?;
    // The toolbar shares the first content view's web process (a related view): one WebKit web
    // process less at the first portal. It holds no secret: its commands only steer the kiosk. Each
    // later content view is related to nothing, so it gets a web process of its own.
    let (tx, rx) = std::sync::mpsc::channel();
    content.with_webview(move |pv| {
        let _ = tx.send(glib::thread_guard::ThreadGuard::new(pv.inner()));
    })?;
    let related = rx.recv_timeout(std::time::Duration::from_secs(5)).ok().map(|g| g.into_inner());
    let mut toolbar = navigation::toolbar_builder(app, &kiosk);
    if let Some(view) = related {
        toolbar = toolbar.with_related_view(view);
    }
    window.add_child(toolbar, LogicalPosition::new(0.0, 0.0), LogicalSize::new(width, TOOLBAR_HEIGHT))?;
    stack_views(&window)?;
    navigation::prepare_content(app, &content);
    if let Some(t) = app.get_webview(TOOLBAR) {
        let a = app.clone();
        let _ = t.with_webview(move |pv| input::watch_toolbar(&a, &pv.inner()));
    }
    Ok(())
}

/// Where the content view goes in the window (logical pixels): below the toolbar.
fn content_rect(window: &tauri::Window) -> tauri::Result<(f64, f64, f64, f64)> {
    let size = window.inner_size()?.to_logical::<f64>(window.scale_factor()?);
    Ok((0.0, TOOLBAR_HEIGHT, size.width, (size.height - TOOLBAR_HEIGHT).max(100.0)))
}

/// A new content view for the next person (the previous one is closed): put below the toolbar in the
/// overlay, set up, then the portal once its content filter is in place.
pub fn add_content_view(app: &tauri::AppHandle) -> tauri::Result<()> {
    let kiosk = app.state::<Kiosk>();
    let window = app.get_window("main").ok_or(tauri::Error::WindowNotFound)?;
    let (x, y, width, height) = content_rect(&window)?;
    let content = window.add_child(
        navigation::content_builder(app, &kiosk),
        LogicalPosition::new(x, y),
        LogicalSize::new(width, height),
    )?;
    place_content(&window, &content)?;
    navigation::prepare_content(app, &content);
    Ok(())
}

/// The GTK widget of a webview, as a child of the window's box.
fn widget_in_box(window: &tauri::Window, webview: &tauri::Webview) -> Option<gtk::Widget> {
    use gtk::prelude::*;
    let children = window.default_vbox().ok()?.children();
    let (tx, rx) = std::sync::mpsc::channel();
    webview
        .with_webview(move |pv| {
            let _ = tx.send(pv.inner().upcast::<gtk::Widget>().as_ptr() as usize);
        })
        .ok()?;
    let ptr = rx.recv_timeout(std::time::Duration::from_secs(5)).ok()?;
    children.into_iter().find(|c| c.as_ptr() as usize == ptr)
}

/// Moves a new content view from the window's box into the overlay, in place of the previous one.
fn place_content(window: &tauri::Window, content: &tauri::Webview) -> tauri::Result<()> {
    use gtk::prelude::*;
    let Some(widget) = widget_in_box(window, content) else {
        tracing::error!("new content view not found in the window's box; layout left as is");
        return Ok(());
    };
    let vbox = window.default_vbox()?;
    TOOLBAR_OVERLAY.with(|o| {
        if let Some((overlay, _)) = o.borrow().as_ref() {
            if let Some(old) = overlay.child() {
                overlay.remove(&old);
            }
            vbox.remove(&widget);
            widget.set_margin_top(TOOLBAR_HEIGHT as i32);
            overlay.add(&widget);
            widget.show_all();
            overlay.queue_resize();
        }
    });
    Ok(())
}

/// Tauri packs child webviews side by side in the window's box on Linux. The kiosk wants the toolbar
/// *above* the content and able to cover it (dialogs, countdown): both go into a `gtk::Overlay`, the
/// content as its main child below a margin, the toolbar as an overlay child.
fn stack_views(window: &tauri::Window) -> tauri::Result<()> {
    use gtk::prelude::*;
    let vbox = window.default_vbox()?;
    let app = window.app_handle();
    let find = |name: &str| widget_in_box(window, &app.get_webview(name)?);
    let (Some(content), Some(toolbar)) = (find(CONTENT), find(TOOLBAR)) else {
        tracing::error!("webviews not found in the window's box; layout left as is");
        return Ok(());
    };
    vbox.remove(&content);
    vbox.remove(&toolbar);
    let overlay = gtk::Overlay::new();
    content.set_margin_top(TOOLBAR_HEIGHT as i32);
    overlay.add(&content);
    overlay.add_overlay(&toolbar);
    // The toolbar's rectangle is set here, not by size requests (a webview keeps its last natural
    // size): a bar at the top, or the whole window while a dialog or the countdown shows.
    let covering = std::rc::Rc::new(std::cell::Cell::new(false));
    let c = covering.clone();
    overlay.connect_get_child_position(move |overlay, _child| {
        let a = overlay.allocation();
        let h = if c.get() { a.height() } else { (TOOLBAR_HEIGHT as i32).min(a.height()) };
        Some(gtk::Rectangle::new(0, 0, a.width(), h))
    });
    vbox.pack_start(&overlay, true, true, 0);
    overlay.show_all();
    TOOLBAR_OVERLAY.with(|o| *o.borrow_mut() = Some((overlay, covering)));
    Ok(())
}

type OverlayState = (gtk::Overlay, std::rc::Rc<std::cell::Cell<bool>>);

thread_local! {
    /// The overlay holding both views, and whether the toolbar covers the window (main thread only).
    static TOOLBAR_OVERLAY: std::cell::RefCell<Option<OverlayState>> = const { std::cell::RefCell::new(None) };
}

/// With `overlay` the toolbar covers the whole window (dialogs, countdown); without, it is a bar.
pub fn layout(app: &tauri::AppHandle, overlay: bool) {
    use gtk::prelude::*;
    let app2 = app.clone();
    let _ = app.run_on_main_thread(move || {
        TOOLBAR_OVERLAY.with(|o| {
            if let Some((ov, covering)) = o.borrow().as_ref() {
                covering.set(overlay);
                ov.queue_resize();
            }
        });
        if overlay {
            if let Some(t) = app2.get_webview(TOOLBAR) {
                let _ = t.set_focus();
            }
        }
    });
}
