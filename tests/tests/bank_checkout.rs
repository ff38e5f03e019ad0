//! Paying from a bank account in the real widget, in headless Chromium: in the demo shop's
//! iframe the bank opens in a popup and the widget learns the outcome when the customer is
//! back; on the hosted page (a phone, a webview) the page itself goes to the bank and comes
//! back. The customer's pages at the sandbox bank are filled in as a customer would.

use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use std::time::Duration;
use till_e2e::browser::{
    block_requests, click, fits_a_phone, open, screenshot, wait_for, wait_for_text,
};
use till_e2e::{setting, Till};

/// Opens the demo shop, checks out, and enters the widget's iframe once it is ready.
async fn shop_checkout(client: &Client) {
    client.goto(&setting("TILL_SHOP_URL")).await.unwrap();
    click(client, "#checkout").await;
    wait_for(client, "#till-checkout iframe").await;
    enter_widget(client).await;
}

async fn enter_widget(client: &Client) {
    client.enter_parent_frame().await.ok();
    let frame = wait_for(client, "#till-checkout iframe").await;
    for _ in 0..80 {
        let ready = client
            .execute(
                "return (window.tillEvents || []).some(function (e) { return e.type === 'ready'; })",
                vec![],
            )
            .await
            .unwrap();
        if ready.as_bool() == Some(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    frame.enter_frame().await.unwrap();
    wait_for(client, ".methods").await;
}

/// The windows open besides `main`, waiting up to 10 s for one.
async fn popup_of(
    client: &Client,
    main: &fantoccini::wd::WindowHandle,
) -> fantoccini::wd::WindowHandle {
    for _ in 0..40 {
        let others: Vec<_> = client
            .windows()
            .await
            .unwrap()
            .into_iter()
            .filter(|w| w != main)
            .collect();
        if let Some(popup) = others.into_iter().next() {
            return popup;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the bank's window never opened")
}

/// Signs in at the sandbox bank's page as `user` and approves with its one-time code.
async fn approve_at_bank(client: &Client, user: &str) {
    let name = wait_for(client, "input[name=username]").await;
    name.send_keys(user).await.unwrap();
    client
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys("pw")
        .await
        .unwrap();
    client
        .find(Locator::Css("form[action$='/login'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(client, "input[name=otp]")
        .await
        .send_keys("123456")
        .await
        .unwrap();
    client
        .find(Locator::Css("form[action$='/otp'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn choose_bank_method(client: &Client) {
    click(client, "#method-bank_redirect").await;
    wait_for(client, ".bank-option input:checked").await;
}

#[tokio::test]
async fn a_shop_customer_pays_from_their_bank_in_a_popup() {
    let client = open().await;
    shop_checkout(&client).await;
    // Cards first, as the shop listed them; the bank list is not asked for until chosen.
    assert!(client
        .find(Locator::Css("#method-card:checked"))
        .await
        .is_ok());
    wait_for(&client, "#card-number").await;
    let asked = client
        .execute(
            "return performance.getEntriesByType('resource')\
             .filter(function (e) { return e.name.includes('/banks'); }).length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        asked,
        json!(0),
        "no bank list before the customer chose a bank"
    );
    screenshot(&client, "methods-desktop").await;
    choose_bank_method(&client).await;
    wait_for_text(&client, ".bank-option", "Sandbox Bank").await;
    screenshot(&client, "bank-form-desktop").await;
    // The keyboard moves between the methods (a native radio group).
    let card = client.find(Locator::Css("#method-card")).await.unwrap();
    assert_eq!(card.attr("type").await.unwrap().as_deref(), Some("radio"));

    let main = client.window().await.unwrap();
    click(&client, "#pay").await;
    let popup = popup_of(&client, &main).await;
    // The customer closes the bank's window and gives up in the widget.
    client.switch_to_window(popup).await.unwrap();
    wait_for(&client, "input[name=username]").await;
    client.close_window().await.unwrap();
    client.switch_to_window(main.clone()).await.unwrap();
    enter_widget_waiting(&client).await;
    wait_for_text(&client, "#bank-status", "Sandbox Bank").await;
    screenshot(&client, "bank-waiting-desktop").await;
    click(&client, "#cancel-bank").await;
    wait_for_text(&client, "#form-error", "canceled").await;

    // Again, and this time approved at the bank: the popup closes itself, the widget shows the
    // receipt, and the shop hears of the success.
    choose_bank_method(&client).await;
    click(&client, "#pay").await;
    let popup = popup_of(&client, &main).await;
    client.switch_to_window(popup).await.unwrap();
    approve_at_bank(&client, "ada").await;
    for _ in 0..40 {
        if client.windows().await.unwrap().len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        client.windows().await.unwrap().len(),
        1,
        "the return page closed the bank's window"
    );
    client.switch_to_window(main).await.unwrap();
    client.enter_parent_frame().await.ok();
    let frame = wait_for(&client, "#till-checkout iframe").await;
    frame.enter_frame().await.unwrap();
    let receipt = wait_for_text(&client, ".receipt", "Payment successful").await;
    assert!(receipt.contains("Sandbox Bank"), "{receipt}");
    screenshot(&client, "bank-receipt-desktop").await;
    client.enter_parent_frame().await.unwrap();
    let success = client
        .execute(
            "return window.tillEvents.filter(function (e) { return e.type === 'success'; })\
             .map(function (e) { return e.payment; })",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(success[0]["status"], "succeeded", "{success}");
    let till = Till::default();
    let id = success[0]["id"].as_str().unwrap();
    let (status, payment) = till
        .get(&format!("/v1/payments/{id}"), &till.secret_key)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (&payment["payment_method_type"], &payment["bank"]["id"]),
        (&json!("bank_redirect"), &json!("sandbox_bank"))
    );
    client.close().await.unwrap();
}

/// Back in the widget's frame after the popup closed, while it waits for the bank.
async fn enter_widget_waiting(client: &Client) {
    client.enter_parent_frame().await.ok();
    let frame = wait_for(client, "#till-checkout iframe").await;
    frame.enter_frame().await.unwrap();
    wait_for(client, "#cancel-bank").await;
}

async fn hosted_session(till: &Till, amount: i64, currency: &str, locale: &str) -> (Value, String) {
    let return_url = format!("{}/returned", setting("TILL_SHOP_URL"));
    let (status, session) = till
        .post(
            "/v1/checkout_sessions",
            &till.secret_key,
            &json!({ "amount": amount, "currency": currency, "return_url": return_url,
                     "payment_method_types": ["bank_redirect", "card"] }),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    let url = format!(
        "{}/checkout/{}?key={}#secret={}&locale={locale}",
        till.edge,
        session["id"].as_str().unwrap(),
        till.publishable_key,
        session["client_secret"].as_str().unwrap()
    );
    (session, url)
}

/// Waits (up to 15 s) for the hosted page to return to the shop's return URL; its query.
async fn back_at_the_shop(client: &Client) -> std::collections::HashMap<String, String> {
    for _ in 0..60 {
        if client.current_url().await.unwrap().path() == "/returned" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let returned = client.current_url().await.unwrap();
    assert_eq!(returned.path(), "/returned", "{returned}");
    returned.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn a_phone_goes_to_the_bank_and_back_and_waits_for_a_late_answer() {
    let client = open().await;
    client.set_window_size(375, 812).await.unwrap();
    let till = Till::default();
    let (session, url) = hosted_session(&till, 45_000, "KRW", "ko").await;
    client.goto(&url).await.unwrap();
    // The merchant listed the bank first: it is offered first.
    wait_for(&client, "#method-bank_redirect:checked").await;
    wait_for_text(&client, ".banks", "Hana Test Bank").await;
    fits_a_phone(&client).await;
    screenshot(&client, "bank-form-ko-375").await;
    let hana = client
        .find(Locator::Css(".bank-option input[value=hana_test]"))
        .await
        .unwrap();
    hana.click().await.unwrap();
    let label = client
        .find(Locator::Css("#pay"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(label.contains("₩45,000"), "{label}");
    click(&client, "#pay").await;
    // The page itself goes to the bank; a slow bank sends the customer back before it paid.
    approve_at_bank(&client, "slow_bank").await;
    let waiting = wait_for_text(&client, "#bank-status", "확인").await;
    assert!(waiting.contains("은행"), "{waiting}");
    screenshot(&client, "bank-waiting-ko-375").await;
    // The bank's webhook settles it; the widget shows the receipt and returns to the app.
    wait_for_text(&client, ".receipt", "결제가 완료되었습니다").await;
    screenshot(&client, "bank-receipt-ko-375").await;
    let query = back_at_the_shop(&client).await;
    assert_eq!(query.get("status").map(String::as_str), Some("succeeded"));
    assert_eq!(
        query.get("checkout_session").map(String::as_str),
        session["id"].as_str()
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_customer_who_cancels_at_the_bank_pays_by_card_instead() {
    let client = open().await;
    let till = Till::default();
    let (_, url) = hosted_session(&till, 6_100, "USD", "en").await;
    client.goto(&url).await.unwrap();
    wait_for_text(&client, ".banks", "Sandbox Bank").await;
    click(&client, "#pay").await;
    let cancel = wait_for(&client, "form[action$='/cancel'] button").await;
    cancel.click().await.unwrap();
    // Back from the bank: told, with the methods offered again.
    let notice = wait_for_text(&client, "#form-error", "canceled").await;
    assert!(notice.contains("Choose how to pay"), "{notice}");
    wait_for(&client, "#method-bank_redirect:checked").await;
    screenshot(&client, "bank-canceled-desktop").await;
    click(&client, "#method-card").await;
    for (css, text) in [
        ("#card-number", "4242424242424242"),
        ("#card-expiry", "1234"),
        ("#card-cvc", "123"),
        ("#card-name", "Ada Lovelace"),
    ] {
        wait_for(&client, css).await.send_keys(text).await.unwrap();
    }
    click(&client, "#pay").await;
    let receipt = wait_for_text(&client, ".receipt", "Payment successful").await;
    assert!(receipt.contains("Visa •••• 4242"), "{receipt}");
    client.close().await.unwrap();
}

#[tokio::test]
async fn back_from_the_bank_without_the_bank_chunk_the_page_says_so_and_try_again_resumes() {
    let client = open().await;
    let till = Till::default();
    let (session, url) = hosted_session(&till, 6_300, "USD", "en").await;
    client.goto(&url).await.unwrap();
    wait_for_text(&client, ".banks", "Sandbox Bank").await;
    click(&client, "#pay").await;
    // While the customer is at the bank, the connection starts dropping the chunk that reads
    // where a bank payment stands.
    block_requests(&client, &["*.split_bank.wasm"]).await;
    approve_at_bank(&client, "ada").await;
    // Back on Till's page: it cannot know whether the bank paid, so it offers no form to pay
    // again; it says the service cannot be reached.
    let error = wait_for_text(
        &client,
        ".status.error",
        "could not reach the payment service",
    )
    .await;
    assert!(error.contains("try again"), "{error}");
    assert!(
        client.find(Locator::Css("#pay")).await.is_err(),
        "no form to pay again while the bank may have paid"
    );
    screenshot(&client, "bank-return-without-chunk").await;
    // Pressed while the connection still drops the chunk: the same answer, nothing else.
    click(&client, "#try-again").await;
    wait_for_text(
        &client,
        ".status.error",
        "could not reach the payment service",
    )
    .await;
    // The connection is back: trying again (a webview has no reload button) finds the bank's
    // answer and returns to the shop.
    block_requests(&client, &[]).await;
    click(&client, "#try-again").await;
    let query = back_at_the_shop(&client).await;
    assert_eq!(query.get("status").map(String::as_str), Some("succeeded"));
    let state = till
        .get(
            &format!("/v1/checkout_sessions/{}", session["id"].as_str().unwrap()),
            &till.secret_key,
        )
        .await
        .1;
    assert_eq!(state["status"], "complete", "{state}");
    client.close().await.unwrap();
}
