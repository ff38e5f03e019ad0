//! Merchants, their API keys and registered origins, and the card nonces their tokens used.

use super::api_keys::NewKeyRow;
use super::audit::{changed_with_entry, AuditRow};
use super::{all, execute, first, int, statement, text, transaction, StoreResult};
use serde::Deserialize;
use till_core::api_keys::KeyKind;
use worker::Env;

#[derive(Clone, Deserialize)]
pub struct MerchantKey {
    pub key_id: String,
    pub merchant_id: String,
    pub merchant_name: String,
    pub kind: KeyKind,
    /// JSON array of scope names, for restricted keys.
    pub scopes: Option<String>,
    /// When a rolled key stops working.
    pub expires: Option<i64>,
    pub revoked: Option<i64>,
    /// JSON of the merchant's own rate limits, when it has any.
    pub rate_limits: Option<String>,
}

impl MerchantKey {
    /// Neither revoked nor past the expiry a roll gave it.
    pub fn is_active(&self, now: i64) -> bool {
        self.revoked.is_none() && self.expires.is_none_or(|expires| expires > now)
    }
}

pub async fn by_key_hash(env: &Env, key_hash: &str) -> StoreResult<Option<MerchantKey>> {
    first(
        env,
        "SELECT k.id AS key_id, m.id AS merchant_id, m.name AS merchant_name, k.kind AS kind, \
         k.scopes AS scopes, k.expires AS expires, k.revoked AS revoked, \
         m.rate_limits AS rate_limits \
         FROM api_keys k JOIN merchants m ON m.id = k.merchant_id WHERE k.key_hash = ?1",
        &[text(key_hash)],
    )
    .await
}

/// A new merchant with its first keys, origins and the audit entry that says who made it: all
/// or nothing.
pub async fn create(
    env: &Env,
    merchant: &MerchantRow,
    keys: &[&NewKeyRow],
    audit: &AuditRow,
) -> StoreResult<()> {
    let mut statements = vec![statement(
        env,
        "INSERT INTO merchants (id, name, created) VALUES (?1, ?2, ?3)",
        &[
            text(&merchant.id),
            text(&merchant.name),
            int(merchant.created),
        ],
    )?];
    for key in keys {
        statements.push(super::api_keys::insert_statement(env, &merchant.id, key)?);
    }
    for origin in &merchant.origins {
        statements.push(add_origin_statement(env, &merchant.id, origin)?);
    }
    statements.push(super::audit::insert_statement(env, &merchant.id, audit)?);
    transaction(env, statements).await.map(|_| ())
}

/// A merchant as onboarding made it.
pub struct MerchantRow {
    pub id: String,
    pub name: String,
    pub origins: Vec<String>,
    pub created: i64,
}

fn add_origin_statement(
    env: &Env,
    merchant_id: &str,
    origin: &str,
) -> StoreResult<worker::D1PreparedStatement> {
    statement(
        env,
        "INSERT OR IGNORE INTO merchant_origins (merchant_id, origin) VALUES (?1, ?2)",
        &[text(merchant_id), text(origin)],
    )
}

/// How adding an origin went.
pub enum OriginAdded {
    Added,
    AlreadyThere,
    /// The merchant has [`till_core::merchant::MAX_ORIGINS`] already.
    Full,
}

/// Adds an origin unless the merchant has the most it may; the audit entry only if it was new.
pub async fn add_origin(
    env: &Env,
    merchant_id: &str,
    origin: &str,
    audit: &AuditRow,
) -> StoreResult<OriginAdded> {
    let max = i64::try_from(till_core::merchant::MAX_ORIGINS).unwrap_or(i64::MAX);
    let insert = statement(
        env,
        "INSERT OR IGNORE INTO merchant_origins (merchant_id, origin) \
         SELECT ?1, ?2 WHERE (SELECT COUNT(*) FROM merchant_origins \
         WHERE merchant_id = ?1) < ?3",
        &[text(merchant_id), text(origin), int(max)],
    )?;
    if changed_with_entry(env, merchant_id, insert, audit).await? {
        return Ok(OriginAdded::Added);
    }
    let known = origins(env, merchant_id).await?;
    Ok(if known.iter().any(|o| o == origin) {
        OriginAdded::AlreadyThere
    } else {
        OriginAdded::Full
    })
}

/// Removes an origin; false when the merchant did not have it.
pub async fn remove_origin(
    env: &Env,
    merchant_id: &str,
    origin: &str,
    audit: &AuditRow,
) -> StoreResult<bool> {
    let delete = statement(
        env,
        "DELETE FROM merchant_origins WHERE merchant_id = ?1 AND origin = ?2",
        &[text(merchant_id), text(origin)],
    )?;
    changed_with_entry(env, merchant_id, delete, audit).await
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

/// Records an encrypted card's nonce; false when it was seen before (a replay). Nonces too old
/// to be replayed are deleted by the cron (`retention.rs`), not here: one statement.
pub async fn first_use_of_nonce(env: &Env, nonce: &str, now: i64) -> StoreResult<bool> {
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

#[derive(Deserialize)]
struct HostedPagesKeyRow {
    hosted_pages_key: Option<String>,
}

/// The publishable key Till puts in the links it e-mails the merchant's customers.
pub async fn hosted_pages_key(env: &Env, merchant_id: &str) -> StoreResult<Option<String>> {
    let row: Option<HostedPagesKeyRow> = first(
        env,
        "SELECT hosted_pages_key FROM merchants WHERE id = ?1",
        &[text(merchant_id)],
    )
    .await?;
    Ok(row.and_then(|r| r.hosted_pages_key))
}

/// Makes `key` the hosted pages key in place of `old` (none, or one no longer active), with
/// its key row and audit entry; nothing is written when another maker replaced `old` first.
pub async fn replace_hosted_pages_key(
    env: &Env,
    merchant_id: &str,
    old: Option<&str>,
    key: &str,
    row: &NewKeyRow,
    audit: &AuditRow,
) -> StoreResult<bool> {
    let changes = transaction(
        env,
        vec![
            statement(
                env,
                "UPDATE merchants SET hosted_pages_key = ?3 \
                 WHERE id = ?1 AND hosted_pages_key IS ?2",
                &[text(merchant_id), super::opt_text(old), text(key)],
            )?,
            super::api_keys::insert_after_change_statement(env, merchant_id, row)?,
            super::audit::insert_after_change_statement(env, merchant_id, audit)?,
        ],
    )
    .await?;
    Ok(changes.first() == Some(&1))
}

#[derive(Deserialize)]
struct DunningRow {
    dunning: Option<String>,
}

/// The merchant's dunning schedule (JSON), when it set one.
pub async fn dunning(env: &Env, merchant_id: &str) -> StoreResult<Option<String>> {
    let row: Option<DunningRow> = first(
        env,
        "SELECT dunning FROM merchants WHERE id = ?1",
        &[text(merchant_id)],
    )
    .await?;
    Ok(row.and_then(|r| r.dunning))
}

/// Sets the merchant's dunning schedule and gives it to every subscription that follows it and
/// has not ended, with the audit entry: all or nothing.
pub async fn set_dunning(
    env: &Env,
    merchant_id: &str,
    dunning: &str,
    audit: &AuditRow,
) -> StoreResult<()> {
    transaction(
        env,
        vec![
            statement(
                env,
                "UPDATE merchants SET dunning = ?2 WHERE id = ?1",
                &[text(merchant_id), text(dunning)],
            )?,
            statement(
                env,
                "UPDATE subscriptions SET dunning = ?2 WHERE merchant_id = ?1 \
                 AND own_dunning = 0 AND status NOT IN ('canceled', 'incomplete_expired')",
                &[text(merchant_id), text(dunning)],
            )?,
            super::audit::insert_statement(env, merchant_id, audit)?,
        ],
    )
    .await
    .map(|_| ())
}
