//! Backup while `m110d` takes intake, restore into a new install, on both engines: every case
//! acknowledged before the backup started is in the restored install, which serves; a restore
//! over an install that holds a region is refused without `--force`; a backup of the install
//! made by release 0.1.0 restores into today's schema.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use m110_e2e::server::Server;
use m110_e2e::{Engine, Install, output_text, per_engine, workspace_root};
use m110_runtime::store::testdb::TestDb;
use serde_json::{Value, json};

fn m110(args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(m110_e2e::bin("m110"));
    m110_e2e::server::clean_env(&mut cmd)
        .args(args)
        .output()
        .unwrap()
}

async fn backup_under_load_restores_every_acknowledged_case(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    let token = install.token("load", "operator");
    let server = install.serve(&[]);
    let base = server.base.clone();

    // Intake keeps running while the backup is made.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (acked, stop, base, token) = (acked.clone(), stop.clone(), base.clone(), token.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let r = http
                    .post(format!("{base}/api/v1/cases"))
                    .bearer_auth(&token)
                    .json(&json!({"channel": "phone",
                        "content": format!("公太社区路灯不亮了，第{i}次反映"),
                        "caller": {"phone": "13905990001"}}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 201);
                let v: Value = r.json().await.unwrap();
                acked
                    .lock()
                    .unwrap()
                    .push(v["id"].as_str().unwrap().to_string());
            }
        })
    };
    // Some traffic first, then the backup (cases acknowledged before it starts must be in it).
    m110_e2e::eventually(
        "intake under way",
        std::time::Duration::from_secs(20),
        || {
            let n = acked.lock().unwrap().len();
            async move { (n >= 20).then_some(()) }
        },
    )
    .await;
    let before: Vec<String> = acked.lock().unwrap().clone();
    let file = install.scratch().join("backup.bin");
    let mut args = vec![
        "backup".to_string(),
        "--install".into(),
        install.path().display().to_string(),
        "-o".into(),
        file.display().to_string(),
    ];
    args.extend(install.database_args());
    let out = m110(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{engine:?}: {}", output_text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("region 350781"),
        "{engine:?}: {}",
        output_text(&out)
    );
    stop.store(true, Ordering::SeqCst);
    load.await.unwrap();
    drop(server);

    // Restore into a new install (a new database on PostgreSQL).
    let target = tempfile::tempdir().unwrap();
    let dir = target.path().join("restored");
    let mut pg: Option<TestDb> = None;
    let mut db_args: Vec<String> = Vec::new();
    if engine == Engine::Postgres {
        let db = TestDb::empty(Engine::Postgres).await;
        db_args = vec!["--database".into(), db.url.clone()];
        pg = Some(db);
    }
    let restore = |force: bool| {
        let mut a = vec![
            "restore".to_string(),
            file.display().to_string(),
            "--install".into(),
            dir.display().to_string(),
        ];
        a.extend(db_args.clone());
        if force {
            a.push("--force".into());
        }
        m110(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let out = restore(false);
    assert!(out.status.success(), "{engine:?}: {}", output_text(&out));
    // Again: the install now holds a region, so it is refused without --force.
    let again = restore(false);
    assert_eq!(
        again.status.code(),
        Some(1),
        "{engine:?}: {}",
        output_text(&again)
    );
    assert!(
        output_text(&again).contains("--force"),
        "{}",
        output_text(&again)
    );
    let forced = restore(true);
    assert!(
        forced.status.success(),
        "{engine:?}: {}",
        output_text(&forced)
    );

    let args: Vec<&str> = db_args.iter().map(String::as_str).collect();
    let server = Server::start(&dir, &args);
    let http = reqwest::Client::new();
    for id in &before {
        let r = http
            .get(format!("{}/api/v1/cases/{id}", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{engine:?}: case {id} lost");
    }
    drop(server);
    drop(pg);
}
per_engine!(backup_under_load_restores_every_acknowledged_case);

/// The SQLite install of release 0.1.0, backed up as a file, restores into today's schema.
#[tokio::test]
async fn a_backup_of_an_older_kit_restores_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let file = workspace_root().join("tests/fixtures/release-0.1.0/m110.db");
    let target = dir.path().join("restored");
    let out = m110(&[
        "restore",
        &file.display().to_string(),
        "--install",
        &target.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("cases 3"),
        "{}",
        output_text(&out)
    );
    let server = Server::start(&target, &[]);
    let ready: Value = reqwest::get(format!("{}/readyz", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
}
