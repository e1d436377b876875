//! What this binary is: its version and the commit it was built from, for
//! the records that must say which tool produced them (`explain`'s dated
//! record, `--evidence`).
//!
//! The commit comes from `build.rs`: `PROVISO_BUILD_COMMIT` from the build
//! environment, else `git rev-parse HEAD`, else "unknown".

/// The package version, `0.1.0`.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The full commit hash the binary was built from, or "unknown".
pub fn commit() -> &'static str {
    match option_env!("PROVISO_BUILD_COMMIT") {
        Some(c) if !c.is_empty() => c,
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_commit_is_one_word() {
        let c = super::commit();
        // A git hash, or what a packager set, or "unknown": one word.
        assert!(!c.is_empty() && !c.contains(char::is_whitespace), "{c}");
        assert_eq!(super::version(), env!("CARGO_PKG_VERSION"));
    }
}
