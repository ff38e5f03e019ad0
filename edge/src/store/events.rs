//! Gateway events already applied, so a redelivered webhook changes nothing.

use super::{execute, first, int, text, StoreResult};
use worker::Env;

pub async fn seen(env: &Env, id: &str) -> StoreResult<bool> {
    let row: Option<serde_json::Value> = first(
        env,
        "SELECT id FROM gateway_events WHERE id = ?1",
        &[text(id)],
    )
    .await?;
    Ok(row.is_some())
}

pub async fn remember(env: &Env, id: &str, now: i64) -> StoreResult<()> {
    execute(
        env,
        "INSERT OR IGNORE INTO gateway_events (id, received) VALUES (?1, ?2)",
        &[text(id), int(now)],
    )
    .await
    .map(|_| ())
}
