//! The Worker's clock, in the units the core expects.

use till_core::card::YearMonth;

pub fn now_seconds() -> i64 {
    (worker::Date::now().as_millis() / 1000) as i64
}

pub fn this_month() -> YearMonth {
    YearMonth::from_unix_seconds(now_seconds())
}
