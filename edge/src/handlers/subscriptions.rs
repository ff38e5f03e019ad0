//! Subscriptions and their invoices: `POST /v1/subscriptions` (secret key, `Idempotency-Key`),
//! `GET /v1/subscriptions[/:id]`, `POST /v1/subscriptions/:id {payment_method?,
//! cancel_at_period_end?}`, `POST /v1/subscriptions/:id/cancel {at_period_end?}`,
//! `GET /v1/invoices[/:id]`. Billing itself is `crate::billing`.

use super::customer_sessions::open_subscriptions;
use crate::auth::Caller;
use crate::http::{body_value, json, page_param, parse, query_param, raw_json, ApiResult};
use crate::idempotency::{self, Ended};
use crate::store::catalogue::{Catalogued, PriceRow};
use crate::store::subscriptions::{InvoiceFilter, SubscriptionFilter, SubscriptionRow};
use crate::{billing, clock, random, store};
use till_core::api::{CustomerAction, List};
use till_core::api_keys::hash_secret;
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::{self, IdKind};
use till_core::invoice::proration_lines;
use till_core::invoice::InvoiceStatus;
use till_core::payment::{DeclineCode, PaymentStatus};
use till_core::subscription::{
    next_charge, period_amount, CancelSubscription, ChargedCard, CreateSubscription,
    CustomerSubscription, CustomerSubscriptionChange, Cycle, InvoiceSummary, PayInvoice, Span,
    SubscriptionStatus, UpdateSubscription,
};
use worker::{Env, Request};

fn missing(what: &str, param: &str) -> ApiError {
    ApiError::not_found(what).with_param(param)
}

fn invalid_state(message: &str) -> ApiError {
    ApiError::new(ErrorCode::SubscriptionInvalidState).with_message(message)
}

/// Whether this deployment lets subscriptions live on test clocks (`TEST_CLOCKS=on`, set only by
/// the local stack).
pub fn test_clocks_enabled(env: &Env) -> bool {
    env.var("TEST_CLOCKS")
        .map(|v| v.to_string() == "on")
        .unwrap_or(false)
}

/// The customer's card, if it is theirs and usable.
async fn usable_card(
    env: &Env,
    merchant_id: &str,
    customer: &str,
    payment_method: &str,
) -> Result<(), ApiError> {
    let usable = ids::is_valid(IdKind::PaymentMethod, payment_method)
        && store::payment_methods::usable(env, merchant_id, customer, payment_method)
            .await?
            .is_some();
    if usable {
        Ok(())
    } else {
        Err(missing("payment method", "payment_method"))
    }
}

/// `POST /v1/subscriptions`: starts the trial, or opens the first period's invoice and charges
/// it at once (`active` when paid, `incomplete` when not).
pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let body = body_value(&mut req).await?;
    let scope = idempotency::scope_for(&req, &caller.merchant_id, "subscriptions.create", &body)?;
    let request: CreateSubscription = parse(body)?;
    request.checked()?;
    let merchant_id = caller.merchant_id.as_str();
    idempotency::once(env, &scope, || async {
        let existing =
            store::subscriptions::by_idempotency_key(env, merchant_id, &scope.key).await?;
        let subscription = match existing {
            Some(found) if found.request_fingerprint != scope.fingerprint => {
                return Ok(Ended::Retryable(idempotency::key_reused()))
            }
            // An earlier attempt died after recording it: finish its first charge.
            Some(found) => found,
            None => match start(env, merchant_id, &request, &scope).await? {
                Ok(subscription) => subscription,
                Err(refused) => return Ok(Ended::Retryable(refused)),
            },
        };
        if let Some(invoice) = &subscription.latest_invoice_id {
            if let Some(invoice) =
                store::subscriptions::find_invoice(env, merchant_id, invoice).await?
            {
                billing::collect(env, invoice).await?;
            }
        }
        let now = store::subscriptions::find(env, merchant_id, &subscription.id)
            .await?
            .ok_or_else(ApiError::internal)?;
        let mut answer = now.view()?;
        if answer.status == SubscriptionStatus::Incomplete {
            answer.customer_action = authentication_asked(env, &now).await?;
        }
        let body = serde_json::to_string(&answer).map_err(|_| ApiError::internal())?;
        Ok(Ended::Stored { status: 200, body })
    })
    .await
}

/// When the first charge was declined because the bank wants the customer to authenticate:
/// its checkout session, handed to the customer to pay on the hosted page.
async fn authentication_asked(
    env: &Env,
    subscription: &SubscriptionRow,
) -> Result<Option<CustomerAction>, ApiError> {
    let merchant = subscription.merchant_id.as_str();
    let Some(invoice) = &subscription.latest_invoice_id else {
        return Ok(None);
    };
    let Some(invoice) = store::subscriptions::find_invoice(env, merchant, invoice).await? else {
        return Ok(None);
    };
    let charge = match &invoice.payment_id {
        Some(id) => store::payments::find(env, merchant, id).await?,
        None => None,
    };
    match charge {
        Some(charge) if charge.failure_code == Some(DeclineCode::AuthenticationRequired) => {
            hand_over(env, &charge, None).await
        }
        _ => Ok(None),
    }
}

/// The checkout session of an invoice's failed charge, with a new client secret for the
/// customer to pay it on the hosted page (the charge's own secret was never shown); `None` when
/// that session takes no payment any more.
async fn hand_over(
    env: &Env,
    charge: &crate::store::payments::PaymentRow,
    return_url: Option<&str>,
) -> Result<Option<CustomerAction>, ApiError> {
    let session = charge.checkout_session_id.clone();
    let client_secret = format!("{session}_{}", random::id(IdKind::ClientSecret)?);
    let handed =
        store::sessions::hand_to_customer(env, &session, &hash_secret(&client_secret), return_url)
            .await?;
    Ok(handed.then_some(CustomerAction {
        checkout_session: session,
        client_secret,
    }))
}

/// Checks what the request names and records the subscription (and its first invoice, unless
/// it starts with a trial). The inner error is a refusal that changed nothing.
async fn start(
    env: &Env,
    merchant_id: &str,
    request: &CreateSubscription,
    scope: &idempotency::Scope,
) -> Result<Result<SubscriptionRow, ApiError>, ApiError> {
    if !ids::is_valid(IdKind::Price, &request.price) {
        return Ok(Err(missing("price", "price")));
    }
    let price: Option<PriceRow> =
        store::catalogue::find(env, Catalogued::Prices, merchant_id, &request.price).await?;
    let Some(price) = price else {
        return Ok(Err(missing("price", "price")));
    };
    if price.active != 1 {
        return Ok(Err(
            ApiError::new(ErrorCode::PriceInactive).with_param("price")
        ));
    }
    let amount = match period_amount(price.unit_amount, request.quantity, price.currency) {
        Ok(amount) => amount,
        Err(refused) => return Ok(Err(refused)),
    };
    let customer = match ids::is_valid(IdKind::Customer, &request.customer) {
        true => store::customers::find(env, merchant_id, &request.customer).await?,
        false => None,
    };
    if customer.is_none() {
        return Ok(Err(missing("customer", "customer")));
    }
    if let Err(refused) =
        usable_card(env, merchant_id, &request.customer, &request.payment_method).await
    {
        return Ok(Err(refused));
    }
    let now = match &request.test_clock {
        None => clock::now_seconds(),
        Some(_) if !test_clocks_enabled(env) => {
            return Ok(Err(ApiError::new(ErrorCode::TestClocksDisabled)))
        }
        Some(id) => {
            let found = match ids::is_valid(IdKind::TestClock, id) {
                true => store::test_clocks::find(env, merchant_id, id).await?,
                false => None,
            };
            match found {
                Some(clock) => clock.frozen_time,
                None => return Ok(Err(missing("test clock", "test_clock"))),
            }
        }
    };
    let recurring = price.view()?.recurring;
    let trial_days = request.trial_days.or(price.view()?.trial_days).unwrap_or(0);
    let (status, anchor, period, trial_end) = if trial_days > 0 {
        let trial_end = now + i64::from(trial_days) * 86_400;
        let trial = Span {
            start: now,
            end: trial_end,
        };
        (
            SubscriptionStatus::Trialing,
            trial_end,
            trial,
            Some(trial_end),
        )
    } else {
        let cycle = Cycle::new(recurring.interval, recurring.interval_count, now)
            .map_err(|_| ApiError::internal())?;
        let period = cycle.period_at(now).map_err(|_| ApiError::internal())?;
        (SubscriptionStatus::Incomplete, now, period, None)
    };
    let row = SubscriptionRow {
        id: random::id(IdKind::Subscription)?,
        merchant_id: merchant_id.to_string(),
        customer_id: request.customer.clone(),
        price_id: price.id.clone(),
        product_id: price.product_id.clone(),
        payment_method_id: request.payment_method.clone(),
        quantity: i64::from(request.quantity),
        unit_amount: price.unit_amount,
        currency: amount.currency,
        interval: recurring.interval.as_str().to_string(),
        interval_count: i64::from(recurring.interval_count),
        status: status.as_str().to_string(),
        anchor,
        current_period_start: period.start,
        current_period_end: period.end,
        trial_end,
        cancel_at_period_end: 0,
        canceled_at: None,
        ended_at: None,
        latest_invoice_id: None,
        pending_lines: "[]".into(),
        dunning: match &request.dunning {
            Some(own) => serde_json::to_string(own).map_err(|_| ApiError::internal())?,
            None => super::billing_settings::dunning_json(env, merchant_id).await?,
        },
        own_dunning: i64::from(request.dunning.is_some()),
        test_clock_id: request.test_clock.clone(),
        idempotency_key: scope.key.clone(),
        request_fingerprint: scope.fingerprint.clone(),
        created: now,
        updated: clock::now_seconds(),
    };
    let event = crate::merchant_webhooks::new_event(
        merchant_id,
        "customer.subscription.created",
        &row.view()?,
    )?;
    let written = store::subscriptions::insert(env, &row, &event).await?;
    if !billing::told(env, &event, written).await {
        crate::log_error!("{}: not recorded", row.id);
        return Err(ApiError::internal());
    }
    if status == SubscriptionStatus::Trialing {
        return Ok(Ok(row));
    }
    let invoice = billing::open_invoice(env, &row, period, now).await?;
    let mut change = row.unchanged()?;
    change.latest_invoice_id = Some(&invoice.id);
    let written =
        store::subscriptions::update(env, &row, &change, clock::now_seconds(), None).await?;
    if written.is_none() {
        crate::log_error!("{}: changed while it was being created", row.id);
        return Err(ApiError::internal());
    }
    let recorded = store::subscriptions::find(env, merchant_id, &row.id)
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok(Ok(recorded))
}

/// The merchant's subscription `id`.
async fn subscription(env: &Env, caller: &Caller, id: &str) -> Result<SubscriptionRow, ApiError> {
    if !ids::is_valid(IdKind::Subscription, id) {
        return Err(ApiError::not_found("subscription"));
    }
    store::subscriptions::find(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("subscription"))
}

async fn answer(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    json(200, &subscription(env, caller, id).await?.view()?)
}

/// `GET /v1/subscriptions/:id`. One that owes is brought up to date first: the customer may
/// just have paid on the hosted page.
pub async fn retrieve(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let row = subscription(env, caller, id).await?;
    billing::refresh(env, &row).await?;
    answer(env, caller, id).await
}

/// `POST /v1/subscriptions/:id`: a new card (an open invoice is charged with it at once: a
/// card that pays resumes the subscription), another price or quantity (prorated onto the next
/// invoice; in a trial nothing is prorated), or `cancel_at_period_end`.
pub async fn update(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let request: UpdateSubscription = parse(body_value(&mut req).await?)?;
    let row = subscription(env, caller, id).await?;
    apply_update(env, caller, row, &request).await?;
    answer(env, caller, id).await
}

/// Applies `request` to the subscription `row` (the merchant's, or the customer's own through
/// their session).
async fn apply_update(
    env: &Env,
    caller: &Caller,
    row: SubscriptionRow,
    request: &UpdateSubscription,
) -> Result<(), ApiError> {
    request.checked()?;
    let id = row.id.clone();
    let status = row.status()?;
    if status.is_final() {
        return Err(invalid_state("The subscription has ended."));
    }
    if request.is_empty() {
        return Ok(());
    }
    if let Some(payment_method) = &request.payment_method {
        usable_card(env, &caller.merchant_id, &row.customer_id, payment_method).await?;
    }
    if request.cancel_at_period_end == Some(true) && !status.bills() {
        return Err(invalid_state(
            "Only a trialing, active or past_due subscription cancels at its period's end.",
        ));
    }
    let now = billing::time_of(env, &row).await?;
    let new_price = match &request.price {
        Some(price) => Some(compatible_price(env, caller, &row, price).await?),
        None => None,
    };
    let mut change = row.unchanged()?;
    if request.changes_terms() {
        let prorated = match status {
            SubscriptionStatus::Active => true,
            SubscriptionStatus::Trialing => false,
            _ => {
                return Err(invalid_state(
                    "Only an active or trialing subscription changes price or quantity.",
                ))
            }
        };
        if now >= row.current_period_end {
            return Err(invalid_state(
                "The subscription's period has ended and is being billed: retry shortly.",
            ));
        }
        let old = billing::terms_of(env, &row).await?;
        let mut new = old.clone();
        if let Some(price) = &new_price {
            change.price_id = &price.id;
            change.product_id = &price.product_id;
            change.unit_amount = price.unit_amount;
            new.price = price.id.clone();
            new.unit_amount = price.unit_amount;
            if price.product_id != row.product_id {
                let moved = SubscriptionRow {
                    product_id: price.product_id.clone(),
                    ..row.clone()
                };
                new.product_name = billing::terms_of(env, &moved).await?.product_name;
            }
        }
        if let Some(quantity) = request.quantity {
            change.quantity = i64::from(quantity);
            new.quantity = quantity;
        }
        period_amount(new.unit_amount, new.quantity, row.currency)?;
        if prorated {
            let ids = [
                random::id(IdKind::InvoiceLine)?,
                random::id(IdKind::InvoiceLine)?,
            ];
            let lines = proration_lines(
                &old,
                &new,
                row.current_period_start,
                row.current_period_end,
                now.max(row.current_period_start),
                ids,
            )
            .map_err(|_| ApiError::internal())?;
            let mut pending = row.pending_lines()?;
            pending.extend(lines);
            change.pending_lines =
                serde_json::to_string(&pending).map_err(|_| ApiError::internal())?;
        }
    }
    if let Some(payment_method) = &request.payment_method {
        change.payment_method_id = payment_method;
    }
    if let Some(at_end) = request.cancel_at_period_end {
        change.cancel_at_period_end = at_end;
        change.canceled_at = at_end.then_some(now);
    }
    if let Some(dunning) = &request.dunning {
        change.own_dunning =
            Some(serde_json::to_string(dunning).map_err(|_| ApiError::internal())?);
    }
    if !billing::changed(env, &row, &change, "customer.subscription.updated").await? {
        return Err(invalid_state(
            "The subscription changed while this request ran: retrieve it and try again.",
        ));
    }
    if request.payment_method.is_some() {
        retry_open_invoice(env, caller, &id).await?;
    }
    Ok(())
}

/// The merchant's active price `id`, if the subscription may move to it: the same currency,
/// recurring the same way (so the period stays the one paid for).
async fn compatible_price(
    env: &Env,
    caller: &Caller,
    row: &SubscriptionRow,
    id: &str,
) -> Result<PriceRow, ApiError> {
    let price: Option<PriceRow> = match ids::is_valid(IdKind::Price, id) {
        true => store::catalogue::find(env, Catalogued::Prices, &caller.merchant_id, id).await?,
        false => None,
    };
    let price = price.ok_or_else(|| missing("price", "price"))?;
    if price.active != 1 {
        return Err(ApiError::new(ErrorCode::PriceInactive).with_param("price"));
    }
    let recurring = price.view()?.recurring;
    if price.currency != row.currency || recurring != row.recurring()? {
        return Err(ApiError::new(ErrorCode::PriceIncompatible).with_param("price"));
    }
    Ok(price)
}

/// `POST /v1/subscriptions/:id/pause`: nothing is billed until resumed; the period already paid
/// for runs out.
pub async fn pause(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let row = subscription(env, caller, id).await?;
    let status = row.status()?;
    if status == SubscriptionStatus::Paused {
        return json(200, &row.view()?);
    }
    let mut change = row.unchanged()?;
    change.status = status
        .move_to(SubscriptionStatus::Paused)
        .map_err(|e| invalid_state(&format!("{e}.")))?;
    if !billing::changed(env, &row, &change, "customer.subscription.updated").await? {
        return Err(invalid_state(
            "The subscription changed while this request ran: retrieve it and try again.",
        ));
    }
    answer(env, caller, id).await
}

/// `POST /v1/subscriptions/:id/resume`: active again. If the paid period ran out while paused,
/// the subscription starts again in the period it is now in, billed at once; the periods in
/// between are not billed.
pub async fn resume(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let row = subscription(env, caller, id).await?;
    let status = row.status()?;
    if status != SubscriptionStatus::Paused {
        return Err(invalid_state("Only a paused subscription resumes."));
    }
    let now = billing::time_of(env, &row).await?;
    let mut change = row.unchanged()?;
    change.status = SubscriptionStatus::Active;
    if now >= row.current_period_end {
        // The next run opens the period `now` is in: the one before it ends now.
        let period = row
            .cycle()?
            .period_at(now)
            .map_err(|_| ApiError::internal())?;
        change.current_period_start = row.current_period_start.min(period.start);
        change.current_period_end = period.start;
    }
    if !billing::changed(env, &row, &change, "customer.subscription.updated").await? {
        return Err(invalid_state(
            "The subscription changed while this request ran: retrieve it and try again.",
        ));
    }
    if now >= row.current_period_end {
        billing::run_one(env, &caller.merchant_id, id).await?;
    }
    answer(env, caller, id).await
}

/// Charges the subscription's open invoice now, if it has one and no charge is under way.
async fn retry_open_invoice(env: &Env, caller: &Caller, id: &str) -> Result<(), ApiError> {
    let row = subscription(env, caller, id).await?;
    let Some(invoice_id) = &row.latest_invoice_id else {
        return Ok(());
    };
    let now = billing::time_of(env, &row).await?;
    if store::subscriptions::retry_at(env, invoice_id, now, clock::now_seconds()).await? {
        if let Some(invoice) =
            store::subscriptions::find_invoice(env, &caller.merchant_id, invoice_id).await?
        {
            billing::collect(env, invoice).await?;
        }
    }
    Ok(())
}

/// `POST /v1/subscriptions/:id/cancel {at_period_end?}`. Canceling a canceled subscription
/// answers it as it is.
pub async fn cancel(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let request: CancelSubscription = parse(body_value(&mut req).await?)?;
    let row = subscription(env, caller, id).await?;
    let status = row.status()?;
    if status == SubscriptionStatus::Canceled {
        return json(200, &row.view()?);
    }
    let now = billing::time_of(env, &row).await?;
    let mut change = row.unchanged()?;
    let kind = if request.at_period_end {
        if !status.bills() {
            return Err(invalid_state(
                "Only a trialing, active or past_due subscription cancels at its period's end.",
            ));
        }
        change.cancel_at_period_end = true;
        change.canceled_at = Some(now);
        "customer.subscription.updated"
    } else {
        change.status = status
            .move_to(SubscriptionStatus::Canceled)
            .map_err(|e| invalid_state(&format!("{e}.")))?;
        change.canceled_at = Some(now);
        change.ended_at = Some(now);
        "customer.subscription.deleted"
    };
    if !billing::changed(env, &row, &change, kind).await? {
        return Err(invalid_state(
            "The subscription changed while this request ran: retrieve it and try again.",
        ));
    }
    if !request.at_period_end {
        if let Some(invoice) = &row.latest_invoice_id {
            store::subscriptions::void_invoice(env, invoice, clock::now_seconds()).await?;
        }
    }
    answer(env, caller, id).await
}

/// How many invoices of each subscription the customer's page lists.
const CUSTOMER_INVOICES: usize = 12;

/// `GET /v1/customer_sessions/:id/subscriptions?client_secret=`: the session's customer's
/// subscriptions (those that started), newest first, as their self-service page shows them.
pub async fn for_customer_session(req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let secret = query_param(&req, "client_secret");
    let session = open_subscriptions(env, caller, id, secret.as_deref()).await?;
    let filter = SubscriptionFilter {
        customer: Some(&session.customer_id),
        status: None,
        starting_after: None,
        limit: 100,
    };
    let rows = store::subscriptions::list(env, &caller.merchant_id, &filter).await?;
    let mut shown = Vec::new();
    for row in rows {
        if row.status()? == SubscriptionStatus::IncompleteExpired {
            continue;
        }
        // Back from paying on the hosted page: show the payment taken in.
        let row = match billing::refresh(env, &row).await? {
            true => subscription(env, caller, &row.id).await?,
            false => row,
        };
        let status = row.status()?;
        shown.push(customer_view(env, caller, &row, status).await?);
    }
    json(200, &List::page(shown, 100))
}

async fn customer_view(
    env: &Env,
    caller: &Caller,
    row: &SubscriptionRow,
    status: SubscriptionStatus,
) -> Result<CustomerSubscription, ApiError> {
    let merchant = caller.merchant_id.as_str();
    let filter = InvoiceFilter {
        subscription: Some(&row.id),
        customer: None,
        status: None,
        starting_after: None,
        limit: CUSTOMER_INVOICES,
    };
    let (terms, card, invoices) = futures_util::future::join3(
        billing::terms_of(env, row),
        store::payment_methods::find(env, merchant, &row.payment_method_id),
        store::subscriptions::list_invoices(env, merchant, &filter),
    )
    .await;
    let terms = terms?;
    let pending: i64 = row.pending_lines()?.iter().map(|line| line.amount).sum();
    Ok(CustomerSubscription {
        id: row.id.clone(),
        product_name: terms.product_name.clone(),
        status,
        quantity: terms.quantity,
        amount: terms.period_amount(),
        currency: row.currency,
        recurring: row.recurring()?,
        current_period_end: row.current_period_end,
        cancel_at_period_end: row.cancel_at_period_end == 1,
        ended_at: row.ended_at,
        next_charge: next_charge(
            status,
            row.cancel_at_period_end == 1,
            row.current_period_end,
            terms.period_amount(),
            pending,
        ),
        card: card?.map(|method| ChargedCard {
            id: method.id,
            brand: method.card_brand,
            last4: method.card_last4,
        }),
        invoices: invoices?
            .into_iter()
            .map(|invoice| {
                Ok(InvoiceSummary {
                    status: invoice.status()?,
                    id: invoice.id,
                    total: invoice.total,
                    currency: invoice.currency,
                    period_start: invoice.period_start,
                    period_end: invoice.period_end,
                    paid_at: invoice.paid_at,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?,
    })
}

/// `POST /v1/customer_sessions/:id/subscriptions {client_secret, subscription,
/// payment_method?, cancel_at_period_end?}`: the customer changes their card (an open invoice
/// is charged with it at once) or cancels at the period's end (or takes that back).
pub async fn change_for_customer_session(
    mut req: Request,
    env: &Env,
    caller: &Caller,
    id: &str,
) -> ApiResult {
    let request: CustomerSubscriptionChange = parse(body_value(&mut req).await?)?;
    let session = open_subscriptions(env, caller, id, Some(&request.client_secret)).await?;
    let row = subscription(env, caller, &request.subscription)
        .await
        .ok()
        .filter(|row| row.customer_id == session.customer_id)
        .ok_or_else(|| missing("subscription", "subscription"))?;
    let status = row.status()?;
    apply_update(env, caller, row, &request.as_update()).await?;
    let after = subscription(env, caller, &request.subscription).await?;
    json(
        200,
        &customer_view(env, caller, &after, after.status().unwrap_or(status)).await?,
    )
}

/// `POST /v1/customer_sessions/:id/invoice_payments {client_secret, invoice}`: the customer
/// pays one of their open invoices themselves, with any card, on the hosted checkout page: the
/// checkout session of its latest failed charge, handed over with a new secret, coming back to
/// their subscriptions page. A card they keep there is charged from then on. The next retry
/// closes that session first, so the invoice is never paid twice.
pub async fn pay_in_session(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let request: PayInvoice = parse(body_value(&mut req).await?)?;
    let session = open_subscriptions(env, caller, id, Some(&request.client_secret)).await?;
    let merchant = caller.merchant_id.as_str();
    let missing_invoice = || missing("invoice", "invoice");
    let invoice = match ids::is_valid(IdKind::Invoice, &request.invoice) {
        true => store::subscriptions::find_invoice(env, merchant, &request.invoice).await?,
        false => None,
    }
    .filter(|invoice| invoice.customer_id == session.customer_id)
    .ok_or_else(missing_invoice)?;
    let not_payable =
        || invalid_state("This invoice cannot be paid now: it is paid, void, or being charged.");
    if invoice.status()? != InvoiceStatus::Open || invoice.attempts_settled != invoice.attempt_count
    {
        return Err(not_payable());
    }
    let charge = match &invoice.payment_id {
        Some(charge) => store::payments::find(env, merchant, charge).await?,
        None => None,
    }
    .filter(|charge| charge.status == PaymentStatus::Failed)
    .ok_or_else(not_payable)?;
    let url = req.url().map_err(|_| ApiError::internal())?;
    let back = format!(
        "{}/wallet?view=subscriptions",
        url.origin().ascii_serialization()
    );
    let action = hand_over(env, &charge, Some(&back))
        .await?
        .ok_or_else(not_payable)?;
    json(200, &action)
}

fn filter_id(req: &Request, name: &str, kind: IdKind) -> Result<Option<String>, ApiError> {
    match query_param(req, name) {
        Some(id) if !ids::is_valid(kind, &id) => Err(ApiError::new(ErrorCode::ParameterInvalid)
            .with_message(format!("{name} is an id ({}...).", kind.prefix()))
            .with_param(name)),
        other => Ok(other),
    }
}

fn status_param<T>(req: &Request, parse: fn(&str) -> Option<T>) -> Result<Option<T>, ApiError> {
    match query_param(req, "status") {
        None => Ok(None),
        Some(text) => parse(&text).map(Some).ok_or_else(|| {
            ApiError::new(ErrorCode::ParameterInvalid)
                .with_message("status is not one this list has.")
                .with_param("status")
        }),
    }
}

/// `GET /v1/subscriptions?customer=&status=&limit=&starting_after=`: newest first.
pub async fn list(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let page = page_param(&req, IdKind::Subscription)?;
    let customer = filter_id(&req, "customer", IdKind::Customer)?;
    let status = status_param(&req, SubscriptionStatus::parse)?;
    if let Some(cursor) = &page.starting_after {
        store::subscriptions::find(env, &caller.merchant_id, cursor)
            .await?
            .ok_or_else(ApiError::cursor_invalid)?;
    }
    let filter = SubscriptionFilter {
        customer: customer.as_deref(),
        status,
        starting_after: page.starting_after.as_deref(),
        limit: page.limit + 1,
    };
    let rows = store::subscriptions::list(env, &caller.merchant_id, &filter).await?;
    let views = rows
        .iter()
        .map(SubscriptionRow::view)
        .collect::<Result<Vec<_>, _>>()?;
    json(200, &List::page(views, page.limit))
}

/// `GET /v1/invoices/:id`.
pub async fn retrieve_invoice(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    if !ids::is_valid(IdKind::Invoice, id) {
        return Err(ApiError::not_found("invoice"));
    }
    let invoice = store::subscriptions::find_invoice(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("invoice"))?;
    json(200, &invoice.view()?)
}

/// `GET /v1/invoices?subscription=&customer=&status=&limit=&starting_after=`: newest first.
pub async fn list_invoices(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let page = page_param(&req, IdKind::Invoice)?;
    let subscription = filter_id(&req, "subscription", IdKind::Subscription)?;
    let customer = filter_id(&req, "customer", IdKind::Customer)?;
    let status = status_param(&req, InvoiceStatus::parse)?;
    if let Some(cursor) = &page.starting_after {
        store::subscriptions::find_invoice(env, &caller.merchant_id, cursor)
            .await?
            .ok_or_else(ApiError::cursor_invalid)?;
    }
    let filter = InvoiceFilter {
        subscription: subscription.as_deref(),
        customer: customer.as_deref(),
        status,
        starting_after: page.starting_after.as_deref(),
        limit: page.limit + 1,
    };
    let rows = store::subscriptions::list_invoices(env, &caller.merchant_id, &filter).await?;
    let views = rows
        .iter()
        .map(|row| row.view())
        .collect::<Result<Vec<_>, _>>()?;
    let body =
        serde_json::to_string(&List::page(views, page.limit)).map_err(|_| ApiError::internal())?;
    raw_json(200, &body)
}
