//! `m110 report --install DIR [--database URL] --period 2026-11 --format xlsx|html|md -o FILE`:
//! the zh-CN monthly report of an install (the same document as the console's download). The
//! format defaults to the output file's extension. Written to a temporary file beside FILE and
//! renamed, so an interrupted run never leaves half a report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use m110::provision::open_install;
use m110_runtime::engine::region::RegionIndex;
use m110_runtime::engine::report;

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
    /// xlsx, html or md (default: the extension of -o).
    #[arg(long)]
    pub format: Option<String>,
    /// Output file.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
}

fn format_of(args: &Args) -> Result<String, String> {
    let f = match &args.format {
        Some(f) => f.clone(),
        None => args
            .output
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase(),
    };
    match f.as_str() {
        "xlsx" | "html" | "md" => Ok(f),
        "htm" => Ok("html".into()),
        "markdown" => Ok("md".into()),
        _ => Err(format!(
            "--format: {f:?} is not xlsx, html or md (or give -o a file ending in one)"
        )),
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let format = match format_of(&args) {
        Ok(f) => f,
        Err(m) => {
            eprintln!("错误 / error: {m}");
            return Ok(ExitCode::from(2));
        }
    };
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
        let region = RegionIndex::load(&store).await?;
        let built = report::build(&store, &region, &args.period)
            .await?
            .context("the period is not a month")?;
        let bytes = match format.as_str() {
            "xlsx" => report::xlsx::render(&built).map_err(|e| anyhow::anyhow!("{e}"))?,
            "md" => report::markdown::render(&built).into_bytes(),
            _ => m110_runtime::console::report::html(&built)?.into_bytes(),
        };
        write_atomically(&args.output, &bytes)?;
        println!(
            "{} {} 月度报告 {}: {} 件受理, {} 件办结 → {} ({format})",
            built.region_code,
            built.region_name,
            built.month,
            built.summary.period.counts.received,
            built.summary.period.counts.closed,
            args.output.display()
        );
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.partial",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("report")
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
