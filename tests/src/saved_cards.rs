//! Helpers for checkouts with a customer's saved cards: the customer's checkout sessions and
//! the cards they kept.

use crate::{Session, Till};
use serde_json::{json, Value};

impl Till {
    /// A checkout session of `amount` US cents for `customer`; with `require_cvc`, a saved card
    /// pays only with its security code typed again.
    pub async fn customer_checkout(
        &self,
        customer: &str,
        amount: i64,
        require_cvc: bool,
    ) -> Session {
        let body = json!({ "amount": amount, "currency": "USD", "customer": customer,
                           "require_cvc": require_cvc });
        let (status, created) = self
            .post("/v1/checkout_sessions", &self.secret_key, &body)
            .await;
        assert_eq!(status, 200, "{created}");
        Session::from_created(created)
    }

    /// `customer`'s usable saved cards, newest first, as the merchant's server sees them.
    pub async fn saved_cards(&self, customer: &str) -> Vec<Value> {
        let (status, list) = self
            .get(
                &format!("/v1/customers/{customer}/payment_methods"),
                &self.secret_key,
            )
            .await;
        assert_eq!(status, 200, "{list}");
        list["data"].as_array().cloned().unwrap_or_default()
    }
}
