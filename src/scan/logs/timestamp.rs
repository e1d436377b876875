//! Log timestamps: reading every form the formats write (ISO 8601 / RFC
//! 3339 with any offset, the Common Log Format, epoch numbers) to UTC
//! milliseconds, and writing them back.
//!
//! The commonest form, `2026-03-01T12:00:00Z` with or without a fraction,
//! is read at fixed offsets (`rfc3339_utc`); anything else by the
//! general reading, which a test checks the fast one against.

use std::ops::Range;

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type Millis = i64;

const MS_PER_DAY: i64 = 86_400_000;

/// The UTC calendar day of a timestamp.
pub fn day_of(ms: Millis) -> crate::date::Date {
    crate::date::Date::from_days(ms.div_euclid(MS_PER_DAY) as i32)
}

/// `2026-03-01T12:00:00.123Z`.
pub fn format_timestamp(ms: Millis) -> String {
    let day = day_of(ms);
    let rem = ms.rem_euclid(MS_PER_DAY);
    let (h, m, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    if milli == 0 {
        format!("{day}T{h:02}:{m:02}:{s:02}Z")
    } else {
        format!("{day}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
    }
}

/// [`format_timestamp`] of `ms`, read from `raw`, with all the fractional
/// digits `raw` has (`2026-03-02T09:15:17.8383427Z` stays so, where
/// milliseconds would cut it to `.838`). Offsets are whole minutes, so
/// the fraction of a second is the same in UTC.
pub fn format_timestamp_precise(ms: Millis, raw: &str) -> String {
    match second_fraction(raw.trim()) {
        Some(frac) if frac.len() > 3 => {
            let whole = format_timestamp(ms - ms.rem_euclid(1000));
            let head = whole.strip_suffix('Z').unwrap_or(&whole);
            format!("{head}.{frac}Z")
        }
        _ => format_timestamp(ms),
    }
}

/// The digits of the fraction of a second in a timestamp: after the
/// seconds of `HH:MM:SS.fff` (ISO 8601), or after the point of epoch
/// seconds (`1772359202.345678`).
fn second_fraction(raw: &str) -> Option<&str> {
    let b = raw.as_bytes();
    let digits_from = |at: usize| {
        let n = b
            .get(at..)?
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        (n > 0).then(|| raw.get(at..at + n)).flatten()
    };
    if let Some(dot) = raw.find('.')
        && b.iter().take(dot).all(u8::is_ascii_digit)
        && (1..=10).contains(&dot)
    {
        return digits_from(dot + 1).filter(|f| f.len() + dot + 1 == raw.len());
    }
    let at = (8..b.len()).find(|&i| {
        matches!(b.get(i), Some(b'.' | b','))
            && b.get(i - 3) == Some(&b':')
            && b.get(i - 2).is_some_and(u8::is_ascii_digit)
            && b.get(i - 1).is_some_and(u8::is_ascii_digit)
    })?;
    digits_from(at + 1)
}

/// The number written by the ASCII digits `b[range]` (all digits, at
/// least one), in one pass.
#[inline]
fn digits(b: &[u8], range: Range<usize>) -> Option<i64> {
    let part = b.get(range)?;
    if part.is_empty() {
        return None;
    }
    let mut n = 0i64;
    for d in part {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some(n)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses a log timestamp to UTC milliseconds. Accepted: ISO 8601 / RFC
/// 3339 (`2026-03-01T12:00:00.5Z`, `…+01:00`, `…+0100`, a space for `T`;
/// no offset means UTC), a bare date, the Common Log Format
/// (`01/Mar/2026:12:00:00 +0000`), and epoch numbers (seconds, or
/// milliseconds, microseconds, nanoseconds by magnitude).
pub fn parse_timestamp(text: &str) -> Option<Millis> {
    // Nearly every timestamp starts and ends with a digit or a letter:
    // then there is nothing to trim, and `trim`'s look at both ends (for
    // any Unicode space) is skipped.
    let b = text.as_bytes();
    let plain = |c: Option<&u8>| c.is_some_and(u8::is_ascii_alphanumeric);
    let t = if plain(b.first()) && plain(b.last()) {
        text
    } else {
        text.trim()
    };
    let b = t.as_bytes();
    if b.is_empty() {
        return None;
    }
    if let Some(ms) = rfc3339_utc(b) {
        return Some(ms);
    }
    if b.iter().all(|c| c.is_ascii_digit() || *c == b'.') && b.first() != Some(&b'.') {
        let n: f64 = t.parse().ok()?;
        let ms = if n < 1e11 {
            n * 1000.0
        } else if n < 1e14 {
            n
        } else if n < 1e17 {
            n / 1000.0
        } else {
            n / 1_000_000.0
        };
        return if ms.is_finite() {
            Some(ms as i64)
        } else {
            None
        };
    }
    // Common Log Format: 01/Mar/2026:12:00:00 +0000
    if b.get(2) == Some(&b'/') && b.get(6) == Some(&b'/') {
        let day = digits(b, 0..2)?;
        let mon = t.get(3..6)?;
        let month = MONTHS.iter().position(|m| *m == mon)? as u32 + 1;
        let year = digits(b, 7..11)?;
        if b.get(11) != Some(&b':') {
            return None;
        }
        let (h, mi, s) = hms(b, 12)?;
        let rest = t.get(20..)?.trim();
        let offset = parse_offset(rest.as_bytes())?;
        return assemble(year, month, day, h, mi, s, 0, offset);
    }
    // ISO 8601
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let year = digits(b, 0..4)?;
    let month = digits(b, 5..7)? as u32;
    let day = digits(b, 8..10)?;
    if b.len() == 10 {
        return assemble(year, month, day, 0, 0, 0, 0, 0);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ' | b'\t')) {
        return None;
    }
    let (h, mi, s) = hms(b, 11)?;
    let mut i = 19;
    let mut milli = 0i64;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = b.get(start..i)?;
        let mut scale = 100;
        for d in frac.iter().take(3) {
            milli += i64::from(d - b'0') * scale;
            scale /= 10;
        }
    }
    let offset = parse_offset(b.get(i..)?)?;
    assemble(year, month, day, h, mi, s, milli, offset)
}

/// The commonest timestamp, `2026-03-01T12:00:00Z` with or without a
/// fraction, read at fixed offsets. `None` for anything else (which the
/// general reading then tries); where it answers, it answers as the
/// general reading does.
fn rfc3339_utc(b: &[u8]) -> Option<Millis> {
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || b.get(10) != Some(&b'T') {
        return None;
    }
    let (h, mi, s) = hms(b, 11)?;
    let (milli, zone) = match b.get(19)? {
        b'Z' => (0, 19),
        b'.' => {
            let digits = b
                .get(20..)?
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits == 0 {
                return None;
            }
            let mut milli = 0;
            for (k, scale) in [100, 10, 1].into_iter().enumerate().take(digits) {
                milli += i64::from(b.get(20 + k)? - b'0') * scale;
            }
            (milli, 20 + digits)
        }
        _ => return None,
    };
    if zone + 1 != b.len() || b.get(zone) != Some(&b'Z') {
        return None;
    }
    assemble(
        digits(b, 0..4)?,
        u32::try_from(digits(b, 5..7)?).ok()?,
        digits(b, 8..10)?,
        h,
        mi,
        s,
        milli,
        0,
    )
}

#[inline]
fn hms(b: &[u8], at: usize) -> Option<(i64, i64, i64)> {
    if b.get(at + 2) != Some(&b':') || b.get(at + 5) != Some(&b':') {
        return None;
    }
    let h = digits(b, at..at + 2)?;
    let m = digits(b, at + 3..at + 5)?;
    let s = digits(b, at + 6..at + 8)?;
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some((h, m, s))
}

/// `Z`, `+01:00`, `-0500`, or nothing (UTC); seconds east of UTC.
fn parse_offset(b: &[u8]) -> Option<i64> {
    match b {
        [] | [b'Z'] | [b'z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (digits(&[*h1, *h2], 0..2)?, digits(&[*m1, *m2], 0..2)?)
                }
                [h1, h2] => (digits(&[*h1, *h2], 0..2)?, 0),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let secs = h * 3600 + m * 60;
            Some(if *sign == b'-' { -secs } else { secs })
        }
        _ => None,
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "a date and a time of day, each part as read"
)]
fn assemble(
    year: i64,
    month: u32,
    day: i64,
    h: i64,
    mi: i64,
    s: i64,
    milli: i64,
    offset_secs: i64,
) -> Option<Millis> {
    let date =
        crate::date::Date::from_ymd(i32::try_from(year).ok()?, month, u32::try_from(day).ok()?)
            .ok()?;
    let secs = i64::from(date.days()) * 86_400 + h * 3600 + mi * 60 + s - offset_secs;
    Some(secs * 1000 + milli)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> String {
        parse_timestamp(s).map(format_timestamp).unwrap_or_default()
    }

    /// The fixed-offset reading answers as the general one on every
    /// shape it might be given, valid or not.
    #[test]
    fn the_fast_timestamp_reading_agrees_with_the_general_one() {
        let mut checked = 0;
        for date in [
            "2026-03-01",
            "2026-02-29",
            "2024-02-29",
            "2026-13-01",
            "2026-04-31",
        ] {
            for time in [
                "12:00:00", "23:59:60", "24:00:00", "00:60:00", "1:00:00", "12:0a:00",
            ] {
                for frac in ["", ".", ".1", ".12", ".123", ".123456789", ".x"] {
                    for zone in ["Z", "z", "", "+01:00", "ZZ", " Z"] {
                        for sep in ["T", "t", " "] {
                            let text = format!("{date}{sep}{time}{frac}{zone}");
                            let b = text.as_bytes();
                            if let Some(fast) = rfc3339_utc(b) {
                                checked += 1;
                                // The general reading, without the fast path.
                                let general = parse_timestamp(&text.replacen('T', "t", 1));
                                assert_eq!(Some(fast), general, "{text}");
                            }
                        }
                    }
                }
            }
        }
        // Two valid dates, two valid times and five fractions, in UTC.
        assert_eq!(checked, 20);
    }

    #[test]
    fn precise_timestamps_keep_every_fractional_digit() {
        let p = |raw: &str| parse_timestamp(raw).map(|ms| format_timestamp_precise(ms, raw));
        assert_eq!(
            p("2026-03-02T09:15:17.8383427Z").as_deref(),
            Some("2026-03-02T09:15:17.8383427Z")
        );
        assert_eq!(
            p("2026-03-02T11:15:17.838342+02:00").as_deref(),
            Some("2026-03-02T09:15:17.838342Z")
        );
        assert_eq!(
            p("2026-03-02T09:15:17.5Z").as_deref(),
            Some("2026-03-02T09:15:17.500Z")
        );
        assert_eq!(
            p("01/Mar/2026:10:00:00 +0000").as_deref(),
            Some("2026-03-01T10:00:00Z")
        );
        assert_eq!(
            p("1772359202.345678").as_deref(),
            Some("2026-03-01T10:00:02.345678Z")
        );
        assert_eq!(
            p("1772359202345").as_deref(),
            Some("2026-03-01T10:00:02.345Z")
        );
    }

    #[test]
    fn timestamps_become_utc() {
        assert_eq!(ts("2026-03-01T12:00:00Z"), "2026-03-01T12:00:00Z");
        // Spaces around a timestamp (a padded CSV cell) are not part of it.
        assert_eq!(ts(" 2026-03-01T12:00:00Z\t"), "2026-03-01T12:00:00Z");
        assert_eq!(ts("\u{a0}1772366400 "), "2026-03-01T12:00:00Z");
        assert_eq!(
            ts("2026-03-01T12:00:00.123456Z"),
            "2026-03-01T12:00:00.123Z"
        );
        assert_eq!(ts("2026-04-27T01:30:00+02:00"), "2026-04-26T23:30:00Z");
        assert_eq!(ts("2026-04-26T23:30:00-0500"), "2026-04-27T04:30:00Z");
        assert_eq!(ts("2026-03-01 12:00:00"), "2026-03-01T12:00:00Z");
        assert_eq!(ts("26/Apr/2026:23:30:00 -0200"), "2026-04-27T01:30:00Z");
        assert_eq!(ts("1772366400"), "2026-03-01T12:00:00Z");
        assert_eq!(ts("1772366400000"), "2026-03-01T12:00:00Z");
        assert_eq!(ts("2026-02-30T00:00:00Z"), "");
        assert_eq!(ts("yesterday"), "");
        assert_eq!(ts("2026-03-01T25:00:00Z"), "");
    }
}
