//! HMAC-SHA256, the one keyed hash Till uses (webhook signatures, card fingerprints).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A fresh HMAC-SHA256 state for `key`.
#[expect(
    clippy::expect_used,
    reason = "HMAC is defined for keys of any length (RFC 2104): new_from_slice cannot fail"
)]
pub fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length")
}
