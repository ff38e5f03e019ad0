//! Disputes as the gateway reports them: recorded once per gateway dispute, moved only through
//! the core's state machine ([`DisputeStatus::settle_to`]), each change written in one batch with
//! its ledger postings ([`till_core::dispute::ledger_operations`]) and the merchant's `dispute.*`
//! events. The same code applies a webhook and the gateway's answer to the merchant's evidence
//! or acceptance, so whichever arrives first writes and the other changes nothing.

use crate::connectors::GatewayDispute;
use crate::gateways::Gateway;
use crate::payments::conversion;
use crate::store::disputes::DisputeRow;
use crate::store::ledger::Posting;
use crate::store::webhooks::EventRow;
use crate::{clock, merchant_webhooks, random, store};
use till_core::dispute::{self, DisputeStatus};
use till_core::error::ApiError;
use till_core::ids::{self, IdKind};
use till_core::ledger::{ConvertedLegs, Operation};
use till_core::money::{Currency, Money};

/// Networks give 7 to 21 days to answer; a gateway that names no due date gets the shortest.
const DEFAULT_EVIDENCE_WINDOW_SECONDS: i64 = 7 * 24 * 60 * 60;

/// What a gateway's word about a dispute did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Recorded,
    Applied,
    /// Till already had it (a repeat, or the answer to Till's own request).
    Unchanged,
    /// An older word after a newer one: the state machine refuses it.
    Stale,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Recorded => "recorded",
            Outcome::Applied => "applied",
            Outcome::Unchanged => "unchanged",
            Outcome::Stale => "stale",
        }
    }
}

/// The events and postings of a change from `from` (`None`: being recorded) to `to`, the
/// status `row` now shows.
///
/// For a converted payment (`legs`: the disputed amount at the payment's rate) the amount is
/// withdrawn and reinstated through the FX desk, in the merchant's settlement currency, and
/// the fee is in that currency too.
fn consequences<'a>(
    row: &'a DisputeRow,
    from: Option<DisputeStatus>,
    to: DisputeStatus,
    now: i64,
    legs: Option<&ConvertedLegs>,
) -> Result<(Vec<EventRow>, Vec<Posting<'a>>), ApiError> {
    let view = row.view()?;
    let events = dispute::event_types(from, to)
        .into_iter()
        .map(|kind| merchant_webhooks::new_event(&row.merchant_id, kind, &view))
        .collect::<Result<Vec<_>, _>>()?;
    let postings = dispute::ledger_operations(&row.merchant_id, from, to, row.amount, row.fee)
        .into_iter()
        .map(|(operation, amount)| match operation {
            // The fee is Till's, in the merchant's settlement currency; the amount is card money.
            Operation::DisputeFee { .. } | Operation::DisputeFeeReturned { .. } => Posting::new(
                &row.merchant_id,
                operation,
                &row.id,
                row.fee_currency(),
                amount,
                now,
            ),
            _ => Posting::of_card_money(
                &row.merchant_id,
                operation,
                &row.id,
                Money {
                    amount,
                    currency: row.currency,
                },
                legs,
                now,
            ),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((events, postings))
}

async fn deliver(
    env: &worker::Env,
    events: &[EventRow],
    endpoints: Vec<store::webhooks::EndpointRow>,
) {
    for event in events {
        merchant_webhooks::deliver(env, event, endpoints.clone()).await;
    }
}

/// Moves `row` to what the gateway says `to` is, if the state machine allows it; `row` is
/// what is stored afterwards.
pub async fn settle(
    env: &worker::Env,
    row: &mut DisputeRow,
    to: DisputeStatus,
) -> Result<Outcome, ApiError> {
    // A webhook about the same dispute may land between our read and our write (the gateway
    // tells `under_review` while its answer says `won`): read again and move from there.
    for _ in 0..3 {
        let from = row.status()?;
        if from == to {
            return Ok(Outcome::Unchanged);
        }
        if from.settle_to(to).is_err() {
            return Ok(Outcome::Stale);
        }
        let now = clock::now_seconds();
        let mut moved = row.clone();
        moved.status = to.as_str().to_string();
        moved.updated = now;
        // Only winning moves money after the dispute is recorded.
        let legs = match to {
            DisputeStatus::Won => match store::payments::by_id(env, &row.payment_id).await? {
                Some(payment) => conversion::part_legs(&payment, row.amount)?,
                None => return Err(ApiError::internal()),
            },
            _ => None,
        };
        let (events, postings) = consequences(&moved, Some(from), to, now, legs.as_ref())?;
        match store::disputes::move_status(env, &moved, from, to, now, &events, &postings).await? {
            Some(endpoints) => {
                worker::console_log!("dispute {} {from} -> {to}", moved.id);
                deliver(env, &events, endpoints).await;
                *row = moved;
                return Ok(Outcome::Applied);
            }
            None => match store::disputes::find(env, &row.merchant_id, &row.id).await? {
                Some(current) => *row = current,
                None => return Err(ApiError::internal()),
            },
        }
    }
    // Still moving under us: report what stands; the gateway's events settle the rest.
    Ok(Outcome::Unchanged)
}

/// A gateway's event about a dispute: recorded the first time (withdrawing the money), then
/// moved. An event about a payment Till does not know, made through another gateway account,
/// or not plausible for the payment (another currency, more than was captured) changes
/// nothing and says why.
pub async fn from_gateway(
    env: &worker::Env,
    gateway: &Gateway,
    incoming: GatewayDispute,
) -> Result<&'static str, ApiError> {
    let account = gateway.account_id.as_deref();
    if let Some(mut row) =
        store::disputes::by_gateway_reference(env, account, &incoming.reference).await?
    {
        return settle(env, &mut row, incoming.status)
            .await
            .map(Outcome::as_str);
    }
    let payment = match incoming
        .payment_id
        .as_deref()
        .filter(|id| ids::is_valid(IdKind::Payment, id))
    {
        Some(id) => store::payments::by_id(env, id).await?,
        None => {
            store::payments::by_gateway_reference(env, account, &incoming.authorization).await?
        }
    };
    let Some(payment) = payment else {
        return Ok("unknown_payment");
    };
    if payment.gateway_account_id.as_deref() != account {
        crate::log_warn!("dispute for {} from another account", payment.id);
        return Ok("other_account");
    }
    if payment.gateway_reference.as_deref() != Some(incoming.authorization.as_str()) {
        return Ok("other_authorization");
    }
    let plausible = Currency::parse(&incoming.currency).ok() == Some(payment.currency)
        && (1..=payment.amount_captured).contains(&incoming.amount);
    if !plausible {
        crate::log_error!(
            "dispute {} of {}: {} {} does not fit the payment",
            incoming.reference,
            payment.id,
            incoming.amount,
            incoming.currency
        );
        return Ok("implausible");
    }
    let now = clock::now_seconds();
    let legs = conversion::part_legs(&payment, incoming.amount)?;
    let fee_currency = legs.map(|legs| legs.settlement.currency);
    let row = DisputeRow {
        id: random::id(IdKind::Dispute)?,
        merchant_id: payment.merchant_id.clone(),
        payment_id: payment.id.clone(),
        gateway_account_id: payment.gateway_account_id.clone(),
        gateway_reference: incoming.reference.clone(),
        amount: incoming.amount,
        currency: payment.currency,
        fee: dispute::dispute_fee(fee_currency.unwrap_or(payment.currency)),
        fee_currency,
        reason: dispute::DisputeReason::from_gateway(&incoming.reason)
            .as_str()
            .to_string(),
        status: incoming.status.as_str().to_string(),
        evidence_due_by: if incoming.evidence_due_by > 0 {
            incoming.evidence_due_by
        } else {
            now + DEFAULT_EVIDENCE_WINDOW_SECONDS
        },
        evidence: None,
        created: now,
        updated: now,
    };
    let (events, postings) = consequences(&row, None, incoming.status, now, legs.as_ref())?;
    match store::disputes::insert(env, &row, &events, &postings).await? {
        Some(endpoints) => {
            worker::console_log!("dispute {} recorded for {}", row.id, row.payment_id);
            deliver(env, &events, endpoints).await;
            Ok(Outcome::Recorded.as_str())
        }
        // Another event about it was recorded first: this one is a change, or nothing.
        None => {
            match store::disputes::by_gateway_reference(env, account, &incoming.reference).await? {
                Some(mut row) => settle(env, &mut row, incoming.status)
                    .await
                    .map(Outcome::as_str),
                None => {
                    crate::log_warn!("payment {} has another dispute", payment.id);
                    Ok("other_dispute")
                }
            }
        }
    }
}
