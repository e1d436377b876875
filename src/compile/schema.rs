//! The columns of the table a compiled statement reads, and their types.
//!
//! A rule reads fields; a table has columns. The compiler must know which
//! columns exist, because a field the table lacks is *absent* (every
//! comparison with it is false), and of what type, because a number, a
//! string holding a number and a timestamp are each compared their own
//! way. The columns come from `--columns NAME:TYPE,…`, or are read from a
//! sample of the data with `--schema-from FILE`: a Parquet file's schema,
//! a CSV header (every column text, as proviso reads CSV), or the first
//! records of a JSON-lines file (the JSON types of their values; nested
//! objects become struct paths).

use crate::diag::{Code, Diag};
use crate::source::display_path;
use std::io::Read;
use std::path::Path;

/// A column's type, as far as the compiler tells types apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColType {
    Text,
    /// Any integer type.
    Int,
    /// A binary floating point number.
    Float,
    /// An exact decimal with this many places.
    Decimal(u32),
    Bool,
    Date,
    /// A time: an instant (a zone, or Spark's `TIMESTAMP`), a wall-clock
    /// time read as UTC (no zone), or the dialect's own `TIMESTAMP`.
    Timestamp(Zone),
    /// A type no rule can read (a list, a map, binary): named in errors.
    Other(String),
}

impl ColType {
    /// Reads a type as `--columns` writes it (`varchar`, `bigint`,
    /// `decimal(18,2)`, `timestamp`, …), in any case.
    pub fn parse(text: &str) -> Option<ColType> {
        let t = text.trim().to_ascii_lowercase();
        let t = t.as_str();
        Some(match t {
            "string" | "varchar" | "text" | "char" | "utf8" | "large_utf8" | "utf8view" => {
                ColType::Text
            }
            "int" | "integer" | "bigint" | "smallint" | "tinyint" | "long" | "int8" | "int16"
            | "int32" | "int64" | "uint8" | "uint16" | "uint32" | "uint64" | "hugeint" => {
                ColType::Int
            }
            "double" | "float" | "real" | "float4" | "float8" | "float32" | "float64" => {
                ColType::Float
            }
            "bool" | "boolean" => ColType::Bool,
            "date" | "date32" => ColType::Date,
            "timestamp" => ColType::Timestamp(Zone::Dialect),
            "timestamptz" | "timestamp with time zone" | "timestamp_ltz" => {
                ColType::Timestamp(Zone::Instant)
            }
            "timestamp_ntz" | "datetime" | "timestamp without time zone" => {
                ColType::Timestamp(Zone::Naive)
            }
            _ => {
                let inner = t
                    .strip_prefix("decimal")
                    .or_else(|| t.strip_prefix("numeric"))?
                    .trim();
                if inner.is_empty() {
                    // DECIMAL alone is DECIMAL(18, 3) in DuckDB, (10, 0)
                    // elsewhere: too unclear to guess.
                    return None;
                }
                let inner = inner.strip_prefix('(')?.strip_suffix(')')?;
                let (p, s) = inner.split_once(',').unwrap_or((inner, "0"));
                let p: u32 = p.trim().parse().ok()?;
                let s: u32 = s.trim().parse().ok()?;
                if p == 0 || p > 38 || s > p {
                    return None;
                }
                ColType::Decimal(s)
            }
        })
    }

    pub fn name(&self) -> String {
        match self {
            ColType::Text => "text".into(),
            ColType::Int => "integer".into(),
            ColType::Float => "double".into(),
            ColType::Decimal(s) => format!("decimal(38,{s})"),
            ColType::Bool => "boolean".into(),
            ColType::Date => "date".into(),
            ColType::Timestamp(Zone::Instant) => "timestamptz".into(),
            ColType::Timestamp(Zone::Naive) => "timestamp_ntz".into(),
            ColType::Timestamp(Zone::Dialect) => "timestamp".into(),
            ColType::Other(o) => o.clone(),
        }
    }
}

/// What a timestamp column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// An instant (Parquet's `isAdjustedToUTC`, `TIMESTAMP WITH TIME
    /// ZONE`, Spark's `TIMESTAMP`).
    Instant,
    /// A wall-clock time with no zone, read as UTC (Spark's
    /// `TIMESTAMP_NTZ`, DuckDB's and Trino's `TIMESTAMP`).
    Naive,
    /// What the dialect calls `TIMESTAMP` (`--columns x:timestamp`).
    Dialect,
}

/// A column: its path (one name, or a struct's name and a child's) and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub path: Vec<String>,
    pub ty: ColType,
}

/// The table's columns, leaves of structs included, in table order.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub columns: Vec<Column>,
}

impl Schema {
    /// The top-level column names, in order, each once.
    pub fn top_level(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in &self.columns {
            if let Some(first) = c.path.first()
                && !out.contains(&first.as_str())
            {
                out.push(first);
            }
        }
        out
    }

    /// The column whose path matches `path`, compared as proviso compares
    /// JSON keys: every character other than a letter, digit or `_` read
    /// as `_`, in any case. An exact match wins over a loose one.
    pub fn find(&self, path: &[String]) -> Option<&Column> {
        let loose = |a: &str, b: &str| {
            crate::scan::logs::normalize_name(a)
                .eq_ignore_ascii_case(&crate::scan::logs::normalize_name(b))
        };
        self.columns.iter().find(|c| c.path == path).or_else(|| {
            self.columns.iter().find(|c| {
                c.path.len() == path.len() && c.path.iter().zip(path).all(|(a, b)| loose(a, b))
            })
        })
    }

    /// Reads `--columns NAME:TYPE,…` (a `.` in a name is a struct path;
    /// a comma inside `decimal(18,2)` does not split).
    pub fn parse_columns(spec: &str) -> Result<Schema, Diag> {
        let mut columns = Vec::new();
        let mut depth = 0usize;
        let mut start = 0usize;
        let mut parts = Vec::new();
        for (i, c) in spec.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    parts.push(spec.get(start..i).unwrap_or_default());
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(spec.get(start..).unwrap_or_default());
        for part in parts {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let Some((name, ty)) = part.split_once(':') else {
                return Err(bad_columns(format!("`{part}` is not NAME:TYPE")));
            };
            let Some(ty) = ColType::parse(ty) else {
                return Err(bad_columns(format!(
                    "`{}` is not a column type proviso knows",
                    ty.trim()
                )));
            };
            let path: Vec<String> = name.trim().split('.').map(str::to_string).collect();
            if path.iter().any(String::is_empty) {
                return Err(bad_columns(format!("`{name}` is not a column name")));
            }
            columns.push(Column { path, ty });
        }
        if columns.is_empty() {
            return Err(bad_columns("no column is named".to_string()));
        }
        Ok(Schema { columns })
    }

    /// Reads the columns of a data file: Parquet by its magic bytes, JSON
    /// lines when its first byte opens an object, else a CSV header.
    pub fn from_file(path: &Path) -> Result<Schema, Diag> {
        let unreadable = |e: &dyn std::fmt::Display| {
            Diag::error(
                Code::CompileBadSchema,
                format!("cannot read the columns of `{}`: {e}", display_path(path)),
            )
            .with_help("give `--schema-from` a Parquet, CSV or JSON-lines file of the table, or name the columns with `--columns NAME:TYPE,…`")
        };
        let mut head = Vec::new();
        let mut f = std::fs::File::open(path).map_err(|e| unreadable(&e))?;
        (&mut f)
            .take(4)
            .read_to_end(&mut head)
            .map_err(|e| unreadable(&e))?;
        if head == b"PAR1" {
            return super::parquet_schema::read(path).map_err(|e| unreadable(&e));
        }
        let input = crate::scan::logs::decompress::open(path).map_err(|e| unreadable(&e))?;
        let mut text = Vec::new();
        input
            .reader
            .take(4 << 20)
            .read_to_end(&mut text)
            .map_err(|e| unreadable(&e))?;
        let text = String::from_utf8_lossy(&text);
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let schema = if text.trim_start().starts_with('{') {
            from_json_lines(text)
        } else {
            from_csv_header(text)
        };
        match schema {
            Some(s) if !s.columns.is_empty() => Ok(s),
            _ => Err(unreadable(&"no header or record found")),
        }
    }
}

fn bad_columns(why: String) -> Diag {
    Diag::error(Code::CompileBadColumns, format!("`--columns`: {why}"))
        .with_help("write the table's columns as `--columns timestamp:timestamp,host:varchar,status:int,amount_usd:decimal(18,2)`")
}

/// The columns of a CSV header line: every one text, as `proviso audit`
/// reads a CSV file.
fn from_csv_header(text: &str) -> Option<Schema> {
    let line = text.lines().next()?;
    let mut columns = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    let mut push = |field: &mut String| {
        columns.push(Column {
            path: vec![std::mem::take(field).trim().to_string()],
            ty: ColType::Text,
        });
    };
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => push(&mut field),
            c => field.push(c),
        }
    }
    push(&mut field);
    Some(Schema { columns })
}

/// The columns of the first records (up to 1,000) of a JSON-lines file: a
/// key of any record is a column, its type the JSON type of its values
/// (integers and fractions together are `double`; values of two other
/// types are text); nested objects are struct paths.
fn from_json_lines(text: &str) -> Option<Schema> {
    let mut columns: Vec<Column> = Vec::new();
    for line in text.lines().take(1000) {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(line)
        else {
            continue;
        };
        add_object(&mut columns, &mut Vec::new(), &map, 0);
    }
    Some(Schema { columns })
}

fn add_object(
    columns: &mut Vec<Column>,
    prefix: &mut Vec<String>,
    map: &serde_json::Map<String, serde_json::Value>,
    depth: usize,
) {
    use serde_json::Value as J;
    for (k, v) in map {
        prefix.push(k.clone());
        let ty = match v {
            J::Object(inner) if depth < 8 => {
                add_object(columns, prefix, inner, depth + 1);
                prefix.pop();
                continue;
            }
            J::Null => None,
            J::Bool(_) => Some(ColType::Bool),
            J::Number(n) if n.is_i64() || n.is_u64() => Some(ColType::Int),
            J::Number(_) => Some(ColType::Float),
            J::String(_) => Some(ColType::Text),
            J::Array(_) | J::Object(_) => Some(ColType::Other("list".into())),
        };
        match columns.iter_mut().find(|c| c.path == *prefix) {
            Some(c) => {
                if let Some(ty) = ty {
                    c.ty = match (&c.ty, &ty) {
                        (a, b) if a == b => ty,
                        (ColType::Int, ColType::Float) | (ColType::Float, ColType::Int) => {
                            ColType::Float
                        }
                        _ => ColType::Text,
                    };
                }
            }
            None => columns.push(Column {
                path: prefix.clone(),
                ty: ty.unwrap_or(ColType::Text),
            }),
        }
        prefix.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_spec_keeps_decimal_commas_and_struct_paths() {
        let s =
            Schema::parse_columns("timestamp:timestamp, amount_usd:decimal(18,2),trace.id:varchar")
                .unwrap();
        assert_eq!(s.columns.len(), 3);
        assert_eq!(s.columns[1].ty, ColType::Decimal(2));
        assert_eq!(s.columns[2].path, vec!["trace", "id"]);
        assert!(Schema::parse_columns("x:blob").is_err());
        assert!(Schema::parse_columns("x").is_err());
    }

    #[test]
    fn json_lines_types_widen_and_nest() {
        let s = from_json_lines("{\"a\":1,\"b\":{\"c\":\"x\"}}\n{\"a\":1.5,\"d\":true}\n").unwrap();
        let ty = |p: &[&str]| s.columns.iter().find(|c| c.path == p).map(|c| c.ty.clone());
        assert_eq!(ty(&["a"]), Some(ColType::Float));
        assert_eq!(ty(&["b", "c"]), Some(ColType::Text));
        assert_eq!(ty(&["d"]), Some(ColType::Bool));
    }
}
