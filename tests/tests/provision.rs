//! `m110 provision` end to end, with the real binary, on SQLite and PostgreSQL: every example
//! profile provisions, re-provisioning is a no-op, a provision killed part-way leaves no
//! half-made database (and a re-run then succeeds), a changed profile is refused, and
//! `m110 user add` / `m110 token add` work on the result.

use std::path::PathBuf;
use std::process::Command;

use m110_e2e::install::{one_time_password, with_stdin};
use m110_e2e::{Engine, Install, bin, copy_dir, output_text as text, per_engine, workspace_root};
use m110_runtime::store::Store;

/// Tables provisioning writes, for before/after comparisons.
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
    "directory_entries",
    "households",
    "users",
    "api_tokens",
    "audit_log",
];

fn example_profiles() -> Vec<PathBuf> {
    let dir = workspace_root().join("profiles");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no example profiles in {}", dir.display());
    v
}

/// Row counts of every provisioned table plus all settings: the observable state.
async fn snapshot(store: &Store) -> (Vec<i64>, Vec<(String, String, i64)>) {
    let mut counts = Vec::new();
    for t in TABLES {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {t}"))
            .fetch_one(store.pool())
            .await
            .unwrap();
        counts.push(n);
    }
    let settings = sqlx::query_as("SELECT key, value, updated_at FROM settings ORDER BY key")
        .fetch_all(store.pool())
        .await
        .unwrap();
    (counts, settings)
}

per_engine!(every_example_profile_provisions_and_reprovisions_as_a_no_op);
async fn every_example_profile_provisions_and_reprovisions_as_a_no_op(engine: Engine) {
    for profile in example_profiles() {
        let t = Install::empty(engine).await;
        let out = t.provision_cmd(&profile).output().unwrap();
        assert!(
            out.status.success(),
            "{engine:?} {}: {}",
            profile.display(),
            text(&out)
        );
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let password = one_time_password(&stdout)
            .unwrap_or_else(|| panic!("no one-time password printed: {}", text(&out)));
        assert!(password.len() >= 10);
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains(&password),
            "password must not be logged"
        );
        for f in ["m110d.yaml", "kit.lock", "routing.csv", "handbook.md"] {
            assert!(t.path().join(f).is_file(), "{f} missing");
        }
        if engine == Engine::Sqlite {
            assert!(t.path().join("m110.db").is_file());
            assert!(!t.path().join("m110.db.tmp").exists());
        } else {
            let cfg = std::fs::read_to_string(t.path().join("m110d.yaml")).unwrap();
            assert!(cfg.contains("postgres://"), "{cfg}");
        }

        let store = t.store().await;
        let state = store.provision_state().await.unwrap().expect("provisioned");
        let region = store.load_region().await.unwrap();
        assert_eq!(region.info.code, state.region_code);
        assert!(!region.grid_units.is_empty() && !region.units.is_empty());
        let admin = store
            .authenticate_password("admin", &password)
            .await
            .unwrap();
        assert_eq!(admin.role.as_str(), "admin");
        let before = snapshot(&store).await;
        let cfg_before = std::fs::read(t.path().join("m110d.yaml")).unwrap();

        let again = t.provision_cmd(&profile).output().unwrap();
        assert!(again.status.success(), "{}", text(&again));
        let again_out = String::from_utf8_lossy(&again.stdout);
        assert!(again_out.contains("unchanged"), "{}", text(&again));
        assert_eq!(
            one_time_password(&again_out),
            None,
            "no second admin password"
        );
        assert_eq!(
            snapshot(&store).await,
            before,
            "{engine:?}: re-provision changed rows"
        );
        assert_eq!(
            std::fs::read(t.path().join("m110d.yaml")).unwrap(),
            cfg_before
        );
        store.close().await;
    }
}

per_engine!(provision_killed_part_way_leaves_no_half_made_database);
async fn provision_killed_part_way_leaves_no_half_made_database(engine: Engine) {
    let profile = example_profiles().remove(0);
    for stage in ["region", "units", "households", "admin"] {
        let t = Install::empty(engine).await;
        let out = t
            .provision_cmd(&profile)
            .env("M110_TEST_CRASH_AFTER", stage)
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "crash hook did not fire: {}",
            text(&out)
        );
        match engine {
            Engine::Sqlite => {
                assert!(
                    !t.path().join("m110.db").exists(),
                    "{stage}: a killed provision must not leave m110.db"
                );
            }
            Engine::Postgres => {
                let store = t.store().await;
                assert_eq!(store.provision_state().await.unwrap(), None, "{stage}");
                let (counts, settings) = snapshot(&store).await;
                assert!(counts.iter().all(|&n| n == 0), "{stage}: {counts:?}");
                assert!(settings.is_empty());
                store.close().await;
            }
        }
        // The next run starts clean and completes.
        let out = t.provision_cmd(&profile).output().unwrap();
        assert!(
            out.status.success(),
            "{engine:?} after {stage}: {}",
            text(&out)
        );
        assert!(one_time_password(&String::from_utf8_lossy(&out.stdout)).is_some());
        let store = t.store().await;
        assert!(store.provision_state().await.unwrap().is_some());
        store.close().await;
    }
}

per_engine!(provision_sigkilled_at_any_moment_is_all_or_nothing);
async fn provision_sigkilled_at_any_moment_is_all_or_nothing(engine: Engine) {
    // The largest example profile takes longest, widening the window for the kill.
    let profile = example_profiles()
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .unwrap();
    for delay_ms in [50u64, 400, 1500] {
        let t = Install::empty(engine).await;
        let mut child = t.provision_cmd(&profile).spawn().unwrap();
        // A deliberate delay, not a wait for anything: the point is to SIGKILL the process
        // at arbitrary moments (early, mid-way, late or after it finished), whatever it is
        // doing then. There is no condition to wait on; every outcome is checked below.
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL; it may already have finished
        let _ = child.wait();
        // Whatever the timing: either no provisioned database, or a complete one.
        let complete = match engine {
            Engine::Sqlite => t.path().join("m110.db").exists(),
            Engine::Postgres => {
                let store = t.store().await;
                let (tables,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'region'",
                )
                .fetch_one(store.pool())
                .await
                .unwrap();
                // Killed before the migrations committed: nothing at all.
                let done = tables > 0 && store.provision_state().await.unwrap().is_some();
                if tables > 0 && !done {
                    // Migrated tables, but not one region row.
                    let (counts, settings) = snapshot(&store).await;
                    assert!(counts.iter().all(|&n| n == 0), "{delay_ms}ms: {counts:?}");
                    assert!(settings.is_empty());
                }
                store.close().await;
                done
            }
        };
        eprintln!(
            "{engine:?}: killed after {delay_ms} ms → {}",
            if complete { "complete" } else { "nothing" }
        );
        if complete {
            let store = t.store().await;
            let region = store.load_region().await.unwrap();
            assert!(!region.grid_units.is_empty());
            let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
                .fetch_one(store.pool())
                .await
                .unwrap();
            assert_eq!(users, 1, "the admin commits with the region");
            store.close().await;
        }
        // A re-run always ends provisioned.
        let out = t.provision_cmd(&profile).output().unwrap();
        assert!(
            out.status.success(),
            "{engine:?} {delay_ms}ms: {}",
            text(&out)
        );
        let store = t.store().await;
        assert!(store.provision_state().await.unwrap().is_some());
        store.close().await;
    }
}

per_engine!(changed_profile_is_refused_and_users_and_tokens_can_be_added);
async fn changed_profile_is_refused_and_users_and_tokens_can_be_added(engine: Engine) {
    let profile = example_profiles().remove(0);
    let t = Install::empty(engine).await;
    let out = t.provision_cmd(&profile).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));

    // A changed copy of the profile, in a copy of profiles/ so its CSV references resolve
    // (and the other tests never see it).
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&workspace_root().join("profiles"), copy.path());
    let changed = copy.path().join(profile.file_name().unwrap());
    let original = std::fs::read_to_string(&changed).unwrap();
    let edited = original.replacen("hours: \"24/7\"", "hours: \"08:00-20:00\"", 1);
    assert_ne!(edited, original, "profile has no hours line to change");
    std::fs::write(&changed, edited).unwrap();
    let refused = t.provision_cmd(&changed).output().unwrap();
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("m110 upgrade"),
        "{}",
        text(&refused)
    );

    // A directory the kit did not make is refused (exit 1) and left as it was.
    let foreign = t.scratch().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let out = m110_e2e::server::clean_env(&mut Command::new(bin("m110")))
        .arg("provision")
        .arg(&profile)
        .arg("--install")
        .arg(&foreign)
        .args(t.database_args())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let left: Vec<_> = std::fs::read_dir(&foreign).unwrap().collect();
    assert_eq!(left.len(), 1, "foreign directory untouched");

    // The commands take the database explicitly too (as a script might).
    let db_args = t.database_args();
    let db_args: Vec<&str> = db_args.iter().map(String::as_str).collect();
    let user = |name: &str, role: &str, password: &str| t.try_user(name, role, &db_args, password);
    let ok = user("op1", "operator", "operator-password-1");
    assert!(ok.status.success(), "{}", text(&ok));
    let dup = user("op1", "operator", "operator-password-1");
    assert_eq!(dup.status.code(), Some(1), "{}", text(&dup));
    let short = user("op2", "operator", "short");
    assert_eq!(short.status.code(), Some(1), "{}", text(&short));
    let unbound = user("h1", "unit_handler", "handler-password-1");
    assert_eq!(unbound.status.code(), Some(1), "{}", text(&unbound));
    let bad_role = user("x", "root", "whatever-password");
    assert_eq!(bad_role.status.code(), Some(2), "{}", text(&bad_role));

    let tok = t
        .m110(&["token", "add", "--name", "crm", "--role", "dispatcher"])
        .args(&db_args)
        .output()
        .unwrap();
    assert!(tok.status.success(), "{}", text(&tok));
    let stdout = String::from_utf8_lossy(&tok.stdout);
    let token = stdout.lines().last().unwrap().trim().to_string();
    assert!(token.starts_with("m110_") && token.len() == 69, "{stdout}");

    // A lost password is reset from the command line.
    let mut reset = t.m110(&["user", "password", "--name", "op1", "--password-stdin"]);
    reset.args(&db_args);
    let reset = with_stdin(reset, "operator-password-2\n");
    assert!(reset.status.success(), "{}", text(&reset));

    let store = t.store().await;
    assert!(
        store
            .authenticate_password("op1", "operator-password-1")
            .await
            .is_err()
    );
    let op = store
        .authenticate_password("op1", "operator-password-2")
        .await
        .unwrap();
    assert_eq!(op.role.as_str(), "operator");
    let p = store.principal_for_token(&token).await.unwrap();
    assert_eq!((p.name.as_str(), p.role.as_str()), ("crm", "dispatcher"));
    store.close().await;
}
