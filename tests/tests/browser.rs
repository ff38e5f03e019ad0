//! The real widget in headless Chromium: the demo shop, its iframe, the edge and the sandbox.

use fantoccini::Locator;
use till_e2e::browser::{
    block_requests, click, fits_a_phone, open, screenshot, wait_for, wait_for_text,
};
use till_e2e::{setting, Till};

/// Opens the demo shop, checks out, and enters the widget's iframe.
async fn checkout(client: &fantoccini::Client) {
    client
        .goto(&setting("TILL_SHOP_URL"))
        .await
        .expect("shop page");
    wait_for(client, "#checkout")
        .await
        .click()
        .await
        .expect("check out");
    let frame = wait_for(client, "#till-checkout iframe").await;
    // Enter the frame once the widget in it has said it is ready (before that it is about:blank).
    let mut ready = false;
    for _ in 0..80 {
        let said = client
            .execute(
                "return window.tillEvents.some(function (e) { return e.type === 'ready'; })",
                vec![],
            )
            .await
            .expect("events");
        if said.as_bool() == Some(true) {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(ready, "the widget reported ready to the shop page");
    frame.enter_frame().await.expect("enter the widget iframe");
    wait_for(client, "#card-number").await;
}

async fn fill(client: &fantoccini::Client, number: &str) {
    for (css, text) in [
        ("#card-number", number),
        ("#card-expiry", "1234"),
        ("#card-cvc", "123"),
        ("#card-name", "Ada Lovelace"),
    ] {
        client
            .find(Locator::Css(css))
            .await
            .expect(css)
            .send_keys(text)
            .await
            .expect(css);
    }
}

async fn payment_id_shown(client: &fantoccini::Client) -> String {
    client
        .find(Locator::Css(".payment-id"))
        .await
        .expect("payment id")
        .text()
        .await
        .expect("text")
}

#[tokio::test]
async fn customer_pays_in_the_demo_shop_and_sees_a_receipt() {
    let client = open().await;
    checkout(&client).await;
    // The page asked for the session while the wasm was still loading, and the widget used that
    // answer instead of asking again: the form appears one round trip sooner.
    let requests = client
        .execute(
            "const all = performance.getEntriesByType('resource'); \
             const wasm = all.find((e) => e.name.endsWith('.wasm')); \
             const sessions = all.filter((e) => e.name.includes('/v1/checkout_sessions/')); \
             return [sessions.length, sessions.length > 0 && sessions[0].startTime < wasm.responseEnd];",
            vec![],
        )
        .await
        .expect("resource timings");
    assert_eq!(
        requests,
        serde_json::json!([1, true]),
        "one early session request"
    );
    // Keep a copy of the JWE the widget sends, for the independent (jwcrypto) decryption check.
    client
        .execute(
            "var send = window.fetch; window.fetch = function (input, init) { \
               var copy = new Request(input instanceof Request ? input.clone() : input, init); \
               if (copy.url.endsWith('/v1/tokens')) { \
                 copy.json().then(function (b) { window.tillJwe = b.encrypted_card; }); } \
               return send.apply(this, arguments); };",
            vec![],
        )
        .await
        .unwrap();
    fill(&client, "4242424242424242").await;
    let number = client.find(Locator::Css("#card-number")).await.unwrap();
    assert_eq!(
        number.prop("value").await.unwrap().as_deref(),
        Some("4242 4242 4242 4242")
    );
    assert_eq!(wait_for_text(&client, ".brand", "Visa").await, "Visa");
    let expiry = client.find(Locator::Css("#card-expiry")).await.unwrap();
    assert_eq!(
        expiry.prop("value").await.unwrap().as_deref(),
        Some("12/34")
    );
    let pay = client.find(Locator::Css("#pay")).await.unwrap();
    assert_eq!(pay.text().await.unwrap(), "Pay $52.00");
    pay.click().await.unwrap();

    let receipt = wait_for_text(&client, ".receipt", "Payment successful").await;
    assert!(receipt.contains("$52.00"), "{receipt}");
    assert!(receipt.contains("Visa •••• 4242"), "{receipt}");
    assert!(receipt.contains("Edge Goods"), "{receipt}");
    let payment_id = payment_id_shown(&client).await;
    let jwe = client
        .execute("return window.tillJwe", vec![])
        .await
        .unwrap();
    let jwe = jwe.as_str().expect("the widget sent a JWE");
    assert_eq!(jwe.split('.').count(), 5, "compact JWE");
    assert!(!jwe.contains("4242"), "the card travels encrypted");
    let artifacts = std::path::PathBuf::from(setting("TILL_ARTIFACTS"));
    std::fs::write(artifacts.join("widget-jwe.txt"), jwe).unwrap();
    client.enter_parent_frame().await.unwrap();
    screenshot(&client, "receipt").await;

    // The merchant page heard the result, and nothing else about the card.
    let status = wait_for_text(&client, "#order-status", "Thank you").await;
    assert!(status.contains(&payment_id), "{status}");
    let events = client
        .execute("return JSON.stringify(window.tillEvents)", vec![])
        .await
        .unwrap();
    let events = events.as_str().unwrap().to_string();
    assert!(events.contains(r#"{"type":"ready","at":"#), "{events}");
    assert!(
        events.contains(r#""complete":true,"brand":"visa""#),
        "{events}"
    );
    assert!(
        events.contains(&format!(
            r#""id":"{payment_id}","status":"succeeded","amount":5200,"currency":"USD""#
        )),
        "{events}"
    );
    for secret in ["4242424242424242", "4242 4242", "12/34", "\"123\""] {
        assert!(
            !events.contains(secret),
            "the page must never see card data: {events}"
        );
    }
    let height = client
        .execute(
            "return document.querySelector('#till-checkout iframe').style.height",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(
        height.as_str(),
        Some("420px"),
        "the iframe follows its content's height"
    );

    let till = Till::default();
    let (status, payment) = till
        .get(&format!("/v1/payments/{payment_id}"), till_e2e::SECRET_KEY)
        .await;
    assert_eq!(status, 200);
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(payment["amount"], 5200);
    assert_eq!(till.gateway_authorizations(&payment_id).await.len(), 1);
    client.close().await.unwrap();
}

#[tokio::test]
async fn declined_card_shows_the_reason_and_inline_errors_guide_the_customer() {
    let client = open().await;
    checkout(&client).await;

    // Pay with an empty form: every field says what is wrong, and nothing is sent.
    click(&client, "#pay").await;
    wait_for_text(&client, "#card-number-error", "incomplete").await;
    let number = client.find(Locator::Css("#card-number")).await.unwrap();
    assert_eq!(
        number.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    wait_for_text(&client, "#card-name-error", "name on the card").await;
    // A number failing the Luhn check is caught as typed.
    number.send_keys("4242424242424241").await.unwrap();
    click(&client, "#card-expiry").await;
    wait_for_text(&client, "#card-number-error", "invalid").await;
    number.clear().await.unwrap();

    fill(&client, "4000000000000002").await;
    click(&client, "#pay").await;
    let error = wait_for_text(&client, "#form-error", "declined").await;
    assert_eq!(error, "Your card was declined.");
    let pay = client.find(Locator::Css("#pay")).await.unwrap();
    assert_eq!(
        pay.attr("disabled").await.unwrap(),
        None,
        "Pay is enabled again after a decline"
    );
    client.enter_parent_frame().await.unwrap();
    screenshot(&client, "declined").await;
    client.close().await.unwrap();
}

/// The session's payment succeeded, and the gateway authorized it exactly once.
async fn paid_once(till: &Till, session: &till_e2e::Session) {
    let payment = till.payment_of(session).await;
    assert_eq!(payment["status"], "succeeded");
    let id = payment["id"].as_str().expect("payment id");
    assert_eq!(till.gateway_authorizations(id).await.len(), 1);
}

/// Opens the widget directly (as the shop's iframe does) for a session made by the test.
async fn widget_for(client: &fantoccini::Client, till: &Till, amount: i64) -> till_e2e::Session {
    let session = till.create_session(amount).await;
    let url = format!(
        "{}/#key={}&secret={}",
        till.edge,
        till_e2e::PUBLISHABLE_KEY,
        session.client_secret
    );
    client.goto(&url).await.expect("widget page");
    wait_for(client, "#card-number").await;
    session
}

#[tokio::test]
async fn a_3d_secure_challenge_is_completed_in_the_widget() {
    let client = open().await;
    let till = Till::default();
    let session = widget_for(&client, &till, 7_100).await;
    fill(&client, "4000002760003184").await;
    click(&client, "#pay").await;
    let otp = wait_for(&client, "#otp").await;
    otp.send_keys("000000").await.unwrap();
    click(&client, "#verify").await;
    wait_for_text(&client, "#otp-error", "2 attempts left").await;
    screenshot(&client, "challenge").await;
    let otp = client.find(Locator::Css("#otp")).await.unwrap();
    otp.send_keys("123456").await.unwrap();
    click(&client, "#verify").await;
    wait_for_text(&client, ".receipt", "Payment successful").await;
    let payment = till.payment_of(&session).await;
    assert_eq!(payment["status"], "succeeded");
    client.close().await.unwrap();
}

/// Opens the widget with the chunks matching `chunk` unreachable (the connection drops every
/// time one is asked for), pays `amount` with `card`, and waits until the form says the payment
/// service could not be reached and offers Pay again: the session and the Pay button's text.
async fn pay_without_chunk(
    client: &fantoccini::Client,
    till: &Till,
    chunk: &str,
    amount: i64,
    card: &str,
) -> (till_e2e::Session, String) {
    block_requests(client, &[chunk]).await;
    let session = widget_for(client, till, amount).await;
    fill(client, card).await;
    click(client, "#pay").await;
    wait_for_text(client, "#form-error", "could not reach the payment service").await;
    let pay = wait_for_text(client, "#pay", "Pay").await;
    (session, pay)
}

#[tokio::test]
async fn a_pay_chunk_that_cannot_be_fetched_is_an_error_and_pay_again_pays_once() {
    let client = open().await;
    let till = Till::default();
    // The code behind Pay comes in its own chunk, fetched while the customer types.
    let (session, pay) = pay_without_chunk(
        &client,
        &till,
        "*.split_pay.wasm",
        7_300,
        "4242424242424242",
    )
    .await;
    assert!(pay.contains("$73.00"), "{pay}");
    assert!(
        till.session_state(&session).await["payment"].is_null(),
        "nothing was paid while the chunk was missing"
    );
    // The connection is back: the same Pay fetches the chunk again and pays, once.
    block_requests(&client, &[]).await;
    click(&client, "#pay").await;
    wait_for_text(&client, ".receipt", "Payment successful").await;
    paid_once(&till, &session).await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_challenge_chunk_that_cannot_be_fetched_is_an_error_and_pay_again_shows_the_challenge() {
    let client = open().await;
    let till = Till::default();
    // The challenge's code comes in its own chunk, fetched only when the issuer asks for the
    // customer.
    let challenge = "*.split_challenge.wasm";
    let (session, _) =
        pay_without_chunk(&client, &till, challenge, 7_110, "4000002760003184").await;
    let waiting = till.payment_of(&session).await;
    assert_eq!(waiting["status"], "requires_action", "{waiting}");
    // The connection is back: the same Pay replays the attempt and shows its challenge.
    block_requests(&client, &[]).await;
    click(&client, "#pay").await;
    let otp = wait_for(&client, "#otp").await;
    otp.send_keys("123456").await.unwrap();
    click(&client, "#verify").await;
    wait_for_text(&client, ".receipt", "Payment successful").await;
    let paid = till.payment_of(&session).await;
    assert_eq!(paid["id"], waiting["id"], "one payment: {paid}");
    paid_once(&till, &session).await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn double_click_and_reload_mid_payment_charge_once() {
    let client = open().await;
    let till = Till::default();
    // A slow gateway keeps the payment in flight while the customer clicks twice and reloads.
    till.fault(serde_json::json!({ "amount": 7_200, "latency_ms": 1500 }))
        .await;
    let session = widget_for(&client, &till, 7_200).await;
    fill(&client, "4242424242424242").await;
    let pay = client.find(Locator::Css("#pay")).await.unwrap();
    pay.click().await.unwrap();
    // The second click lands on a disabled button, or is ignored while in flight.
    let _ = pay.click().await;
    wait_for_text(&client, "#pay", "Processing").await;
    // Reload once the attempt (idempotency key and token) is saved, while the confirm is in flight.
    let mut saved = false;
    for _ in 0..40 {
        let count = client
            .execute("return sessionStorage.length", vec![])
            .await
            .unwrap();
        if count.as_u64() == Some(1) {
            saved = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(saved, "the attempt is kept in sessionStorage");
    client.refresh().await.unwrap();
    let receipt = wait_for_text(&client, ".receipt", "Payment successful").await;
    assert!(receipt.contains("$72.00"), "{receipt}");
    screenshot(&client, "after-reload").await;
    paid_once(&till, &session).await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_page_on_an_unregistered_origin_cannot_embed_the_widget() {
    let client = open().await;
    // Same shop, other origin: localhost is not registered for the demo merchant.
    let hostile = setting("TILL_SHOP_URL").replace("127.0.0.1", "localhost");
    client.goto(&hostile).await.expect("hostile page");
    wait_for(&client, "#checkout").await.click().await.unwrap();
    wait_for(&client, "#till-checkout iframe").await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let events = client
        .execute("return JSON.stringify(window.tillEvents)", vec![])
        .await
        .unwrap();
    assert_eq!(
        events.as_str(),
        Some("[]"),
        "no widget ever loaded in the frame"
    );
    let readable = client
        .execute(
            "return document.querySelector('#till-checkout iframe').contentDocument !== null",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        readable.as_bool(),
        Some(false),
        "the page cannot read the frame"
    );
    screenshot(&client, "hostile-origin").await;
    client.close().await.unwrap();
}

/// A merchant's `locale` in another shape (`ko_KR`, as many servers write it) is read as the
/// language tag it means; one that is no tag at all (`@@`) falls back to the browser's language.
/// Either way the form shows its total and takes a card: the browser's number formatting would
/// have thrown on both.
#[tokio::test]
async fn a_locale_in_the_wrong_shape_is_understood_or_falls_back() {
    let client = open().await;
    let till = Till::default();
    for (locale, label, pay) in [
        ("ko_KR", "카드 번호", "US$75.00 결제하기"),
        ("%40%40", "Card number", "Pay $75.00"),
    ] {
        let session = till.create_session(7_500).await;
        // A new page each time: a change of the fragment alone would keep the same document.
        client.goto("about:blank").await.unwrap();
        let url = format!(
            "{}/#key={}&secret={}&locale={locale}",
            till.edge,
            till_e2e::PUBLISHABLE_KEY,
            session.client_secret
        );
        client.goto(&url).await.unwrap();
        wait_for(&client, "#card-number").await;
        let shown = client
            .find(Locator::Css("label[for=card-number]"))
            .await
            .unwrap();
        assert_eq!(shown.text().await.unwrap(), label, "locale {locale}");
        let button = client.find(Locator::Css("#pay")).await.unwrap();
        assert_eq!(button.text().await.unwrap(), pay, "locale {locale}");
    }
    client.close().await.unwrap();
}

/// A checkout link cut short (its secret lost when it was shared or pasted) says so, and the
/// page asks the edge for nothing.
#[tokio::test]
async fn a_link_without_its_secret_says_it_is_incomplete() {
    let client = open().await;
    let till = Till::default();
    let url = format!("{}/#key={}", till.edge, till_e2e::PUBLISHABLE_KEY);
    client.goto(&url).await.unwrap();
    assert_eq!(
        wait_for_text(&client, ".status.error", "incomplete").await,
        "This checkout link is incomplete. Return to the shop and start checkout again."
    );
    let asked = client
        .execute(
            "return performance.getEntriesByType('resource').filter(e => e.name.includes('/v1/')).length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(asked.as_u64(), Some(0), "no request to the API");
    client.close().await.unwrap();
}

#[tokio::test]
async fn appearance_is_applied_and_injection_is_ignored() {
    let client = open().await;
    let till = Till::default();
    let session = till.create_session(7_300).await;
    let appearance =
        r##"{"colorPrimary":"#0a7d33","borderRadius":"2px","colorText":"red;}body{display:none"}"##;
    let url = format!(
        "{}/#key={}&secret={}&appearance={}",
        till.edge,
        till_e2e::PUBLISHABLE_KEY,
        session.client_secret,
        appearance
            .replace('#', "%23")
            .replace('"', "%22")
            .replace('{', "%7B")
            .replace('}', "%7D")
            .replace(';', "%3B")
    );
    client.goto(&url).await.unwrap();
    wait_for(&client, "#card-number").await;
    let style = client
        .execute(
            "var b = getComputedStyle(document.getElementById('pay')); return [b.backgroundColor, b.borderTopLeftRadius, getComputedStyle(document.body).display].join('|')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(style.as_str(), Some("rgb(10, 125, 51)|2px|block"));
    client.close().await.unwrap();
}

#[tokio::test]
async fn the_hosted_page_pays_on_a_phone_and_returns_to_the_app() {
    let client = open().await;
    client.set_window_size(375, 812).await.unwrap();
    let till = Till::default();
    let return_url = format!("{}/returned", setting("TILL_SHOP_URL"));
    let (status, session) = till
        .post(
            "/v1/checkout_sessions",
            till_e2e::SECRET_KEY,
            &serde_json::json!({ "amount": 7_400, "currency": "USD", "return_url": return_url }),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    let url = format!(
        "{}/checkout/{}?key={}#secret={}",
        till.edge,
        session["id"].as_str().unwrap(),
        till_e2e::PUBLISHABLE_KEY,
        session["client_secret"].as_str().unwrap()
    );
    client.goto(&url).await.unwrap();
    wait_for(&client, "#card-number").await;
    // An Android app's bridge, as addJavascriptInterface would provide it.
    client
        .execute(
            "window.TillAndroid = { onResult: function (r) { window.bridged = JSON.parse(r); } };",
            vec![],
        )
        .await
        .unwrap();
    let number = client.find(Locator::Css("#card-number")).await.unwrap();
    assert_eq!(
        number.attr("inputmode").await.unwrap().as_deref(),
        Some("numeric")
    );
    assert_eq!(
        number.attr("autocomplete").await.unwrap().as_deref(),
        Some("cc-number")
    );
    fits_a_phone(&client).await;
    fill(&client, "4242424242424242").await;
    screenshot(&client, "hosted-375").await;
    click(&client, "#pay").await;
    wait_for_text(&client, ".receipt", "Payment successful").await;
    let bridged = client
        .execute("return window.bridged", vec![])
        .await
        .unwrap();
    assert_eq!(bridged["status"], "succeeded", "{bridged}");
    let payment_id = bridged["id"].as_str().unwrap().to_string();

    // Then back to the app's return URL, with the result in the query.
    let status = wait_for_text(&client, "#status", "succeeded").await;
    assert_eq!(status, "succeeded");
    let current = client.current_url().await.unwrap();
    assert!(current.as_str().starts_with(&return_url), "{current}");
    assert!(
        current.as_str().contains(&format!("payment={payment_id}")),
        "{current}"
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn the_form_can_be_completed_and_paid_with_the_keyboard_alone() {
    let client = open().await;
    let till = Till::default();
    let session = widget_for(&client, &till, 7_500).await;
    // Focus starts on the card number; Tab moves through the fields in order; Enter pays.
    click(&client, "#card-number").await;
    let typed = ["4242424242424242", "1234", "123", "Ada Lovelace"];
    for (index, text) in typed.iter().enumerate() {
        let active = client.active_element().await.unwrap();
        let id = active.attr("id").await.unwrap().unwrap_or_default();
        let expected = ["card-number", "card-expiry", "card-cvc", "card-name"][index];
        assert_eq!(id, expected, "Tab order");
        let label = client
            .execute(
                &format!("return document.querySelector('label[for={id}]').textContent"),
                vec![],
            )
            .await
            .unwrap();
        assert!(
            !label.as_str().unwrap_or_default().is_empty(),
            "{id} has a label"
        );
        active.send_keys(text).await.unwrap();
        active.send_keys("\u{E004}").await.unwrap(); // Tab
    }
    let active = client.active_element().await.unwrap();
    assert_eq!(active.attr("id").await.unwrap().as_deref(), Some("pay"));
    let outline = client
        .execute(
            "return getComputedStyle(document.activeElement).outlineStyle",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(outline.as_str(), Some("none"), "focus is visible");
    active.send_keys("\u{E007}").await.unwrap(); // Enter
    wait_for_text(&client, ".receipt", "Payment successful").await;
    assert_eq!(till.payment_of(&session).await["status"], "succeeded");
    client.close().await.unwrap();
}

#[tokio::test]
async fn korean_customers_see_korean_and_won_without_decimals() {
    let client = open().await;
    let till = Till::default();
    let (status, session) = till
        .post(
            "/v1/checkout_sessions",
            till_e2e::SECRET_KEY,
            &serde_json::json!({ "amount": 45_000, "currency": "KRW" }),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    let url = format!(
        "{}/#key={}&secret={}&locale=ko-KR",
        till.edge,
        till_e2e::PUBLISHABLE_KEY,
        session["client_secret"].as_str().unwrap()
    );
    client.goto(&url).await.unwrap();
    wait_for(&client, "#card-number").await;
    let label = client
        .find(Locator::Css("label[for=card-number]"))
        .await
        .unwrap();
    assert_eq!(label.text().await.unwrap(), "카드 번호");
    let pay = client.find(Locator::Css("#pay")).await.unwrap();
    assert_eq!(pay.text().await.unwrap(), "₩45,000 결제하기");
    pay.click().await.unwrap();
    assert_eq!(
        wait_for_text(&client, "#card-number-error", "카드").await,
        "카드 번호를 끝까지 입력해 주세요."
    );
    let lang = client
        .execute("return document.documentElement.lang", vec![])
        .await
        .unwrap();
    assert_eq!(lang.as_str(), Some("ko-KR"));
    fill(&client, "4000000000009995").await;
    click(&client, "#pay").await;
    assert_eq!(
        wait_for_text(&client, "#form-error", "잔액").await,
        "잔액이 부족합니다."
    );
    screenshot(&client, "korean").await;
    client.close().await.unwrap();
}

/// A widget page for a checkout session of `customer`, with its customer session when given.
async fn widget_for_customer(
    client: &fantoccini::Client,
    till: &Till,
    customer: &str,
    amount: i64,
    customer_session: Option<&str>,
    require_cvc: bool,
) -> String {
    let (status, session) = till
        .post(
            "/v1/checkout_sessions",
            till_e2e::SECRET_KEY,
            &serde_json::json!({ "amount": amount, "currency": "USD", "customer": customer,
                                 "require_cvc": require_cvc }),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    let mut url = format!(
        "{}/checkout/{}?key={}#secret={}",
        till.edge,
        session["id"].as_str().unwrap(),
        till_e2e::PUBLISHABLE_KEY,
        session["client_secret"].as_str().unwrap()
    );
    if let Some(secret) = customer_session {
        url.push_str(&format!("&customer_session={secret}"));
    }
    client.goto(&url).await.expect("widget page");
    wait_for(client, "#pay").await;
    session["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_customer_saves_a_card_and_pays_again_with_it_without_typing_it() {
    let client = open().await;
    let till = Till::default();
    let customer = till.new_customer().await;

    // First visit: the card is typed and, with the customer's consent, kept.
    widget_for_customer(&client, &till, &customer, 7_700, None, false).await;
    let consent = wait_for(&client, "#save-card").await;
    fill(&client, "4242424242424242").await;
    consent.click().await.unwrap();
    screenshot(&client, "save-card-consent").await;
    click(&client, "#pay").await;
    wait_for_text(&client, ".receipt", "Payment successful").await;
    let (_, saved) = till
        .get(
            &format!("/v1/customers/{customer}/payment_methods"),
            till_e2e::SECRET_KEY,
        )
        .await;
    let card = saved["data"][0]["id"].as_str().expect("the card was saved");

    // Next visit, with a customer session: the saved card is offered and chosen, nothing typed.
    let (_, customer_session) = till
        .post(
            "/v1/customer_sessions",
            till_e2e::SECRET_KEY,
            &serde_json::json!({ "customer": customer }),
        )
        .await;
    let secret = customer_session["client_secret"].as_str().unwrap();
    // The saved cards come in a chunk of their own: a connection that drops it shows the card
    // form, as for a guest, rather than no way to pay.
    block_requests(&client, &["*.split_saved_cards.wasm"]).await;
    widget_for_customer(&client, &till, &customer, 7_750, Some(secret), false).await;
    let form = client
        .execute(
            "return [!!document.querySelector('.saved-cards'), \
                     document.querySelector('.new-card').hidden, \
                     !!document.querySelector('#card-number')]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        form,
        serde_json::json!([false, false, true]),
        "the card form, no saved cards"
    );
    block_requests(&client, &[]).await;
    let session = widget_for_customer(&client, &till, &customer, 7_800, Some(secret), false).await;
    let offered = wait_for_text(&client, ".saved-cards", "4242").await;
    assert!(offered.contains("Visa •••• 4242"), "{offered}");
    assert!(offered.contains("12/34"), "{offered}");
    let hidden = client
        .execute(
            "return document.querySelector('.new-card').hidden && \
             document.querySelector('input[name=saved-card]:checked').value",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        hidden.as_str(),
        Some(card),
        "the saved card is chosen, the form hidden"
    );
    screenshot(&client, "saved-card-desktop").await;
    fits_a_phone(&client).await;
    screenshot(&client, "saved-card-375").await;
    // Choosing "a new card" shows the form again; choosing the saved card hides it.
    click(&client, "#new-card").await;
    wait_for(&client, "#card-number").await;
    let shown = client
        .execute("return !document.querySelector('.new-card').hidden", vec![])
        .await
        .unwrap();
    assert_eq!(shown.as_bool(), Some(true));
    click(&client, &format!("input[value='{card}']")).await;
    click(&client, "#pay").await;
    let receipt = wait_for_text(&client, ".receipt", "Payment successful").await;
    assert!(receipt.contains("4242"), "{receipt}");
    let (_, state) = till
        .get(
            &format!("/v1/checkout_sessions/{session}"),
            till_e2e::SECRET_KEY,
        )
        .await;
    let (_, payment) = till
        .get(
            &format!("/v1/payments/{}", state["payment"].as_str().unwrap()),
            till_e2e::SECRET_KEY,
        )
        .await;
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(payment["payment_method"], card);

    // A merchant that wants the code again: one field under the saved cards, checked as typed,
    // encrypted like a card, and the gateway gets it.
    let session = widget_for_customer(&client, &till, &customer, 7_900, Some(secret), true).await;
    wait_for(&client, "#saved-card-cvc").await;
    click(&client, "#pay").await;
    wait_for_text(&client, "#saved-card-cvc-error", "security code").await;
    client
        .find(Locator::Css("#saved-card-cvc"))
        .await
        .unwrap()
        .send_keys("123")
        .await
        .unwrap();
    screenshot(&client, "saved-card-cvc-375").await;
    click(&client, "#pay").await;
    wait_for_text(&client, ".receipt", "Payment successful").await;
    let (_, state) = till
        .get(
            &format!("/v1/checkout_sessions/{session}"),
            till_e2e::SECRET_KEY,
        )
        .await;
    let charged = till
        .gateway_authorizations(state["payment"].as_str().unwrap())
        .await;
    assert_eq!(charged[0]["cvc_check"], "pass", "{charged:?}");
    client.close().await.unwrap();
}

/// The widget's own files the frame fetched (glue, wasm, CSS, chunks), each with the bytes it
/// took from the network: 0 when the browser used its copy without asking.
const WIDGET_FILES_SCRIPT: &str = "
    return performance.getEntriesByType('resource')
        .map((e) => [new URL(e.name).pathname, e.transferSize])
        .filter(([path]) => /^\\/(till-widget-|style-)/.test(path));";

async fn widget_files(client: &fantoccini::Client) -> Vec<(String, u64)> {
    let files = client
        .execute(WIDGET_FILES_SCRIPT, vec![])
        .await
        .expect("resource timing");
    serde_json::from_value::<Vec<(String, f64)>>(files)
        .expect("[path, transferSize] pairs")
        .into_iter()
        .map(|(path, bytes)| (path, bytes as u64))
        .collect()
}

#[tokio::test]
async fn a_returning_customers_browser_opens_the_checkout_from_its_own_copies() {
    let client = open().await;
    checkout(&client).await;
    let first = widget_files(&client).await;
    for suffix in [".js", "_bg.wasm", ".css"] {
        assert!(
            first.iter().any(|(path, _)| path.ends_with(suffix)),
            "the first checkout fetched its {suffix}: {first:?}"
        );
    }
    assert!(
        first.iter().all(|(_, bytes)| *bytes > 0),
        "a first visit downloads: {first:?}"
    );

    client.enter_parent_frame().await.expect("leave the frame");
    checkout(&client).await;
    let again = widget_files(&client).await;
    for (path, _) in first.iter().filter(|(path, _)| !path.contains(".split_")) {
        assert!(
            again.iter().any(|(seen, _)| seen == path),
            "the second checkout uses {path} again: {again:?}"
        );
    }
    assert!(
        again.iter().all(|(_, bytes)| *bytes == 0),
        "the browser neither downloads nor revalidates its copies: {again:?}"
    );
    client.close().await.unwrap();
}
