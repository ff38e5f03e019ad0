//! JSON in, JSON out: body parsing with typed errors, and responses in the API's error shape.

use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use till_core::api::Page;
use till_core::error::{ApiError, ErrorCode};
use till_core::ids::IdKind;
use worker::{Env, Request, Response};

pub type ApiResult = Result<Response, ApiError>;

/// JSON bodies of authenticated endpoints larger than this are refused (413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

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
        Err(error) => {
            let mut response = match json(error.status(), &error) {
                Ok(response) => response,
                Err(_) => return Response::error("internal error", 500),
            };
            if let Some(seconds) = error.retry_after {
                response
                    .headers_mut()
                    .set("Retry-After", &seconds.to_string())?;
            }
            Ok(response)
        }
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

/// Reads the body, refusing more than `limit` bytes: first by its `Content-Length`, before a byte
/// is read, then while reading (a body may come without a length, or lie about it).
pub async fn read_body(req: &mut Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    if let Some(length) = header(req, "Content-Length") {
        let length: u64 = length
            .trim()
            .parse()
            .map_err(|_| ApiError::new(ErrorCode::ContentLengthInvalid))?;
        if length > u64::try_from(limit).unwrap_or(u64::MAX) {
            return Err(ApiError::body_too_large(limit));
        }
    }
    let mut body = Vec::new();
    // A request without a body has no stream.
    let Ok(mut stream) = req.stream() else {
        return Ok(body);
    };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::invalid_body("unreadable body"))?;
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(ApiError::body_too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads the body as a JSON value (kept for the idempotency fingerprint). Duplicate member names
/// are refused: `{"amount":100,"amount":99999999}` has no single meaning.
pub async fn body_value(req: &mut Request) -> Result<serde_json::Value, ApiError> {
    body_value_within(req, MAX_BODY_BYTES).await
}

/// A JSON body of at most `limit` bytes: for the one endpoint whose bodies carry files.
pub async fn body_value_within(
    req: &mut Request,
    limit: usize,
) -> Result<serde_json::Value, ApiError> {
    let content_type = req.headers().get("Content-Type").ok().flatten();
    if !content_type.is_some_and(|t| t.starts_with("application/json")) {
        return Err(ApiError::new(ErrorCode::ContentTypeInvalid));
    }
    let bytes = read_body(req, limit).await?;
    till_core::json::parse_strict(&bytes).map_err(|e| ApiError::invalid_body(&e.to_string()))
}

pub fn parse<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| ApiError::invalid_body(&describe(&e)))
}

/// The query string as name/value pairs, percent-decoded.
pub fn query_pairs(req: &Request) -> Result<Vec<(String, String)>, ApiError> {
    let url = req.url().map_err(|_| ApiError::internal())?;
    Ok(url
        .query_pairs()
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect())
}

/// The page a list request asks for (`limit`, `starting_after` an id of `kind`).
pub fn page_param(req: &Request, kind: IdKind) -> Result<Page, ApiError> {
    Page::parse(
        query_param(req, "limit").as_deref(),
        query_param(req, "starting_after").as_deref(),
        kind,
    )
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
    if !crate::auth::origin_registered(env, &origin)
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
        headers.set(
            "Access-Control-Expose-Headers",
            "Idempotent-Replayed, Retry-After, Request-Id",
        )?;
    }
    Ok(())
}
