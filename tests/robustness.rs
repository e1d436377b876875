//! No input makes proviso panic: rule files and Terraform files mutated at
//! random (a deterministic generator, so failures reproduce) still give
//! diagnostics, never a crash. A `cargo fuzz` target would search further;
//! this keeps the guarantee in the ordinary test run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use proviso::source::SourceFile;

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "\"",
    "=",
    "==",
    "not",
    "in",
    "//",
    "/*",
    "${",
    "%{",
    "[",
    "]",
    ",",
    ":",
    "\n",
    "2026-02-30",
    "10.0.0.0/99",
    "~ /(/",
    "é",
    "\u{0}",
    "until",
    "clause",
    "terms",
    "var.",
    "local.",
    "module.x.y",
    "count",
    "for_each = var.z",
    "each.key",
    "*",
    "..",
    "<<EOT\n",
    "-",
    "9999999999999999999999",
];

fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(3) {
            0 if !bytes.is_empty() => {
                let end = (at + 1 + rng.below(20)).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            1 => {
                let tok = TOKENS[rng.below(TOKENS.len())];
                bytes.splice(at..at, tok.bytes());
            }
            _ => {
                let from = rng.below(bytes.len());
                let len = rng.below(40).min(bytes.len() - from);
                let chunk: Vec<u8> = bytes[from..from + len].to_vec();
                bytes.splice(at..at, chunk);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn mutated_rule_files_never_panic() {
    let base = std::fs::read_to_string("rules/microsoft-openai.proviso").unwrap();
    let mut rng = Rng(0x5EED_1234);
    for _ in 0..400 {
        let text = mutate(&base, &mut rng);
        if let Ok(rules) = proviso::rules::build(vec![SourceFile::new("mutant.proviso", text)]) {
            let _ = proviso::rules::examples::run(&rules);
        }
    }
}

/// Everything a rule file goes through, on any text: format, load, lint,
/// render, the examples and explain. Returns whether it loaded; a file
/// that did not gave at least one located error.
fn every_rule_pass(name: &str, text: &str) -> bool {
    let file = SourceFile::new(name, text);
    let _ = proviso::rules::format::format(&file);
    load_lint_render(file)
}

/// Load, lint, render, the examples and explain (no formatting).
fn load_lint_render(file: std::sync::Arc<SourceFile>) -> bool {
    let name = file.name.clone();
    match proviso::rules::build(vec![file]) {
        Ok(rules) => {
            for d in proviso::rules::lint::lint(&rules) {
                let _ = proviso::diag::render(&d, true, 100);
            }
            let _ = proviso::rules::examples::run(&rules);
            let _ = proviso::explain::explain(
                &rules,
                None,
                None,
                proviso::explain::english::Markup::Plain,
            );
            true
        }
        Err(e) => {
            assert!(
                e.errors
                    .iter()
                    .any(|d| d.file.is_some() && !d.labels.is_empty()),
                "{name}: an error without a location"
            );
            for d in e.errors.iter().chain(e.warnings.iter()) {
                assert!(!proviso::diag::render(d, true, 100).is_empty());
            }
            false
        }
    }
}

/// The bundled rule file cut short at every 7th byte (on a character
/// boundary): a diagnostic or a rule set, never a panic.
#[test]
fn every_truncation_of_the_bundled_rules_is_handled() {
    let base = std::fs::read_to_string("rules/microsoft-openai.proviso").unwrap();
    let cuts: Vec<usize> = (0..base.len())
        .step_by(7)
        .map(|mut end| {
            while !base.is_char_boundary(end) {
                end -= 1;
            }
            end
        })
        .collect();
    // Independent cases: spread over the cores.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let loaded: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (base, cuts) = (&base, &cuts);
                s.spawn(move || {
                    cuts.iter()
                        .skip(w)
                        .step_by(workers)
                        .map(|&end| {
                            usize::from(load_lint_render(SourceFile::new(
                                "cut.proviso",
                                &base[..end],
                            )))
                        })
                        .sum::<usize>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    // Cuts inside the header comments and between items load.
    assert!(loaded > 0);
    assert!(every_rule_pass("whole.proviso", &base));
}

/// Random bytes, brackets and keywords piled deep, and very long lines:
/// each gives a diagnostic or a rule set.
#[test]
fn generated_hostile_rule_files_are_handled() {
    let mut rng = Rng(0xDEAD_BEEF);
    let base = std::fs::read_to_string("rules/microsoft-openai.proviso").unwrap();
    for i in 0..60 {
        let len = 1 + rng.below(400);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        every_rule_pass("random.proviso", &String::from_utf8_lossy(&bytes));
        // A run of one token, deep enough to pass any nesting limit.
        let tok = ["(", "not ", "{", "[", "{ a: ", "not (", "((not "][i % 7];
        let deep = format!(
            "terms t effective 2026-01-01 {{ clause c {{ require {} cloud }} }}",
            tok.repeat(300 + rng.below(3000))
        );
        assert!(!every_rule_pass("deep.proviso", &deep));
        // The bundled file with a 70,000-byte line inserted somewhere.
        let at = rng.below(base.len());
        let mut at = at;
        while !base.is_char_boundary(at) {
            at -= 1;
        }
        let filler = ["x", " ", "(", "\"", "not "][i % 5].repeat(70_000 / 4);
        let long = format!("{}{filler}{}", &base[..at], &base[at..]);
        every_rule_pass("long.proviso", &long);
    }
}

#[test]
fn mutated_terraform_never_panics() {
    let rules = proviso::rules::load(&["rules".into()]).unwrap();
    let sources = [
        "fixtures/terraform/platform/main.tf",
        "fixtures/terraform/platform/locals.tf",
        "fixtures/terraform/platform/modules/openai_service/main.tf",
    ];
    let mut rng = Rng(0xC0FF_EE00);
    for i in 0..150 {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::read_to_string(sources[i % sources.len()]).unwrap();
        std::fs::write(dir.path().join("main.tf"), mutate(&base, &mut rng)).unwrap();
        std::fs::write(
            dir.path().join("variables.tf"),
            mutate(
                "variable \"x\" { default = \"eastus\" }\nlocals { y = var.x }\n",
                &mut rng,
            ),
        )
        .unwrap();
        let scanned =
            proviso::scan::terraform::scan(&[dir.path().to_path_buf()], &Default::default());
        let judged = proviso::findings::judge(
            &rules,
            &scanned.records,
            proviso::date::Date::parse("2026-03-01").unwrap(),
        );
        for f in &judged.findings {
            let _ = proviso::diag::render(&f.to_diag(), true, 100);
        }
        for d in &scanned.malformed {
            let _ = proviso::diag::render(d, true, 100);
        }
    }
}

#[test]
fn self_referencing_terraform_terminates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        r#"
locals {
  a = local.b
  b = local.a
}
resource "aws_instance" "x" {
  tags = { segment = local.a }
  ami  = aws_instance.x.ami
}
module "me" {
  source = "./"
}
"#,
    )
    .unwrap();
    let scanned = proviso::scan::terraform::scan(&[dir.path().to_path_buf()], &Default::default());
    assert!(!scanned.records.is_empty());
    assert!(
        scanned
            .malformed
            .iter()
            .any(|d| d.code.as_str() == "proviso::input::module_cycle"),
        "a module calling itself is reported"
    );
}
