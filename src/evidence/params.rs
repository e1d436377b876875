//! A parameter's value in the evidence: never written, only a hash that
//! confirms the same value when it is supplied again.
//!
//! The design choice: a confidential parameter (a revenue-share cap) has
//! few plausible values, so a plain SHA-256 of it is no secret: whoever
//! holds the evidence can hash every amount from 1 to 10^12 in an hour.
//! A salt alone does not help (the salt is in the document). So the hash
//! is PBKDF2-HMAC-SHA256 with a random 16-byte salt per parameter and
//! [`ITERATIONS`] iterations (OWASP's 2023 figure for this PRF): each
//! guess costs what verifying once costs (a fraction of a second), which
//! makes a sweep of a wide range slow and of a narrow range still
//! possible. For a value that must stay secret even from someone who
//! holds the evidence and can guess its range, set `PROVISO_EVIDENCE_KEY`
//! to a secret when writing and when verifying: the value is then first
//! keyed with HMAC-SHA256 under that secret, and without it no guess can
//! be checked at all (the document says `keyed: true`). `proviso verify`
//! recomputes the hash from the value supplied again, with the stored
//! salt (handed to the rerun through [`SALTS_ENV`]).

use super::doc::ProtectedHash;
use super::hash;
use std::collections::BTreeMap;

/// PBKDF2 iterations per parameter.
pub const ITERATIONS: u32 = 600_000;
/// The scheme's name in the document.
pub const SCHEME: &str = "pbkdf2-hmac-sha256";
/// The secret key mixed into every parameter's hash, when set.
pub const KEY_ENV: &str = "PROVISO_EVIDENCE_KEY";
/// `name:salthex,…`: the salts `proviso verify` hands to the run it
/// repeats, so that equal values hash equal.
pub const SALTS_ENV: &str = "PROVISO_EVIDENCE_SALTS";

/// The protected hash of `value` (as supplied, trimmed), with `salt` or a
/// fresh one.
pub fn protect(value: &str, salt: Option<Vec<u8>>) -> ProtectedHash {
    let key = std::env::var(KEY_ENV).ok().filter(|k| !k.is_empty());
    protect_with(value, salt, key.as_deref(), ITERATIONS)
}

/// [`protect`] with the key and cost given.
pub fn protect_with(
    value: &str,
    salt: Option<Vec<u8>>,
    key: Option<&str>,
    iterations: u32,
) -> ProtectedHash {
    let salt = salt.unwrap_or_else(|| hash::random_bytes(16));
    let password = match key {
        Some(k) => hash::hmac_sha256(k.as_bytes(), value.as_bytes()).to_vec(),
        None => value.as_bytes().to_vec(),
    };
    ProtectedHash {
        scheme: SCHEME.into(),
        iterations,
        salt: hash::hex(&salt),
        keyed: key.is_some(),
        digest: hash::hex(&hash::pbkdf2_sha256(&password, &salt, iterations)),
    }
}

/// Whether `value` is the one `stored` protects (same salt, cost and key).
pub fn matches(value: &str, stored: &ProtectedHash) -> bool {
    let key = std::env::var(KEY_ENV).ok().filter(|k| !k.is_empty());
    if stored.scheme != SCHEME || stored.keyed != key.is_some() {
        return false;
    }
    let again = protect_with(
        value,
        hash::unhex(&stored.salt),
        key.as_deref(),
        stored.iterations,
    );
    again.digest == stored.digest
}

/// The salts of a [`SALTS_ENV`] value.
pub fn parse_salts(s: &str) -> BTreeMap<String, String> {
    s.split(',')
        .filter_map(|p| p.split_once(':'))
        .map(|(n, h)| (n.to_string(), h.to_string()))
        .collect()
}

/// A [`SALTS_ENV`] value for the parameters of a document.
pub fn salts_of(params: &[super::doc::ParamEntry]) -> String {
    params
        .iter()
        .filter_map(|p| p.hash.as_ref().map(|h| format!("{}:{}", p.name, h.salt)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether a proviso.yaml's text sets `params:` (then its own hash would
/// give their values away as a plain hash of them would).
pub fn config_holds_params(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    match serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text) {
        Ok(v) => v.get("params").is_some(),
        // Unreadable as YAML: assume the worst.
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_value_matches_and_another_does_not() {
        let h = protect_with("1250000.00", Some(vec![7; 16]), None, 1000);
        assert_eq!(h.salt, "07".repeat(16));
        assert!(!h.keyed);
        assert_eq!(
            h.digest,
            hash::hex(&hash::pbkdf2_sha256(b"1250000.00", &[7; 16], 1000))
        );
        let again = protect_with("1250000.00", hash::unhex(&h.salt), None, 1000);
        assert_eq!(again, h);
        assert_ne!(
            protect_with("1250000.01", hash::unhex(&h.salt), None, 1000).digest,
            h.digest
        );
    }

    #[test]
    fn a_key_changes_the_hash() {
        let plain = protect_with("5", Some(vec![1; 16]), None, 10);
        let keyed = protect_with("5", Some(vec![1; 16]), Some("secret"), 10);
        assert!(keyed.keyed);
        assert_ne!(plain.digest, keyed.digest);
        assert_eq!(
            keyed.digest,
            hash::hex(&hash::pbkdf2_sha256(
                &hash::hmac_sha256(b"secret", b"5"),
                &[1; 16],
                10
            ))
        );
    }

    #[test]
    fn salts_round_trip() {
        let s = parse_salts("cap:00ff,other:abcd");
        assert_eq!(s.get("cap").map(String::as_str), Some("00ff"));
        assert_eq!(s.len(), 2);
        assert!(config_holds_params(b"rules: r\nparams:\n  cap: 5\n"));
        assert!(!config_holds_params(b"rules: r\n"));
    }
}
