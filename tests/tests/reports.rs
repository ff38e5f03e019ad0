//! Reports on a merchant made for the test: the summary's figures from the ledger and the
//! attempts, the fees once the reconciliation has read the settlement, the CSV export agreeing
//! with both, and the daily report sent as a webhook event.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use till_e2e::merchants::onboard;
use till_e2e::{json_of, new_key, send, Till};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

async fn pay(till: &Till, amount: i64, number: &str) -> Value {
    let session = till.create_session(amount).await;
    let token = till.token(&session, number).await;
    let (status, _, payment) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 200, "{payment}");
    payment
}

async fn summary(till: &Till, query: &str) -> Value {
    let (status, body) = till
        .get(&format!("/v1/reports/summary{query}"), &till.secret_key)
        .await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

async fn csv(till: &Till) -> (String, Vec<Vec<String>>) {
    let response = send(
        till.http
            .get(till.url("/v1/reports/balance_transactions.csv"))
            .bearer_auth(&till.secret_key),
    )
    .await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    let text = response.text().await.unwrap();
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let header = lines.next().unwrap().to_string();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

fn total<'a>(summary: &'a Value, currency: &str) -> &'a Value {
    summary["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["currency"] == currency)
        .unwrap_or_else(|| panic!("no {currency} total: {summary}"))
}

#[tokio::test]
async fn the_summary_and_the_export_agree_with_the_ledger_and_the_settlement() {
    let (_, till) = onboard("Report Shop", &[]).await;
    let visa = pay(&till, 2_500, "4242424242424242").await;
    let other_visa = pay(&till, 1_000, "4242424242424242").await;
    let mastercard = pay(&till, 4_000, "5555555555554444").await;
    assert_eq!(
        pay(&till, 3_000, "4000000000000002").await["status"],
        "failed"
    );
    assert_eq!(
        pay(&till, 3_000, "4000000000009995").await["status"],
        "failed"
    );
    let (status, refund) = till
        .post_with_key(
            "/v1/refunds",
            &till.secret_key,
            &json!({ "payment": visa["id"], "amount": 500 }),
        )
        .await;
    assert_eq!(status, 200, "{refund}");

    let today = summary(&till, "").await;
    let usd = total(&today, "USD");
    assert_eq!(
        (&usd["gross"], &usd["refunds"], &usd["fees"], &usd["net"]),
        (&json!(7_500), &json!(500), &json!(0), &json!(7_000)),
        "{today}"
    );
    assert_eq!((&usd["count"], &usd["attempts"]), (&json!(3), &json!(5)));
    assert_eq!(usd["success_rate_bps"], 6_000);
    assert_eq!(usd["average_order_value"], 2_500);
    let reasons: Vec<&str> = usd["top_decline_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["card_declined", "insufficient_funds"], "{usd}");
    assert_eq!(
        today["groups"].as_array().unwrap().len(),
        1,
        "one day, one currency"
    );

    let by_brand = summary(&till, "?group_by=brand").await;
    let brand = |name: &str| {
        by_brand["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        (&brand("visa")["gross"], &brand("visa")["refunds"]),
        (&json!(3_500), &json!(500))
    );
    assert_eq!(
        brand("visa")["attempts"],
        4,
        "three declines and the two paid visas"
    );
    assert_eq!(brand("mastercard")["gross"], 4_000);
    let by_week = summary(&till, "?group_by=week").await;
    let monday = by_week["groups"][0]["key"].as_str().unwrap().to_string();
    assert_eq!(by_week["groups"][0]["gross"], 7_500);
    let method = summary(&till, "?group_by=method").await;
    assert_eq!(method["groups"][0]["key"], "card");
    assert_eq!(summary(&till, "?currency=KRW").await["totals"], json!([]));
    assert_eq!(
        summary(&till, "?from=2020-01-01&to=2020-01-31").await["groups"],
        json!([])
    );
    let weekday = time_of(&monday);
    assert_eq!(weekday, 0, "weeks are named by their Monday ({monday})");

    // Before the reconciliation the export has the movements, without fees.
    let (header, rows) = csv(&till).await;
    assert_eq!(
        header,
        "transaction_id,created,type,source,from_account,to_account,gross,fee,net,currency,settled_on,gateway_reference,reconciliation_run"
    );
    let sources: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
    assert_eq!(
        sources,
        [
            visa["id"].as_str().unwrap(),
            other_visa["id"].as_str().unwrap(),
            mastercard["id"].as_str().unwrap(),
            refund["id"].as_str().unwrap(),
        ]
    );
    assert!(
        rows.iter().all(|r| r[7].is_empty()),
        "no fee before settlement"
    );

    // The reconciliation reads today's settlement: the fees land in the summary and the export.
    let (status, run) = till
        .post("/v1/reconciliation/runs", &till.secret_key, &json!({}))
        .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["findings"], json!([]), "{run}");
    let (_, rows) = csv(&till).await;
    let mut fees = 0;
    for row in &rows {
        let gross: i64 = row[6].parse().unwrap();
        let (fee, net): (i64, i64) = (row[7].parse().unwrap(), row[8].parse().unwrap());
        assert_eq!(row[12], run["id"].as_str().unwrap(), "{row:?}");
        assert!(!row[11].is_empty(), "the gateway's id: {row:?}");
        if row[2] == "card_payment" {
            assert_eq!(fee, gross * 29 / 1000 + 30, "the sandbox's fee: {row:?}");
            assert_eq!(net, gross - fee, "{row:?}");
            fees += fee;
        } else {
            // A refund leaves the merchant's balance: the gateway settles it negative, free.
            assert_eq!(
                (row[2].as_str(), fee, net),
                ("refund", 0, -gross),
                "{row:?}"
            );
        }
    }
    let settled = summary(&till, "").await;
    let usd = total(&settled, "USD");
    assert_eq!(usd["fees"], fees);
    assert_eq!(usd["net"], 7_500 - 500 - fees);

    for (query, param) in [
        ("?from=2026-13-01", "from"),
        ("?from=2026-02-01&to=2026-01-01", "from"),
        ("?from=2020-01-01&to=2026-01-01", "from"),
        ("?group_by=planet", "group_by"),
        ("?currency=EURO", "currency"),
        ("?limit=5", "limit"),
    ] {
        let (status, body) = till
            .get(&format!("/v1/reports/summary{query}"), &till.secret_key)
            .await;
        assert_eq!(
            (status, code(&body), body["error"]["param"].as_str()),
            (400, "parameter_invalid", Some(param)),
            "{query}"
        );
    }
    let (status, body) = till
        .get(
            "/v1/reports/balance_transactions.csv?group_by=day",
            &till.secret_key,
        )
        .await;
    assert_eq!((status, code(&body)), (400, "parameter_invalid"));
    let (_, reader) = till
        .post(
            "/v1/api_keys",
            &till.secret_key,
            &json!({ "kind": "restricted", "scopes": ["payments:read"] }),
        )
        .await;
    let (status, body) = till
        .get("/v1/reports/summary", reader["secret"].as_str().unwrap())
        .await;
    assert_eq!((status, code(&body)), (403, "permission_denied"));
}

/// Days since Monday of a `YYYY-MM-DD` date (0 for a Monday).
fn time_of(date: &str) -> i64 {
    let (start, _) = till_core::reconciliation::day_bounds(date).unwrap();
    // 1970-01-01 was a Thursday.
    (start / 86_400 + 3).rem_euclid(7)
}

type Received = Arc<Mutex<Vec<Value>>>;

async fn receive(State(received): State<Received>, body: Bytes) -> StatusCode {
    if let Ok(event) = serde_json::from_slice::<Value>(&body) {
        received.lock().unwrap().push(event);
    }
    StatusCode::OK
}

#[tokio::test]
async fn a_days_report_is_sent_to_the_merchants_endpoint() {
    let received: Received = Arc::default();
    let app = axum::Router::new()
        .route("/reports", axum::routing::post(receive))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/reports", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (_, till) = onboard("Daily Report Shop", &[]).await;
    let (status, endpoint) = till
        .post(
            "/v1/webhook_endpoints",
            &till.secret_key,
            &json!({ "url": url, "events": ["report.daily"] }),
        )
        .await;
    assert_eq!(status, 200, "{endpoint}");
    pay(&till, 1_200, "4242424242424242").await;
    let today = till_core::reconciliation::date_of(till_e2e::now());
    let (status, sent) = till
        .post(
            "/v1/reports/daily",
            &till.secret_key,
            &json!({ "date": today }),
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["groups"][0]["gross"], 1_200);
    let mut events = Vec::new();
    for _ in 0..80 {
        events = received.lock().unwrap().clone();
        if !events.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "report.daily");
    assert_eq!(events[0]["data"]["object"], sent);

    let response = send(
        till.http
            .post(till.url("/v1/reports/daily"))
            .bearer_auth(&till.secret_key)
            .json(&json!({ "date": "26-11-2026" })),
    )
    .await;
    let (status, body) = json_of(response).await;
    assert_eq!((status, code(&body)), (400, "date_invalid"), "{body}");
}

/// A payment confirmed from a browser in `country`, as Cloudflare's `CF-IPCountry` says.
async fn pay_from(till: &Till, amount: i64, country: &str) {
    let session = till.create_session(amount).await;
    let token = till.token(&session, "4242424242424242").await;
    let request = till
        .http
        .post(till.url(&format!("/v1/checkout_sessions/{}/confirm", session.id)))
        .bearer_auth(&till.publishable_key)
        .header("Idempotency-Key", new_key())
        .header("CF-IPCountry", country)
        .json(&json!({ "client_secret": session.client_secret, "token": token }));
    let (status, payment) = json_of(send(request).await).await;
    assert_eq!(
        (status, payment["status"].as_str()),
        (200, Some("succeeded")),
        "{payment}"
    );
}

#[tokio::test]
async fn a_summary_groups_payments_by_the_country_customers_paid_from() {
    let (_, till) = onboard("Country Report Shop", &[]).await;
    pay_from(&till, 1_000, "KR").await;
    pay_from(&till, 2_000, "KR").await;
    pay_from(&till, 500, "US").await;
    // Cloudflare's "unknown" and Tor codes are no country.
    pay_from(&till, 700, "XX").await;
    pay_from(&till, 300, "T1").await;
    let by_country = summary(&till, "?group_by=country").await;
    let group = |key: &str| {
        by_country["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("no {key} group: {by_country}"))
    };
    assert_eq!(
        (&group("KR")["gross"], &group("KR")["count"]),
        (&json!(3_000), &json!(2))
    );
    assert_eq!(group("US")["gross"], 500);
    assert_eq!(group("unknown")["gross"], 1_000);
    assert_eq!(by_country["groups"].as_array().unwrap().len(), 3);
}
