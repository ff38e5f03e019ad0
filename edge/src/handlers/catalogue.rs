//! The subscription catalogue: `POST/GET /v1/products`, `GET /v1/products/:id`,
//! `POST /v1/products/:id {active}`, and the same for `/v1/prices` (a price names an active
//! product of the merchant's). Nothing is deleted; archiving (`active: false`) keeps what
//! subscriptions and invoices refer to.

use crate::auth::Caller;
use crate::http::{body_value, json, page_param, parse, query_param, ApiResult};
use crate::store::catalogue::{CatalogueFilter, PriceRow, ProductRow};
use crate::store::{self};
use crate::{clock, random};
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

async fn product(env: &Env, caller: &Caller, id: &str) -> Result<ProductRow, ApiError> {
    if !ids::is_valid(IdKind::Product, id) {
        return Err(missing_product());
    }
    store::catalogue::find_product(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing_product)
}

/// `GET /v1/products/:id`.
pub async fn retrieve_product(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    json(200, &product(env, caller, id).await?.view())
}

/// `POST /v1/products/:id {active}`.
pub async fn update_product(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let request: SetActive = parse(body_value(&mut req).await?)?;
    product(env, caller, id).await?;
    if !store::catalogue::set_product_active(env, &caller.merchant_id, id, request.active).await? {
        return Err(missing_product());
    }
    json(200, &product(env, caller, id).await?.view())
}

/// `GET /v1/products?active=&limit=&starting_after=`: newest first.
pub async fn list_products(req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let page = page_param(&req, IdKind::Product)?;
    if let Some(id) = &page.starting_after {
        store::catalogue::find_product(env, &caller.merchant_id, id)
            .await?
            .ok_or_else(ApiError::cursor_invalid)?;
    }
    let filter = CatalogueFilter {
        active: active_param(&req)?,
        product: None,
        starting_after: page.starting_after.as_deref(),
        limit: page.limit + 1,
    };
    let rows = store::catalogue::list_products(env, &caller.merchant_id, &filter).await?;
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
        return Err(
            match store::catalogue::find_product(env, &caller.merchant_id, &request.product).await?
            {
                Some(_) => ApiError::new(ErrorCode::ParameterInvalid)
                    .with_message("The product is archived: it takes no new prices.")
                    .with_param("product"),
                None => missing(),
            },
        );
    }
    json(200, &row.view()?)
}

async fn price(env: &Env, caller: &Caller, id: &str) -> Result<PriceRow, ApiError> {
    if !ids::is_valid(IdKind::Price, id) {
        return Err(missing_price());
    }
    store::catalogue::find_price(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing_price)
}

/// `GET /v1/prices/:id`.
pub async fn retrieve_price(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    json(200, &price(env, caller, id).await?.view()?)
}

/// `POST /v1/prices/:id {active}`.
pub async fn update_price(mut req: Request, env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let request: SetActive = parse(body_value(&mut req).await?)?;
    price(env, caller, id).await?;
    if !store::catalogue::set_price_active(env, &caller.merchant_id, id, request.active).await? {
        return Err(missing_price());
    }
    json(200, &price(env, caller, id).await?.view()?)
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
    if let Some(id) = &page.starting_after {
        store::catalogue::find_price(env, &caller.merchant_id, id)
            .await?
            .ok_or_else(ApiError::cursor_invalid)?;
    }
    let filter = CatalogueFilter {
        active: active_param(&req)?,
        product: product.as_deref(),
        starting_after: page.starting_after.as_deref(),
        limit: page.limit + 1,
    };
    let rows = store::catalogue::list_prices(env, &caller.merchant_id, &filter).await?;
    let prices = rows
        .iter()
        .map(PriceRow::view)
        .collect::<Result<Vec<_>, _>>()?;
    json(200, &List::page(prices, page.limit))
}
