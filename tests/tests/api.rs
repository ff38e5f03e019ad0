//! The payment API over HTTP: the edge under `wrangler dev` against the sandbox gateway.

use serde_json::{json, Value};
use till_e2e::{card, new_key, Till, PUBLISHABLE_KEY, SECRET_KEY};

#[tokio::test]
async fn keys_are_published_as_a_jwks() {
    let jwks = Till::default().jwks().await;
    let key = &jwks.keys[0];
    assert_eq!((key.kty.as_str(), key.crv.as_str()), ("EC", "P-256"));
    assert_eq!(key.alg.as_deref(), Some("ECDH-ES"));
    assert!(key.kid.is_some());
}

#[tokio::test]
async fn the_api_description_is_served_as_written() {
    let till = Till::default();
    let response = till
        .http
        .get(till.url("/v1/openapi.json"))
        .send()
        .await
        .expect("edge reachable");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().ok(),
        Some("application/json")
    );
    let served: serde_json::Value = response.json().await.expect("JSON");
    let written: serde_json::Value =
        serde_json::from_str(include_str!("../../api/openapi.json")).expect("api/openapi.json");
    assert_eq!(served, written);
}

#[tokio::test]
async fn a_card_payment_succeeds_once_and_replays() {
    let till = Till::default();
    let session = till.create_session(5200).await;
    assert_eq!(session.body["status"], "open");
    let token = till.token(&session, "4242424242424242").await;
    let key = new_key();

    let (status, replayed, payment) = till.confirm(&session, &token, &key).await;
    assert_eq!(status, 200, "{payment}");
    assert!(!replayed);
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(payment["amount"], 5200);
    assert_eq!(payment["currency"], "USD");
    assert_eq!(payment["card"]["brand"], "visa");
    assert_eq!(payment["card"]["last4"], "4242");
    let payment_id = payment["id"].as_str().unwrap();
    assert!(payment_id.starts_with("pay_"));

    // The same request again: the stored answer, flagged as a replay, and no second charge.
    let (status, replayed, again) = till.confirm(&session, &token, &key).await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(again, payment);
    let charges = till.gateway_authorizations(payment_id).await;
    assert_eq!(charges.len(), 1, "exactly one charge at the gateway");
    assert_eq!(charges[0]["status"], "captured");
    assert_eq!(charges[0]["amount"], 5200);

    let (status, fetched) = till
        .get(&format!("/v1/payments/{payment_id}"), SECRET_KEY)
        .await;
    assert_eq!(status, 200);
    // The merchant's server sees the card fingerprint; the browser's answer never has it.
    assert!(fetched["card"]["fingerprint"].is_string(), "{fetched}");
    // So does the fraud screening (`risk`), never shown to the browser.
    assert_eq!(fetched["risk"]["level"], "allow", "{fetched}");
    let mut as_the_browser_sees_it = fetched.clone();
    as_the_browser_sees_it["card"]
        .as_object_mut()
        .unwrap()
        .remove("fingerprint");
    as_the_browser_sees_it
        .as_object_mut()
        .unwrap()
        .remove("risk");
    assert_eq!(as_the_browser_sees_it, payment);
    let state = till.session_state(&session).await;
    assert_eq!(state["status"], "complete");
    assert_eq!(state["payment"], payment_id);
    assert!(
        state.get("client_secret").is_none(),
        "the secret is shown only at creation"
    );

    // A paid session takes no other payment.
    let (status, _, body) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "checkout_session_unavailable");
}

#[tokio::test]
async fn a_declined_card_fails_and_the_customer_can_pay_with_another() {
    let till = Till::default();
    let session = till.create_session(1999).await;
    for (number, code) in [
        ("4000000000000002", "card_declined"),
        ("4000000000009995", "insufficient_funds"),
    ] {
        let token = till.token(&session, number).await;
        let (status, _, payment) = till.confirm(&session, &token, &new_key()).await;
        assert_eq!(status, 200, "{payment}");
        assert_eq!(payment["status"], "failed");
        assert_eq!(payment["failure_code"], code);
        assert!(payment["failure_message"]
            .as_str()
            .unwrap()
            .starts_with("Your card"));
        assert_eq!(till.session_state(&session).await["status"], "open");
        // A declined token is used up.
        let (status, _, body) = till.confirm(&session, &token, &new_key()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "token_invalid");
    }
    let token = till.token(&session, "5555555555554444").await;
    let (status, _, payment) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 200);
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(payment["card"]["brand"], "mastercard");
}

#[tokio::test]
async fn same_idempotency_key_with_another_body_is_refused() {
    let till = Till::default();
    let session = till.create_session(1000).await;
    let first = till.token(&session, "4000000000000002").await;
    let key = new_key();
    let (status, _, _) = till.confirm(&session, &first, &key).await;
    assert_eq!(status, 200);
    let second = till.token(&session, "4242424242424242").await;
    let (status, _, body) = till.confirm(&session, &second, &key).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "idempotency_key_reused");
    assert_eq!(till.session_state(&session).await["status"], "open");
}

#[tokio::test]
async fn a_refused_confirm_leaves_its_key_free_for_the_corrected_request() {
    // A confirm claims its idempotency key while the session is still being checked: a refusal
    // must release it, however often it is sent, so the customer's corrected request still pays.
    let till = Till::default();
    let session = till.create_session(1000).await;
    let token = till.token(&session, "4242424242424242").await;
    let key = new_key();
    let wrong = till_e2e::Session {
        id: session.id.clone(),
        client_secret: format!("{}_secret_{}", session.id, "0".repeat(32)),
        body: session.body.clone(),
    };
    let (first, second, third) = tokio::join!(
        till.confirm(&wrong, &token, &key),
        till.confirm(&wrong, &token, &key),
        till.confirm(&wrong, &token, &key),
    );
    for (status, replayed, body) in [first, second, third] {
        assert_eq!((status, replayed), (400, false), "{body}");
        assert_eq!(body["error"]["code"], "client_secret_invalid");
    }
    assert_eq!(till.session_state(&session).await["status"], "open");
    let (status, replayed, payment) = till.confirm(&session, &token, &key).await;
    assert_eq!((status, replayed), (200, false), "{payment}");
    assert_eq!(payment["status"], "succeeded");
    let (status, replayed, again) = till.confirm(&session, &token, &key).await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(again["id"], payment["id"]);
}

#[tokio::test]
async fn confirm_requires_a_valid_idempotency_key() {
    let till = Till::default();
    let session = till.create_session(1000).await;
    let token = till.token(&session, "4242424242424242").await;
    let url = till.url(&format!("/v1/checkout_sessions/{}/confirm", session.id));
    let body = json!({ "client_secret": session.client_secret, "token": token });
    let missing = till
        .http
        .post(&url)
        .bearer_auth(PUBLISHABLE_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, error) = till_e2e::json_of(missing).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (400, Some("idempotency_key_missing"))
    );
    let (status, _, error) = till.confirm(&session, &token, &"k".repeat(256)).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (400, Some("idempotency_key_invalid"))
    );
    // Nothing happened: the session is still open and the token still pays.
    assert_eq!(till.session_state(&session).await["status"], "open");
    let (status, _, payment) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(
        (status, payment["status"].as_str()),
        (200, Some("succeeded"))
    );
}

#[tokio::test]
async fn bad_requests_get_typed_errors_and_change_nothing() {
    let till = Till::default();
    let session = till.create_session(1000).await;
    let create = till.url("/v1/checkout_sessions");

    let malformed = till
        .http
        .post(&create)
        .bearer_auth(SECRET_KEY)
        .header("Content-Type", "application/json")
        .body("{\"amount\": 10")
        .send()
        .await
        .unwrap();
    let (status, body) = till_e2e::json_of(malformed).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("parameter_invalid"))
    );
    assert_eq!(body["error"]["type"], "invalid_request_error");

    let (status, body) = till
        .post(
            "/v1/checkout_sessions",
            SECRET_KEY,
            &json!({ "amount": 100, "currency": "USD", "colour": "red" }),
        )
        .await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("unknown field `colour`"));

    let (status, body) = till
        .post(
            "/v1/checkout_sessions",
            SECRET_KEY,
            &json!({ "amount": 10.5, "currency": "USD" }),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("parameter_invalid"))
    );

    let (status, body) = till
        .post(
            "/v1/checkout_sessions",
            "sk_test_not_a_real_key_000",
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("api_key_invalid"))
    );
    let no_key = till
        .http
        .post(&create)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let (status, body) = till_e2e::json_of(no_key).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("api_key_missing"))
    );
    let (status, body) = till
        .post(
            "/v1/checkout_sessions",
            PUBLISHABLE_KEY,
            &json!({ "amount": 100, "currency": "USD" }),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("secret_key_required"))
    );

    // Card problems are card errors naming the field, and no token is made.
    let (status, body) = till.tokenize(&session, &card("4242424242424241")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (402, Some("invalid_number"))
    );
    assert_eq!(body["error"]["param"], "number");
    let mut expired = card("4242424242424242");
    expired["exp_year"] = json!(2020);
    let (status, body) = till.tokenize(&session, &expired).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (402, Some("expired_card"))
    );
    assert_eq!(body["error"]["param"], "expiry");
    let text = body.to_string();
    assert!(
        !text.contains("4242424242424242") && !text.contains("\"123\""),
        "errors never echo card data"
    );

    // A card encrypted for another session is refused.
    let other = till.create_session(1000).await;
    let foreign = till.encrypt(&other.id, &card("4242424242424242")).await;
    let (status, body) = till
        .post(
            "/v1/tokens",
            PUBLISHABLE_KEY,
            &json!({ "checkout_session": session.id, "client_secret": session.client_secret, "encrypted_card": foreign }),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("encrypted_card_invalid"))
    );

    // The wrong client secret sees nothing.
    let (status, body) = till
        .get(
            &format!(
                "/v1/checkout_sessions/{}?client_secret={}",
                session.id, other.client_secret
            ),
            PUBLISHABLE_KEY,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("client_secret_invalid"))
    );

    // Unknown tokens and payments.
    let (status, _, body) = till
        .confirm(&session, "tok_00000000000040008000000000000000", &new_key())
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("token_invalid"))
    );
    let (status, body) = till
        .get(
            "/v1/payments/pay_00000000000040008000000000000000",
            SECRET_KEY,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("resource_missing"))
    );

    let state = till.session_state(&session).await;
    assert_eq!(state["status"], "open");
    assert_eq!(state["payment"], serde_json::Value::Null);
}

#[tokio::test]
async fn publishable_key_reads_its_session_with_the_client_secret() {
    let till = Till::default();
    let session = till.create_session(4200).await;
    let (status, body) = till
        .get(
            &format!(
                "/v1/checkout_sessions/{}?client_secret={}",
                session.id, session.client_secret
            ),
            PUBLISHABLE_KEY,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["amount"], 4200);
    assert_eq!(body["merchant_name"], "Edge Goods");
    let (status, body) = till
        .get(
            &format!("/v1/checkout_sessions/{}", session.id),
            PUBLISHABLE_KEY,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("client_secret_missing"))
    );
    let (status, _) = till.get("/v1/nothing/here", SECRET_KEY).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn encrypted_cards_are_single_use_fresh_and_decryptable_with_retiring_keys() {
    let till = Till::default();
    let session = till.create_session(2500).await;
    let till = &till;
    let session = &session;
    let send = |jwe: String| async move {
        let body = json!({ "checkout_session": session.id, "client_secret": session.client_secret, "encrypted_card": jwe });
        till.post("/v1/tokens", PUBLISHABLE_KEY, &body).await
    };
    let jwe = till.encrypt(&session.id, &card("4242424242424242")).await;
    let (status, _) = send(jwe.clone()).await;
    assert_eq!(status, 200);
    let (status, body) = send(jwe).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("encrypted_card_replayed"))
    );

    let stale = till_e2e::payload(&card("4242424242424242"), till_e2e::now() - 16 * 60);
    let (status, body) = send(till.encrypt_payload(&session.id, &stale, 0).await).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("encrypted_card_expired"))
    );

    // During rotation the JWKS holds the current key first and the retiring one after it.
    let jwks = till.jwks().await;
    assert!(jwks.keys.len() >= 2, "a retiring key is still published");
    assert_ne!(jwks.keys[0].kid, jwks.keys[1].kid);
    let fresh = till_e2e::payload(&card("4242424242424242"), till_e2e::now());
    let (status, body) = send(till.encrypt_payload(&session.id, &fresh, 1).await).await;
    assert_eq!(status, 200, "the retiring key still decrypts: {body}");
}

#[tokio::test]
async fn the_same_card_has_the_same_fingerprint_everywhere_but_never_in_the_browser() {
    let till = Till::default();
    let mut fingerprints = Vec::new();
    for (amount, number) in [
        (1100, "4242424242424242"),
        (1200, "4242424242424242"),
        (1250, "5555555555554444"),
    ] {
        let session = till.create_session(amount).await;
        let (status, token) = till.tokenize(&session, &card(number)).await;
        assert_eq!(status, 200, "{token}");
        assert!(token["card"].get("fingerprint").is_none(), "{token}");
        let (_, _, payment) = till
            .confirm(&session, token["id"].as_str().unwrap(), &new_key())
            .await;
        assert!(payment["card"].get("fingerprint").is_none(), "{payment}");
        let server_view = till.payment_of(&session).await;
        let fingerprint = server_view["card"]["fingerprint"]
            .as_str()
            .expect("the merchant's server sees the fingerprint")
            .to_string();
        assert_eq!(fingerprint.len(), 32);
        fingerprints.push(fingerprint);
    }
    assert_eq!(fingerprints[0], fingerprints[1]);
    assert_ne!(fingerprints[0], fingerprints[2]);
}

/// `jwe` with its header's sender key (`epk`) given the coordinates `x` and `y`.
fn with_sender_key(jwe: &str, x: &str, y: &str) -> String {
    use till_core::jwe::{b64, unb64};
    let mut parts: Vec<String> = jwe.split('.').map(String::from).collect();
    let mut header: Value = serde_json::from_slice(&unb64(&parts[0]).unwrap()).unwrap();
    header["epk"]["x"] = json!(x);
    header["epk"]["y"] = json!(y);
    parts[0] = b64(header.to_string().as_bytes());
    parts.join(".")
}

#[tokio::test]
async fn a_card_whose_sender_key_was_changed_is_refused_and_stays_usable() {
    let till = Till::default();
    let session = till.create_session(1350).await;
    let send = |jwe: String| {
        let body = json!({ "checkout_session": session.id, "client_secret": session.client_secret, "encrypted_card": jwe });
        let till = &till;
        async move { till.post("/v1/tokens", PUBLISHABLE_KEY, &body).await }
    };
    let jwe = till.encrypt(&session.id, &card("4242424242424242")).await;
    // Two points of the curve that are not the sender's: the edge's own keys.
    let jwks = till.jwks().await;
    let (one, other) = (&jwks.keys[0], &jwks.keys[1]);
    // A key that is no point of the curve is refused as a key, before any agreement; another
    // point agrees on another secret, which opens nothing.
    let (bad_key, undecryptable) = ("key material is invalid.", "could not be decrypted.");
    for (case, changed, why) in [
        (
            "another point",
            with_sender_key(&jwe, &one.x, &one.y),
            undecryptable,
        ),
        (
            "not a point",
            with_sender_key(&jwe, &one.x, &other.y),
            bad_key,
        ),
        (
            "not a coordinate",
            with_sender_key(&jwe, &one.x, "AAAA"),
            bad_key,
        ),
        (
            "not base64url",
            with_sender_key(&jwe, "x\u{1F4B3}é", &one.y),
            "not a compact JWE.",
        ),
    ] {
        let (status, body) = send(changed).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("encrypted_card_invalid")),
            "{case}: {body}"
        );
        assert_eq!(body["error"]["param"], "encrypted_card", "{case}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.ends_with(why), "{case}: {message}");
    }
    // The refusals spent nothing: the card as the widget sent it still becomes a token.
    let (status, token) = send(jwe).await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["card"]["last4"], "4242");
}

#[tokio::test]
async fn a_card_encrypted_to_an_unknown_key_is_refused() {
    let till = Till::default();
    let session = till.create_session(1300).await;
    let mut retired = till.jwks().await.keys.remove(0);
    retired.kid = Some("retired-long-ago".into());
    let plaintext = serde_json::to_vec(&till_e2e::payload(
        &card("4242424242424242"),
        till_e2e::now(),
    ))
    .unwrap();
    let jwe = loop {
        if let Ok(jwe) = till_core::crypto::encrypt(
            &retired,
            &session.id,
            &plaintext,
            till_e2e::random(),
            till_e2e::random(),
        ) {
            break jwe;
        }
    };
    let (status, body) = till
        .post(
            "/v1/tokens",
            PUBLISHABLE_KEY,
            &json!({ "checkout_session": session.id, "client_secret": session.client_secret, "encrypted_card": jwe }),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("encryption_key_unknown"))
    );
}
