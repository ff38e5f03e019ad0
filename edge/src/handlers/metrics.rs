//! `GET /v1/metrics/routes`: the merchant's own requests of the last minutes, per route — p50
//! and p99 latency and the rate of Till's errors — read from Analytics Engine through its SQL
//! API (`ANALYTICS_SQL_URL`, secret `ANALYTICS_API_TOKEN`; locally the sandbox, which answers
//! from the edge's log).

use crate::auth::Caller;
use crate::connectors::transport;
use crate::http::{json, query_pairs, ApiResult};
use till_core::error::{ApiError, ErrorCode};
use till_core::metrics::{parse_minutes, points_sql, summarize, RouteMetrics, SqlAnswer};
use worker::{Env, Method, Request};

/// A slow metrics store must not hold the dashboard's page for long.
const TIMEOUT_MS: u64 = 10_000;

fn unavailable(detail: impl std::fmt::Display) -> ApiError {
    crate::log_warn!("metrics: {detail}");
    ApiError::new(ErrorCode::MetricsUnavailable)
}

pub async fn routes(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let minutes = parse_minutes(&query_pairs(&req)?)?;
    let sql = points_sql(&caller.merchant_id, minutes).ok_or_else(ApiError::internal)?;
    let url = env
        .var("ANALYTICS_SQL_URL")
        .map(|v| v.to_string())
        .ok()
        .filter(|url| !url.is_empty())
        .ok_or_else(|| unavailable("ANALYTICS_SQL_URL is not set"))?;
    let authorization = env
        .secret("ANALYTICS_API_TOKEN")
        .ok()
        .map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> = authorization
        .as_deref()
        .map(|value| ("Authorization", value))
        .into_iter()
        .collect();
    let reply = transport::send(
        Method::Post,
        &url,
        &headers,
        Some(("text/plain", sql)),
        TIMEOUT_MS,
    )
    .await
    .map_err(unavailable)?;
    if !(200..300).contains(&reply.status) {
        return Err(unavailable(format!("SQL API answered {}", reply.status)));
    }
    let answer: SqlAnswer = serde_json::from_slice(&reply.body).map_err(unavailable)?;
    json(
        200,
        &RouteMetrics {
            object: "route_metrics".into(),
            minutes,
            routes: summarize(&answer.data),
        },
    )
}
