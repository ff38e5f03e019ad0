//! Refunds after they are reserved: settling one with the gateway's answer (from the API, a
//! webhook or the poller) and sending one again with its original key.

use crate::clock;
use crate::connectors::{GatewayError, RefundAnswer};
use crate::gateways;
use crate::store::ledger::Posting;
use crate::store::{self, refunds::RefundRow};
use till_core::api::Refund;
use till_core::error::ApiError;
use till_core::fx::QuotedAmount;
use till_core::ledger::{ConvertedLegs, Operation};
use till_core::money::Money;
use till_core::payment::RefundStatus;
use worker::Env;

pub fn view(row: &RefundRow) -> Refund {
    Refund {
        id: row.id.clone(),
        object: "refund".into(),
        payment: row.payment_id.clone(),
        amount: row.amount,
        currency: row.currency,
        status: row.status,
        reason: row.reason,
        failure_code: row.failure_code.clone(),
        settlement: row
            .settlement_amount
            .zip(row.settlement_currency)
            .map(|(amount, currency)| QuotedAmount { amount, currency }),
        created: row.created,
    }
}

/// What a refund of a converted payment took, as it was booked when it was reserved.
fn legs(refund: &RefundRow) -> Option<ConvertedLegs> {
    Some(ConvertedLegs {
        presentment: Money {
            amount: refund.amount,
            currency: refund.currency,
        },
        margin: refund.fx_margin?,
        settlement: Money {
            amount: refund.settlement_amount?,
            currency: refund.settlement_currency?,
        },
    })
}

/// Settles a pending refund with the gateway's answer: the reservation is released when the
/// gateway refused. A refund already settled (by a retry, a webhook or the poller) is left as
/// it is. Used by the API, gateway webhooks and the poller alike.
pub async fn settle(
    env: &Env,
    refund: &mut RefundRow,
    answer: RefundAnswer,
) -> Result<(), ApiError> {
    let next = match answer {
        RefundAnswer::Succeeded(gateway_refund) => {
            refund.gateway_reference = Some(gateway_refund);
            RefundStatus::Succeeded
        }
        RefundAnswer::Refused(code) => {
            crate::log_error!("refund {}: gateway refused ({code})", refund.id);
            refund.failure_code = Some(code);
            RefundStatus::Failed
        }
    };
    if !RefundStatus::Pending.can_move_to(next) {
        return Err(ApiError::internal());
    }
    refund.status = next;
    refund.updated = clock::now_seconds();
    let written = if next == RefundStatus::Failed {
        let payment = store::payments::by_id(env, &refund.payment_id)
            .await?
            .ok_or_else(ApiError::internal)?;
        let operation = Operation::RefundReversed {
            payee: super::payee(&payment),
        };
        let reversal = Posting::of_card_money(
            &refund.merchant_id,
            operation,
            &refund.id,
            Money {
                amount: refund.amount,
                currency: refund.currency,
            },
            legs(refund).as_ref(),
            refund.updated,
        )?;
        store::refunds::settle(env, refund, Some(&reversal), None)
            .await?
            .map(|_| None)
    } else {
        let event = crate::merchant_webhooks::new_event(
            &refund.merchant_id,
            "refund.succeeded",
            &view(refund),
        )?;
        store::refunds::settle(env, refund, None, Some(&event))
            .await?
            .map(|endpoints| Some((event, endpoints)))
    };
    let Some(told) = written else {
        if let Some(current) = store::refunds::by_id(env, &refund.id).await? {
            *refund = current;
        }
        return Ok(());
    };
    worker::console_log!("refund {} {}", refund.id, refund.status);
    if let Some((event, endpoints)) = told {
        crate::merchant_webhooks::deliver(env, &event, endpoints).await;
    }
    Ok(())
}

/// Asks the gateway for a pending refund again, with the key it was first sent with: the
/// gateway answers what it did then, and never refunds twice.
pub async fn resend(env: &Env, refund: &RefundRow) -> Result<RefundAnswer, GatewayError> {
    let unavailable = |what: &str| GatewayError::Unavailable(what.to_string());
    let payment = store::payments::by_id(env, &refund.payment_id)
        .await
        .ok()
        .flatten()
        .ok_or_else(|| unavailable("payment of the refund not found"))?;
    let reference = payment
        .gateway_reference
        .clone()
        .ok_or_else(|| unavailable("payment has no gateway reference"))?;
    let key = refund
        .gateway_idempotency_key
        .clone()
        .ok_or_else(|| unavailable("refund has no gateway key"))?;
    let gateway = gateways::for_payment(env, &payment)
        .await
        .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
    match gateway
        .connector
        .refund(&reference, refund.amount, &refund.id, &key)
        .await
    {
        Err(GatewayError::Rejected { code, .. }) => Ok(RefundAnswer::Refused(code)),
        other => other,
    }
}
