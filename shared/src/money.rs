//! Amounts as integer minor units of an ISO 4217 currency: never floats.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency Till accepts, with its minor-unit exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// ISO 4217 codes Till supports and their exponents (number of minor-unit digits).
pub(crate) const CURRENCIES: &[(&str, u8)] = &[
    ("AUD", 2),
    ("BHD", 3),
    ("CAD", 2),
    ("CHF", 2),
    ("CNY", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("INR", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("SEK", 2),
    ("SGD", 2),
    ("USD", 2),
    ("VND", 0),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCurrency(pub String);

impl fmt::Display for UnknownCurrency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a supported ISO 4217 currency code", self.0)
    }
}

impl Currency {
    /// Parses an upper-case ISO 4217 code such as `USD`.
    pub fn parse(code: &str) -> Result<Self, UnknownCurrency> {
        CURRENCIES
            .iter()
            .find(|(known, _)| *known == code)
            .and_then(|(known, exponent)| {
                Some(Currency {
                    code: known.as_bytes().try_into().ok()?,
                    exponent: *exponent,
                })
            })
            .ok_or_else(|| UnknownCurrency(code.chars().take(8).collect()))
    }

    pub fn code(&self) -> &str {
        // The code bytes come from the ASCII table above.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Digits after the decimal point: 2 for USD, 0 for JPY and KRW, 3 for BHD and KWD.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }
}

impl TryFrom<String> for Currency {
    type Error = UnknownCurrency;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Currency::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.code().to_string()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Largest amount Till accepts in one payment, in minor units (fits every gateway's 8-digit major limit).
pub const MAX_AMOUNT_MINOR: i64 = 99_999_999_999;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    NotPositive,
    TooLarge,
    CurrencyMismatch,
    Overflow,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MoneyError::NotPositive => "amount must be a positive integer in minor units",
            MoneyError::TooLarge => "amount exceeds the maximum Till accepts",
            MoneyError::CurrencyMismatch => "amounts in different currencies cannot be combined",
            MoneyError::Overflow => "amount overflows",
        })
    }
}

impl Money {
    /// A payable amount: positive and within [`MAX_AMOUNT_MINOR`].
    pub fn payable(amount: i64, currency: Currency) -> Result<Self, MoneyError> {
        if amount <= 0 {
            return Err(MoneyError::NotPositive);
        }
        if amount > MAX_AMOUNT_MINOR {
            return Err(MoneyError::TooLarge);
        }
        Ok(Money { amount, currency })
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch);
        }
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, ..self })
    }

    /// Exact decimal text in major units, e.g. `1234 USD` -> `"12.34"`, `5000 KRW` -> `"5000"`.
    /// Browsers format this string with `Intl.NumberFormat` without a float round trip.
    pub fn to_decimal_string(&self) -> String {
        let exponent = self.currency.exponent() as u32;
        let sign = if self.amount < 0 { "-" } else { "" };
        let magnitude = self.amount.unsigned_abs();
        if exponent == 0 {
            return format!("{sign}{magnitude}");
        }
        let scale = 10u64.pow(exponent);
        format!(
            "{sign}{}.{:0width$}",
            magnitude / scale,
            magnitude % scale,
            width = exponent as usize
        )
    }
}

impl Money {
    /// What a customer types, in major units (`12.5`, `1,200`, `12.50`), as a payable amount:
    /// digits with at most the currency's decimals, thousands separators (`,`) allowed before the
    /// point, no sign. `None` for anything else, zero included.
    pub fn from_decimal_str(text: &str, currency: Currency) -> Option<Money> {
        let text = text.trim();
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        let whole: String = whole.chars().filter(|c| *c != ',').collect();
        let digits_only = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        let exponent = usize::from(currency.exponent());
        if !digits_only(&whole) || whole.len() > 18 {
            return None;
        }
        let fraction = match fraction {
            None => String::new(),
            Some(f) if digits_only(f) && f.len() <= exponent => f.to_string(),
            Some(_) => return None,
        };
        let padded = format!("{whole}{fraction:0<exponent$}");
        let amount: i64 = padded.parse().ok()?;
        Money::payable(amount, currency).ok()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(Currency::parse("USD").unwrap().exponent(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("KRW").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("BHD").unwrap().exponent(), 3);
        assert_eq!(Currency::parse("KWD").unwrap().exponent(), 3);
    }

    #[test]
    fn typed_amounts_become_minor_units() {
        let krw = Currency::parse("KRW").unwrap();
        let bhd = Currency::parse("BHD").unwrap();
        let read = |text: &str, currency| Money::from_decimal_str(text, currency).map(|m| m.amount);
        assert_eq!(read("12.5", usd()), Some(1250));
        assert_eq!(read(" 12.50 ", usd()), Some(1250));
        assert_eq!(read("1,200", usd()), Some(120_000));
        assert_eq!(read("0.01", usd()), Some(1));
        assert_eq!(read("15000", krw), Some(15_000));
        assert_eq!(read("1.005", bhd), Some(1005));
        for bad in [
            "", ".", "0", "0.00", "-1", "+1", "1.234", "1e3", "12.", ".5", "١٢", "1.2.3",
        ] {
            assert_eq!(read(bad, usd()), None, "{bad:?}");
        }
        assert_eq!(read("1.5", krw), None);
        assert_eq!(read("99999999999999999999", usd()), None);
        assert_eq!(read("1000000000", usd()), None, "above the maximum");
    }

    #[test]
    fn unknown_or_lower_case_codes_are_rejected() {
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("XYZ").is_err());
        assert!(Currency::parse("").is_err());
    }

    #[test]
    fn currency_serializes_as_its_code() {
        let json = serde_json::to_string(&usd()).unwrap();
        assert_eq!(json, "\"USD\"");
        assert!(serde_json::from_str::<Currency>("\"ABC\"").is_err());
    }

    #[test]
    fn decimal_strings_respect_exponent() {
        let m = |a, c| Money {
            amount: a,
            currency: Currency::parse(c).unwrap(),
        };
        assert_eq!(m(1234, "USD").to_decimal_string(), "12.34");
        assert_eq!(m(5, "USD").to_decimal_string(), "0.05");
        assert_eq!(m(5000, "KRW").to_decimal_string(), "5000");
        assert_eq!(m(1, "BHD").to_decimal_string(), "0.001");
        assert_eq!(m(-250, "EUR").to_decimal_string(), "-2.50");
    }

    #[test]
    fn payable_rejects_zero_negative_and_huge() {
        assert_eq!(Money::payable(0, usd()), Err(MoneyError::NotPositive));
        assert_eq!(Money::payable(-1, usd()), Err(MoneyError::NotPositive));
        assert_eq!(
            Money::payable(MAX_AMOUNT_MINOR + 1, usd()),
            Err(MoneyError::TooLarge)
        );
        assert!(Money::payable(MAX_AMOUNT_MINOR, usd()).is_ok());
    }

    #[test]
    fn adding_different_currencies_fails() {
        let a = Money::payable(100, usd()).unwrap();
        let b = Money::payable(100, Currency::parse("EUR").unwrap()).unwrap();
        assert_eq!(a.checked_add(b), Err(MoneyError::CurrencyMismatch));
    }

    proptest! {
        #[test]
        fn decimal_string_round_trips_to_minor_units(amount in -MAX_AMOUNT_MINOR..MAX_AMOUNT_MINOR, idx in 0usize..CURRENCIES.len()) {
            let currency = Currency::parse(CURRENCIES[idx].0).unwrap();
            let text = Money { amount, currency }.to_decimal_string();
            let digits: String = text.chars().filter(|c| *c != '.').collect();
            prop_assert_eq!(digits.parse::<i64>().unwrap(), amount);
            let decimals = text.split('.').nth(1).map_or(0, str::len);
            prop_assert_eq!(decimals, currency.exponent() as usize);
        }

        #[test]
        fn addition_is_exact_and_commutative(a in 1i64..MAX_AMOUNT_MINOR, b in 1i64..MAX_AMOUNT_MINOR) {
            let x = Money::payable(a, usd()).unwrap();
            let y = Money::payable(b, usd()).unwrap();
            prop_assert_eq!(x.checked_add(y).unwrap().amount, a + b);
            prop_assert_eq!(x.checked_add(y), y.checked_add(x));
        }
    }
}
