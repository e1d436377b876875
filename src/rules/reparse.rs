//! One clause parsed and lowered again after an edit inside it, instead of
//! the whole file (`proviso lsp`, as the author types).
//!
//! A 3 MB rule file takes pest about half a second to parse, and its
//! 5,000 clauses' lowering another tenth: far more than an editor may wait
//! per keystroke. An edit that falls inside one clause (the common case:
//! a message, a condition, an example) changes nothing else of the file's
//! parse, so only that clause is parsed again, by the same grammar
//! ([`Rule::clause_at`]: the text before the clause is skipped with a
//! `memchr`, so positions are the file's), lowered by the same
//! [`Lowerer::lower_clause`], and put in place of the old one; the spans of
//! everything after it move by the edit's length. Anything else (an edit
//! across clauses or outside any, a clause that no longer parses as one
//! clause ending where it should, a nesting too deep, a lowering
//! diagnostic of another item pointing into the clause) answers `false`,
//! and the caller parses the whole file, which also gives the one syntax
//! error message the CLI gives. A test holds the result to the whole
//! file's parse on every clause of the bundled rule file.

use super::ast::*;
use super::lower::Lowerer;
use super::parse::{ProvisoParser, Rule, content_span, skip_unbracketed, syntax_error, too_deep};
use crate::diag::Diag;
use crate::source::{Origin, SourceFile};
use crate::value::{Unknown, Value};
use pest::Parser as _;
use std::sync::Arc;

/// What an edit inside one clause changes in a file's AST: worked out
/// from the old AST without changing it ([`plan`]), then applied
/// ([`apply`]).
pub struct Patch {
    /// The index of the terms among the file's, and of the clause in them.
    terms: usize,
    clause: usize,
    /// The clause as it is now, and its lowering's diagnostics.
    lowered: Option<(Clause, Vec<Diag>)>,
    /// The old clause's span; spans at or after its end move by `delta`.
    old: Span,
    delta: isize,
}

/// The patch that makes the lowering of `old_text` (the file's `terms`, in
/// order, and its lowering `diags`) the lowering of `new`, when the two
/// texts differ inside one clause. `Err(Some(error))` when they do but the
/// clause no longer parses: the syntax error is the one the file parsed
/// whole gives (pest stops at the same place, having tried the same
/// things there). `Err(None)` when the file must be lowered whole.
pub fn plan<'a>(
    terms: impl Iterator<Item = &'a Terms>,
    diags: &[Diag],
    old_text: &str,
    new: &Arc<SourceFile>,
) -> Result<Patch, Option<Diag>> {
    plan_inside(terms, diags, old_text, new).ok_or(None)?
}

fn plan_inside<'a>(
    terms: impl Iterator<Item = &'a Terms>,
    diags: &[Diag],
    old_text: &str,
    new: &Arc<SourceFile>,
) -> Option<Result<Patch, Option<Diag>>> {
    let Some((first, old_end, new_end)) = changed(old_text, &new.text) else {
        // Nothing changed: only the file is new.
        return Some(Ok(Patch {
            terms: 0,
            clause: 0,
            lowered: None,
            old: usize::MAX..usize::MAX,
            delta: 0,
        }));
    };
    // The clause that holds the whole change, its `clause` keyword and
    // closing brace untouched.
    let (ti, ci, terms) = terms.enumerate().find_map(|(ti, t)| {
        let ci = t
            .clauses
            .partition_point(|c| c.span.start < first)
            .checked_sub(1)?;
        let c = t.clauses.get(ci)?;
        (c.span.start < first && old_end < c.span.end).then_some((ti, ci, t))
    })?;
    let delta = isize::try_from(new_end as i128 - old_end as i128).ok()?;
    let old = terms.clauses.get(ci)?.span.clone();
    let new_clause_end = old.end.checked_add_signed(delta)?;
    // Another item's lowering diagnostic pointing into the clause would
    // be stale (the clause's own are redone).
    if diags.iter().any(|d| {
        !own(d, &old)
            && d.labels
                .iter()
                .any(|(s, _)| s.end > old.start && s.start < old.end)
    }) {
        return None;
    }
    if too_deep(&new.text).is_some() {
        return None;
    }
    Some(match parse_clause(new, old.start, new_clause_end, terms)? {
        Ok(lowered) => Ok(Patch {
            terms: ti,
            clause: ci,
            lowered: Some(lowered),
            old,
            delta,
        }),
        Err(syntax) => Err(Some(syntax)),
    })
}

/// Whether a lowering diagnostic is the clause's own (its primary label
/// is inside the clause).
fn own(d: &Diag, clause: &Span) -> bool {
    d.labels
        .first()
        .is_some_and(|(s, _)| s.start >= clause.start && s.end <= clause.end)
}

/// Applies a [`plan`] to the file's AST and lowering diagnostics (which
/// may have been checked since: spans and files are all it touches,
/// besides the clause it replaces).
pub fn apply(p: Patch, rf: &mut RuleFile, diags: &mut Vec<Diag>, new: &Arc<SourceFile>) {
    let Some((clause, clause_diags)) = p.lowered else {
        retarget(rf, diags, new, usize::MAX, 0);
        return;
    };
    let at = diags
        .iter()
        .position(|d| own(d, &p.old))
        .unwrap_or_else(|| {
            diags
                .iter()
                .position(|d| d.labels.first().is_some_and(|(s, _)| s.start > p.old.start))
                .unwrap_or(diags.len())
        });
    diags.retain(|d| !own(d, &p.old));
    let at = at.min(diags.len());
    retarget(rf, diags, new, p.old.end, p.delta);
    // The new clause's spans are the new text's already.
    if let Some(t) = rf.terms.get_mut(p.terms)
        && let Some(c) = t.clauses.get_mut(p.clause)
    {
        *c = clause;
    }
    for (k, d) in clause_diags.into_iter().enumerate() {
        diags.insert(at + k, d);
    }
}

/// [`plan`] and [`apply`] at once: updates `old` (a file's AST and
/// lowering diagnostics) to be the lowering of `new`, when the texts
/// differ inside one clause. Returns whether it did.
pub fn relower(old: &mut (RuleFile, Vec<Diag>), new: &Arc<SourceFile>) -> bool {
    let old_text = old.0.file.text.clone();
    match plan(old.0.terms.iter(), &old.1, &old_text, new) {
        Ok(p) => {
            apply(p, &mut old.0, &mut old.1, new);
            true
        }
        Err(_) => false,
    }
}

/// Lowers a large file in pieces of at least `piece` bytes of clauses, so
/// that pest's token queue (some 30 bytes per byte of rule text: 90 MB
/// for a 3 MB file) never holds more than one piece. Each piece is the
/// file with the other pieces' clauses blanked out (spaces, newlines kept,
/// so every position is the file's): the same grammar and lowering see
/// the file's other items each time and one run of its clauses, which
/// are put back together in order. `None` when the file has one piece or
/// anything fails (a syntax error, a nesting too deep, pieces that do not
/// agree): the caller lowers it whole, which also gives the error the CLI
/// gives.
pub fn lower_in_pieces(file: &Arc<SourceFile>, piece: usize) -> Option<(RuleFile, Vec<Diag>)> {
    let text: &str = &file.text;
    if too_deep(text).is_some() {
        return None;
    }
    let clauses = clause_spans(text)?;
    let mut pieces: Vec<Vec<Span>> = Vec::new();
    let mut size = usize::MAX;
    for c in clauses {
        if size >= piece {
            pieces.push(Vec::new());
            size = 0;
        }
        size += c.len();
        pieces.last_mut()?.push(c);
    }
    if pieces.len() < 2 {
        return None;
    }
    let mut out: Option<(RuleFile, Vec<Diag>)> = None;
    for (k, run) in pieces.iter().enumerate() {
        let mut bytes = text.as_bytes().to_vec();
        for (j, other) in pieces.iter().enumerate() {
            if j == k {
                continue;
            }
            for s in other {
                for b in bytes.get_mut(s.clone())? {
                    if *b != b'\n' {
                        *b = b' ';
                    }
                }
            }
        }
        // (Whole characters are blanked: a clause starts and ends on ASCII.)
        let blanked = SourceFile::new(file.name.clone(), String::from_utf8(bytes).ok()?);
        let tree = super::parse::parse_file(&blanked).ok()?;
        let mut lowerer = Lowerer::new(file);
        let rf = lowerer.lower_file(tree);
        let in_run = |d: &Diag| {
            d.labels
                .first()
                .is_some_and(|(l, _)| run.iter().any(|c| l.start >= c.start && l.end <= c.end))
        };
        match &mut out {
            None => {
                // The first piece gives everything but the other clauses.
                let others = |d: &Diag| {
                    d.labels.first().is_some_and(|(l, _)| {
                        pieces
                            .iter()
                            .skip(1)
                            .flatten()
                            .any(|c| l.start >= c.start && l.end <= c.end)
                    })
                };
                let diags = lowerer.errors.into_iter().filter(|d| !others(d)).collect();
                out = Some((rf, diags));
            }
            Some((all, diags)) => {
                if rf.terms.len() != all.terms.len() {
                    return None;
                }
                for (t, more) in all.terms.iter_mut().zip(rf.terms) {
                    if t.id != more.id {
                        return None;
                    }
                    t.clauses.extend(more.clauses);
                }
                diags.extend(lowerer.errors.into_iter().filter(in_run));
            }
        }
    }
    out
}

/// The span of each clause of each `terms` block (from `clause` to its
/// closing brace), found by the brackets, skipping strings, comments and
/// `/regex/`s as [`too_deep`] does; `None` if the brackets do not add up.
fn clause_spans(text: &str) -> Option<Vec<Span>> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut item = "";
    let mut in_terms = false;
    let mut clause: Option<usize> = None;
    let mut i = 0usize;
    while let Some(c) = at(i) {
        if let Some((last, _)) = skip_unbracketed(b, i) {
            i = last + 1;
            continue;
        }
        match c {
            b'{' | b'(' | b'[' => {
                if depth == 0 {
                    in_terms = c == b'{' && item == "terms";
                }
                depth += 1;
            }
            b'}' | b')' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 1
                    && c == b'}'
                    && let Some(start) = clause.take()
                {
                    out.push(start..i + 1);
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while at(i).is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
                    i += 1;
                }
                let word = text.get(start..i)?;
                if depth == 0
                    && matches!(
                        word,
                        "agreement" | "source" | "define" | "terms" | "field" | "param"
                    )
                {
                    item = word;
                } else if depth == 1 && in_terms && word == "clause" && clause.is_none() {
                    clause = Some(start);
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    (depth == 0 && clause.is_none()).then_some(out)
}

/// The first differing byte, and where the differing part ends in the old
/// and in the new text (their common suffix starts there); `None` when
/// they are equal.
fn changed(old: &str, new: &str) -> Option<(usize, usize, usize)> {
    if old == new {
        return None;
    }
    let (a, b) = (old.as_bytes(), new.as_bytes());
    let mut first = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let room = a.len().min(b.len()) - first;
    let mut same_tail = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(room)
        .take_while(|(x, y)| x == y)
        .count();
    // On character boundaries in both texts.
    while first > 0 && !(old.is_char_boundary(first) && new.is_char_boundary(first)) {
        first -= 1;
    }
    while same_tail > 0
        && !(old.is_char_boundary(a.len() - same_tail) && new.is_char_boundary(b.len() - same_tail))
    {
        same_tail -= 1;
    }
    Some((first, a.len() - same_tail, b.len() - same_tail))
}

/// Parses and lowers the clause at `start` of `file`, which must end at
/// `end`; `Some(Err(error))` when it does not parse.
fn parse_clause(
    file: &Arc<SourceFile>,
    start: usize,
    end: usize,
    terms: &Terms,
) -> Option<Result<(Clause, Vec<Diag>), Diag>> {
    let text = &file.text;
    let before = start.checked_sub(1)?;
    // The character before `clause` becomes the NUL the grammar skips to:
    // it must be one byte, and no NUL may come earlier.
    if !text.get(before..start)?.is_ascii()
        || memchr::memchr(0, text.get(..before)?.as_bytes()).is_some()
    {
        return None;
    }
    let mut padded = String::with_capacity(text.len());
    padded.push_str(text.get(..before)?);
    padded.push('\0');
    padded.push_str(text.get(start..)?);
    let at = match ProvisoParser::parse(Rule::clause_at, &padded) {
        Ok(mut pairs) => pairs.next()?,
        Err(e) => return Some(Err(syntax_error(file, e))),
    };
    let pair = at.into_inner().find(|p| p.as_rule() == Rule::clause)?;
    if content_span(&pair) != (start..end) {
        return None;
    }
    let mut lowerer = Lowerer::new(file);
    let clause = lowerer.lower_clause(&pair, &terms.interval, &terms.id, terms.dates_valid)?;
    Some(Ok((clause, lowerer.errors)))
}

/// Moves every span that ends at or after `at` by `delta` (a span that
/// starts there moves whole, one that encloses it grows), and points the
/// file's items and diagnostics at `file`.
fn retarget(
    rf: &mut RuleFile,
    diags: &mut [Diag],
    file: &Arc<SourceFile>,
    at: usize,
    delta: isize,
) {
    let mut s = Shift {
        at,
        delta,
        file: file.clone(),
    };
    let old_name = rf.file.name.clone();
    rf.file = file.clone();
    if let Some(a) = &mut rf.agreement {
        s.span(&mut a.id.span);
    }
    // Sources and parameters: a name and a declaration.
    let named = (rf
        .sources
        .iter_mut()
        .map(|x| (&mut x.file, &mut x.id.span, &mut x.span)))
    .chain(
        rf.params
            .iter_mut()
            .map(|x| (&mut x.file, &mut x.id.span, &mut x.span)),
    );
    for (f, id, whole) in named {
        *f = file.clone();
        s.span(id);
        s.span(whole);
    }
    for x in &mut rf.defines {
        x.file = file.clone();
        s.span(&mut x.id.span);
        s.expr(&mut x.value);
    }
    for x in &mut rf.fields {
        x.file = file.clone();
        s.span(&mut x.span);
        if let Some(e) = &mut x.required {
            s.expr(e);
        }
    }
    for t in &mut rf.terms {
        t.file = file.clone();
        s.span(&mut t.id.span);
        s.span(&mut t.effective_span);
        s.opt(&mut t.until_span);
        if let Some(i) = &mut t.supersedes {
            s.span(&mut i.span);
        }
        s.opt(&mut t.proposed);
        for c in &mut t.clauses {
            s.clause(c);
        }
        for x in &mut t.exceptions {
            s.span(&mut x.id.span);
            x.cites.iter_mut().for_each(|c| s.cite(c));
            if let Some(e) = &mut x.when {
                s.expr(e);
            }
            s.span(&mut x.span);
        }
        s.span(&mut t.span);
    }
    for d in diags {
        s.diag(d, &old_name, file);
    }
}

struct Shift {
    at: usize,
    delta: isize,
    /// The file the items now belong to (an example's `unknown` values
    /// carry where they are written).
    file: Arc<SourceFile>,
}

impl Shift {
    fn pos(&self, p: &mut usize) {
        if *p >= self.at {
            *p = p.saturating_add_signed(self.delta);
        }
    }

    fn span(&mut self, s: &mut Span) {
        self.pos(&mut s.start);
        self.pos(&mut s.end);
    }

    fn opt(&mut self, s: &mut Option<Span>) {
        if let Some(s) = s {
            self.span(s);
        }
    }

    fn diag(&mut self, d: &mut Diag, name: &str, file: &Arc<SourceFile>) {
        if d.file.as_ref().is_some_and(|f| f.name == name) {
            d.file = Some(file.clone());
            for (s, _) in &mut d.labels {
                self.span(s);
            }
        }
        for r in &mut d.related {
            self.diag(r, name, file);
        }
    }

    fn cite(&mut self, c: &mut Cite) {
        self.span(&mut c.source.span);
        self.span(&mut c.span);
    }

    fn expr(&mut self, e: &mut Expr) {
        e.walk_mut(&mut |x| {
            self.span(&mut x.span);
            if let ExprKind::Literal(v) = &mut x.kind {
                self.value(v);
            }
        });
    }

    fn value(&mut self, v: &mut Value) {
        match v {
            Value::List(items) => items.iter_mut().for_each(|i| self.value(i)),
            Value::Map(m) => m.values_mut().for_each(|i| self.value(i)),
            Value::Unknown(u) => {
                if let Some(o) = &u.origin {
                    let mut span = o.span.clone();
                    self.span(&mut span);
                    *u = Arc::new(Unknown {
                        reason: u.reason.clone(),
                        origin: Some(Origin {
                            file: self.file.clone(),
                            span,
                        }),
                        fails: u.fails,
                    });
                }
            }
            _ => {}
        }
    }

    fn arith(&mut self, a: &mut Arith) {
        a.walk_mut(&mut |x| self.span(&mut x.span));
    }

    fn gexpr(&mut self, g: &mut GExpr) {
        self.span(&mut g.span);
        match &mut g.kind {
            GKind::Or(items) | GKind::And(items) => items.iter_mut().for_each(|i| self.gexpr(i)),
            GKind::Not(i) => self.gexpr(i),
            GKind::Compare(a, _, b) | GKind::In { lhs: a, rhs: b, .. } => {
                self.arith(a);
                self.arith(b);
            }
            GKind::Exists(a) | GKind::Truthy(a) => self.arith(a),
        }
    }

    fn clause(&mut self, c: &mut Clause) {
        self.span(&mut c.id.span);
        c.cites.iter_mut().for_each(|x| self.cite(x));
        if let Some(e) = &mut c.applies {
            self.expr(e);
        }
        if let Check::Require(e) | Check::Forbid(e) = &mut c.check {
            self.expr(e);
        }
        c.excepts.iter_mut().for_each(|i| self.span(&mut i.span));
        c.unless.iter_mut().for_each(|e| self.expr(e));
        if let Some(m) = &mut c.message {
            self.span(&mut m.span);
            for p in &mut m.parts {
                if let MessagePart::Field(_, s) = p {
                    self.span(s);
                }
            }
        }
        for x in &mut c.examples {
            self.value(&mut x.given);
            self.span(&mut x.span);
        }
        if let Some(agg) = c.aggregate.as_deref_mut() {
            for k in &mut agg.per {
                match k {
                    GroupKey::Field(_, s) | GroupKey::Period(_, s) => self.span(s),
                }
            }
            if let Some(e) = &mut agg.over {
                self.expr(e);
            }
            for a in &mut agg.aggs {
                if let Some(e) = &mut a.filter {
                    self.expr(e);
                }
                self.span(&mut a.span);
            }
            for f in &mut agg.figures {
                self.span(&mut f.id.span);
                self.arith(&mut f.value);
            }
            if let Some(g) = &mut agg.applies {
                self.gexpr(g);
            }
            if let Some((g, _)) = &mut agg.check {
                self.gexpr(g);
            }
            agg.unless.iter_mut().for_each(|g| self.gexpr(g));
            for x in &mut agg.examples {
                x.records.iter_mut().for_each(|r| self.value(r));
                x.params
                    .iter_mut()
                    .for_each(|(i, _)| self.span(&mut i.span));
                x.expects.iter_mut().for_each(|(_, _, s)| self.span(s));
                self.span(&mut x.span);
            }
            self.span(&mut agg.span);
        }
        self.span(&mut c.span);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lower(name: &str, text: &str) -> (RuleFile, Vec<Diag>) {
        match super::super::lower_file(&SourceFile::new(name, text)) {
            Ok(l) => l,
            Err(d) => panic!("{}", d.message),
        }
    }

    /// The AST and diagnostics as text, for comparison (diagnostics in
    /// order of position: the relowered clause's come where it is), the
    /// file's text left out.
    fn shown(l: &(RuleFile, Vec<Diag>)) -> String {
        let mut l = l.clone();
        let blank = SourceFile::new(l.0.file.name.clone(), "");
        retarget(&mut l.0, &mut l.1, &blank, usize::MAX, 0);
        let mut diags: Vec<String> = l.1.iter().map(|d| format!("{d:?}")).collect();
        diags.sort();
        format!("{:#?}\n{}", l.0, diags.join("\n"))
    }

    /// The bundled rule file, lowered, and its clauses.
    fn bundled() -> (String, (RuleFile, Vec<Diag>), Vec<Clause>) {
        let text = std::fs::read_to_string("rules/microsoft-openai.proviso").unwrap();
        let base = lower("m.proviso", &text);
        let clauses = base
            .0
            .terms
            .iter()
            .flat_map(|t| t.clauses.clone())
            .collect();
        (text, base, clauses)
    }

    /// Fails with the first lines where two renderings differ.
    fn same(a: &str, b: &str, what: &str) {
        if a == b {
            return;
        }
        let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
        let i = la.iter().zip(&lb).take_while(|(x, y)| x == y).count();
        let from = i.saturating_sub(12);
        panic!(
            "{what}: differ at line {i}\n--- left\n{}\n--- right\n{}",
            la[from..(i + 4).min(la.len())].join("\n"),
            lb[from..(i + 4).min(lb.len())].join("\n")
        );
    }

    /// Every clause of the bundled rule file edited in turn (words added
    /// to its last string, a character of it deleted, a comment added
    /// before its closing brace): the relowered file is the file lowered
    /// whole.
    #[test]
    fn an_edit_inside_a_clause_relowers_to_what_the_whole_file_lowers_to() {
        let (text, base, clauses) = bundled();
        let mut tried = 0;
        for c in &clauses {
            let body = &text[c.span.clone()];
            let q = c.span.start + body.rfind('"').unwrap();
            let brace = c.span.end - 1;
            let mut edits = vec![
                (q, q, " — edited"),
                (q, q, " and more words"),
                (brace, brace, "  // a note\n  "),
            ];
            let prev = text[..q].char_indices().next_back().unwrap();
            if prev.1 != '"' && prev.1 != '\\' {
                edits.push((prev.0, q, ""));
            }
            for (a, b, insert) in edits {
                let mut edited = text.clone();
                edited.replace_range(a..b, insert);
                let new = SourceFile::new("m.proviso", edited.as_str());
                let mut inc = base.clone();
                assert!(
                    relower(&mut inc, &new),
                    "clause `{}`: {insert:?}",
                    c.id.name
                );
                let whole = lower("m.proviso", &edited);
                same(
                    &shown(&inc),
                    &shown(&whole),
                    &format!("clause `{}`: {insert:?}", c.id.name),
                );
                tried += 1;
            }
        }
        assert!(tried > 30, "{tried}");
    }

    /// `proviso lsp` keeps a file's AST only checked, and checks it again
    /// after [`super::super::unbuild`]: that must give back what lowering
    /// gave, aggregate clauses' figures, keys, parameters and inlined set
    /// defines included.
    #[test]
    fn a_checked_set_unbuilt_is_its_files_as_lowered() {
        let paths = fixture_files();
        assert!(paths.len() > 10);
        for p in paths {
            let file = SourceFile::new(
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            );
            let Ok(lowered) = super::super::lower_file(&file) else {
                continue;
            };
            let (set, ..) =
                super::super::build_lowered(vec![file.clone()], vec![Ok(lowered.clone())]);
            let mut back = super::super::unbuild(set).remove(&file.name).unwrap();
            back.agreement = lowered.0.agreement.clone();
            same(
                &shown(&(back, lowered.1.clone())),
                &shown(&lowered),
                &p.display().to_string(),
            );
        }
    }

    fn fixture_files() -> Vec<std::path::PathBuf> {
        let mut paths = vec![std::path::PathBuf::from("rules/microsoft-openai.proviso")];
        for dir in [
            "fixtures/rules/valid",
            "fixtures/rules/lint",
            "fixtures/rules/invalid",
        ] {
            let Ok(rd) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut more: Vec<_> = rd
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "proviso"))
                .collect();
            more.sort();
            paths.extend(more);
        }
        paths
    }

    /// Lowered a clause at a time (pieces of one byte), every rule file of
    /// the repository that lowers is what it is lowered whole.
    #[test]
    fn a_file_lowered_in_pieces_is_the_file_lowered_whole() {
        let mut pieced = 0;
        for p in fixture_files() {
            let file = SourceFile::new(
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            );
            let Ok(whole) = super::super::lower_file(&file) else {
                assert!(lower_in_pieces(&file, 1).is_none(), "{}", p.display());
                continue;
            };
            if let Some(pieces) = lower_in_pieces(&file, 1) {
                same(&shown(&pieces), &shown(&whole), &p.display().to_string());
                pieced += 1;
            }
        }
        assert!(pieced > 5, "{pieced}");
    }

    /// A clause that an edit leaves without a valid syntax: the error is
    /// the one the file parsed whole gives, for every clause of the
    /// bundled file.
    #[test]
    fn a_clause_broken_by_an_edit_gives_the_syntax_error_of_the_whole_file() {
        let (text, base, clauses) = bundled();
        let mut tried = 0;
        for c in &clauses {
            let brace = c.span.end - 1;
            for insert in [
                "\n    severity\n  ",
                "\n    require cloud ==\n  ",
                " \"",
                "\n    example \"x\" {\n  ",
            ] {
                let mut edited = text.clone();
                edited.insert_str(brace, insert);
                let new = SourceFile::new("m.proviso", edited.as_str());
                let Err(whole) = super::super::lower_file(&new) else {
                    panic!("{insert:?} in `{}` parses", c.id.name);
                };
                match plan(base.0.terms.iter(), &base.1, &text, &new) {
                    Err(Some(d)) => {
                        same(&format!("{d:?}"), &format!("{whole:?}"), &c.id.name);
                        tried += 1;
                    }
                    Err(None) => {}
                    Ok(_) => panic!("{insert:?} in `{}` planned", c.id.name),
                }
            }
        }
        assert!(tried > 30, "{tried}");
    }

    #[test]
    fn an_edit_across_clauses_or_that_breaks_one_is_refused() {
        let text = "terms t effective 2026-01-01 {\n  clause a {\n    require cloud == \"azure\"\n  }\n  clause b {\n    require cloud == \"aws\"\n  }\n}\n";
        let base = lower("f.proviso", text);
        // Across two clauses.
        let across = text.replace(
            "\"azure\"\n  }\n  clause b {\n    require cloud == \"aws\"",
            "\"gcp\"",
        );
        let mut inc = base.clone();
        assert!(!relower(
            &mut inc,
            &SourceFile::new("f.proviso", across.as_str())
        ));
        // A clause closed early: the edit ends the clause before its brace.
        let closed = text.replace("== \"azure\"", "== \"azure\" }\n  clause c {");
        assert!(!relower(
            &mut base.clone(),
            &SourceFile::new("f.proviso", closed.as_str())
        ));
        // A syntax error inside the clause.
        let broken = text.replace("== \"azure\"", "== ");
        assert!(!relower(
            &mut base.clone(),
            &SourceFile::new("f.proviso", broken.as_str())
        ));
        // An edit inside a clause is taken, with the lowering's errors.
        let bad_date = text.replace(
            "require cloud == \"aws\"",
            "require cloud == \"aws\"\n    effective 2025-01-01",
        );
        let mut inc = base.clone();
        assert!(relower(
            &mut inc,
            &SourceFile::new("f.proviso", bad_date.as_str())
        ));
        same(
            &shown(&inc),
            &shown(&lower("f.proviso", &bad_date)),
            "bad date",
        );
        assert!(!inc.1.is_empty());
    }
}
