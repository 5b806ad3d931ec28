//! The center's floor, through the JSON API on both engines: a consultation answered and closed
//! on the call (当场答复); a case re-dispatched to another unit (改派) with the first unit on
//! record; a reminder to the unit (催办); a closed case reopened by a supervisor (重新打开) within
//! the window, refused after it. Each with its role checks and its 4xx naming the field.

use m110_e2e::{Engine, Install, per_engine};
use serde_json::{Value, json};

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn act(&self, token: &str, id: &str, body: Value) -> (u16, Value) {
        self.post(token, &format!("/api/v1/cases/{id}/actions"), body)
            .await
    }

    async fn create(&self, token: &str, content: &str, category: &str) -> Value {
        let (s, v) = self
            .post(
                token,
                "/api/v1/cases",
                json!({"channel": "phone", "content": content, "category": category,
                       "caller": {"phone": "13905990001"}}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v
    }
}

async fn the_center_answers_redispatches_urges_and_reopens(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    let op = install.token("op", "operator");
    let disp = install.token("disp", "dispatcher");
    let sup = install.token("sup", "supervisor");
    let admin = install.token("api-admin", "admin");
    let server = install.serve(&[]);
    let api = Api {
        base: server.base.clone(),
        http: reqwest::Client::new(),
    };

    // 当场答复: a consultation stays with the center; the operator answers and it is closed.
    let c = api
        .create(&op, "请问低保怎么申请，需要什么材料", "consultation")
        .await;
    assert_eq!(c["status"], "received", "{engine:?}: {c}");
    let id = c["id"].as_str().unwrap();
    let (s, e) = api.act(&op, id, json!({"action": "answer"})).await;
    assert_eq!(s, 422, "{engine:?}: {e}");
    assert_eq!(e["error"]["field"], "note", "{e}");
    let (s, v) = api
        .act(
            &op,
            id,
            json!({"action": "answer", "note": "已告知：持户口本、收入证明到社区服务中心申请"}),
        )
        .await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    assert_eq!(v["status"], "closed", "{engine:?}: {v}");

    // 改派: a case the first unit holds goes to another, which gets fresh deadlines.
    let road = api.create(&op, "村道塌方一大块", "roads").await;
    let rid = road["id"].as_str().unwrap();
    assert_eq!(road["unit"]["id"], "transport", "{road}");
    let (s, _) = api
        .act(
            &op,
            rid,
            json!({"action": "redispatch", "unit": "housing-construction", "reason": "x"}),
        )
        .await;
    assert_eq!(s, 403, "{engine:?}: an operator does not re-dispatch");
    let (s, e) = api
        .act(
            &disp,
            rid,
            json!({"action": "redispatch", "unit": "transport", "reason": "x"}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (422, Some("unit")),
        "{e}"
    );
    let (s, v) = api
        .act(
            &disp,
            rid,
            json!({"action": "redispatch", "unit": "housing-construction", "reason": "超时未签收"}),
        )
        .await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    assert_eq!(v["unit"]["id"], "housing-construction");
    assert_eq!(v["status"], "dispatched");

    // 催办: the status stays, the reminder is on the timeline and in the outbox.
    let (s, v) = api
        .act(
            &op,
            rid,
            json!({"action": "urge", "note": "市民再次来电催促"}),
        )
        .await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    assert_eq!(v["status"], "dispatched");
    let detail: Value = api
        .http
        .get(format!("{}/api/v1/cases/{rid}", api.base))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = detail["events"].as_array().unwrap();
    let re = events
        .iter()
        .find(|e| e["kind"] == "redispatched")
        .expect("redispatched");
    assert_eq!(re["detail"]["previous_unit"], "transport", "{re}");
    assert_eq!(re["note"], "超时未签收");
    assert!(events.iter().any(|e| e["kind"] == "urged"), "{detail}");

    // 重新打开: a closed case, by a supervisor, within the window.
    let (s, _) = api
        .act(&op, id, json!({"action": "reopen", "reason": "x"}))
        .await;
    assert_eq!(s, 403, "{engine:?}: an operator does not reopen");
    let (s, v) = api
        .act(
            &sup,
            id,
            json!({"action": "reopen", "reason": "市民来电：答复的材料清单有误"}),
        )
        .await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    assert_eq!(v["status"], "received", "{engine:?}: {v}");
    assert_eq!(v["priority"], "high");
    // Answered again and closed long ago: past the window, refused with a 409.
    let (s, _) = api
        .act(
            &op,
            id,
            json!({"action": "answer", "note": "已更正材料清单"}),
        )
        .await;
    assert_eq!(s, 200);
    let store = install.store().await;
    sqlx::query("UPDATE cases SET closed_at = closed_at - 2678400000 WHERE public_id = $1")
        .bind(id)
        .execute(store.pool())
        .await
        .unwrap();
    let (s, e) = api
        .act(&admin, id, json!({"action": "reopen", "reason": "再查"}))
        .await;
    assert_eq!(s, 409, "{engine:?}: {e}");
    store.close().await;
    drop(server);
}
per_engine!(the_center_answers_redispatches_urges_and_reopens);

/// Separation of duties, as the Shaowu profile leaves it (on): an admin does not sign a unit's
/// case (403 naming the rule); the unit's 责任人 is recorded at 签收. A small center that sets
/// `separation_of_duties: false` and a 3-day reopen window gets both: its admin signs, and a
/// case closed 4 days ago is no longer reopened (409 naming the window's days).
async fn separation_of_duties_and_the_reopen_window_follow_the_profile(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    let op = install.token("op", "operator");
    let admin = install.token("api-admin", "admin");
    install.user(
        "urban",
        "unit_handler",
        &["--unit", "urban-management"],
        m110_e2e::PASSWORD,
    );
    let urban = install.token("urban", "unit_handler");
    let server = install.serve(&[]);
    let api = Api {
        base: server.base.clone(),
        http: reqwest::Client::new(),
    };
    let c = api
        .create(&op, "小区门口路灯坏了多日无人修", "public_facilities")
        .await;
    // Routed at intake to the unit that handles it.
    assert_eq!(c["status"], "dispatched", "{engine:?}: {c}");
    let id = c["id"].as_str().unwrap();
    let (s, e) = api.act(&admin, id, json!({"action": "sign"})).await;
    assert_eq!(s, 403, "{engine:?}: {e}");
    assert_eq!(e["error"]["code"], "forbidden", "{e}");
    assert!(
        e["error"]["message"]
            .to_string()
            .contains("separation of duties"),
        "{e}"
    );
    let seen: Value = api
        .http
        .get(format!("{}/api/v1/cases/{id}", api.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !seen["allowed_actions"].to_string().contains("\"sign\""),
        "{seen}"
    );
    let (s, v) = api
        .act(
            &urban,
            id,
            json!({"action": "sign", "assignee": "环卫所 陈队长"}),
        )
        .await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    let detail: Value = api
        .http
        .get(format!("{}/api/v1/cases/{id}", api.base))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let signed = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "signed")
        .cloned()
        .unwrap();
    assert_eq!(signed["detail"]["assignee"], "环卫所 陈队长", "{signed}");
    drop(server);

    let small = Install::provision_shaowu_with(engine, |y| {
        y.replace(
            "service_center:\n  number: \"110\"",
            "service_center:\n  number: \"110\"\n  separation_of_duties: false\n  reopen_window_days: 3",
        )
    })
    .await;
    let op = small.token("op", "operator");
    let admin = small.token("api-admin", "admin");
    let sup = small.token("sup", "supervisor");
    let server = small.serve(&[]);
    let api = Api {
        base: server.base.clone(),
        http: reqwest::Client::new(),
    };
    let c = api
        .create(&op, "小区门口路灯坏了多日无人修", "public_facilities")
        .await;
    let id = c["id"].as_str().unwrap();
    let (s, v) = api.act(&admin, id, json!({"action": "sign"})).await;
    assert_eq!(s, 200, "{engine:?}: a small center's admin signs: {v}");
    let a = api.create(&op, "请问低保怎么申请", "consultation").await;
    let aid = a["id"].as_str().unwrap();
    let (s, _) = api
        .act(
            &op,
            aid,
            json!({"action": "answer", "note": "到社区服务中心申请"}),
        )
        .await;
    assert_eq!(s, 200);
    let store = small.store().await;
    sqlx::query("UPDATE cases SET closed_at = closed_at - 345600000 WHERE public_id = $1")
        .bind(aid)
        .execute(store.pool())
        .await
        .unwrap();
    let (s, e) = api
        .act(&sup, aid, json!({"action": "reopen", "reason": "再查"}))
        .await;
    assert_eq!(s, 409, "{engine:?}: {e}");
    assert_eq!(e["error"]["code"], "reopen_window", "{e}");
    assert!(e["error"]["message"].to_string().contains('3'), "{e}");
    store.close().await;
}
per_engine!(separation_of_duties_and_the_reopen_window_follow_the_profile);

/// Search across everything, in pages that do not shift: 205 cases, a page of 200 newest first
/// with the whole count and a link to the older ones, which holds the other 5; a period that
/// ends before today finds none; an area finds only its cases; the JSON list takes the same
/// period and names a bad date.
async fn search_pages_by_keyset_and_filters_by_period_and_area(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    let op = install.token("op", "operator");
    install.user("sup", "supervisor", &[], m110_e2e::PASSWORD);
    let server = install.serve(&[]);
    let api = Api {
        base: server.base.clone(),
        http: reqwest::Client::new(),
    };
    for i in 0..205 {
        api.create(
            &op,
            &format!("批量测试来电第{i}号：咨询社保卡补办"),
            "consultation",
        )
        .await;
    }
    let console = m110_e2e::login(&api.base, "sup", m110_e2e::PASSWORD).await;
    let page = |q: String| {
        let console = console.clone();
        let base = api.base.clone();
        async move {
            let r = console
                .get(format!("{base}/console/queue?view=all{q}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    let rows = |html: &str| html.matches("<tr id=\"row-").count();
    let first = page(String::new()).await;
    assert_eq!(rows(&first), 200, "{engine:?}");
    assert!(first.contains("共 205 件"), "{engine:?}");
    let at = first.find("id=\"next-page\"").expect("a next-page link");
    let href_start = first[..at].rfind("href=\"").unwrap() + 6;
    let href = first[href_start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#x2f;", "/");
    let second = page(
        href.trim_start_matches("/console/queue?view=all")
            .to_string(),
    )
    .await;
    assert_eq!(rows(&second), 5, "{engine:?}: {href}");
    assert!(
        second.contains("批量测试来电第0号"),
        "the oldest is on the last page"
    );
    assert!(!second.contains("id=\"next-page\""));
    let none = page("&to=2020-01-31".into()).await;
    assert_eq!(rows(&none), 0, "{engine:?}");
    // The consultations carry no place: an area finds none of them.
    let area = page("&area=350781001".into()).await;
    assert_eq!(rows(&area), 0, "{engine:?}");
    let r = api
        .http
        .get(format!("{}/api/v1/cases?from=2020-13-01", api.base))
        .bearer_auth(&op)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "{engine:?}");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "from", "{e}");
}
per_engine!(search_pages_by_keyset_and_filters_by_period_and_area);
