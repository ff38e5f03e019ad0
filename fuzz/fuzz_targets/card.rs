//! Card data: the decrypted JWE plaintext (`CardPayload`, `CardDetails`) and the text helpers
//! the widget and the edge run on what the customer typed.
//!
//! Invariants: nothing panics; whatever validates satisfies the card rules (Luhn, brand lengths,
//! CVC length, expiry window, name) and reports a `last4` of four ASCII digits that end the
//! normalized number; validation is idempotent; payloads round-trip through JSON; the formatting
//! helpers only ever emit digits (and spaces or a slash).
#![no_main]

use libfuzzer_sys::fuzz_target;
use till_core::card::{
    digits_only, format_expiry, format_number, luhn_valid, normalize_number, parse_expiry,
    validate_cvc, validate_name, validate_number, Brand, CardDetails, CardPayload, PayloadError,
    MAX_NAME_CHARS, PAYLOAD_MAX_AGE_SECONDS, PAYLOAD_MAX_SKEW_SECONDS,
};
use till_fuzz as fx;

fn check_details(card: &CardDetails) {
    let Ok(valid) = card.validate(fx::THIS_MONTH) else {
        return;
    };
    let summary = &valid.summary;
    assert!(
        summary.last4.len() == 4 && summary.last4.bytes().all(|b| b.is_ascii_digit()),
        "last4 {:?} is not four digits",
        summary.last4
    );
    // What Till keeps from here on: the normalized number and the trimmed name.
    let digits = valid.card.number.expose();
    assert_eq!(normalize_number(card.number.expose()).as_ref(), Ok(digits));
    assert!(digits.bytes().all(|b| b.is_ascii_digit()));
    assert!(digits.ends_with(&summary.last4), "last4 ends the number");
    assert!(luhn_valid(digits));
    assert_eq!(Brand::detect(digits), Some(summary.brand));
    assert!(summary.brand.valid_lengths().contains(&digits.len()));
    assert_eq!(card.cvc.expose().len(), summary.brand.cvc_length());
    assert!(card.cvc.expose().bytes().all(|b| b.is_ascii_digit()));
    assert!((1..=12).contains(&card.exp_month));
    assert!(
        (card.exp_year, card.exp_month) >= (fx::THIS_MONTH.year, fx::THIS_MONTH.month)
            && card.exp_year <= fx::THIS_MONTH.year + 50
    );
    let name = &valid.card.name;
    assert_eq!(name, card.name.trim());
    assert!(!name.is_empty() && name.chars().count() <= MAX_NAME_CHARS);
    assert!(!name.chars().any(char::is_control));
    assert_eq!(
        (summary.exp_month, summary.exp_year),
        (card.exp_month, card.exp_year)
    );
    // Validating what validation returned changes nothing.
    assert_eq!(valid.card.validate(fx::THIS_MONTH).as_ref(), Ok(&valid));
}

fn check_payload(payload: &CardPayload) {
    check_details(&payload.card);
    match payload.check(fx::NOW) {
        Ok(()) => {
            assert!(payload.iat >= fx::NOW - PAYLOAD_MAX_AGE_SECONDS);
            assert!(payload.iat <= fx::NOW + PAYLOAD_MAX_SKEW_SECONDS);
            assert!((22..=128).contains(&payload.nonce.len()));
            assert!(payload
                .nonce
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
        Err(PayloadError::Expired | PayloadError::FromTheFuture | PayloadError::BadNonce) => {}
    }
    let json = serde_json::to_vec(payload).expect("a payload serializes");
    let back: CardPayload = serde_json::from_slice(&json).expect("and parses back");
    assert_eq!(&back, payload);
}

fn check_text(text: &str) {
    if let Ok(digits) = normalize_number(text) {
        assert!(!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
        assert!(text.len() <= 40);
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b' ' || b == b'-'));
    }
    if let Ok(brand) = validate_number(text) {
        let digits = normalize_number(text).expect("a valid number normalizes");
        assert!(luhn_valid(&digits));
        assert_eq!(Brand::detect(&digits), Some(brand));
        assert!(brand.valid_lengths().contains(&digits.len()));
    }

    let digits = digits_only(text);
    assert!(digits.len() <= 19 && digits.bytes().all(|b| b.is_ascii_digit()));
    let all_digits: String = text.chars().filter(char::is_ascii_digit).collect();
    assert!(all_digits.starts_with(&digits));
    let formatted = format_number(text);
    assert!(formatted.bytes().all(|b| b.is_ascii_digit() || b == b' '));
    assert_eq!(formatted.replace(' ', ""), digits);

    let expiry = format_expiry(text);
    assert!(expiry.len() <= 5);
    assert!(expiry.bytes().all(|b| b.is_ascii_digit() || b == b'/'));
    if let Ok((month, year)) = parse_expiry(text) {
        assert!(month <= 99 && (2000..=2099).contains(&year));
    }
    // What the widget does: format as typed, then parse.
    if let Ok((month, year)) = parse_expiry(&expiry) {
        assert!(month <= 99 && (2000..=2099).contains(&year));
    }

    if let Ok(name) = validate_name(text) {
        assert_eq!(name, text.trim());
        assert!(!name.is_empty() && name.chars().count() <= MAX_NAME_CHARS);
        assert!(!name.chars().any(char::is_control));
    }

    for brand in Brand::ALL {
        if validate_cvc(text, brand).is_ok() {
            assert_eq!(text.len(), brand.cvc_length());
            assert!(text.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = serde_json::from_slice::<CardPayload>(data) {
        check_payload(&payload);
    }
    if let Ok(card) = serde_json::from_slice::<CardDetails>(data) {
        check_details(&card);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        check_text(text);
    }
});
