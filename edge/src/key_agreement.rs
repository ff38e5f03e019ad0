//! The card keys' ECDH agreement through the runtime's WebCrypto. It is native code there; the
//! same P-256 scalar multiplication in the worker's size-optimized wasm was most of the
//! millisecond a tokenization spent opening its card.

use std::cell::RefCell;
use till_core::crypto::{CardKey, Sealed};
use till_core::error::ApiError;
use web_sys::{CryptoKey, SubtleCrypto, WorkerGlobalScope};
use worker::js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;

thread_local! {
    /// The card keys imported into WebCrypto, by kid: once per isolate, like the keys
    /// themselves (`config::card_keys`).
    static IMPORTED: RefCell<Vec<(String, CryptoKey)>> = const { RefCell::new(Vec::new()) };
}

/// The shared secret of `sealed`'s card key and its sender's key.
pub async fn agree(sealed: &Sealed<'_>) -> Result<[u8; 32], ApiError> {
    derive(sealed).await.map_err(|error| {
        let message = Reflect::get(&error, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_default();
        crate::log_error!("card key agreement failed in WebCrypto: {message}");
        ApiError::internal()
    })
}

async fn derive(sealed: &Sealed<'_>) -> Result<[u8; 32], JsValue> {
    let subtle = subtle()?;
    let private = imported(&subtle, sealed.key()).await?;
    let sender = sealed.sender();
    let sender_jwk = object(&[
        ("kty", "EC"),
        ("crv", "P-256"),
        ("x", &sender.x),
        ("y", &sender.y),
    ])?;
    let sender_key: CryptoKey =
        resolve(subtle.import_key_with_object("jwk", &sender_jwk, &ecdh()?, false, &Array::new()))
            .await?;
    let params = ecdh()?;
    Reflect::set(&params, &"public".into(), &sender_key)?;
    let bits: ArrayBuffer = resolve(subtle.derive_bits_with_object(&params, &private, 256)).await?;
    let mut shared = [0u8; 32];
    let view = Uint8Array::new(&bits);
    if view.length() != 32 {
        return Err(JsValue::from_str(
            "deriveBits gave a secret of another length",
        ));
    }
    view.copy_to(&mut shared);
    view.fill(0, 0, 32);
    Ok(shared)
}

/// `key` as a WebCrypto ECDH private key, imported on its first use in this isolate.
async fn imported(subtle: &SubtleCrypto, key: &CardKey) -> Result<CryptoKey, JsValue> {
    let cached = IMPORTED.with(|keys| {
        keys.borrow()
            .iter()
            .find(|(kid, _)| kid == key.kid())
            .map(|(_, imported)| imported.clone())
    });
    if let Some(imported) = cached {
        return Ok(imported);
    }
    let private = key.to_private_jwk();
    let jwk = object(&[
        ("kty", &private.kty),
        ("crv", &private.crv),
        ("x", &private.x),
        ("y", &private.y),
        ("d", &private.d),
    ])?;
    let usages = Array::of1(&"deriveBits".into());
    let imported: CryptoKey =
        resolve(subtle.import_key_with_object("jwk", &jwk, &ecdh()?, false, &usages)).await?;
    IMPORTED.with(|keys| {
        let mut keys = keys.borrow_mut();
        if !keys.iter().any(|(kid, _)| kid == key.kid()) {
            keys.push((key.kid().to_string(), imported.clone()));
        }
    });
    Ok(imported)
}

fn subtle() -> Result<SubtleCrypto, JsValue> {
    let global: WorkerGlobalScope = worker::js_sys::global().unchecked_into();
    Ok(global.crypto()?.subtle())
}

fn ecdh() -> Result<Object, JsValue> {
    object(&[("name", "ECDH"), ("namedCurve", "P-256")])
}

fn object(entries: &[(&str, &str)]) -> Result<Object, JsValue> {
    let out = Object::new();
    for (key, value) in entries {
        Reflect::set(&out, &(*key).into(), &(*value).into())?;
    }
    Ok(out)
}

async fn resolve<T: JsCast>(
    promise: Result<worker::js_sys::Promise, JsValue>,
) -> Result<T, JsValue> {
    JsFuture::from(promise?)
        .await?
        .dyn_into::<T>()
        .map_err(|_| JsValue::from_str("WebCrypto gave an unexpected kind of value"))
}
