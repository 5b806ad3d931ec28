//! `m110 compare PROFILE... [--format text|md|json|csv]`: regions side by side with readiness.
//!
//! Every profile is loaded first; if any is invalid, all their diagnostics are printed to stderr
//! and nothing is compared (exit 1).

use std::path::PathBuf;
use std::process::ExitCode;

use m110::compare::{self, Format};

use super::load::load_or_report;

#[derive(clap::Args)]
pub struct Args {
    /// Region profiles (YAML), one column each, in this order.
    #[arg(required = true)]
    pub profiles: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let loaded: Vec<_> = args.profiles.iter().map(|p| load_or_report(p)).collect();
    let Some(loaded) = loaded.into_iter().collect::<Option<Vec<_>>>() else {
        return Ok(ExitCode::from(1));
    };
    let comparison = compare::compare(loaded.iter().map(|l| &l.region));
    print!("{}", comparison.render(args.format));
    Ok(ExitCode::SUCCESS)
}
