//! Locked currency conversions in D1.

use super::{execute, first, int, text, StoreResult};
use serde::Deserialize;
use till_core::fx::{FxQuote, QuotedAmount, RateSource};
use till_core::money::Currency;
use worker::Env;

#[derive(Debug, Clone, Deserialize)]
pub struct FxQuoteRow {
    pub id: String,
    pub merchant_id: String,
    pub from_currency: Currency,
    pub from_amount: i64,
    pub to_currency: Currency,
    pub to_amount: i64,
    /// The exact rate applied, as the numerator and denominator of a reduced fraction.
    pub rate_numerator: String,
    pub rate_denominator: String,
    pub markup_bps: i64,
    pub margin: i64,
    pub rates_date: String,
    /// `intraday` or `reference` (`till_core::fx::RateSource`).
    pub rate_source: String,
    pub expires_at: i64,
    pub created: i64,
}

impl FxQuoteRow {
    /// As the API shows it; `rate` is the exact rate's decimal text.
    pub fn view(&self, rate: String) -> FxQuote {
        FxQuote {
            id: self.id.clone(),
            object: "fx_quote".into(),
            from: QuotedAmount {
                amount: self.from_amount,
                currency: self.from_currency,
            },
            to: QuotedAmount {
                amount: self.to_amount,
                currency: self.to_currency,
            },
            rate,
            markup_bps: u32::try_from(self.markup_bps).unwrap_or(0),
            margin: self.margin,
            rates_date: self.rates_date.clone(),
            rate_source: RateSource::parse(&self.rate_source).unwrap_or(RateSource::Reference),
            expires_at: self.expires_at,
            created: self.created,
        }
    }
}

pub async fn insert(env: &Env, q: &FxQuoteRow) -> StoreResult<()> {
    execute(
        env,
        "INSERT INTO fx_quotes (id, merchant_id, from_currency, from_amount, to_currency, \
         to_amount, rate_numerator, rate_denominator, markup_bps, margin, rates_date, \
         expires_at, created, rate_source) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        &[
            text(&q.id),
            text(&q.merchant_id),
            text(q.from_currency.code()),
            int(q.from_amount),
            text(q.to_currency.code()),
            int(q.to_amount),
            text(&q.rate_numerator),
            text(&q.rate_denominator),
            int(q.markup_bps),
            int(q.margin),
            text(&q.rates_date),
            int(q.expires_at),
            int(q.created),
            text(&q.rate_source),
        ],
    )
    .await
    .map(|_| ())
}

pub async fn find(env: &Env, merchant_id: &str, id: &str) -> StoreResult<Option<FxQuoteRow>> {
    first(
        env,
        "SELECT * FROM fx_quotes WHERE id = ?1 AND merchant_id = ?2",
        &[text(id), text(merchant_id)],
    )
    .await
}
