//! The one-number loop's first half on both engines, against a real webhook receiver on
//! 127.0.0.1 (an axum server inside the test):
//!
//! - a police transfer at intake arrives at the police platform as a signed, versioned event
//!   (`X-M110-Event-Id`, `X-M110-Signature: sha256=HMAC(secret, body)`, the secret from the
//!   variable the profile's `secret_env` names); the receiver's answer
//!   carrying an incident number acknowledges the hand-off on the case;
//! - with the receiver down (503) the worker retries with backoff, every attempt recorded; when
//!   it is back the message is delivered — exactly once per event id;
//! - `kill -9` of `m110d` between enqueue and delivery: delivered after the restart;
//! - a receiver that never recovers: the message goes dead after the retry bound;
//! - the center records a phone acknowledgement (`police_ack`) and a hand-back (`police_return`:
//!   the case re-enters the center's queue).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use m110_e2e::server::Server;
use m110_e2e::{Engine, Install, eventually, get_html, per_engine};
use serde_json::{Value, json};
use sha2::Sha256;

const SECRET: &str = "test-webhook-secret-0123456789";
const PASSWORD: &str = "Delivery-Test-2026!";

/// Event id → how many times it arrived, with the last body and whether its signature verified.
type Seen = Arc<Mutex<HashMap<String, (u32, Value, bool)>>>;

#[derive(Clone, Default)]
struct Receiver {
    seen: Seen,
    down: Arc<AtomicBool>,
    hits: Arc<AtomicU32>,
}

async fn receive(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    r.hits.fetch_add(1, Ordering::SeqCst);
    if r.down.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down".into());
    }
    let id = headers
        .get("x-m110-event-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let sig = headers
        .get("x-m110-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let good = sig == format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let mut seen = r.seen.lock().unwrap();
    let e = seen.entry(id.clone()).or_insert((0, Value::Null, false));
    e.0 += 1;
    e.1 = v;
    e.2 = good;
    (
        StatusCode::OK,
        json!({"incident_number": format!("J110-{id}")}).to_string(),
    )
}

async fn receiver() -> (Receiver, String) {
    let r = Receiver::default();
    let app = Router::new()
        .route("/police", post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, format!("http://{addr}/police"))
}

/// Shaowu with its police platform on a webhook to `url`.
async fn install(engine: Engine, url: &str) -> Install {
    let install = Install::provision_shaowu_with(engine, |yaml| {
        yaml.replace(
            "integration: {type: none}}",
            &format!(
                "integration: {{type: webhook, url: \"{url}\", secret_env: POLICE_HOOK_SECRET}}}}"
            ),
        )
    })
    .await;
    install.user("op1", "operator", &[], PASSWORD);
    install.user("disp1", "dispatcher", &[], PASSWORD);
    install
}

fn serve(install: &Install, extra: &[&str]) -> Server {
    let mut cmd = std::process::Command::new(m110_e2e::bin("m110d"));
    cmd.arg("serve")
        .arg("--install")
        .arg(install.path())
        .args(["--listen", "127.0.0.1:0", "--delivery-backoff-ms", "100"])
        .args(extra)
        .env("POLICE_HOOK_SECRET", SECRET);
    Server::spawn(cmd)
}

async fn create(base: &str, token: &str, content: &str) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/cases"))
        .bearer_auth(token)
        .json(&json!({"channel": "phone", "content": content, "caller": {"phone": "13600002222"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "create");
    r.json().await.unwrap()
}

async fn case(base: &str, token: &str, id: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{base}/api/v1/cases/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn outbox_state(install: &Install, case_id: &str) -> (String, i64) {
    let store = install.store().await;
    let (state, id): (String, i64) = sqlx::query_as(
        "SELECT state, id FROM outbox WHERE topic = 'emergency.transfer' AND payload LIKE $1",
    )
    .bind(format!("%{case_id}%"))
    .fetch_one(store.pool())
    .await
    .unwrap();
    (state, id)
}

/// Waits until the hand-off message of case `id` is in `state` (a crashed holder's lease runs
/// out after a minute, hence the generous limit).
async fn wait_state(install: &Install, id: &str, state: &str, what: &str) {
    eventually(what, Duration::from_secs(120), || async move {
        (outbox_state(install, id).await.0 == state).then_some(())
    })
    .await;
}

async fn police_transfer_is_delivered_signed_and_acknowledged(engine: Engine) {
    let (rx, url) = receiver().await;
    let install = install(engine, &url).await;
    let token = install.token("bridge-op", "operator");
    let server = serve(&install, &[]);
    let base = server.base.clone();

    // Delivered, signed, versioned; the answer's incident number acknowledges the hand-off.
    let c = create(&base, &token, "村口有人拿着刀追着砍人，快来").await;
    assert_eq!(c["status"], "transferred_police", "{engine:?}");
    let id = c["id"].as_str().unwrap().to_string();
    let acked = eventually("hand-off acknowledged", Duration::from_secs(20), || {
        let (base, token, id) = (base.clone(), token.clone(), id.clone());
        async move {
            let v = case(&base, &token, &id).await;
            (v["handoff"]["state"] == "acknowledged").then_some(v)
        }
    })
    .await;
    let (state, msg_id) = outbox_state(&install, &id).await;
    assert_eq!(state, "delivered");
    let event_id = format!("350781-{msg_id}");
    {
        let seen = rx.seen.lock().unwrap();
        let (n, body, signed) = seen.get(&event_id).cloned().expect("event arrived");
        assert_eq!(n, 1, "{engine:?}: one delivery per event id");
        assert!(signed, "{engine:?}: X-M110-Signature verifies");
        assert_eq!(body["version"], 1);
        assert_eq!(body["type"], "emergency.transfer");
        assert_eq!(body["data"]["case"], id.as_str());
        assert_eq!(body["data"]["line"], "110");
    }
    assert_eq!(acked["handoff"]["reference"], format!("J110-{event_id}"));

    // Receiver down: retried with backoff, each attempt recorded; back up: delivered once.
    rx.down.store(true, Ordering::SeqCst);
    let c2 = create(&base, &token, "有人在砸我家的门，说要杀了我").await;
    let id2 = c2["id"].as_str().unwrap().to_string();
    let (_, msg2) = outbox_state(&install, &id2).await;
    let store = install.store().await;
    // Counted where the worker records them (the receiver sees a request before it is recorded).
    eventually(
        "three failed attempts recorded",
        Duration::from_secs(30),
        || {
            let store = store.clone();
            async move {
                let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM outbox_attempts WHERE message_id = $1 AND status_code = 503",
            )
            .bind(msg2)
            .fetch_one(store.pool())
            .await
            .unwrap();
                (n >= 3).then_some(())
            }
        },
    )
    .await;
    let (state, _) = outbox_state(&install, &id2).await;
    assert_eq!(state, "pending", "{engine:?}");
    rx.down.store(false, Ordering::SeqCst);
    wait_state(
        &install,
        &id2,
        "delivered",
        "delivered after the receiver is back",
    )
    .await;
    assert_eq!(
        rx.seen
            .lock()
            .unwrap()
            .get(&format!("350781-{msg2}"))
            .map(|e| e.0),
        Some(1),
        "{engine:?}: delivered exactly once"
    );

    // kill -9 between enqueue and delivery: the message waits in the database, and the next
    // m110d delivers it.
    rx.down.store(true, Ordering::SeqCst);
    let c3 = create(&base, &token, "我老婆被人拉上面包车带走了").await;
    let id3 = c3["id"].as_str().unwrap().to_string();
    drop(server); // SIGKILL
    rx.down.store(false, Ordering::SeqCst);
    let server = serve(&install, &[]);
    wait_state(&install, &id3, "delivered", "delivered after a restart").await;
    drop(server);
}

async fn dead_letters_and_manual_handoff_decisions(engine: Engine) {
    let (rx, url) = receiver().await;
    rx.down.store(true, Ordering::SeqCst);
    let install = install(engine, &url).await;
    let token = install.token("bridge-op", "operator");
    let disp = install.token("bridge-disp", "dispatcher");
    let server = serve(&install, &["--delivery-max-attempts", "3"]);
    let base = server.base.clone();

    let c = create(&base, &token, "楼下两伙人在打群架，有人拿着钢管").await;
    let id = c["id"].as_str().unwrap().to_string();
    wait_state(&install, &id, "dead", "dead after 3 attempts").await;
    let v = case(&base, &token, &id).await;
    assert_eq!(v["handoff"]["state"], "awaiting", "{engine:?}");
    // It waits in the center's 待确认转警 queue, not in a dead end.
    let web = m110_e2e::install::login(&base, "disp1", PASSWORD).await;
    let queue = web
        .get(format!("{base}/console/queue?view=awaiting_police"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        queue.contains(&id) && queue.contains("待确认转警"),
        "{engine:?}: {queue}"
    );

    // The center phones the police and records the incident number.
    let act = |who: String, body: Value| {
        let base = base.clone();
        let id = id.clone();
        async move {
            let r = reqwest::Client::new()
                .post(format!("{base}/api/v1/cases/{id}/actions"))
                .bearer_auth(who)
                .json(&body)
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap())
        }
    };
    let (s, v) = act(token.clone(), json!({"action": "police_ack"})).await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("reference")),
        "{v}"
    );
    let (s, v) = act(
        token.clone(),
        json!({"action": "police_ack", "reference": "J110-777"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["handoff"]["state"], "acknowledged");
    assert_eq!(v["handoff"]["reference"], "J110-777");
    // Police hand it back: it re-enters the center's queue (an operator may not decide that).
    let (s, _) = act(
        token.clone(),
        json!({"action": "police_return", "reason": "非警情"}),
    )
    .await;
    assert_eq!(s, 403, "{engine:?}");
    let (s, v) = act(
        disp.clone(),
        json!({"action": "police_return", "reason": "经核实为邻里纠纷，非警情"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "received");
    assert_eq!(v["handoff"]["state"], "returned");

    // The dead message shows in /metrics and on the integrations page; replayed once the
    // receiver is back, it is delivered, and the replay is audited.
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        m110_e2e::metric(
            &metrics,
            "m110_outbox_messages{platform=\"police-dispatch\",state=\"dead\"}"
        ),
        Some(1.0),
        "{engine:?}"
    );
    let page = get_html(&web, &format!("{base}/console/integrations")).await;
    assert!(
        page.contains("推送异常") && page.contains("HTTP 503"),
        "{page}"
    );
    // The dashboard says so too (readyz stays green: the center itself works).
    let dash = get_html(&web, &format!("{base}/console/dashboard")).await;
    assert!(dash.contains("id=\"failing-platforms\""), "{engine:?}");
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let (_, msg_id) = outbox_state(&install, &id).await;
    assert!(page.contains(&format!("id=\"replay-{msg_id}\"")), "{page}");
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    rx.down.store(false, Ordering::SeqCst);
    let r = web
        .post(format!("{base}/console/integrations/replay/{msg_id}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    wait_state(&install, &id, "delivered", "delivered after the replay").await;
    let store = install.store().await;
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'outbox.replay'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(n, 1, "{engine:?}");
    drop(server);
}

fn scoped_token(install: &Install, name: &str, role: &str, scope: &str) -> String {
    let out = install
        .m110(&[
            "token", "add", "--name", name, "--role", role, "--scope", scope,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", m110_e2e::output_text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("scope={scope}")), "{stdout}");
    stdout.lines().last().unwrap().trim().to_string()
}

/// Scoped tokens: a police bridge reads only handed-off cases and may only acknowledge or
/// return them; an Open311 client's key works on Open311 and is refused by /api/v1; the JSON
/// API refuses the channels only other front-ends set.
async fn scoped_tokens_and_reserved_channels(engine: Engine) {
    let (_rx, url) = receiver().await;
    let install = install(engine, &url).await;
    let op = install.token("bridge-op", "operator");
    let bridge = scoped_token(&install, "police-bridge", "dispatcher", "police_bridge");
    let client = scoped_token(&install, "portal", "operator", "open311_client");
    let server = serve(&install, &[]);
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let call = |token: String, method: reqwest::Method, path: String, body: Option<Value>| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let mut r = http
                .request(method, format!("{base}{path}"))
                .bearer_auth(token);
            if let Some(b) = body {
                r = r.json(&b);
            }
            let r = r.send().await.unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    use reqwest::Method;
    let handed = create(&base, &op, "有人拿着刀在小区门口砍人").await;
    let handed_id = handed["id"].as_str().unwrap().to_string();
    let quiet = create(&base, &op, "我家门口的路灯坏了好几天").await;
    let quiet_id = quiet["id"].as_str().unwrap().to_string();

    let (s, v) = call(
        bridge.clone(),
        Method::GET,
        format!("/api/v1/cases/{handed_id}"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    assert_eq!(
        v["allowed_actions"],
        json!(["police_ack", "police_return"]),
        "{v}"
    );
    let (s, _) = call(
        bridge.clone(),
        Method::GET,
        format!("/api/v1/cases/{quiet_id}"),
        None,
    )
    .await;
    assert_eq!(s, 403, "{engine:?}: a bridge sees only handed-off cases");
    let (s, _) = call(bridge.clone(), Method::GET, "/api/v1/cases".into(), None).await;
    assert_eq!(s, 403, "{engine:?}");
    let (s, _) = call(
        bridge.clone(),
        Method::POST,
        "/api/v1/cases".into(),
        Some(json!({"channel": "phone", "content": "x"})),
    )
    .await;
    assert_eq!(s, 403, "{engine:?}");
    let (s, v) = call(
        bridge.clone(),
        Method::POST,
        format!("/api/v1/cases/{handed_id}/actions"),
        Some(json!({"action": "police_ack", "reference": "J110-BRIDGE-1"})),
    )
    .await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    assert_eq!(v["handoff"]["reference"], "J110-BRIDGE-1");
    let (s, _) = call(
        bridge.clone(),
        Method::POST,
        format!("/api/v1/cases/{quiet_id}/actions"),
        Some(json!({"action": "dispatch", "unit": "transport"})),
    )
    .await;
    assert_eq!(s, 403, "{engine:?}");

    // The Open311 client's key: refused by /api/v1, accepted by Open311.
    let (s, v) = call(client.clone(), Method::GET, "/api/v1/me".into(), None).await;
    assert_eq!(s, 403, "{engine:?}: {v}");
    let r = http
        .post(format!("{base}/open311/v2/requests.json"))
        .form(&[
            ("api_key", client.as_str()),
            ("service_code", "roads"),
            ("address_string", "熙春路"),
            ("description", "路面塌陷一个大坑"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        200,
        "{engine:?}: {}",
        r.text().await.unwrap()
    );
    // The bridge's key may not submit through Open311.
    let r = http
        .post(format!("{base}/open311/v2/requests.json"))
        .form(&[
            ("api_key", bridge.as_str()),
            ("service_code", "roads"),
            ("address_string", "熙春路"),
            ("description", "路面塌陷"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403, "{engine:?}");

    // Channels only other front-ends set.
    for channel in ["open311", "grid"] {
        let (s, v) = call(
            op.clone(),
            Method::POST,
            "/api/v1/cases".into(),
            Some(json!({"channel": channel, "content": "路灯不亮"})),
        )
        .await;
        assert_eq!(
            (s, v["error"]["field"].as_str()),
            (422, Some("channel")),
            "{engine:?}: {v}"
        );
    }
    // The public feed leaves the handed-off case out.
    let feed: Value = http
        .get(format!("{base}/open311/v2/requests.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = feed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["service_request_id"].as_str())
        .collect();
    assert!(!ids.contains(&handed_id.as_str()), "{engine:?}: {ids:?}");
    assert!(ids.contains(&quiet_id.as_str()), "{engine:?}: {ids:?}");
    drop(server);
}

/// Two `m110d` on one database: every message is sent by one of them, once (leases; `FOR
/// UPDATE SKIP LOCKED` on PostgreSQL).
async fn two_servers_deliver_each_message_once(engine: Engine) {
    let (rx, url) = receiver().await;
    let install = install(engine, &url).await;
    let token = install.token("bridge-op", "operator");
    let a = serve(&install, &[]);
    let b = serve(&install, &[]);
    let mut ids = Vec::new();
    for i in 0..30 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let c = create(base, &token, &format!("第{i}起：有人拿着刀追着砍人")).await;
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    let store = install.store().await;
    eventually("all 30 delivered", Duration::from_secs(60), || {
        let store = store.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM outbox WHERE topic = 'emergency.transfer' AND state = 'delivered'",
            )
            .fetch_one(store.pool())
            .await
            .unwrap();
            (n == 30).then_some(())
        }
    })
    .await;
    {
        let seen = rx.seen.lock().unwrap();
        assert_eq!(seen.len(), 30, "{engine:?}");
        assert!(
            seen.values().all(|(n, _, signed)| *n == 1 && *signed),
            "{engine:?}: {:?}",
            seen.values().map(|v| v.0).collect::<Vec<_>>()
        );
    }
    let (attempts,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox_attempts")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(attempts, 30, "{engine:?}: one attempt per message");
    drop((a, b));
}

per_engine!(police_transfer_is_delivered_signed_and_acknowledged);
per_engine!(two_servers_deliver_each_message_once);
per_engine!(scoped_tokens_and_reserved_channels);
per_engine!(dead_letters_and_manual_handoff_decisions);

/// A hand-off the line does not acknowledge in time is marked once (`handoff_overdue` on the
/// timeline) and the center's dashboard says so, with a link to the 待确认转警 queue.
async fn unacknowledged_handoffs_alert_the_center(engine: Engine) {
    let (rx, url) = receiver().await;
    rx.down.store(true, Ordering::SeqCst);
    let install = install(engine, &url).await;
    let token = install.token("alert-op", "operator");
    let server = serve(&install, &["--deadline-scan-seconds", "1"]);
    let base = server.base.clone();
    let c = create(&base, &token, "有人在砸我家的门，说要杀了我").await;
    let id = c["id"].as_str().unwrap().to_string();
    assert_eq!(c["handoff"]["state"], "awaiting", "{engine:?}: {c}");

    // Not yet late: no alert.
    let web = m110_e2e::install::login(&base, "disp1", PASSWORD).await;
    let dashboard = |web: reqwest::Client| {
        let base = base.clone();
        async move {
            web.get(format!("{base}/console/dashboard"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert!(
        !dashboard(web.clone())
            .await
            .contains("unacknowledged-handoffs")
    );

    // Ten minutes ago (past the default five): marked once, and the dashboard alerts.
    let store = install.store().await;
    sqlx::query("UPDATE cases SET handoff_at = handoff_at - 600000 WHERE public_id = $1")
        .bind(&id)
        .execute(store.pool())
        .await
        .unwrap();
    let v = eventually("hand-off marked overdue", Duration::from_secs(20), || {
        let (base, token, id) = (base.clone(), token.clone(), id.clone());
        async move {
            let v = case(&base, &token, &id).await;
            v["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["kind"] == "handoff_overdue")
                .then_some(v)
        }
    })
    .await;
    assert_eq!(v["handoff"]["state"], "awaiting", "{engine:?}: {v}");
    let html = dashboard(web).await;
    assert!(
        html.contains("id=\"unacknowledged-handoffs\""),
        "{engine:?}"
    );
    assert!(
        html.contains("1 起转警超过 5 分钟未获对方确认"),
        "{engine:?}"
    );
    assert!(
        html.contains("/console/queue?view=awaiting_police"),
        "{engine:?}"
    );
    // Later scans leave it marked once.
    let runs = |m: &str| {
        m.lines()
            .find(|l| l.starts_with("m110_job_runs_total{job=\"deadlines\"}"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let metrics = || {
        let base = base.clone();
        async move {
            reqwest::get(format!("{base}/metrics"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let before = runs(&metrics().await);
    eventually("two more deadline scans", Duration::from_secs(20), || {
        let m = metrics();
        async move { (runs(&m.await) >= before + 2.0).then_some(()) }
    })
    .await;
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM case_events e JOIN cases c ON c.id = e.case_id \
         WHERE c.public_id = $1 AND e.kind = 'handoff_overdue'",
    )
    .bind(&id)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(n, 1, "{engine:?}");
    drop(server);
}
per_engine!(unacknowledged_handoffs_alert_the_center);
