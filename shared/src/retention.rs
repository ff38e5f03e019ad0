//! How long Till keeps the records that only grow: a merchant's events and their webhook
//! deliveries, and the ids of gateway events already applied. D1 holds at most 10 GB per
//! database, and an event with its deliveries weighs about as much as the payment it tells of,
//! so without a limit these would fill it first (docs/scaling.md). Payments, refunds, the
//! ledger and the audit log are the merchant's books and are never deleted.
//!
//! Encrypted cards' nonces are kept only while a replay could still be accepted, and sessions
//! only until they expired: a dashboard session then signs no one in, and a customer session
//! is kept 30 days more so the widget is told it expired rather than that it does not exist.
//! An FX quote is kept 30 days after it expired: a session or payment keeps what its quote
//! locked, so an old quote is only looked up by id, and it can lock nothing any more. Quotes
//! grow with the merchants' traffic (a quote per price shown in another currency), not with
//! their sales.
//!
//! The period is Stripe's for events: `GET /v1/events` promises 30 days. A gateway retries a
//! webhook for days, not weeks (Stripe for 3), so an event id older than that is not coming
//! back; one that does is applied again, and applying what is already applied changes nothing.

use crate::card::{PAYLOAD_MAX_AGE_SECONDS, PAYLOAD_MAX_SKEW_SECONDS};

/// Days an event, a finished delivery or a gateway event's id is kept.
pub const KEPT_DAYS: i64 = 30;

/// Rows of one table deleted by one statement: small enough that a round never holds D1's
/// single writer for long, large enough to keep up with any rate D1 itself can write.
pub const BATCH: usize = 500;

/// Rounds of deletion per run of the every-minute cron: at most `BATCH × ROUNDS` rows of each
/// table a minute (7.2 million a day), so a backlog drains without one run doing it all.
pub const ROUNDS: usize = 10;

/// What is past its time at one moment: rows dated before each cutoff (unix seconds) go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    /// Events, finished webhook deliveries and gateway event ids created before it, and
    /// customer sessions and FX quotes that expired before it: `KEPT_DAYS` ago.
    pub records: i64,
    /// Encrypted cards' nonces first seen before it: a card encrypted at most
    /// `PAYLOAD_MAX_SKEW_SECONDS` after its nonce was first seen is refused for its age from
    /// `PAYLOAD_MAX_AGE_SECONDS` after that, replayed or not.
    pub nonces: i64,
    /// Dashboard sessions that expired before it: now.
    pub dashboard_sessions: i64,
}

impl Cutoffs {
    pub fn at(now: i64) -> Cutoffs {
        Cutoffs {
            records: now.saturating_sub(KEPT_DAYS * 86_400),
            nonces: now.saturating_sub(PAYLOAD_MAX_AGE_SECONDS + PAYLOAD_MAX_SKEW_SECONDS),
            dashboard_sessions: now,
        }
    }
}

/// Whether a round that deleted `deleted` rows from each table may have left more behind: a
/// table that gave a whole batch may have another.
pub fn more_waiting(deleted: &[usize]) -> bool {
    deleted.iter().any(|&rows| rows >= BATCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_kept_thirty_days_to_the_second() {
        let now = 1_767_225_600; // 2026-01-01T00:00:00Z
        let cutoff = Cutoffs::at(now).records;
        assert_eq!(cutoff, 1_764_633_600, "2025-12-02T00:00:00Z");
        let created_29_days_ago = now - 29 * 86_400;
        let created_31_days_ago = now - 31 * 86_400;
        assert!(created_29_days_ago >= cutoff, "kept");
        assert!(created_31_days_ago < cutoff, "deleted");
    }

    #[test]
    fn a_clock_near_its_start_deletes_nothing_and_does_not_overflow() {
        assert_eq!(Cutoffs::at(0).records, -2_592_000);
        assert_eq!(
            Cutoffs::at(i64::MIN),
            Cutoffs {
                records: i64::MIN,
                nonces: i64::MIN,
                dashboard_sessions: i64::MIN
            }
        );
    }

    #[test]
    fn a_nonce_is_kept_while_its_card_could_still_be_accepted() {
        let first_seen = 1_767_225_600;
        // The latest its card can have been encrypted, and the last second that card is fresh.
        let iat = first_seen + PAYLOAD_MAX_SKEW_SECONDS;
        let last_acceptable = iat + PAYLOAD_MAX_AGE_SECONDS;
        assert!(first_seen >= Cutoffs::at(last_acceptable).nonces, "kept");
        assert!(
            first_seen < Cutoffs::at(last_acceptable + 1).nonces,
            "deleted"
        );
    }

    #[test]
    fn a_dashboard_session_goes_once_it_expired() {
        let now = 1_767_225_600;
        assert_eq!(Cutoffs::at(now).dashboard_sessions, now);
    }

    #[test]
    fn another_round_only_after_a_full_batch() {
        assert!(!more_waiting(&[0, 0, 0]));
        assert!(!more_waiting(&[BATCH - 1, 3, 0]));
        assert!(more_waiting(&[0, BATCH, 0]));
        assert!(!more_waiting(&[]));
    }
}
