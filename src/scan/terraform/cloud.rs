//! Where a resource runs: the cloud of its provider and the attribute that
//! holds its region.
//!
//! The `.tf` scanner ([`super::records`]) and the plan reader
//! ([`super::plan`]) build the same `cloud` and `region` fields from
//! different inputs (parse trees, plan JSON); both read them through this
//! one table, so that a resource gets the same region whichever way it was
//! scanned. The region comes from the resource's own attribute when it is
//! set, else from its provider (each reader knows its provider in its own
//! way).

use crate::value::Value;
use std::collections::BTreeMap;

/// The cloud a provider belongs to.
pub fn cloud_of_provider(provider: &str) -> Option<&'static str> {
    Some(match provider {
        "azurerm" | "azuread" | "azapi" | "azurestack" | "azuredevops" => "azure",
        "aws" | "awscc" => "aws",
        "google" | "google-beta" => "gcp",
        "oci" => "oracle",
        "alicloud" => "alibaba",
        "ibm" => "ibm",
        "digitalocean" => "digitalocean",
        "hcloud" => "hetzner",
        "linode" => "linode",
        "scaleway" => "scaleway",
        "ovh" => "ovh",
        "tencentcloud" => "tencent",
        "huaweicloud" => "huawei",
        "vultr" => "vultr",
        "cloudflare" => "cloudflare",
        _ => return None,
    })
}

/// The attributes of a resource that name its region, first match wins:
/// Azure's `location`; Google's `region`, `location` or `zone`; elsewhere
/// `region` or `location`.
pub fn region_attributes(cloud: Option<&str>) -> &'static [&'static str] {
    match cloud {
        Some("azure") => &["location"],
        Some("gcp") => &["region", "location", "zone"],
        _ => &["region", "location"],
    }
}

/// The attributes of a `provider` block that name the region its
/// resources run in, first match wins.
pub const PROVIDER_REGION_ATTRIBUTES: [&str; 2] = ["region", "location"];

/// The resource's own region: the first of [`region_attributes`] that it
/// sets, with that attribute's name. `null` for an optional argument means
/// "not set", so the provider's region applies (AWS provider v6
/// `region = var.region` with a null default, Google's `region`).
pub fn own_region(
    cloud: Option<&str>,
    attributes: &BTreeMap<String, Value>,
) -> Option<(&'static str, Value)> {
    region_attributes(cloud).iter().find_map(|k| {
        attributes
            .get(*k)
            .filter(|v| !matches!(v, Value::Null))
            .map(|v| (*k, v.clone()))
    })
}

/// A region as rules compare it: Azure accepts display names (`East US 2`)
/// for locations; Google zones (`us-central1-a`) name their region. `attr`
/// is the attribute the value came from.
pub fn normalize_region(cloud: Option<&str>, attr: &str, v: Value) -> Value {
    match (cloud, &v) {
        (Some("azure"), Value::Str(s)) => Value::str(&s.to_lowercase().replace(' ', "")),
        (Some("gcp"), Value::Str(s)) if attr == "zone" => match s.rsplit_once('-') {
            Some((region, z)) if z.len() == 1 => Value::str(region),
            _ => v,
        },
        _ => v,
    }
}
