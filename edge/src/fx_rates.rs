//! The FX reference rates quotes are made from: the European Central Bank's
//! `eurofxref-daily.xml` at `FX_RATES_URL` (the ECB's address in production, the sandbox's
//! publisher locally), read by the core ([`ReferenceRates::parse_ecb`]) and refused when older
//! than `FX_MAX_RATE_AGE_SECONDS` (4 days by default: the ECB publishes on working days, and a
//! long weekend is 4). Any failure is "no rates now": a quote is never made from a guess.
//!
//! When `FX_INTRADAY_URL` is set, a quote first asks that feed for a live rate of its pair
//! (`?from=&to=`, answered `{from, to, rate, as_of}`); a feed that is down, slow, answers another
//! pair, or a rate older than [`till_core::fx::MAX_INTRADAY_AGE_SECONDS`] falls back to the
//! reference rates.

use crate::connectors::transport;
use till_core::error::ApiError;
use till_core::fx::{FxError, IntradayRate, Rate, RateSource, ReferenceRates, MAX_MARKUP_BPS};
use till_core::money::Currency;
use worker::{Env, Method};

const DEFAULT_MAX_AGE_SECONDS: i64 = 4 * 24 * 60 * 60;
/// The rate file is small; a source slower than this is treated as down.
const FETCH_TIMEOUT_MS: u64 = 3_000;

fn unavailable(why: impl std::fmt::Display) -> ApiError {
    crate::log_error!("fx rates unavailable: {why}");
    FxError::Stale {
        published: 0,
        max_age_seconds: 0,
    }
    .api_error()
}

fn number_var(env: &Env, name: &str) -> Option<i64> {
    env.var(name).ok()?.to_string().trim().parse().ok()
}

/// The current reference rates, fresh enough to quote from at `now`.
pub async fn current(env: &Env, now: i64) -> Result<ReferenceRates, ApiError> {
    let url = env
        .var("FX_RATES_URL")
        .map(|v| v.to_string())
        .map_err(|_| unavailable("FX_RATES_URL is not set"))?;
    let reply = transport::send(Method::Get, &url, &[], None, FETCH_TIMEOUT_MS)
        .await
        .map_err(unavailable)?;
    if reply.status != 200 {
        return Err(unavailable(format!("status {}", reply.status)));
    }
    let text = String::from_utf8(reply.body).map_err(|_| unavailable("not UTF-8"))?;
    let rates = ReferenceRates::parse_ecb(&text).map_err(unavailable)?;
    let max_age = number_var(env, "FX_MAX_RATE_AGE_SECONDS").unwrap_or(DEFAULT_MAX_AGE_SECONDS);
    rates.check_fresh(now, max_age).map_err(|stale| {
        crate::log_warn!("fx rates of {} are stale", rates.date);
        stale.api_error()
    })?;
    Ok(rates)
}

/// The rate a quote is made at, where it came from and the day of it.
pub struct QuoteRate {
    pub rate: Rate,
    pub source: RateSource,
    pub date: String,
}

/// The rate for `from` -> `to` now: live from the intraday feed when there is one and it
/// answers usably, else from the day's reference rates.
pub async fn for_quote(
    env: &Env,
    from: Currency,
    to: Currency,
    now: i64,
) -> Result<QuoteRate, ApiError> {
    if from == to {
        return Err(FxError::SameCurrency.api_error());
    }
    if let Ok(url) = env.var("FX_INTRADAY_URL") {
        match intraday(&url.to_string(), from, to, now).await {
            Ok((rate, date)) => {
                return Ok(QuoteRate {
                    rate,
                    source: RateSource::Intraday,
                    date,
                })
            }
            Err(why) => crate::log_warn!(
                "intraday rate {from}/{to} not used ({why}): quoting the reference rate"
            ),
        }
    }
    let rates = current(env, now).await?;
    Ok(QuoteRate {
        rate: rates.rate(from, to).map_err(|e| e.api_error())?,
        source: RateSource::Reference,
        date: rates.date.to_string(),
    })
}

async fn intraday(
    url: &str,
    from: Currency,
    to: Currency,
    now: i64,
) -> Result<(Rate, String), String> {
    let url = format!("{url}?from={from}&to={to}");
    let reply = transport::send(Method::Get, &url, &[], None, FETCH_TIMEOUT_MS)
        .await
        .map_err(|e| e.to_string())?;
    if reply.status != 200 {
        return Err(format!("status {}", reply.status));
    }
    let feed: IntradayRate =
        serde_json::from_slice(&reply.body).map_err(|_| "unreadable answer".to_string())?;
    let rate = feed.usable(from, to, now).map_err(str::to_string)?;
    Ok((rate, feed.date()))
}

/// The markup added to every quote, in basis points (`FX_MARKUP_BPS`, 0 to 1,000; 0 when unset
/// or out of range).
pub fn markup_bps(env: &Env) -> u32 {
    number_var(env, "FX_MARKUP_BPS")
        .and_then(|bps| u32::try_from(bps).ok())
        .filter(|bps| *bps <= MAX_MARKUP_BPS)
        .unwrap_or(0)
}
