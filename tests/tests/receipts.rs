//! Receipt e-mails through the real edge and the sandbox's mail API: sent once when a payment
//! succeeds and when a refund is made, in the customer's language, to the session's address or
//! the customer's, and still sent once after the provider was down for a while.

use serde_json::{json, Value};
use std::time::Duration;
use till_e2e::merchants::onboard;
use till_e2e::{new_key, Session, Till, GATEWAY_KEY};

/// A fresh address, so each test reads only its own mail.
fn address() -> String {
    format!(
        "buyer-{}@example.com",
        new_key().trim_start_matches("test-")
    )
}

async fn paid(till: &Till, session: Value) -> (Session, Value) {
    let (status, created) = till
        .post("/v1/checkout_sessions", &till.secret_key, &session)
        .await;
    assert_eq!(status, 200, "{created}");
    let session = Session::from_created(created);
    let token = till.token(&session, "4242424242424242").await;
    let key = new_key();
    let (status, _, payment) = till.confirm(&session, &token, &key).await;
    assert_eq!(
        (status, payment["status"].as_str()),
        (200, Some("succeeded")),
        "{payment}"
    );
    // A replay of the confirm is the same payment: no second receipt.
    let (status, replayed, _) = till.confirm(&session, &token, &key).await;
    assert_eq!((status, replayed), (200, true));
    (session, payment)
}

#[tokio::test]
async fn a_korean_customer_gets_one_receipt_for_the_payment_and_one_for_the_refund() {
    let (_, till) = onboard("Seoul <Books>", &[]).await;
    let to = address();
    let (session, payment) = paid(
        &till,
        json!({
            "amount": 45_000, "currency": "KRW", "receipt_email": to.to_uppercase(), "locale": "ko-KR",
            "merchant_reference": "주문-7",
            "line_items": [{ "name": "책 <한정판>", "quantity": 3, "unit_amount": 15_000 }],
        }),
    )
    .await;
    assert_eq!(
        session.body["receipt_email"],
        to.as_str(),
        "stored normalized"
    );
    let messages = till.mail_to(&to, 1).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let receipt = &messages[0];
    assert_eq!(receipt["subject"], "결제 영수증: Seoul <Books>");
    let text = receipt["text"].as_str().unwrap();
    assert!(text.contains("금액: ₩45,000"), "{text}");
    assert!(text.contains("카드: Visa •••• 4242"), "{text}");
    assert!(text.contains(payment["id"].as_str().unwrap()), "{text}");
    assert!(text.contains("책 <한정판> × 3  ₩45,000"), "{text}");
    assert!(!text.contains("4242424242424242"), "never the card number");
    let html = receipt["html"].as_str().unwrap();
    assert!(
        html.contains("Seoul &lt;Books&gt;") && html.contains("책 &lt;한정판&gt;"),
        "{html}"
    );

    let (status, refund) = till
        .post_with_key(
            "/v1/refunds",
            &till.secret_key,
            &json!({ "payment": payment["id"], "amount": 15_000 }),
        )
        .await;
    assert_eq!(status, 200, "{refund}");
    let messages = till.mail_to(&to, 2).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[1]["subject"], "환불 안내: Seoul <Books>");
    let text = messages[1]["text"].as_str().unwrap();
    assert!(
        text.contains("₩15,000") && text.contains(refund["id"].as_str().unwrap()),
        "{text}"
    );

    // The cron finds nothing left to send; the mailbox page shows the messages, escaped.
    till.run_poller().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        till.mail_to(&to, 3).await.len(),
        2,
        "exactly one receipt per event"
    );
    let page = till
        .http
        .get(format!("{}/mailbox", till.gateway))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("환불 안내: Seoul &lt;Books&gt;"),
        "the mailbox page lists it"
    );
}

#[tokio::test]
async fn a_customers_receipt_goes_to_their_email_in_their_language() {
    let (_, till) = onboard("Ada's Shop", &[]).await;
    let to = address();
    let (status, customer) = till
        .post(
            "/v1/customers",
            &till.secret_key,
            &json!({ "email": to, "locale": "en-GB", "name": "Ada" }),
        )
        .await;
    assert_eq!(status, 200, "{customer}");
    paid(
        &till,
        json!({ "amount": 2_500, "currency": "USD", "customer": customer["id"] }),
    )
    .await;
    let messages = till.mail_to(&to, 1).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["subject"], "Your receipt from Ada's Shop");
    assert!(messages[0]["text"]
        .as_str()
        .unwrap()
        .contains("Amount: $25.00"));
}

#[tokio::test]
async fn a_receipt_waits_out_a_mail_outage_and_is_sent_once() {
    let (_, till) = onboard("Outage Shop", &[]).await;
    let response = till
        .http
        .post(format!("{}/v1/control/mail", till.gateway))
        .bearer_auth(GATEWAY_KEY)
        .json(&json!({ "fail_times": 2 }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let to = address();
    paid(
        &till,
        json!({ "amount": 1_999, "currency": "USD", "receipt_email": to }),
    )
    .await;
    let messages = till.mail_to(&to, 1).await;
    assert_eq!(messages.len(), 1, "sent after two refused attempts");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(till.mail_to(&to, 2).await.len(), 1);
}

#[tokio::test]
async fn bad_receipt_details_are_refused_before_anything_is_made() {
    let till = Till::default();
    for (body, code, param) in [
        (
            json!({ "amount": 100, "currency": "USD", "receipt_email": "not-an-address" }),
            "email_invalid",
            "receipt_email",
        ),
        (
            json!({ "amount": 100, "currency": "USD", "receipt_email": "a@example.com\r\nBcc: b@example.com" }),
            "email_invalid",
            "receipt_email",
        ),
        (
            json!({ "amount": 100, "currency": "USD", "locale": "klingon-language-tag" }),
            "locale_invalid",
            "locale",
        ),
    ] {
        let (status, answer) = till
            .post("/v1/checkout_sessions", &till.secret_key, &body)
            .await;
        assert_eq!(
            (
                status,
                answer["error"]["code"].as_str(),
                answer["error"]["param"].as_str()
            ),
            (400, Some(code), Some(param)),
            "{body}: {answer}"
        );
    }
}
