//! Bicep files to records, one per resource instance, parsed directly
//! ([`parse`]): no Bicep CLI or .NET is needed.
//!
//! Values are evaluated statically as Bicep would compile them to ARM:
//! parameters (a parameters file's value, `.json` or `.bicepparam`, over
//! the default), variables, string interpolation, operators, ternaries,
//! property access (`.?` and `[?…]` give `null` for what a parameter's or
//! variable's object or array does not hold; `??` takes the next value),
//! spread (`...x`), nullable parameters (`T?`, `null` without a value),
//! variables imported from local files (`import {x} from 'f.bicep'`,
//! `import * as ns`) and the ARM functions ([`crate::scan::arm::funcs`]). A
//! resource's symbol gives its declared properties (`rg.location`); what
//! Azure sets (`.id`, an `existing` resource's properties, a registry
//! module's outputs) is unknown, never guessed; a local module's outputs
//! are evaluated in its file. Resources are expanded over
//! `[for …]` loops (a known list gives one record per item, `[i]` in the
//! address; an unknown list one record whose existence is unknown) and
//! `if (…)` conditions (`false` removes the record, unknown makes its
//! existence unknown); nested child resources get their parent's type
//! joined with `/`. Local modules (`.bicep`, or ARM `.json`) are followed
//! with the parameters they are given, their records addressed
//! `module.<name>.…`; registry and template-spec modules are not (a note,
//! [`Code::InputBicepModuleNotScanned`]), and are judged from their
//! parameters. Records are built by [`crate::scan::arm::record`], in the
//! Terraform scanner's shape.

pub mod parse;

use crate::diag::{Code, Diag};
use crate::scan::arm::{self, AzureOptions, Given, funcs, record};
use crate::scan::terraform::waivers;
use crate::scan::{ScanOutput, ScannedRecord, UnscannedModule};
use crate::source::{Origin, SourceFile, display_path};
use crate::value::{Unknown, Value};
use parse::{Decl, DeclKind, E, Expr, Part};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Deepest chain of modules calling modules.
pub const MAX_MODULE_DEPTH: usize = 16;
/// Bicep's largest loop.
pub const MAX_LOOP: usize = 800;
/// Most records one file (with its modules) gives.
pub const MAX_RECORDS: usize = 100_000;
/// Deepest chain of variables or parameters that name each other.
const MAX_CHAIN: usize = 64;

/// Properties of a resource body that are not attributes.
const META: [&str; 3] = ["parent", "dependsOn", "scope"];

/// Scans one Bicep file (and the local modules it uses) into records.
pub fn scan_bicep_file(path: &Path, text: &str, opts: &AzureOptions) -> ScanOutput {
    let mut out = ScanOutput {
        files: 1,
        ..ScanOutput::default()
    };
    let (json_files, param_files): (Vec<PathBuf>, Vec<PathBuf>) = opts
        .parameter_files
        .iter()
        .cloned()
        .partition(|p| p.extension().is_none_or(|e| e != "bicepparam"));
    let mut given = arm::parameter_values(&json_files, &mut out);
    for p in &param_files {
        bicepparam_values(p, opts, &mut given, &mut out);
    }
    out.file_paths.insert(canonical(path));
    let file = SourceFile::new(display_path(path), text.to_string());
    let mut state = State {
        records: Vec::new(),
        waiver_files: BTreeSet::new(),
        stack: vec![canonical(path)],
        out,
    };
    let inputs = given
        .into_iter()
        .map(|(k, (v, _))| (k, v))
        .collect::<BTreeMap<_, _>>();
    run_file(
        &file,
        path,
        Inputs {
            values: inputs,
            from_caller: false,
        },
        &Env {
            region: opts.region.clone(),
            prefix: String::new(),
            existence: None,
            depth: 0,
        },
        &mut state,
    );
    let mut out = state.out;
    crate::scan::sort_records(&mut state.records);
    out.records = state.records;
    out
}

/// The local module files (`.bicep`, `.json`) a Bicep file's module calls
/// would evaluate, its parameters from their defaults: a call after a
/// parse error, under a condition that is `false` or over an empty loop
/// is not. An unknown condition counts as evaluated.
pub fn evaluated_module_targets(path: &Path, text: &str) -> Vec<PathBuf> {
    let (decls, _) = parse::parse_file(text);
    let file = SourceFile::new(display_path(path), text.to_string());
    let unit = Unit::new(file, &decls, Inputs::default(), None, path);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    decls
        .iter()
        .filter(|d| d.kind == DeclKind::Module && !d.target.contains(':'))
        .filter(|d| {
            d.value.as_ref().is_some_and(|b| {
                !unit
                    .expand(b, &Frame::default(), None, String::new())
                    .is_empty()
            })
        })
        .map(|d| dir.join(&d.target))
        .collect()
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// Reads a `.bicepparam` file's `param x = value` lines into `given`.
fn bicepparam_values(path: &Path, opts: &AzureOptions, given: &mut Given, out: &mut ScanOutput) {
    let file = match crate::diag::read_text(path) {
        Ok(t) => SourceFile::new(display_path(path), t),
        Err(d) => {
            out.malformed.push(d);
            return;
        }
    };
    let (decls, err) = parse::parse_file(&file.text);
    if let Some(e) = err {
        out.malformed.push(parse_diag(&file, &e));
    }
    let unit = Unit::new(
        file.clone(),
        &decls,
        Inputs::default(),
        opts.region.clone(),
        path,
    );
    for d in decls.iter().filter(|d| d.kind == DeclKind::Param) {
        if let Some(v) = &d.value {
            let value = unit.eval(v, &Frame::default(), 0);
            given.insert(
                d.name.to_ascii_lowercase(),
                (value, Origin::new(&file, v.span.clone())),
            );
        }
    }
    out.malformed.extend(unit.errors.into_inner());
}

fn parse_diag(file: &Arc<SourceFile>, e: &parse::ParseError) -> Diag {
    let (line, _) = file.line_col(e.span.start);
    Diag::error(
        Code::InputMalformedBicep,
        format!("`{}` cannot be parsed at line {line}: {}", file.name, e.message),
    )
    .in_file(file)
    .label(e.span.clone(), "here")
    .with_help("fix the syntax (`az bicep build` names the same mistake); the declarations before this line, and the other files, are still checked")
}

/// What the scan of one root file collects.
struct State {
    records: Vec<ScannedRecord>,
    /// Files whose waiver comments were read (a module used twice has them once).
    waiver_files: BTreeSet<String>,
    /// The module files being evaluated, to stop cycles.
    stack: Vec<PathBuf>,
    out: ScanOutput,
}

/// Where a file is evaluated.
#[derive(Clone)]
struct Env {
    /// The resource group's location, when known.
    region: Option<String>,
    /// `module.app.` inside a module.
    prefix: String,
    existence: Option<Arc<Unknown>>,
    depth: usize,
}

/// Parameter values given to a file.
#[derive(Default)]
struct Inputs {
    values: BTreeMap<String, Value>,
    /// From a module call (keys exact) rather than a parameters file.
    from_caller: bool,
}

/// Loop variables in scope.
#[derive(Default, Clone)]
struct Frame {
    /// Each variable, and whether its value is all there is (an item of a
    /// parameter's or variable's list: `true`; of a resource loop's
    /// symbol, which Azure fills in: `false`), for `.?`.
    vars: Vec<(String, Value, bool)>,
}

impl Frame {
    fn with(&self, name: &Option<String>, v: Value) -> Frame {
        self.with_whole(name, v, true)
    }

    fn with_whole(&self, name: &Option<String>, v: Value, whole: bool) -> Frame {
        let mut f = self.clone();
        if let Some(n) = name {
            f.vars.push((n.clone(), v, whole));
        }
        f
    }
}

/// One file being evaluated.
struct Unit<'d> {
    file: Arc<SourceFile>,
    path: PathBuf,
    decls: BTreeMap<&'d str, &'d Decl>,
    inputs: Inputs,
    region: Option<String>,
    memo: RefCell<BTreeMap<String, Value>>,
    busy: RefCell<Vec<String>>,
    errors: RefCell<Vec<Diag>>,
    /// How many modules deep this file is, for module outputs.
    depth: usize,
}

fn fails(reason: &str, at: Option<Origin>) -> Value {
    crate::scan::terraform::error::deployment_failure(reason, at)
}

fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

impl<'d> Unit<'d> {
    fn new(
        file: Arc<SourceFile>,
        decls: &'d [Decl],
        inputs: Inputs,
        region: Option<String>,
        path: &Path,
    ) -> Unit<'d> {
        Unit {
            file,
            path: path.to_path_buf(),
            // An output may share a parameter's, variable's or resource's
            // name (`output location string = location`); outputs cannot
            // be referred to, so the name stays the other declaration's.
            decls: decls
                .iter()
                .filter(|d| !matches!(d.kind, DeclKind::Output | DeclKind::TargetScope))
                .map(|d| (d.name.as_str(), d))
                .collect(),
            inputs,
            region,
            memo: RefCell::new(BTreeMap::new()),
            busy: RefCell::new(Vec::new()),
            errors: RefCell::new(Vec::new()),
            depth: 0,
        }
    }

    /// A local module's outputs, evaluated in its file with the parameters
    /// of `body` (the module's evaluated body); a registry module's are
    /// unknown.
    fn module_outputs(&self, d: &Decl, body: &BTreeMap<String, Value>) -> Value {
        let unknown = |why: &str| {
            Value::unknown(
                format!("the outputs of module `{}` {why}", d.name),
                self.at(&d.header),
            )
        };
        let dir = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let target = dir.join(&d.target);
        if d.target.contains(':') || target.extension().is_none_or(|e| e != "bicep") {
            return unknown("are not evaluated (it is not a local `.bicep` file)");
        }
        if self.depth >= MAX_MODULE_DEPTH {
            return unknown("are not evaluated (modules nest too deeply, or in a cycle)");
        }
        let Ok(text) = std::fs::read_to_string(&target) else {
            return unknown("cannot be read");
        };
        let params = match body.get("params") {
            Some(Value::Map(m)) => m.clone(),
            _ => BTreeMap::new(),
        };
        let region = if body.contains_key("scope") {
            None
        } else {
            self.region.clone()
        };
        let file = SourceFile::new(display_path(&target), text);
        let (decls, _) = parse::parse_file(&file.text);
        let mut child = Unit::new(
            file,
            &decls,
            Inputs {
                values: params,
                from_caller: true,
            },
            region,
            &target,
        );
        child.depth = self.depth + 1;
        let outputs = decls
            .iter()
            .filter(|o| o.kind == DeclKind::Output)
            .filter_map(|o| {
                let e = o.value.as_ref()?;
                Some((o.name.clone(), child.eval(e, &Frame::default(), 0)))
            })
            .collect();
        Value::Map(outputs)
    }

    /// A name imported with `import {x} from 'f.bicep'` (or a whole file's
    /// variables, `import * as ns`): the exported variable evaluated in its
    /// file. Types and functions imported are not values proviso reads.
    fn imported(&self, d: &Decl, at: Option<Origin>) -> Value {
        let unknown = |why: String| Value::unknown(why, at.clone());
        let dir = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let target = dir.join(&d.target);
        if d.target.contains(':') || target.extension().is_none_or(|e| e != "bicep") {
            return unknown(format!(
                "`{}` is imported from `{}`, which is not a local `.bicep` file proviso follows",
                d.name, d.target
            ));
        }
        if self.depth >= MAX_MODULE_DEPTH {
            return unknown(format!(
                "`{}` is imported through files that import each other too deeply (or in a cycle)",
                d.name
            ));
        }
        let Ok(text) = std::fs::read_to_string(&target) else {
            return unknown(format!("`{}` cannot be read", d.target));
        };
        let file = SourceFile::new(display_path(&target), text);
        let (decls, _) = parse::parse_file(&file.text);
        let mut child = Unit::new(
            file,
            &decls,
            Inputs::default(),
            self.region.clone(),
            &target,
        );
        child.depth = self.depth + 1;
        let frame = Frame::default();
        if d.member == "*" {
            let all = decls
                .iter()
                .filter(|v| v.kind == DeclKind::Var)
                .map(|v| {
                    let span = v.name_span.clone();
                    (v.name.clone(), child.ident(&v.name, &frame, &span))
                })
                .collect();
            return Value::Map(all);
        }
        match decls
            .iter()
            .find(|v| v.name == d.member && matches!(v.kind, DeclKind::Var | DeclKind::Import))
        {
            Some(v) => child.ident(&v.name, &frame, &v.name_span),
            None => unknown(format!(
                "`{}` is not a variable `{}` exports (a type or function, or not declared)",
                d.member, d.target
            )),
        }
    }

    /// Whether `e`'s value, when an object, holds every property it has:
    /// a parameter's or variable's value does; a resource's or module's
    /// symbol does not (Azure sets more).
    fn complete(&self, e: &Expr, frame: &Frame, depth: usize) -> bool {
        if depth > MAX_CHAIN {
            return false;
        }
        let c = |x: &Expr| self.complete(x, frame, depth + 1);
        match &e.kind {
            E::Ident(n) => {
                if let Some((_, _, whole)) = frame.vars.iter().rev().find(|(k, _, _)| k == n) {
                    return *whole;
                }
                match self.decls.get(n.as_str()) {
                    Some(d) => match d.kind {
                        DeclKind::Param | DeclKind::Import => true,
                        DeclKind::Var => d.value.as_ref().is_some_and(c),
                        _ => false,
                    },
                    None => false,
                }
            }
            E::Prop(x, _, _) | E::Index(x, _, _) => c(x),
            E::Object { .. }
            | E::Array(_)
            | E::Str(_)
            | E::Interp(_)
            | E::Num(_)
            | E::Bool(_)
            | E::Null => true,
            E::Bin(op, a, b) if op == "??" => c(a) && c(b),
            E::Ternary(_, a, b) => c(a) && c(b),
            E::If(_, b) => c(b),
            // `[for x in list: body]`: its items are whole when the body is,
            // with `x` whole when the list is.
            E::For {
                item,
                index,
                iter,
                body,
            } => {
                let f = frame
                    .with_whole(item, Value::Null, c(iter))
                    .with(index, Value::Null);
                self.complete(body, &f, depth + 1)
            }
            E::Call(ns, name, args) => {
                ns.as_deref().is_none_or(|n| n == "az" || n == "sys")
                    && matches!(
                        name.as_str(),
                        "union"
                            | "json"
                            | "createObject"
                            | "coalesce"
                            | "first"
                            | "last"
                            | "items"
                            | "shallowMerge"
                            | "concat"
                            | "take"
                            | "skip"
                            | "any"
                    )
                    && args.iter().all(c)
            }
            _ => false,
        }
    }

    fn at(&self, span: &Range<usize>) -> Option<Origin> {
        Some(Origin::new(&self.file, span.clone()))
    }

    fn named(&self, key: String, at: Option<Origin>, f: impl FnOnce() -> Value) -> Value {
        if let Some(v) = self.memo.borrow().get(&key) {
            return v.clone();
        }
        if self.busy.borrow().contains(&key) || self.busy.borrow().len() > MAX_CHAIN {
            return fails(
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

    fn param(&self, d: &Decl, at: Option<Origin>) -> Value {
        let given = if self.inputs.from_caller {
            self.inputs.values.get(&d.name)
        } else {
            self.inputs.values.get(&d.name.to_ascii_lowercase())
        };
        match (given, &d.value) {
            // `null` given for a parameter with a default is the default
            // (a caller passing on its own nullable parameter).
            (Some(Value::Null), Some(_)) | (None, _) => {}
            (Some(v), _) => return v.clone(),
        }
        match &d.value {
            Some(e) => self.named(format!("p:{}", d.name), at, || {
                self.eval(e, &Frame::default(), 0)
            }),
            // `param x T?` given no value is `null`.
            None if d.nullable => Value::Null,
            None => Value::unknown(
                if self.inputs.from_caller {
                    format!(
                        "parameter `{}` has no default and the module call does not give it",
                        d.name
                    )
                } else {
                    format!(
                        "parameter `{}` has no default and no parameters file gives it a value (pass one with `--var-file`)",
                        d.name
                    )
                },
                at,
            ),
        }
    }

    /// The value a resource or module symbol stands for: its declared
    /// body, with what Azure sets unknown.
    fn symbol_value(&self, d: &Decl, at: Option<Origin>) -> Value {
        self.named(format!("r:{}", d.name), at, || {
            let Some(body) = &d.value else {
                return Value::Null;
            };
            let one = |frame: &Frame, obj: &Expr| -> Value {
                let mut v = match self.eval(obj, frame, 0) {
                    Value::Map(m) => m,
                    other => return other,
                };
                let id_at = self.at(&d.header);
                v.insert(
                    "id".into(),
                    Value::unknown(
                        format!("the ID of `{}` is known only at deployment", d.name),
                        id_at,
                    ),
                );
                if d.kind == DeclKind::Resource {
                    let (ty, ver) = d.target.split_once('@').unwrap_or((&d.target, ""));
                    v.insert("type".into(), Value::str(ty));
                    v.insert("apiVersion".into(), Value::str(ver));
                } else {
                    let outputs = self.module_outputs(d, &v);
                    v.insert("outputs".into(), outputs);
                }
                Value::Map(v)
            };
            let mut out = Vec::new();
            let looped = matches!(body.kind, E::For { .. });
            for inst in self.expand(body, &Frame::default(), None, String::new()) {
                out.push(one(&inst.frame, inst.body));
            }
            if looped {
                Value::List(out)
            } else {
                out.into_iter().next().unwrap_or(Value::Null)
            }
        })
    }

    /// `map(xs, x => …)` and the other lambda functions: each lambda's
    /// body evaluated with its parameters bound, by the functions ARM's
    /// lambdas use too ([`funcs::lambda_function`]).
    fn lambda_call(
        &self,
        lower: &str,
        args: &[Expr],
        frame: &Frame,
        depth: usize,
        at: Option<Origin>,
    ) -> Value {
        let first = args
            .first()
            .map_or(Value::Null, |a| self.eval(a, frame, depth + 1));
        let initial = (lower == "reduce")
            .then(|| args.get(1).map(|a| self.eval(a, frame, depth + 1)))
            .flatten();
        let appliers: Vec<Box<dyn Fn(Vec<Value>) -> Value + '_>> = args
            .iter()
            .filter_map(|a| match &a.kind {
                E::Lambda(names, body) => Some((names, body)),
                _ => None,
            })
            .map(|(names, body)| {
                Box::new(move |values: Vec<Value>| {
                    let mut f = frame.clone();
                    for (n, v) in names.iter().zip(values) {
                        f = f.with(&Some(n.clone()), v);
                    }
                    self.eval(body, &f, depth + 1)
                }) as Box<dyn Fn(Vec<Value>) -> Value + '_>
            })
            .collect();
        let d = funcs::Deployment {
            region: self.region.as_deref(),
            at,
        };
        funcs::lambda_function(lower, first, initial, &appliers, &d)
    }

    fn ident(&self, name: &str, frame: &Frame, span: &Range<usize>) -> Value {
        if let Some((_, v, _)) = frame.vars.iter().rev().find(|(k, _, _)| k == name) {
            return v.clone();
        }
        let at = self.at(span);
        match self.decls.get(name) {
            Some(d) => match d.kind {
                DeclKind::Param => self.param(d, at),
                DeclKind::Var => match &d.value {
                    Some(e) => self.named(format!("v:{name}"), at, || {
                        self.eval(e, &Frame::default(), 0)
                    }),
                    None => Value::Null,
                },
                DeclKind::Resource | DeclKind::Module => self.symbol_value(d, at),
                DeclKind::Import => {
                    self.named(format!("i:{name}"), at.clone(), || self.imported(d, at))
                }
                DeclKind::Output | DeclKind::TargetScope => {
                    fails(&format!("`{name}` is not a value"), at)
                }
            },
            None => fails(&format!("`{name}` is not declared in this file"), at),
        }
    }

    fn eval(&self, e: &Expr, frame: &Frame, depth: usize) -> Value {
        let at = || self.at(&e.span);
        if depth > parse::MAX_DEPTH * 2 {
            return fails("the expression nests too deeply", at());
        }
        let ev = |x: &Expr| self.eval(x, frame, depth + 1);
        match &e.kind {
            E::Str(s) => Value::str(s),
            E::Num(n) => Value::Num(*n),
            E::Bool(b) => Value::Bool(*b),
            E::Null => Value::Null,
            E::Interp(parts) => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        Part::Text(t) => s.push_str(t),
                        Part::Expr(x) => match ev(x) {
                            u @ Value::Unknown(_) => return u,
                            v => match funcs::to_text(&v) {
                                Some(t) => s.push_str(&t),
                                None => return fails("a value that is not text in `${…}`", at()),
                            },
                        },
                    }
                    if s.len() > funcs::MAX_LEN {
                        return fails("the string is too long", at());
                    }
                }
                Value::str(&s)
            }
            E::Ident(n) => self.ident(n, frame, &e.span),
            E::Object { props, .. } => {
                let mut m = BTreeMap::new();
                for p in props {
                    if let E::Spread(x) = &p.value.kind {
                        match ev(x) {
                            Value::Map(more) => m.extend(more),
                            Value::Null => {}
                            u @ Value::Unknown(_) => return u,
                            other => {
                                return fails(
                                    &format!("`...` of a {} in an object", other.type_name()),
                                    at(),
                                );
                            }
                        }
                        continue;
                    }
                    let key = match &p.key_expr {
                        None => p.key.clone(),
                        Some(k) => match ev(k) {
                            Value::Str(s) => s.to_string(),
                            u @ Value::Unknown(_) => return u,
                            _ => return fails("a property name that is not text", at()),
                        },
                    };
                    m.insert(key, ev(&p.value));
                }
                Value::Map(m)
            }
            E::Array(items) => {
                let mut out = Vec::new();
                for x in items {
                    let E::Spread(inner) = &x.kind else {
                        out.push(ev(x));
                        continue;
                    };
                    match ev(inner) {
                        Value::List(more) => out.extend(more),
                        Value::Null => {}
                        u @ Value::Unknown(_) => return u,
                        other => {
                            return fails(
                                &format!("`...` of a {} in an array", other.type_name()),
                                at(),
                            );
                        }
                    }
                }
                Value::List(out)
            }
            E::Spread(_) => fails("`...` outside an object or array", at()),
            E::FromEnd(_) => fails("`^` outside an index", at()),
            E::Call(ns, name, args) => {
                if ns.as_deref().is_some_and(|n| n != "az" && n != "sys") {
                    return Value::unknown(
                        format!(
                            "`{}.{name}(…)` is not evaluated statically by proviso",
                            ns.as_deref().unwrap_or("")
                        ),
                        at(),
                    );
                }
                let lower = name.to_ascii_lowercase();
                if funcs::is_lambda_function(&lower)
                    && args.iter().any(|a| matches!(a.kind, E::Lambda(..)))
                {
                    return self.lambda_call(&lower, args, frame, depth, at());
                }
                let values: Vec<Value> = args.iter().map(ev).collect();
                match name.as_str() {
                    "any" => return values.into_iter().next().unwrap_or(Value::Null),
                    "flatten" => {
                        return match values.first() {
                            Some(Value::List(l)) => Value::List(
                                l.iter()
                                    .flat_map(|x| match x {
                                        Value::List(inner) => inner.clone(),
                                        other => vec![other.clone()],
                                    })
                                    .collect(),
                            ),
                            Some(u @ Value::Unknown(_)) => u.clone(),
                            _ => fails("`flatten` takes an array of arrays", at()),
                        };
                    }
                    _ => {}
                }
                let d = funcs::Deployment {
                    region: self.region.as_deref(),
                    at: at(),
                };
                funcs::call(name, &values, &d).unwrap_or_else(|| {
                    Value::unknown(
                        format!("function `{name}` is not evaluated statically by proviso"),
                        at(),
                    )
                })
            }
            E::Prop(x, p, safe) => match ev(x) {
                Value::Map(m) => match m.get(p) {
                    Some(v) => v.clone(),
                    None => match m.iter().find(|(k, _)| k.eq_ignore_ascii_case(p)) {
                        Some((_, v)) => v.clone(),
                        // `.?`: a property the object does not have is `null`,
                        // when the object is all there is (not what Azure
                        // sets on a resource).
                        None if *safe && self.complete(x, frame, 0) => Value::Null,
                        None => {
                            Value::unknown(format!("`{p}` is not known before deployment"), at())
                        }
                    },
                },
                u @ Value::Unknown(_) => u,
                Value::Null => Value::Null,
                other => fails(&format!("`.{p}` of a {}", other.type_name()), at()),
            },
            E::Index(x, i, safe) => {
                let base = ev(x);
                let key = match (&i.kind, &base) {
                    // `list[^n]`: the `n`th item from the end.
                    (E::FromEnd(n), Value::List(l)) => match ev(n) {
                        Value::Num(n) => Value::Num(l.len() as f64 - n),
                        u @ Value::Unknown(_) => u,
                        _ => return fails("`^` of a value that is not a number", at()),
                    },
                    (E::FromEnd(_), u @ Value::Unknown(_)) => return u.clone(),
                    (E::FromEnd(_), Value::Null) if *safe => return Value::Null,
                    (E::FromEnd(_), _) => {
                        return fails("`[^…]` of a value that is not an array", at());
                    }
                    _ => ev(i),
                };
                if key.is_unknown() {
                    return key;
                }
                match (&base, &key) {
                    (Value::Map(m), Value::Str(k)) if !m.contains_key(&**k) => {
                        if let Some((_, v)) = m.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)) {
                            return v.clone();
                        }
                        if *safe && self.complete(x, frame, 0) {
                            return Value::Null;
                        }
                        return Value::unknown(
                            format!("`{k}` is not known before deployment"),
                            at(),
                        );
                    }
                    (Value::List(l), Value::Num(n))
                        if *safe && (*n < 0.0 || *n >= l.len() as f64) =>
                    {
                        return Value::Null;
                    }
                    // `.?`/`[?…]` short-circuit the rest of their chain:
                    // `a.?b[0]` is null when `a.?b` is.
                    (Value::Null, _) if *safe || safe_chain(x) => return Value::Null,
                    _ => {}
                }
                arm::expr::index(base, &key, &at())
            }
            E::Not(x) => match ev(x) {
                Value::Bool(b) => Value::Bool(!b),
                u @ Value::Unknown(_) => u,
                _ => fails("`!` of a value that is not a boolean", at()),
            },
            E::Neg(x) => match ev(x) {
                Value::Num(n) => Value::Num(-n),
                u @ Value::Unknown(_) => u,
                _ => fails("`-` of a value that is not a number", at()),
            },
            E::Bin(op, a, b) => self.binary(op, a, b, frame, depth, at()),
            E::Ternary(c, a, b) => match ev(c) {
                Value::Bool(true) => ev(a),
                Value::Bool(false) => ev(b),
                u @ Value::Unknown(_) => u,
                _ => fails("the condition of `? :` is not a boolean", at()),
            },
            E::For {
                item,
                index,
                iter,
                body,
            } => match ev(iter) {
                // Items of a list that is all there is are too.
                Value::List(l) if l.len() <= MAX_LOOP * 16 => {
                    let whole = self.complete(iter, frame, 0);
                    let mut out = Vec::new();
                    for (i, x) in l.into_iter().enumerate() {
                        let f = frame
                            .with_whole(item, x, whole)
                            .with(index, Value::Num(i as f64));
                        match &body.kind {
                            E::If(c, b) => match self.eval(c, &f, depth + 1) {
                                Value::Bool(false) => {}
                                Value::Bool(true) => out.push(self.eval(b, &f, depth + 1)),
                                u => return u,
                            },
                            _ => out.push(self.eval(body, &f, depth + 1)),
                        }
                    }
                    Value::List(out)
                }
                u @ Value::Unknown(_) => u,
                _ => fails(
                    "a `for` loop over a value that is not an array (or too long)",
                    at(),
                ),
            },
            E::If(c, b) => match ev(c) {
                Value::Bool(true) => ev(b),
                Value::Bool(false) => Value::Null,
                u => u,
            },
            E::Lambda(..) => fails(
                "a lambda is a value only as an argument of `filter`, `map`, `reduce`, `sort`, `toObject`, `mapValues` or `groupBy`",
                at(),
            ),
        }
    }

    fn binary(
        &self,
        op: &str,
        a: &Expr,
        b: &Expr,
        frame: &Frame,
        depth: usize,
        at: Option<Origin>,
    ) -> Value {
        let ev = |x: &Expr| self.eval(x, frame, depth + 1);
        let l = ev(a);
        match op {
            "&&" | "||" => {
                let decisive = op == "||";
                if truthy(&l) == Some(decisive) {
                    return Value::Bool(decisive);
                }
                let r = ev(b);
                if truthy(&r) == Some(decisive) {
                    return Value::Bool(decisive);
                }
                return match (l, r) {
                    (u @ Value::Unknown(_), _) | (_, u @ Value::Unknown(_)) => u,
                    (Value::Bool(_), Value::Bool(_)) => Value::Bool(!decisive),
                    _ => fails(&format!("`{op}` of values that are not booleans"), at),
                };
            }
            "??" => {
                return match l {
                    Value::Null => ev(b),
                    other => other,
                };
            }
            _ => {}
        }
        let r = ev(b);
        if l.is_unknown() {
            return l;
        }
        if r.is_unknown() {
            return r;
        }
        match op {
            "==" => Value::Bool(l == r),
            "!=" => Value::Bool(l != r),
            "=~" | "!~" => match (&l, &r) {
                (Value::Str(x), Value::Str(y)) => {
                    let same = x.to_lowercase() == y.to_lowercase();
                    Value::Bool(if op == "=~" { same } else { !same })
                }
                _ => fails(&format!("`{op}` compares strings"), at),
            },
            "<" | "<=" | ">" | ">=" => {
                let ord = match (&l, &r) {
                    (Value::Num(x), Value::Num(y)) => x.partial_cmp(y),
                    (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
                    _ => None,
                };
                match ord {
                    Some(o) => Value::Bool(match op {
                        "<" => o.is_lt(),
                        "<=" => o.is_le(),
                        ">" => o.is_gt(),
                        _ => o.is_ge(),
                    }),
                    None => fails(&format!("`{op}` compares numbers or strings"), at),
                }
            }
            _ => match (&l, &r) {
                (Value::Num(x), Value::Num(y)) => {
                    let (x, y) = (*x as i64, *y as i64);
                    match op {
                        "+" => Value::Num(x.saturating_add(y) as f64),
                        "-" => Value::Num(x.saturating_sub(y) as f64),
                        "*" => Value::Num(x.saturating_mul(y) as f64),
                        _ if y == 0 => fails("division by zero", at),
                        "/" => Value::Num(x.checked_div(y).unwrap_or(0) as f64),
                        _ => Value::Num(x.checked_rem(y).unwrap_or(0) as f64),
                    }
                }
                _ => fails(&format!("`{op}` of values that are not integers"), at),
            },
        }
    }

    /// The instances of a resource or module body: `for` loops and `if`
    /// conditions expanded.
    fn expand<'e>(
        &self,
        body: &'e Expr,
        frame: &Frame,
        existence: Option<Arc<Unknown>>,
        suffix: String,
    ) -> Vec<Inst<'e>> {
        match &body.kind {
            E::If(c, b) => match self.eval(c, frame, 0) {
                Value::Bool(false) => Vec::new(),
                Value::Unknown(u) => self.expand(b, frame, Some(existence.unwrap_or(u)), suffix),
                _ => self.expand(b, frame, existence, suffix),
            },
            E::For {
                item,
                index,
                iter,
                body: inner,
            } => match self.eval(iter, frame, 0) {
                Value::List(l) if l.len() > MAX_LOOP => {
                    self.errors.borrow_mut().push(
                        Diag::error(
                            Code::InputMalformedBicep,
                            format!("a resource or module loop over {} items; Azure deploys at most {MAX_LOOP}", l.len()),
                        )
                        .in_file(&self.file)
                        .label(iter.span.clone(), "too many items")
                        .with_help("split the loop: Azure rejects a loop of more than 800 items"),
                    );
                    Vec::new()
                }
                Value::List(l) => {
                    let whole = self.complete(iter, frame, 0);
                    let mut out = Vec::new();
                    for (i, x) in l.into_iter().enumerate() {
                        let f = frame
                            .with_whole(item, x, whole)
                            .with(index, Value::Num(i as f64));
                        out.extend(self.expand(
                            inner,
                            &f,
                            existence.clone(),
                            format!("{suffix}[{i}]"),
                        ));
                    }
                    out
                }
                Value::Unknown(u) => {
                    let why = Value::unknown(
                        format!("an item of a loop over an unknown list: {}", u.reason),
                        u.origin.clone(),
                    );
                    let f = frame.with(item, why.clone()).with(index, why);
                    self.expand(
                        inner,
                        &f,
                        Some(existence.unwrap_or(u)),
                        format!("{suffix}[…]"),
                    )
                }
                _ => {
                    self.errors.borrow_mut().push(
                        Diag::error(
                            Code::InputMalformedBicep,
                            "a `for` loop over a value that is not an array",
                        )
                        .in_file(&self.file)
                        .label(iter.span.clone(), "not an array")
                        .with_help("loop over an array, `range(0, n)` or `items(object)`"),
                    );
                    Vec::new()
                }
            },
            _ => vec![Inst {
                frame: frame.clone(),
                body,
                existence,
                suffix,
            }],
        }
    }
}

/// Whether an access chain (`a.?b.c`) holds a safe dereference.
fn safe_chain(e: &Expr) -> bool {
    let mut e = e;
    loop {
        match &e.kind {
            E::Prop(_, _, true) | E::Index(_, _, true) => return true,
            E::Prop(x, _, false) | E::Index(x, _, false) => e = x,
            _ => return false,
        }
    }
}

/// One instance of a resource or module.
struct Inst<'e> {
    frame: Frame,
    body: &'e Expr,
    existence: Option<Arc<Unknown>>,
    suffix: String,
}

/// The parent of a nested child resource.
struct Parent {
    ty: String,
    path: String,
}

/// Parses and evaluates one file: its resources and modules to records.
fn run_file(file: &Arc<SourceFile>, path: &Path, inputs: Inputs, env: &Env, st: &mut State) {
    let (decls, err) = parse::parse_file(&file.text);
    if let Some(e) = &err {
        st.out.malformed.push(parse_diag(file, e));
    }
    if st.waiver_files.insert(file.name.clone()) {
        let mut items = Vec::new();
        waiver_items(&decls, &mut items);
        let (w, e) = waivers::find_items(file, items);
        st.out.waivers.extend(w);
        st.out.waiver_errors.extend(e);
    }
    let unit = Unit::new(file.clone(), &decls, inputs, env.region.clone(), path);
    for d in &decls {
        match d.kind {
            DeclKind::Resource => resource(&unit, d, None, &Frame::default(), env, st),
            DeclKind::Module => module(&unit, d, env, st),
            _ => {}
        }
    }
    st.out.malformed.extend(unit.errors.into_inner());
}

fn waiver_items(decls: &[Decl], items: &mut Vec<waivers::Item>) {
    for d in decls {
        if !matches!(d.kind, DeclKind::Resource | DeclKind::Module) {
            continue;
        }
        items.push(waivers::Item {
            span: d.span.clone(),
            name: format!(
                "{} `{}`",
                if d.kind == DeclKind::Module {
                    "module"
                } else {
                    "resource"
                },
                d.name
            ),
            opaque: false,
            target: true,
        });
        let mut body = d.value.as_ref();
        while let Some(b) = body {
            match &b.kind {
                E::For { body: inner, .. } | E::If(_, inner) => body = Some(inner),
                E::Object { props, children } => {
                    for p in props
                        .iter()
                        .filter(|p| !matches!(p.value.kind, E::Spread(_)))
                    {
                        items.push(waivers::Item {
                            span: p.key_span.start..p.value.span.end,
                            name: format!("attribute `{}`", p.key),
                            opaque: true,
                            target: true,
                        });
                    }
                    waiver_items(children, items);
                    break;
                }
                _ => break,
            }
        }
    }
}

fn too_many(st: &mut State, file: &Arc<SourceFile>, at: &Range<usize>) -> bool {
    if st.records.len() < MAX_RECORDS {
        return false;
    }
    st.out.malformed.push(
        Diag::error(
            Code::InputMalformedBicep,
            format!("the file expands to more than {MAX_RECORDS} resource instances; the rest are not checked"),
        )
        .in_file(file)
        .label(at.clone(), "stopped here"),
    );
    true
}

/// Records of one `resource` declaration (and its nested children).
fn resource(
    unit: &Unit<'_>,
    d: &Decl,
    parent: Option<&Parent>,
    frame: &Frame,
    env: &Env,
    st: &mut State,
) {
    let Some(body) = &d.value else { return };
    let (own_ty, version) = d.target.split_once('@').unwrap_or((&d.target, ""));
    let ty = match parent {
        Some(p) if !own_ty.contains('/') => format!("{}/{own_ty}", p.ty),
        _ => own_ty.to_string(),
    };
    for inst in unit.expand(body, frame, env.existence.clone(), String::new()) {
        if too_many(st, &unit.file, &d.header) {
            return;
        }
        let E::Object { props, children } = &inst.body.kind else {
            continue;
        };
        let path = match parent {
            Some(p) => format!("{}::{}{}", p.path, d.name, inst.suffix),
            None => format!("{}{}", d.name, inst.suffix),
        };
        let mut attributes = BTreeMap::new();
        let mut attr_spans = Vec::new();
        let mut location_span = None;
        let mut tags_span = None;
        let mut tag_key_spans = Vec::new();
        for p in props {
            if META.contains(&p.key.as_str()) {
                continue;
            }
            if let E::Spread(x) = &p.value.kind {
                spread(unit, x, &inst.frame, &mut attributes);
                continue;
            }
            attributes.insert(p.key.clone(), unit.eval(&p.value, &inst.frame, 0));
            attr_spans.push((p.key.clone(), p.key_span.start..p.value.span.end));
            if p.key == "location" {
                location_span = Some(p.value.span.clone());
            }
            if p.key == "tags" {
                tags_span = Some(p.value.span.clone());
                if let E::Object { props: tp, .. } = &p.value.kind {
                    tag_key_spans = tp
                        .iter()
                        .map(|t| (t.key.clone(), t.key_span.clone()))
                        .collect();
                }
            }
        }
        if !version.is_empty() {
            attributes
                .entry("apiVersion".into())
                .or_insert_with(|| Value::str(version));
        }
        let name = if parent.is_some() {
            path.split('[').next().unwrap_or(&path).to_string()
        } else {
            d.name.clone()
        };
        st.records.push(record::build(record::Parts {
            file: unit.file.clone(),
            kind: if d.existing { "data" } else { "resource" },
            ty: ty.clone(),
            ty_span: d.target_span.clone(),
            name: Value::str(&name),
            name_span: d.name_span.clone(),
            header: d.header.clone(),
            address: format!(
                "{}{}{ty}.{path}",
                env.prefix,
                if d.existing { "data." } else { "" }
            ),
            module: (!env.prefix.is_empty()).then(|| env.prefix.trim_end_matches('.').to_string()),
            attributes,
            attr_spans,
            location_span,
            tags_span,
            tag_key_spans,
            existence: inst.existence.clone(),
        }));
        let me = Parent {
            ty: ty.clone(),
            path: path.clone(),
        };
        let child_env = Env {
            existence: inst.existence.clone(),
            ..env.clone()
        };
        for c in children {
            resource(unit, c, Some(&me), &inst.frame, &child_env, st);
        }
    }
}

/// `...x` in a resource or module body: `x`'s properties become the
/// body's. When `x` is unknown, so are the `location` and `tags` the body
/// does not set itself (what it might hold is unknown, never absent).
fn spread(unit: &Unit<'_>, x: &Expr, frame: &Frame, attributes: &mut BTreeMap<String, Value>) {
    match unit.eval(x, frame, 0) {
        Value::Map(m) => attributes.extend(m),
        Value::Null => {}
        u @ Value::Unknown(_) => {
            for k in ["location", "tags"] {
                attributes.entry(k.into()).or_insert_with(|| u.clone());
            }
        }
        other => {
            let why = format!("`...` of a {} in a resource body", other.type_name());
            attributes.insert("...".into(), fails(&why, unit.at(&x.span)));
        }
    }
}

/// A `module` declaration: its record, and its file's records when it is local.
fn module(unit: &Unit<'_>, d: &Decl, env: &Env, st: &mut State) {
    let Some(body) = &d.value else { return };
    let remote = ["br:", "br/", "ts:", "ts/"]
        .iter()
        .any(|p| d.target.starts_with(p));
    let dir = unit
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let target = dir.join(&d.target);
    let header = Origin::new(&unit.file, d.header.clone());
    for inst in unit.expand(
        body,
        &Frame::default(),
        env.existence.clone(),
        String::new(),
    ) {
        if too_many(st, &unit.file, &d.header) {
            return;
        }
        let E::Object { props, .. } = &inst.body.kind else {
            continue;
        };
        let address = format!("{}module.{}{}", env.prefix, d.name, inst.suffix);
        let mut attributes = BTreeMap::new();
        let mut attr_spans = Vec::new();
        let mut scope = None;
        for p in props {
            if p.key == "scope" {
                scope = Some(&p.value);
            }
            if META.contains(&p.key.as_str()) {
                continue;
            }
            if let E::Spread(x) = &p.value.kind {
                spread(unit, x, &inst.frame, &mut attributes);
                continue;
            }
            attributes.insert(p.key.clone(), unit.eval(&p.value, &inst.frame, 0));
            attr_spans.push((p.key.clone(), p.key_span.start..p.value.span.end));
        }
        let params = match attributes.get("params") {
            Some(Value::Map(m)) => m.clone(),
            _ => BTreeMap::new(),
        };
        let tags_of = props
            .iter()
            .find(|p| p.key == "params")
            .and_then(|p| match &p.value.kind {
                E::Object { props, .. } => props
                    .iter()
                    .find(|q| q.key == "tags")
                    .map(|q| q.value.span.clone()),
                _ => None,
            });
        let mut rec = record::build(record::Parts {
            file: unit.file.clone(),
            kind: "module",
            ty: String::new(),
            ty_span: d.target_span.clone(),
            name: Value::str(&d.name),
            name_span: d.name_span.clone(),
            header: d.header.clone(),
            address: address.clone(),
            module: (!env.prefix.is_empty()).then(|| env.prefix.trim_end_matches('.').to_string()),
            attributes,
            attr_spans,
            location_span: None,
            tags_span: None,
            tag_key_spans: Vec::new(),
            existence: inst.existence.clone(),
        });
        let readable = !remote
            && target.is_file()
            && target
                .extension()
                .is_some_and(|e| e == "bicep" || e == "json");
        if !readable {
            let why = if remote {
                format!(
                    "module `{}` comes from a registry (`{}`) and is not scanned: where its resources run depends on what is inside",
                    d.name, d.target
                )
            } else {
                format!(
                    "module `{}` (`{}`) is not a local `.bicep` or `.json` file proviso can read",
                    d.name, d.target
                )
            };
            // Judged from its parameters: tags given, cloud and region unknown.
            if let Some(t) = params.get("tags") {
                rec.fields.insert("tags".into(), t.clone());
                if let Some(s) = &tags_of {
                    rec.origins
                        .push((vec!["tags".into()], Origin::new(&unit.file, s.clone())));
                }
            }
            rec.fields.insert(
                "cloud".into(),
                Value::unknown(why.clone(), Some(header.clone())),
            );
            rec.fields.insert(
                "region".into(),
                Value::unknown(why.clone(), Some(header.clone())),
            );
            st.records.push(rec);
            let first =
                !st.out.unscanned_modules.iter().any(|u| {
                    u.origin.file.name == header.file.name && u.origin.span == header.span
                });
            if first {
                if remote {
                    st.out.notes.push(
                        Diag::advice(Code::InputBicepModuleNotScanned, why)
                            .label_at(&header, "not followed")
                            .with_help("restore it locally (`bicep restore`) and point the module at the file to have its resources checked; until then it is judged from its parameters"),
                    );
                } else {
                    st.out.malformed.push(
                        Diag::error(Code::InputMalformedBicep, why)
                            .label_at(&header, "not followed")
                            .with_help("point the module at a `.bicep` file or an ARM template (`.json`) that exists, relative to this file"),
                    );
                }
            }
            st.out.add_unscanned(UnscannedModule {
                address,
                source: d.target.clone(),
                origin: header.clone(),
                instances: 1,
            });
            continue;
        }
        st.records.push(rec);
        // Where the module's resource group is: this one, or a resource
        // group resource declared here (`scope: rg`); elsewhere unknown.
        let region = match scope.map(|s| &s.kind) {
            None => env.region.clone(),
            Some(E::Call(_, n, args)) if n == "resourceGroup" && args.is_empty() => {
                env.region.clone()
            }
            Some(E::Ident(sym)) => match unit.decls.get(sym.as_str()) {
                Some(rg)
                    if rg
                        .target
                        .to_ascii_lowercase()
                        .starts_with("microsoft.resources/resourcegroups") =>
                {
                    match unit.eval(
                        &Expr {
                            span: d.header.clone(),
                            kind: E::Prop(
                                Box::new(Expr {
                                    span: d.header.clone(),
                                    kind: E::Ident(sym.clone()),
                                }),
                                "location".into(),
                                false,
                            ),
                        },
                        &inst.frame,
                        0,
                    ) {
                        Value::Str(s) => Some(s.to_string()),
                        _ => None,
                    }
                }
                _ => None,
            },
            Some(_) => None,
        };
        let canon = canonical(&target);
        if st.stack.contains(&canon) || st.stack.len() > MAX_MODULE_DEPTH {
            st.out.malformed.push(
                Diag::error(
                    Code::InputMalformedBicep,
                    format!("module `{}` uses `{}`, which is already being evaluated (a cycle) or too deep", d.name, d.target),
                )
                .label_at(&header, "not followed")
                .with_help("break the cycle of modules"),
            );
            continue;
        }
        let text = match crate::diag::read_text(&target) {
            Ok(t) => t,
            Err(e) => {
                st.out.malformed.push(e);
                continue;
            }
        };
        let child_file = SourceFile::new(display_path(&target), text);
        st.out.modules += 1;
        if st.out.file_paths.insert(canon.clone()) {
            st.out.files += 1;
        }
        let child_env = Env {
            region,
            prefix: format!("{address}."),
            existence: inst.existence.clone(),
            depth: env.depth + 1,
        };
        if target.extension().is_some_and(|e| e == "json") {
            arm_module(&child_file, &target, &params, &header, &child_env, st);
            continue;
        }
        st.stack.push(canon);
        run_file(
            &child_file,
            &target,
            Inputs {
                values: params,
                from_caller: true,
            },
            &child_env,
            st,
        );
        st.stack.pop();
    }
}

/// A module that is an ARM template: scanned by the ARM scanner with the
/// module's parameters, its records prefixed with the module's address.
fn arm_module(
    file: &Arc<SourceFile>,
    path: &Path,
    params: &BTreeMap<String, Value>,
    header: &Origin,
    env: &Env,
    st: &mut State,
) {
    let given: Given = params
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (v.clone(), header.clone())))
        .collect();
    let mut part = arm::scan_template(path, &file.text, env.region.as_deref(), &given);
    for r in &mut part.records {
        r.address = format!("{}{}", env.prefix, r.address);
        r.fields.insert("address".into(), Value::str(&r.address));
        r.fields.insert(
            "module".into(),
            Value::str(env.prefix.trim_end_matches('.')),
        );
        if let Some(u) = &env.existence {
            r.existence.get_or_insert_with(|| u.clone());
        }
    }
    st.records.append(&mut part.records);
    part.files = 0;
    st.out.merge(part);
}
