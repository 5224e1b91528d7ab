//! The Reporting API, `GET`/`POST /index.php?module=API&method=...&format=JSON`: sites, users and tokens,
//! `VisitsSummary.get`, `Events.get*` and `Live.getLastVisitsDetails`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};

use super::http::{Params, Request, Response};
use super::store::{Caller, Level, Site, State, User, Visit};
use super::time::{datetime, Day, Window, Zone};
use super::tracking::database_down;
use super::{Fault, StoredHit};

/// The version the contract server claims.
const VERSION: &str = "5.0.2";

/// Rows (or visits) returned when the request has no `filter_limit`.
const DEFAULT_LIMIT: usize = 100;

/// Matomo's answer to an unknown token: an HTML page, whatever the format asked.
const UNAUTHORIZED: &str = "<!DOCTYPE html>\n<html><head><title>Matomo &rsaquo; Error</title></head><body>\n\
<h1>Error</h1>\n<p>You must be logged in to access this functionality: the token_auth is not valid.</p>\n\
</body></html>\n";

/// Matomo's answer when `format` is not JSON: its default format, XML.
const XML_ONLY: &str = "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<result>\n\t<error message=\"The contract \
server only answers format=JSON\" />\n</result>";

/// Handles a request to `/index.php`.
pub(crate) fn handle(state: &mut State, req: &Request) -> Response {
    let mut params = Params::default();
    if req.method == "POST" && req.has_media_type("application/x-www-form-urlencoded") {
        params = Params::parse(&req.body);
    }
    params.extend(Params::parse(req.query.as_bytes()));
    if params.get("module") != Some("API") {
        return Response::text(400, "The contract server only answers module=API.");
    }
    if !params.get("format").is_some_and(|format| format.eq_ignore_ascii_case("json")) {
        return Response { status: 200, content_type: Some("text/xml; charset=utf-8"), body: XML_ONLY.into() };
    }
    if state.fault == Fault::StoreDown {
        return reply(Err(database_down()));
    }
    let method = params.get("method").unwrap_or("");
    if method == "UsersManager.createAppSpecificTokenAuth" {
        // Authenticated by the user's login and password, not by a token.
        return reply(create_token(state, &params));
    }
    let caller = match params.get("token_auth").filter(|token| !token.is_empty()) {
        None => None,
        Some(token) => match state.caller(token) {
            Some(caller) => Some(caller),
            None => return Response::html(401, UNAUTHORIZED),
        },
    };
    let Some(caller) = caller else {
        return reply(Err(format!("{NO_ACCESS} 'view' access for at least one website.")));
    };
    let (caller, p) = (&caller, &params);
    reply(match method {
        "" => Err("Please specify a value for 'method'.".to_owned()),
        // Matomo 5 asks for view access to at least one website, so an anonymous call is refused (401).
        "API.getMatomoVersion" => some_view_access(state, caller).map(|()| json!({ "value": VERSION })),
        "SitesManager.addSite" => add_site(state, caller, p),
        "SitesManager.getSitesWithAtLeastViewAccess" => {
            Ok(state.sites.iter().filter(|site| caller.can_view(site.id)).map(site_json).collect())
        }
        "SitesManager.getSiteFromId" => {
            required(p, "idSite").and_then(|id| viewable_site(state, caller, id)).map(site_json)
        }
        "UsersManager.addUser" => add_user(state, caller, p),
        "UsersManager.setUserAccess" => set_user_access(state, caller, p),
        "VisitsSummary.get" => report(state, caller, p, Report::Visits),
        "VisitFrequency.get" => report(state, caller, p, Report::Frequency),
        "Events.getCategory" => report(state, caller, p, Report::Events(EventDim::Category)),
        "Events.getAction" => report(state, caller, p, Report::Events(EventDim::Action)),
        "Events.getName" => report(state, caller, p, Report::Events(EventDim::Name)),
        "Live.getLastVisitsDetails" => live(state, caller, p),
        other => Err(format!("The method '{other}' does not exist or is not available in the contract server.")),
    })
}

/// The start of every message of Matomo's `NoAccessException`.
const NO_ACCESS: &str = "You can't access this resource as it requires";

/// 200 with the result, or `{"result":"error","message":...}`: with 401 when it is a refusal of access (Matomo's
/// `NoAccessException`, whose messages all start with [`NO_ACCESS`]), else with 200.
fn reply(result: Result<Value, String>) -> Response {
    match result {
        Ok(value) => Response::json(200, &value),
        Err(message) => {
            let status = if message.starts_with(NO_ACCESS) { 401 } else { 200 };
            Response::json(status, &json!({ "result": "error", "message": message }))
        }
    }
}

/// View access to at least one website (what `API.getMatomoVersion` asks in Matomo 5).
fn some_view_access(state: &State, caller: &Caller) -> Result<(), String> {
    if caller.is_superuser() || state.sites.iter().any(|site| caller.can_view(site.id)) {
        Ok(())
    } else {
        Err(format!("{NO_ACCESS} 'view' access for at least one website."))
    }
}

/// Matomo's answer to a successful change.
fn success() -> Value {
    json!({ "result": "success", "message": "ok" })
}

/// The non-empty value of a required parameter.
fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, String> {
    params.get(name).filter(|value| !value.is_empty()).ok_or_else(|| format!("Please specify a value for '{name}'."))
}

fn superuser(caller: &Caller) -> Result<(), String> {
    if caller.is_superuser() {
        Ok(())
    } else {
        Err(format!("{NO_ACCESS} 'superuser' access."))
    }
}

/// The existing site `id`.
fn site<'a>(state: &'a State, id: &str) -> Result<&'a Site, String> {
    id.trim()
        .parse()
        .ok()
        .and_then(|id| state.site(id))
        .ok_or_else(|| format!("An unexpected website was found in the request: website id was set to '{id}' ."))
}

/// The existing site `id`, which the caller may view. As in Matomo, access is checked first: a user who is not a
/// superuser gets the same refusal (401) for a site that does not exist as for a site of someone else; only a
/// superuser learns that the site does not exist (200 `result: error`).
fn viewable_site<'a>(state: &'a State, caller: &Caller, id: &str) -> Result<&'a Site, String> {
    if !caller.is_superuser() {
        let number: Option<u32> = id.trim().parse().ok();
        if !number.is_some_and(|n| caller.can_view(n)) {
            let shown = number.map_or_else(|| id.trim().to_owned(), |n| n.to_string());
            return Err(format!("{NO_ACCESS} 'view' access for the website id = {shown}."));
        }
    }
    site(state, id)
}

/// A site as SitesManager shows it (`idsite` is a string, as in Matomo).
fn site_json(site: &Site) -> Value {
    json!({ "idsite": site.id.to_string(), "name": site.name, "main_url": site.main_url, "timezone": site.timezone })
}

/// `SitesManager.addSite`.
fn add_site(state: &mut State, caller: &Caller, params: &Params) -> Result<Value, String> {
    superuser(caller)?;
    let name = required(params, "siteName")?;
    let timezone = params.get("timezone").filter(|timezone| !timezone.is_empty()).unwrap_or("UTC");
    let zone = Zone::parse(timezone).ok_or_else(|| {
        format!(
            "The timezone '{timezone}' is not valid (the contract server knows UTC, UTC+N, UTC-N and Area/City names)."
        )
    })?;
    let url = ["urls", "urls[]", "urls[0]"].iter().find_map(|name| params.get(name)).unwrap_or("");
    Ok(json!({ "value": state.add_site(name, timezone, zone, url) }))
}

/// `UsersManager.addUser`.
fn add_user(state: &mut State, caller: &Caller, params: &Params) -> Result<Value, String> {
    superuser(caller)?;
    let (login, password, email) =
        (required(params, "userLogin")?, required(params, "password")?, required(params, "email")?);
    if !(2..=100).contains(&login.len()) || !login.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.@+".contains(&b)) {
        return Err(format!("The login '{login}' must be 2 to 100 letters, digits or characters among _ - . @ +."));
    }
    if password.chars().count() < 6 {
        return Err("The password must be at least 6 characters long.".to_owned());
    }
    if !email.contains('@') {
        return Err(format!("The email '{email}' doesn't have a valid format."));
    }
    if state.users.contains_key(login) {
        return Err(format!("Username '{login}' already exists."));
    }
    if state.users.values().any(|user| user.email == email) {
        return Err(format!("User with email '{email}' already exists."));
    }
    let mut access = BTreeMap::new();
    if let Some(id) = params.get("initialIdSite").filter(|id| !id.is_empty()) {
        access.insert(site(state, id)?.id, Level::View);
    }
    let user = User { password: password.to_owned(), email: email.to_owned(), access };
    state.users.insert(login.to_owned(), user);
    Ok(success())
}

/// `UsersManager.setUserAccess`.
fn set_user_access(state: &mut State, caller: &Caller, params: &Params) -> Result<Value, String> {
    superuser(caller)?;
    let (login, access, ids) =
        (required(params, "userLogin")?, required(params, "access")?, required(params, "idSites")?);
    let level = match access {
        "noaccess" => None,
        other => Some(Level::parse(other).ok_or_else(|| {
            format!("The access '{other}' must be one of the following values: [ noaccess, view, write, admin ].")
        })?),
    };
    let sites: Vec<u32> = match ids {
        "all" => state.sites.iter().map(|site| site.id).collect(),
        ids => ids.split(',').map(|id| site(state, id).map(|site| site.id)).collect::<Result<_, _>>()?,
    };
    let user = state.users.get_mut(login).ok_or_else(|| format!("User '{login}' doesn't exist."))?;
    for site in sites {
        match level {
            Some(level) => user.access.insert(site, level),
            None => user.access.remove(&site),
        };
    }
    Ok(success())
}

/// `UsersManager.createAppSpecificTokenAuth`: authenticated by `userLogin` and `passwordConfirmation`.
fn create_token(state: &mut State, params: &Params) -> Result<Value, String> {
    let (login, password) = (required(params, "userLogin")?, required(params, "passwordConfirmation")?);
    required(params, "description")?;
    if state.users.get(login).is_none_or(|user| user.password != password) {
        return Err("The current password you entered is not correct.".to_owned());
    }
    Ok(json!({ "value": state.add_user_token(login) }))
}

/// An archived report.
#[derive(Clone, Copy)]
enum Report {
    /// `VisitsSummary.get`.
    Visits,
    /// `VisitFrequency.get`.
    Frequency,
    /// `Events.getCategory`, `getAction` or `getName`.
    Events(EventDim),
}

/// `idSite` (one id, `all` or a comma list), `period` and `date`: one result, or one per site keyed by id.
fn report(state: &State, caller: &Caller, params: &Params, report: Report) -> Result<Value, String> {
    let id = required(params, "idSite")?;
    let sites = match id {
        "all" => Some(state.sites.iter().filter(|site| caller.can_view(site.id)).collect()),
        list if list.contains(',') => {
            Some(list.split(',').map(|id| viewable_site(state, caller, id)).collect::<Result<Vec<_>, _>>()?)
        }
        _ => None,
    };
    let (period, date) = (required(params, "period")?, required(params, "date")?);
    if params.get("segment").is_some_and(|segment| !segment.is_empty()) {
        return Err("Segments are only supported by Live.getLastVisitsDetails in the contract server.".to_owned());
    }
    let flat = params.get("flat") == Some("1");
    let page = Page::parse(params)?;
    let pattern = match params.get("filter_pattern").filter(|p| !p.is_empty()) {
        Some(p) => Some(Pattern::parse(p)?),
        None => None,
    };
    let for_site = |site: &Site| -> Result<Value, String> {
        let compute = |from, to| match report {
            Report::Visits => visits_summary(state, site, from, to, period == "range"),
            Report::Frequency => visit_frequency(state, site, from, to, period == "range"),
            Report::Events(dimension) => events(state, site, (from, to), dimension, flat, page, pattern.as_ref()),
        };
        Ok(match Window::resolve(period, date, today(state, site))? {
            Window::One(from, to) => compute(from, to),
            Window::PerDay(from, to) => {
                (from.0..=to.0).map(|day| (Day(day).to_string(), compute(Day(day), Day(day)))).collect()
            }
        })
    };
    match sites {
        None => for_site(viewable_site(state, caller, id)?),
        Some(sites) => sites
            .into_iter()
            .map(|site| Ok((site.id.to_string(), for_site(site)?)))
            .collect::<Result<Map<_, _>, String>>()
            .map(Value::Object),
    }
}

/// The current day in the site's time zone.
fn today(state: &State, site: &Site) -> Day {
    site.zone.day_of(state.now() as i64)
}

/// Whether the instant `t` falls on one of the days `from..=to` of the site.
fn on_days(site: &Site, t: u64, (from, to): (Day, Day)) -> bool {
    (from..=to).contains(&site.zone.day_of(t as i64))
}

/// A count, as an integer or as a string.
fn count(n: u64, as_string: bool) -> Value {
    if as_string {
        Value::String(n.to_string())
    } else {
        json!(n)
    }
}

/// A number as Matomo prints it: integral values without a fraction.
fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// `x` rounded to `decimals` decimals.
fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

/// `VisitsSummary.get` for one site and days: visits (of the archived hits) whose last action falls on those
/// days. `[]` when there are none; counts are strings when `as_strings` (period=range).
fn visits_summary(state: &State, site: &Site, from: Day, to: Day, as_strings: bool) -> Value {
    // Per visit: actions, first and last action times.
    let mut visits: BTreeMap<u64, (u64, u64, u64)> = BTreeMap::new();
    for hit in state.archived_hits(site.id) {
        let visit = visits.entry(hit.visit).or_insert((0, hit.time, hit.time));
        *visit = (visit.0 + 1, visit.1.min(hit.time), visit.2.max(hit.time));
    }
    let counted: Vec<(u64, (u64, u64, u64))> =
        visits.into_iter().filter(|&(_, (_, _, last))| on_days(site, last, (from, to))).collect();
    if counted.is_empty() {
        return json!([]);
    }
    // Unique visitors: distinct `idvisitor` of the visits counted. Matomo processes them for days, weeks and months,
    // not for ranges (`enable_processing_unique_visitors_range = 0`).
    let visitors = unique_visitors(state, counted.iter().map(|(id, _)| *id));
    let counted: Vec<(u64, u64, u64)> = counted.into_iter().map(|(_, figures)| figures).collect();
    let nb_visits = counted.len() as u64;
    let nb_actions: u64 = counted.iter().map(|visit| visit.0).sum();
    let bounces = counted.iter().filter(|visit| visit.0 == 1).count() as u64;
    let length: u64 = counted.iter().map(|&(_, first, last)| last - first).sum();
    let max_actions = counted.iter().map(|visit| visit.0).max().unwrap_or(0);
    let n = |value| count(value, as_strings);
    let mut out = json!({
        "nb_visits": n(nb_visits),
        "nb_actions": n(nb_actions),
        "nb_visits_converted": n(0),
        "bounce_count": n(bounces),
        "sum_visit_length": n(length),
        "max_actions": n(max_actions),
        "bounce_rate": format!("{}%", round(bounces as f64 * 100.0 / nb_visits as f64, 0)),
        "nb_actions_per_visit": number(round(nb_actions as f64 / nb_visits as f64, 1)),
        "avg_time_on_site": n(length / nb_visits),
    });
    if !as_strings {
        out["nb_uniq_visitors"] = n(visitors);
    }
    out
}

/// The visit `id` (from 1).
fn visit_of(state: &State, id: u64) -> Option<&Visit> {
    state.visits.get((id as usize).checked_sub(1)?)
}

/// Distinct visitor ids among these visits.
fn unique_visitors(state: &State, visits: impl Iterator<Item = u64>) -> u64 {
    visits.filter_map(|id| visit_of(state, id)).map(|visit| visit.visitor.as_str()).collect::<BTreeSet<_>>().len()
        as u64
}

/// `VisitFrequency.get` for one site and days: the visits of returning visitors (`visitCount` > 1) and of new
/// ones, with their unique visitors (days only, as `VisitsSummary.get`). Counts are strings with period=range.
fn visit_frequency(state: &State, site: &Site, from: Day, to: Day, as_strings: bool) -> Value {
    let mut last: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for hit in state.archived_hits(site.id) {
        let visit = last.entry(hit.visit).or_insert((0, hit.time));
        *visit = (visit.0 + 1, visit.1.max(hit.time));
    }
    let counted: Vec<(&Visit, u64)> = last
        .into_iter()
        .filter(|&(_, (_, last))| on_days(site, last, (from, to)))
        .filter_map(|(id, (actions, _))| Some((visit_of(state, id)?, actions)))
        .collect();
    if counted.is_empty() {
        return json!([]);
    }
    let n = |value| count(value, as_strings);
    let mut out = Map::new();
    for (suffix, returning) in [("returning", true), ("new", false)] {
        let part: Vec<&(&Visit, u64)> = counted.iter().filter(|(visit, _)| visit.returning() == returning).collect();
        out.insert(format!("nb_visits_{suffix}"), n(part.len() as u64));
        out.insert(format!("nb_actions_{suffix}"), n(part.iter().map(|(_, actions)| actions).sum()));
        if !as_strings {
            let ids: BTreeSet<&str> = part.iter().map(|(visit, _)| visit.visitor.as_str()).collect();
            out.insert(format!("nb_uniq_visitors_{suffix}"), n(ids.len() as u64));
        }
    }
    Value::Object(out)
}

/// An event dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EventDim {
    /// `e_c`, `eventCategory`.
    Category,
    /// `e_a`, `eventAction`.
    Action,
    /// `e_n`, `eventName`.
    Name,
}

impl EventDim {
    /// The dimension of this report's subtables, Matomo's default secondary dimension.
    fn secondary(self) -> EventDim {
        match self {
            EventDim::Category | EventDim::Name => EventDim::Action,
            EventDim::Action => EventDim::Name,
        }
    }

    /// The hit's value for this dimension, if set.
    fn value(self, hit: &StoredHit) -> Option<&str> {
        let name = match self {
            EventDim::Category => "e_c",
            EventDim::Action => "e_a",
            EventDim::Name => "e_n",
        };
        hit.param(name).filter(|value| !value.is_empty())
    }

    /// The label of an event hit in a report of this dimension.
    fn label(self, hit: &StoredHit) -> &str {
        self.value(hit).unwrap_or("Event name not defined")
    }
}

/// The numeric `e_v` of a hit, if any.
fn event_value(hit: &StoredHit) -> Option<f64> {
    hit.param("e_v").and_then(|value| value.parse::<f64>().ok()).filter(|value| value.is_finite())
}

/// Figures of one row of an Events report.
#[derive(Default)]
struct EventRow {
    events: u64,
    visits: BTreeSet<u64>,
    with_value: u64,
    sum: f64,
    min: Option<f64>,
    max: Option<f64>,
}

/// `Events.get*` for one site and days: rows by label (`"parent - child"` when `flat`), most events first. Counts
/// are strings when `flat`.
fn events(
    state: &State,
    site: &Site,
    days: (Day, Day),
    dimension: EventDim,
    flat: bool,
    page: Page,
    pattern: Option<&Pattern>,
) -> Value {
    let mut rows: BTreeMap<String, EventRow> = BTreeMap::new();
    let hits = state.archived_hits(site.id).filter(|hit| hit.event().is_some() && on_days(site, hit.time, days));
    for hit in hits {
        let label = if flat {
            format!("{} - {}", dimension.label(hit), dimension.secondary().label(hit))
        } else {
            dimension.label(hit).to_owned()
        };
        let row = rows.entry(label).or_default();
        row.events += 1;
        row.visits.insert(hit.visit);
        if let Some(value) = event_value(hit) {
            row.with_value += 1;
            row.sum += value;
            row.min = Some(row.min.map_or(value, |min| min.min(value)));
            row.max = Some(row.max.map_or(value, |max| max.max(value)));
        }
    }
    // Matomo applies generic filters after flattening: `filter_pattern` sees the flat labels.
    let mut rows: Vec<_> = rows.into_iter().filter(|(label, _)| pattern.is_none_or(|p| p.matches(label))).collect();
    rows.sort_by_key(|(_, row)| std::cmp::Reverse(row.events)); // stable: ties stay in label order
    let rows = rows.into_iter().enumerate().map(|(index, (label, row))| {
        let mut out = json!({
            "label": label,
            "nb_visits": count(row.visits.len() as u64, flat),
            "nb_events": count(row.events, flat),
            "nb_events_with_value": count(row.with_value, flat),
            "sum_event_value": number(row.sum),
            "min_event_value": number(row.min.unwrap_or(0.0)),
            "max_event_value": number(row.max.unwrap_or(0.0)),
            "avg_event_value": number(round(row.sum / row.with_value.max(1) as f64, 2)),
        });
        if !flat {
            out["idsubdatatable"] = json!(index + 1);
        }
        out
    });
    Value::Array(page.apply(rows))
}

/// `filter_pattern`, Matomo's generic filter on the label: a case-insensitive regular expression
/// (`preg_match('/' . $pattern . '/i', $label)`). The contract server takes the patterns a client of the borne
/// needs, literal text with an optional `^` and `$`, and refuses any other (so a client cannot rely on more).
struct Pattern {
    text: String,
    start: bool,
    end: bool,
}

impl Pattern {
    fn parse(pattern: &str) -> Result<Pattern, String> {
        let (start, rest) = pattern.strip_prefix('^').map_or((false, pattern), |r| (true, r));
        let (end, text) = rest.strip_suffix('$').map_or((false, rest), |r| (true, r));
        if text.chars().any(|c| ".*+?()[]{}|\\^$/".contains(c)) {
            return Err(format!(
                "The filter_pattern '{pattern}' is not supported by the contract server (literal text, optional ^ and $)."
            ));
        }
        Ok(Pattern { text: text.to_lowercase(), start, end })
    }

    fn matches(&self, label: &str) -> bool {
        let label = label.to_lowercase();
        match (self.start, self.end) {
            (true, true) => label == self.text,
            (true, false) => label.starts_with(&self.text),
            (false, true) => label.ends_with(&self.text),
            (false, false) => label.contains(&self.text),
        }
    }
}

/// `filter_offset` and `filter_limit` (`-1`: no limit).
#[derive(Clone, Copy)]
struct Page {
    offset: usize,
    limit: Option<usize>,
}

impl Page {
    fn parse(params: &Params) -> Result<Page, String> {
        let number = |name: &str, value: &str| value.parse().map_err(|_| format!("{name}: '{value}' is not a number."));
        let limit = match params.get("filter_limit").filter(|value| !value.is_empty()) {
            None => Some(DEFAULT_LIMIT),
            Some("-1") => None,
            Some(value) => Some(number("filter_limit", value)?),
        };
        let offset = match params.get("filter_offset").filter(|value| !value.is_empty()) {
            None => 0,
            Some(value) => number("filter_offset", value)?,
        };
        Ok(Page { offset, limit })
    }

    fn apply<T>(self, rows: impl Iterator<Item = T>) -> Vec<T> {
        rows.skip(self.offset).take(self.limit.unwrap_or(usize::MAX)).collect()
    }
}

/// How a segment condition compares: Matomo's `==`, `=^` (starts with) and `=@` (contains).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Match {
    /// `==`.
    Equals,
    /// `=^`.
    StartsWith,
    /// `=@`.
    Contains,
}

impl Match {
    fn accepts(self, value: Option<&str>, wanted: &str) -> bool {
        value.is_some_and(|value| match self {
            Match::Equals => value == wanted,
            Match::StartsWith => value.starts_with(wanted),
            Match::Contains => value.contains(wanted),
        })
    }
}

/// A segment: conditions `dimension==value`, `dimension=^value` or `dimension=@value` that one action of the visit
/// must all meet.
fn parse_segment(segment: &str) -> Result<Vec<(EventDim, Match, String)>, String> {
    let unsupported = || {
        format!(
            "The segment '{segment}' is not supported by the contract server \
             (eventCategory, eventAction, eventName with ==, =^ or =@, joined by ';')."
        )
    };
    segment
        .split(';')
        .map(|condition| {
            let (name, how, value) = [("==", Match::Equals), ("=^", Match::StartsWith), ("=@", Match::Contains)]
                .iter()
                .find_map(|(op, how)| condition.split_once(op).map(|(name, value)| (name, *how, value)))
                .ok_or_else(unsupported)?;
            let dimension = match name {
                "eventCategory" => EventDim::Category,
                "eventAction" => EventDim::Action,
                "eventName" => EventDim::Name,
                _ => return Err(unsupported()),
            };
            if value.contains(',') {
                return Err(unsupported()); // an OR in Matomo's syntax
            }
            Ok((dimension, how, percent_decode_str(value).decode_utf8_lossy().into_owned()))
        })
        .collect()
}

/// `Live.getLastVisitsDetails`: the visits of one site (every stored hit, no archive lag), last action first,
/// with all their actions; with a segment, only the visits with a matching action.
fn live(state: &State, caller: &Caller, params: &Params) -> Result<Value, String> {
    let site = viewable_site(state, caller, required(params, "idSite")?)?;
    let conditions = match params.get("segment").filter(|segment| !segment.is_empty()) {
        Some(segment) => parse_segment(segment)?,
        None => Vec::new(),
    };
    let days = match (params.get("period"), params.get("date")) {
        (None, None) => None,
        (Some(period), Some(date)) => Some(Window::resolve(period, date, today(state, site))?.bounds()),
        _ => return Err("Live.getLastVisitsDetails takes both period and date, or neither.".to_owned()),
    };
    let page = Page::parse(params)?;
    let mut actions: BTreeMap<u64, Vec<&StoredHit>> = BTreeMap::new();
    for hit in state.site_hits(site.id) {
        actions.entry(hit.visit).or_default().push(hit);
    }
    let matches = |hit: &StoredHit| {
        hit.event().is_some()
            && conditions.iter().all(|(dimension, how, value)| how.accepts(dimension.value(hit), value))
    };
    let mut visits: Vec<(&Visit, Vec<&StoredHit>)> = state
        .visits
        .iter()
        .filter(|visit| visit.site == site.id && days.is_none_or(|days| on_days(site, visit.last, days)))
        .filter_map(|visit| Some((visit, actions.remove(&visit.id)?)))
        .filter(|(_, hits)| conditions.is_empty() || hits.iter().any(|hit| matches(hit)))
        .collect();
    visits.sort_by(|(a, _), (b, _)| b.last.cmp(&a.last).then(b.id.cmp(&a.id)));
    let visits = visits.into_iter().map(|(visit, mut hits)| {
        hits.sort_by_key(|hit| hit.time);
        visit_json(site, visit, &hits)
    });
    Ok(Value::Array(page.apply(visits)))
}

/// A visit as Live shows it: `actions` is a string, `idVisit` and timestamps are integers, the IP is anonymized
/// (last byte zeroed).
fn visit_json(site: &Site, visit: &Visit, hits: &[&StoredHit]) -> Value {
    let ip = hits.first().map_or("127.0.0.1", |hit| hit.ip.as_str());
    let ip = match ip.parse::<Ipv4Addr>() {
        Ok(ip) => {
            let [a, b, c, _] = ip.octets();
            format!("{a}.{b}.{c}.0")
        }
        Err(_) => ip.to_owned(),
    };
    let (first, last) = (visit.first as i64, visit.last as i64);
    json!({
        "idSite": site.id,
        "idVisit": visit.id,
        "visitorId": visit.visitor,
        "visitorType": if visit.returning() { "returning" } else { "new" },
        "visitCount": visit.count,
        "visitIp": ip,
        // As Matomo's Live plugin computes them: `serverDate`, `lastActionDateTime` and the two timestamps from the
        // stored UTC times; the "pretty" strings in the site's zone.
        "serverDate": datetime(last)[..10],
        "lastActionDateTime": datetime(last),
        "firstActionTimestamp": visit.first,
        "lastActionTimestamp": visit.last,
        "serverTimestamp": visit.last,
        "serverDatePretty": datetime(site.zone.shifted(last))[..10],
        "serverTimePretty": datetime(site.zone.shifted(last))[11..],
        "serverDatePrettyFirstAction": datetime(site.zone.shifted(first))[..10],
        "serverTimePrettyFirstAction": datetime(site.zone.shifted(first))[11..],
        "actions": hits.len().to_string(),
        "actionDetails": hits.iter().map(|hit| action_json(site, hit)).collect::<Vec<_>>(),
    })
}

/// One action of a visit: an event (`eventName` and `eventValue` only when set), or another action. Its
/// `timestamp` and `serverTimePretty` are the site's local wall time, as Matomo's Actions plugin gives them
/// (`Date::factory($serverTime, $timezone)->getTimestamp()`): the stored UTC time plus the zone's offset at that
/// instant, so 3 600 s later for Paris in winter and the same value for two hours the night clocks go back.
fn action_json(site: &Site, hit: &StoredHit) -> Value {
    let local = site.zone.shifted(hit.time as i64);
    let Some((category, action)) = hit.event() else {
        return json!({
            "type": "action",
            "url": hit.param("url").unwrap_or(""),
            "pageTitle": hit.param("action_name").unwrap_or(""),
            "timestamp": local,
            "serverTimePretty": datetime(local),
        });
    };
    let mut out = json!({ "type": "event", "eventCategory": category, "eventAction": action, "timestamp": local,
        "serverTimePretty": datetime(local) });
    if let Some(name) = EventDim::Name.value(hit) {
        out["eventName"] = json!(name);
    }
    if let Some(value) = event_value(hit) {
        out["eventValue"] = number(value);
    }
    out
}
