//! SMS in and out on both engines, against a fake HTTP SMS gateway on 127.0.0.1 (an axum
//! server in the test) named in the profile as an `sms_gateway` platform whose URL template
//! takes `{to}` and `{text}`:
//!
//! - a phone case with a mobile caller: the citizen gets the case number by text;
//! - a text from that phone joins the open case's timeline (补充); the gateway's retry of it
//!   (same gateway id) changes nothing;
//! - the unit replies: the 回访 question goes out; the answer `1` records the follow-up (满意);
//! - a text from an unknown phone becomes a new case with channel `sms` (and gets its number);
//! - the gateway's token reaches nothing but the inbound route; nobody else may post texts.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::post as route_post;
use m110_e2e::server::Server;
use m110_e2e::{Engine, Install, eventually, per_engine};
use serde_json::{Value, json};

/// (to, text) of every text the gateway was asked to send.
type Sent = Arc<Mutex<Vec<(String, String)>>>;

async fn gateway() -> (Sent, String) {
    let sent: Sent = Arc::default();
    async fn send(
        State(sent): State<Sent>,
        Query(q): Query<std::collections::HashMap<String, String>>,
        body: String,
    ) -> &'static str {
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        // The URL template and the event document carry the same text.
        assert_eq!(
            v["data"]["text"].as_str(),
            q.get("text").map(String::as_str)
        );
        sent.lock().unwrap().push((
            q.get("to").cloned().unwrap_or_default(),
            q.get("text").cloned().unwrap_or_default(),
        ));
        "ok"
    }
    let app = Router::new()
        .route("/send", route_post(send))
        .with_state(sent.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (sent, format!("http://{addr}/send?to={{to}}&text={{text}}"))
}

async fn install(engine: Engine, url: &str) -> Install {
    Install::provision_shaowu_with(engine, |yaml| {
        yaml.replacen(
            "\nexisting_platforms:\n",
            &format!(
                "\nexisting_platforms:\n  - id: sms-gateway\n    kind: sms_gateway\n    \
                 name: \"短信平台\"\n    integration: {{type: webhook, url: \"{url}\", \
                 secret_env: SMS_GATEWAY_SECRET}}\n"
            ),
            1,
        )
    })
    .await
}

fn serve(install: &Install) -> Server {
    let mut cmd = std::process::Command::new(m110_e2e::bin("m110d"));
    cmd.arg("serve")
        .arg("--install")
        .arg(install.path())
        .args(["--listen", "127.0.0.1:0", "--delivery-backoff-ms", "100"])
        .env("SMS_GATEWAY_SECRET", "sms-secret-for-tests");
    Server::spawn(cmd)
}

async fn post(base: &str, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(base: &str, token: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Waits for a text to `to` containing `needle`.
async fn text_to(sent: &Sent, to: &str, needle: &str) -> String {
    eventually(
        &format!("a text to {to} with {needle}"),
        Duration::from_secs(20),
        || {
            let found = sent
                .lock()
                .unwrap()
                .iter()
                .find(|(t, x)| t == to && x.contains(needle))
                .map(|(_, x)| x.clone());
            async move { found }
        },
    )
    .await
}

async fn texts_in_and_out(engine: Engine) {
    let (sent, url) = gateway().await;
    let install = install(engine, &url).await;
    let op = install.token("op", "operator");
    let admin = install.token("api-admin", "admin");
    // The unit signs and replies (an admin does not: separation of duties).
    install.user(
        "urban",
        "unit_handler",
        &["--unit", "urban-management"],
        m110_e2e::PASSWORD,
    );
    let urban = install.token("urban", "unit_handler");
    let out = install
        .m110(&[
            "token",
            "add",
            "--name",
            "sms-gw",
            "--role",
            "operator",
            "--scope",
            "sms_gateway",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", m110_e2e::output_text(&out));
    let gw = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let server = serve(&install);
    let base = server.base.clone();

    // Intake: the case number by text.
    let (status, c) = post(
        &base,
        &op,
        "/api/v1/cases",
        json!({"channel": "phone", "content": "公太社区门口的路灯坏了好几天，晚上很黑",
               "category": "public_facilities", "caller": {"phone": "13600002222"}}),
    )
    .await;
    assert_eq!(status, 201, "{engine:?}: {c}");
    let id = c["id"].as_str().unwrap().to_string();
    let receipt = text_to(&sent, "13600002222", &id).await;
    assert!(receipt.contains("已受理"), "{engine:?}: {receipt}");

    // A text from that phone joins the case; the gateway's retry changes nothing.
    let inbound =
        json!({"from": "13600002222", "text": "路灯下面还有个坑，请一起处理", "id": "gw-1"});
    let (status, r) = post(&base, &gw, "/api/v1/sms/inbound", inbound.clone()).await;
    assert_eq!(status, 200, "{engine:?}: {r}");
    assert_eq!(r, json!({"outcome": "thread", "case": id}), "{engine:?}");
    let (_, r) = post(&base, &gw, "/api/v1/sms/inbound", inbound).await;
    assert_eq!(r["outcome"], "duplicate", "{engine:?}: {r}");
    let (_, v) = get(&base, &op, &format!("/api/v1/cases/{id}")).await;
    let threaded: Vec<&Value> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "sms_received")
        .collect();
    assert_eq!(threaded.len(), 1, "{engine:?}: {v}");
    assert_eq!(threaded[0]["note"], "路灯下面还有个坑，请一起处理");

    // The unit replies: the 回访 question goes out; "1" records the follow-up.
    if v["status"] == "received" {
        let (s, d) = post(
            &base,
            &admin,
            &format!("/api/v1/cases/{id}/actions"),
            json!({"action": "dispatch", "unit": "urban-management"}),
        )
        .await;
        assert_eq!(s, 200, "{d}");
    }
    for body in [
        json!({"action": "sign"}),
        json!({"action": "reply", "note": "路灯已更换，坑已填平"}),
    ] {
        let (s, d) = post(&base, &urban, &format!("/api/v1/cases/{id}/actions"), body).await;
        assert_eq!(s, 200, "{engine:?}: {d}");
    }
    let survey = text_to(&sent, "13600002222", "请回复数字评价").await;
    assert!(
        survey.contains(&id) && survey.contains("路灯已更换"),
        "{survey}"
    );
    let (status, r) = post(
        &base,
        &gw,
        "/api/v1/sms/inbound",
        json!({"from": "13600002222", "text": " 1 ", "id": "gw-2"}),
    )
    .await;
    assert_eq!(status, 200, "{engine:?}: {r}");
    assert_eq!(r["outcome"], "survey_reply", "{engine:?}: {r}");
    let (_, v) = get(&base, &op, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(v["status"], "followed_up", "{engine:?}: {v}");
    assert_eq!(v["satisfaction"], "satisfied", "{engine:?}: {v}");

    // An unknown phone: a new case with channel sms, which gets its number too.
    let (status, r) = post(
        &base,
        &gw,
        "/api/v1/sms/inbound",
        json!({"from": "13700003333", "text": "城富社区小区门口垃圾三天没人清运了", "id": "gw-3"}),
    )
    .await;
    assert_eq!(status, 200, "{engine:?}: {r}");
    assert_eq!(r["outcome"], "new_case", "{engine:?}: {r}");
    let new_id = r["case"].as_str().unwrap().to_string();
    let (_, n) = get(&base, &op, &format!("/api/v1/cases/{new_id}")).await;
    assert_eq!(n["channel"], "sms", "{engine:?}: {n}");
    text_to(&sent, "13700003333", &new_id).await;
    let (_, again) = post(
        &base,
        &gw,
        "/api/v1/sms/inbound",
        json!({"from": "13700003333", "text": "城富社区小区门口垃圾三天没人清运了", "id": "gw-3"}),
    )
    .await;
    assert_eq!(again["outcome"], "duplicate", "{engine:?}: {again}");

    // The gateway's token reaches nothing else; nobody else posts texts; bad input names its field.
    let (status, _) = get(&base, &gw, "/api/v1/cases").await;
    assert_eq!(status, 403, "{engine:?}");
    let (status, e) = post(
        &base,
        &op,
        "/api/v1/sms/inbound",
        json!({"from": "13600002222", "text": "x"}),
    )
    .await;
    assert_eq!(status, 403, "{engine:?}: {e}");
    let (status, e) = post(
        &base,
        &gw,
        "/api/v1/sms/inbound",
        json!({"from": "not-a-phone", "text": "x"}),
    )
    .await;
    assert_eq!(status, 422, "{engine:?}: {e}");
    assert_eq!(e["error"]["field"], "from", "{engine:?}: {e}");
    drop(server);
}
per_engine!(texts_in_and_out);
