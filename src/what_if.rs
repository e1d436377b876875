//! `--what-if NAME[@DATE]`: what a draft amendment would change.
//!
//! A draft is a version of the terms marked `proposed`: never in force.
//! `check` and `audit` given `--what-if` judge every record twice: by the
//! terms as they are, and by a copy of the rule set in which the draft is
//! signed ([`crate::rules::RuleSet::signed`]), on its effective date or on
//! `DATE` ("as if signed on"). The two judgements are paired record by
//! record, per clause name (a clause restated by the draft is the same
//! clause), into a [`Comparison`]: the records that break only under the
//! draft ("would newly break"), only under today's terms ("would no
//! longer break"), and under both. Reporters render it beside the report;
//! it never changes the exit code, which is the terms in force's.
//!
//! What "break" means: a violation. Unresolved findings (an unknown value)
//! are not paired; each side's own report shows them.

use crate::date::Date;
use crate::findings::{Finding, FindingOutcome};
use crate::rules::RuleSet;
use std::collections::BTreeMap;

/// Records named per side and clause in a comparison (all are counted).
pub const SHOWN: usize = 10;

/// `--what-if NAME[@DATE]`, as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub draft: String,
    /// Judge as if the draft were signed on this date instead of its own
    /// effective date.
    pub at: Option<Date>,
}

impl std::str::FromStr for Spec {
    type Err = String;

    fn from_str(s: &str) -> Result<Spec, String> {
        let (name, at) = match s.split_once('@') {
            Some((n, d)) => {
                let date = Date::parse(d.trim()).map_err(|e| {
                    format!(
                        "`{d}` after `@` is not a date ({e}): write `--what-if NAME@YYYY-MM-DD`"
                    )
                })?;
                (n.trim(), Some(date))
            }
            None => (s.trim(), None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "`{name}` is not the name of terms: give the draft's name, `--what-if apr_2027`"
            ));
        }
        Ok(Spec {
            draft: name.to_string(),
            at,
        })
    }
}

/// What the draft would change, clause by clause.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub draft: String,
    pub title: Option<String>,
    /// The terms it supersedes, if any.
    pub supersedes: Option<String>,
    /// The draft's own effective date, as written.
    pub effective: Date,
    /// The date it is judged as signed on (`effective`, or `@DATE`).
    pub signed_on: Date,
    /// `check`: the one date both sides are judged on; `audit`: `None`
    /// (each record on its own date).
    pub judged_on: Option<Date>,
    /// What a paired item is: `resource`/`record` (check), `request`
    /// (audit), `group` (an aggregate clause's).
    pub unit: &'static str,
    /// Clauses with a difference or a violation on either side, in rule
    /// file order.
    pub clauses: Vec<ClauseDelta>,
}

/// One clause name's records under both judgements.
#[derive(Debug, Clone, Default)]
pub struct ClauseDelta {
    pub clause: String,
    pub title: Option<String>,
    /// `record` or `group` (aggregate clauses pair their groups).
    pub unit: &'static str,
    /// Break only under the draft.
    pub newly: u64,
    /// Break only under today's terms.
    pub no_longer: u64,
    /// Break under both.
    pub both: u64,
    /// The first [`SHOWN`] of each side, for the reader to look at.
    pub newly_shown: Vec<Item>,
    pub no_longer_shown: Vec<Item>,
    /// More violating records than could be paired one by one: the three
    /// counts are then each side's totals and `both` is unknown (0).
    pub by_count_only: bool,
}

/// A record or group named in a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The address, `file:line`, or the group's key.
    pub what: String,
    /// Where it is (`file:line:column`), if it is not `what`.
    pub at: Option<String>,
    /// The message of the side it breaks under.
    pub message: String,
}

impl Comparison {
    /// An empty comparison for `draft`, as written in `rules` and as
    /// signed in `signed`.
    pub fn new(
        rules: &RuleSet,
        signed: &RuleSet,
        spec: &Spec,
        judged_on: Option<Date>,
        unit: &'static str,
    ) -> Self {
        let find = |set: &'_ RuleSet| {
            set.terms
                .iter()
                .find(|t| t.id.name == spec.draft)
                .map(|t| t.interval.from)
        };
        let written = rules.terms.iter().find(|t| t.id.name == spec.draft);
        let effective = find(rules).unwrap_or(Date::from_days(0));
        Comparison {
            draft: spec.draft.clone(),
            title: written.and_then(|t| t.title.clone()),
            supersedes: written.and_then(|t| t.supersedes.as_ref().map(|s| s.name.clone())),
            effective,
            signed_on: find(signed).unwrap_or(effective),
            judged_on,
            unit,
            clauses: Vec::new(),
        }
    }

    pub fn newly(&self) -> u64 {
        self.clauses.iter().map(|c| c.newly).sum()
    }

    pub fn no_longer(&self) -> u64 {
        self.clauses.iter().map(|c| c.no_longer).sum()
    }

    /// "3 resources would newly break, 1 would no longer" (records and
    /// an aggregate clause's groups counted apart: "…; 2 groups would no
    /// longer break").
    pub fn headline(&self) -> String {
        let mut units: Vec<&'static str> = Vec::new();
        for c in &self.clauses {
            if !units.contains(&c.unit) {
                units.push(c.unit);
            }
        }
        let mut parts = Vec::new();
        for unit in units {
            let of = self.clauses.iter().filter(|c| c.unit == unit);
            let n: u64 = of.clone().map(|c| c.newly).sum();
            let l: u64 = of.map(|c| c.no_longer).sum();
            let u = |k: u64| plural(k, unit);
            match (n, l) {
                (0, 0) => {}
                (n, 0) => parts.push(format!("{n} {} would newly break", u(n))),
                (0, l) => parts.push(format!("{l} {} would no longer break", u(l))),
                (n, l) => parts.push(format!(
                    "{n} {} would newly break, {l} would no longer",
                    u(n)
                )),
            }
        }
        if parts.is_empty() {
            format!(
                "nothing would break differently: no {} newly breaks or stops breaking",
                self.unit
            )
        } else {
            parts.join("; ")
        }
    }

    /// "as if signed on 2027-01-01 (its effective date)".
    pub fn signed_phrase(&self) -> String {
        if self.signed_on == self.effective {
            format!("as if signed on {} (its effective date)", self.signed_on)
        } else {
            format!(
                "as if signed on {} (its own effective date is {})",
                self.signed_on, self.effective
            )
        }
    }

    /// The comparison as JSON (`what_if` in the reports).
    pub fn to_json(&self) -> serde_json::Value {
        let items = |v: &[Item]| {
            v.iter()
                .map(|i| serde_json::json!({ "what": i.what, "at": i.at, "message": i.message }))
                .collect::<Vec<_>>()
        };
        serde_json::json!({
            "draft": self.draft,
            "title": self.title,
            "supersedes": self.supersedes,
            "effective": self.effective.to_string(),
            "signed_on": self.signed_on.to_string(),
            "judged_on": self.judged_on.map(|d| d.to_string()),
            "newly": self.newly(),
            "no_longer": self.no_longer(),
            "headline": self.headline(),
            "clauses": self.clauses.iter().map(|c| serde_json::json!({
                "clause": c.clause,
                "title": c.title,
                "unit": c.unit,
                "newly": c.newly,
                "no_longer": c.no_longer,
                "both": c.both,
                "by_count_only": c.by_count_only,
                "newly_shown": items(&c.newly_shown),
                "no_longer_shown": items(&c.no_longer_shown),
            })).collect::<Vec<_>>(),
        })
    }
}

impl Comparison {
    /// The comparison for a terminal or a text file: a headline, then per
    /// clause its three counts and the records that change side.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let title = self
            .title
            .as_deref()
            .map(|t| format!(" \"{t}\""))
            .unwrap_or_default();
        let sup = self
            .supersedes
            .as_deref()
            .map(|s| format!(", superseding `{s}`"))
            .unwrap_or_default();
        out.push_str(&format!(
            "what if: draft `{}`{title}{sup}, {}",
            self.draft,
            self.signed_phrase()
        ));
        match self.judged_on {
            Some(d) => out.push_str(&format!(", both judged on {d}\n")),
            None => out.push_str(", each record on its own date\n"),
        }
        out.push_str(&format!("  {}\n", self.headline()));
        for c in &self.clauses {
            let unit = |n: u64| plural(n, c.unit);
            out.push_str(&format!(
                "  {}: {} newly, {} no longer, {} under both{}\n",
                c.clause,
                c.newly,
                c.no_longer,
                c.both,
                if c.by_count_only {
                    " (too many to pair one by one: counts are each side's totals)"
                } else {
                    ""
                }
            ));
            for (label, shown, n) in [
                ("newly breaks", &c.newly_shown, c.newly),
                ("no longer breaks", &c.no_longer_shown, c.no_longer),
            ] {
                for i in shown {
                    let at =
                        i.at.as_deref()
                            .map(|a| format!(" ({a})"))
                            .unwrap_or_default();
                    out.push_str(&format!("    {label}: {}{at}: {}\n", i.what, i.message));
                }
                let more = n.saturating_sub(shown.len() as u64);
                if more > 0 && !c.by_count_only {
                    out.push_str(&format!("    {label}: … and {more} more {}\n", unit(more)));
                }
            }
        }
        out
    }

    /// The comparison as a Markdown section (a PR comment, a ticket).
    pub fn render_markdown(&self) -> String {
        use crate::report::markdown::cell;
        let mut out = String::new();
        out.push_str(&format!(
            "#### What if draft `{}` were signed\n\n",
            self.draft
        ));
        let title = self
            .title
            .as_deref()
            .map(|t| format!(" ({})", cell(t)))
            .unwrap_or_default();
        let sup = self
            .supersedes
            .as_deref()
            .map(|s| format!(", superseding `{s}`"))
            .unwrap_or_default();
        let when = match self.judged_on {
            Some(d) => format!("both judged on {d}"),
            None => "each record judged on its own date".to_string(),
        };
        out.push_str(&format!(
            "Draft `{}`{title}{sup}, {}; {when}: **{}**.\n\n",
            self.draft,
            self.signed_phrase(),
            self.headline()
        ));
        if self.clauses.is_empty() {
            return out;
        }
        out.push_str(
            "| clause | newly break | no longer break | break under both |\n|---|---:|---:|---:|\n",
        );
        for c in &self.clauses {
            out.push_str(&format!(
                "| `{}` {} | {} | {} | {} |\n",
                c.clause,
                cell(c.title.as_deref().unwrap_or("")),
                c.newly,
                c.no_longer,
                if c.by_count_only {
                    "?".to_string()
                } else {
                    c.both.to_string()
                }
            ));
        }
        out.push('\n');
        for c in &self.clauses {
            for (label, shown) in [
                ("newly breaks", &c.newly_shown),
                ("no longer breaks", &c.no_longer_shown),
            ] {
                for i in shown {
                    let at =
                        i.at.as_deref()
                            .map(|a| format!(" at `{a}`"))
                            .unwrap_or_default();
                    out.push_str(&format!(
                        "- `{}` {label}: `{}`{at}: {}\n",
                        c.clause,
                        cell(&i.what),
                        cell(&i.message)
                    ));
                }
            }
        }
        out.push('\n');
        out
    }
}

pub fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        unit.to_string()
    } else {
        format!("{unit}s")
    }
}

/// Pairs two sorted lists of keys; returns (only in `a`, only in `b`,
/// both) as indexes.
fn pair<K: Ord>(a: &[K], b: &[K]) -> (Vec<usize>, Vec<usize>, usize) {
    let (mut i, mut j, mut both) = (0, 0, 0);
    let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                both += 1;
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                only_a.push(i);
                i += 1;
            }
            (Some(_), Some(_)) | (None, Some(_)) => {
                only_b.push(j);
                j += 1;
            }
            (Some(_), None) => {
                only_a.push(i);
                i += 1;
            }
            (None, None) => break,
        }
    }
    (only_a, only_b, both)
}

/// A side of a comparison for one clause name: its violating items,
/// sorted by key, each with how many records it stands for.
pub struct Side<K> {
    pub items: Vec<(K, u64, Item)>,
    /// Violations not kept one by one (beyond a cap): counted only.
    pub uncounted: u64,
}

impl<K> Default for Side<K> {
    fn default() -> Self {
        Side {
            items: Vec::new(),
            uncounted: 0,
        }
    }
}

/// Pairs today's side with the draft's side of one clause name.
pub fn delta<K: Ord>(
    clause: &str,
    title: Option<String>,
    unit: &'static str,
    mut today: Side<K>,
    mut draft: Side<K>,
) -> ClauseDelta {
    today.items.sort_by(|a, b| a.0.cmp(&b.0));
    draft.items.sort_by(|a, b| a.0.cmp(&b.0));
    let mut d = ClauseDelta {
        clause: clause.to_string(),
        title,
        unit,
        ..Default::default()
    };
    if today.uncounted > 0 || draft.uncounted > 0 {
        // Not every record is known: compare totals only.
        let total = |s: &Side<K>| s.items.iter().map(|x| x.1).sum::<u64>() + s.uncounted;
        let (t, n) = (total(&today), total(&draft));
        d.by_count_only = true;
        d.newly = n.saturating_sub(t);
        d.no_longer = t.saturating_sub(n);
        return d;
    }
    let ka: Vec<&K> = today.items.iter().map(|x| &x.0).collect();
    let kb: Vec<&K> = draft.items.iter().map(|x| &x.0).collect();
    let (only_today, only_draft, _) = pair(&ka, &kb);
    let weight = |s: &Side<K>, idx: &[usize]| {
        idx.iter()
            .filter_map(|&i| s.items.get(i))
            .map(|x| x.1)
            .sum::<u64>()
    };
    d.no_longer = weight(&today, &only_today);
    d.newly = weight(&draft, &only_draft);
    let all_today: u64 = today.items.iter().map(|x| x.1).sum();
    d.both = all_today - d.no_longer;
    d.no_longer_shown = only_today
        .iter()
        .take(SHOWN)
        .filter_map(|&i| today.items.get(i).map(|x| x.2.clone()))
        .collect();
    d.newly_shown = only_draft
        .iter()
        .take(SHOWN)
        .filter_map(|&i| draft.items.get(i).map(|x| x.2.clone()))
        .collect();
    d
}

/// `check`: pairs the findings of the terms as they are with those of the
/// draft signed, both judged on `judged_on`, by clause and address.
pub fn compare_check(
    rules: &RuleSet,
    signed: &RuleSet,
    spec: &Spec,
    judged_on: Date,
    today: &[Finding],
    draft: &[Finding],
) -> Comparison {
    let mut cmp = Comparison::new(rules, signed, spec, Some(judged_on), "record");
    // Per clause name, (today's side, the draft's side), keyed by
    // (address, file).
    type Sides = (Side<(String, String)>, Side<(String, String)>);
    let mut sides: BTreeMap<&str, Sides> = BTreeMap::new();
    let item = |f: &Finding| {
        let (line, col) = f.line_col();
        (
            (f.address.clone(), f.primary.file.name.clone()),
            f.instances.max(1),
            Item {
                what: f.address.clone(),
                at: Some(format!("{}:{line}:{col}", f.primary.file.name)),
                message: f.message.clone(),
            },
        )
    };
    for f in today
        .iter()
        .filter(|f| f.outcome == FindingOutcome::Violation)
    {
        sides
            .entry(f.clause.as_str())
            .or_default()
            .0
            .items
            .push(item(f));
    }
    for f in draft
        .iter()
        .filter(|f| f.outcome == FindingOutcome::Violation)
    {
        sides
            .entry(f.clause.as_str())
            .or_default()
            .1
            .items
            .push(item(f));
    }
    for (name, title) in clause_order(signed) {
        if let Some((a, b)) = sides.remove(name.as_str()) {
            cmp.clauses.push(delta(&name, title, "record", a, b));
        }
    }
    cmp
}

/// `audit`: pairs the audit by the terms as they are with the audit by the
/// draft signed (each record on its own date): per-record clauses by the
/// place of each violating record ([`crate::audit::ClauseStats::violating`]),
/// aggregate clauses by the key of each breaching group. `names` are the
/// inputs as the audit names them, in command-line order.
pub fn compare_audit(
    rules: &RuleSet,
    signed: &RuleSet,
    spec: &Spec,
    names: &[String],
    today: &crate::audit::AuditReport,
    draft: &crate::audit::AuditReport,
) -> Comparison {
    let mut cmp = Comparison::new(rules, signed, spec, None, "request");
    for (name, title) in clause_order(signed) {
        let versions = |r: &'_ crate::audit::AuditReport| {
            r.clauses
                .iter()
                .filter(|c| c.clause == name)
                .cloned()
                .collect::<Vec<_>>()
        };
        let (a, b) = (versions(today), versions(draft));
        if a.is_empty() && b.is_empty() {
            continue;
        }
        let aggregate = a.iter().chain(&b).any(|c| c.aggregate.is_some());
        let d = if aggregate {
            delta(&name, title, "group", group_side(&a), group_side(&b))
        } else {
            delta(
                &name,
                title,
                "request",
                record_side(today, names, &a),
                record_side(draft, names, &b),
            )
        };
        if d.newly + d.no_longer + d.both > 0 {
            cmp.clauses.push(d);
        }
    }
    cmp
}

/// The violating records of one clause name's versions in an audit.
fn record_side(
    report: &crate::audit::AuditReport,
    names: &[String],
    versions: &[crate::audit::ClauseStats],
) -> Side<(u32, u64)> {
    let mut side = Side::default();
    for v in versions {
        if v.violating_capped {
            side.uncounted += v.violations.saturating_sub(v.violating.len() as u64);
        }
        for &(file, line) in &v.violating {
            // (An input's index is its place on the command line; one that
            // could not be read has no entry in `report.inputs`.)
            let name = names.get(file as usize).map_or("?", String::as_str);
            let input = report.inputs.iter().find(|i| i.file == name);
            let unit = input
                .and_then(|i| i.format)
                .map_or("line", |f| f.record_unit());
            let sample = v.samples.iter().find(|s| s.line == line && s.file == name);
            side.items.push((
                (file, line),
                1,
                Item {
                    what: crate::audit::locus(name, unit, line),
                    at: None,
                    message: sample.map(|s| s.message.clone()).unwrap_or_default(),
                },
            ));
        }
    }
    side
}

/// The breaching groups of one aggregate clause name's versions.
fn group_side(versions: &[crate::audit::ClauseStats]) -> Side<String> {
    let mut side = Side::default();
    for v in versions {
        let Some(agg) = &v.aggregate else { continue };
        for g in agg.findings.iter().filter(|g| g.outcome == "violation") {
            side.items.push((
                g.label(),
                1,
                Item {
                    what: g.label(),
                    at: None,
                    message: g.message.clone(),
                },
            ));
        }
    }
    side
}

/// Every clause name of the sets, in the order the rule files first name
/// them, with the title of its last version in file order (a draft's,
/// which restates it).
pub fn clause_order(signed: &RuleSet) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for (_, c) in signed.clauses() {
        match out.iter_mut().find(|(n, _)| *n == c.id.name) {
            Some(entry) => entry.1 = c.title.clone().or(entry.1.take()),
            None => out.push((c.id.name.clone(), c.title.clone())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_is_a_name_and_an_optional_date() {
        assert_eq!(
            "apr_2027".parse::<Spec>(),
            Ok(Spec {
                draft: "apr_2027".into(),
                at: None
            })
        );
        let s: Spec = "apr_2027@2026-05-01"
            .parse()
            .unwrap_or_else(|e| Spec { draft: e, at: None });
        assert_eq!(s.draft, "apr_2027");
        assert_eq!(s.at.map(|d| d.to_string()).as_deref(), Some("2026-05-01"));
        assert!("apr_2027@2026-13-01".parse::<Spec>().is_err());
        assert!("apr 2027".parse::<Spec>().is_err());
        assert!("".parse::<Spec>().is_err());
    }

    #[test]
    fn pairing_splits_three_ways() {
        let (a, b, both) = pair(&[1, 2, 4, 7], &[2, 3, 4, 8, 9]);
        assert_eq!(a, vec![0, 3]); // 1, 7
        assert_eq!(b, vec![1, 3, 4]); // 3, 8, 9
        assert_eq!(both, 2);
    }
}
