//! The P-256 agreement in Rust (feature `ecdh`, RustCrypto's `p256`): card keys made and checked,
//! cards encrypted the way the widget does and decrypted the way the edge does.

use super::{read, CryptoError, Decrypted, PrivateJwk, Sealed};
use crate::jwe::{self, b64, unb64, CompactJwe, EcPublicJwk};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use p256::elliptic_curve::sec1::{EncodedPoint, FromEncodedPoint, ToEncodedPoint};
use p256::{AffinePoint, NistP256, PublicKey, SecretKey};

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
        let mut public = public_to_jwk(&secret.public_key());
        public.kid = Some(kid.to_string());
        public.key_use = Some("enc".into());
        public.alg = Some(jwe::ALG.into());
        Ok(CardKey {
            kid: kid.to_string(),
            secret,
            public,
        })
    }

    /// The key of `jwk`, whose `x` and `y` must be the public half of its `d`.
    pub fn from_jwk(jwk: &PrivateJwk) -> Result<Self, CryptoError> {
        let (scalar, published) = jwk.split()?;
        let key = CardKey::from_secret_bytes(&jwk.kid, *scalar.expose())?;
        if key.public != published {
            return Err(CryptoError::InvalidKey);
        }
        Ok(key)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn to_private_jwk(&self) -> PrivateJwk {
        PrivateJwk {
            kty: self.public.kty.clone(),
            crv: self.public.crv.clone(),
            kid: self.kid.clone(),
            x: self.public.x.clone(),
            y: self.public.y.clone(),
            d: b64(&self.secret.to_bytes()),
        }
    }

    /// The public half as published in `GET /v1/keys`.
    pub fn public_jwk(&self) -> EcPublicJwk {
        self.public.clone()
    }
}

impl Sealed {
    /// The ECDH shared secret (the x coordinate) of `key` and the sender's key, once the
    /// sender's key is found to be a point of the curve.
    pub fn agree(&self, key: &CardKey) -> Result<[u8; 32], CryptoError> {
        let sender = jwk_to_public(self.sender())?;
        let shared = p256::ecdh::diffie_hellman(key.secret.to_nonzero_scalar(), sender.as_affine());
        Ok((*shared.raw_secret_bytes()).into())
    }
}

/// Decrypts a compact JWE with whichever of `keys` its `kid` names.
pub fn decrypt(keys: &[CardKey], compact: &str) -> Result<Decrypted, CryptoError> {
    let sealed = read(compact)?;
    let key = keys
        .iter()
        .find(|k| k.kid == sealed.kid())
        .ok_or(CryptoError::UnknownKey)?;
    let shared = sealed.agree(key)?;
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
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
    let cek = jwe::concat_kdf(shared.raw_secret_bytes(), jwe::ENC, 256);
    let sealed = Aes256Gcm::new_from_slice(&cek)
        .map_err(|_| CryptoError::InvalidKey)?
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

#[cfg(test)]
mod tests {
    use super::super::tests::with_header;
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
    fn a_read_jwe_opens_with_the_secret_the_sender_agreed() {
        let keys = [key("k1", 1), key("k2", 2)];
        let ephemeral = [9; 32];
        let jwe = encrypt(&keys[1].public_jwk(), "cs_1", b"card", ephemeral, [3; 12]).unwrap();
        let sealed = read(&jwe).unwrap();
        assert_eq!(sealed.kid(), "k2");
        // The sender's side of the agreement: its ephemeral secret and the edge's public key.
        let sender_secret = SecretKey::from_slice(&ephemeral).unwrap();
        assert_eq!(sealed.sender(), &public_to_jwk(&sender_secret.public_key()));
        let recipient = jwk_to_public(&keys[1].public_jwk()).unwrap();
        let senders =
            p256::ecdh::diffie_hellman(sender_secret.to_nonzero_scalar(), recipient.as_affine());
        let shared = sealed.agree(&keys[1]).unwrap();
        assert_eq!(shared.as_slice(), senders.raw_secret_bytes().as_slice());
        assert_eq!(sealed.open(&shared).unwrap().plaintext, b"card");
        // Another secret opens nothing.
        let sealed = read(&jwe).unwrap();
        let wrong = sealed.agree(&keys[0]).unwrap();
        assert!(matches!(sealed.open(&wrong), Err(CryptoError::Decryption)));
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
        let sealed = read(&off_the_curve).expect("the form is right");
        assert!(matches!(
            sealed.agree(&keys[0]),
            Err(CryptoError::InvalidKey)
        ));
        assert!(matches!(
            decrypt(&keys, &off_the_curve),
            Err(CryptoError::InvalidKey)
        ));
    }

    #[test]
    fn private_jwk_round_trips_and_redacts() {
        let k = key("k1", 5);
        let jwk = k.to_private_jwk();
        let back = CardKey::from_jwk(&jwk).unwrap();
        assert_eq!(back.public_jwk(), k.public_jwk());
        assert_eq!(jwk.split().unwrap().1, k.public_jwk(), "published as made");
        assert!(!format!("{jwk:?}").contains(&jwk.d));
        let mut wrong = jwk.clone();
        wrong.x = key("k2", 6).public_jwk().x;
        assert!(wrong.split().is_ok(), "the form alone is right");
        assert!(CardKey::from_jwk(&wrong).is_err());
    }
}
