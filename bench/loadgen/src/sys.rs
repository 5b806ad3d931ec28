//! Machine facts and `/proc` readings: every tool prints the machine with its figures, and the
//! memory and CPU figures of `m110d` come from its `/proc/PID/status` and `/proc/PID/stat`.

use std::time::{Duration, Instant};

use anyhow::Context;

/// `nproc`, CPU model and load average, one line, printed with every figure.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "?".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into());
    format!("machine: nproc {cores}, {model}, load average {load}")
}

/// Resident set size of `pid` in MiB (`VmRSS`).
pub fn rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("no process {pid}"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("/proc/{pid}/status has no VmRSS"))?;
    Ok(kb / 1024.0)
}

/// User + system CPU time of `pid` so far, in clock ticks (fields 14 and 15 of `/proc/PID/stat`,
/// counted after the command name, which may itself hold spaces).
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("no process {pid}"))?;
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("unreadable /proc/PID/stat")?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ")": state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = f.get(11).and_then(|v| v.parse().ok()).context("no utime")?;
    let stime: u64 = f.get(12).and_then(|v| v.parse().ok()).context("no stime")?;
    Ok(utime + stime)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux this runs on otherwise).
fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU used by `pid` over `window`, as a percentage of one core.
pub async fn cpu_percent(pid: u32, window: Duration) -> anyhow::Result<f64> {
    let hz = ticks_per_second();
    let t0 = Instant::now();
    let c0 = cpu_ticks(pid)?;
    tokio::time::sleep(window).await;
    let c1 = cpu_ticks(pid)?;
    let secs = t0.elapsed().as_secs_f64();
    Ok((c1 - c0) as f64 / hz / secs * 100.0)
}

/// Samples the RSS of `pid` every 100 ms until dropped; `peak()` is the largest seen.
pub struct RssSampler {
    peak: std::sync::Arc<std::sync::Mutex<f64>>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    pub fn start(pid: u32) -> Self {
        let peak = std::sync::Arc::new(std::sync::Mutex::new(0.0f64));
        let p = peak.clone();
        let task = tokio::spawn(async move {
            loop {
                if let Ok(r) = rss_mib(pid) {
                    let mut g = p.lock().unwrap_or_else(|e| e.into_inner());
                    *g = g.max(r);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Self { peak, task }
    }

    pub fn peak(&self) -> f64 {
        *self.peak.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        let pid = std::process::id();
        assert!(rss_mib(pid).unwrap() > 0.0);
        assert!(cpu_ticks(pid).is_ok());
        assert!(rss_mib(u32::MAX).is_err());
        assert!(machine().starts_with("machine: nproc "));
    }
}
