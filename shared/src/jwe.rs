//! The compact JWE format both sides speak: `ECDH-ES` (direct key agreement) on P-256 with
//! `A256GCM` (RFC 7516, RFC 7518 §4.6). The curve math and AES run in WebCrypto (widget) and
//! RustCrypto (edge); the format and the key derivation live here once.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const ALG: &str = "ECDH-ES";
pub const ENC: &str = "A256GCM";

/// A public EC key as a JWK (the edge's key in the JWKS, or the sender's ephemeral key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcPublicJwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub y: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<EcPublicJwk>,
}

/// The protected header. `cs` binds the ciphertext to one checkout session: it is authenticated
/// as AES-GCM additional data, so moving a blob to another session fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectedHeader {
    pub alg: String,
    pub enc: String,
    pub kid: String,
    pub epk: EcPublicJwk,
    pub cs: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JweError {
    Malformed,
    UnsupportedAlgorithm,
}

impl std::fmt::Display for JweError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JweError::Malformed => "encrypted_card is not a compact JWE",
            JweError::UnsupportedAlgorithm => "encrypted_card must use ECDH-ES with A256GCM",
        })
    }
}

/// A parsed compact JWE. `aad` is the ASCII of the encoded header, as RFC 7516 §5.1 step 14 says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactJwe {
    pub header: ProtectedHeader,
    pub aad: Vec<u8>,
    pub iv: [u8; 12],
    pub ciphertext: Vec<u8>,
    pub tag: [u8; 16],
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Result<Vec<u8>, JweError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JweError::Malformed)
}

/// Largest JWE accepted: a card is well under 1 KB of plaintext.
pub const MAX_COMPACT_LEN: usize = 4096;

impl CompactJwe {
    pub fn parse(compact: &str) -> Result<Self, JweError> {
        if compact.len() > MAX_COMPACT_LEN {
            return Err(JweError::Malformed);
        }
        let parts: Vec<&str> = compact.split('.').collect();
        let [header_b64, encrypted_key, iv, ciphertext, tag] = parts[..] else {
            return Err(JweError::Malformed);
        };
        // Direct key agreement carries no encrypted key.
        if !encrypted_key.is_empty() {
            return Err(JweError::UnsupportedAlgorithm);
        }
        let header: ProtectedHeader =
            serde_json::from_slice(&unb64(header_b64)?).map_err(|_| JweError::Malformed)?;
        if header.alg != ALG || header.enc != ENC {
            return Err(JweError::UnsupportedAlgorithm);
        }
        if header.epk.kty != "EC" || header.epk.crv != "P-256" {
            return Err(JweError::UnsupportedAlgorithm);
        }
        let iv: [u8; 12] = unb64(iv)?.try_into().map_err(|_| JweError::Malformed)?;
        let tag: [u8; 16] = unb64(tag)?.try_into().map_err(|_| JweError::Malformed)?;
        Ok(CompactJwe {
            header,
            aad: header_b64.as_bytes().to_vec(),
            iv,
            ciphertext: unb64(ciphertext)?,
            tag,
        })
    }

    /// Serializes parts produced by an encrypter. `ciphertext_and_tag` is AES-GCM's output as
    /// WebCrypto returns it: the 16-byte tag last.
    pub fn serialize(header_b64: &str, iv: &[u8], ciphertext_and_tag: &[u8]) -> Option<String> {
        let split = ciphertext_and_tag.len().checked_sub(16)?;
        let (ciphertext, tag) = ciphertext_and_tag.split_at(split);
        Some(format!(
            "{header_b64}..{}.{}.{}",
            b64(iv),
            b64(ciphertext),
            b64(tag)
        ))
    }
}

/// The encoded protected header for a card sent to `kid` for session `cs`.
pub fn encode_header(kid: &str, epk: EcPublicJwk, session: &str) -> String {
    let header = ProtectedHeader {
        alg: ALG.into(),
        enc: ENC.into(),
        kid: kid.into(),
        epk,
        cs: session.into(),
    };
    // Serializing plain strings cannot fail.
    b64(serde_json::to_string(&header)
        .unwrap_or_default()
        .as_bytes())
}

/// Concat KDF (NIST SP 800-56A, RFC 7518 §4.6.2) for direct key agreement: the content key
/// from the shared secret `z`, with empty PartyUInfo/PartyVInfo.
pub fn concat_kdf(z: &[u8], enc: &str, key_bits: u32) -> Vec<u8> {
    concat_kdf_with_parties(z, enc, b"", b"", key_bits)
}

pub fn concat_kdf_with_parties(
    z: &[u8],
    enc: &str,
    apu: &[u8],
    apv: &[u8],
    key_bits: u32,
) -> Vec<u8> {
    let digest = Sha256::digest(concat_kdf_round(z, enc, apu, apv, key_bits));
    digest.iter().take(key_bits as usize / 8).copied().collect()
}

/// What Concat KDF's single SHA-256 round hashes (round 1 gives all of a key of at most 256
/// bits). The widget has it hashed by WebCrypto rather than shipping SHA-256.
pub fn concat_kdf_round(z: &[u8], enc: &str, apu: &[u8], apv: &[u8], key_bits: u32) -> Vec<u8> {
    let with_length = |out: &mut Vec<u8>, data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(data);
    };
    let mut round = 1u32.to_be_bytes().to_vec();
    round.extend_from_slice(z);
    with_length(&mut round, enc.as_bytes());
    with_length(&mut round, apu);
    with_length(&mut round, apv);
    round.extend_from_slice(&key_bits.to_be_bytes());
    round
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7518 Appendix C: ECDH-ES key agreement example.
    #[test]
    fn concat_kdf_matches_rfc_7518_appendix_c() {
        let z = [
            158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49,
            110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
        ];
        let key = concat_kdf_with_parties(&z, "A128GCM", b"Alice", b"Bob", 128);
        assert_eq!(b64(&key), "VqqN6vgjbSBcIijNcacQGg");
    }

    fn epk() -> EcPublicJwk {
        EcPublicJwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: "x".into(),
            y: "y".into(),
            kid: None,
            key_use: None,
            alg: None,
        }
    }

    #[test]
    fn serialize_then_parse() {
        let header = encode_header("k1", epk(), "cs_1");
        let mut ct = vec![1u8, 2, 3];
        ct.extend([9u8; 16]);
        let compact = CompactJwe::serialize(&header, &[0u8; 12], &ct).unwrap();
        let parsed = CompactJwe::parse(&compact).unwrap();
        assert_eq!(parsed.header.kid, "k1");
        assert_eq!(parsed.header.cs, "cs_1");
        assert_eq!(parsed.ciphertext, vec![1, 2, 3]);
        assert_eq!(parsed.tag, [9u8; 16]);
        assert_eq!(parsed.aad, header.as_bytes());
    }

    #[test]
    fn rejects_other_shapes_and_algorithms() {
        assert_eq!(CompactJwe::parse("a.b.c"), Err(JweError::Malformed));
        assert_eq!(CompactJwe::parse(""), Err(JweError::Malformed));
        let rsa = b64(br#"{"alg":"RSA-OAEP","enc":"A256GCM","kid":"k","cs":"c","epk":{"kty":"EC","crv":"P-256","x":"x","y":"y"}}"#);
        let compact = format!("{rsa}..{}.{}.{}", b64(&[0; 12]), b64(&[1]), b64(&[0; 16]));
        assert_eq!(
            CompactJwe::parse(&compact),
            Err(JweError::UnsupportedAlgorithm)
        );
        let long = "a".repeat(MAX_COMPACT_LEN + 1);
        assert_eq!(CompactJwe::parse(&long), Err(JweError::Malformed));
    }
}
