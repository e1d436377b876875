//! The columns of a Parquet file, for `--schema-from`: read from its
//! footer alone (no row is read), as Arrow types, struct children as
//! paths (`trace.id`).

use super::schema::{ColType, Column, Schema, Zone};
use arrow_schema::{DataType, Field};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use std::path::Path;

/// The schema of the Parquet file at `path`.
pub fn read(path: &Path) -> Result<Schema, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| format!("not a readable Parquet file ({e})"))?;
    let mut columns = Vec::new();
    for f in meta.schema().fields() {
        add(&mut columns, &mut Vec::new(), f, 0);
    }
    Ok(Schema { columns })
}

fn add(columns: &mut Vec<Column>, prefix: &mut Vec<String>, f: &Field, depth: usize) {
    prefix.push(f.name().clone());
    match f.data_type() {
        DataType::Struct(children) if depth < 8 => {
            for c in children {
                add(columns, prefix, c, depth + 1);
            }
        }
        t => columns.push(Column {
            path: prefix.clone(),
            ty: col_type(t),
        }),
    }
    prefix.pop();
}

fn col_type(t: &DataType) -> ColType {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ColType::Text,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => ColType::Int,
        DataType::Float16 | DataType::Float32 | DataType::Float64 => ColType::Float,
        DataType::Decimal32(_, s)
        | DataType::Decimal64(_, s)
        | DataType::Decimal128(_, s)
        | DataType::Decimal256(_, s) => ColType::Decimal(u32::try_from(*s).unwrap_or(0)),
        DataType::Boolean => ColType::Bool,
        DataType::Date32 | DataType::Date64 => ColType::Date,
        DataType::Timestamp(_, Some(_)) => ColType::Timestamp(Zone::Instant),
        DataType::Timestamp(_, None) => ColType::Timestamp(Zone::Naive),
        other => ColType::Other(other.to_string()),
    }
}
