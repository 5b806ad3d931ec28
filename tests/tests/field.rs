//! The grid worker in the field (issue 10): patrol reports from the phone pages — with a photo,
//! placed by position or cell, sent twice and received once, settled on the spot — the center's
//! 网格任务 and the worker's answer, and household visits. Both engines; the browser test runs
//! at a phone viewport (390×844) and goes offline with DevTools' network emulation.

use std::time::Duration;

use m110_e2e::app::App;
use m110_e2e::browser::Browser;
use m110_e2e::{Engine, PASSWORD, csrf_of, eventually, get_html, login, per_engine};
use serde_json::{Value, json};

const CELL: &str = "350781001001";
/// Near 昭阳街道's centroid (the cell's township).
const LAT: f64 = 27.3411;
const LON: f64 = 117.4932;

/// A 640 × 480 photo, as a phone's camera would give (a gradient, so it is not trivially small).
fn photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

/// The value of the first `name="…" value="…"` input in a page.
fn input_value(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no input {name} in the page"));
    let rest = &page[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// A grid worker signed in to the console: the client, the CSRF token and a fresh report key.
async fn grid_worker(app: &App, name: &str) -> (reqwest::Client, String, String) {
    let client = login(&app.server.base, name, PASSWORD).await;
    let page = get_html(&client, &app.url("/console/grid/report")).await;
    (client, csrf_of(&page), input_value(&page, "key"))
}

/// Sends a patrol report as the page's script does (JSON back).
async fn send_report(
    app: &App,
    client: &reqwest::Client,
    fields: &[(&str, String)],
    photos: &[Vec<u8>],
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.clone());
    }
    for (i, p) in photos.iter().enumerate() {
        let part = reqwest::multipart::Part::bytes(p.clone())
            .file_name(format!("IMG_{i}.jpg"))
            .mime_str("image/jpeg")
            .unwrap();
        form = form.part("photos", part);
    }
    let resp = client
        .post(app.url("/console/grid/report"))
        .header("Accept", "application/json")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn case(app: &App, who: &str, id: &str) -> (u16, Value) {
    app.call(who, "GET", &format!("/api/v1/cases/{id}"), None)
        .await
}

per_engine!(patrol_reports_land_once_settle_on_the_spot_and_answer_tasks);
async fn patrol_reports_land_once_settle_on_the_spot_and_answer_tasks(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let (gw, csrf, key) = grid_worker(&app, "gw").await;
    let report = |key: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("key", key.to_string()),
            (
                "content",
                "巡查发现公太社区3号楼前路灯不亮，夜间行人看不清路".to_string(),
            ),
            ("lat", LAT.to_string()),
            ("lon", LON.to_string()),
            ("address", "公太社区3号楼".to_string()),
        ]
    };
    let jpeg = photo();

    // Sent, then sent again (the answer was lost): one case, with its photo once.
    let (s, first) = send_report(&app, &gw, &report(&key), std::slice::from_ref(&jpeg)).await;
    assert_eq!(s, 201, "{engine:?}: {first}");
    assert_eq!(first["created"], true);
    let id = first["case"].as_str().unwrap().to_string();
    let (s, again) = send_report(&app, &gw, &report(&key), std::slice::from_ref(&jpeg)).await;
    assert_eq!(s, 200, "{engine:?}: {again}");
    assert_eq!(
        (again["case"].as_str(), again["created"].as_bool()),
        (Some(id.as_str()), Some(false))
    );
    let (s, c) = case(&app, "disp", &id).await;
    assert_eq!(s, 200, "{engine:?}: {c}");
    assert_eq!(c["channel"], "grid", "{c}");
    // The cell the worker walks, from the phone's position (their only cell).
    assert_eq!(c["grid"]["code"], CELL, "{c}");
    let (s, files) = app
        .call(
            "disp",
            "GET",
            &format!("/api/v1/cases/{id}/attachments"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{files}");
    assert_eq!(files["items"].as_array().unwrap().len(), 1, "{files}");
    // In the center's queue once.
    let (_, grid_cases) = app
        .call("disp", "GET", "/api/v1/cases?channel=grid", None)
        .await;
    let ids: Vec<&str> = grid_cases["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(ids, vec![id.as_str()], "{engine:?}");

    // Bad input names its field; nothing is made.
    let (s, bad) = send_report(&app, &gw, &report("x"), &[]).await;
    assert_eq!(s, 422, "{bad}");
    assert_eq!(bad["error"]["field"], "key", "{bad}");
    let mut no_text = report("r-no-text-0001");
    no_text[2].1 = String::new();
    let (s, bad) = send_report(&app, &gw, &no_text, &[]).await;
    assert_eq!(s, 422, "{bad}");
    assert_eq!(bad["error"]["field"], "content", "{bad}");
    let (s, bad) = send_report(
        &app,
        &gw,
        &report("r-not-a-photo-1"),
        &[b"%!PS-Adobe".to_vec()],
    )
    .await;
    assert_eq!(s, 422, "{bad}");
    assert_eq!(bad["error"]["field"], "photos", "{bad}");
    let (_, after) = app
        .call("disp", "GET", "/api/v1/cases?channel=grid", None)
        .await;
    assert_eq!(
        after["total"], 1,
        "{engine:?}: nothing made by refused reports"
    );

    // Another worker cannot reuse a key (nor see the case).
    app.install
        .user("gw2", "grid_worker", &["--grid", "350781002001"], PASSWORD);
    let (gw2, csrf2, _) = grid_worker(&app, "gw2").await;
    let mut theirs = report(&key);
    theirs[0].1 = csrf2;
    let (s, v) = send_report(&app, &gw2, &theirs, &[]).await;
    assert_eq!(s, 409, "{engine:?}: {v}");

    // 就地解决: received and closed at once, counted apart.
    let mut on_spot = report("r-on-the-spot-01");
    on_spot[2].1 = "公太社区健身器材螺丝松动".into();
    on_spot.push(("on_spot", "1".into()));
    on_spot.push(("on_spot_note", "已现场拧紧螺丝，器材可正常使用".into()));
    let (s, v) = send_report(&app, &gw, &on_spot, std::slice::from_ref(&jpeg)).await;
    assert_eq!(s, 201, "{engine:?}: {v}");
    let spot = v["case"].as_str().unwrap().to_string();
    let (_, c) = case(&app, "disp", &spot).await;
    assert_eq!(c["status"], "closed", "{c}");
    let month = chrono_month();
    let (s, summary) = app
        .call(
            "analyst",
            "GET",
            &format!("/api/v1/analytics/summary?month={month}"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{summary}");
    assert_eq!(
        summary["figures"]["solved_on_spot"], 1,
        "{engine:?}: {summary}"
    );

    // 网格任务: a phone case in the cell goes to its grid workers, who answer.
    let body = json!({"channel": "phone", "content": "来电人反映情况较复杂，需要中心人工研判",
        "location": {"grid_code": CELL}});
    let (s, v) = app.call("op", "POST", "/api/v1/cases", Some(&body)).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["status"], "received", "{v}");
    let task = v["id"].as_str().unwrap().to_string();
    assert_eq!(
        case(&app, "gw", &task).await.0,
        403,
        "not the grid's before the task"
    );
    let act = |who: &'static str, body: Value| {
        let app = &app;
        let task = task.clone();
        async move {
            app.call(
                who,
                "POST",
                &format!("/api/v1/cases/{task}/actions"),
                Some(&body),
            )
            .await
        }
    };
    let (s, v) = act(
        "disp",
        json!({"action": "grid_assign", "note": "请上门核实"}),
    )
    .await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    let (s, mine) = app.call("gw", "GET", "/api/v1/cases", None).await;
    assert_eq!(s, 200);
    assert!(
        mine.to_string().contains(&task),
        "{engine:?}: the task is the grid's now"
    );
    let (s, v) = act("gw", json!({"action": "grid_reply"})).await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("note")),
        "{v}"
    );
    let (s, v) = act(
        "gw",
        json!({"action": "grid_reply", "note": "已上门核实：楼道堆物，已请物业清理"}),
    )
    .await;
    assert_eq!(s, 200, "{engine:?}: {v}");
    let (s, v) = act("gw", json!({"action": "grid_reply", "note": "again"})).await;
    assert_eq!(s, 409, "answered once: {v}");
    // Answered, it stays the grid's to see; the other cell's worker never sees it.
    assert_eq!(case(&app, "gw", &task).await.0, 200);
    let foreign = gw2
        .get(app.url(&format!("/console/cases/{task}")))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(foreign.status().as_u16(), 403 | 404),
        "{engine:?}: {}",
        foreign.status()
    );
    let (_, events) = case(&app, "disp", &task).await;
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        kinds.contains(&"grid_assigned") && kinds.contains(&"grid_replied"),
        "{engine:?}: {events}"
    );

    // 走访: a visit corrects the registry, audited with what changed.
    let (s, list) = app
        .call(
            "sup",
            "GET",
            &format!("/api/v1/households?grid={CELL}"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{list}");
    let hid = list["items"][0]["id"].as_i64().unwrap();
    let resp = gw
        .post(app.url(&format!("/console/grid/households/{hid}/visit")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("situation", "needs_help"),
            ("notes", "老人腿脚不便，需要送餐服务"),
            ("members", "4"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("走访已记录") || page.contains("Visit recorded"),
        "{page}"
    );
    assert!(page.contains("老人腿脚不便"), "the visit is listed");
    let (_, h) = app
        .call("sup", "GET", &format!("/api/v1/households/{hid}"), None)
        .await;
    assert_eq!(h["members"], 4, "{engine:?}: {h}");
    let (s, audit) = app
        .call(
            "auditor",
            "GET",
            "/api/v1/audit?action=household.visit",
            None,
        )
        .await;
    assert_eq!(s, 200, "{audit}");
    let text = audit.to_string();
    assert!(
        text.contains("household.visit") && text.contains("members"),
        "{engine:?}: {audit}"
    );
    // Outside the worker's cells: not found, nothing written.
    let (_, other) = app
        .call("sup", "GET", "/api/v1/households?grid=350781002001", None)
        .await;
    let foreign = other["items"][0]["id"].as_i64().unwrap();
    let resp = gw
        .post(app.url(&format!("/console/grid/households/{foreign}/visit")))
        .form(&[("csrf", csrf.as_str()), ("situation", "stable")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404, "{engine:?}");
}

/// This month in Asia/Shanghai, `YYYY-MM`.
fn chrono_month() -> String {
    let ms = m110_e2e::now_ms() + 8 * 3_600_000;
    let days = ms.div_euclid(86_400_000);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}")
}

per_engine!(a_grid_worker_reports_from_the_phone_offline_and_online);
async fn a_grid_worker_reports_from_the_phone_offline_and_online(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let base = app.server.base.clone();
    let dir = tempfile::tempdir().unwrap();
    let photo_path = dir.path().join("street-light.jpg");
    std::fs::write(&photo_path, photo()).unwrap();

    let b = Browser::start().await;
    b.set_window(390, 844).await;
    b.set_position(&base, LAT, LON).await;
    b.goto(&format!("{base}/console/login")).await;
    b.fill("#username", "gw").await;
    b.fill("#password", PASSWORD).await;
    b.click("#login-submit").await;
    b.find("#go-report").await;
    // The cell's cameras, with their platform link.
    let cameras = b.text(".cell-cameras summary").await;
    let shown: usize = cameras.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(shown >= 1, "{engine:?}: {cameras}");
    assert!(
        b.source().await.contains("公太社区中心广场"),
        "{engine:?}: the camera in the worker's cell"
    );
    b.screenshot(&format!("{}/field-01-grid", engine.as_str()))
        .await;

    // Online: a report with a photo and the phone's position.
    b.click("#go-report").await;
    b.find("#patrol-form").await;
    eventually("the phone's position", Duration::from_secs(10), || async {
        (!b.attr("#lat", "value").await.unwrap_or_default().is_empty()).then_some(())
    })
    .await;
    b.fill("#content", "巡查发现公太社区3号楼前路灯不亮").await;
    b.upload("#photos", &photo_path).await;
    b.find("#previews img").await;
    b.screenshot(&format!("{}/field-02-report", engine.as_str()))
        .await;
    b.click("#submit-report").await;
    b.wait_for(".flash.ok", Duration::from_secs(20)).await;
    let flash = b.text(".flash.ok").await;
    assert!(flash.contains("MS"), "{engine:?}: {flash}");
    let (_, listed) = app
        .call("disp", "GET", "/api/v1/cases?channel=grid", None)
        .await;
    assert_eq!(listed["total"], 1, "{engine:?}: {listed}");
    // …and in the center's queue, as a dispatcher's console shows it (grid channel filter).
    let reported = listed["items"][0]["id"].as_str().unwrap().to_string();
    let center = login(&base, "disp", PASSWORD).await;
    let queue = get_html(&center, &app.url("/console/queue?view=all&channel=grid")).await;
    assert!(
        queue.contains(&reported),
        "{engine:?}: {reported} not in the queue"
    );

    // Offline: kept on the phone, sent once when the network is back.
    b.click("#go-report").await;
    b.find("#patrol-form").await;
    b.set_offline(true).await;
    b.fill("#content", "公太社区5号楼下水道井盖缺失，存在安全隐患")
        .await;
    b.select("#cell", CELL).await;
    b.click("#submit-report").await;
    b.wait_for("#outbox:not([hidden])", Duration::from_secs(10))
        .await;
    b.exec("window.scrollTo(0, 0);", vec![]).await;
    assert!(
        b.text(".flash.ok").await.contains("联网后自动发送"),
        "{engine:?}"
    );
    b.screenshot(&format!("{}/field-03-offline", engine.as_str()))
        .await;
    let (_, still) = app
        .call("disp", "GET", "/api/v1/cases?channel=grid", None)
        .await;
    assert_eq!(still["total"], 1, "{engine:?}: nothing sent while offline");
    b.set_offline(false).await;
    eventually(
        "the kept report to arrive",
        Duration::from_secs(20),
        || async {
            let (_, v) = app
                .call("disp", "GET", "/api/v1/cases?channel=grid", None)
                .await;
            (v["total"] == 2).then_some(())
        },
    )
    .await;
    eventually("the outbox to empty", Duration::from_secs(10), || async {
        b.exists("#outbox[hidden]").await.then_some(())
    })
    .await;
    // Back online again and reloaded: nothing is sent twice.
    b.goto(&format!("{base}/console/grid")).await;
    b.find("#my-cells").await;
    let (_, v) = app
        .call("disp", "GET", "/api/v1/cases?channel=grid", None)
        .await;
    assert_eq!(v["total"], 2, "{engine:?}: {v}");
    b.screenshot(&format!("{}/field-04-back-online", engine.as_str()))
        .await;

    // A household visit.
    b.click("#go-visits").await;
    b.find("#households a").await;
    b.click("#households a").await;
    b.find("#visit-form").await;
    b.click("input[name=situation][value=needs_help]").await;
    b.fill("#notes", "老人独居，行动不便，需要定期送餐").await;
    b.click("#submit-visit").await;
    b.wait_for("li.visit", Duration::from_secs(10)).await;
    assert!(b.text("#visits").await.contains("定期送餐"), "{engine:?}");
    b.screenshot(&format!("{}/field-05-visit", engine.as_str()))
        .await;
}
