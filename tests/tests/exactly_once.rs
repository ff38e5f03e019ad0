//! However often a confirm is sent, and whatever the gateway does, the card is charged once and
//! every client sees the same answer.

use serde_json::json;
use std::time::Duration;
use till_e2e::{new_key, Session, Till};

const KEYS: usize = 50;
const CLIENTS_PER_KEY: usize = 20;
/// Keys confirmed at the same time (each with all its clients at once).
const KEYS_AT_ONCE: usize = 10;

/// Confirms until the answer is final: "in progress" (409), "gateway did not answer" (502) and
/// wrangler dev's "worker restarted mid-request" (503, seen under this load on 2 cores) are
/// retried with the same key, as the widget does.
async fn confirm_until_final(
    till: &Till,
    session: &Session,
    token: &str,
    key: &str,
) -> (u16, String) {
    for _ in 0..100 {
        let response = till
            .http
            .post(till.url(&format!("/v1/checkout_sessions/{}/confirm", session.id)))
            .bearer_auth(till_e2e::PUBLISHABLE_KEY)
            .header("Idempotency-Key", key)
            .json(&json!({ "client_secret": session.client_secret, "token": token }))
            .send()
            .await
            .expect("edge reachable");
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        if !matches!(status, 409 | 502 | 503) {
            return (status, body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("confirm stayed in progress")
}

#[tokio::test]
async fn a_thousand_concurrent_confirms_charge_fifty_times() {
    let till = std::sync::Arc::new(Till::default());
    let mut prepared = Vec::new();
    for n in 0..KEYS {
        let session = till.create_session(10_000 + n as i64).await;
        let token = till.token(&session, "4242424242424242").await;
        prepared.push((std::sync::Arc::new(session), token, new_key()));
    }

    let mut answers: Vec<Vec<(u16, String)>> = Vec::new();
    for batch in prepared.chunks(KEYS_AT_ONCE) {
        let mut tasks = Vec::new();
        for (session, token, key) in batch {
            for _ in 0..CLIENTS_PER_KEY {
                let (till, session, token, key) =
                    (till.clone(), session.clone(), token.clone(), key.clone());
                tasks.push(tokio::spawn(async move {
                    confirm_until_final(&till, &session, &token, &key).await
                }));
            }
        }
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("client task"));
        }
        answers.extend(results.chunks(CLIENTS_PER_KEY).map(<[_]>::to_vec));
    }

    let mut charged = 0;
    for (answers, (session, _, _)) in answers.iter().zip(&prepared) {
        let first = &answers[0];
        assert_eq!(first.0, 200, "{}", first.1);
        assert!(
            answers.iter().all(|a| a == first),
            "all {CLIENTS_PER_KEY} answers for a key are byte-identical: {answers:?}"
        );
        let payment: serde_json::Value = serde_json::from_str(&first.1).unwrap();
        assert_eq!(payment["status"], "succeeded");
        assert_eq!(payment["checkout_session"], session.id.as_str());
        charged += till
            .gateway_authorizations(payment["id"].as_str().unwrap())
            .await
            .len();
    }
    assert_eq!(
        charged, KEYS,
        "exactly one gateway charge per idempotency key"
    );
}

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
