//! Gateways' signed events: `POST /v1/webhooks/gateway` for the platform's account and
//! `POST /v1/webhooks/gateway/:account` for a merchant's own. The account's connector verifies
//! and reads the event; a payment left `processing` (the answer was lost) or a refund left
//! `pending` is settled by it; a dispute is recorded or moved. Duplicates are recognised by event id, events that arrive out of
//! order are refused by the state machine and acknowledged without effect, and an event about
//! another account's payment changes nothing.

use crate::connectors::{GatewayEvent, GatewayPayment, RefundAnswer, WebhookError};
use crate::gateways::{self, Gateway};
use crate::http::{header, json, read_body, ApiResult};
use crate::payments::{apply, forget_card, refunds};
use crate::store::payments::PaymentRow;
use crate::{clock, store};
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::{self, IdKind};
use till_core::payment::RefundStatus;
use till_core::webhook::{check_header, SignatureError};
use worker::{Env, Request};

/// Anyone can send to this endpoint, so it reads little: a gateway event (a Stripe payment
/// intent with its charge included) fits well within this.
const MAX_EVENT_BYTES: usize = 64 * 1024;

fn refused(error: SignatureError) -> ApiError {
    crate::log_warn!("gateway webhook refused: {error}");
    ApiError::new(ErrorCode::SignatureInvalid).with_message(format!("Webhook refused: {error}."))
}

fn acknowledged(outcome: &str) -> ApiResult {
    json(
        200,
        &serde_json::json!({ "received": true, "outcome": outcome }),
    )
}

pub async fn receive(mut req: Request, env: &Env, account: Option<&str>) -> ApiResult {
    let gateway = match account {
        None => gateways::platform(env)?,
        Some(id) if ids::is_valid(IdKind::GatewayAccount, id) => {
            match store::gateway_accounts::by_id(env, id).await? {
                Some(_) => gateways::for_account(env, Some(id)).await?,
                None => return Err(ApiError::not_found("gateway account")),
            }
        }
        Some(_) => return Err(ApiError::not_found("gateway account")),
    };
    let now = clock::now_seconds();
    // Before a byte of the body is read: a signature header of the right shape and age.
    let signature = header(&req, gateway.connector.signature_header()).unwrap_or_default();
    check_header(&signature, now).map_err(refused)?;
    let body = read_body(&mut req, MAX_EVENT_BYTES).await?;
    let event = gateway
        .connector
        .webhook(&signature, &body, now)
        .map_err(|e| match e {
            WebhookError::Signature(error) => refused(error),
            WebhookError::Unreadable => ApiError::invalid_body("not a gateway event"),
        })?;
    let event_id = event.id().to_string();
    // A payment event's payment is read with the duplicate check.
    let (seen, payment_row) = match &event {
        GatewayEvent::Payment {
            payment_id: Some(payment_id),
            ..
        } => store::events::seen_with_payment(env, &event_id, payment_id).await?,
        _ => (store::events::seen(env, &event_id).await?, None),
    };
    if seen {
        return acknowledged("duplicate");
    }
    let outcome = match event {
        GatewayEvent::Payment { payment, .. } => {
            settle_payment(env, &gateway, payment_row, payment).await?
        }
        GatewayEvent::Refund {
            refund_id, answer, ..
        } => settle_refund(env, &gateway, &refund_id, answer).await?,
        GatewayEvent::Dispute { dispute, .. } => {
            crate::disputes::from_gateway(env, &gateway, dispute).await?
        }
        GatewayEvent::Other { .. } => "ignored",
    };
    // Remembered only once handled, so a failure above is retried by the gateway.
    store::events::remember(env, &event_id, outcome, now).await?;
    worker::console_log!("gateway event {event_id}: {outcome}");
    acknowledged(outcome)
}

/// Whether a payment was made through the account this event came from.
fn same_account(gateway: &Gateway, payment: &store::payments::PaymentRow) -> bool {
    payment.gateway_account_id == gateway.account_id
}

/// `stored`: the payment the event names, as read with the duplicate check (none when the event
/// names none, or one Till does not have).
async fn settle_payment(
    env: &Env,
    gateway: &Gateway,
    stored: Option<PaymentRow>,
    answer: GatewayPayment,
) -> Result<&'static str, ApiError> {
    let Some(mut payment) = stored else {
        return Ok("unknown_payment");
    };
    if !same_account(gateway, &payment) {
        crate::log_warn!("gateway event for {} from another account", payment.id);
        return Ok("other_account");
    }
    if payment
        .gateway_reference
        .as_ref()
        .is_some_and(|known| *known != answer.reference)
    {
        return Ok("other_authorization");
    }
    let before = payment.status;
    match apply(env, &mut payment, answer).await {
        Ok(()) if payment.status == before => Ok("unchanged"),
        Ok(()) => {
            forget_card(env, &payment).await?;
            Ok("applied")
        }
        // An older event after a newer one: the state machine refuses it, which is right.
        Err(error) if error.code() == ErrorCode::PaymentInvalidState => Ok("stale"),
        Err(error) => Err(error),
    }
}

/// A refund the gateway settled: Till's refund is settled too if its own answer was lost.
async fn settle_refund(
    env: &Env,
    gateway: &Gateway,
    refund_id: &str,
    answer: RefundAnswer,
) -> Result<&'static str, ApiError> {
    let Some(mut refund) = store::refunds::by_id(env, refund_id).await? else {
        return Ok("unknown_refund");
    };
    let Some(payment) = store::payments::by_id(env, &refund.payment_id).await? else {
        return Ok("unknown_refund");
    };
    if !same_account(gateway, &payment) {
        crate::log_warn!("gateway event for {refund_id} from another account");
        return Ok("other_account");
    }
    if refund.status != RefundStatus::Pending {
        return Ok("unchanged");
    }
    refunds::settle(env, &mut refund, answer).await?;
    Ok("applied")
}
