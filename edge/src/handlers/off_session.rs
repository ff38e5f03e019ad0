//! `POST /v1/payments` (secret key, `Idempotency-Key`): the merchant charges a customer's saved
//! card without the customer (off-session), marked as merchant-initiated towards the gateway.
//! When the bank wants the customer to authenticate, the payment fails `authentication_required`
//! and the answer carries the charge's checkout session and client secret: the customer pays
//! it themselves on the hosted page.

use super::payments::stored;
use crate::auth::Caller;
use crate::connectors::Initiator;
use crate::http::{body_value, parse, ApiResult};
use crate::idempotency::{self, Ended};
use crate::payments::saved_cards::{self, Charge, Charged, Charging, Context};
use crate::payments::{view, Audience};
use crate::store::charge_reads::Earlier;
use crate::{random, server_timing};
use till_core::api::{CreatePayment, CustomerAction, Purpose};
use till_core::error::ApiError;
use till_core::ids::IdKind;
use till_core::payment::DeclineCode;
use worker::{Env, Request};

fn no_such_card() -> ApiError {
    ApiError::not_found("payment method").with_param("payment_method")
}

pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let body = body_value(&mut req).await?;
    let scope = idempotency::scope_for(&req, &caller.merchant_id, "payments.create", &body)?;
    let request: CreatePayment = parse(body)?;
    let money = request.validate()?;
    let merchant_id = caller.merchant_id.as_str();

    idempotency::once(env, &scope, || async {
        // The idempotency record may be gone: the row still knows which request made it.
        let earlier = Earlier::IdempotencyKey(&scope.key);
        let (reads, card) = saved_cards::read(
            env,
            merchant_id,
            &request.customer,
            &request.payment_method,
            earlier,
        )
        .await?;
        server_timing::step("reads");
        let (mut payment, client_secret, charging) = match reads.earlier {
            Some(found) if found.request_fingerprint != scope.fingerprint => {
                return Ok(Ended::Retryable(idempotency::key_reused()))
            }
            Some(found) if !saved_cards::unfinished(found.status) => {
                return stored(&found, Audience::Server)
            }
            // An attempt died after the payment was recorded: the gateway may have it.
            Some(found) => (found, None, Charging::Resumed),
            None => {
                let (Some(context), Some(card)) = (Context::of(reads), &card) else {
                    return Ok(Ended::Retryable(no_such_card()));
                };
                let charge = Charge {
                    merchant_id,
                    customer: &request.customer,
                    payment_method: &request.payment_method,
                    money,
                    capture_method: request.capture_method,
                    merchant_reference: request.merchant_reference.clone(),
                    purpose: Purpose::Payment,
                    payee: None,
                    payee_claim: None,
                    initiator: Initiator::Merchant,
                    idempotency_key: scope.key.clone(),
                    fingerprint: scope.fingerprint.clone(),
                    gateway_key: scope.gateway_key(),
                };
                let payment_id = random::id(IdKind::Payment)?;
                let recorded = saved_cards::start(env, &charge, payment_id, card, context).await?;
                let route = Charging::Started(recorded.route);
                (recorded.payment, Some(recorded.client_secret), route)
            }
        };
        let Some(card) = card else {
            return Ok(Ended::Retryable(no_such_card()));
        };
        if let Charged::Unanswered = saved_cards::charge(env, &mut payment, card, charging).await? {
            return Ok(Ended::Retryable(ApiError::gateway_unavailable()));
        }
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
