//! The référent's corner: commands of the local admin page (`admin.html` in the content view).
//!
//! Entry only from a clean portal (no remote page shown since the last wipe); leaving, or two
//! minutes without input, locks it and wipes the view. Every command checks that its caller is the
//! local admin page, and all but the PIN ones that the PIN was given. Decisions and files are
//! `borne_core::admin`'s; this module is glue. Commands that hash the PIN, read or write files, the
//! statistics or a USB stick, or run `busctl` are `async`: their work runs off the GTK main thread.

use std::sync::atomic::Ordering;
use std::time::Instant;

use borne_core::admin::forms::{self, PortalForm, SettingsForm};
use borne_core::admin::history::{self, Editable};
use borne_core::admin::machine;
use borne_core::admin::pin::{Check, Clocks, Pin};
use borne_core::load;
use borne_core::stats::table::{hours_of, DayTable};
use serde::Serialize;
use serde_json::{json, Value};
use tauri::{AppHandle, Manager, State, Webview};

use borne_core::messages::admin as fr;
use borne_core::person::Event;

use crate::glue::{off_main, off_main_within, CommandError, USB_TIMEOUT};
use crate::state::{dispatch, Kiosk, CONTENT};

type Result<T> = std::result::Result<T, CommandError>;

fn err(code: &'static str) -> CommandError {
    CommandError::new(code)
}

/// The caller is the admin page in the content view.
fn caller_is_admin(webview: &Webview) -> Result<()> {
    let ok = webview.label() == CONTENT
        && webview
            .url()
            .is_ok_and(|u| u.scheme() == "tauri" && u.host_str() == Some("localhost") && u.path() == "/admin.html");
    // And the admin session was opened from a clean portal (never reached any other way).
    let open = webview.state::<Kiosk>().session().admin.is_open();
    if ok && open {
        Ok(())
    } else {
        tracing::warn!(label = webview.label(), open, "admin command refused: caller is not the admin page");
        Err(err("forbidden"))
    }
}

/// The caller is the admin page and the PIN was given; the admin session goes on.
fn unlocked(webview: &Webview, kiosk: &Kiosk) -> Result<()> {
    caller_is_admin(webview)?;
    let mut s = kiosk.session();
    if !s.admin.unlocked {
        return Err(err("locked"));
    }
    s.admin.touch(Instant::now());
    Ok(())
}

fn pin(kiosk: &Kiosk) -> Pin {
    let provisioned = kiosk.loaded.read().ok().and_then(|l| l.settings.pin_hash.clone());
    Pin::new(&kiosk.paths.state_dir, provisioned)
}

/// "Espace référent" on the portal: opens the admin page, only from a clean portal.
#[tauri::command]
pub fn admin_open(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>) -> Result<()> {
    crate::glue::caller_is(&webview, &[CONTENT])?;
    if webview.url().map(|u| u.path().to_string()).unwrap_or_default() != "/index.html" {
        return Err(err("forbidden"));
    }
    if kiosk.session().remote_shown() {
        // Someone used the borne since the last wipe: their session must end first.
        return Err(err("session-open"));
    }
    dispatch(&app, Event::AdminOpened);
    let page = tauri::Url::parse("tauri://localhost/admin.html").expect("constant URL");
    kiosk.open_internal_gate(&page);
    if let Some(c) = app.get_webview(CONTENT) {
        let _ = c.navigate(page);
    }
    tracing::info!("admin page opened");
    Ok(())
}

/// Where the entry stands: PIN chosen, locked, unlocked.
#[tauri::command]
pub async fn admin_status(webview: Webview, app: AppHandle) -> Result<Value> {
    caller_is_admin(&webview)?;
    off_main(&app, |kiosk| {
        let p = pin(kiosk);
        let unlocked = kiosk.session().admin.unlocked;
        let (state, wait) = match p.state(Clocks::now()) {
            Check::NotSet => ("not-set", 0),
            Check::Locked(d) | Check::Unrecorded(d) => ("locked", d.as_secs()),
            Check::TooSoon(d) => ("wait", d.as_secs()),
            _ => ("ready", 0),
        };
        json!({"state": state, "wait": wait, "unlocked": unlocked})
    })
    .await
}

/// Chooses the PIN: the first time, or to change it once unlocked.
#[tauri::command]
pub async fn admin_set_pin(webview: Webview, app: AppHandle, pin_code: String, confirm: String) -> Result<()> {
    caller_is_admin(&webview)?;
    let a = app.clone();
    off_main(&app, move |kiosk| {
        let p = pin(kiosk);
        let allowed = !p.is_set() || kiosk.session().admin.unlocked;
        if !allowed {
            return Err(err("locked"));
        }
        p.set(&pin_code, &confirm).map_err(|e| err(e.code()))?;
        dispatch(&a, Event::AdminUnlocked);
        Ok(())
    })
    .await?
}

/// A PIN attempt.
#[tauri::command]
pub async fn admin_unlock(webview: Webview, app: AppHandle, pin_code: String) -> Result<Value> {
    caller_is_admin(&webview)?;
    let a = app.clone();
    off_main(&app, move |kiosk| unlock(&a, kiosk, &pin_code)).await
}

fn unlock(app: &AppHandle, kiosk: &Kiosk, pin_code: &str) -> Value {
    match pin(kiosk).check(pin_code, Clocks::now()) {
        Check::Ok => {
            dispatch(app, Event::AdminUnlocked);
            json!({"ok": true})
        }
        Check::NotSet => json!({"ok": false, "state": "not-set"}),
        Check::Wrong { left, wait } => json!({"ok": false, "state": "wrong", "left": left, "wait": wait.as_secs()}),
        Check::TooSoon(d) => json!({"ok": false, "state": "wait", "wait": d.as_secs()}),
        Check::Locked(d) => json!({"ok": false, "state": "locked", "wait": d.as_secs()}),
        Check::Unrecorded(d) => json!({"ok": false, "state": "unrecorded", "wait": d.as_secs()}),
    }
}

/// "Quitter l'espace référent".
#[tauri::command]
pub fn admin_leave(webview: Webview, app: AppHandle) -> Result<()> {
    caller_is_admin(&webview)?;
    dispatch(&app, Event::AdminLeft("left"));
    Ok(())
}

#[derive(Serialize)]
struct Named {
    id: String,
    name: String,
    theme: String,
}

/// Everything the admin screens show.
#[tauri::command]
pub async fn admin_data(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    off_main(&app, data).await?
}

fn data(kiosk: &Kiosk) -> Result<Value> {
    let l = kiosk.loaded.read().map_err(|_| err("internal"))?;
    let national: Vec<Named> = l
        .national
        .services
        .iter()
        .map(|s| Named { id: s.id.clone(), name: s.name.clone(), theme: s.theme.clone() })
        .collect();
    let mut themes: Vec<Value> =
        l.national.themes.iter().map(|t| json!({"id": t.id, "name": t.name, "pictogram": t.pictogram})).collect();
    for t in &l.local.themes {
        match themes.iter_mut().find(|x| x["id"] == t.id.as_str()) {
            Some(x) => x["name"] = json!(t.name),
            None => themes.push(json!({"id": t.id, "name": t.name, "pictogram": t.pictogram})),
        }
    }
    let dest = borne_core::push::Destination::resolve(&l.settings.stats, &kiosk.paths);
    let token = dest.target().ok().map(|t| {
        let s = t.token.secret();
        format!("••••{}", &s[s.len().saturating_sub(4)..])
    });
    let problems: Vec<String> = l.problems.iter().map(|d| d.french()).collect();
    let services: Vec<Value> = l.effective.services.iter().map(|s| json!({"id": s.id, "name": s.name})).collect();
    let service_ids: Vec<&str> = l.effective.services.iter().map(|s| s.id.as_str()).collect();
    Ok(json!({
        "services": services,
        "demarches": l.demarches,
        "own_demarches": forms::DemarchesForm::current(&kiosk.paths, &service_ids),
        "settings": SettingsForm::from_settings(&l.settings),
        "portal": PortalForm::from_local(&l.local),
        "national": national,
        "themes": themes,
        "pictograms": borne_core::catalogue::PICTOGRAMS,
        "languages": borne_core::config::KNOWN_LANGUAGES,
        "problems": problems,
        "running": format!("{:?}", l.running).to_lowercase(),
        "versions": history::versions(&kiosk.paths),
        "matomo": {"url": dest.url.map(|u| u.to_string()), "site_id": dest.site_id, "token": token},
        "version": env!("CARGO_PKG_VERSION"),
        "catalogue": catalogue_report(&kiosk.paths, &l),
        "updates": updates_report(l.settings.updates.reboot_window),
        "update_url": forms::own_update_url(&kiosk.paths),
    }))
}

/// The Maintenance screen's system updates: the image's A/B updater record as codes the screen
/// translates (`null`: no updater on this machine), and when the borne restarts into a waiting version.
fn updates_report(reboot_window: borne_core::updates::RebootWindow) -> Value {
    let Some(u) = borne_core::updates::read(&borne_core::updates::record_path()) else {
        return Value::Null;
    };
    json!({
        "running": u.running,
        "slot": u.slot.map(String::from),
        "last_check": u.last_check,
        "outcome": u.outcome.map(borne_core::updates::Outcome::code),
        "pending": u.pending,
        "reboot_window": reboot_window.to_string(),
        "last_refusal": u.last_refusal.map(|r| json!({"when": r.when, "version": r.version, "why": r.why.code()})),
        "last_rollback": u.last_rollback.map(|r| json!({"when": r.when, "failed": r.failed, "back_to": r.back_to})),
        "failures": u.failures,
        "next_check": u.next_check,
        "url": u.url,
        "url_from": u.url_from.map(borne_core::updates::UrlSource::code),
    })
}

/// Saves the référent's update address (Maintenance screen; empty: the setup's or the image's is used
/// again). Checked in the core; a bad one writes nothing and comes back in French, the cause logged.
/// The image's updater reads it from the référent's `settings.toml` at its next check.
#[tauri::command]
pub async fn admin_save_update_url(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    url: String,
    summary: String,
) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    save_and_apply(&app, move |kiosk| {
        let saved = forms::save_update_url(&kiosk.paths, &url, &summary);
        match &saved {
            Ok(_) => tracing::info!(url = url.trim(), "update address saved by the référent"),
            Err(problems) => {
                for p in problems {
                    tracing::warn!(problem = %p, "update address refused; the one in force is kept");
                }
            }
        }
        saved
    })
    .await
}

/// « Mettre à jour maintenant »: the updater looks for an update now, in the background (off the
/// GTK main thread: `busctl` may wait for systemd).
#[tauri::command]
pub async fn admin_update_now(webview: Webview, kiosk: State<'_, Kiosk>) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    let record = borne_core::updates::record_path();
    let started = tauri::async_runtime::spawn_blocking(move || machine::start_update_check(&record))
        .await
        .map_err(|_| err("internal"))?;
    Ok(match started {
        Ok(()) => json!({"ok": true}),
        Err(why) => json!({"ok": false, "code": why.code()}),
    })
}

/// The Maintenance screen's catalogue: version in force and where it comes from, the channel, the
/// last check and refusal (dates in local time), what it set aside, whether one waits for the end
/// of the session.
fn catalogue_report(paths: &load::Paths, l: &load::Loaded) -> Value {
    let r = borne_core::channel::report(paths, &l.settings.catalogue);
    let when = |t: Option<i64>| {
        t.and_then(|t| jiff::Timestamp::from_second(t).ok())
            .map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d %H:%M").to_string())
    };
    json!({
        "version": l.national.version,
        "source": r.in_force.source,
        "channel_url": r.channel_url,
        "key_ids": r.key_ids,
        "last_check": when(r.status.last_check),
        "last_result": r.status.last_result,
        "last_refusal": r.status.last_refusal.as_ref().map(|f| json!({"when": when(Some(f.at)), "code": f.code, "message": f.message})),
        "set_aside": l.local.set_aside,
        "pending": crate::catalogue_channel::pending(),
    })
}

/// Live validation of the portal form.
#[tauri::command]
pub async fn admin_check_portal(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    form: PortalForm,
) -> Result<Vec<String>> {
    unlocked(&webview, &kiosk)?;
    off_main(&app, move |kiosk| forms::check_portal(&kiosk.paths, &form)).await
}

/// Live validation of the settings form.
#[tauri::command]
pub async fn admin_check_settings(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    form: SettingsForm,
) -> Result<Vec<String>> {
    unlocked(&webview, &kiosk)?;
    off_main(&app, move |kiosk| forms::check_settings(&kiosk.paths, &form)).await
}

/// Writes a référent's file (`save`, off the GTK main thread) and applies it at once when it was valid.
async fn save_and_apply(
    app: &AppHandle,
    save: impl FnOnce(&Kiosk) -> std::result::Result<history::Version, Vec<borne_core::diag::Diagnostic>> + Send + 'static,
) -> Result<Value> {
    let a = app.clone();
    off_main(app, move |kiosk| saved(&a, save(kiosk))).await
}

fn saved(app: &AppHandle, result: std::result::Result<history::Version, Vec<borne_core::diag::Diagnostic>>) -> Value {
    match result {
        Ok(v) => {
            crate::navigation::reload(app);
            json!({"ok": true, "version": v})
        }
        Err(d) => json!({"ok": false, "problems": forms::problems_fr(&d)}),
    }
}

/// Saves the portal (validated first; nothing written when wrong) and applies it at once.
#[tauri::command]
pub async fn admin_save_portal(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    form: PortalForm,
    summary: String,
) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    save_and_apply(&app, move |kiosk| history::save(&kiosk.paths, Editable::Local, &form.to_toml(), &summary)).await
}

/// Saves the settings and applies them at once.
#[tauri::command]
pub async fn admin_save_settings(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    form: SettingsForm,
    summary: String,
) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    let result = save_and_apply(&app, move |kiosk| {
        history::save(&kiosk.paths, Editable::Settings, &form.settings_toml(&kiosk.paths), &summary)
    })
    .await?;
    // A new channel address is checked at once.
    crate::catalogue_channel::wake();
    Ok(result)
}

/// Saves the référent's "Avant de commencer" sheets (validated first) and applies them at once.
#[tauri::command]
pub async fn admin_save_demarches(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    form: forms::DemarchesForm,
    summary: String,
) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    save_and_apply(&app, move |kiosk| history::save(&kiosk.paths, Editable::Demarches, &form.to_toml(), &summary)).await
}

/// Puts a kept version back.
#[tauri::command]
pub async fn admin_restore(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>, id: u64) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    save_and_apply(&app, move |kiosk| history::restore(&kiosk.paths, id)).await
}

/// "Tester une adresse": allowed or not, and which rule or reason decides.
#[tauri::command]
pub fn admin_test_url(webview: Webview, kiosk: State<'_, Kiosk>, url: String) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    use borne_core::policy::{AllowedBy, Decision, LoadKind};
    let l = kiosk.loaded.read().map_err(|_| err("internal"))?;
    let policy = &l.effective.policy;
    let d = policy.decide_str(url.trim(), LoadKind::Navigation);
    Ok(match d {
        Decision::Allow(AllowedBy::Rule(i)) => {
            let e = &policy.entries()[i];
            json!({"allowed": true, "rule": e.rule.to_string(), "needed_by": e.needed_by})
        }
        Decision::Allow(_) | Decision::Internal => json!({"allowed": false, "reason": "scheme"}),
        Decision::Block { reason, host } => json!({"allowed": false, "reason": reason.code(), "host": host}),
    })
}

fn table(kiosk: &Kiosk, days: u32) -> Result<DayTable> {
    let tz = jiff::tz::TimeZone::system();
    let to = jiff::Timestamp::now().to_zoned_datetime(tz.clone()).date();
    let from = to.checked_sub(jiff::Span::new().days(i64::from(days.clamp(1, 366)) - 1)).unwrap_or(to);
    let store =
        borne_core::stats::Store::open(&kiosk.paths.state_dir.join(borne_core::stats::FILE_NAME)).map_err(|e| {
            tracing::error!(error = %e, "statistics unreadable");
            err("stats-unreadable")
        })?;
    let (h0, h1) = hours_of(from, to, &tz);
    let rows = store.rows_between(h0, h1).map_err(|_| err("stats-unreadable"))?;
    Ok(DayTable::build(&rows, from, to, &tz))
}

/// The figures of the last `days` days.
#[tauri::command]
pub async fn admin_stats(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>, days: u32) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    off_main(&app, move |kiosk| stats(kiosk, days)).await?
}

fn stats(kiosk: &Kiosk, days: u32) -> Result<Value> {
    let t = table(kiosk, days)?;
    let sessions: Vec<Value> = t.days.iter().map(|(d, v)| json!({"date": d.to_string(), "sessions": v[0]})).collect();
    let status = borne_core::stats::Store::open(&kiosk.paths.state_dir.join(borne_core::stats::FILE_NAME))
        .and_then(|s| s.push_status())
        .ok();
    let last = status.as_ref().and_then(|s| s.last_delivery_hour).map(|h| {
        let z = jiff::Timestamp::from_second(borne_core::stats::Hour(h).start_unix())
            .map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d %H:00").to_string());
        z.unwrap_or_default()
    });
    let pairs =
        |cat: &str, codes: &[&str]| -> Vec<Value> { codes.iter().map(|c| json!([c, t.total(cat, c)])).collect() };
    let bands: Vec<&str> = borne_core::stats::DurationBand::ALL.iter().map(|b| b.code()).collect();
    let durations = pairs("duration", &bands);
    let ends = pairs("end", &["button", "idle", "crash"]);
    let outcomes = pairs("outcome", &["yes", "partly", "no", "skipped"]);
    Ok(json!({
        "from": t.from.to_string(),
        "to": t.to.to_string(),
        "days": sessions,
        "sessions": t.total("session", "start"),
        "tiles": t.top("tile"),
        "durations": durations,
        "ends": ends,
        "pages": t.total("print", "page"),
        "print_failures": t.total("print", "failure"),
        "downloads": t.total("download", "file"),
        "help": t.total("help", "request"),
        "outcomes": outcomes,
        "push": status.map(|s| json!({"state": s.state, "code": s.code, "backlog": s.backlog, "last": last,
            "message": s.code.as_deref().map(borne_core::matomo::french_for_code)})),
    }))
}

/// "Exporter (CSV)": the same file as `bornectl stats --csv` for the period, on the USB stick.
#[tauri::command]
pub async fn admin_export_csv(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>, days: u32) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    let t = off_main(&app, move |kiosk| table(kiosk, days)).await??;
    let name = format!("statistiques-borne-{}-{}.csv", t.from, t.to);
    let written =
        off_main_within(&app, USB_TIMEOUT, move |_| machine::write_to_stick(&name, t.csv().as_bytes())).await?;
    Ok(match written {
        Some(Ok(where_)) => json!({"ok": true, "file": where_}),
        Some(Err(e)) => json!({"ok": false, "message": e.french()}),
        None => json!({"ok": false, "message": stick_slow()}),
    })
}

/// A USB stick gave no answer in time: logged, and the French text for the référent.
fn stick_slow() -> &'static str {
    tracing::warn!(secs = USB_TIMEOUT.as_secs(), "a USB stick gave no answer in time");
    fr::STICK_SLOW
}

/// Saves the Matomo address, site and (when given) token (0600, never shown again).
#[tauri::command]
pub async fn admin_save_matomo(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    url: String,
    site_id: u32,
    token: String,
) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    off_main(&app, move |kiosk| save_matomo(kiosk, &url, site_id, &token)).await?
}

fn save_matomo(kiosk: &Kiosk, url: &str, site_id: u32, token: &str) -> Result<Value> {
    let Some(u) = borne_core::push::valid_url(url) else {
        return Ok(json!({"ok": false, "message": fr::MATOMO_URL_NOT_HTTPS}));
    };
    if site_id == 0 {
        return Ok(json!({"ok": false, "message": fr::MATOMO_SITE_MISSING}));
    }
    let stats = kiosk.loaded.read().map(|l| l.settings.stats.clone()).map_err(|_| err("internal"))?;
    let dest = borne_core::push::Destination::resolve(&stats, &kiosk.paths);
    let tok = match borne_core::matomo::Token::new(token) {
        Some(t) => t,
        None => match dest.target() {
            Ok(t) => t.token,
            Err(_) => return Ok(json!({"ok": false, "message": fr::MATOMO_TOKEN_MISSING})),
        },
    };
    match borne_core::push::store_provisioned(&kiosk.paths, &dest.token_file, &u, site_id, &tok) {
        Ok(()) => {
            if let Ok(w) = kiosk.push_wake.lock() {
                let _ = w.send(());
            }
            Ok(json!({"ok": true}))
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot store Matomo settings");
            Ok(json!({"ok": false, "message": fr::MATOMO_NOT_SAVED}))
        }
    }
}

/// "Tester la connexion": reachable, a Matomo, the token, the site, write access.
#[tauri::command]
pub async fn admin_test_matomo(webview: Webview, kiosk: State<'_, Kiosk>) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    let stats = kiosk.loaded.read().map(|l| l.settings.stats.clone()).map_err(|_| err("internal"))?;
    let dest = borne_core::push::Destination::resolve(&stats, &kiosk.paths);
    let code = match dest.target() {
        Err(c) => c.to_string(),
        Ok(t) => match borne_core::push::test_connection(&t).await {
            Ok(()) => "ok".into(),
            Err(e) => e.code().to_string(),
        },
    };
    let message = if code == "ok" {
        fr::MATOMO_TEST_OK
    } else if code == "no-token" {
        fr::MATOMO_TEST_NO_TOKEN
    } else {
        borne_core::matomo::french_for_code(&code)
    };
    Ok(json!({"ok": code == "ok", "code": code, "message": message}))
}

/// The last 50 lines of the kiosk's log.
#[tauri::command]
pub fn admin_logs(webview: Webview, kiosk: State<'_, Kiosk>) -> Result<Vec<String>> {
    unlocked(&webview, &kiosk)?;
    Ok(kiosk.log_tail.lines())
}

/// Images on the USB sticks that can become the centre's logo.
#[tauri::command]
pub async fn admin_logos(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>) -> Result<Vec<String>> {
    unlocked(&webview, &kiosk)?;
    off_main_within(&app, USB_TIMEOUT, |_| {
        machine::logo_candidates().iter().map(|p| p.display().to_string()).collect::<Vec<_>>()
    })
    .await?
    .ok_or_else(|| {
        stick_slow();
        err("usb-slow")
    })
}

/// Takes one of those images as the logo.
#[tauri::command]
pub async fn admin_set_logo(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>, path: String) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    let imported = off_main_within(&app, USB_TIMEOUT, move |kiosk| {
        machine::import_logo(std::path::Path::new(&path), &kiosk.paths.state_dir)
    })
    .await?;
    Ok(match imported {
        Some(Ok(_)) => json!({"ok": true}),
        Some(Err(m)) => json!({"ok": false, "message": m}),
        None => json!({"ok": false, "message": stick_slow()}),
    })
}

/// « Imprimer l'affiche », « Imprimer le dépliant », « Imprimer le livret des fiches »: the piece of
/// the communication kit, made from the portal in force in French and `lang` (an offered language,
/// or `fr` for French alone) as `bornectl kit` makes it, printed once on the borne's printer. The
/// référent's prints are not a person's: no session quota. A printer that is not ready gives its
/// code (`printer`, `no-printer`) and the page says so in French.
#[tauri::command]
pub async fn admin_print_kit(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    piece: String,
    lang: String,
) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    let piece = borne_kit::Piece::from_name(&piece).ok_or(err("bad-action"))?;
    off_main(&app, move |kiosk| {
        let (kit, printer) = {
            let l = kiosk.loaded.read().map_err(|_| err("internal"))?;
            let second = borne_core::kit::second_language(&l.settings, Some(&lang)).map_err(|e| err(e.code()))?;
            (borne_core::kit::Kit::of_loaded(&l, second.as_deref()), l.settings.printing.printer.clone())
        };
        let printer = printer.ok_or(err(borne_core::print::Refusal::NoPrinter.code()))?;
        let logo = borne_kit::logo_in(&kiosk.paths.state_dir);
        let file = borne_kit::write(&kit, piece, logo.as_deref(), &kiosk.paths.state_dir.join("kit")).map_err(|e| {
            tracing::error!(error = %e, "the kit could not be made");
            err("internal")
        })?;
        let pages = borne_core::print::pdf_file_page_count(&file).map_err(|e| {
            tracing::error!(error = %e, "the kit's PDF cannot be counted");
            err("internal")
        })?;
        let plan = borne_core::print::Plan { copies: 1, first: 1, last: pages };
        let cups = borne_core::print::cups::Clients::default();
        let job = cups.submit(&printer, &file, &plan).map_err(|e| {
            tracing::warn!(reason = %e, "the kit was not printed");
            err(e.code())
        })?;
        tracing::info!(pages, %job, "kit printed");
        Ok(json!({"ok": true, "pages": pages}))
    })
    .await?
}

/// Restart the kiosk, reboot or shut down the PC.
#[tauri::command]
pub async fn admin_power(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>, action: String) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    let power = match action.as_str() {
        "restart" => {
            tracing::info!("kiosk restart asked by the référent");
            // The wipe touches GTK (a new view, the clipboard): on the main thread.
            let a = app.clone();
            app.run_on_main_thread(move || {
                dispatch(&a, Event::AdminLeft("restart"));
                a.state::<Kiosk>().quitting.store(true, Ordering::SeqCst);
                crate::glue::restart(&a);
            })
            .map_err(|_| err("internal"))?;
            return Ok(json!({"ok": true}));
        }
        "reboot" => machine::Power::Reboot,
        "poweroff" => machine::Power::Poweroff,
        _ => return Err(err("bad-action")),
    };
    Ok(match off_main(&app, move |_| machine::power(power)).await? {
        Ok(()) => json!({"ok": true}),
        Err(m) => json!({"ok": false, "message": m}),
    })
}
