//! The sandbox gateway's wire format (see `sandbox/src/gateway.rs`): JSON bodies, Till's
//! decline codes as they are, `Gateway-Signature` webhooks with `authorization.updated`,
//! `refund.updated` and `dispute.*` events.

use crate::connectors::{
    Authorization, GatewayDispute, GatewayError, GatewayEvent, GatewayPayment, Initiator,
    RefundAnswer,
};
use serde::{Deserialize, Serialize};
use till_core::dispute::{DisputeStatus, EvidenceSummary, EvidenceText, FileType};
use till_core::payment::{DeclineCode, GatewayState};
use till_core::secret::Secret;

#[derive(Serialize)]
pub struct AuthorizationRequest<'a> {
    pub amount: i64,
    pub currency: &'a str,
    pub reference: &'a str,
    pub capture: bool,
    pub card: CardRequest<'a>,
    pub initiator: Initiator,
    pub stored_credential: bool,
    pub authenticate: bool,
}

#[derive(Serialize)]
pub struct CardRequest<'a> {
    pub number: &'a Secret<String>,
    pub exp_month: u8,
    pub exp_year: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvc: Option<&'a Secret<String>>,
    pub name: &'a str,
}

impl<'a> From<&'a Authorization> for AuthorizationRequest<'a> {
    fn from(request: &'a Authorization) -> Self {
        AuthorizationRequest {
            amount: request.amount,
            currency: request.currency.code(),
            reference: &request.reference,
            capture: request.capture,
            card: CardRequest {
                number: &request.card.number,
                exp_month: request.card.exp_month,
                exp_year: request.card.exp_year,
                cvc: request.card.cvc.as_ref(),
                name: &request.card.name,
            },
            initiator: request.initiator,
            stored_credential: request.stored_credential,
            authenticate: request.authenticate,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SandboxAuthorization {
    pub id: String,
    #[serde(default)]
    pub reference: String,
    pub status: String,
    pub decline_code: Option<String>,
    pub amount_captured: i64,
    pub challenge: Option<SandboxChallenge>,
}

#[derive(Debug, Deserialize)]
pub struct SandboxChallenge {
    pub attempts_remaining: u8,
}

#[derive(Debug, Deserialize)]
pub struct SandboxRefund {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub failure_code: Option<String>,
}

/// A dispute as the sandbox shows it (`sandbox/src/disputes.rs`).
#[derive(Debug, Deserialize)]
pub struct SandboxDispute {
    pub id: String,
    pub status: DisputeStatus,
    pub authorization: String,
    /// The authorization's reference: Till's payment id.
    #[serde(default)]
    pub reference: String,
    pub amount: i64,
    pub currency: String,
    pub reason: String,
    pub evidence_due_by: i64,
}

impl From<SandboxDispute> for GatewayDispute {
    fn from(dispute: SandboxDispute) -> Self {
        GatewayDispute {
            payment_id: Some(dispute.reference).filter(|r| !r.is_empty()),
            reference: dispute.id,
            authorization: dispute.authorization,
            amount: dispute.amount,
            currency: dispute.currency,
            reason: dispute.reason,
            status: dispute.status,
            evidence_due_by: dispute.evidence_due_by,
        }
    }
}

/// What the sandbox takes as evidence: the text, and the files by digest.
#[derive(Serialize)]
pub struct EvidenceRequest<'a> {
    pub text: &'a EvidenceText,
    pub files: Vec<FileDigest<'a>>,
}

#[derive(Serialize)]
pub struct FileDigest<'a> {
    pub content_type: FileType,
    pub size: u64,
    pub sha256: &'a str,
}

impl<'a> From<&'a EvidenceSummary> for EvidenceRequest<'a> {
    fn from(evidence: &'a EvidenceSummary) -> Self {
        EvidenceRequest {
            text: &evidence.text,
            files: evidence
                .files
                .iter()
                .map(|file| FileDigest {
                    content_type: file.content_type,
                    size: file.size,
                    sha256: &file.sha256,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SandboxError {
    pub error: SandboxErrorBody,
}

#[derive(Debug, Deserialize)]
pub struct SandboxErrorBody {
    pub code: String,
}

#[derive(Debug, Deserialize)]
pub struct SandboxEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: SandboxEventData,
}

#[derive(Debug, Deserialize)]
pub struct SandboxEventData {
    pub object: serde_json::Value,
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
                    .as_deref()
                    .map_or(DeclineCode::CardDeclined, DeclineCode::from_gateway),
            },
            "voided" => GatewayState::Voided,
            other => {
                return Err(GatewayError::Unavailable(format!(
                    "unknown gateway status {other}"
                )))
            }
        };
        Ok(GatewayPayment {
            card_reference: None,
            reference: answer.id,
            state,
        })
    }
}

impl From<SandboxRefund> for Option<RefundAnswer> {
    fn from(refund: SandboxRefund) -> Self {
        match refund.status.as_str() {
            "succeeded" => Some(RefundAnswer::Succeeded(refund.id)),
            "failed" => Some(RefundAnswer::Refused(
                refund
                    .failure_code
                    .unwrap_or_else(|| "refund_failed".into()),
            )),
            _ => None,
        }
    }
}

/// A signed event body, in Till's terms.
pub fn event(body: &[u8]) -> Option<GatewayEvent> {
    let value = till_core::json::parse_strict(body).ok()?;
    let event: SandboxEvent = serde_json::from_value(value).ok()?;
    match event.kind.as_str() {
        "authorization.updated" => {
            let answer: SandboxAuthorization = serde_json::from_value(event.data.object).ok()?;
            let payment_id = Some(answer.reference.clone()).filter(|r| !r.is_empty());
            Some(GatewayEvent::Payment {
                event_id: event.id,
                payment_id,
                payment: answer.try_into().ok()?,
            })
        }
        "refund.updated" => {
            let refund: SandboxRefund = serde_json::from_value(event.data.object).ok()?;
            let refund_id = refund.reference.clone();
            let answer: Option<RefundAnswer> = refund.into();
            Some(GatewayEvent::Refund {
                event_id: event.id,
                refund_id,
                answer: answer?,
            })
        }
        "dispute.created" | "dispute.updated" | "dispute.closed" => {
            let dispute: SandboxDispute = serde_json::from_value(event.data.object).ok()?;
            Some(GatewayEvent::Dispute {
                event_id: event.id,
                dispute: dispute.into(),
            })
        }
        _ => Some(GatewayEvent::Other { event_id: event.id }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_states_map_to_till() {
        let answer = |status: &str| SandboxAuthorization {
            id: "gwp_1".into(),
            reference: "pay_1".into(),
            status: status.into(),
            decline_code: Some("insufficient_funds".into()),
            amount_captured: 500,
            challenge: Some(SandboxChallenge {
                attempts_remaining: 2,
            }),
        };
        let state = |status| GatewayPayment::try_from(answer(status)).map(|p| p.state);
        assert_eq!(
            state("captured"),
            Ok(GatewayState::Captured { amount: 500 })
        );
        assert_eq!(state("authorized"), Ok(GatewayState::Authorized));
        assert_eq!(
            state("requires_action"),
            Ok(GatewayState::RequiresAction {
                attempts_remaining: 2
            })
        );
        assert_eq!(
            state("declined"),
            Ok(GatewayState::Declined {
                code: DeclineCode::InsufficientFunds
            })
        );
        assert!(state("exploded").is_err());
    }

    #[test]
    fn recorded_events_are_read() {
        let body = br#"{"id":"evt_1","type":"authorization.updated","created":1,"data":{"object":{"id":"gwp_9","status":"captured","decline_code":null,"amount":700,"amount_captured":700,"amount_refunded":0,"currency":"USD","reference":"pay_7","challenge":null}}}"#;
        assert_eq!(
            event(body),
            Some(GatewayEvent::Payment {
                event_id: "evt_1".into(),
                payment_id: Some("pay_7".into()),
                payment: GatewayPayment {
                    card_reference: None,
                    reference: "gwp_9".into(),
                    state: GatewayState::Captured { amount: 700 }
                }
            })
        );
        let refund = br#"{"id":"evt_2","type":"refund.updated","data":{"object":{"id":"gwr_1","status":"succeeded","authorization":"gwp_9","amount":100,"currency":"USD","reference":"re_5"}}}"#;
        assert_eq!(
            event(refund),
            Some(GatewayEvent::Refund {
                event_id: "evt_2".into(),
                refund_id: "re_5".into(),
                answer: RefundAnswer::Succeeded("gwr_1".into())
            })
        );
        let dispute = br#"{"id":"evt_4","type":"dispute.closed","data":{"object":{"id":"gwdp_1","status":"won","authorization":"gwp_9","reference":"pay_7","amount":700,"currency":"USD","reason":"fraudulent","evidence_due_by":1800000000,"created":1,"evidence":null}}}"#;
        assert_eq!(
            event(dispute),
            Some(GatewayEvent::Dispute {
                event_id: "evt_4".into(),
                dispute: GatewayDispute {
                    reference: "gwdp_1".into(),
                    authorization: "gwp_9".into(),
                    payment_id: Some("pay_7".into()),
                    amount: 700,
                    currency: "USD".into(),
                    reason: "fraudulent".into(),
                    status: DisputeStatus::Won,
                    evidence_due_by: 1_800_000_000,
                }
            })
        );
        let unknown_status = br#"{"id":"evt_5","type":"dispute.updated","data":{"object":{"id":"gwdp_1","status":"warning","authorization":"gwp_9","amount":700,"currency":"USD","reason":"fraudulent","evidence_due_by":1}}}"#;
        assert_eq!(event(unknown_status), None);
        let other = br#"{"id":"evt_3","type":"payout.paid","data":{"object":{}}}"#;
        assert_eq!(
            event(other),
            Some(GatewayEvent::Other {
                event_id: "evt_3".into()
            })
        );
        assert_eq!(event(b"{\"id\":1}"), None);
    }
}
