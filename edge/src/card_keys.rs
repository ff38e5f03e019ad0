//! The card keys in the runtime's WebCrypto, which is native code: each is read from its
//! secret once per isolate, checked and imported there, and every card's ECDH agreement is
//! made there. The worker links no elliptic-curve arithmetic: in its size-optimized wasm, one
//! P-256 scalar multiplication took most of a tokenization's millisecond of opening its card,
//! and checking the keys took two of them on each isolate's first request.

use crate::config;
use std::cell::OnceCell;
use std::rc::Rc;
use till_core::crypto::{self, PrivateJwk};
use till_core::error::ApiError;
use till_core::jwe::EcPublicJwk;
use web_sys::{CryptoKey, SubtleCrypto, WorkerGlobalScope};
use worker::js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::Env;

/// The secret that holds the card keys: a JSON array of private P-256 JWKs. The first is
/// current (widgets encrypt to it); the others still decrypt while they are being retired.
const SECRET: &str = "CARD_ENCRYPTION_KEYS";

/// One of the edge's card-encryption keys: its public half as published, its private half in
/// WebCrypto.
pub struct CardKey {
    kid: String,
    public: EcPublicJwk,
    private: CryptoKey,
}

impl CardKey {
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half as published in `GET /v1/keys`.
    pub fn public_jwk(&self) -> &EcPublicJwk {
        &self.public
    }
}

thread_local! {
    /// The card keys, once per isolate: the secret only changes with a deployment, which
    /// starts new isolates.
    static CARD_KEYS: OnceCell<Rc<Vec<CardKey>>> = const { OnceCell::new() };
}

/// The card keys, current first. A key whose public half is not its private key's is a
/// misconfiguration (500, with a log line naming the secret): widgets would encrypt cards
/// nobody can open.
pub async fn current(env: &Env) -> Result<Rc<Vec<CardKey>>, ApiError> {
    if let Some(keys) = CARD_KEYS.with(|cached| cached.get().cloned()) {
        return Ok(keys);
    }
    let jwks: Vec<PrivateJwk> = serde_json::from_str(&config::secret(env, SECRET)?)
        .map_err(|_| config::misconfigured(SECRET))?;
    if jwks.is_empty() {
        return Err(config::misconfigured(SECRET));
    }
    let subtle = subtle().map_err(|_| runtime_failure("WebCrypto is missing".into()))?;
    let mut keys = Vec::with_capacity(jwks.len());
    for jwk in &jwks {
        keys.push(import(&subtle, jwk).await?);
    }
    // Two first requests of an isolate may both get here; the keys are the same.
    let keys = Rc::new(keys);
    CARD_KEYS.with(|cached| {
        let _ = cached.set(keys.clone());
    });
    Ok(keys)
}

/// Imports `jwk`'s scalar without its public half, so WebCrypto computes that half itself,
/// and checks it against the one configured beside the scalar.
async fn import(subtle: &SubtleCrypto, jwk: &PrivateJwk) -> Result<CardKey, ApiError> {
    let (scalar, public) = jwk.split().map_err(|_| config::misconfigured(SECRET))?;
    let der = crypto::p256_pkcs8(&scalar);
    let der = Uint8Array::from(der.expose().as_slice());
    let usages = Array::of1(&"deriveBits".into());
    let imported =
        resolve::<CryptoKey>(subtle.import_key_with_object("pkcs8", &der, &ecdh(), true, &usages))
            .await;
    der.fill(0, 0, der.length());
    // WebCrypto refuses a scalar that is not one of the curve's (zero, or past its order).
    let private = imported.map_err(|_| config::misconfigured(SECRET))?;
    let exported: Object = resolve(subtle.export_key("jwk", &private))
        .await
        .map_err(runtime_failure)?;
    let computed = |name: &str| {
        Reflect::get(&exported, &name.into())
            .ok()
            .and_then(|value| value.as_string())
    };
    let same_point = computed("x").as_deref() == Some(public.x.as_str())
        && computed("y").as_deref() == Some(public.y.as_str());
    if !same_point {
        return Err(config::misconfigured(SECRET));
    }
    Ok(CardKey {
        kid: jwk.kid.clone(),
        public,
        private,
    })
}

/// Why an agreement was not made.
pub enum AgreementError {
    /// The sender's key is not a point of the curve: the request's fault.
    Sender,
    /// WebCrypto failed with a valid key: Till's (already logged).
    Runtime(ApiError),
}

/// The ECDH shared secret (the x coordinate) of `key` and the sender's public key `sender`.
pub async fn agree(key: &CardKey, sender: &EcPublicJwk) -> Result<[u8; 32], AgreementError> {
    let subtle = subtle().map_err(|e| AgreementError::Runtime(runtime_failure(e)))?;
    let sender_jwk = object(&[
        ("kty", "EC"),
        ("crv", "P-256"),
        ("x", &sender.x),
        ("y", &sender.y),
    ]);
    // WebCrypto checks that an imported public key is a point of the curve.
    let sender_key: CryptoKey =
        resolve(subtle.import_key_with_object("jwk", &sender_jwk, &ecdh(), false, &Array::new()))
            .await
            .map_err(|_| AgreementError::Sender)?;
    derive(&subtle, &key.private, &sender_key)
        .await
        .map_err(|e| AgreementError::Runtime(runtime_failure(e)))
}

async fn derive(
    subtle: &SubtleCrypto,
    private: &CryptoKey,
    sender: &CryptoKey,
) -> Result<[u8; 32], JsValue> {
    let params = ecdh();
    Reflect::set(&params, &"public".into(), sender)?;
    let bits: ArrayBuffer = resolve(subtle.derive_bits_with_object(&params, private, 256)).await?;
    let view = Uint8Array::new(&bits);
    if view.length() != 32 {
        return Err(JsValue::from_str(
            "deriveBits gave a secret of another length",
        ));
    }
    let mut shared = [0u8; 32];
    view.copy_to(&mut shared);
    view.fill(0, 0, 32);
    Ok(shared)
}

/// A WebCrypto failure Till cannot blame on the request: logged with the runtime's message
/// (never key material), answered as a 500.
fn runtime_failure(error: JsValue) -> ApiError {
    let message = Reflect::get(&error, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| error.as_string())
        .unwrap_or_default();
    crate::log_error!("card keys: WebCrypto failed: {message}");
    ApiError::internal()
}

fn subtle() -> Result<SubtleCrypto, JsValue> {
    let global: WorkerGlobalScope = worker::js_sys::global().unchecked_into();
    Ok(global.crypto()?.subtle())
}

fn ecdh() -> Object {
    object(&[("name", "ECDH"), ("namedCurve", "P-256")])
}

fn object(entries: &[(&str, &str)]) -> Object {
    let out = Object::new();
    for (key, value) in entries {
        // Setting a string property on a plain object does not fail.
        let _ = Reflect::set(&out, &(*key).into(), &(*value).into());
    }
    out
}

/// What a WebCrypto call gives once its promise settles.
async fn resolve<T: JsCast>(
    promise: Result<worker::js_sys::Promise, JsValue>,
) -> Result<T, JsValue> {
    JsFuture::from(promise?)
        .await?
        .dyn_into::<T>()
        .map_err(|_| JsValue::from_str("WebCrypto gave an unexpected kind of value"))
}
