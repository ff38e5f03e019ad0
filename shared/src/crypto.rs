//! Card encryption in Rust (feature `crypto`): the edge decrypts JWEs and seals vault records;
//! tests and tools encrypt cards the way the widget does. Randomness always comes from the caller.

use crate::jwe::{self, b64, unb64, CompactJwe, EcPublicJwk, JweError};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use p256::elliptic_curve::sec1::{EncodedPoint, FromEncodedPoint, ToEncodedPoint};
use p256::{AffinePoint, NistP256, PublicKey, SecretKey};
use serde::{Deserialize, Serialize};

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

/// One of the edge's card-encryption keys.
#[derive(Clone)]
pub struct CardKey {
    kid: String,
    secret: SecretKey,
    /// The public half, derived once: each derivation is a P-256 scalar multiplication.
    public: EcPublicJwk,
}

impl CardKey {
    /// Builds a key from 32 random bytes (retried by the caller in the negligible case they are
    /// not a valid scalar).
    pub fn from_secret_bytes(kid: &str, bytes: [u8; 32]) -> Result<Self, CryptoError> {
        let secret = SecretKey::from_slice(&bytes).map_err(|_| CryptoError::InvalidKey)?;
        Ok(CardKey::new(kid, secret))
    }

    fn new(kid: &str, secret: SecretKey) -> CardKey {
        let mut public = public_to_jwk(&secret.public_key());
        public.kid = Some(kid.to_string());
        public.key_use = Some("enc".into());
        public.alg = Some(jwe::ALG.into());
        CardKey {
            kid: kid.to_string(),
            secret,
            public,
        }
    }

    pub fn from_jwk(jwk: &PrivateJwk) -> Result<Self, CryptoError> {
        if jwk.kty != "EC" || jwk.crv != "P-256" {
            return Err(CryptoError::InvalidKey);
        }
        let d = unb64(&jwk.d).map_err(|_| CryptoError::InvalidKey)?;
        let secret = SecretKey::from_slice(&d).map_err(|_| CryptoError::InvalidKey)?;
        let key = CardKey::new(&jwk.kid, secret);
        if key.public.x != jwk.x || key.public.y != jwk.y {
            return Err(CryptoError::InvalidKey);
        }
        Ok(key)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn to_private_jwk(&self) -> PrivateJwk {
        let public = self.public_jwk();
        PrivateJwk {
            kty: public.kty,
            crv: public.crv,
            kid: self.kid.clone(),
            x: public.x,
            y: public.y,
            d: b64(&self.secret.to_bytes()),
        }
    }

    /// The public half as published in `GET /v1/keys`.
    pub fn public_jwk(&self) -> EcPublicJwk {
        self.public.clone()
    }
}

fn public_to_jwk(public: &PublicKey) -> EcPublicJwk {
    let point = public.to_encoded_point(false);
    EcPublicJwk {
        kty: "EC".into(),
        crv: "P-256".into(),
        x: b64(point.x().map_or(&[][..], |x| x.as_slice())),
        y: b64(point.y().map_or(&[][..], |y| y.as_slice())),
        kid: None,
        key_use: None,
        alg: None,
    }
}

fn jwk_to_public(jwk: &EcPublicJwk) -> Result<PublicKey, CryptoError> {
    let x = unb64(&jwk.x)?;
    let y = unb64(&jwk.y)?;
    if x.len() != 32 || y.len() != 32 {
        return Err(CryptoError::InvalidKey);
    }
    let point = EncodedPoint::<NistP256>::from_affine_coordinates(
        x.as_slice().into(),
        y.as_slice().into(),
        false,
    );
    Option::from(AffinePoint::from_encoded_point(&point))
        .and_then(|affine: AffinePoint| PublicKey::from_affine(affine).ok())
        .ok_or(CryptoError::InvalidKey)
}

fn content_key(secret: &SecretKey, public: &PublicKey) -> Result<Aes256Gcm, CryptoError> {
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
    let cek = jwe::concat_kdf(shared.raw_secret_bytes(), jwe::ENC, 256);
    Aes256Gcm::new_from_slice(&cek).map_err(|_| CryptoError::InvalidKey)
}

/// A decrypted card JWE: the header (for the session binding) and the plaintext.
pub struct Decrypted {
    pub header: jwe::ProtectedHeader,
    pub plaintext: Vec<u8>,
}

/// A card JWE read up to its key agreement: the key its `kid` names and the sender's key,
/// checked to be a point of the curve. The agreement is a step of its own so that a host with a
/// native one (the edge's WebCrypto) can make it; `agree` makes it in Rust.
pub struct Sealed<'k> {
    key: &'k CardKey,
    sender: PublicKey,
    jwe: CompactJwe,
}

/// Reads a compact JWE made for whichever of `keys` its `kid` names.
pub fn locate<'k>(keys: &'k [CardKey], compact: &str) -> Result<Sealed<'k>, CryptoError> {
    let jwe = CompactJwe::parse(compact)?;
    let key = keys
        .iter()
        .find(|k| k.kid == jwe.header.kid)
        .ok_or(CryptoError::UnknownKey)?;
    let sender = jwk_to_public(&jwe.header.epk)?;
    Ok(Sealed { key, sender, jwe })
}

impl<'k> Sealed<'k> {
    /// The edge's key the JWE was made for.
    pub fn key(&self) -> &'k CardKey {
        self.key
    }

    /// The sender's ephemeral public key (`epk`), already checked.
    pub fn sender(&self) -> &EcPublicJwk {
        &self.jwe.header.epk
    }

    /// The ECDH shared secret (the x coordinate), computed in Rust.
    pub fn agree(&self) -> [u8; 32] {
        let shared = p256::ecdh::diffie_hellman(
            self.key.secret.to_nonzero_scalar(),
            self.sender.as_affine(),
        );
        (*shared.raw_secret_bytes()).into()
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

/// Decrypts a compact JWE with whichever of `keys` its `kid` names.
pub fn decrypt(keys: &[CardKey], compact: &str) -> Result<Decrypted, CryptoError> {
    let sealed = locate(keys, compact)?;
    let shared = sealed.agree();
    sealed.open(&shared)
}

/// Encrypts `plaintext` to a published key, as the widget does with WebCrypto.
pub fn encrypt(
    recipient: &EcPublicJwk,
    session: &str,
    plaintext: &[u8],
    ephemeral: [u8; 32],
    iv: [u8; 12],
) -> Result<String, CryptoError> {
    let kid = recipient.kid.clone().ok_or(CryptoError::InvalidKey)?;
    let public = jwk_to_public(recipient)?;
    let secret = SecretKey::from_slice(&ephemeral).map_err(|_| CryptoError::InvalidKey)?;
    let header = jwe::encode_header(&kid, public_to_jwk(&secret.public_key()), session);
    let sealed = content_key(&secret, &public)?
        .encrypt(
            Nonce::from_slice(&iv),
            Payload {
                msg: plaintext,
                aad: header.as_bytes(),
            },
        )
        .map_err(|_| CryptoError::Decryption)?;
    CompactJwe::serialize(&header, &iv, &sealed).ok_or(CryptoError::Decryption)
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
mod tests {
    use super::*;

    fn key(kid: &str, byte: u8) -> CardKey {
        CardKey::from_secret_bytes(kid, [byte; 32]).unwrap()
    }

    #[test]
    fn encrypt_then_decrypt_with_the_named_key() {
        let keys = [key("k1", 1), key("k2", 2)];
        let jwe = encrypt(&keys[1].public_jwk(), "cs_1", b"card", [9; 32], [3; 12]).unwrap();
        let out = decrypt(&keys, &jwe).unwrap();
        assert_eq!(out.plaintext, b"card");
        assert_eq!(out.header.cs, "cs_1");
        assert_eq!(out.header.kid, "k2");
        assert!(matches!(
            decrypt(&keys[..1], &jwe),
            Err(CryptoError::UnknownKey)
        ));
    }

    /// `jwe` with its protected header (as JSON) rewritten by `change`.
    fn with_header(jwe: &str, change: impl Fn(&str) -> String) -> String {
        let mut parts: Vec<String> = jwe.split('.').map(String::from).collect();
        let header = String::from_utf8(unb64(&parts[0]).unwrap()).unwrap();
        parts[0] = b64(change(&header).as_bytes());
        parts.join(".")
    }

    #[test]
    fn tampered_header_fails_authentication() {
        let keys = [key("k1", 1)];
        let jwe = encrypt(&keys[0].public_jwk(), "cs_1", b"card", [9; 32], [3; 12]).unwrap();
        let tampered = with_header(&jwe, |header| header.replace("cs_1", "cs_2"));
        assert!(matches!(
            decrypt(&keys, &tampered),
            Err(CryptoError::Decryption)
        ));
    }

    #[test]
    fn a_located_jwe_opens_with_the_secret_the_sender_agreed() {
        let keys = [key("k1", 1), key("k2", 2)];
        let ephemeral = [9; 32];
        let jwe = encrypt(&keys[1].public_jwk(), "cs_1", b"card", ephemeral, [3; 12]).unwrap();
        let sealed = locate(&keys, &jwe).unwrap();
        assert_eq!(sealed.key().kid(), "k2");
        // The sender's side of the agreement: its ephemeral secret and the edge's public key.
        let sender_secret = SecretKey::from_slice(&ephemeral).unwrap();
        assert_eq!(sealed.sender(), &public_to_jwk(&sender_secret.public_key()));
        let recipient = jwk_to_public(&keys[1].public_jwk()).unwrap();
        let senders =
            p256::ecdh::diffie_hellman(sender_secret.to_nonzero_scalar(), recipient.as_affine());
        assert_eq!(
            sealed.agree().as_slice(),
            senders.raw_secret_bytes().as_slice()
        );
        let shared = sealed.agree();
        assert_eq!(sealed.open(&shared).unwrap().plaintext, b"card");
        // Another secret opens nothing.
        let sealed = locate(&keys, &jwe).unwrap();
        assert!(matches!(
            sealed.open(&[0; 32]),
            Err(CryptoError::Decryption)
        ));
    }

    #[test]
    fn a_sender_key_off_the_curve_is_refused_before_any_agreement() {
        let keys = [key("k1", 1)];
        let jwe = encrypt(&keys[0].public_jwk(), "cs_1", b"card", [9; 32], [3; 12]).unwrap();
        // Another point's y with the sender's x: not a point of the curve.
        let epk_y = key("k8", 8).public_jwk().y;
        let off_the_curve = with_header(&jwe, |header| {
            let y_start = header.find("\"y\":\"").unwrap() + 5;
            let y_end = y_start + header[y_start..].find('"').unwrap();
            format!("{}{}{}", &header[..y_start], epk_y, &header[y_end..])
        });
        assert!(matches!(
            locate(&keys, &off_the_curve),
            Err(CryptoError::InvalidKey)
        ));
    }

    #[test]
    fn private_jwk_round_trips_and_redacts() {
        let k = key("k1", 5);
        let jwk = k.to_private_jwk();
        let back = CardKey::from_jwk(&jwk).unwrap();
        assert_eq!(back.public_jwk(), k.public_jwk());
        assert!(!format!("{jwk:?}").contains(&jwk.d));
        let mut wrong = jwk.clone();
        wrong.x = key("k2", 6).public_jwk().x;
        assert!(CardKey::from_jwk(&wrong).is_err());
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
