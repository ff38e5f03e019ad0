//! Customer sessions: the short-lived secrets that let the widget show one customer's cards and
//! the hosted wallet page act for them.

use super::{execute, first, int, opt_text, text, StoreResult};
use serde::Deserialize;
use worker::Env;

#[derive(Debug, Clone, Deserialize)]
pub struct CustomerSessionRow {
    pub id: String,
    pub merchant_id: String,
    pub customer_id: String,
    pub client_secret_hash: String,
    pub expires_at: i64,
    /// 1: the session may use the wallet.
    pub wallet: i64,
    pub return_url: Option<String>,
    /// 1: the session may see and change the customer's subscriptions.
    pub subscriptions: i64,
}

pub async fn insert(env: &Env, s: &CustomerSessionRow, now: i64) -> StoreResult<()> {
    execute(
        env,
        "INSERT INTO customer_sessions (id, merchant_id, customer_id, client_secret_hash, \
         expires_at, created, wallet, return_url, subscriptions) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &[
            text(&s.id),
            text(&s.merchant_id),
            text(&s.customer_id),
            text(&s.client_secret_hash),
            int(s.expires_at),
            int(now),
            int(s.wallet),
            opt_text(s.return_url.as_deref()),
            int(s.subscriptions),
        ],
    )
    .await
    .map(|_| ())
}

pub async fn find(
    env: &Env,
    merchant_id: &str,
    id: &str,
) -> StoreResult<Option<CustomerSessionRow>> {
    first(
        env,
        "SELECT * FROM customer_sessions WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}
