//! `proviso verify FILE`: confirm that the evidence a `check` or `audit`
//! wrote still holds (see `evidence::verify`, which does the work; this
//! module is its flags and its printing).

use super::{EXIT_TROUBLE, Style, eprint_diags};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The evidence file `check` or `audit` wrote with `--evidence`
    pub evidence: PathBuf,
    /// A parameter's value, supplied again: NAME=VALUE (repeatable; the evidence holds only a protected hash of it)
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = super::parse_param)]
    pub params: Vec<(String, String)>,
    /// Read `params:` from this proviso.yaml instead of the one found from the recorded working directory upward
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Do not read any proviso.yaml
    #[arg(long)]
    pub no_config: bool,
}

pub fn run(args: VerifyArgs, err_style: &Style) -> i32 {
    let outcome = crate::evidence::verify::run(&crate::evidence::verify::Request {
        evidence: &args.evidence,
        params: &args.params,
        config: args.config.as_deref(),
        no_config: args.no_config,
    });
    let mut text = outcome.lines.join("\n");
    text.push('\n');
    if let Err(d) = super::write_output(None, &text) {
        eprint_diags(&[d], err_style);
        return EXIT_TROUBLE;
    }
    eprint_diags(&outcome.diags, err_style);
    outcome.exit
}
