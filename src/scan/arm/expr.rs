//! ARM template expressions: `"[concat(parameters('prefix'), '-app')]"`.
//!
//! A JSON string that starts with `[` and ends with `]` is an expression
//! (one that starts with `[[` is a literal string starting with `[`). An
//! expression is a function call, a string in single quotes (`''` escapes
//! one), a number, `true`/`false`/`null`, followed by any number of
//! `.property` and `[index]` accesses. Parsing is bounded by [`MAX_DEPTH`];
//! functions are [`super::funcs`]; the template's own (`parameters`,
//! `variables`, `copyIndex`) are answered by a [`Scope`].

use super::funcs::{self, Deployment};
use crate::source::Origin;
use crate::value::Value;

/// Deepest nesting of calls and accesses in one expression.
pub const MAX_DEPTH: usize = 64;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Call(String, Vec<Expr>),
    /// `x.name`
    Prop(Box<Expr>, String),
    /// `x[i]`
    Index(Box<Expr>, Box<Expr>),
}

/// What a JSON string is: a literal, or an expression to evaluate.
pub enum Template<'s> {
    Literal(std::borrow::Cow<'s, str>),
    Expr(&'s str),
}

/// Tells a JSON string's kind (`[[x]` is the literal `[x]`). A string is
/// an expression only when its very first character is `[` and its last
/// `]`, as Resource Manager reads it: `"  [not an expression]  "` is text.
pub fn classify(s: &str) -> Template<'_> {
    if s.starts_with("[[") {
        return Template::Literal(std::borrow::Cow::Owned(s.replacen("[[", "[", 1)));
    }
    if s.len() >= 2 && s.starts_with('[') && s.ends_with(']') {
        return Template::Expr(s.get(1..s.len() - 1).unwrap_or_default());
    }
    Template::Literal(std::borrow::Cow::Borrowed(s))
}

/// Parses an expression (without its brackets).
pub fn parse(text: &str) -> Result<Expr, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    let e = p.expr(0)?;
    p.ws();
    if p.pos < p.s.len() {
        return Err(format!(
            "unexpected `{}` at column {}",
            text.get(p.pos..)
                .unwrap_or("")
                .chars()
                .next()
                .unwrap_or(' '),
            p.pos + 1
        ));
    }
    Ok(e)
}

struct Parser<'t> {
    s: &'t [u8],
    text: &'t str,
    pos: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Option<String> {
        self.ws();
        let start = self.pos;
        while matches!(self.s.get(self.pos), Some(c) if c.is_ascii_alphanumeric() || *c == b'_') {
            self.pos += 1;
        }
        (self.pos > start).then(|| self.text.get(start..self.pos).unwrap_or("").to_string())
    }

    fn expr(&mut self, depth: usize) -> Result<Expr, String> {
        if depth > MAX_DEPTH {
            return Err(format!("the expression nests deeper than {MAX_DEPTH}"));
        }
        self.ws();
        let mut e = match self.s.get(self.pos) {
            Some(b'\'') => {
                self.pos += 1;
                let mut out = String::new();
                loop {
                    let start = self.pos;
                    while matches!(self.s.get(self.pos), Some(c) if *c != b'\'') {
                        self.pos += 1;
                    }
                    out.push_str(self.text.get(start..self.pos).unwrap_or(""));
                    if self.s.get(self.pos).is_none() {
                        return Err("a string in quotes is never closed".into());
                    }
                    self.pos += 1;
                    if self.s.get(self.pos) == Some(&b'\'') {
                        out.push('\'');
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                Expr::Str(out)
            }
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                let start = self.pos;
                self.pos += 1;
                while matches!(self.s.get(self.pos), Some(c) if c.is_ascii_digit() || *c == b'.') {
                    self.pos += 1;
                }
                let t = self.text.get(start..self.pos).unwrap_or("");
                Expr::Num(t.parse().map_err(|_| format!("`{t}` is not a number"))?)
            }
            _ => {
                let Some(name) = self.ident() else {
                    return Err(format!(
                        "expected a function call, a string or a number at column {}",
                        self.pos + 1
                    ));
                };
                // A user-defined function: `namespace.member(…)`.
                let mut name = name;
                if self.s.get(self.pos) == Some(&b'.') {
                    let save = self.pos;
                    self.pos += 1;
                    match self.ident() {
                        Some(member) if self.s.get(self.pos) == Some(&b'(') => {
                            name = format!("{name}.{member}");
                        }
                        _ => self.pos = save,
                    }
                }
                if self.eat(b'(') {
                    let mut args = Vec::new();
                    if !self.eat(b')') {
                        loop {
                            args.push(self.expr(depth + 1)?);
                            if self.eat(b')') {
                                break;
                            }
                            if !self.eat(b',') {
                                return Err(format!(
                                    "expected `,` or `)` at column {}",
                                    self.pos + 1
                                ));
                            }
                        }
                    }
                    Expr::Call(name, args)
                } else {
                    match name.to_ascii_lowercase().as_str() {
                        "true" => Expr::Bool(true),
                        "false" => Expr::Bool(false),
                        "null" => Expr::Null,
                        _ => {
                            return Err(format!("`{name}` is not a function call (missing `(…)`)"));
                        }
                    }
                }
            }
        };
        let mut accesses = 0usize;
        loop {
            self.ws();
            match self.s.get(self.pos) {
                Some(b'.') => {
                    self.pos += 1;
                    let Some(p) = self.ident() else {
                        return Err(format!(
                            "expected a property name at column {}",
                            self.pos + 1
                        ));
                    };
                    e = Expr::Prop(Box::new(e), p);
                }
                Some(b'[') => {
                    self.pos += 1;
                    let i = self.expr(depth + 1)?;
                    if !self.eat(b']') {
                        return Err(format!("expected `]` at column {}", self.pos + 1));
                    }
                    e = Expr::Index(Box::new(e), Box::new(i));
                }
                _ => break,
            }
            accesses += 1;
            if accesses > MAX_DEPTH {
                return Err("too many property accesses".into());
            }
        }
        Ok(e)
    }
}

/// The template's own functions, answered by the scanner.
pub trait Scope {
    fn parameter(&self, name: &str, at: &Option<Origin>) -> Value;
    fn variable(&self, name: &str, at: &Option<Origin>) -> Value;
    /// `copyIndex(loop?)` without the offset.
    fn copy_index(&self, loop_name: Option<&str>, at: &Option<Origin>) -> Value;
    fn region(&self) -> Option<&str>;
    /// `f` applied to the value of `parameters(name)` (or
    /// `variables(name)`) without copying it: a loop that reads one item of
    /// a large variable 800 times must not copy the variable 800 times.
    /// By default the value is evaluated (a copy) and lent to `f`.
    fn with_named(
        &self,
        parameter: bool,
        name: &str,
        at: &Option<Origin>,
        f: &mut dyn FnMut(&Value) -> Value,
    ) -> Value {
        let v = if parameter {
            self.parameter(name, at)
        } else {
            self.variable(name, at)
        };
        f(&v)
    }
    /// `lambdaVariables(name)`: a lambda's parameter, where one is bound.
    fn lambda_variable(&self, name: &str, at: &Option<Origin>) -> Value {
        fails(
            &format!("`lambdaVariables('{name}')` outside a lambda that declares it"),
            at,
        )
    }
}

/// A scope with a lambda's parameters bound over its parent's.
struct Bound<'p> {
    parent: &'p dyn Scope,
    names: &'p [String],
    values: Vec<Value>,
}

impl Scope for Bound<'_> {
    fn parameter(&self, name: &str, at: &Option<Origin>) -> Value {
        self.parent.parameter(name, at)
    }
    fn variable(&self, name: &str, at: &Option<Origin>) -> Value {
        self.parent.variable(name, at)
    }
    fn copy_index(&self, loop_name: Option<&str>, at: &Option<Origin>) -> Value {
        self.parent.copy_index(loop_name, at)
    }
    fn region(&self) -> Option<&str> {
        self.parent.region()
    }
    fn with_named(
        &self,
        parameter: bool,
        name: &str,
        at: &Option<Origin>,
        f: &mut dyn FnMut(&Value) -> Value,
    ) -> Value {
        self.parent.with_named(parameter, name, at, f)
    }
    fn lambda_variable(&self, name: &str, at: &Option<Origin>) -> Value {
        match self.names.iter().position(|n| n.eq_ignore_ascii_case(name)) {
            Some(i) => self.values.get(i).cloned().unwrap_or(Value::Null),
            None => self.parent.lambda_variable(name, at),
        }
    }
}

/// A `lambda('a', 'b', body)` argument: its parameter names and body.
fn lambda_of(e: &Expr) -> Option<(Vec<String>, &Expr)> {
    let Expr::Call(name, args) = e else {
        return None;
    };
    if !name.eq_ignore_ascii_case("lambda") {
        return None;
    }
    let (body, params) = args.split_last()?;
    let names = params
        .iter()
        .map(|p| match p {
            Expr::Str(s) => Some(s.clone()),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((names, body))
}

/// The lambda functions (`filter`, `map`, `reduce`, `sort`, `toObject`,
/// `mapValues`, `groupBy`), when their lambda is written in place. `None`:
/// not one of them, or no lambda (the ordinary functions answer).
fn lambda_call(
    lower: &str,
    args: &[Expr],
    scope: &dyn Scope,
    at: &Option<Origin>,
) -> Option<Value> {
    if !funcs::is_lambda_function(lower) {
        return None;
    }
    let lambdas: Vec<(Vec<String>, &Expr)> = args.iter().filter_map(lambda_of).collect();
    if lambdas.is_empty() {
        return None;
    }
    let first = eval(args.first()?, scope, at);
    let initial = (lower == "reduce").then(|| args.get(1).map(|a| eval(a, scope, at)));
    let appliers: Vec<Box<dyn Fn(Vec<Value>) -> Value + '_>> = lambdas
        .iter()
        .map(|(names, body)| {
            Box::new(move |values: Vec<Value>| {
                let b = Bound {
                    parent: scope,
                    names,
                    values,
                };
                eval(body, &b, at)
            }) as Box<dyn Fn(Vec<Value>) -> Value + '_>
        })
        .collect();
    let d = Deployment {
        region: scope.region(),
        at: at.clone(),
    };
    Some(funcs::lambda_function(
        lower,
        first,
        initial.flatten(),
        &appliers,
        &d,
    ))
}

/// One step of an access chain: `.name` or `[key]` (the key evaluated).
enum Step<'e> {
    Prop(&'e str),
    Key(Value),
}

/// `variables('x').a[0].b` as its root (`parameters`?, the name) and its
/// steps, when the expression is such a chain on a literal name.
fn access_chain<'e>(e: &'e Expr, steps: &mut Vec<&'e Expr>) -> Option<(bool, &'e str)> {
    match e {
        Expr::Prop(x, _) | Expr::Index(x, _) => {
            steps.push(e);
            access_chain(x, steps)
        }
        Expr::Call(name, args) => {
            let parameter = name.eq_ignore_ascii_case("parameters");
            if !parameter && !name.eq_ignore_ascii_case("variables") {
                return None;
            }
            match args.as_slice() {
                [Expr::Str(n)] => Some((parameter, n)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Follows `steps` from `root` by reference and copies only what they
/// reach; errors as [`property`] and [`index`] give them.
fn follow(root: &Value, steps: &[Step<'_>], at: &Option<Origin>) -> Value {
    let mut v = root;
    for step in steps {
        let next = match (v, step) {
            (Value::Unknown(_), _) => return v.clone(),
            (_, Step::Key(k @ Value::Unknown(_))) => return k.clone(),
            (Value::Map(m), Step::Prop(_) | Step::Key(Value::Str(_))) => {
                let p: &str = match step {
                    Step::Prop(p) => p,
                    Step::Key(Value::Str(p)) => p,
                    Step::Key(_) => "",
                };
                m.get(p).or_else(|| {
                    m.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(p))
                        .map(|(_, v)| v)
                })
            }
            (Value::List(l), Step::Key(Value::Num(n))) => {
                usize::try_from(*n as i64).ok().and_then(|i| l.get(i))
            }
            _ => None,
        };
        match next {
            Some(n) => v = n,
            // Not there: the owned path says why, with its own message.
            None => {
                return match step {
                    Step::Prop(p) => property(v.clone(), p, at),
                    Step::Key(k) => index(v.clone(), k, at),
                };
            }
        }
    }
    v.clone()
}

/// Evaluates an expression; unknowns point at `at` (the JSON string).
pub fn eval(e: &Expr, scope: &dyn Scope, at: &Option<Origin>) -> Value {
    match e {
        Expr::Str(s) => Value::str(s),
        Expr::Num(n) => Value::Num(*n),
        Expr::Bool(b) => Value::Bool(*b),
        Expr::Null => Value::Null,
        Expr::Prop(..) | Expr::Index(..)
            if {
                let mut steps = Vec::new();
                access_chain(e, &mut steps).is_some()
            } =>
        {
            let mut chain = Vec::new();
            let Some((parameter, name)) = access_chain(e, &mut chain) else {
                return Value::Null;
            };
            // Keys first (they may read other variables), outermost last.
            let steps: Vec<Step<'_>> = chain
                .iter()
                .rev()
                .map(|s| match s {
                    Expr::Prop(_, p) => Step::Prop(p),
                    Expr::Index(_, i) => Step::Key(eval(i, scope, at)),
                    _ => Step::Key(Value::Null),
                })
                .collect();
            scope.with_named(parameter, name, at, &mut |root| follow(root, &steps, at))
        }
        Expr::Prop(x, p) => property(eval(x, scope, at), p, at),
        Expr::Index(x, i) => {
            let base = eval(x, scope, at);
            let key = eval(i, scope, at);
            index(base, &key, at)
        }
        Expr::Call(name, args) => {
            let lower = name.to_ascii_lowercase();
            let arg = |i: usize| args.get(i).map(|a| eval(a, scope, at));
            if let Some(v) = lambda_call(&lower, args, scope, at) {
                return v;
            }
            match lower.as_str() {
                "lambdavariables" => match arg(0) {
                    Some(Value::Str(n)) => scope.lambda_variable(&n, at),
                    Some(u @ Value::Unknown(_)) => u,
                    _ => fails("`lambdaVariables` takes a name in quotes", at),
                },
                "parameters" | "variables" => match arg(0) {
                    Some(Value::Str(n)) => {
                        if lower == "parameters" {
                            scope.parameter(&n, at)
                        } else {
                            scope.variable(&n, at)
                        }
                    }
                    Some(u @ Value::Unknown(_)) => u,
                    _ => fails(&format!("`{name}` takes a name in quotes"), at),
                },
                "copyindex" => {
                    let (loop_name, offset) = match (arg(0), arg(1)) {
                        (Some(Value::Str(l)), o) => (Some(l), o),
                        (o, _) => (None, o),
                    };
                    let i = scope.copy_index(loop_name.as_deref(), at);
                    match (i, offset) {
                        (Value::Num(i), Some(Value::Num(o))) => Value::Num(i + o),
                        (i, None) => i,
                        (u @ Value::Unknown(_), _) => u,
                        (_, Some(u @ Value::Unknown(_))) => u,
                        _ => fails("`copyIndex` takes a loop name and an offset", at),
                    }
                }
                _ => {
                    let values: Vec<Value> = args.iter().map(|a| eval(a, scope, at)).collect();
                    let d = Deployment {
                        region: scope.region(),
                        at: at.clone(),
                    };
                    funcs::call(name, &values, &d).unwrap_or_else(|| {
                        Value::unknown(
                            format!("function `{name}` is not evaluated statically by proviso"),
                            at.clone(),
                        )
                    })
                }
            }
        }
    }
}

fn fails(reason: &str, at: &Option<Origin>) -> Value {
    crate::scan::terraform::error::deployment_failure(reason, at.clone())
}

/// `x.p`: an object's property (names without case, as ARM reads them).
pub fn property(base: Value, p: &str, at: &Option<Origin>) -> Value {
    match base {
        Value::Map(m) => match m.get(p) {
            Some(v) => v.clone(),
            None => match m.iter().find(|(k, _)| k.eq_ignore_ascii_case(p)) {
                Some((_, v)) => v.clone(),
                None => fails(&format!("the object has no property `{p}`"), at),
            },
        },
        u @ Value::Unknown(_) => u,
        other => fails(&format!("`.{p}` of a {}", other.type_name()), at),
    }
}

/// `x[i]`: an array's element or an object's property.
pub fn index(base: Value, key: &Value, at: &Option<Origin>) -> Value {
    match (base, key) {
        (u @ Value::Unknown(_), _) => u,
        (_, u @ Value::Unknown(_)) => u.clone(),
        (Value::List(l), Value::Num(n)) => {
            let i = *n as i64;
            match usize::try_from(i).ok().and_then(|i| l.get(i)) {
                Some(v) => v.clone(),
                None => fails(&format!("index {i} is outside the array"), at),
            }
        }
        (m @ Value::Map(_), Value::Str(k)) => property(m, k, at),
        (b, k) => fails(
            &format!("a {} indexed by a {}", b.type_name(), k.type_name()),
            at,
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "test code")]
    use super::*;

    #[test]
    fn parses_what_templates_write() {
        let e = parse("concat(parameters('a'), '-', resourceGroup().location)").unwrap();
        let Expr::Call(n, args) = e else { panic!() };
        assert_eq!(n, "concat");
        assert_eq!(
            args[2],
            Expr::Prop(
                Box::new(Expr::Call("resourceGroup".into(), vec![])),
                "location".into()
            )
        );
        assert_eq!(parse("'it''s'").unwrap(), Expr::Str("it's".into()));
        assert_eq!(
            parse("variables('m')['k'][0]").unwrap(),
            Expr::Index(
                Box::new(Expr::Index(
                    Box::new(Expr::Call("variables".into(), vec![Expr::Str("m".into())])),
                    Box::new(Expr::Str("k".into()))
                )),
                Box::new(Expr::Num(0.0))
            )
        );
        assert_eq!(
            parse("contoso.uniqueName(parameters('p'))").unwrap(),
            Expr::Call(
                "contoso.uniqueName".into(),
                vec![Expr::Call("parameters".into(), vec![Expr::Str("p".into())])]
            )
        );
        assert!(parse("concat('a'").is_err());
        assert!(parse(&"f(".repeat(500)).is_err());
    }

    /// A scope with one variable, counting how often it is copied whole.
    struct Counting {
        var: Value,
        copies: std::cell::Cell<usize>,
    }

    impl Scope for Counting {
        fn parameter(&self, name: &str, at: &Option<Origin>) -> Value {
            fails(&format!("the template has no parameter `{name}`"), at)
        }
        fn variable(&self, _: &str, _: &Option<Origin>) -> Value {
            self.copies.set(self.copies.get() + 1);
            self.var.clone()
        }
        fn copy_index(&self, _: Option<&str>, _: &Option<Origin>) -> Value {
            Value::Num(1.0)
        }
        fn region(&self) -> Option<&str> {
            None
        }
        fn with_named(
            &self,
            _: bool,
            _: &str,
            _: &Option<Origin>,
            f: &mut dyn FnMut(&Value) -> Value,
        ) -> Value {
            f(&self.var)
        }
    }

    /// `variables('v').items[copyIndex()].Name` reads through the variable
    /// without copying it, with ARM's case-insensitive names, and says why
    /// when a step is missing, as the copying path does.
    #[test]
    fn access_chains_read_without_copying() {
        let item = |n: &str| {
            Value::Map(std::collections::BTreeMap::from([(
                "name".to_string(),
                Value::str(n),
            )]))
        };
        let scope = Counting {
            var: Value::Map(std::collections::BTreeMap::from([(
                "items".to_string(),
                Value::List(vec![item("a"), item("b")]),
            )])),
            copies: std::cell::Cell::new(0),
        };
        let run = |text: &str| eval(&parse(text).unwrap(), &scope, &None);
        assert_eq!(
            run("variables('v').items[copyIndex()].Name"),
            Value::str("b")
        );
        assert_eq!(run("variables('v')['ITEMS'][0]['name']"), Value::str("a"));
        assert_eq!(scope.copies.get(), 0);
        let Value::Unknown(u) = run("variables('v').items[5]") else {
            panic!()
        };
        assert!(
            u.reason.ends_with("index 5 is outside the array"),
            "{}",
            u.reason
        );
        let Value::Unknown(u) = run("variables('v').missing") else {
            panic!()
        };
        assert!(
            u.reason.ends_with("the object has no property `missing`"),
            "{}",
            u.reason
        );
    }

    /// Microsoft's examples of the lambda functions ("Lambda functions for
    /// ARM templates"), on their `dogs` variable.
    #[test]
    fn lambda_functions_give_the_documented_outputs() {
        let dogs = r#"[
            {"name": "Evie", "age": 5, "interests": ["Ball", "Frisbee"]},
            {"name": "Casper", "age": 3, "interests": ["Other dogs"]},
            {"name": "Indy", "age": 2, "interests": ["Butter"]},
            {"name": "Kira", "age": 8, "interests": ["Rubs"]}
        ]"#;
        let scope = Counting {
            var: crate::value::from_json(&serde_json::from_str(dogs).unwrap()),
            copies: std::cell::Cell::new(0),
        };
        let run = |text: &str| {
            eval(&parse(text).unwrap(), &scope, &None)
                .to_json()
                .to_string()
        };
        assert_eq!(
            run(
                "map(filter(variables('dogs'), lambda('dog', greaterOrEquals(lambdaVariables('dog').age, 5))), lambda('d', lambdaVariables('d').name))"
            ),
            r#"["Evie","Kira"]"#
        );
        assert_eq!(
            run("filter(range(0, 10), lambda('i', equals(0, mod(lambdaVariables('i'), 2))))"),
            "[0.0,2.0,4.0,6.0,8.0]"
        );
        assert_eq!(
            run(
                "map(variables('dogs'), lambda('dog', format('Hello {0}!', lambdaVariables('dog').name)))"
            ),
            r#"["Hello Evie!","Hello Casper!","Hello Indy!","Hello Kira!"]"#
        );
        assert_eq!(
            run(
                "reduce(map(variables('dogs'), lambda('dog', lambdaVariables('dog').age)), 1, lambda('cur', 'next', add(lambdaVariables('cur'), lambdaVariables('next'))))"
            ),
            "19.0"
        );
        assert_eq!(
            run(
                "reduce(createArray(createObject('foo', 123), createObject('bar', 456)), createObject(), lambda('cur', 'next', union(lambdaVariables('cur'), lambdaVariables('next'))))"
            ),
            r#"{"bar":456.0,"foo":123.0}"#
        );
        assert_eq!(
            run(
                "map(sort(variables('dogs'), lambda('a', 'b', less(lambdaVariables('a').age, lambdaVariables('b').age))), lambda('d', lambdaVariables('d').name))"
            ),
            r#"["Indy","Casper","Evie","Kira"]"#
        );
        assert_eq!(
            run(
                "toObject(variables('dogs'), lambda('entry', lambdaVariables('entry').name), lambda('entry', lambdaVariables('entry').age))"
            ),
            r#"{"Casper":3.0,"Evie":5.0,"Indy":2.0,"Kira":8.0}"#
        );
        // Outside a lambda, `lambdaVariables` is a failure, not a value.
        let Value::Unknown(u) = eval(&parse("lambdaVariables('x')").unwrap(), &scope, &None) else {
            panic!()
        };
        assert!(
            u.fails && u.reason.contains("outside a lambda"),
            "{}",
            u.reason
        );
    }

    #[test]
    fn escaped_brackets_are_literals() {
        assert!(
            matches!(classify("[[not an expression]"), Template::Literal(s) if s == "[not an expression]")
        );
        assert!(matches!(
            classify("[parameters('x')]"),
            Template::Expr("parameters('x')")
        ));
        assert!(matches!(classify("plain"), Template::Literal(_)));
        // Spaces around the brackets make it text (an AVM module's
        // description reads "  [ … ]  ").
        assert!(matches!(
            classify(" [parameters('x')] "),
            Template::Literal(_)
        ));
    }
}
