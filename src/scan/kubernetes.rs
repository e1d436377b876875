//! The Kubernetes scanner: manifests (multi-document YAML, a `kind: List`
//! or a typed list such as `ConfigMapList`,
//! the output of `helm template` with its `# Source:` comments) to one
//! record per object.
//!
//! An object's record: `kind` `resource` (as for a Terraform resource),
//! `type` the object's `kind` (`Deployment`), `name` its `metadata.name`,
//! `address` `Kind/name`, or `Kind/namespace/name` when the manifest names
//! a namespace, `tags` its `metadata.labels`, and `attributes` the whole
//! object (`attributes.metadata.annotations`,
//! `attributes.spec.template.spec.nodeSelector`, …). A manifest does not
//! say which cloud or region its cluster runs in, so `cloud` and `region`
//! are absent: a rule file that has a convention (a node selector, an
//! annotation) says so in a `define`, not the engine.

use crate::diag::{Code, Diag};
use crate::scan::terraform::waivers::{Item, find_items};
use crate::scan::yaml::{Data, Node, quoted_scalars, scalar_value};
use crate::scan::{ScanOutput, ScannedRecord};
use crate::source::{Origin, SourceFile};
use crate::value::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Whether a parsed document is a Kubernetes object (or a `List` of them).
/// (A `kustomization.yaml` has both too, but is a build file, not an
/// object: it is not read.)
///
/// A tool's configuration file written in the same style (kind's `Cluster`,
/// kubeadm's `ClusterConfiguration`, a scheduler `Policy`) has no
/// `metadata`: it is not an object of a cluster, and not read. A typed
/// list (`ConfigMapList`) is read for its items.
pub fn looks_like(doc: &Node) -> bool {
    doc.get("apiVersion")
        .and_then(Node::as_str)
        .is_some_and(|v| !v.starts_with("kustomize.config.k8s.io"))
        && doc.get("kind").and_then(Node::as_str).is_some()
        && (doc.get("metadata").is_some() || list_items(doc).is_some())
}

/// The objects of a `List` or typed list (`ConfigMapList`, `RoleList`):
/// a `kind` ending in `List` with an `items` sequence.
fn list_items(doc: &Node) -> Option<&[Node]> {
    let kind = doc.get("kind").and_then(Node::as_str)?;
    if !kind.ends_with("List") {
        return None;
    }
    match doc.get("items").map(|i| &i.data) {
        Some(Data::Seq(items)) => Some(items),
        _ => None,
    }
}

/// Scans the documents of one manifest file.
pub fn scan_manifest(file: &Arc<SourceFile>, docs: &[Node]) -> ScanOutput {
    let mut out = ScanOutput {
        files: 1,
        ..Default::default()
    };
    let mut items = Vec::new();
    for doc in docs {
        if doc.is_null()
            || doc
                .get("apiVersion")
                .and_then(Node::as_str)
                .is_some_and(|v| v.starts_with("kustomize.config.k8s.io"))
        {
            continue;
        }
        if let Some(list) = list_items(doc) {
            for obj in list {
                object(file, obj, &mut out, &mut items);
            }
            continue;
        }
        if doc.get("metadata").is_none()
            && let (Some(kind), Some(api)) = (
                doc.get("kind").and_then(Node::as_str),
                doc.get("apiVersion").and_then(Node::as_str),
            )
        {
            // A tool's configuration beside the manifests (`kind`'s
            // `Cluster`): said, not judged.
            out.notes.push(
                Diag::advice(
                    Code::InputNotScanned,
                    format!("a `{kind}` ({api}) without `metadata` is a tool's configuration, not an object of a cluster: not judged"),
                )
                .in_file(file)
                .label(doc.span.start..doc.span.start, "no `metadata`")
                .with_help("objects of a cluster have `metadata.name`; move configuration files out of the scanned paths or `--exclude` them"),
            );
            continue;
        }
        object(file, doc, &mut out, &mut items);
    }
    if file.text.contains(crate::scan::terraform::waivers::MARKER) {
        for d in docs {
            quoted_scalars(d, &mut items);
        }
        let (w, e) = find_items(file, items);
        out.waivers.extend(w);
        out.waiver_errors.extend(e);
    }
    out
}

/// A node's literal value (manifests have no expressions).
fn value(node: &Node) -> Value {
    match &node.data {
        Data::Scalar(s, quoted) => scalar_value(s, *quoted),
        Data::Seq(items) => Value::List(items.iter().map(value).collect()),
        Data::Map(entries) => Value::Map(
            entries
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), value(v))))
                .collect(),
        ),
    }
}

fn object(file: &Arc<SourceFile>, obj: &Node, out: &mut ScanOutput, items: &mut Vec<Item>) {
    let bad = |span: std::ops::Range<usize>, msg: String| {
        Diag::error(Code::InputMalformedKubernetes, msg)
            .in_file(file)
            .label(span, "here")
            .with_help("every object has `apiVersion`, `kind` and `metadata.name` (`kubectl apply --dry-run=client -f FILE` checks it); the other objects are scanned")
    };
    let (Some(kind_node), Some(_)) = (obj.get("kind"), obj.get("apiVersion")) else {
        out.malformed.push(bad(
            obj.span.clone(),
            "a document is not a Kubernetes object: it has no `apiVersion` and `kind`".into(),
        ));
        return;
    };
    let Some(kind) = kind_node.as_str() else {
        out.malformed
            .push(bad(kind_node.span.clone(), "`kind` is not a string".into()));
        return;
    };
    let metadata = obj.get("metadata");
    let name_node = metadata.and_then(|m| m.get("name").or_else(|| m.get("generateName")));
    let Some(name) = name_node.and_then(Node::as_str) else {
        out.malformed.push(bad(
            metadata.map_or(kind_node.span.clone(), |m| m.span.clone()),
            format!("a `{kind}` has no `metadata.name`"),
        ));
        return;
    };
    let namespace = metadata
        .and_then(|m| m.get("namespace"))
        .and_then(Node::as_str);
    let address = match namespace {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    };
    let at = |n: &Node| Origin::new(file, n.span.clone());
    let header = name_node.map_or_else(|| at(kind_node), at);
    let mut origins = vec![
        (vec!["type".to_string()], at(kind_node)),
        (vec!["name".to_string()], header.clone()),
        (vec!["address".to_string()], header.clone()),
        (vec!["kind".to_string()], at(kind_node)),
    ];
    for (k, v) in obj.entries() {
        if let Some(key) = k.as_str() {
            origins.push((
                vec!["attributes".to_string(), key.to_string()],
                Origin::new(file, k.span.start..v.span.end.max(k.span.end)),
            ));
        }
    }
    items.push(Item {
        span: obj.span.clone(),
        name: format!("object `{address}`"),
        opaque: false,
        target: true,
    });
    let mut fields = BTreeMap::new();
    fields.insert("kind".to_string(), Value::str("resource"));
    fields.insert("type".to_string(), Value::str(kind));
    fields.insert("name".to_string(), Value::str(name));
    fields.insert("address".to_string(), Value::str(&address));
    if let Some((lk, lv)) = metadata.and_then(|m| m.get_entry("labels")) {
        let labels = match value(lv) {
            Value::Map(m) => Value::Map(
                m.into_iter()
                    .map(|(k, v)| match v {
                        Value::Num(_) | Value::Bool(_) => (k, Value::str(&v.to_string())),
                        v => (k, v),
                    })
                    .collect(),
            ),
            other => other,
        };
        fields.insert("tags".to_string(), labels);
        origins.push((
            vec!["tags".to_string()],
            Origin::new(file, lk.span.start..lv.span.end.max(lk.span.end)),
        ));
        for (k, v) in lv.entries() {
            if let Some(key) = k.as_str() {
                origins.push((
                    vec!["tags".to_string(), key.to_string()],
                    Origin::new(file, k.span.start..v.span.end.max(k.span.end)),
                ));
            }
        }
    }
    fields.insert("attributes".to_string(), value(obj));
    out.records.push(ScannedRecord {
        fields,
        origins,
        origin: header,
        address,
        existence: None,
        instances: 1,
    });
}
