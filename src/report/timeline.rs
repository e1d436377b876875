//! A terms timeline as one SVG: a row per clause (or any item) with a bar
//! per in-force period, the changes of terms as labelled lines, an
//! optional `--as-of` line, and a legend.
//!
//! A pure function of its input ([`Timeline`]) and a width: `explain`'s
//! HTML page draws it at two widths (screen and print), and a report that
//! draws something else on the same dates (per-day counts under the terms)
//! takes the [`Axis`] to place its own marks where these are.
//!
//! The axis runs from the earliest start to a little past the last change,
//! not to a far-off end date: what ends or goes on after it is drawn to the
//! edge with an arrow and says so ("until 1 January 2033", "no end date").
//! Text is placed from an estimate of its width and kept inside the
//! drawing, so no label is clipped at either edge.

use crate::date::Date;
use crate::text::xml_escape as escape;
use std::fmt::Write;

/// One bar: an item in force from `from` until `until` (exclusive).
#[derive(Debug, Clone)]
pub struct Bar {
    /// The row's label (a clause id).
    pub row: String,
    /// `data-key` of the bar, for tests and links.
    pub key: String,
    /// Where the row label links to (`#id`), if anywhere.
    pub href: Option<String>,
    pub from: Date,
    /// `None`: no end date.
    pub until: Option<Date>,
    pub color: String,
    /// Drawn lighter (e.g. a manual clause).
    pub faded: bool,
    /// The tooltip.
    pub title: String,
}

/// A change of terms: a dashed line labelled with its date and what changed.
#[derive(Debug, Clone)]
pub struct Mark {
    pub date: Date,
    /// What changed, short ("restructured agreement: 6 end, 4 start").
    pub label: String,
}

/// One legend entry.
#[derive(Debug, Clone)]
pub enum LegendItem {
    /// A coloured swatch: a version of the terms.
    Swatch { color: String, label: String },
    /// The faded swatch of [`Bar::faded`].
    Faded { label: String },
}

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub bars: Vec<Bar>,
    pub marks: Vec<Mark>,
    pub as_of: Option<Date>,
    pub legend: Vec<LegendItem>,
}

/// Estimated width of text at 12px in a sans-serif face, generously: no
/// glyph of the Latin alphabet is wider on average, so text placed by it
/// fits. Bold text is wider by a tenth.
pub fn text_width(text: &str, bold: bool) -> f64 {
    let w: f64 = text
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' | '(' | ')' => 3.8,
            'm' | 'w' | 'M' | 'W' | '—' | '%' => 10.5,
            c if c.is_ascii_uppercase() || c.is_ascii_digit() => 8.0,
            _ => 6.9,
        })
        .sum();
    if bold { w * 1.1 } else { w }
}

/// The mapping of dates to x: `left` is the x of `start`, `right` the x of
/// `end`. Dates outside are clamped to the edges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub start: Date,
    pub end: Date,
    pub left: f64,
    pub right: f64,
}

impl Axis {
    /// The x of a date (clamped to the axis).
    pub fn x(&self, d: Date) -> f64 {
        let span = f64::from((self.end.days() - self.start.days()).max(1));
        let t = f64::from(d.days().clamp(self.start.days(), self.end.days()) - self.start.days())
            / span;
        self.left + t * (self.right - self.left)
    }

    /// The width of one day on the axis, at least one unit (a bar per day).
    pub fn day_width(&self) -> f64 {
        let span = f64::from((self.end.days() - self.start.days()).max(1));
        ((self.right - self.left) / span).max(1.0)
    }

    /// Whether a date lies after the axis's end.
    pub fn beyond(&self, d: Date) -> bool {
        d > self.end
    }

    /// The axis of a timeline drawn `width` wide: from a little before the
    /// earliest start to a little past the last change (the last start,
    /// change mark or as-of date that is not a far-off end).
    pub fn of(tl: &Timeline, width: f64) -> Option<Axis> {
        let starts = tl.bars.iter().map(|b| b.from);
        let first = starts.clone().chain(tl.as_of).min()?;
        // The last change: the last start, or a mark within two years of
        // the last start (an end scheduled years later is not a change the
        // reader needs the axis stretched for).
        let last_start = starts.chain(tl.as_of).max().unwrap_or(first);
        let last = tl
            .marks
            .iter()
            .map(|m| m.date)
            .filter(|d| d.days() - last_start.days() <= 90)
            .chain([last_start])
            .max()
            .unwrap_or(last_start);
        let span = (last.days() - first.days()).max(30);
        let before = (span / 12).clamp(7, 60);
        let after = (span / 4).clamp(45, 365);
        let (left, right) = Self::margins(tl, width);
        Some(Axis {
            start: Date::from_days(first.days() - before),
            end: Date::from_days(last.days() + after),
            left,
            right,
        })
    }

    /// The plot's left and right edges: labels on the left, room on the
    /// right for "no end date".
    fn margins(tl: &Timeline, width: f64) -> (f64, f64) {
        let longest = tl
            .bars
            .iter()
            .map(|b| text_width(&b.row, false))
            .fold(0.0, f64::max);
        let left = (longest + 16.0).clamp(60.0, (width * 0.32).max(60.0));
        // Room right of the plot for the end labels of bars that go on
        // ("no end date", "until 1 Jan 2033"), as wide as the widest.
        let room = tl
            .bars
            .iter()
            .map(|b| text_width(&end_text(b.until), false) * 11.0 / 12.0 + 16.0)
            .fold(0.0, f64::max)
            .min(width * 0.25);
        (left, (width - room).max(left + 40.0))
    }
}

/// What a bar that goes on past the axis says at its end.
fn end_text(until: Option<Date>) -> String {
    match until {
        None => "no end date".to_string(),
        Some(u) => format!("until {}", short_date(u)),
    }
}
const ROW_H: f64 = 22.0;
const FONT: f64 = 12.0;

fn short_date(d: Date) -> String {
    let (y, m, day) = d.ymd();
    let name = crate::date::MONTH_NAMES
        .get((m as usize).saturating_sub(1))
        .copied()
        .unwrap_or("");
    format!("{day} {} {y}", name.get(..3).unwrap_or(name))
}

/// Cuts text to fit `max` pixels, with an ellipsis.
fn fit(text: &str, max: f64) -> String {
    if text_width(text, false) <= max {
        return text.to_string();
    }
    // One pass, the width summed as characters are taken (a label may be
    // as long as a rule file allows).
    let ellipsis = text_width("…", false);
    let mut out = String::new();
    let mut w = 0.0;
    for c in text.chars() {
        let cw = text_width(c.encode_utf8(&mut [0; 4]), false);
        if w + cw + ellipsis > max {
            break;
        }
        w += cw;
        out.push(c);
    }
    format!("{out}…")
}

/// Places labels of estimated widths centred on `xs` on as few lines as
/// keep them apart, each kept within `[lo, hi]`. Returns `(x, line)`
/// (x of the label's centre).
fn place(labels: &[(f64, f64)], lo: f64, hi: f64) -> Vec<(f64, usize)> {
    let mut ends: Vec<f64> = Vec::new();
    labels
        .iter()
        .map(|&(x, w)| {
            let cx = x.clamp(lo + w / 2.0, (hi - w / 2.0).max(lo + w / 2.0));
            let left = cx - w / 2.0;
            let line = ends
                .iter()
                .position(|e| *e + 8.0 <= left)
                .unwrap_or(ends.len());
            if let Some(e) = ends.get_mut(line) {
                *e = cx + w / 2.0;
            } else {
                ends.push(cx + w / 2.0);
            }
            (cx, line)
        })
        .collect()
}

/// Month ticks: a label per 1, 2, 3, 6 or 12 months, as fits (also the
/// audit page's per-day charts).
pub fn ticks(axis: &Axis) -> Vec<(Date, String)> {
    let plot = axis.right - axis.left;
    let months = (axis.end.days() - axis.start.days()) / 30 + 1;
    let step = [1, 2, 3, 6, 12, 24, 60]
        .into_iter()
        .find(|s| f64::from(months / s + 1) * 64.0 <= plot)
        .unwrap_or(120);
    let (sy, sm, _) = axis.start.ymd();
    let (mut y, mut m) = (sy, sm);
    let mut out = Vec::new();
    while let Ok(tick) = Date::from_ymd(y, m, 1)
        && tick <= axis.end
    {
        let aligned = if step >= 12 {
            m == 1 && y % (step / 12) == 0
        } else {
            (m - 1) % step as u32 == 0
        };
        if tick >= axis.start && aligned {
            let (_, mm, _) = tick.ymd();
            let name = crate::date::MONTH_NAMES
                .get((mm as usize).saturating_sub(1))
                .copied()
                .unwrap_or("");
            let label = if step >= 12 {
                y.to_string()
            } else {
                format!("{} {y}", name.get(..3).unwrap_or(name))
            };
            out.push((tick, label));
        }
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

/// The SVG of a timeline, `width` user units wide (its height follows).
/// `id` prefixes the ids inside (gradients, arrows), so that two drawings
/// on one page do not share them.
pub fn render(tl: &Timeline, width: f64, id: &str) -> String {
    let Some(axis) = Axis::of(tl, width) else {
        return String::from("<p>Nothing is ever in force.</p>");
    };
    let id = escape(id);
    let mut body = String::new();
    let mut y = 8.0;

    // Change marks: the date on top, on as many lines as they need.
    let marks: Vec<&Mark> = tl.marks.iter().filter(|m| !axis.beyond(m.date)).collect();
    let later: Vec<&Mark> = tl.marks.iter().filter(|m| axis.beyond(m.date)).collect();
    let date_labels: Vec<(f64, f64)> = marks
        .iter()
        .map(|m| (axis.x(m.date), text_width(&short_date(m.date), true)))
        .collect();
    let placed = place(&date_labels, 0.0, width);
    let mark_lines = placed.iter().map(|p| p.1 + 1).max().unwrap_or(0);
    for (m, (cx, line)) in marks.iter().zip(&placed) {
        let _ = write!(
            body,
            r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-weight="bold">{}</text>"#,
            y + FONT + *line as f64 * 16.0,
            escape(&short_date(m.date))
        );
    }
    y += mark_lines as f64 * 16.0 + 4.0;
    // As-of label.
    if let Some(d) = tl.as_of {
        let text = format!("as of {}", short_date(d));
        let w = text_width(&text, false);
        let cx = axis.x(d).clamp(w / 2.0, width - w / 2.0);
        let _ = write!(
            body,
            r##"<text class="as-of" x="{cx:.1}" y="{:.1}" text-anchor="middle" fill="#cf222e">{}</text>"##,
            y + FONT,
            escape(&text)
        );
        y += 16.0;
    }
    // Month ticks.
    let tick_y = y + FONT;
    y += 20.0;
    let top = y;
    let rows_h = ROW_H * tl.bars.len() as f64;
    let bottom = top + rows_h;
    for (tick, label) in ticks(&axis) {
        let tx = axis.x(tick);
        let w = text_width(&label, false);
        let cx = tx.clamp(axis.left.min(tx) + w / 2.0, width - w / 2.0);
        let _ = write!(
            body,
            r##"<line x1="{tx:.1}" y1="{top:.1}" x2="{tx:.1}" y2="{bottom:.1}" stroke="#eaeef2"/><text x="{cx:.1}" y="{tick_y:.1}" text-anchor="middle" fill="#57606a">{}</text>"##,
            escape(&label)
        );
    }
    // Bars.
    for (i, b) in tl.bars.iter().enumerate() {
        let ry = top + ROW_H * i as f64;
        let label = fit(&b.row, axis.left - 12.0);
        let label = match &b.href {
            Some(h) => format!(r#"<a href="{}">{}</a>"#, escape(h), escape(&label)),
            None => escape(&label),
        };
        let _ = write!(
            body,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{label}</text>"#,
            axis.left - 8.0,
            ry + 15.0
        );
        if axis.beyond(b.from) {
            continue;
        }
        let x1 = axis.x(b.from);
        let goes_on = b.until.is_none_or(|u| axis.beyond(u));
        let x2 = match b.until {
            Some(u) if !axis.beyond(u) => axis.x(u),
            _ => axis.right,
        };
        let fill = if b.until.is_none() {
            format!("url(#{id}-fade-{i})")
        } else {
            escape(&b.color)
        };
        if b.until.is_none() {
            let _ = write!(
                body,
                r#"<defs><linearGradient id="{id}-fade-{i}" x1="0" x2="1"><stop offset="0" stop-color="{c}"/><stop offset="{:.3}" stop-color="{c}"/><stop offset="1" stop-color="{c}" stop-opacity="0.08"/></linearGradient></defs>"#,
                ((x2 - x1 - 60.0) / (x2 - x1).max(1.0)).clamp(0.0, 0.95),
                c = escape(&b.color)
            );
        }
        let _ = write!(
            body,
            r#"<rect class="bar" data-key="{}" x="{x1:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="3" fill="{fill}" opacity="{}"><title>{}</title></rect>"#,
            escape(&b.key),
            ry + 4.0,
            (x2 - x1).max(2.0),
            ROW_H - 8.0,
            if b.faded { "0.45" } else { "0.9" },
            escape(&b.title),
        );
        if goes_on {
            let end_text = end_text(b.until);
            let _ = write!(
                body,
                r##"<path class="arrow" d="M{:.1},{:.1} l7,5 l-7,5 z" fill="{}"/><text class="end" x="{:.1}" y="{:.1}" fill="#57606a" font-size="11">{}</text>"##,
                axis.right + 1.0,
                ry + 6.0,
                escape(&b.color),
                axis.right + 11.0,
                ry + 15.0,
                escape(&fit(&end_text, (width - axis.right - 13.0) * 12.0 / 11.0))
            );
        }
    }
    // Change lines and what changed, below the rows.
    for m in &marks {
        let cx = axis.x(m.date);
        let _ = write!(
            body,
            r##"<line class="change" x1="{cx:.1}" y1="{:.1}" x2="{cx:.1}" y2="{:.1}" stroke="#57606a" stroke-dasharray="4 3"/>"##,
            top - 4.0,
            bottom + 4.0
        );
    }
    if let Some(d) = tl.as_of {
        let ax = axis.x(d);
        let _ = write!(
            body,
            r##"<line class="as-of" x1="{ax:.1}" y1="{:.1}" x2="{ax:.1}" y2="{:.1}" stroke="#cf222e" stroke-width="2"/>"##,
            top - 6.0,
            bottom + 4.0
        );
    }
    y = bottom + 8.0;
    let what: Vec<String> = marks
        .iter()
        .map(|m| format!("{}: {}", short_date(m.date), m.label))
        .chain(
            later
                .iter()
                .map(|m| format!("{}: {} (after the axis)", short_date(m.date), m.label)),
        )
        .collect();
    for line in &what {
        let _ = write!(
            body,
            r#"<text class="what" x="{:.1}" y="{:.1}">{}</text>"#,
            axis.left.min(8.0),
            y + FONT,
            escape(&fit(line, width - 16.0))
        );
        y += 16.0;
    }
    // Legend, wrapped to the width.
    y += 6.0;
    let mut entries: Vec<(String, String, f64)> = tl
        .legend
        .iter()
        .map(|l| match l {
            LegendItem::Swatch { color, label } => (
                format!(
                    r#"<rect x="0" y="-10" width="14" height="10" rx="2" fill="{}" opacity="0.9"/>"#,
                    escape(color)
                ),
                label.clone(),
                18.0,
            ),
            LegendItem::Faded { label } => (
                r##"<rect x="0" y="-10" width="14" height="10" rx="2" fill="#2f6fb3" opacity="0.45"/>"##.to_string(),
                label.clone(),
                18.0,
            ),
        })
        .collect();
    entries.push((
        r##"<line x1="0" y1="-10" x2="0" y2="2" stroke="#57606a" stroke-dasharray="4 3"/>"##.into(),
        "change of terms".into(),
        8.0,
    ));
    entries.push((
        r##"<path d="M0,-10 l7,5 l-7,5 z" fill="#57606a"/>"##.into(),
        "goes on past the axis (fades out: no end date)".into(),
        12.0,
    ));
    if tl.as_of.is_some() {
        entries.push((
            r##"<line x1="0" y1="-10" x2="0" y2="2" stroke="#cf222e" stroke-width="2"/>"##.into(),
            "the --as-of date".into(),
            8.0,
        ));
    }
    let mut lx = 8.0;
    y += FONT;
    for (mark, label, indent) in entries {
        let label = fit(&label, width - 16.0 - indent);
        let w = indent + text_width(&label, false) + 18.0;
        if lx + w > width && lx > 8.0 {
            lx = 8.0;
            y += 18.0;
        }
        let _ = write!(
            body,
            r#"<g class="legend" transform="translate({lx:.1},{y:.1})">{mark}<text x="{indent:.1}" y="0">{}</text></g>"#,
            escape(&label)
        );
        lx += w;
    }
    let height = y + 8.0;
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" aria-label="Timeline of the terms in force" width="{width}" height="{height:.0}" viewBox="0 0 {width} {height:.0}" font-family="system-ui, sans-serif" font-size="12">{body}</svg>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap_or_else(|_| Date::from_days(0))
    }

    fn sample() -> Timeline {
        let bar = |row: &str, from: &str, until: Option<&str>| Bar {
            row: row.into(),
            key: row.into(),
            href: None,
            from: d(from),
            until: until.map(d),
            color: "#2f6fb3".into(),
            faded: false,
            title: row.into(),
        };
        Timeline {
            bars: vec![
                bar("stateless_on_azure", "2025-10-28", Some("2026-04-27")),
                bar("ip_licence_non_exclusive", "2026-04-27", Some("2033-01-01")),
                bar("federal_in_us", "2025-10-28", None),
            ],
            marks: vec![
                Mark {
                    date: d("2026-04-27"),
                    label: "restructured".into(),
                },
                Mark {
                    date: d("2033-01-01"),
                    label: "licence ends".into(),
                },
            ],
            as_of: Some(d("2026-03-01")),
            legend: vec![],
        }
    }

    #[test]
    fn the_axis_ends_a_little_past_the_last_change_not_at_a_far_end() {
        let axis = Axis::of(&sample(), 1000.0).unwrap_or(Axis {
            start: d("2000-01-01"),
            end: d("2000-01-01"),
            left: 0.0,
            right: 0.0,
        });
        assert_eq!(axis.start, d("2025-10-13"));
        assert_eq!(axis.end, d("2026-06-11"));
        assert!(axis.x(d("2025-10-28")) > axis.left);
        assert_eq!(axis.x(d("2033-01-01")), axis.right);
    }

    #[test]
    fn open_ended_and_far_ends_are_said_in_words() {
        let svg = render(&sample(), 1000.0, "t");
        assert!(svg.contains(">no end date</text>"), "{svg}");
        assert!(svg.contains(">until 1 Jan 2033</text>"), "{svg}");
        assert!(svg.contains("1 Jan 2033: licence ends (after the axis)"));
        assert!(svg.contains(">as of 1 Mar 2026</text>"));
        assert!(svg.contains("url(#t-fade-2)"));
    }

    #[test]
    fn a_long_label_is_cut_to_its_room_in_one_pass() {
        let long = "x".repeat(1_000_000);
        let cut = fit(&long, 100.0);
        assert!(cut.ends_with('…'));
        assert!(text_width(&cut, false) <= 100.0);
        assert_eq!(fit("short", 100.0), "short");
    }

    #[test]
    fn labels_are_placed_apart_and_within_bounds() {
        let placed = place(&[(10.0, 80.0), (30.0, 80.0), (500.0, 40.0)], 0.0, 510.0);
        assert_eq!(placed, vec![(40.0, 0), (40.0, 1), (490.0, 0)]);
    }
}
