//! What a merchant sells on subscription: products, and the recurring prices they are sold at.
//! Neither is ever deleted, only archived (`active: false`): the subscriptions and invoices that
//! name them must keep meaning what they meant. An archived price starts no new subscription.

use crate::billing_period::{Interval, Recurrence};
use crate::error::{ApiError, ErrorCode};
use crate::money::{Currency, Money};
use serde::{Deserialize, Serialize};

/// Longest product name and description, in characters.
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 1_000;
/// The longest free trial a price may give: two years.
pub const MAX_TRIAL_DAYS: u16 = 730;

fn invalid(param: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::ParameterInvalid)
        .with_message(message)
        .with_param(param)
}

/// Text a person typed: trimmed, not empty, at most `max` characters, no control characters.
fn text(param: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max || trimmed.chars().any(char::is_control)
    {
        return Err(invalid(
            param,
            format!("{param} is 1 to {max} characters, without control characters."),
        ));
    }
    Ok(trimmed.to_string())
}

/// `POST /v1/products`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl CreateProduct {
    /// The name and description as stored.
    pub fn checked(&self) -> Result<(String, Option<String>), ApiError> {
        let name = text("name", &self.name, MAX_NAME_CHARS)?;
        let description = self
            .description
            .as_deref()
            .map(|d| text("description", d, MAX_DESCRIPTION_CHARS))
            .transpose()?;
        Ok((name, description))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub object: String,
    pub name: String,
    pub description: Option<String>,
    /// False once archived: its prices start no new subscription.
    pub active: bool,
    pub created: i64,
}

/// `POST /v1/products/:id` and `POST /v1/prices/:id`: archive, or bring back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetActive {
    pub active: bool,
}

fn one() -> u16 {
    1
}

/// `POST /v1/prices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePrice {
    /// The product (`prod_…`).
    pub product: String,
    /// Minor units per period, per unit of quantity.
    pub unit_amount: i64,
    pub currency: Currency,
    pub interval: Interval,
    #[serde(default = "one")]
    pub interval_count: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_days: Option<u16>,
}

impl CreatePrice {
    /// The amount per period and how it recurs, or why the price is refused.
    pub fn checked(&self) -> Result<(Money, Recurrence), ApiError> {
        let amount = Money::payable(self.unit_amount, self.currency).map_err(|e| {
            ApiError::new(ErrorCode::AmountInvalid)
                .with_message(e.to_string())
                .with_param("unit_amount")
        })?;
        let recurrence = Recurrence::new(self.interval, self.interval_count)
            .map_err(|e| invalid("interval_count", format!("{e}.")))?;
        if self.trial_days.is_some_and(|days| days > MAX_TRIAL_DAYS) {
            return Err(invalid(
                "trial_days",
                format!("trial_days is 0 to {MAX_TRIAL_DAYS}."),
            ));
        }
        Ok((amount, recurrence))
    }
}

/// How a price recurs, as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurring {
    pub interval: Interval,
    pub interval_count: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    pub id: String,
    pub object: String,
    pub product: String,
    pub unit_amount: i64,
    pub currency: Currency,
    pub recurring: Recurring,
    /// Days free before the first charge, for subscriptions that do not say otherwise.
    pub trial_days: Option<u16>,
    /// False once archived: it starts no new subscription.
    pub active: bool,
    pub created: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(body: serde_json::Value) -> Result<CreatePrice, serde_json::Error> {
        serde_json::from_value(body)
    }

    #[test]
    fn prices_need_a_payable_amount_a_period_of_at_most_a_year_and_a_bounded_trial() {
        let monthly = price(serde_json::json!({
            "product": "prod_1", "unit_amount": 9_900, "currency": "KRW", "interval": "month"
        }))
        .unwrap();
        let (amount, recurrence) = monthly.checked().unwrap();
        assert_eq!(amount.amount, 9_900);
        assert_eq!(
            (recurrence.interval(), recurrence.count()),
            (Interval::Month, 1)
        );
        let code = |body: serde_json::Value| {
            price(body)
                .unwrap()
                .checked()
                .unwrap_err()
                .error
                .param
                .unwrap_or_default()
        };
        assert_eq!(
            code(
                serde_json::json!({"product": "p", "unit_amount": 0, "currency": "USD", "interval": "day"})
            ),
            "unit_amount"
        );
        assert_eq!(
            code(
                serde_json::json!({"product": "p", "unit_amount": 100, "currency": "USD", "interval": "month", "interval_count": 13})
            ),
            "interval_count"
        );
        assert_eq!(
            code(
                serde_json::json!({"product": "p", "unit_amount": 100, "currency": "USD", "interval": "week", "trial_days": 731})
            ),
            "trial_days"
        );
        assert!(price(serde_json::json!({"product": "p", "unit_amount": 100, "currency": "USD", "interval": "fortnight"})).is_err());
        assert!(price(serde_json::json!({"product": "p", "unit_amount": 100, "currency": "USD", "interval": "day", "tier": 1})).is_err());
    }

    #[test]
    fn product_names_are_trimmed_bounded_and_printable() {
        let named = |name: &str| {
            CreateProduct {
                name: name.into(),
                description: None,
            }
            .checked()
        };
        assert_eq!(named("  프리미엄 멤버십 ").unwrap().0, "프리미엄 멤버십");
        assert!(named("   ").is_err());
        assert!(named("Gold\u{0}").is_err());
        assert!(named(&"월".repeat(MAX_NAME_CHARS)).is_ok());
        assert!(named(&"월".repeat(MAX_NAME_CHARS + 1)).is_err());
    }
}
