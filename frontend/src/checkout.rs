//! Paying for the session over the edge: encrypt and tokenize the card, then confirm the attempt,
//! retrying with the same idempotency key while the answer is not final.

use crate::api::{CallError, Edge};
use crate::api::{Payment, Session};
use crate::attempt::Attempt;
use crate::encrypt::encrypt_card;
use crate::i18n;
use crate::json::{ToJson, Writer};
use crate::timer::sleep;
use till_core::api::{ConfirmCheckoutSession, CreateToken};
use till_core::card::{CardDetails, CardPayload};
use till_core::payment::PaymentStatus;
use till_core::payment_method_type::PaymentMethodType;
use wasm_bindgen::JsValue;

/// Retries of a confirm whose answer did not arrive (same key, so never a second charge).
const CONFIRM_ATTEMPTS: u32 = 6;
/// 800 ms, 1.6 s, 3.2 s, … between confirm attempts whose answer is not final yet.
const CONFIRM_RETRIES: till_core::backoff::Backoff = till_core::backoff::Backoff {
    first: 800,
    max: 6_400,
};

/// 16 random bytes, base64url: makes each encrypted card single use.
fn random_nonce() -> Option<String> {
    let mut bytes = [0u8; 16];
    web_sys::window()?
        .crypto()
        .ok()?
        .get_random_values_with_u8_array(&mut bytes)
        .ok()?;
    crate::encrypt::b64url(&bytes)
}

/// The card as the edge decrypts it.
impl ToJson for CardPayload {
    fn to_json(&self) -> JsValue {
        let card = &self.card;
        let details = Writer::new()
            .field("number", card.number.expose().as_str())
            .integer("exp_month", Some(card.exp_month.into()))
            .integer("exp_year", Some(card.exp_year.into()))
            .field("cvc", card.cvc.expose().as_str())
            .field("name", card.name.as_str())
            .done();
        Writer::new()
            .field("card", details)
            .integer("iat", Some(self.iat))
            .field("nonce", self.nonce.as_str())
            .done()
    }
}

/// Everything one payment needs, owned so it can move into the async task.
#[derive(Clone)]
pub struct Checkout {
    pub edge: Edge,
    pub session: Session,
    pub client_secret: String,
    /// What the customer's wallet pays of this checkout (the card paying the rest).
    pub wallet_amount: Option<i64>,
}

pub enum PayResult {
    Paid(Payment),
    Challenge(Payment),
    /// The customer approves at their bank, at the payment's `next_action.url`.
    Redirect(Payment),
    Declined(String),
    /// Retry later with the same attempt.
    Pending(String),
    Failed(CallError),
}

impl Checkout {
    /// `plaintext` as a compact JWE to the edge's current key, bound to this session.
    async fn encrypt(&self, plaintext: &[u8]) -> Result<String, CallError> {
        let keys = self.edge.keys().await?;
        let key = keys.keys.first().ok_or(CallError::Network)?;
        encrypt_card(key, &self.session.id, plaintext)
            .await
            .map_err(|e| CallError::Encryption(e.0))
    }

    /// A saved card's security code, typed again, encrypted like a card: the edge's
    /// `CvcPayload`. Written by hand (the code is digits, the nonce base64url): a second serde
    /// serializer would cost the widget more than this line.
    pub async fn encrypt_cvc(&self, cvc: &str) -> Result<String, CallError> {
        let digits: String = cvc.chars().filter(char::is_ascii_digit).collect();
        let iat = (js_sys::Date::now() / 1000.0) as i64;
        let nonce = random_nonce().ok_or(CallError::Network)?;
        let plaintext = format!(r#"{{"cvc":"{digits}","iat":{iat},"nonce":"{nonce}"}}"#);
        self.encrypt(plaintext.as_bytes()).await
    }

    /// Encrypts the card for this session and exchanges it for a single-use token.
    pub async fn tokenize(&self, card: &CardDetails) -> Result<String, CallError> {
        let payload = CardPayload {
            card: card.clone(),
            iat: (js_sys::Date::now() / 1000.0) as i64,
            nonce: random_nonce().ok_or(CallError::Network)?,
        };
        let plaintext = crate::json::to_string(&payload).ok_or(CallError::Network)?;
        let encrypted_card = self.encrypt(plaintext.as_bytes()).await?;
        let token = self
            .edge
            .tokenize(&CreateToken {
                checkout_session: self.session.id.clone(),
                client_secret: self.client_secret.clone(),
                encrypted_card,
            })
            .await?;
        Ok(token.id)
    }

    /// Confirms the attempt, resending it while the edge has no final answer yet.
    pub async fn confirm(&self, attempt: &Attempt) -> PayResult {
        let wallet_only = attempt.wallet_amount.is_some() && attempt.token.is_empty();
        let (token, payment_method) = match (&attempt.bank, attempt.saved_card) {
            (Some(_), _) => (None, None),
            _ if wallet_only => (None, None),
            (None, true) => (None, Some(attempt.token.clone())),
            (None, false) => (Some(attempt.token.clone()), None),
        };
        let body = ConfirmCheckoutSession {
            client_secret: self.client_secret.clone(),
            token,
            payment_method,
            save_payment_method: attempt.save && !attempt.saved_card,
            encrypted_cvc: attempt.encrypted_cvc.clone(),
            bank: attempt.bank.clone(),
            wallet_amount: attempt.wallet_amount,
        };
        let mut last = String::new();
        for round in 0..CONFIRM_ATTEMPTS {
            if round > 0 {
                let wait = CONFIRM_RETRIES.delay(round);
                sleep(i32::try_from(wait).unwrap_or(i32::MAX)).await;
            }
            match self
                .edge
                .confirm(&self.session.id, &body, &attempt.idempotency_key)
                .await
            {
                Ok(payment)
                    if matches!(
                        payment.status,
                        PaymentStatus::Succeeded | PaymentStatus::RequiresCapture
                    ) =>
                {
                    return PayResult::Paid(payment)
                }
                Ok(payment) if payment.status == PaymentStatus::RequiresAction => {
                    let to_bank = payment
                        .next_action
                        .as_ref()
                        .is_some_and(|a| a.url.is_some());
                    return if to_bank {
                        PayResult::Redirect(payment)
                    } else {
                        PayResult::Challenge(payment)
                    };
                }
                Ok(payment) => {
                    let words = match payment.payment_method_type {
                        PaymentMethodType::Card | PaymentMethodType::Wallet => i18n::decline,
                        PaymentMethodType::BankRedirect => i18n::bank_decline,
                    };
                    return PayResult::Declined(words(
                        payment.failure_code,
                        payment.failure_message,
                    ));
                }
                Err(error) if error.may_succeed_later() => last = error.message(),
                Err(error) => return PayResult::Failed(error),
            }
        }
        PayResult::Pending(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use till_core::secret::Secret;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn the_edge_decrypts_the_card_as_the_widget_writes_it() {
        let payload = CardPayload {
            card: CardDetails {
                number: Secret::new("4242424242424242".into()),
                exp_month: 12,
                exp_year: 2034,
                cvc: Secret::new("123".into()),
                name: "김 민준 \"Jr\"".into(),
            },
            iat: 1_795_000_000,
            nonce: random_nonce().expect("the browser makes nonces"),
        };
        let text = crate::json::to_string(&payload).expect("written");
        let read: CardPayload = serde_json::from_str(&text).expect("the edge reads it");
        assert_eq!(read, payload);
    }
}
