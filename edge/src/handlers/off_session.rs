//! `POST /v1/payments` (secret key, `Idempotency-Key`): the merchant charges a customer's saved
//! card without the customer (off-session), marked as merchant-initiated towards the gateway.
//!
//! The payment gets a checkout session of its own, so it is stored, recovered, reconciled and
//! refunded like every other. When the bank wants the customer to authenticate, the payment
//! fails `authentication_required` and the answer carries that session's client secret: the
//! customer pays it themselves on the hosted page.

use super::payments::stored;
use crate::auth::Caller;
use crate::connectors::{Authorization, GatewayCard, GatewayError, GatewayPayment, Initiator};
use crate::http::{body_value, parse, ApiResult};
use crate::idempotency::{self, Ended, Scope};
use crate::payments::{apply, recover, refused, view, Audience, Recovered};
use crate::store::payments::PaymentRow;
use crate::store::sessions::SessionRow;
use crate::vault::{Vault, VaultedCard};
use crate::{clock, gateways, random, store};
use till_core::api::{CaptureMethod, CreatePayment, CustomerAction, Purpose, SessionStatus};
use till_core::api_keys::hash_secret;
use till_core::error::ApiError;
use till_core::ids::IdKind;
use till_core::payment::{DeclineCode, GatewayState, PaymentStatus};
use worker::{Env, Request};

pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let body = body_value(&mut req).await?;
    let scope = idempotency::scope_for(&req, &caller.merchant_id, "payments.create", &body)?;
    let request: CreatePayment = parse(body)?;
    let money = request.validate()?;
    let merchant_id = caller.merchant_id.as_str();

    idempotency::once(env, &scope, || async {
        // The idempotency record may be gone: the row still knows which request made it.
        let existing = store::payments::by_idempotency_key(env, merchant_id, &scope.key).await?;
        let vault = Vault::open(env)?;
        let (mut payment, client_secret) = match existing {
            Some(found) if found.request_fingerprint != scope.fingerprint => {
                return Ok(Ended::Retryable(idempotency::key_reused()))
            }
            Some(found) if found.status != PaymentStatus::Processing => {
                return stored(&found, Audience::Server)
            }
            Some(mut found) => {
                // An attempt died after the payment was recorded: the gateway may have it.
                match recover(env, &mut found).await? {
                    Recovered::Applied => return stored(&found, Audience::Server),
                    Recovered::Unanswered(_) => {
                        return Ok(Ended::Retryable(ApiError::gateway_unavailable()))
                    }
                    Recovered::Unknown => (found, None),
                }
            }
            None => {
                let usable = store::payment_methods::usable(
                    env,
                    merchant_id,
                    &request.customer,
                    &request.payment_method,
                )
                .await?;
                let card = match usable {
                    Some(_) => vault.saved_card(&request.payment_method).await?,
                    None => None,
                };
                let Some(card) = card else {
                    return Ok(Ended::Retryable(
                        ApiError::not_found("payment method").with_param("payment_method"),
                    ));
                };
                let (payment, secret) = start(env, caller, &request, &card, &scope).await?;
                (payment, Some(secret))
            }
        };
        let Some(card) = vault.saved_card(&request.payment_method).await? else {
            return Ok(Ended::Retryable(
                ApiError::not_found("payment method").with_param("payment_method"),
            ));
        };
        let gateway = gateways::for_payment(env, &payment).await?;
        let card_reference =
            store::payment_methods::find(env, merchant_id, &request.payment_method)
                .await?
                .and_then(|method| method.reference_at(payment.gateway_account_id.as_deref()));
        let authorization = Authorization {
            amount: money.amount,
            currency: money.currency,
            reference: payment.id.clone(),
            capture: payment.capture_method == CaptureMethod::Automatic,
            card: GatewayCard {
                number: card.number,
                exp_month: card.exp_month,
                exp_year: card.exp_year,
                cvc: None,
                name: card.name,
            },
            initiator: Initiator::Merchant,
            stored_credential: true,
            card_reference,
        };
        let answer = match gateway
            .connector
            .authorize(&authorization, &payment.gateway_idempotency_key)
            .await
        {
            Ok(answer) => answer,
            Err(GatewayError::Unavailable(reason)) => {
                worker::console_warn!("payment {}: gateway unavailable: {reason}", payment.id);
                return Ok(Ended::Retryable(ApiError::gateway_unavailable()));
            }
            Err(GatewayError::Rejected { code, .. }) => refused(&code),
        };
        // A gateway that asks for a challenge nobody is there to answer: the bank wants the
        // customer, which is what `authentication_required` says.
        let answer = match answer.state {
            GatewayState::RequiresAction { .. } => GatewayPayment {
                card_reference: answer.card_reference,
                reference: answer.reference,
                state: GatewayState::Declined {
                    code: DeclineCode::AuthenticationRequired,
                },
            },
            _ => answer,
        };
        apply(env, &mut payment, answer).await?;
        let mut answer = view(&payment)?;
        if payment.failure_code == Some(DeclineCode::AuthenticationRequired) {
            answer.customer_action = client_secret.map(|client_secret| CustomerAction {
                checkout_session: payment.checkout_session_id.clone(),
                client_secret,
            });
        }
        let body = serde_json::to_string(&answer).map_err(|_| ApiError::internal())?;
        Ok(Ended::Stored { status: 200, body })
    })
    .await
}

/// Records the payment's own checkout session and the `processing` payment, before anything
/// reaches the gateway. The session's client secret is returned once, for the customer's
/// authentication should the bank ask for it.
async fn start(
    env: &Env,
    caller: &Caller,
    request: &CreatePayment,
    card: &VaultedCard,
    scope: &Scope,
) -> Result<(PaymentRow, String), ApiError> {
    let now = clock::now_seconds();
    let session_id = random::id(IdKind::CheckoutSession)?;
    let client_secret = format!("{session_id}_{}", random::id(IdKind::ClientSecret)?);
    let session = SessionRow {
        id: session_id,
        merchant_id: caller.merchant_id.clone(),
        client_secret_hash: hash_secret(&client_secret),
        amount: request.amount,
        currency: request.currency,
        capture_method: request.capture_method,
        line_items: "[]".into(),
        return_url: None,
        merchant_reference: request.merchant_reference.clone(),
        status: SessionStatus::Open,
        payment_id: None,
        customer_id: Some(request.customer.clone()),
        purpose: Purpose::Payment,
        created: now,
    };
    store::sessions::insert(env, &session).await?;
    let gateway = gateways::for_merchant(env, &caller.merchant_id).await?;
    let status = PaymentStatus::RequiresPaymentMethod
        .move_to(PaymentStatus::RequiresConfirmation)
        .and_then(|s| s.move_to(PaymentStatus::Processing))
        .map_err(|_| ApiError::internal())?;
    let payment = PaymentRow {
        id: random::id(IdKind::Payment)?,
        merchant_id: caller.merchant_id.clone(),
        checkout_session_id: session.id.clone(),
        idempotency_key: scope.key.clone(),
        request_fingerprint: scope.fingerprint.clone(),
        amount: request.amount,
        currency: request.currency,
        capture_method: request.capture_method,
        status,
        amount_captured: 0,
        amount_refunded: 0,
        challenge_attempts_remaining: None,
        gateway_idempotency_key: scope.gateway_key(),
        gateway_account_id: gateway.account_id.clone(),
        token: request.payment_method.clone(),
        customer_id: Some(request.customer.clone()),
        purpose: Purpose::Payment,
        payment_method_id: Some(request.payment_method.clone()),
        initiator: Initiator::Merchant,
        poll_attempts: 0,
        requires_review: 0,
        card_brand: card.brand,
        card_last4: card.last4.clone(),
        card_fingerprint: Some(card.fingerprint.clone()),
        card_exp_month: i64::from(card.exp_month),
        card_exp_year: i64::from(card.exp_year),
        gateway_reference: None,
        failure_code: None,
        failure_message: None,
        created: now,
        updated: now,
    };
    if !store::payments::insert_claiming_session(env, &payment).await? {
        return Err(ApiError::internal());
    }
    Ok((payment, client_secret))
}
