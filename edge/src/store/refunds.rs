//! Refunds, and the share of a payment's captured money they reserve.

use super::ledger::Posting;
use super::webhooks::{self, change_with_event, EndpointRow, EventRow};
use super::StoreResult;
use super::{first, int, opt_int, opt_text, statement, text, transaction};
use serde::Deserialize;
use till_core::api::RefundReason;
use till_core::money::Currency;
use till_core::payment::RefundStatus;
use worker::Env;

#[derive(Debug, Clone, Deserialize)]
pub struct RefundRow {
    pub id: String,
    pub merchant_id: String,
    pub payment_id: String,
    pub idempotency_key: String,
    /// SHA-256 of the request that made this refund.
    pub request_fingerprint: String,
    /// The key the gateway knows this refund by: sending it again is safe.
    pub gateway_idempotency_key: Option<String>,
    pub poll_attempts: i64,
    pub amount: i64,
    pub currency: Currency,
    pub status: RefundStatus,
    pub reason: Option<RefundReason>,
    pub gateway_reference: Option<String>,
    pub failure_code: Option<String>,
    /// For a refund of a converted payment: what it takes from the merchant in the settlement
    /// currency and of the FX margin, at the payment's original rate.
    #[serde(default)]
    pub settlement_amount: Option<i64>,
    #[serde(default)]
    pub settlement_currency: Option<Currency>,
    #[serde(default)]
    pub fx_margin: Option<i64>,
    /// What goes back to the customer's wallet (a payment the wallet paid part of); the rest
    /// goes to the card.
    #[serde(default)]
    pub wallet_amount: i64,
    pub created: i64,
    pub updated: i64,
}

impl RefundRow {
    /// What it takes of the payment's settlement and FX margin (zero unless converted).
    fn shares(&self) -> (i64, i64) {
        (
            self.settlement_amount.unwrap_or(0),
            self.fx_margin.unwrap_or(0),
        )
    }
}

/// What reserving a refund came to. Each refusal wrote nothing.
pub enum Reserved {
    Done,
    /// Another refund took the payment's captured money first.
    Conflict,
    /// Whoever the payment paid (the merchant, or the customer's wallet for a top-up) no
    /// longer holds the amount.
    Overdrawn,
}

/// Reserves the refund's amount of the payment's captured money, records the refund and takes
/// its money from the payee's ledger account (`posting`), in one transaction: concurrent
/// refunds can never together exceed the capture, nor take more than the payee holds. A
/// converted payment's shares, and a wallet payment's split between card and wallet, were
/// computed from `refunded_before`: the reservation takes only if no other refund came in
/// between (else it is a conflict, and the retry computes again).
pub async fn reserve(
    env: &Env,
    r: &RefundRow,
    refunded_before: i64,
    posting: &Posting<'_>,
) -> StoreResult<Reserved> {
    let (settlement, margin) = r.shares();
    let reserve = statement(
        env,
        "UPDATE payments SET amount_refunded = amount_refunded + ?2, \
         settlement_refunded = settlement_refunded + ?3, \
         fx_margin_refunded = fx_margin_refunded + ?4 \
         WHERE id = ?1 AND status = 'succeeded' AND amount_refunded + ?2 <= amount_captured \
         AND ((conversion IS NULL AND wallet_amount = 0) OR amount_refunded = ?5)",
        &[
            text(&r.payment_id),
            int(r.amount),
            int(settlement),
            int(margin),
            int(refunded_before),
        ],
    )?;
    let insert = statement(
        env,
        "INSERT INTO refunds (id, merchant_id, payment_id, idempotency_key, amount, currency, \
         status, reason, gateway_reference, failure_code, created, updated, request_fingerprint, \
         gateway_idempotency_key, settlement_amount, settlement_currency, fx_margin, \
         wallet_amount) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, NULL, ?9, ?9, ?10, ?11, ?12, ?13, ?14, ?15 \
         WHERE changes() = 1",
        &[
            text(&r.id),
            text(&r.merchant_id),
            text(&r.payment_id),
            text(&r.idempotency_key),
            int(r.amount),
            text(r.currency.code()),
            text(r.status.as_str()),
            opt_text(r.reason.map(RefundReason::as_str)),
            int(r.created),
            text(&r.request_fingerprint),
            opt_text(r.gateway_idempotency_key.as_deref()),
            opt_int(r.settlement_amount),
            opt_text(r.settlement_currency.as_ref().map(Currency::code)),
            opt_int(r.fx_margin),
            int(r.wallet_amount),
        ],
    )?;
    let mut statements = vec![reserve, insert];
    statements.extend(posting.statements(
        env,
        "EXISTS (SELECT 1 FROM refunds WHERE id = ?6)",
        &[text(&r.id)],
    )?);
    match transaction(env, statements).await {
        Ok(changed) if changed.get(1) == Some(&1) => Ok(Reserved::Done),
        Ok(_) => Ok(Reserved::Conflict),
        Err(error) if super::ledger::overdrawn(&error) => Ok(Reserved::Overdrawn),
        Err(error) => Err(error),
    }
}

/// Settles a pending refund as `r` says, with its `event` and its ledger `posting` (a failed
/// one's reversal; a succeeded one's wallet part reaching the wallet): a failed one also gives
/// its amount back to the payment. One transaction, so a crash keeps all of it or none. `None`
/// when the refund was no longer pending (nothing written), else the merchant's endpoints for
/// the event.
pub async fn settle(
    env: &Env,
    r: &RefundRow,
    posting: Option<&Posting<'_>>,
    event: Option<&EventRow>,
) -> StoreResult<Option<Vec<EndpointRow>>> {
    let update = statement(
        env,
        "UPDATE refunds SET status = ?2, gateway_reference = ?3, failure_code = ?4, updated = ?5, \
         settled_at = CASE WHEN ?2 = 'succeeded' THEN ?5 ELSE settled_at END \
         WHERE id = ?1 AND status = 'pending'",
        &[
            text(&r.id),
            text(r.status.as_str()),
            opt_text(r.gateway_reference.as_deref()),
            opt_text(r.failure_code.as_deref()),
            int(r.updated),
        ],
    )?;
    if r.status == RefundStatus::Succeeded && posting.is_none() {
        return change_with_event(env, update, event).await;
    }
    // `changes()` is the update's count: a refund settled twice releases nothing twice.
    let (settlement, margin) = r.shares();
    let release = statement(
        env,
        "UPDATE payments SET amount_refunded = amount_refunded - ?2, \
         settlement_refunded = settlement_refunded - ?4, \
         fx_margin_refunded = fx_margin_refunded - ?5 \
         WHERE id = ?1 AND ?3 = 'failed' AND changes() = 1",
        &[
            text(&r.payment_id),
            int(r.amount),
            text(r.status.as_str()),
            int(settlement),
            int(margin),
        ],
    )?;
    // The event is recorded when the update changed the refund; the release follows it (its
    // `changes()` is then the event's), and the endpoints are read last.
    let mut statements = vec![update];
    if let Some(event) = event {
        statements.push(webhooks::insert_event_after_change(env, event)?);
    }
    statements.push(release);
    if let Some(posting) = posting {
        statements.extend(posting.statements(
            env,
            "EXISTS (SELECT 1 FROM refunds WHERE id = ?6 AND status = ?7)",
            &[text(&r.id), text(r.status.as_str())],
        )?);
    }
    if let Some(event) = event {
        statements.push(webhooks::endpoints_statement(env, &event.merchant_id)?);
    }
    let results = super::batch(env, statements).await?;
    webhooks::endpoints_if_changed(&results, event)
}

/// What a payment's refunds gave (or are giving) back to its card: all but their wallet parts,
/// failed ones aside.
pub async fn card_refunded(env: &Env, payment_id: &str) -> StoreResult<i64> {
    #[derive(Deserialize)]
    struct Sum {
        card: i64,
    }
    let sum: Option<Sum> = first(
        env,
        "SELECT COALESCE(SUM(amount - wallet_amount), 0) AS card FROM refunds \
         WHERE payment_id = ?1 AND status <> 'failed'",
        &[text(payment_id)],
    )
    .await?;
    Ok(sum.map_or(0, |sum| sum.card))
}

pub async fn by_idempotency_key(
    env: &Env,
    merchant_id: &str,
    key: &str,
) -> StoreResult<Option<RefundRow>> {
    first(
        env,
        "SELECT * FROM refunds WHERE merchant_id = ?1 AND idempotency_key = ?2",
        &[text(merchant_id), text(key)],
    )
    .await
}

pub async fn find(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<RefundRow>> {
    first(
        env,
        "SELECT * FROM refunds WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

/// A refund by id alone, for gateway events and the poller (they carry no merchant).
pub async fn by_id(env: &Env, id: &str) -> StoreResult<Option<RefundRow>> {
    first(env, "SELECT * FROM refunds WHERE id = ?1", &[text(id)]).await
}
