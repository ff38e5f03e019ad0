//! `POST /v1/checkout_sessions/:id/confirm`: pay the session with a token, exactly once per
//! `Idempotency-Key`.
//!
//! The idempotency record decides who goes first. The payment row is written before the gateway
//! is called; the gateway gets a key derived from the client's key, so a retry after a lost
//! answer returns the gateway's first result instead of charging again.

use super::accessible_session;
use super::payments::view;
use crate::auth::{authenticate, Caller};
use crate::gateway::{
    Authorization, Connector, GatewayCard, GatewayError, Outcome, SandboxConnector,
};
use crate::http::{body_value, header, parse, raw_json, ApiResult};
use crate::store::{self, Begin, IdempotencyScope, PaymentRow, SessionRow};
use crate::vault::Vault;
use crate::{clock, config, random};
use till_core::api::{ConfirmCheckoutSession, SessionStatus};
use till_core::error::{ApiError, ErrorType};
use till_core::idempotency::{self, decide, Decision};
use till_core::ids::{self, IdKind};
use till_core::payment::{decline_message, PaymentStatus};

const ENDPOINT: &str = "checkout_sessions.confirm";

/// How a confirm ended: with an outcome that must be replayed to every retry, or without one
/// (nothing was charged, or we cannot know yet), so a retry with the same key runs again.
enum Ended {
    Stored(PaymentRow),
    Retryable(ApiError),
}

pub async fn confirm(mut req: worker::Request, env: &worker::Env, session_id: &str) -> ApiResult {
    let caller = authenticate(&req, env).await?;
    let key_header = header(&req, idempotency::HEADER);
    let key = idempotency::validate_key(key_header.as_deref())?.to_string();
    let path = req.path();
    let body = body_value(&mut req).await?;
    let fingerprint = idempotency::fingerprint("POST", &path, &body);
    let request: ConfirmCheckoutSession = parse(body)?;
    let session =
        accessible_session(env, &caller, session_id, Some(&request.client_secret)).await?;

    let scope = IdempotencyScope {
        merchant_id: &caller.merchant_id,
        endpoint: ENDPOINT,
        key: &key,
    };
    match store::begin_idempotent(env, &scope, &fingerprint, clock::now_seconds()).await? {
        Begin::First => {}
        Begin::Existing(stored) => {
            return match decide(stored, &fingerprint) {
                Decision::Replay { status, body } => {
                    let mut response = raw_json(status, &body)?;
                    response
                        .headers_mut()
                        .set("Idempotent-Replayed", "true")
                        .map_err(|_| ApiError::internal())?;
                    Ok(response)
                }
                Decision::Reject(error) => Err(error),
            };
        }
    }

    match pay(env, &caller, &session, &request.token, &key).await {
        Ok(Ended::Stored(payment)) => {
            let body = serde_json::to_string(&view(&payment)?).map_err(|_| ApiError::internal())?;
            store::complete_idempotent(env, &scope, 200, &body).await?;
            raw_json(200, &body)
        }
        Ok(Ended::Retryable(error)) | Err(error) => {
            store::release_idempotent(env, &scope).await?;
            Err(error)
        }
    }
}

fn unavailable_session() -> ApiError {
    ApiError::new(
        409,
        ErrorType::InvalidRequestError,
        "checkout_session_unavailable",
        "This checkout session is already paid or has a payment in progress.",
    )
}

fn invalid_token() -> ApiError {
    ApiError::invalid_request(
        "token_invalid",
        "No usable token with that id for this checkout session. Tokens are single use.",
    )
    .with_param("token")
}

async fn pay(
    env: &worker::Env,
    caller: &Caller,
    session: &SessionRow,
    token: &str,
    key: &str,
) -> Result<Ended, ApiError> {
    // A retry of a payment whose gateway answer was lost resumes that payment.
    let mut payment = match store::payment_by_idempotency_key(env, &caller.merchant_id, key).await?
    {
        Some(existing) if existing.status != PaymentStatus::Processing.as_str() => {
            return Ok(Ended::Stored(existing));
        }
        Some(existing) => existing,
        None => start_payment(env, caller, session, token, key).await?,
    };

    let vault = Vault::open(env)?;
    let Some((card, cvc)) = vault.card(token).await? else {
        return Err(invalid_token());
    };
    let Some(cvc) = cvc else {
        return Err(ApiError::invalid_request(
            "token_expired",
            "The card's security code is no longer held. Enter the card again.",
        )
        .with_param("token"));
    };
    let authorization = Authorization {
        amount: payment.amount,
        currency: payment.currency.clone(),
        reference: payment.id.clone(),
        card: GatewayCard {
            number: card.number,
            exp_month: card.exp_month,
            exp_year: card.exp_year,
            cvc,
            name: card.name,
        },
    };
    let connector = SandboxConnector::new(config::gateway(env)?);
    let gateway_key = idempotency::gateway_key(&caller.merchant_id, ENDPOINT, key);
    let outcome = match connector.authorize(&authorization, &gateway_key).await {
        Ok(outcome) => outcome,
        Err(GatewayError::Unavailable(reason)) => {
            worker::console_warn!("payment {}: gateway unavailable: {reason}", payment.id);
            return Ok(Ended::Retryable(ApiError::gateway_unavailable()));
        }
        Err(GatewayError::Rejected(reason)) => {
            worker::console_error!(
                "payment {}: gateway rejected the request: {reason}",
                payment.id
            );
            Outcome::Declined {
                reference: String::new(),
                code: "processing_error".into(),
            }
        }
    };

    let (next, reference, failure) = match outcome {
        Outcome::Captured { reference } => (PaymentStatus::Succeeded, reference, None),
        Outcome::Declined { reference, code } => (PaymentStatus::Failed, reference, Some(code)),
    };
    let from = PaymentStatus::Processing;
    from.move_to(next).map_err(|e| {
        worker::console_error!("payment {}: {e}", payment.id);
        ApiError::internal()
    })?;
    payment.status = next.as_str().into();
    payment.gateway_reference = Some(reference).filter(|r| !r.is_empty());
    payment.failure_message = failure.as_deref().map(|c| decline_message(c).to_string());
    payment.failure_code = failure;
    payment.updated = clock::now_seconds();
    store::record_outcome(env, &payment, from.as_str()).await?;
    store::settle_session(
        env,
        &session.id,
        &payment.id,
        next == PaymentStatus::Succeeded,
    )
    .await?;
    vault.forget(token).await?;
    worker::console_log!("payment {} {}", payment.id, payment.status);
    Ok(Ended::Stored(payment))
}

/// Reserves the session and records a `processing` payment before anything reaches the gateway.
async fn start_payment(
    env: &worker::Env,
    caller: &Caller,
    session: &SessionRow,
    token: &str,
    key: &str,
) -> Result<PaymentRow, ApiError> {
    if session.status != SessionStatus::Open.as_str() {
        return Err(unavailable_session());
    }
    if !ids::is_valid(IdKind::Token, token) {
        return Err(invalid_token());
    }
    let vault = Vault::open(env)?;
    let card = match vault.card(token).await? {
        Some((card, _)) if card.checkout_session == session.id => card,
        _ => return Err(invalid_token()),
    };
    let status = PaymentStatus::RequiresPaymentMethod
        .move_to(PaymentStatus::RequiresConfirmation)
        .and_then(|s| s.move_to(PaymentStatus::Processing))
        .map_err(|_| ApiError::internal())?;
    let now = clock::now_seconds();
    let payment = PaymentRow {
        id: random::id(IdKind::Payment)?,
        merchant_id: caller.merchant_id.clone(),
        checkout_session_id: session.id.clone(),
        idempotency_key: key.to_string(),
        amount: session.amount,
        currency: session.currency.clone(),
        status: status.as_str().into(),
        card_brand: serde_json::to_value(card.brand)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .ok_or_else(ApiError::internal)?,
        card_last4: card.last4,
        card_exp_month: i64::from(card.exp_month),
        card_exp_year: i64::from(card.exp_year),
        gateway_reference: None,
        failure_code: None,
        failure_message: None,
        created: now,
        updated: now,
    };
    if !store::claim_session(env, &session.id, &payment.id).await? {
        return Err(unavailable_session());
    }
    store::insert_payment(env, &payment).await?;
    Ok(payment)
}
