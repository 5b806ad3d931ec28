//! Holds N console live-update streams (`GET /console/events`, one logged-in session) open and
//! reads `m110d`'s CPU over a window from `/proc/PID/stat`: first idle with no stream, then with
//! every stream open and nothing happening, so the cost is the streams' own (keep-alives and
//! whatever the server does per stream to notice changes).

use std::time::Duration;

use crate::sys;

#[derive(clap::Args)]
pub struct Args {
    /// Base URL of the running m110d.
    #[arg(long, default_value = "http://127.0.0.1:8110")]
    url: String,
    /// Login name.
    #[arg(long)]
    user: String,
    /// Password, from the environment so it stays off the command line.
    #[arg(long, env = "M110_BENCH_PASSWORD", hide_env_values = true)]
    password: String,
    /// Streams to open.
    #[arg(long, default_value_t = 500)]
    streams: usize,
    /// Seconds of CPU measurement, without and with the streams.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Give up opening streams after this many seconds and measure with those already open
    /// (a server that cannot open them fast enough is a result too).
    #[arg(long, default_value_t = 120)]
    open_seconds: u64,
    /// m110d's process id.
    #[arg(long)]
    pid: u32,
    /// A label printed with the results.
    #[arg(long, default_value = "")]
    label: String,
}

pub async fn run(a: Args) -> anyhow::Result<bool> {
    let label = if a.label.is_empty() {
        String::new()
    } else {
        format!("[{}] ", a.label)
    };
    let window = Duration::from_secs(a.seconds);
    let client = crate::timing::login(&a.url, &a.user, &a.password, None).await?;
    let idle = sys::cpu_percent(a.pid, window).await?;
    let rss_idle = sys::rss_mib(a.pid)?;
    println!(
        "{label}m110d with no stream: {idle:.2} % of one core over {} s, RSS {rss_idle:.1} MiB",
        a.seconds
    );
    // Open every stream; each task drains its stream until aborted, counting events.
    let url = format!("{}/console/events", a.url);
    let mut opened = Vec::new();
    let open_start = std::time::Instant::now();
    let open_deadline = open_start + Duration::from_secs(a.open_seconds);
    while opened.len() < a.streams {
        let left = open_deadline.saturating_duration_since(std::time::Instant::now());
        let Ok(r) = tokio::time::timeout(left, client.get(&url).send()).await else {
            break;
        };
        let r = r?;
        anyhow::ensure!(r.status().is_success(), "{url}: {}", r.status());
        opened.push(r);
    }
    let open_secs = open_start.elapsed().as_secs_f64();
    let n = opened.len();
    println!(
        "{label}opened {n} of {} live-update streams in {open_secs:.1} s ({:.0} ms per stream)",
        a.streams,
        open_secs * 1000.0 / n.max(1) as f64
    );
    let tasks: Vec<_> = opened
        .into_iter()
        .map(|r| {
            tokio::spawn(async move {
                let mut r = r;
                let mut bytes = 0usize;
                while let Ok(Some(b)) = r.chunk().await {
                    bytes += b.len();
                }
                bytes
            })
        })
        .collect();
    // Let the opening burst settle before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let busy = sys::cpu_percent(a.pid, window).await?;
    let rss = sys::rss_mib(a.pid)?;
    let closed = tasks.iter().filter(|t| t.is_finished()).count();
    println!(
        "{label}m110d with {n} idle live-update streams: {busy:.2} % of one core over {} s ({:.2} % more than with none), RSS {rss:.1} MiB, {closed} streams ended early",
        a.seconds,
        busy - idle
    );
    for t in &tasks {
        t.abort();
    }
    Ok(closed == 0 && n == a.streams)
}
