//! E-mails to the customer about an event: a receipt when a payment succeeds and when a refund
//! is made (to the session's `receipt_email` or else the customer's email), and when a
//! subscription's renewal could not be charged, a notice with a link to pay now or use another
//! card (to the customer's email). In the customer's language.
//!
//! The payment's path only starts a Durable Object per event (as webhook deliveries do); the
//! object reads what the receipt needs, records it in `receipts` (one row per event, so an event
//! handled twice sends one receipt) and sends it with backoff (8 attempts), the receipt id as
//! the provider's idempotency key, so a send whose answer was lost is not repeated. The
//! every-minute cron starts again the object of any such event with no receipt recorded, or one
//! left pending, after ten minutes.

use crate::mail::{MailApi, MailError};
use crate::store::payments::PaymentRow;
use crate::store::receipts::{NewReceipt, RECEIPT_EVENTS};
use crate::store::webhooks::EventRow;
use crate::{clock, hosted_pages, random, retried_jobs, store};
use serde::{Deserialize, Serialize};
use till_core::api::LineItem;
use till_core::backoff::Backoff;
use till_core::dunning_email::{self, PaymentFailedFacts};
use till_core::error::ApiError;
use till_core::ids::IdKind;
use till_core::invoice::{InvoiceStatus, LineKind};
use till_core::money::Money;
use till_core::receipt::{render, Email, Line, Occasion, PaidWith, ReceiptFacts};
use till_core::reconciliation::date_of;
use till_core::subscription::SubscriptionStatus;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

const MAX_ATTEMPTS: i64 = 8;
const RETRIES: Backoff = Backoff {
    first: 2000,
    max: 10 * 60 * 1000,
};
/// A pending receipt with nothing heard of it this long is started again by the cron.
const STALE_SECONDS: i64 = 600;

/// An e-mail and to whom it goes (`compose` gives none when there is no one to send it to,
/// or nothing to say any more).
struct Composed {
    payment_id: Option<String>,
    recipient: String,
    locale: String,
    subject: String,
    body: Body,
}

enum Body {
    Ready(Email),
    /// A renewal that failed: the link to the customer's subscriptions page is made only when
    /// the e-mail is sent, so each attempt's link is one that works.
    PaymentFailed {
        customer_id: String,
        facts: PaymentFailedFacts,
    },
}

impl Composed {
    async fn email(self, env: &Env, merchant_id: &str) -> Result<Email, ApiError> {
        match self.body {
            Body::Ready(email) => Ok(email),
            Body::PaymentFailed {
                customer_id,
                mut facts,
            } => {
                let link =
                    hosted_pages::subscriptions_page(env, merchant_id, &customer_id, &self.locale)
                        .await?;
                facts.link = link.url;
                facts.link_expires = date_of(link.expires_at);
                Ok(dunning_email::render(&facts, &self.locale))
            }
        }
    }
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
    /// What the payment or refund took from (gave back to) the customer's wallet.
    #[serde(default)]
    wallet_amount: i64,
}

/// The card or the bank the receipt names (the wallet, when it paid all of `amount`).
fn paid_with(payment: &PaymentRow, amount: i64, from_wallet: i64) -> Result<PaidWith, ApiError> {
    if from_wallet == amount {
        return Ok(PaidWith::Wallet);
    }
    match (&payment.card_brand, &payment.card_last4, &payment.bank_name) {
        (Some(brand), Some(last4), _) => Ok(PaidWith::Card {
            brand: brand.display_name().to_string(),
            last4: last4.clone(),
        }),
        (_, _, Some(bank)) => Ok(PaidWith::Bank { name: bank.clone() }),
        _ => Err(crate::payments::corrupt(payment, "card or bank")),
    }
}

/// Builds the e-mail an event calls for, from what Till stored.
async fn compose(
    env: &Env,
    merchant_id: &str,
    kind: &str,
    body: &str,
) -> Result<Option<Composed>, ApiError> {
    let occasion = match kind {
        "payment.succeeded" => Occasion::Payment,
        "refund.succeeded" => Occasion::Refund,
        "invoice.payment_failed" => return payment_failed(env, merchant_id, body).await,
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
        paid_with: paid_with(&payment, amount, object.wallet_amount)?,
        from_wallet: (0 < object.wallet_amount && object.wallet_amount < amount).then_some(Money {
            amount: object.wallet_amount,
            currency: payment.currency,
        }),
        payment_id: payment.id.clone(),
        refund_id: match occasion {
            Occasion::Refund => Some(object.id.clone()),
            Occasion::Payment => None,
        },
        date: date_of(event.created),
        lines,
        merchant_reference: session.merchant_reference.clone(),
    };
    let email = render(&facts, &locale);
    Ok(Some(Composed {
        payment_id: Some(payment.id),
        subject: email.subject.clone(),
        body: Body::Ready(email),
        recipient,
        locale,
    }))
}

/// The notice of a renewal that could not be charged, while its invoice is still owed and the
/// subscription still wants it paid. None for a first charge (the customer was there when it
/// failed: the merchant's page handles it) and once the invoice is paid or void.
async fn payment_failed(
    env: &Env,
    merchant_id: &str,
    body: &str,
) -> Result<Option<Composed>, ApiError> {
    let event: EventDoc = serde_json::from_str(body).map_err(|_| ApiError::internal())?;
    let Some(invoice) =
        store::subscriptions::find_invoice(env, merchant_id, &event.data.object.id).await?
    else {
        return Ok(None);
    };
    let invoice = invoice.view()?;
    if invoice.status != InvoiceStatus::Open {
        return Ok(None);
    }
    let Some(subscription) =
        store::subscriptions::find(env, merchant_id, &invoice.subscription).await?
    else {
        return Ok(None);
    };
    if !matches!(
        subscription.status()?,
        SubscriptionStatus::Active | SubscriptionStatus::PastDue | SubscriptionStatus::Unpaid
    ) {
        return Ok(None);
    }
    let Some(customer) = store::customers::find(env, merchant_id, &invoice.customer).await? else {
        return Ok(None);
    };
    let Some(recipient) = customer.email.clone() else {
        return Ok(None);
    };
    let locale = customer.locale.clone().unwrap_or_else(|| "en".into());
    let payment = match &invoice.payment {
        Some(id) => store::payments::find(env, merchant_id, id).await?,
        None => None,
    };
    let merchant_name = store::receipts::merchant_name(env, merchant_id)
        .await?
        .unwrap_or_default();
    let plan = invoice
        .lines
        .iter()
        .find(|line| line.kind == LineKind::Subscription)
        .or(invoice.lines.first())
        .map(|line| line.description.clone())
        .unwrap_or_default();
    let facts = PaymentFailedFacts {
        plan,
        amount_due: Money {
            amount: invoice.amount_due,
            currency: invoice.currency,
        },
        card: payment.as_ref().and_then(|p| {
            Some(format!(
                "{} •••• {}",
                p.card_brand?.display_name(),
                p.card_last4.as_deref()?
            ))
        }),
        next_attempt: invoice.next_payment_attempt.map(date_of),
        invoice_id: invoice.id.clone(),
        link: String::new(),
        link_expires: String::new(),
        merchant_name: merchant_name.clone(),
    };
    Ok(Some(Composed {
        payment_id: payment.map(|p| p.id),
        recipient,
        subject: dunning_email::subject(&merchant_name, &locale),
        locale,
        body: Body::PaymentFailed {
            customer_id: customer.id,
            facts,
        },
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
                    payment_id: composed.as_ref().and_then(|c| c.payment_id.as_deref()),
                    recipient: composed.as_ref().map(|c| c.recipient.as_str()),
                    locale: composed.as_ref().map(|c| c.locale.as_str()),
                    subject: composed.as_ref().map(|c| c.subject.as_str()),
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
        // Nothing to say any more (a renewal paid since): recorded, so the cron lets it be.
        store::receipts::record_attempt(
            env,
            &receipt.id,
            "skipped",
            job.attempts,
            None,
            clock::now_seconds(),
        )
        .await?;
        return Ok(false);
    };
    let recipient = composed.recipient.clone();
    let Some(api) = MailApi::from_env(env) else {
        crate::log_warn!("receipt {}: MAIL_URL is not set", receipt.id);
        return finish(
            env,
            job,
            &receipt.id,
            Err(MailError::Unavailable("MAIL_URL is not set".into())),
        )
        .await;
    };
    let email = composed.email(env, &event.merchant_id).await?;
    let outcome = api.send(&recipient, &email, &receipt.id).await;
    finish(env, job, &receipt.id, outcome).await
}

/// Records how a send went: `sent`, `pending` to try again, or `failed` for good.
async fn finish(
    env: &Env,
    job: &Job,
    receipt_id: &str,
    outcome: Result<String, MailError>,
) -> Result<bool, ApiError> {
    let (status, provider_id) = match &outcome {
        Ok(id) => ("sent", Some(id.as_str())),
        Err(_) if job.attempts >= MAX_ATTEMPTS => ("failed", None),
        Err(_) => ("pending", None),
    };
    if let Err(error) = &outcome {
        crate::log_warn!("receipt {receipt_id} attempt {}: {error}", job.attempts);
    }
    store::receipts::record_attempt(
        env,
        receipt_id,
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
