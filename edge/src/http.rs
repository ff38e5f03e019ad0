//! JSON in, JSON out: body parsing with typed errors, and responses in the API's error shape.

use serde::de::DeserializeOwned;
use serde::Serialize;
use till_core::error::ApiError;
use worker::{Env, Request, Response};

pub type ApiResult = Result<Response, ApiError>;

/// Bodies larger than this are refused before parsing.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn json<T: Serialize>(status: u16, body: &T) -> ApiResult {
    let text = serde_json::to_string(body).map_err(|_| ApiError::internal())?;
    raw_json(status, &text)
}

pub fn raw_json(status: u16, body: &str) -> ApiResult {
    let mut response = Response::ok(body)
        .map_err(|_| ApiError::internal())?
        .with_status(status);
    let headers = response.headers_mut();
    headers
        .set("Content-Type", "application/json")
        .and_then(|_| headers.set("Cache-Control", "no-store"))
        .map_err(|_| ApiError::internal())?;
    Ok(response)
}

/// Turns a handler's result into the Worker's response; errors become their JSON body.
pub fn reply(result: ApiResult) -> worker::Result<Response> {
    match result {
        Ok(response) => Ok(response),
        Err(error) => match json(error.status, &error) {
            Ok(response) => Ok(response),
            Err(_) => Response::error("internal error", 500),
        },
    }
}

/// Describes a JSON error without echoing values from the body: serde's messages for wrong
/// types quote the offending value, which could be a secret.
fn describe(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => "the body is not valid JSON".into(),
        Category::Data => {
            let text = error.to_string();
            let text = text.split(" at line").next().unwrap_or_default();
            if text.starts_with("unknown field") || text.starts_with("missing field") {
                text.to_string()
            } else {
                "a field has the wrong type or value".into()
            }
        }
    }
}

/// Reads the body as a JSON value (kept for the idempotency fingerprint).
pub async fn body_value(req: &mut Request) -> Result<serde_json::Value, ApiError> {
    let content_type = req.headers().get("Content-Type").ok().flatten();
    if !content_type.is_some_and(|t| t.starts_with("application/json")) {
        return Err(ApiError::invalid_request(
            "content_type_invalid",
            "Send the body as JSON with `Content-Type: application/json`.",
        ));
    }
    let bytes = req
        .bytes()
        .await
        .map_err(|_| ApiError::invalid_body("unreadable body"))?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::invalid_body("the body is too large"));
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::invalid_body(&describe(&e)))
}

pub fn parse<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| ApiError::invalid_body(&describe(&e)))
}

/// A query-string parameter, percent-decoded.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    let url = req.url().ok()?;
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// Headers every response carries, and CORS for origins some merchant registered (publishable-
/// key calls are further checked against the key's own merchant in `auth`).
pub async fn secure(
    response: &mut Response,
    origin: Option<String>,
    env: &Env,
    preflight: bool,
) -> worker::Result<()> {
    let headers = response.headers_mut();
    headers.set(
        "Strict-Transport-Security",
        "max-age=63072000; includeSubDomains",
    )?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    headers.set("Referrer-Policy", "no-referrer")?;
    headers.append("Vary", "Origin")?;
    let Some(origin) = origin else {
        return Ok(());
    };
    if !crate::store::origin_registered(env, &origin)
        .await
        .unwrap_or(false)
    {
        return Ok(());
    }
    headers.set("Access-Control-Allow-Origin", &origin)?;
    if preflight {
        headers.set("Access-Control-Allow-Methods", "GET, POST")?;
        headers.set(
            "Access-Control-Allow-Headers",
            "Authorization, Content-Type, Idempotency-Key",
        )?;
        headers.set("Access-Control-Max-Age", "600")?;
    } else {
        headers.set("Access-Control-Expose-Headers", "Idempotent-Replayed")?;
    }
    Ok(())
}
