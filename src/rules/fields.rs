//! The fields a rule may name: the one list that checking, "did you
//! mean", `lint` and `explain`'s coverage all read.
//!
//! A field is one of: the shared vocabulary ([`KNOWN_FIELDS`]); a path
//! under an open namespace ([`OPEN_NAMESPACES`]: `tags.*`, `attributes.*`,
//! `properties.*`), whose keys are the user's own; a log format's own
//! field names, taken from the scanners' own column and key lists (so a
//! format that learns a column is known here at once); or a field the rule
//! files declare with `field <path> "what it is"` (a JSON-lines or CSV
//! export's own key). Anything else is a field no input can have, and
//! checking rejects it: a misspelt field would otherwise be absent on every
//! record, and absent makes every comparison false, which turns a typo
//! into a silent pass or a false violation.

use crate::scan::logs;
use crate::value::FieldPath;
use std::sync::LazyLock;

/// A top-level field that some scanner produces.
pub struct KnownField {
    pub name: &'static str,
    pub about: &'static str,
    /// Filled by the Terraform scanner.
    pub terraform: bool,
    /// Filled by the log scanners (some only with `--ip-ranges`).
    pub logs: bool,
}

const fn field(name: &'static str, about: &'static str, terraform: bool, logs: bool) -> KnownField {
    KnownField {
        name,
        about,
        terraform,
        logs,
    }
}

/// The shared vocabulary (the fields every input fills under one name, as
/// the README's "The rule language", **Fields**, lists them), plus the
/// containers of raw fields: the one list that "did you mean",
/// unknown-field warnings and `explain`'s coverage all read.
pub const KNOWN_FIELDS: &[KnownField] = &[
    field("cloud", "azure / aws / gcp / oracle / …", true, true),
    field("region", "cloud region", true, true),
    field("kind", "resource / data / module / request", true, true),
    field("type", "Terraform resource type", true, false),
    field("name", "Terraform block name", true, false),
    field(
        "address",
        "Terraform address, with module path and instance key",
        true,
        false,
    ),
    field("tags", "tags and labels, one map", true, false),
    field(
        "attributes",
        "a Terraform block's own attributes",
        true,
        false,
    ),
    field(
        "provider",
        "the provider configuration a resource uses (`aws.west`)",
        true,
        false,
    ),
    field(
        "module",
        "the module path of a Terraform block",
        true,
        false,
    ),
    field("timestamp", "when (UTC)", false, true),
    field("host", "request host", false, true),
    field("path", "request path", false, true),
    field("method", "request method", false, true),
    field("status", "response status", false, true),
    field("client_ip", "client address", false, true),
    field("target_ip", "backend address", false, true),
    field("bytes_in", "request bytes", false, true),
    field("bytes_out", "response bytes", false, true),
    field(
        "client_cloud",
        "cloud of the client address, from --ip-ranges",
        false,
        true,
    ),
    field(
        "client_region",
        "region of the client address, from --ip-ranges",
        false,
        true,
    ),
    field(
        "client_service",
        "service of the client address, from --ip-ranges",
        false,
        true,
    ),
    field(
        "target_cloud",
        "cloud of the backend address, from --ip-ranges",
        false,
        true,
    ),
    field(
        "target_region",
        "region of the backend address, from --ip-ranges",
        false,
        true,
    ),
    field(
        "target_service",
        "service of the backend address, from --ip-ranges",
        false,
        true,
    ),
    field(
        "service",
        "cloud service of the backend address, from --ip-ranges",
        false,
        true,
    ),
];

/// The known field named `name`, if any.
pub fn known_field(name: &str) -> Option<&'static KnownField> {
    KNOWN_FIELDS.iter().find(|f| f.name == name)
}

/// A namespace whose keys are the user's own: any path under it may exist.
pub struct Namespace {
    pub name: &'static str,
    pub about: &'static str,
}

/// The open namespaces.
pub const OPEN_NAMESPACES: &[Namespace] = &[
    Namespace {
        name: "tags",
        about: "Terraform tags and labels (`tags.product`, `tags[\"api-mode\"]`)",
    },
    Namespace {
        name: "attributes",
        about: "a Terraform block's own attributes (`attributes.location`)",
    },
    Namespace {
        name: "properties",
        about: "an Azure log record's properties (`properties.pop`)",
    },
];

/// Keys of an Azure resource log record besides `properties` (Microsoft's
/// common schema, as Front Door writes it).
const AZURE_RECORD_KEYS: &[&str] = &[
    "time",
    "resourceId",
    "category",
    "operationName",
    "properties",
];

/// Each log format's own field names, as rules write them (normalised:
/// every character other than a letter, digit or `_` becomes `_`).
pub static FORMAT_FIELDS: LazyLock<Vec<(&'static str, Vec<String>)>> = LazyLock::new(|| {
    let norm =
        |names: &[&str]| -> Vec<String> { names.iter().map(|n| logs::normalize_name(n)).collect() };
    let json_keys = |vocab: logs::jsonl::JsonVocab| -> Vec<String> {
        let mut keys: Vec<String> = vocab
            .iter()
            .filter_map(|(_, key, _)| key.split('.').next())
            .map(logs::normalize_name)
            .collect();
        keys.sort();
        keys.dedup();
        keys
    };
    let mut frontdoor = json_keys(logs::azure_frontdoor::VOCAB);
    frontdoor.extend(norm(AZURE_RECORD_KEYS));
    frontdoor.sort();
    frontdoor.dedup();
    let with = |mut keys: Vec<String>, more: &[&str]| {
        keys.extend(norm(more));
        keys.sort();
        keys.dedup();
        keys
    };
    vec![
        ("alb", norm(logs::alb::COLUMNS)),
        ("cloudfront", norm(logs::cloudfront::DEFAULT_FIELDS)),
        ("nginx", norm(logs::nginx::COLUMNS)),
        ("azure-frontdoor", frontdoor),
        // AWS's documented access-log templates name these too.
        (
            "aws-apigateway",
            with(
                json_keys(logs::apigateway::VOCAB),
                &["requestId", "caller", "user", "protocol"],
            ),
        ),
        (
            "azure-appgateway",
            with(
                with(json_keys(logs::appgateway::VOCAB), AZURE_RECORD_KEYS),
                // Top-level keys of Azure's documented access-log record.
                &[
                    "timeStamp",
                    "listenerName",
                    "ruleName",
                    "backendPoolName",
                    "backendSettingName",
                ],
            ),
        ),
        ("jsonl, csv, parquet", json_keys(logs::jsonl::VOCAB)),
    ]
});

/// Where a field a rule names comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Vocabulary,
    Namespace(&'static str),
    /// A log format's own field (the formats that have it).
    Format(String),
    Declared,
}

/// Where `path` comes from, or `None` if no input can have it. `declared`
/// are the paths of the rule set's `field` declarations: a declared path
/// covers every path under it.
pub fn origin(path: &FieldPath, declared: &[FieldPath]) -> Option<Origin> {
    let root = path.root();
    if let Some(ns) = OPEN_NAMESPACES.iter().find(|n| n.name == root) {
        return Some(Origin::Namespace(ns.name));
    }
    if known_field(root).is_some() {
        return Some(Origin::Vocabulary);
    }
    let formats: Vec<&str> = FORMAT_FIELDS
        .iter()
        .filter(|(_, names)| names.iter().any(|n| n == root))
        .map(|(f, _)| *f)
        .collect();
    if !formats.is_empty() {
        return Some(Origin::Format(formats.join(", ")));
    }
    declared
        .iter()
        .any(|d| path.0.starts_with(&d.0))
        .then_some(Origin::Declared)
}

/// Every one-word name a rule may start a field with, for "did you mean":
/// the vocabulary, the namespaces and the formats' own names.
pub fn root_names() -> impl Iterator<Item = &'static str> {
    KNOWN_FIELDS
        .iter()
        .map(|f| f.name)
        .chain(OPEN_NAMESPACES.iter().map(|n| n.name))
        .chain(
            FORMAT_FIELDS
                .iter()
                .flat_map(|(_, names)| names.iter().map(String::as_str)),
        )
}

/// One line naming what a field may be, for help texts and `lint`.
pub fn summary() -> String {
    let vocab: Vec<&str> = KNOWN_FIELDS.iter().map(|f| f.name).collect();
    let spaces: Vec<String> = OPEN_NAMESPACES
        .iter()
        .map(|n| format!("`{}.*`", n.name))
        .collect();
    format!(
        "fields are the shared vocabulary ({}), {}, or a log format's own names (`elb_status_code`, `x_edge_location`, `remote_user`, …: see the README)",
        vocab.join(", "),
        spaces.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log scanners' vocabulary is the vocabulary checking knows.
    #[test]
    fn every_scanner_vocabulary_field_is_known_to_the_rules() {
        for name in logs::VOCABULARY {
            assert!(
                known_field(name).is_some_and(|f| f.logs),
                "`{name}` is filled by the log scanners but unknown to the rules"
            );
        }
    }

    #[test]
    fn format_names_namespaces_and_declarations_are_fields() {
        let path = |s: &str| FieldPath(s.split('.').map(str::to_string).collect());
        assert_eq!(origin(&path("cloud"), &[]), Some(Origin::Vocabulary));
        assert_eq!(
            origin(&path("tags.anything"), &[]),
            Some(Origin::Namespace("tags"))
        );
        assert_eq!(
            origin(&path("elb_status_code"), &[]),
            Some(Origin::Format("alb".into()))
        );
        assert_eq!(
            origin(&path("cs_Host_"), &[]),
            Some(Origin::Format("cloudfront".into()))
        );
        assert_eq!(
            origin(&path("properties.pop"), &[]),
            Some(Origin::Namespace("properties"))
        );
        assert_eq!(
            origin(&path("category"), &[]),
            Some(Origin::Format("azure-frontdoor, azure-appgateway".into()))
        );
        // The formats added after the table was written answer to their
        // own names too.
        assert_eq!(
            origin(&path("routeKey"), &[]),
            Some(Origin::Format("aws-apigateway".into()))
        );
        assert_eq!(
            origin(&path("requestId"), &[]),
            Some(Origin::Format("aws-apigateway".into()))
        );
        assert_eq!(
            origin(&path("listenerName"), &[]),
            Some(Origin::Format("azure-appgateway".into()))
        );
        assert!(matches!(
            origin(&path("operationName"), &[]),
            Some(Origin::Format(f)) if f.contains("azure-appgateway")
        ));
        // Every format of the table of formats has its own names here.
        for format in logs::LogFormat::ALL {
            let name = format.spec().name;
            assert!(
                FORMAT_FIELDS
                    .iter()
                    .any(|(f, _)| f.split(", ").any(|n| n == name)),
                "{name} has no entry in FORMAT_FIELDS"
            );
        }
        assert_eq!(origin(&path("datacenter_code"), &[]), None);
        assert_eq!(
            origin(&path("trace.id"), &[path("trace")]),
            Some(Origin::Declared)
        );
        assert_eq!(origin(&path("trace.id"), &[path("trace.span")]), None);
    }
}
