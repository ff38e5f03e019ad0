//! Currency conversion quotes: `POST /v1/fx_quotes` converts an amount at the day's reference
//! rate plus the markup and locks it (`lock_seconds`, 15 minutes by default); `GET /v1/fx_quotes/:id`
//! reads one back. The exact rate applied is kept with the quote.

use crate::auth::Caller;
use crate::http::{body_value, json, parse, ApiResult};
use crate::store::fx_quotes::FxQuoteRow;
use crate::{clock, fx_rates, random, store};
use till_core::api::Purpose;
use till_core::error::{ApiError, ErrorCode};
use till_core::fx::{
    convert, decimal_text, Converted, CreateFxQuote, Exact, QuotedAmount, RATE_DISPLAY_DIGITS,
};
use till_core::ids::{self, IdKind};
use till_core::money::Money;
use worker::{Env, Request};

/// What the quote locks for a checkout session: the session's amount and currency must be its
/// `to`, a checkout for the merchant (not a wallet top-up), and it must not have expired.
pub async fn lock_for_session(
    env: &Env,
    merchant_id: &str,
    id: &str,
    session: Money,
    purpose: Purpose,
    now: i64,
) -> Result<Converted, ApiError> {
    let missing = || ApiError::not_found("fx quote").with_param("fx_quote");
    if !ids::is_valid(IdKind::FxQuote, id) {
        return Err(missing());
    }
    let row = store::fx_quotes::find(env, merchant_id, id)
        .await?
        .ok_or_else(missing)?;
    if purpose != Purpose::Payment {
        return Err(ApiError::new(ErrorCode::ParameterInvalid)
            .with_message("Only a checkout paying the merchant can be made in another currency.")
            .with_param("fx_quote"));
    }
    if (row.to_amount, row.to_currency) != (session.amount, session.currency) {
        return Err(ApiError::new(ErrorCode::FxQuoteMismatch)
            .with_message(format!(
                "The quote converts to {} {}: the session's amount and currency must be those.",
                row.to_amount, row.to_currency
            ))
            .with_param("amount"));
    }
    if row.expires_at <= now {
        return Err(ApiError::new(ErrorCode::FxQuoteExpired).with_param("fx_quote"));
    }
    Ok(Converted {
        fx_quote: row.id.clone(),
        settlement: QuotedAmount {
            amount: row.from_amount,
            currency: row.from_currency,
        },
        rate: rate_text(&row)?,
        markup_bps: u32::try_from(row.markup_bps).map_err(|_| ApiError::internal())?,
        margin: row.margin,
        rates_date: row.rates_date.clone(),
        expires_at: row.expires_at,
    })
}

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
    let lifetime = request.lifetime()?;
    let now = clock::now_seconds();
    let quoted = fx_rates::for_quote(env, request.from, request.to, now).await?;
    let rate = quoted.rate;
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
        rates_date: quoted.date,
        rate_source: quoted.source.as_str().to_string(),
        expires_at: now + lifetime,
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
