//! Card number, expiry and CVC rules shared by the widget (as the customer types) and the edge
//! (which never trusts the widget).

use crate::error::ErrorCode;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Brand {
    Visa,
    Mastercard,
    Amex,
    Discover,
    Jcb,
    Unionpay,
}

impl Brand {
    pub const ALL: [Brand; 6] = [
        Brand::Visa,
        Brand::Mastercard,
        Brand::Amex,
        Brand::Discover,
        Brand::Jcb,
        Brand::Unionpay,
    ];

    /// Brand by issuer identification number (leading digits); `None` until enough digits are typed.
    pub fn detect(digits: &str) -> Option<Brand> {
        let prefix = |n: usize| -> Option<u32> { digits.get(..n)?.parse().ok() };
        let in_range =
            |n: usize, lo: u32, hi: u32| prefix(n).is_some_and(|p| (lo..=hi).contains(&p));
        if digits.starts_with('4') {
            Some(Brand::Visa)
        } else if in_range(2, 51, 55) || in_range(4, 2221, 2720) {
            Some(Brand::Mastercard)
        } else if in_range(2, 34, 34) || in_range(2, 37, 37) {
            Some(Brand::Amex)
        } else if in_range(4, 3528, 3589) {
            Some(Brand::Jcb)
        } else if in_range(4, 6011, 6011) || in_range(3, 644, 649) || in_range(2, 65, 65) {
            Some(Brand::Discover)
        } else if in_range(2, 62, 62) || in_range(2, 81, 81) {
            Some(Brand::Unionpay)
        } else {
            None
        }
    }

    pub fn valid_lengths(self) -> &'static [usize] {
        match self {
            Brand::Visa => &[13, 16, 19],
            Brand::Mastercard => &[16],
            Brand::Amex => &[15],
            Brand::Discover | Brand::Jcb => &[16, 17, 18, 19],
            Brand::Unionpay => &[16, 17, 18, 19],
        }
    }

    pub fn max_length(self) -> usize {
        self.valid_lengths().iter().copied().max().unwrap_or(19)
    }

    pub fn cvc_length(self) -> usize {
        match self {
            Brand::Amex => 4,
            _ => 3,
        }
    }

    /// Digit groups as printed on the card: 4-6-5 for Amex, fours otherwise.
    pub fn groups(self) -> &'static [usize] {
        match self {
            Brand::Amex => &[4, 6, 5],
            _ => &[4, 4, 4, 4, 3],
        }
    }

    /// The name the API and storage use (`visa`, `amex`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Brand::Visa => "visa",
            Brand::Mastercard => "mastercard",
            Brand::Amex => "amex",
            Brand::Discover => "discover",
            Brand::Jcb => "jcb",
            Brand::Unionpay => "unionpay",
        }
    }

    /// The brand named `text` as the API writes it; `None` for any other text.
    pub fn parse(text: &str) -> Option<Brand> {
        Brand::ALL.into_iter().find(|brand| brand.as_str() == text)
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Brand::Visa => "Visa",
            Brand::Mastercard => "Mastercard",
            Brand::Amex => "American Express",
            Brand::Discover => "Discover",
            Brand::Jcb => "JCB",
            Brand::Unionpay => "UnionPay",
        }
    }
}

/// Luhn (mod 10) check over ASCII digits; false for anything else.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Keeps only digits, capped at the brand's longest number.
pub fn digits_only(input: &str) -> String {
    let digits: String = input.chars().filter(char::is_ascii_digit).collect();
    let max = Brand::detect(&digits).map_or(19, Brand::max_length);
    digits.chars().take(max).collect()
}

/// Groups digits for display as the customer types: `4242 4242 4242 4242`, `3782 822463 10005`.
pub fn format_number(input: &str) -> String {
    let digits = digits_only(input);
    let groups = Brand::detect(&digits).map_or(Brand::Visa.groups(), Brand::groups);
    let mut out = String::with_capacity(digits.len() + 4);
    let mut rest = digits.as_str();
    for &size in groups {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at(size.min(rest.len()));
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(head);
        rest = tail;
    }
    out
}

/// Formats expiry input as `MM/YY` while typing.
pub fn format_expiry(input: &str) -> String {
    let digits: String = input.chars().filter(char::is_ascii_digit).take(4).collect();
    // A lone first digit above 1 can only be a month like 05.
    let digits = match digits.as_bytes().first() {
        Some(b'2'..=b'9') => format!("0{digits}").chars().take(4).collect(),
        _ => digits,
    };
    match (digits.get(..2), digits.get(2..)) {
        (Some(month), Some(year)) if !year.is_empty() => format!("{month}/{year}"),
        _ => digits,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardError {
    IncompleteNumber,
    InvalidNumber,
    UnsupportedBrand,
    IncompleteExpiry,
    InvalidExpiry,
    ExpiredCard,
    IncompleteCvc,
    InvalidCvc,
    MissingName,
    InvalidName,
}

impl CardError {
    pub fn code(self) -> ErrorCode {
        match self {
            CardError::IncompleteNumber => ErrorCode::IncompleteNumber,
            CardError::InvalidNumber => ErrorCode::InvalidNumber,
            CardError::UnsupportedBrand => ErrorCode::UnsupportedBrand,
            CardError::IncompleteExpiry => ErrorCode::IncompleteExpiry,
            CardError::InvalidExpiry => ErrorCode::InvalidExpiry,
            CardError::ExpiredCard => ErrorCode::ExpiredCard,
            CardError::IncompleteCvc => ErrorCode::IncompleteCvc,
            CardError::InvalidCvc => ErrorCode::InvalidCvc,
            CardError::MissingName => ErrorCode::MissingName,
            CardError::InvalidName => ErrorCode::InvalidName,
        }
    }

    /// The form field the error belongs to (also the API `param`).
    pub fn field(self) -> &'static str {
        match self {
            CardError::IncompleteNumber
            | CardError::InvalidNumber
            | CardError::UnsupportedBrand => "number",
            CardError::IncompleteExpiry | CardError::InvalidExpiry | CardError::ExpiredCard => {
                "expiry"
            }
            CardError::IncompleteCvc | CardError::InvalidCvc => "cvc",
            CardError::MissingName | CardError::InvalidName => "name",
        }
    }

    /// The English message (the API's); the widget has its own translations.
    pub fn message(self) -> &'static str {
        self.code().message()
    }
}

impl fmt::Display for CardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// The current month, supplied by the caller (no clock in the core).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct YearMonth {
    pub year: u16,
    pub month: u8,
}

impl YearMonth {
    /// The UTC month containing a Unix time (out-of-range times clamp to the epoch).
    pub fn from_unix_seconds(seconds: i64) -> YearMonth {
        let date = time::OffsetDateTime::from_unix_timestamp(seconds)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        YearMonth {
            year: u16::try_from(date.year()).unwrap_or(1970),
            month: u8::from(date.month()),
        }
    }
}

/// Longest card number text accepted before normalization (19 digits plus separators).
const MAX_NUMBER_TEXT: usize = 40;

/// The digits of a card number as people type it: ASCII spaces and dashes are dropped, anything
/// else that is not an ASCII digit makes the number invalid. Everything after this boundary
/// (validation, fingerprint, vault, gateway) sees only these digits.
pub fn normalize_number(input: &str) -> Result<String, CardError> {
    if input.len() > MAX_NUMBER_TEXT {
        return Err(CardError::InvalidNumber);
    }
    let mut digits = String::with_capacity(19);
    for c in input.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' => {}
            _ => return Err(CardError::InvalidNumber),
        }
    }
    if digits.is_empty() {
        return Err(CardError::IncompleteNumber);
    }
    Ok(digits)
}

pub fn validate_number(input: &str) -> Result<Brand, CardError> {
    let digits = normalize_number(input)?;
    let brand = Brand::detect(&digits).ok_or(CardError::UnsupportedBrand)?;
    let lengths = brand.valid_lengths();
    if lengths.iter().all(|length| digits.len() < *length) {
        return Err(CardError::IncompleteNumber);
    }
    if !lengths.contains(&digits.len()) || !luhn_valid(&digits) {
        return Err(CardError::InvalidNumber);
    }
    Ok(brand)
}

/// Checks a month/year pair: the card is valid through the end of its expiry month.
pub fn validate_expiry(month: u8, year: u16, now: YearMonth) -> Result<(), CardError> {
    if !(1..=12).contains(&month) {
        return Err(CardError::InvalidExpiry);
    }
    if (YearMonth { year, month }) < now {
        return Err(CardError::ExpiredCard);
    }
    if year > now.year.saturating_add(50) {
        return Err(CardError::InvalidExpiry);
    }
    Ok(())
}

/// Parses the widget's `MM/YY` text into (month, four-digit year).
pub fn parse_expiry(text: &str) -> Result<(u8, u16), CardError> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return Err(CardError::IncompleteExpiry);
    }
    if digits.len() > 4 {
        return Err(CardError::InvalidExpiry);
    }
    let (month, year) = digits.split_at(2);
    let month: u8 = month.parse().map_err(|_| CardError::InvalidExpiry)?;
    let year: u16 = year.parse().map_err(|_| CardError::InvalidExpiry)?;
    Ok((month, 2000 + year))
}

pub fn validate_cvc(cvc: &str, brand: Brand) -> Result<(), CardError> {
    if cvc.is_empty() {
        return Err(CardError::IncompleteCvc);
    }
    if !cvc.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CardError::InvalidCvc);
    }
    match cvc.len().cmp(&brand.cvc_length()) {
        std::cmp::Ordering::Less => Err(CardError::IncompleteCvc),
        std::cmp::Ordering::Greater => Err(CardError::InvalidCvc),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

/// The card as encrypted in the browser and decrypted at the edge. Every field is redacted in logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardDetails {
    pub number: Secret<String>,
    pub exp_month: u8,
    pub exp_year: u16,
    pub cvc: Secret<String>,
    pub name: String,
}

/// The plaintext inside a card JWE: the card, when it was encrypted, and a one-time nonce, so a
/// captured ciphertext cannot be replayed or used much later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardPayload {
    pub card: CardDetails,
    /// Unix seconds at encryption.
    pub iat: i64,
    /// At least 16 random bytes, base64url.
    pub nonce: String,
}

/// How long an encrypted card stays usable.
pub const PAYLOAD_MAX_AGE_SECONDS: i64 = 15 * 60;
/// Tolerated clock skew between the customer's device and the edge.
pub const PAYLOAD_MAX_SKEW_SECONDS: i64 = 5 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadError {
    Expired,
    FromTheFuture,
    BadNonce,
}

/// A ciphertext made at `iat` with `nonce` may be opened `now`: recent enough, not from the
/// future, and with a nonce of the expected shape.
fn check_fresh(iat: i64, nonce: &str, now: i64) -> Result<(), PayloadError> {
    if iat < now - PAYLOAD_MAX_AGE_SECONDS {
        return Err(PayloadError::Expired);
    }
    if iat > now + PAYLOAD_MAX_SKEW_SECONDS {
        return Err(PayloadError::FromTheFuture);
    }
    let nonce_ok = (22..=128).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !nonce_ok {
        return Err(PayloadError::BadNonce);
    }
    Ok(())
}

impl CardPayload {
    pub fn check(&self, now: i64) -> Result<(), PayloadError> {
        check_fresh(self.iat, &self.nonce, now)
    }
}

/// The plaintext of a saved card's security code typed again (`encrypted_cvc`), when the
/// merchant asks for it: the code alone, dated and with a one-time nonce like a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CvcPayload {
    pub cvc: Secret<String>,
    pub iat: i64,
    pub nonce: String,
}

impl CvcPayload {
    pub fn check(&self, now: i64) -> Result<(), PayloadError> {
        check_fresh(self.iat, &self.nonce, now)
    }
}

/// What may be shown about a card: brand, last four digits and expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardSummary {
    pub brand: Brand,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
    /// The same card number always gives the same fingerprint (per Till deployment): duplicate
    /// detection and fraud velocity without storing the number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

/// Longest cardholder name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// The cardholder name, trimmed: present, at most [`MAX_NAME_CHARS`], and free of control and
/// invisible formatting characters (which could hide text in logs, receipts and dashboards).
pub fn validate_name(name: &str) -> Result<&str, CardError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CardError::MissingName);
    }
    let invisible = |c: char| {
        c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
    };
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(invisible) {
        return Err(CardError::InvalidName);
    }
    Ok(name)
}

/// A keyed HMAC-SHA256 of the card number, hex, truncated to 128 bits, per merchant. Keyed, so
/// the 10^15-ish space of card numbers cannot be searched by hashing candidates; per merchant, so
/// one merchant's fingerprints say nothing about another's customers.
pub fn fingerprint(key: &[u8], merchant_id: &str, number: &str) -> String {
    use hmac::Mac;
    let mut mac = crate::mac::hmac_sha256(key);
    mac.update(merchant_id.as_bytes());
    mac.update(b"\0");
    mac.update(number.as_bytes());
    let digest = mac.finalize().into_bytes();
    hex::encode(digest.get(..16).unwrap_or_default())
}

/// A card that passed validation, normalized: digits only, trimmed name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidCard {
    pub card: CardDetails,
    pub summary: CardSummary,
}

impl CardDetails {
    /// Validates every field (the first problem found, in form order) and returns the card as
    /// Till keeps it from here on.
    pub fn validate(&self, now: YearMonth) -> Result<ValidCard, CardError> {
        let brand = validate_number(self.number.expose())?;
        let number = normalize_number(self.number.expose())?;
        validate_expiry(self.exp_month, self.exp_year, now)?;
        validate_cvc(self.cvc.expose(), brand)?;
        let name = validate_name(&self.name)?;
        let last4: String = number
            .get(number.len().saturating_sub(4)..)
            .unwrap_or_default()
            .to_string();
        Ok(ValidCard {
            card: CardDetails {
                number: Secret::new(number),
                exp_month: self.exp_month,
                exp_year: self.exp_year,
                cvc: self.cvc.clone(),
                name: name.to_string(),
            },
            summary: CardSummary {
                brand,
                last4,
                exp_month: self.exp_month,
                exp_year: self.exp_year,
                fingerprint: None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: YearMonth = YearMonth {
        year: 2026,
        month: 11,
    };

    #[test]
    fn brands_parse_from_their_api_names_only() {
        for brand in Brand::ALL {
            assert_eq!(Brand::parse(brand.as_str()), Some(brand));
        }
        for text in ["", "Visa", "VISA", "visa ", "maestro"] {
            assert_eq!(Brand::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn brands_by_iin() {
        let cases = [
            ("4242424242424242", Brand::Visa),
            ("5555555555554444", Brand::Mastercard),
            ("2223003122003222", Brand::Mastercard),
            ("2720990000000007", Brand::Mastercard),
            ("378282246310005", Brand::Amex),
            ("340000000000009", Brand::Amex),
            ("6011111111111117", Brand::Discover),
            ("6445644564456445", Brand::Discover),
            ("3566002020360505", Brand::Jcb),
            ("6200000000000005", Brand::Unionpay),
        ];
        for (number, brand) in cases {
            assert_eq!(Brand::detect(number), Some(brand), "{number}");
            assert_eq!(validate_number(number), Ok(brand), "{number}");
        }
        assert_eq!(Brand::detect("2220000000000000"), None);
        assert_eq!(Brand::detect("2721000000000000"), None);
        assert_eq!(Brand::detect("9999"), None);
    }

    #[test]
    fn number_errors() {
        assert_eq!(validate_number(""), Err(CardError::IncompleteNumber));
        assert_eq!(
            validate_number("4242 4242"),
            Err(CardError::IncompleteNumber)
        );
        assert_eq!(
            validate_number("4242424242424241"),
            Err(CardError::InvalidNumber)
        );
        assert_eq!(
            validate_number("4242-4242"),
            Err(CardError::IncompleteNumber)
        );
        assert_eq!(validate_number("4242-4242-4242-4242"), Ok(Brand::Visa));
        assert_eq!(
            validate_number("9999999999999995"),
            Err(CardError::UnsupportedBrand)
        );
        assert_eq!(validate_number("4242 4242 4242 4242"), Ok(Brand::Visa));
    }

    #[test]
    fn formatting_groups_digits_by_brand() {
        assert_eq!(format_number("4242424242424242"), "4242 4242 4242 4242");
        assert_eq!(format_number("42424"), "4242 4");
        assert_eq!(format_number("378282246310005"), "3782 822463 10005");
        assert_eq!(format_number("3782822463100059999"), "3782 822463 10005");
        assert_eq!(format_number("4242-abc"), "4242");
        assert_eq!(format_number(""), "");
    }

    #[test]
    fn expiry_formatting_and_parsing() {
        assert_eq!(format_expiry("1"), "1");
        assert_eq!(format_expiry("5"), "05");
        assert_eq!(format_expiry("123"), "12/3");
        assert_eq!(format_expiry("12/34"), "12/34");
        assert_eq!(parse_expiry("12/34"), Ok((12, 2034)));
        assert_eq!(parse_expiry("12/3"), Err(CardError::IncompleteExpiry));
    }

    #[test]
    fn expiry_rules() {
        assert_eq!(validate_expiry(11, 2026, NOW), Ok(()));
        assert_eq!(validate_expiry(10, 2026, NOW), Err(CardError::ExpiredCard));
        assert_eq!(
            validate_expiry(13, 2030, NOW),
            Err(CardError::InvalidExpiry)
        );
        assert_eq!(validate_expiry(0, 2030, NOW), Err(CardError::InvalidExpiry));
        assert_eq!(validate_expiry(1, 2099, NOW), Err(CardError::InvalidExpiry));
    }

    #[test]
    fn month_from_unix_time() {
        assert_eq!(
            YearMonth::from_unix_seconds(1_795_000_000),
            YearMonth {
                year: 2026,
                month: 11
            }
        );
        assert_eq!(YearMonth::from_unix_seconds(0).year, 1970);
    }

    #[test]
    fn cvc_length_by_brand() {
        assert_eq!(validate_cvc("123", Brand::Visa), Ok(()));
        assert_eq!(
            validate_cvc("1234", Brand::Visa),
            Err(CardError::InvalidCvc)
        );
        assert_eq!(
            validate_cvc("123", Brand::Amex),
            Err(CardError::IncompleteCvc)
        );
        assert_eq!(validate_cvc("1234", Brand::Amex), Ok(()));
        assert_eq!(validate_cvc("12a", Brand::Visa), Err(CardError::InvalidCvc));
    }

    #[test]
    fn card_details_summary_and_redaction() {
        let card = CardDetails {
            number: Secret::new("4242424242424242".into()),
            exp_month: 12,
            exp_year: 2030,
            cvc: Secret::new("123".into()),
            name: "Ada Lovelace".into(),
        };
        let summary = card.validate(NOW).unwrap().summary;
        assert_eq!(summary.last4, "4242");
        assert_eq!(summary.brand, Brand::Visa);
        let debug = format!("{card:?}");
        assert!(!debug.contains("4242424242424242") && !debug.contains("123"));
        let nameless = CardDetails {
            name: " ".into(),
            ..card
        };
        assert_eq!(nameless.validate(NOW), Err(CardError::MissingName));
    }

    #[test]
    fn payloads_expire_and_need_a_real_nonce() {
        let card = CardDetails {
            number: Secret::new("4242424242424242".into()),
            exp_month: 12,
            exp_year: 2030,
            cvc: Secret::new("123".into()),
            name: "A".into(),
        };
        let payload = |iat, nonce: &str| CardPayload {
            card: card.clone(),
            iat,
            nonce: nonce.into(),
        };
        let nonce = "AAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(payload(1000, nonce).check(1000), Ok(()));
        assert_eq!(payload(1000, nonce).check(1000 + 15 * 60), Ok(()));
        assert_eq!(
            payload(1000, nonce).check(1001 + 15 * 60),
            Err(PayloadError::Expired)
        );
        assert_eq!(
            payload(2000, nonce).check(1000),
            Err(PayloadError::FromTheFuture)
        );
        assert_eq!(
            payload(1000, "short").check(1000),
            Err(PayloadError::BadNonce)
        );
        assert_eq!(
            payload(1000, "AAAAAAAAAAAAAAAAAAAAA!").check(1000),
            Err(PayloadError::BadNonce)
        );
    }

    #[test]
    fn fingerprints_are_keyed_stable_and_per_merchant() {
        let a = fingerprint(b"key-1", "mer_a", "4242424242424242");
        assert_eq!(a, fingerprint(b"key-1", "mer_a", "4242424242424242"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, fingerprint(b"key-2", "mer_a", "4242424242424242"));
        assert_ne!(a, fingerprint(b"key-1", "mer_b", "4242424242424242"));
        assert_ne!(a, fingerprint(b"key-1", "mer_a", "5555555555554444"));
        assert!(!a.contains("4242"));
    }

    fn details(number: &str, cvc: &str, name: &str) -> CardDetails {
        CardDetails {
            number: Secret::new(number.into()),
            exp_month: 12,
            exp_year: 2030,
            cvc: Secret::new(cvc.into()),
            name: name.into(),
        }
    }

    #[test]
    fn numbers_are_normalized_once_to_ascii_digits() {
        for typed in [
            "4242424242424242",
            "4242 4242 4242 4242",
            "4242-4242-4242-4242",
            " 4242 4242-4242 4242 ",
        ] {
            let valid = details(typed, "123", "Ada").validate(NOW).unwrap();
            assert_eq!(valid.card.number.expose(), "4242424242424242", "{typed:?}");
            assert_eq!(valid.summary.last4, "4242");
        }
        // Anything but ASCII digits, spaces and dashes: invalid, never a panic.
        for typed in [
            "4242 4242 4242 424\u{00a0}2",
            "4242424242424242\u{3000}",
            "4242\u{2003}4242\u{2003}4242\u{2003}4242",
            "４２４２４２４２４２４２４２４２",
            "4242424242424242\u{0}",
            "4242.4242.4242.4242",
            "4242\t4242424242424",
            "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢",
            "4242424242424242é",
        ] {
            assert_eq!(
                details(typed, "123", "Ada").validate(NOW),
                Err(CardError::InvalidNumber),
                "{typed:?}"
            );
        }
        let long = "4".repeat(41);
        assert_eq!(validate_number(&long), Err(CardError::InvalidNumber));
    }

    #[test]
    fn cvc_and_name_are_strict() {
        for cvc in ["12 3", "１２３", "12\u{0}", "123\n", ""] {
            assert!(
                details("4242424242424242", cvc, "Ada")
                    .validate(NOW)
                    .is_err(),
                "{cvc:?}"
            );
        }
        let valid = details("4242424242424242", "123", "  Ada Lovelace \u{3000}")
            .validate(NOW)
            .unwrap();
        assert_eq!(valid.card.name, "Ada Lovelace");
        assert!(details("4242424242424242", "123", "김민지")
            .validate(NOW)
            .is_ok());
        for name in [
            "Ada\u{0}Lovelace",
            "Ada\nLovelace",
            "Ada\u{202e}ecalevoL",
            "Ada\u{200b}",
            &"A".repeat(101),
        ] {
            assert_eq!(
                details("4242424242424242", "123", name).validate(NOW),
                Err(CardError::InvalidName),
                "{name:?}"
            );
        }
        assert!(details("4242424242424242", "123", &"가".repeat(100))
            .validate(NOW)
            .is_ok());
    }

    /// Appends the Luhn check digit to a payload.
    fn with_check_digit(payload: &str) -> String {
        (0..10)
            .map(|d| format!("{payload}{d}"))
            .find(|n| luhn_valid(n))
            .unwrap()
    }

    proptest! {
        #[test]
        fn exactly_one_check_digit_is_valid(payload in "[0-9]{12,18}") {
            let valid: Vec<u32> = (0..10).filter(|d| luhn_valid(&format!("{payload}{d}"))).collect();
            prop_assert_eq!(valid.len(), 1);
        }

        #[test]
        fn any_single_digit_change_breaks_luhn(payload in "[0-9]{15}", pos in 0usize..16, delta in 1u8..10) {
            let number = with_check_digit(&payload);
            let mut bytes = number.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            prop_assert!(!luhn_valid(std::str::from_utf8(&bytes).unwrap()));
        }

        #[test]
        fn formatting_keeps_digits_in_order(input in "[0-9 a-z-]{0,30}") {
            let formatted = format_number(&input);
            prop_assert_eq!(formatted.replace(' ', ""), digits_only(&input));
        }
    }
}
