//! The customer's locale, and amounts in it via `Intl.NumberFormat`, fed an exact decimal string
//! (no float).

use crate::api::Session;
use till_core::money::Money;
use wasm_bindgen::JsValue;

/// The merchant's `locale` embed option, else the browser's language. Read from the address, not
/// the App's context: the words are needed outside the component tree too (the edge's errors).
pub fn current() -> String {
    crate::launch::current()
        .and_then(|launch| launch.locale)
        .or_else(|| web_sys::window().and_then(|w| w.navigator().language()))
        .unwrap_or_else(|| "en-US".into())
}

/// `money` as a customer in `locale` reads it (`$12.50`, `₩15,000`).
pub fn format_amount(money: &Money, locale: &str) -> String {
    let options = js_sys::Object::new();
    let set = |k: &str, v: &str| js_sys::Reflect::set(&options, &k.into(), &v.into());
    let fallback = money.to_string();
    if set("style", "currency").is_err() || set("currency", money.currency.code()).is_err() {
        return fallback;
    }
    let locales = js_sys::Array::of1(&JsValue::from_str(locale));
    let formatter = js_sys::Intl::NumberFormat::new(&locales, &options);
    let format = formatter.format();
    format
        .call1(
            &JsValue::NULL,
            &JsValue::from_str(&money.to_decimal_string()),
        )
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or(fallback)
}

/// The session's total as the customer reads it.
pub fn amount_text(session: &Session) -> String {
    format_amount(
        &Money {
            amount: session.amount,
            currency: session.currency,
        },
        &current(),
    )
}
