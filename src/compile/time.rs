//! A record's time in SQL: read to UTC milliseconds as the audit reads it
//! (`src/scan/logs/timestamp.rs`), and written back as the audit writes it.
//!
//! A typed column is converted by the dialect (a TIMESTAMP to epoch
//! milliseconds, a DATE to epoch days); a number is epoch seconds,
//! milliseconds, microseconds or nanoseconds by its magnitude; a text
//! column is read as ISO 8601 / RFC 3339 (`2026-04-26T23:30:00.5-02:00`,
//! a space for `T`, `+0100` and `+01` offsets, no offset meaning UTC) or
//! as epoch digits, with the same checks (hours to 23, minutes to 59,
//! seconds to 60, a real calendar date) and the same arithmetic: the
//! fraction truncated to milliseconds, the offset subtracted. The text is
//! cut with `SUBSTR` at fixed places and its date validated by a cast, so
//! no dialect's own timestamp reading (each has its own leniencies and
//! session zone) decides anything. Text that is neither form, such as the
//! Common Log Format, makes the record unreadable (the audit would read
//! it): give such a table a typed timestamp column.

use super::dialect::Dialect;
use super::fields::Fields;
use super::schema::ColType;

pub const MS_PER_DAY: &str = "86400000";

/// The epoch milliseconds of the record's timestamp: the first of its
/// candidate columns (`timestamp`, `time`, `@timestamp`, …, `date`) the
/// row has, read by its type; NULL when the row has none, or its value
/// cannot be read (the audit's malformed line: neither is judged).
pub fn record_ms(f: &mut Fields<'_>) -> Option<String> {
    let d = f.d;
    let path = crate::value::FieldPath(vec!["timestamp".into()]);
    let sources: Vec<(String, ColType)> = match f.table() {
        Some(table) => table
            .sources(d, "timestamp")
            .into_iter()
            .map(|(e, ty, _)| (e, ty))
            .collect(),
        None => f
            .candidates(&path)
            .into_iter()
            .map(|(c, _)| (f.column_ref(c), c.ty.clone()))
            .collect(),
    };
    if sources.is_empty() {
        return None;
    }
    let mut arms = Vec::new();
    for (expr, ty) in sources {
        let (present, ms) = match ty {
            ColType::Timestamp(zone) => {
                let raw = f.col_at(0, "r", expr);
                (format!("{raw} IS NOT NULL"), d.epoch_ms(&raw, zone))
            }
            ColType::Date => {
                let raw = f.col_at(0, "r", expr);
                (
                    format!("{raw} IS NOT NULL"),
                    format!("{} * {MS_PER_DAY}", d.epoch_day(&raw)),
                )
            }
            ColType::Int | ColType::Float | ColType::Decimal(_) => {
                let raw = f.col_at(0, "r", format!("CAST({expr} AS DOUBLE)"));
                (format!("{raw} IS NOT NULL"), epoch_number(&raw))
            }
            ColType::Text | ColType::Bool | ColType::Other(_) => {
                let raw = f.col_at(0, "r", format!("NULLIF(NULLIF({expr}, ''), '-')"));
                (format!("{raw} IS NOT NULL"), text_ms(f, &raw))
            }
        };
        arms.push(format!("WHEN {present} THEN {ms}"));
    }
    Some(format!("CASE {} END", arms.join(" ")))
}

/// Epoch seconds, milliseconds, microseconds or nanoseconds, told apart
/// by magnitude; a negative number is not a timestamp.
fn epoch_number(n: &str) -> String {
    format!(
        "CASE WHEN {n} < 0 THEN NULL \
         WHEN {n} < 1e11 THEN CAST(FLOOR({n} * 1000.0) AS BIGINT) \
         WHEN {n} < 1e14 THEN CAST(FLOOR({n}) AS BIGINT) \
         WHEN {n} < 1e17 THEN CAST(FLOOR({n} / 1000.0) AS BIGINT) \
         ELSE CAST(FLOOR({n} / 1000000.0) AS BIGINT) END"
    )
}

/// ISO 8601 as the audit reads it: date, then optionally `T`/`t`/space/tab,
/// `HH:MM:SS`, a fraction after `.` or `,`, and `Z`, `±HH:MM`, `±HHMM` or
/// `±HH`.
const ISO: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt\\x20\\x09][0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?(?:[Zz]|[+\\x2D][0-9]{2}(?::?[0-9]{2})?)?)?\\z";
/// Epoch digits (`1772359202.345`).
const EPOCH: &str = "^[0-9]+(?:\\.[0-9]*)?\\z";

/// The epoch milliseconds of a text timestamp column `raw` (absent: NULL),
/// computed in a few steps of the statement.
fn text_ms(f: &mut Fields<'_>, raw: &str) -> String {
    let d = f.d;
    let s = f.col_at(1, "ts", format!("TRIM({raw})"));
    let num = |x: &str| d.try_cast(x, "BIGINT");
    // Step 2: the parts, as text and numbers.
    let iso = f.col_at(2, "ts", d.regex_like(&s, ISO));
    let epoch = f.col_at(2, "ts", d.regex_like(&s, EPOCH));
    let day = f.col_at(
        2,
        "ts",
        d.epoch_day(&d.try_cast(&format!("SUBSTR({s}, 1, 10)"), "DATE")),
    );
    let tail = f.col_at(2, "ts", format!("SUBSTR({s}, 20)"));
    let h = f.col_at(
        2,
        "ts",
        format!(
            "CASE WHEN LENGTH({s}) > 10 THEN {} ELSE 0 END",
            num(&format!("SUBSTR({s}, 12, 2)"))
        ),
    );
    let mi = f.col_at(
        2,
        "ts",
        format!(
            "CASE WHEN LENGTH({s}) > 10 THEN {} ELSE 0 END",
            num(&format!("SUBSTR({s}, 15, 2)"))
        ),
    );
    let sec = f.col_at(
        2,
        "ts",
        format!(
            "CASE WHEN LENGTH({s}) > 10 THEN {} ELSE 0 END",
            num(&format!("SUBSTR({s}, 18, 2)"))
        ),
    );
    let epoch_ms = f.col_at(
        2,
        "ts",
        format!(
            "CASE WHEN {} THEN {} END",
            d.regex_like(&s, EPOCH),
            epoch_number(&d.try_cast(&s, "DOUBLE"))
        ),
    );
    // Step 3: where the zone starts in the tail, the fraction, the zone.
    let zpos = f.col_at(
        3,
        "ts",
        format!(
            "(LEAST({}, {}, {}, {}) % 2147483647)",
            pos_or_big(d, &tail, "+"),
            pos_or_big(d, &tail, "-"),
            pos_or_big(d, &tail, "Z"),
            pos_or_big(d, &tail, "z"),
        ),
    );
    // Step 4: milliseconds of the fraction and seconds of the offset.
    let frac_end = format!("(CASE WHEN {zpos} > 0 THEN {zpos} ELSE LENGTH({tail}) + 1 END)");
    let milli = f.col_at(
        4,
        "ts",
        format!(
            "CASE WHEN SUBSTR({tail}, 1, 1) IN ('.', ',') THEN {} ELSE 0 END",
            num(&format!(
                "RPAD(SUBSTR({tail}, 2, GREATEST(LEAST({frac_end} - 2, 3), 0)), 3, '0')"
            ))
        ),
    );
    let zone = f.col_at(
        4,
        "ts",
        format!("CASE WHEN {zpos} > 0 THEN UPPER(SUBSTR({tail}, {zpos})) ELSE 'Z' END"),
    );
    // Step 5: the offset's hours and minutes.
    let oh = f.col_at(
        5,
        "ts",
        format!(
            "CASE WHEN {zone} = 'Z' THEN 0 ELSE {} END",
            num(&format!("SUBSTR({zone}, 2, 2)"))
        ),
    );
    let om = f.col_at(
        5,
        "ts",
        format!(
            "CASE LENGTH({zone}) WHEN 6 THEN {} WHEN 5 THEN {} ELSE 0 END",
            num(&format!("SUBSTR({zone}, 5, 2)")),
            num(&format!("SUBSTR({zone}, 4, 2)"))
        ),
    );
    // Step 6: the instant.
    let sign = format!("(CASE WHEN SUBSTR({zone}, 1, 1) = '-' THEN -1 ELSE 1 END)");
    f.col_at(
        6,
        "ts",
        format!(
            "CASE WHEN {epoch} THEN {epoch_ms} \
             WHEN {iso} AND {day} IS NOT NULL AND {h} <= 23 AND {mi} <= 59 AND {sec} <= 60 \
                  AND {oh} <= 23 AND {om} <= 59 \
             THEN {day} * {MS_PER_DAY} + ({h} * 3600 + {mi} * 60 + {sec} - {sign} * ({oh} * 3600 + {om} * 60)) * 1000 + {milli} \
             END"
        ),
    )
}

fn pos_or_big(d: Dialect, s: &str, needle: &str) -> String {
    let p = d.position(s, needle);
    format!("CASE WHEN {p} > 0 THEN {p} ELSE 2147483647 END")
}

/// The UTC day (days since 1970-01-01) of epoch milliseconds `ms`
/// (non-negative: a time before 1970 is outside any terms).
pub fn day_of(d: Dialect, ms: &str) -> String {
    d.idiv(ms, MS_PER_DAY)
}

/// Epoch milliseconds as the audit writes a time: `2026-03-01T12:00:00Z`,
/// with `.mmm` when the milliseconds are not zero.
pub fn format_ms(d: Dialect, ms: &str) -> String {
    let rem = format!("({ms} % {MS_PER_DAY})");
    let two = |x: String| format!("LPAD({}, 2, '0')", d.to_text(&x));
    let h = two(d.idiv(&rem, "3600000"));
    let m = two(format!("({} % 60)", d.idiv(&rem, "60000")));
    let s = two(format!("({} % 60)", d.idiv(&rem, "1000")));
    let milli = format!("({ms} % 1000)");
    format!(
        "CASE WHEN {ms} IS NOT NULL THEN {date} || 'T' || {h} || ':' || {m} || ':' || {s} || \
         CASE WHEN {milli} = 0 THEN '' ELSE '.' || LPAD({milli_text}, 3, '0') END || 'Z' END",
        date = day_text(d, &day_of(d, ms)),
        milli_text = d.to_text(&milli),
    )
}

/// A day (days since 1970-01-01) as `YYYY-MM-DD`.
pub fn day_text(d: Dialect, day: &str) -> String {
    d.to_text(&d.date_of_day(day))
}
