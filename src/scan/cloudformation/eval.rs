//! CloudFormation's intrinsic functions, evaluated statically: `Ref`,
//! `Fn::Sub`, `Fn::If`, `Fn::Join`, `Fn::Select`, `Fn::Split`,
//! `Fn::FindInMap`, `Fn::Base64`, and the condition functions
//! (`Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not`, `Condition`), in their
//! long (`Fn::Join: […]`, JSON) and short (`!Join […]`) forms.
//!
//! What only a deployment knows is unknown, with the reason and the place
//! that asked for it: `Fn::GetAtt`, a `Ref` to a resource (its physical
//! ID), `Fn::GetAZs`, `Fn::ImportValue`, the pseudo parameters other than
//! `AWS::Region` (known from `--region`) and those derived from it, a
//! parameter with no default and no value given. A value that takes an
//! unknown in (a `!Sub` with `${AWS::AccountId}`) is unknown; it is never
//! guessed. `AWS::NoValue` removes the property, list item or map entry
//! that holds it.

use crate::scan::yaml::{Data, Node, scalar_value};
use crate::source::{Origin, SourceFile};
use crate::value::{Unknown, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Deepest nesting of intrinsic functions and condition references.
const MAX_DEPTH: usize = 64;

/// A condition's value: true, false, or unknown (and why).
#[derive(Debug, Clone)]
pub enum Tri {
    Known(bool),
    Unknown(Arc<Unknown>),
}

/// What a template's intrinsics can see.
pub struct Env<'t> {
    pub file: &'t Arc<SourceFile>,
    /// Each parameter's value: given, its default, or unknown.
    pub params: HashMap<String, Value>,
    pub mappings: Option<&'t Node>,
    /// A SAM template's `Globals` (under `Transform:
    /// AWS::Serverless-2016-10-31`): properties every `AWS::Serverless::*`
    /// resource of a kind shares.
    pub sam_globals: Option<&'t Node>,
    pub conditions: HashMap<String, &'t Node>,
    pub resources: HashSet<String>,
    pub region: Option<String>,
    cache: RefCell<HashMap<String, Tri>>,
}

impl<'t> Env<'t> {
    pub fn new(file: &'t Arc<SourceFile>, region: Option<String>) -> Env<'t> {
        Env {
            file,
            params: HashMap::new(),
            mappings: None,
            sam_globals: None,
            conditions: HashMap::new(),
            resources: HashSet::new(),
            region,
            cache: RefCell::new(HashMap::new()),
        }
    }

    fn origin(&self, node: &Node) -> Option<Origin> {
        Some(Origin::new(self.file, node.span.clone()))
    }

    fn unknown(&self, reason: impl Into<String>, node: &Node) -> Value {
        Value::unknown(reason, self.origin(node))
    }

    /// A node's value; `None` for `AWS::NoValue` (the place that holds it
    /// is removed).
    pub fn eval(&self, node: &Node) -> Option<Value> {
        self.eval_at(node, 0)
    }

    fn eval_at(&self, node: &Node, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return Some(self.unknown(
                format!("intrinsic functions nested more than {MAX_DEPTH} deep"),
                node,
            ));
        }
        if let Some(tag) = &node.tag {
            let name = match tag.as_str() {
                "Ref" | "Condition" => tag.clone(),
                other => format!("Fn::{other}"),
            };
            return self.call(&name, node, true, node, depth + 1);
        }
        match &node.data {
            Data::Scalar(s, quoted) => Some(scalar_value(s, *quoted)),
            Data::Seq(items) => Some(Value::List(
                items
                    .iter()
                    .filter_map(|i| self.eval_at(i, depth + 1))
                    .collect(),
            )),
            Data::Map(entries) => {
                if let [(k, v)] = entries.as_slice()
                    && let Some(name) = k.as_str()
                    && (name == "Ref" || name.starts_with("Fn::"))
                {
                    return self.call(name, v, false, node, depth + 1);
                }
                let mut map = BTreeMap::new();
                for (k, v) in entries {
                    let key = match k.as_str() {
                        Some(s) => s.to_string(),
                        None => continue,
                    };
                    if let Some(v) = self.eval_at(v, depth + 1) {
                        map.insert(key, v);
                    }
                }
                Some(Value::Map(map))
            }
        }
    }

    /// The argument of a function: the node itself with its tag set aside
    /// (short form), or the value under the function's key (long form).
    fn arg(&self, arg: &Node, short: bool, depth: usize) -> Option<Value> {
        if short {
            let plain = Node {
                data: arg.data.clone(),
                tag: None,
                span: arg.span.clone(),
            };
            self.eval_at(&plain, depth)
        } else {
            self.eval_at(arg, depth)
        }
    }

    fn call(&self, name: &str, arg: &Node, short: bool, at: &Node, depth: usize) -> Option<Value> {
        match name {
            "Ref" => {
                let target = match self.arg(arg, short, depth)? {
                    Value::Str(s) => s.to_string(),
                    u @ Value::Unknown(_) => return Some(u),
                    _ => {
                        return Some(
                            self.unknown("`Ref` takes the name of a parameter or resource", at),
                        );
                    }
                };
                self.reference(&target, at)
            }
            "Fn::If" => {
                let items = match &arg.data {
                    Data::Seq(items) if arg.tag.is_none() || short => items,
                    _ => {
                        return Some(self.unknown(
                            "`Fn::If` takes [condition, value if true, value if false]",
                            at,
                        ));
                    }
                };
                let [cond, yes, no] = items.as_slice() else {
                    return Some(self.unknown(
                        "`Fn::If` takes [condition, value if true, value if false]",
                        at,
                    ));
                };
                let Some(cname) = cond.as_str() else {
                    return Some(self.unknown("`Fn::If` takes a condition's name first", at));
                };
                match self.condition(cname, cond, depth) {
                    Tri::Known(true) => self.eval_at(yes, depth),
                    Tri::Known(false) => self.eval_at(no, depth),
                    Tri::Unknown(u) => {
                        let (a, b) = (self.eval_at(yes, depth), self.eval_at(no, depth));
                        if a == b && a.as_ref().is_none_or(|v| v.find_unknown().is_none()) {
                            a
                        } else {
                            Some(Value::Unknown(u))
                        }
                    }
                }
            }
            "Condition" => {
                let Some(cname) = self
                    .arg(arg, short, depth)
                    .and_then(|v| v.as_str().map(str::to_string))
                else {
                    return Some(self.unknown("`Condition` takes a condition's name", at));
                };
                Some(match self.condition(&cname, at, depth) {
                    Tri::Known(b) => Value::Bool(b),
                    Tri::Unknown(u) => Value::Unknown(u),
                })
            }
            "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" => {
                Some(match self.cond_fn(name, arg, short, at, depth) {
                    Tri::Known(b) => Value::Bool(b),
                    Tri::Unknown(u) => Value::Unknown(u),
                })
            }
            "Fn::Sub" => {
                let v = self.arg(arg, short, depth)?;
                let (template, vars) = match v {
                    Value::Str(s) => (s.to_string(), BTreeMap::new()),
                    Value::List(items) => match items.as_slice() {
                        [Value::Str(s), Value::Map(m)] => (s.to_string(), m.clone()),
                        [Value::Str(s)] => (s.to_string(), BTreeMap::new()),
                        [u @ Value::Unknown(_), ..] => return Some(u.clone()),
                        _ => {
                            return Some(self.unknown(
                                "`Fn::Sub` takes a string, or [string, {variables}]",
                                at,
                            ));
                        }
                    },
                    u @ Value::Unknown(_) => return Some(u),
                    _ => {
                        return Some(
                            self.unknown("`Fn::Sub` takes a string, or [string, {variables}]", at),
                        );
                    }
                };
                Some(self.sub(&template, &vars, at))
            }
            "Fn::Join" => {
                let v = self.arg(arg, short, depth)?;
                let Value::List(items) = &v else {
                    return Some(known_or(&v, || {
                        self.unknown("`Fn::Join` takes [delimiter, [values]]", at)
                    }));
                };
                let [delim, list] = items.as_slice() else {
                    return Some(self.unknown("`Fn::Join` takes [delimiter, [values]]", at));
                };
                if let Some(u) = delim.find_unknown().or_else(|| list.find_unknown()) {
                    return Some(Value::Unknown(u.clone()));
                }
                let (Value::Str(d), Value::List(parts)) = (delim, list) else {
                    return Some(self.unknown("`Fn::Join` takes [delimiter, [values]]", at));
                };
                let parts: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
                Some(Value::str(&parts.join(d)))
            }
            "Fn::Select" => {
                let v = self.arg(arg, short, depth)?;
                let Value::List(items) = &v else {
                    return Some(known_or(&v, || {
                        self.unknown("`Fn::Select` takes [index, [values]]", at)
                    }));
                };
                let [index, list] = items.as_slice() else {
                    return Some(self.unknown("`Fn::Select` takes [index, [values]]", at));
                };
                if let Value::Unknown(u) = index {
                    return Some(Value::Unknown(u.clone()));
                }
                let i = match index {
                    Value::Num(n) if *n >= 0.0 && n.fract() == 0.0 => *n as usize,
                    Value::Str(s) => match s.trim().parse::<usize>() {
                        Ok(i) => i,
                        Err(_) => {
                            return Some(self.unknown("`Fn::Select`'s index is not a number", at));
                        }
                    },
                    _ => return Some(self.unknown("`Fn::Select`'s index is not a number", at)),
                };
                match list {
                    Value::List(values) => Some(values.get(i).cloned().unwrap_or_else(|| {
                        self.unknown(
                            format!(
                                "`Fn::Select` index {i} is past the end of a list of {}",
                                values.len()
                            ),
                            at,
                        )
                    })),
                    Value::Unknown(u) => Some(Value::Unknown(u.clone())),
                    _ => Some(self.unknown("`Fn::Select` takes a list", at)),
                }
            }
            "Fn::Split" => {
                let v = self.arg(arg, short, depth)?;
                let Value::List(items) = &v else {
                    return Some(known_or(&v, || {
                        self.unknown("`Fn::Split` takes [delimiter, string]", at)
                    }));
                };
                match items.as_slice() {
                    [Value::Str(d), Value::Str(s)] if !d.is_empty() => {
                        Some(Value::List(s.split(d.as_ref()).map(Value::str).collect()))
                    }
                    [a, b] if a.find_unknown().or(b.find_unknown()).is_some() => a
                        .find_unknown()
                        .or(b.find_unknown())
                        .map(|u| Value::Unknown(u.clone())),
                    _ => Some(self.unknown("`Fn::Split` takes [delimiter, string]", at)),
                }
            }
            "Fn::FindInMap" => {
                let v = self.arg(arg, short, depth)?;
                let Value::List(items) = &v else {
                    return Some(known_or(&v, || {
                        self.unknown("`Fn::FindInMap` takes [map, key, key]", at)
                    }));
                };
                let (keys, default) = match items.as_slice() {
                    [a, b, c] => ([a, b, c], None),
                    [a, b, c, Value::Map(d)] => ([a, b, c], d.get("DefaultValue")),
                    _ => return Some(self.unknown("`Fn::FindInMap` takes [map, key, key]", at)),
                };
                if let Some(u) = keys.iter().find_map(|k| k.find_unknown()) {
                    return Some(Value::Unknown(u.clone()));
                }
                let names: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
                let found = self
                    .mappings
                    .and_then(|m| m.get(names.first()?.as_str()))
                    .and_then(|m| m.get(names.get(1)?.as_str()))
                    .and_then(|m| m.get(names.get(2)?.as_str()));
                match (found, default) {
                    (Some(n), _) => self.eval_at(n, depth),
                    (None, Some(d)) => Some(d.clone()),
                    (None, None) => Some(Value::Unknown(Arc::new(Unknown {
                        reason: format!("`Mappings` has no `{}`", names.join(" → ")),
                        origin: self.origin(at),
                        fails: true,
                    }))),
                }
            }
            "Fn::Base64" => {
                use base64::Engine as _;
                match self.arg(arg, short, depth)? {
                    Value::Str(s) => Some(Value::str(
                        &base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
                    )),
                    u @ Value::Unknown(_) => Some(u),
                    other => {
                        Some(self.unknown(format!("`Fn::Base64` of a {}", other.type_name()), at))
                    }
                }
            }
            "Fn::GetAtt" => {
                let what = match self.arg(arg, short, depth) {
                    Some(Value::Str(s)) => s.to_string(),
                    Some(Value::List(l)) => l
                        .iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join("."),
                    _ => "an attribute".into(),
                };
                Some(self.unknown(
                    format!("`Fn::GetAtt {what}` is known only after deployment"),
                    at,
                ))
            }
            "Fn::GetAZs" => Some(self.unknown(
                "`Fn::GetAZs`: the availability zones of the account are known only at deployment",
                at,
            )),
            "Fn::ImportValue" => Some(self.unknown(
                "`Fn::ImportValue`: another stack's export is known only at deployment",
                at,
            )),
            other => Some(self.unknown(format!("`{other}` is not evaluated by proviso"), at)),
        }
    }

    /// `Ref` to a parameter, pseudo parameter or resource.
    fn reference(&self, target: &str, at: &Node) -> Option<Value> {
        if let Some(v) = self.params.get(target) {
            return Some(match v {
                Value::Unknown(u) if u.origin.is_none() => Value::Unknown(Arc::new(Unknown {
                    reason: u.reason.clone(),
                    origin: self.origin(at),
                    fails: false,
                })),
                v => v.clone(),
            });
        }
        let region_needed = |what: &str| {
            self.unknown(
                format!("`{what}` depends on the stack's region, known only at deployment: pass `--region`"),
                at,
            )
        };
        Some(match target {
            "AWS::NoValue" => return None,
            "AWS::Region" => match &self.region {
                Some(r) => Value::str(r),
                None => region_needed("AWS::Region"),
            },
            "AWS::Partition" => match &self.region {
                Some(r) => Value::str(partition(r)),
                None => region_needed("AWS::Partition"),
            },
            "AWS::URLSuffix" => match &self.region {
                Some(r) if r.starts_with("cn-") => Value::str("amazonaws.com.cn"),
                Some(_) => Value::str("amazonaws.com"),
                None => region_needed("AWS::URLSuffix"),
            },
            "AWS::AccountId" | "AWS::StackName" | "AWS::StackId" | "AWS::NotificationARNs" => {
                self.unknown(format!("`{target}` is known only at deployment"), at)
            }
            r if self.resources.contains(r) => self.unknown(
                format!(
                    "`Ref {r}`: the physical ID of resource `{r}` is known only after deployment"
                ),
                at,
            ),
            other => Value::Unknown(Arc::new(Unknown {
                reason: format!(
                    "`Ref {other}`: the template declares no parameter or resource `{other}`"
                ),
                origin: self.origin(at),
                fails: true,
            })),
        })
    }

    /// `Fn::Sub`'s string with `${Name}`, `${Resource.Attr}` and `${!Literal}`.
    fn sub(&self, template: &str, vars: &BTreeMap<String, Value>, at: &Node) -> Value {
        let mut out = String::new();
        let mut rest = template;
        while let Some(i) = rest.find("${") {
            out.push_str(rest.get(..i).unwrap_or(""));
            let after = rest.get(i + 2..).unwrap_or("");
            let Some(end) = after.find('}') else {
                out.push_str(rest.get(i..).unwrap_or(""));
                rest = "";
                break;
            };
            let name = after.get(..end).unwrap_or("").trim();
            rest = after.get(end + 1..).unwrap_or("");
            if let Some(lit) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(lit);
                out.push('}');
                continue;
            }
            let v = match vars.get(name) {
                Some(v) => v.clone(),
                None if name.contains('.') && !name.starts_with("AWS::") => {
                    return self.unknown(
                        format!("`${{{name}}}` is an attribute known only after deployment"),
                        at,
                    );
                }
                None => match self.reference(name, at) {
                    Some(v) => v,
                    None => Value::str(""),
                },
            };
            match v {
                Value::Unknown(u) => return Value::Unknown(u),
                Value::List(_) | Value::Map(_) => {
                    return self.unknown(format!("`${{{name}}}` is not a string"), at);
                }
                v => out.push_str(&v.to_string()),
            }
        }
        out.push_str(rest);
        Value::str(&out)
    }

    /// A named condition of `Conditions`, evaluated once.
    pub fn condition(&self, name: &str, at: &Node, depth: usize) -> Tri {
        if let Some(t) = self.cache.borrow().get(name) {
            return t.clone();
        }
        let Some(node) = self.conditions.get(name).copied() else {
            return Tri::Unknown(Arc::new(Unknown {
                reason: format!("the template declares no condition `{name}`"),
                origin: self.origin(at),
                fails: true,
            }));
        };
        if depth > MAX_DEPTH {
            return Tri::Unknown(Arc::new(Unknown {
                reason: format!(
                    "condition `{name}` refers to conditions in a cycle, or nested more than {MAX_DEPTH} deep"
                ),
                origin: self.origin(at),
                fails: true,
            }));
        }
        let t = self.cond_node(node, depth + 1);
        self.cache.borrow_mut().insert(name.to_string(), t.clone());
        t
    }

    fn cond_node(&self, node: &Node, depth: usize) -> Tri {
        if depth > MAX_DEPTH {
            return self.cond_unknown("conditions nested too deep", node);
        }
        if let Some(tag) = &node.tag {
            let name = if tag == "Condition" {
                tag.clone()
            } else {
                format!("Fn::{tag}")
            };
            return self.cond_fn(&name, node, true, node, depth);
        }
        if let [(k, v)] = node.entries()
            && let Some(name) = k.as_str()
        {
            return self.cond_fn(name, v, false, node, depth);
        }
        match self.eval_at(node, depth) {
            Some(Value::Bool(b)) => Tri::Known(b),
            Some(Value::Str(s)) if s.as_ref() == "true" => Tri::Known(true),
            Some(Value::Str(s)) if s.as_ref() == "false" => Tri::Known(false),
            Some(Value::Unknown(u)) => Tri::Unknown(u),
            _ => self.cond_unknown(
                "a condition is `Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not` or `Condition`",
                node,
            ),
        }
    }

    fn cond_unknown(&self, why: &str, node: &Node) -> Tri {
        Tri::Unknown(Arc::new(Unknown {
            reason: why.to_string(),
            origin: self.origin(node),
            fails: true,
        }))
    }

    fn cond_fn(&self, name: &str, arg: &Node, short: bool, at: &Node, depth: usize) -> Tri {
        let items: Vec<&Node> = match &arg.data {
            Data::Seq(items) if short || arg.tag.is_none() => items.iter().collect(),
            _ => vec![arg],
        };
        match name {
            "Condition" => match arg.as_str() {
                Some(n) => self.condition(n, at, depth + 1),
                None => self.cond_unknown("`Condition` takes a condition's name", at),
            },
            "Fn::Not" => match items.as_slice() {
                [one] => match self.cond_node(one, depth + 1) {
                    Tri::Known(b) => Tri::Known(!b),
                    u => u,
                },
                _ => self.cond_unknown("`Fn::Not` takes [condition]", at),
            },
            "Fn::And" | "Fn::Or" => {
                let and = name == "Fn::And";
                let mut unknown = None;
                for i in &items {
                    match self.cond_node(i, depth + 1) {
                        Tri::Known(b) if b != and => return Tri::Known(b),
                        Tri::Known(_) => {}
                        Tri::Unknown(u) => unknown = unknown.or(Some(u)),
                    }
                }
                match unknown {
                    Some(u) => Tri::Unknown(u),
                    None => Tri::Known(and),
                }
            }
            "Fn::Equals" => {
                let [a, b] = items.as_slice() else {
                    return self.cond_unknown("`Fn::Equals` takes [value, value]", at);
                };
                let (a, b) = (self.eval_at(a, depth + 1), self.eval_at(b, depth + 1));
                let (a, b) = (a.unwrap_or(Value::Null), b.unwrap_or(Value::Null));
                if let Some(u) = a.find_unknown().or(b.find_unknown()) {
                    return Tri::Unknown(u.clone());
                }
                Tri::Known(a.to_string() == b.to_string())
            }
            other => self.cond_unknown(&format!("`{other}` is not a condition function"), at),
        }
    }
}

/// The value itself when it is unknown, else `otherwise`.
fn known_or(v: &Value, otherwise: impl FnOnce() -> Value) -> Value {
    match v {
        Value::Unknown(u) => Value::Unknown(u.clone()),
        _ => otherwise(),
    }
}

/// The partition of a region.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}
