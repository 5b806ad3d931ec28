//! `triage-eval FILE.csv [--profile P.yaml] [--misses] [--json]`: the triage evaluation harness
//! (see `m110::triage_eval`). Without `--profile` the kit's default taxonomy is used.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use m110::triage_eval::evaluate;
use m110_runtime::engine::triage::Triage;
use m110_runtime::engine::triage::bank;

#[derive(Parser)]
#[command(about = "Evaluate triage (emergency lines and categories) on a labelled CSV")]
struct Args {
    /// Labelled requests: `text,category,emergency` (UTF-8, BOM allowed).
    file: PathBuf,
    /// Evaluate with this profile's taxonomy and place names instead of the defaults.
    #[arg(long)]
    profile: Option<PathBuf>,
    /// List every wrong answer.
    #[arg(long)]
    misses: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let data = match std::fs::read_to_string(&args.file) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return ExitCode::from(1);
        }
    };
    let rows = match bank::parse(&data) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return ExitCode::from(1);
        }
    };
    let (categories, grid) = match &args.profile {
        Some(p) => match m110::profile::load(p) {
            Ok(loaded) => (loaded.region.categories, loaded.region.grid_units),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(1);
            }
        },
        None => (m110::profile::taxonomy::default_categories(), Vec::new()),
    };
    let triage = Triage::new(&categories, &grid);
    let report = evaluate(&triage, &rows);
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        print!("{}", report.render(args.misses));
    }
    ExitCode::SUCCESS
}
