//! The hosted wallet page and its API: a customer session made with `wallet: true` lets the page
//! show the wallet, add money through the hosted checkout, send to a contact and withdraw, and
//! see the customer's orders and ask for a refund or a return, in English and Korean, on a
//! desktop and on a 375 px phone.

use fantoccini::Locator;
use serde_json::{json, Value};
use till_e2e::browser::{click, fits_a_phone, open, screenshot, wait_for, wait_for_text};
use till_e2e::wallet::{self, unique_phone, PAID_ACCOUNT};
use till_e2e::{json_of, new_key, Till};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// A customer session of `customer`; its client secret.
async fn customer_session(till: &Till, customer: &str, wallet: bool) -> String {
    let (status, session) = till
        .post(
            "/v1/customer_sessions",
            &till.secret_key,
            &json!({ "customer": customer, "wallet": wallet, "return_url": "tillwallet://done" }),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["wallet"], wallet);
    session["client_secret"].as_str().unwrap().to_string()
}

fn session_id(secret: &str) -> &str {
    secret.split("_secret_").next().unwrap()
}

/// A call of the wallet page's API with the publishable key, as the page makes it.
async fn page_post(
    till: &Till,
    secret: &str,
    what: &str,
    body: Value,
    key: Option<&str>,
) -> (u16, Value) {
    let mut request = till
        .http
        .post(till.url(&format!(
            "/v1/customer_sessions/{}/{what}",
            session_id(secret)
        )))
        .bearer_auth(&till.publishable_key)
        .header("Origin", &till.edge)
        .json(&body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    json_of(request.send().await.unwrap()).await
}

async fn page_wallet(till: &Till, secret: &str) -> (u16, Value) {
    let response = till
        .http
        .get(till.url(&format!(
            "/v1/customer_sessions/{}/wallet",
            session_id(secret)
        )))
        .query(&[("client_secret", secret)])
        .bearer_auth(&till.publishable_key)
        .header("Origin", &till.edge)
        .send()
        .await
        .unwrap();
    json_of(response).await
}

#[tokio::test]
async fn a_wallet_session_moves_only_its_customers_money() {
    let till = wallet::till();
    let sender = till.new_customer().await;
    let receiver_phone = unique_phone();
    let receiver = till
        .create_customer(json!({ "phone": receiver_phone, "name": "Bo" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = customer_session(&till, &sender, true).await;

    // A top-up is a checkout of the wallet's customer that comes back to the wallet page.
    let (status, checkout) = page_post(
        &till,
        &secret,
        "top_ups",
        json!({ "client_secret": secret, "amount": 6_000, "currency": "USD" }),
        None,
    )
    .await;
    assert_eq!(status, 200, "{checkout}");
    assert_eq!(checkout["purpose"], "wallet_top_up");
    assert_eq!(checkout["customer"], sender.as_str());
    assert_eq!(checkout["return_url"], format!("{}/wallet", till.edge));
    let session = till_e2e::Session::from_created(checkout);
    let token = till.token(&session, "4242424242424242").await;
    let (status, _, paid) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!((status, paid["status"].as_str()), (200, Some("succeeded")));

    let body = json!({ "client_secret": secret, "to": receiver_phone, "amount": 2_500,
                       "currency": "USD", "note": "점심" });
    let key = new_key();
    let (status, sent) = page_post(&till, &secret, "transfers", body.clone(), Some(&key)).await;
    assert_eq!(
        (status, sent["to_customer"].as_str()),
        (200, Some(receiver.as_str())),
        "{sent}"
    );
    let (status, again) = page_post(&till, &secret, "transfers", body, Some(&key)).await;
    assert_eq!((status, &again["id"]), (200, &sent["id"]));
    let (status, payout) = page_post(
        &till,
        &secret,
        "payouts",
        json!({ "client_secret": secret, "amount": 1_000, "currency": "USD",
                "bank_account": { "holder_name": "Jiwoo Kim", "routing_number": "110000000",
                                  "account_number": PAID_ACCOUNT } }),
        Some(&new_key()),
    )
    .await;
    assert_eq!(status, 200, "{payout}");
    assert_eq!(payout["customer"], sender.as_str());

    let (status, seen) = page_wallet(&till, &secret).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(
        seen["balances"],
        json!([{ "amount": 2_500, "currency": "USD" }])
    );
    let kinds: Vec<&str> = seen["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["payout_requested", "transfer", "top_up"]);
    assert_eq!(seen["return_url"], "tillwallet://done");
    assert_eq!(till.wallet(&receiver).await, 2_500);

    // What the page may not do: move money it cannot see, or with a session made for cards.
    let (status, overdrawn) = page_post(
        &till,
        &secret,
        "transfers",
        json!({ "client_secret": secret, "to": receiver, "amount": 2_501, "currency": "USD" }),
        Some(&new_key()),
    )
    .await;
    assert_eq!((status, code(&overdrawn)), (402, "balance_insufficient"));
    let (status, from_card) = page_post(
        &till,
        &secret,
        "transfers",
        json!({ "client_secret": secret, "to": receiver, "amount": 100, "currency": "USD",
                "source": "pm_5f0c2b9e8d7a4c1b9e3f6a2d4c8b1e7f" }),
        Some(&new_key()),
    )
    .await;
    assert_eq!((status, code(&from_card)), (400, "parameter_invalid"));
    let cards_only = customer_session(&till, &sender, false).await;
    let (status, refused) = page_wallet(&till, &cards_only).await;
    assert_eq!((status, code(&refused)), (403, "wallet_not_enabled"));
    let (status, refused) = page_post(
        &till,
        &cards_only,
        "payouts",
        json!({ "client_secret": cards_only, "amount": 100, "currency": "USD",
                "bank_account": { "holder_name": "X", "routing_number": "110000000",
                                  "account_number": PAID_ACCOUNT } }),
        Some(&new_key()),
    )
    .await;
    assert_eq!((status, code(&refused)), (403, "wallet_not_enabled"));
    let wrong = format!("{}_secret_{}", session_id(&secret), "0".repeat(32));
    let (status, refused) = page_wallet(&till, &wrong).await;
    assert_eq!((status, code(&refused)), (400, "client_secret_invalid"));
    let other_merchant = Till::default();
    let (status, refused) = page_wallet(&other_merchant, &secret).await;
    assert_eq!((status, code(&refused)), (404, "resource_missing"));
    assert_eq!(till.wallet(&sender).await, 2_500);

    let (status, bad) = till
        .post(
            "/v1/customer_sessions",
            &till.secret_key,
            &json!({ "customer": sender, "wallet": true, "return_url": "javascript:alert(1)" }),
        )
        .await;
    assert_eq!((status, code(&bad)), (400, "return_url_invalid"));
}

/// The page's balance line, once it shows `needle`.
async fn balance_shows(client: &fantoccini::Client, needle: &str) -> String {
    wait_for_text(client, ".balance .amount", needle).await
}

async fn type_into(client: &fantoccini::Client, css: &str, text: &str) {
    let field = client.find(Locator::Css(css)).await.expect(css);
    field.clear().await.expect(css);
    field.send_keys(text).await.expect(css);
}

#[tokio::test]
async fn a_customer_tops_up_sends_and_the_receiver_sees_it_in_english_and_korean() {
    let client = open().await;
    let till = wallet::till();
    let sender = till.new_customer().await;
    let receiver_phone = unique_phone();
    let receiver = till
        .create_customer(json!({ "phone": receiver_phone, "locale": "ko" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();

    // The sender opens the wallet; Add money goes through the hosted checkout and comes back.
    let secret = customer_session(&till, &sender, true).await;
    let url = format!(
        "{}/wallet?key={}#customer_session={secret}",
        till.edge, till.publishable_key
    );
    client.goto(&url).await.unwrap();
    balance_shows(&client, "$0.00").await;
    let address = client.current_url().await.unwrap();
    assert!(
        !address.as_str().contains("secret"),
        "the secret leaves the address: {address}"
    );
    type_into(&client, "#top-up-amount", "50").await;
    click(&client, "#panel-add-money button[type=submit]").await;
    wait_for(&client, "#card-number").await;
    for (css, text) in [
        ("#card-number", "4242424242424242"),
        ("#card-expiry", "1234"),
        ("#card-cvc", "123"),
        ("#card-name", "Ada Lovelace"),
    ] {
        type_into(&client, css, text).await;
    }
    click(&client, "#pay").await;
    balance_shows(&client, "$50.00").await;
    wait_for_text(&client, ".notice", "Money added").await;

    // Send to a contact by phone number, with the keyboard's Enter.
    click(&client, "#tab-send").await;
    type_into(&client, "#send-to", &receiver_phone).await;
    type_into(&client, "#send-amount", "12.50").await;
    type_into(&client, "#send-note", "Lunch").await;
    screenshot(&client, "wallet-send-desktop").await;
    // Enter in the last field sends, as on any form.
    client
        .find(Locator::Css("#send-note"))
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    wait_for_text(&client, ".notice", "Sent $12.50").await;
    balance_shows(&client, "$37.50").await;
    click(&client, "#tab-history").await;
    let history = wait_for_text(&client, ".movements", "Sent").await;
    assert!(
        history.contains("−$12.50") && history.contains("Money added"),
        "{history}"
    );
    screenshot(&client, "wallet-history-desktop").await;
    fits_a_phone(&client).await;
    screenshot(&client, "wallet-history-375").await;
    // Withdraw: the money leaves the balance at once.
    click(&client, "#tab-withdraw").await;
    type_into(&client, "#payout-holder", "Ada Lovelace").await;
    type_into(&client, "#payout-routing", "110000000").await;
    type_into(&client, "#payout-account", PAID_ACCOUNT).await;
    type_into(&client, "#payout-amount", "7.50").await;
    click(&client, "#panel-withdraw button[type=submit]").await;
    wait_for_text(&client, ".notice", "Withdrawal of $7.50").await;
    balance_shows(&client, "$30.00").await;
    screenshot(&client, "wallet-withdraw-375").await;

    // The receiver opens their own wallet, in Korean, on the phone: the money is there.
    let theirs = customer_session(&till, &receiver, true).await;
    let url = format!(
        "{}/wallet?key={}#customer_session={theirs}&locale=ko",
        till.edge, till.publishable_key
    );
    client.goto(&url).await.unwrap();
    balance_shows(&client, "12.50").await;
    let lang = client
        .execute("return document.documentElement.lang", vec![])
        .await
        .unwrap();
    assert_eq!(lang.as_str(), Some("ko"));
    wait_for_text(&client, "#tab-send", "송금").await;
    // Arrow keys move between the sections, as in any tab list.
    client
        .find(Locator::Css("#tab-add-money"))
        .await
        .unwrap()
        .send_keys("\u{E012}")
        .await
        .unwrap();
    let focused = client
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    assert_eq!(
        focused.as_str(),
        Some("tab-orders"),
        "from the first to the last"
    );
    click(&client, "#tab-history").await;
    let history = wait_for_text(&client, ".movements", "받은 돈").await;
    assert!(
        history.contains("+US$12.50") || history.contains("+$12.50"),
        "{history}"
    );
    screenshot(&client, "wallet-receiver-ko-375").await;
    client.close().await.unwrap();
    assert_eq!(till.wallet(&receiver).await, 1_250);
}

#[tokio::test]
async fn a_customer_asks_for_a_return_in_korean_and_sees_the_shops_answer() {
    let client = open().await;
    let till = wallet::till();
    let customer = till.new_customer().await;
    let (status, created) = till
        .post(
            "/v1/checkout_sessions",
            &till.secret_key,
            &json!({
                "amount": 45_000, "currency": "KRW", "customer": customer,
                "merchant_reference": "주문-2026-1126",
                "line_items": [{ "name": "운동화", "quantity": 1, "unit_amount": 45_000 }],
            }),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let session = till_e2e::Session::from_created(created);
    let token = till.token(&session, "4242424242424242").await;
    let (status, _, payment) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 200, "{payment}");

    let secret = customer_session(&till, &customer, true).await;
    let url = format!(
        "{}/wallet?key={}#customer_session={secret}&locale=ko",
        till.edge, till.publishable_key
    );
    client.goto(&url).await.unwrap();
    fits_a_phone(&client).await;
    wait_for(&client, "#tab-orders").await;
    click(&client, "#tab-orders").await;
    let order = wait_for_text(&client, ".orders", "주문-2026-1126").await;
    assert!(
        order.contains("결제 완료") && order.contains("운동화 × 1"),
        "{order}"
    );
    assert!(order.contains("45,000"), "{order}");
    click(&client, ".orders .ask").await;
    click(&client, "input[name=kind][value=return]").await;
    // Sending without a reason says what is missing and sends nothing.
    click(&client, "form.request button[type=submit]").await;
    wait_for_text(&client, "#request-reason-error", "사유").await;
    type_into(&client, "#request-reason", "사이즈가 작아요").await;
    screenshot(&client, "wallet-orders-request-ko-375").await;
    click(&client, "form.request button[type=submit]").await;
    wait_for_text(&client, ".notice", "상점에 요청을 보냈습니다").await;
    wait_for_text(&client, ".orders .request", "요청 접수").await;

    // The shop declines with a reason; the customer sees it when they look again.
    let (_, requests) = till
        .get("/v1/refund_requests?status=open", &till.secret_key)
        .await;
    let request = requests["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["payment"] == payment["id"])
        .cloned()
        .expect("the request reached the shop");
    assert_eq!(
        (&request["kind"], &request["reason"]),
        (&json!("return"), &json!("사이즈가 작아요"))
    );
    let (status, declined) = till
        .post(
            &format!(
                "/v1/refund_requests/{}/decline",
                request["id"].as_str().unwrap()
            ),
            &till.secret_key,
            &json!({ "reason": "착용한 상품은 반품할 수 없습니다." }),
        )
        .await;
    assert_eq!(status, 200, "{declined}");
    client.refresh().await.unwrap();
    wait_for(&client, "#tab-orders").await;
    click(&client, "#tab-orders").await;
    let answer = wait_for_text(&client, ".orders .request", "거절").await;
    assert!(
        answer.contains("착용한 상품은 반품할 수 없습니다."),
        "{answer}"
    );
    screenshot(&client, "wallet-orders-declined-ko-375").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_customer_manages_a_subscription_on_the_hosted_page_in_english_and_korean() {
    let client = open().await;
    let till = wallet::till();
    let customer = till.new_customer().await;
    let visa = till.save_card(&customer, 2_171, "4242424242424242").await;
    let mastercard = till.save_card(&customer, 2_172, "5555555555554444").await;
    let (_, price) = till
        .product_price(
            "Gold membership",
            json!({ "unit_amount": 1_250, "currency": "USD",
                     "interval": "month" }),
        )
        .await;
    let body = json!({ "customer": customer, "price": price["id"], "payment_method": visa });
    let (status, _, subscription) = till
        .post_keyed("/v1/subscriptions", &body, &till_e2e::new_key())
        .await;
    assert_eq!(
        (status, subscription["status"].as_str()),
        (200, Some("active")),
        "{subscription}"
    );
    let id = subscription["id"].as_str().unwrap().to_string();
    let (status, session) = till
        .post(
            "/v1/customer_sessions",
            &till.secret_key,
            &json!({ "customer": customer, "subscriptions": true }),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    let secret = session["client_secret"].as_str().unwrap();
    let url = format!(
        "{}/wallet?key={}&view=subscriptions#customer_session={secret}",
        till.edge, till.publishable_key
    );
    client.goto(&url).await.unwrap();
    wait_for_text(&client, ".plan h2", "Gold membership × 1").await;
    let plan = wait_for_text(&client, ".plan", "Next charge $12.50").await;
    assert!(
        plan.contains("Visa •••• 4242") && plan.contains("Paid"),
        "{plan}"
    );
    screenshot(&client, "subscriptions-desktop").await;

    // Another saved card, then cancel at the period's end.
    click(&client, ".plan button.change-card").await;
    click(&client, &format!("input[value={mastercard}]")).await;
    click(&client, ".plan form.cards button[type=submit]").await;
    wait_for_text(&client, ".notice", "Card changed").await;
    wait_for_text(&client, ".plan .card", "Mastercard •••• 4444").await;
    click(&client, ".plan button.cancel").await;
    wait_for_text(&client, ".notice", "you keep it until the end").await;
    wait_for_text(&client, ".plan .next", "Ends on").await;
    let (_, seen) = till
        .get(&format!("/v1/subscriptions/{id}"), &till.secret_key)
        .await;
    assert_eq!(
        (
            seen["payment_method"].as_str(),
            seen["cancel_at_period_end"].as_bool()
        ),
        (Some(mastercard.as_str()), Some(true))
    );
    fits_a_phone(&client).await;
    screenshot(&client, "subscriptions-375").await;

    // In Korean, the customer keeps it after all.
    let (_, again) = till
        .post(
            "/v1/customer_sessions",
            &till.secret_key,
            &json!({ "customer": customer, "subscriptions": true }),
        )
        .await;
    let url = format!(
        "{}/wallet?key={}&view=subscriptions#customer_session={}&locale=ko",
        till.edge,
        till.publishable_key,
        again["client_secret"].as_str().unwrap()
    );
    client.goto(&url).await.unwrap();
    wait_for_text(&client, ".plan .next", "해지 예정").await;
    click(&client, ".plan button.keep").await;
    wait_for_text(&client, ".notice", "구독이 계속됩니다").await;
    wait_for_text(&client, ".plan .next", "다음 결제").await;
    screenshot(&client, "subscriptions-ko-375").await;
    let (_, kept) = till
        .get(&format!("/v1/subscriptions/{id}"), &till.secret_key)
        .await;
    assert_eq!(kept["cancel_at_period_end"], false);
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_customer_follows_the_emailed_link_and_pays_a_failed_renewal_with_a_new_card() {
    let client = open().await;
    let till = wallet::till();
    let to = format!(
        "member-{}@example.com",
        new_key().trim_start_matches("test-")
    );
    let customer = till
        .create_customer(json!({ "phone": unique_phone(), "email": to, "locale": "en-US" }))
        .await;
    let customer = customer["id"].as_str().unwrap().to_string();
    // A card of this test's own: declines are counted per card.
    let first = till.save_card(&customer, 2_201, "4000056655665556").await;
    let (_, price) = till
        .product_price(
            "Plus membership",
            json!({ "unit_amount": 2_202, "currency": "USD",
                     "interval": "month" }),
        )
        .await;
    let start = 1_800_176_400;
    let (_, clock) = till
        .post(
            "/v1/test_clocks",
            &till.secret_key,
            &json!({ "frozen_time": start }),
        )
        .await;
    let clock = clock["id"].as_str().unwrap().to_string();
    let body = json!({ "customer": customer, "price": price["id"], "payment_method": first,
                       "test_clock": clock });
    let (status, _, subscription) = till
        .post_keyed("/v1/subscriptions", &body, &new_key())
        .await;
    assert_eq!(status, 200, "{subscription}");
    let id = subscription["id"].as_str().unwrap().to_string();
    till_e2e::gateways::Gateway::Sandbox
        .decline_next(&till, 2_202, 1)
        .await;
    let (status, _) = till
        .post(
            &format!("/v1/test_clocks/{clock}/advance"),
            &till.secret_key,
            &json!({ "frozen_time": start + 31 * 86_400 }),
        )
        .await;
    assert_eq!(status, 200);
    let (_, owed) = till
        .get(&format!("/v1/subscriptions/{id}"), &till.secret_key)
        .await;
    let invoice = owed["latest_invoice"].as_str().unwrap().to_string();
    // The customer is told by e-mail (besides the first charge's receipt), with a link.
    let notice = failure_notice(&till, &to).await;
    assert_eq!(
        notice["subject"],
        "Your payment to Wallet Test Merchant didn't go through"
    );
    let text = notice["text"].as_str().unwrap();
    for said in [
        "(on Visa •••• 5556)",
        "We will try again on 2027-02-18.",
        "Plan: Plus membership × 1",
        "Amount due: $22.02",
        &format!("Invoice: {invoice}"),
    ] {
        assert!(text.contains(said), "{said:?} not in {text}");
    }
    let link = text
        .lines()
        .find(|line| line.starts_with("http"))
        .expect("a link")
        .to_string();
    let page = format!("{}/wallet?key=pk_", till.edge);
    assert!(link.starts_with(&page), "{link}");
    assert!(
        link.contains("&view=subscriptions#customer_session=cuss_"),
        "{link}"
    );
    assert!(
        !link.contains(&till.publishable_key),
        "Till's own key, not the shop's"
    );
    assert!(notice["html"]
        .as_str()
        .unwrap()
        .contains("Pay now or use another card"));
    // The key is the merchant's to see (and revoke), made once.
    let (_, keys) = till.get("/v1/api_keys", &till.secret_key).await;
    let hosted: Vec<&Value> = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["name"] == "Till hosted pages" && k["revoked"].is_null())
        .collect();
    assert_eq!(hosted.len(), 1, "{keys}");
    assert_eq!(hosted[0]["kind"], "publishable");
    let first_key = hosted[0]["id"].as_str().unwrap().to_string();
    client.goto(&link).await.unwrap();
    wait_for_text(&client, ".plan .owes", "did not go through").await;
    fits_a_phone(&client).await;
    screenshot(&client, "subscriptions-past-due-375").await;
    click(&client, ".plan button.pay-now").await;
    wait_for(&client, "#card-number").await;
    for (css, text) in [
        ("#card-number", "5555555555554444"),
        ("#card-expiry", "1234"),
        ("#card-cvc", "123"),
        ("#card-name", "Ada Lovelace"),
    ] {
        type_into(&client, css, text).await;
    }
    click(&client, "#save-card").await;
    click(&client, "#pay").await;
    // Back on the page: paid, active, charged to the new card from now on.
    wait_for_text(&client, ".plan .card", "Mastercard •••• 4444").await;
    wait_for_text(&client, ".plan .price", "Active").await;
    screenshot(&client, "subscriptions-paid-375").await;
    let (_, now) = till
        .get(&format!("/v1/subscriptions/{id}"), &till.secret_key)
        .await;
    assert_eq!(now["status"], "active", "{now}");
    let (_, invoice) = till
        .get(
            &format!("/v1/invoices/{}", now["latest_invoice"].as_str().unwrap()),
            &till.secret_key,
        )
        .await;
    assert_eq!(invoice["status"], "paid", "{invoice}");
    client.close().await.unwrap();

    // The merchant revokes the key its links carry: the next notice comes with a new one.
    let (status, _) = till
        .post(
            &format!("/v1/api_keys/{first_key}/revoke"),
            &till.secret_key,
            &json!({}),
        )
        .await;
    assert_eq!(status, 200);
    till_e2e::gateways::Gateway::Sandbox
        .decline_next(&till, 2_202, 1)
        .await;
    let (status, _) = till
        .post(
            &format!("/v1/test_clocks/{clock}/advance"),
            &till.secret_key,
            &json!({ "frozen_time": start + 59 * 86_400 }),
        )
        .await;
    assert_eq!(status, 200);
    let second = failure_notices(&till, &to, 2).await.remove(1);
    let text = second["text"].as_str().unwrap();
    assert!(text.contains("(on Mastercard •••• 4444)"), "{text}");
    assert!(text.contains("We will try again on 2027-03-18."), "{text}");
    let (_, keys) = till.get("/v1/api_keys", &till.secret_key).await;
    let active: Vec<&Value> = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["name"] == "Till hosted pages" && k["revoked"].is_null())
        .collect();
    assert_eq!(active.len(), 1, "{keys}");
    assert_ne!(active[0]["id"], first_key.as_str(), "a new key");
    assert!(
        !text.contains(&link[..link.find('&').unwrap()]),
        "the new link does not carry the revoked key"
    );
}

/// The first notice of a failed renewal in `to`'s mailbox (the charges' receipts go to the
/// same address).
async fn failure_notice(till: &Till, to: &str) -> Value {
    failure_notices(till, to, 1).await.remove(0)
}

/// `count` notices of failed renewals in `to`'s mailbox, oldest first, waiting up to 20 s.
async fn failure_notices(till: &Till, to: &str, count: usize) -> Vec<Value> {
    for _ in 0..100 {
        let notices: Vec<Value> = till
            .mail_to(to, 1)
            .await
            .into_iter()
            .filter(|m| {
                m["subject"]
                    .as_str()
                    .unwrap_or_default()
                    .ends_with("didn't go through")
            })
            .collect();
        if notices.len() >= count {
            return notices;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("fewer than {count} failure notices sent to {to}");
}
