//! `proviso.yaml`: defaults for `proviso check`, found from the working
//! directory upward.
//!
//! Flags always win over the file. Paths in the file (rules, inputs, output
//! files, the baseline, exclude globs) are relative to the file's own
//! directory, so the same file works from any subdirectory. The design
//! choice: the file is strict — an unknown key, a bad date or an unknown
//! format is an error with its line and column (`proviso::config::*`), never
//! ignored, because a misspelt `fail_on` silently ignored is a CI gate that
//! silently does not gate. YAML is read with `serde_yaml_ng`, the maintained
//! fork of the archived `serde_yaml`.

use crate::cli::FormatSpec;
use crate::date::Date;
use crate::diag::{Code, Diag, Level};
use crate::findings::FailOn;
use crate::findings::waivers::Policy;
use crate::source::{SourceFile, display_path};
use clap::ValueEnum;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file name looked for.
pub const FILE_NAME: &str = "proviso.yaml";

/// Settings read from a `proviso.yaml`, with paths made absolute.
#[derive(Debug, Default)]
pub struct Config {
    /// The file they came from.
    pub path: Option<PathBuf>,
    pub rules: Vec<PathBuf>,
    pub paths: Vec<PathBuf>,
    pub as_of: Option<Date>,
    pub fail_on: Option<FailOn>,
    pub formats: Vec<FormatSpec>,
    pub exclude: Vec<Exclude>,
    pub var_files: Vec<PathBuf>,
    pub baseline: Option<PathBuf>,
    pub allow_malformed: Option<bool>,
    pub waivers: Policy,
    /// `params:`: values of the rule files' parameters, as written.
    pub params: Vec<(String, String)>,
    /// `iac:`: scan only this language (as `--iac`).
    pub iac: Option<crate::scan::iac::IacKind>,
    /// `region:`: the region of CloudFormation stacks and ARM resource groups (as `--region`).
    pub region: Option<String>,
    /// `evidence:`: where `check` and `audit` write their evidence.
    pub evidence: Option<PathBuf>,
}

use crate::scan::Exclude;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    rules: OneOrMany<PathBuf>,
    #[serde(default)]
    paths: OneOrMany<PathBuf>,
    #[serde(default, alias = "as-of")]
    as_of: Option<YDate>,
    #[serde(default, alias = "fail-on")]
    fail_on: Option<YFailOn>,
    #[serde(default, alias = "format")]
    formats: OneOrMany<YFormat>,
    #[serde(default)]
    exclude: OneOrMany<String>,
    #[serde(default, alias = "var-files")]
    var_files: OneOrMany<PathBuf>,
    #[serde(default)]
    baseline: Option<PathBuf>,
    #[serde(default, alias = "allow-malformed")]
    allow_malformed: Option<bool>,
    #[serde(default)]
    waivers: Option<RawWaivers>,
    /// `params: { revenue_share_cap: "1250000.00" }`.
    #[serde(default)]
    params: std::collections::BTreeMap<String, YScalar>,
    #[serde(default)]
    iac: Option<crate::scan::iac::IacKind>,
    #[serde(default)]
    region: Option<String>,
    evidence: Option<PathBuf>,
}

/// A parameter's value in the file: a string, number or date, kept as
/// written (a number as YAML prints it back; quote amounts to keep every
/// digit exactly as typed).
struct YScalar(String);

impl<'de> Deserialize<'de> for YScalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_yaml_ng::Value::deserialize(d)? {
            serde_yaml_ng::Value::String(s) => Ok(YScalar(s)),
            serde_yaml_ng::Value::Number(n) => Ok(YScalar(n.to_string())),
            serde_yaml_ng::Value::Bool(b) => Ok(YScalar(b.to_string())),
            _ => Err(D::Error::custom(
                "a parameter's value is a string, a number or a date",
            )),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaivers {
    #[serde(default)]
    allow: Option<bool>,
    #[serde(default, alias = "require-until")]
    require_until: Option<bool>,
    #[serde(default, alias = "require-owner")]
    require_owner: Option<bool>,
    #[serde(default, alias = "max-days")]
    max_days: Option<u32>,
    #[serde(default)]
    expired: Option<YLevel>,
}

/// `key: x` or `key: [x, y]`, for values written as strings. (Not an
/// untagged enum: that would replace the element's own located error with
/// "did not match any variant".)
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
                T::deserialize(serde::de::value::StrDeserializer::<E>::new(s)).map(OneOrMany::One)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = seq.next_element()? {
                    out.push(x);
                }
                Ok(OneOrMany::Many(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(x) => vec![x],
            OneOrMany::Many(v) => v,
        }
    }
}

/// A value read from a string with a parser whose error becomes a located
/// YAML error.
macro_rules! parsed_string {
    ($name:ident, $ty:ty, $parse:expr) => {
        struct $name($ty);
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // Parsing inside the visitor lets the YAML deserializer
                // attach the scalar's own line and column to the error.
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<$name, E> {
                        let parse: fn(&str) -> Result<$ty, String> = $parse;
                        parse(s).map($name).map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

parsed_string!(YDate, Date, |s| Date::parse(s)
    .map_err(|e| format!("`{s}` is not a date: {e}")));
parsed_string!(YFailOn, FailOn, |s| FailOn::from_str(s, true).map_err(
    |_| format!("`{s}` is not a level: write error, warning, info or never")
));
parsed_string!(YFormat, FormatSpec, |s| s.parse::<FormatSpec>());
parsed_string!(YLevel, Level, |s| match s {
    "error" => Ok(Level::Error),
    "warning" => Ok(Level::Warning),
    other => Err(format!("`{other}` is not a level: write error or warning")),
});

/// The `proviso.yaml` in `start` or the nearest directory above it.
pub fn discover(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// The deepest nesting read from a `proviso.yaml`: the file needs three
/// levels (`waivers: { allow: … }` in a document); YAML's scanner takes
/// time that grows faster than the depth, so a deeper file is refused
/// before it is parsed.
pub const MAX_DEPTH: usize = 32;

/// Reads and checks a configuration file (at most
/// [`crate::cli::files::CONFIG_CAP`] bytes, nested at most [`MAX_DEPTH`]).
pub fn load(path: &Path) -> Result<Config, Diag> {
    let text = crate::cli::files::read_capped_text(
        path,
        crate::cli::files::CONFIG_CAP,
        "a `proviso.yaml`",
    )?;
    let file = SourceFile::new(display_path(path), text);
    check_depth(&file)?;
    let raw: Raw = if file.text.trim().is_empty() {
        serde_yaml_ng::from_str("{}")
    } else {
        serde_yaml_ng::from_str(&file.text)
    }
    .map_err(|e| {
        let message = e.to_string();
        // serde_yaml_ng appends " at line L column C"; the label says where.
        let message = match message.find(" at line ") {
            Some(i) => message.get(..i).unwrap_or(&message).to_string(),
            None => message,
        };
        let offset = e.location().map_or(0, |l| l.index()).min(file.text.len());
        let end = file
            .text
            .get(offset..)
            .and_then(|rest| rest.find(['\n', ':']))
            .map_or(offset, |n| offset + n);
        let help = if message.contains("unknown field") {
            "proviso.yaml takes: rules, paths, as_of, fail_on, formats, exclude, var_files, baseline, allow_malformed, evidence, params, iac, region, waivers (allow, require_until, require_owner, max_days, expired)"
        } else {
            "see \"Configuration: proviso.yaml\" in the README"
        };
        Diag::error(
            Code::ConfigInvalid,
            format!("`{}`: {}", file.name, lowercase_first(&message)),
        )
        .in_file(&file)
        .label(offset..end.max(offset), "here")
        .with_help(help)
    })?;
    let base = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        })
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
        .unwrap_or_else(|| PathBuf::from("."));
    let rel = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
    let mut waivers = Policy::default();
    if let Some(w) = raw.waivers {
        waivers.allow = w.allow.unwrap_or(waivers.allow);
        waivers.require_until = w.require_until.unwrap_or(false);
        waivers.require_owner = w.require_owner.unwrap_or(false);
        waivers.max_days = w.max_days;
        if let Some(YLevel(l)) = w.expired {
            waivers.expired = l;
        }
    }
    Ok(Config {
        path: Some(path.to_path_buf()),
        rules: raw.rules.into_vec().into_iter().map(rel).collect(),
        paths: raw.paths.into_vec().into_iter().map(rel).collect(),
        as_of: raw.as_of.map(|d| d.0),
        fail_on: raw.fail_on.map(|f| f.0),
        formats: raw
            .formats
            .into_vec()
            .into_iter()
            .map(|YFormat(mut f)| {
                f.path = f.path.map(rel);
                f
            })
            .collect(),
        exclude: raw
            .exclude
            .into_vec()
            .into_iter()
            .map(|pattern| Exclude {
                base: base.clone(),
                pattern,
            })
            .collect(),
        var_files: raw.var_files.into_vec().into_iter().map(rel).collect(),
        baseline: raw.baseline.map(rel),
        evidence: raw.evidence.map(rel),
        allow_malformed: raw.allow_malformed,
        waivers,
        params: raw
            .params
            .into_iter()
            .map(|(k, YScalar(v))| (k, v))
            .collect(),
        iac: raw.iac,
        region: raw.region,
    })
}

/// The configuration of a run: none with `--no-config`, the file
/// `--config` names, else the `proviso.yaml` found from the working
/// directory upward (none if there is none).
pub fn for_run(no_config: bool, named: Option<&Path>) -> Result<Config, Diag> {
    if no_config {
        return Ok(Config::default());
    }
    if let Some(p) = named {
        return load(p);
    }
    match std::env::current_dir().ok().and_then(|d| discover(&d)) {
        Some(p) => load(&p),
        None => Ok(Config::default()),
    }
}

/// Refuses a file nested deeper than [`MAX_DEPTH`], counting block
/// indentation levels, compact sequence entries (`- - x`) and flow
/// brackets outside quotes and comments. It may overcount (a `[` in a
/// plain scalar), never undercount, and a real configuration is far
/// below the limit either way.
fn check_depth(file: &std::sync::Arc<SourceFile>) -> Result<(), Diag> {
    let text: &str = &file.text;
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut offset = 0usize;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let content = body.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = body.len() - content.len();
        if flow == 0 {
            while indents.last().is_some_and(|&i| i > indent) {
                indents.pop();
            }
            if indents.last().is_none_or(|&i| i < indent) {
                indents.push(indent);
            }
        }
        let mut dashes = 0usize;
        let mut rest = content;
        while let Some(r) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("? ")) {
            dashes += 1;
            rest = r.trim_start_matches(' ');
        }
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        let mut deepest_flow = flow;
        for c in rest.chars() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    '#' if prev == ' ' || prev == '\t' => break,
                    '\'' | '"' => quote = Some(c),
                    '[' | '{' => {
                        flow += 1;
                        deepest_flow = deepest_flow.max(flow);
                    }
                    ']' | '}' => flow = flow.saturating_sub(1),
                    _ => {}
                },
            }
            prev = c;
        }
        if indents.len() + dashes + deepest_flow > MAX_DEPTH {
            return Err(Diag::error(
                Code::ConfigTooDeep,
                format!(
                    "`{}` nests deeper than {MAX_DEPTH} levels",
                    file.name
                ),
            )
            .in_file(file)
            .label(start..start + body.len(), "this line is too deep")
            .with_help(
                "proviso.yaml needs three levels at most (`waivers: { allow: true }`): write it flat, as in docs/proviso.yaml",
            ));
        }
    }
    Ok(())
}

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a failed unwrap or index is a failed test"
    )]
    use super::*;

    fn load_text(text: &str) -> Result<Config, Diag> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        std::fs::write(&p, text).unwrap();
        load(&p)
    }

    #[test]
    fn every_key_is_read() {
        let c = load_text(
            "rules: rules/\npaths: [infra]\nas_of: 2026-03-01\nfail-on: warning\nformats: [human, sarif=out.sarif]\nexclude: ['examples']\nwaivers:\n  require_until: true\n  max_days: 90\n  expired: warning\n",
        )
        .unwrap();
        assert!(c.rules[0].ends_with("rules"));
        assert_eq!(c.as_of.unwrap().to_string(), "2026-03-01");
        assert_eq!(c.fail_on, Some(FailOn::Warning));
        assert_eq!(c.formats.len(), 2);
        assert!(c.formats[1].path.as_ref().unwrap().ends_with("out.sarif"));
        assert!(c.waivers.require_until);
        assert_eq!(c.waivers.max_days, Some(90));
        assert_eq!(c.waivers.expired, Level::Warning);
    }

    #[test]
    fn an_unknown_key_is_an_error_with_its_line() {
        let e = load_text("rules: rules\nfail_onn: warning\n").unwrap_err();
        assert_eq!(e.code.as_str(), "proviso::config::invalid");
        assert!(
            e.message.contains("unknown field `fail_onn`"),
            "{}",
            e.message
        );
        assert_eq!(e.location().unwrap().1, 2);
    }

    #[test]
    fn a_bad_value_is_an_error_with_its_line() {
        let e = load_text("rules: rules\nas_of: 2026-02-30\n").unwrap_err();
        assert!(e.message.contains("not a date"), "{}", e.message);
        assert_eq!(e.location().unwrap().1, 2);
    }

    #[test]
    fn a_deeply_nested_file_is_refused_before_yaml_reads_it() {
        for text in [
            format!("rules: {}x{}\n", "[".repeat(100_000), "]".repeat(100_000)),
            format!("rules:\n{}x\n", "- ".repeat(100_000)),
            (0..40)
                .map(|i| format!("{}a{i}:\n", " ".repeat(i)))
                .collect(),
        ] {
            let started = std::time::Instant::now();
            let e = load_text(&text).unwrap_err();
            assert_eq!(
                e.code.as_str(),
                "proviso::config::too_deep",
                "{}",
                e.message
            );
            assert!(e.location().is_some());
            assert!(started.elapsed().as_secs() < 5);
        }
        // Nesting a real file uses, and brackets in quotes or comments, pass.
        load_text("rules: [rules]\nexclude: ['[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[']  # [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\nwaivers: { allow: true }\n").unwrap();
    }

    #[test]
    fn a_file_over_the_cap_is_refused() {
        let e = load_text(&format!("rules: rules\n#{}\n", "x".repeat(2 << 20))).unwrap_err();
        assert_eq!(e.code.as_str(), "proviso::input::too_large");
        assert!(e.message.contains("1 MiB"), "{}", e.message);
    }

    #[test]
    fn excludes_match_names_and_relative_paths() {
        let x = |p: &str| Exclude {
            base: PathBuf::from("/repo"),
            pattern: p.into(),
        };
        assert!(x("examples").matches(Path::new("/repo/infra/examples")));
        assert!(x("infra/legacy/*").matches(Path::new("/repo/infra/legacy/a.tf")));
        assert!(!x("infra/legacy/*").matches(Path::new("/repo/other/legacy/a.tf")));
    }
}
