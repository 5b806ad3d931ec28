//! `m110 validate PROFILE...`: check profiles and list every problem.
//!
//! Exit 0 when every profile is valid; otherwise 1, with one
//! `FILE:LINE:COL: field.path: what is wrong (hint: how to fix)` line per problem on stdout.

use std::path::PathBuf;
use std::process::ExitCode;

use m110::profile;

#[derive(clap::Args)]
pub struct Args {
    /// Profile files to check.
    #[arg(required = true)]
    pub profiles: Vec<PathBuf>,
    /// Print nothing for valid profiles.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut failed = 0usize;
    for path in &args.profiles {
        match profile::load(path) {
            Ok(loaded) => {
                if !args.quiet {
                    let r = &loaded.region;
                    println!(
                        "{}: ok / 有效 — {} {} ({}), {} grid units, {} handling units, {} categories",
                        path.display(),
                        r.info.code,
                        r.info.name,
                        r.info.archetype.as_str(),
                        r.grid_units.len(),
                        r.units.len(),
                        r.categories.len()
                    );
                }
            }
            Err(diags) => {
                failed += 1;
                println!("{diags}");
                eprintln!(
                    "{}: {} problem(s) / {} 个问题",
                    path.display(),
                    diags.len(),
                    diags.len()
                );
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
