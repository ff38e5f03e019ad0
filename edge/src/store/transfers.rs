//! Transfers between wallets, written together with their ledger transaction and the sender's
//! daily total, and the claims that wait for receivers who are not customers yet.

use super::ledger::Posting;
use super::webhooks::{self, EndpointRow, EventRow};
use super::StoreResult;
use super::{all, batch, first, int, opt_int, opt_text, statement, text};
use serde::Deserialize;
use till_core::money::Currency;
use till_core::transfer::{Transfer, TransferStatus};
use worker::{D1PreparedStatement, Env};

#[derive(Debug, Clone, Deserialize)]
pub struct TransferRow {
    pub id: String,
    pub merchant_id: String,
    pub idempotency_key: String,
    /// SHA-256 of the request that made this transfer.
    pub request_fingerprint: String,
    pub sender_id: String,
    pub receiver_id: Option<String>,
    pub recipient_kind: String,
    /// The contact hash an unclaimed transfer waits for.
    pub recipient_hash: Option<String>,
    pub amount: i64,
    pub currency: Currency,
    pub source: String,
    pub note: Option<String>,
    pub status: TransferStatus,
    pub claim_expires_at: Option<i64>,
    /// The payment charging the sender's card, for a transfer paid by card.
    pub payment_id: Option<String>,
    pub created: i64,
}

impl TransferRow {
    /// The transfer as [`settle_claim`] leaves it.
    pub fn claimed(&self, status: TransferStatus, receiver: Option<&str>) -> TransferRow {
        TransferRow {
            status,
            receiver_id: receiver.map(str::to_string).or(self.receiver_id.clone()),
            ..self.clone()
        }
    }

    pub fn view(&self) -> Transfer {
        Transfer {
            id: self.id.clone(),
            object: "transfer".into(),
            from_customer: self.sender_id.clone(),
            to_customer: self.receiver_id.clone(),
            recipient_type: self.recipient_kind.clone(),
            amount: self.amount,
            currency: self.currency,
            source: self.source.clone(),
            note: self.note.clone(),
            status: self.status,
            claim_expires_at: self.claim_expires_at,
            payment: self.payment_id.clone(),
            created: self.created,
        }
    }
}

/// What writing a transfer came to. Each refusal wrote nothing.
pub enum Sent {
    /// Written, with its event; `endpoints` are the merchant's webhook endpoints.
    Done { endpoints: Vec<EndpointRow> },
    /// The sender's wallet holds less than the amount.
    Overdrawn,
    /// The sender's transfers today would pass the daily limit.
    OverDailyLimit,
}

/// Writes a transfer and the event that tells of it, adds it to its sender's total for `day`
/// (capped at `daily_cap`) and writes its ledger transaction, as one transaction; the
/// merchant's webhook endpoints are read in the same batch. A transfer paid by card has no
/// posting or event yet: its payment writes them.
pub async fn send(
    env: &Env,
    t: &TransferRow,
    posting: Option<&Posting<'_>>,
    event: Option<&EventRow>,
    day: &str,
    daily_cap: i64,
) -> StoreResult<Sent> {
    let mut statements = vec![
        statement(
            env,
            "INSERT INTO transfers (id, merchant_id, idempotency_key, request_fingerprint, \
             sender_id, receiver_id, recipient_kind, recipient_hash, amount, currency, source, \
             note, status, claim_expires_at, created, updated, payment_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16)",
            &[
                text(&t.id),
                text(&t.merchant_id),
                text(&t.idempotency_key),
                text(&t.request_fingerprint),
                text(&t.sender_id),
                opt_text(t.receiver_id.as_deref()),
                text(&t.recipient_kind),
                opt_text(t.recipient_hash.as_deref()),
                int(t.amount),
                text(t.currency.code()),
                text(&t.source),
                opt_text(t.note.as_deref()),
                text(t.status.as_str()),
                opt_int(t.claim_expires_at),
                int(t.created),
                opt_text(t.payment_id.as_deref()),
            ],
        )?,
        statement(
            env,
            "INSERT INTO transfer_usage (merchant_id, customer_id, currency, day, sent, cap) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (customer_id, currency, day) DO UPDATE \
             SET sent = sent + excluded.sent, cap = excluded.cap",
            &[
                text(&t.merchant_id),
                text(&t.sender_id),
                text(t.currency.code()),
                text(day),
                int(t.amount),
                int(daily_cap),
            ],
        )?,
    ];
    if let Some(event) = event {
        // After the transfer's insert (`changes() = 1`), ahead of the daily total.
        statements.insert(1, webhooks::insert_event_after_change(env, event)?);
    }
    if let Some(posting) = posting {
        statements.extend(ledger_statements(env, posting, &t.id)?);
    }
    statements.push(webhooks::endpoints_statement(env, &t.merchant_id)?);
    match batch(env, statements).await {
        Ok(results) => {
            let endpoints = webhooks::endpoints_read(&results)?;
            Ok(Sent::Done { endpoints })
        }
        Err(error) if super::ledger::overdrawn(&error) => Ok(Sent::Overdrawn),
        Err(error) if error.violated("daily_limit") => Ok(Sent::OverDailyLimit),
        Err(error) => Err(error),
    }
}

/// The posting's statements, written only while the transfer exists.
fn ledger_statements(
    env: &Env,
    posting: &Posting<'_>,
    transfer_id: &str,
) -> StoreResult<Vec<D1PreparedStatement>> {
    posting.statements(
        env,
        "EXISTS (SELECT 1 FROM transfers WHERE id = ?6)",
        &[text(transfer_id)],
    )
}

/// Settles a claim: the transfer moves from `awaiting_claim` to `status` (and to `receiver`,
/// when claimed) and the claim's money goes where the posting sends it, in one transaction;
/// false (nothing written) when the claim was already settled.
/// Pays a transfer awaiting its claim to `receiver` (`succeeded`), or back (`returned`), with
/// its posting and `event` in one transaction. `None` when it was no longer awaiting (nothing
/// written), else the merchant's endpoints for the event.
pub async fn settle_claim(
    env: &Env,
    t: &TransferRow,
    status: TransferStatus,
    receiver: Option<&str>,
    posting: &Posting<'_>,
    event: &EventRow,
) -> StoreResult<Option<Vec<EndpointRow>>> {
    let mut statements = vec![statement(
        env,
        "UPDATE transfers SET status = ?2, receiver_id = COALESCE(?3, receiver_id), updated = ?4 \
         WHERE id = ?1 AND status = 'awaiting_claim'",
        &[
            text(&t.id),
            text(status.as_str()),
            opt_text(receiver),
            int(posting.created),
        ],
    )?];
    // The event only when this update moved it (`changes()`); the posting by the state.
    statements.push(webhooks::insert_event_after_change(env, event)?);
    statements.extend(posting.statements(
        env,
        "EXISTS (SELECT 1 FROM transfers WHERE id = ?6 AND status = ?7)",
        &[text(&t.id), text(status.as_str())],
    )?);
    statements.push(webhooks::endpoints_statement(env, &t.merchant_id)?);
    let results = batch(env, statements).await?;
    let moved = results
        .first()
        .and_then(|result| result.meta().ok().flatten())
        .and_then(|meta| meta.changes)
        == Some(1);
    if !moved {
        return Ok(None);
    }
    webhooks::endpoints_read(&results).map(Some)
}

pub async fn by_idempotency_key(
    env: &Env,
    merchant_id: &str,
    key: &str,
) -> StoreResult<Option<TransferRow>> {
    first(
        env,
        "SELECT * FROM transfers WHERE merchant_id = ?1 AND idempotency_key = ?2",
        &[text(merchant_id), text(key)],
    )
    .await
}

pub async fn find(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<TransferRow>> {
    first(
        env,
        "SELECT * FROM transfers WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

/// Claims waiting for any of these contact hashes at this merchant.
pub async fn claims_for(
    env: &Env,
    merchant_id: &str,
    hashes: &[String],
) -> StoreResult<Vec<TransferRow>> {
    all(
        env,
        "SELECT * FROM transfers WHERE merchant_id = ?1 AND status = 'awaiting_claim' \
         AND recipient_hash IN (SELECT value FROM json_each(?2)) ORDER BY seq",
        &[text(merchant_id), super::json_list(hashes)?],
    )
    .await
}

/// Claims whose receiver has become a customer since (a sign-up whose claiming was cut
/// short), with that customer's id as `receiver_id`; and claims past their expiry.
pub async fn claims_to_settle(env: &Env, now: i64, limit: i64) -> StoreResult<Vec<TransferRow>> {
    all(
        env,
        "SELECT t.seq, t.id, t.merchant_id, t.idempotency_key, t.request_fingerprint, \
         t.sender_id, c.id AS receiver_id, t.recipient_kind, t.recipient_hash, t.amount, \
         t.currency, t.source, t.note, t.status, t.claim_expires_at, t.payment_id, t.created, \
         t.updated \
         FROM transfers t LEFT JOIN customers c ON c.merchant_id = t.merchant_id \
         AND (c.email_hash = t.recipient_hash OR c.phone_hash = t.recipient_hash) \
         WHERE t.status = 'awaiting_claim' AND (c.id IS NOT NULL OR t.claim_expires_at <= ?1) \
         ORDER BY t.claim_expires_at LIMIT ?2",
        &[int(now), int(limit)],
    )
    .await
}
