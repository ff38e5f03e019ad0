//! The customer's locale, and amounts in it via `Intl.NumberFormat`, fed an exact decimal string
//! (no float).

use crate::api::Session;
use till_core::money::Money;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

#[wasm_bindgen]
extern "C" {
    /// `Intl.getCanonicalLocales`, which throws on a tag that is not a language tag (js-sys's
    /// binding does not catch that).
    #[wasm_bindgen(js_namespace = Intl, js_name = getCanonicalLocales, catch)]
    fn canonical_locales(tag: &str) -> Result<js_sys::Array, JsValue>;
}

/// A merchant's `locale` as the browser's `Intl` writes it (`en_us` → `en-US`), or `None` when
/// it is no language tag at all: every `Intl` formatter would throw on it, so the widget uses the
/// browser's language instead.
pub fn canonical(tag: &str) -> Option<String> {
    canonical_locales(&tag.replace('_', "-"))
        .ok()?
        .get(0)
        .as_string()
}

/// The merchant's `locale` embed option, else the browser's language, read from the address
/// (`launch::current`): the words are needed outside the component tree too (the edge's errors).
pub fn current() -> String {
    crate::launch::current()
        .and_then(|launch| launch.locale.clone())
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

/// A rate as decimal text (`1388.4973`) in `locale`'s digits and separators, to 4 decimals.
fn format_rate(rate: &str, locale: &str) -> String {
    let options = js_sys::Object::new();
    if js_sys::Reflect::set(&options, &"maximumFractionDigits".into(), &4.into()).is_err() {
        return rate.to_string();
    }
    let locales = js_sys::Array::of1(&JsValue::from_str(locale));
    js_sys::Intl::NumberFormat::new(&locales, &options)
        .format()
        .call1(&JsValue::NULL, &JsValue::from_str(rate))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| rate.to_string())
}

/// A Unix time as the hour and minute `locale` shows (`14:35`, `오후 2:35`).
fn format_time(unix_seconds: i64, locale: &str) -> String {
    // Whole seconds since 1970 are far below 2^53: exact as a JavaScript number.
    let date = js_sys::Date::new(&JsValue::from_f64((unix_seconds * 1000) as f64));
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"hour".into(), &"numeric".into());
    let _ = js_sys::Reflect::set(&options, &"minute".into(), &"2-digit".into());
    date.to_locale_time_string_with_options(locale, &options)
        .as_string()
        .unwrap_or_default()
}

/// What a checkout in the customer's currency shows beside its total: the merchant's amount
/// (`about US$32.41`) and, for screen readers, the rate, the markup and until when it holds.
pub struct ConversionText {
    pub visible: String,
    pub spoken: String,
}

pub fn conversion_text(session: &Session) -> Option<ConversionText> {
    let conversion = session.conversion.as_ref()?;
    let locale = current();
    let settlement = format_amount(
        &Money {
            amount: conversion.settlement.amount,
            currency: conversion.settlement.currency,
        },
        &locale,
    );
    let t = crate::i18n::t();
    let rate = format_rate(&conversion.rate, &locale);
    let bps = conversion.markup_bps;
    let markup = format_rate(&format!("{}.{:02}", bps / 100, bps % 100), &locale);
    Some(ConversionText {
        visible: (t.about)(&settlement),
        spoken: (t.conversion_detail)(
            &settlement,
            conversion.settlement.currency.code(),
            &rate,
            session.currency.code(),
            &markup,
            &format_time(conversion.expires_at, &locale),
        ),
    })
}

/// The session's total as the customer reads it.
pub fn amount_text(session: &Session) -> String {
    amount_of(session, session.amount)
}

/// `amount` in the session's currency, as the customer's language writes it.
pub fn amount_of(session: &Session, amount: i64) -> String {
    format_amount(
        &Money {
            amount,
            currency: session.currency,
        },
        &current(),
    )
}
