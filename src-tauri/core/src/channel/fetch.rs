//! Fetching the channel's four files from any static HTTPS server (rustls, the system's CA store).

use std::time::Duration;

use url::Url;

use super::{Published, CATALOGUE, DEMARCHES, SIGNATURE_SUFFIX};

/// Largest file accepted (the catalogue is about 60 KiB).
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// Time for one request.
pub const TIMEOUT: Duration = Duration::from_secs(30);

const USER_AGENT: &str = concat!("borne/", env!("CARGO_PKG_VERSION"), " (catalogue channel)");

/// Why the files could not be fetched: ordinary errors, tried again later with a backoff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// DNS, connection, TLS or timeout.
    #[error("{file}: network error: {cause}")]
    Network {
        /// Which file.
        file: String,
        /// What the HTTP client said.
        cause: String,
    },
    /// The server answered with another status than 200 (404 on a signature is "unsigned" instead).
    #[error("{file}: HTTP status {status}")]
    Status {
        /// Which file.
        file: String,
        /// The status.
        status: u16,
    },
    /// Larger than [`MAX_BYTES`].
    #[error("{file}: larger than {MAX_BYTES} bytes")]
    TooBig {
        /// Which file.
        file: String,
    },
    /// The channel's address does not make a file address.
    #[error("bad channel address: {0}")]
    BadUrl(String),
}

impl FetchError {
    /// Short code for the status file and the screens.
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::Network { .. } => "unreachable",
            FetchError::Status { .. } => "http-status",
            FetchError::TooBig { .. } => "too-big",
            FetchError::BadUrl(_) => "bad-url",
        }
    }
}

/// The address of `name` in the channel folder `base` (a missing final `/` is added).
pub fn file_url(base: &Url, name: &str) -> Result<Url, FetchError> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let p = format!("{}/", base.path());
        base.set_path(&p);
    }
    base.join(name).map_err(|e| FetchError::BadUrl(e.to_string()))
}

async fn get(client: &reqwest::Client, base: &Url, name: &str, optional: bool) -> Result<Option<Vec<u8>>, FetchError> {
    let url = file_url(base, name)?;
    let net = |e: reqwest::Error| FetchError::Network { file: name.into(), cause: e.to_string() };
    let mut resp = client.get(url).send().await.map_err(net)?;
    let status = resp.status().as_u16();
    if optional && (status == 404 || status == 410) {
        return Ok(None);
    }
    if status != 200 {
        return Err(FetchError::Status { file: name.into(), status });
    }
    if resp.content_length().is_some_and(|n| n > MAX_BYTES as u64) {
        return Err(FetchError::TooBig { file: name.into() });
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(net)? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BYTES {
            return Err(FetchError::TooBig { file: name.into() });
        }
    }
    Ok(Some(body))
}

/// Fetches the two files and their signatures (a missing signature is `None`: "unsigned").
pub async fn fetch(base: &Url) -> Result<Published, FetchError> {
    crate::matomo::init_tls();
    let client = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        // Reached directly, like Matomo: the kiosk's network gate is for WebKit only.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| FetchError::Network { file: String::new(), cause: e.to_string() })?;
    let text = |b: Option<Vec<u8>>| b.map(|b| String::from_utf8_lossy(&b).into_owned());
    let catalogue = get(&client, base, CATALOGUE, false).await?.unwrap_or_default();
    let catalogue_sig = text(get(&client, base, &format!("{CATALOGUE}{SIGNATURE_SUFFIX}"), true).await?);
    let demarches = get(&client, base, DEMARCHES, false).await?.unwrap_or_default();
    let demarches_sig = text(get(&client, base, &format!("{DEMARCHES}{SIGNATURE_SUFFIX}"), true).await?);
    Ok(Published { catalogue, catalogue_sig, demarches, demarches_sig })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_addresses_are_inside_the_folder_with_or_without_its_slash() {
        for base in ["https://f.example/borne", "https://f.example/borne/"] {
            let u = file_url(&Url::parse(base).unwrap(), "catalogue.toml.minisig").unwrap();
            assert_eq!(u.as_str(), "https://f.example/borne/catalogue.toml.minisig");
        }
    }
}
