//! Messages to whoever hosts the widget: the merchant page (postMessage to its exact origin), or
//! a mobile app (JS bridges, then the session's return URL). Only state and results travel;
//! never card data.

use crate::launch::{self, Mode};
use serde::Serialize;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

#[derive(Serialize)]
pub struct Message<'a, T: Serialize> {
    source: &'static str,
    #[serde(rename = "type")]
    kind: &'a str,
    payload: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<f64>,
}

fn to_js<T: Serialize>(value: &T) -> Option<wasm_bindgen::JsValue> {
    let text = serde_json::to_string(value).ok()?;
    js_sys::JSON::parse(&text).ok()
}

/// Posts to the parent window, only when launched with the parent's origin.
pub fn post<T: Serialize>(kind: &str, payload: T) {
    let Some(origin) = launch::current().and_then(|l| l.parent_origin) else {
        return;
    };
    let Some(window) = web_sys::window() else {
        return;
    };
    let height = window
        .document()
        .and_then(|d| d.document_element())
        .map(|e| f64::from(e.scroll_height()));
    let message = Message {
        source: "till",
        kind,
        payload,
        height,
    };
    if let (Some(value), Ok(Some(parent))) = (to_js(&message), window.parent()) {
        // The browser drops the message unless the parent really is `origin`.
        let _ = parent.post_message(&value, &origin);
    }
}

/// Tells the parent the widget's height whenever it changes, so the iframe fits its content.
pub fn report_height_changes() {
    let Some(launch) = launch::current() else {
        return;
    };
    if launch.mode != Mode::Embedded {
        return;
    }
    let callback = Closure::<dyn FnMut()>::new(move || post("resize", ()));
    let Ok(observer) = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()) else {
        return;
    };
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        observer.observe(&root);
    }
    // The observer lives as long as the page.
    callback.forget();
}
