//! What reconciliation reads (the day's payments and refunds, who owns a reference) and writes
//! (runs, and settlement lines no merchant owns).

use super::{all, execute, first, int, json_list, opt_text, text, StoreResult};
use serde::Deserialize;
use std::collections::HashMap;
use till_core::money::Currency;
use till_core::payment::{PaymentStatus, RefundStatus};
use till_core::reconciliation::{Record, RecordStatus, SettlementLine};
use worker::Env;

#[derive(Deserialize)]
struct PaymentRecordRow {
    id: String,
    amount: i64,
    currency: Currency,
    status: PaymentStatus,
}

#[derive(Deserialize)]
struct RefundRecordRow {
    id: String,
    amount: i64,
    currency: Currency,
    status: RefundStatus,
}

/// A merchant's payments and refunds whose money moved in `[start, end)` (captured, refunded),
/// plus any of `references` (ids in the settlement file: a payment Till still has `processing`
/// must be compared too), as reconciliation records. Only what went through the gateway or
/// the bank is compared: a wallet's part never leaves Till.
pub async fn day_records(
    env: &Env,
    merchant_id: &str,
    start: i64,
    end: i64,
    references: &[String],
) -> StoreResult<Vec<Record>> {
    let params = [
        text(merchant_id),
        int(start),
        int(end),
        json_list(references)?,
    ];
    let payments = all::<PaymentRecordRow>(
        env,
        "SELECT id, amount_captured - wallet_amount AS amount, currency, status FROM payments \
         WHERE merchant_id = ?1 AND method <> 'wallet' AND ((captured_at >= ?2 AND captured_at < ?3) \
         OR id IN (SELECT value FROM json_each(?4)))",
        &params,
    )
    .await?;
    let refunds = all::<RefundRecordRow>(
        env,
        "SELECT id, amount - wallet_amount AS amount, currency, status FROM refunds \
         WHERE merchant_id = ?1 AND amount > wallet_amount \
         AND ((settled_at >= ?2 AND settled_at < ?3) \
         OR id IN (SELECT value FROM json_each(?4)))",
        &params,
    )
    .await?;
    let payments = payments.into_iter().map(|r| Record {
        id: r.id,
        amount: r.amount,
        currency: r.currency,
        status: RecordStatus::Payment(r.status),
    });
    let refunds = refunds.into_iter().map(|r| Record {
        id: r.id,
        amount: r.amount,
        currency: r.currency,
        status: RecordStatus::Refund(r.status),
    });
    Ok(payments.chain(refunds).collect())
}

#[derive(Deserialize)]
struct OwnerRow {
    id: String,
    merchant_id: String,
}

/// Which merchant each of these payment or refund ids belongs to (ids Till does not have are
/// left out).
pub async fn owners_of(env: &Env, references: &[String]) -> StoreResult<HashMap<String, String>> {
    let rows = all::<OwnerRow>(
        env,
        "SELECT id, merchant_id FROM payments WHERE id IN (SELECT value FROM json_each(?1)) \
         UNION ALL SELECT id, merchant_id FROM refunds \
         WHERE id IN (SELECT value FROM json_each(?1))",
        &[json_list(references)?],
    )
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.merchant_id)).collect())
}

/// Settlement lines no merchant owns, for the operator's report (kept once per line).
pub async fn record_exceptions(env: &Env, lines: &[SettlementLine], now: i64) -> StoreResult<()> {
    for line in lines {
        execute(
            env,
            "INSERT OR IGNORE INTO settlement_exceptions \
             (date, gateway_id, reference, type, gross, currency, detected) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &[
                text(&line.date),
                text(&line.gateway_id),
                text(&line.reference),
                text(line.kind.as_str()),
                int(line.gross),
                text(&line.currency),
                int(now),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Lines per statement when recording settlements (one JSON parameter each).
const SETTLEMENTS_PER_STATEMENT: usize = 1000;

/// Records what the gateway settled of the merchant's payments and refunds, with the run that
/// read it; written again by a later run of the same day (the file's newest word wins).
pub async fn record_settlements(
    env: &Env,
    merchant_id: &str,
    run_id: &str,
    lines: &[SettlementLine],
) -> StoreResult<()> {
    for chunk in lines.chunks(SETTLEMENTS_PER_STATEMENT) {
        let rows: Vec<serde_json::Value> = chunk
            .iter()
            .map(|l| {
                serde_json::json!({
                    "reference": l.reference, "type": l.kind.as_str(), "date": l.date,
                    "gateway_id": l.gateway_id, "gross": l.gross, "fee": l.fee, "net": l.net,
                    "currency": l.currency,
                })
            })
            .collect();
        let json = serde_json::to_string(&rows).map_err(|e| super::StoreError::new("encode", e))?;
        execute(
            env,
            "INSERT OR REPLACE INTO settlements (merchant_id, reference, type, settled_on, \
             gateway_id, gross, fee, net, currency, reconciliation_run) \
             SELECT ?1, json_extract(value, '$.reference'), json_extract(value, '$.type'), \
             json_extract(value, '$.date'), json_extract(value, '$.gateway_id'), \
             json_extract(value, '$.gross'), json_extract(value, '$.fee'), \
             json_extract(value, '$.net'), json_extract(value, '$.currency'), ?2 \
             FROM json_each(?3)",
            &[text(merchant_id), text(run_id), text(&json)],
        )
        .await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize)]
pub struct RunRow {
    pub id: String,
    pub merchant_id: String,
    pub date: String,
    pub lines: i64,
    pub records: i64,
    /// JSON list of the run's findings.
    pub findings: String,
    /// Why the run could not finish, when it could not.
    pub error: Option<String>,
    pub created: i64,
}

pub async fn insert_run(env: &Env, r: &RunRow) -> StoreResult<()> {
    execute(
        env,
        "INSERT INTO reconciliation_runs (id, merchant_id, date, lines, records, findings, \
         error, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &[
            text(&r.id),
            text(&r.merchant_id),
            text(&r.date),
            int(r.lines),
            int(r.records),
            text(&r.findings),
            opt_text(r.error.as_deref()),
            int(r.created),
        ],
    )
    .await
    .map(|_| ())
}

pub async fn run(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<RunRow>> {
    first(
        env,
        "SELECT * FROM reconciliation_runs WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

pub async fn runs(env: &Env, merchant_id: &str) -> StoreResult<Vec<RunRow>> {
    all::<RunRow>(
        env,
        "SELECT * FROM reconciliation_runs WHERE merchant_id = ?1 ORDER BY created DESC LIMIT 50",
        &[text(merchant_id)],
    )
    .await
}
