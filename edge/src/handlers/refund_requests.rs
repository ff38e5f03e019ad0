//! Orders and refund requests. The customer, on the hosted page (a customer session:
//! publishable key and its client secret), sees their orders and asks for a refund or a return;
//! the merchant (secret key) lists the requests and approves, which issues the refund, or
//! declines. Events `refund_request.created|approved|declined`.

use super::customer_sessions::open as open_session;
use crate::auth::Caller;
use crate::http::{body_value, json, page_param, parse, query_param, ApiResult};
use crate::idempotency::Scope;
use crate::merchant_webhooks::{deliver, new_event};
use crate::store::refund_requests::{OrderRow, RequestRow};
use crate::{clock, random, store};
use till_core::api::{CreateRefund, LineItem, List, RefundReason};
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::{self, IdKind};
use till_core::refund_request::{CreateRefundRequest, DeclineRefundRequest, Order, RequestStatus};
use worker::{Env, Request};

fn order(row: OrderRow, requests: &[RequestRow]) -> Order {
    Order {
        object: "order".into(),
        amount: row.amount,
        currency: row.currency,
        status: row.status,
        amount_refunded: row.amount_refunded,
        refundable: row.amount_captured - row.amount_refunded,
        card_brand: row.card_brand,
        card_last4: row.card_last4,
        merchant_reference: row.merchant_reference,
        line_items: serde_json::from_str::<Vec<LineItem>>(&row.line_items).unwrap_or_default(),
        request: requests
            .iter()
            .find(|r| r.payment_id == row.id)
            .map(RequestRow::view),
        created: row.created,
        id: row.id,
    }
}

/// `GET /v1/customer_sessions/:id/orders?client_secret=`: the customer's orders, newest first.
pub async fn orders(req: Request, env: &Env, caller: &Caller, session_id: &str) -> ApiResult {
    let secret = query_param(&req, "client_secret");
    let session = open_session(env, caller, session_id, secret.as_deref()).await?;
    let (orders, requests) = futures_util::future::join(
        store::refund_requests::orders_of(env, &caller.merchant_id, &session.customer_id),
        store::refund_requests::of_customer(env, &caller.merchant_id, &session.customer_id),
    )
    .await;
    let requests = requests?;
    let orders: Vec<Order> = orders?
        .into_iter()
        .map(|row| order(row, &requests))
        .collect();
    let count = orders.len();
    json(200, &List::page(orders, count))
}

/// `POST /v1/customer_sessions/:id/refund_requests`: a refund or return the customer asks for,
/// on one of their own paid orders, at most what is left to refund; one open at a time.
pub async fn create(mut req: Request, env: &Env, caller: &Caller, session_id: &str) -> ApiResult {
    crate::rate_limit::check_browser_caller(env, &req, caller).await?;
    let request: CreateRefundRequest = parse(body_value(&mut req).await?)?;
    let session = open_session(env, caller, session_id, Some(&request.client_secret)).await?;
    let missing = || ApiError::not_found("payment").with_param("payment");
    if !ids::is_valid(IdKind::Payment, &request.payment) {
        return Err(missing());
    }
    let payment = store::payments::find(env, &caller.merchant_id, &request.payment)
        .await?
        .filter(|p| p.customer_id.as_deref() == Some(session.customer_id.as_str()))
        .ok_or_else(missing)?;
    if payment.status != till_core::payment::PaymentStatus::Succeeded {
        return Err(ApiError::payment_invalid_state(payment.status, "refunded"));
    }
    let (reason, amount) = request.validate(payment.amount_captured - payment.amount_refunded)?;
    let now = clock::now_seconds();
    let row = RequestRow {
        id: random::id(IdKind::RefundRequest)?,
        merchant_id: caller.merchant_id.clone(),
        customer_id: session.customer_id.clone(),
        payment_id: payment.id.clone(),
        kind: request.kind,
        reason,
        amount,
        currency: payment.currency.code().to_string(),
        status: RequestStatus::Open,
        refund_id: None,
        decline_reason: None,
        created: now,
        updated: now,
    };
    let event = new_event(&caller.merchant_id, "refund_request.created", &row.view())?;
    let Some(endpoints) = store::refund_requests::insert(env, &row, &event).await? else {
        return Err(ApiError::new(ErrorCode::RefundRequestOpen).with_param("payment"));
    };
    deliver(env, &event, endpoints).await;
    json(200, &row.view())
}

async fn find(env: &Env, caller: &Caller, id: &str) -> Result<RequestRow, ApiError> {
    let missing = || ApiError::not_found("refund request");
    if !ids::is_valid(IdKind::RefundRequest, id) {
        return Err(missing());
    }
    store::refund_requests::find(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing)
}

/// `GET /v1/refund_requests?status=&limit=&starting_after=` (secret key): newest first.
pub async fn list(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let page = page_param(&req, IdKind::RefundRequest)?;
    let status = query_param(&req, "status");
    if let Some(status) = status.as_deref() {
        if !["open", "approved", "declined"].contains(&status) {
            return Err(ApiError::new(ErrorCode::ParameterInvalid)
                .with_message("status is one of open, approved, declined.")
                .with_param("status"));
        }
    }
    let rows = store::refund_requests::of_merchant(
        env,
        &caller.merchant_id,
        status.as_deref(),
        page.starting_after.as_deref(),
        page.limit + 1,
    )
    .await?
    .ok_or_else(ApiError::cursor_invalid)?;
    json(
        200,
        &List::page(rows.iter().map(RequestRow::view).collect(), page.limit),
    )
}

/// `POST /v1/refund_requests/:id/approve`: the request is approved first (so a decline can no
/// longer win), then its refund is issued, keyed by the request: approving again (a retry, a
/// double click, after the gateway was unavailable) refunds nothing more and finishes what is
/// left.
pub async fn approve(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let mut request = find(env, caller, id).await?;
    if request.status == RequestStatus::Open {
        store::refund_requests::decide(
            env,
            &request.id,
            RequestStatus::Approved,
            None,
            clock::now_seconds(),
            None,
        )
        .await?;
        request = find(env, caller, id).await?;
    }
    if request.status != RequestStatus::Approved {
        return Err(ApiError::new(ErrorCode::RefundRequestDecided));
    }
    let refund = CreateRefund {
        payment: request.payment_id.clone(),
        amount: Some(request.amount),
        reason: Some(RefundReason::RequestedByCustomer),
    };
    let body = serde_json::to_value(&refund).map_err(|_| ApiError::internal())?;
    let scope = Scope {
        merchant_id: caller.merchant_id.clone(),
        endpoint: "refunds.create",
        key: format!("refund_request:{}", request.id),
        fingerprint: till_core::idempotency::fingerprint("POST", "/v1/refunds", &body),
    };
    super::refunds::issue(env, caller, &scope, refund).await?;
    let issued = store::refunds::by_idempotency_key(env, &caller.merchant_id, &scope.key)
        .await?
        .ok_or_else(ApiError::internal)?;
    let now = clock::now_seconds();
    let approved = RequestRow {
        refund_id: Some(issued.id.clone()),
        updated: now,
        ..request.clone()
    };
    let event = new_event(
        &caller.merchant_id,
        "refund_request.approved",
        &approved.view(),
    )?;
    if let Some(endpoints) =
        store::refund_requests::attach_refund(env, &request.id, &issued.id, now, &event).await?
    {
        deliver(env, &event, endpoints).await;
    }
    json(200, &find(env, caller, id).await?.view())
}

/// `POST /v1/refund_requests/:id/decline {reason?}`: the customer sees the reason.
pub async fn decline(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let decision: DeclineRefundRequest = parse(body_value(&mut req).await?)?;
    let reason = decision.validate()?;
    let request = find(env, caller, id).await?;
    let now = clock::now_seconds();
    let declined = RequestRow {
        status: RequestStatus::Declined,
        decline_reason: reason.clone(),
        updated: now,
        ..request.clone()
    };
    let event = new_event(
        &caller.merchant_id,
        "refund_request.declined",
        &declined.view(),
    )?;
    let decided = store::refund_requests::decide(
        env,
        &request.id,
        RequestStatus::Declined,
        reason.as_deref(),
        now,
        Some(&event),
    )
    .await?;
    let Some(endpoints) = decided else {
        return Err(ApiError::new(ErrorCode::RefundRequestDecided));
    };
    deliver(env, &event, endpoints).await;
    json(200, &declined.view())
}
