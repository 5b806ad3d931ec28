//! 一事多诉 decided, end to end on both engines, as a call-taker works it: the same street light
//! reported five ways (each by its own caller). The operator
//!
//! - dismisses a suggestion that is another problem (another lamp, in the alley east of the
//!   crossing): it never comes back, either way round;
//! - merges the four later reports into the first (the analyst and a unit handler are refused; a
//!   bad `into` is a 422 naming `into`; a case into itself a 409), one of them from the console's
//!   case page (the box must be ticked): intake had dispatched them, the merge takes them back;
//!   the merged cases are no longer suggested, take no action of their own, and the first case's
//!   page lists them with their callers;
//! - the unit replies to the first case: the four follow it to 已反馈, each with its own event;
//!   closing it before their callers are followed up is refused naming one; each caller is
//!   followed up (an event each), then the close closes all four, each with its own event;
//! - nothing merges into the closed case; every merge is in the audit log.

use m110_e2e::app::App;
use m110_e2e::{Engine, PASSWORD, csrf_of, get_html, per_engine};
use serde_json::{Value, json};

const CROSSING: &str = "350781001001";

async fn take(app: &App, text: &str, phone: &str) -> String {
    let body = json!({"channel": "phone", "content": text, "caller": {"phone": phone},
        "location": {"grid_code": CROSSING}, "emergency": {"line": null}});
    let (s, v) = app.call("op", "POST", "/api/v1/cases", Some(&body)).await;
    assert_eq!(s, 201, "{text}: {v}");
    v["id"].as_str().unwrap().to_string()
}

async fn case(app: &App, id: &str) -> Value {
    let (s, v) = app
        .call("op", "GET", &format!("/api/v1/cases/{id}"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn act(app: &App, who: &str, id: &str, body: Value) -> (u16, Value) {
    app.call(
        who,
        "POST",
        &format!("/api/v1/cases/{id}/actions"),
        Some(&body),
    )
    .await
}

async fn merge(app: &App, who: &str, child: &str, into: &str) -> (u16, Value) {
    app.call(
        who,
        "POST",
        &format!("/api/v1/cases/{child}/merge"),
        Some(&json!({"into": into, "note": "同一路灯"})),
    )
    .await
}

/// The events of `kind` on a case.
fn events<'a>(case: &'a Value, kind: &str) -> Vec<&'a Value> {
    case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

async fn one_problem_many_callers_merged_and_closed_together(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let mut light = Vec::new();
    for (i, text) in [
        "和平路口的路灯坏了好几天，晚上很黑",
        "和平路与中山路交叉口路灯不亮",
        "反映和平路口路灯晚上不亮，存在安全隐患",
        "和平路那个十字路口的灯坏了",
        "和平路路口路灯已经三天没亮了请尽快修",
    ]
    .iter()
    .enumerate()
    {
        light.push(take(&app, text, &format!("1390599100{i}")).await);
    }
    let parent = light[0].clone();

    // Another light (in the alley east of the crossing) is suggested; the operator knows it is
    // another lamp.
    let cover = take(
        &app,
        "和平路口东边小巷里的路灯坏了，晚上很黑",
        "13905991010",
    )
    .await;
    let before = app.similar("op", &cover).await;
    assert!(before.contains(&parent), "{engine:?}: {before:?}");
    let path = format!("/api/v1/cases/{cover}/similar/{parent}/dismiss");
    let (s, v) = app.call("analyst", "POST", &path, None).await;
    assert_eq!(s, 403, "{engine:?}: {v}");
    let (s, v) = app
        .call(
            "op",
            "POST",
            &path,
            Some(&json!({"note": "小巷里的另一盏灯"})),
        )
        .await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    assert!(
        !app.similar("op", &cover).await.contains(&parent),
        "{engine:?}"
    );
    assert!(
        !app.similar("op", &parent).await.contains(&cover),
        "{engine:?}"
    );

    // Who may merge, and what is refused.
    for who in ["analyst", "urban"] {
        let (s, v) = merge(&app, who, &light[1], &parent).await;
        assert_eq!(s, 403, "{engine:?}: {who}: {v}");
    }
    for bad in ["", "MS350781-20000101-999999"] {
        let (s, v) = merge(&app, "op", &light[1], bad).await;
        assert_eq!(s, 422, "{engine:?}: {bad:?}: {v}");
        assert_eq!(v["error"]["field"], "into", "{engine:?}: {v}");
    }
    let (s, v) = merge(&app, "op", &parent, &parent).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("merge_self")),
        "{v}"
    );
    let (s, _) = merge(&app, "op", "MS350781-20000101-999999", &parent).await;
    assert_eq!(s, 404, "{engine:?}");

    // Three merges through the API, the fourth from the console's case page.
    for child in &light[1..4] {
        let (s, v) = merge(&app, "op", child, &parent).await;
        assert_eq!(s, 200, "{engine:?}: {v}");
        assert_eq!(v["parent"], json!(parent), "{v}");
    }
    let console = m110_e2e::login(&app.server.base, "op", PASSWORD).await;
    let page = get_html(&console, &app.url(&format!("/console/cases/{}", light[4]))).await;
    assert!(
        page.contains(&format!("id=\"merge-{parent}\""))
            && page.contains(&format!("id=\"dismiss-{parent}\"")),
        "{engine:?}: the suggestion has its 合并 and 不是重复 buttons"
    );
    let token = csrf_of(&page);
    let form_url = app.url(&format!("/console/cases/{}/merge", light[4]));
    let unticked = console
        .post(&form_url)
        .form(&[("csrf", token.as_str()), ("into", parent.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        unticked.status().as_u16(),
        422,
        "{engine:?}: the box is unticked"
    );
    let merged = console
        .post(&form_url)
        .form(&[
            ("csrf", token.as_str()),
            ("into", parent.as_str()),
            ("confirm", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(merged.status().as_u16(), 200, "{engine:?}");
    let page = merged.text().await.unwrap();
    assert!(
        page.contains("id=\"merged-into\"") && page.contains(&parent),
        "{engine:?}: the merged case names its parent"
    );

    // Merged: taken back from the unit, parked, no longer suggested.
    let children = &light[1..];
    for child in children {
        let c = case(&app, child).await;
        assert_eq!(c["merged_into"], json!(parent), "{engine:?}: {child}");
        assert_eq!(c["status"], "received", "{engine:?}: {c}");
        assert_eq!(c["allowed_actions"], json!([]), "{engine:?}");
        assert_eq!(events(&c, "merged").len(), 1, "{engine:?}");
    }
    let p = case(&app, &parent).await;
    assert_eq!(p["merged"], json!(children), "{engine:?}");
    assert_eq!(events(&p, "merged_in").len(), 4, "{engine:?}");
    let (s, v) = act(
        &app,
        "op",
        &light[1],
        json!({"action": "answer", "note": "x"}),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("merged_child")),
        "{v}"
    );
    let (s, v) = merge(&app, "op", &light[2], &light[1]).await;
    assert_eq!(s, 409, "{engine:?}: {v}");
    let sixth = take(&app, "和平路口路灯到现在还是不亮", "13905991011").await;
    let now = app.similar("op", &sixth).await;
    assert!(now.contains(&parent), "{engine:?}: {now:?}");
    assert!(
        children.iter().all(|c| !now.contains(c)),
        "{engine:?}: merged cases are not suggested: {now:?}"
    );
    assert!(app.similar("op", &light[1]).await.is_empty(), "{engine:?}");

    // The unit replies to the parent: the children follow, each with its own event.
    if p["status"] == "received" {
        let (s, v) = act(
            &app,
            "disp",
            &parent,
            json!({"action": "dispatch", "unit": "urban-management"}),
        )
        .await;
        assert_eq!(s, 200, "{engine:?}: {v}");
    }
    let unit = case(&app, &parent).await["unit"]["id"].clone();
    assert_eq!(
        unit, "urban-management",
        "{engine:?}: the light is urban management's"
    );
    let (s, v) = act(&app, "urban", &parent, json!({"action": "sign"})).await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    let (s, v) = act(
        &app,
        "urban",
        &parent,
        json!({"action": "reply", "note": "已更换灯泡，路灯恢复照明"}),
    )
    .await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    for child in children {
        let c = case(&app, child).await;
        assert_eq!(c["status"], "replied", "{engine:?}: {child}");
        let replied = events(&c, "replied");
        assert_eq!(replied.len(), 1, "{engine:?}");
        assert_eq!(replied[0]["detail"]["with_parent"], json!(parent));
    }
    let (s, v) = act(
        &app,
        "op",
        &parent,
        json!({"action": "follow_up", "satisfaction": "satisfied"}),
    )
    .await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    // Closing before the children's callers are followed up: refused, naming one.
    let (s, v) = act(&app, "op", &parent, json!({"action": "close"})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("merge_child_not_followed_up")),
        "{engine:?}: {v}"
    );
    // The parent's page lists every child's caller with a 回访 form.
    let page = get_html(&console, &app.url(&format!("/console/cases/{parent}"))).await;
    assert!(page.contains("id=\"merged-children\""), "{engine:?}");
    for child in children {
        assert!(
            page.contains(&format!("id=\"follow-up-{child}\"")),
            "{engine:?}: {child}"
        );
    }
    // Each caller followed up: one from the parent's page, the rest through the API.
    let token = csrf_of(&page);
    let resp = console
        .post(app.url(&format!("/console/cases/{}/actions/follow_up", children[0])))
        .form(&[
            ("csrf", token.as_str()),
            ("satisfaction", "mostly_satisfied"),
            ("back", parent.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{engine:?}");
    assert!(
        resp.url().path().ends_with(&parent),
        "{engine:?}: back to the parent"
    );
    for child in &children[1..] {
        let (s, v) = act(
            &app,
            "op",
            child,
            json!({"action": "follow_up", "satisfaction": "satisfied"}),
        )
        .await;
        assert_eq!(s, 200, "{engine:?}: {v}");
    }
    for child in children {
        let c = case(&app, child).await;
        assert_eq!(events(&c, "followed_up").len(), 1, "{engine:?}: {child}");
        assert_eq!(c["status"], "followed_up", "{engine:?}");
    }
    // The parent closes; every child closes with it, each with its own event.
    let (s, v) = act(&app, "op", &parent, json!({"action": "close"})).await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    assert_eq!(v["status"], "closed");
    for child in children {
        let c = case(&app, child).await;
        assert_eq!(c["status"], "closed", "{engine:?}: {child}");
        let closed = events(&c, "closed");
        assert_eq!(closed.len(), 1, "{engine:?}");
        assert_eq!(closed[0]["detail"]["with_parent"], json!(parent));
        assert!(
            closed[0]["actor"]["id"].is_number(),
            "{engine:?}: with its actor"
        );
    }
    // Nothing merges into a closed case.
    let (s, v) = merge(&app, "op", &sixth, &parent).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("merge_closed")),
        "{engine:?}: {v}"
    );
    // Audited: the four merges and the dismissal.
    let (s, v) = app
        .call("auditor", "GET", "/api/v1/audit?action=case.merge", None)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["items"].as_array().unwrap().len(), 4, "{engine:?}: {v}");
    let (s, v) = app
        .call(
            "auditor",
            "GET",
            "/api/v1/audit?action=case.dismiss_duplicate",
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{engine:?}: {v}");
}

per_engine!(one_problem_many_callers_merged_and_closed_together);
