//! `proviso lsp` spoken to as an editor does: the built binary, JSON-RPC
//! with `Content-Length` framing over its standard input and output. Every
//! wait has a timeout, so a server that hangs fails the test instead of
//! hanging CI.
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failure is a failed test, and JSON indexing gives Null, not a panic"
)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);
const BUNDLED: &str = include_str!("../rules/microsoft-openai.proviso");
/// The bundled file's `example` blocks, a code lens each. `proviso test
/// rules` reports 68 examples: it counts each group an example judges, and
/// one example judges two (its lens says so).
const EXAMPLES_WITH_LENS: usize = 67;
/// The examples of oct_2025's `stateless_on_azure`, the bundled file's first clause.
const STATELESS_ON_AZURE_EXAMPLES: usize = 15;

struct Lsp {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications received while waiting for something else.
    pending: Vec<Value>,
}

fn read_frame(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; len?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Lsp {
    fn start() -> Lsp {
        Lsp::start_with(json!({}))
    }

    /// Spawns the server and initializes it with these client capabilities.
    fn start_with(capabilities: Value) -> Lsp {
        let mut lsp = Lsp::spawn();
        let r = lsp.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": capabilities}),
        );
        assert!(r.get("result").is_some(), "initialize failed: {r}");
        lsp.notify("initialized", json!({}));
        lsp
    }

    fn spawn() -> Lsp {
        let mut child = Command::new(env!("CARGO_BIN_EXE_proviso"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn proviso lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(v) = read_frame(&mut r) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Lsp {
            child,
            stdin,
            rx,
            next_id: 1,
            pending: Vec::new(),
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        self.raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn recv(&mut self) -> Value {
        match self.rx.recv_timeout(TIMEOUT) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => {
                panic!("proviso lsp did not answer within {TIMEOUT:?}")
            }
            Err(RecvTimeoutError::Disconnected) => panic!("proviso lsp closed its output"),
        }
    }

    /// The next message that is a response (to a request or an error with a null id).
    fn response(&mut self) -> Value {
        loop {
            let v = self.recv();
            if v.get("method").is_some() {
                self.pending.push(v);
            } else {
                return v;
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let r = self.response();
        assert_eq!(r["id"], json!(id), "response to another request: {r}");
        r
    }

    fn result(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params);
        assert!(r.get("error").is_none(), "{method} failed: {r}");
        r["result"].clone()
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(i) = self.pending.iter().position(|n| {
                n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri
            }) {
                let n = self.pending.remove(i);
                return n["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
            assert!(Instant::now() < deadline, "no diagnostics for {uri}");
            let v = self.recv();
            self.pending.push(v);
        }
    }

    fn open(&mut self, uri: &str, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "proviso", "version": 1, "text": text}}),
        );
        self.diagnostics(uri)
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
        self.diagnostics(uri)
    }

    fn at(&mut self, method: &str, uri: &str, line: u32, character: u32) -> Value {
        self.result(
            method,
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
        )
    }

    /// Shuts down and exits; the exit code.
    fn finish(mut self) -> Option<i32> {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r["result"], Value::Null);
        self.notify("exit", Value::Null);
        wait(&mut self.child)
    }
}

fn wait(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("proviso lsp did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Drop for Lsp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A directory holding these rule files.
fn dir_with(files: &[(&str, &str)]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = files
        .iter()
        .map(|(name, text)| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).expect("write");
            p
        })
        .collect();
    (dir, paths)
}

fn range(l1: u32, c1: u32, l2: u32, c2: u32) -> Value {
    json!({"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}})
}

/// The 0-based line and UTF-16 column (the default position encoding) where
/// the `n`th (from 0) occurrence of `needle` starts in `text`. Tests find
/// their positions this way so that they survive edits of the rule file.
fn nth(text: &str, needle: &str, n: usize) -> (u32, u32) {
    let (at, _) = text
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("occurrence {n} of `{needle}` is not in the text"));
    let before = text.get(..at).unwrap_or_default();
    let line = before.matches('\n').count();
    let col = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .encode_utf16()
        .count();
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

/// Where the first occurrence of `needle` starts in `text`.
fn find(text: &str, needle: &str) -> (u32, u32) {
    nth(text, needle, 0)
}

/// A server with the bundled rule file open (clean), in a directory of
/// its own; the directory, the file's URI and the server.
fn bundled_open() -> (tempfile::TempDir, String, Lsp) {
    let (d, paths) = dir_with(&[("contract.proviso", BUNDLED)]);
    let u = uri(&paths[0]);
    let mut lsp = Lsp::start();
    assert_eq!(lsp.open(&u, BUNDLED), Vec::<Value>::new());
    (d, u, lsp)
}

fn hover_text(v: &Value) -> String {
    v["contents"]["value"].as_str().unwrap_or("").to_string()
}

#[test]
fn the_bundled_rule_file_is_clean_and_explained_on_hover() {
    let (_d, u, mut lsp) = bundled_open();

    // A define: its English and where it is used.
    let (openai, _) = find(BUNDLED, "define openai ");
    let h = lsp.at("textDocument/hover", &u, openai, 8);
    assert_eq!(
        hover_text(&h),
        format!(
            "**define `openai`**\n\nThe `model-vendor` tag is \"openai\".\n\n`explain` calls it \"tagged as serving OpenAI models\".\n\nUsed by define `stateless_api`, define `stateful_runtime`.\n\nDeclared in contract.proviso:{}.",
            openai + 1
        )
    );
    assert_eq!(h["range"], range(openai, 7, openai, 13));

    // A clause: its sentence, citation, terms and dates, examples.
    let (clause, _) = find(BUNDLED, "clause stateless_on_azure ");
    let h = hover_text(&lsp.at("textDocument/hover", &u, clause, 10));
    assert_eq!(
        h,
        format!(
            "**clause `stateless_on_azure`** — Stateless OpenAI APIs are served only from Azure\n\n\
         From 28 October 2025 until 27 April 2026, every stateless OpenAI API whose serving cloud is known must be served from Azure, unless it is a stateful runtime or training compute.\n\n\
         **Cites**\n- \"Azure remains the exclusive cloud provider for stateless OpenAI APIs\" — Joint statement of Microsoft and OpenAI, 2026-02-27\n\n\
         **Terms** `oct_2025` (Definitive agreement of October 2025, reaffirmed 2026-02-27): from 28 October 2025 until 27 April 2026.\n\n\
         Severity error; {STATELESS_ON_AZURE_EXAMPLES} examples."
        )
    );

    // A field: what it is and which inputs fill it.
    let (line, col) = find(BUNDLED, "require cloud == \"azure\"");
    let h = hover_text(&lsp.at("textDocument/hover", &u, line, col + 9));
    assert_eq!(
        h,
        "**field `cloud`**\n\nWhat it is: azure / aws / gcp / oracle.\n\nFilled by Terraform (every resource, data source and module) and every log format (alb, cloudfront, nginx, azure-frontdoor, aws-apigateway, azure-appgateway, JSON lines, CSV, Parquet)."
    );
    let (line, col) = find(BUNDLED, "tags[\"model-vendor\"] == \"openai\"");
    assert_eq!(line, openai);
    let h = hover_text(&lsp.at("textDocument/hover", &u, line, col + 4));
    assert!(
        h.starts_with("**field `tags[\"model-vendor\"]`**\n\nTerraform tags and labels"),
        "{h}"
    );
    assert!(h.ends_with("Filled by Terraform: AWS and Azure `tags`, Google `labels`, AWS provider `default_tags`; log records have no tags."), "{h}");
    // A declared field (a ledger's column).
    let (line, _) = find(BUNDLED, "field amount_usd ");
    let h = hover_text(&lsp.at("textDocument/hover", &u, line, 8));
    assert_eq!(
        h,
        format!(
            "**field `amount_usd`**\n\nA revenue-ledger booking's amount in US dollars, two decimal places. It is an exact decimal.\n\nDeclared with `field` in contract.proviso:{}: read from JSON-lines, CSV and Parquet exports and ledgers that carry it; Terraform does not have it.",
            line + 1
        )
    );

    // A date: the terms in force on it.
    let (line, col) = find(BUNDLED, "2025-10-28 until 2026-04-27\n{");
    let h = lsp.at("textDocument/hover", &u, line, col + 2);
    assert_eq!(
        hover_text(&h),
        "**28 October 2025** (2025-10-28)\n\nIn force on that day:\n\
         - terms `oct_2025` (Definitive agreement of October 2025, reaffirmed 2026-02-27): 7 clauses in force, from 28 October 2025 until 27 April 2026\n\
         - terms `standing` (Federal data residency): 2 clauses in force, from 28 October 2025\n\
         - terms `advisory` (Advisory traffic conventions): 1 clause in force, from 28 October 2025"
    );
    assert_eq!(h["range"], range(line, col, line, col + 10));

    // A parameter, at its declaration and where a clause reads it.
    let expected = "**param `revenue_share_cap`**: money\n\nThe total cap on the revenue share paid to Microsoft under the restructured terms (confidential).\n\nNo `proviso.yaml` above this file sets it: supply it with `--param revenue_share_cap=…`; unsupplied, it is unknown and clauses that read it are unresolved.\n\nUsed by clause `revenue_share_20_percent` of terms `apr_2026`, clause `revenue_share_20_percent` of terms `apr_2027`.";
    let (param, _) = find(BUNDLED, "param revenue_share_cap ");
    assert_eq!(
        hover_text(&lsp.at("textDocument/hover", &u, param, 8)),
        expected
    );
    let (line, col) = find(BUNDLED, "cumulative_paid >= revenue_share_cap");
    assert_eq!(
        hover_text(&lsp.at("textDocument/hover", &u, line, col + 23)),
        expected
    );

    // Nothing to say on a keyword.
    assert_eq!(lsp.at("textDocument/hover", &u, clause, 3), Value::Null);
    assert_eq!(lsp.finish(), Some(0));
}

#[test]
fn a_parameter_set_in_proviso_yaml_says_so_on_hover() {
    let (d, paths) = dir_with(&[("contract.proviso", BUNDLED)]);
    std::fs::write(
        d.path().join("proviso.yaml"),
        "params:\n  revenue_share_cap: \"1250000.00\"\n",
    )
    .expect("write");
    let u = uri(&paths[0]);
    let mut lsp = Lsp::start();
    lsp.open(&u, BUNDLED);
    let (param, _) = find(BUNDLED, "param revenue_share_cap ");
    let h = hover_text(&lsp.at("textDocument/hover", &u, param, 8));
    let yaml = d.path().join("proviso.yaml");
    assert!(
        h.contains(&format!(
            "`{}` sets it to `1250000.00` (`--param` overrides).",
            yaml.display()
        )),
        "{h}"
    );
}

#[test]
fn definition_references_and_rename_follow_the_names() {
    let (_d, paths) = dir_with(&[("contract.proviso", BUNDLED)]);
    let u = uri(&paths[0]);
    let mut lsp = Lsp::start();
    lsp.open(&u, BUNDLED);
    // `except stateful_runtime_elsewhere` → the exception of the same terms
    // (oct_2025's, the first; the draft apr_2027 declares its own).
    let (line, col) = find(BUNDLED, "except stateful_runtime_elsewhere\n");
    let (decl, _) = find(BUNDLED, "exception stateful_runtime_elsewhere ");
    let (oct_2025, _) = find(BUNDLED, "\nterms oct_2025 ");
    let (next_terms, _) = nth(BUNDLED, "\nterms ", 1);
    assert!(oct_2025 < decl && decl < next_terms, "not in oct_2025");
    let def = lsp.at("textDocument/definition", &u, line, col + 8);
    assert_eq!(def, json!([{"uri": u, "range": range(decl, 12, decl, 38)}]));
    // `cite feb_statement` → its source.
    let (line, col) = find(BUNDLED, "cite feb_statement ");
    let (source, _) = find(BUNDLED, "source feb_statement ");
    let def = lsp.at("textDocument/definition", &u, line, col + 6);
    assert_eq!(
        def,
        json!([{"uri": u, "range": range(source, 7, source, 20)}])
    );
    // The define `openai`: its declaration and both uses.
    let (openai, _) = find(BUNDLED, "define openai ");
    let (use1, col1) = nth(BUNDLED, "(openai and", 0);
    let (use2, col2) = nth(BUNDLED, "(openai and", 1);
    let refs = lsp.result(
        "textDocument/references",
        json!({"textDocument": {"uri": u}, "position": {"line": use1, "character": col1 + 2}, "context": {"includeDeclaration": true}}),
    );
    let occurrences = [
        range(openai, 7, openai, 13),
        range(use1, col1 + 1, use1, col1 + 7),
        range(use2, col2 + 1, use2, col2 + 7),
    ];
    assert_eq!(
        refs,
        json!(
            occurrences
                .iter()
                .map(|r| json!({"uri": u, "range": r}))
                .collect::<Vec<_>>()
        )
    );
    let refs = lsp.result(
        "textDocument/references",
        json!({"textDocument": {"uri": u}, "position": {"line": openai, "character": 8}, "context": {"includeDeclaration": false}}),
    );
    assert_eq!(refs.as_array().map(Vec::len), Some(2));
    // Rename changes every occurrence, and only those.
    let edit = lsp.result(
        "textDocument/rename",
        json!({"textDocument": {"uri": u}, "position": {"line": openai, "character": 8}, "newName": "openai_vendor"}),
    );
    let edits = edit["changes"][&u].as_array().cloned().unwrap_or_default();
    assert_eq!(
        edits,
        occurrences
            .iter()
            .map(|r| json!({"range": r, "newText": "openai_vendor"}))
            .collect::<Vec<_>>()
    );
    let (param, _) = find(BUNDLED, "param revenue_share_cap ");
    let prep = lsp.at("textDocument/prepareRename", &u, param, 8);
    assert_eq!(
        prep,
        json!({"range": range(param, 6, param, 23), "placeholder": "revenue_share_cap"})
    );
    // Not a name, a keyword, a clause: refused with a reason.
    let (clause, _) = find(BUNDLED, "clause stateless_on_azure ");
    for (name, line, ch, code) in [
        ("has space", openai, 8, -32602),
        ("terms", openai, 8, -32602),
        ("x", clause, 10, -32803),
    ] {
        let r = lsp.request(
            "textDocument/rename",
            json!({"textDocument": {"uri": u}, "position": {"line": line, "character": ch}, "newName": name}),
        );
        assert_eq!(r["error"]["code"], json!(code), "{name}: {r}");
    }
}

#[test]
fn a_define_from_another_file_resolves_and_its_removal_is_reported_where_it_is_used() {
    let vocab = "define training = tags.workload == \"training\"\n";
    let terms = "source s \"S\" dated 2025-01-01\n\nterms t \"T\" effective 2025-01-01 {\n  clause c \"C\" {\n    cite s \"x\"\n    severity error\n    applies to training\n    require cloud == \"azure\"\n    message \"{address} on {cloud}\"\n  }\n}\n";
    let (_d, paths) = dir_with(&[("a_vocab.proviso", vocab), ("b_terms.proviso", terms)]);
    let (ua, ub) = (uri(&paths[0]), uri(&paths[1]));
    let mut lsp = Lsp::start();
    // Lint (not errors) on the clause: no examples.
    let diags = lsp.open(&ub, terms);
    let codes: Vec<&str> = diags.iter().filter_map(|d| d["code"].as_str()).collect();
    assert!(
        !codes.is_empty() && codes.iter().all(|c| c.starts_with("proviso::lint::")),
        "{diags:?}"
    );
    // Go to the define in the other file.
    let def = lsp.at("textDocument/definition", &ub, 6, 16);
    assert_eq!(def, json!([{"uri": ua, "range": range(0, 7, 0, 15)}]));
    // Editing the other (open) file breaks the clause here.
    lsp.open(&ua, vocab);
    // (Opening it checked the set again; nothing changed here, so nothing
    // is sent for this file: its diagnostics stand.)
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": ua, "version": 2}, "contentChanges": [{"text": "define trainin = tags.workload == \"training\"\n"}]}),
    );
    let diags: Vec<Value> = lsp
        .diagnostics(&ub)
        .into_iter()
        .filter(|d| d["severity"] == 1)
        .collect();
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "proviso::check::unknown_reference");
    assert_eq!(diags[0]["severity"], 1);
    assert_eq!(diags[0]["range"], range(6, 15, 6, 23));
    assert_eq!(
        diags[0]["message"],
        "no field or define named `training` (not declared)\nhelp: did you mean the define `trainin`?"
    );
}

#[test]
fn a_second_span_in_another_file_is_related_information() {
    let a = "define d = cloud == \"aws\"\n";
    let b = "define d = cloud == \"gcp\"\n";
    let (_d, paths) = dir_with(&[("a.proviso", a), ("b.proviso", b)]);
    let (ua, ub) = (uri(&paths[0]), uri(&paths[1]));
    let mut lsp = Lsp::start();
    let diags = lsp.open(&ub, b);
    let dup: Vec<&Value> = diags
        .iter()
        .filter(|d| d["code"] == "proviso::check::duplicate_name")
        .collect();
    assert_eq!(dup.len(), 1, "{diags:?}");
    assert_eq!(dup[0]["range"], range(0, 7, 0, 8));
    assert_eq!(
        dup[0]["relatedInformation"],
        json!([{
            "location": {"uri": ua, "range": range(0, 7, 0, 8)},
            "message": "part of `proviso::check::duplicate_name` above: first declared here: here, in another file"
        }])
    );
}

#[test]
fn an_exception_of_other_terms_points_at_where_it_is_declared() {
    let text = "terms a \"A\" effective 2025-01-01 until 2026-01-01 {\n  exception x \"X\" { when cloud == \"aws\" }\n  clause c \"C\" { manual }\n}\n\nterms b \"B\" effective 2026-01-01 {\n  clause c \"C\" {\n    require cloud == \"azure\"\n    except x\n  }\n}\n";
    let (_d, paths) = dir_with(&[("t.proviso", text)]);
    let u = uri(&paths[0]);
    let mut lsp = Lsp::start();
    let diags = lsp.open(&u, text);
    let d: Vec<&Value> = diags
        .iter()
        .filter(|d| d["code"] == "proviso::check::unknown_exception")
        .collect();
    assert_eq!(d.len(), 1, "{diags:?}");
    assert_eq!(d[0]["range"], range(8, 11, 8, 12));
    assert_eq!(
        d[0]["relatedInformation"],
        json!([{"location": {"uri": u, "range": range(1, 12, 1, 13)}, "message": "declared in terms `a`"}])
    );
}

#[test]
fn fixes_are_offered_for_single_equals_and_did_you_mean() {
    let broken = BUNDLED
        .replacen("require cloud == \"azure\"", "require cloud = \"azure\"", 1)
        .replacen(
            "applies to frontier and not third_party",
            "applies to fronteir and not third_party",
            1,
        );
    let (_d, paths) = dir_with(&[("contract.proviso", &broken)]);
    let u = uri(&paths[0]);
    let mut lsp = Lsp::start();
    let diags = lsp.open(&u, &broken);
    let codes: Vec<&str> = diags.iter().filter_map(|d| d["code"].as_str()).collect();
    // Both are reported at once: `=` is read as `==` to go on checking.
    assert_eq!(
        codes,
        vec![
            "proviso::parse::single_equals",
            "proviso::check::unknown_reference"
        ]
    );
    let (line, col) = find(&broken, "require cloud = \"azure\"");
    let eq = col + 14;
    assert_eq!(diags[0]["range"], range(line, eq, line, eq + 1));
    let actions = lsp.result(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": u}, "range": range(line, 0, line, 30), "context": {"diagnostics": []}}),
    );
    assert_eq!(actions.as_array().map(Vec::len), Some(1));
    assert_eq!(actions[0]["title"], "Write `==` to compare");
    assert_eq!(
        actions[0]["edit"]["changes"][&u],
        json!([{"range": range(line, eq, line, eq + 1), "newText": "=="}])
    );
    // Once it parses, the misspelt define is the error, with its fix.
    let fixed = broken.replacen("require cloud = \"azure\"", "require cloud == \"azure\"", 1);
    let diags = lsp.change(&u, 2, &fixed);
    let (misspelt, col) = find(&fixed, "applies to fronteir");
    let codes: Vec<&str> = diags.iter().filter_map(|d| d["code"].as_str()).collect();
    assert_eq!(codes, vec!["proviso::check::unknown_reference"]);
    let actions = lsp.result(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": u}, "range": diags[0]["range"], "context": {"diagnostics": []}}),
    );
    assert_eq!(actions.as_array().map(Vec::len), Some(1));
    assert_eq!(actions[0]["title"], "Change `fronteir` to `frontier`");
    assert_eq!(
        actions[0]["edit"]["changes"][&u],
        json!([{"range": range(misspelt, col + 11, misspelt, col + 19), "newText": "frontier"}])
    );
}

#[test]
fn code_lenses_say_which_examples_pass() {
    let (_d, paths) = dir_with(&[("contract.proviso", BUNDLED)]);
    let u = uri(&paths[0]);
    let mut lsp = Lsp::start();
    lsp.open(&u, BUNDLED);
    let lenses = lsp.result("textDocument/codeLens", json!({"textDocument": {"uri": u}}));
    let titles: Vec<&str> = lenses
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l["command"]["title"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(titles.len(), EXAMPLES_WITH_LENS);
    assert!(titles.iter().all(|t| t.starts_with('✓')), "{titles:?}");
    let grouped: Vec<&&str> = titles.iter().filter(|t| t.contains("groups")).collect();
    assert_eq!(grouped, [&"✓ example passes (2 groups)"]);
    assert_eq!(titles[0], "✓ example passes: violation");
    let (line, col) = find(BUNDLED, "example \"an AWS-hosted completions service\"");
    assert_eq!(lenses[0]["range"], range(line, col, line, col));
    // An expectation changed: that example fails, the others still pass.
    let broken = BUNDLED.replacen("      expect violation\n", "      expect no violation\n", 1);
    lsp.change(&u, 2, &broken);
    let lenses = lsp.result("textDocument/codeLens", json!({"textDocument": {"uri": u}}));
    assert_eq!(
        lenses[0]["command"]["title"],
        "✗ example fails: expects no violation, got violation"
    );
    assert_eq!(
        lenses[1]["command"]["title"],
        "✓ example passes: not in force"
    );
}

#[test]
fn completion_offers_what_fits_where_the_cursor_is() {
    let (_d, paths) = dir_with(&[("contract.proviso", BUNDLED)]);
    let u = uri(&paths[0]);
    let mut lsp = Lsp::start();
    lsp.open(&u, BUNDLED);
    let labels = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i["label"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    // After `cite `: the sources.
    let text = BUNDLED.replacen(
        "    cite feb_statement \"Azure remains",
        "    cite \n    cite feb_statement \"Azure remains",
        1,
    );
    lsp.change(&u, 2, &text);
    let (cite, _) = find(&text, "    cite \n");
    assert_eq!(
        labels(&lsp.at("textDocument/completion", &u, cite, 9)),
        [
            "oct_agreement",
            "feb_statement",
            "aws_announcement",
            "apr_restructuring",
            "federal_policy",
            "multicloud_analysis",
            "draft_2027"
        ]
    );
    // At the start of a clause statement: the clause keywords.
    let got = labels(&lsp.at("textDocument/completion", &u, cite, 4));
    assert_eq!(
        got,
        [
            "cite",
            "severity",
            "applies to",
            "require",
            "forbid",
            "except",
            "unless",
            "message",
            "example",
            "manual",
            "effective",
            "until",
            "per",
            "over",
            "let"
        ]
    );
    // After `except `: the exceptions of these terms.
    let text = BUNDLED.replacen(
        "    except stateful_runtime_elsewhere\n",
        "    except \n",
        1,
    );
    lsp.change(&u, 3, &text);
    let (except, _) = find(&text, "    except \n");
    let got = labels(&lsp.at("textDocument/completion", &u, except, 11));
    assert_eq!(
        got,
        ["stateful_runtime_elsewhere", "training_compute_elsewhere"]
    );
    // Tag keys inside `tags["…`: the fixtures' and the rule set's.
    let text = BUNDLED.replacen(
        "define training         \"training compute\" = tags.workload == \"training\"",
        "define training         \"training compute\" = tags[\"",
        1,
    );
    lsp.change(&u, 4, &text);
    let (line, col) = find(&text, "tags[\"\n");
    let got = labels(&lsp.at("textDocument/completion", &u, line, col + 6));
    for key in [
        "model-vendor",
        "api-mode",
        "segment",
        "data-class",
        "site",
        "workload",
        "channel",
    ] {
        assert!(got.iter().any(|k| k == key), "{key} missing from {got:?}");
    }
    // In a condition: defines and fields, and the operators.
    let (line, col) = find(&text, "require cloud == \"azure\"");
    let got = labels(&lsp.at("textDocument/completion", &u, line, col + 11));
    for w in [
        "and",
        "stateless_api",
        "us_regions",
        "cloud",
        "region",
        "amount_usd",
    ] {
        assert!(got.iter().any(|k| k == w), "{w} missing from {got:?}");
    }
    // At the top level: the top-level keywords only.
    let (blank, _) = find(&text, "\n\nsource oct_agreement ");
    let got = labels(&lsp.at("textDocument/completion", &u, blank + 1, 0));
    assert_eq!(
        got,
        ["agreement", "source", "define", "field", "param", "terms"]
    );
}

#[test]
fn formatting_is_proviso_fmt_and_symbols_are_terms_clauses_examples() {
    let messy = BUNDLED.replacen(
        "define openai           \"tagged as serving OpenAI models\" = tags",
        "define   openai \"tagged as serving OpenAI models\" = tags",
        1,
    );
    assert_ne!(messy, BUNDLED);
    let (_d, paths) = dir_with(&[("contract.proviso", &messy)]);
    let u = uri(&paths[0]);
    let mut lsp = Lsp::start();
    lsp.open(&u, &messy);
    let opts = json!({"tabSize": 2, "insertSpaces": true});
    let edits = lsp.result(
        "textDocument/formatting",
        json!({"textDocument": {"uri": u}, "options": opts}),
    );
    let lines = messy.lines().count() as u32;
    assert_eq!(edits.as_array().map(Vec::len), Some(1));
    assert_eq!(edits[0]["range"], range(0, 0, lines, 0));
    assert_eq!(edits[0]["newText"], BUNDLED);
    // A formatted file needs no edit; one that does not parse gets none.
    lsp.change(&u, 2, BUNDLED);
    assert_eq!(
        lsp.result(
            "textDocument/formatting",
            json!({"textDocument": {"uri": u}, "options": opts})
        ),
        json!([])
    );
    lsp.change(&u, 3, "terms {");
    assert_eq!(
        lsp.result(
            "textDocument/formatting",
            json!({"textDocument": {"uri": u}, "options": opts})
        ),
        Value::Null
    );

    lsp.change(&u, 4, BUNDLED);
    let symbols = lsp.result(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": u}}),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        &names[..3],
        ["oct_agreement", "feb_statement", "aws_announcement"]
    );
    assert_eq!(
        &names[names.len() - 3..],
        ["standing", "advisory", "apr_2027"]
    );
    let oct = symbols
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == "oct_2025"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(oct["kind"], 3);
    assert_eq!(oct["children"][0]["name"], "stateless_on_azure");
    let (clause, _) = find(BUNDLED, "clause stateless_on_azure ");
    assert_eq!(
        oct["children"][0]["selectionRange"],
        range(clause, 9, clause, 27)
    );
    assert_eq!(
        oct["children"][0]["children"].as_array().map(Vec::len),
        Some(STATELESS_ON_AZURE_EXAMPLES)
    );
    assert_eq!(
        oct["children"][0]["children"][0]["name"],
        "an AWS-hosted completions service"
    );
}

/// A non-ASCII line: the diagnostic after an em dash is at column 30 in
/// UTF-16 units and 32 in UTF-8 bytes; a position sent back converts the
/// same way.
#[test]
fn positions_are_utf16_by_default_and_utf8_when_offered() {
    let text = "define d = cloud == \"a—b\" or cloudd == \"x\"\n";
    for (caps, enc, start) in [
        (json!({}), "utf-16", 29),
        (
            json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}),
            "utf-8",
            31,
        ),
    ] {
        let (_d, paths) = dir_with(&[("d.proviso", text)]);
        let u = uri(&paths[0]);
        let mut lsp = Lsp::spawn();
        let init = lsp.request("initialize", json!({"capabilities": caps}));
        assert_eq!(init["result"]["capabilities"]["positionEncoding"], enc);
        lsp.notify("initialized", json!({}));
        let diags = lsp.open(&u, text);
        let unknown: Vec<&Value> = diags
            .iter()
            .filter(|d| d["code"] == "proviso::check::unknown_field")
            .collect();
        assert_eq!(unknown.len(), 1, "{diags:?}");
        assert_eq!(unknown[0]["range"], range(0, start, 0, start + 6), "{enc}");
        let h = lsp.at("textDocument/hover", &u, 0, start + 1);
        assert_eq!(h, Value::Null);
        let actions = lsp.result(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": u}, "range": range(0, start, 0, start), "context": {"diagnostics": []}}),
        );
        assert_eq!(
            actions[0]["edit"]["changes"][&u][0]["range"],
            range(0, start, 0, start + 6),
            "{enc}"
        );
        assert_eq!(actions[0]["edit"]["changes"][&u][0]["newText"], "cloud");
        assert_eq!(lsp.finish(), Some(0));
    }
}

#[test]
fn malformed_json_rpc_gets_protocol_errors_and_the_server_keeps_serving() {
    let mut lsp = Lsp::spawn();
    // Before initialize: ServerNotInitialized.
    let r = lsp.request("textDocument/hover", json!({}));
    assert_eq!(r["error"]["code"], -32002);
    let r = lsp.request("initialize", json!({"capabilities": {}}));
    assert!(r.get("result").is_some());
    // Not JSON: ParseError with a null id.
    lsp.raw(b"Content-Length: 8\r\n\r\n{\"jsonrp");
    let r = lsp.response();
    assert_eq!(
        (r["id"].clone(), r["error"]["code"].clone()),
        (Value::Null, json!(-32700))
    );
    // No Content-Length: ParseError, then the next frame is read.
    lsp.raw(b"Content-Type: application/json\r\n\r\n");
    let r = lsp.response();
    assert_eq!(r["error"]["code"], -32700);
    assert_eq!(
        r["error"]["message"],
        "a message without a Content-Length header"
    );
    // A header line that is not a header.
    lsp.raw(b"garbage\r\nContent-Length: 2\r\n\r\n{}");
    assert_eq!(lsp.response()["error"]["code"], -32700);
    // JSON that is not a JSON-RPC message: InvalidRequest.
    lsp.send(json!([1, 2, 3]));
    assert_eq!(lsp.response()["error"]["code"], -32600);
    lsp.send(json!({"jsonrpc": "2.0", "id": 77, "method": 5}));
    let r = lsp.response();
    assert_eq!(
        (r["id"].clone(), r["error"]["code"].clone()),
        (json!(77), json!(-32600))
    );
    // An unknown method: MethodNotFound.
    let r = lsp.request("textDocument/semanticTokens/full", json!({}));
    assert_eq!(r["error"]["code"], -32601);
    // Parameters of the wrong shape: InvalidParams.
    let r = lsp.request("textDocument/hover", json!({"textDocument": 3}));
    assert_eq!(r["error"]["code"], -32602);
    let r = lsp.request("textDocument/hover", json!({"textDocument": {"uri": "file:///nonexistent/x.txt"}, "position": {"line": 0, "character": 0}}));
    assert_eq!(r["error"]["code"], -32602);
    // A second initialize is refused; unknown notifications are ignored.
    let r = lsp.request("initialize", json!({"capabilities": {}}));
    assert_eq!(r["error"]["code"], -32600);
    lsp.notify("$/unknownNotification", json!({}));
    // Still serving.
    let (_d, paths) = dir_with(&[("contract.proviso", BUNDLED)]);
    let u = uri(&paths[0]);
    assert_eq!(lsp.open(&u, BUNDLED), Vec::<Value>::new());
    assert_eq!(lsp.finish(), Some(0));
}

#[test]
fn exit_without_shutdown_is_exit_code_1_and_requests_after_shutdown_are_refused() {
    let mut lsp = Lsp::start();
    lsp.notify("exit", Value::Null);
    assert_eq!(wait(&mut lsp.child), Some(1));

    let mut lsp = Lsp::start();
    assert_eq!(lsp.request("shutdown", Value::Null)["result"], Value::Null);
    let r = lsp.request("textDocument/hover", json!({}));
    assert_eq!(r["error"]["code"], -32600);
    lsp.notify("exit", Value::Null);
    assert_eq!(wait(&mut lsp.child), Some(0));
}

#[test]
fn the_completion_tag_keys_are_those_of_the_bundled_fixtures() {
    // Every tag key the Terraform fixtures set, from their `tags = { … }`
    // and `labels = { … }` blocks.
    let mut keys = std::collections::BTreeSet::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/terraform");
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read fixtures").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "tf") {
                let text = std::fs::read_to_string(&p).expect("read");
                let mut inside = false;
                for line in text.lines() {
                    let t = line.trim();
                    if (t.starts_with("tags")
                        || t.starts_with("labels")
                        || t.starts_with("default_tags"))
                        && t.ends_with('{')
                        && t.contains('=')
                    {
                        inside = true;
                    } else if inside && t.starts_with('}') {
                        inside = false;
                    } else if inside && let Some((k, _)) = t.split_once('=') {
                        let k = k.trim().trim_matches('"');
                        if !k.is_empty() && !k.starts_with('#') {
                            keys.insert(k.to_string());
                        }
                    }
                }
            }
        }
    }
    let mut ours: Vec<&str> = proviso::lsp::FIXTURE_TAG_KEYS.to_vec();
    ours.sort();
    let theirs: Vec<&str> = keys.iter().map(String::as_str).collect();
    assert_eq!(ours, theirs);
}

#[test]
fn hover_shows_the_authors_words_and_what_a_figure_computes() {
    let (_d, u, mut lsp) = bundled_open();

    // A define with a phrase: what `explain` calls it.
    let (line, _) = find(BUNDLED, "define stateless_paths ");
    let h = hover_text(&lsp.at("textDocument/hover", &u, line, 10));
    assert!(
        h.starts_with("**define `stateless_paths`**\n\nOne of "),
        "{h}"
    );
    assert!(
        h.contains("\n\n`explain` calls it \"a stateless API path\".\n\n"),
        "{h}"
    );

    // A clause with `phrase` and `evidence`: both, before its citations.
    let (line, _) = find(BUNDLED, "clause ip_licence_exclusive ");
    let h = hover_text(&lsp.at("textDocument/hover", &u, line, 10));
    assert!(
        h.contains("**In the author's words:** Microsoft's licence to OpenAI model IP must remain exclusive\n\n**Evidence:** the licence terms of the definitive agreement, confirmed by counsel\n\n**Cites**\n"),
        "{h}"
    );
    // One without them says neither.
    let (line, _) = find(BUNDLED, "clause stateless_on_azure ");
    let h = hover_text(&lsp.at("textDocument/hover", &u, line, 10));
    assert!(
        !h.contains("author's words") && !h.contains("**Evidence:**"),
        "{h}"
    );

    // A figure, where it is declared and where a condition reads it.
    let (line, col) = find(BUNDLED, "let due ");
    let h = hover_text(&lsp.at("textDocument/hover", &u, line, col + 5));
    assert!(
        h.starts_with("**figure `due`** of clause `revenue_share`\n\nFor each calendar month: "),
        "{h}"
    );
    assert!(h.contains("20%"), "{h}");
    assert!(
        h.ends_with("Used by clause `revenue_share` of terms `oct_2025`."),
        "{h}"
    );
    let (line, col) = find(BUNDLED, "require paid >= due");
    let used = hover_text(&lsp.at("textDocument/hover", &u, line, col + 17));
    assert_eq!(used, h);
    // A period group key, and a field of an example's records.
    let (l, c) = find(BUNDLED, "per month");
    let h = hover_text(&lsp.at("textDocument/hover", &u, l, c + 5));
    assert_eq!(
        h,
        "**group key `month`**\n\nThe records are grouped by the calendar month (UTC) of their timestamp; a group's key is written `2026-04` (`{period}` in a message)."
    );
    let (l, c) = find(BUNDLED, "        region: \"us-east-1\"");
    let h = hover_text(&lsp.at("textDocument/hover", &u, l, c + 9));
    assert!(h.starts_with("**field `region`**\n\n"), "{h}");
    // Its value is not a field.
    assert_eq!(lsp.at("textDocument/hover", &u, l, c + 18), Value::Null);

    // Definition of a figure is its `let`.
    let def = lsp.at("textDocument/definition", &u, line, col + 17);
    let (decl, decl_col) = find(BUNDLED, "let due ");
    assert_eq!(
        def,
        json!([{"uri": u, "range": range(decl, decl_col + 4, decl, decl_col + 7)}])
    );
    assert_eq!(lsp.finish(), Some(0));
}

/// An edit inside one clause is parsed again alone, and the spans after
/// it move: the diagnostics after a few such edits are those of the same
/// text opened afresh.
#[test]
fn edits_inside_clauses_give_the_diagnostics_of_the_text_read_afresh() {
    let (_d, u, mut lsp) = bundled_open();
    // Longer text in the first clause's message moves everything after it.
    let (at, _) = BUNDLED
        .match_indices("message \"")
        .next()
        .expect("a message");
    let mut text = BUNDLED.to_string();
    text.insert_str(at + 9, "— edited, with more words — ");
    assert_eq!(lsp.change(&u, 2, &text), Vec::<Value>::new());
    // A mistake in the last clause: `=` for `==`, and an unknown define.
    let (at, _) = text
        .match_indices("require cloud == \"azure\"")
        .last()
        .expect("a require");
    text.replace_range(at..at + 24, "require cloud = \"azure\" and no_such_define");
    let edited = lsp.change(&u, 3, &text);
    assert!(!edited.is_empty());
    // A third edit, shorter, in a clause before it.
    let (at, _) = text.match_indices("message \"").nth(3).expect("a message");
    text.replace_range(at + 9..at + 12, "");
    let edited = lsp.change(&u, 4, &text);
    drop(lsp);

    let afresh = afresh(&text, &u);
    assert_eq!(edited, afresh);
    assert!(
        edited
            .iter()
            .any(|d| d["code"] == "proviso::parse::single_equals"
                || d["message"].as_str().unwrap_or("").contains("==")),
        "{edited:?}"
    );
}

/// The diagnostics of `text` opened afresh in a server of its own, with
/// related information pointed at `as_uri`.
fn afresh(text: &str, as_uri: &str) -> Vec<Value> {
    let (_d, paths) = dir_with(&[("contract.proviso", text)]);
    let mut fresh = Lsp::start();
    let mut diags = fresh.open(&uri(&paths[0]), text);
    for d in diags.iter_mut() {
        if let Some(rel) = d
            .get_mut("relatedInformation")
            .and_then(Value::as_array_mut)
        {
            for r in rel {
                r["location"]["uri"] = json!(as_uri);
            }
        }
    }
    diags
}

/// Typing through a clause passes states that do not parse: each gets the
/// syntax error the file read afresh gets, and the state that parses
/// again the diagnostics of that text.
#[test]
fn typing_through_a_syntax_error_inside_a_clause() {
    let (_d, u, mut lsp) = bundled_open();
    let (at, _) = BUNDLED
        .match_indices("require cloud == \"azure\"")
        .nth(1)
        .expect("a require");
    let typed = [
        "require cloud == \"",
        "require cloud == \"gc",
        "require cloud == \"gcp\"",
    ];
    for (k, now) in typed.iter().enumerate() {
        let mut text = BUNDLED.to_string();
        text.replace_range(at..at + 24, now);
        let version = i64::try_from(k).unwrap_or(0) + 2;
        let got = lsp.change(&u, version, &text);
        assert_eq!(got, afresh(&text, &u), "{now}");
        if k < 2 {
            assert_eq!(got.len(), 1, "{got:?}");
            assert_eq!(got[0]["severity"], 1);
        }
    }
    // Back to the text as it was: clean.
    assert_eq!(lsp.change(&u, 9, BUNDLED), Vec::<Value>::new());
}
