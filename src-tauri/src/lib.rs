//! The borne's kiosk shell: thin Tauri v2 / WebKitGTK glue around `borne-core`.
//!
//! One undecorated window holds two webviews: `content` (the portal, then the institutions' sites,
//! every load decided by the core policy) and `toolbar` (a local page above it that no remote page can
//! reach). Decisions live in `borne-core`; this crate wires them to the hooks of Tauri and WebKitGTK.
//!
//! The person's session is one value of the core's model (`borne_core::person::Session`): hooks and
//! commands raise events through [`state::dispatch`], and [`session`] carries out the model's effects
//! in one place. The modules import in one direction, each only from those listed after it (checked
//! by `tests/module_graph.rs`):
//! - [`commands`], [`admin`]: what the local pages may ask of the shell (the référent's screens);
//! - [`system_update`]: the restart into a new system version that waits, at night, nobody there;
//! - [`session`]: carries out the session model's effects; forgetting a person (a new content view
//!   and network process, clipboard, downloads);
//! - [`catalogue_channel`]: the federation's signed catalogue, put in force between two people;
//! - [`navigation`]: the content view: navigation, new-window and download hooks, the WebKit content
//!   filter, the configuration reloaded;
//! - [`input`]: swallowed keys and mouse buttons, input and the session's clock;
//! - [`portal`]: the portal's address, the kiosk's own pages, a portal asked for is shown;
//! - [`auth`]: the kiosk's own dialog when a site asks for a user name and password;
//! - [`printing`]: the page or PDF to a file, then to CUPS; [`network`]: error pages, offline state;
//! - [`speech`]: « Écouter », the offline voice (espeak-ng), one utterance at a time;
//! - [`documents`]: the session's files in the viewer and « Mes documents », a site's file chooser;
//! - [`audit`]: `borne --audit-catalogue OUT`, the catalogue watch (a GTK window, not the kiosk);
//! - [`layout`]: the toolbar above the content view in the window;
//! - [`glue`]: the commands' error shape, work off the GTK main thread, telling the toolbar;
//! - [`frames`], [`content_filter`], [`watchdog`]: WebKit's frame decisions, its content filter,
//!   systemd's watchdog;
//! - [`state`]: the shared [`state::Kiosk`] state and [`state::dispatch`].

pub mod admin;
pub mod audit;
pub mod auth;
pub mod catalogue_channel;
pub mod commands;
pub mod content_filter;
pub mod documents;
pub mod frames;
pub mod glue;
pub mod hours;
pub mod input;
pub mod laptop;
pub mod layout;
pub mod machine_admin;
pub mod navigation;
pub mod network;
pub mod portal;
pub mod power_off;
pub mod printing;
pub mod scanning;
pub mod session;
pub mod speech;
pub mod state;
pub mod system_update;
pub mod team;
pub mod watchdog;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use borne_core::load::{self, Loaded, Paths};
use borne_core::session::SessionDirs;

use crate::state::{Kiosk, TOOLBAR, TOOLBAR_HEIGHT};
use clap::Parser;
use tauri::{LogicalPosition, LogicalSize, Manager};

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
    // Every module raises the person's events through `state::dispatch`; the session module decides
    // on them with the core's model and carries out the effects.
    state::set_dispatcher(session::dispatch);
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
    let session = borne_core::person::Session::first(loaded.settings.session, Instant::now());
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
        session: Mutex::new(session),
        log_tail: log_tail.clone(),
        stats,
        push_wake: Mutex::new(push_wake),
        paths,
        dirs,
        loaded,
        proxy,
        kiosk_mode: !args.windowed,
        quitting: AtomicBool::new(false),
        filter_ready: AtomicBool::new(false),
        internal_gate: Mutex::new(borne_core::session::InternalGate::default()),
    };
    let app = tauri::Builder::default()
        .manage(kiosk)
        .manage(speech::Speech::default())
        .register_asynchronous_uri_scheme_protocol(borne_core::documents::SCHEME, documents::serve)
        .invoke_handler(tauri::generate_handler![
            commands::portal,
            commands::tile_opened,
            commands::go_home,
            commands::go_back,
            commands::end_session,
            commands::end_offer,
            commands::end_print,
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
            scanning::scan_open,
            scanning::scan_page,
            scanning::scan_stop,
            scanning::scan_rotate,
            scanning::scan_remove,
            scanning::scan_finish,
            team::accompany_state,
            team::accompany,
            team::admin_set_staff_code,
            team::admin_set_place,
            machine_admin::admin_network,
            machine_admin::admin_network_join,
            machine_admin::admin_network_forget,
            machine_admin::admin_printers,
            machine_admin::admin_printers_discover,
            machine_admin::admin_printers_add,
            machine_admin::admin_printers_add_address,
            machine_admin::admin_printers_test_page,
            machine_admin::admin_printers_resume,
            hours::hours_now,
            laptop::battery_state,
            hours::hours_use_anyway,
            hours::hours_admin,
        ])
        .setup(|app| {
            build_window(app.handle())?;
            input::start_idle_timer(app.handle().clone());
            network::watch_monitor(app.handle());
            laptop::watch_battery(app.handle());
            laptop::watch_sleep(app.handle());
            watchdog::start();
            speech::start(app.handle());
            catalogue_channel::start(app.handle());
            system_update::start(app.handle());
            team::start(app.handle());
            hours::start();
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
    let (x, y, width, height) = layout::content_rect(&window)?;
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
    layout::stack_views(&window)?;
    navigation::prepare_content(app, &content);
    if let Some(t) = app.get_webview(TOOLBAR) {
        let a = app.clone();
        let _ = t.with_webview(move |pv| input::watch_toolbar(&a, &pv.inner()));
    }
    Ok(())
}
