//! Exports and the audit API, on both engines, against the real `m110d`:
//!
//! - a supervisor exports the queue's 全部 search as CSV and XLSX: every case the search finds,
//!   a citizen's `=HYPERLINK(…)` neutralized in the CSV and kept as text in the XLSX (read back
//!   with calamine), the landline as written; a unit handler's export holds their unit's cases
//!   only; every export is audited with its row count;
//! - the auditor reads `GET /api/v1/audit` (filters, paging by `before`, CSV), which an operator
//!   may not; a bad date is a 422 naming the field; reading the log is itself audited.

use calamine::Reader;
use m110_e2e::{Engine, Install, PASSWORD, per_engine};
use serde_json::{Value, json};

async fn exports_and_the_audit_log(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    let op = install.token("op", "operator");
    let auditor = install.token("auditor", "auditor");
    install.user("sup", "supervisor", &[], PASSWORD);
    install.user(
        "transport1",
        "unit_handler",
        &["--unit", "transport"],
        PASSWORD,
    );
    let server = install.serve(&[]);
    let base = server.base.clone();
    let http = reqwest::Client::new();
    let create = |content: &'static str, category: &'static str, phone: &'static str| {
        let (http, base, op) = (http.clone(), base.clone(), op.clone());
        async move {
            let r = http
                .post(format!("{base}/api/v1/cases"))
                .bearer_auth(&op)
                .json(
                    &json!({"channel": "phone", "content": content, "category": category,
                              "caller": {"phone": phone, "name": "王建国"}}),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let formula = create(
        "=HYPERLINK(\"http://evil.example\",\"点我\") 路灯坏了",
        "public_facilities",
        "0599-6301234",
    )
    .await;
    let road = create("村道塌方，车辆无法通行", "roads", "13905990001").await;
    create("请问低保怎么申请", "consultation", "13905990002").await;

    let sup = m110_e2e::login(&base, "sup", PASSWORD).await;
    let get = |client: reqwest::Client, path: String| async move {
        let r = client.get(path).send().await.unwrap();
        let status = r.status().as_u16();
        let ctype = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, ctype, r.bytes().await.unwrap().to_vec())
    };
    let (s, ctype, csv) = get(
        sup.clone(),
        format!("{base}/console/queue/export?view=all&format=csv"),
    )
    .await;
    assert_eq!(s, 200, "{engine:?}");
    assert!(ctype.starts_with("text/csv"), "{ctype}");
    let text = String::from_utf8(csv).unwrap();
    assert!(text.starts_with('\u{feff}'), "a BOM for Excel");
    assert_eq!(
        text.lines().count(),
        4,
        "{engine:?}: header + 3 cases:\n{text}"
    );
    assert!(text.contains("'=HYPERLINK"), "{engine:?}: {text}");
    assert!(text.contains(&formula) && text.contains(&road));
    assert!(
        text.contains("0599-6301234"),
        "{engine:?}: the landline as written: {text}"
    );

    let (s, ctype, xlsx) = get(
        sup.clone(),
        format!("{base}/console/queue/export?view=all&format=xlsx"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(ctype.contains("spreadsheetml"), "{ctype}");
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(xlsx)).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows.len(), 4, "{engine:?}");
    assert_eq!(rows[0][0], "工单号");
    let cell = rows.iter().find(|r| r[0] == formula).unwrap();
    assert!(cell[6].starts_with("=HYPERLINK"), "kept as text: {cell:?}");

    // A unit's export is its unit's cases.
    let unit = m110_e2e::login(&base, "transport1", PASSWORD).await;
    let (s, _, csv) = get(
        unit,
        format!("{base}/console/queue/export?view=all&format=csv"),
    )
    .await;
    assert_eq!(s, 200);
    let text = String::from_utf8(csv).unwrap();
    assert_eq!(text.lines().count(), 2, "{engine:?}: {text}");
    assert!(text.contains(&road));
    let (s, _, _) = get(
        sup.clone(),
        format!("{base}/console/queue/export?view=all&format=pdf"),
    )
    .await;
    assert_eq!(s, 422);
    // An analyst works with aggregates: no case export.
    install.user("an1", "analyst", &[], PASSWORD);
    let analyst = m110_e2e::login(&base, "an1", PASSWORD).await;
    let (s, _, _) = get(
        analyst,
        format!("{base}/console/queue/export?view=all&format=csv"),
    )
    .await;
    assert_eq!(s, 403, "{engine:?}");

    // The audit API: the auditor's, not the operator's.
    let api = |token: String, q: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let r = http
                .get(format!("{base}/api/v1/audit{q}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            (s, r.text().await.unwrap())
        }
    };
    let (s, _) = api(op.clone(), String::new()).await;
    assert_eq!(s, 403, "{engine:?}");
    let (s, body) = api(auditor.clone(), "?action=case.export".into()).await;
    assert_eq!(s, 200, "{engine:?}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{engine:?}: three exports went out: {v}");
    let rows: Vec<i64> = items
        .iter()
        .map(|i| i["detail"]["rows"].as_i64().unwrap())
        .collect();
    assert_eq!(rows, [1, 3, 3], "{engine:?}: newest first");
    let (_, body) = api(auditor.clone(), "?action=case.export&limit=2".into()).await;
    let page: Value = serde_json::from_str(&body).unwrap();
    let before = page["next_before"].as_i64().expect("a next page");
    let (_, body) = api(
        auditor.clone(),
        format!("?action=case.export&limit=2&before={before}"),
    )
    .await;
    let rest: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        rest["items"].as_array().unwrap().len(),
        1,
        "{engine:?}: {rest}"
    );
    let (s, body) = api(auditor.clone(), "?from=2026-02-30".into()).await;
    assert_eq!(s, 422, "{engine:?}: {body}");
    assert!(body.contains("\"field\":\"from\""), "{body}");
    let (s, body) = api(auditor.clone(), "?format=csv&action=audit.view".into()).await;
    assert_eq!(s, 200);
    assert!(body.starts_with("\u{feff}id,at,actor_id"), "{body}");
    assert!(
        body.contains("audit.view"),
        "reading the log is audited: {body}"
    );
}
per_engine!(exports_and_the_audit_log);
