//! One payment attempt = one `Idempotency-Key` and one token (or saved card, or bank), kept in
//! `sessionStorage` so that a reload finishes the same attempt instead of starting a second
//! charge. Editing the card or choosing another starts a new attempt. Nothing about the card
//! itself is stored.

use crate::json::{FromJson, Object, ToJson, Writer};
use wasm_bindgen::JsValue;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub idempotency_key: String,
    /// The token of the card just entered, or the id of the saved card chosen.
    pub token: String,
    pub saved_card: bool,
    /// The customer agreed to keep the card entered.
    pub save: bool,
    /// A saved card's security code typed again, encrypted to the edge (never in clear).
    pub encrypted_cvc: Option<String>,
    /// The bank chosen, for a payment by bank redirect (then there is no token).
    pub bank: Option<String>,
    /// What the customer's wallet pays: all of it (then there is no token) or part, with the
    /// card for the rest.
    pub wallet_amount: Option<i64>,
}

impl FromJson for Attempt {
    fn from_json(attempt: &Object) -> Option<Self> {
        Some(Attempt {
            idempotency_key: attempt.text("idempotency_key")?,
            token: attempt.text("token")?,
            saved_card: attempt.flag("saved_card").unwrap_or(false),
            save: attempt.flag("save").unwrap_or(false),
            encrypted_cvc: attempt.text("encrypted_cvc"),
            bank: attempt.text("bank"),
            wallet_amount: attempt.integer("wallet_amount"),
        })
    }
}

impl ToJson for Attempt {
    fn to_json(&self) -> JsValue {
        Writer::new()
            .field("idempotency_key", self.idempotency_key.as_str())
            .field("token", self.token.as_str())
            .field("saved_card", self.saved_card)
            .field("save", self.save)
            .field("encrypted_cvc", self.encrypted_cvc.as_deref())
            .field("bank", self.bank.as_deref())
            .integer("wallet_amount", self.wallet_amount)
            .done()
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

fn slot(session_id: &str) -> String {
    format!("till:attempt:{session_id}")
}

pub fn load(session_id: &str) -> Option<Attempt> {
    let text = storage()?.get_item(&slot(session_id)).ok()??;
    crate::json::from_str(&text)
}

pub fn save(session_id: &str, attempt: &Attempt) {
    if let (Some(storage), Some(text)) = (storage(), crate::json::to_string(attempt)) {
        // Storage can be full or disabled; the attempt then only survives in memory.
        let _ = storage.set_item(&slot(session_id), &text);
    }
}

pub fn clear(session_id: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&slot(session_id));
    }
}

/// [`clear`] for the session this page was opened for (`launch::current`): what the form's
/// edits call, so that they need not each hold the session's id.
pub fn clear_current() {
    if let Some(launch) = crate::launch::current() {
        clear(&launch.session_id);
    }
}

/// A fresh random idempotency key (UUIDv4 from the browser's CSPRNG).
pub fn new_key() -> Option<String> {
    let crypto = web_sys::window()?.crypto().ok()?;
    Some(crypto.random_uuid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn a_reload_finds_the_same_attempt_and_a_cleared_one_is_gone() {
        let session = "cs_attempt_round_trip";
        let attempt = Attempt {
            idempotency_key: new_key().expect("the browser makes keys"),
            token: "tok_1".into(),
            saved_card: false,
            save: true,
            encrypted_cvc: None,
            bank: None,
            wallet_amount: Some(1_500),
        };
        save(session, &attempt);
        assert_eq!(load(session), Some(attempt.clone()));
        assert_eq!(load("cs_another_session"), None);
        clear(session);
        assert_eq!(load(session), None);
    }

    #[wasm_bindgen_test]
    fn a_damaged_attempt_is_not_resumed() {
        let session = "cs_attempt_damaged";
        let stored = storage().expect("sessionStorage");
        for damaged in [
            "not json",
            "[]",
            r#"{"token":"tok_1"}"#,
            r#"{"idempotency_key":7,"token":"tok_1"}"#,
        ] {
            stored.set_item(&slot(session), damaged).expect("stored");
            assert_eq!(load(session), None, "{damaged}");
        }
        clear(session);
    }

    #[wasm_bindgen_test]
    fn keys_are_fresh_uuids() {
        let (first, second) = (new_key().expect("key"), new_key().expect("key"));
        assert_ne!(first, second);
        assert_eq!(first.len(), 36);
        assert_eq!(first.as_bytes()[14], b'4');
    }
}
