//! Every diagnostic code proviso reports, one enum variant each.
//!
//! A code is the stable name of a kind of diagnostic
//! (`proviso::<group>::<name>`): scripts match on it in JSON, SARIF, JUnit
//! and GitHub output, so its text never changes. The design choice, after
//! ruff's rule docs: the variant's doc comment *is* the user's help for
//! the code. Its first line is a title (SARIF's `shortDescription`), the
//! paragraphs after it say what the diagnostic means and what to do; the
//! README's "Diagnostic codes" table is generated from them (and a test in
//! `tests/diagnostic_codes.rs` fails when the two differ), so adding a
//! variant here is all it takes to document a code.
//!
//! A finding is the one code built at run time: `proviso::clause::<id>`
//! names the clause it breaks ([`Code::clause`]).
//!
//! The table is written once, in the `codes!` invocation below; the macro
//! turns it into the enum, [`Code::ALL`], [`Code::as_str`],
//! [`Code::group`], [`Code::level`] and the doc text, so that they cannot
//! disagree.

use super::Level;
use std::fmt;
use std::sync::Arc;

/// The code of a finding, `proviso::clause::<clause id>`, kept whole so
/// that [`Code::as_str`] can lend it. Built only by [`Code::clause`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClauseCode(Arc<str>);

impl ClauseCode {
    const PREFIX: &'static str = "proviso::clause::";

    /// The clause's id, as written in the rule file.
    pub fn clause(&self) -> &str {
        self.0.get(Self::PREFIX.len()..).unwrap_or_default()
    }
}

/// The level a code is always reported at, written in the table as
/// `error`, `warning`, `advice`, or `varies` (set at the call site).
macro_rules! level {
    (error) => {
        Some(Level::Error)
    };
    (warning) => {
        Some(Level::Warning)
    };
    (advice) => {
        Some(Level::Advice)
    };
    (varies) => {
        None
    };
}

macro_rules! codes {
    (
        $(
            $(#[doc = $group_doc:literal])*
            group $Group:ident = $group_name:literal {
                $(
                    $(#[doc = $doc:literal])*
                    $Variant:ident = $code:literal, $level:ident;
                )*
            }
        )*
        clause {
            $(#[doc = $clause_doc:literal])*
        }
    ) => {
        /// A diagnostic code (see the module docs). Each variant's doc
        /// comment is the help shown for it in the README and in SARIF.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(
                $(#[doc = $doc])*
                $Variant,
            )*)*
            $(#[doc = $clause_doc])*
            Clause(ClauseCode),
        }

        /// The area of proviso a code belongs to: the `<group>` of
        /// `proviso::<group>::<name>`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Group {
            $(
                $(#[doc = $group_doc])*
                $Group,
            )*
        }

        impl Code {
            /// Every code with a fixed text, in the order of the table
            /// (findings' `proviso::clause::<id>` is not among them).
            pub const ALL: &'static [Code] = &[$($(Code::$Variant,)*)*];

            /// The code as it is printed: `proviso::input::unreadable`.
            pub fn as_str(&self) -> &str {
                match self {
                    $($(Code::$Variant => $code,)*)*
                    Code::Clause(c) => &c.0,
                }
            }

            pub fn group(&self) -> Group {
                match self {
                    $($(Code::$Variant => Group::$Group,)*)*
                    Code::Clause(_) => Group::Clause,
                }
            }

            /// The level the code is always reported at; `None` when the
            /// call site decides (a finding takes its clause's severity).
            pub fn level(&self) -> Option<Level> {
                match self {
                    $($(Code::$Variant => level!($level),)*)*
                    Code::Clause(_) => None,
                }
            }

            /// The variant's doc comment, one source line per line.
            fn doc(&self) -> &'static str {
                match self {
                    $($(Code::$Variant => concat!($($doc, "\n",)*),)*)*
                    Code::Clause(_) => concat!($($clause_doc, "\n",)*),
                }
            }
        }

        impl Group {
            pub const ALL: &'static [Group] = &[$(Group::$Group,)*];

            /// The `<group>` of `proviso::<group>::<name>`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Group::$Group => $group_name,)*
                }
            }

            fn doc(self) -> &'static str {
                match self {
                    $(Group::$Group => concat!($($group_doc, "\n",)*),)*
                }
            }
        }
    };
}

impl Code {
    /// The code of a finding of the clause `id`: `proviso::clause::<id>`.
    pub fn clause(id: &str) -> Code {
        Code::Clause(ClauseCode(format!("{}{id}", ClauseCode::PREFIX).into()))
    }

    /// The title: the first line of the variant's doc comment ("A waiver
    /// has expired"), SARIF's `shortDescription`.
    pub fn summary(&self) -> &'static str {
        summary(self.doc())
    }

    /// What the code means and what to do: the doc comment after its
    /// title, each paragraph on one line, paragraphs separated by a blank
    /// line.
    pub fn explanation(&self) -> String {
        explanation(self.doc())
    }
}

impl Group {
    /// The rule the group's codes report a breach of (the first line of
    /// its doc comment); SARIF's `help` for the waiver rules.
    pub fn summary(self) -> &'static str {
        summary(self.doc())
    }
}

fn summary(doc: &'static str) -> &'static str {
    doc.lines().next().map_or("", str::trim)
}

fn explanation(doc: &str) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in doc.lines().skip(1).map(str::trim) {
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(current.join(" "));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current.join(" "));
    }
    paragraphs.join("\n\n")
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code serializes as its text, so that JSON and SARIF carry the same
/// string they always did.
impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

codes! {
    /// a run's command line must name what to read and where to write it
    group Cli = "cli" {
        /// No rule files were given
        ///
        /// `proviso check` needs the contract's rule files. Pass them with
        /// `--rules <FILE|DIR>`, or set `rules:` in a `proviso.yaml` in this
        /// directory or above.
        CliNoRules = "proviso::cli::no_rules", error;

        /// Several formats would write to one place
        ///
        /// More than one `--format` has no file of its own, so their
        /// reports would be interleaved on standard output (or in
        /// `--output`). Give every format but one its own file:
        /// `--format sarif=proviso.sarif --format human`.
        CliFormatsCollide = "proviso::cli::formats_collide", error;

        /// Two outputs name one file
        ///
        /// Two destinations of the run (`--output`, a `--format NAME=FILE`,
        /// `--write-baseline`, `--findings`) are the same file, and one
        /// would overwrite the other. Nothing is written; give each output
        /// a file of its own.
        CliOutputCollision = "proviso::cli::output_collision", error;

        /// An output would overwrite an input
        ///
        /// A destination of the run is a file the run reads, or an existing
        /// `.tf`, `.tf.json`, `.tfvars` or `.proviso` file (links count as
        /// the file they lead to). Nothing is written; write the report to
        /// a new file, such as `proviso.sarif` or `report.json`.
        CliOutputIsInput = "proviso::cli::output_is_input", error;

        /// A date range ends before it starts
        ///
        /// `proviso explain --between FROM TO` was given a `TO` earlier
        /// than its `FROM`. Give the earlier date first.
        CliReversedRange = "proviso::cli::reversed_range", error;

        /// A parameter no rule file declares
        ///
        /// `--param NAME=VALUE` (or `params:` in proviso.yaml) names a
        /// parameter that no rule file declares with `param NAME "…" TYPE`.
        /// Check the spelling (the help names the closest one).
        CliUnknownParam = "proviso::cli::unknown_param", error;

        /// A parameter's value is not of its type
        ///
        /// A `--param` value (or one of `params:`) does not read as the
        /// type the rule file declares: `money` and `number` are exact
        /// decimals (`1250000.05`), `date` is `YYYY-MM-DD`. Nothing is
        /// judged; give a value of the declared type.
        CliBadParamValue = "proviso::cli::bad_param_value", error;

        /// `--what-if` names no draft
        ///
        /// `--what-if NAME[@DATE]` must name terms marked `proposed` (a
        /// draft amendment) in the rule files; the help names the closest
        /// draft. A `DATE` after the draft's own `until` cannot be a
        /// signature date. Nothing is judged.
        CliUnknownDraft = "proviso::cli::unknown_draft", error;

        /// `--what-if` on standard input
        ///
        /// `proviso audit --what-if` audits its inputs twice (by the terms
        /// in force, then with the draft signed), and standard input can
        /// be read only once. Save the export to a file and name it.
        CliWhatIfStdin = "proviso::cli::what_if_stdin", error;
    }

    /// proviso.yaml must be valid YAML with the keys proviso knows
    group Config = "config" {
        /// proviso.yaml is not valid
        ///
        /// The configuration file is not YAML, has a key proviso does not
        /// know (the help lists those it takes) or a value of the wrong
        /// kind; the label shows the line. See "Configuration:
        /// proviso.yaml" in the README.
        ConfigInvalid = "proviso::config::invalid", error;

        /// proviso.yaml nests too deeply
        ///
        /// The file nests deeper than 32 levels, which no proviso
        /// configuration needs (three levels at most, as in
        /// `waivers: { allow: true }`). Write it flat, as in
        /// `docs/proviso.yaml`.
        ConfigTooDeep = "proviso::config::too_deep", error;
    }

    /// inputs must exist, be readable files of their kind, and fit proviso's caps
    group Input = "input" {
        /// A path does not exist
        ///
        /// A rule path (`--rules`) or a Terraform path given to
        /// `proviso check` names nothing. Check the spelling and the
        /// directory the command runs in.
        InputNotFound = "proviso::input::not_found", error;

        /// A file or directory cannot be read
        ///
        /// The operating system refused to open or read it (the message
        /// gives its reason: permissions, a broken link, a log whose format
        /// proviso could not open). Check the path and its permissions; use
        /// `-` for standard input.
        InputUnreadable = "proviso::input::unreadable", error;

        /// A path is not a regular file
        ///
        /// A rule path, `--ip-ranges` or `--var-file` is something else
        /// than a file or a directory of them, or a side input is a device
        /// such as `/dev/zero` (refused at once rather than read without
        /// end). Pass a regular file; `--baseline` and `--config` may also
        /// be pipes.
        InputNotAFile = "proviso::input::not_a_file", error;

        /// A file is not UTF-8 text
        ///
        /// A rule file, configuration or side input holds a byte that is not
        /// UTF-8 (the message gives its offset), or a log line does (that
        /// line is counted as malformed and skipped). Save the file as
        /// UTF-8.
        InputNotUtf8 = "proviso::input::not_utf8", error;

        /// A file is larger than proviso reads
        ///
        /// Side inputs are read up to a cap: rule files 64 MiB,
        /// `--ip-ranges`, `--var-file` and `--baseline` 64 MiB,
        /// `proviso.yaml` 1 MiB. Check that it is the file you meant; split
        /// a large rule set into several files.
        InputTooLarge = "proviso::input::too_large", error;

        /// A rule directory links back into itself
        ///
        /// A symbolic link inside a rule directory leads to a directory
        /// above it, so walking it would never end. Remove the link, or
        /// pass the rule files it leads to with `--rules`.
        InputLinkLoop = "proviso::input::link_loop", error;

        /// No rule files were found
        ///
        /// The rule paths hold no `.proviso` file (the help lists where
        /// proviso looked). Pass a `.proviso` file or a directory of them.
        InputNoRules = "proviso::input::no_rules", error;

        /// A Terraform file cannot be parsed
        ///
        /// A `.tf` file is not valid HCL, or a `.tf.json` file is not valid
        /// Terraform JSON; the label shows where reading stopped. What
        /// could be read of the file, and the rest of the module, is still
        /// checked. Fix the syntax (if `terraform validate` accepts the
        /// file, please report it: proviso reads HCL differently there).
        InputMalformedTerraform = "proviso::input::malformed_terraform", error;

        /// A variables file cannot be parsed
        ///
        /// A `.tfvars` file is not valid HCL, or a `.tfvars.json` file is
        /// not a JSON object. The variables it sets are unknown until it is
        /// fixed.
        InputMalformedTfvars = "proviso::input::malformed_tfvars", error;

        /// A plan JSON file cannot be read
        ///
        /// A file given as a plan (`terraform show -json` output) is not
        /// JSON or does not have the shape of a plan; the label shows
        /// where. Write it again with `terraform show -json PLAN`.
        InputMalformedPlan = "proviso::input::malformed_plan", error;

        /// An ARM template cannot be read
        ///
        /// A file taken as an ARM template (JSON whose `$schema` is a
        /// `deploymentTemplate.json`) or an ARM parameters file is not
        /// valid JSON, or a template expression (`[concat(…)]`), a `copy`
        /// loop or a resource cannot be read; the label shows where. The
        /// rest of the template, and the other files, are still checked.
        /// Fix the template (`az deployment group validate` names the same
        /// mistakes).
        InputMalformedArm = "proviso::input::malformed_arm", error;

        /// A Bicep file cannot be parsed
        ///
        /// A `.bicep` file has a syntax error where the label shows (or a
        /// module it uses cannot be read). The declarations before it are
        /// still checked, and the other files too. Fix the syntax (`az
        /// bicep build` names the same mistake).
        InputMalformedBicep = "proviso::input::malformed_bicep", error;

        /// A Bicep module is not scanned
        ///
        /// A `module` declaration names a registry (`br:`), a template spec
        /// (`ts:`) or a file that is not a local `.bicep` or ARM `.json`,
        /// so its resources are not read; the module is judged from its
        /// parameters, with `cloud` and `region` unknown. Restore it
        /// locally (`bicep restore`) and point the module at the file to
        /// have it scanned.
        InputBicepModuleNotScanned = "proviso::input::bicep_module_not_scanned", advice;

        /// A CloudFormation template cannot be read
        ///
        /// A file read as a CloudFormation template (YAML or JSON, or a
        /// `cdk synth` output) is not valid YAML/JSON, or a part of it does
        /// not have CloudFormation's shape (a resource without a `Type`, a
        /// `Resources` that is not a mapping); the label shows where. The
        /// rest of the file, and every other file, is still scanned.
        InputMalformedCloudFormation = "proviso::input::malformed_cloudformation", error;

        /// A Kubernetes manifest cannot be read
        ///
        /// A document of a manifest file (or of `helm template` output) is
        /// not valid YAML, or an object has no `kind` or `metadata.name`;
        /// the label shows where. The other documents and files are still
        /// scanned.
        InputMalformedKubernetes = "proviso::input::malformed_kubernetes", error;

        /// A CloudFormation parameters file cannot be read
        ///
        /// A `--var-file` that looks like CloudFormation parameters is not
        /// a list of `{"ParameterKey", "ParameterValue"}` objects nor an
        /// object with `"Parameters": {NAME: VALUE}`. The parameters it
        /// would set keep their defaults, or are unknown, until it is fixed.
        InputMalformedParameters = "proviso::input::malformed_parameters", error;

        /// Infrastructure as code that is not scanned
        ///
        /// A CloudFormation resource is expanded only
        /// before deployment (an `Fn::ForEach` loop of the
        /// `AWS::LanguageExtensions` transform, a Rain module): its
        /// resources are not judged. The note names it so that nothing is
        /// skipped silently; scan the processed template instead.
        InputNotScanned = "proviso::input::not_scanned", advice;

        /// Modules call each other in a cycle
        ///
        /// A module calls a module that is already being evaluated, so
        /// expanding it would never end. Break the cycle in the module
        /// calls.
        InputModuleCycle = "proviso::input::module_cycle", error;

        /// A remote module is not scanned
        ///
        /// A `module` block has a source that is neither local nor
        /// downloaded, so its resources are not read; the call is judged
        /// from its arguments. Run `terraform init` first: proviso then
        /// follows the modules it downloaded
        /// (`.terraform/modules/modules.json`).
        InputRemoteModule = "proviso::input::remote_module", advice;

        /// Many instances are judged as one record
        ///
        /// A block has more than 10,000 instances that read their index or
        /// key: the first 10,000 are judged one by one, the rest as one
        /// record whose `count.index` (or `each`) is unknown, so what
        /// depends on it is `unresolved`. A note, not a mistake: what does
        /// not depend on the index is judged exactly.
        InputInstancesGrouped = "proviso::input::instances_grouped", advice;

        /// A configuration expands to too many instances
        ///
        /// One root module, with the modules it calls, expands to more than
        /// 200,000 block instances; proviso stopped at the block labelled,
        /// and the blocks after it were not judged. Check the `count`,
        /// `for_each` and module calls that multiply it.
        InputTooManyInstances = "proviso::input::too_many_instances", error;

        /// The log format cannot be told
        ///
        /// `proviso audit` could not recognise the export from its first
        /// lines. Name it with `--log-format` (`jsonl`, `csv`, `alb`,
        /// `cloudfront`, `azure-frontdoor`, `nginx`, `aws-apigateway`,
        /// `azure-appgateway`, `parquet`).
        InputUnknownFormat = "proviso::input::unknown_format", error;

        /// A log line is not a record
        ///
        /// The line does not parse in the export's format (bad JSON, a
        /// wrong column count, a line over the length cap, the cut-off last
        /// line of a truncated gzip). It is counted as malformed and
        /// skipped; the audit goes on, and exits 2 unless
        /// `--allow-malformed`. The first five are shown.
        InputMalformedRecord = "proviso::input::malformed_record", error;

        /// A log record's timestamp cannot be read
        ///
        /// The record's timestamp field holds something proviso does not
        /// read as a time, so the record cannot be judged against the terms
        /// of its day. It is counted as malformed, like
        /// `proviso::input::malformed_record`; map another field with
        /// `--field timestamp=…` if this one is not the time.
        InputBadTimestamp = "proviso::input::bad_timestamp", error;

        /// A record's field is not of its declared type, or is missing
        ///
        /// A rule file declares what a field's values must be (`field
        /// amount_usd "…" decimal`, `field entry "…" one of { … }`) and
        /// this record's value is not (`12,50`, an unknown `entry`), or
        /// declares the field `required where <condition>` and this
        /// record, for which the condition holds, lacks it (a ledger line
        /// with no amount). The record is counted as malformed, judged by
        /// no clause and left out of every sum; fix the line, or the
        /// declaration if the value is valid.
        InputBadFieldValue = "proviso::input::bad_field_value", error;

        /// A log file was cut short while it was audited
        ///
        /// The file was shorter when the audit finished reading it than
        /// when it began (a log rotated with `copytruncate`): records past
        /// the cut were not audited. Audit a copy of a log that is being
        /// rotated, or audit it again once it is complete.
        InputTruncated = "proviso::input::truncated", warning;

        /// An `--ip-ranges` directory holds no JSON file
        ///
        /// A directory given with `--ip-ranges` has no `.json` file in it.
        /// Pass the published files (AWS `ip-ranges.json`, Azure Service
        /// Tags, Google `cloud.json`) or their directory.
        InputNoIpRanges = "proviso::input::no_ip_ranges", error;

        /// An `--ip-ranges` file cannot be read
        ///
        /// A file given with `--ip-ranges` cannot be read, is not JSON, or
        /// is not one of the published formats. Pass AWS `ip-ranges.json`,
        /// Azure Service Tags JSON or Google `cloud.json` as published.
        InputBadIpRanges = "proviso::input::bad_ip_ranges", error;
    }

    /// a rule file must follow the grammar of the rule language
    group Parse = "parse" {
        /// A rule file does not follow the grammar
        ///
        /// Something is missing or out of place: a `}`, a clause outside
        /// `terms`, a `cite` without its phrase, an unclosed `{` in a
        /// message. The label shows where, the help what was expected; see
        /// the rule language reference in the README.
        ParseSyntax = "proviso::parse::syntax", error;

        /// A rule file nests too deeply
        ///
        /// Brackets or `not`s nest more than 256 levels deep (a generated
        /// file's mistake: hand-written rules rarely pass 10). Name parts
        /// of the condition with `define` and combine the names instead.
        ParseTooDeep = "proviso::parse::too_deep", error;

        /// A single `=` where a comparison was meant
        ///
        /// `require cloud = "azure"`: `=` is not an operator of the rule
        /// language. Write `==`.
        ParseSingleEquals = "proviso::parse::single_equals", error;

        /// A date is not a calendar date in `YYYY-MM-DD` form
        ///
        /// `2026-02-30` is no day, and `28/10/2025` or `2026-2-27` are not
        /// written `YYYY-MM-DD`. Write the date as four, two and two
        /// digits.
        ParseBadDate = "proviso::parse::bad_date", error;

        /// A date is written in quotes
        ///
        /// `effective "2026-02-27"` is a string, not a date. Write the date
        /// without quotes: `effective 2026-02-27`.
        ParseQuotedDate = "proviso::parse::quoted_date", error;

        /// A severity is not one proviso knows
        ///
        /// Write `severity error`, `severity warning` or `severity info`.
        ParseBadSeverity = "proviso::parse::bad_severity", error;

        /// A size has an unknown unit
        ///
        /// `10 gigs`: a size is a number and a unit such as `KB` or `GB`
        /// (units are case-sensitive; the help lists them).
        ParseBadSize = "proviso::parse::bad_size", error;

        /// A regex does not compile
        ///
        /// Patterns use the `regex` crate's syntax: no look-around or
        /// back-references. Escape a literal `(`, `.` or `/`.
        ParseBadRegex = "proviso::parse::bad_regex", error;

        /// An IP network is not valid
        ///
        /// `10.0.0.0/40`: the address or the prefix length is out of range.
        /// Write an IPv4 or IPv6 network such as `10.0.0.0/8`.
        ParseBadCidr = "proviso::parse::bad_cidr", error;
    }

    /// a rule set must be consistent, and a check must have something to judge
    group Check = "check" {
        /// A name is declared twice
        ///
        /// Two sources, defines or terms of the rule set, or two clauses
        /// or exceptions of one terms, share a name, so a reference to it
        /// would be ambiguous. Rename one of them, or delete the second.
        CheckDuplicateName = "proviso::check::duplicate_name", error;

        /// A name refers to no define
        ///
        /// A condition uses a name that is neither a field nor a declared
        /// `define`, and is closest to a define (`stateles_api`: did you
        /// mean `stateless_api`?). Fix the spelling, or declare it.
        CheckUnknownReference = "proviso::check::unknown_reference", error;

        /// A field is not one any input has
        ///
        /// A condition reads a field that no scanner produces and no
        /// `field` declaration names (`clowd`: did you mean `cloud`?), or
        /// a field of a define, which has none. Fix the spelling; if your
        /// export has the field, declare it at the top of the file
        /// (`field datacenter_code "what it is"`); for a Terraform
        /// attribute write `attributes.<name>`.
        CheckUnknownField = "proviso::check::unknown_field", error;

        /// An aggregate clause is not well formed
        ///
        /// An aggregate clause (one with `per …` or `let …`) groups records
        /// and judges each group by its figures: its `applies to`,
        /// `require`, `forbid` and `unless` read figures (`let`), group
        /// keys and parameters, not record fields (those are read by
        /// `over` and by each aggregation's `where`); a figure reads only
        /// the figures before it; `except` names record-level exceptions
        /// and has no place in it. The message says which rule was broken
        /// and the help what to write.
        CheckAggregate = "proviso::check::aggregate", error;

        /// A parameter is declared wrongly or used where it cannot be
        ///
        /// A `param` declaration names a type other than `money`,
        /// `number`, `text` or `date`, or a parameter is used outside an
        /// aggregate clause's group conditions and figures (where an
        /// unsupplied parameter is unknown and makes the outcome
        /// `unresolved`).
        CheckBadParam = "proviso::check::bad_param", error;

        /// A message inserts a field no input has
        ///
        /// A `{field}` in a clause's message names a field that no scanner
        /// produces and no `field` declaration names. Fix the spelling, or
        /// declare the field.
        CheckUnknownInterpolation = "proviso::check::unknown_interpolation", error;

        /// A `cite` names no declared source
        ///
        /// Declare the source with `source`, or fix the name (the help
        /// suggests the closest).
        CheckUnknownSource = "proviso::check::unknown_source", error;

        /// An `except` names no exception of its terms
        ///
        /// A clause can only be excused by an exception declared in the
        /// same terms. Declare it there, or fix the name.
        CheckUnknownException = "proviso::check::unknown_exception", error;

        /// `supersedes` names no other terms
        ///
        /// The terms named are not declared, or are the terms themselves.
        /// Name the earlier terms that these replace.
        CheckUnknownTerms = "proviso::check::unknown_terms", error;

        /// A define refers to itself
        ///
        /// Defines form a cycle (the message gives it), so none of them has
        /// a value. Write one of them in terms of record fields.
        CheckCyclicDefine = "proviso::check::cyclic_define", error;

        /// An operator is given the wrong kind of value
        ///
        /// `region == us_regions` compares with a set (write `region in
        /// us_regions`), `in` is given a single string, or `matches` a
        /// value that is not a glob pattern string. The help gives the
        /// expression to write.
        CheckTypeMismatch = "proviso::check::type_mismatch", error;

        /// A condition nests too deeply with its defines expanded
        ///
        /// A chain of defines, each using the one before, nests more than
        /// 256 levels deep once expanded (a generated file's mistake). Make
        /// each define use record fields, or fewer defines, directly.
        CheckTooDeep = "proviso::check::too_deep", error;

        /// Terms have no `effective` date
        ///
        /// Every terms block says when it starts: `terms msa_2026 effective
        /// 2026-04-27 {`.
        CheckMissingEffective = "proviso::check::missing_effective", error;

        /// A period ends before it starts
        ///
        /// The `until` of terms or of a clause is on or before its
        /// `effective` date. Intervals are `effective` to `until`, the
        /// latter excluded: check whether the two dates are swapped.
        CheckUntilBeforeEffective = "proviso::check::until_before_effective", error;

        /// A clause is dated outside its terms
        ///
        /// A clause's own `effective`/`until` can only narrow its terms'
        /// interval. Move the clause to terms in force then, or fix the
        /// dates.
        CheckClauseOutsideTerms = "proviso::check::clause_outside_terms", error;

        /// A clause is in force twice on the same day
        ///
        /// Two terms in force at once both declare the clause, so a record
        /// would be judged twice under one id. Let one version supersede
        /// the other, or fix their dates.
        CheckOverlappingClause = "proviso::check::overlapping_clause", error;

        /// A clause or exception says nothing to check
        ///
        /// A clause needs `require <condition>` (must hold), `forbid
        /// <condition>` (must not hold), or `manual` if a machine cannot
        /// check it; an exception needs `when <condition>`.
        CheckMissingCheck = "proviso::check::missing_check", error;

        /// A clause or exception checks two things
        ///
        /// A clause has more than one `require`/`forbid` or `applies to`,
        /// or an exception more than one `when`. Combine the conditions
        /// with `and` or `or` in one statement.
        CheckConflictingCheck = "proviso::check::conflicting_check", error;

        /// A manual clause has conditions that are never evaluated
        ///
        /// A `manual` clause is listed for coverage and never evaluated. An
        /// error when it also has `require` or `forbid` (remove the
        /// condition, or `manual` to enforce it); a warning when it has
        /// `applies to`, `except` or `unless` (remove them, or replace
        /// `manual` with `require …`).
        CheckManualWithLogic = "proviso::check::manual_with_logic", varies;

        /// Terms are never in force
        ///
        /// The terms that supersede these start on or before their
        /// effective date, so no record is ever judged by them. Check the
        /// dates. The rule set still runs.
        CheckNeverInForce = "proviso::check::never_in_force", warning;

        /// A directory holds no Terraform
        ///
        /// A path given to `proviso check` has no `.tf` or `.tf.json` file
        /// and no CloudFormation, ARM, Bicep or Kubernetes file (of the
        /// `--iac` language, when one is forced), so nothing there would be
        /// judged (and nothing judged is not a pass). Pass the directory
        /// that declares the infrastructure; a directory of rule files goes
        /// to `--rules`.
        CheckNoTerraform = "proviso::check::no_terraform", error;

        /// A file is not Terraform
        ///
        /// A path given to `proviso check` is not `.tf`, `.tf.json`, plan
        /// JSON, nor a CloudFormation, ARM, Bicep or Kubernetes file. Pass a
        /// rule file with `--rules`, a variables or parameters file with
        /// `--var-file`; `--iac LANGUAGE` reads a file as that language.
        CheckNotTerraform = "proviso::check::not_terraform", error;

        /// Nothing was checked
        ///
        /// The check read no Terraform file, or no resource, data source or
        /// module to judge, so it cannot say the infrastructure complies.
        /// Pass the directories that declare the infrastructure.
        CheckNothingChecked = "proviso::check::nothing_checked", error;

        /// No clause is in force on the as-of date
        ///
        /// Nothing would be judged on the `--as-of` date (today unless
        /// given). The help gives the dates the clauses cover: pass a date
        /// within them.
        CheckNothingInForce = "proviso::check::nothing_in_force", error;

        /// No clause in force can apply to Terraform
        ///
        /// The clauses in force only read traffic-log fields, so `proviso
        /// check` would judge nothing. Audit logs with `proviso audit`;
        /// `proviso explain RULES` shows which input checks each clause.
        CheckNothingCheckable = "proviso::check::nothing_checkable", error;
    }

    /// rule files should have no dead parts, gaps, or clauses without sources and examples
    group Lint = "lint" {
        /// A define is never used
        ///
        /// No clause, exception or other define uses it. Use it, or delete
        /// it.
        LintUnusedDefine = "proviso::lint::unused_define", warning;

        /// An exception excuses no clause
        ///
        /// No clause names it in `except`. Add `except <name>` to the
        /// clauses it excuses, or delete it.
        LintUnusedException = "proviso::lint::unused_exception", warning;

        /// A source is never cited
        ///
        /// No clause cites it. Cite it from the clauses it supports (`cite
        /// <source> "…"`), or delete it.
        LintUnusedSource = "proviso::lint::unused_source", warning;

        /// A declared field is never read
        ///
        /// A `field` declaration names a field no condition or message
        /// reads. Use it, or delete the declaration.
        LintUnusedField = "proviso::lint::unused_field", warning;

        /// A clause can never fire
        ///
        /// Its conditions contradict each other (`cloud == "aws" and cloud
        /// == "azure"`, also through defines), a `forbid` contradicts
        /// `applies to`, or a `require` is already guaranteed by `applies
        /// to`. One of the conditions is probably a typo or the wrong
        /// field.
        LintNeverFires = "proviso::lint::never_fires", warning;

        /// No version of the terms is in force for a while
        ///
        /// A version starts after the one it supersedes ended. If the new
        /// terms follow on directly, end the old ones `until` the day the
        /// new ones start.
        LintTermsGap = "proviso::lint::terms_gap", warning;

        /// A draft amendment supersedes nothing
        ///
        /// Terms marked `proposed` name no `supersedes`: signed, they would
        /// only add clauses beside the terms in force, which is rarely what
        /// an amendment does. Name the version it replaces
        /// (`supersedes apr_2026`).
        LintDraftSupersedesNothing = "proviso::lint::draft_supersedes_nothing", warning;

        /// A draft amendment changes nothing
        ///
        /// Every clause and exception of the `proposed` terms is, word for
        /// word, one of the terms it supersedes: `--what-if` would find no
        /// difference. Write the changed clauses into the draft, or
        /// delete it.
        LintDraftChangesNothing = "proviso::lint::draft_changes_nothing", warning;

        /// An old version of the terms runs past its successor's start
        ///
        /// The old terms' `until` is later than the day the terms that
        /// supersede them start. Say when the old terms really end.
        LintTermsOverlap = "proviso::lint::terms_overlap", warning;

        /// An enforced clause has no examples
        ///
        /// It lacks a failing (`expect violation`) or a passing (`expect no
        /// violation`) example. Add `example "…" on YYYY-MM-DD { given { … }
        /// expect … }` blocks (for an aggregate clause `example "…" { given
        /// [ { date: "…", … }, … ] expect violation for "GROUP" }`): `proviso
        /// test` runs them.
        LintMissingExamples = "proviso::lint::missing_examples", warning;

        /// A clause cites no source
        ///
        /// Add `cite <source> "short phrase"`, so that every finding shows
        /// where the term comes from.
        LintMissingCitation = "proviso::lint::missing_citation", warning;

        /// An enforced clause would be explained in identifiers
        ///
        /// A condition of the clause (`applies to`, the check, `unless`, the
        /// `when` of an exception it takes) names a define that has no
        /// phrase, so `proviso explain` says "it matches stateless API"
        /// rather than the author's words. Give the define a phrase that
        /// reads after "it is" (`define stateless_api "a stateless OpenAI
        /// API" = …`), or the clause its obligation in words (`phrase
        /// "…"`).
        LintRawIdentifier = "proviso::lint::raw_identifier", warning;

        /// A parameter is never read
        ///
        /// No figure or group condition of any clause reads the `param`, so
        /// a value supplied for it with `--param` or `params:` changes
        /// nothing. Use it, or delete the declaration.
        LintUnusedParam = "proviso::lint::unused_param", warning;

        /// A figure is never read
        ///
        /// No condition, message or figure that is read uses the `let`: it
        /// is only listed on findings. A figure that nothing reads is
        /// usually a leftover or a misspelt name; read it (in `require`,
        /// `unless` or the `message`), or delete it.
        LintUnusedFigure = "proviso::lint::unused_figure", warning;

        /// A field is summed but its declaration gives it no type
        ///
        /// `sum of` a field that only a `field` declaration makes known,
        /// and the declaration does not say `decimal`: a value that is not
        /// an exact number makes the sum unknown (the group `unresolved`)
        /// instead of being reported as malformed with its file and line.
        /// Declare it `field NAME "…" decimal`.
        LintUntypedSum = "proviso::lint::untyped_sum", warning;

        /// A running total of a figure that is not a sum
        ///
        /// `running total of` adds a figure up over the periods of the
        /// terms: meaningful for sums and counts (and amounts made of
        /// them), not for a `max`, `min`, `first`, a count of distinct
        /// values or a parameter. Keep a running total of the underlying
        /// sum instead.
        LintRunningTotalNotSum = "proviso::lint::running_total_not_sum", warning;
    }

    /// a clause's examples must have the outcome they expect
    group Test = "test" {
        /// An example has another outcome than it expects
        ///
        /// `proviso test` judged the example's record and got another
        /// outcome than its `expect` (the help says why). Fix the clause,
        /// or the example if the clause is right.
        TestExampleFailed = "proviso::test::example_failed", error;
    }

    /// waivers must be in force, and allowed by proviso.yaml, to excuse a finding
    group Waiver = "waiver" {
        /// A waiver comment cannot be read
        ///
        /// A quote is not closed, or a clause name comes after the waiver's
        /// settings. Write `proviso:waive <clause>[,<clause>] reason="…"
        /// [until=YYYY-MM-DD] [owner=…]`, quoting values with spaces.
        WaiverSyntax = "proviso::waiver::syntax", error;

        /// A waiver's `until` is not a date
        ///
        /// Write the day the waiver expires as `until=YYYY-MM-DD`: it
        /// excuses findings before that day, not on it.
        WaiverBadDate = "proviso::waiver::bad_date", error;

        /// A waiver has an unknown setting
        ///
        /// A waiver takes `reason`, `until` and `owner` (the help suggests
        /// the closest).
        WaiverUnknownKey = "proviso::waiver::unknown_key", error;

        /// A waiver names no clause
        ///
        /// Write the clauses it excuses first: `proviso:waive <clause>
        /// reason="…"`.
        WaiverNoClause = "proviso::waiver::no_clause", error;

        /// A waiver has no reason
        ///
        /// Add `reason="…"`: the reason is shown wherever the waiver is
        /// listed.
        WaiverMissingReason = "proviso::waiver::missing_reason", error;

        /// A waiver is attached to nothing
        ///
        /// It excuses nothing. Put the waiver on the line right above the
        /// block or attribute it excuses (other comments may sit between),
        /// or at the end of its first line.
        WaiverDetached = "proviso::waiver::detached", error;

        /// A waiver names a clause the rules do not have
        ///
        /// Fix the name (the help suggests the closest clause), or remove
        /// the waiver if the clause is gone. The waiver excuses nothing.
        WaiverUnknownClause = "proviso::waiver::unknown_clause", error;

        /// Waivers are not allowed
        ///
        /// proviso.yaml sets `waivers: { allow: false }`, so every waiver is
        /// ignored and reported. Fix the finding instead.
        WaiverNotAllowed = "proviso::waiver::not_allowed", error;

        /// A waiver has expired
        ///
        /// Its `until` is on or before the as-of date, so it no longer
        /// excuses anything. Fix the finding, or renew the waiver with a
        /// later `until`. An error unless proviso.yaml sets
        /// `waivers.expired: warning`.
        WaiverExpired = "proviso::waiver::expired", varies;

        /// A waiver has no expiry date
        ///
        /// proviso.yaml sets `require_until`: add `until=YYYY-MM-DD`.
        WaiverNoExpiry = "proviso::waiver::no_expiry", error;

        /// A waiver runs longer than allowed
        ///
        /// Its `until` is more than proviso.yaml's `max_days` after the
        /// as-of date. Pick an earlier `until`.
        WaiverTooLong = "proviso::waiver::too_long", error;

        /// A waiver names no owner
        ///
        /// proviso.yaml sets `require_owner`: add `owner=team@example.com`.
        WaiverNoOwner = "proviso::waiver::no_owner", error;
    }

    /// a baseline must be the JSON that `--write-baseline` writes
    group Baseline = "baseline" {
        /// A baseline file is not a proviso baseline
        ///
        /// The `--baseline` file is not JSON, or not in the form
        /// `--write-baseline` writes. Write it again with `proviso check …
        /// --write-baseline FILE`.
        BaselineMalformed = "proviso::baseline::malformed", error;
    }

    /// `--changed-since` needs a git work tree and a commit to compare with
    group Git = "git" {
        /// A ref is not a commit
        ///
        /// The `--changed-since` ref is empty, starts with `-`, or names no
        /// commit in the repository. Name a branch, tag or commit, such as
        /// `origin/main`; in CI, fetch it first.
        GitBadRef = "proviso::git::bad_ref", error;

        /// A path is not in a git repository
        ///
        /// `--changed-since` needs the paths to be in a git work tree (and
        /// `git` on the `PATH`).
        GitNotARepository = "proviso::git::not_a_repository", error;

        /// `git diff` failed
        ///
        /// proviso could not list the changes since the ref (the message
        /// gives git's reason).
        GitDiffFailed = "proviso::git::diff_failed", error;
    }

    /// an audit must have records it can judge
    group Audit = "audit" {
        /// No log was named
        ///
        /// `proviso audit` was given no log file and standard input is a
        /// terminal. Name the exports (`proviso audit access.log --rules
        /// RULES`) or pipe one in (`zcat x.gz | proviso audit - --rules
        /// RULES`).
        AuditNoInput = "proviso::audit::no_input", error;

        /// No clause in force can apply to traffic logs
        ///
        /// The clauses in force only read Terraform fields, so `proviso
        /// audit` would judge nothing. Check Terraform with `proviso
        /// check`; `proviso explain RULES` shows which input checks each
        /// clause.
        AuditNothingCheckable = "proviso::audit::nothing_checkable", error;

        /// Nothing was judged
        ///
        /// The inputs held no record (empty files, empty standard input),
        /// or none could be read. Name log files that hold records, or fix
        /// the lines shown (`--log-format` names the format).
        AuditNothingJudged = "proviso::audit::nothing_judged", error;

        /// No record has a timestamp
        ///
        /// None of an input's records has a field proviso reads as its time
        /// (the message names those it looked for), so none can be judged
        /// against the terms of its day. Map the export's own field:
        /// `--field timestamp=requestTime`.
        AuditNoTimestamp = "proviso::audit::no_timestamp", error;

        /// Every record is dated outside the terms
        ///
        /// All of an input's records fall on days no terms are in force.
        /// Audit an export from the period the terms cover (`proviso
        /// explain RULES` shows their dates).
        AuditOutsideTerms = "proviso::audit::outside_terms", error;

        /// An input held no records
        ///
        /// One of several inputs is empty; the others are audited. Check
        /// that it is the export you meant to audit.
        AuditEmptyInput = "proviso::audit::empty_input", warning;

        /// A group was computed without some of its records
        ///
        /// Records that would have joined an aggregate clause's group (a
        /// month's bookings, a product's requests) were malformed (an
        /// amount that is not a decimal, an `entry` outside the values its
        /// `field` declaration allows), so the group's figures leave them
        /// out. The finding lists their lines: fix them and audit again.
        AuditGroupIncomplete = "proviso::audit::group_incomplete", warning;

        /// An aggregate clause has more groups than the audit keeps
        ///
        /// The records formed more than a million groups of one aggregate
        /// clause (its `per` key is nearly unique per record, such as a
        /// request id), or had a group key longer than 1 KiB, and those
        /// records were not judged (the message counts them). Group by a
        /// field with fewer and shorter values, or narrow `over`.
        AuditTooManyGroups = "proviso::audit::too_many_groups", warning;
    }

    /// `proviso compile` must produce SQL that means what the rules mean
    group Compile = "compile" {
        /// A construct has no exact SQL form in the dialect
        ///
        /// A clause uses a construct that `proviso compile` cannot write
        /// so that the dialect's engine reads it as proviso does (a regular
        /// expression with a word boundary, a pattern read from a record);
        /// the message names the clause, the construct and the dialect.
        /// Nothing is written: no clause is silently left out. Rewrite the
        /// construct, or judge these records with `proviso audit`.
        CompileUnsupported = "proviso::compile::unsupported", error;

        /// The table's columns cannot be read
        ///
        /// `--schema-from` names a file whose columns proviso cannot read
        /// (not Parquet, CSV with a header, or JSON lines). Give a sample
        /// file of the table, or name the columns with `--columns
        /// NAME:TYPE,…`.
        CompileBadSchema = "proviso::compile::bad_schema", error;

        /// `--columns` is not a list of NAME:TYPE
        ///
        /// Each column is `NAME:TYPE`, separated by commas, with a type
        /// such as `varchar`, `bigint`, `double`, `boolean`, `date`,
        /// `timestamp` or `decimal(18,2)`; a `.` in a name is a struct's
        /// child (`trace.id:varchar`).
        CompileBadColumns = "proviso::compile::bad_columns", error;

        /// The table has no time column
        ///
        /// Each record is judged by the terms in force on its own date, and
        /// none of the table's columns is one proviso reads a time from
        /// (`timestamp`, `time`, `@timestamp`, `ts`, `datetime`,
        /// `TimeGenerated`, `eventTime`, `date`). Name the column with
        /// `--field timestamp=COLUMN`, or judge every record on one date
        /// with `--as-of DATE`.
        CompileNoTimestamp = "proviso::compile::no_timestamp", error;

        /// No clause can be compiled
        ///
        /// The rule files have no enforced clause (only manual ones, or
        /// none in force on any date), so the statement would judge
        /// nothing. Check the rule files with `proviso explain`.
        CompileNothing = "proviso::compile::nothing", error;
    }

    /// evidence must confirm what a run judged
    group Verify = "verify" {
        /// The evidence file cannot be read
        ///
        /// `proviso verify` was given a file that cannot be read, is not
        /// JSON, is not an evidence document, or is of a schema version
        /// this proviso does not know. Give the file `--evidence` wrote,
        /// and verify with a proviso at least as new as the one that wrote
        /// it.
        VerifyBadEvidence = "proviso::verify::bad_evidence", error;

        /// A file the evidence names is missing
        ///
        /// An input, rule file or side input the evidence names cannot be
        /// read (moved, deleted, or standard input, which cannot be read
        /// again), so the judgement cannot be repeated. Restore the file at
        /// its path (relative to the recorded working directory), or run
        /// from a copy of the original tree.
        VerifyMissingInput = "proviso::verify::missing_input", error;

        /// A parameter's value was not supplied again
        ///
        /// The original run had a value for a parameter (its name and a
        /// protected hash are in the evidence, never the value). Supply it
        /// again: `proviso verify FILE --param NAME=VALUE`, or the
        /// `params:` of a proviso.yaml (`--config FILE`).
        VerifyMissingParam = "proviso::verify::missing_param", error;

        /// The judgement could not be run again
        ///
        /// Running the recorded command again failed before it judged
        /// anything (its error is shown). Fix what it says and verify
        /// again.
        VerifyRerunFailed = "proviso::verify::rerun_failed", error;

        /// An input changed
        ///
        /// A file the run judged (a log export, a Terraform file, a side
        /// input such as a baseline or IP ranges) no longer has the bytes
        /// it had: its SHA-256 or size differs, or it is read where it was
        /// not. The findings of the evidence are not those of the files as
        /// they are now.
        VerifyInputChanged = "proviso::verify::input_changed", error;

        /// A rule file changed
        ///
        /// A rule file's SHA-256 differs from the evidence, or the set of
        /// rule files read differs: the terms judged are not those the
        /// evidence names.
        VerifyRulesChanged = "proviso::verify::rules_changed", error;

        /// A parameter has another value
        ///
        /// The value supplied now does not match the protected hash in the
        /// evidence (or the original run had no value for it). Supply the
        /// value the original run used.
        VerifyParamChanged = "proviso::verify::param_changed", error;

        /// The findings differ
        ///
        /// Running the judgement again gave other findings (their digest,
        /// count or the summary differ) or another exit code. The message
        /// says what changed besides; with identical inputs, rules and
        /// parameters, a different proviso version is the likely cause.
        VerifyFindingsDiffer = "proviso::verify::findings_differ", error;

        /// A report differs
        ///
        /// A report rendered again is not byte-identical to the one the
        /// evidence hashed (a report written to a terminal is not compared:
        /// its colours and width were the terminal's).
        VerifyReportDiffers = "proviso::verify::report_differs", error;

        /// Another proviso wrote the evidence
        ///
        /// The evidence names another version or build commit than the
        /// proviso verifying it. Identical findings still verify; if they
        /// differ, verify with the version the evidence names.
        VerifyToolDiffers = "proviso::verify::tool_differs", warning;
    }

    /// a report must be written where it was asked for
    group Output = "output" {
        /// A report cannot be written
        ///
        /// Writing an output failed (the message gives the reason: a full
        /// device, a directory that does not exist, permissions). Free
        /// space, or write to another file.
        OutputUnwritable = "proviso::output::unwritable", error;
    }

    /// a diagnostic's label in another file is shown as a note of its own
    group Note = "note" {
        /// Part of the diagnostic above, in another file
        ///
        /// A diagnostic points into more than one file (a finding
        /// classified by a module's arguments); the labels in the other
        /// files follow it as notes that name it. Read it with the
        /// diagnostic it names.
        Note = "proviso::note", advice;
    }

    /// the records must comply with the clauses in force
    group Clause = "clause" {}

    clause {
        /// A record breaks a clause
        ///
        /// A finding: `<id>` is the clause's id in the rule file, and its level
        /// is the clause's `severity` (an `unresolved` finding, which depends
        /// on a value proviso cannot know, is at most a warning). The message
        /// and help come from the clause; its citation says where the term
        /// comes from. Fix the record, or waive the finding with a reason
        /// (`# proviso:waive <id> reason="…"`).
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::panic,
        reason = "test code: a failed unwrap is a failed test"
    )]
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_is_named_after_its_group_and_is_unique() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            let group = code.group().as_str();
            let name = if group == "note" {
                s.strip_prefix("proviso::").filter(|n| *n == "note")
            } else {
                s.strip_prefix(&format!("proviso::{group}::"))
            };
            let name = name.unwrap_or_else(|| panic!("{s} is not in group {group}"));
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{s}"
            );
        }
        assert!(
            Group::ALL
                .iter()
                .all(|g| g.as_str() == "clause" || Code::ALL.iter().any(|c| c.group() == *g))
        );
    }

    #[test]
    fn every_code_has_a_title_and_an_explanation() {
        for code in Code::ALL.iter().chain([&Code::clause("x")]) {
            let doc = code.doc();
            let title = code.summary();
            assert!(!title.is_empty(), "{code} has no doc comment");
            assert!(
                !title.ends_with('.'),
                "{code}: a title ends without a period"
            );
            assert!(
                doc.lines().nth(1).is_some_and(|l| l.trim().is_empty()),
                "{code}: the title is one line, then a blank line"
            );
            let text = code.explanation();
            assert!(!text.is_empty(), "{code} says nothing about what to do");
            assert!(
                !text.contains('\n'),
                "{code}: one paragraph (one table cell)"
            );
        }
        for group in Group::ALL {
            assert!(!group.summary().is_empty(), "{group:?}");
        }
    }

    #[test]
    fn a_clause_code_is_the_clause_id_under_proviso_clause() {
        let c = Code::clause("stateless_on_azure");
        assert_eq!(c.as_str(), "proviso::clause::stateless_on_azure");
        assert_eq!(c.to_string(), c.as_str());
        assert_eq!(c.group(), Group::Clause);
        assert_eq!(c.level(), None);
        let Code::Clause(id) = &c else { unreachable!() };
        assert_eq!(id.clause(), "stateless_on_azure");
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            "\"proviso::clause::stateless_on_azure\""
        );
    }
}
