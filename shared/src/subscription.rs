//! A subscription's life: every status it may have and every move between them, the dunning
//! schedule that retries a failed renewal, and the API's subscription objects.
//!
//! Billing is in advance: each period's invoice is opened and charged when the period begins
//! (after the trial, if any). A new period is opened only once the one before is paid, so a
//! subscription never owes two invoices; one that went `unpaid` and is paid again resumes in
//! the period it is then in, the periods in between unbilled.

use crate::billing_period::{Interval, Period, PeriodError, Recurrence};
use crate::catalogue::Recurring;
use crate::error::{ApiError, ErrorCode};
use crate::money::{Currency, Money};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// Created; its first charge asks the customer to authenticate (3-D Secure).
    Incomplete,
    /// The first charge was never completed in time: nothing more is billed.
    IncompleteExpired,
    /// In its free trial: the first charge comes at the trial's end.
    Trialing,
    /// Paid for the current period.
    Active,
    /// A renewal failed and is being retried on the dunning schedule.
    PastDue,
    /// Every retry failed and the merchant keeps such subscriptions: no further periods are
    /// billed until the customer pays with a working card.
    Unpaid,
    /// Paused by the merchant or the customer: no periods are billed until resumed.
    Paused,
    /// Ended: now, at a period's end, or after failed retries when the merchant cancels those.
    Canceled,
}

impl SubscriptionStatus {
    pub const ALL: [SubscriptionStatus; 8] = [
        SubscriptionStatus::Incomplete,
        SubscriptionStatus::IncompleteExpired,
        SubscriptionStatus::Trialing,
        SubscriptionStatus::Active,
        SubscriptionStatus::PastDue,
        SubscriptionStatus::Unpaid,
        SubscriptionStatus::Paused,
        SubscriptionStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Incomplete => "incomplete",
            SubscriptionStatus::IncompleteExpired => "incomplete_expired",
            SubscriptionStatus::Trialing => "trialing",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Unpaid => "unpaid",
            SubscriptionStatus::Paused => "paused",
            SubscriptionStatus::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<SubscriptionStatus> {
        SubscriptionStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    /// Whether nothing can happen to it any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Canceled | SubscriptionStatus::IncompleteExpired
        )
    }

    /// Every move a subscription may make; anything else is refused.
    pub fn can_move_to(self, next: SubscriptionStatus) -> bool {
        use SubscriptionStatus::*;
        match (self, next) {
            // The first charge was authenticated and paid, or never was.
            (Incomplete, Active | IncompleteExpired) => true,
            // The trial ended and its first charge was paid, or failed into dunning.
            (Trialing, Active | PastDue) => true,
            // A renewal failed.
            (Active, PastDue) => true,
            // A retry or a new card paid; or every retry failed.
            (PastDue, Active | Unpaid) => true,
            (PastDue, Canceled) => true,
            // The customer paid the open invoice with a working card.
            (Unpaid, Active) => true,
            (Trialing | Active, Paused) => true,
            (Paused, Active) => true,
            // Canceling is always possible before the end.
            (Incomplete | Trialing | Active | Unpaid | Paused, Canceled) => true,
            _ => false,
        }
    }

    pub fn move_to(self, next: SubscriptionStatus) -> Result<SubscriptionStatus, IllegalMove> {
        if self.can_move_to(next) {
            Ok(next)
        } else {
            Err(IllegalMove {
                from: self,
                to: next,
            })
        }
    }

    /// Whether its periods are billed.
    pub fn bills(self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Trialing | SubscriptionStatus::Active | SubscriptionStatus::PastDue
        )
    }
}

impl fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A move the state machine refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalMove {
    pub from: SubscriptionStatus,
    pub to: SubscriptionStatus,
}

impl fmt::Display for IllegalMove {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a subscription cannot go from {} to {}",
            self.from, self.to
        )
    }
}

/// What happens when every retry of a renewal failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterRetries {
    /// `unpaid`: kept, not billed, until the customer pays.
    MarkUnpaid,
    /// `canceled`.
    Cancel,
}

impl AfterRetries {
    pub fn status(self) -> SubscriptionStatus {
        match self {
            AfterRetries::MarkUnpaid => SubscriptionStatus::Unpaid,
            AfterRetries::Cancel => SubscriptionStatus::Canceled,
        }
    }
}

/// When a failed renewal is charged again: days after the first failure, increasing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DunningFields")]
pub struct Dunning {
    retry_days: Vec<u16>,
    pub after_retries: AfterRetries,
}

/// At most this many retries, and none later than this many days after the failure.
pub const MAX_RETRIES: usize = 8;
pub const MAX_RETRY_DAY: u16 = 60;

/// A dunning schedule as it arrives: checked by [`Dunning::new`] before it is one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DunningFields {
    retry_days: Vec<u16>,
    after_retries: AfterRetries,
}

impl TryFrom<DunningFields> for Dunning {
    type Error = DunningInvalid;

    fn try_from(fields: DunningFields) -> Result<Dunning, DunningInvalid> {
        Dunning::new(fields.retry_days, fields.after_retries)
    }
}

/// Why a dunning schedule is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DunningInvalid;

impl fmt::Display for DunningInvalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "retry_days is 1 to {MAX_RETRIES} increasing days, each 1 to {MAX_RETRY_DAY}"
        )
    }
}

impl Default for Dunning {
    /// Retries 1, 3, 5 and 7 days after the failure, then `unpaid`.
    fn default() -> Dunning {
        Dunning {
            retry_days: vec![1, 3, 5, 7],
            after_retries: AfterRetries::MarkUnpaid,
        }
    }
}

impl Dunning {
    pub fn new(
        retry_days: Vec<u16>,
        after_retries: AfterRetries,
    ) -> Result<Dunning, DunningInvalid> {
        let increasing = retry_days
            .windows(2)
            .all(|pair| matches!(pair, [a, b] if a < b));
        let in_range = retry_days.iter().all(|d| (1..=MAX_RETRY_DAY).contains(d));
        if retry_days.is_empty() || retry_days.len() > MAX_RETRIES || !increasing || !in_range {
            return Err(DunningInvalid);
        }
        Ok(Dunning {
            retry_days,
            after_retries,
        })
    }

    pub fn retry_days(&self) -> &[u16] {
        &self.retry_days
    }

    /// When retry number `retry` (1: the first) is due, in Unix seconds, for a renewal that
    /// first failed at `failed_at`; `None` once the schedule is spent.
    pub fn retry_due(&self, failed_at: i64, retry: usize) -> Option<i64> {
        let day = self.retry_days.get(retry.checked_sub(1)?)?;
        Some(failed_at + i64::from(*day) * 86_400)
    }

    /// Where a subscription goes when retry number `retry` failed: still `past_due` while
    /// retries remain, else what the merchant chose.
    pub fn after_failed_retry(&self, retry: usize) -> SubscriptionStatus {
        if retry < self.retry_days.len() {
            SubscriptionStatus::PastDue
        } else {
            self.after_retries.status()
        }
    }
}

/// The most units one subscription may have.
pub const MAX_QUANTITY: u32 = 10_000;
/// A first charge that is not paid (declined, or waiting for the customer to authenticate)
/// this long after the subscription was created ends it `incomplete_expired`.
pub const INCOMPLETE_EXPIRES_AFTER_SECONDS: i64 = 23 * 60 * 60;

fn invalid(param: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::ParameterInvalid)
        .with_message(message)
        .with_param(param)
}

fn one_unit() -> u32 {
    1
}

/// `POST /v1/subscriptions` (secret key, `Idempotency-Key`): bills `customer`'s saved card
/// `payment_method` for `price` every period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscription {
    pub customer: String,
    pub price: String,
    pub payment_method: String,
    #[serde(default = "one_unit")]
    pub quantity: u32,
    /// Free days before the first charge; the price's own trial when absent, none when 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_days: Option<u16>,
    /// How failed renewals are retried; 1, 3, 5 and 7 days, then `unpaid`, when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dunning: Option<Dunning>,
    /// A test clock (`clock_…`) whose time this subscription lives in instead of the real one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_clock: Option<String>,
}

impl CreateSubscription {
    /// The quantity and trial, or why they are refused (the price is checked where it is read).
    pub fn checked(&self) -> Result<(), ApiError> {
        if !(1..=MAX_QUANTITY).contains(&self.quantity) {
            return Err(invalid(
                "quantity",
                format!("quantity is 1 to {MAX_QUANTITY}."),
            ));
        }
        if self
            .trial_days
            .is_some_and(|days| days > crate::catalogue::MAX_TRIAL_DAYS)
        {
            return Err(invalid(
                "trial_days",
                format!("trial_days is 0 to {}.", crate::catalogue::MAX_TRIAL_DAYS),
            ));
        }
        Ok(())
    }
}

/// What one period of `quantity` units at `unit_amount` costs, or why it cannot be charged
/// (more than a payment may be).
pub fn period_amount(
    unit_amount: i64,
    quantity: u32,
    currency: Currency,
) -> Result<Money, ApiError> {
    let amount = unit_amount
        .checked_mul(i64::from(quantity))
        .unwrap_or(i64::MAX);
    Money::payable(amount, currency).map_err(|e| {
        ApiError::new(ErrorCode::AmountInvalid)
            .with_message(format!("unit_amount × quantity: {e}"))
            .with_param("quantity")
    })
}

/// `POST /v1/subscriptions/:id`: a new card, another price or quantity (prorated onto the
/// next invoice), taking back a cancellation at the period's end, or a dunning schedule of its
/// own (from the next failure; it then no longer follows the merchant's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateSubscription {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_at_period_end: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dunning: Option<Dunning>,
}

/// `GET /v1/billing_settings`: what the merchant's subscriptions follow unless given their
/// own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingSettings {
    pub object: String,
    /// Till's default (retries 1, 3, 5 and 7 days after, then `unpaid`) until the merchant
    /// sets one.
    pub dunning: Dunning,
}

/// `POST /v1/billing_settings`: the merchant's dunning schedule, for subscriptions created
/// without one and at once for those that follow it (from their next failure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBillingSettings {
    pub dunning: Dunning,
}

impl UpdateSubscription {
    pub fn checked(&self) -> Result<(), ApiError> {
        if self
            .quantity
            .is_some_and(|quantity| !(1..=MAX_QUANTITY).contains(&quantity))
        {
            return Err(invalid(
                "quantity",
                format!("quantity is 1 to {MAX_QUANTITY}."),
            ));
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.payment_method.is_none()
            && self.price.is_none()
            && self.quantity.is_none()
            && self.cancel_at_period_end.is_none()
            && self.dunning.is_none()
    }

    /// Whether it changes what the subscription is billed.
    pub fn changes_terms(&self) -> bool {
        self.price.is_some() || self.quantity.is_some()
    }
}

/// `POST /v1/subscriptions/:id/cancel`: now (the open invoice is voided, nothing is refunded),
/// or at the end of the period already paid for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelSubscription {
    #[serde(default)]
    pub at_period_end: bool,
}

/// A subscription as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub object: String,
    pub customer: String,
    pub price: String,
    pub product: String,
    pub payment_method: String,
    pub quantity: u32,
    pub currency: Currency,
    /// What each period costs: the price's unit amount times the quantity.
    pub amount: i64,
    pub recurring: Recurring,
    pub status: SubscriptionStatus,
    /// The period being served now: the trial while `trialing`.
    pub current_period_start: i64,
    pub current_period_end: i64,
    pub trial_end: Option<i64>,
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// The invoice of the latest period billed.
    pub latest_invoice: Option<String>,
    /// Proration lines (and carried credit) the next period's invoice will include.
    pub pending_lines: Vec<crate::invoice::InvoiceLine>,
    pub dunning: Dunning,
    pub test_clock: Option<String>,
    pub created: i64,
    /// In the answer to its creation, when the first charge needs the customer to
    /// authenticate: the checkout session they pay it in on the hosted page, and its secret.
    /// Paid there, the subscription becomes `active`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_action: Option<crate::api::CustomerAction>,
}

/// Unix seconds as a UTC moment (the core's periods are computed on the calendar).
fn moment(seconds: i64) -> Result<OffsetDateTime, PeriodError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| PeriodError::OutOfCalendar)
}

/// A subscription's periods: `anchor` is when its first paid period begins (the creation, or
/// the trial's end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cycle {
    pub recurrence: Recurrence,
    pub anchor: i64,
}

/// One billing period in unix seconds, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

impl Cycle {
    pub fn new(interval: Interval, count: u16, anchor: i64) -> Result<Cycle, PeriodError> {
        Ok(Cycle {
            recurrence: Recurrence::new(interval, count)?,
            anchor,
        })
    }

    /// The period `at` falls in (the first one for any moment before the anchor).
    pub fn period_at(self, at: i64) -> Result<Span, PeriodError> {
        let anchor = moment(self.anchor)?;
        let at = moment(at.max(self.anchor))?;
        let period: Period = self
            .recurrence
            .period_at(anchor, at)?
            .ok_or(PeriodError::OutOfCalendar)?;
        Ok(Span {
            start: period.start.unix_timestamp(),
            end: period.end.unix_timestamp(),
        })
    }
}

/// What happens after a charge of an invoice failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Charge again then.
    RetryAt(i64),
    /// The schedule is spent: the subscription becomes `unpaid` or `canceled`.
    GiveUp(SubscriptionStatus),
}

impl Dunning {
    /// After `attempts` failed charges of an invoice opened at `opened_at` (the first charge
    /// counts as one): when to retry, or that the schedule is spent.
    pub fn after_failure(&self, opened_at: i64, attempts: u32) -> AfterFailure {
        match self.retry_due(opened_at, attempts as usize) {
            Some(at) => AfterFailure::RetryAt(at),
            None => AfterFailure::GiveUp(self.after_retries.status()),
        }
    }
}

/// `POST /v1/customer_sessions/:id/subscriptions`: what a customer may change themselves —
/// the saved card it is charged to, and canceling at the period's end (or taking that back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerSubscriptionChange {
    pub client_secret: String,
    pub subscription: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_at_period_end: Option<bool>,
}

impl CustomerSubscriptionChange {
    /// The same change as the merchant would ask for it.
    pub fn as_update(&self) -> UpdateSubscription {
        UpdateSubscription {
            payment_method: self.payment_method.clone(),
            price: None,
            quantity: None,
            cancel_at_period_end: self.cancel_at_period_end,
            dunning: None,
        }
    }
}

/// `POST /v1/customer_sessions/:id/invoice_payments`: the customer pays an open invoice of
/// theirs on the hosted checkout page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayInvoice {
    pub client_secret: String,
    pub invoice: String,
}

/// A saved card as the customer's page names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargedCard {
    pub id: String,
    pub brand: crate::card::Brand,
    pub last4: String,
}

/// An invoice as the customer's page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceSummary {
    pub id: String,
    pub status: crate::invoice::InvoiceStatus,
    pub total: i64,
    pub currency: Currency,
    pub period_start: i64,
    pub period_end: i64,
    pub paid_at: Option<i64>,
}

/// One of the customer's subscriptions on their self-service page: the plan, what the next
/// charge is and when, the card, and the latest invoices (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSubscription {
    pub id: String,
    pub product_name: String,
    pub status: SubscriptionStatus,
    pub quantity: u32,
    pub amount: i64,
    pub currency: Currency,
    pub recurring: Recurring,
    pub current_period_end: i64,
    pub cancel_at_period_end: bool,
    pub ended_at: Option<i64>,
    /// What the next invoice will charge (the period's amount with any prorations and carried
    /// credit), and when; `None` when nothing more will be billed.
    pub next_charge: Option<NextCharge>,
    pub card: Option<ChargedCard>,
    pub invoices: Vec<InvoiceSummary>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextCharge {
    pub amount: i64,
    pub at: i64,
}

/// The next charge of a subscription in `status` whose period ends at `period_end`, billing
/// `amount` plus `pending` (the sum of the lines waiting), never below zero: none when it
/// bills nothing more.
pub fn next_charge(
    status: SubscriptionStatus,
    cancel_at_period_end: bool,
    period_end: i64,
    amount: i64,
    pending: i64,
) -> Option<NextCharge> {
    let bills = matches!(
        status,
        SubscriptionStatus::Trialing | SubscriptionStatus::Active
    );
    (bills && !cancel_at_period_end).then(|| NextCharge {
        amount: amount.saturating_add(pending).max(0),
        at: period_end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionStatus::*;

    #[test]
    fn a_year_of_life_moves_only_through_allowed_states() {
        let life = [
            Trialing, Active, PastDue, Active, Paused, Active, PastDue, Unpaid, Active, Canceled,
        ];
        let mut status = life[0];
        for next in &life[1..] {
            status = status.move_to(*next).unwrap();
        }
        assert!(status.is_final());
    }

    #[test]
    fn final_states_go_nowhere_and_nothing_returns_to_incomplete_or_trialing() {
        for from in SubscriptionStatus::ALL {
            for to in SubscriptionStatus::ALL {
                let allowed = from.can_move_to(to);
                if from.is_final() || from == to || matches!(to, Incomplete | Trialing) {
                    assert!(!allowed, "{from} -> {to}");
                }
            }
            assert_eq!(SubscriptionStatus::parse(from.as_str()), Some(from));
        }
        assert_eq!(
            Unpaid.move_to(PastDue),
            Err(IllegalMove {
                from: Unpaid,
                to: PastDue
            })
        );
        assert!(
            !Paused.can_move_to(PastDue),
            "a paused subscription is not billed"
        );
        assert!(!Paused.bills() && !Unpaid.bills() && Active.bills());
    }

    #[test]
    fn dunning_retries_on_its_days_then_does_what_the_merchant_chose() {
        let dunning = Dunning::default();
        let failed_at = 1_800_000_000;
        let due: Vec<Option<i64>> = (1..=5).map(|n| dunning.retry_due(failed_at, n)).collect();
        assert_eq!(
            due,
            [
                Some(failed_at + 86_400),
                Some(failed_at + 3 * 86_400),
                Some(failed_at + 5 * 86_400),
                Some(failed_at + 7 * 86_400),
                None
            ]
        );
        assert_eq!(dunning.retry_due(failed_at, 0), None);
        assert_eq!(dunning.after_failed_retry(3), PastDue);
        assert_eq!(dunning.after_failed_retry(4), Unpaid);
        let strict = Dunning::new(vec![2], AfterRetries::Cancel).unwrap();
        assert_eq!(strict.after_failed_retry(1), Canceled);
        for bad in [
            vec![],
            vec![3, 1],
            vec![1, 1],
            vec![0],
            vec![61],
            vec![1; 9],
        ] {
            assert_eq!(Dunning::new(bad, AfterRetries::Cancel), Err(DunningInvalid));
        }
    }

    #[test]
    fn failed_invoices_are_retried_on_the_schedule_then_given_up_as_the_merchant_chose() {
        let opened = 1_800_000_000;
        let dunning = Dunning::default();
        assert_eq!(
            dunning.after_failure(opened, 1),
            AfterFailure::RetryAt(opened + 86_400)
        );
        assert_eq!(
            dunning.after_failure(opened, 4),
            AfterFailure::RetryAt(opened + 7 * 86_400)
        );
        assert_eq!(
            dunning.after_failure(opened, 5),
            AfterFailure::GiveUp(Unpaid)
        );
        let cancel: Dunning =
            serde_json::from_str(r#"{"retry_days":[2],"after_retries":"cancel"}"#).unwrap();
        assert_eq!(
            cancel.after_failure(opened, 2),
            AfterFailure::GiveUp(Canceled)
        );
        for refused in [
            r#"{"retry_days":[],"after_retries":"cancel"}"#,
            r#"{"retry_days":[3,1],"after_retries":"cancel"}"#,
            r#"{"retry_days":[61],"after_retries":"mark_unpaid"}"#,
            r#"{"retry_days":[1,2,3,4,5,6,7,8,9],"after_retries":"mark_unpaid"}"#,
            r#"{"retry_days":[1],"after_retries":"forgive"}"#,
            r#"{"retry_days":[1],"after_retries":"cancel","extra":1}"#,
        ] {
            assert!(
                serde_json::from_str::<Dunning>(refused).is_err(),
                "{refused}"
            );
        }
    }

    #[test]
    fn a_period_costs_units_times_quantity_within_what_a_payment_may_be() {
        assert_eq!(
            period_amount(9_900, 3, Currency::parse("KRW").unwrap())
                .unwrap()
                .amount,
            29_700
        );
        let too_much =
            period_amount(99_999_999_999, 2, Currency::parse("USD").unwrap()).unwrap_err();
        assert_eq!(too_much.error.param.as_deref(), Some("quantity"));
        let request = |quantity: u32, trial: Option<u16>| CreateSubscription {
            customer: "cus_1".into(),
            price: "price_1".into(),
            payment_method: "pm_1".into(),
            quantity,
            trial_days: trial,
            dunning: None,
            test_clock: None,
        };
        assert!(request(1, Some(730)).checked().is_ok());
        assert!(request(0, None).checked().is_err());
        assert!(request(MAX_QUANTITY + 1, None).checked().is_err());
        assert!(request(1, Some(731)).checked().is_err());
    }

    #[test]
    fn periods_roll_from_the_anchor_and_clamp_to_month_ends() {
        // 2027-01-31 09:00 UTC.
        let anchor = 1_801_386_000;
        let cycle = Cycle::new(Interval::Month, 1, anchor).unwrap();
        let first = cycle.period_at(anchor).unwrap();
        assert_eq!(first.start, anchor);
        let second = cycle.period_at(first.end).unwrap();
        assert_eq!(second.start, first.end);
        // 2027-02-28 09:00 and 2027-03-31 09:00.
        assert_eq!(first.end, anchor + 28 * 86_400);
        assert_eq!(second.end, anchor + 59 * 86_400);
        assert_eq!(cycle.period_at(anchor - 5).unwrap(), first);
    }

    #[test]
    fn the_next_charge_counts_what_waits_and_nothing_when_it_will_not_bill() {
        assert_eq!(
            next_charge(Active, false, 100, 9_900, 2_033),
            Some(NextCharge {
                amount: 11_933,
                at: 100
            })
        );
        assert_eq!(
            next_charge(Active, false, 100, 1_000, -2_743).map(|c| c.amount),
            Some(0)
        );
        assert_eq!(next_charge(Active, true, 100, 9_900, 0), None);
        assert_eq!(next_charge(PastDue, false, 100, 9_900, 0), None);
        assert!(next_charge(Trialing, false, 100, 9_900, 0).is_some());
    }
}
