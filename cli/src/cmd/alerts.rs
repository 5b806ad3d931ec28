//! `m110 alerts --install DIR [--database URL] --replay FROM TO [--format text|json]`: replays
//! early-warning detection day by day over the stored history, as if it had run live (each day
//! sees only the cases received up to its end), and prints every alert it would have raised —
//! for a county to tune its `early_warning` thresholds before switching warnings on. Writes
//! nothing.

use std::path::PathBuf;
use std::process::ExitCode;

use m110::provision::open_install;
use m110_runtime::engine::region::RegionIndex;
use m110_runtime::engine::warning::run;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// Install directory made by `m110 provision`.
    #[arg(long)]
    pub install: PathBuf,
    /// Database URL (default: the install's m110d.yaml).
    #[arg(long, env = "M110_DATABASE_URL")]
    pub database: Option<String>,
    /// First and last day to replay, YYYY-MM-DD (Asia/Shanghai), both included.
    #[arg(long, num_args = 2, value_names = ["FROM", "TO"], required = true)]
    pub replay: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let day = |s: &str| {
        m110_runtime::model::time::day_start_ms(s)
            .map(|ms| m110_runtime::store::rollups::day_hour(ms).0)
    };
    let (Some(from), Some(to)) = (day(&args.replay[0]), day(&args.replay[1])) else {
        eprintln!("错误 / error: --replay FROM TO: two dates, YYYY-MM-DD");
        return Ok(ExitCode::from(2));
    };
    if to < from || to - from > 3660 {
        eprintln!("错误 / error: --replay: TO must not be before FROM, at most ten years apart");
        return Ok(ExitCode::from(2));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let store = open_install(&args.install, args.database.as_deref()).await?;
        let region = RegionIndex::load(&store).await?;
        let started = std::time::Instant::now();
        let alerts = run::replay(&store, &region, from, to).await?;
        store.close().await;
        match args.format {
            Format::Json => {
                let rows: Vec<_> = alerts.iter().map(run::replay_json).collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            }
            Format::Text => {
                for a in &alerts {
                    println!(
                        "{}  {:<8} {:<18} {:<28} {}..{}  observed {} expected {:.1}  {}",
                        a.detected_on,
                        a.method,
                        a.category_code.as_deref().unwrap_or("-"),
                        a.grid_codes.join(","),
                        a.start_day,
                        a.end_day,
                        a.observed,
                        a.expected,
                        match (a.recurrence_days, a.p_value) {
                            (Some(r), _) => format!("recurrence {r:.0} days"),
                            (None, Some(p)) => format!("p {p:.4}"),
                            _ => format!("statistic {:.2}", a.statistic),
                        }
                    );
                }
                eprintln!(
                    "{} alert(s) over {} day(s) in {:.1} s",
                    alerts.len(),
                    to - from + 1,
                    started.elapsed().as_secs_f64()
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
