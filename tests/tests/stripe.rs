//! What is Stripe's alone: a merchant connects its own Stripe account (validated, its secrets
//! never echoed), and Stripe's webhooks reach Till at a URL bound to that account. Paying,
//! capturing, refunding, 3-D Secure, lost answers and webhooks run against Stripe (localstripe)
//! and the sandbox alike in the lifecycle, faults, gateway events and exactly-once suites.

use serde_json::json;
use till_e2e::gateways::STRIPE_SECRET_KEY as SECRET_KEY;
use till_e2e::gateways::{self, Gateway, STRIPE_PUBLISHABLE_KEY as PUBLISHABLE_KEY};
use till_e2e::Till;

fn stripe_merchant() -> Till {
    Till::for_merchant(SECRET_KEY, PUBLISHABLE_KEY)
}

#[tokio::test]
async fn webhooks_reach_only_a_gateway_account_that_exists() {
    let till = Gateway::Stripe.merchant().await;
    let body =
        json!({ "id": "evt_forged", "type": "payment_intent.succeeded", "data": { "object": {} } });
    let unknown = till
        .http
        .post(till.url("/v1/webhooks/gateway/ga_00000000000040008000000000000000"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let malformed = till
        .http
        .post(till.url("/v1/webhooks/gateway/ga_<script>"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 404);
    let account = gateways::stripe().await;
    assert!(account.webhook_url.contains("/v1/webhooks/gateway/ga_"));
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
