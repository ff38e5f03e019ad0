//! Fraud screening at the edge: an attempt's facts gathered (the card's BIN data, sealed with
//! it at tokenization; the client's country; the customer's age and email domain; velocity
//! counters from their Durable Objects), the merchant's rules applied (`till_core::risk`),
//! and what the payment keeps of it. Everything decided here is decided before any gateway
//! sees the card.

pub mod velocity;

use crate::store::customers::CustomerRow;
use crate::vault::VaultedCard;
use std::collections::{BTreeMap, BTreeSet};
use till_core::error::ApiError;
use till_core::money::Money;
use till_core::risk::{self, AttemptFacts, RiskAssessment, ScreeningRecord};
use till_core::risk_rules::{Action, Rule, Subject};
use till_core::velocity::{hidden_key, KEY_CHARS};
use velocity::Window;
use worker::Env;

/// The card as velocity histories tell cards apart (a prefix of its keyed fingerprint).
const CARD_CHARS: usize = 16;

/// One attempt to screen.
pub struct Attempt<'a> {
    pub merchant_id: &'a str,
    /// The same for every retry of one request (the payment's gateway key): a retry is not
    /// counted twice.
    pub key: &'a str,
    pub amount: Money,
    pub card: &'a VaultedCard,
    /// The customer's address and its country (`CF-IPCountry`), when the customer is there.
    pub client: Option<(&'a str, Option<&'a str>)>,
    pub customer: Option<&'a CustomerRow>,
    /// The customer's email, or the receipt address the checkout was given.
    pub email: Option<&'a str>,
    pub now: i64,
}

impl Attempt<'_> {
    fn customer_present(&self) -> bool {
        self.client.is_some()
    }
}

/// How the rules saw an attempt.
pub struct Screening {
    pub action: Action,
    pub assessment: RiskAssessment,
    pub record: ScreeningRecord,
}

impl Screening {
    /// The assessment as the payment stores it (`risk`).
    pub fn risk_json(&self) -> Option<String> {
        serde_json::to_string(&self.assessment).ok()
    }

    /// The facts a later dry run needs (`screening`).
    pub fn record_json(&self) -> Option<String> {
        serde_json::to_string(&self.record).ok()
    }
}

fn short(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

/// The keys the attempt is counted under.
fn subjects(attempt: &Attempt<'_>) -> BTreeMap<Subject, String> {
    let hashed = |value: &str| hidden_key(attempt.merchant_id, value);
    let mut subjects =
        BTreeMap::from([(Subject::Card, short(&attempt.card.fingerprint, KEY_CHARS))]);
    if let Some((ip, _)) = attempt.client {
        subjects.insert(Subject::Ip, hashed(ip));
    }
    if let Some(customer) = attempt.customer {
        subjects.insert(Subject::Customer, customer.id.clone());
    }
    if let Some(email) = attempt.email {
        subjects.insert(Subject::Email, hashed(&email.trim().to_lowercase()));
    }
    subjects
}

/// Screens `attempt` with `rules`: records it in every subject's history (whatever the rules
/// read, so a rule added later has counts), reads the counters the rules ask for, and decides.
pub async fn screen(
    env: &Env,
    rules: &[Rule],
    attempt: &Attempt<'_>,
) -> Result<Screening, ApiError> {
    let subjects = subjects(attempt);
    let wanted: BTreeSet<_> = rules.iter().flat_map(Rule::velocities).collect();
    let card = short(&attempt.card.fingerprint, CARD_CHARS);
    let asked: Vec<Vec<_>> = subjects
        .keys()
        .map(|subject| wanted.iter().filter(|v| v.subject == *subject).collect())
        .collect();
    let windows: Vec<Vec<_>> = asked
        .iter()
        .map(|asked| {
            asked
                .iter()
                .map(|v| Window {
                    counter: v.counter,
                    seconds: v.window_seconds,
                })
                .collect()
        })
        .collect();
    let histories: Vec<_> = subjects
        .iter()
        .map(|(subject, key)| (*subject, key.as_str()))
        .collect();
    let counts = velocity::count(
        env,
        attempt.merchant_id,
        &histories,
        &windows,
        attempt.key,
        attempt.now,
        &card,
    )
    .await?;
    let mut velocities = BTreeMap::new();
    for (asked, counts) in asked.into_iter().zip(counts) {
        for (velocity, count) in asked.into_iter().zip(counts) {
            velocities.insert(*velocity, count);
        }
    }
    let facts = AttemptFacts {
        amount: Some(attempt.amount),
        amount_usd: risk::usd_cents(attempt.amount),
        card_country: attempt.card.card_country.clone(),
        ip_country: attempt
            .client
            .and_then(|(_, country)| country.map(str::to_string)),
        card_brand: Some(attempt.card.brand.as_str().to_string()),
        card_funding: attempt.card.card_funding.clone(),
        email_domain: attempt.email.and_then(risk::email_domain),
        customer_age_days: attempt
            .customer
            .map(|c| risk::customer_age_days(c.created, attempt.now)),
        velocities,
    };
    let (decided, mut assessment) = risk::assess(rules, &facts);
    let action = risk::outcome(decided, attempt.customer_present());
    assessment.level = action.as_str().to_string();
    Ok(Screening {
        action,
        assessment,
        record: ScreeningRecord::of(&facts, &subjects),
    })
}

/// Counts a refused attempt as a decline in each history it was recorded in. A failure is
/// logged, not raised: the payment's outcome is already written.
pub async fn count_decline(env: &Env, merchant_id: &str, screening: Option<&str>, key: &str) {
    let Some(record) = screening.and_then(|s| serde_json::from_str::<ScreeningRecord>(s).ok())
    else {
        return;
    };
    let subjects: Vec<_> = record
        .subjects
        .iter()
        .filter_map(|(name, key)| Some((Subject::parse(name)?, key.as_str())))
        .collect();
    for result in velocity::decline(env, merchant_id, &subjects, key).await {
        if let Err(error) = result {
            crate::log_warn!("risk: a decline was not counted: {}", error.error.message);
        }
    }
}
