//! Payouts (withdrawals from a wallet to a bank account) through the real edge and the
//! sandbox's bank: the money is reserved at once, paid, failed or returned as the bank says,
//! every step in the ledger, exactly once, and told to the merchant by webhook.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use till_e2e::wallet::{self, payout_body, CLOSED_ACCOUNT, NO_ACCOUNT, PAID_ACCOUNT};
use till_e2e::{new_key, Till};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// The kinds of the entries of `account` that belong to `source`, oldest first.
async fn kinds_of(till: &Till, account: &str, source: &str) -> Vec<(String, i64)> {
    till.entries_of(account)
        .await
        .iter()
        .filter(|e| e["source"] == source)
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or_default().to_string(),
                e["amount"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

/// A customer whose wallet holds `amount` US cents.
async fn funded(till: &Till, amount: i64) -> String {
    let customer = till.new_customer().await;
    till.top_up(&customer, amount).await;
    customer
}

type Events = Arc<Mutex<Vec<Value>>>;

async fn collect(State(events): State<Events>, body: Bytes) -> StatusCode {
    if let Ok(event) = serde_json::from_slice(&body) {
        events.lock().unwrap().push(event);
    }
    StatusCode::OK
}

/// A local receiver subscribed to the wallet merchant's payout events.
async fn payout_events(till: &Till) -> Events {
    let events = Events::default();
    let app = axum::Router::new()
        .route("/payouts", axum::routing::post(collect))
        .with_state(events.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/payouts", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (status, endpoint) = till
        .post(
            "/v1/webhook_endpoints",
            &till.secret_key,
            &json!({ "url": url, "events": ["payout.created", "payout.paid",
                                             "payout.failed", "payout.returned"] }),
        )
        .await;
    assert_eq!(status, 200, "{endpoint}");
    events
}

/// The event types received for one payout, once `expected` many have come (10 s at most).
async fn events_of(events: &Events, payout: &str, expected: usize) -> Vec<String> {
    let mut kinds = Vec::new();
    for _ in 0..40 {
        kinds = events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["data"]["object"]["id"] == payout)
            .map(|e| e["type"].as_str().unwrap_or_default().to_string())
            .collect();
        if kinds.len() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    kinds.sort();
    kinds
}

#[tokio::test]
async fn a_payout_is_reserved_at_once_paid_once_and_written_to_the_ledger() {
    let till = wallet::till();
    let events = payout_events(&till).await;
    let customer = funded(&till, 5_000).await;

    let body = payout_body(&customer, 3_000, "0001-2345-6789");
    let key = new_key();
    let (status, replayed, payout) = till.payout_with_key(&body, &key).await;
    assert_eq!((status, replayed), (200, false), "{payout}");
    let id = payout["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("po_"));
    assert!(
        matches!(payout["status"].as_str(), Some("pending" | "processing")),
        "{payout}"
    );
    // The account number is never shown again past its last four digits.
    assert_eq!(
        payout["bank_account"],
        json!({ "holder_name": "Jiwoo Kim", "routing_number": "110000000", "last4": "6789" })
    );
    assert!(!payout.to_string().contains("000123456789"));
    // Reserved at once: the wallet cannot promise the same money twice.
    assert_eq!(till.wallet(&customer).await, 2_000);

    // The same request again is the same payout, not a second one.
    let (status, replayed, again) = till.payout_with_key(&body, &key).await;
    assert_eq!((status, replayed, &again["id"]), (200, true, &payout["id"]));
    let other = payout_body(&customer, 1_000, PAID_ACCOUNT);
    let (status, _, reused) = till.payout_with_key(&other, &key).await;
    assert_eq!(status, 422, "{reused}");

    let paid = till.payout_reaches(&id, "paid").await;
    assert_eq!(paid["failure_code"], Value::Null);
    assert_eq!(till.wallet(&customer).await, 2_000);
    let wallet_account = format!("wallet:{customer}:USD");
    assert_eq!(
        kinds_of(&till, &wallet_account, &id).await,
        [("payout_requested".to_string(), -3_000)]
    );
    assert_eq!(
        kinds_of(&till, "payout_clearing:USD", &id).await,
        [
            ("payout_requested".to_string(), 3_000),
            ("payout_paid".to_string(), -3_000)
        ]
    );
    assert_eq!(
        kinds_of(&till, "paid_out:USD", &id).await,
        [("payout_paid".to_string(), 3_000)]
    );
    assert_eq!(
        events_of(&events, &id, 2).await,
        ["payout.created", "payout.paid"]
    );
    let (status, missing) = till
        .get(
            &format!("/v1/payouts/{}", id.replace("po_", "po_0")),
            &till.secret_key,
        )
        .await;
    assert_eq!((status, code(&missing)), (404, "resource_missing"));
}

#[tokio::test]
async fn a_failed_or_returned_payout_gives_the_money_back() {
    let till = wallet::till();
    let events = payout_events(&till).await;
    let customer = funded(&till, 4_000).await;

    let (status, failing) = till.payout(&customer, 1_500, NO_ACCOUNT).await;
    assert_eq!(status, 200, "{failing}");
    let (status, returning) = till.payout(&customer, 2_000, CLOSED_ACCOUNT).await;
    assert_eq!(status, 200, "{returning}");
    assert_eq!(till.wallet(&customer).await, 500);

    let failed_id = failing["id"].as_str().unwrap();
    let failed = till.payout_reaches(failed_id, "failed").await;
    assert_eq!(failed["failure_code"], "no_account");
    let returned_id = returning["id"].as_str().unwrap();
    let returned = till.payout_reaches(returned_id, "returned").await;
    assert_eq!(returned["failure_code"], "account_closed");
    assert_eq!(till.wallet(&customer).await, 4_000);

    let wallet_account = format!("wallet:{customer}:USD");
    assert_eq!(
        kinds_of(&till, &wallet_account, failed_id).await,
        [
            ("payout_requested".to_string(), -1_500),
            ("payout_failed".to_string(), 1_500)
        ]
    );
    assert_eq!(
        kinds_of(&till, &wallet_account, returned_id).await,
        [
            ("payout_requested".to_string(), -2_000),
            ("payout_returned".to_string(), 2_000)
        ]
    );
    assert_eq!(
        kinds_of(&till, "paid_out:USD", returned_id).await,
        [
            ("payout_paid".to_string(), 2_000),
            ("payout_returned".to_string(), -2_000)
        ]
    );
    assert_eq!(
        events_of(&events, failed_id, 2).await,
        ["payout.created", "payout.failed"]
    );
    assert_eq!(
        events_of(&events, returned_id, 3).await,
        ["payout.created", "payout.paid", "payout.returned"]
    );
}

#[tokio::test]
async fn a_refused_payout_changes_nothing() {
    let till = wallet::till();
    let customer = funded(&till, 1_000).await;
    let mut bad_account = payout_body(&customer, 100, PAID_ACCOUNT);
    bad_account["bank_account"]["account_number"] = json!("12");
    let mut bad_name = payout_body(&customer, 100, PAID_ACCOUNT);
    bad_name["bank_account"]["holder_name"] = json!("\u{202e}\u{0}");
    let mut unknown_field = payout_body(&customer, 100, PAID_ACCOUNT);
    unknown_field["speed"] = json!("instant");
    let other_merchant = Till::default();
    let stranger = other_merchant.new_customer().await;
    for (body, status, expected) in [
        (
            payout_body(&customer, 1_001, PAID_ACCOUNT),
            402,
            "balance_insufficient",
        ),
        (
            payout_body(&customer, 0, PAID_ACCOUNT),
            400,
            "amount_invalid",
        ),
        (bad_account, 400, "bank_account_invalid"),
        (bad_name, 400, "bank_account_invalid"),
        (unknown_field, 400, "parameter_invalid"),
        (
            payout_body(&stranger, 100, PAID_ACCOUNT),
            404,
            "resource_missing",
        ),
        (
            payout_body("cus_../../x", 100, PAID_ACCOUNT),
            404,
            "resource_missing",
        ),
    ] {
        let (got, answer) = till
            .post_with_key("/v1/payouts", &till.secret_key, &body)
            .await;
        assert_eq!((got, code(&answer)), (status, expected), "{body}: {answer}");
    }
    let (status, unkeyed) = till
        .post(
            "/v1/payouts",
            &till.secret_key,
            &payout_body(&customer, 100, PAID_ACCOUNT),
        )
        .await;
    assert_eq!(status, 400, "{unkeyed}");
    assert_eq!(till.wallet(&customer).await, 1_000);
    assert!(till
        .entries_of(&format!("wallet:{customer}:USD"))
        .await
        .iter()
        .all(|e| e["kind"] != "payout_requested"));

    // Concurrent payouts cannot take more than the wallet holds.
    let requests = (0..8).map(|_| till.payout(&customer, 300, PAID_ACCOUNT));
    let answers = futures_util::future::join_all(requests).await;
    let taken = answers.iter().filter(|(status, _)| *status == 200).count();
    let refused = answers
        .iter()
        .filter(|(status, body)| *status == 402 && code(body) == "balance_insufficient")
        .count();
    assert_eq!((taken, refused), (3, 5), "{answers:?}");
    assert_eq!(till.wallet(&customer).await, 100);
}

#[tokio::test]
async fn the_poller_finishes_payouts_the_bank_never_answered_or_never_told_of() {
    let till = wallet::till();
    // The bank is down for the first request of 1,301, and loses every webhook of 1,302.
    till.fault(json!({ "amount": 1_301, "fail_times": 1 }))
        .await;
    till.fault(json!({ "amount": 1_302, "webhook_drop": true }))
        .await;
    let customer = funded(&till, 5_000).await;

    let (status, unsent) = till.payout(&customer, 1_301, PAID_ACCOUNT).await;
    assert_eq!((status, unsent["status"].as_str()), (200, Some("pending")));
    let (status, untold) = till.payout(&customer, 1_302, PAID_ACCOUNT).await;
    assert_eq!(
        (status, untold["status"].as_str()),
        (200, Some("processing"))
    );
    assert_eq!(till.wallet(&customer).await, 5_000 - 1_301 - 1_302);

    // Past the poller's wait (2 s here), the pending payout is sent again and the silent one
    // looked up; the bank pays each once.
    let mut done = (Value::Null, Value::Null);
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        till.run_poller().await;
        let (_, a) = till
            .get(
                &format!("/v1/payouts/{}", unsent["id"].as_str().unwrap()),
                &till.secret_key,
            )
            .await;
        let (_, b) = till
            .get(
                &format!("/v1/payouts/{}", untold["id"].as_str().unwrap()),
                &till.secret_key,
            )
            .await;
        done = (a, b);
        if done.0["status"] == "paid" && done.1["status"] == "paid" {
            break;
        }
    }
    assert_eq!(
        (done.0["status"].as_str(), done.1["status"].as_str()),
        (Some("paid"), Some("paid")),
        "{done:?}"
    );
    for payout in [&done.0, &done.1] {
        let id = payout["id"].as_str().unwrap();
        assert_eq!(
            kinds_of(&till, "paid_out:USD", id).await,
            [(
                "payout_paid".to_string(),
                payout["amount"].as_i64().unwrap()
            )]
        );
    }
    assert_eq!(till.wallet(&customer).await, 5_000 - 1_301 - 1_302);
}

#[tokio::test]
async fn bank_events_must_be_signed_by_the_bank() {
    let till = wallet::till();
    let event = json!({ "id": "evt_forged", "type": "bank_transfer.updated",
        "data": { "object": { "id": "gwbt_x", "status": "returned", "amount": 1,
                              "currency": "USD", "reference": "po_x" } } });
    let now = till_e2e::now();
    for signature in [
        String::new(),
        format!("t={now},v1={}", "0".repeat(64)),
        "garbage".to_string(),
    ] {
        let response = till
            .http
            .post(till.url("/v1/webhooks/bank"))
            .header("Gateway-Signature", &signature)
            .json(&event)
            .send()
            .await
            .unwrap();
        let (status, body) = till_e2e::json_of(response).await;
        assert_eq!((status, code(&body)), (400, "signature_invalid"), "{body}");
    }
}
