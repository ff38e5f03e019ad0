//! The every-minute cron's deletion of events, finished webhook deliveries, gateway event ids,
//! card nonces, expired sessions and expired FX quotes past their retention period (`till_core::retention`): a
//! few batches a run, so a backlog (the first run after this shipped, or a day of heavy
//! traffic) drains over minutes without one run holding D1's writer for long.

use crate::clock;
use crate::store;
use till_core::error::ApiError;
use till_core::retention;
use worker::Env;

pub async fn sweep(env: &Env) -> Result<(), ApiError> {
    let cutoffs = retention::Cutoffs::at(clock::now_seconds());
    let mut total = [0usize; store::retention::TABLES.len()];
    for _ in 0..retention::ROUNDS {
        let deleted = store::retention::delete_older(env, &cutoffs, retention::BATCH).await?;
        for (sum, rows) in total.iter_mut().zip(&deleted) {
            *sum += rows;
        }
        if !retention::more_waiting(&deleted) {
            break;
        }
    }
    // The operator sees what went, run by run, when anything did.
    if total.iter().any(|&rows| rows > 0) {
        let counts: Vec<String> = store::retention::TABLES
            .iter()
            .zip(total)
            .filter(|(_, rows)| *rows > 0)
            .map(|(table, rows)| format!("{rows} {table}"))
            .collect();
        worker::console_log!("retention: deleted {}", counts.join(", "));
    }
    Ok(())
}
