//! The HTML rendering: one self-contained page (inline CSS and SVG, no
//! scripts, no external resources) with a timeline graphic of when each
//! clause is in force.

use super::{ClauseView, Explanation};
use std::fmt::Write;

/// Escapes text for HTML content and attribute values (the XML escape
/// serves both).
pub use crate::text::xml_escape as escape;

const PALETTE: [&str; 6] = [
    "#2f6fb3", "#c0612b", "#3c8d5a", "#8e5bb5", "#b3344d", "#6b7280",
];

const CSS: &str = r#"
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; max-width: 1100px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
.meta { color: #57606a; } code { background: #f6f8fa; padding: 0 .25em; border-radius: 4px; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; } th { background: #f6f8fa; }
td.mark { text-align: center; }
.clause { border: 1px solid #d0d7de; border-left: 6px solid var(--terms); border-radius: 6px; padding: .6rem 1rem; margin: .8rem 0; }
.clause h3 { margin: 0 0 .2rem 0; font-size: 1.05rem; } .tags span { display: inline-block; font-size: .8rem; border-radius: 10px; padding: 0 .55rem; margin-right: .3rem; background: #eef1f4; }
.tags .error { background: #ffebe9; } .tags .warning { background: #fff8c5; } .tags .manual { background: #ddf4ff; }
blockquote { margin: .4rem 0; padding-left: .8rem; border-left: 3px solid #d0d7de; color: #57606a; }
.changes li { margin: .15rem 0; } svg text { fill: #1f2328; }
.record td:first-child { white-space: nowrap; } .record code { word-break: break-all; }
.evidence, .checked { color: #57606a; } .section { font-weight: 600; }
.signoff td { height: 2.2rem; min-width: 14rem; }
.timeline.print { display: none; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  .timeline.screen { display: none; } .timeline.print { display: block; }
  .clause, tr, .timeline { break-inside: avoid; }
}
@page { size: A4; margin: 15mm; }
"#;

/// What changed on a date, short, for the timeline's marks.
pub fn change_label(e: &Explanation, c: &super::Change) -> String {
    let date = c.date;
    let mut terms: Vec<String> = e
        .terms
        .iter()
        .filter(|(_, _, iv, _)| iv.is_some_and(|iv| Some(iv.from) == date))
        .map(|(id, title, _, _)| {
            if title.is_empty() {
                id.clone()
            } else {
                title.clone()
            }
        })
        .collect();
    terms.dedup();
    let mut parts = Vec::new();
    let n = |k: usize, verb: &str| {
        if k == 1 {
            format!("1 clause {verb}s")
        } else {
            format!("{k} clauses {verb}")
        }
    };
    if !c.started.is_empty() {
        parts.push(n(c.started.len(), "start"));
    }
    if !c.ended.is_empty() {
        parts.push(n(c.ended.len(), "end"));
    }
    if !c.changed.is_empty() {
        let ids: Vec<&str> = c.changed.iter().map(|x| x.0.as_str()).collect();
        parts.push(format!(
            "{} ({})",
            n(c.changed.len(), "change"),
            ids.join(", ")
        ));
    }
    let what = parts.join(", ");
    if terms.is_empty() {
        what
    } else {
        format!("{} in force; {what}", terms.join(", "))
    }
}

/// The timeline of the shown clauses, for [`crate::report::timeline`].
pub fn timeline_model(
    e: &Explanation,
    terms_color: &dyn Fn(&str) -> &'static str,
) -> crate::report::timeline::Timeline {
    use crate::report::timeline::{Bar, LegendItem, Mark, Timeline};
    let bars = e
        .clauses
        .iter()
        .filter_map(|v| {
            let iv = v.interval?;
            Some(Bar {
                row: v.id.clone(),
                key: v.id.clone(),
                href: Some(format!("#{}", v.id)),
                from: iv.from,
                until: iv.until,
                color: terms_color(&v.terms).to_string(),
                faded: v.manual,
                title: format!(
                    "{} ({}): {}",
                    v.id,
                    v.terms,
                    super::text::period_text(v.interval)
                ),
            })
        })
        .collect();
    let marks = e
        .timeline
        .iter()
        .filter_map(|c| {
            Some(Mark {
                date: c.date?,
                label: change_label(e, c),
            })
        })
        .collect();
    let mut legend: Vec<LegendItem> = e
        .terms
        .iter()
        .filter(|(id, ..)| e.clauses.iter().any(|v| v.terms == *id))
        .map(|(id, title, _, _)| LegendItem::Swatch {
            color: terms_color(id).to_string(),
            label: if title.is_empty() {
                id.clone()
            } else {
                format!("{id}: {title}")
            },
        })
        .collect();
    if e.clauses.iter().any(|v| v.manual) {
        legend.push(LegendItem::Faded {
            label: "manual clause (reviewed by hand)".into(),
        });
    }
    Timeline {
        bars,
        marks,
        as_of: e.as_of,
        legend,
    }
}

/// The timeline at two widths: the screen's, and an A4 page's (shown
/// only when printing).
fn timeline_svg(e: &Explanation, terms_color: &dyn Fn(&str) -> &'static str) -> String {
    let model = timeline_model(e, terms_color);
    format!(
        r#"<div class="timeline screen">{}</div><div class="timeline print">{}</div>"#,
        crate::report::timeline::render(&model, SCREEN_WIDTH, "screen"),
        crate::report::timeline::render(&model, PRINT_WIDTH, "print")
    )
}

/// The page's content width on a screen (the body's max-width less its
/// padding), and on an A4 page with 15 mm margins (180 mm at 96 dpi).
pub const SCREEN_WIDTH: f64 = 1040.0;
pub const PRINT_WIDTH: f64 = 680.0;

fn clause_card(v: &ClauseView, color: &str) -> String {
    let kind = if v.manual {
        "manual"
    } else {
        v.severity.as_str()
    };
    let mut cov = Vec::new();
    if v.coverage.terraform {
        cov.push("checked on Terraform");
    }
    if v.coverage.logs && v.inputs.is_some() {
        cov.push("checked on log exports, per group");
    } else if v.coverage.logs {
        cov.push("checked on traffic logs");
    }
    if v.coverage.manual {
        cov.push("reviewed by hand");
    }
    let mut out = format!(
        r#"<section class="clause" id="{}" style="--terms: {color}"><h3>{}</h3><div class="tags"><span><code>{}</code></span><span>terms <code>{}</code></span><span class="{kind}">{kind}</span><span>{}</span></div><p>{}</p>"#,
        escape(&v.id),
        escape(&v.title),
        escape(&v.id),
        escape(&v.terms),
        escape(&cov.join(", ")),
        escape(&v.sentence),
    );
    if let Some(inputs) = &v.inputs {
        let _ = write!(
            out,
            "<p class=\"inputs\">{}.</p>",
            escape(&super::english::capitalize(inputs))
        );
    }
    if let Some(checked) = &v.checked_as {
        let _ = write!(
            out,
            "<p class=\"checked\">Checked as: {}</p>",
            escape(checked)
        );
    }
    if let Some(ev) = v.evidence.as_ref().filter(|_| !v.manual) {
        let _ = write!(out, "<p class=\"evidence\">Evidence: {}</p>", escape(ev));
    }
    for c in &v.citations {
        let _ = write!(out, "<blockquote>{}</blockquote>", escape(c));
    }
    out.push_str("</section>");
    out
}

pub fn render(e: &Explanation) -> String {
    let mut terms_ids: Vec<String> = e.all_clauses.iter().map(|v| v.terms.clone()).collect();
    terms_ids.dedup();
    let mut seen = Vec::new();
    for t in terms_ids {
        if !seen.contains(&t) {
            seen.push(t);
        }
    }
    let color_of = move |t: &str| -> &'static str {
        let i = seen.iter().position(|s| s == t).unwrap_or(0);
        PALETTE.get(i % PALETTE.len()).copied().unwrap_or("#6b7280")
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head><body>",
        escape(&e.title)
    );
    let _ = write!(out, "<h1>{}</h1>", escape(&e.title));
    out.push_str(&record_table(e));

    if let Some((a, b)) = e.between {
        let _ = write!(
            out,
            "<h2>What changes between {} and {}</h2><ul class=\"changes\">",
            escape(&a.long()),
            escape(&b.long())
        );
        let lines = e.timeline_between();
        if lines.is_empty() {
            out.push_str("<li>Nothing: the same clauses are in force on both dates.</li>");
        }
        for l in lines {
            let _ = write!(out, "<li>{}</li>", escape(&l));
        }
        out.push_str("</ul>");
    }

    out.push_str("<h2>Timeline</h2>");
    out.push_str(&timeline_svg(e, &color_of));
    out.push_str("<h2>Terms</h2><table><tr><th>terms</th><th>title</th><th>in force</th><th>supersedes</th></tr>");
    for (id, title, iv, sup) in &e.terms {
        let _ = write!(
            out,
            "<tr><td><span style=\"color:{}\">■</span> <code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            color_of(id),
            escape(id),
            escape(title),
            escape(&e.terms_period(id, *iv)),
            sup.as_deref()
                .map(|s| format!("<code>{}</code>", escape(s)))
                .unwrap_or_default()
        );
    }
    out.push_str("</table>");
    if e.between.is_none() && e.as_of.is_none() {
        out.push_str("<h2>Changes</h2>");
        for c in &e.timeline {
            let _ = write!(
                out,
                "<h3>{}</h3><ul class=\"changes\">",
                escape(&c.date.map(|d| d.long()).unwrap_or_default())
            );
            for l in super::text::change_lines(c, &e.all_clauses) {
                let _ = write!(out, "<li>{}</li>", escape(&l));
            }
            out.push_str("</ul>");
        }
    }
    out.push_str("<h2>Clauses</h2>");
    for v in &e.clauses {
        out.push_str(&clause_card(v, color_of(&v.terms)));
    }
    if !e.definitions.is_empty() {
        out.push_str("<h2>Definitions</h2><dl>");
        for (id, label, meaning) in &e.definitions {
            let _ = write!(
                out,
                "<dt><em>{}</em> (<code>{}</code>)</dt><dd>{}</dd>",
                escape(label),
                escape(id),
                escape(meaning)
            );
        }
        out.push_str("</dl>");
    }
    out.push_str("<h2>Coverage</h2><table><tr><th>clause</th><th>terms</th><th>Terraform</th><th>logs</th><th>manual</th></tr>");
    let mark = |b: bool| if b { "✓" } else { "–" };
    for v in &e.clauses {
        let _ = write!(
            out,
            "<tr><td><a href=\"#{}\"><code>{}</code></a></td><td><code>{}</code></td><td class=\"mark\">{}</td><td class=\"mark\">{}</td><td class=\"mark\">{}</td></tr>",
            escape(&v.id),
            escape(&v.id),
            escape(&v.terms),
            mark(v.coverage.terraform),
            mark(v.coverage.logs),
            mark(v.coverage.manual)
        );
    }
    out.push_str("</table>");
    out.push_str(&sign_off(e));
    out.push_str("</body></html>\n");
    out
}

/// When, by which tool, which files (SHA-256) and which dates.
fn record_table(e: &Explanation) -> String {
    let r = &e.record;
    let mut out = String::from("<table class=\"record\">");
    let _ = write!(
        out,
        "<tr><td>generated</td><td>{}</td></tr><tr><td>tool</td><td>{}</td></tr>",
        escape(&r.generated.long()),
        escape(&r.tool())
    );
    for (f, sha) in &r.files {
        let _ = write!(
            out,
            "<tr><td>rule file</td><td><code>{}</code> (SHA-256 <code>{}</code>)</td></tr>",
            escape(f),
            escape(sha)
        );
    }
    let _ = write!(
        out,
        "<tr><td>dates</td><td>{}</td></tr></table>",
        escape(&super::text::scope_text(e))
    );
    out
}

/// The block the legal team fills in.
fn sign_off(e: &Explanation) -> String {
    format!(
        "<h2>Sign-off</h2><p>I have read the sentences above against the contract and confirm that they say what the contract says, for {}, as written in the rule files of the record above.</p><table class=\"signoff\"><tr><th>Reviewed by</th><td></td></tr><tr><th>Role</th><td></td></tr><tr><th>Date</th><td></td></tr><tr><th>Signature</th><td></td></tr></table>",
        escape(&super::text::scope_text(e))
    )
}
