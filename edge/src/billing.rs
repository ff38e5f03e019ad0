//! Recurring billing: the run that opens each period's invoice, charges the saved card off-session
//! and follows the dunning schedule when a charge fails. The cron runs it every minute for every
//! subscription; advancing a test clock runs it at once for that clock's subscriptions.
//!
//! Exactly once, whatever repeats or dies: a period has one invoice (unique per subscription and
//! period start); a charge is claimed on the invoice (compare-and-set on its attempt count)
//! before its payment exists, and runs under an idempotency record keyed by invoice and attempt,
//! so two runs never make the same charge and the gateway sees one key per attempt; a run cut
//! short leaves the attempt unsettled, and the next run resumes it (asking the gateway first).

use crate::connectors::Initiator;
use crate::idempotency::{self, Ended};
use crate::payments::saved_cards::{self, Charge, Charged, Charging, Context};
use crate::store::catalogue::{Catalogued, ProductRow};
use crate::store::charge_reads::Earlier;
use crate::store::payments::PaymentRow;
use crate::store::subscriptions::{InvoiceRow, SubscriptionRow};
use crate::store::webhooks::{EndpointRow, EventRow};
use crate::{clock, merchant_webhooks, random, store};
use till_core::api::{CaptureMethod, Purpose, SessionStatus};
use till_core::error::ApiError;
use till_core::ids::IdKind;
use till_core::invoice::{carried_credit, period_line, totals, InvoiceLine, InvoiceStatus, Terms};
use till_core::money::Money;
use till_core::payment::PaymentStatus;
use till_core::subscription::{
    period_amount, AfterFailure, Span, SubscriptionStatus, INCOMPLETE_EXPIRES_AFTER_SECONDS,
};
use worker::Env;

/// Rows read per query, and the most actions one run takes (a test clock advanced by a year of
/// daily periods finishes over the next cron runs; its status says so).
const BATCH: usize = 25;
const MAX_ACTIONS: usize = 400;

/// The time `subscription` lives in: its test clock's, or the real one.
pub async fn time_of(env: &Env, subscription: &SubscriptionRow) -> Result<i64, ApiError> {
    match &subscription.test_clock_id {
        None => Ok(clock::now_seconds()),
        Some(id) => store::test_clocks::find(env, &subscription.merchant_id, id)
            .await?
            .map(|clock| clock.frozen_time)
            .ok_or_else(|| {
                crate::log_error!("{}: its test clock {id} is gone", subscription.id);
                ApiError::internal()
            }),
    }
}

/// Bills everything due (only the subscriptions of test clock `clock`, when given). True when
/// work is left for the next run.
pub async fn run(env: &Env, clock: Option<&str>) -> Result<bool, ApiError> {
    let mut actions = 0;
    loop {
        let now = clock::now_seconds();
        let mut progressed_by_customers = false;
        for invoice in store::subscriptions::paid_in_session(env, now, clock, BATCH).await? {
            let id = invoice.id.clone();
            match settle_if_paid_in_session(env, &invoice).await {
                Ok(moved) => progressed_by_customers |= moved,
                Err(error) => crate::log_error!("billing {id}: {error}"),
            }
        }
        let invoices = store::subscriptions::invoices_due(env, now, clock, BATCH).await?;
        let subscriptions = store::subscriptions::due(env, now, clock, BATCH).await?;
        let mut progressed = progressed_by_customers;
        for invoice in invoices {
            let id = invoice.id.clone();
            match collect(env, invoice).await {
                Ok(moved) => progressed |= moved,
                Err(error) => crate::log_error!("billing {id}: {error}"),
            }
            actions += 1;
        }
        for subscription in subscriptions {
            let id = subscription.id.clone();
            match step(env, subscription).await {
                Ok(moved) => progressed |= moved,
                Err(error) => crate::log_error!("billing {id}: {error}"),
            }
            actions += 1;
        }
        if !progressed {
            return Ok(false);
        }
        if actions >= MAX_ACTIONS {
            return Ok(true);
        }
    }
}

/// Takes in a payment the customer made for the subscription's open invoice on the hosted
/// page, if it owes one; true when that changed it.
pub async fn refresh(env: &Env, subscription: &SubscriptionRow) -> Result<bool, ApiError> {
    let owes = matches!(
        subscription.status()?,
        SubscriptionStatus::Incomplete | SubscriptionStatus::PastDue | SubscriptionStatus::Unpaid
    );
    let Some(invoice) = subscription.latest_invoice_id.as_deref().filter(|_| owes) else {
        return Ok(false);
    };
    match store::subscriptions::find_invoice(env, &subscription.merchant_id, invoice).await? {
        Some(invoice) => settle_if_paid_in_session(env, &invoice).await,
        None => Ok(false),
    }
}

/// Bills `id` now if its period has ended (a subscription resumed after its period ran out).
pub async fn run_one(env: &Env, merchant_id: &str, id: &str) -> Result<bool, ApiError> {
    match store::subscriptions::find(env, merchant_id, id).await? {
        Some(subscription) => step(env, subscription).await,
        None => Ok(false),
    }
}

/// Moves a subscription whose period or trial ended (or whose first charge is incomplete):
/// ends it if it was to cancel then, else opens and charges the next period's invoice.
async fn step(env: &Env, subscription: SubscriptionRow) -> Result<bool, ApiError> {
    let now = time_of(env, &subscription).await?;
    let status = subscription.status()?;
    if status == SubscriptionStatus::Incomplete {
        if refresh(env, &subscription).await? {
            return Ok(true);
        }
        if now < subscription.created + INCOMPLETE_EXPIRES_AFTER_SECONDS {
            return Ok(false);
        }
        return expire(env, &subscription, now).await;
    }
    if now < subscription.current_period_end {
        return Ok(false);
    }
    if subscription.cancel_at_period_end == 1 {
        let mut change = subscription.unchanged()?;
        change.status = status
            .move_to(SubscriptionStatus::Canceled)
            .map_err(|_| ApiError::internal())?;
        change.ended_at = Some(subscription.current_period_end);
        return changed(env, &subscription, &change, "customer.subscription.deleted").await;
    }
    let period = subscription
        .cycle()?
        .period_at(subscription.current_period_end)
        .map_err(|_| ApiError::internal())?;
    let invoice = open_invoice(env, &subscription, period, now).await?;
    let left = left_after(&invoice, subscription.pending_lines()?)?;
    let mut change = subscription.unchanged()?;
    change.current_period_start = period.start;
    change.current_period_end = period.end;
    change.latest_invoice_id = Some(&invoice.id);
    change.pending_lines = serde_json::to_string(&left).map_err(|_| ApiError::internal())?;
    if store::subscriptions::update(env, &subscription, &change, clock::now_seconds(), None)
        .await?
        .is_none()
    {
        return Ok(false);
    }
    collect(env, invoice).await?;
    Ok(true)
}

/// What `subscription` is billed on now.
pub async fn terms_of(env: &Env, subscription: &SubscriptionRow) -> Result<Terms, ApiError> {
    let product: Option<ProductRow> = store::catalogue::find(
        env,
        Catalogued::Products,
        &subscription.merchant_id,
        &subscription.product_id,
    )
    .await?;
    Ok(Terms {
        price: subscription.price_id.clone(),
        product_name: product.map_or_else(|| subscription.product_id.clone(), |p| p.name),
        unit_amount: subscription.unit_amount,
        quantity: subscription.quantity()?,
    })
}

/// The invoice of `period`, due at once: the period's price and whatever lines were waiting
/// (prorations, carried credit) — unless the period has one already, which is answered.
pub async fn open_invoice(
    env: &Env,
    subscription: &SubscriptionRow,
    period: Span,
    now: i64,
) -> Result<InvoiceRow, ApiError> {
    let terms = terms_of(env, subscription).await?;
    period_amount(terms.unit_amount, terms.quantity, subscription.currency)?;
    let mut lines = vec![period_line(
        random::id(IdKind::InvoiceLine)?,
        &terms,
        period.start,
        period.end,
    )];
    lines.extend(subscription.pending_lines()?);
    let (subtotal, total, _) = totals(&lines);
    let row = InvoiceRow {
        id: random::id(IdKind::Invoice)?,
        merchant_id: subscription.merchant_id.clone(),
        subscription_id: subscription.id.clone(),
        customer_id: subscription.customer_id.clone(),
        status: InvoiceStatus::Open.as_str().into(),
        currency: subscription.currency,
        lines: serde_json::to_string(&lines).map_err(|_| ApiError::internal())?,
        subtotal,
        tax: 0,
        total,
        attempt_count: 0,
        attempts_settled: 0,
        next_attempt_at: Some(now),
        payment_id: None,
        period_start: period.start,
        period_end: period.end,
        paid_at: None,
        created: now,
    };
    let event = merchant_webhooks::new_event(&row.merchant_id, "invoice.created", &row.view()?)?;
    let (invoice, opened) = store::subscriptions::open_invoice(env, &row, &event).await?;
    told(env, &event, opened).await;
    invoice.ok_or_else(ApiError::internal)
}

/// The lines still waiting after `invoice` took its share of `pending` (by id: a line added
/// after the invoice was opened waits for the next one), plus the credit `invoice` carries
/// over when credits outweighed its charges.
pub fn left_after(
    invoice: &InvoiceRow,
    pending: Vec<InvoiceLine>,
) -> Result<Vec<InvoiceLine>, ApiError> {
    let taken: Vec<InvoiceLine> =
        serde_json::from_str(&invoice.lines).map_err(|_| ApiError::internal())?;
    let mut left: Vec<InvoiceLine> = pending
        .into_iter()
        .filter(|line| taken.iter().all(|t| t.id != line.id))
        .collect();
    let (_, _, credit) = totals(&taken);
    if credit < 0 {
        let carried_id = format!("il_carried_{}", invoice.id);
        left.push(carried_credit(
            carried_id,
            &invoice.id,
            credit,
            invoice.period_start,
        ));
    }
    Ok(left)
}

/// Charges an open invoice when a charge is due, or resumes one under way, and takes in the
/// outcome. True when something changed.
pub async fn collect(env: &Env, mut invoice: InvoiceRow) -> Result<bool, ApiError> {
    let subscription =
        store::subscriptions::find(env, &invoice.merchant_id, &invoice.subscription_id)
            .await?
            .ok_or_else(ApiError::internal)?;
    let now = time_of(env, &subscription).await?;
    let mut claimed = false;
    if invoice.attempts_settled == invoice.attempt_count {
        if invoice.next_attempt_at.is_none_or(|at| at > now) {
            return Ok(false);
        }
        // The customer may have the last charge's session to pay it themselves: close it
        // before charging again, and never charge while they are paying or once they paid.
        if let (_, Some(session)) = in_session(env, &invoice).await? {
            store::sessions::lock(env, &session).await?;
        }
        match in_session(env, &invoice).await?.0 {
            InSession::Paid(_) => return settle_if_paid_in_session(env, &invoice).await,
            InSession::Paying => return Ok(false),
            InSession::Nothing => {}
        }
        let usable = store::payment_methods::usable(
            env,
            &subscription.merchant_id,
            &subscription.customer_id,
            &subscription.payment_method_id,
        )
        .await?;
        let payment_id = match usable {
            Some(_) if invoice.total > 0 => Some(random::id(IdKind::Payment)?),
            _ => None,
        };
        if !store::subscriptions::claim_attempt(
            env,
            &invoice,
            payment_id.as_deref(),
            clock::now_seconds(),
        )
        .await?
        {
            return Ok(false);
        }
        invoice.attempt_count += 1;
        invoice.payment_id = payment_id;
        invoice.next_attempt_at = None;
        claimed = true;
    }
    let outcome = match &invoice.payment_id {
        // Credits paid for it all: nothing to charge.
        None if invoice.total == 0 => Outcome::Paid,
        // The card was removed: the attempt fails without reaching the gateway.
        None => Outcome::Failed,
        Some(payment_id) => charge(env, &subscription, &invoice, payment_id).await?,
    };
    let settled = match outcome {
        Outcome::Pending => false,
        Outcome::Paid => settle_paid(env, &subscription, &invoice, now).await?,
        Outcome::Failed => settle_failed(env, &subscription, &invoice, now).await?,
    };
    Ok(claimed || settled)
}

enum Outcome {
    Paid,
    Failed,
    /// No final answer yet (the gateway did not answer, or the charge is held for review).
    Pending,
}

fn outcome_of(payment: &PaymentRow) -> Outcome {
    match payment.status {
        PaymentStatus::Succeeded => Outcome::Paid,
        PaymentStatus::Failed | PaymentStatus::Canceled => Outcome::Failed,
        _ => Outcome::Pending,
    }
}

/// Makes (or resumes) the invoice's latest charge as a merchant-initiated payment on the saved
/// card, under the idempotency record of (invoice, attempt): a concurrent run waits its turn.
async fn charge(
    env: &Env,
    subscription: &SubscriptionRow,
    invoice: &InvoiceRow,
    payment_id: &str,
) -> Result<Outcome, ApiError> {
    let merchant_id = subscription.merchant_id.as_str();
    if let Some(payment) = store::payments::find(env, merchant_id, payment_id).await? {
        if !saved_cards::unfinished(payment.status) {
            return Ok(outcome_of(&payment));
        }
    }
    let attempt = format!("{}:{}", invoice.id, invoice.attempt_count);
    let scope = idempotency::Scope {
        merchant_id: merchant_id.to_string(),
        endpoint: "invoices.pay",
        key: attempt.clone(),
        fingerprint: invoice.id.clone(),
    };
    let ran = idempotency::once(env, &scope, || async {
        let (customer, method) = (&subscription.customer_id, &subscription.payment_method_id);
        let earlier = Earlier::Id(payment_id);
        let (reads, card) = saved_cards::read(env, merchant_id, customer, method, earlier).await?;
        let (mut payment, charging) = match reads.earlier {
            Some(found) if !saved_cards::unfinished(found.status) => {
                return Ok(Ended::Stored {
                    status: 200,
                    body: "{}".into(),
                })
            }
            Some(found) => (found, Charging::Resumed),
            None => {
                let (Some(context), Some(card)) = (Context::of(reads), &card) else {
                    return Ok(Ended::Retryable(ApiError::not_found("payment method")));
                };
                let money = Money::payable(invoice.total, invoice.currency)
                    .map_err(|_| ApiError::internal())?;
                let charge = Charge {
                    merchant_id,
                    customer: &subscription.customer_id,
                    payment_method: &subscription.payment_method_id,
                    money,
                    capture_method: CaptureMethod::Automatic,
                    merchant_reference: Some(invoice.id.clone()),
                    purpose: Purpose::Payment,
                    payee: None,
                    payee_claim: None,
                    initiator: Initiator::Merchant,
                    idempotency_key: format!("invoice:{attempt}"),
                    fingerprint: invoice.id.clone(),
                    gateway_key: scope.gateway_key(),
                };
                let recorded =
                    saved_cards::start(env, &charge, payment_id.to_string(), card, context).await?;
                (recorded.payment, Charging::Started(recorded.route))
            }
        };
        let Some(card) = card else {
            return Ok(Ended::Retryable(ApiError::not_found("payment method")));
        };
        match saved_cards::charge(env, &mut payment, card, charging).await? {
            Charged::Unanswered => Ok(Ended::Retryable(ApiError::gateway_unavailable())),
            Charged::Applied => Ok(Ended::Stored {
                status: 200,
                body: "{}".into(),
            }),
        }
    })
    .await;
    if let Err(error) = ran {
        crate::log_warn!("{attempt}: charge not finished: {}", error.error.message);
    }
    Ok(
        match store::payments::find(env, merchant_id, payment_id).await? {
            Some(payment) => outcome_of(&payment),
            None => Outcome::Pending,
        },
    )
}

/// The invoice is paid: the subscription is active again (one that was `unpaid` resumes in the
/// period it is now in).
async fn settle_paid(
    env: &Env,
    subscription: &SubscriptionRow,
    invoice: &InvoiceRow,
    now: i64,
) -> Result<bool, ApiError> {
    let paid = invoice.settled(InvoiceStatus::Paid, None, now);
    let event = merchant_webhooks::new_event(&invoice.merchant_id, "invoice.paid", &paid.view()?)?;
    let written =
        store::subscriptions::settle_attempt(env, invoice, InvoiceStatus::Paid, None, now, &event)
            .await?;
    if !told(env, &event, written).await {
        return Ok(false);
    }
    let status = subscription.status()?;
    if !status.can_move_to(SubscriptionStatus::Active) {
        return Ok(true);
    }
    let mut change = subscription.unchanged()?;
    active_again(subscription, &mut change, now)?;
    changed(env, subscription, &change, "customer.subscription.updated").await?;
    Ok(true)
}

/// Its invoice paid, the subscription is `active`; one that was `unpaid` resumes in the period
/// it is now in (the periods in between are not billed).
fn active_again(
    subscription: &SubscriptionRow,
    change: &mut store::subscriptions::Change<'_>,
    now: i64,
) -> Result<(), ApiError> {
    change.status = SubscriptionStatus::Active;
    if subscription.status()? == SubscriptionStatus::Unpaid {
        let period = subscription
            .cycle()?
            .period_at(now)
            .map_err(|_| ApiError::internal())?;
        change.current_period_start = period.start;
        change.current_period_end = period.end;
    }
    Ok(())
}

/// A charge failed: retried on the dunning schedule, or the schedule is spent and the
/// subscription is `unpaid` (the invoice stays open) or `canceled` (the invoice is void). A
/// first charge that fails leaves the subscription `incomplete` until a new card pays or it
/// expires.
async fn settle_failed(
    env: &Env,
    subscription: &SubscriptionRow,
    invoice: &InvoiceRow,
    now: i64,
) -> Result<bool, ApiError> {
    let status = subscription.status()?;
    let attempts = u32::try_from(invoice.attempt_count).unwrap_or(u32::MAX);
    let (invoice_status, retry, next) = match status {
        SubscriptionStatus::Incomplete => (InvoiceStatus::Open, None, status),
        _ => match subscription
            .dunning()?
            .after_failure(invoice.created, attempts)
        {
            AfterFailure::RetryAt(at) => {
                (InvoiceStatus::Open, Some(at), SubscriptionStatus::PastDue)
            }
            AfterFailure::GiveUp(SubscriptionStatus::Canceled) => {
                (InvoiceStatus::Void, None, SubscriptionStatus::Canceled)
            }
            AfterFailure::GiveUp(after) => (InvoiceStatus::Open, None, after),
        },
    };
    let failed = invoice.settled(invoice_status, retry, now);
    let event = merchant_webhooks::new_event(
        &invoice.merchant_id,
        "invoice.payment_failed",
        &failed.view()?,
    )?;
    let written =
        store::subscriptions::settle_attempt(env, invoice, invoice_status, retry, now, &event)
            .await?;
    if !told(env, &event, written).await {
        return Ok(false);
    }
    if next == status || !status.can_move_to(next) {
        return Ok(true);
    }
    let mut change = subscription.unchanged()?;
    change.status = next;
    let kind = if next == SubscriptionStatus::Canceled {
        change.canceled_at = Some(now);
        change.ended_at = Some(now);
        "customer.subscription.deleted"
    } else {
        "customer.subscription.updated"
    };
    changed(env, subscription, &change, kind).await?;
    Ok(true)
}

/// What the customer did in the checkout session of an invoice's latest charge (handed to
/// them to authenticate, or to pay with another card).
enum InSession {
    Paid(Box<PaymentRow>),
    /// A payment of theirs is at the gateway.
    Paying,
    Nothing,
}

async fn in_session(
    env: &Env,
    invoice: &InvoiceRow,
) -> Result<(InSession, Option<String>), ApiError> {
    let merchant = invoice.merchant_id.as_str();
    let Some(charge_id) = &invoice.payment_id else {
        return Ok((InSession::Nothing, None));
    };
    let Some(charge) = store::payments::find(env, merchant, charge_id).await? else {
        return Ok((InSession::Nothing, None));
    };
    let session_id = charge.checkout_session_id.clone();
    let Some(session) = store::sessions::find(env, merchant, &session_id).await? else {
        return Ok((InSession::Nothing, None));
    };
    let theirs = match &session.payment_id {
        Some(id) if id != charge_id => store::payments::find(env, merchant, id).await?,
        _ => None,
    };
    let found = match theirs {
        Some(payment) if payment.status == PaymentStatus::Succeeded => {
            InSession::Paid(Box::new(payment))
        }
        Some(_) if session.status == SessionStatus::Processing => InSession::Paying,
        _ => InSession::Nothing,
    };
    Ok((found, Some(session_id)))
}

/// An open invoice whose latest charge's checkout session the customer paid: paid by that
/// payment, the subscription active again and, when the customer kept the card, charged to it
/// from now on.
pub async fn settle_if_paid_in_session(env: &Env, invoice: &InvoiceRow) -> Result<bool, ApiError> {
    let InSession::Paid(payment) = in_session(env, invoice).await?.0 else {
        return Ok(false);
    };
    let merchant = invoice.merchant_id.as_str();
    let Some(subscription) =
        store::subscriptions::find(env, merchant, &invoice.subscription_id).await?
    else {
        return Ok(false);
    };
    let now = time_of(env, &subscription).await?;
    let paid = invoice.paid_by(&payment.id, now);
    let event = merchant_webhooks::new_event(merchant, "invoice.paid", &paid.view()?)?;
    let written =
        store::subscriptions::paid_by_customer(env, &invoice.id, &payment.id, now, &event).await?;
    if !told(env, &event, written).await {
        return Ok(false);
    }
    let status = subscription.status()?;
    let kept = store::payment_methods::saved_by(env, merchant, &payment.id).await?;
    let mut change = subscription.unchanged()?;
    if let Some(kept) = &kept {
        change.payment_method_id = &kept.id;
    }
    if status.can_move_to(SubscriptionStatus::Active) {
        active_again(&subscription, &mut change, now)?;
    }
    changed(env, &subscription, &change, "customer.subscription.updated").await?;
    Ok(true)
}

/// A first charge never paid in time: the subscription ends `incomplete_expired` and its
/// invoice is void.
async fn expire(env: &Env, subscription: &SubscriptionRow, now: i64) -> Result<bool, ApiError> {
    if let Some(invoice) = &subscription.latest_invoice_id {
        if !store::subscriptions::void_invoice(env, invoice, clock::now_seconds()).await? {
            return Ok(false);
        }
    }
    let mut change = subscription.unchanged()?;
    change.status = SubscriptionStatus::IncompleteExpired;
    change.ended_at = Some(now);
    changed(env, subscription, &change, "customer.subscription.deleted").await
}

/// Writes a change of `subscription` with the event `kind` that tells the merchant (one
/// transaction); false when another run changed it first.
pub async fn changed(
    env: &Env,
    subscription: &SubscriptionRow,
    change: &store::subscriptions::Change<'_>,
    kind: &str,
) -> Result<bool, ApiError> {
    let now = clock::now_seconds();
    let after = subscription.after(change, now);
    let event = merchant_webhooks::new_event(&subscription.merchant_id, kind, &after.view()?)?;
    let written =
        store::subscriptions::update(env, subscription, change, now, Some(&event)).await?;
    Ok(told(env, &event, written).await)
}

/// Delivers `event`, recorded with the change it tells of, when that change was written
/// (`endpoints` is then the merchant's); whether it was.
pub async fn told(env: &Env, event: &EventRow, endpoints: Option<Vec<EndpointRow>>) -> bool {
    match endpoints {
        Some(endpoints) => {
            merchant_webhooks::deliver(env, event, endpoints).await;
            true
        }
        None => false,
    }
}
