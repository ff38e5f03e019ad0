//! The gateway misbehaves (slow, silent, failing): the payment ends right and is charged once.
//! Runs in its own test binary, apart from the concurrency load. The lost answer and the failed
//! request run against both gateways; latency is the sandbox's to inject.

use serde_json::json;
use std::time::Duration;
use till_e2e::gateways::Gateway;
use till_e2e::{new_key, on_every_gateway, Session, Till};

on_every_gateway!(
    a_charge_whose_answer_is_lost_is_found_not_repeated,
    a_gateway_error_once_is_retried_safely,
);

/// A fresh session and token for `amount`.
async fn prepared(till: &Till, gateway: Gateway, amount: i64) -> (Session, String) {
    let session = till.create_session(amount).await;
    let token = till.token(&session, gateway.cards().succeeds).await;
    (session, token)
}

async fn assert_charged_once(till: &Till, gateway: Gateway, session: &Session) {
    let payment = till.payment_of(session).await;
    assert_eq!(payment["status"], "succeeded");
    let id = payment["id"].as_str().unwrap();
    assert_eq!(
        gateway.charges(till, id).await.len(),
        1,
        "one charge at the gateway"
    );
    assert!(gateway.other().charges(till, id).await.is_empty());
    assert_eq!(till.session_state(session).await["status"], "complete");
}

async fn a_charge_whose_answer_is_lost_is_found_not_repeated(gateway: Gateway) {
    let till = gateway.merchant().await;
    let total = gateway.amount(60_502);
    let (session, token) = prepared(&till, gateway, total).await;
    gateway.lose_answer(&till, total).await;
    let key = new_key();
    let (status, _, body) = till.confirm(&session, &token, &key).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("gateway_unavailable"))
    );
    let (status, _, payment) = till.confirm(&session, &token, &key).await;
    assert_eq!(status, 200, "{payment}");
    assert_eq!(payment["status"], "succeeded");
    assert_charged_once(&till, gateway, &session).await;
}

async fn a_gateway_error_once_is_retried_safely(gateway: Gateway) {
    let till = gateway.merchant().await;
    let total = gateway.amount(60_503);
    let (session, token) = prepared(&till, gateway, total).await;
    gateway.fail_once(&till, total).await;
    let key = new_key();
    let (status, _, body) = till.confirm(&session, &token, &key).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("gateway_unavailable"))
    );
    let (status, _, payment) = till.confirm(&session, &token, &key).await;
    assert_eq!(
        (status, payment["status"].as_str()),
        (200, Some("succeeded")),
        "{payment}"
    );
    assert_charged_once(&till, gateway, &session).await;
}

#[tokio::test]
async fn a_slow_gateway_leaves_the_payment_processing_until_a_retry_resolves_it() {
    let gateway = Gateway::Sandbox;
    let till = gateway.merchant().await;
    let (session, token) = prepared(&till, gateway, 60_501).await;
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
    assert_charged_once(&till, gateway, &session).await;
}

#[tokio::test]
async fn an_amount_ending_in_0408_times_out_and_is_settled_once() {
    let gateway = Gateway::Sandbox;
    let till = gateway.merchant().await;
    let (session, token) = prepared(&till, gateway, 10_408).await;
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
    assert_charged_once(&till, gateway, &session).await;
}
