//! When a subscription's periods begin and end.
//!
//! Every period is computed from the subscription's anchor, never from the period before, so
//! periods do not drift: a subscription anchored on 31 January bills on 28 (or 29) February,
//! 31 March, 30 April, 31 May — the last day of a shorter month, as established billing
//! systems do — and one anchored on 29 February bills on 28 February in other years. Days and
//! weeks are exact multiples of 24 hours (billing is in UTC, which has no daylight saving).
//! The anchor's time of day is kept.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Date, Duration, Month, OffsetDateTime};

/// The unit a price recurs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Day,
    Week,
    Month,
    Year,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }

    pub fn parse(text: &str) -> Option<Interval> {
        match text {
            "day" => Some(Interval::Day),
            "week" => Some(Interval::Week),
            "month" => Some(Interval::Month),
            "year" => Some(Interval::Year),
            _ => None,
        }
    }

    /// The most of this unit one period may span: one year, as card networks and established
    /// billing systems allow for a recurring charge.
    fn max_count(self) -> u16 {
        match self {
            Interval::Day => 365,
            Interval::Week => 52,
            Interval::Month => 12,
            Interval::Year => 1,
        }
    }
}

/// How often a price recurs: every `count` `interval`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Recurrence {
    interval: Interval,
    count: u16,
}

/// Why a recurrence or a period cannot be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodError {
    /// `interval_count` is 0 or makes a period longer than a year.
    CountOutOfRange { interval: Interval, max: u16 },
    /// The period would fall outside the calendar this can represent.
    OutOfCalendar,
}

impl fmt::Display for PeriodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeriodError::CountOutOfRange { interval, max } => write!(
                f,
                "interval_count is 1 to {max} for a {} interval (at most a year)",
                interval.as_str()
            ),
            PeriodError::OutOfCalendar => write!(f, "the period is outside the calendar"),
        }
    }
}

impl Recurrence {
    pub fn new(interval: Interval, count: u16) -> Result<Recurrence, PeriodError> {
        let max = interval.max_count();
        if !(1..=max).contains(&count) {
            return Err(PeriodError::CountOutOfRange { interval, max });
        }
        Ok(Recurrence { interval, count })
    }

    pub fn interval(self) -> Interval {
        self.interval
    }

    pub fn count(self) -> u16 {
        self.count
    }

    /// When period `n` (0: the first) of a subscription anchored at `anchor` begins; period
    /// `n` ends when period `n + 1` begins.
    pub fn period_start(
        self,
        anchor: OffsetDateTime,
        n: u32,
    ) -> Result<OffsetDateTime, PeriodError> {
        let steps = i64::from(n) * i64::from(self.count);
        match self.interval {
            Interval::Day => add_days(anchor, steps),
            Interval::Week => add_days(anchor, steps * 7),
            Interval::Month => add_months(anchor, steps),
            Interval::Year => add_months(anchor, steps * 12),
        }
    }

    /// The period of a subscription anchored at `anchor` that `at` falls in: its number, start
    /// and end. `None` before the anchor.
    pub fn period_at(
        self,
        anchor: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<Option<Period>, PeriodError> {
        if at < anchor {
            return Ok(None);
        }
        // A first guess from the shortest length a period of this recurrence can have, then
        // walk: months differ by at most three days, so it is a few steps at most.
        let shortest_days = match self.interval {
            Interval::Day => 1,
            Interval::Week => 7,
            Interval::Month => 28,
            Interval::Year => 365,
        } * i64::from(self.count);
        let elapsed_days = (at - anchor).whole_days();
        let mut n = u32::try_from((elapsed_days / shortest_days).max(0))
            .map_err(|_| PeriodError::OutOfCalendar)?;
        while n > 0 && self.period_start(anchor, n)? > at {
            n -= 1;
        }
        loop {
            let end = self.period_start(anchor, n + 1)?;
            if at < end {
                return Ok(Some(Period {
                    number: n,
                    start: self.period_start(anchor, n)?,
                    end,
                }));
            }
            n = n.checked_add(1).ok_or(PeriodError::OutOfCalendar)?;
        }
    }
}

/// One billing period: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// 0 for the first period after the anchor.
    pub number: u32,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
}

fn add_days(at: OffsetDateTime, days: i64) -> Result<OffsetDateTime, PeriodError> {
    at.checked_add(Duration::days(days))
        .ok_or(PeriodError::OutOfCalendar)
}

/// `months` calendar months after `at`, on the same day of the month or, when that month is
/// shorter, on its last day; the time of day kept.
fn add_months(at: OffsetDateTime, months: i64) -> Result<OffsetDateTime, PeriodError> {
    let index = i64::from(at.year()) * 12 + i64::from(u8::from(at.month())) - 1 + months;
    let year = i32::try_from(index.div_euclid(12)).map_err(|_| PeriodError::OutOfCalendar)?;
    let month = u8::try_from(index.rem_euclid(12) + 1)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or(PeriodError::OutOfCalendar)?;
    let day = at.day().min(month.length(year));
    let date =
        Date::from_calendar_date(year, month, day).map_err(|_| PeriodError::OutOfCalendar)?;
    Ok(at.replace_date(date))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    fn monthly() -> Recurrence {
        Recurrence::new(Interval::Month, 1).unwrap()
    }

    #[test]
    fn a_subscription_started_on_the_31st_bills_on_the_last_day_of_shorter_months() {
        let anchor = datetime!(2027-01-31 09:30 UTC);
        let starts: Vec<String> = (0..6)
            .map(|n| {
                monthly()
                    .period_start(anchor, n)
                    .unwrap()
                    .date()
                    .to_string()
            })
            .collect();
        assert_eq!(
            starts,
            [
                "2027-01-31",
                "2027-02-28",
                "2027-03-31",
                "2027-04-30",
                "2027-05-31",
                "2027-06-30"
            ]
        );
        let leap = datetime!(2028-01-31 09:30 UTC);
        assert_eq!(
            monthly().period_start(leap, 1).unwrap(),
            datetime!(2028-02-29 09:30 UTC)
        );
        assert_eq!(
            monthly().period_start(anchor, 0).unwrap().time(),
            anchor.time(),
            "the time of day is kept"
        );
    }

    #[test]
    fn a_leap_day_anchor_bills_on_the_28th_in_other_years() {
        let yearly = Recurrence::new(Interval::Year, 1).unwrap();
        let anchor = datetime!(2028-02-29 00:00 UTC);
        assert_eq!(
            yearly.period_start(anchor, 1).unwrap(),
            datetime!(2029-02-28 00:00 UTC)
        );
        assert_eq!(
            yearly.period_start(anchor, 4).unwrap(),
            datetime!(2032-02-29 00:00 UTC)
        );
    }

    #[test]
    fn days_and_weeks_are_exact_and_counts_are_at_most_a_year() {
        let fortnightly = Recurrence::new(Interval::Week, 2).unwrap();
        let anchor = datetime!(2027-03-01 12:00 UTC);
        assert_eq!(
            fortnightly.period_start(anchor, 3).unwrap(),
            datetime!(2027-04-12 12:00 UTC)
        );
        for (interval, max) in [
            (Interval::Day, 365),
            (Interval::Week, 52),
            (Interval::Month, 12),
            (Interval::Year, 1),
        ] {
            assert!(Recurrence::new(interval, max).is_ok());
            assert_eq!(
                Recurrence::new(interval, max + 1),
                Err(PeriodError::CountOutOfRange { interval, max })
            );
            assert!(Recurrence::new(interval, 0).is_err());
        }
        assert_eq!(Interval::parse("fortnight"), None);
    }

    #[test]
    fn the_period_of_a_moment_is_found_and_nothing_before_the_anchor() {
        let anchor = datetime!(2027-01-31 09:30 UTC);
        let in_march = monthly()
            .period_at(anchor, datetime!(2027-03-15 00:00 UTC))
            .unwrap()
            .unwrap();
        assert_eq!(in_march.number, 1);
        assert_eq!(in_march.start, datetime!(2027-02-28 09:30 UTC));
        assert_eq!(in_march.end, datetime!(2027-03-31 09:30 UTC));
        let at_start = monthly()
            .period_at(anchor, datetime!(2027-03-31 09:30 UTC))
            .unwrap()
            .unwrap();
        assert_eq!(at_start.number, 2, "a period includes its start");
        assert_eq!(
            monthly()
                .period_at(anchor, datetime!(2027-01-31 09:29:59 UTC))
                .unwrap(),
            None
        );
    }

    fn recurrence() -> impl Strategy<Value = Recurrence> {
        prop_oneof![
            (1u16..=365).prop_map(|n| Recurrence::new(Interval::Day, n).unwrap()),
            (1u16..=52).prop_map(|n| Recurrence::new(Interval::Week, n).unwrap()),
            (1u16..=12).prop_map(|n| Recurrence::new(Interval::Month, n).unwrap()),
            Just(Recurrence::new(Interval::Year, 1).unwrap()),
        ]
    }

    proptest! {
        /// Periods follow each other without gap or overlap, each between the shortest and the
        /// longest its unit can be, and any moment after the anchor falls in exactly the
        /// period whose bounds hold it.
        #[test]
        fn periods_tile_time_without_gaps(
            recurrence in recurrence(),
            anchor_seconds in 1_600_000_000i64..2_200_000_000,
            n in 0u32..400,
            offset in 0i64..1_000_000_000,
        ) {
            let anchor = OffsetDateTime::from_unix_timestamp(anchor_seconds).unwrap();
            let start = recurrence.period_start(anchor, n).unwrap();
            let end = recurrence.period_start(anchor, n + 1).unwrap();
            let seconds = (end - start).whole_seconds();
            let day = 86_400i64;
            let count = i64::from(recurrence.count());
            let (low, high) = match recurrence.interval() {
                Interval::Day => (count * day, count * day),
                Interval::Week => (7 * count * day, 7 * count * day),
                // Months are 28 to 31 days; a start moved to a short month's last day shifts
                // a period by at most 3 days.
                Interval::Month => ((28 * count - 3) * day, (31 * count + 3) * day),
                Interval::Year => (365 * day, 366 * day),
            };
            prop_assert!((low..=high).contains(&seconds), "{seconds} s");
            prop_assert_eq!(start.time(), anchor.time());
            let at = anchor + Duration::seconds(offset);
            let period = recurrence.period_at(anchor, at).unwrap().unwrap();
            prop_assert!(period.start <= at && at < period.end);
            prop_assert_eq!(period.start, recurrence.period_start(anchor, period.number).unwrap());
            prop_assert_eq!(period.end, recurrence.period_start(anchor, period.number + 1).unwrap());
        }
    }
}
