//! The contract server through HTTP, with a tiny client on `std::net`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::time::parse_cdt;
use super::*;

const SUPER: &str = "super-token";

/// Unix seconds of a UTC `YYYY-MM-DD HH:MM:SS`.
fn at(date: &str) -> u64 {
    parse_cdt(date).unwrap() as u64
}

/// The server's "now" in these tests: Monday 2 November 2026, 12:00 UTC (13:00 in Paris).
fn now() -> u64 {
    at("2026-11-02 12:00:00")
}

/// A server at [`now`] with sites 1 and 2 in Europe/Paris and the superuser token [`SUPER`].
fn server() -> ContractServer {
    let server = ContractServer::start();
    server.set_now(Some(now()));
    assert_eq!(server.add_site("borne-1", "Europe/Paris"), 1);
    assert_eq!(server.add_site("borne-2", "Europe/Paris"), 2);
    server.add_token(SUPER, Role::SuperUser);
    server
}

/// An HTTP answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

fn connect(server: &ContractServer) -> BufReader<TcpStream> {
    BufReader::new(TcpStream::connect(server.addr).unwrap())
}

/// Reads one answer (`Content-Length` bodies); None when the connection closes before any byte.
fn read_answer(reader: &mut BufReader<TcpStream>) -> Option<Answer> {
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return None;
    }
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length = headers.iter().find(|(n, _)| n == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    Some(Answer { status, headers, body })
}

/// Sends raw bytes on a new connection and reads the answer.
fn exchange(server: &ContractServer, raw: &[u8]) -> Option<Answer> {
    let mut connection = connect(server);
    connection.get_mut().write_all(raw).unwrap();
    read_answer(&mut connection)
}

fn raw_request(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    [head.as_bytes(), body].concat()
}

fn request(
    server: &ContractServer,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<Answer> {
    let headers = [headers, &[("Connection", "close")]].concat();
    exchange(server, &raw_request(method, target, &headers, body))
}

fn get(server: &ContractServer, target: &str) -> Answer {
    request(server, "GET", target, &[], b"").expect("an answer")
}

fn post_form(server: &ContractServer, target: &str, form: &str) -> Answer {
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    request(server, "POST", target, &headers, form.as_bytes()).expect("an answer")
}

fn bulk_raw(server: &ContractServer, body: &[u8]) -> Option<Answer> {
    request(server, "POST", "/matomo.php", &[("Content-Type", "application/json")], body)
}

fn bulk(server: &ContractServer, body: &Value) -> Answer {
    bulk_raw(server, body.to_string().as_bytes()).expect("an answer")
}

/// A bulk answer's JSON, checking it is a 200.
fn bulk_json(server: &ContractServer, body: &Value) -> Value {
    let answer = bulk(server, body);
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.json()
}

fn api(server: &ContractServer, query: &str) -> Answer {
    get(server, &format!("/index.php?module=API&format=JSON&{query}"))
}

fn api_json(server: &ContractServer, query: &str) -> Value {
    let answer = api(server, query);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.header("content-type").unwrap().starts_with("application/json"));
    answer.json()
}

/// A refusal of access, as Matomo's `NoAccessException` answers it: 401 with the error in JSON.
fn refused(server: &ContractServer, query: &str) -> String {
    let answer = api(server, query);
    assert_eq!(answer.status, 401, "{answer:?}");
    assert!(answer.header("content-type").unwrap().starts_with("application/json"));
    let value = answer.json();
    assert!(is_error(&value), "{value}");
    value["message"].as_str().unwrap_or("").to_owned()
}

fn counts(tracked: u64, invalid: u64) -> Value {
    json!({"status": "success", "tracked": tracked, "invalid": invalid})
}

fn is_error(value: &Value) -> bool {
    value["result"] == "error" && value["message"].as_str().is_some_and(|m| !m.is_empty())
}

/// A bulk entry for an event hit.
fn event(site: u32, category: &str, action: &str, extra: &str) -> String {
    format!("?idsite={site}&rec=1&e_c={category}&e_a={action}{extra}")
}

#[test]
fn bulk_counts_tracked_and_invalid_entries_and_drops_entries_without_question_mark() {
    let s = server();
    let requests = json!([
        event(1, "a", "b", ""),
        "idsite=1&rec=1&e_c=x&e_a=y",
        event(9, "a", "b", ""),
        42,
        event(2, "a", "b", "")
    ]);
    assert_eq!(bulk_json(&s, &json!({ "requests": requests })), counts(2, 1));
    assert_eq!((s.hits(1).len(), s.hits(2).len()), (1, 1));
    assert!(!s.events(1).contains_key(&("x".into(), "y".into())));

    let mut expected = counts(2, 1);
    expected["invalid_indices"] = json!([2]);
    assert_eq!(bulk_json(&s, &json!({ "requests": requests, "token_auth": SUPER })), expected);
    assert_eq!(s.tracking_requests(), 2);
}

#[test]
fn old_hits_need_a_token_with_write_access_to_their_site() {
    let s = server();
    s.add_token("write-1", Role::Write(1));
    s.add_token("view-1", Role::View(1));
    let old = "&cdt=2026-10-30%2010:00:00";
    let recent = "&cdt=2026-11-01%2013:00:00"; // 23 h ago
    let batch = |site: u32, token: Option<&str>| {
        let requests = [event(site, "c", "old", old), event(site, "c", "recent", recent)];
        json!({ "requests": requests, "token_auth": token })
    };
    assert_eq!(bulk_json(&s, &batch(1, None)), counts(1, 1));
    assert_eq!(bulk_json(&s, &batch(1, Some("write-1"))), counts(2, 0));
    assert_eq!(bulk_json(&s, &batch(2, Some("write-1"))), counts(1, 1), "the token is scoped to site 1");
    assert_eq!(bulk_json(&s, &batch(1, Some("view-1"))), counts(1, 1), "view access is not enough");
    assert_eq!(bulk_json(&s, &batch(1, Some("no-such-token"))), counts(1, 1), "a bad token counts as none");
    assert_eq!(bulk_json(&s, &batch(2, Some(SUPER)))["tracked"], 2);
    let token_in_url = request(
        &s,
        "POST",
        "/matomo.php?token_auth=write-1",
        &[("Content-Type", "application/json")],
        batch(1, None).to_string().as_bytes(),
    );
    assert_eq!(token_in_url.unwrap().json(), counts(2, 0));

    let old_times: Vec<u64> = s.hits(1).iter().filter(|h| h.param("e_a") == Some("old")).map(|h| h.time).collect();
    assert_eq!(old_times, vec![at("2026-10-30 10:00:00"); 2]);

    // cdo obeys the same rule; a future cdt becomes now; unix seconds work too.
    let requests = json!([
        event(1, "cdo", "old", "&cdo=90000"),
        event(1, "cdo", "recent", "&cdo=3600"),
        event(1, "future", "x", "&cdt=2026-11-03%2000:00:00"),
        event(1, "unix", "x", &format!("&cdt={}", now() - 100)),
    ]);
    assert_eq!(bulk_json(&s, &json!({ "requests": requests })), counts(3, 1));
    let time_of = |category: &str| s.hits(1).iter().find(|h| h.param("e_c") == Some(category)).unwrap().time;
    assert_eq!((time_of("cdo"), time_of("future"), time_of("unix")), (now() - 3600, now(), now() - 100));
}

#[test]
fn broken_json_is_a_silent_success_with_nothing_tracked() {
    let s = server();
    for body in [&b"{\"requests\": [\"?idsite=1&rec=1\""[..], b"{\"token_auth\": \"x\"}", b""] {
        let answer = bulk_raw(&s, body).unwrap();
        assert_eq!((answer.status, answer.json()), (200, counts(0, 0)));
    }
    assert!(s.hits(1).is_empty());
}

#[test]
fn send_image_0_answers_204_without_counts_but_stores() {
    let s = server();
    let answer = bulk(&s, &json!({ "requests": [event(1, "a", "b", "")], "send_image": 0 }));
    assert_eq!(answer.status, 204);
    assert!(answer.body.is_empty() && answer.header("content-type").is_none());
    assert_eq!(s.hits(1).len(), 1);
}

#[test]
fn a_hit_without_rec_is_tracked_but_not_stored() {
    let s = server();
    assert_eq!(bulk_json(&s, &json!({ "requests": ["?idsite=1&e_c=a&e_a=b"] })), counts(1, 0));
    assert!(s.hits(1).is_empty());
    assert_eq!(get(&s, "/matomo.php?idsite=1&e_c=a&e_a=b").status, 200);
    assert!(s.hits(1).is_empty());
}

#[test]
fn event_hits_need_both_category_and_action() {
    let s = server();
    let requests =
        json!(["?idsite=1&rec=1&e_c=only-category", "?idsite=1&rec=1&e_a=only-action&url=http%3A%2F%2Fx%2F"]);
    assert_eq!(bulk_json(&s, &json!({ "requests": requests })), counts(2, 0));
    assert_eq!(s.hits(1).len(), 2);
    assert!(s.events(1).is_empty() && s.hits(1).iter().all(|h| h.event().is_none()));
}

#[test]
fn store_down_fails_each_api_its_own_way() {
    let s = server();
    s.set_fault(Fault::StoreDown);
    let answer = bulk(&s, &json!({ "requests": [event(1, "a", "b", "")] }));
    assert_eq!((answer.status, &answer.json()["status"]), (500, &json!("error")));
    assert_eq!(get(&s, "/matomo.php?idsite=1&rec=1&e_c=a&e_a=b").status, 400);
    let report = api_json(&s, &format!("method=VisitsSummary.get&idSite=1&period=day&date=today&token_auth={SUPER}"));
    assert!(is_error(&report) && report["message"].as_str().unwrap().contains("database"), "{report}");
    assert!(s.hits(1).is_empty());

    s.set_fault(Fault::None);
    assert_eq!(bulk_json(&s, &json!({ "requests": [event(1, "a", "b", "")] })), counts(1, 0));
}

#[test]
fn fail500_counts_down_then_the_server_recovers() {
    let s = server();
    s.set_fault(Fault::Fail500 { times: 2 });
    let body = json!({ "requests": [event(1, "a", "b", "")] });
    for _ in 0..2 {
        let answer = bulk(&s, &body);
        assert_eq!((answer.status, &answer.json()["status"]), (500, &json!("error")));
    }
    assert!(s.hits(1).is_empty());
    assert_eq!(bulk_json(&s, &body), counts(1, 0));
}

#[test]
fn cuts_close_the_connection_without_an_answer() {
    let s = server();
    let body = json!({ "requests": [event(1, "a", "b", "")] });
    s.set_fault(Fault::CutAfterStore { times: 1 });
    assert!(bulk_raw(&s, body.to_string().as_bytes()).is_none());
    assert_eq!(s.hits(1).len(), 1, "stored before the cut");
    assert_eq!(bulk_json(&s, &body), counts(1, 0));
    assert_eq!(s.hits(1).len(), 2);

    s.set_fault(Fault::CutBeforeStore { times: 1 });
    assert!(bulk_raw(&s, body.to_string().as_bytes()).is_none());
    assert_eq!(s.hits(1).len(), 2, "nothing stored");
}

#[test]
fn garbage_answers_are_not_json() {
    let s = server();
    let body = json!({ "requests": [event(1, "a", "b", "")] });
    for (stored, expected_hits) in [(true, 1), (false, 1)] {
        s.set_fault(Fault::Garbage { times: 1, stored });
        let answer = bulk(&s, &body);
        assert_eq!(answer.status, 200);
        assert!(serde_json::from_slice::<Value>(&answer.body).is_err());
        assert_eq!(s.hits(1).len(), expected_hits);
    }
}

#[test]
fn latency_delays_every_request() {
    let s = server();
    s.set_fault(Fault::Latency(Duration::from_millis(300)));
    let start = Instant::now();
    assert_eq!(api_json(&s, &format!("method=API.getMatomoVersion&token_auth={SUPER}")), json!({"value": "5.0.2"}));
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[test]
fn visits_merge_hits_of_one_visitor_within_30_minutes() {
    let s = server();
    let hit = |time: &str, ua: &str, extra: &str| format!("?idsite=1&rec=1&ua={ua}&cdt=2026-11-02%20{time}{extra}");
    let requests = json!([
        hit("10:00:00", "A", "&_id=1111111111111111"),
        hit("10:20:00", "A", "&_id=2222222222222222"), // same visit, whatever _id says
        hit("10:51:00", "A", ""),                      // 31 min after the last action: a new visit
        hit("10:52:00", "A", "&new_visit=1"),          // forced
        hit("10:53:00", "B", ""),                      // another user agent
        hit("10:40:00", "A", ""),                      // within 30 min of the latest visit's last action (10:52)
    ]);
    assert_eq!(bulk_json(&s, &json!({ "requests": requests })), counts(6, 0));
    let visits: Vec<u64> = s.hits(1).iter().map(|h| h.visit).collect();
    assert_eq!(visits, [1, 1, 2, 3, 4, 3]);
    assert_eq!(s.visits(1), 4);

    // The User-Agent header counts when there is no `ua`.
    let headers = [("User-Agent", "kiosk/1"), ("Connection", "close")];
    request(&s, "GET", "/matomo.php?idsite=1&rec=1", &headers, b"").unwrap();
    request(&s, "GET", "/matomo.php?idsite=1&rec=1", &headers, b"").unwrap();
    let last: Vec<_> = s.hits(1).into_iter().rev().take(2).collect();
    assert_eq!((last[0].visit, last[1].visit, last[0].user_agent.as_str()), (5, 5, "kiosk/1"));
}

/// Issue 21, item 6: what a real Matomo 5 showed (745 visits under 170 visitor ids, 575 "returning") comes from
/// visitor recognition, not from visits. Sessions of one hour share their `cdt`, so without `cid` each new visit
/// is the same visitor again; with its own `cid` (and a token with write access) each visit is its own visitor.
#[test]
fn visitors_are_recognised_by_cid_or_by_ip_and_user_agent() {
    let s = server();
    s.add_token("write-1", Role::Write(1));
    let session = |hour: &str, extra: &str| {
        format!("?idsite=1&rec=1&new_visit=1&e_c=session&e_a=start&cdt=2026-11-02%20{hour}:00:00{extra}")
    };
    // Without cid: four sessions at 09:00 and three at 10:00 (an hour apart: beyond the 30 minutes).
    let plain: Vec<String> = ["09"; 4].iter().chain(["10"; 3].iter()).map(|h| session(h, "")).collect();
    assert_eq!(bulk_json(&s, &json!({ "requests": plain, "token_auth": "write-1" })), counts(7, 0));
    assert_eq!(s.visits(1), 7);
    assert_eq!(s.visitors(1), (2, 5), "two visitor ids, five visits flagged returning");
    let day = "idSite=1&period=day&date=2026-11-02";
    let summary = api_json(&s, &format!("method=VisitsSummary.get&token_auth={SUPER}&{day}"));
    assert_eq!((&summary["nb_visits"], &summary["nb_uniq_visitors"]), (&json!(7), &json!(2)));
    let frequency = api_json(&s, &format!("method=VisitFrequency.get&token_auth={SUPER}&{day}"));
    assert_eq!((&frequency["nb_visits_returning"], &frequency["nb_visits_new"]), (&json!(5), &json!(2)));
    let range = api_json(
        &s,
        &format!("method=VisitsSummary.get&token_auth={SUPER}&idSite=1&period=range&date=2026-11-01,2026-11-02"),
    );
    assert!(range.get("nb_uniq_visitors").is_none(), "Matomo processes no unique visitors for ranges: {range}");

    // With a cid each: seven visits, seven visitors, none returning; a later hit with the same cid joins its visit.
    let ids: Vec<String> = (1..=7).map(|i| format!("{i:016x}")).collect();
    let mut own: Vec<String> = ids.iter().map(|id| session("11", &format!("&cid={id}"))).collect();
    own.push(format!("?idsite=1&rec=1&e_c=tile&e_a=caf&cdt=2026-11-02%2011:00:00&cid={}", ids[2]));
    assert_eq!(bulk_json(&s, &json!({ "requests": own, "token_auth": "write-1" })), counts(8, 0));
    assert_eq!(s.visits(1), 14);
    assert_eq!(s.visitors(1), (9, 5));
    let third = s.hits(1).iter().find(|h| h.param("cid") == Some(ids[2].as_str())).unwrap().visit;
    assert_eq!(s.hits(1).last().unwrap().visit, third);
    // A hit without cid from the same IP and user agent joins the most recent visit of that config (Matomo's
    // config_id lookup), whatever cid that visit had: no new visit.
    bulk_json(
        &s,
        &json!({ "requests": [event(1, "end", "idle", "&cdt=2026-11-02%2011:00:00")], "token_auth": "write-1" }),
    );
    assert_eq!(s.visits(1), 14);
    let live = api_json(&s, &format!("method=Live.getLastVisitsDetails&token_auth={SUPER}&idSite=1&filter_limit=-1"));
    let types: Vec<&str> = live.as_array().unwrap().iter().map(|v| v["visitorType"].as_str().unwrap()).collect();
    assert_eq!(types.iter().filter(|t| **t == "returning").count(), 5);
    assert!(live.as_array().unwrap().iter().any(|v| v["visitorId"] == ids[6]));

    // cid needs a token with write access: without one it is ignored (the visitor is recognised by IP and user
    // agent again); a cid that is not 16 hex digits is invalid.
    let late = session("12", "&cid=aaaaaaaaaaaaaaaa");
    assert_eq!(bulk_json(&s, &json!({ "requests": [late.clone(), late] })), counts(2, 0));
    assert_eq!(s.visitors(1), (10, 6), "the second session is the first one's visitor again");
    assert_eq!(
        bulk_json(&s, &json!({ "requests": [session("12", "&cid=xyz")], "token_auth": "write-1" })),
        counts(0, 1)
    );
}

#[test]
fn filter_pattern_filters_flat_labels_case_insensitively() {
    let s = with_two_visits();
    let events = |pattern: &str| {
        let v = api_json(
            &s,
            &format!("method=Events.getCategory&token_auth={SUPER}&idSite=all&period=range&date=2026-11-01,today&flat=1&filter_pattern={pattern}"),
        );
        v["1"].as_array().unwrap().iter().map(|r| r["label"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(events("%5EBORNE%20-%20print%24"), ["borne - print"]);
    assert_eq!(events("%5Eborne"), ["borne - print", "borne - scan"]);
    assert_eq!(events("scan%24"), ["borne - scan"]);
    assert!(events("%5Eprint").is_empty());
    let refused = api_json(
        &s,
        &format!("method=Events.getCategory&token_auth={SUPER}&idSite=1&period=day&date=today&filter_pattern=b.*t"),
    );
    assert!(is_error(&refused), "{refused}");
}

#[test]
fn duplicates_are_stored_twice() {
    let s = server();
    let body = json!({ "requests": [event(1, "borne", "print", "&e_n=ticket")] });
    assert_eq!(bulk_json(&s, &body), counts(1, 0));
    assert_eq!(bulk_json(&s, &body), counts(1, 0));
    assert_eq!(s.events(1), BTreeMap::from([(("borne".into(), "print".into()), 2)]));
}

#[test]
fn single_hits_answer_a_gif_or_400() {
    let s = server();
    s.add_token("write-1", Role::Write(1));
    let answer = get(&s, "/matomo.php?idsite=1&rec=1&e_c=a&e_a=b");
    assert_eq!((answer.status, answer.header("content-type")), (200, Some("image/gif")));
    assert!(answer.body.starts_with(b"GIF89a"));
    assert_eq!(get(&s, "/matomo.php?idsite=1&rec=1&send_image=0").status, 204);
    assert_eq!(get(&s, "/matomo.php?idsite=7&rec=1").status, 400);
    assert_eq!(get(&s, "/matomo.php?idsite=1&rec=1&cdt=2026-10-01%2000:00:00").status, 400);
    assert_eq!(get(&s, "/matomo.php?idsite=1&rec=1&cdt=2026-10-01%2000:00:00&token_auth=write-1").status, 200);
    assert_eq!(post_form(&s, "/matomo.php", "idsite=1&rec=1&e_c=form&e_a=post").status, 200);
    assert_eq!(s.hits(1).len(), 4);
    assert_eq!(s.events(1).get(&("form".into(), "post".into())), Some(&1));
}

#[test]
fn cip_is_only_honoured_with_a_superuser_token() {
    let s = server();
    s.add_token("write-1", Role::Write(1));
    for token in ["write-1", SUPER] {
        bulk_json(&s, &json!({ "requests": ["?idsite=1&rec=1&cip=10.1.2.3"], "token_auth": token }));
    }
    let ips: Vec<String> = s.hits(1).into_iter().map(|h| h.ip).collect();
    assert_eq!(ips, ["127.0.0.1", "10.1.2.3"]);
}

#[test]
fn a_bad_token_gets_a_401_html_page_even_for_json() {
    let s = server();
    let answer = api(&s, "method=VisitsSummary.get&idSite=1&period=day&date=today&token_auth=nope");
    assert_eq!(answer.status, 401);
    assert!(answer.header("content-type").unwrap().starts_with("text/html"));
    assert!(serde_json::from_slice::<Value>(&answer.body).is_err());
}

#[test]
fn reporting_errors_are_200_result_error_and_refusals_of_access_401() {
    let s = server();
    s.add_token("view-2", Role::View(2));
    s.add_token("no-site", Role::View(77));
    let ask = |query: &str| api_json(&s, query);
    assert!(is_error(&ask(&format!("method=VisitsSummary.get&idSite=99&period=day&date=today&token_auth={SUPER}"))));
    assert!(is_error(&ask(&format!("method=VisitsSummary.get&idSite=1&date=today&token_auth={SUPER}"))));
    assert!(is_error(&ask(&format!("method=VisitsSummary.get&idSite=1&period=month&date=today&token_auth={SUPER}"))));
    assert!(is_error(&ask(&format!("method=Nope.nothing&token_auth={SUPER}"))));
    // Refusals of access are 401, with the message in JSON (not the HTML page of a bad token).
    let view = "'view' access for the website id = 1.";
    assert!(refused(&s, "method=VisitsSummary.get&idSite=1&period=day&date=today&token_auth=view-2").ends_with(view));
    assert!(refused(&s, "method=VisitsSummary.get&idSite=1,2&period=day&date=today&token_auth=view-2").ends_with(view));
    assert!(refused(&s, "method=SitesManager.getSiteFromId&idSite=1&token_auth=view-2").ends_with(view));
    // A site that does not exist: the same refusal as a site of someone else, unless one is a superuser.
    assert!(refused(&s, "method=SitesManager.getSiteFromId&idSite=99&token_auth=view-2").ends_with("id = 99."));
    assert!(is_error(&ask(&format!("method=SitesManager.getSiteFromId&idSite=99&token_auth={SUPER}"))));
    assert!(refused(&s, "method=VisitsSummary.get&idSite=1&period=day&date=today").contains("'view' access"));
    // Matomo 5 gives its version only to a token with view access to some website.
    let some = "'view' access for at least one website.";
    assert!(refused(&s, "method=API.getMatomoVersion").ends_with(some));
    assert!(refused(&s, "method=API.getMatomoVersion&token_auth=no-site").ends_with(some));
    assert_eq!(ask("method=API.getMatomoVersion&token_auth=view-2"), json!({"value": "5.0.2"}));
    assert_eq!(ask("method=VisitsSummary.get&idSite=2&period=day&date=today&token_auth=view-2"), json!([]));
    // Without format=JSON, Matomo answers XML.
    let xml = get(&s, "/index.php?module=API&method=API.getMatomoVersion");
    assert!(serde_json::from_slice::<Value>(&xml.body).is_err());
}

/// Site 1 (Paris): visit A of two "borne/print" events named "ticket" (e_v 1) at 23:30 and 23:35 UTC on
/// 1 November (2 November in Paris), visit B of a "borne/scan" event and a page view on 1 November.
fn with_two_visits() -> ContractServer {
    let s = server();
    let requests = json!([
        "?idsite=1&rec=1&ua=B&cdt=2026-11-01%2010:00:00&e_c=borne&e_a=scan",
        "?idsite=1&rec=1&ua=B&cdt=2026-11-01%2010:05:00&url=http%3A%2F%2Fborne%2F&action_name=Accueil",
        "?idsite=1&rec=1&ua=A&cdt=2026-11-01%2023:30:00&e_c=borne&e_a=print&e_n=ticket&e_v=1",
        "?idsite=1&rec=1&ua=A&cdt=2026-11-01%2023:35:00&e_c=borne&e_a=print&e_n=ticket&e_v=1",
    ]);
    assert_eq!(bulk_json(&s, &json!({ "requests": requests, "token_auth": SUPER }))["tracked"], 4);
    s
}

#[test]
fn visits_summary_buckets_days_in_the_site_time_zone() {
    let s = with_two_visits();
    let summary = |query: &str| api_json(&s, &format!("method=VisitsSummary.get&token_auth={SUPER}&{query}"));
    let day = summary("idSite=1&period=day&date=2026-11-01");
    assert_eq!((&day["nb_visits"], &day["nb_actions"], &day["bounce_count"]), (&json!(1), &json!(2), &json!(0)));

    let days = summary("idSite=1&period=day&date=2026-10-31,2026-11-02");
    assert_eq!(days["2026-10-31"], json!([]));
    assert_eq!(days["2026-11-01"]["nb_visits"], 1);
    assert_eq!(days["2026-11-02"]["nb_visits"], 1, "23:30 UTC is 00:30 in Paris");

    let range = summary("idSite=1&period=range&date=2026-11-01,today");
    assert_eq!((&range["nb_visits"], &range["nb_actions"]), (&json!("2"), &json!("4")), "strings with period=range");

    let all = summary("idSite=all&period=day&date=today");
    assert_eq!((&all["1"]["nb_visits"], &all["2"]), (&json!(1), &json!([])));
    assert_eq!(summary("idSite=1,2&period=day&date=today"), all);

    // The same hits on a UTC site stay on 1 November.
    let utc = s.add_site("utc", "UTC");
    let requests = json!([format!("?idsite={utc}&rec=1&cdt=2026-11-01%2023:30:00")]);
    bulk_json(&s, &json!({ "requests": requests, "token_auth": SUPER }));
    assert_eq!(summary(&format!("idSite={utc}&period=day&date=2026-11-01"))["nb_visits"], 1);
    assert_eq!(summary(&format!("idSite={utc}&period=day&date=2026-11-02")), json!([]));
}

#[test]
fn events_reports_count_hits_and_values() {
    let s = with_two_visits();
    let report = |method: &str, extra: &str| {
        api_json(&s, &format!("method=Events.{method}&idSite=1&period=range&date=last7&token_auth={SUPER}{extra}"))
    };
    let categories = report("getCategory", "");
    assert_eq!(categories.as_array().unwrap().len(), 1);
    let row = &categories[0];
    assert_eq!((&row["label"], &row["nb_events"], &row["nb_visits"]), (&json!("borne"), &json!(3), &json!(2)));
    assert_eq!((&row["sum_event_value"], &row["idsubdatatable"]), (&json!(2), &json!(1)));

    let flat = report("getCategory", "&flat=1");
    let rows: Vec<_> = flat.as_array().unwrap().iter().map(|r| (r["label"].clone(), r["nb_events"].clone())).collect();
    assert_eq!(rows, [(json!("borne - print"), json!("2")), (json!("borne - scan"), json!("1"))]);

    let labels = |value: Value| value.as_array().unwrap().iter().map(|r| r["label"].clone()).collect::<Vec<_>>();
    assert_eq!(labels(report("getAction", "")), [json!("print"), json!("scan")]);
    assert_eq!(labels(report("getName", "")), [json!("ticket"), json!("Event name not defined")]);
    assert_eq!(labels(report("getAction", "&filter_limit=1")), [json!("print")]);

    let per_day = api_json(
        &s,
        &format!("method=Events.getCategory&idSite=1&period=day&date=2026-11-01,2026-11-02&token_auth={SUPER}"),
    );
    assert_eq!(
        (&per_day["2026-11-01"][0]["nb_events"], &per_day["2026-11-02"][0]["nb_events"]),
        (&json!(1), &json!(2))
    );
}

#[test]
fn live_reads_the_stored_visits_with_a_segment() {
    let s = with_two_visits();
    let live =
        |extra: &str| api_json(&s, &format!("method=Live.getLastVisitsDetails&idSite=1&token_auth={SUPER}{extra}"));
    let all = live("");
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        (&all[0]["idVisit"], &all[1]["idVisit"], &all[0]["visitIp"]),
        (&json!(2), &json!(1), &json!("127.0.0.0"))
    );

    let named = live("&segment=eventName%3D%3Dticket");
    assert_eq!(named.as_array().unwrap().len(), 1);
    let actions = named[0]["actionDetails"].as_array().unwrap();
    assert_eq!(actions.len(), 2);
    assert_eq!(
        actions[0],
        json!({"type": "event", "eventCategory": "borne", "eventAction": "print", "eventName": "ticket",
               "eventValue": 1, "timestamp": at("2026-11-02 00:30:00"), "serverTimePretty": "2026-11-02 00:30:00"}),
        "Live shows the action's time in the site's zone (Paris, winter: one hour later), read as UTC"
    );
    assert_eq!(
        (&named[0]["firstActionTimestamp"], &named[0]["serverDate"], &named[0]["lastActionDateTime"]),
        (&json!(at("2026-11-01 23:30:00")), &json!("2026-11-01"), &json!("2026-11-01 23:35:00")),
        "the visit's own times stay in UTC"
    );
    assert_eq!(live("&segment=eventName%3D%5Etick").as_array().unwrap().len(), 1, "=^ starts with");
    assert_eq!(live("&segment=eventName%3D%40icke").as_array().unwrap().len(), 1, "=@ contains");
    assert_eq!(live("&segment=eventName%3D%5Eicke"), json!([]));

    let scanned = live("&segment=eventCategory%3D%3Dborne%3BeventAction%3D%3Dscan");
    assert_eq!(scanned[0]["idVisit"], 1);
    assert_eq!(scanned[0]["actionDetails"][1]["type"], "action", "all the actions of the visit");
    assert_eq!(live("&segment=eventName%3D%3Dnothing"), json!([]));
    assert_eq!(live("&filter_limit=1").as_array().unwrap().len(), 1);
    assert_eq!(live("&period=day&date=2026-11-01")[0]["idVisit"], 1);
    assert!(is_error(&live("&segment=visitCount%3D%3D1")));

    // Values inside the segment are URL-encoded (here twice: once for the segment, once for the URL).
    bulk_json(&s, &json!({ "requests": [event(1, "borne", "print", "&e_n=mon%20ticket")] }));
    assert_eq!(live("&segment=eventName%3D%3Dmon%2520ticket").as_array().unwrap().len(), 1);
}

#[test]
fn archive_lag_hides_fresh_hits_from_reports_but_not_from_live() {
    let s = server();
    s.set_archive_lag(Some(Duration::from_secs(900)));
    bulk_json(&s, &json!({ "requests": [event(1, "borne", "print", "")] }));
    let summary = format!("method=VisitsSummary.get&idSite=1&period=day&date=today&token_auth={SUPER}");
    let events = format!("method=Events.getCategory&idSite=1&period=day&date=today&token_auth={SUPER}");
    assert_eq!((api_json(&s, &summary), api_json(&s, &events)), (json!([]), json!([])));
    let live = api_json(&s, &format!("method=Live.getLastVisitsDetails&idSite=1&token_auth={SUPER}"));
    assert_eq!(live.as_array().unwrap().len(), 1);

    s.set_now(Some(now() + 900));
    assert_eq!(api_json(&s, &summary)["nb_visits"], 1);
    assert_eq!(api_json(&s, &events)[0]["nb_events"], 1);
}

#[test]
fn provisioning_gives_a_token_that_writes_to_its_site_only() {
    let s = server();
    let admin = |form: &str| {
        let answer = post_form(&s, "/index.php", &format!("module=API&format=JSON&token_auth={SUPER}&{form}"));
        assert_eq!(answer.status, 200);
        answer.json()
    };
    assert_eq!(
        admin("method=SitesManager.addSite&siteName=borne-3&timezone=Europe/Paris&urls=https://b3"),
        json!({"value": 3})
    );
    let ok = json!({"result": "success", "message": "ok"});
    assert_eq!(admin("method=UsersManager.addUser&userLogin=borne3&password=secret-pw&email=b3@example.org"), ok);
    assert!(is_error(&admin(
        "method=UsersManager.addUser&userLogin=borne3&password=secret-pw&email=other@example.org"
    )));
    assert_eq!(admin("method=UsersManager.setUserAccess&userLogin=borne3&access=write&idSites=3"), ok);

    let create = |password: &str| {
        let query = "method=UsersManager.createAppSpecificTokenAuth&userLogin=borne3&description=borne%203";
        api_json(&s, &format!("{query}&passwordConfirmation={password}"))
    };
    assert!(is_error(&create("nope")));
    let created = create("secret-pw");
    let token = created["value"].as_str().unwrap().to_owned();
    assert!(token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");

    let old = "&cdt=2026-10-01%2010:00:00";
    let batch = |site: u32| json!({ "requests": [event(site, "borne", "print", old)], "token_auth": token });
    assert_eq!(bulk_json(&s, &batch(3)), counts(1, 0));
    assert_eq!(bulk_json(&s, &batch(1)), counts(0, 1));

    let with_token = |query: &str| api_json(&s, &format!("{query}&token_auth={token}"));
    let sites = with_token("method=SitesManager.getSitesWithAtLeastViewAccess");
    assert_eq!(
        sites,
        json!([{"idsite": "3", "name": "borne-3", "main_url": "https://b3", "timezone": "Europe/Paris"}])
    );
    assert_eq!(with_token("method=SitesManager.getSiteFromId&idSite=3")["idsite"], "3");
    assert!(refused(&s, &format!("method=VisitsSummary.get&idSite=1&period=day&date=today&token_auth={token}"))
        .contains("website id = 1"));
    assert!(refused(&s, &format!("method=SitesManager.addSite&siteName=x&token_auth={token}")).contains("superuser"));
    assert_eq!(with_token("method=VisitsSummary.get&idSite=3&period=day&date=2026-10-01")["nb_visits"], 1);

    // Access follows the user: taken away, the token no longer writes old hits.
    assert_eq!(admin("method=UsersManager.setUserAccess&userLogin=borne3&access=noaccess&idSites=3"), ok);
    assert_eq!(bulk_json(&s, &batch(3)), counts(0, 1));
}

#[test]
fn http_is_strict() {
    let s = server();
    let chunked = b"POST /matomo.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    assert_eq!(exchange(&s, chunked).unwrap().status, 411);
    assert_eq!(exchange(&s, b"GET /matomo.php HTTP/1.1\nHost: x\n\n").unwrap().status, 400);
    assert_eq!(exchange(&s, b"GET /matomo.php HTTP/1.1\r\n\r\n").unwrap().status, 400, "no Host");
    assert_eq!(exchange(&s, b"GET /matomo.php HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n").unwrap().status, 400);
    assert_eq!(exchange(&s, b"GARBAGE\r\n\r\n").unwrap().status, 400);
    assert_eq!(get(&s, "/piwik.php?idsite=1&rec=1").status, 404);
    assert_eq!(request(&s, "PUT", "/matomo.php", &[], b"").unwrap().status, 405);
}

#[test]
fn connections_are_kept_alive_and_100_continue_is_honoured() {
    let s = server();
    let mut connection = connect(&s);
    let body = json!({ "requests": [event(1, "a", "b", "")] }).to_string();
    for _ in 0..3 {
        let raw = raw_request("POST", "/matomo.php", &[("Content-Type", "application/json")], body.as_bytes());
        connection.get_mut().write_all(&raw).unwrap();
        let answer = read_answer(&mut connection).unwrap();
        assert_eq!((answer.status, answer.header("connection")), (200, Some("keep-alive")));
    }
    assert_eq!(s.hits(1).len(), 3);

    let mut connection = connect(&s);
    let head = format!(
        "POST /matomo.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    connection.get_mut().write_all(head.as_bytes()).unwrap();
    assert_eq!(read_answer(&mut connection).unwrap().status, 100);
    connection.get_mut().write_all(body.as_bytes()).unwrap();
    assert_eq!(read_answer(&mut connection).unwrap().json(), counts(1, 0));
}

#[test]
fn totals_and_raw_requests_show_what_was_received() {
    let s = server();
    bulk_json(
        &s,
        &json!({ "requests": [event(1, "borne", "print", ""), event(1, "borne", "print", "")], "token_auth": SUPER }),
    );
    let totals = get(&s, "/__contract/totals").json();
    assert_eq!(
        totals,
        json!({"sites": {"1": {"visits": 1, "events": {"borne/print": 2}}, "2": {"visits": 0, "events": {}}}})
    );
    let requests = s.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[0].text().starts_with("POST /matomo.php HTTP/1.1\r\n") && requests[0].text().contains(SUPER));
    assert_eq!(s.tracking_requests(), 1);
}

#[test]
fn dropping_the_server_closes_its_connections() {
    let s = server();
    let mut connection = connect(&s);
    let addr = s.addr;
    drop(s);
    assert!(read_answer(&mut connection).is_none());
    assert!(TcpStream::connect(addr).is_err());
}
