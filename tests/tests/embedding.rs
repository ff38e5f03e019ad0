//! What the edge tells browsers: CSP with a per-response nonce and the merchant's
//! frame-ancestors, transport and referrer headers, CORS only for registered origins.

use serde_json::json;
use till_e2e::{json_of, Till, PUBLISHABLE_KEY};

const SHOP_ORIGIN: &str = "http://127.0.0.1:18791";
const HOSTILE_ORIGIN: &str = "http://evil.example";

#[tokio::test]
async fn the_widget_page_carries_a_nonce_csp_and_the_merchants_frame_ancestors() {
    let till = Till::default();
    let response = till
        .http
        .get(till.url(&format!("/pay?key={PUBLISHABLE_KEY}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    let ancestors = csp.split("frame-ancestors ").nth(1).unwrap_or_default();
    let mut listed: Vec<&str> = ancestors.split(' ').collect();
    listed.sort_unstable();
    assert_eq!(
        listed,
        ["http://127.0.0.1:18791", "http://127.0.0.1:8791"],
        "{csp}"
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    assert!(response.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_string();
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the injected script carries the nonce"
    );
    assert!(!html.contains("TRUNK NONCE"));

    let second = till
        .http
        .get(till.url(&format!("/pay?key={PUBLISHABLE_KEY}")))
        .send()
        .await
        .unwrap();
    let csp2 = second.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(csp, csp2, "a fresh nonce per response");

    for path in ["/pay", "/pay?key=pk_test_unknown_key_000000", "/"] {
        let response = till.http.get(till.url(path)).send().await.unwrap();
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.ends_with("frame-ancestors 'none'"), "{path}: {csp}");
    }
}

#[tokio::test]
async fn cors_answers_registered_origins_only() {
    let till = Till::default();
    let preflight = |origin: &'static str| {
        till.http
            .request(reqwest::Method::OPTIONS, till.url("/v1/tokens"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight(SHOP_ORIGIN).await.unwrap();
    assert_eq!(allowed.status(), 204);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        SHOP_ORIGIN
    );
    assert!(allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("Idempotency-Key"));
    let refused = preflight(HOSTILE_ORIGIN).await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    let session = till.create_session(1234).await;
    let body = json!({ "checkout_session": session.id, "client_secret": session.client_secret, "encrypted_card": "x" });
    let from = |origin: &'static str| {
        till.http
            .post(till.url("/v1/tokens"))
            .bearer_auth(PUBLISHABLE_KEY)
            .header("Origin", origin)
            .json(&body)
            .send()
    };
    let (status, error) = json_of(from(HOSTILE_ORIGIN).await.unwrap()).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (403, Some("origin_not_allowed"))
    );
    let response = from(SHOP_ORIGIN).await.unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        SHOP_ORIGIN
    );
    let (status, error) = json_of(response).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (400, Some("encrypted_card_invalid"))
    );
}

#[tokio::test]
async fn the_embed_loader_is_small_and_checks_origins() {
    let till = Till::default();
    let response = till.http.get(till.url("/till.js")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let script = response.text().await.unwrap();
    assert!(script.contains("event.origin !== tillOrigin"));
    assert!(
        !script.contains("\"*\""),
        "never posts or accepts messages for any origin"
    );
}
