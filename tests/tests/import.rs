//! History import with the real `m110 import cases` on both engines: a CSV and an XLSX load in
//! one transaction, a re-run changes nothing, a broken file is reported line by line and
//! nothing is written, a dry run writes nothing.

use m110_e2e::{Engine, Install, output_text, per_engine, workspace_root};

const GOOD: &str = "\u{feff}received_at,channel,category,grid_code,lat,lon,address,content,external_id,status,closed_at,satisfaction
2024-03-15T09:30:00+08:00,phone,roads,350781001,,,,水北街道路面塌陷一个大坑,OLD-1,closed,2024-03-16T17:00:00+08:00,satisfied
2024-03-18T10:00:00+08:00,sms,environment,,,,公太社区,垃圾一直没人清运,OLD-2,closed,2024-03-19T09:00:00+08:00,不满意
2024-03-20T08:00:00+08:00,web,,,27.34,117.49,,想问一下低保怎么申请,OLD-3,open,,
";

const BROKEN: &str = "received_at,category,grid_code,content,external_id,status,closed_at
2024-03-15T09:30:00+08:00,roads,,路面塌陷,NEW-1,closed,2024-03-16T17:00:00+08:00
2024-03-15T09:30:00+08:00,roadz,,路面塌陷,NEW-2,closed,2024-03-16T17:00:00+08:00
2024-03-15T09:30:00+08:00,roads,999999,路面塌陷,NEW-3,closed,2024-03-16T17:00:00+08:00
yesterday,roads,,路面塌陷,NEW-4,closed,
";

async fn count(install: &Install, sql: &str) -> i64 {
    let store = install.store().await;
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(store.pool()).await.unwrap();
    n
}

async fn history_import(engine: Engine) {
    let install = Install::provision(engine, "shaowu").await;
    let dir = install.scratch();
    let good = dir.join("history.csv");
    std::fs::write(&good, GOOD).unwrap();
    let run = |args: &[&str]| install.m110(args).output().unwrap();

    // Dry run: checked, nothing written.
    let out = run(&[
        "import",
        "cases",
        good.to_str().unwrap(),
        "--dry-run",
        "--json",
    ]);
    assert!(out.status.success(), "{engine:?}: {}", output_text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["rows"].as_i64(), v["imported"].as_i64()),
        (Some(3), Some(0)),
        "{v}"
    );
    assert_eq!(count(&install, "SELECT COUNT(*) FROM cases").await, 0);

    // Import: three cases with their events; the closed ones keep their times and outcome.
    let out = run(&["import", "cases", good.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{engine:?}: {}", output_text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["imported"], 3, "{v}");
    assert_eq!(
        (v["closed"].as_i64(), v["open"].as_i64()),
        (Some(2), Some(1)),
        "{v}"
    );
    assert_eq!(
        count(
            &install,
            "SELECT COUNT(*) FROM cases WHERE status = 'closed'"
        )
        .await,
        2
    );
    assert_eq!(
        count(&install, "SELECT COUNT(*) FROM cases WHERE external_id = 'OLD-2' AND satisfaction = 'unsatisfied' AND channel = 'sms' AND grid_code = '350781001001'").await,
        1,
        "{engine:?}: the address located the case"
    );
    assert_eq!(
        count(
            &install,
            "SELECT COUNT(*) FROM cases WHERE public_id LIKE 'MS350781-20240315-%'"
        )
        .await,
        1,
        "{engine:?}: the case number carries its historical day"
    );
    assert_eq!(count(&install, "SELECT COUNT(*) FROM case_events").await, 5);

    // Re-run: nothing changes.
    let out = run(&["import", "cases", good.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["imported"].as_i64(), v["skipped"].as_i64()),
        (Some(0), Some(3)),
        "{v}"
    );
    assert_eq!(count(&install, "SELECT COUNT(*) FROM cases").await, 3);

    // A broken file: every problem with its line, nothing written (not even the good row).
    let broken = dir.join("broken.csv");
    std::fs::write(&broken, BROKEN).unwrap();
    let out = run(&["import", "cases", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    let name = broken.display().to_string();
    for want in [
        format!("{name}:3: category: unknown category `roadz`"),
        format!("{name}:4: grid_code: unknown grid code `999999`"),
        format!("{name}:5: received_at:"),
        format!("{name}:5: closed_at: required"),
    ] {
        assert!(err.contains(&want), "{engine:?}: want {want:?} in:\n{err}");
    }
    assert_eq!(count(&install, "SELECT COUNT(*) FROM cases").await, 3);

    // An unknown column is refused before anything else.
    let odd = dir.join("odd.csv");
    std::fs::write(&odd, "received_at,content,external_id,colour\n").unwrap();
    let out = run(&["import", "cases", odd.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        output_text(&out).contains("unknown column `colour`"),
        "{}",
        output_text(&out)
    );

    // XLSX (first sheet; a date cell is local time).
    let xlsx = workspace_root().join("tests/data/import/history.xlsx");
    let out = run(&["import", "cases", xlsx.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{engine:?}: {}", output_text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["imported"], 3, "{v}");
    assert_eq!(
        count(&install, "SELECT COUNT(*) FROM cases WHERE external_id = 'OLD-X-1' AND satisfaction = 'satisfied' AND public_id LIKE 'MS350781-20240315-%'").await,
        1
    );
}

per_engine!(history_import);
