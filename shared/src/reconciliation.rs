//! Daily reconciliation: the gateway's settlement file against Till's records. Pure: the edge
//! fetches the file and loads the records, this module parses and compares.
//!
//! Settlement CSV columns: `date,gateway_payment_id,merchant_reference,type,gross,fee,net,currency`
//! with `type` `charge` or `refund`, amounts in minor units (refunds as positive gross).

use crate::money::Currency;
use crate::payment::{PaymentStatus, RefundStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Charge,
    Refund,
}

impl LineKind {
    /// The name in settlement files and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Charge => "charge",
            LineKind::Refund => "refund",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementLine {
    pub date: String,
    pub gateway_id: String,
    pub reference: String,
    pub kind: LineKind,
    pub gross: i64,
    pub fee: i64,
    pub net: i64,
    pub currency: String,
}

pub const HEADER: &str = "date,gateway_payment_id,merchant_reference,type,gross,fee,net,currency";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub reason: &'static str,
}

pub fn parse(csv: &str) -> Result<Vec<SettlementLine>, ParseError> {
    let mut lines = csv.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim() == HEADER => {}
        _ => {
            return Err(ParseError {
                line: 1,
                reason: "unexpected header",
            })
        }
    }
    let mut out = Vec::new();
    for (index, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
        let error = |reason| ParseError {
            line: index + 1,
            reason,
        };
        let fields: Vec<&str> = line.trim().split(',').collect();
        let [date, gateway_id, reference, kind, gross, fee, net, currency] = fields[..] else {
            return Err(error("expected 8 fields"));
        };
        let number = |text: &str| {
            text.parse::<i64>()
                .map_err(|_| error("amount is not an integer"))
        };
        out.push(SettlementLine {
            date: date.to_string(),
            gateway_id: gateway_id.to_string(),
            reference: reference.to_string(),
            kind: match kind {
                "charge" => LineKind::Charge,
                "refund" => LineKind::Refund,
                _ => return Err(error("type must be charge or refund")),
            },
            gross: number(gross)?,
            fee: number(fee)?,
            net: number(net)?,
            currency: currency.to_string(),
        });
    }
    Ok(out)
}

/// What Till holds for one payment or refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `pay_...` or `re_...`: the merchant reference the gateway echoes.
    pub id: String,
    /// Captured amount (payments) or refunded amount (refunds).
    pub amount: i64,
    pub currency: Currency,
    pub status: RecordStatus,
}

/// Till's status of a record: a payment's or a refund's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStatus {
    Payment(PaymentStatus),
    Refund(RefundStatus),
}

impl RecordStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Payment(status) => status.as_str(),
            RecordStatus::Refund(status) => status.as_str(),
        }
    }
}

impl Record {
    /// The settlement line kind this record appears as.
    pub fn kind(&self) -> LineKind {
        match self.status {
            RecordStatus::Payment(_) => LineKind::Charge,
            RecordStatus::Refund(_) => LineKind::Refund,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    MissingInTill,
    MissingAtGateway,
    AmountMismatch,
    CurrencyMismatch,
    StatusMismatch,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub reference: String,
    pub gateway_id: Option<String>,
    pub detail: String,
}

/// A Till status that should appear in the file as settled money.
fn settled(record: &Record) -> bool {
    match record.status {
        RecordStatus::Payment(status) => record.amount > 0 && status == PaymentStatus::Succeeded,
        RecordStatus::Refund(status) => status == RefundStatus::Succeeded,
    }
}

/// Compares one day. `records` are this merchant's records of the day; `known_elsewhere` says
/// whether a reference belongs to Till at all (another merchant's line is not a finding).
pub fn reconcile(
    lines: &[SettlementLine],
    records: &[Record],
    known_elsewhere: impl Fn(&str) -> bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut matched = std::collections::HashSet::new();
    for line in lines {
        let Some(record) = records
            .iter()
            .find(|r| r.id == line.reference && r.kind() == line.kind)
        else {
            if !known_elsewhere(&line.reference) {
                findings.push(Finding {
                    kind: FindingKind::MissingInTill,
                    reference: line.reference.clone(),
                    gateway_id: Some(line.gateway_id.clone()),
                    detail: format!(
                        "{:?} of {} {} has no Till record",
                        line.kind, line.gross, line.currency
                    ),
                });
            }
            continue;
        };
        matched.insert(record.id.clone());
        let finding = |kind, detail: String| Finding {
            kind,
            reference: record.id.clone(),
            gateway_id: Some(line.gateway_id.clone()),
            detail,
        };
        if !settled(record) {
            findings.push(finding(
                FindingKind::StatusMismatch,
                format!(
                    "the gateway settled it; Till has it {}",
                    record.status.as_str()
                ),
            ));
            continue;
        }
        if line.currency != record.currency.code() {
            findings.push(finding(
                FindingKind::CurrencyMismatch,
                format!("gateway {} / Till {}", line.currency, record.currency),
            ));
        } else if line.gross != record.amount {
            findings.push(finding(
                FindingKind::AmountMismatch,
                format!(
                    "gateway {} / Till {} {}",
                    line.gross, record.amount, record.currency
                ),
            ));
        }
    }
    for record in records
        .iter()
        .filter(|r| settled(r) && !matched.contains(&r.id))
    {
        findings.push(Finding {
            kind: FindingKind::MissingAtGateway,
            reference: record.id.clone(),
            gateway_id: None,
            detail: format!(
                "Till has {} {} {:?}; the file has nothing",
                record.amount,
                record.currency,
                record.kind()
            ),
        });
    }
    findings
}

/// One merchant's lines of a settlement file, and the lines that belong to no merchant at all
/// (those go to the operator, never to a merchant). `owners` maps Till ids to merchant ids.
pub fn lines_of(
    lines: &[SettlementLine],
    merchant_id: &str,
    owners: &std::collections::HashMap<String, String>,
) -> (Vec<SettlementLine>, Vec<SettlementLine>) {
    let mut mine = Vec::new();
    let mut unknown = Vec::new();
    for line in lines {
        match owners.get(&line.reference) {
            Some(owner) if owner == merchant_id => mine.push(line.clone()),
            Some(_) => {}
            None => unknown.push(line.clone()),
        }
    }
    (mine, unknown)
}

/// The UTC day (`YYYY-MM-DD`) of a Unix time.
pub fn date_of(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date()
        .to_string()
}

/// `[start, end)` in Unix seconds of a `YYYY-MM-DD` UTC day.
pub fn day_bounds(date: &str) -> Option<(i64, i64)> {
    let mut parts = date.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let digits =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some() || !digits(year, 4) || !digits(month, 2) || !digits(day, 2) {
        return None;
    }
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    let date = time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    let start = date.midnight().assume_utc().unix_timestamp();
    Some((start, start + 86_400))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(reference: &str, kind: LineKind, gross: i64, currency: &str) -> SettlementLine {
        SettlementLine {
            date: "2026-11-25".into(),
            gateway_id: format!("gw_{reference}"),
            reference: reference.into(),
            kind,
            gross,
            fee: 0,
            net: gross,
            currency: currency.into(),
        }
    }

    fn record(id: &str, kind: LineKind, amount: i64, status: &str) -> Record {
        let status = match kind {
            LineKind::Charge => RecordStatus::Payment(PaymentStatus::parse(status).unwrap()),
            LineKind::Refund => RecordStatus::Refund(RefundStatus::parse(status).unwrap()),
        };
        Record {
            id: id.into(),
            amount,
            currency: Currency::parse("USD").unwrap(),
            status,
        }
    }

    #[test]
    fn parses_the_settlement_format() {
        let csv = format!("{HEADER}\n2026-11-25,gwp_1,pay_1,charge,1000,59,941,USD\n2026-11-25,gwr_1,re_1,refund,300,0,-300,USD\n");
        let lines = parse(&csv).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].kind, LineKind::Refund);
        assert_eq!(lines[0].net, 941);
        assert_eq!(parse("nope").unwrap_err().line, 1);
        let bad = format!("{HEADER}\n2026-11-25,gwp_1,pay_1,charge,10.5,0,0,USD");
        assert_eq!(
            parse(&bad).unwrap_err(),
            ParseError {
                line: 2,
                reason: "amount is not an integer"
            }
        );
    }

    #[test]
    fn lines_are_split_by_owner_and_unknown_ones_kept_apart() {
        let lines = vec![
            line("pay_mine", LineKind::Charge, 100, "USD"),
            line("pay_theirs", LineKind::Charge, 200, "USD"),
            line("pay_nobody", LineKind::Charge, 300, "USD"),
        ];
        let owners = std::collections::HashMap::from([
            ("pay_mine".to_string(), "mer_a".to_string()),
            ("pay_theirs".to_string(), "mer_b".to_string()),
        ]);
        let (mine, unknown) = lines_of(&lines, "mer_a", &owners);
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].reference, "pay_mine");
        assert_eq!(unknown.len(), 1);
        assert_eq!(unknown[0].reference, "pay_nobody");
    }

    #[test]
    fn days_and_their_bounds() {
        assert_eq!(date_of(1_795_000_000), "2026-11-18");
        let (start, end) = day_bounds("2026-11-18").unwrap();
        assert!(start <= 1_795_000_000 && 1_795_000_000 < end);
        assert_eq!(end - start, 86_400);
        assert_eq!(day_bounds("2026-13-01"), None);
        assert_eq!(day_bounds("2026-11-18; DROP"), None);
        assert_eq!(day_bounds("26-11-18"), None);
        assert_eq!(day_bounds("2026-+1-+5"), None);
        assert_eq!(day_bounds("+026-11-18"), None);
    }

    #[test]
    fn a_clean_day_has_no_findings() {
        let lines = [
            line("pay_1", LineKind::Charge, 1000, "USD"),
            line("re_1", LineKind::Refund, 300, "USD"),
            line("pay_other_merchant", LineKind::Charge, 5, "USD"),
        ];
        let records = [
            record("pay_1", LineKind::Charge, 1000, "succeeded"),
            record("re_1", LineKind::Refund, 300, "succeeded"),
            record("pay_declined", LineKind::Charge, 0, "failed"),
        ];
        assert!(reconcile(&lines, &records, |r| r == "pay_other_merchant").is_empty());
    }

    #[test]
    fn every_kind_of_mismatch_is_found_once() {
        let mut usd_as_eur = line("pay_4", LineKind::Charge, 400, "EUR");
        usd_as_eur.currency = "EUR".into();
        let lines = [
            line("pay_unknown", LineKind::Charge, 100, "USD"),
            line("pay_2", LineKind::Charge, 999, "USD"),
            usd_as_eur,
            line("pay_5", LineKind::Charge, 500, "USD"),
        ];
        let records = [
            record("pay_1", LineKind::Charge, 1000, "succeeded"),
            record("pay_2", LineKind::Charge, 1000, "succeeded"),
            record("pay_4", LineKind::Charge, 400, "succeeded"),
            record("pay_5", LineKind::Charge, 0, "processing"),
        ];
        let mut kinds: Vec<(FindingKind, String)> = reconcile(&lines, &records, |_| false)
            .into_iter()
            .map(|f| (f.kind, f.reference))
            .collect();
        kinds.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(
            kinds,
            vec![
                (FindingKind::MissingAtGateway, "pay_1".into()),
                (FindingKind::AmountMismatch, "pay_2".into()),
                (FindingKind::CurrencyMismatch, "pay_4".into()),
                (FindingKind::StatusMismatch, "pay_5".into()),
                (FindingKind::MissingInTill, "pay_unknown".into()),
            ]
        );
    }
}
