//! However often a confirm is sent, and whatever the gateway does, the card is charged once and
//! every client sees the same answer: through the sandbox and through Stripe (localstripe).

use serde_json::json;
use std::time::Duration;
use till_e2e::gateways::Gateway;
use till_e2e::{new_key, on_every_gateway, Session, Till};

on_every_gateway!(a_thousand_concurrent_confirms_charge_fifty_times);

/// Two fresh idempotency keys of the demo merchant whose records one object holds.
fn two_keys_in_one_object() -> (String, String) {
    use till_core::idempotency::{object_name, record_name};
    let object_of = |key: &str| {
        let name = record_name("mer_demo", "checkout_sessions.confirm", key);
        object_name("mer_demo", &name)
    };
    let first = new_key();
    loop {
        let second = new_key();
        if object_of(&second) == object_of(&first) {
            return (first, second);
        }
    }
}

#[tokio::test]
async fn keys_that_share_an_object_each_keep_their_own_record() {
    let till = Till::default();
    let (first_key, second_key) = two_keys_in_one_object();
    let (first_session, second_session) = (
        till.create_session(1100).await,
        till.create_session(2200).await,
    );
    let first_token = till.token(&first_session, "4242424242424242").await;
    let second_token = till.token(&second_session, "5555555555554444").await;

    // At the same moment, in the same object: neither waits for or answers for the other.
    let ((first_status, first_replayed, first), (second_status, second_replayed, second)) = tokio::join!(
        till.confirm(&first_session, &first_token, &first_key),
        till.confirm(&second_session, &second_token, &second_key),
    );
    assert_eq!((first_status, first_replayed), (200, false), "{first}");
    assert_eq!((second_status, second_replayed), (200, false), "{second}");
    assert_eq!(first["amount"], 1100);
    assert_eq!(second["amount"], 2200);
    assert_ne!(first["id"], second["id"]);

    // Each key replays its own answer.
    let (status, replayed, again) = till.confirm(&first_session, &first_token, &first_key).await;
    assert_eq!((status, replayed, &again), (200, true, &first));
    let (status, replayed, again) = till
        .confirm(&second_session, &second_token, &second_key)
        .await;
    assert_eq!((status, replayed, &again), (200, true, &second));

    // And remembers its own request: the first key with the second's body is refused.
    let (status, _, refused) = till
        .confirm(&second_session, &second_token, &first_key)
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "idempotency_key_reused");
    for (payment, session) in [(&first, &first_session), (&second, &second_session)] {
        let id = payment["id"].as_str().expect("payment id");
        assert_eq!(
            till.gateway_authorizations(id).await.len(),
            1,
            "one charge each"
        );
        assert_eq!(till.session_state(session).await["status"], "complete");
    }
}

/// One load at a time: two at once would be more than wrangler dev's proxy takes (see
/// `KEYS_AT_ONCE`). A tokio mutex, because each test has its own runtime.
static ONE_LOAD_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const KEYS: usize = 50;
const CLIENTS_PER_KEY: usize = 20;
/// Keys confirmed at the same time (each with all its clients at once). More than 100 requests
/// at once makes wrangler dev's local proxy drop some ("worker restarted mid-request").
const KEYS_AT_ONCE: usize = 5;

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
            .bearer_auth(&till.publishable_key)
            .header("Idempotency-Key", key)
            .json(&json!({ "client_secret": session.client_secret, "token": token }))
            .send()
            .await;
        // Under this load wrangler dev's proxy sometimes resets a connection: the same
        // Idempotency-Key is safe to send again, as any client would.
        let Ok(response) = response else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let status = response.status().as_u16();
        let Ok(body) = response.text().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        if !matches!(status, 409 | 502 | 503) {
            return (status, body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("confirm stayed in progress")
}

async fn a_thousand_concurrent_confirms_charge_fifty_times(gateway: Gateway) {
    let _load = ONE_LOAD_AT_A_TIME.lock().await;
    let till = std::sync::Arc::new(gateway.merchant().await);
    let base = match gateway {
        Gateway::Sandbox => 10_000,
        Gateway::Stripe => 20_000,
    };
    let mut prepared = Vec::new();
    for n in 0..KEYS {
        let session = till.create_session(base + n as i64).await;
        let token = till.token(&session, gateway.cards().succeeds).await;
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
        let id = payment["id"].as_str().unwrap();
        charged += gateway.charges(&till, id).await.len();
        assert!(gateway.other().charges(&till, id).await.is_empty());
    }
    assert_eq!(
        charged, KEYS,
        "exactly one gateway charge per idempotency key"
    );
}
