//! Currency conversion that never loses a minor unit.
//!
//! - **Rates are exact decimal rationals** ([`Rate`], a reduced fraction of `i128`), read from
//!   the decimal text a rate source publishes (`1216.36` is 121636/100), never floats. The
//!   European Central Bank's daily reference rates ([`ReferenceRates::parse_ecb`], its
//!   `eurofxref-daily.xml`) quote every currency against the euro; a cross rate (KRW per USD)
//!   is the exact quotient of two of them.
//! - **One rounding rule, in one place**: an amount is converted exactly in minor units (each
//!   currency's ISO 4217 exponent: 0 for JPY and KRW, 2 for USD, 3 for BHD), markup included,
//!   and rounded once, half to even ([`round_half_even`]), by [`convert`].
//! - **Parts add up to the whole**: a part of a converted amount (a partial refund at the
//!   original rate) is the rounded cumulative share less what earlier parts took
//!   ([`next_share`]), so any split of the original converts to parts whose sum is exactly
//!   the converted whole.
//! - **Stale rates refuse**: rates older than the caller's limit quote nothing
//!   ([`ReferenceRates::check_fresh`]).

use crate::ledger::ConvertedLegs;
use crate::money::{Currency, Money, MAX_AMOUNT_MINOR};
use num_rational::Ratio;
use num_traits::{CheckedMul, One, Signed};
use std::collections::BTreeMap;
use std::fmt;

/// An exact amount or rate.
pub type Exact = Ratio<i128>;

/// Basis points in a whole (markups are given in basis points: 150 is 1.5 %).
pub const BPS: i128 = 10_000;
/// The largest markup a merchant may add: 10 %.
pub const MAX_MARKUP_BPS: u32 = 1_000;

/// Why a conversion or a rate cannot be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FxError {
    /// The rate source has no rate for this currency.
    NoRate(Currency),
    /// The rates are older than allowed: no new quote is made from them.
    Stale {
        published: i64,
        max_age_seconds: i64,
    },
    /// Not a positive amount within [`MAX_AMOUNT_MINOR`].
    AmountInvalid,
    /// The amount converts to less than one minor unit of the other currency.
    AmountTooSmall,
    /// The converted amount is above [`MAX_AMOUNT_MINOR`].
    AmountTooLarge,
    /// A markup above [`MAX_MARKUP_BPS`].
    MarkupInvalid,
    /// The same currency on both sides: nothing to convert.
    SameCurrency,
}

impl fmt::Display for FxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FxError::NoRate(currency) => write!(f, "there is no exchange rate for {currency}"),
            FxError::Stale { .. } => f.write_str("the exchange rates are out of date"),
            FxError::AmountInvalid => {
                f.write_str("amount must be a positive integer in minor units within the maximum")
            }
            FxError::AmountTooSmall => {
                f.write_str("the amount converts to less than one minor unit")
            }
            FxError::AmountTooLarge => f.write_str("the converted amount exceeds the maximum"),
            FxError::MarkupInvalid => {
                write!(f, "markup is 0 to {MAX_MARKUP_BPS} basis points")
            }
            FxError::SameCurrency => f.write_str("from and to are the same currency"),
        }
    }
}

/// Why a rate file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RatesError {
    NotXml,
    /// No `Cube` with a `time` attribute (`YYYY-MM-DD`).
    NoDate,
    /// A rate that is not a positive decimal (or a currency listed twice).
    BadRate(String),
    /// None of the listed currencies is one Till supports.
    NoRates,
}

impl fmt::Display for RatesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RatesError::NotXml => f.write_str("not an XML document"),
            RatesError::NoDate => f.write_str("no dated rates (Cube time='YYYY-MM-DD')"),
            RatesError::BadRate(currency) => write!(f, "the rate of {currency} is unreadable"),
            RatesError::NoRates => f.write_str("no rate for a currency Till supports"),
        }
    }
}

/// The most digits a published rate has on each side of the point (ECB publishes at most 6
/// significant digits; intraday sources a few more).
const MAX_RATE_DIGITS: usize = 12;

/// A positive decimal as published (`1216.36`, `0.86753`, `120`), exactly; `None` for anything
/// else (signs, exponents, separators, more than 12 digits on a side, zero).
pub fn parse_decimal(text: &str) -> Option<Exact> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits =
        |part: &str| part.len() <= MAX_RATE_DIGITS && part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || text.ends_with('.') {
        return None;
    }
    let scale = 10i128.pow(u32::try_from(fraction.len()).ok()?);
    let units: i128 = format!("{whole}{fraction}").parse().ok()?;
    (units > 0).then(|| Exact::new(units, scale))
}

/// `value` as decimal text with at most `digits` decimals, half to even (how a rate is shown:
/// the exact fraction stays what is used).
pub fn decimal_text(value: Exact, digits: u32) -> String {
    let scale = 10i128.pow(digits);
    let scaled = round_half_even(value * Exact::from_integer(scale));
    let sign = if scaled < 0 { "-" } else { "" };
    let magnitude = scaled.unsigned_abs();
    let scale = scale.unsigned_abs();
    let (whole, fraction) = (magnitude / scale, magnitude % scale);
    if digits == 0 {
        return format!("{sign}{whole}");
    }
    let fraction = format!("{fraction:0width$}", width = digits as usize);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

/// The one rounding rule: to the nearest integer, a tie to the even one (banker's rounding, so
/// ties do not drift one way over many conversions).
pub fn round_half_even(value: Exact) -> i128 {
    let floor = value.floor();
    let remainder = value - floor;
    let half = Exact::new(1, 2);
    let lower = *floor.numer() / *floor.denom();
    if remainder > half || (remainder == half && lower % 2 != 0) {
        lower + 1
    } else {
        lower
    }
}

/// How many units of `quote` one unit of `base` buys (major units), exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub base: Currency,
    pub quote: Currency,
    value: Exact,
}

impl Rate {
    /// `None` unless `value` is positive.
    pub fn new(base: Currency, quote: Currency, value: Exact) -> Option<Rate> {
        value.is_positive().then_some(Rate { base, quote, value })
    }

    pub fn value(&self) -> Exact {
        self.value
    }

    /// The other way round, exactly.
    pub fn inverse(&self) -> Rate {
        Rate {
            base: self.quote,
            quote: self.base,
            value: self.value.recip(),
        }
    }

    /// Minor units of `quote` per minor unit of `base`: the rate with both exponents applied.
    fn per_minor_unit(&self) -> Option<Exact> {
        let shift = i32::from(self.quote.exponent()) - i32::from(self.base.exponent());
        let power = Exact::from_integer(10i128.pow(shift.unsigned_abs()));
        if shift >= 0 {
            self.value.checked_mul(&power)
        } else {
            Some(self.value / power)
        }
    }
}

/// A day's reference rates: units of each currency per one euro.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceRates {
    /// The day they are for (`YYYY-MM-DD`).
    pub date: time::Date,
    per_euro: BTreeMap<Currency, Exact>,
}

/// The ECB publishes its reference rates at about 16:00 Central European Time: 14:00 UTC is
/// the earliest that is (summer time), so a day's rates are aged from then.
const PUBLISHED_SECONDS_AFTER_MIDNIGHT_UTC: i64 = 14 * 60 * 60;

impl ReferenceRates {
    /// Rates against the euro for `date` (the euro itself is 1 and need not be listed).
    pub fn new(date: time::Date, per_euro: BTreeMap<Currency, Exact>) -> ReferenceRates {
        ReferenceRates { date, per_euro }
    }

    /// Reads the ECB's `eurofxref-daily.xml`: the first `Cube` with a `time` is the day, its
    /// `Cube currency='…' rate='…'` children the rates. Currencies Till does not support are
    /// skipped; an unreadable rate of one it supports refuses the whole file (a rate must never
    /// be guessed).
    pub fn parse_ecb(xml: &str) -> Result<ReferenceRates, RatesError> {
        let document = roxmltree::Document::parse(xml).map_err(|_| RatesError::NotXml)?;
        let day = document
            .descendants()
            .find(|n| n.has_tag_name((ECB_NAMESPACE, "Cube")) && n.has_attribute("time"))
            .ok_or(RatesError::NoDate)?;
        let date = day
            .attribute("time")
            .and_then(parse_date)
            .ok_or(RatesError::NoDate)?;
        let mut per_euro = BTreeMap::new();
        for cube in day
            .children()
            .filter(|n| n.has_tag_name((ECB_NAMESPACE, "Cube")))
        {
            let (Some(code), Some(rate)) = (cube.attribute("currency"), cube.attribute("rate"))
            else {
                continue;
            };
            let Ok(currency) = Currency::parse(code) else {
                continue;
            };
            let rate = parse_decimal(rate).ok_or_else(|| RatesError::BadRate(code.into()))?;
            if per_euro.insert(currency, rate).is_some() {
                return Err(RatesError::BadRate(code.into()));
            }
        }
        if per_euro.is_empty() {
            return Err(RatesError::NoRates);
        }
        Ok(ReferenceRates { date, per_euro })
    }

    /// The currencies it has a rate for, the euro included.
    pub fn currencies(&self) -> Vec<Currency> {
        let mut all: Vec<Currency> = self.per_euro.keys().copied().collect();
        if let Ok(euro) = Currency::parse("EUR") {
            if !all.contains(&euro) {
                all.push(euro);
                all.sort();
            }
        }
        all
    }

    fn per_euro(&self, currency: Currency) -> Result<Exact, FxError> {
        if currency.code() == "EUR" {
            return Ok(Exact::one());
        }
        self.per_euro
            .get(&currency)
            .copied()
            .ok_or(FxError::NoRate(currency))
    }

    /// Units of `to` per unit of `from`, through the euro, exactly.
    pub fn rate(&self, from: Currency, to: Currency) -> Result<Rate, FxError> {
        if from == to {
            return Err(FxError::SameCurrency);
        }
        let value = self.per_euro(to)? / self.per_euro(from)?;
        Rate::new(from, to, value).ok_or(FxError::NoRate(to))
    }

    /// Unix seconds at which these rates were published (the earliest it can have been).
    pub fn published(&self) -> i64 {
        let midnight = self.date.midnight().assume_utc().unix_timestamp();
        midnight + PUBLISHED_SECONDS_AFTER_MIDNIGHT_UTC
    }

    /// Refuses rates published more than `max_age_seconds` before `now`.
    pub fn check_fresh(&self, now: i64, max_age_seconds: i64) -> Result<(), FxError> {
        let published = self.published();
        if now.saturating_sub(published) > max_age_seconds {
            Err(FxError::Stale {
                published,
                max_age_seconds,
            })
        } else {
            Ok(())
        }
    }
}

/// How long after it was taken an intraday rate may be quoted from.
pub const MAX_INTRADAY_AGE_SECONDS: i64 = 5 * 60;
/// How far ahead of Till's clock a feed's clock may be.
const CLOCK_SKEW_SECONDS: i64 = 60;

/// Where a quote's rate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateSource {
    /// A live rate for the pair from the intraday feed.
    Intraday,
    /// The day's reference rates (the feed was not configured or not usable).
    Reference,
}

impl RateSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RateSource::Intraday => "intraday",
            RateSource::Reference => "reference",
        }
    }

    pub fn parse(text: &str) -> Option<RateSource> {
        match text {
            "intraday" => Some(RateSource::Intraday),
            "reference" => Some(RateSource::Reference),
            _ => None,
        }
    }
}

/// One pair's rate from an intraday feed (`{from, to, rate, as_of}`; other members ignored).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct IntradayRate {
    pub from: Currency,
    pub to: Currency,
    /// Units of `to` per unit of `from`, as decimal text.
    pub rate: String,
    /// Unix seconds when it was taken.
    pub as_of: i64,
}

impl IntradayRate {
    /// The rate, if it is for `from` -> `to`, a positive decimal, and was taken at most
    /// [`MAX_INTRADAY_AGE_SECONDS`] before `now` (and not in the future beyond clock skew);
    /// otherwise why not. A rate is never guessed: anything else falls back to the reference
    /// rates.
    pub fn usable(&self, from: Currency, to: Currency, now: i64) -> Result<Rate, &'static str> {
        if (self.from, self.to) != (from, to) {
            return Err("the feed answered for another pair");
        }
        if self.as_of < now - MAX_INTRADAY_AGE_SECONDS || self.as_of > now + CLOCK_SKEW_SECONDS {
            return Err("the rate is not current");
        }
        let value = parse_decimal(&self.rate).ok_or("the rate is not a positive decimal")?;
        Rate::new(from, to, value).ok_or("the rate is not positive")
    }

    /// The UTC day it was taken (`YYYY-MM-DD`), as quotes date their rates.
    pub fn date(&self) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.as_of)
            .map(|t| t.date().to_string())
            .unwrap_or_default()
    }
}

/// The namespace of the ECB's rate elements.
const ECB_NAMESPACE: &str = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref";

/// A `YYYY-MM-DD` calendar day (how rate files date their rates).
pub fn parse_date(text: &str) -> Option<time::Date> {
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()
}

/// An amount converted: what was asked, what it became, and the merchant's margin in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversion {
    /// Minor units of `rate.base`.
    pub amount: i64,
    /// Minor units of `rate.quote`, markup included, rounded once.
    pub converted: i64,
    pub rate: Rate,
    pub markup_bps: u32,
    /// What the markup added, in minor units of `rate.quote`: `converted` less the amount
    /// converted at the bare rate (each rounded by the same rule).
    pub margin: i64,
}

/// `amount` minor units of `rate.base` in minor units of `rate.quote`, with `markup_bps` added
/// (the customer pays the rate plus the markup): exact until one half-even rounding.
pub fn convert(amount: i64, rate: &Rate, markup_bps: u32) -> Result<Conversion, FxError> {
    if !(1..=MAX_AMOUNT_MINOR).contains(&amount) {
        return Err(FxError::AmountInvalid);
    }
    if markup_bps > MAX_MARKUP_BPS {
        return Err(FxError::MarkupInvalid);
    }
    let factor = rate.per_minor_unit().ok_or(FxError::AmountTooLarge)?;
    let bare = Exact::from_integer(i128::from(amount))
        .checked_mul(&factor)
        .ok_or(FxError::AmountTooLarge)?;
    let marked = bare
        .checked_mul(&Exact::new(BPS + i128::from(markup_bps), BPS))
        .ok_or(FxError::AmountTooLarge)?;
    let to_minor = |value: Exact| -> Result<i64, FxError> {
        let rounded = round_half_even(value);
        if rounded < 1 {
            return Err(FxError::AmountTooSmall);
        }
        i64::try_from(rounded)
            .ok()
            .filter(|v| *v <= MAX_AMOUNT_MINOR)
            .ok_or(FxError::AmountTooLarge)
    };
    let converted = to_minor(marked)?;
    let at_rate = to_minor(bare)?;
    Ok(Conversion {
        amount,
        converted,
        rate: *rate,
        markup_bps,
        margin: converted - at_rate,
    })
}

/// The part of `converted_whole` that `part` of `whole` is, rounded by the one rule: what a
/// partial capture of a converted payment settles as, or what a dispute of part of it takes.
/// `None` unless `0 <= part <= whole` and `whole > 0`.
pub fn proportion(part: i64, whole: i64, converted_whole: i64) -> Option<i64> {
    if whole <= 0 || part < 0 || part > whole || converted_whole < 0 {
        return None;
    }
    let exact = Exact::new(i128::from(converted_whole), i128::from(whole))
        .checked_mul(&Exact::from_integer(i128::from(part)))?;
    i64::try_from(round_half_even(exact)).ok()
}

/// What the next refund of a converted payment takes in the other currency, at the original
/// rate: the rounded share of everything refunded once it is done (`refunded_after` of
/// `whole`) less what earlier refunds took (`converted_taken`), never below zero. So refunds
/// add up to `converted_whole` exactly when the whole is refunded, however it was split and
/// whichever refunds failed and were given back in between, and never to more. `None` when
/// the figures do not fit.
pub fn next_share(
    refunded_after: i64,
    whole: i64,
    converted_whole: i64,
    converted_taken: i64,
) -> Option<i64> {
    if !(0..=converted_whole).contains(&converted_taken) {
        return None;
    }
    let cumulative = proportion(refunded_after, whole, converted_whole)?;
    Some((cumulative - converted_taken).max(0))
}

/// How long a quote holds its rate unless asked otherwise: what the customer is shown is what
/// they pay until then.
pub const QUOTE_LIFETIME_SECONDS: i64 = 15 * 60;
/// The longest a quote may hold its rate: Till carries the market's moves meanwhile.
pub const MAX_QUOTE_LIFETIME_SECONDS: i64 = 60 * 60;
/// Decimals of a rate as the API shows it (the exact fraction is what is applied).
pub const RATE_DISPLAY_DIGITS: u32 = 10;

/// `POST /v1/fx_quotes`: what `amount` of `from` (minor units) costs in `to`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateFxQuote {
    pub from: Currency,
    pub to: Currency,
    pub amount: i64,
    /// How long the rate holds, 1 to [`MAX_QUOTE_LIFETIME_SECONDS`] (default
    /// [`QUOTE_LIFETIME_SECONDS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_seconds: Option<i64>,
}

impl CreateFxQuote {
    /// How long the quote holds, or why the asked duration is refused.
    pub fn lifetime(&self) -> Result<i64, crate::error::ApiError> {
        match self.lock_seconds {
            None => Ok(QUOTE_LIFETIME_SECONDS),
            Some(seconds) if (1..=MAX_QUOTE_LIFETIME_SECONDS).contains(&seconds) => Ok(seconds),
            Some(_) => Err(
                crate::error::ApiError::new(crate::error::ErrorCode::ParameterInvalid)
                    .with_message(format!(
                        "lock_seconds is 1 to {MAX_QUOTE_LIFETIME_SECONDS} seconds."
                    ))
                    .with_param("lock_seconds"),
            ),
        }
    }
}

/// An amount in one currency, as quotes show both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QuotedAmount {
    pub amount: i64,
    pub currency: Currency,
}

/// A locked conversion, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FxQuote {
    pub id: String,
    pub object: String,
    /// What the merchant asked to convert (its prices' currency).
    pub from: QuotedAmount,
    /// What the customer pays, markup included.
    pub to: QuotedAmount,
    /// Units of `to` per unit of `from` at the reference rate, to [`RATE_DISPLAY_DIGITS`].
    pub rate: String,
    pub markup_bps: u32,
    /// What the markup adds, in minor units of `to`.
    pub margin: i64,
    /// The day of the rates used (`YYYY-MM-DD`).
    pub rates_date: String,
    /// Whether the rate was a live intraday one or the day's reference rate.
    pub rate_source: RateSource,
    /// Unix seconds: the quote is not honoured after this.
    pub expires_at: i64,
    pub created: i64,
}

/// What a quote locked for a checkout in the customer's currency, as its checkout session and
/// payment show it: the customer pays the session's (the payment's) amount and currency, and
/// the merchant is settled `settlement`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Converted {
    pub fx_quote: String,
    /// What the merchant receives for the whole amount (before fees), in its own currency.
    pub settlement: QuotedAmount,
    /// Units of the customer's currency per unit of the merchant's at the reference rate, to
    /// [`RATE_DISPLAY_DIGITS`]; the markup comes on top.
    pub rate: String,
    pub markup_bps: u32,
    /// What the markup added, in minor units of the customer's currency.
    pub margin: i64,
    /// The day of the reference rates used (`YYYY-MM-DD`).
    pub rates_date: String,
    /// Unix seconds: a checkout confirmed after this asks for a new quote.
    pub expires_at: i64,
}

/// What a converted payment's refunds have taken so far: of what the card paid, of the
/// merchant's settlement, and of the FX margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Taken {
    pub presentment: i64,
    pub settlement: i64,
    pub margin: i64,
}

impl Converted {
    /// The legs of capturing `captured` of the payment's `amount` of `currency` (what the
    /// card paid): a partial capture settles its proportion of the quote.
    pub fn captured_legs(
        &self,
        currency: Currency,
        amount: i64,
        captured: i64,
    ) -> Option<ConvertedLegs> {
        Some(ConvertedLegs {
            presentment: Money {
                amount: captured,
                currency,
            },
            margin: proportion(captured, amount, self.margin)?,
            settlement: Money {
                amount: proportion(captured, amount, self.settlement.amount)?,
                currency: self.settlement.currency,
            },
        })
    }
}

/// The legs of refunding `refund` of a converted payment whose capture was `captured`, after
/// earlier refunds `taken`: at the original rate, cumulatively ([`next_share`]), so refunding
/// everything gives back exactly what the capture booked. `None` beyond the capture.
pub fn refund_legs(captured: &ConvertedLegs, refund: i64, taken: Taken) -> Option<ConvertedLegs> {
    let whole = captured.presentment.amount;
    let after = taken
        .presentment
        .checked_add(refund)
        .filter(|a| *a <= whole)?;
    if refund <= 0 {
        return None;
    }
    Some(ConvertedLegs {
        presentment: Money {
            amount: refund,
            currency: captured.presentment.currency,
        },
        margin: next_share(after, whole, captured.margin, taken.margin)?.min(refund),
        settlement: Money {
            amount: next_share(after, whole, captured.settlement.amount, taken.settlement)?,
            currency: captured.settlement.currency,
        },
    })
}

/// The legs of `part` of a converted payment's capture at its proportion (what a dispute
/// takes, and gives back when the merchant wins).
pub fn part_legs(captured: &ConvertedLegs, part: i64) -> Option<ConvertedLegs> {
    let whole = captured.presentment.amount;
    if part <= 0 {
        return None;
    }
    Some(ConvertedLegs {
        presentment: Money {
            amount: part,
            currency: captured.presentment.currency,
        },
        margin: proportion(part, whole, captured.margin)?,
        settlement: Money {
            amount: proportion(part, whole, captured.settlement.amount)?,
            currency: captured.settlement.currency,
        },
    })
}

impl FxError {
    /// The API's answer to it.
    pub fn api_error(&self) -> crate::error::ApiError {
        use crate::error::{ApiError, ErrorCode};
        match self {
            FxError::NoRate(_) => ApiError::new(ErrorCode::CurrencyNotQuoted)
                .with_message(format!("{self}."))
                .with_param("to"),
            FxError::Stale { .. } => ApiError::new(ErrorCode::FxRatesUnavailable),
            FxError::SameCurrency => ApiError::new(ErrorCode::ParameterInvalid)
                .with_message("from and to must be different currencies.")
                .with_param("to"),
            FxError::MarkupInvalid => ApiError::internal(),
            FxError::AmountInvalid | FxError::AmountTooSmall | FxError::AmountTooLarge => {
                ApiError::new(ErrorCode::AmountInvalid)
                    .with_message(format!("{self}."))
                    .with_param("amount")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ECB_2017_03_08: &str = include_str!("../testdata/eurofxref-daily-2017-03-08.xml");

    fn c(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn x(n: i128, d: i128) -> Exact {
        Exact::new(n, d)
    }

    fn ecb() -> ReferenceRates {
        ReferenceRates::parse_ecb(ECB_2017_03_08).unwrap()
    }

    #[test]
    fn the_real_ecb_file_is_read_exactly() {
        let rates = ecb();
        assert_eq!(rates.date.to_string(), "2017-03-08");
        assert_eq!(rates.per_euro(c("USD")), Ok(x(10_556, 10_000)));
        assert_eq!(rates.per_euro(c("KRW")), Ok(x(121_636, 100)));
        assert_eq!(rates.per_euro(c("GBP")), Ok(x(86_753, 100_000)));
        assert_eq!(rates.per_euro(c("JPY")), Ok(x(12_065, 100)));
        assert_eq!(rates.per_euro(c("EUR")), Ok(Exact::one()));
        // Till's currencies the ECB lists, and the euro; the others (BGN, CZK, ...) skipped.
        let codes: Vec<String> = rates
            .currencies()
            .iter()
            .map(|c| c.code().to_string())
            .collect();
        assert_eq!(
            codes,
            [
                "AUD", "CAD", "CHF", "CNY", "DKK", "EUR", "GBP", "HKD", "INR", "JPY", "KRW", "NOK",
                "NZD", "SEK", "SGD", "USD"
            ]
        );
        // The ECB does not publish the Gulf currencies: asking for one says so.
        assert_eq!(
            rates.rate(c("JPY"), c("BHD")),
            Err(FxError::NoRate(c("BHD")))
        );
    }

    #[test]
    fn malformed_rate_files_are_refused_whole() {
        let bad = |xml: &str| ReferenceRates::parse_ecb(xml).unwrap_err();
        assert_eq!(bad("not xml <"), RatesError::NotXml);
        assert_eq!(
            bad(&ECB_2017_03_08.replace("time='2017-03-08'", "")),
            RatesError::NoDate
        );
        assert_eq!(
            bad(&ECB_2017_03_08.replace("time='2017-03-08'", "time='2017-3-8'")),
            RatesError::NoDate
        );
        for rate in [
            "-1.0556", "1,0556", "1e3", "", "0", "0.000", "1.", ".5", "١.٠",
        ] {
            assert_eq!(
                bad(&ECB_2017_03_08.replace("rate='1.0556'", &format!("rate='{rate}'"))),
                RatesError::BadRate("USD".into()),
                "{rate:?}"
            );
        }
        assert_eq!(
            bad(&ECB_2017_03_08.replace("currency='GBP'", "currency='USD'")),
            RatesError::BadRate("USD".into())
        );
        // Another namespace is not the ECB's rates.
        assert_eq!(
            bad(&ECB_2017_03_08.replace("http://www.ecb.int/", "http://example.test/")),
            RatesError::NoDate
        );
        let only_unknown = r#"<x xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><Cube time="2017-03-08"><Cube currency="BGN" rate="1.9558"/></Cube></x>"#;
        assert_eq!(bad(only_unknown), RatesError::NoRates);
    }

    #[test]
    fn decimals_are_exact_and_only_decimals() {
        assert_eq!(parse_decimal("1216.36"), Some(x(121_636, 100)));
        assert_eq!(parse_decimal("120"), Some(x(120, 1)));
        assert_eq!(parse_decimal("0.86753"), Some(x(86_753, 100_000)));
        assert_eq!(parse_decimal("1234567890123.5"), None);
        assert_eq!(parse_decimal("1.1234567890123"), None);
        assert_eq!(decimal_text(x(121_636, 100), 4), "1216.36");
        assert_eq!(decimal_text(x(1, 3), 6), "0.333333");
        assert_eq!(decimal_text(x(5, 2), 0), "2");
        assert_eq!(decimal_text(x(1_000, 1), 2), "1000");
    }

    #[test]
    fn ties_round_to_even_and_only_ties() {
        for (n, d, rounded) in [
            (5, 2, 2),
            (7, 2, 4),
            (-5, 2, -2),
            (-7, 2, -4),
            (1, 2, 0),
            (3, 2, 2),
            (251, 100, 3),
            (249, 100, 2),
            (-251, 100, -3),
            (4, 1, 4),
        ] {
            assert_eq!(round_half_even(x(n, d)), rounded, "{n}/{d}");
        }
    }

    #[test]
    fn cross_rates_go_through_the_euro_exactly() {
        let rates = ecb();
        let usd_krw = rates.rate(c("USD"), c("KRW")).unwrap();
        assert_eq!(usd_krw.value(), x(121_636, 100) / x(10_556, 10_000));
        assert_eq!(decimal_text(usd_krw.value(), 6), "1152.292535");
        // US$100.00 is ₩115,229 (115,229.2535... rounded); ₩45,000 is US$39.05.
        assert_eq!(convert(10_000, &usd_krw, 0).unwrap().converted, 115_229);
        assert_eq!(
            convert(45_000, &usd_krw.inverse(), 0).unwrap().converted,
            3_905
        );
        // 0 to 2 decimals and back: ¥1,000 in GBP is £7.19 (7.1904...).
        let jpy_gbp = rates.rate(c("JPY"), c("GBP")).unwrap();
        assert_eq!(convert(1_000, &jpy_gbp, 0).unwrap().converted, 719);
        assert_eq!(rates.rate(c("USD"), c("USD")), Err(FxError::SameCurrency));
    }

    #[test]
    fn three_decimal_currencies_convert_to_the_fils() {
        // The ECB has no BHD: a rate from another source, 1 BHD = 2.6525 USD.
        let bhd_usd = Rate::new(c("BHD"), c("USD"), x(26_525, 10_000)).unwrap();
        let jpy_usd = ecb().rate(c("JPY"), c("USD")).unwrap();
        let jpy_bhd = Rate::new(c("JPY"), c("BHD"), jpy_usd.value() / bhd_usd.value()).unwrap();
        // ¥12,345 = US$108.0098... = 40.720 BHD (40.71998...): three decimals kept.
        assert_eq!(convert(12_345, &jpy_bhd, 0).unwrap().converted, 40_720);
        assert_eq!(
            convert(40_720, &jpy_bhd.inverse(), 0).unwrap().converted,
            12_345
        );
        // ¥1 is 0.0033 BHD: three fils.
        assert_eq!(convert(1, &jpy_bhd, 0).unwrap().converted, 3);
    }

    #[test]
    fn the_markup_is_added_once_and_is_the_margin() {
        let usd_krw = ecb().rate(c("USD"), c("KRW")).unwrap();
        let quoted = convert(10_000, &usd_krw, 150).unwrap();
        // 115,229.2535... x 1.015 = 116,957.69... -> ₩116,958; the bare rate gives ₩115,229.
        assert_eq!(quoted.converted, 116_958);
        assert_eq!(quoted.margin, 116_958 - 115_229);
        assert_eq!(
            convert(10_000, &usd_krw, 1_001),
            Err(FxError::MarkupInvalid)
        );
        assert_eq!(convert(0, &usd_krw, 0), Err(FxError::AmountInvalid));
        assert_eq!(convert(-5, &usd_krw, 0), Err(FxError::AmountInvalid));
        assert_eq!(
            convert(MAX_AMOUNT_MINOR + 1, &usd_krw, 0),
            Err(FxError::AmountInvalid)
        );
        assert_eq!(
            convert(MAX_AMOUNT_MINOR, &usd_krw, 0),
            Err(FxError::AmountTooLarge)
        );
        // ₩1 is less than half a cent: nothing to charge.
        assert_eq!(
            convert(1, &usd_krw.inverse(), 0),
            Err(FxError::AmountTooSmall)
        );
    }

    #[test]
    fn stale_rates_quote_nothing() {
        let rates = ecb();
        let published = rates.published();
        assert_eq!(published, 1_488_931_200 + 14 * 3600);
        assert_eq!(rates.check_fresh(published + 3_600, 86_400 * 3), Ok(()));
        assert_eq!(
            rates.check_fresh(published + 86_400 * 3 + 1, 86_400 * 3),
            Err(FxError::Stale {
                published,
                max_age_seconds: 86_400 * 3
            })
        );
    }

    /// Pairs of Till's currencies with a rate in the real file, and the JPY/BHD made above.
    fn pairs() -> Vec<Rate> {
        let rates = ecb();
        let currencies = rates.currencies();
        let mut pairs = Vec::new();
        for from in &currencies {
            for to in &currencies {
                if let Ok(rate) = rates.rate(*from, *to) {
                    pairs.push(rate);
                }
            }
        }
        let bhd = Rate::new(c("BHD"), c("USD"), x(26_525, 10_000)).unwrap();
        for rate in [bhd, bhd.inverse()] {
            pairs.push(rate);
        }
        pairs
    }

    proptest! {
        /// There and back at the bare rate: back within the rounding of both legs, which is at
        /// most one minor unit when the target's unit is worth no more than the source's, and
        /// one unit of the coarser currency (in source units, rounded up) otherwise.
        #[test]
        fn there_and_back_stays_within_one_minor_unit(
            amount in 1i64..=1_000_000_000,
            index in 0usize..1_000,
        ) {
            let all = pairs();
            let rate = all[index % all.len()];
            let Ok(there) = convert(amount, &rate, 0) else { return Ok(()); };
            let back = match convert(there.converted, &rate.inverse(), 0) {
                Ok(back) => back.converted,
                Err(FxError::AmountTooLarge) => return Ok(()),
                Err(e) => panic!("{e}"),
            };
            let per_unit = rate.per_minor_unit().unwrap();
            let error = Exact::from_integer(i128::from((back - amount).abs()));
            let bound = x(1, 2) / per_unit + x(1, 2);
            prop_assert!(error <= bound, "{amount} -> {} -> {back}", there.converted);
            if per_unit >= Exact::one() {
                prop_assert!((back - amount).abs() <= 1);
            }
        }

        /// However a converted whole is split, the parts add up to it, each within one minor
        /// unit of its exact proportion.
        #[test]
        fn parts_add_up_to_the_whole(
            whole in 1i64..=10_000_000_000,
            converted_whole in 0i64..=99_999_999_999,
            cuts in proptest::collection::vec(0u32..=1_000_000, 0..12),
        ) {
            let mut points: Vec<i64> = cuts
                .iter()
                .map(|c| (i128::from(whole) * i128::from(*c) / 1_000_000) as i64)
                .collect();
            points.push(0);
            points.push(whole);
            points.sort_unstable();
            let mut total = 0i64;
            for pair in points.windows(2) {
                let part = pair[1] - pair[0];
                let got = next_share(pair[1], whole, converted_whole, total).unwrap();
                let exact = x(i128::from(converted_whole) * i128::from(part), i128::from(whole));
                let off = (Exact::from_integer(i128::from(got)) - exact).abs();
                prop_assert!(off <= Exact::one(), "{got} vs {exact}");
                total += got;
            }
            prop_assert_eq!(total, converted_whole);
        }

        /// Refunds that fail give back exactly what they took; whatever failed in between,
        /// refunding the rest of the whole brings the total to the converted whole exactly,
        /// and no moment has more taken than the whole converts to.
        #[test]
        fn failed_refunds_never_unbalance_the_total(
            whole in 1i64..=1_000_000_000,
            converted_whole in 0i64..=9_999_999_999,
            refunds in proptest::collection::vec((1u32..=1_000, proptest::bool::ANY), 0..10),
        ) {
            let (mut refunded, mut taken) = (0i64, 0i64);
            for (permille, fails) in refunds {
                let part = (i128::from(whole) * i128::from(permille) / 1_000) as i64;
                if part == 0 || refunded + part > whole {
                    continue;
                }
                let got = next_share(refunded + part, whole, converted_whole, taken).unwrap();
                prop_assert!(got >= 0 && taken + got <= converted_whole);
                if !fails {
                    refunded += part;
                    taken += got;
                }
            }
            let rest = next_share(whole, whole, converted_whole, taken).unwrap();
            prop_assert_eq!(taken + rest, converted_whole);
        }

        /// A markup never lowers what the customer pays, and the margin is what it added.
        #[test]
        fn markups_only_add(amount in 1i64..=1_000_000_000, bps in 0u32..=MAX_MARKUP_BPS, index in 0usize..1_000) {
            let all = pairs();
            let rate = all[index % all.len()];
            if let (Ok(bare), Ok(marked)) = (convert(amount, &rate, 0), convert(amount, &rate, bps)) {
                prop_assert!(marked.converted >= bare.converted);
                prop_assert_eq!(marked.margin, marked.converted - bare.converted);
            }
        }
    }

    #[test]
    fn refunds_of_a_converted_payment_give_back_exactly_what_its_capture_booked() {
        let converted = Converted {
            fx_quote: "fxq".into(),
            settlement: QuotedAmount {
                amount: 3_241,
                currency: c("USD"),
            },
            rate: "1388.5".into(),
            markup_bps: 150,
            margin: 665,
            rates_date: "2026-11-27".into(),
            expires_at: 0,
        };
        let captured = converted.captured_legs(c("KRW"), 45_000, 45_000).unwrap();
        assert_eq!((captured.settlement.amount, captured.margin), (3_241, 665));
        let half = converted.captured_legs(c("KRW"), 45_000, 22_500).unwrap();
        assert_eq!((half.settlement.amount, half.margin), (1_620, 332));
        let mut taken = Taken::default();
        for part in [10_001, 1, 20_000, 14_998] {
            let legs = refund_legs(&captured, part, taken).unwrap();
            taken.presentment += part;
            taken.settlement += legs.settlement.amount;
            taken.margin += legs.margin;
        }
        assert_eq!(
            taken,
            Taken {
                presentment: 45_000,
                settlement: 3_241,
                margin: 665
            }
        );
        assert_eq!(refund_legs(&captured, 1, taken), None);
        assert_eq!(part_legs(&captured, 45_000), Some(captured));
        assert_eq!(part_legs(&captured, 0), None);
    }

    #[test]
    fn intraday_rates_are_used_only_for_the_pair_asked_and_while_current() {
        let now = 1_800_000_000;
        let feed = IntradayRate {
            from: c("USD"),
            to: c("KRW"),
            rate: "1388.50123".into(),
            as_of: now - 30,
        };
        let rate = feed.usable(c("USD"), c("KRW"), now).unwrap();
        assert_eq!(rate.value(), x(138_850_123, 100_000));
        assert!(feed.usable(c("KRW"), c("USD"), now).is_err());
        assert!(feed
            .usable(c("USD"), c("KRW"), now + MAX_INTRADAY_AGE_SECONDS)
            .is_err());
        let ahead = IntradayRate {
            as_of: now + 3_600,
            ..feed.clone()
        };
        assert!(ahead.usable(c("USD"), c("KRW"), now).is_err());
        for bad in ["0", "-1388.5", "1.388e3", "", "1,388.50"] {
            let broken = IntradayRate {
                rate: bad.into(),
                ..feed.clone()
            };
            assert!(broken.usable(c("USD"), c("KRW"), now).is_err(), "{bad}");
        }
        assert_eq!(feed.date(), "2027-01-15");
    }

    #[test]
    fn shares_refuse_parts_beyond_the_whole() {
        assert_eq!(proportion(100, 100, 115_229), Some(115_229));
        assert_eq!(proportion(50, 100, 3), Some(2));
        assert_eq!(proportion(101, 100, 115_229), None);
        assert_eq!(proportion(1, 0, 10), None);
        assert_eq!(proportion(-1, 10, 10), None);
        assert_eq!(next_share(100, 100, 115_229, 115_230), None);
        assert_eq!(next_share(1, 100, 115_229, 2_000), Some(0));
    }
}
