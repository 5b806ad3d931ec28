//! Every release upgrades the installs of earlier ones without losing a record. The install
//! made by release 0.1.0 (`tests/fixtures/release-0.1.0`, made by `make-release-0.1.0.sh` with
//! the 0.1.0 binaries) is served by today's `m110d` on both engines: the new migrations apply,
//! the old cases, users and tokens are all there, the old police transfer waits for its line's
//! acknowledgement, its pre-delivery outbox message is kept but not sent, and new intake works.

use m110_e2e::server::Server;
use m110_e2e::{Engine, per_engine, workspace_root};
use m110_runtime::store::testdb::TestDb;
use serde_json::{Value, json};

fn fixture(name: &str) -> std::path::PathBuf {
    workspace_root()
        .join("tests/fixtures/release-0.1.0")
        .join(name)
}

fn credential(key: &str) -> String {
    std::fs::read_to_string(fixture("credentials.txt"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {key} in credentials.txt"))
}

async fn upgrades_an_install_made_by_release_0_1_0(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let install = dir.path().join("install");
    std::fs::create_dir_all(&install).unwrap();
    std::fs::copy(fixture("m110d.yaml"), install.join("m110d.yaml")).unwrap();
    // Kept alive for the PostgreSQL variant: dropping it drops the database.
    let mut pg: Option<TestDb> = None;
    let (token, extra) = match engine {
        Engine::Sqlite => {
            std::fs::copy(fixture("m110.db"), install.join("m110.db")).unwrap();
            (credential("sqlite_token"), Vec::new())
        }
        Engine::Postgres => {
            let db = TestDb::empty(Engine::Postgres).await;
            let dump = std::fs::read_to_string(fixture("postgres.sql")).unwrap();
            // On a connection of its own: the dump empties its session's search_path.
            {
                use sqlx::Connection;
                let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
                sqlx::raw_sql(&dump).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
            let url = db.url.clone();
            pg = Some(db);
            (
                credential("postgres_token"),
                vec!["--database".to_string(), url],
            )
        }
    };
    let args: Vec<&str> = extra.iter().map(String::as_str).collect();
    let server = Server::start(&install, &args);
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        let token = token.clone();
        async move {
            let r = http.get(path).bearer_auth(token).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200);
            r.json::<Value>().await.unwrap()
        }
    };

    // The old cases, with the old token.
    let list = get(format!("{base}/api/v1/cases")).await;
    let cases = list["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(cases.len(), 3, "{engine:?}: {list}");
    let transferred = cases
        .iter()
        .find(|c| c["status"] == "transferred_police")
        .expect("the 0.1.0 police transfer");
    let id = transferred["id"].as_str().unwrap();
    let case = get(format!("{base}/api/v1/cases/{id}")).await;
    assert_eq!(case["handoff"]["state"], "awaiting", "{engine:?}: {case}");
    assert!(
        cases.iter().any(|c| c["status"] == "dispatched"),
        "{engine:?}"
    );

    // The old user logs in with the old password.
    let r = http
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"name": "op1", "password": credential("password")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{engine:?}");

    // Its outbox message from before delivery existed is kept, not sent months later.
    let store = match &pg {
        Some(db) => db.store.clone(),
        None => m110_runtime::store::Store::connect(&format!(
            "sqlite://{}",
            install.join("m110.db").display()
        ))
        .await
        .unwrap(),
    };
    let (state,): (String,) =
        sqlx::query_as("SELECT state FROM outbox WHERE topic = 'police.transfer'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(state, "unrouted", "{engine:?}");

    // New intake on the upgraded install.
    let r = http
        .post(format!("{base}/api/v1/cases"))
        .bearer_auth(&token)
        .json(&json!({"channel": "phone", "content": "三楼厨房着火了，烟很大"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{engine:?}");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["emergency_line"], "119", "{engine:?}: {v}");
    drop(server);
}

per_engine!(upgrades_an_install_made_by_release_0_1_0);
