//! What a change of price or quantity in the middle of a billing period costs, exactly in minor
//! units.
//!
//! **The formula** (one rule, applied here only): for a period `[start, end)` and a change at
//! `at`, the part of the period left is `left = (end - at) / (end - start)` (whole seconds, an
//! exact fraction). The customer is credited what they paid for the time left on the old
//! terms, `credit = round(old × left)`, and charged the time left on the new ones,
//! `charge = round(new × left)`, each rounded once, half to even ([`round_half_even`]). The
//! difference is what the next invoice adds (positive) or takes off (negative). Changing and
//! changing back at the same moment nets to exactly zero; a change at the start of a period is
//! the full difference; at its end, nothing.

use crate::fx::{round_half_even, Exact};
use std::fmt;

/// The two lines a mid-period change puts on the next invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proration {
    /// Unused time on the old terms, given back (minor units, ≥ 0).
    pub credit: i64,
    /// Remaining time on the new terms (minor units, ≥ 0).
    pub charge: i64,
}

impl Proration {
    /// What the change adds to the next invoice (negative: what it takes off).
    pub fn net(&self) -> i64 {
        self.charge - self.credit
    }
}

/// Why a change cannot be prorated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProrationError {
    /// The period is empty or the change is not within it.
    OutsidePeriod,
    /// An amount is negative.
    NegativeAmount,
}

impl fmt::Display for ProrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProrationError::OutsidePeriod => write!(f, "the change is outside the period"),
            ProrationError::NegativeAmount => write!(f, "a period's amount is negative"),
        }
    }
}

/// The proration of changing from `old` to `new` (each the whole period's amount, in minor
/// units of one currency) at `at` (Unix seconds) within the period `[start, end)`.
pub fn prorate(
    old: i64,
    new: i64,
    start: i64,
    end: i64,
    at: i64,
) -> Result<Proration, ProrationError> {
    if old < 0 || new < 0 {
        return Err(ProrationError::NegativeAmount);
    }
    if !(start..end).contains(&at) {
        return Err(ProrationError::OutsidePeriod);
    }
    let left = Exact::new(i128::from(end - at), i128::from(end - start));
    // `left` is at most 1, so each part is at most its amount: it fits where the amount did.
    let part = |amount: i64| {
        i64::try_from(round_half_even(
            Exact::from_integer(i128::from(amount)) * left,
        ))
        .unwrap_or(amount)
    };
    Ok(Proration {
        credit: part(old),
        charge: part(new),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAY: i64 = 86_400;

    #[test]
    fn an_upgrade_halfway_through_a_thirty_day_month_costs_half_the_difference() {
        let start = 1_800_000_000;
        let end = start + 30 * DAY;
        let halfway = prorate(1_000, 2_500, start, end, start + 15 * DAY).unwrap();
        assert_eq!(
            halfway,
            Proration {
                credit: 500,
                charge: 1_250
            }
        );
        assert_eq!(halfway.net(), 750);
        // A third of ₩9,900 left: 3,300 exactly; of ₩10,000 a tie-free 3,333.33… -> 3,333.
        let third = prorate(9_900, 10_000, start, end, start + 20 * DAY).unwrap();
        assert_eq!((third.credit, third.charge), (3_300, 3_333));
        // Half of an odd amount is a tie: to the even unit.
        assert_eq!(
            prorate(5, 7, start, end, start + 15 * DAY).unwrap(),
            Proration {
                credit: 2,
                charge: 4
            }
        );
    }

    #[test]
    fn changes_outside_the_period_or_of_negative_amounts_are_refused() {
        assert_eq!(
            prorate(1, 2, 10, 20, 20),
            Err(ProrationError::OutsidePeriod)
        );
        assert_eq!(prorate(1, 2, 10, 20, 9), Err(ProrationError::OutsidePeriod));
        assert_eq!(
            prorate(1, 2, 10, 10, 10),
            Err(ProrationError::OutsidePeriod)
        );
        assert_eq!(
            prorate(-1, 2, 10, 20, 15),
            Err(ProrationError::NegativeAmount)
        );
    }

    proptest! {
        /// At the start of a period a change is the whole difference; parts never exceed their
        /// amounts; a change and its reversal at the same moment net to exactly zero; a later
        /// change never credits more.
        #[test]
        fn prorations_are_exact_and_bounded(
            old in 0i64..=99_999_999_999,
            new in 0i64..=99_999_999_999,
            start in 1_600_000_000i64..2_000_000_000,
            length in 1i64..=366 * DAY,
            into in 0u32..=1_000_000,
        ) {
            let end = start + length;
            let at = start + (i128::from(length - 1) * i128::from(into) / 1_000_000) as i64;
            let full = prorate(old, new, start, end, start).unwrap();
            prop_assert_eq!(full, Proration { credit: old, charge: new });
            let change = prorate(old, new, start, end, at).unwrap();
            prop_assert!((0..=old).contains(&change.credit));
            prop_assert!((0..=new).contains(&change.charge));
            let back = prorate(new, old, start, end, at).unwrap();
            prop_assert_eq!(change.net() + back.net(), 0);
            if at + 1 < end {
                let later = prorate(old, new, start, end, at + 1).unwrap();
                prop_assert!(later.credit <= change.credit);
            }
        }
    }
}
