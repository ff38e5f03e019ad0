//! `POST /v1/customer_sessions` (secret key): a secret, valid for half an hour, that the
//! merchant gives the widget so it can show one customer's saved cards, or (with `wallet`) the
//! hosted wallet page so it can act for the customer, or (with `subscriptions`) the customer's
//! own view of their subscriptions.

use crate::auth::Caller;
use crate::http::{body_value, json, parse, ApiResult};
use crate::store::customer_sessions::CustomerSessionRow;
use crate::{clock, random, store};
use till_core::api::{CreateCustomerSession, CustomerSession};
use till_core::api_keys::hash_secret;
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::{self, IdKind};
use worker::{Env, Request};

const LIFETIME_SECONDS: i64 = 30 * 60;

/// The customer session `id` of the caller's merchant, when `client_secret` is its secret and
/// it has not expired.
pub async fn open(
    env: &Env,
    caller: &Caller,
    id: &str,
    client_secret: Option<&str>,
) -> Result<CustomerSessionRow, ApiError> {
    let missing = || ApiError::not_found("customer session");
    if !ids::is_valid(IdKind::CustomerSession, id) {
        return Err(missing());
    }
    let session = store::customer_sessions::find(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing)?;
    let secret = client_secret
        .ok_or_else(|| ApiError::new(ErrorCode::ClientSecretMissing).with_param("client_secret"))?;
    if hash_secret(secret) != session.client_secret_hash {
        return Err(ApiError::new(ErrorCode::ClientSecretInvalid).with_param("client_secret"));
    }
    if session.expires_at <= clock::now_seconds() {
        return Err(ApiError::new(ErrorCode::CustomerSessionExpired));
    }
    Ok(session)
}

/// What a customer session may be opened for besides its customer's saved cards, each only
/// when the merchant made it for that.
#[derive(Clone, Copy)]
enum Use {
    Wallet,
    Subscriptions,
}

async fn open_for(
    env: &Env,
    caller: &Caller,
    id: &str,
    client_secret: Option<&str>,
    what: Use,
) -> Result<CustomerSessionRow, ApiError> {
    let session = open(env, caller, id, client_secret).await?;
    let (granted, refusal) = match what {
        Use::Wallet => (session.wallet, ErrorCode::WalletNotEnabled),
        Use::Subscriptions => (session.subscriptions, ErrorCode::SubscriptionsNotEnabled),
    };
    if granted != 1 {
        return Err(ApiError::new(refusal));
    }
    Ok(session)
}

/// [`open`], for a session made for the wallet.
pub async fn open_wallet(
    env: &Env,
    caller: &Caller,
    id: &str,
    client_secret: Option<&str>,
) -> Result<CustomerSessionRow, ApiError> {
    open_for(env, caller, id, client_secret, Use::Wallet).await
}

/// [`open`], for a session made for the customer's subscriptions.
pub async fn open_subscriptions(
    env: &Env,
    caller: &Caller,
    id: &str,
    client_secret: Option<&str>,
) -> Result<CustomerSessionRow, ApiError> {
    open_for(env, caller, id, client_secret, Use::Subscriptions).await
}

/// What a new customer session may do besides showing its customer's saved cards.
pub struct Grants {
    pub wallet: bool,
    pub subscriptions: bool,
    pub return_url: Option<String>,
}

/// Starts a session for `customer_id`, valid `lifetime` seconds: its row, and the client
/// secret only its maker sees (Till keeps the hash).
pub async fn start(
    env: &Env,
    merchant_id: &str,
    customer_id: &str,
    grants: Grants,
    lifetime: i64,
) -> Result<(CustomerSessionRow, String), ApiError> {
    let id = random::id(IdKind::CustomerSession)?;
    let client_secret = format!("{id}_{}", random::id(IdKind::ClientSecret)?);
    let now = clock::now_seconds();
    let row = CustomerSessionRow {
        id,
        merchant_id: merchant_id.to_string(),
        customer_id: customer_id.to_string(),
        client_secret_hash: hash_secret(&client_secret),
        expires_at: now + lifetime,
        wallet: i64::from(grants.wallet),
        return_url: grants.return_url,
        subscriptions: i64::from(grants.subscriptions),
    };
    store::customer_sessions::insert(env, &row, now).await?;
    Ok((row, client_secret))
}

pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: CreateCustomerSession = parse(body_value(&mut req).await?)?;
    let dev_hosts = crate::config::dev_http_hosts(env);
    request.validate(till_core::urls::DevHosts(&dev_hosts))?;
    let customer = super::customers::find(env, caller, &request.customer)
        .await
        .map_err(|e| e.with_param("customer"))?;
    let grants = Grants {
        wallet: request.wallet,
        subscriptions: request.subscriptions,
        return_url: request.return_url,
    };
    let (row, client_secret) = start(
        env,
        &caller.merchant_id,
        &customer.id,
        grants,
        LIFETIME_SECONDS,
    )
    .await?;
    json(
        200,
        &CustomerSession {
            id: row.id,
            object: "customer_session".into(),
            customer: row.customer_id,
            client_secret: Some(client_secret),
            wallet: row.wallet == 1,
            subscriptions: row.subscriptions == 1,
            return_url: row.return_url,
            expires_at: row.expires_at,
        },
    )
}
