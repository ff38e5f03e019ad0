//! Time-based one-time codes (RFC 6238: HMAC-SHA1, six digits, 30-second steps), the optional
//! second factor of dashboard sign-in.

use totp_rs::{Algorithm, Secret, TOTP};

const DIGITS: usize = 6;
const STEP_SECONDS: u64 = 30;
/// Codes from one step before or after are accepted: phones' clocks drift.
const SKEW_STEPS: u8 = 1;
/// The name authenticator apps show above the code.
pub const ISSUER: &str = "Till";

fn totp(secret: &[u8], account: &str) -> Option<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        SKEW_STEPS,
        STEP_SECONDS,
        secret.to_vec(),
        Some(ISSUER.to_string()),
        account.to_string(),
    )
    .ok()
}

/// The base32 form people type into an authenticator app.
pub fn encode_secret(secret: &[u8; 20]) -> String {
    Secret::Raw(secret.to_vec()).to_encoded().to_string()
}

fn decode_secret(encoded: &str) -> Option<Vec<u8>> {
    Secret::Encoded(encoded.to_string()).to_bytes().ok()
}

/// `otpauth://totp/Till:ana%40shop.example?secret=…&issuer=Till`, for apps that scan it.
pub fn uri(encoded_secret: &str, account: &str) -> Option<String> {
    Some(totp(&decode_secret(encoded_secret)?, account)?.get_url())
}

/// The 30-second step `code` belongs to, if it is the code for `now` (give or take one step).
/// Callers refuse a step at or before the last one used, so a code works once.
pub fn verify(encoded_secret: &str, code: &str, now: u64) -> Option<u64> {
    let secret = decode_secret(encoded_secret)?;
    let totp = totp(&secret, "")?;
    let step = now / STEP_SECONDS;
    [step.saturating_sub(1), step, step + 1]
        .into_iter()
        .find(|&candidate| {
            let expected = totp.generate(candidate * STEP_SECONDS);
            constant_time_equal(expected.as_bytes(), code.as_bytes())
        })
}

/// The code an authenticator shows at `now` (tests and tools stand in for the phone).
pub fn code_at(encoded_secret: &str, now: u64) -> Option<String> {
    Some(totp(&decode_secret(encoded_secret)?, "")?.generate(now))
}

fn constant_time_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 secret "12345678901234567890".
    const RFC_SECRET: &[u8; 20] = b"12345678901234567890";

    #[test]
    fn matches_the_rfc_6238_test_vectors() {
        let secret = encode_secret(RFC_SECRET);
        // Eight-digit vectors, last six digits: 94287082, 07081804, 14050471.
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
        assert_eq!(code_at(&secret, 1111111109).unwrap(), "081804");
        assert_eq!(code_at(&secret, 1111111111).unwrap(), "050471");
    }

    #[test]
    fn accepts_one_step_of_drift_and_names_the_step() {
        let secret = encode_secret(RFC_SECRET);
        let now = 1_700_000_000;
        let code = code_at(&secret, now).unwrap();
        assert_eq!(verify(&secret, &code, now), Some(now / 30));
        assert_eq!(verify(&secret, &code, now + 30), Some(now / 30));
        assert_eq!(verify(&secret, &code, now + 90), None);
        assert_eq!(verify(&secret, "000000", now).is_some(), code == "000000");
        assert_eq!(verify("not base32!", &code, now), None);
    }

    #[test]
    fn the_uri_names_the_issuer_and_account() {
        let uri = uri(&encode_secret(RFC_SECRET), "ana@shop.example").unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Till:ana%40shop.example?secret="),
            "{uri}"
        );
        assert!(uri.contains("issuer=Till"));
    }
}
