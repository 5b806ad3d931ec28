//! The profile's cameras (`cameras`, `cameras_csv`, a platform's `camera_link`): each check
//! reported at its exact line and column (the CSV's at its own line and column), and a valid
//! list compiled with each camera's live-view link filled in.

use std::path::{Path, PathBuf};

use m110::profile::{Diagnostic, load};

const BASE: &str = r#"version: 1
division_edition: NBS 2023
region:
  code: "350781"
  name: 邵武市
  parents: [福建省, 南平市]
  population: 300000
  area_km2: 2852
service_center:
  number: "110"
  hours: "24/7"
grid:
  tiers:
    - {key: township, name: 乡镇/街道}
    - {key: village, name: 村/社区}
    - {key: cell, name: 网格}
  units:
    - {code: "350781001", name: 昭阳街道}
    - {code: "350781002", name: 通泰街道}
    - {code: "350781001001", name: 公太社区, parent: "350781001", households: 900}
    - {code: "350781002001", name: 城富社区, parent: "350781002"}
  cells: {per_households: 300, per_unit: 2}
units:
  - {id: police-110, kind: police, name: 公安110, hotline: "110"}
  - {id: civil-affairs, kind: department, name: 民政局, hotline: "0599-6332345", scope: ["350781001"]}
categories:
  - {code: repairs, sign_minutes: 30, close_hours: 24}
routing:
  rules:
    - {category: assistance, unit: civil-affairs}
    - {category: [roads, repairs], scope: "350781001", unit: civil-affairs}
existing_platforms:
  - {id: cams, kind: camera_network, name: 雪亮工程, cameras: 735, camera_link: "https://vms.example/live?camera={id}"}
  - {id: portal, kind: gov_portal, name: 门户网站, integration: {type: webhook, url: "https://x.example.cn/h"}}
"#;

struct Case {
    dir: tempfile::TempDir,
    path: PathBuf,
    text: String,
}

fn write(text: &str) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yaml");
    std::fs::write(&path, text).unwrap();
    Case {
        dir,
        path,
        text: text.to_string(),
    }
}

/// 1-based (line, column in characters) where `value` starts inside the unique `context`.
fn pos(text: &str, context: &str, value: &str) -> (usize, usize) {
    assert_eq!(
        text.matches(context).count(),
        1,
        "`{context}` must be unique"
    );
    let at = text.find(context).unwrap() + context.find(value).expect("value in context");
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    (line, col)
}

fn errors(c: &Case) -> Vec<Diagnostic> {
    match load(&c.path) {
        Ok(_) => panic!("expected errors for:\n{}", c.text),
        Err(d) => d.0,
    }
}

/// Asserts a diagnostic at `at` for `field` whose message contains `msg`.
fn expect(c: &Case, at: (usize, usize), field: &str, msg: &str) {
    let errs = errors(c);
    assert!(
        errs.iter()
            .any(|d| (d.line, d.col) == at && d.field == field && d.message.contains(msg)),
        "no `{msg}` at {}:{} for {field}; got:\n{}",
        at.0,
        at.1,
        errs.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    for d in &errs {
        assert_eq!(d.file, c.path);
        assert!(!d.hint.is_empty(), "every diagnostic has a hint: {d}");
    }
}

const CAMS: &str = r#"cameras:
  - {id: "35078100001310000001", name: 五一九路口, kind: traffic, grid: "350781001001", lat: 27.34, lon: 117.49, platform: cams}
  - {id: "35078100001310000002", name: 城富市场, grid: "350781002001", platform: cams}
"#;

fn with_cams(cams: &str) -> Case {
    write(&format!("{BASE}{cams}"))
}

#[test]
fn cameras_compile_with_their_links() {
    let c = with_cams(CAMS);
    let loaded = load(&c.path).unwrap_or_else(|d| panic!("{d:?}"));
    let cams = &loaded.region.cameras;
    assert_eq!(cams.len(), 2);
    assert_eq!(
        cams[0].link.as_deref(),
        Some("https://vms.example/live?camera=35078100001310000001")
    );
    assert_eq!(cams[1].kind, "other");
    assert!(cams[1].location.is_none());
    let _ = Path::new(&c.path);
}

#[test]
fn unknown_grid_unit_and_platform_are_named_with_a_fix() {
    let c = with_cams(&CAMS.replace(
        "grid: \"350781002001\", platform: cams",
        "grid: \"350781009001\", platform: portal",
    ));
    let text = c.text.clone();
    expect(
        &c,
        pos(&text, "grid: \"350781009001\"", "\"350781009001"),
        "cameras[1].grid",
        "unknown grid unit",
    );
    expect(
        &c,
        pos(&text, "platform: portal}", "portal"),
        "cameras[1].platform",
        "not a camera_network platform",
    );
    let errs = errors(&c);
    let p = errs
        .iter()
        .find(|d| d.field == "cameras[1].platform")
        .unwrap();
    assert!(p.hint.contains("cams"), "{p}");
}

#[test]
fn place_kind_coordinates_and_duplicates() {
    let c = with_cams(
        &CAMS
            .replace(
                "kind: traffic, grid: \"350781001001\", lat: 27.34, lon: 117.49",
                "kind: drone, lat: 97.0, lon: 117.49",
            )
            .replace(
                "\"35078100001310000002\", name: 城富市场, grid: \"350781002001\",",
                "\"35078100001310000001\", name: 城富市场,",
            ),
    );
    let text = c.text.clone();
    expect(
        &c,
        pos(&text, "kind: drone", "drone"),
        "cameras[0].kind",
        "unknown camera kind",
    );
    expect(
        &c,
        pos(&text, "lat: 97.0", "97.0"),
        "cameras[0].lat",
        "out of range",
    );
    expect(
        &c,
        pos(
            &text,
            "\"35078100001310000001\", name: 城富市场",
            "\"35078100001310000001\"",
        ),
        "cameras[1].id",
        "duplicate camera id",
    );
    let errs = errors(&c);
    assert!(
        errs.iter()
            .any(|d| d.field == "cameras[1].grid" && d.message.contains("needs a place")),
        "{errs:?}"
    );
}

#[test]
fn camera_link_must_be_a_url_with_the_id() {
    let c = write(&BASE.replace(
        "camera_link: \"https://vms.example/live?camera={id}\"",
        "camera_link: \"https://vms.example/live\"",
    ));
    let text = c.text.clone();
    expect(
        &c,
        pos(
            &text,
            "camera_link: \"https://vms.example/live\"",
            "\"https",
        ),
        "existing_platforms[0].camera_link",
        "with {id}",
    );
}

#[test]
fn the_csv_is_read_and_its_rows_checked_at_line_and_column() {
    let c = write(&format!("{BASE}cameras_csv: cams.csv\n"));
    let csv = c.dir.path().join("cams.csv");
    std::fs::write(&csv, "\u{feff}id,name,kind,grid,lat,lon,platform\n3507810000131A,东关桥,river,350781001001,27.33,117.50,cams\n3507810000131B,西门,,350781999999,,,cams\n3507810000131C,北门,,,27.3x,117.5,cams\n").unwrap();
    let errs = errors(&c);
    let at = |field: &str| {
        errs.iter()
            .find(|d| d.field == field)
            .map(|d| (d.file.clone(), d.line, d.col))
    };
    assert_eq!(
        at("cameras_csv.grid"),
        Some((csv.clone(), 3, 4)),
        "{errs:?}"
    );
    assert_eq!(at("cameras_csv.lat"), Some((csv.clone(), 4, 5)), "{errs:?}");
    std::fs::write(&csv, "id,name,kind,grid,lat,lon,platform\n3507810000131A,东关桥,river,350781001001,27.33,117.50,cams\n").unwrap();
    let loaded = load(&c.path).unwrap_or_else(|d| panic!("{d:?}"));
    assert_eq!(loaded.region.cameras.len(), 1);
    assert_eq!(loaded.region.cameras[0].kind, "river");
    // A missing file is reported at the profile's line.
    let c = write(&format!("{BASE}cameras_csv: nope.csv\n"));
    assert!(
        errors(&c)
            .iter()
            .any(|d| d.field == "cameras_csv" && d.message.contains("does not exist"))
    );
}

#[test]
fn plan_and_compare_count_cameras() {
    let c = with_cams(CAMS);
    let region = load(&c.path).unwrap().region;
    let plan = m110::plan::build(&region).unwrap();
    assert_eq!(
        (
            plan.cameras.cameras,
            plan.cameras.grid_units,
            plan.cameras.located
        ),
        (2, 2, 1)
    );
    assert!(
        plan.to_text().contains("视频监控 Cameras: 2"),
        "{}",
        plan.to_text()
    );
    let mut none = region.clone();
    none.cameras.clear();
    // Without cameras the JSON plan and the comparison read as before.
    let json = serde_json::to_value(m110::plan::build(&none).unwrap()).unwrap();
    assert!(json.get("cameras").is_none());
    let table = m110::compare::compare([&region, &none]).render(m110::compare::Format::Text);
    assert!(
        table.contains("2 / 2") && table.contains("0 / 0"),
        "{table}"
    );
    assert!(
        !m110::compare::compare([&none])
            .render(m110::compare::Format::Text)
            .contains("Cameras")
    );
}
