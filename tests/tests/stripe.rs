//! The Stripe connector against localstripe (a third-party fake of Stripe's API, started by
//! xtask): a merchant connects its own Stripe account and pays, captures, cancels, refunds,
//! passes 3-D Secure and recovers a lost answer through it, seeing what a sandbox merchant sees.
//! Its money never reaches the sandbox, and the sandbox merchants' never reaches Stripe.
//!
//! Between the edge and localstripe sits a small proxy owned by the test, which can lose the
//! answer to a payment intent (Stripe charged, Till never heard): what no fake gateway does by
//! itself.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use till_e2e::{new_key, setting, Session, Till};
use tokio::sync::OnceCell;

const SECRET_KEY: &str = "sk_test_till_stripe_merchant_secret";
const PUBLISHABLE_KEY: &str = "pk_test_till_stripe_merchant_publishable";
const STRIPE_API_KEY: &str = "sk_test_localstripe_till";
const STRIPE_WEBHOOK_SECRET: &str = "whsec_till_localstripe";

fn stripe_merchant() -> Till {
    Till::for_merchant(SECRET_KEY, PUBLISHABLE_KEY)
}

/// Forwards to localstripe; loses the answer to the next `POST /v1/payment_intents` of one
/// amount when told to (tests run in parallel, each with its own amounts).
struct Proxy {
    upstream: String,
    lose_amount: AtomicI64,
    http: reqwest::Client,
}

async fn forward(
    State(proxy): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, Bytes) {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let amount = String::from_utf8_lossy(&body).split('&').find_map(|pair| {
        pair.strip_prefix("amount=")
            .and_then(|a| a.parse::<i64>().ok())
    });
    let mut request = proxy
        .http
        .request(method.clone(), format!("{}{path}", proxy.upstream))
        .body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let Ok(response) = request.send().await else {
        return (StatusCode::BAD_GATEWAY, HeaderMap::new(), Bytes::new());
    };
    let status =
        StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut out = HeaderMap::new();
    if let Some(kind) = response.headers().get("content-type") {
        out.insert("content-type", kind.clone());
    }
    let bytes = response.bytes().await.unwrap_or_default();
    let creates_intent = method == Method::POST && uri.path() == "/v1/payment_intents";
    if creates_intent
        && amount.is_some_and(|amount| {
            proxy
                .lose_amount
                .compare_exchange(amount, 0, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        })
    {
        // Stripe did the work; the answer is lost on the way back.
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            HeaderMap::new(),
            Bytes::new(),
        );
    }
    (status, out, bytes)
}

/// The merchant's Stripe account (connected once per test binary) and the proxy before it.
struct Connected {
    proxy: Arc<Proxy>,
    /// Where Stripe sends this account's webhooks.
    webhook_url: String,
}

static CONNECTED: OnceCell<Connected> = OnceCell::const_new();

async fn connected() -> &'static Connected {
    CONNECTED
        .get_or_init(|| async {
            let proxy = Arc::new(Proxy {
                upstream: setting("TILL_STRIPE_URL"),
                lose_amount: AtomicI64::new(0),
                http: reqwest::Client::new(),
            });
            let app = axum::Router::new()
                .fallback(forward)
                .with_state(proxy.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            // The proxy outlives any one test's runtime: it gets a thread of its own.
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener.into_std().unwrap()).unwrap();
                    axum::serve(listener, app).await
                })
            });
            let till = stripe_merchant();
            let (status, account) = till
                .post(
                    "/v1/gateway_accounts",
                    SECRET_KEY,
                    &json!({
                        "connector": "stripe",
                        "api_key": STRIPE_API_KEY,
                        "webhook_secret": STRIPE_WEBHOOK_SECRET,
                        "url": format!("http://{address}"),
                    }),
                )
                .await;
            assert_eq!(status, 200, "{account}");
            assert!(account.get("api_key").is_none() && account.get("webhook_secret").is_none());
            // localstripe signs its webhooks to Till's URL for this account (on loopback).
            let hook = reqwest::Client::new()
                .post(format!(
                    "{}/_config/webhooks/till",
                    setting("TILL_STRIPE_URL")
                ))
                .form(&[
                    ("url", account["webhook_url"].as_str().unwrap()),
                    ("secret", STRIPE_WEBHOOK_SECRET),
                ])
                .send()
                .await
                .unwrap();
            assert!(
                hook.status().is_success(),
                "{}",
                hook.text().await.unwrap_or_default()
            );
            Connected {
                proxy,
                webhook_url: account["webhook_url"].as_str().unwrap().to_string(),
            }
        })
        .await
}

/// Pays a fresh session of `amount` with `number`; the confirm's status and body.
async fn pay(till: &Till, amount: i64, number: &str, capture: &str) -> (Session, u16, Value) {
    let session = till.create_session_with(amount, capture).await;
    let token = till.token(&session, number).await;
    let (status, _, payment) = till.confirm(&session, &token, &new_key()).await;
    (session, status, payment)
}

/// The payment intents localstripe holds for a Till payment.
async fn intents_for(payment_id: &str) -> Vec<Value> {
    let response = reqwest::Client::new()
        .get(format!("{}/v1/payment_intents", setting("TILL_STRIPE_URL")))
        .query(&[("limit", "100")])
        .bearer_auth(STRIPE_API_KEY)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    body["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|intent| intent["metadata"]["till_payment"] == payment_id)
        .collect()
}

#[tokio::test]
async fn a_stripe_merchant_pays_captures_cancels_and_refunds_through_its_own_account() {
    connected().await;
    let till = stripe_merchant();

    let (session, status, payment) = pay(&till, 4_100, "4242424242424242", "automatic").await;
    assert_eq!(
        (status, payment["status"].as_str()),
        (200, Some("succeeded")),
        "{payment}"
    );
    assert_eq!(payment["amount_captured"], 4_100);
    assert_eq!(till.session_state(&session).await["status"], "complete");
    let id = payment["id"].as_str().unwrap();
    let intents = intents_for(id).await;
    assert_eq!(intents.len(), 1, "one intent at Stripe");
    assert_eq!(intents[0]["amount"], 4_100);
    assert!(
        till.gateway_authorizations(id).await.is_empty(),
        "nothing at the sandbox"
    );

    let (status, refund) = till
        .post_with_key(
            "/v1/refunds",
            SECRET_KEY,
            &json!({ "payment": id, "amount": 1_000 }),
        )
        .await;
    assert_eq!(
        (status, refund["status"].as_str()),
        (200, Some("succeeded")),
        "{refund}"
    );
    let (_, after) = till.get(&format!("/v1/payments/{id}"), SECRET_KEY).await;
    assert_eq!(after["amount_refunded"], 1_000);

    // Manual capture, partly.
    let (_, status, held) = pay(&till, 4_200, "4242424242424242", "manual").await;
    assert_eq!(
        (status, held["status"].as_str()),
        (200, Some("requires_capture")),
        "{held}"
    );
    let held_id = held["id"].as_str().unwrap();
    let (status, captured) = till
        .post_with_key(
            &format!("/v1/payments/{held_id}/capture"),
            SECRET_KEY,
            &json!({ "amount": 3_000 }),
        )
        .await;
    assert_eq!(
        (status, captured["status"].as_str()),
        (200, Some("succeeded")),
        "{captured}"
    );
    assert_eq!(captured["amount_captured"], 3_000);

    // Void before capture.
    let (_, _, held) = pay(&till, 4_300, "4242424242424242", "manual").await;
    let held_id = held["id"].as_str().unwrap();
    let (status, canceled) = till
        .post_with_key(
            &format!("/v1/payments/{held_id}/cancel"),
            SECRET_KEY,
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, canceled["status"].as_str()),
        (200, Some("canceled")),
        "{canceled}"
    );
}

#[tokio::test]
async fn a_stripe_decline_is_a_failed_payment_and_the_session_reopens() {
    connected().await;
    let till = stripe_merchant();
    // localstripe declines this card when it is charged.
    let (session, status, payment) = pay(&till, 4_400, "4000000000000341", "automatic").await;
    assert_eq!(
        (status, payment["status"].as_str()),
        (200, Some("failed")),
        "{payment}"
    );
    assert_eq!(payment["failure_code"], "card_declined");
    assert_eq!(till.session_state(&session).await["status"], "open");
}

#[tokio::test]
async fn three_d_secure_at_stripe_is_completed_through_the_challenge() {
    connected().await;
    let till = stripe_merchant();
    let (session, status, payment) = pay(&till, 4_500, "4000002760003184", "automatic").await;
    assert_eq!(
        (status, payment["status"].as_str()),
        (200, Some("requires_action")),
        "{payment}"
    );
    let id = payment["id"].as_str().unwrap();
    let (status, passed) = till
        .post(
            &format!("/v1/payments/{id}/challenge"),
            PUBLISHABLE_KEY,
            &json!({ "client_secret": session.client_secret, "otp": "123456" }),
        )
        .await;
    assert_eq!(
        (status, passed["status"].as_str()),
        (200, Some("succeeded")),
        "{passed}"
    );
}

#[tokio::test]
async fn a_lost_stripe_answer_is_recovered_without_a_second_charge() {
    let connected = connected().await;
    let till = stripe_merchant();
    let session = till.create_session(4_600).await;
    let token = till.token(&session, "4242424242424242").await;
    let key = new_key();
    connected.proxy.lose_amount.store(4_600, Ordering::SeqCst);
    let (status, _, lost) = till.confirm(&session, &token, &key).await;
    assert_eq!(status, 502, "{lost}");
    let pending = till.payment_of(&session).await;
    assert_eq!(pending["status"], "processing");
    let id = pending["id"].as_str().unwrap().to_string();
    assert_eq!(
        intents_for(&id).await.len(),
        1,
        "Stripe charged before the answer was lost"
    );

    // The retry finds the intent by Till's reference instead of charging again.
    let (status, _, recovered) = till.confirm(&session, &token, &key).await;
    assert_eq!(
        (status, recovered["status"].as_str()),
        (200, Some("succeeded")),
        "{recovered}"
    );
    assert_eq!(intents_for(&id).await.len(), 1, "still one charge");
}

#[tokio::test]
async fn stripe_webhooks_are_verified_and_bound_to_their_account() {
    let connected = connected().await;
    let till = stripe_merchant();
    let url = connected.webhook_url.clone();
    let body =
        json!({ "id": "evt_forged", "type": "payment_intent.succeeded", "data": { "object": {} } });
    for signature in [
        "",
        "t=1,v1=00",
        &format!("t={},v1={}", till_e2e::now(), "0".repeat(64)),
    ] {
        let response = till
            .http
            .post(&url)
            .header("Stripe-Signature", signature)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{signature:?}");
    }
    let unknown = till
        .http
        .post(till.url("/v1/webhooks/gateway/ga_00000000000040008000000000000000"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    // A payment the webhook settles after its answer was lost.
    let session = till.create_session(4_700).await;
    let token = till.token(&session, "4242424242424242").await;
    connected.proxy.lose_amount.store(4_700, Ordering::SeqCst);
    let (status, _, _) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 502);
    let mut payment = Value::Null;
    for _ in 0..40 {
        payment = till.payment_of(&session).await;
        if payment["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        payment["status"], "succeeded",
        "settled by Stripe's webhook: {payment}"
    );
}

#[tokio::test]
async fn gateway_accounts_refuse_bad_connectors_credentials_and_urls() {
    let till = stripe_merchant();
    for (body, code) in [
        (
            json!({ "connector": "paypal", "api_key": "k", "webhook_secret": "s" }),
            "connector_invalid",
        ),
        (
            json!({ "connector": "stripe", "api_key": "", "webhook_secret": "s" }),
            "credentials_invalid",
        ),
        (
            json!({ "connector": "stripe", "api_key": "a b", "webhook_secret": "s" }),
            "credentials_invalid",
        ),
        (
            json!({ "connector": "stripe", "api_key": "k", "webhook_secret": "s", "url": "https://localhost/" }),
            "url_invalid",
        ),
        (
            json!({ "connector": "stripe", "api_key": "k", "webhook_secret": "s", "url": "http://[::1]:1/" }),
            "url_invalid",
        ),
        (
            json!({ "connector": "sandbox", "api_key": "k", "webhook_secret": "s" }),
            "url_invalid",
        ),
    ] {
        let (status, error) = till.post("/v1/gateway_accounts", SECRET_KEY, &body).await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}: {error}"
        );
        assert!(
            !error.to_string().contains("a b"),
            "no credential echoed: {error}"
        );
    }
    let (status, error) = till
        .post(
            "/v1/gateway_accounts",
            PUBLISHABLE_KEY,
            &json!({ "connector": "stripe", "api_key": "k", "webhook_secret": "s" }),
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (403, Some("secret_key_required"))
    );
}

#[tokio::test]
async fn a_sandbox_merchant_never_reaches_stripe() {
    connected().await;
    let demo = Till::default();
    let (_, status, payment) = pay(&demo, 4_800, "4242424242424242", "automatic").await;
    assert_eq!(
        (status, payment["status"].as_str()),
        (200, Some("succeeded"))
    );
    let id = payment["id"].as_str().unwrap();
    assert_eq!(
        demo.gateway_authorizations(id).await.len(),
        1,
        "at the sandbox"
    );
    assert!(intents_for(id).await.is_empty(), "nothing at Stripe");
}
