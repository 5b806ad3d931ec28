/*!
A running server process: `m110d serve` (or `m110 up`) started on `127.0.0.1:0`, its address read
from the line it prints once bound, then `/readyz` awaited. No port is chosen before the server
binds, so two tests can never race for one.

The process's stdout and stderr are captured; when a test fails while a server is up, the tail
of its log is printed with the failure instead of interleaving every server's log with the
test output.
*/

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a server may take to print its address and then to answer `/readyz`.
const STARTUP: Duration = Duration::from_secs(30);
/// Log lines shown when a test fails while the server runs.
const LOG_TAIL: usize = 60;

/// A running server, killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// The base URL in a `… serving: http://ADDR/ …` line (`m110d serve` and `m110 up` print one).
pub fn serving_url(line: &str) -> Option<String> {
    let rest = line.split("serving: ").nth(1)?;
    let url = rest.split_whitespace().next()?;
    url.starts_with("http://")
        .then(|| url.trim_end_matches('/').to_string())
}

/// Removes the `M110_*` variables (except the log filter `M110_LOG`) a developer's shell may
/// carry, so a child process reads only the install and the flags a test gives it.
pub fn clean_env(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        if let Some(k) = key.to_str()
            && k.starts_with("M110_")
            && k != "M110_LOG"
        {
            cmd.env_remove(k);
        }
    }
    cmd
}

impl Server {
    /// `m110d serve --install DIR --listen 127.0.0.1:0 EXTRA…`, ready to serve.
    pub fn start(install: &Path, extra_args: &[&str]) -> Server {
        let mut cmd = Command::new(crate::bin("m110d"));
        cmd.arg("serve")
            .arg("--install")
            .arg(install)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra_args);
        Server::spawn(cmd)
    }

    /// Spawns `cmd` (which must listen on port 0 and print its `serving:` line), waits for the
    /// address and then for `/readyz`. Fails the test with the process's output otherwise.
    pub fn spawn(mut cmd: Command) -> Server {
        clean_env(&mut cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().expect("piped stdout");
        collect_lines(out, Arc::clone(&stdout), Some(tx));
        let err = child.stderr.take().expect("piped stderr");
        collect_lines(err, Arc::clone(&stderr), None);
        let mut server = Server {
            child,
            base: String::new(),
            stdout,
            stderr,
        };
        match rx.recv_timeout(STARTUP) {
            Ok(base) => server.base = base,
            Err(e) => {
                let status = server.child.try_wait().ok().flatten();
                panic!(
                    "{cmd:?} printed no `serving:` address ({}; exit status {status:?})\n{}",
                    match e {
                        mpsc::RecvTimeoutError::Timeout => "timed out",
                        mpsc::RecvTimeoutError::Disconnected => "stdout closed",
                    },
                    server.output()
                );
            }
        }
        server.wait_ready();
        server
    }

    /// `BASE + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Everything the process printed on stdout so far.
    pub fn stdout(&self) -> String {
        lines(&self.stdout).join("\n")
    }

    /// Waits until stdout holds `needle` (lines printed after the address may still be in the
    /// pipe when the server is ready) and returns all of stdout.
    pub fn wait_stdout(&self, needle: &str, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let out = self.stdout();
            if out.contains(needle) {
                return out;
            }
            assert!(
                start.elapsed() < limit,
                "server at {} printed no {needle:?} within {limit:?}\n{}",
                self.base,
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stdout and the tail of stderr, for failure messages.
    fn output(&self) -> String {
        let err = lines(&self.stderr);
        let tail = &err[err.len().saturating_sub(LOG_TAIL)..];
        format!(
            "--- stdout\n{}\n--- stderr (last {} lines)\n{}",
            self.stdout(),
            tail.len(),
            tail.join("\n")
        )
    }

    fn wait_ready(&mut self) {
        let start = Instant::now();
        let url = self.url("/readyz");
        loop {
            if probe_ok(&url).unwrap_or(false) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "server at {} exited before ready ({status})\n{}",
                    self.base,
                    self.output()
                );
            }
            assert!(
                start.elapsed() < STARTUP,
                "server at {} not ready within {STARTUP:?}\n{}",
                self.base,
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("=== server {} ===\n{}", self.base, self.output());
        }
    }
}

/// Reads `from` line by line into `into` on a thread of its own; the first line carrying a
/// `serving:` address is also sent on `announce`.
fn collect_lines(
    from: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<String>>>,
    mut announce: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = String::from_utf8_lossy(&buf).trim_end().to_string();
            let url = serving_url(&line);
            into.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            if let Some(url) = url
                && let Some(tx) = announce.take()
            {
                let _ = tx.send(url);
            }
        }
    });
}

fn lines(buf: &Mutex<Vec<String>>) -> Vec<String> {
    buf.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Minimal blocking readiness probe (reqwest's blocking client is not enabled).
fn probe_ok(url: &str) -> std::io::Result<bool> {
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut s = TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = String::new();
    s.read_to_string(&mut buf)?;
    Ok(buf.starts_with("HTTP/1.1 200"))
}

#[cfg(test)]
mod tests {
    use super::serving_url;

    #[test]
    fn serving_line_of_m110d_and_m110_up() {
        assert_eq!(
            serving_url(
                "服务地址 / serving: http://127.0.0.1:41234/  (API: http://127.0.0.1:41234/api/v1, \
                 Open311: http://127.0.0.1:41234/open311/v2)"
            )
            .as_deref(),
            Some("http://127.0.0.1:41234")
        );
        assert_eq!(serving_url("m110d serving addr=127.0.0.1:1"), None);
        assert_eq!(serving_url("管理员 / admin login: admin"), None);
    }
}
