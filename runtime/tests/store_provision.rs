//! Provisioning on both engines: the region reads back exactly, re-provisioning is a no-op,
//! a different region is refused, and a provision failing part-way leaves no region rows.

use m110_runtime::engine::provision::{
    BootstrapAdmin, ProvisionError, ProvisionMeta, ProvisionOutcome, provision, region_sha256,
};
use m110_runtime::model::Role;
use m110_runtime::model::{DirectoryEntry, DirectorySystem, Region};
use m110_runtime::policy::credentials as auth;
use m110_runtime::store::testdb::{TestDb, fixture_region};
use m110_runtime::store::{Engine, Store, StoreError};

/// Every table provisioning writes.
const REGION_TABLES: &[&str] = &[
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
    "cameras",
    "directory_entries",
    "households",
    "users",
    "audit_log",
];

fn meta(admin: Option<BootstrapAdmin>) -> ProvisionMeta {
    ProvisionMeta {
        profile_sha256: "0".repeat(64),
        kit_version: "test".into(),
        bootstrap_admin: admin,
    }
}

async fn counts(store: &Store) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for t in REGION_TABLES {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {t}"))
            .fetch_one(store.pool())
            .await
            .unwrap();
        out.push((t.to_string(), n));
    }
    out
}

/// Everything observable about the provisioned state: counts, settings with their timestamps,
/// the region row's timestamp and the whole model.
async fn snapshot(store: &Store) -> (Vec<(String, i64)>, Vec<(String, String, i64)>, i64, Region) {
    let settings: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT key, value, updated_at FROM settings ORDER BY key")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let (at,): (i64,) = sqlx::query_as("SELECT provisioned_at FROM region")
        .fetch_one(store.pool())
        .await
        .unwrap();
    (
        counts(store).await,
        settings,
        at,
        store.load_region().await.unwrap(),
    )
}

async fn provision_reads_back_exactly(engine: Engine) {
    let db = TestDb::new(engine).await;
    let s = &db.store;
    assert_eq!(s.provision_state().await.unwrap(), None);
    assert!(matches!(s.load_region().await, Err(StoreError::NotFound)));

    let region = fixture_region();
    let phc = auth::hash_password("bootstrap-password").unwrap();
    let out = provision(
        s,
        &region,
        &meta(Some(BootstrapAdmin {
            name: "admin".into(),
            password_hash: phc,
        })),
    )
    .await
    .unwrap();
    assert_eq!(out, ProvisionOutcome::Created);

    let back = s.load_region().await.unwrap();
    assert_eq!(back, region, "{engine:?}: region round trip");
    let state = s.provision_state().await.unwrap().unwrap();
    assert_eq!(state.region_code, "350781");
    assert_eq!(state.region_name, "邵武市");
    assert_eq!(state.region_sha256, Some(region_sha256(&region)));
    assert_eq!(state.model_version.as_deref(), Some("1"));
    assert_eq!(state.kit_version.as_deref(), Some("test"));

    let c: std::collections::HashMap<String, i64> = counts(s).await.into_iter().collect();
    assert_eq!(c["grid_units"], 8);
    assert_eq!(c["units"], 9);
    assert_eq!(c["unit_contacts"], 2);
    assert_eq!(c["unit_scope"], 5);
    assert_eq!(c["categories"], 5);
    assert_eq!(c["routing_rules"], 6);
    assert_eq!(c["escalation_steps"], 3);
    assert_eq!(c["platforms"], 4);
    assert_eq!(c["cameras"], 2);
    assert_eq!(c["directory_entries"], 4);
    assert_eq!(c["households"], 2);
    assert_eq!(c["users"], 1);
    assert_eq!(c["audit_log"], 1);

    let admin = s
        .authenticate_password("admin", "bootstrap-password")
        .await
        .unwrap();
    assert_eq!(admin.role, Role::Admin);
}

async fn reprovision_same_region_is_a_no_op(engine: Engine) {
    let db = TestDb::new(engine).await;
    let s = &db.store;
    let region = fixture_region();
    assert_eq!(
        provision(s, &region, &meta(None)).await.unwrap(),
        ProvisionOutcome::Created
    );
    let before = snapshot(s).await;
    // Different profile bytes and kit, same model: still the same region.
    let again = ProvisionMeta {
        profile_sha256: "f".repeat(64),
        kit_version: "other".into(),
        bootstrap_admin: Some(BootstrapAdmin {
            name: "admin2".into(),
            password_hash: "x".into(),
        }),
    };
    assert_eq!(
        provision(s, &region, &again).await.unwrap(),
        ProvisionOutcome::Unchanged
    );
    assert_eq!(snapshot(s).await, before, "{engine:?}: nothing changed");
}

async fn changed_or_other_region_is_refused(engine: Engine) {
    let db = TestDb::provisioned(engine).await;
    let s = &db.store;
    let before = snapshot(s).await;

    let mut changed = fixture_region();
    changed.categories[2].close_hours = 48;
    let err = provision(s, &changed, &meta(None)).await.unwrap_err();
    assert!(matches!(err, ProvisionError::Differs { .. }), "{err}");
    assert!(err.to_string().contains("m110 upgrade"), "{err}");

    let mut other = fixture_region();
    other.info.code = "350702".into();
    let err = provision(s, &other, &meta(None)).await.unwrap_err();
    assert!(matches!(err, ProvisionError::OtherRegion { .. }), "{err}");

    assert_eq!(
        snapshot(s).await,
        before,
        "{engine:?}: refusals change nothing"
    );
}

async fn assert_no_region_rows(store: &Store, engine: m110_runtime::store::Engine) {
    for (table, n) in counts(store).await {
        assert_eq!(
            n, 0,
            "{engine:?}: {table} must be empty after a failed provision"
        );
    }
    assert_eq!(store.provision_state().await.unwrap(), None);
}

async fn failed_provision_leaves_nothing(engine: Engine) {
    let db = TestDb::new(engine).await;
    let s = &db.store;

    // Early failure: a duplicate grid code (primary key) after several grid rows went in.
    let mut dup = fixture_region();
    let mut copy = dup.grid_units[0].clone();
    copy.name = "重复".into();
    dup.grid_units.push(copy);
    let err = provision(s, &dup, &meta(None)).await.unwrap_err();
    assert!(
        matches!(&err, ProvisionError::Store(StoreError::Conflict(m)) if m.contains("350781001")),
        "{engine:?}: {err}"
    );
    assert_no_region_rows(s, engine).await;

    // Late failure: a directory entry in a grid unit that does not exist (foreign key), after
    // the grid, units, categories, routing and platforms were written.
    let mut late = fixture_region();
    late.directory.push(DirectoryEntry {
        system: DirectorySystem::MarketProviders,
        name: "无处公司".into(),
        category: None,
        phone: None,
        address: None,
        grid: Some("999999999".into()),
        description: None,
        qualification: None,
        unit: None,
    });
    let err = provision(
        s,
        &late,
        &meta(Some(BootstrapAdmin {
            name: "admin".into(),
            password_hash: "x".into(),
        })),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, ProvisionError::Store(StoreError::Invalid(m)) if m.contains("无处公司")),
        "{engine:?}: {err}"
    );
    assert_no_region_rows(s, engine).await;

    // A bad routing fallback is caught too.
    let mut nofallback = fixture_region();
    nofallback.routing.fallback_unit = "nobody".into();
    assert!(provision(s, &nofallback, &meta(None)).await.is_err());
    assert_no_region_rows(s, engine).await;

    // And the database is still usable: the good region provisions afterwards.
    assert_eq!(
        provision(s, &fixture_region(), &meta(None)).await.unwrap(),
        ProvisionOutcome::Created
    );
    assert_eq!(s.load_region().await.unwrap(), fixture_region());
}

#[test]
fn region_hash_tracks_the_model() {
    let a = fixture_region();
    let mut b = fixture_region();
    assert_eq!(region_sha256(&a), region_sha256(&b));
    b.grid_units[0].name.push('x');
    assert_ne!(region_sha256(&a), region_sha256(&b));
}

async fn concurrent_provisions_create_once(engine: Engine) {
    let db = TestDb::new(engine).await;
    let region = fixture_region();
    let m = meta(None);
    let (a, b) = tokio::join!(
        provision(&db.store, &region, &m),
        provision(&db.store, &region, &m)
    );
    let mut outcomes = vec![a.unwrap(), b.unwrap()];
    outcomes.sort_by_key(|o| *o == ProvisionOutcome::Unchanged);
    assert_eq!(
        outcomes,
        vec![ProvisionOutcome::Created, ProvisionOutcome::Unchanged],
        "{engine:?}"
    );
    assert_eq!(db.store.load_region().await.unwrap(), region);
}

async fn unit_and_grid_bound_users_and_their_tokens(engine: Engine) {
    use m110_runtime::store::audit::NewAudit;
    use m110_runtime::store::users::NewUser;
    let db = TestDb::provisioned(engine).await;
    let s = &db.store;
    let cli = NewAudit::system("test", "user.create", None);
    let handler = s
        .create_user(
            &NewUser {
                name: "handler".into(),
                role: Role::UnitHandler,
                unit_id: Some("housing-bureau".into()),
                grid_codes: vec![],
                password_hash: None,
            },
            &cli,
        )
        .await
        .unwrap();
    let worker = s
        .create_user(
            &NewUser {
                name: "gridder".into(),
                role: Role::GridWorker,
                unit_id: None,
                grid_codes: vec!["350781001001-02".into(), "350781001001-01".into()],
                password_hash: None,
            },
            &cli,
        )
        .await
        .unwrap();
    let p = s.principal(handler).await.unwrap();
    assert_eq!(p.unit_id.as_deref(), Some("housing-bureau"));
    let p = s.principal(worker).await.unwrap();
    assert_eq!(
        p.grid_codes,
        vec!["350781001001-01".to_string(), "350781001001-02".to_string()]
    );
    // A grid code that does not exist, or a unit for a role without one, is refused.
    for bad in [
        NewUser {
            name: "g2".into(),
            role: Role::GridWorker,
            unit_id: None,
            grid_codes: vec!["nope".into()],
            password_hash: None,
        },
        NewUser {
            name: "o2".into(),
            role: Role::Operator,
            unit_id: Some("center".into()),
            grid_codes: vec![],
            password_hash: None,
        },
    ] {
        let err = s.create_user(&bad, &cli).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{engine:?}: {err}");
    }
    // A bound role's token must belong to an existing, bound user, and then acts as it.
    let tok = NewAudit::system("test", "token.create", None);
    let err = s
        .create_token("newhandler", Role::UnitHandler, &tok)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let (token, _) = s
        .create_token("handler", Role::UnitHandler, &tok)
        .await
        .unwrap();
    let p = s.principal_for_token(&token).await.unwrap();
    assert_eq!(
        (p.user_id, p.unit_id.as_deref()),
        (handler, Some("housing-bureau"))
    );
}

m110_runtime::per_engine!(
    unit_and_grid_bound_users_and_their_tokens,
    provision_reads_back_exactly,
    reprovision_same_region_is_a_no_op,
    changed_or_other_region_is_refused,
    failed_provision_leaves_nothing,
    concurrent_provisions_create_once
);
