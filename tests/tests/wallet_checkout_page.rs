//! Paying from a Till wallet in the real widget, in headless Chromium, on the hosted checkout
//! page: a balance that covers the total pays it with one press; a smaller one pays its part and
//! a card the rest, and a declined card leaves the wallet as it was.

use till_e2e::browser::{click, fits_a_phone, open, screenshot, wait_for, wait_for_text};
use till_e2e::{wallet, Till};

/// The hosted page, in `locale`, of a checkout for `customer` offering the wallet first.
async fn hosted_wallet_session(till: &Till, customer: &str, amount: i64, locale: &str) -> String {
    let session = till.wallet_checkout_session(customer, amount).await;
    format!(
        "{}/checkout/{}?key={}#secret={}&locale={locale}",
        till.edge, session.id, till.publishable_key, session.client_secret
    )
}

async fn type_card(client: &fantoccini::Client, number: &str) {
    for (css, text) in [
        ("#card-number", number),
        ("#card-expiry", "1234"),
        ("#card-cvc", "123"),
        ("#card-name", "Ada Lovelace"),
    ] {
        let field = wait_for(client, css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }
}

#[tokio::test]
async fn a_customer_pays_with_their_wallet_and_a_card_for_the_rest() {
    let till = wallet::till();
    let customer = till.new_customer().await;
    till.top_up(&customer, 1_200).await;
    let url = hosted_wallet_session(&till, &customer, 5_000, "en").await;
    let client = open().await;
    client.goto(&url).await.unwrap();
    wait_for(&client, "#method-wallet:checked").await;
    wait_for_text(&client, ".wallet-balance", "$12.00").await;
    let split = wait_for_text(&client, ".wallet-split", "by card").await;
    assert_eq!(split, "$12.00 from your wallet, $38.00 by card.");
    let label = wait_for_text(&client, "#pay", "Pay").await;
    assert_eq!(label, "Pay $38.00");
    screenshot(&client, "wallet-split-desktop").await;

    // A declined card: told so, and the wallet still holds its money.
    type_card(&client, "4000000000000002").await;
    click(&client, "#pay").await;
    wait_for_text(&client, "#form-error", "declined").await;
    assert_eq!(till.wallet(&customer).await, 1_200);

    type_card(&client, "4242424242424242").await;
    click(&client, "#pay").await;
    let receipt = wait_for_text(&client, ".receipt", "Payment successful").await;
    assert!(receipt.contains("$50.00"), "{receipt}");
    assert!(receipt.contains("Visa •••• 4242"), "{receipt}");
    let from_wallet = wait_for(&client, ".wallet-part")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(from_wallet, "$12.00");
    screenshot(&client, "wallet-split-receipt-desktop").await;
    assert_eq!(till.wallet(&customer).await, 0);
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_wallet_that_covers_the_total_pays_it_on_a_phone_in_korean() {
    let till = wallet::till();
    let customer = till.new_customer().await;
    till.top_up(&customer, 8_000).await;
    let url = hosted_wallet_session(&till, &customer, 3_000, "ko").await;
    let client = open().await;
    client.set_window_size(375, 812).await.unwrap();
    client.goto(&url).await.unwrap();
    wait_for(&client, "#method-wallet:checked").await;
    wait_for_text(&client, ".wallet-balance", "지갑 잔액").await;
    let label = wait_for_text(&client, "#pay", "지갑에서").await;
    assert_eq!(label, "지갑에서 US$30.00 결제하기");
    fits_a_phone(&client).await;
    screenshot(&client, "wallet-pay-ko-375").await;
    click(&client, "#pay").await;
    let receipt = wait_for_text(&client, ".receipt", "결제가 완료되었습니다").await;
    assert!(receipt.contains("지갑"), "{receipt}");
    screenshot(&client, "wallet-receipt-ko-375").await;
    assert_eq!(till.wallet(&customer).await, 5_000);
    client.close().await.unwrap();
}
