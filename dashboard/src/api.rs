//! The edge's API as the dashboard calls it: same origin, so the browser sends the session
//! cookie; changes carry the session's CSRF token. Errors keep the API's `code` and message.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    pub status: u16,
    /// The API's machine-readable code (`network` when no answer came).
    pub code: String,
    pub message: String,
}

impl CallError {
    fn network() -> Self {
        CallError {
            status: 0,
            code: "network".into(),
            message: String::new(),
        }
    }

    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }
}

pub type CallResult<T> = Result<T, CallError>;

/// A list answer, of which the pages read only the objects.
#[derive(Clone, Deserialize)]
pub struct Listed<T> {
    pub data: Vec<T>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: ErrorFields,
}

#[derive(Deserialize)]
struct ErrorFields {
    code: String,
    message: String,
}

async fn decode<T: DeserializeOwned>(response: Response) -> CallResult<T> {
    let status = response.status();
    if (200..300).contains(&status) {
        return response.json::<T>().await.map_err(|_| CallError::network());
    }
    match response.json::<ErrorAnswer>().await {
        Ok(answer) => Err(CallError {
            status,
            code: answer.error.code,
            message: answer.error.message,
        }),
        Err(_) => Err(CallError {
            status,
            ..CallError::network()
        }),
    }
}

/// `GET path` (with its query already in it).
pub async fn get<T: DeserializeOwned>(path: &str) -> CallResult<T> {
    let response = Request::get(path)
        .send()
        .await
        .map_err(|_| CallError::network())?;
    decode(response).await
}

/// A change: `POST` or `DELETE` with a JSON body, the CSRF token and, for requests that move
/// money, an `Idempotency-Key`.
pub async fn send<T: DeserializeOwned, B: Serialize>(
    method: &str,
    path: &str,
    body: &B,
    csrf: Option<&str>,
    idempotency_key: Option<&str>,
) -> CallResult<T> {
    let mut builder: RequestBuilder = match method {
        "DELETE" => Request::delete(path),
        _ => Request::post(path),
    };
    if let Some(csrf) = csrf {
        builder = builder.header("X-CSRF-Token", csrf);
    }
    if let Some(key) = idempotency_key {
        builder = builder.header("Idempotency-Key", key);
    }
    let response = builder
        .json(body)
        .map_err(|_| CallError::network())?
        .send()
        .await
        .map_err(|_| CallError::network())?;
    decode(response).await
}

/// A fresh `Idempotency-Key` for one action of a person (a double click sends it twice).
pub fn new_key() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_default()
}

/// `value` percent-encoded for a query string.
pub fn encode(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}
