//! Calendar dates in UTC.
//!
//! Contract terms are in force on whole days, so proviso works with plain
//! proleptic-Gregorian calendar dates rather than instants. A `Date` is stored
//! as the number of days since 1970-01-01, which makes comparisons and
//! interval checks integer operations.

use std::fmt;

/// A calendar date (UTC), stored as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

/// Why a date could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// Not of the form `YYYY-MM-DD`.
    Format,
    /// The month is not 1–12.
    Month(u32),
    /// The day does not exist in that month.
    Day {
        year: i32,
        month: u32,
        day: u32,
        days_in_month: u32,
    },
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateError::Format => write!(f, "dates are written `YYYY-MM-DD`"),
            DateError::Month(m) => write!(f, "there is no month {m}; months run from 01 to 12"),
            DateError::Day {
                year,
                month,
                day,
                days_in_month,
            } => write!(
                f,
                "{} {year} has {days_in_month} days, so day {day} does not exist",
                MONTH_NAMES
                    .get((*month as usize).saturating_sub(1))
                    .copied()
                    .unwrap_or("that month")
            ),
        }
    }
}

/// English month names, used by diagnostics and plain-English renderings.
pub const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` (1–12) of `year`.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// Builds a date, checking that it exists.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Result<Date, DateError> {
        if !(1..=12).contains(&month) {
            return Err(DateError::Month(month));
        }
        let dim = days_in_month(year, month);
        if day == 0 || day > dim {
            return Err(DateError::Day {
                year,
                month,
                day,
                days_in_month: dim,
            });
        }
        Ok(Date(days_from_civil(year, month, day)))
    }

    /// Parses a strict `YYYY-MM-DD` date.
    pub fn parse(text: &str) -> Result<Date, DateError> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
            return Err(DateError::Format);
        }
        let num = |range: std::ops::Range<usize>| -> Result<u32, DateError> {
            let part = text.get(range).ok_or(DateError::Format)?;
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(DateError::Format);
            }
            part.parse().map_err(|_| DateError::Format)
        };
        let year = num(0..4)? as i32;
        Date::from_ymd(year, num(5..7)?, num(8..10)?)
    }

    /// Today's date in UTC, from the system clock.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Date((secs / 86_400) as i32)
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i32 {
        self.0
    }

    /// The date from days since 1970-01-01.
    pub fn from_days(days: i32) -> Date {
        Date(days)
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// `28 October 2025`, for plain-English renderings.
    pub fn long(self) -> String {
        let (y, m, d) = self.ymd();
        let month = MONTH_NAMES
            .get((m as usize).saturating_sub(1))
            .copied()
            .unwrap_or("?");
        format!("{d} {month} {y}")
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

// Howard Hinnant's days_from_civil / civil_from_days algorithms.
fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    // In `i64`: any `i32` of days (a Parquet `date32`, a timestamp far
    // from now) is a date, some five million years either way, without
    // overflow on the way.
    let z = i64::from(z) + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    // (|y| is under 6 million: it is an `i32`.)
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// A half-open interval of dates `[from, until)`; `until: None` is open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub from: Date,
    pub until: Option<Date>,
}

impl Interval {
    /// Whether `date` lies in `[from, until)`.
    pub fn contains(&self, date: Date) -> bool {
        date >= self.from && self.until.is_none_or(|u| date < u)
    }

    /// Whether two intervals share at least one day.
    pub fn overlaps(&self, other: &Interval) -> bool {
        let a_before_b_ends = other.until.is_none_or(|u| self.from < u);
        let b_before_a_ends = self.until.is_none_or(|u| other.from < u);
        a_before_b_ends && b_before_a_ends
    }

    /// The intersection, if any day is in both.
    pub fn intersect(&self, other: &Interval) -> Option<Interval> {
        let from = self.from.max(other.from);
        let until = match (self.until, other.until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let result = Interval { from, until };
        match until {
            Some(u) if u <= from => None,
            _ => Some(result),
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.until {
            Some(u) => write!(f, "[{}, {})", self.from, u),
            None => write!(f, "[{}, open)", self.from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_day_across_four_centuries() {
        for days in -200_000..200_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn rejects_impossible_dates_with_the_reason() {
        assert_eq!(
            Date::parse("2026-02-30").unwrap_err().to_string(),
            "February 2026 has 28 days, so day 30 does not exist"
        );
        assert!(Date::parse("2024-02-29").is_ok());
        assert_eq!(Date::parse("2025-13-01"), Err(DateError::Month(13)));
        assert_eq!(Date::parse("2026-2-27"), Err(DateError::Format));
    }

    #[test]
    fn intervals_are_half_open() {
        let d = |s| Date::parse(s).unwrap();
        let i = Interval {
            from: d("2025-10-28"),
            until: Some(d("2026-04-27")),
        };
        assert!(i.contains(d("2025-10-28")));
        assert!(i.contains(d("2026-04-26")));
        assert!(!i.contains(d("2026-04-27")));
        let j = Interval {
            from: d("2026-04-27"),
            until: None,
        };
        assert!(!i.overlaps(&j));
        assert!(i.intersect(&j).is_none());
    }
}
