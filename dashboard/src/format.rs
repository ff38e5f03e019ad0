//! Amounts and dates as the person's browser writes them (`Intl`), from exact values: money as
//! a decimal string of its minor units, never a float.

use crate::strings::locale;
use till_core::money::{Currency, Money};
use wasm_bindgen::JsValue;

pub fn money(amount: i64, currency: Currency) -> String {
    let money = Money { amount, currency };
    let options = js_sys::Object::new();
    let set = |k: &str, v: &str| js_sys::Reflect::set(&options, &k.into(), &v.into());
    if set("style", "currency").is_err() || set("currency", currency.code()).is_err() {
        return money.to_string();
    }
    let locales = js_sys::Array::of1(&JsValue::from_str(&locale()));
    js_sys::Intl::NumberFormat::new(&locales, &options)
        .format()
        .call1(
            &JsValue::NULL,
            &JsValue::from_str(&money.to_decimal_string()),
        )
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| money.to_string())
}

/// Unix seconds as a local date and time.
pub fn date_time(seconds: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(seconds as f64 * 1000.0));
    date.to_locale_string(&locale(), &JsValue::UNDEFINED).into()
}

/// Unix seconds as a local date.
pub fn date(seconds: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(seconds as f64 * 1000.0));
    date.to_locale_date_string(&locale(), &JsValue::UNDEFINED)
        .into()
}

/// A `YYYY-MM-DD` day label shortened to `MM-DD` for a chart's axis.
pub fn short_day(day: &str) -> String {
    day.get(5..).unwrap_or(day).to_string()
}

/// Basis points as a percentage with one decimal, rounded half up (`6667` → `66.7%`).
pub fn percent(bps: i64) -> String {
    let tenths = (bps.max(0) + 5) / 10;
    format!("{}.{}%", tenths / 10, tenths % 10)
}
