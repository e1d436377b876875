//! An Azure resource (from an ARM template or a Bicep file) to its record,
//! in the shape the Terraform scanner gives (`kind`, `type`, `name`,
//! `address`, `cloud`, `region`, `tags`, `attributes.*`, origins), so that
//! every rule, output, waiver and baseline reads it unchanged.
//!
//! `cloud` is `azure` for a `Microsoft.*` type; `region` is the resource's
//! `location`, normalized as Terraform's Azure locations are (`East US 2`
//! → `eastus2`); `tags` is its `tags` object. A resource without
//! `location` has no `region` (absent, not unknown), as in Terraform.

use crate::scan::ScannedRecord;
use crate::scan::terraform::normalize_region;
use crate::source::{Origin, SourceFile};
use crate::value::{Unknown, Value};
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

/// What a scanner knows of one resource instance.
pub struct Parts {
    pub file: Arc<SourceFile>,
    /// `resource`, `data` (an `existing` resource) or `module`.
    pub kind: &'static str,
    /// `Microsoft.Web/sites` (a child's full type); empty for a module.
    pub ty: String,
    pub ty_span: Range<usize>,
    pub name: Value,
    pub name_span: Range<usize>,
    /// The record's own position: its type and name.
    pub header: Range<usize>,
    pub address: String,
    /// `module.x` when inside a Bicep module.
    pub module: Option<String>,
    pub attributes: BTreeMap<String, Value>,
    /// Each attribute's span (key to value).
    pub attr_spans: Vec<(String, Range<usize>)>,
    /// The value spans of `location` and `tags`, and of each literal tag key.
    pub location_span: Option<Range<usize>>,
    pub tags_span: Option<Range<usize>>,
    pub tag_key_spans: Vec<(String, Range<usize>)>,
    pub existence: Option<Arc<Unknown>>,
}

/// Whether a resource type is Azure's.
pub fn is_azure_type(ty: &str) -> bool {
    ty.get(..10)
        .is_some_and(|p| p.eq_ignore_ascii_case("microsoft."))
}

/// Builds the record.
pub fn build(p: Parts) -> ScannedRecord {
    let file = &p.file;
    let at = |s: &Range<usize>| Origin::new(file, s.clone());
    let header = at(&p.header);
    let mut fields = BTreeMap::new();
    let mut origins: Vec<(Vec<String>, Origin)> = Vec::new();
    fields.insert("kind".to_string(), Value::str(p.kind));
    if !p.ty.is_empty() {
        fields.insert("type".to_string(), Value::str(&p.ty));
        origins.push((vec!["type".into()], at(&p.ty_span)));
    }
    fields.insert("name".to_string(), p.name.clone());
    fields.insert("address".to_string(), Value::str(&p.address));
    if let Some(m) = &p.module {
        fields.insert("module".to_string(), Value::str(m));
    }
    origins.push((vec!["name".into()], at(&p.name_span)));
    origins.push((vec!["address".into()], header.clone()));
    origins.push((vec!["kind".into()], header.clone()));
    for (k, s) in &p.attr_spans {
        origins.push((vec!["attributes".into(), k.clone()], at(s)));
    }
    let azure = is_azure_type(&p.ty);
    if azure {
        fields.insert("cloud".to_string(), Value::str("azure"));
        origins.push((vec!["cloud".into()], at(&p.ty_span)));
        let location = p
            .attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("location"))
            .map(|(_, v)| v.clone())
            .filter(|v| !matches!(v, Value::Null));
        if let Some(v) = location {
            fields.insert(
                "region".to_string(),
                normalize_region(Some("azure"), "location", v),
            );
            if let Some(s) = &p.location_span {
                origins.push((vec!["region".into()], at(s)));
            }
        }
    }
    let tags = p
        .attributes
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("tags"))
        .map(|(_, v)| v.clone())
        .filter(|v| !matches!(v, Value::Null));
    if let Some(t) = tags {
        fields.insert("tags".to_string(), t);
        if let Some(s) = &p.tags_span {
            origins.push((vec!["tags".into()], at(s)));
        }
        for (k, s) in &p.tag_key_spans {
            origins.push((vec!["tags".into(), k.clone()], at(s)));
        }
    }
    fields.insert("attributes".to_string(), Value::Map(p.attributes));
    ScannedRecord {
        fields,
        origins,
        origin: header,
        address: p.address,
        existence: p.existence,
        instances: 1,
    }
}
