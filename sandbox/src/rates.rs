//! An FX reference-rate publisher in the European Central Bank's format, so the edge reads the
//! sandbox exactly as it would read the ECB:
//!
//! - `GET /v1/rates/eurofxref-daily.xml` (public, as the ECB's is): the day's rates against
//!   the euro from `sandbox/rates.csv`, dated today (UTC).
//! - `POST /v1/control/rates {date: "YYYY-MM-DD" | null}` (tests): publish as of another day (an
//!   old one makes the edge's rates stale); `null` goes back to today.
//! - `GET /v1/rates/intraday?from=USD&to=KRW` (public): a live rate for one pair, as a market
//!   data feed gives it: the day's cross rate moved by a drift of up to ±0.2 % that changes
//!   every hour, as exact decimal text, with the time it was taken.
//! - `POST /v1/control/intraday {drift_bps: -20..=20 | null, available: bool}` (tests): a fixed
//!   drift, or the feed down (503).

use crate::gateway::{error, Gateway, Reply};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use till_core::fx::{decimal_text, parse_date, parse_decimal, Exact, ReferenceRates, BPS};
use till_core::money::Currency;

/// `sandbox/rates.csv`: (currency, rate as published), checked once.
fn table() -> &'static [(Currency, String)] {
    static TABLE: OnceLock<Vec<(Currency, String)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("../rates.csv")
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.starts_with('#') && !line.trim().is_empty())
            .map(|(n, line)| {
                let (code, rate) = line
                    .split_once(',')
                    .unwrap_or_else(|| panic!("sandbox/rates.csv line {}: currency,rate", n + 1));
                let currency = Currency::parse(code)
                    .unwrap_or_else(|e| panic!("sandbox/rates.csv line {}: {e}", n + 1));
                assert!(
                    parse_decimal(rate).is_some(),
                    "sandbox/rates.csv line {}: {rate:?} is not a rate",
                    n + 1
                );
                (currency, rate.to_string())
            })
            .collect()
    })
}

/// Today in UTC.
fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// The ECB's document for `date` with the table's rates.
fn document(date: time::Date) -> String {
    let cubes: String = table()
        .iter()
        .map(|(currency, rate)| format!("\t\t\t<Cube currency='{currency}' rate='{rate}'/>\n"))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <gesmes:Envelope xmlns:gesmes=\"http://www.gesmes.org/xml/2002-08-01\" \
         xmlns=\"http://www.ecb.int/vocabulary/2002-08-01/eurofxref\">\n\
         \t<gesmes:subject>Reference rates</gesmes:subject>\n\
         \t<gesmes:Sender>\n\t\t<gesmes:name>Till sandbox</gesmes:name>\n\t</gesmes:Sender>\n\
         \t<Cube>\n\t\t<Cube time='{date}'>\n{cubes}\t\t</Cube>\n\t</Cube>\n\
         </gesmes:Envelope>\n"
    )
}

pub async fn daily(State(gateway): State<Gateway>) -> impl IntoResponse {
    let date = gateway.ledger().rates_date.unwrap_or_else(today);
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        document(date),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishAs {
    date: Option<String>,
}

pub async fn control(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Result<Json<PublishAs>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let invalid = || {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "date is YYYY-MM-DD or null",
        )
    };
    let Ok(Json(request)) = body else {
        return invalid();
    };
    let date = match request.date.as_deref() {
        None => None,
        Some(text) => match parse_date(text) {
            Some(date) => Some(date),
            None => return invalid(),
        },
    };
    gateway.ledger().rates_date = date;
    let shown = date.unwrap_or_else(today).to_string();
    (StatusCode::OK, Json(serde_json::json!({ "date": shown })))
}

/// The largest drift of intraday rates from the reference rates, in basis points.
const MAX_DRIFT_BPS: i64 = 20;

/// The drift for the hour `unix_seconds` falls in: a walk over -20..=20 bps.
fn hourly_drift(unix_seconds: i64) -> i64 {
    let hour = unix_seconds.div_euclid(3_600);
    (hour * 7).rem_euclid(2 * MAX_DRIFT_BPS + 1) - MAX_DRIFT_BPS
}

/// The table's rates as of `date`.
fn reference(date: time::Date) -> ReferenceRates {
    let per_euro: BTreeMap<Currency, Exact> = table()
        .iter()
        .filter_map(|(currency, rate)| Some((*currency, parse_decimal(rate)?)))
        .collect();
    ReferenceRates::new(date, per_euro)
}

#[derive(Debug, Deserialize)]
pub struct Pair {
    from: String,
    to: String,
}

pub async fn intraday(
    State(gateway): State<Gateway>,
    query: Result<axum::extract::Query<Pair>, axum::extract::rejection::QueryRejection>,
) -> Reply {
    let (drift, down, date) = {
        let ledger = gateway.ledger();
        (
            ledger.intraday_drift_bps,
            ledger.intraday_down,
            ledger.rates_date.unwrap_or_else(today),
        )
    };
    if down {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "intraday rates are not being published",
        );
    }
    let invalid = || {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "from and to are ISO 4217 currency codes",
        )
    };
    let Ok(axum::extract::Query(pair)) = query else {
        return invalid();
    };
    let (Ok(from), Ok(to)) = (Currency::parse(&pair.from), Currency::parse(&pair.to)) else {
        return invalid();
    };
    let Ok(rate) = reference(date).rate(from, to) else {
        return error(
            StatusCode::NOT_FOUND,
            "no_rate",
            "no intraday rate for this pair",
        );
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let drift = drift.unwrap_or_else(|| hourly_drift(now));
    let moved = rate.value() * Exact::new(BPS + i128::from(drift), BPS);
    let body = serde_json::json!({
        "object": "intraday_rate",
        "from": from,
        "to": to,
        "rate": decimal_text(moved, 8),
        "as_of": now,
    });
    (StatusCode::OK, Json(body))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntradayControl {
    drift_bps: Option<i64>,
    #[serde(default = "published")]
    available: bool,
}

fn published() -> bool {
    true
}

pub async fn control_intraday(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    body: Result<Json<IntradayControl>, axum::extract::rejection::JsonRejection>,
) -> Reply {
    if let Err(reply) = gateway.authenticated(&headers) {
        return reply;
    }
    let request = match body {
        Ok(Json(request))
            if request
                .drift_bps
                .is_none_or(|bps| (-MAX_DRIFT_BPS..=MAX_DRIFT_BPS).contains(&bps)) =>
        {
            request
        }
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "drift_bps is -20 to 20 or null; available is a boolean",
            )
        }
    };
    let mut ledger = gateway.ledger();
    ledger.intraday_drift_bps = request.drift_bps;
    ledger.intraday_down = !request.available;
    (
        StatusCode::OK,
        Json(serde_json::json!({ "drift_bps": request.drift_bps, "available": request.available })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use till_core::fx::ReferenceRates;

    #[test]
    fn the_published_document_is_what_the_core_reads_for_every_currency_but_the_euro() {
        let date = time::Date::from_calendar_date(2026, time::Month::November, 26).unwrap();
        let rates = ReferenceRates::parse_ecb(&document(date)).unwrap();
        assert_eq!(rates.date, date);
        let usd = Currency::parse("USD").unwrap();
        let krw = Currency::parse("KRW").unwrap();
        let bhd = Currency::parse("BHD").unwrap();
        let per_usd = |to| rates.rate(usd, to).unwrap().value();
        assert_eq!(
            per_usd(krw),
            parse_decimal("1216.36").unwrap() / parse_decimal("1.0556").unwrap()
        );
        // The peg holds to five significant digits: 1 BHD is 2.6525 US dollars.
        let bhd_in_usd = per_usd(bhd).recip();
        assert_eq!(till_core::fx::decimal_text(bhd_in_usd, 4), "2.6525");
        // Every currency Till takes has a rate (the euro is the base).
        let all = [
            "AUD", "BHD", "CAD", "CHF", "CNY", "DKK", "EUR", "GBP", "HKD", "INR", "JOD", "JPY",
            "KRW", "KWD", "NOK", "NZD", "OMR", "SEK", "SGD", "USD", "VND",
        ];
        let listed: Vec<String> = rates
            .currencies()
            .iter()
            .map(|c| c.code().to_string())
            .collect();
        assert_eq!(listed, all);
    }

    #[test]
    fn intraday_drifts_stay_within_a_fifth_of_a_percent_and_move_each_hour() {
        let drifts: Vec<i64> = (0..48)
            .map(|hour| hourly_drift(hour * 3_600 + 59))
            .collect();
        assert!(
            drifts.iter().all(|d| d.abs() <= MAX_DRIFT_BPS),
            "{drifts:?}"
        );
        assert!(drifts.windows(2).all(|w| w[0] != w[1]), "{drifts:?}");
        assert_eq!(
            hourly_drift(3_600),
            hourly_drift(7_199),
            "one drift per hour"
        );
    }

    #[test]
    fn dates_are_calendar_days() {
        assert!(parse_date("2026-02-28").is_some());
        assert!(parse_date("2026-02-30").is_none());
        assert!(parse_date("26-02-28").is_none());
    }
}
