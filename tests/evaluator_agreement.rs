//! The two evaluators agree: the tree evaluator ([`proviso::eval`], which
//! `check` and `test` use) and the compiled rules
//! ([`proviso::eval::compiled`], which `audit` runs on every log line)
//! give every clause the same outcome on every record.
//!
//! Two tests. The first judges the bundled contract on records made of the
//! values its clauses are about (hosts, paths, clouds, regions, tags), each
//! field possibly absent. The second runs every rule set the repository
//! has (`rules/` and each `fixtures/rules/valid/*.proviso`, numbers, CIDRs,
//! regexes, `unless`, `or` and all) on random records of every type a log
//! record holds: strings, numbers, booleans, `null`, lists and objects,
//! nested. Their values are the rules' own literals and example values and
//! variations of them (a number written as a string, a string padded or
//! with a prefix, a glob's pattern filled in, an address inside and one
//! outside each CIDR), picked by a small deterministic PRNG so that a
//! failure repeats. A disagreement names the rule file, the clause (its
//! text and the defines it uses), the record and both outcomes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

mod common;

use proviso::eval::compiled::{CClause, Compiled, LineOutcome};
use proviso::eval::{Evaluator, Outcome};
use proviso::rules::RuleSet;
use proviso::rules::ast::{Check, Clause, Expr, ExprKind, Terms};
use proviso::scan::logs::{FieldVal, Slot};
use proviso::source::SourceFile;
use proviso::value::{FieldPath, Lookup, MapRecord, Value, lookup_in};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

/// Every value a random record may take (absent included).
const HOSTS: &[&str] = &[
    "api.openai.com",
    "eastus2.openai.azure.com",
    "fed.openai.azure.us",
    "example.com",
];
const PATHS: &[&str] = &[
    "/v1/chat/completions",
    "/v1/images/x",
    "/v1/threads/t",
    "/v1/assistants",
    "/health",
];
const CLOUDS: &[&str] = &["aws", "azure", "gcp"];
const REGIONS: &[&str] = &["us-east-1", "eastus2", "westeurope", "eu-west-1"];
/// Tags (a resource's, or a gateway's that logs them), each with a value
/// that makes some clause apply and one that does not.
const TAGS: &[(&str, &[&str])] = &[
    ("model-vendor", &["openai", "other"]),
    ("api-mode", &["stateless", "stateful"]),
    ("workload", &["training", "serving"]),
    ("product", &["frontier", "chat"]),
    ("channel", &["third-party", "first-party"]),
    ("segment", &["federal", "commercial"]),
];

const ENTRIES: &[&str] = &["product_revenue", "share_to_microsoft", "share_to_openai"];
const AMOUNTS: &[&str] = &["120.00", "0.01"];

/// The compiled rules judge every record as the tree evaluator does, on
/// random records in which each field (tags included) may be absent: so
/// the shortcut of skipping a clause whose `applies to` needs a field the
/// line lacks is checked too.
#[test]
fn compiled_rules_agree_with_the_tree_evaluator() {
    let rules = proviso::rules::load(&["rules".into()]).unwrap();
    let compiled = Compiled::new(&rules, &["timestamp", "host"]);
    let eval = Evaluator::new(&rules);
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut pick = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % (n as u64 + 1)) as usize
    };
    let mut outcomes = std::collections::BTreeMap::new();
    for _ in 0..6000 {
        let choose = |list: &[&'static str], i: usize| list.get(i).copied();
        let mut values: Vec<(Vec<&str>, Option<&str>)> = vec![
            (vec!["host"], choose(HOSTS, pick(HOSTS.len()))),
            (vec!["path"], choose(PATHS, pick(PATHS.len()))),
            (vec!["cloud"], choose(CLOUDS, pick(CLOUDS.len()))),
            (vec!["region"], choose(REGIONS, pick(REGIONS.len()))),
            (vec!["client_cloud"], choose(CLOUDS, pick(CLOUDS.len()))),
            (vec!["client_region"], choose(REGIONS, pick(REGIONS.len()))),
            (vec!["kind"], Some("request")),
            // A revenue ledger's columns (the reciprocal-share clause).
            (vec!["entry"], choose(ENTRIES, pick(ENTRIES.len()))),
            (vec!["amount_usd"], choose(AMOUNTS, pick(AMOUNTS.len()))),
        ];
        for (tag, choices) in TAGS {
            values.push((vec!["tags", tag], choose(choices, pick(choices.len()))));
        }
        let mut slots: Vec<Option<Slot<'_>>> = vec![None; compiled.slots.len()];
        let mut fields = std::collections::BTreeMap::new();
        for (path, v) in &values {
            let Some(v) = v else { continue };
            match path.as_slice() {
                [name] => {
                    fields.insert(name.to_string(), Value::str(v));
                }
                [map, key] => {
                    let entry = fields
                        .entry(map.to_string())
                        .or_insert_with(|| Value::Map(Default::default()));
                    if let Value::Map(m) = entry {
                        m.insert(key.to_string(), Value::str(v));
                    }
                }
                _ => unreachable!(),
            }
            let path = FieldPath(path.iter().map(|p| p.to_string()).collect());
            if let Some(i) = compiled.slots.iter().position(|p| *p == path) {
                slots[i] = Some(Slot::at(FieldVal::Str(Cow::Borrowed(v)), 0..0));
            }
        }
        let record = proviso::value::MapRecord { fields };
        for c in &compiled.clauses {
            let terms = &rules.terms[c.terms];
            let clause = &terms.clauses[c.clause];
            let tree = match eval.judge(terms, clause, &record) {
                Outcome::NotApplicable => LineOutcome::NotApplicable,
                Outcome::Pass => LineOutcome::Pass,
                Outcome::Excepted(e) => LineOutcome::Excepted(e),
                Outcome::Violation => LineOutcome::Violation,
                Outcome::Unresolved(_) => panic!("no unknowns in logs"),
            };
            let judged = compiled.judge(c, &slots);
            assert_eq!(judged, tree, "{} on {values:?}", c.id);
            *outcomes
                .entry((c.id.clone(), format!("{judged:?}")))
                .or_insert(0) += 1;
        }
    }
    // Every clause was seen to apply (pass, violate or be excepted) and not
    // to apply, or the comparison above proves little.
    for c in &compiled.clauses {
        let seen = |o: &str| outcomes.contains_key(&(c.id.clone(), o.to_string()));
        assert!(seen("NotApplicable"), "{} always applied", c.id);
        assert!(
            seen("Pass") || seen("Violation"),
            "{} never applied: {outcomes:?}",
            c.id
        );
    }
}

/// A rule set of the shapes the fixtures lack, one or more per case of the
/// compiler (`Compiled::cond`): literal and bare-field conditions,
/// booleans, comparisons written both ways with every operator, dates and
/// addresses compared, `in` and `not in` over mixed and non-literal sets,
/// every glob shape, field against field, a define that several clauses
/// share (the line's memo), exceptions and `unless`.
const SHAPES: &str = r#"agreement shapes "Every shape the compiler has a case for"
source s "S" dated 2026-01-01
field flag "a boolean"
field items "a list"
field n "a number"
define on_flag = flag
define big = bytes_out > 1000 or 10 < bytes_in
define vendor = tags.vendor
define shared = (host matches { "a*", "*b", "a*b", "?x", "exact" } or path ~ /^\/v[0-9]+\//) and not big
terms t "T" effective 2026-01-01 {
  clause literal "C" {
    cite s "x"
    applies to true and not false and (flag exists or false)
    require flag or on_flag == true or n
  }
  clause flipped "C" {
    cite s "x"
    applies to 500 <= status and 600 > status
    require status != 503 and n < 2.5 and n >= -1 or 1 == n
  }
  clause dates_and_addresses "C" {
    cite s "x"
    applies to timestamp >= 2026-03-01 or timestamp < 2026-01-01
    require client_ip == 10.0.0.1 or client_ip != 2001:db8::1 and target_ip in 192.168.0.0/16
  }
  clause mixed_sets "C" {
    cite s "x"
    applies to status in { 200, "404", true, 2026-03-01, 10.0.0.0/8 } or items in { "a", 1 }
    forbid n not in { 1, 2.5, "3", false } and method not in { "GET", path }
  }
  clause globs "C" {
    cite s "x"
    applies to shared
    require host matches { "*", "" } or items matches { "a*" } or vendor exists
    except excused
    unless vendor == host or cloud == region
  }
  clause memo "C" {
    cite s "x"
    applies to shared or on_flag
    forbid big and tags.vendor in { "openai", "*" }
  }
  exception excused "E" {
    cite s "x"
    when path matches { "/health*" } or tags exists
  }
}
"#;

/// Records judged per rule set by the wide test.
const RECORDS: usize = 20_000;

/// Every rule set on random records of every type: the compiled rules
/// (with the memo shared by a line's clauses, as the audit judges, and
/// alone) give each clause the tree evaluator's outcome.
#[test]
fn every_rule_set_agrees_on_random_records_of_every_type() {
    let mut files: Vec<String> = std::fs::read_dir("fixtures/rules/valid")
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".proviso"))
        .collect();
    files.sort();
    assert!(
        files
            .iter()
            .any(|p| p.ends_with("every_expression_feature.proviso"))
            && files.len() >= 5,
        "{files:?}"
    );
    files.insert(0, "rules".to_string());
    let mut sets: Vec<(String, RuleSet)> = files
        .into_iter()
        .map(|f| {
            let rules = proviso::rules::load(&[f.as_str().into()])
                .unwrap_or_else(|e| panic!("{f}: {}", common::render_all(&e.errors)));
            (f, rules)
        })
        .collect();
    let shapes = proviso::rules::build(vec![SourceFile::new("shapes.proviso", SHAPES)])
        .unwrap_or_else(|e| panic!("{}", common::render_all(&e.errors)));
    sets.push(("shapes.proviso".to_string(), shapes));

    let mut disagreements: BTreeMap<(String, String), Disagreement> = BTreeMap::new();
    let mut disagreeing_records = 0usize;
    let mut never_seen = Vec::new();
    let mut judged = 0usize;
    for (n, (set, rules)) in sets.iter().enumerate() {
        let compiled = Compiled::new(rules, &["timestamp", "host"]);
        assert!(!compiled.clauses.is_empty(), "{set} has no enforced clause");
        let eval = Evaluator::new(rules);
        let values = Values::of(rules);
        let memo = compiled.new_memo();
        let mut rng =
            Rng(0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
        // Per clause: whether it was seen to apply, and not to apply.
        let mut seen: Vec<(bool, bool)> = vec![(false, false); compiled.clauses.len()];
        for _ in 0..RECORDS {
            let fields = values.record(&compiled.slots, &mut rng);
            let raw: Vec<Option<String>> = compiled
                .slots
                .iter()
                .map(|p| match lookup_in(&fields, &p.0) {
                    Lookup::Known(v @ (Value::List(_) | Value::Map(_))) => {
                        Some(json(v).to_string())
                    }
                    _ => None,
                })
                .collect();
            let slots = slots_of(&compiled.slots, &fields, &raw);
            let record = MapRecord {
                fields: fields.clone(),
            };
            Compiled::reset_memo(&memo);
            let present = compiled.present(&slots);
            let mut disagreed = false;
            for (i, c) in compiled.clauses.iter().enumerate() {
                let (terms, clause) = clause_of(rules, c);
                let tree = match eval.judge(terms, clause, &record) {
                    Outcome::NotApplicable => LineOutcome::NotApplicable,
                    Outcome::Pass => LineOutcome::Pass,
                    Outcome::Excepted(e) => LineOutcome::Excepted(e),
                    Outcome::Violation => LineOutcome::Violation,
                    Outcome::Unresolved(u) => panic!("no unknowns in log records: {u:?}"),
                };
                let shared = compiled.judge_memo(c, &slots, &memo, present);
                let alone = compiled.judge(c, &slots);
                judged += 1;
                let s = &mut seen[i];
                match tree {
                    LineOutcome::NotApplicable => s.1 = true,
                    _ => s.0 = true,
                }
                if shared != tree || alone != tree {
                    disagreed = true;
                    disagreements
                        .entry((set.clone(), c.id.clone()))
                        .or_insert_with(|| Disagreement {
                            clause: clause_text(rules, terms, clause),
                            record: json(&Value::Map(fields.clone())).to_string(),
                            tree,
                            shared,
                            alone,
                            count: 0,
                        })
                        .count += 1;
                }
            }
            disagreeing_records += usize::from(disagreed);
        }
        for (c, (applied, not_applied)) in compiled.clauses.iter().zip(&seen) {
            if !applied || !not_applied {
                never_seen.push(format!(
                    "{set}: {} (applied: {applied}, not applicable: {not_applied})",
                    c.id
                ));
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "the evaluators disagree on {disagreeing_records} of {} records ({judged} judgements), \
         in {} clauses:\n\n{}",
        RECORDS * sets.len(),
        disagreements.len(),
        disagreements
            .iter()
            .map(|((set, id), d)| format!("{set}, clause {id}: {d}"))
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    // A clause seen only one way proves little: each was seen to apply
    // and not to apply.
    assert!(never_seen.is_empty(), "{}", never_seen.join("\n"));
}

/// The first record on which the evaluators disagreed about a clause.
struct Disagreement {
    clause: String,
    record: String,
    tree: LineOutcome,
    /// The compiled outcome with the line's shared memo, and alone.
    shared: LineOutcome,
    alone: LineOutcome,
    /// On how many records.
    count: usize,
}

impl std::fmt::Display for Disagreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} records, the first:\n  record: {}\n  tree: {:?}, compiled: {:?} (alone: {:?})\n{}",
            self.count, self.record, self.tree, self.shared, self.alone, self.clause
        )
    }
}

/// The terms and clause of a compiled clause.
fn clause_of<'r>(rules: &'r RuleSet, c: &CClause) -> (&'r Terms, &'r Clause) {
    let terms = &rules.terms[c.terms];
    (terms, &terms.clauses[c.clause])
}

/// A clause as written, with its terms' exceptions and the defines it
/// uses (those they use in turn included).
fn clause_text(rules: &RuleSet, terms: &Terms, clause: &Clause) -> String {
    let text = &terms.file.text;
    let mut out = format!("  {}", &text[clause.span.clone()]);
    let mut exprs: Vec<&Expr> = clause_exprs(clause);
    for x in &terms.exceptions {
        if let Some(w) = &x.when {
            out.push_str(&format!(
                "\n  exception {} when {}",
                x.id.name,
                &text[w.span.clone()]
            ));
            exprs.push(w);
        }
    }
    let mut seen = HashSet::new();
    while let Some(e) = exprs.pop() {
        e.walk(&mut |e| {
            if let ExprKind::DefineRef(_, i) = &e.kind
                && seen.insert(*i)
            {
                let d = &rules.defines[*i];
                out.push_str(&format!(
                    "\n  define {} = {}",
                    d.id.name,
                    &d.file.text[d.value.span.clone()]
                ));
                exprs.push(&d.value);
            }
        });
    }
    out
}

/// A clause's conditions: `applies to`, the check, each `unless`.
fn clause_exprs(clause: &Clause) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = clause.applies.iter().collect();
    if let Check::Require(e) | Check::Forbid(e) = &clause.check {
        out.push(e);
    }
    out.extend(&clause.unless);
    out
}

/// What a log parser fills the slots with for `fields`: each slot's value
/// found by path, lists and objects as their JSON text (`raw`).
fn slots_of<'a>(
    paths: &[FieldPath],
    fields: &'a BTreeMap<String, Value>,
    raw: &'a [Option<String>],
) -> Vec<Option<Slot<'a>>> {
    paths
        .iter()
        .zip(raw)
        .map(|(p, raw)| {
            let val = match lookup_in(fields, &p.0) {
                Lookup::Known(Value::Str(s)) => FieldVal::Str(Cow::Borrowed(s)),
                Lookup::Known(Value::Num(n)) => FieldVal::Num(*n),
                Lookup::Known(Value::Bool(b)) => FieldVal::Bool(*b),
                Lookup::Known(Value::Null) => FieldVal::Null,
                Lookup::Known(Value::List(_) | Value::Map(_)) => {
                    FieldVal::Raw(raw.as_deref().unwrap())
                }
                Lookup::Known(other) => panic!("not a log record's value: {other:?}"),
                Lookup::Absent | Lookup::Unknown(_) => return None,
            };
            Some(Slot::at(val, 0..0))
        })
        .collect()
}

/// A record value as JSON (numbers are finite: the generator makes no NaN).
fn json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Num(n) => serde_json::Number::from_f64(*n).unwrap().into(),
        Value::Str(s) => s.as_ref().into(),
        Value::List(items) => items.iter().map(json).collect(),
        Value::Map(m) => m.iter().map(|(k, v)| (k.clone(), json(v))).collect(),
        other => panic!("not a log record's value: {other:?}"),
    }
}

/// xorshift64*: small, deterministic, and enough to pick test values.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The values records are made of: every value any field may take, and
/// per field the values its conditions and examples are about.
struct Values {
    any: Vec<Value>,
    by_field: BTreeMap<FieldPath, Vec<Value>>,
}

impl Values {
    fn of(rules: &RuleSet) -> Values {
        let eval = Evaluator::new(rules);
        let mut any: Vec<Value> = [
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Num(0.0),
            Value::Num(1.0),
            Value::Num(-1.0),
            Value::Num(0.5),
            Value::Num(1e300),
            Value::str(""),
            Value::str(" "),
            Value::str("0"),
            Value::str("abc"),
            Value::str("true"),
            Value::str("null"),
            Value::str("10.0.0.1"),
            Value::str("::1"),
            Value::str("2026-03-01"),
            Value::str("2026-03-01T10:00:00Z"),
        ]
        .into();
        let mut by_field: BTreeMap<FieldPath, Vec<Value>> = BTreeMap::new();
        let mut exprs: Vec<&Expr> = rules.defines.iter().map(|d| &d.value).collect();
        for t in &rules.terms {
            exprs.extend(t.exceptions.iter().filter_map(|x| x.when.as_ref()));
            for c in &t.clauses {
                exprs.extend(clause_exprs(c));
                for example in &c.examples {
                    leaves(&example.given, &mut Vec::new(), &mut |path, v| {
                        let vs = variants(v);
                        any.extend(vs.iter().cloned());
                        by_field
                            .entry(FieldPath(path.to_vec()))
                            .or_default()
                            .extend(vs);
                    });
                }
            }
        }
        for e in exprs {
            e.walk(&mut |e| {
                let sides = match &e.kind {
                    ExprKind::Compare(a, _, b)
                    | ExprKind::In { lhs: a, rhs: b, .. }
                    | ExprKind::Matches(a, b) => [(&**a, &**b), (&**b, &**a)],
                    _ => return,
                };
                for (field_side, literal_side) in sides {
                    let mut literals = Vec::new();
                    literals_deep(rules, literal_side, &mut literals, &mut HashSet::new());
                    let vs: Vec<Value> = literals.iter().flat_map(variants).collect();
                    any.extend(vs.iter().cloned());
                    for p in eval.fields_deep(field_side) {
                        by_field.entry(p).or_default().extend(vs.iter().cloned());
                    }
                }
            });
        }
        Values { any, by_field }
    }

    /// A random record over `paths` (in a random order, so that a value at
    /// `tags` and one at `tags.x` each win sometimes); each path is absent
    /// about one time in four.
    fn record(&self, paths: &[FieldPath], rng: &mut Rng) -> BTreeMap<String, Value> {
        let mut order: Vec<&FieldPath> = paths.iter().collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let mut fields = BTreeMap::new();
        for p in order {
            if rng.percent(25) {
                continue;
            }
            let v = self.value(p, rng);
            insert(&mut fields, &p.0, v);
        }
        fields
    }

    /// A value for field `p`: a scalar (most often one of the field's own
    /// values), `null`, a list or an object.
    fn value(&self, p: &FieldPath, rng: &mut Rng) -> Value {
        let r = rng.below(100);
        if r < 8 {
            Value::Null
        } else if r < 80 {
            self.scalar(p, rng)
        } else if r < 92 {
            Value::List((0..rng.below(4)).map(|_| self.scalar(p, rng)).collect())
        } else {
            let keys = ["a", "x", "0", "id"];
            Value::Map(
                (0..rng.below(3))
                    .map(|_| (rng.pick(&keys).to_string(), self.scalar(p, rng)))
                    .collect(),
            )
        }
    }

    fn scalar(&self, p: &FieldPath, rng: &mut Rng) -> Value {
        match self.by_field.get(p) {
            Some(own) if !own.is_empty() && rng.percent(70) => rng.pick(own).clone(),
            _ => rng.pick(&self.any).clone(),
        }
    }
}

/// Puts `v` at `path`, making objects on the way; a value already at the
/// path, or a scalar on the way, wins (the path is then absent).
fn insert(map: &mut BTreeMap<String, Value>, path: &[String], v: Value) {
    match path {
        [] => {}
        [last] => {
            map.entry(last.clone()).or_insert(v);
        }
        [first, rest @ ..] => {
            if let Value::Map(inner) = map
                .entry(first.clone())
                .or_insert_with(|| Value::Map(BTreeMap::new()))
            {
                insert(inner, rest, v);
            }
        }
    }
}

/// Calls `f` on each leaf of an example's `given` value, with its path.
fn leaves(v: &Value, path: &mut Vec<String>, f: &mut dyn FnMut(&[String], &Value)) {
    match v {
        Value::Map(m) => {
            for (k, v) in m {
                path.push(k.clone());
                leaves(v, path, f);
                path.pop();
            }
        }
        v => f(path, v),
    }
}

/// The literals of an expression, define references followed once each.
fn literals_deep(rules: &RuleSet, e: &Expr, out: &mut Vec<Value>, seen: &mut HashSet<usize>) {
    e.walk(&mut |e| match &e.kind {
        ExprKind::Literal(v) => out.push(v.clone()),
        ExprKind::DefineRef(_, i) if seen.insert(*i) => {
            literals_deep(rules, &rules.defines[*i].value, out, seen);
        }
        _ => {}
    });
}

/// A literal and values near it, each a value a log record can hold
/// (dates and addresses as strings).
fn variants(v: &Value) -> Vec<Value> {
    let s = |t: String| Value::Str(t.into());
    match v {
        Value::Null => vec![Value::Null],
        Value::Bool(b) => vec![
            Value::Bool(*b),
            Value::Bool(!b),
            s(b.to_string()),
            s(b.to_string().to_uppercase()),
        ],
        Value::Num(n) => vec![
            Value::Num(*n),
            Value::Num(n + 1.0),
            Value::Num(n - 1.0),
            Value::Num(-n),
            Value::Num(n / 3.0),
            s(v.to_string()),
            s(format!(" {v} ")),
            s(format!("{v}x")),
            s(format!("{n:e}")),
        ],
        Value::Str(t) => {
            let mut out = vec![
                s(t.to_string()),
                s(t.to_uppercase()),
                s(format!("x{t}")),
                s(format!("{t}x")),
                s(format!(" {t} ")),
            ];
            let mut chars = t.chars();
            chars.next_back();
            out.push(s(chars.as_str().to_string()));
            if t.contains(['*', '?']) {
                out.push(s(t.replace('*', "").replace('?', "q")));
                out.push(s(t.replace('*', "mid.dle").replace('?', "/")));
            }
            out
        }
        Value::Date(d) => vec![
            s(d.to_string()),
            s(format!("{d}T12:30:00Z")),
            s(proviso::date::Date::from_days(d.days() - 1).to_string()),
            s(proviso::date::Date::from_days(d.days() + 1).to_string()),
            s(d.to_string().replace('-', "/")),
        ],
        Value::Cidr(c) => {
            let (inside, outside) = match c.addr {
                IpAddr::V4(a) => {
                    let bits = u32::from(a);
                    let host = if c.prefix < 32 { 1 } else { 0 };
                    (
                        IpAddr::from((bits | host).to_be_bytes()),
                        IpAddr::from((bits ^ 0x8000_0000).to_be_bytes()),
                    )
                }
                IpAddr::V6(a) => {
                    let bits = u128::from(a);
                    let host = if c.prefix < 128 { 1 } else { 0 };
                    (
                        IpAddr::from((bits | host).to_be_bytes()),
                        IpAddr::from((bits ^ (1 << 127)).to_be_bytes()),
                    )
                }
            };
            vec![
                s(c.addr.to_string()),
                s(inside.to_string()),
                s(outside.to_string()),
                s(format!(" {inside} ")),
                s(c.to_string()),
            ]
        }
        Value::List(items) => items.iter().flat_map(variants).collect(),
        Value::Map(_) | Value::Unknown(_) => Vec::new(),
    }
}
