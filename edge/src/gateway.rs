//! Connectors to payment gateways. Each gateway implements [`Connector`] and translates its
//! dialect into [`GatewayState`]; the sandbox connector speaks the sandbox's HTTP dialect exactly
//! as it would to a real gateway. Every call carries an idempotency key, so repeating a call
//! never repeats its effect.

use crate::config::GatewaySettings;
use futures_util::future::{select, Either};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use till_core::payment::GatewayState;
use till_core::secret::Secret;
use worker::wasm_bindgen::JsValue;
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit};

#[derive(Serialize)]
pub struct GatewayCard {
    pub number: Secret<String>,
    pub exp_month: u8,
    pub exp_year: u16,
    pub cvc: Secret<String>,
    pub name: String,
}

#[derive(Serialize)]
pub struct Authorization {
    pub amount: i64,
    pub currency: String,
    /// Till's payment id, so the gateway's records can be matched to ours.
    pub reference: String,
    /// Capture with the authorization (`automatic`) or later (`manual`).
    pub capture: bool,
    pub card: GatewayCard,
}

/// The gateway's view of one authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPayment {
    pub reference: String,
    pub state: GatewayState,
}

#[derive(Debug)]
pub enum GatewayError {
    /// No answer (network error, timeout, 5xx): the call may or may not have taken effect.
    Unavailable(String),
    /// The gateway refused the request: it had no effect.
    Rejected { status: u16, code: String },
}

#[allow(async_fn_in_trait)]
pub trait Connector {
    async fn authorize(
        &self,
        request: &Authorization,
        key: &str,
    ) -> Result<GatewayPayment, GatewayError>;
    /// The authorization made with `key`, if the gateway has one: how recovery learns what a
    /// request that died did, without authorizing again.
    async fn find(&self, key: &str) -> Result<Option<GatewayPayment>, GatewayError>;
    async fn challenge(
        &self,
        reference: &str,
        otp: &str,
        key: &str,
    ) -> Result<GatewayPayment, GatewayError>;
    async fn capture(
        &self,
        reference: &str,
        amount: i64,
        key: &str,
    ) -> Result<GatewayPayment, GatewayError>;
    async fn void(&self, reference: &str, key: &str) -> Result<GatewayPayment, GatewayError>;
    /// Refunds `amount` (`refund_id` is Till's, echoed in the settlement file); returns the
    /// gateway's refund id.
    async fn refund(
        &self,
        reference: &str,
        amount: i64,
        refund_id: &str,
        key: &str,
    ) -> Result<String, GatewayError>;
    /// The settlement file of a UTC day (`YYYY-MM-DD`), as CSV.
    async fn settlement(&self, date: &str) -> Result<String, GatewayError>;
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
    #[serde(default)]
    reference: String,
    status: String,
    decline_code: Option<String>,
    amount_captured: i64,
    challenge: Option<SandboxChallenge>,
}

#[derive(Deserialize)]
struct SandboxChallenge {
    attempts_remaining: u8,
}

#[derive(Deserialize)]
struct SandboxRefund {
    id: String,
}

#[derive(Deserialize)]
struct SandboxError {
    error: SandboxErrorBody,
}

#[derive(Deserialize)]
struct SandboxErrorBody {
    code: String,
}

impl TryFrom<SandboxAuthorization> for GatewayPayment {
    type Error = GatewayError;
    fn try_from(answer: SandboxAuthorization) -> Result<Self, GatewayError> {
        let state = match answer.status.as_str() {
            "requires_action" => GatewayState::RequiresAction {
                attempts_remaining: answer.challenge.map_or(0, |c| c.attempts_remaining),
            },
            "authorized" => GatewayState::Authorized,
            "captured" => GatewayState::Captured {
                amount: answer.amount_captured,
            },
            "declined" => GatewayState::Declined {
                code: answer
                    .decline_code
                    .unwrap_or_else(|| "card_declined".into()),
            },
            "voided" => GatewayState::Voided,
            other => {
                return Err(GatewayError::Unavailable(format!(
                    "unknown gateway status {other}"
                )))
            }
        };
        Ok(GatewayPayment {
            reference: answer.id,
            state,
        })
    }
}

/// Reads the authorization in a sandbox webhook event: Till's payment id and the gateway's state.
pub fn authorization_event(object: serde_json::Value) -> Option<(String, GatewayPayment)> {
    let answer: SandboxAuthorization = serde_json::from_value(object).ok()?;
    let payment_id = answer.reference.clone();
    Some((payment_id, answer.try_into().ok()?))
}

#[derive(Deserialize)]
struct SandboxRefundEvent {
    id: String,
    status: String,
    reference: String,
    #[serde(default)]
    failure_code: Option<String>,
}

/// A refund the gateway settled, from its webhook event.
pub struct RefundEvent {
    /// Till's refund id (the gateway echoes it as the refund's reference).
    pub refund_id: String,
    pub answer: crate::handlers::refunds::RefundAnswer,
}

/// Reads the refund in a sandbox webhook event.
pub fn refund_event(object: serde_json::Value) -> Option<RefundEvent> {
    use crate::handlers::refunds::RefundAnswer;
    let event: SandboxRefundEvent = serde_json::from_value(object).ok()?;
    let answer = match event.status.as_str() {
        "succeeded" => RefundAnswer::Succeeded(event.id),
        "failed" => {
            RefundAnswer::Refused(event.failure_code.unwrap_or_else(|| "refund_failed".into()))
        }
        _ => return None,
    };
    Some(RefundEvent {
        refund_id: event.reference,
        answer,
    })
}

impl SandboxConnector {
    /// One HTTP call with a deadline, decoded as JSON. `None` means 404.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> Result<Option<T>, GatewayError> {
        match self.send(method, path, key, body).await? {
            Some(mut response) => response
                .json::<T>()
                .await
                .map(Some)
                .map_err(|e| GatewayError::Unavailable(e.to_string())),
            None => Ok(None),
        }
    }

    /// One HTTP call with a deadline: the 2xx response, `None` for 404, errors otherwise.
    async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> Result<Option<worker::Response>, GatewayError> {
        let unavailable = |e: worker::Error| GatewayError::Unavailable(e.to_string());
        let headers = Headers::new();
        headers
            .set(
                "Authorization",
                &format!("Bearer {}", self.settings.api_key.expose()),
            )
            .map_err(unavailable)?;
        if let Some(key) = key {
            headers.set("Idempotency-Key", key).map_err(unavailable)?;
        }
        if body.is_some() {
            headers
                .set("Content-Type", "application/json")
                .map_err(unavailable)?;
        }
        let mut init = RequestInit::new();
        init.with_method(method)
            .with_headers(headers)
            .with_body(body.map(|b| JsValue::from_str(&b)));
        let url = format!("{}{path}", self.settings.url);
        let request = Request::new_with_init(&url, &init).map_err(unavailable)?;
        let controller = AbortController::default();
        let signal = controller.signal();
        let fetch = Fetch::Request(request);
        let sent = Box::pin(fetch.send_with_signal(&signal));
        let deadline = Delay::from(Duration::from_millis(self.settings.timeout_ms));
        let mut response = match select(sent, deadline).await {
            Either::Left((result, _)) => result.map_err(unavailable)?,
            Either::Right(((), _)) => {
                controller.abort();
                return Err(GatewayError::Unavailable(format!(
                    "no answer within {} ms",
                    self.settings.timeout_ms
                )));
            }
        };
        let status = response.status_code();
        if status == 404 {
            return Ok(None);
        }
        if status >= 500 {
            return Err(GatewayError::Unavailable(format!(
                "gateway status {status}"
            )));
        }
        if !(200..300).contains(&status) {
            let code = response
                .json::<SandboxError>()
                .await
                .map(|e| e.error.code)
                .unwrap_or_else(|_| "unknown".into());
            return Err(GatewayError::Rejected { status, code });
        }
        Ok(Some(response))
    }

    async fn payment(
        &self,
        path: &str,
        key: &str,
        body: String,
    ) -> Result<GatewayPayment, GatewayError> {
        self.call::<SandboxAuthorization>(Method::Post, path, Some(key), Some(body))
            .await?
            .ok_or(GatewayError::Rejected {
                status: 404,
                code: "not_found".into(),
            })?
            .try_into()
    }
}

fn encode<T: Serialize>(value: &T) -> Result<String, GatewayError> {
    serde_json::to_string(value).map_err(|e| GatewayError::Unavailable(e.to_string()))
}

impl Connector for SandboxConnector {
    async fn authorize(
        &self,
        request: &Authorization,
        key: &str,
    ) -> Result<GatewayPayment, GatewayError> {
        self.payment("/v1/authorizations", key, encode(request)?)
            .await
    }

    async fn find(&self, key: &str) -> Result<Option<GatewayPayment>, GatewayError> {
        let path = format!("/v1/authorizations/by_idempotency_key/{key}");
        match self
            .call::<SandboxAuthorization>(Method::Get, &path, None, None)
            .await?
        {
            Some(found) => Ok(Some(found.try_into()?)),
            None => Ok(None),
        }
    }

    async fn challenge(
        &self,
        reference: &str,
        otp: &str,
        key: &str,
    ) -> Result<GatewayPayment, GatewayError> {
        let body = encode(&serde_json::json!({ "otp": otp }))?;
        self.payment(
            &format!("/v1/authorizations/{reference}/challenge"),
            key,
            body,
        )
        .await
    }

    async fn capture(
        &self,
        reference: &str,
        amount: i64,
        key: &str,
    ) -> Result<GatewayPayment, GatewayError> {
        let body = encode(&serde_json::json!({ "amount": amount }))?;
        self.payment(
            &format!("/v1/authorizations/{reference}/capture"),
            key,
            body,
        )
        .await
    }

    async fn void(&self, reference: &str, key: &str) -> Result<GatewayPayment, GatewayError> {
        self.payment(
            &format!("/v1/authorizations/{reference}/void"),
            key,
            "{}".into(),
        )
        .await
    }

    async fn refund(
        &self,
        reference: &str,
        amount: i64,
        refund_id: &str,
        key: &str,
    ) -> Result<String, GatewayError> {
        let body = encode(
            &serde_json::json!({ "authorization": reference, "amount": amount, "reference": refund_id }),
        )?;
        self.call::<SandboxRefund>(Method::Post, "/v1/refunds", Some(key), Some(body))
            .await?
            .map(|r| r.id)
            .ok_or(GatewayError::Rejected {
                status: 404,
                code: "not_found".into(),
            })
    }

    async fn settlement(&self, date: &str) -> Result<String, GatewayError> {
        let mut response = self
            .send(Method::Get, &format!("/v1/settlements/{date}"), None, None)
            .await?
            .ok_or(GatewayError::Rejected {
                status: 404,
                code: "not_found".into(),
            })?;
        response
            .text()
            .await
            .map_err(|e| GatewayError::Unavailable(e.to_string()))
    }
}
