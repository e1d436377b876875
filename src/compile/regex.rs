//! A rule's `~ /regex/` rewritten so that every SQL engine reads it as
//! proviso's `regex` crate does.
//!
//! The engines' regex libraries disagree with the `regex` crate, and with
//! each other, on the constructs rule writers use without thinking: `\d`,
//! `\w` and `\s` are ASCII in RE2 (DuckDB) and Java (Spark) but Unicode
//! in Rust; `.` does not match `\r` in Java; `$` also matches before a
//! final newline in Java; `(?i)` is ASCII-only in Spark. So the pattern is
//! not passed through: it is parsed with `regex-syntax` (the `regex`
//! crate's own parser) into its high-level form, where every class is a
//! list of code-point ranges and case folding is already expanded, and
//! written back with only constructs all five read the same way: ASCII
//! punctuation as `\xHH`, other characters as themselves, classes as
//! ranges of those, groups `(?:…)`,
//! alternation, counted repetition (greedy or lazy), `^` for the start of
//! the text and `\z` for its end. A construct with no such spelling (a
//! word boundary, a multi-line anchor) is refused with its name, never
//! passed through to mean something else.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// A pattern in the shared syntax, or the name of the construct that has
/// none.
pub fn portable(pattern: &str) -> Result<String, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .map_err(|e| format!("the pattern does not parse: {e}"))?;
    let mut out = String::new();
    write(&hir, &mut out, 0)?;
    Ok(out)
}

/// Nesting beyond this is refused (the rule file's regex was already
/// compiled by the `regex` crate, whose own nest limit is 250).
const MAX_DEPTH: usize = 256;

fn write(hir: &Hir, out: &mut String, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("the pattern nests too deeply".into());
    }
    match hir.kind() {
        HirKind::Empty => out.push_str("(?:)"),
        HirKind::Literal(lit) => {
            let text = std::str::from_utf8(&lit.0)
                .map_err(|_| "a byte-oriented literal (`(?-u)`)".to_string())?;
            for c in text.chars() {
                push_char(out, c);
            }
        }
        HirKind::Class(Class::Unicode(class)) => {
            let ranges = class.ranges();
            if ranges.is_empty() {
                // A class that matches nothing.
                out.push_str("[^\\x00-\u{10FFFF}]");
                return Ok(());
            }
            out.push('[');
            for r in ranges {
                push_char(out, r.start());
                if r.end() != r.start() {
                    out.push('-');
                    push_char(out, r.end());
                }
            }
            out.push(']');
        }
        HirKind::Class(Class::Bytes(_)) => {
            return Err("a byte class (`(?-u)`)".into());
        }
        HirKind::Look(look) => match look {
            Look::Start => out.push('^'),
            Look::End => out.push_str("\\z"),
            other => {
                return Err(match other {
                    Look::StartLF | Look::EndLF | Look::StartCRLF | Look::EndCRLF => {
                        "a multi-line anchor (`(?m)^` or `(?m)$`)"
                    }
                    _ => "a word boundary (`\\b`, `\\B`, `\\<`, `\\>`)",
                }
                .into());
            }
        },
        HirKind::Repetition(rep) => {
            out.push_str("(?:");
            write(&rep.sub, out, depth + 1)?;
            out.push(')');
            match (rep.min, rep.max) {
                (0, None) => out.push('*'),
                (1, None) => out.push('+'),
                (0, Some(1)) => out.push('?'),
                (m, None) => out.push_str(&format!("{{{m},}}")),
                (m, Some(n)) if m == n => out.push_str(&format!("{{{m}}}")),
                (m, Some(n)) => out.push_str(&format!("{{{m},{n}}}")),
            }
            if !rep.greedy {
                out.push('?');
            }
        }
        HirKind::Capture(cap) => {
            out.push_str("(?:");
            write(&cap.sub, out, depth + 1)?;
            out.push(')');
        }
        HirKind::Concat(items) => {
            for item in items {
                // Alternations inside a concatenation keep their group.
                let grouped = matches!(item.kind(), HirKind::Alternation(_));
                if grouped {
                    out.push_str("(?:");
                }
                write(item, out, depth + 1)?;
                if grouped {
                    out.push(')');
                }
            }
        }
        HirKind::Alternation(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                out.push_str("(?:");
                write(item, out, depth + 1)?;
                out.push(')');
            }
        }
    }
    Ok(())
}

/// A code point as every dialect reads it: ASCII letters and digits as
/// they are, other ASCII as `\xHH`, the rest as the character itself
/// (Trino's regex library reads no `\x{…}`; no dialect gives a
/// non-ASCII character a special meaning).
fn push_char(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || !c.is_ascii() {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{:02X}", u32::from(c)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rewritten pattern means, to the `regex` crate, what the
    /// original does, on texts that tell the risky constructs apart.
    #[test]
    fn rewritten_patterns_match_what_the_originals_match() {
        let texts = [
            "",
            "abc",
            "ABC",
            "abc\n",
            "a\rb",
            "a\nb",
            "١٢٣",
            "x9",
            "é",
            "É",
            "a b",
            "a\u{2028}b",
            "/v1/chat/completions",
            "/V1/CHAT",
            "gpt-5.5",
            "o5-mini",
            "ſ",
            "K",
        ];
        for p in [
            r"^abc$",
            r"\d+",
            r"(?i)abc",
            r"a.b",
            r"(?s)a.b",
            r"\w+",
            r"\s",
            r"^/v1/(chat|images)/",
            r"gpt-[0-9]+\.[0-9]+",
            r"a{2,3}?",
            r"[^a-z]",
            r"(?i)é",
            r"",
            r"(a|)",
            r"[a-c&&b-d]",
            r"\pL",
            r"x*?",
        ] {
            let original = regex::Regex::new(p).unwrap();
            let rewritten = portable(p).unwrap();
            let again = regex::Regex::new(&rewritten).unwrap();
            for t in texts {
                assert_eq!(
                    original.is_match(t),
                    again.is_match(t),
                    "{p:?} rewritten {rewritten:?} on {t:?}"
                );
            }
        }
    }

    #[test]
    fn constructs_without_a_shared_meaning_are_named() {
        assert!(portable(r"\bword\b").unwrap_err().contains("word boundary"));
        assert!(portable(r"(?m)^a").unwrap_err().contains("multi-line"));
    }
}
