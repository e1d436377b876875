//! The audit's field transforms (`src/scan/logs/transform.rs`) in SQL:
//! the host of a URL or of `host:port`, the path of a URL without its
//! query, the address of `address:port`.
//!
//! Each is written with the string functions all four dialects share
//! (`SUBSTR`, `LENGTH`, `REVERSE`, `LEAST`, a position function), counted
//! in characters where the audit counts bytes: the characters they look
//! for (`:`, `/`, `?`, `#`, `[`, `]`) are ASCII, so both cut at the same
//! places. The host is lower-cased in ASCII only, as the audit does
//! (`TRANSLATE`, not `LOWER`, which would also fold `É`).
//!
//! A transform is a few steps, each reading the previous one's value
//! several times; each step is its own column of the statement (`stage`
//! names it), so that the text of the statement grows with the number of
//! steps, not with their product.

use super::dialect::Dialect;
use crate::scan::logs::Transform;

/// How many steps a transform takes at most (the statement's layers
/// between a raw value and its field).
pub const MAX_STEPS: usize = 3;

/// `v` (a column: text, NULL when absent) after the transform `t`, an
/// empty result absent; `stage(i, expr)` makes `expr` the column of step
/// `i` (1-based) and answers its name.
pub fn apply(
    d: Dialect,
    v: &str,
    t: Transform,
    stage: &mut dyn FnMut(usize, String) -> String,
) -> String {
    match t {
        Transform::Host => {
            let rest = stage(1, after_scheme(d, v));
            let authority = stage(2, cut_at_first(d, &rest, &['/', '?', '#']));
            let host = format!(
                "CASE WHEN SUBSTR({a}, 1, 1) = '[' THEN \
                   CASE WHEN {close} > 0 THEN SUBSTR({a}, 1, {close}) ELSE {a} END \
                 WHEN {colon} > 0 THEN SUBSTR({a}, 1, GREATEST(LENGTH({a}) - {last_colon}, 0)) \
                 ELSE {a} END",
                a = authority,
                close = d.position(&authority, "]"),
                colon = d.position(&authority, ":"),
                last_colon = d.position(&format!("REVERSE({authority})"), ":"),
            );
            stage(
                3,
                format!(
                    "TRANSLATE(NULLIF({host}, ''), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
                ),
            )
        }
        Transform::Path => {
            let rest = stage(
                1,
                format!(
                    "CASE WHEN {} THEN SUBSTR({v}, {} + 3) END",
                    has_scheme(d, v),
                    d.position(v, "://")
                ),
            );
            let from = first_of(d, &rest, &['/', '?', '#']);
            let target = stage(
                2,
                format!(
                    "CASE WHEN {rest} IS NULL THEN {v} \
                     WHEN {from} > 0 THEN SUBSTR({rest}, {from}) ELSE '' END"
                ),
            );
            stage(
                3,
                format!("NULLIF({}, '')", cut_at_first(d, &target, &['?', '#'])),
            )
        }
        Transform::Ip | Transform::IpPort => {
            let close = d.position(v, "]");
            let port = if t == Transform::IpPort {
                let c = d.position(&format!("REVERSE({v})"), ":");
                format!("WHEN {c} > 0 THEN SUBSTR({v}, 1, GREATEST(LENGTH({v}) - {c}, 0))")
            } else {
                // One `:` (its first is its last): `address:port`.
                let first = d.position(v, ":");
                let last = d.position(&format!("REVERSE({v})"), ":");
                format!(
                    "WHEN {first} > 0 AND {first} = LENGTH({v}) + 1 - {last} \
                     THEN SUBSTR({v}, 1, GREATEST({first} - 1, 0))"
                )
            };
            let inner = stage(
                1,
                format!(
                    "CASE WHEN {dot} = 0 AND {colon} = 0 THEN NULL \
                     WHEN SUBSTR({v}, 1, 1) = '[' THEN \
                       CASE WHEN {close} > 0 THEN SUBSTR({v}, 2, GREATEST({close} - 2, 0)) ELSE SUBSTR({v}, 2) END \
                     {port} ELSE {v} END",
                    dot = d.position(v, "."),
                    colon = d.position(v, ":"),
                ),
            );
            // An address is written with hex digits, `.` and `:`, up to a
            // `%` zone; anything else is a placeholder for one.
            stage(
                2,
                format!(
                    "CASE WHEN {} THEN NULLIF({inner}, '') END",
                    d.regex_like(&inner, "^[0-9A-Fa-f.:]*(?:%|\\z)")
                ),
            )
        }
        // arn:partition:service:region:account:resource
        Transform::ArnRegion => stage(
            1,
            format!(
                "CASE WHEN SUBSTR({v}, 1, 4) = 'arn:' THEN NULLIF(split_part({v}, ':', 4), '') END"
            ),
        ),
        // The request-line transforms belong to text formats that have no
        // table form; such a column is read as it is.
        _ => v.to_string(),
    }
}

/// Whether `v` starts with a URL scheme (`https://`).
fn has_scheme(d: Dialect, v: &str) -> String {
    d.regex_like(v, "^[A-Za-z][A-Za-z0-9+.\\x2D]*://")
}

/// `v` after its scheme and `://`, if it has one.
fn after_scheme(d: Dialect, v: &str) -> String {
    format!(
        "CASE WHEN {} THEN SUBSTR({v}, {} + 3) ELSE {v} END",
        has_scheme(d, v),
        d.position(v, "://")
    )
}

/// The 1-based position of the first of `chars` in `v`, or 0.
fn first_of(d: Dialect, v: &str, chars: &[char]) -> String {
    let big = "2147483647";
    let each: Vec<String> = chars
        .iter()
        .map(|c| {
            let p = d.position(v, &c.to_string());
            format!("CASE WHEN {p} > 0 THEN {p} ELSE {big} END")
        })
        .collect();
    format!("(LEAST({}) % {big})", each.join(", "))
}

/// `v` up to (not including) the first of `chars`.
fn cut_at_first(d: Dialect, v: &str, chars: &[char]) -> String {
    let at = first_of(d, v, chars);
    format!("CASE WHEN {at} > 0 THEN SUBSTR({v}, 1, GREATEST({at} - 1, 0)) ELSE {v} END")
}
