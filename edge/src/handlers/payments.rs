//! Payments after confirmation: read, challenge (3-D Secure / OTP), capture, cancel. Every move
//! goes through the core state machine; gateway answers are applied by [`apply`].

use super::accessible_session;
use crate::auth::Caller;
use crate::clock;
use crate::connectors::{GatewayError, GatewayPayment};
use crate::gateways;
use crate::http::{body_value, json, parse, ApiResult};
use crate::idempotency::{self, Ended};
use crate::store::{self, PaymentRow, SessionOutcome};
use till_core::api::{
    CancelPayment, CaptureMethod, CapturePayment, CompleteChallenge, NextAction, Payment,
};
use till_core::card::{Brand, CardSummary};
use till_core::error::ApiError;
use till_core::ids::{self, IdKind};
use till_core::money::Currency;
use till_core::payment::{capture_amount, decline_message, GatewayState, PaymentStatus};
use worker::{Env, Request};

fn corrupt(row: &PaymentRow, what: &str) -> ApiError {
    worker::console_error!("payment {}: stored {what} is invalid", row.id);
    ApiError::internal()
}

pub fn status_of(row: &PaymentRow) -> Result<PaymentStatus, ApiError> {
    PaymentStatus::parse(&row.status).ok_or_else(|| corrupt(row, "status"))
}

pub fn view(row: &PaymentRow) -> Result<Payment, ApiError> {
    let brand: Brand = serde_json::from_value(serde_json::Value::String(row.card_brand.clone()))
        .map_err(|_| corrupt(row, "card_brand"))?;
    let status = status_of(row)?;
    Ok(Payment {
        id: row.id.clone(),
        object: "payment".into(),
        amount: row.amount,
        currency: Currency::parse(&row.currency).map_err(|_| corrupt(row, "currency"))?,
        status,
        capture_method: CaptureMethod::parse(&row.capture_method)
            .ok_or_else(|| corrupt(row, "capture_method"))?,
        amount_captured: row.amount_captured,
        amount_refunded: row.amount_refunded,
        requires_review: row.requires_review != 0,
        next_action: (status == PaymentStatus::RequiresAction).then(|| NextAction::OtpChallenge {
            attempts_remaining: row
                .challenge_attempts_remaining
                .and_then(|n| u8::try_from(n).ok())
                .unwrap_or(0),
        }),
        checkout_session: row.checkout_session_id.clone(),
        card: CardSummary {
            brand,
            last4: row.card_last4.clone(),
            fingerprint: row.card_fingerprint.clone(),
            exp_month: u8::try_from(row.card_exp_month).map_err(|_| corrupt(row, "exp_month"))?,
            exp_year: u16::try_from(row.card_exp_year).map_err(|_| corrupt(row, "exp_year"))?,
        },
        failure_code: row.failure_code.clone(),
        failure_message: row.failure_message.clone(),
        created: row.created,
    })
}

/// Who reads a payment: the merchant's server sees the card fingerprint, the browser does not.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Server,
    Browser,
}

/// The payment as `audience` may see it.
pub fn view_for(row: &PaymentRow, audience: Audience) -> Result<Payment, ApiError> {
    let mut payment = view(row)?;
    if audience == Audience::Browser {
        payment.card.fingerprint = None;
    }
    Ok(payment)
}

/// The payment as a stored idempotent answer.
pub fn stored(row: &PaymentRow, audience: Audience) -> Result<Ended, ApiError> {
    let body =
        serde_json::to_string(&view_for(row, audience)?).map_err(|_| ApiError::internal())?;
    Ok(Ended::Stored { status: 200, body })
}

/// Moves the payment to what the gateway says, through the state machine, and settles its
/// session. A repeat of an answer already applied changes nothing.
pub async fn apply(
    env: &Env,
    payment: &mut PaymentRow,
    answer: GatewayPayment,
) -> Result<(), ApiError> {
    let from = status_of(payment)?;
    let next = answer.state.status();
    if from != next {
        from.settle_to(next).map_err(|e| {
            worker::console_error!("payment {}: gateway answer refused: {e}", payment.id);
            ApiError::payment_invalid_state(from.as_str(), next.as_str())
        })?;
    }
    payment.status = next.as_str().into();
    if !answer.reference.is_empty() {
        payment.gateway_reference = Some(answer.reference);
    }
    payment.challenge_attempts_remaining = None;
    match answer.state {
        GatewayState::RequiresAction { attempts_remaining } => {
            payment.challenge_attempts_remaining = Some(i64::from(attempts_remaining));
        }
        GatewayState::Captured { amount } => payment.amount_captured = amount,
        GatewayState::Declined { code } => {
            payment.failure_message = Some(decline_message(&code).to_string());
            payment.failure_code = Some(code);
        }
        GatewayState::Authorized | GatewayState::Voided => {}
    }
    payment.updated = clock::now_seconds();
    if !store::update_payment(env, payment, from.as_str()).await? {
        // Another request (a retry, a webhook) moved it first: report what is stored now.
        if let Some(current) = store::payment(env, &payment.merchant_id, &payment.id).await? {
            *payment = current;
        }
        return Ok(());
    }
    let outcome = match next {
        PaymentStatus::Succeeded | PaymentStatus::RequiresCapture => SessionOutcome::Paid,
        PaymentStatus::Failed => SessionOutcome::Failed,
        PaymentStatus::Canceled => SessionOutcome::Reopen,
        _ => SessionOutcome::Keep,
    };
    let locked =
        store::settle_session(env, &payment.checkout_session_id, &payment.id, outcome).await?;
    if locked {
        worker::console_warn!(
            "checkout session {} locked after repeated failed payments",
            payment.checkout_session_id
        );
        let session = serde_json::json!({
            "id": payment.checkout_session_id,
            "object": "checkout_session",
            "status": "locked",
            "failed_attempts": till_core::api::MAX_FAILED_PAYMENTS_PER_SESSION,
        });
        crate::merchant_webhooks::emit(
            env,
            &payment.merchant_id,
            "checkout_session.locked",
            &session,
        )
        .await;
    }
    worker::console_log!(
        "payment {} {} -> {}",
        payment.id,
        from.as_str(),
        next.as_str()
    );
    let event = match next {
        PaymentStatus::Succeeded => Some("payment.succeeded"),
        PaymentStatus::Failed => Some("payment.failed"),
        PaymentStatus::RequiresAction => Some("payment.requires_action"),
        _ => None,
    };
    if let Some(kind) = event.filter(|_| from != next) {
        crate::merchant_webhooks::emit(env, &payment.merchant_id, kind, &view(payment)?).await;
    }
    Ok(())
}

/// Once the gateway has answered, the card's vault records (the CVC above all) are deleted.
pub async fn forget_card(env: &Env, payment: &PaymentRow) -> Result<(), ApiError> {
    crate::vault::Vault::open(env)?.forget(&payment.token).await
}

/// A gateway refusal means the call had no effect: the payment fails with a processing error.
pub fn refused(code: &str) -> GatewayPayment {
    worker::console_error!("gateway refused a request: {code}");
    GatewayPayment {
        reference: String::new(),
        state: GatewayState::Declined {
            code: "processing_error".into(),
        },
    }
}

async fn load(env: &Env, caller: &Caller, id: &str) -> Result<PaymentRow, ApiError> {
    let missing = || ApiError::not_found("payment");
    if !ids::is_valid(IdKind::Payment, id) {
        return Err(missing());
    }
    store::payment(env, &caller.merchant_id, id)
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
    let status = status_of(&payment)?;
    if status != PaymentStatus::RequiresAction {
        return Err(ApiError::payment_invalid_state(
            status.as_str(),
            "challenged",
        ));
    }
    if request.otp.len() != 6 || !request.otp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(
            ApiError::invalid_request("otp_invalid", "Enter the 6-digit code.").with_param("otp"),
        );
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
            worker::console_warn!("payment {}: challenge unanswered: {reason}", payment.id);
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
        let status = status_of(&payment)?;
        if status != PaymentStatus::RequiresCapture {
            return Ok(Ended::Retryable(ApiError::payment_invalid_state(
                status.as_str(),
                "captured",
            )));
        }
        let amount = match capture_amount(payment.amount, request.amount) {
            Ok(amount) => amount,
            Err(error) => return Ok(Ended::Retryable(error)),
        };
        let reference = payment
            .gateway_reference
            .clone()
            .ok_or_else(ApiError::internal)?;
        let gateway = gateways::for_payment(env, &payment).await?;
        match gateway
            .connector
            .capture(&reference, amount, &scope.gateway_key())
            .await
        {
            Ok(answer) => apply(env, &mut payment, answer).await?,
            Err(GatewayError::Unavailable(_)) => {
                return Ok(Ended::Retryable(ApiError::gateway_unavailable()))
            }
            Err(GatewayError::Rejected { status, code }) => {
                worker::console_error!("payment {}: capture refused ({status} {code})", payment.id);
                return Ok(Ended::Retryable(ApiError::payment_invalid_state(
                    &payment.status,
                    "captured",
                )));
            }
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
        let status = status_of(&payment)?;
        if !status.can_move_to(PaymentStatus::Canceled) {
            return Ok(Ended::Retryable(ApiError::payment_invalid_state(
                status.as_str(),
                "canceled",
            )));
        }
        let reference = payment
            .gateway_reference
            .clone()
            .ok_or_else(ApiError::internal)?;
        let gateway = gateways::for_payment(env, &payment).await?;
        match gateway
            .connector
            .void(&reference, &scope.gateway_key())
            .await
        {
            Ok(answer) => apply(env, &mut payment, answer).await?,
            Err(GatewayError::Unavailable(_)) => {
                return Ok(Ended::Retryable(ApiError::gateway_unavailable()))
            }
            Err(GatewayError::Rejected { status, code }) => {
                worker::console_error!("payment {}: void refused ({status} {code})", payment.id);
                return Ok(Ended::Retryable(ApiError::payment_invalid_state(
                    &payment.status,
                    "canceled",
                )));
            }
        }
        stored(&payment, Audience::Server)
    })
    .await
}
