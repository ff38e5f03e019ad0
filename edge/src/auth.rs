//! Who is calling: the merchant behind a Bearer API key (looked up by its hash).

use crate::http::header;
use crate::store;
use till_core::api_keys::{bearer_key, hash_secret, KeyKind};
use till_core::error::ApiError;
use worker::{Env, Request};

pub struct Caller {
    pub merchant_id: String,
    pub merchant_name: String,
    pub key_kind: KeyKind,
}

impl Caller {
    pub fn require_secret_key(&self) -> Result<(), ApiError> {
        match self.key_kind {
            KeyKind::Secret => Ok(()),
            KeyKind::Publishable => Err(ApiError::secret_key_required()),
        }
    }
}

pub async fn authenticate(req: &Request, env: &Env) -> Result<Caller, ApiError> {
    let value = header(req, "Authorization").ok_or_else(ApiError::missing_key)?;
    let key = bearer_key(&value).ok_or_else(ApiError::missing_key)?;
    let kind = KeyKind::of(key).ok_or_else(ApiError::invalid_key)?;
    let found = store::merchant_by_key_hash(env, &hash_secret(key))
        .await?
        .filter(|m| m.kind == kind.as_str())
        .ok_or_else(ApiError::invalid_key)?;
    Ok(Caller {
        merchant_id: found.merchant_id,
        merchant_name: found.merchant_name,
        key_kind: kind,
    })
}
