//! A customer asks for their money back from the hosted page (a refund, or a return of the
//! goods); the merchant approves, which issues the refund, or declines. One open request per
//! payment; a request is decided once.

use crate::error::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};

/// Longest reason a customer may give.
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// Money back, nothing to send.
    Refund,
    /// The goods go back; the refund follows.
    Return,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Refund => "refund",
            RequestKind::Return => "return",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Open,
    Approved,
    Declined,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Approved => "approved",
            RequestStatus::Declined => "declined",
        }
    }

    /// Only an open request is decided, and only once.
    pub fn can_move_to(self, next: RequestStatus) -> bool {
        self == RequestStatus::Open && next != RequestStatus::Open
    }
}

/// `POST /v1/customer_sessions/:id/refund_requests`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRefundRequest {
    pub client_secret: String,
    pub payment: String,
    pub kind: RequestKind,
    pub reason: String,
    /// Part of what is left to refund; all of it when absent.
    #[serde(default)]
    pub amount: Option<i64>,
}

impl CreateRefundRequest {
    /// The reason as stored (trimmed; line breaks kept, other control characters refused), and
    /// the amount asked for out of `refundable` (what the payment has left to refund).
    pub fn validate(&self, refundable: i64) -> Result<(String, i64), ApiError> {
        let reason = self.reason.trim();
        if reason.is_empty()
            || reason.chars().count() > MAX_REASON_CHARS
            || reason.chars().any(|c| c.is_control() && c != '\n')
        {
            return Err(ApiError::new(ErrorCode::ReasonInvalid).with_param("reason"));
        }
        if refundable <= 0 {
            return Err(ApiError::new(ErrorCode::ChargeAlreadyRefunded).with_param("payment"));
        }
        let amount = self.amount.unwrap_or(refundable);
        if amount <= 0 || amount > refundable {
            return Err(ApiError::new(ErrorCode::AmountInvalid)
                .with_message(format!(
                    "amount is from 1 to {refundable}, what is left to refund."
                ))
                .with_param("amount"));
        }
        Ok((reason.to_string(), amount))
    }
}

/// `POST /v1/refund_requests/:id/decline`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineRefundRequest {
    /// Told to the customer on the hosted page.
    #[serde(default)]
    pub reason: Option<String>,
}

impl DeclineRefundRequest {
    pub fn validate(&self) -> Result<Option<String>, ApiError> {
        match self.reason.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(reason)
                if reason.chars().count() <= MAX_REASON_CHARS
                    && !reason.chars().any(|c| c.is_control() && c != '\n') =>
            {
                Ok(Some(reason.to_string()))
            }
            Some(_) => Err(ApiError::new(ErrorCode::ReasonInvalid).with_param("reason")),
        }
    }
}

/// A request as the API shows it, to the merchant and (for its own) to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequestView {
    pub id: String,
    pub object: String,
    pub payment: String,
    pub customer: String,
    pub kind: RequestKind,
    pub reason: String,
    pub amount: i64,
    pub currency: String,
    pub status: RequestStatus,
    /// The refund an approval issued.
    pub refund: Option<String>,
    pub decline_reason: Option<String>,
    pub created: i64,
    pub updated: i64,
}

/// One of a customer's orders as the hosted page shows it: the payment, what was bought, how
/// much has come back, and the customer's latest request about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The payment's id.
    pub id: String,
    pub object: String,
    pub amount: i64,
    pub currency: String,
    /// The payment's status (`succeeded`, `processing`, ...).
    pub status: String,
    pub amount_refunded: i64,
    /// What is left that a request may ask for.
    pub refundable: i64,
    /// The card, for an order paid by card (a bank payment has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_last4: Option<String>,
    pub merchant_reference: Option<String>,
    pub line_items: Vec<crate::api::LineItem>,
    pub request: Option<RefundRequestView>,
    pub created: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(reason: &str, amount: Option<i64>) -> CreateRefundRequest {
        CreateRefundRequest {
            client_secret: "s".into(),
            payment: "pay_1".into(),
            kind: RequestKind::Return,
            reason: reason.into(),
            amount,
        }
    }

    #[test]
    fn a_request_asks_for_at_most_what_is_left() {
        assert_eq!(
            request("  Wrong size\nplease  ", None)
                .validate(4_000)
                .unwrap(),
            ("Wrong size\nplease".to_string(), 4_000)
        );
        assert_eq!(
            request("Late", Some(1_000)).validate(4_000).unwrap().1,
            1_000
        );
        for (amount, left) in [(Some(4_001), 4_000), (Some(0), 4_000), (Some(-5), 4_000)] {
            assert_eq!(
                request("x", amount).validate(left).unwrap_err().code(),
                ErrorCode::AmountInvalid
            );
        }
        assert_eq!(
            request("x", None).validate(0).unwrap_err().code(),
            ErrorCode::ChargeAlreadyRefunded
        );
    }

    #[test]
    fn reasons_are_text_of_a_bounded_length() {
        for bad in [
            "",
            "   ",
            "a\u{0}b",
            "a\u{1b}[31m",
            &"가".repeat(MAX_REASON_CHARS + 1),
        ] {
            assert_eq!(
                request(bad, None).validate(100).unwrap_err().code(),
                ErrorCode::ReasonInvalid,
                "{bad:?}"
            );
        }
        assert!(request(&"가".repeat(MAX_REASON_CHARS), None)
            .validate(100)
            .is_ok());
    }

    #[test]
    fn a_request_is_decided_once() {
        use RequestStatus::*;
        assert!(Open.can_move_to(Approved));
        assert!(Open.can_move_to(Declined));
        assert!(!Approved.can_move_to(Declined));
        assert!(!Declined.can_move_to(Approved));
        assert!(!Open.can_move_to(Open));
    }
}
