//! Webhook signatures, both directions (gateway -> Till, Till -> merchant):
//! `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, checked within a tolerance.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Signatures older (or newer) than this are refused: a captured request cannot be replayed later.
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    Malformed,
    OutsideTolerance,
    Mismatch,
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignatureError::Malformed => "the signature header is malformed",
            SignatureError::OutsideTolerance => "the signature timestamp is outside the tolerance",
            SignatureError::Mismatch => "the signature does not match the body",
        })
    }
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = crate::mac::hmac_sha256(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value for `body` sent at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let signature = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(signature))
}

/// Longest signature header read: a timestamp and a few `v1` values during a secret roll.
const MAX_HEADER_LEN: usize = 1024;

/// The parts of a signature header: its timestamp and the signatures it carries.
fn parse_header(header: &str) -> Result<(i64, Vec<Vec<u8>>), SignatureError> {
    if header.len() > MAX_HEADER_LEN {
        return Err(SignatureError::Malformed);
    }
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => {
                signatures.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?)
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    Ok((timestamp, signatures))
}

/// What can be checked before the body is read: the header's shape and its timestamp.
pub fn check_header(header: &str, now: i64) -> Result<(), SignatureError> {
    let (timestamp, _) = parse_header(header)?;
    if now.abs_diff(timestamp) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(SignatureError::OutsideTolerance);
    }
    Ok(())
}

/// Checks a header against the body, in constant time, within [`TOLERANCE_SECONDS`] of `now`.
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: i64) -> Result<(), SignatureError> {
    check_header(header, now)?;
    let (timestamp, signatures) = parse_header(header)?;
    // Several v1 values are allowed while a secret is being rolled.
    if signatures
        .iter()
        .any(|s| mac(secret, timestamp, body).verify_slice(s).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies() {
        let header = sign(b"whsec", 1_000, b"{\"a\":1}");
        assert!(header.starts_with("t=1000,v1="));
        assert_eq!(verify(b"whsec", &header, b"{\"a\":1}", 1_000), Ok(()));
        assert_eq!(
            verify(b"whsec", &header, b"{\"a\":1}", 1_000 + TOLERANCE_SECONDS),
            Ok(())
        );
    }

    #[test]
    fn rejects_tampering_wrong_secrets_old_and_malformed_headers() {
        let header = sign(b"whsec", 1_000, b"body");
        assert_eq!(
            verify(b"whsec", &header, b"bodY", 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other", &header, b"body", 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"whsec", &header, b"body", 1_001 + TOLERANCE_SECONDS),
            Err(SignatureError::OutsideTolerance)
        );
        assert_eq!(
            verify(b"whsec", "v1=abcd", b"body", 1_000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(b"whsec", "t=1000", b"body", 1_000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(b"whsec", "t=1000,v1=zz", b"body", 1_000),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn extreme_timestamps_and_huge_headers_are_refused_without_overflow() {
        for header in [
            format!("t={},v1=00", i64::MIN),
            format!("t={},v1=00", i64::MAX),
            "t=-1,v1=00".to_string(),
        ] {
            assert_eq!(
                verify(b"k", &header, b"", 1_000),
                Err(SignatureError::OutsideTolerance),
                "{header}"
            );
        }
        assert_eq!(
            check_header(&format!("t={},v1=00", i64::MAX), i64::MIN),
            Err(SignatureError::OutsideTolerance)
        );
        let huge = format!("t=1000,{}", "v1=00,".repeat(500));
        assert_eq!(
            verify(b"k", &huge, b"", 1_000),
            Err(SignatureError::Malformed)
        );
    }

    /// The documented algorithm, computed independently: HMAC-SHA256("key", "1.x").
    #[test]
    fn matches_a_known_hmac() {
        let header = sign(b"key", 1, b"x");
        let expected = {
            let mut m = Hmac::<Sha256>::new_from_slice(b"key").unwrap();
            m.update(b"1.x");
            hex::encode(m.finalize().into_bytes())
        };
        assert_eq!(header, format!("t=1,v1={expected}"));
    }
}
