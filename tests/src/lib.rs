/*!
Helpers for the end-to-end suite: locate the real `m110` and `m110d` binaries, run each test once
per database engine ([`per_engine!`]), provision installs and start servers ([`Install`],
[`Server`]), drive the JSON API as every role ([`App`]) and a real browser ([`browser`]), and wait
on conditions instead of sleeping ([`eventually`]).

Engines: SQLite always; PostgreSQL when `M110_TEST_PG_URL` is set ([`PG_ENV`], the runtime test
kit's variable). Each test on PostgreSQL gets a fresh database from the runtime's
[`m110_runtime::store::testdb`], dropped afterwards. Set but unreachable is a failure, never a
skip.

`cargo test --workspace` builds both binaries before any test runs (each binary's crate has
integration tests, which makes cargo build the executables).
*/

pub mod app;
pub mod browser;
pub mod history;
pub mod install;
pub mod server;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Command, Output, Stdio};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

pub use app::App;
pub use install::{Install, PASSWORD, STAFF, copy_dir, login};
pub use m110_runtime::store::Engine;
pub use m110_runtime::store::testdb::PG_ENV;
pub use server::Server;

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

/// Status, stdout and stderr of a finished command, for assertion messages.
pub fn output_text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// True when this run covers PostgreSQL (`M110_TEST_PG_URL` set and not empty).
pub fn postgres_configured() -> bool {
    std::env::var(PG_ENV).is_ok_and(|s| !s.is_empty())
}

/// Human name of an engine, for messages.
pub fn engine_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "SQLite",
        Engine::Postgres => "PostgreSQL",
    }
}

/// Runs one engine's variant of a test (what [`per_engine!`] expands to).
///
/// On PostgreSQL without `M110_TEST_PG_URL` it prints a note and returns (the run does not
/// cover PostgreSQL); with it set, an unreachable server fails the test when the test opens its
/// database. A failure is re-raised with the engine's name in front of the message, so the
/// report says which engine failed even where an assertion does not.
pub async fn run_on<F, Fut>(engine: Engine, test: F)
where
    F: FnOnce(Engine) -> Fut,
    Fut: Future<Output = ()>,
{
    if engine == Engine::Postgres && !postgres_configured() {
        eprintln!("note: {PG_ENV} unset, PostgreSQL variant skipped");
        return;
    }
    if let Err(panic) = (CatchUnwind(Box::pin(test(engine)))).await {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(non-text panic)");
        panic!("[{}] {message}", engine_name(engine));
    }
}

/// A future that turns a panic while polling into an `Err` (the test's body is polled in place,
/// so it needs neither `Send` nor `'static`).
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.get_mut().0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// Runs an `async fn NAME(engine: Engine)` as two tests, one per engine:
///
/// ```text
/// per_engine!(provisions);
/// /// What the test shows.
/// async fn provisions(engine: Engine) {
///     let install = Install::provision(engine, "shaowu").await;
///     // ...
/// }
/// ```
///
/// declares a module `provisions` (modules and functions do not share a namespace) holding the
/// `#[tokio::test]`s `sqlite` and `postgres`, so a SQLite failure never hides a PostgreSQL one
/// and the test name says which engine failed (`cargo test provisions::postgres`). Attributes
/// written before the name (`per_engine!(#[ignore = "why"] name)`) go on both tests. The test
/// body stays an ordinary function, formatted and linted like any other; a body that no
/// `per_engine!` runs is dead code, which the lints refuse. The PostgreSQL variant prints a
/// note and passes when `M110_TEST_PG_URL` is unset (see [`run_on`]).
#[macro_export]
macro_rules! per_engine {
    ($(#[$meta:meta])* $name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$meta])*
            async fn sqlite() {
                $crate::run_on($crate::Engine::Sqlite, super::$name).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$meta])*
            async fn postgres() {
                $crate::run_on($crate::Engine::Postgres, super::$name).await
            }
        }
    };
}

/// Polls `probe` every 100 ms until it yields `Some`, and returns that; fails the test naming
/// `what` when `limit` passes first. For conditions that become true on their own time (a
/// background job, a server starting) — never a fixed sleep.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of one series (`NAME{LABELS}`, written exactly as exposed) in a Prometheus text
/// exposition, e.g. `metric(text, "m110_job_runs_total{job=\"deadlines\"}")`.
pub fn metric(exposition: &str, series: &str) -> Option<f64> {
    exposition
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// Current time in epoch milliseconds (the unit the schema stores).
/// The body of a GET as `client` (a signed-in console session, usually): the page's HTML.
pub async fn get_html(client: &reqwest::Client, url: &str) -> String {
    let resp = client.get(url).send().await.expect("GET");
    resp.text().await.expect("body")
}

/// The CSRF token of the first form of a console page.
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a csrf token")
        + 19;
    html[at..].split('"').next().unwrap_or_default().to_string()
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}
