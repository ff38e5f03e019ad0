//! Merchants' webhook endpoints, the events Till emits, and each delivery of them.

use super::{all, execute, first, int, opt_int, statement, text, StoreResult};
use serde::Deserialize;
use till_core::api::DeliveryStatus;
use worker::Env;

#[derive(Debug, Clone, Deserialize)]
pub struct EndpointRow {
    pub id: String,
    pub merchant_id: String,
    pub url: String,
    /// JSON list of the event types the endpoint subscribed to.
    pub events: String,
    pub sealed_secret: String,
    pub created: i64,
}

pub async fn insert_endpoint(env: &Env, e: &EndpointRow) -> StoreResult<()> {
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

pub async fn endpoint(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<EndpointRow>> {
    first(
        env,
        "SELECT * FROM webhook_endpoints WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

const ENDPOINTS_OF: &str = "SELECT * FROM webhook_endpoints WHERE merchant_id = ?1";

pub async fn endpoints_of(env: &Env, merchant_id: &str) -> StoreResult<Vec<EndpointRow>> {
    all::<EndpointRow>(env, ENDPOINTS_OF, &[text(merchant_id)]).await
}

/// An event Till emits to a merchant: its JSON body is what every delivery sends.
pub struct EventRow {
    pub id: String,
    pub merchant_id: String,
    pub kind: String,
    pub body: String,
    pub created: i64,
}

const INSERT_EVENT: &str =
    "INSERT INTO events (id, merchant_id, type, body, created) VALUES (?1, ?2, ?3, ?4, ?5)";

fn event_params(e: &EventRow) -> [worker::wasm_bindgen::JsValue; 5] {
    [
        text(&e.id),
        text(&e.merchant_id),
        text(&e.kind),
        text(&e.body),
        int(e.created),
    ]
}

pub async fn insert_event(env: &Env, e: &EventRow) -> StoreResult<()> {
    execute(env, INSERT_EVENT, &event_params(e))
        .await
        .map(|_| ())
}

/// The event's insert, in a batch right after the statement whose change it tells of: it is
/// recorded only when that statement changed one row.
pub(super) fn insert_event_after_change(
    env: &Env,
    e: &EventRow,
) -> StoreResult<worker::D1PreparedStatement> {
    statement(
        env,
        "INSERT INTO events (id, merchant_id, type, body, created) \
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE changes() = 1",
        &event_params(e),
    )
}

/// Runs `change` and, when it changed one row, records `event` (when there is one) in the same
/// transaction, reading the merchant's endpoints in the same batch: a crash keeps both or
/// neither. `None` when `change` changed nothing (another writer won; no event either).
pub(super) async fn change_with_event(
    env: &Env,
    change: worker::D1PreparedStatement,
    event: Option<&EventRow>,
) -> StoreResult<Option<Vec<EndpointRow>>> {
    let mut statements = vec![change];
    if let Some(event) = event {
        statements.push(insert_event_after_change(env, event)?);
        statements.push(endpoints_statement(env, &event.merchant_id)?);
    }
    let results = super::batch(env, statements).await?;
    endpoints_if_changed(&results, event)
}

/// For a batch whose first statement is a change and, with an event, whose last reads the
/// merchant's endpoints: `None` when the change changed nothing, else the endpoints to tell.
pub(super) fn endpoints_if_changed(
    results: &[worker::D1Result],
    event: Option<&EventRow>,
) -> StoreResult<Option<Vec<EndpointRow>>> {
    let changed = results
        .first()
        .and_then(|result| result.meta().ok().flatten())
        .and_then(|meta| meta.changes)
        .unwrap_or(0);
    if changed != 1 {
        return Ok(None);
    }
    Ok(Some(match event {
        Some(_) => endpoints_read(results)?,
        None => Vec::new(),
    }))
}

/// The endpoints a batch read last (with [`endpoints_statement`]).
pub(super) fn endpoints_read(results: &[worker::D1Result]) -> StoreResult<Vec<EndpointRow>> {
    match results.last() {
        Some(read) => read
            .results::<EndpointRow>()
            .map_err(|e| super::StoreError::new("decode", e)),
        None => Ok(Vec::new()),
    }
}

/// The merchant's endpoints, as a statement for a batch.
pub(super) fn endpoints_statement(
    env: &Env,
    merchant_id: &str,
) -> StoreResult<worker::D1PreparedStatement> {
    statement(env, ENDPOINTS_OF, &[text(merchant_id)])
}

#[derive(Debug, Clone, Deserialize)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub created: i64,
    pub updated: i64,
}

pub async fn insert_delivery(env: &Env, d: &DeliveryRow) -> StoreResult<()> {
    execute(
        env,
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, status, attempts, \
         last_status_code, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, 0, NULL, ?6, ?6)",
        &[
            text(&d.id),
            text(&d.endpoint_id),
            text(&d.event_id),
            text(&d.event_type),
            text(d.status.as_str()),
            int(d.created),
        ],
    )
    .await
    .map(|_| ())
}

/// Records one delivery attempt and where the delivery stands after it.
pub async fn record_attempt(
    env: &Env,
    id: &str,
    status: DeliveryStatus,
    attempts: i64,
    code: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    execute(
        env,
        "UPDATE webhook_deliveries SET status = ?2, attempts = ?3, last_status_code = ?4, \
         updated = ?5 WHERE id = ?1",
        &[
            text(id),
            text(status.as_str()),
            int(attempts),
            opt_int(code),
            int(now),
        ],
    )
    .await
    .map(|_| ())
}

pub async fn deliveries_of(env: &Env, endpoint_id: &str) -> StoreResult<Vec<DeliveryRow>> {
    all::<DeliveryRow>(
        env,
        "SELECT * FROM webhook_deliveries WHERE endpoint_id = ?1 ORDER BY created DESC LIMIT 100",
        &[text(endpoint_id)],
    )
    .await
}

/// One of the merchant's deliveries (through its endpoint).
pub async fn delivery_of(
    env: &Env,
    merchant_id: &str,
    id: &str,
) -> StoreResult<Option<DeliveryRow>> {
    first(
        env,
        "SELECT d.* FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id \
         WHERE d.id = ?1 AND w.merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

#[derive(Deserialize)]
struct StoredEvent {
    id: String,
    merchant_id: String,
    #[serde(rename = "type")]
    kind: String,
    body: String,
    created: i64,
}

pub async fn event(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<EventRow>> {
    let found: Option<StoredEvent> = first(
        env,
        "SELECT id, merchant_id, type, body, created FROM events WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await?;
    Ok(found.map(|e| EventRow {
        id: e.id,
        merchant_id: e.merchant_id,
        kind: e.kind,
        body: e.body,
        created: e.created,
    }))
}
