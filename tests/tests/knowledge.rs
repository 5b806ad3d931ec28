//! The knowledge base for consultations (知识库, 答疑解惑), end to end on both engines:
//!
//! - a supervisor adds entries; an operator may not (403 naming who may), nor an analyst read;
//! - a request worded differently from an entry's question is suggested that entry, through the
//!   API and the console's JSON; an expired entry is never suggested, a retired one no longer;
//! - a consultation is answered from an entry through the API (`answer` with `knowledge`): closed,
//!   the event names the entry, the entry counts it, the month's analytics count it `answered`;
//! - the call-taker's one click (the console's new-case form with `knowledge`) creates the case
//!   and answers it from the entry — by form, from a taken case's page, and in Chromium, where
//!   the call screen shows the entry while the request is typed;
//! - a retired entry cannot answer (422 naming `knowledge`).

use std::time::Duration;

use m110_e2e::app::App;
use m110_e2e::browser::Browser;
use m110_e2e::{Engine, PASSWORD, csrf_of, get_html, login, per_engine};
use serde_json::{Value, json};

async fn add(app: &App, who: &str, body: Value) -> (u16, Value) {
    app.call(who, "POST", "/api/v1/knowledge", Some(&body))
        .await
}

async fn suggested(app: &App, text: &str) -> Vec<i64> {
    let path = format!("/api/v1/knowledge/suggest?text={}", enc(text));
    let (s, v) = app.call("op", "GET", &path, None).await;
    assert_eq!(s, 200, "{v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

per_engine!(consultations_are_answered_from_the_knowledge_base);
async fn consultations_are_answered_from_the_knowledge_base(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let dibao = json!({"question": "低保怎么申请？需要哪些材料？",
        "answer": "持户口簿、身份证和家庭收入证明，到户籍所在地社区（村）提出申请，民政局审核后按月发放。",
        "category": "consultation", "source_unit": "center", "valid_until": "2099-12-31"});
    let (s, v) = add(&app, "sup", dibao.clone()).await;
    assert_eq!(s, 201, "{engine:?}: {v}");
    let dibao_id = v["id"].as_i64().unwrap();
    assert_eq!(
        (v["holds"].as_bool(), v["answered"].as_i64()),
        (Some(true), Some(0))
    );
    let (s, v) = add(
        &app,
        "sup",
        json!({"question": "停水了什么时候恢复供水？",
        "answer": "计划停水提前一天公告；突发停水请拨打供水公司抢修热线，一般4小时内恢复。"}),
    )
    .await;
    assert_eq!(s, 201, "{engine:?}: {v}");
    let water_id = v["id"].as_i64().unwrap();
    let (s, v) = add(
        &app,
        "admin",
        json!({"question": "2020年医保报销比例是多少？",
        "answer": "住院报销比例按医院等级：一级90%。", "valid_until": "2020-12-31"}),
    )
    .await;
    assert_eq!(s, 201, "{engine:?}: {v}");
    let expired_id = v["id"].as_i64().unwrap();
    assert_eq!(v["holds"], false, "{v}");

    // Who may write, and a bad field named.
    let (s, v) = add(&app, "op", dibao.clone()).await;
    assert_eq!(s, 403, "{engine:?}: {v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("only admins and supervisors"), "{msg}");
    let (s, v) = app.call("analyst", "GET", "/api/v1/knowledge", None).await;
    assert_eq!(s, 403, "{engine:?}: {v}");
    let (s, v) = add(
        &app,
        "sup",
        json!({"question": "问", "answer": "答", "valid_until": "明年"}),
    )
    .await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("valid_until")),
        "{v}"
    );

    // Differently worded requests meet their entries; the expired one is never suggested.
    assert_eq!(
        suggested(&app, "想给我妈办个低保，要带什么").await.first(),
        Some(&dibao_id)
    );
    assert_eq!(
        suggested(&app, "我们小区没水了，啥时候来水").await.first(),
        Some(&water_id)
    );
    let medical = suggested(&app, "住院医保能报销多少").await;
    assert!(!medical.contains(&expired_id), "{engine:?}: {medical:?}");

    // Answered from the entry through the API: closed, named, counted.
    let body = json!({"channel": "phone", "content": "请问我妈想办低保，要带什么材料去哪里办",
        "category": "consultation", "caller": {"phone": "13905991234"}});
    let (s, c) = app.call("op", "POST", "/api/v1/cases", Some(&body)).await;
    assert_eq!(
        (s, c["status"].as_str()),
        (201, Some("received")),
        "{engine:?}: {c}"
    );
    let id = c["id"].as_str().unwrap().to_string();
    let answer = json!({"action": "answer", "note": dibao["answer"], "knowledge": dibao_id});
    let path = format!("/api/v1/cases/{id}/actions");
    let (s, v) = app.call("op", "POST", &path, Some(&answer)).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (200, Some("closed")),
        "{engine:?}: {v}"
    );
    let (_, c) = app
        .call("op", "GET", &format!("/api/v1/cases/{id}"), None)
        .await;
    let ev = c["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "answered")
        .unwrap_or_else(|| panic!("{engine:?}: no answered event in {c}"));
    assert_eq!(ev["detail"]["knowledge_entry"], dibao_id, "{ev}");
    let (_, e) = app
        .call("op", "GET", &format!("/api/v1/knowledge/{dibao_id}"), None)
        .await;
    assert_eq!(e["answered"], 1, "{e}");
    let (s, sum) = app
        .call("analyst", "GET", "/api/v1/analytics/summary", None)
        .await;
    assert_eq!(s, 200, "{sum}");
    assert!(
        sum["figures"]["answered"].as_i64().unwrap() >= 1,
        "{engine:?}: {sum}"
    );

    // The call-taker's one click: the console suggests, and the form creates and answers.
    let op = login(&app.server.base, "op", PASSWORD).await;
    let page = get_html(&op, &app.url("/console/call")).await;
    assert!(
        page.contains("id=\"knowledge-box\""),
        "{engine:?}: no knowledge box"
    );
    let json: Value = op
        .get(app.url(&format!(
            "/console/knowledge/suggest?text={}",
            enc("低保要什么材料")
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["items"][0]["id"], dibao_id, "{json}");
    let form = [
        ("csrf", csrf_of(&page)),
        ("channel", "phone".into()),
        ("phone", "13905995678".into()),
        ("content", "低保去哪儿申请".into()),
        ("category", "consultation".into()),
        ("knowledge", dibao_id.to_string()),
    ];
    let resp = op
        .post(app.url("/console/cases"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let case_url = resp.url().path().to_string();
    assert!(
        case_url.starts_with("/console/cases/"),
        "{engine:?}: {case_url}"
    );
    let cid = case_url.trim_start_matches("/console/cases/").to_string();
    let (_, c) = app
        .call("op", "GET", &format!("/api/v1/cases/{cid}"), None)
        .await;
    assert_eq!(c["status"], "closed", "{engine:?}: {c}");
    let (_, e) = app
        .call("op", "GET", &format!("/api/v1/knowledge/{dibao_id}"), None)
        .await;
    assert_eq!(e["answered"], 2, "{e}");

    // A consultation already taken: its page offers the entry, and one click answers it.
    let (_, c) = app.call("op", "POST", "/api/v1/cases", Some(&body)).await;
    let cid = c["id"].as_str().unwrap().to_string();
    let page = op
        .get(app.url(&format!("/console/cases/{cid}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("id=\"case-kb-answer-{dibao_id}\"")),
        "{engine:?}: no knowledge block on the case page"
    );
    let form = [
        ("csrf", csrf_of(&page)),
        ("version", c["version"].to_string()),
        ("knowledge", dibao_id.to_string()),
        ("note", dibao["answer"].as_str().unwrap().to_string()),
    ];
    let resp = op
        .post(app.url(&format!("/console/cases/{cid}/actions/answer")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{engine:?}: {}", resp.status());
    let (_, c) = app
        .call("op", "GET", &format!("/api/v1/cases/{cid}"), None)
        .await;
    assert_eq!(c["status"], "closed", "{engine:?}: {c}");
    let (_, e) = app
        .call("op", "GET", &format!("/api/v1/knowledge/{dibao_id}"), None)
        .await;
    assert_eq!(e["answered"], 3, "{e}");
    let page = get_html(&op, &app.url(&format!("/console/cases/{cid}"))).await;
    assert!(
        page.contains(&format!("知识条目 #{dibao_id}")),
        "{engine:?}: the timeline names the entry"
    );

    // The console's 知识库: the list for an operator (read only), the edit refused naming why.
    let list = get_html(&op, &app.url("/console/knowledge?q=低保")).await;
    assert!(
        list.contains(&format!("id=\"entry-{dibao_id}\"")),
        "{engine:?}: {list}"
    );
    assert!(
        !list.contains(&format!("id=\"entry-{water_id}\"")),
        "{engine:?}: the search"
    );
    assert!(
        !list.contains("id=\"knowledge-new\""),
        "{engine:?}: an operator does not add"
    );
    let resp = op
        .post(app.url(&format!("/console/knowledge/{dibao_id}")))
        .form(&[
            ("csrf", csrf_of(&page)),
            ("question", "改".into()),
            ("answer", "改".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "{engine:?}");
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("只有管理员和值班长可以编辑知识库")
    );

    // In the browser: the call screen shows the entry while the text is typed; one click on
    // 以此答复并办结 creates the case and answers it from the entry.
    let b = Browser::start().await;
    b.goto(&app.url("/console/login")).await;
    b.fill("#username", "op").await;
    b.fill("#password", PASSWORD).await;
    b.click("#login-submit").await;
    b.find("nav.mainnav").await;
    b.goto(&app.url("/console/call")).await;
    b.fill("#phone", "13905997777").await;
    b.fill("#content", "你好，我想问一下办低保需要准备哪些东西")
        .await;
    b.select("#category", "consultation").await;
    b.wait_for(&format!("#kb-use-{dibao_id}"), Duration::from_secs(10))
        .await;
    b.click(&format!("#kb-use-{dibao_id}")).await;
    b.wait_for("#timeline", Duration::from_secs(10)).await;
    let url = b.current_url().await;
    let cid = url.rsplit('/').next().unwrap().to_string();
    let (_, c) = app
        .call("op", "GET", &format!("/api/v1/cases/{cid}"), None)
        .await;
    assert_eq!(c["status"], "closed", "{engine:?}: {url} {c}");
    let (_, e) = app
        .call("op", "GET", &format!("/api/v1/knowledge/{dibao_id}"), None)
        .await;
    assert_eq!(e["answered"], 4, "{e}");

    // Retired: no longer suggested, cannot answer; kept in the list of retired entries.
    let (s, v) = app
        .call(
            "sup",
            "POST",
            &format!("/api/v1/knowledge/{dibao_id}/retire"),
            Some(&json!({})),
        )
        .await;
    assert_eq!(
        (s, v["active"].as_bool()),
        (200, Some(false)),
        "{engine:?}: {v}"
    );
    assert!(
        !suggested(&app, "想给我妈办个低保，要带什么")
            .await
            .contains(&dibao_id)
    );
    let (_, c) = app.call("op", "POST", "/api/v1/cases", Some(&body)).await;
    let path = format!("/api/v1/cases/{}/actions", c["id"].as_str().unwrap());
    let (s, v) = app.call("op", "POST", &path, Some(&answer)).await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("knowledge")),
        "{v}"
    );
    let (_, all) = app
        .call("op", "GET", "/api/v1/knowledge?include_retired=true", None)
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3, "{all}");
    // Every write is in the audit log.
    let (_, log) = app
        .call("admin", "GET", "/api/v1/audit?limit=200", None)
        .await;
    let writes = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"].as_str().unwrap_or("").starts_with("knowledge."))
        .count();
    assert_eq!(writes, 4, "{engine:?}: {log}");
}
