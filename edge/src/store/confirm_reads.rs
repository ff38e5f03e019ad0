//! What a confirm reads from D1 before it may pay, in one round trip: the session, a payment the
//! idempotency key already made, the session's customer, the merchant's gateway account and risk
//! rules, and the saved card it asks to pay with. One batch is one consistent snapshot, and one
//! request to the database instead of six.

use super::customers::{self, CustomerRow};
use super::gateway_accounts::{self, GatewayAccountRow};
use super::payment_methods::{self, PaymentMethodRow};
use super::payments::{self, PaymentRow};
use super::sessions::{self, SessionRow};
use super::{batch, risk_rules, rows_of, StoreError, StoreResult};
use till_core::risk::StoredRule;
use worker::Env;

pub struct ConfirmReads {
    pub session: Option<SessionRow>,
    pub existing: Option<PaymentRow>,
    pub customer: Option<CustomerRow>,
    pub gateway_account: Option<GatewayAccountRow>,
    pub rules: Vec<StoredRule>,
    /// The saved card asked for, if the session's customer may pay with it.
    pub saved_card: Option<PaymentMethodRow>,
}

/// `saved_card`: the id of the saved card the confirm asks to pay with, if any.
pub async fn load(
    env: &Env,
    merchant_id: &str,
    session_id: &str,
    idempotency_key: &str,
    saved_card: Option<&str>,
) -> StoreResult<ConfirmReads> {
    let mut statements = vec![
        sessions::find_statement(env, merchant_id, session_id)?,
        payments::by_idempotency_key_statement(env, merchant_id, idempotency_key)?,
        customers::of_session_statement(env, merchant_id, session_id)?,
        gateway_accounts::of_merchant_statement(env, merchant_id)?,
        risk_rules::list_statement(env, merchant_id)?,
    ];
    if let Some(id) = saved_card {
        statements.push(payment_methods::usable_for_session_statement(
            env,
            merchant_id,
            session_id,
            id,
        )?);
    }
    let results = batch(env, statements).await?;
    let (session, existing, customer, gateway_account, rules, saved) = match results.as_slice() {
        [session, existing, customer, gateway_account, rules] => {
            (session, existing, customer, gateway_account, rules, None)
        }
        [session, existing, customer, gateway_account, rules, saved] => (
            session,
            existing,
            customer,
            gateway_account,
            rules,
            Some(saved),
        ),
        _ => return Err(StoreError::new("batch", "not one result per statement")),
    };
    Ok(ConfirmReads {
        session: rows_of(session)?.into_iter().next(),
        existing: rows_of(existing)?.into_iter().next(),
        customer: rows_of(customer)?.into_iter().next(),
        gateway_account: rows_of(gateway_account)?.into_iter().next(),
        rules: risk_rules::from_batch(rules)?,
        saved_card: match saved {
            Some(saved) => rows_of(saved)?.into_iter().next(),
            None => None,
        },
    })
}
