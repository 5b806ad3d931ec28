//! Grows a provisioned install's database by N synthetic cases, in SQL on the server side
//! (`INSERT … SELECT` from a recursive CTE on SQLite, `generate_series` on PostgreSQL), in chunks
//! of `--chunk` cases per transaction.
//!
//! Each case is a pure function of its number `n`: created uniformly over the three years up to
//! now (with a jitter within the hour), category skewed towards the profile's first categories,
//! grid unit half skewed (hot spots) and half uniform over the leaf grid units, the unit the
//! category's region-wide routing rule names (else the region's fallback), channel 60 % phone /
//! 15 % web / 10 % Open311 / 10 % grid / 5 % SMS, and a status that depends on age (older than
//! 15 days: almost all closed; 3–15 days: mostly replied or closed; under 3 days: spread over the
//! open statuses), 0.8 % transferred to the police. Every case gets its timeline (`received`,
//! `dispatched` with its due times, `signed`, `replied`, `followed_up` with the satisfaction,
//! `closed` — as far as its status goes), its `case_facts` row and its rollup counts, computed
//! by the same rules as `runtime/src/store/rollups.rs::derive` (so `m110d`'s start-up sync finds
//! nothing to redo and the analytics pages read real figures). Public ids are `GEN-<id>`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;

#[derive(clap::Args)]
pub struct Args {
    /// The install's SQLite database file (e.g. INSTALL/m110.db).
    #[arg(
        long,
        conflicts_with = "postgres",
        required_unless_present = "postgres"
    )]
    sqlite: Option<PathBuf>,
    /// The install's PostgreSQL URL.
    #[arg(long)]
    postgres: Option<String>,
    /// Cases to add.
    #[arg(long)]
    cases: u64,
    /// Cases per transaction.
    #[arg(long, default_value_t = 250_000)]
    chunk: u64,
}

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
const SPAN: i64 = 3 * 365 * DAY;

/// Upper bounds in minutes of the rollups' duration buckets (runtime/src/store/rollups.rs
/// `BOUNDS_MIN`; a test checks the SQL against the runtime's `bucket_of`).
const BOUNDS_MIN: [i64; 22] = [
    5, 10, 15, 30, 60, 120, 180, 240, 360, 480, 720, 1440, 2880, 4320, 7200, 10080, 14400, 21600,
    30240, 43200, 86400, 525600,
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The integers `lo..=hi` as rows of a column `n`.
    fn series(self, lo: u64, hi: u64) -> String {
        match self {
            Dialect::Sqlite => {
                format!("s(n) AS (SELECT {lo} UNION ALL SELECT n + 1 FROM s WHERE n < {hi})")
            }
            Dialect::Postgres => {
                format!("s(n) AS (SELECT generate_series({lo}::bigint, {hi}::bigint))")
            }
        }
    }

    fn with(self) -> &'static str {
        match self {
            Dialect::Sqlite => "WITH RECURSIVE",
            Dialect::Postgres => "WITH",
        }
    }

    fn min(self, a: &str, b: &str) -> String {
        match self {
            Dialect::Sqlite => format!("min({a}, {b})"),
            Dialect::Postgres => format!("LEAST({a}, {b})"),
        }
    }

    /// An epoch-ms expression as RFC 3339 (UTC, whole seconds), as the timeline's due times.
    fn rfc3339(self, ms: &str) -> String {
        match self {
            Dialect::Sqlite => {
                format!("strftime('%Y-%m-%dT%H:%M:%SZ', ({ms}) / 1000, 'unixepoch')")
            }
            Dialect::Postgres => format!(
                "to_char(to_timestamp(({ms}) / 1000) AT TIME ZONE 'UTC', \
                 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            ),
        }
    }
}

/// The duration bucket of an epoch-ms duration expression.
pub fn bucket_sql(ms: &str) -> String {
    let m = format!("((({ms}) + 59999) / 60000)");
    let mut s = String::from("(CASE");
    for (i, b) in BOUNDS_MIN.iter().enumerate() {
        s.push_str(&format!(" WHEN {m} <= {b} THEN {i}"));
    }
    s.push_str(&format!(" ELSE {} END)", BOUNDS_MIN.len()));
    s
}

/// Asia/Shanghai day number and hour of an epoch-ms expression (times here are positive).
pub fn day_sql(at: &str) -> String {
    format!("((({at}) + {}) / {DAY})", 8 * HOUR)
}
pub fn hour_sql(at: &str) -> String {
    format!("(((({at}) + {}) % {DAY}) / {HOUR})", 8 * HOUR)
}

/// One fact of a generated case: (metric, time, unit, bucket, condition), all over `g_gen`.
/// `sign_due` / `close_due` are compared at whole seconds, as the timeline stores them.
const FACTS: &[(&str, &str, &str, &str, &str)] = &[
    ("received", "c_at", "COALESCE(unit_id, '')", "0", "1 = 1"),
    ("transferred", "t_at", "''", "0", "t_at IS NOT NULL"),
    ("dispatched", "d_at", "unit_id", "0", "d_at IS NOT NULL"),
    ("signed", "s_at", "unit_id", "0", "s_at IS NOT NULL"),
    (
        "sign_late",
        "s_at",
        "unit_id",
        "0",
        "s_at IS NOT NULL AND s_at > (sign_due / 1000) * 1000",
    ),
    (
        "sign_time",
        "s_at",
        "unit_id",
        "BUCKET(s_at - d_at)",
        "s_at IS NOT NULL",
    ),
    ("replied", "r_at", "unit_id", "0", "r_at IS NOT NULL"),
    (
        "reply_late",
        "r_at",
        "unit_id",
        "0",
        "r_at IS NOT NULL AND r_at > (close_due / 1000) * 1000",
    ),
    ("followed_up", "f_at", "unit_id", "0", "f_at IS NOT NULL"),
    (
        "satisfied",
        "f_at",
        "unit_id",
        "0",
        "f_at IS NOT NULL AND sat < 96",
    ),
    (
        "unsatisfied",
        "f_at",
        "unit_id",
        "0",
        "f_at IS NOT NULL AND sat >= 96",
    ),
    ("closed", "cl_at", "unit_id", "0", "cl_at IS NOT NULL"),
    (
        "close_time",
        "cl_at",
        "unit_id",
        "BUCKET(cl_at - c_at)",
        "cl_at IS NOT NULL",
    ),
];

fn bucket_of_fact(b: &str) -> String {
    match b.strip_prefix("BUCKET(").and_then(|r| r.strip_suffix(')')) {
        Some(inner) => bucket_sql(inner),
        None => b.to_string(),
    }
}

const TEXTS: &[&str] = &[
    "门口的路灯坏了好几天，晚上很黑",
    "小区停水一整天了，也没有通知",
    "楼上装修噪音太大，晚上还在施工",
    "邻居为宅基地边界吵架，请帮忙调解",
    "独居老人摔倒了没人管，需要帮助",
    "村道水毁，车辆无法通行",
    "想找家政保洁，有没有推荐",
    "请问社保卡怎么补办",
    "饭店油烟扰民，投诉多次没人处理",
    "物业不作为，电梯坏了一个月",
    "窗口办事人员态度差，投诉",
    "路面坑洼积水严重",
];
const PLACES: &[&str] = &[
    "公太社区",
    "城富社区",
    "水北街道",
    "莲塘村",
    "晒口街道",
    "城郊镇",
    "通泰街道",
    "华光社区",
];

fn pick(list: &[&str], h: &str) -> String {
    let mut s = format!("(CASE ({h}) % {}", list.len());
    for (i, t) in list.iter().enumerate() {
        s.push_str(&format!(" WHEN {i} THEN '{t}'"));
    }
    s.push_str(" END)");
    s
}

/// Lookup tables: categories (leaf, not police) with their unit, leaf grid units.
const LOOKUPS: &str = "
DROP TABLE IF EXISTS g_cat;
DROP TABLE IF EXISTS g_grid;
CREATE TEMP TABLE g_cat AS
  SELECT ROW_NUMBER() OVER (ORDER BY c.position) - 1 AS idx, c.code, c.priority,
         c.sign_minutes, c.close_hours,
         COALESCE((SELECT r.unit_id FROM routing_rules r WHERE r.category_code = c.code
                   ORDER BY r.scope_code IS NOT NULL, r.position LIMIT 1),
                  (SELECT fallback_unit_id FROM region)) AS unit_id
  FROM categories c
  WHERE c.police = 0 AND NOT EXISTS (SELECT 1 FROM categories k WHERE k.parent_code = c.code);
CREATE TEMP TABLE g_grid AS
  SELECT ROW_NUMBER() OVER (ORDER BY g.position) - 1 AS idx, g.code
  FROM grid_units g WHERE NOT EXISTS (SELECT 1 FROM grid_units k WHERE k.parent_code = g.code);
";

/// What a generation run fixes once: how many cases, the id before the first, the time they
/// end at, and the number of categories and grid units to spread them over.
#[derive(Clone, Copy)]
struct Plan {
    count: u64,
    base: i64,
    now: i64,
    ncat: i64,
    ngrid: i64,
}

/// The chunk `lo..=hi` of the plan's cases as temporary table `g_gen` (ids from `base + n`).
fn gen_sql(d: Dialect, lo: u64, hi: u64, p: &Plan) -> String {
    let Plan {
        count,
        base,
        now,
        ncat,
        ngrid,
    } = *p;
    let start = now - SPAN;
    let min = |a: &str| d.min(a, &now.to_string());
    let open = "('received', 'dispatched', 'signed', 'in_progress', 'returned')";
    format!(
        "DROP TABLE IF EXISTS g_gen;
CREATE TEMP TABLE g_gen AS {with} {series},
base AS (SELECT n, {base} + n AS id,
         (n * 2654435761) % 1000003 AS h1, (n * 1597334677) % 999983 AS h2,
         (n * 805306457) % 1000033 AS h3,
         {start} + n * {SPAN} / {count} + (n * 48271) % {HOUR} AS c_at FROM s),
b1 AS (SELECT base.*, {now} - c_at AS age, h3 % 1000 AS sp, h1 % 100 AS ch, h2 % 100 AS sat,
         ((h1 % 1000) * (h1 % 1000) / 1000) * {ncat} / 1000 AS ci,
         CASE WHEN h2 % 2 = 0 THEN (h2 / 2) % {ngrid}
              ELSE ((h2 % 1000) * (h2 % 1000) / 1000) * {ngrid} / 1000 END AS gi FROM base),
b2 AS (SELECT b1.*, CASE
         WHEN sp < 8 THEN 'transferred_police'
         WHEN age > {d15} THEN CASE WHEN sp < 960 THEN 'closed' WHEN sp < 980 THEN 'followed_up'
              WHEN sp < 990 THEN 'replied' ELSE 'in_progress' END
         WHEN age > {d3} THEN CASE WHEN sp < 600 THEN 'closed' WHEN sp < 750 THEN 'followed_up'
              WHEN sp < 880 THEN 'replied' WHEN sp < 950 THEN 'in_progress' ELSE 'signed' END
         ELSE CASE WHEN sp < 150 THEN 'received' WHEN sp < 350 THEN 'dispatched'
              WHEN sp < 550 THEN 'signed' WHEN sp < 750 THEN 'in_progress'
              WHEN sp < 900 THEN 'replied' ELSE 'closed' END END AS status FROM b1),
b3 AS (SELECT b2.*,
         CASE WHEN status NOT IN ('received', 'transferred_police')
              THEN {d_at} END AS d_at,
         CASE WHEN status = 'transferred_police' THEN {t_at} END AS t_at FROM b2),
b4 AS (SELECT b3.*, CASE WHEN status IN ('signed', 'in_progress', 'replied', 'followed_up', 'closed')
              THEN {s_at} END AS s_at FROM b3),
b5 AS (SELECT b4.*, CASE WHEN status IN ('replied', 'followed_up', 'closed')
              THEN {r_at} END AS r_at FROM b4),
b6 AS (SELECT b5.*, CASE WHEN status IN ('followed_up', 'closed') THEN {f_at} END AS f_at FROM b5),
b7 AS (SELECT b6.*, CASE WHEN status = 'closed' THEN {cl_at} END AS cl_at FROM b6)
SELECT b7.id, b7.n, b7.h1, b7.status, b7.sat, b7.ch, b7.c_at, b7.d_at, b7.s_at, b7.r_at, b7.f_at,
       b7.cl_at, b7.t_at, c.code AS category_code, c.priority, g.code AS grid_code,
       CASE WHEN b7.d_at IS NULL THEN NULL ELSE c.unit_id END AS unit_id,
       CASE WHEN b7.d_at IS NULL THEN NULL ELSE b7.d_at + c.sign_minutes * 60000 END AS sign_due,
       b7.c_at + c.close_hours * {HOUR} AS close_due,
       CASE WHEN b7.ch < 60 THEN 'phone' WHEN b7.ch < 75 THEN 'web' WHEN b7.ch < 85 THEN 'open311'
            WHEN b7.ch < 95 THEN 'grid' ELSE 'sms' END AS channel,
       CASE WHEN b7.status IN {open} AND b7.s_at IS NULL AND b7.d_at IS NOT NULL
            AND b7.d_at + c.sign_minutes * 60000 < {now} THEN 1 ELSE 0 END AS overdue_sign,
       CASE WHEN b7.status IN {open} AND b7.c_at + c.close_hours * {HOUR} < {now}
            THEN 1 ELSE 0 END AS overdue_close
FROM b7 JOIN g_cat c ON c.idx = b7.ci JOIN g_grid g ON g.idx = b7.gi;",
        with = d.with(),
        series = d.series(lo, hi),
        d15 = 15 * DAY,
        d3 = 3 * DAY,
        d_at = min("c_at + 60000 + h3 % 1740000"),
        t_at = min("c_at + 120000"),
        s_at = min("d_at + 300000 + (h1 * 7) % 14100000"),
        r_at = min("s_at + 3600000 + (h2 * 13) % 428400000"),
        f_at = min("r_at + 3600000 + (h3 * 11) % 86400000"),
        cl_at = min("f_at + 600000"),
    )
}

fn satisfaction_sql() -> &'static str {
    "CASE WHEN sat < 90 THEN 'satisfied' WHEN sat < 96 THEN 'mostly_satisfied' ELSE 'unsatisfied' END"
}

/// Cases, timelines, facts and rollups from `g_gen`.
fn insert_sql(d: Dialect) -> String {
    let text = pick(TEXTS, "h1");
    let place = pick(PLACES, "h1 / 12");
    let sat = satisfaction_sql();
    let due = format!(
        "'{{\"sign_due\":\"' || {} || '\",\"close_due\":\"' || {} || '\"}}'",
        d.rfc3339("sign_due"),
        d.rfc3339("close_due")
    );
    let entry = |at: &str, unit: &str, metric: &str, bucket: &str| {
        format!(
            "'[{{\"day\":' || CAST({} AS TEXT) || ',\"hour\":' || CAST({} AS TEXT) || \
             ',\"unit\":\"' || {unit} || '\",\"metric\":\"{metric}\",\"bucket\":' || \
             CAST({} AS TEXT) || '}},1]'",
            day_sql(at),
            hour_sql(at),
            bucket_of_fact(bucket)
        )
    };
    let mut facts_json = String::from("'[' || ");
    let mut union = Vec::new();
    for (i, (metric, at, unit, bucket, cond)) in FACTS.iter().enumerate() {
        let e = entry(at, unit, metric, bucket);
        if i == 0 {
            facts_json.push_str(&e);
        } else {
            facts_json.push_str(&format!(" || CASE WHEN {cond} THEN ',' || {e} ELSE '' END"));
        }
        union.push(format!(
            "SELECT {} AS day, {} AS hour, COALESCE(category_code, '') AS category, \
             COALESCE(grid_code, '') AS grid, {unit} AS unit, channel, '{metric}' AS metric, \
             {} AS bucket FROM g_gen WHERE {cond}",
            day_sql(at),
            hour_sql(at),
            bucket_of_fact(bucket)
        ));
    }
    facts_json.push_str(" || ']'");
    format!(
        "INSERT INTO cases (id, public_id, channel, content, category_code, grid_code, address,
   priority, status, unit_id, sign_due, close_due, dispatched_at, signed_at, replied_at, closed_at,
   overdue_sign, overdue_close, satisfaction, created_at, updated_at)
 SELECT id, 'GEN-' || CAST(id AS TEXT), channel, {text} || '（' || CAST(n AS TEXT) || '）',
   category_code, grid_code, {place}, priority, status, unit_id, sign_due, close_due, d_at, s_at,
   r_at, cl_at, overdue_sign, overdue_close, CASE WHEN f_at IS NOT NULL THEN {sat} END, c_at,
   COALESCE(cl_at, f_at, r_at, s_at, d_at, t_at, c_at)
 FROM g_gen ORDER BY id;
INSERT INTO case_events (case_id, seq, kind, from_status, to_status, unit_id, detail, at)
 SELECT * FROM (
  SELECT id AS case_id, 1 AS seq, 'received' AS kind, NULL AS from_status,
         'received' AS to_status, NULL AS unit_id, NULL AS detail, c_at AS at FROM g_gen
  UNION ALL SELECT id, 2, 'transferred_police', 'received', 'transferred_police', NULL, NULL, t_at
         FROM g_gen WHERE t_at IS NOT NULL
  UNION ALL SELECT id, 2, 'dispatched', 'received', 'dispatched', unit_id, {due}, d_at
         FROM g_gen WHERE d_at IS NOT NULL
  UNION ALL SELECT id, 3, 'signed', 'dispatched', 'signed', unit_id, NULL, s_at
         FROM g_gen WHERE s_at IS NOT NULL
  UNION ALL SELECT id, 4, 'replied', 'in_progress', 'replied', unit_id, NULL, r_at
         FROM g_gen WHERE r_at IS NOT NULL
  UNION ALL SELECT id, 5, 'followed_up', 'replied', 'followed_up', NULL,
         '{{\"satisfaction\":\"' || {sat} || '\"}}', f_at FROM g_gen WHERE f_at IS NOT NULL
  UNION ALL SELECT id, 6, 'closed', 'followed_up', 'closed', NULL, NULL, cl_at
         FROM g_gen WHERE cl_at IS NOT NULL
 ) e ORDER BY case_id, seq;
INSERT INTO case_facts (case_id, category, grid, channel, gender, age_band, occupation, facts)
 SELECT id, COALESCE(category_code, ''), COALESCE(grid_code, ''), channel, '', '', '', {facts_json}
 FROM g_gen ORDER BY id;
INSERT INTO rollups (day, hour, category, grid, unit, channel, gender, age_band, occupation,
   metric, bucket, n)
 SELECT day, hour, category, grid, unit, channel, '', '', '', metric, bucket, COUNT(*)
 FROM ({union}) f WHERE 1 = 1
 GROUP BY day, hour, category, grid, unit, channel, metric, bucket
 ON CONFLICT (day, hour, category, grid, unit, channel, gender, age_band, occupation, metric,
   bucket) DO UPDATE SET n = rollups.n + excluded.n;",
        union = union.join("\n  UNION ALL ")
    )
}

const COUNTS: &str = "SELECT (SELECT COUNT(*) FROM g_cat), (SELECT COUNT(*) FROM g_grid), \
                      (SELECT COALESCE(MAX(id), 0) FROM cases), (SELECT COUNT(*) FROM cases)";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The chunks of `1..=count`.
fn chunks(count: u64, chunk: u64) -> Vec<(u64, u64)> {
    let chunk = chunk.max(1);
    (0..count.div_ceil(chunk))
        .map(|i| (i * chunk + 1, ((i + 1) * chunk).min(count)))
        .collect()
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    anyhow::ensure!(a.cases > 0, "--cases must be at least 1");
    let t0 = Instant::now();
    let (total, url) = match (&a.sqlite, &a.postgres) {
        (Some(path), _) => {
            let url = format!("sqlite://{}", path.display());
            let path = path.clone();
            let (cases, chunk) = (a.cases, a.chunk);
            let total = tokio::task::spawn_blocking(move || sqlite(&path, cases, chunk)).await??;
            (total, url)
        }
        (None, Some(url)) => (postgres(url, a.cases, a.chunk).await?, url.clone()),
        (None, None) => anyhow::bail!("give --sqlite FILE or --postgres URL"),
    };
    // What m110d's margins job would have built by now for the days that are over (the
    // generated rows bypass the writes that invalidate them, so every day is built afresh).
    let t = Instant::now();
    let store = m110_runtime::store::Store::connect_with(
        &url,
        &m110_runtime::store::ConnectOptions {
            migrate: false,
            ..Default::default()
        },
    )
    .await?;
    let mut tx = store.write().await?;
    m110_runtime::store::margins::forget_all(&mut tx).await?;
    tx.commit().await?;
    let days = store.build_margins(now_ms(), u64::MAX).await?;
    eprintln!(
        "  margins of {days} days built in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    println!(
        "generated {} cases in {:.1} s; the database now holds {total} cases",
        a.cases,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

fn sqlite(path: &PathBuf, count: u64, chunk: u64) -> anyhow::Result<i64> {
    anyhow::ensure!(
        path.exists(),
        "{} does not exist (provision the install first)",
        path.display()
    );
    let conn = rusqlite::Connection::open(path)?;
    // Bulk load: wait for a running m110d's writes, trade durability of the load itself for
    // speed (a crash mid-generation means generating again), big page cache.
    conn.busy_timeout(Duration::from_secs(60))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA cache_size = -1000000; \
         PRAGMA temp_store = MEMORY;",
    )?;
    conn.execute_batch(LOOKUPS)?;
    let (ncat, ngrid, base, _): (i64, i64, i64, i64) = conn.query_row(COUNTS, [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    anyhow::ensure!(
        ncat > 0 && ngrid > 0,
        "the install has no categories or no grid units"
    );
    let plan = Plan {
        count,
        base,
        now: now_ms(),
        ncat,
        ngrid,
    };
    let insert = insert_sql(Dialect::Sqlite);
    for (lo, hi) in chunks(count, chunk) {
        let t = Instant::now();
        conn.execute_batch("BEGIN")?;
        conn.execute_batch(&gen_sql(Dialect::Sqlite, lo, hi, &plan))
            .context("generating a chunk")?;
        conn.execute_batch(&insert).context("inserting a chunk")?;
        conn.execute_batch("COMMIT")?;
        eprintln!("  cases {lo}..{hi}: {:.1} s", t.elapsed().as_secs_f64());
    }
    conn.execute_batch("DROP TABLE g_gen; PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(conn.query_row("SELECT COUNT(*) FROM cases", [], |r| r.get(0))?)
}

async fn postgres(url: &str, count: u64, chunk: u64) -> anyhow::Result<i64> {
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("cannot connect to {url}"))?;
    tokio::spawn(conn);
    // The load's own commits need not wait for the disk; the data is the same.
    c.batch_execute("SET synchronous_commit = off; SET work_mem = '256MB';")
        .await?;
    c.batch_execute(LOOKUPS).await?;
    let r = c.query_one(COUNTS, &[]).await?;
    let (ncat, ngrid, base): (i64, i64, i64) = (r.get(0), r.get(1), r.get(2));
    anyhow::ensure!(
        ncat > 0 && ngrid > 0,
        "the install has no categories or no grid units"
    );
    let plan = Plan {
        count,
        base,
        now: now_ms(),
        ncat,
        ngrid,
    };
    let insert = insert_sql(Dialect::Postgres);
    for (lo, hi) in chunks(count, chunk) {
        let t = Instant::now();
        let sql = format!(
            "BEGIN; {} {} COMMIT;",
            gen_sql(Dialect::Postgres, lo, hi, &plan),
            insert
        );
        c.batch_execute(&sql).await.context("generating a chunk")?;
        eprintln!("  cases {lo}..{hi}: {:.1} s", t.elapsed().as_secs_f64());
    }
    // Explicit ids do not move the identity sequence: move it past them.
    c.batch_execute(
        "DROP TABLE g_gen; SELECT setval(pg_get_serial_sequence('cases', 'id'), \
         (SELECT MAX(id) FROM cases)); ANALYZE cases; ANALYZE case_events; ANALYZE rollups;",
    )
    .await?;
    Ok(c.query_one("SELECT COUNT(*) FROM cases", &[]).await?.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(sql: &str) -> i64 {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.query_row(&format!("SELECT {sql}"), [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn sql_buckets_and_days_match_the_runtime() {
        use m110_runtime::store::rollups::{bucket_of, day_hour};
        for ms in [
            0i64,
            1,
            299_999,
            300_000,
            300_001,
            3 * HOUR,
            40 * DAY,
            400 * DAY,
            2 * SPAN,
        ] {
            assert_eq!(eval(&bucket_sql(&ms.to_string())), bucket_of(ms), "{ms}");
        }
        for at in [
            1_793_548_800_000i64,
            1_793_548_800_000 - 1,
            1_700_000_000_123,
        ] {
            let (d, h) = day_hour(at);
            assert_eq!(eval(&day_sql(&at.to_string())), d);
            assert_eq!(eval(&hour_sql(&at.to_string())), h);
        }
    }

    #[test]
    fn chunks_cover_every_case_once() {
        assert_eq!(chunks(10, 4), vec![(1, 4), (5, 8), (9, 10)]);
        assert_eq!(chunks(3, 250_000), vec![(1, 3)]);
    }
}
