//! The analytics page and the report downloads in Chromium against the real `m110d`, once per
//! engine, on the Shaowu example with the generated history imported:
//!
//! - an analyst opens November: the received card equals the API's figure, the charts are drawn
//!   (the heat map has its 7 × 24 cells), the caller profile withholds a cell under 5;
//! - choosing a category and applying narrows every figure to it;
//! - the monthly report downloads as HTML, XLSX and Markdown; the analyst's copy names no case,
//!   a supervisor's lists the overdue ones; each download is in the audit log.
//!
//! Screenshots of the page and of the printed report go to `target/console-screenshots/`.
//! Without Chromium these tests FAIL (CI installs it).

use std::time::Duration;

use m110_e2e::browser::Browser;
use m110_e2e::history::history;
use m110_e2e::{Engine, Install, output_text, per_engine};
use serde_json::{Value, json};

const PASSWORD: &str = "Analyst-Test-2026!";

async fn login(b: &Browser, base: &str, name: &str) {
    b.clear_cookies().await;
    b.goto(&format!("{base}/console/login")).await;
    b.fill("#username", name).await;
    b.fill("#password", PASSWORD).await;
    b.click("#login-submit").await;
    b.wait_for("nav.mainnav", Duration::from_secs(20)).await;
}

/// Waits until `css` shows `needle`.
async fn expect_text(b: &Browser, css: &str, needle: &str) {
    for _ in 0..100 {
        if b.exists(css).await && b.text(css).await.contains(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{css} never showed {needle:?} at {}; page:\n{}",
        b.current_url().await,
        b.text("body").await
    );
}

async fn get(client: &reqwest::Client, url: String) -> (u16, String, Vec<u8>) {
    let r = client.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let ctype = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ctype, r.bytes().await.unwrap().to_vec())
}

per_engine!(an_analyst_reads_the_month_and_downloads_its_report);
async fn an_analyst_reads_the_month_and_downloads_its_report(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    let (csv, november, _) = history(&install).await;
    let file = install.scratch().join("history.csv");
    std::fs::write(&file, csv).unwrap();
    let out = install
        .m110(&["import", "cases", file.to_str().unwrap()])
        .args(install.database_args())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    install.user("an1", "analyst", &[], PASSWORD);
    install.user("sup1", "supervisor", &[], PASSWORD);
    install.user("aud1", "auditor", &[], PASSWORD);
    let server = install.serve(&[]);
    let base = server.base.clone();

    // An overdue case, for the supervisor's watch list (arranged in the database: its sign
    // deadline long past, flagged as the deadline job flags it).
    let sup = m110_e2e::login(&base, "sup1", PASSWORD).await;
    let r = sup
        .post(format!("{base}/api/v1/cases"))
        .json(&json!({"channel": "phone", "content": "道路塌陷", "category": "roads"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let case: Value = r.json().await.unwrap();
    let public_id = case["id"].as_str().unwrap().to_string();
    let store = install.store().await;
    sqlx::query("UPDATE cases SET sign_due = 1000, overdue_sign = 1 WHERE public_id = $1")
        .bind(&public_id)
        .execute(store.pool())
        .await
        .unwrap();

    let b = Browser::start().await;
    b.set_window(1280, 1800).await;
    login(&b, &base, "an1").await;
    b.goto(&format!("{base}/console/analytics?month=2026-11"))
        .await;
    expect_text(&b, "#kpi-received .value", &november.to_string()).await;
    assert!(b.text("#kpi-received").await.contains("环比"));
    let source = b.source().await;
    assert_eq!(
        source.matches("<rect class=\"cell\"").count(),
        7 * 24,
        "the heat map's cells"
    );
    for chart in ["#h-trend", "#h-cat", "#h-town", "#h-unit", "#h-map"] {
        assert!(b.exists(chart).await, "{chart}");
    }
    assert!(source.matches("<svg").count() >= 6);
    b.screenshot(&format!("{}/analytics-november", engine.as_str()))
        .await;

    // Narrowed to one category: the received card shows that category's count.
    let api = m110_e2e::login(&base, "an1", PASSWORD).await;
    let (_, _, body) = get(
        &api,
        format!("{base}/api/v1/analytics/breakdown?month=2026-11&by=category"),
    )
    .await;
    let cats: Value = serde_json::from_slice(&body).unwrap();
    let top = &cats["rows"][0];
    b.select("#an-category", top["key"].as_str().unwrap()).await;
    b.click("#analytics-form button[type=submit]").await;
    expect_text(
        &b,
        "#kpi-received .value",
        &top["received"].as_i64().unwrap().to_string(),
    )
    .await;
    assert!(b.current_url().await.contains("category="));

    // The analyst's report: no case named in any format.
    for format in ["html", "xlsx", "md"] {
        let (s, ctype, bytes) = get(
            &api,
            format!("{base}/console/analytics/report?month=2026-11&format={format}"),
        )
        .await;
        assert_eq!(s, 200, "{format}");
        assert!(!ctype.is_empty());
        if format != "xlsx" {
            let text = String::from_utf8(bytes).unwrap();
            assert!(text.contains("月度分析报告"), "{format}");
            assert!(
                !text.contains(&public_id),
                "the analyst's {format} names a case"
            );
        }
    }
    // The supervisor's lists the overdue case; open it in the browser and print it (A4).
    let (s, _, html) = get(
        &sup,
        format!("{base}/console/analytics/report?month=2026-11&format=html"),
    )
    .await;
    assert_eq!(s, 200);
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains(&public_id), "the watch list");
    let path = install.scratch().join("report.html");
    std::fs::write(&path, &html).unwrap();
    b.goto(&format!("file://{}", path.display())).await;
    b.wait_for("#headline", Duration::from_secs(10)).await;
    b.screenshot(&format!("{}/report-html", engine.as_str()))
        .await;
    b.print_pdf(&format!("{}/report-html", engine.as_str()))
        .await;

    // Each download is audited.
    let (rows,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'report.download'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(rows, 4);

    // An auditor has no analytics page.
    let aud = m110_e2e::login(&base, "aud1", PASSWORD).await;
    let (s, _, _) = get(&aud, format!("{base}/console/analytics")).await;
    assert_eq!(s, 403);
    let (s, _, _) = get(
        &aud,
        format!("{base}/console/analytics/report?month=2026-11"),
    )
    .await;
    assert_eq!(s, 403);
}
