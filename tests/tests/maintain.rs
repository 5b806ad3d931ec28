//! Day two on both engines: a county changes its profile on a live install.
//!
//! The changed profile adds a unit, changes a phone number, renames a village, retires a unit
//! that holds an open case, changes a routing rule and a deadline. `m110 upgrade` without
//! `--apply` prints the plan (exit 2) and changes nothing; `--apply` backs up, applies that plan,
//! and afterwards every case, event and follow-up is still there, the retired unit's open case
//! went to the unit the new rule names with a `rerouted` event, `doctor` is clean, and a second
//! apply is a no-op. A kill in the middle of an apply (crash hook) leaves the install as it
//! was. A phone edited in the database by hand is drift: `doctor` exits 1 naming unit and field.

use m110_e2e::{Engine, Install, output_text, per_engine};
use m110_runtime::store::Store;
use serde_json::{Value, json};

fn changed(yaml: &str) -> String {
    let urban = "  - id: urban-management\n    kind: department\n    name: \"邵武市城市管理局\"\n    \
                 hotline: \"0599-6335110\"\n    functions: [市政设施, 路灯, 市容环境卫生, 占道经营]\n    \
                 contacts: [{name: 值班室, role: 联络员, phone: \"0599-6335110\"}]\n";
    assert!(
        yaml.contains(urban),
        "the profile's urban-management block moved"
    );
    yaml.replace(
        urban,
        "  - {id: gas-supply, kind: department, name: \"邵武市燃气公司\", functions: [燃气, 停气]}\n",
    )
    .replace("hotline: \"0599-6322369\"", "hotline: \"0599-6322370\"")
    .replace("name: \"公太社区居委会\"", "name: \"公太社区\"")
    .replace(
        "{category: [public_facilities], unit: urban-management}",
        "{category: [public_facilities], unit: housing-construction}",
    )
    .replace(
        "{category: [environment.sanitation], unit: urban-management}",
        "{category: [environment.sanitation], unit: housing-construction}",
    )
    .replace(
        "{code: roads, add_keywords: [乡道, 村道, 水毁]}",
        "{code: roads, add_keywords: [乡道, 村道, 水毁], sign_minutes: 20}",
    )
    // A code change, declared: civil-affairs is now civil-affairs-bureau.
    .replace(
        "  - id: civil-affairs\n",
        "  - id: civil-affairs-bureau\n    renamed_from: civil-affairs\n",
    )
    .replace("unit: civil-affairs}", "unit: civil-affairs-bureau}")
}

async fn counts(store: &Store) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for t in [
        "cases",
        "case_events",
        "follow_ups",
        "audit_log",
        "units",
        "grid_units",
    ] {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {t}"))
            .fetch_one(store.pool())
            .await
            .unwrap();
        out.push((t.to_string(), n));
    }
    out
}

async fn a_changed_profile_upgrades_a_live_install(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    let token = install.token("op", "operator");
    let admin = install.token("api-admin", "admin");
    // The unit does the unit's steps (an admin does not sign or reply: separation of duties).
    install.user(
        "transport",
        "unit_handler",
        &["--unit", "transport"],
        m110_e2e::PASSWORD,
    );
    let transport = install.token("transport", "unit_handler");
    let server = install.serve(&[]);
    let http = reqwest::Client::new();
    let post = |path: String, token: String, body: Value| {
        let http = http.clone();
        async move {
            let r = http
                .post(path)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.status());
            r.json::<Value>().await.unwrap()
        }
    };
    let base = server.base.clone();
    // A case the retiring unit holds, with a follow-up on another case for good measure.
    let lamp = post(
        format!("{base}/api/v1/cases"),
        token.clone(),
        json!({"channel": "phone", "content": "公太社区门口的路灯坏了", "category": "public_facilities"}),
    )
    .await;
    assert_eq!(lamp["unit"]["id"], "urban-management", "{lamp}");
    let lamp_id = lamp["id"].as_str().unwrap().to_string();
    let road = post(
        format!("{base}/api/v1/cases"),
        token.clone(),
        json!({"channel": "phone", "content": "村道塌方", "category": "roads"}),
    )
    .await;
    let road_id = road["id"].as_str().unwrap().to_string();
    let relief = post(
        format!("{base}/api/v1/cases"),
        token.clone(),
        json!({"channel": "phone", "content": "家里困难想申请临时救助", "category": "assistance"}),
    )
    .await;
    assert_eq!(relief["unit"]["id"], "civil-affairs", "{relief}");
    let relief_id = relief["id"].as_str().unwrap().to_string();
    for (who, body) in [
        (&transport, json!({"action": "sign"})),
        (&transport, json!({"action": "reply", "note": "已清理"})),
        (
            &admin,
            json!({"action": "follow_up", "satisfaction": "satisfied"}),
        ),
    ] {
        post(
            format!("{base}/api/v1/cases/{road_id}/actions"),
            who.clone(),
            body,
        )
        .await;
    }
    drop(server);

    // The changed profile, beside a copy of the profile's CSV files.
    let dir = install.scratch().join("changed");
    m110_e2e::copy_dir(&m110_e2e::workspace_root().join("profiles"), &dir);
    let yaml = std::fs::read_to_string(dir.join("shaowu.yaml")).unwrap();
    std::fs::write(dir.join("shaowu.yaml"), changed(&yaml)).unwrap();
    let csv = dir.join("shaowu/government_services.csv");
    let services = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(
        &csv,
        services.replace(",civil-affairs\n", ",civil-affairs-bureau\n"),
    )
    .unwrap();
    let profile = dir.join("shaowu.yaml").display().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec!["upgrade", profile.as_str()];
        args.extend_from_slice(extra);
        install
            .m110(&args)
            .args(install.database_args())
            .output()
            .unwrap()
    };
    let store = install.store().await;
    let before = counts(&store).await;

    // The plan: printed, nothing changed.
    let plan = run(&["--format", "json"]);
    assert_eq!(
        plan.status.code(),
        Some(2),
        "{engine:?}: {}",
        output_text(&plan)
    );
    let p: Value = serde_json::from_slice(&plan.stdout).unwrap();
    let lines: Vec<String> = p["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["kind"].as_str().unwrap(),
                c["path"].as_str().unwrap()
            )
        })
        .collect();
    for want in [
        "added units[gas-supply]",
        "removed units[urban-management]",
        "changed units[ecology-environment].hotline",
        "changed grid_units[350781001001].name",
        "changed routing.rules[public_facilities@*].unit",
        "changed categories[roads].sign_minutes",
    ] {
        assert!(
            lines.iter().any(|l| l == want),
            "{engine:?}: no {want} in {lines:#?}"
        );
    }
    assert_eq!(
        p["retired"]["units"],
        json!(["urban-management", "civil-affairs"])
    );
    assert_eq!(
        p["renames"],
        json!([{"kind": "units", "from": "civil-affairs", "to": "civil-affairs-bureau"}])
    );
    assert_eq!(
        p["reroutes"],
        json!([{"case": lamp_id, "from": "urban-management", "to": "housing-construction"}])
    );
    let effects = p["effects"].to_string();
    assert!(
        effects.contains("1 open case(s) re-route to housing-construction"),
        "{effects}"
    );
    assert!(
        effects.contains("renamed 公太社区居委会 → 公太社区"),
        "{effects}"
    );
    assert_eq!(
        counts(&store).await,
        before,
        "{engine:?}: a plan changes nothing"
    );
    let hash = p["hash"].as_str().unwrap().to_string();

    // A kill in the middle of the apply: the install is as it was.
    let mut cmd = install.m110(&["upgrade", profile.as_str(), "--apply"]);
    let killed = cmd
        .args(install.database_args())
        .env("M110_TEST_CRASH_AFTER", "upgrade-region")
        .output()
        .unwrap();
    assert!(!killed.status.success(), "{engine:?}: the crash hook fired");
    assert_eq!(
        counts(&store).await,
        before,
        "{engine:?}: killed apply changed nothing"
    );
    let again = run(&["--format", "json"]);
    assert_eq!(again.status.code(), Some(2));
    let p2: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        p2["hash"],
        hash.as_str(),
        "{engine:?}: same plan after the kill"
    );

    // A generated file the county edited is kept; the kit's version goes beside it.
    let handbook = install.path().join("handbook.md");
    let local = format!(
        "{}\n本中心补充：夜间值班电话另行通知。\n",
        std::fs::read_to_string(&handbook).unwrap()
    );
    std::fs::write(&handbook, &local).unwrap();

    // A stale plan hash is refused; the right one applies.
    let stale = run(&["--apply", "--plan-hash", "0000000000000000"]);
    assert_eq!(stale.status.code(), Some(1), "{}", output_text(&stale));
    assert!(
        output_text(&stale).contains("changed since the plan"),
        "{}",
        output_text(&stale)
    );
    let applied = run(&["--apply", "--plan-hash", &hash]);
    assert!(
        applied.status.success(),
        "{engine:?}: {}",
        output_text(&applied)
    );
    assert!(
        output_text(&applied).contains("backup:"),
        "{}",
        output_text(&applied)
    );
    assert_eq!(
        std::fs::read_to_string(&handbook).unwrap(),
        local,
        "{engine:?}: kept"
    );
    let kit = std::fs::read_to_string(install.path().join("handbook.md.new")).unwrap();
    assert!(
        kit.contains("邵武市燃气公司"),
        "{engine:?}: the new handbook names the new unit"
    );
    assert!(
        output_text(&applied).contains("handbook.md: edited here, kept")
            && output_text(&applied).contains("-本中心补充"),
        "{engine:?}: {}",
        output_text(&applied)
    );
    // Merged by hand (here: the kit's version taken), the file is the kit's again.
    std::fs::rename(install.path().join("handbook.md.new"), &handbook).unwrap();
    let after = counts(&store).await;
    let get = |t: &str, v: &[(String, i64)]| v.iter().find(|(n, _)| n == t).unwrap().1;
    assert_eq!(get("cases", &after), get("cases", &before));
    assert_eq!(get("follow_ups", &after), get("follow_ups", &before));
    assert_eq!(get("case_events", &after), get("case_events", &before) + 1);
    assert_eq!(
        get("units", &after),
        get("units", &before) + 2,
        "retired, not deleted"
    );

    // Doctor is clean, a second apply is a no-op.
    let doctor = install
        .m110(&["doctor", profile.as_str()])
        .args(install.database_args())
        .output()
        .unwrap();
    assert!(
        doctor.status.success(),
        "{engine:?}: {}",
        output_text(&doctor)
    );
    let noop = run(&["--apply"]);
    assert!(noop.status.success(), "{}", output_text(&noop));
    assert!(
        output_text(&noop).contains("nothing to do"),
        "{}",
        output_text(&noop)
    );
    assert_eq!(counts(&store).await, after);

    // Served: the case moved with its event; the region shows the new unit, not the old.
    let server = install.serve(&[]);
    let base = server.base.clone();
    let get = |url: String| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let case = get(format!("{base}/api/v1/cases/{lamp_id}")).await;
    assert_eq!(
        case["unit"]["id"], "housing-construction",
        "{engine:?}: {case}"
    );
    assert_eq!(case["status"], "dispatched");
    let last = case["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "rerouted", "{last}");
    assert_eq!(last["detail"]["from"], "urban-management");
    // The renamed unit's case moved with it, without a re-route.
    let moved = get(format!("{base}/api/v1/cases/{relief_id}")).await;
    assert_eq!(
        moved["unit"]["id"], "civil-affairs-bureau",
        "{engine:?}: {moved}"
    );
    assert_eq!(moved["status"], "dispatched");
    let region = get(format!("{base}/api/v1/region")).await;
    let units = region["units"].to_string();
    assert!(
        units.contains("gas-supply") && !units.contains("urban-management"),
        "{units}"
    );
    drop(server);

    // Drift: a phone edited in the database by hand.
    sqlx::query("UPDATE units SET hotline = '0599-6000000' WHERE id = 'justice'")
        .execute(store.pool())
        .await
        .unwrap();
    let doctor = install
        .m110(&["doctor", profile.as_str()])
        .args(install.database_args())
        .output()
        .unwrap();
    assert_eq!(
        doctor.status.code(),
        Some(1),
        "{engine:?}: {}",
        output_text(&doctor)
    );
    assert!(
        output_text(&doctor).contains("units[justice].hotline"),
        "{engine:?}: {}",
        output_text(&doctor)
    );
    // An upgrade would revert it: the plan says so and the apply refuses.
    let plan = run(&["--format", "json"]);
    let p: Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(
        p["live_edits"][0]["path"], "units[justice].hotline",
        "{engine:?}: {p}"
    );
    let refused = run(&["--apply"]);
    assert_eq!(refused.status.code(), Some(1), "{}", output_text(&refused));
    assert!(
        output_text(&refused).contains("m110 pull"),
        "{}",
        output_text(&refused)
    );
    // `m110 pull` writes it into the profile — that line only — and doctor is clean again.
    let before_pull = std::fs::read_to_string(dir.join("shaowu.yaml")).unwrap();
    let pulled = install
        .m110(&["pull", profile.as_str()])
        .args(install.database_args())
        .output()
        .unwrap();
    assert!(
        pulled.status.success(),
        "{engine:?}: {}",
        output_text(&pulled)
    );
    let after_pull = std::fs::read_to_string(dir.join("shaowu.yaml")).unwrap();
    let changed: Vec<(&str, &str)> = before_pull
        .lines()
        .zip(after_pull.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        changed,
        vec![(
            "    hotline: \"0599-6332148\"",
            "    hotline: \"0599-6000000\""
        )],
        "{engine:?}"
    );
    let doctor = install
        .m110(&["doctor", profile.as_str()])
        .args(install.database_args())
        .output()
        .unwrap();
    assert!(
        doctor.status.success(),
        "{engine:?}: {}",
        output_text(&doctor)
    );
    store.close().await;
}
per_engine!(a_changed_profile_upgrades_a_live_install);

/// The install made by release 0.1.0 upgrades with `m110 upgrade`: its migrations are the
/// plan, the apply keeps its three cases, `doctor` is clean afterwards; a migration applied
/// with another checksum than the kit's is refused with a clear error.
async fn the_release_0_1_0_install_upgrades_with_m110_upgrade(engine: Engine) {
    let fixture = m110_e2e::workspace_root().join("tests/fixtures/release-0.1.0");
    let dir = tempfile::tempdir().unwrap();
    let install = dir.path().join("install");
    std::fs::create_dir_all(&install).unwrap();
    std::fs::copy(fixture.join("m110d.yaml"), install.join("m110d.yaml")).unwrap();
    let mut _pg = None;
    let mut db: Vec<String> = Vec::new();
    match engine {
        Engine::Sqlite => {
            std::fs::copy(fixture.join("m110.db"), install.join("m110.db")).unwrap();
        }
        Engine::Postgres => {
            use sqlx::Connection;
            let t = m110_runtime::store::testdb::TestDb::empty(Engine::Postgres).await;
            let dump = std::fs::read_to_string(fixture.join("postgres.sql")).unwrap();
            let mut conn = sqlx::AnyConnection::connect(&t.url).await.unwrap();
            sqlx::raw_sql(&dump).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
            db = vec!["--database".into(), t.url.clone()];
            _pg = Some(t);
        }
    }
    let profile = m110_e2e::workspace_root().join("profiles/shaowu.yaml");
    let m110 = |args: &[&str]| {
        let mut cmd = std::process::Command::new(m110_e2e::bin("m110"));
        m110_e2e::server::clean_env(&mut cmd)
            .args(args)
            .arg(profile.as_os_str())
            .arg("--install")
            .arg(&install)
            .args(&db)
            .output()
            .unwrap()
    };
    let plan = m110(&["upgrade", "--format", "json"]);
    assert_eq!(
        plan.status.code(),
        Some(2),
        "{engine:?}: {}",
        output_text(&plan)
    );
    let p: Value = serde_json::from_slice(&plan.stdout).unwrap();
    let versions: Vec<i64> = p["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_i64().unwrap())
        .collect();
    // Every kit migration after the release's own two (0001, 0010) is planned.
    let newer: Vec<i64> = m110_runtime::store::maintenance::kit_migrations(engine)
        .iter()
        .map(|m| m.version)
        .filter(|v| *v > 10)
        .collect();
    assert!(newer.starts_with(&[20, 30, 40, 50, 60, 70]), "{newer:?}");
    assert_eq!(versions, newer, "{engine:?}: {p}");

    // A tampered checksum is refused, whatever the plan.
    let url = match db.get(1) {
        Some(u) => u.clone(),
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
    let (sum,): (Vec<u8>,) =
        sqlx::query_as("SELECT checksum FROM _sqlx_migrations WHERE version = 1")
            .fetch_one(store.pool())
            .await
            .unwrap();
    sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = 1")
        .bind(vec![0u8; 48])
        .execute(store.pool())
        .await
        .unwrap();
    let refused = m110(&["upgrade"]);
    assert_eq!(
        refused.status.code(),
        Some(1),
        "{engine:?}: {}",
        output_text(&refused)
    );
    assert!(
        output_text(&refused).contains("another checksum"),
        "{}",
        output_text(&refused)
    );
    sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = 1")
        .bind(sum)
        .execute(store.pool())
        .await
        .unwrap();

    // Killed after the migrations ran inside the transaction: nothing of them stays.
    let mut cmd = std::process::Command::new(m110_e2e::bin("m110"));
    let killed = m110_e2e::server::clean_env(&mut cmd)
        .args(["upgrade", "--apply"])
        .arg(profile.as_os_str())
        .arg("--install")
        .arg(&install)
        .args(&db)
        .env("M110_TEST_CRASH_AFTER", "upgrade-migrations")
        .output()
        .unwrap();
    assert!(!killed.status.success(), "{engine:?}: the crash hook fired");
    let again = m110(&["upgrade", "--format", "json"]);
    let p2: Value = serde_json::from_slice(&again.stdout).unwrap();
    // The crash undid the migrations: every one the first plan listed is still pending.
    assert_eq!(p2["migrations"], p["migrations"], "{engine:?}: {p2}");

    let applied = m110(&["upgrade", "--apply"]);
    assert!(
        applied.status.success(),
        "{engine:?}: {}",
        output_text(&applied)
    );
    // Clean but for the fixture's own m110d.yaml (it has no kit.lock, so the file counts as
    // the county's and is kept).
    let doctor = m110(&["doctor", "--format", "json"]);
    let d: Value = serde_json::from_slice(&doctor.stdout).unwrap();
    for f in d["findings"].as_array().unwrap() {
        assert_eq!(f["area"], "files", "{engine:?}: {d}");
    }
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cases")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(n, 3, "{engine:?}");
    store.close().await;
}
per_engine!(the_release_0_1_0_install_upgrades_with_m110_upgrade);
