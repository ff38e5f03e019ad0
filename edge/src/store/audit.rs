//! The audit log: who changed what on a merchant's account. Each entry is written in the batch
//! of the change it records, so there is no change without its entry.

use super::{all, int, opt_text, statement, text, transaction, StoreResult};
use serde::Deserialize;
use till_core::merchant::AuditEntryView;
use worker::{D1PreparedStatement, Env};

/// An entry to write.
pub struct AuditRow {
    pub id: String,
    pub actor: String,
    pub action: &'static str,
    pub target: String,
    pub created: i64,
}

const INSERT: &str = "INSERT INTO audit_log (id, merchant_id, actor, action, target, created) \
                      SELECT ?1, ?2, ?3, ?4, ?5, ?6";

pub fn insert_statement(
    env: &Env,
    merchant_id: &str,
    row: &AuditRow,
) -> StoreResult<D1PreparedStatement> {
    statement(env, INSERT, &params(merchant_id, row))
}

/// The entry, written only when the batch's previous statement changed one row.
pub(super) fn insert_after_change_statement(
    env: &Env,
    merchant_id: &str,
    row: &AuditRow,
) -> StoreResult<D1PreparedStatement> {
    statement(
        env,
        &format!("{INSERT} WHERE changes() = 1"),
        &params(merchant_id, row),
    )
}

/// Runs `change` and records `row` with it only if it changed a row, in one batch: a change
/// that changed nothing (already revoked, already removed) is not in the log. Whether it did.
pub async fn changed_with_entry(
    env: &Env,
    merchant_id: &str,
    change: D1PreparedStatement,
    row: &AuditRow,
) -> StoreResult<bool> {
    let entry = insert_after_change_statement(env, merchant_id, row)?;
    let changes = transaction(env, vec![change, entry]).await?;
    Ok(changes.first() == Some(&1))
}

fn params(merchant_id: &str, row: &AuditRow) -> [worker::wasm_bindgen::JsValue; 6] {
    [
        text(&row.id),
        text(merchant_id),
        text(&row.actor),
        text(row.action),
        text(&row.target),
        int(row.created),
    ]
}

#[derive(Deserialize)]
struct EntryRow {
    id: String,
    actor: String,
    action: String,
    target: String,
    created: i64,
}

/// Newest first, after the entry `starting_after`; `None` when that entry is not the merchant's.
pub async fn list(
    env: &Env,
    merchant_id: &str,
    starting_after: Option<&str>,
    limit: usize,
) -> StoreResult<Option<Vec<AuditEntryView>>> {
    if let Some(cursor) = starting_after {
        let found: Vec<EntryRow> = all(
            env,
            "SELECT id, actor, action, target, created FROM audit_log \
             WHERE merchant_id = ?1 AND id = ?2",
            &[text(merchant_id), text(cursor)],
        )
        .await?;
        if found.is_empty() {
            return Ok(None);
        }
    }
    let rows: Vec<EntryRow> = all(
        env,
        "SELECT id, actor, action, target, created FROM audit_log WHERE merchant_id = ?1 \
         AND (?2 IS NULL OR seq < (SELECT seq FROM audit_log WHERE id = ?2)) \
         ORDER BY seq DESC LIMIT ?3",
        &[
            text(merchant_id),
            opt_text(starting_after),
            int(i64::try_from(limit).unwrap_or(i64::MAX)),
        ],
    )
    .await?;
    Ok(Some(
        rows.into_iter()
            .map(|r| AuditEntryView {
                id: r.id,
                object: "audit_entry".into(),
                actor: r.actor,
                action: r.action,
                target: r.target,
                created: r.created,
            })
            .collect(),
    ))
}
