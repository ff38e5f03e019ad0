//! Searchable lists of a merchant's records (`GET /v1/payments?status=…&last4=…`), newest
//! first, and a payment's timeline. The query is checked by `till_core::listing`; an unknown
//! or malformed filter is refused, never ignored.

use crate::auth::Caller;
use crate::handlers::payments::load;
use crate::http::{json, query_pairs, ApiResult};
use crate::store::{self, payments::PaymentRow, payouts::PayoutRow, refunds::RefundRow};
use crate::store::{sessions::SessionRow, transfers::TransferRow};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use till_core::api::List;
use till_core::error::ApiError;
use till_core::listing::{ListQuery, Listed};
use till_core::timeline::{self, PaymentFacts};
use worker::{Env, Request};

/// One page of `listed`, as rows of `T`, and the limit to cut it at.
async fn rows<T: DeserializeOwned>(
    req: &Request,
    env: &Env,
    caller: &Caller,
    listed: Listed,
) -> Result<(Vec<T>, usize), ApiError> {
    let query = ListQuery::parse(listed, &query_pairs(req)?)?;
    let rows = store::lists::page(env, &caller.merchant_id, listed, &query)
        .await?
        .ok_or_else(ApiError::cursor_invalid)?;
    Ok((rows, query.page.limit))
}

fn page<T: Serialize>(views: Vec<T>, limit: usize) -> ApiResult {
    json(200, &List::page(views, limit))
}

/// `GET /v1/payments`.
pub async fn payments(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let (rows, limit) = rows::<PaymentRow>(&req, env, caller, Listed::Payments).await?;
    let views = rows
        .iter()
        .map(crate::payments::view)
        .collect::<Result<Vec<_>, _>>()?;
    page(views, limit)
}

/// `GET /v1/refunds`.
pub async fn refunds(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let (rows, limit) = rows::<RefundRow>(&req, env, caller, Listed::Refunds).await?;
    page(
        rows.iter().map(crate::payments::refunds::view).collect(),
        limit,
    )
}

/// `GET /v1/checkout_sessions` (never with their client secrets).
pub async fn sessions(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let (rows, limit) = rows::<SessionRow>(&req, env, caller, Listed::CheckoutSessions).await?;
    let views = rows
        .iter()
        .map(|row| super::sessions::view(row, &caller.merchant_name, None))
        .collect::<Result<Vec<_>, _>>()?;
    page(views, limit)
}

/// `GET /v1/transfers`.
pub async fn transfers(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let (rows, limit) = rows::<TransferRow>(&req, env, caller, Listed::Transfers).await?;
    page(rows.iter().map(TransferRow::view).collect(), limit)
}

/// `GET /v1/payouts`.
pub async fn payouts(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let (rows, limit) = rows::<PayoutRow>(&req, env, caller, Listed::Payouts).await?;
    page(rows.iter().map(PayoutRow::view).collect(), limit)
}

#[derive(Deserialize)]
struct EventBody {
    body: String,
}

/// `GET /v1/events`: each event as its webhooks sent it.
pub async fn events(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let (rows, limit) = rows::<EventBody>(&req, env, caller, Listed::Events).await?;
    let events = rows
        .iter()
        .map(|row| serde_json::from_str::<serde_json::Value>(&row.body))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            crate::log_error!(
                "events of {}: a stored body is not JSON",
                caller.merchant_id
            );
            ApiError::internal()
        })?;
    page(events, limit)
}

/// `GET /v1/payments/:id/timeline`: everything that happened to the payment, in order.
pub async fn timeline(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let payment = load(env, caller, id).await?;
    let (events, deliveries, refunds) =
        store::lists::timeline_facts(env, &caller.merchant_id, &payment.id).await?;
    let facts = PaymentFacts {
        created: payment.created,
        amount: payment.amount,
        captured_at: payment.captured_at,
        amount_captured: payment.amount_captured,
    };
    let entries = timeline::build(&facts, &events, &deliveries, &refunds);
    let count = entries.len();
    page(entries, count)
}
