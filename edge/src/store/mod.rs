//! D1, one module per aggregate. SQL lives here and nowhere else; rows carry the core's types,
//! and every multi-statement change is one D1 `batch` (a transaction).

pub mod api_keys;
pub mod audit;
pub mod catalogue;
pub mod charge_reads;
pub mod confirm_reads;
pub mod customer_sessions;
pub mod customers;
pub mod disputes;
pub mod events;
pub mod fx_quotes;
pub mod gateway_accounts;
pub mod ledger;
pub mod lists;
pub mod merchants;
pub mod payment_methods;
pub mod payments;
pub mod payouts;
pub mod people;
pub mod polls;
pub mod receipts;
pub mod reconciliation;
pub mod refund_requests;
pub mod refunds;
pub mod reports;
pub mod retention;
pub mod risk_rules;
pub mod sessions;
pub mod subscriptions;
pub mod test_clocks;
pub mod transfers;
pub mod webhooks;

use serde::de::DeserializeOwned;
use till_core::error::ApiError;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result, Env};

/// A storage failure, kept typed until the edge turns it into an API error.
#[derive(Debug)]
pub struct StoreError {
    /// What was being done: `binding`, `query`, `decode`, `write`, `batch`, `encode`.
    operation: &'static str,
    detail: String,
}

impl StoreError {
    fn new(operation: &'static str, detail: impl std::fmt::Display) -> Self {
        StoreError {
            operation,
            detail: detail.to_string(),
        }
    }
}

impl StoreError {
    /// Whether the write failed on the named constraint (`CONSTRAINT name CHECK ...`).
    pub fn violated(&self, constraint: &str) -> bool {
        self.detail.contains("constraint failed") && self.detail.contains(constraint)
    }

    /// Whether the write failed on a UNIQUE constraint of `table`.
    pub fn duplicate_in(&self, table: &str) -> bool {
        self.detail
            .contains(&format!("UNIQUE constraint failed: {table}."))
    }
}

/// A row read only to learn that it exists.
#[derive(serde::Deserialize)]
struct Exists {}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "d1 {}: {}", self.operation, self.detail)
    }
}

impl From<StoreError> for ApiError {
    /// The client learns only that it may retry; the operator's log has the cause.
    fn from(error: StoreError) -> Self {
        crate::log_error!("{error}");
        ApiError::internal()
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

fn db(env: &Env) -> StoreResult<D1Database> {
    env.d1("DB").map_err(|e| StoreError::new("binding", e))
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

fn opt_int(value: Option<i64>) -> JsValue {
    value.map_or(JsValue::NULL, int)
}

/// A list of ids as one JSON parameter, for `IN (SELECT value FROM json_each(?))`.
fn json_list(values: &[String]) -> StoreResult<JsValue> {
    serde_json::to_string(values)
        .map(|list| text(&list))
        .map_err(|e| StoreError::new("encode", e))
}

fn statement(env: &Env, sql: &str, params: &[JsValue]) -> StoreResult<D1PreparedStatement> {
    db(env)?
        .prepare(sql)
        .bind(params)
        .map_err(|e| StoreError::new("bind", e))
}

async fn first<T: DeserializeOwned>(
    env: &Env,
    sql: &str,
    params: &[JsValue],
) -> StoreResult<Option<T>> {
    statement(env, sql, params)?
        .first::<T>(None)
        .await
        .map_err(|e| StoreError::new("query", e))
}

async fn all<T: DeserializeOwned>(env: &Env, sql: &str, params: &[JsValue]) -> StoreResult<Vec<T>> {
    statement(env, sql, params)?
        .all()
        .await
        .map_err(|e| StoreError::new("query", e))?
        .results::<T>()
        .map_err(|e| StoreError::new("decode", e))
}

/// Runs a write and returns how many rows it changed.
async fn execute(env: &Env, sql: &str, params: &[JsValue]) -> StoreResult<usize> {
    let result = statement(env, sql, params)?
        .run()
        .await
        .map_err(|e| StoreError::new("write", e))?;
    Ok(result
        .meta()
        .ok()
        .flatten()
        .and_then(|meta| meta.changes)
        .unwrap_or(0))
}

/// Runs one prepared write.
pub async fn run(statement: D1PreparedStatement) -> StoreResult<()> {
    statement
        .run()
        .await
        .map_err(|e| StoreError::new("write", e))?;
    Ok(())
}

/// The rows of one statement's result in a [`batch`].
fn rows_of<T: DeserializeOwned>(result: &D1Result) -> StoreResult<Vec<T>> {
    result
        .results::<T>()
        .map_err(|e| StoreError::new("decode", e))
}

/// Runs statements as one transaction (D1 `batch`); each statement's result.
async fn batch(env: &Env, statements: Vec<D1PreparedStatement>) -> StoreResult<Vec<D1Result>> {
    db(env)?
        .batch(statements)
        .await
        .map_err(|e| StoreError::new("batch", e))
}

/// Runs statements as one transaction (D1 `batch`); how many rows each changed.
async fn transaction(env: &Env, statements: Vec<D1PreparedStatement>) -> StoreResult<Vec<usize>> {
    let results = batch(env, statements).await?;
    Ok(results
        .iter()
        .map(|r| r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0))
        .collect())
}
