//! What charging a customer's saved card without the widget (the merchant's off-session charge,
//! a renewal, a transfer paid by card) reads from D1 before it may pay, in one round trip: the
//! payment an earlier try of the same charge made, the card's row if the customer may use it,
//! the customer, and the merchant's gateway account and risk rules. One batch is one consistent
//! snapshot, and one request to the database instead of five in a row.

use super::customers::{self, CustomerRow};
use super::gateway_accounts::{self, GatewayAccountRow};
use super::payment_methods::{self, PaymentMethodRow};
use super::payments::{self, PaymentRow};
use super::{batch, risk_rules, rows_of, StoreError, StoreResult};
use till_core::risk::StoredRule;
use worker::Env;

pub struct ChargeReads {
    /// The payment an earlier try of this charge made, if one did.
    pub earlier: Option<PaymentRow>,
    /// The saved card, if the customer may pay with it (`payment_methods::usable`).
    pub saved_card: Option<PaymentMethodRow>,
    pub customer: Option<CustomerRow>,
    pub gateway_account: Option<GatewayAccountRow>,
    pub rules: Vec<StoredRule>,
}

/// How the payment an earlier try of the same charge made is found.
pub enum Earlier<'a> {
    /// By the merchant's idempotency key (its off-session charges).
    IdempotencyKey(&'a str),
    /// By the id the charge's payment was given before it started (renewals, transfers).
    Id(&'a str),
}

pub async fn load(
    env: &Env,
    merchant_id: &str,
    customer_id: &str,
    payment_method_id: &str,
    earlier: Earlier<'_>,
) -> StoreResult<ChargeReads> {
    let earlier = match earlier {
        Earlier::IdempotencyKey(key) => {
            payments::by_idempotency_key_statement(env, merchant_id, key)?
        }
        Earlier::Id(id) => payments::find_statement(env, merchant_id, id)?,
    };
    let statements = vec![
        earlier,
        payment_methods::usable_statement(env, merchant_id, customer_id, payment_method_id)?,
        customers::find_statement(env, merchant_id, customer_id)?,
        gateway_accounts::of_merchant_statement(env, merchant_id)?,
        risk_rules::list_statement(env, merchant_id)?,
    ];
    let results = batch(env, statements).await?;
    let [earlier, saved_card, customer, gateway_account, rules] = results.as_slice() else {
        return Err(StoreError::new("batch", "not one result per statement"));
    };
    Ok(ChargeReads {
        earlier: rows_of(earlier)?.into_iter().next(),
        saved_card: rows_of(saved_card)?.into_iter().next(),
        customer: rows_of(customer)?.into_iter().next(),
        gateway_account: rows_of(gateway_account)?.into_iter().next(),
        rules: risk_rules::from_batch(rules)?,
    })
}
