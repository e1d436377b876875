//! Cloud attribution from the clouds' published IP ranges.
//!
//! Reads AWS `ip-ranges.json` (`prefixes[].ip_prefix`,
//! `ipv6_prefixes[].ipv6_prefix`, with `region` and `service`), Azure
//! Service Tags (`values[].properties.addressPrefixes`, with `region` and
//! `systemService`) and Google Cloud's `cloud.json`
//! (`prefixes[].ipv4Prefix`/`ipv6Prefix`, with `scope` and `service`).
//! The format is recognised by its keys. An address is attributed by the
//! longest matching prefix (IPv4 and IPv6); among equal prefixes, the entry
//! that names a region and a specific service wins (AWS lists every range
//! under `AMAZON` as well as under its service).

use crate::diag::{Code, Diag};
use crate::source::display_path;
use serde_json::Value as J;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

/// What a range says about an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    pub cloud: Arc<str>,
    pub region: Option<Arc<str>>,
    pub service: Option<Arc<str>>,
}

impl Attribution {
    fn specificity(&self) -> u8 {
        let generic = self
            .service
            .as_deref()
            .is_none_or(|s| s.is_empty() || s == "AMAZON" || s == "AzureCloud");
        u8::from(self.region.is_some()) * 2 + u8::from(!generic)
    }
}

/// Every loaded range, indexed by prefix length for longest-prefix match.
#[derive(Debug, Default, Clone)]
pub struct IpRanges {
    v4: Vec<(u8, HashMap<u32, Attribution>)>,
    v6: Vec<(u8, HashMap<u128, Attribution>)>,
    pub prefixes: usize,
}

fn mask4(ip: u32, len: u8) -> u32 {
    ip & u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

fn mask6(ip: u128, len: u8) -> u128 {
    ip & u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

impl IpRanges {
    pub fn is_empty(&self) -> bool {
        self.prefixes == 0
    }

    /// Loads one file, recognising its format.
    pub fn load(&mut self, path: &Path) -> Result<&'static str, Diag> {
        let name = display_path(path);
        let bad = |why: String| {
            Diag::error(Code::InputBadIpRanges, format!("`{name}`: {why}")).with_help(
                "pass AWS `ip-ranges.json`, Azure Service Tags JSON or Google `cloud.json` as published",
            )
        };
        let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        crate::evidence::note_read(path, &bytes);
        let text = String::from_utf8(bytes).map_err(|e| bad(format!("not UTF-8: {e}")))?;
        let doc: J = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let s = |v: &J, k: &str| -> Option<Arc<str>> {
            v.get(k)
                .and_then(J::as_str)
                .filter(|s| !s.is_empty())
                .map(Arc::from)
        };
        let kind = if doc.get("values").is_some() {
            let values = doc
                .get("values")
                .and_then(J::as_array)
                .ok_or_else(|| bad("`values` is not a list".into()))?;
            for v in values {
                let props = v.get("properties").unwrap_or(&J::Null);
                let service = s(props, "systemService").or_else(|| {
                    s(v, "name")
                        .map(|n| Arc::from(n.split_once('.').map_or(&*n, |(first, _)| first)))
                });
                let attribution = Attribution {
                    cloud: Arc::from("azure"),
                    region: s(props, "region"),
                    service,
                };
                for p in props
                    .get("addressPrefixes")
                    .and_then(J::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(p) = p.as_str() {
                        self.add(p, &attribution).map_err(bad)?;
                    }
                }
            }
            "azure"
        } else if doc.get("syncToken").is_some() && doc.get("creationTime").is_some() {
            for p in doc
                .get("prefixes")
                .and_then(J::as_array)
                .into_iter()
                .flatten()
            {
                let attribution = Attribution {
                    cloud: Arc::from("gcp"),
                    region: s(p, "scope"),
                    service: s(p, "service"),
                };
                if let Some(net) = s(p, "ipv4Prefix").or_else(|| s(p, "ipv6Prefix")) {
                    self.add(&net, &attribution).map_err(bad)?;
                }
            }
            "gcp"
        } else if doc.get("prefixes").is_some() {
            let lists = [("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")];
            for (list, key) in lists {
                for p in doc.get(list).and_then(J::as_array).into_iter().flatten() {
                    let attribution = Attribution {
                        cloud: Arc::from("aws"),
                        region: s(p, "region").filter(|r| r.as_ref() != "GLOBAL"),
                        service: s(p, "service"),
                    };
                    if let Some(net) = s(p, key) {
                        self.add(&net, &attribution).map_err(bad)?;
                    }
                }
            }
            "aws"
        } else {
            return Err(bad(
                "not a format proviso knows (no `prefixes` or `values`)".into(),
            ));
        };
        Ok(kind)
    }

    fn add(&mut self, net: &str, a: &Attribution) -> Result<(), String> {
        let cidr = crate::value::Cidr::parse(net.trim())?;
        self.prefixes += 1;
        match cidr.addr {
            IpAddr::V4(ip) => {
                put(
                    &mut self.v4,
                    cidr.prefix,
                    mask4(u32::from(ip), cidr.prefix),
                    a,
                );
            }
            IpAddr::V6(ip) => {
                put(
                    &mut self.v6,
                    cidr.prefix,
                    mask6(u128::from(ip), cidr.prefix),
                    a,
                );
            }
        }
        Ok(())
    }

    /// The attribution of the longest prefix holding `ip`.
    pub fn lookup(&self, ip: IpAddr) -> Option<&Attribution> {
        match ip {
            IpAddr::V4(ip) => {
                let ip = u32::from(ip);
                self.v4
                    .iter()
                    .find_map(|(len, map)| map.get(&mask4(ip, *len)))
            }
            IpAddr::V6(ip) => {
                let ip = u128::from(ip);
                self.v6
                    .iter()
                    .find_map(|(len, map)| map.get(&mask6(ip, *len)))
            }
        }
    }
}

/// Inserts into the table for one prefix length (tables kept longest first).
fn put<K: std::hash::Hash + Eq>(
    tables: &mut Vec<(u8, HashMap<K, Attribution>)>,
    len: u8,
    key: K,
    a: &Attribution,
) {
    if !tables.iter().any(|(l, _)| *l == len) {
        tables.push((len, HashMap::new()));
        tables.sort_by_key(|t| std::cmp::Reverse(t.0));
    }
    if let Some((_, map)) = tables.iter_mut().find(|(l, _)| *l == len) {
        insert(map, key, a);
    }
}

fn insert<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Attribution>, key: K, a: &Attribution) {
    match map.get(&key) {
        Some(existing) if existing.specificity() >= a.specificity() => {}
        _ => {
            map.insert(key, a.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_across_families() {
        let dir = tempfile::tempdir().unwrap();
        let aws = dir.path().join("aws.json");
        std::fs::write(&aws, r#"{"syncToken":"1","createDate":"2026-01-01-00-00-00","prefixes":[
            {"ip_prefix":"52.0.0.0/11","region":"us-east-1","service":"AMAZON","network_border_group":"us-east-1"},
            {"ip_prefix":"52.0.0.0/11","region":"us-east-1","service":"EC2","network_border_group":"us-east-1"},
            {"ip_prefix":"52.4.0.0/14","region":"us-east-2","service":"EC2","network_border_group":"us-east-2"}],
            "ipv6_prefixes":[{"ipv6_prefix":"2600:1f18::/33","region":"us-east-1","service":"EC2","network_border_group":"us-east-1"}]}"#).unwrap();
        let mut r = IpRanges::default();
        assert_eq!(r.load(&aws).unwrap(), "aws");
        let a = r.lookup("52.4.1.1".parse().unwrap()).unwrap();
        assert_eq!(a.region.as_deref(), Some("us-east-2"));
        let a = r.lookup("52.1.1.1".parse().unwrap()).unwrap();
        assert_eq!(
            (a.region.as_deref(), a.service.as_deref()),
            (Some("us-east-1"), Some("EC2"))
        );
        assert!(r.lookup("2600:1f18::5".parse().unwrap()).is_some());
        assert!(r.lookup("8.8.8.8".parse().unwrap()).is_none());
    }
}
