//! Analytics and the monthly report on the Shaowu example, on both engines: 2,400 generated
//! cases of October and November 2026 imported with `m110 import`, a few live calls with caller
//! profiles; then the API's figures, `m110 report` in all three formats (the XLSX opened with
//! calamine: its sheets, headers and totals equal the API's), the "<5" rule for the analyst,
//! errors that name their field, and `m110 analytics rebuild` agreeing with the kept rollups.

use std::collections::BTreeMap;

use calamine::{Data, Reader};
use m110_e2e::app::App;
use m110_e2e::history::{HISTORY, history};
use m110_e2e::{Engine, output_text, per_engine};
use m110_runtime::engine::report::xlsx::{BREAKDOWN_HEADERS, SHEETS};
use serde_json::{Value, json};

fn cells(book: &mut calamine::Xlsx<std::io::Cursor<Vec<u8>>>, sheet: &str) -> Vec<Vec<Data>> {
    let range = book
        .worksheet_range(sheet)
        .unwrap_or_else(|e| panic!("sheet {sheet}: {e}"));
    range.rows().map(|r| r.to_vec()).collect()
}

fn number(c: &Data) -> f64 {
    match c {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

async fn analytics_and_the_monthly_report(engine: Engine) {
    let app = App::start(engine, &[]).await;
    let install = &app.install;
    let (csv, november, hot) = history(&app.install).await;
    let file = install.scratch().join("history.csv");
    std::fs::write(&file, csv).unwrap();
    let out = install
        .m110(&["import", "cases", file.to_str().unwrap()])
        .args(install.database_args())
        .output()
        .unwrap();
    assert!(out.status.success(), "{engine:?}: {}", output_text(&out));

    // Live calls this month: six women, two men (under 5: withheld), with their profiles.
    for (i, gender) in ["female"; 6].iter().chain(["male"; 2].iter()).enumerate() {
        let body = json!({"channel": "phone", "content": "小区路灯不亮", "category": "roads",
            "caller": {"phone": format!("1390599{i:04}"), "gender": gender, "age_band": "30-39"}});
        let (s, v) = app.call("op", "POST", "/api/v1/cases", Some(&body)).await;
        assert_eq!(s, 201, "{engine:?}: {v}");
    }

    // The API: November's received equals what was generated, 环比 against October.
    let (s, nov) = app
        .call(
            "analyst",
            "GET",
            "/api/v1/analytics/summary?month=2026-11",
            None,
        )
        .await;
    assert_eq!(s, 200, "{engine:?}: {nov}");
    let received = nov["figures"]["received"].as_i64().unwrap();
    assert_eq!(received, november as i64, "{engine:?}: {nov}");
    let october = (HISTORY - november) as f64;
    let mom = nov["received_mom"].as_f64().unwrap();
    assert!(
        (mom - (november as f64 - october) / october).abs() < 1e-9,
        "{nov}"
    );
    assert!(nov["year_ago"]["received"] == 0 && nov["received_yoy"].is_null());
    let closed = nov["figures"]["closed"].as_i64().unwrap();
    assert!(closed > 0 && nov["figures"]["close_minutes_median"].as_i64().unwrap() <= 240);

    // Breakdowns: by day they sum to the month; the hot village leads the finest tier.
    let (s, days) = app
        .call(
            "analyst",
            "GET",
            "/api/v1/analytics/breakdown?month=2026-11&by=day",
            None,
        )
        .await;
    assert_eq!(s, 200, "{days}");
    let rows = days["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 30, "every day of November, empty ones too");
    let sum: i64 = rows.iter().map(|r| r["received"].as_i64().unwrap()).sum();
    assert_eq!(sum, received);
    let (_, cells3) = app
        .call(
            "analyst",
            "GET",
            "/api/v1/analytics/breakdown?month=2026-11&by=area&tier=3",
            None,
        )
        .await;
    let top = &cells3["rows"][0];
    assert_eq!(top["key"], hot.as_str(), "{top}");
    assert!(
        top["received"].as_i64().unwrap() >= (november / 10) as i64,
        "{top}"
    );

    // The caller profile this month: six women shown, two men withheld (no figures at all).
    let (s, gender) = app
        .call(
            "analyst",
            "GET",
            "/api/v1/analytics/breakdown?by=gender",
            None,
        )
        .await;
    assert_eq!(s, 200, "{gender}");
    let by: BTreeMap<String, Value> = gender["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap().to_string(), r.clone()))
        .collect();
    assert_eq!(by["female"]["received"], 6, "{gender}");
    assert_eq!(by["male"]["suppressed"], true, "{gender}");
    assert!(by["male"].get("received").is_none(), "{gender}");

    // Bad parameters name their field; roles without analytics are refused.
    for (path, field) in [
        ("/api/v1/analytics/breakdown?by=colour", "by"),
        ("/api/v1/analytics/summary?month=2026-13", "month"),
        ("/api/v1/analytics/summary?category=nope", "category"),
        ("/api/v1/analytics/summary?from=2026-11-01", "to"),
        ("/api/v1/analytics/summary?area=999", "area"),
        ("/api/v1/analytics/heatmap?channel=fax", "channel"),
        ("/api/v1/analytics/summary?colour=red", "colour"),
    ] {
        let (s, v) = app.call("analyst", "GET", path, None).await;
        assert!(matches!(s, 400 | 422), "{path}: {s} {v}");
        assert!(v.to_string().contains(field), "{path}: {v}");
    }
    let (s, _) = app
        .call("op", "GET", "/api/v1/analytics/summary", None)
        .await;
    assert_eq!(s, 403, "an operator reads no analytics");
    let (s, heat) = app
        .call(
            "analyst",
            "GET",
            "/api/v1/analytics/heatmap?month=2026-11",
            None,
        )
        .await;
    assert_eq!(s, 200);
    let heat_sum: i64 = heat["received"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d.as_array().unwrap().iter().map(|n| n.as_i64().unwrap()))
        .sum();
    assert_eq!(heat_sum, received);

    // The report, in three formats.
    let dir = install.scratch();
    for ext in ["xlsx", "html", "md"] {
        let path = dir.join(format!("nov.{ext}"));
        let out = install
            .m110(&[
                "report",
                "--period",
                "2026-11",
                "-o",
                path.to_str().unwrap(),
            ])
            .args(install.database_args())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{engine:?} {ext}: {}",
            output_text(&out)
        );
    }
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(
        std::fs::read(dir.join("nov.xlsx")).unwrap(),
    ))
    .unwrap();
    assert_eq!(book.sheet_names(), SHEETS.map(String::from).to_vec());
    let overview = cells(&mut book, "概览");
    let count = |name: &str| {
        overview
            .iter()
            .find(|r| r[0] == name)
            .map(|r| number(&r[1]) as i64)
            .unwrap_or_else(|| panic!("no row {name}"))
    };
    assert_eq!(count("受理 received"), received);
    assert_eq!(count("办结 closed"), closed);
    let trend = cells(&mut book, "每日趋势");
    assert_eq!(trend[0][0].to_string(), "日期");
    let trend_sum: f64 = trend[1..].iter().map(|r| number(&r[1])).sum();
    assert_eq!(trend_sum as i64, received);
    let categories = cells(&mut book, "诉求类别");
    let headers: Vec<String> = categories[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(headers, BREAKDOWN_HEADERS.map(String::from).to_vec());
    let (_, by_cat) = app
        .call(
            "analyst",
            "GET",
            "/api/v1/analytics/breakdown?month=2026-11&by=category",
            None,
        )
        .await;
    assert_eq!(
        number(&categories[1][1]) as i64,
        by_cat["rows"][0]["received"].as_i64().unwrap(),
        "the top category as the API has it"
    );
    let html = std::fs::read_to_string(dir.join("nov.html")).unwrap();
    assert!(html.contains("月度分析报告") && html.matches("<svg").count() >= 4);
    let md = std::fs::read_to_string(dir.join("nov.md")).unwrap();
    assert!(md.contains(&format!("| 受理量 | {received} |")), "{md}");

    // A bad period or format is refused before anything is read.
    let out = install
        .m110(&["report", "--period", "2026-13", "-o", "x.xlsx"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(output_text(&out).contains("--period"));

    // The KPI document: the month's figures, no personal data; compared side by side.
    let kpi_file = dir.join("shaowu-kpi.json");
    let out = install
        .m110(&[
            "kpi",
            "--period",
            "2026-11",
            "-o",
            kpi_file.to_str().unwrap(),
        ])
        .args(install.database_args())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    let text = std::fs::read_to_string(&kpi_file).unwrap();
    let kpi: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(kpi["kpi_version"], 1);
    assert_eq!(kpi["received"], received);
    assert_eq!(kpi["region"]["code"], "350781");
    assert!(kpi["three_rates"]["satisfaction_rate"].as_f64().is_some());
    assert_eq!(
        kpi["staffing"]["actual_calls_per_hour"]
            .as_array()
            .unwrap()
            .len(),
        24
    );
    assert!(!text.contains("1390599"), "no caller in the KPI document");
    let other = dir.join("other-kpi.json");
    std::fs::write(&other, text.replace("\"350781\"", "\"350702\"")).unwrap();
    let compare = |args: &[&str]| {
        let mut cmd = std::process::Command::new(m110_e2e::bin("m110"));
        cmd.arg("compare").args(args);
        cmd.output().unwrap()
    };
    let (a, b) = (kpi_file.to_str().unwrap(), other.to_str().unwrap());
    let out = compare(&["--kpi", a, b, "--format", "csv"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let csv = String::from_utf8(out.stdout).unwrap();
    // UTF-8 with a byte-order mark, so Excel and WPS read the Chinese labels.
    assert!(
        csv.starts_with("\u{feff}key,metric,350781,350702\n"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!("received,受理 Received,{received},{received}")),
        "{csv}"
    );
    let xlsx = dir.join("compare.xlsx");
    let out = compare(&[
        "--kpi",
        a,
        b,
        "--format",
        "xlsx",
        "-o",
        xlsx.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", output_text(&out));
    let mut book =
        calamine::Xlsx::new(std::io::Cursor::new(std::fs::read(&xlsx).unwrap())).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(sheet.get_size().1, 3, "the metric and two regions");
    std::fs::write(&other, r#"{"kpi_version": 7}"#).unwrap();
    let out = compare(&["--kpi", a, b]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        output_text(&out).contains("kpi_version 7"),
        "{}",
        output_text(&out)
    );

    // The rebuild agrees with what was kept at write time.
    let out = install
        .m110(&["analytics", "rebuild"])
        .args(install.database_args())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("equalled the recount"),
        "{}",
        output_text(&out)
    );
}

per_engine!(analytics_and_the_monthly_report);
