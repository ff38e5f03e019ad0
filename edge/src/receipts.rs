//! Receipt e-mails to the customer: when a payment succeeds and when a refund is made, in the
//! customer's language, to the session's `receipt_email` or else the customer's email.
//!
//! The payment's path only starts a Durable Object per event (as webhook deliveries do); the
//! object reads what the receipt needs, records it in `receipts` (one row per event, so an event
//! handled twice sends one receipt) and sends it with backoff (8 attempts), the receipt id as
//! the provider's idempotency key, so a send whose answer was lost is not repeated. The
//! every-minute cron starts again the object of any such event with no receipt recorded, or one
//! left pending, after ten minutes.

use crate::mail::{MailApi, MailError};
use crate::store::receipts::{NewReceipt, RECEIPT_EVENTS};
use crate::store::webhooks::EventRow;
use crate::{clock, random, retried_jobs, store};
use serde::{Deserialize, Serialize};
use till_core::api::LineItem;
use till_core::backoff::Backoff;
use till_core::error::ApiError;
use till_core::ids::IdKind;
use till_core::money::Money;
use till_core::receipt::{render, Email, Line, Occasion, ReceiptFacts};
use till_core::reconciliation::date_of;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

const MAX_ATTEMPTS: i64 = 8;
const RETRIES: Backoff = Backoff {
    first: 2000,
    max: 10 * 60 * 1000,
};
/// A pending receipt with nothing heard of it this long is started again by the cron.
const STALE_SECONDS: i64 = 600;

/// A receipt and to whom it goes (`compose` gives none when there is no one to send it to).
struct Composed {
    payment_id: String,
    recipient: String,
    locale: String,
    email: Email,
}

/// The parts of a recorded event a receipt reads: a payment's or a refund's.
#[derive(Deserialize)]
struct EventDoc {
    created: i64,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: EventObject,
}

#[derive(Deserialize)]
struct EventObject {
    id: String,
    /// A refund's payment.
    #[serde(default)]
    payment: Option<String>,
    #[serde(default)]
    amount: Option<i64>,
}

/// Builds the receipt an event calls for, from what Till stored about its payment.
async fn compose(
    env: &Env,
    merchant_id: &str,
    kind: &str,
    body: &str,
) -> Result<Option<Composed>, ApiError> {
    let occasion = match kind {
        "payment.succeeded" => Occasion::Payment,
        "refund.succeeded" => Occasion::Refund,
        _ => return Ok(None),
    };
    let event: EventDoc = serde_json::from_str(body).map_err(|_| ApiError::internal())?;
    let object = event.data.object;
    let payment_id = match occasion {
        Occasion::Payment => object.id.as_str(),
        Occasion::Refund => object.payment.as_deref().unwrap_or_default(),
    };
    let Some(payment) = store::payments::find(env, merchant_id, payment_id).await? else {
        return Ok(None);
    };
    let Some(session) =
        store::sessions::find(env, merchant_id, &payment.checkout_session_id).await?
    else {
        return Ok(None);
    };
    let customer = match &session.customer_id {
        Some(id) => store::customers::find(env, merchant_id, id).await?,
        None => None,
    };
    let recipient = session
        .receipt_email
        .clone()
        .or_else(|| customer.as_ref().and_then(|c| c.email.clone()));
    let Some(recipient) = recipient else {
        return Ok(None);
    };
    let locale = session
        .locale
        .clone()
        .or_else(|| customer.as_ref().and_then(|c| c.locale.clone()))
        .unwrap_or_else(|| "en".into());
    let amount = match occasion {
        Occasion::Payment => payment.amount,
        Occasion::Refund => object.amount.unwrap_or_default(),
    };
    let items: Vec<LineItem> = serde_json::from_str(&session.line_items).unwrap_or_default();
    let lines = items
        .into_iter()
        .map(|item| Line {
            total: Money {
                amount: item.unit_amount.saturating_mul(i64::from(item.quantity)),
                currency: payment.currency,
            },
            name: item.name,
            quantity: item.quantity,
        })
        .collect();
    let facts = ReceiptFacts {
        occasion,
        merchant_name: store::receipts::merchant_name(env, merchant_id)
            .await?
            .unwrap_or_default(),
        amount: Money {
            amount,
            currency: payment.currency,
        },
        card_brand: payment.card_brand.as_str().to_string(),
        card_last4: payment.card_last4.clone(),
        payment_id: payment.id.clone(),
        refund_id: match occasion {
            Occasion::Refund => Some(object.id.clone()),
            Occasion::Payment => None,
        },
        date: date_of(event.created),
        lines,
        merchant_reference: session.merchant_reference.clone(),
    };
    Ok(Some(Composed {
        payment_id: payment.id,
        email: render(&facts, &locale),
        recipient,
        locale,
    }))
}

/// After an event is recorded: starts the sender of the receipt it may call for. Failures are
/// logged; the cron starts what was not started.
pub async fn on_event(env: &Env, event: &EventRow) {
    if !RECEIPT_EVENTS.contains(&event.kind.as_str()) {
        return;
    }
    if let Err(error) = start(env, &event.id).await {
        crate::log_error!("receipt for event {}: {error:?}", event.id);
    }
}

/// The cron: events of the last two days whose receipt was never recorded or was left pending.
pub async fn sweep(env: &Env) -> Result<(), ApiError> {
    let now = clock::now_seconds();
    let stale =
        store::receipts::stale_events(env, now - 2 * 86_400, now - STALE_SECONDS, 50).await?;
    for event in stale {
        crate::log_warn!(
            "receipt for event {} of {}: started again",
            event.id,
            event.merchant_id
        );
        start(env, &event.id).await?;
    }
    Ok(())
}

/// What the sender of one event's receipt keeps until it is sent.
#[derive(Serialize, Deserialize)]
struct Job {
    event: String,
    attempts: i64,
}

async fn start(env: &Env, event_id: &str) -> Result<(), ApiError> {
    let job = Job {
        event: event_id.to_string(),
        attempts: 0,
    };
    retried_jobs::start(env, "RECEIPT_SENDER", event_id, &job).await
}

/// One attempt at the event's receipt: what to record, and whether to try again.
async fn attempt(env: &Env, job: &Job) -> Result<bool, ApiError> {
    let Some(event) = store::receipts::event(env, &job.event).await? else {
        return Ok(false);
    };
    let receipt = match store::receipts::of_event(env, &job.event).await? {
        Some(receipt) => receipt,
        None => {
            let composed = compose(env, &event.merchant_id, &event.kind, &event.body).await?;
            let id = random::id(IdKind::Receipt)?;
            store::receipts::insert(
                env,
                &NewReceipt {
                    id: &id,
                    merchant_id: &event.merchant_id,
                    event_id: &job.event,
                    payment_id: composed.as_ref().map(|c| c.payment_id.as_str()),
                    recipient: composed.as_ref().map(|c| c.recipient.as_str()),
                    locale: composed.as_ref().map(|c| c.locale.as_str()),
                    subject: composed.as_ref().map(|c| c.email.subject.as_str()),
                    now: clock::now_seconds(),
                },
            )
            .await?;
            // A concurrent sender may have recorded first: its row is the one.
            match store::receipts::of_event(env, &job.event).await? {
                Some(receipt) => receipt,
                None => return Ok(false),
            }
        }
    };
    if receipt.status != "pending" {
        return Ok(false);
    }
    let Some(composed) = compose(env, &event.merchant_id, &event.kind, &event.body).await? else {
        return Ok(false);
    };
    let outcome = match MailApi::from_env(env) {
        Some(api) => {
            api.send(&composed.recipient, &composed.email, &receipt.id)
                .await
        }
        None => Err(MailError::Unavailable("MAIL_URL is not set".into())),
    };
    let (status, provider_id) = match &outcome {
        Ok(id) => ("sent", Some(id.as_str())),
        Err(_) if job.attempts >= MAX_ATTEMPTS => ("failed", None),
        Err(_) => ("pending", None),
    };
    if let Err(error) = &outcome {
        crate::log_warn!("receipt {} attempt {}: {error}", receipt.id, job.attempts);
    }
    store::receipts::record_attempt(
        env,
        &receipt.id,
        status,
        job.attempts,
        provider_id,
        clock::now_seconds(),
    )
    .await?;
    Ok(status == "pending")
}

#[durable_object(alarm)]
pub struct ReceiptSender {
    state: State,
    env: Env,
}

impl DurableObject for ReceiptSender {
    fn new(state: State, env: Env) -> Self {
        ReceiptSender { state, env }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        retried_jobs::accept::<Job>(&self.state, req).await
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let Some(mut job) = retried_jobs::waiting::<Job>(&self.state).await? else {
            return Response::ok("");
        };
        job.attempts += 1;
        let again = match attempt(&self.env, &job).await {
            Ok(again) => again,
            Err(error) => {
                crate::log_error!("receipt for {}: {error:?}", job.event);
                job.attempts < MAX_ATTEMPTS
            }
        };
        retried_jobs::after_attempt(&self.state, &job, job.attempts, again, RETRIES).await
    }
}
