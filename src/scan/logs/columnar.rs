//! A Parquet row's slots, filled straight from the Arrow arrays it was
//! decoded into: the audit's fast path for Parquet.
//!
//! The design choice: a row is read as the JSON-lines parser would read
//! the line it renders to ([`super::parquet`]), without the line. Which
//! column, or struct child, fills each slot is resolved once per batch of
//! rows by the parser's own tree (its candidates, `--field` overrides and
//! transforms), in the order the line would write them; a row then
//! costs, per slot, a null test or two and a borrow: strings borrowed
//! (after the slot's transform), numbers as `f64`, booleans as they are,
//! decimals, dates and other typed values as the exact text the line
//! holds (rendered once per batch), and a typed timestamp straight to
//! UTC milliseconds, with no text at all unless a rule reads it.
//!
//! Where the line would be read in a way not worth copying, the fast
//! path gives up, and the row is rendered and read as its line: a whole
//! batch, when a slot is filled by a struct, list or map (the line holds
//! it as JSON text), a map stands where a slot's path goes on into an
//! object, a byte string is not UTF-8 (the line would be malformed), or a
//! row may be longer than the longest line read; a single row, for an
//! integer beyond 2^53 (the line's digits are not its `f64`'s) or a
//! timestamp outside the years 0000–9999 (whose text no reading takes).
//! So the fast path may give up on a row but never reads one differently
//! from its line: a test holds the two to one answer, slot by slot.
//! A row's line is still rendered where it is shown (a sample, a
//! `--findings` record, an aggregate's evidence).

use super::jsonl::JsonParser;
use super::parquet::{F16, Values, bytes_are_text, longest_line};
use super::{FieldVal, Millis, Slot, Transform, transform};
use crate::date::Date;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, BooleanArray, RecordBatch, StringArray, StringViewArray};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, TimeUnit};
use std::borrow::Cow;

/// The largest integer magnitude whose digits are its `f64`'s: beyond
/// it, the line's text of an integer (which aggregates sum exactly) is
/// not what the number reads back as.
const EXACT_INT: u64 = 1 << 53;

/// A batch of rows, ready to be read into slots.
pub struct Columns<'b> {
    /// Per slot a column can fill: the slot and its sources, the one the
    /// line's reading prefers first (lowest rank, then first written).
    slots: Vec<(usize, Vec<Source<'b>>)>,
    ts_slot: usize,
}

/// A column (or a struct's child) that fills a slot.
struct Source<'b> {
    rank: u8,
    transform: Transform,
    /// The null masks of the structs above the value, then its own: a
    /// value under a null struct is not written in the line.
    nulls: Vec<&'b NullBuffer>,
    leaf: Leaf<'b>,
}

/// How a source's values are read.
enum Leaf<'b> {
    /// A column of Arrow's `Null` type: never a value.
    Null,
    Str(&'b StringArray),
    LargeStr(&'b arrow_array::LargeStringArray),
    StrView(&'b StringViewArray),
    /// Byte strings (all UTF-8: the batch was checked when bound).
    Bytes(Box<dyn Fn(usize) -> &'b [u8] + 'b>),
    Bool(&'b BooleanArray),
    I32(&'b [i32]),
    I64(&'b [i64]),
    F64(&'b [f64]),
    /// The other numbers, as the line reads them (`None`: give up).
    Num(Box<dyn Fn(usize) -> Option<FieldVal<'static>> + 'b>),
    /// Values the line holds as text (decimals, dates, times, durations,
    /// intervals, timestamps that do not fill the timestamp slot).
    Text(Rendered),
    /// A typed timestamp (`per_second` units a second), a `date32`
    /// (days) or a `date64` (milliseconds, read as their day) that fills
    /// the timestamp slot: UTC milliseconds from the value itself; its
    /// text only when a rule reads the slot (else the slot holds `Null`,
    /// which only says that it is filled, and by which rank).
    Time {
        values: Times<'b>,
        text: Option<Rendered>,
    },
}

#[derive(Clone, Copy)]
enum Times<'b> {
    Units(&'b [i64], i64),
    Days(&'b [i32]),
    DayMillis(&'b [i64]),
}

/// What a source makes of a row.
enum Read<'s> {
    /// Nothing: the next source may fill the slot.
    Absent,
    Val(FieldVal<'s>, Option<Millis>),
}

/// A column's values as the text its line holds, for the batch: per row,
/// where it is in `text`, `None` for a null or a value whose text has
/// escapes (then the row is read from its line).
struct Rendered {
    text: String,
    spans: Vec<Option<(usize, usize)>>,
}

impl Rendered {
    fn of(array: &dyn Array) -> Option<Rendered> {
        let values = Values::new(array)?;
        let mut text = String::new();
        let mut spans = Vec::with_capacity(array.len());
        let mut buf = Vec::new();
        for i in 0..array.len() {
            if array.is_null(i) {
                spans.push(None);
                continue;
            }
            buf.clear();
            values.write(i, &mut buf);
            let inner = match buf.as_slice() {
                [b'"', inner @ .., b'"'] if !inner.contains(&b'\\') => {
                    std::str::from_utf8(inner).ok()
                }
                _ => None,
            };
            spans.push(inner.map(|s| {
                let from = text.len();
                text.push_str(s);
                (from, text.len())
            }));
        }
        Some(Rendered { text, spans })
    }

    /// Row `i`'s text (`None`: read the row from its line).
    fn get(&self, i: usize) -> Option<&str> {
        let (from, to) = (*self.spans.get(i)?)?;
        self.text.get(from..to)
    }
}

impl<'b> Columns<'b> {
    /// Resolves which columns of `batch` fill the slots `parser` reads
    /// (`ts_slot` is the timestamp's; `ts_text`: whether a rule reads its
    /// value, not only its time); `None` when the fast path gives up on
    /// the batch (see the module's doc), so that each of its rows is
    /// read from its line.
    pub fn bind(
        parser: &JsonParser,
        batch: &'b RecordBatch,
        ts_slot: usize,
        ts_text: bool,
        max_line: usize,
    ) -> Option<Columns<'b>> {
        if longest_line(batch) > max_line || !bytes_are_text(batch) {
            return None;
        }
        let mut found = Vec::new();
        let mut walk = Walk {
            parser,
            ts_slot,
            ts_text,
            nulls: Vec::new(),
            order: 0,
            found: &mut found,
        };
        for (f, a) in batch.schema_ref().fields().iter().zip(batch.columns()) {
            walk.field(0, f.name(), a.as_ref())?;
        }
        found.sort_by_key(|&(slot, rank, order, _)| (slot, rank, order));
        let mut slots: Vec<(usize, Vec<Source<'b>>)> = Vec::new();
        for (slot, _, _, source) in found {
            match slots.last_mut() {
                Some((s, sources)) if *s == slot => sources.push(source),
                _ => slots.push((slot, vec![source])),
            }
        }
        Some(Columns { slots, ts_slot })
    }

    /// Fills `out` (all `None` on entry) from row `row`, as the parser
    /// fills it from the row's line, but with no spans; answers the
    /// row's time when a typed timestamp filled the timestamp slot.
    /// `None` when the row must be read from its line instead (`out` is
    /// then partly filled).
    pub fn fill<'s>(&'s self, row: usize, out: &mut [Option<Slot<'s>>]) -> Option<Option<Millis>> {
        let mut ts = None;
        for (slot, sources) in &self.slots {
            for source in sources {
                if source.nulls.iter().any(|n| n.is_null(row)) {
                    continue;
                }
                let Read::Val(val, time) = source.read(row)? else {
                    continue;
                };
                if *slot == self.ts_slot {
                    ts = time;
                }
                if let Some(o) = out.get_mut(*slot) {
                    *o = Some(Slot {
                        val,
                        span: None,
                        rank: source.rank,
                    });
                }
                break;
            }
        }
        Some(ts)
    }
}

impl Source<'_> {
    /// Row `row`'s value (never under a null: the caller checked).
    #[inline]
    fn read(&self, row: usize) -> Option<Read<'_>> {
        let num = |n: f64| Read::Val(FieldVal::Num(n), None);
        Some(match &self.leaf {
            Leaf::Null => Read::Absent,
            Leaf::Str(a) => text(a.value(row), self.transform),
            Leaf::LargeStr(a) => text(a.value(row), self.transform),
            Leaf::StrView(a) => text(a.value(row), self.transform),
            Leaf::Bytes(value) => text(std::str::from_utf8(value(row)).ok()?, self.transform),
            Leaf::Bool(a) => Read::Val(FieldVal::Bool(a.value(row)), None),
            Leaf::I32(v) => num(f64::from(*v.get(row)?)),
            Leaf::I64(v) => {
                let n = *v.get(row)?;
                if n.unsigned_abs() > EXACT_INT {
                    return None;
                }
                num(n as f64)
            }
            Leaf::F64(v) => Read::Val(float(*v.get(row)?), None),
            Leaf::Num(value) => Read::Val(value(row)?, None),
            Leaf::Text(r) => text(r.get(row)?, self.transform),
            Leaf::Time { values, text } => {
                let ms = values.millis(row)?;
                let val = match text {
                    Some(r) => FieldVal::Str(Cow::Borrowed(r.get(row)?)),
                    None => FieldVal::Null,
                };
                Read::Val(val, Some(ms))
            }
        })
    }
}

impl Times<'_> {
    /// The UTC milliseconds the line's text of row `row` reads as;
    /// `None` outside the years 0000–9999 (no reading takes that text).
    #[inline]
    fn millis(self, row: usize) -> Option<Millis> {
        let (days, ms) = match self {
            Times::Units(v, per_second) => {
                let v = *v.get(row)?;
                let secs = v.div_euclid(per_second);
                // The text's fraction, cut to milliseconds.
                let sub = v.rem_euclid(per_second) * 1000 / per_second;
                let days = i32::try_from(secs.div_euclid(86_400)).ok()?;
                (days, secs.checked_mul(1000)? + sub)
            }
            Times::Days(v) => {
                let days = *v.get(row)?;
                (days, i64::from(days) * 86_400_000)
            }
            Times::DayMillis(v) => {
                let days = i32::try_from(v.get(row)?.div_euclid(86_400_000)).ok()?;
                (days, i64::from(days) * 86_400_000)
            }
        };
        let (year, _, _) = Date::from_days(days).ymd();
        (0..=9999).contains(&year).then_some(ms)
    }
}

/// A string value as the line's reading makes it: `-` and empty are
/// absent, and the slot's transform keeps a part of it (or nothing).
#[inline]
fn text(s: &str, t: Transform) -> Read<'_> {
    if s.is_empty() || s == "-" {
        return Read::Absent;
    }
    if t == Transform::None {
        return Read::Val(FieldVal::Str(Cow::Borrowed(s)), None);
    }
    match transform(t, s).and_then(|r| s.get(r)) {
        Some(v) => Read::Val(FieldVal::Str(Cow::Borrowed(v)), None),
        None => Read::Absent,
    }
}

/// A float as the line holds it: JSON has no NaN nor infinities, so they
/// are written (and read) as `null`.
fn float(v: f64) -> FieldVal<'static> {
    if v.is_finite() {
        FieldVal::Num(v)
    } else {
        FieldVal::Null
    }
}

/// The walk of a batch's columns (and struct children) over the parser's
/// tree, in the order the line writes them.
struct Walk<'p, 'b, 'f> {
    parser: &'p JsonParser,
    ts_slot: usize,
    ts_text: bool,
    /// The null masks of the structs the walk is in.
    nulls: Vec<&'b NullBuffer>,
    /// The field's place in the line (among the fields the walk sees).
    order: usize,
    found: &'f mut Vec<(usize, u8, usize, Source<'b>)>,
}

impl<'b> Walk<'_, 'b, '_> {
    /// The field `name` of the object under `node`, of values `array`;
    /// `None` to give up the batch.
    fn field(&mut self, node: usize, name: &str, array: &'b dyn Array) -> Option<()> {
        self.order += 1;
        let Some(n) = self.parser.key_node(node, name) else {
            return Some(());
        };
        let nested = matches!(
            array.data_type(),
            DataType::Struct(_)
                | DataType::List(_)
                | DataType::LargeList(_)
                | DataType::FixedSizeList(..)
                | DataType::Map(..)
        );
        let targets = self.parser.node_targets(n);
        if nested && !targets.is_empty() {
            // A slot filled by a whole object or array: the line's text.
            return None;
        }
        for &(slot, rank, t) in targets {
            let time = slot == self.ts_slot && t == Transform::None;
            let leaf = leaf(array, time, self.ts_text)?;
            let mut nulls = self.nulls.clone();
            nulls.extend(array.nulls());
            self.found.push((
                slot,
                rank,
                self.order,
                Source {
                    rank,
                    transform: t,
                    nulls,
                    leaf,
                },
            ));
        }
        if !self.parser.node_nests(n) {
            return Some(());
        }
        match array.data_type() {
            DataType::Struct(_) => {
                let s = array.as_struct_opt()?;
                let pushed = s.nulls().is_some();
                self.nulls.extend(s.nulls());
                for (f, c) in s.fields().iter().zip(s.columns()) {
                    self.field(n, f.name(), c.as_ref())?;
                }
                if pushed {
                    self.nulls.pop();
                }
                Some(())
            }
            // The line writes a map as an object, which the walk reads
            // into.
            DataType::Map(..) => None,
            _ => Some(()),
        }
    }
}

/// How `array`'s values fill a slot (`time`: the timestamp's slot, where
/// a typed time is read to milliseconds); `None` for a type read only
/// from the line.
fn leaf<'a>(array: &'a dyn Array, time: bool, ts_text: bool) -> Option<Leaf<'a>> {
    use DataType as D;
    macro_rules! nums {
        ($t:ty, $conv:expr) => {{
            let a = array.as_primitive_opt::<$t>()?;
            Leaf::Num(Box::new(move |i| $conv(a.value(i))))
        }};
    }
    let times = |values: Times<'a>| -> Option<Leaf<'a>> {
        let text = if ts_text {
            Some(Rendered::of(array)?)
        } else {
            None
        };
        Some(Leaf::Time { values, text })
    };
    Some(match array.data_type() {
        D::Null => Leaf::Null,
        D::Utf8 => Leaf::Str(array.as_string_opt::<i32>()?),
        D::LargeUtf8 => Leaf::LargeStr(array.as_string_opt::<i64>()?),
        D::Utf8View => Leaf::StrView(array.as_string_view_opt()?),
        D::Binary => {
            let a = array.as_binary_opt::<i32>()?;
            Leaf::Bytes(Box::new(move |i| a.value(i)))
        }
        D::LargeBinary => {
            let a = array.as_binary_opt::<i64>()?;
            Leaf::Bytes(Box::new(move |i| a.value(i)))
        }
        D::BinaryView => {
            let a = array.as_binary_view_opt()?;
            Leaf::Bytes(Box::new(move |i| a.value(i)))
        }
        D::FixedSizeBinary(_) => {
            let a = array.as_fixed_size_binary_opt()?;
            Leaf::Bytes(Box::new(move |i| a.value(i)))
        }
        D::Boolean => Leaf::Bool(array.as_boolean_opt()?),
        D::Int32 => Leaf::I32(array.as_primitive_opt::<Int32Type>()?.values()),
        D::Int64 => Leaf::I64(array.as_primitive_opt::<Int64Type>()?.values()),
        D::Float64 => Leaf::F64(array.as_primitive_opt::<Float64Type>()?.values()),
        D::Int8 => nums!(Int8Type, |v| Some(FieldVal::Num(f64::from(v)))),
        D::Int16 => nums!(Int16Type, |v| Some(FieldVal::Num(f64::from(v)))),
        D::UInt8 => nums!(UInt8Type, |v| Some(FieldVal::Num(f64::from(v)))),
        D::UInt16 => nums!(UInt16Type, |v| Some(FieldVal::Num(f64::from(v)))),
        D::UInt32 => nums!(UInt32Type, |v| Some(FieldVal::Num(f64::from(v)))),
        D::UInt64 => nums!(UInt64Type, |v: u64| (v <= EXACT_INT)
            .then_some(FieldVal::Num(v as f64))),
        // As the line writes them: a `f32` as the shortest decimal that
        // reads back as it (`0.1`), a `f16` as its `f64`.
        D::Float32 => nums!(Float32Type, |v: f32| Some(float(
            v.to_string().parse::<f64>().unwrap_or(f64::NAN)
        ))),
        D::Float16 => nums!(Float16Type, |v: F16| Some(float(f64::from(v.to_f32())))),
        D::Timestamp(unit, _) if time => {
            let (values, per_second): (&[i64], i64) = match unit {
                TimeUnit::Second => (array.as_primitive_opt::<TimestampSecondType>()?.values(), 1),
                TimeUnit::Millisecond => (
                    array
                        .as_primitive_opt::<TimestampMillisecondType>()?
                        .values(),
                    1_000,
                ),
                TimeUnit::Microsecond => (
                    array
                        .as_primitive_opt::<TimestampMicrosecondType>()?
                        .values(),
                    1_000_000,
                ),
                TimeUnit::Nanosecond => (
                    array
                        .as_primitive_opt::<TimestampNanosecondType>()?
                        .values(),
                    1_000_000_000,
                ),
            };
            times(Times::Units(values, per_second))?
        }
        D::Date32 if time => times(Times::Days(
            array.as_primitive_opt::<Date32Type>()?.values(),
        ))?,
        D::Date64 if time => times(Times::DayMillis(
            array.as_primitive_opt::<Date64Type>()?.values(),
        ))?,
        D::Decimal32(..)
        | D::Decimal64(..)
        | D::Decimal128(..)
        | D::Decimal256(..)
        | D::Date32
        | D::Date64
        | D::Timestamp(..)
        | D::Time32(_)
        | D::Time64(_)
        | D::Duration(_)
        | D::Interval(_) => Leaf::Text(Rendered::of(array)?),
        _ => return None,
    })
}
