//! Reading waiver comments: `# proviso:waive <clause> reason="…"
//! until=YYYY-MM-DD owner=…` in a parsed Terraform file, bound to the block
//! or attribute they precede (or trail, on the same line).
//!
//! A comment is read here, while its file is scanned, and judged later by
//! [`crate::findings::waivers`] (clauses known, dates, policy), which also
//! has the design of waivers. A malformed comment is a diagnostic
//! (`proviso::waiver::*`), never guessed at.

use crate::date::Date;
use crate::diag::{Code, Diag};
use crate::source::{Origin, SourceFile};
use crate::text::closest;
use hcl_edit::Span as _;
use hcl_edit::structure::Body;
use std::ops::Range;
use std::sync::Arc;

/// The marker that makes a comment a waiver.
pub const MARKER: &str = "proviso:waive";

const KEYS: [&str; 3] = ["reason", "until", "owner"];

/// One waiver comment, parsed and bound to what it excuses.
#[derive(Debug, Clone)]
pub struct Waiver {
    pub clauses: Vec<String>,
    /// Where each clause name is written, for diagnostics.
    pub clause_spans: Vec<Range<usize>>,
    pub reason: String,
    /// Waived before this date; expired from it on (half-open, like `until` in rules).
    pub until: Option<Date>,
    pub owner: Option<String>,
    /// The comment itself.
    pub origin: Origin,
    /// The block or attribute it excuses.
    pub target: Origin,
    /// `resource "aws_s3_bucket" "logs"` or `attribute `location``.
    pub target_name: String,
    /// A comment with mistakes (already reported): its clause names are
    /// still checked against the rules, so that every mistake shows in one
    /// run, but it excuses nothing.
    pub broken: bool,
}

impl Waiver {
    /// Whether `o` lies inside the block or attribute this waiver excuses.
    pub fn contains(&self, o: &Origin) -> bool {
        o.file.name == self.target.file.name
            && o.span.start >= self.target.span.start
            && o.span.end <= self.target.span.end
    }

    /// `file:line` of the comment.
    pub fn location(&self) -> String {
        let (l, _) = self.origin.line_col();
        format!("{}:{l}", self.origin.file.name)
    }
}

/// Finds the waiver comments of one parsed file. Malformed ones are returned
/// as diagnostics (`proviso::waiver::*`), never guessed at.
pub fn find(file: &Arc<SourceFile>, body: &Body) -> (Vec<Waiver>, Vec<Diag>) {
    if !file.text.contains(MARKER) {
        return (Vec::new(), Vec::new());
    }
    let mut items = Vec::new();
    collect_items(body, &mut items);
    // A repaired file's parse tree has spans of the repaired text.
    if let Some(map) = &file.offsets {
        for item in &mut items {
            item.span = map.map_span(item.span.clone());
        }
    }
    find_items(file, items)
}

/// Finds the waiver comments of a file whose blocks and attributes (or
/// their equivalents in another format: a CloudFormation resource and its
/// properties, a Kubernetes object) are `items`.
pub fn find_items(file: &Arc<SourceFile>, mut items: Vec<Item>) -> (Vec<Waiver>, Vec<Diag>) {
    let mut waivers = Vec::new();
    let mut errors = Vec::new();
    if !file.text.contains(MARKER) {
        return (waivers, errors);
    }
    items.sort_by_key(|i| i.span.start);
    let text: &str = &file.text;
    let mut line_start = 0usize;
    for line in text.split_inclusive('\n') {
        let here = line_start;
        line_start += line.len();
        let Some(comment) = comment_in_line(line) else {
            continue;
        };
        let comment_start = here + comment.marker_at;
        // A `#` inside a string or heredoc is not a comment.
        if items
            .iter()
            .any(|i| i.opaque && i.span.start < comment_start && comment_start < i.span.end)
        {
            continue;
        }
        let body_start = here + comment.body_at;
        let body_text = comment.body.trim_end_matches(['\n', '\r']);
        let comment_span = comment_start..body_start + body_text.len();
        let trailing = line
            .get(..comment.marker_at)
            .is_some_and(|code| !code.trim().is_empty());
        let target = if trailing {
            items
                .iter()
                .filter(|i| i.target && i.span.start >= here && i.span.start < comment_start)
                .max_by_key(|i| i.span.start)
        } else {
            items.iter().find(|i| {
                i.target
                    && i.span.start >= comment_span.end
                    && text
                        .get(comment_span.end..i.span.start)
                        .is_some_and(only_comments)
            })
        };
        // Every mistake of the comment at once, not one per run.
        let (parsed, mistakes) = parse(file, body_start, body_text);
        let broken = !mistakes.is_empty() || target.is_none();
        errors.extend(mistakes);
        if target.is_none() {
            errors.push(
                Diag::error(
                    Code::WaiverDetached,
                    "waiver is not attached to a block or attribute",
                )
                .in_file(file)
                .label(comment_span.clone(), "excuses nothing")
                .with_help(
                    "put the waiver on the line right above the block or attribute it excuses, or at the end of its first line",
                ),
            );
        }
        if let Some(mut w) = parsed {
            w.origin = Origin::new(file, comment_span);
            if let Some(t) = target {
                w.target = Origin::new(file, t.span.clone());
                w.target_name = t.name.clone();
            }
            w.broken = broken;
            if !broken || !w.clauses.is_empty() {
                waivers.push(w);
            }
        }
    }
    (waivers, errors)
}

/// A block or attribute a waiver can excuse, or a string a `#` inside of
/// is not a comment.
pub struct Item {
    pub span: Range<usize>,
    /// How a waiver names it: `resource "a" "b"`, `attribute `x``.
    pub name: String,
    /// A `#` inside it is text, not a comment (a string, a heredoc).
    pub opaque: bool,
    /// A waiver can excuse it.
    pub target: bool,
}

fn collect_items(body: &Body, out: &mut Vec<Item>) {
    for attr in body.attributes() {
        if let Some(span) = attr.span() {
            out.push(Item {
                span,
                name: format!("attribute `{}`", attr.key.as_str()),
                opaque: true,
                target: true,
            });
        }
    }
    for block in body.blocks() {
        if let Some(span) = block.span() {
            let mut name = block.ident.as_str().to_string();
            for l in &block.labels {
                name.push_str(&format!(" \"{}\"", l.as_str()));
            }
            out.push(Item {
                span,
                name,
                opaque: false,
                target: true,
            });
        }
        collect_items(&block.body, out);
    }
}

/// Text between a waiver and its target: blank lines and other comments only.
fn only_comments(between: &str) -> bool {
    between.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l.starts_with("//")
    })
}

struct LineComment<'l> {
    /// Byte offset in the line of `#` or `//`.
    marker_at: usize,
    /// Byte offset of the text after `proviso:waive`.
    body_at: usize,
    /// The text after `proviso:waive`, to the end of the line.
    body: &'l str,
}

/// `# proviso:waive …` or `// proviso:waive …` in a line.
fn comment_in_line(line: &str) -> Option<LineComment<'_>> {
    let at = line.find(MARKER)?;
    let before = line.get(..at)?.trim_end();
    let marker_at = if before.ends_with("//") {
        before.len() - 2
    } else if before.ends_with('#') {
        before.len() - 1
    } else {
        return None;
    };
    let body_at = at + MARKER.len();
    Some(LineComment {
        marker_at,
        body_at,
        body: line.get(body_at..)?,
    })
}

/// A word of a waiver and where it is (absolute byte offsets).
struct Token {
    text: String,
    span: Range<usize>,
    /// `key=` part, if any.
    key: Option<(String, Range<usize>)>,
}

fn tokens(base: usize, text: &str) -> Result<Vec<Token>, (Range<usize>, String)> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0usize;
    while let Some(&(start, c)) = chars.get(i) {
        if c.is_whitespace() || c == ',' {
            i += 1;
            continue;
        }
        let mut value = String::new();
        let mut key = None;
        let mut in_quotes = false;
        let mut quote_start = 0usize;
        let mut end = start;
        while let Some(&(at, c)) = chars.get(i) {
            if in_quotes {
                if c == '\\' {
                    if let Some(&(_, next)) = chars.get(i + 1) {
                        value.push(next);
                        i += 2;
                        continue;
                    }
                } else if c == '"' {
                    in_quotes = false;
                    i += 1;
                    end = at + 1;
                    continue;
                }
                value.push(c);
            } else if c.is_whitespace() || (c == ',' && key.is_none()) {
                break;
            } else if c == '"' {
                in_quotes = true;
                quote_start = at;
            } else if c == '=' && key.is_none() {
                key = Some((value.clone(), base + start..base + at));
                value.clear();
            } else {
                value.push(c);
            }
            i += 1;
            end = at + c.len_utf8();
        }
        if in_quotes {
            return Err((
                base + quote_start..base + text.len(),
                "this quote is never closed".into(),
            ));
        }
        out.push(Token {
            text: value,
            span: base + start..base + end,
            key,
        });
    }
    Ok(out)
}

/// Reads a waiver comment's text: the waiver as far as it can be read, and
/// every mistake (an unclosed quote alone, and no waiver, since what
/// follows it cannot be read).
fn parse(file: &Arc<SourceFile>, base: usize, text: &str) -> (Option<Waiver>, Vec<Diag>) {
    let err = |code: Code, msg: String, span: Range<usize>, label: &str, help: &str| {
        Diag::error(code, msg)
            .in_file(file)
            .label(span, label)
            .with_help(help.to_string())
    };
    let lead = text.len() - text.trim_start().len();
    let whole = base + lead..base + text.trim_end().len().max(lead);
    let toks = match tokens(base, text) {
        Ok(t) => t,
        Err((span, why)) => {
            return (
                None,
                vec![err(
                    Code::WaiverSyntax,
                    format!("waiver cannot be read: {why}"),
                    span,
                    "here",
                    "write `proviso:waive <clause> reason=\"…\" [until=YYYY-MM-DD] [owner=…]`",
                )],
            );
        }
    };
    let mut errors = Vec::new();
    let mut w = Waiver {
        clauses: Vec::new(),
        clause_spans: Vec::new(),
        reason: String::new(),
        until: None,
        owner: None,
        origin: Origin::new(file, whole.clone()),
        target: Origin::new(file, whole.clone()),
        target_name: String::new(),
        broken: false,
    };
    let mut reason_seen = false;
    for t in toks {
        let Some((key, key_span)) = t.key else {
            if reason_seen || w.until.is_some() || w.owner.is_some() {
                errors.push(err(
                    Code::WaiverSyntax,
                    format!("`{}` comes after the waiver's settings", t.text),
                    t.span,
                    "clause names go first",
                    "write `proviso:waive <clause>[,<clause>] reason=\"…\"`; quote a reason with spaces",
                ));
                continue;
            }
            w.clauses.push(t.text);
            w.clause_spans.push(t.span);
            continue;
        };
        match key.as_str() {
            "reason" => {
                reason_seen = true;
                w.reason = t.text.trim().to_string();
            }
            "owner" => w.owner = Some(t.text),
            "until" => match Date::parse(&t.text) {
                Ok(d) => w.until = Some(d),
                Err(e) => errors.push(err(
                    Code::WaiverBadDate,
                    format!("`until={}` is not a date: {e}", t.text),
                    t.span.clone(),
                    "not a YYYY-MM-DD date",
                    "write the day the waiver expires as `until=YYYY-MM-DD`: it excuses findings before that day, not on it",
                )),
            },
            other => {
                let help = match closest(other, KEYS) {
                    Some((k, _)) => format!("did you mean `{k}`?"),
                    None => "a waiver takes `reason`, `until` and `owner`".to_string(),
                };
                errors.push(err(
                    Code::WaiverUnknownKey,
                    format!("unknown waiver setting `{other}`"),
                    key_span,
                    "not a waiver setting",
                    &help,
                ));
            }
        }
    }
    if w.clauses.is_empty() {
        errors.push(err(
            Code::WaiverNoClause,
            "waiver names no clause".into(),
            whole.clone(),
            "which clause does this excuse?",
            "write `proviso:waive <clause> reason=\"…\"`",
        ));
    }
    if w.reason.is_empty() {
        errors.push(err(
            Code::WaiverMissingReason,
            "waiver has no reason".into(),
            whole,
            "a waiver must say why",
            "add `reason=\"…\"`: the reason is shown wherever the waiver is listed",
        ));
    }
    (Some(w), errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (Vec<Waiver>, Vec<Diag>) {
        let file = SourceFile::new("main.tf", text);
        let body = hcl_edit::parser::parse_body(text).unwrap();
        find(&file, &body)
    }

    #[test]
    fn a_waiver_above_a_block_binds_to_the_block() {
        let (w, e) = run(
            "# proviso:waive stateless_on_azure reason=\"migrating, see JIRA-12\" until=2026-12-31 owner=legal@example.com\nresource \"aws_x\" \"y\" {\n  a = 1\n}\n",
        );
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(w[0].clauses, ["stateless_on_azure"]);
        assert_eq!(w[0].reason, "migrating, see JIRA-12");
        assert_eq!(w[0].until.unwrap().to_string(), "2026-12-31");
        assert_eq!(w[0].owner.as_deref(), Some("legal@example.com"));
        assert_eq!(w[0].target_name, "resource \"aws_x\" \"y\"");
    }

    #[test]
    fn a_trailing_waiver_binds_to_its_attribute() {
        let (w, e) = run(
            "resource \"a\" \"b\" {\n  location = \"westeurope\" # proviso:waive federal_in_us,stateless_on_azure reason=dr\n}\n",
        );
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(w[0].clauses, ["federal_in_us", "stateless_on_azure"]);
        assert_eq!(w[0].target_name, "attribute `location`");
    }

    #[test]
    fn a_marker_inside_a_string_is_not_a_waiver() {
        let (w, e) = run("description = \"# proviso:waive x reason=y\"\n");
        assert!(w.is_empty() && e.is_empty());
    }

    #[test]
    fn every_mistake_of_a_comment_is_reported() {
        let (w, e) =
            run("# proviso:waive x reson=y until=2026-13-01 ownr=me\nresource \"a\" \"b\" {}\n");
        // Kept, marked broken: its clause names are still checked.
        assert_eq!(w.len(), 1);
        assert!(w[0].broken);
        let codes: Vec<&str> = e.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "proviso::waiver::unknown_key",
                "proviso::waiver::bad_date",
                "proviso::waiver::unknown_key",
                "proviso::waiver::missing_reason"
            ]
        );
        // A detached waiver's own mistakes come with it.
        let (_, e) = run("resource \"a\" \"b\" {}\n# proviso:waive x until=soon\n");
        let codes: Vec<&str> = e.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "proviso::waiver::bad_date",
                "proviso::waiver::missing_reason",
                "proviso::waiver::detached"
            ]
        );
    }

    #[test]
    fn a_bad_date_gets_help_that_agrees_with_the_expiry_rule() {
        let (_, e) = run("# proviso:waive x reason=y until=2026-13-01\nresource \"a\" \"b\" {}\n");
        let help = e[0].help.clone().unwrap_or_default();
        assert!(help.contains("the day the waiver expires"), "{help}");
        assert!(help.contains("before that day, not on it"), "{help}");
    }

    #[test]
    fn mistakes_are_reported_with_their_code() {
        let code = |t: &str| run(t).1[0].code.as_str().to_string();
        assert_eq!(
            code("# proviso:waive x\nresource \"a\" \"b\" {}\n"),
            "proviso::waiver::missing_reason"
        );
        assert_eq!(
            code("# proviso:waive x reason=y until=2026-13-01\nresource \"a\" \"b\" {}\n"),
            "proviso::waiver::bad_date"
        );
        assert_eq!(
            code("# proviso:waive x reson=y\nresource \"a\" \"b\" {}\n"),
            "proviso::waiver::unknown_key"
        );
        assert_eq!(
            code("resource \"a\" \"b\" {}\n# proviso:waive x reason=y\n"),
            "proviso::waiver::detached"
        );
        assert_eq!(
            code("# proviso:waive x reason=\"open\nresource \"a\" \"b\" {}\n"),
            "proviso::waiver::syntax"
        );
    }
}
