//! Parquet inputs: the footer read once, the row groups decoded by the
//! workers in parallel, each row's slots filled from its columns and
//! judged by the same code as every line.
//!
//! The design choice: a Parquet file is not a second pipeline. The reader
//! of the pipeline ([`send_row_groups`]) sends row group numbers, not
//! bytes; a worker decodes its row group a batch of rows at a time, only
//! the columns the run can read (a projection worked out once, from the
//! JSON-lines parser's own plan), fills each row's slots straight from
//! the batch's arrays (`scan::logs::columnar`, which reads a row as the
//! JSON-lines parser reads the line the row renders to) and judges them
//! with [`judge::judge_columns`] into one result, numbered from the row
//! group's first row; the collector merges row groups in file order, so a
//! record's line is its row number (1-based, across row groups) whatever
//! the number of threads. A row's line (`scan::logs::parquet`) is
//! written only where it is shown (a sample, a `--findings` record,
//! evidence) and where the columns cannot be read as the line would be
//! (a malformed row, a slot filled by a whole struct): then the row is
//! judged as that line, by [`judge::judge_lines`]. Rendering every row and
//! parsing it again made Parquet three times slower than the same
//! records as JSON lines; reading the arrays makes it faster than them
//! (`bench/parquet/`). Memory is bounded by the row groups in flight, a
//! batch of rows each.
//!
//! Workers read the file at positions (`pread`), never through a shared
//! file offset, so the row groups of one file are decoded at once.

use super::chunks::Work;
use super::judge::{self, Ctx, PendingDiag};
use super::tally::ChunkResult;
use crate::diag::{Code, Diag};
use crate::eval::compiled::Memo;
use crate::scan::logs::Slot;
use crate::scan::logs::columnar::Columns;
use crate::scan::logs::jsonl::{JsonParser, VOCAB};
use crate::scan::logs::parquet::{Rows, check_type};
use crate::scan::logs::vocabulary::Field;
use crate::value::FieldPath;
use arrow_schema::{DataType, Field as Column, Schema};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

/// Rows decoded and rendered at a time: a batch's text is a few MB.
pub(super) const BATCH_ROWS: usize = 8192;

/// A Parquet file opened for an audit: its footer read, its projection
/// worked out.
pub(super) struct ParquetInput {
    file: At,
    meta: ArrowReaderMetadata,
    mask: ProjectionMask,
    /// Per row group: its rows, and the compressed bytes of the columns
    /// read.
    groups: Vec<(u64, u64)>,
    /// Rows decoded at a time.
    batch_rows: usize,
    /// Reads the fields judging needs, as the line's parser reads them:
    /// what resolves the columns that fill the slots.
    judging: JsonParser,
    /// Whether a rule reads the timestamp's value (not only its time).
    ts_text: bool,
}

impl ParquetInput {
    /// Opens `path` (shown as `name`) and reads its footer; of its
    /// columns, only those that can fill one of `slots` (by the JSON-lines
    /// vocabulary and `overrides`) will be read. `judging` are the slots
    /// judging a record reads (the others are empty), `ts_text` whether a
    /// rule reads the timestamp's value.
    pub(super) fn open(
        path: &Path,
        name: &str,
        slots: &[FieldPath],
        judging: &[FieldPath],
        ts_text: bool,
        overrides: &[(String, String)],
    ) -> Result<ParquetInput, Diag> {
        let file = File::open(path).map_err(|e| {
            Diag::error(Code::InputUnreadable, format!("cannot read `{name}`: {e}"))
                .with_help("check the path")
        })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let file = At(Arc::new(file), len);
        // The Arrow schema a writer may have stored is not read: the
        // Parquet types say all the audit needs, and strings then never
        // come as dictionaries.
        let options = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
        let options_with = |schema| options.clone().with_schema(schema);
        let meta = ArrowReaderMetadata::load(&file, options.clone()).map_err(|e| {
            Diag::error(
                Code::InputUnreadable,
                format!("cannot read `{name}` as Parquet: {e}"),
            )
            .with_help("a Parquet file ends with its footer and `PAR1`: a file cut short or still being written cannot be read; copy it again, or name its real format with `--log-format`")
        })?;
        // Strings are read as views (`Utf8View`): a dictionary-encoded
        // column (the common case) then points into its dictionary
        // instead of copying every value's bytes out of it (which was
        // the most of Parquet's own share of an audit's time).
        let viewed = Schema::new(
            meta.schema()
                .fields()
                .iter()
                .map(|f| viewed_field(f))
                .collect::<Vec<_>>(),
        );
        let meta = if viewed.fields() == meta.schema().fields() {
            meta
        } else {
            let options = options_with(Arc::new(viewed));
            ArrowReaderMetadata::try_new(Arc::clone(meta.metadata()), options).unwrap_or(meta)
        };
        let reads = JsonParser::new(slots, VOCAB, overrides);
        let mut roots = Vec::new();
        for (i, field) in meta.schema().fields().iter().enumerate() {
            if !reads.reads_top_level(field.name()) {
                continue;
            }
            check_type(field.data_type()).map_err(|t| {
                Diag::error(
                    Code::InputUnreadable,
                    format!(
                        "cannot read column `{}` of `{name}`: proviso does not read values of type `{t}`",
                        field.name()
                    ),
                )
                .with_help("write the column with another type (a string, a number, a timestamp, a struct, a list), or leave it out of the rules and `--field`")
            })?;
            roots.push(i);
        }
        let parquet_meta = meta.metadata();
        let mask = ProjectionMask::roots(parquet_meta.file_metadata().schema_descr(), roots);
        let groups = parquet_meta
            .row_groups()
            .iter()
            .map(|g| {
                let bytes = g
                    .columns()
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask.leaf_included(*i))
                    .map(|(_, c)| u64::try_from(c.compressed_size()).unwrap_or(0))
                    .sum();
                (u64::try_from(g.num_rows()).unwrap_or(0), bytes)
            })
            .collect();
        Ok(ParquetInput {
            file,
            meta,
            mask,
            groups,
            batch_rows: BATCH_ROWS,
            judging: JsonParser::new(judging, VOCAB, overrides),
            ts_text,
        })
    }

    /// Decodes rows of `group` a batch at a time into `each`.
    fn read(
        &self,
        group: usize,
        mut each: impl FnMut(&arrow_array::RecordBatch),
    ) -> Result<(), parquet::errors::ParquetError> {
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
            self.file.clone(),
            self.meta.clone(),
        )
        .with_projection(self.mask.clone())
        .with_row_groups(vec![group])
        .with_batch_size(self.batch_rows)
        .build()?;
        for batch in reader {
            let batch = batch.map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))?;
            each(&batch);
        }
        Ok(())
    }
}

/// `field`, its strings and byte strings (at the top and in structs) as
/// views.
fn viewed_field(field: &Column) -> Column {
    let t = match field.data_type() {
        DataType::Utf8 => DataType::Utf8View,
        DataType::Binary => DataType::BinaryView,
        DataType::Struct(children) => {
            DataType::Struct(children.iter().map(|c| viewed_field(c)).collect())
        }
        other => other.clone(),
    };
    field.clone().with_data_type(t)
}

/// The pipeline's reader for a Parquet file: row group numbers, in order
/// (the workers decode them).
pub(super) fn send_row_groups(
    input: &Arc<ParquetInput>,
    raw: &AtomicU64,
    tx: &mpsc::SyncSender<(u64, Work)>,
) {
    for (group, &(_, bytes)) in input.groups.iter().enumerate() {
        let work = Work::RowGroup {
            input: Arc::clone(input),
            group,
        };
        if tx.send((group as u64, work)).is_err() {
            return;
        }
        raw.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// Decodes, renders and judges row group `group`: one result, its lines
/// the group's rows. Rows that cannot be decoded (a corrupt page) are
/// counted as malformed, with one diagnostic, so that the accounting
/// still covers every row.
pub(super) fn process(ctx: &Ctx<'_>, input: &ParquetInput, group: usize) -> ChunkResult {
    let mut r = ChunkResult::empty(ctx);
    let rows = input.groups.get(group).map_or(0, |g| g.0);
    let mut text = Vec::new();
    let mut unsupported = None;
    let memo = ctx.compiled.new_memo();
    let read = input.read(group, |batch| {
        if unsupported.is_some() {
            return;
        }
        let rendered = match Rows::new(batch) {
            Ok(rendered) => rendered,
            Err(u) => {
                unsupported = Some(format!(
                    "column `{}` has values of type `{}`, which proviso does not read",
                    u.column, u.data_type
                ));
                return;
            }
        };
        let columns = Columns::bind(
            &input.judging,
            batch,
            Field::Timestamp.slot(),
            input.ts_text,
            ctx.max_line,
        );
        match columns {
            Some(columns) => judge_rows(ctx, &columns, &rendered, &memo, &mut r),
            None => {
                text.clear();
                rendered.write(0..rendered.len(), &mut text);
                judge::judge_lines(ctx, &text, &mut r);
            }
        }
    });
    let why = match (read, unsupported) {
        (_, Some(why)) => Some(why),
        (Err(e), None) => Some(e.to_string()),
        (Ok(()), None) => None,
    };
    let left = rows.saturating_sub(r.lines);
    if left > 0 || why.is_some() {
        let why = why.unwrap_or_else(|| "the row group ended early".to_string());
        let reason = format!(
            "row group {group} cannot be read: {why}; its {left} rows from here on are counted as malformed"
        );
        r.summary.records += left;
        r.summary.malformed += left;
        if r.malformed.len() < ctx.malformed_shown {
            r.malformed.push(PendingDiag::new(
                r.lines,
                "",
                &reason,
                0..0,
                Code::InputMalformedRecord,
            ));
        }
        r.lines += left;
    }
    // What was read of the file, not the text rendered from it.
    r.summary.bytes = input.groups.get(group).map_or(0, |g| g.1);
    r
}

/// Judges the rows of a batch from its columns, numbering them on from
/// the rows `r` has counted; a row the columns cannot be read for (see
/// `scan::logs::columnar`), or whose judging needs its line, is
/// rendered and judged as its line.
fn judge_rows(
    ctx: &Ctx<'_>,
    columns: &Columns<'_>,
    rows: &Rows<'_>,
    memo: &Memo,
    r: &mut ChunkResult,
) {
    let mut slots: Vec<Option<Slot<'_>>> = vec![None; ctx.compiled.slots.len()];
    let mut line = Vec::new();
    for row in 0..rows.len() {
        slots.iter_mut().for_each(|s| *s = None);
        let render = || {
            let mut text = Vec::new();
            rows.write(row..row + 1, &mut text);
            text.pop();
            String::from_utf8_lossy(&text).into_owned()
        };
        let judged = match columns.fill(row, &mut slots) {
            Some(ts) => judge::judge_columns(ctx, r, r.lines, &render, &mut slots, memo, ts),
            None => false,
        };
        if judged {
            r.lines += 1;
        } else {
            line.clear();
            rows.write(row..row + 1, &mut line);
            judge::judge_lines(ctx, &line, r);
        }
    }
}

/// A file read at positions (`pread`), shared by the workers.
#[derive(Clone)]
struct At(Arc<File>, u64);

impl parquet::file::reader::Length for At {
    fn len(&self) -> u64 {
        self.1
    }
}

impl parquet::file::reader::ChunkReader for At {
    type T = AtReader;

    fn get_read(&self, start: u64) -> parquet::errors::Result<AtReader> {
        Ok(AtReader {
            file: Arc::clone(&self.0),
            at: start,
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        let mut buf = vec![0; length];
        self.0.read_exact_at(&mut buf, start)?;
        Ok(buf.into())
    }
}

/// A reader of an [`At`] from a position of its own.
struct AtReader {
    file: Arc<File>,
    at: u64,
}

impl std::io::Read for AtReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}
