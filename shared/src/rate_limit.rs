//! Sliding-window rate limits against card testing: how many requests one publishable key, one
//! client IP or one card may make in a window. The edge keeps each window in its own Durable
//! Object, which is single-threaded, so the count is exact however many requests arrive at once.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What is being counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Tokenizations, confirmations and challenges made with one merchant's publishable key.
    PublishableKey,
    /// The same, from one client IP address (per merchant).
    ClientIp,
    /// Tokenizations of one card (by its per-merchant fingerprint).
    Card,
    /// Dashboard sign-ins and sign-ups from one client IP address, whatever the account: one
    /// address cannot try a password on many accounts (each account also locks on its own).
    SignIn,
}

impl Dimension {
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::PublishableKey => "publishable_key",
            Dimension::ClientIp => "client_ip",
            Dimension::Card => "card",
            Dimension::SignIn => "sign_in",
        }
    }

    /// Words for the error message.
    pub fn description(self) -> &'static str {
        match self {
            Dimension::PublishableKey => "publishable key",
            Dimension::ClientIp => "client address",
            Dimension::Card => "card",
            Dimension::SignIn => "client address",
        }
    }
}

/// At most `limit` requests in any `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub limit: u32,
    pub window_seconds: u32,
}

/// The limits in force: the deployment's defaults, with a merchant's own overrides on top.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Limits(pub BTreeMap<Dimension, Limit>);

impl Limits {
    /// Production defaults, used for any dimension the configuration leaves out.
    pub fn defaults() -> Limits {
        Limits(BTreeMap::from([
            (
                Dimension::PublishableKey,
                Limit {
                    limit: 600,
                    window_seconds: 60,
                },
            ),
            (
                Dimension::ClientIp,
                Limit {
                    limit: 30,
                    window_seconds: 600,
                },
            ),
            (
                Dimension::Card,
                Limit {
                    limit: 5,
                    window_seconds: 3600,
                },
            ),
            (
                Dimension::SignIn,
                Limit {
                    limit: 30,
                    window_seconds: 600,
                },
            ),
        ]))
    }

    /// `self` with every limit `overrides` names replaced.
    pub fn with(mut self, overrides: &Limits) -> Limits {
        self.0.extend(overrides.0.iter().map(|(d, l)| (*d, *l)));
        self
    }

    pub fn get(&self, dimension: Dimension) -> Option<Limit> {
        self.0.get(&dimension).copied()
    }
}

/// Upper bound on `limit`: the window keeps one timestamp per request it admits.
pub const MAX_LIMIT: u32 = 10_000;

impl Limit {
    pub fn window_ms(self) -> i64 {
        i64::from(self.window_seconds) * 1000
    }
}

/// One window's hits (timestamps in ms, oldest first) and its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub hits: Vec<i64>,
    pub limit: Limit,
}

impl Window {
    /// Drops the hits that have left the window; then the seconds until there is room, `None`
    /// when there is room now.
    fn wait(&mut self, now_ms: i64) -> Option<u64> {
        let window_ms = self.limit.window_ms();
        self.hits.retain(|hit| *hit > now_ms - window_ms);
        let capacity = usize::try_from(self.limit.limit.min(MAX_LIMIT)).unwrap_or(0);
        if self.hits.len() < capacity {
            return None;
        }
        let oldest = self.hits.first().copied().unwrap_or(now_ms);
        let wait_ms = (oldest + window_ms - now_ms).max(0);
        Some(u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000).max(1))
    }
}

/// Which window refused a request, and the seconds until it has room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub window: usize,
    pub retry_after: u64,
}

/// Admits one request at `now_ms` when every window has room for it, and then counts it in
/// each. A request one window refuses counts in none: a client over its own limit does not use
/// up a window it shares with others (the publishable key's, shared by all of a merchant's
/// customers). Refused: the window that has room last, and when.
pub fn admit_all(windows: &mut [Window], now_ms: i64) -> Result<(), Refused> {
    let refused = windows
        .iter_mut()
        .enumerate()
        .filter_map(|(window, w)| {
            w.wait(now_ms).map(|retry_after| Refused {
                window,
                retry_after,
            })
        })
        .max_by_key(|refused| refused.retry_after);
    if let Some(refused) = refused {
        return Err(refused);
    }
    for window in windows {
        window.hits.push(now_ms);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One window, as most limits are checked.
    fn admit(hits: &mut Vec<i64>, now_ms: i64, limit: Limit) -> Result<(), u64> {
        let mut windows = [Window {
            hits: std::mem::take(hits),
            limit,
        }];
        let admitted = admit_all(&mut windows, now_ms).map_err(|refused| refused.retry_after);
        let [window] = windows;
        *hits = window.hits;
        admitted
    }

    const FIVE_A_MINUTE: Limit = Limit {
        limit: 5,
        window_seconds: 60,
    };

    #[test]
    fn admits_up_to_the_limit_then_says_when_to_retry() {
        let mut hits = Vec::new();
        for i in 0..5 {
            assert_eq!(admit(&mut hits, 1_000 + i * 1_000, FIVE_A_MINUTE), Ok(()));
        }
        // The oldest hit (at 1 s) leaves the window at 61 s.
        assert_eq!(admit(&mut hits, 10_000, FIVE_A_MINUTE), Err(51));
        assert_eq!(admit(&mut hits, 60_999, FIVE_A_MINUTE), Err(1));
        assert_eq!(hits.len(), 5, "refused requests are not counted");
        assert_eq!(admit(&mut hits, 61_000, FIVE_A_MINUTE), Ok(()));
        assert_eq!(admit(&mut hits, 61_001, FIVE_A_MINUTE), Err(1));
    }

    #[test]
    fn the_window_slides_rather_than_resets() {
        let mut hits = Vec::new();
        for t in [0, 59_000, 59_500, 59_600, 59_700] {
            assert_eq!(admit(&mut hits, t, FIVE_A_MINUTE), Ok(()));
        }
        // A fixed window would reset at 60 s and allow five more; the sliding one allows one.
        assert_eq!(admit(&mut hits, 60_001, FIVE_A_MINUTE), Ok(()));
        assert_eq!(admit(&mut hits, 60_002, FIVE_A_MINUTE), Err(59));
    }

    #[test]
    fn zero_limit_refuses_everything_and_overrides_replace_defaults() {
        let mut hits = Vec::new();
        let closed = Limit {
            limit: 0,
            window_seconds: 60,
        };
        assert_eq!(admit(&mut hits, 0, closed), Err(60));
        let overrides: Limits =
            serde_json::from_str(r#"{"card":{"limit":50,"window_seconds":60}}"#).unwrap();
        let limits = Limits::defaults().with(&overrides);
        assert_eq!(limits.get(Dimension::Card).unwrap().limit, 50);
        assert_eq!(limits.get(Dimension::ClientIp).unwrap().limit, 30);
        assert!(
            serde_json::from_str::<Limits>(r#"{"cards":{"limit":1,"window_seconds":1}}"#).is_err()
        );
    }

    const THREE_A_MINUTE: Limit = Limit {
        limit: 3,
        window_seconds: 60,
    };

    fn key_and_address() -> [Window; 2] {
        [
            Window {
                hits: Vec::new(),
                limit: FIVE_A_MINUTE,
            },
            Window {
                hits: Vec::new(),
                limit: THREE_A_MINUTE,
            },
        ]
    }

    #[test]
    fn a_request_one_window_refuses_counts_in_none() {
        let mut windows = key_and_address();
        for t in 0..3 {
            assert_eq!(admit_all(&mut windows, t * 1_000), Ok(()));
        }
        // The address is spent; sending on does not use up the key's window.
        for t in 3..20 {
            let refused = admit_all(&mut windows, t * 1_000).unwrap_err();
            assert_eq!(refused.window, 1);
            assert_eq!(refused.retry_after, 60 - t as u64);
        }
        assert_eq!(windows[0].hits, vec![0, 1_000, 2_000]);
        assert_eq!(windows[1].hits, vec![0, 1_000, 2_000]);
        // Another address, the same key: two more fit under the key's five.
        let mut other = key_and_address();
        other[0].hits = windows[0].hits.clone();
        assert_eq!(admit_all(&mut other, 20_000), Ok(()));
        assert_eq!(admit_all(&mut other, 21_000), Ok(()));
        assert_eq!(admit_all(&mut other, 22_000).unwrap_err().window, 0);
    }

    #[test]
    fn a_request_both_windows_refuse_waits_for_the_later() {
        let mut windows = key_and_address();
        windows[0].hits = vec![50_000, 51_000, 52_000, 53_000, 54_000];
        windows[1].hits = vec![10_000, 11_000, 12_000];
        let refused = admit_all(&mut windows, 55_000).unwrap_err();
        assert_eq!(
            refused,
            Refused {
                window: 0,
                retry_after: 55
            }
        );
    }

    #[test]
    fn no_windows_admit_everything() {
        assert_eq!(admit_all(&mut [], 0), Ok(()));
    }
}
