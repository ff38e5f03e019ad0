//! Fixtures shared by the fuzz targets and the seed generator (`examples/seeds.rs`), so the
//! committed seeds (a JWE for the fuzz key, in-tolerance signatures) match what the targets expect.

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use till_core::card::YearMonth;
use till_core::crypto::{self, CardKey};

/// The `kid` of the fixed card key; JWEs in the corpus name it.
pub const KID: &str = "fuzz-key";
/// The checkout session the fixed JWE is bound to.
pub const SESSION: &str = "cs_fuzz";
/// The clock for payload checks: 2026-11-18T17:46:40Z.
pub const NOW: i64 = 1_795_000_000;
/// The month of [`NOW`], for card validation.
pub const THIS_MONTH: YearMonth = YearMonth {
    year: 2026,
    month: 11,
};

/// The edge's card key, from fixed bytes (a valid P-256 scalar).
pub fn card_key() -> CardKey {
    CardKey::from_secret_bytes(KID, [0x11; 32]).expect("0x11.. is a valid P-256 scalar")
}

/// A card payload as the widget encrypts it: test card 4242 4242 4242 4242, made at [`NOW`].
pub fn card_payload_json() -> String {
    format!(
        r#"{{"card":{{"number":"4242424242424242","exp_month":12,"exp_year":2030,"cvc":"123","name":"Ada Lovelace"}},"iat":{NOW},"nonce":"bm9uY2Utbm9uY2Utbm9uY2U"}}"#
    )
}

/// [`card_payload_json`] encrypted to [`card_key`] for [`SESSION`], with fixed randomness.
pub fn valid_jwe(key: &CardKey) -> String {
    crypto::encrypt(
        &key.public_jwk(),
        SESSION,
        card_payload_json().as_bytes(),
        [0x22; 32],
        [0x33; 12],
    )
    .expect("encrypting to a valid key")
}

/// The webhook secret the signature seeds use.
pub const WEBHOOK_SECRET: &[u8] = b"whsec_fuzz";

/// The `signature_header` target's input, decoded from the fuzzer's bytes by `arbitrary`: here so
/// the seed generator can check that its seeds decode to what it means.
#[derive(Arbitrary, Debug, PartialEq, Eq)]
pub struct SignatureInput<'a> {
    /// The verifier's clock.
    pub now: i64,
    /// How far before `now` a fresh signature is made (reduced into the tolerance).
    pub skew: i16,
    pub secret: &'a [u8],
    pub body: &'a [u8],
    /// A header as received.
    pub header: &'a str,
}
