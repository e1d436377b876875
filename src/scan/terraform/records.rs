//! A block instance to its record: a `resource`, `data` or `module` block,
//! evaluated in one frame (`count.index`, `each` bound), to a
//! [`ScannedRecord`] with the shared vocabulary filled in.
//!
//! The fields rules read most (`cloud`, `region`, `tags`) are not plain
//! attributes: each is taken from the resource's own attribute when it sets
//! one, else from its provider configuration (AWS `default_tags`, the
//! provider's `region`), and each keeps an origin in the file that set it
//! (an override file, the provider block), so that a finding points at the
//! line to change. A module call that is not scanned is a record too,
//! judged from its arguments, with `cloud` and `region` unknown.

use super::cloud::{cloud_of_provider, normalize_region, own_region};
use super::expr::{Ctx, Frame};
use super::module::{
    BlockKind, Instance, Located, ModuleCall, ResourceDef, attr_with_overrides, object_key_origins,
    reference_text,
};
use crate::scan::ScannedRecord;
use crate::source::Origin;
use crate::value::{Unknown, Value};
use hcl_edit::Span as _;
use hcl_edit::structure::{Block, Body};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Meta-arguments that are not resource attributes.
const META: [&str; 6] = [
    "count",
    "for_each",
    "provider",
    "depends_on",
    "lifecycle",
    "provisioner",
];

/// The span of a block's header: its type and labels.
pub fn header_span(block: &Block) -> std::ops::Range<usize> {
    let start = block
        .ident
        .span()
        .map(|s| s.start)
        .or_else(|| block.span().map(|s| s.start))
        .unwrap_or(0);
    let end = block
        .labels
        .last()
        .and_then(|l| l.span())
        .map(|s| s.end)
        .unwrap_or(start);
    start..end.max(start)
}

/// A block body as a map: its attributes evaluated, its nested blocks by
/// type (one block a map, several a list); meta-arguments and `dynamic`
/// blocks left out.
fn body_value(inst: &Instance<'_>, body: &Body, ctx: &Ctx<'_>) -> BTreeMap<String, Value> {
    let mut map = BTreeMap::new();
    for attr in body.attributes() {
        let key = attr.key.as_str();
        if META.contains(&key) {
            continue;
        }
        map.insert(key.to_string(), inst.eval(&attr.value, ctx));
    }
    let mut nested: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for block in body.blocks() {
        let ident = block.ident.as_str();
        if META.contains(&ident) || ident == "dynamic" {
            continue;
        }
        nested
            .entry(ident.to_string())
            .or_default()
            .push(Value::Map(body_value(inst, &block.body, ctx)));
    }
    for (k, blocks) in nested {
        let v = match <[Value; 1]>::try_from(blocks) {
            Ok([one]) => one,
            Err(several) => Value::List(several),
        };
        map.insert(k, v);
    }
    map
}

/// A block's attributes with its override-file blocks merged in (an
/// override's attribute replaces the original's, a nested block type all
/// of that type), each attribute's origin in the file that won.
fn merged_attributes(
    inst: &Instance<'_>,
    block: Located<'_, Block>,
    overrides: &[Located<'_, Block>],
    frame: &Frame,
    origins: &mut Vec<(Vec<String>, Origin)>,
) -> BTreeMap<String, Value> {
    let mut attributes = BTreeMap::new();
    for part in std::iter::once(&block).chain(overrides) {
        let pctx = Ctx {
            file: part.file,
            frame,
            depth: inst.depth,
        };
        attributes.extend(body_value(inst, &part.item.body, &pctx));
        for attr in part.item.body.attributes() {
            if let Some(s) = attr.span() {
                origins.push((
                    vec!["attributes".into(), attr.key.as_str().to_string()],
                    Origin::new(part.file, s),
                ));
            }
        }
    }
    attributes
}

/// The record of one instance of a resource; `loaded` is the resource's
/// block with its body ([`ResourceDef::load`]).
pub fn resource_record(
    inst: &Instance<'_>,
    res: &ResourceDef<'_>,
    loaded: Located<'_, Block>,
    frame: &Frame,
    suffix: &str,
    existence: Option<Arc<Unknown>>,
) -> ScannedRecord {
    let file = loaded.file;
    let block = loaded.item;
    let body = &block.body;
    let local = match res.kind {
        BlockKind::Resource => format!("{}.{}", res.ty, res.name),
        BlockKind::Data => format!("data.{}.{}", res.ty, res.name),
    };
    let address = if inst.prefix.is_empty() {
        format!("{local}{suffix}")
    } else {
        format!("{}.{local}{suffix}", inst.prefix)
    };
    let mut origins: Vec<(Vec<String>, Origin)> = Vec::new();
    let header = Origin::new(file, header_span(block));
    let label = |i: usize| {
        block
            .labels
            .get(i)
            .and_then(|l| l.span())
            .map(|s| Origin::new(file, s))
            .unwrap_or_else(|| header.clone())
    };

    let attr_of = |key: &str| attr_with_overrides(loaded, &res.overrides, key);
    let provider_ref = attr_of("provider").and_then(|a| reference_text(&a.item.value));
    let provider_name = res.ty.split('_').next().unwrap_or("").to_string();
    let provider_key = provider_ref
        .clone()
        .unwrap_or_else(|| provider_name.clone());
    let provider_base = provider_key.split('.').next().unwrap_or("").to_string();
    let provider_cfg = inst.providers.get(&provider_key).cloned();
    if let Some(a) = attr_of("provider")
        && let Some(s) = a.item.value.span()
    {
        origins.push((vec!["provider".into()], Origin::new(a.file, s)));
    }

    let attributes = merged_attributes(inst, loaded, &res.overrides, frame, &mut origins);

    let mut fields = BTreeMap::new();
    fields.insert(
        "kind".to_string(),
        Value::str(if res.kind == BlockKind::Data {
            "data"
        } else {
            "resource"
        }),
    );
    fields.insert("type".to_string(), Value::str(&res.ty));
    fields.insert("name".to_string(), Value::str(&res.name));
    fields.insert("address".to_string(), Value::str(&address));
    fields.insert("provider".to_string(), Value::str(&provider_key));
    if !inst.prefix.is_empty() {
        fields.insert("module".to_string(), Value::str(&inst.prefix));
    }
    origins.push((vec!["type".into()], label(0)));
    origins.push((vec!["name".into()], label(1)));
    origins.push((vec!["address".into()], header.clone()));
    origins.push((vec!["kind".into()], header.clone()));

    let cloud = cloud_of_provider(&provider_base);
    if let Some(c) = cloud {
        fields.insert("cloud".to_string(), Value::str(c));
        origins.push((vec!["cloud".into()], label(0)));
    }

    // Region: the resource's own attribute, else its provider's.
    let region = match own_region(cloud, &attributes) {
        Some((k, v)) => {
            if let Some(a) = attr_of(k)
                && let Some(s) = a.item.value.span()
            {
                origins.push((vec!["region".into()], Origin::new(a.file, s)));
            }
            Some(normalize_region(cloud, k, v))
        }
        None => match provider_cfg
            .as_ref()
            .and_then(|p| p.region.clone())
            .filter(|(v, _)| !matches!(v, Value::Null))
        {
            Some((v, o)) => {
                if let Some(o) = o {
                    origins.push((vec!["region".into()], o));
                }
                Some(normalize_region(cloud, "region", v))
            }
            // Every AWS resource lives in a region; when the configuration
            // does not say which, it comes from the environment at plan time
            // (AWS_REGION, a profile): unknown, not absent.
            None if cloud == Some("aws") => Some(Value::unknown(
                match &provider_cfg {
                    Some(p) => format!(
                        "provider `{}` sets no `region`: it comes from the environment at plan time",
                        p.address
                    ),
                    None => format!(
                        "no `provider \"{provider_base}\"` block configures `{provider_key}`: its region comes from the environment at plan time"
                    ),
                },
                Some(label(0)),
            )),
            // An aliased provider that this module does not receive.
            None if provider_ref.is_some() && provider_cfg.is_none() => Some(Value::unknown(
                format!(
                    "provider `{provider_key}` is not configured in this module (pass it with `providers = {{ … }}`)"
                ),
                body.get_attribute("provider")
                    .and_then(|a| a.value.span())
                    .map(|s| Origin::new(file, s)),
            )),
            None => None,
        },
    };
    if let Some(r) = region {
        fields.insert("region".to_string(), r);
    }

    // Tags: provider default_tags, overridden by the resource's tags/labels.
    let mut tags: Option<Value> = None;
    if cloud == Some("aws")
        && let Some(p) = &provider_cfg
        && let Some(dt) = &p.default_tags
    {
        tags = Some(dt.value.clone());
        if let Some(o) = &dt.origin {
            origins.push((vec!["tags".into()], o.clone()));
        }
        for (k, ko) in &dt.keys {
            origins.push((vec!["tags".into(), k.clone()], ko.clone()));
        }
    }
    let tag_attrs: &[&str] = if cloud == Some("gcp") {
        &["labels", "resource_labels", "user_labels"]
    } else {
        &["tags", "labels"]
    };
    if let Some(located) = tag_attrs.iter().find_map(|k| attr_of(k)) {
        let (attr, attr_file) = (located.item, located.file);
        let own = attributes
            .get(attr.key.as_str())
            .cloned()
            .unwrap_or(Value::Null);
        tags = match (tags, own) {
            (Some(Value::Map(mut base)), Value::Map(over)) => {
                base.extend(over);
                Some(Value::Map(base))
            }
            // `tags = null` keeps the provider's default tags.
            (base, Value::Null) => base,
            // Unknown default tags stay unknown whatever the resource adds.
            (Some(u @ Value::Unknown(_)), _) => Some(u),
            (_, own) => Some(own),
        };
        if let Some(s) = attr.value.span() {
            origins.push((vec!["tags".into()], Origin::new(attr_file, s)));
        }
        for (k, ko) in object_key_origins(&attr.value, attr_file) {
            origins.push((vec!["tags".into(), k], ko));
        }
    }
    if let Some(t) = tags {
        fields.insert("tags".to_string(), t);
    }
    fields.insert("attributes".to_string(), Value::Map(attributes));

    ScannedRecord {
        fields,
        origins,
        origin: header,
        address,
        existence,
        instances: 1,
    }
}

/// The record of one instance of a module call.
pub fn module_record(
    inst: &Instance<'_>,
    call: &ModuleCall<'_>,
    frame: &Frame,
    suffix: &str,
    existence: Option<Arc<Unknown>>,
) -> ScannedRecord {
    let file = call.block.file;
    let block = call.block.item;
    let local = format!("module.{}{suffix}", call.name);
    let address = if inst.prefix.is_empty() {
        local
    } else {
        format!("{}.{local}", inst.prefix)
    };
    let header = Origin::new(file, header_span(block));
    let mut fields = BTreeMap::new();
    fields.insert("kind".to_string(), Value::str("module"));
    fields.insert("name".to_string(), Value::str(&call.name));
    fields.insert("address".to_string(), Value::str(&address));
    if !inst.prefix.is_empty() {
        fields.insert("module".to_string(), Value::str(&inst.prefix));
    }
    let mut origins = vec![(vec!["address".into()], header.clone())];
    let mut attributes = merged_attributes(inst, call.block, &call.overrides, frame, &mut origins);
    attributes.remove("providers");
    if call.dir.is_none() {
        // Not scanned: the call is judged from its arguments. Its tags are
        // what it is given; where its resources run is unknown.
        let why = format!(
            "module `{}` (source `{}`) is not scanned: where its resources run depends on what is inside (run `terraform init` so proviso can follow it)",
            call.name,
            call.source.clone().unwrap_or_default()
        );
        let at = Some(header.clone());
        for key in ["tags", "labels"] {
            if let Some(t) = attributes.get(key) {
                fields.insert("tags".to_string(), t.clone());
                if let Some(a) = attr_with_overrides(call.block, &call.overrides, key)
                    && let Some(s) = a.item.value.span()
                {
                    origins.push((vec!["tags".into()], Origin::new(a.file, s)));
                    for (k, ko) in object_key_origins(&a.item.value, a.file) {
                        origins.push((vec!["tags".into(), k], ko));
                    }
                }
                break;
            }
        }
        fields.insert("cloud".to_string(), Value::unknown(why.clone(), at.clone()));
        fields.insert("region".to_string(), Value::unknown(why, at));
    }
    fields.insert("attributes".to_string(), Value::Map(attributes));
    ScannedRecord {
        fields,
        origins,
        origin: header,
        address,
        existence,
        instances: 1,
    }
}
