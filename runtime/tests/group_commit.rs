//! Group commit on both databases (runtime/src/store/batch.rs): concurrent intakes share
//! transactions and each gets its own case; a request that fails inside a batch fails alone; a
//! writer that cannot have the database within the bound gets `Unavailable` (503 at the edges),
//! never a hang or an internal error.
//!
//! Batches are made deterministic by holding the database from another connection (SQLite:
//! `BEGIN IMMEDIATE`; PostgreSQL: `LOCK TABLE cases`) while the requests queue, then releasing it.

use std::time::{Duration, Instant};

use m110_runtime::engine::ErrorKind;
use m110_runtime::engine::intake::{CaseInput, Created, Patrol, create_case, create_case_with};
use m110_runtime::engine::region::RegionIndex;
use m110_runtime::model::{Principal, Role};
use m110_runtime::per_engine;
use m110_runtime::store::audit::NewAudit;
use m110_runtime::store::batch::{MAX_BATCH, max_leaders};
use m110_runtime::store::testdb::{TestDb, principal};
use m110_runtime::store::users::NewUser;
use m110_runtime::store::{ConnectOptions, Engine, Store};
use serde_json::json;
use sqlx::{AnyConnection, Connection, Executor};

/// A second store on the test database with its own write bound.
async fn store_with_bound(db: &TestDb, bound: Duration) -> Store {
    Store::connect_with(
        &db.url,
        &ConnectOptions {
            migrate: false,
            write_timeout: bound,
            ..ConnectOptions::default()
        },
    )
    .await
    .expect("second store")
}

/// Holds the database against writers of `cases` until dropped/committed.
async fn hold_database(db: &TestDb) -> AnyConnection {
    let mut conn = AnyConnection::connect(&db.url).await.expect("blocker");
    match db.engine {
        Engine::Sqlite => conn.execute("BEGIN IMMEDIATE").await.expect("lock"),
        Engine::Postgres => conn
            .execute("BEGIN; LOCK TABLE cases IN EXCLUSIVE MODE")
            .await
            .expect("lock"),
    };
    conn
}

async fn release(mut conn: AnyConnection) {
    conn.execute("ROLLBACK").await.expect("release");
}

/// Waits (polling, bounded) until `probe` holds.
async fn wait_for(what: &str, mut probe: impl FnMut() -> bool) {
    let start = Instant::now();
    while !probe() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn phone_input(i: usize) -> CaseInput {
    serde_json::from_value(json!({
        "channel": "phone",
        "content": format!("水北街 {i} 号门口路灯不亮，晚上很黑"),
        "caller": {"phone": format!("1380000{i:04}")},
        "location": {"grid_code": "350781001001"},
        "emergency": {"line": null},
    }))
    .unwrap()
}

fn patrol_input() -> CaseInput {
    serde_json::from_value(json!({
        "channel": "grid",
        "content": "水北村村口垃圾堆积，需要清运",
        "location": {"grid_code": "350781001001"},
    }))
    .unwrap()
}

async fn setup(engine: Engine) -> (TestDb, std::sync::Arc<RegionIndex>, Principal, Principal) {
    let db = TestDb::provisioned(engine).await;
    let region = std::sync::Arc::new(RegionIndex::load(&db.store).await.unwrap());
    let op = principal(&db.store, "op1", Role::Operator, None).await;
    let grid = vec!["350781001001".to_string()];
    let worker_id = db
        .store
        .create_user(
            &NewUser {
                name: "grid1".into(),
                role: Role::GridWorker,
                unit_id: None,
                grid_codes: grid.clone(),
                password_hash: None,
            },
            &NewAudit::system("test", "user.create", None),
        )
        .await
        .unwrap();
    let worker = Principal {
        user_id: worker_id,
        name: "grid1".into(),
        role: Role::GridWorker,
        unit_id: None,
        grid_codes: grid,
        scope: None,
    };
    (db, region, op, worker)
}

async fn count(store: &Store, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(store.pool()).await.unwrap();
    n
}

async fn concurrent_intakes_share_batches(engine: Engine) {
    let (db, region, op, _) = setup(engine).await;
    let store = store_with_bound(&db, Duration::from_secs(60)).await;
    let n = 150;
    let blocker = hold_database(&db).await;
    let mut tasks = Vec::new();
    for i in 0..n {
        let (store, region, op) = (store.clone(), std::sync::Arc::clone(&region), op.clone());
        tasks.push(tokio::spawn(async move {
            create_case(&store, &region, &op, phone_input(i)).await
        }));
    }
    // Queued behind the held lock (on PostgreSQL some are in batches whose leaders wait on it).
    wait_for("every intake queued", || store.writes_pending() == n).await;
    release(blocker).await;
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let created: Created = t
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{engine:?}: {e}"));
        assert!(
            ids.insert(created.case.public_id.clone()),
            "{engine:?}: id reused"
        );
        assert!(created.case.caller_id.is_some(), "{engine:?}: caller kept");
    }
    assert_eq!(ids.len(), n);
    let (batches, answered) = store.group_commit_counts();
    assert_eq!(answered, n as u64, "{engine:?}");
    // The first batches may hold a few requests (one per leader); everything queued behind
    // them goes MAX_BATCH at a time.
    let leaders = max_leaders(engine) as u64;
    assert!(
        batches <= leaders + (n as u64 - 1).div_ceil(MAX_BATCH as u64) + leaders,
        "{engine:?}: {batches} transactions for {n} intakes"
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cases").await, n as i64);
    // Every case is whole: its received event, its caller.
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM cases c WHERE NOT EXISTS \
             (SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.seq = 1) \
             OR c.caller_id IS NULL",
        )
        .await,
        0,
        "{engine:?}"
    );
    // Each answered id is the stored one.
    for id in ids.iter().take(5) {
        assert_eq!(&store.case_by_public_id(id).await.unwrap().public_id, id);
    }
}

async fn a_failing_request_fails_alone(engine: Engine) {
    let (db, region, op, worker) = setup(engine).await;
    let store = store_with_bound(&db, Duration::from_secs(60)).await;
    let blocker = hold_database(&db).await;
    let mut normal = Vec::new();
    for i in 0..10 {
        let (store, region, op) = (store.clone(), std::sync::Arc::clone(&region), op.clone());
        normal.push(tokio::spawn(async move {
            create_case(&store, &region, &op, phone_input(i)).await
        }));
    }
    // The same patrol report sent three times at once, between the others.
    let mut reports = Vec::new();
    for key in ["dup", "dup", "one", "dup", "two"] {
        let (store, region, worker) = (
            store.clone(),
            std::sync::Arc::clone(&region),
            worker.clone(),
        );
        reports.push((
            key,
            tokio::spawn(async move {
                let patrol = Patrol {
                    report_key: Some(key.to_string()),
                    solved_on_spot: None,
                };
                create_case_with(&store, &region, &worker, patrol_input(), patrol).await
            }),
        ));
    }
    wait_for("every intake queued", || store.writes_pending() == 15).await;
    release(blocker).await;
    for t in normal {
        t.await
            .unwrap()
            .unwrap_or_else(|e| panic!("{engine:?}: {e}"));
    }
    let mut dup_ok = 0;
    for (key, t) in reports {
        match t.await.unwrap() {
            Ok(_) if key == "dup" => dup_ok += 1,
            Ok(_) => {}
            Err(e) => {
                assert_eq!(key, "dup", "{engine:?}: {e}");
                assert_eq!(e.kind, ErrorKind::Conflict, "{engine:?}: {e}");
                assert_eq!(e.key, "duplicate_report", "{engine:?}");
            }
        }
    }
    assert_eq!(
        dup_ok, 1,
        "{engine:?}: exactly one of the three sends made the case"
    );
    // Nothing of the refused sends was written.
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cases").await, 13);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM report_keys").await, 3);
    // The analytics count what was written, no more: a refused send's facts (deferred to the
    // batch's COMMIT) went with its savepoint.
    assert_eq!(count(&store, "SELECT COUNT(*) FROM case_facts").await, 13);
    assert_eq!(
        count(
            &store,
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM rollups WHERE metric = 'received'"
        )
        .await,
        13,
        "{engine:?}"
    );
}

async fn a_held_database_answers_unavailable_within_the_bound(engine: Engine) {
    let (db, region, op, _) = setup(engine).await;
    let bound = Duration::from_millis(300);
    let store = store_with_bound(&db, bound).await;
    let blocker = hold_database(&db).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (store, region, op) = (store.clone(), std::sync::Arc::clone(&region), op.clone());
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = create_case(&store, &region, &op, phone_input(i)).await;
            (r, t.elapsed())
        }));
    }
    for t in tasks {
        let (r, took) = t.await.unwrap();
        let e = r.expect_err("the database is held");
        assert_eq!(e.kind, ErrorKind::Unavailable, "{engine:?}: {e}");
        assert_eq!(e.key, "database_busy");
        // One bound for the wait in the queue, one for the batch's own wait, and slack for a
        // loaded machine — but never the old 10 s busy timeout or a hang.
        assert!(took < bound * 8, "{engine:?}: answered after {took:?}");
    }
    assert!(started.elapsed() < Duration::from_secs(8), "{engine:?}");
    release(blocker).await;
    // Once released, writes go through again.
    create_case(&store, &region, &op, phone_input(99))
        .await
        .unwrap_or_else(|e| panic!("{engine:?} after release: {e}"));
    assert_eq!(count(&store, "SELECT COUNT(*) FROM cases").await, 1);
}

per_engine!(
    concurrent_intakes_share_batches,
    a_failing_request_fails_alone,
    a_held_database_answers_unavailable_within_the_bound,
);
