//! Payments the card made in another currency than the merchant is settled in: what their FX
//! quote locked, and the ledger legs of their capture, refunds and disputes, all at the
//! payment's original rate (`till_core::fx`).

use super::corrupt;
use crate::store::payments::PaymentRow;
use till_core::error::ApiError;
use till_core::fx::{self, Converted, Taken};
use till_core::ledger::ConvertedLegs;

/// What the quote locked, for a converted payment.
pub fn of(payment: &PaymentRow) -> Result<Option<Converted>, ApiError> {
    payment
        .conversion
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|_| corrupt(payment, "conversion"))
}

/// The legs of the payment's capture (`None`: not converted).
pub fn captured_legs(payment: &PaymentRow) -> Result<Option<ConvertedLegs>, ApiError> {
    of(payment)?
        .map(|converted| {
            converted
                .captured_legs(payment.currency, payment.amount, payment.amount_captured)
                .ok_or_else(|| corrupt(payment, "captured amount"))
        })
        .transpose()
}

/// The legs of refunding `amount` more of the payment, after what its refunds took so far.
pub fn refund_legs(payment: &PaymentRow, amount: i64) -> Result<Option<ConvertedLegs>, ApiError> {
    let taken = Taken {
        presentment: payment.amount_refunded,
        settlement: payment.settlement_refunded,
        margin: payment.fx_margin_refunded,
    };
    captured_legs(payment)?
        .map(|captured| {
            fx::refund_legs(&captured, amount, taken)
                .ok_or_else(|| corrupt(payment, "refunded amounts"))
        })
        .transpose()
}

/// The legs of `amount` of the payment's capture at its proportion (a dispute).
pub fn part_legs(payment: &PaymentRow, amount: i64) -> Result<Option<ConvertedLegs>, ApiError> {
    captured_legs(payment)?
        .map(|captured| {
            fx::part_legs(&captured, amount).ok_or_else(|| corrupt(payment, "disputed amount"))
        })
        .transpose()
}
