//! Fraud screening through the real edge and sandbox: each outcome of the rules (allow,
//! 3-D Secure step-up, review, block), the rules API with its dry run, the card-testing
//! default, and velocity limits that hold exactly when 200 attempts arrive at once, count each
//! history apart from the others in its object, and count no request refused before the rules
//! (a saved card's code that is missing or wrong among them).

use serde_json::{json, Value};
use till_core::risk_rules::Subject;
use till_core::velocity::{hidden_key, history_name, object_name};
use till_e2e::merchants::onboard;
use till_e2e::{json_of, new_key, send, Session, Till};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Stripe's test cards issued in Brazil and in Germany (the sandbox's BIN table says so).
const BRAZIL: &str = "4000000760000002";
const GERMANY: &str = "4000002760000016";
const US: &str = "4242424242424242";
/// Cards of a BIN only one test uses (the sandbox's table: New Zealand, prepaid).
const ONE_BIN: [&str; 4] = [
    "4512773400000019",
    "4512773412345675",
    "4512773476543215",
    "4512773424680242",
];

async fn add_rule(till: &Till, rule: &str) -> Value {
    let (status, body) = till
        .post("/v1/risk/rules", &till.secret_key, &json!({ "rule": rule }))
        .await;
    assert_eq!(status, 200, "{rule}: {body}");
    body
}

/// Pays a new session of `amount` with `number`: the confirm's status and body.
async fn attempt(till: &Till, amount: i64, number: &str) -> (Session, u16, Value) {
    let session = till.create_session(amount).await;
    let token = till.token(&session, number).await;
    let (status, body) = confirm_once(till, &session, &token).await;
    (session, status, body)
}

/// Confirms `session` with `token` under one key. A gateway call that timed out (502: nothing
/// decided yet, likely while other tests load both cores, one of them with 200 attempts at
/// once) is retried with the same key, as a client should; a retry is not counted again.
async fn confirm_once(till: &Till, session: &Session, token: &str) -> (u16, Value) {
    let key = new_key();
    let (mut status, _, mut body) = till.confirm(session, token, &key).await;
    for _ in 0..30 {
        if status != 502 {
            break;
        }
        (status, _, body) = till.confirm(session, token, &key).await;
    }
    (status, body)
}

async fn merchant_view(till: &Till, id: &str) -> Value {
    let (status, payment) = till
        .get(&format!("/v1/payments/{id}"), &till.secret_key)
        .await;
    assert_eq!(status, 200, "{payment}");
    payment
}

async fn event_types(till: &Till) -> Vec<String> {
    let (status, events) = till.get("/v1/events?limit=100", &till.secret_key).await;
    assert_eq!(status, 200, "{events}");
    events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_blocked_attempt_is_a_402_that_names_no_rule_and_never_reaches_the_gateway() {
    let (_, till) = onboard("Risk Block Shop", &[]).await;
    let rule = "block if card_country in ('BR', 'KP')";
    add_rule(&till, rule).await;

    let session = till.create_session(2_000).await;
    let token = till.token(&session, BRAZIL).await;
    let key = new_key();
    let (status, _, refused) = till.confirm(&session, &token, &key).await;
    assert_eq!(
        (status, code(&refused)),
        (402, "blocked_by_risk"),
        "{refused}"
    );
    assert!(
        !refused.to_string().contains("card_country"),
        "the rule stays secret: {refused}"
    );
    let (status, replayed, again) = till.confirm(&session, &token, &key).await;
    assert_eq!(
        (status, replayed),
        (402, true),
        "a retry gets the same: {again}"
    );

    // The merchant sees a failed payment, why, and that no gateway saw it.
    let (status, listed) = till.get("/v1/payments", &till.secret_key).await;
    assert_eq!(status, 200, "{listed}");
    let id = listed["data"][0]["id"]
        .as_str()
        .expect("the attempt is recorded")
        .to_string();
    let payment = merchant_view(&till, &id).await;
    assert_eq!(payment["status"], "failed");
    assert_eq!(payment["failure_code"], "blocked_by_risk");
    assert_eq!(payment["risk"]["level"], "block");
    assert_eq!(payment["risk"]["score"], 100);
    assert_eq!(payment["risk"]["rules"], json!([rule]));
    assert!(till.gateway_authorizations(&id).await.is_empty());

    // The customer may pay the same checkout with another card; an ordinary one is allowed.
    let token = till.token(&session, US).await;
    let (status, paid) = confirm_once(&till, &session, &token).await;
    assert_eq!(
        (status, paid["status"].as_str()),
        (200, Some("succeeded")),
        "{paid}"
    );
    assert!(
        paid.get("risk").is_none(),
        "the browser never sees the screening: {paid}"
    );
    let paid = merchant_view(&till, paid["id"].as_str().unwrap()).await;
    assert_eq!(
        paid["risk"],
        json!({"score": 0, "level": "allow", "rules": []})
    );
}

#[tokio::test]
async fn a_rule_asking_for_3ds_challenges_a_card_the_issuer_would_pass() {
    let (_, till) = onboard("Risk Step-up Shop", &[]).await;
    add_rule(&till, "request_3ds if amount_usd >= 150").await;
    let (_, status, small) = attempt(&till, 14_999, US).await;
    assert_eq!((status, small["status"].as_str()), (200, Some("succeeded")));

    let (session, status, held) = attempt(&till, 15_000, US).await;
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["status"], "requires_action", "{held}");
    assert_eq!(held["next_action"]["type"], "otp_challenge");
    let id = held["id"].as_str().unwrap();
    let (status, passed) = till
        .post(
            &format!("/v1/payments/{id}/challenge"),
            &till.publishable_key,
            &json!({ "client_secret": session.client_secret, "otp": "123456" }),
        )
        .await;
    assert_eq!(
        (status, passed["status"].as_str()),
        (200, Some("succeeded")),
        "{passed}"
    );
    let payment = merchant_view(&till, id).await;
    assert_eq!(payment["risk"]["level"], "request_3ds");
    assert_eq!(payment["risk"]["score"], 30);
}

#[tokio::test]
async fn a_review_holds_the_capture_until_approved_and_a_rejection_voids() {
    let (_, till) = onboard("Risk Review Shop", &[]).await;
    add_rule(&till, "review if amount_usd >= 300").await;

    let (_, status, held) = attempt(&till, 30_000, US).await;
    assert_eq!(status, 200, "{held}");
    assert_eq!(
        held["status"], "requires_capture",
        "authorized only: {held}"
    );
    assert!(held.get("review").is_none(), "{held}");
    let id = held["id"].as_str().unwrap().to_string();
    let payment = merchant_view(&till, &id).await;
    assert_eq!(
        (
            payment["review"].as_str(),
            payment["amount_captured"].as_i64()
        ),
        (Some("open"), Some(0))
    );
    let authorizations = till.gateway_authorizations(&id).await;
    assert_eq!(authorizations.len(), 1);
    assert_eq!(authorizations[0]["status"], "authorized");

    let (status, queue) = till.get("/v1/reviews", &till.secret_key).await;
    assert_eq!(status, 200, "{queue}");
    let queued: Vec<&str> = queue["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(queued, [id.as_str()]);

    // Held: neither captured nor voided except through the review.
    let (status, refused) = till
        .post_with_key(
            &format!("/v1/payments/{id}/capture"),
            &till.secret_key,
            &json!({}),
        )
        .await;
    assert_eq!((status, code(&refused)), (409, "payment_under_review"));
    let (status, refused) = till
        .post_with_key(
            &format!("/v1/payments/{id}/cancel"),
            &till.secret_key,
            &json!({}),
        )
        .await;
    assert_eq!((status, code(&refused)), (409, "payment_under_review"));

    let approve = format!("/v1/reviews/{id}/approve");
    let (status, approved) = till.post(&approve, &till.secret_key, &json!({})).await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["status"], "succeeded");
    assert_eq!(approved["review"], "approved");
    assert_eq!(approved["amount_captured"], 30_000);
    let (status, again) = till.post(&approve, &till.secret_key, &json!({})).await;
    assert_eq!(
        (status, again["amount_captured"].as_i64()),
        (200, Some(30_000))
    );
    let (status, late) = till
        .post(
            &format!("/v1/reviews/{id}/reject"),
            &till.secret_key,
            &json!({}),
        )
        .await;
    assert_eq!((status, code(&late)), (409, "review_not_open"));
    assert_eq!(
        till.gateway_authorizations(&id).await[0]["status"],
        "captured"
    );

    // Another held payment, rejected: voided at the gateway, out of the queue.
    let (_, _, second) = attempt(&till, 31_000, US).await;
    let second = second["id"].as_str().unwrap().to_string();
    let (status, rejected) = till
        .post(
            &format!("/v1/reviews/{second}/reject"),
            &till.secret_key,
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{rejected}");
    assert_eq!(
        (rejected["status"].as_str(), rejected["review"].as_str()),
        (Some("canceled"), Some("rejected"))
    );
    assert_eq!(
        till.gateway_authorizations(&second).await[0]["status"],
        "voided"
    );
    let (_, queue) = till.get("/v1/reviews", &till.secret_key).await;
    assert_eq!(queue["data"], json!([]));

    // Another merchant's payment is no review of this one's; a payment never held has none.
    let (status, foreign) = Till::default()
        .post(&approve, &Till::default().secret_key, &json!({}))
        .await;
    assert_eq!((status, code(&foreign)), (404, "resource_missing"));
    let (_, _, plain) = attempt(&till, 1_000, US).await;
    let (status, none) = till
        .post(
            &format!("/v1/reviews/{}/approve", plain["id"].as_str().unwrap()),
            &till.secret_key,
            &json!({}),
        )
        .await;
    assert_eq!((status, code(&none)), (409, "review_not_open"));

    let types = event_types(&till).await;
    assert_eq!(
        types.iter().filter(|t| *t == "review.opened").count(),
        2,
        "{types:?}"
    );
    assert_eq!(
        types.iter().filter(|t| *t == "review.closed").count(),
        2,
        "{types:?}"
    );
}

#[tokio::test]
async fn rules_are_checked_listed_switched_and_dry_run_against_past_attempts() {
    let (_, till) = onboard("Risk Rules Shop", &[]).await;
    let secret = till.secret_key.clone();
    let (status, bad) = till
        .post(
            "/v1/risk/rules",
            &secret,
            &json!({ "rule": "block if amount >" }),
        )
        .await;
    assert_eq!((status, code(&bad)), (400, "rule_invalid"));
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("character 18"),
        "{bad}"
    );
    for body in [
        json!({}),
        json!({ "rule": 5 }),
        json!({ "rule": "x".repeat(600) }),
    ] {
        let (status, refused) = till.post("/v1/risk/rules", &secret, &body).await;
        assert_eq!(status, 400, "{body}: {refused}");
    }
    let rule = "review if amount_usd >= 100 and card_brand == 'visa'";
    let own = add_rule(&till, rule).await;
    assert_eq!(
        (own["enabled"].as_bool(), own["default"].as_bool()),
        (Some(true), Some(false))
    );
    let (status, twice) = till
        .post("/v1/risk/rules", &secret, &json!({ "rule": rule }))
        .await;
    assert_eq!((status, code(&twice)), (409, "rule_exists"));
    let (status, default_again) = till
        .post(
            "/v1/risk/rules",
            &secret,
            &json!({ "rule": "block if declines(card, 1h) >= 5" }),
        )
        .await;
    assert_eq!((status, code(&default_again)), (409, "rule_exists"));

    let (status, listed) = till.get("/v1/risk/rules", &secret).await;
    assert_eq!(status, 200);
    let rules = listed["data"].as_array().unwrap();
    assert_eq!(
        rules.len(),
        7,
        "six defaults and the merchant's own: {listed}"
    );
    assert!(rules[..6]
        .iter()
        .all(|r| r["default"] == true && r["enabled"] == true));

    let default = "/v1/risk/rules/rule_default_geo_mismatch";
    let (status, off) = till
        .post(default, &secret, &json!({ "enabled": false }))
        .await;
    assert_eq!(
        (status, off["enabled"].as_bool()),
        (200, Some(false)),
        "{off}"
    );
    let delete = |path: String| {
        let till = &till;
        async move {
            json_of(
                send(
                    till.http
                        .delete(till.url(&path))
                        .bearer_auth(&till.secret_key),
                )
                .await,
            )
            .await
        }
    };
    let (status, kept) = delete(default.to_string()).await;
    assert_eq!((status, code(&kept)), (409, "default_rule_kept"));

    // Another merchant cannot see, switch or delete this one's rule.
    let own_id = own["id"].as_str().unwrap();
    let other = Till::default();
    let (status, _) = other
        .post(
            &format!("/v1/risk/rules/{own_id}"),
            &other.secret_key,
            &json!({ "enabled": false }),
        )
        .await;
    assert_eq!(status, 404);
    for id in ["rule_default_nope", "pay_123", "rule_%2E%2E"] {
        let (status, _) = till
            .post(
                &format!("/v1/risk/rules/{id}"),
                &secret,
                &json!({ "enabled": true }),
            )
            .await;
        assert_eq!(status, 404, "{id}");
    }

    // Three attempts, two of them at or over $100; a dry run counts what the rule would hit.
    for amount in [5_000, 10_000, 25_000] {
        let (_, status, body) = attempt(&till, amount, US).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, run) = till
        .post(
            "/v1/risk/dry_runs",
            &secret,
            &json!({ "rule": "block if amount_usd >= 100" }),
        )
        .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(
        (run["attempts"].as_i64(), run["hits"].as_i64()),
        (Some(3), Some(2)),
        "{run}"
    );
    assert_eq!(run["examples"].as_array().unwrap().len(), 2);
    let (status, run) = till
        .post(
            "/v1/risk/dry_runs",
            &secret,
            &json!({ "rule": "review if attempts(card, 1h) >= 3" }),
        )
        .await;
    assert_eq!(
        (status, run["hits"].as_i64()),
        (200, Some(1)),
        "the third attempt of the card: {run}"
    );
    let (status, bad) = till
        .post(
            "/v1/risk/dry_runs",
            &secret,
            &json!({ "rule": "hold if amount > 1" }),
        )
        .await;
    assert_eq!((status, code(&bad)), (400, "rule_invalid"));

    let (status, deleted) = delete(format!("/v1/risk/rules/{own_id}")).await;
    assert_eq!((status, deleted["deleted"].as_bool()), (200, Some(true)));
    let (status, _) = delete(format!("/v1/risk/rules/{own_id}")).await;
    assert_eq!(status, 404);

    // At most 50 rules of its own; the 51st is refused and nothing is added.
    for n in 0..50 {
        add_rule(&till, &format!("review if amount > {}", 1_000 + n)).await;
    }
    let (status, full) = till
        .post(
            "/v1/risk/rules",
            &secret,
            &json!({ "rule": "review if amount > 1" }),
        )
        .await;
    assert_eq!((status, code(&full)), (409, "rule_limit"), "{full}");
    let (_, listed) = till.get("/v1/risk/rules", &secret).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 6 + 50);
}

/// A valid card number of `prefix` (15 digits) with its Luhn check digit.
fn luhn(prefix: &str) -> String {
    let sum: u32 = prefix
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).unwrap();
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    format!("{prefix}{}", (10 - sum % 10) % 10)
}

#[tokio::test]
async fn card_testing_from_one_address_is_blocked_at_the_tenth_card() {
    // Till's default `block if distinct_cards(ip, 1h) >= 10`: the tenth different card from one
    // client address is refused before the gateway, and every one after it.
    let (_, till) = onboard("Risk Card Testing Shop", &[]).await;
    for n in 1..=11 {
        let number = luhn(&format!("4000001111{n:05}"));
        let (_, status, body) = attempt(&till, 100 + n, &number).await;
        if n < 10 {
            assert_eq!(status, 200, "card {n}: {body}");
        } else {
            assert_eq!(
                (status, code(&body)),
                (402, "blocked_by_risk"),
                "card {n}: {body}"
            );
        }
    }
    // Another customer, from another address, pays as usual.
    let (_, other) = onboard("Risk Card Testing Shop 2", &[]).await;
    let (_, status, _) = attempt(&other, 500, US).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_confirm_refused_before_the_rules_is_not_counted_as_an_attempt() {
    let (_, till) = onboard("Risk Counted Attempts Shop", &[]).await;
    add_rule(&till, "block if attempts(card, 1h) > 1").await;
    let session = till.create_session(700).await;
    let token = till.token(&session, US).await;
    // A guest's checkout cannot save a card: refused before the card is screened, twice.
    for _ in 0..2 {
        let (status, body) = json_of(
            send(
                till.http
                    .post(till.url(&format!("/v1/checkout_sessions/{}/confirm", session.id)))
                    .bearer_auth(&till.publishable_key)
                    .header("Idempotency-Key", new_key())
                    .json(&json!({
                        "client_secret": session.client_secret,
                        "token": token,
                        "save_payment_method": true,
                    })),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, code(&body), body["error"]["param"].as_str()),
            (400, "parameter_invalid", Some("save_payment_method")),
            "{body}"
        );
    }
    let (status, body) = confirm_once(&till, &session, &token).await;
    assert_eq!(status, 200, "the card's first attempt: {body}");
    let (_, status, body) = attempt(&till, 701, US).await;
    assert_eq!(
        (status, code(&body)),
        (402, "blocked_by_risk"),
        "the card's second attempt: {body}"
    );
}

#[tokio::test]
async fn a_velocity_limit_holds_exactly_with_200_parallel_attempts() {
    // The risk test merchant: raised rate limits, so only the rule decides.
    let till = Till::for_merchant(
        "sk_test_till_risk_merchant_secret",
        "pk_test_till_risk_merchant_publishable",
    );
    let rule = add_rule(
        &till,
        "block if card_country == 'DE' and attempts(card, 1h) > 50",
    )
    .await;
    let mut ready = Vec::new();
    for chunk in 0..10 {
        let made = futures_util::future::join_all((0..20).map(|i| {
            let till = &till;
            async move {
                let session = till.create_session(1_000 + chunk * 20 + i).await;
                let token = till.token(&session, GERMANY).await;
                (session, token)
            }
        }))
        .await;
        ready.extend(made);
    }
    // Two cores serve all 200 at once: a gateway call may time out (502, nothing decided), and
    // the client retries with the same key, as it should; a retry is not counted again.
    let answers = futures_util::future::join_all(ready.iter().map(|(session, token)| async {
        let key = new_key();
        let mut answer = till.confirm(session, token, &key).await;
        for _ in 0..30 {
            if answer.0 != 502 {
                break;
            }
            answer = till.confirm(session, token, &key).await;
        }
        answer
    }))
    .await;
    let paid = answers
        .iter()
        .filter(|(status, _, _)| *status == 200)
        .count();
    let blocked = answers
        .iter()
        .filter(|(status, _, body)| *status == 402 && code(body) == "blocked_by_risk")
        .count();
    assert_eq!(
        (paid, blocked),
        (50, 150),
        "{:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    for (_, _, body) in answers.iter().filter(|(status, _, _)| *status == 200) {
        assert_eq!(body["status"], "succeeded", "{body}");
    }
    let id = rule["id"].as_str().unwrap();
    let (status, _) = json_of(
        send(
            till.http
                .delete(till.url(&format!("/v1/risk/rules/{id}")))
                .bearer_auth(&till.secret_key),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn cards_of_one_bin_ask_the_provider_once_and_keep_what_it_said() {
    let (_, till) = onboard("Risk BIN Shop", &[]).await;
    add_rule(
        &till,
        "block if card_country == 'NZ' and card_funding == 'prepaid'",
    )
    .await;
    for number in ONE_BIN {
        let (_, status, body) = attempt(&till, 2_000, number).await;
        assert_eq!(
            (status, code(&body)),
            (402, "blocked_by_risk"),
            "{number}: the BIN's record applies to every card of it: {body}"
        );
    }
    let (status, asked) = json_of(
        send(
            till.http
                .get(format!("{}/v1/bins/45127734/lookups", till.gateway)),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{asked}");
    // The edge keeps the answer in its isolate; a restart of the local runtime between two
    // cards (a new isolate) may ask once more, never once per card.
    let lookups = asked["lookups"].as_u64().expect("a count");
    assert!((1..=2).contains(&lookups), "{lookups} lookups for 4 cards");
}

#[tokio::test]
async fn histories_that_share_an_object_count_only_their_own_attempts() {
    // A merchant's velocity histories share its few objects: two customers' emails that the
    // core puts in one object, and a limit of two attempts per email an hour.
    let (merchant_id, till) = onboard("Risk Shared Histories Shop", &[]).await;
    add_rule(&till, "block if attempts(email, 1h) > 2").await;
    let object_of = |email: &str| {
        let key = hidden_key(&merchant_id, email);
        object_name(
            &merchant_id,
            &history_name(&merchant_id, Subject::Email, &key),
        )
    };
    let first = "ana@example.com";
    let second = (0..)
        .map(|n| format!("customer-{n}@example.com"))
        .find(|email| object_of(email) == object_of(first))
        .unwrap();
    let pay_as = |email: String, amount: i64| {
        let till = &till;
        async move {
            let session = till.create_session_for(amount, &email).await;
            // A card per attempt: the limit counts the email, not the card.
            let card = luhn(&format!("4000003333{amount:05}"));
            let token = till.token(&session, &card).await;
            confirm_once(till, &session, &token).await
        }
    };
    for amount in [101, 102] {
        let (status, body) = pay_as(first.to_string(), amount).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = pay_as(first.to_string(), 103).await;
    assert_eq!((status, code(&body)), (402, "blocked_by_risk"), "{body}");
    // The other email's history sits beside it and holds only its own attempts.
    for amount in [201, 202] {
        let (status, body) = pay_as(second.clone(), amount).await;
        assert_eq!(status, 200, "{second}: {body}");
    }
    let (status, body) = pay_as(second.clone(), 203).await;
    assert_eq!((status, code(&body)), (402, "blocked_by_risk"), "{body}");
}

/// Confirms `session` with `body` (the client secret added) under a key of its own.
async fn confirm_with(till: &Till, session: &Session, mut body: Value) -> (u16, Value) {
    body["client_secret"] = json!(session.client_secret);
    json_of(till.send_confirm_body(session, &body, &new_key()).await).await
}

#[tokio::test]
async fn a_saved_card_is_screened_once_its_typed_code_opened_and_not_before() {
    let (_, till) = onboard("Risk Saved Card Shop", &[]).await;
    add_rule(&till, "block if attempts(card, 1h) > 2").await;
    let customer = till.new_customer().await;
    // The card's first attempt, which keeps it.
    let first = till.customer_checkout(&customer, 901, true).await;
    let token = till.token(&first, US).await;
    let body = json!({ "token": token, "save_payment_method": true });
    let (status, paid) = confirm_with(&till, &first, body).await;
    assert_eq!(status, 200, "{paid}");
    let saved = till.saved_cards(&customer).await;
    let card = saved[0]["id"].as_str().expect("the saved card");
    let with_code =
        |encrypted_cvc: String| json!({ "payment_method": card, "encrypted_cvc": encrypted_cvc });

    // Without the code the merchant asks for, and with one too short for the brand: refused
    // before the rules, so not counted.
    let second = till.customer_checkout(&customer, 902, true).await;
    let (status, body) = confirm_with(&till, &second, json!({ "payment_method": card })).await;
    assert_eq!((status, code(&body)), (402, "incomplete_cvc"), "{body}");
    let short = with_code(till.encrypt_cvc(&second, "12").await);
    let (status, body) = confirm_with(&till, &second, short).await;
    assert_eq!(
        (status, &body["error"]["param"]),
        (402, &json!("cvc")),
        "{body}"
    );
    // The card's second attempt is paid; its third is over the limit.
    let typed = with_code(till.encrypt_cvc(&second, "123").await);
    let (status, body) = confirm_with(&till, &second, typed).await;
    assert_eq!(status, 200, "the card's second attempt: {body}");
    let third = till.customer_checkout(&customer, 903, true).await;
    let typed = with_code(till.encrypt_cvc(&third, "123").await);
    let (status, body) = confirm_with(&till, &third, typed).await;
    assert_eq!(
        (status, code(&body)),
        (402, "blocked_by_risk"),
        "the card's third attempt: {body}"
    );
}
