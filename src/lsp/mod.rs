//! `proviso lsp`: a Language Server Protocol server over standard input and
//! output, for editors (VS Code through `editors/vscode`, Neovim, Helix).
//!
//! Everything it says comes from the code the commands use: the parser,
//! lowering and checks ([`crate::rules::build_partial`]), `lint`, `fmt`
//! ([`crate::rules::format`]), `explain`'s English ([`crate::explain`]) and
//! `test`'s examples ([`crate::rules::examples`]). A document is judged
//! with the other `.proviso` files of its directory (not its
//! subdirectories), the open editors' text taking the place of the files
//! on disk, so a define used from another file resolves and an error in
//! one file shows in the file it is in.
//!
//! The loop is synchronous and single-threaded (one reader thread only
//! splits the input into frames): edits queued while the server works are
//! applied together and the rule set is checked once, when the queue is
//! empty or a request needs it. Framing is read here, not by
//! `lsp-server`'s own reader, because that reader ends its thread on the
//! first malformed frame (and allocates whatever `Content-Length` says):
//! here a frame that is not JSON gets a `ParseError` (-32700) response with
//! a null id, a JSON value that is not a JSON-RPC message an
//! `InvalidRequest` (-32600), a request for a method the server does not
//! know `MethodNotFound` (-32601), parameters of the wrong shape
//! `InvalidParams` (-32602), and the server goes on reading. A frame
//! larger than [`MAX_FRAME`] is skipped unread with an `InvalidRequest`.

pub mod analysis;
mod features;
pub mod position;

pub use features::FIXTURE_TAG_KEYS;

use crate::source::SourceFile;
use analysis::Analysis;
use lsp_server::{ErrorCode, Message, Notification, Request, Response};
use position::{Encoding, LineIndex};
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// The largest frame read: a rule file may be 64 MiB
/// ([`crate::rules::MAX_RULE_FILE_BYTES`]); JSON escaping adds to it.
pub const MAX_FRAME: usize = 96 << 20;
/// The longest header line read.
const MAX_HEADER_LINE: u64 = 8 << 10;

/// What the reader thread hands the loop.
#[derive(Debug)]
pub enum Incoming {
    Message(Json),
    /// A frame that could not be read as JSON: answered with this error.
    Bad(i32, String),
    Eof,
}

/// Reads one `Content-Length` frame.
pub fn read_frame(r: &mut impl BufRead) -> Incoming {
    let mut len: Option<usize> = None;
    let mut bad: Option<String> = None;
    let mut headers = 0usize;
    loop {
        let mut line = Vec::new();
        match r
            .by_ref()
            .take(MAX_HEADER_LINE)
            .read_until(b'\n', &mut line)
        {
            Ok(0) | Err(_) => return Incoming::Eof,
            Ok(_) => {}
        }
        if !line.ends_with(b"\n") {
            // A header line longer than the cap: skip to its end.
            bad = Some("a header line longer than 8 KiB".into());
            let mut rest = Vec::new();
            if r.read_until(b'\n', &mut rest).map_or(true, |n| n == 0) {
                return Incoming::Eof;
            }
            headers += 1;
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if headers == 0 {
                continue;
            }
            break;
        }
        headers += 1;
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<usize>() {
                    Ok(n) => len = Some(n),
                    Err(_) => {
                        bad = Some(format!(
                            "`Content-Length: {}` is not a length",
                            value.trim()
                        ))
                    }
                }
            }
            Some(_) => {}
            None => {
                bad = Some(format!(
                    "malformed header line `{}`",
                    text.chars().take(80).collect::<String>()
                ))
            }
        }
    }
    let Some(n) = len else {
        return Incoming::Bad(
            ErrorCode::ParseError as i32,
            bad.unwrap_or_else(|| "a message without a Content-Length header".into()),
        );
    };
    if n > MAX_FRAME {
        let skipped = std::io::copy(&mut r.by_ref().take(n as u64), &mut std::io::sink());
        if skipped.map_or(true, |k| k < n as u64) {
            return Incoming::Eof;
        }
        return Incoming::Bad(
            ErrorCode::InvalidRequest as i32,
            format!("a message of {n} bytes is larger than the {MAX_FRAME} proviso reads"),
        );
    }
    let mut body = vec![0; n];
    if r.read_exact(&mut body).is_err() {
        return Incoming::Eof;
    }
    if let Some(b) = bad {
        return Incoming::Bad(ErrorCode::ParseError as i32, b);
    }
    match serde_json::from_slice::<Json>(&body) {
        Ok(v) => Incoming::Message(v),
        Err(e) => Incoming::Bad(
            ErrorCode::ParseError as i32,
            format!("the message is not JSON: {e}"),
        ),
    }
}

/// Runs the server on standard input and output until `exit` or the end
/// of input; the exit code is 0 after `shutdown`, 1 otherwise.
pub fn run() -> i32 {
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::Builder::new()
        .name("proviso-lsp-reader".into())
        .spawn(move || {
            let stdin = std::io::stdin();
            let mut input = stdin.lock();
            loop {
                let frame = read_frame(&mut input);
                let end = matches!(frame, Incoming::Eof);
                if tx.send(frame).is_err() || end {
                    break;
                }
            }
        });
    if reader.is_err() {
        return 1;
    }
    let mut server = Server::new(std::io::stdout());
    server.serve(&rx)
}

/// An open document.
struct Doc {
    uri: String,
    path: Option<PathBuf>,
    text: Arc<str>,
    version: i32,
}

/// The rule set a document belongs to: its directory's files (or the
/// document alone, when it is not a file).
#[derive(Default)]
struct Group {
    analysis: Option<Arc<Analysis>>,
    dirty: bool,
    /// The URI of each file name of the set.
    uris: HashMap<String, String>,
    /// Line indexes of the set's files, by name.
    lines: HashMap<String, Arc<LineIndex>>,
    /// URIs that were sent diagnostics, to clear them when they have none,
    /// with a hash of the diagnostics and the version sent.
    published: HashMap<String, (u64, Option<i32>)>,
    /// The last analysis in which every file parsed: completion's names
    /// while a line being typed does not parse.
    parsed: Option<Arc<Analysis>>,
    /// `proviso test`'s results, worked out on the first code lens.
    examples: Option<Arc<Vec<crate::rules::examples::ExampleResult>>>,
}

/// What lowering a rule file gave, besides its AST: its `agreement` line
/// and its diagnostics, or its parse error.
struct Lowering {
    file: Arc<SourceFile>,
    result: Result<Lowered, crate::diag::Diag>,
    /// When it does not parse: the file as it last did, and what lowering
    /// it gave then (its AST is in the group's last analysis that parsed).
    good: Option<(Arc<SourceFile>, Lowered)>,
}

/// A file's `agreement` line and lowering diagnostics.
type Lowered = (Option<crate::rules::ast::Agreement>, Vec<crate::diag::Diag>);

/// An analysis's ASTs per file, unchecked again; taken apart if nothing
/// else holds it, else copied.
fn take_apart(a: Arc<Analysis>) -> HashMap<String, crate::rules::ast::RuleFile> {
    match Arc::try_unwrap(a) {
        Ok(a) => crate::rules::unbuild(a.rules),
        Err(a) => crate::rules::unbuild(a.rules.clone()),
    }
}

/// The server's state.
pub struct Server<W: Write> {
    out: W,
    enc: Encoding,
    initialized: bool,
    shutdown: bool,
    docs: HashMap<String, Doc>,
    /// Rule files read from disk: modification time, length, text.
    disk: HashMap<PathBuf, (Option<SystemTime>, u64, Arc<str>)>,
    groups: HashMap<String, Group>,
    /// Each rule file as last lowered, by name (its AST is in its group's
    /// analysis, checked: one copy): a file whose text did not change is
    /// not parsed again.
    lowered: HashMap<String, Lowering>,
}

type Handled = Result<Json, (i32, String)>;

fn invalid_params(e: impl std::fmt::Display) -> (i32, String) {
    (
        ErrorCode::InvalidParams as i32,
        format!("invalid params: {e}"),
    )
}

impl<W: Write> Server<W> {
    pub fn new(out: W) -> Server<W> {
        Server {
            out,
            enc: Encoding::Utf16,
            initialized: false,
            shutdown: false,
            docs: HashMap::new(),
            disk: HashMap::new(),
            groups: HashMap::new(),
            lowered: HashMap::new(),
        }
    }

    /// Serves until `exit` or the end of input.
    pub fn serve(&mut self, rx: &std::sync::mpsc::Receiver<Incoming>) -> i32 {
        loop {
            let Ok(first) = rx.recv() else {
                return 1;
            };
            if let Some(code) = self.incoming(first) {
                return code;
            }
            // Edits queued meanwhile are applied before checking once.
            while let Ok(next) = rx.try_recv() {
                if let Some(code) = self.incoming(next) {
                    return code;
                }
            }
            self.publish_dirty();
        }
    }

    fn send(&mut self, msg: Message) {
        // A closed standard output ends the session at the next read.
        let _ = msg.write(&mut self.out);
        let _ = self.out.flush();
    }

    /// An error response whose request id is unknown (JSON-RPC: `null`).
    fn send_raw_error(&mut self, id: Json, code: i32, message: &str) {
        let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
            .to_string();
        let _ = write!(self.out, "Content-Length: {}\r\n\r\n{body}", body.len());
        let _ = self.out.flush();
    }

    fn notify(&mut self, method: &str, params: Json) {
        self.send(Message::Notification(Notification::new(
            method.to_string(),
            params,
        )));
    }

    /// Handles one frame; `Some(code)` when the server must exit.
    fn incoming(&mut self, frame: Incoming) -> Option<i32> {
        match frame {
            Incoming::Eof => Some(if self.shutdown { 0 } else { 1 }),
            Incoming::Bad(code, message) => {
                self.send_raw_error(Json::Null, code, &message);
                None
            }
            Incoming::Message(v) => {
                let id = match &v {
                    Json::Object(o) => o.get("id").cloned().unwrap_or(Json::Null),
                    _ => Json::Null,
                };
                match serde_json::from_value::<Message>(v) {
                    Ok(Message::Request(req)) => {
                        self.request(req);
                        None
                    }
                    Ok(Message::Notification(n)) => self.notification(n),
                    Ok(Message::Response(_)) => None,
                    Err(_) => {
                        self.send_raw_error(
                            id,
                            ErrorCode::InvalidRequest as i32,
                            "not a JSON-RPC 2.0 request, response or notification",
                        );
                        None
                    }
                }
            }
        }
    }

    fn request(&mut self, req: Request) {
        let Request { id, method, params } = req;
        let result: Handled = match method.as_str() {
            "initialize" if self.initialized => Err((
                ErrorCode::InvalidRequest as i32,
                "initialize was already received".into(),
            )),
            "initialize" => self.initialize(params),
            _ if !self.initialized => Err((
                ErrorCode::ServerNotInitialized as i32,
                "the server is not initialized: send initialize first".into(),
            )),
            _ if self.shutdown => Err((
                ErrorCode::InvalidRequest as i32,
                "shutdown was requested: only exit is accepted".into(),
            )),
            "shutdown" => {
                self.shutdown = true;
                Ok(Json::Null)
            }
            "textDocument/hover" => self.with_position(params, features::hover),
            "textDocument/definition" => self.with_position(params, features::definition),
            "textDocument/references" => self.with_position(params, features::references),
            "textDocument/prepareRename" => self.with_position(params, features::prepare_rename),
            "textDocument/rename" => self.with_position(params, features::rename),
            "textDocument/completion" => self.with_position(params, features::completion),
            "textDocument/formatting" => self.with_document(params, features::formatting),
            "textDocument/documentSymbol" => self.with_document(params, features::symbols),
            "textDocument/codeAction" => self.with_document(params, features::code_actions),
            "textDocument/codeLens" => self.code_lens(params),
            _ => Err((
                ErrorCode::MethodNotFound as i32,
                format!("proviso lsp does not implement `{method}`"),
            )),
        };
        let response = match result {
            Ok(v) => Response {
                id,
                response_result: Ok(v),
            },
            Err((code, message)) => Response::new_err(id, code, message),
        };
        self.send(Message::Response(response));
    }

    fn initialize(&mut self, params: Json) -> Handled {
        let params: lsp_types::InitializeParams =
            serde_json::from_value(params).map_err(invalid_params)?;
        let offered = params
            .capabilities
            .general
            .and_then(|g| g.position_encodings)
            .unwrap_or_default();
        self.enc = if offered.iter().any(|e| e.as_str() == "utf-8") {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        };
        self.initialized = true;
        Ok(json!({
            "capabilities": {
                "positionEncoding": match self.enc { Encoding::Utf8 => "utf-8", Encoding::Utf16 => "utf-16" },
                "textDocumentSync": {"openClose": true, "change": 1, "save": true},
                "hoverProvider": true,
                "definitionProvider": true,
                "referencesProvider": true,
                "renameProvider": {"prepareProvider": true},
                "completionProvider": {"triggerCharacters": [".", "\"", " ", "["]},
                "documentFormattingProvider": true,
                "documentSymbolProvider": true,
                "codeActionProvider": {"codeActionKinds": ["quickfix"]},
                "codeLensProvider": {"resolveProvider": false}
            },
            "serverInfo": {"name": "proviso", "version": env!("CARGO_PKG_VERSION")}
        }))
    }

    fn notification(&mut self, n: Notification) -> Option<i32> {
        match n.method.as_str() {
            "exit" => return Some(if self.shutdown { 0 } else { 1 }),
            "textDocument/didOpen" => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params)
                {
                    let uri = p.text_document.uri.as_str().to_string();
                    let path = uri_to_path(&uri);
                    self.docs.insert(
                        uri.clone(),
                        Doc {
                            uri: uri.clone(),
                            path,
                            text: p.text_document.text.into(),
                            version: p.text_document.version,
                        },
                    );
                    self.mark_dirty(&uri);
                }
            }
            "textDocument/didChange" => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params)
                {
                    let uri = p.text_document.uri.as_str().to_string();
                    let enc = self.enc;
                    if let Some(doc) = self.docs.get_mut(&uri) {
                        let mut text = doc.text.to_string();
                        for change in p.content_changes {
                            match change.range {
                                None => text = change.text,
                                Some(r) => {
                                    let idx = LineIndex::new(&text);
                                    let a = idx.offset(&text, r.start, enc);
                                    let b = idx.offset(&text, r.end, enc).max(a);
                                    text.replace_range(a..b, &change.text);
                                }
                            }
                        }
                        doc.text = text.into();
                        doc.version = p.text_document.version;
                        self.mark_dirty(&uri);
                    }
                }
            }
            "textDocument/didClose" => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params)
                {
                    let uri = p.text_document.uri.as_str().to_string();
                    self.mark_dirty(&uri);
                    if let Some(doc) = self.docs.remove(&uri)
                        && doc.path.is_none()
                    {
                        // Not a file: nothing else will show it.
                        self.groups.remove(&uri);
                        self.notify(
                            "textDocument/publishDiagnostics",
                            json!({"uri": uri, "diagnostics": []}),
                        );
                    }
                }
            }
            "textDocument/didSave" | "workspace/didChangeWatchedFiles" => {
                for g in self.groups.values_mut() {
                    g.dirty = true;
                }
            }
            _ => {}
        }
        None
    }

    /// The group key of a document: its directory, or its URI.
    fn group_key(&self, uri: &str) -> String {
        match self
            .docs
            .get(uri)
            .and_then(|d| d.path.as_ref())
            .or(uri_to_path(uri).as_ref())
        {
            Some(p) => p
                .parent()
                .map_or_else(|| uri.to_string(), |d| d.display().to_string()),
            None => uri.to_string(),
        }
    }

    fn mark_dirty(&mut self, uri: &str) {
        let key = self.group_key(uri);
        self.groups.entry(key).or_default().dirty = true;
    }

    /// Checks every group with edits, and publishes its diagnostics.
    fn publish_dirty(&mut self) {
        let dirty: Vec<String> = self
            .groups
            .iter()
            .filter(|(_, g)| g.dirty)
            .map(|(k, _)| k.clone())
            .collect();
        for key in dirty {
            self.analyze(&key);
        }
    }

    /// The text of a rule file on disk, read again only when it changed.
    fn disk_text(&mut self, path: &Path) -> Option<Arc<str>> {
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() || meta.len() > crate::rules::MAX_RULE_FILE_BYTES {
            return None;
        }
        let mtime = meta.modified().ok();
        if let Some((m, l, t)) = self.disk.get(path)
            && *m == mtime
            && *l == meta.len()
            && mtime.is_some()
        {
            return Some(t.clone());
        }
        let text: Arc<str> = std::fs::read_to_string(path).ok()?.into();
        self.disk
            .insert(path.to_path_buf(), (mtime, meta.len(), text.clone()));
        Some(text)
    }

    /// Re-checks a group and publishes its diagnostics.
    fn analyze(&mut self, key: &str) {
        let mut files: Vec<(String, String, Arc<str>, Option<i32>)> = Vec::new();
        let dir = PathBuf::from(key);
        if dir.is_dir() {
            let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map(|rd| {
                    rd.filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|e| e == "proviso"))
                        .collect()
                })
                .unwrap_or_default();
            // An open document not saved yet is part of its directory too.
            for d in self.docs.values() {
                if let Some(p) = &d.path
                    && p.parent() == Some(dir.as_path())
                    && !paths.contains(p)
                {
                    paths.push(p.clone());
                }
            }
            paths.sort();
            for p in paths {
                let open = self
                    .docs
                    .values()
                    .find(|d| d.path.as_ref() == Some(&p))
                    .map(|d| (d.uri.clone(), d.text.clone(), Some(d.version)));
                let (uri, text, version) = match open {
                    Some(o) => o,
                    None => match self.disk_text(&p) {
                        Some(t) => (path_to_uri(&p), t, None),
                        None => continue,
                    },
                };
                files.push((p.display().to_string(), uri, text, version));
            }
        } else if let Some(d) = self.docs.get(key) {
            files.push((
                d.uri.clone(),
                d.uri.clone(),
                d.text.clone(),
                Some(d.version),
            ));
        }
        let (sources, lowered) = self.lower(key, &files);
        let analysis = Arc::new(Analysis::new(sources, lowered));
        let enc = self.enc;
        let mut publish = Vec::new();
        let group = self.groups.entry(key.to_string()).or_default();
        group.uris = files
            .iter()
            .map(|(name, uri, _, _)| (name.clone(), uri.clone()))
            .collect();
        group.lines = analysis
            .rules
            .files
            .iter()
            .map(|f| (f.name.clone(), Arc::new(LineIndex::new(&f.text))))
            .collect();
        let mut now = HashMap::new();
        for (name, uri, text, version) in &files {
            let lines = group
                .lines
                .get(name)
                .cloned()
                .unwrap_or_else(|| Arc::new(LineIndex::new(text)));
            let mut list: Vec<Json> = analysis
                .diags
                .get(name)
                .map(|ds| {
                    ds.iter()
                        .map(|d| {
                            features::diagnostic(
                                d,
                                text,
                                &lines,
                                enc,
                                &group.uris,
                                &group.lines,
                                &analysis,
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            if version.is_some()
                && let Some(loose) = analysis.diags.get("")
            {
                list.extend(loose.iter().map(|d| {
                    features::diagnostic(d, text, &lines, enc, &group.uris, &group.lines, &analysis)
                }));
            }
            // An open document always hears (an empty list clears it).
            if list.is_empty() && version.is_none() && !group.published.contains_key(uri) {
                continue;
            }
            // Written at once (a JSON tree of thousands of diagnostics
            // weighs far more than its text), and not sent again to a file
            // whose diagnostics and version did not change.
            let list = Json::Array(list).to_string();
            let seen = (hash_of(&list), *version);
            if group.published.get(uri) == Some(&seen) {
                now.insert(uri.clone(), seen);
                continue;
            }
            now.insert(uri.clone(), seen);
            publish.push(diagnostics_message(uri, *version, &list));
        }
        for old in group.published.keys().filter(|u| !now.contains_key(*u)) {
            publish.push(diagnostics_message(old, None, "[]"));
        }
        group.published = now;
        if analysis.unparsed.is_empty() {
            group.parsed = Some(analysis.clone());
        }
        group.analysis = Some(analysis);
        group.examples = None;
        group.dirty = false;
        for body in publish {
            let _ = write!(self.out, "Content-Length: {}\r\n\r\n{body}", body.len());
            let _ = self.out.flush();
        }
    }

    /// Each file of a group lowered: a file whose text is unchanged is
    /// taken from the group's last analysis, one edited inside a clause is
    /// that analysis's AST with the clause lowered again
    /// ([`crate::rules::reparse`]), any other parsed and lowered whole. A
    /// file that did not parse is planned against the text that last did
    /// (its AST is in the last analysis that parsed), so typing a clause
    /// through a state that does not parse parses that clause only, its
    /// syntax error included. The last analysis is taken apart, not
    /// copied, unless it is the last that parsed and a file no longer
    /// parses: then it stays, for completion's names and the next edit,
    /// and what the new analysis needs of it is copied.
    fn lower(
        &mut self,
        key: &str,
        files: &[(String, String, Arc<str>, Option<i32>)],
    ) -> (Vec<Arc<SourceFile>>, Vec<crate::rules::Lowered>) {
        #[expect(
            clippy::large_enum_variant,
            reason = "one per file of the rule set, for one check"
        )]
        enum Step {
            Keep,
            /// From the current analysis, or (`true`) the last that parsed.
            Patch(crate::rules::reparse::Patch, bool),
            Whole(crate::rules::Lowered),
        }
        let group = self.groups.entry(key.to_string()).or_default();
        let old = group.analysis.clone();
        // The last analysis that parsed, when it is not the current one.
        let parsed = group
            .parsed
            .clone()
            .filter(|p| !old.as_ref().is_some_and(|o| Arc::ptr_eq(o, p)));
        let has = |a: &Analysis, name: &str, text: &Arc<str>| {
            a.file(name).is_some_and(|f| Arc::ptr_eq(&f.text, text))
                && !a.unparsed.iter().any(|n| n == name)
        };
        let mut steps = Vec::with_capacity(files.len());
        let mut sources = Vec::with_capacity(files.len());
        for (name, _, text, _) in files {
            let Some(cached) = self.lowered.get(name) else {
                let new = SourceFile::new(name.clone(), text.clone());
                steps.push(Step::Whole(lower_whole(&new)));
                sources.push(new);
                continue;
            };
            let same = Arc::ptr_eq(&cached.file.text, text) || *cached.file.text == **text;
            let in_old = old.as_deref().filter(|a| has(a, name, &cached.file.text));
            if same && (cached.result.is_err() || in_old.is_some()) {
                // Unchanged: its AST, or its error.
                sources.push(cached.file.clone());
                steps.push(match &cached.result {
                    Ok(_) => Step::Keep,
                    Err(d) => Step::Whole(Err(d.clone())),
                });
                continue;
            }
            // What to plan the edit against: the file as it last lowered
            // in the current analysis, or as it last parsed.
            let base = match (&cached.result, in_old, &cached.good) {
                (Ok((_, diags)), Some(a), _) => Some((a, &cached.file, diags, false)),
                (Err(_), _, Some((file, (_, diags)))) => parsed
                    .as_deref()
                    .filter(|p| has(p, name, &file.text))
                    .map(|p| (p, file, diags, true)),
                _ => None,
            };
            let new = SourceFile::new(name.clone(), text.clone());
            let step = match base {
                Some((a, file, diags, from_parsed)) => {
                    let terms = a.rules.terms.iter().filter(|t| t.file.name == *name);
                    match crate::rules::reparse::plan(terms, diags, &file.text, &new) {
                        Ok(p) => Step::Patch(p, from_parsed),
                        Err(Some(syntax)) => Step::Whole(Err(syntax)),
                        Err(None) => Step::Whole(lower_whole(&new)),
                    }
                }
                None => Step::Whole(lower_whole(&new)),
            };
            sources.push(new);
            steps.push(step);
        }
        let parses = !steps.iter().any(|s| matches!(s, Step::Whole(Err(_))));
        let names = |from_parsed: bool| -> std::collections::HashSet<String> {
            files
                .iter()
                .zip(&steps)
                .filter(|(_, s)| match s {
                    Step::Keep => !from_parsed,
                    Step::Patch(_, p) => *p == from_parsed,
                    Step::Whole(_) => false,
                })
                .map(|((n, ..), _)| n.clone())
                .collect()
        };
        // The ASTs the new analysis takes over, unchecked again: taken
        // apart when their analysis is not kept, else copied.
        let old_is_parsed = match (&old, &group.parsed) {
            (Some(o), Some(p)) => Arc::ptr_eq(o, p),
            _ => false,
        };
        let mut pieces = match old {
            Some(a) if parses || !old_is_parsed => {
                if old_is_parsed {
                    group.parsed = None;
                }
                group.analysis = None;
                take_apart(a)
            }
            Some(a) => crate::rules::unbuild(a.rules.subset(&names(false))),
            None => HashMap::new(),
        };
        let wanted = names(true);
        let mut from_parsed = match parsed {
            Some(p) if !wanted.is_empty() => {
                if parses {
                    // The new analysis parses: it becomes the last that did.
                    group.parsed = None;
                    take_apart(p)
                } else {
                    crate::rules::unbuild(p.rules.subset(&wanted))
                }
            }
            _ => HashMap::new(),
        };
        let mut lowered = Vec::with_capacity(files.len());
        for (((name, ..), step), file) in files.iter().zip(steps).zip(&sources) {
            let cached = self.lowered.get(name);
            let last_ok = cached.and_then(|c| c.result.as_ref().ok());
            let last_good = cached.and_then(|c| c.good.as_ref().map(|(_, g)| g));
            let (piece, last, patch) = match step {
                Step::Whole(l) => (None, None, Err(l)),
                Step::Keep => (pieces.remove(name), last_ok, Ok(None)),
                Step::Patch(p, false) => (pieces.remove(name), last_ok, Ok(Some(p))),
                Step::Patch(p, true) => (from_parsed.remove(name), last_good, Ok(Some(p))),
            };
            let l = match (patch, piece, last) {
                (Err(l), ..) => l,
                (Ok(patch), Some(mut rf), Some((agreement, diags))) => {
                    let mut diags = diags.clone();
                    if let Some(p) = patch {
                        crate::rules::reparse::apply(p, &mut rf, &mut diags, file);
                    }
                    rf.agreement = agreement.clone();
                    Ok((rf, diags))
                }
                // (Not reached: a kept or patched file's AST was found.)
                _ => lower_whole(file),
            };
            // Kept of a file that does not parse: the file as it last did.
            let good = match (&l, cached) {
                (Err(_), Some(c)) => match &c.result {
                    Ok(r) => Some((c.file.clone(), r.clone())),
                    Err(_) => c.good.clone(),
                },
                _ => None,
            };
            self.lowered.insert(
                name.clone(),
                Lowering {
                    file: file.clone(),
                    result: match &l {
                        Ok((rf, diags)) => Ok((rf.agreement.clone(), diags.clone())),
                        Err(d) => Err(d.clone()),
                    },
                    good,
                },
            );
            lowered.push(l);
        }
        (sources, lowered)
    }

    /// The group of a document, checked if it has edits.
    fn group_of(&mut self, uri: &str) -> Option<&mut Group> {
        let key = self.group_key(uri);
        let needs = self
            .groups
            .get(&key)
            .is_none_or(|g| g.dirty || g.analysis.is_none());
        if needs {
            if !self.docs.contains_key(uri) && uri_to_path(uri).is_none() {
                return None;
            }
            self.analyze(&key);
        }
        self.groups.get_mut(&key)
    }

    fn context(&mut self, uri: &str) -> Result<features::Ctx, (i32, String)> {
        let enc = self.enc;
        let open_text = self.docs.get(uri).map(|d| d.text.clone());
        let path = uri_to_path(uri);
        let Some(group) = self.group_of(uri) else {
            return Err(invalid_params(format!(
                "`{uri}` is not an open document or a file"
            )));
        };
        let Some(analysis) = group.analysis.clone() else {
            return Err(invalid_params(format!("`{uri}` has no rule set")));
        };
        let name = group
            .uris
            .iter()
            .find(|(_, u)| u.as_str() == uri)
            .map(|(n, _)| n.clone());
        let Some(name) = name else {
            return Err(invalid_params(format!(
                "`{uri}` is not a `.proviso` rule file"
            )));
        };
        let text = open_text
            .or_else(|| analysis.file(&name).map(|f| f.text.clone()))
            .unwrap_or_else(|| Arc::from(""));
        let lines = group
            .lines
            .get(&name)
            .cloned()
            .unwrap_or_else(|| Arc::new(LineIndex::new(&text)));
        let names = group.parsed.clone().unwrap_or_else(|| analysis.clone());
        Ok(features::Ctx {
            names,
            uri: uri.to_string(),
            name,
            text,
            lines,
            enc,
            analysis,
            uris: group.uris.clone(),
            all_lines: group.lines.clone(),
            dir: path.and_then(|p| p.parent().map(Path::to_path_buf)),
        })
    }

    fn with_document(&mut self, params: Json, f: fn(&features::Ctx, &Json) -> Handled) -> Handled {
        let uri = params
            .pointer("/textDocument/uri")
            .and_then(Json::as_str)
            .ok_or_else(|| invalid_params("no textDocument.uri"))?
            .to_string();
        let ctx = self.context(&uri)?;
        f(&ctx, &params)
    }

    fn with_position(
        &mut self,
        params: Json,
        f: fn(&features::Ctx, usize, &Json) -> Handled,
    ) -> Handled {
        let p: lsp_types::TextDocumentPositionParams =
            serde_json::from_value(params.clone()).map_err(invalid_params)?;
        let ctx = self.context(p.text_document.uri.as_str())?;
        let offset = ctx.lines.offset(&ctx.text, p.position, ctx.enc);
        f(&ctx, offset, &params)
    }

    fn code_lens(&mut self, params: Json) -> Handled {
        let uri = params
            .pointer("/textDocument/uri")
            .and_then(Json::as_str)
            .ok_or_else(|| invalid_params("no textDocument.uri"))?
            .to_string();
        let ctx = self.context(&uri)?;
        let examples = match self.group_of(&uri) {
            Some(g) => match &g.examples {
                Some(e) => Some(e.clone()),
                None if ctx.analysis.errors == 0 => {
                    let e = Arc::new(crate::rules::examples::run(&ctx.analysis.rules));
                    g.examples = Some(e.clone());
                    Some(e)
                }
                None => None,
            },
            None => None,
        };
        features::code_lens(&ctx, examples.as_ref().map(|e| e.as_slice()))
    }
}

/// Clauses per piece when a large file is lowered in pieces.
const PIECE: usize = 256 << 10;

/// A file parsed and lowered whole: a large one in pieces of
/// [`PIECE`] bytes of clauses ([`crate::rules::reparse::lower_in_pieces`]),
/// so that pest's token queue for a 3 MB file (90 MB) is never held at once.
fn lower_whole(file: &Arc<SourceFile>) -> crate::rules::Lowered {
    if file.text.len() > 2 * PIECE
        && let Some(l) = crate::rules::reparse::lower_in_pieces(file, PIECE)
    {
        return Ok(l);
    }
    crate::rules::lower_file(file)
}

fn hash_of(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// A `textDocument/publishDiagnostics` notification, its diagnostics
/// already JSON.
fn diagnostics_message(uri: &str, version: Option<i32>, list: &str) -> String {
    let uri = Json::String(uri.to_string());
    let version = version
        .map(|v| format!(",\"version\":{v}"))
        .unwrap_or_default();
    format!(
        "{{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/publishDiagnostics\",\"params\":{{\"uri\":{uri}{version},\"diagnostics\":{list}}}}}"
    )
}

/// The path of a `file:` URI (percent-decoded).
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // `file:///x` has an empty authority; `file://host/x` is not local.
    let path = if rest.starts_with('/') {
        rest
    } else {
        rest.strip_prefix("localhost")?
    };
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let Some(hex) = path.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(PathBuf::from(String::from_utf8(out).ok()?))
}

/// The `file:` URI of a path, percent-encoding what RFC 3986 reserves.
pub fn path_to_uri(path: &Path) -> String {
    let mut out = String::from("file://");
    for b in path.display().to_string().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
