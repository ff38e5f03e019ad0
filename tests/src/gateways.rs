//! The gateways the payment suites run against: Till's sandbox and Stripe (localstripe, a
//! third-party fake of Stripe's API started by xtask). Each scenario is written once and run on
//! both by [`on_every_gateway!`](crate::on_every_gateway): what a merchant sees must not depend
//! on its gateway.
//!
//! The Stripe merchant's account points at a small proxy owned by the test binary, which can
//! fail a request or lose the answer to a payment intent (Stripe charged, Till never heard):
//! what localstripe does not do by itself.

use crate::{json_of, setting, Till};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The seeded merchant that takes payments through its own Stripe account.
pub const STRIPE_SECRET_KEY: &str = "sk_test_till_stripe_merchant_secret";
pub const STRIPE_PUBLISHABLE_KEY: &str = "pk_test_till_stripe_merchant_publishable";
/// localstripe accepts any key; this one is the merchant's, sealed in its gateway account.
pub const STRIPE_API_KEY: &str = "sk_test_localstripe_till";
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_till_localstripe";

/// Runs each named scenario (`async fn scenario(gateway: Gateway)`) once per gateway, as the
/// tests `sandbox::scenario` and `stripe::scenario`.
#[macro_export]
macro_rules! on_every_gateway {
    ($($scenario:ident),* $(,)?) => {
        mod sandbox {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario($crate::gateways::Gateway::Sandbox).await
                }
            )*
        }
        mod stripe {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario($crate::gateways::Gateway::Stripe).await
                }
            )*
        }
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gateway {
    Sandbox,
    Stripe,
}

/// Test cards that mean the same to both gateways.
pub struct Cards {
    pub succeeds: &'static str,
    /// Declined when charged (`card_declined`).
    pub declines: &'static str,
    /// Asks for 3-D Secure; `123456` passes the challenge, any other code fails it.
    pub challenges: &'static str,
}

impl Gateway {
    pub fn cards(self) -> Cards {
        match self {
            Gateway::Sandbox => Cards {
                succeeds: "4242424242424242",
                declines: "4000000000000002",
                challenges: "4000002760003184",
            },
            Gateway::Stripe => Cards {
                succeeds: "4242424242424242",
                declines: "4000000000000341",
                challenges: "4000002760003184",
            },
        }
    }

    /// Wrong challenge codes the issuer takes before the payment fails (the sandbox counts
    /// three; Stripe's issuer page is one go).
    pub fn challenge_attempts(self) -> usize {
        match self {
            Gateway::Sandbox => 3,
            Gateway::Stripe => 1,
        }
    }

    /// An amount unique to one scenario on this gateway: scenarios run in parallel, and faults
    /// and lost answers are armed by amount.
    pub fn amount(self, base: i64) -> i64 {
        match self {
            Gateway::Sandbox => base,
            Gateway::Stripe => base + 50_000,
        }
    }

    pub fn other(self) -> Gateway {
        match self {
            Gateway::Sandbox => Gateway::Stripe,
            Gateway::Stripe => Gateway::Sandbox,
        }
    }

    /// The merchant whose payments go through this gateway (the Stripe one connected first).
    pub async fn merchant(self) -> Till {
        match self {
            Gateway::Sandbox => Till::default(),
            Gateway::Stripe => {
                stripe().await;
                Till::for_merchant(STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY)
            }
        }
    }

    /// What the gateway holds for one Till payment: the sandbox's authorizations or Stripe's
    /// payment intents, each as `{status, amount_refunded}` in Till's words.
    pub async fn charges(self, till: &Till, payment_id: &str) -> Vec<Value> {
        match self {
            Gateway::Sandbox => till.gateway_authorizations(payment_id).await,
            Gateway::Stripe => stripe_intents(payment_id)
                .await
                .into_iter()
                .map(|intent| {
                    let status = match intent["status"].as_str() {
                        Some("canceled") => "voided",
                        Some("requires_capture") => "authorized",
                        Some("succeeded") => "captured",
                        other => other.unwrap_or("unknown"),
                    };
                    json!({ "status": status, "amount_refunded": refunded(&intent) })
                })
                .collect(),
        }
    }

    /// The gateway charges the next authorization of `amount`, and its answer never reaches
    /// Till.
    pub async fn lose_answer(self, till: &Till, amount: i64) {
        match self {
            Gateway::Sandbox => {
                till.fault(json!({ "amount": amount, "drop_response": true }))
                    .await
            }
            Gateway::Stripe => stripe()
                .await
                .proxy
                .lose_amount
                .store(amount, Ordering::SeqCst),
        }
    }

    /// The gateway charges the next authorization of `amount` and answers only after Till gave
    /// up waiting; its webhook comes later still.
    pub async fn answer_late(self, till: &Till, amount: i64) {
        match self {
            Gateway::Sandbox => {
                till.fault(json!({ "amount": amount, "latency_ms": 3000 }))
                    .await
            }
            Gateway::Stripe => self.lose_answer(till, amount).await,
        }
    }

    /// Where this gateway's webhooks reach Till, and the header that carries their signature.
    pub async fn webhook(self, till: &Till) -> (String, &'static str) {
        match self {
            Gateway::Sandbox => (till.url("/v1/webhooks/gateway"), "Gateway-Signature"),
            Gateway::Stripe => (stripe().await.webhook_url.clone(), "Stripe-Signature"),
        }
    }

    /// The next `times` charges of `amount` are declined `insufficient_funds`, whatever the
    /// card (one amount armed at a time on Stripe).
    pub async fn decline_next(self, till: &Till, amount: i64, times: u32) {
        match self {
            Gateway::Sandbox => {
                till.fault(json!({ "amount": amount, "decline_times": times }))
                    .await
            }
            Gateway::Stripe => {
                let proxy = &stripe().await.proxy;
                proxy.decline_amount.store(amount, Ordering::SeqCst);
                proxy
                    .declines_left
                    .store(i64::from(times), Ordering::SeqCst);
            }
        }
    }

    /// The next authorization of `amount` fails before the gateway does anything.
    pub async fn fail_once(self, till: &Till, amount: i64) {
        match self {
            Gateway::Sandbox => {
                till.fault(json!({ "amount": amount, "fail_times": 1 }))
                    .await
            }
            Gateway::Stripe => stripe()
                .await
                .proxy
                .fail_amount
                .store(amount, Ordering::SeqCst),
        }
    }
}

/// What an intent's charge has refunded (localstripe expands the charges in the intent).
fn refunded(intent: &Value) -> i64 {
    intent["charges"]["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|charge| charge["amount_refunded"].as_i64())
        .sum()
}

/// Forwards to localstripe; fails, or loses the answer to, the next `POST /v1/payment_intents`
/// of one amount when told to (tests run in parallel, each with its own amounts).
pub struct Proxy {
    upstream: String,
    lose_amount: AtomicI64,
    fail_amount: AtomicI64,
    /// Intents of `decline_amount` are declined `insufficient_funds` while `declines_left` > 0.
    decline_amount: AtomicI64,
    declines_left: AtomicI64,
    http: reqwest::Client,
}

impl Proxy {
    /// Whether `amount` is the one armed in `slot` (disarming it).
    fn take(slot: &AtomicI64, amount: Option<i64>) -> bool {
        amount.is_some_and(|amount| {
            slot.compare_exchange(amount, 0, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        })
    }

    /// Whether an intent of `amount` is to be declined (using up one decline).
    fn take_decline(&self, amount: Option<i64>) -> bool {
        amount == Some(self.decline_amount.load(Ordering::SeqCst))
            && self
                .declines_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    (left > 0).then(|| left - 1)
                })
                .is_ok()
    }
}

/// Stripe's answer to a card the issuer refused for want of funds (its documented card error).
const INSUFFICIENT_FUNDS: &str = r#"{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}"#;

async fn forward(
    State(proxy): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, Bytes) {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let creates_intent = method == Method::POST && uri.path() == "/v1/payment_intents";
    let amount = String::from_utf8_lossy(&body).split('&').find_map(|pair| {
        pair.strip_prefix("amount=")
            .and_then(|a| a.parse::<i64>().ok())
    });
    if creates_intent && proxy.take_decline(amount) {
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            axum::http::HeaderValue::from_static("application/json"),
        );
        return (
            StatusCode::PAYMENT_REQUIRED,
            headers,
            Bytes::from_static(INSUFFICIENT_FUNDS.as_bytes()),
        );
    }
    if creates_intent && Proxy::take(&proxy.fail_amount, amount) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            HeaderMap::new(),
            Bytes::new(),
        );
    }
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
    if creates_intent && Proxy::take(&proxy.lose_amount, amount) {
        // Stripe did the work; the answer is lost on the way back.
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            HeaderMap::new(),
            Bytes::new(),
        );
    }
    (status, out, bytes)
}

/// The Stripe merchant's account (connected once per test binary) and the proxy before it.
pub struct Connected {
    pub proxy: Arc<Proxy>,
    /// Where Stripe sends this account's webhooks.
    pub webhook_url: String,
}

static CONNECTED: OnceCell<Connected> = OnceCell::const_new();

/// Connects the Stripe merchant's account through a fresh proxy, once per test binary, and
/// registers Till's webhook URL for it with localstripe (both on loopback).
pub async fn stripe() -> &'static Connected {
    CONNECTED
        .get_or_init(|| async {
            let proxy = Arc::new(Proxy {
                upstream: setting("TILL_STRIPE_URL"),
                lose_amount: AtomicI64::new(0),
                fail_amount: AtomicI64::new(0),
                decline_amount: AtomicI64::new(0),
                declines_left: AtomicI64::new(0),
                http: reqwest::Client::new(),
            });
            let app = axum::Router::new()
                .fallback(forward)
                .with_state(proxy.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a loopback port");
            let address = listener.local_addr().expect("its address");
            let listener = listener.into_std().expect("a std listener");
            // The proxy outlives any one test's runtime: it gets a thread of its own.
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                    axum::serve(listener, app).await
                })
            });
            let till = Till::for_merchant(STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY);
            let (status, account) = till
                .post(
                    "/v1/gateway_accounts",
                    STRIPE_SECRET_KEY,
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
            let webhook_url = account["webhook_url"]
                .as_str()
                .expect("webhook_url")
                .to_string();
            let hook = reqwest::Client::new()
                .post(format!(
                    "{}/_config/webhooks/till",
                    setting("TILL_STRIPE_URL")
                ))
                .form(&[
                    ("url", webhook_url.as_str()),
                    ("secret", STRIPE_WEBHOOK_SECRET),
                ])
                .send()
                .await
                .expect("localstripe reachable");
            assert!(
                hook.status().is_success(),
                "{}",
                hook.text().await.unwrap_or_default()
            );
            Connected { proxy, webhook_url }
        })
        .await
}

/// The payment intents localstripe holds for a Till payment (found by Till's id in metadata,
/// through every page of the list: localstripe lists the oldest first).
pub async fn stripe_intents(payment_id: &str) -> Vec<Value> {
    let mut found = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut query = vec![("limit", "100".to_string())];
        if let Some(last) = &after {
            query.push(("starting_after", last.clone()));
        }
        let response = reqwest::Client::new()
            .get(format!("{}/v1/payment_intents", setting("TILL_STRIPE_URL")))
            .query(&query)
            .bearer_auth(STRIPE_API_KEY)
            .send()
            .await
            .expect("localstripe reachable");
        let (status, page) = json_of(response).await;
        assert_eq!(status, 200, "{page}");
        let intents = page["data"].as_array().cloned().unwrap_or_default();
        after = intents
            .last()
            .and_then(|intent| intent["id"].as_str())
            .map(String::from);
        found.extend(
            intents
                .into_iter()
                .filter(|intent| intent["metadata"]["till_payment"] == payment_id),
        );
        if page["has_more"] != true || after.is_none() {
            return found;
        }
    }
}
