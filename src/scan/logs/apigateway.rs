//! AWS API Gateway access logs in the JSON format AWS documents (REST and
//! HTTP APIs, "Set up CloudWatch logging"): one JSON object per line, its
//! keys chosen by the stage's `$context` template. The names here are
//! those of AWS's documented templates:
//!
//! ```text
//! { "requestId":"$context.requestId", "ip": "$context.identity.sourceIp",
//!   "caller":"$context.identity.caller", "user":"$context.identity.user",
//!   "requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod",
//!   "resourcePath":"$context.resourcePath", "status":"$context.status",
//!   "protocol":"$context.protocol", "responseLength":"$context.responseLength" }
//! ```
//!
//! and the HTTP API's (`routeKey` for `resourcePath`), with the other
//! `$context` variables users add under their own names (`domainName`,
//! `path`, `requestTimeEpoch`, `sourceIp`). `requestTime` is in the Common
//! Log Format (`01/Mar/2026:10:00:00 +0000`), to the second;
//! `requestTimeEpoch` (milliseconds) is preferred when both are there.
//! `path` is the path called; `resourcePath` the resource's template
//! (`/pets/{petId}`); `routeKey` (`GET /pets`) is read as a request line.
//! Every request was served by AWS (`cloud` is `aws`).

use super::jsonl::{JsonParser, JsonVocab};
use super::{FormatSpec, Transform};

pub const VOCAB: JsonVocab = &[
    ("timestamp", "requestTimeEpoch", Transform::None),
    ("timestamp", "requestTime", Transform::None),
    ("host", "domainName", Transform::Host),
    ("path", "path", Transform::Path),
    ("path", "resourcePath", Transform::Path),
    ("path", "routeKey", Transform::ReqPath),
    ("method", "httpMethod", Transform::None),
    ("method", "routeKey", Transform::ReqMethod),
    ("status", "status", Transform::None),
    ("client_ip", "ip", Transform::Ip),
    ("client_ip", "sourceIp", Transform::Ip),
    ("client_ip", "identity.sourceIp", Transform::Ip),
    ("bytes_out", "responseLength", Transform::None),
];

/// The `aws-apigateway` format: the JSON-lines parser with [`VOCAB`].
pub const FORMAT: FormatSpec = FormatSpec {
    name: "aws-apigateway",
    about: "AWS API Gateway access logs (AWS's documented JSON format)",
    json: true,
    cloud: Some("aws"),
    kind: None,
    header_line: false,
    parser: |s| Box::new(JsonParser::new(s.slots, VOCAB, s.overrides)),
};

/// Whether a JSON record (its keys) is an API Gateway access log entry:
/// the `requestId` and a request time of AWS's templates.
pub fn looks_like(record: &serde_json::Map<String, serde_json::Value>) -> bool {
    let has = |k: &str| record.keys().any(|key| key.eq_ignore_ascii_case(k));
    has("requestId") && (has("requestTime") || has("requestTimeEpoch"))
}
