//! After confirmation: declines, 3-D Secure challenges, manual capture, cancel, refunds. Every
//! scenario runs against the sandbox and against Stripe (localstripe): a merchant sees the same.

use serde_json::{json, Value};
use till_e2e::gateways::Gateway;
use till_e2e::{new_key, on_every_gateway, Session, Till};

on_every_gateway!(
    a_decline_fails_the_payment_and_reopens_the_session,
    a_challenge_passes_with_the_right_code,
    a_challenge_fails_after_the_wrong_codes,
    manual_capture_takes_all_or_part_once,
    cancel_voids_an_uncaptured_payment_only,
    refunds_are_partial_idempotent_and_never_exceed_the_capture,
    concurrent_refunds_cannot_exceed_the_capture,
);

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
        &till.publishable_key,
        &json!({ "client_secret": session.client_secret, "otp": otp }),
    )
    .await
}

async fn with_key(till: &Till, path: &str, key: &str, body: &Value) -> (u16, bool, Value) {
    let response = till
        .http
        .post(till.url(path))
        .bearer_auth(&till.secret_key)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let replayed = response.headers().contains_key("Idempotent-Replayed");
    let (status, body) = till_e2e::json_of(response).await;
    (status, replayed, body)
}

/// The payment is at this gateway, once, and nothing of it at the other.
async fn charged_once_here(gateway: Gateway, till: &Till, payment: &Value) -> Value {
    let id = payment["id"].as_str().unwrap();
    let mut charges = gateway.charges(till, id).await;
    assert_eq!(charges.len(), 1, "one charge at {gateway:?}: {charges:?}");
    assert!(
        gateway.other().charges(till, id).await.is_empty(),
        "nothing at {:?}",
        gateway.other()
    );
    charges.remove(0)
}

async fn a_decline_fails_the_payment_and_reopens_the_session(gateway: Gateway) {
    let till = gateway.merchant().await;
    let (session, payment) = confirmed(
        &till,
        gateway.amount(3000),
        "automatic",
        gateway.cards().declines,
    )
    .await;
    assert_eq!(payment["status"], "failed");
    assert_eq!(payment["failure_code"], "card_declined");
    assert_eq!(payment["failure_message"], "Your card was declined.");
    assert_eq!(
        till.session_state(&session).await["status"],
        "open",
        "the customer may try another card"
    );
    let token = till.token(&session, gateway.cards().succeeds).await;
    let (status, _, paid) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!((status, paid["status"].as_str()), (200, Some("succeeded")));
    charged_once_here(gateway, &till, &paid).await;
}

async fn a_challenge_passes_with_the_right_code(gateway: Gateway) {
    let till = gateway.merchant().await;
    let total = gateway.amount(3100);
    let (session, payment) = confirmed(&till, total, "automatic", gateway.cards().challenges).await;
    assert_eq!(payment["status"], "requires_action", "{payment}");
    assert_eq!(payment["next_action"]["type"], "otp_challenge");
    assert_eq!(
        payment["next_action"]["attempts_remaining"],
        gateway.challenge_attempts()
    );
    assert_eq!(till.session_state(&session).await["status"], "processing");

    let (status, body) = challenge(&till, &session, &payment, "12345").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("otp_invalid"))
    );
    let (status, passed) = challenge(&till, &session, &payment, "123456").await;
    assert_eq!(status, 200, "{passed}");
    assert_eq!(passed["status"], "succeeded");
    assert_eq!(passed["amount_captured"], total);
    assert_eq!(passed["next_action"], Value::Null);
    assert_eq!(till.session_state(&session).await["status"], "complete");
    let (status, body) = challenge(&till, &session, &payment, "123456").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("payment_invalid_state"))
    );
    charged_once_here(gateway, &till, &passed).await;
}

async fn a_challenge_fails_after_the_wrong_codes(gateway: Gateway) {
    let till = gateway.merchant().await;
    let (session, payment) = confirmed(
        &till,
        gateway.amount(3200),
        "automatic",
        gateway.cards().challenges,
    )
    .await;
    let attempts = gateway.challenge_attempts();
    for left in (1..attempts).rev() {
        let (_, body) = challenge(&till, &session, &payment, "999999").await;
        assert_eq!(body["status"], "requires_action");
        assert_eq!(body["next_action"]["attempts_remaining"], left);
    }
    let (_, failed) = challenge(&till, &session, &payment, "999999").await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["failure_code"], "authentication_failed");
    assert_eq!(
        till.session_state(&session).await["status"],
        "open",
        "the customer may try again"
    );
}

async fn manual_capture_takes_all_or_part_once(gateway: Gateway) {
    let till = gateway.merchant().await;
    let total = gateway.amount(5000);
    let (session, payment) = confirmed(&till, total, "manual", gateway.cards().succeeds).await;
    assert_eq!(payment["status"], "requires_capture");
    assert_eq!(payment["capture_method"], "manual");
    assert_eq!(payment["amount_captured"], 0);
    assert_eq!(till.session_state(&session).await["status"], "complete");
    assert_eq!(
        charged_once_here(gateway, &till, &payment).await["status"],
        "authorized"
    );
    let path = format!("/v1/payments/{}/capture", payment["id"].as_str().unwrap());

    let missing = till
        .http
        .post(till.url(&path))
        .bearer_auth(&till.secret_key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let (status, body) = till_e2e::json_of(missing).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("idempotency_key_missing"))
    );
    let too_much = json!({ "amount": total + 1 });
    let (status, _, body) = with_key(&till, &path, &new_key(), &too_much).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("amount_invalid"))
    );

    let key = new_key();
    let part = json!({ "amount": 3000 });
    let (status, replayed, captured) = with_key(&till, &path, &key, &part).await;
    assert_eq!((status, replayed), (200, false), "{captured}");
    assert_eq!(captured["status"], "succeeded");
    assert_eq!(captured["amount_captured"], 3000);
    let (status, replayed, again) = with_key(&till, &path, &key, &part).await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(again, captured);
    let (status, _, body) = with_key(&till, &path, &new_key(), &json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("payment_invalid_state"))
    );
    assert_eq!(
        charged_once_here(gateway, &till, &payment).await["status"],
        "captured"
    );
}

async fn cancel_voids_an_uncaptured_payment_only(gateway: Gateway) {
    let till = gateway.merchant().await;
    let cards = gateway.cards();
    let (_, payment) = confirmed(&till, gateway.amount(4100), "manual", cards.succeeds).await;
    let path = format!("/v1/payments/{}/cancel", payment["id"].as_str().unwrap());
    let (status, _, canceled) = with_key(&till, &path, &new_key(), &json!({})).await;
    assert_eq!(status, 200, "{canceled}");
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(
        charged_once_here(gateway, &till, &payment).await["status"],
        "voided"
    );

    let (_, paid) = confirmed(&till, gateway.amount(4200), "automatic", cards.succeeds).await;
    let path = format!("/v1/payments/{}/cancel", paid["id"].as_str().unwrap());
    let (status, _, body) = with_key(&till, &path, &new_key(), &json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("payment_invalid_state"))
    );
}

async fn refunds_are_partial_idempotent_and_never_exceed_the_capture(gateway: Gateway) {
    let till = gateway.merchant().await;
    let total = gateway.amount(5000);
    let (_, payment) = confirmed(&till, total, "automatic", gateway.cards().succeeds).await;
    let payment_id = payment["id"].as_str().unwrap();
    let refund = |amount: Option<i64>| json!({ "payment": payment_id, "amount": amount, "reason": "requested_by_customer" });

    let key = new_key();
    let (status, replayed, first) = with_key(&till, "/v1/refunds", &key, &refund(Some(2000))).await;
    assert_eq!((status, replayed), (200, false), "{first}");
    assert_eq!(first["status"], "succeeded");
    assert_eq!(first["amount"], 2000);
    assert_eq!(first["reason"], "requested_by_customer");
    assert!(first["id"].as_str().unwrap().starts_with("re_"));
    let (status, replayed, again) = with_key(&till, "/v1/refunds", &key, &refund(Some(2000))).await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(again, first);
    let (status, _, body) = with_key(&till, "/v1/refunds", &key, &refund(Some(1000))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );

    let remaining = total - 2000;
    let (status, _, body) = with_key(
        &till,
        "/v1/refunds",
        &new_key(),
        &refund(Some(remaining + 1)),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("amount_too_large"))
    );
    let (status, _, rest) = with_key(&till, "/v1/refunds", &new_key(), &refund(None)).await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(rest["amount"], remaining);
    let (status, _, body) = with_key(&till, "/v1/refunds", &new_key(), &refund(None)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("charge_already_refunded"))
    );

    let (_, fetched) = till
        .get(&format!("/v1/payments/{payment_id}"), &till.secret_key)
        .await;
    assert_eq!(fetched["amount_refunded"], total);
    assert_eq!(
        charged_once_here(gateway, &till, &payment).await["amount_refunded"],
        total,
        "the gateway refunded exactly that much"
    );

    let (_, declined) = confirmed(
        &till,
        gateway.amount(5100),
        "automatic",
        gateway.cards().declines,
    )
    .await;
    let body = json!({ "payment": declined["id"] });
    let (status, _, error) = with_key(&till, "/v1/refunds", &new_key(), &body).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (409, Some("payment_invalid_state"))
    );
}

async fn concurrent_refunds_cannot_exceed_the_capture(gateway: Gateway) {
    let till = gateway.merchant().await;
    let (_, payment) = confirmed(
        &till,
        gateway.amount(1000),
        "automatic",
        gateway.cards().succeeds,
    )
    .await;
    let body = json!({ "payment": payment["id"], "amount": gateway.amount(1000) * 2 / 5 });
    let results = all_at_once(&till, &body, 6).await;
    let succeeded = results
        .iter()
        .filter(|(s, b)| *s == 200 && b["status"] == "succeeded")
        .count();
    assert_eq!(
        succeeded, 2,
        "only two refunds of two fifths fit in the capture: {results:?}"
    );
    let (_, fetched) = till
        .get(
            &format!("/v1/payments/{}", payment["id"].as_str().unwrap()),
            &till.secret_key,
        )
        .await;
    assert_eq!(fetched["amount_refunded"], gateway.amount(1000) * 4 / 5);
}

/// Sends `n` refunds at once, each with its own key.
async fn all_at_once(till: &Till, body: &Value, n: usize) -> Vec<(u16, Value)> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (http, url, body) = (till.http.clone(), till.url("/v1/refunds"), body.clone());
        let key = till.secret_key.clone();
        tasks.push(tokio::spawn(async move {
            let response = http
                .post(url)
                .bearer_auth(key)
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

/// The sandbox's issuer can still decline once its challenge is passed (Stripe's test cards have
/// no such case).
#[tokio::test]
async fn a_sandbox_issuer_may_decline_after_the_challenge() {
    let till = Gateway::Sandbox.merchant().await;
    let (session, payment) = confirmed(&till, 3300, "automatic", "4000008400001629").await;
    let (_, declined) = challenge(&till, &session, &payment, "123456").await;
    assert_eq!(declined["status"], "failed");
    assert_eq!(declined["failure_code"], "card_declined");
    assert_eq!(till.session_state(&session).await["status"], "open");
}
