/*!
`loadgen`: the benchmarks of issue 13, each printing the machine (nproc, CPU model, load
average) with its figures.

- `loadgen intake`: drives `POST /api/v1/cases` and/or `POST /open311/v2/requests.json` against a
  running `m110d` with N clients (the peak), measures the raw engine limit directly in the same
  run (rusqlite on one connection, or N tokio-postgres connections doing the same two inserts per
  transaction) and prints the ratio, then runs open-loop at half the peak rate for p50/p99, and
  reads `m110d`'s RSS idle and under load.
- `loadgen generate`: grows an install's database by N synthetic cases spread over three years
  (cases, timelines, rollups and each case's facts), in SQL.
- `loadgen timing`: times dashboard, queue, case list, search and analytics requests; saves
  them and prints the ratio to an earlier run.
- `loadgen streams`: opens N console live-update streams and reads `m110d`'s CPU over a window.
- `loadgen logins`: intake latency alone and under a login flood; known vs unknown names'
  login time (issue 14).

```text
loadgen intake --url http://127.0.0.1:8110 --token m110_… --clients 16 --raw-sqlite
```

Only the endpoint's success status counts as throughput; any other answer is reported and
makes the exit code 1.
*/

mod generate;
mod intake;
mod logins;
mod raw;
mod streams;
mod sys;
mod timing;

use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};

use intake::{Mode, Target};

#[derive(Parser)]
#[command(name = "loadgen", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// HTTP intake vs the raw engine, p50/p99 at half the peak, RSS idle and under load.
    Intake(IntakeArgs),
    /// Grow an install's database by N synthetic cases (SQLite file or PostgreSQL URL).
    Generate(generate::Args),
    /// Time dashboard, queue, case list, search and analytics requests.
    Timing(timing::Args),
    /// Hold N console live-update streams open and measure m110d's CPU.
    Streams(streams::Args),
    /// A login flood's effect on intake latency, and known vs unknown names' login time.
    Logins(logins::Args),
}

#[derive(clap::Args)]
struct IntakeArgs {
    /// Base URL of the running m110d.
    #[arg(long, default_value = "http://127.0.0.1:8110")]
    url: String,
    /// API token (role operator or dispatcher) from `m110 token add`.
    #[arg(long, env = "M110_LOADGEN_TOKEN")]
    token: String,
    /// Endpoints to drive, in order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "json,open311"
    )]
    modes: Vec<Mode>,
    /// Concurrent clients for the peak (and PostgreSQL connections for the raw limit).
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Measured seconds of the peak, per endpoint (after a 1 s warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of the open-loop run at half the peak rate, per endpoint (0 skips it).
    #[arg(long, default_value_t = 10)]
    half_seconds: u64,
    /// Measure the raw SQLite limit (rusqlite, one connection) for this many seconds.
    #[arg(long, default_value_t = 0)]
    raw_sqlite_seconds: u64,
    /// Measure the raw PostgreSQL limit on this database (scratch tables, dropped after).
    #[arg(long)]
    raw_pg: Option<String>,
    /// Seconds of the raw PostgreSQL measurement.
    #[arg(long, default_value_t = 5)]
    raw_pg_seconds: u64,
    /// m110d's process id: its RSS is read idle (before the load) and at its peak under load.
    #[arg(long)]
    pid: Option<u32>,
    /// A label printed with the results (e.g. the engine and build).
    #[arg(long, default_value = "")]
    label: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    println!("{}", sys::machine());
    let ok = match cli.command {
        Command::Intake(a) => intake_cmd(a).await?,
        Command::Generate(a) => generate::run(a).await.map(|()| true)?,
        Command::Timing(a) => timing::run(a).await?,
        Command::Streams(a) => streams::run(a).await?,
        Command::Logins(a) => logins::run(a).await?,
    };
    println!("{}", sys::machine());
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}

async fn intake_cmd(a: IntakeArgs) -> anyhow::Result<bool> {
    let label = if a.label.is_empty() {
        String::new()
    } else {
        format!("[{}] ", a.label)
    };
    let idle_rss = match a.pid {
        Some(pid) => Some(sys::rss_mib(pid)?),
        None => None,
    };
    // The raw limit first, while m110d is idle: the same machine, the same minute.
    let mut raw: Vec<(String, f64)> = Vec::new();
    if a.raw_sqlite_seconds > 0 {
        let secs = a.raw_sqlite_seconds;
        let rate =
            tokio::task::spawn_blocking(move || raw::sqlite(Duration::from_secs(secs))).await??;
        println!(
            "{label}raw SQLite (rusqlite, 1 connection, WAL, synchronous=NORMAL, case + event per transaction): {rate:.0} tx/s"
        );
        raw.push(("raw SQLite".into(), rate));
    }
    if let Some(pg) = &a.raw_pg {
        let rate = raw::postgres(pg, a.clients, Duration::from_secs(a.raw_pg_seconds)).await?;
        println!(
            "{label}raw PostgreSQL (tokio-postgres, {} connections, case + event per transaction): {rate:.0} tx/s",
            a.clients
        );
        raw.push(("raw PostgreSQL".into(), rate));
    }
    let mut ok = true;
    let mut peak_rss = 0.0f64;
    for (k, mode) in a.modes.iter().enumerate() {
        let target = Arc::new(Target::new(&a.url, &a.token, *mode, a.clients).await?);
        let seed = 1_000_000_000 * (k as u64 + 1) + u64::from(std::process::id()) * 1_000_000;
        closed_loop_warmup(&target, a.clients, seed).await?;
        let sampler = a.pid.map(sys::RssSampler::start);
        let mut peak = intake::closed_loop(
            target.clone(),
            a.clients,
            Duration::from_secs(a.seconds),
            seed + 100_000,
        )
        .await?;
        if let Some(s) = &sampler {
            peak_rss = peak_rss.max(s.peak());
        }
        println!(
            "{label}{} peak ({} clients, {} s): {}",
            mode.name(),
            a.clients,
            a.seconds,
            peak.summary()
        );
        if let Some(e) = &peak.first_error {
            println!("{label}{} first error: {e}", mode.name());
            ok = false;
        }
        for (name, rate) in &raw {
            println!(
                "{label}{} ratio to {name}: {:.3}",
                mode.name(),
                peak.rate() / rate
            );
        }
        if a.half_seconds > 0 && peak.rate() > 0.0 {
            let half = peak.rate() / 2.0;
            let mut o = intake::open_loop(
                target.clone(),
                half,
                Duration::from_secs(a.half_seconds),
                seed + 500_000,
                4096,
            )
            .await?;
            if let Some(s) = &sampler {
                peak_rss = peak_rss.max(s.peak());
            }
            println!(
                "{label}{} at half the peak ({half:.0}/s open loop, {} s): {}",
                mode.name(),
                a.half_seconds,
                o.summary()
            );
            if let Some(e) = &o.first_error {
                println!("{label}{} first error at half rate: {e}", mode.name());
                ok = false;
            }
        }
    }
    if let (Some(pid), Some(idle)) = (a.pid, idle_rss) {
        let after = sys::rss_mib(pid)?;
        println!(
            "{label}m110d RSS: idle {idle:.1} MiB, peak under load {peak_rss:.1} MiB, after load {after:.1} MiB"
        );
    }
    Ok(ok)
}

/// One second of load before the measured window (connections, caches, the first WAL pages).
async fn closed_loop_warmup(target: &Arc<Target>, clients: usize, seed: u64) -> anyhow::Result<()> {
    intake::closed_loop(target.clone(), clients, Duration::from_secs(1), seed).await?;
    Ok(())
}
