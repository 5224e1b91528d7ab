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
use borne_core::stats::table::{hours_of, DayTable};
use serde_json::Value;
use tauri::{AppHandle, Manager, State, Webview};

use borne_core::admin::screens::{
    AdminData, MatomoTest, PinStatus, Reply, StatsReply, UnlockReply, UpdatesReport, UrlTest,
};
use borne_core::messages as fr;
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
pub(crate) fn unlocked(webview: &Webview, kiosk: &Kiosk) -> Result<()> {
    caller_is_admin(webview)?;
    let mut s = kiosk.session();
    if !s.admin.unlocked {
        return Err(err("locked"));
    }
    s.admin.touch(Instant::now());
    Ok(())
}

pub(crate) fn pin(kiosk: &Kiosk) -> Pin {
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
    crate::portal::open_admin_page(&app);
    Ok(())
}

/// Where the entry stands: PIN chosen, locked, unlocked.
#[tauri::command]
pub async fn admin_status(webview: Webview, app: AppHandle) -> Result<PinStatus> {
    caller_is_admin(&webview)?;
    off_main(&app, |kiosk| {
        let check = pin(kiosk).state(Clocks::now());
        PinStatus::of(&check, kiosk.session().admin.unlocked)
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
pub async fn admin_unlock(webview: Webview, app: AppHandle, pin_code: String) -> Result<UnlockReply> {
    caller_is_admin(&webview)?;
    let a = app.clone();
    off_main(&app, move |kiosk| unlock(&a, kiosk, &pin_code)).await
}

fn unlock(app: &AppHandle, kiosk: &Kiosk, pin_code: &str) -> UnlockReply {
    let check = pin(kiosk).check(pin_code, Clocks::now());
    if check == Check::Ok {
        dispatch(app, Event::AdminUnlocked);
    }
    UnlockReply::of(&check)
}

/// "Quitter l'espace référent".
#[tauri::command]
pub fn admin_leave(webview: Webview, app: AppHandle) -> Result<()> {
    caller_is_admin(&webview)?;
    dispatch(&app, Event::AdminLeft("left"));
    Ok(())
}

/// Everything the admin screens show.
#[tauri::command]
pub async fn admin_data(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>) -> Result<Value> {
    unlocked(&webview, &kiosk)?;
    off_main(&app, data).await?
}

fn data(kiosk: &Kiosk) -> Result<Value> {
    let l = kiosk.loaded.read().map_err(|_| err("internal"))?;
    let pending = crate::catalogue_channel::pending();
    let updates = updates_report(l.settings.updates.reboot_window);
    let d = AdminData::of(&kiosk.paths, &l, pending, updates, env!("CARGO_PKG_VERSION"));
    // Serialised here, under the configuration's read lock the data borrows from.
    serde_json::to_value(d).map_err(|_| err("internal"))
}

/// The Maintenance screen's system updates: the image's A/B updater record as codes the screen
/// translates (`null`: no updater on this machine), and when the borne restarts into a waiting version.
fn updates_report(reboot_window: borne_core::updates::RebootWindow) -> Option<UpdatesReport> {
    borne_core::updates::read(&borne_core::updates::record_path()).map(|u| UpdatesReport::of(u, reboot_window))
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
) -> Result<Reply> {
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
pub async fn admin_update_now(webview: Webview, kiosk: State<'_, Kiosk>) -> Result<Reply> {
    unlocked(&webview, &kiosk)?;
    let record = borne_core::updates::record_path();
    let started = tauri::async_runtime::spawn_blocking(move || machine::start_update_check(&record))
        .await
        .map_err(|_| err("internal"))?;
    Ok(match started {
        Ok(()) => Reply::ok(),
        Err(why) => Reply::failed_code(why.code()),
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
) -> Result<Reply> {
    let a = app.clone();
    off_main(app, move |kiosk| saved(&a, save(kiosk))).await
}

fn saved(app: &AppHandle, result: std::result::Result<history::Version, Vec<borne_core::diag::Diagnostic>>) -> Reply {
    match result {
        Ok(v) => {
            crate::navigation::reload(app);
            Reply::saved(&v)
        }
        Err(d) => Reply::refused(forms::problems_fr(&d)),
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
) -> Result<Reply> {
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
) -> Result<Reply> {
    unlocked(&webview, &kiosk)?;
    let result = save_and_apply(&app, move |kiosk| {
        history::save(&kiosk.paths, Editable::Settings, &form.settings_toml(&kiosk.paths), &summary)
    })
    .await?;
    // A new channel address is checked at once.
    crate::catalogue_channel::wake();
    Ok(result)
}

/// Makes `name` the borne's printer (« Imprimante »: a printer just added), through the settings'
/// checked save, as if the référent had typed it in « Centre et réglages ».
pub(crate) async fn set_printer(app: &AppHandle, name: &str) -> Result<Reply> {
    let name = name.to_owned();
    save_and_apply(app, move |kiosk| {
        let mut form = {
            let l = kiosk.loaded.read().map_err(|_| Vec::new())?;
            SettingsForm::from_settings(&l.settings)
        };
        form.printer = name;
        history::save(&kiosk.paths, Editable::Settings, &form.settings_toml(&kiosk.paths), "imprimante")
    })
    .await
}

/// Saves the référent's "Avant de commencer" sheets (validated first) and applies them at once.
#[tauri::command]
pub async fn admin_save_demarches(
    webview: Webview,
    app: AppHandle,
    kiosk: State<'_, Kiosk>,
    form: forms::DemarchesForm,
    summary: String,
) -> Result<Reply> {
    unlocked(&webview, &kiosk)?;
    save_and_apply(&app, move |kiosk| history::save(&kiosk.paths, Editable::Demarches, &form.to_toml(), &summary)).await
}

/// Puts a kept version back.
#[tauri::command]
pub async fn admin_restore(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>, id: u64) -> Result<Reply> {
    unlocked(&webview, &kiosk)?;
    save_and_apply(&app, move |kiosk| history::restore(&kiosk.paths, id)).await
}

/// "Tester une adresse": allowed or not, and which rule or reason decides.
#[tauri::command]
pub fn admin_test_url(webview: Webview, kiosk: State<'_, Kiosk>, url: String) -> Result<UrlTest> {
    unlocked(&webview, &kiosk)?;
    let l = kiosk.loaded.read().map_err(|_| err("internal"))?;
    let policy = &l.effective.policy;
    let d = policy.decide_str(url.trim(), borne_core::policy::LoadKind::Navigation);
    Ok(UrlTest::of(policy, d))
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
    // A nomad borne's places by their names (`[nomad] places`), as `bornectl stats` shows them.
    let places = kiosk.loaded.read().map(|l| l.settings.nomad.places.clone()).unwrap_or_default();
    Ok(DayTable::build(&rows, from, to, &tz).with_place_names(&places))
}

/// The figures of the last `days` days.
#[tauri::command]
pub async fn admin_stats(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>, days: u32) -> Result<StatsReply> {
    unlocked(&webview, &kiosk)?;
    off_main(&app, move |kiosk| stats(kiosk, days)).await?
}

fn stats(kiosk: &Kiosk, days: u32) -> Result<StatsReply> {
    let t = table(kiosk, days)?;
    let status = borne_core::stats::Store::open(&kiosk.paths.state_dir.join(borne_core::stats::FILE_NAME))
        .and_then(|s| s.push_status())
        .ok();
    Ok(StatsReply::of(&t, status.as_ref(), &jiff::tz::TimeZone::system()))
}

/// "Exporter (CSV)": the same file as `bornectl stats --csv` for the period, on the USB stick.
#[tauri::command]
pub async fn admin_export_csv(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>, days: u32) -> Result<Reply> {
    unlocked(&webview, &kiosk)?;
    let t = off_main(&app, move |kiosk| table(kiosk, days)).await??;
    let name = format!("statistiques-borne-{}-{}.csv", t.from, t.to);
    let written =
        off_main_within(&app, USB_TIMEOUT, move |_| machine::write_to_stick(&name, t.csv().as_bytes())).await?;
    Ok(match written {
        Some(Ok(where_)) => Reply::written(where_),
        Some(Err(e)) => Reply::failed(e.french()),
        None => Reply::failed(stick_slow()),
    })
}

/// A USB stick gave no answer in time: logged, and the French text for the référent.
fn stick_slow() -> &'static str {
    tracing::warn!(secs = USB_TIMEOUT.as_secs(), "a USB stick gave no answer in time");
    fr::USB_STICK_SLOW
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
) -> Result<Reply> {
    unlocked(&webview, &kiosk)?;
    off_main(&app, move |kiosk| save_matomo(kiosk, &url, site_id, &token)).await?
}

fn save_matomo(kiosk: &Kiosk, url: &str, site_id: u32, token: &str) -> Result<Reply> {
    let Some(u) = borne_core::push::valid_url(url) else {
        return Ok(Reply::failed(fr::MATOMO_SAVE_BAD_URL));
    };
    if site_id == 0 {
        return Ok(Reply::failed(fr::MATOMO_SAVE_NO_SITE));
    }
    let stats = kiosk.loaded.read().map(|l| l.settings.stats.clone()).map_err(|_| err("internal"))?;
    let dest = borne_core::push::Destination::resolve(&stats, &kiosk.paths);
    let tok = match borne_core::matomo::Token::new(token) {
        Some(t) => t,
        None => match dest.target() {
            Ok(t) => t.token,
            Err(_) => return Ok(Reply::failed(fr::MATOMO_SAVE_NO_TOKEN)),
        },
    };
    match borne_core::push::store_provisioned(&kiosk.paths, &dest.token_file, &u, site_id, &tok) {
        Ok(()) => {
            if let Ok(w) = kiosk.push_wake.lock() {
                let _ = w.send(());
            }
            Ok(Reply::ok())
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot store Matomo settings");
            Ok(Reply::failed(fr::MATOMO_SAVE_FAILED))
        }
    }
}

/// "Tester la connexion": reachable, a Matomo, the token, the site, write access.
#[tauri::command]
pub async fn admin_test_matomo(webview: Webview, kiosk: State<'_, Kiosk>) -> Result<MatomoTest> {
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
    Ok(MatomoTest::of(&code))
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
pub async fn admin_set_logo(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>, path: String) -> Result<Reply> {
    unlocked(&webview, &kiosk)?;
    let imported = off_main_within(&app, USB_TIMEOUT, move |kiosk| {
        machine::import_logo(std::path::Path::new(&path), &kiosk.paths.state_dir)
    })
    .await?;
    Ok(match imported {
        Some(Ok(_)) => Reply::ok(),
        Some(Err(m)) => Reply::failed(m),
        None => Reply::failed(stick_slow()),
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
) -> Result<Reply> {
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
        Ok(Reply::printed(pages))
    })
    .await?
}

/// Restart the kiosk, reboot or shut down the PC.
#[tauri::command]
pub async fn admin_power(webview: Webview, app: AppHandle, kiosk: State<'_, Kiosk>, action: String) -> Result<Reply> {
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
            return Ok(Reply::ok());
        }
        "reboot" => machine::Power::Reboot,
        "poweroff" => machine::Power::Poweroff,
        _ => return Err(err("bad-action")),
    };
    Ok(match off_main(&app, move |_| machine::power(power)).await? {
        Ok(()) => Reply::ok(),
        Err(m) => Reply::failed(m),
    })
}
