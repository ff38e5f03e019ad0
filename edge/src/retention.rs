//! The every-minute cron's deletion of events, finished webhook deliveries, gateway event ids
//! and card nonces past their retention period (`till_core::retention`): a few batches a run, so a backlog
//! (the first run after this shipped, or a day of heavy traffic) drains over minutes without
//! one run holding D1's writer for long.

use crate::clock;
use crate::store;
use till_core::error::ApiError;
use till_core::retention;
use worker::Env;

pub async fn sweep(env: &Env) -> Result<(), ApiError> {
    let now = clock::now_seconds();
    let (cutoff, nonce_cutoff) = (retention::cutoff(now), retention::nonce_cutoff(now));
    for _ in 0..retention::ROUNDS {
        let deleted =
            store::retention::delete_older(env, cutoff, nonce_cutoff, retention::BATCH).await?;
        if !retention::more_waiting(&deleted) {
            break;
        }
    }
    Ok(())
}
