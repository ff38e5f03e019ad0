//! Connectors to payment gateways. Each gateway implements [`Connector`]; the sandbox connector
//! speaks the sandbox's HTTP dialect exactly as it would to a real gateway.

use crate::config::GatewaySettings;
use serde::{Deserialize, Serialize};
use till_core::secret::Secret;
use worker::wasm_bindgen::JsValue;
use worker::{Fetch, Headers, Method, Request, RequestInit};

#[derive(Serialize)]
pub struct GatewayCard {
    pub number: Secret<String>,
    pub exp_month: u8,
    pub exp_year: u16,
    pub cvc: Secret<String>,
    pub name: String,
}

/// An authorization with automatic capture.
#[derive(Serialize)]
pub struct Authorization {
    pub amount: i64,
    pub currency: String,
    /// Till's payment id, so the gateway's records can be matched to ours.
    pub reference: String,
    pub card: GatewayCard,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Captured { reference: String },
    Declined { reference: String, code: String },
}

#[derive(Debug)]
pub enum GatewayError {
    /// No answer (network error, timeout, 5xx): the charge may or may not have happened.
    Unavailable(String),
    /// The gateway refused the request itself; a bug or misconfiguration on our side.
    Rejected(String),
}

#[allow(async_fn_in_trait)]
pub trait Connector {
    /// Authorizes once per `idempotency_key`: the gateway returns the first answer to repeats.
    async fn authorize(
        &self,
        request: &Authorization,
        idempotency_key: &str,
    ) -> Result<Outcome, GatewayError>;
}

pub struct SandboxConnector {
    settings: GatewaySettings,
}

impl SandboxConnector {
    pub fn new(settings: GatewaySettings) -> Self {
        SandboxConnector { settings }
    }
}

#[derive(Deserialize)]
struct SandboxAuthorization {
    id: String,
    status: String,
    decline_code: Option<String>,
}

impl Connector for SandboxConnector {
    async fn authorize(
        &self,
        request: &Authorization,
        idempotency_key: &str,
    ) -> Result<Outcome, GatewayError> {
        let unavailable = |e: worker::Error| GatewayError::Unavailable(e.to_string());
        let body =
            serde_json::to_string(request).map_err(|e| GatewayError::Rejected(e.to_string()))?;
        let headers = Headers::new();
        headers
            .set("Content-Type", "application/json")
            .map_err(unavailable)?;
        headers
            .set(
                "Authorization",
                &format!("Bearer {}", self.settings.api_key.expose()),
            )
            .map_err(unavailable)?;
        headers
            .set("Idempotency-Key", idempotency_key)
            .map_err(unavailable)?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(JsValue::from_str(&body)));
        let url = format!("{}/v1/authorizations", self.settings.url);
        let request = Request::new_with_init(&url, &init).map_err(unavailable)?;
        let mut response = Fetch::Request(request).send().await.map_err(unavailable)?;
        let status = response.status_code();
        if status >= 500 {
            return Err(GatewayError::Unavailable(format!(
                "gateway status {status}"
            )));
        }
        if !(200..300).contains(&status) {
            return Err(GatewayError::Rejected(format!("gateway status {status}")));
        }
        let answer: SandboxAuthorization = response
            .json()
            .await
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
        match (answer.status.as_str(), answer.decline_code) {
            ("captured", _) => Ok(Outcome::Captured {
                reference: answer.id,
            }),
            ("declined", code) => Ok(Outcome::Declined {
                reference: answer.id,
                code: code.unwrap_or_else(|| "card_declined".into()),
            }),
            (other, _) => Err(GatewayError::Rejected(format!("unknown status {other}"))),
        }
    }
}
