/*!
The store: one repository layer over SQLite and PostgreSQL.

# How storage works (read before adding a repository module)

- **One code path for both engines** through [`sqlx::AnyPool`]. SQL is written once with `$1…$n`
  placeholders (sqlx-sqlite accepts `$N`). Where the engines really differ (e.g. `FOR UPDATE SKIP
  LOCKED`), branch on [`Store::engine`].
- **Types.** Integers are `INTEGER` (SQLite) / `BIGINT` (PostgreSQL), always decoded as `i64`.
  Floats `REAL` / `DOUBLE PRECISION` as `f64`. Booleans are `0/1` integers (`i64`), never SQL
  `BOOLEAN`. Text as `String`. Times are `i64` Unix epoch **milliseconds** UTC ([`now_ms`]); render
  them in Asia/Shanghai at the edges. Lists and small structures are JSON text.
- **Aggregates on PostgreSQL**: `SUM(bigint)` yields `NUMERIC` and `AVG` yields `NUMERIC`/`double`,
  which the `Any` driver cannot decode: write `CAST(SUM(x) AS BIGINT)` and
  `CAST(AVG(x) AS DOUBLE PRECISION)` (both engines accept these casts). `COUNT(*)` is fine.
- **Writes**: every write runs in a [`WriteTx`] from [`Store::write`] — the one write-transaction
  type. On SQLite it holds the store's writer gate and issues `BEGIN IMMEDIATE` (see [`write`]).
- **Errors**: every repository method returns [`StoreError`]; `?` on a `sqlx::Error` maps
  `RowNotFound` → [`StoreError::NotFound`], unique violations → [`StoreError::Conflict`],
  foreign-key / check violations → [`StoreError::Invalid`]. Optimistic concurrency (the `version`
  column of `cases`, `directory_entries`, `households`) reports a stale version as `Conflict`.
- **Migrations** live in `runtime/migrations/{sqlite,postgres}/` with matching file names and are
  embedded with `sqlx::migrate!`. [`Store::connect`] applies them. A merged migration is never
  edited: add a new one to both folders. [`schema_sql`] returns the concatenated DDL for review.
- **SQLite settings** on every connection: WAL, `foreign_keys=ON`, `busy_timeout` (the write
  bound, [`ConnectOptions::write_timeout`]), `synchronous=NORMAL`; with
  [`ConnectOptions::background_checkpoint`] (the server) also `wal_autocheckpoint=0` and a
  64 MB `journal_size_limit`.
- **Group commit**: intake writes go through [`Store::write_batched`] ([`batch`]).
- **Layout**: one file per area, each an `impl Store { … }` block owned by one helper:
  [`region`] (read the provisioned region), [`users`] (users, sessions, API tokens),
  [`audit`] (audit log); cases, directories etc. live in their own files.
*/

pub mod accounts;
pub mod alerts;
pub mod attachments;
pub mod audit;
pub mod batch;
pub mod callers;
pub mod cameras;
pub mod cases;
pub mod changes;
pub mod console;
pub mod delivery;
pub mod directory;
pub mod duplicates;
pub mod field;
pub mod forward;
pub mod households;
pub mod imports;
pub mod knowledge;
pub mod maintenance;
pub mod margins;
pub mod offers;
pub mod open311;
pub mod provision;
pub mod region;
pub mod report;
pub mod rollups;
pub mod scorecards;
pub mod sms;
#[cfg(any(test, feature = "testkit"))]
pub mod testdb;
pub mod throttle;
pub mod triage;
pub mod unit_edits;
pub mod upgrade;
pub mod users;
pub mod watermark;
pub mod write;

pub use write::WriteTx;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, Connection, Executor};

use crate::model::time::now_ms;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The database engine behind a [`Store`], chosen from the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// `sqlite:` → SQLite, `postgres:` / `postgresql:` → PostgreSQL.
    pub fn from_url(url: &str) -> Result<Engine, StoreError> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme {
            "sqlite" => Ok(Engine::Sqlite),
            "postgres" | "postgresql" => Ok(Engine::Postgres),
            _ => Err(StoreError::Invalid(format!(
                "database URL must start with sqlite:// or postgres:// (got {:?})",
                redact_url(url)
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique key is taken, or an optimistic-concurrency version is stale.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The data breaks a constraint (foreign key, check) or the request makes no sense.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database could not be had within the write bound ([`ConnectOptions::write_timeout`]):
    /// another writer, a lock or a stalled disk holds it. Nothing was written; retry later
    /// (front-ends answer 503 with `Retry-After`).
    #[error("database busy: {0}")]
    Busy(String),
    /// Anything else (connection, I/O, driver). The message already carries the cause, so it
    /// is not repeated as an error source.
    #[error("database error: {0}")]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        match err {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if is_busy(db.as_ref()) => {
                StoreError::Busy(db.message().to_string())
            }
            sqlx::Error::PoolTimedOut => {
                StoreError::Busy("no database connection became free in time".into())
            }
            sqlx::Error::Database(db) => match db.kind() {
                ErrorKind::UniqueViolation => StoreError::Conflict(db.message().to_string()),
                ErrorKind::ForeignKeyViolation
                | ErrorKind::CheckViolation
                | ErrorKind::NotNullViolation => StoreError::Invalid(db.message().to_string()),
                _ => StoreError::Other(Box::new(sqlx::Error::Database(db))),
            },
            other => StoreError::Other(Box::new(other)),
        }
    }
}

/// SQLite `SQLITE_BUSY` (and its extended codes), PostgreSQL `lock_not_available` (the
/// `lock_timeout` of a batch) and `query_canceled` (a statement timeout): the database was held
/// by someone else for longer than the bound, not broken.
fn is_busy(db: &dyn sqlx::error::DatabaseError) -> bool {
    let code = db.code();
    match code.as_deref() {
        // A deadlock or serialization failure between concurrent writers: retrying later works.
        Some("55P03" | "57014" | "40P01" | "40001") => true,
        // SQLite reports the extended result code; its low byte is the primary code (5 = BUSY).
        Some(c) => c.parse::<i64>().is_ok_and(|n| n & 0xff == 5),
        None => false,
    }
}

impl StoreError {
    /// A copy of this error for every request of a failed batch (`Other` keeps its message).
    pub fn share(&self) -> StoreError {
        match self {
            StoreError::NotFound => StoreError::NotFound,
            StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
            StoreError::Invalid(m) => StoreError::Invalid(m.clone()),
            StoreError::Busy(m) => StoreError::Busy(m.clone()),
            StoreError::Other(e) => StoreError::Other(e.to_string().into()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        StoreError::Other(Box::new(err))
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Other(Box::new(err))
    }
}

/// How to open a store.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Pool size; `None` picks 8 for SQLite and 16 for PostgreSQL.
    pub max_connections: Option<u32>,
    /// Create the SQLite file when it does not exist (provisioning); otherwise a missing file is
    /// an error, so a typo in a path cannot silently serve an empty database.
    pub create_if_missing: bool,
    /// Apply pending migrations (on by default).
    pub migrate: bool,
    /// How long a writer may wait for the database (writer gate, connection, SQLite write lock,
    /// PostgreSQL row and table locks) before it gives up with [`StoreError::Busy`]; 2 s.
    pub write_timeout: Duration,
    /// SQLite: the server checkpoints the WAL in the background ([`Store::checkpoint`]), so
    /// request connections never run the automatic checkpoint inside their COMMIT
    /// (`wal_autocheckpoint = 0`). Off for one-shot tools, which keep SQLite's default.
    pub background_checkpoint: bool,
    /// Concurrent [`Store::write_batched`] writes share transactions (on by default); off, each
    /// runs in its own — for comparing the two on one build (`M110_GROUP_COMMIT=0` on m110d).
    pub group_commit: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: None,
            create_if_missing: false,
            migrate: true,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            background_checkpoint: false,
            group_commit: true,
        }
    }
}

/// The default write bound (see [`ConnectOptions::write_timeout`]).
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// The setting that asks the next start to look for stale rollups ([`Store::migrate`]).
pub const ROLLUP_SYNC_PENDING: &str = "rollup_sync_pending";

/// A connection pool plus the engine it talks to. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
    writer: write::WriterGate,
    /// The group-commit queue of this store (see [`batch`]); its clones share it.
    batcher: std::sync::Arc<batch::Batcher>,
    write_timeout: Duration,
    group_commit: bool,
    /// Bumped by every committed write; wakes the live-update streams (see [`changes`]).
    changes: changes::ChangeHub,
    /// When this process last recorded each API token's use (see
    /// [`Store::principal_for_token`]); its clones share it.
    token_uses: users::TokenUses,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("engine", &self.engine)
            .finish()
    }
}

/// SQLite connection settings, applied to every new connection (with `busy_timeout` set to
/// the write bound: a writer that cannot get the lock in time reports `SQLITE_BUSY`, which is
/// [`StoreError::Busy`]).
fn sqlite_pragmas(write_timeout: Duration, background_checkpoint: bool) -> String {
    let mut s = format!(
        "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; \
         PRAGMA synchronous = NORMAL;",
        write_timeout.as_millis().max(1)
    );
    if background_checkpoint {
        // The WAL restarts from its beginning once fully checkpointed; the size limit then
        // truncates a file a burst (or a long reader) grew, instead of keeping it forever.
        s.push_str(" PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;");
    }
    s
}

impl Store {
    /// Opens the database at `url` (creating a SQLite file if missing) and applies migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::connect_with(
            url,
            &ConnectOptions {
                create_if_missing: true,
                ..ConnectOptions::default()
            },
        )
        .await
    }

    /// Opens the database at `url` with explicit options.
    pub async fn connect_with(url: &str, opts: &ConnectOptions) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let engine = Engine::from_url(url)?;
        let mut url = url.to_string();
        if engine == Engine::Sqlite {
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            if !memory {
                let path = sqlite_path(&url).ok_or_else(|| {
                    StoreError::Invalid(format!("no file path in database URL {url:?}"))
                })?;
                if !opts.create_if_missing && !Path::new(&path).exists() {
                    return Err(StoreError::Invalid(format!(
                        "database file {path} does not exist (not provisioned?)"
                    )));
                }
                if !url.contains("mode=") {
                    url.push(if url.contains('?') { '&' } else { '?' });
                    url.push_str(if opts.create_if_missing {
                        "mode=rwc"
                    } else {
                        "mode=rw"
                    });
                }
            }
        }
        let options = AnyConnectOptions::from_str(&url)?;
        // One direct connection first: a wrong host or password then fails at once with the
        // server's own error, instead of the pool retrying until it reports a bare timeout.
        AnyConnection::connect_with(&options).await?.close().await?;
        let max = opts.max_connections.unwrap_or(match engine {
            Engine::Sqlite => 8,
            Engine::Postgres => 16,
        });
        let max = if engine == Engine::Sqlite && url.contains(":memory:") {
            // Each connection to :memory: is its own database; keep exactly one.
            1
        } else {
            max
        };
        let mut pool_opts = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30));
        if engine == Engine::Sqlite {
            let pragmas: std::sync::Arc<str> =
                sqlite_pragmas(opts.write_timeout, opts.background_checkpoint).into();
            pool_opts = pool_opts.after_connect(move |conn, _meta| {
                let pragmas = pragmas.clone();
                Box::pin(async move {
                    conn.execute(&*pragmas).await?;
                    Ok(())
                })
            });
        }
        let pool = pool_opts.connect_with(options).await?;
        let store = Store {
            pool,
            engine,
            writer: Default::default(),
            batcher: Default::default(),
            write_timeout: opts.write_timeout,
            group_commit: opts.group_commit,
            changes: changes::ChangeHub::new(engine, &url),
            token_uses: Default::default(),
        };
        if opts.migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Applies pending migrations of this engine, then brings the rollups up to date if
    /// anything can have left them behind.
    ///
    /// Looking for stale rollups reads every case (≈ 1 s at a million), so a start does it only
    /// when migrations were applied in it (an install from before the rollups gets them on its
    /// first start; a migration may change what they are keyed on) or when an earlier start
    /// applied some and stopped before its sync finished. [`ROLLUP_SYNC_PENDING`] records that
    /// — written before the migrations run, removed once the sync is done — so a crash in
    /// between is caught by the next start. Renames of codes sync in their own transaction
    /// (`engine::upgrade`), and every other change of a case refreshes its rollups as it is
    /// written. A restart of an up-to-date install therefore reads two small tables and takes
    /// no write lock.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let applied = self.migrated_versions().await?;
        let pending = self
            .engine
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .any(|m| !applied.contains(&m.version));
        // A database with no migration yet has no settings table, and no cases either.
        let marked = if pending && !applied.is_empty() {
            self.set_setting(ROLLUP_SYNC_PENDING, &now_ms().to_string())
                .await?;
            true
        } else {
            !applied.is_empty() && self.setting(ROLLUP_SYNC_PENDING).await?.is_some()
        };
        self.engine.migrator().run(&self.pool).await?;
        if pending || marked {
            self.sync_rollups().await?;
            if marked {
                let mut tx = self.write().await?;
                sqlx::query("DELETE FROM settings WHERE key = $1")
                    .bind(ROLLUP_SYNC_PENDING)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Versions of the migrations applied successfully (none on a database never migrated).
    async fn migrated_versions(&self) -> Result<Vec<i64>, StoreError> {
        let exists = match self.engine {
            Engine::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' \
                 AND name = '_sqlx_migrations'"
            }
            Engine::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        let (n,): (i64,) = sqlx::query_as(exists).fetch_one(&self.pool).await?;
        if n == 0 {
            return Ok(Vec::new());
        }
        let applied: Vec<(i64,)> =
            sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = $1")
                .bind(true)
                .fetch_all(&self.pool)
                .await?;
        Ok(applied.into_iter().map(|(v,)| v).collect())
    }

    /// True when every embedded migration has been applied (for `/readyz`).
    pub async fn migrations_current(&self) -> Result<bool, StoreError> {
        let applied: Vec<(i64,)> =
            sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = $1")
                .bind(true)
                .fetch_all(&self.pool)
                .await?;
        Ok(self
            .engine
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .all(|m| applied.iter().any(|(v,)| *v == m.version)))
    }

    /// Round-trips a trivial query (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The underlying pool, for repository modules.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection (SQLite checkpoints its WAL into the main file).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// SQLite only: folds the WAL into the main file and leaves WAL mode, so the database file is
    /// complete on its own — for a file that is about to be renamed or copied. Closing the pool
    /// alone does not guarantee it: the connection thread may checkpoint after `close` returns,
    /// and a rename in between would leave the data behind in `*-wal`. A no-op on PostgreSQL.
    pub async fn seal_sqlite_file(&self) -> Result<(), StoreError> {
        if self.engine == Engine::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
            sqlx::query("PRAGMA journal_mode=DELETE")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Reads a setting.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        setting_in(&mut conn, key).await
    }

    /// Inserts or replaces a setting.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        set_setting_in(&mut conn, key, value).await
    }
}

/// Creates the PostgreSQL database named in `url` when it does not exist (connecting to the
/// server's `postgres` database to do so); returns whether it created it. Names are limited to
/// ASCII letters, digits, `_` and `-`, so the identifier can be quoted safely.
pub async fn create_postgres_database_if_missing(url: &str) -> Result<bool, StoreError> {
    use sqlx::postgres::PgConnectOptions;
    let opts = PgConnectOptions::from_str(url)?;
    match sqlx::PgConnection::connect_with(&opts).await {
        Ok(conn) => {
            conn.close().await?;
            return Ok(false);
        }
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("3D000") => {}
        Err(e) => return Err(e.into()),
    }
    let name = opts
        .get_database()
        .ok_or_else(|| StoreError::Invalid("database URL names no database".into()))?
        .to_string();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(StoreError::Invalid(format!(
            "database name {name:?}: use ASCII letters, digits, _ and - only"
        )));
    }
    let mut admin = sqlx::PgConnection::connect_with(&opts.clone().database("postgres")).await?;
    let created = sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await;
    admin.close().await?;
    match created {
        Ok(_) => Ok(true),
        // Created concurrently by someone else: fine.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P04") => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Reads a setting on `conn` (inside a transaction: what it will commit).
pub async fn setting_in(
    conn: &mut sqlx::AnyConnection,
    key: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|(v,)| v))
}

/// Inserts or replaces a setting inside an open connection or transaction.
pub async fn set_setting_in(
    conn: &mut sqlx::AnyConnection,
    key: &str,
    value: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(key)
    .bind(value)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The DDL of every migration of `engine`, concatenated in order (for review artifacts).
pub fn schema_sql(engine: Engine) -> String {
    let mut out = String::new();
    for m in engine.migrator().iter() {
        if !m.migration_type.is_up_migration() {
            continue;
        }
        out.push_str(&format!("-- migration {} {}\n", m.version, m.description));
        out.push_str(m.sql.trim_end());
        out.push_str("\n\n");
    }
    out
}

/// The file path of a `sqlite:` URL (`sqlite://m110.db`, `sqlite:///abs/m110.db`,
/// `sqlite:m110.db`), without query string; `None` for in-memory URLs.
pub fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(path.to_string())
    }
}

/// Resolves a relative SQLite path against the install directory; other URLs pass through.
/// `sqlite://m110.db` with `dir=/srv/m110` → `sqlite:///srv/m110/m110.db`.
pub fn resolve_database_url(url: &str, dir: &Path) -> String {
    if Engine::from_url(url) != Ok(Engine::Sqlite) {
        return url.to_string();
    }
    let Some(path) = sqlite_path(url) else {
        return url.to_string();
    };
    if Path::new(&path).is_absolute() {
        return url.to_string();
    }
    let query = url.split_once('?').map(|(_, q)| q);
    let abs = dir.join(&path);
    let mut out = format!("sqlite://{}", abs.display());
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The URL with any password replaced by `***`, safe to print or log.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!(
                "{}{user}:***@{host}{}",
                &url[..scheme_end + 3],
                &rest[auth_end..]
            ),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

impl PartialEq for StoreError {
    /// Compares by variant and message (for tests); `Other` never equals anything.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (StoreError::NotFound, StoreError::NotFound) => true,
            (StoreError::Conflict(a), StoreError::Conflict(b)) => a == b,
            (StoreError::Invalid(a), StoreError::Invalid(b)) => a == b,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_from_url() {
        assert_eq!(Engine::from_url("sqlite://m110.db"), Ok(Engine::Sqlite));
        assert_eq!(Engine::from_url("sqlite::memory:"), Ok(Engine::Sqlite));
        assert_eq!(Engine::from_url("postgres://u@h/db"), Ok(Engine::Postgres));
        assert_eq!(
            Engine::from_url("postgresql://u@h/db"),
            Ok(Engine::Postgres)
        );
        assert!(matches!(
            Engine::from_url("mysql://x"),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    fn resolves_relative_sqlite_paths() {
        let dir = Path::new("/srv/m110");
        assert_eq!(
            resolve_database_url("sqlite://m110.db", dir),
            "sqlite:///srv/m110/m110.db"
        );
        assert_eq!(
            resolve_database_url("sqlite:///abs/x.db?mode=rw", dir),
            "sqlite:///abs/x.db?mode=rw"
        );
        assert_eq!(
            resolve_database_url("postgres://u@h/db", dir),
            "postgres://u@h/db"
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db?x=1"),
            "postgres://u:***@h:5432/db?x=1"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://m110.db"), "sqlite://m110.db");
    }

    #[test]
    fn schema_sql_has_every_table() {
        for engine in [Engine::Sqlite, Engine::Postgres] {
            let sql = schema_sql(engine);
            for table in [
                "region",
                "settings",
                "grid_units",
                "units",
                "cases",
                "case_events",
                "audit_log",
                "outbox",
                "job_leases",
            ] {
                assert!(
                    sql.contains(&format!("CREATE TABLE {table} (")),
                    "{engine:?} schema lacks {table}"
                );
            }
        }
    }
}
