//! JSON through the browser's own parser and printer (`JSON.parse` / `JSON.stringify`), with
//! serde-wasm-bindgen between JS values and Rust types: the widget ships no JSON parser of its
//! own, which saved about 8 KB gzip.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// A JS value with the shape `JSON.stringify` gives: maps as plain objects, `None` as `null`.
pub fn to_js<T: Serialize>(value: &T) -> Option<JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .ok()
}

pub fn to_string<T: Serialize>(value: &T) -> Option<String> {
    js_sys::JSON::stringify(&to_js(value)?).ok()?.as_string()
}

/// `None` when `text` is not JSON or not a `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_wasm_bindgen::from_value(js_sys::JSON::parse(text).ok()?).ok()
}
