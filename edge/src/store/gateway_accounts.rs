//! Merchants' own gateway accounts (connector and sealed credentials).

use super::{execute, first, int, statement, text, StoreResult};
use serde::Deserialize;
use worker::{D1PreparedStatement, Env};

#[derive(Debug, Clone, Deserialize)]
pub struct GatewayAccountRow {
    pub id: String,
    pub merchant_id: String,
    /// A name in the connector registry (`connectors::NAMES`).
    pub connector: String,
    pub sealed_credentials: String,
    pub created: i64,
    pub updated: i64,
}

pub async fn by_id(env: &Env, id: &str) -> StoreResult<Option<GatewayAccountRow>> {
    first(
        env,
        "SELECT * FROM gateway_accounts WHERE id = ?1",
        &[text(id)],
    )
    .await
}

pub async fn of_merchant(env: &Env, merchant_id: &str) -> StoreResult<Option<GatewayAccountRow>> {
    first(env, OF_MERCHANT, &[text(merchant_id)]).await
}

const OF_MERCHANT: &str = "SELECT * FROM gateway_accounts WHERE merchant_id = ?1";

/// [`of_merchant`], to run in a batch.
pub fn of_merchant_statement(env: &Env, merchant_id: &str) -> StoreResult<D1PreparedStatement> {
    statement(env, OF_MERCHANT, &[text(merchant_id)])
}

/// Stores a merchant's gateway account; a merchant has one, so a second replaces the first
/// (same id: payments made through it now use the new credentials, as after a key rotation).
pub async fn save(env: &Env, a: &GatewayAccountRow) -> StoreResult<()> {
    execute(
        env,
        "INSERT INTO gateway_accounts (id, merchant_id, connector, sealed_credentials, created, \
         updated) VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (merchant_id) DO UPDATE SET \
         connector = excluded.connector, sealed_credentials = excluded.sealed_credentials, \
         updated = excluded.updated",
        &[
            text(&a.id),
            text(&a.merchant_id),
            text(&a.connector),
            text(&a.sealed_credentials),
            int(a.created),
        ],
    )
    .await
    .map(|_| ())
}
