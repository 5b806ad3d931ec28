//! `plan`: golden text and JSON for the fixture region.

mod common;

use std::path::Path;

use common::fixture;

#[test]
fn text_and_json_match_goldens() {
    let plan = m110::plan::build(&fixture::region()).unwrap();
    let dir = common::golden_dir("plan");
    common::check_golden(&dir, Path::new("plan.txt"), plan.to_text().as_bytes());
    common::check_golden(&dir, Path::new("plan.json"), plan.to_json().as_bytes());
}

#[test]
fn cli_plan_json_of_a_yaml_profile() {
    let profile = common::small_profile();
    let out = common::m110(args!["plan", profile, "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["region"]["code"], "350781");
    assert_eq!(v["region"]["population"], 300000);
    assert_eq!(v["units_by_tier"][2]["count"], 6);
    assert_eq!(
        v["categories"],
        m110::profile::taxonomy::default_categories().len()
    );
    assert_eq!(v["routing"]["gaps"][0]["grid"], "350781002");
    assert_eq!(v["staffing"]["agents"], 2);
    assert_eq!(v["staffing"]["scheduled_staff"], 3);
}

#[test]
fn cli_plan_text_is_default() {
    let profile = common::small_profile();
    let out = common::m110(args!["plan", profile]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("规划 Plan: 邵武市 (350781)"));
    assert!(text.contains("在线坐席 Agents: 2"));
}

#[test]
fn cli_plan_of_an_invalid_profile_lists_problems_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let broken = common::broken_profile(tmp.path());
    let out = common::m110(args!["plan", broken]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    let name = broken.display().to_string();
    assert!(
        err.lines()
            .filter(|l| l.starts_with(&format!("{name}:")))
            .count()
            >= 2,
        "every problem listed with FILE:LINE:COL:\n{err}"
    );
    assert!(err.contains("colour"), "{err}");
}

/// The small profile with `staffing` lines added under `aht_seconds`, written into `dir`.
fn profile_with(dir: &Path, staffing: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(common::small_profile())
        .unwrap()
        .replace(
            "    aht_seconds: 180\n",
            &format!("    aht_seconds: 180\n{staffing}"),
        );
    let path = dir.join("p.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn cli_plan_json_has_the_week_and_its_roster() {
    let profile = common::small_profile();
    let out = common::m110(args!["plan", profile, "--format", "json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sw = &v["staffing_week"];
    let agents = sw["week"]["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 7);
    assert!(agents.iter().all(|d| d.as_array().unwrap().len() == 24));
    assert_eq!(sw["week"]["peak"]["day"], 0);
    assert_eq!(sw["week"]["peak"]["hour"], 10);
    let r = &sw["roster"];
    assert_eq!(r["pattern"], "3x8");
    assert_eq!(r["shifts"].as_array().unwrap().len(), 3);
    assert_eq!(r["heads"].as_array().unwrap().len(), 7);
    for day in r["heads"].as_array().unwrap() {
        for shift in day.as_array().unwrap() {
            assert!(shift["call_takers"].as_u64().unwrap() >= 2, "{shift}");
            assert_eq!(shift["supervisors"], 1);
        }
    }
    let paid = r["paid_hours"]["total"].as_f64().unwrap();
    let fte = r["fte"]["total"].as_f64().unwrap();
    assert!((fte * 40.0 - paid).abs() < 1e-9);
    assert!(fte > sw["week"]["peak"]["agents"].as_f64().unwrap());
    assert_eq!(sw["other_pattern"]["pattern"], "2x12");
    // The design peak hour is still there, as before.
    assert_eq!(v["staffing"]["agents"], 2);
}

#[test]
fn cli_plan_takes_the_profiles_week_and_shifts() {
    let tmp = tempfile::tempdir().unwrap();
    let flat = format!(
        "    intraday: [{}]\n    weekday: [1, 1, 1, 1, 1, 1, 1]\n    shifts: \"2x12\"\n    min_call_takers: 4\n",
        ["1"; 24].join(", ")
    );
    let p = profile_with(tmp.path(), &flat);
    let out = common::m110(args!["plan", p, "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sw = &v["staffing_week"];
    // A flat week: every hour has the same calls.
    let calls: Vec<f64> = sw["week"]["calls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d.as_array().unwrap().iter().map(|c| c.as_f64().unwrap()))
        .collect();
    assert!(calls.iter().all(|c| (c - calls[0]).abs() < 1e-9));
    assert!((calls[0] * 168.0 - 300_000.0 * 0.15 / 52.0).abs() < 1e-6);
    assert_eq!(sw["roster"]["pattern"], "2x12");
    assert_eq!(sw["roster"]["shifts"][1]["start"], 20);
    assert_eq!(sw["roster"]["heads"][0][1]["call_takers"], 4);
    assert_eq!(sw["other_pattern"]["pattern"], "3x8");
}

#[test]
fn cli_plan_writes_the_staffing_heat_map() {
    let tmp = tempfile::tempdir().unwrap();
    let html = tmp.path().join("staffing.html");
    let profile = common::small_profile();
    let out = common::m110(args!["plan", profile, "--staffing-html", html]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The text plan still goes to stdout, with the roster.
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("排班 Roster 3x8"), "{text}");
    assert!(text.contains("人力 FTE (40 h/week)"), "{text}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<svg") && page.contains("邵武市 (350781)"));
    assert!(!page.contains("<script"));
    assert_eq!(page.matches("<g><title>周").count(), 168);
    // An unwritable target: exit 1 with the path named.
    let bad = tmp.path().join("no-such-dir/x.html");
    let out = common::m110(args!["plan", profile, "--staffing-html", bad]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-dir"));
}
