//! API keys and client secrets: recognised by prefix, stored and compared only as SHA-256 hashes.

use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// `sk_test_...`: merchant servers only; every operation.
    Secret,
    /// `pk_test_...`: browsers; tokens and the session named by its client secret.
    Publishable,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Secret => "secret",
            KeyKind::Publishable => "publishable",
        }
    }

    /// Recognises a key by its prefix; the key must still be looked up by hash.
    pub fn of(key: &str) -> Option<KeyKind> {
        let well_formed = key.len() >= 16
            && key.len() <= 128
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !well_formed {
            return None;
        }
        if key.starts_with("sk_test_") {
            Some(KeyKind::Secret)
        } else if key.starts_with("pk_test_") {
            Some(KeyKind::Publishable)
        } else {
            None
        }
    }
}

/// Hex SHA-256 of a key or client secret: what the database stores instead of the value.
pub fn hash_secret(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Extracts the key from an `Authorization: Bearer <key>` header value.
pub fn bearer_key(header: &str) -> Option<&str> {
    header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_kinds_by_prefix() {
        assert_eq!(KeyKind::of("sk_test_abcdefghijkl"), Some(KeyKind::Secret));
        assert_eq!(
            KeyKind::of("pk_test_abcdefghijkl"),
            Some(KeyKind::Publishable)
        );
        assert_eq!(KeyKind::of("sk_live_abcdefghijkl"), None);
        assert_eq!(KeyKind::of("sk_test_"), None);
        assert_eq!(KeyKind::of("sk_test_abc'; DROP TABLE"), None);
    }

    #[test]
    fn hash_is_stable_hex_sha256() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_key("Bearer sk_test_x"), Some("sk_test_x"));
        assert_eq!(bearer_key("Basic abc"), None);
        assert_eq!(bearer_key("Bearer "), None);
    }
}
