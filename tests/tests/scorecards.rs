//! Unit scorecards against a hand-worked table, on both engines: three road cases and what the
//! units did with them, through the real API, and the rates, score and rank the test works out
//! by hand (see docs/scorecards.md for the formulas):
//!
//! | case | transport                                          | justice            |
//! |------|----------------------------------------------------|--------------------|
//! | 1    | signed on time, replied on time, 回访 satisfied      |                    |
//! | 2    | signed late, replied on time, 回访 unsatisfied → 重办 |                    |
//! | 3    | re-dispatched away before its deadline (not late)   | returned unsigned  |
//!
//! transport: assigned 3, sign 1/2, close 2/2, return 0/3, follow-up 2/2, satisfaction 1/2,
//! redo 1/2 → score 100 × (.5·.15 + 1·.30 + .5·.30 + 1·.05 + 1·.10 + .5·.10) = 72.5, rank 1;
//! justice: assigned 1, return 1/1, nothing else decided → score 100 × (0·.10)/.10 = 0, rank 2.

use m110_e2e::{Engine, Install, PASSWORD, get_html, per_engine};
use m110_runtime::model::time::{now_ms, shanghai};
use serde_json::{Value, json};

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn call(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "POST" => self.http.post(url).json(&body.unwrap_or(Value::Null)),
            _ => self.http.get(url),
        };
        let r = req.bearer_auth(token).send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn act(&self, token: &str, id: &str, body: Value) {
        let (s, v) = self
            .call(
                token,
                "POST",
                &format!("/api/v1/cases/{id}/actions"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(s, 200, "{body}: {v}");
    }

    async fn road(&self, op: &str, content: &str) -> String {
        let (s, v) = self
            .call(
                op,
                "POST",
                "/api/v1/cases",
                Some(json!({
                "channel": "phone", "content": content, "category": "roads",
                "caller": {"phone": "13905990001"}})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["unit"]["id"], "transport", "{v}");
        v["id"].as_str().unwrap().to_string()
    }
}

async fn scorecards_match_the_table_worked_by_hand(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    let op = install.token("op", "operator");
    let disp = install.token("disp", "dispatcher");
    let analyst = install.token("an", "analyst");
    install.user(
        "transport",
        "unit_handler",
        &["--unit", "transport"],
        PASSWORD,
    );
    install.user("justice", "unit_handler", &["--unit", "justice"], PASSWORD);
    let transport = install.token("transport", "unit_handler");
    let justice = install.token("justice", "unit_handler");
    let server = install.serve(&[]);
    let api = Api {
        base: server.base.clone(),
        http: reqwest::Client::new(),
    };
    let store = install.store().await;

    let c1 = api.road(&op, "村口道路塌陷一处").await;
    api.act(&transport, &c1, json!({"action": "sign"})).await;
    api.act(
        &transport,
        &c1,
        json!({"action": "reply", "note": "已回填修复"}),
    )
    .await;
    api.act(
        &op,
        &c1,
        json!({"action": "follow_up", "satisfaction": "satisfied"}),
    )
    .await;

    let c2 = api.road(&op, "国道边护栏损坏").await;
    // Its 签收 deadline passed before the unit signed: the recorded deadline is moved into the
    // past (the timeline is append-only, so its trigger is lifted for this one arrangement).
    let detail = json!({"auto": true, "sign_due": "2020-01-01T08:00:00+08:00",
                        "close_due": "2099-01-01T08:00:00+08:00"})
    .to_string();
    let update = "UPDATE case_events SET detail = $1 WHERE kind = 'dispatched' \
                  AND case_id = (SELECT id FROM cases WHERE public_id = $2)";
    let (lift, restore) = match engine {
        Engine::Sqlite => (
            "DROP TRIGGER case_events_no_update",
            "CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events \
             BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END",
        ),
        Engine::Postgres => (
            "ALTER TABLE case_events DISABLE TRIGGER case_events_no_update",
            "ALTER TABLE case_events ENABLE TRIGGER case_events_no_update",
        ),
    };
    let mut tx = store.pool().begin().await.unwrap();
    sqlx::query(lift).execute(&mut *tx).await.unwrap();
    sqlx::query(update)
        .bind(&detail)
        .bind(&c2)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(restore).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    api.act(&transport, &c2, json!({"action": "sign"})).await;
    api.act(
        &transport,
        &c2,
        json!({"action": "reply", "note": "已更换护栏"}),
    )
    .await;
    api.act(
        &op,
        &c2,
        json!({"action": "follow_up", "satisfaction": "unsatisfied"}),
    )
    .await;

    let c3 = api.road(&op, "小区门口路面积水").await;
    api.act(
        &disp,
        &c3,
        json!({"action": "redispatch", "unit": "justice", "reason": "涉及邻里纠纷"}),
    )
    .await;
    api.act(
        &justice,
        &c3,
        json!({"action": "return", "reason": "不属本单位职责"}),
    )
    .await;

    let day = |offset: i64| {
        shanghai(now_ms() + offset * 86_400_000)
            .format("%Y-%m-%d")
            .to_string()
    };
    let q = format!("/api/v1/scorecards?from={}&to={}", day(-1), day(1));
    let (s, v) = api.call(&analyst, "GET", &q, None).await;
    assert_eq!(s, 200, "{engine:?}: the analyst reads aggregates: {v}");
    let card = |id: &str| {
        v["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no card for {id}: {v}"))
    };
    let t = card("transport");
    assert_eq!(t["assigned"], 3, "{engine:?}: {t}");
    assert_eq!(t["sign_on_time_rate"], 0.5, "{engine:?}: {t}");
    assert_eq!(t["close_on_time_rate"], 1.0, "{engine:?}: {t}");
    assert_eq!(t["return_rate"], 0.0, "{engine:?}: {t}");
    assert_eq!(t["follow_up_rate"], 1.0, "{engine:?}: {t}");
    assert_eq!(t["satisfaction_rate"], 0.5, "{engine:?}: {t}");
    assert_eq!(t["redo_rate"], 0.5, "{engine:?}: {t}");
    assert_eq!(t["score"], 72.5, "{engine:?}: {t}");
    assert_eq!(t["rank"], 1);
    let j = card("justice");
    assert_eq!(j["assigned"], 1, "{engine:?}: {j}");
    assert_eq!(j["return_rate"], 1.0);
    assert_eq!(j["sign_on_time_rate"], Value::Null, "no denominator: null");
    assert_eq!(j["follow_up_rate"], Value::Null);
    assert_eq!(j["score"], 0.0, "{engine:?}: {j}");
    assert_eq!(j["rank"], 2);
    let idle = card("housing-construction");
    assert_eq!(
        (idle["score"].clone(), idle["rank"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(v["weights"]["on_time_close"], 0.3);

    // Before the cases: nothing assigned.
    let (_, old) = api
        .call(
            &analyst,
            "GET",
            "/api/v1/scorecards?from=2020-01-01&to=2020-01-31",
            None,
        )
        .await;
    assert!(
        old["units"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["assigned"] == 0),
        "{old}"
    );
    let (s, e) = api
        .call(&analyst, "GET", "/api/v1/scorecards?from=2026-01-01", None)
        .await;
    assert_eq!((s, e["error"]["field"].clone()), (422, json!("to")), "{e}");
    let (s, _) = api.call(&op, "GET", &q, None).await;
    assert_eq!(s, 403, "{engine:?}: an operator does not read scorecards");

    // The trend: this month's card is the last point, the months before have nothing.
    let (s, tr) = api
        .call(&analyst, "GET", "/api/v1/scorecards/trend?months=3", None)
        .await;
    assert_eq!(s, 200, "{tr}");
    let transport = tr["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit_id"] == "transport")
        .expect("transport's trend");
    let points = transport["months"].as_array().unwrap();
    assert_eq!(points.len(), 3, "{transport}");
    assert_eq!(points[2]["score"], 72.5, "{transport}");
    assert_eq!(points[2]["rank"], 1);
    assert!(
        points[..2]
            .iter()
            .all(|p| p["score"].is_null() && p["assigned"] == 0)
    );
    let (s, e) = api
        .call(&analyst, "GET", "/api/v1/scorecards/trend?months=99", None)
        .await;
    assert_eq!(
        (s, e["error"]["field"].clone()),
        (422, json!("months")),
        "{e}"
    );

    // The console's page shows the same cards, ranked, with the red list.
    install.user("an1", "analyst", &[], PASSWORD);
    let console = m110_e2e::login(&api.base, "an1", PASSWORD).await;
    let month = shanghai(now_ms()).format("%Y-%m").to_string();
    let html = get_html(
        &console,
        &format!("{}/console/scorecards?month={month}", api.base),
    )
    .await;
    let row = &html[html.find("id=\"card-transport\"").expect("transport's row")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("72.5") && row.contains("50.0%"),
        "{engine:?}: {row}"
    );
    assert!(row.contains("class=\"spark\""), "each unit's trend: {row}");
    assert!(html.contains("id=\"red-list\""), "{engine:?}");
}
per_engine!(scorecards_match_the_table_worked_by_hand);
