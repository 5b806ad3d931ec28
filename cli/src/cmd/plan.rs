//! `m110 plan PROFILE [--format text|json]`: what a provision would create, with Erlang C staffing.
//!
//! Exit 0 with the plan on stdout; 1 when the profile is invalid (diagnostics on stderr) or its
//! staffing inputs cannot be met.

use std::path::PathBuf;
use std::process::ExitCode;

use m110::plan;

use super::load::load_or_report;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// The region profile (YAML).
    pub profile: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(loaded) = load_or_report(&args.profile) else {
        return Ok(ExitCode::from(1));
    };
    let plan = match plan::build(&loaded.region) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}: {e}", args.profile.display());
            return Ok(ExitCode::from(1));
        }
    };
    let out = match args.format {
        Format::Text => plan.to_text(),
        Format::Json => plan.to_json(),
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
