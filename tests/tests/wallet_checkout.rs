//! Paying a checkout from a Till wallet against the real edge and the sandbox gateway: all of
//! it from the balance, or the balance with a card for the rest as one ledger transaction (both
//! or neither); refunds go back to the card first, then the wallet; a wallet that holds too
//! little, another customer's session, a double spend and a declined card change nothing.

use serde_json::{json, Value};
use till_e2e::merchants::onboard;
use till_e2e::wallet;
use till_e2e::{new_key, send, Session, Till};

async fn confirm(till: &Till, session: &Session, body: Value, key: &str) -> (u16, Value) {
    let mut body = body;
    body["client_secret"] = json!(session.client_secret);
    let response = till
        .http
        .post(till.url(&format!("/v1/checkout_sessions/{}/confirm", session.id)))
        .bearer_auth(&till.publishable_key)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect("edge reachable");
    till_e2e::json_of(response).await
}

/// The ledger entries a payment or refund wrote, as (kind, account, amount).
async fn written(till: &Till, account: &str, source: &str) -> Vec<(String, i64)> {
    till.entries_of(account)
        .await
        .into_iter()
        .filter(|entry| entry["source"] == source)
        .map(|entry| {
            (
                entry["kind"].as_str().expect("kind").to_string(),
                entry["amount"].as_i64().expect("amount"),
            )
        })
        .collect()
}

async fn refund(till: &Till, payment: &str, amount: i64) -> Value {
    let (status, _, refund) = till
        .post_keyed(
            "/v1/refunds",
            &json!({ "payment": payment, "amount": amount }),
            &new_key(),
        )
        .await;
    assert_eq!(status, 200, "refund: {refund}");
    refund
}

#[tokio::test]
async fn a_wallet_pays_a_whole_checkout_once_and_gets_its_refund_back() {
    let till = wallet::till();
    let customer = till.new_customer().await;
    till.top_up(&customer, 5_000).await;
    let session = till.wallet_checkout_session(&customer, 3_000).await;
    let (status, shown) = till
        .get(
            &format!(
                "/v1/checkout_sessions/{}?client_secret={}",
                session.id, session.client_secret
            ),
            &till.publishable_key,
        )
        .await;
    assert_eq!((status, &shown["wallet_balance"]), (200, &json!(5_000)));

    let key = new_key();
    let (status, paid) = confirm(&till, &session, json!({ "wallet_amount": 3_000 }), &key).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "succeeded");
    assert_eq!(paid["payment_method_type"], "wallet");
    assert_eq!(paid["wallet_amount"], 3_000);
    assert_eq!(paid["amount_captured"], 3_000);
    assert_eq!(paid["card"], Value::Null);
    assert_eq!(till.wallet(&customer).await, 2_000);
    // The same request again is the same payment; another key finds the session paid.
    let (status, again) = confirm(&till, &session, json!({ "wallet_amount": 3_000 }), &key).await;
    assert_eq!((status, &again["id"]), (200, &paid["id"]));
    let (status, second) = confirm(
        &till,
        &session,
        json!({ "wallet_amount": 3_000 }),
        &new_key(),
    )
    .await;
    assert_eq!(status, 409, "{second}");
    assert_eq!(till.wallet(&customer).await, 2_000);

    let payment = paid["id"].as_str().unwrap();
    let merchant = "merchant:mer_wallet:USD";
    assert_eq!(
        written(&till, merchant, payment).await,
        vec![("wallet_payment".to_string(), 3_000)]
    );
    let back = refund(&till, payment, 1_000).await;
    assert_eq!(
        (&back["status"], &back["wallet_amount"]),
        (&json!("succeeded"), &json!(1_000))
    );
    assert_eq!(till.wallet(&customer).await, 3_000);
}

#[tokio::test]
async fn a_wallet_and_a_card_pay_together_or_not_at_all() {
    let till = wallet::till();
    let customer = till.new_customer().await;
    till.top_up(&customer, 1_200).await;

    // A declined card: the wallet's part was held, then given back with the failure.
    let session = till.wallet_checkout_session(&customer, 5_000).await;
    let token = till.token(&session, "4000000000000002").await;
    let body = json!({ "wallet_amount": 1_200, "token": token });
    let (status, declined) = confirm(&till, &session, body, &new_key()).await;
    assert_eq!(status, 200, "{declined}");
    assert_eq!(declined["status"], "failed");
    assert_eq!(till.wallet(&customer).await, 1_200);
    let hold = format!("payment_hold:{}:USD", declined["id"].as_str().unwrap());
    let held: Vec<i64> = till
        .entries_of(&hold)
        .await
        .iter()
        .map(|e| e["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(held, vec![1_200, -1_200], "held, then given back");

    // The card pays the rest: one transaction brings both parts to the merchant.
    let token = till.token(&session, "4242424242424242").await;
    let body = json!({ "wallet_amount": 1_200, "token": token });
    let (status, paid) = confirm(&till, &session, body, &new_key()).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "succeeded");
    assert_eq!(paid["payment_method_type"], "card");
    assert_eq!(
        (&paid["wallet_amount"], &paid["amount_captured"]),
        (&json!(1_200), &json!(5_000))
    );
    let payment = paid["id"].as_str().unwrap();
    let charged = till.gateway_authorizations(payment).await;
    assert_eq!(charged.len(), 1);
    assert_eq!(charged[0]["amount"], 3_800, "the card pays only its part");
    assert_eq!(till.wallet(&customer).await, 0);
    assert_eq!(
        written(&till, "merchant:mer_wallet:USD", payment).await,
        vec![("wallet_payment".to_string(), 5_000)]
    );
    assert_eq!(
        written(&till, "gateway_clearing:USD", payment).await,
        vec![("wallet_payment".to_string(), -3_800)]
    );

    // Refunds go back to the card first, then the wallet.
    let to_card = refund(&till, payment, 3_000).await;
    assert_eq!(
        (&to_card["status"], &to_card["wallet_amount"]),
        (&json!("succeeded"), &json!(0))
    );
    let both = refund(&till, payment, 1_000).await;
    assert_eq!(
        (&both["status"], &both["wallet_amount"]),
        (&json!("succeeded"), &json!(200))
    );
    assert_eq!(till.wallet(&customer).await, 200);
    let at_gateway = till.gateway_authorizations(payment).await.remove(0);
    assert_eq!(at_gateway["amount_refunded"], 3_800, "{at_gateway}");
    let too_much = till
        .post_keyed(
            "/v1/refunds",
            &json!({ "payment": payment, "amount": 1_001 }),
            &new_key(),
        )
        .await;
    assert_eq!(too_much.0, 400, "{}", too_much.2);
}

#[tokio::test]
async fn a_wallet_payment_that_cannot_be_made_changes_nothing() {
    let till = wallet::till();
    let customer = till.new_customer().await;
    let stranger = till.new_customer().await;
    till.top_up(&customer, 2_000).await;
    let session = till.wallet_checkout_session(&customer, 3_000).await;
    let token = till.token(&session, "4242424242424242").await;

    let cases = [
        (
            json!({ "wallet_amount": 3_000 }),
            402,
            "balance_insufficient",
        ),
        (json!({ "wallet_amount": 0 }), 400, "parameter_invalid"),
        (json!({ "wallet_amount": -5 }), 400, "parameter_invalid"),
        (json!({ "wallet_amount": 3_001 }), 400, "parameter_invalid"),
        (json!({ "wallet_amount": 1_000 }), 400, "parameter_invalid"),
        (json!({ "wallet_amount": "1000" }), 400, "parameter_invalid"),
        (json!({ "wallet_amount": 1e3 }), 400, "parameter_invalid"),
        (
            json!({ "wallet_amount": 3_000, "token": token }),
            400,
            "parameter_invalid",
        ),
        (
            json!({ "wallet_amount": 1_000, "bank": "hana_test" }),
            400,
            "parameter_invalid",
        ),
        (
            json!({ "wallet_amount": 3_000, "save_payment_method": true }),
            400,
            "parameter_invalid",
        ),
    ];
    for (body, status, code) in cases {
        let (got, answer) = confirm(&till, &session, body.clone(), &new_key()).await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {answer}"
        );
    }
    assert_eq!(till.wallet(&customer).await, 2_000);
    assert_eq!(till.session_state(&session).await["status"], "open");

    // A session that does not offer the wallet, or another customer's, cannot spend it.
    let card_only = till.create_session(3_000).await;
    let (status, answer) = confirm(
        &till,
        &card_only,
        json!({ "wallet_amount": 3_000 }),
        &new_key(),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["param"].as_str()),
        (400, Some("wallet_amount"))
    );
    let theirs = till.wallet_checkout_session(&stranger, 1_000).await;
    // An empty wallet is not offered to the customer; the merchant sees what it enabled.
    let (_, shown) = till
        .get(
            &format!(
                "/v1/checkout_sessions/{}?client_secret={}",
                theirs.id, theirs.client_secret
            ),
            &till.publishable_key,
        )
        .await;
    assert_eq!(shown["payment_method_types"], json!(["card"]), "{shown}");
    let enabled = till.session_state(&theirs).await;
    assert_eq!(
        (&enabled["payment_method_types"], &enabled["wallet_balance"]),
        (&json!(["wallet", "card"]), &json!(0))
    );
    let (status, answer) = confirm(
        &till,
        &theirs,
        json!({ "wallet_amount": 1_000 }),
        &new_key(),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (402, Some("balance_insufficient"))
    );
    assert_eq!(till.wallet(&customer).await, 2_000);

    // A wallet is refused where it cannot pay.
    for body in [
        json!({ "amount": 1_000, "currency": "USD", "payment_method_types": ["wallet"] }),
        json!({ "amount": 1_000, "currency": "USD", "customer": customer,
                "capture_method": "manual", "payment_method_types": ["wallet"] }),
        json!({ "amount": 1_000, "currency": "USD", "customer": customer,
                "purpose": "wallet_top_up", "payment_method_types": ["wallet", "card"] }),
    ] {
        let (status, answer) = till
            .post("/v1/checkout_sessions", &till.secret_key, &body)
            .await;
        assert_eq!(
            (status, answer["error"]["param"].as_str()),
            (400, Some("payment_method_types")),
            "{body}: {answer}"
        );
    }
}

#[tokio::test]
async fn two_checkouts_racing_for_one_balance_spend_it_once() {
    let till = wallet::till();
    let customer = till.new_customer().await;
    till.top_up(&customer, 4_000).await;
    let first = till.wallet_checkout_session(&customer, 3_000).await;
    let second = till.wallet_checkout_session(&customer, 3_000).await;
    let (first_key, second_key) = (new_key(), new_key());
    let whole = json!({ "wallet_amount": 3_000 });
    let (a, b) = tokio::join!(
        confirm(&till, &first, whole.clone(), &first_key),
        confirm(&till, &second, whole.clone(), &second_key),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 402], "{} / {}", a.1, b.1);
    let refused = if a.0 == 402 { &a.1 } else { &b.1 };
    assert_eq!(refused["error"]["code"], "balance_insufficient");
    assert_eq!(till.wallet(&customer).await, 1_000);
}

#[tokio::test]
async fn reports_count_a_wallet_and_card_payment_once_at_its_whole_amount() {
    let (_, till) = onboard("Wallet Report Shop", &[]).await;
    let customer = till.new_customer().await;
    till.top_up(&customer, 1_200).await;
    let session = till.wallet_checkout_session(&customer, 5_000).await;
    let token = till.token(&session, "4242424242424242").await;
    let body = json!({ "wallet_amount": 1_200, "token": token });
    let (_, paid) = confirm(&till, &session, body, &new_key()).await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    let back = refund(&till, paid["id"].as_str().unwrap(), 4_000).await;
    assert_eq!(back["wallet_amount"], 200);

    let (status, summary) = till.get("/v1/reports/summary", &till.secret_key).await;
    assert_eq!(status, 200, "{summary}");
    let usd = summary["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["currency"] == "USD")
        .cloned()
        .unwrap_or_default();
    // The top-up and the checkout came in; the refund went out, both its parts.
    assert_eq!(
        (&usd["gross"], &usd["refunds"], &usd["count"]),
        (&json!(6_200), &json!(4_000), &json!(2)),
        "{summary}"
    );

    let response = send(
        till.http
            .get(till.url("/v1/reports/balance_transactions.csv"))
            .bearer_auth(&till.secret_key),
    )
    .await;
    let text = response.text().await.unwrap();
    let rows_of = |source: &str| -> Vec<(String, String)> {
        text.split("\r\n")
            .skip(1)
            .map(|line| line.split(',').collect::<Vec<_>>())
            .filter(|row| row.len() > 6 && row[3] == source)
            .map(|row| (row[2].to_string(), row[6].to_string()))
            .collect()
    };
    let pair = |kind: &str, gross: &str| (kind.to_string(), gross.to_string());
    assert_eq!(
        rows_of(paid["id"].as_str().unwrap()),
        vec![pair("wallet_hold", "1200"), pair("wallet_payment", "5000")],
        "{text}"
    );
    assert_eq!(
        rows_of(back["id"].as_str().unwrap()),
        vec![
            pair("wallet_refund", "4000"),
            pair("wallet_refund_paid", "200")
        ],
        "{text}"
    );
}
