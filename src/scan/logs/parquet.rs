//! Parquet files: each row, of the columns a run reads, written as one
//! JSON object on one line and read by the JSON-lines parser.
//!
//! The design choice: a Parquet row is not given a parser of its own. It
//! is rendered (typed, exactly) as the JSON line a JSON-lines export of
//! the same columns would hold, and that line is the record's text: the
//! vocabulary, `--field` overrides, nested paths (`trace.id` for a struct
//! `trace` with a child `id`), samples, `--findings` and the exact
//! decimals of the aggregate clauses are then those of JSON lines, so the
//! same records give the same report whichever of the two they come in.
//! Typed values are written so that JSON lines read them as they are:
//! timestamps of any unit and time zone as RFC 3339 UTC text with every
//! digit of their fraction, `date32` as `YYYY-MM-DD`, decimals as their
//! exact digits (`"200.01"`, as a CSV holds them: text that the aggregate
//! clauses read exactly and comparisons read as a number), integers, floats and booleans as JSON scalars,
//! structs as objects, lists as arrays and maps as objects. A null is an
//! absent field, as a key missing from a JSON line is.
//!
//! The line defines how a row is read, but most rows are never written
//! out: [`super::columnar`] fills their slots straight from the arrays,
//! as the JSON-lines parser would read this line (a test holds the two to
//! one answer), and a row's line is written only where it is shown or
//! where the columns cannot be read so (rendering and parsing every row
//! cost three times the time the same records take as JSON lines).
//!
//! Reading the file (its footer, row groups in parallel) is the audit's
//! (`audit::parquet`); this module is the format's row of the table, its
//! detection and the rendering.

use super::jsonl::{JsonParser, VOCAB};
use super::{FormatSpec, LineParser};
use crate::date::Date;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use std::io::Write;

/// The `parquet` format: detected by its magic bytes, read by
/// `audit::parquet`; its records are the rows rendered as JSON lines, read
/// with the JSON-lines vocabulary.
pub const FORMAT: FormatSpec = FormatSpec {
    name: "parquet",
    about: "Apache Parquet (a row's line is its row number)",
    json: false,
    cloud: None,
    kind: None,
    header_line: false,
    parser: |s| Box::new(JsonParser::new(s.slots, VOCAB, s.overrides)) as Box<dyn LineParser>,
};

/// The four bytes a Parquet file starts and ends with.
pub const MAGIC: &[u8; 4] = b"PAR1";

/// Whether an input that starts with `head` is a Parquet file.
pub fn is_parquet(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

/// Why a column cannot be read: its type, as Arrow names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub column: String,
    pub data_type: String,
}

/// Whether values of type `t` can be rendered (`Err`: the type).
pub fn check_type(t: &DataType) -> Result<(), String> {
    use DataType as D;
    match t {
        D::Null
        | D::Boolean
        | D::Int8
        | D::Int16
        | D::Int32
        | D::Int64
        | D::UInt8
        | D::UInt16
        | D::UInt32
        | D::UInt64
        | D::Float16
        | D::Float32
        | D::Float64
        | D::Decimal32(..)
        | D::Decimal64(..)
        | D::Decimal128(..)
        | D::Decimal256(..)
        | D::Utf8
        | D::LargeUtf8
        | D::Utf8View
        | D::Binary
        | D::LargeBinary
        | D::BinaryView
        | D::FixedSizeBinary(_)
        | D::Date32
        | D::Date64
        | D::Timestamp(..)
        | D::Time32(_)
        | D::Time64(_)
        | D::Duration(_)
        | D::Interval(_) => Ok(()),
        D::Struct(fields) => fields.iter().try_for_each(|f| check_type(f.data_type())),
        D::List(f) | D::LargeList(f) | D::FixedSizeList(f, _) | D::Map(f, _) => {
            check_type(f.data_type())
        }
        other => Err(other.to_string()),
    }
}

/// Writes a value at an index of its array (never a null one).
type Write1<'a> = Box<dyn Fn(usize, &mut Vec<u8>) + 'a>;

/// A column (or a struct's child, a list's items) ready to be written.
struct Cell<'a> {
    array: &'a dyn Array,
    write: Write1<'a>,
}

impl Cell<'_> {
    /// Whether the value at `i` is absent: a null, or any value of a
    /// column of Arrow's `Null` type.
    fn absent(&self, i: usize) -> bool {
        self.array.data_type() == &DataType::Null || self.array.is_null(i)
    }
}

/// A batch of rows, ready to be written as JSON lines.
pub struct Rows<'a> {
    /// Per column: `"name":` and its cell.
    columns: Vec<(Vec<u8>, Cell<'a>)>,
    rows: usize,
}

impl<'a> Rows<'a> {
    /// Prepares `batch` for writing.
    pub fn new(batch: &'a RecordBatch) -> Result<Rows<'a>, Unsupported> {
        let schema = batch.schema_ref();
        let columns = schema
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(f, a)| {
                let cell = cell(a.as_ref()).map_err(|data_type| Unsupported {
                    column: f.name().clone(),
                    data_type,
                })?;
                Ok((key(f.name()), cell))
            })
            .collect::<Result<Vec<_>, Unsupported>>()?;
        Ok(Rows {
            columns,
            rows: batch.num_rows(),
        })
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends rows `range` to `out`, one JSON object and a line feed
    /// each.
    pub fn write(&self, range: std::ops::Range<usize>, out: &mut Vec<u8>) {
        for i in range {
            out.push(b'{');
            let mut first = true;
            for (key, cell) in &self.columns {
                if cell.absent(i) {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(key);
                (cell.write)(i, out);
            }
            out.extend_from_slice(b"}\n");
        }
    }
}

/// `"name":`, escaped.
fn key(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 3);
    string(name.as_bytes(), &mut k);
    k.push(b':');
    k
}

/// The writer of `array`'s values (`Err`: its type, which cannot be).
fn cell(array: &dyn Array) -> Result<Cell<'_>, String> {
    use DataType as D;
    macro_rules! num {
        ($t:ty, $write:ident, $wide:ty) => {{
            let a = array
                .as_primitive_opt::<$t>()
                .ok_or_else(|| array.data_type().to_string())?;
            Box::new(move |i: usize, out: &mut Vec<u8>| {
                $write(<$wide>::from(a.value(i)), out);
            }) as Write1<'_>
        }};
    }
    macro_rules! float {
        ($t:ty, $conv:expr) => {{
            let a = array
                .as_primitive_opt::<$t>()
                .ok_or_else(|| array.data_type().to_string())?;
            Box::new(move |i: usize, out: &mut Vec<u8>| {
                let v: f64 = $conv(a.value(i));
                if v.is_finite() {
                    let _ = write!(out, "{v}");
                } else {
                    // JSON has no NaN nor infinities.
                    out.extend_from_slice(b"null");
                }
            }) as Write1<'_>
        }};
    }
    let bad = || array.data_type().to_string();
    let write: Write1<'_> = match array.data_type() {
        D::Null => Box::new(|_, out: &mut Vec<u8>| out.extend_from_slice(b"null")),
        D::Boolean => {
            let a = array.as_boolean_opt().ok_or_else(bad)?;
            Box::new(move |i, out: &mut Vec<u8>| {
                out.extend_from_slice(if a.value(i) { b"true" } else { b"false" });
            })
        }
        D::Int8 => num!(Int8Type, int, i64),
        D::Int16 => num!(Int16Type, int, i64),
        D::Int32 => num!(Int32Type, int, i64),
        D::Int64 => num!(Int64Type, int, i64),
        D::UInt8 => num!(UInt8Type, uint, u64),
        D::UInt16 => num!(UInt16Type, uint, u64),
        D::UInt32 => num!(UInt32Type, uint, u64),
        D::UInt64 => num!(UInt64Type, uint, u64),
        D::Float16 => float!(Float16Type, |v: F16| f64::from(v.to_f32())),
        D::Float32 => float!(Float32Type, |v: f32| {
            // The shortest decimal that reads back as the f32, not the
            // f64 nearest it (`0.1`, not `0.10000000149011612`).
            v.to_string().parse::<f64>().unwrap_or(f64::NAN)
        }),
        D::Float64 => float!(Float64Type, |v: f64| v),
        D::Decimal32(..) | D::Decimal64(..) | D::Decimal128(..) | D::Decimal256(..) => {
            // The exact digits with the column's scale (`200.01`,
            // `125000.00`), as a string: a number would be shown (in
            // messages) as the float nearest it, `125000`. Strings of
            // digits compare as numbers, as a CSV's do.
            display(array)?
        }
        D::Utf8 => {
            let a = array.as_string_opt::<i32>().ok_or_else(bad)?;
            Box::new(move |i, out: &mut Vec<u8>| string(a.value(i).as_bytes(), out))
        }
        D::LargeUtf8 => {
            let a = array.as_string_opt::<i64>().ok_or_else(bad)?;
            Box::new(move |i, out: &mut Vec<u8>| string(a.value(i).as_bytes(), out))
        }
        D::Utf8View => {
            let a = array.as_string_view_opt().ok_or_else(bad)?;
            Box::new(move |i, out: &mut Vec<u8>| string(a.value(i).as_bytes(), out))
        }
        // Bytes are read as text (older writers store strings so): bytes
        // that are not UTF-8 make the line, hence the row, malformed.
        D::Binary => {
            let a = array.as_binary_opt::<i32>().ok_or_else(bad)?;
            Box::new(move |i, out: &mut Vec<u8>| string(a.value(i), out))
        }
        D::LargeBinary => {
            let a = array.as_binary_opt::<i64>().ok_or_else(bad)?;
            Box::new(move |i, out: &mut Vec<u8>| string(a.value(i), out))
        }
        D::BinaryView => {
            let a = array.as_binary_view_opt().ok_or_else(bad)?;
            Box::new(move |i, out: &mut Vec<u8>| string(a.value(i), out))
        }
        D::FixedSizeBinary(_) => {
            let a = array.as_fixed_size_binary_opt().ok_or_else(bad)?;
            Box::new(move |i, out: &mut Vec<u8>| string(a.value(i), out))
        }
        D::Date32 => {
            let a = array.as_primitive_opt::<arrow_array::types::Date32Type>();
            let a = a.ok_or_else(bad)?;
            Box::new(move |i, out: &mut Vec<u8>| {
                let _ = write!(out, "\"{}\"", Date::from_days(a.value(i)));
            })
        }
        D::Date64 => {
            let a = array.as_primitive_opt::<arrow_array::types::Date64Type>();
            let a = a.ok_or_else(bad)?;
            Box::new(move |i, out: &mut Vec<u8>| {
                let days = a.value(i).div_euclid(86_400_000);
                match i32::try_from(days) {
                    Ok(d) => {
                        let _ = write!(out, "\"{}\"", Date::from_days(d));
                    }
                    Err(_) => {
                        let _ = write!(out, "\"{}ms\"", a.value(i));
                    }
                }
            })
        }
        D::Timestamp(unit, _) => timestamp(array, *unit).ok_or_else(bad)?,
        D::Time32(_) | D::Time64(_) | D::Duration(_) | D::Interval(_) => display(array)?,
        D::Struct(_) => {
            let a = array.as_struct_opt().ok_or_else(bad)?;
            let children = a
                .fields()
                .iter()
                .zip(a.columns())
                .map(|(f, c)| Ok((key(f.name()), cell(c.as_ref())?)))
                .collect::<Result<Vec<_>, String>>()?;
            Box::new(move |i, out: &mut Vec<u8>| {
                out.push(b'{');
                let mut first = true;
                for (key, c) in &children {
                    if c.absent(i) {
                        continue;
                    }
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    out.extend_from_slice(key);
                    (c.write)(i, out);
                }
                out.push(b'}');
            })
        }
        D::List(_) => {
            let a = array.as_list_opt::<i32>().ok_or_else(bad)?;
            let items = cell(a.values().as_ref())?;
            let offsets = a.value_offsets();
            Box::new(move |i, out: &mut Vec<u8>| {
                let at = |k: usize| {
                    offsets
                        .get(k)
                        .map_or(0, |o| usize::try_from(*o).unwrap_or(0))
                };
                list(&items, at(i)..at(i + 1), out);
            })
        }
        D::LargeList(_) => {
            let a = array.as_list_opt::<i64>().ok_or_else(bad)?;
            let items = cell(a.values().as_ref())?;
            let offsets = a.value_offsets();
            Box::new(move |i, out: &mut Vec<u8>| {
                let at = |k: usize| {
                    offsets
                        .get(k)
                        .map_or(0, |o| usize::try_from(*o).unwrap_or(0))
                };
                list(&items, at(i)..at(i + 1), out);
            })
        }
        D::FixedSizeList(_, n) => {
            let a = array.as_fixed_size_list_opt().ok_or_else(bad)?;
            let items = cell(a.values().as_ref())?;
            let n = usize::try_from(*n).unwrap_or(0);
            Box::new(move |i, out: &mut Vec<u8>| list(&items, i * n..(i + 1) * n, out))
        }
        D::Map(..) => {
            let a = array.as_map_opt().ok_or_else(bad)?;
            let keys = display(a.keys().as_ref())?;
            let values = cell(a.values().as_ref())?;
            let offsets = a.value_offsets();
            Box::new(move |i, out: &mut Vec<u8>| {
                let at = |k: usize| {
                    offsets
                        .get(k)
                        .map_or(0, |o| usize::try_from(*o).unwrap_or(0))
                };
                out.push(b'{');
                for (n, j) in (at(i)..at(i + 1)).enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    keys(j, out);
                    out.push(b':');
                    if values.absent(j) {
                        out.extend_from_slice(b"null");
                    } else {
                        (values.write)(j, out);
                    }
                }
                out.push(b'}');
            })
        }
        other => return Err(other.to_string()),
    };
    Ok(Cell { array, write })
}

/// `half::f16`, as Arrow's `Float16Type` holds it.
pub(crate) type F16 = <Float16Type as arrow_array::ArrowPrimitiveType>::Native;

/// One array's values, each written as its row's line holds it (a
/// string's quotes included): for a reader of the columns
/// (`columnar`) that needs the text of a few of them.
pub(crate) struct Values<'a>(Cell<'a>);

impl<'a> Values<'a> {
    /// `None` for a type the rendering does not write.
    pub(crate) fn new(array: &'a dyn Array) -> Option<Values<'a>> {
        cell(array).ok().map(Values)
    }

    /// Appends the value at `i` (never a null one) to `out`.
    pub(crate) fn write(&self, i: usize, out: &mut Vec<u8>) {
        (self.0.write)(i, out);
    }
}

/// At least the bytes of the longest line any row of `batch` is written
/// as (a bound, worked out from the longest value of each column, not
/// from each row): what tells a reader of the columns that no row of the
/// batch is longer than the longest line read, which would make it
/// malformed.
pub fn longest_line(batch: &RecordBatch) -> usize {
    let schema = batch.schema_ref();
    schema
        .fields()
        .iter()
        .zip(batch.columns())
        .fold(2, |n, (f, a)| {
            n.saturating_add(key_bound(f.name()))
                .saturating_add(value_bound(a.as_ref()))
        })
}

/// The most bytes `"name":,` is written as.
fn key_bound(name: &str) -> usize {
    name.len().saturating_mul(6).saturating_add(4)
}

/// The most bytes any one value of `array` is written as.
fn value_bound(array: &dyn Array) -> usize {
    use DataType as D;
    // A string's bytes, each escaped at worst as `\u00XX`, and quotes.
    let text = |longest: usize| longest.saturating_mul(6).saturating_add(2);
    let longest = |n: usize, len: &dyn Fn(usize) -> usize| (0..n).map(len).max().unwrap_or(0);
    let n = array.len();
    match array.data_type() {
        D::Null | D::Boolean => 5,
        D::Int8 | D::Int16 | D::Int32 | D::Int64 | D::UInt8 | D::UInt16 | D::UInt32 | D::UInt64 => {
            20
        }
        // `{v}` of an `f64` has no exponent: up to 309 digits before the
        // point (`1e308`), or 324 after it (`5e-324`).
        D::Float16 | D::Float32 | D::Float64 => 330,
        D::Utf8 => array
            .as_string_opt::<i32>()
            .map_or(usize::MAX, |a| text(longest(n, &|i| a.value(i).len()))),
        D::LargeUtf8 => array
            .as_string_opt::<i64>()
            .map_or(usize::MAX, |a| text(longest(n, &|i| a.value(i).len()))),
        D::Utf8View => array
            .as_string_view_opt()
            .map_or(usize::MAX, |a| text(longest(n, &|i| a.value(i).len()))),
        D::Binary => array
            .as_binary_opt::<i32>()
            .map_or(usize::MAX, |a| text(longest(n, &|i| a.value(i).len()))),
        D::LargeBinary => array
            .as_binary_opt::<i64>()
            .map_or(usize::MAX, |a| text(longest(n, &|i| a.value(i).len()))),
        D::BinaryView => array
            .as_binary_view_opt()
            .map_or(usize::MAX, |a| text(longest(n, &|i| a.value(i).len()))),
        D::FixedSizeBinary(w) => text(usize::try_from(*w).unwrap_or(usize::MAX)),
        // Arrow's display of a decimal (at most 76 digits, a sign and a
        // point), a date, a time, a duration, an interval; a timestamp's
        // text, or the words for one out of any calendar.
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
        | D::Interval(_) => 128,
        D::Struct(_) => array.as_struct_opt().map_or(usize::MAX, |a| {
            a.fields().iter().zip(a.columns()).fold(2, |n, (f, c)| {
                n.saturating_add(key_bound(f.name()))
                    .saturating_add(value_bound(c.as_ref()))
            })
        }),
        D::List(_) => array.as_list_opt::<i32>().map_or(usize::MAX, |a| {
            let items = longest(n, &|i| a.value_length(i).unsigned_abs() as usize);
            items_bound(items, value_bound(a.values().as_ref()))
        }),
        D::LargeList(_) => array.as_list_opt::<i64>().map_or(usize::MAX, |a| {
            let items = longest(n, &|i| {
                usize::try_from(a.value_length(i).unsigned_abs()).unwrap_or(usize::MAX)
            });
            items_bound(items, value_bound(a.values().as_ref()))
        }),
        D::FixedSizeList(_, w) => array.as_fixed_size_list_opt().map_or(usize::MAX, |a| {
            let items = usize::try_from(*w).unwrap_or(usize::MAX);
            items_bound(items, value_bound(a.values().as_ref()))
        }),
        D::Map(..) => array.as_map_opt().map_or(usize::MAX, |a| {
            let offsets = a.value_offsets();
            let entries = offsets
                .windows(2)
                .map(|w| match w {
                    [from, to] => usize::try_from(to.saturating_sub(*from)).unwrap_or(0),
                    _ => 0,
                })
                .max()
                .unwrap_or(0);
            let entry = value_bound(a.keys().as_ref())
                .saturating_add(value_bound(a.values().as_ref()))
                .saturating_add(1);
            items_bound(entries, entry)
        }),
        _ => usize::MAX,
    }
}

/// `[a,b,…]` of up to `items` values of up to `each` bytes.
fn items_bound(items: usize, each: usize) -> usize {
    items
        .saturating_mul(each.saturating_add(1))
        .saturating_add(2)
}

/// Whether every byte string in `batch` (the values of a binary column,
/// at any depth) is UTF-8: a row that holds one that is not is written
/// as a line that is not UTF-8, hence malformed.
pub fn bytes_are_text(batch: &RecordBatch) -> bool {
    batch
        .columns()
        .iter()
        .all(|a| array_bytes_are_text(a.as_ref()))
}

fn array_bytes_are_text(array: &dyn Array) -> bool {
    use DataType as D;
    fn utf8<'x>(n: usize, value: &dyn Fn(usize) -> &'x [u8]) -> bool {
        (0..n).all(|i| simdutf8::basic::from_utf8(value(i)).is_ok())
    }
    let n = array.len();
    match array.data_type() {
        D::Binary => array
            .as_binary_opt::<i32>()
            .is_some_and(|a| utf8(n, &|i| a.value(i))),
        D::LargeBinary => array
            .as_binary_opt::<i64>()
            .is_some_and(|a| utf8(n, &|i| a.value(i))),
        D::BinaryView => array
            .as_binary_view_opt()
            .is_some_and(|a| utf8(n, &|i| a.value(i))),
        D::FixedSizeBinary(_) => array
            .as_fixed_size_binary_opt()
            .is_some_and(|a| utf8(n, &|i| a.value(i))),
        D::Struct(_) => array
            .as_struct_opt()
            .is_some_and(|a| a.columns().iter().all(|c| array_bytes_are_text(c.as_ref()))),
        D::List(_) => array
            .as_list_opt::<i32>()
            .is_some_and(|a| array_bytes_are_text(a.values().as_ref())),
        D::LargeList(_) => array
            .as_list_opt::<i64>()
            .is_some_and(|a| array_bytes_are_text(a.values().as_ref())),
        D::FixedSizeList(..) => array
            .as_fixed_size_list_opt()
            .is_some_and(|a| array_bytes_are_text(a.values().as_ref())),
        // (A map's keys are written as Arrow displays them: text.)
        D::Map(..) => array
            .as_map_opt()
            .is_some_and(|a| array_bytes_are_text(a.values().as_ref())),
        _ => true,
    }
}

/// A JSON array of `items[range]`, nulls as `null`.
fn list(items: &Cell<'_>, range: std::ops::Range<usize>, out: &mut Vec<u8>) {
    out.push(b'[');
    for (n, j) in range.enumerate() {
        if n > 0 {
            out.push(b',');
        }
        if items.absent(j) {
            out.extend_from_slice(b"null");
        } else {
            (items.write)(j, out);
        }
    }
    out.push(b']');
}

/// Values as Arrow displays them, as JSON strings (a decimal's exact
/// digits, a time, a duration, a map's key).
fn display(array: &dyn Array) -> Result<Write1<'_>, String> {
    let options = arrow_cast::display::FormatOptions::default();
    let f = arrow_cast::display::ArrayFormatter::try_new(array, &options)
        .map_err(|_| array.data_type().to_string())?;
    Ok(Box::new(move |i, out: &mut Vec<u8>| {
        string(f.value(i).to_string().as_bytes(), out);
    }))
}

/// Timestamps of `unit` (with or without a time zone: the values are UTC
/// instants either way, and a timestamp without one is read as UTC) as
/// RFC 3339 UTC text with every significant digit of the fraction, at
/// least three (`2026-02-03T01:18:51.250Z`).
fn timestamp(array: &dyn Array, unit: TimeUnit) -> Option<Write1<'_>> {
    use arrow_array::types::{
        TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
        TimestampSecondType,
    };
    let (per_second, values): (i64, Box<dyn Fn(usize) -> i64 + '_>) = match unit {
        TimeUnit::Second => {
            let a = array.as_primitive_opt::<TimestampSecondType>()?;
            (1, Box::new(move |i| a.value(i)))
        }
        TimeUnit::Millisecond => {
            let a = array.as_primitive_opt::<TimestampMillisecondType>()?;
            (1_000, Box::new(move |i| a.value(i)))
        }
        TimeUnit::Microsecond => {
            let a = array.as_primitive_opt::<TimestampMicrosecondType>()?;
            (1_000_000, Box::new(move |i| a.value(i)))
        }
        TimeUnit::Nanosecond => {
            let a = array.as_primitive_opt::<TimestampNanosecondType>()?;
            (1_000_000_000, Box::new(move |i| a.value(i)))
        }
    };
    Some(Box::new(move |i, out: &mut Vec<u8>| {
        write_timestamp(values(i), per_second, out);
    }))
}

/// [`timestamp`]'s text of `v` units, `per_second` to a second.
pub fn write_timestamp(v: i64, per_second: i64, out: &mut Vec<u8>) {
    let secs = v.div_euclid(per_second);
    let sub = v.rem_euclid(per_second);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let Ok(days) = i32::try_from(days) else {
        // Out of any calendar: text no timestamp reading takes.
        let _ = write!(out, "\"{v} units of 1/{per_second} s\"");
        return;
    };
    let (y, m, d) = Date::from_days(days).ymd();
    out.push(b'"');
    if (0..=9999).contains(&y) {
        digits(u64::try_from(y).unwrap_or(0), 4, out);
    } else {
        let _ = write!(out, "{y:04}");
    }
    out.push(b'-');
    digits(u64::from(m), 2, out);
    out.push(b'-');
    digits(u64::from(d), 2, out);
    out.push(b'T');
    let rem = u64::try_from(rem).unwrap_or(0);
    digits(rem / 3600, 2, out);
    out.push(b':');
    digits(rem / 60 % 60, 2, out);
    out.push(b':');
    digits(rem % 60, 2, out);
    if sub != 0 {
        // The fraction in nanoseconds, less its trailing zeros (but
        // milliseconds at least, as JSON exports write them).
        let mut nanos = u64::try_from(sub * (1_000_000_000 / per_second)).unwrap_or(0);
        let mut width = 9;
        while width > 3 && nanos % 10 == 0 {
            nanos /= 10;
            width -= 1;
        }
        out.push(b'.');
        digits(nanos, width, out);
    }
    out.extend_from_slice(b"Z\"");
}

/// `v` in decimal.
fn int(v: i64, out: &mut Vec<u8>) {
    if v < 0 {
        out.push(b'-');
    }
    uint(v.unsigned_abs(), out);
}

/// `v` in decimal (no `fmt` machinery: a column of integers is written
/// millions of times).
fn uint(v: u64, out: &mut Vec<u8>) {
    digits(v, 1, out);
}

/// `v` in decimal, with leading zeros to `width` digits.
fn digits(mut v: u64, width: usize, out: &mut Vec<u8>) {
    let mut buf = [b'0'; 20];
    let mut at = buf.len();
    while v > 0 || buf.len() - at < width {
        at -= 1;
        if let Some(b) = buf.get_mut(at) {
            *b = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if at == 0 {
            break;
        }
    }
    out.extend_from_slice(buf.get(at..).unwrap_or_default());
}

/// `bytes` as a JSON string: quotes, backslashes and control characters
/// escaped, everything else as it is (bytes that are not UTF-8 stay so,
/// and make the line malformed where it is read).
fn string(bytes: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    // Almost every value has nothing to escape: one pass to tell, then
    // one copy.
    if !bytes.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(bytes.get(from..i).unwrap_or_default());
        match escape {
            Some(e) => out.extend_from_slice(e),
            None => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        from = i + 1;
    }
    out.extend_from_slice(bytes.get(from..).unwrap_or_default());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(v: i64, per_second: i64) -> String {
        let mut out = Vec::new();
        write_timestamp(v, per_second, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// Every unit gives the same text for the same instant, with the
    /// fraction's significant digits (milliseconds at least), before and
    /// after 1970.
    #[test]
    fn timestamps_of_every_unit_read_as_utc_text() {
        let ms = 1_770_081_531_250i64; // 2026-02-03T01:18:51.250Z
        let want = "\"2026-02-03T01:18:51.250Z\"";
        assert_eq!(ts(ms, 1_000), want);
        assert_eq!(ts(ms * 1_000, 1_000_000), want);
        assert_eq!(ts(ms * 1_000_000, 1_000_000_000), want);
        assert_eq!(ts(1_770_081_531, 1), "\"2026-02-03T01:18:51Z\"");
        assert_eq!(
            ts(1_770_081_531_123_456_789, 1_000_000_000),
            "\"2026-02-03T01:18:51.123456789Z\""
        );
        assert_eq!(ts(-1, 1_000), "\"1969-12-31T23:59:59.999Z\"");
    }

    #[test]
    fn integers_are_written_in_decimal() {
        let text = |v: i64| {
            let mut out = Vec::new();
            int(v, &mut out);
            String::from_utf8(out).unwrap()
        };
        for v in [0, 7, -7, 10, 200, -1000, i64::MAX, i64::MIN] {
            assert_eq!(text(v), v.to_string());
        }
        let mut out = Vec::new();
        uint(u64::MAX, &mut out);
        assert_eq!(out, u64::MAX.to_string().as_bytes());
    }

    #[test]
    fn strings_are_escaped_as_json() {
        let mut out = Vec::new();
        string(b"a\"b\\c\nd\x01", &mut out);
        assert_eq!(out, b"\"a\\\"b\\\\c\\nd\\u0001\"");
    }
}
