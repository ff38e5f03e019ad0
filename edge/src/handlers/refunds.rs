//! `POST /v1/refunds` (secret key, `Idempotency-Key`): give back all or part of a captured
//! payment. The amount is reserved on the payment in one statement before the gateway is asked,
//! so refunds together never exceed the capture.

use super::payments::{connector, status_of};
use crate::auth::authenticate;
use crate::gateway::{Connector, GatewayError};
use crate::http::{body_value, parse, ApiResult};
use crate::idempotency::{self, Ended};
use crate::store::{self, RefundRow};
use crate::{clock, random};
use till_core::api::{CreateRefund, Refund, RefundReason};
use till_core::error::ApiError;
use till_core::ids::{self, IdKind};
use till_core::money::Currency;
use till_core::payment::{refund_amount, PaymentStatus, RefundStatus};
use worker::{Env, Request};

fn view(row: &RefundRow) -> Result<Refund, ApiError> {
    let corrupt = |what: &str| {
        worker::console_error!("refund {}: stored {what} is invalid", row.id);
        ApiError::internal()
    };
    let reason = match &row.reason {
        Some(text) => Some(
            serde_json::from_value::<RefundReason>(serde_json::Value::String(text.clone()))
                .map_err(|_| corrupt("reason"))?,
        ),
        None => None,
    };
    Ok(Refund {
        id: row.id.clone(),
        object: "refund".into(),
        payment: row.payment_id.clone(),
        amount: row.amount,
        currency: Currency::parse(&row.currency).map_err(|_| corrupt("currency"))?,
        status: RefundStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?,
        reason,
        failure_code: row.failure_code.clone(),
        created: row.created,
    })
}

fn stored(row: &RefundRow) -> Result<Ended, ApiError> {
    let body = serde_json::to_string(&view(row)?).map_err(|_| ApiError::internal())?;
    Ok(Ended::Stored { status: 200, body })
}

pub async fn create(mut req: Request, env: &Env) -> ApiResult {
    let caller = authenticate(&req, env).await?;
    caller.require_secret_key()?;
    let body = body_value(&mut req).await?;
    let scope = idempotency::scope_for(&req, &caller.merchant_id, "refunds.create", &body)?;
    let request: CreateRefund = parse(body)?;
    let missing = || ApiError::not_found("payment").with_param("payment");
    if !ids::is_valid(IdKind::Payment, &request.payment) {
        return Err(missing());
    }
    let payment = store::payment(env, &caller.merchant_id, &request.payment)
        .await?
        .ok_or_else(missing)?;

    idempotency::once(env, &scope, || async {
        let mut refund = match store::refund_by_idempotency_key(env, &caller.merchant_id, &scope.key).await? {
            Some(existing) if existing.status != RefundStatus::Pending.as_str() => return stored(&existing),
            Some(pending) => pending,
            None => {
                let status = status_of(&payment)?;
                if status != PaymentStatus::Succeeded {
                    return Ok(Ended::Retryable(ApiError::payment_invalid_state(status.as_str(), "refunded")));
                }
                let amount = match refund_amount(payment.amount_captured, payment.amount_refunded, request.amount) {
                    Ok(amount) => amount,
                    Err(error) => return Ok(Ended::Retryable(error)),
                };
                if !store::reserve_refund(env, &payment.id, amount).await? {
                    return Ok(Ended::Retryable(ApiError::new(
                        409,
                        till_core::error::ErrorType::InvalidRequestError,
                        "refund_conflict",
                        "Another refund of this payment took that amount first. Check the payment and retry.",
                    )));
                }
                let now = clock::now_seconds();
                let refund = RefundRow {
                    id: random::id(IdKind::Refund)?,
                    merchant_id: caller.merchant_id.clone(),
                    payment_id: payment.id.clone(),
                    idempotency_key: scope.key.clone(),
                    amount,
                    currency: payment.currency.clone(),
                    status: RefundStatus::Pending.as_str().into(),
                    reason: request
                        .reason
                        .and_then(|r| serde_json::to_value(r).ok())
                        .and_then(|v| v.as_str().map(String::from)),
                    gateway_reference: None,
                    failure_code: None,
                    created: now,
                    updated: now,
                };
                store::insert_refund(env, &refund).await?;
                refund
            }
        };

        let reference = payment.gateway_reference.clone().ok_or_else(ApiError::internal)?;
        let next = match connector(env)?.refund(&reference, refund.amount, &refund.id, &scope.gateway_key()).await {
            Ok(gateway_refund) => {
                refund.gateway_reference = Some(gateway_refund);
                RefundStatus::Succeeded
            }
            Err(GatewayError::Unavailable(reason)) => {
                worker::console_warn!("refund {}: gateway unavailable: {reason}", refund.id);
                return Ok(Ended::Retryable(ApiError::gateway_unavailable()));
            }
            Err(GatewayError::Rejected { status, code }) => {
                worker::console_error!("refund {}: gateway refused ({status} {code})", refund.id);
                store::release_refund(env, &payment.id, refund.amount).await?;
                refund.failure_code = Some(code);
                RefundStatus::Failed
            }
        };
        if !RefundStatus::Pending.can_move_to(next) {
            return Err(ApiError::internal());
        }
        refund.status = next.as_str().into();
        refund.updated = clock::now_seconds();
        store::update_refund(env, &refund).await?;
        worker::console_log!("refund {} {}", refund.id, refund.status);
        if next == RefundStatus::Succeeded {
            crate::merchant_webhooks::emit(env, &caller.merchant_id, "refund.succeeded", &view(&refund)?)
                .await;
        }
        stored(&refund)
    })
    .await
}
