//! ARM's (and Bicep's) CIDR functions: `parseCidr`, `cidrSubnet`,
//! `cidrHost`, for IPv4 and IPv6, as Microsoft's "Template functions -
//! CIDR" documents them (its examples are the tests below).
//!
//! - `parseCidr('10.144.0.0/20')` is `{network, netmask, broadcast,
//!   firstUsable, lastUsable, cidr}`; an IPv6 range has no `broadcast`, and
//!   its first usable address is the network's own.
//! - `cidrSubnet(network, newCIDR, i)` is the `i`-th subnet of prefix
//!   `newCIDR` within `network`, as `address/newCIDR`.
//! - `cidrHost(network, i)` is the `i`-th usable host: the network address
//!   plus `i + 1`; in IPv4 the broadcast address is not a host.

use crate::value::Value;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A parsed range: its address as a 128-bit number, the number of bits of
/// its family and its prefix length.
struct Range {
    v6: bool,
    addr: u128,
    prefix: u32,
}

impl Range {
    fn bits(&self) -> u32 {
        if self.v6 { 128 } else { 32 }
    }

    fn host_mask(&self) -> u128 {
        let host_bits = self.bits() - self.prefix;
        if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        }
    }

    /// Every bit of an address of the family set.
    fn family_mask(&self) -> u128 {
        if self.v6 {
            u128::MAX
        } else {
            u128::from(u32::MAX)
        }
    }

    fn network(&self) -> u128 {
        self.addr & !self.host_mask()
    }

    fn last(&self) -> u128 {
        self.network() | self.host_mask()
    }

    fn text(&self, a: u128) -> String {
        if self.v6 {
            Ipv6Addr::from(a).to_string()
        } else {
            Ipv4Addr::from(u32::try_from(a).unwrap_or(u32::MAX)).to_string()
        }
    }
}

fn parse(s: &str) -> Result<Range, String> {
    let bad = || format!("`{s}` is not an IP address range in CIDR notation");
    let (addr, prefix) = s.trim().split_once('/').ok_or_else(bad)?;
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    let prefix: u32 = prefix.parse().map_err(|_| bad())?;
    let (v6, addr) = match addr {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => (true, u128::from(a)),
    };
    let r = Range { v6, addr, prefix };
    if prefix > r.bits() {
        return Err(bad());
    }
    Ok(r)
}

fn int_arg(v: Option<&Value>, what: &str) -> Result<u128, String> {
    match v {
        Some(Value::Num(n)) if *n >= 0.0 && n.fract() == 0.0 && *n < 1e18 => Ok(*n as u128),
        _ => Err(format!("{what} is not a whole number from 0")),
    }
}

/// Calls `name` (lower case) on `args`; `Err` is why the deployment fails.
pub fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    if let Some(u) = args.iter().find(|a| matches!(a, Value::Unknown(_))) {
        return Ok(u.clone());
    }
    let Some(Value::Str(network)) = args.first() else {
        return Err(format!("`{name}` takes a range in CIDR notation"));
    };
    let r = parse(network)?;
    match name {
        "parsecidr" => {
            let mut m = BTreeMap::new();
            let net = r.network();
            let last = r.last();
            m.insert("network".to_string(), Value::str(&r.text(net)));
            m.insert(
                "netmask".to_string(),
                Value::str(&r.text(!r.host_mask() & r.family_mask())),
            );
            if r.v6 {
                m.insert("firstUsable".to_string(), Value::str(&r.text(net)));
                m.insert("lastUsable".to_string(), Value::str(&r.text(last)));
            } else {
                m.insert("broadcast".to_string(), Value::str(&r.text(last)));
                // A /31 or /32 has no network and broadcast addresses to
                // set aside.
                let (first, lastu) = if r.prefix >= 31 {
                    (net, last)
                } else {
                    (net + 1, last - 1)
                };
                m.insert("firstUsable".to_string(), Value::str(&r.text(first)));
                m.insert("lastUsable".to_string(), Value::str(&r.text(lastu)));
            }
            m.insert("cidr".to_string(), Value::Num(f64::from(r.prefix)));
            Ok(Value::Map(m))
        }
        "cidrsubnet" => {
            let new = int_arg(args.get(1), "the new CIDR")?;
            let new = u32::try_from(new).unwrap_or(u32::MAX);
            if new < r.prefix || new > r.bits() {
                return Err(format!(
                    "the new CIDR {new} is not between the range's {} and {}",
                    r.prefix,
                    r.bits()
                ));
            }
            let index = int_arg(args.get(2), "the subnet index")?;
            let count_bits = new - r.prefix;
            if count_bits < 127 && index >= (1u128 << count_bits) {
                return Err(format!(
                    "subnet index {index} is outside the {} subnets of /{new} in `{network}`",
                    1u128 << count_bits
                ));
            }
            let step_bits = r.bits() - new;
            let offset = if step_bits >= 128 {
                0
            } else {
                index << step_bits
            };
            Ok(Value::str(&format!(
                "{}/{new}",
                r.text(r.network() | offset)
            )))
        }
        "cidrhost" => {
            let index = int_arg(args.get(1), "the host index")?;
            let host = r.network().checked_add(index + 1);
            let limit = if r.v6 {
                r.last()
            } else {
                r.last().saturating_sub(1)
            };
            match host {
                Some(h) if h <= limit => Ok(Value::str(&r.text(h))),
                _ => Err(format!(
                    "host index {index} is outside the usable addresses of `{network}`"
                )),
            }
        }
        _ => Err(format!("`{name}` is not a CIDR function")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    fn s(v: &str) -> Value {
        Value::str(v)
    }

    fn text(v: Value) -> String {
        v.as_str().unwrap().to_string()
    }

    /// Microsoft's documented examples.
    #[test]
    fn the_documented_examples() {
        let v4 = call("parsecidr", &[s("10.144.0.0/20")]).unwrap();
        let Value::Map(m) = v4 else { panic!() };
        assert_eq!(m["network"], s("10.144.0.0"));
        assert_eq!(m["netmask"], s("255.255.240.0"));
        assert_eq!(m["broadcast"], s("10.144.15.255"));
        assert_eq!(m["firstUsable"], s("10.144.0.1"));
        assert_eq!(m["lastUsable"], s("10.144.15.254"));
        assert_eq!(m["cidr"], Value::Num(20.0));
        let v6 = call("parsecidr", &[s("fdad:3236:5555::/48")]).unwrap();
        let Value::Map(m) = v6 else { panic!() };
        assert_eq!(m["network"], s("fdad:3236:5555::"));
        assert_eq!(m["netmask"], s("ffff:ffff:ffff::"));
        assert_eq!(m["firstUsable"], s("fdad:3236:5555::"));
        assert_eq!(
            m["lastUsable"],
            s("fdad:3236:5555:ffff:ffff:ffff:ffff:ffff")
        );
        assert!(!m.contains_key("broadcast"));
        let subnets: Vec<String> = (0..5)
            .map(|i| {
                text(
                    call(
                        "cidrsubnet",
                        &[
                            s("10.144.0.0/20"),
                            Value::Num(24.0),
                            Value::Num(f64::from(i)),
                        ],
                    )
                    .unwrap(),
                )
            })
            .collect();
        assert_eq!(
            subnets,
            [
                "10.144.0.0/24",
                "10.144.1.0/24",
                "10.144.2.0/24",
                "10.144.3.0/24",
                "10.144.4.0/24"
            ]
        );
        let v6subnets: Vec<String> = (0..5)
            .map(|i| {
                text(
                    call(
                        "cidrsubnet",
                        &[
                            s("fdad:3236:5555::/48"),
                            Value::Num(52.0),
                            Value::Num(f64::from(i)),
                        ],
                    )
                    .unwrap(),
                )
            })
            .collect();
        assert_eq!(
            v6subnets,
            [
                "fdad:3236:5555::/52",
                "fdad:3236:5555:1000::/52",
                "fdad:3236:5555:2000::/52",
                "fdad:3236:5555:3000::/52",
                "fdad:3236:5555:4000::/52"
            ]
        );
        let hosts: Vec<String> = (0..5)
            .map(|i| {
                text(call("cidrhost", &[s("10.144.3.0/24"), Value::Num(f64::from(i))]).unwrap())
            })
            .collect();
        assert_eq!(
            hosts,
            [
                "10.144.3.1",
                "10.144.3.2",
                "10.144.3.3",
                "10.144.3.4",
                "10.144.3.5"
            ]
        );
        let v6hosts: Vec<String> = (0..2)
            .map(|i| {
                text(
                    call(
                        "cidrhost",
                        &[s("fdad:3236:5555:3000::/52"), Value::Num(f64::from(i))],
                    )
                    .unwrap(),
                )
            })
            .collect();
        assert_eq!(
            v6hosts,
            ["fdad:3236:5555:3000::1", "fdad:3236:5555:3000::2"]
        );
    }

    #[test]
    fn out_of_range_is_a_failure_not_a_value() {
        assert!(
            call(
                "cidrsubnet",
                &[s("10.0.0.0/24"), Value::Num(16.0), Value::Num(0.0)]
            )
            .is_err()
        );
        assert!(
            call(
                "cidrsubnet",
                &[s("10.0.0.0/24"), Value::Num(26.0), Value::Num(4.0)]
            )
            .is_err()
        );
        assert!(call("cidrhost", &[s("10.0.0.0/30"), Value::Num(2.0)]).is_err());
        assert!(call("parsecidr", &[s("10.0.0.0")]).is_err());
        assert!(call("parsecidr", &[s("10.0.0.0/33")]).is_err());
        assert!(
            call(
                "cidrsubnet",
                &[s("::/0"), Value::Num(128.0), Value::Num(1e17)]
            )
            .is_ok()
        );
    }
}
