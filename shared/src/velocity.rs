//! The sliding-window history behind velocity counters: one log per subject (a card
//! fingerprint, a client address, a customer, an email), holding that subject's recent payment
//! attempts. The edge keeps each log in one of the merchant's velocity Durable Objects
//! ([`object_name`]), one SQL row per attempt, and counts there with the windows defined here;
//! the dry run of a rule replays past attempts through [`History`], the same log in memory.

use crate::risk_rules::{Counter, Subject, MAX_WINDOW_SECONDS};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A subject's history keeps at most this many attempts (the newest). A subject past it is
/// far beyond any sensible limit already; counts saturate at this figure.
pub const MAX_ENTRIES: usize = 5_000;

/// A merchant's histories are spread over this many objects ([`crate::spread`]). An attempt
/// asks the objects of its subjects (up to four), each object ~1,000 requests a second: a
/// merchant's screening scales to a few thousand attempts a second.
pub const OBJECTS_PER_MERCHANT: u32 = 8;

/// A subject's key is kept this long: a hash, never the address or email itself.
pub const KEY_CHARS: usize = 32;

/// The key an address or an email is counted under: hashed with the merchant's id, so the
/// histories never hold it and one merchant's keys say nothing of another's.
pub fn hidden_key(merchant_id: &str, value: &str) -> String {
    let mut key = crate::api_keys::hash_secret(&format!("{merchant_id}\n{value}"));
    key.truncate(KEY_CHARS);
    key
}

/// The name `subject`'s history under `key` is kept under, in its object's rows.
pub fn history_name(merchant_id: &str, subject: Subject, key: &str) -> String {
    crate::api_keys::hash_secret(&format!("{merchant_id}\nrisk\n{}\n{key}", subject.as_str()))
}

/// The object that holds the history `history_name` of `merchant_id`.
pub fn object_name(merchant_id: &str, history_name: &str) -> String {
    crate::spread::object_name("velocity", merchant_id, history_name, OBJECTS_PER_MERCHANT)
}

/// One attempt of the subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The payment attempt (`pay_…`), to mark its outcome later.
    pub attempt: String,
    /// Unix seconds.
    pub at: i64,
    /// A short, keyed fingerprint of the card: enough to count distinct cards.
    pub card: String,
    pub declined: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Oldest first.
    pub entries: Vec<Entry>,
}

/// Where a window of `window_seconds` starts at `now`: it counts the attempts with
/// `start < at <= now`.
pub fn window_start(window_seconds: u32, now: i64) -> i64 {
    now - i64::from(window_seconds)
}

/// Attempts at or before this are in no window at `now` any more: they are forgotten.
pub fn horizon(now: i64) -> i64 {
    window_start(MAX_WINDOW_SECONDS, now)
}

impl History {
    /// Forgets what no window can reach any more, and the oldest beyond [`MAX_ENTRIES`].
    fn prune(&mut self, now: i64) {
        let horizon = horizon(now);
        self.entries.retain(|e| e.at > horizon);
        let excess = self.entries.len().saturating_sub(MAX_ENTRIES);
        self.entries.drain(..excess);
    }

    /// Records an attempt (once: recording the same attempt again changes nothing).
    pub fn record(&mut self, entry: Entry, now: i64) {
        if !self.entries.iter().any(|e| e.attempt == entry.attempt) {
            self.entries.push(entry);
        }
        self.prune(now);
    }

    /// Marks an attempt declined (the gateway's answer came after it was counted).
    pub fn mark_declined(&mut self, attempt: &str) -> bool {
        match self.entries.iter_mut().find(|e| e.attempt == attempt) {
            Some(entry) => {
                entry.declined = true;
                true
            }
            None => false,
        }
    }

    /// The counter over the last `window_seconds` before `now` (inclusive of `now`).
    pub fn count(&self, counter: Counter, window_seconds: u32, now: i64) -> i64 {
        let since = window_start(window_seconds, now);
        let recent = self.entries.iter().filter(|e| e.at > since && e.at <= now);
        let count = match counter {
            Counter::Attempts => recent.count(),
            Counter::Declines => recent.filter(|e| e.declined).count(),
            Counter::DistinctCards => recent
                .map(|e| e.card.as_str())
                .collect::<BTreeSet<_>>()
                .len(),
        };
        i64::try_from(count).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(attempt: &str, at: i64, card: &str) -> Entry {
        Entry {
            attempt: attempt.into(),
            at,
            card: card.into(),
            declined: false,
        }
    }

    #[test]
    fn windows_slide_and_count_each_attempt_once() {
        let mut history = History::default();
        history.record(entry("pay_1", 1_000, "c1"), 1_000);
        history.record(entry("pay_2", 1_500, "c2"), 1_500);
        history.record(entry("pay_2", 1_500, "c2"), 1_500);
        history.record(entry("pay_3", 2_000, "c1"), 2_000);
        assert!(history.mark_declined("pay_3"));
        assert!(!history.mark_declined("pay_9"));
        assert_eq!(history.count(Counter::Attempts, 3_600, 2_000), 3);
        assert_eq!(
            history.count(Counter::Attempts, 600, 2_000),
            2,
            "pay_1 left the window"
        );
        assert_eq!(history.count(Counter::Declines, 3_600, 2_000), 1);
        assert_eq!(history.count(Counter::DistinctCards, 3_600, 2_000), 2);
        assert_eq!(history.count(Counter::DistinctCards, 600, 2_000), 2);
        assert_eq!(history.count(Counter::DistinctCards, 60, 2_000), 1);
    }

    #[test]
    fn a_window_counts_from_just_after_its_start_to_now_inclusive() {
        assert_eq!(window_start(3_600, 10_000), 6_400);
        let mut history = History::default();
        history.record(entry("at_start", 6_400, "c"), 6_400);
        history.record(entry("just_after", 6_401, "c"), 6_401);
        history.record(entry("now", 10_000, "c"), 10_000);
        assert_eq!(history.count(Counter::Attempts, 3_600, 10_000), 2);
        assert_eq!(horizon(10_000), 10_000 - i64::from(MAX_WINDOW_SECONDS));
    }

    #[test]
    fn history_is_bounded_in_time_and_size() {
        let mut history = History::default();
        history.record(entry("old", 0, "c"), 0);
        let later = i64::from(MAX_WINDOW_SECONDS) + 10;
        history.record(entry("new", later, "c"), later);
        assert_eq!(history.entries.len(), 1, "older than any window: forgotten");
        for i in 0..(MAX_ENTRIES + 10) {
            let at = later + i64::try_from(i).unwrap();
            history.record(entry(&format!("pay_{i}"), at, "c"), at);
        }
        assert_eq!(history.entries.len(), MAX_ENTRIES);
        assert_eq!(
            history.entries.last().unwrap().attempt,
            format!("pay_{}", MAX_ENTRIES + 9)
        );
    }
}
