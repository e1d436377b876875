//! One diagnostic type for everything proviso reports on a file.
//!
//! Rule-file errors, unreadable inputs and findings are all rendered by
//! miette; they share this struct so that every report has the same shape:
//! a stable code (`proviso::<area>::<name>`, or the clause's own id for a
//! finding), a lowercase message, labelled spans in one file, and at most a
//! few help lines. Messages follow Cedar's habit: lowercase, no final period,
//! user input in backticks.

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
    pub code: String,
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
    pub fn error(code: &str, message: impl Into<String>) -> Diag {
        Diag {
            code: code.to_string(),
            message: message.into(),
            level: Level::Error,
            file: None,
            labels: Vec::new(),
            help: None,
            related: Vec::new(),
        }
    }

    pub fn warning(code: &str, message: impl Into<String>) -> Diag {
        Diag {
            level: Level::Warning,
            ..Diag::error(code, message)
        }
    }

    pub fn advice(code: &str, message: impl Into<String>) -> Diag {
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
                    "proviso::note",
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
        let start = self.labels.first().map(|(s, _)| s.start).unwrap_or(0);
        let (line, col) = file.line_col(start);
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
    // A diagnostic whose spans fall outside the text renders without them
    // rather than failing.
    if handler.render_report(&mut out, diag).is_err() {
        out = format!("{}: {}\n", diag.code, diag.message);
    }
    out
}
