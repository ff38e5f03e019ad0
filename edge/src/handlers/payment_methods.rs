//! Saved cards: the merchant lists and detaches a customer's (secret key); the widget lists
//! them with a customer session (publishable key), without their fingerprints.

use crate::auth::Caller;
use crate::http::{json, query_param, ApiResult};
use crate::store::payment_methods::PaymentMethodRow;
use crate::vault::Vault;
use crate::{clock, store};
use till_core::api::List;
use till_core::error::ApiError;
use till_core::ids::{self, IdKind};
use worker::{Env, Request};

fn page(rows: &[PaymentMethodRow], with_fingerprint: bool) -> ApiResult {
    let methods: Vec<_> = rows.iter().map(|m| m.view(with_fingerprint)).collect();
    let shown = methods.len();
    json(200, &List::page(methods, shown))
}

/// `GET /v1/customers/:id/payment_methods`: the customer's saved cards, newest first.
pub async fn of_customer(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let customer = super::customers::find(env, caller, id).await?;
    let rows = store::payment_methods::of_customer(env, &caller.merchant_id, &customer.id).await?;
    page(&rows, true)
}

/// `POST /v1/payment_methods/:id/detach`: the card is never offered or charged again, and its
/// vault record is deleted.
pub async fn detach(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let missing = || ApiError::not_found("payment method");
    if !ids::is_valid(IdKind::PaymentMethod, id) {
        return Err(missing());
    }
    let method = store::payment_methods::find(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing)?;
    store::payment_methods::detach(env, &caller.merchant_id, id, clock::now_seconds()).await?;
    Vault::open(env)?.drop_saved_card(id).await?;
    json(200, &method.view(true))
}

/// `GET /v1/customer_sessions/:id/payment_methods?client_secret=`: what the widget may offer.
pub async fn for_customer_session(req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let secret = query_param(&req, "client_secret");
    let session = super::customer_sessions::open(env, caller, id, secret.as_deref()).await?;
    let rows =
        store::payment_methods::of_customer(env, &caller.merchant_id, &session.customer_id).await?;
    page(&rows, false)
}
