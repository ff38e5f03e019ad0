//! What a confirm reads from D1 before it may pay, in one round trip: the session, a payment the
//! idempotency key already made, the session's customer, the merchant's gateway account and risk
//! rules. One batch is one consistent snapshot, and one request to the database instead of five.

use super::customers::{self, CustomerRow};
use super::gateway_accounts::{self, GatewayAccountRow};
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
}

pub async fn load(
    env: &Env,
    merchant_id: &str,
    session_id: &str,
    idempotency_key: &str,
) -> StoreResult<ConfirmReads> {
    let statements = vec![
        sessions::find_statement(env, merchant_id, session_id)?,
        payments::by_idempotency_key_statement(env, merchant_id, idempotency_key)?,
        customers::of_session_statement(env, merchant_id, session_id)?,
        gateway_accounts::of_merchant_statement(env, merchant_id)?,
        risk_rules::list_statement(env, merchant_id)?,
    ];
    let results = batch(env, statements).await?;
    let [session, existing, customer, gateway_account, rules] = results.as_slice() else {
        return Err(StoreError::new("batch", "not one result per statement"));
    };
    Ok(ConfirmReads {
        session: rows_of(session)?.into_iter().next(),
        existing: rows_of(existing)?.into_iter().next(),
        customer: rows_of(customer)?.into_iter().next(),
        gateway_account: rows_of(gateway_account)?.into_iter().next(),
        rules: risk_rules::from_batch(rules)?,
    })
}
