//! `Idempotency-Key` header values.
//!
//! Invariant: `validate_key` accepts exactly the keys of 1 to 255 bytes in `0x21..=0x7e`, and
//! returns the key unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use till_core::error::ErrorCode;
use till_core::idempotency::{validate_key, MAX_KEY_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(key) = std::str::from_utf8(data) else {
        return;
    };
    let valid =
        (1..=MAX_KEY_LEN).contains(&key.len()) && key.bytes().all(|b| (0x21..=0x7e).contains(&b));
    match validate_key(Some(key)) {
        Ok(accepted) => {
            assert!(valid, "accepted {key:?}");
            assert_eq!(accepted, key);
            assert!((1..=255).contains(&accepted.len()));
            assert!(accepted.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        }
        Err(error) => {
            assert!(!valid, "rejected {key:?}");
            assert_eq!(error.code(), ErrorCode::IdempotencyKeyInvalid);
            assert_eq!(error.status(), 400);
        }
    }
});
