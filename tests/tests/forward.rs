//! The one-number loop's other half, on both engines: a case for a unit the county reaches
//! through the prefecture's 12345 platform is forwarded there over Open311 and comes back
//! closed. The 12345 platform is a second, real `m110d` (a plain Shaowu install): the county's
//! case is POSTed to its `requests.json` with the county's Open311 key, the id it answers is
//! stored and signs the county's case; when the 12345 platform handles and closes its case, the
//! county's status pull closes the county's case too, with the platform's note.
//! A refusal by the platform (an unknown service code) is permanent: the message is dead at
//! once, with the platform's reason, instead of being retried for hours.

use std::time::Duration;

use m110_e2e::server::Server;
use m110_e2e::{Engine, Install, eventually, per_engine};
use serde_json::{Value, json};

const KEY_ENV: &str = "CITY_12345_OPEN311_KEY";

/// Shaowu whose road cases go to the prefecture's 12345 at `endpoint`.
async fn county(engine: Engine, endpoint: &str) -> Install {
    Install::provision_shaowu_with(engine, |yaml| {
        yaml.replacen(
            "\nexisting_platforms:\n",
            &format!(
                "\nexisting_platforms:\n  - id: city-12345\n    kind: hotline_12345\n    \
                 name: \"南平市12345政务服务便民热线\"\n    integration: {{type: open311, \
                 endpoint: \"{endpoint}\", secret_env: {KEY_ENV}}}\n"
            ),
            1,
        )
        .replacen(
            "\nunits:\n",
            "\nunits:\n  - {id: city-hotline, kind: department, name: \"南平市12345转办\", \
             platform: city-12345, functions: [市级事项转办]}\n",
            1,
        )
        .replace(
            "{category: [roads], unit: transport}",
            "{category: [roads], unit: city-hotline}",
        )
    })
    .await
}

fn serve_county(install: &Install, key: &str) -> Server {
    let mut cmd = std::process::Command::new(m110_e2e::bin("m110d"));
    cmd.arg("serve")
        .arg("--install")
        .arg(install.path())
        .args(["--listen", "127.0.0.1:0", "--delivery-backoff-ms", "100"])
        .args(["--status-pull-ms", "200"])
        .env(KEY_ENV, key);
    Server::spawn(cmd)
}

fn scoped_token(install: &Install, name: &str, role: &str, scope: &str) -> String {
    let out = install
        .m110(&[
            "token", "add", "--name", name, "--role", role, "--scope", scope,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", m110_e2e::output_text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string()
}

async fn get(base: &str, token: &str, path: &str) -> Value {
    let r = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "GET {path}");
    r.json().await.unwrap()
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

async fn act(base: &str, token: &str, id: &str, body: Value) {
    let (status, v) = post(base, token, &format!("/api/v1/cases/{id}/actions"), body).await;
    assert_eq!(status, 200, "{v}");
}

async fn forwarded_to_12345_and_closed_by_the_status_pull(engine: Engine) {
    // The prefecture's 12345 platform: another m110d, whose Open311 key the county holds.
    let city = Install::provision(engine, "shaowu").await;
    let city_key = scoped_token(&city, "county-shaowu", "operator", "open311_client");
    let city_admin = city.token("city-admin", "admin");
    let city_server = city.serve(&[]);
    let city_base = city_server.base.clone();

    let county = county(engine, &format!("{city_base}/open311/v2")).await;
    let op = county.token("op", "operator");
    let server = serve_county(&county, &city_key);
    let base = server.base.clone();

    // A road case routes to the 12345 unit: dispatched here, forwarded there.
    let (status, c) = post(
        &base,
        &op,
        "/api/v1/cases",
        json!({"channel": "phone", "content": "国道316线路面塌了一个大坑，车辆绕行很危险",
               "category": "roads", "caller": {"phone": "13905990001", "name": "李先生"}}),
    )
    .await;
    assert_eq!(status, 201, "{engine:?}: {c}");
    assert_eq!(c["status"], "dispatched", "{engine:?}: {c}");
    assert_eq!(c["unit"]["id"], "city-hotline", "{engine:?}: {c}");
    let id = c["id"].as_str().unwrap().to_string();

    // The platform took it: its id is on the case, which the platform's taking has signed.
    let taken = eventually(
        "forward taken by the 12345",
        Duration::from_secs(20),
        || {
            let (base, op, id) = (base.clone(), op.clone(), id.clone());
            async move {
                let v = get(&base, &op, &format!("/api/v1/cases/{id}")).await;
                v["forward"]["reference"].as_str().is_some().then_some(v)
            }
        },
    )
    .await;
    assert_eq!(taken["status"], "signed", "{engine:?}: {taken}");
    assert_eq!(taken["forward"]["platform"], "city-12345");
    let remote = taken["forward"]["reference"].as_str().unwrap().to_string();

    // There it is an Open311 case with our words, our number and the caller's phone.
    let there = get(&city_base, &city_admin, &format!("/api/v1/cases/{remote}")).await;
    assert_eq!(there["channel"], "open311", "{engine:?}: {there}");
    assert!(
        there["content"].as_str().unwrap().contains(&id),
        "{engine:?}: {there}"
    );
    assert_eq!(there["category"]["code"], "roads");
    assert_eq!(there["caller"]["phone"], "13905990001");
    assert_eq!(there["status"], "dispatched", "{engine:?}: {there}");

    // Still open there: the pull leaves the county's case alone.
    let store = county.store().await;
    eventually("status pulls asked", Duration::from_secs(10), || {
        let base = base.clone();
        async move {
            let m = reqwest::get(format!("{base}/metrics"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            m.lines()
                .any(|l| l.contains("status_pull") && l.contains("asked"))
                .then_some(())
        }
    })
    .await;
    assert_eq!(
        get(&base, &op, &format!("/api/v1/cases/{id}")).await["status"],
        "signed"
    );

    // Handled and closed at the 12345 …
    // (Its unit signs and replies, its center follows up and closes: separation of duties.)
    let city_unit = there["unit"]["id"].as_str().unwrap().to_string();
    city.user(
        "city-unit",
        "unit_handler",
        &["--unit", &city_unit],
        m110_e2e::PASSWORD,
    );
    let city_handler = city.token("city-unit", "unit_handler");
    for (who, body) in [
        (&city_handler, json!({"action": "sign"})),
        (
            &city_handler,
            json!({"action": "reply", "note": "交通部门已组织抢修，路面已恢复通行"}),
        ),
        (
            &city_admin,
            json!({"action": "follow_up", "satisfaction": "satisfied"}),
        ),
        (&city_admin, json!({"action": "close"})),
    ] {
        act(&city_base, who, &remote, body).await;
    }
    // … closed here by the status pull, with the platform's note on the timeline.
    let closed = eventually("closed by the status pull", Duration::from_secs(20), || {
        let (base, op, id) = (base.clone(), op.clone(), id.clone());
        async move {
            let v = get(&base, &op, &format!("/api/v1/cases/{id}")).await;
            (v["status"] == "closed").then_some(v)
        }
    })
    .await;
    let events = closed["events"].as_array().cloned().unwrap_or_default();
    let last = events.last().expect("events");
    assert_eq!(last["kind"], "closed", "{engine:?}: {closed}");
    assert_eq!(last["detail"]["via"], "status_pull", "{engine:?}: {last}");
    assert_eq!(last["detail"]["reference"], remote.as_str());
    assert!(
        events.iter().any(|e| e["kind"] == "replied"),
        "{engine:?}: {closed}"
    );
    // Once: a later pull finds nothing open.
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM case_events e JOIN cases c ON c.id = e.case_id \
                        WHERE c.public_id = $1 AND e.kind = 'closed'",
    )
    .bind(&id)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(n, 1, "{engine:?}");

    // A refusal is permanent: with a key the platform does not accept, the forward is dead
    // at once, with the platform's reason, instead of being retried for hours.
    drop(server);
    let server = serve_county(&county, "m110_not-a-key");
    let base = server.base.clone();
    let (status, c2) = post(
        &base,
        &op,
        "/api/v1/cases",
        json!({"channel": "phone", "content": "村道桥梁护栏被撞坏", "category": "roads"}),
    )
    .await;
    assert_eq!(status, 201, "{c2}");
    let id2 = c2["id"].as_str().unwrap().to_string();
    let (state, attempts, error): (String, i64, Option<String>) =
        eventually("refused forward is dead", Duration::from_secs(20), || {
            let (store, id2) = (&store, id2.clone());
            async move {
                let r: Option<(String, i64, Option<String>)> = sqlx::query_as(
                    "SELECT state, attempts, last_error FROM outbox \
                     WHERE topic = 'case.forwarded' AND payload LIKE $1",
                )
                .bind(format!("%{id2}%"))
                .fetch_optional(store.pool())
                .await
                .unwrap();
                r.filter(|r| r.0 == "dead")
            }
        })
        .await;
    assert_eq!(state, "dead");
    assert_eq!(attempts, 1, "{engine:?}: a 403 is not retried");
    let error = error.unwrap_or_default();
    assert!(error.contains("api_key"), "{engine:?}: {error}");
    drop(server);
    drop(city_server);
}
per_engine!(forwarded_to_12345_and_closed_by_the_status_pull);
