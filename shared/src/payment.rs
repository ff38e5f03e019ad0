//! Payment states and the only legal moves between them.

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

/// The customer-facing reason for a gateway decline code (shown by the widget, stored on the payment).
pub fn decline_message(code: &str) -> &'static str {
    match code {
        "card_declined" => "Your card was declined.",
        "insufficient_funds" => "Your card has insufficient funds.",
        "expired_card" => "Your card has expired.",
        "incorrect_cvc" => "Your card's security code is incorrect.",
        "processing_error" => {
            "An error occurred while processing your card. Try again in a little bit."
        }
        "invalid_number" => "Your card number is invalid.",
        _ => "Your card was declined.",
    }
}

#[cfg(test)]
mod tests {
    use super::PaymentStatus::*;
    use super::*;
    use proptest::prelude::*;

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
    fn decline_messages_never_echo_the_code_blindly() {
        assert_eq!(
            decline_message("insufficient_funds"),
            "Your card has insufficient funds."
        );
        assert_eq!(decline_message("<script>"), "Your card was declined.");
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
