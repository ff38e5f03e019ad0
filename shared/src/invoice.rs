//! Invoices: what one period of a subscription costs and whether it was paid.
//!
//! An invoice is opened when its period begins and charged at once; a failed charge is retried
//! on the subscription's dunning schedule. It is `paid`, or `void` (the subscription was canceled
//! or never started), or stays `open` while the subscription is `unpaid` — the customer can
//! still pay it with another card. Tax is zero for now; `tax` is where it will go.

use crate::money::Currency;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Open,
    Paid,
    Void,
}

impl InvoiceStatus {
    pub const ALL: [InvoiceStatus; 3] = [
        InvoiceStatus::Open,
        InvoiceStatus::Paid,
        InvoiceStatus::Void,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Open => "open",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Void => "void",
        }
    }

    pub fn parse(text: &str) -> Option<InvoiceStatus> {
        InvoiceStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// One line: a price for a period, times a quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub description: String,
    pub price: String,
    pub quantity: u32,
    pub unit_amount: i64,
    pub amount: i64,
    pub period_start: i64,
    pub period_end: i64,
}

/// An invoice as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub object: String,
    pub subscription: String,
    pub customer: String,
    pub status: InvoiceStatus,
    pub currency: Currency,
    pub lines: Vec<InvoiceLine>,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    pub amount_paid: i64,
    /// What is still owed: the total while open, zero once paid or void.
    pub amount_due: i64,
    /// Charges made so far (the first one and the retries).
    pub attempt_count: u32,
    /// When the next retry is due, while one is scheduled.
    pub next_payment_attempt: Option<i64>,
    /// The payment of the latest charge.
    pub payment: Option<String>,
    pub period_start: i64,
    pub period_end: i64,
    pub paid_at: Option<i64>,
    pub created: i64,
}

/// An invoice's lines and their subtotal: one line for the subscription's price.
pub fn lines_for(line: InvoiceLine) -> (Vec<InvoiceLine>, i64) {
    let subtotal = line.amount;
    (vec![line], subtotal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_and_one_line_makes_the_subtotal() {
        for status in InvoiceStatus::ALL {
            assert_eq!(InvoiceStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(InvoiceStatus::parse("draft"), None);
        let (lines, subtotal) = lines_for(InvoiceLine {
            description: "Premium × 3".into(),
            price: "price_1".into(),
            quantity: 3,
            unit_amount: 9_900,
            amount: 29_700,
            period_start: 0,
            period_end: 86_400,
        });
        assert_eq!((lines.len(), subtotal), (1, 29_700));
    }
}
