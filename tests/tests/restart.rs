//! The edge dies in the middle of a payment (wrangler dev is killed and started again on the same
//! state): the retry still charges once and ends right. Its own test binary, so the restart
//! disturbs no other test.

use serde_json::json;
use std::time::Duration;
use till_e2e::{new_key, restart_edge, Till};

#[tokio::test]
async fn an_edge_killed_mid_payment_still_charges_once() {
    let till = Till::default();
    let session = till.create_session(60_701).await;
    let token = till.token(&session, "4242424242424242").await;
    // The gateway takes 3 s and its webhook is lost: only Till's own recovery can settle this.
    till.fault(json!({ "amount": 60_701, "latency_ms": 3000, "webhook_drop": true }))
        .await;
    let key = new_key();

    let in_flight = {
        let (http, url) = (
            till.http.clone(),
            till.url(&format!("/v1/checkout_sessions/{}/confirm", session.id)),
        );
        let body = json!({ "client_secret": session.client_secret, "token": token });
        let key = key.clone();
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(till_e2e::PUBLISHABLE_KEY)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    };
    tokio::time::sleep(Duration::from_millis(800)).await;
    restart_edge().await;
    let first = in_flight.await.unwrap();
    assert_ne!(
        first.ok(),
        Some(200),
        "the first request died with the edge"
    );

    // The same key again: "in progress" until the dead owner is stale, then recovered from the
    // gateway's record, never authorized a second time.
    let mut answer = None;
    let url = till.url(&format!("/v1/checkout_sessions/{}/confirm", session.id));
    let body = json!({ "client_secret": session.client_secret, "token": token });
    for _ in 0..60 {
        let response = till
            .http
            .post(&url)
            .bearer_auth(till_e2e::PUBLISHABLE_KEY)
            .header("Idempotency-Key", &key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        if status == 200 {
            answer = Some(serde_json::from_str::<serde_json::Value>(&text).unwrap());
            break;
        }
        assert!(matches!(status, 409 | 502 | 503), "{status}: {text}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let payment = answer.expect("a final answer after the restart");
    assert_eq!(payment["status"], "succeeded");
    let charges = till
        .gateway_authorizations(payment["id"].as_str().unwrap())
        .await;
    assert_eq!(charges.len(), 1, "one charge at the gateway");
    assert_eq!(till.session_state(&session).await["status"], "complete");
}
