//! A merchant's API keys: stored as hashes, shown by prefix and last four characters.

use super::audit::{changed_with_entry, AuditRow};
use super::{all, first, int, opt_text, statement, text, transaction, StoreResult};
use serde::Deserialize;
use till_core::api_keys::KeyKind;
use till_core::merchant::ApiKeyView;
use worker::wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, Env};

/// A key to store: everything but the key itself, which only its maker sees.
pub struct NewKeyRow {
    pub id: String,
    pub key_hash: String,
    pub kind: KeyKind,
    pub name: Option<String>,
    pub redacted: String,
    /// JSON array of scope names, restricted keys only.
    pub scopes: Option<String>,
    pub created: i64,
}

const INSERT: &str = "INSERT INTO api_keys (id, key_hash, merchant_id, kind, name, redacted, \
                      scopes, created) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8";

fn insert_params(merchant_id: &str, key: &NewKeyRow) -> [JsValue; 8] {
    [
        text(&key.id),
        text(&key.key_hash),
        text(merchant_id),
        text(key.kind.as_str()),
        opt_text(key.name.as_deref()),
        text(&key.redacted),
        opt_text(key.scopes.as_deref()),
        int(key.created),
    ]
}

pub fn insert_statement(
    env: &Env,
    merchant_id: &str,
    key: &NewKeyRow,
) -> StoreResult<D1PreparedStatement> {
    statement(env, INSERT, &insert_params(merchant_id, key))
}

/// The key row, written only when the batch's previous statement changed one row.
pub fn insert_after_change_statement(
    env: &Env,
    merchant_id: &str,
    key: &NewKeyRow,
) -> StoreResult<D1PreparedStatement> {
    statement(
        env,
        &format!("{INSERT} WHERE changes() = 1"),
        &insert_params(merchant_id, key),
    )
}

#[derive(Clone, Deserialize)]
pub struct KeyRow {
    pub id: String,
    pub key_hash: String,
    pub kind: KeyKind,
    pub name: Option<String>,
    pub redacted: Option<String>,
    pub scopes: Option<String>,
    pub created: i64,
    pub expires: Option<i64>,
    pub rolled_to: Option<String>,
    pub revoked: Option<i64>,
}

impl KeyRow {
    pub fn view(&self) -> ApiKeyView {
        ApiKeyView {
            id: self.id.clone(),
            object: "api_key".into(),
            kind: self.kind,
            name: self.name.clone(),
            redacted: self.redacted.clone(),
            scopes: self
                .scopes
                .as_deref()
                .and_then(|json| serde_json::from_str(json).ok()),
            created: self.created,
            expires: self.expires,
            revoked: self.revoked,
            rolled_to: self.rolled_to.clone(),
            secret: None,
        }
    }
}

const COLUMNS: &str =
    "id, key_hash, kind, name, redacted, scopes, created, expires, rolled_to, revoked";

pub async fn find(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<KeyRow>> {
    first(
        env,
        &format!("SELECT {COLUMNS} FROM api_keys WHERE merchant_id = ?1 AND id = ?2"),
        &[text(merchant_id), text(id)],
    )
    .await
}

/// Every key of the merchant, revoked ones included (the audit trail names them), newest first.
pub async fn list(env: &Env, merchant_id: &str) -> StoreResult<Vec<KeyRow>> {
    all(
        env,
        &format!("SELECT {COLUMNS} FROM api_keys WHERE merchant_id = ?1 ORDER BY created DESC, id"),
        &[text(merchant_id)],
    )
    .await
}

/// Makes a key, with its audit entry.
pub async fn create(
    env: &Env,
    merchant_id: &str,
    key: &NewKeyRow,
    audit: &AuditRow,
) -> StoreResult<()> {
    transaction(
        env,
        vec![
            insert_statement(env, merchant_id, key)?,
            super::audit::insert_statement(env, merchant_id, audit)?,
        ],
    )
    .await
    .map(|_| ())
}

/// Replaces `old_id` by `new`: the old key works until `expires`. False when the old key was
/// already rolled or revoked (a concurrent roll won), in which case nothing is written.
pub async fn roll(
    env: &Env,
    merchant_id: &str,
    old_id: &str,
    expires: i64,
    new: &NewKeyRow,
    audit: &AuditRow,
) -> StoreResult<bool> {
    let changes = transaction(
        env,
        vec![
            statement(
                env,
                "UPDATE api_keys SET expires = ?3, rolled_to = ?4 \
                 WHERE merchant_id = ?1 AND id = ?2 AND rolled_to IS NULL AND revoked IS NULL",
                &[text(merchant_id), text(old_id), int(expires), text(&new.id)],
            )?,
            insert_after_change_statement(env, merchant_id, new)?,
            super::audit::insert_after_change_statement(env, merchant_id, audit)?,
        ],
    )
    .await?;
    Ok(changes.first() == Some(&1))
}

/// Revokes a key now. False when it was already revoked.
pub async fn revoke(
    env: &Env,
    merchant_id: &str,
    id: &str,
    now: i64,
    audit: &AuditRow,
) -> StoreResult<bool> {
    let revoke = statement(
        env,
        "UPDATE api_keys SET revoked = ?3 WHERE merchant_id = ?1 AND id = ?2 AND revoked IS NULL",
        &[text(merchant_id), text(id), int(now)],
    )?;
    changed_with_entry(env, merchant_id, revoke, audit).await
}
