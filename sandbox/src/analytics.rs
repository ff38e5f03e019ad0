//! A stand-in for Workers Analytics Engine's SQL API, for local runs: `POST /v1/analytics/sql`
//! with the one query the edge sends (a merchant's points of the last minutes) answers, in the
//! API's `FORMAT JSON` shape, from the edge's log (`TILL_EDGE_LOG`), where locally each request's
//! record is a JSON line. Any other SQL is refused, as the real API refuses what it cannot run.

use crate::gateway::{error, Reply};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use till_core::metrics::{points_sql, Point, SqlAnswer};

/// One request's log line, as the edge writes it.
#[derive(Deserialize)]
struct Line {
    ts: f64,
    #[serde(default)]
    merchant: Option<String>,
    route: String,
    ms: f64,
    status: f64,
}

/// The merchant and minutes of a query, if it is exactly the edge's query for them.
fn understood(sql: &str) -> Option<(String, u32)> {
    let merchant = sql.split("index1 = '").nth(1)?.split('\'').next()?;
    let minutes: u32 = sql
        .split("INTERVAL '")
        .nth(1)?
        .split('\'')
        .next()?
        .parse()
        .ok()?;
    (points_sql(merchant, minutes).as_deref() == Some(sql)).then(|| (merchant.to_string(), minutes))
}

/// The points in `log` of `merchant` since `since_ms`, newest first.
fn points(log: &str, merchant: &str, since_ms: f64) -> Vec<Point> {
    let mut found: Vec<(f64, Point)> = log
        .lines()
        .filter_map(|line| line.find('{').and_then(|start| line.get(start..)))
        .filter_map(|json| serde_json::from_str::<Line>(json).ok())
        .filter(|line| line.merchant.as_deref() == Some(merchant) && line.ts > since_ms)
        .map(|line| {
            let point = Point {
                route: line.route,
                ms: line.ms,
                status: line.status,
            };
            (line.ts, point)
        })
        .collect();
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    found.into_iter().map(|(_, point)| point).collect()
}

pub async fn sql(body: String) -> Result<Json<SqlAnswer>, Reply> {
    let (merchant, minutes) = understood(body.trim()).ok_or_else(|| {
        error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "query_unsupported",
            "The sandbox answers only the edge's per-merchant points query.",
        )
    })?;
    let path = std::env::var("TILL_EDGE_LOG").unwrap_or_default();
    let log = std::fs::read_to_string(&path).unwrap_or_default();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64);
    let since = now_ms - f64::from(minutes) * 60_000.0;
    Ok(Json(SqlAnswer {
        data: points(&log, &merchant, since),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_the_edges_query_from_its_log_lines() {
        let log = "[wrangler:info] GET /v1/payments 200 OK (3ms)\n\
            {\"level\":\"info\",\"ts\":1000,\"merchant\":\"mer_demo\",\"route\":\"/v1/payments\",\"ms\":3.0,\"status\":200}\n\
            {\"level\":\"info\",\"ts\":3000,\"merchant\":\"mer_demo\",\"route\":\"/v1/refunds\",\"ms\":9.0,\"status\":502}\n\
            {\"level\":\"info\",\"ts\":4000,\"merchant\":\"mer_other\",\"route\":\"/v1/refunds\",\"ms\":1.0,\"status\":200}\n\
            {\"level\":\"info\",\"ts\":4000,\"merchant\":null,\"route\":\"page\",\"ms\":1.0,\"status\":200}\n";
        let found = points(log, "mer_demo", 500.0);
        let routes: Vec<&str> = found.iter().map(|p| p.route.as_str()).collect();
        assert_eq!(routes, vec!["/v1/refunds", "/v1/payments"]);
        assert_eq!(points(log, "mer_demo", 2000.0).len(), 1);
        let sql = points_sql("mer_demo", 15).unwrap();
        assert_eq!(understood(&sql), Some(("mer_demo".to_string(), 15)));
        assert_eq!(understood("SELECT * FROM till_requests"), None);
        assert_eq!(understood(&sql.replace("LIMIT", "OFFSET")), None);
    }
}
