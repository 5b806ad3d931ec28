//! Migrations apply on both engines, every table exists, constraints and append-only triggers
//! hold, and the basic Store API (settings, users, sessions, tokens, audit) works end to end.

use m110_runtime::model::Role;
use m110_runtime::model::time::now_ms;
use m110_runtime::policy::credentials as auth;
use m110_runtime::store::audit::{AuditFilter, NewAudit};
use m110_runtime::store::testdb::TestDb;
use m110_runtime::store::users::NewUser;
use m110_runtime::store::{Engine, StoreError};

/// The idle timeout the session reads use (an hour, as the server's default).
const IDLE_MS: i64 = 3_600_000;

const TABLES: &[&str] = &[
    "region",
    "settings",
    "grid_tiers",
    "grid_units",
    "units",
    "unit_contacts",
    "unit_scope",
    "categories",
    "routing_rules",
    "escalation_steps",
    "platforms",
    "users",
    "user_grid_units",
    "sessions",
    "api_tokens",
    "callers",
    "counters",
    "cases",
    "case_events",
    "follow_ups",
    "directory_entries",
    "households",
    "cameras",
    "audit_log",
    "outbox",
    "job_leases",
];

async fn migrations_apply_and_create_every_table(engine: Engine) {
    let db = TestDb::empty(engine).await;
    assert!(!db.store.migrations_current().await.unwrap_or(false));
    db.store.migrate().await.unwrap();
    assert!(db.store.migrations_current().await.unwrap(), "{engine:?}");
    // Re-running is a no-op.
    db.store.migrate().await.unwrap();
    for table in TABLES {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(db.store.pool())
            .await
            .unwrap_or_else(|e| panic!("{engine:?}: table {table}: {e}"));
        assert_eq!(n, 0, "{engine:?}: {table} starts empty");
    }
    db.store.ping().await.unwrap();
}

#[tokio::test]
async fn sqlite_pragmas_are_set() {
    let db = TestDb::new(Engine::Sqlite).await;
    let mut conn = db.store.pool().acquire().await.unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let (fk,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(fk, 1);
}

async fn errors_map_to_store_errors(engine: Engine) {
    let db = TestDb::new(engine).await;
    let s = &db.store;
    s.set_setting("k", "v1").await.unwrap();
    s.set_setting("k", "v2").await.unwrap();
    assert_eq!(s.setting("k").await.unwrap().as_deref(), Some("v2"));
    assert_eq!(s.setting("nope").await.unwrap(), None);

    // Unique violation → Conflict.
    let insert = "INSERT INTO grid_tiers (level, key, name) VALUES ($1, $2, $3)";
    sqlx::query(insert)
        .bind(1i64)
        .bind("township")
        .bind("乡镇")
        .execute(s.pool())
        .await
        .unwrap();
    let err = sqlx::query(insert)
        .bind(2i64)
        .bind("township")
        .bind("x")
        .execute(s.pool())
        .await
        .unwrap_err();
    assert!(
        matches!(StoreError::from(err), StoreError::Conflict(_)),
        "{engine:?}"
    );
    // Foreign key → Invalid.
    let err = sqlx::query(
        "INSERT INTO grid_units (code, name, parent_code, tier, generated, position) \
         VALUES ('1', 'x', 'missing', 1, 0, 0)",
    )
    .execute(s.pool())
    .await
    .unwrap_err();
    assert!(
        matches!(StoreError::from(err), StoreError::Invalid(_)),
        "{engine:?}"
    );
    // Check constraint → Invalid.
    let err = sqlx::query(
        "INSERT INTO units (id, kind, name, functions, service_categories, position) \
         VALUES ('u', 'bogus', 'x', '[]', '[]', 0)",
    )
    .execute(s.pool())
    .await
    .unwrap_err();
    assert!(
        matches!(StoreError::from(err), StoreError::Invalid(_)),
        "{engine:?}"
    );
    // No row → NotFound.
    let err = sqlx::query_as::<_, (i64,)>("SELECT id FROM users WHERE id = $1")
        .bind(42i64)
        .fetch_one(s.pool())
        .await
        .unwrap_err();
    assert!(matches!(StoreError::from(err), StoreError::NotFound));
}

async fn audit_log_is_append_only_and_filterable(engine: Engine) {
    let db = TestDb::new(engine).await;
    let s = &db.store;
    let before = now_ms();
    let a = s
        .audit(&NewAudit::system("m110", "user.create", Some("user:1")))
        .await
        .unwrap();
    let b = s
        .audit(
            &NewAudit::system("m110", "household.read", Some("household:7"))
                .with_detail(serde_json::json!({"masked": true})),
        )
        .await
        .unwrap();
    assert!(b > a);
    let all = s.audit_entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id, b, "newest first");
    assert_eq!(all[0].detail, Some(serde_json::json!({"masked": true})));
    assert!(all[0].at >= before);
    let reads = s
        .audit_entries(&AuditFilter {
            action: Some("household.read".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].target.as_deref(), Some("household:7"));
    let paged = s
        .audit_entries(&AuditFilter {
            before_id: Some(b),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(paged.iter().map(|e| e.id).collect::<Vec<_>>(), vec![a]);

    for sql in ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"] {
        let err = sqlx::query(sql).execute(s.pool()).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{engine:?}: {err}");
    }
    assert_eq!(
        s.audit_entries(&AuditFilter::default())
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn users_sessions_and_tokens(engine: Engine) {
    let db = TestDb::new(engine).await;
    let s = &db.store;
    let cli = NewAudit::system("m110", "user.create", None);
    let phc = auth::hash_password("s3cret-password").unwrap();
    let id = s
        .create_user(
            &NewUser {
                name: "wang".into(),
                role: Role::Operator,
                unit_id: None,
                grid_codes: vec![],
                password_hash: Some(phc),
            },
            &cli,
        )
        .await
        .unwrap();
    let dup = s
        .create_user(
            &NewUser {
                name: "wang".into(),
                role: Role::Analyst,
                unit_id: None,
                grid_codes: vec![],
                password_hash: None,
            },
            &cli,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(dup, StoreError::Conflict(ref m) if m.contains("wang")),
        "{dup}"
    );
    // Role bindings are enforced.
    let unbound = s
        .create_user(
            &NewUser {
                name: "li".into(),
                role: Role::UnitHandler,
                unit_id: None,
                grid_codes: vec![],
                password_hash: None,
            },
            &cli,
        )
        .await
        .unwrap_err();
    assert!(matches!(unbound, StoreError::Invalid(ref m) if m.starts_with("unit")));
    let bad_unit = s
        .create_user(
            &NewUser {
                name: "li".into(),
                role: Role::UnitHandler,
                unit_id: Some("nowhere".into()),
                grid_codes: vec![],
                password_hash: None,
            },
            &cli,
        )
        .await
        .unwrap_err();
    assert!(matches!(bad_unit, StoreError::Invalid(_)), "{bad_unit}");

    let p = s
        .authenticate_password("wang", "s3cret-password")
        .await
        .unwrap();
    assert_eq!((p.user_id, p.role), (id, Role::Operator));
    assert!(matches!(
        s.authenticate_password("wang", "wrong").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.authenticate_password("nobody", "s3cret-password").await,
        Err(StoreError::NotFound)
    ));

    let sess = s.create_session(id, 60_000).await.unwrap();
    let found = s.session(&sess.id, IDLE_MS).await.unwrap();
    assert_eq!(found.principal, p);
    assert_eq!(found.csrf_token, sess.csrf_token);
    assert!(matches!(
        s.session("forged", IDLE_MS).await,
        Err(StoreError::NotFound)
    ));
    let expired = s.create_session(id, -1).await.unwrap();
    assert!(matches!(
        s.session(&expired.id, IDLE_MS).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.purge_expired_sessions(m110_runtime::model::time::now_ms(), IDLE_MS)
            .await
            .unwrap(),
        1
    );

    // Tokens: a new service user, then its principal; the secret is never stored.
    let (token, tid) = s
        .create_token(
            "crm",
            Role::Dispatcher,
            &NewAudit::system("m110", "token.create", None),
        )
        .await
        .unwrap();
    let tp = s.principal_for_token(&token).await.unwrap();
    assert_eq!((tp.name.as_str(), tp.role), ("crm", Role::Dispatcher));
    let (stored,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1")
        .bind(&token)
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(stored, 0, "plain token must not be stored");
    let clash = s
        .create_token(
            "wang",
            Role::Admin,
            &NewAudit::system("m110", "token.create", None),
        )
        .await
        .unwrap_err();
    assert!(matches!(clash, StoreError::Conflict(_)));
    // The use is recorded off the request path: wait for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let listed = loop {
        let listed = s.tokens().await.unwrap();
        if listed.iter().all(|t| t.last_used_at.is_some()) || std::time::Instant::now() > deadline {
            break listed;
        }
        // Polling the condition, not waiting a fixed time.
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(listed.len(), 1);
    assert!(
        listed[0].last_used_at.is_some(),
        "the token's use is recorded"
    );
    s.revoke_token(tid).await.unwrap();
    assert!(matches!(
        s.principal_for_token(&token).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.revoke_token(tid).await,
        Err(StoreError::NotFound)
    ));

    // A new password ends existing sessions and replaces the old one.
    let s2 = s.create_session(id, 60_000).await.unwrap();
    s.set_password_hash(id, &auth::hash_password("another-password").unwrap())
        .await
        .unwrap();
    assert!(matches!(
        s.session(&s2.id, IDLE_MS).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        s.authenticate_password("wang", "s3cret-password")
            .await
            .is_err()
    );
    s.authenticate_password("wang", "another-password")
        .await
        .unwrap();
    let sess = s.create_session(id, 60_000).await.unwrap();

    // Disabling ends sessions and logins.
    s.set_user_disabled(id, true).await.unwrap();
    assert!(matches!(
        s.session(&sess.id, IDLE_MS).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        s.authenticate_password("wang", "another-password")
            .await
            .is_err()
    );

    // Audit rows were written for the user and token creations (plus the failed ones not).
    let audits = s.audit_entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(audits.len(), 2, "{engine:?}: {audits:?}");
}

m110_runtime::per_engine!(
    migrations_apply_and_create_every_table,
    errors_map_to_store_errors,
    audit_log_is_append_only_and_filterable,
    users_sessions_and_tokens
);
