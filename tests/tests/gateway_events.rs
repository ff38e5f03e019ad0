//! Asynchronous truth from the gateway: signed webhooks and the poller settle payments whose
//! answer was lost; duplicates and out-of-order events change nothing. Settling by webhook and
//! refusing forged webhooks run against both gateways; the sandbox alone can drop, double and
//! delay its webhooks, so those scenarios are its own.

use serde_json::{json, Value};
use std::time::Duration;
use till_e2e::gateways::Gateway;
use till_e2e::{new_key, on_every_gateway, Session, Till};

/// The sandbox's local webhook secret (sandbox/src/main.rs, edge/.dev.vars).
const WEBHOOK_SECRET: &[u8] = b"gwhsec_till_sandbox_local";

async fn prepared(till: &Till, amount: i64, number: &str) -> (Session, String) {
    let session = till.create_session(amount).await;
    let token = till.token(&session, number).await;
    (session, token)
}

/// Waits until the session's payment reaches `status`.
async fn eventually(till: &Till, session: &Session, status: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..60 {
        last = till.payment_of(session).await;
        if last["status"] == status {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("payment never became {status}: {last}")
}

async fn send_event(till: &Till, event: &Value, timestamp: i64) -> (u16, Value) {
    let body = event.to_string();
    let signature = till_core::webhook::sign(WEBHOOK_SECRET, timestamp, body.as_bytes());
    let response = till
        .http
        .post(till.url("/v1/webhooks/gateway"))
        .header("Gateway-Signature", signature)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    till_e2e::json_of(response).await
}

on_every_gateway!(
    a_lost_answer_is_settled_by_the_gateways_webhook,
    forged_gateway_webhooks_are_refused,
);

async fn a_lost_answer_is_settled_by_the_gateways_webhook(gateway: Gateway) {
    let till = gateway.merchant().await;
    let amount = gateway.amount(60_601);
    let (session, token) = prepared(&till, amount, gateway.cards().succeeds).await;
    gateway.answer_late(&till, amount).await;
    let (status, _, _) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 502);
    // No retry from the client: the gateway's webhook brings the answer.
    let payment = eventually(&till, &session, "succeeded").await;
    let id = payment["id"].as_str().unwrap();
    assert_eq!(gateway.charges(&till, id).await.len(), 1);
    assert!(gateway.other().charges(&till, id).await.is_empty());
    assert_eq!(till.session_state(&session).await["status"], "complete");
}

async fn forged_gateway_webhooks_are_refused(gateway: Gateway) {
    let till = gateway.merchant().await;
    let (url, header) = gateway.webhook(&till).await;
    let body = json!({ "id": format!("evt_{}", new_key()), "type": "payment_intent.succeeded", "data": { "object": {} } });
    let now = till_e2e::now();
    let stale = till_core::webhook::sign(b"not the secret", now - 6 * 60, b"{}");
    for signature in [
        String::new(),
        "t=1,v1=00".to_string(),
        format!("t={now},v1={}", "0".repeat(64)),
        stale,
    ] {
        let response = till
            .http
            .post(&url)
            .header(header, &signature)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let (status, error) = till_e2e::json_of(response).await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (400, Some("signature_invalid")),
            "{signature:?}"
        );
    }
}

#[tokio::test]
async fn webhooks_are_verified_deduplicated_and_order_safe() {
    let till = Till::default();
    let (session, token) = prepared(&till, 60_604, "4242424242424242").await;
    // The answer and the gateway's own webhook are lost: the payment waits in `processing` for
    // the events this test sends.
    till.fault(json!({ "amount": 60_604, "drop_response": true, "webhook_drop": true }))
        .await;
    let (status, _, _) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 502);
    let payment = till.payment_of(&session).await;
    assert_eq!(payment["status"], "processing");
    let charge = till
        .gateway_authorizations(payment["id"].as_str().unwrap())
        .await
        .remove(0);
    let event = |id: &str, object: Value| json!({ "id": id, "type": "authorization.updated", "data": { "object": object } });
    let now = till_e2e::now();

    // The event that settles the payment is kept by id: its redelivery is a duplicate.
    let settling = event(&format!("evt_test_{}", new_key()), charge.clone());
    let (status, body) = send_event(&till, &settling, now).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("applied")));
    let settled = till.payment_of(&session).await;
    assert_eq!(settled["status"], "succeeded");
    let (status, body) = send_event(&till, &settling, now).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("duplicate")));

    // Another event telling what Till already holds changes nothing, as often as it comes.
    let same = event(&format!("evt_test_{}", new_key()), charge.clone());
    for _ in 0..2 {
        let (status, body) = send_event(&till, &same, now).await;
        assert_eq!((status, body["outcome"].as_str()), (200, Some("unchanged")));
    }
    assert_eq!(till.payment_of(&session).await, settled);

    // An older state arriving late is acknowledged and ignored.
    let mut older = charge.clone();
    older["status"] = json!("requires_action");
    older["challenge"] = json!({ "attempts_remaining": 3 });
    let (status, body) = send_event(
        &till,
        &event(&format!("evt_test_{}", new_key()), older),
        now,
    )
    .await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("stale")));
    assert_eq!(till.payment_of(&session).await["status"], "succeeded");

    // Forged, tampered or old signatures are refused.
    let forged = event(&format!("evt_test_{}", new_key()), charge.clone());
    let (status, body) = send_event(&till, &forged, now - 6 * 60).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("signature_invalid"))
    );
    let response = till
        .http
        .post(till.url("/v1/webhooks/gateway"))
        .header(
            "Gateway-Signature",
            format!("t={now},v1={}", "0".repeat(64)),
        )
        .body(forged.to_string())
        .send()
        .await
        .unwrap();
    let (status, body) = till_e2e::json_of(response).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("signature_invalid"))
    );
}

#[tokio::test]
async fn doubled_and_late_gateway_webhooks_leave_a_challenge_right() {
    let till = Till::default();
    let (session, token) = prepared(&till, 60_605, "4000002760003184").await;
    // Every webhook for this amount comes twice and 2.5 s late: the "requires_action" event
    // arrives after the customer already passed the challenge.
    till.fault(json!({ "amount": 60_605, "webhook_delay_ms": 2500, "webhook_duplicate": true }))
        .await;
    let (_, _, payment) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(payment["status"], "requires_action");
    let id = payment["id"].as_str().unwrap();
    let (status, passed) = till
        .post(
            &format!("/v1/payments/{id}/challenge"),
            till_e2e::PUBLISHABLE_KEY,
            &json!({ "client_secret": session.client_secret, "otp": "123456" }),
        )
        .await;
    assert_eq!(
        (status, passed["status"].as_str()),
        (200, Some("succeeded"))
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    let after = till.payment_of(&session).await;
    assert_eq!(
        after["status"], "succeeded",
        "late events changed nothing: {after}"
    );
    assert_eq!(after["amount_captured"], 60_605);
}

#[tokio::test]
async fn a_late_challenge_event_gives_no_attempts_back() {
    let till = Till::default();
    let (session, token) = prepared(&till, 60_606, "4000002760003184").await;
    let (_, _, payment) = till.confirm(&session, &token, &new_key()).await;
    let id = payment["id"].as_str().unwrap();
    let path = format!("/v1/payments/{id}/challenge");
    let wrong = json!({ "client_secret": session.client_secret, "otp": "999999" });
    let wrong_code = || till.post(&path, till_e2e::PUBLISHABLE_KEY, &wrong);
    let (_, after_one) = wrong_code().await;
    assert_eq!(
        after_one["next_action"]["attempts_remaining"], 2,
        "{after_one}"
    );

    // The gateway's event from before the wrong code, as if it arrived only now.
    let mut older = till.gateway_authorizations(id).await.remove(0);
    older["challenge"] = json!({ "attempts_remaining": 3 });
    let late = json!({
        "id": format!("evt_test_{}", new_key()),
        "type": "authorization.updated",
        "data": { "object": older },
    });
    let (status, body) = send_event(&till, &late, till_e2e::now()).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("stale")));
    let held = till.payment_of(&session).await;
    assert_eq!(held["next_action"]["attempts_remaining"], 2, "{held}");

    let (_, after_two) = wrong_code().await;
    assert_eq!(
        after_two["next_action"]["attempts_remaining"], 1,
        "{after_two}"
    );
}

#[tokio::test]
async fn the_poller_settles_a_payment_whose_answer_and_webhook_were_lost() {
    let till = Till::default();
    let (session, token) = prepared(&till, 60_602, "4242424242424242").await;
    till.fault(json!({ "amount": 60_602, "drop_response": true, "webhook_drop": true }))
        .await;
    let (status, _, _) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 502);
    // Other tests of this binary run the poller too; any run may be the one that settles it.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    till.run_poller().await;
    let payment = eventually(&till, &session, "succeeded").await;
    assert_eq!(payment["requires_review"], false);
    assert_eq!(
        till.gateway_authorizations(payment["id"].as_str().unwrap())
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn the_poller_flags_a_payment_the_gateway_never_confirms() {
    let till = Till::default();
    let (session, token) = prepared(&till, 60_603, "4242424242424242").await;
    till.fault(json!({ "amount": 60_603, "fail_times": 1000 }))
        .await;
    let (status, _, _) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 502);
    // Tests poll after 2 s, back off 1 s then 2 s, and give up after 3 attempts.
    for wait_ms in [2500, 1200, 2200] {
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        till.run_poller().await;
    }
    let mut payment = till.payment_of(&session).await;
    for _ in 0..20 {
        if payment["requires_review"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        payment = till.payment_of(&session).await;
    }
    assert_eq!(payment["status"], "processing", "never guessed: {payment}");
    assert_eq!(payment["requires_review"], true, "{payment}");
}
