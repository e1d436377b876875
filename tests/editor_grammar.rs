//! The editor grammar stays in step with the language: every keyword of
//! `grammar/proviso.pest` is highlighted by the TextMate grammar.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

#[test]
fn every_keyword_of_the_grammar_is_in_the_textmate_grammar() {
    let pest = std::fs::read_to_string("grammar/proviso.pest").unwrap();
    let keyword = regex::Regex::new(r#"(?m)^kw_[a-z]+\s*=\s*@\{\s*"([a-z]+)""#).unwrap();
    let keywords: Vec<String> = keyword
        .captures_iter(&pest)
        .map(|c| c[1].to_string())
        .collect();
    assert!(keywords.len() > 30, "found only {keywords:?}");

    let text = std::fs::read_to_string("editors/vscode/syntaxes/proviso.tmLanguage.json").unwrap();
    let grammar: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut patterns = Vec::new();
    collect(&grammar, &mut patterns);
    // Patterns that match any word (field names) say nothing about keywords.
    patterns.retain(|p| regex::Regex::new(p).is_ok_and(|re| !re.is_match(" zzqq ")));
    for kw in &keywords {
        let matched = patterns
            .iter()
            .any(|p| regex::Regex::new(p).is_ok_and(|re| re.is_match(&format!(" {kw} "))));
        assert!(
            matched,
            "keyword `{kw}` is not matched by any pattern of the editor grammar"
        );
    }
}

/// Every `match`/`begin` regex in the grammar.
fn collect(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                if (k == "match" || k == "begin")
                    && let Some(s) = v.as_str()
                {
                    // TextMate's Oniguruma look-behind is not in the regex crate.
                    out.push(
                        s.replace("(?<=~)", "")
                            .replace("(?<![=!<>])", "")
                            .replace("(?!=)", "")
                            .replace("(?!/)", ""),
                    );
                }
                collect(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
        _ => {}
    }
}
