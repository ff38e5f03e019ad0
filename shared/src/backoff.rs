//! Exponential backoff, the one schedule every retry in Till follows: the poller, merchant
//! webhook deliveries, the widget's confirm retries and the sandbox's webhooks.

/// Waits `first` after the first failure, doubling after each further one, never more than
/// `max` (in whatever unit the caller counts: seconds or milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: i64,
    pub max: i64,
}

impl Backoff {
    /// The wait after `failures` failures (the first retry follows failure 1). Never negative,
    /// never overflows.
    pub fn delay(&self, failures: u32) -> i64 {
        let doublings = failures.saturating_sub(1).min(62);
        self.first
            .max(0)
            .saturating_mul(1i64 << doublings)
            .min(self.max.max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_the_first_wait_up_to_the_cap() {
        let backoff = Backoff {
            first: 1000,
            max: 10_000,
        };
        let waits: Vec<i64> = (0..7).map(|n| backoff.delay(n)).collect();
        assert_eq!(waits, [1000, 1000, 2000, 4000, 8000, 10_000, 10_000]);
        assert_eq!(backoff.delay(u32::MAX), 10_000);
        let huge = Backoff {
            first: i64::MAX,
            max: i64::MAX,
        };
        assert_eq!(huge.delay(40), i64::MAX);
        let negative = Backoff { first: -5, max: 10 };
        assert_eq!(negative.delay(3), 0);
    }
}
