//! The GitHub Actions reporter: workflow commands that the runner turns
//! into annotations on the pull request's diff.
//!
//! `::error file=F,line=L,col=C,endLine=…,endColumn=…,title=T::message`, one
//! per finding, at the SARIF level of the finding (`error`, `warning`,
//! `notice`). Values are escaped as the runner expects: `%`, CR and LF in
//! the message; also `:` and `,` in properties. Waived and baselined
//! findings are not annotated; the summary line ends the output.

use super::CheckReport;
use crate::diag::{Code, Diag, Level};
use crate::findings::Finding;

/// Escapes a workflow command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(
    level: &str,
    file: &str,
    span: (usize, usize, usize, usize),
    title: &str,
    msg: &str,
) -> String {
    let (line, col, end_line, end_col) = span;
    format!(
        "::{level} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={}::{}\n",
        escape_property(file),
        escape_property(title),
        escape_data(msg)
    )
}

fn finding(f: &Finding) -> String {
    let level = match super::sarif::result_level(f) {
        "error" => "error",
        "warning" => "warning",
        _ => "notice",
    };
    let (line, col) = f.primary.line_col();
    let (end_line, end_col) = f.primary.end_line_col();
    let title = format!(
        "proviso: {}",
        f.clause_title.clone().unwrap_or_else(|| f.clause.clone())
    );
    let msg = format!("{}\n{}", super::sarif::with_label(f), f.help);
    command(
        level,
        &f.primary.file.name,
        (line, col, end_line, end_col),
        &title,
        &msg,
    )
}

fn diag(d: &Diag) -> String {
    let level = match d.level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Advice => "notice",
    };
    let mut msg = d.message.clone();
    if let Some(h) = &d.help {
        msg.push('\n');
        msg.push_str(h);
    }
    match (&d.file, d.labels.first()) {
        (Some(file), Some((span, _))) => {
            let (line, col) = file.line_col(span.start);
            let (end_line, end_col) = file.line_col(span.end);
            command(
                level,
                &file.name,
                (line, col, end_line, end_col),
                d.code.as_str(),
                &msg,
            )
        }
        _ => format!(
            "::{level} title={}::{}\n",
            escape_property(d.code.as_str()),
            escape_data(&msg)
        ),
    }
}

pub fn render_check(r: &CheckReport) -> String {
    let mut out = String::new();
    for d in &r.malformed {
        out.push_str(&diag(d));
    }
    for f in &r.findings {
        out.push_str(&finding(f));
    }
    for d in &r.waiver_findings {
        out.push_str(&diag(d));
    }
    for u in &r.unscanned_modules {
        let (line, col) = u.origin.line_col();
        out.push_str(&format!(
            "::notice file={},line={line},col={col},title={}::{}\n",
            escape_property(&u.origin.file.name),
            escape_property(Code::InputRemoteModule.as_str()),
            escape_data(&super::unscanned_text(u))
        ));
    }
    out.push_str(&super::human::summary_line(r));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a: b, c"), "a%3A b%2C c");
    }
}
