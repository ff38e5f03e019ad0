//! Every request body of the HTTP API, parsed from the same bytes, and the idempotency
//! fingerprint over whatever JSON the bytes hold.
//!
//! Invariants: nothing panics; every parsed request round-trips through JSON; what `validate`
//! accepts satisfies the documented rules; the fingerprint is 64 hex digits and does not depend
//! on key order or whitespace.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use till_core::api::{
    CancelPayment, CaptureMethod, CapturePayment, CompleteChallenge, ConfirmCheckoutSession,
    CreateCheckoutSession, CreateCustomerSession, CreatePayment, CreateRefund, CreateToken,
    CreateTopUp, CreateWebhookEndpoint, PayWith, Purpose, WalletPayout, WalletTransfer,
    EVENT_TYPES,
};
use till_core::card::CvcPayload;
use till_core::customer::{
    normalize_email, normalize_phone, CreateCustomer, Details, LookupCustomers, UpdateCustomer,
};
use till_core::idempotency::fingerprint;
use till_core::money::MAX_AMOUNT_MINOR;
use till_core::payment_method_type::{checked, PaymentMethodType, SessionTerms};
use till_core::payout::CreatePayout;
use till_core::transfer::{CreateTransfer, Recipient};
use till_core::urls::{check_return_url, check_webhook_url, DevHosts, MAX_URL_LEN};
use till_core::wallet_payment::checkout_split;

/// Parses `data` as `T`; when it parses, checks that it serializes and parses back unchanged.
fn parse<T>(data: &[u8]) -> Option<T>
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let value: T = serde_json::from_slice(data).ok()?;
    let json = serde_json::to_vec(&value).expect("a request serializes");
    let back: T = serde_json::from_slice(&json).expect("and parses back");
    assert_eq!(
        back,
        value,
        "round trip through {}",
        String::from_utf8_lossy(&json)
    );
    Some(value)
}

fn check_checkout_session(session: &CreateCheckoutSession) {
    let Ok(total) = session.validate(DevHosts::default()) else {
        return;
    };
    assert_eq!(total.amount, session.amount);
    assert_eq!(total.currency, session.currency);
    assert!((1..=MAX_AMOUNT_MINOR).contains(&session.amount));
    assert!(session.line_items.len() <= 100);
    let text_ok = |text: &str| text.chars().count() <= 200 && !text.chars().any(char::is_control);
    if !session.line_items.is_empty() {
        let mut sum: i128 = 0;
        for item in &session.line_items {
            assert!(!item.name.trim().is_empty() && text_ok(&item.name));
            assert!(item.quantity > 0);
            assert!((1..=MAX_AMOUNT_MINOR).contains(&item.unit_amount));
            sum += i128::from(item.unit_amount) * i128::from(item.quantity);
        }
        assert_eq!(sum, i128::from(session.amount), "the cart adds up");
    }
    if let Some(url) = &session.return_url {
        assert!(url.len() <= MAX_URL_LEN);
        assert!(check_return_url(url, DevHosts::default()).is_ok());
        let scheme = url.split(':').next().unwrap_or_default();
        assert!(!scheme.eq_ignore_ascii_case("javascript"));
    }
    assert!(session.merchant_reference.as_deref().is_none_or(text_ok));
    // The ways it may be paid: at least one, none twice, no bank for money held for capture,
    // and a wallet only for a customer's plain payment.
    let terms = SessionTerms {
        capture_method: session.capture_method,
        purpose: session.purpose,
        converted: session.fx_quote.is_some(),
        has_customer: session.customer.is_some(),
    };
    if let Ok(methods) = checked(session.payment_method_types.as_deref(), &terms) {
        assert!(!methods.is_empty());
        for (i, method) in methods.iter().enumerate() {
            assert!(!methods.iter().skip(i + 1).any(|other| other == method));
        }
        assert!(
            session.capture_method == CaptureMethod::Automatic
                || !methods.contains(&PaymentMethodType::BankRedirect)
        );
        if methods.contains(&PaymentMethodType::Wallet) {
            assert!(session.customer.is_some() && session.fx_quote.is_none());
            assert_eq!(session.capture_method, CaptureMethod::Automatic);
            assert_eq!(session.purpose, Purpose::Payment);
        }
    }
}

fn check_pay_with(confirm: &ConfirmCheckoutSession, pay_with: PayWith) {
    let with_card = match &pay_with {
        PayWith::Token(_) | PayWith::PaymentMethod(_) => true,
        // A bank id is passed on only when it is a short plain name, and pays all of it.
        PayWith::Bank(id) => {
            assert!(till_core::payment_method_type::is_valid_bank_id(id));
            assert!(confirm.wallet_amount.is_none());
            return;
        }
        PayWith::Wallet => false,
    };
    // Whatever the wallet is asked for, the parts it leads to are whole and add up.
    let Some(asked) = confirm.wallet_amount else {
        return;
    };
    let amount = 5_000;
    if let Ok(split) = checkout_split(amount, asked, with_card) {
        assert!(split.wallet > 0 && split.card >= 0);
        assert_eq!(split.wallet + split.card, amount);
        assert_eq!(split.card > 0, with_card);
    }
}

fn check_webhook_endpoint(endpoint: &CreateWebhookEndpoint) {
    let Ok(url) = endpoint.validate(DevHosts::default()) else {
        return;
    };
    // What Till stores and calls: https, normalized (checking it again changes nothing).
    assert!(url.starts_with("https://"), "{url}");
    assert_eq!(
        check_webhook_url(&url, DevHosts::default()).as_ref(),
        Ok(&url)
    );
    assert!(!endpoint.events.is_empty());
    assert!(endpoint
        .events
        .iter()
        .all(|e| EVENT_TYPES.contains(&e.as_str())));
}

/// Accepted details are normalized: normalizing them again changes nothing.
fn check_details(details: &Details) {
    if let Some(email) = &details.email {
        assert_eq!(normalize_email(email).as_ref(), Ok(email));
        assert_eq!(email, &email.to_lowercase());
    }
    if let Some(phone) = &details.phone {
        assert_eq!(normalize_phone(phone).as_ref(), Ok(phone));
        assert!(phone.starts_with('+') && phone[1..].bytes().all(|b| b.is_ascii_digit()));
    }
    assert!(details.metadata.len() <= 20);
    let text_ok = |text: &str| !text.chars().any(char::is_control);
    assert!(details
        .name
        .as_deref()
        .is_none_or(|n| !n.trim().is_empty() && text_ok(n)));
}

fn check_transfer(transfer: &CreateTransfer) {
    let Ok(request) = transfer.validate() else {
        return;
    };
    assert!((1..=MAX_AMOUNT_MINOR).contains(&request.money.amount));
    match &request.recipient {
        Recipient::Customer(id) => assert_ne!(id, &request.sender),
        Recipient::Phone(phone) => assert_eq!(normalize_phone(phone).as_ref(), Ok(phone)),
        Recipient::Email(email) => assert_eq!(normalize_email(email).as_ref(), Ok(email)),
    }
    assert!(request
        .note
        .as_deref()
        .is_none_or(|n| n.chars().count() <= 140 && !n.is_empty()));
}

fn check_payout(payout: &CreatePayout) {
    let Ok(request) = payout.validate() else {
        return;
    };
    assert!((1..=MAX_AMOUNT_MINOR).contains(&request.money.amount));
    let account = &request.bank_account;
    let digits = |text: &str, range: std::ops::RangeInclusive<usize>| {
        range.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
    };
    assert!(digits(&account.routing_number, 3..=11));
    assert!(digits(account.account_number.expose(), 4..=17));
    assert_eq!(account.last4().len(), 4);
    let name = &account.holder_name;
    assert!(!name.trim().is_empty() && name.trim() == name && !name.chars().any(char::is_control));
}

fn has_float(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Number(n) => n.is_f64(),
        serde_json::Value::Array(items) => items.iter().any(has_float),
        serde_json::Value::Object(map) => map.values().any(has_float),
        _ => false,
    }
}

/// `value` as JSON text with every object's keys in reverse order and spaces around tokens.
fn write_reversed(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Array(items) => {
            out.push_str("[ ");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(" , ");
                }
                write_reversed(item, out);
            }
            out.push_str(" ]");
        }
        serde_json::Value::Object(map) => {
            out.push_str("{ ");
            for (i, (key, item)) in map.iter().rev().enumerate() {
                if i > 0 {
                    out.push_str(" , ");
                }
                out.push_str(&serde_json::to_string(key).expect("a key serializes"));
                out.push_str(" : ");
                write_reversed(item, out);
            }
            out.push_str(" }");
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Some(session) = parse::<CreateCheckoutSession>(data) {
        check_checkout_session(&session);
    }
    parse::<CreateToken>(data);
    if let Some(confirm) = parse::<ConfirmCheckoutSession>(data) {
        if let Ok(pay_with) = confirm.pay_with() {
            check_pay_with(&confirm, pay_with);
        }
    }
    if let Some(Ok(money)) = parse::<CreatePayment>(data).map(|p| p.validate()) {
        assert!((1..=MAX_AMOUNT_MINOR).contains(&money.amount));
    }
    if let Some(session) = parse::<CreateCustomerSession>(data) {
        if session.validate(DevHosts(&[])).is_ok() {
            assert!(session
                .return_url
                .as_deref()
                .is_none_or(|url| check_return_url(url, DevHosts(&[])).is_ok()));
        }
    }
    // The wallet page's bodies become the merchant API's, for the session's customer.
    let customer = "cus_5f0c2b9e8d7a4c1b9e3f6a2d4c8b1e7f";
    if let Some(transfer) = parse::<WalletTransfer>(data) {
        let made = transfer.from(customer);
        assert_eq!(made.source, "wallet");
        check_transfer(&made);
    }
    if let Some(payout) = parse::<WalletPayout>(data) {
        check_payout(&payout.from(customer));
    }
    parse::<CreateTopUp>(data);
    // A saved card's code, as the edge reads it once decrypted: any bytes the customer chose.
    if let Ok(payload) = serde_json::from_slice::<CvcPayload>(data) {
        let _ = payload.check(1_764_000_000);
    }
    parse::<CompleteChallenge>(data);
    parse::<CapturePayment>(data);
    parse::<CancelPayment>(data);
    parse::<CreateRefund>(data);
    if let Some(endpoint) = parse::<CreateWebhookEndpoint>(data) {
        check_webhook_endpoint(&endpoint);
    }
    if let Some(Ok(details)) = parse::<CreateCustomer>(data).map(|c| c.validate()) {
        check_details(&details);
    }
    if let Some(Ok(details)) = parse::<UpdateCustomer>(data).map(|u| u.apply(Details::default())) {
        check_details(&details);
    }
    if let Some(Ok(hashes)) = parse::<LookupCustomers>(data).map(|l| l.validate()) {
        assert!(!hashes.is_empty() && hashes.len() <= 1000);
        assert!(hashes.iter().all(|h| h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))));
    }
    if let Some(transfer) = parse::<CreateTransfer>(data) {
        check_transfer(&transfer);
    }
    if let Some(payout) = parse::<CreatePayout>(data) {
        check_payout(&payout);
    }

    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) {
        let print = fingerprint("POST", "/v1/checkout/sessions", &body);
        assert_eq!(print.len(), 64);
        assert!(print
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        // Canonical: the same JSON written differently (key order, spacing) has the same
        // fingerprint. Floats are left out: serde_json's default float parsing is best-effort.
        if !has_float(&body) {
            let mut reordered = String::new();
            write_reversed(&body, &mut reordered);
            let again: serde_json::Value =
                serde_json::from_str(&reordered).expect("reordered JSON parses");
            assert_eq!(again, body);
            assert_eq!(fingerprint("POST", "/v1/checkout/sessions", &again), print);
        }
    }
});
