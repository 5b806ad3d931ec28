//! Directories and the vulnerable-household registry end to end, with the real `m110` and
//! `m110d`, once per engine: directory create / read / update / delete / search with
//! role checks and 422s naming the field; households per role — full, masked, counts only,
//! denied, a grid worker limited to their own grid — and an audit row for every read.

use m110_e2e::{Engine, Install, login, per_engine};
use m110_runtime::store::Store;
use m110_runtime::store::audit::AuditFilter;
use serde_json::{Value, json};

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        token: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
        };
        (status, value)
    }

    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, Some(token), path, None)
            .await
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, Some(token), path, Some(body))
            .await
    }

    async fn put(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, Some(token), path, Some(body))
            .await
    }

    async fn delete(&self, token: &str, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, Some(token), path, None)
            .await
    }
}

/// Asserts a 422 whose error names `field`.
fn assert_invalid(status: u16, body: &Value, field: &str) {
    assert_eq!(status, 422, "{field}: {body}");
    assert_eq!(body["error"]["field"], field, "{body}");
}

struct Tokens {
    admin: String,
    supervisor: String,
    operator: String,
    dispatcher: String,
    analyst: String,
    auditor: String,
}

fn tokens(install: &Install) -> Tokens {
    Tokens {
        admin: install.token("t-admin", "admin"),
        supervisor: install.token("t-supervisor", "supervisor"),
        operator: install.token("t-operator", "operator"),
        dispatcher: install.token("t-dispatcher", "dispatcher"),
        analyst: install.token("t-analyst", "analyst"),
        auditor: install.token("t-auditor", "auditor"),
    }
}

per_engine!(directories_and_households_per_role);
async fn directories_and_households_per_role(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    let t = tokens(&install);
    install.user(
        "gw1",
        "grid_worker",
        &["--grid", "350781001001"],
        "grid-worker-pass-1",
    );
    install.user(
        "uh1",
        "unit_handler",
        &["--unit", "civil-affairs"],
        "unit-handler-pass-1",
    );
    let server = install.serve(&[]);
    let base = server.base.clone();
    let api = Api {
        http: reqwest::Client::new(),
        base: base.clone(),
    };
    directories(&api, &t).await;
    let store = install.store().await;
    households(&api, &t, &base, &store).await;
    store.close().await;
}

async fn directories(api: &Api, t: &Tokens) {
    let mp = "/api/v1/directory/market_providers";
    let entry = json!({
        "name": "邵武好帮手家政_测试",
        "category": "housekeeping",
        "phone": "13800001111",
        "address": "熙春路 18 号",
        "grid": "350781002001",
        "description": "保洁、月嫂、老人陪护",
        "qualification": "营业执照 91350781TEST0001",
    });
    // Writers: admin and supervisor only.
    for token in [&t.dispatcher, &t.operator, &t.analyst] {
        let (status, body) = api.post(token, mp, entry.clone()).await;
        assert_eq!(status, 403, "{body}");
    }
    let (status, created) = api.post(&t.admin, mp, entry.clone()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["status"], "active");
    assert_eq!(created["version"], 1);
    assert!(created["created_at"].as_str().unwrap().ends_with("+08:00"));

    // Validation: 422 naming the field.
    let mut no_qual = entry.clone();
    no_qual.as_object_mut().unwrap().remove("qualification");
    let (s, b) = api.post(&t.admin, mp, no_qual).await;
    assert_invalid(s, &b, "qualification");
    let mut bad_grid = entry.clone();
    bad_grid["grid"] = json!("999999999");
    let (s, b) = api.post(&t.admin, mp, bad_grid).await;
    assert_invalid(s, &b, "grid");
    let mut bad_phone = entry.clone();
    bad_phone["phone"] = json!("call me");
    let (s, b) = api.post(&t.admin, mp, bad_phone).await;
    assert_invalid(s, &b, "phone");
    let mut unknown = entry.clone();
    unknown["rating"] = json!(5);
    let (s, b) = api.post(&t.admin, mp, unknown).await;
    assert_invalid(s, &b, "rating");
    let mut wrong_type = entry.clone();
    wrong_type["name"] = json!(42);
    let (s, b) = api.post(&t.admin, mp, wrong_type).await;
    assert_invalid(s, &b, "name");
    let (s, b) = api
        .post(&t.admin, "/api/v1/directory/volunteers", entry.clone())
        .await;
    assert_eq!(s, 404, "{b}");

    // Every staff role reads; analysts and auditors see the phone masked.
    let one = format!("{mp}/{id}");
    let (s, b) = api.get(&t.dispatcher, &one).await;
    assert_eq!((s, b["phone"].as_str()), (200, Some("13800001111")));
    let (s, b) = api.get(&t.analyst, &one).await;
    assert_eq!((s, b["phone"].as_str()), (200, Some("1******1111")));
    let (s, b) = api
        .get(&t.auditor, "/api/v1/directory?q=好帮手家政_测试")
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["total"], 1, "{b}");
    assert_eq!(b["items"][0]["phone"], "1******1111");

    // Search: q, system, category, grid (a township finds its villages' entries), paging.
    let (_, b) = api
        .get(
            &t.operator,
            "/api/v1/directory/market_providers?category=housekeeping&grid=350781002",
        )
        .await;
    let names: Vec<&str> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"邵武好帮手家政_测试"), "{b}");
    let (_, all) = api.get(&t.operator, "/api/v1/directory?page_size=2").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    assert!(
        all["total"].as_i64().unwrap() > 2,
        "profile entries are there too: {all}"
    );
    let (_, gov) = api
        .get(&t.operator, "/api/v1/directory?system=government_services")
        .await;
    assert!(
        gov["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["system"] == "government_services")
    );
    let (s, b) = api
        .get(&t.operator, "/api/v1/directory?page_size=500")
        .await;
    assert_invalid(s, &b, "page_size");
    let (s, b) = api.get(&t.operator, "/api/v1/directory?system=nope").await;
    assert_invalid(s, &b, "system");

    // Update with optimistic concurrency; suspend a provider.
    let mut suspended = entry.clone();
    suspended["status"] = json!("suspended");
    suspended["version"] = json!(1);
    let (s, b) = api.put(&t.supervisor, &one, suspended.clone()).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["status"].as_str(), b["version"].as_i64()),
        (Some("suspended"), Some(2))
    );
    let (s, b) = api.put(&t.supervisor, &one, suspended).await;
    assert_eq!(s, 409, "stale version: {b}");
    let (s, _) = api.put(&t.dispatcher, &one, entry.clone()).await;
    assert_eq!(s, 403);
    let (_, b) = api
        .get(
            &t.operator,
            "/api/v1/directory/market_providers?status=suspended",
        )
        .await;
    assert!(b["items"].as_array().unwrap().iter().any(|e| e["id"] == id));

    // Delete.
    let (s, _) = api.delete(&t.operator, &one).await;
    assert_eq!(s, 403);
    let (s, _) = api.delete(&t.supervisor, &one).await;
    assert_eq!(s, 204);
    let (s, b) = api.get(&t.operator, &one).await;
    assert_eq!(s, 404, "{b}");

    // Unauthenticated: 401.
    let (s, _) = api
        .send(reqwest::Method::GET, None, "/api/v1/directory", None)
        .await;
    assert_eq!(s, 401);
}

async fn audit_ids(store: &Store, actor: &str, action: &str) -> Vec<Value> {
    let entries = store
        .audit_entries(&AuditFilter {
            action: Some(action.into()),
            limit: Some(1000),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    entries
        .into_iter()
        .filter(|e| e.actor_name.as_deref() == Some(actor))
        .map(|e| e.detail.unwrap_or(Value::Null))
        .collect()
}

async fn households(api: &Api, t: &Tokens, base: &str, store: &Store) {
    let hh = "/api/v1/households";
    let mine = json!({
        "head_name": "张三",
        "kind": "dibao",
        "grid": "350781001001",
        "phone": "13812345678",
        "id_number": "11010519491231002X",
        "members": 3,
        "address": "公太社区 3 栋",
        "notes": "慢性病，行动不便",
    });
    let (s, a) = api.post(&t.admin, hh, mine.clone()).await;
    assert_eq!(s, 201, "{a}");
    let a_id = a["id"].as_i64().unwrap();
    let mut other = mine.clone();
    other["head_name"] = json!("李四");
    other["grid"] = json!("350781003001");
    other["kind"] = json!("entitled");
    let (s, b) = api.post(&t.supervisor, hh, other).await;
    assert_eq!(s, 201, "{b}");
    let b_id = b["id"].as_i64().unwrap();

    // Validation.
    let mut bad = mine.clone();
    bad["id_number"] = json!("110105194912310021");
    let (s, body) = api.post(&t.admin, hh, bad).await;
    assert_invalid(s, &body, "id_number");
    let mut bad = mine.clone();
    bad["kind"] = json!("rich");
    let (s, body) = api.post(&t.admin, hh, bad).await;
    assert_invalid(s, &body, "kind");
    for token in [&t.operator, &t.dispatcher, &t.analyst] {
        let (s, _) = api.post(token, hh, mine.clone()).await;
        assert_eq!(s, 403);
    }

    // Full view: admin sees everything, unmasked.
    let (s, full) = api.get(&t.admin, &format!("{hh}/{a_id}")).await;
    assert_eq!(s, 200);
    assert_eq!(full["head_name"], "张三");
    assert_eq!(full["phone"], "13812345678");
    assert_eq!(full["id_number"], "11010519491231002X");
    assert_eq!(full["notes"], "慢性病，行动不便");
    assert_eq!(full["masked"], false);

    // Masked view: operator and dispatcher.
    for token in [&t.operator, &t.dispatcher] {
        let (s, m) = api.get(token, &format!("{hh}/{a_id}")).await;
        assert_eq!(s, 200, "{m}");
        assert_eq!(m["head_name"], "张*");
        assert_eq!(m["phone"], "1******5678");
        assert_eq!(m["id_number"], "110105*********02X");
        assert_eq!(m["notes"], Value::Null);
        assert_eq!((&m["address"], &m["members"]), (&Value::Null, &Value::Null));
        assert_eq!(m["masked"], true);
        let (s, list) = api.get(token, &format!("{hh}?kind=dibao")).await;
        assert_eq!(s, 200);
        let text = list.to_string();
        assert!(
            !text.contains("13812345678") && !text.contains("张三"),
            "{text}"
        );
        let (s, _) = api.get(token, &format!("{hh}?kind=dibao&q=张")).await;
        assert_eq!(s, 403, "no search by what the masked view hides");
    }

    // Counts only: analyst and auditor; unit handler denied everything.
    for token in [&t.analyst, &t.auditor] {
        let (s, _) = api.get(token, hh).await;
        assert_eq!(s, 403);
        let (s, _) = api.get(token, &format!("{hh}/{a_id}")).await;
        assert_eq!(s, 403);
        let (s, counts) = api.get(token, &format!("{hh}/counts")).await;
        assert_eq!(s, 200, "{counts}");
        assert!(counts["total_households"].as_i64().unwrap() >= 2);
        assert!(!counts.to_string().contains("张三"));
    }
    let uh = login(base, "uh1", "unit-handler-pass-1").await;
    for path in [
        hh.to_string(),
        format!("{hh}/{a_id}"),
        format!("{hh}/counts"),
    ] {
        let resp = uh.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(resp.status(), 403, "{path}");
    }

    // Grid worker: full records of their own grid only.
    let gw = login(base, "gw1", "grid-worker-pass-1").await;
    let list: Value = gw
        .get(format!("{base}{hh}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&a_id) && !ids.contains(&b_id), "{list}");
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["grid"] == "350781001001")
    );
    let mine_full: Value = gw
        .get(format!("{base}{hh}/{a_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine_full["phone"], "13812345678");
    let resp = gw.get(format!("{base}{hh}/{b_id}")).send().await.unwrap();
    assert_eq!(resp.status(), 404, "another grid's household");
    let mut elsewhere = mine.clone();
    elsewhere["grid"] = json!("350781003001");
    let resp = gw
        .post(format!("{base}{hh}"))
        .json(&elsewhere)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let mut update = mine.clone();
    update["members"] = json!(4);
    update["version"] = json!(1);
    let resp = gw
        .put(format!("{base}{hh}/{a_id}"))
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // Every read left an audit row naming the reader and the ids read.
    let admin_reads = audit_ids(store, "t-admin", "household.read").await;
    assert_eq!(admin_reads.len(), 1);
    assert_eq!(admin_reads[0]["ids"], json!([a_id]));
    assert_eq!(admin_reads[0]["view"], "full");
    for actor in ["t-operator", "t-dispatcher"] {
        let reads = audit_ids(store, actor, "household.read").await;
        assert_eq!(reads.len(), 1, "{actor}");
        assert_eq!(reads[0]["view"], "masked");
        let lists = audit_ids(store, actor, "household.list").await;
        assert_eq!(lists.len(), 1, "{actor}");
        assert!(lists[0]["ids"].as_array().unwrap().contains(&json!(a_id)));
    }
    let gw_lists = audit_ids(store, "gw1", "household.list").await;
    assert_eq!(gw_lists.len(), 1);
    assert!(
        !gw_lists[0]["ids"]
            .as_array()
            .unwrap()
            .contains(&json!(b_id))
    );
    assert_eq!(audit_ids(store, "gw1", "household.read").await.len(), 1);
    assert_eq!(
        audit_ids(store, "gw1", "household.read_denied").await.len(),
        1
    );
    assert_eq!(audit_ids(store, "gw1", "household.update").await.len(), 1);
    for actor in ["t-analyst", "t-auditor"] {
        assert_eq!(audit_ids(store, actor, "household.counts").await.len(), 1);
    }
}
