//! `proviso audit --format html`: one self-contained page (inline CSS and
//! SVG; no script, no external resource) that a compliance analyst hands to
//! the legal team, and that prints.
//!
//! The page, top to bottom: the verdict and the accounting as a figure
//! (records → judged / not applicable / outside the terms / malformed /
//! other kinds), the inputs (format, compression, records, bytes), then one
//! section per clause version: when it is in force, first and last seen,
//! a chart of violations per UTC day with the terms timeline under it on
//! the same axis (each version of the clause a bar, each change of terms a
//! marked date), the top subjects, and the samples with their log line and
//! labels; an aggregate clause shows its breaching and unresolved groups
//! with their figures instead. Then the malformed lines, and the
//! `--what-if` comparison.
//!
//! Its size does not grow with the input: the charts are per-day counts
//! ([`crate::audit::ClauseStats::per_day`]), samples are `--samples` per
//! clause (lines cut at 2,000 characters) and groups are what the audit
//! keeps.

use crate::audit::{AuditReport, ClauseStats};
use crate::date::{Date, Interval};
use crate::report::timeline::{Axis, ticks};
use crate::rules::RuleSet;
use crate::scan::logs::format_timestamp;
use crate::text::xml_escape as escape;
use std::fmt::Write;

const CSS: &str = r#"
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; max-width: 1100px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
.meta { color: #57606a; } code { background: #f6f8fa; padding: 0 .25em; border-radius: 4px; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; vertical-align: top; } th { background: #f6f8fa; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.clause { border: 1px solid #d0d7de; border-left: 6px solid #b3344d; border-radius: 6px; padding: .6rem 1rem; margin: 1rem 0; break-inside: avoid-page; }
.clause.clean { border-left-color: #3c8d5a; }
.clause h3 { margin: 0 0 .2rem 0; font-size: 1.05rem; }
.tags span { display: inline-block; font-size: .8rem; border-radius: 10px; padding: 0 .55rem; margin-right: .3rem; background: #eef1f4; }
.tags .error { background: #ffebe9; } .tags .warning { background: #fff8c5; } .tags .info { background: #ddf4ff; }
pre.line { white-space: pre-wrap; word-break: break-all; background: #f6f8fa; padding: .4rem .6rem; border-radius: 4px; margin: .2rem 0; font-size: .8rem; }
pre.line mark { background: #ffd8b5; } ul.labels { margin: .1rem 0 .6rem 0; font-size: .85rem; color: #57606a; }
svg { max-width: 100%; height: auto; } svg text { font: 11px system-ui, sans-serif; fill: #1f2328; }
.verdict { font-size: 1.1rem; }
@media print {
  body { max-width: none; margin: 0; font-size: 11pt; }
  .clause, table, svg { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// Chart geometry (SVG user units; the SVG scales to the page).
const WIDTH: f64 = 1000.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
const CHART_H: f64 = 110.0;
/// Room above the bars for the labels of the changes of terms.
const CHART_TOP: f64 = 24.0;
const BAR_H: f64 = 16.0;

/// Sample lines longer than this are cut.
const MAX_LINE: usize = 2000;

/// The days every chart of the report shares: from the earliest to the
/// latest day anything happened (a violation, or a version of a clause
/// with one coming into force), a little past the last; drawn with the
/// terms timeline's axis (`timeline::Axis`, its ticks and labels).
fn axis_of(r: &AuditReport, versions: &[Version]) -> Axis {
    let days = r
        .clauses
        .iter()
        .flat_map(|c| c.per_day.iter().map(|(d, _)| *d));
    let starts = versions
        .iter()
        .filter(|v| {
            r.clauses
                .iter()
                .any(|c| c.clause == v.clause && c.violations > 0)
        })
        .map(|v| v.interval.from);
    let all: Vec<Date> = days.chain(starts).collect();
    let from = all.iter().min().copied().unwrap_or_else(Date::today);
    let last = all.iter().max().copied().unwrap_or(from);
    // A little past the last day: a twentieth of the span, at least a week.
    let span = (last.days() - from.days()).max(1);
    Axis {
        start: from,
        end: Date::from_days(last.days() + (span / 20).max(7)),
        left: LEFT,
        right: WIDTH - RIGHT,
    }
}

/// A version of a clause, in force on an interval.
struct Version {
    clause: String,
    terms: String,
    interval: Interval,
}

fn versions(rules: &RuleSet) -> Vec<Version> {
    rules
        .clauses()
        .filter_map(|(t, c)| {
            let iv = rules
                .terms_in_force_interval(t)
                .and_then(|iv| iv.intersect(&c.interval(t)))?;
            Some(Version {
                clause: c.id.name.clone(),
                terms: t.id.name.clone(),
                interval: iv,
            })
        })
        .collect()
}

/// A change of terms: signed terms that supersede others, on the day they
/// start.
struct Change {
    date: Date,
    what: String,
}

fn changes(rules: &RuleSet) -> Vec<Change> {
    let mut out: Vec<Change> = rules
        .terms
        .iter()
        .filter(|t| !t.is_proposed())
        .filter_map(|t| {
            let sup = t.supersedes.as_ref()?;
            Some(Change {
                date: t.interval.from,
                what: format!("{} supersedes {}", t.id.name, sup.name),
            })
        })
        .collect();
    out.sort_by_key(|c| c.date);
    out
}

pub fn render(r: &AuditReport, rules: &RuleSet) -> String {
    let versions = versions(rules);
    let changes = changes(rules);
    let axis = axis_of(r, &versions);
    let mut out = String::new();
    let title = rules
        .agreements
        .first()
        .and_then(|a| a.title.clone())
        .unwrap_or_else(|| "Rule set".into());
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>proviso audit: {}</title><style>{CSS}</style></head><body>",
        escape(&title)
    );
    let _ = write!(
        out,
        "<h1>proviso audit: {}</h1><p class=\"meta\">Rule files: {}. Every record judged by the terms in force on its own UTC day. proviso {}.</p>",
        escape(&title),
        rules
            .files
            .iter()
            .map(|f| format!("<code>{}</code>", escape(&f.name)))
            .collect::<Vec<_>>()
            .join(", "),
        env!("CARGO_PKG_VERSION")
    );
    let _ = write!(
        out,
        "<p class=\"verdict\" id=\"summary\">{}</p>",
        escape(&super::audit_human::summary_line(r))
    );
    out.push_str(&accounting(r));
    out.push_str(&inputs(r));
    out.push_str("<h2>Clauses</h2>");
    for c in &r.clauses {
        out.push_str(&clause_section(c, &versions, &changes, &axis));
    }
    if !r.unreadable.is_empty() || !r.malformed.is_empty() || !r.warnings.is_empty() {
        out.push_str("<h2 id=\"malformed\">Unreadable inputs and malformed lines</h2><ul>");
        for d in r.unreadable.iter().chain(&r.malformed).chain(&r.warnings) {
            let loc = d
                .location()
                .map(|(f, l, _)| format!("<code>{}:{l}</code> ", escape(&f)))
                .unwrap_or_default();
            let _ = write!(out, "<li>{loc}{}</li>", escape(&d.message));
        }
        if r.summary.malformed > r.malformed.len() as u64 {
            let _ = write!(
                out,
                "<li>{} malformed lines in all (the first are listed)</li>",
                r.summary.malformed
            );
        }
        out.push_str("</ul>");
    }
    if let Some(w) = &r.what_if {
        out.push_str(&what_if(w));
    }
    out.push_str("</body></html>\n");
    out
}

/// The accounting as a figure: one bar, records split into what became
/// of them, each part labelled with its count.
fn accounting(r: &AuditReport) -> String {
    let s = &r.summary;
    let parts: [(&str, u64, &str); 5] = [
        ("judged", s.judged, "#2f6fb3"),
        ("not applicable", s.not_applicable, "#8fb8de"),
        ("outside the terms", s.outside_terms, "#c8ccd1"),
        ("other kinds (not requests)", s.not_requests, "#e3d7f0"),
        ("malformed", s.malformed, "#b3344d"),
    ];
    let total = parts.iter().map(|p| p.1).sum::<u64>().max(1);
    let mut out = String::from("<h2>Accounting</h2>");
    let _ = write!(
        out,
        "<svg id=\"accounting\" viewBox=\"0 0 {WIDTH} 70\" role=\"img\" aria-label=\"{} records: {}\">",
        s.records,
        escape(
            &parts
                .iter()
                .map(|(n, v, _)| format!("{v} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    );
    let mut x = 0.0;
    for (name, n, color) in parts {
        if n == 0 {
            continue;
        }
        let w = WIDTH * n as f64 / total as f64;
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"4\" width=\"{:.1}\" height=\"24\" fill=\"{color}\"><title>{name}: {n}</title></rect>",
            w.max(1.0)
        );
        x += w;
    }
    // The legend under the bar, one entry per part (zero parts included,
    // so that a reader sees that nothing was malformed).
    let mut lx = 0.0;
    for (name, n, color) in parts {
        let label = format!("{name}: {n}");
        let _ = write!(
            out,
            "<rect x=\"{lx:.1}\" y=\"40\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"49\">{}</text>",
            lx + 14.0,
            escape(&label)
        );
        lx += 14.0 + 6.5 * label.chars().count() as f64 + 18.0;
    }
    out.push_str("</svg>");
    let _ = write!(
        out,
        "<p class=\"meta\">{} records = {} judged + {} not applicable + {} outside the terms{} + {} malformed{}.</p>",
        s.records,
        s.judged,
        s.not_applicable,
        s.outside_terms,
        if s.no_timestamp > 0 {
            format!(" ({} without a timestamp)", s.no_timestamp)
        } else {
            String::new()
        },
        s.malformed,
        if s.not_requests > 0 {
            format!(" + {} records that are not requests", s.not_requests)
        } else {
            String::new()
        }
    );
    out
}

fn inputs(r: &AuditReport) -> String {
    let mut out = String::from(
        "<h2>Inputs</h2><table id=\"inputs\"><tr><th>input</th><th>format</th><th>records</th><th>malformed</th><th>bytes read</th></tr>",
    );
    for i in &r.inputs {
        let comp = match i.compression {
            crate::scan::logs::decompress::Compression::None => String::new(),
            c => format!(", {}", c.name()),
        };
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}{comp}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&i.file),
            i.format.map_or("unknown", |f| f.name()),
            i.summary.records,
            i.summary.malformed,
            i.summary.bytes
        );
    }
    out.push_str("</table>");
    out
}

fn clause_section(
    c: &ClauseStats,
    versions: &[Version],
    changes: &[Change],
    axis: &Axis,
) -> String {
    let mut out = String::new();
    let clean = c.violations == 0 && c.unresolved == 0;
    let sev = c.severity.map_or("", |s| s.as_str());
    let _ = write!(
        out,
        "<section class=\"clause{}\" id=\"{}--{}\"><h3>{}</h3><div class=\"tags\"><span><code>{}</code></span><span>terms <code>{}</code></span><span class=\"{sev}\">{sev}</span><span>{}</span></div>",
        if clean { " clean" } else { "" },
        escape(&c.clause),
        escape(&c.terms),
        escape(c.title.as_deref().unwrap_or(&c.clause)),
        escape(&c.clause),
        escape(&c.terms),
        escape(&in_force(c))
    );
    let seen = match (c.first_seen, c.last_seen) {
        (Some(a), Some(b)) => format!(
            "first seen {}, last seen {}",
            format_timestamp(a),
            format_timestamp(b)
        ),
        _ => "no violation".to_string(),
    };
    let _ = write!(
        out,
        "<p><strong>{}</strong> violation{}{}; {seen}.</p>",
        c.violations,
        if c.violations == 1 { "" } else { "s" },
        if c.unresolved > 0 {
            format!(", {} unresolved", c.unresolved)
        } else {
            String::new()
        }
    );
    if c.aggregate.is_none() {
        if c.violations > 0 {
            out.push_str(&chart(c, versions, changes, axis));
        }
        let top = c.top_subjects(5);
        if !top.is_empty() {
            out.push_str("<p>Top subjects: ");
            let items: Vec<String> = top
                .iter()
                .map(|(s, n)| format!("<code>{}</code> ({n})", escape(s)))
                .collect();
            out.push_str(&items.join(", "));
            if c.subjects() > top.len() {
                let _ = write!(
                    out,
                    " and {}{} more",
                    if c.subjects_capped { "at least " } else { "" },
                    c.subjects() - top.len()
                );
            }
            out.push_str(".</p>");
        }
        for s in &c.samples {
            out.push_str(&sample(s));
        }
    } else {
        out.push_str(&groups(c));
    }
    let _ = write!(out, "<p class=\"meta\">{}</p>", escape(&c.help));
    out.push_str("</section>");
    out
}

fn in_force(c: &ClauseStats) -> String {
    match (c.in_force_from, c.in_force_until) {
        (Some(f), Some(u)) => format!("in force {} – {}", f.long(), u.long()),
        (Some(f), None) => format!("in force from {}, no end date", f.long()),
        _ => String::new(),
    }
}

/// Violations per day, and under them the clause's versions on the same
/// axis, with each change of terms marked and labelled.
fn chart(c: &ClauseStats, versions: &[Version], changes: &[Change], axis: &Axis) -> String {
    let mine: Vec<&Version> = versions.iter().filter(|v| v.clause == c.clause).collect();
    let rows = mine.len().max(1) as f64;
    let timeline_top = CHART_H + 22.0;
    let height = timeline_top + rows * (BAR_H + 4.0) + 8.0;
    let max = c.per_day.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height:.0}\" role=\"img\" aria-label=\"violations of {} per day, {} to {}\">",
        escape(&c.clause),
        axis.start,
        axis.end
    );
    // Axis: baseline, month ticks with labels that stay inside the box.
    let _ = write!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{CHART_H}\" x2=\"{:.1}\" y2=\"{CHART_H}\" stroke=\"#8c959f\"/>",
        WIDTH - RIGHT
    );
    for (t, label) in ticks(axis) {
        let x = axis.x(t);
        // A label centred on its tick, unless that would cross the edge.
        let anchor = if x > WIDTH - 26.0 { "end" } else { "middle" };
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{CHART_H}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#8c959f\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
            CHART_H + 4.0,
            CHART_H + 15.0,
            label
        );
    }
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{max}</text><text x=\"{:.1}\" y=\"{CHART_H}\" text-anchor=\"end\">0</text>",
        LEFT - 6.0,
        CHART_TOP + 10.0,
        LEFT - 6.0
    );
    let w = axis.day_width();
    for (day, n) in &c.per_day {
        let h = (CHART_H - CHART_TOP) * *n as f64 / max as f64;
        let _ = write!(
            out,
            "<rect class=\"day\" x=\"{:.2}\" y=\"{:.2}\" width=\"{w:.2}\" height=\"{h:.2}\" fill=\"#b3344d\"><title>{day}: {n}</title></rect>",
            axis.x(*day),
            CHART_H - h
        );
    }
    // The terms timeline: one bar per version of this clause.
    for (i, v) in mine.iter().enumerate() {
        // (The version this section counts is the darker bar.)
        let y = timeline_top + i as f64 * (BAR_H + 4.0);
        let x0 = axis.x(v.interval.from);
        let x1 = v.interval.until.map_or(WIDTH - RIGHT, |u| axis.x(u));
        let open = v.interval.until.is_none();
        let this = v.terms == c.terms;
        let _ = write!(
            out,
            "<rect class=\"version\" x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{BAR_H}\" fill=\"{}\" opacity=\"{}\"><title>{} {}</title></rect>",
            (x1 - x0).max(1.0),
            if this { "#2f6fb3" } else { "#8fb8de" },
            if open { "0.75" } else { "1" },
            escape(&v.terms),
            v.interval
        );
        let label = format!("{}{}", v.terms, if open { " (no end date)" } else { "" });
        // The label inside its bar when it fits, else beside it.
        let fits = x1 - x0 > 7.0 * label.chars().count() as f64;
        let (lx, anchor) = if fits {
            (x0 + 4.0, "start")
        } else if x0 > WIDTH / 2.0 {
            (x0 - 4.0, "end")
        } else {
            (x1 + 4.0, "start")
        };
        let _ = write!(
            out,
            "<text x=\"{lx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\"{}>{}</text>",
            y + BAR_H - 4.0,
            if fits { " style=\"fill:#fff\"" } else { "" },
            escape(&label)
        );
    }
    // Each change of terms on the axis: a dashed line over chart and
    // timeline, labelled with its date and what changed.
    for ch in changes
        .iter()
        .filter(|ch| ch.date > axis.start && ch.date < axis.end)
    {
        let x = axis.x(ch.date);
        let label = format!("{}: {}", ch.date, ch.what);
        let anchor = if x > WIDTH / 2.0 { "end" } else { "start" };
        let dx = if anchor == "end" { -4.0 } else { 4.0 };
        let _ = write!(
            out,
            "<line class=\"change\" x1=\"{x:.1}\" y1=\"4\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#1f2328\" stroke-dasharray=\"4 3\"/><text class=\"change\" x=\"{:.1}\" y=\"14\" text-anchor=\"{anchor}\">{}</text>",
            height - 4.0,
            x + dx,
            escape(&label)
        );
    }
    out.push_str("</svg>");
    out
}

fn sample(s: &crate::audit::Sample) -> String {
    let mut out = String::new();
    let text: String = s.text.chars().take(MAX_LINE).collect();
    let (at, label) = &s.primary;
    let start = at.start.min(text.len());
    let end = at.end.min(text.len()).max(start);
    let pre = match (text.get(..start), text.get(start..end), text.get(end..)) {
        (Some(a), Some(b), Some(c)) if !b.is_empty() => format!(
            "{}<mark title=\"{}\">{}</mark>{}",
            escape(a),
            escape(label),
            escape(b),
            escape(c)
        ),
        _ => escape(&text),
    };
    let _ = write!(
        out,
        "<p class=\"sample\"><code>{}</code> ({}): {}</p><pre class=\"line\">{pre}</pre><ul class=\"labels\"><li>{}</li>",
        escape(&crate::audit::locus(&s.file, s.unit, s.line)),
        format_timestamp(s.timestamp),
        escape(&s.message),
        escape(label)
    );
    for (_, l) in &s.secondary {
        let _ = write!(out, "<li>{}</li>", escape(l));
    }
    out.push_str("</ul>");
    out
}

fn groups(c: &ClauseStats) -> String {
    let Some(agg) = &c.aggregate else {
        return String::new();
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<p>{} groups judged: {} passed, {} excepted, {} not applicable, {} breaching or unresolved.</p>",
        agg.groups,
        agg.passed,
        agg.excepted,
        agg.not_applicable,
        agg.findings.len()
    );
    if agg.findings.is_empty() {
        return out;
    }
    let names: Vec<&str> = agg
        .findings
        .first()
        .map(|g| g.figures.iter().map(|(k, _)| k.as_str()).collect())
        .unwrap_or_default();
    out.push_str("<table class=\"groups\"><tr><th>group</th><th>outcome</th>");
    for n in &names {
        let _ = write!(out, "<th>{}</th>", escape(n));
    }
    out.push_str("<th>message</th></tr>");
    for g in &agg.findings {
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td>",
            escape(&g.label()),
            g.outcome
        );
        for (_, v) in &g.figures {
            let _ = write!(out, "<td class=\"n\">{}</td>", escape(&v.to_string()));
        }
        let _ = write!(out, "<td>{}</td></tr>", escape(&g.message));
    }
    out.push_str("</table>");
    out
}

fn what_if(w: &crate::what_if::Comparison) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<h2 id=\"what-if\">What if draft <code>{}</code> were signed</h2><p>{}{}: <strong>{}</strong>.</p>",
        escape(&w.draft),
        escape(w.title.as_deref().unwrap_or("")),
        escape(&format!(", {}", w.signed_phrase())),
        escape(&w.headline())
    );
    out.push_str("<table><tr><th>clause</th><th>newly break</th><th>no longer break</th><th>break under both</th></tr>");
    for c in &w.clauses {
        let _ = write!(
            out,
            "<tr><td><code>{}</code> {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&c.clause),
            escape(c.title.as_deref().unwrap_or("")),
            c.newly,
            c.no_longer,
            if c.by_count_only {
                "?".to_string()
            } else {
                c.both.to_string()
            }
        );
    }
    out.push_str("</table>");
    out
}
