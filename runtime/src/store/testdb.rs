/*!
Test support: a fresh, migrated database per test on each engine the run covers.

SQLite always (a file in a private temporary directory); PostgreSQL when the environment
variable [`PG_ENV`] (`M110_TEST_PG_URL`) is set — then each test gets its own
`CREATE DATABASE m110_t_<unique>`, dropped afterwards. Set but unreachable is a test failure,
never a skip. Only tests use this module; it is public so every runtime test crate can.

```no_run
# async fn t() {
use m110_runtime::store::testdb::{TestDb, test_engines};
for engine in test_engines() {
    let db = TestDb::new(engine).await;
    // db.store ...
}
# }
```
*/

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;

use super::{ConnectOptions, Engine, Store};

/// Environment variable carrying the PostgreSQL URL for tests.
pub const PG_ENV: &str = "M110_TEST_PG_URL";

/// The engines this test run covers: SQLite always, PostgreSQL when [`PG_ENV`] is set.
pub fn test_engines() -> Vec<Engine> {
    let mut v = vec![Engine::Sqlite];
    if std::env::var(PG_ENV).is_ok_and(|s| !s.is_empty()) {
        v.push(Engine::Postgres);
    } else {
        eprintln!("note: {PG_ENV} unset, PostgreSQL variants skipped");
    }
    v
}

/// A unique name for a test database or file: process id, time and a counter.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A throwaway database (SQLite file or PostgreSQL database), removed on drop.
pub struct TestDb {
    pub store: Store,
    pub engine: Engine,
    /// URL of the database, for opening more connections or handing to a binary.
    pub url: String,
    dir: Option<PathBuf>,
    pg: Option<(String, String)>,
}

impl TestDb {
    /// A fresh database with every migration applied.
    pub async fn new(engine: Engine) -> TestDb {
        TestDb::open(engine, true).await
    }

    /// A fresh, empty database (no migrations), for migration tests.
    pub async fn empty(engine: Engine) -> TestDb {
        TestDb::open(engine, false).await
    }

    async fn open(engine: Engine, migrate: bool) -> TestDb {
        let (url, dir, pg) = match engine {
            Engine::Sqlite => {
                let dir = std::env::temp_dir().join(unique_name("m110_t"));
                std::fs::create_dir_all(&dir).expect("create temp dir");
                let url = format!("sqlite://{}", dir.join("m110.db").display());
                (url, Some(dir), None)
            }
            Engine::Postgres => {
                let admin = std::env::var(PG_ENV).expect("M110_TEST_PG_URL set");
                let name = unique_name("m110_t");
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}")
                    });
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let _ = conn.close().await;
                (replace_db_name(&admin, &name), None, Some((admin, name)))
            }
        };
        let store = Store::connect_with(
            &url,
            &ConnectOptions {
                create_if_missing: true,
                migrate,
                ..ConnectOptions::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("open test database {url}: {e}"));
        TestDb {
            store,
            engine,
            url,
            dir,
            pg,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin, name)) = self.pg.take() {
            // Drop may run inside or outside a runtime: use a private one on its own thread.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                        let _ = sqlx::query(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut c)
                        .await;
                    }
                })
            })
            .join();
        }
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
