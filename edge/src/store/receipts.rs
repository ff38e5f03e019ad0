//! Receipt e-mails: one row per event that calls for one, written before anything is sent.

use super::webhooks::EventRow;
use super::{all, execute, first, int, opt_text, statement, text, StoreResult};
use serde::Deserialize;
use worker::{D1PreparedStatement, Env};

/// The event types an e-mail to the customer is sent for (the table keeps the name
/// `receipts` for all of them).
pub const RECEIPT_EVENTS: [&str; 3] = [
    "payment.succeeded",
    "refund.succeeded",
    "invoice.payment_failed",
];

/// A receipt to record; without a recipient it records that there is no one to send it to.
pub struct NewReceipt<'a> {
    pub id: &'a str,
    pub merchant_id: &'a str,
    pub event_id: &'a str,
    pub payment_id: Option<&'a str>,
    pub recipient: Option<&'a str>,
    pub locale: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub now: i64,
}

/// Records the event's receipt unless it has one already.
pub async fn insert(env: &Env, r: &NewReceipt<'_>) -> StoreResult<()> {
    execute(
        env,
        "INSERT OR IGNORE INTO receipts (id, merchant_id, event_id, payment_id, recipient, \
         locale, subject, status, created, updated) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, CASE WHEN ?5 IS NULL THEN 'skipped' ELSE 'pending' END, \
         ?8, ?8)",
        &[
            text(r.id),
            text(r.merchant_id),
            text(r.event_id),
            opt_text(r.payment_id),
            opt_text(r.recipient),
            opt_text(r.locale),
            opt_text(r.subject),
            int(r.now),
        ],
    )
    .await
    .map(|_| ())
}

/// Records, in the batch that records a payment's `payment.succeeded` event, that the event's
/// receipt has no one to send it to (neither the session's `receipt_email` nor its customer's
/// email, as `receipts::compose` decides): `skipped` at once, so no sender starts for it.
/// Changes nothing when there is a recipient or the event was not recorded.
pub fn no_recipient_statement(
    env: &Env,
    receipt_id: &str,
    event: &EventRow,
    payment_id: &str,
    session_id: &str,
) -> StoreResult<D1PreparedStatement> {
    statement(
        env,
        "INSERT OR IGNORE INTO receipts (id, merchant_id, event_id, payment_id, status, created, \
         updated) SELECT ?1, ?2, ?3, ?4, 'skipped', ?6, ?6 \
         WHERE EXISTS (SELECT 1 FROM events WHERE id = ?3) \
         AND NOT EXISTS (SELECT 1 FROM checkout_sessions s LEFT JOIN customers c \
         ON c.id = s.customer_id AND c.merchant_id = s.merchant_id \
         WHERE s.id = ?5 AND s.merchant_id = ?2 \
         AND (s.receipt_email IS NOT NULL OR c.email IS NOT NULL))",
        &[
            text(receipt_id),
            text(&event.merchant_id),
            text(&event.id),
            text(payment_id),
            text(session_id),
            int(event.created),
        ],
    )
}

#[derive(Deserialize)]
pub struct ReceiptRow {
    pub id: String,
    pub status: String,
}

pub async fn of_event(env: &Env, event_id: &str) -> StoreResult<Option<ReceiptRow>> {
    first(
        env,
        "SELECT id, status FROM receipts WHERE event_id = ?1",
        &[text(event_id)],
    )
    .await
}

/// Records an attempt: `sent` (with the provider's id), still `pending`, or `failed` for good.
/// A receipt already sent stays sent.
pub async fn record_attempt(
    env: &Env,
    id: &str,
    status: &str,
    attempts: i64,
    provider_id: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    execute(
        env,
        "UPDATE receipts SET status = ?2, attempts = ?3, provider_id = ?4, updated = ?5 \
         WHERE id = ?1 AND status != 'sent'",
        &[
            text(id),
            text(status),
            int(attempts),
            opt_text(provider_id),
            int(now),
        ],
    )
    .await
    .map(|_| ())
}

#[derive(Deserialize)]
pub struct StaleEvent {
    pub id: String,
    pub merchant_id: String,
}

/// Events since `since` that call for a receipt and, by `before`, still have none recorded or
/// one left pending with nothing heard of it: their sender never started or was lost.
pub async fn stale_events(
    env: &Env,
    since: i64,
    before: i64,
    limit: i64,
) -> StoreResult<Vec<StaleEvent>> {
    all(
        env,
        "SELECT e.id AS id, e.merchant_id AS merchant_id FROM events e \
         LEFT JOIN receipts r ON r.event_id = e.id \
         WHERE e.type IN ('payment.succeeded', 'refund.succeeded', 'invoice.payment_failed') \
         AND e.created >= ?1 AND e.created < ?2 \
         AND (r.id IS NULL OR (r.status = 'pending' AND r.updated < ?2)) \
         ORDER BY e.created LIMIT ?3",
        &[int(since), int(before), int(limit)],
    )
    .await
}

#[derive(Deserialize)]
pub struct EventBody {
    pub merchant_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub body: String,
}

pub async fn event(env: &Env, id: &str) -> StoreResult<Option<EventBody>> {
    first(
        env,
        "SELECT merchant_id, type, body FROM events WHERE id = ?1",
        &[text(id)],
    )
    .await
}

#[derive(Deserialize)]
struct NameRow {
    name: String,
}

/// The merchant's name, as its customers see it.
pub async fn merchant_name(env: &Env, merchant_id: &str) -> StoreResult<Option<String>> {
    let row: Option<NameRow> = first(
        env,
        "SELECT name FROM merchants WHERE id = ?1",
        &[text(merchant_id)],
    )
    .await?;
    Ok(row.map(|r| r.name))
}
