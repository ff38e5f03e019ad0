//! The hosted wallet page's API (`/v1/customer_sessions/:id/…`): a customer session made with
//! `wallet: true` (the publishable key and the session's client secret) reads its customer's
//! wallet and moves its money, by the same rules and code as the merchant's own API: top-ups
//! are checkout sessions, transfers go through `transfers::send`, withdrawals through
//! `payouts::request`.

use super::customer_sessions::open_wallet;
use super::{sessions, transfers};
use crate::auth::Caller;
use crate::http::{body_value, json, parse, query_param, ApiResult};
use crate::{idempotency, payouts, store};
use till_core::api::{
    BalanceAmount, CaptureMethod, CreateCheckoutSession, CreateTopUp, Purpose, Wallet,
    WalletPayout, WalletTransfer,
};
use till_core::error::ApiError;
use worker::{Env, Request};

/// How many of the wallet's movements the page shows.
const HISTORY: i64 = 30;

/// `GET /v1/customer_sessions/:id/wallet?client_secret=`.
pub async fn retrieve(req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let secret = query_param(&req, "client_secret");
    let session = open_wallet(env, caller, id, secret.as_deref()).await?;
    let merchant = caller.merchant_id.as_str();
    let customer = store::customers::find(env, merchant, &session.customer_id)
        .await?
        .ok_or_else(|| ApiError::not_found("customer"))?;
    let prefix = format!("wallet:{}:", customer.id);
    let (balances, history) = futures_util::future::join(
        store::ledger::balances(env, merchant, &prefix),
        store::ledger::wallet_history(env, merchant, &customer.id, HISTORY),
    )
    .await;
    json(
        200,
        &Wallet {
            object: "wallet".into(),
            customer: customer.id,
            name: customer.name,
            balances: balances?
                .into_iter()
                .map(|(_, balance)| balance)
                .collect::<Vec<BalanceAmount>>(),
            history: history?,
            return_url: session.return_url,
        },
    )
}

/// The wallet page on the edge's own origin: where a top-up's checkout comes back to.
fn wallet_page(req: &Request) -> Result<String, ApiError> {
    let url = req.url().map_err(|_| ApiError::internal())?;
    Ok(format!("{}/wallet", url.origin().ascii_serialization()))
}

/// `POST /v1/customer_sessions/:id/top_ups`: a checkout session that fills the wallet when it
/// is paid, coming back to the wallet page.
pub async fn top_up(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let request: CreateTopUp = parse(body_value(&mut req).await?)?;
    let session = open_wallet(env, caller, id, Some(&request.client_secret)).await?;
    let checkout = CreateCheckoutSession {
        amount: request.amount,
        currency: request.currency,
        capture_method: CaptureMethod::Automatic,
        line_items: Vec::new(),
        return_url: Some(wallet_page(&req)?),
        merchant_reference: None,
        customer: Some(session.customer_id),
        purpose: Purpose::WalletTopUp,
        require_cvc: false,
        receipt_email: None,
        locale: None,
        fx_quote: None,
        payment_method_types: None,
    };
    json(200, &sessions::open(env, caller, checkout).await?)
}

/// `POST /v1/customer_sessions/:id/transfers` (`Idempotency-Key`): from the wallet.
pub async fn transfer(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let body = body_value(&mut req).await?;
    let scope = idempotency::scope_for(&req, &caller.merchant_id, "wallet.transfers", &body)?;
    let request: WalletTransfer = parse(body)?;
    let session = open_wallet(env, caller, id, Some(&request.client_secret)).await?;
    let transfer = request.from(&session.customer_id).validate()?;
    idempotency::once(env, &scope, || {
        transfers::send(env, &caller.merchant_id, &transfer, &scope)
    })
    .await
}

/// `POST /v1/customer_sessions/:id/payouts` (`Idempotency-Key`): to a bank account.
pub async fn payout(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let body = body_value(&mut req).await?;
    let scope = idempotency::scope_for(&req, &caller.merchant_id, "wallet.payouts", &body)?;
    let request: WalletPayout = parse(body)?;
    let session = open_wallet(env, caller, id, Some(&request.client_secret)).await?;
    let payout = request.from(&session.customer_id).validate()?;
    idempotency::once(env, &scope, || {
        payouts::request(env, &caller.merchant_id, &payout, &scope)
    })
    .await
}
