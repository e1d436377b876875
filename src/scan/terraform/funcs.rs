//! Terraform's built-in functions, as far as they can be evaluated
//! statically.
//!
//! Terraform's documentation is the spec, and every function here is held
//! to what Terraform itself prints for the same call
//! (`fixtures/terraform/functions/cases.txt`, `tests/terraform_functions.rs`).
//!
//! The design choice is how unknowns pass through. Like cty, a function whose
//! argument is *wholly* unknown returns unknown; but a known collection with
//! unknown *elements* is handed to the function, and the functions in
//! [`ELEMENT_AWARE`] decide with it as Terraform does (`keys` of a map with an
//! unknown value is known, `length([unknown, 1])` is 2, `merge` keeps its
//! known keys). Every other function returns unknown as soon as an argument
//! contains one anywhere. Proviso's unknowns have no type, so where Terraform
//! would need an unknown's type to decide (`flatten` of an unknown that might
//! be a list) the result stays unknown: never a guess. An error Terraform
//! would raise is an [`EvalError::Fails`], and one that an argument already
//! carries (an unknown that stands for a failure, [`find_failure`]) is
//! passed on even by element-aware functions, so no error is swallowed. A
//! function proviso does not implement is [`EvalError::NotEvaluated`]: its
//! value is unknown, with its name in the reason.

use super::error::{EvalError, find_failure};
use crate::value::Value;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use unicode_segmentation::UnicodeSegmentation as _;

/// Longest string a function builds (`indent`, `format` widths): past it the
/// result is unknown rather than memory without bound.
const MAX_STRING: usize = 1 << 24;
/// Most elements a function builds (`setproduct`).
const MAX_ELEMENTS: usize = 1 << 20;
/// Deepest list nesting `flatten` follows.
const MAX_NESTING: usize = 256;

/// What a call gives: a value, or why it has none.
type R = Result<Value, EvalError>;

/// Functions that take known collections with unknown elements (and decide
/// with them); see the module docs.
pub const ELEMENT_AWARE: &[&str] = &[
    "length",
    "keys",
    "values",
    "concat",
    "merge",
    "lookup",
    "element",
    "zipmap",
    "tolist",
    "tomap",
    "toset",
    "slice",
    "reverse",
    "compact",
    "contains",
    "anytrue",
    "one",
    "chunklist",
    "coalescelist",
    "coalesce",
    "flatten",
    "matchkeys",
    "formatlist",
    "sort",
    "setproduct",
];

/// Every function [`call`] evaluates.
pub const EVALUATED: &[&str] = &[
    "abs",
    "abspath",
    "alltrue",
    "anytrue",
    "base64decode",
    "base64encode",
    "base64sha256",
    "base64sha512",
    "basename",
    "ceil",
    "chomp",
    "chunklist",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "dirname",
    "distinct",
    "element",
    "endswith",
    "flatten",
    "floor",
    "format",
    "formatlist",
    "index",
    "indent",
    "join",
    "jsondecode",
    "jsonencode",
    "keys",
    "length",
    "log",
    "lookup",
    "lower",
    "matchkeys",
    "max",
    "md5",
    "merge",
    "min",
    "nonsensitive",
    "one",
    "parseint",
    "pow",
    "range",
    "regex",
    "regexall",
    "replace",
    "reverse",
    "sensitive",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "sha1",
    "sha256",
    "sha512",
    "signum",
    "slice",
    "sort",
    "split",
    "startswith",
    "strcontains",
    "strrev",
    "substr",
    "sum",
    "title",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "transpose",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "upper",
    "urlencode",
    "values",
    "yamldecode",
    "yamlencode",
    "zipmap",
    "csvdecode",
    "uuidv5",
    "timeadd",
    "timecmp",
    "formatdate",
    "ephemeralasnull",
    "can",
    "try",
];

/// Whether proviso evaluates the function `name` (`try` and `can` are
/// evaluated by the caller).
pub fn is_evaluated(name: &str) -> bool {
    EVALUATED.contains(&name)
}

/// Applies a pure function to evaluated (and expanded) arguments.
pub fn call(name: &str, args: &[Value]) -> R {
    if let Some(u) = args.iter().find_map(find_failure) {
        return Ok(Value::Unknown(u.clone()));
    }
    let lazy = matches!(name, "coalesce" | "lookup");
    if ELEMENT_AWARE.contains(&name) {
        if !lazy
            && let Some(u) = args.iter().find_map(|a| match a {
                Value::Unknown(u) => Some(u),
                _ => None,
            })
        {
            return Ok(Value::Unknown(u.clone()));
        }
    } else if let Some(u) = args.iter().find_map(Value::find_unknown) {
        return Ok(Value::Unknown(u.clone()));
    }
    let a = |i: usize| arg(args, i);
    let s = |i: usize| -> Result<String, String> { arg(args, i).and_then(to_string) };
    let n = |i: usize| -> Result<f64, String> { arg(args, i).and_then(number) };
    let int = |i: usize| -> Result<i64, String> { arg(args, i).and_then(integer) };
    Ok(match name {
        // --- strings
        "lower" => Value::str(&s(0)?.to_lowercase()),
        "upper" => Value::str(&s(0)?.to_uppercase()),
        "title" => Value::str(&title(&s(0)?)),
        "trimspace" => Value::str(s(0)?.trim()),
        "chomp" => Value::str(s(0)?.trim_end_matches(['\r', '\n'])),
        "strrev" => Value::str(&s(0)?.graphemes(true).rev().collect::<String>()),
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
        "startswith" => Value::Bool(s(0)?.starts_with(s(1)?.as_str())),
        "endswith" => Value::Bool(s(0)?.ends_with(s(1)?.as_str())),
        "strcontains" => Value::Bool(s(0)?.contains(s(1)?.as_str())),
        "indent" => {
            let (width, text) = (int(0)?, s(1)?);
            let width = usize::try_from(width).unwrap_or(0);
            let lines = text.matches('\n').count();
            if width.saturating_mul(lines).saturating_add(text.len()) > MAX_STRING {
                return Err(EvalError::Unknown(
                    "`indent` would build a string too long for proviso".into(),
                ));
            }
            Value::str(&text.replace('\n', &format!("\n{}", " ".repeat(width))))
        }
        "replace" => {
            let (t, from, to) = (s(0)?, s(1)?, s(2)?);
            // `/…/` (at least two characters) is a regular expression.
            if let Some(pattern) = from.strip_prefix('/').and_then(|f| f.strip_suffix('/')) {
                let re = regex_of(pattern)?;
                Value::str(&re.replace_all(&t, to.as_str()))
            } else {
                Value::str(&t.replace(&from, &to))
            }
        }
        "substr" => Value::str(&substr(&s(0)?, int(1)?, int(2)?)),
        "format" => Value::str(&format(&s(0)?, after_first(args))?),
        "formatlist" => formatlist(&s(0)?, after_first(args))?,
        "join" => {
            let sep = s(0)?;
            if args.len() < 2 {
                return Err("at least one list is required".into());
            }
            let mut parts = Vec::new();
            for list in after_first(args) {
                for (i, item) in as_list(list)?.iter().enumerate() {
                    if matches!(item, Value::Null) {
                        return Err(format!(
                            "element {i} is null; cannot concatenate null values"
                        )
                        .into());
                    }
                    parts.push(to_string(item)?);
                }
            }
            Value::str(&parts.join(&sep))
        }
        "split" => {
            let (sep, text) = (s(0)?, s(1)?);
            if sep.is_empty() {
                Value::List(text.chars().map(|c| Value::str(&c.to_string())).collect())
            } else {
                Value::List(text.split(sep.as_str()).map(Value::str).collect())
            }
        }
        "regex" => {
            let re = regex_of(&s(0)?)?;
            let text = s(1)?;
            match re.captures(&text) {
                Some(c) => captures(&re, &c)?,
                None => return Err("pattern did not match any part of the given string".into()),
            }
        }
        "regexall" => {
            let re = regex_of(&s(0)?)?;
            let text = s(1)?;
            let mut out = Vec::new();
            for c in re.captures_iter(&text) {
                out.push(captures(&re, &c)?);
            }
            Value::List(out)
        }
        "urlencode" => Value::str(&urlencode(&s(0)?)),
        "base64encode" => {
            use base64::Engine as _;
            Value::str(&base64::engine::general_purpose::STANDARD.encode(s(0)?))
        }
        "base64decode" => {
            use base64::Engine as _;
            let text = s(0)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&text)
                .map_err(|_| format!("failed to decode base64 data `{text}`"))?;
            Value::str(&String::from_utf8(bytes).map_err(|_| {
                "the result of decoding the provided string is not valid UTF-8".to_string()
            })?)
        }
        "md5" => Value::str(&hex(&<md5::Md5 as md5::Digest>::digest(s(0)?))),
        "sha1" => Value::str(&hex(&<sha1::Sha1 as sha1::Digest>::digest(s(0)?))),
        "sha256" => Value::str(&hex(&<sha2::Sha256 as sha2::Digest>::digest(s(0)?))),
        "sha512" => Value::str(&hex(&<sha2::Sha512 as sha2::Digest>::digest(s(0)?))),
        "base64sha256" | "base64sha512" => {
            use base64::Engine as _;
            let text = s(0)?;
            let digest: Vec<u8> = if name == "base64sha256" {
                <sha2::Sha256 as sha2::Digest>::digest(text).to_vec()
            } else {
                <sha2::Sha512 as sha2::Digest>::digest(text).to_vec()
            };
            Value::str(&base64::engine::general_purpose::STANDARD.encode(digest))
        }
        "abspath" => {
            let p = s(0)?;
            if !p.starts_with('/') {
                return Err(EvalError::Unknown(format!(
                    "`abspath(\"{p}\")` depends on the directory Terraform runs in"
                )));
            }
            Value::str(&clean_path(&p))
        }
        "basename" => Value::str(&basename(&s(0)?)),
        "dirname" => Value::str(&dirname(&s(0)?)),
        // --- conversions
        "tostring" => match a(0)? {
            Value::Null => Value::Null,
            v @ (Value::Str(_) | Value::Num(_) | Value::Bool(_)) => Value::str(&to_string(v)?),
            other => return Err(format!("cannot convert {} to string", other.type_name()).into()),
        },
        "tonumber" => match a(0)? {
            Value::Null => Value::Null,
            Value::Num(x) => Value::Num(*x),
            Value::Str(t) => Value::Num(parse_number(t).ok_or_else(|| {
                format!("cannot convert `{t}` to number; given string must be a decimal representation of a number")
            })?),
            other => return Err(format!("cannot convert {} to number", other.type_name()).into()),
        },
        "tobool" => match a(0)? {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(*b),
            Value::Str(t) if t.as_ref() == "true" => Value::Bool(true),
            Value::Str(t) if t.as_ref() == "false" => Value::Bool(false),
            Value::Str(t) => {
                return Err(format!(
                    "cannot convert `{t}` to bool; only the strings \"true\" or \"false\" are allowed"
                )
                .into());
            }
            other => return Err(format!("cannot convert {} to bool", other.type_name()).into()),
        },
        "tolist" => match a(0)? {
            Value::Null => Value::Null,
            Value::List(items) => Value::List(unify(items.clone())?),
            other => return Err(format!("cannot convert {} to list", other.type_name()).into()),
        },
        "toset" => match a(0)? {
            Value::Null => Value::Null,
            Value::List(items) => to_set(items.clone())?,
            other => return Err(format!("cannot convert {} to set", other.type_name()).into()),
        },
        "tomap" => match a(0)? {
            Value::Null => Value::Null,
            Value::Map(m) => {
                let keys: Vec<String> = m.keys().cloned().collect();
                let values = unify(m.values().cloned().collect())?;
                Value::Map(keys.into_iter().zip(values).collect())
            }
            other => return Err(format!("cannot convert {} to map", other.type_name()).into()),
        },
        "sensitive" | "nonsensitive" | "ephemeralasnull" => a(0)?.clone(),
        "csvdecode" => csv_decode(&s(0)?)?,
        "uuidv5" => Value::str(&uuidv5(&s(0)?, &s(1)?)?),
        "timeadd" => {
            let t = Time::parse(&s(0)?)?;
            let d = duration(&s(1)?)?;
            Value::str(&t.add(d).to_string())
        }
        "formatdate" => Value::str(&formatdate(&s(0)?, &Time::parse(&s(1)?)?)?),
        "timecmp" => {
            let (x, y) = (Time::parse(&s(0)?)?, Time::parse(&s(1)?)?);
            Value::Num(match x.instant().cmp(&y.instant()) {
                std::cmp::Ordering::Less => -1.0,
                std::cmp::Ordering::Equal => 0.0,
                std::cmp::Ordering::Greater => 1.0,
            })
        }
        "jsonencode" => Value::str(&json_encode(a(0)?)),
        "jsondecode" => {
            let text = s(0)?;
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("invalid JSON: {e}"))?;
            super::from_json(&v)
        }
        "yamldecode" => yaml_decode(&s(0)?)?,
        "yamlencode" => {
            let mut out = String::new();
            yaml_top(a(0)?, &mut out)?;
            Value::str(&out)
        }
        // --- numbers
        "abs" => Value::Num(n(0)?.abs()),
        "ceil" => Value::Num(n(0)?.ceil()),
        "floor" => Value::Num(n(0)?.floor()),
        "log" => Value::Num(n(0)?.ln() / n(1)?.ln()),
        "pow" => Value::Num(n(0)?.powf(n(1)?)),
        "signum" => Value::Num(int(0)?.signum() as f64),
        "min" | "max" => {
            if args.is_empty() {
                return Err("must pass at least one number".into());
            }
            let mut nums = Vec::new();
            for i in 0..args.len() {
                nums.push(n(i)?);
            }
            let f = if name == "min" { f64::min } else { f64::max };
            Value::Num(nums.into_iter().reduce(f).unwrap_or(0.0))
        }
        "sum" => {
            let list = as_list(a(0)?)?;
            if list.is_empty() {
                return Err("cannot sum an empty list".into());
            }
            let mut total = 0.0;
            for v in list {
                total += number(v)?;
            }
            Value::Num(total)
        }
        "parseint" => parseint(&s(0)?, int(1)?)?,
        "range" => range(args)?,
        // --- collections
        "length" => Value::Num(match a(0)? {
            Value::List(l) => l.len(),
            Value::Map(m) => m.len(),
            Value::Str(t) => t.graphemes(true).count(),
            Value::Null => return Err("argument must not be null".into()),
            other => return Err(format!("cannot take the length of a {}", other.type_name()).into()),
        } as f64),
        "keys" => match a(0)? {
            Value::Map(m) => Value::List(m.keys().map(|k| Value::str(k)).collect()),
            other => return Err(format!("keys takes a map, not a {}", other.type_name()).into()),
        },
        "values" => match a(0)? {
            Value::Map(m) => Value::List(m.values().cloned().collect()),
            other => return Err(format!("values takes a map, not a {}", other.type_name()).into()),
        },
        "lookup" => lookup(args)?,
        "coalesce" => coalesce(args)?,
        "merge" => {
            let mut out = BTreeMap::new();
            for a in args {
                match a {
                    Value::Map(m) => out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone()))),
                    Value::Null => {}
                    other => {
                        return Err(format!(
                            "arguments must be maps or objects, got {}",
                            other.type_name()
                        )
                        .into());
                    }
                }
            }
            Value::Map(out)
        }
        "concat" => {
            if args.is_empty() {
                return Err("at least one argument is required".into());
            }
            let mut out = Vec::new();
            for a in args {
                out.extend(as_list(a)?.iter().cloned());
            }
            Value::List(out)
        }
        "flatten" => {
            let mut out = Vec::new();
            flatten(as_list(a(0)?)?, &mut out, 0)?;
            Value::List(out)
        }
        "distinct" => {
            let mut out: Vec<Value> = Vec::new();
            for item in unify(as_list(a(0)?)?.to_vec())? {
                if !out.contains(&item) {
                    out.push(item);
                }
            }
            Value::List(out)
        }
        "compact" => {
            let list = as_list(a(0)?)?;
            if let Some(u) = list.iter().find_map(Value::find_unknown) {
                return Ok(Value::Unknown(u.clone()));
            }
            let mut out = Vec::new();
            for v in list {
                match v {
                    Value::Null => {}
                    other => {
                        let t = to_string(other)?;
                        if !t.is_empty() {
                            out.push(Value::str(&t));
                        }
                    }
                }
            }
            Value::List(out)
        }
        "contains" => contains(as_list(a(0)?)?, a(1)?),
        "alltrue" | "anytrue" => {
            let any = name == "anytrue";
            let mut unknown = None;
            for v in as_list(a(0)?)? {
                let b = match v {
                    Value::Unknown(u) => {
                        unknown.get_or_insert_with(|| u.clone());
                        continue;
                    }
                    Value::Null => false,
                    Value::Bool(b) => *b,
                    Value::Str(t) if t.as_ref() == "true" => true,
                    Value::Str(t) if t.as_ref() == "false" => false,
                    other => return Err(format!("cannot convert {} to bool", other.type_name()).into()),
                };
                if b == any {
                    return Ok(Value::Bool(any));
                }
            }
            match unknown {
                Some(u) => Value::Unknown(u),
                None => Value::Bool(!any),
            }
        }
        "element" => {
            let list = as_list(a(0)?)?;
            if list.is_empty() {
                return Err("cannot use element function with an empty list".into());
            }
            let i = int(1)?;
            if i < 0 {
                return Err("cannot use element function with a negative index".into());
            }
            let len = list.len() as u64;
            // INVARIANT: the list is not empty (checked above), so an index
            // modulo its length is in it.
            #[expect(clippy::indexing_slicing, reason = "an index modulo the length")]
            let item = list[(i as u64 % len) as usize].clone();
            item
        }
        "index" => {
            let list = as_list(a(0)?)?;
            let wanted = a(1)?;
            match list.iter().position(|v| v == wanted) {
                Some(i) => Value::Num(i as f64),
                None => return Err("item not found".into()),
            }
        }
        "zipmap" => {
            let keys = as_list(a(0)?)?;
            let values = as_list(a(1)?)?;
            if let Some(u) = keys.iter().find_map(Value::find_unknown) {
                return Ok(Value::Unknown(u.clone()));
            }
            if keys.len() != values.len() {
                return Err(format!(
                    "number of keys ({}) does not match number of values ({})",
                    keys.len(),
                    values.len()
                )
                .into());
            }
            let mut out = BTreeMap::new();
            for (k, v) in keys.iter().zip(values) {
                out.insert(to_string(k)?, v.clone());
            }
            Value::Map(out)
        }
        "slice" => {
            let list = as_list(a(0)?)?;
            let (start, end) = (int(1)?, int(2)?);
            if start < 0 {
                return Err("start index must not be less than zero".into());
            }
            if end > list.len() as i64 {
                return Err("end index must not be greater than the length of the list".into());
            }
            if start > end {
                return Err("start index must not be greater than end index".into());
            }
            // INVARIANT: 0 <= start <= end <= the list's length (checked above).
            #[expect(clippy::indexing_slicing, reason = "bounds checked above")]
            let part = list[start as usize..end as usize].to_vec();
            Value::List(part)
        }
        "reverse" => Value::List(as_list(a(0)?)?.iter().rev().cloned().collect()),
        "sort" => {
            let list = as_list(a(0)?)?;
            // The length is known, where each element lands is not.
            if let Some(u) = list.iter().find_map(Value::find_unknown) {
                return Ok(Value::List(vec![Value::Unknown(u.clone()); list.len()]));
            }
            let mut items = Vec::new();
            for v in as_list(a(0)?)? {
                if matches!(v, Value::Null) {
                    return Err("given list element is null".into());
                }
                items.push(to_string(v)?);
            }
            items.sort();
            Value::List(items.iter().map(|t| Value::str(t)).collect())
        }
        "one" => match a(0)? {
            Value::Null => return Err("argument must not be null".into()),
            v => match as_list(v)? {
                [] => Value::Null,
                [only] => only.clone(),
                _ => {
                    return Err(
                        "must be a list, set, or tuple value with either zero or one elements"
                            .into(),
                    );
                }
            },
        },
        "chunklist" => {
            let list = unify(as_list(a(0)?)?.to_vec())?;
            let size = int(1)?;
            if size < 0 {
                return Err("the size argument must be positive".into());
            }
            if size == 0 {
                Value::List(vec![Value::List(list.to_vec())])
            } else {
                Value::List(
                    list.chunks(size as usize)
                        .map(|c| Value::List(c.to_vec()))
                        .collect(),
                )
            }
        }
        "coalescelist" => {
            for a in args {
                match a {
                    Value::Unknown(_) => return Ok(a.clone()),
                    Value::List(l) if !l.is_empty() => return Ok(a.clone()),
                    Value::List(_) | Value::Null => {}
                    other => {
                        return Err(format!("coalescelist takes lists, not a {}", other.type_name())
                            .into());
                    }
                }
            }
            return Err("no non-null arguments".into());
        }
        "matchkeys" => {
            let (values, keys, search) = (as_list(a(0)?)?, as_list(a(1)?)?, as_list(a(2)?)?);
            if let Some(u) = keys.iter().chain(search).find_map(Value::find_unknown) {
                return Ok(Value::Unknown(u.clone()));
            }
            if values.len() != keys.len() {
                return Err("length of keys and values should be equal".into());
            }
            Value::List(
                values
                    .iter()
                    .zip(keys)
                    .filter(|(_, k)| search.contains(k))
                    .map(|(v, _)| v.clone())
                    .collect(),
            )
        }
        "transpose" => {
            let Value::Map(m) = a(0)? else {
                return Err("transpose takes a map of lists of strings".into());
            };
            let mut out: BTreeMap<String, Value> = BTreeMap::new();
            for (k, list) in m {
                for v in as_list(list)? {
                    let entry = out
                        .entry(to_string(v)?)
                        .or_insert_with(|| Value::List(Vec::new()));
                    if let Value::List(items) = entry {
                        items.push(Value::str(k));
                    }
                }
            }
            Value::Map(out)
        }
        "setunion" | "setintersection" | "setsubtract" => {
            if args.is_empty() {
                return Err("at least one set is required".into());
            }
            let mut sets = Vec::new();
            for a in args {
                match to_set(as_list(a)?.to_vec())? {
                    Value::List(items) => sets.push(items),
                    other => return Ok(other),
                }
            }
            let mut sets = sets.into_iter();
            let Some(mut out) = sets.next() else {
                return Err("at least one set is required".into());
            };
            for set in sets {
                match name {
                    "setunion" => out.extend(set),
                    "setintersection" => out.retain(|v| set.contains(v)),
                    _ => out.retain(|v| !set.contains(v)),
                }
            }
            to_set(out)?
        }
        "setproduct" => {
            if args.len() < 2 {
                return Err("at least two arguments are required".into());
            }
            let mut out: Vec<Vec<Value>> = vec![Vec::new()];
            for a in args {
                let list = as_list(a)?;
                if out.len().saturating_mul(list.len()) > MAX_ELEMENTS {
                    return Err(EvalError::Unknown(
                        "`setproduct` would build too many elements".into(),
                    ));
                }
                out = out
                    .iter()
                    .flat_map(|prefix| {
                        list.iter().map(move |v| {
                            let mut p = prefix.clone();
                            p.push(v.clone());
                            p
                        })
                    })
                    .collect();
            }
            Value::List(out.into_iter().map(Value::List).collect())
        }
        // --- networks
        "cidrsubnet" => {
            let net = Net::parse(&s(0)?)?;
            Value::str(&net.subnet(int(1)?, int(2)?)?.to_string())
        }
        "cidrsubnets" => {
            let net = Net::parse(&s(0)?)?;
            let mut out = Vec::new();
            let mut current: Option<Net> = None;
            for i in 1..args.len() {
                let newbits = int(i)?;
                let len = i64::from(net.len) + newbits;
                if newbits < 0 || len > i64::from(net.bits()) {
                    return Err(format!(
                        "would extend prefix to {len} bits, which is too long for an IPv{} address",
                        if net.v6 { 6 } else { 4 }
                    )
                    .into());
                }
                let next = match &current {
                    None => net.subnet(newbits, 0)?,
                    Some(c) => match c.next(len as u8) {
                        Some(n) if net.contains(&n) => n,
                        _ => {
                            return Err(format!(
                                "not enough remaining address space for a subnet with a prefix of {len} bits after {c}"
                            )
                            .into());
                        }
                    },
                };
                out.push(Value::str(&next.to_string()));
                current = Some(next);
            }
            Value::List(out)
        }
        "cidrhost" => {
            let net = Net::parse(&s(0)?)?;
            Value::str(&net.host(int(1)?)?)
        }
        "cidrnetmask" => {
            let text = s(0)?;
            let net = Net::parse(&text)?;
            if net.v6 {
                return Err(format!("IPv6 addresses cannot have a netmask: {text}").into());
            }
            Value::str(&Ipv4Addr::from(net.mask() as u32).to_string())
        }
        other => {
            return Err(EvalError::NotEvaluated {
                function: other.to_string(),
            });
        }
    })
}

/// `coalesce`: the first argument that is not null or empty. With an unknown
/// before the first known non-empty value, the result is unknown. Like
/// Terraform, arguments of mixed primitive types make the result a string
/// (`coalesce(1, "a")` is `"1"`).
fn coalesce(args: &[Value]) -> R {
    let has = |f: fn(&Value) -> bool| args.iter().any(f);
    let strings = has(|v| matches!(v, Value::Str(_)));
    let numbers = has(|v| matches!(v, Value::Num(_)));
    let bools = has(|v| matches!(v, Value::Bool(_)));
    if numbers && bools && !strings {
        return Err("all arguments must have the same type".into());
    }
    for a in args {
        match a {
            Value::Unknown(_) => return Ok(a.clone()),
            Value::Null => {}
            Value::Str(s) if s.is_empty() => {}
            v @ (Value::Num(_) | Value::Bool(_)) if strings => {
                return Ok(Value::str(&v.to_string()));
            }
            other => return Ok(other.clone()),
        }
    }
    Err("no non-null, non-empty-string arguments".into())
}

/// `lookup(map, key, default)`: known as soon as the key is.
fn lookup(args: &[Value]) -> R {
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
            (None, None) => Err(format!("the given object has no attribute `{key}`").into()),
        },
        other => Err(format!("lookup takes a map, got {}", other.type_name()).into()),
    }
}

/// `contains`, as cty decides it: a known match wins over unknown elements.
fn contains(list: &[Value], wanted: &Value) -> Value {
    if list.is_empty() && !wanted.is_unknown() {
        return Value::Bool(false);
    }
    if let Value::Unknown(u) = wanted {
        return Value::Unknown(u.clone());
    }
    let mut unknown = None;
    for v in list {
        if let Some(u) = v.find_unknown().or_else(|| wanted.find_unknown()) {
            unknown.get_or_insert_with(|| u.clone());
            continue;
        }
        if v == wanted {
            return Value::Bool(true);
        }
    }
    match unknown {
        Some(u) => Value::Unknown(u),
        None => Value::Bool(false),
    }
}

fn flatten(list: &[Value], out: &mut Vec<Value>, depth: usize) -> Result<(), EvalError> {
    if depth > MAX_NESTING {
        return Err(EvalError::Unknown(
            "`flatten` of lists nested too deeply".into(),
        ));
    }
    for v in list {
        match v {
            Value::List(items) => flatten(items, out, depth + 1)?,
            // It might be a list, to be flattened: proviso cannot tell.
            Value::Unknown(u) => {
                return Err(EvalError::Unknown(format!(
                    "`flatten` of a list with an unknown element ({})",
                    u.reason
                )));
            }
            other => out.push(other.clone()),
        }
    }
    Ok(())
}

/// Terraform's conversion of a sequence to one element type: primitives of
/// mixed types become strings (`tolist(["a", 1])` is `["a", "1"]`); a
/// primitive beside a collection, or a list beside a map, cannot be
/// converted (Terraform rejects `tolist([[1], "a"])`).
fn unify(items: Vec<Value>) -> Result<Vec<Value>, String> {
    let mut kinds = items
        .iter()
        .filter(|v| !matches!(v, Value::Null | Value::Unknown(_)))
        .map(|v| match v {
            Value::Str(_) => 0,
            Value::Num(_) => 1,
            Value::Bool(_) => 2,
            Value::List(_) => 3,
            _ => 4,
        })
        .collect::<Vec<u8>>();
    kinds.sort_unstable();
    kinds.dedup();
    let collections = kinds.iter().filter(|k| **k >= 3).count();
    if collections > 0 && kinds.len() > 1 {
        return Err("cannot convert to a collection of any single type".into());
    }
    Ok(if kinds.len() > 1 {
        items
            .into_iter()
            .map(|v| match &v {
                Value::Num(_) | Value::Bool(_) => Value::str(&v.to_string()),
                _ => v,
            })
            .collect()
    } else {
        items
    })
}

/// A set as Terraform orders it: no duplicates; strings in byte order,
/// numbers ascending. A set with an unknown element is unknown (its size is).
fn to_set(items: Vec<Value>) -> R {
    if let Some(u) = items.iter().find_map(Value::find_unknown) {
        return Ok(Value::Unknown(u.clone()));
    }
    let mut out: Vec<Value> = Vec::new();
    for v in unify(items)? {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    if out.iter().all(|v| matches!(v, Value::Str(_))) {
        out.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    } else if out.iter().all(|v| matches!(v, Value::Num(_))) {
        out.sort_by(|a, b| match (a, b) {
            (Value::Num(x), Value::Num(y)) => x.total_cmp(y),
            _ => std::cmp::Ordering::Equal,
        });
    } else if out.iter().all(|v| matches!(v, Value::Bool(_))) {
        out.sort_by_key(|v| matches!(v, Value::Bool(true)));
    }
    Ok(Value::List(out))
}

/// The arguments after the first (none when there is at most one).
fn after_first(args: &[Value]) -> &[Value] {
    args.get(1..).unwrap_or_default()
}

fn arg(args: &[Value], i: usize) -> Result<&Value, String> {
    args.get(i)
        .ok_or_else(|| format!("missing argument {}", i + 1))
}

fn as_list(v: &Value) -> Result<&[Value], String> {
    match v {
        Value::List(l) => Ok(l),
        Value::Null => Err("argument must not be null".into()),
        other => Err(format!("expected a list, got {}", other.type_name())),
    }
}

/// A decimal number as Terraform reads one from a string (no spaces, no
/// `inf`/`NaN`).
fn parse_number(t: &str) -> Option<f64> {
    let ok = !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if ok { t.parse().ok() } else { None }
}

fn number(v: &Value) -> Result<f64, String> {
    match v {
        Value::Num(n) => Ok(*n),
        Value::Str(t) => parse_number(t).ok_or_else(|| format!("`{t}` is not a number")),
        Value::Null => Err("argument must not be null".into()),
        other => Err(format!("expected a number, got {}", other.type_name())),
    }
}

fn integer(v: &Value) -> Result<i64, String> {
    let n = number(v)?;
    if n.fract() != 0.0 || !(-9.2e18..=9.2e18).contains(&n) {
        return Err("value must be a whole number".into());
    }
    Ok(n as i64)
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

/// Go's `strings.Title`: the first letter of each word upper-cased, where
/// anything but letters, digits and `_` separates words.
fn title(s: &str) -> String {
    let mut out = String::new();
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            !c.is_alphanumeric() && c.is_whitespace()
        };
    }
    out
}

/// `substr`, counting grapheme clusters (what a reader sees as one
/// character) as Terraform does.
fn substr(text: &str, offset: i64, length: i64) -> String {
    let chars: Vec<&str> = text.graphemes(true).collect();
    let len = chars.len() as i64;
    let start = if offset < 0 {
        (len + offset).max(0)
    } else {
        offset.min(len)
    };
    let end = if length < 0 {
        len
    } else {
        start.saturating_add(length).min(len)
    };
    // INVARIANT: 0 <= start <= len and start <= end.max(start) <= len.
    #[expect(clippy::indexing_slicing, reason = "both ends clamped to 0..=len")]
    let part = chars[start as usize..end.max(start) as usize].concat();
    part
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Go's `url.QueryEscape`.
fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's `filepath.Clean` (Unix).
fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `filepath.Base`.
fn basename(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

/// Go's `filepath.Dir`.
fn dirname(p: &str) -> String {
    match p.rfind('/') {
        // INVARIANT: `i` is the offset of an ASCII `/`, so `..=i` ends on a
        // character boundary.
        Some(i) => clean_path(&p[..=i]),
        None => ".".into(),
    }
}

/// Compiles a pattern of Go's RE2 syntax. Two differences from Rust's
/// `regex` are translated first: RE2's `\\Q…\\E` literal spans, and its
/// Perl classes and word boundaries (`\\d \\w \\s \\b` and negations), which
/// are ASCII-only in RE2 and Unicode-aware in `regex`. Where `regex` would
/// still reject what RE2 accepts (`\\C`, a program over its size limit) the
/// call is unknown, not a claimed Terraform error.
fn regex_of(pattern: &str) -> Result<regex::Regex, EvalError> {
    let cs: Vec<char> = pattern.chars().collect();
    let at = |i: usize| cs.get(i).copied();
    let mut re = String::new();
    let mut i = 0;
    // Inside `[…]`, and whether the class has no member yet (a `]` there
    // is literal).
    let mut class = false;
    let mut class_start = false;
    while let Some(c) = at(i) {
        i += 1;
        match c {
            '\\' => match at(i) {
                Some('Q') => {
                    i += 1;
                    let mut lit = String::new();
                    while let Some(d) = at(i) {
                        if d == '\\' && at(i + 1) == Some('E') {
                            i += 2;
                            break;
                        }
                        lit.push(d);
                        i += 1;
                    }
                    re.push_str(&regex::escape(&lit));
                    class_start = false;
                    continue;
                }
                Some(d) => {
                    i += 1;
                    let ascii = match (class, d) {
                        (false, 'd') => Some("[0-9]"),
                        (false, 'D') => Some("[^0-9]"),
                        (false, 'w') => Some("[0-9A-Za-z_]"),
                        (false, 'W') => Some("[^0-9A-Za-z_]"),
                        (false, 's') => Some("[\\t\\n\\f\\r ]"),
                        (false, 'S') => Some("[^\\t\\n\\f\\r ]"),
                        (false, 'b') => Some("(?-u:\\b)"),
                        (false, 'B') => Some("(?-u:\\B)"),
                        (true, 'd') => Some("0-9"),
                        (true, 'w') => Some("0-9A-Za-z_"),
                        (true, 's') => Some("\\t\\n\\f\\r "),
                        (true, 'D') => Some("[:^digit:]"),
                        (true, 'W') => Some("[:^word:]"),
                        (true, 'S') => Some("[:^space:]"),
                        _ => None,
                    };
                    match ascii {
                        Some(a) => re.push_str(a),
                        None => {
                            re.push(c);
                            re.push(d);
                        }
                    }
                }
                None => re.push(c),
            },
            '[' if !class => {
                class = true;
                class_start = true;
                re.push(c);
                if at(i) == Some('^') {
                    i += 1;
                    re.push('^');
                }
                continue;
            }
            '[' if at(i) == Some(':') => {
                // A POSIX class `[:alpha:]`, copied whole.
                re.push(c);
                while let Some(d) = at(i) {
                    i += 1;
                    re.push(d);
                    if d == ']' {
                        break;
                    }
                }
            }
            ']' if class && !class_start => {
                class = false;
                re.push(c);
            }
            _ => re.push(c),
        }
        class_start = false;
    }
    regex::Regex::new(&re).map_err(|e| match e {
        regex::Error::Syntax(_) if !pattern.contains("\\C") => {
            EvalError::Fails(format!("invalid regexp pattern: {e}"))
        }
        _ => EvalError::Unknown(format!(
            "the pattern `{pattern}` is not compiled by proviso's regex engine"
        )),
    })
}

/// A match as Terraform returns it: the matched text without groups, a list
/// of the groups, or a map of the named groups.
fn captures(re: &regex::Regex, c: &regex::Captures<'_>) -> Result<Value, String> {
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    let group = |i: usize| {
        c.get(i)
            .map(|m| Value::str(m.as_str()))
            .unwrap_or(Value::Null)
    };
    if names.is_empty() {
        // INVARIANT: group 0 is the whole match, which every match has.
        let whole = Value::str(&c[0]);
        return Ok(whole);
    }
    let named = names.iter().filter(|n| n.is_some()).count();
    if named == 0 {
        Ok(Value::List((1..=names.len()).map(group).collect()))
    } else if named == names.len() {
        Ok(Value::Map(
            names
                .iter()
                .enumerate()
                .filter_map(|(i, n)| n.map(|n| (n.to_string(), group(i + 1))))
                .collect(),
        ))
    } else {
        Err("invalid regexp pattern: cannot mix both named and unnamed capture groups".into())
    }
}

fn parseint(text: &str, base: i64) -> R {
    if !(2..=62).contains(&base) {
        return Err("base must be a whole number between 2 and 62 inclusive".into());
    }
    let fail = || format!("cannot parse `{text}` as a base {base} integer");
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() {
        return Err(fail().into());
    }
    let mut acc: i128 = 0;
    for c in digits.chars() {
        let d = match c {
            '0'..='9' => c as i64 - '0' as i64,
            'a'..='z' => c as i64 - 'a' as i64 + 10,
            'A'..='Z' if base <= 36 => c as i64 - 'A' as i64 + 10,
            'A'..='Z' => c as i64 - 'A' as i64 + 36,
            _ => return Err(fail().into()),
        };
        if d >= base {
            return Err(fail().into());
        }
        acc = acc
            .checked_mul(i128::from(base))
            .and_then(|a| a.checked_add(i128::from(d)))
            .ok_or_else(|| EvalError::Unknown(format!("`{text}` is too large for proviso")))?;
    }
    // Past 2^53 a 64-bit float would round the integer Terraform keeps exact.
    if acc > 1i128 << 53 {
        return Err(EvalError::Unknown(format!(
            "`{text}` is too large for proviso's numbers to hold exactly"
        )));
    }
    Ok(Value::Num(if neg { -(acc as f64) } else { acc as f64 }))
}

fn range(args: &[Value]) -> R {
    let nums: Vec<f64> = args.iter().map(number).collect::<Result<_, _>>()?;
    let (start, end, step) = match nums.as_slice() {
        [end] => (0.0, *end, 1.0),
        [start, end] => (*start, *end, if start > end { -1.0 } else { 1.0 }),
        [start, end, step] => (*start, *end, *step),
        _ => return Err("range takes one, two or three numbers".into()),
    };
    if step < 0.0 && end > start {
        return Err("end must be less than start when step is negative".into());
    }
    if step > 0.0 && end < start {
        return Err("end must be greater than start when step is positive".into());
    }
    let mut out = Vec::new();
    loop {
        let v = start + step * out.len() as f64;
        if (step >= 0.0 && v >= end) || (step < 0.0 && v <= end) {
            break;
        }
        if out.len() >= 1024 || step == 0.0 {
            return Err("more than 1024 values were generated; either decrease the difference between start and end or use a smaller step".into());
        }
        out.push(Value::Num(v));
    }
    Ok(Value::List(out))
}

/// `jsonencode` as Terraform writes it: sorted keys, no spaces, whole
/// numbers without a fraction, and Go's escaping of `<`, `>`, `&`.
pub fn json_encode(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null | Value::Unknown(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Num(_) => out.push_str(&v.to_string()),
        Value::Str(s) => json_string(s, out),
        Value::Date(_) | Value::Cidr(_) => json_string(&v.to_string(), out),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(k, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Plain YAML scalars that YAML 1.1 (which Terraform's `yamldecode`
/// follows) reads as booleans, where proviso's YAML 1.2 parser reads text.
const YAML11_BOOLS: [&str; 18] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF", "=", "<<",
];

fn yaml_decode(text: &str) -> R {
    let has_content = text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && t != "---" && t != "..."
    });
    if !has_content {
        return Err("missing start of document".into());
    }
    let doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    from_yaml(&doc, 0)
}

fn from_yaml(v: &serde_yaml_ng::Value, depth: usize) -> R {
    use serde_yaml_ng::Value as Y;
    if depth > MAX_NESTING {
        return Err(EvalError::Unknown("YAML nested too deeply".into()));
    }
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => Value::Num(n.as_f64().unwrap_or(0.0)),
        Y::String(s) if YAML11_BOOLS.contains(&s.as_str()) => {
            return Err(EvalError::Unknown(format!(
                "`yamldecode` reads a plain `{s}` as YAML 1.1 does (a bool) and a quoted one as text; proviso cannot tell them apart"
            )));
        }
        Y::String(s) => Value::str(s),
        Y::Sequence(items) => Value::List(
            items
                .iter()
                .map(|i| from_yaml(i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(m) => {
            let mut out = BTreeMap::new();
            for (k, item) in m {
                let key = match from_yaml(k, depth + 1)? {
                    Value::Str(s) => s.to_string(),
                    other @ (Value::Num(_) | Value::Bool(_)) => other.to_string(),
                    _ => return Err("YAML mapping keys must be strings".into()),
                };
                out.insert(key, from_yaml(item, depth + 1)?);
            }
            Value::Map(out)
        }
        Y::Tagged(_) => {
            return Err(EvalError::Unknown(
                "`yamldecode` of a tagged YAML value is not evaluated by proviso".into(),
            ));
        }
    })
}

/// `csvdecode`: RFC 4180 as Go's `encoding/csv` reads it; the first row
/// names the fields of every later row.
fn csv_decode(text: &str) -> R {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut line = 1;
    let mut started = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    quoted = false;
                    if !matches!(chars.peek(), None | Some(',') | Some('\n') | Some('\r')) {
                        return Err(format!(
                            "parse error on line {line}: extraneous or missing \" in quoted-field"
                        )
                        .into());
                    }
                }
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                started = true;
            }
            '"' => {
                return Err(
                    format!("parse error on line {line}: bare \" in non-quoted-field").into(),
                );
            }
            ',' => {
                row.push(std::mem::take(&mut field));
                started = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                line += 1;
                if started || !field.is_empty() {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                started = false;
            }
            _ => {
                field.push(c);
                started = true;
            }
        }
        if rows.len() > MAX_ELEMENTS {
            return Err(EvalError::Unknown("`csvdecode` of too many rows".into()));
        }
    }
    if quoted {
        return Err(format!(
            "parse error on line {line}: extraneous or missing \" in quoted-field"
        )
        .into());
    }
    if started || !field.is_empty() {
        row.push(field);
        rows.push(row);
    }
    let mut rows = rows.into_iter();
    let Some(header) = rows.next() else {
        return Err("missing header line".into());
    };
    let mut out = Vec::new();
    for (i, r) in rows.enumerate() {
        if r.len() != header.len() {
            return Err(format!(
                "record on line {} has {} fields, but the header has {}",
                i + 2,
                r.len(),
                header.len()
            )
            .into());
        }
        out.push(Value::Map(
            header
                .iter()
                .cloned()
                .zip(r.iter().map(|f| Value::str(f)))
                .collect(),
        ));
    }
    Ok(Value::List(out))
}

/// `uuidv5(namespace, name)`: RFC 4122 version 5 (SHA-1) UUIDs.
fn uuidv5(namespace: &str, name: &str) -> Result<String, String> {
    let ns = match namespace {
        "dns" => "6ba7b810-9dad-11d1-80b4-00c04fd430c8".to_string(),
        "url" => "6ba7b811-9dad-11d1-80b4-00c04fd430c8".to_string(),
        "oid" => "6ba7b812-9dad-11d1-80b4-00c04fd430c8".to_string(),
        "x500" => "6ba7b814-9dad-11d1-80b4-00c04fd430c8".to_string(),
        other => other.to_string(),
    };
    let hexes: String = ns.chars().filter(|c| *c != '-').collect();
    let bad = || format!("uuidv5() doesn't support namespace `{namespace}`");
    if hexes.len() != 32 || !hexes.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut bytes = Vec::with_capacity(16);
    for i in 0..16 {
        let pair = hexes.get(i * 2..i * 2 + 2).ok_or_else(bad)?;
        bytes.push(u8::from_str_radix(pair, 16).map_err(|_| bad())?);
    }
    bytes.extend_from_slice(name.as_bytes());
    let digest = <sha1::Sha1 as sha1::Digest>::digest(&bytes);
    let mut u: Vec<u8> = digest.iter().take(16).copied().collect();
    if let Some(b) = u.get_mut(6) {
        *b = (*b & 0x0f) | 0x50;
    }
    if let Some(b) = u.get_mut(8) {
        *b = (*b & 0x3f) | 0x80;
    }
    let h = hex(&u);
    // INVARIANT: `h` is 16 bytes in hex, 32 ASCII digits: every range
    // below is in it.
    let part = |a: usize, b: usize| &h[a..b];
    Ok(format!(
        "{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    ))
}

/// An RFC 3339 timestamp: local date-time, nanoseconds and UTC offset.
struct Time {
    /// Seconds since 1970-01-01T00:00:00 in the timestamp's own offset.
    local: i64,
    nanos: i64,
    /// The offset in seconds east of UTC; `None` for `Z`.
    offset: Option<i64>,
}

impl Time {
    fn parse(text: &str) -> Result<Time, String> {
        let bad = || format!("not a valid RFC3339 timestamp: `{text}`");
        let b = text.as_bytes();
        let num = |a: usize, z: usize| -> Result<i64, String> {
            let t = text.get(a..z).ok_or_else(bad)?;
            if !t.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            t.parse().map_err(|_| bad())
        };
        let at = |i: usize| b.get(i).copied();
        if at(4) != Some(b'-')
            || at(7) != Some(b'-')
            || at(10) != Some(b'T')
            || at(13) != Some(b':')
            || at(16) != Some(b':')
        {
            return Err(bad());
        }
        let (y, mo, d, h, mi, sec) = (
            num(0, 4)?,
            num(5, 7)?,
            num(8, 10)?,
            num(11, 13)?,
            num(14, 16)?,
            num(17, 19)?,
        );
        if !(1..=12).contains(&mo)
            || d < 1
            || d > days_in_month(y, mo)
            || h > 23
            || mi > 59
            || sec > 59
        {
            return Err(bad());
        }
        let mut i = 19;
        let mut nanos = 0;
        if at(i) == Some(b'.') {
            let start = i + 1;
            i = start;
            while at(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
            let frac = text.get(start..i).ok_or_else(bad)?;
            if frac.is_empty() || frac.len() > 9 {
                return Err(bad());
            }
            nanos = format!("{frac:0<9}").parse().map_err(|_| bad())?;
        }
        let offset = match text.get(i..) {
            Some("Z") => None,
            Some(o)
                if o.len() == 6
                    && (o.starts_with('+') || o.starts_with('-'))
                    && o.get(3..4) == Some(":") =>
            {
                let oh = num(i + 1, i + 3)?;
                let om = num(i + 4, i + 6)?;
                let sign = if o.starts_with('-') { -1 } else { 1 };
                Some(sign * (oh * 3600 + om * 60))
            }
            _ => return Err(bad()),
        };
        let local = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
        Ok(Time {
            local,
            nanos,
            offset,
        })
    }

    fn instant(&self) -> (i64, i64) {
        (self.local - self.offset.unwrap_or(0), self.nanos)
    }

    fn add(&self, nanos: i128) -> Time {
        let total = i128::from(self.local) * 1_000_000_000 + i128::from(self.nanos) + nanos;
        Time {
            local: total.div_euclid(1_000_000_000) as i64,
            nanos: total.rem_euclid(1_000_000_000) as i64,
            offset: self.offset,
        }
    }
}

impl std::fmt::Display for Time {
    /// Go's `time.RFC3339`: whole seconds, `Z` or `±hh:mm`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days = self.local.div_euclid(86400);
        let secs = self.local.rem_euclid(86400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )?;
        match self.offset {
            None => write!(f, "Z"),
            Some(o) => write!(
                f,
                "{}{:02}:{:02}",
                if o < 0 { '-' } else { '+' },
                o.abs() / 3600,
                o.abs() / 60 % 60
            ),
        }
    }
}

/// English month names: the ones diagnostics use.
const MONTHS: [&str; 12] = crate::date::MONTH_NAMES;
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// `formatdate(spec, timestamp)`: runs of one letter are fields (`YYYY`,
/// `MMM`, `hh`, `ZZZZZ` …), text in `'…'` is literal (`''` is a quote),
/// anything else is copied.
fn formatdate(spec: &str, t: &Time) -> Result<String, String> {
    let days = t.local.div_euclid(86400);
    let secs = t.local.rem_euclid(86400);
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, sec) = (secs / 3600, secs / 60 % 60, secs % 60);
    let weekday = (days + 4).rem_euclid(7) as usize;
    let off = t.offset.unwrap_or(0);
    let (sign, oh, om) = (
        if off < 0 { '-' } else { '+' },
        off.abs() / 3600,
        off.abs() / 60 % 60,
    );
    // INVARIANT: `civil_from_days` gives a month in 1..=12, and a weekday
    // is a remainder of 7.
    #[expect(clippy::indexing_slicing, reason = "a month and a weekday")]
    let (month, day) = (MONTHS[(mo - 1) as usize], WEEKDAYS[weekday]);
    let h12 = if h % 12 == 0 { 12 } else { h % 12 };
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated literal '".into()),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        out.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&other) => {
                        out.push(other);
                        i += 1;
                    }
                }
            }
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let mut n = 0;
        while chars.get(i + n) == Some(&c) {
            n += 1;
        }
        i += n;
        let field = match (c, n) {
            ('Y', 4) => format!("{y:04}"),
            ('Y', 2) => format!("{:02}", y.rem_euclid(100)),
            ('M', 4) => month.to_string(),
            ('M', 3) => month.chars().take(3).collect(),
            ('M', 2) => format!("{mo:02}"),
            ('M', 1) => mo.to_string(),
            ('D', 2) => format!("{d:02}"),
            ('D', 1) => d.to_string(),
            ('E', 4) => day.to_string(),
            ('E', 3) => day.chars().take(3).collect(),
            ('h', 2) => format!("{h:02}"),
            ('h', 1) => h.to_string(),
            ('H', 2) => format!("{h12:02}"),
            ('H', 1) => h12.to_string(),
            ('A', 2) => (if h < 12 { "AM" } else { "PM" }).to_string(),
            ('a', 2) => (if h < 12 { "am" } else { "pm" }).to_string(),
            ('m', 2) => format!("{mi:02}"),
            ('m', 1) => mi.to_string(),
            ('s', 2) => format!("{sec:02}"),
            ('s', 1) => sec.to_string(),
            ('Z', 5) => format!("{sign}{oh:02}:{om:02}"),
            ('Z', 4) => format!("{sign}{oh:02}{om:02}"),
            ('Z', 3) if t.offset.is_none() || off == 0 => "UTC".to_string(),
            ('Z', 3) => format!("{sign}{oh:02}{om:02}"),
            ('Z', 1) if t.offset.is_none() || off == 0 => "Z".to_string(),
            ('Z', 1) => format!("{sign}{oh:02}:{om:02}"),
            _ => {
                let seq: String = std::iter::repeat_n(c, n).collect();
                return Err(format!("invalid date format verb `{seq}`"));
            }
        };
        out.push_str(&field);
    }
    Ok(out)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Go's `time.ParseDuration`, in nanoseconds: `1h30m`, `-1.5h`, `300ms`.
fn duration(text: &str) -> Result<i128, String> {
    let bad = || format!("time: invalid duration `{text}`");
    let (neg, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let n_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("time: missing unit in duration `{text}`"))?;
        let (number, after) = rest.split_at_checked(n_end).ok_or_else(bad)?;
        let n: f64 = number.parse().map_err(|_| bad())?;
        let u_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at_checked(u_end).ok_or_else(bad)?;
        let unit = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            other => return Err(format!("time: unknown unit `{other}` in duration `{text}`")),
        };
        total += n * unit;
        rest = after;
    }
    if total > 9.2e18 {
        return Err(format!("time: invalid duration `{text}`"));
    }
    let ns = total.round() as i128;
    Ok(if neg { -ns } else { ns })
}

/// `yamlencode` as Terraform writes YAML: keys sorted and every string
/// double-quoted, nested maps indented by two, lists under a key not
/// indented, multi-line strings as literal blocks (`|`, `|-`, `|+`).
/// Strings whose layout Terraform's emitter decides by rules proviso does
/// not reproduce (leading or trailing blanks in a block, control
/// characters) make the result unknown.
fn yaml_top(v: &Value, out: &mut String) -> Result<(), EvalError> {
    match v {
        Value::Map(m) if !m.is_empty() => yaml_map(m, 0, false, out, 0),
        Value::List(l) if !l.is_empty() => yaml_list(l, 0, false, out, 0),
        other => {
            yaml_inline(other, 0, out)?;
            // A plain (unquoted) scalar document is ended explicitly.
            if matches!(other, Value::Null | Value::Bool(_) | Value::Num(_)) {
                out.push_str("...\n");
            }
            Ok(())
        }
    }
}

/// Writes a scalar, an empty collection or a block string right after
/// `key:` or `-`, ending the line.
fn yaml_inline(v: &Value, indent: usize, out: &mut String) -> Result<(), EvalError> {
    let lead = if out.is_empty() || out.ends_with('\n') {
        ""
    } else {
        " "
    };
    match v {
        Value::Null => out.push_str(&format!("{lead}null\n")),
        Value::Bool(_) | Value::Num(_) => out.push_str(&format!("{lead}{v}\n")),
        Value::List(l) if l.is_empty() => out.push_str(&format!("{lead}[]\n")),
        Value::Map(m) if m.is_empty() => out.push_str(&format!("{lead}{{}}\n")),
        Value::Str(t) if t.contains('\n') => {
            let body = t.trim_end_matches('\n');
            let trailing = t.len() - body.len();
            let awkward = body.starts_with([' ', '\t'])
                || body
                    .lines()
                    .any(|l| l.ends_with([' ', '\t']) || l.chars().any(|c| c.is_control()));
            if awkward || body.is_empty() {
                return Err(EvalError::Unknown(
                    "`yamlencode` of this multi-line string is laid out by rules proviso does not reproduce".into(),
                ));
            }
            let chomp = match trailing {
                0 => "-",
                1 => "",
                _ => "+",
            };
            out.push_str(&format!("{lead}|{chomp}\n"));
            let pad = " ".repeat(indent + 2);
            for line in t
                .split('\n')
                .take(body.lines().count() + trailing.saturating_sub(1))
            {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("{pad}{line}\n"));
                }
            }
        }
        Value::Str(t) => out.push_str(&format!("{lead}{}\n", yaml_quote(t)?)),
        _ => {
            return Err(EvalError::Unknown(
                "`yamlencode` of this value is not evaluated by proviso".into(),
            ));
        }
    }
    Ok(())
}

fn yaml_quote(t: &str) -> Result<String, EvalError> {
    if t.chars().any(|c| c.is_control()) {
        return Err(EvalError::Unknown(
            "`yamlencode` of a string with control characters is not evaluated by proviso".into(),
        ));
    }
    Ok(format!(
        "\"{}\"",
        t.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

fn yaml_map(
    m: &BTreeMap<String, Value>,
    indent: usize,
    inline_first: bool,
    out: &mut String,
    depth: usize,
) -> Result<(), EvalError> {
    if depth > MAX_NESTING {
        return Err(EvalError::Unknown(
            "`yamlencode` of values nested too deeply".into(),
        ));
    }
    for (i, (k, v)) in m.iter().enumerate() {
        if !(inline_first && i == 0) {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&yaml_quote(k)?);
        out.push(':');
        match v {
            Value::Map(inner) if !inner.is_empty() => {
                out.push('\n');
                yaml_map(inner, indent + 2, false, out, depth + 1)?;
            }
            Value::List(inner) if !inner.is_empty() => {
                out.push('\n');
                yaml_list(inner, indent, false, out, depth + 1)?;
            }
            other => yaml_inline(other, indent, out)?,
        }
    }
    Ok(())
}

fn yaml_list(
    l: &[Value],
    indent: usize,
    inline_first: bool,
    out: &mut String,
    depth: usize,
) -> Result<(), EvalError> {
    if depth > MAX_NESTING {
        return Err(EvalError::Unknown(
            "`yamlencode` of values nested too deeply".into(),
        ));
    }
    for (i, v) in l.iter().enumerate() {
        if !(inline_first && i == 0) {
            out.push_str(&" ".repeat(indent));
        }
        out.push('-');
        match v {
            Value::Map(inner) if !inner.is_empty() => {
                out.push(' ');
                yaml_map(inner, indent + 2, true, out, depth + 1)?;
            }
            Value::List(inner) if !inner.is_empty() => {
                out.push(' ');
                yaml_list(inner, indent + 2, true, out, depth + 1)?;
            }
            other => yaml_inline(other, indent, out)?,
        }
    }
    Ok(())
}

/// An IP network as Terraform's `cidr*` functions read it.
#[derive(Clone, Copy)]
struct Net {
    addr: u128,
    len: u8,
    v6: bool,
}

impl Net {
    fn parse(text: &str) -> Result<Net, String> {
        let bad = || format!("invalid CIDR expression: invalid CIDR address: {text}");
        let (a, l) = text.split_once('/').ok_or_else(bad)?;
        let ip: IpAddr = a.parse().map_err(|_| bad())?;
        let len: u8 = l.parse().map_err(|_| bad())?;
        let (addr, v6) = match ip {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), false),
            IpAddr::V6(v6) => (u128::from(v6), true),
        };
        let net = Net { addr, len, v6 };
        if len > net.bits() || !l.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        Ok(Net {
            addr: addr & net.mask(),
            ..net
        })
    }

    fn bits(&self) -> u8 {
        if self.v6 { 128 } else { 32 }
    }

    fn mask_of(&self, len: u8) -> u128 {
        let all = if self.v6 {
            u128::MAX
        } else {
            u128::from(u32::MAX)
        };
        let host = u32::from(self.bits() - len.min(self.bits()));
        all & !(u128::MAX.checked_shl(host).map_or(u128::MAX, |m| !m))
    }

    /// Every bit of an address of this family.
    fn all(&self) -> u128 {
        self.mask_of(self.bits())
    }

    fn mask(&self) -> u128 {
        self.mask_of(self.len)
    }

    fn contains(&self, other: &Net) -> bool {
        other.addr & self.mask() == self.addr
    }

    fn subnet(&self, newbits: i64, netnum: i64) -> Result<Net, EvalError> {
        let len = i64::from(self.len) + newbits;
        if newbits < 0 || len > i64::from(self.bits()) {
            return Err(format!(
                "insufficient address space to extend prefix of {} by {newbits}",
                self.len
            )
            .into());
        }
        if netnum < 0 {
            return Err(EvalError::Unknown(
                "`cidrsubnet` with a negative network number is not evaluated by proviso".into(),
            ));
        }
        let netnum = netnum as u128;
        if newbits < 127 && netnum >= (1u128 << newbits) {
            return Err(format!(
                "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
            )
            .into());
        }
        let shift = u32::from(self.bits()) - len as u32;
        let part = netnum.checked_shl(shift).unwrap_or(0);
        Ok(Net {
            addr: self.addr | part,
            len: len as u8,
            v6: self.v6,
        })
    }

    /// go-cidr's `NextSubnet`: the network of length `len` right after this
    /// one; `None` when it wraps around the address space.
    fn next(&self, len: u8) -> Option<Net> {
        let host_all = !self.mask() & self.all();
        let last = self.addr | host_all;
        let probe = Net {
            addr: last & self.mask_of(len),
            len,
            v6: self.v6,
        };
        let probe_last = probe.addr | (!probe.mask() & self.all());
        let next = probe_last.checked_add(1)? & self.all();
        if next == 0 {
            return None;
        }
        Some(Net {
            addr: next & self.mask_of(len),
            len,
            v6: self.v6,
        })
    }

    fn host(&self, hostnum: i64) -> Result<String, EvalError> {
        let host_bits = u32::from(self.bits() - self.len);
        let max: i128 = if host_bits >= 127 {
            i128::MAX
        } else {
            1i128 << host_bits
        };
        let mut num = i128::from(hostnum);
        if num < 0 {
            num += max;
        }
        if num < 0 {
            return Err(format!(
                "prefix of {} does not accommodate a host numbered {num}",
                self.len
            )
            .into());
        }
        if num >= max {
            return Err(format!(
                "prefix of {} does not accommodate a host numbered {hostnum}",
                self.len
            )
            .into());
        }
        Ok(self.ip(self.addr | num as u128).to_string())
    }

    fn ip(&self, addr: u128) -> IpAddr {
        if self.v6 {
            IpAddr::V6(Ipv6Addr::from(addr))
        } else {
            IpAddr::V4(Ipv4Addr::from(addr as u32))
        }
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.ip(self.addr), self.len)
    }
}

/// `formatlist`: list arguments are zipped (all of one length), the others
/// repeated.
fn formatlist(spec: &str, args: &[Value]) -> R {
    let mut len: Option<usize> = None;
    for (i, a) in args.iter().enumerate() {
        if let Value::List(l) = a {
            match len {
                Some(n) if n != l.len() => {
                    return Err(format!(
                        "argument {} has length {}, which is inconsistent with an earlier argument of length {n}",
                        i + 1,
                        l.len()
                    )
                    .into());
                }
                _ => len = Some(l.len()),
            }
        }
    }
    let Some(len) = len else {
        if let Some(u) = args.iter().find_map(Value::find_unknown) {
            return Ok(Value::Unknown(u.clone()));
        }
        return Ok(Value::List(vec![Value::str(&format(spec, args)?)]));
    };
    let mut out = Vec::new();
    for i in 0..len {
        let row: Vec<Value> = args
            .iter()
            .map(|a| match a {
                // INVARIANT: every list argument has length `len` (checked above).
                #[expect(clippy::indexing_slicing, reason = "lists of one length")]
                Value::List(l) => l[i].clone(),
                other => other.clone(),
            })
            .collect();
        match row.iter().find_map(Value::find_unknown) {
            Some(u) => out.push(Value::Unknown(u.clone())),
            None => out.push(Value::str(&format(spec, &row)?)),
        }
    }
    Ok(Value::List(out))
}

#[derive(Default, Clone, Copy)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
}

/// Terraform's `format`: Go's verbs `%v %#v %t %b %d %o %x %X %e %E %f %g
/// %G %s %q %%` with flags `+ - # 0` and space, width, precision and
/// explicit argument indexes `%[2]s`.
fn format(spec: &str, args: &[Value]) -> Result<String, EvalError> {
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut next = 0usize;
    let mut used = 0usize;
    let at = |i: usize| chars.get(i).copied();
    let digits = |i: &mut usize| -> Option<usize> {
        let start = *i;
        while at(*i).is_some_and(|c| c.is_ascii_digit()) {
            *i += 1;
        }
        chars
            .get(start..*i)
            .and_then(|d| d.iter().collect::<String>().parse().ok())
    };
    while let Some(c) = at(i) {
        i += 1;
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut f = Flags::default();
        loop {
            match at(i) {
                Some('+') => f.plus = true,
                Some('-') => f.minus = true,
                Some('#') => f.sharp = true,
                Some(' ') => f.space = true,
                Some('0') => f.zero = true,
                _ => break,
            }
            i += 1;
        }
        if at(i) == Some('[') {
            i += 1;
            let n = digits(&mut i)
                .filter(|n| *n > 0)
                .ok_or("format: bad argument index")?;
            if at(i) != Some(']') {
                return Err("format: bad argument index".into());
            }
            i += 1;
            next = n - 1;
        }
        let width = digits(&mut i);
        let prec = if at(i) == Some('.') {
            i += 1;
            Some(digits(&mut i).unwrap_or(0))
        } else {
            None
        };
        if width.unwrap_or(0).max(prec.unwrap_or(0)) > MAX_STRING {
            return Err(EvalError::Unknown(
                "`format` width too large for proviso".into(),
            ));
        }
        let verb = at(i).ok_or("format: a `%` without a verb")?;
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let a = args.get(next).ok_or_else(|| {
            format!(
                "not enough arguments for `%{verb}`: need index {} but have {} total",
                next + 1,
                args.len()
            )
        })?;
        next += 1;
        used = used.max(next);
        let (text, numeric) = verb_text(verb, f, prec, a)?;
        out.push_str(&pad(text, width, f, numeric));
        if out.len() > MAX_STRING {
            return Err(EvalError::Unknown(
                "`format` result too long for proviso".into(),
            ));
        }
    }
    if used < args.len() {
        return Err(format!("too many arguments; only {used} used by format string").into());
    }
    Ok(out)
}

fn pad(text: String, width: Option<usize>, f: Flags, numeric: bool) -> String {
    let len = text.chars().count();
    let Some(w) = width.filter(|w| *w > len) else {
        return text;
    };
    let fill = w - len;
    if f.minus {
        format!("{text}{}", " ".repeat(fill))
    } else if f.zero && numeric {
        let (sign, rest) = match text.split_at_checked(1) {
            Some((sign @ ("-" | "+" | " "), rest)) => (sign, rest),
            _ => ("", text.as_str()),
        };
        format!("{sign}{}{rest}", "0".repeat(fill))
    } else {
        format!("{}{text}", " ".repeat(fill))
    }
}

fn verb_text(
    verb: char,
    f: Flags,
    prec: Option<usize>,
    a: &Value,
) -> Result<(String, bool), String> {
    let sign = |neg: bool| {
        if neg {
            "-"
        } else if f.plus {
            "+"
        } else if f.space {
            " "
        } else {
            ""
        }
    };
    let bad = |what: &str| format!("unsupported value for `%{verb}`: {what}");
    Ok(match verb {
        'v' if f.sharp => (json_encode(a), false),
        'v' => match a {
            Value::List(_) | Value::Map(_) => (json_encode(a), false),
            Value::Null => ("null".into(), false),
            other => (to_string(other)?, matches!(other, Value::Num(_))),
        },
        's' => {
            let t = match a {
                Value::Str(_) | Value::Num(_) | Value::Bool(_) => to_string(a)?,
                _ => return Err(bad("string required")),
            };
            match prec {
                Some(p) => (t.chars().take(p).collect(), false),
                None => (t, false),
            }
        }
        'q' => {
            let t = match a {
                Value::Str(_) | Value::Num(_) | Value::Bool(_) => to_string(a)?,
                _ => return Err(bad("string required")),
            };
            (go_quote(&t), false)
        }
        't' => match a {
            Value::Bool(b) => (b.to_string(), false),
            Value::Str(t) if t.as_ref() == "true" || t.as_ref() == "false" => {
                (t.to_string(), false)
            }
            _ => return Err(bad("bool required")),
        },
        'd' | 'b' | 'o' | 'x' | 'X' => {
            let n = number(a).map_err(|_| bad("a number is required"))?;
            if n.fract() != 0.0 || n.abs() > 9.2e18 {
                return Err(bad("an integer is required"));
            }
            let i = n as i64;
            let m = i.unsigned_abs();
            let body = match verb {
                'd' => m.to_string(),
                'b' => format!("{m:b}"),
                'o' if f.sharp => format!("0{m:o}"),
                'o' => format!("{m:o}"),
                'x' if f.sharp => format!("0x{m:x}"),
                'x' => format!("{m:x}"),
                'X' if f.sharp => format!("0X{m:X}"),
                _ => format!("{m:X}"),
            };
            (format!("{}{body}", sign(i < 0)), true)
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
            let n = number(a).map_err(|_| bad("a number is required"))?;
            let body = match verb {
                'f' | 'F' => format!("{:.*}", prec.unwrap_or(6), n.abs()),
                'e' | 'E' => go_exp(n.abs(), prec.unwrap_or(6)),
                _ => go_g(n.abs(), prec),
            };
            let body = if verb.is_ascii_uppercase() {
                body.to_uppercase()
            } else {
                body
            };
            (format!("{}{body}", sign(n < 0.0)), true)
        }
        other => return Err(format!("unrecognized format verb `%{other}`")),
    })
}

/// `1.234568e+03`: Go's exponent has a sign and at least two digits.
fn go_exp(n: f64, prec: usize) -> String {
    fix_exponent(&format!("{n:.prec$e}"))
}

fn fix_exponent(rust: &str) -> String {
    match rust.split_once('e') {
        Some((mant, exp)) => {
            let e: i32 = exp.parse().unwrap_or(0);
            format!("{mant}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
        }
        None => rust.to_string(),
    }
}

/// Go's `%g`: shortest digits (or `prec` significant ones), in exponent form
/// when the exponent is below -4 or at least the precision (6 for shortest).
fn go_g(n: f64, prec: Option<usize>) -> String {
    let (sci, limit) = match prec {
        None => (format!("{n:e}"), 6),
        Some(p) => {
            let p = p.max(1);
            (format!("{n:.*e}", p - 1), p as i32)
        }
    };
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if exp < -4 || exp >= limit {
        fix_exponent(&format!("{}e{exp}", trim(mant.to_string())))
    } else {
        let digits = mant.replace('.', "").len() as i32;
        let decimals = (digits - 1 - exp).max(0) as usize;
        trim(format!("{n:.decimals$}"))
    }
}

/// Go's `strconv.Quote`.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                if (c as u32) < 0x80 {
                    out.push_str(&format!("\\x{:02x}", c as u32));
                } else {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::super::error::failure;
    use super::*;

    #[test]
    fn unknown_arguments_give_unknown_but_unknown_elements_need_not() {
        let u = Value::unknown("x", None);
        assert!(
            call("upper", std::slice::from_ref(&u))
                .unwrap()
                .is_unknown()
        );
        assert!(
            call("coalesce", &[Value::Null, u.clone(), Value::str("b")])
                .unwrap()
                .is_unknown()
        );
        assert_eq!(
            call("length", &[Value::List(vec![u.clone(), Value::Num(1.0)])]).unwrap(),
            Value::Num(2.0)
        );
        assert!(
            call("join", &[Value::str(","), Value::List(vec![u])])
                .unwrap()
                .is_unknown()
        );
    }

    #[test]
    fn an_error_inside_an_element_is_not_swallowed() {
        let err = failure("boom", None);
        let got = call("length", &[Value::List(vec![err, Value::Num(1.0)])]).unwrap();
        assert!(matches!(got, Value::Unknown(u) if u.reason.ends_with("boom")));
    }

    #[test]
    fn the_evaluated_list_names_only_functions_call_knows() {
        for name in EVALUATED {
            if matches!(*name, "try" | "can") {
                continue;
            }
            let got = call(name, &[]);
            assert!(
                !matches!(&got, Err(EvalError::NotEvaluated { .. })),
                "{name} is listed but not implemented"
            );
        }
    }

    /// Every function, every arity up to 3, over awkward values: no panic,
    /// no hang (bad input is an error or an unknown, never a crash).
    #[test]
    fn no_function_panics_on_awkward_arguments() {
        let u = Value::unknown("u", None);
        let fail = failure("x", None);
        let values = vec![
            Value::Null,
            u.clone(),
            fail,
            Value::Bool(true),
            Value::Num(-1.0),
            Value::Num(0.0),
            Value::Num(1.5),
            Value::Num(1e300),
            Value::Num(-9.3e18),
            Value::Num(f64::NAN),
            Value::str(""),
            Value::str("10.0.0.0/8"),
            Value::str("fd00::/127"),
            Value::str("%[9]q %-08.3e %"),
            Value::str("2024-02-29T23:59:59.999999999-23:59"),
            Value::str("\\Q(\\E"),
            Value::str("a: [1, {b: *x}]"),
            Value::str("é\n\r\t\u{0}"),
            Value::List(vec![]),
            Value::List(vec![Value::str("a"), Value::Num(1.0), u.clone()]),
            Value::List(vec![Value::List(vec![Value::str("x")]), Value::Null]),
            Value::Map(BTreeMap::from([
                ("a".to_string(), Value::List(vec![Value::str("1")])),
                ("b".to_string(), u),
            ])),
        ];
        let mut calls = 0;
        for name in EVALUATED {
            let _ = call(name, &[]);
            for a in &values {
                let _ = call(name, std::slice::from_ref(a));
                for b in &values {
                    let _ = call(name, &[a.clone(), b.clone()]);
                    for c in values.iter().step_by(3) {
                        let _ = call(name, &[a.clone(), b.clone(), c.clone()]);
                        calls += 1;
                    }
                }
            }
        }
        assert!(calls > 10_000, "{calls}");
    }
}
