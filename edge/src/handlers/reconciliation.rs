//! Reconciliation runs (secret key): `POST /v1/reconciliation/runs` `{date?}` runs one now
//! (the daily cron runs yesterday's for every merchant), `GET /v1/reconciliation/runs` and
//! `/runs/:id` read them. A payment left `processing` that the file shows settled is fixed from
//! the gateway's record and still reported. Every finding is also sent as
//! `reconciliation.mismatch`.

use crate::auth::Caller;
use crate::gateways::{self, Gateway};
use crate::http::{body_value, json, parse, ApiResult};
use crate::payments::{self, Recovered};
use crate::store::{self, reconciliation::RunRow};
use crate::{clock, random};
use serde::{Deserialize, Serialize};
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::IdKind;
use till_core::payment::PaymentStatus;
use till_core::reconciliation::{self, Finding, FindingKind, SettlementLine};
use worker::{Env, Request};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartRun {
    #[serde(default)]
    date: Option<String>,
}

#[derive(Serialize)]
struct Run {
    id: String,
    object: &'static str,
    date: String,
    settlement_lines: i64,
    till_records: i64,
    findings: Vec<Finding>,
    /// Why the run could not finish (the daily run of a merchant whose records failed to load).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    created: i64,
}

fn view(row: &RunRow) -> Result<Run, ApiError> {
    Ok(Run {
        id: row.id.clone(),
        object: "reconciliation_run",
        date: row.date.clone(),
        settlement_lines: row.lines,
        till_records: row.records,
        findings: serde_json::from_str(&row.findings).map_err(|_| ApiError::internal())?,
        error: row.error.clone(),
        created: row.created,
    })
}

/// What `gateway` settled on `date`.
async fn settlement_lines(gateway: &Gateway, date: &str) -> Result<Vec<SettlementLine>, ApiError> {
    gateway.connector.settlement(date).await.map_err(|e| {
        crate::log_warn!("reconciliation {date}: no settlement: {e}");
        ApiError::gateway_unavailable()
    })
}

/// The platform bank's lines for the day: the bank payments it took and the refunds it paid
/// back, for every merchant (each run keeps its own, by reference).
async fn bank_lines(env: &Env, date: &str) -> Result<Vec<SettlementLine>, ApiError> {
    crate::banks::platform_redirect(env)?
        .settlement(date)
        .await
        .map_err(|e| {
            crate::log_warn!("reconciliation {date}: no bank settlement: {e}");
            ApiError::gateway_unavailable()
        })
}

fn day_of(date: &str) -> Result<(i64, i64), ApiError> {
    reconciliation::day_bounds(date)
        .ok_or_else(|| ApiError::new(ErrorCode::DateInvalid).with_param("date"))
}

/// Reconciles one merchant's day against the file's lines and stores the run. Till's side is
/// what moved money that day (captures, refunds), matched by the day the file lists them under;
/// lines that belong to no merchant go to the operator's report, never into a merchant's run.
pub async fn reconcile(
    env: &Env,
    merchant_id: &str,
    date: &str,
    lines: &[SettlementLine],
) -> Result<RunRow, ApiError> {
    let (start, end) = day_of(date)?;
    let references: Vec<String> = lines.iter().map(|l| l.reference.clone()).collect();
    let owners = store::reconciliation::owners_of(env, &references).await?;
    let (mine, unknown) = reconciliation::lines_of(lines, merchant_id, &owners);
    store::reconciliation::record_exceptions(env, &unknown, clock::now_seconds()).await?;
    let my_references: Vec<String> = mine.iter().map(|l| l.reference.clone()).collect();
    let records =
        store::reconciliation::day_records(env, merchant_id, start, end, &my_references).await?;
    let mut findings = reconciliation::reconcile(&mine, &records, |_| false);
    for finding in &mut findings {
        fix_processing(env, finding).await?;
    }
    let run = RunRow {
        id: random::id(IdKind::ReconciliationRun)?,
        merchant_id: merchant_id.to_string(),
        date: date.to_string(),
        lines: i64::try_from(mine.len()).unwrap_or(i64::MAX),
        records: i64::try_from(records.len()).unwrap_or(i64::MAX),
        findings: serde_json::to_string(&findings).map_err(|_| ApiError::internal())?,
        error: None,
        created: clock::now_seconds(),
    };
    store::reconciliation::insert_run(env, &run).await?;
    store::reconciliation::record_settlements(env, merchant_id, &run.id, &mine).await?;
    for finding in &findings {
        crate::merchant_webhooks::emit(env, merchant_id, "reconciliation.mismatch", finding).await;
    }
    worker::console_log!(
        "reconciliation {} {date}: {} findings, {} lines for the operator",
        run.id,
        findings.len(),
        unknown.len()
    );
    Ok(run)
}

/// A payment Till still has `processing` while the gateway settled it: settle it from the
/// gateway's record (the state machine decides), and say so in the finding.
async fn fix_processing(env: &Env, finding: &mut Finding) -> Result<(), ApiError> {
    if finding.kind != FindingKind::StatusMismatch {
        return Ok(());
    }
    let Some(mut payment) = store::payments::by_id(env, &finding.reference).await? else {
        return Ok(());
    };
    if payment.status != PaymentStatus::Processing {
        return Ok(());
    }
    if let Recovered::Applied = payments::recover(env, &mut payment).await? {
        finding.detail = format!("{}; fixed: now {}", finding.detail, payment.status);
    }
    Ok(())
}

pub async fn start(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: StartRun = parse(body_value(&mut req).await?)?;
    let date = request
        .date
        .unwrap_or_else(|| reconciliation::date_of(clock::now_seconds()));
    day_of(&date)?;
    let gateway = gateways::for_merchant(env, &caller.merchant_id).await?;
    let (lines, bank) =
        futures_util::future::join(settlement_lines(&gateway, &date), bank_lines(env, &date)).await;
    let lines = [lines?, bank?].concat();
    json(
        200,
        &view(&reconcile(env, &caller.merchant_id, &date, &lines).await?)?,
    )
}

pub async fn list(env: &Env, caller: &Caller) -> ApiResult {
    let runs = store::reconciliation::runs(env, &caller.merchant_id)
        .await?
        .iter()
        .map(view)
        .collect::<Result<Vec<_>, _>>()?;
    json(200, &serde_json::json!({ "object": "list", "data": runs }))
}

pub async fn retrieve(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let run = store::reconciliation::run(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("reconciliation run"))?;
    json(200, &view(&run)?)
}

/// The daily cron: yesterday, for every merchant. A merchant whose run fails gets a run that
/// says why; the others are reconciled all the same.
pub async fn daily(env: &Env) -> Result<(), ApiError> {
    let yesterday = reconciliation::date_of(clock::now_seconds() - 86_400);
    // The platform account's file serves every merchant without an account of its own.
    let mut platform_lines: Option<Vec<SettlementLine>> = None;
    // The platform bank's file serves every merchant; a bank that did not answer fails each
    // merchant's run, which says so.
    let bank = bank_lines(env, &yesterday).await;
    for merchant in store::merchants::ids(env).await? {
        let outcome = async {
            let gateway = gateways::for_merchant(env, &merchant).await?;
            let lines = match (&gateway.account_id, &platform_lines) {
                (None, Some(lines)) => lines.clone(),
                (None, None) => {
                    let lines = settlement_lines(&gateway, &yesterday).await?;
                    platform_lines = Some(lines.clone());
                    lines
                }
                (Some(_), _) => settlement_lines(&gateway, &yesterday).await?,
            };
            let lines = [lines, bank.clone()?].concat();
            reconcile(env, &merchant, &yesterday, &lines).await
        }
        .await;
        if let Err(error) = outcome {
            crate::log_error!("reconciliation {yesterday} for {merchant}: {error}");
            let failed = RunRow {
                id: random::id(IdKind::ReconciliationRun)?,
                merchant_id: merchant.clone(),
                date: yesterday.clone(),
                lines: 0,
                records: 0,
                findings: "[]".into(),
                error: Some(error.error.message.clone()),
                created: clock::now_seconds(),
            };
            if let Err(error) = store::reconciliation::insert_run(env, &failed).await {
                crate::log_error!("reconciliation {yesterday} for {merchant}: {error}");
            }
        }
    }
    Ok(())
}
