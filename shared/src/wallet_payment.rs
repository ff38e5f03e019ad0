//! Paying a checkout from a Till wallet: all of it from the balance, or part from the balance
//! and the rest by card. The ledger writes such a payment as one operation (the wallet's part
//! and the card's part reach the merchant together, or neither does), so the two parts are
//! decided here once, when the customer confirms, and a refund of the payment splits back the
//! same way.

use crate::error::{ApiError, ErrorCode};

/// How an amount divides between a customer's wallet and a card (both ≥ 0, together the
/// amount).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub wallet: i64,
    pub card: i64,
}

/// The parts of a checkout of `amount` when the customer asked to pay `wallet_amount` from
/// their wallet, `with_card` saying whether a card came with it for the rest. A wallet that
/// pays everything needs no card, and a card must have something left to pay.
pub fn checkout_split(amount: i64, wallet_amount: i64, with_card: bool) -> Result<Split, ApiError> {
    let invalid = |message: &str| {
        Err(ApiError::new(ErrorCode::ParameterInvalid)
            .with_message(message)
            .with_param("wallet_amount"))
    };
    if wallet_amount <= 0 || wallet_amount > amount {
        return invalid("wallet_amount must be above zero and at most the session's amount.");
    }
    let card = amount - wallet_amount;
    match (card, with_card) {
        (0, true) => invalid("The wallet pays all of it: send no card with it."),
        (0, false) => Ok(Split {
            wallet: wallet_amount,
            card: 0,
        }),
        (_, false) => invalid("The wallet pays part of it: send a card for the rest."),
        (_, true) => Ok(Split {
            wallet: wallet_amount,
            card,
        }),
    }
}

/// Where a refund of `amount` goes for a payment whose card paid `card_paid`, of which
/// `card_refunded` was already given back: to the card first (the customer's money from
/// outside goes back where it came from), the rest to the wallet.
pub fn refund_split(amount: i64, card_paid: i64, card_refunded: i64) -> Split {
    let card_left = (card_paid - card_refunded).max(0);
    let card = amount.min(card_left).max(0);
    Split {
        wallet: amount - card,
        card,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkout_is_paid_by_the_wallet_alone_or_with_a_card_for_the_rest() {
        assert_eq!(
            checkout_split(5_000, 5_000, false).unwrap(),
            Split {
                wallet: 5_000,
                card: 0
            }
        );
        assert_eq!(
            checkout_split(5_000, 1_200, true).unwrap(),
            Split {
                wallet: 1_200,
                card: 3_800
            }
        );
    }

    #[test]
    fn a_split_that_does_not_add_up_is_refused() {
        for (amount, wallet, card) in [
            (5_000, 0, true),
            (5_000, -1, true),
            (5_000, 5_001, false),
            (5_000, i64::MAX, true),
            (5_000, 5_000, true),
            (5_000, 4_999, false),
        ] {
            let error = checkout_split(amount, wallet, card).unwrap_err();
            assert_eq!(error.error.param.as_deref(), Some("wallet_amount"));
        }
    }

    #[test]
    fn refunds_go_to_the_card_first_then_the_wallet() {
        // Paid 3 800 by card and 1 200 from the wallet.
        assert_eq!(
            refund_split(1_000, 3_800, 0),
            Split {
                wallet: 0,
                card: 1_000
            }
        );
        assert_eq!(
            refund_split(4_000, 3_800, 0),
            Split {
                wallet: 200,
                card: 3_800
            }
        );
        assert_eq!(
            refund_split(500, 3_800, 3_800),
            Split {
                wallet: 500,
                card: 0
            }
        );
        assert_eq!(
            refund_split(700, 0, 0),
            Split {
                wallet: 700,
                card: 0
            }
        );
    }
}
