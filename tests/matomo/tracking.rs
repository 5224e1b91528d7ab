//! The tracking API, `GET`/`POST /matomo.php`: one hit (query string or form body), or a bulk of hits (JSON body).

use serde_json::{json, Value};

use super::http::{Params, Request, Response};
use super::server::Reply;
use super::store::{is_visitor_id, Caller, Injected, NewHit, State};
use super::time::parse_cdt;

/// Matomo's answer to one hit: a 1x1 transparent GIF.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00\x21\xf9\x04\x01\x00\x00\x00\x00\
\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b";

/// The body of a [`super::Fault::Garbage`] answer: PHP noise, not JSON.
const GARBAGE: &str = "<br />\n<b>Warning</b>:  Cannot modify header information - headers already sent by \
(output started at /var/www/matomo/core/Tracker.php:321)<br />\n";

/// Hits older than this (seconds) need a token with write access to their site.
const OLD_HIT: u64 = 24 * 3600;

/// Handles a request to `/matomo.php`, after the fault plan.
pub(crate) fn handle(state: &mut State, req: &Request) -> Reply {
    let bulk = req.method == "POST" && req.has_media_type("application/json");
    let injected = state.next_tracking_fault();
    let response = match injected {
        Injected::CutBeforeStore => return Reply::Cut,
        Injected::Fail500 => {
            let error =
                json!({"status": "error", "message": "Internal Server Error (injected by the contract server)"});
            return Reply::Send(Response::json(500, &error));
        }
        Injected::StoreDown if bulk => {
            let error = json!({"status": "error", "message": database_down()});
            return Reply::Send(Response::json(500, &error));
        }
        Injected::StoreDown => return Reply::Send(Response::text(400, &database_down())),
        Injected::Garbage { stored: false } => return Reply::Send(Response::html(200, GARBAGE)),
        Injected::Nothing | Injected::Garbage { stored: true } | Injected::CutAfterStore if bulk => {
            bulk_hits(state, req)
        }
        Injected::Nothing | Injected::Garbage { stored: true } | Injected::CutAfterStore => single_hit(state, req),
    };
    match injected {
        Injected::CutAfterStore => Reply::Cut,
        Injected::Garbage { .. } => Reply::Send(Response::html(200, GARBAGE)),
        _ => Reply::Send(response),
    }
}

/// Message of the errors of [`super::Fault::StoreDown`].
pub(crate) fn database_down() -> String {
    "SQLSTATE[HY000] [2002] Connection refused: the database is down (contract server fault StoreDown)".to_owned()
}

/// One hit: 200 GIF (204 with `send_image=0`), 400 when refused.
fn single_hit(state: &mut State, req: &Request) -> Response {
    let mut params = Params::default();
    if req.method == "POST" && req.has_media_type("application/x-www-form-urlencoded") {
        params = Params::parse(&req.body);
    }
    params.extend(Params::parse(req.query.as_bytes()));
    if params.get("idsite").is_none() && params.get("rec").is_none() {
        return Response::html(200, "This resource is part of Matomo. Keep full control of your data with Matomo.");
    }
    let caller = params.get("token_auth").and_then(|token| state.caller(token));
    let no_image = params.get("send_image") == Some("0");
    match accept(state, params, caller.as_ref(), req.header("user-agent").unwrap_or("")) {
        Err(message) => Response::text(400, &message),
        Ok(hit) => {
            if let Some(hit) = hit {
                state.store(hit);
            }
            if no_image {
                Response::no_content()
            } else {
                Response { status: 200, content_type: Some("image/gif"), body: GIF.to_vec() }
            }
        }
    }
}

/// A bulk request: every valid entry is stored, in one step.
fn bulk_hits(state: &mut State, req: &Request) -> Response {
    let query = Params::parse(req.query.as_bytes());
    let counts = |tracked: usize, invalid: &[usize], superuser: bool| {
        let mut answer = json!({"status": "success", "tracked": tracked, "invalid": invalid.len()});
        if superuser {
            answer["invalid_indices"] = json!(invalid);
        }
        Response::json(200, &answer)
    };
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else { return counts(0, &[], false) };
    let Some(entries) = body.get("requests").and_then(Value::as_array) else { return counts(0, &[], false) };
    // A bad token counts as none; each entry may carry its own token when the batch has none.
    let token = body.get("token_auth").and_then(Value::as_str).or(query.get("token_auth")).filter(|t| !t.is_empty());
    let caller = token.and_then(|token| state.caller(token));
    let user_agent = req.header("user-agent").unwrap_or("");

    let (mut tracked, mut invalid, mut accepted) = (0, Vec::new(), Vec::new());
    for (index, entry) in entries.iter().enumerate() {
        let Some(entry) = entry.as_str().and_then(|entry| entry.strip_prefix('?')) else { continue };
        let params = Params::parse(entry.as_bytes());
        let entry_caller = match token {
            Some(_) => None,
            None => params.get("token_auth").and_then(|token| state.caller(token)),
        };
        match accept(state, params, caller.as_ref().or(entry_caller.as_ref()), user_agent) {
            Ok(hit) => {
                tracked += 1;
                accepted.extend(hit);
            }
            Err(_) => invalid.push(index),
        }
    }
    for hit in accepted {
        state.store(hit);
    }
    let no_image = body.get("send_image").is_some_and(|v| *v == 0 || *v == "0");
    if no_image || query.get("send_image") == Some("0") {
        return Response::no_content();
    }
    counts(tracked, &invalid, caller.as_ref().is_some_and(Caller::is_superuser))
}

/// Checks one hit: `Err` when invalid (unknown site, unreadable or too old `cdt`/`cdo` without a token with write
/// access to the site), `Ok(None)` when tracked but not stored (no `rec=1`), else the hit to store.
fn accept(state: &State, params: Params, caller: Option<&Caller>, user_agent: &str) -> Result<Option<NewHit>, String> {
    let idsite = params.get("idsite").unwrap_or("");
    let site = idsite
        .parse::<u32>()
        .ok()
        .filter(|id| state.site(*id).is_some())
        .ok_or_else(|| format!("Invalid idSite: '{idsite}'"))?;
    let now = state.now();
    let mut time = match params.get("cdt").filter(|cdt| !cdt.is_empty()) {
        Some(cdt) => {
            parse_cdt(cdt).and_then(|t| u64::try_from(t).ok()).ok_or_else(|| format!("Invalid cdt '{cdt}'"))?
        }
        None => now,
    };
    if let Some(cdo) = params.get("cdo").filter(|cdo| !cdo.is_empty()) {
        time = time.saturating_sub(cdo.parse::<u64>().map_err(|_| format!("Invalid cdo '{cdo}'"))?);
    }
    let time = time.min(now);
    if now - time > OLD_HIT && !caller.is_some_and(|caller| caller.can_write(site)) {
        let age = now - time;
        return Err(format!(
            "Custom timestamp is {age} seconds old, requires a token_auth with write access to site {site}"
        ));
    }
    // `cid` forces the visitor id; like the other "trusted" parameters it needs a token with write access to the
    // site, and is ignored without one. A `cid` that is not 16 hex digits makes the hit invalid.
    let forced_visitor = match params.get("cid").filter(|cid| !cid.is_empty()) {
        Some(cid) if !is_visitor_id(cid) => return Err(format!("Visitor ID (cid) {cid} must be 16 characters long")),
        Some(cid) if caller.is_some_and(|caller| caller.can_write(site)) => Some(cid.to_ascii_lowercase()),
        _ => None,
    };
    if params.get("rec") != Some("1") {
        return Ok(None);
    }
    let ip = match params.get("cip") {
        Some(cip) if caller.is_some_and(Caller::is_superuser) => cip.to_owned(),
        _ => "127.0.0.1".to_owned(),
    };
    let user_agent = params.get("ua").unwrap_or(user_agent).to_owned();
    Ok(Some(NewHit { site, time, ip, user_agent, params: params.into_pairs(), forced_visitor }))
}
