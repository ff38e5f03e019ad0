//! `/v1/api_keys` and `/v1/audit_log` (full secret key only): a merchant makes, rolls and
//! revokes its own keys, and reads who changed what.
//!
//! A new key is shown once, in the answer that made it; Till keeps only its hash. So these
//! requests take no Idempotency-Key: replaying the answer would mean storing the key. A retried
//! create makes a second key (list and revoke the spare); a retried roll answers
//! `api_key_inactive`, and the replacement is in the list (`rolled_to`).

use crate::auth::{self, Caller};
use crate::http::{body_value, json, page_param, parse, ApiResult};
use crate::store::api_keys::{KeyRow, NewKeyRow};
use crate::store::audit::AuditRow;
use crate::{clock, random, store};
use till_core::api::List;
use till_core::api_keys::{hash_secret, new_key, redact, KeyKind, Scope};
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::{self, IdKind};
use till_core::merchant::{ApiKeyView, CreateApiKey, RollApiKey};
use worker::{Env, Request};

/// A fresh key to store, and the key itself for the one answer that shows it.
pub fn mint(
    kind: KeyKind,
    name: Option<String>,
    scopes: &[Scope],
    now: i64,
) -> Result<(NewKeyRow, String), ApiError> {
    let key = new_key(kind, random::bytes()?);
    let scopes = (kind == KeyKind::Restricted)
        .then(|| {
            let names: Vec<String> = scopes.iter().map(|s| s.name()).collect();
            serde_json::to_string(&names)
        })
        .transpose()
        .map_err(|_| ApiError::internal())?;
    let row = NewKeyRow {
        id: random::id(IdKind::ApiKey)?,
        key_hash: hash_secret(&key),
        kind,
        name,
        redacted: redact(&key),
        scopes,
        created: now,
    };
    Ok((row, key))
}

/// The view of a key just made, with the key in it (the only time it is shown).
pub fn shown_once(row: &NewKeyRow, key: String) -> ApiKeyView {
    ApiKeyView {
        id: row.id.clone(),
        object: "api_key".into(),
        kind: row.kind,
        name: row.name.clone(),
        redacted: Some(row.redacted.clone()),
        scopes: row
            .scopes
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok()),
        created: row.created,
        expires: None,
        revoked: None,
        rolled_to: None,
        secret: Some(key),
    }
}

pub fn audit(
    caller: &Caller,
    action: &'static str,
    target: &str,
    now: i64,
) -> Result<AuditRow, ApiError> {
    Ok(AuditRow {
        id: random::id(IdKind::AuditEntry)?,
        actor: caller.audit_actor(),
        action,
        target: target.to_string(),
        created: now,
    })
}

async fn find(env: &Env, caller: &Caller, id: &str) -> Result<KeyRow, ApiError> {
    let missing = || ApiError::not_found("API key");
    if !ids::is_valid(IdKind::ApiKey, id) {
        return Err(missing());
    }
    store::api_keys::find(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing)
}

/// `GET /v1/api_keys`: every key, newest first, revoked and expired ones too.
pub async fn list(env: &Env, caller: &Caller) -> ApiResult {
    let keys: Vec<ApiKeyView> = store::api_keys::list(env, &caller.merchant_id)
        .await?
        .iter()
        .map(KeyRow::view)
        .collect();
    let count = keys.len();
    json(200, &List::page(keys, count))
}

/// `POST /v1/api_keys`.
pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: CreateApiKey = parse(body_value(&mut req).await?)?;
    let wanted = request.validate()?;
    let now = clock::now_seconds();
    let (row, key) = mint(wanted.kind, wanted.name, &wanted.scopes, now)?;
    let entry = audit(caller, "api_key.created", &row.id, now)?;
    store::api_keys::create(env, &caller.merchant_id, &row, &entry).await?;
    json(200, &shown_once(&row, key))
}

/// `POST /v1/api_keys/:id/roll`: a new key of the same kind, name and scopes; the old one works
/// for `expires_in` more seconds.
pub async fn roll(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let request: RollApiKey = parse(body_value(&mut req).await?)?;
    let expires_in = request.validate()?;
    let old = find(env, caller, id).await?;
    if old.revoked.is_some() || old.rolled_to.is_some() {
        return Err(ApiError::new(ErrorCode::ApiKeyInactive));
    }
    let scopes: Vec<Scope> = old
        .view()
        .scopes
        .unwrap_or_default()
        .iter()
        .filter_map(|name| Scope::parse(name))
        .collect();
    let now = clock::now_seconds();
    let (row, key) = mint(old.kind, old.name.clone(), &scopes, now)?;
    let entry = audit(caller, "api_key.rolled", &old.id, now)?;
    let rolled = store::api_keys::roll(
        env,
        &caller.merchant_id,
        &old.id,
        now + expires_in,
        &row,
        &entry,
    )
    .await?;
    if !rolled {
        return Err(ApiError::new(ErrorCode::ApiKeyInactive));
    }
    auth::forget_key(&old.key_hash);
    json(200, &shown_once(&row, key))
}

/// `POST /v1/api_keys/:id/revoke`: the key stops working now (on other isolates within the
/// lookup cache's 30 seconds). A key cannot revoke itself, so a merchant is never locked out by
/// one request.
pub async fn revoke(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let key = find(env, caller, id).await?;
    if caller.key_id() == Some(key.id.as_str()) {
        return Err(ApiError::new(ErrorCode::ApiKeyInUse));
    }
    let now = clock::now_seconds();
    let entry = audit(caller, "api_key.revoked", &key.id, now)?;
    store::api_keys::revoke(env, &caller.merchant_id, &key.id, now, &entry).await?;
    auth::forget_key(&key.key_hash);
    json(200, &find(env, caller, id).await?.view())
}

/// `GET /v1/audit_log?limit=&starting_after=`: newest first.
pub async fn audit_log(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let page = page_param(&req, IdKind::AuditEntry)?;
    let entries = store::audit::list(
        env,
        &caller.merchant_id,
        page.starting_after.as_deref(),
        page.limit + 1,
    )
    .await?
    .ok_or_else(ApiError::cursor_invalid)?;
    json(200, &List::page(entries, page.limit))
}
