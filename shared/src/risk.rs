//! Screening a payment attempt: its facts, the merchant's rules, and the assessment a payment
//! carries (`risk: {score, level, rules}`); and the dry run that shows how many past attempts
//! a rule would have hit, replaying them in order so every velocity counter is what it was.

use crate::error::{ApiError, ErrorCode};
use crate::money::Money;
use crate::risk_rules::{
    decide, Action, Counter, Decimal, Facts, Feature, Rule, Subject, Value, Velocity,
};
use crate::velocity::{Entry, History};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What is known of one attempt when it is screened.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttemptFacts {
    pub amount: Option<Money>,
    /// In US cents, once FX can convert the amount.
    pub amount_usd: Option<i64>,
    pub card_country: Option<String>,
    pub ip_country: Option<String>,
    pub card_brand: Option<String>,
    pub card_funding: Option<String>,
    pub email_domain: Option<String>,
    pub customer_age_days: Option<i64>,
    /// The counters the rules read, as the velocity store answered.
    pub velocities: BTreeMap<Velocity, i64>,
}

impl Facts for AttemptFacts {
    fn feature(&self, feature: Feature) -> Option<Value> {
        let text = |t: &Option<String>| t.clone().map(Value::Text);
        match feature {
            Feature::Amount => self
                .amount
                .map(|m| Value::Number(Decimal::minor(m.amount, u32::from(m.currency.exponent())))),
            Feature::AmountUsd => self.amount_usd.map(|c| Value::Number(Decimal::minor(c, 2))),
            Feature::Currency => self
                .amount
                .map(|m| Value::Text(m.currency.code().to_string())),
            Feature::CardCountry => text(&self.card_country),
            Feature::IpCountry => text(&self.ip_country),
            Feature::CardBrand => text(&self.card_brand),
            Feature::CardFunding => text(&self.card_funding),
            Feature::EmailDomain => text(&self.email_domain),
            Feature::CustomerAgeDays => self
                .customer_age_days
                .map(|d| Value::Number(Decimal::whole(d))),
        }
    }

    fn velocity(&self, velocity: Velocity) -> Option<i64> {
        self.velocities.get(&velocity).copied()
    }
}

/// What a payment carries about its screening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskAssessment {
    /// 0 to 100: the weights of the rules that fired, added up (`request_3ds` 30, `review` 60,
    /// `block` 100), capped at 100.
    pub score: u8,
    /// The outcome: `allow`, `request_3ds`, `review` or `block`.
    pub level: String,
    /// The rules that fired, as written.
    pub rules: Vec<String>,
}

fn weight(action: Action) -> u32 {
    match action {
        Action::Allow => 0,
        Action::Request3ds => 30,
        Action::Review => 60,
        Action::Block => 100,
    }
}

pub fn assess(rules: &[Rule], facts: &AttemptFacts) -> (Action, RiskAssessment) {
    let decision = decide(rules, facts);
    let score: u32 = rules
        .iter()
        .filter(|r| decision.rules.contains(&r.source))
        .map(|r| weight(r.action))
        .sum();
    let assessment = RiskAssessment {
        score: u8::try_from(score.min(100)).unwrap_or(100),
        level: decision.action.as_str().to_string(),
        rules: decision.rules,
    };
    (decision.action, assessment)
}

/// A rule as merchants send it (`POST /v1/risk/rules`, and its dry run).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleRequest {
    pub rule: String,
}

impl RuleRequest {
    /// The parsed rule, or a 400 `rule_invalid` that says where and what.
    pub fn validate(&self) -> Result<Rule, ApiError> {
        Rule::parse(&self.rule).map_err(|e| {
            ApiError::new(ErrorCode::RuleInvalid)
                .with_message(format!("rule {e}."))
                .with_param("rule")
        })
    }
}

/// A past attempt, as the dry run replays it: its facts without counters, who made it, and how
/// it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastAttempt {
    pub id: String,
    pub at: i64,
    pub facts: AttemptFacts,
    /// The subjects' keys (card fingerprint, client address, customer, email) it is counted under.
    pub subjects: BTreeMap<Subject, String>,
    pub card: String,
    pub declined: bool,
}

/// How many of the replayed attempts a rule would have hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRun {
    pub object: String,
    pub rule: String,
    pub action: String,
    pub attempts: i64,
    pub hits: i64,
    /// The first hits (at most 20), to look at.
    pub examples: Vec<String>,
}

/// Replays `past` (oldest first) through fresh histories, so each attempt sees the counters it
/// would have seen, and counts where `rule` fires.
pub fn dry_run(rule: &Rule, past: &[PastAttempt]) -> DryRun {
    let wanted = rule.velocities();
    let mut histories: BTreeMap<(Subject, String), History> = BTreeMap::new();
    let (mut hits, mut examples) = (0i64, Vec::new());
    for attempt in past {
        let mut facts = attempt.facts.clone();
        for velocity in &wanted {
            let Some(key) = attempt.subjects.get(&velocity.subject) else {
                continue;
            };
            let before = histories
                .get(&(velocity.subject, key.clone()))
                .map_or(0, |h| {
                    h.count(velocity.counter, velocity.window_seconds, attempt.at)
                });
            // The attempt itself counts too (the edge records it before it asks), but its own
            // outcome is not known yet.
            let own = i64::from(velocity.counter != Counter::Declines);
            facts.velocities.insert(*velocity, before + own);
        }
        if rule.fires(&facts) {
            hits += 1;
            if examples.len() < 20 {
                examples.push(attempt.id.clone());
            }
        }
        for (subject, key) in &attempt.subjects {
            let entry = Entry {
                attempt: attempt.id.clone(),
                at: attempt.at,
                card: attempt.card.clone(),
                declined: attempt.declined,
            };
            histories
                .entry((*subject, key.clone()))
                .or_default()
                .record(entry, attempt.at);
        }
    }
    DryRun {
        object: "risk_rule_dry_run".into(),
        rule: rule.source.clone(),
        action: rule.action.as_str().into(),
        attempts: i64::try_from(past.len()).unwrap_or(i64::MAX),
        hits,
        examples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use crate::risk_rules::DEFAULT_RULES;

    fn rules() -> Vec<Rule> {
        DEFAULT_RULES
            .iter()
            .map(|r| Rule::parse(r).unwrap())
            .collect()
    }

    fn usd(cents: i64) -> Option<Money> {
        Some(Money {
            amount: cents,
            currency: Currency::parse("USD").unwrap(),
        })
    }

    #[test]
    fn an_ordinary_payment_is_allowed_with_score_zero() {
        let facts = AttemptFacts {
            amount: usd(2_500),
            amount_usd: Some(2_500),
            card_country: Some("US".into()),
            ip_country: Some("US".into()),
            customer_age_days: Some(400),
            ..AttemptFacts::default()
        };
        let (action, assessment) = assess(&rules(), &facts);
        assert_eq!(action, Action::Allow);
        assert_eq!(assessment.score, 0);
        assert!(assessment.rules.is_empty());
    }

    #[test]
    fn a_new_customers_large_foreign_payment_is_reviewed_and_scored() {
        let facts = AttemptFacts {
            amount: usd(90_000),
            amount_usd: Some(90_000),
            card_country: Some("BR".into()),
            ip_country: Some("KR".into()),
            customer_age_days: Some(0),
            ..AttemptFacts::default()
        };
        let (action, assessment) = assess(&rules(), &facts);
        assert_eq!(action, Action::Review);
        assert_eq!(assessment.level, "review");
        assert_eq!(assessment.score, 90, "review 60 + request_3ds 30");
        assert_eq!(assessment.rules.len(), 2);
    }

    #[test]
    fn invalid_rules_are_a_400_that_says_where() {
        let error = RuleRequest {
            rule: "block if amount >".into(),
        }
        .validate()
        .unwrap_err();
        assert_eq!(error.code(), ErrorCode::RuleInvalid);
        assert!(
            error.error.message.contains("at character 18"),
            "{}",
            error.error.message
        );
    }

    #[test]
    fn a_dry_run_replays_counters_as_they_were() {
        // One card declined six times in ten minutes, then paid; another card paid once.
        let attempt = |i: i64, card: &str, declined: bool| PastAttempt {
            id: format!("pay_{i}"),
            at: 1_000 + i * 100,
            facts: AttemptFacts {
                amount: usd(1_000),
                ..AttemptFacts::default()
            },
            subjects: BTreeMap::from([(Subject::Card, card.to_string())]),
            card: card.into(),
            declined,
        };
        let mut past: Vec<PastAttempt> = (0..6).map(|i| attempt(i, "card_a", true)).collect();
        past.push(attempt(6, "card_a", false));
        past.push(attempt(7, "card_b", false));
        let rule = Rule::parse("block if declines(card, 1h) >= 5").unwrap();
        let run = dry_run(&rule, &past);
        assert_eq!((run.attempts, run.hits), (8, 2), "{run:?}");
        assert_eq!(run.examples, ["pay_5", "pay_6"]);
        let first = Rule::parse("review if attempts(card, 1h) == 1").unwrap();
        let run = dry_run(&first, &past);
        assert_eq!(
            run.examples,
            ["pay_0", "pay_7"],
            "each card's first attempt"
        );
    }
}
