//! Small text helpers that several stages share, kept here so that every
//! import points down the pipeline: "did you mean" ([`closest`]), the glob
//! matching of rule sets and `--exclude` ([`glob_match`]), and XML escaping
//! for JUnit and HTML ([`xml_escape`]).

/// Levenshtein distance, for "did you mean".
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// The closest candidate within a distance that scales with the word.
pub fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<(&'a str, usize)> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (c, edit_distance(word, c)))
        .filter(|(_, d)| *d <= limit)
        .min_by_key(|(c, d)| (*d, c.len()))
}

/// Glob matching: `*` is any run of characters (including `/` and `.`), `?`
/// one character; everything else is literal. Linear time, no allocation.
///
/// The text is walked by bytes, but `?` and a `*`'s retries step over
/// whole UTF-8 characters, so `?` matches `é` as SQL's `_` does (the
/// compiled statements of `proviso compile` write globs as `LIKE`).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    // The length of the UTF-8 character that starts with byte `b`.
    let char_len = |b: u8| match b {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    };
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&tc) = t.get(ti) {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(b'?') => {
                pi += 1;
                ti += char_len(tc);
            }
            Some(&c) if c == tc => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    let next = st + t.get(st).map_or(1, |&b| char_len(b));
                    pi = sp + 1;
                    ti = next;
                    star = Some((sp, next));
                }
                None => return false,
            },
        }
    }
    if ti > t.len() {
        return false;
    }
    while p.get(pi) == Some(&b'*') {
        pi += 1;
    }
    pi == p.len()
}

/// Escapes text for XML attributes and content.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        // `?` is one character, as SQL's `_` (the compiled statements).
        assert!(glob_match("caf?", "café"));
        assert!(!glob_match("caf??", "café"));
        assert!(glob_match("*?é", "aéé"));
        assert!(glob_match("?*", "日本"));
        assert!(!glob_match("???", "日本"));
        assert!(glob_match("*.openai.azure.com", "east.openai.azure.com"));
        assert!(!glob_match("*.openai.azure.com", "openai.azure.com.evil"));
        assert!(glob_match("/v1/images/*", "/v1/images/generations"));
        assert!(glob_match("/v1/assistants*", "/v1/assistants"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*", ""));
    }
}
