//! Refund and return requests customers make from the hosted page.

use super::webhooks::{change_with_event, EndpointRow, EventRow};
use super::{all, first, int, opt_text, statement, text, StoreResult};
use serde::Deserialize;
use till_core::refund_request::{RefundRequestView, RequestKind, RequestStatus};
use worker::Env;

#[derive(Debug, Clone, Deserialize)]
pub struct RequestRow {
    pub id: String,
    pub merchant_id: String,
    pub customer_id: String,
    pub payment_id: String,
    pub kind: RequestKind,
    pub reason: String,
    pub amount: i64,
    pub currency: String,
    pub status: RequestStatus,
    pub refund_id: Option<String>,
    pub decline_reason: Option<String>,
    pub created: i64,
    pub updated: i64,
}

impl RequestRow {
    pub fn view(&self) -> RefundRequestView {
        RefundRequestView {
            id: self.id.clone(),
            object: "refund_request".into(),
            payment: self.payment_id.clone(),
            customer: self.customer_id.clone(),
            kind: self.kind,
            reason: self.reason.clone(),
            amount: self.amount,
            currency: self.currency.clone(),
            status: self.status,
            refund: self.refund_id.clone(),
            decline_reason: self.decline_reason.clone(),
            created: self.created,
            updated: self.updated,
        }
    }
}

/// Records an open request with `event`; `None` when the payment already has one open, else the
/// merchant's endpoints for the event.
pub async fn insert(
    env: &Env,
    r: &RequestRow,
    event: &EventRow,
) -> StoreResult<Option<Vec<EndpointRow>>> {
    let insert = statement(
        env,
        "INSERT INTO refund_requests (id, merchant_id, customer_id, payment_id, kind, reason, \
         amount, currency, status, created, updated) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9, ?9)",
        &[
            text(&r.id),
            text(&r.merchant_id),
            text(&r.customer_id),
            text(&r.payment_id),
            text(r.kind.as_str()),
            text(&r.reason),
            int(r.amount),
            text(&r.currency),
            int(r.created),
        ],
    )?;
    match change_with_event(env, insert, Some(event)).await {
        Err(error) if error.duplicate_in("refund_requests") => Ok(None),
        recorded => recorded,
    }
}

pub async fn find(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<RequestRow>> {
    first(
        env,
        "SELECT * FROM refund_requests WHERE merchant_id = ?1 AND id = ?2",
        &[text(merchant_id), text(id)],
    )
    .await
}

/// Decides an open request; false when it was decided already (by a concurrent call).
/// Decides an open request, with `event` when there is one; `None` when it was decided already.
pub async fn decide(
    env: &Env,
    id: &str,
    status: RequestStatus,
    decline_reason: Option<&str>,
    now: i64,
    event: Option<&EventRow>,
) -> StoreResult<Option<Vec<EndpointRow>>> {
    let decide = statement(
        env,
        "UPDATE refund_requests SET status = ?2, decline_reason = ?3, updated = ?4 \
         WHERE id = ?1 AND status = 'open'",
        &[
            text(id),
            text(status.as_str()),
            opt_text(decline_reason),
            int(now),
        ],
    )?;
    change_with_event(env, decide, event).await
}

/// Names the refund an approved request issued, with `event`; `None` when it already had one.
pub async fn attach_refund(
    env: &Env,
    id: &str,
    refund_id: &str,
    now: i64,
    event: &EventRow,
) -> StoreResult<Option<Vec<EndpointRow>>> {
    let attach = statement(
        env,
        "UPDATE refund_requests SET refund_id = ?2, updated = ?3 \
         WHERE id = ?1 AND status = 'approved' AND refund_id IS NULL",
        &[text(id), text(refund_id), int(now)],
    )?;
    change_with_event(env, attach, Some(event)).await
}

/// The merchant's requests, newest first, optionally of one status.
pub async fn of_merchant(
    env: &Env,
    merchant_id: &str,
    status: Option<&str>,
    starting_after: Option<&str>,
    limit: usize,
) -> StoreResult<Option<Vec<RequestRow>>> {
    if let Some(cursor) = starting_after {
        if find(env, merchant_id, cursor).await?.is_none() {
            return Ok(None);
        }
    }
    all(
        env,
        "SELECT * FROM refund_requests WHERE merchant_id = ?1 \
         AND (?2 IS NULL OR status = ?2) \
         AND (?3 IS NULL OR seq < (SELECT seq FROM refund_requests WHERE id = ?3)) \
         ORDER BY seq DESC LIMIT ?4",
        &[
            text(merchant_id),
            opt_text(status),
            opt_text(starting_after),
            int(i64::try_from(limit).unwrap_or(i64::MAX)),
        ],
    )
    .await
    .map(Some)
}

/// A customer's requests (the latest first), for their orders.
pub async fn of_customer(
    env: &Env,
    merchant_id: &str,
    customer_id: &str,
) -> StoreResult<Vec<RequestRow>> {
    all(
        env,
        "SELECT * FROM refund_requests WHERE merchant_id = ?1 AND customer_id = ?2 \
         ORDER BY seq DESC LIMIT 200",
        &[text(merchant_id), text(customer_id)],
    )
    .await
}

#[derive(Deserialize)]
pub struct OrderRow {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub amount_captured: i64,
    pub amount_refunded: i64,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub merchant_reference: Option<String>,
    pub line_items: String,
    pub created: i64,
}

/// Most orders the hosted page lists.
pub const MAX_ORDERS: i64 = 50;

/// A customer's purchases (payments to the merchant, not wallet top-ups or transfers) that went
/// through or are on their way, newest first.
pub async fn orders_of(
    env: &Env,
    merchant_id: &str,
    customer_id: &str,
) -> StoreResult<Vec<OrderRow>> {
    all(
        env,
        "SELECT p.id, p.amount, p.currency, p.status, p.amount_captured, p.amount_refunded, \
         p.card_brand, p.card_last4, s.merchant_reference, s.line_items, p.created \
         FROM payments p JOIN checkout_sessions s ON s.id = p.checkout_session_id \
         WHERE p.merchant_id = ?1 AND p.customer_id = ?2 AND p.purpose = 'payment' \
         AND p.status IN ('succeeded', 'requires_capture', 'processing', 'canceled') \
         ORDER BY p.rowid DESC LIMIT ?3",
        &[text(merchant_id), text(customer_id), int(MAX_ORDERS)],
    )
    .await
}
