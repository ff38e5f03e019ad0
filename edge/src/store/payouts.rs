//! Payouts: written with the reservation of their money and the event that tells of them; moved
//! through the bank's answers, each step with its ledger transaction, in one batch.

use super::ledger::Posting;
use super::webhooks::{self, EndpointRow, EventRow};
use super::StoreResult;
use super::{batch, first, int, opt_text, statement, text, transaction};
use serde::Deserialize;
use till_core::money::Currency;
use till_core::payout::{Payout, PayoutBankAccount, PayoutStatus};
use worker::Env;

#[derive(Debug, Clone, Deserialize)]
pub struct PayoutRow {
    pub id: String,
    pub merchant_id: String,
    pub customer_id: String,
    pub idempotency_key: String,
    /// SHA-256 of the request that made this payout.
    pub request_fingerprint: String,
    pub amount: i64,
    pub currency: Currency,
    pub status: PayoutStatus,
    pub holder_name: String,
    pub routing_number: String,
    pub account_last4: String,
    pub sealed_account: String,
    pub bank_transfer_id: Option<String>,
    pub failure_code: Option<String>,
    pub created: i64,
    #[serde(default)]
    pub poll_attempts: i64,
}

impl PayoutRow {
    pub fn view(&self) -> Payout {
        Payout {
            id: self.id.clone(),
            object: "payout".into(),
            customer: self.customer_id.clone(),
            amount: self.amount,
            currency: self.currency,
            status: self.status,
            bank_account: PayoutBankAccount {
                holder_name: self.holder_name.clone(),
                routing_number: self.routing_number.clone(),
                last4: self.account_last4.clone(),
            },
            failure_code: self.failure_code.clone(),
            created: self.created,
        }
    }
}

/// What requesting a payout came to. A refusal wrote nothing.
pub enum Requested {
    /// Written, with its event; `endpoints` are the merchant's webhook endpoints.
    Done { endpoints: Vec<EndpointRow> },
    /// The wallet holds less than the amount.
    Overdrawn,
}

/// Writes a payout, its event and the reservation of its money as one transaction; the
/// merchant's webhook endpoints are read in the same batch.
pub async fn request(
    env: &Env,
    p: &PayoutRow,
    reservation: &Posting<'_>,
    event: &EventRow,
) -> StoreResult<Requested> {
    let mut statements = vec![
        statement(
            env,
            "INSERT INTO payouts (id, merchant_id, customer_id, idempotency_key, \
             request_fingerprint, amount, currency, status, holder_name, routing_number, \
             account_last4, sealed_account, created, updated) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
            &[
                text(&p.id),
                text(&p.merchant_id),
                text(&p.customer_id),
                text(&p.idempotency_key),
                text(&p.request_fingerprint),
                int(p.amount),
                text(p.currency.code()),
                text(p.status.as_str()),
                text(&p.holder_name),
                text(&p.routing_number),
                text(&p.account_last4),
                text(&p.sealed_account),
                int(p.created),
            ],
        )?,
        // Right after the payout's insert (`changes() = 1`).
        webhooks::insert_event_after_change(env, event)?,
    ];
    statements.extend(reservation.statements(
        env,
        "EXISTS (SELECT 1 FROM payouts WHERE id = ?6)",
        &[text(&p.id)],
    )?);
    statements.push(webhooks::endpoints_statement(env, &p.merchant_id)?);
    match batch(env, statements).await {
        Ok(results) => {
            let endpoints = webhooks::endpoints_read(&results)?;
            Ok(Requested::Done { endpoints })
        }
        Err(error) if super::ledger::overdrawn(&error) => Ok(Requested::Overdrawn),
        Err(error) => Err(error),
    }
}

/// One step of a payout: from its current status to the next, with what the bank said.
pub struct Step<'a> {
    pub from: PayoutStatus,
    pub to: PayoutStatus,
    /// The bank's id, once known (a transfer the bank refused outright has none).
    pub bank_transfer_id: Option<&'a str>,
    pub failure_code: Option<&'a str>,
    pub posting: Option<Posting<'a>>,
    pub event: Option<&'a EventRow>,
    pub now: i64,
}

/// Moves a payout one step, with the step's ledger transaction and event, in one transaction;
/// false (nothing written) when the payout was no longer in `from`.
pub async fn advance(env: &Env, payout_id: &str, step: &Step<'_>) -> StoreResult<bool> {
    let mut statements = vec![statement(
        env,
        "UPDATE payouts SET status = ?3, bank_transfer_id = COALESCE(?4, bank_transfer_id), \
         failure_code = COALESCE(?5, failure_code), updated = ?6, next_poll_at = NULL, \
         poll_attempts = 0, last_poll_error = NULL \
         WHERE id = ?1 AND status = ?2",
        &[
            text(payout_id),
            text(step.from.as_str()),
            text(step.to.as_str()),
            opt_text(step.bank_transfer_id),
            opt_text(step.failure_code),
            int(step.now),
        ],
    )?];
    if let Some(event) = step.event {
        statements.push(webhooks::insert_event_after_change(env, event)?);
    }
    if let Some(posting) = &step.posting {
        statements.extend(posting.statements(
            env,
            "EXISTS (SELECT 1 FROM payouts WHERE id = ?6 AND status = ?7)",
            &[text(payout_id), text(step.to.as_str())],
        )?);
    }
    let changed = transaction(env, statements).await?;
    Ok(changed.first() == Some(&1))
}

pub async fn by_idempotency_key(
    env: &Env,
    merchant_id: &str,
    key: &str,
) -> StoreResult<Option<PayoutRow>> {
    first(
        env,
        "SELECT * FROM payouts WHERE merchant_id = ?1 AND idempotency_key = ?2",
        &[text(merchant_id), text(key)],
    )
    .await
}

pub async fn find(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<PayoutRow>> {
    first(
        env,
        "SELECT * FROM payouts WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

/// A payout by id alone: for the bank's events, which know only Till's reference.
pub async fn by_id(env: &Env, id: &str) -> StoreResult<Option<PayoutRow>> {
    first(env, "SELECT * FROM payouts WHERE id = ?1", &[text(id)]).await
}
