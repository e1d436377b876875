//! The HTML rendering: one self-contained page (inline CSS and SVG, no
//! scripts, no external resources) with a timeline graphic of when each
//! clause is in force.

use super::{ClauseView, Explanation};
use crate::date::Date;
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
.changes li { margin: .15rem 0; } svg text { font: 12px system-ui, sans-serif; fill: #1f2328; }
"#;

fn month_label(d: Date) -> String {
    let (y, m, _) = d.ymd();
    let name = crate::date::MONTH_NAMES
        .get((m as usize).saturating_sub(1))
        .copied()
        .unwrap_or("");
    format!("{} {y}", name.get(..3).unwrap_or(name))
}

/// The timeline graphic: one row per clause, a bar per in-force interval,
/// coloured by terms version; dashed lines at every date where something
/// changes; a red line at `--as-of`.
fn timeline_svg(e: &Explanation, terms_color: &dyn Fn(&str) -> &'static str) -> String {
    let views = &e.clauses;
    let mut dates: Vec<Date> = e.timeline.iter().filter_map(|c| c.date).collect();
    dates.extend(views.iter().filter_map(|v| v.interval.map(|iv| iv.from)));
    dates.extend(e.as_of);
    let (Some(&min), Some(&max)) = (dates.iter().min(), dates.iter().max()) else {
        return String::from("<p>No clause is ever in force.</p>");
    };
    // Keep far-future ends (e.g. "through 2032") visible without squashing
    // the rest: the axis ends a little after the last change.
    let start = Date::from_days(min.days() - 30);
    let end = Date::from_days(max.days().max(min.days() + 365) + 60);
    let (label_w, width, row_h, top) = (250.0_f64, 1040.0_f64, 24.0_f64, 40.0_f64);
    let plot_w = width - label_w - 20.0;
    let x = |d: Date| -> f64 {
        let t = f64::from(d.days().clamp(start.days(), end.days()) - start.days())
            / f64::from((end.days() - start.days()).max(1));
        label_w + t * plot_w
    };
    let height = top + row_h * views.len() as f64 + 45.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Timeline of clauses in force" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#
    );
    // Month ticks along the top, spaced so that labels do not overlap.
    let months = (end.days() - start.days()) / 30 + 1;
    let step = [1, 2, 3, 6, 12, 24, 60]
        .into_iter()
        .find(|s| f64::from(months / s) * 70.0 <= plot_w)
        .unwrap_or(120);
    let (sy, sm, _) = start.ymd();
    let (mut y, mut m) = (sy, sm);
    while let Ok(tick) = Date::from_ymd(y, m, 1)
        && tick <= end
    {
        let aligned = if step >= 12 {
            m == 1 && (y % (step / 12)) == 0
        } else {
            (m - 1) % step as u32 == 0
        };
        if tick >= start && aligned {
            let tx = x(tick);
            let label = if step >= 12 {
                y.to_string()
            } else {
                month_label(tick)
            };
            let _ = write!(
                svg,
                r##"<line x1="{tx:.1}" y1="{top}" x2="{tx:.1}" y2="{:.1}" stroke="#eaeef2"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
                height - 40.0,
                top - 8.0
            );
        }
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    // Change dates, their labels staggered on two rows where they are close.
    let mut last_label_x = f64::NEG_INFINITY;
    let mut low = false;
    for c in &e.timeline {
        if let Some(d) = c.date {
            let cx = x(d);
            low = cx - last_label_x < 80.0 && !low;
            last_label_x = cx;
            let ly = if low { height - 6.0 } else { height - 22.0 };
            let _ = write!(
                svg,
                r##"<line x1="{cx:.1}" y1="{top}" x2="{cx:.1}" y2="{:.1}" stroke="#57606a" stroke-dasharray="4 3"/><text x="{cx:.1}" y="{ly:.1}" text-anchor="middle" font-weight="bold">{}</text>"##,
                height - 36.0,
                escape(&d.to_string())
            );
        }
    }
    for (i, v) in views.iter().enumerate() {
        let ry = top + row_h * i as f64;
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end"><a href="#{}">{}</a></text>"##,
            label_w - 8.0,
            ry + 16.0,
            escape(&v.id),
            escape(&v.id)
        );
        if let Some(iv) = v.interval {
            let x1 = x(iv.from);
            let x2 = iv.until.map(x).unwrap_or(label_w + plot_w);
            let open = if iv.until.is_none() || iv.until.is_some_and(|u| u > end) {
                " (continues)"
            } else {
                ""
            };
            let _ = write!(
                svg,
                r#"<rect class="bar" data-clause="{}" x="{x1:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="3" fill="{}" opacity="{}"><title>{} ({}): {}{open}</title></rect>"#,
                escape(&v.id),
                ry + 5.0,
                (x2 - x1).max(2.0),
                row_h - 9.0,
                terms_color(&v.terms),
                if v.manual { "0.45" } else { "0.9" },
                escape(&v.id),
                escape(&v.terms),
                escape(&super::text::period_text(v.interval)),
            );
        }
    }
    if let Some(d) = e.as_of {
        let ax = x(d);
        let _ = write!(
            svg,
            r##"<line x1="{ax:.1}" y1="{:.1}" x2="{ax:.1}" y2="{:.1}" stroke="#cf222e" stroke-width="2"/><text x="{ax:.1}" y="{:.1}" text-anchor="middle" fill="#cf222e">as of {}</text>"##,
            top - 4.0,
            height - 40.0,
            top - 22.0,
            d
        );
    }
    svg.push_str("</svg>");
    svg
}

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
    let _ = write!(
        out,
        "<h1>{}</h1><p class=\"meta\">Rule files: {}.",
        escape(&e.title),
        escape(&e.files.join(", "))
    );
    if let Some(d) = e.as_of {
        let _ = write!(out, " Only what is in force on {}.", escape(&d.long()));
    }
    out.push_str("</p>");

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
        for (id, meaning) in &e.definitions {
            let _ = write!(
                out,
                "<dt><em>{}</em></dt><dd>{}</dd>",
                escape(&super::english::humanize(id)),
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
    out.push_str("</table></body></html>\n");
    out
}
