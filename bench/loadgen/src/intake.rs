//! HTTP intake load: closed-loop (N clients, each sending its next request when the last one is
//! answered — the peak rate) and open-loop (requests started at a fixed rate whatever the
//! answers, latency measured from the scheduled start so a stall is not hidden by the load
//! generator waiting for it), through the JSON API or Open311.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

/// Which intake endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// `POST /api/v1/cases` with a bearer token.
    Json,
    /// `POST /open311/v2/requests.json`, form-encoded, token as `api_key`.
    Open311,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Json => "JSON API",
            Mode::Open311 => "Open311",
        }
    }
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

/// What every request needs: where, how, and (Open311) the service codes to pick from.
pub struct Target {
    pub client: reqwest::Client,
    pub url: String,
    pub token: String,
    pub mode: Mode,
    pub services: Vec<String>,
}

impl Target {
    pub async fn new(url: &str, token: &str, mode: Mode, clients: usize) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(clients.max(16))
            .timeout(Duration::from_secs(30))
            .build()?;
        let services = if mode == Mode::Open311 {
            let v: serde_json::Value = client
                .get(format!("{url}/open311/v2/services.json"))
                .send()
                .await
                .with_context(|| format!("{url} is not reachable"))?
                .error_for_status()?
                .json()
                .await?;
            let codes: Vec<String> = v
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s["service_code"].as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            anyhow::ensure!(!codes.is_empty(), "{url}: Open311 lists no services");
            codes
        } else {
            Vec::new()
        };
        Ok(Self {
            client,
            url: url.to_string(),
            token: token.to_string(),
            mode,
            services,
        })
    }

    /// Sends request number `n`; Ok(()) only for the success status of the endpoint.
    async fn send(&self, n: u64) -> Result<(), String> {
        let (content, address) = TEXTS[(n as usize) % TEXTS.len()];
        // ~1 000 distinct callers, so the caller upsert both inserts and updates.
        let phone = format!("139{:08}", (n * 2_654_435_761) % 1000);
        let content = format!("{content}（{n}）");
        let (req, want) = match self.mode {
            Mode::Json => {
                let mut body = json!({
                    "channel": "phone",
                    "caller": {"phone": phone},
                    "content": content,
                });
                if !address.is_empty() {
                    body["location"] = json!({"address": address});
                }
                let req = self
                    .client
                    .post(format!("{}/api/v1/cases", self.url))
                    .bearer_auth(&self.token)
                    .json(&body);
                (req, 201)
            }
            Mode::Open311 => {
                let code = &self.services[(n as usize) % self.services.len()];
                let address = if address.is_empty() {
                    "水北街道"
                } else {
                    address
                };
                let form = [
                    ("api_key", self.token.as_str()),
                    ("service_code", code.as_str()),
                    ("description", content.as_str()),
                    ("address_string", address),
                    ("phone", phone.as_str()),
                ];
                let req = self
                    .client
                    .post(format!("{}/open311/v2/requests.json", self.url))
                    .form(&form);
                (req, 200)
            }
        };
        match req.send().await {
            Ok(r) if r.status().as_u16() == want => {
                let _ = r.bytes().await;
                Ok(())
            }
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                Err(format!(
                    "{status}: {}",
                    text.chars().take(300).collect::<String>()
                ))
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Latencies (seconds) of the successful requests, the failures and the first failure.
#[derive(Default)]
pub struct Outcome {
    pub latencies: Vec<f64>,
    pub errors: usize,
    pub first_error: Option<String>,
    pub elapsed: f64,
}

impl Outcome {
    fn merge(&mut self, o: Outcome) {
        self.latencies.extend(o.latencies);
        self.errors += o.errors;
        if self.first_error.is_none() {
            self.first_error = o.first_error;
        }
    }

    /// Successful requests per second over the window.
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed
    }

    /// The `p`th percentile latency in ms (nearest rank).
    pub fn pct(&mut self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        self.latencies.sort_by(f64::total_cmp);
        let i = ((p / 100.0) * (self.latencies.len() as f64 - 1.0)).round() as usize;
        self.latencies[i] * 1000.0
    }

    pub fn summary(&mut self) -> String {
        let (p50, p90, p99, max) = (
            self.pct(50.0),
            self.pct(90.0),
            self.pct(99.0),
            self.pct(100.0),
        );
        format!(
            "{} ok, {} errors, {:.0}/s, p50 {p50:.2} ms, p90 {p90:.2} ms, p99 {p99:.2} ms, max {max:.2} ms",
            self.latencies.len(),
            self.errors,
            self.rate(),
        )
    }
}

/// Closed loop: `clients` concurrent senders for `window`.
pub async fn closed_loop(
    target: Arc<Target>,
    clients: usize,
    window: Duration,
    seed: u64,
) -> anyhow::Result<Outcome> {
    let start = Instant::now();
    let deadline = start + window;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Outcome::default();
            let mut n: u64 = seed + c as u64 * 7919;
            while Instant::now() < deadline {
                n += 1;
                let t = Instant::now();
                match target.send(n).await {
                    Ok(()) => out.latencies.push(t.elapsed().as_secs_f64()),
                    Err(e) => {
                        out.errors += 1;
                        out.first_error.get_or_insert(e);
                    }
                }
            }
            out
        }));
    }
    let mut all = Outcome::default();
    for t in tasks {
        all.merge(t.await?);
    }
    all.elapsed = start.elapsed().as_secs_f64();
    Ok(all)
}

/// Open loop: one request started every `1/rate` s for `window`, each timed from its scheduled
/// start (so time spent queued behind a stall counts). At most `max_in_flight` outstanding;
/// a request that cannot start because of that cap counts as an error.
pub async fn open_loop(
    target: Arc<Target>,
    rate: f64,
    window: Duration,
    seed: u64,
    max_in_flight: usize,
) -> anyhow::Result<Outcome> {
    anyhow::ensure!(rate > 0.0, "--rate must be positive");
    let period = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now();
    let total = (window.as_secs_f64() * rate).round() as u64;
    let sem = Arc::new(tokio::sync::Semaphore::new(max_in_flight));
    let mut tasks = Vec::with_capacity(total as usize);
    let mut out = Outcome::default();
    for i in 0..total {
        let scheduled = start + period.mul_f64(i as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let Ok(permit) = sem.clone().try_acquire_owned() else {
            out.errors += 1;
            out.first_error
                .get_or_insert_with(|| format!("more than {max_in_flight} requests in flight"));
            continue;
        };
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let r = target.send(seed + i).await;
            drop(permit);
            (r, scheduled.elapsed().as_secs_f64())
        }));
    }
    for t in tasks {
        match t.await? {
            (Ok(()), secs) => out.latencies.push(secs),
            (Err(e), _) => {
                out.errors += 1;
                out.first_error.get_or_insert(e);
            }
        }
    }
    out.elapsed = window.as_secs_f64();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut o = Outcome {
            latencies: (1..=100).rev().map(|i| i as f64 / 1000.0).collect(),
            elapsed: 2.0,
            ..Outcome::default()
        };
        assert_eq!(o.pct(50.0).round(), 51.0);
        assert_eq!(o.pct(99.0).round(), 99.0);
        assert_eq!(o.pct(100.0).round(), 100.0);
        assert_eq!(o.rate(), 50.0);
        assert!(Outcome::default().pct(50.0).is_nan());
    }
}
