//! The command line through the real binary: every order a user types
//! flags and paths in gives the same run; nothing judged is never a pass;
//! hostile flags and side inputs end in a located, clear error and exit 2,
//! in bounded time and memory (issue #12).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{Output, proviso};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const PLATFORM: &str = "fixtures/terraform/platform";
const WAIVED: &str = "fixtures/terraform/waivers/waived_block";
const GATEWAY: &str = "fixtures/logs/exports/gateway.jsonl";
const ALB: &str = "fixtures/logs/exports/alb.log.gz";

/// A directory with the bundled rules in `rules/`, for runs whose messages
/// name files by relative paths.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::copy(
        "rules/microsoft-openai.proviso",
        dir.path().join("rules/microsoft-openai.proviso"),
    )
    .unwrap();
    dir
}

fn repo(p: &str) -> String {
    std::fs::canonicalize(p).unwrap().display().to_string()
}

// ---- Flags in any order ----------------------------------------------------

#[test]
fn check_reads_the_same_with_rules_before_between_or_after_the_paths() {
    let reference = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
    ])
    .run();
    assert_eq!(reference.code, 1, "{}", reference.stderr);
    assert!(
        reference
            .summary()
            .contains("13 files, 3 module instances, 44 records"),
        "{}",
        reference.summary()
    );
    for args in [
        // The order of issue #12: `--rules DIR PATH` used to swallow PATH.
        vec![
            "check",
            "--rules",
            "rules",
            PLATFORM,
            "--as-of",
            "2026-03-01",
        ],
        vec![
            "check",
            "--as-of",
            "2026-03-01",
            "--rules",
            "rules",
            PLATFORM,
        ],
        vec!["check", "-r", "rules", PLATFORM, "--as-of=2026-03-01"],
        vec!["check", "--rules=rules", "--as-of", "2026-03-01", PLATFORM],
        vec!["check", "--as-of", "2026-03-01", PLATFORM, "-r", "rules"],
    ] {
        let run = proviso(&args).run();
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, reference.stdout, "{args:?}");
    }
}

#[test]
fn check_takes_paths_on_both_sides_of_the_rules() {
    let both = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        "rules",
        WAIVED,
        "--as-of",
        "2026-03-01",
    ])
    .run();
    let one = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
    ])
    .run();
    let other = proviso(&["check", WAIVED, "--rules", "rules", "--as-of", "2026-03-01"]).run();
    // `…; 13 files, 3 module instances, …` or `…; 1 file, …`.
    let files = |r: &Output| -> usize {
        let s = r.summary();
        let i = s.find(" file").unwrap();
        s[..i].rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(
        files(&both),
        files(&one) + files(&other),
        "{}",
        both.summary()
    );
}

#[test]
fn rules_are_repeated_or_separated_by_commas() {
    let dir = workdir();
    std::fs::write(
        dir.path().join("extra.proviso"),
        "agreement extra \"Extra\"\n\nsource memo \"Memo\" dated 2026-01-01\n\n\
         terms extra_terms \"Extra terms\" effective 2026-01-01 {\n  clause no_google \"Nothing on Google Cloud\" {\n    \
         cite memo \"nothing runs on Google Cloud\"\n    severity info\n    require cloud != \"google\"\n  }\n}\n",
    )
    .unwrap();
    let platform = repo(PLATFORM);
    let d = dir.path();
    let single = proviso(&[
        "check",
        &platform,
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
    ])
    .current_dir(d)
    .run();
    assert!(
        single.summary().contains("6 clauses in force"),
        "{}",
        single.summary()
    );
    for args in [
        vec![
            "check",
            &platform,
            "--rules",
            "rules,extra.proviso",
            "--as-of",
            "2026-03-01",
        ],
        vec![
            "check",
            "--rules",
            "rules",
            "--rules",
            "extra.proviso",
            &platform,
            "--as-of",
            "2026-03-01",
        ],
        vec![
            "check",
            "-r",
            "extra.proviso",
            &platform,
            "-r",
            "rules",
            "--as-of",
            "2026-03-01",
        ],
    ] {
        let run = proviso(&args).current_dir(d).run();
        assert!(
            run.summary().contains("7 clauses in force"),
            "{args:?}: {}\n{}",
            run.summary(),
            run.stderr
        );
    }
}

#[test]
fn audit_reads_the_same_with_flags_before_between_or_after_the_logs() {
    let reference = proviso(&[
        "audit",
        GATEWAY,
        ALB,
        "--rules",
        "rules",
        "--ip-ranges",
        "fixtures/ip-ranges",
    ])
    .run();
    assert_eq!(reference.code, 1, "{}", reference.stderr);
    let gateway = proviso(&["audit", GATEWAY, "--rules", "rules"]).run();
    let alb = proviso(&["audit", ALB, "--rules", "rules"]).run();
    let records = |r: &Output| -> u64 {
        let s = r.summary();
        s["proviso audit: ".len()..s.find(" records").unwrap()]
            .parse()
            .unwrap()
    };
    assert_eq!(records(&reference), records(&gateway) + records(&alb));
    let aws = "fixtures/ip-ranges/aws-ip-ranges.json";
    let azure = "fixtures/ip-ranges/azure-service-tags.json";
    let google = "fixtures/ip-ranges/google-cloud.json";
    let all = format!("{aws},{azure},{google}");
    for args in [
        // The usage line's own order: `--rules` then the logs.
        vec![
            "audit",
            "--rules",
            "rules",
            "--ip-ranges",
            "fixtures/ip-ranges",
            GATEWAY,
            ALB,
        ],
        vec![
            "audit",
            "--ip-ranges",
            "fixtures/ip-ranges",
            GATEWAY,
            "--rules",
            "rules",
            ALB,
        ],
        vec!["audit", "-r", "rules", GATEWAY, "--ip-ranges", &all, ALB],
        vec![
            "audit",
            "--ip-ranges",
            aws,
            "--ip-ranges",
            azure,
            "--rules=rules",
            GATEWAY,
            ALB,
            "--ip-ranges",
            google,
        ],
    ] {
        let run = proviso(&args).run();
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, reference.stdout, "{args:?}");
    }
}

#[test]
fn audit_reads_standard_input_after_the_flags() {
    let log = std::fs::read(GATEWAY).unwrap();
    let from_file = proviso(&["audit", GATEWAY, "--rules", "rules"]).run();
    for args in [
        vec!["audit", "--rules", "rules"],
        vec!["audit", "--rules", "rules", "-"],
    ] {
        let run = proviso(&args).stdin(&log).run();
        assert_eq!(run.code, from_file.code, "{}", run.stderr);
        assert_eq!(run.summary(), from_file.summary());
    }
}

// ---- Nothing judged is not a pass --------------------------------------------

#[test]
fn a_directory_without_terraform_is_an_error() {
    let dir = workdir();
    std::fs::create_dir(dir.path().join("infra")).unwrap();
    std::fs::write(dir.path().join("infra/README.md"), "no terraform here\n").unwrap();
    let run = proviso(&["check", "infra", "--rules", "rules"])
        .current_dir(dir.path())
        .run();
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn a_rule_directory_given_as_a_path_says_how_to_pass_it() {
    // `--rules a b infra`, the old habit: `b` is now a path.
    let dir = workdir();
    let platform = repo(PLATFORM);
    let run = proviso(&[
        "check",
        "--rules",
        "rules",
        "rules",
        &platform,
        "--as-of",
        "2026-03-01",
    ])
    .current_dir(dir.path())
    .run();
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn a_date_with_no_clause_in_force_is_an_error() {
    let run = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        "rules",
        "--as-of",
        "2020-01-01",
    ])
    .run();
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn everything_excluded_is_nothing_checked() {
    let run = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--exclude",
        "*.tf",
    ])
    .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("proviso::check::nothing_checked")
            || run.stderr.contains("proviso::check::no_terraform"),
        "{}",
        run.stderr
    );
}

#[test]
fn empty_standard_input_is_an_error() {
    let run = proviso(&["audit", "--rules", "rules"]).stdin(b"").run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("proviso::audit::nothing_judged"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("standard input was empty"),
        "{}",
        run.stderr
    );
    let empty_file = proviso(&["audit", "--rules", "rules", "/dev/null"]).run();
    assert_eq!(empty_file.code, 2, "{}", empty_file.stderr);
}

#[test]
fn an_export_whose_timestamp_field_is_not_recognised_says_how_to_map_it() {
    let dir = workdir();
    std::fs::write(
        dir.path().join("gateway.jsonl"),
        "{\"request_time_utc\":\"2026-03-01T10:00:00Z\",\"host\":\"api.openai.com\",\"cloud\":\"aws\"}\n\
         {\"request_time_utc\":\"2026-03-01T10:00:01Z\",\"host\":\"api.openai.com\",\"cloud\":\"aws\"}\n",
    )
    .unwrap();
    let d = dir.path();
    let run = proviso(&["audit", "--rules", "rules", "gateway.jsonl"])
        .current_dir(d)
        .run();
    assert_eq!(run.code, 2);
    // Not a snapshot: the list of names looked for belongs to the JSON
    // reader and grows with it.
    for part in [
        "proviso::audit::no_timestamp",
        "no record of `gateway.jsonl` has a timestamp field proviso recognises (it looks for",
        "`timestamp`, `time`,",
        "all 2",
        "records are outside the terms",
        "help: map the field that holds each record's time: `--field timestamp=request_time_utc`",
    ] {
        assert!(run.stderr.contains(part), "{part}: {}", run.stderr);
    }
    assert!(
        run.summary()
            .contains("2 outside the terms (2 without a timestamp)")
    );
    // The help's own flag works.
    let mapped = proviso(&[
        "audit",
        "--rules",
        "rules",
        "gateway.jsonl",
        "--field",
        "timestamp=request_time_utc",
    ])
    .current_dir(d)
    .run();
    assert_eq!(mapped.code, 0, "{}", mapped.stderr);
    assert!(
        mapped.summary().contains("0 outside the terms"),
        "{}",
        mapped.summary()
    );
    // A mapping to a field the export lacks says so.
    let wrong = proviso(&[
        "audit",
        "--rules",
        "rules",
        "gateway.jsonl",
        "--field",
        "timestamp=requestTime",
    ])
    .current_dir(d)
    .run();
    assert_eq!(wrong.code, 2);
    assert!(
        wrong.stderr.contains("has the field `requestTime`"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn one_input_with_nothing_judged_fails_the_run_beside_a_good_one() {
    let dir = workdir();
    std::fs::write(
        dir.path().join("old.jsonl"),
        "{\"timestamp\":\"2019-03-01T10:00:00Z\",\"host\":\"api.openai.com\",\"cloud\":\"aws\"}\n",
    )
    .unwrap();
    let gateway = repo(GATEWAY);
    let run = proviso(&["audit", "old.jsonl", &gateway, "--rules", "rules"])
        .current_dir(dir.path())
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("proviso::audit::outside_terms"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "no record of `old.jsonl` could be judged: 1 is dated on a day no terms are in force"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_report_written_only_to_files_still_prints_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("proviso.sarif");
    let spec = format!("sarif={}", sarif.display());
    let run = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--format",
        &spec,
    ])
    .run();
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .starts_with("proviso check as of 2026-03-01: 6 clauses in force; 13 files"),
        "{}",
        run.stderr
    );
    assert!(
        std::fs::read_to_string(&sarif)
            .unwrap()
            .contains("\"version\": \"2.1.0\"")
    );

    let out = dir.path().join("audit.json");
    let run = proviso(&[
        "audit",
        GATEWAY,
        "--rules",
        "rules",
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ])
    .run();
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.starts_with("proviso audit: ") && run.stderr.contains(" judged + "),
        "{}",
        run.stderr
    );
}

// ---- Hostile command lines ---------------------------------------------------

#[test]
fn thread_counts_beyond_the_cap_are_refused() {
    for n in ["4000000000", "100000", "65", "0", "many"] {
        let run = proviso(&["audit", GATEWAY, "--rules", "rules", "--threads", n]).run();
        assert_eq!(run.code, 2, "{n}: {}", run.stderr);
        assert!(run.stderr.contains("--threads"), "{n}: {}", run.stderr);
        assert!(run.stderr.contains("from 1 to 64"), "{n}: {}", run.stderr);
        assert!(run.took < Duration::from_secs(10));
    }
    let most = proviso(&["audit", GATEWAY, "--rules", "rules", "--threads", "64"]).run();
    assert_eq!(most.code, 1, "{}", most.stderr);
}

#[test]
fn a_full_standard_output_is_reported() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // not Linux
    };
    let out = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
    ])
    .stdout_to(full)
    .run();
    let stderr = out.stderr;
    assert_eq!(out.code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot write standard output: No space left on device"),
        "{stderr}"
    );
}

#[test]
fn a_full_findings_file_is_reported() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let run = proviso(&[
        "audit",
        GATEWAY,
        "--rules",
        "rules",
        "--findings",
        "/dev/full",
    ])
    .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("cannot write `/dev/full`: No space left on device"),
        "{}",
        run.stderr
    );
    // The report itself was still written.
    assert!(
        run.summary().starts_with("proviso audit: ") && run.summary().contains(" judged + "),
        "{}",
        run.stdout
    );
}

#[test]
fn two_formats_naming_one_file_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = proviso(&[
        "check",
        &repo(PLATFORM),
        "--rules",
        &repo("rules"),
        "--format",
        "sarif=out.txt",
        "--format",
        "json=./out.txt",
    ])
    .current_dir(dir.path())
    .run();
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.snapshot());
    assert!(!dir.path().join("out.txt").exists(), "nothing is written");
}

#[test]
fn an_output_onto_an_input_is_refused_and_the_input_kept() {
    let dir = workdir();
    let d = dir.path();
    std::fs::create_dir(d.join("infra")).unwrap();
    let tf = "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n";
    std::fs::write(d.join("infra/main.tf"), tf).unwrap();
    std::fs::write(d.join("access.jsonl"), std::fs::read(GATEWAY).unwrap()).unwrap();
    let rule = std::fs::read_to_string(d.join("rules/microsoft-openai.proviso")).unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "explain",
                "rules",
                "--output",
                "rules/microsoft-openai.proviso",
            ],
            "rules/microsoft-openai.proviso",
        ),
        (
            &[
                "check",
                "infra",
                "--rules",
                "rules",
                "--output",
                "infra/main.tf",
            ],
            "infra/main.tf",
        ),
        (
            &[
                "check",
                "infra",
                "--rules",
                "rules",
                "--format",
                "sarif=infra/main.tf",
            ],
            "infra/main.tf",
        ),
        (
            &[
                "check",
                "infra",
                "--rules",
                "rules",
                "--output",
                "rules/microsoft-openai.proviso",
            ],
            "rules/microsoft-openai.proviso",
        ),
        (
            &[
                "audit",
                "access.jsonl",
                "--rules",
                "rules",
                "--output",
                "access.jsonl",
            ],
            "access.jsonl",
        ),
        (
            &[
                "audit",
                "access.jsonl",
                "--rules",
                "rules",
                "--findings",
                "access.jsonl",
            ],
            "access.jsonl",
        ),
    ];
    for (args, victim) in cases {
        let run = proviso(args).current_dir(d).run();
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("proviso::cli::output_is_input"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!("would overwrite `{victim}`")),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(
        std::fs::read_to_string(d.join("infra/main.tf")).unwrap(),
        tf
    );
    assert_eq!(
        std::fs::read_to_string(d.join("rules/microsoft-openai.proviso")).unwrap(),
        rule
    );
    assert_eq!(
        std::fs::read(d.join("access.jsonl")).unwrap(),
        std::fs::read(GATEWAY).unwrap()
    );
    let run = proviso(&[
        "audit",
        "access.jsonl",
        "--rules",
        "rules",
        "--output",
        "access.jsonl",
    ])
    .current_dir(d)
    .run();
    insta::assert_snapshot!(run.snapshot());
    // A hard link is the same file under another name.
    std::fs::hard_link(d.join("access.jsonl"), d.join("report.txt")).unwrap();
    let run = proviso(&[
        "audit",
        "access.jsonl",
        "--rules",
        "rules",
        "--output",
        "report.txt",
    ])
    .current_dir(d)
    .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("would overwrite `access.jsonl`"),
        "{}",
        run.stderr
    );
}

#[test]
fn side_inputs_are_capped() {
    let cases: [&[&str]; 4] = [
        &[
            "audit",
            GATEWAY,
            "--rules",
            "rules",
            "--ip-ranges",
            "/dev/zero",
        ],
        &[
            "check",
            PLATFORM,
            "--rules",
            "rules",
            "--var-file",
            "/dev/zero",
        ],
        &[
            "check",
            PLATFORM,
            "--rules",
            "rules",
            "--baseline",
            "/dev/zero",
        ],
        &[
            "check",
            PLATFORM,
            "--rules",
            "rules",
            "--config",
            "/dev/zero",
        ],
    ];
    for args in cases {
        let run = proviso(args).run();
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("`/dev/zero`"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("proviso::input::too_large")
                || run.stderr.contains("proviso::input::not_a_file"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.took < Duration::from_secs(20),
            "{args:?} took {:?}",
            run.took
        );
    }
    // A regular file over the cap, without reading it.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("ip-ranges.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    let run = proviso(&[
        "audit",
        GATEWAY,
        "--rules",
        "rules",
        "--ip-ranges",
        big.to_str().unwrap(),
    ])
    .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("is larger than the 64 MiB proviso reads for `--ip-ranges`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_deeply_nested_proviso_yaml_is_refused_quickly() {
    let dir = workdir();
    let deep = format!(
        "rules: {}rules{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    std::fs::write(dir.path().join("proviso.yaml"), deep).unwrap();
    let run = proviso(&["check", &repo(PLATFORM)])
        .current_dir(dir.path())
        .finding_config()
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("proviso::config::too_deep"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("proviso.yaml:1:1"), "{}", run.stderr);
    assert!(run.took < Duration::from_secs(10), "took {:?}", run.took);
}

#[cfg(unix)]
#[test]
fn a_linked_rule_file_is_followed_and_a_link_loop_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(rules.join("sub")).unwrap();
    std::os::unix::fs::symlink(
        repo("rules/microsoft-openai.proviso"),
        rules.join("linked.proviso"),
    )
    .unwrap();
    let run = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        rules.to_str().unwrap(),
        "--as-of",
        "2026-03-01",
    ])
    .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.summary().contains("6 clauses in force"),
        "{}",
        run.summary()
    );

    // A link to a directory also walked reads its files once, like a path
    // named twice.
    std::fs::create_dir(rules.join("v2")).unwrap();
    std::fs::rename(
        rules.join("linked.proviso"),
        rules.join("v2/linked.proviso"),
    )
    .unwrap();
    std::os::unix::fs::symlink("v2", rules.join("current")).unwrap();
    let run = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        rules.to_str().unwrap(),
        "--rules",
        rules.join("v2/linked.proviso").to_str().unwrap(),
        "--as-of",
        "2026-03-01",
    ])
    .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.summary().contains("6 clauses in force"),
        "{}",
        run.summary()
    );

    std::os::unix::fs::symlink("..", rules.join("sub/loop")).unwrap();
    let d = dir.path();
    let run = proviso(&["check", &repo(PLATFORM), "--rules", "rules"])
        .current_dir(d)
        .run();
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.snapshot());
    std::fs::remove_file(rules.join("sub/loop")).unwrap();

    std::os::unix::fs::symlink("nowhere.proviso", rules.join("dangling.proviso")).unwrap();
    let run = proviso(&["lint", "rules"]).current_dir(d).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.contains("the link leads nowhere"),
        "{:?}",
        run.stdout
    );
}

// ---- Smaller mistakes ----------------------------------------------------------

#[test]
fn a_bad_git_ref_names_the_repository() {
    let run = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        "rules",
        "--changed-since",
        "no-such-ref-anywhere",
    ])
    .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let top = String::from_utf8(
        Command::new("git")
            .args(["rev-parse", "--show-toplevel"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let expected = format!(
        "`no-such-ref-anywhere` is not a commit in the git repository at `{}`",
        top.trim()
    );
    // The message may wrap at 100 columns: compare without line breaks.
    let flat = run.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    let flat = flat.replace(" │ ", " ");
    assert!(
        flat.contains(&expected.split_whitespace().collect::<Vec<_>>().join(" ")),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("``"), "{}", run.stderr);
}

#[test]
fn explain_refuses_a_reversed_range() {
    let run = proviso(&["explain", "rules", "--between", "2026-04-28", "2026-04-26"]).run();
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    insta::assert_snapshot!(run.snapshot());
    let forward = proviso(&["explain", "rules", "--between", "2026-04-26", "2026-04-28"]).run();
    assert_eq!(forward.code, 0, "{}", forward.stderr);
}

#[test]
fn every_mistake_of_a_waiver_comment_is_shown() {
    let dir = workdir();
    std::fs::create_dir(dir.path().join("infra")).unwrap();
    std::fs::write(
        dir.path().join("infra/main.tf"),
        "# proviso:waive stateless_on_azur reson=\"moving\" until=2026-13-01\nresource \"aws_ecs_service\" \"api\" {\n  name = \"api\"\n}\n",
    )
    .unwrap();
    let run = proviso(&[
        "check",
        "infra",
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
    ])
    .current_dir(dir.path())
    .run();
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn the_readme_shows_the_accounting_line_of_its_two_file_example() {
    let run = proviso(&[
        "audit",
        "fixtures/logs/exports/alb.log.gz",
        "fixtures/logs/exports/frontdoor-PT1H.json",
        "--rules",
        "rules",
        "--ip-ranges",
        "fixtures/ip-ranges",
    ])
    .run();
    assert!(run.code < 2, "{}", run.stderr);
    let readme = std::fs::read_to_string("README.md").unwrap();
    assert!(
        readme.contains(&format!("  {}\n", run.summary())),
        "README.md should show: {}",
        run.summary()
    );
}

#[test]
fn every_command_reports_a_full_standard_output() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let dir = workdir();
    std::fs::write(
        dir.path().join("rules/messy.proviso"),
        std::fs::read_to_string("rules/microsoft-openai.proviso")
            .unwrap()
            .replace("  clause", "      clause"),
    )
    .unwrap();
    let cases: [&[&str]; 6] = [
        &["lint", "rules"],
        &["test", "rules/microsoft-openai.proviso"],
        &["explain", "rules/microsoft-openai.proviso"],
        &["fmt", "--check", "rules"],
        &["audit", "--rules", "rules/microsoft-openai.proviso", "-"],
        &[
            "check",
            "infra",
            "--rules",
            "rules/microsoft-openai.proviso",
        ],
    ];
    std::fs::create_dir(dir.path().join("infra")).unwrap();
    std::fs::write(
        dir.path().join("infra/main.tf"),
        "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n",
    )
    .unwrap();
    let log = std::fs::read(GATEWAY).unwrap();
    for args in cases {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = proviso(args)
            .current_dir(dir.path())
            .stdin(&log)
            .stdout_to(full)
            .run();
        let stderr = out.stderr;
        assert_eq!(out.code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write standard output: No space left on device"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_file_that_is_not_terraform_is_refused_as_a_path() {
    // `--rules a b.proviso infra`: the second rule file is now a path.
    let run = proviso(&[
        "check",
        "--rules",
        "rules",
        "rules/microsoft-openai.proviso",
        PLATFORM,
    ])
    .run();
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn samples_beyond_the_cap_are_refused() {
    let run = proviso(&[
        "audit",
        GATEWAY,
        "--rules",
        "rules",
        "--samples",
        "5000000000",
    ])
    .run();
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("from 0 to 1000"), "{}", run.stderr);
    let most = proviso(&["audit", GATEWAY, "--rules", "rules", "--samples", "1000"]).run();
    assert_eq!(most.code, 1, "{}", most.stderr);
}

#[test]
fn a_ref_that_git_would_read_as_an_option_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("written-by-git");
    let flag = format!("--changed-since=--output={}", target.display());
    let run = proviso(&["check", PLATFORM, "--rules", "rules", &flag]).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("proviso::git::bad_ref"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("is not a git ref"), "{}", run.stderr);
    assert!(!target.exists());
}

#[test]
fn an_empty_input_beside_others_is_a_warning_and_all_malformed_is_nothing_judged() {
    let dir = workdir();
    std::fs::write(dir.path().join("empty.jsonl"), "").unwrap();
    std::fs::write(dir.path().join("bad.jsonl"), "{not json\n{\"also\": \n").unwrap();
    let gateway = repo(GATEWAY);
    let d = dir.path();
    let run = proviso(&["audit", "empty.jsonl", &gateway, "--rules", "rules"])
        .current_dir(d)
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("proviso::audit::empty_input"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`empty.jsonl` held no records"),
        "{}",
        run.stderr
    );
    let run = proviso(&[
        "audit",
        "bad.jsonl",
        "--rules",
        "rules",
        "--allow-malformed",
    ])
    .current_dir(d)
    .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("nothing was judged: none of the 2 records could be read (2 malformed)"),
        "{}",
        run.stderr
    );
}

#[test]
fn rule_commands_take_their_flags_on_either_side_of_the_rules() {
    let pairs: [(&[&str], &[&str]); 3] = [
        (
            &["explain", "--between", "2026-04-26", "2026-04-28", "rules"],
            &["explain", "rules", "--between", "2026-04-26", "2026-04-28"],
        ),
        (
            &["lint", "--deny", "warnings", "rules"],
            &["lint", "rules", "--deny", "warnings"],
        ),
        (&["fmt", "--check", "rules"], &["fmt", "rules", "--check"]),
    ];
    for (before, after) in pairs {
        let a = proviso(before).run();
        let b = proviso(after).run();
        assert_eq!(a.code, 0, "{before:?}: {}", a.stderr);
        assert_eq!((a.code, &a.stdout), (b.code, &b.stdout), "{after:?}");
    }
}

#[test]
fn rules_no_record_of_the_input_can_meet_are_nothing_judged() {
    let dir = workdir();
    let memo = "agreement a \"A\"\n\nsource memo \"Memo\" dated 2026-01-01\n\nterms t \"T\" effective 2026-01-01 {\n  clause c \"C\" {\n    cite memo \"m\"\n    severity error\n";
    std::fs::write(
        dir.path().join("logs-only.proviso"),
        format!(
            "{memo}    applies to host == \"api.openai.com\"\n    require status < 500\n  }}\n}}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("terraform-only.proviso"),
        format!(
            "{memo}    applies to kind == \"resource\"\n    require tags.owner != \"\"\n  }}\n}}\n"
        ),
    )
    .unwrap();
    let d = dir.path();
    let platform = repo(PLATFORM);
    let gateway = repo(GATEWAY);
    let check = proviso(&[
        "check",
        &platform,
        "--rules",
        "logs-only.proviso",
        "--as-of",
        "2026-03-01",
    ])
    .current_dir(d)
    .run();
    assert_eq!(check.code, 2, "{}", check.stderr);
    assert!(
        check.stderr.contains("proviso::check::nothing_checkable"),
        "{}",
        check.stderr
    );
    let audit = proviso(&["audit", &gateway, "--rules", "terraform-only.proviso"])
        .current_dir(d)
        .run();
    assert_eq!(audit.code, 2, "{}", audit.stderr);
    insta::assert_snapshot!(audit.snapshot());
    // Each on the input it is written for judges records.
    let check = proviso(&[
        "check",
        &platform,
        "--rules",
        "terraform-only.proviso",
        "--as-of",
        "2026-03-01",
    ])
    .current_dir(d)
    .run();
    assert!(check.code < 2, "{}", check.stderr);
    let audit = proviso(&["audit", &gateway, "--rules", "logs-only.proviso"])
        .current_dir(d)
        .run();
    assert!(audit.code < 2, "{}", audit.stderr);
}

#[test]
fn audit_with_a_terminal_for_standard_input_does_not_wait() {
    // `script` (util-linux) gives the command a terminal; skip without it.
    let Some(out) = proviso(&["audit", "--rules", "rules"]).run_in_terminal() else {
        return;
    };
    let text = out.stdout;
    if !text.contains("proviso") {
        return; // a `script` that does not work here
    }
    assert!(
        text.contains("no log files named, and standard input is a terminal"),
        "{text}"
    );
    assert_eq!(out.code, 2, "{text}");
}

#[cfg(unix)]
#[test]
fn readme_commands_marked_with_an_exit_code_exit_with_it() {
    // Run in order (the baseline is written, then read) in a directory
    // that links the repository's fixtures and rules, so nothing is
    // written into the repository.
    let dir = tempfile::tempdir().unwrap();
    for name in ["fixtures", "rules"] {
        std::os::unix::fs::symlink(repo(name), dir.path().join(name)).unwrap();
    }
    let readme = std::fs::read_to_string("README.md").unwrap();
    let mut ran = 0;
    for line in readme.lines().filter(|l| l.starts_with("proviso ")) {
        let Some((command, comment)) = line.split_once("# exit ") else {
            continue;
        };
        let expected: i32 = comment[..1].parse().unwrap();
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        let run = proviso(&args).current_dir(dir.path()).run();
        assert_eq!(run.code, expected, "{line}\n{}{}", run.stdout, run.stderr);
        ran += 1;
    }
    assert!(ran >= 5, "only {ran} commands found");
}

#[test]
fn terraform_without_resources_is_nothing_checked() {
    let dir = workdir();
    std::fs::create_dir(dir.path().join("vars")).unwrap();
    std::fs::write(
        dir.path().join("vars/variables.tf"),
        "variable \"x\" {\n  default = 1\n}\n",
    )
    .unwrap();
    let run = proviso(&["check", "vars", "--rules", "rules", "--as-of", "2026-03-01"])
        .current_dir(dir.path())
        .run();
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn the_pre_commit_hook_with_rules_in_its_args_checks_the_staged_files() {
    // pre-commit runs `entry` + `args` + the staged files: with
    // `args: [--rules, contracts/]` the files come right after the rules,
    // the order `num_args = 1..` used to swallow.
    let hooks = std::fs::read_to_string(".pre-commit-hooks.yaml").unwrap();
    assert!(hooks.contains("entry: proviso check\n"), "{hooks}");
    let main = format!("{PLATFORM}/main.tf");
    let aws = format!("{PLATFORM}/aws.tf");
    let run = proviso(&[
        "check",
        "--as-of",
        "2026-03-01",
        "--rules",
        "rules",
        &main,
        &aws,
    ])
    .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    // Only the named files' findings: fewer than the whole directory's.
    let whole = proviso(&[
        "check",
        "--as-of",
        "2026-03-01",
        "--rules",
        "rules",
        PLATFORM,
    ])
    .run();
    let findings = |r: &Output| r.stdout.matches("proviso::clause::").count();
    assert!(findings(&run) > 0, "{}", run.stdout);
    assert!(findings(&run) < findings(&whole), "{}", run.summary());
}

#[test]
fn a_device_given_as_rules_is_refused_by_every_command() {
    let cases: [&[&str]; 6] = [
        &["lint", "/dev/zero"],
        &["fmt", "/dev/zero"],
        &["test", "/dev/zero"],
        &["explain", "/dev/zero"],
        &["check", PLATFORM, "--rules", "/dev/zero"],
        &["audit", GATEWAY, "--rules", "/dev/zero"],
    ];
    for args in cases {
        let run = proviso(args).run();
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(
            all.contains("rule path `/dev/zero` is not a file or a directory"),
            "{args:?}: {all}"
        );
        assert!(
            run.took < Duration::from_secs(10),
            "{args:?} took {:?}",
            run.took
        );
    }
}
