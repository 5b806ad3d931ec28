//! Early warning end to end on the Shaowu example, on both engines: eight weeks of background
//! requests (every village, a few categories, weekday rhythm) imported with `m110 import`, and a
//! burst of road reports in one village over the last two days. Then:
//!
//! - `m110 alerts --replay` finds the burst — its category, its village, detected within a day
//!   of its start — and raises nothing on the quiet weeks before it;
//! - the live job of `m110d` raises the same alert, once (two ticks, one alert);
//! - a dispatcher acknowledges it and dispatches a proactive case for it, which intake routes to
//!   the roads unit; the case names the alert; resolving ends it; a dismissal needs a reason;
//! - the analyst reads alerts but cannot act; the console's alerts pages show it (in Chromium
//!   too: without it this test FAILS, CI installs it), and the month's report lists it.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use m110_e2e::app::App;
use m110_e2e::history::{Lcg, villages};
use m110_e2e::{Engine, Install, eventually, get_html, metric, output_text, per_engine};
use serde_json::{Value, json};

/// Days of background before today.
const DAYS: i64 = 56;

fn date(ms: i64) -> String {
    m110_runtime::model::time::shanghai(ms)
        .format("%Y-%m-%d")
        .to_string()
}

/// The history CSV and the burst's village.
async fn history(app: &App) -> (String, String) {
    let villages = villages(&app.install).await;
    let hot = villages[villages.len() / 3].clone();
    let now = m110_runtime::model::time::now_ms();
    let today = m110_runtime::model::time::day_start_ms(&date(now)).unwrap();
    let mut rng = Lcg(2026);
    let mut csv = String::from(
        "received_at,channel,category,grid_code,content,external_id,status,closed_at\n",
    );
    let mut n = 0;
    let mut row = |csv: &mut String, at: i64, cat: &str, grid: &str, text: &str| {
        n += 1;
        let t = m110_runtime::model::time::render_time(at);
        let closed = m110_runtime::model::time::render_time(at + 3_600_000);
        let _ = writeln!(
            csv,
            "{t},phone,{cat},{grid},{text} {n},BG-{n},closed,{closed}"
        );
    };
    for d in (1..=DAYS).rev() {
        let day = today - d * 86_400_000;
        // About 60 a day over the county, fewer at weekends.
        let weekday = (day / 86_400_000 + 3).rem_euclid(7);
        let k = if weekday >= 5 { 40 } else { 60 };
        for _ in 0..k {
            let cat = ["roads", "environment", "housing", "disputes"][rng.next(4) as usize];
            let grid = &villages[rng.next(villages.len() as u64) as usize];
            let at = day + (8 + rng.next(12) as i64) * 3_600_000;
            row(&mut csv, at, cat, grid, "居民反映问题");
        }
    }
    // The burst: 14 road reports in one village, yesterday and today (before now).
    for i in 0..14 {
        let at = if i < 7 {
            today - 86_400_000 + (9 + i) * 3_600_000
        } else {
            (now - 60_000 * (i + 1)).max(today)
        };
        row(&mut csv, at, "roads", &hot, "村口道路塌陷 车辆无法通行");
    }
    (csv, hot)
}

/// The bodies a webhook receiver on 127.0.0.1 was sent, and its URL.
async fn receiver() -> (Arc<Mutex<Vec<Value>>>, String) {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let keep = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/roads",
        axum::routing::post(move |body: String| {
            let keep = Arc::clone(&keep);
            async move {
                keep.lock()
                    .unwrap()
                    .push(serde_json::from_str(&body).unwrap_or(Value::Null));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (seen, format!("http://{addr}/roads"))
}

async fn the_burst_is_found_acted_on_and_replayed(engine: Engine) {
    // The roads unit (交通运输局) has its own work-order system behind a webhook: the alert on
    // its category goes there through the delivery worker.
    let (seen, url) = receiver().await;
    let install = Install::provision_shaowu_with(engine, |yaml| {
        yaml.replacen(
            "\nexisting_platforms:\n",
            &format!(
                "\nexisting_platforms:\n  - id: roads-orders\n    kind: other\n    \
                 name: \"邵武市交通运输局工单系统\"\n    integration: {{type: webhook, \
                 url: \"{url}\"}}\n"
            ),
            1,
        )
        .replacen(
            "    name: \"邵武市交通运输局\"\n",
            "    name: \"邵武市交通运输局\"\n    platform: roads-orders\n",
            1,
        )
    })
    .await;
    let mut app = App::with_install(install, &[]);
    let (csv, hot) = history(&app).await;
    let install = &app.install;
    let file = install.scratch().join("history.csv");
    std::fs::write(&file, csv).unwrap();
    let out = install
        .m110(&["import", "cases", file.to_str().unwrap()])
        .args(install.database_args())
        .output()
        .unwrap();
    assert!(out.status.success(), "{engine:?}: {}", output_text(&out));

    // The backtest over the last four weeks.
    let now = m110_runtime::model::time::now_ms();
    let from = date(now - 27 * 86_400_000);
    let to = date(now);
    let out = install
        .m110(&["alerts", "--replay", &from, &to, "--format", "json"])
        .args(install.database_args())
        .output()
        .unwrap();
    assert!(out.status.success(), "{engine:?}: {}", output_text(&out));
    let replayed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let hits: Vec<&Value> = replayed
        .iter()
        .filter(|a| {
            a["category"] == "roads"
                && a["grid_codes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|g| hot.starts_with(g.as_str().unwrap()))
        })
        .collect();
    assert!(
        !hits.is_empty(),
        "{engine:?}: the burst was not found: {replayed:#?}"
    );
    let yesterday = date(now - 86_400_000);
    assert!(
        hits.iter()
            .any(|a| a["detected_on"] == yesterday.as_str() || a["detected_on"] == to.as_str()),
        "{hits:#?}"
    );
    // The quiet weeks raise (almost) nothing: at most one chance alert per method.
    let quiet = replayed
        .iter()
        .filter(|a| a["detected_on"].as_str().unwrap() < yesterday.as_str())
        .count();
    assert!(
        quiet <= 2,
        "{engine:?}: {quiet} alerts on quiet days: {replayed:#?}"
    );

    // Live: the job raises it, once, however many ticks run.
    app.server = install.serve(&["--warning-ms", "300"]);
    let alert = eventually("the live alert", Duration::from_secs(60), || async {
        let (_, v) = app
            .call("disp", "GET", "/api/v1/alerts?category=roads", None)
            .await;
        v["items"].as_array().and_then(|items| {
            items
                .iter()
                .find(|a| {
                    a["grid_codes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|g| hot.starts_with(g.as_str().unwrap()))
                })
                .cloned()
        })
    })
    .await;
    let id = alert["id"].as_i64().unwrap();
    assert_eq!(alert["state"], "new");
    // Delivered to the roads unit's platform, once, naming the category and the village.
    let delivered = eventually(
        "alert.raised at the roads unit",
        Duration::from_secs(60),
        || {
            let seen = Arc::clone(&seen);
            async move {
                let got = seen.lock().unwrap().clone();
                let mine: Vec<Value> = got
                    .into_iter()
                    .filter(|e| e["type"] == "alert.raised" && e["data"]["alert_id"] == id)
                    .collect();
                (!mine.is_empty()).then_some(mine)
            }
        },
    )
    .await;
    let event = &delivered[0];
    assert_eq!(event["data"]["category"], "roads", "{event}");
    assert!(
        event["data"]["grid_codes"]
            .as_array()
            .is_some_and(|g| g.iter().any(|g| hot.starts_with(g.as_str().unwrap_or("-")))),
        "{event}"
    );
    // Two more ticks of the job (counted in /metrics), and still one alert for the burst (and
    // one message to the roads unit).
    let runs = || async {
        let text = reqwest::get(app.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        metric(&text, "m110_job_runs_total{job=\"early_warning\"}").unwrap_or(0.0)
    };
    let before = runs().await;
    eventually("two more ticks", Duration::from_secs(30), || async {
        (runs().await >= before + 2.0).then_some(())
    })
    .await;
    let (_, all) = app.call("disp", "GET", "/api/v1/alerts", None).await;
    let same: Vec<&Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["key"] == alert["key"])
        .collect();
    assert_eq!(same.len(), 1, "one alert per key: {all}");
    let messages = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "alert.raised" && e["data"]["alert_id"] == id)
        .count();
    assert_eq!(messages, 1, "{engine:?}: one message per alert");

    // The analyst reads, cannot act; bad input names its field.
    let (s, _) = app
        .call("analyst", "GET", &format!("/api/v1/alerts/{id}"), None)
        .await;
    assert_eq!(s, 200);
    let ack = json!({"action": "acknowledge"});
    let path = format!("/api/v1/alerts/{id}/actions");
    let (s, _) = app.call("analyst", "POST", &path, Some(&ack)).await;
    assert_eq!(s, 403);
    let (s, e) = app
        .call("disp", "GET", "/api/v1/alerts?state=open", None)
        .await;
    assert_eq!(
        (s, e["error"]["field"].clone()),
        (422, json!("state")),
        "{e}"
    );

    // Acknowledge, dispatch (a proactive case routed to the roads unit), resolve.
    let (s, v) = app.call("disp", "POST", &path, Some(&ack)).await;
    assert_eq!((s, v["state"].clone()), (200, json!("acknowledged")), "{v}");
    let (s, v) = app.call("disp", "POST", &path, Some(&ack)).await;
    assert_eq!(s, 409, "acknowledged twice: {v}");
    let (s, v) = app
        .call("disp", "POST", &path, Some(&json!({"action": "dispatch"})))
        .await;
    assert_eq!((s, v["state"].clone()), (200, json!("dispatched")), "{v}");
    let case_id = v["case_public_id"].as_str().unwrap().to_string();
    let (_, case) = app
        .call("disp", "GET", &format!("/api/v1/cases/{case_id}"), None)
        .await;
    assert_eq!(case["category"]["code"], "roads", "{case}");
    assert_eq!(case["unit"]["id"], "transport", "{case}");
    assert!(
        case["content"]
            .as_str()
            .unwrap()
            .contains(&format!("#{id}")),
        "{case}"
    );
    let (s, v) = app
        .call("disp", "POST", &path, Some(&json!({"action": "resolve"})))
        .await;
    assert_eq!((s, v["state"].clone()), (200, json!("resolved")), "{v}");
    let (s, e) = app
        .call("disp", "POST", &path, Some(&json!({"action": "dismiss"})))
        .await;
    assert_eq!(
        (s, e["error"]["field"].clone()),
        (422, json!("reason")),
        "{e}"
    );

    // The console lists and shows it.
    let console = m110_e2e::login(&app.server.base, "disp", m110_e2e::PASSWORD).await;
    let html = get_html(&console, &app.url("/console/alerts?state=resolved")).await;
    assert!(html.contains(&format!("id=\"alert-{id}\"")), "{engine:?}");
    let page = get_html(&console, &app.url(&format!("/console/alerts/{id}"))).await;
    assert!(
        page.contains(&case_id) && page.contains("<svg"),
        "{engine:?}"
    );

    // The month's report lists it.
    let month = m110_runtime::model::time::shanghai(now)
        .format("%Y-%m")
        .to_string();
    let md = install.scratch().join("report.md");
    let out = install
        .m110(&["report", "--period", &month, "-o", md.to_str().unwrap()])
        .args(install.database_args())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    let md = std::fs::read_to_string(md).unwrap();
    assert!(md.contains(&format!("| #{id} |")), "{md}");

    // What the dispatcher sees, in a browser.
    let b = m110_e2e::browser::Browser::start().await;
    b.set_window(1280, 1200).await;
    b.goto(&app.url("/console/login")).await;
    b.fill("#username", "disp").await;
    b.fill("#password", m110_e2e::PASSWORD).await;
    b.click("#login-submit").await;
    b.wait_for("nav.mainnav", Duration::from_secs(20)).await;
    b.goto(&app.url(&format!("/console/alerts/{id}"))).await;
    b.wait_for("#alert-state", Duration::from_secs(20)).await;
    assert!(b.text("#alert-case").await.contains(&case_id));
    b.screenshot(&format!("{}/alert", engine.as_str())).await;
}

per_engine!(the_burst_is_found_acted_on_and_replayed);

/// 一事多诉: the same street light reported five ways at one crossing; three other problems at
/// the same crossing. Each report of the light lists the earlier ones as possibly the same
/// problem; the other problems list none of them; the console's case page shows the list.
async fn one_problem_many_callers_are_suggested(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let take = |text: &'static str| {
        let app = &app;
        async move {
            let body = json!({"channel": "phone", "content": text,
                "location": {"grid_code": "350781001001"}, "emergency": {"line": null}});
            let (s, v) = app.call("op", "POST", "/api/v1/cases", Some(&body)).await;
            assert_eq!(s, 201, "{text}: {v}");
            v["id"].as_str().unwrap().to_string()
        }
    };
    let mut light = Vec::new();
    for text in [
        "和平路口的路灯坏了好几天，晚上很黑",
        "和平路与中山路交叉口路灯不亮",
        "反映和平路口路灯晚上不亮，存在安全隐患",
        "和平路那个十字路口的灯坏了",
        "和平路路口路灯已经三天没亮了请尽快修",
    ] {
        light.push(take(text).await);
    }
    let mut other = Vec::new();
    for text in [
        "和平路口有人乱倒建筑垃圾",
        "和平路口噪音扰民，夜里施工",
        "和平路口的下水道堵了",
    ] {
        other.push(take(text).await);
    }
    let last = app.similar("op", &light[4]).await;
    for earlier in &light[..4] {
        assert!(
            last.contains(earlier),
            "{engine:?}: {earlier} missing from {last:?}"
        );
    }
    for o in &other {
        assert!(
            !last.contains(o),
            "{engine:?}: {o} is another problem: {last:?}"
        );
        let theirs = app.similar("op", o).await;
        assert!(
            theirs.iter().all(|id| !light.contains(id)),
            "{engine:?}: {o} lists the light: {theirs:?}"
        );
    }
    // The analyst reads no cases, so no similar ones either.
    let (s, _) = app
        .call(
            "analyst",
            "GET",
            &format!("/api/v1/cases/{}/similar", light[0]),
            None,
        )
        .await;
    assert_eq!(s, 403);
    let console = m110_e2e::login(&app.server.base, "op", m110_e2e::PASSWORD).await;
    let page = get_html(&console, &app.url(&format!("/console/cases/{}", light[4]))).await;
    assert!(
        page.contains("id=\"similar\"") && page.contains(&light[0]),
        "{engine:?}"
    );
}

per_engine!(one_problem_many_callers_are_suggested);
