//! `/v1/customers` (secret key): a merchant's customers, their wallet balances, and which of
//! a contact list's hashes are customers.

use crate::auth::Caller;
use crate::http::{body_value, json, page_param, parse, ApiResult};
use crate::merchant_webhooks::{deliver, new_event};
use crate::store::customers::{CustomerRow, Written};
use crate::{claims, clock, random, store};
use till_core::api::{CustomerBalance, List};
use till_core::customer::{CreateCustomer, LookupCustomers, UpdateCustomer};
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::{self, IdKind};
use worker::{Env, Request};

/// Updates that lose to a concurrent one are applied again on what it wrote, this many times.
const UPDATE_ATTEMPTS: usize = 3;

fn contact_taken() -> ApiError {
    ApiError::new(ErrorCode::CustomerExists)
}

pub async fn find(env: &Env, caller: &Caller, id: &str) -> Result<CustomerRow, ApiError> {
    let missing = || ApiError::not_found("customer");
    if !ids::is_valid(IdKind::Customer, id) {
        return Err(missing());
    }
    store::customers::find(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing)
}

/// Pays the customer the transfers waiting for their contact. The customer is already written:
/// a failure here must not fail the request (its retry would meet `customer_exists`); the
/// every-minute cron pays what is left.
async fn pay_waiting_claims(env: &Env, customer: &CustomerRow) {
    if let Err(error) = claims::claim_for(env, customer).await {
        crate::log_error!("claims for {}: left to the cron: {error:?}", customer.id);
    }
}

/// `POST /v1/customers`. Transfers already waiting for the new customer's email or phone are
/// paid into their wallet.
pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: CreateCustomer = parse(body_value(&mut req).await?)?;
    let details = request.validate()?;
    let id = random::id(IdKind::Customer)?;
    let now = clock::now_seconds();
    let created = store::customers::view_of(&id, &details, now);
    let event = new_event(&caller.merchant_id, "customer.created", &created)?;
    match store::customers::insert(env, &caller.merchant_id, &id, &details, now, &event).await? {
        Written::Done(endpoints) => deliver(env, &event, endpoints).await,
        Written::ContactTaken => return Err(contact_taken()),
    }
    let customer = find(env, caller, &id).await?;
    pay_waiting_claims(env, &customer).await;
    json(200, &customer.view())
}

/// `GET /v1/customers/:id`.
pub async fn retrieve(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    json(200, &find(env, caller, id).await?.view())
}

/// `PATCH /v1/customers/:id`: fields given replace the stored ones (`""` clears).
pub async fn update(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let mut customer = find(env, caller, id).await?;
    let request: UpdateCustomer = parse(body_value(&mut req).await?)?;
    for _ in 0..UPDATE_ATTEMPTS {
        let details = request.apply(customer.details())?;
        let view = store::customers::view_of(&customer.id, &details, customer.created);
        let event = new_event(&caller.merchant_id, "customer.updated", &view)?;
        let now = clock::now_seconds();
        match store::customers::update(env, &customer, &details, now, &event).await? {
            Some(Written::Done(endpoints)) => {
                deliver(env, &event, endpoints).await;
                let updated = find(env, caller, id).await?;
                pay_waiting_claims(env, &updated).await;
                return json(200, &updated.view());
            }
            Some(Written::ContactTaken) => return Err(contact_taken()),
            None => customer = find(env, caller, id).await?,
        }
    }
    Err(ApiError::new(ErrorCode::IdempotencyRequestInProgress)
        .with_message("The customer is being updated by another request. Retry shortly."))
}

/// `GET /v1/customers?limit=&starting_after=`: newest first.
pub async fn list(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let page = page_param(&req, IdKind::Customer)?;
    let rows = store::customers::list(
        env,
        &caller.merchant_id,
        page.starting_after.as_deref(),
        page.limit + 1,
    )
    .await?
    .ok_or_else(ApiError::cursor_invalid)?;
    let customers = rows.iter().map(CustomerRow::view).collect();
    json(200, &List::page(customers, page.limit))
}

/// `POST /v1/customers/lookup`: which of these contact hashes (SHA-256 of a normalized phone
/// or email) belong to customers. The contact list itself never reaches Till.
pub async fn lookup(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: LookupCustomers = parse(body_value(&mut req).await?)?;
    let hashes = request.validate()?;
    let matches = store::customers::lookup(env, &caller.merchant_id, &hashes).await?;
    let limit = matches.len();
    json(200, &List::page(matches, limit))
}

/// `GET /v1/customers/:id/balance`: the customer's wallet in each currency it holds.
pub async fn balance(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let customer = find(env, caller, id).await?;
    let wallets = store::ledger::balances(
        env,
        &caller.merchant_id,
        &format!("wallet:{}:", customer.id),
    )
    .await?;
    json(
        200,
        &CustomerBalance {
            object: "customer_balance".into(),
            customer: customer.id,
            available: wallets.into_iter().map(|(_, amount)| amount).collect(),
        },
    )
}
