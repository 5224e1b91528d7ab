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
    /// 401: the token is unknown or revoked.
    #[error("Matomo refused the token (401)")]
    BadToken,
    /// The site id does not exist.
    #[error("Matomo does not know this site: {0}")]
    UnknownSite(String),
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
        matches!(self, ApiError::BadToken | ApiError::UnknownSite(_) | ApiError::NoAccess(_) | ApiError::NotMatomo(_))
    }

    /// A stable code (status shown to the référent, logs).
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadToken => "bad-token",
            ApiError::UnknownSite(_) => "unknown-site",
            ApiError::NoAccess(_) => "no-access",
            ApiError::Refused(_) => "refused",
            ApiError::NotMatomo(_) => "not-matomo",
            ApiError::Unreachable(_) => "unreachable",
            ApiError::NoAnswer(_) => "no-answer",
            ApiError::Status(_) => "server-error",
        }
    }
}

/// French text for a status code (push status, connection test).
pub fn french_for_code(code: &str) -> &'static str {
    match code {
        "bad-token" => "Matomo refuse la clé d'accès : demandez une nouvelle clé à votre fédération.",
        "unknown-site" => "Matomo ne connaît pas ce numéro de site : vérifiez-le avec votre fédération.",
        "no-access" => {
            "La clé d'accès n'a pas le droit d'écrire sur ce site Matomo : demandez à votre fédération de le donner."
        }
        "not-matomo" => "L'adresse indiquée ne répond pas comme un serveur Matomo : vérifiez l'adresse.",
        "unreachable" => "Le serveur Matomo est injoignable pour le moment : la borne réessaiera toute seule.",
        "no-answer" | "server-error" | "refused" => {
            "Le serveur Matomo n'a pas répondu correctement : la borne réessaiera toute seule, rien n'est perdu."
        }
        "not-configured" => "Les statistiques ne sont pas encore reliées à Matomo (adresse, numéro de site ou clé).",
        _ => "Problème d'envoi des statistiques : la borne réessaiera toute seule, rien n'est perdu.",
    }
}

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

    /// Calls a Reporting API method with the token (POST form). A bad token is a 401 with an HTML
    /// page even when JSON is asked; an error is a 200 with `result: error`.
    pub async fn api(&self, token: Option<&Token>, method: &str, params: &[(&str, String)]) -> Result<Value, ApiError> {
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
        if status == 401 || status == 403 {
            return Err(ApiError::BadToken);
        }
        if status >= 500 {
            return Err(ApiError::Status(status));
        }
        if status != 200 {
            return Err(ApiError::NotMatomo(format!("HTTP {status}")));
        }
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| ApiError::NotMatomo("answer is not JSON".into()))?;
        if v.get("result").and_then(Value::as_str) == Some("error") {
            let msg = v.get("message").and_then(Value::as_str).unwrap_or("").to_string();
            return Err(classify_error(msg));
        }
        Ok(v)
    }
}

/// Sorts Matomo's `result: error` messages.
fn classify_error(msg: String) -> ApiError {
    let m = msg.to_ascii_lowercase();
    if m.contains("token") && (m.contains("invalid") || m.contains("not valid")) {
        ApiError::BadToken
    } else if m.contains("access") || m.contains("permission") {
        ApiError::NoAccess(msg)
    } else if m.contains("site") {
        ApiError::UnknownSite(msg)
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
            classify_error("You can't access this resource as it requires 'view' access".into()),
            ApiError::NoAccess(_)
        ));
        assert!(matches!(classify_error("The website id = 99 couldn't be found".into()), ApiError::UnknownSite(_)));
        assert!(matches!(classify_error("Something else".into()), ApiError::Refused(_)));
    }
}
