//! `m110 analytics rebuild --install DIR [--database URL]`: recomputes the analytics rollups
//! from the cases, in one transaction (an interrupted rebuild leaves them as they were).
//!
//! The rollups are kept at write time; this is the safety net after a manual repair of the
//! database. It says whether the kept rollups equalled the recount.

use std::path::PathBuf;
use std::process::ExitCode;

use m110::provision::open_install;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: AnalyticsCommand,
}

#[derive(clap::Subcommand)]
pub enum AnalyticsCommand {
    /// Recompute every rollup from the cases and their timelines.
    Rebuild(RebuildArgs),
}

#[derive(clap::Args)]
pub struct RebuildArgs {
    /// Install directory made by `m110 provision`.
    #[arg(long)]
    pub install: PathBuf,
    /// Database URL (default: the install's m110d.yaml).
    #[arg(long, env = "M110_DATABASE_URL")]
    pub database: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match args.command {
            AnalyticsCommand::Rebuild(a) => rebuild(a).await,
        }
    })
}

async fn rebuild(a: RebuildArgs) -> anyhow::Result<ExitCode> {
    let store = open_install(&a.install, a.database.as_deref()).await?;
    let before = store.rollup_rows().await?;
    let started = std::time::Instant::now();
    let (cases, rows) = store.rebuild_rollups().await?;
    let after = store.rollup_rows().await?;
    let changed = before != after;
    println!(
        "analytics rebuilt: {cases} case(s), {rows} rollup row(s) in {:.1} s; {}",
        started.elapsed().as_secs_f64(),
        if changed {
            "the kept rollups differed from the recount and were replaced"
        } else {
            "the kept rollups equalled the recount"
        }
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
