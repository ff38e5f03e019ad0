//! Merchant webhooks end to end: a real local receiver verifies `Till-Signature` with the
//! documented algorithm (HMAC-SHA256 of "t.body", hex), fails the first delivery, and sees the
//! retry; the delivery log shows each attempt. Uses its own merchant, so other tests' payments
//! send it nothing.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use till_e2e::{card, json_of, new_key, Till};

const SECRET_KEY: &str = "sk_test_till_webhooks_merchant_secret";
const PUBLISHABLE_KEY: &str = "pk_test_till_webhooks_merchant_publishable";

#[derive(Default)]
struct Receiver {
    secret: String,
    requests: u32,
    events: Vec<(Value, bool)>,
}

/// The merchant-side check, as the README documents it.
fn signature_valid(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut timestamp = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) => v1 = hex::decode(s).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (timestamp, v1) else {
        return false;
    };
    let fresh = (till_e2e::now() - t).abs() <= 300;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    fresh && mac.verify_slice(&v1).is_ok()
}

async fn receive(
    State(receiver): State<Arc<Mutex<Receiver>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut receiver = receiver.lock().unwrap();
    receiver.requests += 1;
    if receiver.requests == 1 {
        // The first delivery fails: Till must retry.
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let header = headers
        .get("till-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let valid = signature_valid(&receiver.secret, header, &body);
    let event: Value = serde_json::from_slice(&body).unwrap_or_default();
    receiver.events.push((event, valid));
    StatusCode::OK
}

async fn post(
    till: &Till,
    key: &str,
    path: &str,
    body: Value,
    idempotency: Option<&str>,
) -> (u16, Value) {
    let mut request = till.http.post(till.url(path)).bearer_auth(key).json(&body);
    if let Some(k) = idempotency {
        request = request.header("Idempotency-Key", k);
    }
    json_of(request.send().await.unwrap()).await
}

async fn pay(till: &Till, amount: i64, number: &str) -> Value {
    let (_, session) = post(
        till,
        SECRET_KEY,
        "/v1/checkout_sessions",
        json!({ "amount": amount, "currency": "USD" }),
        None,
    )
    .await;
    let (id, secret) = (
        session["id"].as_str().unwrap(),
        session["client_secret"].as_str().unwrap(),
    );
    let jwe = till
        .encrypt_payload(id, &till_e2e::payload(&card(number), till_e2e::now()), 0)
        .await;
    let (status, token) = post(
        till,
        PUBLISHABLE_KEY,
        "/v1/tokens",
        json!({ "checkout_session": id, "client_secret": secret, "encrypted_card": jwe }),
        None,
    )
    .await;
    assert_eq!(status, 200, "{token}");
    let confirm = format!("/v1/checkout_sessions/{id}/confirm");
    let body = json!({ "client_secret": secret, "token": token["id"] });
    post(till, PUBLISHABLE_KEY, &confirm, body, Some(&new_key()))
        .await
        .1
}

#[tokio::test]
async fn signed_events_reach_the_merchant_with_retries_and_a_delivery_log() {
    let receiver = Arc::new(Mutex::new(Receiver::default()));
    let app = axum::Router::new()
        .route("/hooks", axum::routing::post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let till = Till::default();
    let (status, bad) = post(
        &till,
        SECRET_KEY,
        "/v1/webhook_endpoints",
        json!({ "url": url, "events": ["payment.teleported"] }),
        None,
    )
    .await;
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (400, Some("events_invalid"))
    );
    let (status, endpoint) = post(
        &till,
        SECRET_KEY,
        "/v1/webhook_endpoints",
        json!({ "url": url, "events": ["payment.succeeded", "payment.failed", "refund.succeeded"] }),
        None,
    )
    .await;
    assert_eq!(status, 200, "{endpoint}");
    let secret = endpoint["secret"]
        .as_str()
        .expect("the secret is shown at creation")
        .to_string();
    assert!(secret.starts_with("whsec_"));
    receiver.lock().unwrap().secret = secret;

    let paid = pay(&till, 8_100, "4242424242424242").await;
    assert_eq!(paid["status"], "succeeded");
    let declined = pay(&till, 8_200, "4000000000000002").await;
    assert_eq!(declined["status"], "failed");
    let (status, refund) = post(
        &till,
        SECRET_KEY,
        "/v1/refunds",
        json!({ "payment": paid["id"], "amount": 1000 }),
        Some(&new_key()),
    )
    .await;
    assert_eq!(status, 200, "{refund}");

    let mut kinds = Vec::new();
    for _ in 0..80 {
        kinds = receiver
            .lock()
            .unwrap()
            .events
            .iter()
            .map(|(e, _)| e["type"].as_str().unwrap_or_default().to_string())
            .collect();
        if kinds.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    kinds.sort();
    assert_eq!(
        kinds,
        ["payment.failed", "payment.succeeded", "refund.succeeded"]
    );
    let received = receiver.lock().unwrap().events.clone();
    assert!(
        received.iter().all(|(_, valid)| *valid),
        "every signature verifies"
    );
    let succeeded = received
        .iter()
        .find(|(e, _)| e["type"] == "payment.succeeded")
        .unwrap();
    assert_eq!(succeeded.0["data"]["object"]["id"], paid["id"]);
    assert!(succeeded.0["id"].as_str().unwrap().starts_with("evt_"));

    let id = endpoint["id"].as_str().unwrap();
    let response = till
        .http
        .get(till.url(&format!("/v1/webhook_endpoints/{id}/deliveries")))
        .bearer_auth(SECRET_KEY)
        .send()
        .await
        .unwrap();
    let (status, log) = json_of(response).await;
    assert_eq!(status, 200);
    let deliveries = log["data"].as_array().unwrap();
    assert_eq!(deliveries.len(), 3, "{log}");
    assert!(
        deliveries
            .iter()
            .all(|d| d["status"] == "succeeded" && d["last_status_code"] == 200),
        "{log}"
    );
    let attempts: i64 = deliveries
        .iter()
        .map(|d| d["attempts"].as_i64().unwrap())
        .sum();
    assert_eq!(attempts, 4, "one delivery needed a retry: {log}");
}
