//! The every-minute cron's deletion of events, finished webhook deliveries, gateway event ids,
//! card nonces and expired sessions past their retention period (`till_core::retention`): a few batches a run, so a backlog
//! (the first run after this shipped, or a day of heavy traffic) drains over minutes without
//! one run holding D1's writer for long.

use crate::clock;
use crate::store;
use till_core::error::ApiError;
use till_core::retention;
use worker::Env;

pub async fn sweep(env: &Env) -> Result<(), ApiError> {
    let cutoffs = retention::Cutoffs::at(clock::now_seconds());
    for _ in 0..retention::ROUNDS {
        let deleted = store::retention::delete_older(env, &cutoffs, retention::BATCH).await?;
        if !retention::more_waiting(&deleted) {
            break;
        }
    }
    Ok(())
}
