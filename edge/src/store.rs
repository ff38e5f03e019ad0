//! D1: merchants, sessions, payments and idempotency records. SQL lives here and nowhere else.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use till_core::error::ApiError;
use till_core::idempotency::Stored;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env};

fn db(env: &Env) -> Result<D1Database, ApiError> {
    env.d1("DB").map_err(|e| storage_error("binding", e))
}

fn storage_error(what: &str, error: worker::Error) -> ApiError {
    worker::console_error!("d1 {what}: {error}");
    ApiError::internal()
}

fn text(value: &str) -> JsValue {
    JsValue::from_str(value)
}

fn opt_text(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from_str)
}

fn int(value: i64) -> JsValue {
    // Every integer Till stores (amounts ≤ 1e11, Unix seconds) is exact in a JS number.
    JsValue::from_f64(value as f64)
}

fn statement(env: &Env, sql: &str, params: &[JsValue]) -> Result<D1PreparedStatement, ApiError> {
    db(env)?
        .prepare(sql)
        .bind(params)
        .map_err(|e| storage_error("bind", e))
}

async fn first<T: DeserializeOwned>(
    env: &Env,
    sql: &str,
    params: &[JsValue],
) -> Result<Option<T>, ApiError> {
    statement(env, sql, params)?
        .first::<T>(None)
        .await
        .map_err(|e| storage_error("query", e))
}

/// Runs a write and returns how many rows it changed.
async fn execute(env: &Env, sql: &str, params: &[JsValue]) -> Result<usize, ApiError> {
    let result = statement(env, sql, params)?
        .run()
        .await
        .map_err(|e| storage_error("write", e))?;
    Ok(result
        .meta()
        .ok()
        .flatten()
        .and_then(|meta| meta.changes)
        .unwrap_or(0))
}

#[derive(Deserialize)]
pub struct MerchantKey {
    pub merchant_id: String,
    pub merchant_name: String,
    pub kind: String,
}

pub async fn merchant_by_key_hash(
    env: &Env,
    key_hash: &str,
) -> Result<Option<MerchantKey>, ApiError> {
    first(
        env,
        "SELECT m.id AS merchant_id, m.name AS merchant_name, k.kind AS kind \
         FROM api_keys k JOIN merchants m ON m.id = k.merchant_id WHERE k.key_hash = ?1",
        &[text(key_hash)],
    )
    .await
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionRow {
    pub id: String,
    pub merchant_id: String,
    pub client_secret_hash: String,
    pub amount: i64,
    pub currency: String,
    pub line_items: String,
    pub return_url: Option<String>,
    pub merchant_reference: Option<String>,
    pub status: String,
    pub payment_id: Option<String>,
    pub created: i64,
}

pub async fn insert_session(env: &Env, s: &SessionRow) -> Result<(), ApiError> {
    execute(
        env,
        "INSERT INTO checkout_sessions (id, merchant_id, client_secret_hash, amount, currency, \
         line_items, return_url, merchant_reference, status, payment_id, created) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?10)",
        &[
            text(&s.id),
            text(&s.merchant_id),
            text(&s.client_secret_hash),
            int(s.amount),
            text(&s.currency),
            text(&s.line_items),
            opt_text(s.return_url.as_deref()),
            opt_text(s.merchant_reference.as_deref()),
            text(&s.status),
            int(s.created),
        ],
    )
    .await
    .map(|_| ())
}

pub async fn session(
    env: &Env,
    merchant_id: &str,
    id: &str,
) -> Result<Option<SessionRow>, ApiError> {
    first(
        env,
        "SELECT * FROM checkout_sessions WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

/// Reserves an open session for one payment; true when this payment holds it (also when it
/// already did, for a retry of the same payment).
pub async fn claim_session(env: &Env, id: &str, payment_id: &str) -> Result<bool, ApiError> {
    let changed = execute(
        env,
        "UPDATE checkout_sessions SET status = 'processing', payment_id = ?2 \
         WHERE id = ?1 AND (status = 'open' OR (status = 'processing' AND payment_id = ?2))",
        &[text(id), text(payment_id)],
    )
    .await?;
    Ok(changed == 1)
}

/// After the gateway's answer: `complete` on success, back to `open` on a decline.
pub async fn settle_session(
    env: &Env,
    id: &str,
    payment_id: &str,
    paid: bool,
) -> Result<(), ApiError> {
    let sql = if paid {
        "UPDATE checkout_sessions SET status = 'complete' WHERE id = ?1 AND payment_id = ?2"
    } else {
        "UPDATE checkout_sessions SET status = 'open', payment_id = NULL \
         WHERE id = ?1 AND payment_id = ?2 AND status = 'processing'"
    };
    execute(env, sql, &[text(id), text(payment_id)])
        .await
        .map(|_| ())
}

#[derive(Debug, Clone, Deserialize)]
pub struct PaymentRow {
    pub id: String,
    pub merchant_id: String,
    pub checkout_session_id: String,
    pub idempotency_key: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub card_brand: String,
    pub card_last4: String,
    pub card_exp_month: i64,
    pub card_exp_year: i64,
    pub gateway_reference: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub created: i64,
    pub updated: i64,
}

/// Inserts the payment unless one exists for the same (merchant, idempotency key).
pub async fn insert_payment(env: &Env, p: &PaymentRow) -> Result<bool, ApiError> {
    let changed = execute(
        env,
        "INSERT OR IGNORE INTO payments (id, merchant_id, checkout_session_id, idempotency_key, \
         amount, currency, status, card_brand, card_last4, card_exp_month, card_exp_year, \
         gateway_reference, failure_code, failure_message, created, updated) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, NULL, NULL, ?12, ?12)",
        &[
            text(&p.id),
            text(&p.merchant_id),
            text(&p.checkout_session_id),
            text(&p.idempotency_key),
            int(p.amount),
            text(&p.currency),
            text(&p.status),
            text(&p.card_brand),
            text(&p.card_last4),
            int(p.card_exp_month),
            int(p.card_exp_year),
            int(p.created),
        ],
    )
    .await?;
    Ok(changed == 1)
}

pub async fn payment(
    env: &Env,
    merchant_id: &str,
    id: &str,
) -> Result<Option<PaymentRow>, ApiError> {
    first(
        env,
        "SELECT * FROM payments WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

pub async fn payment_by_idempotency_key(
    env: &Env,
    merchant_id: &str,
    key: &str,
) -> Result<Option<PaymentRow>, ApiError> {
    first(
        env,
        "SELECT * FROM payments WHERE merchant_id = ?1 AND idempotency_key = ?2",
        &[text(merchant_id), text(key)],
    )
    .await
}

/// Records the gateway's answer; only a payment still in `from` moves (the state machine has
/// already approved `from -> p.status`).
pub async fn record_outcome(env: &Env, p: &PaymentRow, from: &str) -> Result<bool, ApiError> {
    let changed = execute(
        env,
        "UPDATE payments SET status = ?2, gateway_reference = ?3, failure_code = ?4, \
         failure_message = ?5, updated = ?6 WHERE id = ?1 AND status = ?7",
        &[
            text(&p.id),
            text(&p.status),
            opt_text(p.gateway_reference.as_deref()),
            opt_text(p.failure_code.as_deref()),
            opt_text(p.failure_message.as_deref()),
            int(p.updated),
            text(from),
        ],
    )
    .await?;
    Ok(changed == 1)
}

/// The scope of an idempotency record.
pub struct IdempotencyScope<'a> {
    pub merchant_id: &'a str,
    pub endpoint: &'a str,
    pub key: &'a str,
}

pub enum Begin {
    /// This request is the first with the key: it owns the record until it completes it.
    First,
    Existing(Stored),
}

#[derive(Deserialize)]
struct IdempotencyRow {
    fingerprint: String,
    state: String,
    response_status: Option<i64>,
    response_body: Option<String>,
}

pub async fn begin_idempotent(
    env: &Env,
    scope: &IdempotencyScope<'_>,
    fingerprint: &str,
    now: i64,
) -> Result<Begin, ApiError> {
    let params = [
        text(scope.merchant_id),
        text(scope.endpoint),
        text(scope.key),
    ];
    let inserted = execute(
        env,
        "INSERT OR IGNORE INTO idempotency_records (merchant_id, endpoint, idempotency_key, \
         fingerprint, state, created) VALUES (?1, ?2, ?3, ?4, 'in_flight', ?5)",
        &[
            params[0].clone(),
            params[1].clone(),
            params[2].clone(),
            text(fingerprint),
            int(now),
        ],
    )
    .await?;
    if inserted == 1 {
        return Ok(Begin::First);
    }
    let row: IdempotencyRow = first(
        env,
        "SELECT fingerprint, state, response_status, response_body FROM idempotency_records \
         WHERE merchant_id = ?1 AND endpoint = ?2 AND idempotency_key = ?3",
        &params,
    )
    .await?
    .ok_or_else(ApiError::internal)?;
    Ok(Begin::Existing(
        match (row.state.as_str(), row.response_status, row.response_body) {
            ("done", Some(status), Some(body)) => Stored::Done {
                fingerprint: row.fingerprint,
                status: u16::try_from(status).unwrap_or(500),
                body,
            },
            _ => Stored::InFlight {
                fingerprint: row.fingerprint,
            },
        },
    ))
}

pub async fn complete_idempotent(
    env: &Env,
    scope: &IdempotencyScope<'_>,
    status: u16,
    body: &str,
) -> Result<(), ApiError> {
    execute(
        env,
        "UPDATE idempotency_records SET state = 'done', response_status = ?4, response_body = ?5 \
         WHERE merchant_id = ?1 AND endpoint = ?2 AND idempotency_key = ?3",
        &[
            text(scope.merchant_id),
            text(scope.endpoint),
            text(scope.key),
            int(i64::from(status)),
            text(body),
        ],
    )
    .await
    .map(|_| ())
}

/// Forgets an in-flight record whose request ended without a stored outcome (validation
/// failures, or a gateway that did not answer), so the client can retry with the same key.
pub async fn release_idempotent(env: &Env, scope: &IdempotencyScope<'_>) -> Result<(), ApiError> {
    execute(
        env,
        "DELETE FROM idempotency_records WHERE merchant_id = ?1 AND endpoint = ?2 \
         AND idempotency_key = ?3 AND state = 'in_flight'",
        &[
            text(scope.merchant_id),
            text(scope.endpoint),
            text(scope.key),
        ],
    )
    .await
    .map(|_| ())
}
