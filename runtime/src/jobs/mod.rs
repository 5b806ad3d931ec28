/*!
Background jobs: a runner that ticks each [`Job`] at its interval until shutdown, and the jobs
themselves, one module each. The first is [`deadlines`] (签收/办结 deadlines and escalation).

Jobs run on every `m110d`; each job makes its own work safe to share — on PostgreSQL it claims
rows with `FOR UPDATE SKIP LOCKED`, so several servers on one database never do one piece of work
twice and never lose one.

The runner reports each pass to a [`JobMetrics`] (implemented by the HTTP front-end's Prometheus
registry), so jobs know nothing of HTTP.
*/

pub mod deadlines;
pub mod delivery;
pub mod forward;
pub mod margins;
pub mod offers;
pub mod routing;
pub mod sessions;
pub mod triage;
pub mod warning;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::model::time::now_ms;
use crate::store::StoreError;

/// What one pass of a job did: named counts (e.g. `("escalated", 3)`).
pub type Counts = Vec<(&'static str, u64)>;

/// A background job: one pass at a time, at time `now` (epoch milliseconds).
pub trait Job: Send + Sync + 'static {
    /// The job's name in metrics and logs.
    fn name(&self) -> &'static str;
    /// One pass; an error is logged and the pass is retried at the next tick.
    fn run(&self, now: i64) -> impl Future<Output = Result<Counts, StoreError>> + Send;
}

/// Where the runner reports passes (the Prometheus registry in production).
pub trait JobMetrics: Send + Sync {
    /// A pass of `job` finished (`<job>_failed` for a failed one).
    fn job_run(&self, job: &str);
    /// A pass of `job` did `n` things of `kind`.
    fn job_events(&self, job: &str, kind: &str, n: u64);
}

/// Runs `job` every `every` until `shutdown` turns true (the first pass is at once).
pub async fn run<J: Job>(
    job: J,
    every: Duration,
    metrics: Arc<dyn JobMetrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
        let name = job.name();
        match job.run(now_ms()).await {
            Ok(counts) => {
                metrics.job_run(name);
                for (kind, n) in &counts {
                    metrics.job_events(name, kind, *n);
                }
                if counts.iter().any(|(_, n)| *n > 0) {
                    let summary: Vec<String> =
                        counts.iter().map(|(k, n)| format!("{k}={n}")).collect();
                    tracing::info!(job = name, counts = %summary.join(" "), "job pass");
                }
            }
            Err(e) => {
                metrics.job_run(&format!("{name}_failed"));
                tracing::warn!(job = name, error = %e, "job pass failed; retrying next tick");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Default)]
    struct Recorded(Mutex<Vec<String>>);

    impl JobMetrics for Recorded {
        fn job_run(&self, job: &str) {
            self.0.lock().unwrap().push(format!("run {job}"));
        }
        fn job_events(&self, job: &str, kind: &str, n: u64) {
            self.0.lock().unwrap().push(format!("{job} {kind} {n}"));
        }
    }

    struct Counting(Arc<AtomicU32>);

    impl Job for Counting {
        fn name(&self) -> &'static str {
            "counting"
        }
        async fn run(&self, _now: i64) -> Result<Counts, StoreError> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            if n == 1 {
                Err(StoreError::Invalid("second pass fails".into()))
            } else {
                Ok(vec![("ticks", 1)])
            }
        }
    }

    #[tokio::test]
    async fn runs_each_tick_reports_and_stops_on_shutdown() {
        let passes = Arc::new(AtomicU32::new(0));
        let metrics = Arc::new(Recorded::default());
        let (stop, rx) = watch::channel(false);
        let handle = tokio::spawn(run(
            Counting(Arc::clone(&passes)),
            Duration::from_millis(5),
            metrics.clone(),
            rx,
        ));
        // Wait for the condition (three passes), bounded.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while passes.load(Ordering::SeqCst) < 3 {
            assert!(tokio::time::Instant::now() < deadline, "job did not tick");
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        stop.send(true).unwrap();
        handle.await.unwrap();
        let seen = metrics.0.lock().unwrap().clone();
        assert_eq!(seen[0..2], ["run counting", "counting ticks 1"]);
        assert!(
            seen.contains(&"run counting_failed".to_string()),
            "{seen:?}"
        );
    }
}
