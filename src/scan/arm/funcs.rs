//! ARM template functions, the ones templates really use, on [`Value`]s.
//!
//! Bicep compiles to these same functions, so the Bicep evaluator
//! ([`crate::scan::bicep`]) calls them too. Names are matched without case,
//! as ARM does. What depends on the deployment (`resourceGroup().id`,
//! `uniqueString`, `reference`, `utcNow`, …) is unknown, with a reason;
//! `resourceGroup().location` and `deployment().location` are the
//! `--region` given, else unknown. A function proviso does not evaluate is
//! unknown too, never guessed. An unknown argument makes the result unknown
//! (except where the known arguments decide: `if` with a known condition,
//! `and`/`or` with a known `false`/`true`, `coalesce` with a known value
//! first).

mod cidr;

use crate::source::Origin;
use crate::value::Value;
use std::collections::BTreeMap;

/// Longest string or list a function builds (`range`, `padLeft`, `concat`).
pub const MAX_LEN: usize = 1 << 20;

/// What a function call may depend on besides its arguments.
pub struct Deployment<'a> {
    /// `--region` (or a parameters file's): the resource group's location.
    pub region: Option<&'a str>,
    /// Where the call is written, for unknowns.
    pub at: Option<Origin>,
}

fn unknown(reason: impl Into<String>, d: &Deployment<'_>) -> Value {
    Value::unknown(reason, d.at.clone())
}

fn bad(reason: String, d: &Deployment<'_>) -> Value {
    crate::scan::terraform::error::deployment_failure(&reason, d.at.clone())
}

/// The resource group's location: the region given, else unknown.
fn location(d: &Deployment<'_>) -> Value {
    match d.region {
        Some(r) => Value::str(r),
        None => unknown(
            "the resource group's location is known only at deployment (pass `--region`)",
            d,
        ),
    }
}

fn deploy_unknown(what: &str, d: &Deployment<'_>) -> Value {
    unknown(format!("{what} is known only at deployment"), d)
}

/// An object of the deployment: its `location` from `--region`, every
/// other property unknown.
fn scope_object(what: &str, keys: &[&str], d: &Deployment<'_>) -> Value {
    let mut m = BTreeMap::new();
    for k in keys {
        let v = if *k == "location" {
            location(d)
        } else {
            deploy_unknown(&format!("`{what}().{k}`"), d)
        };
        m.insert((*k).to_string(), v);
    }
    Value::Map(m)
}

/// A value as ARM's `string()` writes it.
pub fn to_text(v: &Value) -> Option<String> {
    Some(match v {
        Value::Str(s) => s.to_string(),
        Value::Num(n) => num_text(*n),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::List(_) | Value::Map(_) => v.to_json().to_string(),
        _ => return None,
    })
}

fn num_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// ARM's `equals`: strings compared with case (as ARM does), numbers by value.
pub fn equal(a: &Value, b: &Value) -> bool {
    a == b
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Num(n) => Some(*n),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    num(v).map(|n| n.trunc() as i64)
}

/// `format('{0}-{1}', a, b)`: .NET composite formatting, `{index[,width][:spec]}`.
/// The format specifiers templates use are applied ([`format_item`]); one
/// proviso does not know makes the result unknown, never a wrong text.
fn format(fmt: &str, args: &[Value], d: &Deployment<'_>) -> Value {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut spec = String::new();
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    spec.push(c);
                }
                let (head, format_spec) = match spec.split_once(':') {
                    Some((h, f)) => (h, Some(f)),
                    None => (spec.as_str(), None),
                };
                let (index, width) = match head.split_once(',') {
                    Some((i, w)) => (i.trim(), Some(w.trim())),
                    None => (head.trim(), None),
                };
                let Some(v) = index.parse::<usize>().ok().and_then(|i| args.get(i)) else {
                    return bad(format!("`format` has no argument {{{spec}}}"), d);
                };
                if let Value::Unknown(_) = v {
                    return v.clone();
                }
                let Some(text) = format_item(v, format_spec) else {
                    return unknown(
                        format!(
                            "`format` with the specifier `{{{spec}}}` is not evaluated by proviso"
                        ),
                        d,
                    );
                };
                match width.map(str::parse::<i64>) {
                    None => out.push_str(&text),
                    Some(Ok(w)) => {
                        let pad = usize::try_from(w.unsigned_abs())
                            .unwrap_or(0)
                            .min(MAX_LEN)
                            .saturating_sub(text.chars().count());
                        if w >= 0 {
                            out.extend(std::iter::repeat_n(' ', pad));
                            out.push_str(&text);
                        } else {
                            out.push_str(&text);
                            out.extend(std::iter::repeat_n(' ', pad));
                        }
                    }
                    Some(Err(_)) => {
                        return bad(format!("`format` has a bad width in {{{spec}}}"), d);
                    }
                }
                if out.len() > MAX_LEN {
                    return bad("the string is too long".into(), d);
                }
            }
            c => out.push(c),
        }
    }
    Value::str(&out)
}

/// One argument of `format` with its .NET format specifier: none (the
/// value as `string()` writes it), `D`/`d` with a minimum digit count,
/// `N`/`n` (digits grouped by commas, 2 decimals unless given), `F`/`f`
/// (fixed decimals), `X`/`x` (hexadecimal), `P`/`p` is not applied. `None`
/// for a specifier proviso does not apply.
fn format_item(v: &Value, spec: Option<&str>) -> Option<String> {
    let Some(spec) = spec.map(str::trim).filter(|s| !s.is_empty()) else {
        return to_text(v);
    };
    let n = num(v)?;
    let mut chars = spec.chars();
    let kind = chars.next()?;
    let digits = chars.as_str();
    let precision: Option<usize> = if digits.is_empty() {
        None
    } else {
        Some(digits.parse::<usize>().ok().filter(|p| *p <= 99)?)
    };
    let integral = n.fract() == 0.0 && n.abs() < 1e15;
    Some(match kind {
        'D' | 'd' if integral => {
            let i = n as i64;
            let body = format!(
                "{:0width$}",
                i.unsigned_abs(),
                width = precision.unwrap_or(1)
            );
            if i < 0 { format!("-{body}") } else { body }
        }
        'X' | 'x' if integral && n >= 0.0 => {
            let body = format!("{:0width$X}", n as i64, width = precision.unwrap_or(1));
            if kind == 'x' {
                body.to_lowercase()
            } else {
                body
            }
        }
        'F' | 'f' => format!("{:.prec$}", n, prec = precision.unwrap_or(2)),
        'N' | 'n' => {
            let fixed = format!("{:.prec$}", n.abs(), prec = precision.unwrap_or(2));
            let (int_part, frac) = match fixed.split_once('.') {
                Some((i, f)) => (i.to_string(), Some(f.to_string())),
                None => (fixed.clone(), None),
            };
            let mut grouped = String::new();
            for (k, c) in int_part.chars().enumerate() {
                if k > 0 && (int_part.len() - k) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(c);
            }
            let sign = if n < 0.0 && fixed.chars().any(|c| c.is_ascii_digit() && c != '0') {
                "-"
            } else {
                ""
            };
            match frac {
                Some(f) => format!("{sign}{grouped}.{f}"),
                None => format!("{sign}{grouped}"),
            }
        }
        _ => return None,
    })
}

/// `union`: objects merged (later wins, nested objects merged deeply as ARM
/// does), or arrays joined without duplicates.
fn union(args: &[Value], d: &Deployment<'_>) -> Value {
    match args.first() {
        Some(Value::Map(_)) => {
            let mut out: BTreeMap<String, Value> = BTreeMap::new();
            for a in args {
                match a {
                    Value::Map(m) => merge_deep(&mut out, m, 0),
                    Value::Null => {}
                    other => {
                        return bad(
                            format!("`union` of an object and a {}", other.type_name()),
                            d,
                        );
                    }
                }
            }
            Value::Map(out)
        }
        Some(Value::List(_)) => {
            let mut out: Vec<Value> = Vec::new();
            for a in args {
                match a {
                    Value::List(l) => {
                        for v in l {
                            if !out.contains(v) {
                                out.push(v.clone());
                            }
                        }
                    }
                    other => {
                        return bad(
                            format!("`union` of an array and a {}", other.type_name()),
                            d,
                        );
                    }
                }
            }
            Value::List(out)
        }
        Some(Value::Null) | None => Value::Null,
        Some(other) => bad(format!("`union` of a {}", other.type_name()), d),
    }
}

fn merge_deep(into: &mut BTreeMap<String, Value>, from: &BTreeMap<String, Value>, depth: usize) {
    for (k, v) in from {
        match (into.get_mut(k), v) {
            (Some(Value::Map(a)), Value::Map(b)) if depth < 32 => merge_deep(a, b, depth + 1),
            _ => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Calls function `name` (any case) on evaluated arguments. `None`: the
/// function is not one of these (the caller's own: `parameters`,
/// `variables`, `copyIndex`, …, or an unknown name).
pub fn call(name: &str, args: &[Value], d: &Deployment<'_>) -> Option<Value> {
    let lower = name.to_ascii_lowercase();
    // Functions that decide on known arguments despite unknown ones.
    match lower.as_str() {
        "if" => {
            return Some(match args {
                [c, a, b] => match c {
                    Value::Unknown(_) => c.clone(),
                    _ => match truthy(c) {
                        Some(true) => a.clone(),
                        Some(false) => b.clone(),
                        None => bad("`if` needs a boolean condition".into(), d),
                    },
                },
                _ => bad("`if` takes three arguments".into(), d),
            });
        }
        "and" | "or" => {
            let decisive = lower == "or";
            let mut first_unknown = None;
            for a in args {
                match a {
                    Value::Unknown(_) => {
                        first_unknown.get_or_insert_with(|| a.clone());
                    }
                    _ => match truthy(a) {
                        Some(b) if b == decisive => return Some(Value::Bool(decisive)),
                        Some(_) => {}
                        None => return Some(bad(format!("`{name}` needs booleans"), d)),
                    },
                }
            }
            return Some(first_unknown.unwrap_or(Value::Bool(!decisive)));
        }
        "coalesce" => {
            for a in args {
                match a {
                    Value::Null => {}
                    _ => return Some(a.clone()),
                }
            }
            return Some(Value::Null);
        }
        "resourcegroup" => {
            return Some(scope_object(
                "resourceGroup",
                &[
                    "id",
                    "name",
                    "type",
                    "location",
                    "managedBy",
                    "tags",
                    "properties",
                ],
                d,
            ));
        }
        "subscription" => {
            return Some(scope_object(
                "subscription",
                &["id", "subscriptionId", "tenantId", "displayName"],
                d,
            ));
        }
        "deployment" => {
            return Some(scope_object(
                "deployment",
                &["name", "location", "properties"],
                d,
            ));
        }
        "tenant" => {
            return Some(scope_object(
                "tenant",
                &["tenantId", "countryCode", "displayName"],
                d,
            ));
        }
        "managementgroup" => {
            return Some(scope_object(
                "managementGroup",
                &["id", "name", "properties"],
                d,
            ));
        }
        "environment" => return Some(deploy_unknown("`environment()` (the Azure cloud)", d)),
        "uniquestring" | "guid" => {
            return Some(match args.iter().find(|a| a.is_unknown()) {
                Some(u) => u.clone(),
                // A hash of known strings is known, but proviso does not
                // reproduce ARM's hash.
                None => unknown(
                    format!("`{name}` is a hash that ARM computes at deployment"),
                    d,
                ),
            });
        }
        "newguid" | "utcnow" => return Some(deploy_unknown(&format!("`{name}()`"), d)),
        "reference"
        | "list"
        | "listkeys"
        | "listsecrets"
        | "listaccountsas"
        | "pickzones"
        | "providers"
        | "getsecret"
        | "managementgroupresourceid"
        | "resourceid"
        | "subscriptionresourceid"
        | "tenantresourceid"
        | "extensionresourceid" => {
            return Some(deploy_unknown(
                &format!("`{name}(…)` (it names the subscription or reads a deployed resource)"),
                d,
            ));
        }
        _ => {}
    }
    if lower.starts_with("list") {
        return Some(deploy_unknown(&format!("`{name}(…)`"), d));
    }
    if let Some(u) = args.iter().find(|a| a.is_unknown()) {
        return Some(u.clone());
    }
    let a0 = args.first();
    let a1 = args.get(1);
    let s0 = a0.and_then(Value::as_str);
    let v = match lower.as_str() {
        "concat" => match a0 {
            Some(Value::List(_)) => {
                let mut out = Vec::new();
                for a in args {
                    match a {
                        Value::List(l) => out.extend(l.iter().cloned()),
                        other => out.push(other.clone()),
                    }
                    if out.len() > MAX_LEN {
                        return Some(bad("`concat` builds too long an array".into(), d));
                    }
                }
                Value::List(out)
            }
            _ => {
                let mut out = String::new();
                for a in args {
                    match to_text(a) {
                        Some(t) => out.push_str(&t),
                        None => return Some(bad("`concat` of a value that is not text".into(), d)),
                    }
                    if out.len() > MAX_LEN {
                        return Some(bad("`concat` builds too long a string".into(), d));
                    }
                }
                Value::str(&out)
            }
        },
        "format" => match s0 {
            Some(f) => format(f, args.get(1..).unwrap_or_default(), d),
            None => bad("`format` needs a format string".into(), d),
        },
        "tolower" => text1(s0, d, |s| s.to_lowercase()),
        "toupper" => text1(s0, d, |s| s.to_uppercase()),
        "trim" => text1(s0, d, |s| s.trim().to_string()),
        "string" => match a0 {
            Some(v) => to_text(v)
                .map(|t| Value::str(&t))
                .unwrap_or_else(|| v.clone()),
            None => bad("`string` takes one argument".into(), d),
        },
        "int" => match a0.and_then(int) {
            Some(n) => Value::Num(n as f64),
            None => bad("`int` of a value that is not a number".into(), d),
        },
        "bool" => match a0.and_then(truthy) {
            Some(b) => Value::Bool(b),
            None => bad("`bool` of a value that is not a boolean".into(), d),
        },
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        "json" => match s0.map(serde_json::from_str::<serde_json::Value>) {
            Some(Ok(j)) => crate::value::from_json(&j),
            _ => bad("`json` of text that is not JSON".into(), d),
        },
        "equals" => match (a0, a1) {
            (Some(a), Some(b)) => Value::Bool(equal(a, b)),
            _ => bad("`equals` takes two arguments".into(), d),
        },
        "not" => match a0.and_then(truthy) {
            Some(b) => Value::Bool(!b),
            None => bad("`not` needs a boolean".into(), d),
        },
        "greater" | "greaterorequals" | "less" | "lessorequals" => {
            let ord = match (a0, a1) {
                (Some(Value::Str(a)), Some(Value::Str(b))) => a.cmp(b),
                (Some(a), Some(b)) => match (num(a), num(b)) {
                    (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
                    _ => return Some(bad(format!("`{name}` compares numbers or strings"), d)),
                },
                _ => return Some(bad(format!("`{name}` takes two arguments"), d)),
            };
            Value::Bool(match lower.as_str() {
                "greater" => ord.is_gt(),
                "greaterorequals" => ord.is_ge(),
                "less" => ord.is_lt(),
                _ => ord.is_le(),
            })
        }
        "empty" => Value::Bool(match a0 {
            Some(Value::Str(s)) => s.is_empty(),
            Some(Value::List(l)) => l.is_empty(),
            Some(Value::Map(m)) => m.is_empty(),
            Some(Value::Null) | None => true,
            Some(_) => false,
        }),
        "length" => match a0 {
            Some(Value::Str(s)) => Value::Num(s.chars().count() as f64),
            Some(Value::List(l)) => Value::Num(l.len() as f64),
            Some(Value::Map(m)) => Value::Num(m.len() as f64),
            _ => bad("`length` of a value with no length".into(), d),
        },
        "contains" => match (a0, a1) {
            (Some(Value::Str(s)), Some(x)) => match to_text(x) {
                Some(t) => Value::Bool(s.to_lowercase().contains(&t.to_lowercase())),
                None => Value::Bool(false),
            },
            (Some(Value::List(l)), Some(x)) => Value::Bool(l.contains(x)),
            (Some(Value::Map(m)), Some(Value::Str(k))) => {
                Value::Bool(m.keys().any(|x| x.eq_ignore_ascii_case(k)))
            }
            _ => bad("`contains` takes a container and a value".into(), d),
        },
        "startswith" | "endswith" => match (s0, a1.and_then(Value::as_str)) {
            (Some(s), Some(p)) => {
                let (s, p) = (s.to_lowercase(), p.to_lowercase());
                Value::Bool(if lower == "startswith" {
                    s.starts_with(&p)
                } else {
                    s.ends_with(&p)
                })
            }
            _ => bad(format!("`{name}` takes two strings"), d),
        },
        "replace" => match (
            s0,
            a1.and_then(Value::as_str),
            args.get(2).and_then(Value::as_str),
        ) {
            (Some(s), Some(a), Some(b)) if !a.is_empty() => Value::str(&s.replace(a, b)),
            _ => bad("`replace` takes three strings".into(), d),
        },
        "split" => match (s0, a1) {
            (Some(s), Some(Value::Str(sep))) if !sep.is_empty() => {
                Value::List(s.split(&**sep).map(Value::str).collect())
            }
            (Some(s), Some(Value::List(seps))) => {
                let seps: Vec<&str> = seps
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|x| !x.is_empty())
                    .collect();
                let mut parts = vec![s.to_string()];
                for sep in seps {
                    parts = parts
                        .iter()
                        .flat_map(|p| p.split(sep).map(str::to_string).collect::<Vec<_>>())
                        .collect();
                }
                Value::List(parts.iter().map(|p| Value::str(p)).collect())
            }
            _ => bad("`split` takes a string and a delimiter".into(), d),
        },
        "join" => match (a0, a1.and_then(Value::as_str)) {
            (Some(Value::List(l)), Some(sep)) => {
                let parts: Option<Vec<String>> = l.iter().map(to_text).collect();
                match parts {
                    Some(p) => Value::str(&p.join(sep)),
                    None => bad("`join` of values that are not text".into(), d),
                }
            }
            _ => bad("`join` takes an array and a delimiter".into(), d),
        },
        "substring" => match (s0, a1.and_then(int)) {
            (Some(s), Some(start)) => {
                let chars: Vec<char> = s.chars().collect();
                let start = usize::try_from(start).unwrap_or(usize::MAX);
                let len = args
                    .get(2)
                    .and_then(int)
                    .map_or(chars.len().saturating_sub(start), |l| {
                        usize::try_from(l).unwrap_or(usize::MAX)
                    });
                match chars.get(start..start.saturating_add(len)) {
                    Some(part) => Value::str(&part.iter().collect::<String>()),
                    None => bad("`substring` past the end of the string".into(), d),
                }
            }
            _ => bad("`substring` takes a string and a start".into(), d),
        },
        "padleft" => match (a0.and_then(to_text), a1.and_then(int)) {
            (Some(s), Some(n)) => {
                let n = usize::try_from(n).unwrap_or(0).min(MAX_LEN);
                let pad = args
                    .get(2)
                    .and_then(Value::as_str)
                    .and_then(|p| p.chars().next())
                    .unwrap_or(' ');
                let have = s.chars().count();
                let mut out: String = std::iter::repeat_n(pad, n.saturating_sub(have)).collect();
                out.push_str(&s);
                Value::str(&out)
            }
            _ => bad("`padLeft` takes a value and a length".into(), d),
        },
        "indexof" | "lastindexof" => match (s0, a1.and_then(Value::as_str)) {
            (Some(s), Some(x)) => {
                let (s, x) = (s.to_lowercase(), x.to_lowercase());
                let at = if lower == "indexof" {
                    s.find(&x)
                } else {
                    s.rfind(&x)
                };
                Value::Num(at.map_or(-1.0, |i| s.get(..i).map_or(0, |p| p.chars().count()) as f64))
            }
            _ => bad(format!("`{name}` takes two strings"), d),
        },
        "first" | "last" => match a0 {
            Some(Value::List(l)) => {
                let v = if lower == "first" {
                    l.first()
                } else {
                    l.last()
                };
                v.cloned().unwrap_or(Value::Null)
            }
            Some(Value::Str(s)) => {
                let c = if lower == "first" {
                    s.chars().next()
                } else {
                    s.chars().last()
                };
                Value::str(&c.map(String::from).unwrap_or_default())
            }
            _ => bad(
                format!("`{name}` of a value that is not an array or a string"),
                d,
            ),
        },
        "take" | "skip" => match (a0, a1.and_then(int)) {
            (Some(Value::List(l)), Some(n)) => {
                let n = usize::try_from(n).unwrap_or(0).min(l.len());
                let (a, b) = l.split_at(n);
                Value::List(if lower == "take" {
                    a.to_vec()
                } else {
                    b.to_vec()
                })
            }
            (Some(Value::Str(s)), Some(n)) => {
                let n = usize::try_from(n).unwrap_or(0);
                Value::str(&if lower == "take" {
                    s.chars().take(n).collect::<String>()
                } else {
                    s.chars().skip(n).collect::<String>()
                })
            }
            _ => bad(format!("`{name}` takes an array or string and a count"), d),
        },
        "range" => match (a0.and_then(int), a1.and_then(int)) {
            (Some(start), Some(count)) if (0..=MAX_LEN as i64).contains(&count) => {
                Value::List((0..count).map(|i| Value::Num((start + i) as f64)).collect())
            }
            _ => bad(
                "`range` takes a start and a count (at most 1,048,576)".into(),
                d,
            ),
        },
        "array" => match a0 {
            Some(Value::List(_)) => a0.cloned().unwrap_or(Value::Null),
            Some(v) => Value::List(vec![v.clone()]),
            None => bad("`array` takes one argument".into(), d),
        },
        "createarray" => Value::List(args.to_vec()),
        "createobject" => {
            let mut m = BTreeMap::new();
            for pair in args.chunks(2) {
                match pair {
                    [Value::Str(k), v] => {
                        m.insert(k.to_string(), v.clone());
                    }
                    _ => return Some(bad("`createObject` takes key and value pairs".into(), d)),
                }
            }
            Value::Map(m)
        }
        "union" => union(args, d),
        "intersection" => match a0 {
            Some(Value::List(first)) => {
                let lists: Vec<&Vec<Value>> = args
                    .iter()
                    .filter_map(|a| {
                        if let Value::List(l) = a {
                            Some(l)
                        } else {
                            None
                        }
                    })
                    .collect();
                Value::List(
                    first
                        .iter()
                        .filter(|v| lists.iter().all(|l| l.contains(v)))
                        .cloned()
                        .collect(),
                )
            }
            Some(Value::Map(first)) => {
                let maps: Vec<&BTreeMap<String, Value>> = args
                    .iter()
                    .filter_map(|a| if let Value::Map(m) = a { Some(m) } else { None })
                    .collect();
                Value::Map(
                    first
                        .iter()
                        .filter(|(k, v)| maps.iter().all(|m| m.get(*k) == Some(v)))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )
            }
            _ => bad("`intersection` of arrays or objects".into(), d),
        },
        "min" | "max" => {
            let nums: Vec<f64> = match a0 {
                Some(Value::List(l)) if args.len() == 1 => l.iter().filter_map(num).collect(),
                _ => args.iter().filter_map(num).collect(),
            };
            let pick = if lower == "min" {
                nums.iter().copied().reduce(f64::min)
            } else {
                nums.iter().copied().reduce(f64::max)
            };
            match pick {
                Some(n) => Value::Num(n),
                None => bad(format!("`{name}` of no numbers"), d),
            }
        }
        "add" | "sub" | "mul" | "div" | "mod" => match (a0.and_then(int), a1.and_then(int)) {
            (Some(a), Some(b)) => match lower.as_str() {
                "add" => Value::Num(a.saturating_add(b) as f64),
                "sub" => Value::Num(a.saturating_sub(b) as f64),
                "mul" => Value::Num(a.saturating_mul(b) as f64),
                _ if b == 0 => bad("division by zero".into(), d),
                "div" => Value::Num(a.checked_div(b).unwrap_or(0) as f64),
                _ => Value::Num(a.checked_rem(b).unwrap_or(0) as f64),
            },
            _ => bad(format!("`{name}` takes two integers"), d),
        },
        "flatten" => match a0 {
            Some(Value::List(l)) => {
                let mut out = Vec::new();
                for item in l {
                    match item {
                        Value::List(inner) => out.extend(inner.iter().cloned()),
                        u @ Value::Unknown(_) => return Some(u.clone()),
                        other => {
                            return Some(bad(
                                format!("`flatten` of an array holding a {}", other.type_name()),
                                d,
                            ));
                        }
                    }
                    if out.len() > MAX_LEN {
                        return Some(bad("the array is too long".into(), d));
                    }
                }
                Value::List(out)
            }
            _ => bad("`flatten` takes an array of arrays".into(), d),
        },
        "shallowmerge" => match a0 {
            Some(Value::List(l)) => {
                let mut out = BTreeMap::new();
                for item in l {
                    match item {
                        Value::Map(m) => out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone()))),
                        u @ Value::Unknown(_) => return Some(u.clone()),
                        Value::Null => {}
                        other => {
                            return Some(bad(
                                format!(
                                    "`shallowMerge` of an array holding a {}",
                                    other.type_name()
                                ),
                                d,
                            ));
                        }
                    }
                }
                Value::Map(out)
            }
            _ => bad("`shallowMerge` takes an array of objects".into(), d),
        },
        "indexfromend" => match (a0, a1.and_then(int)) {
            (Some(Value::List(l)), Some(i)) if i >= 1 => {
                match usize::try_from(i).ok().and_then(|i| l.len().checked_sub(i)) {
                    Some(k) => l.get(k).cloned().unwrap_or(Value::Null),
                    None => bad(format!("index {i} from the end is outside the array"), d),
                }
            }
            _ => bad(
                "`indexFromEnd` takes an array and an index from 1".into(),
                d,
            ),
        },
        "base64tostring" | "base64tojson" => match s0 {
            Some(s) => {
                use base64::Engine as _;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(s.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok());
                match decoded {
                    Some(t) if lower == "base64tostring" => Value::str(&t),
                    Some(t) => match serde_json::from_str::<serde_json::Value>(&t) {
                        Ok(j) => crate::value::from_json(&j),
                        Err(_) => bad("`base64ToJson` of text that is not JSON".into(), d),
                    },
                    None => bad(format!("`{name}` of text that is not base64 of UTF-8"), d),
                }
            }
            None => bad(format!("`{name}` takes a string"), d),
        },
        "datauri" => match a0.and_then(to_text) {
            Some(s) => {
                use base64::Engine as _;
                Value::str(&format!(
                    "data:text/plain;charset=utf8;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(s)
                ))
            }
            None => bad("`dataUri` takes a value".into(), d),
        },
        "datauritostring" => match s0.and_then(|s| s.split_once(";base64,")) {
            Some((_, data)) => {
                use base64::Engine as _;
                match base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                {
                    Some(t) => Value::str(&t),
                    None => bad(
                        "`dataUriToString` of a data URI that is not base64 of UTF-8".into(),
                        d,
                    ),
                }
            }
            None => bad("`dataUriToString` takes a base64 data URI".into(), d),
        },
        "uricomponent" => match s0 {
            Some(s) => Value::str(&uri_component(s)),
            None => bad("`uriComponent` takes a string".into(), d),
        },
        "uricomponenttostring" => match s0.and_then(uri_component_decode) {
            Some(s) => Value::str(&s),
            None => bad("`uriComponentToString` takes an encoded string".into(), d),
        },
        "parsecidr" | "cidrsubnet" | "cidrhost" => match cidr::call(&lower, args) {
            Ok(v) => v,
            Err(reason) => bad(reason, d),
        },
        "base64" => match s0 {
            Some(s) => {
                use base64::Engine as _;
                Value::str(&base64::engine::general_purpose::STANDARD.encode(s))
            }
            None => bad("`base64` takes a string".into(), d),
        },
        "uri" => match (s0, a1.and_then(Value::as_str)) {
            (Some(base), Some(rel)) => {
                let base = match base.rfind('/') {
                    Some(i) => base.get(..=i).unwrap_or(base),
                    None => base,
                };
                Value::str(&format!("{base}{}", rel.trim_start_matches('/')))
            }
            _ => bad("`uri` takes two strings".into(), d),
        },
        "items" => match a0 {
            Some(Value::Map(m)) => Value::List(
                m.iter()
                    .map(|(k, v)| {
                        let mut e = BTreeMap::new();
                        e.insert("key".to_string(), Value::str(k));
                        e.insert("value".to_string(), v.clone());
                        Value::Map(e)
                    })
                    .collect(),
            ),
            _ => bad("`items` takes an object".into(), d),
        },
        "objectkeys" => match a0 {
            Some(Value::Map(m)) => Value::List(m.keys().map(|k| Value::str(k)).collect()),
            _ => bad("`objectKeys` takes an object".into(), d),
        },
        "tryget" => match (a0, a1) {
            (Some(Value::Map(m)), Some(Value::Str(k))) => {
                m.get(&**k).cloned().unwrap_or(Value::Null)
            }
            (Some(Value::List(l)), Some(i)) => int(i)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| l.get(i))
                .cloned()
                .unwrap_or(Value::Null),
            _ => Value::Null,
        },
        _ => return None,
    };
    Some(v)
}

/// Whether `lower` (a function's name in lower case) takes a lambda.
pub fn is_lambda_function(lower: &str) -> bool {
    matches!(
        lower,
        "filter" | "map" | "reduce" | "sort" | "toobject" | "mapvalues" | "groupby"
    )
}

/// A lambda function (`lower`: `filter`, `map`, `reduce`, `sort`,
/// `toObject`, `mapValues`, `groupBy`) on its evaluated first argument,
/// `reduce`'s initial value, and its lambdas as closures from their
/// arguments to their value: ARM's `lambda('x', …)` and Bicep's `x => …`
/// both come here. Each lambda is given the item and its index (`reduce`:
/// the accumulated value, the item and its index; `sort`: the two items;
/// `mapValues`: the value), and uses as many as it declares.
pub fn lambda_function(
    lower: &str,
    first: Value,
    initial: Option<Value>,
    lambdas: &[Box<dyn Fn(Vec<Value>) -> Value + '_>],
    d: &Deployment<'_>,
) -> Value {
    let Some(f) = lambdas.first() else {
        return bad(format!("`{lower}` needs a lambda"), d);
    };
    let items: Vec<Value> = match (first, lower) {
        (u @ Value::Unknown(_), _) => return u,
        (Value::Map(m), "mapvalues") => {
            return Value::Map(m.into_iter().map(|(k, v)| (k, f(vec![v]))).collect());
        }
        (Value::List(l), _) => l,
        (other, _) => return bad(format!("`{lower}` of a {}", other.type_name()), d),
    };
    let index_of = |i: usize| Value::Num(i as f64);
    let key_of = |v: Value, what: &str| match v {
        Value::Str(k) => Ok(k.to_string()),
        u @ Value::Unknown(_) => Err(u),
        _ => Err(bad(format!("`{what}`'s lambda must give a string"), d)),
    };
    match lower {
        "filter" => {
            let mut out = Vec::new();
            for (i, item) in items.into_iter().enumerate() {
                match f(vec![item.clone(), index_of(i)]) {
                    Value::Bool(true) => out.push(item),
                    Value::Bool(false) => {}
                    u @ Value::Unknown(_) => return u,
                    _ => return bad("`filter`'s lambda must give a boolean".into(), d),
                }
            }
            Value::List(out)
        }
        "map" => Value::List(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| f(vec![item, index_of(i)]))
                .collect(),
        ),
        "reduce" => {
            let mut acc = initial.unwrap_or(Value::Null);
            for (i, item) in items.into_iter().enumerate() {
                acc = f(vec![acc, item, index_of(i)]);
            }
            acc
        }
        "sort" => {
            // An insertion sort by the lambda's "a before b": stable, and
            // an unknown comparison makes the order unknown.
            let mut out: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                let mut pos = out.len();
                while pos > 0 {
                    let prev = out.get(pos - 1).cloned().unwrap_or(Value::Null);
                    match f(vec![item.clone(), prev]) {
                        Value::Bool(true) => pos -= 1,
                        Value::Bool(false) => break,
                        u @ Value::Unknown(_) => return u,
                        _ => return bad("`sort`'s lambda must give a boolean".into(), d),
                    }
                }
                out.insert(pos, item);
            }
            Value::List(out)
        }
        "toobject" => {
            let mut out = BTreeMap::new();
            for item in items {
                let k = match key_of(f(vec![item.clone()]), "toObject") {
                    Ok(k) => k,
                    Err(v) => return v,
                };
                let v = match lambdas.get(1) {
                    Some(value) => value(vec![item]),
                    None => item,
                };
                out.insert(k, v);
            }
            Value::Map(out)
        }
        "groupby" => {
            let mut out: BTreeMap<String, Value> = BTreeMap::new();
            for item in items {
                let k = match key_of(f(vec![item.clone()]), "groupBy") {
                    Ok(k) => k,
                    Err(v) => return v,
                };
                if let Value::List(l) = out.entry(k).or_insert_with(|| Value::List(Vec::new())) {
                    l.push(item);
                }
            }
            Value::Map(out)
        }
        _ => bad(format!("`{lower}` does not take a lambda"), d),
    }
}

/// `uriComponent`: every byte but the unreserved characters of RFC 3986
/// (letters, digits, `-_.~`) percent-encoded, as .NET's
/// `Uri.EscapeDataString`.
fn uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn uri_component_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn text1(s: Option<&str>, d: &Deployment<'_>, f: impl Fn(&str) -> String) -> Value {
    match s {
        Some(s) => Value::str(&f(s)),
        None => bad("this function takes a string".into(), d),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    fn call_str(name: &str, args: &[Value]) -> Value {
        let d = Deployment {
            region: None,
            at: None,
        };
        call(name, args, &d).unwrap()
    }

    /// .NET composite formatting as Microsoft's `format` examples use it.
    #[test]
    fn format_applies_the_specifiers_templates_use() {
        let f = |fmt: &str, args: &[Value]| {
            let mut all = vec![Value::str(fmt)];
            all.extend_from_slice(args);
            call_str("format", &all)
        };
        // The ARM docs' own example: "{0}, {1}. Formatted number: {2:N0}".
        assert_eq!(
            f(
                "{0}, {1}. Formatted number: {2:N0}",
                &[
                    Value::str("Hello"),
                    Value::str("User"),
                    Value::Num(8175133.0)
                ]
            ),
            Value::str("Hello, User. Formatted number: 8,175,133")
        );
        assert_eq!(f("pip-{0:D3}", &[Value::Num(1.0)]), Value::str("pip-001"));
        assert_eq!(f("{0:N2}", &[Value::Num(-1234.5)]), Value::str("-1,234.50"));
        assert_eq!(f("{0:F1}", &[Value::Num(2.26)]), Value::str("2.3"));
        assert_eq!(f("{0:X4}", &[Value::Num(255.0)]), Value::str("00FF"));
        assert_eq!(
            f("[{0,5}|{1,-3}]", &[Value::str("ab"), Value::str("c")]),
            Value::str("[   ab|c  ]")
        );
        assert_eq!(f("{{{0}}}", &[Value::str("x")]), Value::str("{x}"));
        // A specifier proviso does not apply: unknown, not a wrong text.
        assert!(matches!(
            f("{0:yyyy}", &[Value::Num(1.0)]),
            Value::Unknown(_)
        ));
    }

    #[test]
    fn array_object_and_encoding_functions() {
        let l = |v: Vec<Value>| Value::List(v);
        let n = |x: f64| Value::Num(x);
        assert_eq!(
            call_str(
                "flatten",
                &[l(vec![l(vec![n(1.0), n(2.0)]), l(vec![n(3.0)])])]
            ),
            l(vec![n(1.0), n(2.0), n(3.0)])
        );
        let m = |k: &str, v: Value| Value::Map(BTreeMap::from([(k.to_string(), v)]));
        let merged = call_str(
            "shallowMerge",
            &[l(vec![m("a", n(1.0)), m("a", n(2.0)), m("b", n(3.0))])],
        );
        assert_eq!(
            merged,
            Value::Map(BTreeMap::from([
                ("a".to_string(), n(2.0)),
                ("b".to_string(), n(3.0))
            ]))
        );
        assert_eq!(
            call_str("indexFromEnd", &[l(vec![n(1.0), n(2.0), n(3.0)]), n(1.0)]),
            n(3.0)
        );
        assert_eq!(
            call_str("base64ToString", &[Value::str("b25lLCB0d28sIHRocmVl")]),
            Value::str("one, two, three")
        );
        // The ARM docs' examples for dataUri and uriComponent.
        assert_eq!(
            call_str("dataUri", &[Value::str("Hello")]),
            Value::str("data:text/plain;charset=utf8;base64,SGVsbG8=")
        );
        assert_eq!(
            call_str(
                "dataUriToString",
                &[Value::str("data:;base64,SGVsbG8sIFdvcmxkIQ==")]
            ),
            Value::str("Hello, World!")
        );
        assert_eq!(
            call_str(
                "uriComponent",
                &[Value::str(
                    "http://contoso.com/resources/nested/azuredeploy.json"
                )]
            ),
            Value::str("http%3A%2F%2Fcontoso.com%2Fresources%2Fnested%2Fazuredeploy.json")
        );
        assert_eq!(
            call_str(
                "uriComponentToString",
                &[Value::str("http%3A%2F%2Fcontoso.com")]
            ),
            Value::str("http://contoso.com")
        );
    }
}
