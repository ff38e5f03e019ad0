//! The sandbox bank's internet banking (`sandbox/src/bank_redirect.rs`) in its dialect:
//! `bank_payments` with a Bearer key and an `Idempotency-Key`, states `requires_action`,
//! `processing`, `succeeded`, `failed` (with a `failure_code`) and `canceled`.

use super::redirect::{
    BankOption, BankPayment, BankPaymentRequest, BankRefund, BankRefundRequest, RedirectBank,
};
use super::sandbox::SandboxBank;
use super::Answer;
use crate::connectors::{GatewayError, RefundAnswer};
use serde::{Deserialize, Serialize};
use till_core::api::BankSummary;
use till_core::payment::{DeclineCode, GatewayState};
use till_core::reconciliation::SettlementLine;
use worker::Method;

#[derive(Serialize)]
struct PaymentBody<'a> {
    amount: i64,
    currency: &'a str,
    bank: &'a str,
    reference: &'a str,
    return_url: &'a str,
}

#[derive(Deserialize)]
pub(super) struct SandboxBankPayment {
    id: String,
    status: String,
    amount: i64,
    reference: String,
    redirect_url: Option<String>,
    failure_code: Option<String>,
}

impl TryFrom<SandboxBankPayment> for BankPayment {
    type Error = GatewayError;

    fn try_from(p: SandboxBankPayment) -> Result<Self, GatewayError> {
        let state = match p.status.as_str() {
            "requires_action" => GatewayState::AwaitingCustomer,
            "processing" => GatewayState::Pending,
            "succeeded" => GatewayState::Captured { amount: p.amount },
            "failed" => GatewayState::Declined {
                code: DeclineCode::from_gateway(p.failure_code.as_deref().unwrap_or_default()),
            },
            "canceled" => GatewayState::Voided,
            other => {
                return Err(GatewayError::Unavailable(format!(
                    "bank payment status {other}"
                )))
            }
        };
        Ok(BankPayment {
            id: p.id,
            reference: p.reference,
            redirect_url: (state == GatewayState::AwaitingCustomer)
                .then_some(p.redirect_url)
                .flatten(),
            state,
        })
    }
}

#[derive(Serialize)]
struct RefundBody<'a> {
    payment: &'a str,
    amount: i64,
    reference: &'a str,
}

#[derive(Deserialize)]
pub(super) struct SandboxBankRefund {
    id: String,
    reference: String,
    status: String,
    failure_code: Option<String>,
}

impl TryFrom<SandboxBankRefund> for BankRefund {
    type Error = GatewayError;

    fn try_from(r: SandboxBankRefund) -> Result<Self, GatewayError> {
        let answer = match r.status.as_str() {
            "pending" => RefundAnswer::Pending(r.id),
            "succeeded" => RefundAnswer::Succeeded(r.id),
            "failed" => RefundAnswer::Refused(r.failure_code.unwrap_or_else(|| "refused".into())),
            other => {
                return Err(GatewayError::Unavailable(format!(
                    "bank refund status {other}"
                )))
            }
        };
        Ok(BankRefund {
            reference: r.reference,
            answer,
        })
    }
}

#[derive(Deserialize)]
struct SandboxBankList {
    data: Vec<SandboxBankEntry>,
}

#[derive(Deserialize)]
struct SandboxBankEntry {
    id: String,
    name: String,
    currencies: Option<Vec<String>>,
}

fn unreadable(error: serde_json::Error) -> GatewayError {
    GatewayError::Unavailable(format!("bank answer unreadable: {error}"))
}

fn read_payment(body: &[u8]) -> Result<BankPayment, GatewayError> {
    serde_json::from_slice::<SandboxBankPayment>(body)
        .map_err(unreadable)?
        .try_into()
}

fn not_found() -> GatewayError {
    GatewayError::Rejected {
        status: 404,
        code: "not_found".into(),
    }
}

impl RedirectBank for SandboxBank {
    fn banks(&self) -> Answer<'_, Vec<BankOption>> {
        Box::pin(async move {
            let reply = self
                .call_raw(Method::Get, "/v1/banks", None, None)
                .await?
                .ok_or_else(not_found)?;
            let list: SandboxBankList = serde_json::from_slice(&reply).map_err(unreadable)?;
            Ok(list
                .data
                .into_iter()
                .filter(|entry| till_core::payment_method_type::is_valid_bank_id(&entry.id))
                .map(|entry| BankOption {
                    bank: BankSummary {
                        id: entry.id,
                        name: entry.name,
                    },
                    currencies: entry.currencies,
                })
                .collect())
        })
    }

    fn create_payment<'a>(
        &'a self,
        request: &'a BankPaymentRequest<'a>,
        key: &'a str,
    ) -> Answer<'a, BankPayment> {
        Box::pin(async move {
            let body = PaymentBody {
                amount: request.amount,
                currency: request.currency.code(),
                bank: request.bank,
                reference: request.reference,
                return_url: request.return_url,
            };
            let body = serde_json::to_string(&body).map_err(unreadable)?;
            let reply = self
                .call_raw(Method::Post, "/v1/bank_payments", Some(key), Some(body))
                .await?
                .ok_or_else(not_found)?;
            read_payment(&reply)
        })
    }

    fn find_payment<'a>(
        &'a self,
        id: Option<&'a str>,
        key: &'a str,
    ) -> Answer<'a, Option<BankPayment>> {
        Box::pin(async move {
            let path = match id {
                Some(id) => format!("/v1/bank_payments/{id}"),
                None => format!("/v1/bank_payments/by_idempotency_key/{key}"),
            };
            match self.call_raw(Method::Get, &path, None, None).await? {
                Some(reply) => read_payment(&reply).map(Some),
                None => Ok(None),
            }
        })
    }

    fn refund<'a>(
        &'a self,
        request: &'a BankRefundRequest<'a>,
        key: &'a str,
    ) -> Answer<'a, BankRefund> {
        Box::pin(async move {
            let body = RefundBody {
                payment: request.payment,
                amount: request.amount,
                reference: request.reference,
            };
            let body = serde_json::to_string(&body).map_err(unreadable)?;
            let reply = self
                .call_raw(Method::Post, "/v1/bank_refunds", Some(key), Some(body))
                .await?
                .ok_or_else(not_found)?;
            serde_json::from_slice::<SandboxBankRefund>(&reply)
                .map_err(unreadable)?
                .try_into()
        })
    }

    fn settlement<'a>(&'a self, date: &'a str) -> Answer<'a, Vec<SettlementLine>> {
        Box::pin(async move {
            let path = format!("/v1/bank_settlements/{date}");
            let reply = self
                .call_raw(Method::Get, &path, None, None)
                .await?
                .ok_or_else(not_found)?;
            let text = String::from_utf8(reply)
                .map_err(|_| GatewayError::Unavailable("bank settlement is not UTF-8".into()))?;
            till_core::reconciliation::parse(&text).map_err(|e| {
                GatewayError::Unavailable(format!("bank settlement line {}: {}", e.line, e.reason))
            })
        })
    }

    fn cancel_payment<'a>(&'a self, id: &'a str) -> Answer<'a, BankPayment> {
        Box::pin(async move {
            let path = format!("/v1/bank_payments/{id}/cancel");
            let reply = self
                .call_raw(Method::Post, &path, None, None)
                .await?
                .ok_or_else(not_found)?;
            read_payment(&reply)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payment(status: &str, failure_code: Option<&str>) -> Result<BankPayment, GatewayError> {
        read_payment(
            serde_json::json!({
                "id": "gwbp_1", "status": status, "amount": 5_000, "currency": "KRW",
                "bank": "hana_test", "reference": "pay_1", "return_url": "http://x/r",
                "redirect_url": "http://127.0.0.1:8790/bank/pay/gwbp_1",
                "failure_code": failure_code, "amount_refunded": 0
            })
            .to_string()
            .as_bytes(),
        )
    }

    #[test]
    fn the_banks_states_read_as_gateway_states() {
        let state = |status, code| {
            payment(status, code)
                .ok()
                .map(|p| (p.state, p.redirect_url))
        };
        assert_eq!(
            state("requires_action", None),
            Some((
                GatewayState::AwaitingCustomer,
                Some("http://127.0.0.1:8790/bank/pay/gwbp_1".into())
            ))
        );
        assert_eq!(
            state("processing", None),
            Some((GatewayState::Pending, None))
        );
        assert_eq!(
            state("succeeded", None),
            Some((GatewayState::Captured { amount: 5_000 }, None))
        );
        assert_eq!(
            state("failed", Some("insufficient_funds")),
            Some((
                GatewayState::Declined {
                    code: DeclineCode::InsufficientFunds
                },
                None
            ))
        );
        assert_eq!(state("canceled", None), Some((GatewayState::Voided, None)));
        assert_eq!(state("lost_in_space", None), None);
        assert!(read_payment(b"<html>").is_err());
    }
}
