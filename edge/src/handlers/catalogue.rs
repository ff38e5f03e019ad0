//! The subscription catalogue: `POST/GET /v1/products`, `GET /v1/products/:id`,
//! `POST /v1/products/:id {active}`, and the same for `/v1/prices` (a price names an active
//! product of the merchant's). Nothing is deleted; archiving (`active: false`) keeps what
//! subscriptions and invoices refer to.

use crate::auth::Caller;
use crate::http::{body_value, json, page_param, parse, query_param, ApiResult};
use crate::store::catalogue::{CatalogueFilter, Catalogued, PriceRow, ProductRow};
use crate::store::{self};
use crate::{clock, random};
use serde::de::DeserializeOwned;
use till_core::api::List;
use till_core::catalogue::{CreatePrice, CreateProduct, SetActive};
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::{self, IdKind};
use worker::{Env, Request};

fn missing_product() -> ApiError {
    ApiError::not_found("product")
}

fn missing_price() -> ApiError {
    ApiError::not_found("price")
}

/// `?active=true|false`.
fn active_param(req: &Request) -> Result<Option<bool>, ApiError> {
    match query_param(req, "active").as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::new(ErrorCode::ParameterInvalid)
            .with_message("active is true or false.")
            .with_param("active")),
    }
}

/// `POST /v1/products {name, description?}`.
pub async fn create_product(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: CreateProduct = parse(body_value(&mut req).await?)?;
    let (name, description) = request.checked()?;
    let row = ProductRow {
        id: random::id(IdKind::Product)?,
        merchant_id: caller.merchant_id.clone(),
        name,
        description,
        active: 1,
        created: clock::now_seconds(),
    };
    store::catalogue::insert_product(env, &row).await?;
    json(200, &row.view())
}

/// The merchant's product or price `id`.
async fn catalogued<T: DeserializeOwned>(
    env: &Env,
    caller: &Caller,
    kind: Catalogued,
    id: &str,
) -> Result<T, ApiError> {
    let (id_kind, missing) = match kind {
        Catalogued::Products => (IdKind::Product, missing_product()),
        Catalogued::Prices => (IdKind::Price, missing_price()),
    };
    if !ids::is_valid(id_kind, id) {
        return Err(missing);
    }
    store::catalogue::find(env, kind, &caller.merchant_id, id)
        .await?
        .ok_or(missing)
}

/// Archives or brings back the merchant's product or price `id`: the row as it is now.
async fn set_active<T: DeserializeOwned>(
    mut req: Request,
    env: &Env,
    caller: &Caller,
    kind: Catalogued,
    id: &str,
) -> Result<T, ApiError> {
    let request: SetActive = parse(body_value(&mut req).await?)?;
    catalogued::<T>(env, caller, kind, id).await?;
    store::catalogue::set_active(env, kind, &caller.merchant_id, id, request.active).await?;
    catalogued(env, caller, kind, id).await
}

/// Refuses a list's `starting_after` that names none of the merchant's rows.
async fn check_cursor(
    env: &Env,
    caller: &Caller,
    kind: Catalogued,
    starting_after: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(id) = starting_after {
        let found: Option<serde_json::Value> =
            store::catalogue::find(env, kind, &caller.merchant_id, id).await?;
        found.ok_or_else(ApiError::cursor_invalid)?;
    }
    Ok(())
}

/// `GET /v1/products/:id`.
pub async fn retrieve_product(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let row: ProductRow = catalogued(env, caller, Catalogued::Products, id).await?;
    json(200, &row.view())
}

/// `POST /v1/products/:id {active}`.
pub async fn update_product(req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let row: ProductRow = set_active(req, env, caller, Catalogued::Products, id).await?;
    json(200, &row.view())
}

/// `GET /v1/products?active=&limit=&starting_after=`: newest first.
pub async fn list_products(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let page = page_param(&req, IdKind::Product)?;
    check_cursor(
        env,
        caller,
        Catalogued::Products,
        page.starting_after.as_deref(),
    )
    .await?;
    let filter = CatalogueFilter {
        active: active_param(&req)?,
        product: None,
        starting_after: page.starting_after.as_deref(),
        limit: page.limit + 1,
    };
    let rows: Vec<ProductRow> =
        store::catalogue::list(env, Catalogued::Products, &caller.merchant_id, &filter).await?;
    let products = rows.iter().map(ProductRow::view).collect();
    json(200, &List::page(products, page.limit))
}

/// `POST /v1/prices {product, unit_amount, currency, interval, interval_count?, trial_days?}`.
pub async fn create_price(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: CreatePrice = parse(body_value(&mut req).await?)?;
    let (amount, recurrence) = request.checked()?;
    let missing = || missing_product().with_param("product");
    if !ids::is_valid(IdKind::Product, &request.product) {
        return Err(missing());
    }
    let row = PriceRow {
        id: random::id(IdKind::Price)?,
        merchant_id: caller.merchant_id.clone(),
        product_id: request.product.clone(),
        unit_amount: amount.amount,
        currency: amount.currency,
        interval: recurrence.interval().as_str().to_string(),
        interval_count: i64::from(recurrence.count()),
        trial_days: request.trial_days.map(i64::from),
        active: 1,
        created: clock::now_seconds(),
    };
    if !store::catalogue::insert_price(env, &row).await? {
        // Not the merchant's product, or archived: say which, for the second.
        let product: Option<ProductRow> = store::catalogue::find(
            env,
            Catalogued::Products,
            &caller.merchant_id,
            &request.product,
        )
        .await?;
        return Err(match product {
            Some(_) => ApiError::new(ErrorCode::ParameterInvalid)
                .with_message("The product is archived: it takes no new prices.")
                .with_param("product"),
            None => missing(),
        });
    }
    json(200, &row.view()?)
}

/// `GET /v1/prices/:id`.
pub async fn retrieve_price(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let row: PriceRow = catalogued(env, caller, Catalogued::Prices, id).await?;
    json(200, &row.view()?)
}

/// `POST /v1/prices/:id {active}`.
pub async fn update_price(req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let row: PriceRow = set_active(req, env, caller, Catalogued::Prices, id).await?;
    json(200, &row.view()?)
}

/// `GET /v1/prices?product=&active=&limit=&starting_after=`: newest first.
pub async fn list_prices(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let page = page_param(&req, IdKind::Price)?;
    let product = query_param(&req, "product");
    if product
        .as_deref()
        .is_some_and(|id| !ids::is_valid(IdKind::Product, id))
    {
        return Err(ApiError::new(ErrorCode::ParameterInvalid)
            .with_message("product is a product id (prod_...).")
            .with_param("product"));
    }
    check_cursor(
        env,
        caller,
        Catalogued::Prices,
        page.starting_after.as_deref(),
    )
    .await?;
    let filter = CatalogueFilter {
        active: active_param(&req)?,
        product: product.as_deref(),
        starting_after: page.starting_after.as_deref(),
        limit: page.limit + 1,
    };
    let rows: Vec<PriceRow> =
        store::catalogue::list(env, Catalogued::Prices, &caller.merchant_id, &filter).await?;
    let prices = rows
        .iter()
        .map(PriceRow::view)
        .collect::<Result<Vec<_>, _>>()?;
    json(200, &List::page(prices, page.limit))
}
