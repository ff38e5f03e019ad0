//! The searchable lists (`GET /v1/payments`, `/v1/refunds`, ...): a checked
//! [`ListQuery`] becomes one parameterized statement, newest first.

use super::{all, first, int, text, StoreResult};
use serde::de::DeserializeOwned;
use till_core::listing::{Filter, ListQuery, Listed};
use till_core::timeline::{DeliveryFact, EventFact, RefundFact};
use worker::wasm_bindgen::JsValue;
use worker::Env;

/// Where a list's rows come from and in which order they were written: the table, the
/// `FROM` clause (the table as `x`), and the column that grows with each insert (`rowid`, or
/// `seq` where the table has one).
fn shape(listed: Listed) -> (&'static str, &'static str, &'static str) {
    match listed {
        Listed::Payments => (
            "payments",
            "payments x LEFT JOIN checkout_sessions s ON s.id = x.checkout_session_id",
            "rowid",
        ),
        Listed::Refunds => ("refunds", "refunds x", "rowid"),
        Listed::CheckoutSessions => ("checkout_sessions", "checkout_sessions x", "rowid"),
        Listed::Transfers => ("transfers", "transfers x", "seq"),
        Listed::Payouts => ("payouts", "payouts x", "seq"),
        Listed::Events => ("events", "events x", "rowid"),
    }
}

/// The SQL a filter compares with `?` (its value), for this list.
fn condition(listed: Listed, filter: Filter) -> &'static str {
    match (listed, filter) {
        (_, Filter::Status) => "x.status = ?",
        (_, Filter::CreatedGte) => "x.created >= ?",
        (_, Filter::CreatedLte) => "x.created <= ?",
        (_, Filter::AmountGte) => "x.amount >= ?",
        (_, Filter::AmountLte) => "x.amount <= ?",
        (_, Filter::Currency) => "x.currency = ?",
        (Listed::Transfers, Filter::Customer) => "? IN (x.sender_id, x.receiver_id)",
        (_, Filter::Customer) => "x.customer_id = ?",
        (Listed::Payments, Filter::MerchantReference) => "s.merchant_reference = ?",
        (_, Filter::MerchantReference) => "x.merchant_reference = ?",
        (_, Filter::Last4) => "x.card_last4 = ?",
        (_, Filter::Brand) => "x.card_brand = ?",
        (_, Filter::Payment) => "x.payment_id = ?",
        (_, Filter::Type) => "x.type = ?",
    }
}

/// Each filter the query sets, with its value.
fn given(query: &ListQuery) -> Vec<(Filter, JsValue)> {
    let texts = [
        (Filter::Status, query.status.as_deref()),
        (Filter::Currency, query.currency.as_ref().map(|c| c.code())),
        (Filter::Customer, query.customer.as_deref()),
        (
            Filter::MerchantReference,
            query.merchant_reference.as_deref(),
        ),
        (Filter::Last4, query.last4.as_deref()),
        (Filter::Brand, query.brand.as_deref()),
        (Filter::Payment, query.payment.as_deref()),
        (Filter::Type, query.event_type.as_deref()),
    ];
    let numbers = [
        (Filter::CreatedGte, query.created_gte),
        (Filter::CreatedLte, query.created_lte),
        (Filter::AmountGte, query.amount_gte),
        (Filter::AmountLte, query.amount_lte),
    ];
    texts
        .into_iter()
        .filter_map(|(filter, value)| Some((filter, text(value?))))
        .chain(
            numbers
                .into_iter()
                .filter_map(|(filter, value)| Some((filter, int(value?)))),
        )
        .collect()
}

/// One page of a merchant's list, newest first, one row more than the limit (so the caller
/// learns whether more follow). `None` when `starting_after` is not one of the merchant's.
pub async fn page<T: DeserializeOwned>(
    env: &Env,
    merchant_id: &str,
    listed: Listed,
    query: &ListQuery,
) -> StoreResult<Option<Vec<T>>> {
    let (table, from, order) = shape(listed);
    let mut sql = format!("SELECT x.* FROM {from} WHERE x.merchant_id = ?1");
    let mut params = vec![text(merchant_id)];
    if let Some(cursor) = query.page.starting_after.as_deref() {
        let known: Option<serde_json::Value> = first(
            env,
            &format!("SELECT id FROM {table} WHERE id = ?1 AND merchant_id = ?2"),
            &[text(cursor), text(merchant_id)],
        )
        .await?;
        if known.is_none() {
            return Ok(None);
        }
        params.push(text(cursor));
        sql += &format!(
            " AND x.{order} < (SELECT {order} FROM {table} WHERE id = ?{})",
            params.len()
        );
    }
    for (filter, value) in given(query) {
        params.push(value);
        sql += " AND ";
        sql += &condition(listed, filter).replace('?', &format!("?{}", params.len()));
    }
    params.push(int(i64::try_from(query.page.limit + 1).unwrap_or(i64::MAX)));
    sql += &format!(" ORDER BY x.{order} DESC LIMIT ?{}", params.len());
    all(env, &sql, &params).await.map(Some)
}

#[derive(serde::Deserialize)]
struct EventFactRow {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
}

#[derive(serde::Deserialize)]
struct DeliveryFactRow {
    event_id: String,
    endpoint_id: String,
    status: String,
    attempts: i64,
    last_status_code: Option<i64>,
    updated: i64,
}

/// What a payment's timeline is built from: the events about it and its refunds (in the order
/// recorded), with each event's deliveries. Read in one batch.
pub async fn timeline_facts(
    env: &Env,
    merchant_id: &str,
    payment_id: &str,
) -> StoreResult<(Vec<EventFact>, Vec<DeliveryFact>, Vec<RefundFact>)> {
    let params = [text(merchant_id), text(payment_id)];
    let results = super::batch(
        env,
        vec![
            super::statement(
                env,
                "SELECT id, type, created FROM events \
                 WHERE merchant_id = ?1 AND payment_id = ?2 ORDER BY rowid",
                &params,
            )?,
            super::statement(
                env,
                "SELECT d.event_id, d.endpoint_id, d.status, d.attempts, d.last_status_code, \
                 d.updated FROM webhook_deliveries d JOIN events e ON e.id = d.event_id \
                 WHERE e.merchant_id = ?1 AND e.payment_id = ?2 ORDER BY d.rowid",
                &params,
            )?,
            super::statement(
                env,
                "SELECT * FROM refunds WHERE merchant_id = ?1 AND payment_id = ?2 ORDER BY rowid",
                &params,
            )?,
        ],
    )
    .await?;
    let decode = |e| super::StoreError::new("decode", e);
    let [events, deliveries, refunds] = results.as_slice() else {
        return Err(super::StoreError::new("batch", "three results expected"));
    };
    let events = events
        .results::<EventFactRow>()
        .map_err(decode)?
        .into_iter()
        .map(|e| EventFact {
            id: e.id,
            kind: e.kind,
            created: e.created,
        })
        .collect();
    let deliveries = deliveries
        .results::<DeliveryFactRow>()
        .map_err(decode)?
        .into_iter()
        .map(|d| DeliveryFact {
            event_id: d.event_id,
            endpoint_id: d.endpoint_id,
            status: d.status,
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            updated: d.updated,
        })
        .collect();
    let refunds = refunds
        .results::<super::refunds::RefundRow>()
        .map_err(decode)?
        .into_iter()
        .map(|r| RefundFact {
            failed: r.status == till_core::payment::RefundStatus::Failed,
            id: r.id,
            amount: r.amount,
            created: r.created,
            updated: r.updated,
        })
        .collect();
    Ok((events, deliveries, refunds))
}
