//! Checkout sessions: created by the merchant's server, read by the widget.

use super::accessible_session;
use crate::auth::Caller;
use crate::http::{body_value, json, parse, query_param, ApiResult};
use crate::store::{self, sessions::SessionRow};
use crate::{clock, random};
use till_core::api::{CheckoutSession, CreateCheckoutSession, LineItem, SessionStatus};
use till_core::api_keys::hash_secret;
use till_core::error::ApiError;
use till_core::ids::IdKind;
use till_core::ledger::{Account, Owner};
use till_core::payment_method_type::{self, PaymentMethodType, SessionTerms};
use worker::{Env, Request};

pub fn view(
    row: &SessionRow,
    merchant_name: &str,
    client_secret: Option<String>,
) -> Result<CheckoutSession, ApiError> {
    let corrupt = |what: &str| {
        crate::log_error!("session {}: stored {what} is invalid", row.id);
        ApiError::internal()
    };
    let line_items: Vec<LineItem> =
        serde_json::from_str(&row.line_items).map_err(|_| corrupt("line_items"))?;
    Ok(CheckoutSession {
        id: row.id.clone(),
        object: "checkout_session".into(),
        amount: row.amount,
        currency: row.currency,
        capture_method: row.capture_method,
        line_items,
        status: row.status,
        client_secret,
        return_url: row.return_url.clone(),
        merchant_reference: row.merchant_reference.clone(),
        merchant_name: merchant_name.to_string(),
        payment: row.payment_id.clone(),
        customer: row.customer_id.clone(),
        purpose: row.purpose,
        require_cvc: row.require_cvc == 1,
        receipt_email: row.receipt_email.clone(),
        locale: row.locale.clone(),
        conversion: row
            .conversion
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|_| corrupt("conversion"))?,
        payment_method_types: payment_method_type::from_column(&row.payment_method_types)
            .ok_or_else(|| corrupt("payment_method_types"))?,
        wallet_balance: None,
        created: row.created,
    })
}

/// `POST /v1/checkout_sessions` (secret key).
pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: CreateCheckoutSession = parse(body_value(&mut req).await?)?;
    json(200, &open(env, caller, request).await?)
}

/// Opens a checkout session for the caller's merchant; the answer carries its client secret.
pub async fn open(
    env: &Env,
    caller: &Caller,
    request: CreateCheckoutSession,
) -> Result<CheckoutSession, ApiError> {
    let dev_hosts = crate::config::dev_http_hosts(env);
    let total = request.validate(till_core::urls::DevHosts(&dev_hosts))?;
    let (receipt_email, locale) = request.receipt()?;
    let methods = payment_method_type::checked(
        request.payment_method_types.as_deref(),
        &SessionTerms {
            capture_method: request.capture_method,
            purpose: request.purpose,
            converted: request.fx_quote.is_some(),
            has_customer: request.customer.is_some(),
        },
    )?;
    if let Some(customer) = &request.customer {
        if store::customers::find(env, &caller.merchant_id, customer)
            .await?
            .is_none()
        {
            return Err(ApiError::not_found("customer").with_param("customer"));
        }
    }
    let now = clock::now_seconds();
    let conversion = match &request.fx_quote {
        Some(quote) => {
            let locked = super::fx_quotes::lock_for_session(
                env,
                &caller.merchant_id,
                quote,
                total,
                request.purpose,
                now,
            )
            .await?;
            Some(serde_json::to_string(&locked).map_err(|_| ApiError::internal())?)
        }
        None => None,
    };
    let id = random::id(IdKind::CheckoutSession)?;
    let client_secret = format!("{id}_{}", random::id(IdKind::ClientSecret)?);
    let row = SessionRow {
        id,
        merchant_id: caller.merchant_id.clone(),
        client_secret_hash: hash_secret(&client_secret),
        amount: total.amount,
        currency: total.currency,
        capture_method: request.capture_method,
        line_items: serde_json::to_string(&request.line_items).map_err(|_| ApiError::internal())?,
        return_url: request.return_url,
        merchant_reference: request.merchant_reference,
        status: SessionStatus::Open,
        payment_id: None,
        customer_id: request.customer,
        purpose: request.purpose,
        require_cvc: i64::from(request.require_cvc),
        receipt_email,
        locale,
        conversion,
        payment_method_types: payment_method_type::to_column(&methods),
        created: now,
    };
    store::sessions::insert(env, &row).await?;
    view(&row, &caller.merchant_name, Some(client_secret))
}

/// `GET /v1/checkout_sessions/:id` (secret key, or publishable key with `?client_secret=`). The
/// customer (the client secret's holder) is offered the methods that can pay now: the wallet only
/// when it holds something.
pub async fn retrieve(req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let secret = query_param(&req, "client_secret");
    let row = accessible_session(env, caller, id, secret.as_deref()).await?;
    let mut session = view(&row, &caller.merchant_name, None)?;
    session.wallet_balance = wallet_balance(env, &caller.merchant_id, &session).await?;
    if secret.is_some() {
        let offered: Vec<PaymentMethodType> = session
            .payment_method_types
            .iter()
            .copied()
            .filter(|method| {
                *method != PaymentMethodType::Wallet || session.wallet_balance.unwrap_or(0) > 0
            })
            .collect();
        // With nothing left, the widget shows the methods and says why they cannot pay.
        if !offered.is_empty() {
            session.payment_method_types = offered;
        }
    }
    json(200, &session)
}

/// What the session customer's wallet holds in its currency, when the session offers `wallet`.
async fn wallet_balance(
    env: &Env,
    merchant_id: &str,
    session: &CheckoutSession,
) -> Result<Option<i64>, ApiError> {
    let Some(customer) = session.customer.as_deref().filter(|_| {
        session
            .payment_method_types
            .contains(&PaymentMethodType::Wallet)
    }) else {
        return Ok(None);
    };
    let account = Account::new(
        Owner::Wallet {
            customer: customer.to_string(),
        },
        session.currency,
    )
    .key();
    let balances = store::ledger::balances(env, merchant_id, &account).await?;
    Ok(Some(
        balances
            .into_iter()
            .find(|(key, _)| *key == account)
            .map_or(0, |(_, balance)| balance.amount),
    ))
}
