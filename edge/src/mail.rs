//! The e-mail provider: an HTTP e-mail API (`POST {MAIL_URL}/emails` with a Bearer key and an
//! `Idempotency-Key`, the shape the common providers share). Locally `MAIL_URL` is the
//! sandbox, whose mailbox keeps what was sent. Without `MAIL_URL` no receipt is sent.

use crate::connectors::transport;
use till_core::receipt::Email;
use till_core::secret::Secret;
use worker::{Env, Method};

/// Answers slower than this count as failed attempts (the sender retries).
const TIMEOUT_MS: u64 = 10_000;

pub struct MailApi {
    url: String,
    from: String,
    api_key: Secret<String>,
}

/// Why a send did not go through; both are retried.
#[derive(Debug)]
pub enum MailError {
    /// The provider refused (4xx): the message itself is wrong.
    Refused(u16),
    /// No answer, or the provider failed (5xx).
    Unavailable(String),
}

impl std::fmt::Display for MailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MailError::Refused(status) => write!(f, "refused with {status}"),
            MailError::Unavailable(detail) => write!(f, "unavailable: {detail}"),
        }
    }
}

impl MailApi {
    /// The provider the deployment names (`MAIL_URL`, `MAIL_FROM`, secret `MAIL_API_KEY`), or
    /// `None` when receipts are off.
    pub fn from_env(env: &Env) -> Option<MailApi> {
        let url = env.var("MAIL_URL").ok()?.to_string();
        let from = env.var("MAIL_FROM").ok()?.to_string();
        let api_key = env.secret("MAIL_API_KEY").ok()?.to_string();
        (!url.is_empty()).then(|| MailApi {
            url,
            from,
            api_key: Secret::new(api_key),
        })
    }

    /// Sends one message; the same `key` never sends twice. The provider's message id.
    pub async fn send(&self, to: &str, email: &Email, key: &str) -> Result<String, MailError> {
        let body = serde_json::json!({
            "from": self.from, "to": [to], "subject": email.subject,
            "text": email.text, "html": email.html,
        })
        .to_string();
        let authorization = format!("Bearer {}", self.api_key.expose());
        let headers = [
            ("Authorization", authorization.as_str()),
            ("Idempotency-Key", key),
        ];
        let reply = transport::send(
            Method::Post,
            &format!("{}/emails", self.url),
            &headers,
            Some(("application/json", body)),
            TIMEOUT_MS,
        )
        .await
        .map_err(|e| MailError::Unavailable(e.to_string()))?;
        match reply.status {
            200..=299 => Ok(serde_json::from_slice::<serde_json::Value>(&reply.body)
                .ok()
                .and_then(|v| v.get("id")?.as_str().map(String::from))
                .unwrap_or_default()),
            400..=499 => Err(MailError::Refused(reply.status)),
            status => Err(MailError::Unavailable(format!("status {status}"))),
        }
    }
}
