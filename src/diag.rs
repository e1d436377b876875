//! One diagnostic type for everything proviso reports on a file.
//!
//! Rule-file errors, unreadable inputs and findings are all rendered by
//! miette; they share this struct so that every report has the same shape:
//! a stable [`Code`] (`proviso::<group>::<name>`, or
//! `proviso::clause::<id>` for a finding; [`code`] lists them all with
//! their help), a lowercase message, labelled spans in one file, and at
//! most a few help lines. Messages follow Cedar's habit: lowercase, no final
//! period, user input in backticks.

pub mod code;

pub use code::{Code, Group};

use crate::source::{Origin, SourceFile};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Advice,
    Warning,
    Error,
}

/// A diagnostic on one file (or on none, for errors such as a missing path).
#[derive(Debug, Clone)]
pub struct Diag {
    pub code: Code,
    pub message: String,
    pub level: Level,
    pub file: Option<Arc<SourceFile>>,
    /// Labelled spans; the first is the primary one.
    pub labels: Vec<(Range<usize>, Option<String>)>,
    pub help: Option<String>,
    /// Further diagnostics, e.g. a label in another file.
    pub related: Vec<Diag>,
}

impl Diag {
    pub fn error(code: Code, message: impl Into<String>) -> Diag {
        Diag {
            code,
            message: message.into(),
            level: Level::Error,
            file: None,
            labels: Vec::new(),
            help: None,
            related: Vec::new(),
        }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Diag {
        Diag {
            level: Level::Warning,
            ..Diag::error(code, message)
        }
    }

    pub fn advice(code: Code, message: impl Into<String>) -> Diag {
        Diag {
            level: Level::Advice,
            ..Diag::error(code, message)
        }
    }

    /// Sets the file the labels point into.
    pub fn in_file(mut self, file: &Arc<SourceFile>) -> Diag {
        self.file = Some(file.clone());
        self
    }

    pub fn label(mut self, span: Range<usize>, text: impl Into<String>) -> Diag {
        self.labels.push((span, Some(text.into())));
        self
    }

    /// A label at an origin; sets the file if none is set yet, and becomes a
    /// related note when the origin is in another file.
    pub fn label_at(mut self, origin: &Origin, text: impl Into<String>) -> Diag {
        match &self.file {
            None => {
                self.file = Some(origin.file.clone());
                self.labels.push((origin.span.clone(), Some(text.into())));
            }
            Some(f) if Arc::ptr_eq(f, &origin.file) || f.name == origin.file.name => {
                self.labels.push((origin.span.clone(), Some(text.into())));
            }
            Some(_) => {
                // miette prints a related note as a block of its own, after
                // the diagnostic: the note says which one it belongs to.
                let note = Diag::advice(
                    Code::Note,
                    format!("part of `{}` above: {}", self.code, text.into()),
                )
                .in_file(&origin.file)
                .label(origin.span.clone(), "here, in another file");
                self.related.push(note);
            }
        }
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diag {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }

    /// `file:line:column` of the primary label, for plain-text output.
    pub fn location(&self) -> Option<(String, usize, usize)> {
        let file = self.file.as_ref()?;
        let start = self
            .labels
            .first()
            .map(|(s, _)| s.start)
            .unwrap_or(0)
            .min(file.text.len());
        // As `SourceFile::line_col`, with memchr's vector search: sorting
        // the 10,000 warnings of a generated file asks for this 10,000s of
        // times.
        let bytes = file.text.as_bytes();
        // INVARIANT: `start <= bytes.len()`: it was cut to the text's length.
        #[expect(clippy::indexing_slicing, reason = "start <= len, by the min above")]
        let before = &bytes[..start];
        let line = memchr::memchr_iter(b'\n', before).count() + file.first_line.max(1);
        let line_start = memchr::memrchr(b'\n', before).map_or(0, |n| n + 1);
        let col = file
            .text
            .get(line_start..start)
            .map_or(0, |s| s.chars().count())
            + 1;
        Some((file.name.clone(), line, col))
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diag {}

impl miette::Diagnostic for Diag {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.level {
            Level::Advice => miette::Severity::Advice,
            Level::Warning => miette::Severity::Warning,
            Level::Error => miette::Severity::Error,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.file
            .as_ref()
            .map(|f| &f.named as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if self.file.is_none() || self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().enumerate().map(
            |(i, (span, text))| {
                let span: miette::SourceSpan =
                    (span.start, span.end.saturating_sub(span.start)).into();
                if i == 0 {
                    miette::LabeledSpan::new_primary_with_span(text.clone(), span)
                } else {
                    miette::LabeledSpan::new_with_span(text.clone(), span)
                }
            },
        )))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|d| d as &dyn miette::Diagnostic),
        ))
    }
}

/// Renders diagnostics the way proviso prints them: miette's graphical
/// report. `plain` gives the deterministic form used by snapshots and by
/// non-terminal output (no colour, unicode, fixed width, no links).
///
/// A diagnostic on a long line (a minified `.tf`, a generated rule file) or
/// in a large file is rendered on an [`Excerpt`] of its file: only the lines
/// its labels cover, each line longer than [`LONG_LINE`] bytes cut to a
/// window around the labels' ends. miette cannot draw a label that starts
/// past column 65,535 (Rust's formatting width is 16 bits: it panics), and
/// it finds a span's line by walking the text from its start, which makes
/// many diagnostics on a large file quadratic. Line and column numbers are
/// still those of the file.
pub fn render(diag: &Diag, plain: bool, width: usize) -> String {
    let handler = if plain {
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .without_syntax_highlighting()
            .with_links(false)
    } else {
        miette::GraphicalReportHandler::new()
    };
    // Dates and identifiers must not be split at hyphens or mid-word.
    let handler = handler
        .with_width(width)
        .with_break_words(false)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation);
    let mut out = String::new();
    let view = View::new(diag, false);
    // A diagnostic whose spans fall outside the text renders without them
    // rather than failing.
    if handler.render_report(&mut out, &view).is_err() {
        out = format!("{}: {}\n", diag.code, diag.message);
    }
    out
}

/// [`render`], always through an excerpt: a test holds the two paths to
/// one answer on short lines.
#[doc(hidden)]
pub fn render_excerpted(diag: &Diag, width: usize) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .without_syntax_highlighting()
            .with_links(false)
            .with_width(width)
            .with_break_words(false)
            .with_word_splitter(textwrap::WordSplitter::NoHyphenation);
    let mut out = String::new();
    if handler
        .render_report(&mut out, &View::new(diag, true))
        .is_err()
    {
        out = format!("{}: {}\n", diag.code, diag.message);
    }
    out
}

/// Lines longer than this (in bytes) are cut around the labels.
pub const LONG_LINE: usize = 400;
/// Bytes kept on each side of a label's end on a cut line.
const WINDOW: usize = 60;
/// Files larger than this are rendered through an excerpt even when their
/// lines are short (miette would walk the whole text for every label).
const LARGE_FILE: usize = 64 * 1024;
const CUT: &str = "…";

/// What miette renders: the diagnostic with its source and labels, either
/// the file itself or an excerpt of it.
struct View<'d> {
    diag: &'d Diag,
    excerpt: Option<Excerpt>,
    related: Vec<View<'d>>,
}

impl<'d> View<'d> {
    fn new(diag: &'d Diag, force: bool) -> View<'d> {
        let excerpt = diag
            .file
            .as_ref()
            .and_then(|f| Excerpt::new(f, &diag.labels, force));
        View {
            diag,
            excerpt,
            related: diag.related.iter().map(|r| View::new(r, force)).collect(),
        }
    }
}

impl fmt::Debug for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diag, f)
    }
}

impl fmt::Display for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for View<'_> {}

impl miette::Diagnostic for View<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag.code()
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.diag.severity()
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag.help()
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        match &self.excerpt {
            Some(e) => Some(e as &dyn miette::SourceCode),
            None => self.diag.source_code(),
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let Some(e) = &self.excerpt else {
            return self.diag.labels();
        };
        if self.diag.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.diag.labels.iter().enumerate().map(
            move |(i, (span, text))| {
                let start = e.to_excerpt(span.start);
                let end = e.to_excerpt(span.end).max(start);
                let span: miette::SourceSpan = (start, end - start).into();
                if i == 0 {
                    miette::LabeledSpan::new_primary_with_span(text.clone(), span)
                } else {
                    miette::LabeledSpan::new_with_span(text.clone(), span)
                }
            },
        )))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|d| d as &dyn miette::Diagnostic),
        ))
    }
}

/// The lines of a file that a diagnostic's labels cover (with one line of
/// context each side), long lines cut to windows joined by `…`.
#[derive(Debug)]
struct Excerpt {
    name: String,
    text: String,
    /// The file's line number of the excerpt's first line.
    first_line: usize,
    /// Copied pieces: `(excerpt offset, file offset, length)`, in order.
    pieces: Vec<(usize, usize, usize)>,
    file: Arc<SourceFile>,
}

/// The largest char boundary of `s` at or below `i`.
fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The smallest char boundary of `s` at or above `i`.
fn ceil_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

impl Excerpt {
    /// `None` when the file can be rendered as it is (short lines, small
    /// file), or when a label falls outside it (miette then reports the
    /// error and the diagnostic is printed without its source).
    fn new(
        file: &Arc<SourceFile>,
        labels: &[(Range<usize>, Option<String>)],
        force: bool,
    ) -> Option<Excerpt> {
        let text: &str = &file.text;
        let bytes = text.as_bytes();
        // A label past the end of the text (at either end) gets no excerpt.
        if labels.is_empty() || labels.iter().any(|(s, _)| s.start.max(s.end) > text.len()) {
            return None;
        }
        let ends: Vec<usize> = labels
            .iter()
            .flat_map(|(s, _)| [s.start, s.end.max(s.start)])
            .collect();
        let lo = ends.iter().copied().min().unwrap_or(0);
        let hi = ends.iter().copied().max().unwrap_or(0);
        // INVARIANT: every offset these two are given is at most
        // `bytes.len()`: the labels' ends (tested above), the starts and
        // ends of their lines, and one past a line end that is not the
        // text's end.
        #[expect(clippy::indexing_slicing, reason = "i <= bytes.len(), see INVARIANT")]
        let line_start = |i: usize| memchr::memrchr(b'\n', &bytes[..i]).map_or(0, |n| n + 1);
        #[expect(clippy::indexing_slicing, reason = "i <= bytes.len(), see INVARIANT")]
        let line_end = |i: usize| memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n);
        // One line of context before and after, as miette shows.
        let first = line_start(lo);
        let from = if first > 0 { line_start(first - 1) } else { 0 };
        let last_end = line_end(hi);
        let to = if last_end < bytes.len() {
            line_end(last_end + 1)
        } else {
            last_end
        };
        let long = {
            let mut s = from;
            let mut any = false;
            while s <= to {
                let e = line_end(s);
                if e - s > LONG_LINE {
                    any = true;
                    break;
                }
                s = e + 1;
            }
            any
        };
        if !force && !long && text.len() <= LARGE_FILE {
            return None;
        }
        // INVARIANT: `from <= bytes.len()`: it is a line start.
        #[expect(clippy::indexing_slicing, reason = "from <= bytes.len(), a line start")]
        let before = &bytes[..from];
        let mut out = Excerpt {
            name: file.name.clone(),
            text: String::new(),
            first_line: memchr::memchr_iter(b'\n', before).count() + file.first_line.max(1),
            pieces: Vec::new(),
            file: file.clone(),
        };
        let mut s = from;
        while s <= to {
            let e = line_end(s);
            if e - s <= LONG_LINE {
                out.copy(text, s, e);
            } else {
                // Windows around every label end on this line, merged.
                let mut windows: Vec<(usize, usize)> = ends
                    .iter()
                    .filter(|&&p| p >= s && p <= e)
                    .map(|&p| {
                        (
                            floor_boundary(text, p.saturating_sub(WINDOW).max(s)),
                            ceil_boundary(text, (p + WINDOW).min(e)),
                        )
                    })
                    .collect();
                if windows.is_empty() {
                    windows.push((s, floor_boundary(text, s + 2 * WINDOW)));
                }
                windows.sort_unstable();
                let mut merged: Vec<(usize, usize)> = Vec::new();
                for (a, b) in windows {
                    match merged.last_mut() {
                        Some(last) if a <= last.1 => last.1 = last.1.max(b),
                        _ => merged.push((a, b)),
                    }
                }
                let mut at = s;
                for (a, b) in merged {
                    if a > at {
                        out.text.push_str(CUT);
                    }
                    out.copy(text, a, b);
                    at = b;
                }
                if at < e {
                    out.text.push_str(CUT);
                }
            }
            if e < bytes.len() {
                out.copy(text, e, e + 1);
            }
            s = e + 1;
        }
        Some(out)
    }

    fn copy(&mut self, text: &str, from: usize, to: usize) {
        if let Some(piece) = text.get(from..to) {
            self.pieces.push((self.text.len(), from, piece.len()));
            self.text.push_str(piece);
        }
    }

    /// The excerpt offset of a file offset (labels' ends are always copied).
    fn to_excerpt(&self, offset: usize) -> usize {
        let i = self.pieces.partition_point(|&(_, f, len)| f + len < offset);
        match self.pieces.get(i) {
            Some(&(x, f, len)) if offset >= f => x + (offset - f).min(len),
            Some(&(x, _, _)) => x,
            None => self.text.len(),
        }
    }

    /// The file offset of an excerpt offset (a `…` maps to what follows it).
    fn to_file(&self, offset: usize) -> usize {
        let i = self
            .pieces
            .partition_point(|&(x, _, len)| x + len <= offset);
        match self.pieces.get(i) {
            Some(&(x, f, _)) if offset >= x => f + (offset - x),
            Some(&(_, f, _)) => f,
            None => self.file.text.len(),
        }
    }
}

impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner =
            self.text
                .as_str()
                .read_span(span, context_lines_before, context_lines_after)?;
        // The column of the span's start in the file (bytes, 0-based, as
        // miette counts), not in the excerpt.
        let at = self.to_file(span.offset());
        let bytes = self.file.text.as_bytes();
        // INVARIANT: `at <= bytes.len()`: the pieces were copied from this
        // file, and `to_file` maps into a piece or to the file's end.
        #[expect(clippy::indexing_slicing, reason = "at <= bytes.len(), see INVARIANT")]
        let before = &bytes[..at];
        let start = memchr::memrchr(b'\n', before).map_or(0, |n| n + 1);
        let shift = if start == 0 {
            self.file.named.inner().column_shift
        } else {
            0
        };
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line - 1,
            at - start + shift,
            // miette counts lines from the start of the text here (and
            // merges two labels' snippets by it): count from the file's.
            inner.line_count() + self.first_line - 1,
        )))
    }
}

/// Reads a file as UTF-8, with an error that names it.
pub fn read_text(path: &std::path::Path) -> Result<String, Diag> {
    let bytes = std::fs::read(path).map_err(|e| {
        Diag::error(
            Code::InputUnreadable,
            format!("cannot read `{}`: {e}", crate::source::display_path(path)),
        )
    })?;
    crate::evidence::note_read(path, &bytes);
    String::from_utf8(bytes).map_err(|e| {
        Diag::error(
            Code::InputNotUtf8,
            format!(
                "`{}` is not UTF-8 text (invalid byte at offset {})",
                crate::source::display_path(path),
                e.utf8_error().valid_up_to()
            ),
        )
        .with_help("save the file as UTF-8")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `location` counts as `SourceFile::line_col` does.
    #[test]
    fn location_is_the_files_line_and_column() {
        let f = SourceFile::new("x", "ab\nc—d\n");
        for at in [0, 1, 3, 4, 7, 8, 9] {
            let d = Diag::error(Code::ParseSyntax, "x")
                .in_file(&f)
                .label(at..at, "here");
            let (line, col) = f.line_col(at);
            assert_eq!(d.location(), Some(("x".to_string(), line, col)), "at {at}");
        }
    }
}
