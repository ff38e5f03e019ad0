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

/// The files the page links whose paths start with `prefix` and end with `suffix`.
fn linked_files(html: &str, prefix: &str, suffix: &str) -> Vec<String> {
    let mut files: Vec<String> = html
        .split(['"', '\'', ' ', '>', '='])
        .filter(|part| part.starts_with(prefix) && part.ends_with(suffix))
        .map(str::to_string)
        .collect();
    files.dedup();
    assert!(
        !files.is_empty(),
        "the page links no {prefix}…{suffix}: {html}"
    );
    files
}

#[tokio::test]
async fn only_files_named_after_their_content_are_kept_for_good() {
    let till = Till::default();
    let cache_control = |response: &reqwest::Response| {
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .to_string()
    };
    for (page, code, styles) in [
        ("/pay", "/till-widget-", "/"),
        ("/wallet/", "/wallet/till-wallet-", "/wallet/"),
        ("/dashboard/", "/dashboard/till-dashboard-", "/dashboard/"),
    ] {
        let response = till.http.get(till.url(page)).send().await.unwrap();
        assert_eq!(cache_control(&response), "no-store", "{page}");
        let html = response.text().await.unwrap();
        let mut files = linked_files(&html, code, ".js");
        files.extend(linked_files(&html, code, "_bg.wasm"));
        files.extend(linked_files(&html, styles, ".css"));
        for file in files {
            let response = till.http.get(till.url(&file)).send().await.unwrap();
            assert_eq!(response.status(), 200, "{file}");
            assert_eq!(
                cache_control(&response),
                "public, max-age=31536000, immutable",
                "{file}"
            );
        }
    }
    // Merchants link the loader by one name: a new one must reach their pages.
    let loader = till.http.get(till.url("/till.js")).send().await.unwrap();
    assert!(cache_control(&loader).contains("max-age=0"), "{loader:?}");
    let headers_file = till.http.get(till.url("/_headers")).send().await.unwrap();
    assert_eq!(
        headers_file.status(),
        404,
        "the headers file is not a file to fetch"
    );
}
