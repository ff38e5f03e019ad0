//! `GET /v1/keys`: the public keys widgets encrypt cards to (JWKS; the first is current).

use crate::config;
use crate::http::{json, ApiResult};
use till_core::jwe::Jwks;
use worker::Env;

pub fn list(env: &Env) -> ApiResult {
    let keys = config::card_keys(env)?;
    json(
        200,
        &Jwks {
            keys: keys.iter().map(|k| k.public_jwk()).collect(),
        },
    )
}
