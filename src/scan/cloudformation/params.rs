//! CloudFormation parameters files given with `--var-file`: the list that
//! `aws cloudformation create-stack --parameters file://…` reads
//! (`[{"ParameterKey": …, "ParameterValue": …}]`), and the object of a
//! CodePipeline template configuration or `aws cloudformation deploy`
//! (`{"Parameters": {NAME: VALUE}, "Tags": {KEY: VALUE}}`), whose `Tags`
//! CloudFormation puts on every resource of the stack.

use crate::diag::{Code, Diag};
use crate::source::display_path;
use std::collections::BTreeMap;
use std::path::Path;

/// What parameters files set.
#[derive(Debug, Clone, Default)]
pub struct Parameters {
    pub values: BTreeMap<String, String>,
    /// Stack tags, applied to every resource under its own tags.
    pub tags: BTreeMap<String, String>,
}

/// Whether a JSON text has the shape of a CloudFormation parameters file
/// (and not of a `.tfvars.json` or an ARM parameters file).
pub fn looks_like_parameters(json: &serde_json::Value) -> bool {
    match json {
        serde_json::Value::Array(items) => items
            .first()
            .is_some_and(|i| i.get("ParameterKey").is_some()),
        serde_json::Value::Object(m) => {
            !m.contains_key("$schema")
                && m.get("Parameters").is_some_and(|p| p.is_object())
                && m.keys()
                    .all(|k| matches!(k.as_str(), "Parameters" | "Tags" | "StackPolicy"))
        }
        _ => false,
    }
}

/// A JSON scalar as CloudFormation passes it: a string.
fn text_of(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        // A list parameter written as a JSON list.
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .filter_map(text_of)
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

/// Adds what one parameters file sets to `into` (a later file wins).
pub fn read(path: &Path, json: &serde_json::Value, into: &mut Parameters) -> Result<(), Diag> {
    let bad = |why: &str| {
        Diag::error(
            Code::InputMalformedParameters,
            format!("`{}` is not a CloudFormation parameters file: {why}", display_path(path)),
        )
        .with_help("write `[{\"ParameterKey\": \"Env\", \"ParameterValue\": \"prod\"}]` or `{\"Parameters\": {\"Env\": \"prod\"}}`")
    };
    match json {
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let key = item.get("ParameterKey").and_then(|k| k.as_str());
                let value = item.get("ParameterValue").and_then(text_of);
                let previous = item
                    .get("UsePreviousValue")
                    .and_then(|b| b.as_bool())
                    .unwrap_or(false);
                match (key, value) {
                    (Some(k), Some(v)) => {
                        into.values.insert(k.to_string(), v);
                    }
                    // The stack's current value: not in the file, so the
                    // parameter keeps its default (or stays unknown).
                    (Some(_), None) if previous => {}
                    _ => {
                        return Err(bad(&format!(
                            "item {} has no `ParameterKey` and `ParameterValue` strings",
                            i + 1
                        )));
                    }
                }
            }
        }
        serde_json::Value::Object(m) => {
            let Some(params) = m.get("Parameters").and_then(|p| p.as_object()) else {
                return Err(bad("`Parameters` is not an object"));
            };
            for (k, v) in params {
                let Some(v) = text_of(v) else {
                    return Err(bad(&format!("parameter `{k}` is not a string")));
                };
                into.values.insert(k.clone(), v);
            }
            if let Some(tags) = m.get("Tags") {
                let Some(tags) = tags.as_object() else {
                    return Err(bad("`Tags` is not an object"));
                };
                for (k, v) in tags {
                    if let Some(v) = text_of(v) {
                        into.tags.insert(k.clone(), v);
                    }
                }
            }
        }
        _ => return Err(bad("neither a list nor an object")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_are_read() {
        let mut p = Parameters::default();
        let list = serde_json::json!([{"ParameterKey": "Env", "ParameterValue": "prod"},
                                     {"ParameterKey": "Count", "ParameterValue": 3}]);
        assert!(looks_like_parameters(&list));
        assert!(read(Path::new("p.json"), &list, &mut p).is_ok());
        let obj = serde_json::json!({"Parameters": {"Env": "dev"}, "Tags": {"team": "a"}});
        assert!(looks_like_parameters(&obj));
        assert!(read(Path::new("c.json"), &obj, &mut p).is_ok());
        assert_eq!(p.values.get("Env").map(String::as_str), Some("dev"));
        assert_eq!(p.values.get("Count").map(String::as_str), Some("3"));
        assert_eq!(p.tags.get("team").map(String::as_str), Some("a"));
        // tfvars.json and ARM parameters are not CloudFormation's.
        assert!(!looks_like_parameters(&serde_json::json!({"env": "prod"})));
        assert!(!looks_like_parameters(&serde_json::json!({
            "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
            "Parameters": {}
        })));
    }
}
