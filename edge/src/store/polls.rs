//! What the poller watches: payments left `processing` and refunds left `pending` because the
//! gateway's answer never came, bank payments whose customer never came back from the bank, and
//! payouts the bank has not finished. The tables keep the same poll columns.

use super::{all, execute, int, opt_int, opt_text, text, StoreResult};
use serde::de::DeserializeOwned;
use worker::Env;

#[derive(Clone, Copy)]
pub enum Watched {
    Payments,
    /// Bank payments still waiting for the customer at the bank.
    BankRedirects,
    Refunds,
    Payouts,
}

impl Watched {
    /// The table, and what its waiting rows are (an SQL condition).
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Watched::Payments => ("payments", "status = 'processing'"),
            Watched::BankRedirects => (
                "payments",
                "status = 'requires_action' AND method = 'bank_redirect'",
            ),
            Watched::Refunds => ("refunds", "status = 'pending'"),
            Watched::Payouts => ("payouts", "status IN ('pending', 'processing')"),
        }
    }
}

/// Rows waiting for at least `older_than` seconds whose next poll is due, oldest first.
pub async fn due<T: DeserializeOwned>(
    env: &Env,
    polled: Watched,
    now: i64,
    older_than: i64,
) -> StoreResult<Vec<T>> {
    let (table, waiting) = polled.table();
    all::<T>(
        env,
        &format!(
            "SELECT * FROM {table} WHERE {waiting} AND requires_review = 0 \
             AND updated <= ?1 AND (next_poll_at IS NULL OR next_poll_at <= ?2) \
             ORDER BY updated LIMIT 25"
        ),
        &[int(now - older_than), int(now)],
    )
    .await
}

/// Records an unanswered poll: when to ask again (`None`: a person must look), and the error.
pub async fn record(
    env: &Env,
    polled: Watched,
    id: &str,
    attempts: i64,
    next_poll_at: Option<i64>,
    error: Option<&str>,
) -> StoreResult<()> {
    let (table, waiting) = polled.table();
    execute(
        env,
        &format!(
            "UPDATE {table} SET poll_attempts = ?2, next_poll_at = ?3, last_poll_error = ?4, \
             requires_review = CASE WHEN ?3 IS NULL THEN 1 ELSE 0 END \
             WHERE id = ?1 AND {waiting}"
        ),
        &[
            text(id),
            int(attempts),
            opt_int(next_poll_at),
            opt_text(error),
        ],
    )
    .await
    .map(|_| ())
}
