//! Invoices: what one period of a subscription costs and whether it was paid.
//!
//! An invoice is opened when its period begins and charged at once; a failed charge is retried
//! on the subscription's dunning schedule. It is `paid`, or `void` (the subscription was canceled
//! or never started), or stays `open` while the subscription is `unpaid` — the customer can
//! still pay it with another card. Tax is zero for now; `tax` is where it will go.
//!
//! A change of price or quantity in the middle of a period adds two proration lines (the unused
//! time on the old terms as a credit, the time left on the new ones as a charge; see
//! [`crate::proration`]) to the next period's invoice. When credits outweigh charges, the invoice
//! is for zero and what is left over is carried as a credit line to the one after.

use crate::money::Currency;
use crate::proration::{prorate, ProrationError};
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

/// What a line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// The period's price times the quantity.
    Subscription,
    /// Part of a mid-period change: a credit (negative) or a charge.
    Proration,
    /// Credit left over from an earlier invoice that credits outweighed.
    Credit,
}

/// One line: an amount for a span of time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// `il_…`: proration lines wait on the subscription under this id until an invoice takes
    /// them.
    pub id: String,
    pub kind: LineKind,
    pub description: String,
    pub price: String,
    pub quantity: u32,
    pub unit_amount: i64,
    /// Minor units; negative for a credit.
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

/// What an invoice of `lines` comes to: its subtotal, the total charged (never below zero),
/// and the credit left over for the next invoice (zero or negative).
pub fn totals(lines: &[InvoiceLine]) -> (i64, i64, i64) {
    let subtotal = lines
        .iter()
        .fold(0_i64, |sum, line| sum.saturating_add(line.amount));
    (subtotal, subtotal.max(0), subtotal.min(0))
}

/// The terms a subscription is billed on: a price and a quantity, whose product is what a
/// whole period costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub price: String,
    pub product_name: String,
    pub unit_amount: i64,
    pub quantity: u32,
}

impl Terms {
    pub fn period_amount(&self) -> i64 {
        self.unit_amount.saturating_mul(i64::from(self.quantity))
    }

    fn described(&self) -> String {
        format!("{} × {}", self.product_name, self.quantity)
    }
}

/// The two proration lines of changing from `old` to `new` terms at `at` within the period
/// `[start, end)`: the unused time on the old terms credited, the time left on the new terms
/// charged (either left out when zero). `ids` names them.
pub fn proration_lines(
    old: &Terms,
    new: &Terms,
    start: i64,
    end: i64,
    at: i64,
    ids: [String; 2],
) -> Result<Vec<InvoiceLine>, ProrationError> {
    let parts = prorate(old.period_amount(), new.period_amount(), start, end, at)?;
    let [credit_id, charge_id] = ids;
    let line = |id: String, terms: &Terms, what: &str, amount: i64| InvoiceLine {
        id,
        kind: LineKind::Proration,
        description: format!("{what} {}", terms.described()),
        price: terms.price.clone(),
        quantity: terms.quantity,
        unit_amount: terms.unit_amount,
        amount,
        period_start: at,
        period_end: end,
    };
    let mut lines = Vec::new();
    if parts.credit > 0 {
        lines.push(line(credit_id, old, "Unused time on", -parts.credit));
    }
    if parts.charge > 0 {
        lines.push(line(charge_id, new, "Remaining time on", parts.charge));
    }
    Ok(lines)
}

/// The line a period's invoice starts with: the terms for the whole period.
pub fn period_line(id: String, terms: &Terms, start: i64, end: i64) -> InvoiceLine {
    InvoiceLine {
        id,
        kind: LineKind::Subscription,
        description: terms.described(),
        price: terms.price.clone(),
        quantity: terms.quantity,
        unit_amount: terms.unit_amount,
        amount: terms.period_amount(),
        period_start: start,
        period_end: end,
    }
}

/// A credit left over from invoice `from`, carried to the next invoice.
pub fn carried_credit(id: String, from: &str, amount: i64, at: i64) -> InvoiceLine {
    InvoiceLine {
        id,
        kind: LineKind::Credit,
        description: format!("Credit carried from {from}"),
        price: String::new(),
        quantity: 1,
        unit_amount: amount,
        amount,
        period_start: at,
        period_end: at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(unit_amount: i64, quantity: u32) -> Terms {
        Terms {
            price: "price_1".into(),
            product_name: "Premium".into(),
            unit_amount,
            quantity,
        }
    }

    fn ids() -> [String; 2] {
        ["il_credit".into(), "il_charge".into()]
    }

    #[test]
    fn statuses_read_back() {
        for status in InvoiceStatus::ALL {
            assert_eq!(InvoiceStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(InvoiceStatus::parse("draft"), None);
    }

    #[test]
    fn an_upgrade_halfway_adds_half_the_difference_to_the_next_invoice() {
        // A 30-day period, upgraded from 1 to 3 units of 9,900 after 15 days.
        let day = 86_400;
        let lines = proration_lines(
            &terms(9_900, 1),
            &terms(9_900, 3),
            0,
            30 * day,
            15 * day,
            ids(),
        )
        .unwrap();
        assert_eq!(
            lines.iter().map(|l| l.amount).collect::<Vec<_>>(),
            [-4_950, 14_850]
        );
        assert_eq!(lines[0].description, "Unused time on Premium × 1");
        let mut next = vec![period_line(
            "il_period".into(),
            &terms(9_900, 3),
            30 * day,
            60 * day,
        )];
        next.extend(lines);
        assert_eq!(totals(&next), (39_600, 39_600, 0));
        assert_eq!(next[0].description, "Premium × 3");
    }

    #[test]
    fn a_downgrade_credits_and_what_credits_outweigh_is_carried() {
        // 10,000 a period down to 1 at the start of the period: 9,999 back.
        let lines = proration_lines(&terms(10_000, 1), &terms(1, 1), 0, 100, 0, ids()).unwrap();
        let mut next = vec![period_line("il_p".into(), &terms(1, 1), 100, 200)];
        next.extend(lines);
        let (subtotal, total, left) = totals(&next);
        assert_eq!((subtotal, total, left), (-9_998, 0, -9_998));
        let carried = carried_credit("il_c".into(), "in_1", left, 100);
        assert_eq!(carried.amount, -9_998);
        // A change at the very end of the period prorates nothing; outside it, refused.
        assert!(proration_lines(&terms(5, 1), &terms(7, 1), 0, 100, 100, ids()).is_err());
        let none = proration_lines(&terms(0, 1), &terms(0, 1), 0, 100, 50, ids()).unwrap();
        assert!(none.is_empty());
    }
}
