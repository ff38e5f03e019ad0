//! `GET/POST /v1/billing_settings`: the merchant's dunning schedule. Subscriptions created
//! without a `dunning` of their own follow it, and follow it when it changes (from their next
//! failed charge); one given its own keeps that.

use crate::auth::Caller;
use crate::handlers::api_keys::audit;
use crate::http::{body_value, json, parse, ApiResult};
use crate::{clock, store};
use till_core::error::ApiError;
use till_core::subscription::{BillingSettings, Dunning, UpdateBillingSettings};
use worker::{Env, Request};

/// The merchant's schedule as stored (JSON), or Till's default when it set none.
pub async fn dunning_json(env: &Env, merchant_id: &str) -> Result<String, ApiError> {
    match store::merchants::dunning(env, merchant_id).await? {
        Some(json) => Ok(json),
        None => serde_json::to_string(&Dunning::default()).map_err(|_| ApiError::internal()),
    }
}

async fn settings(env: &Env, merchant_id: &str) -> Result<BillingSettings, ApiError> {
    let stored = dunning_json(env, merchant_id).await?;
    let dunning = serde_json::from_str(&stored).map_err(|_| {
        crate::log_error!("merchant {merchant_id}: stored dunning is invalid");
        ApiError::internal()
    })?;
    Ok(BillingSettings {
        object: "billing_settings".into(),
        dunning,
    })
}

pub async fn retrieve(env: &Env, caller: &Caller) -> ApiResult {
    json(200, &settings(env, &caller.merchant_id).await?)
}

pub async fn update(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: UpdateBillingSettings = parse(body_value(&mut req).await?)?;
    let stored = serde_json::to_string(&request.dunning).map_err(|_| ApiError::internal())?;
    let entry = audit(
        caller,
        "billing_settings.updated",
        &caller.merchant_id,
        clock::now_seconds(),
    )?;
    store::merchants::set_dunning(env, &caller.merchant_id, &stored, &entry).await?;
    json(200, &settings(env, &caller.merchant_id).await?)
}
