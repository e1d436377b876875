//! Azure Front Door access logs (category `FrontDoorAccessLog`), as
//! exported by a diagnostic setting: one JSON record per line, the request
//! under `properties`.
//!
//! A diagnostic setting sends the access log, the health probe log and the
//! WAF log to the same place, told apart by `category`: only access
//! records are requests; the others are counted by kind, never judged (a
//! WAF record repeats the request of its access record).
//!
//! Field names are those of the Standard/Premium access log: `time`,
//! `resourceId`, `category`, `operationName`, and under `properties`
//! `trackingReference`, `httpMethod`, `httpVersion`, `requestUri`,
//! `hostName`, `requestBytes`, `responseBytes`, `userAgent`, `clientIp`,
//! `clientPort`, `socketIp`, `timeToFirstByte`, `timeTaken`,
//! `requestProtocol`, `securityProtocol`, `httpStatusCode`, `pop`,
//! `cacheStatus`, `errorInfo`, `endpoint`, `originIp`, `originName`, … .
//! Rules reach them by path (`properties.pop`). Every request was served
//! by Azure, so `cloud` is `azure`; Front Door logs name an edge (`pop`),
//! not a region, so `region` is absent unless IP ranges give it.

use super::jsonl::{JsonParser, JsonVocab};
use super::{FormatSpec, Kind, Transform};

pub const VOCAB: JsonVocab = &[
    ("timestamp", "time", Transform::None),
    ("host", "properties.hostName", Transform::Host),
    // The classic Front Door log (`FrontdoorAccessLog`) has no `hostName`:
    // its `requestUri` is the full URL.
    ("host", "properties.requestUri", Transform::Host),
    ("path", "properties.requestUri", Transform::Path),
    ("method", "properties.httpMethod", Transform::None),
    ("status", "properties.httpStatusCode", Transform::None),
    ("client_ip", "properties.clientIp", Transform::Ip),
    ("target_ip", "properties.originIp", Transform::Ip),
    ("bytes_in", "properties.requestBytes", Transform::None),
    ("bytes_out", "properties.responseBytes", Transform::None),
    // What the record is (`FrontDoorAccessLog`, `FrontDoorHealthProbeLog`,
    // `FrontDoorWebApplicationFirewallLog`): see `Kind::of_azure_category`.
    ("kind", "category", Transform::None),
];

/// The `azure-frontdoor` format: the JSON-lines parser with [`VOCAB`].
pub const FORMAT: FormatSpec = FormatSpec {
    name: "azure-frontdoor",
    about: "Azure Front Door access logs (diagnostic-settings JSON)",
    json: true,
    cloud: Some("azure"),
    kind: Some(Kind::of_azure_category),
    header_line: false,
    parser: |s| Box::new(JsonParser::new(s.slots, VOCAB, s.overrides)),
};
