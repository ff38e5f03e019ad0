//! What every request leaves behind for merchants and operators: a `Request-Id` on the answer,
//! one structured JSON log line (`request_id`, method, route pattern, status, milliseconds), and
//! a data point per request in Workers Analytics Engine (`METRICS`: the merchant as index, so a
//! merchant's points are read and sampled on their own; method, route and status class as blobs;
//! milliseconds, status and whether it failed on Till's side as doubles), from which per-route
//! p50/p99 latency and error rates are queried (`GET /v1/metrics/routes`). Without the binding
//! (local runs) the log line is the record, and the sandbox answers the SQL API from it.
//!
//! The route pattern (`/v1/payments/{id}`), never the path or query, is what is recorded: ids
//! and client secrets stay out of logs and metrics.

use till_core::ids::{new_id, IdKind};
use till_core::routes::{resolve, Resolved};
use worker::{AnalyticsEngineDataPointBuilder, Env, Method, Request};

/// A fresh request id (`req_…`), or a fixed one if the runtime has no randomness to give.
pub fn request_id() -> String {
    crate::random::bytes::<16>()
        .map(|random| new_id(IdKind::Request, random))
        .unwrap_or_else(|_| "req_unknown".into())
}

/// The route a request names, as recorded: its pattern, `page` for Till's pages, `preflight`
/// for CORS preflights, `unknown` otherwise.
pub fn route_label(req: &Request) -> &'static str {
    let path = req.path();
    if req.method() == Method::Options {
        return "preflight";
    }
    if !path.starts_with("/v1/") {
        return "page";
    }
    match resolve(req.method().as_ref(), &path) {
        Resolved::Found { route, .. } => route.pattern,
        Resolved::MethodNotAllowed | Resolved::NotFound => "unknown",
    }
}

/// One request's record.
pub struct Record<'a> {
    pub request_id: &'a str,
    /// The merchant whose key or person made the request, once authenticated.
    pub merchant: Option<&'a str>,
    pub method: &'a str,
    pub route: &'static str,
    pub status: u16,
    pub millis: f64,
}

/// Logs the request's line and writes its data point.
pub fn record(env: &Env, record: &Record<'_>) {
    let line = serde_json::json!({
        "level": if record.status >= 500 { "error" } else { "info" },
        "ts": worker::Date::now().as_millis(),
        "request_id": record.request_id,
        "merchant": record.merchant,
        "method": record.method,
        "route": record.route,
        "status": record.status,
        "ms": record.millis,
    });
    worker::console_log!("{line}");
    let Ok(dataset) = env.analytics_engine("METRICS") else {
        return;
    };
    let point = AnalyticsEngineDataPointBuilder::new()
        .indexes([record.merchant.unwrap_or("-")])
        .blobs([
            record.method.to_string(),
            record.route.to_string(),
            format!("{}xx", record.status / 100),
        ])
        .doubles([
            record.millis,
            f64::from(record.status),
            if record.status >= 500 { 1.0 } else { 0.0 },
        ])
        .build();
    if let Err(error) = dataset.write_data_point(&point) {
        crate::log_warn!("metrics: {error}");
    }
}
