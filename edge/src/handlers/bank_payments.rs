//! What the widget asks about paying from a bank: the banks the session's customer may choose
//! from, the session's payment while the bank has it, and giving up on the bank to pay another
//! way. All with the publishable key and the session's client secret.

use super::accessible_session;
use crate::auth::Caller;
use crate::http::{body_value, json, parse, query_param, ApiResult};
use crate::payments::{bank_redirect, view_for, Audience};
use crate::store::{self, payments::PaymentRow, sessions::SessionRow};
use crate::{clock, rate_limit};
use till_core::api::{BankList, ReopenCheckoutSession};
use till_core::error::ApiError;
use till_core::payment_method_type::{self, PaymentMethodType};
use worker::{Env, Request};

/// A waiting bank payment is asked about at most this often by the widget's polling.
const MIN_SECONDS_BETWEEN_BANK_LOOKUPS: i64 = 2;

/// `GET /v1/checkout_sessions/:id/banks?client_secret=`: the banks that take the session's
/// currency, or none when the session does not take bank payments.
pub async fn banks(req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let secret = query_param(&req, "client_secret");
    let session = accessible_session(env, caller, id, secret.as_deref()).await?;
    let offered = payment_method_type::from_column(&session.payment_method_types)
        .unwrap_or_default()
        .contains(&PaymentMethodType::BankRedirect);
    let data = if offered {
        bank_redirect::banks_for(env, session.currency).await?
    } else {
        Vec::new()
    };
    json(
        200,
        &BankList {
            object: "list".into(),
            data,
        },
    )
}

/// The session's latest payment, also once it failed or was canceled (the session then no
/// longer names it).
async fn session_payment(env: &Env, session: &SessionRow) -> Result<PaymentRow, ApiError> {
    store::payments::latest_of_session(env, &session.merchant_id, &session.id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))
}

fn answer(payment: &PaymentRow) -> ApiResult {
    json(200, &view_for(payment, Audience::Browser)?)
}

/// `GET /v1/checkout_sessions/:id/payment?client_secret=`: the session's latest payment as the
/// customer may see it. A bank payment not yet settled is first asked about at the bank.
pub async fn payment(req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    rate_limit::check_browser_caller(env, &req, caller).await?;
    let secret = query_param(&req, "client_secret");
    let session = accessible_session(env, caller, id, secret.as_deref()).await?;
    let mut payment = session_payment(env, &session).await?;
    let waiting = payment.method == PaymentMethodType::BankRedirect
        && !payment.status.is_terminal()
        && clock::now_seconds() - payment.updated >= MIN_SECONDS_BETWEEN_BANK_LOOKUPS;
    if waiting {
        // The bank's silence leaves the payment as stored: the widget asks again.
        if let Err(error) = bank_redirect::recover(env, &mut payment).await {
            crate::log_warn!("payment {}: bank lookup failed: {error}", payment.id);
        }
    }
    answer(&payment)
}

/// `POST /v1/checkout_sessions/:id/reopen {client_secret}`: the customer gives up on their
/// bank. The bank cancels the payment unless it was approved (then it is applied as it is), and
/// a canceled payment opens the session again. Answers the payment as it ended.
pub async fn reopen(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    rate_limit::check_browser_caller(env, &req, caller).await?;
    let request: ReopenCheckoutSession = parse(body_value(&mut req).await?)?;
    let session = accessible_session(env, caller, id, Some(&request.client_secret)).await?;
    let mut payment = session_payment(env, &session).await?;
    bank_redirect::cancel_waiting(env, &mut payment).await?;
    answer(&payment)
}
