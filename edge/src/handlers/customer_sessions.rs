//! `POST /v1/customer_sessions` (secret key): a secret, valid for half an hour, that the
//! merchant gives the widget so it can show one customer's saved cards.

use crate::auth::Caller;
use crate::http::{body_value, json, parse, ApiResult};
use crate::store::customer_sessions::CustomerSessionRow;
use crate::{clock, random, store};
use till_core::api::{CreateCustomerSession, CustomerSession};
use till_core::api_keys::hash_secret;
use till_core::ids::IdKind;
use worker::{Env, Request};

const LIFETIME_SECONDS: i64 = 30 * 60;

pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: CreateCustomerSession = parse(body_value(&mut req).await?)?;
    let customer = super::customers::find(env, caller, &request.customer)
        .await
        .map_err(|e| e.with_param("customer"))?;
    let id = random::id(IdKind::CustomerSession)?;
    let client_secret = format!("{id}_{}", random::id(IdKind::ClientSecret)?);
    let now = clock::now_seconds();
    let row = CustomerSessionRow {
        id,
        merchant_id: caller.merchant_id.clone(),
        customer_id: customer.id,
        client_secret_hash: hash_secret(&client_secret),
        expires_at: now + LIFETIME_SECONDS,
    };
    store::customer_sessions::insert(env, &row, now).await?;
    json(
        200,
        &CustomerSession {
            id: row.id,
            object: "customer_session".into(),
            customer: row.customer_id,
            client_secret: Some(client_secret),
            expires_at: row.expires_at,
        },
    )
}
