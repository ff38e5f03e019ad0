//! Disputes in D1. Every change of a dispute is one batch with what it causes: the ledger
//! postings (the withdrawal, the fee, their return) and the merchant's `dispute.*` events, so a
//! crash keeps all of it or none, and a change applied twice (a webhook and the API's answer, a
//! redelivery) writes once.

use super::ledger::Posting;
use super::webhooks::{self, EndpointRow, EventRow};
use super::{all, batch, first, int, opt_text, statement, text, StoreError, StoreResult};
use serde::Deserialize;
use till_core::dispute::{Dispute, DisputeReason, DisputeStatus, EvidenceSummary};
use till_core::error::ApiError;
use till_core::money::Currency;
use worker::{D1PreparedStatement, Env};

#[derive(Debug, Clone, Deserialize)]
pub struct DisputeRow {
    pub id: String,
    pub merchant_id: String,
    pub payment_id: String,
    pub gateway_account_id: Option<String>,
    pub gateway_reference: String,
    pub amount: i64,
    pub currency: Currency,
    pub fee: i64,
    /// `None`: the dispute's currency.
    #[serde(default)]
    pub fee_currency: Option<Currency>,
    pub reason: String,
    pub status: String,
    pub evidence_due_by: i64,
    pub evidence: Option<String>,
    pub created: i64,
    pub updated: i64,
}

fn corrupt(row: &DisputeRow, what: &str) -> ApiError {
    crate::log_error!("dispute {}: stored {what} unreadable", row.id);
    ApiError::internal()
}

impl DisputeRow {
    pub fn fee_currency(&self) -> Currency {
        self.fee_currency.unwrap_or(self.currency)
    }

    pub fn status(&self) -> Result<DisputeStatus, ApiError> {
        DisputeStatus::parse(&self.status).ok_or_else(|| corrupt(self, "status"))
    }

    pub fn evidence(&self) -> Result<Option<EvidenceSummary>, ApiError> {
        self.evidence
            .as_deref()
            .map(|text| serde_json::from_str(text).map_err(|_| corrupt(self, "evidence")))
            .transpose()
    }

    /// As the API shows it.
    pub fn view(&self) -> Result<Dispute, ApiError> {
        Ok(Dispute {
            id: self.id.clone(),
            object: "dispute".into(),
            payment: self.payment_id.clone(),
            amount: self.amount,
            currency: self.currency,
            fee: self.fee,
            fee_currency: self.fee_currency(),
            reason: DisputeReason::from_gateway(&self.reason),
            status: self.status()?,
            evidence_due_by: self.evidence_due_by,
            evidence: self.evidence()?,
            created: self.created,
            updated: self.updated,
        })
    }
}

pub async fn find(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<DisputeRow>> {
    first(
        env,
        "SELECT * FROM disputes WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

pub async fn of_payment(env: &Env, payment_id: &str) -> StoreResult<Option<DisputeRow>> {
    first(
        env,
        "SELECT * FROM disputes WHERE payment_id = ?1",
        &[text(payment_id)],
    )
    .await
}

/// The dispute a gateway account knows as `reference`.
pub async fn by_gateway_reference(
    env: &Env,
    gateway_account_id: Option<&str>,
    reference: &str,
) -> StoreResult<Option<DisputeRow>> {
    first(
        env,
        "SELECT * FROM disputes WHERE COALESCE(gateway_account_id, '') = COALESCE(?1, '') \
         AND gateway_reference = ?2",
        &[opt_text(gateway_account_id), text(reference)],
    )
    .await
}

/// Which of a merchant's disputes to list.
pub struct DisputeFilter<'a> {
    pub status: Option<DisputeStatus>,
    pub payment: Option<&'a str>,
    pub starting_after: Option<&'a str>,
    /// How many to read (one more than the page shows).
    pub limit: usize,
}

/// A merchant's disputes, newest first, as `filter` says; `None` when `starting_after` is not
/// one of its disputes.
pub async fn list(
    env: &Env,
    merchant_id: &str,
    filter: &DisputeFilter<'_>,
) -> StoreResult<Option<Vec<DisputeRow>>> {
    let after = match filter.starting_after {
        Some(id) => match find(env, merchant_id, id).await? {
            Some(row) => Some((row.created, row.id)),
            None => return Ok(None),
        },
        None => None,
    };
    let (created, id) = after.unwrap_or((i64::MAX, String::new()));
    let limit = i64::try_from(filter.limit).unwrap_or(100);
    all(
        env,
        "SELECT * FROM disputes WHERE merchant_id = ?1 AND (?2 IS NULL OR status = ?2) \
         AND (?6 IS NULL OR payment_id = ?6) \
         AND (created < ?3 OR (created = ?3 AND (?4 = '' OR id < ?4))) \
         ORDER BY created DESC, id DESC LIMIT ?5",
        &[
            text(merchant_id),
            opt_text(filter.status.map(DisputeStatus::as_str)),
            int(created),
            text(&id),
            int(limit),
            opt_text(filter.payment),
        ],
    )
    .await
    .map(Some)
}

/// What a change writes besides the dispute: the merchant's events (each recorded only when the
/// statement before it changed a row, so only when the dispute did) and the ledger postings
/// (each guarded by the state the dispute must have reached, and written once per dispute).
fn consequences(
    env: &Env,
    dispute_id: &str,
    merchant_id: &str,
    events: &[EventRow],
    postings: &[Posting<'_>],
) -> StoreResult<Vec<D1PreparedStatement>> {
    let mut statements = Vec::new();
    for event in events {
        statements.push(webhooks::insert_event_after_change(env, event)?);
    }
    for posting in postings {
        let reached = if matches!(
            posting.operation,
            till_core::ledger::Operation::DisputeReinstated { .. }
                | till_core::ledger::Operation::DisputeFeeReturned { .. }
        ) {
            "won"
        } else {
            ""
        };
        statements.extend(posting.statements(
            env,
            "EXISTS (SELECT 1 FROM disputes WHERE id = ?6 AND (?7 = '' OR status = ?7))",
            &[text(dispute_id), text(reached)],
        )?);
    }
    if !events.is_empty() {
        statements.push(webhooks::endpoints_statement(env, merchant_id)?);
    }
    Ok(statements)
}

/// Runs `change` (an insert or update of the dispute `row`) with what it causes, in one batch:
/// `None` when it changed no row (so nothing else was written), otherwise the merchant's
/// endpoints for the events.
async fn write(
    env: &Env,
    change: D1PreparedStatement,
    row: &DisputeRow,
    events: &[EventRow],
    postings: &[Posting<'_>],
) -> StoreResult<Option<Vec<EndpointRow>>> {
    let mut statements = vec![change];
    statements.extend(consequences(
        env,
        &row.id,
        &row.merchant_id,
        events,
        postings,
    )?);
    let results = batch(env, statements).await?;
    let changed = results
        .first()
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|meta| meta.changes)
        == Some(1);
    if !changed {
        return Ok(None);
    }
    if events.is_empty() {
        return Ok(Some(Vec::new()));
    }
    webhooks::endpoints_read(&results).map(Some)
}

/// Records a new dispute with what it causes. `None` when it was there already (another event
/// about it came first): nothing was written.
pub async fn insert(
    env: &Env,
    row: &DisputeRow,
    events: &[EventRow],
    postings: &[Posting<'_>],
) -> StoreResult<Option<Vec<EndpointRow>>> {
    let change = statement(
        env,
        "INSERT INTO disputes (id, merchant_id, payment_id, gateway_account_id, \
         gateway_reference, amount, currency, fee, reason, status, evidence_due_by, evidence, \
         created, updated, fee_currency) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, ?12, ?12, ?13) \
         ON CONFLICT DO NOTHING",
        &[
            text(&row.id),
            text(&row.merchant_id),
            text(&row.payment_id),
            opt_text(row.gateway_account_id.as_deref()),
            text(&row.gateway_reference),
            int(row.amount),
            text(row.currency.code()),
            int(row.fee),
            text(&row.reason),
            text(&row.status),
            int(row.evidence_due_by),
            int(row.created),
            opt_text(row.fee_currency.as_ref().map(Currency::code)),
        ],
    )?;
    write(env, change, row, events, postings).await
}

/// Moves a dispute from `from` to `to` with what it causes. `None` when it was no longer in
/// `from` (another change came first): nothing was written.
pub async fn move_status(
    env: &Env,
    row: &DisputeRow,
    from: DisputeStatus,
    to: DisputeStatus,
    now: i64,
    events: &[EventRow],
    postings: &[Posting<'_>],
) -> StoreResult<Option<Vec<EndpointRow>>> {
    let change = statement(
        env,
        "UPDATE disputes SET status = ?3, updated = ?4 WHERE id = ?1 AND status = ?2",
        &[
            text(&row.id),
            text(from.as_str()),
            text(to.as_str()),
            int(now),
        ],
    )?;
    write(env, change, row, events, postings).await
}

/// Keeps the merchant's evidence on a dispute that needs a response and has none yet: `false`
/// when it has some already (another submission came first) or no longer needs a response.
pub async fn keep_evidence(
    env: &Env,
    dispute_id: &str,
    evidence: &EvidenceSummary,
    now: i64,
) -> StoreResult<bool> {
    let body = serde_json::to_string(evidence).map_err(|e| StoreError::new("encode", e))?;
    let changed = super::execute(
        env,
        "UPDATE disputes SET evidence = ?2, updated = ?3 \
         WHERE id = ?1 AND status = 'needs_response' AND evidence IS NULL",
        &[text(dispute_id), text(&body), int(now)],
    )
    .await?;
    Ok(changed == 1)
}
