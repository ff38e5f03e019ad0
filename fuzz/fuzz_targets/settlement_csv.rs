//! The gateway's settlement file, as the daily reconciliation parses it, then reconciled.
//!
//! Invariants: nothing panics; parsed lines written back as CSV parse to the same lines; against
//! no records every line is `MissingInTill` (or nothing, when the references belong to another
//! merchant); against records mirroring the lines (all in currencies Till knows) nothing is
//! missing on either side.
#![no_main]

use libfuzzer_sys::fuzz_target;
use till_core::money::Currency;
use till_core::payment::{PaymentStatus, RefundStatus};
use till_core::reconciliation::{
    parse, reconcile, FindingKind, LineKind, Record, RecordStatus, HEADER,
};

fuzz_target!(|data: &[u8]| {
    let Ok(csv) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(lines) = parse(csv) else {
        return;
    };
    assert!(lines.len() <= csv.lines().count());

    let mut written = format!("{HEADER}\n");
    for line in &lines {
        for field in [
            &line.date,
            &line.gateway_id,
            &line.reference,
            &line.currency,
        ] {
            assert!(!field.contains(',') && !field.contains('\n'));
        }
        let kind = match line.kind {
            LineKind::Charge => "charge",
            LineKind::Refund => "refund",
        };
        written.push_str(&format!(
            "{},{},{},{kind},{},{},{},{}\n",
            line.date,
            line.gateway_id,
            line.reference,
            line.gross,
            line.fee,
            line.net,
            line.currency
        ));
    }
    assert_eq!(
        parse(&written).as_ref(),
        Ok(&lines),
        "round trip through\n{written}"
    );

    let findings = reconcile(&lines, &[], |_| false);
    assert_eq!(findings.len(), lines.len());
    assert!(findings
        .iter()
        .all(|f| f.kind == FindingKind::MissingInTill));
    assert!(reconcile(&lines, &[], |_| true).is_empty());

    // Till's records carry a known currency; a file in another is only parsed and compared.
    let Ok(currencies) = lines
        .iter()
        .map(|line| Currency::parse(&line.currency))
        .collect::<Result<Vec<_>, _>>()
    else {
        return;
    };
    let mut records: Vec<Record> = Vec::new();
    for (line, currency) in lines.iter().zip(currencies) {
        if !records
            .iter()
            .any(|r| r.id == line.reference && r.kind() == line.kind)
        {
            let status = match line.kind {
                LineKind::Charge => RecordStatus::Payment(PaymentStatus::Succeeded),
                LineKind::Refund => RecordStatus::Refund(RefundStatus::Succeeded),
            };
            records.push(Record {
                id: line.reference.clone(),
                amount: line.gross,
                currency,
                status,
            });
        }
    }
    for finding in reconcile(&lines, &records, |_| false) {
        assert!(
            !matches!(
                finding.kind,
                FindingKind::MissingInTill | FindingKind::MissingAtGateway
            ),
            "{finding:?}"
        );
    }
});
