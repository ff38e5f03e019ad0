//! Till's sandbox gateway (`sandbox/`), spoken to exactly as a real gateway would be: JSON over
//! HTTP with a Bearer key, `Idempotency-Key` on every change, status lookups by key, signed
//! webhooks and a daily settlement CSV.

mod transformers;

use super::transport::{self, Reply};
use super::{
    AccountCredentials, Answer, Authorization, Connector, GatewayDispute, GatewayError,
    GatewayEvent, GatewayPayment, PaymentLookup, RefundAnswer, WebhookError,
};
use serde::de::DeserializeOwned;
use till_core::dispute::EvidenceSummary;
use till_core::reconciliation::SettlementLine;
use till_core::secret::Secret;
use transformers::{
    AuthorizationRequest, EvidenceRequest, SandboxAuthorization, SandboxDispute, SandboxError,
    SandboxRefund,
};
use worker::Method;

pub struct Sandbox {
    credentials: AccountCredentials,
    timeout_ms: u64,
}

impl Sandbox {
    pub fn new(credentials: AccountCredentials, timeout_ms: u64) -> Self {
        Sandbox {
            credentials,
            timeout_ms,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> Result<Option<Reply>, GatewayError> {
        let call = Call {
            base_url: &self.credentials.url,
            api_key: &self.credentials.api_key,
            timeout_ms: self.timeout_ms,
        };
        call.send(method, path, key, body).await
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> Result<Option<T>, GatewayError> {
        match self.call(method, path, key, body).await? {
            Some(reply) => serde_json::from_slice(&reply.body)
                .map(Some)
                .map_err(|e| GatewayError::Unavailable(e.to_string())),
            None => Ok(None),
        }
    }

    async fn payment(
        &self,
        path: &str,
        key: &str,
        body: String,
    ) -> Result<GatewayPayment, GatewayError> {
        self.json::<SandboxAuthorization>(Method::Post, path, Some(key), Some(body))
            .await?
            .ok_or(GatewayError::Rejected {
                status: 404,
                code: "not_found".into(),
            })?
            .try_into()
    }

    async fn dispute(
        &self,
        path: &str,
        key: &str,
        body: String,
    ) -> Result<GatewayDispute, GatewayError> {
        self.json::<SandboxDispute>(Method::Post, path, Some(key), Some(body))
            .await?
            .map(GatewayDispute::from)
            .ok_or(GatewayError::Rejected {
                status: 404,
                code: "not_found".into(),
            })
    }
}

/// How to reach the sandbox: its gateway and its bank speak the same dialect.
pub struct Call<'a> {
    pub base_url: &'a str,
    pub api_key: &'a Secret<String>,
    pub timeout_ms: u64,
}

impl Call<'_> {
    /// One call with the Bearer key (and an `Idempotency-Key` for a change): the 2xx answer,
    /// `None` for 404, a refusal with the sandbox's error code for other 4xx, unavailable for
    /// 5xx and no answer.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> Result<Option<Reply>, GatewayError> {
        let authorization = format!("Bearer {}", self.api_key.expose());
        let mut headers = vec![("Authorization", authorization.as_str())];
        if let Some(key) = key {
            headers.push(("Idempotency-Key", key));
        }
        let url = format!("{}{path}", self.base_url);
        let body = body.map(|b| ("application/json", b));
        let reply = transport::send(method, &url, &headers, body, self.timeout_ms).await?;
        match reply.status {
            200..=299 => Ok(Some(reply)),
            404 => Ok(None),
            500.. => Err(GatewayError::Unavailable(format!(
                "sandbox status {}",
                reply.status
            ))),
            status => Err(GatewayError::Rejected {
                status,
                code: serde_json::from_slice::<SandboxError>(&reply.body)
                    .map(|e| e.error.code)
                    .unwrap_or_else(|_| "unknown".into()),
            }),
        }
    }
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, GatewayError> {
    serde_json::to_string(value).map_err(|e| GatewayError::Unavailable(e.to_string()))
}

impl Connector for Sandbox {
    fn authorize<'a>(
        &'a self,
        request: &'a Authorization,
        key: &'a str,
    ) -> Answer<'a, GatewayPayment> {
        Box::pin(async move {
            let body = encode(&AuthorizationRequest::from(request))?;
            self.payment("/v1/authorizations", key, body).await
        })
    }

    fn find<'a>(&'a self, lookup: &'a PaymentLookup<'a>) -> Answer<'a, Option<GatewayPayment>> {
        Box::pin(async move {
            let path = format!(
                "/v1/authorizations/by_idempotency_key/{}",
                lookup.gateway_key
            );
            match self
                .json::<SandboxAuthorization>(Method::Get, &path, None, None)
                .await?
            {
                Some(found) => Ok(Some(found.try_into()?)),
                None => Ok(None),
            }
        })
    }

    fn challenge<'a>(
        &'a self,
        reference: &'a str,
        otp: &'a str,
        key: &'a str,
    ) -> Answer<'a, GatewayPayment> {
        Box::pin(async move {
            let body = encode(&serde_json::json!({ "otp": otp }))?;
            self.payment(
                &format!("/v1/authorizations/{reference}/challenge"),
                key,
                body,
            )
            .await
        })
    }

    fn capture<'a>(
        &'a self,
        reference: &'a str,
        amount: i64,
        key: &'a str,
    ) -> Answer<'a, GatewayPayment> {
        Box::pin(async move {
            let body = encode(&serde_json::json!({ "amount": amount }))?;
            self.payment(
                &format!("/v1/authorizations/{reference}/capture"),
                key,
                body,
            )
            .await
        })
    }

    fn void<'a>(&'a self, reference: &'a str, key: &'a str) -> Answer<'a, GatewayPayment> {
        Box::pin(async move {
            self.payment(
                &format!("/v1/authorizations/{reference}/void"),
                key,
                "{}".into(),
            )
            .await
        })
    }

    fn refund<'a>(
        &'a self,
        reference: &'a str,
        amount: i64,
        refund_id: &'a str,
        key: &'a str,
    ) -> Answer<'a, RefundAnswer> {
        Box::pin(async move {
            let body = encode(&serde_json::json!({
                "authorization": reference, "amount": amount, "reference": refund_id
            }))?;
            let refund = match self
                .json::<SandboxRefund>(Method::Post, "/v1/refunds", Some(key), Some(body))
                .await
            {
                Ok(Some(refund)) => refund,
                Ok(None) => return Ok(RefundAnswer::Refused("not_found".into())),
                Err(GatewayError::Rejected { code, .. }) => return Ok(RefundAnswer::Refused(code)),
                Err(unavailable) => return Err(unavailable),
            };
            Option::<RefundAnswer>::from(refund)
                .ok_or_else(|| GatewayError::Unavailable("refund still pending".into()))
        })
    }

    fn submit_evidence<'a>(
        &'a self,
        reference: &'a str,
        evidence: &'a EvidenceSummary,
        key: &'a str,
    ) -> Answer<'a, GatewayDispute> {
        Box::pin(async move {
            let body = encode(&EvidenceRequest::from(evidence))?;
            self.dispute(&format!("/v1/disputes/{reference}/evidence"), key, body)
                .await
        })
    }

    fn accept_dispute<'a>(&'a self, reference: &'a str, key: &'a str) -> Answer<'a, GatewayDispute> {
        Box::pin(async move {
            self.dispute(&format!("/v1/disputes/{reference}/close"), key, "{}".into())
                .await
        })
    }

    fn settlement<'a>(&'a self, date: &'a str) -> Answer<'a, Vec<SettlementLine>> {
        Box::pin(async move {
            let reply = self
                .call(Method::Get, &format!("/v1/settlements/{date}"), None, None)
                .await?
                .ok_or(GatewayError::Rejected {
                    status: 404,
                    code: "not_found".into(),
                })?;
            let text = String::from_utf8(reply.body)
                .map_err(|_| GatewayError::Unavailable("settlement file is not UTF-8".into()))?;
            till_core::reconciliation::parse(&text).map_err(|e| {
                GatewayError::Unavailable(format!("settlement line {}: {}", e.line, e.reason))
            })
        })
    }

    fn webhook(
        &self,
        signature: &str,
        body: &[u8],
        now: i64,
    ) -> Result<GatewayEvent, WebhookError> {
        super::signed_event(&self.credentials, signature, body, now, transformers::event)
    }

    fn signature_header(&self) -> &'static str {
        "Gateway-Signature"
    }
}
