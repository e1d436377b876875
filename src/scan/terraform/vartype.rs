//! Input variable types: the conversion Terraform applies to a variable's
//! value before the module sees it.
//!
//! What matters for judging is what a module reads, so the conversion is
//! applied to every value a variable gets (a caller's argument, a tfvars
//! entry or the default): `optional(T, default)` attributes missing from an
//! object, or set to `null`, take their default (`null` without one), and
//! nested defaults apply inside defaults too; attributes the type does not
//! declare are dropped; primitives convert as Terraform converts them
//! (`5` to `"5"` for a `string`). A value that cannot convert is left as it
//! is: Terraform would reject the call, and proviso does not second-guess
//! which way the author meant it. Unknowns stay unknown.
//!
//! The type expression is read from the parse tree once per use; types are
//! small, and their depth is bounded by [`MAX_TYPE_DEPTH`].

use crate::value::Value;
use hcl_edit::expr::{Expression, ObjectKey};
use std::collections::BTreeMap;

/// Deepest type expression read (`list(list(…))`); deeper is `any`.
const MAX_TYPE_DEPTH: usize = 32;

/// A variable's type constraint, with the defaults of optional attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Any,
    String,
    Number,
    Bool,
    List(Box<Ty>),
    Set(Box<Ty>),
    Map(Box<Ty>),
    Tuple(Vec<Ty>),
    Object(Vec<Attr>),
}

/// One attribute of an object type.
#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub name: String,
    pub ty: Ty,
    /// `optional(T)` or `optional(T, default)`.
    pub optional: bool,
    pub default: Option<Value>,
}

/// Reads a type expression; `eval` evaluates the default of an optional
/// attribute (a constant expression).
pub fn parse(expr: &Expression, eval: &dyn Fn(&Expression) -> Value) -> Ty {
    parse_at(expr, eval, 0)
}

fn parse_at(expr: &Expression, eval: &dyn Fn(&Expression) -> Value, depth: usize) -> Ty {
    if depth > MAX_TYPE_DEPTH {
        return Ty::Any;
    }
    match expr {
        Expression::Variable(v) => match v.as_str() {
            "string" => Ty::String,
            "number" => Ty::Number,
            "bool" => Ty::Bool,
            _ => Ty::Any,
        },
        Expression::Parenthesis(p) => parse_at(p.inner(), eval, depth + 1),
        Expression::FuncCall(call) => {
            let args: Vec<&Expression> = call.args.iter().collect();
            let inner = |i: usize| {
                args.get(i)
                    .map_or(Ty::Any, |a| parse_at(a, eval, depth + 1))
            };
            match call.name.name.as_str() {
                "list" => Ty::List(Box::new(inner(0))),
                "set" => Ty::Set(Box::new(inner(0))),
                "map" => Ty::Map(Box::new(inner(0))),
                "tuple" => match args.first() {
                    Some(Expression::Array(items)) => {
                        Ty::Tuple(items.iter().map(|e| parse_at(e, eval, depth + 1)).collect())
                    }
                    _ => Ty::Any,
                },
                "object" => match args.first() {
                    Some(Expression::Object(obj)) => Ty::Object(
                        obj.iter()
                            .filter_map(|(k, v)| {
                                let name = match k {
                                    ObjectKey::Ident(id) => id.as_str().to_string(),
                                    ObjectKey::Expression(Expression::Variable(v)) => {
                                        v.as_str().to_string()
                                    }
                                    ObjectKey::Expression(Expression::String(s)) => {
                                        s.value().to_string()
                                    }
                                    ObjectKey::Expression(_) => return None,
                                };
                                Some(attr(name, v.expr(), eval, depth + 1))
                            })
                            .collect(),
                    ),
                    _ => Ty::Any,
                },
                _ => Ty::Any,
            }
        }
        _ => Ty::Any,
    }
}

fn attr(name: String, e: &Expression, eval: &dyn Fn(&Expression) -> Value, depth: usize) -> Attr {
    if let Expression::FuncCall(call) = e
        && call.name.name.as_str() == "optional"
    {
        let args: Vec<&Expression> = call.args.iter().collect();
        let ty = args
            .first()
            .map_or(Ty::Any, |a| parse_at(a, eval, depth + 1));
        let default = args.get(1).map(|d| convert(eval(d), &ty));
        return Attr {
            name,
            ty,
            optional: true,
            default,
        };
    }
    Attr {
        name,
        ty: parse_at(e, eval, depth),
        optional: false,
        default: None,
    }
}

/// Converts a value to a type as Terraform does for input variables.
pub fn convert(v: Value, ty: &Ty) -> Value {
    match (ty, v) {
        (_, u @ Value::Unknown(_)) => u,
        (_, Value::Null) => Value::Null,
        (Ty::Any, v) => v,
        (Ty::String, Value::Num(n)) => Value::str(&Value::Num(n).to_string()),
        (Ty::String, Value::Bool(b)) => Value::str(if b { "true" } else { "false" }),
        (Ty::Number, Value::Str(s)) => match s.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Value::Num(n),
            _ => Value::Str(s),
        },
        (Ty::Bool, Value::Str(s)) => match s.as_ref() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::Str(s),
        },
        (Ty::List(t) | Ty::Set(t), Value::List(items)) => {
            let mut out: Vec<Value> = items.into_iter().map(|i| convert(i, t)).collect();
            if matches!(ty, Ty::Set(_)) {
                let mut seen: Vec<Value> = Vec::with_capacity(out.len());
                out.retain(|v| {
                    if seen.contains(v) {
                        false
                    } else {
                        seen.push(v.clone());
                        true
                    }
                });
            }
            Value::List(out)
        }
        (Ty::Tuple(ts), Value::List(items)) => Value::List(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match ts.get(i) {
                    Some(t) => convert(v, t),
                    None => v,
                })
                .collect(),
        ),
        (Ty::Map(t), Value::Map(m)) => {
            Value::Map(m.into_iter().map(|(k, v)| (k, convert(v, t))).collect())
        }
        (Ty::Object(attrs), Value::Map(mut m)) => {
            let mut out = BTreeMap::new();
            for a in attrs {
                let given = m.remove(&a.name);
                let v = match given {
                    Some(Value::Null) | None if a.optional => {
                        a.default.clone().unwrap_or(Value::Null)
                    }
                    Some(v) => convert(v, &a.ty),
                    // A required attribute missing: Terraform rejects the
                    // value; keep what is there rather than guess.
                    None => continue,
                };
                out.insert(a.name.clone(), v);
            }
            Value::Map(out)
        }
        (_, v) => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(src: &str) -> Ty {
        let body = hcl_edit::parser::parse_body(&format!("t = {src}\n")).unwrap();
        let attr = body.attributes().next().unwrap();
        parse(&attr.value, &|e| match e {
            Expression::String(s) => Value::str(s.value()),
            Expression::Bool(b) => Value::Bool(*b.value()),
            Expression::Object(o) if o.is_empty() => Value::Map(BTreeMap::new()),
            Expression::Array(a) if a.len() == 1 => Value::List(vec![Value::Map(BTreeMap::new())]),
            Expression::Object(_) => Value::Map(
                [("segment".to_string(), Value::str("general"))]
                    .into_iter()
                    .collect(),
            ),
            _ => Value::Null,
        })
    }

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    /// Terraform 1.11.4, `terraform console` on the variable below with the
    /// default `{ name = "n", extra = 1, inner = { b = false } }` printed
    /// `{ inner = { a = "A", b = false }, list = [{ x = "X" }], name = "n",
    /// port = null, tags = { segment = "general" } }`.
    #[test]
    fn optional_attributes_take_their_defaults_as_terraform_does() {
        let t = ty(r#"object({
            name  = string
            tags  = optional(map(string), { segment = "general" })
            port  = optional(number)
            inner = optional(object({ a = optional(string, "A"), b = optional(bool, true) }), {})
            list  = optional(list(object({ x = optional(string, "X") })), [{}])
        })"#);
        let given = map(&[
            ("name", Value::str("n")),
            ("extra", Value::Num(1.0)),
            ("inner", map(&[("b", Value::Bool(false))])),
        ]);
        let expected = map(&[
            (
                "inner",
                map(&[("a", Value::str("A")), ("b", Value::Bool(false))]),
            ),
            ("list", Value::List(vec![map(&[("x", Value::str("X"))])])),
            ("name", Value::str("n")),
            ("port", Value::Null),
            ("tags", map(&[("segment", Value::str("general"))])),
        ]);
        assert_eq!(convert(given, &t), expected);
    }

    /// Terraform 1.11.4: `map(object({ region = optional(string, "eastus") }))`
    /// with `{ a = {}, b = { region = null } }` is
    /// `{ a = { region = "eastus" }, b = { region = "eastus" } }`.
    #[test]
    fn a_null_optional_attribute_takes_the_default_in_every_map_value() {
        let t = ty(r#"map(object({ region = optional(string, "eastus") }))"#);
        let given = map(&[("a", map(&[])), ("b", map(&[("region", Value::Null)]))]);
        let expected = map(&[
            ("a", map(&[("region", Value::str("eastus"))])),
            ("b", map(&[("region", Value::str("eastus"))])),
        ]);
        assert_eq!(convert(given, &t), expected);
    }

    /// Terraform 1.11.4: a `string` variable with `default = 5` is `"5"`.
    #[test]
    fn primitives_convert_and_unknowns_stay_unknown() {
        assert_eq!(convert(Value::Num(5.0), &Ty::String), Value::str("5"));
        assert_eq!(convert(Value::str("5"), &Ty::Number), Value::Num(5.0));
        assert_eq!(convert(Value::str("true"), &Ty::Bool), Value::Bool(true));
        assert!(convert(Value::unknown("x", None), &ty("string")).is_unknown());
    }
}
