//! `/v1/reports` (secret key, or a restricted key with `reports:read`): a period's summary, and
//! every money movement as CSV for an accounting system. Daily, each merchant with activity is
//! sent yesterday's summary as a `report.daily` webhook event.

use crate::auth::Caller;
use crate::http::{body_value, json, parse, query_pairs, ApiResult};
use crate::{clock, store};
use serde::Deserialize;
use till_core::error::{ApiError, ErrorCode};
use till_core::reconciliation::date_of;
use till_core::reports::{balance_transactions_csv, summarize, ReportQuery, Summary};
use worker::{Env, Request, Response};

async fn summary_of(
    env: &Env,
    merchant_id: &str,
    query: &ReportQuery,
) -> Result<Summary, ApiError> {
    let (attempts, declines, money) = store::reports::figures(env, merchant_id, query).await?;
    Ok(summarize(query, &attempts, &declines, &money))
}

/// `GET /v1/reports/summary?from&to&currency&group_by`.
pub async fn summary(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let query = ReportQuery::parse(&query_pairs(&req)?, clock::now_seconds(), true)?;
    json(200, &summary_of(env, &caller.merchant_id, &query).await?)
}

/// `GET /v1/reports/balance_transactions.csv?from&to&currency`.
pub async fn balance_transactions(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let query = ReportQuery::parse(&query_pairs(&req)?, clock::now_seconds(), false)?;
    let rows = store::reports::balance_transactions(env, &caller.merchant_id, &query)
        .await?
        .ok_or_else(|| {
            ApiError::new(ErrorCode::ParameterInvalid)
                .with_message(format!(
                    "More than {} movements in this period: export it in shorter periods.",
                    store::reports::MAX_EXPORT_ROWS
                ))
                .with_param("from")
        })?;
    let mut response =
        Response::ok(balance_transactions_csv(&rows)).map_err(|_| ApiError::internal())?;
    let headers = response.headers_mut();
    let file = format!("balance_transactions_{}_{}.csv", query.from, query.to);
    headers
        .set("Content-Type", "text/csv; charset=utf-8")
        .and_then(|_| {
            headers.set(
                "Content-Disposition",
                &format!("attachment; filename=\"{file}\""),
            )
        })
        .and_then(|_| headers.set("Cache-Control", "no-store"))
        .map_err(|_| ApiError::internal())?;
    Ok(response)
}

/// A day's summary (`group_by=day`), for the `report.daily` event.
fn day_query(date: &str) -> Result<ReportQuery, ApiError> {
    let period = [
        ("from".to_string(), date.to_string()),
        ("to".to_string(), date.to_string()),
    ];
    ReportQuery::parse(&period, clock::now_seconds(), true).map_err(|error| {
        ApiError::new(ErrorCode::DateInvalid)
            .with_message(error.error.message)
            .with_param("date")
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendDaily {
    /// `YYYY-MM-DD`; yesterday when absent.
    #[serde(default)]
    date: Option<String>,
}

/// `POST /v1/reports/daily {date?}`: sends a day's `report.daily` event again (a receiver that
/// was down, a new endpoint), even for a day without activity, and answers with it.
pub async fn send_daily(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: SendDaily = parse(body_value(&mut req).await?)?;
    let date = request
        .date
        .unwrap_or_else(|| date_of(clock::now_seconds() - 86_400));
    let summary = summary_of(env, &caller.merchant_id, &day_query(&date)?).await?;
    crate::merchant_webhooks::emit(env, &caller.merchant_id, "report.daily", &summary).await;
    json(200, &summary)
}

/// The daily cron: yesterday's summary to each merchant that had any payment or money movement.
pub async fn daily(env: &Env) -> Result<(), ApiError> {
    let query = day_query(&date_of(clock::now_seconds() - 86_400))?;
    for merchant in store::merchants::ids(env).await? {
        match summary_of(env, &merchant, &query).await {
            Ok(summary) if summary.groups.is_empty() => {}
            Ok(summary) => {
                crate::merchant_webhooks::emit(env, &merchant, "report.daily", &summary).await
            }
            Err(error) => crate::log_error!("daily report for {merchant}: {error:?}"),
        }
    }
    Ok(())
}
