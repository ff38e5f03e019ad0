//! A retry after the edge lost everything it held in memory (wrangler dev killed and started
//! again on the same state) still gets the first request's answer: the key's Durable Object is
//! where a replay comes from, not the isolate. Its own test binary, so the restart disturbs no
//! other test.

use serde_json::json;
use std::time::Duration;
use till_e2e::{json_of, new_key, restart_edge, send, Session, Till};

/// A session paid with its own key: the session, the token, the key and the answer's body.
async fn paid(till: &Till, amount: i64) -> (Session, String, String, serde_json::Value) {
    let session = till.create_session(amount).await;
    let token = till.token(&session, "4242424242424242").await;
    let key = new_key();
    let (status, replayed, payment) = till.confirm(&session, &token, &key).await;
    assert_eq!(
        (status, replayed, payment["status"].as_str()),
        (200, false, Some("succeeded")),
        "{payment}"
    );
    (session, token, key, payment)
}

#[tokio::test]
async fn a_replay_after_the_edge_restarted_is_the_first_answer_from_the_keys_object() {
    let till = Till::default();
    let (session, token, key, first) = paid(&till, 61_201).await;
    let (other, _, other_key, _) = paid(&till, 61_202).await;
    // The answers' records are completed after the answers went out: give that a moment.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    restart_edge().await;

    let (status, replayed, again) = till.confirm(&session, &token, &key).await;
    assert_eq!((status, replayed), (200, true), "{again}");
    assert_eq!(
        again, first,
        "the stored answer, byte for byte the same payment"
    );
    assert_eq!(
        till.gateway_authorizations(first["id"].as_str().unwrap())
            .await
            .len(),
        1,
        "the replay reached no gateway"
    );

    // A body that cannot run still meets the key's stored answer first: under this key it is
    // another request (422), where a fresh key gets the body's own fault (400).
    let malformed = |key: &str| {
        till.http
            .post(till.url(&format!("/v1/checkout_sessions/{}/confirm", other.id)))
            .bearer_auth(&till.publishable_key)
            .header("Idempotency-Key", key)
            .json(&json!({ "client_secret": other.client_secret, "token": 7 }))
    };
    let (status, reused) = json_of(send(malformed(&other_key)).await).await;
    assert_eq!(
        (status, reused["error"]["code"].as_str()),
        (422, Some("idempotency_key_reused")),
        "{reused}"
    );
    let (status, fault) = json_of(send(malformed(&new_key())).await).await;
    assert_eq!(
        (status, fault["error"]["code"].as_str()),
        (400, Some("parameter_invalid")),
        "{fault}"
    );
}
