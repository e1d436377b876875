//! Helpers shared by the integration tests, first of all the one way they
//! run the `proviso` binary.
//!
//! [`proviso`] builds a run as ripgrep's `Dir::command()` does: the
//! environment is cleared and only what the binary needs is put back —
//! `PATH` (for the `git` that `--changed-since` runs), `HOME` pointed at a
//! fresh temporary directory (so that no global git configuration is read),
//! `NO_COLOR=1`, and `SOURCE_DATE_EPOCH` (explain's generation date, pinned) — so nothing of the developer's shell (`COLUMNS`,
//! `CLICOLOR_FORCE`, a `PROVISO_*` variable) reaches an output a test
//! compares. The working directory is the repository unless the test
//! names another ([`Proviso::current_dir`]).
//!
//! `proviso check` (and `audit` and `compile`, for `params:`) reads the `proviso.yaml` of
//! its working directory or of the nearest directory above it, so a file
//! above the repository (or above the system's temporary directory) could
//! change any result. A `check` or `audit` run therefore gets
//! `--no-config`, unless its arguments say
//! where its configuration comes from (`--config FILE`, `--no-config`) or
//! the test is about finding one ([`Proviso::finding_config`]).
//!
//! Every run ends in one [`Output`]: exit code, standard output and
//! standard error (both UTF-8), and how long it took.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]
#![allow(
    dead_code,
    reason = "each test binary compiles this module and uses a different subset of it"
)]

use proviso::diag::{Diag, render};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_proviso");

/// The repository: the working directory of a run unless the test names
/// another (the paths tests pass, such as `fixtures/…` and `rules`, are
/// relative to it).
pub const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A `proviso` run being set up: `proviso(args)`, then the builder
/// methods, then [`Proviso::run`].
#[must_use = "a run does nothing until `.run()` (or `.spawn()`)"]
pub struct Proviso {
    args: Vec<OsString>,
    dir: PathBuf,
    stdin: Option<Vec<u8>>,
    stdout: Option<std::fs::File>,
    env: Vec<(OsString, OsString)>,
    finds_config: bool,
}

/// `proviso` with `args`, in the repository, in a clean environment.
pub fn proviso<S: AsRef<OsStr>>(args: &[S]) -> Proviso {
    Proviso {
        args: args.iter().map(|a| a.as_ref().to_owned()).collect(),
        dir: PathBuf::from(REPO),
        stdin: None,
        stdout: None,
        env: Vec::new(),
        finds_config: false,
    }
}

impl Proviso {
    /// One more argument (a path that is not UTF-8, say).
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Proviso {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// More arguments.
    pub fn args<I, S>(mut self, args: I) -> Proviso
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Runs in `dir` instead of the repository.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Proviso {
        self.dir = dir.as_ref().to_owned();
        self
    }

    /// Feeds `input` on standard input (otherwise it is `/dev/null`). It is
    /// written from a thread, so a large input cannot deadlock against a
    /// large output.
    pub fn stdin(mut self, input: impl AsRef<[u8]>) -> Proviso {
        self.stdin = Some(input.as_ref().to_vec());
        self
    }

    /// Sends standard output to `file` (such as `/dev/full`) instead of
    /// capturing it; [`Output::stdout`] is then empty.
    pub fn stdout_to(mut self, file: std::fs::File) -> Proviso {
        self.stdout = Some(file);
        self
    }

    /// Sets one variable on top of the clean environment.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Proviso {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Lets `check` look for a `proviso.yaml` from its working directory
    /// upward, for the tests about that search (see the module doc).
    pub fn finding_config(mut self) -> Proviso {
        self.finds_config = true;
        self
    }

    /// Runs to the end.
    pub fn run(self) -> Output {
        self.spawn().wait()
    }

    /// Starts the run, for tests that act while it goes on.
    pub fn spawn(mut self) -> Running {
        let home = tempfile::tempdir().expect("a temporary HOME");
        let mut cmd = self.command(BIN, self.final_args(), home.path());
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(match self.stdout.take() {
            Some(file) => Stdio::from(file),
            None => Stdio::piped(),
        })
        .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = cmd.spawn().expect("run proviso");
        let feeder = self.stdin.take().map(|input| {
            let mut pipe = child.stdin.take().expect("piped standard input");
            std::thread::spawn(move || pipe.write_all(&input))
        });
        Running {
            child,
            feeder,
            started,
            _home: home,
        }
    }

    /// Runs under a terminal (util-linux `script` gives it one), for what
    /// proviso does when a stream is a terminal. The terminal's text (both
    /// streams, as the terminal shows them) is [`Output::stdout`]. `None`
    /// when there is no `script` to run.
    pub fn run_in_terminal(self) -> Option<Output> {
        let home = tempfile::tempdir().expect("a temporary HOME");
        let line = std::iter::once(OsString::from(BIN))
            .chain(self.final_args())
            .map(|a| shell_quote(&a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ");
        let started = Instant::now();
        let out = self
            .command("script", ["-qec", line.as_str(), "/dev/null"], home.path())
            .stdin(Stdio::null())
            .output()
            .ok()?;
        Some(Output::new(out, started.elapsed()))
    }

    /// `program` with `args` in this run's directory and clean environment.
    fn command<I, S>(&self, program: &str, args: I, home: &Path) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("NO_COLOR", "1")
            // `explain`'s generation date, pinned (7 December 2026).
            .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// The arguments, with `--no-config` after `check`/`audit` where the module
    /// doc says.
    fn final_args(&self) -> Vec<OsString> {
        let mut args = self.args.clone();
        let names_its_config = args.iter().any(|a| {
            a == "--no-config" || a == "--config" || a.to_string_lossy().starts_with("--config=")
        });
        if !self.finds_config
            && !names_its_config
            && let Some(at) = subcommand(&args)
            && (args[at] == "check" || args[at] == "audit" || args[at] == "compile")
        {
            args.insert(at + 1, "--no-config".into());
        }
        args
    }
}

/// The position of the subcommand: the first argument that is neither an
/// option nor the value of the one global option that takes one.
fn subcommand(args: &[OsString]) -> Option<usize> {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "--color" {
            i += 2;
        } else if a.to_string_lossy().starts_with('-') {
            i += 1;
        } else {
            return Some(i);
        }
    }
    None
}

/// `text` as one word for `sh`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A run under way (see [`Proviso::spawn`]).
pub struct Running {
    child: Child,
    feeder: Option<JoinHandle<std::io::Result<()>>>,
    started: Instant,
    /// Kept until the run ends.
    _home: tempfile::TempDir,
}

impl Running {
    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the end.
    pub fn wait(self) -> Output {
        let out = self.child.wait_with_output().expect("wait for proviso");
        let took = self.started.elapsed();
        if let Some(feeder) = self.feeder {
            feeder
                .join()
                .expect("the standard input thread")
                .expect("write standard input");
        }
        Output::new(out, took)
    }
}

/// The generation date every run gets (`explain`'s dated record):
/// 2026-12-07T00:00:00Z.
pub const SOURCE_DATE_EPOCH: &str = "1796601600";

/// `text` with the build commit (which every commit changes) replaced by
/// `<commit>`, so that snapshots of `explain` hold still.
pub fn without_commit(text: &str) -> String {
    text.replace(
        &format!("(commit {})", proviso::build_info::commit()),
        "(commit <commit>)",
    )
}

/// What a run did.
#[derive(Debug)]
pub struct Output {
    /// The exit code; -1 when a signal ended the run.
    pub code: i32,
    /// The signal that ended the run, if one did.
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Output {
    fn new(out: std::process::Output, took: Duration) -> Output {
        use std::os::unix::process::ExitStatusExt;
        Output {
            code: out.status.code().unwrap_or(-1),
            signal: out.status.signal(),
            stdout: without_commit(
                &String::from_utf8(out.stdout).expect("standard output is UTF-8"),
            ),
            stderr: String::from_utf8(out.stderr).expect("standard error is UTF-8"),
            took,
        }
    }

    /// Exit code, stdout and stderr, as the CLI snapshots store a run.
    pub fn snapshot(&self) -> String {
        format!(
            "exit code: {}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Standard output then standard error, for messages that may be on
    /// either.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The last line of stdout: the human summary line.
    pub fn summary(&self) -> &str {
        self.stdout.lines().last().unwrap_or("")
    }

    /// Standard output as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Renders diagnostics the way snapshots store them: no colour, unicode,
/// width 100, no links.
pub fn render_all(diags: &[Diag]) -> String {
    diags
        .iter()
        .map(|d| render(d, true, 100))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The bundled rule set (`rules/`), loaded as `proviso check` loads it.
pub fn bundled_rules() -> proviso::rules::RuleSet {
    proviso::rules::load(&[PathBuf::from("rules")]).unwrap_or_else(|e| panic!("{:?}", e.errors))
}

/// A finding's outcome as the fixtures' `expect:` lines spell it.
pub fn outcome_name(f: &proviso::findings::Finding) -> &'static str {
    match f.outcome {
        proviso::findings::FindingOutcome::Violation => "violation",
        proviso::findings::FindingOutcome::Unresolved => "unresolved",
    }
}

/// The value of `// expect: …` / `# expect: …` header lines.
pub fn header_values(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim_start_matches(['/', '#']).trim();
            l.strip_prefix(key).map(|rest| rest.trim().to_string())
        })
        .collect()
}

/// Headless Chromium (Debian's `chromium`, installed by `.ci/run`), for
/// the tests that render an HTML report in a browser. Outside CI, a
/// machine without it skips the browser half with a note; in CI its
/// absence fails the test.
pub fn chromium() -> Option<&'static str> {
    let path = "/usr/bin/chromium";
    if Path::new(path).exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI must install chromium (see .ci/run)"
    );
    eprintln!("note: chromium not installed; the HTML page was not rendered in a browser");
    None
}

/// A headless Chromium command with a fresh profile in `profile`, with
/// the flags that keep it off the network (this machine's network is
/// closed, and background connections would be refused, many at a time).
pub fn headless(chromium: &str, profile: &Path) -> Command {
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}
