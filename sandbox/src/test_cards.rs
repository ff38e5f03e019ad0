//! What the sandbox does with each test card (Stripe's numbers, as listed in DESIGN.md).

use crate::gateway::GatewayCard;
use till_core::card::{validate_cvc, validate_expiry, validate_number, YearMonth};

/// The gateway's answer to an authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Approve,
    Decline(&'static str),
    /// A 3-D Secure / OTP challenge first, then the inner outcome.
    Challenge(&'static Outcome),
}

/// Cards not in the table are approved when number, expiry, CVC and name are valid, like a real
/// test gateway.
pub fn outcome_for(card: &GatewayCard, now: YearMonth) -> Outcome {
    let number = card.number.expose();
    let brand = match validate_number(number) {
        Ok(brand) => brand,
        Err(_) => return Outcome::Decline("invalid_number"),
    };
    if validate_expiry(card.exp_month, card.exp_year, now).is_err() {
        return Outcome::Decline("expired_card");
    }
    if card
        .cvc
        .as_ref()
        .is_some_and(|cvc| validate_cvc(cvc.expose(), brand).is_err())
    {
        return Outcome::Decline("incorrect_cvc");
    }
    if card.name.trim().is_empty() {
        return Outcome::Decline("invalid_name");
    }
    match number.as_str() {
        "4000000000000002" => Outcome::Decline("card_declined"),
        "4000000000009995" => Outcome::Decline("insufficient_funds"),
        "4000000000000069" => Outcome::Decline("expired_card"),
        "4000000000000127" => Outcome::Decline("incorrect_cvc"),
        "4000000000000119" => Outcome::Decline("processing_error"),
        "4000002760003184" | "4000000000003220" => Outcome::Challenge(&Outcome::Approve),
        "4000008400001629" => Outcome::Challenge(&Outcome::Decline("card_declined")),
        _ => Outcome::Approve,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use till_core::secret::Secret;

    const NOW: YearMonth = YearMonth {
        year: 2026,
        month: 11,
    };

    fn card(number: &str) -> GatewayCard {
        GatewayCard {
            number: Secret::new(number.into()),
            exp_month: 12,
            exp_year: 2030,
            cvc: Some(Secret::new(
                if number.starts_with('3') {
                    "1234"
                } else {
                    "123"
                }
                .into(),
            )),
            name: "Ada Lovelace".into(),
        }
    }

    fn outcome(number: &str) -> Outcome {
        outcome_for(&card(number), NOW)
    }

    #[test]
    fn expiry_cvc_and_name_are_checked() {
        let mut expired = card("4242424242424242");
        expired.exp_year = 2026;
        expired.exp_month = 10;
        assert_eq!(outcome_for(&expired, NOW), Outcome::Decline("expired_card"));
        let mut short_cvc = card("4242424242424242");
        short_cvc.cvc = Some(Secret::new("12".into()));
        assert_eq!(
            outcome_for(&short_cvc, NOW),
            Outcome::Decline("incorrect_cvc")
        );
        // A saved card is charged without its CVC.
        let mut saved = card("4242424242424242");
        saved.cvc = None;
        assert_eq!(outcome_for(&saved, NOW), Outcome::Approve);
        let mut nameless = card("4242424242424242");
        nameless.name = String::new();
        assert_eq!(
            outcome_for(&nameless, NOW),
            Outcome::Decline("invalid_name")
        );
    }

    #[test]
    fn test_card_table() {
        assert_eq!(outcome("4242424242424242"), Outcome::Approve);
        assert_eq!(outcome("5555555555554444"), Outcome::Approve);
        assert_eq!(outcome("378282246310005"), Outcome::Approve);
        assert_eq!(
            outcome("4000000000000002"),
            Outcome::Decline("card_declined")
        );
        assert_eq!(
            outcome("4000000000009995"),
            Outcome::Decline("insufficient_funds")
        );
        assert_eq!(
            outcome("4242424242424241"),
            Outcome::Decline("invalid_number")
        );
    }
}
