//! Gateway events already applied, so a redelivered webhook changes nothing.

use super::payments::{self, PaymentRow};
use super::{batch, execute, first, int, rows_of, statement, text, StoreResult};
use worker::Env;

const SEEN: &str = "SELECT id FROM gateway_events WHERE id = ?1";

pub async fn seen(env: &Env, id: &str) -> StoreResult<bool> {
    let row: Option<serde_json::Value> = first(env, SEEN, &[text(id)]).await?;
    Ok(row.is_some())
}

/// [`seen`], and the payment an event is about, in one round trip: what a payment event reads
/// first (the gateway's echo of every change Till makes is one).
pub async fn seen_with_payment(
    env: &Env,
    id: &str,
    payment_id: &str,
) -> StoreResult<(bool, Option<PaymentRow>)> {
    let results = batch(
        env,
        vec![
            statement(env, SEEN, &[text(id)])?,
            payments::by_id_statement(env, payment_id)?,
        ],
    )
    .await?;
    let [seen, payment] = results.as_slice() else {
        return Err(super::StoreError::new(
            "batch",
            "not one result per statement",
        ));
    };
    let seen = !rows_of::<serde_json::Value>(seen)?.is_empty();
    Ok((seen, rows_of(payment)?.into_iter().next()))
}

/// Keeps a handled event's id, when its `outcome` changed something (`applied`, or a dispute
/// `recorded`). Handled again, an event that changed nothing changes nothing again, so it costs
/// no write: the echo of each answer Till applied itself is the common case.
pub async fn remember(env: &Env, id: &str, outcome: &str, now: i64) -> StoreResult<()> {
    if !matches!(outcome, "applied" | "recorded") {
        return Ok(());
    }
    execute(
        env,
        "INSERT OR IGNORE INTO gateway_events (id, received) VALUES (?1, ?2)",
        &[text(id), int(now)],
    )
    .await
    .map(|_| ())
}
