//! A JSON document written in order whose long arrays are built one element
//! at a time while they are written, so a report of many findings never
//! holds every finding as a `serde_json::Value` at once.
//!
//! The JSON and SARIF reports of `proviso check` are nested objects with one
//! or two arrays that grow with the findings (a `serde_json::Value` tree of
//! 3,674 findings took 37 MiB, more than the scan itself). A [`Streamed`]
//! object keeps the small parts as values and the long arrays as functions
//! that yield their elements; serializing it with `serde_json`'s pretty
//! printer gives byte for byte what the whole tree would have.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value as J;
use std::cell::RefCell;

/// An element producer: called once, when its array is written.
type Elements<'a> = RefCell<Option<Box<dyn Iterator<Item = J> + 'a>>>;

/// One member's value.
pub enum Part<'a> {
    /// An ordinary value, built beforehand.
    Value(J),
    /// An array whose elements are produced while it is written.
    Lazy(Elements<'a>),
    /// A nested object with streamed members of its own.
    Object(Streamed<'a>),
    /// An array of parts (SARIF's `runs`, one run).
    Array(Vec<Part<'a>>),
}

impl<'a> Part<'a> {
    /// An array of `elements`, each built when it is written.
    pub fn lazy(elements: impl Iterator<Item = J> + 'a) -> Part<'a> {
        Part::Lazy(RefCell::new(Some(Box::new(elements))))
    }
}

/// An object whose members are written in the order they were added.
#[derive(Default)]
pub struct Streamed<'a> {
    members: Vec<(&'static str, Part<'a>)>,
}

impl<'a> Streamed<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a member (a value, or any [`Part`]).
    pub fn with(mut self, key: &'static str, part: impl Into<Part<'a>>) -> Self {
        self.members.push((key, part.into()));
        self
    }

    /// The document as pretty-printed JSON with a final newline, as
    /// `serde_json::to_string_pretty` prints the equivalent value.
    pub fn to_pretty(&self) -> String {
        let mut out = Vec::with_capacity(64 * 1024);
        if serde_json::to_writer_pretty(&mut out, self).is_err() {
            return "{}\n".into();
        }
        out.push(b'\n');
        String::from_utf8(out).unwrap_or_else(|_| "{}\n".into())
    }
}

impl From<J> for Part<'_> {
    fn from(v: J) -> Self {
        Part::Value(v)
    }
}

impl<'a> From<Streamed<'a>> for Part<'a> {
    fn from(s: Streamed<'a>) -> Self {
        Part::Object(s)
    }
}

impl Serialize for Streamed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.members.len()))?;
        for (k, part) in &self.members {
            map.serialize_entry(k, part)?;
        }
        map.end()
    }
}

impl Serialize for Part<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Part::Value(v) => v.serialize(s),
            Part::Object(o) => o.serialize(s),
            Part::Array(parts) => {
                let mut seq = s.serialize_seq(Some(parts.len()))?;
                for p in parts {
                    seq.serialize_element(p)?;
                }
                seq.end()
            }
            Part::Lazy(cell) => {
                let elements = cell.borrow_mut().take();
                let mut elements = elements.into_iter().flatten().peekable();
                // An empty array is `[]` either way; a known-empty one lets
                // the printer say so without a line break.
                let hint = if elements.peek().is_none() {
                    Some(0)
                } else {
                    None
                };
                let mut seq = s.serialize_seq(hint)?;
                for e in elements {
                    seq.serialize_element(&e)?;
                }
                seq.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The streamed document prints exactly what the whole value would.
    #[test]
    fn prints_as_the_whole_value_would() {
        let items = [1, 2, 3];
        let doc = Streamed::new()
            .with("a", json!({"x": [1, {"y": null}]}))
            .with("list", Part::lazy(items.iter().map(|i| json!({"n": i}))))
            .with("empty", Part::lazy(std::iter::empty()))
            .with(
                "runs",
                Part::Array(vec![Part::Object(
                    Streamed::new()
                        .with("z", json!("last"))
                        .with("results", Part::lazy(items.iter().map(|i| json!(i)))),
                )]),
            );
        let whole = json!({
            "a": {"x": [1, {"y": null}]},
            "list": [{"n": 1}, {"n": 2}, {"n": 3}],
            "empty": [],
            "runs": [{"z": "last", "results": [1, 2, 3]}],
        });
        let mut expected = serde_json::to_string_pretty(&whole).unwrap();
        expected.push('\n');
        assert_eq!(doc.to_pretty(), expected);
    }
}
