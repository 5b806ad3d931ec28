/*!
Helpers for the end-to-end suite: locate the real `m110` and `m110d` binaries, pick the databases a
test runs on (SQLite always, PostgreSQL when `M110_TEST_PG_URL` is set), create a fresh database
per test, and start `m110d` on a free port.

`cargo test --workspace` builds both binaries before any test runs (each binary's crate has
integration tests, which makes cargo build the executables).
*/

pub mod browser;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

/// Environment variable carrying the PostgreSQL URL for tests.
pub const PG_ENV: &str = "M110_TEST_PG_URL";

/// Path of a workspace binary (`m110`, `m110d`) next to the running test executable.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/e2e-<hash> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} not built; run `cargo test --workspace` (or `cargo build --bins`) first",
        path.display()
    );
    path
}

/// Root of the workspace (for `profiles/`, `templates/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Runs a binary with arguments and returns its output (stdin closed).
pub fn run(bin_name: &str, args: &[&str]) -> Output {
    Command::new(bin(bin_name))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("spawn")
}

/// Which database engine a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The engines this run covers: SQLite always, PostgreSQL when `M110_TEST_PG_URL` is set.
pub fn engines() -> Vec<Engine> {
    let mut v = vec![Engine::Sqlite];
    if std::env::var(PG_ENV).is_ok_and(|s| !s.is_empty()) {
        v.push(Engine::Postgres);
    } else {
        eprintln!("note: {PG_ENV} unset, PostgreSQL variants skipped");
    }
    v
}

/// A fresh PostgreSQL database for one test, dropped when this value is dropped.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    /// Creates `m110_test_<unique>`; panics (fails the test) when the server is unreachable.
    pub async fn create() -> PgDatabase {
        let admin_url = std::env::var(PG_ENV).expect("M110_TEST_PG_URL set");
        let name = format!(
            "m110_test_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}"));
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let url = replace_db_name(&admin_url, &name);
        PgDatabase {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside any runtime guarantee: use a private one.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut c)
                            .await;
                }
            })
        })
        .join();
    }
}

/// Replaces the database name (path) of a PostgreSQL URL, keeping any query string.
pub fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..host_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `m110d`, killed on drop.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    /// Starts `m110d serve --install DIR --listen 127.0.0.1:<free>` and waits for `/readyz`.
    pub fn start(install: &Path, extra_args: &[&str]) -> Server {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec![
            "serve".to_string(),
            "--install".to_string(),
            install.display().to_string(),
            "--listen".to_string(),
            listen.clone(),
        ];
        args.extend(extra_args.iter().map(|s| s.to_string()));
        let child = Command::new(bin("m110d"))
            .args(&args)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn m110d");
        let server = Server {
            child,
            base: format!("http://{listen}"),
        };
        server.wait_ready(Duration::from_secs(30));
        server
    }

    fn wait_ready(&self, limit: Duration) {
        let start = Instant::now();
        let url = format!("{}/readyz", self.base);
        while start.elapsed() < limit {
            if let Ok(true) = probe::get_ok(&url) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("m110d at {} not ready within {limit:?}", self.base);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Minimal blocking readiness probe (reqwest's blocking client is not enabled).
mod probe {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    pub fn get_ok(url: &str) -> std::io::Result<bool> {
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
}
