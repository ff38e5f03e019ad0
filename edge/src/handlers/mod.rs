//! One module per resource. The router authenticates the caller as the route table declares;
//! each handler parses, applies core rules, stores.

pub mod api_keys;
pub mod bank_payments;
pub mod bank_return;
pub mod bank_webhooks;
pub mod billing_settings;
pub mod catalogue;
pub mod confirm;
pub mod customer_sessions;
pub mod customers;
pub mod dashboard;
pub mod disputes;
pub mod fx_quotes;
pub mod gateway_accounts;
pub mod gateway_webhooks;
pub mod keys;
pub mod ledger;
pub mod lists;
pub mod metrics;
pub mod off_session;
pub mod origins;
pub mod payment_methods;
pub mod payments;
pub mod payouts;
pub mod platform;
pub mod reconciliation;
pub mod refund_requests;
pub mod refunds;
pub mod reports;
pub mod reviews;
pub mod risk;
pub mod sessions;
pub mod subscriptions;
pub mod team;
pub mod test_clocks;
pub mod tokens;
pub mod transfers;
pub mod wallet;
pub mod webhook_endpoints;
pub mod widget_page;

use crate::auth::Caller;
use crate::store::{self, sessions::SessionRow};
use till_core::api_keys::{hash_secret, KeyKind};
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::{self, IdKind};
use worker::Env;

/// Loads a session the caller may see: any of its merchant's with the secret key; with the
/// publishable key only when the client secret matches.
pub async fn accessible_session(
    env: &Env,
    caller: &Caller,
    id: &str,
    client_secret: Option<&str>,
) -> Result<SessionRow, ApiError> {
    if !ids::is_valid(IdKind::CheckoutSession, id) {
        return Err(missing_session());
    }
    let session = store::sessions::find(env, &caller.merchant_id, id).await?;
    check_session_access(caller, session, client_secret)
}

fn missing_session() -> ApiError {
    ApiError::not_found("checkout session").with_param("checkout_session")
}

/// [`accessible_session`] on a session the caller's merchant read already.
pub fn check_session_access(
    caller: &Caller,
    session: Option<SessionRow>,
    client_secret: Option<&str>,
) -> Result<SessionRow, ApiError> {
    let session = session.ok_or_else(missing_session)?;
    if caller.key_kind == KeyKind::Publishable {
        let given = client_secret.ok_or_else(|| {
            ApiError::new(ErrorCode::ClientSecretMissing).with_param("client_secret")
        })?;
        if hash_secret(given) != session.client_secret_hash {
            return Err(ApiError::new(ErrorCode::ClientSecretInvalid).with_param("client_secret"));
        }
    }
    Ok(session)
}
