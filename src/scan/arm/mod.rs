//! ARM templates (JSON) to records, one per resource instance.
//!
//! A template is recognised by its `$schema` (a `deploymentTemplate.json`
//! of any scope, [`looks_like_arm`]); parameters files by theirs
//! (`deploymentParameters.json`). Values are evaluated statically where
//! the template says them: parameters (a parameters file's `value` over
//! the `defaultValue`, which may itself be an expression), variables
//! (with `copy`), and the expression language ([`expr`], [`funcs`]). What
//! depends on the deployment (`resourceGroup().location` without
//! `--region`, `uniqueString`, `reference`, a parameter with no value) is
//! unknown, never guessed.
//!
//! Resources are walked with their nested `resources` (a child's type and
//! name are its parent's joined with `/`), `copy` loops (a known count
//! gives one record per instance, `[i]` in the address; an unknown count
//! one record whose existence is unknown) and `condition` (`false`
//! removes the record and its nested children; unknown makes its existence
//! unknown). Both the array form and the symbolic-name object form
//! (`languageVersion` 2.0, with `existing`) of `resources` are read.
//! Records are built by [`record`], shared with the Bicep scanner.

pub mod discover;
pub mod expr;
pub mod funcs;
pub mod json;
pub mod record;

use crate::diag::{Code, Diag};
use crate::scan::terraform::waivers;
use crate::scan::{ScanOutput, ScannedRecord};
use crate::source::{Origin, SourceFile, display_path};
use crate::value::{Unknown, Value};
use expr::{Scope, Template};
use json::{Kind, Member, Node};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Azure scanner settings (ARM and Bicep).
#[derive(Debug, Clone, Default)]
pub struct AzureOptions {
    /// `--region`: the resource group's location, which
    /// `resourceGroup().location` and `deployment().location` return.
    pub region: Option<String>,
    /// ARM parameters files (`--var-file`), later files winning.
    pub parameter_files: Vec<PathBuf>,
}

/// ARM's largest `copy` count.
pub const MAX_COPY: usize = 800;
/// Deepest nesting of child `resources`.
pub const MAX_NESTING: usize = 16;
/// Most records one template gives.
pub const MAX_RECORDS: usize = 100_000;
/// Deepest chain of variables or parameter defaults that name each other.
const MAX_CHAIN: usize = 64;

/// Resource members that are not attributes.
const META: [&str; 7] = [
    "type",
    "copy",
    "condition",
    "dependsOn",
    "resources",
    "comments",
    "existing",
];

/// The `$schema` string of a JSON document, read from the text without
/// parsing all of it.
fn schema_of(text: &str) -> Option<&str> {
    let head = text.trim_start_matches('\u{feff}').trim_start();
    if !head.starts_with('{') && !head.starts_with('/') {
        return None;
    }
    let at = text.find("\"$schema\"")?;
    let rest = text.get(at + 9..)?.trim_start().strip_prefix(':')?;
    let rest = rest.trim_start().strip_prefix('"')?;
    rest.get(..rest.find('"')?)
}

/// Whether a text is an ARM template: JSON whose `$schema` is a
/// deployment template schema (resource group, subscription, management
/// group or tenant scope).
pub fn looks_like_arm(text: &str) -> bool {
    schema_of(text).is_some_and(|s| s.to_ascii_lowercase().contains("deploymenttemplate.json"))
}

/// Whether a text is an ARM parameters file (`deploymentParameters.json`).
pub fn looks_like_arm_parameters(text: &str) -> bool {
    schema_of(text).is_some_and(|s| s.to_ascii_lowercase().contains("deploymentparameters.json"))
}

/// A parameter's value from a parameters file, and where it is written.
pub type Given = BTreeMap<String, (Value, Origin)>;

/// Reads the parameters files: `parameters.<name>.value` of each, later
/// files winning (a Key Vault `reference` is unknown). Names are
/// lowercased, as ARM matches them without case.
pub fn parameter_values(files: &[PathBuf], out: &mut ScanOutput) -> Given {
    let mut given = Given::new();
    for path in files {
        let source = match crate::diag::read_text(path) {
            Ok(t) => SourceFile::new(display_path(path), t),
            Err(d) => {
                out.malformed.push(d);
                continue;
            }
        };
        let root = match json::parse(&source.text) {
            Ok(r) => r,
            Err(e) => {
                out.malformed
                    .push(json_error(&source, &e, "a parameters file"));
                continue;
            }
        };
        let Some(params) = root.get("parameters") else {
            out.malformed.push(
                Diag::error(
                    Code::InputMalformedArm,
                    format!("`{}` has no `parameters` object", source.name),
                )
                .in_file(&source)
                .label(0..0, "here")
                .with_help("an ARM parameters file is `{\"$schema\": \"…deploymentParameters.json#\", \"parameters\": {\"name\": {\"value\": …}}}`"),
            );
            continue;
        };
        for m in params.value.members() {
            let v = match (m.value.get("value"), m.value.get("reference")) {
                (Some(v), _) => literal(&v.value),
                (None, Some(r)) => Value::unknown(
                    format!("parameter `{}` is a Key Vault secret reference", m.key),
                    Some(Origin::new(&source, r.value.span.clone())),
                ),
                (None, None) => continue,
            };
            let at = m
                .value
                .get("value")
                .map_or(m.key_span.clone(), |v| v.value.span.clone());
            given.insert(m.key.to_ascii_lowercase(), (v, Origin::new(&source, at)));
        }
    }
    given
}

/// A JSON value as written (no expressions).
pub fn literal(n: &Node) -> Value {
    literal_at(n, 0)
}

fn literal_at(n: &Node, depth: usize) -> Value {
    if depth > json::MAX_DEPTH {
        return Value::Null;
    }
    match &n.kind {
        Kind::Null => Value::Null,
        Kind::Bool(b) => Value::Bool(*b),
        Kind::Num(x) => Value::Num(*x),
        Kind::Str(s) => Value::str(s),
        Kind::Array(a) => Value::List(a.iter().map(|x| literal_at(x, depth + 1)).collect()),
        Kind::Object(m) => Value::Map(
            m.iter()
                .map(|m| (m.key.clone(), literal_at(&m.value, depth + 1)))
                .collect(),
        ),
    }
}

fn json_error(source: &Arc<SourceFile>, e: &json::JsonError, what: &str) -> Diag {
    let (line, col) = source.line_col(e.offset);
    Diag::error(
        Code::InputMalformedArm,
        format!(
            "`{}` is not valid JSON ({what}) at line {line}, column {col}: {}",
            source.name, e.message
        ),
    )
    .in_file(source)
    .label(e.offset..e.offset, "here")
    .with_help("fix the JSON (Azure accepts `//` and `/* */` comments, nothing else beyond JSON); the other files are still checked")
}

/// Scans one ARM template into records.
pub fn scan_arm_file(path: &Path, text: &str, opts: &AzureOptions) -> ScanOutput {
    let mut out = ScanOutput {
        files: 1,
        ..ScanOutput::default()
    };
    let given = parameter_values(&opts.parameter_files, &mut out);
    let part = scan_template(path, text, opts.region.as_deref(), &given);
    out.merge(part);
    out
}

/// Scans one ARM template with the parameter values given (a parameters
/// file's, or a Bicep module call's).
pub fn scan_template(path: &Path, text: &str, region: Option<&str>, given: &Given) -> ScanOutput {
    let mut out = ScanOutput::default();
    let source = SourceFile::new(display_path(path), text.to_string());
    let root = match json::parse(text) {
        Ok(r) => r,
        Err(e) => {
            out.malformed
                .push(json_error(&source, &e, "an ARM template"));
            return out;
        }
    };
    let tpl = Tpl::new(source.clone(), &root, given, region);
    let mut records = Vec::new();
    let mut items = Vec::new();
    if let Some(res) = root.get("resources") {
        let walk = Walk {
            tpl: &tpl,
            parent: None,
            existence: None,
            copy: Vec::new(),
            prefix: String::new(),
        };
        walk.resources(&res.value, 0, &mut records, &mut items);
    }
    out.malformed.extend(tpl.errors.into_inner());
    let (w, e) = waivers::find_items(&source, items);
    out.waivers.extend(w);
    out.waiver_errors.extend(e);
    crate::scan::sort_records(&mut records);
    out.records = records;
    out
}

/// A template being evaluated.
struct Tpl<'a> {
    file: Arc<SourceFile>,
    root: &'a Node,
    params: BTreeMap<String, &'a Member>,
    given: &'a Given,
    vars: BTreeMap<String, &'a Node>,
    /// Variables made by the top-level variable `copy`: name → its entry.
    var_copies: BTreeMap<String, &'a Node>,
    region: Option<&'a str>,
    memo: RefCell<BTreeMap<String, Value>>,
    busy: RefCell<Vec<String>>,
    errors: RefCell<Vec<Diag>>,
    reported: RefCell<BTreeSet<usize>>,
}

impl<'a> Tpl<'a> {
    fn new(
        file: Arc<SourceFile>,
        root: &'a Node,
        given: &'a Given,
        region: Option<&'a str>,
    ) -> Tpl<'a> {
        let params = root
            .get("parameters")
            .map(|p| {
                p.value
                    .members()
                    .iter()
                    .map(|m| (m.key.to_ascii_lowercase(), m))
                    .collect()
            })
            .unwrap_or_default();
        let mut vars = BTreeMap::new();
        let mut var_copies = BTreeMap::new();
        if let Some(v) = root.get("variables") {
            for m in v.value.members() {
                if m.key.eq_ignore_ascii_case("copy") {
                    if let Kind::Array(entries) = &m.value.kind {
                        for e in entries {
                            if let Some(n) = e.get("name").and_then(|n| n.value.as_str()) {
                                var_copies.insert(n.to_ascii_lowercase(), e);
                            }
                        }
                    }
                } else {
                    vars.insert(m.key.to_ascii_lowercase(), &m.value);
                }
            }
        }
        Tpl {
            file,
            root,
            params,
            given,
            vars,
            var_copies,
            region,
            memo: RefCell::new(BTreeMap::new()),
            busy: RefCell::new(Vec::new()),
            errors: RefCell::new(Vec::new()),
            reported: RefCell::new(BTreeSet::new()),
        }
    }

    fn origin(&self, span: &Range<usize>) -> Option<Origin> {
        Some(Origin::new(&self.file, span.clone()))
    }

    fn fails(&self, reason: &str, at: &Option<Origin>) -> Value {
        crate::scan::terraform::error::deployment_failure(reason, at.clone())
    }

    /// Evaluates a memoized named value (`p:x`, `v:x`) once, guarding cycles.
    fn named(&self, key: String, at: &Option<Origin>, f: impl FnOnce() -> Value) -> Value {
        if let Some(v) = self.memo.borrow().get(&key) {
            return v.clone();
        }
        if self.busy.borrow().contains(&key) || self.busy.borrow().len() > MAX_CHAIN {
            return self.fails(
                &format!(
                    "`{}` refers to itself (or the chain is too long)",
                    key.get(2..).unwrap_or("")
                ),
                at,
            );
        }
        self.busy.borrow_mut().push(key.clone());
        let v = f();
        self.busy.borrow_mut().pop();
        self.memo.borrow_mut().insert(key, v.clone());
        v
    }

    fn parameter(&self, name: &str, at: &Option<Origin>) -> Value {
        let key = name.to_ascii_lowercase();
        if let Some((v, _)) = self.given.get(&key) {
            return v.clone();
        }
        let Some(m) = self.params.get(&key) else {
            return self.fails(&format!("the template has no parameter `{name}`"), at);
        };
        match m.value.get("defaultValue") {
            Some(d) => self.named(format!("p:{key}"), at, || {
                self.value(&d.value, &Ctx::top(self), 0)
            }),
            // A `"nullable": true` parameter given no value is `null`
            // (what Bicep's `param x T?` compiles to).
            None if m
                .value
                .get("nullable")
                .is_some_and(|n| matches!(n.value.kind, Kind::Bool(true))) =>
            {
                Value::Null
            }
            None => Value::unknown(
                format!(
                    "parameter `{name}` has no default and no parameters file gives it a value (pass one with `--var-file`)"
                ),
                at.clone().or_else(|| self.origin(&m.key_span)),
            ),
        }
    }

    /// `f` on a parameter's or variable's value, lent from the memo (see
    /// [`Scope::with_named`]): evaluated once, never copied whole.
    fn with_named(
        &self,
        parameter: bool,
        name: &str,
        at: &Option<Origin>,
        f: &mut dyn FnMut(&Value) -> Value,
    ) -> Value {
        let key = name.to_ascii_lowercase();
        if parameter && let Some((v, _)) = self.given.get(&key) {
            return f(v);
        }
        let memo_key = format!("{}:{key}", if parameter { "p" } else { "v" });
        if !self.memo.borrow().contains_key(&memo_key) {
            let v = if parameter {
                self.parameter(name, at)
            } else {
                self.variable(name, at)
            };
            if !self.memo.borrow().contains_key(&memo_key) {
                // Not memoized (no such name, no default): this once.
                return f(&v);
            }
        }
        let memo = self.memo.borrow();
        match memo.get(&memo_key) {
            Some(v) => f(v),
            None => f(&Value::Null),
        }
    }

    fn variable(&self, name: &str, at: &Option<Origin>) -> Value {
        let key = name.to_ascii_lowercase();
        if let Some(node) = self.vars.get(&key) {
            let node: &Node = node;
            return self.named(format!("v:{key}"), at, || {
                self.value(node, &Ctx::top(self), 0)
            });
        }
        if let Some(entry) = self.var_copies.get(&key) {
            let entry: &Node = entry;
            return self.named(format!("v:{key}"), at, || {
                self.copy_entry(entry, &key, &Ctx::top(self), 0, at)
            });
        }
        self.fails(&format!("the template has no variable `{name}`"), at)
    }

    /// A `copy` entry (`{name, count, input}`) to its array.
    fn copy_entry(
        &self,
        entry: &Node,
        name: &str,
        ctx: &Ctx<'_, 'a>,
        depth: usize,
        at: &Option<Origin>,
    ) -> Value {
        let count = entry
            .get("count")
            .map_or(Value::Num(0.0), |c| self.value(&c.value, ctx, depth + 1));
        let Some(input) = entry.get("input") else {
            return self.fails(&format!("copy `{name}` has no `input`"), at);
        };
        match count {
            Value::Num(n) if n >= 0.0 && (n as usize) <= MAX_COPY => {
                let items = (0..n as usize)
                    .map(|i| {
                        let c = ctx.with(name, Value::Num(i as f64));
                        self.value(&input.value, &c, depth + 1)
                    })
                    .collect();
                Value::List(items)
            }
            u @ Value::Unknown(_) => u,
            _ => self.fails(
                &format!("copy `{name}` needs a count from 0 to {MAX_COPY}"),
                at,
            ),
        }
    }

    /// Evaluates a JSON value of the template (strings may be expressions).
    fn value(&self, node: &Node, ctx: &Ctx<'_, 'a>, depth: usize) -> Value {
        let at = self.origin(&node.span);
        if depth > json::MAX_DEPTH {
            return self.fails("the value nests too deeply", &at);
        }
        match &node.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Num(n) => Value::Num(*n),
            Kind::Str(s) => match expr::classify(s) {
                Template::Literal(l) => Value::str(&l),
                Template::Expr(e) => match expr::parse(e) {
                    Ok(parsed) => expr::eval(&parsed, ctx, &at),
                    Err(why) => {
                        if self.reported.borrow_mut().insert(node.span.start) {
                            self.errors.borrow_mut().push(
                                Diag::error(
                                    Code::InputMalformedArm,
                                    format!("this template expression cannot be read: {why}"),
                                )
                                .in_file(&self.file)
                                .label(node.span.clone(), "here")
                                .with_help("write it as ARM's expression syntax (`[concat(parameters('a'), 'b')]`); a literal string starting with `[` is written `[[`"),
                            );
                        }
                        self.fails(&format!("the expression cannot be read: {why}"), &at)
                    }
                },
            },
            Kind::Array(items) => Value::List(
                items
                    .iter()
                    .map(|i| self.value(i, ctx, depth + 1))
                    .collect(),
            ),
            Kind::Object(members) => {
                let mut map = BTreeMap::new();
                for m in members {
                    if m.key.eq_ignore_ascii_case("copy")
                        && let Kind::Array(entries) = &m.value.kind
                        && entries.iter().all(|e| e.get("input").is_some())
                    {
                        // Property iteration: each entry makes an array property.
                        for e in entries {
                            if let Some(n) = e.get("name").and_then(|n| n.value.as_str()) {
                                let v = self.copy_entry(e, n, ctx, depth + 1, &at);
                                map.insert(n.to_string(), v);
                            }
                        }
                        continue;
                    }
                    map.insert(m.key.clone(), self.value(&m.value, ctx, depth + 1));
                }
                Value::Map(map)
            }
        }
    }
}

/// An evaluation scope: the template and the `copy` loops bound.
struct Ctx<'t, 'a> {
    tpl: &'t Tpl<'a>,
    copy: Vec<(String, Value)>,
}

impl<'t, 'a> Ctx<'t, 'a> {
    fn top(tpl: &'t Tpl<'a>) -> Ctx<'t, 'a> {
        Ctx {
            tpl,
            copy: Vec::new(),
        }
    }

    fn with(&self, name: &str, index: Value) -> Ctx<'t, 'a> {
        let mut copy = self.copy.clone();
        copy.push((name.to_ascii_lowercase(), index));
        Ctx {
            tpl: self.tpl,
            copy,
        }
    }
}

impl Scope for Ctx<'_, '_> {
    fn parameter(&self, name: &str, at: &Option<Origin>) -> Value {
        self.tpl.parameter(name, at)
    }

    fn variable(&self, name: &str, at: &Option<Origin>) -> Value {
        self.tpl.variable(name, at)
    }

    fn copy_index(&self, loop_name: Option<&str>, at: &Option<Origin>) -> Value {
        let found = match loop_name {
            Some(n) => self
                .copy
                .iter()
                .rev()
                .find(|(k, _)| k.eq_ignore_ascii_case(n)),
            None => self.copy.last(),
        };
        match found {
            Some((_, v)) => v.clone(),
            None => self
                .tpl
                .fails("`copyIndex()` is used outside a `copy` loop", at),
        }
    }

    fn region(&self) -> Option<&str> {
        self.tpl.region
    }

    fn with_named(
        &self,
        parameter: bool,
        name: &str,
        at: &Option<Origin>,
        f: &mut dyn FnMut(&Value) -> Value,
    ) -> Value {
        self.tpl.with_named(parameter, name, at, f)
    }
}

/// The parent of nested resources: its full type and name.
struct Parent {
    ty: String,
    name: Value,
    name_text: String,
}

struct Walk<'t, 'a> {
    tpl: &'t Tpl<'a>,
    parent: Option<Parent>,
    existence: Option<Arc<Unknown>>,
    copy: Vec<(String, Value)>,
    /// `<deployment address>::` inside a nested deployment's template.
    prefix: String,
}

/// One instance of a resource to build.
struct Instance {
    ctx_copy: Vec<(String, Value)>,
    suffix: String,
    existence: Option<Arc<Unknown>>,
}

impl<'a> Walk<'_, 'a> {
    fn resources(
        &self,
        list: &'a Node,
        depth: usize,
        records: &mut Vec<ScannedRecord>,
        items: &mut Vec<waivers::Item>,
    ) {
        if depth > MAX_NESTING {
            self.tpl.errors.borrow_mut().push(
                Diag::error(
                    Code::InputMalformedArm,
                    format!("child `resources` nest deeper than {MAX_NESTING} levels; the deeper ones are not checked"),
                )
                .in_file(&self.tpl.file)
                .label(list.span.start..list.span.start + 1, "here"),
            );
            return;
        }
        match &list.kind {
            Kind::Array(res) => {
                for r in res {
                    self.resource(r, None, depth, records, items);
                }
            }
            Kind::Object(res) => {
                for m in res {
                    self.resource(&m.value, Some(m), depth, records, items);
                }
            }
            _ => {}
        }
    }

    fn resource(
        &self,
        node: &'a Node,
        symbolic: Option<&'a Member>,
        depth: usize,
        records: &mut Vec<ScannedRecord>,
        items: &mut Vec<waivers::Item>,
    ) {
        let tpl = self.tpl;
        let Some(ty_m) = node.get("type") else {
            tpl.errors.borrow_mut().push(
                Diag::error(Code::InputMalformedArm, "a resource has no `type`")
                    .in_file(&tpl.file)
                    .label(node.span.start..node.span.start + 1, "this resource")
                    .with_help("every ARM resource has a `type` (`Microsoft.Storage/storageAccounts`) and a `name`"),
            );
            return;
        };
        let own_ty = match &ty_m.value.kind {
            Kind::Str(s) => s.clone(),
            _ => String::new(),
        };
        let short = !own_ty.contains('/');
        let ty = match &self.parent {
            Some(p) if short => format!("{}/{own_ty}", p.ty),
            _ => own_ty.clone(),
        };
        items.push(waivers::Item {
            span: node.span.clone(),
            name: format!("resource `{ty}`"),
            opaque: false,
            target: true,
        });
        let name_m = node.get("name");
        let header = {
            let a = Node::member_span(ty_m);
            let b = name_m.map_or(a.clone(), Node::member_span);
            a.start.min(b.start)..a.end.max(b.end)
        };
        // A waiver right above the `"type"` line excuses the resource.
        items.push(waivers::Item {
            span: header.clone(),
            name: format!("resource `{ty}`"),
            opaque: false,
            target: true,
        });
        for m in node.members() {
            items.push(waivers::Item {
                span: Node::member_span(m),
                name: format!("attribute `{}`", m.key),
                opaque: true,
                target: true,
            });
        }
        let ty_span = ty_m.value.span.clone();
        let name_span = name_m.map_or(ty_span.clone(), |m| m.value.span.clone());

        // Instances: the copy loop, if any.
        let top = Ctx {
            tpl,
            copy: self.copy.clone(),
        };
        let mut instances = Vec::new();
        match node.get("copy") {
            Some(c) => {
                let loop_name = c
                    .value
                    .get("name")
                    .and_then(|n| n.value.as_str())
                    .unwrap_or("copy")
                    .to_string();
                let count = c
                    .value
                    .get("count")
                    .map_or(Value::Num(0.0), |n| tpl.value(&n.value, &top, 0));
                match count {
                    Value::Num(n) if n >= 0.0 && (n as usize) <= MAX_COPY => {
                        for i in 0..n as usize {
                            instances.push(Instance {
                                ctx_copy: top.with(&loop_name, Value::Num(i as f64)).copy,
                                suffix: format!("[{i}]"),
                                existence: self.existence.clone(),
                            });
                        }
                    }
                    Value::Unknown(u) => {
                        let why = Value::unknown(
                            format!(
                                "the index of copy loop `{loop_name}`, whose count is unknown: {}",
                                u.reason
                            ),
                            u.origin.clone(),
                        );
                        instances.push(Instance {
                            ctx_copy: top.with(&loop_name, why).copy,
                            suffix: "[…]".into(),
                            existence: Some(u),
                        });
                    }
                    _ => {
                        tpl.errors.borrow_mut().push(
                            Diag::error(
                                Code::InputMalformedArm,
                                format!(
                                    "copy loop `{loop_name}` needs a count from 0 to {MAX_COPY}"
                                ),
                            )
                            .in_file(&tpl.file)
                            .label(c.value.span.clone(), "here"),
                        );
                        return;
                    }
                }
            }
            None => instances.push(Instance {
                ctx_copy: self.copy.clone(),
                suffix: String::new(),
                existence: self.existence.clone(),
            }),
        }

        for inst in instances {
            if records.len() >= MAX_RECORDS {
                tpl.errors.borrow_mut().push(
                    Diag::error(
                        Code::InputMalformedArm,
                        format!("the template expands to more than {MAX_RECORDS} resource instances; the rest are not checked"),
                    )
                    .in_file(&tpl.file)
                    .label(header.clone(), "stopped here"),
                );
                return;
            }
            let ctx = Ctx {
                tpl,
                copy: inst.ctx_copy,
            };
            let mut existence = inst.existence;
            if let Some(c) = node.get("condition") {
                match tpl.value(&c.value, &ctx, 0) {
                    Value::Bool(false) => continue,
                    Value::Bool(true) => {}
                    Value::Unknown(u) => {
                        existence.get_or_insert(u);
                    }
                    Value::Str(s) if s.eq_ignore_ascii_case("false") => continue,
                    _ => {}
                }
            }
            let own_name = name_m.map_or(Value::Null, |m| tpl.value(&m.value, &ctx, 0));
            let own_text = match (&own_name, name_m) {
                (Value::Str(s), _) => s.to_string(),
                (_, Some(m)) => m.value.as_str().unwrap_or("").to_string(),
                _ => String::new(),
            };
            let (name, name_text) = match &self.parent {
                Some(p) if short => (
                    match (&p.name, &own_name) {
                        (Value::Str(a), Value::Str(b)) => Value::str(&format!("{a}/{b}")),
                        (u @ Value::Unknown(_), _) | (_, u @ Value::Unknown(_)) => u.clone(),
                        _ => own_name.clone(),
                    },
                    format!("{}/{own_text}", p.name_text),
                ),
                _ => (own_name.clone(), own_text),
            };
            let mut attributes = BTreeMap::new();
            let mut attr_spans = Vec::new();
            for m in node.members() {
                if META.iter().any(|k| k.eq_ignore_ascii_case(&m.key)) {
                    continue;
                }
                attributes.insert(m.key.clone(), tpl.value(&m.value, &ctx, 0));
                attr_spans.push((m.key.clone(), Node::member_span(m)));
            }
            let tags = node.get("tags");
            let existing = matches!(
                node.get("existing").map(|e| &e.value.kind),
                Some(Kind::Bool(true))
            );
            let address = format!("{}{ty}.{name_text}{}", self.prefix, inst.suffix);
            records.push(record::build(record::Parts {
                file: tpl.file.clone(),
                kind: if existing { "data" } else { "resource" },
                ty: ty.clone(),
                ty_span: ty_span.clone(),
                name: name.clone(),
                name_span: name_span.clone(),
                header: header.clone(),
                address: address.clone(),
                module: None,
                attributes,
                attr_spans,
                location_span: node.get("location").map(|m| m.value.span.clone()),
                tags_span: tags.map(|m| m.value.span.clone()),
                tag_key_spans: tags
                    .map(|t| {
                        t.value
                            .members()
                            .iter()
                            .map(|m| (m.key.clone(), m.key_span.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
                existence: existence.clone(),
            }));
            let _ = symbolic;
            if let Some(children) = node.get("resources") {
                let walk = Walk {
                    tpl,
                    parent: Some(Parent {
                        ty: ty.clone(),
                        name: name.clone(),
                        name_text: name_text.clone(),
                    }),
                    existence: existence.clone(),
                    copy: ctx.copy.clone(),
                    prefix: self.prefix.clone(),
                };
                walk.resources(&children.value, depth + 1, records, items);
            }
            if ty.eq_ignore_ascii_case("Microsoft.Resources/deployments") {
                self.nested_deployment(node, &ctx, &address, existence, depth, records, items);
            }
        }
    }

    /// The resources of a nested deployment's inline `template`: in the
    /// outer scope (the default) its expressions read this template's
    /// parameters and variables; in the inner scope its own, given by the
    /// deployment's `parameters`. A deployment to another resource group
    /// or subscription has an unknown `resourceGroup().location`. A
    /// `templateLink` is not followed (the deployment is one record).
    #[allow(
        clippy::too_many_arguments,
        reason = "the walk's state, passed down as for child resources"
    )]
    fn nested_deployment(
        &self,
        node: &'a Node,
        ctx: &Ctx<'_, 'a>,
        address: &str,
        existence: Option<Arc<Unknown>>,
        depth: usize,
        records: &mut Vec<ScannedRecord>,
        items: &mut Vec<waivers::Item>,
    ) {
        let tpl = self.tpl;
        let Some(props) = node.get("properties") else {
            return;
        };
        let Some(template) = props.value.get("template") else {
            return;
        };
        let Some(resources) = template.value.get("resources") else {
            return;
        };
        let elsewhere = node.get("resourceGroup").is_some() || node.get("subscriptionId").is_some();
        let inner = props
            .value
            .get("expressionEvaluationOptions")
            .and_then(|o| o.value.get("scope"))
            .and_then(|s| s.value.as_str())
            .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
        let prefix = format!("{address}::");
        if !inner && !elsewhere {
            let walk = Walk {
                tpl,
                parent: None,
                existence,
                copy: ctx.copy.clone(),
                prefix,
            };
            walk.resources(&resources.value, depth + 1, records, items);
            return;
        }
        let mut given = Given::new();
        if inner && let Some(params) = props.value.get("parameters") {
            for m in params.value.members() {
                if let Some(v) = m.value.get("value") {
                    let value = tpl.value(&v.value, ctx, 0);
                    let at = Origin::new(&tpl.file, v.value.span.clone());
                    given.insert(m.key.to_ascii_lowercase(), (value, at));
                }
            }
        }
        let region = if elsewhere { None } else { tpl.region };
        // The outer scope's values, for a deployment elsewhere in the outer scope.
        let root = if inner { &template.value } else { tpl.root };
        let given_ref = if inner { &given } else { tpl.given };
        let sub = Tpl::new(tpl.file.clone(), root, given_ref, region);
        let walk = Walk {
            tpl: &sub,
            parent: None,
            existence,
            copy: if inner { Vec::new() } else { ctx.copy.clone() },
            prefix,
        };
        walk.resources(&resources.value, depth + 1, records, items);
        tpl.errors.borrow_mut().extend(sub.errors.into_inner());
        let mut reported = tpl.reported.borrow_mut();
        reported.extend(sub.reported.into_inner());
    }
}
