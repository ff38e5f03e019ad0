//! Products and prices in D1. Rows are never deleted: archiving clears `active`.

use super::{all, execute, first, int, opt_int, opt_text, text, StoreResult};
use serde::Deserialize;
use till_core::billing_period::Interval;
use till_core::catalogue::{Price, Product, Recurring};
use till_core::error::ApiError;
use till_core::money::Currency;
use worker::Env;

#[derive(Debug, Clone, Deserialize)]
pub struct ProductRow {
    pub id: String,
    pub merchant_id: String,
    pub name: String,
    pub description: Option<String>,
    pub active: i64,
    pub created: i64,
}

impl ProductRow {
    pub fn view(&self) -> Product {
        Product {
            id: self.id.clone(),
            object: "product".into(),
            name: self.name.clone(),
            description: self.description.clone(),
            active: self.active == 1,
            created: self.created,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct PriceRow {
    pub id: String,
    pub merchant_id: String,
    pub product_id: String,
    pub unit_amount: i64,
    pub currency: Currency,
    pub interval: String,
    pub interval_count: i64,
    pub trial_days: Option<i64>,
    pub active: i64,
    pub created: i64,
}

impl PriceRow {
    pub fn view(&self) -> Result<Price, ApiError> {
        let corrupt = |what: &str| {
            crate::log_error!("price {}: stored {what} is invalid", self.id);
            ApiError::internal()
        };
        Ok(Price {
            id: self.id.clone(),
            object: "price".into(),
            product: self.product_id.clone(),
            unit_amount: self.unit_amount,
            currency: self.currency,
            recurring: Recurring {
                interval: Interval::parse(&self.interval).ok_or_else(|| corrupt("interval"))?,
                interval_count: u16::try_from(self.interval_count)
                    .map_err(|_| corrupt("interval_count"))?,
            },
            trial_days: self
                .trial_days
                .map(u16::try_from)
                .transpose()
                .map_err(|_| corrupt("trial_days"))?,
            active: self.active == 1,
            created: self.created,
        })
    }
}

pub async fn insert_product(env: &Env, p: &ProductRow) -> StoreResult<()> {
    execute(
        env,
        "INSERT INTO products (id, merchant_id, name, description, active, created) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            text(&p.id),
            text(&p.merchant_id),
            text(&p.name),
            opt_text(p.description.as_deref()),
            int(p.active),
            int(p.created),
        ],
    )
    .await
    .map(|_| ())
}

pub async fn find_product(
    env: &Env,
    merchant_id: &str,
    id: &str,
) -> StoreResult<Option<ProductRow>> {
    first(
        env,
        "SELECT * FROM products WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

/// Archives or brings back a product; false when the merchant has no such product.
pub async fn set_product_active(
    env: &Env,
    merchant_id: &str,
    id: &str,
    active: bool,
) -> StoreResult<bool> {
    execute(
        env,
        "UPDATE products SET active = ?3 WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id), int(i64::from(active))],
    )
    .await
    .map(|changed| changed == 1)
}

/// What a list asks for: only active (or only archived) rows, a product's prices, a page.
/// Lists are newest first in the order rows were written (`rowid`).
pub struct CatalogueFilter<'a> {
    pub active: Option<bool>,
    pub product: Option<&'a str>,
    /// The id of the last row of the previous page (it must exist: checked by the caller).
    pub starting_after: Option<&'a str>,
    pub limit: usize,
}

pub async fn list_products(
    env: &Env,
    merchant_id: &str,
    filter: &CatalogueFilter<'_>,
) -> StoreResult<Vec<ProductRow>> {
    all(
        env,
        "SELECT * FROM products WHERE merchant_id = ?1 AND (?2 IS NULL OR active = ?2) \
         AND (?3 IS NULL OR rowid < (SELECT rowid FROM products WHERE id = ?3)) \
         ORDER BY rowid DESC LIMIT ?4",
        &[
            text(merchant_id),
            opt_int(filter.active.map(i64::from)),
            opt_text(filter.starting_after),
            int(i64::try_from(filter.limit).unwrap_or(100)),
        ],
    )
    .await
}

/// Records a price of an active product of the merchant; false (nothing written) when the
/// product is archived or not the merchant's.
pub async fn insert_price(env: &Env, p: &PriceRow) -> StoreResult<bool> {
    execute(
        env,
        "INSERT INTO prices (id, merchant_id, product_id, unit_amount, currency, interval, \
         interval_count, trial_days, active, created) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 \
         WHERE EXISTS (SELECT 1 FROM products WHERE id = ?3 AND merchant_id = ?2 AND active = 1)",
        &[
            text(&p.id),
            text(&p.merchant_id),
            text(&p.product_id),
            int(p.unit_amount),
            text(p.currency.code()),
            text(&p.interval),
            int(p.interval_count),
            opt_int(p.trial_days),
            int(p.active),
            int(p.created),
        ],
    )
    .await
    .map(|changed| changed == 1)
}

pub async fn find_price(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<PriceRow>> {
    first(
        env,
        "SELECT * FROM prices WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}

/// Archives or brings back a price; false when the merchant has no such price.
pub async fn set_price_active(
    env: &Env,
    merchant_id: &str,
    id: &str,
    active: bool,
) -> StoreResult<bool> {
    execute(
        env,
        "UPDATE prices SET active = ?3 WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id), int(i64::from(active))],
    )
    .await
    .map(|changed| changed == 1)
}

pub async fn list_prices(
    env: &Env,
    merchant_id: &str,
    filter: &CatalogueFilter<'_>,
) -> StoreResult<Vec<PriceRow>> {
    all(
        env,
        "SELECT * FROM prices WHERE merchant_id = ?1 AND (?2 IS NULL OR active = ?2) \
         AND (?5 IS NULL OR product_id = ?5) \
         AND (?3 IS NULL OR rowid < (SELECT rowid FROM prices WHERE id = ?3)) \
         ORDER BY rowid DESC LIMIT ?4",
        &[
            text(merchant_id),
            opt_int(filter.active.map(i64::from)),
            opt_text(filter.starting_after),
            int(i64::try_from(filter.limit).unwrap_or(100)),
            opt_text(filter.product),
        ],
    )
    .await
}
