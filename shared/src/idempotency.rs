//! `Idempotency-Key` rules (IETF draft + Stripe's behaviour): which keys are valid, the request
//! fingerprint, and what a stored record means for a new request with the same key.

use crate::error::{ApiError, ErrorCode};
use sha2::{Digest, Sha256};

pub const HEADER: &str = "Idempotency-Key";
pub const MAX_KEY_LEN: usize = 255;

/// Checks the header value: present, 1..=255 printable ASCII characters.
pub fn validate_key(value: Option<&str>) -> Result<&str, ApiError> {
    let key = value.ok_or_else(|| ApiError::new(ErrorCode::IdempotencyKeyMissing))?;
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| (0x21..=0x7e).contains(&b))
    {
        return Err(ApiError::new(ErrorCode::IdempotencyKeyInvalid));
    }
    Ok(key)
}

/// SHA-256 over method, path and the canonical JSON body (keys sorted, no whitespace), hex.
pub fn fingerprint(method: &str, path: &str, body: &serde_json::Value) -> String {
    // serde_json's default map is ordered by key, so `to_string` is canonical.
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b"\n");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(body.to_string().as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The key the gateway sees: derived from merchant and client key so that a retry after an edge
/// crash is deduplicated by the gateway as well, and keys never collide across merchants.
pub fn gateway_key(merchant_id: &str, endpoint: &str, key: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [merchant_id, endpoint, key] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("till_{hex}")
}

/// A merchant's records are spread over this many objects ([`crate::spread`]), each taking
/// ~1,000 requests a second: ~8,000 claims a second per merchant, above the merchant's browser
/// rate limit and the database's write ceiling (docs/scaling.md).
pub const OBJECTS_PER_MERCHANT: u32 = 8;

/// The name a (merchant, endpoint, key)'s record is kept and cached under: a hash, because a
/// key may hold any printable character.
pub fn record_name(merchant_id: &str, endpoint: &str, key: &str) -> String {
    crate::api_keys::hash_secret(&format!("{merchant_id}\n{endpoint}\n{key}"))
}

/// The object that holds the record `record_name` of `merchant_id`: one of the merchant's
/// [`OBJECTS_PER_MERCHANT`].
pub fn object_name(merchant_id: &str, record_name: &str) -> String {
    crate::spread::object_name(
        "idempotency",
        merchant_id,
        record_name,
        OBJECTS_PER_MERCHANT,
    )
}

/// What was stored under a key before this request arrived.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Stored {
    InFlight {
        fingerprint: String,
        /// Unix seconds when the current owner started; an owner silent for too long has died.
        #[serde(default)]
        started: i64,
    },
    Done {
        fingerprint: String,
        status: u16,
        body: String,
    },
}

/// The deciding record's answer to "may this request run?".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Begin {
    /// No record: this request runs and owns the key.
    First,
    /// The previous owner died mid-flight; this request takes over. It must find out what the
    /// first one did (ask the gateway) before doing anything itself.
    Recover,
    /// Someone else holds, or held, the key.
    Existing { stored: Stored },
}

/// The pure core of the Durable Object's `begin`: what to answer, and what to store.
pub fn begin(
    stored: Option<Stored>,
    fingerprint: &str,
    now: i64,
    stale_after: i64,
) -> (Begin, Option<Stored>) {
    let in_flight = Stored::InFlight {
        fingerprint: fingerprint.to_string(),
        started: now,
    };
    match stored {
        None => (Begin::First, Some(in_flight)),
        Some(Stored::InFlight {
            fingerprint: first,
            started,
        }) if first == fingerprint && now - started >= stale_after => {
            (Begin::Recover, Some(in_flight))
        }
        Some(existing) => (Begin::Existing { stored: existing }, None),
    }
}

/// The same key, sent before with a different request.
pub fn key_reused() -> ApiError {
    ApiError::new(ErrorCode::IdempotencyKeyReused)
}

/// What to do with a request whose key already has a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Replay { status: u16, body: String },
    Reject(ApiError),
}

pub fn decide(stored: Stored, fingerprint: &str) -> Decision {
    let (Stored::InFlight {
        fingerprint: first, ..
    }
    | Stored::Done {
        fingerprint: first, ..
    }) = &stored;
    if first != fingerprint {
        return Decision::Reject(key_reused());
    }
    match stored {
        Stored::InFlight { .. } => {
            Decision::Reject(ApiError::new(ErrorCode::IdempotencyRequestInProgress))
        }
        Stored::Done { status, body, .. } => Decision::Replay { status, body },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_key_is_one_record_in_one_of_its_merchants_objects() {
        let objects: std::collections::BTreeSet<_> = (0..1_000)
            .map(|n| record_name("mer_a", "checkout_sessions.confirm", &format!("key-{n}")))
            .map(|name| object_name("mer_a", &name))
            .collect();
        assert_eq!(objects.len(), OBJECTS_PER_MERCHANT as usize);
        let name = record_name("mer_a", "refunds", "key-1");
        assert_eq!(object_name("mer_a", &name), object_name("mer_a", &name));
        assert_ne!(
            object_name("mer_a", &name),
            object_name("mer_b", &name),
            "merchants share no object"
        );
        assert_ne!(
            record_name("mer_a", "refunds", "key-1"),
            record_name("mer_a", "payments.capture", "key-1"),
            "one key on two endpoints is two records"
        );
    }

    #[test]
    fn key_validation() {
        assert_eq!(
            validate_key(None).unwrap_err().error.code,
            ErrorCode::IdempotencyKeyMissing
        );
        for bad in ["", "has space", &"k".repeat(256), "tab\t", "ключ"] {
            assert_eq!(
                validate_key(Some(bad)).unwrap_err().error.code,
                ErrorCode::IdempotencyKeyInvalid,
                "{bad:?}"
            );
        }
        assert_eq!(validate_key(Some(&"k".repeat(255))).unwrap().len(), 255);
    }

    #[test]
    fn fingerprint_ignores_key_order_but_not_values() {
        let a = fingerprint("POST", "/v1/x", &json!({"a": 1, "b": 2}));
        let b = fingerprint("POST", "/v1/x", &json!({"b": 2, "a": 1}));
        let c = fingerprint("POST", "/v1/x", &json!({"a": 1, "b": 3}));
        let d = fingerprint("POST", "/v1/y", &json!({"a": 1, "b": 2}));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn gateway_keys_differ_by_merchant() {
        assert_ne!(
            gateway_key("m1", "confirm", "k"),
            gateway_key("m2", "confirm", "k")
        );
        assert_ne!(
            gateway_key("m1", "confirmk", ""),
            gateway_key("m1", "confirm", "k")
        );
        assert_eq!(
            gateway_key("m1", "confirm", "k"),
            gateway_key("m1", "confirm", "k")
        );
    }

    #[test]
    fn begin_takes_over_only_a_stale_record_of_the_same_request() {
        let (first, stored) = begin(None, "f", 100, 30);
        assert_eq!(first, Begin::First);
        let stored = stored.unwrap();
        let (busy, write) = begin(Some(stored.clone()), "f", 110, 30);
        assert!(matches!(busy, Begin::Existing { .. }) && write.is_none());
        let (recover, write) = begin(Some(stored.clone()), "f", 130, 30);
        assert_eq!(recover, Begin::Recover);
        assert_eq!(
            write,
            Some(Stored::InFlight {
                fingerprint: "f".into(),
                started: 130
            })
        );
        let (other, write) = begin(Some(stored), "g", 500, 30);
        assert!(matches!(other, Begin::Existing { .. }) && write.is_none());
        let done = Stored::Done {
            fingerprint: "f".into(),
            status: 200,
            body: "{}".into(),
        };
        let (replay, write) = begin(Some(done.clone()), "f", 10_000, 30);
        assert_eq!(replay, Begin::Existing { stored: done });
        assert!(write.is_none());
    }

    #[test]
    fn decisions() {
        let done = Stored::Done {
            fingerprint: "f".into(),
            status: 200,
            body: "{}".into(),
        };
        assert_eq!(
            decide(done.clone(), "f"),
            Decision::Replay {
                status: 200,
                body: "{}".into()
            }
        );
        let Decision::Reject(e) = decide(done, "g") else {
            panic!("different fingerprint must be rejected")
        };
        assert_eq!(e.status(), 422);
        let Decision::Reject(e) = decide(
            Stored::InFlight {
                fingerprint: "f".into(),
                started: 0,
            },
            "f",
        ) else {
            panic!("in-flight must be rejected")
        };
        assert_eq!(e.status(), 409);
    }
}
