//! The one error shape of the API: `{"error": {"type", "code", "message", "param"}}` plus an HTTP status.

use crate::card::CardError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    InvalidRequestError,
    AuthenticationError,
    CardError,
    IdempotencyError,
    ApiError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    #[serde(rename = "type")]
    pub kind: ErrorType,
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

/// An error response: the status plus the body clients see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: u16,
    pub error: ErrorDetail,
    /// Seconds until a refused request may be tried again (`Retry-After`), for 429s.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, kind: ErrorType, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error: ErrorDetail {
                kind,
                code: code.to_string(),
                message: message.into(),
                param: None,
            },
            retry_after: None,
        }
    }

    pub fn with_param(mut self, param: &str) -> Self {
        self.error.param = Some(param.to_string());
        self
    }

    pub fn invalid_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, ErrorType::InvalidRequestError, code, message)
    }

    /// A body that is not JSON or does not match the endpoint's schema. The parser's text is kept
    /// short and never includes the offending value.
    pub fn invalid_body(detail: &str) -> Self {
        Self::invalid_request(
            "parameter_invalid",
            format!("Invalid request body: {detail}"),
        )
    }

    pub fn missing_key() -> Self {
        Self::new(
            401,
            ErrorType::AuthenticationError,
            "api_key_missing",
            "Provide your API key in an `Authorization: Bearer` header.",
        )
    }

    pub fn invalid_key() -> Self {
        Self::new(
            401,
            ErrorType::AuthenticationError,
            "api_key_invalid",
            "The API key provided is not valid.",
        )
    }

    pub fn secret_key_required() -> Self {
        Self::new(
            403,
            ErrorType::AuthenticationError,
            "secret_key_required",
            "This request needs your secret key; publishable keys cannot make it.",
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            404,
            ErrorType::InvalidRequestError,
            "resource_missing",
            format!("No such {what}."),
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            ErrorType::InvalidRequestError,
            "method_not_allowed",
            "This endpoint does not accept that HTTP method.",
        )
    }

    pub fn card(error: CardError) -> Self {
        Self::new(402, ErrorType::CardError, error.code(), error.message())
            .with_param(error.field())
    }

    pub fn payment_invalid_state(status: crate::payment::PaymentStatus, action: &str) -> Self {
        Self::new(
            409,
            ErrorType::InvalidRequestError,
            "payment_invalid_state",
            format!("A payment that is {status} cannot be {action}."),
        )
    }

    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            413,
            ErrorType::InvalidRequestError,
            "body_too_large",
            format!("The request body is larger than this endpoint accepts ({limit} bytes)."),
        )
    }

    /// Too many requests in a sliding window; `retry_after` seconds until one more is allowed.
    pub fn rate_limited(what: &str, retry_after: u64) -> Self {
        let mut error = Self::new(
            429,
            ErrorType::InvalidRequestError,
            "rate_limited",
            format!("Too many requests for this {what}. Retry after {retry_after} seconds."),
        );
        error.retry_after = Some(retry_after.max(1));
        error
    }

    pub fn origin_required() -> Self {
        Self::new(
            403,
            ErrorType::AuthenticationError,
            "origin_required",
            "Publishable keys work only from a browser page: the request has no Origin header.",
        )
    }

    pub fn origin_not_allowed() -> Self {
        Self::new(
            403,
            ErrorType::AuthenticationError,
            "origin_not_allowed",
            "This origin is not registered for the publishable key.",
        )
    }

    pub fn session_locked() -> Self {
        Self::new(
            409,
            ErrorType::InvalidRequestError,
            "checkout_session_locked",
            "This checkout session is locked after too many failed payment attempts. \
             Start a new checkout.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            500,
            ErrorType::ApiError,
            "internal_error",
            "Something went wrong on Till's side. It is safe to retry.",
        )
    }

    pub fn gateway_unavailable() -> Self {
        Self::new(
            502,
            ErrorType::ApiError,
            "gateway_unavailable",
            "The payment gateway did not answer in time; the payment may still be processing. \
             Retry with the same Idempotency-Key to get its result.",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status, self.error.code, self.error.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_in_the_documented_shape() {
        let err = ApiError::card(CardError::ExpiredCard);
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(err.status, 402);
        assert_eq!(json["error"]["type"], "card_error");
        assert_eq!(json["error"]["code"], "expired_card");
        assert_eq!(json["error"]["param"], "expiry");
        assert!(json.get("status").is_none());
    }
}
