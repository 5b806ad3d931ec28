//! The server core in-process on both engines: `serve_state` on 127.0.0.1:0 over a provisioned
//! fixture region, driven over real HTTP — intake with triage and auto-dispatch, the whole
//! lifecycle (退单, 延期, 督办, 重办, police transfer), role and scope denials, malformed bodies,
//! and the deadline job (including two runners on one database).

use std::collections::HashMap;
use std::sync::Arc;

use m110_runtime::config::{Config, LogFormat};
use m110_runtime::engine::provision::{BootstrapAdmin, ProvisionMeta, provision};
use m110_runtime::engine::region::RegionIndex;
use m110_runtime::http::AppState;
use m110_runtime::jobs::deadlines::scan_deadlines;
use m110_runtime::model::Role;
use m110_runtime::model::time::now_ms;
use m110_runtime::policy::credentials as auth;
use m110_runtime::store::audit::NewAudit;
use m110_runtime::store::testdb::{TestDb, fixture_region};
use m110_runtime::store::users::NewUser;
use m110_runtime::store::{Engine, Store};
use serde_json::{Value, json};

struct App {
    base: String,
    http: reqwest::Client,
    tokens: HashMap<&'static str, String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    store: Store,
    region: Arc<RegionIndex>,
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

fn config(url: &str) -> Config {
    Config {
        install_dir: std::env::temp_dir(),
        region: Some("350781".into()),
        listen: "127.0.0.1:0".into(),
        database: url.into(),
        log_format: LogFormat::Text,
        deadline_scan: std::time::Duration::from_secs(3600),
        pool_size: None,
        body_limit: 64 * 1024,
        delivery_interval: std::time::Duration::from_secs(3600),
        delivery_backoff_ms: 5000,
        delivery_max_attempts: 12,
        handoff_ack_minutes: 5,
        status_pull: std::time::Duration::from_secs(60),
        warning_interval: std::time::Duration::from_secs(3600),
        attachments: Default::default(),
        public_url: None,
        metrics_token: None,
        limits: Default::default(),
        secure_cookies: None,
        session_idle: std::time::Duration::from_secs(3600),
    }
}

async fn user(store: &Store, name: &str, role: Role, unit: Option<&str>, grids: &[&str]) -> String {
    store
        .create_user(
            &NewUser {
                name: name.into(),
                role,
                unit_id: unit.map(Into::into),
                grid_codes: grids.iter().map(|s| s.to_string()).collect(),
                password_hash: Some(auth::hash_password("test-password-1").unwrap()),
            },
            &NewAudit::system("test", "user.create", None),
        )
        .await
        .unwrap();
    store
        .create_token(name, role, &NewAudit::system("test", "token.create", None))
        .await
        .unwrap()
        .0
}

async fn start(db: &TestDb) -> App {
    let store = db.store.clone();
    provision(
        &store,
        &fixture_region(),
        &ProvisionMeta {
            profile_sha256: "0".repeat(64),
            kit_version: "test".into(),
            bootstrap_admin: Some(BootstrapAdmin {
                name: "admin".into(),
                password_hash: auth::hash_password("bootstrap-password").unwrap(),
            }),
        },
    )
    .await
    .unwrap();
    let mut tokens = HashMap::new();
    tokens.insert(
        "operator",
        user(&store, "op1", Role::Operator, None, &[]).await,
    );
    tokens.insert(
        "dispatcher",
        user(&store, "disp1", Role::Dispatcher, None, &[]).await,
    );
    tokens.insert(
        "supervisor",
        user(&store, "sup1", Role::Supervisor, None, &[]).await,
    );
    tokens.insert(
        "dongguan",
        user(
            &store,
            "dg1",
            Role::UnitHandler,
            Some("dongguan-community-center"),
            &[],
        )
        .await,
    );
    tokens.insert(
        "housing",
        user(
            &store,
            "hb1",
            Role::UnitHandler,
            Some("housing-bureau"),
            &[],
        )
        .await,
    );
    tokens.insert(
        "grid",
        user(&store, "gw1", Role::GridWorker, None, &["350781001001"]).await,
    );
    tokens.insert(
        "auditor",
        user(&store, "aud1", Role::Auditor, None, &[]).await,
    );
    tokens.insert(
        "analyst",
        user(&store, "ana1", Role::Analyst, None, &[]).await,
    );
    let region = RegionIndex::load(&store).await.unwrap();
    let state = AppState::new(store.clone(), region, config(&db.url));
    let region = Arc::clone(&state.region);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(m110_runtime::server::serve_state(state, listener, async {
        let _ = rx.await;
    }));
    App {
        base,
        http: reqwest::Client::new(),
        tokens,
        stop: Some(tx),
        store,
        region,
    }
}

impl App {
    async fn req(&self, who: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{}", self.base, path);
        let mut rb = match method {
            "GET" => self.http.get(&url),
            "POST" => self.http.post(&url),
            other => panic!("{other}"),
        };
        if let Some(t) = self.tokens.get(who) {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, v)
    }

    async fn raw(&self, who: &str, path: &str, ctype: &str, body: Vec<u8>) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{}", self.base, path))
            .bearer_auth(&self.tokens[who])
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn create(&self, who: &str, body: Value) -> Value {
        let (s, v) = self.req(who, "POST", "/api/v1/cases", Some(body)).await;
        assert_eq!(s, 201, "{v}");
        v
    }

    async fn act(&self, who: &str, id: &str, body: Value) -> (u16, Value) {
        self.req(
            who,
            "POST",
            &format!("/api/v1/cases/{id}/actions"),
            Some(body),
        )
        .await
    }

    async fn ok(&self, who: &str, id: &str, body: Value) -> Value {
        let (s, v) = self.act(who, id, body.clone()).await;
        assert_eq!(s, 200, "{who} {body} → {v}");
        v
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn lifecycle_over_http(engine: Engine) {
    let db = TestDb::new(engine).await;
    let app = start(&db).await;
    let (s, v) = app.req("", "GET", "/readyz", None).await;
    assert_eq!(s, 200, "{v}");

    // Intake: classified (路灯), located (东关社区), auto-dispatched to the most specific rule.
    let c = app
        .create(
            "operator",
            json!({"channel": "phone", "caller": {"phone": "13800138000", "name": "张三"},
                   "content": "东关社区门口的路灯坏了，晚上不亮"}),
        )
        .await;
    assert_eq!(c["status"], "dispatched", "{c}");
    assert_eq!(c["category"]["code"], "roads.streetlight");
    assert_eq!(c["grid"]["code"], "350781001001");
    assert_eq!(c["unit"]["id"], "dongguan-community-center");
    assert_eq!(c["caller"]["phone"], "1******8000");
    assert!(c["sign_due"].as_str().unwrap().ends_with("+08:00"));
    let case1 = id(&c);
    assert!(case1.starts_with("MS350781-"), "{case1}");

    // Another unit cannot act on it or read it; the auditor cannot read cases at all.
    let (s, _) = app.act("housing", &case1, json!({"action": "sign"})).await;
    assert_eq!(s, 403);
    let (s, _) = app
        .req("housing", "GET", &format!("/api/v1/cases/{case1}"), None)
        .await;
    assert_eq!(s, 403);
    let (s, _) = app.req("auditor", "GET", "/api/v1/cases", None).await;
    assert_eq!(s, 403);
    let (s, _) = app.req("", "GET", "/api/v1/cases", None).await;
    assert_eq!(s, 401);

    // Illegal transition: 409 with why and what is allowed.
    let (s, v) = app
        .act("dongguan", &case1, json!({"action": "reply", "note": "x"}))
        .await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["error"]["code"], "illegal_transition");
    assert_eq!(
        v["error"]["detail"]["allowed_actions"],
        json!(["sign", "return"])
    );

    // Sign, start, request extension, center grants it, supervise, reply.
    let v = app.ok("dongguan", &case1, json!({"action": "sign"})).await;
    assert_eq!(v["status"], "signed");
    app.ok("dongguan", &case1, json!({"action": "start"})).await;
    let (s, v) = app
        .act(
            "dongguan",
            &case1,
            json!({"action": "request_extension", "reason": "等配件"}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("hours")),
        "{v}"
    );
    let before = app
        .ok(
            "dongguan",
            &case1,
            json!({"action": "request_extension", "hours": 48, "reason": "等配件"}),
        )
        .await;
    assert_eq!(before["flags"]["extension_requested"], true);
    let (s, _) = app
        .act("dongguan", &case1, json!({"action": "grant_extension"}))
        .await;
    assert_eq!(s, 403, "a unit cannot grant its own extension");
    let after = app
        .ok("supervisor", &case1, json!({"action": "grant_extension"}))
        .await;
    assert_ne!(before["close_due"], after["close_due"]);
    app.ok(
        "supervisor",
        &case1,
        json!({"action": "supervise", "note": "请尽快处理"}),
    )
    .await;
    app.ok(
        "dongguan",
        &case1,
        json!({"action": "reply", "note": "已更换灯泡"}),
    )
    .await;

    // Unsatisfied follow-up: 重办 back to the same unit with new deadlines.
    let v = app
        .ok(
            "operator",
            &case1,
            json!({"action": "follow_up", "satisfaction": "unsatisfied", "note": "还是不亮"}),
        )
        .await;
    assert_eq!(v["status"], "dispatched");
    assert_eq!(v["redo_count"], 1);
    assert_eq!(v["unit"]["id"], "dongguan-community-center");
    app.ok("dongguan", &case1, json!({"action": "sign"})).await;
    app.ok(
        "dongguan",
        &case1,
        json!({"action": "reply", "note": "线路已修复"}),
    )
    .await;
    let (s, _) = app
        .act("operator", &case1, json!({"action": "close"}))
        .await;
    assert_eq!(s, 409, "operator closes only after a follow-up");
    app.ok(
        "operator",
        &case1,
        json!({"action": "follow_up", "satisfaction": "satisfied"}),
    )
    .await;
    // A stale expected_version is refused; the current one closes the case.
    let (s, v) = app
        .act(
            "operator",
            &case1,
            json!({"action": "close", "expected_version": 999}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("stale_version")),
        "{v}"
    );
    let version = v["error"]["detail"]["version"].as_i64().unwrap();
    let v = app
        .ok(
            "operator",
            &case1,
            json!({"action": "close", "expected_version": version}),
        )
        .await;
    assert_eq!(v["status"], "closed");

    let (s, detail) = app
        .req("operator", "GET", &format!("/api/v1/cases/{case1}"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        detail["caller"]["phone"], "13800138000",
        "operators see the number"
    );
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
    let (audits,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'case.read_caller'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(audits, 1);

    // 退单: back to the center, re-dispatched elsewhere.
    let c2 = app
        .create("operator", json!({"channel": "web", "content": "家里水管爆了停水", "location": {"grid_code": "350781002001"}}))
        .await;
    assert_eq!(c2["unit"]["id"], "housing-bureau");
    let case2 = id(&c2);
    let (s, v) = app
        .act("housing", &case2, json!({"action": "return"}))
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (422, Some("reason")));
    let v = app
        .ok(
            "housing",
            &case2,
            json!({"action": "return", "reason": "不属于本单位职责"}),
        )
        .await;
    assert_eq!(v["status"], "returned");
    assert!(v["unit"].is_null());
    let (s, v) = app
        .act(
            "dispatcher",
            &case2,
            json!({"action": "dispatch", "unit": "nope"}),
        )
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (422, Some("unit")));
    let v = app
        .ok(
            "dispatcher",
            &case2,
            json!({"action": "dispatch", "unit": "tongtai-office"}),
        )
        .await;
    assert_eq!(v["status"], "dispatched");

    // Police: keyword → transferred at intake with an outbox message.
    let p = app
        .create("operator", json!({"channel": "phone", "content": "水北社区有人持刀抢劫", "caller": {"phone": "13900001111"}}))
        .await;
    assert_eq!(p["status"], "transferred_police");
    let out = app.store.outbox("emergency.transfer", 10).await.unwrap();
    assert_eq!(out.len(), 1);
    assert!(out[0].1.contains(&id(&p)));

    // Unclassified → center queue; the dispatcher dispatches with a category.
    let u = app
        .create(
            "operator",
            // Nothing the classifier knows: no guess, the center's queue.
            json!({"channel": "sms", "content": "xyz"}),
        )
        .await;
    assert_eq!(u["status"], "received");
    let (s, v) = app
        .act(
            "dispatcher",
            &id(&u),
            json!({"action": "dispatch", "unit": "housing-bureau"}),
        )
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (422, Some("category")));
    app.ok(
        "dispatcher",
        &id(&u),
        json!({"action": "dispatch", "unit": "housing-bureau", "category": "roads"}),
    )
    .await;
    let t = app
        .ok(
            "operator",
            &id(&app
                .create("operator", json!({"channel": "phone", "content": "咨询"}))
                .await),
            json!({"action": "transfer_police", "note": "实为警情"}),
        )
        .await;
    assert_eq!(t["status"], "transferred_police");

    // Grid workers: grid channel, own grid only; they list only their reports.
    let (s, _) = app
        .req(
            "grid",
            "POST",
            "/api/v1/cases",
            Some(json!({"channel": "phone", "content": "路灯不亮"})),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = app.req("grid", "POST", "/api/v1/cases", Some(json!({"channel": "grid", "content": "路灯不亮", "location": {"grid_code": "350781002001"}}))).await;
    assert_eq!(s, 403);
    let g = app.create("grid", json!({"channel": "grid", "content": "第一网格路灯不亮", "location": {"grid_code": "350781001001-01"}})).await;
    let (_, list) = app.req("grid", "GET", "/api/v1/cases", None).await;
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["id"], g["id"]);

    // Lists and filters; the analyst works with aggregates and lists no cases at all.
    let (s, list) = app
        .req(
            "analyst",
            "GET",
            "/api/v1/cases?status=dispatched,closed&page_size=50",
            None,
        )
        .await;
    assert_eq!(s, 403, "{list}");
    let (s, v) = app
        .req("operator", "GET", "/api/v1/cases?status=bogus", None)
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (422, Some("status")));
    let (s, v) = app
        .req("operator", "GET", "/api/v1/cases?colour=red", None)
        .await;
    assert_eq!(s, 400, "{v}");

    // CTI screen pop.
    let (s, v) = app
        .req(
            "operator",
            "POST",
            "/api/v1/calls",
            Some(json!({"phone": "138 0013 8000"})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["known"], true);
    assert_eq!(v["total_cases"], 1);

    // Triage suggestions: the emergency stage beside the categories, the address never read.
    let (s, v) = app
        .req(
            "operator",
            "POST",
            "/api/v1/triage",
            Some(json!({"content": "河里有人落水了", "location": {"address": "路灯巷"}})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["classification"]["emergency"]["line"], "119", "{v}");
    assert!(
        v["classification"]["emergency"]["evidence"][0].is_string(),
        "{v}"
    );
    let (s, v) = app
        .req(
            "operator",
            "POST",
            "/api/v1/triage",
            Some(json!({"content": "路灯不亮", "location": {"address": "火烧坪村持刀巷"}})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["classification"]["emergency"].is_null(), "{v}");
    // The classifier suggests the 大类; the words pick its sub-category.
    assert_eq!(
        v["classification"]["suggestions"][0]["category"], "roads",
        "{v}"
    );
    assert_eq!(v["classification"]["category"], "roads.streetlight", "{v}");

    // Malformed requests: 4xx JSON naming the field, nothing created.
    let before = app.store.case_counts_by_status().await.unwrap();
    for (body, status, field) in [
        (
            json!({"channel": "fax", "content": "x"}),
            422,
            Some("channel"),
        ),
        (
            json!({"channel": "web", "content": 5}),
            422,
            Some("content"),
        ),
        (
            json!({"channel": "web", "content": "x", "extra": 1}),
            422,
            Some("extra"),
        ),
        (
            json!({"channel": "web", "content": "x", "caller": {"phone": "abc"}}),
            422,
            Some("caller.phone"),
        ),
        (
            json!({"channel": "web", "content": "x", "location": {"lat": 100.0, "lon": 1.0}}),
            422,
            Some("location.lat"),
        ),
        (
            json!({"channel": "web", "content": "x", "location": {"grid_code": "999"}}),
            422,
            Some("location.grid_code"),
        ),
        (
            json!({"channel": "web", "content": "   "}),
            422,
            Some("content"),
        ),
        (json!({"channel": "web"}), 422, Some("content")),
        // The emergency decision: a line that is not one, an override without a reason, a
        // phone hand-off (no fire platform in the fixture) without the incident number.
        (
            json!({"channel": "phone", "content": "x", "emergency": {"line": "111"}}),
            422,
            Some("emergency.line"),
        ),
        (
            json!({"channel": "phone", "content": "楼下有人拿刀砍人", "emergency": {"line": null}}),
            422,
            Some("emergency.reason"),
        ),
        (
            json!({"channel": "phone", "content": "厨房着火了", "emergency": {"line": "119"}}),
            422,
            Some("emergency.incident_number"),
        ),
    ] {
        let (s, v) = app
            .req("operator", "POST", "/api/v1/cases", Some(body.clone()))
            .await;
        assert_eq!(s, status, "{body} → {v}");
        assert_eq!(v["error"]["field"].as_str(), field, "{body} → {v}");
    }
    let (s, v) = app
        .raw(
            "operator",
            "/api/v1/cases",
            "application/json",
            b"{\"channel\":\"web\",\"content\":\"\xff\"}".to_vec(),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("invalid_utf8"))
    );
    let (s, v) = app
        .raw(
            "operator",
            "/api/v1/cases",
            "application/json",
            b"{\"channel\":".to_vec(),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );
    let (s, _) = app
        .raw("operator", "/api/v1/cases", "text/plain", b"hello".to_vec())
        .await;
    assert_eq!(s, 415);
    let big = format!(
        "{{\"channel\":\"web\",\"content\":\"{}\"}}",
        "a".repeat(70 * 1024)
    );
    let (s, v) = app
        .raw(
            "operator",
            "/api/v1/cases",
            "application/json",
            big.into_bytes(),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (413, Some("body_too_large"))
    );
    assert_eq!(before, app.store.case_counts_by_status().await.unwrap());

    // Metrics and OpenAPI answer.
    let (s, m) = app.req("", "GET", "/metrics", None).await;
    assert_eq!(s, 200);
    assert!(
        m.as_str()
            .unwrap()
            .contains("m110_cases{status=\"closed\"} 1")
    );
    let (s, doc) = app.req("", "GET", "/api/openapi.json", None).await;
    assert_eq!(s, 200);
    assert!(doc["paths"]["/api/v1/cases/{id}/actions"]["post"].is_object());
    drop(app);
    let _ = engine;
}

/// Makes every dispatched case overdue for signing and closing by moving its deadlines back.
async fn backdate(store: &Store, minutes: i64) {
    let past = now_ms() - minutes * 60_000;
    sqlx::query("UPDATE cases SET sign_due = $1, close_due = $1 WHERE status = 'dispatched'")
        .bind(past)
        .execute(store.pool())
        .await
        .unwrap();
}

async fn deadline_job_marks_once_and_escalates(engine: Engine) {
    let db = TestDb::new(engine).await;
    let app = start(&db).await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let c = app
            .create(
                "operator",
                json!({"channel": "phone", "content": format!("东关社区路灯不亮 {i}")}),
            )
            .await;
        ids.push(id(&c));
    }
    backdate(&app.store, 10).await;
    // Two runners on one database at the same time (two pools = two servers).
    let other = Store::connect(&db.url).await.unwrap();
    let (a, b) = tokio::join!(
        scan_deadlines(&app.store, &app.region, now_ms()),
        scan_deadlines(&other, &app.region, now_ms())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        a.overdue_sign + b.overdue_sign,
        30,
        "{engine:?} {a:?} {b:?}"
    );
    assert_eq!(a.overdue_close + b.overdue_close, 30);
    // Re-running finds nothing new.
    let again = scan_deadlines(&other, &app.region, now_ms()).await.unwrap();
    assert_eq!((again.overdue_sign, again.overdue_close), (0, 0));
    if engine == Engine::Sqlite {
        // With nothing due a pass only looks: it runs while another process holds the one
        // SQLite writer (a pass that took the writer would wait out the bound: Busy).
        while scan_deadlines(&other, &app.region, now_ms())
            .await
            .unwrap()
            .total()
            > 0
        {}
        use sqlx::Connection as _;
        let mut holder = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut holder)
            .await
            .unwrap();
        let idle = scan_deadlines(&other, &app.region, now_ms()).await;
        assert!(
            matches!(idle, Ok(r) if r.total() == 0),
            "a pass with nothing due takes no write lock: {idle:?}"
        );
        sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    }
    for kind in ["overdue_sign", "overdue_close"] {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT case_id, COUNT(*) FROM case_events WHERE kind = $1 GROUP BY case_id",
        )
        .bind(kind)
        .fetch_all(app.store.pool())
        .await
        .unwrap();
        assert_eq!(rows.len(), 30, "{kind}");
        assert!(rows.iter().all(|(_, n)| *n == 1), "{kind}: {rows:?}");
    }
    // The default chain's first step (after 0 minutes) fired once per case.
    let (esc,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM case_events WHERE kind = 'escalated'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(esc, 30, "{engine:?}");
    assert_eq!(
        app.store.outbox("case.escalated", 100).await.unwrap().len(),
        30
    );
    let (s, list) = app
        .req(
            "dispatcher",
            "GET",
            "/api/v1/cases?overdue=true&page_size=100",
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(list["total"], 30);
    if engine == Engine::Postgres {
        other.close().await;
    }
}

/// What integrators read: the OpenAPI document (built from the route × role table) and the JSON
/// of a created case, as snapshots a reviewer diffs. Times, ids and versions that change per run
/// are replaced by placeholders. The document does not depend on the engine, so SQLite serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_and_case_json_snapshots() {
    let db = TestDb::new(Engine::Sqlite).await;
    let app = start(&db).await;
    let (s, doc) = app.req("", "GET", "/api/openapi.json", None).await;
    assert_eq!(s, 200, "{doc}");
    insta::assert_json_snapshot!("openapi_document", doc);

    let created = app
        .create(
            "operator",
            json!({"channel": "phone", "content": "路灯坏了，晚上很黑",
                   "caller": {"phone": "13800138000", "name": "张三"}}),
        )
        .await;
    insta::assert_json_snapshot!("case_created_json", created, {
        ".id" => "[id]",
        ".created_at" => "[time]",
        ".updated_at" => "[time]",
        ".dispatched_at" => "[time]",
        ".sign_due" => "[time]",
        ".close_due" => "[time]",
        ".operator_id" => "[user]",
    });
}

m110_runtime::per_engine!(lifecycle_over_http, deadline_job_marks_once_and_escalates);
