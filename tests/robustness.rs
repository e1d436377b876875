//! No input makes proviso panic: rule files and Terraform files mutated at
//! random (a deterministic generator, so failures reproduce) still give
//! diagnostics, never a crash. A `cargo fuzz` target would search further;
//! this keeps the guarantee in the ordinary test run.

// Test code: a failed unwrap is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
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
            let _ = proviso::examples::run(&rules);
        }
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
            .any(|d| d.code == "proviso::input::module_cycle"),
        "a module calling itself is reported"
    );
}
