//! Encrypts the card in the browser as a compact JWE (`ECDH-ES` P-256 + `A256GCM`) with
//! WebCrypto. The key derivation comes from `till-core`, shared with the edge; the header's JSON
//! and the base64url are the browser's (`JSON.stringify`, `btoa`), which the widget already
//! ships, instead of serde_json's writer and a base64 engine. The tests decrypt the result with
//! the edge's own code.

use crate::api::Key;
use crate::json::Writer;
use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use till_core::jwe::{concat_kdf_round, ALG, ENC};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

/// Why encryption failed; shown to the customer as a generic error, never with card data.
#[derive(Debug, Clone)]
pub struct EncryptError(pub String);

impl From<JsValue> for EncryptError {
    fn from(value: JsValue) -> Self {
        EncryptError(
            value
                .as_string()
                .or_else(|| Reflect::get(&value, &"message".into()).ok()?.as_string())
                .unwrap_or_else(|| "WebCrypto error".into()),
        )
    }
}

fn object(entries: &[(&str, JsValue)]) -> Result<Object, EncryptError> {
    let out = Object::new();
    for (key, value) in entries {
        Reflect::set(&out, &JsValue::from_str(key), value)?;
    }
    Ok(out)
}

fn usages(names: &[&str]) -> JsValue {
    names
        .iter()
        .map(|n| JsValue::from_str(n))
        .collect::<Array>()
        .into()
}

fn subtle() -> Result<(web_sys::Crypto, SubtleCrypto), EncryptError> {
    let crypto = web_sys::window()
        .ok_or_else(|| EncryptError("no window".into()))?
        .crypto()?;
    let subtle = crypto.subtle();
    Ok((crypto, subtle))
}

/// Base64url without padding (RFC 7515 §2), through the browser's `btoa`.
pub fn b64url(bytes: &[u8]) -> Option<String> {
    // `btoa` takes a "binary string": one character per byte.
    let binary: String = bytes.iter().map(|&byte| char::from(byte)).collect();
    let standard = web_sys::window()?.btoa(&binary).ok()?;
    Some(
        standard
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_"),
    )
}

/// The protected header (`till_core::jwe::ProtectedHeader`), encoded.
fn encode_header(kid: &str, epk_x: &str, epk_y: &str, session_id: &str) -> Option<String> {
    let epk = Writer::new()
        .field("kty", "EC")
        .field("crv", "P-256")
        .field("x", epk_x)
        .field("y", epk_y)
        .done();
    let header = Writer::new()
        .field("alg", ALG)
        .field("enc", ENC)
        .field("kid", kid)
        .field("epk", epk)
        .field("cs", session_id)
        .done();
    b64url(
        js_sys::JSON::stringify(&header)
            .ok()?
            .as_string()?
            .as_bytes(),
    )
}

async fn resolve<T: JsCast>(promise: Result<js_sys::Promise, JsValue>) -> Result<T, EncryptError> {
    let value = JsFuture::from(promise?).await?;
    value
        .dyn_into::<T>()
        .map_err(|_| EncryptError("unexpected WebCrypto result".into()))
}

/// Encrypts `plaintext` (the card as JSON) to `recipient`, bound to `session_id`.
pub async fn encrypt_card(
    recipient: &Key,
    session_id: &str,
    plaintext: &[u8],
) -> Result<String, EncryptError> {
    let (crypto, subtle) = subtle()?;
    let kid = recipient
        .kid
        .clone()
        .ok_or_else(|| EncryptError("the edge key has no kid".into()))?;
    let ecdh = || object(&[("name", "ECDH".into()), ("namedCurve", "P-256".into())]);

    let recipient_jwk = object(&[
        ("kty", "EC".into()),
        ("crv", "P-256".into()),
        ("x", recipient.x.as_str().into()),
        ("y", recipient.y.as_str().into()),
    ])?;
    let recipient_key: CryptoKey = resolve(subtle.import_key_with_object(
        "jwk",
        &recipient_jwk,
        &ecdh()?,
        false,
        &usages(&[]),
    ))
    .await?;

    let pair: Object =
        resolve(subtle.generate_key_with_object(&ecdh()?, true, &usages(&["deriveBits"]))).await?;
    let ephemeral_private: CryptoKey = Reflect::get(&pair, &"privateKey".into())?.dyn_into()?;
    let ephemeral_public: CryptoKey = Reflect::get(&pair, &"publicKey".into())?.dyn_into()?;

    let derive = object(&[("name", "ECDH".into()), ("public", recipient_key.into())])?;
    let shared: ArrayBuffer =
        resolve(subtle.derive_bits_with_object(&derive, &ephemeral_private, 256)).await?;
    // Concat KDF: for a 256-bit key, one SHA-256 of the round's input.
    let round = concat_kdf_round(&Uint8Array::new(&shared).to_vec(), ENC, b"", b"", 256);
    let content_key: ArrayBuffer =
        resolve(subtle.digest_with_str_and_u8_array("SHA-256", &round)).await?;

    let exported: Object = resolve(subtle.export_key("jwk", &ephemeral_public)).await?;
    let coordinate = |name: &str| -> Result<String, EncryptError> {
        Reflect::get(&exported, &name.into())?
            .as_string()
            .ok_or_else(|| EncryptError("exported key lacks a coordinate".into()))
    };
    let header = encode_header(&kid, &coordinate("x")?, &coordinate("y")?, session_id)
        .ok_or_else(|| EncryptError("no base64".into()))?;

    let aes_key: CryptoKey = resolve(subtle.import_key_with_str(
        "raw",
        &content_key,
        "AES-GCM",
        false,
        &usages(&["encrypt"]),
    ))
    .await?;
    let mut iv = [0u8; 12];
    crypto.get_random_values_with_u8_array(&mut iv)?;
    let params = object(&[
        ("name", "AES-GCM".into()),
        ("iv", Uint8Array::from(&iv[..]).into()),
        ("additionalData", Uint8Array::from(header.as_bytes()).into()),
        ("tagLength", 128.into()),
    ])?;
    let sealed: ArrayBuffer = resolve(subtle.encrypt_with_object_and_buffer_source(
        &params,
        &aes_key,
        &Uint8Array::from(plaintext),
    ))
    .await?;
    // WebCrypto puts the 16-byte tag after the ciphertext; direct agreement has no encrypted key.
    let sealed = Uint8Array::new(&sealed).to_vec();
    let short = || EncryptError("AES-GCM output too short".into());
    let (ciphertext, tag) = sealed.split_at(sealed.len().checked_sub(16).ok_or_else(short)?);
    let part = |bytes: &[u8]| b64url(bytes).ok_or_else(|| EncryptError("no base64".into()));
    Ok(format!(
        "{header}..{}.{}.{}",
        part(&iv)?,
        part(ciphertext)?,
        part(tag)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use till_core::crypto::{decrypt, CardKey};
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn base64url_is_rfc_4648_section_5_without_padding() {
        assert_eq!(b64url(b"").as_deref(), Some(""));
        assert_eq!(b64url(b"f").as_deref(), Some("Zg"));
        assert_eq!(b64url(b"fo").as_deref(), Some("Zm8"));
        assert_eq!(b64url(b"foo").as_deref(), Some("Zm9v"));
        let every_byte: Vec<u8> = (0..=255).collect();
        assert_eq!(b64url(&every_byte), Some(till_core::jwe::b64(&every_byte)));
        assert_eq!(b64url(&[0xfb, 0xff]).as_deref(), Some("-_8"));
    }

    fn edge_key(kid: &str, seed: u8) -> CardKey {
        CardKey::from_secret_bytes(kid, [seed; 32]).expect("a P-256 scalar")
    }

    fn recipient(key: &CardKey) -> Key {
        let public = key.public_jwk();
        Key {
            kid: Some(key.kid().to_string()),
            x: public.x,
            y: public.y,
        }
    }

    #[wasm_bindgen_test]
    async fn the_edge_decrypts_what_the_browser_encrypts_bound_to_its_session() {
        let key = edge_key("k1", 7);
        let plaintext = r#"{"card":{"name":"김민준"},"iat":1}"#.as_bytes();
        let sealed = encrypt_card(&recipient(&key), "cs_1", plaintext)
            .await
            .expect("encrypted");
        let opened = decrypt(&[key], &sealed).expect("the edge decrypts it");
        assert_eq!(opened.plaintext, plaintext);
        assert_eq!(
            (opened.header.cs.as_str(), opened.header.kid.as_str()),
            ("cs_1", "k1")
        );

        let other = edge_key("k1", 8);
        assert!(
            decrypt(&[other], &sealed).is_err(),
            "another key opens nothing"
        );
    }

    #[wasm_bindgen_test]
    async fn a_key_without_an_id_is_refused_before_anything_is_encrypted() {
        let mut key = recipient(&edge_key("k1", 7));
        key.kid = None;
        assert!(encrypt_card(&key, "cs_1", b"{}").await.is_err());
    }
}
