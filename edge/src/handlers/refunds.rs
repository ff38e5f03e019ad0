//! `POST /v1/refunds` (secret key, `Idempotency-Key`): give back all or part of a captured
//! payment. The amount is reserved on the payment in one statement before the gateway is asked,
//! so refunds together never exceed the capture.

use crate::auth::Caller;
use crate::connectors::GatewayError;
use crate::http::{body_value, json, parse, ApiResult};
use crate::idempotency::{self, Ended, Scope};
use crate::payments::conversion;
use crate::payments::refunds::{self, resend, settle, view};
use crate::store::refunds::Reserved;
use crate::store::{self, refunds::RefundRow};
use crate::{clock, random};
use till_core::api::CreateRefund;
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::{self, IdKind};
use till_core::payment::{refund_amount, PaymentStatus, RefundStatus};
use till_core::wallet_payment::refund_split;
use worker::{Env, Request};

fn stored(row: &RefundRow) -> Result<Ended, ApiError> {
    let body = serde_json::to_string(&view(row)).map_err(|_| ApiError::internal())?;
    Ok(Ended::Stored { status: 200, body })
}

fn refund_conflict() -> ApiError {
    ApiError::new(ErrorCode::RefundConflict)
}

/// `POST /v1/refunds` (secret key, `Idempotency-Key`).
pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let body = body_value(&mut req).await?;
    let scope = idempotency::scope_for(&req, &caller.merchant_id, "refunds.create", &body)?;
    let request: CreateRefund = parse(body)?;
    issue(env, caller, &scope, request).await
}

/// Refunds (part of) a payment exactly once per `scope`: the amount is reserved before the
/// gateway is asked, and a retry in the same scope gets the same refund. Also how an approved
/// refund request refunds.
pub async fn issue(env: &Env, caller: &Caller, scope: &Scope, request: CreateRefund) -> ApiResult {
    let missing = || ApiError::not_found("payment").with_param("payment");
    if !ids::is_valid(IdKind::Payment, &request.payment) {
        return Err(missing());
    }
    let payment = store::payments::find(env, &caller.merchant_id, &request.payment)
        .await?
        .ok_or_else(missing)?;

    idempotency::once(env, scope, || async {
        let existing =
            store::refunds::by_idempotency_key(env, &caller.merchant_id, &scope.key).await?;
        let mut refund = match existing {
            // The idempotency record may be gone: the row still knows which request made it.
            Some(found) if found.request_fingerprint != scope.fingerprint => {
                return Ok(Ended::Retryable(idempotency::key_reused()))
            }
            Some(found) if found.status != RefundStatus::Pending => return stored(&found),
            Some(pending) => pending,
            None => {
                let status = payment.status;
                if status != PaymentStatus::Succeeded {
                    return Ok(Ended::Retryable(ApiError::payment_invalid_state(
                        status, "refunded",
                    )));
                }
                // The network took the disputed money back already: a refund would pay the
                // cardholder twice (the gateway refuses it too).
                if store::disputes::of_payment(env, &payment.id)
                    .await?
                    .is_some()
                {
                    return Ok(Ended::Retryable(ApiError::new(ErrorCode::PaymentDisputed)));
                }
                let amount = match refund_amount(
                    payment.amount_captured,
                    payment.amount_refunded,
                    request.amount,
                ) {
                    Ok(amount) => amount,
                    Err(error) => return Ok(Ended::Retryable(error)),
                };
                let now = clock::now_seconds();
                let legs = conversion::refund_legs(&payment, amount)?;
                let wallet_part = match payment.wallet_amount {
                    0 => 0,
                    paid => {
                        let card_refunded = store::refunds::card_refunded(env, &payment.id).await?;
                        let card_paid = payment.amount_captured - paid;
                        refund_split(amount, card_paid, card_refunded).wallet
                    }
                };
                let refund = RefundRow {
                    id: random::id(IdKind::Refund)?,
                    merchant_id: caller.merchant_id.clone(),
                    payment_id: payment.id.clone(),
                    idempotency_key: scope.key.clone(),
                    request_fingerprint: scope.fingerprint.clone(),
                    gateway_idempotency_key: Some(scope.gateway_key()),
                    poll_attempts: 0,
                    amount,
                    currency: payment.currency,
                    status: RefundStatus::Pending,
                    reason: request.reason,
                    gateway_reference: None,
                    failure_code: None,
                    settlement_amount: legs.map(|l| l.settlement.amount),
                    settlement_currency: legs.map(|l| l.settlement.currency),
                    fx_margin: legs.map(|l| l.margin),
                    wallet_amount: wallet_part,
                    created: now,
                    updated: now,
                };
                let posting = refunds::reservation(&payment, &refund, legs.as_ref())?;
                let reserved =
                    store::refunds::reserve(env, &refund, payment.amount_refunded, &posting);
                match reserved.await? {
                    Reserved::Done => {}
                    Reserved::Conflict => return Ok(Ended::Retryable(refund_conflict())),
                    Reserved::Overdrawn => {
                        return Ok(Ended::Retryable(
                            ApiError::new(ErrorCode::BalanceInsufficient)
                                .with_message(
                                    "The money this payment paid in has been spent or paid out: \
                                     the balance it went to is too low for this refund.",
                                )
                                .with_param("amount"),
                        ))
                    }
                }
                refund
            }
        };
        match resend(env, &refund).await {
            Ok(answer) => settle(env, &mut refund, answer).await?,
            Err(GatewayError::Unavailable(reason))
            | Err(GatewayError::Rejected { code: reason, .. }) => {
                // The refund stays pending with its amount reserved; a retry with the same key,
                // the gateway's webhook or the poller settles it.
                crate::log_warn!("refund {}: gateway unavailable: {reason}", refund.id);
                return Ok(Ended::Retryable(ApiError::gateway_unavailable()));
            }
        }
        stored(&refund)
    })
    .await
}

/// `GET /v1/refunds/:id` (secret key): a refund, with its status as the gateway settled it.
pub async fn retrieve(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let missing = || ApiError::not_found("refund");
    if !ids::is_valid(IdKind::Refund, id) {
        return Err(missing());
    }
    let refund = store::refunds::find(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing)?;
    json(200, &view(&refund))
}
