//! D1: merchants, sessions, payments and idempotency records. SQL lives here and nowhere else.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use till_core::error::ApiError;
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

async fn all<T: DeserializeOwned>(
    env: &Env,
    sql: &str,
    params: &[JsValue],
) -> Result<Vec<T>, ApiError> {
    statement(env, sql, params)?
        .all()
        .await
        .map_err(|e| storage_error("query", e))?
        .results::<T>()
        .map_err(|e| storage_error("decode", e))
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

/// Runs statements as one transaction (D1 `batch`); how many rows each changed.
async fn transaction(
    env: &Env,
    statements: Vec<D1PreparedStatement>,
) -> Result<Vec<usize>, ApiError> {
    let results = db(env)?
        .batch(statements)
        .await
        .map_err(|e| storage_error("batch", e))?;
    Ok(results
        .iter()
        .map(|r| r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0))
        .collect())
}

#[derive(Deserialize)]
pub struct MerchantKey {
    pub merchant_id: String,
    pub merchant_name: String,
    pub kind: String,
    /// JSON of the merchant's own rate limits, when it has any.
    pub rate_limits: Option<String>,
}

pub async fn merchant_by_key_hash(
    env: &Env,
    key_hash: &str,
) -> Result<Option<MerchantKey>, ApiError> {
    first(
        env,
        "SELECT m.id AS merchant_id, m.name AS merchant_name, k.kind AS kind, \
         m.rate_limits AS rate_limits \
         FROM api_keys k JOIN merchants m ON m.id = k.merchant_id WHERE k.key_hash = ?1",
        &[text(key_hash)],
    )
    .await
}

/// Records an encrypted card's nonce; false when it was seen before (a replay).
pub async fn first_use_of_nonce(env: &Env, nonce: &str, now: i64) -> Result<bool, ApiError> {
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
struct OriginRow {
    origin: String,
}

/// The origins a merchant registered (for `frame-ancestors` and CORS).
pub async fn merchant_origins(env: &Env, merchant_id: &str) -> Result<Vec<String>, ApiError> {
    let rows = all::<OriginRow>(
        env,
        "SELECT origin FROM merchant_origins WHERE merchant_id = ?1 ORDER BY origin",
        &[text(merchant_id)],
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.origin).collect())
}

/// Whether any merchant registered `origin` (CORS preflights carry no key).
pub async fn origin_registered(env: &Env, origin: &str) -> Result<bool, ApiError> {
    let row: Option<OriginRow> = first(
        env,
        "SELECT origin FROM merchant_origins WHERE origin = ?1 LIMIT 1",
        &[text(origin)],
    )
    .await?;
    Ok(row.is_some())
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionRow {
    pub id: String,
    pub merchant_id: String,
    pub client_secret_hash: String,
    pub amount: i64,
    pub currency: String,
    pub capture_method: String,
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
         line_items, return_url, merchant_reference, status, payment_id, created, capture_method) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?10, ?11)",
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
            text(&s.capture_method),
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

/// What a payment's new status means for its session.
pub enum SessionOutcome {
    /// Paid (or authorized for later capture): the session is complete.
    Paid,
    /// The payment failed: the session counts it, and reopens unless that was one too many.
    Failed,
    /// Voided: nothing was taken, the session is open for another attempt.
    Reopen,
    /// Still being decided (a challenge): the session stays reserved.
    Keep,
}

#[derive(Deserialize)]
struct StatusRow {
    status: String,
}

/// Moves the session on after its payment's new status; true when a failure locked it.
pub async fn settle_session(
    env: &Env,
    id: &str,
    payment_id: &str,
    outcome: SessionOutcome,
) -> Result<bool, ApiError> {
    let sql = match outcome {
        SessionOutcome::Paid => {
            "UPDATE checkout_sessions SET status = 'complete' WHERE id = ?1 AND payment_id = ?2"
        }
        SessionOutcome::Reopen => {
            "UPDATE checkout_sessions SET status = 'open', payment_id = NULL \
             WHERE id = ?1 AND payment_id = ?2 AND status = 'processing'"
        }
        SessionOutcome::Failed => {
            let row: Option<StatusRow> = first(
                env,
                "UPDATE checkout_sessions SET failed_attempts = failed_attempts + 1, \
                 payment_id = NULL, \
                 status = CASE WHEN failed_attempts + 1 >= ?3 THEN 'locked' ELSE 'open' END \
                 WHERE id = ?1 AND payment_id = ?2 AND status = 'processing' RETURNING status",
                &[
                    text(id),
                    text(payment_id),
                    int(till_core::api::MAX_FAILED_PAYMENTS_PER_SESSION),
                ],
            )
            .await?;
            return Ok(row.is_some_and(|r| r.status == "locked"));
        }
        SessionOutcome::Keep => return Ok(false),
    };
    execute(env, sql, &[text(id), text(payment_id)]).await?;
    Ok(false)
}

#[derive(Debug, Clone, Deserialize)]
pub struct PaymentRow {
    pub id: String,
    pub merchant_id: String,
    pub checkout_session_id: String,
    pub idempotency_key: String,
    /// SHA-256 of the confirm request that made this payment.
    pub request_fingerprint: String,
    pub amount: i64,
    pub currency: String,
    pub capture_method: String,
    pub status: String,
    pub amount_captured: i64,
    pub amount_refunded: i64,
    pub challenge_attempts_remaining: Option<i64>,
    pub gateway_idempotency_key: String,
    /// The merchant's gateway account it was made through (`None`: the platform's).
    pub gateway_account_id: Option<String>,
    pub token: String,
    pub poll_attempts: i64,
    pub requires_review: i64,
    pub card_brand: String,
    pub card_last4: String,
    pub card_fingerprint: Option<String>,
    pub card_exp_month: i64,
    pub card_exp_year: i64,
    pub gateway_reference: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub created: i64,
    pub updated: i64,
}

/// Reserves an open session for a new payment and records the payment, in one transaction:
/// false (and nothing written) when the session is not open.
pub async fn claim_session_for(
    env: &Env,
    session_id: &str,
    p: &PaymentRow,
) -> Result<bool, ApiError> {
    let claim = statement(
        env,
        "UPDATE checkout_sessions SET status = 'processing', payment_id = ?2 \
         WHERE id = ?1 AND status = 'open'",
        &[text(session_id), text(&p.id)],
    )?;
    // `changes()` is the claim's count: the payment is inserted only when the claim took.
    let insert = statement(
        env,
        "INSERT INTO payments (id, merchant_id, checkout_session_id, idempotency_key, \
         amount, currency, status, card_brand, card_last4, card_exp_month, card_exp_year, \
         gateway_reference, failure_code, failure_message, created, updated, capture_method, \
         gateway_idempotency_key, token, card_fingerprint, request_fingerprint, \
         gateway_account_id) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, NULL, NULL, ?12, ?12, ?13, \
         ?14, ?15, ?16, ?17, ?18 WHERE changes() = 1",
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
            text(&p.capture_method),
            text(&p.gateway_idempotency_key),
            text(&p.token),
            opt_text(p.card_fingerprint.as_deref()),
            text(&p.request_fingerprint),
            opt_text(p.gateway_account_id.as_deref()),
        ],
    )?;
    let changed = transaction(env, vec![claim, insert]).await?;
    Ok(changed.get(1) == Some(&1))
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

/// Writes a payment's new state; only a payment still in `from` moves (the state machine has
/// already approved `from -> p.status`). False when another request moved it first.
pub async fn update_payment(env: &Env, p: &PaymentRow, from: &str) -> Result<bool, ApiError> {
    let changed = execute(
        env,
        "UPDATE payments SET status = ?2, gateway_reference = ?3, failure_code = ?4, \
         failure_message = ?5, updated = ?6, amount_captured = ?8, \
         challenge_attempts_remaining = ?9, \
         captured_at = CASE WHEN ?8 > 0 THEN COALESCE(captured_at, ?6) ELSE captured_at END \
         WHERE id = ?1 AND status = ?7",
        &[
            text(&p.id),
            text(&p.status),
            opt_text(p.gateway_reference.as_deref()),
            opt_text(p.failure_code.as_deref()),
            opt_text(p.failure_message.as_deref()),
            int(p.updated),
            text(from),
            int(p.amount_captured),
            p.challenge_attempts_remaining.map_or(JsValue::NULL, int),
        ],
    )
    .await?;
    Ok(changed == 1)
}

/// A payment by id alone, for gateway events and the poller (they carry no merchant).
pub async fn payment_by_id(env: &Env, id: &str) -> Result<Option<PaymentRow>, ApiError> {
    first(env, "SELECT * FROM payments WHERE id = ?1", &[text(id)]).await
}

/// Payments `processing` for at least `older_than` seconds whose next poll is due.
pub async fn payments_to_poll(
    env: &Env,
    now: i64,
    older_than: i64,
) -> Result<Vec<PaymentRow>, ApiError> {
    all::<PaymentRow>(
        env,
        "SELECT * FROM payments WHERE status = 'processing' AND requires_review = 0 \
         AND updated <= ?1 AND (next_poll_at IS NULL OR next_poll_at <= ?2) \
         ORDER BY updated LIMIT 25",
        &[int(now - older_than), int(now)],
    )
    .await
}

/// Records an unanswered or failed poll: when to ask again (or that a person must look), and
/// the error met, if any.
pub async fn record_poll(
    env: &Env,
    table: PolledTable,
    id: &str,
    attempts: i64,
    next_poll_at: Option<i64>,
    error: Option<&str>,
) -> Result<(), ApiError> {
    let sql = match table {
        PolledTable::Payments => {
            "UPDATE payments SET poll_attempts = ?2, next_poll_at = ?3, last_poll_error = ?4, \
             requires_review = CASE WHEN ?3 IS NULL THEN 1 ELSE 0 END \
             WHERE id = ?1 AND status = 'processing'"
        }
        PolledTable::Refunds => {
            "UPDATE refunds SET poll_attempts = ?2, next_poll_at = ?3, last_poll_error = ?4, \
             requires_review = CASE WHEN ?3 IS NULL THEN 1 ELSE 0 END \
             WHERE id = ?1 AND status = 'pending'"
        }
    };
    execute(
        env,
        sql,
        &[
            text(id),
            int(attempts),
            next_poll_at.map_or(JsValue::NULL, int),
            opt_text(error),
        ],
    )
    .await
    .map(|_| ())
}

/// Which rows the poller is recording a poll for.
#[derive(Clone, Copy)]
pub enum PolledTable {
    Payments,
    Refunds,
}

pub async fn gateway_event_seen(env: &Env, id: &str) -> Result<bool, ApiError> {
    let row: Option<serde_json::Value> = first(
        env,
        "SELECT id FROM gateway_events WHERE id = ?1",
        &[text(id)],
    )
    .await?;
    Ok(row.is_some())
}

pub async fn remember_gateway_event(env: &Env, id: &str, now: i64) -> Result<(), ApiError> {
    execute(
        env,
        "INSERT OR IGNORE INTO gateway_events (id, received) VALUES (?1, ?2)",
        &[text(id), int(now)],
    )
    .await
    .map(|_| ())
}

/// Gives back a reservation whose refund the gateway refused.
pub async fn release_refund(env: &Env, payment_id: &str, amount: i64) -> Result<(), ApiError> {
    execute(
        env,
        "UPDATE payments SET amount_refunded = amount_refunded - ?2 WHERE id = ?1",
        &[text(payment_id), int(amount)],
    )
    .await
    .map(|_| ())
}

#[derive(Debug, Clone, Deserialize)]
pub struct RefundRow {
    pub id: String,
    pub merchant_id: String,
    pub payment_id: String,
    pub idempotency_key: String,
    /// SHA-256 of the request that made this refund.
    pub request_fingerprint: String,
    /// The key the gateway knows this refund by: sending it again is safe.
    pub gateway_idempotency_key: Option<String>,
    pub poll_attempts: i64,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub reason: Option<String>,
    pub gateway_reference: Option<String>,
    pub failure_code: Option<String>,
    pub created: i64,
    pub updated: i64,
}

/// Reserves the refund's amount of the payment's captured money and records the refund, in one
/// transaction: false (and nothing written) when that would refund more than was captured, so
/// concurrent refunds can never together exceed the capture.
pub async fn reserve_refund(env: &Env, r: &RefundRow) -> Result<bool, ApiError> {
    let reserve = statement(
        env,
        "UPDATE payments SET amount_refunded = amount_refunded + ?2 \
         WHERE id = ?1 AND status = 'succeeded' AND amount_refunded + ?2 <= amount_captured",
        &[text(&r.payment_id), int(r.amount)],
    )?;
    let insert = statement(
        env,
        "INSERT INTO refunds (id, merchant_id, payment_id, idempotency_key, amount, currency, \
         status, reason, gateway_reference, failure_code, created, updated, request_fingerprint, \
         gateway_idempotency_key) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, NULL, ?9, ?9, ?10, ?11 WHERE changes() = 1",
        &[
            text(&r.id),
            text(&r.merchant_id),
            text(&r.payment_id),
            text(&r.idempotency_key),
            int(r.amount),
            text(&r.currency),
            text(&r.status),
            opt_text(r.reason.as_deref()),
            int(r.created),
            text(&r.request_fingerprint),
            opt_text(r.gateway_idempotency_key.as_deref()),
        ],
    )?;
    let changed = transaction(env, vec![reserve, insert]).await?;
    Ok(changed.get(1) == Some(&1))
}

pub async fn refund_by_idempotency_key(
    env: &Env,
    merchant_id: &str,
    key: &str,
) -> Result<Option<RefundRow>, ApiError> {
    first(
        env,
        "SELECT * FROM refunds WHERE merchant_id = ?1 AND idempotency_key = ?2",
        &[text(merchant_id), text(key)],
    )
    .await
}

pub async fn refund(env: &Env, merchant_id: &str, id: &str) -> Result<Option<RefundRow>, ApiError> {
    first(
        env,
        "SELECT * FROM refunds WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

/// A refund by id alone, for gateway events (they carry no merchant).
pub async fn refund_by_id(env: &Env, id: &str) -> Result<Option<RefundRow>, ApiError> {
    first(env, "SELECT * FROM refunds WHERE id = ?1", &[text(id)]).await
}

/// Refunds still `pending` for at least `older_than` seconds whose next poll is due.
pub async fn refunds_to_poll(
    env: &Env,
    now: i64,
    older_than: i64,
) -> Result<Vec<RefundRow>, ApiError> {
    all::<RefundRow>(
        env,
        "SELECT * FROM refunds WHERE status = 'pending' AND requires_review = 0 \
         AND updated <= ?1 AND (next_poll_at IS NULL OR next_poll_at <= ?2) \
         ORDER BY updated LIMIT 25",
        &[int(now - older_than), int(now)],
    )
    .await
}

/// Settles a pending refund; false when it was already settled (by a retry, a webhook or the
/// poller).
pub async fn update_refund(env: &Env, r: &RefundRow) -> Result<bool, ApiError> {
    let changed = execute(
        env,
        "UPDATE refunds SET status = ?2, gateway_reference = ?3, failure_code = ?4, updated = ?5, \
         settled_at = CASE WHEN ?2 = 'succeeded' THEN ?5 ELSE settled_at END \
         WHERE id = ?1 AND status = 'pending'",
        &[
            text(&r.id),
            text(&r.status),
            opt_text(r.gateway_reference.as_deref()),
            opt_text(r.failure_code.as_deref()),
            int(r.updated),
        ],
    )
    .await?;
    Ok(changed == 1)
}

#[derive(Debug, Clone, Deserialize)]
pub struct EndpointRow {
    pub id: String,
    pub merchant_id: String,
    pub url: String,
    pub events: String,
    pub sealed_secret: String,
    pub created: i64,
}

pub async fn insert_endpoint(env: &Env, e: &EndpointRow) -> Result<(), ApiError> {
    execute(
        env,
        "INSERT INTO webhook_endpoints (id, merchant_id, url, events, sealed_secret, created) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            text(&e.id),
            text(&e.merchant_id),
            text(&e.url),
            text(&e.events),
            text(&e.sealed_secret),
            int(e.created),
        ],
    )
    .await
    .map(|_| ())
}

pub async fn endpoint(
    env: &Env,
    merchant_id: &str,
    id: &str,
) -> Result<Option<EndpointRow>, ApiError> {
    first(
        env,
        "SELECT * FROM webhook_endpoints WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

pub async fn endpoints_of(env: &Env, merchant_id: &str) -> Result<Vec<EndpointRow>, ApiError> {
    all::<EndpointRow>(
        env,
        "SELECT * FROM webhook_endpoints WHERE merchant_id = ?1",
        &[text(merchant_id)],
    )
    .await
}

pub async fn insert_event(
    env: &Env,
    id: &str,
    merchant_id: &str,
    kind: &str,
    body: &str,
    now: i64,
) -> Result<(), ApiError> {
    execute(
        env,
        "INSERT INTO events (id, merchant_id, type, body, created) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            text(id),
            text(merchant_id),
            text(kind),
            text(body),
            int(now),
        ],
    )
    .await
    .map(|_| ())
}

#[derive(Debug, Clone, Deserialize)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub created: i64,
    pub updated: i64,
}

pub async fn insert_delivery(env: &Env, d: &DeliveryRow) -> Result<(), ApiError> {
    execute(
        env,
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, status, attempts, \
         last_status_code, created, updated) VALUES (?1, ?2, ?3, ?4, 'pending', 0, NULL, ?5, ?5)",
        &[
            text(&d.id),
            text(&d.endpoint_id),
            text(&d.event_id),
            text(&d.event_type),
            int(d.created),
        ],
    )
    .await
    .map(|_| ())
}

/// Records one delivery attempt and where the delivery stands after it.
pub async fn record_delivery_attempt(
    env: &Env,
    id: &str,
    status: &str,
    attempts: i64,
    code: Option<i64>,
    now: i64,
) -> Result<(), ApiError> {
    execute(
        env,
        "UPDATE webhook_deliveries SET status = ?2, attempts = ?3, last_status_code = ?4, \
         updated = ?5 WHERE id = ?1",
        &[
            text(id),
            text(status),
            int(attempts),
            code.map_or(JsValue::NULL, int),
            int(now),
        ],
    )
    .await
    .map(|_| ())
}

pub async fn deliveries_of(env: &Env, endpoint_id: &str) -> Result<Vec<DeliveryRow>, ApiError> {
    all::<DeliveryRow>(
        env,
        "SELECT * FROM webhook_deliveries WHERE endpoint_id = ?1 ORDER BY created DESC LIMIT 100",
        &[text(endpoint_id)],
    )
    .await
}

#[derive(Deserialize)]
struct RecordRow {
    id: String,
    amount: i64,
    currency: String,
    status: String,
}

/// A merchant's payments and refunds whose money moved in `[start, end)` (captured, refunded),
/// plus any of `references` (ids in the settlement file: a payment Till still has `processing`
/// must be compared too), as reconciliation records.
pub async fn day_records(
    env: &Env,
    merchant_id: &str,
    start: i64,
    end: i64,
    references: &[String],
) -> Result<Vec<till_core::reconciliation::Record>, ApiError> {
    use till_core::reconciliation::{LineKind, Record};
    let references = serde_json::to_string(references).map_err(|_| ApiError::internal())?;
    let params = [text(merchant_id), int(start), int(end), text(&references)];
    let load = |sql: &'static str| {
        let params = params.clone();
        async move { all::<RecordRow>(env, sql, &params).await }
    };
    let payments = load(
        "SELECT id, amount_captured AS amount, currency, status FROM payments \
         WHERE merchant_id = ?1 AND ((captured_at >= ?2 AND captured_at < ?3) \
         OR id IN (SELECT value FROM json_each(?4)))",
    )
    .await?;
    let refunds = load(
        "SELECT id, amount, currency, status FROM refunds \
         WHERE merchant_id = ?1 AND ((settled_at >= ?2 AND settled_at < ?3) \
         OR id IN (SELECT value FROM json_each(?4)))",
    )
    .await?;
    let record = |kind: LineKind| {
        move |r: RecordRow| Record {
            id: r.id,
            kind,
            amount: r.amount,
            currency: r.currency,
            status: r.status,
        }
    };
    Ok(payments
        .into_iter()
        .map(record(LineKind::Charge))
        .chain(refunds.into_iter().map(record(LineKind::Refund)))
        .collect())
}

#[derive(Deserialize)]
struct OwnerRow {
    id: String,
    merchant_id: String,
}

/// Which merchant each of these payment or refund ids belongs to (ids Till does not have are
/// left out).
pub async fn owners_of(
    env: &Env,
    references: &[String],
) -> Result<std::collections::HashMap<String, String>, ApiError> {
    let references = serde_json::to_string(references).map_err(|_| ApiError::internal())?;
    let rows = all::<OwnerRow>(env, "SELECT id, merchant_id FROM payments WHERE id IN (SELECT value FROM json_each(?1)) \
         UNION ALL SELECT id, merchant_id FROM refunds WHERE id IN (SELECT value FROM json_each(?1))", &[text(&references)]).await?;
    Ok(rows.into_iter().map(|r| (r.id, r.merchant_id)).collect())
}

/// Settlement lines no merchant owns, for the operator's report (kept once per line).
pub async fn record_settlement_exceptions(
    env: &Env,
    lines: &[till_core::reconciliation::SettlementLine],
    now: i64,
) -> Result<(), ApiError> {
    for line in lines {
        let kind = serde_json::to_value(line.kind)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        execute(
            env,
            "INSERT OR IGNORE INTO settlement_exceptions \
             (date, gateway_id, reference, type, gross, currency, detected) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &[
                text(&line.date),
                text(&line.gateway_id),
                text(&line.reference),
                text(&kind),
                int(line.gross),
                text(&line.currency),
                int(now),
            ],
        )
        .await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize)]
pub struct RunRow {
    pub id: String,
    pub merchant_id: String,
    pub date: String,
    pub lines: i64,
    pub records: i64,
    pub findings: String,
    /// Why the run could not finish, when it could not.
    pub error: Option<String>,
    pub created: i64,
}

pub async fn insert_run(env: &Env, r: &RunRow) -> Result<(), ApiError> {
    execute(
        env,
        "INSERT INTO reconciliation_runs (id, merchant_id, date, lines, records, findings, \
         error, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &[
            text(&r.id),
            text(&r.merchant_id),
            text(&r.date),
            int(r.lines),
            int(r.records),
            text(&r.findings),
            opt_text(r.error.as_deref()),
            int(r.created),
        ],
    )
    .await
    .map(|_| ())
}

pub async fn run(env: &Env, merchant_id: &str, id: &str) -> Result<Option<RunRow>, ApiError> {
    first(
        env,
        "SELECT * FROM reconciliation_runs WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

pub async fn runs(env: &Env, merchant_id: &str) -> Result<Vec<RunRow>, ApiError> {
    all::<RunRow>(
        env,
        "SELECT * FROM reconciliation_runs WHERE merchant_id = ?1 ORDER BY created DESC LIMIT 50",
        &[text(merchant_id)],
    )
    .await
}

#[derive(Deserialize)]
struct MerchantRow {
    id: String,
}

pub async fn merchant_ids(env: &Env) -> Result<Vec<String>, ApiError> {
    Ok(all::<MerchantRow>(env, "SELECT id FROM merchants", &[])
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect())
}

#[derive(Debug, Clone, Deserialize)]
pub struct GatewayAccountRow {
    pub id: String,
    pub merchant_id: String,
    pub connector: String,
    pub sealed_credentials: String,
    pub created: i64,
    pub updated: i64,
}

pub async fn gateway_account(env: &Env, id: &str) -> Result<Option<GatewayAccountRow>, ApiError> {
    first(
        env,
        "SELECT * FROM gateway_accounts WHERE id = ?1",
        &[text(id)],
    )
    .await
}

pub async fn gateway_account_of(
    env: &Env,
    merchant_id: &str,
) -> Result<Option<GatewayAccountRow>, ApiError> {
    first(
        env,
        "SELECT * FROM gateway_accounts WHERE merchant_id = ?1",
        &[text(merchant_id)],
    )
    .await
}

/// Stores a merchant's gateway account; a merchant has one, so a second replaces the first
/// (same id: payments made through it now use the new credentials, as after a key rotation).
pub async fn save_gateway_account(env: &Env, a: &GatewayAccountRow) -> Result<(), ApiError> {
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
