//! `borne --audit-catalogue OUT`: the catalogue watch's engine half.
//!
//! Opens each tile's entry URL, one after the other, in a plain GTK window holding a WebKit view of
//! its own (an ephemeral data manager per tile: no cookie, cache or connection carries over), with
//! nothing blocked. WebKit's network goes through a [`Proxy`] whose gate allows every connection and
//! records it, so pre-connections and service workers' fetches are seen too. What the view does
//! fills a [`borne_core::audit::Observation`]; every decision (entry status, hosts needed, rules
//! unseen) and the French report are `borne_core::audit`'s. The kiosk's own hooks, content filter
//! and gate are not used here. Everything GTK runs on the main thread; the proxy has its threads.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use borne_core::audit::history::{History, Run};
use borne_core::audit::report::{render_fr, summary_fr, Head};
use borne_core::audit::{self, Finding, LoadEnd, Observation, Target};
use borne_core::load::{self, Paths, Running};
use borne_core::messages::{audit_stop_fr, AuditStop};
use borne_core::proxy::Proxy;
use gtk::prelude::*;
use webkit2gtk::{
    LoadEvent, NavigationPolicyDecision, NavigationPolicyDecisionExt, NetworkProxyMode, NetworkProxySettings,
    PolicyDecisionExt, PolicyDecisionType, ResponsePolicyDecision, ResponsePolicyDecisionExt, SettingsExt,
    URIRequestExt, URIResponse, URIResponseExt, WebContext, WebResourceExt, WebView, WebViewExt, WebsiteDataManager,
    WebsiteDataManagerExt,
};

/// Authorities the recording gate was asked to dial since the current tile started.
type Dialled = Arc<Mutex<Vec<(String, String, u16)>>>;

/// Runs the watch and returns the process's exit code (0: the report is written).
pub fn run(out: &Path, paths: &Paths) -> i32 {
    let stop = |stop: AuditStop, path: &Path| {
        eprintln!("{}", audit_stop_fr(stop, &path.display().to_string()));
        1
    };
    let loaded = load::load(paths);
    if loaded.running == Running::Builtin {
        tracing::error!(problems = loaded.problems.len(), "configuration cannot be loaded; no catalogue to watch");
        return stop(AuditStop::Config, &paths.config_dir);
    }
    if let Err(e) = writable(out) {
        tracing::error!(error = %e, out = %out.display(), "output folder is not writable");
        return stop(AuditStop::Output, out);
    }
    let history_path = out.join(audit::HISTORY_FILE);
    let mut history = match std::fs::read_to_string(&history_path) {
        Ok(text) => match History::parse(&text) {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "history file cannot be read; refusing to overwrite it");
                return stop(AuditStop::History, &history_path);
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => History::default(),
        Err(e) => {
            tracing::error!(error = %e, "history file cannot be read");
            return stop(AuditStop::History, &history_path);
        }
    };
    if gtk::init().is_err() {
        tracing::error!("no display: GTK cannot start");
        return stop(AuditStop::Display, out);
    }
    let dialled: Dialled = Arc::default();
    let record = Arc::clone(&dialled);
    let proxy = match Proxy::start(Arc::new(move |scheme: &str, host: &str, port: u16| {
        if let Ok(mut d) = record.lock() {
            d.push((scheme.to_string(), host.to_string(), port));
        }
        true
    })) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the recording gate");
            return stop(AuditStop::Gate, out);
        }
    };

    let at = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let started = Instant::now();
    let targets = audit::targets(&loaded);
    tracing::info!(tiles = targets.len(), "catalogue watch started");
    let observations = observe_all(&targets, Rc::new(proxy), dialled);
    let whole = &loaded.effective.policy;
    let mut findings: Vec<Finding> =
        targets.iter().zip(&observations).map(|(t, o)| audit::examine(t, o, whole)).collect();
    history.push(Run::of(&at, &findings));
    for (f, t) in findings.iter_mut().zip(&targets) {
        f.unused = history.unused(&f.id, &t.rules, audit::HISTORY_RUNS);
    }
    let in_force = borne_core::channel::in_force(paths);
    let head = Head {
        at,
        catalogue_version: in_force.version,
        catalogue_source: in_force.source.to_string(),
        fallback: loaded.running == Running::LastGood,
        timeout_secs: audit::DEFAULT_TIMEOUT.as_secs(),
        window: audit::HISTORY_RUNS,
    };
    let report_path = out.join(audit::REPORT_FILE);
    let written = borne_core::fsutil::write_atomic(&history_path, history.to_json().as_bytes())
        .and_then(|()| borne_core::fsutil::write_atomic(&report_path, render_fr(&head, &findings).as_bytes()));
    if let Err(e) = written {
        tracing::error!(error = %e, out = %out.display(), "cannot write the report");
        return stop(AuditStop::Output, out);
    }
    tracing::info!(
        tiles = findings.len(),
        secs = started.elapsed().as_secs_f32(),
        "catalogue watch done; report written"
    );
    println!("{}", summary_fr(&findings, &report_path.display().to_string()));
    0
}

/// Makes the folder and proves a file can be written in it (before minutes of work).
fn writable(out: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    let probe: PathBuf = out.join(".veille-probe");
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

/// Where a tile's load is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the main frame to finish.
    Loading,
    /// Finished (or failed): waiting for late requests.
    Settling,
    /// Recorded; the view is gone.
    Done,
}

/// One tile being watched: its view and what it recorded so far.
struct Watch {
    window: gtk::Window,
    view: WebView,
    obs: RefCell<Observation>,
    phase: Cell<Phase>,
    /// Bumped at each load start and each settle: a timer armed before does nothing.
    generation: Cell<u64>,
}

/// The whole run's state on the main thread.
struct Runner {
    targets: Vec<Target>,
    proxy: Rc<Proxy>,
    dialled: Dialled,
    observations: RefCell<Vec<Observation>>,
    current: RefCell<Option<Rc<Watch>>>,
    main_loop: glib::MainLoop,
}

/// Opens every target in turn; returns one observation per target, in order.
fn observe_all(targets: &[Target], proxy: Rc<Proxy>, dialled: Dialled) -> Vec<Observation> {
    let runner = Rc::new(Runner {
        targets: targets.to_vec(),
        proxy,
        dialled,
        observations: RefCell::default(),
        current: RefCell::default(),
        main_loop: glib::MainLoop::new(None, false),
    });
    let r = Rc::clone(&runner);
    glib::idle_add_local_once(move || start_next(&r));
    runner.main_loop.run();
    runner.observations.take()
}

fn start_next(runner: &Rc<Runner>) {
    let index = runner.observations.borrow().len();
    let Some(target) = runner.targets.get(index) else {
        runner.main_loop.quit();
        return;
    };
    if let Ok(mut d) = runner.dialled.lock() {
        d.clear();
    }
    tracing::info!(tile = %target.id, "opening the entry page");
    let watch = Rc::new(new_watch(&runner.proxy));
    connect(runner, &watch);
    *runner.current.borrow_mut() = Some(Rc::clone(&watch));
    watch.view.load_uri(target.entry.as_str());
    let (r, w) = (Rc::downgrade(runner), Rc::downgrade(&watch));
    glib::timeout_add_local_once(audit::DEFAULT_TIMEOUT, move || {
        if let (Some(r), Some(w)) = (r.upgrade(), w.upgrade()) {
            if w.phase.get() == Phase::Loading {
                let mut obs = w.obs.borrow_mut();
                // A main document that answered is not a timeout; a subresource kept it loading.
                if obs.main_frame.last().is_some_and(|(_, s)| *s != 0) {
                    tracing::info!("page answered but kept loading until the timeout");
                } else {
                    tracing::info!("page did not answer in time");
                    obs.end = LoadEnd::TimedOut;
                }
            }
            finish(&r, &w);
        }
    });
}

fn new_watch(proxy: &Proxy) -> Watch {
    let manager = WebsiteDataManager::new_ephemeral();
    let mut settings = NetworkProxySettings::new(Some(&proxy.url()), &[]);
    manager.set_network_proxy_settings(NetworkProxyMode::Custom, Some(&mut settings));
    let context = WebContext::with_website_data_manager(&manager);
    let view = WebView::with_context(&context);
    // Report-only: a window a script opens without a click reaches the policy hook (recorded there,
    // never opened) instead of being dropped silently by WebKit's popup blocker.
    if let Some(settings) = WebViewExt::settings(&view) {
        settings.set_javascript_can_open_windows_automatically(true);
    }
    let window = gtk::Window::new(gtk::WindowType::Toplevel);
    window.set_title("Veille du catalogue");
    window.set_default_size(1280, 800);
    window.add(&view);
    window.show_all();
    Watch { window, view, obs: RefCell::default(), phase: Cell::new(Phase::Loading), generation: Cell::new(0) }
}

/// Records what the view does; every handler only writes to the observation and moves the phase.
fn connect(runner: &Rc<Runner>, watch: &Rc<Watch>) {
    let w = Rc::downgrade(watch);
    watch.view.connect_resource_load_started(move |view, resource, request| {
        let Some(w) = w.upgrade() else { return };
        let main = view.main_resource().as_ref() == Some(resource);
        if !main {
            if let Some(uri) = request.uri() {
                w.obs.borrow_mut().requests.push(uri.to_string());
            }
        }
        // Redirect hops: `sent-request` carries the response that redirected (NULL for the first
        // request, which the typed binding cannot take).
        let w = Rc::downgrade(&w);
        resource.connect_local("sent-request", false, move |values| {
            let w = w.upgrade()?;
            let request = values.get(1).and_then(|v| v.get::<webkit2gtk::URIRequest>().ok());
            let redirected = values.get(2).and_then(|v| v.get::<Option<URIResponse>>().ok()).flatten();
            if let Some(resp) = redirected {
                let mut obs = w.obs.borrow_mut();
                if main {
                    let uri = resp.uri().map(|u| u.to_string()).unwrap_or_default();
                    obs.main_frame.push((uri, resp.status_code()));
                } else if let Some(uri) = request.and_then(|r| r.uri()) {
                    obs.requests.push(uri.to_string());
                }
            }
            None
        });
    });

    let (r, w) = (Rc::downgrade(runner), Rc::downgrade(watch));
    watch.view.connect_load_changed(move |view, event| {
        let (Some(r), Some(w)) = (r.upgrade(), w.upgrade()) else { return };
        if w.phase.get() == Phase::Done {
            return;
        }
        match event {
            LoadEvent::Started => {
                // A new navigation of the page (script, meta refresh): wait for it again.
                w.generation.set(w.generation.get() + 1);
                w.phase.set(Phase::Loading);
                w.obs.borrow_mut().end = LoadEnd::Finished;
            }
            LoadEvent::Committed => {
                let answer = view.main_resource().and_then(|r| r.response());
                let uri = answer.as_ref().and_then(|a| a.uri()).or_else(|| view.uri());
                let status = answer.map(|a| a.status_code()).unwrap_or(0);
                w.obs.borrow_mut().main_frame.push((uri.map(|u| u.to_string()).unwrap_or_default(), status));
            }
            LoadEvent::Finished => settle(&r, &w),
            _ => {}
        }
    });

    let (w, proxy) = (Rc::downgrade(watch), Rc::clone(&runner.proxy));
    watch.view.connect_load_failed(move |_, _, uri, error| {
        let Some(w) = w.upgrade() else { return true };
        let host = url::Url::parse(uri).ok().and_then(|u| u.host_str().map(str::to_string));
        let domain = error.domain().as_str().to_string();
        let code = crate::network::error_code(error);
        tracing::info!(%domain, code, "entry page failed to load");
        let mut obs = w.obs.borrow_mut();
        if obs.main_frame.last().is_none_or(|(u, _)| u != uri) {
            obs.main_frame.push((uri.to_string(), 0));
        }
        obs.end = LoadEnd::Failed {
            domain,
            code,
            gate: host.and_then(|h| proxy.recent_failure(&h)),
            online: crate::network::online(),
        };
        // WebKit's own error page would be one more load: nothing to show here.
        true
    });

    let (r, w) = (Rc::downgrade(runner), Rc::downgrade(watch));
    watch.view.connect_load_failed_with_tls_errors(move |_, uri, _, flags| {
        let (Some(r), Some(w)) = (r.upgrade(), w.upgrade()) else { return true };
        tracing::info!(?flags, "TLS failure on the entry page");
        {
            let mut obs = w.obs.borrow_mut();
            if obs.main_frame.last().is_none_or(|(u, _)| u != uri) {
                obs.main_frame.push((uri.to_string(), 0));
            }
            obs.end = LoadEnd::Tls;
        }
        settle(&r, &w);
        true
    });

    // `window.open`: WebKit asks for a new view; recorded, none given (one view per tile).
    let w = Rc::downgrade(watch);
    watch.view.connect_create(move |_, action| {
        if let (Some(w), Some(uri)) = (w.upgrade(), action.request().and_then(|r| r.uri())) {
            w.obs.borrow_mut().navigations.push(uri.to_string());
        }
        None
    });

    let w = Rc::downgrade(watch);
    watch.view.connect_decide_policy(move |_, decision, kind| {
        let Some(w) = w.upgrade() else { return false };
        match kind {
            // A link or form aimed at a new window: recorded, never opened.
            PolicyDecisionType::NewWindowAction => {
                let uri = decision
                    .downcast_ref::<NavigationPolicyDecision>()
                    .and_then(|d| d.navigation_action())
                    .and_then(|a| a.request())
                    .and_then(|r| r.uri());
                if let Some(uri) = uri {
                    w.obs.borrow_mut().navigations.push(uri.to_string());
                }
                decision.ignore();
                true
            }
            // Nothing is downloaded: what the view cannot show is not kept.
            PolicyDecisionType::Response => match decision.downcast_ref::<ResponsePolicyDecision>() {
                Some(d) if !d.is_mime_type_supported() => {
                    decision.ignore();
                    true
                }
                _ => false,
            },
            _ => false,
        }
    });
}

/// The load is over (finished, failed or refused for TLS): late requests get [`audit::DEFAULT_SETTLE`].
fn settle(runner: &Rc<Runner>, watch: &Rc<Watch>) {
    if watch.phase.get() == Phase::Done {
        return;
    }
    watch.phase.set(Phase::Settling);
    let mine = watch.generation.get() + 1;
    watch.generation.set(mine);
    let (r, w) = (Rc::downgrade(runner), Rc::downgrade(watch));
    glib::timeout_add_local_once(audit::DEFAULT_SETTLE, move || {
        if let (Some(r), Some(w)) = (r.upgrade(), w.upgrade()) {
            if w.generation.get() == mine && w.phase.get() == Phase::Settling {
                finish(&r, &w);
            }
        }
    });
}

/// Records the tile's observation, closes its window and opens the next tile.
fn finish(runner: &Rc<Runner>, watch: &Rc<Watch>) {
    if watch.phase.replace(Phase::Done) == Phase::Done {
        return;
    }
    watch.view.stop_loading();
    let mut obs = watch.obs.take();
    if let Ok(mut d) = runner.dialled.lock() {
        let mut seen = std::mem::take(&mut *d);
        seen.sort();
        seen.dedup();
        obs.dialled = seen;
    }
    tracing::info!(
        hops = obs.main_frame.len(),
        requests = obs.requests.len(),
        dialled = obs.dialled.len(),
        end = ?obs.end,
        "entry page recorded"
    );
    runner.observations.borrow_mut().push(obs);
    runner.current.borrow_mut().take();
    // Destroyed from the main loop, not from inside one of the view's own signals.
    let window = watch.window.clone();
    let r = Rc::clone(runner);
    glib::idle_add_local_once(move || {
        // No delete-event handler: closing destroys the window, and the view and its web process go
        // with it.
        window.close();
        glib::timeout_add_local_once(Duration::from_millis(100), move || start_next(&r));
    });
}
