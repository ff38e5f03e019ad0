//! The gateway misbehaves (slow, silent, failing): the payment ends right and is charged once.
//! Runs in its own test binary, apart from the concurrency load.

use serde_json::json;
use std::time::Duration;
use till_e2e::{new_key, Session, Till};

/// A fresh session and token whose amount is unique to the test, so its fault touches no other.
async fn prepared(till: &Till, amount: i64) -> (Session, String) {
    let session = till.create_session(amount).await;
    let token = till.token(&session, "4242424242424242").await;
    (session, token)
}

async fn assert_charged_once(till: &Till, session: &Session) {
    let payment = till.payment_of(session).await;
    assert_eq!(payment["status"], "succeeded");
    let charges = till
        .gateway_authorizations(payment["id"].as_str().unwrap())
        .await;
    assert_eq!(charges.len(), 1, "one charge at the gateway");
    assert_eq!(till.session_state(session).await["status"], "complete");
}

#[tokio::test]
async fn a_slow_gateway_leaves_the_payment_processing_until_a_retry_resolves_it() {
    let till = Till::default();
    let (session, token) = prepared(&till, 60_501).await;
    // The edge gives up after 2 s in tests; the gateway answers after 3.5 s.
    till.fault(json!({ "amount": 60_501, "latency_ms": 3500 }))
        .await;
    let key = new_key();
    let (status, _, body) = till.confirm(&session, &token, &key).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("gateway_unavailable"))
    );
    assert_eq!(till.payment_of(&session).await["status"], "processing");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (status, replayed, payment) = till.confirm(&session, &token, &key).await;
    assert_eq!((status, replayed), (200, false), "{payment}");
    assert_eq!(payment["status"], "succeeded");
    assert_charged_once(&till, &session).await;
}

#[tokio::test]
async fn a_charge_whose_answer_is_lost_is_found_not_repeated() {
    let till = Till::default();
    let (session, token) = prepared(&till, 60_502).await;
    till.fault(json!({ "amount": 60_502, "drop_response": true }))
        .await;
    let key = new_key();
    let (status, _, _) = till.confirm(&session, &token, &key).await;
    assert_eq!(status, 502);
    let (status, _, payment) = till.confirm(&session, &token, &key).await;
    assert_eq!(status, 200, "{payment}");
    assert_eq!(payment["status"], "succeeded");
    assert_charged_once(&till, &session).await;
}

#[tokio::test]
async fn a_gateway_error_once_is_retried_safely() {
    let till = Till::default();
    let (session, token) = prepared(&till, 60_503).await;
    till.fault(json!({ "amount": 60_503, "fail_times": 1 }))
        .await;
    let key = new_key();
    let (status, _, body) = till.confirm(&session, &token, &key).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("gateway_unavailable"))
    );
    let (status, _, payment) = till.confirm(&session, &token, &key).await;
    assert_eq!(
        (status, payment["status"].as_str()),
        (200, Some("succeeded"))
    );
    assert_charged_once(&till, &session).await;
}

#[tokio::test]
async fn an_amount_ending_in_0408_times_out_and_is_settled_once() {
    let till = Till::default();
    let (session, token) = prepared(&till, 10_408).await;
    let key = new_key();
    let (status, _, body) = till.confirm(&session, &token, &key).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("gateway_unavailable"))
    );
    // The gateway's webhook, or this retry, brings the answer; either way one charge.
    let (status, _, payment) = till.confirm(&session, &token, &key).await;
    assert_eq!(
        (status, payment["status"].as_str()),
        (200, Some("succeeded"))
    );
    assert_charged_once(&till, &session).await;
}
