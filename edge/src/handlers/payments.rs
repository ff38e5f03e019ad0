//! Payments after confirmation: read, challenge (3-D Secure / OTP), capture, cancel. Every move
//! goes through the core state machine; gateway answers are applied by [`apply`].

use super::accessible_session;
use crate::auth::Caller;
use crate::connectors::GatewayError;
use crate::gateways;
use crate::http::{body_value, json, parse, ApiResult};
use crate::idempotency::{self, Ended};
use crate::payments::{apply, refused, view, view_for, Audience};
use crate::store::{self, payments::PaymentRow};
use till_core::api::{CancelPayment, CapturePayment, CompleteChallenge};
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::{self, IdKind};
use till_core::payment::{capture_amount, PaymentStatus};
use worker::{Env, Request};

/// The payment as a stored idempotent answer.
pub fn stored(row: &PaymentRow, audience: Audience) -> Result<Ended, ApiError> {
    let body =
        serde_json::to_string(&view_for(row, audience)?).map_err(|_| ApiError::internal())?;
    Ok(Ended::Stored { status: 200, body })
}

pub async fn load(env: &Env, caller: &Caller, id: &str) -> Result<PaymentRow, ApiError> {
    let missing = || ApiError::not_found("payment");
    if !ids::is_valid(IdKind::Payment, id) {
        return Err(missing());
    }
    store::payments::find(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing)
}

/// `GET /v1/payments/:id` (secret key).
pub async fn retrieve(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    json(200, &view(&load(env, caller, id).await?)?)
}

/// `POST /v1/payments/:id/challenge` (publishable key with the session's client secret): the
/// customer's one-time code. A wrong code leaves the payment `requires_action` with fewer
/// attempts; the gateway declines after the last.
pub async fn challenge(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    crate::rate_limit::check_browser_caller(env, &req, caller).await?;
    let request: CompleteChallenge = parse(body_value(&mut req).await?)?;
    let mut payment = load(env, caller, id).await?;
    accessible_session(
        env,
        caller,
        &payment.checkout_session_id,
        Some(&request.client_secret),
    )
    .await?;
    let status = payment.status;
    if status != PaymentStatus::RequiresAction {
        return Err(ApiError::payment_invalid_state(status, "challenged"));
    }
    if request.otp.len() != 6 || !request.otp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::new(ErrorCode::OtpInvalid).with_param("otp"));
    }
    let reference = payment
        .gateway_reference
        .clone()
        .ok_or_else(ApiError::internal)?;
    // One gateway key per attempt: a retried submission of the same attempt does not use up
    // another attempt.
    let key = format!(
        "{}_challenge_{}",
        payment.gateway_idempotency_key,
        payment.challenge_attempts_remaining.unwrap_or(0)
    );
    let gateway = gateways::for_payment(env, &payment).await?;
    let answer = match gateway
        .connector
        .challenge(&reference, &request.otp, &key)
        .await
    {
        Ok(answer) => answer,
        Err(GatewayError::Unavailable(reason)) => {
            crate::log_warn!("payment {}: challenge unanswered: {reason}", payment.id);
            return Err(ApiError::gateway_unavailable());
        }
        Err(GatewayError::Rejected { code, .. }) => refused(&code),
    };
    apply(env, &mut payment, answer).await?;
    json(200, &view_for(&payment, Audience::Browser)?)
}

/// `POST /v1/payments/:id/capture` (secret key, `Idempotency-Key`): all or part of an
/// authorization made with `capture_method: manual`.
pub async fn capture(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let body = body_value(&mut req).await?;
    let scope = idempotency::scope_for(&req, &caller.merchant_id, "payments.capture", &body)?;
    let request: CapturePayment = parse(body)?;
    let mut payment = load(env, caller, id).await?;
    idempotency::once(env, &scope, || async {
        let status = payment.status;
        if status != PaymentStatus::RequiresCapture {
            return Ok(Ended::Retryable(ApiError::payment_invalid_state(
                status, "captured",
            )));
        }
        if under_review(&payment) {
            return Ok(Ended::Retryable(ApiError::new(
                ErrorCode::PaymentUnderReview,
            )));
        }
        let amount = match capture_amount(payment.amount, request.amount) {
            Ok(amount) => amount,
            Err(error) => return Ok(Ended::Retryable(error)),
        };
        if let Err(refused) = at_gateway(
            env,
            &mut payment,
            Move::Capture(amount),
            &scope.gateway_key(),
        )
        .await?
        {
            return Ok(Ended::Retryable(refused));
        }
        stored(&payment, Audience::Server)
    })
    .await
}

/// `POST /v1/payments/:id/cancel` (secret key, `Idempotency-Key`): void before capture.
pub async fn cancel(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let body = body_value(&mut req).await?;
    let scope = idempotency::scope_for(&req, &caller.merchant_id, "payments.cancel", &body)?;
    let _: CancelPayment = parse(body)?;
    let mut payment = load(env, caller, id).await?;
    idempotency::once(env, &scope, || async {
        let status = payment.status;
        if !status.can_move_to(PaymentStatus::Canceled) {
            return Ok(Ended::Retryable(ApiError::payment_invalid_state(
                status, "canceled",
            )));
        }
        if under_review(&payment) {
            return Ok(Ended::Retryable(ApiError::new(
                ErrorCode::PaymentUnderReview,
            )));
        }
        if let Err(refused) =
            at_gateway(env, &mut payment, Move::Void, &scope.gateway_key()).await?
        {
            return Ok(Ended::Retryable(refused));
        }
        stored(&payment, Audience::Server)
    })
    .await
}

/// A payment a review rule holds is decided through its review, not captured or voided alone.
fn under_review(payment: &PaymentRow) -> bool {
    payment.review_status.as_deref() == Some("open")
}

/// What is asked of an authorization at its gateway.
#[derive(Clone, Copy)]
pub enum Move {
    Capture(i64),
    Void,
}

/// Captures or voids the payment's authorization at its gateway with `key` and applies the
/// answer. The inner error is a refusal that changed nothing (the gateway said no, or did not
/// answer): the same request may be retried.
pub async fn at_gateway(
    env: &Env,
    payment: &mut PaymentRow,
    asked: Move,
    key: &str,
) -> Result<Result<(), ApiError>, ApiError> {
    let reference = payment
        .gateway_reference
        .clone()
        .ok_or_else(ApiError::internal)?;
    let gateway = gateways::for_payment(env, payment).await?;
    let (answer, action) = match asked {
        Move::Capture(amount) => (
            gateway.connector.capture(&reference, amount, key).await,
            "captured",
        ),
        Move::Void => (gateway.connector.void(&reference, key).await, "canceled"),
    };
    match answer {
        Ok(answer) => {
            apply(env, payment, answer).await?;
            Ok(Ok(()))
        }
        Err(GatewayError::Unavailable(_)) => Ok(Err(ApiError::gateway_unavailable())),
        Err(GatewayError::Rejected { status, code }) => {
            crate::log_error!("payment {}: not {action} ({status} {code})", payment.id);
            Ok(Err(ApiError::payment_invalid_state(payment.status, action)))
        }
    }
}
