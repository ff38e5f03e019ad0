//! Which gateway a merchant's money goes through: its own gateway account (connector name and
//! credentials, sealed with the vault key) or, without one, the platform's account. A payment
//! remembers its account, so its capture, refunds and recovery go where it was authorized.

use crate::config;
use crate::connectors::{self, AccountCredentials, Connector};
use crate::store::{self, gateway_accounts::GatewayAccountRow, payments::PaymentRow};
use crate::vault::Vault;
use till_core::error::ApiError;
use worker::Env;

/// A connector ready to call, and the account it speaks for.
pub struct Gateway {
    /// `None`: the platform's account.
    pub account_id: Option<String>,
    pub connector: Box<dyn Connector>,
}

fn unknown_connector(name: &str) -> ApiError {
    crate::log_error!("gateway account: unknown connector {name}");
    ApiError::internal()
}

/// The platform's account (`GATEWAY_*` settings).
pub fn platform(env: &Env) -> Result<Gateway, ApiError> {
    let (name, credentials) = config::platform_gateway(env)?;
    let connector = connectors::build(&name, credentials, config::gateway_timeout_ms(env))
        .ok_or_else(|| unknown_connector(&name))?;
    Ok(Gateway {
        account_id: None,
        connector,
    })
}

fn open(env: &Env, account: GatewayAccountRow) -> Result<Gateway, ApiError> {
    let text = Vault::open(env)?.open_text(&account.id, &account.sealed_credentials)?;
    let credentials: AccountCredentials = serde_json::from_str(text.expose()).map_err(|_| {
        crate::log_error!("gateway account {}: credentials unreadable", account.id);
        ApiError::internal()
    })?;
    let connector = connectors::build(
        &account.connector,
        credentials,
        config::gateway_timeout_ms(env),
    )
    .ok_or_else(|| unknown_connector(&account.connector))?;
    Ok(Gateway {
        account_id: Some(account.id),
        connector,
    })
}

/// The gateway a merchant's new payments go to.
pub async fn for_merchant(env: &Env, merchant_id: &str) -> Result<Gateway, ApiError> {
    of_merchant_account(
        env,
        store::gateway_accounts::of_merchant(env, merchant_id).await?,
    )
}

/// The gateway of a merchant's own account, read already; the platform's when it has none.
pub fn of_merchant_account(
    env: &Env,
    account: Option<GatewayAccountRow>,
) -> Result<Gateway, ApiError> {
    match account {
        Some(account) => open(env, account),
        None => platform(env),
    }
}

/// The gateway of an account id (`None`: the platform's).
pub async fn for_account(env: &Env, account_id: Option<&str>) -> Result<Gateway, ApiError> {
    let Some(id) = account_id else {
        return platform(env);
    };
    let account = store::gateway_accounts::by_id(env, id)
        .await?
        .ok_or_else(|| {
            crate::log_error!("gateway account {id} is gone");
            ApiError::internal()
        })?;
    open(env, account)
}

/// The gateway a payment was authorized through.
pub async fn for_payment(env: &Env, payment: &PaymentRow) -> Result<Gateway, ApiError> {
    for_account(env, payment.gateway_account_id.as_deref()).await
}
