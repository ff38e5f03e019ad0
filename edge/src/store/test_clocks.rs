//! Test clocks in D1.

use super::{execute, first, int, opt_text, text, StoreResult};
use serde::Deserialize;
use till_core::test_clock::{TestClock, TestClockStatus};
use worker::Env;

#[derive(Debug, Clone, Deserialize)]
pub struct TestClockRow {
    pub id: String,
    pub merchant_id: String,
    pub name: Option<String>,
    pub frozen_time: i64,
    pub status: String,
    pub created: i64,
}

impl TestClockRow {
    pub fn view(&self) -> TestClock {
        TestClock {
            id: self.id.clone(),
            object: "test_clock".into(),
            name: self.name.clone(),
            frozen_time: self.frozen_time,
            status: if self.status == "advancing" {
                TestClockStatus::Advancing
            } else {
                TestClockStatus::Ready
            },
            created: self.created,
        }
    }
}

pub async fn insert(env: &Env, c: &TestClockRow) -> StoreResult<()> {
    execute(
        env,
        "INSERT INTO test_clocks (id, merchant_id, name, frozen_time, status, created) \
         VALUES (?1, ?2, ?3, ?4, 'ready', ?5)",
        &[
            text(&c.id),
            text(&c.merchant_id),
            opt_text(c.name.as_deref()),
            int(c.frozen_time),
            int(c.created),
        ],
    )
    .await
    .map(|_| ())
}

pub async fn find(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<TestClockRow>> {
    first(
        env,
        "SELECT * FROM test_clocks WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

/// Moves a ready clock from `from` to `to` and marks it advancing; false when it is not ready
/// at `from` any more (another advance got there first).
pub async fn advance(env: &Env, id: &str, from: i64, to: i64, now: i64) -> StoreResult<bool> {
    execute(
        env,
        "UPDATE test_clocks SET frozen_time = ?3, status = 'advancing', advanced_at = ?4 \
         WHERE id = ?1 AND frozen_time = ?2 AND status = 'ready'",
        &[text(id), int(from), int(to), int(now)],
    )
    .await
    .map(|changed| changed == 1)
}

/// Advancing clocks whose billing is done: ready again. Without `id` (the cron), only those
/// whose advance was left unfinished a minute ago (`now` is the wall time).
pub async fn mark_ready(env: &Env, id: Option<&str>, now: i64) -> StoreResult<()> {
    execute(
        env,
        "UPDATE test_clocks SET status = 'ready' WHERE status = 'advancing' \
         AND (id = ?1 OR (?1 IS NULL AND COALESCE(advanced_at, 0) < ?2 - 60))",
        &[opt_text(id), int(now)],
    )
    .await
    .map(|_| ())
}
