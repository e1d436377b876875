//! `.tf.json`: Terraform's JSON configuration syntax, read as HCL.
//!
//! The file is translated to the equivalent native-syntax text (top-level
//! keys become blocks, nested keys labels, strings stay templates, a string
//! that is exactly `"${expr}"` becomes the expression itself, as Terraform
//! does) and that text is parsed by hcl-edit, so one evaluator serves both
//! syntaxes. The design choice a reader must know: every piece of generated
//! text remembers where it came from in the JSON, and [`OffsetMap`] turns
//! the parse tree's byte spans back into JSON offsets (see
//! [`crate::source::SourceFile::offsets`]), so that findings point at the
//! `.tf.json` file's own lines and columns.
//!
//! Without provider schemas, a JSON object inside a block cannot be told
//! apart from a nested block; it is read as a map attribute (the same value
//! for rules), except for `default_tags`, which the scanner needs as a block.

use crate::source::OffsetMap;
use std::ops::Range;

/// Nested block types the scanner looks up as blocks.
const NESTED_BLOCKS: [&str; 1] = ["default_tags"];

/// Top-level block types and their number of labels.
fn labels_of(block_type: &str) -> Option<usize> {
    Some(match block_type {
        "resource" | "data" => 2,
        "variable" | "output" | "module" | "provider" => 1,
        "locals" | "terraform" => 0,
        _ => return None,
    })
}

/// A JSON value with its byte span.
#[derive(Debug)]
struct Node {
    span: Range<usize>,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// A number, `true`, `false` or `null`, as written.
    Literal,
    Str(String),
    Array(Vec<Node>),
    Object(Vec<(Node, Node)>),
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
}

/// Why a `.tf.json` file cannot be read, and where.
#[derive(Debug)]
pub struct JsonError {
    pub offset: usize,
    pub message: String,
}

type Res<T> = Result<T, JsonError>;

impl Parser<'_> {
    fn err<T>(&self, message: impl Into<String>) -> Res<T> {
        Err(JsonError {
            offset: self.pos.min(self.text.len()),
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Res<Node> {
        if depth > 128 {
            return self.err("nesting is too deep");
        }
        self.ws();
        let start = self.pos;
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws();
                        if self.peek() != Some(b'"') {
                            return self.err("expected a quoted key");
                        }
                        let key = self.string()?;
                        self.ws();
                        if self.peek() != Some(b':') {
                            return self.err("expected `:` after the key");
                        }
                        self.pos += 1;
                        let v = self.value(depth + 1)?;
                        items.push((key, v));
                        self.ws();
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b'}') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return self.err("expected `,` or `}`"),
                        }
                    }
                }
                Ok(Node {
                    span: start..self.pos,
                    kind: Kind::Object(items),
                })
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return self.err("expected `,` or `]`"),
                        }
                    }
                }
                Ok(Node {
                    span: start..self.pos,
                    kind: Kind::Array(items),
                })
            }
            Some(b'"') => self.string(),
            Some(b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => {
                while matches!(
                    self.peek(),
                    Some(b'a'..=b'z' | b'0'..=b'9' | b'-' | b'+' | b'.' | b'E')
                ) {
                    self.pos += 1;
                }
                // INVARIANT: `start` is at an ASCII byte and only ASCII
                // bytes were passed, so both ends are character boundaries.
                let word = &self.text[start..self.pos];
                let ok = matches!(word, "true" | "false" | "null")
                    || serde_json::from_str::<serde_json::Number>(word).is_ok();
                if !ok {
                    self.pos = start;
                    return self.err(format!("`{word}` is not a JSON value"));
                }
                Ok(Node {
                    span: start..self.pos,
                    kind: Kind::Literal,
                })
            }
            _ => self.err("expected a JSON value"),
        }
    }

    fn string(&mut self) -> Res<Node> {
        let start = self.pos;
        self.pos += 1;
        let bytes = self.text.as_bytes();
        loop {
            match bytes.get(self.pos) {
                None | Some(b'\n') => {
                    self.pos = start;
                    return self.err("this string is never closed");
                }
                Some(b'\\') => self.pos += 2,
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => self.pos += 1,
            }
        }
        // INVARIANT: the string starts at its opening `"` and `pos` is just
        // past its closing `"` (the loop ends there or returns), both
        // character boundaries in the text.
        let raw = &self.text[start..self.pos];
        match serde_json::from_str::<String>(raw) {
            Ok(s) => Ok(Node {
                span: start..self.pos,
                kind: Kind::Str(s),
            }),
            Err(e) => {
                self.pos = start;
                self.err(format!("bad string: {e}"))
            }
        }
    }
}

struct Emitter<'t> {
    json: &'t str,
    out: String,
    map: OffsetMap,
}

impl<'t> Emitter<'t> {
    /// Generated text standing for the JSON at `from`.
    fn put(&mut self, text: &str, from: Range<usize>) {
        let start = self.out.len();
        self.out.push_str(text);
        self.map.segments.push((start..self.out.len(), from));
    }

    /// The JSON text of a node.
    // INVARIANT: every span is one the parser gave a node of this same text
    // (from an ASCII byte to just past one), or the text between `"${` and
    // `}"` of a string node without escapes: within the text, on boundaries.
    fn text_of(&self, span: Range<usize>) -> &'t str {
        &self.json[span]
    }

    /// JSON text copied as it is.
    fn copy(&mut self, span: Range<usize>) {
        let text = self.text_of(span.clone());
        let start = self.out.len();
        self.out.push_str(text);
        self.map.segments.push((start..self.out.len(), span));
    }

    fn blocks(&mut self, root: &Node) -> Res<()> {
        let Kind::Object(items) = &root.kind else {
            return Err(JsonError {
                offset: root.span.start,
                message: "a `.tf.json` file must hold one JSON object".into(),
            });
        };
        for (key, value) in items {
            let Kind::Str(block_type) = &key.kind else {
                continue;
            };
            let Some(n) = labels_of(block_type) else {
                // Comments (`//`) and block types the scanner does not read.
                continue;
            };
            self.labelled(block_type, key.span.clone(), &mut Vec::new(), n, value)?;
        }
        Ok(())
    }

    /// `type "label" … { body }`, for each object at the label depth.
    fn labelled(
        &mut self,
        block_type: &str,
        type_span: Range<usize>,
        labels: &mut Vec<Range<usize>>,
        remaining: usize,
        value: &Node,
    ) -> Res<()> {
        if let Kind::Array(items) = &value.kind {
            for item in items {
                self.labelled(block_type, type_span.clone(), labels, remaining, item)?;
            }
            return Ok(());
        }
        let Kind::Object(items) = &value.kind else {
            return Err(JsonError {
                offset: value.span.start,
                message: format!("`{block_type}` needs a JSON object here"),
            });
        };
        if remaining == 0 {
            // The block's header is its last label (`"records"`): labels sit
            // on different lines in JSON, so the span from the type to the
            // last label would cover the whole block.
            let anchor = labels
                .last()
                .map_or(type_span.clone(), |l| l.start..l.start);
            self.put(block_type, anchor);
            for l in labels.iter() {
                self.put(" ", l.start..l.start);
                self.label(l.clone());
            }
            self.put(" {\n", value.span.start..value.span.start + 1);
            self.body(items)?;
            self.put("}\n", value.span.end.saturating_sub(1)..value.span.end);
            return Ok(());
        }
        for (key, inner) in items {
            if matches!(&key.kind, Kind::Str(k) if k == "//") {
                continue;
            }
            labels.push(key.span.clone());
            self.labelled(block_type, type_span.clone(), labels, remaining - 1, inner)?;
            labels.pop();
        }
        Ok(())
    }

    /// A block label: the JSON key, re-quoted as an HCL string.
    fn label(&mut self, span: Range<usize>) {
        self.string_token(span);
    }

    fn body(&mut self, items: &[(Node, Node)]) -> Res<()> {
        for (key, value) in items {
            let Kind::Str(name) = &key.kind else {
                continue;
            };
            if name == "//" {
                continue;
            }
            if !is_identifier(name) {
                return Err(JsonError {
                    offset: key.span.start,
                    message: format!("`{name}` is not a valid argument name"),
                });
            }
            if NESTED_BLOCKS.contains(&name.as_str()) {
                let bodies: Vec<&Node> = match &value.kind {
                    Kind::Array(items) => items.iter().collect(),
                    _ => vec![value],
                };
                for b in bodies {
                    let Kind::Object(inner) = &b.kind else {
                        continue;
                    };
                    self.put(name, key.span.clone());
                    self.put(" {\n", b.span.start..b.span.start + 1);
                    self.body(inner)?;
                    self.put("}\n", b.span.end.saturating_sub(1)..b.span.end);
                }
                continue;
            }
            self.put(name, key.span.clone());
            self.put(" = ", key.span.end..value.span.start);
            self.expr(value);
            self.put("\n", value.span.end..value.span.end);
        }
        Ok(())
    }

    fn expr(&mut self, node: &Node) {
        match &node.kind {
            Kind::Literal => self.copy(node.span.clone()),
            Kind::Str(s) => {
                // `"${expr}"` alone is the expression's own value.
                let raw = self.text_of(node.span.clone());
                if let Some(inner) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}'))
                    && !inner.contains("${")
                    && !inner.contains("%{")
                    && !raw.contains('\\')
                {
                    let at = node.span.start + 3;
                    self.put("(", node.span.start..at);
                    self.copy(at..at + inner.len());
                    self.put(")", node.span.end.saturating_sub(2)..node.span.end);
                } else {
                    self.string_token(node.span.clone());
                }
            }
            Kind::Array(items) => {
                self.put("[", node.span.start..node.span.start + 1);
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.put(", ", item.span.start..item.span.start);
                    }
                    self.expr(item);
                }
                self.put("]", node.span.end.saturating_sub(1)..node.span.end);
            }
            Kind::Object(items) => {
                self.put("{\n", node.span.start..node.span.start + 1);
                for (key, value) in items {
                    if matches!(&key.kind, Kind::Str(k) if k == "//") {
                        continue;
                    }
                    self.string_token(key.span.clone());
                    self.put(" = ", key.span.end..value.span.start);
                    self.expr(value);
                    self.put("\n", value.span.end..value.span.end);
                }
                self.put("}", node.span.end.saturating_sub(1)..node.span.end);
            }
        }
    }

    /// A JSON string token as an HCL quoted template: copied when the two
    /// syntaxes agree on its escapes, re-encoded otherwise.
    fn string_token(&mut self, span: Range<usize>) {
        let raw = self.text_of(span.clone());
        let compatible = !raw.contains("\\/") && !raw.contains("\\b") && !raw.contains("\\f");
        if compatible {
            self.copy(span);
        } else {
            let decoded: String = serde_json::from_str(raw).unwrap_or_default();
            let encoded = serde_json::to_string(&decoded.replace(['\u{8}', '\u{c}'], " "))
                .unwrap_or_else(|_| "\"\"".into());
            self.put(&encoded, span);
        }
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Translates a `.tf.json` file to native syntax, with the offset map.
pub fn to_hcl(json: &str) -> Result<(String, OffsetMap), JsonError> {
    let mut p = Parser { text: json, pos: 0 };
    let root = p.value(0)?;
    p.ws();
    if p.pos < json.len() {
        return p.err("unexpected text after the JSON object");
    }
    let mut e = Emitter {
        json,
        out: String::new(),
        map: OffsetMap::default(),
    };
    e.blocks(&root)?;
    Ok((e.out, e.map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_labels_and_templates_become_native_syntax() {
        let json = r#"{
  "//": "generated",
  "provider": { "aws": [ { "region": "us-east-1" }, { "alias": "west", "region": "us-west-2", "default_tags": { "tags": { "team": "ml" } } } ] },
  "resource": { "aws_ecs_service": { "api": { "count": "${var.n}", "name": "api-${var.env}", "tags": { "api-mode": "stateless" } } } }
}"#;
        let (hcl, map) = to_hcl(json).unwrap();
        let body = hcl_edit::parser::parse_body(&hcl).unwrap_or_else(|e| panic!("{e}\n{hcl}"));
        assert_eq!(body.get_blocks("provider").count(), 2);
        let west = body.get_blocks("provider").nth(1).unwrap();
        assert_eq!(west.body.get_blocks("default_tags").count(), 1);
        let res = body.get_blocks("resource").next().unwrap();
        assert_eq!(res.labels.len(), 2);
        // `"${var.n}"` is the expression; `"api-${var.env}"` stays a template.
        assert!(matches!(
            res.body.get_attribute("count").unwrap().value,
            hcl_edit::expr::Expression::Parenthesis(_)
        ));
        // Spans map back to the JSON text.
        use hcl_edit::Span as _;
        let name = res.body.get_attribute("name").unwrap();
        let span = map.map_span(name.value.span().unwrap());
        assert_eq!(&json[span], "\"api-${var.env}\"");
        let label = map.map_span(res.labels[0].span().unwrap());
        assert_eq!(&json[label], "\"aws_ecs_service\"");
    }

    #[test]
    fn bad_json_is_an_error_with_its_offset() {
        let e = to_hcl("{\n  \"resource\": {\n    \"a\" 1\n").unwrap_err();
        assert_eq!(e.offset, 26, "at the `1` where `:` belongs");
    }
}
