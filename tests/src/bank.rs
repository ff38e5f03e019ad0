//! Paying from a bank account: sessions that offer it, and the customer's pages at the
//! sandbox bank walked over HTTP (the browser tests walk them in Chromium).

use crate::{new_key, Session, Till};
use reqwest::redirect::Policy;
use serde_json::{json, Value};

/// A session of `amount` in `currency` offering `methods`.
pub async fn bank_session(till: &Till, amount: i64, currency: &str, methods: Value) -> Session {
    let (status, body) = till
        .post(
            "/v1/checkout_sessions",
            &till.secret_key,
            &json!({ "amount": amount, "currency": currency, "payment_method_types": methods }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    Session::from_created(body)
}

/// Confirms with `body` under `key`: the status and the answer.
pub async fn confirm_with(till: &Till, session: &Session, body: Value, key: &str) -> (u16, Value) {
    let response = crate::send(
        till.http
            .post(till.url(&format!("/v1/checkout_sessions/{}/confirm", session.id)))
            .bearer_auth(&till.publishable_key)
            .header("Idempotency-Key", key)
            .json(&body),
    )
    .await;
    crate::json_of(response).await
}

/// Confirms the session with `bank`; the payment waiting for the customer at the bank.
pub async fn pay_from(till: &Till, session: &Session, bank: &str) -> Value {
    let body = json!({ "client_secret": session.client_secret, "bank": bank });
    let (status, payment) = confirm_with(till, session, body, &new_key()).await;
    assert_eq!(status, 200, "{payment}");
    payment
}

/// A customer's browser at the bank: follows nothing by itself, so each step is seen.
pub fn customer() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// The bank's page the payment sends the customer to.
pub fn redirect_url(payment: &Value) -> String {
    assert_eq!(
        payment["next_action"]["type"], "redirect_to_url",
        "{payment}"
    );
    payment["next_action"]["url"].as_str().unwrap().to_string()
}

/// Signs in at the bank as `user` and sends `code`; returns where the bank sends them.
pub async fn approve_at_bank(bank_page: &str, user: &str, code: &str) -> String {
    let browser = customer();
    let page = browser.get(bank_page).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("password"));
    let otp_page = browser
        .post(format!("{bank_page}/login"))
        .form(&[("username", user), ("password", "pw")])
        .send()
        .await
        .unwrap();
    assert_eq!(otp_page.status(), 200);
    let back = browser
        .post(format!("{bank_page}/otp"))
        .form(&[("otp", code)])
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 303, "the bank sends the customer back");
    location(&back)
}

/// Cancels at the bank; returns where the bank sends them.
pub async fn cancel_at_bank(bank_page: &str) -> String {
    let back = customer()
        .post(format!("{bank_page}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 303);
    location(&back)
}

/// Where a redirect points.
pub fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_string()
}
