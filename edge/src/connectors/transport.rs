//! The one HTTP client connectors use: every call has a deadline that covers the whole exchange
//! (connecting, the answer and reading its body) and aborts the request when it passes, and a
//! cap on how much of an answer is read.

use super::GatewayError;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use std::time::Duration;
use worker::wasm_bindgen::JsValue;
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit};

/// A gateway's answer: its status and body.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Largest answer read (settlement files included).
const MAX_REPLY_BYTES: usize = 8 * 1024 * 1024;

fn unavailable(error: impl std::fmt::Display) -> GatewayError {
    GatewayError::Unavailable(error.to_string())
}

/// Sends one request; any status is a [`Reply`], no answer in `timeout_ms` is `Unavailable`.
pub async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, String)>,
    timeout_ms: u64,
) -> Result<Reply, GatewayError> {
    let header_map = Headers::new();
    for (name, value) in headers {
        header_map.set(name, value).map_err(unavailable)?;
    }
    let mut init = RequestInit::new();
    if let Some((content_type, _)) = &body {
        header_map
            .set("Content-Type", content_type)
            .map_err(unavailable)?;
    }
    init.with_method(method)
        .with_headers(header_map)
        .with_redirect(worker::RequestRedirect::Manual)
        .with_body(body.map(|(_, text)| JsValue::from_str(&text)));
    let request = Request::new_with_init(url, &init).map_err(unavailable)?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let exchange = Box::pin(async move {
        let mut response = Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(unavailable)?;
        let status = response.status_code();
        let mut body = Vec::new();
        if let Ok(mut stream) = response.stream() {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(unavailable)?;
                if body.len().saturating_add(chunk.len()) > MAX_REPLY_BYTES {
                    return Err(GatewayError::Unavailable("answer too large".into()));
                }
                body.extend_from_slice(&chunk);
            }
        }
        Ok(Reply { status, body })
    });
    let deadline = Delay::from(Duration::from_millis(timeout_ms));
    match select(exchange, deadline).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => {
            controller.abort();
            Err(GatewayError::Unavailable(format!(
                "no answer within {timeout_ms} ms"
            )))
        }
    }
}
