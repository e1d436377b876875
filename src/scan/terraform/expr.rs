//! Static evaluation of HCL expressions in a module instance.
//!
//! Evaluation never guesses: anything that depends on a value Terraform only
//! knows at plan or apply time (a variable with no value, a computed
//! attribute, a data source, a function proviso does not implement) becomes
//! [`Value::Unknown`] carrying the span of the expression that could not be
//! resolved and why. Errors Terraform itself would raise (a missing key, a
//! type error) are unknown too, with the error as the reason, and marked as
//! failures ([`super::error`]) so that `try` and `can` tell them apart.

use super::error::{EvalError, find_failure};
use super::funcs;
use super::module::{BlockKind, Instance};
use crate::source::{Origin, SourceFile};
use crate::value::Value;
use hcl_edit::Span as _;
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Directive, Element};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Most elements (deep, counting nested lists and maps) one value may hold.
/// A configuration that builds more (a list doubled by 25 locals, a `for`
/// nested over a long string) gets an unknown that says so, instead of
/// gigabytes: Terraform's own plan of it would be impractical too.
pub const MAX_VALUE_ELEMENTS: usize = 1_000_000;

/// How many elements a value holds (deep), counting at most up to `limit`.
fn elements(v: &Value, limit: usize) -> usize {
    let mut n = 0usize;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        n += 1;
        if n > limit {
            return n;
        }
        match v {
            Value::List(items) => stack.extend(items.iter()),
            Value::Map(m) => stack.extend(m.values()),
            _ => {}
        }
    }
    n
}

fn too_large(ctx: &Ctx<'_>, whole: &Expression) -> Value {
    ctx.unknown(
        whole,
        format!(
            "this value would hold more than {MAX_VALUE_ELEMENTS} elements; proviso does not evaluate it"
        ),
    )
}

/// Deepest nesting of references (local → resource → local …) followed.
const MAX_DEPTH: usize = 64;

/// Longest string a template `for` builds before proviso gives up (unknown).
const MAX_TEMPLATE: usize = 1 << 24;
/// Most iterations of template `for` loops in one template.
const MAX_TEMPLATE_ITERATIONS: usize = 1 << 16;

/// Per-evaluation bindings: `each`, `count` and `for` variables.
#[derive(Clone, Default)]
pub struct Frame {
    pub each: Option<(Value, Value)>,
    pub count_index: Option<Value>,
    pub vars: Vec<(String, Value)>,
}

/// An expression together with the file it was written in.
pub struct Ctx<'e> {
    pub file: &'e Arc<SourceFile>,
    pub frame: &'e Frame,
    pub depth: usize,
}

impl Ctx<'_> {
    pub fn origin(&self, expr: &Expression) -> Option<Origin> {
        expr.span().map(|s| Origin::new(self.file, s))
    }

    fn unknown(&self, expr: &Expression, reason: impl Into<String>) -> Value {
        Value::unknown(reason, self.origin(expr))
    }
}

/// What evaluating gives: a value (possibly unknown), or why Terraform
/// would reject the expression ([`EvalError::Fails`]; the other kinds are
/// unknowns at the function call that gave them, never returned).
type Eval = Result<Value, EvalError>;

/// What rendering a template needs besides its elements.
struct Render<'r> {
    /// For a heredoc, each literal's text as HCL evaluates it.
    heredoc: Option<&'r HashMap<*const String, String>>,
    whole: &'r Expression,
    /// `for` iterations left: nested loops that build nothing must still
    /// end (`%{ for a in range(1024) }%{ for b in range(1024) }…`).
    budget: std::cell::Cell<usize>,
}

impl Instance<'_> {
    /// Evaluates an expression to a value (possibly unknown).
    pub fn eval(&self, expr: &Expression, ctx: &Ctx<'_>) -> Value {
        match self.try_eval(expr, ctx) {
            Ok(v) => v,
            Err(e) => e.into_unknown(ctx.origin(expr)),
        }
    }

    /// Like [`Instance::eval`], but keeps evaluation errors apart from
    /// unknowns (for `try` and `can`).
    pub fn try_eval(&self, expr: &Expression, ctx: &Ctx<'_>) -> Eval {
        if ctx.depth > MAX_DEPTH {
            return Ok(ctx.unknown(expr, "references nest too deeply (a cycle?)"));
        }
        Ok(match expr {
            Expression::Null(_) => Value::Null,
            Expression::Bool(b) => Value::Bool(*b.value()),
            Expression::Number(n) => Value::Num(n.value().as_f64().unwrap_or(0.0)),
            Expression::String(s) => Value::str(s.value()),
            Expression::Array(items) => {
                Value::List(items.iter().map(|e| self.eval(e, ctx)).collect())
            }
            Expression::Object(obj) => {
                let mut map = BTreeMap::new();
                for (k, v) in obj.iter() {
                    let key = match self.object_key(k, ctx) {
                        Ok(k) => k,
                        Err(u) => return Ok(u),
                    };
                    map.insert(key, self.eval(v.expr(), ctx));
                }
                Value::Map(map)
            }
            Expression::StringTemplate(t) => self.template(t.iter(), expr, ctx)?,
            Expression::HeredocTemplate(h) => self.template(h.template.iter(), expr, ctx)?,
            Expression::Parenthesis(p) => self.try_eval(p.inner(), ctx)?,
            Expression::Variable(v) => self.variable(v.as_str(), &[], expr, ctx)?,
            Expression::Traversal(t) => match &t.expr {
                Expression::Variable(v) => {
                    let ops: Vec<&TraversalOperator> =
                        t.operators.iter().map(|o| o.value()).collect();
                    self.variable(v.as_str(), &ops, expr, ctx)?
                }
                base => {
                    let base = self.try_eval(base, ctx)?;
                    let ops: Vec<&TraversalOperator> =
                        t.operators.iter().map(|o| o.value()).collect();
                    self.traverse(base, &ops, ctx)?
                }
            },
            Expression::Conditional(c) => match self.try_eval(&c.cond_expr, ctx)? {
                Value::Bool(true) => self.try_eval(&c.true_expr, ctx)?,
                Value::Bool(false) => self.try_eval(&c.false_expr, ctx)?,
                Value::Unknown(u) => {
                    // Both branches equal: the condition does not matter.
                    let (a, b) = (self.eval(&c.true_expr, ctx), self.eval(&c.false_expr, ctx));
                    if a == b && !a.is_unknown() {
                        a
                    } else {
                        Value::Unknown(u)
                    }
                }
                other => {
                    return Err(EvalError::fails(format!(
                        "condition is a {}, not a bool",
                        other.type_name()
                    )));
                }
            },
            Expression::UnaryOp(op) => match (op.operator.value(), self.try_eval(&op.expr, ctx)?) {
                (_, u @ Value::Unknown(_)) => u,
                (UnaryOperator::Not, Value::Bool(b)) => Value::Bool(!b),
                (UnaryOperator::Neg, Value::Num(n)) => Value::Num(-n),
                (_, other) => {
                    return Err(EvalError::fails(format!(
                        "cannot apply `{}` to a {}",
                        op.operator.value().as_str(),
                        other.type_name()
                    )));
                }
            },
            Expression::BinaryOp(op) => self.binary(op, ctx)?,
            Expression::FuncCall(call) => {
                let v = self.func_call(call, expr, ctx)?;
                if elements(&v, MAX_VALUE_ELEMENTS) > MAX_VALUE_ELEMENTS {
                    too_large(ctx, expr)
                } else {
                    v
                }
            }
            Expression::ForExpr(f) => self.for_expr(f, expr, ctx)?,
        })
    }

    fn object_key(&self, key: &ObjectKey, ctx: &Ctx<'_>) -> Result<String, Value> {
        match key {
            ObjectKey::Ident(id) => Ok(id.as_str().to_string()),
            ObjectKey::Expression(Expression::Variable(v)) => Ok(v.as_str().to_string()),
            ObjectKey::Expression(e) => match self.eval(e, ctx) {
                Value::Str(s) => Ok(s.to_string()),
                u @ Value::Unknown(_) => Err(u),
                other => Ok(other.to_string()),
            },
        }
    }

    /// A string template or heredoc. A template that is one interpolation
    /// and nothing else is that value, unconverted (`"${var.list}"` is the
    /// list), as in HCL.
    fn template<'t>(
        &self,
        elements: impl Iterator<Item = &'t Element>,
        whole: &Expression,
        ctx: &Ctx<'_>,
    ) -> Eval {
        let elements: Vec<&Element> = elements.collect();
        if let [Element::Interpolation(i)] = elements.as_slice() {
            return self.try_eval(&i.expr, ctx);
        }
        let heredoc = match whole {
            Expression::HeredocTemplate(h) => heredoc_literals(h, whole, ctx.file),
            _ => None,
        };
        let mut out = String::new();
        let r = Render {
            heredoc: heredoc.as_ref(),
            whole,
            budget: std::cell::Cell::new(MAX_TEMPLATE_ITERATIONS),
        };
        match self.render(&elements, (false, false), &r, ctx, &mut out, 0)? {
            Some(u) => Ok(u),
            None => Ok(Value::str(&out)),
        }
    }

    /// Renders template elements into `out`; `Some(unknown)` when a part is
    /// unknown. `edges` says whether the directive around these elements
    /// strips the whitespace at their start and end (`%{ for … ~}`,
    /// `%{~ endfor }`). `~` next to an interpolation or directive strips the
    /// adjacent literal's whitespace, as HCL does.
    fn render(
        &self,
        elements: &[&Element],
        edges: (bool, bool),
        r: &Render<'_>,
        ctx: &Ctx<'_>,
        out: &mut String,
        depth: usize,
    ) -> Result<Option<Value>, EvalError> {
        let whole = r.whole;
        if ctx.depth + depth > MAX_DEPTH {
            return Ok(Some(
                ctx.unknown(whole, "template directives nest too deeply"),
            ));
        }
        // (strips the literal before it, strips the literal after it)
        let strips = |el: &Element| -> (bool, bool) {
            match el {
                Element::Literal(_) => (false, false),
                Element::Interpolation(i) => (i.strip.strip_start(), i.strip.strip_end()),
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(ifd) => (
                        ifd.if_expr.strip.strip_start(),
                        ifd.endif_expr.strip.strip_end(),
                    ),
                    Directive::For(fd) => (
                        fd.for_expr.strip.strip_start(),
                        fd.endfor_expr.strip.strip_end(),
                    ),
                },
            }
        };
        for (i, el) in elements.iter().enumerate() {
            match el {
                Element::Literal(l) => {
                    if let Some(text) = r.heredoc.and_then(|m| m.get(&(l.value() as *const String)))
                    {
                        out.push_str(text);
                        continue;
                    }
                    let mut text: &str = l.value();
                    let before = match i.checked_sub(1).and_then(|p| elements.get(p)) {
                        Some(p) => strips(p).1,
                        None => edges.0,
                    };
                    let after = match elements.get(i + 1) {
                        Some(n) => strips(n).0,
                        None => edges.1,
                    };
                    if before {
                        text = text.trim_start();
                    }
                    if after {
                        text = text.trim_end();
                    }
                    out.push_str(text);
                }
                Element::Interpolation(interp) => match self.try_eval(&interp.expr, ctx)? {
                    Value::Unknown(u) => return Ok(Some(Value::Unknown(u))),
                    v => {
                        if let Some(u) = v.find_unknown() {
                            return Ok(Some(Value::Unknown(u.clone())));
                        }
                        out.push_str(&funcs::to_string(&v)?)
                    }
                },
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(ifd) => match self.try_eval(&ifd.if_expr.cond_expr, ctx)? {
                        Value::Bool(true) => {
                            let end = match &ifd.else_expr {
                                Some(e) => e.strip.strip_start(),
                                None => ifd.endif_expr.strip.strip_start(),
                            };
                            let body: Vec<&Element> = ifd.if_expr.template.iter().collect();
                            let edges = (ifd.if_expr.strip.strip_end(), end);
                            if let Some(u) = self.render(&body, edges, r, ctx, out, depth + 1)? {
                                return Ok(Some(u));
                            }
                        }
                        Value::Bool(false) => {
                            if let Some(e) = &ifd.else_expr {
                                let body: Vec<&Element> = e.template.iter().collect();
                                let edges =
                                    (e.strip.strip_end(), ifd.endif_expr.strip.strip_start());
                                if let Some(u) =
                                    self.render(&body, edges, r, ctx, out, depth + 1)?
                                {
                                    return Ok(Some(u));
                                }
                            }
                        }
                        u @ Value::Unknown(_) => return Ok(Some(u)),
                        other => {
                            return Err(EvalError::fails(format!(
                                "template `if` on a {}",
                                other.type_name()
                            )));
                        }
                    },
                    Directive::For(fd) => {
                        let f = &fd.for_expr;
                        let pairs: Vec<(Value, Value)> =
                            match self.try_eval(&f.collection_expr, ctx)? {
                                u @ Value::Unknown(_) => return Ok(Some(u)),
                                Value::List(items) => items
                                    .into_iter()
                                    .enumerate()
                                    .map(|(i, v)| (Value::Num(i as f64), v))
                                    .collect(),
                                Value::Map(m) => {
                                    m.into_iter().map(|(k, v)| (Value::str(&k), v)).collect()
                                }
                                other => {
                                    return Err(EvalError::fails(format!(
                                        "a {} cannot be the collection of a template `for`",
                                        other.type_name()
                                    )));
                                }
                            };
                        let body: Vec<&Element> = f.template.iter().collect();
                        let edges = (f.strip.strip_end(), fd.endfor_expr.strip.strip_start());
                        for (k, v) in pairs {
                            match r.budget.get().checked_sub(1) {
                                Some(left) => r.budget.set(left),
                                None => {
                                    return Ok(Some(ctx.unknown(
                                        whole,
                                        "template `for` loops run too many times for proviso",
                                    )));
                                }
                            }
                            let mut frame = ctx.frame.clone();
                            if let Some(kv) = &f.key_var {
                                frame.vars.push((kv.as_str().to_string(), k));
                            }
                            frame.vars.push((f.value_var.as_str().to_string(), v));
                            let inner = Ctx {
                                file: ctx.file,
                                frame: &frame,
                                depth: ctx.depth + 1,
                            };
                            if let Some(u) = self.render(&body, edges, r, &inner, out, depth + 1)? {
                                return Ok(Some(u));
                            }
                            if out.len() > MAX_TEMPLATE {
                                return Ok(Some(ctx.unknown(
                                    whole,
                                    "a template `for` builds a string too long for proviso",
                                )));
                            }
                        }
                    }
                },
            }
        }
        Ok(None)
    }

    fn binary(&self, op: &hcl_edit::expr::BinaryOp, ctx: &Ctx<'_>) -> Eval {
        let l = self.try_eval(&op.lhs_expr, ctx)?;
        // Short-circuit the logical operators around unknowns.
        match (op.operator.value(), &l) {
            (BinaryOperator::And, Value::Bool(false)) => return Ok(Value::Bool(false)),
            (BinaryOperator::Or, Value::Bool(true)) => return Ok(Value::Bool(true)),
            _ => {}
        }
        let r = self.try_eval(&op.rhs_expr, ctx)?;
        use BinaryOperator as B;
        Ok(match (op.operator.value(), l, r) {
            (B::And, Value::Unknown(u), Value::Bool(true))
            | (B::And, Value::Bool(true), Value::Unknown(u)) => Value::Unknown(u),
            (B::And, _, Value::Bool(false)) => Value::Bool(false),
            (B::Or, _, Value::Bool(true)) => Value::Bool(true),
            (_, Value::Unknown(u), _) | (_, _, Value::Unknown(u)) => Value::Unknown(u),
            (B::Eq, a, b) => Value::Bool(a == b),
            (B::NotEq, a, b) => Value::Bool(a != b),
            (B::And, Value::Bool(a), Value::Bool(b)) => Value::Bool(a && b),
            (B::Or, Value::Bool(a), Value::Bool(b)) => Value::Bool(a || b),
            (o, a, b) => {
                let (x, y) = (as_num(&a)?, as_num(&b)?);
                match o {
                    B::Plus => Value::Num(x + y),
                    B::Minus => Value::Num(x - y),
                    B::Mul => Value::Num(x * y),
                    B::Div if y != 0.0 => Value::Num(x / y),
                    B::Div => return Err(EvalError::fails("division by zero")),
                    B::Mod if y != 0.0 => Value::Num(x % y),
                    B::Mod => return Err(EvalError::fails("modulo by zero")),
                    B::Less => Value::Bool(x < y),
                    B::LessEq => Value::Bool(x <= y),
                    B::Greater => Value::Bool(x > y),
                    B::GreaterEq => Value::Bool(x >= y),
                    _ => return Err(EvalError::fails(format!("`{}` on numbers", o.as_str()))),
                }
            }
        })
    }

    /// A function call. A provider function (`provider::x::f`) is unknown.
    /// `try` and `can` take their argument expressions unevaluated; they and
    /// the functions that read files or are known only at apply time
    /// (unknown) are decided before argument expansion, so a final `...` is
    /// ignored for them (`try(list...)` sees the list as its one argument).
    ///
    /// Every other function gets its arguments evaluated one by one (an
    /// argument that fails is an unknown that stands for the failure, which
    /// [`funcs::call`] passes on) and then, for `f(a, list...)`, the last
    /// one expanded: a list's elements take its place (unknown elements
    /// included); an unknown makes the call unknown; `null` or any other
    /// value (a map, a string) is the error Terraform raises.
    fn func_call(
        &self,
        call: &hcl_edit::expr::FuncCall,
        whole: &Expression,
        ctx: &Ctx<'_>,
    ) -> Eval {
        let name = call.name.name.as_str();
        if !call.name.namespace.is_empty() {
            return Ok(ctx.unknown(
                whole,
                format!("provider function `{name}` is not evaluated statically"),
            ));
        }
        let args: Vec<&Expression> = call.args.iter().collect();
        match name {
            "try" => {
                // An argument fails when evaluating it fails, also deep
                // inside (`try([local.missing.x], [])`); one that is not
                // wholly known makes the result unknown, as in Terraform
                // (it might still fail).
                for a in &args {
                    match self.try_eval(a, ctx) {
                        Ok(v) if find_failure(&v).is_some() => continue,
                        Ok(v) => {
                            return Ok(match v.find_unknown() {
                                Some(u) => Value::Unknown(u.clone()),
                                None => v,
                            });
                        }
                        Err(_) => continue,
                    }
                }
                Err(EvalError::fails("try: every argument failed"))
            }
            "can" => Ok(match args.first().map(|a| self.try_eval(a, ctx)) {
                Some(Ok(v)) if find_failure(&v).is_some() => Value::Bool(false),
                Some(Ok(v)) if v.find_unknown().is_some() => v
                    .find_unknown()
                    .map(|u| Value::Unknown(u.clone()))
                    .unwrap_or(Value::Bool(true)),
                Some(Ok(_)) => Value::Bool(true),
                _ => Value::Bool(false),
            }),
            "file" | "templatefile" | "fileexists" | "filebase64" | "filemd5" | "filesha1"
            | "filesha256" | "filesha512" | "filebase64sha256" | "filebase64sha512" | "fileset" => {
                Ok(ctx.unknown(
                    whole,
                    format!("`{name}` reads files at plan time; proviso does not"),
                ))
            }
            "timestamp" | "uuid" | "plantimestamp" | "bcrypt" => {
                Ok(ctx.unknown(whole, format!("`{name}` is only known at apply time")))
            }
            _ => {
                let mut vals: Vec<Value> = args.iter().map(|a| self.eval(a, ctx)).collect();
                // `f(a, list...)`: the list's elements replace it.
                if call.args.expand_final() {
                    match vals.pop() {
                        Some(Value::List(items)) => vals.extend(items),
                        Some(u @ Value::Unknown(_)) => return Ok(u),
                        Some(Value::Null) => {
                            return Err(EvalError::fails(
                                "the expanding argument (indicated by ...) must not be null",
                            ));
                        }
                        Some(other) => {
                            return Err(EvalError::fails(format!(
                                "the expanding argument (indicated by ...) must be a list, \
                                 tuple or set, not a {}",
                                other.type_name()
                            )));
                        }
                        None => {}
                    }
                }
                match funcs::call(name, &vals) {
                    Ok(v) => Ok(v),
                    Err(EvalError::Fails(e)) => Err(EvalError::Fails(format!("{name}: {e}"))),
                    Err(e) => Ok(e.into_unknown(ctx.origin(whole))),
                }
            }
        }
    }

    fn for_expr(&self, f: &hcl_edit::expr::ForExpr, whole: &Expression, ctx: &Ctx<'_>) -> Eval {
        let coll = self.try_eval(&f.intro.collection_expr, ctx)?;
        let pairs: Vec<(Value, Value)> = match coll {
            u @ Value::Unknown(_) => return Ok(u),
            Value::List(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::Num(i as f64), v))
                .collect(),
            Value::Map(m) => m.into_iter().map(|(k, v)| (Value::str(&k), v)).collect(),
            other => {
                return Err(EvalError::fails(format!(
                    "cannot iterate over a {}",
                    other.type_name()
                )));
            }
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.as_str().to_string());
        let value_var = f.intro.value_var.as_str().to_string();
        let mut list = Vec::new();
        let mut map: BTreeMap<String, Value> = BTreeMap::new();
        let mut built = 0usize;
        for (k, v) in pairs {
            let mut frame = ctx.frame.clone();
            if let Some(kv) = &key_var {
                frame.vars.push((kv.clone(), k));
            }
            frame.vars.push((value_var.clone(), v));
            let inner = Ctx {
                file: ctx.file,
                frame: &frame,
                depth: ctx.depth + 1,
            };
            if let Some(cond) = &f.cond {
                match self.try_eval(&cond.expr, &inner)? {
                    Value::Bool(true) => {}
                    Value::Bool(false) => continue,
                    u @ Value::Unknown(_) => return Ok(u),
                    other => {
                        return Err(EvalError::fails(format!(
                            "`for` condition is a {}",
                            other.type_name()
                        )));
                    }
                }
            }
            let value = self.eval(&f.value_expr, &inner);
            built += elements(&value, MAX_VALUE_ELEMENTS);
            if built > MAX_VALUE_ELEMENTS {
                return Ok(too_large(ctx, whole));
            }
            match &f.key_expr {
                Some(ke) => {
                    let key = match self.eval(ke, &inner) {
                        Value::Str(s) => s.to_string(),
                        Value::Unknown(_) => {
                            return Ok(ctx.unknown(whole, "a `for` key is unknown"));
                        }
                        other => other.to_string(),
                    };
                    if f.grouping {
                        let entry = map.entry(key).or_insert_with(|| Value::List(Vec::new()));
                        if let Value::List(items) = entry {
                            items.push(value);
                        }
                    } else {
                        map.insert(key, value);
                    }
                }
                None => list.push(value),
            }
        }
        Ok(if f.key_expr.is_some() {
            Value::Map(map)
        } else {
            Value::List(list)
        })
    }

    /// A reference rooted at a variable name: `var.x`, `local.y`, `each.key`,
    /// `aws_s3_bucket.logs.arn`, a `for` variable, …
    fn variable(
        &self,
        root: &str,
        ops: &[&TraversalOperator],
        whole: &Expression,
        ctx: &Ctx<'_>,
    ) -> Eval {
        if let Some((_, v)) = ctx.frame.vars.iter().rev().find(|(n, _)| n == root) {
            return self.traverse(v.clone(), ops, ctx);
        }
        // `root.name…`: the name, and the operators after it.
        let attr = match ops {
            [TraversalOperator::GetAttr(id), rest @ ..] => Some((id.as_str(), rest)),
            _ => None,
        };
        match root {
            "var" => {
                let Some((name, rest)) = attr else {
                    return Err(EvalError::fails("`var` needs a name"));
                };
                let v = self.var_value(name, ctx.origin(whole));
                self.traverse(v, rest, ctx)
            }
            "local" => {
                let Some((name, rest)) = attr else {
                    return Err(EvalError::fails("`local` needs a name"));
                };
                let v = self.local_value(name, ctx);
                self.traverse(v, rest, ctx)
            }
            "each" => match (&ctx.frame.each, attr) {
                (Some((k, _)), Some(("key", rest))) => self.traverse(k.clone(), rest, ctx),
                (Some((_, v)), Some(("value", rest))) => self.traverse(v.clone(), rest, ctx),
                _ => Err(EvalError::fails(
                    "`each` is only valid in a block with `for_each`",
                )),
            },
            "count" => match (&ctx.frame.count_index, attr) {
                (Some(i), Some(("index", _))) => Ok(i.clone()),
                _ => Err(EvalError::fails(
                    "`count.index` is only valid in a block with `count`",
                )),
            },
            "path" => Ok(match attr.map(|(name, _)| name) {
                Some("module") => Value::str(&self.module.dir_display),
                Some("root") => Value::str(&self.root_dir_display),
                Some("cwd") => Value::str("."),
                _ => ctx.unknown(whole, "unknown `path` attribute"),
            }),
            "terraform" => Ok(ctx.unknown(
                whole,
                "`terraform.*` (workspace) is only known at plan time",
            )),
            "data" => Ok(ctx.unknown(whole, "data source attributes are read at plan time")),
            "module" => {
                let [
                    TraversalOperator::GetAttr(call),
                    TraversalOperator::GetAttr(output),
                    rest @ ..,
                ] = ops
                else {
                    return Ok(ctx.unknown(whole, "a module output reference"));
                };
                let v = self.module_output(call.as_str(), output.as_str(), whole, ctx);
                self.traverse(v, rest, ctx)
            }
            "self" => Ok(ctx.unknown(whole, "`self` is only known at apply time")),
            resource_type => {
                let Some((name, rest)) = attr else {
                    return Err(EvalError::fails(format!(
                        "unknown reference `{resource_type}`"
                    )));
                };
                // An instance key may follow: `aws_x.y[0].attr`, `azurerm_x.y["k"].attr`.
                let (key, rest) = match rest {
                    [TraversalOperator::Index(e), after @ ..] => (Some(self.eval(e, ctx)), after),
                    [TraversalOperator::LegacyIndex(i), after @ ..] => {
                        (Some(Value::Num(*i.value() as f64)), after)
                    }
                    _ => (None, rest),
                };
                let [TraversalOperator::GetAttr(a), rest @ ..] = rest else {
                    return Ok(ctx.unknown(
                        whole,
                        format!(
                            "a whole `{resource_type}.{name}` object is only known after apply"
                        ),
                    ));
                };
                let v = self.resource_attribute(
                    BlockKind::Resource,
                    resource_type,
                    name,
                    key,
                    a.as_str(),
                    whole,
                    ctx,
                );
                self.traverse(v, rest, ctx)
            }
        }
    }

    /// Applies attribute and index operators to a value.
    pub fn traverse(&self, mut v: Value, mut ops: &[&TraversalOperator], ctx: &Ctx<'_>) -> Eval {
        while let [op, rest @ ..] = ops {
            ops = rest;
            if v.is_unknown() {
                return Ok(v);
            }
            v = match op {
                TraversalOperator::GetAttr(id) => match v {
                    Value::Map(mut m) => match m.remove(id.as_str()) {
                        Some(x) => x,
                        None => {
                            return Err(EvalError::fails(format!(
                                "no attribute `{}`",
                                id.as_str()
                            )));
                        }
                    },
                    Value::Null => {
                        return Err(EvalError::fails(format!(
                            "attribute `{}` of null",
                            id.as_str()
                        )));
                    }
                    other => {
                        return Err(EvalError::fails(format!(
                            "a {} has no attribute `{}`",
                            other.type_name(),
                            id.as_str()
                        )));
                    }
                },
                TraversalOperator::Index(e) => {
                    let key = self.eval(e, ctx);
                    index(v, &key)?
                }
                TraversalOperator::LegacyIndex(n) => index(v, &Value::Num(*n.value() as f64))?,
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let items = match v {
                        Value::List(items) => items,
                        Value::Null => Vec::new(),
                        single => vec![single],
                    };
                    let mut out = Vec::new();
                    for item in items {
                        out.push(self.traverse(item, rest, ctx)?);
                    }
                    return Ok(Value::List(out));
                }
            };
        }
        Ok(v)
    }
}

/// The text of each literal of a heredoc as HCL evaluates it, keyed by the
/// literal's address: HCL splits a heredoc's literals after each newline,
/// applies `~` to the adjacent line-piece only, and (for `<<-`) removes the
/// indentation after that, over the whole flat sequence of pieces, where
/// hcl-edit dedents only the top level and before stripping. The pieces are
/// rebuilt from the source text of each literal; `None` when a literal has
/// no span (proviso then falls back to hcl-edit's text).
fn heredoc_literals(
    h: &hcl_edit::template::HeredocTemplate,
    whole: &Expression,
    file: &SourceFile,
) -> Option<HashMap<*const String, String>> {
    enum Part {
        /// A line piece of the literal at the given index.
        Piece(usize, String),
        /// An interpolation or directive tag: strips before, strips after.
        Tag(bool, bool),
    }
    fn walk<'t>(
        elements: impl Iterator<Item = &'t Element>,
        file: &SourceFile,
        lits: &mut Vec<*const String>,
        parts: &mut Vec<Part>,
    ) -> Option<()> {
        for el in elements {
            match el {
                Element::Literal(l) => {
                    let raw = file.text.get(l.span()?)?;
                    let text = raw.replace("$${", "${").replace("%%{", "%{");
                    // The source must say what hcl-edit read, but for
                    // indentation; else the spans do not index this text.
                    if !text.split_whitespace().eq(l.value().split_whitespace()) {
                        return None;
                    }
                    lits.push(l.value() as *const String);
                    let i = lits.len() - 1;
                    for piece in text.split_inclusive('\n') {
                        parts.push(Part::Piece(i, piece.to_string()));
                    }
                }
                Element::Interpolation(x) => {
                    parts.push(Part::Tag(x.strip.strip_start(), x.strip.strip_end()))
                }
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(ifd) => {
                        let s = ifd.if_expr.strip;
                        parts.push(Part::Tag(s.strip_start(), s.strip_end()));
                        walk(ifd.if_expr.template.iter(), file, lits, parts)?;
                        if let Some(e) = &ifd.else_expr {
                            parts.push(Part::Tag(e.strip.strip_start(), e.strip.strip_end()));
                            walk(e.template.iter(), file, lits, parts)?;
                        }
                        let s = ifd.endif_expr.strip;
                        parts.push(Part::Tag(s.strip_start(), s.strip_end()));
                    }
                    Directive::For(fd) => {
                        let s = fd.for_expr.strip;
                        parts.push(Part::Tag(s.strip_start(), s.strip_end()));
                        walk(fd.for_expr.template.iter(), file, lits, parts)?;
                        let s = fd.endfor_expr.strip;
                        parts.push(Part::Tag(s.strip_start(), s.strip_end()));
                    }
                },
            }
        }
        Some(())
    }
    let mut lits = Vec::new();
    let mut parts = Vec::new();
    walk(h.template.iter(), file, &mut lits, &mut parts)?;
    // `~`: the adjacent piece only.
    for i in 0..parts.len() {
        let (before, after) = match parts.get(i) {
            Some(Part::Tag(b, a)) => (*b, *a),
            _ => continue,
        };
        if before && let Some(Part::Piece(_, t)) = i.checked_sub(1).and_then(|p| parts.get_mut(p)) {
            *t = t.trim_end().to_string();
        }
        if after && let Some(Part::Piece(_, t)) = parts.get_mut(i + 1) {
            *t = t.trim_start().to_string();
        }
    }
    // `<<-`: the least indentation of the lines, removed from each.
    let flush = whole
        .span()
        .and_then(|s| file.text.get(s))
        .is_some_and(|t| t.starts_with("<<-"));
    if flush {
        let mut min = usize::MAX;
        let mut adjust = Vec::new();
        let mut newline = true;
        for (i, p) in parts.iter().enumerate() {
            if newline {
                newline = false;
                match p {
                    Part::Piece(_, t) => {
                        let trimmed = t.trim_start();
                        if !(trimmed.is_empty() && t.ends_with('\n')) {
                            min = min.min(t.chars().count() - trimmed.chars().count());
                            adjust.push(i);
                        }
                    }
                    Part::Tag(..) => min = 0,
                }
            }
            if let Part::Piece(_, t) = p
                && t.ends_with('\n')
            {
                newline = true;
            }
        }
        if min != usize::MAX && min > 0 {
            for i in adjust {
                if let Some(Part::Piece(_, t)) = parts.get_mut(i) {
                    *t = t.chars().skip(min).collect();
                }
            }
        }
    }
    let mut out: HashMap<*const String, String> = HashMap::new();
    for p in parts {
        if let Part::Piece(i, t) = p
            && let Some(key) = lits.get(i)
        {
            out.entry(*key).or_default().push_str(&t);
        }
    }
    for key in lits {
        out.entry(key).or_default();
    }
    Some(out)
}

fn index(v: Value, key: &Value) -> Eval {
    match (v, key) {
        (_, u @ Value::Unknown(_)) => Ok(u.clone()),
        (Value::List(items), Value::Num(n)) => items
            .into_iter()
            .nth(*n as usize)
            .ok_or_else(|| EvalError::fails(format!("index {n} out of range"))),
        (Value::Map(mut m), k) => {
            let k = funcs::to_string(k)?;
            m.remove(&k)
                .ok_or_else(|| EvalError::fails(format!("no key `{k}`")))
        }
        (other, _) => Err(EvalError::fails(format!(
            "cannot index a {}",
            other.type_name()
        ))),
    }
}

fn as_num(v: &Value) -> Result<f64, EvalError> {
    match v {
        Value::Num(n) => Ok(*n),
        Value::Str(s) => s
            .parse()
            .map_err(|_| EvalError::fails(format!("`{s}` is not a number"))),
        other => Err(EvalError::fails(format!(
            "expected a number, got {}",
            other.type_name()
        ))),
    }
}
