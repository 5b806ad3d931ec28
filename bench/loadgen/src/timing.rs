//! Times the requests whose cost must not grow with history — dashboard, queue page, case list,
//! search and analytics — as a logged-in user (the console pages need a session; the JSON login
//! sets the same cookie). Each request is sent once to warm caches, then `--repeat` times; the
//! median is reported. `--save` keeps the figures, `--baseline` prints the ratio to a saved run
//! (10M ÷ 10k).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// Base URL of the running m110d.
    #[arg(long, default_value = "http://127.0.0.1:8110")]
    url: String,
    /// Login name (a supervisor sees the center's queue and the analytics).
    #[arg(long)]
    user: String,
    /// Password, from the environment so it stays off the command line.
    #[arg(long, env = "M110_BENCH_PASSWORD", hide_env_values = true)]
    password: String,
    /// Timed repetitions per request (after one warm-up).
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// A label printed with the results (e.g. "10k").
    #[arg(long, default_value = "")]
    label: String,
    /// Write the medians (ms) as JSON here.
    #[arg(long)]
    save: Option<PathBuf>,
    /// A file written by `--save` earlier: print this run ÷ that run per request.
    #[arg(long)]
    baseline: Option<PathBuf>,
}

/// (name, path): the requests timed.
pub const REQUESTS: &[(&str, &str)] = &[
    ("dashboard", "/console/dashboard"),
    ("queue page", "/console/queue"),
    ("case list API", "/api/v1/cases?page_size=50"),
    ("case list page 20", "/api/v1/cases?page_size=50&page=20"),
    (
        "search API",
        "/api/v1/cases?q=%E8%B7%AF%E7%81%AF&page_size=50",
    ),
    ("analytics page", "/console/analytics"),
    ("analytics API", "/api/v1/analytics/summary"),
    ("live-update poll", "/console/events"),
];

/// A client holding a session for `user`.
/// `timeout` bounds each whole request (none for clients that hold streams open).
pub async fn login(
    url: &str,
    user: &str,
    password: &str,
    timeout: Option<Duration>,
) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder().cookie_store(true);
    if let Some(t) = timeout {
        builder = builder.timeout(t);
    }
    let client = builder.build()?;
    // A freshly started m110d on a big install may hold its writer for a while (start-up jobs);
    // the login's session write then answers 503: retry for up to two minutes, and say so.
    let start = Instant::now();
    let r = loop {
        let r = client
            .post(format!("{url}/api/v1/login"))
            .json(&json!({"name": user, "password": password}))
            .send()
            .await
            .with_context(|| format!("{url} is not reachable"))?;
        if r.status() != reqwest::StatusCode::SERVICE_UNAVAILABLE
            || start.elapsed() > Duration::from_secs(120)
        {
            break r;
        }
        println!("login as {user}: 503 (database busy), retrying");
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    if start.elapsed() > Duration::from_secs(1) {
        println!(
            "login as {user} took {:.1} s (503 until then)",
            start.elapsed().as_secs_f64()
        );
    }
    let status = r.status();
    anyhow::ensure!(
        status.is_success(),
        "login as {user}: {status} {}",
        r.text().await.unwrap_or_default()
    );
    Ok(client)
}

/// One request, timed to the last byte (the live-update stream: to its response headers, which
/// is when the server has done its first read).
async fn time_one(client: &reqwest::Client, url: &str, stream: bool) -> anyhow::Result<f64> {
    let t = Instant::now();
    let r = client.get(url).send().await?;
    let status = r.status();
    if !status.is_success() {
        anyhow::bail!("{url}: {status}");
    }
    if !stream {
        r.bytes().await?;
    }
    Ok(t.elapsed().as_secs_f64() * 1000.0)
}

pub async fn run(a: Args) -> anyhow::Result<bool> {
    let client = login(&a.url, &a.user, &a.password, Some(Duration::from_secs(300))).await?;
    let baseline: Option<BTreeMap<String, f64>> = match &a.baseline {
        Some(p) => Some(serde_json::from_slice(
            &std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
        )?),
        None => None,
    };
    let label = if a.label.is_empty() {
        String::new()
    } else {
        format!("[{}] ", a.label)
    };
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, path) in REQUESTS {
        let url = format!("{}{path}", a.url);
        let stream = path.ends_with("/events");
        let mut times = Vec::new();
        let mut failure = None;
        for i in 0..=a.repeat {
            match time_one(&client, &url, stream).await {
                Ok(ms) if i > 0 => times.push(ms),
                Ok(_) => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failure {
            println!("{label}{name}: FAILED {e}");
            ok = false;
            continue;
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let ratio = baseline
            .as_ref()
            .and_then(|b| b.get(*name))
            .map(|b| format!(", ratio to baseline {:.2}", median / b))
            .unwrap_or_default();
        println!(
            "{label}{name} ({path}): median {median:.1} ms, min {:.1} ms, max {:.1} ms{ratio}",
            times[0],
            times[times.len() - 1]
        );
        out.insert(name.to_string(), median);
    }
    if let Some(p) = &a.save {
        std::fs::write(p, serde_json::to_vec_pretty(&out)?)
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(ok)
}
