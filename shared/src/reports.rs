//! Merchant reports: a summary of a period (volume, refunds, fees, net, counts, success rate,
//! decline reasons, average order value), grouped by day, week, card brand, payment method or
//! the customer's country,
//! and the balance-transactions export an accounting system imports.
//!
//! Money comes from the ledger (what moved) and the gateway's settlement (its fee); counts and
//! decline reasons from the payment attempts. The edge aggregates in SQL and hands the rows to
//! [`summarize`], which does the arithmetic: integers only, one currency per group.

use crate::error::{ApiError, ErrorCode};
use crate::listing::check_names;
use crate::money::Currency;
use crate::reconciliation::{date_of, day_bounds};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A report covers at most this many days (a year and a day, so a whole leap year fits).
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Day,
    /// Weeks starting on Monday, named by that Monday's date.
    Week,
    Brand,
    /// `card` (typed in) or `saved_card`.
    Method,
    /// The country the customer paid from (ISO 3166-1 alpha-2, from their IP address as
    /// Cloudflare saw it; `unknown` for server-initiated payments).
    Country,
}

impl GroupBy {
    const ALL: [GroupBy; 5] = [
        GroupBy::Day,
        GroupBy::Week,
        GroupBy::Brand,
        GroupBy::Method,
        GroupBy::Country,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Day => "day",
            GroupBy::Week => "week",
            GroupBy::Brand => "brand",
            GroupBy::Method => "method",
            GroupBy::Country => "country",
        }
    }
}

/// The country in Cloudflare's `CF-IPCountry` header: two letters (ISO 3166-1 alpha-2), upper
/// case. `XX` (unknown) and Cloudflare's own codes (`T1`, Tor) are no country.
pub fn ip_country(header: &str) -> Option<String> {
    let code = header.trim();
    (code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) && code != "XX")
        .then(|| code.to_string())
}

/// A checked report request: whole UTC days `[from, to]`, as Unix seconds `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    pub from: String,
    pub to: String,
    pub start: i64,
    pub end: i64,
    pub currency: Option<Currency>,
    pub group_by: GroupBy,
}

fn invalid(param: &str, message: String) -> ApiError {
    ApiError::new(ErrorCode::ParameterInvalid)
        .with_message(message)
        .with_param(param)
}

impl ReportQuery {
    /// Reads `from`, `to` (`YYYY-MM-DD`, inclusive; by default the 30 days up to `now`),
    /// `currency` and `group_by` (`day` by default). `allow_group_by`: the CSV export takes none.
    pub fn parse(
        pairs: &[(String, String)],
        now: i64,
        allow_group_by: bool,
    ) -> Result<ReportQuery, ApiError> {
        let mut allowed = vec!["from", "to", "currency"];
        if allow_group_by {
            allowed.push("group_by");
        }
        check_names(pairs, &allowed)?;
        let value = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, v)| v.clone())
        };
        let to = value("to").unwrap_or_else(|| date_of(now));
        let from = value("from").unwrap_or_else(|| date_of(now - 29 * 86_400));
        let bad_date = |param: &str| invalid(param, format!("{param} is a date: YYYY-MM-DD."));
        let (start, _) = day_bounds(&from).ok_or_else(|| bad_date("from"))?;
        let (_, end) = day_bounds(&to).ok_or_else(|| bad_date("to"))?;
        if start >= end {
            return Err(invalid("from", "from is after to.".into()));
        }
        if (end - start) / 86_400 > MAX_DAYS {
            return Err(invalid(
                "from",
                format!("A report covers at most {MAX_DAYS} days."),
            ));
        }
        let currency = value("currency")
            .map(|code| {
                Currency::parse(&code.to_ascii_uppercase()).map_err(|_| {
                    invalid(
                        "currency",
                        "currency is an ISO 4217 code such as USD.".into(),
                    )
                })
            })
            .transpose()?;
        let group_by = match value("group_by") {
            None => GroupBy::Day,
            Some(name) => GroupBy::ALL
                .into_iter()
                .find(|g| g.as_str() == name)
                .ok_or_else(|| {
                    invalid(
                        "group_by",
                        "group_by is one of day, week, brand, method, country.".into(),
                    )
                })?,
        };
        Ok(ReportQuery {
            from,
            to,
            start,
            end,
            currency,
            group_by,
        })
    }
}

/// Attempts in one group, as the edge counts them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AttemptRow {
    pub key: String,
    pub currency: String,
    pub attempts: i64,
    pub succeeded: i64,
}

/// Declines of one reason in one group.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeclineRow {
    pub key: String,
    pub currency: String,
    pub code: Option<String>,
    pub count: i64,
}

/// Money in one group: what card payments brought in (and the gateway's fee on them, once
/// settled), and what refunds took back (less refunds the gateway refused).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MoneyRow {
    pub key: String,
    pub currency: String,
    pub gross: i64,
    pub fees: i64,
    pub refunds: i64,
    /// Card payments that brought money in.
    pub payments: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclineReason {
    /// The decline code (`card_declined`, `insufficient_funds`, ...).
    pub reason: String,
    pub count: i64,
}

/// One group's figures, in one currency (minor units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    pub key: String,
    pub currency: String,
    pub gross: i64,
    pub refunds: i64,
    pub fees: i64,
    /// `gross - refunds - fees`.
    pub net: i64,
    /// Card payments that succeeded.
    pub count: i64,
    pub attempts: i64,
    /// Succeeded attempts per 10,000 (basis points), rounded half to even; `null` without
    /// attempts.
    pub success_rate_bps: Option<i64>,
    /// `gross / count`, rounded half to even; `null` without payments.
    pub average_order_value: Option<i64>,
    /// The three most frequent, most frequent first.
    pub top_decline_reasons: Vec<DeclineReason>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub object: String,
    pub from: String,
    pub to: String,
    pub group_by: GroupBy,
    pub groups: Vec<Figures>,
    /// The whole period, one entry per currency.
    pub totals: Vec<Figures>,
}

/// `numerator / denominator` rounded half to even (both non-negative, denominator positive).
pub fn divide_half_even(numerator: i64, denominator: i64) -> Option<i64> {
    if denominator <= 0 || numerator < 0 {
        return None;
    }
    let (quotient, remainder) = (numerator / denominator, numerator % denominator);
    let twice = remainder.checked_mul(2)?;
    Some(
        if twice > denominator || (twice == denominator && quotient % 2 == 1) {
            quotient + 1
        } else {
            quotient
        },
    )
}

const TOP_DECLINES: usize = 3;

fn figures(key: &str, currency: &str) -> Figures {
    Figures {
        key: key.to_string(),
        currency: currency.to_string(),
        gross: 0,
        refunds: 0,
        fees: 0,
        net: 0,
        count: 0,
        attempts: 0,
        success_rate_bps: None,
        average_order_value: None,
        top_decline_reasons: Vec::new(),
    }
}

fn group<'a>(
    groups: &'a mut BTreeMap<(String, String), Figures>,
    key: &str,
    currency: &str,
) -> &'a mut Figures {
    groups
        .entry((key.to_string(), currency.to_string()))
        .or_insert_with(|| figures(key, currency))
}

/// Merges the edge's grouped rows into figures, sorted by key then currency; totals per
/// currency over the whole period.
pub fn summarize(
    query: &ReportQuery,
    attempts: &[AttemptRow],
    declines: &[DeclineRow],
    money: &[MoneyRow],
) -> Summary {
    let mut groups: BTreeMap<(String, String), Figures> = BTreeMap::new();
    for row in attempts {
        group(&mut groups, &row.key, &row.currency).attempts += row.attempts;
    }
    for row in money {
        let figures = group(&mut groups, &row.key, &row.currency);
        figures.gross += row.gross;
        figures.fees += row.fees;
        figures.refunds += row.refunds;
        figures.count += row.payments;
    }
    let declined: Vec<(String, String, String, i64)> = declines
        .iter()
        .map(|row| {
            let code = row.code.clone().unwrap_or_else(|| "unknown".into());
            (row.key.clone(), row.currency.clone(), code, row.count)
        })
        .collect();
    let mut totals: BTreeMap<String, Figures> = BTreeMap::new();
    for group in groups.values() {
        let total = totals
            .entry(group.currency.clone())
            .or_insert_with(|| figures("total", &group.currency));
        total.attempts += group.attempts;
        total.gross += group.gross;
        total.fees += group.fees;
        total.refunds += group.refunds;
        total.count += group.count;
    }
    let succeeded_in = |key: Option<&str>, currency: &str| -> i64 {
        attempts
            .iter()
            .filter(|r| r.currency == currency && key.is_none_or(|k| r.key == k))
            .map(|r| r.succeeded)
            .sum()
    };
    let reasons_in = |key: Option<&str>, currency: &str| -> Vec<DeclineReason> {
        let mut counts: Vec<DeclineReason> = Vec::new();
        for (k, c, code, count) in &declined {
            if c != currency || key.is_some_and(|key| key != k) {
                continue;
            }
            match counts.iter_mut().find(|r| &r.reason == code) {
                Some(reason) => reason.count += count,
                None => counts.push(DeclineReason {
                    reason: code.clone(),
                    count: *count,
                }),
            }
        }
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
        counts.truncate(TOP_DECLINES);
        counts
    };
    let finish = |group: &mut Figures, key: Option<&str>| {
        group.net = group.gross - group.refunds - group.fees;
        group.success_rate_bps = divide_half_even(
            succeeded_in(key, &group.currency).saturating_mul(10_000),
            group.attempts,
        );
        group.average_order_value = divide_half_even(group.gross, group.count);
        group.top_decline_reasons = reasons_in(key, &group.currency);
    };
    let mut groups: Vec<Figures> = groups.into_values().collect();
    for group in &mut groups {
        let key = group.key.clone();
        finish(group, Some(&key));
    }
    let mut totals: Vec<Figures> = totals.into_values().collect();
    for total in &mut totals {
        finish(total, None);
    }
    Summary {
        object: "report_summary".into(),
        from: query.from.clone(),
        to: query.to.clone(),
        group_by: query.group_by,
        groups,
        totals,
    }
}

/// One money movement of the export: a ledger transaction, with the gateway's settlement of it
/// when the reconciliation has seen one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BalanceTransaction {
    pub id: String,
    pub created: i64,
    pub kind: String,
    pub source: String,
    pub from_account: String,
    pub to_account: String,
    pub gross: i64,
    pub currency: String,
    pub fee: Option<i64>,
    pub net: Option<i64>,
    pub settled_on: Option<String>,
    pub gateway_reference: Option<String>,
    pub reconciliation_run: Option<String>,
}

pub const CSV_HEADER: &str = "transaction_id,created,type,source,from_account,to_account,gross,\
fee,net,currency,settled_on,gateway_reference,reconciliation_run";

/// A CSV field: quoted when it holds a comma, quote or line break; a text field a spreadsheet
/// would run as a formula (`=`, `+`, `-`, `@` first) gets a leading `'`.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn number(value: Option<i64>) -> String {
    value.map(|n| n.to_string()).unwrap_or_default()
}

/// The export: a header, then one line per movement, in minor units (`gross` positive: it
/// moved from `from_account` to `to_account`; `fee` and `net` as the gateway settled them).
pub fn balance_transactions_csv(rows: &[BalanceTransaction]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push_str("\r\n");
    for row in rows {
        let seconds = row.created.rem_euclid(86_400);
        let created = format!(
            "{}T{:02}:{:02}:{:02}Z",
            date_of(row.created),
            seconds / 3600,
            seconds % 3600 / 60,
            seconds % 60
        );
        let line = [
            field(&row.id),
            created,
            field(&row.kind),
            field(&row.source),
            field(&row.from_account),
            field(&row.to_account),
            row.gross.to_string(),
            number(row.fee),
            number(row.net),
            field(&row.currency),
            field(row.settled_on.as_deref().unwrap_or_default()),
            field(row.gateway_reference.as_deref().unwrap_or_default()),
            field(row.reconciliation_run.as_deref().unwrap_or_default()),
        ];
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const NOW: i64 = 1_764_115_200; // 2025-11-26

    #[test]
    fn queries_default_to_thirty_days_by_day_and_check_their_range() {
        let query = ReportQuery::parse(&[], NOW, true).unwrap();
        assert_eq!(
            (query.from.as_str(), query.to.as_str()),
            ("2025-10-28", "2025-11-26")
        );
        assert_eq!(query.end - query.start, 30 * 86_400);
        assert_eq!(query.group_by, GroupBy::Day);
        let week = ReportQuery::parse(
            &pairs(&[
                ("from", "2025-01-01"),
                ("to", "2025-01-31"),
                ("group_by", "week"),
                ("currency", "krw"),
            ]),
            NOW,
            true,
        )
        .unwrap();
        assert_eq!(week.currency.unwrap().code(), "KRW");
        for (given, param) in [
            (pairs(&[("from", "2025-02-30")]), "from"),
            (pairs(&[("to", "yesterday")]), "to"),
            (
                pairs(&[("from", "2025-03-02"), ("to", "2025-03-01")]),
                "from",
            ),
            (
                pairs(&[("from", "2023-01-01"), ("to", "2025-01-01")]),
                "from",
            ),
            (pairs(&[("group_by", "planet")]), "group_by"),
            (pairs(&[("currency", "ABC")]), "currency"),
            (pairs(&[("limit", "5")]), "limit"),
            (pairs(&[("to", "2025-01-01"), ("to", "2025-01-02")]), "to"),
        ] {
            let error = ReportQuery::parse(&given, NOW, true).unwrap_err();
            assert_eq!(error.error.param.as_deref(), Some(param), "{given:?}");
        }
        assert!(ReportQuery::parse(&pairs(&[("group_by", "day")]), NOW, false).is_err());
    }

    #[test]
    fn countries_are_two_capital_letters_and_unknown_is_none() {
        assert_eq!(ip_country("KR").as_deref(), Some("KR"));
        assert_eq!(ip_country(" US ").as_deref(), Some("US"));
        for none in ["XX", "T1", "kr", "KOR", "", "한국"] {
            assert_eq!(ip_country(none), None, "{none}");
        }
        let pairs = [("group_by".to_string(), "country".to_string())];
        let query = ReportQuery::parse(&pairs, NOW, true).unwrap();
        assert_eq!(query.group_by, GroupBy::Country);
    }

    #[test]
    fn halves_round_to_even() {
        assert_eq!(divide_half_even(5, 2), Some(2));
        assert_eq!(divide_half_even(7, 2), Some(4));
        assert_eq!(divide_half_even(10, 3), Some(3));
        assert_eq!(divide_half_even(11, 3), Some(4));
        assert_eq!(divide_half_even(1, 0), None);
    }

    #[test]
    fn summaries_add_up_per_group_and_currency() {
        let query = ReportQuery::parse(&[], NOW, true).unwrap();
        let attempts = [
            AttemptRow {
                key: "2025-11-25".into(),
                currency: "USD".into(),
                attempts: 3,
                succeeded: 2,
            },
            AttemptRow {
                key: "2025-11-26".into(),
                currency: "USD".into(),
                attempts: 1,
                succeeded: 1,
            },
            AttemptRow {
                key: "2025-11-26".into(),
                currency: "KRW".into(),
                attempts: 1,
                succeeded: 1,
            },
        ];
        let declines = [DeclineRow {
            key: "2025-11-25".into(),
            currency: "USD".into(),
            code: Some("card_declined".into()),
            count: 1,
        }];
        let money = [
            MoneyRow {
                key: "2025-11-25".into(),
                currency: "USD".into(),
                gross: 3_500,
                fees: 119,
                refunds: 500,
                payments: 2,
            },
            MoneyRow {
                key: "2025-11-26".into(),
                currency: "USD".into(),
                gross: 1_000,
                fees: 0,
                refunds: 0,
                payments: 1,
            },
            MoneyRow {
                key: "2025-11-26".into(),
                currency: "KRW".into(),
                gross: 45_000,
                fees: 0,
                refunds: 0,
                payments: 1,
            },
        ];
        let summary = summarize(&query, &attempts, &declines, &money);
        let first = &summary.groups[0];
        assert_eq!(
            (first.key.as_str(), first.currency.as_str()),
            ("2025-11-25", "USD")
        );
        assert_eq!(
            (first.gross, first.refunds, first.fees, first.net),
            (3_500, 500, 119, 2_881)
        );
        assert_eq!(first.success_rate_bps, Some(6_667));
        assert_eq!(first.average_order_value, Some(1_750));
        assert_eq!(
            first.top_decline_reasons,
            [DeclineReason {
                reason: "card_declined".into(),
                count: 1
            }]
        );
        assert_eq!(summary.groups.len(), 3);
        assert_eq!(
            summary.groups[1].currency, "KRW",
            "sorted by key, then currency"
        );
        let usd = summary.totals.iter().find(|t| t.currency == "USD").unwrap();
        assert_eq!(
            (usd.gross, usd.net, usd.count, usd.attempts),
            (4_500, 3_881, 3, 4)
        );
        assert_eq!(usd.success_rate_bps, Some(7_500));
        assert_eq!(usd.average_order_value, Some(1_500));
        assert_eq!(summary.totals.len(), 2, "never summed across currencies");
    }

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let row = BalanceTransaction {
            id: "ltx_1".into(),
            created: 0,
            kind: "refund".into(),
            source: "re_1".into(),
            from_account: "merchant:m,1".into(),
            to_account: "=HYPERLINK(\"x\")".into(),
            gross: 500,
            currency: "USD".into(),
            fee: None,
            net: None,
            settled_on: None,
            gateway_reference: None,
            reconciliation_run: None,
        };
        let csv = balance_transactions_csv(&[row]);
        let mut lines = csv.split("\r\n");
        assert_eq!(lines.next(), Some(CSV_HEADER));
        assert_eq!(
            lines.next(),
            Some("ltx_1,1970-01-01T00:00:00Z,refund,re_1,\"merchant:m,1\",\"'=HYPERLINK(\"\"x\"\")\",500,,,USD,,,")
        );
    }
}
