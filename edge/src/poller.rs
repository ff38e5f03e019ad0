//! The cron trigger: payments left `processing` (no answer, no webhook) are settled from the
//! gateway's status for their idempotency key. Each payment backs off exponentially; after the
//! last attempt it is flagged `requires_review` for a person.

use crate::gateway::Connector;
use crate::handlers::payments::{apply, connector, forget_card};
use crate::{clock, store};
use till_core::error::ApiError;
use worker::Env;

fn setting(env: &Env, name: &str, default: i64) -> i64 {
    env.var(name)
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(default)
}

pub async fn poll(env: &Env) -> Result<(), ApiError> {
    let now = clock::now_seconds();
    let after = setting(env, "POLL_AFTER_SECONDS", 60);
    let backoff = setting(env, "POLL_BACKOFF_SECONDS", 30);
    let max_attempts = setting(env, "POLL_MAX_ATTEMPTS", 8);
    let connector = connector(env)?;
    for mut payment in store::payments_to_poll(env, now, after).await? {
        match connector.find(&payment.gateway_idempotency_key).await {
            Ok(Some(answer)) => {
                apply(env, &mut payment, answer).await?;
                forget_card(env, &payment).await?;
                worker::console_log!("poller: payment {} is {}", payment.id, payment.status);
            }
            unanswered => {
                if let Err(error) = unanswered {
                    worker::console_warn!("poller: payment {}: {error:?}", payment.id);
                }
                let attempts = payment.poll_attempts + 1;
                let next = (attempts < max_attempts)
                    .then(|| now + backoff * 2i64.pow(u32::try_from(attempts - 1).unwrap_or(0)));
                if next.is_none() {
                    worker::console_warn!("poller: payment {} needs review", payment.id);
                }
                store::record_poll(env, &payment.id, attempts, next).await?;
            }
        }
    }
    Ok(())
}
