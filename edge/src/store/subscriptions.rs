//! Subscriptions and their invoices in D1. Every change that the billing run and a request could
//! both make is a compare-and-set on what the writer read, so two runs never act twice.

use super::webhooks::{change_with_event, EndpointRow, EventRow};
use super::{all, execute, first, int, opt_int, opt_text, statement, text, StoreResult};
use serde::Deserialize;
use till_core::billing_period::{Interval, PeriodError};
use till_core::catalogue::Recurring;
use till_core::error::ApiError;
use till_core::invoice::{Invoice, InvoiceLine, InvoiceStatus};
use till_core::money::Currency;
use till_core::subscription::{Cycle, Dunning, Subscription, SubscriptionStatus};
use worker::Env;

fn corrupt(what: &str, id: &str) -> ApiError {
    crate::log_error!("{id}: stored {what} is invalid");
    ApiError::internal()
}

#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionRow {
    pub id: String,
    pub merchant_id: String,
    pub customer_id: String,
    pub price_id: String,
    pub product_id: String,
    pub payment_method_id: String,
    pub quantity: i64,
    pub unit_amount: i64,
    pub currency: Currency,
    pub interval: String,
    pub interval_count: i64,
    pub status: String,
    pub anchor: i64,
    pub current_period_start: i64,
    pub current_period_end: i64,
    pub trial_end: Option<i64>,
    pub cancel_at_period_end: i64,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub latest_invoice_id: Option<String>,
    /// JSON array of `InvoiceLine`s waiting for the next invoice.
    pub pending_lines: String,
    pub dunning: String,
    /// 1: the subscription was given its own dunning schedule; 0: it follows the merchant's.
    pub own_dunning: i64,
    pub test_clock_id: Option<String>,
    pub idempotency_key: String,
    pub request_fingerprint: String,
    pub created: i64,
    pub updated: i64,
}

impl SubscriptionRow {
    pub fn status(&self) -> Result<SubscriptionStatus, ApiError> {
        SubscriptionStatus::parse(&self.status).ok_or_else(|| corrupt("status", &self.id))
    }

    pub fn dunning(&self) -> Result<Dunning, ApiError> {
        serde_json::from_str(&self.dunning).map_err(|_| corrupt("dunning", &self.id))
    }

    pub fn recurring(&self) -> Result<Recurring, ApiError> {
        Ok(Recurring {
            interval: Interval::parse(&self.interval)
                .ok_or_else(|| corrupt("interval", &self.id))?,
            interval_count: u16::try_from(self.interval_count)
                .map_err(|_| corrupt("interval_count", &self.id))?,
        })
    }

    pub fn cycle(&self) -> Result<Cycle, ApiError> {
        let recurring = self.recurring()?;
        Cycle::new(recurring.interval, recurring.interval_count, self.anchor)
            .map_err(|e: PeriodError| corrupt(&e.to_string(), &self.id))
    }

    pub fn pending_lines(&self) -> Result<Vec<InvoiceLine>, ApiError> {
        serde_json::from_str(&self.pending_lines).map_err(|_| corrupt("pending_lines", &self.id))
    }

    pub fn quantity(&self) -> Result<u32, ApiError> {
        u32::try_from(self.quantity).map_err(|_| corrupt("quantity", &self.id))
    }

    pub fn view(&self) -> Result<Subscription, ApiError> {
        Ok(Subscription {
            id: self.id.clone(),
            object: "subscription".into(),
            customer: self.customer_id.clone(),
            price: self.price_id.clone(),
            product: self.product_id.clone(),
            payment_method: self.payment_method_id.clone(),
            quantity: self.quantity()?,
            currency: self.currency,
            amount: self.unit_amount.saturating_mul(self.quantity),
            recurring: self.recurring()?,
            status: self.status()?,
            current_period_start: self.current_period_start,
            current_period_end: self.current_period_end,
            trial_end: self.trial_end,
            cancel_at_period_end: self.cancel_at_period_end == 1,
            canceled_at: self.canceled_at,
            ended_at: self.ended_at,
            latest_invoice: self.latest_invoice_id.clone(),
            pending_lines: self.pending_lines()?,
            dunning: self.dunning()?,
            test_clock: self.test_clock_id.clone(),
            created: self.created,
            customer_action: None,
        })
    }
}

/// Records a new subscription with the event that tells of it; the merchant's endpoints.
pub async fn insert(
    env: &Env,
    s: &SubscriptionRow,
    event: &EventRow,
) -> StoreResult<Option<Vec<EndpointRow>>> {
    let insert = statement(
        env,
        "INSERT INTO subscriptions (id, merchant_id, customer_id, price_id, product_id, \
         payment_method_id, quantity, unit_amount, currency, interval, interval_count, status, \
         anchor, current_period_start, current_period_end, trial_end, cancel_at_period_end, \
         dunning, test_clock_id, idempotency_key, request_fingerprint, created, updated, \
         own_dunning) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, 0, \
         CASE WHEN ?23 = 1 THEN ?17 \
         ELSE COALESCE((SELECT dunning FROM merchants WHERE id = ?2), ?17) END, \
         ?18, ?19, ?20, ?21, ?22, ?23)",
        &[
            text(&s.id),
            text(&s.merchant_id),
            text(&s.customer_id),
            text(&s.price_id),
            text(&s.product_id),
            text(&s.payment_method_id),
            int(s.quantity),
            int(s.unit_amount),
            text(s.currency.code()),
            text(&s.interval),
            int(s.interval_count),
            text(&s.status),
            int(s.anchor),
            int(s.current_period_start),
            int(s.current_period_end),
            opt_int(s.trial_end),
            text(&s.dunning),
            opt_text(s.test_clock_id.as_deref()),
            text(&s.idempotency_key),
            text(&s.request_fingerprint),
            int(s.created),
            int(s.updated),
            int(s.own_dunning),
        ],
    )?;
    change_with_event(env, insert, Some(event)).await
}

pub async fn find(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<SubscriptionRow>> {
    first(
        env,
        "SELECT * FROM subscriptions WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

pub async fn by_idempotency_key(
    env: &Env,
    merchant_id: &str,
    key: &str,
) -> StoreResult<Option<SubscriptionRow>> {
    first(
        env,
        "SELECT * FROM subscriptions WHERE merchant_id = ?1 AND idempotency_key = ?2",
        &[text(merchant_id), text(key)],
    )
    .await
}

/// A change of a subscription, written only if it still is as `seen` (status and period).
pub struct Change<'a> {
    pub price_id: &'a str,
    pub product_id: &'a str,
    pub unit_amount: i64,
    pub quantity: i64,
    /// JSON array of `InvoiceLine`s.
    pub pending_lines: String,
    pub status: SubscriptionStatus,
    pub current_period_start: i64,
    pub current_period_end: i64,
    pub latest_invoice_id: Option<&'a str>,
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub payment_method_id: &'a str,
    /// A schedule of the subscription's own, from now on; none leaves the schedule as it is
    /// (the merchant's may change it meanwhile).
    pub own_dunning: Option<String>,
}

/// The `updated` a change of `seen` writes: strictly later than what was read, so `updated`
/// alone tells a change.
fn updated_after(seen: &SubscriptionRow, now: i64) -> i64 {
    now.max(seen.updated + 1)
}

impl SubscriptionRow {
    /// The subscription as [`update`] leaves it after `change` at `now` (what its event tells).
    pub fn after(&self, change: &Change<'_>, now: i64) -> SubscriptionRow {
        SubscriptionRow {
            price_id: change.price_id.to_string(),
            product_id: change.product_id.to_string(),
            unit_amount: change.unit_amount,
            quantity: change.quantity,
            pending_lines: change.pending_lines.clone(),
            status: change.status.as_str().to_string(),
            current_period_start: change.current_period_start,
            current_period_end: change.current_period_end,
            latest_invoice_id: change.latest_invoice_id.map(str::to_string),
            cancel_at_period_end: i64::from(change.cancel_at_period_end),
            canceled_at: change.canceled_at,
            ended_at: change.ended_at,
            payment_method_id: change.payment_method_id.to_string(),
            dunning: change
                .own_dunning
                .clone()
                .unwrap_or_else(|| self.dunning.clone()),
            own_dunning: if change.own_dunning.is_some() {
                1
            } else {
                self.own_dunning
            },
            updated: updated_after(self, now),
            ..self.clone()
        }
    }

    /// The subscription as it is, as a change to start from.
    pub fn unchanged(&self) -> Result<Change<'_>, ApiError> {
        Ok(Change {
            price_id: &self.price_id,
            product_id: &self.product_id,
            unit_amount: self.unit_amount,
            quantity: self.quantity,
            pending_lines: self.pending_lines.clone(),
            status: self.status()?,
            current_period_start: self.current_period_start,
            current_period_end: self.current_period_end,
            latest_invoice_id: self.latest_invoice_id.as_deref(),
            cancel_at_period_end: self.cancel_at_period_end == 1,
            canceled_at: self.canceled_at,
            ended_at: self.ended_at,
            payment_method_id: &self.payment_method_id,
            own_dunning: None,
        })
    }
}

/// Writes `change` if the subscription is still as `seen` left it (its `updated` stamp, and
/// the fields a concurrent writer could have changed); false when someone else changed it
/// first (the caller reads it again).
/// Writes `change` of the subscription as it was `seen` (compare-and-set), with `event` when
/// there is one; `None` when another writer changed it first (nothing written), else the
/// merchant's endpoints for the event.
pub async fn update(
    env: &Env,
    seen: &SubscriptionRow,
    change: &Change<'_>,
    now: i64,
    event: Option<&EventRow>,
) -> StoreResult<Option<Vec<EndpointRow>>> {
    let update = statement(
        env,
        "UPDATE subscriptions SET status = ?3, current_period_start = ?4, \
         current_period_end = ?5, latest_invoice_id = ?6, cancel_at_period_end = ?7, \
         canceled_at = ?8, ended_at = ?9, payment_method_id = ?10, updated = ?11, \
         price_id = ?16, product_id = ?17, unit_amount = ?18, quantity = ?19, \
         pending_lines = ?20, dunning = COALESCE(?22, dunning), \
         own_dunning = CASE WHEN ?22 IS NULL THEN own_dunning ELSE 1 END \
         WHERE id = ?1 AND updated = ?2 AND status = ?12 AND current_period_end = ?13 \
         AND cancel_at_period_end = ?14 AND payment_method_id = ?15 AND pending_lines = ?21",
        &[
            text(&seen.id),
            int(seen.updated),
            text(change.status.as_str()),
            int(change.current_period_start),
            int(change.current_period_end),
            opt_text(change.latest_invoice_id),
            int(i64::from(change.cancel_at_period_end)),
            opt_int(change.canceled_at),
            opt_int(change.ended_at),
            text(change.payment_method_id),
            int(updated_after(seen, now)),
            text(&seen.status),
            int(seen.current_period_end),
            int(seen.cancel_at_period_end),
            text(&seen.payment_method_id),
            text(change.price_id),
            text(change.product_id),
            int(change.unit_amount),
            int(change.quantity),
            text(&change.pending_lines),
            text(&seen.pending_lines),
            opt_text(change.own_dunning.as_deref()),
        ],
    )?;
    change_with_event(env, update, event).await
}

/// What a subscription list asks for.
pub struct SubscriptionFilter<'a> {
    pub customer: Option<&'a str>,
    pub status: Option<SubscriptionStatus>,
    pub starting_after: Option<&'a str>,
    pub limit: usize,
}

/// A page of the merchant's subscriptions, newest first.
pub async fn list(
    env: &Env,
    merchant_id: &str,
    filter: &SubscriptionFilter<'_>,
) -> StoreResult<Vec<SubscriptionRow>> {
    all(
        env,
        "SELECT * FROM subscriptions WHERE merchant_id = ?1 \
         AND (?2 IS NULL OR customer_id = ?2) AND (?3 IS NULL OR status = ?3) \
         AND (?4 IS NULL OR rowid < (SELECT rowid FROM subscriptions WHERE id = ?4)) \
         ORDER BY rowid DESC LIMIT ?5",
        &[
            text(merchant_id),
            opt_text(filter.customer),
            opt_text(filter.status.map(SubscriptionStatus::as_str)),
            opt_text(filter.starting_after),
            int(i64::try_from(filter.limit).unwrap_or(100)),
        ],
    )
    .await
}

/// Subscriptions whose period (or trial) has ended as of their own time (their test clock's,
/// or `now`), then those whose first charge is incomplete (paid by the customer meanwhile, or
/// expiring); only those of `clock` when given.
pub async fn due(
    env: &Env,
    now: i64,
    clock: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<SubscriptionRow>> {
    all(
        env,
        &format!(
            "SELECT s.* FROM subscriptions s \
             LEFT JOIN test_clocks c ON c.id = s.test_clock_id \
             WHERE ((s.status IN ('trialing', 'active') \
                     AND s.current_period_end <= COALESCE(c.frozen_time, ?1)) \
                 OR s.status = 'incomplete') \
             AND {ON_CLOCK} \
             ORDER BY s.status = 'incomplete', s.current_period_end LIMIT ?3"
        ),
        &[
            int(now),
            opt_text(clock),
            int(i64::try_from(limit).unwrap_or(50)),
        ],
    )
    .await
}

/// Which subscriptions a billing run takes (`s`, its clock `c`): those of test clock `?2` when
/// given (that clock's advance), else those on no clock and those of a clock whose advance was
/// left unfinished (still `advancing` a minute after it started; `?1` is the wall time), never
/// those an advance's own request is billing.
const ON_CLOCK: &str = "(CASE WHEN ?2 IS NOT NULL THEN s.test_clock_id = ?2 \
     ELSE (s.test_clock_id IS NULL OR (c.status = 'advancing' \
     AND COALESCE(c.advanced_at, 0) < ?1 - 60)) END)";

#[derive(Debug, Clone, Deserialize)]
pub struct InvoiceRow {
    pub id: String,
    pub merchant_id: String,
    pub subscription_id: String,
    pub customer_id: String,
    pub status: String,
    pub currency: Currency,
    pub lines: String,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    pub attempt_count: i64,
    pub attempts_settled: i64,
    pub next_attempt_at: Option<i64>,
    pub payment_id: Option<String>,
    pub period_start: i64,
    pub period_end: i64,
    pub paid_at: Option<i64>,
    pub created: i64,
}

impl InvoiceRow {
    pub fn status(&self) -> Result<InvoiceStatus, ApiError> {
        InvoiceStatus::parse(&self.status).ok_or_else(|| corrupt("status", &self.id))
    }

    /// The invoice as [`settle_attempt`] leaves it (what its event tells).
    pub fn settled(&self, status: InvoiceStatus, next_attempt_at: Option<i64>, now: i64) -> Self {
        InvoiceRow {
            attempts_settled: self.attempt_count,
            status: status.as_str().to_string(),
            next_attempt_at,
            paid_at: if status == InvoiceStatus::Paid {
                Some(now)
            } else {
                self.paid_at
            },
            ..self.clone()
        }
    }

    /// The invoice as [`paid_by_customer`] leaves it.
    pub fn paid_by(&self, payment_id: &str, now: i64) -> Self {
        InvoiceRow {
            status: InvoiceStatus::Paid.as_str().to_string(),
            payment_id: Some(payment_id.to_string()),
            paid_at: Some(now),
            next_attempt_at: None,
            ..self.clone()
        }
    }

    pub fn view(&self) -> Result<Invoice, ApiError> {
        let status = self.status()?;
        let lines: Vec<InvoiceLine> =
            serde_json::from_str(&self.lines).map_err(|_| corrupt("lines", &self.id))?;
        Ok(Invoice {
            id: self.id.clone(),
            object: "invoice".into(),
            subscription: self.subscription_id.clone(),
            customer: self.customer_id.clone(),
            status,
            currency: self.currency,
            lines,
            subtotal: self.subtotal,
            tax: self.tax,
            total: self.total,
            amount_paid: if status == InvoiceStatus::Paid {
                self.total
            } else {
                0
            },
            amount_due: if status == InvoiceStatus::Open {
                self.total
            } else {
                0
            },
            attempt_count: u32::try_from(self.attempt_count).unwrap_or(0),
            next_payment_attempt: self.next_attempt_at,
            payment: self.payment_id.clone(),
            period_start: self.period_start,
            period_end: self.period_end,
            paid_at: self.paid_at,
            created: self.created,
        })
    }
}

/// Opens the invoice of a period unless the period has one already, with `event` when it is
/// this call that opens it: the period's invoice, and the merchant's endpoints for the event
/// when it was recorded.
pub async fn open_invoice(
    env: &Env,
    i: &InvoiceRow,
    event: &EventRow,
) -> StoreResult<(Option<InvoiceRow>, Option<Vec<EndpointRow>>)> {
    let insert = statement(
        env,
        "INSERT OR IGNORE INTO invoices (id, merchant_id, subscription_id, customer_id, status, \
         currency, lines, subtotal, tax, total, attempt_count, attempts_settled, next_attempt_at, \
         period_start, period_end, created, updated) \
         VALUES (?1, ?2, ?3, ?4, 'open', ?5, ?6, ?7, ?8, ?9, 0, 0, ?10, ?11, ?12, ?13, ?13)",
        &[
            text(&i.id),
            text(&i.merchant_id),
            text(&i.subscription_id),
            text(&i.customer_id),
            text(i.currency.code()),
            text(&i.lines),
            int(i.subtotal),
            int(i.tax),
            int(i.total),
            opt_int(i.next_attempt_at),
            int(i.period_start),
            int(i.period_end),
            int(i.created),
        ],
    )?;
    let opened = change_with_event(env, insert, Some(event)).await?;
    let invoice = first(
        env,
        "SELECT * FROM invoices WHERE subscription_id = ?1 AND period_start = ?2",
        &[text(&i.subscription_id), int(i.period_start)],
    )
    .await?;
    Ok((invoice, opened))
}

pub async fn find_invoice(
    env: &Env,
    merchant_id: &str,
    id: &str,
) -> StoreResult<Option<InvoiceRow>> {
    first(
        env,
        "SELECT * FROM invoices WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

/// Takes the next charge of an open invoice: counts it and names its payment, if nobody took
/// it first (false).
pub async fn claim_attempt(
    env: &Env,
    seen: &InvoiceRow,
    payment_id: Option<&str>,
    now: i64,
) -> StoreResult<bool> {
    execute(
        env,
        "UPDATE invoices SET attempt_count = attempt_count + 1, payment_id = ?3, \
         next_attempt_at = NULL, updated = ?4 \
         WHERE id = ?1 AND attempt_count = ?2 AND attempts_settled = ?2 AND status = 'open'",
        &[
            text(&seen.id),
            int(seen.attempt_count),
            opt_text(payment_id),
            int(now),
        ],
    )
    .await
    .map(|changed| changed == 1)
}

/// Takes in the outcome of the invoice's latest charge: its new status, next retry and when
/// it was paid; false when another run took it in first.
pub async fn settle_attempt(
    env: &Env,
    seen: &InvoiceRow,
    status: InvoiceStatus,
    next_attempt_at: Option<i64>,
    now: i64,
    event: &EventRow,
) -> StoreResult<Option<Vec<EndpointRow>>> {
    let settle = statement(
        env,
        "UPDATE invoices SET attempts_settled = attempt_count, status = ?3, \
         next_attempt_at = ?4, paid_at = CASE WHEN ?3 = 'paid' THEN ?5 ELSE paid_at END, \
         updated = ?5 \
         WHERE id = ?1 AND attempt_count = ?2 AND attempts_settled = ?6 AND status = 'open'",
        &[
            text(&seen.id),
            int(seen.attempt_count),
            text(status.as_str()),
            opt_int(next_attempt_at),
            int(now),
            int(seen.attempts_settled),
        ],
    )?;
    change_with_event(env, settle, Some(event)).await
}

/// Marks an open invoice (no charge under way) paid by `payment_id`, a payment the customer made
/// themselves in its charge's checkout session; false otherwise.
pub async fn paid_by_customer(
    env: &Env,
    id: &str,
    payment_id: &str,
    now: i64,
    event: &EventRow,
) -> StoreResult<Option<Vec<EndpointRow>>> {
    let paid = statement(
        env,
        "UPDATE invoices SET status = 'paid', payment_id = ?2, paid_at = ?3, \
         next_attempt_at = NULL, updated = ?3 \
         WHERE id = ?1 AND status = 'open' AND attempts_settled = attempt_count",
        &[text(id), text(payment_id), int(now)],
    )?;
    change_with_event(env, paid, Some(event)).await
}

/// Voids an open invoice that has no charge under way; false otherwise.
pub async fn void_invoice(env: &Env, id: &str, now: i64) -> StoreResult<bool> {
    execute(
        env,
        "UPDATE invoices SET status = 'void', next_attempt_at = NULL, updated = ?2 \
         WHERE id = ?1 AND status = 'open' AND attempts_settled = attempt_count",
        &[text(id), int(now)],
    )
    .await
    .map(|changed| changed == 1)
}

/// Retries an open invoice at `at` (a new card was given).
pub async fn retry_at(env: &Env, id: &str, at: i64, now: i64) -> StoreResult<bool> {
    execute(
        env,
        "UPDATE invoices SET next_attempt_at = ?2, updated = ?3 \
         WHERE id = ?1 AND status = 'open' AND attempts_settled = attempt_count",
        &[text(id), int(at), int(now)],
    )
    .await
    .map(|changed| changed == 1)
}

/// Open invoices with a charge due (a retry, or a first charge not yet made) or a charge
/// whose outcome is not taken in yet; only those of `clock` when given.
pub async fn invoices_due(
    env: &Env,
    now: i64,
    clock: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<InvoiceRow>> {
    all(
        env,
        &format!(
            "SELECT i.* FROM invoices i \
             JOIN subscriptions s ON s.id = i.subscription_id \
             LEFT JOIN test_clocks c ON c.id = s.test_clock_id \
             WHERE i.status = 'open' \
             AND (i.attempts_settled < i.attempt_count \
                  OR i.next_attempt_at <= COALESCE(c.frozen_time, ?1)) \
             AND {ON_CLOCK} \
             ORDER BY i.next_attempt_at LIMIT ?3"
        ),
        &[
            int(now),
            opt_text(clock),
            int(i64::try_from(limit).unwrap_or(50)),
        ],
    )
    .await
}

/// Whether one of the test clock's invoices has a charge under way (claimed, not settled).
pub async fn charging_on_clock(env: &Env, clock: &str) -> StoreResult<bool> {
    let found: Option<super::Exists> = first(
        env,
        "SELECT 1 AS found FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id \
         WHERE s.test_clock_id = ?1 AND i.status = 'open' \
         AND i.attempts_settled < i.attempt_count LIMIT 1",
        &[text(clock)],
    )
    .await?;
    Ok(found.is_some())
}

/// Open invoices whose latest charge's checkout session the customer has since paid (with
/// another card, or after authenticating); only those of `clock` when given.
pub async fn paid_in_session(
    env: &Env,
    now: i64,
    clock: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<InvoiceRow>> {
    all(
        env,
        &format!(
            "SELECT i.* FROM invoices i \
             JOIN subscriptions s ON s.id = i.subscription_id \
             LEFT JOIN test_clocks c ON c.id = s.test_clock_id \
             JOIN payments p ON p.id = i.payment_id \
             JOIN checkout_sessions cs ON cs.id = p.checkout_session_id \
             WHERE i.status = 'open' AND i.attempts_settled = i.attempt_count \
             AND cs.status = 'complete' AND cs.payment_id IS NOT NULL \
             AND cs.payment_id != i.payment_id AND {ON_CLOCK} LIMIT ?3"
        ),
        &[
            int(now),
            opt_text(clock),
            int(i64::try_from(limit).unwrap_or(50)),
        ],
    )
    .await
}

/// What an invoice list asks for.
pub struct InvoiceFilter<'a> {
    pub subscription: Option<&'a str>,
    pub customer: Option<&'a str>,
    pub status: Option<InvoiceStatus>,
    pub starting_after: Option<&'a str>,
    pub limit: usize,
}

/// A page of the merchant's invoices, newest first.
pub async fn list_invoices(
    env: &Env,
    merchant_id: &str,
    filter: &InvoiceFilter<'_>,
) -> StoreResult<Vec<InvoiceRow>> {
    all(
        env,
        "SELECT * FROM invoices WHERE merchant_id = ?1 \
         AND (?2 IS NULL OR subscription_id = ?2) AND (?3 IS NULL OR customer_id = ?3) \
         AND (?4 IS NULL OR status = ?4) \
         AND (?5 IS NULL OR rowid < (SELECT rowid FROM invoices WHERE id = ?5)) \
         ORDER BY rowid DESC LIMIT ?6",
        &[
            text(merchant_id),
            opt_text(filter.subscription),
            opt_text(filter.customer),
            opt_text(filter.status.map(InvoiceStatus::as_str)),
            opt_text(filter.starting_after),
            int(i64::try_from(filter.limit).unwrap_or(100)),
        ],
    )
    .await
}
