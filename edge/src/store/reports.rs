//! The figures behind the reports, aggregated in SQL (a year of payments never leaves D1 row by
//! row): attempts and declines from the payments, money from the ledger, fees from the
//! settlements the reconciliation recorded.

use super::{all, batch, int, statement, text, StoreError, StoreResult};
use till_core::reports::{
    AttemptRow, BalanceTransaction, DeclineRow, GroupBy, MoneyRow, ReportQuery,
};
use worker::wasm_bindgen::JsValue;
use worker::Env;

/// The group a row falls in: its UTC day, the Monday of its week, the card's brand, how the
/// card was given, or the customer's country. `time` is the column the period is read from.
fn key(group_by: GroupBy, time: &str) -> String {
    match group_by {
        GroupBy::Day => format!("date({time}, 'unixepoch')"),
        GroupBy::Week => format!("date({time}, 'unixepoch', 'weekday 0', '-6 days')"),
        // A bank or wallet payment has no card: grouped under its method's name.
        GroupBy::Brand => "COALESCE(p.card_brand, p.method)".into(),
        GroupBy::Method => "CASE WHEN p.method IN ('bank_redirect', 'wallet') THEN p.method \
             WHEN p.payment_method_id IS NULL THEN 'card' ELSE 'saved_card' END"
            .into(),
        GroupBy::Country => "COALESCE(p.country, 'unknown')".into(),
    }
}

/// An entry of a payee or the outside world, not of the FX desk or margin: a converted
/// payment is reported by what its payee received, in the settlement currency.
const NOT_FX: &str = "e.account NOT LIKE 'fx\\_%' ESCAPE '\\'";

/// Ledger kinds of a payment that brought money in (by card, from a bank or a wallet), whoever
/// it paid.
const PAYMENT_KINDS: &str = "'card_payment', 'top_up', 'hold_from_card', 'transfer_from_card', \
     'bank_payment', 'wallet_payment'";

/// Ledger kinds of a refund taken from its payee, or given back when it failed.
const REFUND_KINDS: &str = "'refund', 'refund_reversed', 'bank_refund', 'bank_refund_reversed', \
     'wallet_refund', 'wallet_refund_reversed'";

/// Accounts a refund's money passes through on its way out: only the payee's side is counted.
const NOT_PASSING_THROUGH: &str = "e.account NOT LIKE 'gateway\\_clearing:%' ESCAPE '\\' \
     AND e.account NOT LIKE 'bank\\_clearing:%' ESCAPE '\\' \
     AND e.account NOT LIKE 'payment\\_hold:%' ESCAPE '\\'";

fn params(merchant_id: &str, query: &ReportQuery) -> [JsValue; 4] {
    [
        text(merchant_id),
        int(query.start),
        int(query.end),
        query
            .currency
            .as_ref()
            .map_or(JsValue::NULL, |c| text(c.code())),
    ]
}

pub async fn figures(
    env: &Env,
    merchant_id: &str,
    query: &ReportQuery,
) -> StoreResult<(Vec<AttemptRow>, Vec<DeclineRow>, Vec<MoneyRow>)> {
    let by_payment = key(query.group_by, "p.created");
    let by_ledger = key(query.group_by, "t.created");
    let params = params(merchant_id, query);
    let attempts = format!(
        "SELECT {by_payment} AS key, p.currency AS currency, COUNT(*) AS attempts, \
         SUM(p.status IN ('succeeded', 'requires_capture')) AS succeeded \
         FROM payments p WHERE p.merchant_id = ?1 AND p.created >= ?2 AND p.created < ?3 \
         AND (?4 IS NULL OR p.currency = ?4) GROUP BY 1, 2"
    );
    let declines = format!(
        "SELECT {by_payment} AS key, p.currency AS currency, p.failure_code AS code, \
         COUNT(*) AS count FROM payments p WHERE p.merchant_id = ?1 AND p.status = 'failed' \
         AND p.created >= ?2 AND p.created < ?3 AND (?4 IS NULL OR p.currency = ?4) \
         GROUP BY 1, 2, 3"
    );
    let money = format!(
        "SELECT {by_ledger} AS key, e.currency AS currency, SUM(e.amount) AS gross, \
         COALESCE(SUM(s.fee), 0) AS fees, 0 AS refunds, COUNT(*) AS payments \
         FROM ledger_transactions t \
         JOIN ledger_entries e ON e.transaction_id = t.id AND e.amount > 0 AND {NOT_FX} \
         JOIN payments p ON p.id = t.source \
         LEFT JOIN settlements s ON s.merchant_id = t.merchant_id AND s.reference = t.source \
         AND s.type = 'charge' AND s.currency = e.currency \
         WHERE t.merchant_id = ?1 AND t.kind IN ({PAYMENT_KINDS}) \
         AND t.created >= ?2 AND t.created < ?3 AND (?4 IS NULL OR e.currency = ?4) \
         GROUP BY 1, 2 \
         UNION ALL \
         SELECT {by_ledger} AS key, e.currency AS currency, 0 AS gross, 0 AS fees, \
         SUM(-e.amount) AS refunds, \
         0 AS payments FROM ledger_transactions t \
         JOIN ledger_entries e ON e.transaction_id = t.id AND {NOT_FX} \
         AND {NOT_PASSING_THROUGH} \
         JOIN refunds r ON r.id = t.source JOIN payments p ON p.id = r.payment_id \
         WHERE t.merchant_id = ?1 AND t.kind IN ({REFUND_KINDS}) \
         AND t.created >= ?2 AND t.created < ?3 AND (?4 IS NULL OR e.currency = ?4) \
         GROUP BY 1, 2"
    );
    let results = batch(
        env,
        vec![
            statement(env, &attempts, &params)?,
            statement(env, &declines, &params)?,
            statement(env, &money, &params)?,
        ],
    )
    .await?;
    let decode = |e| StoreError::new("decode", e);
    let [attempts, declines, money] = results.as_slice() else {
        return Err(StoreError::new("batch", "three results expected"));
    };
    Ok((
        attempts.results().map_err(decode)?,
        declines.results().map_err(decode)?,
        money.results().map_err(decode)?,
    ))
}

/// At most this many movements in one export; a longer period is asked for in parts.
pub const MAX_EXPORT_ROWS: i64 = 50_000;

/// Every ledger transaction of the period, oldest first, with its settlement when there is one.
/// A transaction with more than one entry on a side (a wallet and a card paying together) is
/// one row: its payee's side, and the card's rather than the wallet hold's on the other.
/// `gross` and `currency` are the payee's side (the merchant's, a wallet's): a converted
/// payment shows what it settled as, and the gateway's fee only when it is in that currency.
/// `None` when there are more than [`MAX_EXPORT_ROWS`].
pub async fn balance_transactions(
    env: &Env,
    merchant_id: &str,
    query: &ReportQuery,
) -> StoreResult<Option<Vec<BalanceTransaction>>> {
    let rows: Vec<BalanceTransaction> = all(
        env,
        "SELECT t.id AS id, t.created AS created, t.kind AS kind, t.source AS source, \
         debit.account AS from_account, credit.account AS to_account, \
         abs(payee.amount) AS gross, payee.currency AS currency, \
         s.fee AS fee, s.net AS net, s.settled_on AS settled_on, \
         s.gateway_id AS gateway_reference, s.reconciliation_run AS reconciliation_run \
         FROM ledger_transactions t \
         JOIN ledger_entries credit ON credit.id = (SELECT c.id FROM ledger_entries c \
         WHERE c.transaction_id = t.id AND c.amount > 0 AND c.account NOT LIKE 'fx\\_%' ESCAPE '\\' \
         ORDER BY c.account LIKE 'payment\\_hold:%' ESCAPE '\\', c.seq LIMIT 1) \
         JOIN ledger_entries debit ON debit.id = (SELECT d.id FROM ledger_entries d \
         WHERE d.transaction_id = t.id AND d.amount < 0 AND d.account NOT LIKE 'fx\\_%' ESCAPE '\\' \
         ORDER BY d.account LIKE 'payment\\_hold:%' ESCAPE '\\', d.seq LIMIT 1) \
         JOIN ledger_entries payee ON payee.id = CASE WHEN credit.account LIKE 'gateway\\_clearing:%' ESCAPE '\\' \
         THEN debit.id ELSE credit.id END \
         LEFT JOIN settlements s ON s.merchant_id = t.merchant_id AND s.reference = t.source \
         AND s.type = CASE WHEN substr(t.source, 1, 3) = 're_' THEN 'refund' ELSE 'charge' END \
         AND s.currency = payee.currency \
         WHERE t.merchant_id = ?1 AND t.created >= ?2 AND t.created < ?3 \
         AND (?4 IS NULL OR payee.currency = ?4) \
         ORDER BY t.created, credit.seq LIMIT ?5",
        &[
            params(merchant_id, query).as_slice(),
            &[int(MAX_EXPORT_ROWS + 1)],
        ]
        .concat(),
    )
    .await?;
    Ok((i64::try_from(rows.len()).unwrap_or(i64::MAX) <= MAX_EXPORT_ROWS).then_some(rows))
}
