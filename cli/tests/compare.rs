//! `compare`: golden output of every format for the county and district fixtures; drafts
//! (profiles with `FILL_IN`), suspicious values, the CSV byte-order mark and the text width
//! through the real binary.

mod common;

use std::path::Path;

use common::fixture;
use m110::compare::{self, Format};

fn comparison() -> compare::Comparison {
    let (a, b) = (fixture::region(), fixture::district());
    compare::compare([&a, &b])
}

#[test]
fn every_format_matches_its_golden() {
    let dir = common::golden_dir("compare");
    for (format, file) in [
        (Format::Text, "compare.txt"),
        (Format::Md, "compare.md"),
        (Format::Json, "compare.json"),
        (Format::Csv, "compare.csv"),
    ] {
        common::check_golden(
            &dir,
            Path::new(file),
            comparison().render(format).as_bytes(),
        );
    }
}

#[test]
fn json_has_one_object_per_region_in_order() {
    let v: serde_json::Value = serde_json::from_str(&comparison().render(Format::Json)).unwrap();
    let regions = v["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 2);
    assert_eq!(regions[0]["code"], "350781");
    assert_eq!(regions[1]["archetype"], "city_district");
    assert_eq!(regions[0]["readiness"].as_array().unwrap().len(), 5);
    assert_eq!(regions[1]["readiness_score"], 2);
}

#[test]
fn csv_rows_have_a_cell_per_region() {
    let out = comparison().render(Format::Csv);
    let out = out.strip_prefix('\u{feff}').expect("CSV starts with a BOM");
    let mut r = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["key", "metric", "350781", "350102"]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert!(rows.iter().all(|row| row.len() == 4));
    let one = rows.iter().find(|row| &row[0] == "one_number").unwrap();
    assert!(one[2].starts_with('✓') && one[3].starts_with('✗'));
}

/// Display width, independent of the renderer's: CJK ideographs, kana, hangul and full-width
/// forms take two columns, everything else one.
fn cols(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

#[test]
fn text_columns_align() {
    let out = comparison().render(Format::Text);
    let first = out.lines().next().unwrap();
    assert!(first.starts_with("区域 Region"));
    let offset = cols(&first[..first.find("邵武市").unwrap()]);
    // Every line is the label column, two spaces, then the first region's cell (or nothing
    // when only a later cell wraps onto it).
    for line in out.lines() {
        assert!(cols(line) <= 120, "{} columns: {line}", cols(line));
        let mut col = 0;
        let mut at = line.len();
        for (i, c) in line.char_indices() {
            if col >= offset {
                at = i;
                break;
            }
            col += cols(&c.to_string());
        }
        if at == line.len() {
            continue; // a label that wrapped, or the blank line between pages
        }
        assert_eq!(col, offset, "a cell straddles the column start: {line}");
        assert!(line[..at].ends_with("  "), "misaligned: {line}");
    }
}

#[test]
fn cli_compare_every_format() {
    let profile = common::small_profile();
    for format in ["text", "md", "json", "csv"] {
        let out = common::m110(args!["compare", profile, profile, "--format", format]);
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.matches("350781").count() >= 2, "{format}: {text}");
    }
    let out = common::m110(args!["compare", profile, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["regions"][0]["readiness_score"], 4);
    assert_eq!(v["regions"][0]["routing_gaps"], 1);
}

#[test]
fn cli_compare_with_an_invalid_profile_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let broken = common::broken_profile(tmp.path());
    let good = common::small_profile();
    let out = common::m110(args!["compare", good, broken]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.yaml:"));
}

/// Shaowu's example profile declares 3 staff; a 24/7 roster needs far more: 专门中心 fails and
/// says both numbers.
#[test]
fn cli_compare_shaowu_staff_below_the_roster_fte() {
    let shaowu = Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles/shaowu.yaml");
    let out = common::m110(args!["compare", shaowu, "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let col = &v["regions"][0];
    let fte = col["roster_fte"].as_f64().unwrap();
    assert_eq!(col["declared_staff"], 3);
    assert!(fte > 3.0, "{fte}");
    let check = col["readiness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["factor"] == "staffed_center")
        .unwrap();
    assert_eq!(check["ok"], false);
    let reason = check["reason"].as_str().unwrap();
    assert!(reason.contains("3 staff"), "{reason}");
    assert!(reason.contains(&format!("{fte:.2} FTE")), "{reason}");
}

/// `m110 init --division CODE` into `dir`: a starter profile full of `FILL_IN`.
fn init(dir: &Path, code: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{code}.yaml"));
    let out = common::m110(args!["init", "--division", code, "-o", path]);
    assert!(
        out.status.success(),
        "init {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn cli_compare_takes_a_draft_and_reports_its_completeness() {
    let tmp = tempfile::tempdir().unwrap();
    let draft = init(tmp.path(), "350781");
    // The same draft is refused by validate: it is unfinished, not broken.
    assert_eq!(
        common::m110(args!["validate", draft]).status.code(),
        Some(1)
    );
    let good = common::small_profile();
    let out = common::m110(args!["compare", good, draft, "--format", "json"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("FILL_IN"),
        "a note per draft on stderr"
    );
    let v = json_of(&out);
    let (done, d) = (&v["regions"][0], &v["regions"][1]);
    assert_eq!(done["completeness"]["blanks"].as_array().unwrap().len(), 0);

    let c = &d["completeness"];
    let (filled, total) = (c["filled"].as_u64().unwrap(), c["total"].as_u64().unwrap());
    assert!(filled < total && total > 20, "{c}");
    let sections: Vec<&str> = c["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["section"].as_str().unwrap())
        .collect();
    assert_eq!(sections, ["region", "units"], "{c}");
    assert_eq!(c["sections"][0]["filled"], 0);
    assert_eq!(c["blanks"][0]["field"], "region.population");
    assert!(c["blanks"][0]["line"].as_u64().unwrap() > 1);

    // Figures that hang on the blank population are absent, not computed from a stand-in.
    assert!(
        d["population"].is_null() && d["expected_yearly_calls"].is_null(),
        "{d}"
    );
    assert!(d["staffing"].is_null());
    let check = |f: &str| {
        d["readiness"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["factor"] == f)
            .unwrap()
            .clone()
    };
    assert_eq!(check("complete")["ok"], false);
    assert_eq!(check("staffed_center")["ok"], false);
    // Everything else is still judged.
    assert_eq!(check("one_number")["ok"], true);
    assert!(d["routing_gaps"].is_number() && d["categories"].as_u64().unwrap() > 10);

    let text = common::m110(args!["compare", good, draft]);
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    let row = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("no {key} row in\n{text}"))
            .to_string()
    };
    assert!(row("人口 Population").contains("待填写"), "{text}");
    assert!(row("完整度 Completeness").contains("100%"), "{text}");
    let units = &c["sections"][1];
    let units = format!("{}/{}", units["filled"], units["total"]);
    assert!(row("  承办单位 units").ends_with(&units), "{units}: {text}");
}

#[test]
fn cli_compare_flags_shared_hotlines_and_density() {
    let tmp = tempfile::tempdir().unwrap();
    let path = init(tmp.path(), "350781");
    // Every hotline the same 12345, and the area typed in hectares rather than km².
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("hotline: FILL_IN", "hotline: \"12345\"")
        .replace("population: FILL_IN", "population: 300000")
        .replace("area_km2: FILL_IN", "area_km2: 28.5");
    std::fs::write(&path, text).unwrap();
    let v = json_of(&common::m110(args!["compare", path, "--format", "json"]));
    let flags = v["regions"][0]["flags"].as_array().unwrap();
    let kinds: Vec<&str> = flags.iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"shared_hotline"), "{kinds:?}");
    assert!(kinds.contains(&"density"), "{kinds:?}");
    let shared = flags
        .iter()
        .find(|f| f["kind"] == "shared_hotline")
        .unwrap();
    assert!(shared["at"].as_array().unwrap().len() > 20, "{shared}");

    let md = common::m110(args!["compare", path, "--format", "md"]);
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("## 可疑值 Suspicious values"), "{md}");
    assert!(md.contains("hotline 12345 on"), "{md}");
    assert!(md.contains("## 待填写 Blanks") && md.contains("`units[1].contacts[0].name`"));
    let count_row = md
        .lines()
        .find(|l| l.starts_with("| 可疑值 Suspicious values |"))
        .unwrap();
    assert_eq!(
        count_row,
        format!("| 可疑值 Suspicious values | {} |", flags.len())
    );

    let xlsx = tmp.path().join("c.xlsx");
    let out = common::m110(args!["compare", path, "--format", "xlsx", "-o", xlsx]);
    assert!(out.status.success());
    use calamine::Reader as _;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let cell = |label: &str| {
        sheet
            .rows()
            .find(|r| r[0] == label)
            .map(|r| r[1].to_string())
            .unwrap_or_else(|| panic!("no {label} row"))
    };
    assert!(cell("可疑值明细 Suspicious values").contains("hotline 12345 on"));
    assert!(cell("待填写明细 Blanks").contains("units[1].contacts[0].phone (line"));
}

#[test]
fn cli_compare_csv_starts_with_a_bom() {
    let tmp = tempfile::tempdir().unwrap();
    let draft = init(tmp.path(), "350781");
    let out = common::m110(args![
        "compare",
        common::small_profile(),
        draft,
        "--format",
        "csv"
    ]);
    assert!(out.status.success());
    assert_eq!(&out.stdout[..3], b"\xEF\xBB\xBF");
    let file = tmp.path().join("c.csv");
    let out = common::m110(args!["compare", draft, "--format", "csv", "-o", file]);
    assert!(out.status.success());
    assert!(std::fs::read(&file).unwrap().starts_with(b"\xEF\xBB\xBF"));
}

#[test]
fn cli_compare_text_of_five_regions_fits_120_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let profiles = Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles");
    let mut all = vec![
        profiles.join("shaowu.yaml"),
        profiles.join("gulou.yaml"),
        profiles.join("xiamen.yaml"),
    ];
    // Two Henan counties, straight from init (drafts).
    all.push(init(tmp.path(), "410225"));
    all.push(init(tmp.path(), "410221"));
    let mut args: Vec<&std::ffi::OsStr> = vec!["compare".as_ref()];
    args.extend(all.iter().map(|p| p.as_os_str()));
    let out = common::m110(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for line in text.lines() {
        assert!(cols(line) <= 120, "{} columns: {line}", cols(line));
    }
    for name in ["邵武市", "鼓楼区", "厦门市", "兰考县", "杞县"] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    // Every region's readiness is there in full, wrapped rather than cut.
    assert_eq!(
        text.matches("准备度 Readiness").count(),
        text.matches("区域 Region").count()
    );
    let v = json_of(&common::m110(
        &[args.clone(), vec!["--format".as_ref(), "json".as_ref()]].concat(),
    ));
    assert_eq!(v["regions"].as_array().unwrap().len(), 5);
}

/// `compare` counts the routing-coverage warnings `validate` prints, and lists them in JSON,
/// each at its profile line.
#[test]
fn cli_compare_counts_coverage_warnings() {
    let shaowu = Path::new(env!("CARGO_MANIFEST_DIR")).join("../profiles/shaowu.yaml");
    let validate = common::m110(args!["validate", &shaowu]);
    assert!(validate.status.success());
    let printed: Vec<String> = String::from_utf8(validate.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.contains(": warning 警告: "))
        .map(str::to_string)
        .collect();
    assert!(!printed.is_empty());
    let out = common::m110(args!["compare", &shaowu, "--format", "json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed: Vec<String> = v["regions"][0]["coverage_warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, printed);
    assert!(
        listed.iter().any(|w| w.contains("`community-services`")),
        "{listed:?}"
    );
    let text = common::m110(args!["compare", &shaowu]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("覆盖警告 Coverage warnings")
                && l.contains(&printed.len().to_string())),
        "{text}"
    );
}
