//! Saved cards: kept at checkout with the customer's consent, offered again through a customer
//! session, paid with again without being typed, charged by the merchant off-session (and
//! handed back to the customer when the bank asks for them), detached. On both gateways.

use serde_json::{json, Value};
use till_e2e::gateways::Gateway;
use till_e2e::{new_key, on_every_gateway, Session, Till};

on_every_gateway!(
    a_card_saved_at_checkout_pays_again_without_being_typed,
    an_off_session_charge_needing_the_customer_is_handed_back_to_them,
    an_off_session_charge_the_gateway_did_not_answer_is_finished_once,
    a_merchant_that_requires_the_code_gets_it_typed_again_and_encrypted,
);

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Confirms with any body (a token or a saved card, with or without consent).
async fn confirm_with(till: &Till, session: &Session, mut body: Value) -> (u16, Value) {
    body["client_secret"] = json!(session.client_secret);
    let response = till
        .http
        .post(till.url(&format!("/v1/checkout_sessions/{}/confirm", session.id)))
        .bearer_auth(&till.publishable_key)
        .header("Idempotency-Key", new_key())
        .json(&body)
        .send()
        .await
        .unwrap();
    till_e2e::json_of(response).await
}

/// Pays a new session of `customer` with `number`, asking to keep the card.
async fn pay_and_save(till: &Till, customer: &str, amount: i64, number: &str) -> (Session, Value) {
    let session = till.customer_checkout(customer, amount, false).await;
    let token = till.token(&session, number).await;
    let (status, payment) = confirm_with(
        till,
        &session,
        json!({ "token": token, "save_payment_method": true }),
    )
    .await;
    assert_eq!(status, 200, "{payment}");
    (session, payment)
}

async fn charge_off_session(till: &Till, customer: &str, card: &str, amount: i64) -> (u16, Value) {
    charge_with_key(till, customer, card, amount, &new_key()).await
}

/// Sends the merchant's off-session charge of `card` with the idempotency key `key`.
async fn charge_with_key(
    till: &Till,
    customer: &str,
    card: &str,
    amount: i64,
    key: &str,
) -> (u16, Value) {
    let response = till
        .http
        .post(till.url("/v1/payments"))
        .bearer_auth(&till.secret_key)
        .header("Idempotency-Key", key)
        .json(
            &json!({ "customer": customer, "payment_method": card, "amount": amount,
                       "currency": "USD", "off_session": true }),
        )
        .send()
        .await
        .unwrap();
    till_e2e::json_of(response).await
}

async fn a_card_saved_at_checkout_pays_again_without_being_typed(gateway: Gateway) {
    let till = gateway.merchant().await;
    let cards = gateway.cards();
    let customer = till.new_customer().await;

    // Declined cards are not kept; a paid one is, once, however often it is saved.
    let (_, declined) = pay_and_save(&till, &customer, 2_100, cards.declines).await;
    assert_eq!(declined["status"], "failed");
    assert!(till.saved_cards(&customer).await.is_empty());
    let (_, first) = pay_and_save(&till, &customer, 2_200, cards.succeeds).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    pay_and_save(&till, &customer, 2_300, cards.succeeds).await;
    let saved = till.saved_cards(&customer).await;
    assert_eq!(saved.len(), 1, "{saved:?}");
    let card = saved[0]["id"].as_str().unwrap().to_string();
    assert_eq!(saved[0]["card"]["last4"], "4242");
    let (_, paid) = till
        .get(
            &format!("/v1/payments/{}", first["id"].as_str().unwrap()),
            &till.secret_key,
        )
        .await;
    assert!(paid["card"]["fingerprint"].is_string(), "{paid}");
    assert_eq!(saved[0]["card"]["fingerprint"], paid["card"]["fingerprint"]);

    // The widget's view through a customer session: brand, last4, expiry, no fingerprint.
    let (status, customer_session) = till
        .post(
            "/v1/customer_sessions",
            &till.secret_key,
            &json!({ "customer": customer }),
        )
        .await;
    assert_eq!(status, 200, "{customer_session}");
    let listing = format!(
        "/v1/customer_sessions/{}/payment_methods",
        customer_session["id"].as_str().unwrap()
    );
    let secret = customer_session["client_secret"].as_str().unwrap();
    let (status, offered) = till
        .get(
            &format!("{listing}?client_secret={secret}"),
            &till.publishable_key,
        )
        .await;
    assert_eq!(status, 200, "{offered}");
    assert_eq!(offered["data"][0]["id"], card.as_str());
    assert_eq!(offered["data"][0]["card"].get("fingerprint"), None);
    let (status, wrong) = till
        .get(
            &format!("{listing}?client_secret={}x", secret),
            &till.publishable_key,
        )
        .await;
    assert_eq!((status, code(&wrong)), (400, "client_secret_invalid"));

    // Paying again with it: no card typed, one charge at the gateway.
    let again = till.customer_checkout(&customer, 2_400, false).await;
    let (status, paid) = confirm_with(&till, &again, json!({ "payment_method": card })).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "succeeded");
    assert_eq!(paid["payment_method"], card.as_str());
    assert_eq!(
        gateway
            .charges(&till, paid["id"].as_str().unwrap())
            .await
            .len(),
        1
    );
    if gateway == Gateway::Stripe {
        // Stripe charges a PaymentMethod again only when it was attached to a Customer before
        // its first use: the kept card is charged with the Customer it was attached to.
        let intents = till_e2e::gateways::stripe_intents(paid["id"].as_str().unwrap()).await;
        let customer = intents[0]["customer"].as_str().unwrap_or_default();
        assert!(customer.starts_with("cus_"), "{intents:?}");
        let first_intent = till_e2e::gateways::stripe_intents(first["id"].as_str().unwrap()).await;
        assert_eq!(
            first_intent[0]["customer"], customer,
            "attached at its first use"
        );
    }

    // Nobody else may use it: another customer's session, a session without a customer.
    let other = till.new_customer().await;
    let theirs = till.customer_checkout(&other, 2_500, false).await;
    let (status, refused) = confirm_with(&till, &theirs, json!({ "payment_method": card })).await;
    assert_eq!(
        (status, code(&refused)),
        (404, "resource_missing"),
        "{refused}"
    );
    let anonymous = till.create_session(2_600).await;
    let (status, refused) =
        confirm_with(&till, &anonymous, json!({ "payment_method": card })).await;
    assert_eq!((status, code(&refused)), (404, "resource_missing"));
    // Ids that are no saved card's: refused alike, never looked up.
    let mine = till.customer_checkout(&customer, 2_550, false).await;
    for id in [
        "pm_00000000000040008000000000000000",
        "pm_../../payments",
        "pm_카드",
    ] {
        let (status, refused) = confirm_with(&till, &mine, json!({ "payment_method": id })).await;
        assert_eq!(
            (status, code(&refused), refused["error"]["param"].as_str()),
            (404, "resource_missing", Some("payment_method")),
            "{id}: {refused}"
        );
    }
    let token = till.token(&anonymous, cards.succeeds).await;
    let (status, refused) = confirm_with(
        &till,
        &anonymous,
        json!({ "token": token, "save_payment_method": true }),
    )
    .await;
    assert_eq!(
        (status, code(&refused)),
        (400, "parameter_invalid"),
        "{refused}"
    );
    let (status, refused) = confirm_with(
        &till,
        &anonymous,
        json!({ "token": token, "payment_method": card }),
    )
    .await;
    assert_eq!((status, code(&refused)), (400, "parameter_invalid"));

    // Detached, it is gone everywhere.
    let (status, detached) = till
        .post(
            &format!("/v1/payment_methods/{card}/detach"),
            &till.secret_key,
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{detached}");
    assert!(till.saved_cards(&customer).await.is_empty());
    let last = till.customer_checkout(&customer, 2_700, false).await;
    let (status, refused) = confirm_with(&till, &last, json!({ "payment_method": card })).await;
    assert_eq!((status, code(&refused)), (404, "resource_missing"));
    let (status, refused) = charge_off_session(&till, &customer, &card, 2_800).await;
    assert_eq!((status, code(&refused)), (404, "resource_missing"));
}

async fn an_off_session_charge_needing_the_customer_is_handed_back_to_them(gateway: Gateway) {
    let till = gateway.merchant().await;
    let cards = gateway.cards();
    let customer = till.new_customer().await;

    // A plain card: the merchant charges it alone, once per key.
    pay_and_save(&till, &customer, 3_100, cards.succeeds).await;
    let plain = till.saved_cards(&customer).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let key = new_key();
    let (status, charged) = charge_with_key(&till, &customer, &plain, 3_200, &key).await;
    assert_eq!(status, 200, "{charged}");
    assert_eq!(charged["status"], "succeeded");
    assert_eq!(charged["customer"], customer.as_str());
    let (_, again) = charge_with_key(&till, &customer, &plain, 3_200, &key).await;
    assert_eq!(again["id"], charged["id"]);
    assert_eq!(
        gateway
            .charges(&till, charged["id"].as_str().unwrap())
            .await
            .len(),
        1
    );

    // A card whose bank wants its holder: saved after passing 3-D Secure at checkout...
    let (session, challenged) = pay_and_save(&till, &customer, 3_300, cards.challenges).await;
    assert_eq!(challenged["status"], "requires_action", "{challenged}");
    assert_eq!(
        till.saved_cards(&customer).await.len(),
        1,
        "not offered before it passes"
    );
    let (status, passed) = till
        .post(
            &format!(
                "/v1/payments/{}/challenge",
                challenged["id"].as_str().unwrap()
            ),
            &till.publishable_key,
            &json!({ "client_secret": session.client_secret, "otp": "123456" }),
        )
        .await;
    assert_eq!(
        (status, passed["status"].as_str()),
        (200, Some("succeeded")),
        "{passed}"
    );
    let saved = till.saved_cards(&customer).await;
    assert_eq!(saved.len(), 2);
    let strong = saved[0]["id"].as_str().unwrap().to_string();

    // ...charged off-session, fails `authentication_required` with a way back for the customer.
    let (status, failed) = charge_off_session(&till, &customer, &strong, 3_400).await;
    assert_eq!(status, 200, "{failed}");
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["failure_code"], "authentication_required");
    let action = &failed["customer_action"];
    let back = Session {
        id: action["checkout_session"].as_str().unwrap().into(),
        client_secret: action["client_secret"].as_str().unwrap().into(),
        body: json!({}),
    };
    // The customer, on the hosted page, pays that session with the same card and passes.
    let (status, present) = confirm_with(&till, &back, json!({ "payment_method": strong })).await;
    assert_eq!(
        (status, present["status"].as_str()),
        (200, Some("requires_action")),
        "{present}"
    );
    let (_, passed) = till
        .post(
            &format!("/v1/payments/{}/challenge", present["id"].as_str().unwrap()),
            &till.publishable_key,
            &json!({ "client_secret": back.client_secret, "otp": "123456" }),
        )
        .await;
    assert_eq!(passed["status"], "succeeded", "{passed}");
    assert_eq!(passed["amount"], 3_400);

    // Charges the endpoint refuses.
    for (body, status_code, expected) in [
        (
            json!({ "customer": customer, "payment_method": plain, "amount": 100, "currency": "USD",
                 "off_session": false }),
            400,
            "parameter_invalid",
        ),
        (
            json!({ "customer": customer, "payment_method": "pm_x", "amount": 100, "currency": "USD",
                 "off_session": true }),
            404,
            "resource_missing",
        ),
        (
            json!({ "customer": customer, "payment_method": plain, "amount": 0, "currency": "USD",
                 "off_session": true }),
            400,
            "amount_invalid",
        ),
    ] {
        let (status, refused) = till
            .post_with_key("/v1/payments", &till.secret_key, &body)
            .await;
        assert_eq!(
            (status, code(&refused)),
            (status_code, expected),
            "{body}: {refused}"
        );
    }
    let other = till.new_customer().await;
    let (status, refused) = charge_off_session(&till, &other, &plain, 100).await;
    assert_eq!(
        (status, code(&refused)),
        (404, "resource_missing"),
        "another customer's card"
    );
    let stranger = till_e2e::wallet::till();
    let (status, refused) = charge_off_session(&stranger, &customer, &plain, 100).await;
    assert_eq!(
        (status, code(&refused)),
        (404, "resource_missing"),
        "another merchant's card"
    );
}

/// A charge whose answer was lost, or whose gateway failed, is finished by the merchant's retry
/// with the same key: the gateway is asked first, and the card is charged once. Copies of one
/// charge sent at once charge once too.
async fn an_off_session_charge_the_gateway_did_not_answer_is_finished_once(gateway: Gateway) {
    let till = gateway.merchant().await;
    let customer = till.new_customer().await;
    pay_and_save(&till, &customer, 3_500, gateway.cards().succeeds).await;
    let card = till.saved_cards(&customer).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let lost = gateway.amount(61_701);
    gateway.lose_answer(&till, lost).await;
    let failed = gateway.amount(61_702);
    gateway.fail_once(&till, failed).await;
    for (amount, what) in [(lost, "an answer lost"), (failed, "a gateway error")] {
        let key = new_key();
        let (status, first) = charge_with_key(&till, &customer, &card, amount, &key).await;
        assert_eq!(
            (status, code(&first)),
            (502, "gateway_unavailable"),
            "{what}: {first}"
        );
        let (status, retried) = charge_with_key(&till, &customer, &card, amount, &key).await;
        assert_eq!(
            (status, retried["status"].as_str()),
            (200, Some("succeeded")),
            "{what}: {retried}"
        );
        let id = retried["id"].as_str().unwrap();
        assert_eq!(gateway.charges(&till, id).await.len(), 1, "{what}");
        let (_, listed) = till
            .get(
                &format!("/v1/payments?customer={customer}"),
                &till.secret_key,
            )
            .await;
        let made = listed["data"].as_array().into_iter().flatten();
        assert_eq!(made.filter(|p| p["amount"] == amount).count(), 1, "{what}");
    }

    let key = new_key();
    let at_once = gateway.amount(61_703);
    let answers = futures_util::future::join_all(
        (0..4).map(|_| charge_with_key(&till, &customer, &card, at_once, &key)),
    )
    .await;
    let paid: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, payment)| payment["id"].clone())
        .collect();
    for (status, answer) in &answers {
        assert!(
            *status == 200 || (*status == 409 && code(answer) == "idempotency_request_in_progress"),
            "{status}: {answer}"
        );
    }
    assert!(
        !paid.is_empty() && paid.iter().all(|id| *id == paid[0]),
        "{answers:?}"
    );
    let id = paid[0].as_str().unwrap();
    assert_eq!(gateway.charges(&till, id).await.len(), 1);
}

/// `cvc` encrypted for `session` as the widget does: `{cvc, iat, nonce}` to the edge's key.
async fn a_merchant_that_requires_the_code_gets_it_typed_again_and_encrypted(gateway: Gateway) {
    let till = gateway.merchant().await;
    let cards = gateway.cards();
    let customer = till.new_customer().await;
    let (_, first) = pay_and_save(&till, &customer, 3_100, cards.succeeds).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    let card = till.saved_cards(&customer).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let session = till.customer_checkout(&customer, 3_200, true).await;
    assert_eq!(session.body["require_cvc"], json!(true), "{}", session.body);

    // Without the code, with a short one, with one made for another session: refused, and
    // nothing reaches the gateway.
    let (status, refused) = confirm_with(&till, &session, json!({ "payment_method": card })).await;
    assert_eq!(
        (status, code(&refused)),
        (402, "incomplete_cvc"),
        "{refused}"
    );
    assert_eq!(refused["error"]["param"], "cvc");
    let short = till.encrypt_cvc(&session, "12").await;
    let (status, refused) = confirm_with(
        &till,
        &session,
        json!({ "payment_method": card, "encrypted_cvc": short }),
    )
    .await;
    assert_eq!(
        (status, &refused["error"]["param"]),
        (402, &json!("cvc")),
        "{refused}"
    );
    let elsewhere = till.customer_checkout(&customer, 3_300, false).await;
    let misdirected = till.encrypt_cvc(&elsewhere, "123").await;
    let (status, refused) = confirm_with(
        &till,
        &session,
        json!({ "payment_method": card, "encrypted_cvc": misdirected }),
    )
    .await;
    assert_eq!((status, code(&refused)), (400, "encrypted_card_invalid"));
    let token = till.token(&session, cards.succeeds).await;
    let sealed = till.encrypt_cvc(&session, "123").await;
    let (status, refused) = confirm_with(
        &till,
        &session,
        json!({ "token": token, "encrypted_cvc": sealed }),
    )
    .await;
    assert_eq!((status, code(&refused)), (400, "parameter_invalid"));
    let state = till.session_state(&session).await;
    assert_eq!(
        state["payment"],
        Value::Null,
        "nothing was charged: {state}"
    );

    // With the code: paid, and the gateway got it with the saved card. The customer's retry
    // (same key, same ciphertext) is the same payment.
    let body = json!({ "client_secret": session.client_secret, "payment_method": card,
                       "encrypted_cvc": sealed });
    let key = new_key();
    let send = || {
        till.http
            .post(till.url(&format!("/v1/checkout_sessions/{}/confirm", session.id)))
            .bearer_auth(&till.publishable_key)
            .header("Idempotency-Key", &key)
            .json(&body)
            .send()
    };
    let (status, paid) = till_e2e::json_of(send().await.unwrap()).await;
    assert_eq!(
        (status, paid["status"].as_str()),
        (200, Some("succeeded")),
        "{paid}"
    );
    assert_eq!(paid["payment_method"], card.as_str());
    let (status, again) = till_e2e::json_of(send().await.unwrap()).await;
    assert_eq!((status, &again["id"]), (200, &paid["id"]));
    if gateway == Gateway::Sandbox {
        let charged = till
            .gateway_authorizations(paid["id"].as_str().unwrap())
            .await;
        assert_eq!(charged.len(), 1, "{charged:?}");
        assert_eq!(charged[0]["cvc_check"], "pass", "{charged:?}");
    }
}

/// The sandbox alone: a decline is injected for the payment's amount.
#[tokio::test]
async fn a_typed_code_is_spent_with_the_payment_it_started() {
    let till = Till::default();
    let customer = till.new_customer().await;
    let (_, first) = pay_and_save(&till, &customer, 34_016, "4242424242424242").await;
    assert_eq!(first["status"], "succeeded", "{first}");
    let card = till.saved_cards(&customer).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let session = till.customer_checkout(&customer, 34_017, true).await;
    till.fault(json!({ "amount": 34_017, "decline_times": 1 }))
        .await;

    // The issuer declines the first payment; the session stays open for another.
    let sealed = till.encrypt_cvc(&session, "123").await;
    let with_code = json!({ "payment_method": card, "encrypted_cvc": sealed });
    let (status, declined) = confirm_with(&till, &session, with_code.clone()).await;
    assert_eq!(
        (status, declined["status"].as_str()),
        (200, Some("failed")),
        "{declined}"
    );
    // The same ciphertext under another key: its nonce went with the declined payment.
    let (status, replayed) = confirm_with(&till, &session, with_code).await;
    assert_eq!(
        (status, code(&replayed), replayed["error"]["param"].as_str()),
        (400, "encrypted_card_replayed", Some("encrypted_cvc")),
        "{replayed}"
    );
    // The code typed again pays.
    let typed_again = till.encrypt_cvc(&session, "123").await;
    let (status, paid) = confirm_with(
        &till,
        &session,
        json!({ "payment_method": card, "encrypted_cvc": typed_again }),
    )
    .await;
    assert_eq!(
        (status, paid["status"].as_str()),
        (200, Some("succeeded")),
        "{paid}"
    );
}
