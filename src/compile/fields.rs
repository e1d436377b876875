//! Rule fields as columns of the compiled statement.
//!
//! `proviso audit` fills each field a rule reads from the first of its
//! candidate sources a record has: a `--field` override, the field's own
//! name, then the common names of the vocabulary (`time` and `date` for
//! `timestamp`, `upstream_addr` for `target_ip`, …), each with its
//! transform (the host of a URL, the address of `address:port`). The
//! compiler does the same per row, over the candidates the table has:
//! `COALESCE` of the transformed candidates, so a row that lacks one
//! falls to the next, as a JSON line without the key does. A field no
//! candidate of the table provides is *absent*: [`Fields::get`] answers
//! `None` and every test of it compiles to false.
//!
//! Each field is computed once, as a column of the statement's first
//! step (`__pv_f0`, …), and read by name after that. Values are kept in
//! one of five kinds ([`Kind`]); a text value that is empty or `-` is
//! absent, as in every log format.

use super::Unsupported;
use super::dialect::Dialect;
use super::schema::{ColType, Column, Schema};
use super::tables::TableFormat;
use crate::scan::logs::Transform;
use crate::value::FieldPath;

/// How a field's values are held in the statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Float,
    /// An exact decimal with this many places.
    Dec(u32),
    Bool,
}

/// A field resolved to a column of the statement's first step.
#[derive(Debug, Clone)]
pub struct Field {
    /// The column's name (quoted for the dialect).
    pub col: String,
    pub kind: Kind,
    /// The original candidate's expression over the table row, for sums
    /// (a decimal column summed as it is, not through text).
    pub raw: String,
    pub raw_ty: ColType,
}

/// The fields a statement reads, resolved against the table.
pub struct Fields<'a> {
    pub d: Dialect,
    schema: &'a Schema,
    overrides: &'a [(String, String)],
    table: Option<TableFormat>,
    resolved: Vec<(FieldPath, Option<Field>)>,
    /// The statement's computed columns, by layer: (expression, name).
    /// Layer 0 reads the table row `t`; layer `k` reads the columns of
    /// the layers before it (see [`super::layers`]).
    pub layers: Vec<Vec<(String, String)>>,
}

impl<'a> Fields<'a> {
    pub fn new(
        d: Dialect,
        schema: &'a Schema,
        overrides: &'a [(String, String)],
        table: Option<TableFormat>,
    ) -> Fields<'a> {
        Fields {
            d,
            schema,
            overrides,
            table,
            resolved: Vec::new(),
            layers: Vec::new(),
        }
    }

    /// A computed column at `layer`, named `__pv_<stem><n>`.
    pub fn col_at(&mut self, layer: usize, stem: &str, expr: String) -> String {
        let n: usize = self.layers.iter().map(Vec::len).sum();
        let name = self.d.ident(&format!("__pv_{stem}{n}"));
        if self.layers.len() <= layer {
            self.layers.resize_with(layer + 1, Vec::new);
        }
        if let Some(l) = self.layers.get_mut(layer) {
            l.push((expr, name.clone()));
        }
        name
    }

    /// The field's column, or `None` if the table has no source for it.
    pub fn get(&mut self, path: &FieldPath) -> Result<Option<Field>, Unsupported> {
        if let Some((_, f)) = self.resolved.iter().find(|(p, _)| p == path) {
            return Ok(f.clone());
        }
        let f = self.resolve(path)?;
        self.resolved.push((path.clone(), f.clone()));
        Ok(f)
    }

    fn resolve(&mut self, path: &FieldPath) -> Result<Option<Field>, Unsupported> {
        let d = self.d;
        let name = crate::scan::logs::single(path);
        // `kind`: every record of a JSON-lines or Parquet export, and of a
        // documented table, is a request.
        if name == Some("kind") {
            let col = self.col_at(super::FIELD_LAYER, "f", d.string("request"));
            return Ok(Some(Field {
                col: col.clone(),
                kind: Kind::Text,
                raw: col,
                raw_ty: ColType::Text,
            }));
        }
        // (value column, kind, raw column, raw type)
        let mut parts: Vec<(String, Kind, String, ColType)> = Vec::new();
        let mut sources: Vec<(String, ColType, Transform)> = Vec::new();
        if let Some(table) = self.table {
            if let Some(name) = name {
                sources = table.sources(d, name);
            }
        } else {
            for (column, t) in self.candidates(path) {
                sources.push((self.column_ref(column), column.ty.clone(), t));
            }
        }
        for (expr, ty, t) in sources {
            let kind = kind_of(&ty, path)?;
            let (raw, value) = match kind {
                Kind::Text => {
                    let text = match ty {
                        ColType::Date => d.to_text(&expr),
                        ColType::Timestamp(z) => super::time::format_ms(d, &d.epoch_ms(&expr, z)),
                        _ => expr,
                    };
                    let raw = self.col_at(0, "r", format!("NULLIF(NULLIF({text}, ''), '-')"));
                    let value =
                        super::transform::apply(d, &raw, t, &mut |i, e| self.col_at(i, "t", e));
                    (raw, value)
                }
                _ => {
                    let raw = self.col_at(0, "r", expr);
                    (raw.clone(), raw)
                }
            };
            parts.push((value, kind, raw, ty));
        }
        if let (Some(table), Some("cloud")) = (self.table, name)
            && let Some(cloud) = table.cloud()
        {
            let lit = d.string(cloud);
            parts.push((lit.clone(), Kind::Text, lit, ColType::Text));
        }
        let Some((first_value, first_kind, first_raw, first_ty)) = parts.first().cloned() else {
            return Ok(None);
        };
        let same = parts.iter().all(|(_, k, _, _)| *k == first_kind);
        let (expr, kind) = if parts.len() == 1 {
            (first_value, first_kind)
        } else if same {
            let list: Vec<String> = parts.iter().map(|(e, _, _, _)| e.clone()).collect();
            (format!("COALESCE({})", list.join(", ")), first_kind)
        } else {
            let list: Vec<String> = parts.iter().map(|(e, k, _, _)| text_of(d, e, *k)).collect();
            (format!("COALESCE({})", list.join(", ")), Kind::Text)
        };
        let col = self.col_at(super::FIELD_LAYER, "f", expr);
        Ok(Some(Field {
            col,
            kind,
            raw: first_raw,
            raw_ty: first_ty,
        }))
    }

    /// The table's columns that can fill `path`, best first, each with the
    /// transform its value gets (the audit's order: overrides, the field's
    /// own name, the vocabulary's common names).
    pub fn candidates(&self, path: &FieldPath) -> Vec<(&'a Column, Transform)> {
        let name = crate::scan::logs::single(path);
        let default_t = name.map_or(Transform::None, crate::scan::logs::vocab_transform);
        let mut wanted: Vec<(Vec<String>, Transform)> = Vec::new();
        for (n, target) in self.overrides {
            if Some(n.as_str()) == name {
                wanted.push((target.split('.').map(str::to_string).collect(), default_t));
            }
        }
        wanted.push((path.0.clone(), default_t));
        if let Some(name) = name {
            for (v, target, t) in crate::scan::logs::jsonl::VOCAB {
                if *v == name {
                    wanted.push((target.split('.').map(str::to_string).collect(), *t));
                }
            }
        }
        let mut out: Vec<(&Column, Transform)> = Vec::new();
        for (p, t) in wanted {
            if let Some(c) = self.schema.find(&p)
                && !out.iter().any(|(o, _)| o.path == c.path)
            {
                out.push((c, t));
            }
        }
        out
    }

    /// The expression that reads a column of the table row `t`.
    pub fn column_ref(&self, c: &Column) -> String {
        let mut out = format!(
            "t.{}",
            self.d.ident(c.path.first().map_or("", String::as_str))
        );
        for seg in c.path.iter().skip(1) {
            out = self.d.struct_field(&out, seg);
        }
        out
    }

    /// The table format in use, if any.
    pub fn table(&self) -> Option<TableFormat> {
        self.table
    }
}

/// The kind a column's values are held in, or why the type cannot be read.
fn kind_of(ty: &ColType, path: &FieldPath) -> Result<Kind, Unsupported> {
    Ok(match ty {
        ColType::Text | ColType::Date | ColType::Timestamp(_) => Kind::Text,
        ColType::Int => Kind::Int,
        ColType::Float => Kind::Float,
        ColType::Decimal(s) => Kind::Dec(*s),
        ColType::Bool => Kind::Bool,
        ColType::Other(o) => {
            return Err(Unsupported::new(format!(
                "field `{path}` is a column of type `{o}`, which no rule can read in SQL"
            )));
        }
    })
}

/// A value of kind `kind` as the text proviso shows it: integers without
/// a decimal point, other numbers as written, booleans as `true`/`false`.
pub fn text_of(d: Dialect, expr: &str, kind: Kind) -> String {
    match kind {
        Kind::Text => expr.to_string(),
        Kind::Int | Kind::Dec(_) => d.to_text(expr),
        Kind::Bool => format!("CASE WHEN {expr} THEN 'true' WHEN NOT {expr} THEN 'false' END"),
        Kind::Float => format!(
            "CASE WHEN {expr} = FLOOR({expr}) AND ABS({expr}) < 1e15 THEN {} ELSE {} END",
            d.to_text(&format!("CAST({expr} AS BIGINT)")),
            d.to_text(expr)
        ),
    }
}
