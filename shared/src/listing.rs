//! Lists a merchant searches: which filters each list takes, read from the query string and
//! checked here, so the edge only turns a valid [`ListQuery`] into SQL. Unknown parameters are
//! refused rather than ignored: a misspelt filter would otherwise return everything.

use crate::api::Page;
use crate::card::Brand;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{self, IdKind};
use crate::money::Currency;
use crate::payment::{RefundStatus, ALL_STATUSES};
use crate::payout::PayoutStatus;
use crate::transfer::TransferStatus;

/// The lists with filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    Payments,
    Refunds,
    CheckoutSessions,
    Transfers,
    Payouts,
    Events,
}

/// One filter of a list's query string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Status,
    CreatedGte,
    CreatedLte,
    AmountGte,
    AmountLte,
    Currency,
    Customer,
    MerchantReference,
    Last4,
    Brand,
    Payment,
    Type,
}

impl Filter {
    pub fn name(self) -> &'static str {
        match self {
            Filter::Status => "status",
            Filter::CreatedGte => "created_gte",
            Filter::CreatedLte => "created_lte",
            Filter::AmountGte => "amount_gte",
            Filter::AmountLte => "amount_lte",
            Filter::Currency => "currency",
            Filter::Customer => "customer",
            Filter::MerchantReference => "merchant_reference",
            Filter::Last4 => "last4",
            Filter::Brand => "brand",
            Filter::Payment => "payment",
            Filter::Type => "type",
        }
    }
}

const TIME_AND_MONEY: [Filter; 6] = [
    Filter::Status,
    Filter::CreatedGte,
    Filter::CreatedLte,
    Filter::AmountGte,
    Filter::AmountLte,
    Filter::Currency,
];

const SESSION_STATUSES: [&str; 4] = ["open", "processing", "complete", "locked"];

/// The most a brand-new event type or `merchant_reference` filter may be (longer matches nothing).
const MAX_TEXT_FILTER: usize = 200;

impl Listed {
    /// The filters this list takes, beyond `limit` and `starting_after`.
    pub fn filters(self) -> Vec<Filter> {
        let mut filters = match self {
            Listed::Events => vec![Filter::CreatedGte, Filter::CreatedLte],
            _ => TIME_AND_MONEY.to_vec(),
        };
        filters.extend_from_slice(match self {
            Listed::Payments => &[
                Filter::Customer,
                Filter::MerchantReference,
                Filter::Last4,
                Filter::Brand,
            ],
            Listed::Refunds => &[Filter::Payment],
            Listed::CheckoutSessions => &[Filter::Customer, Filter::MerchantReference],
            Listed::Transfers | Listed::Payouts => &[Filter::Customer],
            Listed::Events => &[Filter::Type, Filter::Payment],
        });
        filters
    }

    pub fn id_kind(self) -> IdKind {
        match self {
            Listed::Payments => IdKind::Payment,
            Listed::Refunds => IdKind::Refund,
            Listed::CheckoutSessions => IdKind::CheckoutSession,
            Listed::Transfers => IdKind::Transfer,
            Listed::Payouts => IdKind::Payout,
            Listed::Events => IdKind::Event,
        }
    }

    /// The statuses `status=` may name.
    pub fn statuses(self) -> Vec<&'static str> {
        match self {
            Listed::Payments => ALL_STATUSES.iter().map(|s| s.as_str()).collect(),
            Listed::Refunds => [
                RefundStatus::Pending,
                RefundStatus::Succeeded,
                RefundStatus::Failed,
            ]
            .iter()
            .map(|s| s.as_str())
            .collect(),
            Listed::CheckoutSessions => SESSION_STATUSES.to_vec(),
            Listed::Transfers => [
                TransferStatus::Pending,
                TransferStatus::Succeeded,
                TransferStatus::Failed,
                TransferStatus::AwaitingClaim,
                TransferStatus::Returned,
            ]
            .iter()
            .map(|s| s.as_str())
            .collect(),
            Listed::Payouts => [
                PayoutStatus::Pending,
                PayoutStatus::Processing,
                PayoutStatus::Paid,
                PayoutStatus::Failed,
                PayoutStatus::Returned,
            ]
            .iter()
            .map(|s| s.as_str())
            .collect(),
            Listed::Events => Vec::new(),
        }
    }
}

/// A checked list request: the page and each filter given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub page: Page,
    pub status: Option<String>,
    pub created_gte: Option<i64>,
    pub created_lte: Option<i64>,
    pub amount_gte: Option<i64>,
    pub amount_lte: Option<i64>,
    pub currency: Option<Currency>,
    pub customer: Option<String>,
    pub merchant_reference: Option<String>,
    pub last4: Option<String>,
    pub brand: Option<String>,
    pub payment: Option<String>,
    pub event_type: Option<String>,
}

fn invalid(filter: &str, message: String) -> ApiError {
    ApiError::new(ErrorCode::ParameterInvalid)
        .with_message(message)
        .with_param(filter)
}

fn non_negative(filter: Filter, value: &str) -> Result<i64, ApiError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            invalid(
                filter.name(),
                format!("{} is a whole number, 0 or more.", filter.name()),
            )
        })
}

fn id_of(filter: Filter, kind: IdKind, value: &str) -> Result<String, ApiError> {
    if ids::is_valid(kind, value) {
        Ok(value.to_string())
    } else {
        Err(invalid(
            filter.name(),
            format!(
                "{} must be an id such as {}....",
                filter.name(),
                kind.prefix()
            ),
        ))
    }
}

/// A query string names only `allowed` parameters, each once: anything else is refused with
/// the parameter named (a misspelt filter must not silently match everything).
pub fn check_names(pairs: &[(String, String)], allowed: &[&str]) -> Result<(), ApiError> {
    let mut seen: Vec<&str> = Vec::new();
    for (name, _) in pairs {
        if !allowed.contains(&name.as_str()) {
            return Err(invalid(
                name,
                format!(
                    "Unknown parameter {name:?}. This takes {}.",
                    allowed.join(", ")
                ),
            ));
        }
        if seen.contains(&name.as_str()) {
            return Err(invalid(name, format!("{name} is given more than once.")));
        }
        seen.push(name);
    }
    Ok(())
}

impl ListQuery {
    /// Reads a list's query string (`pairs`, already percent-decoded).
    pub fn parse(listed: Listed, pairs: &[(String, String)]) -> Result<ListQuery, ApiError> {
        let mut query = ListQuery {
            page: Page {
                limit: 10,
                starting_after: None,
            },
            status: None,
            created_gte: None,
            created_lte: None,
            amount_gte: None,
            amount_lte: None,
            currency: None,
            customer: None,
            merchant_reference: None,
            last4: None,
            brand: None,
            payment: None,
            event_type: None,
        };
        let allowed = listed.filters();
        let mut names = vec!["limit", "starting_after"];
        names.extend(allowed.iter().map(|f| f.name()));
        check_names(pairs, &names)?;
        let value_of = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, v)| v.as_str())
        };
        query.page = Page::parse(
            value_of("limit"),
            value_of("starting_after"),
            listed.id_kind(),
        )?;
        for (name, value) in pairs {
            if name == "limit" || name == "starting_after" {
                continue;
            }
            let Some(filter) = allowed.iter().copied().find(|f| f.name() == name) else {
                continue;
            };
            query.set(listed, filter, value)?;
        }
        let inverted = |low: Option<i64>, high: Option<i64>| matches!((low, high), (Some(l), Some(h)) if l > h);
        if inverted(query.created_gte, query.created_lte) {
            return Err(invalid(
                "created_gte",
                "created_gte is after created_lte.".into(),
            ));
        }
        if inverted(query.amount_gte, query.amount_lte) {
            return Err(invalid(
                "amount_gte",
                "amount_gte is above amount_lte.".into(),
            ));
        }
        Ok(query)
    }

    fn set(&mut self, listed: Listed, filter: Filter, value: &str) -> Result<(), ApiError> {
        match filter {
            Filter::Status => {
                let statuses = listed.statuses();
                if !statuses.contains(&value) {
                    return Err(invalid(
                        "status",
                        format!("status is one of {}.", statuses.join(", ")),
                    ));
                }
                self.status = Some(value.to_string());
            }
            Filter::CreatedGte => self.created_gte = Some(non_negative(filter, value)?),
            Filter::CreatedLte => self.created_lte = Some(non_negative(filter, value)?),
            Filter::AmountGte => self.amount_gte = Some(non_negative(filter, value)?),
            Filter::AmountLte => self.amount_lte = Some(non_negative(filter, value)?),
            Filter::Currency => {
                let currency = Currency::parse(&value.to_ascii_uppercase()).map_err(|_| {
                    invalid(
                        "currency",
                        "currency is an ISO 4217 code such as USD.".into(),
                    )
                })?;
                self.currency = Some(currency);
            }
            Filter::Customer => {
                self.customer = Some(id_of(filter, IdKind::Customer, value)?);
            }
            Filter::Payment => self.payment = Some(id_of(filter, IdKind::Payment, value)?),
            Filter::MerchantReference => {
                if value.is_empty()
                    || value.chars().count() > MAX_TEXT_FILTER
                    || value.chars().any(char::is_control)
                {
                    return Err(invalid(
                        "merchant_reference",
                        "merchant_reference is 1 to 200 characters, without control characters."
                            .into(),
                    ));
                }
                self.merchant_reference = Some(value.to_string());
            }
            Filter::Last4 => {
                if value.len() != 4 || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid(
                        "last4",
                        "last4 is the card's last 4 digits.".into(),
                    ));
                }
                self.last4 = Some(value.to_string());
            }
            Filter::Brand => {
                let brand = Brand::ALL
                    .iter()
                    .find(|b| b.as_str() == value)
                    .ok_or_else(|| {
                        let names: Vec<&str> = Brand::ALL.iter().map(|b| b.as_str()).collect();
                        invalid("brand", format!("brand is one of {}.", names.join(", ")))
                    })?;
                self.brand = Some(brand.as_str().to_string());
            }
            Filter::Type => {
                let well_formed = !value.is_empty()
                    && value.len() <= MAX_TEXT_FILTER
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_');
                if !well_formed {
                    return Err(invalid(
                        "type",
                        "type is an event type such as payment.succeeded.".into(),
                    ));
                }
                self.event_type = Some(value.to_string());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn payment_filters_are_read_and_checked() {
        let query = ListQuery::parse(
            Listed::Payments,
            &pairs(&[
                ("status", "succeeded"),
                ("created_gte", "1764000000"),
                ("amount_lte", "5000"),
                ("currency", "krw"),
                ("last4", "4242"),
                ("brand", "visa"),
                ("merchant_reference", "주문-1"),
                ("limit", "5"),
            ]),
        )
        .unwrap();
        assert_eq!(query.status.as_deref(), Some("succeeded"));
        assert_eq!(query.created_gte, Some(1_764_000_000));
        assert_eq!(query.amount_lte, Some(5000));
        assert_eq!(query.currency.unwrap().code(), "KRW");
        assert_eq!(query.last4.as_deref(), Some("4242"));
        assert_eq!(query.merchant_reference.as_deref(), Some("주문-1"));
        assert_eq!(query.page.limit, 5);
    }

    #[test]
    fn bad_or_unknown_filters_name_the_parameter() {
        for (listed, given, param) in [
            (Listed::Payments, ("status", "paid"), "status"),
            (Listed::Payouts, ("status", "succeeded"), "status"),
            (Listed::Payments, ("amount_gte", "-1"), "amount_gte"),
            (Listed::Payments, ("amount_gte", "1e3"), "amount_gte"),
            (
                Listed::Payments,
                ("created_lte", "99999999999999999999"),
                "created_lte",
            ),
            (Listed::Payments, ("currency", "XYZ"), "currency"),
            (Listed::Payments, ("last4", "42a2"), "last4"),
            (Listed::Payments, ("last4", "４２４２"), "last4"),
            (Listed::Payments, ("brand", "Visa"), "brand"),
            (Listed::Payments, ("customer", "cus_1"), "customer"),
            (
                Listed::Payments,
                ("merchant_reference", "a\u{0}b"),
                "merchant_reference",
            ),
            (Listed::Payments, ("payment", "pay_1"), "payment"),
            (Listed::Payments, ("stauts", "succeeded"), "stauts"),
            (Listed::Refunds, ("last4", "4242"), "last4"),
            (Listed::Events, ("type", "Payment.Succeeded"), "type"),
            (Listed::Events, ("amount_gte", "1"), "amount_gte"),
        ] {
            let error = ListQuery::parse(listed, &pairs(&[given])).unwrap_err();
            assert_eq!(error.code(), ErrorCode::ParameterInvalid, "{given:?}");
            assert_eq!(error.error.param.as_deref(), Some(param), "{given:?}");
        }
    }

    #[test]
    fn ranges_must_not_be_inverted_and_names_not_repeated() {
        let inverted = pairs(&[("created_gte", "20"), ("created_lte", "10")]);
        assert!(ListQuery::parse(Listed::Refunds, &inverted).is_err());
        let repeated = pairs(&[("status", "open"), ("status", "complete")]);
        assert!(ListQuery::parse(Listed::CheckoutSessions, &repeated).is_err());
        let cursor = pairs(&[("starting_after", "pay_1")]);
        assert_eq!(
            ListQuery::parse(Listed::Payments, &cursor)
                .unwrap_err()
                .code(),
            ErrorCode::CursorInvalid
        );
    }
}
