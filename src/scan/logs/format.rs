//! The log formats proviso reads, as one table.
//!
//! A format is its module (`alb.rs`, `nginx.rs`, …), which holds its
//! parser and a [`FormatSpec`] row, `FORMAT`: its `--log-format` name and
//! help, whether its records are JSON, the cloud it implies, how its
//! records' kind is read and how its parser is built. `log_formats!`
//! below lists those rows once, and makes of the list the [`LogFormat`]
//! enum, [`LogFormat::ALL`] and [`LogFormat::spec`]; everything else
//! (the command line's `--log-format`, the audit's choice of parser,
//! reports) reads the row. Only detection from content stays code of its
//! own ([`super::detect`]): it is one ordered decision over every format,
//! not a property of one.

use super::LineParser;
use crate::value::FieldPath;
use std::fmt;

/// What proviso knows of one log format, besides its parser's code and
/// how it is detected: the one row a new format adds (see the module
/// documentation).
pub struct FormatSpec {
    /// Its `--log-format` value, and how reports name it.
    pub name: &'static str,
    /// `--log-format`'s help for it.
    pub about: &'static str,
    /// Whether its records are JSON objects (JSON that is not one object
    /// per line is then streamed as one record per line).
    pub json: bool,
    /// The cloud that served every request of it, when the format says
    /// (an ALB or CloudFront log is AWS's, a Front Door log Azure's).
    pub cloud: Option<&'static str>,
    /// How a record's kind is read from what its parser put in the
    /// `kind` slot (Azure's `category`), for the formats that carry more
    /// than requests; `None`: every record is a request.
    pub kind: Option<fn(&str) -> Kind>,
    /// Whether its first line is a header (column names), not a record:
    /// it is skipped, and the input is read rather than mapped.
    pub header_line: bool,
    /// Builds its parser for one input.
    pub parser: fn(&ParserSetup<'_>) -> Box<dyn LineParser>,
}

impl FormatSpec {
    /// [`LogFormat::kind`], for a row already looked up (the audit's line
    /// loop keeps the row of its input's format).
    #[inline]
    pub fn record_kind(&self, raw: Option<&str>) -> Kind {
        match (self.kind, raw) {
            (Some(kind_of), Some(category)) => kind_of(category),
            _ => Kind::Request,
        }
    }
}

/// What a format's parser is built from, for one input.
pub struct ParserSetup<'a> {
    /// The slots of the run: the field each slot holds (see
    /// [`LineParser`]).
    pub slots: &'a [FieldPath],
    /// `--field NAME=SOURCE` overrides.
    pub overrides: &'a [(String, String)],
    /// The input's first bytes as text (after decompression): what a
    /// format reads its header from (CloudFront's `#Fields:`, a CSV's
    /// names).
    pub head: &'a str,
}

impl ParserSetup<'_> {
    /// The input's first line (a CSV's header line).
    pub fn first_line(&self) -> &str {
        self.head.lines().next().unwrap_or("")
    }
}

/// Makes the [`LogFormat`] enum, [`LogFormat::ALL`] and
/// [`LogFormat::spec`] from one list of `Variant => module::FORMAT`, so
/// that a format is registered in one place.
macro_rules! log_formats {
    ($($variant:ident => $spec:path,)*) => {
        /// The log formats proviso reads (see [`FormatSpec`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum LogFormat {
            $($variant,)*
        }

        impl LogFormat {
            /// Every format, in the order `--log-format` lists them.
            pub const ALL: &'static [LogFormat] = &[$(LogFormat::$variant,)*];

            /// The format's row of the table.
            #[inline]
            pub fn spec(self) -> &'static FormatSpec {
                match self {
                    $(LogFormat::$variant => &$spec,)*
                }
            }
        }
    };
}

log_formats! {
    Jsonl => super::jsonl::FORMAT,
    Csv => super::csv::FORMAT,
    Alb => super::alb::FORMAT,
    Cloudfront => super::cloudfront::FORMAT,
    AzureFrontdoor => super::azure_frontdoor::FORMAT,
    Nginx => super::nginx::FORMAT,
    AwsApiGateway => super::apigateway::FORMAT,
    AzureAppGateway => super::appgateway::FORMAT,
    Parquet => super::parquet::FORMAT,
}

impl LogFormat {
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The kind of a record whose `kind` slot was read as `raw` (the
    /// formats that carry more than requests name the record's category
    /// there); `None` and every other format: a request.
    #[inline]
    pub fn kind(self, raw: Option<&str>) -> Kind {
        self.spec().record_kind(raw)
    }

    /// What a record's place in an input of this format is called: its
    /// `line`, or its `row` in a Parquet file (numbered from 1 alike).
    pub fn record_unit(self) -> &'static str {
        match self {
            LogFormat::Parquet => "row",
            _ => "line",
        }
    }

    /// Whether the format's records are JSON objects.
    pub fn is_json(self) -> bool {
        self.spec().json
    }

    /// The cloud that served every request of this format, if the format
    /// says (an ALB or CloudFront log is AWS's, a Front Door log Azure's).
    #[inline]
    pub fn cloud(self) -> Option<&'static str> {
        self.spec().cloud
    }

    /// The format's parser for one input.
    pub fn parser(self, setup: &ParserSetup<'_>) -> Box<dyn LineParser> {
        (self.spec().parser)(setup)
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `--log-format`'s values and their help, from the table.
impl clap::ValueEnum for LogFormat {
    fn value_variants<'a>() -> &'a [Self] {
        LogFormat::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()).help(self.spec().about))
    }
}

/// What a log record is: a client request (what clauses judge), or a
/// record of something else that a log of requests also carries (Azure
/// writes health probes and WAF matches to the same destination as access
/// records, told apart by `category`). Only requests are judged; the
/// others are counted, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Request,
    /// A health probe of an origin by the service itself.
    HealthProbe,
    /// A web application firewall's record of a request (which has its own
    /// access record: judging both would count the request twice).
    Waf,
    /// Any other category (performance, activity, …).
    Other,
}

impl Kind {
    /// Every kind that is not a request, in the order of
    /// `Summary::kinds`.
    pub const NOT_REQUESTS: [Kind; 3] = [Kind::HealthProbe, Kind::Waf, Kind::Other];

    /// The value of the `kind` field.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Request => "request",
            Kind::HealthProbe => "health_probe",
            Kind::Waf => "waf",
            Kind::Other => "other",
        }
    }

    /// The kind of an Azure diagnostic record by its `category`
    /// (`FrontDoorAccessLog`, `FrontdoorAccessLog` in the classic tier,
    /// `FrontDoorHealthProbeLog`, `FrontDoorWebApplicationFirewallLog`,
    /// `ApplicationGatewayAccessLog`, `ApplicationGatewayFirewallLog`,
    /// …), compared without regard to case.
    pub fn of_azure_category(category: &str) -> Kind {
        let c = category.to_ascii_lowercase();
        if c.ends_with("accesslog") {
            Kind::Request
        } else if c.ends_with("healthprobelog") {
            Kind::HealthProbe
        } else if c.ends_with("firewalllog") {
            Kind::Waf
        } else {
            Kind::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each format has its own name, and the names are those
    /// `--log-format` has always taken, in its order.
    #[test]
    fn every_format_has_its_own_name() {
        let names: Vec<&str> = LogFormat::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            [
                "jsonl",
                "csv",
                "alb",
                "cloudfront",
                "azure-frontdoor",
                "nginx",
                "aws-apigateway",
                "azure-appgateway",
                "parquet"
            ]
        );
        for f in LogFormat::ALL {
            assert_eq!(
                <LogFormat as clap::ValueEnum>::from_str(f.name(), false),
                Ok(*f)
            );
        }
    }
}
