//! After confirmation: 3-D Secure challenges, manual capture, cancel, refunds.

use serde_json::{json, Value};
use till_e2e::{new_key, Session, Till, PUBLISHABLE_KEY, SECRET_KEY};

/// A payment confirmed with `number` on a fresh session.
async fn confirmed(
    till: &Till,
    amount: i64,
    capture_method: &str,
    number: &str,
) -> (Session, Value) {
    let session = till.create_session_with(amount, capture_method).await;
    let token = till.token(&session, number).await;
    let (status, _, payment) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 200, "{payment}");
    (session, payment)
}

async fn challenge(till: &Till, session: &Session, payment: &Value, otp: &str) -> (u16, Value) {
    let id = payment["id"].as_str().unwrap();
    till.post(
        &format!("/v1/payments/{id}/challenge"),
        PUBLISHABLE_KEY,
        &json!({ "client_secret": session.client_secret, "otp": otp }),
    )
    .await
}

async fn with_key(till: &Till, path: &str, key: &str, body: &Value) -> (u16, bool, Value) {
    let response = till
        .http
        .post(till.url(path))
        .bearer_auth(SECRET_KEY)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let replayed = response.headers().contains_key("Idempotent-Replayed");
    let (status, body) = till_e2e::json_of(response).await;
    (status, replayed, body)
}

#[tokio::test]
async fn a_challenge_passes_with_the_right_code() {
    let till = Till::default();
    let (session, payment) = confirmed(&till, 3100, "automatic", "4000002760003184").await;
    assert_eq!(payment["status"], "requires_action");
    assert_eq!(
        payment["next_action"],
        json!({ "type": "otp_challenge", "attempts_remaining": 3 })
    );
    assert_eq!(till.session_state(&session).await["status"], "processing");

    let (status, body) = challenge(&till, &session, &payment, "12345").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("otp_invalid"))
    );
    let (status, wrong) = challenge(&till, &session, &payment, "000000").await;
    assert_eq!(status, 200);
    assert_eq!(wrong["status"], "requires_action");
    assert_eq!(wrong["next_action"]["attempts_remaining"], 2);
    let (status, passed) = challenge(&till, &session, &payment, "123456").await;
    assert_eq!(status, 200, "{passed}");
    assert_eq!(passed["status"], "succeeded");
    assert_eq!(passed["amount_captured"], 3100);
    assert_eq!(passed["next_action"], Value::Null);
    assert_eq!(till.session_state(&session).await["status"], "complete");
    let (status, body) = challenge(&till, &session, &payment, "123456").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("payment_invalid_state"))
    );
    assert_eq!(
        till.gateway_authorizations(payment["id"].as_str().unwrap())
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_challenge_fails_after_three_wrong_codes_or_a_decline() {
    let till = Till::default();
    let (session, payment) = confirmed(&till, 3200, "automatic", "4000000000003220").await;
    for left in [2, 1] {
        let (_, body) = challenge(&till, &session, &payment, "999999").await;
        assert_eq!(body["next_action"]["attempts_remaining"], left);
    }
    let (_, failed) = challenge(&till, &session, &payment, "999999").await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["failure_code"], "authentication_failed");
    assert_eq!(
        till.session_state(&session).await["status"],
        "open",
        "the customer may try again"
    );

    let (session, payment) = confirmed(&till, 3300, "automatic", "4000008400001629").await;
    let (_, declined) = challenge(&till, &session, &payment, "123456").await;
    assert_eq!(declined["status"], "failed");
    assert_eq!(declined["failure_code"], "card_declined");
}

#[tokio::test]
async fn manual_capture_takes_all_or_part_once() {
    let till = Till::default();
    let (session, payment) = confirmed(&till, 5000, "manual", "4242424242424242").await;
    assert_eq!(payment["status"], "requires_capture");
    assert_eq!(payment["capture_method"], "manual");
    assert_eq!(payment["amount_captured"], 0);
    assert_eq!(till.session_state(&session).await["status"], "complete");
    let path = format!("/v1/payments/{}/capture", payment["id"].as_str().unwrap());

    let missing = till
        .http
        .post(till.url(&path))
        .bearer_auth(SECRET_KEY)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let (status, body) = till_e2e::json_of(missing).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("idempotency_key_missing"))
    );
    let (status, _, body) = with_key(&till, &path, &new_key(), &json!({ "amount": 5001 })).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("amount_invalid"))
    );

    let key = new_key();
    let (status, replayed, captured) =
        with_key(&till, &path, &key, &json!({ "amount": 3000 })).await;
    assert_eq!((status, replayed), (200, false), "{captured}");
    assert_eq!(captured["status"], "succeeded");
    assert_eq!(captured["amount_captured"], 3000);
    let (status, replayed, again) = with_key(&till, &path, &key, &json!({ "amount": 3000 })).await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(again, captured);
    let (status, _, body) = with_key(&till, &path, &new_key(), &json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("payment_invalid_state"))
    );
}

#[tokio::test]
async fn cancel_voids_an_uncaptured_payment_only() {
    let till = Till::default();
    let (_, payment) = confirmed(&till, 4100, "manual", "4242424242424242").await;
    let path = format!("/v1/payments/{}/cancel", payment["id"].as_str().unwrap());
    let (status, _, canceled) = with_key(&till, &path, &new_key(), &json!({})).await;
    assert_eq!(status, 200, "{canceled}");
    assert_eq!(canceled["status"], "canceled");
    let charges = till
        .gateway_authorizations(payment["id"].as_str().unwrap())
        .await;
    assert_eq!(charges[0]["status"], "voided");

    let (_, paid) = confirmed(&till, 4200, "automatic", "4242424242424242").await;
    let path = format!("/v1/payments/{}/cancel", paid["id"].as_str().unwrap());
    let (status, _, body) = with_key(&till, &path, &new_key(), &json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("payment_invalid_state"))
    );
}

#[tokio::test]
async fn refunds_are_partial_idempotent_and_never_exceed_the_capture() {
    let till = Till::default();
    let (_, payment) = confirmed(&till, 5000, "automatic", "4242424242424242").await;
    let payment_id = payment["id"].as_str().unwrap();
    let refund = |amount: Option<i64>| json!({ "payment": payment_id, "amount": amount, "reason": "requested_by_customer" });

    let key = new_key();
    let (status, replayed, first) = with_key(&till, "/v1/refunds", &key, &refund(Some(2000))).await;
    assert_eq!((status, replayed), (200, false), "{first}");
    assert_eq!(first["status"], "succeeded");
    assert_eq!(first["amount"], 2000);
    assert!(first["id"].as_str().unwrap().starts_with("re_"));
    let (status, replayed, again) = with_key(&till, "/v1/refunds", &key, &refund(Some(2000))).await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(again, first);
    let (status, _, body) = with_key(&till, "/v1/refunds", &key, &refund(Some(1000))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );

    let (status, _, body) = with_key(&till, "/v1/refunds", &new_key(), &refund(Some(3001))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("amount_too_large"))
    );
    let (status, _, rest) = with_key(&till, "/v1/refunds", &new_key(), &refund(None)).await;
    assert_eq!(status, 200);
    assert_eq!(rest["amount"], 3000);
    let (status, _, body) = with_key(&till, "/v1/refunds", &new_key(), &refund(None)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("charge_already_refunded"))
    );

    let (_, fetched) = till
        .get(&format!("/v1/payments/{payment_id}"), SECRET_KEY)
        .await;
    assert_eq!(fetched["amount_refunded"], 5000);
    let charge = &till.gateway_authorizations(payment_id).await[0];
    assert_eq!(
        charge["amount_refunded"], 5000,
        "the gateway refunded exactly that much"
    );

    let (_, declined) = confirmed(&till, 5100, "automatic", "4000000000000002").await;
    let body = json!({ "payment": declined["id"] });
    let (status, _, error) = with_key(&till, "/v1/refunds", &new_key(), &body).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (409, Some("payment_invalid_state"))
    );
}

#[tokio::test]
async fn concurrent_refunds_cannot_exceed_the_capture() {
    let till = Till::default();
    let (_, payment) = confirmed(&till, 1000, "automatic", "4242424242424242").await;
    let body = json!({ "payment": payment["id"], "amount": 400 });
    let results = futures_like_join(&till, &body, 6).await;
    let succeeded = results
        .iter()
        .filter(|(s, b)| *s == 200 && b["status"] == "succeeded")
        .count();
    assert_eq!(
        succeeded, 2,
        "only two refunds of 400 fit in 1000: {results:?}"
    );
    let (_, fetched) = till
        .get(
            &format!("/v1/payments/{}", payment["id"].as_str().unwrap()),
            SECRET_KEY,
        )
        .await;
    assert_eq!(fetched["amount_refunded"], 800);
}

async fn futures_like_join(till: &Till, body: &Value, n: usize) -> Vec<(u16, Value)> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (http, url, body) = (till.http.clone(), till.url("/v1/refunds"), body.clone());
        tasks.push(tokio::spawn(async move {
            let response = http
                .post(url)
                .bearer_auth(SECRET_KEY)
                .header("Idempotency-Key", new_key())
                .json(&body)
                .send()
                .await
                .unwrap();
            till_e2e::json_of(response).await
        }));
    }
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}
