//! `m110 validate PROFILE...`: check profiles and list every problem.
//!
//! Exit 0 when every profile is valid; otherwise 1, with one
//! `FILE:LINE:COL: field.path: what is wrong (hint: how to fix)` line per problem on stdout.

use std::io::Write;
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
    let mut out = std::io::stdout().lock();
    for path in &args.profiles {
        match profile::load(path) {
            Ok(loaded) => {
                if !args.quiet {
                    let r = &loaded.region;
                    writeln!(
                        out,
                        "{}: ok / 有效 — {} {} ({}), {} grid units, {} handling units, {} categories",
                        path.display(),
                        r.info.code,
                        r.info.name,
                        r.info.archetype.as_str(),
                        r.grid_units.len(),
                        r.units.len(),
                        r.categories.len()
                    )
                    .or_else(ignore_broken_pipe)?;
                }
                // Warnings do not fail validation: the profile is usable, just likely wrong.
                for w in &loaded.warnings {
                    writeln!(out, "{}", w.warning_line()).or_else(ignore_broken_pipe)?;
                }
            }
            Err(diags) => {
                failed += 1;
                writeln!(out, "{diags}").or_else(ignore_broken_pipe)?;
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

/// `m110 validate … | head` must not panic or report an error when the reader goes away.
fn ignore_broken_pipe(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}
