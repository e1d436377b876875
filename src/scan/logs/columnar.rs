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
        // 0000-01-01 to 9999-12-31, as days since 1970-01-01.
        (-719_528..=2_932_896).contains(&days).then_some(ms)
    }
}

/// A string value as the line's reading makes it: `-` and empty are
/// absent, and the slot's transform keeps a part of it (or nothing).
#[inline]
fn text(s: &str, t: Transform) -> Read<'_> {
    if s.is_empty() || s == "-" {
        return Read::Absent;
    }
    // A host or path with none of `:` `?` `#` (nor `/`, for a host) is
    // what the transform keeps of it, whole (`[`, an IPv6 host, is left
    // to it): the JSON-lines parser's shortcut, without its vector test.
    let whole = t == Transform::None
        || (matches!(t, Transform::Host | Transform::Path)
            && !s.starts_with('[')
            && !s
                .bytes()
                .any(|c| matches!(c, b':' | b'?' | b'#') || (c == b'/' && t == Transform::Host)));
    if whole {
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
            nulls.extend(array.nulls().filter(|n| n.null_count() > 0));
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
                let struct_nulls = s.nulls().filter(|n| n.null_count() > 0);
                let pushed = struct_nulls.is_some();
                self.nulls.extend(struct_nulls);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::logs::jsonl::VOCAB;
    use crate::scan::logs::parquet::Rows;
    use crate::scan::logs::{LineParser, VOCABULARY, parse_timestamp};
    use crate::value::FieldPath;
    use arrow_array::builder::{StringBuilder, StructBuilder};
    use arrow_array::{
        ArrayRef, BinaryArray, Date32Array, Date64Array, Decimal128Array, DurationMillisecondArray,
        Float16Array, Float32Array, Float64Array, Int8Array, Int64Array, LargeStringArray,
        StructArray, Time32SecondArray, TimestampMicrosecondArray, TimestampNanosecondArray,
        UInt64Array,
    };
    use arrow_schema::{Field, Fields, Schema};
    use std::io::Read;
    use std::sync::Arc;

    const MAX_LINE: usize = 1 << 20;

    /// The slots of a run: the vocabulary, then other paths.
    fn slots(extra: &[&str]) -> Vec<FieldPath> {
        VOCABULARY
            .iter()
            .chain(extra)
            .map(|n| FieldPath(n.split('.').map(str::to_string).collect()))
            .collect()
    }

    /// Every row of `batch` read from its columns and from its line, by
    /// the parser of `slots` and `overrides`: the same slots (value and
    /// rank; a number's text in the line is its `f64`'s), and the time
    /// the timestamp slot's text reads as. Answers the rows read from
    /// their columns (the others the fast path gave up on, which is
    /// allowed).
    fn same_reading(
        batch: &RecordBatch,
        slots: &[FieldPath],
        overrides: &[(String, String)],
        ts_text: bool,
    ) -> usize {
        let parser = JsonParser::new(slots, VOCAB, overrides);
        let rows = Rows::new(batch).unwrap();
        let Some(columns) = Columns::bind(&parser, batch, 0, ts_text, MAX_LINE) else {
            return 0;
        };
        let mut fast_rows = 0;
        for row in 0..batch.num_rows() {
            let mut fast = vec![None; slots.len()];
            let Some(ts) = columns.fill(row, &mut fast) else {
                continue;
            };
            fast_rows += 1;
            let mut text = Vec::new();
            rows.write(row..row + 1, &mut text);
            text.pop();
            let line = std::str::from_utf8(&text).expect("a row read from columns is UTF-8");
            let mut slow = vec![None; slots.len()];
            assert!(
                parser.parse(line, &mut slow).is_ok(),
                "read from columns, malformed as a line: {line}"
            );
            for (i, (f, s)) in fast.iter().zip(&slow).enumerate() {
                let why = format!("slot {i} (`{}`) of {line}", slots[i]);
                match (f, s) {
                    (None, None) => {}
                    (Some(f), Some(s)) => {
                        assert_eq!(f.rank, s.rank, "{why}");
                        if let FieldVal::Num(n) = &f.val {
                            let span = s.span.clone().unwrap();
                            assert_eq!(format!("{n}"), &line[span], "{why}");
                        }
                        if i == 0 && ts.is_some() && !ts_text {
                            assert_eq!(f.val, FieldVal::Null, "{why}");
                        } else {
                            assert_eq!(f.val, s.val, "{why}");
                        }
                    }
                    _ => panic!("{why}: from columns {f:?}, from the line {s:?}"),
                }
            }
            if let Some(ts) = ts {
                let text = slow[0].as_ref().unwrap().val.to_string();
                assert_eq!(parse_timestamp(&text), Some(ts), "the time of {line}");
            }
        }
        fast_rows
    }

    /// The records of a JSON-lines fixture (`.gz` too).
    fn fixture(path: &str) -> Vec<serde_json::Value> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        let file = std::fs::File::open(&path).unwrap();
        let mut text = String::new();
        if path.extension().is_some_and(|e| e == "gz") {
            flate2::read::GzDecoder::new(file)
                .read_to_string(&mut text)
                .unwrap();
        } else {
            std::io::BufReader::new(file)
                .read_to_string(&mut text)
                .unwrap();
        }
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(serde_json::Value::is_object)
            .collect()
    }

    /// `recs` as a batch: their inferred schema, with the columns named
    /// in `types` given those types instead (Arrow's decoder reads
    /// timestamps, dates and decimals from their text).
    fn batch(recs: &[serde_json::Value], types: &[(&str, DataType)]) -> RecordBatch {
        let inferred =
            arrow_json::reader::infer_json_schema_from_iterator(recs.iter().map(Ok)).unwrap();
        let fields: Vec<Field> = inferred
            .fields()
            .iter()
            .map(|f| match types.iter().find(|(n, _)| n == f.name()) {
                Some((_, t)) => Field::new(f.name(), t.clone(), true),
                None => f.as_ref().clone(),
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let mut decoder = arrow_json::ReaderBuilder::new(schema)
            .with_coerce_primitive(true)
            .with_batch_size(recs.len())
            .build_decoder()
            .unwrap();
        decoder.serialize(recs).unwrap();
        decoder.flush().unwrap().unwrap()
    }

    /// `batch` with its strings (at the top and in structs) as views.
    fn viewed(batch: &RecordBatch) -> RecordBatch {
        fn view(t: &DataType) -> DataType {
            match t {
                DataType::Utf8 => DataType::Utf8View,
                DataType::Struct(fields) => DataType::Struct(
                    fields
                        .iter()
                        .map(|f| f.as_ref().clone().with_data_type(view(f.data_type())))
                        .collect(),
                ),
                other => other.clone(),
            }
        }
        let columns = batch
            .schema_ref()
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(f, c)| {
                let t = view(f.data_type());
                (f.name().clone(), arrow_cast::cast(c, &t).unwrap())
            });
        RecordBatch::try_from_iter(columns).unwrap()
    }

    /// The fast path reads the bundled exports, typed every way the audit
    /// tests write them, as their lines read: every row, every slot.
    #[test]
    fn the_fixtures_rows_read_from_columns_as_from_their_lines() {
        // Per run: the slots past the vocabulary, and `--field` overrides.
        type Run<'a> = (&'a [&'a str], Vec<(String, String)>);
        let runs: &[Run<'_>] = &[
            (&["trace.id", "model", "latency_ms"], vec![]),
            (
                &["trace.id", "request_id", "cache"],
                vec![
                    ("host".into(), "upstream_addr".into()),
                    ("region".into(), "trace.id".into()),
                ],
            ),
            (&["requestTimeEpoch", "responseLength", "ip"], vec![]),
        ];
        let utc = |unit: TimeUnit, tz: Option<&str>| DataType::Timestamp(unit, tz.map(Arc::from));
        let typings: Vec<Vec<(&str, DataType)>> = vec![
            vec![],
            vec![
                ("timestamp", utc(TimeUnit::Millisecond, Some("+00:00"))),
                ("status", DataType::Int32),
            ],
            vec![
                ("timestamp", utc(TimeUnit::Nanosecond, Some("+02:00"))),
                ("bytes_in", DataType::UInt64),
                ("latency_ms", DataType::Float32),
            ],
            vec![
                ("timestamp", utc(TimeUnit::Second, None)),
                ("bytes_out", DataType::Float64),
                ("status", DataType::Int16),
            ],
            vec![
                ("timestamp", utc(TimeUnit::Microsecond, None)),
                ("latency_ms", DataType::Decimal128(18, 2)),
            ],
            vec![("timestamp", DataType::Date32)],
        ];
        let mut total = 0;
        let mut fast = 0;
        for path in [
            "fixtures/logs/exports/gateway.jsonl",
            "fixtures/aggregate/gateway-2026-h1.jsonl.gz",
            "fixtures/aggregate/gateway-backfill.jsonl",
            "fixtures/logs/vendors/apigateway.jsonl",
        ] {
            let recs = fixture(path);
            for types in &typings {
                let b = batch(&recs, types);
                // As the audit reads them: strings as views.
                for b in [viewed(&b), b] {
                    for (extra, overrides) in runs {
                        for ts_text in [false, true] {
                            total += b.num_rows();
                            fast += same_reading(&b, &slots(extra), overrides, ts_text);
                        }
                    }
                }
            }
        }
        // The fixtures are ordinary rows: the fast path reads them all.
        assert_eq!(fast, total);
    }

    /// Rows made to trip the fast path: nulls under structs and at every
    /// level, `-` and empty strings, names that differ only in case,
    /// aliases filling a slot when the preferred column is null, hosts
    /// with ports and capitals, escapes, integers past 2^53, floats that
    /// JSON cannot hold, timestamps before 1970 and outside any year the
    /// text can say, decimals, dates, durations, byte strings.
    #[test]
    fn rows_made_to_differ_read_from_columns_as_from_their_lines() {
        let n = 12;
        let pick = |vals: &[Option<&'static str>]| -> Vec<Option<&'static str>> {
            (0..n).map(|i| vals[i % vals.len()]).collect()
        };
        let strs = |vals: &[Option<&'static str>]| -> ArrayRef {
            Arc::new(arrow_array::StringArray::from(pick(vals)))
        };
        let day_us = 86_400_000_000i64;
        let timestamps: Vec<Option<i64>> = vec![
            Some(1_770_081_531_250_000),
            Some(-1),
            Some(-1_500),
            None,
            Some(i64::MAX),
            Some(i64::MIN),
            Some(-62_167_219_200 * 1_000_000),     // 0000-01-01
            Some(-62_167_219_200 * 1_000_000 - 1), // just before
            Some(253_402_300_799 * 1_000_000 + 999_999), // 9999-12-31T23:59:59.999999
            Some(253_402_300_800 * 1_000_000),     // 10000-01-01
            Some(20_000 * day_us + 123_456),
            Some(0),
        ];
        // Nanoseconds, for the rows whose `timestamp` is null.
        let times: Vec<Option<i64>> = (0..n as i64)
            .map(|i| Some(1_770_081_531_123_456_789 - i * 7_777_777_777))
            .collect();
        let mut trace = StructBuilder::from_fields(
            Fields::from(vec![
                Field::new("id", DataType::Utf8, true),
                Field::new("POP", DataType::Utf8, true),
            ]),
            n,
        );
        for i in 0..n {
            let b = trace.field_builder::<StringBuilder>(0).unwrap();
            if i % 4 == 3 {
                b.append_null();
            } else {
                b.append_value(format!("t-{i}"));
            }
            let b = trace.field_builder::<StringBuilder>(1).unwrap();
            b.append_value(["AMS", "", "-", "FRA"][i % 4]);
            // A null struct whose children hold values all the same.
            trace.append(i % 3 != 1);
        }
        let trace: StructArray = trace.finish();
        let columns: Vec<(&str, ArrayRef)> = vec![
            (
                "timestamp",
                Arc::new(TimestampMicrosecondArray::from(timestamps).with_timezone("-05:00")),
            ),
            ("time", Arc::new(TimestampNanosecondArray::from(times))),
            (
                "ts",
                strs(&[
                    Some("2026-01-01T00:00:00Z"),
                    Some("not a time"),
                    None,
                    Some("1772359202"),
                ]),
            ),
            (
                "Host",
                strs(&[Some("API.OpenAI.com:443"), None, Some(""), Some("-")]),
            ),
            (
                "host",
                strs(&[
                    Some("x.example"),
                    Some("[::1]:80"),
                    None,
                    Some("h.example/v1/x"),
                ]),
            ),
            (
                "hostname",
                Arc::new(BinaryArray::from_opt_vec(
                    (0..n)
                        .map(|i| [Some(&b"bin.example"[..]), None, Some(&b"B\xc3\xa9"[..])][i % 3])
                        .collect(),
                )),
            ),
            (
                "url",
                Arc::new(LargeStringArray::from(pick(&[
                    Some("https://u.example:8443/a/b?q=1"),
                    Some("-"),
                    Some(""),
                    Some("/just/a/path#frag"),
                    None,
                ]))),
            ),
            (
                "method",
                strs(&[Some("PO\"ST"), Some("a\nb\\c\u{1}"), Some("é"), None]),
            ),
            (
                "status",
                Arc::new(UInt64Array::from(
                    (0..n as u64)
                        .map(|i| {
                            [Some(200), Some((1 << 53) + 1), None, Some(1 << 53)][i as usize % 4]
                        })
                        .collect::<Vec<_>>(),
                )),
            ),
            (
                "bytes_in",
                Arc::new(Int64Array::from(
                    (0..n)
                        .map(|i| [Some(i64::MIN), Some(-(1 << 53)), Some(-5), None, Some(7)][i % 5])
                        .collect::<Vec<_>>(),
                )),
            ),
            (
                "bytes_out",
                Arc::new(Float64Array::from(
                    (0..n)
                        .map(|i| {
                            [
                                Some(f64::NAN),
                                Some(f64::INFINITY),
                                Some(-0.0),
                                Some(1e300),
                                Some(0.1),
                                Some(5e-324),
                                None,
                            ][i % 7]
                        })
                        .collect::<Vec<_>>(),
                )),
            ),
            (
                "client_ip",
                Arc::new(arrow_array::StringViewArray::from(pick(&[
                    Some("10.0.0.1"),
                    Some(" 10.0.0.2 "),
                    Some("10.0.0.3:5000"),
                    None,
                ]))),
            ),
            (
                "latency",
                Arc::new(Float32Array::from(
                    (0..n)
                        .map(|i| [Some(0.1f32), Some(f32::NAN), Some(1e38), None][i % 4])
                        .collect::<Vec<_>>(),
                )),
            ),
            (
                "h16",
                Arc::new(Float16Array::from(
                    (0..n)
                        .map(|i| Some(F16::from_f32([0.1f32, 65504.0, -2.5][i % 3])))
                        .collect::<Vec<_>>(),
                )),
            ),
            (
                "amount_usd",
                Arc::new(
                    Decimal128Array::from(
                        (0..n)
                            .map(|i| [Some(20_001i128), Some(-5), Some(12_500_000), None][i % 4])
                            .collect::<Vec<_>>(),
                    )
                    .with_precision_and_scale(18, 2)
                    .unwrap(),
                ),
            ),
            (
                "date",
                Arc::new(Date32Array::from(
                    (0..n)
                        .map(|i| {
                            [Some(20_000), Some(-1), Some(i32::MAX), None, Some(-719_528)][i % 5]
                        })
                        .collect::<Vec<_>>(),
                )),
            ),
            (
                "d64",
                Arc::new(Date64Array::from(
                    (0..n)
                        .map(|i| [Some(1_770_081_531_250i64), Some(-1), Some(i64::MAX)][i % 3])
                        .collect::<Vec<_>>(),
                )),
            ),
            (
                "flag",
                Arc::new(arrow_array::BooleanArray::from(
                    (0..n)
                        .map(|i| [Some(true), Some(false), None][i % 3])
                        .collect::<Vec<_>>(),
                )),
            ),
            (
                "n8",
                Arc::new(Int8Array::from(
                    (0..n).map(|i| Some(i as i8 - 6)).collect::<Vec<_>>(),
                )),
            ),
            (
                "dur",
                Arc::new(DurationMillisecondArray::from(
                    (0..n).map(|i| Some(i as i64 * 1500)).collect::<Vec<_>>(),
                )),
            ),
            (
                "t32",
                Arc::new(Time32SecondArray::from(
                    (0..n).map(|i| Some(i as i32 * 3601)).collect::<Vec<_>>(),
                )),
            ),
            ("trace", Arc::new(trace)),
            ("nothing", Arc::new(arrow_array::NullArray::new(n))),
        ];
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let extra = &[
            "ts",
            "trace.id",
            "trace.pop",
            "amount_usd",
            "date",
            "d64",
            "flag",
            "latency",
            "h16",
            "n8",
            "dur",
            "t32",
            "nothing",
        ];
        let mut fast = 0;
        for overrides in [
            vec![],
            vec![
                ("timestamp".to_string(), "d64".to_string()),
                ("region".to_string(), "trace.pop".to_string()),
                ("host".to_string(), "url".to_string()),
            ],
            vec![
                ("timestamp".to_string(), "date".to_string()),
                ("status".to_string(), "n8".to_string()),
                ("cloud".to_string(), "amount_usd".to_string()),
            ],
            vec![("timestamp".to_string(), "ts".to_string())],
        ] {
            for ts_text in [false, true] {
                fast += same_reading(&batch, &slots(extra), &overrides, ts_text);
            }
        }
        // Most rows are read from their columns, so the comparison is not
        // vacuous; some are given up on (the integers past 2^53, the
        // times outside any year the text can say).
        assert!(fast > 8 * n / 3, "only {fast} rows read from columns");
        assert!(fast < 8 * n, "no row given up on");
    }

    /// Where the fast path gives up on a whole batch: a slot filled by a
    /// struct (its line's JSON text), byte strings that are not UTF-8
    /// (the line is malformed), a row that may be longer than the longest
    /// line read.
    #[test]
    fn batches_read_only_from_their_lines() {
        let parser = |extra: &[&str]| JsonParser::new(&slots(extra), VOCAB, &[]);
        let trace = StructArray::from(vec![(
            Arc::new(Field::new("id", DataType::Utf8, true)),
            Arc::new(arrow_array::StringArray::from(vec!["t-1"])) as ArrayRef,
        )]);
        let b = RecordBatch::try_from_iter([("trace", Arc::new(trace) as ArrayRef)]).unwrap();
        assert!(Columns::bind(&parser(&["trace.id"]), &b, 0, false, MAX_LINE).is_some());
        assert!(Columns::bind(&parser(&["trace"]), &b, 0, false, MAX_LINE).is_none());

        let bytes: ArrayRef = Arc::new(BinaryArray::from_vec(vec![b"ok", b"\xff"]));
        let b = RecordBatch::try_from_iter([("other", bytes)]).unwrap();
        assert!(Columns::bind(&parser(&[]), &b, 0, false, MAX_LINE).is_none());

        let long: ArrayRef = Arc::new(arrow_array::StringArray::from(vec!["x".repeat(100)]));
        let b = RecordBatch::try_from_iter([("host", long)]).unwrap();
        assert!(Columns::bind(&parser(&[]), &b, 0, false, 100).is_none());
        assert!(Columns::bind(&parser(&[]), &b, 0, false, 1000).is_some());
    }
}
