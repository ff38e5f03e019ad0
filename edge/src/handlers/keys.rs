//! `GET /v1/keys`: the public keys widgets encrypt cards to (JWKS; the first is current).

use crate::card_keys;
use crate::http::{raw_json, ApiResult};
use std::cell::OnceCell;
use till_core::error::ApiError;
use till_core::jwe::Jwks;
use worker::Env;

thread_local! {
    /// The published JWKS, written once per isolate: the secret it comes from only changes
    /// with a deployment, which starts new isolates.
    static PUBLISHED: OnceCell<String> = const { OnceCell::new() };
}

pub async fn list(env: &Env) -> ApiResult {
    if let Some(text) = PUBLISHED.with(|published| published.get().cloned()) {
        return raw_json(200, &text);
    }
    let keys = card_keys::current(env).await?;
    let jwks = Jwks {
        keys: keys.iter().map(|k| k.public_jwk().clone()).collect(),
    };
    let text = serde_json::to_string(&jwks).map_err(|_| ApiError::internal())?;
    PUBLISHED.with(|published| {
        let _ = published.set(text.clone());
    });
    raw_json(200, &text)
}
