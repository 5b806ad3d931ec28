//! The case lifecycle end to end with the real binaries, once per engine: provision Shaowu,
//! start `m110d`, and drive intake, triage, dispatch, 签收, 延期, 督办, 反馈, 回访 with 重办,
//! 办结, 退单 and re-dispatch, police transfer, the deadline job (also shared by two servers),
//! and malformed requests; and `m110 up` from a profile to a serving process.

use std::time::Duration;

use m110_e2e::{App, Engine, Server, eventually, metric, now_ms, per_engine};
use serde_json::{Value, json};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("case id").to_string()
}

async fn create(app: &App, who: &str, body: Value) -> Value {
    let (s, v) = app.call(who, "POST", "/api/v1/cases", Some(&body)).await;
    assert_eq!(s, 201, "{body} → {v}");
    v
}

async fn act(app: &App, who: &str, case: &str, body: Value) -> (u16, Value) {
    app.call(
        who,
        "POST",
        &format!("/api/v1/cases/{case}/actions"),
        Some(&body),
    )
    .await
}

async fn ok(app: &App, who: &str, case: &str, body: Value) -> Value {
    let (s, v) = act(app, who, case, body.clone()).await;
    assert_eq!(s, 200, "{who}: {body} → {v}");
    v
}

per_engine!(whole_lifecycle_over_http);
async fn whole_lifecycle_over_http(engine: Engine) {
    let app = App::start(engine, &["--deadline-scan-seconds", "1"]).await;

    // Intake → classified, located by the village name, dispatched to the routed unit.
    let c = create(
        &app,
        "op",
        json!({"channel": "phone", "caller": {"phone": "13905991234", "name": "李四", "gender": "male", "age_band": "40-49"},
               "content": "公太社区门口的路灯坏了好几天，晚上一片漆黑"}),
    )
    .await;
    assert_eq!(c["status"], "dispatched", "{engine:?} {c}");
    // The classifier names the 大类 (公共设施); the words pick the 小类 路灯照明, which routes
    // by its 大类's rule.
    assert_eq!(
        c["category"]["code"],
        "public_facilities.municipal.streetlight"
    );
    assert_eq!(c["grid"]["code"], "350781001001");
    assert_eq!(c["unit"]["id"], "urban-management");
    assert_eq!(c["location"]["via"], "place_name");
    let case = id(&c);

    // 签收 → 办理 → 延期 (requested by the unit, granted by the center) → 督办 → 反馈.
    let (s, v) = act(&app, "justice", &case, json!({"action": "sign"})).await;
    assert_eq!(s, 403, "another unit cannot sign: {v}");
    ok(&app, "urban", &case, json!({"action": "sign"})).await;
    ok(
        &app,
        "urban",
        &case,
        json!({"action": "start", "note": "已派维修班组"}),
    )
    .await;
    let asked = ok(
        &app,
        "urban",
        &case,
        json!({"action": "request_extension", "hours": 24, "reason": "需更换电缆"}),
    )
    .await;
    let granted = ok(
        &app,
        "sup",
        &case,
        json!({"action": "grant_extension", "note": "同意延期"}),
    )
    .await;
    assert_ne!(asked["close_due"], granted["close_due"]);
    assert_eq!(granted["flags"]["extension_requested"], false);
    ok(
        &app,
        "sup",
        &case,
        json!({"action": "supervise", "note": "群众反映强烈，请加快"}),
    )
    .await;
    ok(
        &app,
        "urban",
        &case,
        json!({"action": "reply", "note": "已更换电缆，路灯恢复"}),
    )
    .await;

    // 回访 unsatisfied → 重办 to the same unit; then satisfied → 办结.
    let redo = ok(
        &app,
        "op",
        &case,
        json!({"action": "follow_up", "satisfaction": "unsatisfied", "note": "只修好了一盏"}),
    )
    .await;
    assert_eq!(redo["status"], "dispatched");
    assert_eq!(redo["redo_count"], 1);
    assert_eq!(redo["unit"]["id"], "urban-management");
    ok(&app, "urban", &case, json!({"action": "sign"})).await;
    ok(
        &app,
        "urban",
        &case,
        json!({"action": "reply", "note": "全部修复"}),
    )
    .await;
    let (s, v) = act(&app, "op", &case, json!({"action": "close"})).await;
    assert_eq!(s, 409, "no close before the follow-up: {v}");
    assert_eq!(v["error"]["detail"]["status"], "replied");
    ok(
        &app,
        "op",
        &case,
        json!({"action": "follow_up", "satisfaction": "satisfied", "note": "满意"}),
    )
    .await;
    let closed = ok(&app, "op", &case, json!({"action": "close"})).await;
    assert_eq!(closed["status"], "closed");
    let (s, v) = act(
        &app,
        "disp",
        &case,
        json!({"action": "dispatch", "unit": "justice"}),
    )
    .await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["error"]["code"], "illegal_transition");

    let (s, detail) = app
        .call("op", "GET", &format!("/api/v1/cases/{case}"), None)
        .await;
    assert_eq!(s, 200);
    let kinds: Vec<&str> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "received",
            "dispatched",
            "signed",
            "started",
            "extension_requested",
            "extension_granted",
            "supervised",
            "replied",
            "redo",
            "signed",
            "replied",
            "followed_up",
            "closed"
        ]
    );
    assert!(
        detail["events"]
            .as_array()
            .unwrap()
            .iter()
            .skip(2)
            .all(|e| e["actor"]["name"].is_string())
    );
    assert_eq!(detail["caller"]["phone"], "13905991234");
    // An analyst works with aggregates: no case, not even masked.
    let (s, _) = app
        .call("analyst", "GET", &format!("/api/v1/cases/{case}"), None)
        .await;
    assert_eq!(s, 403);

    // 退单: the unit returns with a reason; the dispatcher re-dispatches elsewhere.
    let d = create(
        &app,
        "op",
        json!({"channel": "web", "content": "邻居为宅基地边界吵架，发生纠纷"}),
    )
    .await;
    assert_eq!(d["unit"]["id"], "justice", "{d}");
    let dcase = id(&d);
    let (s, v) = act(&app, "justice", &dcase, json!({"action": "return"})).await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("reason")),
        "{v}"
    );
    let r = ok(
        &app,
        "justice",
        &dcase,
        json!({"action": "return", "reason": "属城郊镇调解范围"}),
    )
    .await;
    assert_eq!(r["status"], "returned");
    let (s, _) = act(&app, "justice", &dcase, json!({"action": "sign"})).await;
    assert_eq!(s, 403, "returned cases leave the unit");
    let re = ok(
        &app,
        "disp",
        &dcase,
        json!({"action": "dispatch", "unit": "gov-350781100"}),
    )
    .await;
    assert_eq!(re["status"], "dispatched");
    assert_eq!(re["unit"]["id"], "gov-350781100");

    // Police transfer: at intake by keyword, and by the operator from the queue.
    let p = create(&app, "op", json!({"channel": "phone", "content": "莲塘村有人持刀抢劫，快来", "caller": {"phone": "13600001111"}})).await;
    assert_eq!(p["status"], "transferred_police");
    assert_eq!(p["classification"]["emergency"]["line"], "110");
    assert_eq!(p["emergency_line"], "110");
    let q = create(
        &app,
        "op",
        json!({"channel": "phone", "content": "请问这个怎么办"}),
    )
    .await;
    assert_eq!(q["status"], "received");
    let t = ok(
        &app,
        "op",
        &id(&q),
        json!({"action": "transfer_police", "note": "来电人称有人被困电梯受伤"}),
    )
    .await;
    assert_eq!(t["status"], "transferred_police");
    let store = app.install.store().await;
    let db = store.pool();
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE topic = 'emergency.transfer'")
            .fetch_one(db)
            .await
            .unwrap();
    assert_eq!(n, 2, "{engine:?}: one outbox message per police transfer");

    // Deadlines: a dispatched case whose 签收 deadline passed is marked by the job (1 s).
    let late = create(
        &app,
        "op",
        json!({"channel": "phone", "content": "城富社区路灯不亮"}),
    )
    .await;
    assert_eq!(late["status"], "dispatched");
    let past = now_ms() - 60_000;
    sqlx::query("UPDATE cases SET sign_due = $1 WHERE public_id = $2")
        .bind(past)
        .bind(id(&late))
        .execute(db)
        .await
        .unwrap();
    let late_path = format!("/api/v1/cases/{}", id(&late));
    let flagged = eventually(
        "the deadline job marks the case",
        Duration::from_secs(10),
        || async {
            let (_, v) = app.call("disp", "GET", &late_path, None).await;
            (v["flags"]["overdue_sign"] == true).then_some(v)
        },
    )
    .await;
    let kinds: Vec<&str> = flagged["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "overdue_sign").count(),
        1,
        "{kinds:?}"
    );
    let (_, list) = app
        .call("disp", "GET", "/api/v1/cases?overdue=true", None)
        .await;
    assert_eq!(list["total"], 1, "{list}");
    let (_, metrics) = app.call("", "GET", "/metrics", None).await;
    let metrics = metrics.as_str().unwrap().to_string();
    assert!(
        metrics.contains("m110_job_runs_total{job=\"deadlines\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("m110_cases{status=\"closed\"} 1"));

    // CTI screen pop: the caller's history.
    let (s, v) = app
        .call(
            "op",
            "POST",
            "/api/v1/calls",
            Some(&json!({"phone": "139-0599-1234"})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["known"], true);
    assert_eq!(v["history"][0]["id"], json!(case));
    assert_eq!(v["open_cases"].as_array().unwrap().len(), 0);
    store.close().await;
}

per_engine!(malformed_requests_are_4xx_json_naming_the_field);
async fn malformed_requests_are_4xx_json_naming_the_field(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let store = app.install.store().await;
    let count = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cases")
            .fetch_one(store.pool())
            .await
            .unwrap();
        n
    };
    let before = count().await;
    for (body, status, field) in [
        (json!({"channel": "fax", "content": "路灯"}), 422, "channel"),
        (json!({"channel": "web", "content": ["x"]}), 422, "content"),
        (
            json!({"channel": "web", "content": "x", "urgent": true}),
            422,
            "urgent",
        ),
        (
            json!({"channel": "web", "content": "x", "caller": {"phone": 138}}),
            422,
            "caller.phone",
        ),
        (
            json!({"channel": "web", "content": "x", "caller": {"mobile": "138"}}),
            422,
            "caller.mobile",
        ),
        (
            json!({"channel": "web", "content": "x", "location": {"lat": "north"}}),
            422,
            "location.lat",
        ),
        (
            json!({"channel": "web", "content": "x", "location": {"lat": 27.3}}),
            422,
            "location.lon",
        ),
        (
            json!({"channel": "web", "content": "x", "category": "nope"}),
            422,
            "category",
        ),
        (json!({"channel": "web", "content": ""}), 422, "content"),
        (json!({"content": "x"}), 422, "channel"),
        (json!("路灯坏了"), 422, "body"),
    ] {
        let (s, v) = app.call("op", "POST", "/api/v1/cases", Some(&body)).await;
        assert_eq!(s, status, "{engine:?} {body} → {v}");
        assert_eq!(v["error"]["field"], field, "{engine:?} {body} → {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let (s, v) = app
        .raw(
            "op",
            "/api/v1/cases",
            "application/json",
            b"{\"channel\": \"web\", \"content\": \"\xe8\xb7\xff\"}".to_vec(),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("invalid_utf8")),
        "{v}"
    );
    let (s, v) = app
        .raw(
            "op",
            "/api/v1/cases",
            "application/json",
            b"{\"channel\": \"web\",".to_vec(),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("malformed_json")),
        "{v}"
    );
    let (s, v) = app
        .raw(
            "op",
            "/api/v1/cases",
            "application/x-www-form-urlencoded",
            b"channel=web".to_vec(),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    // NUL cannot be stored in PostgreSQL TEXT: refused up front, never a 500.
    let nul = json!({"channel": "web", "content": "路灯\u{0}坏了"});
    let (s, v) = app.call("op", "POST", "/api/v1/cases", Some(&nul)).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("nul_character")),
        "{v}"
    );
    let (s, v) = app.call("op", "GET", "/api/v1/cases?q=%00", None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("nul_character")),
        "{v}"
    );
    // A NUL in the path: refused by the input guard like any other (PostgreSQL cannot store it).
    let (s, v) = app.call("op", "GET", "/api/v1/cases/MS%00", None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("nul_character")),
        "{v}"
    );
    let huge =
        serde_json::to_vec(&json!({"channel": "web", "content": "路".repeat(40_000)})).unwrap();
    let (s, v) = app
        .raw("op", "/api/v1/cases", "application/json", huge)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (413, Some("body_too_large")),
        "{v}"
    );
    let long = json!({"channel": "web", "content": "路".repeat(4001)});
    let (s, v) = app.call("op", "POST", "/api/v1/cases", Some(&long)).await;
    assert_eq!((s, v["error"]["field"].as_str()), (422, Some("content")));
    // Actions: unknown action, wrong type, unknown case.
    let (s, v) = app
        .call(
            "disp",
            "POST",
            "/api/v1/cases/MS350781-20000101-000001/actions",
            Some(&json!({"action": "explode"})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("action")),
        "{v}"
    );
    let (s, v) = app
        .call(
            "disp",
            "POST",
            "/api/v1/cases/MS350781-20000101-000001/actions",
            Some(&json!({"action": "dispatch", "hours": "many"})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("hours")),
        "{v}"
    );
    let (s, v) = app
        .call(
            "disp",
            "POST",
            "/api/v1/cases/nope/actions",
            Some(&json!({"action": "sign"})),
        )
        .await;
    assert_eq!(s, 404, "{v}");
    let (s, v) = app.call("disp", "GET", "/api/v1/cases?page=0", None).await;
    assert_eq!((s, v["error"]["field"].as_str()), (422, Some("page")));
    let (s, v) = app.call("disp", "GET", "/api/v1/nothing-here", None).await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")));
    assert_eq!(
        count().await,
        before,
        "{engine:?}: a bad request created a case"
    );
    store.close().await;
}

/// `m110 up PROFILE`: provisions into `<installs>/<code>` and serves in-process, printing the URL
/// and the one-time admin password; a second `up` reuses the install and prints no password.
/// Started on port 0: the URL it prints is the one it bound.
#[test]
fn m110_up_provisions_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let profile = m110_e2e::workspace_root().join("profiles/shaowu.yaml");
    for round in 0..2 {
        let mut cmd = std::process::Command::new(m110_e2e::bin("m110"));
        cmd.arg("up")
            .arg(&profile)
            .args(["--listen", "127.0.0.1:0"])
            .current_dir(dir.path());
        // Returns once the printed address answers /readyz 200.
        let server = Server::spawn(cmd);
        // The last line `m110 up` prints before serving.
        let out = server.wait_stdout("Ctrl-C", Duration::from_secs(10));
        assert!(
            out.contains(&format!("{}/ ", server.base)) && out.contains("/api/v1"),
            "round {round}: {out}"
        );
        assert!(dir.path().join("installs/350781/m110.db").is_file());
        if round == 0 {
            assert!(out.contains("one-time password"), "{out}");
        } else {
            assert!(!out.contains("one-time password"), "{out}");
            assert!(out.contains("m110 user password"), "{out}");
        }
    }
}

per_engine!(two_servers_mark_each_overdue_case_once);
/// Two `m110d` on one database, both running the deadline job every second: every overdue
/// case gets exactly one `overdue_sign` and one `overdue_close` event (none twice, none lost).
async fn two_servers_mark_each_overdue_case_once(engine: Engine) {
    let app = App::start(engine, &["--deadline-scan-seconds", "1"]).await;
    let second = app.install.serve(&["--deadline-scan-seconds", "1"]);
    let store = app.install.store().await;
    let db = store.pool();
    let mut ids = Vec::new();
    for i in 0..40 {
        let c = create(
            &app,
            "op",
            json!({"channel": "phone", "content": format!("城富社区路灯不亮 {i}")}),
        )
        .await;
        assert_eq!(c["status"], "dispatched");
        ids.push(id(&c));
    }
    let past = now_ms() - 60_000;
    sqlx::query("UPDATE cases SET sign_due = $1, close_due = $2 WHERE status = 'dispatched'")
        .bind(past)
        .bind(past)
        .execute(db)
        .await
        .unwrap();
    eventually(
        "every case marked overdue",
        Duration::from_secs(15),
        || async {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM cases WHERE overdue_sign = 1 AND overdue_close = 1",
            )
            .fetch_one(db)
            .await
            .unwrap();
            (n == ids.len() as i64).then_some(())
        },
    )
    .await;
    // Give both servers the chance to misbehave: wait until each has finished two more
    // scans, so each has scanned at least once with every case already marked.
    let bases = [app.server.base.clone(), second.base.clone()];
    let runs = |base: String| async move {
        let text = reqwest::get(format!("{base}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        metric(&text, "m110_job_runs_total{job=\"deadlines\"}").unwrap_or(0.0)
    };
    for base in &bases {
        let from = runs(base.clone()).await;
        eventually(
            &format!("{base}: two more deadline scans"),
            Duration::from_secs(15),
            || async { (runs(base.clone()).await >= from + 2.0).then_some(()) },
        )
        .await;
    }
    for kind in ["overdue_sign", "overdue_close"] {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT case_id, COUNT(*) FROM case_events WHERE kind = $1 GROUP BY case_id",
        )
        .bind(kind)
        .fetch_all(db)
        .await
        .unwrap();
        assert_eq!(rows.len(), ids.len(), "{engine:?} {kind}");
        assert!(
            rows.iter().all(|(_, n)| *n == 1),
            "{engine:?} {kind} twice: {rows:?}"
        );
    }
    drop(second);
    store.close().await;
}
