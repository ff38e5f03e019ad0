//! The merchant's risk rules: Till's defaults (which it may disable) and its own, and the dry
//! run that shows what a rule would have done to the last 30 days of attempts.

use crate::auth::Caller;
use crate::http::{body_value, json, parse, ApiResult};
use crate::store::payments::ReplayRow;
use crate::{clock, random, store};
use till_core::api::List;
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::IdKind;
use till_core::money::Money;
use till_core::payment::PaymentStatus;
use till_core::risk::{
    self, listed_rules, PaymentFacts, RiskRule, RuleRequest, RuleUpdate, ScreeningRecord,
    MAX_MERCHANT_RULES,
};
use worker::{Env, Request};

/// How far back a dry run looks, and at most how many attempts it replays (the newest).
const DRY_RUN_SECONDS: i64 = 30 * 86_400;
const DRY_RUN_ATTEMPTS: usize = 20_000;

async fn listed(env: &Env, caller: &Caller) -> Result<Vec<RiskRule>, ApiError> {
    let stored = store::risk_rules::list(env, &caller.merchant_id).await?;
    Ok(listed_rules(&stored).into_iter().map(|(r, _)| r).collect())
}

fn missing() -> ApiError {
    ApiError::not_found("risk rule")
}

async fn one(env: &Env, caller: &Caller, id: &str) -> Result<RiskRule, ApiError> {
    listed(env, caller)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(missing)
}

/// `GET /v1/risk/rules`: every rule, defaults first, with whether it is on.
pub async fn list(env: &Env, caller: &Caller) -> ApiResult {
    let rules = listed(env, caller).await?;
    let count = rules.len();
    json(200, &List::page(rules, count))
}

/// `POST /v1/risk/rules {rule}`: a rule of the merchant's own, on at once. The same text twice
/// is refused (409), so a retried request adds nothing.
pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: RuleRequest = parse(body_value(&mut req).await?)?;
    let rule = request.validate()?;
    if till_core::risk_rules::DEFAULT_RULES.contains(&rule.source.as_str()) {
        return Err(ApiError::new(ErrorCode::RuleExists).with_param("rule"));
    }
    let stored = store::risk_rules::list(env, &caller.merchant_id).await?;
    if stored
        .iter()
        .any(|s| s.rule.as_deref() == Some(rule.source.as_str()))
    {
        return Err(ApiError::new(ErrorCode::RuleExists).with_param("rule"));
    }
    let id = random::id(IdKind::RiskRule)?;
    let now = clock::now_seconds();
    let added = store::risk_rules::insert(
        env,
        &caller.merchant_id,
        &id,
        &rule.source,
        MAX_MERCHANT_RULES,
        now,
    )
    .await?;
    if !added {
        // Full, or the same rule was added meanwhile.
        let stored = store::risk_rules::list(env, &caller.merchant_id).await?;
        let code = if stored
            .iter()
            .any(|s| s.rule.as_deref() == Some(rule.source.as_str()))
        {
            ErrorCode::RuleExists
        } else {
            ErrorCode::RuleLimit
        };
        return Err(ApiError::new(code).with_param("rule"));
    }
    json(200, &one(env, caller, &id).await?)
}

/// `POST /v1/risk/rules/:id {enabled}`: turns a rule (a default or the merchant's) on or off.
pub async fn update(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let request: RuleUpdate = parse(body_value(&mut req).await?)?;
    if !risk::is_rule_id(id) {
        return Err(missing());
    }
    let is_default = risk::DEFAULT_RULE_IDS.contains(&id);
    let changed = store::risk_rules::set_enabled(
        env,
        &caller.merchant_id,
        id,
        is_default,
        request.enabled,
        clock::now_seconds(),
    )
    .await?;
    if !changed {
        return Err(missing());
    }
    json(200, &one(env, caller, id).await?)
}

/// `DELETE /v1/risk/rules/:id`: removes one of the merchant's own rules.
pub async fn delete(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    if risk::DEFAULT_RULE_IDS.contains(&id) {
        return Err(ApiError::new(ErrorCode::DefaultRuleKept));
    }
    if !risk::is_rule_id(id) || !store::risk_rules::delete(env, &caller.merchant_id, id).await? {
        return Err(missing());
    }
    json(
        200,
        &serde_json::json!({"id": id, "object": "risk_rule", "deleted": true}),
    )
}

fn past_attempt(row: ReplayRow) -> risk::PastAttempt {
    let record = row
        .screening
        .as_deref()
        .and_then(|s| serde_json::from_str::<ScreeningRecord>(s).ok())
        .unwrap_or_default();
    record.past_attempt(PaymentFacts {
        at: row.created,
        amount: Money {
            amount: row.amount,
            currency: row.currency,
        },
        card_brand: row.card_brand.as_str().to_string(),
        ip_country: row.country,
        declined: row.status == PaymentStatus::Failed,
        id: row.id,
    })
}

/// `POST /v1/risk/dry_runs {rule}`: how many of the last 30 days' attempts (the newest 20,000)
/// the rule would have hit, each replayed with the counters it saw. Nothing is stored.
pub async fn dry_run(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: RuleRequest = parse(body_value(&mut req).await?)?;
    let rule = request.validate()?;
    let since = clock::now_seconds() - DRY_RUN_SECONDS;
    let rows =
        store::payments::attempts_since(env, &caller.merchant_id, since, DRY_RUN_ATTEMPTS).await?;
    let past: Vec<_> = rows.into_iter().map(past_attempt).collect();
    json(200, &risk::dry_run(&rule, &past))
}
