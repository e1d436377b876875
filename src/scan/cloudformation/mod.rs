//! The CloudFormation scanner: a template (YAML or JSON, or the
//! `*.template.json` that `cdk synth` writes to `cdk.out/`) to one record
//! per resource, with the fields the Terraform scanner fills.
//!
//! A resource's record: `kind` `resource`, `type` its CloudFormation type
//! (`AWS::ECS::Service`), `name` its logical ID, `address` its logical ID
//! (or, for a CDK resource, its construct path from `aws:cdk:path`
//! without the trailing `/Resource`), `cloud` `aws` for `AWS::` and
//! `Alexa::` types (absent for third-party and custom types, as for a
//! Terraform provider proviso does not know), `region` the stack's
//! (`--region`, else the environment `cdk synth` recorded for the stack
//! in `cdk.out/manifest.json`, else unknown), `tags` from its `Tags` property
//! (`[{Key, Value}]` or a map) over the stack tags of a parameters file,
//! and `attributes` its `Properties`, evaluated ([`eval`]), over its
//! kind's `Globals` in a SAM template. A resource
//! whose `Condition` is false has no record; one whose condition is
//! unknown has a record whose existence is unknown, as a Terraform
//! resource with an unknown `count`.

pub mod eval;
pub mod params;

use crate::diag::{Code, Diag};
use crate::scan::terraform::waivers::{Item, find_items};
use crate::scan::yaml::{Data, Node, quoted_scalars};
use crate::scan::{ScanOutput, ScannedRecord};
use crate::source::{Origin, SourceFile};
use crate::value::{Unknown, Value};
use eval::{Env, Tri};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Scanner settings, shared by every template of a run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--region`: the stack's region (`AWS::Region`).
    pub region: Option<String>,
    /// Parameters and stack tags from `--var-file` parameters files.
    pub parameters: params::Parameters,
}

/// Whether a parsed document is a CloudFormation template: it says so
/// (`AWSTemplateFormatVersion`), or its `Resources` holds a resource with
/// a `Type` of CloudFormation's `Vendor::Service::Resource` shape.
pub fn looks_like(doc: &Node) -> bool {
    if doc.get("AWSTemplateFormatVersion").is_some() {
        return true;
    }
    doc.get("Resources").is_some_and(|r| {
        r.entries().iter().any(|(_, v)| {
            v.get("Type")
                .and_then(Node::as_str)
                .is_some_and(|t| t.contains("::"))
        })
    })
}

/// Scans one template, already parsed (`doc` is its only document).
pub fn scan_template(file: &Arc<SourceFile>, doc: &Node, opts: &Options) -> ScanOutput {
    let mut out = ScanOutput {
        files: 1,
        ..Default::default()
    };
    let malformed = |span: std::ops::Range<usize>, msg: String, label: &str| {
        Diag::error(Code::InputMalformedCloudFormation, msg)
            .in_file(file)
            .label(span, label.to_string())
            .with_help("fix the template (`aws cloudformation validate-template` checks it); the rest of it is scanned")
    };
    if !matches!(doc.data, Data::Map(_)) {
        out.malformed.push(malformed(
            doc.span.clone(),
            format!(
                "`{}` is not a CloudFormation template: its top level is not a mapping",
                file.name
            ),
            "not a mapping",
        ));
        return out;
    }
    let mut env = Env::new(file, opts.region.clone());
    let resources = doc.get("Resources");
    for (k, _) in resources.map(Node::entries).unwrap_or_default() {
        if let Some(id) = k.as_str() {
            env.resources.insert(id.to_string());
        }
    }
    for (k, p) in doc.get("Parameters").map(Node::entries).unwrap_or_default() {
        let Some(name) = k.as_str() else { continue };
        env.params
            .insert(name.to_string(), parameter_value(name, p, opts));
    }
    env.mappings = doc.get("Mappings");
    if is_sam(doc) {
        env.sam_globals = doc.get("Globals");
    }
    for (k, c) in doc.get("Conditions").map(Node::entries).unwrap_or_default() {
        if let Some(name) = k.as_str() {
            env.conditions.insert(name.to_string(), c);
        }
    }
    let Some(resources) = resources else {
        out.malformed.push(malformed(
            doc.span.start..doc.span.start,
            format!(
                "`{}` has no `Resources`: a template declares at least one resource",
                file.name
            ),
            "no `Resources` in this template",
        ));
        return out;
    };
    if !matches!(resources.data, Data::Map(_)) {
        out.malformed.push(malformed(
            resources.span.clone(),
            "`Resources` is not a mapping of logical IDs to resources".into(),
            "not a mapping",
        ));
        return out;
    }
    let mut items = Vec::new();
    for (key, res) in resources.entries() {
        let Some(id) = key.as_str() else { continue };
        // Expanded before deployment (the `AWS::LanguageExtensions`
        // transform's loops, Rain modules): noted, not guessed at.
        let tagged_type = res.get("Type").and_then(|t| {
            t.tag.clone().or_else(|| match t.entries() {
                [(k, _)] => k.as_str().map(str::to_string),
                _ => None,
            })
        });
        if id.starts_with("Fn::ForEach::") || tagged_type.is_some() {
            let what = match &tagged_type {
                Some(tag) => format!(
                    "resource `{id}` has `Type: !{tag} …`, a module expanded before deployment (`rain pkg`)"
                ),
                None => format!(
                    "`{id}` is a loop the `AWS::LanguageExtensions` transform expands at deployment"
                ),
            };
            out.notes.push(
                Diag::advice(
                    Code::InputNotScanned,
                    format!("{what}: the resources it makes are not judged"),
                )
                .in_file(file)
                .label(key.span.clone(), "not expanded by proviso")
                .with_help("scan the processed template (`aws cloudformation get-template --template-stage Processed`, or `rain pkg` output)"),
            );
            continue;
        }
        let entry = key.span.start..res.span.end.max(key.span.end);
        items.push(Item {
            span: entry.clone(),
            name: format!("resource `{id}`"),
            opaque: false,
            target: true,
        });
        if let Some(props) = res.get("Properties") {
            for (pk, pv) in props.entries() {
                items.push(Item {
                    span: pk.span.start..pv.span.end.max(pk.span.end),
                    name: format!("property `{}`", pk.as_str().unwrap_or("")),
                    opaque: false,
                    target: true,
                });
            }
        }
        match record(&env, file, key, id, res, opts) {
            Ok(Some(r)) => out.records.push(r),
            Ok(None) => {}
            Err((span, msg)) => out.malformed.push(malformed(span, msg, "here")),
        }
    }
    if file.text.contains(crate::scan::terraform::waivers::MARKER) {
        quoted_scalars(doc, &mut items);
        let (w, e) = find_items(file, items);
        out.waivers.extend(w);
        out.waiver_errors.extend(e);
    }
    out
}

/// A parameter's value: given in a parameters file, else its `Default`,
/// else unknown. List types are lists.
fn parameter_value(name: &str, p: &Node, opts: &Options) -> Value {
    let ty = p.get("Type").and_then(Node::as_str).unwrap_or("String");
    if ty.starts_with("AWS::SSM::Parameter::Value") {
        return Value::unknown(
            format!("parameter `{name}` is read from Systems Manager at deployment"),
            None,
        );
    }
    let given = opts.parameters.values.get(name).cloned();
    let default = || match p.get("Default").map(|d| &d.data) {
        Some(Data::Scalar(s, _)) => Some(s.clone()),
        Some(Data::Seq(items)) => Some(
            items
                .iter()
                .filter_map(Node::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    };
    match given.or_else(default) {
        Some(v) if ty.starts_with("List<") || ty == "CommaDelimitedList" => {
            Value::List(v.split(',').map(|s| Value::str(s.trim())).collect())
        }
        Some(v) => Value::str(&v),
        None => Value::unknown(
            format!(
                "parameter `{name}` has no `Default` and no value was given: pass a parameters file with `--var-file`"
            ),
            None,
        ),
    }
}

type Malformed = (std::ops::Range<usize>, String);

/// The record of one resource; `None` when its condition is false.
fn record(
    env: &Env<'_>,
    file: &Arc<SourceFile>,
    key: &Node,
    id: &str,
    res: &Node,
    opts: &Options,
) -> Result<Option<ScannedRecord>, Malformed> {
    if !matches!(res.data, Data::Map(_)) {
        return Err((
            res.span.clone(),
            format!("resource `{id}` is not a mapping"),
        ));
    }
    let Some(type_node) = res.get("Type") else {
        return Err((key.span.clone(), format!("resource `{id}` has no `Type`")));
    };
    let Some(ty) = type_node.as_str().filter(|t| !t.is_empty()) else {
        return Err((
            type_node.span.clone(),
            format!("resource `{id}`'s `Type` is not a string"),
        ));
    };
    let existence = match res.get("Condition") {
        None => None,
        Some(c) => match c.as_str() {
            Some(name) => match env.condition(name, c, 0) {
                Tri::Known(false) => return Ok(None),
                Tri::Known(true) => None,
                Tri::Unknown(u) => Some(Arc::new(Unknown {
                    reason: format!(
                        "whether `{id}` exists depends on condition `{name}`: {}",
                        u.reason
                    ),
                    origin: Some(Origin::new(file, c.span.clone())),
                    fails: u.fails,
                })),
            },
            None => {
                return Err((
                    c.span.clone(),
                    format!("resource `{id}`'s `Condition` is not a condition's name"),
                ));
            }
        },
    };
    let at = |n: &Node| Origin::new(file, n.span.clone());
    let header = at(key);
    let mut origins: Vec<(Vec<String>, Origin)> = vec![
        (vec!["type".into()], at(type_node)),
        (vec!["name".into()], header.clone()),
        (vec!["address".into()], header.clone()),
        (vec!["kind".into()], header.clone()),
    ];
    let props = res.get("Properties");
    let attributes = match props.and_then(|p| env.eval(p)) {
        Some(Value::Map(m)) => m,
        Some(Value::Null) | None => BTreeMap::new(),
        Some(Value::Unknown(u)) => {
            // The whole body is unknown (an `Fn::If` on `Properties`).
            let mut m = BTreeMap::new();
            m.insert("Properties".to_string(), Value::Unknown(u));
            m
        }
        Some(_) => {
            return Err((
                props.map_or(key.span.clone(), |p| p.span.clone()),
                format!("resource `{id}`'s `Properties` is not a mapping"),
            ));
        }
    };
    // SAM: the `Globals` of this kind of resource under its own properties.
    let mut attributes = attributes;
    if let Some(kind) = ty.strip_prefix("AWS::Serverless::")
        && let Some(Value::Map(shared)) = env
            .sam_globals
            .and_then(|g| g.get(kind))
            .and_then(|g| env.eval(g))
    {
        attributes = sam_merge(shared, attributes, 0);
    }
    for (pk, pv) in props.map(Node::entries).unwrap_or_default() {
        if let Some(name) = pk.as_str() {
            origins.push((
                vec!["attributes".into(), name.to_string()],
                Origin::new(file, pk.span.start..pv.span.end.max(pk.span.end)),
            ));
        }
    }

    let mut fields = BTreeMap::new();
    fields.insert("kind".to_string(), Value::str("resource"));
    fields.insert("type".to_string(), Value::str(ty));
    fields.insert("name".to_string(), Value::str(id));
    let address = res
        .get("Metadata")
        .and_then(|m| m.get("aws:cdk:path"))
        .and_then(Node::as_str)
        .map(|p| p.strip_suffix("/Resource").unwrap_or(p).to_string())
        .unwrap_or_else(|| id.to_string());
    fields.insert("address".to_string(), Value::str(&address));

    let cloud = (ty.starts_with("AWS::") || ty.starts_with("Alexa::")).then_some("aws");
    if let Some(c) = cloud {
        fields.insert("cloud".to_string(), Value::str(c));
        origins.push((vec!["cloud".into()], at(type_node)));
        fields.insert(
            "region".to_string(),
            match &opts.region {
                Some(r) => Value::str(r),
                None => Value::unknown(
                    "a CloudFormation resource runs in its stack's region (`AWS::Region`), known only at deployment: pass `--region`",
                    Some(at(type_node)),
                ),
            },
        );
    }

    // Tags: the stack's (a parameters file's `Tags`), under the resource's.
    let mut tags: Option<Value> = (!opts.parameters.tags.is_empty()).then(|| {
        Value::Map(
            opts.parameters
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), Value::str(v)))
                .collect(),
        )
    });
    // The resource's `Tags` (over its SAM `Globals`' own), over the stack's.
    let own_tags = props.and_then(|p| p.get_entry("Tags"));
    if let Some(own) = attributes.get("Tags").cloned() {
        let written = own_tags.map_or(type_node, |(_, tv)| tv);
        tags = match (tags, tag_map(own, file, written)) {
            (Some(Value::Map(mut base)), Value::Map(over)) => {
                base.extend(over);
                Some(Value::Map(base))
            }
            (base, Value::Null) => base,
            (_, own) => Some(own),
        };
    }
    if let Some((tk, tv)) = own_tags {
        origins.push((
            vec!["tags".into()],
            Origin::new(file, tk.span.start..tv.span.end.max(tk.span.end)),
        ));
        for (k, o) in tag_origins(file, tv) {
            origins.push((vec!["tags".into(), k], o));
        }
    }
    if let Some(t) = tags {
        fields.insert("tags".to_string(), t);
    }
    fields.insert("attributes".to_string(), Value::Map(attributes));
    Ok(Some(ScannedRecord {
        fields,
        origins,
        origin: header,
        address,
        existence,
        instances: 1,
    }))
}

/// Whether a template is a SAM template (its `Transform` names
/// `AWS::Serverless-2016-10-31`, alone or in a list).
fn is_sam(doc: &Node) -> bool {
    match doc.get("Transform").map(|t| &t.data) {
        Some(Data::Scalar(s, _)) => s.starts_with("AWS::Serverless"),
        Some(Data::Seq(items)) => items
            .iter()
            .filter_map(Node::as_str)
            .any(|s| s.starts_with("AWS::Serverless")),
        _ => false,
    }
}

/// A resource's properties over its kind's SAM `Globals`, as SAM merges
/// them: the resource's value wins, maps are merged key by key, lists are
/// the globals' items then the resource's ("Globals section" of the AWS
/// SAM developer guide).
fn sam_merge(
    shared: BTreeMap<String, Value>,
    own: BTreeMap<String, Value>,
    depth: usize,
) -> BTreeMap<String, Value> {
    let mut out = shared;
    for (k, v) in own {
        let merged = match (out.remove(&k), v) {
            (Some(Value::Map(a)), Value::Map(b)) if depth < 32 => {
                Value::Map(sam_merge(a, b, depth + 1))
            }
            (Some(Value::List(mut a)), Value::List(b)) => {
                a.extend(b);
                Value::List(a)
            }
            (_, v) => v,
        };
        out.insert(k, merged);
    }
    out
}

/// The region of a stack `cdk synth` wrote with an explicit environment:
/// `cdk.out/manifest.json` beside the template names the stack's
/// `environment` as `aws://ACCOUNT/REGION` (`unknown-region` when the app
/// left it to the deploying account: then `None`).
pub fn cdk_region(template: &std::path::Path) -> Option<String> {
    let name = template.file_name()?.to_str()?;
    if !name.ends_with(".template.json") {
        return None;
    }
    let manifest = template.parent()?.join("manifest.json");
    let text = std::fs::read_to_string(manifest).ok()?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    doc.get("artifacts")?.as_object()?.values().find_map(|a| {
        (a.get("type")?.as_str()? == "aws:cloudformation:stack"
            && a.get("properties")?.get("templateFile")?.as_str()? == name)
            .then_some(())?;
        let env = a.get("environment")?.as_str()?;
        let region = env.strip_prefix("aws://")?.split('/').nth(1)?;
        (!region.is_empty() && region != "unknown-region").then(|| region.to_string())
    })
}

/// Tags as CloudFormation writes them, `[{Key, Value}]` (most types) or a
/// map (`AWS::SSM::Parameter`, SAM), to one map of strings.
fn tag_map(v: Value, file: &Arc<SourceFile>, node: &Node) -> Value {
    match v {
        Value::List(items) => {
            let mut map = BTreeMap::new();
            for item in items {
                let Value::Map(m) = item else {
                    return Value::unknown(
                        "an item of `Tags` is not a `{Key, Value}` mapping",
                        Some(Origin::new(file, node.span.clone())),
                    );
                };
                match (m.get("Key"), m.get("Value")) {
                    (Some(Value::Unknown(u)), _) => return Value::Unknown(u.clone()),
                    (Some(k), Some(v)) => {
                        map.insert(k.to_string(), tag_text(v.clone()));
                    }
                    _ => {
                        return Value::unknown(
                            "an item of `Tags` has no `Key` or no `Value`",
                            Some(Origin::new(file, node.span.clone())),
                        );
                    }
                }
            }
            Value::Map(map)
        }
        Value::Map(m) => Value::Map(m.into_iter().map(|(k, v)| (k, tag_text(v))).collect()),
        other => other,
    }
}

/// A tag's value is a string (`Value: 2026` is `"2026"`).
fn tag_text(v: Value) -> Value {
    match v {
        Value::Num(_) | Value::Bool(_) => Value::str(&v.to_string()),
        v => v,
    }
}

/// Where each literal tag key is written: the `{Key, Value}` item, or the
/// map entry.
fn tag_origins(file: &Arc<SourceFile>, node: &Node) -> Vec<(String, Origin)> {
    let mut out = Vec::new();
    match &node.data {
        Data::Seq(items) => {
            for item in items {
                if let Some(k) = item.get("Key").and_then(Node::as_str)
                    && item.get("Key").is_some_and(|n| n.tag.is_none())
                {
                    out.push((k.to_string(), Origin::new(file, item.span.clone())));
                }
            }
        }
        Data::Map(entries) => {
            for (k, v) in entries {
                if let Some(name) = k.as_str() {
                    out.push((
                        name.to_string(),
                        Origin::new(file, k.span.start..v.span.end.max(k.span.end)),
                    ));
                }
            }
        }
        Data::Scalar(..) => {}
    }
    out
}
