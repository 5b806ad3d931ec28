/*!
`loadgen logins`: what a login flood does to intake, and whether a login's time tells which
names exist (issue 14).

1. **Flood**: intake open loop at `--rate` for `--seconds` alone (p50/p99), then the same intake
   while `--flood` tasks post logins in a closed loop — with the right password of `--user`
   (every attempt costs a full argon2 check: the worst case for the CPU) — and the login
   outcomes by status.
2. **Enumeration**: the time of a wrong password for known names (each tried fewer times than
   the lock needs) against never-seen names, interleaved, median and p90 of each.
*/

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::intake::{self, Mode, Target};

#[derive(clap::Args)]
pub struct Args {
    /// Base URL of the running m110d.
    #[arg(long, default_value = "http://127.0.0.1:8110")]
    url: String,
    /// API token (operator) for the intake load.
    #[arg(long, env = "M110_LOADGEN_TOKEN")]
    token: String,
    /// A user whose right password the flood posts.
    #[arg(long)]
    user: String,
    #[arg(long)]
    password: String,
    /// Known names for the enumeration check (each gets 4 wrong passwords, under the lock; keep
    /// 8 × their number under the per-address limit of 30).
    #[arg(long, value_delimiter = ',')]
    known: Vec<String>,
    /// Intake requests per second (open loop).
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    /// Seconds of each intake window.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent login senders during the second window.
    #[arg(long, default_value_t = 16)]
    flood: usize,
}

/// One login POST: (status, seconds).
async fn login_once(
    client: &reqwest::Client,
    url: &str,
    name: &str,
    password: &str,
) -> anyhow::Result<(u16, f64)> {
    let t = Instant::now();
    let r = client
        .post(format!("{url}/api/v1/login"))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await?;
    let status = r.status().as_u16();
    let _ = r.bytes().await;
    Ok((status, t.elapsed().as_secs_f64() * 1000.0))
}

fn median_p90(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |p: f64| v[((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize];
    (at(50.0), at(90.0))
}

pub async fn run(a: Args) -> anyhow::Result<bool> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut ok = true;

    // 1. Intake alone, then under the flood.
    let target = Arc::new(Target::new(&a.url, &a.token, Mode::Json, 64).await?);
    let window = Duration::from_secs(a.seconds);
    let mut alone = intake::open_loop(target.clone(), a.rate, window, 7_000_000, 4096).await?;
    println!(
        "intake alone ({:.0}/s open loop, {} s): {}",
        a.rate,
        a.seconds,
        alone.summary()
    );
    let deadline = Instant::now() + window + Duration::from_millis(500);
    let mut flood = Vec::new();
    for _ in 0..a.flood {
        let (client, url, user, password) = (
            client.clone(),
            a.url.clone(),
            a.user.clone(),
            a.password.clone(),
        );
        flood.push(tokio::spawn(async move {
            let mut seen: BTreeMap<u16, (usize, f64)> = BTreeMap::new();
            while Instant::now() < deadline {
                if let Ok((s, ms)) = login_once(&client, &url, &user, &password).await {
                    let e = seen.entry(s).or_default();
                    e.0 += 1;
                    e.1 = e.1.max(ms);
                }
            }
            seen
        }));
    }
    let mut loaded = intake::open_loop(target, a.rate, window, 8_000_000, 4096).await?;
    let mut logins: BTreeMap<u16, (usize, f64)> = BTreeMap::new();
    for t in flood {
        for (s, (n, max)) in t.await? {
            let e = logins.entry(s).or_default();
            e.0 += n;
            e.1 = e.1.max(max);
        }
    }
    println!(
        "intake under a {}-way login flood ({:.0}/s open loop, {} s): {}",
        a.flood,
        a.rate,
        a.seconds,
        loaded.summary()
    );
    let summary: Vec<String> = logins
        .iter()
        .map(|(s, (n, max))| {
            format!(
                "{s}: {n} ({:.0}/s, slowest {max:.0} ms)",
                *n as f64 / a.seconds as f64
            )
        })
        .collect();
    println!("logins during the flood: {}", summary.join(", "));
    // 2. Enumeration, after the flood (whose logins succeed, so they count no failure):
    // a known name's wrong password and a never-seen name's, interleaved so that load changes
    // hit both alike. Keep known × 8 under the per-address limit (30), or the address locks.
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for (i, name) in a.known.iter().enumerate() {
        for j in 0..4 {
            let (s, ms) = login_once(&client, &a.url, name, "wrong-password-x").await?;
            if s != 401 {
                println!("known name {name}: unexpected {s}");
                ok = false;
            }
            known.push(ms);
            let other = format!("no-such-user-{}-{i}-{j}", std::process::id());
            let (s, ms) = login_once(&client, &a.url, &other, "wrong-password-x").await?;
            if s != 401 {
                println!("unknown name: unexpected {s}");
                ok = false;
            }
            unknown.push(ms);
        }
    }
    if !known.is_empty() {
        let (k50, k90) = median_p90(known.clone());
        let (u50, u90) = median_p90(unknown.clone());
        println!(
            "wrong password, known names ({} tries): median {k50:.1} ms, p90 {k90:.1} ms; \
             unknown names ({} tries): median {u50:.1} ms, p90 {u90:.1} ms; ratio {:.2}",
            known.len(),
            unknown.len(),
            u50 / k50
        );
    }
    if alone.first_error.is_some() || loaded.first_error.is_some() {
        println!(
            "intake errors: alone {:?}, under flood {:?}",
            alone.first_error, loaded.first_error
        );
        ok = false;
    }
    Ok(ok)
}
