//! Currency conversion quotes: `POST /v1/fx_quotes` converts an amount at the day's reference
//! rate plus the markup and locks it for [`QUOTE_LIFETIME_SECONDS`]; `GET /v1/fx_quotes/:id`
//! reads one back. The exact rate applied is kept with the quote.

use crate::auth::Caller;
use crate::http::{body_value, json, parse, ApiResult};
use crate::store::fx_quotes::FxQuoteRow;
use crate::{clock, fx_rates, random, store};
use till_core::error::ApiError;
use till_core::fx::{
    convert, decimal_text, CreateFxQuote, Exact, QUOTE_LIFETIME_SECONDS, RATE_DISPLAY_DIGITS,
};
use till_core::ids::{self, IdKind};
use worker::{Env, Request};

fn rate_text(row: &FxQuoteRow) -> Result<String, ApiError> {
    let part = |text: &str| text.parse::<i128>().ok().filter(|n| *n > 0);
    match (part(&row.rate_numerator), part(&row.rate_denominator)) {
        (Some(n), Some(d)) => Ok(decimal_text(Exact::new(n, d), RATE_DISPLAY_DIGITS)),
        _ => {
            crate::log_error!("fx quote {}: stored rate unreadable", row.id);
            Err(ApiError::internal())
        }
    }
}

/// `POST /v1/fx_quotes {from, to, amount}`.
pub async fn create(mut req: Request, env: &Env, caller: &Caller) -> ApiResult {
    let request: CreateFxQuote = parse(body_value(&mut req).await?)?;
    let now = clock::now_seconds();
    let rates = fx_rates::current(env, now).await?;
    let rate = rates
        .rate(request.from, request.to)
        .map_err(|e| e.api_error())?;
    let conversion =
        convert(request.amount, &rate, fx_rates::markup_bps(env)).map_err(|e| e.api_error())?;
    let row = FxQuoteRow {
        id: random::id(IdKind::FxQuote)?,
        merchant_id: caller.merchant_id.clone(),
        from_currency: request.from,
        from_amount: conversion.amount,
        to_currency: request.to,
        to_amount: conversion.converted,
        rate_numerator: rate.value().numer().to_string(),
        rate_denominator: rate.value().denom().to_string(),
        markup_bps: i64::from(conversion.markup_bps),
        margin: conversion.margin,
        rates_date: rates.date.to_string(),
        expires_at: now + QUOTE_LIFETIME_SECONDS,
        created: now,
    };
    store::fx_quotes::insert(env, &row).await?;
    json(200, &row.view(rate_text(&row)?))
}

/// `GET /v1/fx_quotes/:id`.
pub async fn retrieve(env: &Env, caller: &Caller, id: &str) -> ApiResult {
    let missing = || ApiError::not_found("fx quote");
    if !ids::is_valid(IdKind::FxQuote, id) {
        return Err(missing());
    }
    let row = store::fx_quotes::find(env, &caller.merchant_id, id)
        .await?
        .ok_or_else(missing)?;
    json(200, &row.view(rate_text(&row)?))
}
