//! Test clocks: a time of the merchant's own that subscriptions can live in, so a year of
//! billing runs in seconds in development and tests. A clock only moves forward, when the
//! merchant advances it; everything due up to its new time then happens in order, as the
//! cron would have done it in real time. Off unless the deployment turns them on.

use crate::error::{ApiError, ErrorCode};
use serde::{Deserialize, Serialize};

/// The furthest one advance may go: a little over a year, so a yearly period fits.
pub const MAX_ADVANCE_SECONDS: i64 = 400 * 86_400;

/// `POST /v1/test_clocks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTestClock {
    /// The clock's starting time (unix seconds).
    pub frozen_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `POST /v1/test_clocks/:id/advance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceTestClock {
    pub frozen_time: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestClockStatus {
    Ready,
    /// Moved forward; what fell due is still being billed.
    Advancing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestClock {
    pub id: String,
    pub object: String,
    pub name: Option<String>,
    pub frozen_time: i64,
    pub status: TestClockStatus,
    pub created: i64,
}

/// Earliest and latest time a clock may start at: 2000 to 2100.
const EARLIEST: i64 = 946_684_800;
const LATEST: i64 = 4_102_444_800;

impl CreateTestClock {
    /// The start time and name, or why they are refused.
    pub fn checked(&self) -> Result<(i64, Option<String>), ApiError> {
        if !(EARLIEST..LATEST).contains(&self.frozen_time) {
            return Err(ApiError::new(ErrorCode::ParameterInvalid)
                .with_message("frozen_time is a unix time between 2000 and 2100.")
                .with_param("frozen_time"));
        }
        let name = match self.name.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) if name.chars().count() <= 200 && !name.chars().any(char::is_control) => {
                Some(name.to_string())
            }
            Some(_) => {
                return Err(ApiError::new(ErrorCode::ParameterInvalid)
                    .with_message("name is at most 200 characters, without control characters.")
                    .with_param("name"))
            }
        };
        Ok((self.frozen_time, name))
    }
}

/// Whether a clock at `now` may move to `to`: only forward, at most [`MAX_ADVANCE_SECONDS`].
pub fn check_advance(now: i64, to: i64) -> Result<(), ApiError> {
    if to <= now || to - now > MAX_ADVANCE_SECONDS || to >= LATEST {
        return Err(ApiError::new(ErrorCode::TestClockAdvanceInvalid).with_param("frozen_time"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_only_move_forward_and_not_too_far() {
        let now = 1_800_000_000;
        assert!(check_advance(now, now + 1).is_ok());
        assert!(check_advance(now, now + MAX_ADVANCE_SECONDS).is_ok());
        assert!(check_advance(now, now).is_err());
        assert!(check_advance(now, now - 1).is_err());
        assert!(check_advance(now, now + MAX_ADVANCE_SECONDS + 1).is_err());
        let start = |frozen_time: i64, name: Option<&str>| {
            CreateTestClock {
                frozen_time,
                name: name.map(String::from),
            }
            .checked()
        };
        assert_eq!(
            start(now, Some(" 연간 ")).unwrap().1.as_deref(),
            Some("연간")
        );
        assert!(start(0, None).is_err());
        assert!(start(now, Some("a\u{7}")).is_err());
    }
}
