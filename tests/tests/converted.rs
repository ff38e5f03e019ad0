//! Checkouts in the customer's currency settled in the merchant's, through the real widget, the
//! edge and the sandbox: a won session settled in dollars and a yen one settled in Bahraini
//! dinar (0 to 3 decimals), each booked on both legs with the FX margin, refunded in parts at
//! the original rate down to the last minor unit; an expired quote charges nothing.

use fantoccini::Locator;
use serde_json::{json, Value};
use std::time::Duration;
use till_core::fx::{self, Converted, Taken};
use till_core::money::Currency;
use till_e2e::browser::{click, open, screenshot, wait_for, wait_for_text};
use till_e2e::merchants::onboard;
use till_e2e::{new_key, send, Session, Till, GATEWAY_KEY};

const CARD: &str = "4242424242424242";

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Publishes today's reference rates at the sandbox (another test may have moved the day).
async fn fresh_rates(till: &Till) {
    let response = send(
        till.http
            .post(format!("{}/v1/control/rates", till.gateway))
            .bearer_auth(GATEWAY_KEY)
            .json(&json!({ "date": null })),
    )
    .await;
    assert_eq!(response.status(), 200);
}

async fn quote(till: &Till, from: &str, to: &str, amount: i64) -> Value {
    let (status, quote) = till
        .post(
            "/v1/fx_quotes",
            &till.secret_key,
            &json!({ "from": from, "to": to, "amount": amount }),
        )
        .await;
    assert_eq!(status, 200, "{quote}");
    quote
}

/// A checkout session in the quote's `to`, settled in its `from`.
async fn session_for(till: &Till, quote: &Value) -> Session {
    let (status, session) = till
        .post(
            "/v1/checkout_sessions",
            &till.secret_key,
            &json!({
                "amount": quote["to"]["amount"],
                "currency": quote["to"]["currency"],
                "fx_quote": quote["id"],
            }),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    Session::from_created(session)
}

async fn balance(till: &Till, currency: &str) -> Option<i64> {
    let (status, balance) = till.get("/v1/balance", &till.secret_key).await;
    assert_eq!(status, 200, "{balance}");
    balance["available"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["currency"] == currency)
        .map(|b| b["amount"].as_i64().unwrap())
}

async fn account_balance(till: &Till, account: &str) -> i64 {
    let (status, entries) = till
        .get(
            &format!("/v1/ledger/entries?account={account}&limit=1"),
            &till.secret_key,
        )
        .await;
    assert_eq!(status, 200, "{entries}");
    entries["data"][0]["balance_after"].as_i64().unwrap_or(0)
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
    assert_eq!(refund["status"], "succeeded", "{refund}");
    refund
}

/// Pays the session by API, as the widget does, and returns the succeeded payment.
async fn pay(till: &Till, session: &Session) -> Value {
    let token = till.token(session, CARD).await;
    let (status, _, payment) = till.confirm(session, &token, &new_key()).await;
    assert_eq!(status, 200, "{payment}");
    assert_eq!(payment["status"], "succeeded", "{payment}");
    till.payment_of(session).await
}

/// Refunds `parts` of the payment and checks each takes its share of the settlement at the
/// original rate, and that together they give back exactly what the payment booked.
async fn refund_in_parts(till: &Till, payment: &Value, parts: &[i64]) {
    let converted: Converted = serde_json::from_value(payment["conversion"].clone()).unwrap();
    let currency = payment["currency"].as_str().unwrap();
    let amount = payment["amount"].as_i64().unwrap();
    let captured = converted
        .captured_legs(Currency::parse(currency).unwrap(), amount, amount)
        .unwrap();
    let settlement = converted.settlement.currency.code();
    let mut taken = Taken::default();
    for part in parts {
        let refunded = refund(till, payment["id"].as_str().unwrap(), *part).await;
        let legs = fx::refund_legs(&captured, *part, taken).unwrap();
        assert_eq!(
            refunded["settlement"],
            json!({ "amount": legs.settlement.amount, "currency": settlement }),
            "{refunded}"
        );
        taken.presentment += part;
        taken.settlement += legs.settlement.amount;
        taken.margin += legs.margin;
    }
    assert_eq!(taken.presentment, amount, "the parts are the whole payment");
    assert_eq!(taken.settlement, converted.settlement.amount);
    let (_, after) = till
        .get(
            &format!("/v1/payments/{}", payment["id"].as_str().unwrap()),
            &till.secret_key,
        )
        .await;
    assert_eq!(after["amount_refunded"], amount);
    assert_eq!(after["settlement_refunded"], converted.settlement.amount);
    assert_eq!(balance(till, settlement).await, Some(0), "all given back");
    assert_eq!(
        account_balance(till, &format!("fx_margin:{currency}")).await,
        0,
        "the margin is given back with the money"
    );
}

#[tokio::test]
async fn a_won_checkout_paid_in_the_widget_settles_in_dollars_and_refunds_at_the_original_rate() {
    let (_, till) = onboard("Seoul Customers Shop", &[]).await;
    fresh_rates(&till).await;
    let quoted = quote(&till, "USD", "KRW", 3_241).await;
    let won = quoted["to"]["amount"].as_i64().unwrap();
    let session = session_for(&till, &quoted).await;
    assert_eq!(
        (&session.body["amount"], &session.body["currency"]),
        (&json!(won), &json!("KRW"))
    );
    assert_eq!(
        session.body["conversion"]["settlement"],
        json!({ "amount": 3_241, "currency": "USD" })
    );
    assert_eq!(session.body["conversion"]["fx_quote"], quoted["id"]);
    assert_eq!(session.body["conversion"]["rate"], quoted["rate"]);

    // The customer sees both amounts, and a screen reader hears the rate and until when.
    let client = open().await;
    let url = format!(
        "{}/#key={}&secret={}&locale=ko-KR",
        till.edge, till.publishable_key, session.client_secret
    );
    client.goto(&url).await.unwrap();
    wait_for(&client, "#card-number").await;
    let total = wait_for_text(&client, ".total", "US$").await;
    let won_text = format!("₩{}", group_thousands(won));
    assert!(total.contains(&won_text), "{total}");
    assert!(total.contains("약 US$32.41"), "{total}");
    let spoken = client
        .execute(
            "return document.querySelector('.total .sr-only').textContent",
            vec![],
        )
        .await
        .unwrap();
    let spoken = spoken.as_str().unwrap();
    assert!(spoken.contains("1 USD = 1,"), "{spoken}");
    assert!(spoken.contains("KRW"), "{spoken}");
    assert!(spoken.contains("1.5%"), "{spoken}");
    assert!(spoken.contains("까지 유지됩니다"), "{spoken}");
    let pay = client.find(Locator::Css("#pay")).await.unwrap();
    assert_eq!(pay.text().await.unwrap(), format!("{won_text} 결제하기"));
    screenshot(&client, "converted-krw").await;
    for (css, text) in [
        ("#card-number", CARD),
        ("#card-expiry", "1234"),
        ("#card-cvc", "123"),
        ("#card-name", "Kim Minji"),
    ] {
        client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }
    click(&client, "#pay").await;
    wait_for(&client, ".payment-id").await;
    client.close().await.unwrap();

    // The card paid won; the merchant holds dollars; the margin is Till's, in won.
    let payment = till.payment_of(&session).await;
    assert_eq!(payment["status"], "succeeded", "{payment}");
    assert_eq!(
        (&payment["amount"], &payment["currency"]),
        (&json!(won), &json!("KRW"))
    );
    assert_eq!(payment["conversion"]["settlement"]["amount"], 3_241);
    assert_eq!(payment["conversion"]["margin"], quoted["margin"]);
    let charged = till
        .gateway_authorizations(payment["id"].as_str().unwrap())
        .await;
    assert_eq!(charged.len(), 1);
    assert_eq!(
        (&charged[0]["amount"], &charged[0]["currency"]),
        (&json!(won), &json!("KRW")),
        "the gateway charged the customer's currency"
    );
    assert_eq!(balance(&till, "USD").await, Some(3_241));
    assert_eq!(
        balance(&till, "KRW").await,
        None,
        "the merchant holds no won"
    );
    assert_eq!(
        account_balance(&till, "fx_margin:KRW").await,
        quoted["margin"].as_i64().unwrap()
    );
    assert_eq!(account_balance(&till, "fx_desk:USD").await, -3_241);

    // Reports count it in the settlement currency.
    let (status, summary) = till.get("/v1/reports/summary", &till.secret_key).await;
    assert_eq!(status, 200, "{summary}");
    let totals = summary["totals"].as_array().unwrap();
    let usd = totals.iter().find(|t| t["currency"] == "USD").unwrap();
    assert_eq!(usd["gross"], 3_241, "{summary}");
    assert!(
        totals
            .iter()
            .all(|t| t["currency"] != "KRW" || t["gross"] == 0),
        "{summary}"
    );

    // Attacks on the session: a quote of another merchant, a mismatched amount, a bad id.
    let (_, stranger) = onboard("Seoul Stranger Shop", &[]).await;
    for (who, body, expected) in [
        (
            &stranger,
            json!({ "amount": won, "currency": "KRW", "fx_quote": quoted["id"] }),
            (404, "resource_missing"),
        ),
        (
            &till,
            json!({ "amount": won + 1, "currency": "KRW", "fx_quote": quoted["id"] }),
            (400, "fx_quote_mismatch"),
        ),
        (
            &till,
            json!({ "amount": 3_241, "currency": "USD", "fx_quote": quoted["id"] }),
            (400, "fx_quote_mismatch"),
        ),
        (
            &till,
            json!({ "amount": won, "currency": "KRW", "fx_quote": "fxq_nope" }),
            (404, "resource_missing"),
        ),
        (
            &till,
            json!({ "amount": won, "currency": "KRW", "fx_quote": 7 }),
            (400, "parameter_invalid"),
        ),
    ] {
        let (status, refused) = who
            .post("/v1/checkout_sessions", &who.secret_key, &body)
            .await;
        assert_eq!((status, code(&refused)), expected, "{body}: {refused}");
    }

    // Refunds at the original rate, in uneven parts: together exactly the settlement.
    refund_in_parts(&till, &payment, &[won / 3, 1, won - won / 3 - 1]).await;

    // The export shows each movement on the merchant's side, in dollars.
    let response = send(
        till.http
            .get(till.url("/v1/reports/balance_transactions.csv"))
            .bearer_auth(&till.secret_key),
    )
    .await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let rows: Vec<Vec<&str>> = text
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    // A refund whose dollar share rounds to nothing (the ₩1) moves none of the merchant's
    // money: the FX desk pays it, and it is no movement of the merchant's balance.
    assert!(
        (3..=4).contains(&rows.len()),
        "the payment and its refunds: {text}"
    );
    assert!(rows.iter().all(|r| r[9] == "USD"), "{text}");
    assert_eq!((rows[0][2], rows[0][6]), ("card_payment", "3241"), "{text}");
    assert!(rows[1..].iter().all(|r| r[2] == "refund"), "{text}");
    let refunded: i64 = rows[1..].iter().map(|r| r[6].parse::<i64>().unwrap()).sum();
    assert_eq!(refunded, 3_241, "{text}");
}

fn group_thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[tokio::test]
async fn a_yen_checkout_settles_in_bahraini_dinar_to_the_fils_and_refunds_to_the_last_one() {
    let (_, till) = onboard("Manama Yen Shop", &[]).await;
    fresh_rates(&till).await;
    // 41.330 BHD (three decimals) asked in yen (none).
    let quoted = quote(&till, "BHD", "JPY", 41_330).await;
    let yen = quoted["to"]["amount"].as_i64().unwrap();
    let session = session_for(&till, &quoted).await;
    let payment = pay(&till, &session).await;
    assert_eq!(
        (&payment["amount"], &payment["currency"]),
        (&json!(yen), &json!("JPY"))
    );
    assert_eq!(
        payment["conversion"]["settlement"],
        json!({ "amount": 41_330, "currency": "BHD" })
    );
    assert_eq!(balance(&till, "BHD").await, Some(41_330));
    assert_eq!(balance(&till, "JPY").await, None);

    // A refund beyond the payment changes nothing; then three parts, one of a single yen.
    let (status, refused) = till
        .post_with_key(
            "/v1/refunds",
            &till.secret_key,
            &json!({ "payment": payment["id"], "amount": yen + 1 }),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(balance(&till, "BHD").await, Some(41_330));
    refund_in_parts(&till, &payment, &[1, yen / 2, yen - yen / 2 - 1]).await;
}

#[tokio::test]
async fn an_expired_quote_charges_nothing_and_asks_for_a_new_one() {
    let (_, till) = onboard("Slow Customer Shop", &[]).await;
    fresh_rates(&till).await;
    let (status, quoted) = till
        .post(
            "/v1/fx_quotes",
            &till.secret_key,
            &json!({ "from": "USD", "to": "KRW", "amount": 5_000, "lock_seconds": 2 }),
        )
        .await;
    assert_eq!(status, 200, "{quoted}");
    let session = session_for(&till, &quoted).await;
    let token = till.token(&session, CARD).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let (status, _, refused) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(
        (status, code(&refused)),
        (409, "fx_quote_expired"),
        "{refused}"
    );
    let state = till.session_state(&session).await;
    assert_eq!(state["status"], "open", "{state}");
    assert_eq!(state["payment"], Value::Null, "nothing was charged");
    assert_eq!(balance(&till, "USD").await, None);

    // A session cannot be opened with it either; lock times out of range are refused.
    let (status, refused) = till
        .post(
            "/v1/checkout_sessions",
            &till.secret_key,
            &json!({ "amount": quoted["to"]["amount"], "currency": "KRW", "fx_quote": quoted["id"] }),
        )
        .await;
    assert_eq!(
        (status, code(&refused)),
        (409, "fx_quote_expired"),
        "{refused}"
    );
    for lock in [json!(0), json!(3_601), json!(-1), json!("60")] {
        let (status, refused) = till
            .post(
                "/v1/fx_quotes",
                &till.secret_key,
                &json!({ "from": "USD", "to": "KRW", "amount": 5_000, "lock_seconds": lock }),
            )
            .await;
        assert_eq!(
            (status, code(&refused)),
            (400, "parameter_invalid"),
            "{lock}"
        );
    }
}

/// A refund with an explicit `Idempotency-Key`.
async fn refund_with_key(till: &Till, payment: &str, amount: i64, key: &str) -> (u16, Value) {
    till_e2e::json_of(
        send(
            till.http
                .post(till.url("/v1/refunds"))
                .bearer_auth(&till.secret_key)
                .header("Idempotency-Key", key)
                .json(&json!({ "payment": payment, "amount": amount })),
        )
        .await,
    )
    .await
}

#[tokio::test]
async fn concurrent_refunds_of_a_converted_payment_give_back_exactly_the_settlement() {
    let (_, till) = onboard("Busy Refund Desk Shop", &[]).await;
    fresh_rates(&till).await;
    let quoted = quote(&till, "USD", "KRW", 10_000).await;
    let session = session_for(&till, &quoted).await;
    let payment = pay(&till, &session).await;
    let id = payment["id"].as_str().unwrap().to_string();
    let won = payment["amount"].as_i64().unwrap();
    let quarter = won / 4;
    let parts = [quarter, quarter, quarter, won - 3 * quarter];
    let keys: Vec<String> = parts.iter().map(|_| new_key()).collect();

    // All four at once: each either takes its share or is told to retry; nothing in between.
    let answers = futures_util::future::join_all(
        parts
            .iter()
            .zip(&keys)
            .map(|(part, key)| refund_with_key(&till, &id, *part, key)),
    )
    .await;
    for (status, body) in &answers {
        assert!(
            *status == 200 || (*status == 409 && code(body) == "refund_conflict"),
            "{status}: {body}"
        );
    }
    // The ones told to retry do, with their own key, until they are through.
    for (part, key) in parts.iter().zip(&keys) {
        let mut last = (0, Value::Null);
        for _ in 0..10 {
            last = refund_with_key(&till, &id, *part, key).await;
            if last.0 == 200 {
                break;
            }
        }
        assert_eq!(last.0, 200, "{}", last.1);
    }
    let (_, after) = till
        .get(&format!("/v1/payments/{id}"), &till.secret_key)
        .await;
    assert_eq!(after["amount_refunded"], won, "{after}");
    assert_eq!(after["settlement_refunded"], 10_000, "{after}");
    assert_eq!(balance(&till, "USD").await, Some(0));
    assert_eq!(account_balance(&till, "fx_margin:KRW").await, 0);
}

#[tokio::test]
async fn a_dispute_of_a_converted_payment_is_withdrawn_at_its_rate_with_the_fee_in_dollars() {
    let (_, till) = onboard("Disputed Won Shop", &[]).await;
    fresh_rates(&till).await;
    let quoted = quote(&till, "USD", "KRW", 5_000).await;
    let session = session_for(&till, &quoted).await;
    let payment = pay(&till, &session).await;
    let id = payment["id"].as_str().unwrap();
    let authorization = till.gateway_authorizations(id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let response = send(
        till.http
            .post(format!("{}/v1/control/disputes", till.gateway))
            .bearer_auth(GATEWAY_KEY)
            .json(&json!({ "authorization": authorization, "reason": "fraudulent" })),
    )
    .await;
    assert_eq!(response.status(), 201);

    let mut dispute = Value::Null;
    for _ in 0..100 {
        let (status, list) = till
            .get(&format!("/v1/disputes?payment={id}"), &till.secret_key)
            .await;
        assert_eq!(status, 200, "{list}");
        if let Some(found) = list["data"].as_array().and_then(|d| d.first()) {
            dispute = found.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        (&dispute["amount"], &dispute["currency"]),
        (&payment["amount"], &json!("KRW")),
        "{dispute}"
    );
    assert_eq!(
        (&dispute["fee"], &dispute["fee_currency"]),
        (&json!(1_500), &json!("USD")),
        "{dispute}"
    );
    // The whole settlement is withdrawn at the payment's rate, and the fee: the merchant owes it.
    assert_eq!(balance(&till, "USD").await, Some(-1_500));
    assert_eq!(balance(&till, "KRW").await, None);
    assert_eq!(account_balance(&till, "fx_margin:KRW").await, 0);
    assert_eq!(account_balance(&till, "fx_desk:USD").await, 0);
}

till_e2e::on_every_gateway!(
    a_partly_captured_converted_payment_settles_its_share_on_either_gateway
);

/// Both gateways charge the customer's currency; a partial capture settles its proportion of
/// the quote, and refunding all of the capture gives back exactly that. Balances are compared
/// before and after: the Stripe merchant is shared with other tests.
async fn a_partly_captured_converted_payment_settles_its_share_on_either_gateway(
    gateway: till_e2e::gateways::Gateway,
) {
    let till = gateway.merchant().await;
    fresh_rates(&till).await;
    let usd_before = balance(&till, "USD").await.unwrap_or(0);
    let margin_before = account_balance(&till, "fx_margin:KRW").await;
    let quoted = quote(&till, "USD", "KRW", 10_000).await;
    let won = quoted["to"]["amount"].as_i64().unwrap();
    let (status, session) = till
        .post(
            "/v1/checkout_sessions",
            &till.secret_key,
            &json!({
                "amount": won,
                "currency": "KRW",
                "fx_quote": quoted["id"],
                "capture_method": "manual",
            }),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    let session = Session::from_created(session);
    let token = till.token(&session, gateway.cards().succeeds).await;
    let (status, _, authorized) = till.confirm(&session, &token, &new_key()).await;
    assert_eq!(status, 200, "{authorized}");
    assert_eq!(authorized["status"], "requires_capture", "{authorized}");
    let id = authorized["id"].as_str().unwrap().to_string();

    let captured_won = won / 2 + 1;
    let response = send(
        till.http
            .post(till.url(&format!("/v1/payments/{id}/capture")))
            .bearer_auth(&till.secret_key)
            .header("Idempotency-Key", new_key())
            .json(&json!({ "amount": captured_won })),
    )
    .await;
    let (status, captured) = till_e2e::json_of(response).await;
    assert_eq!(status, 200, "{captured}");
    assert_eq!(captured["status"], "succeeded", "{captured}");
    let settled = fx::proportion(captured_won, won, 10_000).unwrap();
    let margin = fx::proportion(captured_won, won, quoted["margin"].as_i64().unwrap()).unwrap();
    assert_eq!(balance(&till, "USD").await, Some(usd_before + settled));
    assert_eq!(
        account_balance(&till, "fx_margin:KRW").await,
        margin_before + margin
    );

    let first = refund(&till, &id, 1).await;
    assert_eq!(first["currency"], "KRW");
    let rest = refund(&till, &id, captured_won - 1).await;
    let (first, rest) = (
        first["settlement"]["amount"].as_i64().unwrap(),
        rest["settlement"]["amount"].as_i64().unwrap(),
    );
    assert_eq!(first + rest, settled, "the capture's settlement, exactly");
    assert_eq!(balance(&till, "USD").await, Some(usd_before));
    assert_eq!(account_balance(&till, "fx_margin:KRW").await, margin_before);
    let charges = gateway.charges(&till, &id).await;
    assert_eq!(charges.len(), 1, "{charges:?}");
    // localstripe models a partial capture as capturing all and refunding the rest at once.
    let released = match gateway {
        till_e2e::gateways::Gateway::Sandbox => 0,
        till_e2e::gateways::Gateway::Stripe => won - captured_won,
    };
    assert_eq!(
        charges[0]["amount_refunded"],
        captured_won + released,
        "{charges:?}"
    );
}
