//! Azure Application Gateway access logs, as a diagnostic setting exports
//! them (category `ApplicationGatewayAccessLog`): one JSON record per
//! line (or `{"records": […]}` documents, see `json_stream`), the request
//! under `properties`, with the names of Microsoft's documented example:
//! `timeStamp`, `listenerName`, `ruleName`, `backendPoolName`,
//! `operationName`, `category`, and under `properties` `instanceId`,
//! `clientIP`, `clientPort`, `httpMethod`, `originalRequestUriWithArgs`,
//! `requestUri` (after any rewrite), `requestQuery`, `userAgent`,
//! `httpStatus`, `httpVersion`, `receivedBytes`, `sentBytes`,
//! `timeTaken`, `sslProtocol`, `serverRouted` (the backend's
//! `address:port`), `serverStatus`, `originalHost`, `host`.
//!
//! The firewall and performance logs go to the same destination, told
//! apart by `category`: only access records are requests (see
//! `Kind::of_azure_category`). Every request was served by Azure.

use super::jsonl::{JsonParser, JsonVocab};
use super::{FormatSpec, Kind, Transform};

pub const VOCAB: JsonVocab = &[
    ("timestamp", "timeStamp", Transform::None),
    ("timestamp", "time", Transform::None),
    ("host", "properties.host", Transform::Host),
    ("host", "properties.originalHost", Transform::Host),
    ("path", "properties.requestUri", Transform::Path),
    (
        "path",
        "properties.originalRequestUriWithArgs",
        Transform::Path,
    ),
    ("method", "properties.httpMethod", Transform::None),
    ("status", "properties.httpStatus", Transform::None),
    ("client_ip", "properties.clientIP", Transform::Ip),
    ("target_ip", "properties.serverRouted", Transform::Ip),
    ("bytes_in", "properties.receivedBytes", Transform::None),
    ("bytes_out", "properties.sentBytes", Transform::None),
    ("kind", "category", Transform::None),
];

/// The `azure-appgateway` format: the JSON-lines parser with [`VOCAB`].
pub const FORMAT: FormatSpec = FormatSpec {
    name: "azure-appgateway",
    about: "Azure Application Gateway access logs (diagnostic-settings JSON)",
    json: true,
    cloud: Some("azure"),
    kind: Some(Kind::of_azure_category),
    header_line: false,
    parser: |s| Box::new(JsonParser::new(s.slots, VOCAB, s.overrides)),
};
