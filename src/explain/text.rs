//! Plain-text and Markdown renderings of an [`Explanation`].

use super::english::Markup;
use super::{Change, ClauseView, Explanation};
use crate::date::Interval;

/// `from 28 October 2025 until 27 April 2026`.
pub fn period_text(iv: Option<Interval>) -> String {
    match iv {
        Some(Interval {
            from,
            until: Some(u),
        }) => format!("from {} until {}", from.long(), u.long()),
        Some(Interval { from, until: None }) => format!("from {}", from.long()),
        None => "never in force".into(),
    }
}

fn mark(b: bool) -> &'static str {
    if b { "✓" } else { "–" }
}

fn titled(views: &[ClauseView], id: &str, terms: &str) -> String {
    views
        .iter()
        .find(|v| v.id == id && v.terms == terms)
        .map(|v| format!("{id} ({terms}): {}", v.title))
        .unwrap_or_else(|| format!("{id} ({terms})"))
}

pub fn change_lines(c: &Change, views: &[ClauseView]) -> Vec<String> {
    let mut out = Vec::new();
    for (id, t) in &c.started {
        out.push(format!("starts: {}", titled(views, id, t)));
    }
    for (id, t) in &c.ended {
        out.push(format!("ends: {}", titled(views, id, t)));
    }
    for (id, from, to, wording) in &c.changed {
        let how = if *wording {
            "wording changed"
        } else {
            "same wording"
        };
        out.push(format!("changes: {id}: {from} → {to} ({how})"));
    }
    out
}

/// Renders for a terminal (`Markup::Plain`) or as Markdown.
pub fn render(e: &Explanation, m: Markup) -> String {
    let md = m == Markup::Markdown;
    let mut out = String::new();
    let h1 = |t: &str| {
        if md {
            format!("# {t}\n\n")
        } else {
            format!("{t}\n{}\n\n", "=".repeat(t.chars().count()))
        }
    };
    let h2 = |t: &str| {
        if md {
            format!("## {t}\n\n")
        } else {
            format!("{t}\n{}\n\n", "-".repeat(t.chars().count()))
        }
    };
    out.push_str(&h1(&e.title));
    out.push_str(&record(e, md));

    if let Some((a, b)) = e.between {
        out.push_str(&h2(&format!(
            "What changes between {} and {}",
            a.long(),
            b.long()
        )));
        let lines = e.timeline_between();
        if lines.is_empty() {
            out.push_str("Nothing: the same clauses are in force on both dates.\n\n");
        }
        for l in lines {
            out.push_str(&format!("- {l}\n"));
        }
        out.push('\n');
    }

    out.push_str(&h2("Terms"));
    if md {
        out.push_str("| terms | title | in force | supersedes |\n|---|---|---|---|\n");
    }
    for (id, title, iv, sup) in &e.terms {
        let sup = sup.clone().unwrap_or_default();
        if md {
            out.push_str(&format!(
                "| `{id}` | {title} | {} | {} |\n",
                e.terms_period(id, *iv),
                if sup.is_empty() {
                    String::new()
                } else {
                    format!("`{sup}`")
                }
            ));
        } else {
            let sup = if sup.is_empty() {
                String::new()
            } else {
                format!("; supersedes {sup}")
            };
            out.push_str(&format!(
                "- {id}: {title} ({}{sup})\n",
                e.terms_period(id, *iv)
            ));
        }
    }
    out.push('\n');

    if e.as_of.is_none() && e.between.is_none() {
        out.push_str(&h2("Timeline"));
        for c in &e.timeline {
            let date = c.date.map(|d| d.long()).unwrap_or_default();
            out.push_str(&if md {
                format!("**{date}**\n\n")
            } else {
                format!("{date}\n")
            });
            for l in change_lines(c, &e.clauses) {
                out.push_str(&format!("- {l}\n"));
            }
            out.push('\n');
        }
    }

    out.push_str(&h2("Clauses"));
    for v in &e.clauses {
        let tag = if v.manual {
            "manual".to_string()
        } else {
            v.severity.as_str().to_string()
        };
        if md {
            out.push_str(&format!(
                "### {}\n\n`{}` · terms `{}` · {tag} · {}\n\n{}\n\n",
                v.title,
                v.id,
                v.terms,
                if v.proposed {
                    "proposed, not in force".to_string()
                } else {
                    period_text(v.interval)
                },
                v.sentence
            ));
            if let Some(inputs) = &v.inputs {
                out.push_str(&format!("{}.\n\n", super::english::capitalize(inputs)));
            }
            if let Some(checked) = &v.checked_as {
                out.push_str(&format!("Checked as: {checked}\n\n"));
            }
            if let Some(ev) = v.evidence.as_ref().filter(|_| !v.manual) {
                out.push_str(&format!("Evidence: {ev}\n\n"));
            }
            // One quote a paragraph: `>` lines in a row would run together.
            for (i, c) in v.citations.iter().enumerate() {
                if i > 0 {
                    out.push_str(">\n");
                }
                out.push_str(&format!("> {c}\n"));
            }
        } else {
            out.push_str(&format!(
                "{} [{} · {} · {tag}]\n  {}\n",
                v.title, v.id, v.terms, v.sentence
            ));
            if let Some(inputs) = &v.inputs {
                out.push_str(&format!("  {}.\n", super::english::capitalize(inputs)));
            }
            if let Some(checked) = &v.checked_as {
                out.push_str(&format!("  Checked as: {checked}\n"));
            }
            if let Some(ev) = v.evidence.as_ref().filter(|_| !v.manual) {
                out.push_str(&format!("  Evidence: {ev}\n"));
            }
            for c in &v.citations {
                out.push_str(&format!("  Source: {c}\n"));
            }
        }
        out.push('\n');
    }

    if !e.definitions.is_empty() {
        out.push_str(&h2("Definitions"));
        for (id, label, meaning) in &e.definitions {
            out.push_str(&if md {
                format!("- _{label}_ (`{id}`): {meaning}\n")
            } else {
                format!("- {label} [{id}]: {meaning}\n")
            });
        }
        out.push('\n');
    }

    out.push_str(&h2("Coverage"));
    let w = e
        .clauses
        .iter()
        .map(|v| v.id.len() + v.terms.len() + if v.proposed { 13 } else { 3 })
        .max()
        .unwrap_or(10)
        .max(10);
    if md {
        out.push_str("| clause | terms | Terraform | logs | manual |\n|---|---|:-:|:-:|:-:|\n");
    } else {
        out.push_str(&format!(
            "{:<w$}  terraform  logs  manual\n",
            "clause (terms)"
        ));
    }
    for v in &e.clauses {
        let c = v.coverage;
        if md {
            out.push_str(&format!(
                "| `{}` | `{}`{} | {} | {} | {} |\n",
                v.id,
                v.terms,
                if v.proposed { " (proposed)" } else { "" },
                mark(c.terraform),
                mark(c.logs),
                mark(c.manual)
            ));
        } else {
            let name = if v.proposed {
                format!("{} ({}, proposed)", v.id, v.terms)
            } else {
                format!("{} ({})", v.id, v.terms)
            };
            out.push_str(&format!(
                "{name:<w$}  {:<9}  {:<4}  {}\n",
                mark(c.terraform),
                mark(c.logs),
                mark(c.manual)
            ));
        }
    }
    let signed = e.clauses.iter().filter(|v| !v.proposed);
    let (tf, logs, manual) = signed.clone().fold((0, 0, 0), |(a, b, c), v| {
        (
            a + usize::from(v.coverage.terraform),
            b + usize::from(v.coverage.logs),
            c + usize::from(v.coverage.manual),
        )
    });
    let aggregates = signed.clone().filter(|v| v.inputs.is_some()).count();
    let drafted = e.clauses.iter().filter(|v| v.proposed).count();
    let per_group = if aggregates > 0 {
        format!(
            " ({aggregates} of them aggregate clauses, judged per group of records by `proviso audit` and never on Terraform)"
        )
    } else {
        String::new()
    };
    out.push_str(&format!(
        "\n{} clauses: {tf} checked on Terraform, {logs} on traffic logs{per_group}, {manual} manual{}.\n",
        signed.count(),
        match drafted {
            0 => String::new(),
            1 => "; and 1 clause of a draft, not in force".to_string(),
            n => format!("; and {n} clauses of drafts, not in force"),
        }
    ));
    if md {
        out.push_str(&format!("\n{}", sign_off_markdown(e)));
    }
    out
}

/// What was reviewed: when, by which tool, which files (with their
/// SHA-256), for which dates.
fn record(e: &Explanation, md: bool) -> String {
    let r = &e.record;
    let scope = scope_text(e);
    let mut out = String::new();
    if md {
        out.push_str("| record | |\n|---|---|\n");
        out.push_str(&format!("| generated | {} |\n", r.generated.long()));
        out.push_str(&format!("| tool | {} |\n", r.tool()));
        for (f, sha) in &r.files {
            out.push_str(&format!("| rule file | `{f}` (SHA-256 `{sha}`) |\n"));
        }
        out.push_str(&format!("| dates | {scope} |\n\n"));
    } else {
        out.push_str(&format!(
            "Generated on {} by {}.\n",
            r.generated.long(),
            r.tool()
        ));
        for (f, sha) in &r.files {
            out.push_str(&format!("Rule file: {f} (SHA-256 {sha})\n"));
        }
        out.push_str(&format!("Dates: {scope}.\n\n"));
    }
    out
}

/// The dates an explanation covers, in words.
pub fn scope_text(e: &Explanation) -> String {
    match (e.as_of, e.between) {
        (Some(d), _) => format!("only what is in force on {}", d.long()),
        (None, Some((a, b))) => format!("what changes between {} and {}", a.long(), b.long()),
        (None, None) => "every version of the terms, all dates".into(),
    }
}

/// The block the legal team fills in to sign the review off.
fn sign_off_markdown(e: &Explanation) -> String {
    let files: Vec<String> = e
        .record
        .files
        .iter()
        .map(|(f, sha)| format!("`{f}` (SHA-256 `{}`)", sha.get(..12).unwrap_or(sha)))
        .collect();
    format!(
        "## Sign-off\n\nI have read the sentences above against the contract and confirm that they say what the contract says, for {1}, as written in {0}.\n\n| | |\n|---|---|\n| Reviewed by | |\n| Role | |\n| Date | |\n| Signature | |\n",
        files.join(", "),
        scope_text(e)
    )
}

impl Explanation {
    /// The `--between` changes as lines.
    pub fn timeline_between(&self) -> Vec<String> {
        self.between_change
            .as_ref()
            .map(|c| change_lines(c, &self.all_clauses))
            .unwrap_or_default()
    }
}
