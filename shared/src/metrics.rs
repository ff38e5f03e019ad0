//! Per-route latency and error rates for a merchant's requests, from the data points the edge
//! writes to Workers Analytics Engine (one per request: merchant as index, route pattern,
//! milliseconds, status). The edge asks Analytics Engine's SQL API for a window's points and
//! summarizes them here: nearest-rank p50 and p99, and the share of answers that were Till's
//! fault (5xx).

use crate::error::{ApiError, ErrorCode};
use crate::ids::{is_valid, IdKind};
use crate::listing::check_names;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The dataset `wrangler.toml` binds as `METRICS`.
pub const DATASET: &str = "till_requests";
/// Points read per query: a busy merchant's window is sampled down to this many.
pub const MAX_POINTS: u32 = 10_000;
pub const DEFAULT_MINUTES: u32 = 60;
pub const MAX_MINUTES: u32 = 24 * 60;

/// `GET /v1/metrics/routes?minutes=`: the window, 1 to 1440 minutes (60 by default).
pub fn parse_minutes(pairs: &[(String, String)]) -> Result<u32, ApiError> {
    check_names(pairs, &["minutes"])?;
    let Some((_, value)) = pairs.iter().find(|(name, _)| name == "minutes") else {
        return Ok(DEFAULT_MINUTES);
    };
    value
        .parse::<u32>()
        .ok()
        .filter(|m| (1..=MAX_MINUTES).contains(m))
        .ok_or_else(|| {
            ApiError::new(ErrorCode::ParameterInvalid)
                .with_message(format!(
                    "minutes is a whole number from 1 to {MAX_MINUTES}."
                ))
                .with_param("minutes")
        })
}

/// The SQL for a merchant's points of the last `minutes`. Analytics Engine's SQL API takes no
/// bound parameters, so only a well-formed merchant id (`mer_` and hex, or a seeded `mer_` id of
/// lowercase letters) and a number are ever put in it.
pub fn points_sql(merchant_id: &str, minutes: u32) -> Option<String> {
    let safe = is_valid(IdKind::Merchant, merchant_id)
        || merchant_id
            .strip_prefix("mer_")
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase()));
    safe.then(|| {
        format!(
            "SELECT blob2 AS route, double1 AS ms, double2 AS status FROM {DATASET} \
             WHERE index1 = '{merchant_id}' AND timestamp > NOW() - INTERVAL '{minutes}' MINUTE \
             ORDER BY timestamp DESC LIMIT {MAX_POINTS} FORMAT JSON"
        )
    })
}

/// What the SQL API answers (`FORMAT JSON`): the rows under `data`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SqlAnswer {
    pub data: Vec<Point>,
}

/// One request as recorded.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Point {
    pub route: String,
    pub ms: f64,
    pub status: f64,
}

/// One route's figures over the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteLatency {
    pub route: String,
    pub requests: i64,
    /// Answers that were Till's fault (5xx).
    pub errors: i64,
    /// `errors` per 10,000 requests.
    pub error_rate_bps: i64,
    pub p50_ms: i64,
    pub p99_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteMetrics {
    pub object: String,
    pub minutes: u32,
    /// Busiest route first.
    pub routes: Vec<RouteLatency>,
}

/// The nearest-rank percentile (`per_mille` of 1000) of ascending `sorted` values.
pub fn percentile(sorted: &[i64], per_mille: usize) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() * per_mille).div_ceil(1000).max(1);
    sorted.get(rank - 1).copied().unwrap_or_default()
}

/// Groups points by route, busiest first (then by name).
pub fn summarize(points: &[Point]) -> Vec<RouteLatency> {
    let mut by_route: BTreeMap<&str, (Vec<i64>, i64)> = BTreeMap::new();
    for point in points {
        let entry = by_route.entry(point.route.as_str()).or_default();
        // Whole milliseconds; a negative or non-finite value from the store counts as 0.
        let ms = if point.ms.is_finite() && point.ms > 0.0 {
            point.ms.round() as i64
        } else {
            0
        };
        entry.0.push(ms);
        if point.status >= 500.0 {
            entry.1 += 1;
        }
    }
    let mut routes: Vec<RouteLatency> = by_route
        .into_iter()
        .map(|(route, (mut millis, errors))| {
            millis.sort_unstable();
            let requests = i64::try_from(millis.len()).unwrap_or(i64::MAX);
            RouteLatency {
                route: route.to_string(),
                requests,
                errors,
                error_rate_bps: errors * 10_000 / requests.max(1),
                p50_ms: percentile(&millis, 500),
                p99_ms: percentile(&millis, 990),
            }
        })
        .collect();
    routes.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.route.cmp(&b.route)));
    routes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(route: &str, ms: f64, status: f64) -> Point {
        Point {
            route: route.into(),
            ms,
            status,
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&values, 500), 50);
        assert_eq!(percentile(&values, 990), 99);
        assert_eq!(percentile(&[7], 990), 7);
        assert_eq!(percentile(&[], 500), 0);
        assert_eq!(percentile(&[1, 2], 990), 2);
    }

    #[test]
    fn routes_are_summarized_busiest_first_with_their_error_rate() {
        let mut points: Vec<Point> = (1..=100)
            .map(|i| point("/v1/payments", f64::from(i), 200.0))
            .collect();
        points.push(point("/v1/refunds", 12.4, 200.0));
        points.push(point("/v1/refunds", 80.0, 502.0));
        points.push(point("/v1/refunds", f64::NAN, 500.0));
        let routes = summarize(&points);
        assert_eq!(routes[0].route, "/v1/payments");
        assert_eq!((routes[0].p50_ms, routes[0].p99_ms), (50, 99));
        assert_eq!(routes[0].error_rate_bps, 0);
        let refunds = &routes[1];
        assert_eq!((refunds.requests, refunds.errors), (3, 2));
        assert_eq!(refunds.error_rate_bps, 6_666);
        assert_eq!((refunds.p50_ms, refunds.p99_ms), (12, 80));
    }

    #[test]
    fn only_merchant_ids_and_numbers_reach_the_sql() {
        let sql = points_sql("mer_0123456789ab4def8123456789abcdef", 60).unwrap_or_default();
        assert!(sql.contains("index1 = 'mer_0123456789ab4def8123456789abcdef'"));
        assert!(sql.contains("INTERVAL '60' MINUTE"));
        assert!(points_sql("mer_demo", 5).is_some());
        for bad in ["mer_x' OR '1'='1", "mer_", "cus_demo", "mer_DEMO", ""] {
            assert_eq!(points_sql(bad, 60), None, "{bad}");
        }
    }

    #[test]
    fn the_window_is_one_to_1440_minutes() {
        let pairs = |v: &str| vec![("minutes".to_string(), v.to_string())];
        assert_eq!(parse_minutes(&[]).unwrap(), 60);
        assert_eq!(parse_minutes(&pairs("5")).unwrap(), 5);
        for bad in ["0", "1441", "-1", "ten", ""] {
            assert!(parse_minutes(&pairs(bad)).is_err(), "{bad}");
        }
        let other = vec![("since".to_string(), "1".to_string())];
        assert!(parse_minutes(&other).is_err());
    }
}
