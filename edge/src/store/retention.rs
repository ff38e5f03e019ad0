//! Deletes what is past its retention period (`till_core::retention`), oldest first.

use super::{int, statement, transaction, StoreResult};
use till_core::retention::Cutoffs;
use worker::wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, Env};

/// The tables a round deletes from, in the order of its counts.
pub const TABLES: [&str; 7] = [
    "webhook_deliveries",
    "events",
    "gateway_events",
    "card_nonces",
    "customer_sessions",
    "dashboard_sessions",
    "fx_quotes",
];

/// One round, one transaction: finished webhook deliveries created before the records'
/// cutoff; events created before it that no delivery names any more (a delivery still being
/// retried keeps its event, and the events' check sees the deliveries this round deleted);
/// gateway event ids received before it; customer sessions and FX quotes that expired before
/// it; card nonces and dashboard sessions past their own cutoffs. At most `limit` rows of each
/// table; the rows deleted from each, in that order.
pub async fn delete_older(env: &Env, cutoffs: &Cutoffs, limit: usize) -> StoreResult<Vec<usize>> {
    let limit = int(i64::try_from(limit).unwrap_or(i64::MAX));
    let params = [int(cutoffs.records), limit.clone()];
    transaction(
        env,
        vec![
            statement(
                env,
                "DELETE FROM webhook_deliveries WHERE rowid IN (SELECT rowid FROM webhook_deliveries \
                 WHERE created < ?1 AND status != 'pending' ORDER BY created LIMIT ?2)",
                &params,
            )?,
            statement(
                env,
                "DELETE FROM events WHERE rowid IN (SELECT e.rowid FROM events e \
                 WHERE e.created < ?1 \
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id) \
                 ORDER BY e.created LIMIT ?2)",
                &params,
            )?,
            oldest(env, "gateway_events", "received", cutoffs.records, &limit)?,
            oldest(env, "card_nonces", "seen", cutoffs.nonces, &limit)?,
            oldest(env, "customer_sessions", "expires_at", cutoffs.records, &limit)?,
            oldest(
                env,
                "dashboard_sessions",
                "expires",
                cutoffs.dashboard_sessions,
                &limit,
            )?,
            oldest(env, "fx_quotes", "expires_at", cutoffs.records, &limit)?,
        ],
    )
    .await
}

/// Deletes the rows of `table` whose `column` (a time) is before `cutoff`, oldest first, at
/// most `limit`: a table whose age is one column.
fn oldest(
    env: &Env,
    table: &str,
    column: &str,
    cutoff: i64,
    limit: &JsValue,
) -> StoreResult<D1PreparedStatement> {
    statement(
        env,
        &format!(
            "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} \
             WHERE {column} < ?1 ORDER BY {column} LIMIT ?2)"
        ),
        &[int(cutoff), limit.clone()],
    )
}
