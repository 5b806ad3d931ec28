//! Start-up and the rollups (issue 13): an install made before the rollups gets them on its
//! first start, an interrupted sync is finished by the next start, and a restart of an
//! up-to-date install neither looks for stale rollups (a read of every case) nor takes a write
//! lock for it — a writer held elsewhere does not stop it from starting.

use std::time::Duration;

use m110_runtime::per_engine;
use m110_runtime::store::testdb::TestDb;
use m110_runtime::store::{ConnectOptions, Engine, ROLLUP_SYNC_PENDING, Store};
use sqlx::Connection;

/// 2026-11-02 09:00 Asia/Shanghai.
const T0: i64 = 1_793_581_200_000;

/// Inserts a received case and its first event with plain SQL (the columns of the first
/// migration only, so it also fits an install from before the rollups); returns its id.
async fn raw_case(store: &Store, n: i64) -> i64 {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO cases (public_id, channel, content, priority, status, created_at, \
         updated_at) VALUES ($1, 'phone', 'street light out', 'normal', 'received', $2, $2) \
         RETURNING id",
    )
    .bind(format!("MS350781-20261102-{n:06}"))
    .bind(T0 + n)
    .fetch_one(store.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO case_events (case_id, seq, kind, to_status, at) \
         VALUES ($1, 1, 'received', 'received', $2)",
    )
    .bind(id)
    .bind(T0 + n)
    .execute(store.pool())
    .await
    .unwrap();
    id
}

async fn received(store: &Store) -> i64 {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM rollups WHERE metric = 'received'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    n
}

async fn has_facts(store: &Store, case_id: i64) -> bool {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM case_facts WHERE case_id = $1")
        .bind(case_id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    n == 1
}

/// A second store on the same database: what a restart of m110d opens.
async fn restart(db: &TestDb) -> Result<Store, m110_runtime::store::StoreError> {
    Store::connect_with(
        &db.url,
        &ConnectOptions {
            // Short: a start that waited for the writer held below fails fast instead.
            write_timeout: Duration::from_millis(300),
            ..ConnectOptions::default()
        },
    )
    .await
}

async fn an_install_from_before_the_rollups_gets_them_on_its_first_start(engine: Engine) {
    let db = TestDb::empty(engine).await;
    // The migrations of the last release without rollups (before 0070), applied as that
    // release did: from their files, so their checksums are the kit's.
    let dir = tempdir("m110_before_rollups");
    let name = match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    let src = format!("{}/migrations/{name}", env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let version: i64 = file.split('_').next().unwrap().parse().unwrap();
        if version < 70 {
            std::fs::copy(&path, dir.join(&file)).unwrap();
        }
    }
    sqlx::migrate::Migrator::new(dir.as_path())
        .await
        .unwrap()
        .run(db.store.pool())
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let ids = [
        raw_case(&db.store, 1).await,
        raw_case(&db.store, 2).await,
        raw_case(&db.store, 3).await,
    ];

    // The first start of the new kit: the rest of the migrations, then the sync.
    db.store.migrate().await.unwrap();
    assert!(db.store.migrations_current().await.unwrap(), "{engine:?}");
    for id in ids {
        assert!(
            has_facts(&db.store, id).await,
            "{engine:?}: case {id} counted"
        );
    }
    assert_eq!(received(&db.store).await, 3, "{engine:?}");
    assert_eq!(
        db.store.setting(ROLLUP_SYNC_PENDING).await.unwrap(),
        None,
        "{engine:?}: the sync finished, so nothing is left for the next start"
    );
    // Nothing is left stale.
    assert_eq!(db.store.sync_rollups().await.unwrap(), 0, "{engine:?}");
}

async fn a_restart_of_an_up_to_date_install_takes_no_write_lock(engine: Engine) {
    let db = TestDb::new(engine).await;
    let counted = raw_case(&db.store, 1).await;
    assert_eq!(db.store.sync_rollups().await.unwrap(), 1);
    // A case written behind the rollups' back (plain SQL, no refresh): only a look at every
    // case would find it.
    let stale = raw_case(&db.store, 2).await;

    // Another process holds the writer while m110d restarts.
    let holder = match engine {
        Engine::Sqlite => {
            let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut conn)
                .await
                .unwrap();
            conn
        }
        Engine::Postgres => {
            // No reader is blocked; every write of the rollups would wait.
            let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
            sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
            sqlx::query("LOCK TABLE case_facts, rollups IN EXCLUSIVE MODE")
                .execute(&mut conn)
                .await
                .unwrap();
            conn
        }
    };
    // A start that wrote would fail with Busy (SQLite) or wait for the lock (PostgreSQL):
    // the bound turns a wait into a failure.
    let started = tokio::time::timeout(Duration::from_secs(30), restart(&db))
        .await
        .expect("the restart waited for the writer")
        .unwrap_or_else(|e| panic!("{engine:?}: the restart needed the writer: {e}"));
    drop(holder);

    // It did not look: the stale case is still uncounted, the other one untouched.
    assert!(!has_facts(&started, stale).await, "{engine:?}");
    assert!(has_facts(&started, counted).await, "{engine:?}");
    assert_eq!(received(&started).await, 1, "{engine:?}");
    // (What a look finds, asked for explicitly: the case the restart left alone.)
    assert_eq!(started.sync_rollups().await.unwrap(), 1, "{engine:?}");
    assert_eq!(received(&started).await, 2, "{engine:?}");
    started.close().await;
}

async fn a_sync_cut_short_is_finished_by_the_next_start(engine: Engine) {
    let db = TestDb::new(engine).await;
    let stale = raw_case(&db.store, 1).await;
    // A start applied migrations and stopped before its sync was done: the mark it wrote
    // before migrating is still there.
    db.store
        .set_setting(ROLLUP_SYNC_PENDING, &T0.to_string())
        .await
        .unwrap();
    assert!(!has_facts(&db.store, stale).await);

    let started = restart(&db).await.unwrap();
    assert!(has_facts(&started, stale).await, "{engine:?}");
    assert_eq!(received(&started).await, 1, "{engine:?}");
    assert_eq!(
        started.setting(ROLLUP_SYNC_PENDING).await.unwrap(),
        None,
        "{engine:?}"
    );
    started.close().await;
}

fn tempdir(prefix: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(m110_runtime::store::testdb::unique_name(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

per_engine!(
    an_install_from_before_the_rollups_gets_them_on_its_first_start,
    a_restart_of_an_up_to_date_install_takes_no_write_lock,
    a_sync_cut_short_is_finished_by_the_next_start,
);
