//! The daily settlement file: every capture and refund of a UTC day, with the gateway's fee, in
//! the CSV format `till_core::reconciliation` reads. Tests can inject mismatches.

use crate::gateway::Ledger;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use till_core::reconciliation::HEADER;

pub fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

/// The sandbox's price: 2.9% + 30 minor units per charge, rounded down; refunds are free.
fn fee(gross: i64) -> i64 {
    gross * 29 / 1000 + 30
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraLine {
    pub gateway_payment_id: String,
    pub merchant_reference: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub gross: i64,
    pub currency: String,
}

/// Mismatches a test asks for, by gateway id.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Injections {
    #[serde(default)]
    pub drop: HashSet<String>,
    #[serde(default)]
    pub extra: Vec<ExtraLine>,
    #[serde(default)]
    pub amount_delta: HashMap<String, i64>,
    #[serde(default)]
    pub currency: HashMap<String, String>,
}

impl Injections {
    pub fn merge(&mut self, more: Injections) {
        self.drop.extend(more.drop);
        self.extra.extend(more.extra);
        self.amount_delta.extend(more.amount_delta);
        self.currency.extend(more.currency);
    }
}

fn row(date: &str, id: &str, reference: &str, kind: &str, gross: i64, currency: &str) -> String {
    let (fee, net) = if kind == "charge" {
        (fee(gross), gross - fee(gross))
    } else {
        (0, -gross)
    };
    format!("{date},{id},{reference},{kind},{gross},{fee},{net},{currency}")
}

pub fn render(ledger: &Ledger, date: &str) -> String {
    let faults = &ledger.settlement_faults;
    let mut rows = vec![HEADER.to_string()];
    let mut add = |id: &str, reference: &str, kind: &str, gross: i64, currency: &str| {
        if faults.drop.contains(id) {
            return;
        }
        let gross = gross + faults.amount_delta.get(id).copied().unwrap_or(0);
        let currency = faults.currency.get(id).map_or(currency, String::as_str);
        rows.push(row(date, id, reference, kind, gross, currency));
    };
    let mut captured: Vec<_> = ledger
        .authorizations
        .values()
        .filter(|a| a.settled_on.as_deref() == Some(date) && a.amount_captured > 0)
        .collect();
    captured.sort_by(|a, b| a.id.cmp(&b.id));
    for a in captured {
        add(
            &a.id,
            &a.reference,
            "charge",
            a.amount_captured,
            &a.currency,
        );
    }
    let mut refunds: Vec<_> = ledger
        .refunds
        .values()
        .filter(|r| r.settled_on == date)
        .collect();
    refunds.sort_by(|a, b| a.id.cmp(&b.id));
    for r in refunds {
        add(&r.id, &r.reference, "refund", r.amount, &r.currency);
    }
    for extra in &faults.extra {
        add(
            &extra.gateway_payment_id,
            &extra.merchant_reference,
            &extra.kind,
            extra.gross,
            &extra.currency,
        );
    }
    rows.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_and_rows_use_integer_minor_units() {
        assert_eq!(fee(1000), 59);
        assert_eq!(
            row("2026-11-25", "gwp_1", "pay_1", "charge", 1000, "USD"),
            "2026-11-25,gwp_1,pay_1,charge,1000,59,941,USD"
        );
        assert_eq!(
            row("2026-11-25", "gwr_1", "re_1", "refund", 300, "USD"),
            "2026-11-25,gwr_1,re_1,refund,300,0,-300,USD"
        );
        let file = render(&Ledger::default(), "2026-11-25");
        assert_eq!(till_core::reconciliation::parse(&file).unwrap(), vec![]);
    }
}
