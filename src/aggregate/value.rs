//! The values of figures: exact decimals, strings, dates, absent and
//! unknown, with three-valued comparison and arithmetic.
//!
//! Money is [`Decimal`] throughout: no float is on this path. An absent
//! value (a `first day where …` no record matched, a `max of` over no
//! value) makes every comparison false, as an absent record field does;
//! an unknown value (a parameter not supplied) makes a comparison unknown,
//! so that the group's outcome is `unresolved`.

use crate::date::Date;
use crate::rules::ast::{CmpOp, Lit};
use crate::scan::logs::Millis;
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

/// A figure's value.
#[derive(Debug, Clone, PartialEq)]
pub enum FVal {
    Absent,
    /// Why it cannot be known (a parameter not supplied, an overflow).
    Unknown(Arc<str>),
    Num(Decimal),
    Text(Arc<str>),
    Date(Date),
    Bool(bool),
    Set(Vec<FVal>),
}

/// A three-valued truth, with the reason of an unknown.
#[derive(Debug, Clone, PartialEq)]
pub enum Truth {
    True,
    False,
    Unknown(Arc<str>),
}

impl Truth {
    pub fn of(b: bool) -> Truth {
        if b { Truth::True } else { Truth::False }
    }

    pub fn negate(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            u => u,
        }
    }
}

impl From<&Lit> for FVal {
    fn from(l: &Lit) -> FVal {
        match l {
            Lit::Num(n) => FVal::Num(*n),
            Lit::Str(s) => FVal::Text(s.clone()),
            Lit::Date(d) => FVal::Date(*d),
            Lit::Bool(b) => FVal::Bool(*b),
        }
    }
}

/// A value read from a record for an aggregation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scalar {
    Num(Decimal),
    Date(Date),
    Text(Box<str>),
}

impl Scalar {
    /// A record's text as the aggregation reads it: an exact decimal if it
    /// is one, a date if it is one, else the text.
    pub fn read(text: &str) -> Scalar {
        let t = text.trim();
        if let Ok(d) = Decimal::from_str_exact(t) {
            return Scalar::Num(d);
        }
        if t.len() == 10
            && let Ok(d) = Date::parse(t)
        {
            return Scalar::Date(d);
        }
        Scalar::Text(text.into())
    }

    pub fn to_fval(&self) -> FVal {
        match self {
            Scalar::Num(n) => FVal::Num(*n),
            Scalar::Date(d) => FVal::Date(*d),
            Scalar::Text(t) => FVal::Text(Arc::from(&**t)),
        }
    }
}

impl FVal {
    pub fn is_unknown(&self) -> bool {
        matches!(self, FVal::Unknown(_))
    }

    /// `a op b` on numbers; unknown if either is, absent if either is,
    /// unknown on overflow or on a value that is not a number.
    pub fn arith(&self, other: &FVal, op: char) -> FVal {
        match (self, other) {
            (FVal::Unknown(u), _) | (_, FVal::Unknown(u)) => FVal::Unknown(u.clone()),
            (FVal::Absent, _) | (_, FVal::Absent) => FVal::Absent,
            (FVal::Num(a), FVal::Num(b)) => {
                let r = match op {
                    '+' => a.checked_add(*b),
                    '-' => a.checked_sub(*b),
                    _ => a.checked_mul(*b),
                };
                match r {
                    Some(n) => FVal::Num(n),
                    None => FVal::Unknown("the figure overflows 28 decimal digits".into()),
                }
            }
            (a, b) => FVal::Unknown(
                format!("`{a}` {op} `{b}`: arithmetic on a value that is not a number").into(),
            ),
        }
    }

    /// `self op other`, three-valued (see the module docs).
    pub fn compare(&self, op: CmpOp, other: &FVal) -> Truth {
        let ord = match (self, other) {
            (FVal::Unknown(u), _) | (_, FVal::Unknown(u)) => return Truth::Unknown(u.clone()),
            (FVal::Absent, _) | (_, FVal::Absent) => return Truth::False,
            (FVal::Num(a), FVal::Num(b)) => Some(a.cmp(b)),
            (FVal::Date(a), FVal::Date(b)) => Some(a.cmp(b)),
            (FVal::Text(a), FVal::Text(b)) => Some(a.cmp(b)),
            (FVal::Bool(a), FVal::Bool(b)) => Some(a.cmp(b)),
            (FVal::Num(a), FVal::Text(t)) => {
                Decimal::from_str_exact(t.trim()).ok().map(|b| a.cmp(&b))
            }
            (FVal::Text(t), FVal::Num(b)) => {
                Decimal::from_str_exact(t.trim()).ok().map(|a| a.cmp(b))
            }
            (FVal::Date(a), FVal::Text(t)) => Date::parse(t).ok().map(|b| a.cmp(&b)),
            (FVal::Text(t), FVal::Date(b)) => Date::parse(t).ok().map(|a| a.cmp(b)),
            _ => None,
        };
        Truth::of(crate::eval::ord_holds(ord, op))
    }

    /// Whether `self` is one of the members of `set` (a set, or one value).
    pub fn member_of(&self, set: &FVal) -> Truth {
        let members: &[FVal] = match set {
            FVal::Set(items) => items,
            FVal::Unknown(u) => return Truth::Unknown(u.clone()),
            FVal::Absent => return Truth::False,
            one => std::slice::from_ref(one),
        };
        let mut unknown = None;
        for m in members {
            match self.compare(CmpOp::Eq, m) {
                Truth::True => return Truth::True,
                Truth::Unknown(u) => unknown = unknown.or(Some(u)),
                Truth::False => {}
            }
        }
        unknown.map_or(Truth::False, Truth::Unknown)
    }

    /// The value as JSON: numbers as exact decimal strings (`"200.01"`: a
    /// float would not keep them), dates as `YYYY-MM-DD`, absent as null.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            FVal::Absent | FVal::Unknown(_) => serde_json::Value::Null,
            FVal::Bool(b) => (*b).into(),
            FVal::Set(items) => items.iter().map(FVal::to_json).collect(),
            other => other.to_string().into(),
        }
    }
}

/// A decimal as findings show it: exact, trailing zeros dropped but at
/// least two places if it has a fraction at all (`200.01`, `250000.00`,
/// `3`).
pub fn show_decimal(d: &Decimal) -> String {
    if d.scale() == 0 {
        return d.to_string();
    }
    let mut n = d.normalize();
    if n.scale() < 2 {
        n.rescale(2);
    }
    n.to_string()
}

impl fmt::Display for FVal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FVal::Absent => f.write_str("none"),
            FVal::Unknown(_) => f.write_str("unknown"),
            FVal::Num(n) => f.write_str(&show_decimal(n)),
            FVal::Text(t) => f.write_str(t),
            FVal::Date(d) => write!(f, "{d}"),
            FVal::Bool(b) => write!(f, "{b}"),
            FVal::Set(items) => {
                let parts: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "{{{}}}", parts.join(", "))
            }
        }
    }
}

/// The UTC day of a timestamp.
pub fn day_of(ts: Millis) -> Date {
    crate::scan::logs::day_of(ts)
}

/// Orders two optional timestamps, earliest first (none last).
pub fn earlier(a: Option<Millis>, b: Option<Millis>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}
