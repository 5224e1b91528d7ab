//! What the admin screens receive, as typed replies: each serialises to exactly the JSON object the
//! shell used to build by hand with `serde_json::json!` in `src-tauri/src/admin.rs`, so
//! `ui/js/admin.js` reads them unchanged. The decisions in them (which state a PIN check shows,
//! which rule or reason a tested address gets, how the token is masked, which theme names win,
//! what « Tester la connexion » says) are made here, and tested.
//!
//! The shell's code each replaces (`src-tauri/src/admin.rs`):
//! - `admin_status`'s `json!({"state", "wait", "unlocked"})` (lines 93-101): [`PinStatus::of`];
//! - `unlock`'s match on `Check` (lines 133-145): [`UnlockReply::of`] (the shell still opens the
//!   admin session on `Check::Ok`);
//! - `data`'s themes (lines 202-209), services (line 216), national tiles (`Named`, lines 180-201),
//!   and `"matomo"` with its masked token (lines 211-214, 231): [`themes`], [`ServiceRow`],
//!   [`NationalTile`], [`MatomoRow`] and [`masked_token`];
//! - `updates_report` (lines 241-259): [`UpdatesReport::of`];
//! - `admin_test_url`'s match on the decision (lines 445-452): [`UrlTest::of`];
//! - `admin_test_matomo`'s message (lines 591-598): [`MatomoTest::of`];
//! - the `{"ok": …}` replies of `saved`, `admin_update_now`, `admin_export_csv`, `save_matomo`,
//!   `admin_set_logo`, `admin_print_kit` and `admin_power` (lines 298-299, 362-364, 520-522,
//!   548-573, 631-633, 675, 695-703): [`Reply`], with `save_matomo`'s French texts now in
//!   [`crate::messages`] ([`crate::messages::MATOMO_SAVE_BAD_URL`] and the others).
//!
//! - `catalogue_report` (lines 306-323): [`CatalogueReport::of`];
//! - `stats` (lines 476-509): [`StatsReply::of`].
//!
//! - `data`'s whole object: [`AdminData::of`].

use serde::Serialize;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::pin::Check;
use crate::catalogue::Theme;
use crate::policy::{AllowedBy, Decision, Policy};
use crate::push::outbox::PushStatus;
use crate::stats::table::DayTable;
use crate::updates::{Outcome, RebootWindow, Status, UrlSource};

/// Where the PIN entry stands (`admin_status`); for the staff code, `StaffCode::state` gives the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinStatus {
    /// `not-set`, `locked`, `wait` or `ready`.
    pub state: &'static str,
    /// Seconds before the next attempt may be made (0 when none).
    pub wait: u64,
    /// The PIN was given in this admin session.
    pub unlocked: bool,
}

impl PinStatus {
    /// From the PIN's state (`Pin::state`) and whether this session is unlocked. A state that
    /// could not be recorded locks like a lock-out.
    pub fn of(check: &Check, unlocked: bool) -> PinStatus {
        let (state, wait) = match check {
            Check::NotSet => ("not-set", 0),
            Check::Locked(d) | Check::Unrecorded(d) => ("locked", d.as_secs()),
            Check::TooSoon(d) => ("wait", d.as_secs()),
            Check::Ok | Check::Wrong { .. } => ("ready", 0),
        };
        PinStatus { state, wait, unlocked }
    }
}

/// The answer to a PIN attempt (`admin_unlock`), and to a médiateur's staff code attempt
/// (`admin::staff::StaffCode::check`: the same states, the same waits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnlockReply {
    /// The PIN was right.
    pub ok: bool,
    /// Otherwise why: `not-set`, `wrong`, `wait`, `locked`, `unrecorded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    /// Attempts left before the lock-out (`wrong`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left: Option<u32>,
    /// Seconds to wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait: Option<u64>,
}

impl UnlockReply {
    /// From the check of the attempt (`Pin::check`).
    pub fn of(check: &Check) -> UnlockReply {
        let no = |state, left, wait| UnlockReply { ok: false, state: Some(state), left, wait };
        match check {
            Check::Ok => UnlockReply { ok: true, state: None, left: None, wait: None },
            Check::NotSet => no("not-set", None, None),
            Check::Wrong { left, wait } => no("wrong", Some(*left), Some(wait.as_secs())),
            Check::TooSoon(d) => no("wait", None, Some(d.as_secs())),
            Check::Locked(d) => no("locked", None, Some(d.as_secs())),
            Check::Unrecorded(d) => no("unrecorded", None, Some(d.as_secs())),
        }
    }
}

/// A theme as the tiles screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThemeRow {
    /// Its id.
    pub id: String,
    /// Its name: the centre's when the centre renamed it.
    pub name: String,
    /// Its pictogram.
    pub pictogram: String,
}

/// The national themes, then the centre's own: a centre's theme with a national theme's id renames
/// it (its pictogram stays the national one), any other is added.
pub fn themes(national: &[Theme], local: &[Theme]) -> Vec<ThemeRow> {
    let row = |t: &Theme| ThemeRow { id: t.id.clone(), name: t.name.clone(), pictogram: t.pictogram.clone() };
    let mut rows: Vec<ThemeRow> = national.iter().map(row).collect();
    for t in local {
        match rows.iter_mut().find(|r| r.id == t.id) {
            Some(r) => r.name = t.name.clone(),
            None => rows.push(row(t)),
        }
    }
    rows
}

/// A tile in force (the screens' pickers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceRow {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// A national tile, with its theme (hide and order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NationalTile {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its theme's id.
    pub theme: String,
}

/// The Matomo screen's current settings; the token is never shown whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatomoRow {
    /// The Matomo address.
    pub url: Option<String>,
    /// The site number.
    pub site_id: Option<u32>,
    /// The token, masked ([`masked_token`]).
    pub token: Option<String>,
}

/// A token as the screen shows it: four dots and its last four characters (fewer when shorter).
/// Counted in characters (the shell's byte slice would have panicked inside a multi-byte one; a
/// Matomo token is ASCII, so the text is the same).
pub fn masked_token(secret: &str) -> String {
    let tail: String = {
        let chars: Vec<char> = secret.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    };
    format!("••••{tail}")
}

/// The Maintenance screen's system updates (the image's A/B updater record, as codes the screen
/// translates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdatesReport {
    /// The version running.
    pub running: Option<String>,
    /// The slot it runs from (`a`, `b`).
    pub slot: Option<String>,
    /// When the updater last checked.
    pub last_check: Option<String>,
    /// What that check did (`Outcome::code`).
    pub outcome: Option<&'static str>,
    /// A version waiting for the next restart.
    pub pending: Option<String>,
    /// When the borne restarts into a waiting version (`RebootWindow`'s text).
    pub reboot_window: String,
    /// The last refused update.
    pub last_refusal: Option<RefusalRow>,
    /// The last rollback.
    pub last_rollback: Option<RollbackRow>,
    /// Checks that failed in a row.
    pub failures: u32,
    /// When the next check is due.
    pub next_check: Option<String>,
    /// The update address in use.
    pub url: Option<String>,
    /// Where that address comes from (`UrlSource::code`).
    pub url_from: Option<&'static str>,
}

/// A refused update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusalRow {
    /// When.
    pub when: String,
    /// The version offered.
    pub version: Option<String>,
    /// Why (`updates::Refusal::code`).
    pub why: &'static str,
}

/// A rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollbackRow {
    /// When.
    pub when: String,
    /// The version that failed.
    pub failed: String,
    /// The version the borne went back to.
    pub back_to: String,
}

impl UpdatesReport {
    /// From the updater's record (`updates::read`) and the settings' reboot window.
    pub fn of(u: Status, reboot_window: RebootWindow) -> UpdatesReport {
        UpdatesReport {
            running: u.running,
            slot: u.slot.map(String::from),
            last_check: u.last_check,
            outcome: u.outcome.map(Outcome::code),
            pending: u.pending,
            reboot_window: reboot_window.to_string(),
            last_refusal: u.last_refusal.map(|r| RefusalRow { when: r.when, version: r.version, why: r.why.code() }),
            last_rollback: u.last_rollback.map(|r| RollbackRow { when: r.when, failed: r.failed, back_to: r.back_to }),
            failures: u.failures,
            next_check: u.next_check,
            url: u.url,
            url_from: u.url_from.map(UrlSource::code),
        }
    }
}

/// « Tester une adresse »: allowed by which rule for which tiles, or refused for which reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum UrlTest {
    /// A rule allows it.
    Allowed {
        /// Always `true`.
        allowed: bool,
        /// The rule, as written.
        rule: String,
        /// The tiles that need the rule.
        needed_by: Vec<String>,
    },
    /// Refused: `reason` is a `BlockReason` code, or `scheme` for what is no site's page
    /// (`about:blank`, the kiosk's own pages).
    Refused {
        /// Always `false`.
        allowed: bool,
        /// Why.
        reason: &'static str,
        /// The host, when the address has one (absent for `scheme`).
        #[serde(skip_serializing_if = "Option::is_none")]
        host: Option<Option<String>>,
    },
}

impl UrlTest {
    /// From the policy's decision on the address (a navigation) and the policy that made it.
    pub fn of(policy: &Policy, decision: Decision) -> UrlTest {
        match decision {
            Decision::Allow(AllowedBy::Rule(i)) => match policy.entries().get(i) {
                Some(e) => UrlTest::Allowed { allowed: true, rule: e.rule.to_string(), needed_by: e.needed_by.clone() },
                None => UrlTest::Refused { allowed: false, reason: "scheme", host: None },
            },
            Decision::Allow(_) | Decision::Internal => {
                UrlTest::Refused { allowed: false, reason: "scheme", host: None }
            }
            Decision::Block { reason, host } => {
                UrlTest::Refused { allowed: false, reason: reason.code(), host: Some(host) }
            }
        }
    }
}

/// « Tester la connexion »'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatomoTest {
    /// Matomo takes this borne's statistics.
    pub ok: bool,
    /// `ok`, `no-token`, a destination problem's code or a `push::test_connection` error code.
    pub code: String,
    /// The French sentence for the référent.
    pub message: &'static str,
}

impl MatomoTest {
    /// From the test's code.
    pub fn of(code: &str) -> MatomoTest {
        let message = match code {
            "ok" => crate::messages::MATOMO_TEST_OK,
            "no-token" => crate::messages::MATOMO_TEST_NO_TOKEN,
            other => crate::messages::matomo_code_fr(other),
        };
        MatomoTest { ok: code == "ok", code: code.to_string(), message }
    }
}

/// The `{"ok": …}` answer of an admin action: what went well or the French reason, with what the
/// screen shows next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Reply {
    /// It was done.
    pub ok: bool,
    /// Why not, in French.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Why not, as a code the screen translates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Where a file was written (CSV export).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Pages printed (kit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// The version saved (`history::Version`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<serde_json::Value>,
    /// What is wrong in a refused form, in French.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<String>>,
}

impl Reply {
    /// Done.
    pub fn ok() -> Reply {
        Reply { ok: true, ..Reply::default() }
    }

    /// Not done, with the French reason.
    pub fn failed(message: impl Into<String>) -> Reply {
        Reply { ok: false, message: Some(message.into()), ..Reply::default() }
    }

    /// Not done, with a code the screen translates.
    pub fn failed_code(code: impl Into<String>) -> Reply {
        Reply { ok: false, code: Some(code.into()), ..Reply::default() }
    }

    /// A form refused, with its problems in French.
    pub fn refused(problems: Vec<String>) -> Reply {
        Reply { ok: false, problems: Some(problems), ..Reply::default() }
    }

    /// A file written at `file`.
    pub fn written(file: impl Into<String>) -> Reply {
        Reply { file: Some(file.into()), ..Reply::ok() }
    }

    /// `pages` pages printed.
    pub fn printed(pages: u32) -> Reply {
        Reply { pages: Some(pages), ..Reply::ok() }
    }

    /// A file saved as this version of the history.
    pub fn saved(version: &impl Serialize) -> Reply {
        Reply { version: serde_json::to_value(version).ok(), ..Reply::ok() }
    }
}

/// A Unix time as the Maintenance screen shows it: `2026-12-07 11:30`, in `tz`.
fn minute_in(t: i64, tz: &TimeZone) -> Option<String> {
    Timestamp::from_second(t).ok().map(|t| t.to_zoned_datetime(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string())
}

/// The Maintenance screen's national catalogue: version in force and where it comes from, the
/// channel, the last check and refusal (dates in local time), what it set aside, whether a version
/// waits for the end of the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogueReport {
    /// The version in force.
    pub version: u64,
    /// `channel` or `shipped`.
    pub source: &'static str,
    /// The channel's address.
    pub channel_url: Option<String>,
    /// The keys accepted.
    pub key_ids: Vec<String>,
    /// When the channel was last checked.
    pub last_check: Option<String>,
    /// What that check found.
    pub last_result: Option<String>,
    /// The last version refused.
    pub last_refusal: Option<CatalogueRefusalRow>,
    /// The référent's choices set aside, in French.
    pub set_aside: Vec<String>,
    /// A new version waits for the end of the session.
    pub pending: bool,
}

/// A refused catalogue version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogueRefusalRow {
    /// When, in local time.
    pub when: Option<String>,
    /// Its code (`channel::Refusal::code`).
    pub code: String,
    /// Its French text.
    pub message: String,
}

impl CatalogueReport {
    /// From the national catalogue's version in force, the channel's report, the notes of what was
    /// set aside, whether a version waits (the shell knows), and the time zone of the dates.
    pub fn of(
        version: u64,
        r: &crate::channel::Report,
        set_aside: &[String],
        pending: bool,
        tz: &TimeZone,
    ) -> CatalogueReport {
        CatalogueReport {
            version,
            source: r.in_force.source,
            channel_url: r.channel_url.clone(),
            key_ids: r.key_ids.clone(),
            last_check: r.status.last_check.and_then(|t| minute_in(t, tz)),
            last_result: r.status.last_result.clone(),
            last_refusal: r.status.last_refusal.as_ref().map(|f| CatalogueRefusalRow {
                when: minute_in(f.at, tz),
                code: f.code.clone(),
                message: f.message.clone(),
            }),
            set_aside: set_aside.to_vec(),
            pending,
        }
    }
}

/// The statistics screen's figures for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatsReply {
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
    /// Sessions a day (the chart).
    pub days: Vec<DaySessions>,
    /// Sessions of the period.
    pub sessions: u64,
    /// Tiles opened, most first: `[id, count]`.
    pub tiles: Vec<(String, u64)>,
    /// Sessions by duration band: `[band, count]`, bands in order.
    pub durations: Vec<(&'static str, u64)>,
    /// How sessions ended: `[button|idle|crash, count]`.
    pub ends: Vec<(&'static str, u64)>,
    /// Pages printed.
    pub pages: u64,
    /// Prints that failed.
    pub print_failures: u64,
    /// Files downloaded.
    pub downloads: u64,
    /// « J'ai besoin d'aide » opened.
    pub help: u64,
    /// End-of-session answers: `[yes|partly|no|skipped, count]`.
    pub outcomes: Vec<(&'static str, u64)>,
    /// Where the push to Matomo stands (none when the store cannot say).
    pub push: Option<PushRow>,
    /// Sessions a médiateur marked « accompagnée ».
    pub accompanied: u64,
    /// Sessions counted as autonomous (sessions counted before the marks existed are in neither).
    pub autonomous: u64,
    /// Sessions whose documents were printed at « Terminer ».
    pub printed_at_end: u64,
    /// Sessions by place of a nomad borne, most first (empty for a borne that stays in its centre).
    pub places: Vec<PlaceSessions>,
}

/// A nomad borne's place and its sessions of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaceSessions {
    /// The place's code.
    pub code: String,
    /// Its name (`[nomad] places`), or the code for a place since taken off the list.
    pub name: String,
    /// Its sessions.
    pub sessions: u64,
}

/// One day of the chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DaySessions {
    /// The day.
    pub date: String,
    /// Its sessions.
    pub sessions: u64,
}

/// Where the push to Matomo stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushRow {
    /// `never`, `ok`, `retrying`, `refused`.
    pub state: String,
    /// The refusal or failure code.
    pub code: Option<String>,
    /// Units not yet confirmed.
    pub backlog: u64,
    /// The hour of the last delivery, in local time (`2026-12-07 11:00`).
    pub last: Option<String>,
    /// The French text of `code`.
    pub message: Option<&'static str>,
}

impl StatsReply {
    /// From the period's table, the push's status and the time zone of the last delivery's hour.
    pub fn of(t: &DayTable, status: Option<&PushStatus>, tz: &TimeZone) -> StatsReply {
        let pairs = |cat: &str, codes: &[&'static str]| -> Vec<(&'static str, u64)> {
            codes.iter().map(|c| (*c, t.total(cat, c))).collect()
        };
        let bands: Vec<&'static str> = crate::stats::DurationBand::ALL.iter().map(|b| b.code()).collect();
        StatsReply {
            from: t.from.to_string(),
            to: t.to.to_string(),
            days: t
                .days
                .iter()
                .map(|(d, v)| DaySessions { date: d.to_string(), sessions: v.first().copied().unwrap_or(0) })
                .collect(),
            sessions: t.total("session", "start"),
            tiles: t.top("tile"),
            durations: pairs("duration", &bands),
            ends: pairs("end", &["button", "idle", "crash", "sleep"]),
            pages: t.total("print", "page"),
            print_failures: t.total("print", "failure"),
            downloads: t.total("download", "file"),
            help: t.total("help", "request"),
            outcomes: pairs("outcome", &["yes", "partly", "no", "skipped"]),
            push: status.map(|s| PushRow {
                state: s.state.clone(),
                code: s.code.clone(),
                backlog: s.backlog,
                last: s.last_delivery_hour.map(|h| {
                    Timestamp::from_second(crate::stats::Hour(h).start_unix())
                        .map(|t| t.to_zoned_datetime(tz.clone()).strftime("%Y-%m-%d %H:00").to_string())
                        .unwrap_or_default()
                }),
                message: s.code.as_deref().map(crate::matomo::french_for_code),
            }),
            accompanied: t.total("mode", "accompanied"),
            autonomous: t.total("mode", "autonomous"),
            printed_at_end: t.total("print-at-end", "yes"),
            places: t
                .top("place")
                .into_iter()
                .map(|(code, sessions)| PlaceSessions { name: t.place_name(&code).to_string(), code, sessions })
                .collect(),
        }
    }
}

/// Everything the admin screens show (`admin_data`), typed: the forms, the catalogue's tiles and
/// themes, the versions, the Matomo settings (token masked), the Maintenance screen's reports.
#[derive(Debug, Serialize)]
pub struct AdminData<'a> {
    /// The tiles in force, for the démarches form.
    pub services: Vec<ServiceRow>,
    /// The démarches in force.
    pub demarches: &'a [crate::catalogue::demarches::Demarche],
    /// The centre's own démarches, as the form edits them.
    pub own_demarches: super::forms::DemarchesForm,
    /// The settings form.
    pub settings: super::forms::SettingsForm,
    /// The portal form.
    pub portal: super::forms::PortalForm,
    /// The national catalogue's tiles.
    pub national: Vec<NationalTile>,
    /// The themes (national, renamed or added locally).
    pub themes: Vec<ThemeRow>,
    /// The pictograms a tile may use.
    pub pictograms: &'static [&'static str],
    /// The languages a borne may offer.
    pub languages: &'static [&'static str],
    /// The configuration's problems, in French.
    pub problems: Vec<String>,
    /// Which configuration runs (`current`, `last-good`, `builtin`…), lower case.
    pub running: String,
    /// The saved versions of the référent's files.
    pub versions: Vec<super::history::Version>,
    /// The Matomo settings.
    pub matomo: MatomoRow,
    /// The program's version.
    pub version: &'static str,
    /// The national catalogue's report.
    pub catalogue: CatalogueReport,
    /// The system updates' report (`null`: no updater on this machine).
    pub updates: Option<UpdatesReport>,
    /// The référent's own update address (empty: the setup's or the image's).
    pub update_url: String,
    /// A staff code is chosen (médiateurs can mark sessions « accompagnée »).
    pub staff_code: bool,
    /// A nomad borne's places and today's place.
    pub nomad: NomadRow,
}

/// A nomad borne's places as the admin screens show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NomadRow {
    /// The places of `[nomad] places` (empty: a borne that stays in its centre).
    pub places: Vec<crate::nomad::Place>,
    /// Today's place, if the référent chose one today.
    pub today: Option<crate::nomad::Place>,
}

impl NomadRow {
    /// From the places and the state directory, today in the centre's time zone `tz` (a tz database
    /// name; the system's zone when it is not one).
    pub fn of(places: &[crate::nomad::Place], state_dir: &std::path::Path, tz: &str) -> NomadRow {
        let tz = TimeZone::get(tz).unwrap_or_else(|_| TimeZone::system());
        let day = crate::nomad::today(&tz, Timestamp::now());
        NomadRow { places: places.to_vec(), today: crate::nomad::chosen_on(state_dir, places, day) }
    }
}

impl<'a> AdminData<'a> {
    /// From the configuration in force and the files under `paths`. The shell gives what only it
    /// knows: whether a new catalogue waits, the updater's record, the program's version.
    pub fn of(
        paths: &crate::load::Paths,
        l: &'a crate::load::Loaded,
        catalogue_pending: bool,
        updates: Option<UpdatesReport>,
        version: &'static str,
    ) -> AdminData<'a> {
        let dest = crate::push::Destination::resolve(&l.settings.stats, paths);
        let token = dest.target().ok().map(|t| masked_token(t.token.secret()));
        let service_ids: Vec<&str> = l.effective.services.iter().map(|s| s.id.as_str()).collect();
        let report = crate::channel::report(paths, &l.settings.catalogue);
        AdminData {
            services: l
                .effective
                .services
                .iter()
                .map(|s| ServiceRow { id: s.id.clone(), name: s.name.clone() })
                .collect(),
            demarches: &l.demarches,
            own_demarches: super::forms::DemarchesForm::current(paths, &service_ids),
            settings: super::forms::SettingsForm::from_settings(&l.settings),
            portal: super::forms::PortalForm::from_local(&l.local),
            national: l
                .national
                .services
                .iter()
                .map(|s| NationalTile { id: s.id.clone(), name: s.name.clone(), theme: s.theme.clone() })
                .collect(),
            themes: themes(&l.national.themes, &l.local.themes),
            pictograms: crate::catalogue::PICTOGRAMS,
            languages: crate::config::KNOWN_LANGUAGES,
            problems: l.problems.iter().map(|d| d.french()).collect(),
            running: format!("{:?}", l.running).to_lowercase(),
            versions: super::history::versions(paths),
            matomo: MatomoRow { url: dest.url.map(|u| u.to_string()), site_id: Some(dest.site_id), token },
            version,
            catalogue: CatalogueReport::of(
                l.national.version,
                &report,
                &l.local.set_aside,
                catalogue_pending,
                &TimeZone::system(),
            ),
            updates,
            update_url: super::forms::own_update_url(paths),
            staff_code: super::staff::StaffCode::new(&paths.state_dir).is_set(),
            nomad: NomadRow::of(&l.settings.nomad.places, &paths.state_dir, &l.settings.stats.time_zone),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    /// The object the admin screens read (`ui/js/admin.js`): exactly these keys, from the shipped
    /// configuration, the Matomo token masked.
    #[test]
    fn admin_data_has_every_key_the_screens_read() {
        let state = tempfile::tempdir().unwrap();
        let paths = crate::load::Paths {
            config_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config"),
            state_dir: state.path().to_path_buf(),
        };
        let l = crate::load::load(&paths);
        let v = serde_json::to_value(AdminData::of(&paths, &l, true, None, "9.9.9")).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = vec![
            "services",
            "demarches",
            "own_demarches",
            "settings",
            "portal",
            "national",
            "themes",
            "pictograms",
            "languages",
            "problems",
            "running",
            "versions",
            "matomo",
            "version",
            "catalogue",
            "updates",
            "update_url",
            "staff_code",
            "nomad",
        ];
        want.sort_unstable();
        let mut got = keys.clone();
        got.sort_unstable();
        assert_eq!(got, want);
        assert_eq!(v["version"], "9.9.9");
        assert_eq!(v["updates"], serde_json::Value::Null);
        assert_eq!(v["catalogue"]["pending"], true);
        assert_eq!(v["running"], "current");
        assert!(v["services"].as_array().is_some_and(|a| !a.is_empty()));
        assert!(v["national"].as_array().is_some_and(|a| a.iter().all(|t| t["theme"].is_string())));
        assert_eq!(v["pictograms"].as_array().map(Vec::len), Some(crate::catalogue::PICTOGRAMS.len()));
        assert_eq!(v["matomo"].as_object().map(|m| m.len()), Some(3));
        assert_eq!(v["staff_code"], false);
        assert_eq!(v["nomad"], json!({"places": [], "today": null}));
    }

    #[test]
    fn the_nomad_row_gives_the_places_and_todays_choice() {
        let state = tempfile::tempdir().unwrap();
        let places: Vec<crate::nomad::Place> =
            ["Médiathèque", "Marché couvert"].iter().map(|n| crate::nomad::Place::of(n).unwrap()).collect();
        let tz = "Europe/Paris";
        assert_eq!(v(NomadRow::of(&places, state.path(), tz))["today"], serde_json::Value::Null);
        let day = crate::nomad::today(&TimeZone::get(tz).unwrap(), Timestamp::now());
        crate::nomad::set_today(state.path(), &places, "marché couvert", day).unwrap();
        assert_eq!(
            v(NomadRow::of(&places, state.path(), tz)),
            json!({"places": [{"name": "Médiathèque", "code": "mediatheque"}, {"name": "Marché couvert", "code": "marche-couvert"}],
                   "today": {"name": "Marché couvert", "code": "marche-couvert"}})
        );
    }

    fn v(x: impl Serialize) -> serde_json::Value {
        serde_json::to_value(x).unwrap()
    }

    #[test]
    fn pin_states_as_the_shell_sent_them() {
        let s = Duration::from_secs;
        let (state, wait, unlocked) = ("not-set", 0, false);
        assert_eq!(
            v(PinStatus::of(&Check::NotSet, false)),
            json!({"state": state, "wait": wait, "unlocked": unlocked})
        );
        assert_eq!(
            v(PinStatus::of(&Check::Locked(s(900)), false)),
            json!({"state": "locked", "wait": 900, "unlocked": false})
        );
        assert_eq!(
            v(PinStatus::of(&Check::Unrecorded(s(60)), false)),
            json!({"state": "locked", "wait": 60, "unlocked": false})
        );
        assert_eq!(
            v(PinStatus::of(&Check::TooSoon(s(4)), false)),
            json!({"state": "wait", "wait": 4, "unlocked": false})
        );
        assert_eq!(v(PinStatus::of(&Check::Ok, true)), json!({"state": "ready", "wait": 0, "unlocked": true}));
        let wrong = Check::Wrong { left: 2, wait: s(8) };
        assert_eq!(v(PinStatus::of(&wrong, false)), json!({"state": "ready", "wait": 0, "unlocked": false}));
    }

    #[test]
    fn unlock_replies_as_the_shell_sent_them() {
        let s = Duration::from_secs;
        let (left, wait) = (3u32, s(2));
        let d = s(30);
        let cases = [
            (Check::Ok, json!({"ok": true})),
            (Check::NotSet, json!({"ok": false, "state": "not-set"})),
            (Check::Wrong { left, wait }, json!({"ok": false, "state": "wrong", "left": left, "wait": wait.as_secs()})),
            (Check::TooSoon(d), json!({"ok": false, "state": "wait", "wait": d.as_secs()})),
            (Check::Locked(d), json!({"ok": false, "state": "locked", "wait": d.as_secs()})),
            (Check::Unrecorded(d), json!({"ok": false, "state": "unrecorded", "wait": d.as_secs()})),
        ];
        for (check, want) in cases {
            assert_eq!(v(UnlockReply::of(&check)), want, "{check:?}");
        }
    }

    fn theme(id: &str, name: &str, pictogram: &str) -> Theme {
        Theme { id: id.into(), name: name.into(), pictogram: pictogram.into() }
    }

    #[test]
    fn the_centres_themes_rename_or_add() {
        let national = [theme("famille", "Famille", "family"), theme("emploi", "Emploi", "work")];
        let local = [theme("emploi", "Travail et emploi", "other"), theme("quartier", "Le quartier", "home")];
        assert_eq!(
            v(themes(&national, &local)),
            json!([
                {"id": "famille", "name": "Famille", "pictogram": "family"},
                {"id": "emploi", "name": "Travail et emploi", "pictogram": "work"},
                {"id": "quartier", "name": "Le quartier", "pictogram": "home"},
            ])
        );
        assert_eq!(v(ServiceRow { id: "caf".into(), name: "CAF".into() }), json!({"id": "caf", "name": "CAF"}));
        assert_eq!(
            v(NationalTile { id: "caf".into(), name: "CAF".into(), theme: "famille".into() }),
            json!({"id": "caf", "name": "CAF", "theme": "famille"})
        );
    }

    #[test]
    fn the_token_shows_its_last_four_characters_only() {
        assert_eq!(masked_token("0123456789abcdef"), "••••cdef");
        assert_eq!(masked_token("abc"), "••••abc");
        assert_eq!(masked_token(""), "••••");
        // Characters, never bytes: no panic on a multi-byte character.
        assert_eq!(masked_token("clé-é"), "••••lé-é");
        let row = MatomoRow {
            url: Some("https://stats.example/".into()),
            site_id: Some(7),
            token: Some(masked_token("abcdef")),
        };
        assert_eq!(v(row), json!({"url": "https://stats.example/", "site_id": 7, "token": "••••cdef"}));
        assert_eq!(
            v(MatomoRow { url: None, site_id: None, token: None }),
            json!({"url": null, "site_id": null, "token": null})
        );
    }

    #[test]
    fn the_updates_report_as_the_shell_sent_it() {
        let u = crate::updates::parse(
            "running=1.4.0\nslot=b\nlast_check=2026-12-01 03:12\noutcome=installed\npending=1.5.0\nfailures=0\n",
        );
        assert_eq!(u.slot, Some('B'));
        let window = crate::updates::DEFAULT_REBOOT_WINDOW;
        let want = json!({
            "running": u.running,
            "slot": u.slot.map(String::from),
            "last_check": u.last_check,
            "outcome": u.outcome.map(crate::updates::Outcome::code),
            "pending": u.pending,
            "reboot_window": window.to_string(),
            "last_refusal": null,
            "last_rollback": null,
            "failures": u.failures,
            "next_check": u.next_check,
            "url": u.url,
            "url_from": u.url_from.map(crate::updates::UrlSource::code),
        });
        assert_eq!(v(UpdatesReport::of(u, window)), want);
        let rows = (
            RefusalRow { when: "2026-12-02 03:00".into(), version: Some("1.6.0".into()), why: "signature" },
            RollbackRow { when: "2026-12-03 04:00".into(), failed: "1.6.1".into(), back_to: "1.5.0".into() },
        );
        assert_eq!(v(&rows.0), json!({"when": "2026-12-02 03:00", "version": "1.6.0", "why": "signature"}));
        assert_eq!(v(&rows.1), json!({"when": "2026-12-03 04:00", "failed": "1.6.1", "back_to": "1.5.0"}));
    }

    #[test]
    fn url_tests_as_the_shell_sent_them() {
        let (_dir, paths) = crate::load::test_paths();
        let loaded = crate::load::load(&paths);
        let policy = &loaded.effective.policy;
        let test = |url: &str| v(UrlTest::of(policy, policy.decide_str(url, crate::policy::LoadKind::Navigation)));
        let caf = test("https://www.caf.fr/");
        assert_eq!(caf["allowed"], true, "{caf}");
        assert!(caf["rule"].as_str().is_some_and(|r| r.contains("caf.fr")), "{caf}");
        assert!(caf["needed_by"].as_array().is_some_and(|a| !a.is_empty()), "{caf}");
        assert_eq!(caf.as_object().map(|o| o.len()), Some(3), "{caf}");
        assert_eq!(
            test("https://facebook.com/"),
            json!({"allowed": false, "reason": "host-not-allowed", "host": "facebook.com"})
        );
        assert_eq!(test("about:blank"), json!({"allowed": false, "reason": "scheme"}));
        assert_eq!(test("tauri://localhost/index.html"), json!({"allowed": false, "reason": "scheme"}));
        let malformed = test("pas une adresse");
        assert_eq!(malformed["allowed"], false);
        assert_eq!(malformed["host"], serde_json::Value::Null, "{malformed}");
        assert!(malformed.as_object().is_some_and(|o| o.contains_key("host")), "host: null, as the shell sent it");
    }

    #[test]
    fn the_matomo_test_says_it_in_french() {
        let code = "ok";
        let message = "Connexion réussie : Matomo accepte les statistiques de cette borne.";
        assert_eq!(v(MatomoTest::of(code)), json!({"ok": code == "ok", "code": code, "message": message}));
        let t = MatomoTest::of("no-token");
        assert_eq!((t.ok, t.message), (false, "La clé d'accès manque : indiquez-la puis enregistrez."));
        for code in crate::messages::MATOMO_CODES {
            assert_eq!(MatomoTest::of(code).message, crate::messages::matomo_code_fr(code), "{code}");
        }
    }

    #[test]
    fn replies_as_the_shell_sent_them() {
        let m = "La clé USB ne répond pas.";
        assert_eq!(v(Reply::ok()), json!({"ok": true}));
        assert_eq!(v(Reply::failed(m)), json!({"ok": false, "message": m}));
        assert_eq!(v(Reply::failed_code("no-updater")), json!({"ok": false, "code": "no-updater"}));
        assert_eq!(v(Reply::written("/media/CLE/x.csv")), json!({"ok": true, "file": "/media/CLE/x.csv"}));
        assert_eq!(v(Reply::printed(4)), json!({"ok": true, "pages": 4}));
        let problems = vec!["Le nom manque.".to_string()];
        assert_eq!(v(Reply::refused(problems.clone())), json!({"ok": false, "problems": problems}));
        let version = json!({"id": 3, "summary": "Tuiles"});
        assert_eq!(v(Reply::saved(&version)), json!({"ok": true, "version": version}));
        // save_matomo's French, now in messages.
        assert_eq!(crate::messages::MATOMO_SAVE_BAD_URL, "L'adresse doit commencer par https://");
        assert_eq!(crate::messages::MATOMO_SAVE_NO_SITE, "Indiquez le numéro du site (donné par la fédération).");
        assert_eq!(crate::messages::MATOMO_SAVE_NO_TOKEN, "Indiquez la clé d'accès (donnée par la fédération).");
        assert_eq!(crate::messages::MATOMO_SAVE_FAILED, "Les réglages n'ont pas pu être enregistrés.");
        assert_eq!(
            crate::messages::USB_STICK_SLOW,
            "La clé USB ne répond pas. Retirez-la, rebranchez-la, puis recommencez."
        );
    }

    #[test]
    fn the_catalogue_report_as_the_shell_sent_it() {
        let (_dir, paths) = crate::load::test_paths();
        let mut r = crate::channel::report(&paths, &crate::config::CatalogueSettings::default());
        r.status.last_check = Some(1_765_105_800); // 2025-12-07 11:10 UTC
        r.status.last_result = Some("up-to-date".into());
        r.status.last_refusal = Some(crate::channel::RefusalRecord {
            at: 1_765_105_860,
            code: "replay".into(),
            message: "Une version…".into(),
        });
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let set_aside = vec!["La tuile « x » …".to_string()];
        let when = |t: Option<i64>| t.and_then(|t| minute_in(t, &tz));
        let want = json!({
            "version": 0,
            "source": r.in_force.source,
            "channel_url": r.channel_url,
            "key_ids": r.key_ids,
            "last_check": when(r.status.last_check),
            "last_result": r.status.last_result,
            "last_refusal": r.status.last_refusal.as_ref().map(|f| json!({"when": when(Some(f.at)), "code": f.code, "message": f.message})),
            "set_aside": set_aside,
            "pending": true,
        });
        assert_eq!(v(CatalogueReport::of(0, &r, &set_aside, true, &tz)), want);
        assert_eq!(want["last_check"], "2025-12-07 12:10");
        assert_eq!(want["last_refusal"]["when"], "2025-12-07 12:11");
        assert_eq!(want["source"], "shipped");
    }

    #[test]
    fn the_statistics_as_the_shell_sent_them() {
        use crate::stats::{CountRow, Hour};
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let day = jiff::civil::date(2026, 12, 7);
        let at = day.at(10, 30, 0, 0).to_zoned_datetime(tz.clone()).unwrap().timestamp();
        let hour = Hour::from_unix(at.as_second());
        let row = |cat: &str, action: &str, n: u64| CountRow {
            hour,
            cat: cat.into(),
            action: action.into(),
            n,
            delivered: 0,
        };
        let rows = [row("session", "start", 1), row("tile", "caf", 2), row("tile", "ants", 1), row("end", "idle", 1)];
        let t = DayTable::build(&rows, day, day, &tz);
        let status = PushStatus {
            state: "refused".into(),
            code: Some("wrong-token".into()),
            last_delivery_hour: Some(hour.0),
            failures: 2,
            backlog: 12,
            batches: 1,
        };
        // The shell's json!, with its names.
        let sessions: Vec<serde_json::Value> =
            t.days.iter().map(|(d, v)| json!({"date": d.to_string(), "sessions": v[0]})).collect();
        let pairs = |cat: &str, codes: &[&str]| -> Vec<serde_json::Value> {
            codes.iter().map(|c| json!([c, t.total(cat, c)])).collect()
        };
        let bands: Vec<&str> = crate::stats::DurationBand::ALL.iter().map(|b| b.code()).collect();
        let last = "2026-12-07 10:00";
        let s = &status;
        let want = json!({
            "from": t.from.to_string(),
            "to": t.to.to_string(),
            "days": sessions,
            "sessions": t.total("session", "start"),
            "tiles": t.top("tile"),
            "durations": pairs("duration", &bands),
            "ends": pairs("end", &["button", "idle", "crash", "sleep"]),
            "pages": t.total("print", "page"),
            "print_failures": t.total("print", "failure"),
            "downloads": t.total("download", "file"),
            "help": t.total("help", "request"),
            "outcomes": pairs("outcome", &["yes", "partly", "no", "skipped"]),
            "push": Some(json!({"state": s.state, "code": s.code, "backlog": s.backlog, "last": last,
                "message": s.code.as_deref().map(crate::matomo::french_for_code)})),
            "accompanied": 0,
            "autonomous": 0,
            "printed_at_end": 0,
            "places": [],
        });
        let got = v(StatsReply::of(&t, Some(&status), &tz));
        assert_eq!(got, want);
        assert_eq!(got["sessions"], 1);
        assert_eq!(got["tiles"], json!([["caf", 2], ["ants", 1]]));
        assert_eq!(v(StatsReply::of(&t, None, &tz))["push"], serde_json::Value::Null);
        // The sessions' dimensions, with the places' names.
        let rows = [
            row("session", "start", 3),
            row("mode", "accompanied", 2),
            row("mode", "autonomous", 1),
            row("place", "marche-couvert", 3),
            row("print-at-end", "yes", 1),
        ];
        let places = [crate::nomad::Place::of("Marché couvert").unwrap()];
        let t = DayTable::build(&rows, day, day, &tz).with_place_names(&places);
        let got = v(StatsReply::of(&t, None, &tz));
        assert_eq!(
            (got["accompanied"].clone(), got["autonomous"].clone(), got["printed_at_end"].clone()),
            (json!(2), json!(1), json!(1))
        );
        assert_eq!(got["places"], json!([{"code": "marche-couvert", "name": "Marché couvert", "sessions": 3}]));
    }
}
