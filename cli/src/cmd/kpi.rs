//! `m110 kpi --install DIR [--database URL] --period 2026-11 -o FILE.json`: the region's KPI
//! document for a month (`docs/kpi.md`; no personal data), for a province's live comparison
//! with `m110 compare --kpi`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use m110::kpi;
use m110::provision::open_install;

#[derive(clap::Args)]
pub struct Args {
    /// Install directory made by `m110 provision`.
    #[arg(long)]
    pub install: PathBuf,
    /// Database URL (default: the install's m110d.yaml).
    #[arg(long, env = "M110_DATABASE_URL")]
    pub database: Option<String>,
    /// The month, YYYY-MM (Asia/Shanghai).
    #[arg(long)]
    pub period: String,
    /// Output file (JSON); standard output when absent.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if m110_runtime::engine::analytics::month_bounds(&args.period).is_none() {
        eprintln!(
            "错误 / error: --period: {:?} is not a month (YYYY-MM, e.g. 2026-11)",
            args.period
        );
        return Ok(ExitCode::from(2));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let store = open_install(&args.install, args.database.as_deref()).await?;
        let region = store.load_region().await?;
        let doc = kpi::build(&store, &region, &args.period)
            .await?
            .context("the period is not a month")?;
        store.close().await;
        let mut text = serde_json::to_string_pretty(&doc)?;
        text.push('\n');
        match &args.output {
            Some(path) => {
                std::fs::write(path, &text)
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!(
                    "{} {} KPI {}: {} 件受理 → {}",
                    doc.region.code,
                    doc.region.name,
                    doc.period.month,
                    doc.received,
                    path.display()
                );
            }
            None => print!("{text}"),
        }
        Ok(ExitCode::SUCCESS)
    })
}
