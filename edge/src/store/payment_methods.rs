//! Saved cards: what may be shown of them, whose they are, and whether they may be used.

use super::{all, execute, first, int, opt_text, statement, text, StoreResult};
use crate::clock;
use serde::Deserialize;
use till_core::api::PaymentMethod;
use till_core::card::{Brand, CardSummary};
use worker::wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, Env};

#[derive(Debug, Clone, Deserialize)]
pub struct PaymentMethodRow {
    pub id: String,
    pub merchant_id: String,
    pub customer_id: String,
    pub payment_id: String,
    pub card_brand: Brand,
    pub card_last4: String,
    pub card_exp_month: i64,
    pub card_exp_year: i64,
    pub card_fingerprint: String,
    pub gateway_account_id: Option<String>,
    pub gateway_card_reference: Option<String>,
    pub created: i64,
}

impl PaymentMethodRow {
    /// The gateway's own id for the card, when it is charged through the account that made it.
    pub fn reference_at(&self, gateway_account_id: Option<&str>) -> Option<String> {
        (self.gateway_account_id.as_deref() == gateway_account_id)
            .then(|| self.gateway_card_reference.clone())
            .flatten()
    }
}

impl PaymentMethodRow {
    /// The saved card as the API shows it; the fingerprint only to the merchant's server.
    pub fn view(&self, with_fingerprint: bool) -> PaymentMethod {
        PaymentMethod {
            id: self.id.clone(),
            object: "payment_method".into(),
            customer: self.customer_id.clone(),
            card: CardSummary {
                brand: self.card_brand,
                last4: self.card_last4.clone(),
                exp_month: u8::try_from(self.card_exp_month).unwrap_or(0),
                exp_year: u16::try_from(self.card_exp_year).unwrap_or(0),
                fingerprint: with_fingerprint.then(|| self.card_fingerprint.clone()),
            },
            created: self.created,
        }
    }
}

/// Saves a card; false (nothing written) when the customer already has it saved.
pub async fn insert(env: &Env, p: &PaymentMethodRow) -> StoreResult<bool> {
    let changed = execute(
        env,
        "INSERT OR IGNORE INTO payment_methods (id, merchant_id, customer_id, payment_id, \
         card_brand, card_last4, card_exp_month, card_exp_year, card_fingerprint, created, \
         gateway_account_id, gateway_card_reference) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        &[
            text(&p.id),
            text(&p.merchant_id),
            text(&p.customer_id),
            text(&p.payment_id),
            text(p.card_brand.as_str()),
            text(&p.card_last4),
            int(p.card_exp_month),
            int(p.card_exp_year),
            text(&p.card_fingerprint),
            int(p.created),
            opt_text(p.gateway_account_id.as_deref()),
            opt_text(p.gateway_card_reference.as_deref()),
        ],
    )
    .await?;
    Ok(changed == 1)
}

/// Saved cards that may be used: not detached, saved by a payment that was authorized, and not
/// expired (`?1` the year and `?2` the month it is now).
const USABLE: &str = "SELECT m.* FROM payment_methods m JOIN payments p ON p.id = m.payment_id \
     WHERE m.detached_at IS NULL AND p.status IN ('succeeded', 'requires_capture') \
     AND (m.card_exp_year > ?1 OR (m.card_exp_year = ?1 AND m.card_exp_month >= ?2))";

/// `USABLE`'s parameters, then `more` from `?3` on.
fn usable_params(more: &[&str]) -> Vec<JsValue> {
    let now = clock::this_month();
    let mut params = vec![int(i64::from(now.year)), int(i64::from(now.month))];
    params.extend(more.iter().map(|value| text(value)));
    params
}

/// One of the customer's usable saved cards.
pub async fn usable(
    env: &Env,
    merchant_id: &str,
    customer_id: &str,
    id: &str,
) -> StoreResult<Option<PaymentMethodRow>> {
    first(
        env,
        &format!("{USABLE} {OF_CUSTOMER}"),
        &usable_params(&[id, merchant_id, customer_id]),
    )
    .await
}

const OF_CUSTOMER: &str = "AND m.id = ?3 AND m.merchant_id = ?4 AND m.customer_id = ?5";

/// [`usable`], to run in a batch.
pub fn usable_statement(
    env: &Env,
    merchant_id: &str,
    customer_id: &str,
    id: &str,
) -> StoreResult<D1PreparedStatement> {
    statement(
        env,
        &format!("{USABLE} {OF_CUSTOMER}"),
        &usable_params(&[id, merchant_id, customer_id]),
    )
}

/// [`usable`] for the customer of the checkout session `session_id`, as a statement of a batch:
/// the confirm reads it with the session.
pub fn usable_for_session_statement(
    env: &Env,
    merchant_id: &str,
    session_id: &str,
    id: &str,
) -> StoreResult<D1PreparedStatement> {
    statement(
        env,
        &format!(
            "{USABLE} AND m.id = ?3 AND m.merchant_id = ?4 AND m.customer_id = \
             (SELECT customer_id FROM checkout_sessions WHERE id = ?5 AND merchant_id = ?4)"
        ),
        &usable_params(&[id, merchant_id, session_id]),
    )
}

/// The usable card a payment saved (the customer asked to keep it when paying), if any.
pub async fn saved_by(
    env: &Env,
    merchant_id: &str,
    payment_id: &str,
) -> StoreResult<Option<PaymentMethodRow>> {
    first(
        env,
        &format!("{USABLE} AND m.payment_id = ?3 AND m.merchant_id = ?4"),
        &usable_params(&[payment_id, merchant_id]),
    )
    .await
}

/// The customer's usable saved cards, newest first.
pub async fn of_customer(
    env: &Env,
    merchant_id: &str,
    customer_id: &str,
) -> StoreResult<Vec<PaymentMethodRow>> {
    all(
        env,
        &format!("{USABLE} AND m.merchant_id = ?3 AND m.customer_id = ?4 ORDER BY m.seq DESC"),
        &usable_params(&[merchant_id, customer_id]),
    )
    .await
}

/// A saved card of the merchant's, detached or not.
pub async fn find(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<PaymentMethodRow>> {
    first(
        env,
        "SELECT * FROM payment_methods WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

/// Detaches a saved card: it is never offered or charged again. False when it already was.
pub async fn detach(env: &Env, merchant_id: &str, id: &str, now: i64) -> StoreResult<bool> {
    let changed = execute(
        env,
        "UPDATE payment_methods SET detached_at = ?3 \
         WHERE id = ?1 AND merchant_id = ?2 AND detached_at IS NULL",
        &[text(id), text(merchant_id), int(now)],
    )
    .await?;
    Ok(changed == 1)
}
