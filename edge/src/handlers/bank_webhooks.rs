//! `POST /v1/webhooks/bank`: the bank's signed events about the payouts it pays, the payments
//! customers approve at it and the refunds it pays back. Duplicates are
//! recognised by event id; an event older than what the payout knows changes nothing.

use crate::banks::redirect::BankRefund;
use crate::banks::{self, BankEvent};
use crate::connectors::WebhookError;
use crate::http::{header, json, read_body, ApiResult};
use crate::{clock, payouts, store};
use till_core::error::{ApiError, ErrorCode};
use till_core::webhook::{check_header, SignatureError};
use worker::{Env, Request};

/// Anyone can send to this endpoint, so it reads little: a bank event is a few hundred bytes.
const MAX_EVENT_BYTES: usize = 16 * 1024;

fn refused(error: SignatureError) -> ApiError {
    crate::log_warn!("bank webhook refused: {error}");
    ApiError::new(ErrorCode::SignatureInvalid).with_message(format!("Webhook refused: {error}."))
}

/// A bank's word on a refund to a customer's account: the refund it names, settled.
async fn on_refund(env: &Env, refund: &BankRefund) -> Result<&'static str, ApiError> {
    if !till_core::ids::is_valid(till_core::ids::IdKind::Refund, &refund.reference) {
        return Ok("unknown_refund");
    }
    let Some(mut row) = store::refunds::by_id(env, &refund.reference).await? else {
        return Ok("unknown_refund");
    };
    let before = row.status;
    crate::payments::refunds::settle(env, &mut row, refund.answer.clone()).await?;
    Ok(if row.status == before {
        "unchanged"
    } else {
        "applied"
    })
}

pub async fn receive(mut req: Request, env: &Env) -> ApiResult {
    let bank = banks::platform(env)?;
    let now = clock::now_seconds();
    let signature = header(&req, bank.signature_header()).unwrap_or_default();
    check_header(&signature, now).map_err(refused)?;
    let body = read_body(&mut req, MAX_EVENT_BYTES).await?;
    let event = bank.webhook(&signature, &body, now).map_err(|e| match e {
        WebhookError::Signature(error) => refused(error),
        WebhookError::Unreadable => ApiError::invalid_body("not a bank event"),
    })?;
    if store::events::seen(env, event.id()).await? {
        return json(
            200,
            &serde_json::json!({ "received": true, "outcome": "duplicate" }),
        );
    }
    let outcome = match &event {
        BankEvent::Transfer { transfer, .. } => payouts::on_bank_event(env, transfer).await?,
        BankEvent::Payment { payment, .. } => {
            crate::payments::bank_redirect::on_bank_event(env, payment.clone()).await?
        }
        BankEvent::Refund { refund, .. } => on_refund(env, refund).await?,
        BankEvent::Other { .. } => "ignored",
    };
    // Remembered only once handled, so a failure above is retried by the bank.
    store::events::remember(env, event.id(), outcome, now).await?;
    worker::console_log!("bank event {}: {outcome}", event.id());
    json(
        200,
        &serde_json::json!({ "received": true, "outcome": outcome }),
    )
}
