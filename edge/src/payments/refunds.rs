//! Refunds after they are reserved: settling one with the gateway's (or, for a bank payment,
//! the bank's) answer, from the API, a webhook or the poller, and sending one again with its
//! original key.

use crate::banks::redirect::BankRefundRequest;
use crate::clock;
use crate::connectors::{GatewayError, RefundAnswer};
use crate::gateways;
use crate::store::ledger::Posting;
use crate::store::payments::PaymentRow;
use crate::store::{self, refunds::RefundRow};
use till_core::api::Refund;
use till_core::error::ApiError;
use till_core::fx::QuotedAmount;
use till_core::ledger::{ConvertedLegs, Operation};
use till_core::money::Money;
use till_core::payment::RefundStatus;
use till_core::payment_method_type::PaymentMethodType;
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
        wallet_amount: row.wallet_amount,
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

/// What a refund gives back to the card (or the bank): all but its wallet part.
fn card_part(refund: &RefundRow) -> i64 {
    refund.amount - refund.wallet_amount
}

/// What reserving `refund` writes to the ledger: the money it takes back moves through the
/// clearing of what the payment came by; of a payment the wallet paid (part of), the wallet's
/// part waits in the payment's hold until the card's part is paid back.
pub fn reservation<'a>(
    payment: &'a PaymentRow,
    refund: &'a RefundRow,
    legs: Option<&ConvertedLegs>,
) -> Result<Posting<'a>, ApiError> {
    let payee = super::payee(payment);
    let (operation, amount) = match payment.method {
        _ if payment.wallet_amount > 0 => (
            Operation::WalletRefund {
                merchant: &payment.merchant_id,
                payment: &payment.id,
                card: card_part(refund),
            },
            refund.wallet_amount,
        ),
        PaymentMethodType::BankRedirect => (Operation::BankRefund { payee }, refund.amount),
        PaymentMethodType::Card | PaymentMethodType::Wallet => {
            (Operation::Refund { payee }, refund.amount)
        }
    };
    posting(refund, operation, amount, legs, refund.created)
}

/// `operation` of `amount` in the refund's currency, written for the refund at `at`.
fn posting<'a>(
    refund: &'a RefundRow,
    operation: Operation<'a>,
    amount: i64,
    legs: Option<&ConvertedLegs>,
    at: i64,
) -> Result<Posting<'a>, ApiError> {
    let money = Money {
        amount,
        currency: refund.currency,
    };
    Posting::of_card_money(&refund.merchant_id, operation, &refund.id, money, legs, at)
}

/// What settling `refund` writes to the ledger: a failed one's reservation goes back to whom
/// the payment paid; a succeeded one's wallet part reaches the wallet.
fn settlement<'a>(
    payment: &'a PaymentRow,
    refund: &'a RefundRow,
) -> Result<Option<Posting<'a>>, ApiError> {
    let payee = super::payee(payment);
    let failed = refund.status == RefundStatus::Failed;
    let (operation, amount) = match payment.method {
        _ if payment.wallet_amount > 0 && failed => (
            Operation::WalletRefundReversed {
                payment: &payment.id,
                merchant: &payment.merchant_id,
                card: card_part(refund),
            },
            refund.wallet_amount,
        ),
        _ if payment.wallet_amount > 0 && refund.wallet_amount > 0 => {
            let customer = payment
                .customer_id
                .as_deref()
                .ok_or_else(|| super::corrupt(payment, "customer"))?;
            let paid = Operation::WalletRefundPaid {
                payment: &payment.id,
                customer,
            };
            (paid, refund.wallet_amount)
        }
        _ if !failed => return Ok(None),
        PaymentMethodType::BankRedirect => (Operation::BankRefundReversed { payee }, refund.amount),
        PaymentMethodType::Card | PaymentMethodType::Wallet => {
            (Operation::RefundReversed { payee }, refund.amount)
        }
    };
    posting(
        refund,
        operation,
        amount,
        legs(refund).as_ref(),
        refund.updated,
    )
    .map(Some)
}

/// Settles a pending refund with the gateway's answer: the reservation is released when the
/// gateway refused, and the merchant is told (`refund.failed`: a bank can fail a refund days
/// later, to a closed account, and the merchant must then pay the customer some other way). A
/// refund already settled (by a retry, a webhook or the poller) is left as it is; an answer
/// that it is still pending changes nothing. Used by the API, webhooks and the poller alike.
pub async fn settle(
    env: &Env,
    refund: &mut RefundRow,
    answer: RefundAnswer,
) -> Result<(), ApiError> {
    let next = match answer {
        RefundAnswer::Pending(_) => return Ok(()),
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
    // Only a failure and a wallet's part move money when a refund settles: the payment (whom it
    // paid) is read only then.
    let payment = if next == RefundStatus::Failed || refund.wallet_amount > 0 {
        let payment = store::payments::by_id(env, &refund.payment_id).await?;
        Some(payment.ok_or_else(ApiError::internal)?)
    } else {
        None
    };
    let kind = match next {
        RefundStatus::Failed => "refund.failed",
        _ => "refund.succeeded",
    };
    let event = crate::merchant_webhooks::new_event(&refund.merchant_id, kind, &view(refund))?;
    let posting = match &payment {
        Some(payment) => settlement(payment, refund)?,
        None => None,
    };
    let written = store::refunds::settle(env, refund, posting.as_ref(), Some(&event))
        .await?
        .map(|endpoints| Some((event, endpoints)));
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
    // All of it goes back to the wallet: nobody outside Till is asked.
    if card_part(refund) == 0 {
        return Ok(RefundAnswer::Succeeded(refund.id.clone()));
    }
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
    if payment.method == PaymentMethodType::BankRedirect {
        let bank = crate::banks::platform_redirect(env)
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        let request = BankRefundRequest {
            payment: &reference,
            amount: card_part(refund),
            reference: &refund.id,
        };
        return match bank.refund(&request, &key).await {
            Ok(answer) if answer.reference == refund.id => Ok(answer.answer),
            Ok(_) => Err(unavailable("the bank answered about another refund")),
            Err(GatewayError::Rejected { code, .. }) => Ok(RefundAnswer::Refused(code)),
            Err(other) => Err(other),
        };
    }
    let gateway = gateways::for_payment(env, &payment)
        .await
        .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
    match gateway
        .connector
        .refund(&reference, card_part(refund), &refund.id, &key)
        .await
    {
        Err(GatewayError::Rejected { code, .. }) => Ok(RefundAnswer::Refused(code)),
        other => other,
    }
}
