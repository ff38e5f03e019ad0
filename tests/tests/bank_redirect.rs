//! Paying from a bank account by redirect, through the real edge and the sandbox bank: the
//! customer's pages at the bank are walked over HTTP here (the browser tests walk them in
//! Chromium). Exactly once: a bank's word told twice, late, or after the widget or the poller
//! settled the payment changes nothing.

use serde_json::{json, Value};
use std::time::Duration;
use till_e2e::bank::{
    approve_at_bank, bank_session, cancel_at_bank, confirm_with, customer, pay_from, redirect_url,
};
use till_e2e::{new_key, Session, Till};

/// The sandbox's webhook secret, which its bank signs with too (edge/.dev.vars).
const BANK_WEBHOOK_SECRET: &[u8] = b"gwhsec_till_sandbox_local";

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Till's return page, as the customer's browser opens it: its status line.
async fn returned(till: &Till, url: &str) -> String {
    assert!(
        url.starts_with(&format!("{}/bank/return/pay_", till.edge)),
        "the bank sends the customer to Till's return page: {url}"
    );
    let page = customer().get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    page.text().await.unwrap()
}

async fn payment(till: &Till, id: &str) -> Value {
    let (status, payment) = till
        .get(&format!("/v1/payments/{id}"), &till.secret_key)
        .await;
    assert_eq!(status, 200, "{payment}");
    payment
}

/// Waits for the payment to reach `status` by reading it with the secret key (which never asks
/// the bank: only a webhook or the poller can move it meanwhile).
async fn eventually(till: &Till, id: &str, status: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..80 {
        last = payment(till, id).await;
        if last["status"] == status {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("payment never became {status}: {last}")
}

/// How many events of `kind` are about the object `id`.
async fn events_about(till: &Till, id: &str, kind: &str) -> usize {
    let (status, events) = till
        .get(
            &format!("/v1/events?type={kind}&limit=100"),
            &till.secret_key,
        )
        .await;
    assert_eq!(status, 200, "{events}");
    events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["data"]["object"]["id"] == id)
        .count()
}

/// The kinds of the bank clearing account's entries for `source` (a payment or a refund).
async fn ledger_kinds(till: &Till, currency: &str, source: &str) -> Vec<String> {
    let (status, entries) = till
        .get(
            &format!("/v1/ledger/entries?account=bank_clearing:{currency}&limit=100"),
            &till.secret_key,
        )
        .await;
    assert_eq!(status, 200, "{entries}");
    let mut kinds: Vec<String> = entries["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["source"] == source)
        .map(|entry| entry["kind"].as_str().unwrap_or("").to_string())
        .collect();
    kinds.sort();
    kinds
}

/// Sends the bank's signed event about a payment, as the bank would (a new event id).
async fn bank_says(till: &Till, object: Value) -> (u16, Value) {
    let event = json!({ "id": format!("evt_test_{}", new_key()), "type": "bank_payment.updated",
                        "data": { "object": object } });
    let body = event.to_string();
    let signature = till_core::webhook::sign(BANK_WEBHOOK_SECRET, till_e2e::now(), body.as_bytes());
    let response = till
        .http
        .post(till.url("/v1/webhooks/bank"))
        .header("Gateway-Signature", signature)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    till_e2e::json_of(response).await
}

async fn bank_payment(till: &Till, bank_id: &str) -> Value {
    let response = till
        .http
        .get(format!("{}/v1/bank_payments/{bank_id}", till.gateway))
        .bearer_auth(till_e2e::GATEWAY_KEY)
        .send()
        .await
        .unwrap();
    till_e2e::json_of(response).await.1
}

#[tokio::test]
async fn sessions_offer_bank_payments_only_where_a_bank_can_pay() {
    let till = Till::default();
    for (body, why) in [
        (
            json!({"amount": 500, "currency": "EUR", "payment_method_types": []}),
            "empty",
        ),
        (
            json!({"amount": 500, "currency": "EUR", "payment_method_types": ["card", "card"]}),
            "twice",
        ),
        (
            json!({"amount": 500, "currency": "EUR", "capture_method": "manual",
                   "payment_method_types": ["bank_redirect"]}),
            "held for capture",
        ),
    ] {
        let (status, error) = till
            .post("/v1/checkout_sessions", &till.secret_key, &body)
            .await;
        assert_eq!(
            (status, code(&error), error["error"]["param"].as_str()),
            (400, "parameter_invalid", Some("payment_method_types")),
            "{why}: {error}"
        );
    }
    let (status, error) = till
        .post(
            "/v1/checkout_sessions",
            &till.secret_key,
            &json!({"amount": 500, "currency": "EUR", "payment_method_types": ["cash"]}),
        )
        .await;
    assert_eq!(status, 400, "{error}");

    let card_only = till.create_session(500).await;
    assert_eq!(card_only.body["payment_method_types"], json!(["card"]));
    let euro = bank_session(&till, 2_500, "EUR", json!(["bank_redirect", "card"])).await;
    assert_eq!(
        euro.body["payment_method_types"],
        json!(["bank_redirect", "card"])
    );
    let banks_of = |session: &Session| {
        let till = &till;
        let path = format!(
            "/v1/checkout_sessions/{}/banks?client_secret={}",
            session.id, session.client_secret
        );
        async move { till.get(&path, &till.publishable_key).await }
    };
    let (status, banks) = banks_of(&euro).await;
    assert_eq!(status, 200, "{banks}");
    let ids: Vec<&str> = banks["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|bank| bank["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"ideal_test") && ids.contains(&"sandbox_bank"),
        "{ids:?}"
    );
    assert!(
        !ids.contains(&"hana_test"),
        "a KRW-only bank is not offered for EUR"
    );
    assert_eq!(banks_of(&card_only).await.1["data"], json!([]));
    let wrong_secret = format!(
        "/v1/checkout_sessions/{}/banks?client_secret={}x",
        euro.id, euro.client_secret
    );
    assert_eq!(till.get(&wrong_secret, &till.publishable_key).await.0, 400);

    // Refused confirms change nothing: the session stays open.
    let secret = euro.client_secret.as_str();
    for (body, status, expected) in [
        (
            json!({"client_secret": secret, "bank": "hana_test"}),
            404,
            "resource_missing",
        ),
        (
            json!({"client_secret": secret, "bank": "no_such_bank"}),
            404,
            "resource_missing",
        ),
        (
            json!({"client_secret": secret, "bank": "Bank<script>"}),
            404,
            "resource_missing",
        ),
        (
            json!({"client_secret": secret, "bank": "은행"}),
            404,
            "resource_missing",
        ),
        (
            json!({"client_secret": secret, "bank": "b".repeat(5_000)}),
            404,
            "resource_missing",
        ),
        (
            json!({"client_secret": secret, "bank": 7}),
            400,
            "parameter_invalid",
        ),
        (
            json!({"client_secret": secret, "bank": "sandbox_bank", "token": "tok_x"}),
            400,
            "parameter_invalid",
        ),
        (
            json!({"client_secret": secret, "bank": "sandbox_bank", "save_payment_method": true}),
            400,
            "parameter_invalid",
        ),
        (
            json!({"client_secret": "cs_nope_secret_nope", "bank": "sandbox_bank"}),
            400,
            "client_secret_invalid",
        ),
    ] {
        let (got, error) = confirm_with(&till, &euro, body.clone(), &new_key()).await;
        assert_eq!((got, code(&error)), (status, expected), "{body}: {error}");
    }
    let (status, error) = confirm_with(
        &till,
        &card_only,
        json!({"client_secret": card_only.client_secret, "bank": "sandbox_bank"}),
        &new_key(),
    )
    .await;
    assert_eq!(
        (status, code(&error)),
        (400, "parameter_invalid"),
        "{error}"
    );
    let bank_only = bank_session(&till, 700, "EUR", json!(["bank_redirect"])).await;
    let token = till.token(&bank_only, "4242424242424242").await;
    let (status, error) = confirm_with(
        &till,
        &bank_only,
        json!({"client_secret": bank_only.client_secret, "token": token}),
        &new_key(),
    )
    .await;
    assert_eq!(
        (status, code(&error)),
        (400, "parameter_invalid"),
        "{error}"
    );
    assert_eq!(till.session_state(&euro).await["status"], "open");
    assert_eq!(till.session_state(&bank_only).await["status"], "open");

    // Another merchant's session is not found with this merchant's key, whatever the secret.
    let other = Till::for_merchant(
        "sk_test_till_recon_merchant_secret",
        "pk_test_till_recon_merchant_publishable",
    );
    let theirs = bank_session(&other, 800, "EUR", json!(["bank_redirect"])).await;
    for path in [
        format!(
            "/v1/checkout_sessions/{}/banks?client_secret={}",
            theirs.id, theirs.client_secret
        ),
        format!(
            "/v1/checkout_sessions/{}/payment?client_secret={}",
            theirs.id, theirs.client_secret
        ),
    ] {
        let (status, error) = till.get(&path, &till.publishable_key).await;
        assert_eq!(
            (status, code(&error)),
            (404, "resource_missing"),
            "{path}: {error}"
        );
    }
    let (status, error) = till
        .post(
            &format!("/v1/checkout_sessions/{}/reopen", theirs.id),
            &till.publishable_key,
            &json!({ "client_secret": theirs.client_secret }),
        )
        .await;
    assert_eq!((status, code(&error)), (404, "resource_missing"), "{error}");
    // Nothing to give up on yet.
    let (status, error) = till
        .post(
            &format!("/v1/checkout_sessions/{}/reopen", euro.id),
            &till.publishable_key,
            &json!({ "client_secret": euro.client_secret }),
        )
        .await;
    assert_eq!((status, code(&error)), (404, "resource_missing"), "{error}");
    // Till's return page for a payment that is not a bank payment, or not one at all.
    for id in [
        "pay_00000000000000000000000000000000",
        "%3Cscript%3Ealert(1)",
        "x",
    ] {
        let page = customer()
            .get(till.url(&format!("/bank/return/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 404, "{id}");
        let text = page.text().await.unwrap();
        assert!(
            !text.contains("<script>alert") && text.contains("not valid"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_bank_payment_is_approved_at_the_bank_and_settled_exactly_once() {
    let till = Till::default();
    let session = bank_session(&till, 4_321, "EUR", json!(["card", "bank_redirect"])).await;
    let key = new_key();
    let body = json!({ "client_secret": session.client_secret, "bank": "ideal_test" });
    let (status, waiting) = confirm_with(&till, &session, body.clone(), &key).await;
    assert_eq!(status, 200, "{waiting}");
    assert_eq!(waiting["status"], "requires_action");
    assert_eq!(waiting["payment_method_type"], "bank_redirect");
    assert_eq!(waiting["card"], Value::Null);
    assert_eq!(
        waiting["bank"],
        json!({ "id": "ideal_test", "name": "iDEAL Test Bank" })
    );
    let bank_page = redirect_url(&waiting);
    assert!(bank_page.starts_with(&format!("{}/bank/pay/gwbp_", till.gateway)));
    // The same request again is the same payment at the bank; another one finds the session
    // taken.
    let (status, again) = confirm_with(&till, &session, body.clone(), &key).await;
    assert_eq!((status, &again["id"]), (200, &waiting["id"]), "{again}");
    assert_eq!(redirect_url(&again), bank_page);
    let (status, other) = confirm_with(&till, &session, body, &new_key()).await;
    assert_eq!(
        (status, code(&other)),
        (409, "checkout_session_unavailable"),
        "{other}"
    );

    let id = waiting["id"].as_str().unwrap();
    let back = approve_at_bank(&bank_page, "ada", "123456").await;
    assert!(back.contains(&format!("/bank/return/{id}")), "{back}");
    assert!(back.contains("bank_payment=gwbp_"), "{back}");
    let page = returned(&till, &back).await;
    assert!(page.contains("Your bank paid"), "{page}");
    let paid = payment(&till, id).await;
    assert_eq!(
        (&paid["status"], &paid["amount_captured"]),
        (&json!("succeeded"), &json!(4_321))
    );
    assert_eq!(paid["next_action"], Value::Null);
    assert_eq!(till.session_state(&session).await["status"], "complete");

    // Everything that may tell Till again: the return page reloaded, the widget's polling, the
    // bank's webhook (already sent), the same news under a new event id, the poller.
    returned(&till, &back).await;
    let (status, polled) = till
        .get(
            &format!(
                "/v1/checkout_sessions/{}/payment?client_secret={}",
                session.id, session.client_secret
            ),
            &till.publishable_key,
        )
        .await;
    assert_eq!((status, &polled["status"]), (200, &json!("succeeded")));
    assert!(polled["card"].is_null() && polled.get("risk").is_none());
    let at_bank = bank_payment(&till, &bank_reference(&back)).await;
    let (status, told) = bank_says(&till, at_bank.clone()).await;
    assert_eq!(
        (status, &told["outcome"]),
        (200, &json!("unchanged")),
        "{told}"
    );
    till.run_poller().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(events_about(&till, id, "payment.succeeded").await, 1);
    assert_eq!(ledger_kinds(&till, "EUR", id).await, ["bank_payment"]);
    // A late "canceled" from a confused bank cannot undo a paid payment.
    let mut canceled = at_bank;
    canceled["status"] = json!("canceled");
    let (status, refused) = bank_says(&till, canceled).await;
    assert_eq!(
        (status, code(&refused)),
        (409, "payment_invalid_state"),
        "{refused}"
    );
    assert_eq!(payment(&till, id).await["status"], "succeeded");
    // Giving up after paying is refused and changes nothing.
    let (status, refused) = till
        .post(
            &format!("/v1/checkout_sessions/{}/reopen", session.id),
            &till.publishable_key,
            &json!({ "client_secret": session.client_secret }),
        )
        .await;
    assert_eq!(
        (status, code(&refused)),
        (409, "payment_invalid_state"),
        "{refused}"
    );
    // The fraud rules' dry run replays card attempts only: a bank payment among them is skipped.
    let (status, dry_run) = till
        .post(
            "/v1/risk/dry_runs",
            &till.secret_key,
            &json!({ "rule": "review if attempts(ip, 10m) >= 5" }),
        )
        .await;
    assert_eq!(status, 200, "{dry_run}");
}

/// The bank's id of the payment, from where it sent the customer back.
fn bank_reference(back: &str) -> String {
    back.split("bank_payment=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_late_bank_success_arrives_by_webhook_alone() {
    let till = Till::default();
    let session = bank_session(&till, 2_222, "USD", json!(["bank_redirect"])).await;
    let waiting = pay_from(&till, &session, "sandbox_bank").await;
    let id = waiting["id"].as_str().unwrap();
    let back = approve_at_bank(&redirect_url(&waiting), "slow_bank", "123456").await;
    let page = returned(&till, &back).await;
    assert!(page.contains("confirming"), "{page}");
    assert_eq!(payment(&till, id).await["status"], "processing");
    // Nobody asks the bank from here on: only its webhook can settle the payment.
    let paid = eventually(&till, id, "succeeded").await;
    assert_eq!(paid["amount_captured"], 2_222);
    assert_eq!(events_about(&till, id, "payment.succeeded").await, 1);
}

#[tokio::test]
async fn a_customer_who_gives_up_or_is_refused_can_pay_another_way() {
    let till = Till::default();
    // Canceled at the bank.
    let session = bank_session(&till, 3_100, "USD", json!(["bank_redirect", "card"])).await;
    let waiting = pay_from(&till, &session, "sandbox_bank").await;
    let back = cancel_at_bank(&redirect_url(&waiting)).await;
    let page = returned(&till, &back).await;
    assert!(page.contains("canceled"), "{page}");
    let id = waiting["id"].as_str().unwrap();
    assert_eq!(payment(&till, id).await["status"], "canceled");
    assert_eq!(till.session_state(&session).await["status"], "open");
    let token = till.token(&session, "4242424242424242").await;
    let (status, _, paid) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(
        (status, &paid["status"]),
        (200, &json!("succeeded")),
        "{paid}"
    );
    assert_eq!(paid["card"]["last4"], "4242");

    // Given up in the widget while the bank waits.
    let session = bank_session(&till, 3_200, "USD", json!(["bank_redirect", "card"])).await;
    let waiting = pay_from(&till, &session, "sandbox_bank").await;
    let reopen = format!("/v1/checkout_sessions/{}/reopen", session.id);
    let (status, error) = till
        .post(
            &reopen,
            &till.publishable_key,
            &json!({ "client_secret": "nope" }),
        )
        .await;
    assert_eq!(status, 400, "{error}");
    let (status, canceled) = till
        .post(
            &reopen,
            &till.publishable_key,
            &json!({ "client_secret": session.client_secret }),
        )
        .await;
    assert_eq!(
        (status, &canceled["status"]),
        (200, &json!("canceled")),
        "{canceled}"
    );
    assert_eq!(till.session_state(&session).await["status"], "open");
    // The bank's page no longer takes the approval.
    let bank_page = redirect_url(&waiting);
    let late = customer()
        .post(format!("{bank_page}/login"))
        .form(&[("username", "ada"), ("password", "pw")])
        .send()
        .await
        .unwrap();
    assert!(late.text().await.unwrap().contains("canceled"));

    // Refused by the bank: the customer's words, and the session open for another try.
    let session = bank_session(&till, 3_300, "USD", json!(["bank_redirect", "card"])).await;
    let waiting = pay_from(&till, &session, "sandbox_bank").await;
    let back = approve_at_bank(&redirect_url(&waiting), "no_money", "123456").await;
    returned(&till, &back).await;
    let failed = payment(&till, waiting["id"].as_str().unwrap()).await;
    assert_eq!(
        (&failed["status"], &failed["failure_code"]),
        (&json!("failed"), &json!("insufficient_funds"))
    );
    assert_eq!(
        failed["failure_message"],
        "Your bank account does not have enough money."
    );
    assert_eq!(till.session_state(&session).await["status"], "open");
}

#[tokio::test]
async fn a_bank_payment_nobody_approves_is_canceled_and_the_session_opens_again() {
    let till = Till::default();
    let session = bank_session(&till, 3_400, "USD", json!(["bank_redirect", "card"])).await;
    let waiting = pay_from(&till, &session, "sandbox_bank").await;
    let id = waiting["id"].as_str().unwrap();
    // The test stack lets a bank payment wait 20 s (BANK_REDIRECT_EXPIRY_SECONDS).
    till.run_poller().await;
    assert_eq!(payment(&till, id).await["status"], "requires_action");
    tokio::time::sleep(Duration::from_secs(21)).await;
    till.run_poller().await;
    let canceled = eventually(&till, id, "canceled").await;
    assert_eq!(canceled["next_action"], Value::Null);
    assert_eq!(till.session_state(&session).await["status"], "open");
    let bank_page = redirect_url(&waiting);
    let at_bank = customer().get(&bank_page).send().await.unwrap();
    assert!(at_bank.text().await.unwrap().contains("canceled"));
}

async fn refund(till: &Till, payment: &str, amount: i64) -> Value {
    let (status, refund) = till
        .post_with_key(
            "/v1/refunds",
            &till.secret_key,
            &json!({ "payment": payment, "amount": amount }),
        )
        .await;
    assert_eq!(status, 200, "{refund}");
    refund
}

async fn refund_eventually(till: &Till, id: &str, status: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..80 {
        let (_, refund) = till
            .get(&format!("/v1/refunds/{id}"), &till.secret_key)
            .await;
        if refund["status"] == status {
            return refund;
        }
        last = refund;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("refund never became {status}: {last}")
}

#[tokio::test]
async fn bank_refunds_are_paid_back_later_or_fail_and_are_reported() {
    let till = Till::default();
    for (user, amount) in [("ada", 5_100), ("closed_account", 5_200)] {
        let session = bank_session(&till, amount, "USD", json!(["bank_redirect"])).await;
        let waiting = pay_from(&till, &session, "sandbox_bank").await;
        let back = approve_at_bank(&redirect_url(&waiting), user, "123456").await;
        returned(&till, &back).await;
        let id = waiting["id"].as_str().unwrap().to_string();
        assert_eq!(payment(&till, &id).await["status"], "succeeded");

        let first = refund(&till, &id, 2_000).await;
        assert_eq!(
            first["status"], "pending",
            "the bank pays back later: {first}"
        );
        let refund_id = first["id"].as_str().unwrap();
        // More than is left is refused while the first is pending.
        let (status, error) = till
            .post_with_key(
                "/v1/refunds",
                &till.secret_key,
                &json!({ "payment": id, "amount": amount - 1_999 }),
            )
            .await;
        assert_eq!(status, 400, "{error}");
        if user == "ada" {
            refund_eventually(&till, refund_id, "succeeded").await;
            assert_eq!(payment(&till, &id).await["amount_refunded"], 2_000);
            assert_eq!(events_about(&till, refund_id, "refund.succeeded").await, 1);
            assert_eq!(ledger_kinds(&till, "USD", refund_id).await, ["bank_refund"]);
        } else {
            let failed = refund_eventually(&till, refund_id, "failed").await;
            assert_eq!(failed["failure_code"], "account_closed");
            // The money is the merchant's again, and the merchant is told.
            assert_eq!(payment(&till, &id).await["amount_refunded"], 0);
            assert_eq!(events_about(&till, refund_id, "refund.failed").await, 1);
            assert_eq!(
                ledger_kinds(&till, "USD", refund_id).await,
                ["bank_refund", "bank_refund_reversed"]
            );
        }
    }
}
