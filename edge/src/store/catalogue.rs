//! Products and prices in D1. Rows are never deleted: archiving clears `active`.

use super::{all, execute, first, int, opt_int, opt_text, text, StoreResult};
use serde::de::DeserializeOwned;
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

/// What a list asks for: only active (or only archived) rows, a product's prices, a page.
/// Lists are newest first in the order rows were written (`rowid`).
pub struct CatalogueFilter<'a> {
    pub active: Option<bool>,
    pub product: Option<&'a str>,
    /// The id of the last row of the previous page (it must exist: checked by the caller).
    pub starting_after: Option<&'a str>,
    pub limit: usize,
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

/// The two catalogue tables: what `find`, `set_active` and `list` work on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalogued {
    Products,
    Prices,
}

impl Catalogued {
    fn table(self) -> &'static str {
        match self {
            Catalogued::Products => "products",
            Catalogued::Prices => "prices",
        }
    }
}

/// A product or price of the merchant.
pub async fn find<T: DeserializeOwned>(
    env: &Env,
    kind: Catalogued,
    merchant_id: &str,
    id: &str,
) -> StoreResult<Option<T>> {
    first(
        env,
        &format!(
            "SELECT * FROM {} WHERE id = ?1 AND merchant_id = ?2",
            kind.table()
        ),
        &[text(id), text(merchant_id)],
    )
    .await
}

/// Archives or brings back a product or price; false when the merchant has no such one.
pub async fn set_active(
    env: &Env,
    kind: Catalogued,
    merchant_id: &str,
    id: &str,
    active: bool,
) -> StoreResult<bool> {
    execute(
        env,
        &format!(
            "UPDATE {} SET active = ?3 WHERE id = ?1 AND merchant_id = ?2",
            kind.table()
        ),
        &[text(id), text(merchant_id), int(i64::from(active))],
    )
    .await
    .map(|changed| changed == 1)
}

/// A page of the merchant's products or prices (`filter.product` applies to prices only).
pub async fn list<T: DeserializeOwned>(
    env: &Env,
    kind: Catalogued,
    merchant_id: &str,
    filter: &CatalogueFilter<'_>,
) -> StoreResult<Vec<T>> {
    let table = kind.table();
    let of_product = match kind {
        Catalogued::Prices => "AND (?5 IS NULL OR product_id = ?5)",
        Catalogued::Products => "AND ?5 IS NULL",
    };
    all(
        env,
        &format!(
            "SELECT * FROM {table} WHERE merchant_id = ?1 AND (?2 IS NULL OR active = ?2) \
             {of_product} \
             AND (?3 IS NULL OR rowid < (SELECT rowid FROM {table} WHERE id = ?3)) \
             ORDER BY rowid DESC LIMIT ?4"
        ),
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
