//! `POST /v1/payouts` (secret key, `Idempotency-Key`): a withdrawal from a customer's wallet to
//! a bank account; `GET /v1/payouts/:id`. The work is in `crate::payouts`.

use crate::auth::Caller;
use crate::http::{body_value, json, parse, ApiResult};
use crate::{idempotency, payouts, store};
use till_core::error::ApiError;
use till_core::ids::{self, IdKind};
use till_core::payout::CreatePayout;
use worker::{Env, Request};

pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let body = body_value(&mut req).await?;
    let scope = idempotency::scope_for(&req, &caller.merchant_id, "payouts.create", &body)?;
    let request: CreatePayout = parse(body)?;
    let payout = request.validate()?;
    idempotency::once(env, &scope, || {
        payouts::request(env, &caller.merchant_id, &payout, &scope)
    })
    .await
}

pub async fn retrieve(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let missing = || ApiError::not_found("payout");
    if !ids::is_valid(IdKind::Payout, id) {
        return Err(missing());
    }
    let payout = store::payouts::find(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing)?;
    json(200, &payout.view())
}
