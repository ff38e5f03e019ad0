//! `Till-Signature` / gateway webhook signature headers: `t=<unix>,v1=<hex>`.
//!
//! Structured input (`till_fuzz::SignatureInput`, via `arbitrary`): the clock, a skew within the tolerance, the secret, the
//! body and the header text. Invariants: `verify` never panics, whatever the header or the clock;
//! whatever `sign` produces verifies within the tolerance (also next to other header parts) and
//! fails for another body or secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use till_core::webhook::{sign, verify, SignatureError, TOLERANCE_SECONDS};
use till_fuzz::SignatureInput;

fuzz_target!(|input: SignatureInput| {
    let SignatureInput {
        now,
        skew,
        secret,
        body,
        header,
    } = input;

    let verdict = verify(secret, header, body, now);
    if verdict.is_ok() {
        assert!(header.contains("t=") && header.contains("v1="));
    }

    let Some(timestamp) = now.checked_sub(i64::from(skew) % (TOLERANCE_SECONDS + 1)) else {
        return;
    };
    let signed = sign(secret, timestamp, body);
    assert_eq!(verify(secret, &signed, body, now), Ok(()), "{signed}");
    // A roll-over header carries an extra (old) v1 and unknown parts; it still verifies.
    let rolled = format!("{signed},v1=00ff,v0=legacy, x");
    assert_eq!(verify(secret, &rolled, body, now), Ok(()), "{rolled}");

    let mut other_body = body.to_vec();
    other_body.push(b'!');
    assert_eq!(
        verify(secret, &signed, &other_body, now),
        Err(SignatureError::Mismatch)
    );
    // Not just `secret` plus a zero byte: HMAC zero-pads short keys, so that is the same key.
    let mut other_secret = secret.to_vec();
    other_secret.push(0);
    other_secret[0] ^= 1;
    assert_eq!(
        verify(&other_secret, &signed, body, now),
        Err(SignatureError::Mismatch)
    );
});
