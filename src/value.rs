//! Values and records: what rules are evaluated against.
//!
//! Every scanner produces records that implement [`Record`]: a lookup from a
//! field path to a value. The lookup distinguishes three states, because the
//! design promises that **absent is not unknown**: a field the record does not
//! have is [`Lookup::Absent`] (comparisons with it are false), while a value
//! the scanner could not know statically is [`Value::Unknown`] and carries
//! where it came from, so that an `unresolved` finding can point at it.

use crate::source::Origin;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// A value in a record, a rule literal or an example's `given` block.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Str(Arc<str>),
    Date(crate::date::Date),
    /// An IP network (a bare address is a network with a full-length prefix).
    Cidr(Cidr),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// A value that cannot be known statically.
    Unknown(Arc<Unknown>),
}

/// Why a value is unknown, and where the expression that produced it is.
#[derive(Debug, PartialEq)]
pub struct Unknown {
    pub reason: String,
    pub origin: Option<Origin>,
    /// It stands for an error evaluating the source would raise (Terraform
    /// rejecting an expression), not for a value known only later.
    pub fails: bool,
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn unknown(reason: impl Into<String>, origin: Option<Origin>) -> Value {
        Value::Unknown(Arc::new(Unknown {
            reason: reason.into(),
            origin,
            fails: false,
        }))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// The first unknown inside this value, if any (deep).
    pub fn find_unknown(&self) -> Option<&Arc<Unknown>> {
        match self {
            Value::Unknown(u) => Some(u),
            Value::List(items) => items.iter().find_map(Value::find_unknown),
            Value::Map(map) => map.values().find_map(Value::find_unknown),
            _ => None,
        }
    }

    /// A short name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Num(_) => "number",
            Value::Str(_) => "string",
            Value::Date(_) => "date",
            Value::Cidr(_) => "IP network",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Unknown(_) => "unknown",
        }
    }

    /// Converts to JSON for reports and `--findings` output.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Num(n) => serde_json::Number::from_f64(*n)
                .map(J::Number)
                .unwrap_or(J::Null),
            Value::Str(s) => J::String(s.to_string()),
            Value::Date(d) => J::String(d.to_string()),
            Value::Cidr(c) => J::String(c.to_string()),
            Value::List(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(map) => {
                J::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            Value::Unknown(_) => J::String("(unknown)".into()),
        }
    }
}

/// A JSON value (a `.tfvars.json` file, a plan's values, a JSON log
/// field written as an object or array) as a value: the one converter
/// every reader of JSON uses. Every number becomes the nearest `f64`
/// (an integer beyond 2^53 rounds, as JSON readers do): serde_json
/// answers `as_f64` for every number it holds without its
/// `arbitrary_precision` feature, which proviso does not enable; a
/// number it could not answer for would be `null`, never a made-up
/// value.
pub fn from_json(j: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => n.as_f64().map_or(Value::Null, Value::Num),
        J::String(s) => Value::str(s),
        J::Array(items) => Value::List(items.iter().map(from_json).collect()),
        J::Object(map) => Value::Map(map.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => write!(f, "{}", *n as i64),
            Value::Num(n) => write!(f, "{n}"),
            Value::Str(s) => write!(f, "{s}"),
            Value::Date(d) => write!(f, "{d}"),
            Value::Cidr(c) => write!(f, "{c}"),
            Value::List(items) => {
                write!(f, "[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{item}")?;
                }
                write!(f, "]")
            }
            Value::Map(map) => {
                write!(f, "{{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                write!(f, "}}")
            }
            Value::Unknown(_) => write!(f, "(unknown)"),
        }
    }
}

/// An IP network: address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text
            .parse()
            .map_err(|_| format!("`{addr_text}` is not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            None => max,
            Some(p) => {
                let n: u32 = p
                    .parse()
                    .map_err(|_| format!("`/{p}` is not a prefix length"))?;
                if n > u32::from(max) {
                    return Err(format!(
                        "an {} prefix is at most /{max}, not /{n}",
                        if addr.is_ipv4() { "IPv4" } else { "IPv6" }
                    ));
                }
                n as u8
            }
        };
        Ok(Cidr { addr, prefix })
    }

    /// Whether `ip` lies inside this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A field path such as `tags["api-mode"]` or `attributes.site_config.always_on`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(pub Vec<String>);

impl FieldPath {
    pub fn root(&self) -> &str {
        self.0.first().map(String::as_str).unwrap_or("")
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            let plain = !seg.is_empty()
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !seg.starts_with(|c: char| c.is_ascii_digit());
            match (i, plain) {
                (0, _) => write!(f, "{seg}")?,
                (_, true) => write!(f, ".{seg}")?,
                (_, false) => write!(f, "[{seg:?}]")?,
            }
        }
        Ok(())
    }
}

/// The result of looking a field up in a record.
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'a> {
    /// The record does not have this field.
    Absent,
    /// The field's value (which may itself be [`Value::Unknown`]).
    Known(&'a Value),
    /// A containing value is unknown, so whether the field exists is unknown too.
    Unknown(&'a Arc<Unknown>),
}

/// A thing rules are evaluated against: a Terraform block, a log line, an
/// example's `given` block.
pub trait Record {
    /// Looks up a field path.
    fn lookup(&self, path: &FieldPath) -> Lookup<'_>;

    /// Where the value of a field was written, for labels on findings.
    fn origin_of(&self, path: &FieldPath) -> Option<Origin>;
}

/// Walks a field path through nested maps (and list indices).
pub fn lookup_in<'a>(root: &'a BTreeMap<String, Value>, path: &[String]) -> Lookup<'a> {
    let Some((first, rest)) = path.split_first() else {
        return Lookup::Absent;
    };
    let Some(mut current) = root.get(first) else {
        return Lookup::Absent;
    };
    for seg in rest {
        current = match current {
            Value::Map(map) => match map.get(seg) {
                Some(v) => v,
                None => return Lookup::Absent,
            },
            Value::List(items) => match seg.parse::<usize>().ok().and_then(|i| items.get(i)) {
                Some(v) => v,
                None => return Lookup::Absent,
            },
            Value::Unknown(u) => return Lookup::Unknown(u),
            _ => return Lookup::Absent,
        };
    }
    Lookup::Known(current)
}

/// A record made of a plain field map, as built from an example's `given` block.
#[derive(Debug, Clone, Default)]
pub struct MapRecord {
    pub fields: BTreeMap<String, Value>,
}

impl Record for MapRecord {
    fn lookup(&self, path: &FieldPath) -> Lookup<'_> {
        lookup_in(&self.fields, &path.0)
    }

    fn origin_of(&self, _path: &FieldPath) -> Option<Origin> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_membership_v4_and_v6() {
        let net = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(Cidr::parse("10.0.0.0/40").is_err());
    }

    #[test]
    fn field_paths_print_as_written() {
        let p = FieldPath(vec!["tags".into(), "model-vendor".into()]);
        assert_eq!(p.to_string(), "tags[\"model-vendor\"]");
        let p = FieldPath(vec!["attributes".into(), "location".into()]);
        assert_eq!(p.to_string(), "attributes.location");
    }

    /// Every kind of JSON value converts, numbers to the nearest `f64`
    /// whatever serde_json holds them as (u64, i64, f64).
    #[test]
    fn json_becomes_values() {
        let j: serde_json::Value = serde_json::from_str(
            r#"{"big": 18446744073709551615, "past_2_53": 9007199254740993,
                "negative": -42, "float": 1.5, "none": null, "yes": true,
                "nested": [[1, "a"], {"k": [false, null]}], "empty": {}}"#,
        )
        .unwrap();
        assert!(j["big"].is_u64() && j["negative"].is_i64() && j["float"].is_f64());
        let map = |pairs: Vec<(&str, Value)>| {
            Value::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        };
        let expected = map(vec![
            ("big", Value::Num(18_446_744_073_709_551_615_u64 as f64)),
            ("past_2_53", Value::Num(9_007_199_254_740_992.0)),
            ("negative", Value::Num(-42.0)),
            ("float", Value::Num(1.5)),
            ("none", Value::Null),
            ("yes", Value::Bool(true)),
            (
                "nested",
                Value::List(vec![
                    Value::List(vec![Value::Num(1.0), Value::str("a")]),
                    map(vec![(
                        "k",
                        Value::List(vec![Value::Bool(false), Value::Null]),
                    )]),
                ]),
            ),
            ("empty", map(vec![])),
        ]);
        assert_eq!(from_json(&j), expected);
        assert_eq!(from_json(&serde_json::json!(null)), Value::Null);
        assert_eq!(
            from_json(&serde_json::json!(u64::MAX)),
            Value::Num(1.8446744073709552e19)
        );
    }
}
