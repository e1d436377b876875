//! Terraform's built-in functions, as far as they can be evaluated
//! statically.
//!
//! A function whose arguments are known returns a known value; one with an
//! unknown argument returns unknown (except `coalesce`, `try`, `can` and
//! `lookup`, which can often decide regardless). A function proviso does not
//! implement returns unknown with its name in the reason, never a guess.

use crate::value::Value;
use std::collections::BTreeMap;

/// Applies a pure function to evaluated arguments. `Err` is an evaluation
/// error (as Terraform would report it); unknown arguments are the caller's
/// business for the functions listed in [`LAZY`].
pub fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    if let Some(u) = args.iter().find_map(Value::find_unknown) {
        return Ok(Value::Unknown(u.clone()));
    }
    let s = |i: usize| -> Result<String, String> { arg(args, i).and_then(to_string) };
    let num = |i: usize| -> Result<f64, String> {
        match arg(args, i)? {
            Value::Num(n) => Ok(*n),
            Value::Str(t) => t.parse().map_err(|_| format!("`{t}` is not a number")),
            other => Err(format!("expected a number, got {}", other.type_name())),
        }
    };
    Ok(match name {
        "lower" => Value::str(&s(0)?.to_lowercase()),
        "upper" => Value::str(&s(0)?.to_uppercase()),
        "title" => Value::str(&title(&s(0)?)),
        "trimspace" => Value::str(s(0)?.trim()),
        "trim" => {
            let chars: Vec<char> = s(1)?.chars().collect();
            Value::str(s(0)?.trim_matches(|c| chars.contains(&c)))
        }
        "trimprefix" => {
            let (t, p) = (s(0)?, s(1)?);
            Value::str(t.strip_prefix(p.as_str()).unwrap_or(&t))
        }
        "trimsuffix" => {
            let (t, p) = (s(0)?, s(1)?);
            Value::str(t.strip_suffix(p.as_str()).unwrap_or(&t))
        }
        "replace" => {
            let (t, from, to) = (s(0)?, s(1)?, s(2)?);
            if from.len() > 2 && from.starts_with('/') && from.ends_with('/') {
                let re = regex::Regex::new(from.get(1..from.len() - 1).unwrap_or(""))
                    .map_err(|e| format!("invalid regex in replace: {e}"))?;
                Value::str(&re.replace_all(&t, to.replace("$", "$$").as_str()))
            } else {
                Value::str(&t.replace(&from, &to))
            }
        }
        "format" => Value::str(&format(&s(0)?, args.get(1..).unwrap_or(&[]))?),
        "join" => {
            let sep = s(0)?;
            let mut parts = Vec::new();
            for list in args.get(1..).unwrap_or(&[]) {
                for item in as_list(list)? {
                    parts.push(to_string(item)?);
                }
            }
            Value::str(&parts.join(&sep))
        }
        "split" => Value::List(s(1)?.split(s(0)?.as_str()).map(Value::str).collect()),
        "substr" => {
            let text = s(0)?;
            let chars: Vec<char> = text.chars().collect();
            let off = num(1)? as i64;
            let len = num(2)? as i64;
            let start = if off < 0 {
                (chars.len() as i64 + off).max(0)
            } else {
                off
            } as usize;
            let end = if len < 0 {
                chars.len()
            } else {
                (start + len as usize).min(chars.len())
            };
            Value::str(
                &chars
                    .get(start.min(chars.len())..end.max(start.min(chars.len())))
                    .unwrap_or(&[])
                    .iter()
                    .collect::<String>(),
            )
        }
        "startswith" => Value::Bool(s(0)?.starts_with(s(1)?.as_str())),
        "endswith" => Value::Bool(s(0)?.ends_with(s(1)?.as_str())),
        "strcontains" => Value::Bool(s(0)?.contains(s(1)?.as_str())),
        "tostring" => Value::str(&s(0)?),
        "tonumber" => Value::Num(num(0)?),
        "tobool" => match arg(args, 0)? {
            Value::Bool(b) => Value::Bool(*b),
            Value::Str(t) if t.as_ref() == "true" => Value::Bool(true),
            Value::Str(t) if t.as_ref() == "false" => Value::Bool(false),
            other => return Err(format!("cannot convert {} to bool", other.type_name())),
        },
        "tolist" | "toset" => {
            let mut items = as_list(arg(args, 0)?)?.to_vec();
            if name == "toset" {
                items.dedup();
            }
            Value::List(items)
        }
        "tomap" => match arg(args, 0)? {
            Value::Map(m) => Value::Map(m.clone()),
            other => return Err(format!("cannot convert {} to map", other.type_name())),
        },
        "merge" => {
            let mut out = BTreeMap::new();
            for a in args {
                match a {
                    Value::Map(m) => out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone()))),
                    Value::Null => {}
                    other => return Err(format!("merge takes maps, got {}", other.type_name())),
                }
            }
            Value::Map(out)
        }
        "concat" => {
            let mut out = Vec::new();
            for a in args {
                out.extend(as_list(a)?.iter().cloned());
            }
            Value::List(out)
        }
        "flatten" => {
            fn flat(v: &Value, out: &mut Vec<Value>) {
                match v {
                    Value::List(items) => items.iter().for_each(|i| flat(i, out)),
                    other => out.push(other.clone()),
                }
            }
            let mut out = Vec::new();
            flat(arg(args, 0)?, &mut out);
            Value::List(out)
        }
        "distinct" => {
            let mut out: Vec<Value> = Vec::new();
            for item in as_list(arg(args, 0)?)? {
                if !out.contains(item) {
                    out.push(item.clone());
                }
            }
            Value::List(out)
        }
        "compact" => Value::List(
            as_list(arg(args, 0)?)?
                .iter()
                .filter(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
                .cloned()
                .collect(),
        ),
        "contains" => Value::Bool(as_list(arg(args, 0)?)?.contains(arg(args, 1)?)),
        "length" => Value::Num(match arg(args, 0)? {
            Value::List(l) => l.len(),
            Value::Map(m) => m.len(),
            Value::Str(t) => t.chars().count(),
            other => return Err(format!("length of {}", other.type_name())),
        } as f64),
        "keys" => match arg(args, 0)? {
            Value::Map(m) => Value::List(m.keys().map(|k| Value::str(k)).collect()),
            other => return Err(format!("keys of {}", other.type_name())),
        },
        "values" => match arg(args, 0)? {
            Value::Map(m) => Value::List(m.values().cloned().collect()),
            other => return Err(format!("values of {}", other.type_name())),
        },
        "element" => {
            let list = as_list(arg(args, 0)?)?;
            if list.is_empty() {
                return Err("element of an empty list".into());
            }
            let i = num(1)?.max(0.0) as usize % list.len();
            list.get(i).cloned().unwrap_or(Value::Null)
        }
        "index" => {
            let list = as_list(arg(args, 0)?)?;
            let wanted = arg(args, 1)?;
            match list.iter().position(|v| v == wanted) {
                Some(i) => Value::Num(i as f64),
                None => return Err("item not found in list".into()),
            }
        }
        "zipmap" => {
            let keys = as_list(arg(args, 0)?)?;
            let values = as_list(arg(args, 1)?)?;
            let mut out = BTreeMap::new();
            for (k, v) in keys.iter().zip(values) {
                out.insert(to_string(k)?, v.clone());
            }
            Value::Map(out)
        }
        "min" | "max" => {
            let mut nums = Vec::new();
            for i in 0..args.len() {
                nums.push(num(i)?);
            }
            let f = if name == "min" { f64::min } else { f64::max };
            Value::Num(
                nums.into_iter()
                    .reduce(f)
                    .ok_or("needs at least one number")?,
            )
        }
        "abs" => Value::Num(num(0)?.abs()),
        "ceil" => Value::Num(num(0)?.ceil()),
        "floor" => Value::Num(num(0)?.floor()),
        "jsonencode" => Value::str(&arg(args, 0)?.to_json().to_string()),
        "coalescelist" => args
            .iter()
            .find(|a| matches!(a, Value::List(l) if !l.is_empty()))
            .cloned()
            .unwrap_or(Value::List(Vec::new())),
        other => {
            return Err(format!(
                "function `{other}` is not evaluated statically by proviso"
            ));
        }
    })
}

/// Functions that decide with unknown arguments; evaluated by the caller.
pub const LAZY: [&str; 4] = ["coalesce", "try", "can", "lookup"];

/// `coalesce`: the first argument that is not null or empty. With an unknown
/// before the first known non-empty value, the result is unknown.
pub fn coalesce(args: &[Value]) -> Result<Value, String> {
    for a in args {
        match a {
            Value::Unknown(_) => return Ok(a.clone()),
            Value::Null => {}
            Value::Str(s) if s.is_empty() => {}
            other => return Ok(other.clone()),
        }
    }
    Err("coalesce: no non-null, non-empty argument".into())
}

/// `lookup(map, key, default)`.
pub fn lookup(args: &[Value]) -> Result<Value, String> {
    let map = arg(args, 0)?;
    let key = arg(args, 1)?;
    if let Value::Unknown(_) = key {
        return Ok(key.clone());
    }
    let key = to_string(key)?;
    match map {
        Value::Unknown(_) => Ok(map.clone()),
        Value::Map(m) => match (m.get(&key), args.get(2)) {
            (Some(v), _) => Ok(v.clone()),
            (None, Some(default)) => Ok(default.clone()),
            (None, None) => Err(format!("lookup: no key `{key}` and no default")),
        },
        other => Err(format!("lookup takes a map, got {}", other.type_name())),
    }
}

fn arg(args: &[Value], i: usize) -> Result<&Value, String> {
    args.get(i)
        .ok_or_else(|| format!("missing argument {}", i + 1))
}

fn as_list(v: &Value) -> Result<&[Value], String> {
    match v {
        Value::List(l) => Ok(l),
        other => Err(format!("expected a list, got {}", other.type_name())),
    }
}

/// Terraform's string conversion of a primitive value.
pub fn to_string(v: &Value) -> Result<String, String> {
    match v {
        Value::Str(s) => Ok(s.to_string()),
        Value::Num(_) | Value::Bool(_) => Ok(v.to_string()),
        Value::Null => Err("null value in a string".into()),
        other => Err(format!("cannot use a {} as a string", other.type_name())),
    }
}

fn title(s: &str) -> String {
    let mut out = String::new();
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    out
}

/// Terraform's `format`, for the verbs `%s %d %f %v %q %%`.
fn format(spec: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = spec.chars().peekable();
    let mut next = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // Flags and width are accepted and ignored except for `%%`.
        let mut verb = None;
        for d in chars.by_ref() {
            if d.is_ascii_alphabetic() || d == '%' {
                verb = Some(d);
                break;
            }
        }
        match verb {
            Some('%') => out.push('%'),
            Some(v) => {
                let a = args.get(next).ok_or("format: too few arguments")?;
                next += 1;
                match v {
                    'q' => out.push_str(&format!("{:?}", to_string(a)?)),
                    'd' => match a {
                        Value::Num(n) => out.push_str(&format!("{}", *n as i64)),
                        other => out.push_str(&to_string(other)?),
                    },
                    _ => out.push_str(&to_string(a)?),
                }
            }
            None => return Err("format: a `%` without a verb".into()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_functions() {
        assert_eq!(
            call(
                "format",
                &[Value::str("%s-%d"), Value::str("api"), Value::Num(2.0)]
            )
            .unwrap(),
            Value::str("api-2")
        );
        assert_eq!(
            call("lower", &[Value::str("EastUS")]).unwrap(),
            Value::str("eastus")
        );
        assert_eq!(
            call(
                "replace",
                &[Value::str("a-b"), Value::str("-"), Value::str("_")]
            )
            .unwrap(),
            Value::str("a_b")
        );
    }

    #[test]
    fn unknown_arguments_give_unknown() {
        let u = Value::unknown("x", None);
        assert!(
            call("upper", std::slice::from_ref(&u))
                .unwrap()
                .is_unknown()
        );
        assert!(
            coalesce(&[Value::Null, u, Value::str("b")])
                .unwrap()
                .is_unknown()
        );
        assert_eq!(
            coalesce(&[Value::Null, Value::str(""), Value::str("b")]).unwrap(),
            Value::str("b")
        );
    }
}
