//! A merchant's account without SQL: onboarding through the platform API, API keys made,
//! restricted, rolled and revoked, page origins added and removed, and the audit log of it all.
//! Each test onboards its own merchant, so none touches the demo merchant's keys.

use serde_json::{json, Value};
use till_e2e::merchants::{onboard, platform_create, platform_secret};
use till_e2e::{json_of, send, Till};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// The audit log's actions, newest first.
fn actions_in(log: &Value) -> Vec<&str> {
    log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

/// A paid payment of the merchant `till` acts for.
async fn paid(till: &Till, amount: i64) -> Value {
    let session = till.create_session(amount).await;
    let token = till.token(&session, "4242424242424242").await;
    let (status, _, body) = till.confirm(&session, &token, &till_e2e::new_key()).await;
    assert_eq!(status, 200, "confirm: {body}");
    assert_eq!(body["status"], "succeeded", "{body}");
    body
}

/// Calls as a page of `origin` would, with the publishable key.
async fn from_page(till: &Till, origin: &str, session_id: &str) -> u16 {
    let response = send(
        reqwest::Client::new()
            .get(till.url(&format!("/v1/checkout_sessions/{session_id}")))
            .bearer_auth(&till.publishable_key)
            .header("Origin", origin)
            .query(&[("client_secret", "wrong")]),
    )
    .await;
    json_of(response).await.0
}

#[tokio::test]
async fn an_onboarded_merchant_takes_payments_with_the_keys_shown_once() {
    let (merchant_id, till) = onboard("  Seoul Books ", &["http://127.0.0.1:18999"]).await;
    assert!(merchant_id.starts_with("mer_"));
    let payment = paid(&till, 2_500).await;
    let (status, seen) = till
        .get(
            &format!("/v1/payments/{}", payment["id"].as_str().unwrap()),
            &till.secret_key,
        )
        .await;
    assert_eq!(status, 200, "{seen}");
    // The demo merchant cannot see it.
    let demo = Till::default();
    let (status, _) = demo
        .get(
            &format!("/v1/payments/{}", payment["id"].as_str().unwrap()),
            &demo.secret_key,
        )
        .await;
    assert_eq!(status, 404);

    // The keys are listed without their secrets, by prefix and last four characters.
    let (status, keys) = till.get("/v1/api_keys", &till.secret_key).await;
    assert_eq!(status, 200, "{keys}");
    let keys = keys["data"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for key in keys {
        assert!(key.get("secret").is_none(), "{key}");
        let redacted = key["redacted"].as_str().unwrap();
        let shown = if key["kind"] == "secret" {
            &till.secret_key
        } else {
            &till.publishable_key
        };
        assert!(
            shown.ends_with(&redacted[redacted.len() - 4..]),
            "{redacted}"
        );
        assert!(!redacted.contains(&shown[8..20]));
    }
    let (_, log) = till.get("/v1/audit_log", &till.secret_key).await;
    assert_eq!(log["data"][0]["action"], "merchant.created");
    assert_eq!(log["data"][0]["actor"], "platform");
    assert_eq!(log["data"][0]["target"], merchant_id.as_str());

    // Its registered page may call with the publishable key; another page may not.
    let session = till.create_session(100).await;
    assert_eq!(
        from_page(&till, "http://127.0.0.1:18999", &session.id).await,
        400,
        "wrong client secret, but let in"
    );
    assert_eq!(
        from_page(&till, "http://127.0.0.1:18998", &session.id).await,
        403
    );
}

#[tokio::test]
async fn onboarding_needs_the_platform_secret_and_valid_details() {
    let till = Till::default();
    for secret in [
        "",
        "sk_test_till_demo_merchant_secret",
        "not-the-platform-secret-at-all-0000",
    ] {
        let (status, body) = platform_create(&till, secret, "Nope", &[]).await;
        assert_eq!(status, 401, "{secret:?}: {body}");
    }
    let secret = platform_secret();
    for (name, origins, expected) in [
        ("", vec![], "name_invalid"),
        ("a\u{0}b", vec![], "name_invalid"),
        (
            "Shop",
            vec!["https://shop.example/checkout"],
            "origin_invalid",
        ),
        ("Shop", vec!["javascript:alert(1)"], "origin_invalid"),
    ] {
        let (status, body) = platform_create(&till, &secret, name, &origins).await;
        assert_eq!(
            (status, code(&body)),
            (400, expected),
            "{name:?} {origins:?}: {body}"
        );
    }
    let (status, body) = till
        .post(
            "/v1/platform/merchants",
            &secret,
            &json!({ "name": "Shop", "admin": true }),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "parameter_invalid"), "{body}");
}

#[tokio::test]
async fn restricted_keys_reach_only_what_their_scopes_name() {
    let (_, till) = onboard("Restricted Shop", &[]).await;
    let payment = paid(&till, 1_800).await;
    let payment_path = format!("/v1/payments/{}", payment["id"].as_str().unwrap());
    let (status, made) = till
        .post(
            "/v1/api_keys",
            &till.secret_key,
            &json!({ "kind": "restricted", "name": "reports", "scopes": ["payments:read", "customers:write"] }),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["scopes"], json!(["payments:read", "customers:write"]));
    let restricted = made["secret"].as_str().unwrap().to_string();
    assert!(restricted.starts_with("rk_test_"));

    assert_eq!(till.get(&payment_path, &restricted).await.0, 200);
    let (status, body) = till
        .post_with_key(
            "/v1/refunds",
            &restricted,
            &json!({ "payment": payment["id"], "amount": 100 }),
        )
        .await;
    assert_eq!((status, code(&body)), (403, "permission_denied"), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("refunds:write"),
        "{body}"
    );
    let (status, body) = till
        .post_with_key(&format!("{payment_path}/cancel"), &restricted, &json!({}))
        .await;
    assert_eq!(
        (status, code(&body)),
        (403, "permission_denied"),
        "payments:read is not write: {body}"
    );
    // write includes read.
    let (status, body) = till
        .post("/v1/customers", &restricted, &json!({ "name": "Min" }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(till.get("/v1/customers", &restricted).await.0, 200);
    // Never key management, whatever its scopes.
    for (status, body) in [
        till.get("/v1/api_keys", &restricted).await,
        till.post("/v1/api_keys", &restricted, &json!({ "kind": "secret" }))
            .await,
        till.get("/v1/origins", &restricted).await,
        till.get("/v1/audit_log", &restricted).await,
    ] {
        assert_eq!((status, code(&body)), (403, "permission_denied"), "{body}");
    }
    // Nothing the refused calls asked for happened.
    let (_, after) = till.get(&payment_path, &till.secret_key).await;
    assert_eq!(after["amount_refunded"], 0);
    assert_eq!(after["status"], "succeeded");

    for (body, expected) in [
        (json!({ "kind": "restricted" }), "scopes_invalid"),
        (
            json!({ "kind": "restricted", "scopes": ["payments:admin"] }),
            "scopes_invalid",
        ),
        (
            json!({ "kind": "restricted", "scopes": ["api_keys:write"] }),
            "scopes_invalid",
        ),
        (
            json!({ "kind": "secret", "scopes": ["payments:read"] }),
            "scopes_invalid",
        ),
        (json!({ "kind": "root" }), "key_kind_invalid"),
        (
            json!({ "kind": "secret", "name": "x".repeat(201) }),
            "name_invalid",
        ),
    ] {
        let (status, answer) = till.post("/v1/api_keys", &till.secret_key, &body).await;
        assert_eq!((status, code(&answer)), (400, expected), "{body}: {answer}");
    }
    let (_, keys) = till.get("/v1/api_keys", &till.secret_key).await;
    assert_eq!(
        keys["data"].as_array().unwrap().len(),
        3,
        "refused requests made no keys"
    );
}

#[tokio::test]
async fn a_rolled_key_works_until_its_expiry_and_a_revoked_key_stops_at_once() {
    let (_, till) = onboard("Rolling Shop", &[]).await;
    let first_secret = till.secret_key.clone();
    let (_, keys) = till.get("/v1/api_keys", &first_secret).await;
    let id_of = |keys: &Value, kind: &str| {
        keys["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kind"] == kind)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first_id = id_of(&keys, "secret");

    // Rolled with an hour's grace: both keys work.
    let (status, second) = till
        .post(
            &format!("/v1/api_keys/{first_id}/roll"),
            &first_secret,
            &json!({ "expires_in": 3600 }),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    let second_secret = second["secret"].as_str().unwrap().to_string();
    assert_ne!(second_secret, first_secret);
    assert_eq!(till.get("/v1/balance", &first_secret).await.0, 200);
    assert_eq!(till.get("/v1/balance", &second_secret).await.0, 200);
    let (status, body) = till
        .post(
            &format!("/v1/api_keys/{first_id}/roll"),
            &second_secret,
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (409, "api_key_inactive"),
        "rolled twice: {body}"
    );

    // Rolled with no grace: the old key answers that it expired.
    let second_id = second["id"].as_str().unwrap().to_string();
    let roll_path = format!("/v1/api_keys/{second_id}/roll");
    let no_grace = json!({ "expires_in": 0 });
    let concurrent = (0..5).map(|_| till.post(&roll_path, &second_secret, &no_grace));
    let answers = futures_util::future::join_all(concurrent).await;
    let winners: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one roll wins: {answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
        // The losers either lost the race in storage or came after the key expired.
        assert!(
            (*status == 409 && code(body) == "api_key_inactive")
                || (*status == 401 && code(body) == "api_key_expired"),
            "{status} {body}"
        );
    }
    let third_secret = winners[0]["secret"].as_str().unwrap().to_string();
    let (status, body) = till.get("/v1/balance", &second_secret).await;
    assert_eq!((status, code(&body)), (401, "api_key_expired"), "{body}");
    assert_eq!(till.get("/v1/balance", &third_secret).await.0, 200);
    let (_, keys) = till.get("/v1/api_keys", &third_secret).await;
    let secrets: Vec<&Value> = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kind"] == "secret")
        .collect();
    assert_eq!(secrets.len(), 3, "one new key per successful roll: {keys}");

    // Revoking: never itself; another key stops at once; again changes nothing.
    let (_, made) = till
        .post(
            "/v1/api_keys",
            &third_secret,
            &json!({ "kind": "secret", "name": "ci" }),
        )
        .await;
    let spare = made["secret"].as_str().unwrap().to_string();
    let spare_id = made["id"].as_str().unwrap().to_string();
    let (status, body) = till
        .post(
            &format!("/v1/api_keys/{spare_id}/revoke"),
            &spare,
            &json!({}),
        )
        .await;
    assert_eq!((status, code(&body)), (409, "api_key_in_use"), "{body}");
    let (status, revoked) = till
        .post(
            &format!("/v1/api_keys/{spare_id}/revoke"),
            &third_secret,
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["revoked"].is_i64(), "{revoked}");
    let (status, body) = till.get("/v1/balance", &spare).await;
    assert_eq!((status, code(&body)), (401, "api_key_invalid"), "{body}");
    let (status, again) = till
        .post(
            &format!("/v1/api_keys/{spare_id}/revoke"),
            &third_secret,
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, &again["revoked"]),
        (200, &revoked["revoked"]),
        "revoking again changes nothing"
    );

    // Another merchant's key ids and made-up ids are not found.
    let demo = Till::default();
    for id in [
        spare_id.as_str(),
        "key_00000000000040008000000000000000",
        "../api_keys",
        "key_'",
    ] {
        let (status, body) = demo
            .post(
                &format!("/v1/api_keys/{id}/revoke"),
                &demo.secret_key,
                &json!({}),
            )
            .await;
        assert_eq!(status, 404, "{id}: {body}");
    }
    assert_eq!(till.get("/v1/balance", &third_secret).await.0, 200);

    // The audit log tells it all, newest first, with who did it.
    let (_, log) = till.get("/v1/audit_log?limit=100", &third_secret).await;
    let actions = actions_in(&log);
    assert_eq!(
        actions,
        [
            "api_key.revoked",
            "api_key.created",
            "api_key.rolled",
            "api_key.rolled",
            "merchant.created"
        ],
        "{log}"
    );
    assert_eq!(log["data"][4]["actor"], "platform");
    assert_eq!(log["data"][3]["actor"], format!("api_key:{first_id}"));
    assert_eq!(log["data"][3]["target"], first_id.as_str());
}

#[tokio::test]
async fn origins_are_added_normalized_and_removed_through_the_api() {
    let (_, till) = onboard("Origin Shop", &[]).await;
    let session = till.create_session(100).await;
    assert_eq!(
        from_page(&till, "http://127.0.0.1:18997", &session.id).await,
        403
    );
    let (status, added) = till
        .post(
            "/v1/origins",
            &till.secret_key,
            &json!({ "origin": "HTTP://127.0.0.1:18997/" }),
        )
        .await;
    assert_eq!(status, 200, "{added}");
    assert_eq!(added["origin"], "http://127.0.0.1:18997");
    let (status, again) = till
        .post(
            "/v1/origins",
            &till.secret_key,
            &json!({ "origin": "http://127.0.0.1:18997" }),
        )
        .await;
    assert_eq!((status, &again["origin"]), (200, &added["origin"]));
    let (_, listed) = till.get("/v1/origins", &till.secret_key).await;
    assert_eq!(
        listed["data"],
        json!([{ "object": "origin", "origin": "http://127.0.0.1:18997" }])
    );
    assert_eq!(
        from_page(&till, "http://127.0.0.1:18997", &session.id).await,
        400,
        "let in"
    );

    for origin in [
        "https://shop.example/checkout",
        "https://shop.example?x=1",
        "https://user:pw@shop.example",
        "ftp://shop.example",
        "",
        "https://\u{1F4B3}.example/\u{0}",
    ] {
        let (status, body) = till
            .post(
                "/v1/origins",
                &till.secret_key,
                &json!({ "origin": origin }),
            )
            .await;
        assert_eq!(
            (status, code(&body)),
            (400, "origin_invalid"),
            "{origin:?}: {body}"
        );
    }

    let encoded = "http%3A%2F%2F127.0.0.1%3A18997";
    let response = send(
        reqwest::Client::new()
            .delete(till.url(&format!("/v1/origins/{encoded}")))
            .bearer_auth(&till.secret_key),
    )
    .await;
    let (status, removed) = json_of(response).await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(
        from_page(&till, "http://127.0.0.1:18997", &session.id).await,
        403
    );
    let response = send(
        reqwest::Client::new()
            .delete(till.url(&format!("/v1/origins/{encoded}")))
            .bearer_auth(&till.secret_key),
    )
    .await;
    assert_eq!(json_of(response).await.0, 404, "already removed");
    let (_, log) = till.get("/v1/audit_log", &till.secret_key).await;
    let actions = actions_in(&log);
    assert_eq!(
        actions,
        ["origin.removed", "origin.added", "merchant.created"],
        "a no-op is not logged"
    );
}
