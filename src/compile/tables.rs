//! Tables as the clouds document them for Athena, so that an analyst can
//! paste a compiled statement into Athena as it is.
//!
//! - `alb-athena`: the `alb_access_logs` table of the Athena user guide
//!   ("Query Application Load Balancer logs"), whose `request_verb`,
//!   `request_url` and `request_proto` split the log's request line, and
//!   whose `time` is ISO 8601 text;
//! - `cloudfront-athena`: the `cloudfront_standard_logs` table of the
//!   Athena user guide ("Create a table for CloudFront standard logs"),
//!   with the log's W3C field names (`c_ip`, `cs_host`, `x_host_header`)
//!   and its time split into `date` (DATE) and `time` (`HH:MM:SS` text).
//!
//! Each maps the shared vocabulary to those columns the way the audit's
//! own `alb` and `cloudfront` formats map the log files (the host of the
//! request URL, else the TLS name, for ALB; the viewer's `Host` header,
//! else the distribution's domain, for CloudFront; `cloud` is `aws` for
//! both), and any other field a rule names is the documented column of
//! that name.

use super::dialect::Dialect;
use super::schema::{ColType, Column, Schema};
use crate::scan::logs::Transform;
use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// AWS's documented Athena table for ALB access logs (`alb_access_logs`)
    AlbAthena,
    /// AWS's documented Athena table for CloudFront standard logs (`cloudfront_standard_logs`)
    CloudfrontAthena,
}

/// `alb_access_logs`, in the documented order.
const ALB: &[(&str, &str)] = &[
    ("type", "string"),
    ("time", "string"),
    ("elb", "string"),
    ("client_ip", "string"),
    ("client_port", "int"),
    ("target_ip", "string"),
    ("target_port", "int"),
    ("request_processing_time", "double"),
    ("target_processing_time", "double"),
    ("response_processing_time", "double"),
    ("elb_status_code", "int"),
    ("target_status_code", "string"),
    ("received_bytes", "bigint"),
    ("sent_bytes", "bigint"),
    ("request_verb", "string"),
    ("request_url", "string"),
    ("request_proto", "string"),
    ("user_agent", "string"),
    ("ssl_cipher", "string"),
    ("ssl_protocol", "string"),
    ("target_group_arn", "string"),
    ("trace_id", "string"),
    ("domain_name", "string"),
    ("chosen_cert_arn", "string"),
    ("matched_rule_priority", "string"),
    ("request_creation_time", "string"),
    ("actions_executed", "string"),
    ("redirect_url", "string"),
    ("lambda_error_reason", "string"),
    ("target_port_list", "string"),
    ("target_status_code_list", "string"),
    ("classification", "string"),
    ("classification_reason", "string"),
    ("conn_trace_id", "string"),
];

/// `cloudfront_standard_logs`, in the documented order.
const CLOUDFRONT: &[(&str, &str)] = &[
    ("date", "date"),
    ("time", "string"),
    ("x_edge_location", "string"),
    ("sc_bytes", "bigint"),
    ("c_ip", "string"),
    ("cs_method", "string"),
    ("cs_host", "string"),
    ("cs_uri_stem", "string"),
    ("sc_status", "int"),
    ("cs_referrer", "string"),
    ("cs_user_agent", "string"),
    ("cs_uri_query", "string"),
    ("cs_cookie", "string"),
    ("x_edge_result_type", "string"),
    ("x_edge_request_id", "string"),
    ("x_host_header", "string"),
    ("cs_protocol", "string"),
    ("cs_bytes", "bigint"),
    ("time_taken", "float"),
    ("x_forwarded_for", "string"),
    ("ssl_protocol", "string"),
    ("ssl_cipher", "string"),
    ("x_edge_response_result_type", "string"),
    ("cs_protocol_version", "string"),
    ("fle_status", "string"),
    ("fle_encrypted_fields", "int"),
    ("c_port", "int"),
    ("time_to_first_byte", "float"),
    ("x_edge_detailed_result_type", "string"),
    ("sc_content_type", "string"),
    ("sc_content_len", "bigint"),
    ("sc_range_start", "bigint"),
    ("sc_range_end", "bigint"),
];

impl TableFormat {
    pub fn name(self) -> &'static str {
        match self {
            TableFormat::AlbAthena => "alb-athena",
            TableFormat::CloudfrontAthena => "cloudfront-athena",
        }
    }

    /// The table's name in AWS's documentation (the default `--table`).
    pub fn table_name(self) -> &'static str {
        match self {
            TableFormat::AlbAthena => "alb_access_logs",
            TableFormat::CloudfrontAthena => "cloudfront_standard_logs",
        }
    }

    /// The documented columns.
    pub fn schema(self) -> Schema {
        let cols = match self {
            TableFormat::AlbAthena => ALB,
            TableFormat::CloudfrontAthena => CLOUDFRONT,
        };
        Schema {
            columns: cols
                .iter()
                .map(|(n, t)| Column {
                    path: vec![(*n).to_string()],
                    ty: ColType::parse(t).unwrap_or(ColType::Text),
                })
                .collect(),
        }
    }

    /// The cloud every record of the table was served by.
    pub fn cloud(self) -> Option<&'static str> {
        Some("aws")
    }

    /// Where the field `name` comes from, best first: (expression over the
    /// table row `t`, its type, its transform).
    pub fn sources(self, d: Dialect, name: &str) -> Vec<(String, ColType, Transform)> {
        let col = |c: &str| format!("t.{}", d.ident(c));
        let text = |c: &str, t: Transform| (col(c), ColType::Text, t);
        let typed = |c: &str, ty: ColType| (col(c), ty, Transform::None);
        match (self, name) {
            (TableFormat::AlbAthena, "timestamp") => vec![text("time", Transform::None)],
            (TableFormat::AlbAthena, "host") => vec![
                text("request_url", Transform::Host),
                text("domain_name", Transform::Host),
            ],
            (TableFormat::AlbAthena, "path") => vec![text("request_url", Transform::Path)],
            (TableFormat::AlbAthena, "method") => vec![text("request_verb", Transform::None)],
            (TableFormat::AlbAthena, "status") => vec![typed("elb_status_code", ColType::Int)],
            (TableFormat::AlbAthena, "client_ip") => vec![text("client_ip", Transform::Ip)],
            (TableFormat::AlbAthena, "target_ip") => vec![text("target_ip", Transform::Ip)],
            (TableFormat::AlbAthena, "bytes_in") => vec![typed("received_bytes", ColType::Int)],
            (TableFormat::AlbAthena, "bytes_out") => vec![typed("sent_bytes", ColType::Int)],
            (TableFormat::AlbAthena, "region") => {
                vec![text("target_group_arn", Transform::ArnRegion)]
            }
            (TableFormat::CloudfrontAthena, "timestamp") => vec![(
                format!(
                    "{} || 'T' || t.{} || 'Z'",
                    d.to_text(&col("date")),
                    d.ident("time")
                ),
                ColType::Text,
                Transform::None,
            )],
            (TableFormat::CloudfrontAthena, "host") => vec![
                text("x_host_header", Transform::Host),
                text("cs_host", Transform::Host),
            ],
            (TableFormat::CloudfrontAthena, "path") => vec![text("cs_uri_stem", Transform::Path)],
            (TableFormat::CloudfrontAthena, "method") => vec![text("cs_method", Transform::None)],
            (TableFormat::CloudfrontAthena, "status") => vec![typed("sc_status", ColType::Int)],
            (TableFormat::CloudfrontAthena, "client_ip") => vec![text("c_ip", Transform::Ip)],
            (TableFormat::CloudfrontAthena, "bytes_in") => vec![typed("cs_bytes", ColType::Int)],
            (TableFormat::CloudfrontAthena, "bytes_out") => vec![typed("sc_bytes", ColType::Int)],
            (TableFormat::CloudfrontAthena, "region" | "target_ip") => vec![],
            (_, other) => self
                .schema()
                .find(&[other.to_string()])
                .map(|c| {
                    let name = c.path.first().map_or("", String::as_str);
                    vec![(col(name), c.ty.clone(), Transform::None)]
                })
                .unwrap_or_default(),
        }
    }
}
