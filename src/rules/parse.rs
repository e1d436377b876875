//! Step one of reading a rule file: text to a pest parse tree.
//!
//! pest stops at the first syntax error, so this step reports one error per
//! file; everything after it (lowering, checking) collects all errors. The
//! "expected …" list is rewritten with readable names, and a few positions
//! get targeted help (a `clause` outside `terms`, a `cite` without its
//! phrase).
//!
//! Nesting is limited to [`MAX_NESTING`] levels, checked by a cheap scan of
//! the text *before* pest runs: pest, lowering, checking and evaluation all
//! recurse once (or a few times) per level, so a file of 100,000 `not`s or
//! 2,000 parentheses would otherwise overflow the stack of whichever pass
//! is deepest. The scan is iterative and linear, and it over-counts rather
//! than under-counts (a `not` followed by a bracket counts twice).

use crate::diag::{Code, Diag};
use crate::source::SourceFile;
use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};
use std::sync::Arc;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/proviso.pest"]
pub struct ProvisoParser;

pub type Pair<'a> = pest::iterators::Pair<'a, Rule>;

/// How many levels brackets (`(`, `{`, `[`) and stacked `not`s may nest in
/// a rule file, counted from the top level: a clause's block and its
/// `example`'s `given` are levels too. Far more than any real rule needs
/// (the bundled one reaches 7), and shallow enough that every recursive
/// pass stays well inside a thread's stack.
pub const MAX_NESTING: usize = 256;

/// Parses a whole rule file into its top-level pair (`Rule::file`).
pub fn parse_file(file: &Arc<SourceFile>) -> Result<Pair<'_>, Diag> {
    if let Some(at) = too_deep(&file.text) {
        return Err(Diag::error(
            Code::ParseTooDeep,
            format!("this nests more than {MAX_NESTING} levels deep"),
        )
        .in_file(file)
        .label(at, format!("level {}", MAX_NESTING + 1))
        .with_help(
            "name parts of the condition with `define` and combine the names, instead of nesting brackets or `not`s this deep",
        ));
    }
    let mut pairs =
        ProvisoParser::parse(Rule::file, &file.text).map_err(|e| syntax_error(file, e))?;
    pairs
        .next()
        .ok_or_else(|| Diag::error(Code::ParseSyntax, "empty parse").in_file(file))
}

/// The span of the first bracket or `not` that nests deeper than
/// [`MAX_NESTING`], if any. Strings, comments and `/regex/`s are skipped as
/// the grammar reads them; a run of `not`s (not `not in`) counts one level
/// each, until the operand they apply to.
pub fn too_deep(text: &str) -> Option<std::ops::Range<usize>> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied();
    // The depth at which each open bracket's contents start.
    let mut frames: Vec<usize> = Vec::new();
    let mut nots = 0usize;
    let mut i = 0usize;
    while let Some(c) = at(i) {
        let base = frames.last().copied().unwrap_or(0);
        if let Some((last, value)) = skip_unbracketed(b, i) {
            // A string or `/regex/` is an operand: the `not`s before it end.
            if value {
                nots = 0;
            }
            i = last + 1;
            continue;
        }
        match c {
            b'(' | b'{' | b'[' => {
                let depth = base + nots + 1;
                if depth > MAX_NESTING {
                    return Some(i..i + 1);
                }
                frames.push(depth);
                nots = 0;
            }
            b')' | b'}' | b']' => {
                frames.pop();
                nots = 0;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let start = i;
                while at(i).is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
                    i += 1;
                }
                if b.get(start..i) == Some(b"not") && !next_word_is(b, i, b"in") {
                    nots += 1;
                    if base + nots > MAX_NESTING {
                        return Some(start..i);
                    }
                } else {
                    nots = 0;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Where what starts at `i` ends, when it is read whole by the scans of
/// the text that run before pest ([`too_deep`], and the search for clauses
/// of [`super::reparse`]), as the grammar reads it: a string, a comment,
/// or `~` and the `/regex/` after it, whose brackets and quotes do not
/// count. The index of its last byte, and whether it is a value (a string
/// or a `~` match) rather than a comment; `None` when none starts there.
pub fn skip_unbracketed(b: &[u8], mut i: usize) -> Option<(usize, bool)> {
    let at = |i: usize| b.get(i).copied();
    match at(i)? {
        b'"' => Some((closing(b, i + 1, b'"'), true)),
        b'/' if at(i + 1) == Some(b'/') => {
            let rest = b.get(i..)?;
            Some((
                memchr::memchr(b'\n', rest).map_or(b.len(), |n| i + n),
                false,
            ))
        }
        b'/' if at(i + 1) == Some(b'*') => {
            let rest = b.get(i + 2..)?;
            Some((
                memchr::memmem::find(rest, b"*/").map_or(b.len(), |n| i + 2 + n + 1),
                false,
            ))
        }
        b'~' => {
            i += 1;
            while at(i).is_some_and(|c| c.is_ascii_whitespace()) {
                i += 1;
            }
            if at(i) == Some(b'/') && at(i + 1) != Some(b'/') {
                i = closing(b, i + 1, b'/');
            }
            Some((i, true))
        }
        _ => None,
    }
}

/// From just after an opening `"` or `/`: the index of the byte that
/// closes it (or of the line's end, where a string or regex must close),
/// escapes skipped.
fn closing(b: &[u8], mut i: usize, close: u8) -> usize {
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'\n' => break,
            c if c == close => break,
            _ => i += 1,
        }
    }
    i
}

/// Whether the next word after `i` (skipping blanks) is `word`.
fn next_word_is(b: &[u8], mut i: usize, word: &[u8]) -> bool {
    while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    b.get(i..i + word.len()) == Some(word)
        && !b
            .get(i + word.len())
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// The name a grammar rule has in "expected …" lists.
pub fn readable(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::agreement | Rule::kw_agreement => "`agreement`",
        Rule::source | Rule::kw_source => "`source`",
        Rule::define | Rule::kw_define => "`define`",
        Rule::field_decl | Rule::kw_field => "`field`",
        Rule::terms | Rule::kw_terms => "`terms`",
        Rule::kw_dated => "`dated`",
        Rule::effective | Rule::kw_effective => "`effective`",
        Rule::until | Rule::kw_until => "`until`",
        Rule::supersedes | Rule::kw_supersedes => "`supersedes`",
        Rule::clause | Rule::kw_clause => "`clause`",
        Rule::exception | Rule::kw_exception => "`exception`",
        Rule::cite | Rule::kw_cite => "`cite`",
        Rule::severity | Rule::kw_severity => "`severity`",
        Rule::applies | Rule::kw_applies => "`applies to`",
        Rule::kw_to => "`to`",
        Rule::require | Rule::kw_require => "`require`",
        Rule::forbid | Rule::kw_forbid => "`forbid`",
        Rule::manual | Rule::kw_manual => "`manual`",
        Rule::except | Rule::kw_except => "`except`",
        Rule::unless | Rule::kw_unless => "`unless`",
        Rule::message | Rule::kw_message => "`message`",
        Rule::when | Rule::kw_when => "`when`",
        Rule::example | Rule::kw_example => "`example`",
        Rule::kw_on => "`on`",
        Rule::given | Rule::kw_given => "`given`",
        Rule::expect | Rule::kw_expect => "`expect`",
        Rule::exp_violation | Rule::kw_violation => "`violation`",
        Rule::exp_no_violation | Rule::kw_no => "`no violation`",
        Rule::exp_not_in_force | Rule::kw_force => "`not in force`",
        Rule::exp_unresolved | Rule::kw_unresolved => "`unresolved`",
        Rule::unknown_lit | Rule::kw_unknown => "`unknown`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not | Rule::not_in => "`not`",
        Rule::kw_in => "`in`",
        Rule::kw_matches => "`matches`",
        Rule::exists | Rule::kw_exists => "`exists`",
        Rule::kw_true | Rule::kw_false | Rule::boolean => "`true` or `false`",
        Rule::ident => "a name",
        Rule::field_name => "a field name",
        Rule::string | Rule::string_inner => "a quoted string",
        Rule::date_lit | Rule::bad_date | Rule::quoted_date => "a date (YYYY-MM-DD)",
        Rule::number => "a number",
        Rule::percent => "a percentage",
        Rule::size | Rule::size_unit => "a size",
        Rule::cidr4 | Rule::cidr6 => "an IP network",
        Rule::regex => "a `/regex/`",
        Rule::path => "a field",
        Rule::set => "a set `{ … }`",
        Rule::paren => "`(`",
        Rule::map_lit => "`{`",
        Rule::map_entry => "`name: value`",
        Rule::list_lit => "`[`",
        Rule::cmp_op => "a comparison (`==`, `!=`, `<`, …)",
        Rule::bad_eq => "`==`",
        Rule::tilde => "`~`",
        Rule::expr | Rule::or_expr | Rule::and_expr | Rule::not_expr | Rule::comparison => {
            "an expression"
        }
        Rule::rbrace => "`}`",
        Rule::param | Rule::kw_param => "`param`",
        Rule::param_type => "a parameter type (`money`, `number`, `text` or `date`)",
        Rule::field_type | Rule::field_decimal | Rule::kw_decimal => "`decimal`",
        Rule::field_one_of | Rule::kw_one => "`one of { … }`",
        Rule::per | Rule::kw_per => "`per`",
        Rule::over | Rule::kw_over => "`over`",
        Rule::figure | Rule::kw_let => "`let`",
        Rule::arith | Rule::arith_term | Rule::arith_paren => "a figure",
        Rule::add_op => "`+` or `-`",
        Rule::mul_op => "`*`",
        Rule::percent_of | Rule::kw_of => "`of`",
        Rule::running | Rule::kw_running | Rule::kw_total => "`running total of`",
        Rule::aggregation
        | Rule::agg_sum
        | Rule::agg_distinct
        | Rule::agg_count
        | Rule::agg_min
        | Rule::agg_max
        | Rule::agg_first
        | Rule::kw_sum
        | Rule::kw_count
        | Rule::kw_min
        | Rule::kw_max
        | Rule::kw_first => "an aggregation (`sum of`, `count`, `min of`, `max of`, `first`)",
        Rule::kw_distinct => "`distinct`",
        Rule::agg_all | Rule::kw_all | Rule::kw_records => "`in all records`",
        Rule::agg_where | Rule::kw_where => "`where`",
        Rule::with_param | Rule::kw_with => "`with`",
        Rule::kw_for => "`for`",
        Rule::field_required | Rule::kw_required => "`required where …`",
        Rule::cite_section | Rule::section_sign | Rule::kw_section => {
            "a section (`§2.1`, `section \"2.1\"`)"
        }
        Rule::section_ref => "a section number",
        Rule::phrase | Rule::kw_phrase => "`phrase`",
        Rule::evidence | Rule::kw_evidence => "`evidence`",
        _ => "input",
    }
}

fn join_or(mut items: Vec<&str>) -> String {
    items.sort_unstable();
    items.dedup();
    match items.len() {
        0 => String::new(),
        1 => items.concat(),
        n => {
            let (head, last) = items.split_at(n - 1);
            format!("{} or {}", head.join(", "), last.concat())
        }
    }
}

pub(super) fn syntax_error(file: &Arc<SourceFile>, err: pest::error::Error<Rule>) -> Diag {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let text = &file.text;
    // Label the word at the error position, or one character.
    let end = text
        .get(pos..)
        .map(|rest| {
            let word = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let first = rest.chars().next().map(char::len_utf8).unwrap_or(0);
            pos + word.max(first)
        })
        .unwrap_or(pos);
    // INVARIANT: `pos` is pest's position in `text` (a char boundary at
    // most `text.len()`), and `end` is `pos` plus the length of a prefix of
    // `text[pos..]` that ends on a char boundary.
    let found = &text[pos..end];
    let (expected, positives) = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => (
            join_or(positives.iter().map(|r| readable(*r)).collect()),
            positives.clone(),
        ),
        ErrorVariant::CustomError { message } => (message.clone(), Vec::new()),
    };
    let found_text = if found.is_empty() {
        "end of file".to_string()
    } else {
        format!("`{found}`")
    };
    let message = if expected.is_empty() {
        format!("unexpected {found_text}")
    } else {
        format!("expected {expected}, found {found_text}")
    };
    let top_level = [
        Rule::agreement,
        Rule::kw_agreement,
        Rule::terms,
        Rule::kw_terms,
    ]
    .iter()
    .any(|r| positives.contains(r));
    let help = if top_level && (found == "clause" || found == "exception") {
        "clauses and exceptions go inside a `terms <id> effective <date> { … }` block".to_string()
    } else if positives.contains(&Rule::string) && before_word(text, pos) == Some("cite") {
        "a citation names its source and quotes a short phrase: `cite <source> \"…\"`".to_string()
    } else if positives.contains(&Rule::rbrace)
        && (found.is_empty() || found == "clause" || found == "exception" || found == "terms")
    {
        "the block before this point is missing its closing `}`".to_string()
    } else if found.is_empty() {
        "the file ends in the middle of a statement".to_string()
    } else {
        "see the rule language reference in the README".to_string()
    };
    Diag::error(Code::ParseSyntax, message)
        .in_file(file)
        .label(pos..end, "here")
        .with_help(help)
}

/// The word before `pos` (skipping blanks and one intervening identifier).
fn before_word(text: &str, pos: usize) -> Option<&str> {
    let before = text.get(..pos)?.trim_end();
    let mut words = before
        .rsplit(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty());
    let _source_name = words.next()?;
    words.next()
}

/// The byte range of a pair without the white space and comments that pest
/// includes after it when an optional part that follows did not match.
pub fn content_span(pair: &Pair<'_>) -> std::ops::Range<usize> {
    pair.as_span().start()..content_end(pair)
}

fn content_end(pair: &Pair<'_>) -> usize {
    let span = pair.as_span();
    let trimmed = span.start() + pair.as_str().trim_end().len();
    let Some(last) = pair.clone().into_inner().last() else {
        return trimmed;
    };
    let gap = span
        .as_str()
        .get(last.as_span().end() - span.start()..)
        .unwrap_or("");
    if only_blank_and_comments(gap) {
        content_end(&last).max(last.as_span().start())
    } else {
        trimmed
    }
}

fn only_blank_and_comments(mut s: &str) -> bool {
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return true;
        }
        if let Some(rest) = s.strip_prefix("//") {
            s = rest.find('\n').and_then(|i| rest.get(i..)).unwrap_or("");
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest
                .find("*/")
                .and_then(|i| rest.get(i + 2..))
                .unwrap_or("");
        } else {
            return false;
        }
    }
}
