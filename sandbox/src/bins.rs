//! A BIN provider: `GET /v1/bins/{bin}` answers what a card's first digits say (issuing country
//! and funding) from the table in `sandbox/bins.csv`, or 404 when it has no record. The edge
//! asks when a card is tokenized; its risk rules read `card_country` and `card_funding`.
//! `GET /v1/bins/{bin}/lookups` says how many times a BIN was asked for, so tests can see what
//! the edge keeps.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use till_core::bin_table::BinTable;

fn lookups() -> &'static Mutex<HashMap<String, u64>> {
    static LOOKUPS: OnceLock<Mutex<HashMap<String, u64>>> = OnceLock::new();
    LOOKUPS.get_or_init(Mutex::default)
}

/// `{"lookups": n}`: how many valid requests asked for `bin`.
pub async fn lookup_count(Path(bin): Path<String>) -> Json<Value> {
    let count = lookups()
        .lock()
        .map(|counts| counts.get(&bin).copied().unwrap_or(0))
        .unwrap_or(0);
    Json(json!({ "lookups": count }))
}

fn table() -> &'static BinTable {
    static TABLE: OnceLock<BinTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        BinTable::parse(include_str!("../bins.csv"))
            .unwrap_or_else(|e| panic!("sandbox/bins.csv line {}: {}", e.line, e.message))
    })
}

pub async fn lookup(Path(bin): Path<String>) -> (StatusCode, Json<Value>) {
    if !(6..=8).contains(&bin.len()) || !bin.bytes().all(|b| b.is_ascii_digit()) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"code": "invalid_bin", "message": "a BIN is 6 to 8 digits"}})),
        );
    }
    if let Ok(mut counts) = lookups().lock() {
        *counts.entry(bin.clone()).or_insert(0) += 1;
    }
    match table().lookup(&bin) {
        Some(info) => (
            StatusCode::OK,
            Json(json!({
                "bin": bin, "country": info.country, "funding": info.funding.as_str(),
            })),
        ),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"code": "unknown_bin", "message": "no record for this BIN"}})),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_knows_the_test_cards() {
        let country = |n: &str| table().lookup(&n[..8]).map(|i| i.country.clone());
        assert_eq!(country("4242424242424242").as_deref(), Some("US"));
        assert_eq!(country("4000000760000002").as_deref(), Some("BR"));
        assert_eq!(country("4000004100000003").as_deref(), Some("KR"));
        assert_eq!(
            table().lookup("40000566").map(|i| i.funding.as_str()),
            Some("debit")
        );
        assert_eq!(country("6011111111111117"), None);
    }

    #[tokio::test]
    async fn the_endpoint_answers_a_record_a_404_or_a_400() {
        let (status, Json(body)) = lookup(Path("40000007".into())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["country"], "BR");
        assert_eq!(body["funding"], "credit");
        assert_eq!(
            lookup(Path("60111111".into())).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(lookup(Path("4242".into())).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(
            lookup(Path("42424x42".into())).await.0,
            StatusCode::BAD_REQUEST
        );
        let count = |bin: &str| lookup_count(Path(bin.into()));
        assert_eq!(count("60111111").await.0["lookups"], 1);
        assert_eq!(
            count("4242").await.0["lookups"],
            0,
            "a refused request is not counted"
        );
    }
}
