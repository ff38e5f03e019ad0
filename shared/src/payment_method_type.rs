//! The ways a checkout can be paid, and which of them a session offers.
//!
//! A card pays in the widget. A bank redirect (internet banking: iDEAL, Korean account
//! transfer, Indian net banking) sends the customer to their bank, where they approve the
//! payment; the bank tells Till the outcome later. Bank money is final once paid: it cannot be
//! held for capture, so a session captured by hand offers cards only. A Till wallet pays from
//! the session customer's balance, all of it or with a card for the rest
//! ([`crate::wallet_payment`]).

use crate::api::{CaptureMethod, Purpose};
use crate::error::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethodType {
    #[default]
    Card,
    BankRedirect,
    Wallet,
}

impl PaymentMethodType {
    pub const ALL: [PaymentMethodType; 3] = [
        PaymentMethodType::Card,
        PaymentMethodType::BankRedirect,
        PaymentMethodType::Wallet,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethodType::Card => "card",
            PaymentMethodType::BankRedirect => "bank_redirect",
            PaymentMethodType::Wallet => "wallet",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|method| method.as_str() == text)
    }

    /// Why this method cannot pay a session like the one described, if it cannot.
    fn unavailable_for(self, session: &SessionTerms) -> Option<&'static str> {
        match self {
            PaymentMethodType::Card => None,
            PaymentMethodType::BankRedirect if session.capture_method == CaptureMethod::Manual => {
                Some("A bank payment cannot be held for capture: use capture_method automatic.")
            }
            PaymentMethodType::BankRedirect if session.purpose == Purpose::Transfer => {
                Some("Transfers are paid by card.")
            }
            PaymentMethodType::BankRedirect if session.converted => {
                Some("A bank pays in the merchant's currency: no FX quote.")
            }
            PaymentMethodType::BankRedirect => None,
            PaymentMethodType::Wallet if !session.has_customer => {
                Some("A wallet belongs to a customer: create the session with a customer.")
            }
            PaymentMethodType::Wallet if session.purpose != Purpose::Payment => {
                Some("A wallet pays merchants: not top-ups or transfers.")
            }
            PaymentMethodType::Wallet if session.capture_method == CaptureMethod::Manual => {
                Some("A wallet payment cannot be held for capture: use capture_method automatic.")
            }
            PaymentMethodType::Wallet if session.converted => {
                Some("A wallet pays in its own currency: no FX quote.")
            }
            PaymentMethodType::Wallet => None,
        }
    }
}

/// What decides which methods may pay a session.
#[derive(Debug, Clone, Copy)]
pub struct SessionTerms {
    pub capture_method: CaptureMethod,
    pub purpose: Purpose,
    /// The customer pays in another currency through an FX quote.
    pub converted: bool,
    /// The session names its customer (whose wallet could pay).
    pub has_customer: bool,
}

/// Sessions created without `payment_method_types` are paid by card, as before methods
/// existed.
pub const DEFAULT: [PaymentMethodType; 1] = [PaymentMethodType::Card];

/// The methods a merchant asked a session to offer, checked: at least one, none twice, and
/// each able to pay such a session. Kept in the merchant's order (the widget shows them so).
pub fn checked(
    asked: Option<&[PaymentMethodType]>,
    session: &SessionTerms,
) -> Result<Vec<PaymentMethodType>, ApiError> {
    let asked = asked.unwrap_or(&DEFAULT);
    let invalid = |message: &str| {
        ApiError::new(ErrorCode::ParameterInvalid)
            .with_message(message)
            .with_param("payment_method_types")
    };
    if asked.is_empty() {
        return Err(invalid("List at least one payment method type."));
    }
    let mut methods: Vec<PaymentMethodType> = Vec::with_capacity(asked.len());
    for method in asked {
        if methods.contains(method) {
            return Err(invalid("Each payment method type may be listed once."));
        }
        if let Some(why) = method.unavailable_for(session) {
            return Err(invalid(why));
        }
        methods.push(*method);
    }
    Ok(methods)
}

/// The stored form: names joined by commas (`card,bank_redirect`).
pub fn to_column(methods: &[PaymentMethodType]) -> String {
    methods
        .iter()
        .map(|method| method.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads the stored form; `None` when a name is unknown.
pub fn from_column(column: &str) -> Option<Vec<PaymentMethodType>> {
    column.split(',').map(PaymentMethodType::parse).collect()
}

/// A bank's id as the bank lists it: lowercase letters, digits and `_`, at most 40.
pub fn is_valid_bank_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use PaymentMethodType::*;

    fn terms(capture_method: CaptureMethod) -> SessionTerms {
        SessionTerms {
            capture_method,
            purpose: Purpose::Payment,
            converted: false,
            has_customer: true,
        }
    }

    #[test]
    fn sessions_pay_by_card_unless_the_merchant_lists_more() {
        let automatic = terms(CaptureMethod::Automatic);
        assert_eq!(checked(None, &automatic).unwrap(), vec![Card]);
        assert_eq!(
            checked(Some(&[BankRedirect, Card]), &automatic).unwrap(),
            vec![BankRedirect, Card]
        );
    }

    #[test]
    fn a_bank_payment_is_refused_where_it_cannot_pay() {
        let refused = |asked: &[PaymentMethodType], session: SessionTerms| {
            let error = checked(Some(asked), &session).unwrap_err();
            assert_eq!(error.error.param.as_deref(), Some("payment_method_types"));
            error.error.message
        };
        assert!(refused(&[], terms(CaptureMethod::Automatic)).contains("at least one"));
        assert!(refused(&[Card, Card], terms(CaptureMethod::Automatic)).contains("once"));
        assert!(refused(&[BankRedirect], terms(CaptureMethod::Manual)).contains("capture"));
        let transfer = SessionTerms {
            purpose: Purpose::Transfer,
            ..terms(CaptureMethod::Automatic)
        };
        assert!(refused(&[Card, BankRedirect], transfer).contains("card"));
        let converted = SessionTerms {
            converted: true,
            ..terms(CaptureMethod::Automatic)
        };
        assert!(refused(&[BankRedirect], converted).contains("FX"));
        assert_eq!(
            checked(Some(&[Card]), &terms(CaptureMethod::Manual)).unwrap(),
            vec![Card]
        );
    }

    #[test]
    fn a_wallet_pays_only_a_customers_plain_payment() {
        let automatic = terms(CaptureMethod::Automatic);
        assert_eq!(
            checked(Some(&[Wallet, Card]), &automatic).unwrap(),
            vec![Wallet, Card]
        );
        let refused = |session: SessionTerms| checked(Some(&[Wallet]), &session).unwrap_err();
        let anonymous = SessionTerms {
            has_customer: false,
            ..automatic
        };
        assert!(refused(anonymous).error.message.contains("customer"));
        for purpose in [Purpose::WalletTopUp, Purpose::Transfer] {
            assert!(refused(SessionTerms {
                purpose,
                ..automatic
            })
            .error
            .message
            .contains("top-ups"));
        }
        assert!(refused(terms(CaptureMethod::Manual))
            .error
            .message
            .contains("capture"));
        let converted = SessionTerms {
            converted: true,
            ..automatic
        };
        assert!(refused(converted).error.message.contains("FX"));
    }

    #[test]
    fn the_stored_list_reads_back_and_unknown_names_are_caught() {
        let both = [Card, BankRedirect, Wallet];
        assert_eq!(to_column(&both), "card,bank_redirect,wallet");
        assert_eq!(from_column(&to_column(&both)).unwrap(), both.to_vec());
        assert_eq!(from_column("card,cash"), None);
        assert_eq!(from_column(""), None);
    }

    #[test]
    fn bank_ids_are_short_plain_names() {
        assert!(is_valid_bank_id("hana_test"));
        for bad in ["", "Hana", "hana-test", "은행", "a b", &"a".repeat(41)] {
            assert!(!is_valid_bank_id(bad), "{bad}");
        }
    }
}
