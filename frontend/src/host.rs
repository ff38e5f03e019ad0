//! Messages to whoever hosts the widget: the merchant page (postMessage to its exact origin), or
//! a mobile app (JS bridges, then the session's return URL). Only state and results travel;
//! never card data.

use crate::json::{to_string, ToJson};
use crate::launch::{self, Mode};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// Posts to the parent window, only when launched with the parent's origin. The origin is read
/// from the address (`launch::current`): this also runs from async tasks and browser callbacks.
pub fn post<T: ToJson>(kind: &str, payload: T) {
    post_value(kind, payload.to_json());
}

/// `{source: "till", type, payload, height}`.
fn post_value(kind: &str, payload: JsValue) {
    let Some(origin) = launch::current().and_then(|l| l.parent_origin.as_deref()) else {
        return;
    };
    let Some(window) = web_sys::window() else {
        return;
    };
    let height = window
        .document()
        .and_then(|d| d.document_element())
        .map(|e| f64::from(e.scroll_height()));
    let message = js_sys::Object::new();
    let fields = [
        ("source", JsValue::from_str("till")),
        ("type", JsValue::from_str(kind)),
        ("payload", payload),
    ];
    for (name, value) in fields {
        let _ = js_sys::Reflect::set(&message, &JsValue::from_str(name), &value);
    }
    if let Some(height) = height {
        let _ = js_sys::Reflect::set(&message, &JsValue::from_str("height"), &height.into());
    }
    if let Ok(Some(parent)) = window.parent() {
        // The browser drops the message unless the parent really is `origin`.
        let _ = parent.post_message(&message, origin);
    }
}

/// Hands the result to a mobile app's JS bridge, when there is one: WKWebView's
/// `window.webkit.messageHandlers.till` or Android's `window.TillAndroid` (addJavascriptInterface).
pub fn tell_app<T: ToJson>(result: &T) {
    let (Some(window), Some(text)) = (web_sys::window(), to_string(result)) else {
        return;
    };
    let get = |target: &JsValue, name: &str| {
        js_sys::Reflect::get(target, &name.into())
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    };
    let call = |target: &JsValue, method: &str, argument: JsValue| {
        if let Some(function) =
            get(target, method).and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        {
            let _ = function.call1(target, &argument);
        }
    };
    let ios = get(&window, "webkit")
        .and_then(|w| get(&w, "messageHandlers"))
        .and_then(|h| get(&h, "till"));
    if let Some(handler) = ios {
        call(&handler, "postMessage", result.to_json());
    }
    if let Some(android) = get(&window, "TillAndroid") {
        call(&android, "onResult", text.into());
    }
}

/// Sends the customer back to the session's `return_url` (any scheme but `javascript:`, checked
/// at session creation) with the result in the query, after the receipt has been seen briefly.
pub fn return_to(return_url: &str, payment: &str, status: &str, session: &str) {
    let Ok(url) = web_sys::Url::new(return_url) else {
        return;
    };
    let query = url.search_params();
    query.append("status", status);
    query.append("payment", payment);
    query.append("checkout_session", session);
    let target = url.href();
    let go = Closure::<dyn FnMut()>::once(move || {
        if let Some(window) = web_sys::window() {
            let _ = window.location().set_href(&target);
        }
    });
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            go.as_ref().unchecked_ref(),
            RETURN_DELAY_MS,
        );
    }
    go.forget();
}

/// Long enough to read "Payment successful", short enough not to wait.
const RETURN_DELAY_MS: i32 = 1500;

/// Tells the parent the widget's height whenever it changes, so the iframe fits its content.
pub fn report_height_changes(mode: Mode) {
    if mode != Mode::Embedded {
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
