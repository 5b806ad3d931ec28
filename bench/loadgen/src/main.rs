/*!
`loadgen`: drives `POST /api/v1/cases` against a running `m110d` with N concurrent clients for
D seconds and prints throughput and latency percentiles; in the same run it measures the raw
SQLite single-row-transaction insert rate (direct sqlx on a temporary file, WAL,
synchronous=NORMAL — the settings the store uses), the ceiling any SQLite-backed intake is
compared with.

```text
loadgen --url http://127.0.0.1:8110 --token m110_… --clients 32 --seconds 10
```

Requests vary the text (categories, places, an occasional police keyword) and the caller's
phone, so triage, routing and the caller upsert do real work. Only 201 responses count as
throughput; any other status is reported and makes the exit code 1.
*/

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use serde_json::json;
use sqlx::{Connection, Executor};

#[derive(Parser)]
#[command(name = "loadgen", about)]
struct Args {
    /// Base URL of the running m110d.
    #[arg(long, default_value = "http://127.0.0.1:8110")]
    url: String,
    /// API token (role operator or dispatcher) from `m110 token add`.
    #[arg(long, env = "M110_LOADGEN_TOKEN")]
    token: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Measured seconds (after a 1 s warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds for the raw SQLite insert measurement (0 skips it).
    #[arg(long, default_value_t = 3)]
    sqlite_seconds: u64,
    /// A label printed with the results (e.g. the engine).
    #[arg(long, default_value = "")]
    label: String,
}

/// Request texts: (content, address). Places are Shaowu's; other regions still classify.
const TEXTS: &[(&str, &str)] = &[
    ("门口的路灯坏了好几天，晚上很黑", "公太社区"),
    ("小区停水一整天了，也没有通知", "城富社区"),
    ("楼上装修噪音太大，晚上十一点还在施工", "水北街道"),
    ("邻居为宅基地边界吵架，请帮忙调解", "莲塘村"),
    ("独居老人摔倒了没人管，需要帮助", "晒口街道"),
    ("村道水毁，车辆无法通行", "城郊镇"),
    ("想找家政保洁，有没有推荐", ""),
    ("请问社保卡怎么补办", ""),
    ("饭店油烟扰民，投诉多次没人处理", "通泰街道"),
    ("物业不作为，电梯坏了一个月", "华光社区"),
    ("窗口办事人员态度差，投诉", ""),
    ("路面坑洼积水严重", "新建社区"),
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let label = if args.label.is_empty() {
        String::new()
    } else {
        format!("[{}] ", args.label)
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .timeout(Duration::from_secs(30))
        .build()?;
    let ready = client
        .get(format!("{}/readyz", args.url))
        .send()
        .await
        .with_context(|| format!("{} is not reachable", args.url))?;
    anyhow::ensure!(
        ready.status().is_success(),
        "{}/readyz: {}",
        args.url,
        ready.status()
    );
    let info: serde_json::Value = ready.json().await.unwrap_or_default();

    // Warm-up (connections, caches), then the measured window.
    run(&client, &args, Duration::from_secs(1), 0).await?;
    let start = Instant::now();
    let results = run(&client, &args, Duration::from_secs(args.seconds), 1_000_000).await?;
    let elapsed = start.elapsed().as_secs_f64();
    let mut lat: Vec<f64> = results
        .iter()
        .flat_map(|r| r.latencies.iter().copied())
        .collect();
    lat.sort_by(f64::total_cmp);
    let ok = lat.len();
    let errors: usize = results.iter().map(|r| r.errors).sum();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return f64::NAN;
        }
        let i = ((p / 100.0) * (lat.len() as f64 - 1.0)).round() as usize;
        lat[i] * 1000.0
    };
    println!(
        "{label}m110d {} engine={} clients={} duration={:.1}s",
        args.url,
        info["engine"].as_str().unwrap_or("?"),
        args.clients,
        elapsed
    );
    println!(
        "{label}intake: {ok} cases created, {errors} errors, {:.0} cases/s, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ok as f64 / elapsed,
        pct(50.0),
        pct(90.0),
        pct(99.0),
        lat.last().map(|x| x * 1000.0).unwrap_or(f64::NAN)
    );
    for r in &results {
        if let Some(e) = &r.first_error {
            println!("{label}first error: {e}");
            break;
        }
    }
    if args.sqlite_seconds > 0 {
        let rate = raw_sqlite(Duration::from_secs(args.sqlite_seconds)).await?;
        println!(
            "{label}raw SQLite single-row transactions (sqlx, temp file, WAL, synchronous=NORMAL): {rate:.0} inserts/s"
        );
    }
    if errors > 0 {
        std::process::exit(1);
    }
    Ok(())
}

struct ClientResult {
    latencies: Vec<f64>,
    errors: usize,
    first_error: Option<String>,
}

async fn run(
    client: &reqwest::Client,
    args: &Args,
    window: Duration,
    seed: u64,
) -> anyhow::Result<Vec<ClientResult>> {
    let deadline = Instant::now() + window;
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let client = client.clone();
        let url = format!("{}/api/v1/cases", args.url);
        let token = args.token.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = ClientResult {
                latencies: Vec::new(),
                errors: 0,
                first_error: None,
            };
            let mut n: u64 = seed + c as u64 * 7919;
            while Instant::now() < deadline {
                n += 1;
                let (content, address) = TEXTS[(n as usize) % TEXTS.len()];
                // ~1 000 distinct callers, so the upsert both inserts and updates.
                let phone = format!("139{:08}", (n * 2_654_435_761) % 1000);
                let mut body = json!({
                    "channel": "phone",
                    "caller": {"phone": phone},
                    "content": format!("{content}（{n}）"),
                });
                if !address.is_empty() {
                    body["location"] = json!({"address": address});
                }
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let _ = r.bytes().await;
                        out.latencies.push(t.elapsed().as_secs_f64());
                    }
                    Ok(r) => {
                        out.errors += 1;
                        let status = r.status();
                        let text = r.text().await.unwrap_or_default();
                        out.first_error.get_or_insert(format!("{status}: {text}"));
                    }
                    Err(e) => {
                        out.errors += 1;
                        out.first_error.get_or_insert(e.to_string());
                    }
                }
            }
            out
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await?);
    }
    Ok(results)
}

/// Single-row transactions into a fresh SQLite file for `window`; returns inserts per second.
async fn raw_sqlite(window: Duration) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("raw.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await?;
    conn.execute(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )
    .await?;
    conn.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, content TEXT NOT NULL, created_at INTEGER NOT NULL)",
    )
    .await?;
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed() < window {
        let mut tx = conn.begin().await?;
        sqlx::query("INSERT INTO t (content, created_at) VALUES ($1, $2)")
            .bind("路灯坏了")
            .bind(n as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}
