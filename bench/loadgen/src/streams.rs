//! Holds N console live-update streams (`GET /console/events`, one logged-in session) open and
//! reads `m110d`'s CPU over a window from `/proc/PID/stat`: first idle with no stream, then with
//! every stream open and nothing happening, so the cost is the streams' own (keep-alives and
//! whatever the server does per stream to notice changes). With `--trickle RATE`, a third
//! window: the same streams open while intakes arrive at RATE per second (open loop), so every
//! stream has events to receive — the cost of a center that is working, not just waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::intake::{Mode, Target, open_loop};
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
    /// Intakes per second (`POST /api/v1/cases`, open loop) in a third window with the streams
    /// open; 0 skips it. Needs `--token`.
    #[arg(long, default_value_t = 0.0)]
    trickle: f64,
    /// Bearer token of an operator, for the trickle's intakes.
    #[arg(long, env = "M110_BENCH_TOKEN", hide_env_values = true)]
    token: Option<String>,
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
    // Events received by all streams (an SSE event is one `event:` line).
    let events = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = opened
        .into_iter()
        .map(|r| {
            let events = events.clone();
            tokio::spawn(async move {
                let mut r = r;
                let mut bytes = 0usize;
                while let Ok(Some(b)) = r.chunk().await {
                    bytes += b.len();
                    let n = String::from_utf8_lossy(&b).matches("event:").count();
                    events.fetch_add(n as u64, Ordering::Relaxed);
                }
                bytes
            })
        })
        .collect();
    // Let the opening burst settle before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = events.load(Ordering::Relaxed);
    let busy = sys::cpu_percent(a.pid, window).await?;
    let rss = sys::rss_mib(a.pid)?;
    let closed = tasks.iter().filter(|t| t.is_finished()).count();
    println!(
        "{label}m110d with {n} idle live-update streams: {busy:.2} % of one core over {} s ({:.2} % more than with none), RSS {rss:.1} MiB, {closed} streams ended early, {} events received",
        a.seconds,
        busy - idle,
        events.load(Ordering::Relaxed) - before
    );
    let mut ok = closed == 0 && n == a.streams;
    if a.trickle > 0.0 {
        let token = a
            .token
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("--trickle needs --token (or M110_BENCH_TOKEN)"))?;
        let target = Arc::new(Target::new(&a.url, token, Mode::Json, 4).await?);
        let before = events.load(Ordering::Relaxed);
        let (cpu, sent) = tokio::join!(
            sys::cpu_percent(a.pid, window),
            open_loop(target, a.trickle, window, 0, 64)
        );
        let (cpu, mut sent) = (cpu?, sent?);
        // Events of the last intakes may still be on their way: give them the read interval.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let got = events.load(Ordering::Relaxed) - before;
        let closed = tasks.iter().filter(|t| t.is_finished()).count();
        let (p50, p99) = (sent.pct(50.0), sent.pct(99.0));
        println!(
            "{label}m110d with {n} live-update streams and {:.1} intakes/s: {cpu:.2} % of one core over {} s ({:.2} % more than with none), intakes {} ({} failed, p50 {p50:.1} ms, p99 {p99:.1} ms), {got} events received ({:.1} per stream), {closed} streams ended early",
            a.trickle,
            a.seconds,
            cpu - idle,
            sent.latencies.len(),
            sent.errors,
            got as f64 / n.max(1) as f64
        );
        ok &= closed == 0 && sent.errors == 0;
    }
    for t in &tasks {
        t.abort();
    }
    Ok(ok)
}
