//! Screening a payment attempt: its facts, the merchant's rules, and the assessment a payment
//! carries (`risk: {score, level, rules}`); and the dry run that shows how many past attempts
//! a rule would have hit, replaying them in order so every velocity counter is what it was.

use crate::error::{ApiError, ErrorCode};
use crate::money::Money;
use crate::risk_rules::{
    decide, Action, Decimal, Facts, Feature, Rule, Subject, Value, Velocity, DEFAULT_RULES,
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
        // As the edge does: the attempt is recorded in each of its subjects' histories first
        // (not declined yet: its outcome is not known when it is screened), then counted.
        for (subject, key) in &attempt.subjects {
            let entry = Entry {
                attempt: attempt.id.clone(),
                at: attempt.at,
                card: attempt.card.clone(),
                declined: false,
            };
            histories
                .entry((*subject, key.clone()))
                .or_default()
                .record(entry, attempt.at);
        }
        let mut facts = attempt.facts.clone();
        for velocity in &wanted {
            let count = attempt
                .subjects
                .get(&velocity.subject)
                .and_then(|key| histories.get(&(velocity.subject, key.clone())))
                .map(|h| h.count(velocity.counter, velocity.window_seconds, attempt.at));
            if let Some(count) = count {
                facts.velocities.insert(*velocity, count);
            }
        }
        if rule.fires(&facts) {
            hits += 1;
            if examples.len() < 20 {
                examples.push(attempt.id.clone());
            }
        }
        if attempt.declined {
            for (subject, key) in &attempt.subjects {
                if let Some(history) = histories.get_mut(&(*subject, key.clone())) {
                    history.mark_declined(&attempt.id);
                }
            }
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

/// Till's default rules by stable id, in [`DEFAULT_RULES`] order: a merchant may disable one.
pub const DEFAULT_RULE_IDS: [&str; DEFAULT_RULES.len()] = [
    "rule_default_card_declines",
    "rule_default_ip_cards",
    "rule_default_geo_mismatch",
    "rule_default_new_customer",
    "rule_default_email_attempts",
    "rule_default_email_cards",
];

/// The most rules a merchant may add of its own: every rule runs on every attempt.
pub const MAX_MERCHANT_RULES: usize = 50;

/// A merchant's own rule (`rule_…`) or one of Till's defaults.
pub fn is_rule_id(id: &str) -> bool {
    crate::ids::is_valid(crate::ids::IdKind::RiskRule, id) || DEFAULT_RULE_IDS.contains(&id)
}

/// What a merchant stored: its own rule, or its setting for a default (no text of its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRule {
    pub id: String,
    pub rule: Option<String>,
    pub enabled: bool,
    pub created: i64,
}

/// A rule as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskRule {
    pub id: String,
    pub object: String,
    pub rule: String,
    pub action: String,
    pub enabled: bool,
    /// One of Till's defaults: it can be disabled, not deleted.
    pub default: bool,
    /// When the merchant added it (0 for a default).
    pub created: i64,
}

/// `POST /v1/risk/rules/:id`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleUpdate {
    pub enabled: bool,
}

/// The merchant's rules as the API lists them: the defaults first (with the merchant's setting),
/// then its own, oldest first. A stored rule that no longer parses is left out.
pub fn listed_rules(stored: &[StoredRule]) -> Vec<(RiskRule, Rule)> {
    let setting = |id: &str| stored.iter().find(|s| s.id == id).map(|s| s.enabled);
    let defaults = DEFAULT_RULE_IDS
        .iter()
        .zip(DEFAULT_RULES)
        .map(|(id, text)| (*id, text.to_string(), setting(id).unwrap_or(true), 0));
    let own = stored
        .iter()
        .filter_map(|s| Some((s.id.as_str(), s.rule.clone()?, s.enabled, s.created)));
    defaults
        .chain(own)
        .filter_map(|(id, text, enabled, created)| {
            let rule = Rule::parse(&text).ok()?;
            let listed = RiskRule {
                id: id.to_string(),
                object: "risk_rule".into(),
                rule: text,
                action: rule.action.as_str().into(),
                enabled,
                default: DEFAULT_RULE_IDS.contains(&id),
                created,
            };
            Some((listed, rule))
        })
        .collect()
}

/// The rules that screen the merchant's attempts: the enabled ones.
pub fn effective_rules(stored: &[StoredRule]) -> Vec<Rule> {
    listed_rules(stored)
        .into_iter()
        .filter(|(listed, _)| listed.enabled)
        .map(|(_, rule)| rule)
        .collect()
}

/// Where a payment held by a `review` rule stands. Open: authorized, not captured, waiting for
/// the merchant; approving captures it, rejecting voids it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Open,
    Approved,
    Rejected,
}

impl ReviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Open => "open",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<ReviewStatus> {
        [
            ReviewStatus::Open,
            ReviewStatus::Approved,
            ReviewStatus::Rejected,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What the attempt gets. A merchant-initiated charge has no customer to authenticate: a rule
/// asking for 3-D Secure holds it for review instead.
pub fn outcome(action: Action, customer_present: bool) -> Action {
    match action {
        Action::Request3ds if !customer_present => Action::Review,
        action => action,
    }
}

/// The domain of an email address, lowercased (`Ana@Example.COM` → `example.com`).
pub fn email_domain(email: &str) -> Option<String> {
    let (_, domain) = email.trim().rsplit_once('@')?;
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

/// Whole days since `created` (0 on the first day).
pub fn customer_age_days(created: i64, now: i64) -> i64 {
    (now - created).max(0) / 86_400
}

/// The amount in US cents, while Till has no exchange rates: known for USD only.
pub fn usd_cents(amount: Money) -> Option<i64> {
    (amount.currency.code() == "USD").then_some(amount.amount)
}

/// What a payment keeps of its screening, so a later dry run can replay it: the facts that are
/// not columns of the payment, and the keys it was counted under (the card's fingerprint,
/// hashes of the client address and email, the customer's id).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreeningRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_funding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_age_days: Option<i64>,
    #[serde(default)]
    pub subjects: BTreeMap<String, String>,
}

impl ScreeningRecord {
    pub fn of(facts: &AttemptFacts, subjects: &BTreeMap<Subject, String>) -> ScreeningRecord {
        ScreeningRecord {
            card_country: facts.card_country.clone(),
            card_funding: facts.card_funding.clone(),
            email_domain: facts.email_domain.clone(),
            customer_age_days: facts.customer_age_days,
            subjects: subjects
                .iter()
                .map(|(s, key)| (s.as_str().to_string(), key.clone()))
                .collect(),
        }
    }

    /// The attempt as a dry run replays it, with what the payment row itself knows.
    pub fn past_attempt(&self, payment: PaymentFacts) -> PastAttempt {
        let subjects: BTreeMap<Subject, String> = self
            .subjects
            .iter()
            .filter_map(|(name, key)| Some((Subject::parse(name)?, key.clone())))
            .collect();
        PastAttempt {
            card: subjects.get(&Subject::Card).cloned().unwrap_or_default(),
            facts: AttemptFacts {
                amount: Some(payment.amount),
                amount_usd: usd_cents(payment.amount),
                card_country: self.card_country.clone(),
                ip_country: payment.ip_country,
                card_brand: Some(payment.card_brand),
                card_funding: self.card_funding.clone(),
                email_domain: self.email_domain.clone(),
                customer_age_days: self.customer_age_days,
                velocities: BTreeMap::new(),
            },
            subjects,
            id: payment.id,
            at: payment.at,
            declined: payment.declined,
        }
    }
}

/// What a payment row says of a past attempt.
pub struct PaymentFacts {
    pub id: String,
    pub at: i64,
    pub amount: Money,
    pub card_brand: String,
    pub ip_country: Option<String>,
    pub declined: bool,
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
        // One card again and again from one address is one distinct card, not one per attempt.
        let from_one_ip: Vec<PastAttempt> = (0..10)
            .map(|i| PastAttempt {
                subjects: BTreeMap::from([
                    (Subject::Card, "card_a".to_string()),
                    (Subject::Ip, "ip_1".to_string()),
                ]),
                ..attempt(i, "card_a", false)
            })
            .collect();
        let cards = Rule::parse("block if distinct_cards(ip, 1h) >= 2").unwrap();
        assert_eq!(dry_run(&cards, &from_one_ip).hits, 0);
        let first = Rule::parse("review if attempts(card, 1h) == 1").unwrap();
        let run = dry_run(&first, &past);
        assert_eq!(
            run.examples,
            ["pay_0", "pay_7"],
            "each card's first attempt"
        );
    }

    #[test]
    fn defaults_can_be_disabled_and_own_rules_follow_them() {
        let stored = [
            StoredRule {
                id: "rule_default_ip_cards".into(),
                rule: None,
                enabled: false,
                created: 0,
            },
            StoredRule {
                id: "rule_0d4c3b2a19f84e7d9c6b5a4f3e2d1c0b".into(),
                rule: Some("block if card_country in ('KP', 'IR')".into()),
                enabled: true,
                created: 10,
            },
            StoredRule {
                id: "rule_1d4c3b2a19f84e7d9c6b5a4f3e2d1c0b".into(),
                rule: Some("review if amount > 1000".into()),
                enabled: false,
                created: 11,
            },
        ];
        let listed = listed_rules(&stored);
        assert_eq!(listed.len(), DEFAULT_RULES.len() + 2);
        let ip = listed
            .iter()
            .find(|(r, _)| r.id == "rule_default_ip_cards")
            .unwrap();
        assert!(!ip.0.enabled && ip.0.default);
        assert_eq!(listed.last().unwrap().0.action, "review");
        let effective = effective_rules(&stored);
        assert_eq!(effective.len(), DEFAULT_RULES.len() - 1 + 1);
        assert!(effective.iter().all(|r| r.source != DEFAULT_RULES[1]));
        assert!(is_rule_id("rule_default_card_declines"));
        assert!(is_rule_id(&crate::ids::new_id(
            crate::ids::IdKind::RiskRule,
            [9; 16]
        )));
        assert!(!is_rule_id("rule_default_nope"));
        assert!(!is_rule_id("pay_0d4c3b2a19f84e7d9c6b5a4f3e2d1c0b"));
    }

    #[test]
    fn without_a_customer_present_3ds_becomes_review() {
        assert_eq!(outcome(Action::Request3ds, true), Action::Request3ds);
        assert_eq!(outcome(Action::Request3ds, false), Action::Review);
        assert_eq!(outcome(Action::Block, false), Action::Block);
        assert_eq!(outcome(Action::Allow, false), Action::Allow);
    }

    #[test]
    fn email_domain_customer_age_and_usd() {
        assert_eq!(
            email_domain(" Ana@Example.COM ").as_deref(),
            Some("example.com")
        );
        assert_eq!(email_domain("a@b@mail.kr").as_deref(), Some("mail.kr"));
        assert_eq!(email_domain("nobody"), None);
        assert_eq!(email_domain("trailing@"), None);
        assert_eq!(customer_age_days(1_000, 1_000), 0);
        assert_eq!(customer_age_days(0, 86_399), 0);
        assert_eq!(customer_age_days(0, 86_400 * 3 + 5), 3);
        assert_eq!(
            customer_age_days(500, 100),
            0,
            "a clock behind the record is day 0"
        );
        assert_eq!(usd_cents(usd(1_234).unwrap()), Some(1_234));
        let krw = Money {
            amount: 45_000,
            currency: Currency::parse("KRW").unwrap(),
        };
        assert_eq!(usd_cents(krw), None);
    }

    #[test]
    fn a_stored_screening_replays_as_the_attempt_it_was() {
        let facts = AttemptFacts {
            amount: usd(60_000),
            card_country: Some("BR".into()),
            card_funding: Some("credit".into()),
            email_domain: Some("mail.test".into()),
            customer_age_days: Some(0),
            ..AttemptFacts::default()
        };
        let subjects = BTreeMap::from([
            (Subject::Card, "card_key".to_string()),
            (Subject::Ip, "ip_key".to_string()),
        ]);
        let record = ScreeningRecord::of(&facts, &subjects);
        let stored: ScreeningRecord =
            serde_json::from_str(&serde_json::to_string(&record).unwrap()).unwrap();
        let past = stored.past_attempt(PaymentFacts {
            id: "pay_1".into(),
            at: 5,
            amount: usd(60_000).unwrap(),
            card_brand: "visa".into(),
            ip_country: Some("KR".into()),
            declined: false,
        });
        assert_eq!(past.subjects, subjects);
        assert_eq!(past.card, "card_key");
        let rule = Rule::parse(DEFAULT_RULES[2]).unwrap();
        assert!(rule.fires(&past.facts), "{:?}", past.facts);
    }

    #[test]
    fn the_local_seed_names_every_default_rule_it_turns_off() {
        let seed = include_str!("../../edge/seed/demo.sql");
        for id in DEFAULT_RULE_IDS {
            assert!(seed.contains(&format!("\"{id}\"")), "{id}");
        }
    }
}
