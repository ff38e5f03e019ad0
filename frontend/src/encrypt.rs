//! Encrypts the card in the browser as a compact JWE (`ECDH-ES` P-256 + `A256GCM`) with
//! WebCrypto. The key derivation and the JWE layout come from `till-core`, shared with the edge.

use crate::api::Key;
use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use till_core::jwe::{concat_kdf_round, encode_header, CompactJwe, EcPublicJwk, ENC};
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
    let epk = EcPublicJwk {
        kty: "EC".into(),
        crv: "P-256".into(),
        x: coordinate("x")?,
        y: coordinate("y")?,
        kid: None,
        key_use: None,
        alg: None,
    };
    let header = encode_header(&kid, epk, session_id);

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
    CompactJwe::serialize(&header, &iv, &Uint8Array::new(&sealed).to_vec())
        .ok_or_else(|| EncryptError("AES-GCM output too short".into()))
}
