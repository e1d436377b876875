//! Log exports: one record per line, in one of several formats.
//!
//! Every format implements [`LineParser`]: it fills a fixed array of
//! *slots*, one per field the rules read, from one line, borrowing from the
//! line wherever it can. The slots are decided once per run from the rules
//! (a field no rule reads is never parsed, a JSON value no rule reads is
//! skipped, not built), so the per-line work is a scan of the line and no
//! allocation unless a value has escapes to undo.
//!
//! Each format fills the shared [`vocabulary`] (`timestamp`, `host`,
//! `path`, `method`, `status`, `client_ip`, `target_ip`, `bytes_in`,
//! `bytes_out`, `cloud`, `region`) from its own fields, and also answers
//! to its own field names, written with every character other than a
//! letter, a digit or `_` as `_` (`cs(Host)` is `cs_Host_`,
//! `client:port` is `client_port`), so that rules can use any of them.
//!
//! The modules, by job:
//!
//! - [`format`](mod@format): the table of formats ([`LogFormat`], one
//!   [`FormatSpec`] row per format, each in its own module: [`alb`],
//!   [`apigateway`], [`appgateway`], [`azure_frontdoor`], [`cloudfront`],
//!   [`csv`], [`jsonl`], [`nginx`], [`parquet`](mod@parquet)), and [`detect`] for an input given
//!   without `--log-format`;
//! - [`vocabulary`]: the shared fields, one table;
//! - [`parser`]: the contract a format's parser keeps ([`LineParser`],
//!   [`Slot`], [`FieldVal`]) and the helpers that write slots;
//! - [`columns`]: which column of a text format fills which slot;
//! - [`columnar`]: a Parquet row's slots straight from its Arrow arrays,
//!   read as [`jsonl`] reads the line the row renders to;
//! - [`transform`](mod@transform): a raw field to a vocabulary value (URL host and path,
//!   `address:port`, request lines, escapes);
//! - [`bytes`], [`json_index`]: the byte and vector searches under them;
//! - [`timestamp`]: reading and writing times;
//! - reading the input: [`decompress`], [`mapped`] (memory maps),
//!   [`json_stream`] (JSON documents as one record per line);
//! - [`ipranges`]: clouds' published address ranges.

pub mod alb;
pub mod apigateway;
pub mod appgateway;
pub mod azure_frontdoor;
pub mod bytes;
pub mod cloudfront;
pub mod columnar;
pub mod columns;
pub mod csv;
pub mod decompress;
mod detect;
pub mod format;
pub mod ipranges;
pub mod json_index;
pub mod json_stream;
pub mod jsonl;
pub mod mapped;
pub mod nginx;
pub mod parquet;
pub mod parser;
pub mod timestamp;
pub mod transform;
pub mod vocabulary;

// The paths the formats, the audit, the tests and the fuzz targets use:
// `scan::logs::{LineParser, Slot, detect, parse_timestamp, …}`.
pub(crate) use bytes::find_either;
pub use bytes::has_ascii_upper;
pub use columns::{ColumnPlan, Source, normalize_name, single};
pub use detect::detect;
pub use format::{FormatSpec, Kind, LogFormat, ParserSetup};
pub(crate) use parser::vacant;
pub use parser::{FieldVal, LineError, LineParser, Parsed, Scratch, Slot, decode_slot, put_str};
pub use timestamp::{Millis, day_of, format_timestamp, format_timestamp_precise, parse_timestamp};
pub use transform::{Transform, hex_decoded, percent_decoded, transform};
pub use vocabulary::{VOCABULARY, vocab_transform};
