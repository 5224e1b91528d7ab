//! The federation's keys and the detached minisign signatures of the channel's files
//! ([`crate::channel`]; also known as `channel::signature`). Uses no other module: the settings
//! ([`crate::config`]) check the keys written in them with it.
//!
//! Verification only (minisign-verify: no secret-key code in the borne). A signature's trusted
//! comment — signed with the file — names the file and its version
//! (`borne-catalogue file=catalogue.toml version=2026120301`), so a signed file can be neither
//! renamed into the other one nor paired with another version's signature.

use minisign_verify::{PublicKey, Signature};

/// A detached signature is the file's name followed by this.
pub const SIGNATURE_SUFFIX: &str = ".minisig";

/// The trusted comment's first word.
pub const COMMENT_TAG: &str = "borne-catalogue";

/// One of the federation's public keys.
#[derive(Debug, Clone)]
pub struct FederationKey {
    key: PublicKey,
    base64: String,
    id: String,
}

/// Why a key or a signature is refused (English, for logs; the channel turns them into refusals).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Not a minisign public key.
    #[error("not a minisign public key")]
    BadKey,
    /// The `.minisig` file cannot be decoded.
    #[error("the signature file cannot be decoded")]
    Malformed,
    /// Made with a key that is none of the federation's.
    #[error("signed with key {0}, which is none of the federation's")]
    OtherKey(String),
    /// The key matches but the signature does not: the file or its comment was changed.
    #[error("the signature does not match the file (tampered)")]
    Tampered,
}

/// The key id minisign prints (`%016X` of the 8 id bytes read little-endian).
fn key_id(bytes: &[u8]) -> String {
    bytes.iter().rev().map(|b| format!("{b:02X}")).collect()
}

impl FederationKey {
    /// From the base64 line of a `.pub` file (`RW…`), or the whole file (its comment line is skipped).
    pub fn parse(text: &str) -> Result<FederationKey, SignatureError> {
        use base64::Engine;
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
            .ok_or(SignatureError::BadKey)?;
        let key = PublicKey::from_base64(line).map_err(|_| SignatureError::BadKey)?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(line).map_err(|_| SignatureError::BadKey)?;
        let id = bytes.get(2..10).map(key_id).ok_or(SignatureError::BadKey)?;
        Ok(FederationKey { key, base64: line.to_string(), id })
    }

    /// The base64 line.
    pub fn base64(&self) -> &str {
        &self.base64
    }

    /// The key id, as `minisign` shows it (16 hex digits).
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The key id a signature names (for the log when it is none of ours).
fn signature_key_id(sig_text: &str) -> String {
    use base64::Engine;
    sig_text
        .lines()
        .nth(1)
        .and_then(|l| base64::engine::general_purpose::STANDARD.decode(l.trim()).ok())
        .and_then(|b| b.get(2..10).map(key_id))
        .unwrap_or_else(|| "?".into())
}

/// Verifies `data` against its `.minisig` text with any of `keys`; returns the trusted comment and
/// the id of the key that signed.
pub fn verify(data: &[u8], sig_text: &str, keys: &[FederationKey]) -> Result<(String, String), SignatureError> {
    let sig = Signature::decode(sig_text).map_err(|_| SignatureError::Malformed)?;
    let mut other_key = true;
    for k in keys {
        match k.key.verify(data, &sig, false) {
            Ok(()) => return Ok((sig.trusted_comment().to_string(), k.id.clone())),
            Err(minisign_verify::Error::UnexpectedKeyId) => {}
            Err(_) => other_key = false,
        }
    }
    if other_key {
        Err(SignatureError::OtherKey(signature_key_id(sig_text)))
    } else {
        Err(SignatureError::Tampered)
    }
}

/// The trusted comment the federation signs with (see [`COMMENT_TAG`]).
pub fn trusted_comment(file: &str, version: u64) -> String {
    format!("{COMMENT_TAG} file={file} version={version}")
}

/// The file name and version a trusted comment names, if it is one of ours.
pub fn parse_comment(comment: &str) -> Option<(String, u64)> {
    let mut words = comment.split_whitespace();
    if words.next() != Some(COMMENT_TAG) {
        return None;
    }
    let (mut file, mut version) = (None, None);
    for w in words {
        if let Some(f) = w.strip_prefix("file=") {
            file = Some(f.to_string());
        } else if let Some(v) = w.strip_prefix("version=") {
            version = v.parse().ok();
        }
    }
    Some((file?, version?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_round_trip_and_foreign_ones_are_none() {
        assert_eq!(parse_comment(&trusted_comment("catalogue.toml", 7)), Some(("catalogue.toml".into(), 7)));
        assert_eq!(parse_comment("timestamp:1700000000"), None);
        assert_eq!(parse_comment("borne-catalogue file=catalogue.toml"), None);
    }

    #[test]
    fn a_key_is_read_from_its_line_or_its_file_and_junk_is_refused() {
        let kp = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let line = kp.pk.to_base64();
        let file = kp.pk.to_box().unwrap().into_string();
        let a = FederationKey::parse(&line).unwrap();
        let b = FederationKey::parse(&file).unwrap();
        assert_eq!(a.base64(), b.base64());
        assert_eq!(a.id().len(), 16);
        assert!(file.contains(a.id()), "minisign's own file names the same id: {file}");
        assert_eq!(FederationKey::parse("RWQ-pas-une-clé").unwrap_err(), SignatureError::BadKey);
        assert_eq!(FederationKey::parse("").unwrap_err(), SignatureError::BadKey);
    }
}
