//! Hardening, class by class: input that must never crash the edge, card numbers normalized once,
//! card testing throttled, publishable keys only from browser pages, SSRF refused, duplicate
//! JSON keys, oversized bodies, idempotency keys reused after their record is gone, and refunds
//! whose answer was lost. Every webhook URL registered here is on loopback.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use till_e2e::{browser_like_client, card, json_of, new_key, Till, GATEWAY_KEY, SECRET_KEY};

/// Seeded with the deployment's default rate limits (edge/seed/demo.sql).
const THROTTLE_SK: &str = "sk_test_till_throttle_merchant_secret";
const THROTTLE_PK: &str = "pk_test_till_throttle_merchant_publishable";
/// Seeded with a publishable-key limit of 20 calls a minute.
const KEYLIMIT_SK: &str = "sk_test_till_keylimit_merchant_secret";
const KEYLIMIT_PK: &str = "pk_test_till_keylimit_merchant_publishable";
const KEYSHARE_SK: &str = "sk_test_till_keyshare_merchant_secret";
const KEYSHARE_PK: &str = "pk_test_till_keyshare_merchant_publishable";

fn throttled() -> Till {
    Till::for_merchant(THROTTLE_SK, THROTTLE_PK)
}

/// A Visa number no other test uses: `4` + 14 random digits + the Luhn check digit.
fn fresh_card_number() -> String {
    let digits: String = till_e2e::random::<14>()
        .iter()
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    let payload = format!("4{digits}");
    (0..10)
        .map(|d| format!("{payload}{d}"))
        .find(|n| till_core::card::luhn_valid(n))
        .expect("one check digit fits")
}

fn with(mut card: Value, field: &str, value: Value) -> Value {
    card[field] = value;
    card
}

#[tokio::test]
async fn hostile_card_fields_get_card_errors_and_never_crash_the_edge() {
    let till = Till::default();
    let session = till.create_session(2_100).await;
    let cases: Vec<(Value, &str)> = vec![
        // Unicode spaces and digits next to real digits (a byte-slicing panic once).
        (card("4242 4242 4242 424\u{00a0}2"), "invalid_number"),
        (card("4242424242424242\u{3000}"), "invalid_number"),
        (
            card("4242\u{2003}4242\u{2003}4242\u{2003}4242"),
            "invalid_number",
        ),
        (card("４２４２４２４２４２４２４２４２"), "invalid_number"),
        (card("٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢"), "invalid_number"),
        (card("4242424242424242\u{0}"), "invalid_number"),
        (card("4242.4242.4242.4242"), "invalid_number"),
        (card("4242424242424242é"), "invalid_number"),
        (card(&"4".repeat(200)), "invalid_number"),
        (card(""), "incomplete_number"),
        (card("  - -  "), "incomplete_number"),
        (
            with(card("4242424242424242"), "cvc", json!("12 3")),
            "invalid_cvc",
        ),
        (
            with(card("4242424242424242"), "cvc", json!("１２３")),
            "invalid_cvc",
        ),
        (
            with(card("4242424242424242"), "cvc", json!("")),
            "incomplete_cvc",
        ),
        (
            with(card("4242424242424242"), "name", json!("Ada\u{0}Lovelace")),
            "invalid_name",
        ),
        (
            with(
                card("4242424242424242"),
                "name",
                json!("Ada\u{202e}ecalevoL"),
            ),
            "invalid_name",
        ),
        (
            with(card("4242424242424242"), "name", json!("A".repeat(101))),
            "invalid_name",
        ),
        (
            with(card("4242424242424242"), "name", json!(" \u{3000} ")),
            "missing_name",
        ),
        (
            with(card("4242424242424242"), "exp_month", json!(13)),
            "invalid_expiry",
        ),
        (
            with(card("4242424242424242"), "exp_month", json!(0)),
            "invalid_expiry",
        ),
        (
            with(card("4242424242424242"), "exp_year", json!(65535)),
            "invalid_expiry",
        ),
    ];
    for (card, code) in cases {
        let (status, body) = till.tokenize(&session, &card).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (402, Some(code)),
            "{card}: {body}"
        );
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.contains("4242"), "no card data in errors: {body}");
    }
    // Values of the wrong type never get as far as a card rule.
    for card in [
        with(card("4242424242424242"), "exp_month", json!(256)),
        with(card("4242424242424242"), "exp_year", json!(-1)),
        with(
            card("4242424242424242"),
            "number",
            json!(4242424242424242u64),
        ),
    ] {
        let (status, body) = till.tokenize(&session, &card).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("encrypted_card_invalid")),
            "{card}: {body}"
        );
    }
    // The isolate survived all of it: the same session still takes a card.
    let (status, token) = till.tokenize(&session, &card("4242 4242 4242 4242")).await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["card"]["last4"], "4242");
}

#[tokio::test]
async fn card_numbers_are_normalized_once_for_gateway_fingerprint_and_vault() {
    let till = Till::default();
    // The decline card typed with separators is still the decline card at the gateway.
    for typed in [
        "4000 0000 0000 0002",
        "4000-0000-0000-0002",
        " 4000000000000002 ",
    ] {
        let session = till.create_session(2_200).await;
        let token = till.token(&session, typed).await;
        let (status, _, payment) = till.confirm(&session, &token, &new_key()).await;
        assert_eq!(status, 200, "{payment}");
        assert_eq!(
            (payment["status"].as_str(), payment["failure_code"].as_str()),
            (Some("failed"), Some("card_declined")),
            "{typed:?}"
        );
    }
    // One card, typed three ways: one fingerprint, shown to the merchant's server only.
    let mut fingerprints = Vec::new();
    for typed in [
        "4242424242424242",
        "4242 4242 4242 4242",
        "4242-4242-4242-4242",
    ] {
        let session = till.create_session(2_300).await;
        let (status, token) = till.tokenize(&session, &card(typed)).await;
        assert_eq!(status, 200, "{token}");
        assert!(token["card"].get("fingerprint").is_none(), "{token}");
        let id = token["id"].as_str().unwrap();
        let (status, _, payment) = till.confirm(&session, id, &new_key()).await;
        assert_eq!(
            (status, payment["status"].as_str()),
            (200, Some("succeeded"))
        );
        assert!(payment["card"].get("fingerprint").is_none(), "{payment}");
        let server_view = till.payment_of(&session).await;
        fingerprints.push(
            server_view["card"]["fingerprint"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert!(
        fingerprints.windows(2).all(|w| w[0] == w[1]),
        "{fingerprints:?}"
    );
    // Another merchant sees another fingerprint for the same card.
    let other = throttled();
    let session = other.create_session(2_400).await;
    let token = other.token(&session, "4242424242424242").await;
    let (status, _, _) = other.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 200);
    let theirs = other.payment_of(&session).await;
    assert_ne!(theirs["card"]["fingerprint"], json!(fingerprints[0]));
}

/// A loopback receiver for merchant webhooks: what it got, by path.
#[derive(Default)]
struct Inbox {
    events: Vec<Value>,
    followed_redirect: u32,
}

async fn start_receiver() -> (String, Arc<Mutex<Inbox>>) {
    let inbox = Arc::new(Mutex::new(Inbox::default()));
    let app = axum::Router::new()
        .route(
            "/events",
            axum::routing::post(
                |State(inbox): State<Arc<Mutex<Inbox>>>, body: axum::body::Bytes| async move {
                    let event = serde_json::from_slice(&body).unwrap_or_default();
                    inbox.lock().unwrap().events.push(event);
                    StatusCode::OK
                },
            ),
        )
        .route(
            "/moved",
            axum::routing::post(|| async {
                (
                    StatusCode::FOUND,
                    [(axum::http::header::LOCATION, "/target")],
                )
            }),
        )
        .route(
            "/target",
            axum::routing::post(|State(inbox): State<Arc<Mutex<Inbox>>>| async move {
                inbox.lock().unwrap().followed_redirect += 1;
                StatusCode::OK
            }),
        )
        .with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), inbox)
}

async fn register_endpoint(till: &Till, url: &str, events: &[&str]) -> Value {
    let (status, endpoint) = till
        .post(
            "/v1/webhook_endpoints",
            &till.secret_key,
            &json!({ "url": url, "events": events }),
        )
        .await;
    assert_eq!(status, 200, "{endpoint}");
    endpoint
}

#[tokio::test]
async fn a_session_locks_after_five_failed_payments_and_tells_the_merchant() {
    let till = throttled();
    let (receiver, inbox) = start_receiver().await;
    register_endpoint(
        &till,
        &format!("{receiver}/events"),
        &["checkout_session.locked"],
    )
    .await;
    let session = till.create_session(2_500).await;
    // Five different declining cards (one card may be tokenized only so often).
    for number in [
        "4000000000000002",
        "4000000000009995",
        "4000000000000069",
        "4000000000000127",
        "4000000000000119",
    ] {
        let token = till.token(&session, number).await;
        let (status, _, payment) = till.confirm(&session, &token, &new_key()).await;
        assert_eq!((status, payment["status"].as_str()), (200, Some("failed")));
    }
    let state = till.session_state(&session).await;
    assert_eq!(state["status"], "locked", "{state}");
    let (status, body) = till.tokenize(&session, &card(&fresh_card_number())).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("checkout_session_locked")),
        "{body}"
    );
    for _ in 0..40 {
        if !inbox.lock().unwrap().events.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let events = inbox.lock().unwrap().events.clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "checkout_session.locked");
    assert_eq!(events[0]["data"]["object"]["id"], json!(session.id));
}

/// Tokenizes `number` for `session` from its own client address; the raw response.
async fn tokenize_from_new_address(
    till: &Till,
    session: &till_e2e::Session,
    number: &str,
) -> reqwest::Response {
    let encrypted_card = till.encrypt(&session.id, &card(number)).await;
    let from_new_address = Till {
        http: browser_like_client(&till.edge),
        ..Till::for_merchant(&till.secret_key, &till.publishable_key)
    };
    from_new_address
        .send_token_request(session, &encrypted_card)
        .await
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn one_card_is_tokenized_at_most_five_times_an_hour() {
    let till = throttled();
    let session = till.create_session(2_600).await;
    let number = fresh_card_number();
    // An attempt the session check refuses is an attempt with the card all the same: one who
    // tries cards against guessed secrets gets no more tries than one with the right secret.
    let wrong_secret = till_e2e::Session {
        id: session.id.clone(),
        client_secret: format!("{}_secret_guessed", session.id),
        body: session.body.clone(),
    };
    for _ in 0..2 {
        let response = tokenize_from_new_address(&till, &wrong_secret, &number).await;
        let (status, body) = json_of(response).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "client_secret_invalid");
    }
    for _ in 0..3 {
        let response = tokenize_from_new_address(&till, &session, &number).await;
        assert_eq!(response.status(), 200);
    }
    let refused = tokenize_from_new_address(&till, &session, &number).await;
    assert_eq!(refused.status(), 429);
    let wait = retry_after(&refused);
    assert!((3_000..=3_600).contains(&wait), "Retry-After {wait}");
    let (_, body) = json_of(refused).await;
    assert_eq!(body["error"]["code"], "rate_limited");
    // Typed another way it is the same card; another card is fine.
    let spaced = format!("{} {}", &number[..8], &number[8..]);
    let refused = tokenize_from_new_address(&till, &session, &spaced).await;
    assert_eq!(refused.status(), 429);
    let other = tokenize_from_new_address(&till, &session, &fresh_card_number()).await;
    assert_eq!(other.status(), 200);
}

async fn garbage_tokenization(
    client: &reqwest::Client,
    till: &Till,
    session: &till_e2e::Session,
) -> reqwest::Response {
    client
        .post(till.url("/v1/tokens"))
        .bearer_auth(&till.publishable_key)
        .json(&json!({
            "checkout_session": session.id,
            "client_secret": session.client_secret,
            "encrypted_card": "not-a-jwe",
        }))
        .send()
        .await
        .expect("edge reachable")
}

#[tokio::test]
async fn one_client_address_gets_thirty_attempts_in_ten_minutes() {
    let till = throttled();
    let session = till.create_session(2_700).await;
    let client = browser_like_client(&till.edge);
    for attempt in 0..30 {
        let response = garbage_tokenization(&client, &till, &session).await;
        assert_eq!(response.status(), 400, "attempt {attempt}");
    }
    let refused = garbage_tokenization(&client, &till, &session).await;
    assert_eq!(refused.status(), 429);
    assert!((1..=600).contains(&retry_after(&refused)));
    // Confirmations from that address are refused too; another address is not.
    let confirm = client
        .post(till.url(&format!("/v1/checkout_sessions/{}/confirm", session.id)))
        .bearer_auth(&till.publishable_key)
        .header("Idempotency-Key", new_key())
        .json(&json!({ "client_secret": session.client_secret, "token": "tok_x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), 429);
    // So is a body that does not parse: what its key stored is asked of the merchant's objects
    // only for a request the limiters admit.
    let malformed = client
        .post(till.url(&format!("/v1/checkout_sessions/{}/confirm", session.id)))
        .bearer_auth(&till.publishable_key)
        .header("Idempotency-Key", new_key())
        .json(&json!({ "client_secret": session.client_secret, "token": 7 }))
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 429);
    let elsewhere = garbage_tokenization(&browser_like_client(&till.edge), &till, &session).await;
    assert_eq!(elsewhere.status(), 400);
}

#[tokio::test]
async fn a_publishable_key_gets_its_own_limit_and_the_secret_key_is_not_counted() {
    let till = Till::for_merchant(KEYLIMIT_SK, KEYLIMIT_PK);
    let session = till.create_session(2_800).await;
    for _ in 0..20 {
        let response =
            garbage_tokenization(&browser_like_client(&till.edge), &till, &session).await;
        assert_eq!(response.status(), 400);
    }
    let refused = garbage_tokenization(&browser_like_client(&till.edge), &till, &session).await;
    assert_refused_by(refused, "publishable key").await;
    // The merchant's server keeps working.
    till.create_session(2_801).await;
}

/// The merchant's publishable key allows 10 browser calls a minute, each client address 3: an
/// address sending on past its own limit must not use up the key's, which all the merchant's
/// customers share.
#[tokio::test]
async fn an_address_over_its_limit_does_not_use_up_the_publishable_keys() {
    let till = Till::for_merchant(KEYSHARE_SK, KEYSHARE_PK);
    let session = till.create_session(2_850).await;
    let noisy = browser_like_client(&till.edge);
    for attempt in 0..3 {
        let response = garbage_tokenization(&noisy, &till, &session).await;
        assert_eq!(response.status(), 400, "attempt {attempt}");
    }
    for _ in 3..20 {
        let refused = garbage_tokenization(&noisy, &till, &session).await;
        assert_refused_by(refused, "client address").await;
    }
    // The key counted 3 of its 10: seven other customers still get through, the next does not.
    for customer in 0..7 {
        let response =
            garbage_tokenization(&browser_like_client(&till.edge), &till, &session).await;
        assert_eq!(response.status(), 400, "customer {customer}");
    }
    let refused = garbage_tokenization(&browser_like_client(&till.edge), &till, &session).await;
    assert_refused_by(refused, "publishable key").await;
}

/// A 429 `rate_limited` whose message names the window that refused it.
async fn assert_refused_by(response: reqwest::Response, window: &str) {
    assert_eq!(response.status(), 429);
    let (_, body) = json_of(response).await;
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(window), "{body}");
}

#[tokio::test]
async fn publishable_keys_work_only_from_browser_pages() {
    let till = Till::default();
    let session = till.create_session(2_900).await;
    let bare = reqwest::Client::new();
    let tokens = bare
        .post(till.url("/v1/tokens"))
        .bearer_auth(&till.publishable_key)
        .json(&json!({ "checkout_session": session.id, "client_secret": session.client_secret, "encrypted_card": "x" }))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(tokens).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("origin_required"))
    );
    let read = |client: reqwest::RequestBuilder| async {
        json_of(
            client
                .bearer_auth(&till.publishable_key)
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let path = till.url(&format!(
        "/v1/checkout_sessions/{}?client_secret={}",
        session.id, session.client_secret
    ));
    let (status, body) = read(bare.get(&path)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("origin_required"))
    );
    // A same-origin GET from the widget carries no Origin, only fetch metadata.
    let (status, body) = read(bare.get(&path).header("Sec-Fetch-Site", "same-origin")).await;
    assert_eq!(
        (status, body["id"].as_str()),
        (200, Some(session.id.as_str()))
    );
    let (status, _) = read(bare.get(&path).header("Sec-Fetch-Site", "cross-site")).await;
    assert_eq!(status, 403);
    // Secret keys are for servers: no Origin needed.
    let (status, _) = json_of(
        bare.get(till.url(&format!("/v1/checkout_sessions/{}", session.id)))
            .bearer_auth(SECRET_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn urls_that_point_into_the_edge_host_are_refused() {
    let till = Till::default();
    // Only loopback addresses, in many notations (127.0.0.1 itself is the local setup's allowed
    // development host). Private ranges are refused by the same code, tested in till-core.
    for url in [
        "https://localhost/hook",
        "https://LOCALHOST./hook",
        "https://api.localhost/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.2]/hook",
        "https://127.0.0.2/hook",
        "https://2130706434/hook",
        "https://0x7f.0.0.2/hook",
        "https://0177.0.0.2/hook",
        "https://127.2/hook",
        "https://0.0.0.0/hook",
        "https://0/hook",
        "http://localhost:9/hook",
        "https://user:pw@127.0.0.1/hook",
        "https://127.0.0.1\t/hook",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "",
    ] {
        let (status, body) = till
            .post(
                "/v1/webhook_endpoints",
                SECRET_KEY,
                &json!({ "url": url, "events": ["payment.succeeded"] }),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("url_invalid")),
            "{url:?}: {body}"
        );
    }
    for url in [
        "javascript:alert(1)",
        "JavaScript://%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "https://localhost/thanks",
        "http://[::1]/thanks",
        "/relative",
    ] {
        let (status, body) = till
            .post(
                "/v1/checkout_sessions",
                SECRET_KEY,
                &json!({ "amount": 100, "currency": "USD", "return_url": url }),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("return_url_invalid")),
            "{url:?}: {body}"
        );
    }
}

#[tokio::test]
async fn webhook_deliveries_do_not_follow_redirects() {
    let till = throttled();
    let (receiver, inbox) = start_receiver().await;
    let endpoint =
        register_endpoint(&till, &format!("{receiver}/moved"), &["payment.succeeded"]).await;
    let session = till.create_session(3_000).await;
    let token = till.token(&session, &fresh_card_number()).await;
    let (status, _, payment) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(
        (status, payment["status"].as_str()),
        (200, Some("succeeded"))
    );
    let path = format!(
        "/v1/webhook_endpoints/{}/deliveries",
        endpoint["id"].as_str().unwrap()
    );
    let mut log = Value::Null;
    for _ in 0..40 {
        let (_, body) = till.get(&path, THROTTLE_SK).await;
        log = body;
        if log["data"][0]["last_status_code"] == 302 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let delivery = &log["data"][0];
    assert_eq!(delivery["last_status_code"], 302, "{log}");
    assert_ne!(delivery["status"], "succeeded", "{log}");
    assert_eq!(inbox.lock().unwrap().followed_redirect, 0);
}

#[tokio::test]
async fn duplicate_json_keys_are_refused_and_change_nothing() {
    let till = Till::default();
    let raw = |path: &str, key: &str, body: String, idempotency: Option<String>| {
        let mut request = till
            .http
            .post(till.url(path))
            .bearer_auth(key)
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(k) = idempotency {
            request = request.header("Idempotency-Key", k);
        }
        async move { json_of(request.send().await.unwrap()).await }
    };
    for body in [
        r#"{"amount":100,"currency":"USD","amount":99999999}"#,
        r#"{"amount":100,"currency":"USD","currency":"JPY"}"#,
        r#"{"amount":200,"currency":"USD","line_items":[{"name":"a","quantity":1,"unit_amount":100,"unit_amount":200}]}"#,
        r#"{"amount":100,"currency":"USD","\u0061mount":5}"#,
    ] {
        let (status, error) =
            raw("/v1/checkout_sessions", SECRET_KEY, body.to_string(), None).await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (400, Some("parameter_invalid")),
            "{body}: {error}"
        );
        assert!(error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more than once"));
    }
    // A confirm with a doubled field does not use up its Idempotency-Key.
    let session = till.create_session(3_100).await;
    let token = till.token(&session, "4242424242424242").await;
    let key = new_key();
    let doubled = format!(
        r#"{{"client_secret":"{}","token":"{token}","token":"tok_00000000000000000000000000000000"}}"#,
        session.client_secret
    );
    let path = format!("/v1/checkout_sessions/{}/confirm", session.id);
    let (status, error) = raw(&path, &till.publishable_key, doubled, Some(key.clone())).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (400, Some("parameter_invalid"))
    );
    assert_eq!(till.session_state(&session).await["status"], "open");
    let (status, _, payment) = till.confirm(&session, &token, &key).await;
    assert_eq!(
        (status, payment["status"].as_str()),
        (200, Some("succeeded"))
    );
    let (status, _) = raw(
        "/v1/refunds",
        SECRET_KEY,
        r#"{"payment":"pay_00000000000000000000000000000000","payment":"pay_x"}"#.to_string(),
        Some(new_key()),
    )
    .await;
    assert_eq!(status, 400);
}

/// A captured payment of `amount` with the demo merchant; its id.
async fn paid(till: &Till, amount: i64) -> String {
    let session = till.create_session(amount).await;
    let token = till.token(&session, "4242424242424242").await;
    let (status, _, payment) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(
        (status, payment["status"].as_str()),
        (200, Some("succeeded"))
    );
    payment["id"].as_str().unwrap().to_string()
}

async fn refund(till: &Till, payment: &str, amount: i64, key: &str) -> (u16, Value) {
    json_of(
        till.http
            .post(till.url("/v1/refunds"))
            .bearer_auth(SECRET_KEY)
            .header("Idempotency-Key", key)
            .json(&json!({ "payment": payment, "amount": amount }))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_key_reused_after_its_record_was_released_still_means_its_first_request() {
    let till = Till::default();
    // A refund refused by validation does not use up its key.
    let first = paid(&till, 33_201).await;
    let key = new_key();
    let (status, body) = refund(&till, &first, 33_202, &key).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("amount_too_large")),
        "{body}"
    );
    let (status, body) = refund(&till, &first, 33_201, &key).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("succeeded")),
        "{body}"
    );

    // Released after a gateway failure, then reused for another payment: refused, and the other
    // payment is untouched.
    let third = paid(&till, 33_203).await;
    till.fault(json!({ "amount": 13_003, "fail_times": 1 }))
        .await;
    let key = new_key();
    let (status, body) = refund(&till, &third, 13_003, &key).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("gateway_unavailable"))
    );
    let fourth = paid(&till, 33_204).await;
    let (status, body) = refund(&till, &fourth, 13_003, &key).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    let (_, untouched) = till
        .get(&format!("/v1/payments/{fourth}"), SECRET_KEY)
        .await;
    assert_eq!(untouched["amount_refunded"], 0);
    // The first request, retried, completes once.
    let (status, done) = refund(&till, &third, 13_003, &key).await;
    assert_eq!(
        (status, done["status"].as_str()),
        (200, Some("succeeded")),
        "{done}"
    );
    assert_eq!(gateway_refunds(&till, &third).await.len(), 1);

    // The same for confirm: a payment left processing, its key reused on another session.
    let session = till.create_session(33_205).await;
    let token = till.token(&session, "4242424242424242").await;
    till.fault(json!({ "amount": 33_205, "fail_times": 1 }))
        .await;
    let key = new_key();
    let (status, _, _) = till.confirm(&session, &token, &key).await;
    assert_eq!(status, 502);
    let other = till.create_session(33_206).await;
    let other_token = till.token(&other, "4242424242424242").await;
    let (status, _, body) = till.confirm(&other, &other_token, &key).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    assert_eq!(till.session_state(&other).await["status"], "open");
}

/// The refunds the sandbox holds for a Till payment.
async fn gateway_refunds(till: &Till, payment: &str) -> Vec<Value> {
    let authorization = till.gateway_authorizations(payment).await;
    let id = authorization[0]["id"].as_str().unwrap().to_string();
    let (status, body) = json_of(
        till.http
            .get(format!("{}/v1/refunds", till.gateway))
            .query(&[("authorization", id)])
            .bearer_auth(GATEWAY_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    body["data"].as_array().cloned().unwrap_or_default()
}

async fn refund_status_eventually(till: &Till, refund_id: &str, wanted: &str) -> Value {
    let mut refund = Value::Null;
    for _ in 0..40 {
        let (status, body) = till
            .get(&format!("/v1/refunds/{refund_id}"), SECRET_KEY)
            .await;
        assert_eq!(status, 200, "{body}");
        refund = body;
        if refund["status"] == wanted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    refund
}

#[tokio::test]
async fn refunds_whose_answer_was_lost_are_settled_by_webhook_or_poller() {
    let till = Till::default();
    // The gateway refunds but the answer is lost: its webhook settles Till's refund.
    let payment = paid(&till, 33_300).await;
    till.fault(json!({ "amount": 13_301, "drop_response": true }))
        .await;
    let (status, _) = refund(&till, &payment, 13_301, &new_key()).await;
    assert_eq!(status, 502);
    let at_gateway = gateway_refunds(&till, &payment).await;
    assert_eq!(at_gateway.len(), 1);
    let refund_id = at_gateway[0]["reference"].as_str().unwrap().to_string();
    let settled = refund_status_eventually(&till, &refund_id, "succeeded").await;
    assert_eq!(settled["status"], "succeeded", "{settled}");

    // The request never reached the gateway: the poller sends it again, with the same key.
    let payment = paid(&till, 33_301).await;
    till.fault(json!({ "amount": 13_302, "fail_times": 1 }))
        .await;
    let (status, _) = refund(&till, &payment, 13_302, &new_key()).await;
    assert_eq!(status, 502);
    let (_, reserved) = till
        .get(&format!("/v1/payments/{payment}"), SECRET_KEY)
        .await;
    assert_eq!(
        reserved["amount_refunded"], 13_302,
        "the amount stays reserved"
    );
    assert!(gateway_refunds(&till, &payment).await.is_empty());
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    till.run_poller().await;
    let mut at_gateway = Vec::new();
    for _ in 0..40 {
        at_gateway = gateway_refunds(&till, &payment).await;
        if !at_gateway.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(at_gateway.len(), 1, "sent again exactly once");
    let refund_id = at_gateway[0]["reference"].as_str().unwrap().to_string();
    let settled = refund_status_eventually(&till, &refund_id, "succeeded").await;
    assert_eq!(settled["status"], "succeeded", "{settled}");
}

/// A payment of `amount` left `processing`: the gateway charged it, but its answer and its
/// webhook were lost (plus any extra `fault` settings).
async fn left_processing(till: &Till, amount: i64, fault: Value) -> till_e2e::Session {
    let session = till.create_session(amount).await;
    let token = till.token(&session, "4242424242424242").await;
    let mut settings = json!({ "amount": amount, "drop_response": true, "webhook_drop": true });
    for (name, value) in fault.as_object().into_iter().flatten() {
        settings[name] = value.clone();
    }
    till.fault(settings).await;
    let (status, _, _) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 502);
    session
}

#[tokio::test]
async fn the_poller_records_a_payment_it_cannot_settle_and_settles_the_others() {
    let till = Till::default();
    // The first in line cannot be looked up at the gateway at all.
    let broken = left_processing(&till, 60_611, json!({ "lookup_fail": true })).await;
    let fine = left_processing(&till, 60_612, json!({})).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    till.run_poller().await;
    let mut settled = Value::Null;
    for _ in 0..40 {
        settled = till.payment_of(&fine).await;
        if settled["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(settled["status"], "succeeded", "{settled}");
    let still = till.payment_of(&broken).await;
    assert_eq!(
        (still["status"].as_str(), still["requires_review"].as_bool()),
        (Some("processing"), Some(false)),
        "left for the next poll, not guessed: {still}"
    );
}
