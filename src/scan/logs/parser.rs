//! The parser contract: what every log format's parser fills and how.
//!
//! A parser fills a fixed array of *slots*, one per field the rules read
//! (decided once per run, see `columns` and `jsonl`), from one line,
//! borrowing from the line wherever it can: a [`Slot`] holds a
//! [`FieldVal`] that is a slice of the line unless a value had escapes to
//! undo. A line is a record, a line to skip, or a [`LineError`] with the
//! span it is about. The helpers at the end write a slot the way every
//! format does: `-` and empty values are absent, and a field's candidate
//! sources fill it in order of preference (`vacant`).

use super::jsonl;
use super::transform::{Transform, transform};
use crate::value::{Value, from_json};
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// A field's value, borrowed from the line where possible.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldVal<'a> {
    Str(Cow<'a, str>),
    Num(f64),
    Bool(bool),
    Null,
    /// A JSON object or array, as written (converted on demand).
    Raw(&'a str),
}

impl FieldVal<'_> {
    /// The value as a rule value (allocates; used off the hot path).
    pub fn to_value(&self) -> Value {
        match self {
            FieldVal::Str(s) => Value::str(s),
            FieldVal::Num(n) => Value::Num(*n),
            FieldVal::Bool(b) => Value::Bool(*b),
            FieldVal::Null => Value::Null,
            FieldVal::Raw(text) => serde_json::from_str::<serde_json::Value>(text)
                .map(|j| from_json(&j))
                .unwrap_or(Value::Null),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            FieldVal::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for FieldVal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldVal::Str(s) => f.write_str(s),
            FieldVal::Raw(s) => f.write_str(s),
            other => write!(f, "{}", other.to_value()),
        }
    }
}

/// One filled slot: the value and where in the line it was written (`None`
/// for values the format implies, such as `cloud` for an ALB log).
#[derive(Debug, Clone)]
pub struct Slot<'a> {
    pub val: FieldVal<'a>,
    pub span: Option<Range<usize>>,
    /// Which of a field's candidate sources filled it (lower is preferred):
    /// a JSON line may carry both `host` and `hostname`.
    pub rank: u8,
}

impl<'a> Slot<'a> {
    pub fn at(val: FieldVal<'a>, span: Range<usize>) -> Slot<'a> {
        Slot {
            val,
            span: Some(span),
            rank: 0,
        }
    }

    pub fn implied(val: &'static str) -> Slot<'a> {
        Slot {
            val: FieldVal::Str(Cow::Borrowed(val)),
            span: None,
            rank: 0,
        }
    }
}

/// Why a line is not a record.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    pub reason: String,
    /// Byte range in the line the reason is about.
    pub at: Range<usize>,
}

impl LineError {
    pub fn new(reason: impl Into<String>, at: Range<usize>) -> LineError {
        LineError {
            reason: reason.into(),
            at,
        }
    }
}

/// What a line turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    Record,
    /// Not a record: a header or comment line (`#Fields:` in CloudFront).
    Skip,
}

/// A format's line parser, set up for the slots of one run.
pub trait LineParser: Send + Sync {
    /// Fills `out` (one entry per slot, all `None` on entry) from `line`
    /// (without its line ending).
    fn parse<'a>(&self, line: &'a str, out: &mut [Option<Slot<'a>>]) -> Result<Parsed, LineError>;

    /// As [`LineParser::parse`], with scratch space that the caller keeps
    /// from one line to the next (one per worker, never shared), where a
    /// parser may remember what it learnt from earlier lines: the JSON
    /// parser keeps the keys of the last line there, since the lines of an
    /// export almost always repeat them in the same order. The result must
    /// not depend on the scratch, only the speed.
    fn parse_with<'a>(
        &self,
        line: &'a str,
        out: &mut [Option<Slot<'a>>],
        scratch: &mut Scratch,
    ) -> Result<Parsed, LineError> {
        let _ = scratch;
        self.parse(line, out)
    }

    /// The name, as the input writes it, of the field that filled `slot`
    /// from its candidate source `rank`, on `line` at `span` (the value's
    /// span): what the summary shows as "`host` from `Host`". `None` when
    /// the format cannot say.
    fn source_name(&self, slot: usize, rank: u8, line: &str, span: Range<usize>) -> Option<String> {
        let _ = (slot, rank, line, span);
        None
    }
}

/// A worker's scratch space for [`LineParser::parse_with`].
#[derive(Debug, Default)]
pub struct Scratch {
    pub(crate) json: jsonl::JsonScratch,
}
/// Replaces the string value of slot `slot` by what `decode` makes of
/// it, when it makes something.
pub fn decode_slot(out: &mut [Option<Slot<'_>>], slot: usize, decode: fn(&str) -> Option<String>) {
    if let Some(Some(Slot {
        val: FieldVal::Str(v),
        ..
    })) = out.get_mut(slot)
        && let Some(d) = decode(v)
    {
        *v = Cow::Owned(d);
    }
}

/// Sets slot `i` to a string sub-value of `line` at `span`, after a
/// transform; `-` and empty values are absent (the log formats' "none").
pub fn put_str<'a>(
    out: &mut [Option<Slot<'a>>],
    i: usize,
    line: &'a str,
    span: Range<usize>,
    t: Transform,
) {
    let Some(text) = line.get(span.clone()) else {
        return;
    };
    if text.is_empty() || text == "-" {
        return;
    }
    if let Some(r) = transform(t, text) {
        put_span(out, i, line, span.start + r.start..span.start + r.end, 0);
    }
}

/// Sets slot `i` to `line[span]`, a string from a source of rank `rank`
/// (whether the slot is free for it is the caller's to check).
pub(super) fn put_span<'a>(
    out: &mut [Option<Slot<'a>>],
    i: usize,
    line: &'a str,
    span: Range<usize>,
    rank: u8,
) {
    if let (Some(v), Some(slot)) = (line.get(span.clone()), out.get_mut(i)) {
        *slot = Some(Slot {
            val: FieldVal::Str(Cow::Borrowed(v)),
            span: Some(span),
            rank,
        });
    }
}

/// Slot `slot` of `out`, unless a source of rank `rank` or better (a
/// lower one) has filled it already.
#[inline]
pub(crate) fn vacant<'o, 'a>(
    out: &'o mut [Option<Slot<'a>>],
    slot: usize,
    rank: u8,
) -> Option<&'o mut Option<Slot<'a>>> {
    out.get_mut(slot)
        .filter(|o| o.as_ref().is_none_or(|s| s.rank > rank))
}
