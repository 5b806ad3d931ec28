//! `m110 provision` end to end, with the real binary, on SQLite and PostgreSQL: every example
//! profile provisions, re-provisioning is a no-op, a provision killed part-way leaves no
//! half-made database (and a re-run then succeeds), a changed profile is refused, and
//! `m110 user add` / `m110 token add` work on the result.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use m110_e2e::{Engine, PgDatabase, bin, engines, workspace_root};
use m110_runtime::store::{ConnectOptions, Store};

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

/// One install target: a temp directory plus, on PostgreSQL, a fresh database.
struct Target {
    dir: tempfile::TempDir,
    pg: Option<PgDatabase>,
}

impl Target {
    async fn new(engine: Engine) -> Target {
        let pg = match engine {
            Engine::Sqlite => None,
            Engine::Postgres => Some(PgDatabase::create().await),
        };
        Target {
            dir: tempfile::tempdir().unwrap(),
            pg,
        }
    }

    fn install(&self) -> PathBuf {
        self.dir.path().join("install")
    }

    fn provision_cmd(&self, profile: &Path) -> Command {
        let mut cmd = Command::new(bin("m110"));
        cmd.arg("provision")
            .arg(profile)
            .arg("--install")
            .arg(self.install())
            .env_remove("M110_DATABASE_URL")
            .env_remove("M110_TEST_CRASH_AFTER")
            .stdin(Stdio::null());
        if let Some(pg) = &self.pg {
            cmd.arg("--database").arg(&pg.url);
        }
        cmd
    }

    fn provision(&self, profile: &Path) -> Output {
        self.provision_cmd(profile).output().unwrap()
    }

    fn url(&self) -> String {
        match &self.pg {
            Some(pg) => pg.url.clone(),
            None => format!("sqlite://{}", self.install().join("m110.db").display()),
        }
    }

    async fn store(&self) -> Store {
        Store::connect_with(
            &self.url(),
            &ConnectOptions {
                migrate: false,
                ..ConnectOptions::default()
            },
        )
        .await
        .unwrap()
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
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

fn password_line(stdout: &str) -> Option<String> {
    stdout
        .lines()
        .find(|l| l.contains("one-time password"))
        .and_then(|l| l.rsplit(' ').next())
        .map(str::to_string)
}

#[tokio::test]
async fn every_example_profile_provisions_and_reprovisions_as_a_no_op() {
    for engine in engines() {
        for profile in example_profiles() {
            let t = Target::new(engine).await;
            let out = t.provision(&profile);
            assert!(
                out.status.success(),
                "{engine:?} {}: {}",
                profile.display(),
                text(&out)
            );
            let stdout = String::from_utf8_lossy(&out.stdout).to_string();
            let password = password_line(&stdout)
                .unwrap_or_else(|| panic!("no one-time password printed: {}", text(&out)));
            assert!(password.len() >= 10);
            assert!(
                !String::from_utf8_lossy(&out.stderr).contains(&password),
                "password must not be logged"
            );
            for f in ["m110d.yaml", "kit.lock", "routing.csv", "handbook.md"] {
                assert!(t.install().join(f).is_file(), "{f} missing");
            }
            if engine == Engine::Sqlite {
                assert!(t.install().join("m110.db").is_file());
                assert!(!t.install().join("m110.db.tmp").exists());
            } else {
                let cfg = std::fs::read_to_string(t.install().join("m110d.yaml")).unwrap();
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
            let cfg_before = std::fs::read(t.install().join("m110d.yaml")).unwrap();

            let again = t.provision(&profile);
            assert!(again.status.success(), "{}", text(&again));
            let again_out = String::from_utf8_lossy(&again.stdout);
            assert!(again_out.contains("unchanged"), "{}", text(&again));
            assert_eq!(password_line(&again_out), None, "no second admin password");
            assert_eq!(
                snapshot(&store).await,
                before,
                "{engine:?}: re-provision changed rows"
            );
            assert_eq!(
                std::fs::read(t.install().join("m110d.yaml")).unwrap(),
                cfg_before
            );
            store.close().await;
        }
    }
}

#[tokio::test]
async fn provision_killed_part_way_leaves_no_half_made_database() {
    let profile = example_profiles().remove(0);
    for engine in engines() {
        for stage in ["region", "units", "households", "admin"] {
            let t = Target::new(engine).await;
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
                        !t.install().join("m110.db").exists(),
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
            let out = t.provision(&profile);
            assert!(
                out.status.success(),
                "{engine:?} after {stage}: {}",
                text(&out)
            );
            assert!(password_line(&String::from_utf8_lossy(&out.stdout)).is_some());
            let store = t.store().await;
            assert!(store.provision_state().await.unwrap().is_some());
            store.close().await;
        }
    }
}

#[tokio::test]
async fn provision_sigkilled_at_any_moment_is_all_or_nothing() {
    // The largest example profile takes longest, widening the window for the kill.
    let profile = example_profiles()
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .unwrap();
    for engine in engines() {
        for delay_ms in [50u64, 400, 1500] {
            let t = Target::new(engine).await;
            let mut child = t.provision_cmd(&profile).spawn().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            let _ = child.kill(); // SIGKILL; it may already have finished
            let _ = child.wait();
            // Whatever the timing: either no provisioned database, or a complete one.
            let complete = match engine {
                Engine::Sqlite => t.install().join("m110.db").exists(),
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
            let out = t.provision(&profile);
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
}

#[tokio::test]
async fn changed_profile_is_refused_and_users_and_tokens_can_be_added() {
    let profile = example_profiles().remove(0);
    for engine in engines() {
        let t = Target::new(engine).await;
        let out = t.provision(&profile);
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
        let refused = t.provision(&changed);
        assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("m110 upgrade"),
            "{}",
            text(&refused)
        );

        // A directory the kit did not make is refused (exit 1) and left as it was.
        let foreign = t.dir.path().join("foreign");
        std::fs::create_dir_all(&foreign).unwrap();
        std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
        let out = Command::new(bin("m110"))
            .arg("provision")
            .arg(&profile)
            .arg("--install")
            .arg(&foreign)
            .args(
                t.pg.as_ref()
                    .map(|pg| vec!["--database".to_string(), pg.url.clone()])
                    .unwrap_or_default(),
            )
            .env_remove("M110_DATABASE_URL")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let left: Vec<_> = std::fs::read_dir(&foreign).unwrap().collect();
        assert_eq!(left.len(), 1, "foreign directory untouched");

        let install = t.install();
        let db_args: Vec<String> = match &t.pg {
            Some(pg) => vec!["--database".into(), pg.url.clone()],
            None => vec![],
        };
        let user = |name: &str, role: &str, extra: &[&str], password: &str| {
            let mut child = Command::new(bin("m110"))
                .args(["user", "add", "--install"])
                .arg(&install)
                .args(&db_args)
                .args(["--name", name, "--role", role, "--password-stdin"])
                .args(extra)
                .env_remove("M110_DATABASE_URL")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // A child that fails before reading its password closes the pipe: keep going, so
            // the assertion below shows what it printed instead of a bare "Broken pipe".
            let _ = child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{password}\n").as_bytes());
            child.wait_with_output().unwrap()
        };
        let ok = user("op1", "operator", &[], "operator-password-1");
        assert!(ok.status.success(), "{}", text(&ok));
        let dup = user("op1", "operator", &[], "operator-password-1");
        assert_eq!(dup.status.code(), Some(1), "{}", text(&dup));
        let short = user("op2", "operator", &[], "short");
        assert_eq!(short.status.code(), Some(1), "{}", text(&short));
        let unbound = user("h1", "unit_handler", &[], "handler-password-1");
        assert_eq!(unbound.status.code(), Some(1), "{}", text(&unbound));
        let bad_role = user("x", "root", &[], "whatever-password");
        assert_eq!(bad_role.status.code(), Some(2), "{}", text(&bad_role));

        let tok = Command::new(bin("m110"))
            .args(["token", "add", "--install"])
            .arg(&install)
            .args(&db_args)
            .args(["--name", "crm", "--role", "dispatcher"])
            .env_remove("M110_DATABASE_URL")
            .output()
            .unwrap();
        assert!(tok.status.success(), "{}", text(&tok));
        let stdout = String::from_utf8_lossy(&tok.stdout);
        let token = stdout.lines().last().unwrap().trim().to_string();
        assert!(token.starts_with("m110_") && token.len() == 69, "{stdout}");

        // A lost password is reset from the command line.
        let mut child = Command::new(bin("m110"))
            .args(["user", "password", "--install"])
            .arg(&install)
            .args(&db_args)
            .args(["--name", "op1", "--password-stdin"])
            .env_remove("M110_DATABASE_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"operator-password-2\n")
            .unwrap();
        let reset = child.wait_with_output().unwrap();
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
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
