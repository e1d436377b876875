//! Aggregate clauses in plain English, and the inputs that can show them.
//!
//! A figure is rendered by its definition, not its name: `paid >= due`
//! where `paid = sum of amount_usd where entry == "share_to_microsoft"`
//! reads "the sum of the amount usd of the records of that month where the
//! entry is "share_to_microsoft" must be at least 20% of …", which is what
//! a lawyer compares with the contract; the names are the author's and
//! appear in findings. A `require A or B` is said as "A must hold, unless
//! B", the shape contracts use for a cap or an excuse. Expanding figures
//! is recursion the rule file chooses (a figure reads earlier figures), so
//! it stops at [`MAX_DEPTH`] levels and names the figure instead.

use super::english::{self, Markup};
use crate::date::Interval;
use crate::rules::RuleSet;
use crate::rules::ast::{
    AggOp, AggSpec, Aggregate, Arith, ArithKind, Clause, CmpOp, GExpr, GKind, GroupKey, Lit,
    ParamType, Period, Terms,
};
use std::cell::RefCell;
use std::collections::HashSet;

/// How deep figures and arithmetic are expanded before a figure is named
/// instead (and an operand shown as written).
pub const MAX_DEPTH: usize = 12;

struct Ctx<'a> {
    rules: &'a RuleSet,
    agg: &'a Aggregate,
    src: &'a str,
    m: Markup,
    /// Parameters already introduced (their `about` is said once).
    said: RefCell<HashSet<String>>,
}

fn code(text: &str, m: Markup) -> String {
    match m {
        Markup::Plain => text.to_string(),
        Markup::Markdown => format!("`{text}`"),
    }
}

fn period_noun(p: Period) -> &'static str {
    match p {
        Period::Day => "UTC day",
        Period::Month => "calendar month",
        Period::Quarter => "calendar quarter",
        Period::Year => "calendar year",
    }
}

/// `from 27 April 2026 until the end of 2030`: an interval that ends on
/// 1 January ends with the year before it.
pub(crate) fn dates(iv: &Interval) -> String {
    let until = match iv.until {
        Some(u) => match u.ymd() {
            (y, 1, 1) => format!(" until the end of {}", y - 1),
            _ => format!(" until {}", u.long()),
        },
        None => String::new(),
    };
    format!("from {}{until}", iv.from.long())
}

impl Ctx<'_> {
    /// "each calendar month", "each model and calendar quarter".
    fn each(&self) -> String {
        let parts: Vec<String> = self
            .agg
            .per
            .iter()
            .map(|k| match k {
                GroupKey::Field(p, _) => code(&english::humanize(&p.to_string()), self.m),
                GroupKey::Period(p, _) => period_noun(*p).to_string(),
            })
            .collect();
        if parts.is_empty() {
            "all records together".to_string()
        } else {
            format!("each {}", parts.join(" and "))
        }
    }

    /// "that month", "that buyer and quarter"; `None` without `per`.
    fn that(&self) -> Option<String> {
        let parts: Vec<String> = self
            .agg
            .per
            .iter()
            .map(|k| match k {
                GroupKey::Field(p, _) => code(&english::humanize(&p.to_string()), self.m),
                GroupKey::Period(p, _) => p.as_str().to_string(),
            })
            .collect();
        (!parts.is_empty()).then(|| format!("that {}", parts.join(" and ")))
    }

    fn period(&self) -> Option<Period> {
        self.agg.per.iter().find_map(|k| match k {
            GroupKey::Period(p, _) => Some(*p),
            GroupKey::Field(..) => None,
        })
    }

    /// The records an aggregation reads: "the records of that month where
    /// the entry is "fee"", for a running total "… under these terms
    /// through that month".
    fn records(&self, spec: &AggSpec, running: bool) -> String {
        let mut out = if spec.all_records {
            "all records".to_string()
        } else {
            "the records".to_string()
        };
        let fields: Vec<String> = self
            .agg
            .per
            .iter()
            .filter_map(|k| match k {
                GroupKey::Field(p, _) => Some(code(&english::humanize(&p.to_string()), self.m)),
                GroupKey::Period(..) => None,
            })
            .collect();
        if running {
            if !fields.is_empty() {
                out.push_str(&format!(" of that {}", fields.join(" and ")));
            }
            out.push_str(" under these terms");
            if let Some(p) = self.period() {
                out.push_str(&format!(" through that {}", p.as_str()));
            }
        } else if let Some(that) = self.that() {
            out.push_str(&format!(" of {that}"));
        }
        if let Some(f) = &spec.filter {
            out.push_str(&format!(
                " where {}",
                english::phrase(f, self.rules, self.m)
            ));
        }
        if spec.all_records {
            out.push_str(" (also those dated outside these terms)");
        }
        out
    }

    fn aggregation(&self, spec: &AggSpec, running: bool) -> String {
        let records = self.records(spec, running);
        let field = spec
            .field
            .as_ref()
            .map(|p| english::field(p, self.m))
            .unwrap_or_default();
        match spec.op {
            AggOp::Sum => format!("the sum of {field} of {records}"),
            AggOp::Count => format!("the number of {records}"),
            AggOp::CountDistinct => {
                format!("the number of distinct values of {field} among {records}")
            }
            AggOp::Min => format!("the smallest {field} among {records}"),
            AggOp::Max => format!("the largest {field} among {records}"),
            AggOp::First => format!("{field} of the earliest of {records}"),
            AggOp::FirstDay => format!("the first day (UTC) of {records}"),
        }
    }

    /// The text an operand was written as.
    fn written(&self, a: &Arith) -> String {
        code(self.src.get(a.span.clone()).unwrap_or("?").trim(), self.m)
    }

    fn param(&self, name: &str) -> String {
        let named = format!("the {}", english::humanize(name));
        if !self.said.borrow_mut().insert(name.to_string()) {
            return named;
        }
        let about = self
            .rules
            .params
            .iter()
            .find(|p| p.id.name == name)
            .and_then(|p| p.about.clone());
        match about {
            Some(about) => format!("{named} (a parameter supplied at run time: {about})"),
            None => format!("{named} (a parameter supplied at run time)"),
        }
    }

    /// A figure, group key, parameter or literal in words.
    fn arith(&self, a: &Arith, depth: usize) -> String {
        if depth > MAX_DEPTH {
            return self.written(a);
        }
        let sub = |x: &Arith| match x.kind {
            ArithKind::Add(..) | ArithKind::Sub(..) => format!("({})", self.arith(x, depth + 1)),
            _ => self.arith(x, depth + 1),
        };
        match &a.kind {
            ArithKind::Lit(Lit::Num(n)) => n.to_string(),
            ArithKind::Lit(Lit::Str(s)) => format!("\"{s}\""),
            ArithKind::Lit(Lit::Date(d)) => d.long(),
            ArithKind::Lit(Lit::Bool(b)) => b.to_string(),
            ArithKind::Name(n) => english::humanize(n),
            ArithKind::Figure(i) => match self.agg.figures.get(*i) {
                Some(f) if depth < MAX_DEPTH => self.arith(&f.value, depth + 1),
                Some(f) => format!("the {}", english::humanize(&f.id.name)),
                None => self.written(a),
            },
            ArithKind::Key(i) => match self.agg.per.get(*i) {
                Some(GroupKey::Field(p, _)) => english::field(p, self.m),
                Some(GroupKey::Period(p, _)) => format!("the {}", p.as_str()),
                None => self.written(a),
            },
            ArithKind::Param(n) => self.param(n),
            ArithKind::Agg(i) => match self.agg.aggs.get(*i) {
                Some(spec) => self.aggregation(spec, false),
                None => self.written(a),
            },
            ArithKind::Running(i) => self.running(*i, depth),
            ArithKind::Add(x, y) => format!("{} plus {}", self.arith(x, depth + 1), sub(y)),
            ArithKind::Sub(x, y) => format!("{} minus {}", self.arith(x, depth + 1), sub(y)),
            ArithKind::Mul(x, y) => {
                let rate = self.src.get(x.span.clone()).unwrap_or("").trim();
                if matches!(x.kind, ArithKind::Lit(Lit::Num(_))) && rate.ends_with('%') {
                    format!("{rate} of {}", sub(y))
                } else {
                    format!("{} times {}", sub(x), sub(y))
                }
            }
            ArithKind::Set(items) => {
                // A set define keeps its name: "the declined products".
                let text = self.src.get(a.span.clone()).unwrap_or("").trim();
                if !text.starts_with('{') && !text.is_empty() {
                    return format!("the {}", english::humanize(text));
                }
                let parts: Vec<String> = items.iter().map(|i| self.arith(i, depth + 1)).collect();
                match parts.as_slice() {
                    [] => "an empty set".into(),
                    [one] => one.clone(),
                    [head @ .., last] => format!("{} or {last}", head.join(", ")),
                }
            }
        }
    }

    /// `running total of paid`: a sum's own records under these terms
    /// through the group's period; otherwise the total of the figure.
    fn running(&self, figure: usize, depth: usize) -> String {
        let Some(f) = self.agg.figures.get(figure) else {
            return "a running total".into();
        };
        if let ArithKind::Agg(i) = f.value.kind
            && let Some(spec) = self.agg.aggs.get(i)
            && spec.op == AggOp::Sum
        {
            return self.aggregation(spec, true);
        }
        let through = self
            .period()
            .map(|p| format!(" through that {}", p.as_str()))
            .unwrap_or_default();
        format!(
            "the total under these terms{through} of {}",
            self.arith(&f.value, depth + 1)
        )
    }

    /// Whether an operand is a date (dates compare as "on or after").
    fn is_date(&self, a: &Arith, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match &a.kind {
            ArithKind::Lit(Lit::Date(_)) => true,
            ArithKind::Agg(i) => self
                .agg
                .aggs
                .get(*i)
                .is_some_and(|s| s.op == AggOp::FirstDay),
            ArithKind::Figure(i) => self
                .agg
                .figures
                .get(*i)
                .is_some_and(|f| self.is_date(&f.value, depth + 1)),
            ArithKind::Param(n) => self
                .rules
                .params
                .iter()
                .any(|p| p.id.name == *n && p.ty == ParamType::Date),
            _ => false,
        }
    }

    /// "at least", "on or after", …; `None` for `==` and `!=`.
    fn relation(&self, a: &Arith, op: CmpOp, b: &Arith) -> Option<&'static str> {
        let date = self.is_date(a, 0) || self.is_date(b, 0);
        Some(match (op, date) {
            (CmpOp::Lt, false) => "less than",
            (CmpOp::Le, false) => "at most",
            (CmpOp::Gt, false) => "more than",
            (CmpOp::Ge, false) => "at least",
            (CmpOp::Lt, true) => "before",
            (CmpOp::Le, true) => "on or before",
            (CmpOp::Gt, true) => "after",
            (CmpOp::Ge, true) => "on or after",
            (CmpOp::Eq | CmpOp::Ne, _) => return None,
        })
    }

    fn one_of(&self, rhs: &Arith) -> String {
        match &rhs.kind {
            ArithKind::Set(items) if items.len() != 1 => format!("one of {}", self.arith(rhs, 1)),
            _ => self.arith(rhs, 1),
        }
    }

    /// A group condition as a phrase: "the cap is at least …".
    fn phrase(&self, g: &GExpr, depth: usize) -> String {
        if depth > MAX_DEPTH {
            return code(self.src.get(g.span.clone()).unwrap_or("?").trim(), self.m);
        }
        let join = |items: &[GExpr], word: &str| {
            items
                .iter()
                .map(|i| match i.kind {
                    GKind::Or(_) | GKind::And(_) => format!("({})", self.phrase(i, depth + 1)),
                    _ => self.phrase(i, depth + 1),
                })
                .collect::<Vec<_>>()
                .join(&format!(" {word} "))
        };
        match &g.kind {
            GKind::Or(items) => join(items, "or"),
            // `x exists and x <= y`: "x is present and on or before y",
            // instead of saying a long figure twice.
            GKind::And(items) => self
                .present_and(items, "is")
                .unwrap_or_else(|| join(items, "and")),
            GKind::Not(inner) => match &inner.kind {
                GKind::Exists(a) => format!("{} is absent", self.arith(a, 1)),
                GKind::Compare(a, CmpOp::Eq, b) => {
                    format!("{} is not {}", self.arith(a, 1), self.arith(b, 1))
                }
                _ => format!("it is not the case that {}", self.phrase(inner, depth + 1)),
            },
            GKind::Compare(a, op, b) => {
                let verb = match (op, self.relation(a, *op, b)) {
                    (_, Some(r)) => format!("is {r}"),
                    (CmpOp::Ne, None) => "is not".to_string(),
                    _ => "is".to_string(),
                };
                format!("{} {verb} {}", self.arith(a, 1), self.arith(b, 1))
            }
            GKind::In { negated, lhs, rhs } => {
                let not = if *negated { " not" } else { "" };
                format!("{} is{not} {}", self.arith(lhs, 1), self.one_of(rhs))
            }
            GKind::Exists(a) => format!("{} is present", self.arith(a, 1)),
            GKind::Truthy(a) => format!("{} holds", self.arith(a, 1)),
        }
    }

    /// `x exists and x <= y` as "x {verb} present and on or before y",
    /// instead of saying a long figure twice; `None` for other shapes.
    fn present_and(&self, items: &[GExpr], verb: &str) -> Option<String> {
        let [
            GExpr {
                kind: GKind::Exists(a),
                ..
            },
            GExpr {
                kind: GKind::Compare(b, op, c),
                ..
            },
        ] = items
        else {
            return None;
        };
        if !same_figure(a, b) {
            return None;
        }
        let relation = self.relation(b, *op, c)?;
        Some(format!(
            "{} {verb} present and {relation} {}",
            self.arith(a, 1),
            self.arith(c, 1)
        ))
    }

    /// What the check demands: "… must be at least …".
    fn must(&self, g: &GExpr, negate: bool, depth: usize) -> String {
        let be = |not: bool| {
            if not != negate {
                "must not be"
            } else {
                "must be"
            }
        };
        match &g.kind {
            GKind::Compare(a, op, b) => {
                let rel = match (op, self.relation(a, *op, b)) {
                    (_, Some(r)) => format!("{} {r}", be(false)),
                    (CmpOp::Ne, None) => be(true).to_string(),
                    _ => be(false).to_string(),
                };
                format!("{} {rel} {}", self.arith(a, 1), self.arith(b, 1))
            }
            GKind::In { negated, lhs, rhs } => {
                format!(
                    "{} {} {}",
                    self.arith(lhs, 1),
                    be(*negated),
                    self.one_of(rhs)
                )
            }
            GKind::Exists(a) => {
                let state = if negate { "absent" } else { "present" };
                format!("{} must be {state}", self.arith(a, 1))
            }
            GKind::Not(inner) if depth < MAX_DEPTH => self.must(inner, !negate, depth + 1),
            GKind::And(items) if !negate => self
                .present_and(items, "must be")
                .unwrap_or_else(|| format!("it must hold that {}", self.phrase(g, depth + 1))),
            _ if negate => format!("it must not be that {}", self.phrase(g, depth + 1)),
            _ => format!("it must hold that {}", self.phrase(g, depth + 1)),
        }
    }
}

/// Whether two operands name the same figure.
fn same_figure(a: &Arith, b: &Arith) -> bool {
    matches!((&a.kind, &b.kind), (ArithKind::Figure(x), ArithKind::Figure(y)) if x == y)
}

/// One figure of an aggregate clause by its definition, as [`sentence`]
/// says it ("the sum of the amount usd of the records of that month
/// where …"), and what a group is: "each calendar month".
pub fn figure(
    rules: &RuleSet,
    terms: &Terms,
    agg: &Aggregate,
    i: usize,
    m: Markup,
) -> Option<(String, String)> {
    let f = agg.figures.get(i)?;
    let cx = Ctx {
        rules,
        agg,
        src: &terms.file.text,
        m,
        said: RefCell::new(HashSet::new()),
    };
    Some((cx.arith(&f.value, 0), cx.each()))
}

/// One sentence for an aggregate clause: "For each calendar month from …,
/// among the records matching booking, the sum of … must be at least …,
/// unless …". Without `interval`, the same without dates (to tell a
/// changed clause from one carried over).
pub fn sentence(
    rules: &RuleSet,
    terms: &Terms,
    clause: &Clause,
    agg: &Aggregate,
    interval: Option<&Interval>,
    m: Markup,
) -> String {
    let cx = Ctx {
        rules,
        agg,
        src: &terms.file.text,
        m,
        said: RefCell::new(HashSet::new()),
    };
    let mut out = format!("For {}", cx.each());
    if let Some(iv) = interval {
        out.push(' ');
        out.push_str(&dates(iv));
    }
    if let Some(over) = &agg.over {
        out.push_str(&format!(
            ", among {}",
            english::records(Some(over), rules, m)
        ));
    }
    if let Some(applies) = &agg.applies {
        out.push_str(&format!(", if {}", cx.phrase(applies, 0)));
    }
    let mut excuses: Vec<String> = Vec::new();
    match &agg.check {
        // `require A or B`: A must hold, unless B. (The flag is `forbid`.)
        Some((g, false)) => match &g.kind {
            GKind::Or(items) if items.len() > 1 => {
                let mut it = items.iter();
                if let Some(first) = it.next() {
                    out.push_str(&format!(", {}", cx.must(first, false, 0)));
                }
                excuses.extend(it.map(|i| cx.phrase(i, 0)));
            }
            _ => out.push_str(&format!(", {}", cx.must(g, false, 0))),
        },
        Some((g, true)) => out.push_str(&format!(", {}", cx.must(g, true, 0))),
        None => out.push_str(", nothing is demanded"),
    }
    excuses.extend(agg.unless.iter().map(|u| cx.phrase(u, 0)));
    for x in &clause.excepts {
        excuses.push(format!(
            "the exception \"{}\" applies",
            english::humanize(&x.name)
        ));
    }
    if !excuses.is_empty() {
        out.push_str(&format!(", unless {}", excuses.join(", or ")));
    }
    out.push('.');
    out
}

/// The top-level fields an aggregate clause reads: group keys, `over`,
/// aggregated fields and their `where` (through defines), in order.
pub fn fields_read(rules: &RuleSet, agg: &Aggregate) -> Vec<String> {
    let eval = crate::eval::Evaluator::new(rules);
    let mut roots: Vec<String> = Vec::new();
    let mut push = |root: &str| {
        if !roots.iter().any(|r| r == root) {
            roots.push(root.to_string());
        }
    };
    for k in &agg.per {
        if let GroupKey::Field(p, _) = k {
            push(p.root());
        }
    }
    for e in agg.record_exprs() {
        for f in eval.fields_deep(e) {
            push(f.root());
        }
    }
    for a in &agg.aggs {
        if let Some(f) = &a.field {
            push(f.root());
        }
    }
    roots
}

/// Which inputs can show an aggregate clause: the log exports whose
/// records carry every field it reads, each said with its `field`
/// declaration's words. Never Terraform: a plan has no records over time.
pub fn inputs(rules: &RuleSet, agg: &Aggregate) -> String {
    let described: Vec<String> = fields_read(rules, agg)
        .iter()
        .map(|r| {
            let declared = rules
                .fields
                .iter()
                .find(|f| f.path.root() == r)
                .and_then(|f| f.about.clone());
            match (declared, crate::rules::validate::known_field(r)) {
                (Some(about), _) => format!("`{r}` ({about})"),
                (None, Some(k)) if k.logs && !k.terraform => format!("`{r}` (every traffic log)"),
                _ => format!("`{r}`"),
            }
        })
        .collect();
    let fields = match described.as_slice() {
        [] => "any fields".to_string(),
        [one] => one.clone(),
        [head @ .., last] => format!("{} and {last}", head.join(", ")),
    };
    format!(
        "shown by the log exports (JSON lines, CSV) whose records carry {fields}; not by Terraform, which has no records over time"
    )
}
