//! A subscription's life: every status it may have and every move between them, and the
//! dunning schedule that retries a failed renewal.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// Created; its first charge asks the customer to authenticate (3-D Secure).
    Incomplete,
    /// The first charge was never completed in time: nothing more is billed.
    IncompleteExpired,
    /// In its free trial: the first charge comes at the trial's end.
    Trialing,
    /// Paid for the current period.
    Active,
    /// A renewal failed and is being retried on the dunning schedule.
    PastDue,
    /// Every retry failed and the merchant keeps such subscriptions: no further periods are
    /// billed until the customer pays with a working card.
    Unpaid,
    /// Paused by the merchant or the customer: no periods are billed until resumed.
    Paused,
    /// Ended: now, at a period's end, or after failed retries when the merchant cancels those.
    Canceled,
}

impl SubscriptionStatus {
    pub const ALL: [SubscriptionStatus; 8] = [
        SubscriptionStatus::Incomplete,
        SubscriptionStatus::IncompleteExpired,
        SubscriptionStatus::Trialing,
        SubscriptionStatus::Active,
        SubscriptionStatus::PastDue,
        SubscriptionStatus::Unpaid,
        SubscriptionStatus::Paused,
        SubscriptionStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Incomplete => "incomplete",
            SubscriptionStatus::IncompleteExpired => "incomplete_expired",
            SubscriptionStatus::Trialing => "trialing",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Unpaid => "unpaid",
            SubscriptionStatus::Paused => "paused",
            SubscriptionStatus::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<SubscriptionStatus> {
        SubscriptionStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    /// Whether nothing can happen to it any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Canceled | SubscriptionStatus::IncompleteExpired
        )
    }

    /// Every move a subscription may make; anything else is refused.
    pub fn can_move_to(self, next: SubscriptionStatus) -> bool {
        use SubscriptionStatus::*;
        match (self, next) {
            // The first charge was authenticated and paid, or never was.
            (Incomplete, Active | IncompleteExpired) => true,
            // The trial ended and its first charge was paid, or failed into dunning.
            (Trialing, Active | PastDue) => true,
            // A renewal failed.
            (Active, PastDue) => true,
            // A retry or a new card paid; or every retry failed.
            (PastDue, Active | Unpaid) => true,
            (PastDue, Canceled) => true,
            // The customer paid the open invoice with a working card.
            (Unpaid, Active) => true,
            (Trialing | Active, Paused) => true,
            (Paused, Active) => true,
            // Canceling is always possible before the end.
            (Incomplete | Trialing | Active | Unpaid | Paused, Canceled) => true,
            _ => false,
        }
    }

    pub fn move_to(self, next: SubscriptionStatus) -> Result<SubscriptionStatus, IllegalMove> {
        if self.can_move_to(next) {
            Ok(next)
        } else {
            Err(IllegalMove {
                from: self,
                to: next,
            })
        }
    }

    /// Whether its periods are billed.
    pub fn bills(self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Trialing | SubscriptionStatus::Active | SubscriptionStatus::PastDue
        )
    }
}

impl fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A move the state machine refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalMove {
    pub from: SubscriptionStatus,
    pub to: SubscriptionStatus,
}

impl fmt::Display for IllegalMove {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a subscription cannot go from {} to {}",
            self.from, self.to
        )
    }
}

/// What happens when every retry of a renewal failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterRetries {
    /// `unpaid`: kept, not billed, until the customer pays.
    MarkUnpaid,
    /// `canceled`.
    Cancel,
}

impl AfterRetries {
    pub fn status(self) -> SubscriptionStatus {
        match self {
            AfterRetries::MarkUnpaid => SubscriptionStatus::Unpaid,
            AfterRetries::Cancel => SubscriptionStatus::Canceled,
        }
    }
}

/// When a failed renewal is charged again: days after the first failure, increasing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dunning {
    retry_days: Vec<u16>,
    pub after_retries: AfterRetries,
}

/// At most this many retries, and none later than this many days after the failure.
pub const MAX_RETRIES: usize = 8;
pub const MAX_RETRY_DAY: u16 = 60;

/// Why a dunning schedule is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DunningInvalid;

impl fmt::Display for DunningInvalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "retry_days is 1 to {MAX_RETRIES} increasing days, each 1 to {MAX_RETRY_DAY}"
        )
    }
}

impl Default for Dunning {
    /// Retries 1, 3, 5 and 7 days after the failure, then `unpaid`.
    fn default() -> Dunning {
        Dunning {
            retry_days: vec![1, 3, 5, 7],
            after_retries: AfterRetries::MarkUnpaid,
        }
    }
}

impl Dunning {
    pub fn new(
        retry_days: Vec<u16>,
        after_retries: AfterRetries,
    ) -> Result<Dunning, DunningInvalid> {
        let increasing = retry_days
            .windows(2)
            .all(|pair| matches!(pair, [a, b] if a < b));
        let in_range = retry_days.iter().all(|d| (1..=MAX_RETRY_DAY).contains(d));
        if retry_days.is_empty() || retry_days.len() > MAX_RETRIES || !increasing || !in_range {
            return Err(DunningInvalid);
        }
        Ok(Dunning {
            retry_days,
            after_retries,
        })
    }

    pub fn retry_days(&self) -> &[u16] {
        &self.retry_days
    }

    /// When retry number `retry` (1: the first) is due, in Unix seconds, for a renewal that
    /// first failed at `failed_at`; `None` once the schedule is spent.
    pub fn retry_due(&self, failed_at: i64, retry: usize) -> Option<i64> {
        let day = self.retry_days.get(retry.checked_sub(1)?)?;
        Some(failed_at + i64::from(*day) * 86_400)
    }

    /// Where a subscription goes when retry number `retry` failed: still `past_due` while
    /// retries remain, else what the merchant chose.
    pub fn after_failed_retry(&self, retry: usize) -> SubscriptionStatus {
        if retry < self.retry_days.len() {
            SubscriptionStatus::PastDue
        } else {
            self.after_retries.status()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubscriptionStatus::*;

    #[test]
    fn a_year_of_life_moves_only_through_allowed_states() {
        let life = [
            Trialing, Active, PastDue, Active, Paused, Active, PastDue, Unpaid, Active, Canceled,
        ];
        let mut status = life[0];
        for next in &life[1..] {
            status = status.move_to(*next).unwrap();
        }
        assert!(status.is_final());
    }

    #[test]
    fn final_states_go_nowhere_and_nothing_returns_to_incomplete_or_trialing() {
        for from in SubscriptionStatus::ALL {
            for to in SubscriptionStatus::ALL {
                let allowed = from.can_move_to(to);
                if from.is_final() || from == to || matches!(to, Incomplete | Trialing) {
                    assert!(!allowed, "{from} -> {to}");
                }
            }
            assert_eq!(SubscriptionStatus::parse(from.as_str()), Some(from));
        }
        assert_eq!(
            Unpaid.move_to(PastDue),
            Err(IllegalMove {
                from: Unpaid,
                to: PastDue
            })
        );
        assert!(
            !Paused.can_move_to(PastDue),
            "a paused subscription is not billed"
        );
        assert!(!Paused.bills() && !Unpaid.bills() && Active.bills());
    }

    #[test]
    fn dunning_retries_on_its_days_then_does_what_the_merchant_chose() {
        let dunning = Dunning::default();
        let failed_at = 1_800_000_000;
        let due: Vec<Option<i64>> = (1..=5).map(|n| dunning.retry_due(failed_at, n)).collect();
        assert_eq!(
            due,
            [
                Some(failed_at + 86_400),
                Some(failed_at + 3 * 86_400),
                Some(failed_at + 5 * 86_400),
                Some(failed_at + 7 * 86_400),
                None
            ]
        );
        assert_eq!(dunning.retry_due(failed_at, 0), None);
        assert_eq!(dunning.after_failed_retry(3), PastDue);
        assert_eq!(dunning.after_failed_retry(4), Unpaid);
        let strict = Dunning::new(vec![2], AfterRetries::Cancel).unwrap();
        assert_eq!(strict.after_failed_retry(1), Canceled);
        for bad in [
            vec![],
            vec![3, 1],
            vec![1, 1],
            vec![0],
            vec![61],
            vec![1; 9],
        ] {
            assert_eq!(Dunning::new(bad, AfterRetries::Cancel), Err(DunningInvalid));
        }
    }
}
