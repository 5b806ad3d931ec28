//! The raw engine limit, measured directly — never through the project's store: the same work
//! an intake does at minimum (one case row plus one event row, in one transaction) on tables
//! shaped like `cases` and `case_events` (same columns that intake fills, same indexes).
//!
//! SQLite: rusqlite on one connection (SQLite has one writer), WAL, `synchronous=NORMAL`,
//! prepared statements. PostgreSQL: the same two inserts per transaction from as many concurrent
//! connections as the HTTP load uses, as pgbench would.

use std::time::{Duration, Instant};

use anyhow::Context;

/// The `cases` / `case_events` shape (runtime/migrations/*/0001_initial.sql, the columns intake
/// writes and every index); `{id}` is the engine's key type.
fn ddl(prefix: &str, id: &str) -> String {
    format!(
        "CREATE TABLE {prefix}cases (
            id {id}, public_id TEXT NOT NULL UNIQUE, channel TEXT NOT NULL, caller_id BIGINT,
            content TEXT NOT NULL, category_code TEXT, grid_code TEXT, address TEXT,
            priority TEXT NOT NULL, status TEXT NOT NULL, operator_id BIGINT, unit_id TEXT,
            sign_due BIGINT, close_due BIGINT, created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL, version BIGINT NOT NULL DEFAULT 1);
         CREATE INDEX {prefix}c1 ON {prefix}cases (status, updated_at);
         CREATE INDEX {prefix}c2 ON {prefix}cases (unit_id, status);
         CREATE INDEX {prefix}c3 ON {prefix}cases (operator_id, status);
         CREATE INDEX {prefix}c4 ON {prefix}cases (status, sign_due);
         CREATE INDEX {prefix}c5 ON {prefix}cases (status, close_due);
         CREATE INDEX {prefix}c6 ON {prefix}cases (caller_id, created_at);
         CREATE INDEX {prefix}c7 ON {prefix}cases (created_at);
         CREATE INDEX {prefix}c8 ON {prefix}cases (category_code, created_at);
         CREATE INDEX {prefix}c9 ON {prefix}cases (grid_code, created_at);
         CREATE TABLE {prefix}case_events (
            id {id}, case_id BIGINT NOT NULL REFERENCES {prefix}cases (id), seq BIGINT NOT NULL,
            kind TEXT NOT NULL, from_status TEXT, to_status TEXT, actor_id BIGINT, unit_id TEXT,
            note TEXT, detail TEXT, at BIGINT NOT NULL, UNIQUE (case_id, seq));
         CREATE INDEX {prefix}e1 ON {prefix}case_events (kind, at);"
    )
}

const CONTENT: &str = "门口的路灯坏了好几天，晚上很黑";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Transactions per second of (case insert + event insert) on one rusqlite connection to a
/// fresh file in a temporary directory, for `window`.
pub fn sqlite(window: Duration) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let mut conn = rusqlite::Connection::open(dir.path().join("raw.db"))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )?;
    conn.execute_batch(&ddl("", "INTEGER PRIMARY KEY"))?;
    let start = Instant::now();
    let mut n: i64 = 0;
    while start.elapsed() < window {
        n += 1;
        let at = now_ms();
        let tx = conn.transaction()?;
        {
            let mut c = tx.prepare_cached(
                "INSERT INTO cases (public_id, channel, caller_id, content, category_code, \
                 grid_code, address, priority, status, unit_id, sign_due, close_due, created_at, \
                 updated_at) VALUES (?1, 'phone', ?2, ?3, 'lighting', '350781001', '公太社区', \
                 'normal', 'dispatched', 'unit-1', ?4, ?5, ?6, ?6)",
            )?;
            c.execute(rusqlite::params![
                format!("R-{n}"),
                n % 1000,
                CONTENT,
                at + 1_800_000,
                at + 86_400_000,
                at
            ])?;
            let id = tx.last_insert_rowid();
            let mut e = tx.prepare_cached(
                "INSERT INTO case_events (case_id, seq, kind, to_status, unit_id, detail, at) \
                 VALUES (?1, 1, 'received', 'received', 'unit-1', '{}', ?2)",
            )?;
            e.execute(rusqlite::params![id, at])?;
        }
        tx.commit()?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Transactions per second of (case insert + event insert) from `clients` concurrent
/// tokio-postgres connections to `url`, for `window`, on scratch tables dropped afterwards.
pub async fn postgres(url: &str, clients: usize, window: Duration) -> anyhow::Result<f64> {
    let prefix = format!("bench_raw_{}_", std::process::id());
    let (admin, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("cannot connect to {url}"))?;
    tokio::spawn(conn);
    admin
        .batch_execute(&ddl(&prefix, "BIGSERIAL PRIMARY KEY"))
        .await?;
    let result = pg_run(url, &prefix, clients, window).await;
    admin
        .batch_execute(&format!(
            "DROP TABLE {prefix}case_events; DROP TABLE {prefix}cases;"
        ))
        .await?;
    result
}

async fn pg_run(url: &str, prefix: &str, clients: usize, window: Duration) -> anyhow::Result<f64> {
    let mut conns = Vec::new();
    for _ in 0..clients {
        let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        conns.push(c);
    }
    let start = Instant::now();
    let deadline = start + window;
    let mut tasks = Vec::new();
    for (k, mut c) in conns.into_iter().enumerate() {
        let prefix = prefix.to_string();
        tasks.push(tokio::spawn(async move {
            let ins_case = c
                .prepare(&format!(
                    "INSERT INTO {prefix}cases (public_id, channel, caller_id, content, \
                     category_code, grid_code, address, priority, status, unit_id, sign_due, \
                     close_due, created_at, updated_at) VALUES ($1, 'phone', $2, $3, 'lighting', \
                     '350781001', '公太社区', 'normal', 'dispatched', 'unit-1', $4, $5, $6, $6) \
                     RETURNING id"
                ))
                .await?;
            let ins_event = c
                .prepare(&format!(
                    "INSERT INTO {prefix}case_events (case_id, seq, kind, to_status, unit_id, \
                     detail, at) VALUES ($1, 1, 'received', 'received', 'unit-1', '{{}}', $2)"
                ))
                .await?;
            let mut n: u64 = 0;
            while Instant::now() < deadline {
                n += 1;
                let at = now_ms();
                let tx = c.transaction().await?;
                let row = tx
                    .query_one(
                        &ins_case,
                        &[
                            &format!("R-{k}-{n}"),
                            &((n % 1000) as i64),
                            &CONTENT,
                            &(at + 1_800_000),
                            &(at + 86_400_000),
                            &at,
                        ],
                    )
                    .await?;
                let id: i64 = row.get(0);
                tx.execute(&ins_event, &[&id, &at]).await?;
                tx.commit().await?;
            }
            anyhow::Ok(n)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_raw_rate_is_measured() {
        let rate = sqlite(Duration::from_millis(200)).unwrap();
        assert!(rate > 10.0, "{rate}");
    }

    #[tokio::test]
    async fn postgres_raw_rate_is_measured_when_a_server_is_given() {
        let Ok(url) = std::env::var("M110_TEST_PG_URL") else {
            return;
        };
        let rate = postgres(&url, 4, Duration::from_millis(300)).await.unwrap();
        assert!(rate > 10.0, "{rate}");
    }
}
