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
    if kind == KeyKind::Publishable {
        if let Some(origin) = cross_origin(req) {
            let allowed = store::merchant_origins(env, &found.merchant_id).await?;
            if !allowed.contains(&origin) {
                return Err(ApiError::new(
                    403,
                    till_core::error::ErrorType::AuthenticationError,
                    "origin_not_allowed",
                    "This origin is not registered for the publishable key.",
                ));
            }
        }
    }
    Ok(Caller {
        merchant_id: found.merchant_id,
        merchant_name: found.merchant_name,
        key_kind: kind,
    })
}

/// The browser's `Origin` when it differs from the edge's own (same-origin calls from the widget
/// also carry one).
pub fn cross_origin(req: &Request) -> Option<String> {
    let origin = header(req, "Origin")?;
    let own = req.url().ok()?.origin().ascii_serialization();
    (origin != own).then_some(origin)
}
