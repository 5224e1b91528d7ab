//! Talking to Matomo: the bulk tracking API and the Reporting API, as a real Matomo 5 answers them
//! (see `shared/matomo-contract.md` in the project's notes and `docs/statistics.md`).
//!
//! The token goes in POST bodies only (never in a URL, so never in a server's access log), and
//! [`Token`]'s `Debug` hides it.

use std::time::Duration;

use serde_json::Value;
use url::Url;

/// The fixed user agent of every request: the same for every borne, so it identifies nobody.
pub const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) borne/1";

/// A Matomo `token_auth`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A token read from a file or given by Matomo; surrounding blanks removed.
    pub fn new(s: &str) -> Option<Token> {
        let t = s.trim();
        (!t.is_empty() && t.len() <= 256 && t.bytes().all(|b| b.is_ascii_graphic())).then(|| Token(t.to_string()))
    }

    /// The secret itself (to send it).
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Why a Matomo call did not give an answer to use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 401 with Matomo's page for an unknown token: the token is unknown or revoked.
    #[error("Matomo refused the token (401)")]
    BadToken,
    /// A known token, but the site number is not one it may see: it does not exist, or it is another borne's.
    /// (Matomo answers both the same to a token that is not a superuser's: 401 "requires 'view' access for the
    /// website id = N".)
    #[error("the site number is wrong or belongs to another borne: {0}")]
    WrongSite(String),
    /// The token has no (or not enough) access to the site.
    #[error("the token has no access to this site: {0}")]
    NoAccess(String),
    /// Another error answered by Matomo (`result: error`).
    #[error("Matomo answered an error: {0}")]
    Refused(String),
    /// The server answered something that is not Matomo's API.
    #[error("the answer is not from Matomo's API: {0}")]
    NotMatomo(String),
    /// No connection could be made: the request never left.
    #[error("cannot connect to Matomo: {0}")]
    Unreachable(String),
    /// The request may have reached the server, but no usable answer came back.
    #[error("no usable answer from Matomo: {0}")]
    NoAnswer(String),
    /// The server answered with an error status (5xx...).
    #[error("Matomo answered HTTP {0}")]
    Status(u16),
}

impl ApiError {
    /// A refusal that retrying cannot fix: someone must change the token or the site.
    pub fn is_permanent(&self) -> bool {
        matches!(self, ApiError::BadToken | ApiError::WrongSite(_) | ApiError::NoAccess(_) | ApiError::NotMatomo(_))
    }

    /// A stable code (status shown to the référent, logs).
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadToken => "bad-token",
            ApiError::WrongSite(_) => "wrong-site",
            ApiError::NoAccess(_) => "no-access",
            ApiError::Refused(_) => "refused",
            ApiError::NotMatomo(_) => "not-matomo",
            ApiError::Unreachable(_) => "unreachable",
            ApiError::NoAnswer(_) => "no-answer",
            ApiError::Status(_) => "server-error",
        }
    }
}

/// French text for a status code (push status, connection test): kept in [`crate::messages`].
pub use crate::messages::matomo_code_fr as french_for_code;

/// What the bulk endpoint's answer means under the contract's success rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkVerdict {
    /// HTTP 200, `status: success`, `tracked + invalid` = sent and `invalid` 0.
    Delivered,
    /// Success with entries counted invalid (old hits refused: no write access).
    Invalid {
        /// Entries stored.
        tracked: u64,
        /// Entries refused.
        invalid: u64,
    },
    /// Anything else: whether the batch landed is unknown.
    Unknown(String),
}

/// Judges a bulk answer (pure).
pub fn judge_bulk(status: u16, body: &[u8], sent: usize) -> BulkVerdict {
    if status != 200 {
        return BulkVerdict::Unknown(format!("HTTP {status}"));
    }
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return BulkVerdict::Unknown("answer is not JSON".into());
    };
    if v.get("status").and_then(Value::as_str) != Some("success") {
        return BulkVerdict::Unknown("status is not success".into());
    }
    let (Some(tracked), Some(invalid)) = (number(v.get("tracked")), number(v.get("invalid"))) else {
        return BulkVerdict::Unknown("no tracked/invalid counts".into());
    };
    if tracked + invalid != sent as u64 {
        return BulkVerdict::Unknown(format!("tracked {tracked} + invalid {invalid} != sent {sent}"));
    }
    if invalid > 0 {
        return BulkVerdict::Invalid { tracked, invalid };
    }
    BulkVerdict::Delivered
}

/// A JSON number that Matomo may send as a string or an integer.
pub fn number(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse::<u64>().ok().or_else(|| s.trim().parse::<f64>().ok().map(|f| f as u64)),
        _ => None,
    }
}

/// A client for one Matomo server.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
}

/// Makes sure a rustls crypto provider is installed (ring), once per process.
pub fn init_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Client {
    /// A client for the Matomo at `base` (the address of its root, `https://stats.example/`).
    pub fn new(base: &Url, timeout: Duration) -> Result<Client, ApiError> {
        init_tls();
        let mut base = base.clone();
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        base.set_query(None);
        base.set_fragment(None);
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10).min(timeout))
            // Matomo is reached directly: a proxy from the environment would see every count.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ApiError::Unreachable(e.to_string()))?;
        Ok(Client { http, base })
    }

    /// The server's root address.
    pub fn base(&self) -> &Url {
        &self.base
    }

    fn endpoint(&self, path: &str) -> Result<Url, ApiError> {
        self.base.join(path).map_err(|e| ApiError::NotMatomo(e.to_string()))
    }

    /// Posts a bulk tracking request; the body is built by the caller (see `push::bulk_body`).
    pub async fn bulk(&self, body: &str, sent: usize) -> Result<BulkVerdict, ApiError> {
        let url = self.endpoint("matomo.php")?;
        let resp = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(send_error)?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| ApiError::NoAnswer(e.to_string()))?;
        Ok(judge_bulk(status, &bytes, sent))
    }

    /// Calls a Reporting API method with the token (POST form), judged by [`judge_api`].
    pub async fn api(&self, token: Option<&Token>, method: &str, params: &[(&str, String)]) -> Result<Value, ApiError> {
        let (status, bytes) = self.api_raw(token, method, params).await?;
        judge_api(status, &bytes)
    }

    /// Calls a Reporting API method and gives the status and body as they came (the connection test judges
    /// them itself).
    pub async fn api_raw(
        &self,
        token: Option<&Token>,
        method: &str,
        params: &[(&str, String)],
    ) -> Result<(u16, Vec<u8>), ApiError> {
        let url = self.endpoint("index.php")?;
        let mut form: Vec<(&str, String)> =
            vec![("module", "API".into()), ("method", method.into()), ("format", "JSON".into())];
        if let Some(t) = token {
            form.push(("token_auth", t.secret().into()));
        }
        form.extend(params.iter().cloned());
        let resp = self.http.post(url).form(&form).send().await.map_err(send_error)?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| ApiError::NoAnswer(e.to_string()))?;
        Ok((status, bytes.to_vec()))
    }
}

/// Judges a Reporting API answer (pure). Matomo 5 answers:
/// - an unknown token: 401 with an HTML page, even when JSON was asked;
/// - a refusal of access (`NoAccessException`): 401 with `result: error` and "You can't access this resource as it
///   requires 'view' access for the website id = N" (a site that does not exist and a site of someone else look
///   the same to a token that is not a superuser's), "... for at least one website", "... 'superuser' access";
/// - another error: 200 with `result: error` (an unknown site asked by a superuser: "An unexpected website was
///   found in the request").
pub fn judge_api(status: u16, body: &[u8]) -> Result<Value, ApiError> {
    let json = serde_json::from_slice::<Value>(body).ok();
    let error = json
        .as_ref()
        .filter(|v| v.get("result").and_then(Value::as_str) == Some("error"))
        .map(|v| v.get("message").and_then(Value::as_str).unwrap_or("").to_string());
    if status == 401 || status == 403 {
        let text = error.unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
        return Err(match classify_error(text.clone()) {
            e @ (ApiError::WrongSite(_) | ApiError::NoAccess(_)) => e,
            _ if text.contains("requires") && text.contains("access") => ApiError::NoAccess(text),
            _ => ApiError::BadToken,
        });
    }
    if status >= 500 {
        return Err(ApiError::Status(status));
    }
    if status != 200 {
        return Err(ApiError::NotMatomo(format!("HTTP {status}")));
    }
    let v = json.ok_or_else(|| ApiError::NotMatomo("answer is not JSON".into()))?;
    match error {
        Some(msg) => Err(classify_error(msg)),
        None => Ok(v),
    }
}

/// Whether an answer to an anonymous `API.getMatomoVersion` comes from a Matomo (pure): its version (an old
/// Matomo gives it to anyone), or its JSON refusal (Matomo 5: 401 "requires 'view' access for at least one
/// website"), or its HTML error page.
pub fn is_matomo_answer(status: u16, body: &[u8]) -> bool {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return v.get("value").is_some_and(Value::is_string)
            || v.get("result").and_then(Value::as_str) == Some("error");
    }
    let text = String::from_utf8_lossy(body);
    (status == 401 || status == 403) && (text.contains("Matomo") || text.contains("token_auth"))
}

/// Sorts Matomo's error messages.
fn classify_error(msg: String) -> ApiError {
    let m = msg.to_ascii_lowercase();
    if m.contains("token") && (m.contains("invalid") || m.contains("not valid")) {
        ApiError::BadToken
    } else if m.contains("website id") || m.contains("unexpected website") {
        // "requires 'view' access for the website id = N", "An unexpected website was found in the request".
        ApiError::WrongSite(msg)
    } else if m.contains("access") || m.contains("permission") {
        ApiError::NoAccess(msg)
    } else if m.contains("site") {
        ApiError::WrongSite(msg)
    } else {
        ApiError::Refused(msg)
    }
}

fn send_error(e: reqwest::Error) -> ApiError {
    if e.is_connect() {
        ApiError::Unreachable(e.to_string())
    } else {
        ApiError::NoAnswer(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_success_rule_of_the_contract() {
        let ok = br#"{"status":"success","tracked":3,"invalid":0}"#;
        assert_eq!(judge_bulk(200, ok, 3), BulkVerdict::Delivered);
        assert!(matches!(judge_bulk(200, ok, 4), BulkVerdict::Unknown(_)), "an entry went missing");
        assert!(matches!(judge_bulk(500, ok, 3), BulkVerdict::Unknown(_)));
        assert!(matches!(judge_bulk(204, b"", 3), BulkVerdict::Unknown(_)), "send_image=0 hides the counts");
        assert!(matches!(judge_bulk(200, b"GIF89a", 3), BulkVerdict::Unknown(_)));
        assert!(matches!(
            judge_bulk(200, br#"{"status":"success","tracked":0,"invalid":0}"#, 3),
            BulkVerdict::Unknown(_)
        ));
        assert_eq!(
            judge_bulk(200, br#"{"status":"success","tracked":"1","invalid":"2"}"#, 3),
            BulkVerdict::Invalid { tracked: 1, invalid: 2 }
        );
        assert!(matches!(judge_bulk(200, br#"{"status":"error","message":"x"}"#, 3), BulkVerdict::Unknown(_)));
    }

    #[test]
    fn numbers_as_strings_or_integers() {
        assert_eq!(number(Some(&serde_json::json!(12))), Some(12));
        assert_eq!(number(Some(&serde_json::json!("12"))), Some(12));
        assert_eq!(number(Some(&serde_json::json!(12.0))), Some(12));
        assert_eq!(number(Some(&serde_json::json!("x"))), None);
        assert_eq!(number(None), None);
    }

    #[test]
    fn token_debug_is_redacted() {
        let t = Token::new(" abc123 \n").unwrap();
        assert_eq!(t.secret(), "abc123");
        assert_eq!(format!("{t:?}"), "Token(***)");
        assert!(Token::new("  ").is_none());
        assert!(Token::new("a b").is_none());
    }

    #[test]
    fn error_messages_are_sorted() {
        assert!(matches!(
            classify_error("You can't access this resource as it requires 'superuser' access.".into()),
            ApiError::NoAccess(_)
        ));
        assert!(matches!(classify_error("The website id = 99 couldn't be found".into()), ApiError::WrongSite(_)));
        assert!(matches!(classify_error("Something else".into()), ApiError::Refused(_)));
    }

    #[test]
    fn api_answers_tell_a_bad_key_from_a_wrong_site() {
        let page = b"<html><body><p>You must be logged in: the token_auth is not valid.</p></body></html>";
        assert_eq!(judge_api(401, page), Err(ApiError::BadToken));
        let site = br#"{"result":"error","message":"You can't access this resource as it requires 'view' access for the website id = 7."}"#;
        assert!(matches!(judge_api(401, site), Err(ApiError::WrongSite(_))), "not the key: the site number");
        let none = br#"{"result":"error","message":"You can't access this resource as it requires 'view' access for at least one website."}"#;
        assert!(matches!(judge_api(401, none), Err(ApiError::NoAccess(_))));
        let unknown = br#"{"result":"error","message":"An unexpected website was found in the request: website id was set to '99' ."}"#;
        assert!(matches!(judge_api(200, unknown), Err(ApiError::WrongSite(_))));
        assert_eq!(judge_api(200, br#"{"value":"5.0.2"}"#), Ok(serde_json::json!({"value": "5.0.2"})));
        assert!(matches!(judge_api(200, b"<html>Welcome</html>"), Err(ApiError::NotMatomo(_))));
        assert!(matches!(judge_api(404, b"Not Found"), Err(ApiError::NotMatomo(_))));
        assert_eq!(judge_api(502, b""), Err(ApiError::Status(502)));
    }

    #[test]
    fn a_matomo_is_known_by_its_answer_to_an_anonymous_call() {
        let refused = br#"{"result":"error","message":"You can't access this resource as it requires 'view' access for at least one website."}"#;
        assert!(is_matomo_answer(401, refused));
        assert!(is_matomo_answer(200, br#"{"value":"4.16.0"}"#));
        assert!(is_matomo_answer(401, b"<html><title>Matomo &rsaquo; Error</title></html>"));
        assert!(!is_matomo_answer(200, b"<html>It works!</html>"));
        assert!(!is_matomo_answer(404, b"Not Found"));
        assert!(!is_matomo_answer(200, br#"{"status":"ok"}"#));
        assert!(!is_matomo_answer(401, b"Authorization Required"));
    }
}
