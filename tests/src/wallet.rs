//! Helpers for the wallet tests: customers of the wallet test merchant (`mer_wallet`, seeded
//! with transfer limits of 50,000 per transfer and 200,000 per day), top-ups through the card
//! flow, transfers and balances.

use crate::{json_of, new_key, send, Session, Till};
use serde_json::{json, Value};

pub const SECRET_KEY: &str = "sk_test_till_wallet_merchant_secret";
pub const PUBLISHABLE_KEY: &str = "pk_test_till_wallet_merchant_publishable";

/// A client for the wallet test merchant.
pub fn till() -> Till {
    Till::for_merchant(SECRET_KEY, PUBLISHABLE_KEY)
}

/// A phone number no other test uses: +1 555 and 7 random digits.
pub fn unique_phone() -> String {
    let [a, b, c] = crate::random::<3>();
    let n = (u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c)) % 10_000_000;
    format!("+1555{n:07}")
}

impl Till {
    pub async fn create_customer(&self, body: Value) -> Value {
        let (status, customer) = self.post("/v1/customers", &self.secret_key, &body).await;
        assert_eq!(status, 200, "create customer: {customer}");
        customer
    }

    /// A new customer with a unique phone number; its id.
    pub async fn new_customer(&self) -> String {
        let customer = self
            .create_customer(json!({ "phone": unique_phone() }))
            .await;
        customer["id"].as_str().expect("customer id").to_string()
    }

    /// A checkout session that tops up `customer`'s wallet by `amount` US cents.
    pub async fn top_up_session(&self, customer: &str, amount: i64) -> Session {
        let (status, body) = self
            .post(
                "/v1/checkout_sessions",
                &self.secret_key,
                &json!({ "amount": amount, "currency": "USD", "customer": customer,
                         "purpose": "wallet_top_up" }),
            )
            .await;
        assert_eq!(status, 200, "top-up session: {body}");
        Session::from_created(body)
    }

    /// A checkout of `amount` US cents for `customer` that offers their wallet first, then cards.
    pub async fn wallet_checkout_session(&self, customer: &str, amount: i64) -> Session {
        let (status, body) = self
            .post(
                "/v1/checkout_sessions",
                &self.secret_key,
                &json!({ "amount": amount, "currency": "USD", "customer": customer,
                         "payment_method_types": ["wallet", "card"] }),
            )
            .await;
        assert_eq!(status, 200, "wallet checkout session: {body}");
        Session::from_created(body)
    }

    /// Pays a top-up with `card` through tokenize and confirm, as the widget does; the payment.
    pub async fn top_up_with(&self, customer: &str, amount: i64, card: &str) -> Value {
        let session = self.top_up_session(customer, amount).await;
        let token = self.token(&session, card).await;
        let (status, _, payment) = self.confirm(&session, &token, &new_key()).await;
        assert_eq!(status, 200, "top-up confirm: {payment}");
        payment
    }

    pub async fn top_up(&self, customer: &str, amount: i64) -> Value {
        let payment = self.top_up_with(customer, amount, "4242424242424242").await;
        assert_eq!(payment["status"], "succeeded", "{payment}");
        payment
    }

    /// The customer's wallet in US cents (0 when it never held any).
    pub async fn wallet(&self, customer: &str) -> i64 {
        let (status, body) = self
            .get(
                &format!("/v1/customers/{customer}/balance"),
                &self.secret_key,
            )
            .await;
        assert_eq!(status, 200, "balance: {body}");
        body["available"]
            .as_array()
            .expect("available")
            .iter()
            .find(|b| b["currency"] == "USD")
            .map_or(0, |b| b["amount"].as_i64().expect("amount"))
    }

    /// POSTs `body` to `path` with the secret key and `key`; status, whether the answer was a
    /// replay, body.
    pub async fn post_keyed(&self, path: &str, body: &Value, key: &str) -> (u16, bool, Value) {
        let response = send(
            self.http
                .post(self.url(path))
                .bearer_auth(&self.secret_key)
                .header("Idempotency-Key", key)
                .json(body),
        )
        .await;
        let replayed = response
            .headers()
            .get("Idempotent-Replayed")
            .is_some_and(|v| v == "true");
        let (status, body) = json_of(response).await;
        (status, replayed, body)
    }

    /// Sends a transfer with `key`; status, whether it was a replay, body.
    pub async fn transfer_with_key(&self, body: &Value, key: &str) -> (u16, bool, Value) {
        self.post_keyed("/v1/transfers", body, key).await
    }

    /// `amount` US cents from one wallet to `to` (a customer id, phone or email).
    pub async fn transfer(&self, from: &str, to: &str, amount: i64) -> (u16, Value) {
        let body = json!({ "from_customer": from, "to": to, "amount": amount,
                           "currency": "USD", "source": "wallet" });
        let (status, _, body) = self.transfer_with_key(&body, &new_key()).await;
        (status, body)
    }

    /// Every ledger entry of one account, oldest first, read page by page.
    pub async fn entries_of(&self, account: &str) -> Vec<Value> {
        let mut entries = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/ledger/entries?limit=100&account={account}");
            if let Some(after) = &cursor {
                path.push_str(&format!("&starting_after={after}"));
            }
            let (status, page) = self.get(&path, &self.secret_key).await;
            assert_eq!(status, 200, "entries: {page}");
            let data = page["data"].as_array().expect("data").clone();
            cursor = data
                .last()
                .map(|e| e["id"].as_str().expect("id").to_string());
            entries.extend(data);
            if page["has_more"] != true {
                break;
            }
        }
        entries.reverse();
        entries
    }
}

impl Till {
    /// Pays a session of `customer` with `card` and keeps the card; the saved card's id.
    pub async fn save_card(&self, customer: &str, amount: i64, card: &str) -> String {
        let (status, session) = self
            .post(
                "/v1/checkout_sessions",
                &self.secret_key,
                &json!({ "amount": amount, "currency": "USD", "customer": customer }),
            )
            .await;
        assert_eq!(status, 200, "{session}");
        let session = Session::from_created(session);
        let token = self.token(&session, card).await;
        let response = send(
            self.http
                .post(self.url(&format!("/v1/checkout_sessions/{}/confirm", session.id)))
                .bearer_auth(&self.publishable_key)
                .header("Idempotency-Key", new_key())
                .json(
                    &json!({ "client_secret": session.client_secret, "token": token,
                               "save_payment_method": true }),
                ),
        )
        .await;
        let (status, payment) = json_of(response).await;
        assert_eq!(status, 200, "{payment}");
        if payment["status"] == "requires_action" {
            let (status, passed) = self
                .post(
                    &format!(
                        "/v1/payments/{}/challenge",
                        payment["id"].as_str().expect("id")
                    ),
                    &self.publishable_key,
                    &json!({ "client_secret": session.client_secret, "otp": "123456" }),
                )
                .await;
            assert_eq!(
                (status, passed["status"].as_str()),
                (200, Some("succeeded"))
            );
        }
        let (_, methods) = self
            .get(
                &format!("/v1/customers/{customer}/payment_methods"),
                &self.secret_key,
            )
            .await;
        methods["data"][0]["id"]
            .as_str()
            .expect("a saved card")
            .to_string()
    }
}

/// Test accounts of the sandbox's bank (`sandbox/src/bank.rs`): paid; failed `no_account`;
/// paid, then returned `account_closed`.
pub const PAID_ACCOUNT: &str = "000123456789";
pub const NO_ACCOUNT: &str = "000111111116";
pub const CLOSED_ACCOUNT: &str = "000111111113";

/// A payout request of `amount` US cents from `customer`'s wallet to `account_number`.
pub fn payout_body(customer: &str, amount: i64, account_number: &str) -> Value {
    json!({ "customer": customer, "amount": amount, "currency": "USD",
            "bank_account": { "holder_name": "Jiwoo Kim", "routing_number": "110000000",
                              "account_number": account_number } })
}

impl Till {
    /// Requests a payout with `key`; status, whether it was a replay, body.
    pub async fn payout_with_key(&self, body: &Value, key: &str) -> (u16, bool, Value) {
        self.post_keyed("/v1/payouts", body, key).await
    }

    pub async fn payout(&self, customer: &str, amount: i64, account_number: &str) -> (u16, Value) {
        let body = payout_body(customer, amount, account_number);
        let (status, _, body) = self.payout_with_key(&body, &new_key()).await;
        (status, body)
    }

    /// The payout once it is `status` (the sandbox's bank takes about a second per step);
    /// panics after 20 s.
    pub async fn payout_reaches(&self, id: &str, status: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..80 {
            let (code, payout) = self
                .get(&format!("/v1/payouts/{id}"), &self.secret_key)
                .await;
            assert_eq!(code, 200, "{payout}");
            if payout["status"] == status {
                return payout;
            }
            last = payout;
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        panic!("payout {id} never became {status}: {last}");
    }
}
