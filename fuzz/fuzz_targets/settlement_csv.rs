//! The gateway's settlement file, as the daily reconciliation parses it, then reconciled.
//!
//! Invariants: nothing panics; parsed lines written back as CSV parse to the same lines; against
//! no records every line is `MissingInTill` (or nothing, when the references belong to another
//! merchant); against records mirroring the lines nothing is missing on either side.
#![no_main]

use libfuzzer_sys::fuzz_target;
use till_core::reconciliation::{parse, reconcile, FindingKind, LineKind, Record, HEADER};

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

    let mut records: Vec<Record> = Vec::new();
    for line in &lines {
        if !records
            .iter()
            .any(|r| r.id == line.reference && r.kind == line.kind)
        {
            records.push(Record {
                id: line.reference.clone(),
                kind: line.kind,
                amount: line.gross,
                currency: line.currency.clone(),
                status: "succeeded".into(),
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
