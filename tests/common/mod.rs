//! Helpers shared by the integration tests.

// Test code: a failed unwrap is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
// Each test binary uses a different subset of the helpers.
#![allow(dead_code)]

use proviso::diag::{Diag, render};

/// Renders diagnostics the way snapshots store them: no colour, unicode,
/// width 100, no links.
pub fn render_all(diags: &[Diag]) -> String {
    diags
        .iter()
        .map(|d| render(d, true, 100))
        .collect::<Vec<_>>()
        .join("\n")
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
