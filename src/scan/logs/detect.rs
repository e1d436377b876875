//! Detecting a log's format from its first bytes, for inputs given
//! without `--log-format`.
//!
//! One ordered decision over every format, first match wins: a JSON
//! record by what it says it is (an Azure category, CloudFront's or API
//! Gateway's keys), else JSON lines; then the text formats by their
//! first line (CloudFront's `#Fields:`, ALB's type and time, nginx's
//! `combined`, CloudFront without its header), and any delimited line
//! as CSV. The order is part of the answer (an nginx line whose URL holds
//! `x-edge-location` is nginx's), which is why it is code, not a column
//! of the format table.

use super::format::LogFormat;
use super::timestamp::parse_timestamp;
use super::{apigateway, cloudfront, nginx};

/// Detects a log's format from its first bytes (after decompression).
pub fn detect(head: &[u8]) -> Option<LogFormat> {
    // A Parquet file by its magic bytes (its footer is checked when it is
    // opened).
    if super::parquet::is_parquet(head) {
        return Some(LogFormat::Parquet);
    }
    let text = String::from_utf8_lossy(head);
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim_start_matches('\u{feff}');
    let trimmed = first.trim_start();
    if trimmed.starts_with('{') {
        if let Some(format) = detect_json(trimmed) {
            return Some(format);
        }
        let is_frontdoor = trimmed.contains("\"FrontDoorAccessLog\"")
            || trimmed.contains("\"FrontdoorAccessLog\"")
            || (trimmed.contains("\"properties\"")
                && trimmed.contains("\"trackingReference\"")
                && trimmed.contains("\"requestUri\""));
        return Some(if is_frontdoor {
            LogFormat::AzureFrontdoor
        } else {
            LogFormat::Jsonl
        });
    }
    if first.starts_with("#Version:") || first.starts_with("#Fields:") {
        return Some(LogFormat::Cloudfront);
    }
    let mut words = first.split(' ');
    let kind = words.next().unwrap_or("");
    let time = words.next().unwrap_or("");
    if ["http", "https", "h2", "grpcs", "ws", "wss"].contains(&kind)
        && parse_timestamp(time).is_some()
    {
        return Some(LogFormat::Alb);
    }
    if nginx::looks_like(first) {
        return Some(LogFormat::Nginx);
    }
    // CloudFront without its `#` header lines (stripped, or standard
    // logging v2 set to plain output): a date, then a time, tab-separated.
    let mut cells = first.split('\t');
    if let (Some(date), Some(time)) = (cells.next(), cells.next())
        && crate::date::Date::parse(date).is_ok()
        && parse_timestamp(&format!("{date}T{time}Z")).is_some()
    {
        return Some(LogFormat::Cloudfront);
    }
    // A header line of CloudFront's field names (a CSV of a standard
    // logging v2 export).
    if cloudfront::names_cloudfront_fields(first) {
        return Some(LogFormat::Cloudfront);
    }
    if first.contains(',') || first.contains('\t') || first.contains(';') {
        return Some(LogFormat::Csv);
    }
    None
}

/// The format of a JSON record by what it says it is: an Azure
/// diagnostic record by its `category` (or `operationName`), an API
/// Gateway entry by its keys. `None`: a JSON line of no known vendor (or
/// not JSON).
fn detect_json(line: &str) -> Option<LogFormat> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let record = value.as_object()?;
    let text = |k: &str| {
        record
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default()
    };
    let (category, operation) = (text("category"), text("operationName"));
    if category.starts_with("frontdoor")
        || operation.starts_with("microsoft.cdn/profiles")
        || operation.starts_with("microsoft.network/frontdoor")
    {
        return Some(LogFormat::AzureFrontdoor);
    }
    if category.starts_with("applicationgateway") || operation.starts_with("applicationgateway") {
        return Some(LogFormat::AzureAppGateway);
    }
    if ["cs-uri-stem", "x-edge-location", "x-edge-request-id"]
        .iter()
        .any(|f| record.contains_key(*f))
    {
        return Some(LogFormat::Cloudfront);
    }
    apigateway::looks_like(record).then_some(LogFormat::AwsApiGateway)
}
