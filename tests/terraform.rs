//! The Terraform scanner and evaluator against fixtures that state their
//! expectations inline:
//! - `fixtures/terraform/cases/<case>/main.tf` starts with `# as-of: DATE`
//!   and `# expect: <clause> <outcome> <address>` lines (or `# expect: none`),
//!   plus `# expect-malformed: <file>` for inputs that must be reported;
//! - `fixtures/terraform/platform/**.tf` marks each block that must produce a
//!   finding with `# expect: <clause> <outcome> as-of <date> [address]` on
//!   the lines right above it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{bundled_rules, header_values, outcome_name};

use proviso::date::Date;
use proviso::findings::{Finding, FindingOutcome, judge};
use proviso::scan::terraform::{Options, scan};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[test]
fn every_case_gives_exactly_the_findings_it_declares() {
    let rules = bundled_rules();
    let mut cases: Vec<PathBuf> = std::fs::read_dir("fixtures/terraform/cases")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 12, "expected at least 12 single-point cases");
    for case in cases {
        let main = std::fs::read_to_string(case.join("main.tf")).unwrap();
        let as_of = Date::parse(&header_values(&main, "as-of:")[0]).unwrap();
        let expected: BTreeSet<String> = header_values(&main, "expect:")
            .into_iter()
            .filter(|e| e != "none")
            .collect();
        let expected_malformed: BTreeSet<String> = header_values(&main, "expect-malformed:")
            .into_iter()
            .collect();
        let scanned = scan(std::slice::from_ref(&case), &Options::default());
        let judged = judge(&rules, &scanned.records, as_of);
        let actual: BTreeSet<String> = judged
            .findings
            .iter()
            .map(|f| format!("{} {} {}", f.clause, outcome_name(f), f.address))
            .collect();
        assert_eq!(actual, expected, "case {}", case.display());
        let malformed: BTreeSet<String> = scanned
            .malformed
            .iter()
            .filter_map(|d| {
                d.file.as_ref().map(|f| {
                    Path::new(&f.name)
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .to_string()
                })
            })
            .collect();
        assert_eq!(
            malformed,
            expected_malformed,
            "malformed inputs of case {}",
            case.display()
        );
        for d in &scanned.malformed {
            let (file, line, _) = d.location().expect("a malformed input names its location");
            assert!(file.ends_with(".tf") && line > 0);
        }
    }
}

/// `(clause, outcome, file, block line, address?)` from the platform's inline comments.
fn platform_expectations(date: &str) -> BTreeSet<(String, String, String, usize)> {
    let mut out = BTreeSet::new();
    for entry in walkdir::WalkDir::new("fixtures/terraform/platform")
        .into_iter()
        .filter_entry(|e| !e.file_name().to_string_lossy().starts_with(".terraform"))
    {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "tf") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(rest) = line.trim().strip_prefix("# expect:") else {
                continue;
            };
            let words: Vec<&str> = rest.split_whitespace().collect();
            let [clause, outcome, "as-of", on, ..] = words.as_slice() else {
                panic!("bad expect line {line}")
            };
            if *on != date {
                continue;
            }
            let block = (i..lines.len())
                .find(|j| !lines[*j].trim_start().starts_with('#'))
                .unwrap()
                + 1;
            out.insert((
                clause.to_string(),
                outcome.to_string(),
                entry.path().display().to_string(),
                block,
            ));
        }
    }
    out
}

#[test]
fn the_example_platform_gives_the_findings_marked_in_it_on_both_sides_of_2026_04_27() {
    let rules = bundled_rules();
    let scanned = scan(
        &[PathBuf::from("fixtures/terraform/platform")],
        &Options::default(),
    );
    assert!(scanned.malformed.is_empty(), "{:?}", scanned.malformed);
    assert!(
        scanned
            .records
            .iter()
            .all(|r| !r.origin.file.name.contains(".terraform/")),
        ".terraform/ must be skipped"
    );
    for date in ["2026-03-01", "2026-05-01"] {
        let judged = judge(&rules, &scanned.records, Date::parse(date).unwrap());
        let actual: BTreeSet<(String, String, String, usize)> = judged
            .findings
            .iter()
            .map(|f| {
                (
                    f.clause.clone(),
                    outcome_name(f).to_string(),
                    f.record_origin.file.name.clone(),
                    f.record_origin.line_col().0,
                )
            })
            .collect();
        assert_eq!(actual, platform_expectations(date), "findings on {date}");
    }
}

#[test]
fn an_unresolved_finding_points_at_the_expression_it_could_not_resolve() {
    let rules = bundled_rules();
    let scanned = scan(
        &[PathBuf::from(
            "fixtures/terraform/cases/variable_without_default",
        )],
        &Options::default(),
    );
    let judged = judge(&rules, &scanned.records, Date::parse("2026-03-01").unwrap());
    let f = judged
        .findings
        .iter()
        .find(|f| f.outcome == FindingOutcome::Unresolved)
        .expect("an unresolved finding");
    let text = &f.primary.file.text[f.primary.span.clone()];
    assert!(
        text.starts_with("var."),
        "label should be on the variable reference, got `{text}`"
    );
    assert!(
        f.primary_label.contains("no default"),
        "{}",
        f.primary_label
    );
}

#[test]
fn scanning_one_file_keeps_the_variables_of_its_siblings() {
    // Only findings from the named file are kept, but its module is evaluated
    // whole, so values from variables.tf and terraform.tfvars still apply.
    let rules = bundled_rules();
    let case = PathBuf::from("fixtures/terraform/cases/tfvars_override");
    let scanned = scan(&[case.join("main.tf")], &Options::default());
    let judged = judge(&rules, &scanned.records, Date::parse("2026-03-01").unwrap());
    let addresses: Vec<&str> = judged.findings.iter().map(|f| f.address.as_str()).collect();
    assert_eq!(addresses, ["azurerm_storage_account.records"]);
    assert!(
        scanned
            .records
            .iter()
            .all(|r| r.origin.file.name.ends_with("main.tf"))
    );
}

#[test]
fn a_missing_path_is_reported_not_fatal() {
    let scanned = scan(
        &[
            PathBuf::from("fixtures/terraform/does-not-exist"),
            PathBuf::from("fixtures/terraform/cases/stateless_api_on_aws"),
        ],
        &Options::default(),
    );
    assert_eq!(scanned.malformed.len(), 1);
    assert!(!scanned.records.is_empty());
}

#[test]
fn var_files_override_tfvars() {
    let dir = tempfile::tempdir().unwrap();
    let var_file = dir.path().join("us.tfvars");
    std::fs::write(&var_file, "location = \"eastus2\"\n").unwrap();
    let case = PathBuf::from("fixtures/terraform/cases/tfvars_override");
    let rules = bundled_rules();
    let scanned = scan(
        &[case],
        &Options {
            var_files: vec![var_file],
            ..Options::default()
        },
    );
    let judged = judge(&rules, &scanned.records, Date::parse("2026-03-01").unwrap());
    assert!(
        judged.findings.is_empty(),
        "{:?}",
        judged
            .findings
            .iter()
            .map(|f| &f.message)
            .collect::<Vec<_>>()
    );
}

#[test]
fn rendered_findings_of_every_case() {
    let rules = bundled_rules();
    insta::glob!("../fixtures/terraform/cases", "*/main.tf", |path| {
        let case = path.parent().unwrap();
        let rel = case
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .to_path_buf();
        let main = std::fs::read_to_string(path).unwrap();
        let as_of = Date::parse(&header_values(&main, "as-of:")[0]).unwrap();
        let scanned = scan(&[rel], &Options::default());
        let judged = judge(&rules, &scanned.records, as_of);
        let mut diags = scanned.malformed.clone();
        diags.extend(judged.findings.iter().map(Finding::to_diag));
        let rendered = common::render_all(&diags);
        insta::assert_snapshot!(if rendered.is_empty() {
            "(no findings)".to_string()
        } else {
            rendered
        });
    });
}

/// A directory whose `.tf` files are links (as some repositories share a
/// `providers.tf`) is a module: Terraform reads links, and so does proviso.
#[cfg(unix)]
#[test]
fn linked_tf_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    let module = dir.path().join("module");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(
        shared.join("main.tf"),
        "resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"logs\"\n}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(shared.join("main.tf"), module.join("main.tf")).unwrap();
    let scanned = scan(std::slice::from_ref(&module), &Options::default());
    let addresses: Vec<&str> = scanned.records.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(addresses, ["aws_s3_bucket.logs"]);
    assert_eq!(scanned.files, 1);
}

/// Values that grow without bound are not built: a list doubled by 25
/// locals (33 million elements) and a `for` nested over a 3,000-character
/// string (9 million) are unknown with the reason, in bounded memory.
#[test]
fn values_that_grow_without_bound_are_unknown_not_gigabytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut locals = vec!["locals {".to_string(), "  l0 = [\"x\"]".to_string()];
    for i in 1..=25 {
        locals.push(format!(
            "  l{i} = concat(local.l{}, local.l{})",
            i - 1,
            i - 1
        ));
    }
    locals.push(format!("  s = \"{}\"", "x".repeat(3000)));
    locals.push(
        "  p = [for a in split(\"\", local.s) : [for b in split(\"\", local.s) : \"${a}${b}\"]]"
            .into(),
    );
    locals.push("}".into());
    let text = format!(
        "{}\nresource \"aws_s3_bucket\" \"b\" {{\n  bucket = \"b\"\n  tags = {{ doubled = length(local.l25), nested = length(local.p) }}\n}}\n",
        locals.join("\n")
    );
    std::fs::write(dir.path().join("main.tf"), text).unwrap();
    let scanned = scan(&[dir.path().to_path_buf()], &Options::default());
    let tags = &scanned.records[0].fields["tags"];
    let proviso::value::Value::Map(tags) = tags else {
        panic!("{tags:?}")
    };
    for key in ["doubled", "nested"] {
        let proviso::value::Value::Unknown(u) = &tags[key] else {
            panic!("{key}: {:?}", tags[key])
        };
        assert!(
            u.reason.contains("more than 1000000 elements"),
            "{key}: {}",
            u.reason
        );
    }
}

/// Large modules drop their resource bodies after parsing and parse each
/// block again when it is evaluated. Run through that path, every fixture
/// gives the same records, with the same values at the same lines and
/// columns, as with the parse trees kept.
#[test]
fn reparsed_resource_bodies_give_the_records_of_kept_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/terraform");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs.push(root.join("platform"));
    let show = |o: &proviso::source::Origin| {
        let (line, col) = o.line_col();
        format!("{}:{line}:{col}+{}", o.file.name, o.span.len())
    };
    let describe = |options: &Options, dir: &PathBuf| -> Vec<String> {
        let scanned = scan(std::slice::from_ref(dir), options);
        let mut out: Vec<String> = scanned
            .records
            .iter()
            .map(|r| {
                let origins: Vec<String> = r
                    .origins
                    .iter()
                    .map(|(k, o)| format!("{}@{}", k.join("."), show(o)))
                    .collect();
                format!(
                    "{} {} {:?} {:?} {}",
                    r.address,
                    show(&r.origin),
                    r.fields,
                    origins,
                    r.instances
                )
            })
            .collect();
        out.extend(
            scanned
                .malformed
                .iter()
                .chain(&scanned.notes)
                .map(|d| common::render_all(std::slice::from_ref(d))),
        );
        out
    };
    let mut records = 0;
    for dir in &dirs {
        let kept = describe(&Options::default(), dir);
        let reparsed = describe(
            &Options {
                detach_above: Some(0),
                ..Options::default()
            },
            dir,
        );
        assert_eq!(reparsed, kept, "{}", dir.display());
        records += kept.len();
    }
    assert!(
        records > 100,
        "the fixtures give {records} records and diagnostics"
    );
}

/// Two directories that call each other, and nothing else calls: one of
/// them is read as the root, and always the same one (the first by path),
/// so addresses do not change from run to run.
#[test]
fn a_cycle_of_module_calls_has_the_same_root_on_every_run() {
    let dir = tempfile::tempdir().unwrap();
    for (name, other) in [("a", "b"), ("b", "a")] {
        let d = dir.path().join(name);
        std::fs::create_dir(&d).unwrap();
        std::fs::write(
            d.join("main.tf"),
            format!(
                "module \"{other}\" {{\n  source = \"../{other}\"\n}}\nresource \"aws_s3_bucket\" \"{name}\" {{\n  bucket = \"{name}\"\n}}\n"
            ),
        )
        .unwrap();
    }
    let addresses = || -> Vec<String> {
        let scanned = scan(&[dir.path().to_path_buf()], &Options::default());
        let mut a: Vec<String> = scanned.records.iter().map(|r| r.address.clone()).collect();
        a.sort();
        a
    };
    let first = addresses();
    assert!(
        first.iter().any(|a| a == "aws_s3_bucket.a"),
        "`a` is the root: {first:?}"
    );
    for _ in 0..20 {
        assert_eq!(addresses(), first);
    }
}
