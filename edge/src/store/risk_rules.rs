//! A merchant's risk rules: its own (`rule_…`, with text) and its settings for Till's defaults.

use super::StoreResult;
use super::{all, execute, int, opt_text, rows_of, statement, text};
use serde::Deserialize;
use till_core::risk::StoredRule;
use worker::{D1PreparedStatement, D1Result, Env};

#[derive(Deserialize)]
struct RuleRow {
    id: String,
    rule: Option<String>,
    enabled: i64,
    created: i64,
}

pub async fn list(env: &Env, merchant_id: &str) -> StoreResult<Vec<StoredRule>> {
    Ok(stored(all(env, LIST, &[text(merchant_id)]).await?))
}

const LIST: &str =
    "SELECT id, rule, enabled, created FROM risk_rules WHERE merchant_id = ?1 ORDER BY created, id";

/// [`list`], to run in a batch: [`from_batch`] reads its result.
pub fn list_statement(env: &Env, merchant_id: &str) -> StoreResult<D1PreparedStatement> {
    statement(env, LIST, &[text(merchant_id)])
}

/// The rules in a batch's result of [`list_statement`].
pub fn from_batch(result: &D1Result) -> StoreResult<Vec<StoredRule>> {
    Ok(stored(rows_of(result)?))
}

fn stored(rows: Vec<RuleRow>) -> Vec<StoredRule> {
    rows.into_iter()
        .map(|r| StoredRule {
            id: r.id,
            rule: r.rule,
            enabled: r.enabled != 0,
            created: r.created,
        })
        .collect()
}

/// Adds a rule of the merchant's own, unless it has `limit` already or the same text: false
/// when nothing was added.
pub async fn insert(
    env: &Env,
    merchant_id: &str,
    id: &str,
    rule: &str,
    limit: usize,
    now: i64,
) -> StoreResult<bool> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let changed = execute(
        env,
        "INSERT INTO risk_rules (merchant_id, id, rule, enabled, created, updated) \
         SELECT ?1, ?2, ?3, 1, ?4, ?4 \
         WHERE (SELECT COUNT(*) FROM risk_rules WHERE merchant_id = ?1 AND rule IS NOT NULL) < ?5 \
         AND NOT EXISTS (SELECT 1 FROM risk_rules WHERE merchant_id = ?1 AND rule = ?3)",
        &[
            text(merchant_id),
            text(id),
            text(rule),
            int(now),
            int(limit),
        ],
    )
    .await?;
    Ok(changed == 1)
}

/// Enables or disables a rule: the merchant's own (`rule` is `None`: it must exist) or a
/// default (its setting is written, or made).
pub async fn set_enabled(
    env: &Env,
    merchant_id: &str,
    id: &str,
    is_default: bool,
    enabled: bool,
    now: i64,
) -> StoreResult<bool> {
    let enabled = int(i64::from(enabled));
    let changed = if is_default {
        execute(
            env,
            "INSERT INTO risk_rules (merchant_id, id, rule, enabled, created, updated) \
             VALUES (?1, ?2, ?3, ?4, 0, ?5) \
             ON CONFLICT (merchant_id, id) DO UPDATE SET enabled = ?4, updated = ?5",
            &[
                text(merchant_id),
                text(id),
                opt_text(None),
                enabled,
                int(now),
            ],
        )
        .await?
    } else {
        execute(
            env,
            "UPDATE risk_rules SET enabled = ?3, updated = ?4 \
             WHERE merchant_id = ?1 AND id = ?2 AND rule IS NOT NULL",
            &[text(merchant_id), text(id), enabled, int(now)],
        )
        .await?
    };
    Ok(changed == 1)
}

/// Deletes one of the merchant's own rules: false when it has none by that id.
pub async fn delete(env: &Env, merchant_id: &str, id: &str) -> StoreResult<bool> {
    let changed = execute(
        env,
        "DELETE FROM risk_rules WHERE merchant_id = ?1 AND id = ?2 AND rule IS NOT NULL",
        &[text(merchant_id), text(id)],
    )
    .await?;
    Ok(changed == 1)
}
