//! Payment states and the only legal moves between them.

use crate::error::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    RequiresCapture,
    Succeeded,
    Failed,
    Canceled,
}

pub const ALL_STATUSES: [PaymentStatus; 8] = [
    PaymentStatus::RequiresPaymentMethod,
    PaymentStatus::RequiresConfirmation,
    PaymentStatus::RequiresAction,
    PaymentStatus::Processing,
    PaymentStatus::RequiresCapture,
    PaymentStatus::Succeeded,
    PaymentStatus::Failed,
    PaymentStatus::Canceled,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalTransition {
    pub from: PaymentStatus,
    pub to: PaymentStatus,
}

impl std::fmt::Display for IllegalTransition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a payment cannot move from {} to {}",
            self.from.as_str(),
            self.to.as_str()
        )
    }
}

impl std::fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::RequiresPaymentMethod => "requires_payment_method",
            PaymentStatus::RequiresConfirmation => "requires_confirmation",
            PaymentStatus::RequiresAction => "requires_action",
            PaymentStatus::Processing => "processing",
            PaymentStatus::RequiresCapture => "requires_capture",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        ALL_STATUSES.into_iter().find(|s| s.as_str() == text)
    }

    /// No further move is possible (refunds are tracked separately).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            PaymentStatus::Succeeded | PaymentStatus::Failed | PaymentStatus::Canceled
        )
    }

    pub fn can_move_to(self, next: PaymentStatus) -> bool {
        use PaymentStatus::*;
        match (self, next) {
            (RequiresPaymentMethod, RequiresConfirmation) => true,
            (RequiresConfirmation, RequiresAction | Processing) => true,
            // The gateway may ask for a challenge after it has the authorization.
            (Processing, RequiresAction) => true,
            (RequiresAction, Processing | Failed) => true,
            (Processing, RequiresCapture | Succeeded | Failed) => true,
            (RequiresCapture, Succeeded) => true,
            // Cancel is allowed from every state before capture.
            (
                RequiresPaymentMethod | RequiresConfirmation | RequiresAction | RequiresCapture,
                Canceled,
            ) => true,
            _ => false,
        }
    }

    /// Applies a gateway's final word: directly, or through `processing` when the gateway did
    /// that step on its side (a passed challenge is processed and captured in one answer).
    pub fn settle_to(self, next: PaymentStatus) -> Result<PaymentStatus, IllegalTransition> {
        self.move_to(next).or_else(|e| {
            self.move_to(PaymentStatus::Processing)
                .and_then(|processing| processing.move_to(next))
                .map_err(|_| e)
        })
    }

    pub fn move_to(self, next: PaymentStatus) -> Result<PaymentStatus, IllegalTransition> {
        if self.can_move_to(next) {
            Ok(next)
        } else {
            Err(IllegalTransition {
                from: self,
                to: next,
            })
        }
    }
}

/// What a gateway says about an authorization, whatever its dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayState {
    RequiresAction {
        attempts_remaining: u8,
    },
    /// Waiting for the customer at their bank (a bank redirect).
    AwaitingCustomer,
    /// The customer approved and the bank has not finished: the outcome comes later.
    Pending,
    Authorized,
    Captured {
        amount: i64,
    },
    Declined {
        code: DeclineCode,
    },
    Voided,
}

impl GatewayState {
    /// The Till status this gateway state means.
    pub fn status(&self) -> PaymentStatus {
        match self {
            GatewayState::RequiresAction { .. } | GatewayState::AwaitingCustomer => {
                PaymentStatus::RequiresAction
            }
            GatewayState::Pending => PaymentStatus::Processing,
            GatewayState::Authorized => PaymentStatus::RequiresCapture,
            GatewayState::Captured { .. } => PaymentStatus::Succeeded,
            GatewayState::Declined { .. } => PaymentStatus::Failed,
            GatewayState::Voided => PaymentStatus::Canceled,
        }
    }
}

/// How much of a payment can be captured: the whole authorization or a part of it, once.
pub fn capture_amount(authorized: i64, requested: Option<i64>) -> Result<i64, ApiError> {
    match requested {
        None => Ok(authorized),
        Some(amount) if amount > 0 && amount <= authorized => Ok(amount),
        Some(_) => Err(ApiError::new(ErrorCode::AmountInvalid)
            .with_message("The capture amount must be positive and at most the authorized amount.")
            .with_param("amount")),
    }
}

/// How much a new refund may take: never more than captured minus already refunded.
pub fn refund_amount(
    captured: i64,
    refunded: i64,
    requested: Option<i64>,
) -> Result<i64, ApiError> {
    let remaining = captured - refunded;
    if remaining <= 0 {
        return Err(ApiError::new(ErrorCode::ChargeAlreadyRefunded));
    }
    match requested {
        None => Ok(remaining),
        Some(amount) if amount > 0 && amount <= remaining => Ok(amount),
        Some(_) => Err(ApiError::new(ErrorCode::AmountTooLarge).with_message(format!("The refund amount must be positive and at most {remaining} (captured minus refunded)."))
        .with_param("amount")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    Succeeded,
    Failed,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            RefundStatus::Pending,
            RefundStatus::Succeeded,
            RefundStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    pub fn can_move_to(self, next: RefundStatus) -> bool {
        self == RefundStatus::Pending && next != RefundStatus::Pending
    }
}

/// Why a payment was declined, in Till's words: each connector maps its gateway's codes here,
/// and the widget words each one for the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclineCode {
    CardDeclined,
    InsufficientFunds,
    ExpiredCard,
    IncorrectCvc,
    InvalidNumber,
    ProcessingError,
    AuthenticationFailed,
    /// A charge without the customer (off-session) that the bank wants the customer to
    /// authenticate: they must pay it themselves.
    AuthenticationRequired,
    /// Till's fraud rules refused the attempt before any gateway saw it.
    BlockedByRisk,
}

impl DeclineCode {
    pub const ALL: [DeclineCode; 9] = [
        DeclineCode::CardDeclined,
        DeclineCode::InsufficientFunds,
        DeclineCode::ExpiredCard,
        DeclineCode::IncorrectCvc,
        DeclineCode::InvalidNumber,
        DeclineCode::ProcessingError,
        DeclineCode::AuthenticationFailed,
        DeclineCode::AuthenticationRequired,
        DeclineCode::BlockedByRisk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeclineCode::CardDeclined => "card_declined",
            DeclineCode::InsufficientFunds => "insufficient_funds",
            DeclineCode::ExpiredCard => "expired_card",
            DeclineCode::IncorrectCvc => "incorrect_cvc",
            DeclineCode::InvalidNumber => "invalid_number",
            DeclineCode::ProcessingError => "processing_error",
            DeclineCode::AuthenticationFailed => "authentication_failed",
            DeclineCode::AuthenticationRequired => "authentication_required",
            DeclineCode::BlockedByRisk => "blocked_by_risk",
        }
    }

    /// The code named `text` as the API writes it; `None` for any other text.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|known| known.as_str() == text)
    }

    /// A gateway's code that already is one of Till's; any other is a plain decline (the
    /// customer never sees a code Till has no words for).
    pub fn from_gateway(code: &str) -> Self {
        Self::parse(code).unwrap_or(DeclineCode::CardDeclined)
    }

    /// The customer-facing reason, stored on the payment as `failure_message`.
    pub fn message(self) -> &'static str {
        match self {
            // A refusal by the merchant's fraud rules is worded as networks word theirs.
            DeclineCode::CardDeclined | DeclineCode::BlockedByRisk => "Your card was declined.",
            DeclineCode::InsufficientFunds => "Your card has insufficient funds.",
            DeclineCode::ExpiredCard => "Your card has expired.",
            DeclineCode::IncorrectCvc => "Your card's security code is incorrect.",
            DeclineCode::InvalidNumber => "Your card number is invalid.",
            DeclineCode::ProcessingError => {
                "An error occurred while processing your card. Try again in a little bit."
            }
            DeclineCode::AuthenticationFailed => "Your bank could not verify this payment.",
            DeclineCode::AuthenticationRequired => {
                "Your bank asks you to confirm this payment yourself."
            }
        }
    }

    /// The reason for a payment from a bank account (no card was involved).
    pub fn bank_message(self) -> &'static str {
        match self {
            DeclineCode::InsufficientFunds => "Your bank account does not have enough money.",
            DeclineCode::AuthenticationFailed => "Your bank could not verify you.",
            DeclineCode::ProcessingError => {
                "Your bank could not take the payment right now. Try again in a little bit."
            }
            _ => "Your bank did not take the payment.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PaymentStatus::*;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decline_codes_parse_from_their_api_names_only() {
        for code in DeclineCode::ALL {
            assert_eq!(DeclineCode::parse(code.as_str()), Some(code));
        }
        for text in ["", "do_not_honor", "Card_Declined", "card_declined\n"] {
            assert_eq!(DeclineCode::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn transition_table() {
        let legal = [
            (RequiresPaymentMethod, RequiresConfirmation),
            (RequiresPaymentMethod, Canceled),
            (RequiresConfirmation, RequiresAction),
            (RequiresConfirmation, Processing),
            (RequiresConfirmation, Canceled),
            (RequiresAction, Processing),
            (RequiresAction, Failed),
            (RequiresAction, Canceled),
            (Processing, RequiresAction),
            (Processing, RequiresCapture),
            (Processing, Succeeded),
            (Processing, Failed),
            (RequiresCapture, Succeeded),
            (RequiresCapture, Canceled),
        ];
        for from in ALL_STATUSES {
            for to in ALL_STATUSES {
                assert_eq!(
                    from.can_move_to(to),
                    legal.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
    }

    #[test]
    fn processing_cannot_be_canceled_and_terminal_states_stay() {
        assert_eq!(
            Processing.move_to(Canceled),
            Err(IllegalTransition {
                from: Processing,
                to: Canceled
            })
        );
        for terminal in [Succeeded, Failed, Canceled] {
            assert!(terminal.is_terminal());
            assert!(ALL_STATUSES.iter().all(|&to| !terminal.can_move_to(to)));
        }
    }

    #[test]
    fn unknown_gateway_codes_are_plain_declines() {
        assert_eq!(
            DeclineCode::from_gateway("insufficient_funds").message(),
            "Your card has insufficient funds."
        );
        assert_eq!(
            DeclineCode::from_gateway("<script>"),
            DeclineCode::CardDeclined
        );
        for code in DeclineCode::ALL {
            assert_eq!(DeclineCode::from_gateway(code.as_str()), code);
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn gateway_answers_may_pass_through_processing() {
        assert_eq!(RequiresAction.settle_to(Succeeded), Ok(Succeeded));
        assert_eq!(
            RequiresAction.settle_to(RequiresCapture),
            Ok(RequiresCapture)
        );
        assert_eq!(Processing.settle_to(Succeeded), Ok(Succeeded));
        assert!(Succeeded.settle_to(Failed).is_err());
        assert!(Canceled.settle_to(Succeeded).is_err());
        assert!(RequiresCapture.settle_to(Failed).is_err());
    }

    #[test]
    fn gateway_states_map_to_till_statuses() {
        assert_eq!(GatewayState::Authorized.status(), RequiresCapture);
        assert_eq!(GatewayState::Captured { amount: 1 }.status(), Succeeded);
        assert_eq!(GatewayState::Voided.status(), Canceled);
        assert_eq!(
            GatewayState::RequiresAction {
                attempts_remaining: 3
            }
            .status(),
            RequiresAction
        );
        assert_eq!(
            GatewayState::Declined {
                code: DeclineCode::CardDeclined
            }
            .status(),
            Failed
        );
    }

    #[test]
    fn capture_is_whole_or_partial_never_more() {
        assert_eq!(capture_amount(1000, None), Ok(1000));
        assert_eq!(capture_amount(1000, Some(400)), Ok(400));
        assert_eq!(
            capture_amount(1000, Some(1001)).unwrap_err().error.code,
            ErrorCode::AmountInvalid
        );
        assert_eq!(
            capture_amount(1000, Some(0)).unwrap_err().error.code,
            ErrorCode::AmountInvalid
        );
    }

    #[test]
    fn refunds_never_exceed_what_was_captured() {
        assert_eq!(refund_amount(1000, 0, None), Ok(1000));
        assert_eq!(refund_amount(1000, 300, None), Ok(700));
        assert_eq!(refund_amount(1000, 300, Some(700)), Ok(700));
        assert_eq!(
            refund_amount(1000, 300, Some(701)).unwrap_err().error.code,
            ErrorCode::AmountTooLarge
        );
        assert_eq!(refund_amount(1000, 1000, None).unwrap_err().status(), 409);
        assert_eq!(refund_amount(1000, 0, Some(-5)).unwrap_err().status(), 400);
    }

    #[test]
    fn refund_states_move_once() {
        use RefundStatus as R;
        assert!(R::Pending.can_move_to(R::Succeeded));
        assert!(R::Pending.can_move_to(R::Failed));
        assert!(!R::Succeeded.can_move_to(R::Failed));
        assert!(!R::Failed.can_move_to(R::Succeeded));
        assert!(!R::Pending.can_move_to(R::Pending));
    }

    proptest! {
        #[test]
        fn any_refund_sequence_stays_within_the_capture(captured in 1i64..100_000, asks in proptest::collection::vec(proptest::option::of(1i64..50_000), 1..20)) {
            let mut refunded = 0;
            for ask in asks {
                if let Ok(amount) = refund_amount(captured, refunded, ask) {
                    refunded += amount;
                }
                prop_assert!(refunded <= captured);
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for s in ALL_STATUSES {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    proptest! {
        #[test]
        fn random_walks_never_leave_a_terminal_state(steps in proptest::collection::vec(0usize..8, 1..40)) {
            let mut state = RequiresPaymentMethod;
            for step in steps {
                let next = ALL_STATUSES[step];
                match state.move_to(next) {
                    Ok(moved) => {
                        prop_assert!(!state.is_terminal());
                        state = moved;
                    }
                    Err(err) => prop_assert_eq!(err.from, state),
                }
            }
        }
    }
}
