//! `POST /v1/webhooks/gateway`: the gateway's signed events. A payment left `processing` (the
//! answer was lost) is settled by the event; duplicates are recognised by event id, and events
//! that arrive out of order are refused by the state machine and acknowledged without effect.

use super::payments::{apply, forget_card};
use super::refunds;
use crate::gateway::{authorization_event, refund_event};
use crate::http::{header, json, read_body, ApiResult};
use crate::{clock, store};
use serde::Deserialize;
use till_core::error::ApiError;
use till_core::payment::RefundStatus;
use till_core::webhook::{check_header, verify, SignatureError};
use worker::{Env, Request};

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: serde_json::Value,
}

fn acknowledged(outcome: &str) -> ApiResult {
    json(
        200,
        &serde_json::json!({ "received": true, "outcome": outcome }),
    )
}

/// Gateway events are small; anyone can send to this endpoint, so it reads little.
const MAX_EVENT_BYTES: usize = 16 * 1024;

fn refused(error: SignatureError) -> ApiError {
    worker::console_warn!("gateway webhook refused: {error}");
    ApiError::invalid_request("signature_invalid", format!("Webhook refused: {error}."))
}

pub async fn receive(mut req: Request, env: &Env) -> ApiResult {
    let now = clock::now_seconds();
    // Before a byte of the body is read: a signature header of the right shape and age.
    let signature = header(&req, "Gateway-Signature").unwrap_or_default();
    check_header(&signature, now).map_err(refused)?;
    let body = read_body(&mut req, MAX_EVENT_BYTES).await?;
    let secret = crate::config::gateway_webhook_secret(env)?;
    verify(secret.expose().as_bytes(), &signature, &body, now).map_err(refused)?;
    let event: Event = serde_json::from_value(
        till_core::json::parse_strict(&body).map_err(|e| ApiError::invalid_body(&e.to_string()))?,
    )
    .map_err(|_| ApiError::invalid_body("not a gateway event"))?;
    if store::gateway_event_seen(env, &event.id).await? {
        return acknowledged("duplicate");
    }
    let outcome = match event.kind.as_str() {
        "authorization.updated" => settle(env, event.data.object).await?,
        "refund.updated" => settle_refund(env, event.data.object).await?,
        _ => "ignored",
    };
    // Remembered only once handled, so a failure above is retried by the gateway.
    store::remember_gateway_event(env, &event.id, clock::now_seconds()).await?;
    worker::console_log!("gateway event {} {}: {outcome}", event.id, event.kind);
    acknowledged(outcome)
}

async fn settle(env: &Env, object: serde_json::Value) -> Result<&'static str, ApiError> {
    let Some((payment_id, answer)) = authorization_event(object) else {
        return Ok("unreadable");
    };
    let Some(mut payment) = store::payment_by_id(env, &payment_id).await? else {
        return Ok("unknown_payment");
    };
    if payment
        .gateway_reference
        .as_ref()
        .is_some_and(|known| *known != answer.reference)
    {
        return Ok("other_authorization");
    }
    let before = payment.status.clone();
    match apply(env, &mut payment, answer).await {
        Ok(()) if payment.status == before => Ok("unchanged"),
        Ok(()) => {
            forget_card(env, &payment).await?;
            Ok("applied")
        }
        // An older event after a newer one: the state machine refuses it, which is right.
        Err(error) if error.status == 409 => Ok("stale"),
        Err(error) => Err(error),
    }
}

/// A refund the gateway settled: Till's refund (its id is the gateway refund's `reference`)
/// is settled too if its own answer was lost.
async fn settle_refund(env: &Env, object: serde_json::Value) -> Result<&'static str, ApiError> {
    let Some(event) = refund_event(object) else {
        return Ok("unreadable");
    };
    let Some(mut refund) = store::refund_by_id(env, &event.refund_id).await? else {
        return Ok("unknown_refund");
    };
    if refund.status != RefundStatus::Pending.as_str() {
        return Ok("unchanged");
    }
    refunds::settle(env, &mut refund, event.answer).await?;
    Ok("applied")
}
