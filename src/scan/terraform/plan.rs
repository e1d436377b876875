//! Terraform plan JSON (`terraform show -json plan.out`): what Terraform
//! will actually create, with every variable, module and `count` resolved.
//!
//! One record per resource instance of `planned_values` (root module and
//! nested `child_modules`), with the same fields as the `.tf` scanner:
//! `attributes` are the planned `values`; attributes the plan marks as
//! known only after apply (`resource_changes[].change.after_unknown`) are
//! unknown, never absent; `tags` come from `tags_all` (which includes the
//! AWS provider's `default_tags`), Google's `effective_labels` or `labels`;
//! the region falls back to the provider configuration's constant `region`.
//! The design choice: a finding points at the resource's address in the
//! plan file, and, when the configuration sits beside the plan (the `.tf`
//! files of the plan's directory and its local modules), at the attribute
//! in the `.tf` source as well, so that code scanning can show it in the
//! pull request.

use super::cloud::{cloud_of_provider, normalize_region, own_region};
use super::discover::list_dir;
use super::from_json;
use super::module::{BlockKind, ModuleDef, ParsedFile};
use super::parse::{parse_source, read_source};
use super::records::header_span;
use crate::diag::{Code, Diag};
use crate::scan::{ScanOutput, ScannedRecord};
use crate::source::{Origin, SourceFile};
use crate::value::Value;
use hcl_edit::Span as _;
use serde_json::Value as J;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Whether a path given to `proviso check` is a plan (or state) JSON file:
/// a `.json` file that is neither configuration nor variables.
pub fn is_plan_path(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    path.is_file()
        && name.ends_with(".json")
        && !name.ends_with(".tf.json")
        && !name.ends_with(".tfvars.json")
}

/// The configuration beside a plan: parsed `.tf` files by module path.
struct Config {
    /// `""` for the root module, `module.a.module.b` for nested calls
    /// (instance keys dropped).
    files: BTreeMap<String, Vec<ParsedFile>>,
}

/// Scans one plan file into records.
pub fn scan(path: &Path) -> (ScanOutput, Vec<ScannedRecord>) {
    let mut out = ScanOutput {
        files: 1,
        ..ScanOutput::default()
    };
    let source = match read_source(path) {
        Ok(s) => s,
        Err(d) => {
            out.malformed.push(d);
            return (out, Vec::new());
        }
    };
    let bad = |at: Range<usize>, msg: String, help: &str| {
        Diag::error(Code::InputMalformedPlan, msg)
            .in_file(&source)
            .label(at, "here")
            .with_help(help.to_string())
    };
    let plan: J = match serde_json::from_str(&source.text) {
        Ok(p) => p,
        Err(e) => {
            let at = crate::source::offset_at(&source.text, e.line(), e.column());
            out.malformed.push(bad(
                at..at,
                format!("`{}` is not valid JSON: {e}", source.name),
                "write the plan with `terraform show -json plan.out > plan.json`",
            ));
            return (out, Vec::new());
        }
    };
    let version = plan.get("format_version").and_then(J::as_str).unwrap_or("");
    if version.split('.').next() != Some("1") {
        let at = source.text.find("\"format_version\"").unwrap_or(0);
        out.malformed.push(bad(
            at..at + if at > 0 { 16 } else { 0 },
            format!(
                "`{}` is not a Terraform plan in JSON format 1.x (format_version `{version}`)",
                source.name
            ),
            "proviso reads the output of `terraform show -json` (format_version 1.x)",
        ));
        return (out, Vec::new());
    }
    // A plan has `planned_values`; a state (`terraform show -json` of a
    // state file) has `values` in the same representation.
    let (values_key, values) = match (plan.get("planned_values"), plan.get("values")) {
        (Some(v), _) => ("\"planned_values\"", v),
        (None, Some(v)) => ("\"values\"", v),
        (None, None) => {
            out.malformed.push(bad(
                0..0,
                format!("`{}` has no `planned_values`", source.name),
                "proviso reads the output of `terraform show -json` for a saved plan",
            ));
            return (out, Vec::new());
        }
    };
    let spans = address_spans(&source.text, source.text.find(values_key).unwrap_or(0));
    let unknown: HashMap<&str, &J> = plan
        .get("resource_changes")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some((
                c.get("address")?.as_str()?,
                c.get("change")?.get("after_unknown")?,
            ))
        })
        .collect();
    let configuration = plan.get("configuration");
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let config = beside(&dir, configuration, &mut out);

    let mut records = Vec::new();
    let mut modules = vec![values.get("root_module")];
    while let Some(Some(m)) = modules.pop() {
        for r in m
            .get("resources")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(rec) = record(r, &source, &spans, &unknown, configuration, &config) {
                records.push(rec);
            }
        }
        modules.extend(
            m.get("child_modules")
                .and_then(J::as_array)
                .into_iter()
                .flatten()
                .map(Some),
        );
    }
    out.modules = 1;
    (out, records)
}

/// The `.tf` files beside the plan, and those of the local modules its
/// configuration calls, by module path.
fn beside(dir: &Path, configuration: Option<&J>, out: &mut ScanOutput) -> Config {
    let mut config = Config {
        files: BTreeMap::new(),
    };
    let mut todo: Vec<(String, PathBuf, Option<&J>)> = vec![(
        String::new(),
        dir.to_path_buf(),
        configuration.and_then(|c| c.get("root_module")),
    )];
    while let Some((path, dir, module)) = todo.pop() {
        let Ok(names) = list_dir(&dir) else { continue };
        if names.is_empty() || config.files.contains_key(&path) || config.files.len() > 256 {
            continue;
        }
        let mut files = Vec::new();
        for name in names {
            let Ok(source) = read_source(&name) else {
                continue;
            };
            if let Some(f) = out.absorb(parse_source(source, false)) {
                files.push(f);
            }
        }
        config.files.insert(path.clone(), files);
        let calls = module
            .and_then(|m| m.get("module_calls"))
            .and_then(J::as_object);
        for (name, call) in calls.into_iter().flatten() {
            let source = call.get("source").and_then(J::as_str).unwrap_or("");
            if let Some(child) = super::module::local_module_dir(&dir, source) {
                let child_path = if path.is_empty() {
                    format!("module.{name}")
                } else {
                    format!("{path}.module.{name}")
                };
                todo.push((child_path, child, call.get("module")));
            }
        }
    }
    config
}

/// `module.a["x"].module.b[0]` → `module.a.module.b`.
fn module_path(address: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut prev = '\0';
    for c in address.chars() {
        if in_string {
            if c == '"' && prev != '\\' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '[' {
            depth += 1;
        } else if c == ']' {
            depth = depth.saturating_sub(1);
        } else if depth == 0 {
            out.push(c);
        }
        prev = c;
    }
    out
}

/// The first `"address": "…"` after `from` for every address, as the span
/// of its string literal.
fn address_spans(text: &str, from: usize) -> HashMap<String, Range<usize>> {
    let mut out = HashMap::new();
    let mut at = from;
    while let Some(i) = text.get(at..).and_then(|t| t.find("\"address\"")) {
        let key_end = at + i + "\"address\"".len();
        at = key_end;
        let rest = text.get(key_end..).unwrap_or("");
        let after_colon = rest.trim_start().strip_prefix(':').map(str::trim_start);
        let Some(value) = after_colon.filter(|v| v.starts_with('"')) else {
            continue;
        };
        let start = text.len() - value.len();
        let mut end = start + 1;
        let bytes = text.as_bytes();
        while let Some(&b) = bytes.get(end) {
            end += 1;
            if b == b'\\' {
                end += 1;
            } else if b == b'"' {
                break;
            }
        }
        if let Some(raw) = text.get(start..end)
            && let Ok(address) = serde_json::from_str::<String>(raw)
        {
            out.entry(address).or_insert(start..end);
        }
        at = end;
    }
    out
}

/// Marks the paths `after_unknown` flags as unknown in `value`.
fn mark_unknown(value: &mut Value, unknown: &J, why: &str, at: &Origin) {
    match unknown {
        J::Bool(true) => *value = Value::unknown(why, Some(at.clone())),
        J::Object(m) => {
            if !matches!(value, Value::Map(_)) {
                *value = Value::Map(BTreeMap::new());
            }
            if let Value::Map(map) = value {
                for (k, u) in m {
                    let slot = map.entry(k.clone()).or_insert(Value::Null);
                    mark_unknown(slot, u, why, at);
                }
            }
        }
        J::Array(items) => {
            if let Value::List(list) = value {
                for (i, u) in items.iter().enumerate() {
                    if let Some(slot) = list.get_mut(i) {
                        mark_unknown(slot, u, why, at);
                    }
                }
            }
        }
        _ => {}
    }
}

fn record(
    r: &J,
    source: &Arc<SourceFile>,
    spans: &HashMap<String, Range<usize>>,
    unknown: &HashMap<&str, &J>,
    configuration: Option<&J>,
    config: &Config,
) -> Option<ScannedRecord> {
    let address = r.get("address")?.as_str()?.to_string();
    let ty = r.get("type")?.as_str()?.to_string();
    let name = r.get("name")?.as_str()?.to_string();
    let kind = match r.get("mode").and_then(J::as_str) {
        Some("data") => "data",
        _ => "resource",
    };
    let header = Origin::new(source, spans.get(&address).cloned().unwrap_or(0..0));
    let provider_name = r
        .get("provider_name")
        .and_then(J::as_str)
        .and_then(|p| p.rsplit('/').next())
        .unwrap_or_else(|| ty.split('_').next().unwrap_or(""))
        .to_string();
    let cloud = cloud_of_provider(&provider_name);
    let mut attributes = match r.get("values").map(from_json) {
        Some(Value::Map(m)) => m,
        _ => BTreeMap::new(),
    };
    let module = {
        let p = module_path(&address);
        let local = if kind == "data" {
            format!("data.{ty}.{name}")
        } else {
            format!("{ty}.{name}")
        };
        p.strip_suffix(&local)
            .map(|m| m.trim_end_matches('.').to_string())
            .unwrap_or_default()
    };

    // Where the resource is configured: the plan's configuration (provider
    // key), and the `.tf` block when the configuration is beside the plan.
    let conf_module = configuration.and_then(|c| {
        let mut m = c.get("root_module")?;
        for call in module
            .split('.')
            .filter(|s| !s.is_empty() && *s != "module")
        {
            m = m.get("module_calls")?.get(call)?.get("module")?;
        }
        Some(m)
    });
    let conf_resource = conf_module
        .and_then(|m| m.get("resources"))
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .find(|c| {
            c.get("type").and_then(J::as_str) == Some(ty.as_str())
                && c.get("name").and_then(J::as_str) == Some(name.as_str())
                && c.get("mode") == r.get("mode")
        });
    let provider_cfg = conf_resource
        .and_then(|c| c.get("provider_config_key"))
        .and_then(J::as_str)
        .and_then(|k| configuration?.get("provider_config")?.get(k));
    let block = config.files.get(&module).and_then(|files| {
        let def = ModuleDef::new(PathBuf::new(), files, &Default::default());
        let block_kind = if kind == "data" {
            BlockKind::Data
        } else {
            BlockKind::Resource
        };
        def.resource(block_kind, &ty, &name).map(|res| {
            let loaded = res.load();
            let block = loaded.get();
            let b = block.item;
            let file = block.file.clone();
            let attrs: Vec<(String, Range<usize>, Option<Range<usize>>)> = b
                .body
                .attributes()
                .filter_map(|a| Some((a.key.as_str().to_string(), a.span()?, a.value.span())))
                .collect();
            let labels: Vec<Option<Range<usize>>> = b.labels.iter().map(|l| l.span()).collect();
            (file, header_span(b), attrs, labels)
        })
    });

    let mut origins: Vec<(Vec<String>, Origin)> = Vec::new();
    let attr_origin = |key: &str| -> Option<Origin> {
        let (file, _, attrs, _) = block.as_ref()?;
        attrs
            .iter()
            .find(|(k, _, _)| k == key)
            .and_then(|(_, _, v)| v.clone())
            .map(|s| Origin::new(file, s))
    };
    // What the plan only knows after apply is unknown (not absent), pointing
    // at the attribute in the `.tf` source when there is one.
    if let Some(J::Object(u)) = unknown.get(address.as_str()) {
        for (k, flags) in u {
            let written = if k == "tags_all" { "tags" } else { k.as_str() };
            let at = attr_origin(written)
                .or_else(|| attr_origin(k))
                .unwrap_or_else(|| header.clone());
            let why = format!("`{k}` is known only after apply");
            let slot = attributes.entry(k.clone()).or_insert(Value::Null);
            mark_unknown(slot, flags, &why, &at);
        }
    }
    let type_origin = block
        .as_ref()
        .and_then(|(file, _, _, labels)| {
            labels
                .first()
                .cloned()
                .flatten()
                .map(|s| Origin::new(file, s))
        })
        .unwrap_or_else(|| header.clone());
    if let Some((file, _, attrs, _)) = &block {
        for (k, span, _) in attrs {
            origins.push((
                vec!["attributes".into(), k.clone()],
                Origin::new(file, span.clone()),
            ));
        }
    }
    for f in ["type", "cloud"] {
        origins.push((vec![f.into()], type_origin.clone()));
    }
    for f in ["name", "address", "kind"] {
        origins.push((vec![f.into()], header.clone()));
    }

    let mut fields = BTreeMap::new();
    fields.insert("kind".to_string(), Value::str(kind));
    fields.insert("type".to_string(), Value::str(&ty));
    fields.insert("name".to_string(), Value::str(&name));
    fields.insert("address".to_string(), Value::str(&address));
    fields.insert("provider".to_string(), Value::str(&provider_name));
    if !module.is_empty() {
        fields.insert("module".to_string(), Value::str(&module));
    }
    if let Some(c) = cloud {
        fields.insert("cloud".to_string(), Value::str(c));
    }

    let region = match own_region(cloud, &attributes) {
        Some((k, v)) => {
            if let Some(o) = attr_origin(k) {
                origins.push((vec!["region".into()], o));
            }
            Some(normalize_region(cloud, k, v))
        }
        None => match provider_cfg
            .and_then(|p| p.get("expressions")?.get("region")?.get("constant_value"))
            .and_then(J::as_str)
        {
            Some(r) => Some(Value::str(r)),
            None if cloud == Some("aws") => Some(Value::unknown(
                "the plan's provider configuration sets no constant `region`: it came from the environment",
                Some(header.clone()),
            )),
            None => None,
        },
    };
    if let Some(r) = region {
        fields.insert("region".to_string(), r);
    }

    let tag_keys: &[&str] = match cloud {
        Some("gcp") => &["effective_labels", "labels"],
        _ => &["tags_all", "tags", "labels"],
    };
    if let Some((k, t)) = tag_keys.iter().find_map(|k| {
        attributes
            .get(*k)
            .filter(|v| !matches!(v, Value::Null))
            .map(|v| (*k, v.clone()))
    }) {
        let written = if k == "tags_all" { "tags" } else { k };
        let o = attr_origin(written)
            .or_else(|| attr_origin(k))
            .unwrap_or_else(|| header.clone());
        origins.push((vec!["tags".into()], o));
        fields.insert("tags".to_string(), t);
    }
    fields.insert("attributes".to_string(), Value::Map(attributes));

    Some(ScannedRecord {
        instances: 1,
        fields,
        origins,
        origin: header,
        address,
        existence: None,
    })
}
