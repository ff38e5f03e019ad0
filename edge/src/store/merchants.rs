//! Merchants, their API keys and registered origins, and the card nonces their tokens used.

use super::{all, execute, first, int, text, StoreResult};
use serde::Deserialize;
use till_core::api_keys::KeyKind;
use worker::Env;

#[derive(Clone, Deserialize)]
pub struct MerchantKey {
    pub merchant_id: String,
    pub merchant_name: String,
    pub kind: KeyKind,
    /// JSON of the merchant's own rate limits, when it has any.
    pub rate_limits: Option<String>,
}

pub async fn by_key_hash(env: &Env, key_hash: &str) -> StoreResult<Option<MerchantKey>> {
    first(
        env,
        "SELECT m.id AS merchant_id, m.name AS merchant_name, k.kind AS kind, \
         m.rate_limits AS rate_limits \
         FROM api_keys k JOIN merchants m ON m.id = k.merchant_id WHERE k.key_hash = ?1",
        &[text(key_hash)],
    )
    .await
}

#[derive(Deserialize)]
struct IdRow {
    id: String,
}

pub async fn ids(env: &Env) -> StoreResult<Vec<String>> {
    Ok(all::<IdRow>(env, "SELECT id FROM merchants", &[])
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect())
}

#[derive(Deserialize)]
struct OriginRow {
    origin: String,
}

/// The origins a merchant registered (for `frame-ancestors` and CORS).
pub async fn origins(env: &Env, merchant_id: &str) -> StoreResult<Vec<String>> {
    let rows = all::<OriginRow>(
        env,
        "SELECT origin FROM merchant_origins WHERE merchant_id = ?1 ORDER BY origin",
        &[text(merchant_id)],
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.origin).collect())
}

/// Whether any merchant registered `origin` (CORS preflights carry no key).
pub async fn origin_registered(env: &Env, origin: &str) -> StoreResult<bool> {
    let row: Option<OriginRow> = first(
        env,
        "SELECT origin FROM merchant_origins WHERE origin = ?1 LIMIT 1",
        &[text(origin)],
    )
    .await?;
    Ok(row.is_some())
}

/// Records an encrypted card's nonce; false when it was seen before (a replay).
pub async fn first_use_of_nonce(env: &Env, nonce: &str, now: i64) -> StoreResult<bool> {
    execute(
        env,
        "DELETE FROM card_nonces WHERE seen < ?1",
        &[int(now
            - till_core::card::PAYLOAD_MAX_AGE_SECONDS
            - till_core::card::PAYLOAD_MAX_SKEW_SECONDS)],
    )
    .await?;
    let inserted = execute(
        env,
        "INSERT OR IGNORE INTO card_nonces (nonce, seen) VALUES (?1, ?2)",
        &[text(nonce), int(now)],
    )
    .await?;
    Ok(inserted == 1)
}

#[derive(Deserialize)]
struct TransferLimitsRow {
    transfer_limits: Option<String>,
}

/// JSON of the merchant's own transfer limits, when it set any.
pub async fn transfer_limits(env: &Env, merchant_id: &str) -> StoreResult<Option<String>> {
    let row: Option<TransferLimitsRow> = first(
        env,
        "SELECT transfer_limits FROM merchants WHERE id = ?1",
        &[text(merchant_id)],
    )
    .await?;
    Ok(row.and_then(|r| r.transfer_limits))
}
