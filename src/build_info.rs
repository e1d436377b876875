//! What build of proviso this is: its version and the commit it was built
//! from, for reports and evidence that must name the tool exactly.
//!
//! The commit comes from `PROVISO_BUILD_COMMIT` at build time (set by the
//! build script from git, or by a packager); a build without it says
//! `unknown` rather than guessing.

/// The crate's version (`Cargo.toml`).
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The commit the binary was built from, or `unknown`.
pub fn commit() -> &'static str {
    option_env!("PROVISO_BUILD_COMMIT").unwrap_or("unknown")
}
