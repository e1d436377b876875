//! The command line kept in the evidence, and the one `proviso verify`
//! runs again from it.
//!
//! The kept command line has every `--param` value replaced by
//! `<redacted>` (a parameter may be confidential; the evidence holds its
//! protected hash instead). To run the judgement again, `verify` takes
//! that line, strips what wrote somewhere (`--output`, `--format`,
//! `--findings`, `--evidence`, `--write-baseline`), the redacted
//! parameters and the date, and adds its own: the reports into a scratch
//! directory, the parameters the user supplies again, the recorded date.
//! Working on the words, not on parsed flags, keeps every other flag
//! (format of the logs, field mappings, exclusions, threads) exactly as it
//! was given.

/// What stands for a parameter's value in the kept command line.
pub const REDACTED: &str = "<redacted>";

/// `argv` with every `--param NAME=VALUE` written `--param NAME=<redacted>`.
pub fn redact(argv: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut value_next = false;
    for a in argv {
        if value_next {
            out.push(redact_pair(a));
            value_next = false;
        } else if a == "--param" {
            out.push(a.clone());
            value_next = true;
        } else if let Some(pair) = a.strip_prefix("--param=") {
            out.push(format!("--param={}", redact_pair(pair)));
        } else {
            out.push(a.clone());
        }
    }
    out
}

fn redact_pair(pair: &str) -> String {
    match pair.split_once('=') {
        Some((name, _)) => format!("{name}={REDACTED}"),
        None => REDACTED.to_string(),
    }
}

/// Flags (long, and short if any) that take a value and that `verify`
/// replaces.
const REPLACED: &[(&str, Option<char>)] = &[
    ("--output", Some('o')),
    ("--format", Some('f')),
    ("--findings", None),
    ("--evidence", None),
    ("--write-baseline", None),
    ("--param", None),
    ("--as-of", None),
];

/// `argv` without the flags `verify` replaces (and their values), nor
/// `--config FILE` / `--no-config` when `config_too`.
pub fn strip(argv: &[String], config_too: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip_next = false;
    let mut rest = false;
    for a in argv {
        if rest {
            out.push(a.clone());
            continue;
        }
        if skip_next {
            skip_next = false;
            continue;
        }
        if a == "--" {
            rest = true;
            out.push(a.clone());
            continue;
        }
        let mut valued: Vec<(&str, Option<char>)> = REPLACED.to_vec();
        if config_too {
            valued.push(("--config", None));
            if a == "--no-config" {
                continue;
            }
        }
        let mut dropped = false;
        for (long, short) in &valued {
            if a == long {
                skip_next = true;
                dropped = true;
            } else if a.starts_with(&format!("{long}=")) {
                dropped = true;
            } else if let Some(c) = short
                && !a.starts_with("--")
                && a.starts_with(&format!("-{c}"))
            {
                // `-o FILE`, `-oFILE`, `-o=FILE`.
                skip_next = a.len() == 2;
                dropped = true;
            }
            if dropped {
                break;
            }
        }
        if !dropped {
            out.push(a.clone());
        }
    }
    out
}

/// Whether `argv` gives `flag` (alone or as `flag=…`).
pub fn has(argv: &[String], flag: &str) -> bool {
    argv.iter()
        .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parameter_values_are_redacted_in_both_spellings() {
        assert_eq!(
            redact(&v(
                "proviso audit x.log --param cap=1250000 --param=other=7 -r rules"
            )),
            v("proviso audit x.log --param cap=<redacted> --param=other=<redacted> -r rules")
        );
    }

    #[test]
    fn outputs_parameters_and_the_date_are_stripped() {
        assert_eq!(
            strip(
                &v(
                    "check infra -r rules --format json=out.json -f sarif=x.sarif -ohuman.txt --as-of 2026-01-01 --param a=<redacted> --evidence e.json --exclude x --findings=f.jsonl --threads 2"
                ),
                false
            ),
            v("check infra -r rules --exclude x --threads 2")
        );
        assert_eq!(
            strip(
                &v("audit a.log --config p.yaml --no-config -o r.json"),
                true
            ),
            v("audit a.log")
        );
        assert_eq!(
            strip(&v("audit a.log --config p.yaml"), false),
            v("audit a.log --config p.yaml")
        );
    }

    #[test]
    fn what_follows_a_double_dash_is_kept() {
        assert_eq!(strip(&v("audit -r r -- -o"), false), v("audit -r r -- -o"));
    }
}
