//! Every release upgrades the installs of earlier ones without losing a record. Two installs
//! are kept as fixtures, each a SQLite file and a PostgreSQL dump with the same little traffic
//! (a dispatched case, a police transfer and its outbox message, an unclassified case, a user
//! with a password and an operator token):
//!
//! - `tests/fixtures/release-0.1.0`, made by `make-release-0.1.0.sh` with release 0.1.0
//!   (cb53aeb), from before delivery existed: its transfer's outbox message names no platform;
//! - `tests/fixtures/landed-daf738f`, made by `make-release.sh landed-daf738f` with the kit of
//!   commit daf738f: its transfer's message is `manual` (the police line has no integration,
//!   a person hands it over by phone), and it holds an `open311_client`-scoped token;
//! - `tests/fixtures/landed-9bb96cc`, made the same way with the kit of commit 9bb96cc
//!   (migrations through 0050): the last install before accounts gained real names, phones,
//!   one-time passwords and reset links (0060);
//! - `tests/fixtures/landed-62b3cf6` (through 0060), `tests/fixtures/landed-7ee2457` (through
//!   0080: rollups and alerts), `tests/fixtures/landed-6859fb9` (through 0090: 一事多诉) and
//!   `tests/fixtures/landed-bd59eb3` (through 0140: the field), the installs of the last landed
//!   stops before a migration.
//!
//! Today's `m110d` serves each on both engines: the new migrations apply, the old cases, users
//! and tokens are all there, the old police transfer waits for its line's acknowledgement, its
//! outbox message is kept as it was and not sent, a scoped token keeps its scope, and new
//! intake works.

use std::time::Duration;

use m110_e2e::server::Server;
use m110_e2e::{Engine, eventually, metric, per_engine, workspace_root};
use m110_runtime::store::testdb::TestDb;
use serde_json::{Value, json};

/// An install kept under `tests/fixtures/`, and what its kit wrote differently.
struct Fixture {
    /// Directory under `tests/fixtures/`.
    dir: &'static str,
    /// Topic of the police transfer's outbox message.
    transfer_topic: &'static str,
    /// Platform and delivery state that message has once upgraded: kept, never sent.
    transfer_platform: Option<&'static str>,
    transfer_state: &'static str,
    /// Whether `credentials.txt` holds `<engine>_open311_token`, an `open311_client` token.
    open311_token: bool,
}

/// Release 0.1.0 wrote a `police.transfer` message for no platform; migration 0030 keeps it as
/// `unrouted`.
const RELEASE_0_1_0: Fixture = Fixture {
    dir: "release-0.1.0",
    transfer_topic: "police.transfer",
    transfer_platform: None,
    transfer_state: "unrouted",
    open311_token: false,
};

/// The kit at daf738f wrote an `emergency.transfer` message for the police line, `manual`
/// because the shaowu profile's police platform has no integration.
const LANDED_DAF738F: Fixture = Fixture {
    dir: "landed-daf738f",
    transfer_topic: "emergency.transfer",
    transfer_platform: Some("police-dispatch"),
    transfer_state: "manual",
    open311_token: true,
};

/// The kit at 9bb96cc wrote the same messages; its users table predates migration 0060.
const LANDED_9BB96CC: Fixture = Fixture {
    dir: "landed-9bb96cc",
    ..LANDED_DAF738F
};

const LANDED_62B3CF6: Fixture = Fixture {
    dir: "landed-62b3cf6",
    ..LANDED_DAF738F
};

/// The kit at 7ee2457 (stop 22): rollups and alerts (migrations through 0080), from before
/// 一事多诉's case links (0090).
const LANDED_7EE2457: Fixture = Fixture {
    dir: "landed-7ee2457",
    ..LANDED_DAF738F
};

/// The kit at 6859fb9 (stop 23): 一事多诉's case links (migrations through 0090), from before the
/// field work (attachments, offers, knowledge base, cameras, grid tasks and visits: 0100–0140).
const LANDED_6859FB9: Fixture = Fixture {
    dir: "landed-6859fb9",
    ..LANDED_DAF738F
};

/// The kit at bd59eb3 (stop 24, as landed): the field work (migrations through 0140, 0110 with
/// `provider_admissions.unit_id` still nullable on SQLite), from before the paging indexes
/// (0150) and the rebuilt admissions key (0160).
const LANDED_BD59EB3: Fixture = Fixture {
    dir: "landed-bd59eb3",
    ..LANDED_DAF738F
};

/// The kit at 7006900 (stop 25, as landed): group commit and keyset paging (migrations through
/// 0160), from before the rollup margins and the overdue index (0170).
const LANDED_7006900: Fixture = Fixture {
    dir: "landed-7006900",
    ..LANDED_DAF738F
};

/// The kit at c6bb864 (stop 26, as landed): the rollup margins (migrations through 0170), from
/// before login throttling (0180) and the privacy migration (0190).
const LANDED_C6BB864: Fixture = Fixture {
    dir: "landed-c6bb864",
    ..LANDED_DAF738F
};

impl Fixture {
    fn path(&self, name: &str) -> std::path::PathBuf {
        workspace_root()
            .join("tests/fixtures")
            .join(self.dir)
            .join(name)
    }

    fn credential(&self, key: &str) -> String {
        std::fs::read_to_string(self.path("credentials.txt"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
            .unwrap_or_else(|| panic!("no {key} in {}/credentials.txt", self.dir))
    }
}

async fn upgrades_an_install_made_by_release_0_1_0(engine: Engine) {
    upgrades(&RELEASE_0_1_0, engine).await
}

per_engine!(upgrades_an_install_made_by_release_0_1_0);

async fn upgrades_the_install_landed_at_daf738f(engine: Engine) {
    upgrades(&LANDED_DAF738F, engine).await
}

per_engine!(upgrades_the_install_landed_at_daf738f);

async fn upgrades_the_install_landed_at_9bb96cc(engine: Engine) {
    upgrades(&LANDED_9BB96CC, engine).await
}

per_engine!(upgrades_the_install_landed_at_9bb96cc);

async fn upgrades_the_install_landed_at_62b3cf6(engine: Engine) {
    upgrades(&LANDED_62B3CF6, engine).await
}

per_engine!(upgrades_the_install_landed_at_62b3cf6);

async fn upgrades_the_install_landed_at_7ee2457(engine: Engine) {
    upgrades(&LANDED_7EE2457, engine).await
}

per_engine!(upgrades_the_install_landed_at_7ee2457);

async fn upgrades_the_install_landed_at_6859fb9(engine: Engine) {
    upgrades(&LANDED_6859FB9, engine).await
}

per_engine!(upgrades_the_install_landed_at_6859fb9);

async fn upgrades_the_install_landed_at_bd59eb3(engine: Engine) {
    upgrades(&LANDED_BD59EB3, engine).await
}

per_engine!(upgrades_the_install_landed_at_bd59eb3);

async fn upgrades_the_install_landed_at_7006900(engine: Engine) {
    upgrades(&LANDED_7006900, engine).await
}

per_engine!(upgrades_the_install_landed_at_7006900);

async fn upgrades_the_install_landed_at_c6bb864(engine: Engine) {
    upgrades(&LANDED_C6BB864, engine).await
}

per_engine!(upgrades_the_install_landed_at_c6bb864);

/// Serves `fixture` on `engine` with today's `m110d` and checks that nothing was lost.
async fn upgrades(fixture: &Fixture, engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let install = dir.path().join("install");
    std::fs::create_dir_all(&install).unwrap();
    std::fs::copy(fixture.path("m110d.yaml"), install.join("m110d.yaml")).unwrap();
    // Credentials are recorded per engine: `sqlite_token`, `postgres_open311_token`.
    let prefix = match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    // Kept alive for the PostgreSQL variant: dropping it drops the database.
    let mut pg: Option<TestDb> = None;
    let extra = match engine {
        Engine::Sqlite => {
            std::fs::copy(fixture.path("m110.db"), install.join("m110.db")).unwrap();
            Vec::new()
        }
        Engine::Postgres => {
            let db = TestDb::empty(Engine::Postgres).await;
            let dump = std::fs::read_to_string(fixture.path("postgres.sql")).unwrap();
            // On a connection of its own: the dump empties its session's search_path.
            {
                use sqlx::Connection;
                let mut conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
                sqlx::raw_sql(&dump).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
            let url = db.url.clone();
            pg = Some(db);
            vec!["--database".to_string(), url]
        }
    };
    let token = fixture.credential(&format!("{prefix}_token"));
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
    let dir_name = fixture.dir;

    // The old cases, with the old token.
    let list = get(format!("{base}/api/v1/cases")).await;
    let cases = list["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(cases.len(), 3, "{dir_name} {engine:?}: {list}");
    let transferred = cases
        .iter()
        .find(|c| c["status"] == "transferred_police")
        .expect("the fixture's police transfer");
    let id = transferred["id"].as_str().unwrap();
    let case = get(format!("{base}/api/v1/cases/{id}")).await;
    assert_eq!(
        case["handoff"]["state"], "awaiting",
        "{dir_name} {engine:?}: {case}"
    );
    assert!(
        cases.iter().any(|c| c["status"] == "dispatched"),
        "{dir_name} {engine:?}"
    );

    // The old cases are in the analytics: the first start of today's m110d built their rollups.
    let url = match &pg {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}", install.join("m110.db").display()),
    };
    let store = m110_runtime::store::Store::connect_with(
        &url,
        &m110_runtime::store::ConnectOptions {
            migrate: false,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let all = m110_runtime::store::rollups::RollupFilter {
        from_day: 0,
        to_day: i64::MAX / 2,
        ..Default::default()
    };
    let received: i64 = store
        .rollup_sums(&all, &[])
        .await
        .unwrap()
        .iter()
        .filter(|r| r.metric == "received")
        .map(|r| r.n)
        .sum();
    assert_eq!(received, 3, "{dir_name} {engine:?}: the old cases' rollups");
    store.close().await;

    // The old user logs in with the old password.
    let r = http
        .post(format!("{base}/api/v1/login"))
        .json(&json!({"name": "op1", "password": fixture.credential("password")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{dir_name} {engine:?}");

    // The old police transfer's outbox message is kept as it was and not sent, also after the
    // delivery worker has made passes over the upgraded outbox.
    eventually(
        "two delivery passes on the upgraded install",
        Duration::from_secs(30),
        || {
            let http = http.clone();
            let base = base.clone();
            async move {
                let text = http
                    .get(format!("{base}/metrics"))
                    .send()
                    .await
                    .ok()?
                    .text()
                    .await
                    .ok()?;
                let runs = metric(&text, "m110_job_runs_total{job=\"delivery\"}")?;
                (runs >= 2.0).then_some(())
            }
        },
    )
    .await;
    let store = match &pg {
        Some(db) => db.store.clone(),
        None => m110_runtime::store::Store::connect(&format!(
            "sqlite://{}",
            install.join("m110.db").display()
        ))
        .await
        .unwrap(),
    };
    // The topic is this file's constant, not input.
    let messages: Vec<(String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT state, platform_id FROM outbox WHERE topic = '{}'",
        fixture.transfer_topic
    ))
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        messages,
        vec![(
            fixture.transfer_state.to_string(),
            fixture.transfer_platform.map(str::to_string)
        )],
        "{dir_name} {engine:?}"
    );
    let (attempts,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox_attempts")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(attempts, 0, "{dir_name} {engine:?}: nothing was sent");
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // At least the transfer: the deadline job's escalations of the fixture's long-overdue
    // dispatched case are `unrouted` messages of no platform too.
    let series = format!(
        "m110_outbox_messages{{platform=\"{}\",state=\"{}\"}}",
        fixture.transfer_platform.unwrap_or(""),
        fixture.transfer_state
    );
    assert!(
        metric(&text, &series).is_some_and(|n| n >= 1.0),
        "{dir_name} {engine:?}: {series} in\n{text}"
    );

    // The scoped token keeps its scope: Open311 takes it, /api/v1 refuses it (403, not 401:
    // the token is known).
    if fixture.open311_token {
        let client = fixture.credential(&format!("{prefix}_open311_token"));
        let r = http
            .post(format!("{base}/open311/v2/requests.json"))
            .form(&[
                ("api_key", client.as_str()),
                ("service_code", "roads"),
                ("address_string", "熙春路"),
                ("description", "路面塌陷一个大坑"),
            ])
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "{dir_name} {engine:?}: {v}");
        let submitted = v[0]["service_request_id"].as_str().expect("an id");
        let case = get(format!("{base}/api/v1/cases/{submitted}")).await;
        assert_eq!(case["channel"], "open311", "{dir_name} {engine:?}: {case}");
        for path in ["/api/v1/me", "/api/v1/cases"] {
            let r = http
                .get(format!("{base}{path}"))
                .bearer_auth(&client)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 403, "{dir_name} {engine:?}: {path}");
        }
    }

    // New intake on the upgraded install.
    let r = http
        .post(format!("{base}/api/v1/cases"))
        .bearer_auth(&token)
        .json(&json!({"channel": "phone", "content": "三楼厨房着火了，烟很大"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{dir_name} {engine:?}");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["emergency_line"], "119", "{dir_name} {engine:?}: {v}");
    drop(server);
}
