//! Source files and locations.
//!
//! Rule files and scanned inputs are kept in memory as [`SourceFile`]s
//! (`Arc`-shared), and every location is an [`Origin`]: the file plus a byte
//! span. Any later stage can therefore render a miette diagnostic on the
//! original text without re-reading it.

use std::ops::Range;
use std::sync::Arc;

/// A file's display name (relative to the working directory where possible)
/// and its text.
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    /// The line number of the text's first line: 1 for a whole file, more
    /// for an excerpt (one log line out of a multi-gigabyte export).
    pub first_line: usize,
    /// The same text as miette source code, so reports show the file name.
    pub named: miette::NamedSource<TextAt>,
    /// Set when the file was parsed through a translation (`.tf.json` read
    /// as native syntax): parse-tree spans are offsets in the translated
    /// text, and [`Origin::new`] maps them back to this file's text.
    pub offsets: Option<Arc<OffsetMap>>,
    /// Where each line starts, built on the first [`SourceFile::line_col`]
    /// so that locating N findings costs O(N log lines), not O(N × size).
    lines: Arc<std::sync::OnceLock<LineIndex>>,
}

/// Line starts of a text, and whether each line is ASCII (its columns are
/// then byte distances).
#[derive(Debug, Default)]
struct LineIndex {
    starts: Vec<usize>,
    ascii: Vec<bool>,
}

impl LineIndex {
    /// The 0-based line of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1) - 1
    }

    fn of(text: &str) -> LineIndex {
        let mut starts = vec![0];
        let mut ascii = Vec::new();
        let mut all_ascii = true;
        for (i, b) in text.bytes().enumerate() {
            all_ascii &= b.is_ascii();
            if b == b'\n' {
                starts.push(i + 1);
                ascii.push(all_ascii);
                all_ascii = true;
            }
        }
        ascii.push(all_ascii);
        LineIndex { starts, ascii }
    }
}

/// Byte offsets of a translated text, mapped back to the text it came from.
#[derive(Debug, Default)]
pub struct OffsetMap {
    /// `(translated, original)` ranges in translated order; a copied piece
    /// has ranges of equal length, a synthesized one maps to the span it
    /// stands for.
    pub segments: Vec<(Range<usize>, Range<usize>)>,
}

impl OffsetMap {
    /// The original offset of a translated one (`end`: it ends a span).
    pub fn map(&self, offset: usize, end: bool) -> usize {
        let i = self.segments.partition_point(|(g, _)| {
            if end {
                g.start < offset
            } else {
                g.start <= offset
            }
        });
        let Some((g, j)) = i.checked_sub(1).and_then(|i| self.segments.get(i)) else {
            return 0;
        };
        if offset >= g.end {
            j.end
        } else if g.len() == j.len() {
            j.start + (offset - g.start)
        } else if end {
            j.end
        } else {
            j.start
        }
    }

    pub fn map_span(&self, span: Range<usize>) -> Range<usize> {
        let start = self.map(span.start, false);
        let end = self.map(span.end, true).max(start);
        start..end
    }
}

/// Text whose first line is line `first_line` of its file, as miette
/// source code: reports on an excerpt show the line numbers of the file.
#[derive(Debug, Clone)]
pub struct TextAt {
    pub text: Arc<str>,
    pub first_line: usize,
    /// Bytes of the file's first line cut off before the excerpt's
    /// first labelled part (a long log line shown in pieces), so that the
    /// reported column is the file's.
    pub column_shift: usize,
    /// The file's line index, shared with its [`SourceFile`].
    lines: Arc<std::sync::OnceLock<LineIndex>>,
}

impl miette::SourceCode for TextAt {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        // miette finds lines by scanning from the start of the text: on a
        // large file with many findings that is quadratic. Hand it only the
        // lines around the span, found with the line index.
        let text: &str = &self.text;
        let index = self.lines.get_or_init(|| LineIndex::of(text));
        let start = span.offset().min(text.len());
        let end = (span.offset() + span.len()).min(text.len());
        let from_line = index.line_of(start).saturating_sub(context_lines_before);
        let to_line = index.line_of(end) + context_lines_after + 1;
        let base = index.starts.get(from_line).copied().unwrap_or(0);
        let until = index.starts.get(to_line).copied().unwrap_or(text.len());
        let slice = text.get(base..until).unwrap_or(text);
        let base = if slice.len() == text.len() { 0 } else { base };
        let from_line = if base == 0 { 0 } else { from_line };
        let sub: miette::SourceSpan = (start - base, end - start).into();
        let inner = slice.read_span(&sub, context_lines_before, context_lines_after)?;
        let line = inner.line() + from_line;
        let column = if line == 0 {
            inner.column() + self.column_shift
        } else {
            inner.column()
        };
        Ok(Box::new(miette::MietteSpanContents::new(
            inner.data(),
            (inner.span().offset() + base, inner.span().len()).into(),
            line + self.first_line.max(1) - 1,
            column,
            // miette's line count runs from the start of the text.
            inner.line_count() + from_line,
        )))
    }
}

impl std::fmt::Debug for SourceFile {
    /// The name only: ASTs print their file without its whole text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SourceFile({:?})", self.name)
    }
}

impl PartialEq for SourceFile {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.text == other.text
    }
}

impl Eq for SourceFile {}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Arc<SourceFile> {
        SourceFile::excerpt(name, text, 1)
    }

    /// An excerpt of a file (say one log line) whose first line is line
    /// `first_line` of the file; locations count from there.
    pub fn excerpt(
        name: impl Into<String>,
        text: impl Into<Arc<str>>,
        first_line: usize,
    ) -> Arc<SourceFile> {
        SourceFile::excerpt_at(name, text, first_line, 0)
    }

    /// An excerpt that starts `column_shift` bytes into its first line.
    pub fn excerpt_at(
        name: impl Into<String>,
        text: impl Into<Arc<str>>,
        first_line: usize,
        column_shift: usize,
    ) -> Arc<SourceFile> {
        let name = name.into();
        let text = text.into();
        let first_line = first_line.max(1);
        let lines = Arc::new(std::sync::OnceLock::new());
        let named = miette::NamedSource::new(
            &name,
            TextAt {
                text: text.clone(),
                first_line,
                column_shift,
                lines: lines.clone(),
            },
        );
        Arc::new(SourceFile {
            name,
            text,
            first_line,
            named,
            offsets: None,
            lines,
        })
    }

    /// A file whose parse tree comes from a translation of its text.
    pub fn translated(
        name: impl Into<String>,
        text: impl Into<Arc<str>>,
        offsets: OffsetMap,
    ) -> Arc<SourceFile> {
        SourceFile::new(name, text).with_offsets(offsets)
    }

    /// The same file, for a parse tree of the part of its text that starts
    /// at byte `start` and is `len` bytes long: [`Origin::new`] adds
    /// `start` to that tree's spans. The text, its line index and its
    /// miette source are shared, not copied. `file` must not be a
    /// translated file.
    pub fn part(file: &Arc<SourceFile>, start: usize, len: usize) -> Arc<SourceFile> {
        // Only a file parsed from its own text is cut into parts, so there
        // is no earlier translation to compose with.
        let segments = vec![(0..len, start..start + len)];
        file.with_offsets(OffsetMap { segments })
    }

    /// This file, with parse-tree spans mapped through `offsets`; the
    /// text, line index and miette source are shared.
    fn with_offsets(&self, offsets: OffsetMap) -> Arc<SourceFile> {
        Arc::new(SourceFile {
            name: self.name.clone(),
            text: self.text.clone(),
            first_line: self.first_line,
            named: self.named.clone(),
            offsets: Some(Arc::new(offsets)),
            lines: self.lines.clone(),
        })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let index = self.lines.get_or_init(|| LineIndex::of(&self.text));
        let line = index.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let line_start = index.starts.get(line).copied().unwrap_or(0);
        let column = if index.ascii.get(line).copied().unwrap_or(false) {
            offset - line_start
        } else {
            self.text
                .get(line_start..offset)
                .map_or(offset - line_start, |s| s.chars().count())
        } + 1;
        (line + self.first_line, column)
    }
}

/// Where something is: a file and a byte span in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<SourceFile>,
    pub span: Range<usize>,
}

impl Origin {
    /// A span of `file` (a parse-tree span of a translated file is mapped
    /// back to the file's own text).
    pub fn new(file: &Arc<SourceFile>, span: Range<usize>) -> Origin {
        let span = match &file.offsets {
            Some(map) => map.map_span(span),
            None => span,
        };
        Origin {
            file: file.clone(),
            span,
        }
    }

    /// 1-based line and column of the start.
    pub fn line_col(&self) -> (usize, usize) {
        self.file.line_col(self.span.start)
    }

    /// 1-based line and column of the end.
    pub fn end_line_col(&self) -> (usize, usize) {
        self.file.line_col(self.span.end)
    }

    pub fn source_span(&self) -> miette::SourceSpan {
        (
            self.span.start,
            self.span.end.saturating_sub(self.span.start),
        )
            .into()
    }

    /// `file:line:column`.
    pub fn display(&self) -> String {
        let (l, c) = self.line_col();
        format!("{}:{l}:{c}", self.file.name)
    }
}

/// The byte offset of a 1-based line and column (as serde's JSON and YAML
/// errors give them), clamped to the text.
pub fn offset_at(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

/// A path for display: relative to the working directory when it is under
/// it, with `/` separators, so that output does not depend on the machine.
pub fn display_path(path: &std::path::Path) -> String {
    let rel = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(|p| p.to_path_buf()))
        .unwrap_or_else(|| path.to_path_buf());
    let text = rel.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let f = SourceFile::new("x", "ab\nc—d\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // `—` is three bytes but one column.
        assert_eq!(f.line_col(7), (2, 3));
    }
}

#[cfg(test)]
mod line_index_tests {
    use super::*;

    /// The index gives what a scan of the prefix gives, on every offset of
    /// a text with ASCII and non-ASCII lines, blank lines and no final
    /// line break.
    #[test]
    fn the_line_index_agrees_with_a_scan_of_the_prefix() {
        let text = "ab\n\nc—d é\nplain\n—\nlast";
        let f = SourceFile::excerpt("x", text, 3);
        for offset in (0..=text.len()).filter(|&o| text.is_char_boundary(o)) {
            let before = &text[..offset];
            let line = before.matches('\n').count() + 3;
            let start = before.rfind('\n').map_or(0, |i| i + 1);
            let column = before[start..].chars().count() + 1;
            assert_eq!(f.line_col(offset), (line, column), "offset {offset}");
        }
    }
}
