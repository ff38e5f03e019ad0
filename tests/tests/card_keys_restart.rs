//! The edge checks its card keys in WebCrypto when an isolate first needs them. A key whose
//! public half is not its private key's, or whose private scalar is not one of the curve's,
//! would have widgets encrypt cards that nobody can open. The edge is restarted with such keys
//! and then with its own again. Its own test binary, so the restarts disturb no other test.

use serde_json::Value;
use till_core::crypto::{CardKey, PrivateJwk};
use till_core::jwe::b64;
use till_e2e::{card, json_of, restart_edge, restart_edge_with, Till};

fn private_jwk(kid: &str, seed: u8) -> PrivateJwk {
    CardKey::from_secret_bytes(kid, [seed; 32])
        .expect("a P-256 scalar")
        .to_private_jwk()
}

#[tokio::test]
async fn card_keys_that_do_not_hold_together_publish_nothing_and_open_nothing() {
    let till = Till::default();
    let published = till.jwks().await;
    let session = till.create_session(1_000).await;
    let encrypted_card = till.encrypt(&session.id, &card("4242424242424242")).await;

    let mut another_points_half = private_jwk("k-mismatched", 7);
    another_points_half.y = private_jwk("k-other", 8).y;
    let mut past_the_order = private_jwk("k-past-the-order", 7);
    past_the_order.d = b64(&[0xff; 32]);
    for (what, broken) in [
        ("a public half of another key", another_points_half),
        ("a scalar past the curve's order", past_the_order),
    ] {
        // The current key is sound; the retiring one is broken, and so is the whole set.
        let keys = serde_json::to_string(&[private_jwk("k-sound", 9), broken]).expect("JSON");
        let _overridden = restart_edge_with(&[("CARD_ENCRYPTION_KEYS", &keys)]).await;
        let keys_answer = till.http.get(till.url("/v1/keys")).send().await;
        let (status, body) = json_of(keys_answer.expect("edge reachable")).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (500, &Value::from("internal_error")),
            "with {what}: {body}"
        );
        let (status, body) =
            json_of(till.send_token_request(&session, &encrypted_card).await).await;
        assert_eq!(status, 500, "with {what}: {body}");
    }

    // With its own keys again, the edge publishes what it published before, and the card
    // encrypted then (refused twice meanwhile) still becomes a token.
    restart_edge().await;
    assert_eq!(till.jwks().await, published);
    let (status, body) = json_of(till.send_token_request(&session, &encrypted_card).await).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id"].as_str().is_some_and(|id| id.starts_with("tok_")));
}
