/*!
Prometheus metrics at `/metrics` (text exposition format 0.0.4), without a metrics crate:

- `m110_http_requests_total{method,route,status}` and the latency histogram
  `m110_http_request_duration_seconds{method,route}` — by the *matched* route (`/api/v1/cases/{id}`,
  `unmatched` for the rest) and a fixed method set (`GET` … `OPTIONS`, `other`), so neither ids
  nor invented methods explode the label space;
- `m110_cases{status}` — counted from the database at scrape time;
- `m110_job_runs_total{job}`, `m110_job_events_total{job,kind}` — background job activity;
- `m110_outbox_messages{platform,state}` and `m110_delivery_latency_seconds{platform}` — the
  delivery worker (pending / delivered / dead / manual / unrouted; enqueue → receiver's 2xx).

With `metrics_token` in `m110d.yaml` (or `M110_METRICS_TOKEN`), the page answers only
`Authorization: Bearer <token>` (compared in constant time); without it, it is public, for a
Prometheus on the same host or network.
*/

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::error::{ApiError, ApiResult};
use crate::jobs::JobMetrics;

/// Histogram bucket upper bounds, seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// In-process counters, shared through [`AppState`].
#[derive(Default)]
pub struct Metrics {
    /// (method, route) → status → series
    http: Mutex<BTreeMap<(String, String), BTreeMap<u16, Series>>>,
    jobs: Mutex<BTreeMap<String, u64>>,
    job_events: Mutex<BTreeMap<(String, String), u64>>,
    /// Client connections: open now, closed to make room at the cap, refused at the cap.
    conns_open: AtomicI64,
    conns_evicted: AtomicU64,
    conns_refused: AtomicU64,
}

impl Metrics {
    pub fn connection_opened(&self) {
        self.conns_open.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_closed(&self) {
        self.conns_open.fetch_sub(1, Ordering::Relaxed);
    }

    /// An idle connection closed to make room for a new one at the cap.
    pub fn connection_evicted(&self) {
        self.conns_evicted.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection answered 503 (or closed) at the cap, every other one busy.
    pub fn connection_refused(&self) {
        self.conns_refused.fetch_add(1, Ordering::Relaxed);
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut http = self.http.lock().unwrap_or_else(|e| e.into_inner());
        let s = http
            .entry((method.to_string(), route.to_string()))
            .or_default()
            .entry(status)
            .or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    /// Renders everything except the database gauges.
    pub fn render(&self, out: &mut String) {
        let http = self.http.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str(
            "# HELP m110_http_requests_total HTTP requests by method, matched route and status.\n",
        );
        out.push_str("# TYPE m110_http_requests_total counter\n");
        for ((method, route), by_status) in http.iter() {
            for (status, s) in by_status {
                let _ = writeln!(
                    out,
                    "m110_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                    escape(route),
                    s.count
                );
            }
        }
        out.push_str("# HELP m110_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE m110_http_request_duration_seconds histogram\n");
        for ((method, route), by_status) in http.iter() {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            let mut buckets = [0u64; BUCKETS.len()];
            let (mut count, mut sum) = (0u64, 0f64);
            for s in by_status.values() {
                count += s.count;
                sum += s.sum;
                for (i, b) in s.buckets.iter().enumerate() {
                    buckets[i] += b;
                }
            }
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "m110_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "m110_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "m110_http_request_duration_seconds_sum{{{labels}}} {sum}"
            );
            let _ = writeln!(
                out,
                "m110_http_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
        drop(http);
        let _ = writeln!(
            out,
            "# HELP m110_connections_open Client connections open.\n\
             # TYPE m110_connections_open gauge\n\
             m110_connections_open {}\n\
             # HELP m110_connections_evicted_total Idle connections closed to make room at the cap.\n\
             # TYPE m110_connections_evicted_total counter\n\
             m110_connections_evicted_total {}\n\
             # HELP m110_connections_refused_total Connections refused at the cap (all busy).\n\
             # TYPE m110_connections_refused_total counter\n\
             m110_connections_refused_total {}",
            self.conns_open.load(Ordering::Relaxed),
            self.conns_evicted.load(Ordering::Relaxed),
            self.conns_refused.load(Ordering::Relaxed),
        );
        out.push_str("# HELP m110_job_runs_total Background job runs.\n");
        out.push_str("# TYPE m110_job_runs_total counter\n");
        for (job, n) in self.jobs.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "m110_job_runs_total{{job=\"{job}\"}} {n}");
        }
        out.push_str("# HELP m110_job_events_total Events written by background jobs.\n");
        out.push_str("# TYPE m110_job_events_total counter\n");
        for ((job, kind), n) in self
            .job_events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "m110_job_events_total{{job=\"{job}\",kind=\"{kind}\"}} {n}"
            );
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: counts and times every request by matched route.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = method_label(req.method()).to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

/// The method label: one of a fixed set, whatever a client sends.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// True when no token is configured, or the request carries it as a Bearer token.
fn token_ok(expected: Option<&str>, headers: &HeaderMap) -> bool {
    let Some(expected) = expected else {
        return true;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    // Constant time over the expected length: no early exit on the first differing byte.
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if !token_ok(state.config.metrics_token.as_deref(), &headers) {
        return Err(ApiError::Unauthenticated);
    }
    let mut out = String::with_capacity(8192);
    state.metrics.render(&mut out);
    let counts = state.store.case_counts_by_status().await?;
    out.push_str("# HELP m110_cases Cases by status.\n");
    out.push_str("# TYPE m110_cases gauge\n");
    for status in crate::model::Status::ALL {
        let n = counts
            .iter()
            .find(|(s, _)| s == status.as_str())
            .map(|(_, n)| *n)
            .unwrap_or(0);
        let _ = writeln!(out, "m110_cases{{status=\"{}\"}} {n}", status.as_str());
    }
    out.push_str("# HELP m110_outbox_messages Outbox messages by platform and delivery state.\n");
    out.push_str("# TYPE m110_outbox_messages gauge\n");
    for c in state.store.outbox_counts().await? {
        let _ = writeln!(
            out,
            "m110_outbox_messages{{platform=\"{}\",state=\"{}\"}} {}",
            escape(c.platform_id.as_deref().unwrap_or("")),
            escape(&c.state),
            c.n
        );
    }
    const BOUNDS_MS: [i64; 10] = [
        100, 500, 1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000,
    ];
    out.push_str(
        "# HELP m110_delivery_latency_seconds Enqueue to the receiver's 2xx, per platform.\n",
    );
    out.push_str("# TYPE m110_delivery_latency_seconds histogram\n");
    for (platform, buckets, n, total) in state.store.delivery_latency(&BOUNDS_MS).await? {
        let p = escape(&platform);
        for (b, count) in BOUNDS_MS.iter().zip(&buckets) {
            let _ = writeln!(
                out,
                "m110_delivery_latency_seconds_bucket{{platform=\"{p}\",le=\"{}\"}} {count}",
                *b as f64 / 1000.0
            );
        }
        let _ = writeln!(
            out,
            "m110_delivery_latency_seconds_bucket{{platform=\"{p}\",le=\"+Inf\"}} {n}"
        );
        let _ = writeln!(
            out,
            "m110_delivery_latency_seconds_sum{{platform=\"{p}\"}} {}",
            total as f64 / 1000.0
        );
        let _ = writeln!(
            out,
            "m110_delivery_latency_seconds_count{{platform=\"{p}\"}} {n}"
        );
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

/// The job runner reports its passes here.
impl JobMetrics for Metrics {
    /// One run of background job `job`.
    fn job_run(&self, job: &str) {
        *self
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(job.to_string())
            .or_default() += 1;
    }

    /// `n` events of `kind` written by job `job`.
    fn job_events(&self, job: &str, kind: &str, n: u64) {
        *self
            .job_events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((job.to_string(), kind.to_string()))
            .or_default() += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_a_fixed_set_and_the_token_is_checked() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::TRACE), "other");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        let mut h = HeaderMap::new();
        assert!(token_ok(None, &h));
        assert!(!token_ok(Some("s3cret-token"), &h));
        h.insert(
            header::AUTHORIZATION,
            "Bearer s3cret-tokem".parse().unwrap(),
        );
        assert!(!token_ok(Some("s3cret-token"), &h));
        h.insert(
            header::AUTHORIZATION,
            "Bearer s3cret-token".parse().unwrap(),
        );
        assert!(token_ok(Some("s3cret-token"), &h));
    }

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.observe("POST", "/api/v1/cases", 201, 0.004);
        m.observe("POST", "/api/v1/cases", 201, 0.2);
        m.observe("POST", "/api/v1/cases", 422, 0.001);
        m.job_run("deadlines");
        m.job_events("deadlines", "overdue_sign", 3);
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains(
            "m110_http_requests_total{method=\"POST\",route=\"/api/v1/cases\",status=\"201\"} 2"
        ));
        assert!(out.contains(
            "m110_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/cases\",le=\"0.005\"} 2"
        ));
        assert!(out.contains(
            "m110_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/cases\"} 3"
        ));
        assert!(out.contains("m110_job_runs_total{job=\"deadlines\"} 1"));
        assert!(out.contains("m110_job_events_total{job=\"deadlines\",kind=\"overdue_sign\"} 3"));
    }
}
