//! The sandbox's bank (`sandbox/src/bank.rs`): the sandbox gateway's dialect (JSON over HTTP with
//! a Bearer key, `Idempotency-Key` on every transfer, `Gateway-Signature` webhooks), here
//! `bank_transfer.updated`.

use super::{Answer, Bank, BankCredentials, BankEvent, BankTransfer, BankTransferRequest};
use crate::connectors::sandbox::Call;
use crate::connectors::{GatewayError, WebhookError};
use serde::{Deserialize, Serialize};
use till_core::payout::BankState;
use worker::Method;

pub struct SandboxBank {
    credentials: BankCredentials,
    timeout_ms: u64,
}

#[derive(Serialize)]
struct TransferBody<'a> {
    amount: i64,
    currency: &'a str,
    reference: &'a str,
    account: AccountBody<'a>,
}

#[derive(Serialize)]
struct AccountBody<'a> {
    holder_name: &'a str,
    routing_number: &'a str,
    account_number: &'a str,
}

#[derive(Deserialize)]
struct SandboxTransfer {
    id: String,
    status: String,
    reference: String,
    failure_code: Option<String>,
}

impl TryFrom<SandboxTransfer> for BankTransfer {
    type Error = GatewayError;

    fn try_from(t: SandboxTransfer) -> Result<Self, GatewayError> {
        let reason = || t.failure_code.clone().unwrap_or_else(|| "unknown".into());
        let state = match t.status.as_str() {
            "pending" => BankState::Pending,
            "paid" => BankState::Paid,
            "failed" => BankState::Failed(reason()),
            "returned" => BankState::Returned(reason()),
            other => {
                return Err(GatewayError::Unavailable(format!(
                    "bank transfer status {other}"
                )))
            }
        };
        Ok(BankTransfer {
            id: t.id,
            reference: t.reference,
            state,
        })
    }
}

#[derive(Deserialize)]
struct SandboxEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: serde_json::Value,
}

/// Reads a verified event body.
fn event(body: &[u8]) -> Option<BankEvent> {
    let event: SandboxEvent = serde_json::from_slice(body).ok()?;
    if event.kind == "bank_payment.updated" {
        let payment: super::sandbox_redirect::SandboxBankPayment =
            serde_json::from_value(event.data.object).ok()?;
        return Some(BankEvent::Payment {
            event_id: event.id,
            payment: payment.try_into().ok()?,
        });
    }
    if event.kind == "bank_refund.updated" {
        let refund: super::sandbox_redirect::SandboxBankRefund =
            serde_json::from_value(event.data.object).ok()?;
        return Some(BankEvent::Refund {
            event_id: event.id,
            refund: refund.try_into().ok()?,
        });
    }
    if event.kind != "bank_transfer.updated" {
        return Some(BankEvent::Other { event_id: event.id });
    }
    let transfer: SandboxTransfer = serde_json::from_value(event.data.object).ok()?;
    Some(BankEvent::Transfer {
        event_id: event.id,
        transfer: transfer.try_into().ok()?,
    })
}

impl SandboxBank {
    pub fn new(credentials: BankCredentials, timeout_ms: u64) -> Self {
        SandboxBank {
            credentials,
            timeout_ms,
        }
    }

    /// One call: the body of a 2xx answer, `None` for 404, a refusal for other 4xx,
    /// unavailable for 5xx and no answer.
    pub(super) async fn call_raw(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> Result<Option<Vec<u8>>, GatewayError> {
        let call = Call {
            base_url: &self.credentials.url,
            api_key: &self.credentials.api_key,
            timeout_ms: self.timeout_ms,
        };
        Ok(call
            .send(method, path, key, body)
            .await?
            .map(|reply| reply.body))
    }

    /// One call about a transfer.
    async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> Result<Option<BankTransfer>, GatewayError> {
        match self.call_raw(method, path, key, body).await? {
            Some(body) => serde_json::from_slice::<SandboxTransfer>(&body)
                .map_err(|e| GatewayError::Unavailable(e.to_string()))?
                .try_into()
                .map(Some),
            None => Ok(None),
        }
    }
}

impl Bank for SandboxBank {
    fn send<'a>(
        &'a self,
        request: &'a BankTransferRequest<'a>,
        key: &'a str,
    ) -> Answer<'a, BankTransfer> {
        Box::pin(async move {
            let body = TransferBody {
                amount: request.amount,
                currency: request.currency.code(),
                reference: request.reference,
                account: AccountBody {
                    holder_name: &request.account.holder_name,
                    routing_number: &request.account.routing_number,
                    account_number: request.account.account_number.expose(),
                },
            };
            let body = serde_json::to_string(&body)
                .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
            self.call(Method::Post, "/v1/bank_transfers", Some(key), Some(body))
                .await?
                .ok_or(GatewayError::Rejected {
                    status: 404,
                    code: "not_found".into(),
                })
        })
    }

    fn find<'a>(&'a self, id: &'a str) -> Answer<'a, Option<BankTransfer>> {
        Box::pin(async move {
            self.call(Method::Get, &format!("/v1/bank_transfers/{id}"), None, None)
                .await
        })
    }

    fn webhook(&self, signature: &str, body: &[u8], now: i64) -> Result<BankEvent, WebhookError> {
        till_core::webhook::verify(
            self.credentials.webhook_secret.expose().as_bytes(),
            signature,
            body,
            now,
        )
        .map_err(WebhookError::Signature)?;
        event(body).ok_or(WebhookError::Unreadable)
    }

    fn signature_header(&self) -> &'static str {
        "Gateway-Signature"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer_event(status: &str, failure_code: Option<&str>) -> Vec<u8> {
        serde_json::json!({
            "id": "evt_gw_1", "type": "bank_transfer.updated",
            "data": {"object": {"id": "gwbt_1", "status": status, "amount": 100,
                "currency": "USD", "reference": "po_1", "failure_code": failure_code}}
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn events_read_as_bank_states() {
        let read = |status, code| match event(&transfer_event(status, code)) {
            Some(BankEvent::Transfer { transfer, .. }) => Some(transfer.state),
            _ => None,
        };
        assert_eq!(read("paid", None), Some(BankState::Paid));
        assert_eq!(read("pending", None), Some(BankState::Pending));
        assert_eq!(
            read("returned", Some("account_closed")),
            Some(BankState::Returned("account_closed".into()))
        );
        assert_eq!(
            read("failed", None),
            Some(BankState::Failed("unknown".into()))
        );
        assert_eq!(read("lost_in_space", None), None);
        let other = br#"{"id":"evt_2","type":"bank.maintenance","data":{"object":{}}}"#;
        assert_eq!(
            event(other),
            Some(BankEvent::Other {
                event_id: "evt_2".into()
            })
        );
        assert_eq!(event(b"not json"), None);
        let paid = serde_json::json!({
            "id": "evt_3", "type": "bank_payment.updated",
            "data": {"object": {"id": "gwbp_1", "status": "succeeded", "amount": 700,
                "currency": "EUR", "reference": "pay_1", "redirect_url": "http://b/1",
                "failure_code": null}}
        });
        match event(paid.to_string().as_bytes()) {
            Some(BankEvent::Payment { payment, .. }) => {
                assert_eq!(payment.reference, "pay_1");
                assert_eq!(
                    payment.state,
                    till_core::payment::GatewayState::Captured { amount: 700 }
                );
            }
            _ => panic!("a bank payment's event is read as one"),
        }
    }
}
