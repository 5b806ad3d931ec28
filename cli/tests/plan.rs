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
    assert_eq!(v["categories"], 12);
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
