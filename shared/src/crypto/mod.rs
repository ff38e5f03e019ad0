//! Card encryption in Rust. Randomness always comes from the caller.
//!
//! Feature `crypto`: the card keys' form, the widget's JWEs opened once the key agreement is
//! made, and the vault's records (AES-256-GCM). The edge makes the agreement itself in the
//! runtime's WebCrypto, which is native code, and so links no elliptic-curve arithmetic.
//! Feature `ecdh` adds the P-256 agreement in Rust ([`ecdh`]): tests and tools encrypt cards
//! the way the widget does and decrypt them the way the edge does.

use crate::jwe::{self, unb64, CompactJwe, EcPublicJwk, JweError};
use crate::secret::Secret;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ecdh")]
mod ecdh;
#[cfg(feature = "ecdh")]
pub use ecdh::{decrypt, encrypt, CardKey};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptoError {
    Jwe(JweError),
    UnknownKey,
    InvalidKey,
    Decryption,
}

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CryptoError::Jwe(e) => e.fmt(f),
            CryptoError::UnknownKey => f.write_str("encrypted_card names an unknown key id"),
            CryptoError::InvalidKey => f.write_str("key material is invalid"),
            CryptoError::Decryption => f.write_str("encrypted_card could not be decrypted"),
        }
    }
}

impl From<JweError> for CryptoError {
    fn from(e: JweError) -> Self {
        CryptoError::Jwe(e)
    }
}

/// A private P-256 key as stored in the edge's secret: a JWK with `d`.
#[derive(Clone, Serialize, Deserialize)]
pub struct PrivateJwk {
    pub kty: String,
    pub crv: String,
    pub kid: String,
    pub x: String,
    pub y: String,
    pub d: String,
}

impl std::fmt::Debug for PrivateJwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateJwk {{ kid: {}, d: [REDACTED] }}", self.kid)
    }
}

impl PrivateJwk {
    /// The private scalar and the public half as `GET /v1/keys` publishes it, once the key has
    /// the form of a P-256 key: `d`, `x` and `y` of 32 bytes each. Whether `d` and the point
    /// belong together is a curve computation the holder makes: `CardKey::from_jwk` in Rust,
    /// the edge in WebCrypto.
    pub fn split(&self) -> Result<(Secret<[u8; 32]>, EcPublicJwk), CryptoError> {
        if self.kty != "EC" || self.crv != "P-256" {
            return Err(CryptoError::InvalidKey);
        }
        let scalar = coordinate(&self.d)?;
        coordinate(&self.x)?;
        coordinate(&self.y)?;
        let public = EcPublicJwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: self.x.clone(),
            y: self.y.clone(),
            kid: Some(self.kid.clone()),
            key_use: Some("enc".into()),
            alg: Some(jwe::ALG.into()),
        };
        Ok((Secret::new(scalar), public))
    }
}

/// A P-256 coordinate or scalar in base64url: 32 bytes.
fn coordinate(text: &str) -> Result<[u8; 32], CryptoError> {
    unb64(text)?.try_into().map_err(|_| CryptoError::InvalidKey)
}

/// The DER of a PKCS #8 `PrivateKeyInfo` (RFC 5208) for an `ecPublicKey` on P-256 whose
/// `ECPrivateKey` (RFC 5915) carries the scalar and no public key, followed by the scalar.
const P256_PKCS8_PREFIX: [u8; 35] = [
    0x30, 0x41, // PrivateKeyInfo, 65 bytes
    0x02, 0x01, 0x00, // version 0
    0x30, 0x13, // AlgorithmIdentifier
    0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, // id-ecPublicKey
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, // prime256v1
    0x04, 0x27, // privateKey OCTET STRING, 39 bytes
    0x30, 0x25, // ECPrivateKey
    0x02, 0x01, 0x01, // version 1
    0x04, 0x20, // privateKey, 32 bytes
];

/// `scalar` as PKCS #8 without its public key: imported so (WebCrypto `importKey("pkcs8")`),
/// the runtime computes the public half itself, which then checks the one configured beside it.
pub fn p256_pkcs8(scalar: &Secret<[u8; 32]>) -> Secret<Vec<u8>> {
    let mut der = P256_PKCS8_PREFIX.to_vec();
    der.extend_from_slice(scalar.expose());
    Secret::new(der)
}

/// A decrypted card JWE: the header (for the session binding) and the plaintext.
pub struct Decrypted {
    pub header: jwe::ProtectedHeader,
    pub plaintext: Vec<u8>,
}

/// A card JWE read up to its key agreement. The agreement (the edge's key named by `kid` with
/// the sender's key) is made by whoever holds the key: the edge in WebCrypto, `ecdh` in Rust.
pub struct Sealed {
    jwe: CompactJwe,
}

/// Reads a compact JWE: its form, and the sender's key's (two coordinates of 32 bytes). That
/// the sender's key is a point of the curve is checked where the agreement is made.
pub fn read(compact: &str) -> Result<Sealed, CryptoError> {
    let jwe = CompactJwe::parse(compact)?;
    coordinate(&jwe.header.epk.x)?;
    coordinate(&jwe.header.epk.y)?;
    Ok(Sealed { jwe })
}

impl Sealed {
    /// The id of the edge's key the JWE was made for.
    pub fn kid(&self) -> &str {
        &self.jwe.header.kid
    }

    /// The sender's ephemeral public key (`epk`).
    pub fn sender(&self) -> &EcPublicJwk {
        &self.jwe.header.epk
    }

    /// Opens the JWE with `shared`, the ECDH secret of the named key and the sender's key.
    pub fn open(self, shared: &[u8; 32]) -> Result<Decrypted, CryptoError> {
        let cek = jwe::concat_kdf(shared, jwe::ENC, 256);
        let cipher = Aes256Gcm::new_from_slice(&cek).map_err(|_| CryptoError::InvalidKey)?;
        let CompactJwe {
            header,
            aad,
            iv,
            mut ciphertext,
            tag,
        } = self.jwe;
        ciphertext.extend_from_slice(&tag);
        let plaintext = cipher
            .decrypt(
                &Nonce::from(iv),
                Payload {
                    msg: &ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::Decryption)?;
        Ok(Decrypted { header, plaintext })
    }
}

/// AES-256-GCM for data at rest; `aad` binds a record to its storage key (a token id).
pub fn seal(key: &[u8; 32], nonce: [u8; 12], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let mut out = nonce.to_vec();
    // Encryption with a valid key and in-memory buffers does not fail.
    out.extend(
        cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_default(),
    );
    out
}

pub fn open(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < 12 + 16 {
        return Err(CryptoError::Decryption);
    }
    let (nonce, body) = sealed.split_at(12);
    Aes256Gcm::new(key.into())
        .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad })
        .map_err(|_| CryptoError::Decryption)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::jwe::b64;

    /// `jwe` with its protected header (as JSON) rewritten by `change`.
    pub fn with_header(jwe: &str, change: impl Fn(&str) -> String) -> String {
        let mut parts: Vec<String> = jwe.split('.').map(String::from).collect();
        let header = String::from_utf8(unb64(&parts[0]).unwrap()).unwrap();
        parts[0] = b64(change(&header).as_bytes());
        parts.join(".")
    }

    fn private_jwk() -> PrivateJwk {
        PrivateJwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            kid: "k1".into(),
            x: b64(&[1; 32]),
            y: b64(&[2; 32]),
            d: b64(&[3; 32]),
        }
    }

    #[test]
    fn a_card_key_is_published_with_its_id_use_and_algorithm_once_its_form_is_right() {
        let (scalar, public) = private_jwk().split().unwrap();
        assert_eq!(scalar.expose(), &[3; 32]);
        assert_eq!(
            serde_json::to_value(&public).unwrap(),
            serde_json::json!({
                "kty": "EC", "crv": "P-256", "x": b64(&[1; 32]), "y": b64(&[2; 32]),
                "kid": "k1", "use": "enc", "alg": "ECDH-ES",
            })
        );
        let broken: [fn(&mut PrivateJwk); 6] = [
            |k| k.kty = "RSA".into(),
            |k| k.crv = "P-384".into(),
            |k| k.d = b64(&[3; 31]),
            |k| k.x = b64(&[1; 33]),
            |k| k.y = "not base64url!".into(),
            |k| k.d = "키".into(),
        ];
        for (n, break_it) in broken.iter().enumerate() {
            let mut jwk = private_jwk();
            break_it(&mut jwk);
            assert!(jwk.split().is_err(), "broken key {n} is refused");
        }
    }

    #[test]
    fn a_scalar_is_wrapped_in_pkcs8_whose_lengths_hold_together() {
        let der = p256_pkcs8(&Secret::new([7; 32]));
        let der = der.expose();
        assert_eq!(der.len(), 67);
        // Each constructed length counts exactly the bytes after it.
        assert_eq!(usize::from(der[1]), der.len() - 2, "PrivateKeyInfo");
        assert_eq!(usize::from(der[27]), der.len() - 28, "privateKey");
        assert_eq!(usize::from(der[29]), der.len() - 30, "ECPrivateKey");
        assert_eq!(usize::from(der[34]), 32, "the scalar's octets");
        assert_eq!(&der[35..], &[7; 32]);
    }

    #[test]
    fn a_jwe_whose_sender_key_has_the_wrong_form_is_not_read() {
        let header = |x: &str, y: &str| {
            b64(format!(
                r#"{{"alg":"ECDH-ES","enc":"A256GCM","kid":"k1","cs":"cs_1","epk":{{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}"}}}}"#
            )
            .as_bytes())
        };
        let jwe = |header: String| {
            format!(
                "{header}..{}.{}.{}",
                b64(&[0; 12]),
                b64(b"c"),
                b64(&[0; 16])
            )
        };
        let sealed = read(&jwe(header(&b64(&[1; 32]), &b64(&[2; 32])))).unwrap();
        assert_eq!(sealed.kid(), "k1");
        assert_eq!(sealed.sender().x, b64(&[1; 32]));
        for (x, y) in [
            (b64(&[1; 31]), b64(&[2; 32])),
            (b64(&[1; 32]), b64(&[2; 33])),
            ("카드".to_string(), b64(&[2; 32])),
        ] {
            assert!(matches!(
                read(&jwe(header(&x, &y))),
                Err(CryptoError::Jwe(_) | CryptoError::InvalidKey)
            ));
        }
    }

    #[test]
    fn sealed_records_are_bound_to_their_aad() {
        let k = [7u8; 32];
        let sealed = seal(&k, [1; 12], b"secret", b"tok_1");
        assert_eq!(open(&k, &sealed, b"tok_1").unwrap(), b"secret");
        assert!(open(&k, &sealed, b"tok_2").is_err());
        assert!(open(&[8u8; 32], &sealed, b"tok_1").is_err());
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
    }
}
